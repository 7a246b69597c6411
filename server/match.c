/*
 * match: matchmaking and player-vs-player rounds.
 *
 *   P -> queue (W) -> matched (V name) -> rounds: both move within the window
 *        |                                 | both moved: M<their move><result>
 *        queue timeout (Q)                 | one moved:  T y / T z (forfeit, stored)
 *                                          | none moved: T v (void)
 *                                          | 3 timeouts in a row: F, back to lobby
 *                                          | L or a lost connection: G to the other
 *                                          | a proven player's lost connection: D to the
 *                                          |   other, the seat held to the end of the window;
 *                                          |   back in time: J to it, C to the other
 */
#include "match.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "log.h"
#include "session.h"
#include "stats.h"

#define MATCH_TIMEOUTS_MAX 3

static void window_cb(struct ev_loop *loop, ev_timer *w, int revents);

static void queue_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct session *s = (struct session *)((char *)w - offsetof(struct session, queue_w));
    (void)loop;
    (void)revents;
    if (s->place == SESSION_QUEUED) {
        match_unqueue(s);
        session_send_op(s, RPS_OP_QUEUE_TIMEOUT, SESSION_NOW);
    }
}

/* Is s on this node's list of waiting players? (While the shared queue is asked, it is not.) */
static int listed(const struct session *s)
{
    return s->queue_prev != NULL || s->game->queue_head == s;
}

void match_unlist(struct session *s)
{
    struct game *g = s->game;

    if (listed(s)) {
        if (s->queue_prev != NULL) {
            s->queue_prev->queue_next = s->queue_next;
        } else {
            g->queue_head = s->queue_next;
        }
        if (s->queue_next != NULL) {
            s->queue_next->queue_prev = s->queue_prev;
        } else {
            g->queue_tail = s->queue_prev;
        }
    }
    s->queue_next = s->queue_prev = NULL;
}

void match_unqueue(struct session *s)
{
    struct game *g = s->game;

    if (s->shared != NULL) {
        cluster_unqueue(g->cluster, s);
    }
    match_unlist(s);
    ev_timer_stop(g->loop, &s->queue_w);
    s->place = SESSION_LOBBY;
}

void match_start(struct session *a, struct session *b)
{
    struct game *g = a->game;
    struct match *m = calloc(1, sizeof(*m));

    if (m == NULL) {
        session_send_text(b, RPS_OP_ERROR, "server busy", SESSION_NOW);
        return;
    }
    if (a->place == SESSION_QUEUED) {
        match_unqueue(a);
    }
    if (b->place == SESSION_QUEUED) {
        match_unqueue(b);
    }
    m->game = g;
    m->p[0] = a;
    m->p[1] = b;
    m->round = 1;
    for (int i = 0; i < 2; i++) {
        m->p[i]->match = m;
        m->p[i]->side = i;
        m->p[i]->place = SESSION_MATCH;
        session_send_text(m->p[i], RPS_OP_MATCHED, m->p[1 - i]->name, SESSION_NOW);
    }
    ev_timer_init(&m->window_w, window_cb, g->move_timeout, g->move_timeout);
    ev_timer_start(g->loop, &m->window_w);
    stats.matches++;
    log_info("match: %s against %s", a->name, b->name);
}

void match_enlist(struct session *s)
{
    struct game *g = s->game;

    if (g->queue_head != NULL) {
        match_start(g->queue_head, s);
        return;
    }
    s->queue_prev = g->queue_tail;
    s->queue_next = NULL;
    if (g->queue_tail != NULL) {
        g->queue_tail->queue_next = s;
    } else {
        g->queue_head = s;
    }
    g->queue_tail = s;
}

/* Match s with the first waiting player, or queue it, saying `W` when tell. */
static void queue(struct session *s, int tell)
{
    struct game *g = s->game;

    if (g->queue_head != NULL) {
        match_start(g->queue_head, s);
        return;
    }
    s->place = SESSION_QUEUED;
    ev_timer_init(&s->queue_w, queue_cb, g->queue_timeout, 0.);
    ev_timer_start(g->loop, &s->queue_w);
    if (tell) {
        session_send_op(s, RPS_OP_WAITING, SESSION_NOW);
    }
    /* Nobody waits here: the players waiting on the other nodes, if any. */
    if (g->cluster == NULL || cluster_queue(g->cluster, s) < 0) {
        match_enlist(s);
    }
}

void match_queue(struct session *s)
{
    queue(s, 1);
}

void match_wait(struct session *s)
{
    queue(s, 0);
}

void match_share(struct session *s)
{
    struct game *g = s->game;

    if (s->place != SESSION_QUEUED || s->shared != NULL || g->cluster == NULL) {
        return;
    }
    match_unlist(s);
    if (cluster_queue(g->cluster, s) < 0) {
        match_enlist(s);
    }
}

/* The match is over: both players are back in the lobby, and a player who is away is gone. */
static void finish(struct match *m, const char *why)
{
    ev_timer_stop(m->game->loop, &m->window_w);
    m->why = why;
    snprintf(m->names, sizeof(m->names), "%s against %s", m->p[0]->name, m->p[1]->name);
    for (int i = 0; i < 2; i++) {
        m->p[i]->match = NULL;
        m->p[i]->place = SESSION_LOBBY;
        session_release(m->p[i]);
    }
    /* Its rounds in the batch still count into it when they are stored: freed by match_reap. */
    m->over = 1;
    m->over_next = m->game->over;
    m->game->over = m;
}

void match_reap(struct game *g)
{
    struct match **p = &g->over;
    while (*p != NULL) {
        struct match *m = *p;
        if (m->in_batch > 0) {
            p = &m->over_next;
            continue;
        }
        *p = m->over_next;
        /* Logged now, when its score is what was stored. */
        log_info("match: %s over (%s): stored wins %u, losses %u, draws %u for the first", m->names, m->why, m->wins,
                 m->losses, m->draws);
        free(m);
    }
}

/* Store the round; outcome from p[0]'s side. */
static void record_round(struct match *m, char outcome, int timeout)
{
    struct batch_round r = {
        .player = { m->p[0]->player.id, m->p[1]->player.id },
        .move = { m->move[0], m->move[1] },
        .outcome = outcome,
        .timeout = timeout,
        .stored = outcome == 'W' ? &m->wins : outcome == 'L' ? &m->losses : &m->draws,
        .pending = &m->in_batch,
    };
    if (batch_round(&m->game->batch, &r) < 0) {
        log_error("match: out of memory storing a round of %s against %s", m->p[0]->name, m->p[1]->name);
        return;
    }
    m->in_batch++;
}

static void next_round(struct match *m)
{
    m->move[0] = m->move[1] = 0;
    m->round++;
    ev_timer_again(m->game->loop, &m->window_w);
}

void match_move(struct session *s, int move)
{
    struct match *m = s->match;
    int me = s->side;

    if (m->move[me] != 0) {
        session_send_text(s, RPS_OP_ERROR, "already moved", SESSION_NOW);
        return;
    }
    m->move[me] = move;
    if (m->move[1 - me] == 0) {
        return;
    }
    int result = rps_outcome(m->move[0], m->move[1]);
    record_round(m, result == RPS_WIN ? 'W' : result == RPS_LOSS ? 'L' : 'D', 0);
    for (int i = 0; i < 2; i++) {
        session_send_result(m->p[i], m->move[1 - i], rps_outcome(m->move[i], m->move[1 - i]));
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
        int code = mine && theirs ? RPS_VOID : mine ? RPS_LOSS : RPS_WIN;
        session_send_code(m->p[i], RPS_OP_MATCH_OVER, code, SESSION_NOW);
    }
    finish(m, "three timeouts in a row");
    return 1;
}

static void window_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct match *m = (struct match *)((char *)w - offsetof(struct match, window_w));
    (void)loop;
    (void)revents;

    if (m->move[0] == 0 && m->move[1] == 0) {
        for (int i = 0; i < 2; i++) {
            session_send_code(m->p[i], RPS_OP_ROUND_TIMEOUT, RPS_VOID, SESSION_NOW);
            m->timeouts[i]++;
        }
    } else {
        int mover = m->move[0] != 0 ? 0 : 1;
        record_round(m, mover == 0 ? 'W' : 'L', 1);
        session_send_code(m->p[mover], RPS_OP_ROUND_TIMEOUT, RPS_WIN, SESSION_HELD);
        session_send_code(m->p[1 - mover], RPS_OP_ROUND_TIMEOUT, RPS_LOSS, SESSION_HELD);
        m->timeouts[mover] = 0;
        m->timeouts[1 - mover]++;
    }
    if (over(m)) {
        return;
    }
    /* A held seat lasts to the end of the window it dropped in. */
    if (m->away[0] || m->away[1]) {
        for (int i = 0; i < 2; i++) {
            if (!m->away[i]) {
                session_send_op(m->p[i], RPS_OP_GONE, SESSION_NOW);
            }
        }
        finish(m, "a dropped player did not come back");
        return;
    }
    next_round(m);
}

void match_leave(struct session *s)
{
    struct match *m = s->match;
    int me = s->side;
    struct session *other = m->p[1 - me];

    /* Leaving cannot dodge a round the other player has already moved in:
     * that round is theirs by forfeit. Leaving between rounds stores nothing. */
    if (m->move[1 - me] != 0) {
        m->move[me] = 0;
        record_round(m, me == 0 ? 'L' : 'W', 1);
        session_send_code(s, RPS_OP_ROUND_TIMEOUT, RPS_LOSS, SESSION_HELD);
        /* Both are told of the round stored in their names, as when the window runs out. */
        session_send_code(other, RPS_OP_ROUND_TIMEOUT, RPS_WIN, SESSION_HELD);
        session_send_op(other, RPS_OP_GONE, SESSION_NOW);
    } else {
        session_send_op(other, RPS_OP_GONE, SESSION_NOW);
    }
    finish(m, s->conn != NULL ? "a player left" : "a player's connection was lost");
}

/* Whole seconds left in the current window, rounded up. */
static unsigned seconds_left(struct match *m)
{
    return (unsigned)ceil(ev_timer_remaining(m->game->loop, &m->window_w) - 1e-6);
}

void match_drop(struct session *s)
{
    struct match *m = s->match;
    char text[16];

    if (!s->proven) {
        match_leave(s);
        return;
    }
    m->away[s->side] = 1;
    snprintf(text, sizeof(text), "%u", seconds_left(m));
    session_send_text(m->p[1 - s->side], RPS_OP_DROPPED, text, SESSION_NOW);
    log_info("match: %s dropped against %s, seat held for %s s", s->name, m->p[1 - s->side]->name, text);
}

void match_rejoin(struct session *s)
{
    struct match *m = s->match;
    int me = s->side, was_away = m->away[me];
    unsigned won = me == 0 ? m->wins : m->losses, lost = me == 0 ? m->losses : m->wins;
    char text[RPS_NAME_MAX + 64];

    m->away[me] = 0;
    /* The score counts stored rounds only (the commit counts them), so the snapshot needs no wait. */
    snprintf(text, sizeof(text), "%s %u %u %u %u %d %u", m->p[1 - me]->name, m->round, won, lost, m->draws,
             m->move[me] != 0, seconds_left(m));
    session_send_text(s, RPS_OP_REJOINED, text, SESSION_NOW);
    if (m->away[1 - me]) {
        /* The opponent dropped too while this player was away: it was told nothing then. */
        snprintf(text, sizeof(text), "%u", seconds_left(m));
        session_send_text(s, RPS_OP_DROPPED, text, SESSION_NOW);
    }
    if (was_away) {
        session_send_op(m->p[1 - me], RPS_OP_BACK, SESSION_NOW);
        log_info("match: %s rejoined against %s", s->name, m->p[1 - me]->name);
    }
}

void match_abort(struct session *s)
{
    struct match *m = s->match;
    for (int i = 0; i < 2; i++) {
        session_send_code(m->p[i], RPS_OP_ROUND_TIMEOUT, RPS_VOID, SESSION_NOW);
    }
    finish(m, "shutdown");
}
