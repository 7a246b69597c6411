/*
 * buf: a growable byte buffer with a hard cap, used for replies.
 */
#ifndef ARCADE_BUF_H
#define ARCADE_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
    char *data;
    uint32_t len;   /* bytes in use */
    uint32_t cap;   /* bytes allocated */
};

/* Make room for n more bytes, never growing past limit; returns a pointer to the
 * free space, or NULL when that would pass the limit or memory ran out. */
char *buf_reserve(struct buf *b, size_t n, size_t limit);
/* Append n bytes; 0 or -1 as buf_reserve. */
int buf_append(struct buf *b, const void *p, size_t n, size_t limit);
/* Drop the first n bytes. */
void buf_consume(struct buf *b, size_t n);
void buf_free(struct buf *b);

#endif
