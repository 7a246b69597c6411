/*
 * sess: one handler per frame kind. Handlers trust the frame more than the
 * phase: a frame that arrives in an odd phase still moves the session where
 * the server says it is, so the client never disagrees with the server for
 * long.
 */
#include "sess.h"

#include <stdio.h>
#include <string.h>

int sess_init(struct sess *s, const char *name, int pvp, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    if (name != NULL && name[0] != '\0') {
        if (!rps_valid_name(name, strlen(name))) {
            snprintf(err, errlen, "bad name '%s': 1 to %d of A-Z a-z 0-9 _ -", name, RPS_NAME_MAX);
            return -1;
        }
        snprintf(s->name, sizeof(s->name), "%s", name);
    }
    if (pvp && s->name[0] == '\0') {
        snprintf(err, errlen, "--pvp needs --name: people are matched by name");
        return -1;
    }
    s->pvp = pvp;
    s->phase = SESS_OFFLINE;
    return 0;
}

static void push(struct sess *s, const char *p, size_t n)
{
    if (s->outlen + n <= sizeof(s->out)) {
        memcpy(s->out + s->outlen, p, n);
        s->outlen += n;
    }
}

void sess_connected(struct sess *s)
{
    s->outlen = 0;
    s->named = 0;
    s->opp_move = RPS_NONE;
    if (s->name[0] == '\0') {
        s->phase = SESS_LOBBY;
        return;
    }
    char hello[2 + RPS_NAME_MAX];
    int n = wire_hello(s->name, hello, sizeof(hello));
    if (n > 0) {
        push(s, hello, (size_t)n);
    }
    s->phase = SESS_NAMING;
}

int sess_disconnected(struct sess *s)
{
    int lost = s->pending;
    s->pending = RPS_NONE;
    s->opp_move = RPS_NONE;
    s->outlen = 0;
    s->phase = SESS_OFFLINE;
    s->named = 0;
    return lost;
}

int sess_can_move(const struct sess *s)
{
    if (s->pending != RPS_NONE) {
        return 0;
    }
    return s->phase == SESS_MATCH || (s->phase == SESS_LOBBY && !s->pvp);
}

int sess_move(struct sess *s, int move)
{
    if (!sess_can_move(s) || move < RPS_SCISSORS || move > RPS_PAPER) {
        return -1;
    }
    char b = (char)('0' + move);
    push(s, &b, 1);
    s->pending = move;
    return 0;
}

int sess_queue(struct sess *s)
{
    if (!s->pvp || s->phase != SESS_LOBBY) {
        return -1;
    }
    char b = RPS_OP_PLAY;
    push(s, &b, 1);
    s->phase = SESS_QUEUED;
    return 0;
}

void sess_sent(struct sess *s, size_t n)
{
    if (n >= s->outlen) {
        s->outlen = 0;
        return;
    }
    memmove(s->out, s->out + n, s->outlen - n);
    s->outlen -= n;
}

/* Count a round into the score and describe it. */
static void round_event(struct sess *s, struct sess_event *ev, int you, int opp, int outcome, enum sess_why why)
{
    memset(ev, 0, sizeof(*ev));
    ev->is_round = 1;
    ev->number = ++s->rounds;
    ev->you = you;
    ev->opp = opp;
    ev->outcome = outcome;
    ev->why = why;
    if (outcome == RPS_WIN) {
        s->wins++;
    } else if (outcome == RPS_LOSS) {
        s->losses++;
    } else {
        s->draws++;
    }
}

static void note_event(struct sess_event *ev, enum sess_note note, int code, const char *text)
{
    memset(ev, 0, sizeof(*ev));
    ev->note = note;
    ev->code = code;
    snprintf(ev->text, sizeof(ev->text), "%s", text != NULL ? text : "");
}

/* The move that gives `outcome` against `mine`: a guest is not told the bot's move. */
static int infer_move(int mine, int outcome)
{
    for (int m = RPS_SCISSORS; m <= RPS_PAPER; m++) {
        if (mine != RPS_NONE && rps_outcome(mine, m) == outcome) {
            return m;
        }
    }
    return RPS_NONE;
}

static int on_result(struct sess *s, const struct wire_frame *f, struct sess_event ev[2])
{
    int opp = s->opp_move;
    if (opp == RPS_NONE && !s->named) {
        opp = infer_move(s->pending, f->code);
    }
    round_event(s, &ev[0], s->pending, opp, f->code, SESS_PLAYED);
    s->pending = RPS_NONE;
    s->opp_move = RPS_NONE;
    return 1;
}

static int on_move(struct sess *s, const struct wire_frame *f, struct sess_event ev[2])
{
    (void)ev;
    s->opp_move = f->code;
    return 0;
}

static int on_accepted(struct sess *s, const struct wire_frame *f, struct sess_event ev[2])
{
    s->named = 1;
    s->phase = SESS_LOBBY;
    note_event(&ev[0], SESS_NOTE_NAMED, 0, f->text);
    if (s->pvp) {
        sess_queue(s);
    }
    return 1;
}

static int on_refused(struct sess *s, const struct wire_frame *f, struct sess_event ev[2])
{
    s->phase = SESS_LOBBY;
    note_event(&ev[0], SESS_NOTE_REFUSED, 0, f->text);
    return 1;
}

/* An error answers the last thing we sent; if a move was pending, that move was refused. */
static int on_error(struct sess *s, const struct wire_frame *f, struct sess_event ev[2])
{
    s->pending = RPS_NONE;
    s->opp_move = RPS_NONE;
    note_event(&ev[0], SESS_NOTE_ERROR, 0, f->text);
    return 1;
}

static int on_waiting(struct sess *s, const struct wire_frame *f, struct sess_event ev[2])
{
    (void)f;
    s->phase = SESS_QUEUED;
    note_event(&ev[0], SESS_NOTE_WAITING, 0, NULL);
    return 1;
}

static int on_matched(struct sess *s, const struct wire_frame *f, struct sess_event ev[2])
{
    s->phase = SESS_MATCH;
    s->pending = RPS_NONE;
    s->opp_move = RPS_NONE;
    snprintf(s->opponent, sizeof(s->opponent), "%.*s", RPS_NAME_MAX, f->text);
    note_event(&ev[0], SESS_NOTE_MATCHED, 0, f->text);
    return 1;
}

static int on_queue_timeout(struct sess *s, const struct wire_frame *f, struct sess_event ev[2])
{
    (void)f;
    s->phase = SESS_LOBBY;
    note_event(&ev[0], SESS_NOTE_QUEUE_TIMEOUT, 0, NULL);
    return 1;
}

/* A move that crossed the deadline on the wire counts for the next round on the server, so a
 * pending move survives `T z` and `T v`. */
static int on_round_timeout(struct sess *s, const struct wire_frame *f, struct sess_event ev[2])
{
    s->opp_move = RPS_NONE;
    if (f->code == 'v') {
        note_event(&ev[0], SESS_NOTE_VOID, 0, NULL);
        return 1;
    }
    if (f->code == RPS_LOSS) {
        round_event(s, &ev[0], RPS_NONE, RPS_NONE, RPS_LOSS, SESS_YOU_TIMED_OUT);
        return 1;
    }
    round_event(s, &ev[0], s->pending, RPS_NONE, RPS_WIN, SESS_OPP_TIMED_OUT);
    s->pending = RPS_NONE;
    return 1;
}

static int on_gone(struct sess *s, const struct wire_frame *f, struct sess_event ev[2])
{
    (void)f;
    int n = 0;
    /* The server stores a forfeit only when we had moved in the round. */
    if (s->phase == SESS_MATCH && s->pending != RPS_NONE) {
        round_event(s, &ev[n++], s->pending, RPS_NONE, RPS_WIN, SESS_OPP_LEFT);
    }
    s->pending = RPS_NONE;
    s->opp_move = RPS_NONE;
    s->phase = SESS_LOBBY;
    note_event(&ev[n++], SESS_NOTE_OPP_LEFT, 0, s->opponent);
    return n;
}

static int on_over(struct sess *s, const struct wire_frame *f, struct sess_event ev[2])
{
    s->pending = RPS_NONE;
    s->opp_move = RPS_NONE;
    s->phase = SESS_LOBBY;
    note_event(&ev[0], SESS_NOTE_MATCH_OVER, f->code, s->opponent);
    return 1;
}

static int on_lobby(struct sess *s, const struct wire_frame *f, struct sess_event ev[2])
{
    (void)f;
    s->pending = RPS_NONE;
    s->phase = SESS_LOBBY;
    note_event(&ev[0], SESS_NOTE_LOBBY, 0, NULL);
    return 1;
}

typedef int (*frame_fn)(struct sess *s, const struct wire_frame *f, struct sess_event ev[2]);

static const frame_fn handlers[] = {
    [WIRE_RESULT] = on_result,
    [WIRE_MOVE] = on_move,
    [WIRE_ACCEPTED] = on_accepted,
    [WIRE_REFUSED] = on_refused,
    [WIRE_ERROR] = on_error,
    [WIRE_WAITING] = on_waiting,
    [WIRE_MATCHED] = on_matched,
    [WIRE_QUEUE_TIMEOUT] = on_queue_timeout,
    [WIRE_ROUND_TIMEOUT] = on_round_timeout,
    [WIRE_GONE] = on_gone,
    [WIRE_OVER] = on_over,
    [WIRE_LOBBY] = on_lobby,
};

int sess_frame(struct sess *s, const struct wire_frame *f, struct sess_event ev[2])
{
    if ((size_t)f->kind >= sizeof(handlers) / sizeof(handlers[0]) || handlers[f->kind] == NULL) {
        return 0;
    }
    return handlers[f->kind](s, f, ev);
}
