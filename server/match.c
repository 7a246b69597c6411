/*
 * match: matchmaking and player-vs-player rounds.
 *
 *   P -> queue (W) -> matched (V name) -> rounds: both move within the window
 *        |                                 | both moved: M<their move><result>
 *        queue timeout (Q)                 | one moved:  T y / T z (forfeit, stored)
 *                                          | none moved: T v (void)
 *                                          | 3 timeouts in a row: F, back to lobby
 *                                          | L or disconnect: G to the other
 */
#include "match.h"

#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "log.h"
#include "play.h"
#include "server.h"

#define MATCH_TIMEOUTS_MAX 3

static void window_cb(struct ev_loop *loop, ev_timer *w, int revents);

static void queue_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct conn *c = (struct conn *)((char *)w - offsetof(struct conn, queue_w));
    (void)loop;
    (void)revents;
    if (c->state == CONN_QUEUED) {
        match_unqueue(c);
        play_send_op(c, RPS_OP_QUEUE_TIMEOUT);
    }
}

void match_unqueue(struct conn *c)
{
    struct server *srv = c->srv;

    if (c->queue_prev != NULL) {
        c->queue_prev->queue_next = c->queue_next;
    } else {
        srv->queue_head = c->queue_next;
    }
    if (c->queue_next != NULL) {
        c->queue_next->queue_prev = c->queue_prev;
    } else {
        srv->queue_tail = c->queue_prev;
    }
    c->queue_next = c->queue_prev = NULL;
    ev_timer_stop(srv->loop, &c->queue_w);
    conn_set_state(c, CONN_LOBBY);
}

static void start(struct conn *a, struct conn *b)
{
    struct server *srv = a->srv;
    struct match *m = calloc(1, sizeof(*m));

    if (m == NULL) {
        play_send_text(b, RPS_OP_ERROR, "server busy");
        return;
    }
    match_unqueue(a);
    m->srv = srv;
    m->p[0] = a;
    m->p[1] = b;
    for (int i = 0; i < 2; i++) {
        m->p[i]->match = m;
        m->p[i]->side = i;
        conn_set_state(m->p[i], CONN_MATCH);
        play_send_text(m->p[i], RPS_OP_MATCHED, m->p[1 - i]->name);
    }
    ev_timer_init(&m->window_w, window_cb, srv->cfg.move_timeout, srv->cfg.move_timeout);
    ev_timer_start(srv->loop, &m->window_w);
    log_debug("match: %s against %s", a->name, b->name);
}

void match_queue(struct conn *c)
{
    struct server *srv = c->srv;

    for (struct conn *q = srv->queue_head; q != NULL; q = q->queue_next) {
        if (strcmp(q->name, c->name) != 0) {
            start(q, c);
            return;
        }
    }
    c->queue_prev = srv->queue_tail;
    c->queue_next = NULL;
    if (srv->queue_tail != NULL) {
        srv->queue_tail->queue_next = c;
    } else {
        srv->queue_head = c;
    }
    srv->queue_tail = c;
    conn_set_state(c, CONN_QUEUED);
    ev_timer_init(&c->queue_w, queue_cb, srv->cfg.queue_timeout, 0.);
    ev_timer_start(srv->loop, &c->queue_w);
    play_send_op(c, RPS_OP_WAITING);
}

static void finish(struct match *m)
{
    ev_timer_stop(m->srv->loop, &m->window_w);
    for (int i = 0; i < 2; i++) {
        m->p[i]->match = NULL;
        if (m->p[i]->state == CONN_MATCH) {
            conn_set_state(m->p[i], CONN_LOBBY);
        }
    }
    free(m);
}

/* Store the round; outcome from p[0]'s side. */
static void record_round(struct match *m, char outcome, int timeout)
{
    struct batch_round r = {
        .player = { m->p[0]->player, m->p[1]->player },
        .move = { m->move[0], m->move[1] },
        .outcome = outcome,
        .timeout = timeout,
    };
    if (batch_round(&m->srv->batch, &r) < 0) {
        log_error("match: out of memory storing a round of %s against %s", m->p[0]->name, m->p[1]->name);
    }
}

static void next_round(struct match *m)
{
    m->move[0] = m->move[1] = 0;
    ev_timer_again(m->srv->loop, &m->window_w);
}

void match_move(struct conn *c, int move)
{
    struct match *m = c->match;
    int me = c->side;

    if (m->move[me] != 0) {
        play_send_text(c, RPS_OP_ERROR, "already moved");
        return;
    }
    m->move[me] = move;
    if (m->move[1 - me] == 0) {
        return;
    }
    int result = rps_outcome(m->move[0], m->move[1]);
    record_round(m, result == RPS_WIN ? 'W' : result == RPS_LOSS ? 'L' : 'D', 0);
    for (int i = 0; i < 2; i++) {
        play_send_result(m->p[i], m->move[1 - i], rps_outcome(m->move[i], m->move[1 - i]));
        m->timeouts[i] = 0;
    }
    next_round(m);
}

/* Three timed-out rounds in a row end the match as a loss; both at once, as a void. */
static int over(struct match *m)
{
    int out0 = m->timeouts[0] >= MATCH_TIMEOUTS_MAX, out1 = m->timeouts[1] >= MATCH_TIMEOUTS_MAX;

    if (!out0 && !out1) {
        return 0;
    }
    for (int i = 0; i < 2; i++) {
        int mine = i == 0 ? out0 : out1, theirs = i == 0 ? out1 : out0;
        play_send_code(m->p[i], RPS_OP_MATCH_OVER, mine && theirs ? RPS_VOID : mine ? RPS_LOSS : RPS_WIN, 0);
    }
    finish(m);
    return 1;
}

static void window_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct match *m = (struct match *)((char *)w - offsetof(struct match, window_w));
    (void)loop;
    (void)revents;

    if (m->move[0] == 0 && m->move[1] == 0) {
        for (int i = 0; i < 2; i++) {
            play_send_code(m->p[i], RPS_OP_ROUND_TIMEOUT, RPS_VOID, 0);
            m->timeouts[i]++;
        }
    } else {
        int mover = m->move[0] != 0 ? 0 : 1;
        record_round(m, mover == 0 ? 'W' : 'L', 1);
        play_send_code(m->p[mover], RPS_OP_ROUND_TIMEOUT, RPS_WIN, 1);
        play_send_code(m->p[1 - mover], RPS_OP_ROUND_TIMEOUT, RPS_LOSS, 1);
        m->timeouts[mover] = 0;
        m->timeouts[1 - mover]++;
    }
    if (!over(m)) {
        next_round(m);
    }
}

void match_leave(struct conn *c)
{
    struct match *m = c->match;
    struct conn *other = m->p[1 - c->side];
    uint32_t off = other->out.len;

    if (conn_write(other, (char[]){ RPS_OP_GONE }, 1) < 0) {
        finish(m);
        return;
    }
    /* Leaving cannot dodge a round the other player has already moved in:
     * that round is theirs by forfeit. Leaving between rounds stores nothing. */
    if (m->move[other->side] != 0) {
        m->move[c->side] = 0;
        record_round(m, c->side == 0 ? 'L' : 'W', 1);
        conn_hold(other, off, 1, 1);
    }
    finish(m);
}

void match_abort(struct conn *c)
{
    struct match *m = c->match;
    for (int i = 0; i < 2; i++) {
        play_send_code(m->p[i], RPS_OP_ROUND_TIMEOUT, RPS_VOID, 0);
    }
    finish(m);
}
