/*
 * play: what each frame of a long connection does to the session it carries,
 * in the lobby (against the bot), in the queue and in a match. The rules live
 * in games/rps, matches in match, names and secrets in account.
 *
 * A connection starts with a guest session. A hello, a registration or a login
 * moves it to the session of that name: a new one, or (a login) the account's
 * live one, which takes it over from an older connection or gets its seat back.
 */
#include "play.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "cluster.h"
#include "conn.h"
#include "game.h"
#include "log.h"
#include "match.h"
#include "session.h"

/* Frames one connection may have acted on in one turn (an iteration of the loop). */
#define PLAY_TURN 256
/* Frames about accounts (hellos, registrations, logins, new secrets) all connections together may
 * have acted on in one iteration: each may look a name up, hash a secret or write a row in a
 * transaction of its own (about 30 us), so a crowd of newcomers (make bench's hold says hello
 * 19,000 times at once) is let in over several iterations instead of holding the loop. */
#define ACCOUNT_TURN 32

static int about_accounts(enum rps_frame_type type)
{
    return type == RPS_FRAME_HELLO || type == RPS_FRAME_REGISTER || type == RPS_FRAME_LOGIN ||
           type == RPS_FRAME_ROTATE || type == RPS_FRAME_RELEASE;
}

/* May one more frame about accounts be acted on in this iteration? Counts it if so. */
static int account_turn(struct conn *c, struct game *g)
{
    if (g->accounts_turn != c->pool->turn) {
        g->accounts_turn = c->pool->turn;
        g->accounts_used = 0;
    }
    if (g->accounts_used == ACCOUNT_TURN) {
        return 0;
    }
    g->accounts_used++;
    return 1;
}

static size_t input(struct conn *c, const char *buf, size_t len, int more, int eof);
static void gone(struct conn *c);
static void drop_call(struct session *s);

static const struct conn_ops play_ops = { "long", input, gone };

/* A name granted by an account call, being claimed across nodes before its session is made. */
struct play_claim {
    struct cluster_claim k;
    struct store_account acct;
    int proven;
};

void play_attach(struct game *g, struct conn *c)
{
    struct session *s = session_new(g);
    if (s == NULL) {
        conn_close(c, "out of memory");
        return;
    }
    conn_set_kind(c, &play_ops, NULL, g->long_idle, 1);
    session_attach(s, c);
}

void play_attach_session(struct game *g, struct conn *c, struct session *s)
{
    conn_set_kind(c, &play_ops, NULL, g->long_idle, 1);
    session_attach(s, c);
}

static void take_over(struct session *guest, struct session *s);

void play_take_over(struct game *g, struct conn *c, struct session *s)
{
    play_attach(g, c);
    if (c->owner != NULL) {
        take_over(c->owner, s);
    }
}

int play_give_up(struct session *s)
{
    if (s->place == SESSION_MATCH) {
        return -1;
    }
    drop_call(s);
    if (s->place == SESSION_QUEUED) {
        match_unqueue(s);
    }
    if (s->conn != NULL) {
        struct conn *old = s->conn;
        log_info("account: %s taken over by a login on another node", s->name);
        session_send_text(s, RPS_OP_ERROR, "taken over by another login", SESSION_NOW);
        session_detach(s);
        conn_drain(old, "taken over");
    }
    s->moved = 1;
    session_release(s);
    return 0;
}

static void bot_round(struct session *s, int move)
{
    struct game *g = s->game;
    int bot = rps_bot_move(&g->bot);
    int result = rps_outcome(move, bot);

    if (batch_bot(&g->batch, &s->player, result) < 0) {
        conn_close(s->conn, "out of memory");
        return;
    }
    session_send_result(s, bot, result);
}

static void on_move(struct session *s, const struct rps_frame *f)
{
    switch (s->place) {
    case SESSION_LOBBY:
        bot_round(s, f->move);
        break;
    case SESSION_QUEUED:
        session_send_text(s, RPS_OP_ERROR, "waiting for an opponent", SESSION_NOW);
        break;
    case SESSION_MATCH:
        match_move(s, f->move);
        break;
    }
}

/* Carry on c as the named session s from now on; c's guest session is done. */
static void become(struct session *guest, struct session *s)
{
    struct conn *c = guest->conn;
    log_debug("conn %llu: plays as %s (%s)", (unsigned long long)c->id, s->name,
              s->proven ? "proved its secret" : "unclaimed name");
    session_detach(guest);
    session_release(guest);     /* its rounds so far stay the guest's */
    session_attach(s, c);
    session_send_text(s, RPS_OP_ACCEPTED, s->name, SESSION_NOW);
}

/* A new session for a player nobody plays as now, carried on the guest's connection. */
static void become_new(struct session *guest, const struct store_account *acct, int proven)
{
    struct session *s = session_new_named(guest->game, acct->id, acct->name, proven);
    if (s == NULL) {
        session_send_text(guest, RPS_OP_REFUSED, "server busy", SESSION_NOW);
        return;
    }
    become(guest, s);
}

static int refuse_named(struct session *s)
{
    if (s->named) {
        session_send_text(s, RPS_OP_REFUSED, "already named", SESSION_NOW);
        return 1;
    }
    return 0;
}

static void forget_call(struct account_call *call)
{
    sodium_memzero(call, sizeof(*call));
    free(call);
}

/* The connection left (or was taken over) while its account frame waited for the database, or
 * its name for the other nodes. */
static void drop_call(struct session *s)
{
    if (s->call != NULL) {
        account_cancel(s->call);
        forget_call(s->call);
        s->call = NULL;
    }
    if (s->claim != NULL) {
        cluster_claim_cancel(&s->claim->k);
        free(s->claim);
        s->claim = NULL;
    }
}

static void take_over(struct session *guest, struct session *s);

/* The other nodes' answer about the name: the session is made here, or the name is refused, or
 * the connection relays to the node that has the session now. */
static void claimed(struct cluster_claim *k)
{
    struct play_claim *pc = (struct play_claim *)k;
    struct session *s = k->owner;
    struct conn *c = s->conn;
    struct session *live;

    s->claim = NULL;
    switch (k->answer) {
    case CLUSTER_HELD:
        /* Another connection here may have been given the name meanwhile. */
        if ((live = session_find(s->game, pc->acct.name)) == NULL) {
            become_new(s, &pc->acct, pc->proven);
        } else if (pc->proven) {
            take_over(s, live);
        } else {
            session_send_text(s, RPS_OP_REFUSED, "name in use", SESSION_NOW);
        }
        break;
    case CLUSTER_IN_USE:
        session_send_text(s, RPS_OP_REFUSED, "name in use", SESSION_NOW);
        break;
    case CLUSTER_FAILED:
        session_send_text(s, RPS_OP_REFUSED, "games unavailable", SESSION_NOW);
        break;
    case CLUSTER_MOVED:
        session_detach(s);
        session_release(s);
        c = NULL;   /* the cluster's now */
        break;
    }
    free(pc);
    if (c != NULL && c->state == CONN_OPEN) {
        conn_resume(c);
    }
}

/* A name nobody here plays as: with other nodes, claimed first (the input waits); alone, made now. */
static void become_claimed(struct session *guest, const struct store_account *acct, int proven)
{
    struct cluster *cl = guest->game->cluster;
    if (cl == NULL) {
        become_new(guest, acct, proven);
        return;
    }
    struct play_claim *pc = calloc(1, sizeof(*pc));
    if (pc == NULL) {
        session_send_text(guest, RPS_OP_REFUSED, "server busy", SESSION_NOW);
        return;
    }
    pc->acct = *acct;
    pc->proven = proven;
    pc->k.done = claimed;
    pc->k.owner = guest;
    pc->k.id = acct->id;
    if (cluster_claim(cl, &pc->k, guest->conn, acct->name, proven) < 0) {
        free(pc);
        session_send_text(guest, RPS_OP_REFUSED, "games unavailable", SESSION_NOW);
        return;
    }
    guest->claim = pc;
}

/* The owner is back: on a new connection while the old one lives on (take-over), or while its
 * seat is held. */
static void take_over(struct session *guest, struct session *s)
{
    struct conn *old = s->conn;
    int place = s->place;

    drop_call(s);       /* the old connection's account frame is not answered */
    if (old != NULL) {
        log_info("account: %s taken over by a new login", s->name);
        session_send_text(s, RPS_OP_ERROR, "taken over by another login", SESSION_NOW);
        session_detach(s);
        conn_drain(old, "taken over");
    }
    s->proven = 1;
    become(guest, s);
    if (place == SESSION_MATCH) {
        match_rejoin(s);
    } else if (place == SESSION_QUEUED) {
        session_send_op(s, RPS_OP_WAITING, SESSION_NOW);
    }
}

/* What each account frame does with its answer. The session is the one that sent the frame, still
 * on its connection: a connection that leaves cancels its call. */
static void hello_answered(struct session *s, struct account_call *call)
{
    if (call->ok < 0) {
        session_send_text(s, RPS_OP_REFUSED, call->reason, SESSION_NOW);
    } else if (session_find(s->game, call->acct.name) != NULL) {
        /* No proof of who is the owner: whoever is on the name keeps it. */
        session_send_text(s, RPS_OP_REFUSED, "name in use", SESSION_NOW);
    } else {
        become_claimed(s, &call->acct, 0);
    }
}

static void register_answered(struct session *s, struct account_call *call)
{
    struct session *live;

    if (call->ok < 0) {
        session_send_text(s, RPS_OP_REFUSED, call->reason, SESSION_NOW);
    } else if ((live = session_find(s->game, call->acct.name)) != NULL) {
        /* Someone said hello to the name while it was being registered: the owner takes it over. */
        session_send_text(s, RPS_OP_SECRET, call->secret, SESSION_NOW);
        take_over(s, live);
    } else {
        session_send_text(s, RPS_OP_SECRET, call->secret, SESSION_NOW);
        become_claimed(s, &call->acct, 1);
    }
}

static void login_answered(struct session *s, struct account_call *call)
{
    if (call->ok < 0) {
        session_send_text(s, RPS_OP_REFUSED, call->reason, SESSION_NOW);
        return;
    }
    struct session *live = session_find(s->game, call->acct.name);
    if (live != NULL) {
        take_over(s, live);
    } else {
        become_claimed(s, &call->acct, 1);
    }
}

static void rotate_answered(struct session *s, struct account_call *call)
{
    if (call->ok < 0) {
        session_send_text(s, RPS_OP_ERROR, call->reason, SESSION_NOW);
    } else {
        log_info("account: %s has a new secret", s->name);
        session_send_text(s, RPS_OP_SECRET, call->secret, SESSION_NOW);
    }
}

static void release_answered(struct session *s, struct account_call *call)
{
    if (call->ok < 0) {
        session_send_text(s, RPS_OP_ERROR, call->reason, SESSION_NOW);
    } else {
        log_info("account: %s released", s->name);
        s->proven = 0;
        session_send_op(s, RPS_OP_RELEASED, SESSION_NOW);
    }
}

static void (*const answers[])(struct session *, struct account_call *) = {
    [ACCOUNT_HELLO] = hello_answered,
    [ACCOUNT_REGISTER] = register_answered,
    [ACCOUNT_LOGIN] = login_answered,
    [ACCOUNT_ROTATE] = rotate_answered,
    [ACCOUNT_RELEASE] = release_answered,
};

/* A call's answer: acted on, then the connection reads on. */
static void account_answered(struct account_call *call)
{
    struct session *s = call->owner;
    struct conn *c = s->conn;

    s->call = NULL;
    answers[call->op](s, call);
    forget_call(call);
    if (c != NULL && c->state == CONN_OPEN && s->claim == NULL) {
        conn_resume(c);     /* the frames after this one: at its next turn */
    }
}

/* Ask the account service; the session's input waits for the answer. */
static void ask_account(struct session *s, enum account_op op, const struct rps_frame *f)
{
    struct account_call *call = calloc(1, sizeof(*call));
    if (call == NULL) {
        session_send_text(s, RPS_OP_REFUSED, "server busy", SESSION_NOW);
        return;
    }
    call->op = op;
    call->peer = s->conn->peer;
    snprintf(call->name, sizeof(call->name), "%s", f->name);
    call->id = s->player.id;
    call->done = account_answered;
    call->owner = s;
    int state = account_start(s->game, call, f->secret, op == ACCOUNT_LOGIN ? f->secret_len : 0);
    if (state == DB_PENDING) {
        s->call = call;
        return;
    }
    answers[op](s, call);
    forget_call(call);
}

static void on_hello(struct session *s, const struct rps_frame *f)
{
    if (!refuse_named(s)) {
        ask_account(s, ACCOUNT_HELLO, f);
    }
}

static void on_register(struct session *s, const struct rps_frame *f)
{
    if (refuse_named(s)) {
        return;
    }
    struct session *live = session_find(s->game, f->name);
    if (live != NULL) {
        session_send_text(s, RPS_OP_REFUSED, live->proven ? "name taken" : "name in use", SESSION_NOW);
        return;
    }
    ask_account(s, ACCOUNT_REGISTER, f);
}

static void on_login(struct session *s, const struct rps_frame *f)
{
    if (!refuse_named(s)) {
        ask_account(s, ACCOUNT_LOGIN, f);
    }
}

static void on_rotate(struct session *s, const struct rps_frame *f)
{
    if (!s->proven) {
        session_send_text(s, RPS_OP_ERROR, "log in first", SESSION_NOW);
    } else {
        ask_account(s, ACCOUNT_ROTATE, f);
    }
}

static void on_release(struct session *s, const struct rps_frame *f)
{
    if (!s->proven) {
        session_send_text(s, RPS_OP_ERROR, "log in first", SESSION_NOW);
    } else {
        ask_account(s, ACCOUNT_RELEASE, f);
    }
}

static void on_play(struct session *s, const struct rps_frame *f)
{
    (void)f;
    if (!s->named) {
        session_send_text(s, RPS_OP_ERROR, "hello first", SESSION_NOW);
    } else if (s->place == SESSION_QUEUED) {
        session_send_text(s, RPS_OP_ERROR, "already queued", SESSION_NOW);
    } else if (s->place == SESSION_MATCH) {
        session_send_text(s, RPS_OP_ERROR, "in a match", SESSION_NOW);
    } else {
        match_queue(s);
    }
}

static void on_leave(struct session *s, const struct rps_frame *f)
{
    (void)f;
    if (s->place == SESSION_QUEUED) {
        match_unqueue(s);
    } else if (s->place == SESSION_MATCH) {
        match_leave(s);
    }
    session_send_op(s, RPS_OP_LOBBY, SESSION_NOW);
}

static void on_bad(struct session *s, const struct rps_frame *f)
{
    static const char *const reasons[] = {
        [RPS_FRAME_BAD] = "bad frame",
        [RPS_FRAME_BAD_LENGTH] = "bad length",
        [RPS_FRAME_BAD_NAME] = "bad name",
    };
    session_send_text(s, f->type == RPS_FRAME_BAD ? RPS_OP_ERROR : RPS_OP_REFUSED, reasons[f->type], SESSION_NOW);
}

static void (*const handlers[])(struct session *, const struct rps_frame *) = {
    [RPS_FRAME_SPACE] = NULL,
    [RPS_FRAME_MOVE] = on_move,
    [RPS_FRAME_HELLO] = on_hello,
    [RPS_FRAME_PLAY] = on_play,
    [RPS_FRAME_LEAVE] = on_leave,
    [RPS_FRAME_REGISTER] = on_register,
    [RPS_FRAME_LOGIN] = on_login,
    [RPS_FRAME_ROTATE] = on_rotate,
    [RPS_FRAME_RELEASE] = on_release,
    [RPS_FRAME_BAD] = on_bad,
    [RPS_FRAME_BAD_LENGTH] = on_bad,
    [RPS_FRAME_BAD_NAME] = on_bad,
};

static size_t input(struct conn *c, const char *buf, size_t len, int more, int eof)
{
    size_t pos = 0;
    struct rps_frame f;
    (void)more;
    (void)eof;

    /* The session may change with each frame (a login), and the connection may close. */
    for (unsigned frames = 0; pos < len && c->state == CONN_OPEN && c->owner != NULL; frames++) {
        if (((struct session *)c->owner)->call != NULL || ((struct session *)c->owner)->claim != NULL) {
            break;
        }
        size_t n = rps_decode(buf + pos, len - pos, &f);
        if (n == 0) {
            break;
        }
        /* One connection's share of an iteration, and no more answers than the client reads. */
        if (frames == PLAY_TURN || conn_congested(c) ||
            (about_accounts(f.type) && !account_turn(c, ((struct session *)c->owner)->game))) {
            conn_yield(c);
            break;
        }
        pos += n;
        if (handlers[f.type] != NULL) {
            conn_progress(c);
            handlers[f.type](c->owner, &f);
        }
    }
    if (c->state == CONN_OPEN && c->owner != NULL &&
        (((struct session *)c->owner)->call != NULL || ((struct session *)c->owner)->claim != NULL)) {
        conn_wait(c);   /* until the account frame is answered: what follows it, an end of input too */
    }
    return c->state == CONN_OPEN && c->owner != NULL ? pos : len;
}

/* The connection is gone: a proven player in a match keeps its seat for now; anyone else leaves. */
static void gone(struct conn *c)
{
    struct session *s = c->owner;
    if (s == NULL) {
        return;
    }
    drop_call(s);
    session_detach(s);
    if (s->place == SESSION_MATCH) {
        match_drop(s);
    } else if (s->place == SESSION_QUEUED) {
        match_unqueue(s);
    }
    session_release(s);
}

void play_shutdown(struct game *g)
{
    for (struct session *s = g->sessions; s != NULL; s = s->next) {
        if (s->place == SESSION_MATCH) {
            match_abort(s);
        } else if (s->place == SESSION_QUEUED) {
            match_unqueue(s);
        }
        session_send_text(s, RPS_OP_ERROR, "server shutting down", SESSION_NOW);
    }
}
