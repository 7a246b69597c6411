/*
 * buf: replies accumulate here between the loop iteration that produced them
 * and the write that sends them.
 */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

#define BUF_MIN 64

char *buf_reserve(struct buf *b, size_t n, size_t limit)
{
    size_t need = (size_t)b->len + n;

    if (need <= b->cap) {
        return b->data + b->len;
    }
    if (need > limit) {
        return NULL;
    }
    size_t cap = b->cap ? b->cap : BUF_MIN;
    while (cap < need) {
        cap *= 2;
    }
    if (cap > limit) {
        cap = limit;
    }
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        return NULL;
    }
    b->data = p;
    b->cap = (uint32_t)cap;
    return b->data + b->len;
}

int buf_append(struct buf *b, const void *p, size_t n, size_t limit)
{
    char *dst = buf_reserve(b, n, limit);
    if (dst == NULL) {
        return -1;
    }
    memcpy(dst, p, n);
    b->len += (uint32_t)n;
    return 0;
}

void buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= (uint32_t)n;
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
