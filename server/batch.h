/*
 * batch: the group commit. Results produced during one loop iteration are
 * collected here, stored in one transaction by the flush, and only then are
 * their bytes released for writing. When the transaction fails, each held
 * result is replaced by an error frame, so no client ever sees a result that
 * was not stored.
 */
#ifndef ARCADE_BATCH_H
#define ARCADE_BATCH_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct conn;

/* Bytes of a connection's output that carry a result. */
struct batch_span {
    struct conn *c;
    uint32_t off;
    uint32_t len;
};

/* One player-vs-player round to store. */
struct batch_round {
    int64_t player[2];
    int move[2];        /* 0: did not move */
    char outcome;       /* from player 0's side: 'W', 'L' or 'D' */
    int timeout;        /* decided by forfeit */
    unsigned *stored;   /* counted once the round is stored (may be NULL) */
    unsigned *pending;  /* rounds of its owner still in a batch: less one once resolved (may be NULL) */
};

/* A player as the group commit sees it: kept by its owner (a session), which must outlive the
 * commit. */
struct batch_player {
    int64_t id;         /* store id; 0: a guest (all guests' rounds go to one row) */
    int slot;           /* its bot totals in the batch, or -1 */
};

/* Bot rounds of one player, added up. */
struct batch_totals {
    struct batch_player *p;
    int64_t player;     /* 0: a guest */
    int wins, losses, draws;
};

/* Results of some iterations, to be stored in one transaction. */
struct batch_part {
    struct batch_span *spans;
    size_t nspans, spans_cap;
    struct batch_round *rounds;
    size_t nrounds, rounds_cap;
    struct batch_totals *totals;
    size_t ntotals, totals_cap;
};

struct batch {
    struct batch_part parts[2];
    struct batch_part *open;    /* collects results (one of parts) */
    struct batch_part *flight;  /* sent to the database, its answer awaited (the other); NULL: none */
    struct db *db;              /* the flight's */
    ev_tstamp now;              /* the flight's `now` (batch_commit) */
    struct db_req req;          /* the flight's commit */
    struct db_totals *dt;       /* the flight's totals and rounds as the database takes them */
    size_t dt_cap;
    struct db_round *dr;
    size_t dr_cap;
    double sent_at;             /* when the flight was sent (stats_clock) */
    double wait;                /* the flight's `wait` (batch_commit) */
    int at_once;                /* the flight's answer came before db_commit returned */
    ev_tstamp locked_since;     /* the database has been locked by another process since; 0: not */
    int full_logged;            /* a full disk failed a commit, and the recovery is under way */
    ev_tstamp failed_at;        /* the last commit that failed; 0: one was stored since */
    ev_tstamp failure_logged;   /* when a failed commit was last logged */
    unsigned failures;          /* failed commits since */
};

enum batch_result {
    BATCH_DONE,         /* stored, or refused with errors: the held bytes are released */
    BATCH_WAITING,      /* the database is locked by another process: everything stays held */
    BATCH_SENT,         /* a commit is in flight: its answer releases the bytes it holds (later
                         * results wait for the next commit) and wakes the loop */
};

/* Hold [off, off+len) of c's output, a result, until it is stored. Returns 0 or -1 (no memory:
 * c is then closed). */
int batch_hold(struct batch *b, struct conn *c, uint32_t off, uint32_t len);
/* Count one bot round (result RPS_WIN/LOSS/DRAW) for p. Returns 0 or -1 (no memory). */
int batch_bot(struct batch *b, struct batch_player *p, int result);
/* Store one player-vs-player round. Returns 0 or -1 (no memory). */
int batch_round(struct batch *b, const struct batch_round *r);
/* Is anything waiting for a commit to be sent? */
int batch_pending(const struct batch *b);
/* Is a commit in flight? */
int batch_in_flight(const struct batch *b);
/* Store everything collected in one transaction, then release the held bytes: at once when the
 * database answers at once (SQLite), else when its answer comes (BATCH_SENT; one commit is in
 * flight at a time, and what is collected meanwhile goes in the next). When another process holds
 * the database's lock, nothing waits for it: the results stay held for the next try
 * (BATCH_WAITING), until they have waited `wait` seconds; after that, as on any other failure, each
 * held result is replaced by an error frame. A failed flight fails what was collected behind it
 * too: results on the same connection follow each other. */
enum batch_result batch_commit(struct batch *b, struct db *db, ev_tstamp now, double wait);
void batch_free(struct batch *b);

#endif
