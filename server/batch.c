/*
 * batch: the group commit, run by the flush once per loop iteration:
 *
 *   callbacks: result bytes appended to conn->out, held from conn->out_held on,
 *              collected in the open part
 *   flush:     the open part becomes the flight: BEGIN; bot totals; player-vs-player rounds;
 *              COMMIT, answered at once (SQLite) or later (PostgreSQL); meanwhile results
 *              collect in the other part
 *   answer:    ok     -> the flight's held bytes released, written
 *              failed -> each held result replaced by "E games unavailable"
 */
#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "log.h"
#include "rps.h"
#include "stats.h"

#define UNAVAILABLE "games unavailable"

/* Room for need elements, doubling: need may jump (an array made to measure), not only by one. */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) {
        return p;
    }
    size_t n = *cap ? *cap : 64;
    while (n < need) {
        n *= 2;
    }
    void *q = realloc(p, n * size);
    if (q != NULL) {
        *cap = n;
    }
    return q;
}

/* The part that collects results. */
static struct batch_part *open_part(struct batch *b)
{
    if (b->open == NULL) {
        b->open = &b->parts[0];
    }
    return b->open;
}

int batch_hold(struct batch *bt, struct conn *c, uint32_t off, uint32_t len)
{
    struct batch_part *b = open_part(bt);
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

int batch_bot(struct batch *bt, struct batch_player *p, int result)
{
    struct batch_part *b = open_part(bt);
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

int batch_round(struct batch *bt, const struct batch_round *r)
{
    struct batch_part *b = open_part(bt);
    struct batch_round *p = grow(b->rounds, &b->rounds_cap, b->nrounds + 1, sizeof(*p));
    if (p == NULL) {
        return -1;
    }
    b->rounds = p;
    b->rounds[b->nrounds++] = *r;
    return 0;
}

static int part_pending(const struct batch_part *p)
{
    return p != NULL && (p->nspans > 0 || p->nrounds > 0 || p->ntotals > 0);
}

int batch_pending(const struct batch *b)
{
    return part_pending(b->open);
}

int batch_in_flight(const struct batch *b)
{
    return b->flight != NULL;
}

/* The flight is stored: its rounds, and the time its transaction took, are counted. */
static void count_stored(const struct batch_part *p, double took)
{
    for (size_t i = 0; i < p->ntotals; i++) {
        const struct batch_totals *t = &p->totals[i];
        stats.rounds[t->player != 0 ? STATS_ROUND_BOT : STATS_ROUND_GUEST] += (uint64_t)(t->wins + t->losses + t->draws);
    }
    stats.rounds[STATS_ROUND_PERSON] += p->nrounds;
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

/* Rebuild the output of one connection from the first of its spans s[0..n) (in order) on, with
 * every result replaced by an error frame. */
static void replace_results(struct conn *c, const struct batch_span *s, size_t n)
{
    char frame[2 + sizeof(UNAVAILABLE)];
    size_t flen = rps_frame_text(frame, RPS_OP_ERROR, UNAVAILABLE);
    uint32_t from = s[0].off, end = c->out.len;
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

static void fail_spans(struct batch_span *spans, size_t nspans)
{
    stats.results_refused += nspans;
    if (nspans == 0) {
        return;     /* rounds of players who are all away: nothing to replace (and qsort wants an array) */
    }
    qsort(spans, nspans, sizeof(*spans), span_order);
    for (size_t i = 0, j; i < nspans; i = j) {
        for (j = i + 1; j < nspans && spans[j].c == spans[i].c; j++) {
        }
        if (spans[i].c->state != CONN_CLOSED) {
            replace_results(spans[i].c, spans + i, j - i);
        }
    }
}

/* A failed flight fails the open part too: a connection's held output is rebuilt from its first
 * held byte on, so both parts' results are replaced together. */
static int fail_all(struct batch *b)
{
    struct batch_part *f = b->flight, *o = b->open;
    if (o->nspans > 0) {
        struct batch_span *s = grow(f->spans, &f->spans_cap, f->nspans + o->nspans, sizeof(*s));
        if (s == NULL) {
            return -1;
        }
        f->spans = s;
        memcpy(f->spans + f->nspans, o->spans, o->nspans * sizeof(*s));
        f->nspans += o->nspans;
        o->nspans = 0;
    }
    fail_spans(f->spans, f->nspans);
    return 0;
}

/* A failing database fails every iteration: one line a second says so, not one line a commit. */
static void log_failure(struct batch *b, ev_tstamp now, size_t results, const char *err)
{
    b->failures++;
    if (now - b->failure_logged >= 1.0) {
        log_error("could not store %zu results: %s (%u failed commits since the last report)", results, err,
                  b->failures);
        b->failure_logged = now;
        b->failures = 0;
    }
}

/* The part is done with (stored or not): its rounds are counted out of their matches, its bytes
 * let go, and it is empty again. */
static void settle(struct batch_part *p, int ok)
{
    for (size_t i = 0; i < p->nrounds; i++) {
        struct batch_round *r = &p->rounds[i];
        if (ok && r->stored != NULL) {
            (*r->stored)++;
        }
        if (r->pending != NULL) {
            (*r->pending)--;
        }
    }
    for (size_t i = 0; i < p->nspans; i++) {
        conn_unhold(p->spans[i].c);
    }
    p->ntotals = 0;
    p->nspans = 0;
    p->nrounds = 0;
}

/* Bytes the open part holds are held again (a connection holds from its first held byte on). */
static void hold_again(struct batch_part *p)
{
    for (size_t i = 0; i < p->nspans; i++) {
        conn_hold(p->spans[i].c, p->spans[i].off);
    }
}

static void committed(struct db_req *r);

/* The flight's answer is in b->req. */
static enum batch_result finish(struct batch *b, ev_tstamp now)
{
    struct batch_part *f = b->flight;
    int ok = b->req.result == 0;

    if (!ok) {
        stats.commit_failures[b->req.fault == DB_FAULT_LOCKED ? STATS_DB_LOCKED
                              : b->req.fault == DB_FAULT_FULL ? STATS_DB_FULL
                                                              : STATS_DB_OTHER]++;
    }
    if (!ok && b->req.fault == DB_FAULT_LOCKED && b->at_once && !part_pending(b->open) &&
        (b->locked_since == 0 || now - b->locked_since < b->wait)) {
        /* Answered at once (SQLite), so nothing was collected meanwhile and its players are all
         * there: the flight is the open part again, their totals where they were. */
        if (b->locked_since == 0) {
            b->locked_since = now;
            log_error("database locked by another process: %zu results held until it is free", f->nspans);
        }
        for (size_t i = 0; i < f->ntotals; i++) {
            f->totals[i].p->slot = (int)i;
        }
        b->open = f;
        b->flight = NULL;
        return BATCH_WAITING;
    }
    if (!ok && b->req.fault == DB_FAULT_FULL && !b->full_logged) {
        log_error("disk full at a commit (%s): the WAL is checkpointed at every commit for a while", b->req.err);
        b->full_logged = 1;
    }
    if (ok) {
        count_stored(f, stats_clock() - b->sent_at);
        b->failed_at = 0;
        if (b->locked_since != 0) {
            log_error("database free again after %.3f s: the held results are stored", now - b->locked_since);
        }
        if (b->full_logged && !db_recovering(b->db)) {
            log_info("no full disk for a while: the WAL is checkpointed by the checkpointer again");
            b->full_logged = 0;
        }
    } else {
        log_failure(b, now, f->nspans + b->open->nspans, b->req.err);
        b->failed_at = now;
        if (fail_all(b) < 0) {
            /* No memory to merge them: each part alone, the open one first, since its results
             * come after the flight's on a connection that has both. */
            fail_spans(b->open->spans, b->open->nspans);
            b->open->nspans = 0;
            fail_spans(f->spans, f->nspans);
        }
        for (size_t i = 0; i < b->open->ntotals; i++) {
            b->open->totals[i].p->slot = -1;
        }
        settle(b->open, 0);
    }
    b->locked_since = 0;
    settle(f, ok);
    b->flight = NULL;
    hold_again(b->open);
    return BATCH_DONE;
}

static void committed(struct db_req *r)
{
    struct batch *b = r->data;
    finish(b, ev_now(db_loop(b->db)));
}

/* The open part's totals and rounds as the database takes them. */
static int describe(struct batch *b, const struct batch_part *p)
{
    struct db_totals *t = grow(b->dt, &b->dt_cap, p->ntotals, sizeof(*t));
    if (t == NULL && p->ntotals > 0) {
        return -1;
    }
    b->dt = t;
    struct db_round *r = grow(b->dr, &b->dr_cap, p->nrounds, sizeof(*r));
    if (r == NULL && p->nrounds > 0) {
        return -1;
    }
    b->dr = r;
    for (size_t i = 0; i < p->ntotals; i++) {
        const struct batch_totals *x = &p->totals[i];
        t[i] = (struct db_totals){ .player = x->player, .wins = x->wins, .losses = x->losses, .draws = x->draws };
    }
    for (size_t i = 0; i < p->nrounds; i++) {
        const struct batch_round *x = &p->rounds[i];
        r[i] = (struct db_round){ .a = x->player[0], .b = x->player[1], .move_a = x->move[0], .move_b = x->move[1],
                                  .outcome = x->outcome, .timeout = x->timeout };
    }
    return 0;
}

enum batch_result batch_commit(struct batch *b, struct db *db, ev_tstamp now, double wait)
{
    if (b->flight != NULL) {
        return BATCH_SENT;
    }
    struct batch_part *p = open_part(b);
    if (!part_pending(p)) {
        return BATCH_DONE;
    }
    b->db = db;
    b->wait = wait;
    b->flight = p;
    b->open = p == &b->parts[0] ? &b->parts[1] : &b->parts[0];
    /* Bot rounds from now on add up in the open part. (Its players may be freed before the answer:
     * the flight reads its totals' p only when SQLite answered at once.) */
    for (size_t i = 0; i < p->ntotals; i++) {
        p->totals[i].p->slot = -1;
    }
    b->req = (struct db_req){ .done = committed, .data = b };
    if (describe(b, p) < 0) {
        b->req.result = -1;
        b->req.fault = DB_FAULT_OTHER;
        snprintf(b->req.err, sizeof(b->req.err), "out of memory");
        return finish(b, now);
    }
    b->sent_at = stats_clock();
    if (db_commit(db, &b->req, b->dt, p->ntotals, b->dr, p->nrounds) == DB_PENDING) {
        return BATCH_SENT;
    }
    b->at_once = 1;
    enum batch_result r = finish(b, now);
    b->at_once = 0;
    return r;
}

void batch_free(struct batch *b)
{
    for (int i = 0; i < 2; i++) {
        free(b->parts[i].spans);
        free(b->parts[i].rounds);
        free(b->parts[i].totals);
    }
    free(b->dt);
    free(b->dr);
    memset(b, 0, sizeof(*b));
}
