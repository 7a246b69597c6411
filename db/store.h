/* The store: arcade's SQLite database, the only place that knows SQL.
 *
 * One connection, owned by the server's loop thread, which is the only writer. Results are stored
 * by group commit: during one loop iteration the game code opens a batch (store_begin), records
 * every result of the iteration (store_add_totals, store_pvp_round), and the flush at the end of
 * the iteration commits the batch (store_commit) before any of those results is written to a
 * socket. When anything inside a batch fails, the caller calls store_rollback and sends no result
 * of that batch; the next batch works as usual.
 *
 * Every function returns 0 (or a count or an id) on success and -1 on error, with a message in the
 * caller's err buffer. Nothing aborts, and once the store is open nothing waits on a lock held by
 * another process: the call fails at once, and store_busy tells that failure from the others, so
 * the caller can try again later instead of stalling everyone it serves.
 */
#ifndef ARCADE_STORE_H
#define ARCADE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "board.h"

#define STORE_NAME_MAX RPS_NAME_MAX  /* longest player name, in bytes */
#define STORE_FORM_MAX BOARD_FORM_MAX  /* rated results kept in a player's form */
#define STORE_TOP_MAX 100  /* most rows store_top returns */
#define STORE_AROUND_MAX 50 /* most players store_rank shows on each side */
#define STORE_OPEN_BUSY_MS 5000 /* longest wait for a lock while opening (and migrating) */
#define STORE_HASH_LEN 32  /* bytes of a secret's hash */
#define STORE_HISTORY_MAX 100 /* most points store_history returns */
#define STORE_ROOM_MIN (1 << 20) /* free bytes on the database's disk below which it counts as full */

struct store;

/* Open or create the database at path (a file name, or a "file:" URI), bring its schema up to
 * date and prepare every statement. WAL journal; synchronous NORMAL, or FULL when sync_full
 * (NORMAL can lose the last commits on a power cut, never on a crash of arcade itself). A database
 * written by a newer arcade is refused. Every rated player is read into memory, and the rounds a
 * crash left out of the players' rows are replayed into it (see store_sweep). Returns NULL with
 * the reason in err. */
struct store *store_open(const char *path, int sync_full, char *err, size_t errlen);
/* Close the database, after writing every rated player's row back; an open batch is rolled back.
 * NULL is allowed. */
void store_close(struct store *st);

/* Did the last failure come from a lock held by another process (SQLITE_BUSY or SQLITE_LOCKED)? */
int store_busy(const struct store *st);

/* Did the last failure come from a full disk or a failed write (SQLITE_FULL or SQLITE_IOERR)? */
int store_full(const struct store *st);
/* Copy the WAL into the database (outside a batch), so that the next commits reuse it from its
 * start. PASSIVE (truncate 0) copies what it can without waiting for anyone; the server does it once
 * a second, so the WAL holds about a second of commits and never grows to fill a disk. TRUNCATE also
 * gives the WAL file's space back: after a full disk failed a commit. Returns 0 or -1. */
int store_checkpoint(struct store *st, int truncate, char *err, size_t errlen);

/* The sweep: rated rounds change players in memory (the roster) and append to rounds; their rows
 * in players are written back here, outside batches, a few at a time. Each call is one
 * transaction: from where the last one stopped, it writes at most max_writes changed players,
 * visits at most STORE_SWEEP_VISITS, and stops writing once STORE_SWEEP_BUDGET seconds have
 * passed. Returns how many it wrote, or -1 (nothing written; the next call tries again).
 * Leaderboard reads never wait for it: they read the roster. */
#define STORE_SWEEP_VISITS 4096
#define STORE_SWEEP_WRITES 128 /* the server's max_writes */
#define STORE_SWEEP_BUDGET 0.001 /* seconds of writing a call does at most (then one row more) */
int store_sweep(struct store *st, size_t max_writes, char *err, size_t errlen);
/* Sweep until every player's row is written and the snapshot holds every committed round. */
int store_sweep_all(struct store *st, char *err, size_t errlen);
/* The round up to which every rated round is in its players' rows (for tests and metrics). */
int64_t store_snapshot(const struct store *st);

/* Checkpoints off the loop: start a thread of the store's own (checkpointer.h) that copies the WAL
 * into the database every few milliseconds, and turn SQLite's checkpoints inside commits off. When
 * a write leaves more than STORE_WAL_FINISH frames in the WAL, the store asks the thread for a last
 * pass: until it is done, store_paused says 1 and the caller holds its commits (results wait; the
 * thread then calls done(arg), from its own thread), so that the next commit starts the WAL over.
 * Returns 0, or -1 (the store works on, checkpointing inside commits). */
#define STORE_WAL_FINISH 4096 /* frames (of a page each): 16 MiB of WAL */
struct checkpointer_counts;
int store_background(struct store *st, void (*done)(void *arg), void *arg, char *err, size_t errlen);
int store_paused(struct store *st);
/* What the checkpointer has done (zeros without one), its last failure into err. */
void store_background_counts(struct store *st, struct checkpointer_counts *n, char *err, size_t errlen);

/* Could a batch be written now, as far as can be told without writing anything? The database is
 * not read-only, the write lock is taken and let go at once (BEGIN IMMEDIATE, ROLLBACK), and the
 * database's file system has STORE_ROOM_MIN bytes free. For health checks; outside a batch (inside
 * one, the answer is yes). Returns 0, or -1 with the reason (store_busy: locked by another
 * process; store_full: no room). */
int store_writable(struct store *st, char *err, size_t errlen);

/* Open a batch (a write transaction). Fails if one is already open or the database is locked. */
int store_begin(struct store *st, char *err, size_t errlen);
/* Commit the batch. On failure the batch has been rolled back: none of it is stored. */
int store_commit(struct store *st, char *err, size_t errlen);
/* Drop the batch, if one is open. */
void store_rollback(struct store *st);

/* Find or create the player with this name (1 to STORE_NAME_MAX bytes): a player whose name is
 * the same regardless of ASCII case is found, a new one is stored exactly as given. Returns its
 * id (> 0) or -1. Callable in or outside a batch; a player created inside a batch that is rolled
 * back is gone with it, so the server should name players outside batches. It never looks at a
 * secret: the server asks store_account_find before it lets a hello through. */
int64_t store_player(struct store *st, const char *name, char *err, size_t errlen);
/* Add the tally log into the players' totals and empty it, in one transaction of its own
 * (outside a batch). store_open, store_close and every leaderboard read call it. Returns 0, or -1
 * when the database is busy or failing: the log is kept for the next fold. */
int store_fold(struct store *st, char *err, size_t errlen);
/* The same a step at a time, as the server does every 50 ms: one transaction that
 * takes the log's oldest rows until they hold max_players players (a row is taken whole), so no
 * step keeps the loop long. Returns 0 or -1 as store_fold. */
int store_fold_step(struct store *st, size_t max_players, char *err, size_t errlen);

/* Create a guest (a player without a name, never on the leaderboard); returns its id or -1.
 * Same batch rule as store_player. */
int64_t store_guest(struct store *st, char *err, size_t errlen);

/* Accounts. A name is unique regardless of ASCII case and shown as first stored. A named player is
 * either unclaimed (no secret: anyone may play as it) or registered: the store keeps the hash of
 * its secret, never the secret. The account functions run outside a batch, and what they write is
 * committed when they return, so a secret is stored before the server hands it out. Guests have
 * no account. */

/* What a hello needs to know about a name. */
struct store_account {
    int64_t id;                         /* the player's id, > 0 */
    char name[STORE_NAME_MAX + 1];      /* as stored: its first spelling */
    int registered;                     /* 1: it has a secret hash */
    unsigned char hash[STORE_HASH_LEN]; /* the hash, when registered (zeros when not) */
};

/* Find the player named name, regardless of ASCII case. Returns 1 (acct filled), 0 when there is
 * none, or -1. Outside a batch. */
int store_account_find(struct store *st, const char *name, struct store_account *acct, char *err,
                       size_t errlen);
/* Create a player named name, registered with hash, or unclaimed when hash is NULL. Returns 1
 * (acct filled), 0 when a player of that name (any case) exists already, or -1. Outside a batch;
 * committed when it returns. */
int store_account_create(struct store *st, const char *name, const unsigned char *hash,
                         struct store_account *acct, char *err, size_t errlen);
/* Claim an unclaimed player: set its hash (not NULL) only if it has none. Returns 1 claimed, 0 it
 * had a hash already (nothing changed), or -1 (no such named player, among others). Outside a
 * batch; committed when it returns. */
int store_account_claim(struct store *st, int64_t id, const unsigned char *hash, char *err,
                        size_t errlen);
/* Replace a player's hash (a new secret), or clear it when hash is NULL (the name becomes
 * unclaimed, with its history). Returns 0, or -1 (no such named player, among others). Outside a
 * batch; committed when it returns. */
int store_account_set_hash(struct store *st, int64_t id, const unsigned char *hash, char *err,
                           size_t errlen);

/* Add rounds against the bot to a player's or guest's totals (rounds grows by the sum).
 * Inside a batch only. The commit appends them to the tally log; they reach the players table
 * at the next store_fold, and every leaderboard read folds first. */
int store_add_totals(struct store *st, int64_t player, int wins, int losses, int draws, char *err,
                     size_t errlen);

/* Store one player-vs-player round between two different players: one row of rounds holding the
 * moves, the outcome and both new Elo ratings (games/elo.h). Totals, ratings, rated-round counts,
 * form and the leaderboard's order change in memory at once (a rollback undoes them) and reach the
 * players table through store_sweep; every read of the store sees them at once. outcome is from
 * a's side: 'W', 'L' or 'D'; a move is 1 scissors, 2 rock, 3 paper, 0 none; timeout is 1 for a
 * round decided by forfeit. The new ratings go to rating_a and rating_b when they are not NULL.
 * Inside a batch only. */
int store_pvp_round(struct store *st, int64_t a, int64_t b, int move_a, int move_b, char outcome,
                    int timeout, double *rating_a, double *rating_b, char *err, size_t errlen);

/* The leaderboard: named players with at least one rated round, by rating, ties to whoever reached
 * the rating first, then to the older player. Its order is kept in memory (ladder.h), read from
 * the players table at open: rows changed behind the store's back are not seen until then. */

/* The top n (1 to STORE_TOP_MAX) into rows; returns how many there are (<= n) or -1. */
int store_top(struct store *st, int n, struct board_row *rows, char *err, size_t errlen);
/* A number that moves each time the top may have changed (a rated commit, a fold). */
uint64_t store_board_version(const struct store *st);
/* The named player (regardless of ASCII case) with up to k (0 to STORE_AROUND_MAX) players on
 * each side, in rank order, into rows (room for 2k + 1); *self gets the player's index in rows.
 * Returns the row count, 0 when no such player is on the leaderboard (unknown, or no rated round
 * yet), or -1. */
int store_rank(struct store *st, const char *name, int k, struct board_row *rows, int *self,
               char *err, size_t errlen);

/* A named player (regardless of ASCII case), on the leaderboard or not, into row: its rank there,
 * or 0 when it has no rated round yet. *id gets its store id, for store_history. Returns 1, 0 when
 * no player has that name, or -1. */
int store_row(struct store *st, const char *name, struct board_row *row, int64_t *id, char *err,
              size_t errlen);

/* One point of a player's rating history: the rating after a rated round. */
struct store_rating {
    int64_t at;         /* when the round was stored, in Unix seconds */
    double rating;      /* unrounded Elo rating after it */
};

/* The player's ratings after its last n (0 to STORE_HISTORY_MAX) rated rounds, oldest first, into
 * points (room for n). Returns how many there are (<= n), or -1. */
int store_history(struct store *st, int64_t player, int n, struct store_rating *points, char *err,
                  size_t errlen);

/* The query plans (EXPLAIN QUERY PLAN) of the name lookup, the leaderboard and the rating
 * history statements, as text lines into out (NUL-terminated, truncated to outlen). For tests and
 * the benchmark. Returns 0 or -1. */
int store_plan(struct store *st, char *out, size_t outlen, char *err, size_t errlen);

#endif
