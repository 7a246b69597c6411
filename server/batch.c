/*
 * batch: the group commit, run by the flush once per loop iteration:
 *
 *   callbacks: result bytes appended to conn->out, held from conn->out_held on
 *   flush:     BEGIN; bot totals; player-vs-player rounds; COMMIT
 *              ok     -> held bytes released, written
 *              failed -> ROLLBACK, each held result replaced by "E games unavailable"
 */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "log.h"
#include "rps.h"
#include "stats.h"
#include "store.h"

#define UNAVAILABLE "games unavailable"
#define BATCH_RECOVERY 10.0    /* seconds of checkpoints at every commit after a full disk */

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) {
        return p;
    }
    size_t n = *cap ? *cap * 2 : 64;
    void *q = realloc(p, n * size);
    if (q != NULL) {
        *cap = n;
    }
    return q;
}

int batch_hold(struct batch *b, struct conn *c, uint32_t off, uint32_t len)
{
    struct batch_span *s = grow(b->spans, &b->spans_cap, b->nspans + 1, sizeof(*s));
    if (s == NULL) {
        conn_close(c, "out of memory");
        return -1;
    }
    b->spans = s;
    conn_hold(c, off);
    b->spans[b->nspans++] = (struct batch_span){ .c = c, .off = off, .len = len };
    return 0;
}

int batch_bot(struct batch *b, struct batch_player *p, int result)
{
    if (p->slot < 0) {
        struct batch_totals *t = grow(b->totals, &b->totals_cap, b->ntotals + 1, sizeof(*t));
        if (t == NULL) {
            return -1;
        }
        b->totals = t;
        p->slot = (int)b->ntotals++;
        b->totals[p->slot] = (struct batch_totals){ .p = p, .player = p->id };
    }
    struct batch_totals *t = &b->totals[p->slot];
    t->wins += result == RPS_WIN;
    t->losses += result == RPS_LOSS;
    t->draws += result == RPS_DRAW;
    return 0;
}

int batch_round(struct batch *b, const struct batch_round *r)
{
    struct batch_round *p = grow(b->rounds, &b->rounds_cap, b->nrounds + 1, sizeof(*p));
    if (p == NULL) {
        return -1;
    }
    b->rounds = p;
    b->rounds[b->nrounds++] = *r;
    return 0;
}

int batch_pending(const struct batch *b)
{
    return b->nspans > 0 || b->nrounds > 0 || b->ntotals > 0;
}

/* Store the batch; returns 0, or -1 with err filled (the caller rolls back). */
static int write_all(struct batch *b, struct store *st, char *err, size_t errlen)
{
    if (store_begin(st, err, errlen) < 0) {
        return -1;
    }
    for (size_t i = 0; i < b->ntotals; i++) {
        struct batch_totals *t = &b->totals[i];
        /* Guests are never ranked: their rounds go to one row of this process's, made by the
         * first commit that needs it, so guests cannot grow the database. */
        if (t->player == 0 && b->guests == 0) {
            if ((b->guests = store_guest(st, err, errlen)) < 0) {
                b->guests = 0;
                return -1;
            }
            b->guests_new = 1;
        }
        if (store_add_totals(st, t->player != 0 ? t->player : b->guests, t->wins, t->losses, t->draws, err,
                             errlen) < 0) {
            return -1;
        }
    }
    for (size_t i = 0; i < b->nrounds; i++) {
        struct batch_round *r = &b->rounds[i];
        if (store_pvp_round(st, r->player[0], r->player[1], r->move[0], r->move[1], r->outcome, r->timeout,
                            NULL, NULL, err, errlen) < 0) {
            return -1;
        }
    }
    return store_commit(st, err, errlen);
}

/* write_all, its failure counted by why. */
static int write_batch(struct batch *b, struct store *st, char *err, size_t errlen)
{
    if (write_all(b, st, err, errlen) == 0) {
        return 0;
    }
    stats.commit_failures[store_busy(st) ? STATS_DB_LOCKED : store_full(st) ? STATS_DB_FULL : STATS_DB_OTHER]++;
    return -1;
}

/* The batch is stored: its rounds, and the time its transaction took, are counted. */
static void count_stored(const struct batch *b, double took)
{
    for (size_t i = 0; i < b->ntotals; i++) {
        const struct batch_totals *t = &b->totals[i];
        stats.rounds[t->player != 0 ? STATS_ROUND_BOT : STATS_ROUND_GUEST] += (uint64_t)(t->wins + t->losses + t->draws);
    }
    stats.rounds[STATS_ROUND_PERSON] += b->nrounds;
    stats_observe(&stats.commits, took);
}

static int span_order(const void *pa, const void *pb)
{
    const struct batch_span *a = pa, *b = pb;
    if (a->c != b->c) {
        return (uintptr_t)a->c < (uintptr_t)b->c ? -1 : 1;
    }
    return a->off < b->off ? -1 : (a->off > b->off);
}

/* Rebuild the held output of the spans s[0..n) of one connection with every
 * result replaced by an error frame. */
static void replace_results(struct conn *c, const struct batch_span *s, size_t n)
{
    char frame[2 + sizeof(UNAVAILABLE)];
    size_t flen = rps_frame_text(frame, RPS_OP_ERROR, UNAVAILABLE);
    uint32_t from = c->out_held, end = c->out.len;
    char *held = malloc(end - from + 1);

    if (held == NULL) {
        conn_close(c, "out of memory");
        return;
    }
    memcpy(held, c->out.data + from, end - from);
    c->out.len = from;
    c->out_held = CONN_HELD_NONE;
    uint32_t pos = from;
    for (size_t i = 0; i < n && c->state != CONN_CLOSED; i++) {
        conn_write(c, held + (pos - from), s[i].off - pos);
        conn_write(c, frame, flen);
        pos = s[i].off + s[i].len;
    }
    if (c->state != CONN_CLOSED) {
        conn_write(c, held + (pos - from), end - pos);
    }
    free(held);
}

static void fail_batch(struct batch *b)
{
    stats.results_refused += b->nspans;
    if (b->nspans == 0) {
        return;     /* rounds of players who are all away: nothing to replace (and qsort wants an array) */
    }
    qsort(b->spans, b->nspans, sizeof(*b->spans), span_order);
    for (size_t i = 0, j; i < b->nspans; i = j) {
        for (j = i + 1; j < b->nspans && b->spans[j].c == b->spans[i].c; j++) {
        }
        if (b->spans[i].c->state != CONN_CLOSED) {
            replace_results(b->spans[i].c, b->spans + i, j - i);
        }
    }
}

/* For a while after a full disk failed a commit, every commit is checkpointed at once, so that the
 * WAL cannot grow back over the space that came back: a WAL that fills the disk can no longer be
 * checkpointed (the database file needs room for its pages), and would fail every commit after. */
static void recovering(struct batch *b, struct store *st, ev_tstamp now)
{
    char err[256];
    if (b->full_at == 0) {
        return;
    }
    if (store_checkpoint(st, 0, err, sizeof(err)) == 0 && now - b->full_at >= BATCH_RECOVERY) {
        log_info("no full disk for %.0f s: the WAL is checkpointed once a second again", BATCH_RECOVERY);
        b->full_at = 0;
    }
}

/* A failing database fails every iteration: one line a second says so, not one line a commit. */
static void log_failure(struct batch *b, ev_tstamp now, const char *err)
{
    b->failures++;
    if (now - b->failure_logged >= 1.0) {
        log_error("could not store %zu results: %s (%u failed commits since the last report)", b->nspans, err,
                  b->failures);
        b->failure_logged = now;
        b->failures = 0;
    }
}

/* The transaction was rolled back: the guests' row, if it made it, is gone again. */
static void forget_guests_row(struct batch *b)
{
    if (b->guests_new) {
        b->guests = 0;
        b->guests_new = 0;
    }
}

enum batch_result batch_commit(struct batch *b, struct store *st, ev_tstamp now, double wait)
{
    char err[256] = "";

    if (!batch_pending(b)) {
        return BATCH_DONE;
    }
    double start = stats_clock();
    int ok = write_batch(b, st, err, sizeof(err)) == 0;
    if (!ok && store_full(st)) {
        /* The disk may have room again, or the WAL may only need its space back: checkpoint, and
         * try once more. */
        store_rollback(st);
        forget_guests_row(b);
        if (b->full_at == 0) {
            log_error("disk full at a commit (%s): the WAL is checkpointed at every commit for %.0f s", err,
                      BATCH_RECOVERY);
        }
        b->full_at = now;
        ok = store_checkpoint(st, 1, err, sizeof(err)) == 0 && write_batch(b, st, err, sizeof(err)) == 0;
    }
    if (!ok) {
        int busy = store_busy(st);
        store_rollback(st);
        forget_guests_row(b);
        if (busy && (b->locked_since == 0 || now - b->locked_since < wait)) {
            if (b->locked_since == 0) {
                b->locked_since = now;
                log_error("database locked by another process: %zu results held until it is free", b->nspans);
            }
            return BATCH_WAITING;
        }
        log_failure(b, now, err);
        b->failed_at = now;
        fail_batch(b);
    } else {
        count_stored(b, stats_clock() - start);
        b->failed_at = 0;
        if (b->locked_since != 0) {
            log_error("database free again after %.3f s: the held results are stored", now - b->locked_since);
        }
        recovering(b, st, now);
    }
    b->locked_since = 0;
    b->guests_new = 0;
    for (size_t i = 0; i < b->ntotals; i++) {
        b->totals[i].p->slot = -1;
    }
    for (size_t i = 0; i < b->nrounds; i++) {
        struct batch_round *r = &b->rounds[i];
        if (ok && r->stored != NULL) {
            (*r->stored)++;
        }
        if (r->pending != NULL) {
            (*r->pending)--;
        }
    }
    for (size_t i = 0; i < b->nspans; i++) {
        conn_unhold(b->spans[i].c);
    }
    b->ntotals = 0;
    b->nspans = 0;
    b->nrounds = 0;
    return BATCH_DONE;
}

void batch_free(struct batch *b)
{
    free(b->spans);
    free(b->rounds);
    free(b->totals);
    memset(b, 0, sizeof(*b));
}
