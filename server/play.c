/*
 * play: what each frame of a long connection does, in the lobby (against the
 * bot), in the queue and in a match. The rules themselves live in games/rps.
 */
#include "play.h"

#include <string.h>

#include "conn.h"
#include "log.h"
#include "match.h"
#include "server.h"
#include "store.h"

void play_send_text(struct conn *c, int op, const char *text)
{
    char frame[2 + 255];
    conn_write(c, frame, rps_frame_text(frame, op, text));
}

void play_send_op(struct conn *c, int op)
{
    char b = (char)op;
    conn_write(c, &b, 1);
}

void play_send_code(struct conn *c, int op, int code, int held)
{
    char frame[2] = { (char)op, (char)code };
    uint32_t off = c->out.len;
    if (conn_write(c, frame, sizeof(frame)) == 0 && held) {
        conn_hold(c, off, sizeof(frame), 0);
    }
}

void play_send_result(struct conn *c, int their_move, int result)
{
    char frame[3] = { RPS_OP_MOVE, (char)('0' + their_move), (char)result };
    uint32_t off = c->out.len;
    const char *p = c->named ? frame : frame + 2;
    size_t n = c->named ? 3 : 1;
    if (conn_write(c, p, n) == 0) {
        conn_hold(c, off, (uint32_t)n, 0);
    }
}

static void bot_round(struct conn *c, int move)
{
    struct server *srv = c->srv;
    int bot = rps_bot_move(&srv->bot);
    int result = rps_outcome(move, bot);

    if (batch_bot(&srv->batch, c, result) < 0) {
        conn_close(c, "out of memory");
        return;
    }
    play_send_result(c, bot, result);
}

static void on_move(struct conn *c, const struct rps_frame *f)
{
    switch (c->state) {
    case CONN_LOBBY:
        bot_round(c, f->move);
        break;
    case CONN_QUEUED:
        play_send_text(c, RPS_OP_ERROR, "waiting for an opponent");
        break;
    case CONN_MATCH:
        match_move(c, f->move);
        break;
    default:
        break;
    }
}

static void on_hello(struct conn *c, const struct rps_frame *f)
{
    char err[256];

    if (c->named) {
        play_send_text(c, RPS_OP_REFUSED, "already named");
        return;
    }
    int64_t id = store_player(c->srv->store, f->name, err, sizeof(err));
    if (id < 0) {
        log_error("conn %llu: could not register player %s: %s", (unsigned long long)c->id, f->name, err);
        play_send_text(c, RPS_OP_REFUSED, "games unavailable");
        return;
    }
    c->named = 1;
    c->batch_slot = -1;     /* rounds already counted as a guest stay the guest's */
    c->player = id;
    strcpy(c->name, f->name);
    play_send_text(c, RPS_OP_ACCEPTED, f->name);
}

static void on_play(struct conn *c, const struct rps_frame *f)
{
    (void)f;
    if (!c->named) {
        play_send_text(c, RPS_OP_ERROR, "hello first");
    } else if (c->state == CONN_QUEUED) {
        play_send_text(c, RPS_OP_ERROR, "already queued");
    } else if (c->state == CONN_MATCH) {
        play_send_text(c, RPS_OP_ERROR, "in a match");
    } else {
        match_queue(c);
    }
}

static void on_leave(struct conn *c, const struct rps_frame *f)
{
    (void)f;
    play_leave(c);
    play_send_op(c, RPS_OP_LOBBY);
}

static void on_bad(struct conn *c, const struct rps_frame *f)
{
    static const char *const reasons[] = {
        [RPS_FRAME_BAD] = "bad frame",
        [RPS_FRAME_BAD_LENGTH] = "bad length",
        [RPS_FRAME_BAD_NAME] = "bad name",
    };
    play_send_text(c, f->type == RPS_FRAME_BAD ? RPS_OP_ERROR : RPS_OP_REFUSED, reasons[f->type]);
}

static void (*const handlers[])(struct conn *, const struct rps_frame *) = {
    [RPS_FRAME_SPACE] = NULL,
    [RPS_FRAME_MOVE] = on_move,
    [RPS_FRAME_HELLO] = on_hello,
    [RPS_FRAME_PLAY] = on_play,
    [RPS_FRAME_LEAVE] = on_leave,
    [RPS_FRAME_BAD] = on_bad,
    [RPS_FRAME_BAD_LENGTH] = on_bad,
    [RPS_FRAME_BAD_NAME] = on_bad,
};

size_t play_input(struct conn *c, const char *buf, size_t len)
{
    size_t pos = 0;
    struct rps_frame f;

    while (pos < len && conn_is_long(c)) {
        size_t n = rps_decode(buf + pos, len - pos, &f);
        if (n == 0) {
            break;
        }
        pos += n;
        if (handlers[f.type] != NULL) {
            handlers[f.type](c, &f);
        }
    }
    return conn_is_long(c) ? pos : len;
}

void play_leave(struct conn *c)
{
    if (c->state == CONN_QUEUED) {
        match_unqueue(c);
    } else if (c->state == CONN_MATCH) {
        match_leave(c);
    }
}
