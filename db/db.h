/* db: the database as the server sees it, whichever engine keeps it.
 *
 *   SQLite (store.h): a file on this machine, written by this process alone. Every request is
 *   answered before its call returns.
 *   PostgreSQL (pg.h): a server over the network, which several processes may share. A request
 *   is sent on the loop and answered by a later callback; the loop serves everyone else meanwhile.
 *
 * db_open picks the engine by the address: "postgresql://..." or "postgres://..." (a libpq URI) is
 * PostgreSQL, anything else a SQLite file name or "file:" URI.
 *
 * A request is a struct db_req that the caller owns and keeps until it is answered or cancelled.
 * Each call returns DB_DONE when the answer is in the request already (done is not called), or
 * DB_PENDING when done(req) will be called later, from the loop, never from inside a db_* call.
 * db_cancel forgets a pending request: done is never called and the request is the caller's again
 * at once. The answer's result is what the matching store_* call (store.h) returns: a count, an
 * id, 1/0 for found or not, or -1 with err and fault filled in.
 */
#ifndef ARCADE_DB_H
#define ARCADE_DB_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "store.h"

#define DB_ERR_MAX 256

enum db_state {
    DB_DONE,        /* answered: the result is in the request */
    DB_PENDING,     /* done(req) comes later */
};

/* Why a request failed. */
enum db_fault {
    DB_FAULT_NONE,
    DB_FAULT_LOCKED,    /* another process holds the lock (SQLite): the same request may work later */
    DB_FAULT_FULL,      /* no room on the database's disk, or a failed write */
    DB_FAULT_DOWN,      /* the database cannot be reached (PostgreSQL): not connected, or lost */
    DB_FAULT_OTHER,
};

struct db_req {
    void (*done)(struct db_req *r);     /* the caller's, for a pending answer */
    void *data;                         /* the caller's */

    /* The answer. */
    int64_t result;                     /* as the store_* call returns it; -1: failed */
    enum db_fault fault;
    char err[DB_ERR_MAX];               /* why it failed (never holds a password) */
    struct store_account acct;          /* db_account_find, db_account_create */
    struct board_row *rows;             /* db_top, db_rank, db_row: the caller's room */
    int self;                           /* db_rank: the player's index in rows */
    int64_t id;                         /* db_row: the player's id */
    struct store_rating *points;        /* db_history: the caller's room */

    void *flight;                       /* the engine's, while pending */
};

/* One player's bot rounds of a batch, added up. player 0: a guest (the engine keeps one row for
 * all of this process's guests). */
struct db_totals {
    int64_t player;
    int wins, losses, draws;
};

/* One player-vs-player round of a batch (as store_pvp_round). */
struct db_round {
    int64_t a, b;
    int move_a, move_b;     /* 1 scissors, 2 rock, 3 paper, 0 none */
    char outcome;           /* from a's side: 'W', 'L' or 'D' */
    int timeout;            /* decided by forfeit */
};

struct db;

/* Is where a database that several processes may share (PostgreSQL)? A SQLite file is this
 * process's alone: the server locks it. */
int db_shared(const char *where);
/* where, fit for a log (a PostgreSQL URI without its password), into out; returns out. */
const char *db_describe(const char *where, char *out, size_t outlen);

/* Open the database at where (see the top), bring its schema up to date, and serve requests on
 * loop. sync_full: SQLite's synchronous FULL (PostgreSQL keeps its own setting). Returns NULL with
 * the reason in err. */
struct db *db_open(const char *where, int sync_full, struct ev_loop *loop, char *err, size_t errlen);
/* Close it: pending requests are answered as failed first. NULL is allowed. */
void db_close(struct db *d);
/* Where it is, fit for a log (db_describe). */
const char *db_where(const struct db *d);
/* The SQLite store when that is the engine, else NULL: for its upkeep (the fold, the sweep, the
 * checkpointer) and its metrics. */
struct store *db_sqlite(struct db *d);
/* The loop it serves on. */
struct ev_loop *db_loop(const struct db *d);

/* Is the database within reach now, as far as is known without asking it? SQLite: always;
 * PostgreSQL: while connected. Answered at once, for gauges that must not wait. */
int db_connected(struct db *d);

/* Forget a pending request (no-op when it is not pending). */
void db_cancel(struct db *d, struct db_req *r);

/* Store one group commit: bot totals t[0..nt) and rounds r[0..nr), in one transaction. The engine
 * copies what it needs before the call returns. result 0: stored and acknowledged as durable by
 * the engine; -1: none of it is stored (fault says why; DB_FAULT_LOCKED: try again later). Only one
 * commit may be pending at a time. */
int db_commit(struct db *d, struct db_req *r, const struct db_totals *t, size_t nt, const struct db_round *rs,
              size_t nr);
/* May a commit be sent now? 0 while the SQLite checkpointer finishes a pass (store_paused); the
 * engine wakes the loop when that changes. */
int db_ready(struct db *d);
/* 1 for a while after a full disk failed a commit (SQLite): every commit is checkpointed. */
int db_recovering(const struct db *d);

/* Accounts: as store_account_find, _create, _claim and _set_hash (store.h); acct in the request. */
int db_account_find(struct db *d, struct db_req *r, const char *name);
int db_account_create(struct db *d, struct db_req *r, const char *name, const unsigned char *hash);
int db_account_claim(struct db *d, struct db_req *r, int64_t id, const unsigned char *hash);
int db_account_set_hash(struct db *d, struct db_req *r, int64_t id, const unsigned char *hash);

/* The leaderboard: as store_top, store_rank, store_row and store_history, into the caller's room
 * (r->rows, r->points), which must stay until the answer. db_row's row is r->rows[0]. */
int db_top(struct db *d, struct db_req *r, int n);
int db_rank(struct db *d, struct db_req *r, const char *name, int k);
int db_row(struct db *d, struct db_req *r, const char *name);
int db_history(struct db *d, struct db_req *r, int64_t player, int n);
/* A number that moves each time the top may have changed. */
uint64_t db_board_version(struct db *d);

/* Could a commit be stored now? As store_writable (SQLite), or a round trip to PostgreSQL that
 * checks it is connected and takes writes. result 0, or -1 with the reason. */
int db_writable(struct db *d, struct db_req *r);

#endif
