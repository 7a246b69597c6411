/*
 * short: short connections, one request line in, one answer out.
 */
#ifndef ARCADE_SHORT_H
#define ARCADE_SHORT_H

#include <stddef.h>

struct conn;
struct db;

/* A connection whose first byte opened a short connection: request lines, answered from db. An
 * unterminated last line is answered when nothing more is waiting and it is a complete request
 * (the classic client that sends `a2` and waits), or at the client's half-close. */
void short_attach(struct conn *c, struct db *db, double idle);

/* The longest answer of any request, terminator included: a full leaderboard. */
#define SHORT_REPLY_MAX ((100 + 1) * 160 + 8)

/* Write the answer to one request that needs no database (no terminator) into out, which has room
 * for SHORT_REPLY_MAX bytes; returns its length. A leaderboard request (t, r) is answered only on a
 * connection (short_attach): here it is "etcp only". */
size_t short_reply(const char *line, size_t len, char *out);

#endif
