/*
 * db: one interface, two engines. Requests to PostgreSQL go to pg and are answered later; requests
 * to SQLite are the store's calls, answered before the call returns. What only one engine does
 * lives with it: the guests' row and the recovery from a full disk below belong to SQLite's
 * commits (PostgreSQL keeps its own guests' row and its own disk).
 */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

#define DB_RECOVERY 10.0    /* seconds of checkpoints at every commit after a full disk */
#define DB_WHERE_MAX 512

struct db {
    struct store *st;           /* SQLite, or NULL */
    struct pg *pg;              /* PostgreSQL, or NULL */
    struct ev_loop *loop;
    int64_t guests;             /* SQLite: the row of this process's guests' rounds; 0: not made yet */
    ev_tstamp full_at;          /* SQLite: a full disk last failed a commit; 0: long enough ago */
    char where[DB_WHERE_MAX];   /* for logs */
};

int db_shared(const char *where)
{
    return pg_is_uri(where);
}

const char *db_describe(const char *where, char *out, size_t outlen)
{
    if (pg_is_uri(where)) {
        return pg_redact(where, out, outlen);
    }
    snprintf(out, outlen, "%s", where);
    return out;
}

struct db *db_open(const char *where, int sync_full, struct ev_loop *loop, char *err, size_t errlen)
{
    struct db *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->loop = loop;
    db_describe(where, d->where, sizeof(d->where));
    if (pg_is_uri(where)) {
        d->pg = pg_open(where, loop, err, errlen);
    } else {
        d->st = store_open(where, sync_full, err, errlen);
    }
    if (d->st == NULL && d->pg == NULL) {
        free(d);
        return NULL;
    }
    return d;
}

void db_close(struct db *d)
{
    if (d == NULL) {
        return;
    }
    pg_close(d->pg);
    store_close(d->st);
    free(d);
}

const char *db_where(const struct db *d)
{
    return d->where;
}

struct store *db_sqlite(struct db *d)
{
    return d->st;
}

struct ev_loop *db_loop(const struct db *d)
{
    return d->loop;
}

int db_connected(struct db *d)
{
    return d->pg == NULL || pg_connected(d->pg);
}

void db_cancel(struct db *d, struct db_req *r)
{
    if (d->pg != NULL && r->flight != NULL) {
        pg_cancel(d->pg, r);
    }
}

/* A SQLite answer: the store call's result, and on failure why. */
static int answered(struct db *d, struct db_req *r, int64_t result)
{
    r->result = result;
    r->fault = result >= 0 ? DB_FAULT_NONE
               : store_busy(d->st) ? DB_FAULT_LOCKED
               : store_full(d->st) ? DB_FAULT_FULL
                                   : DB_FAULT_OTHER;
    if (result >= 0) {
        r->err[0] = '\0';
    }
    return DB_DONE;
}

/* SQLite: the batch in one transaction; -1 with err filled (the caller rolls back). */
static int write_all(struct db *d, const struct db_totals *t, size_t nt, const struct db_round *rs, size_t nr,
                     int *guests_new, char *err, size_t errlen)
{
    if (store_begin(d->st, err, errlen) < 0) {
        return -1;
    }
    for (size_t i = 0; i < nt; i++) {
        /* Guests are never ranked: their rounds go to one row of this process's, made by the first
         * commit that needs it, so guests cannot grow the database. */
        if (t[i].player == 0 && d->guests == 0) {
            if ((d->guests = store_guest(d->st, err, errlen)) < 0) {
                d->guests = 0;
                return -1;
            }
            *guests_new = 1;
        }
        if (store_add_totals(d->st, t[i].player != 0 ? t[i].player : d->guests, t[i].wins, t[i].losses, t[i].draws,
                             err, errlen) < 0) {
            return -1;
        }
    }
    for (size_t i = 0; i < nr; i++) {
        const struct db_round *x = &rs[i];
        if (store_pvp_round(d->st, x->a, x->b, x->move_a, x->move_b, x->outcome, x->timeout, NULL, NULL, err,
                            errlen) < 0) {
            return -1;
        }
    }
    return store_commit(d->st, err, errlen);
}

/* write_all, rolled back when it fails (the guests' row it made is gone with it). */
static int write_batch(struct db *d, const struct db_totals *t, size_t nt, const struct db_round *rs, size_t nr,
                       struct db_req *r)
{
    int guests_new = 0;
    if (write_all(d, t, nt, rs, nr, &guests_new, r->err, sizeof(r->err)) == 0) {
        return 0;
    }
    answered(d, r, -1);
    store_rollback(d->st);
    if (guests_new) {
        d->guests = 0;
    }
    return -1;
}

/* For a while after a full disk failed a commit, every commit is checkpointed at once, so that the
 * WAL cannot grow back over the space that came back: a WAL that fills the disk can no longer be
 * checkpointed (the database file needs room for its pages), and would fail every commit after. */
static void recovering(struct db *d)
{
    char err[DB_ERR_MAX];
    if (d->full_at != 0 && store_checkpoint(d->st, 0, err, sizeof(err)) == 0 &&
        ev_now(d->loop) - d->full_at >= DB_RECOVERY) {
        d->full_at = 0;
    }
}

static int sqlite_commit(struct db *d, struct db_req *r, const struct db_totals *t, size_t nt,
                         const struct db_round *rs, size_t nr)
{
    int ok = write_batch(d, t, nt, rs, nr, r) == 0;
    if (!ok && r->fault == DB_FAULT_FULL) {
        /* The disk may have room again, or the WAL may only need its space back: checkpoint, and
         * try once more. */
        d->full_at = ev_now(d->loop);
        if (store_checkpoint(d->st, 1, r->err, sizeof(r->err)) == 0) {
            ok = write_batch(d, t, nt, rs, nr, r) == 0;
        }
    }
    if (!ok) {
        return DB_DONE;     /* r says why */
    }
    recovering(d);
    return answered(d, r, 0);
}

int db_commit(struct db *d, struct db_req *r, const struct db_totals *t, size_t nt, const struct db_round *rs,
              size_t nr)
{
    if (d->pg != NULL) {
        return pg_commit(d->pg, r, t, nt, rs, nr);
    }
    return sqlite_commit(d, r, t, nt, rs, nr);
}

int db_ready(struct db *d)
{
    return d->st == NULL || !store_paused(d->st);
}

int db_recovering(const struct db *d)
{
    return d->full_at != 0;
}

int db_account_find(struct db *d, struct db_req *r, const char *name)
{
    if (d->pg != NULL) {
        return pg_account_find(d->pg, r, name);
    }
    return answered(d, r, store_account_find(d->st, name, &r->acct, r->err, sizeof(r->err)));
}

int db_account_create(struct db *d, struct db_req *r, const char *name, const unsigned char *hash)
{
    if (d->pg != NULL) {
        return pg_account_create(d->pg, r, name, hash);
    }
    return answered(d, r, store_account_create(d->st, name, hash, &r->acct, r->err, sizeof(r->err)));
}

int db_account_claim(struct db *d, struct db_req *r, int64_t id, const unsigned char *hash)
{
    if (d->pg != NULL) {
        return pg_account_claim(d->pg, r, id, hash);
    }
    return answered(d, r, store_account_claim(d->st, id, hash, r->err, sizeof(r->err)));
}

int db_account_set_hash(struct db *d, struct db_req *r, int64_t id, const unsigned char *hash)
{
    if (d->pg != NULL) {
        return pg_account_set_hash(d->pg, r, id, hash);
    }
    return answered(d, r, store_account_set_hash(d->st, id, hash, r->err, sizeof(r->err)));
}

int db_top(struct db *d, struct db_req *r, int n)
{
    if (d->pg != NULL) {
        return pg_top(d->pg, r, n);
    }
    return answered(d, r, store_top(d->st, n, r->rows, r->err, sizeof(r->err)));
}

int db_rank(struct db *d, struct db_req *r, const char *name, int k)
{
    if (d->pg != NULL) {
        return pg_rank(d->pg, r, name, k);
    }
    return answered(d, r, store_rank(d->st, name, k, r->rows, &r->self, r->err, sizeof(r->err)));
}

int db_row(struct db *d, struct db_req *r, const char *name)
{
    if (d->pg != NULL) {
        return pg_row(d->pg, r, name);
    }
    return answered(d, r, store_row(d->st, name, &r->rows[0], &r->id, r->err, sizeof(r->err)));
}

int db_history(struct db *d, struct db_req *r, int64_t player, int n)
{
    if (d->pg != NULL) {
        return pg_history(d->pg, r, player, n);
    }
    return answered(d, r, store_history(d->st, player, n, r->points, r->err, sizeof(r->err)));
}

uint64_t db_board_version(struct db *d)
{
    return d->pg != NULL ? pg_board_version(d->pg) : store_board_version(d->st);
}

int db_writable(struct db *d, struct db_req *r)
{
    if (d->pg != NULL) {
        return pg_writable(d->pg, r);
    }
    return answered(d, r, store_writable(d->st, r->err, sizeof(r->err)));
}
