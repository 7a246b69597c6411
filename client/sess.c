/*
 * sess: one handler per frame kind. Handlers trust the frame more than the
 * phase: a frame that arrives in an odd phase still moves the session where
 * the server says it is, so the client never disagrees with the server for
 * long.
 */
#include "sess.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The reasons of docs/PROTOCOL.md the session acts on. */
#define REASON_NOT_REGISTERED "not registered"
#define REASON_TAKEN_OVER "taken over by another login"

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

void sess_set_secret(struct sess *s, const char *secret)
{
    snprintf(s->secret, sizeof(s->secret), "%.*s", WIRE_SECRET_LEN, secret != NULL ? secret : "");
}

static void push(struct sess *s, const char *p, size_t n)
{
    if (s->outlen + n <= sizeof(s->out)) {
        memcpy(s->out + s->outlen, p, n);
        s->outlen += n;
    }
}

/* R for a name without a secret, I with one. */
static void push_account(struct sess *s)
{
    char frame[WIRE_LOGIN_MAX];
    int n = s->secret[0] != '\0' ? wire_login(s->name, s->secret, frame, sizeof(frame))
                                  : wire_register(s->name, frame, sizeof(frame));
    if (n > 0) {
        push(s, frame, (size_t)n);
    }
}

/* Send the lost move again if it can be played where the session is. Returns it when it cannot be;
 * RPS_NONE when it was sent, or there was none, or this process never knew it. */
static int replay_lost(struct sess *s)
{
    int m = s->lost;
    s->lost = RPS_NONE;
    if (m == RPS_NONE || m == SESS_MOVE_IN || sess_move(s, m) == 0) {
        return RPS_NONE;
    }
    return m;
}

void sess_connected(struct sess *s)
{
    s->outlen = 0;
    s->named = 0;
    s->opp_move = RPS_NONE;
    s->opp_away = 0;
    if (s->name[0] == '\0') {
        s->phase = SESS_LOBBY;
        replay_lost(s);
        return;
    }
    push_account(s);
    s->phase = SESS_NAMING;
}

void sess_disconnected(struct sess *s)
{
    /* A second drop before the lost move was resolved keeps it. */
    if (s->pending != RPS_NONE) {
        s->lost = s->pending;
    }
    if (s->phase == SESS_MATCH) {
        s->away = 1;
    }
    s->pending = RPS_NONE;
    s->opp_move = RPS_NONE;
    s->opp_away = 0;
    s->outlen = 0;
    s->phase = SESS_OFFLINE;
    s->named = 0;
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

int sess_release(struct sess *s)
{
    if (s->name[0] == '\0' || s->phase == SESS_OFFLINE) {
        return -1;
    }
    char b = WIRE_OP_RELEASE;
    push(s, &b, 1);
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

/* Count a round into the score (the match's too, in a match) and describe it. */
static void round_event(struct sess *s, struct sess_event *ev, int you, int opp, int outcome, enum sess_why why)
{
    int in_match = s->phase == SESS_MATCH;
    memset(ev, 0, sizeof(*ev));
    ev->is_round = 1;
    ev->number = ++s->rounds;
    ev->you = you;
    ev->opp = opp;
    ev->outcome = outcome;
    ev->why = why;
    if (outcome == RPS_WIN) {
        s->wins++;
        s->match_wins += in_match;
    } else if (outcome == RPS_LOSS) {
        s->losses++;
        s->match_losses += in_match;
    } else {
        s->draws++;
        s->match_draws += in_match;
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
        if (mine > RPS_NONE && rps_outcome(mine, m) == outcome) {
            return m;
        }
    }
    return RPS_NONE;
}

/* Our move that got `outcome` against `theirs`. */
static int infer_ours(int theirs, int outcome)
{
    for (int m = RPS_SCISSORS; m <= RPS_PAPER; m++) {
        if (theirs > RPS_NONE && rps_outcome(m, theirs) == outcome) {
            return m;
        }
    }
    return RPS_NONE;
}

static int on_result(struct sess *s, const struct wire_frame *f, struct sess_event ev[SESS_EVENTS_MAX])
{
    int you = s->pending, opp = s->opp_move;
    if (opp == RPS_NONE && !s->named) {
        opp = infer_move(you, f->code);
    }
    if (you == SESS_MOVE_IN) {
        you = infer_ours(opp, f->code);
    }
    round_event(s, &ev[0], you, opp, f->code, SESS_PLAYED);
    s->pending = RPS_NONE;
    s->opp_move = RPS_NONE;
    return 1;
}

static int on_move(struct sess *s, const struct wire_frame *f, struct sess_event ev[SESS_EVENTS_MAX])
{
    (void)ev;
    s->opp_move = f->code;
    return 0;
}

/* Lobby or match is for the end of the read to tell (sess_settle). */
static int on_accepted(struct sess *s, const struct wire_frame *f, struct sess_event ev[SESS_EVENTS_MAX])
{
    s->named = 1;
    s->phase = SESS_SEATED;
    note_event(&ev[0], SESS_NOTE_NAMED, 0, f->text);
    return 1;
}

/* A login the server cannot place (the account is gone: a new database, or released) registers
 * the name instead; any other refusal ends the naming. */
static int on_refused(struct sess *s, const struct wire_frame *f, struct sess_event ev[SESS_EVENTS_MAX])
{
    if (s->phase == SESS_NAMING && s->secret[0] != '\0' && strcmp(f->text, REASON_NOT_REGISTERED) == 0) {
        s->secret[0] = '\0';
        push_account(s);
        note_event(&ev[0], SESS_NOTE_FORGOTTEN, 0, f->text);
        return 1;
    }
    s->phase = SESS_LOBBY;
    note_event(&ev[0], SESS_NOTE_REFUSED, 0, f->text);
    return 1;
}

/* An error answers the last thing we sent; if a move was pending, that move was refused. */
static int on_error(struct sess *s, const struct wire_frame *f, struct sess_event ev[SESS_EVENTS_MAX])
{
    s->pending = RPS_NONE;
    s->opp_move = RPS_NONE;
    int taken = strcmp(f->text, REASON_TAKEN_OVER) == 0;
    note_event(&ev[0], taken ? SESS_NOTE_TAKEN_OVER : SESS_NOTE_ERROR, 0, f->text);
    return 1;
}

static int on_waiting(struct sess *s, const struct wire_frame *f, struct sess_event ev[SESS_EVENTS_MAX])
{
    (void)f;
    s->phase = SESS_QUEUED;
    note_event(&ev[0], SESS_NOTE_WAITING, 0, NULL);
    return 1;
}

static int on_matched(struct sess *s, const struct wire_frame *f, struct sess_event ev[SESS_EVENTS_MAX])
{
    s->phase = SESS_MATCH;
    s->pending = RPS_NONE;
    s->opp_move = RPS_NONE;
    s->opp_away = 0;
    s->away = 0;
    s->match_wins = s->match_losses = s->match_draws = 0;
    snprintf(s->opponent, sizeof(s->opponent), "%.*s", RPS_NAME_MAX, f->text);
    note_event(&ev[0], SESS_NOTE_MATCHED, 0, f->text);
    return 1;
}

static int on_queue_timeout(struct sess *s, const struct wire_frame *f, struct sess_event ev[SESS_EVENTS_MAX])
{
    (void)f;
    s->phase = SESS_LOBBY;
    note_event(&ev[0], SESS_NOTE_QUEUE_TIMEOUT, 0, NULL);
    return 1;
}

/* A move that crossed the deadline on the wire counts for the next round on the server, so a
 * pending move survives `T z` and `T v`. */
static int on_round_timeout(struct sess *s, const struct wire_frame *f, struct sess_event ev[SESS_EVENTS_MAX])
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
    s->forfeit = 1;     /* told with the next frame: see sess_frame */
    return 0;
}

/* A round won by forfeit (`T y`) is told with the frame after it, which says why: `G`, the opponent
 * left; anything else, or the end of the read, the opponent's time ran out. */
static int tell_forfeit(struct sess *s, enum sess_why why, struct sess_event *ev)
{
    if (!s->forfeit) {
        return 0;
    }
    s->forfeit = 0;
    round_event(s, ev, s->pending, RPS_NONE, RPS_WIN, why);
    s->pending = RPS_NONE;
    return 1;
}

/* Back in the lobby: the match is over. */
static void leave_match(struct sess *s)
{
    s->pending = RPS_NONE;
    s->opp_move = RPS_NONE;
    s->opp_away = 0;
    s->phase = SESS_LOBBY;
}

static int on_gone(struct sess *s, const struct wire_frame *f, struct sess_event ev[SESS_EVENTS_MAX])
{
    (void)f;
    /* A forfeit stored for us came as `T y` just before. A move still pending was not in the round:
     * it reaches the server in the lobby, is played against the bot, and its result is to come. */
    int move = s->pending;
    leave_match(s);
    s->pending = move;
    note_event(&ev[0], SESS_NOTE_OPP_LEFT, 0, s->opponent);
    return 1;
}

static int on_over(struct sess *s, const struct wire_frame *f, struct sess_event ev[SESS_EVENTS_MAX])
{
    leave_match(s);
    note_event(&ev[0], SESS_NOTE_MATCH_OVER, f->code, s->opponent);
    return 1;
}

static int on_lobby(struct sess *s, const struct wire_frame *f, struct sess_event ev[SESS_EVENTS_MAX])
{
    (void)f;
    leave_match(s);
    note_event(&ev[0], SESS_NOTE_LOBBY, 0, NULL);
    return 1;
}

static int on_secret(struct sess *s, const struct wire_frame *f, struct sess_event ev[SESS_EVENTS_MAX])
{
    sess_set_secret(s, f->text);
    note_event(&ev[0], SESS_NOTE_SECRET, 0, f->text);
    return 1;
}

/* The rounds of this match the snapshot counts and we do not: decided while we were away, the
 * first of them with the move that was in when the connection dropped. Returns how many were
 * reported (at most cap; the protocol allows one, since a held seat ends with its move window). */
static int away_rounds(struct sess *s, const struct wire_snapshot *j, struct sess_event *ev, int cap)
{
    int n = 0;
    while (n < cap) {
        int outcome = j->wins > s->match_wins ? RPS_WIN
                    : j->losses > s->match_losses ? RPS_LOSS
                    : j->draws > s->match_draws ? RPS_DRAW
                    : 0;
        if (outcome == 0) {
            break;
        }
        round_event(s, &ev[n++], s->lost, RPS_NONE, outcome, SESS_WHILE_AWAY);
        s->lost = RPS_NONE;
    }
    return n;
}

/* Back in a match after a drop (or, for a new process, in the match a dropped one left). The
 * lost move was played if the score moved, is in if the snapshot says so (a new process never
 * knew it: SESS_MOVE_IN), else goes again. */
static int on_rejoined(struct sess *s, const struct wire_frame *f, struct sess_event ev[SESS_EVENTS_MAX])
{
    const struct wire_snapshot *j = &f->snap;
    int ours = s->away && strcasecmp(s->opponent, j->opponent) == 0;
    int n = 0;

    s->phase = SESS_MATCH;
    s->opp_move = RPS_NONE;
    s->opp_away = 0;
    s->away = 0;
    snprintf(s->opponent, sizeof(s->opponent), "%s", j->opponent);
    note_event(&ev[n++], SESS_NOTE_REJOINED, 0, j->opponent);
    ev[0].snap = *j;
    if (ours) {
        n += away_rounds(s, j, ev + n, SESS_EVENTS_MAX - n);
    }
    s->match_wins = j->wins;
    s->match_losses = j->losses;
    s->match_draws = j->draws;
    if (j->moved) {
        s->pending = s->lost != RPS_NONE ? s->lost : SESS_MOVE_IN;
        s->lost = RPS_NONE;
    } else {
        replay_lost(s);
    }
    return n;
}

static int on_dropped(struct sess *s, const struct wire_frame *f, struct sess_event ev[SESS_EVENTS_MAX])
{
    s->opp_away = 1;
    note_event(&ev[0], SESS_NOTE_OPP_DROPPED, f->code, s->opponent);
    return 1;
}

static int on_back(struct sess *s, const struct wire_frame *f, struct sess_event ev[SESS_EVENTS_MAX])
{
    (void)f;
    s->opp_away = 0;
    note_event(&ev[0], SESS_NOTE_OPP_BACK, 0, s->opponent);
    return 1;
}

static int on_released(struct sess *s, const struct wire_frame *f, struct sess_event ev[SESS_EVENTS_MAX])
{
    (void)f;
    s->secret[0] = '\0';
    note_event(&ev[0], SESS_NOTE_RELEASED, 0, s->name);
    return 1;
}

typedef int (*frame_fn)(struct sess *s, const struct wire_frame *f, struct sess_event ev[SESS_EVENTS_MAX]);

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
    [WIRE_SECRET] = on_secret,
    [WIRE_REJOINED] = on_rejoined,
    [WIRE_DROPPED] = on_dropped,
    [WIRE_BACK] = on_back,
    [WIRE_RELEASED] = on_released,
};

int sess_frame(struct sess *s, const struct wire_frame *f, struct sess_event ev[SESS_EVENTS_MAX])
{
    int n = tell_forfeit(s, f->kind == WIRE_GONE ? SESS_OPP_LEFT : SESS_OPP_TIMED_OUT, ev);
    if ((size_t)f->kind >= sizeof(handlers) / sizeof(handlers[0]) || handlers[f->kind] == NULL) {
        return n;
    }
    return n + handlers[f->kind](s, f, ev + n);
}

int sess_settle(struct sess *s, struct sess_event ev[SESS_EVENTS_MAX])
{
    int n = tell_forfeit(s, SESS_OPP_TIMED_OUT, ev);
    if (s->phase != SESS_SEATED) {
        return n;
    }
    s->phase = SESS_LOBBY;
    if (s->away) {
        s->away = 0;
        note_event(&ev[n++], SESS_NOTE_AWAY_OVER, 0, s->opponent);
    }
    if (s->pvp) {
        sess_queue(s);
    }
    int unplayed = replay_lost(s);
    if (unplayed != RPS_NONE) {
        note_event(&ev[n++], SESS_NOTE_UNPLAYED, unplayed, NULL);
    }
    return n;
}
