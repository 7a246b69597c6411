/* pg: arcade's PostgreSQL engine, the only place that knows PostgreSQL's SQL.
 *
 * One connection through libpq's asynchronous API on the server's libev loop: non-blocking, its
 * socket watched by the loop, in pipeline mode, so that requests follow each other on the wire
 * without waiting for the answers before them. Each request is one pipeline segment (its
 * statements, then a sync): PostgreSQL runs the segment as one implicit transaction, and its answer
 * (the sync's) comes once that transaction is committed. Answers come in the order requests were
 * sent.
 *
 * Requests and their answers are db.h's: every pg_* call returns DB_PENDING and calls r->done
 * later, from the loop, or DB_DONE with the request failed at once (not connected: DB_FAULT_DOWN).
 *
 * A lost connection fails every pending request (DB_FAULT_DOWN) and is made again in the
 * background, with growing pauses (at most PG_RETRY_MAX seconds); meanwhile requests fail at once.
 * A statement that runs past PostgreSQL's statement_timeout (5 s, waits for locks included) fails
 * its request alone (DB_FAULT_OTHER); a request with no answer at all after 10 s counts as a lost
 * connection.
 * Nothing is logged with the connection string's password.
 */
#ifndef ARCADE_PG_H
#define ARCADE_PG_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define PG_RETRY_MAX 2.0        /* seconds between two attempts to connect, at most */
#define PG_PENDING_MAX 4096     /* requests pending at once; more fail at once (DB_FAULT_OTHER) */

struct pg;

/* Is where a PostgreSQL address (postgresql:// or postgres://)? */
int pg_is_uri(const char *where);
/* Copy uri into out (outlen bytes) with any password replaced by "***"; a string that does not
 * parse is replaced whole. Returns out. */
const char *pg_redact(const char *uri, char *out, size_t outlen);

/* Connect (waiting at most a few seconds), bring the schema up to date (migrations, in a
 * transaction, serialized between processes by an advisory lock), then serve on loop. Returns
 * NULL with the reason in err (no password in it). */
struct pg *pg_open(const char *uri, struct ev_loop *loop, char *err, size_t errlen);
/* Answer every pending request as failed (DB_FAULT_DOWN), then close. NULL is allowed. The one
 * call inside which done is called: nothing would answer those requests later. It may be called
 * from a done; the engine is freed once its callback returns. */
void pg_close(struct pg *p);
/* 1 while connected. */
int pg_connected(const struct pg *p);

void pg_cancel(struct pg *p, struct db_req *r);
int pg_commit(struct pg *p, struct db_req *r, const struct db_totals *t, size_t nt, const struct db_round *rs,
              size_t nr);
int pg_account_find(struct pg *p, struct db_req *r, const char *name);
int pg_account_create(struct pg *p, struct db_req *r, const char *name, const unsigned char *hash);
int pg_account_claim(struct pg *p, struct db_req *r, int64_t id, const unsigned char *hash);
int pg_account_set_hash(struct pg *p, struct db_req *r, int64_t id, const unsigned char *hash);
int pg_top(struct pg *p, struct db_req *r, int n);
int pg_rank(struct pg *p, struct db_req *r, const char *name, int k);
int pg_row(struct pg *p, struct db_req *r, const char *name);
int pg_history(struct pg *p, struct db_req *r, int64_t player, int n);
int pg_writable(struct pg *p, struct db_req *r);
/* Moves at each rated commit of this process, and once a second while others may write. */
uint64_t pg_board_version(struct pg *p);

/* The SQL of the statement the engine prepares under name ("arcade_top", "arcade_rank",
 * "arcade_row", "arcade_history", ...), or NULL: for the benchmark's EXPLAIN, on a connection of
 * its own. */
const char *pg_statement(const char *name);

#endif
