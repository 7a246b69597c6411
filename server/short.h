/*
 * short: short connections, one request line in, one answer out.
 */
#ifndef ARCADE_SHORT_H
#define ARCADE_SHORT_H

#include <stddef.h>

struct conn;
struct server;

/* Answer the complete lines in buf[0, len); returns the bytes consumed. An
 * unterminated tail is answered when !more (nothing else is waiting) and it is
 * a complete request, or when eof. */
size_t short_input(struct conn *c, const char *buf, size_t len, int more, int eof);

/* The longest answer of any request, terminator included: a full leaderboard. */
#define SHORT_REPLY_MAX ((100 + 1) * 160 + 8)

/* Write the answer to one request (no terminator) into out, which has room for
 * SHORT_REPLY_MAX bytes; returns its length. */
size_t short_reply(struct server *srv, const char *line, size_t len, char *out);

#endif
