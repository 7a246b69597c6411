/*
 * conn: the life of one TCP connection.
 *
 *   read()  -> conn->in (only the unfinished tail is kept between reads)
 *           -> short_input (request lines) or play_input (frames)
 *           -> replies appended to conn->out, results held for the commit
 *   flush   -> batch_commit, then write() what is no longer held
 *
 * Sockets are written only from the flush (once per iteration), or from the
 * write watcher while the socket is full. A connection is never freed while it
 * is being handled: conn_close marks it CLOSED and the flush frees it.
 */
#include "conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "play.h"
#include "server.h"
#include "short.h"

/* A connection holds at most this much unfinished input: one request line and its terminator, or one hello frame. */
#define CONN_IN_MAX 1040
/* Bytes read per readable event: bounds the work one greedy client gets per iteration. */
#define CONN_READ_MAX 16384
/* Past this much unread output we stop reading from the client until it reads. */
#define CONN_OUT_PAUSE (64 * 1024)
/* Hard cap on queued output; passing it drops the connection. */
#define CONN_OUT_MAX (256 * 1024)

static const char *const state_names[] = {
    [CONN_NEW] = "new", [CONN_SHORT] = "short", [CONN_LOBBY] = "lobby", [CONN_QUEUED] = "queued",
    [CONN_MATCH] = "match", [CONN_DRAINING] = "draining", [CONN_CLOSED] = "closed",
};

static void read_cb(struct ev_loop *loop, ev_io *w, int revents);
static void write_cb(struct ev_loop *loop, ev_io *w, int revents);
static void idle_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void resume_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void update_reading(struct conn *c);

int conn_is_long(const struct conn *c)
{
    return c->state == CONN_LOBBY || c->state == CONN_QUEUED || c->state == CONN_MATCH;
}

static double idle_timeout(const struct conn *c)
{
    return conn_is_long(c) ? c->srv->cfg.long_idle_timeout : c->srv->cfg.idle_timeout;
}

struct conn *conn_new(struct server *srv, int fd)
{
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(fd);
        return NULL;
    }
    c->fd = fd;
    c->srv = srv;
    c->id = ++srv->next_id;
    c->state = CONN_NEW;
    c->out_held = CONN_HELD_NONE;
    c->batch_slot = -1;
    c->last_active = ev_now(srv->loop);
    ev_io_init(&c->read_w, read_cb, fd, EV_READ);
    ev_io_init(&c->write_w, write_cb, fd, EV_WRITE);
    ev_init(&c->idle_w, idle_cb);
    ev_init(&c->resume_w, resume_cb);
    c->idle_w.repeat = srv->cfg.idle_timeout;
    ev_io_start(srv->loop, &c->read_w);
    ev_timer_again(srv->loop, &c->idle_w);

    c->next = srv->conns;
    if (srv->conns != NULL) {
        srv->conns->prev = c;
    }
    srv->conns = c;
    srv->nconns++;
    if (srv->nconns > srv->nconns_peak) {
        srv->nconns_peak = srv->nconns;
    }
    log_debug("conn %llu: open (fd %d, %u open)", (unsigned long long)c->id, fd, srv->nconns);
    return c;
}

void conn_set_state(struct conn *c, enum conn_state state)
{
    if (c->state == state) {
        return;
    }
    /* Nothing leaves CLOSED; DRAINING only ends in CLOSED. */
    if (c->state == CONN_CLOSED || (c->state == CONN_DRAINING && state != CONN_CLOSED)) {
        return;
    }
    log_debug("conn %llu: %s -> %s", (unsigned long long)c->id, state_names[c->state], state_names[state]);
    c->state = state;
}

void conn_mark_dirty(struct conn *c)
{
    if (!c->dirty) {
        c->dirty = 1;
        c->dirty_next = c->srv->dirty;
        c->srv->dirty = c;
    }
}

char *conn_reserve(struct conn *c, size_t n)
{
    if (c->state == CONN_CLOSED) {
        return NULL;
    }
    char *p = buf_reserve(&c->out, n, CONN_OUT_MAX);
    if (p == NULL) {
        conn_close(c, "output limit passed (client not reading)");
    }
    return p;
}

void conn_wrote(struct conn *c, size_t n)
{
    c->out.len += (uint32_t)n;
    conn_mark_dirty(c);
}

int conn_write(struct conn *c, const void *p, size_t n)
{
    char *dst = conn_reserve(c, n);
    if (dst == NULL) {
        return -1;
    }
    memcpy(dst, p, n);
    conn_wrote(c, n);
    return 0;
}

void conn_hold(struct conn *c, uint32_t off, uint32_t len, int keep)
{
    if (c->out_held == CONN_HELD_NONE) {
        c->out_held = off;
    }
    if (batch_hold(&c->srv->batch, c, off, len, keep) < 0) {
        conn_close(c, "out of memory");
    }
}

void conn_drain(struct conn *c, const char *reason)
{
    if (c->state == CONN_CLOSED || c->state == CONN_DRAINING) {
        return;
    }
    c->close_reason = reason;
    conn_set_state(c, CONN_DRAINING);
    update_reading(c);
    conn_mark_dirty(c);
}

void conn_close(struct conn *c, const char *reason)
{
    if (c->state == CONN_CLOSED) {
        return;
    }
    if (conn_is_long(c)) {
        play_leave(c);
    }
    if (c->close_reason == NULL) {
        c->close_reason = reason;
    }
    conn_set_state(c, CONN_CLOSED);
    struct ev_loop *loop = c->srv->loop;
    ev_io_stop(loop, &c->read_w);
    ev_io_stop(loop, &c->write_w);
    ev_timer_stop(loop, &c->idle_w);
    ev_timer_stop(loop, &c->queue_w);
    ev_timer_stop(loop, &c->resume_w);
    close(c->fd);
    c->fd = -1;
    conn_mark_dirty(c);
}

void conn_free(struct conn *c)
{
    struct server *srv = c->srv;
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        srv->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    srv->nconns--;
    log_debug("conn %llu: closed (%s, %u open)", (unsigned long long)c->id,
              c->close_reason ? c->close_reason : "done", srv->nconns);
    buf_free(&c->out);
    free(c->in);
    free(c);
}

/* Read while the client takes its answers and has frame budget left. */
static void update_reading(struct conn *c)
{
    int want = !c->read_paused && !c->throttled && c->state != CONN_DRAINING && c->state != CONN_CLOSED;
    if (want && !ev_is_active(&c->read_w)) {
        ev_io_start(c->srv->loop, &c->read_w);
    } else if (!want && ev_is_active(&c->read_w)) {
        ev_io_stop(c->srv->loop, &c->read_w);
    }
}

static void pause_reading(struct conn *c, int pause)
{
    c->read_paused = pause != 0;
    update_reading(c);
}

static void resume_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct conn *c = (struct conn *)((char *)w - offsetof(struct conn, resume_w));
    (void)loop;
    (void)revents;
    c->throttled = 0;
    update_reading(c);
}

/* How many bytes to read now, or 0 when the frame budget is spent (reading
 * resumes by itself once it refills). */
static size_t read_allowance(struct conn *c, ev_tstamp now)
{
    /* Moves are stored, so a flood of them is a flood of writes: long
     * connections have a budget. Request lines cost no storage; the per-read
     * cap alone keeps one pipelining client from starving the others. */
    double rate = c->srv->cfg.frame_rate;
    if (rate <= 0 || c->state == CONN_SHORT) {
        return CONN_READ_MAX;
    }
    double tokens = limit_refill(&c->budget, rate, rate, now);
    if (tokens < 1) {
        c->throttled = 1;
        update_reading(c);
        ev_timer_set(&c->resume_w, (1 - tokens) / rate, 0.);
        ev_timer_start(c->srv->loop, &c->resume_w);
        return 0;
    }
    /* A frame is at least a byte: reading no more bytes than tokens reads no
     * more frames than the connection may send. */
    return tokens < CONN_READ_MAX ? (size_t)tokens : CONN_READ_MAX;
}

/* Write [out_sent, limit) now; returns 0, or -1 if the connection closed. */
static int write_out(struct conn *c)
{
    uint32_t limit = c->out_held != CONN_HELD_NONE ? c->out_held : c->out.len;

    while (c->out_sent < limit) {
        ssize_t n = send(c->fd, c->out.data + c->out_sent, limit - c->out_sent, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_sent += (uint32_t)n;
            c->last_active = ev_now(c->srv->loop);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            ev_io_start(c->srv->loop, &c->write_w);
            pause_reading(c, c->out.len - c->out_sent > CONN_OUT_PAUSE);
            return 0;
        }
        conn_close(c, "write failed");
        return -1;
    }
    ev_io_stop(c->srv->loop, &c->write_w);
    /* Offsets of held bytes must not move, so compact only when nothing is held. */
    if (c->out_sent == c->out.len) {
        c->out.len = c->out_sent = 0;
    } else if (c->out_held == CONN_HELD_NONE && c->out_sent > 0) {
        buf_consume(&c->out, c->out_sent);
        c->out_sent = 0;
    }
    pause_reading(c, 0);
    return 0;
}

void conn_flush(struct conn *c)
{
    if (c->state == CONN_CLOSED) {
        return;
    }
    if (write_out(c) < 0) {
        return;
    }
    if (c->state == CONN_DRAINING && c->out.len == c->out_sent && c->out_held == CONN_HELD_NONE) {
        conn_close(c, c->close_reason);
    }
}

static void write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct conn *c = (struct conn *)((char *)w - offsetof(struct conn, write_w));
    (void)loop;
    (void)revents;
    conn_flush(c);
}

/* Keep the unconsumed tail [from, len) of buf as the connection's pending input. */
static void keep_tail(struct conn *c, const char *buf, size_t from, size_t len)
{
    size_t rest = len - from;
    if (rest == 0) {
        free(c->in);
        c->in = NULL;
        c->in_len = 0;
        return;
    }
    if (c->in == NULL && (c->in = malloc(CONN_IN_MAX)) == NULL) {
        conn_close(c, "out of memory");
        return;
    }
    memmove(c->in, buf + from, rest);
    c->in_len = (uint32_t)rest;
}

/* Decide the connection's kind from its first non-whitespace byte; returns
 * the whitespace before it, which belongs to neither kind. */
static size_t choose_mode(struct conn *c, const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len && rps_is_space((unsigned char)buf[i])) {
        i++;
    }
    if (i == len) {
        return len;
    }
    if (rps_opens((unsigned char)buf[i])) {
        conn_set_state(c, CONN_LOBBY);
        c->idle_w.repeat = c->srv->cfg.long_idle_timeout;
        ev_timer_again(c->srv->loop, &c->idle_w);
    } else {
        conn_set_state(c, CONN_SHORT);
    }
    return i;
}

/* Hand buf[0, len) to the connection's protocol; returns the bytes consumed. */
static size_t dispatch(struct conn *c, const char *buf, size_t len, int more, int eof)
{
    size_t skip = 0;
    if (c->state == CONN_NEW) {
        skip = choose_mode(c, buf, len);
    }
    if (c->state == CONN_SHORT) {
        return skip + short_input(c, buf + skip, len - skip, more, eof);
    }
    if (conn_is_long(c)) {
        return skip + play_input(c, buf + skip, len - skip);
    }
    return len;
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct conn *c = (struct conn *)((char *)w - offsetof(struct conn, read_w));
    static char scratch[CONN_IN_MAX + CONN_READ_MAX];
    size_t have = c->in_len;
    (void)revents;

    size_t allowed = read_allowance(c, ev_now(loop));
    if (allowed == 0) {
        return;
    }
    if (have > 0) {
        memcpy(scratch, c->in, have);
    }
    ssize_t n = recv(c->fd, scratch + have, allowed, 0);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            conn_close(c, "read failed");
        }
        return;
    }
    int eof = n == 0;
    /* A short read means nothing more is waiting: an unterminated request may be answered. */
    int more = !eof && (size_t)n == allowed;
    size_t len = have + (size_t)n;
    uint32_t out_before = c->out.len;
    size_t used = dispatch(c, scratch, len, more, eof);
    /* Only progress keeps a connection alive: a frame on a long connection,
     * an answered request on a short one. Bytes that never finish a request
     * (one a second, blank lines, the rest of an overlong line) do not. */
    if (conn_is_long(c) || c->out.len != out_before) {
        c->last_active = ev_now(loop);
    }
    if (conn_is_long(c) && used > have) {
        c->budget.tokens -= (double)(used - have);
    }
    if (c->state == CONN_CLOSED) {
        return;
    }
    if (eof) {
        if (conn_is_long(c)) {
            play_leave(c);
        }
        conn_drain(c, "client closed");
        return;
    }
    keep_tail(c, scratch, used, len);
}

static void idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct conn *c = (struct conn *)((char *)w - offsetof(struct conn, idle_w));
    (void)revents;

    /* The timer is not touched on every byte: it fires, and rearms itself for
     * whatever is left of the idle time since the last activity. */
    double left = c->last_active + idle_timeout(c) - ev_now(loop);
    if (left > 0.001) {
        w->repeat = left;
        ev_timer_again(loop, w);
        return;
    }
    conn_close(c, "idle timeout");
}
