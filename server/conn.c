/*
 * conn: the life of one TCP connection.
 *
 *   read()  -> ops->input: the protocol that owns the connection
 *           -> replies appended to conn->out, results held for the commit
 *           -> conn->in keeps what it did not consume: an unfinished line or
 *              frame, or (when it yielded its turn) requests for the next one
 *   check   -> the connections that yielded get their next turn
 *              (no reading meanwhile); one that waits for an answer from the
 *              database (conn_wait) gets its turn once answered (conn_resume)
 *   flush   -> owners told of closed connections, commit, then write() what is
 *              no longer held; free what closed
 *
 * Sockets are written only from the flush (once per iteration), or from the
 * write watcher while the socket is full. A connection is never freed while it
 * is being handled, nor before its owner heard it is gone: conn_close marks it
 * CLOSED and the flush does the rest.
 */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "stats.h"
#include "ws.h"

/* Unfinished input a connection may hold: one request line and its terminator, or one frame. With
 * requests waiting for their turn, at most this plus one read. */
#define CONN_IN_MAX 1040
/* Bytes read per readable event: bounds the work one greedy client gets per iteration. */
#define CONN_READ_MAX 16384
/* Past a quarter of the output cap unread we stop reading from the client until it reads. */
#define OUT_PAUSE(pool) ((pool)->out_max / 4)
/* An output buffer up to this size stays allocated once written; a bigger one is freed. */
#define OUT_KEEP 4096

static const char *const state_names[] = {
    [CONN_OPEN] = "open", [CONN_DRAINING] = "draining", [CONN_CLOSED] = "closed",
};

/* The open connections of one address. */
struct conn_holder {
    unsigned char key[LIMIT_ADDR_KEY];
    unsigned n;
    unsigned spent;             /* work done for it in the iteration `turn` */
    uint64_t turn;
    struct conn *conns;         /* linked by holder_next */
    struct conn_holder *next;   /* hash chain */
};

#define HOLDERS_MIN 64

static void read_cb(struct ev_loop *loop, ev_io *w, int revents);
static void write_cb(struct ev_loop *loop, ev_io *w, int revents);
static void idle_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void resume_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void update_reading(struct conn *c);
static void turn_cb(struct ev_loop *loop, ev_check *w, int revents);
static void spin_cb(struct ev_loop *loop, ev_idle *w, int revents);

void conn_pool_init(struct conn_pool *pool, struct ev_loop *loop, double frame_rate, uint32_t out_max,
                    size_t out_total, const struct conn_ops *first, double first_idle)
{
    memset(pool, 0, sizeof(*pool));
    pool->loop = loop;
    pool->frame_rate = frame_rate;
    pool->out_max = out_max;
    pool->out_total = out_total;
    randombytes_buf(pool->seed, sizeof(pool->seed));
    ev_check_init(&pool->turn_w, turn_cb);
    ev_idle_init(&pool->spin_w, spin_cb);
    ev_check_start(loop, &pool->turn_w);
    pool->first = first;
    pool->first_idle = first_idle;
}

const char *conn_peer_name(const struct conn *c, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (c->peer.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&c->peer;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
        snprintf(out, cap, "%s:%d", host, port);
    } else if (c->peer.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&c->peer;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
        snprintf(out, cap, "[%s]:%d", host, port);
    } else {
        snprintf(out, cap, "?");
    }
    return out;
}

static unsigned holder_slot(const struct conn_pool *pool, const unsigned char key[LIMIT_ADDR_KEY], unsigned cap)
{
    unsigned char h[crypto_shorthash_BYTES];
    uint64_t v;
    crypto_shorthash(h, key, LIMIT_ADDR_KEY, pool->seed);
    memcpy(&v, h, sizeof(v));
    return (unsigned)v & (cap - 1);
}

static struct conn_holder *find_holder(const struct conn_pool *pool, const unsigned char key[LIMIT_ADDR_KEY])
{
    if (pool->holders_cap == 0) {
        return NULL;
    }
    struct conn_holder *h = pool->holders[holder_slot(pool, key, pool->holders_cap)];
    while (h != NULL && memcmp(h->key, key, LIMIT_ADDR_KEY) != 0) {
        h = h->next;
    }
    return h;
}

static int grow_holders(struct conn_pool *pool)
{
    unsigned cap = pool->holders_cap ? pool->holders_cap * 2 : HOLDERS_MIN;
    struct conn_holder **b = calloc(cap, sizeof(*b));
    if (b == NULL) {
        return -1;
    }
    for (unsigned i = 0; i < pool->holders_cap; i++) {
        struct conn_holder *h, *next;
        for (h = pool->holders[i]; h != NULL; h = next) {
            next = h->next;
            unsigned s = holder_slot(pool, h->key, cap);
            h->next = b[s];
            b[s] = h;
        }
    }
    free(pool->holders);
    pool->holders = b;
    pool->holders_cap = cap;
    return 0;
}

/* The holder of peer's address, made if there is none yet (it then holds nothing: count a
 * connection under it at once); NULL when memory ran out. */
static struct conn_holder *holder_of(struct conn_pool *pool, const struct sockaddr_storage *peer)
{
    unsigned char key[LIMIT_ADDR_KEY];
    limit_addr_owner_key(peer, key);
    struct conn_holder *h = find_holder(pool, key);
    if (h == NULL) {
        if ((pool->nholders >= pool->holders_cap && grow_holders(pool) < 0 && pool->holders_cap == 0) ||
            (h = calloc(1, sizeof(*h))) == NULL) {
            return NULL;
        }
        memcpy(h->key, key, sizeof(h->key));
        unsigned s = holder_slot(pool, key, pool->holders_cap);
        h->next = pool->holders[s];
        pool->holders[s] = h;
        pool->nholders++;
    }
    return h;
}

static void hold(struct conn_holder *h, struct conn *c)
{
    h->n++;
    c->holder = h;
    c->holder_next = h->conns;
    h->conns = c;
}

static void unhold(struct conn_pool *pool, struct conn *c)
{
    struct conn_holder *h = c->holder;
    struct conn **p = &h->conns;
    while (*p != c) {
        p = &(*p)->holder_next;
    }
    *p = c->holder_next;
    if (--h->n > 0) {
        return;
    }
    struct conn_holder **q = &pool->holders[holder_slot(pool, h->key, pool->holders_cap)];
    while (*q != h) {
        q = &(*q)->next;
    }
    *q = h->next;
    pool->nholders--;
    free(h);
}

unsigned conn_pool_held(const struct conn_pool *pool, const struct sockaddr_storage *peer)
{
    unsigned char key[LIMIT_ADDR_KEY];
    limit_addr_owner_key(peer, key);
    const struct conn_holder *h = find_holder(pool, key);
    return h != NULL ? h->n : 0;
}

struct conn *conn_pool_crowding(const struct conn_pool *pool, unsigned than)
{
    const struct conn_holder *most = NULL;
    for (unsigned i = 0; i < pool->holders_cap; i++) {
        for (const struct conn_holder *h = pool->holders[i]; h != NULL; h = h->next) {
            if (h->n > than && (most == NULL || h->n > most->n)) {
                most = h;
            }
        }
    }
    struct conn *idlest = NULL;
    for (struct conn *c = most != NULL ? most->conns : NULL; c != NULL; c = c->holder_next) {
        /* A draining connection holds its place too: closing it loses only answers its client is
         * not reading. */
        if (c->state != CONN_CLOSED && (idlest == NULL || c->last_active < idlest->last_active)) {
            idlest = c;
        }
    }
    return idlest;
}

void conn_pool_free(struct conn_pool *pool)
{
    ev_check_stop(pool->loop, &pool->turn_w);
    ev_idle_stop(pool->loop, &pool->spin_w);
    free(pool->holders);
    pool->holders = NULL;
    pool->holders_cap = pool->nholders = 0;
}

/* The address of peer into *to, the bytes past it zero: a connection's peer is sent whole to
 * other nodes (a tunnel's), and what accept or a PROXY header did not write must not go with it. */
static void peer_copy(struct sockaddr_storage *to, const struct sockaddr_storage *peer)
{
    size_t len = peer->ss_family == AF_INET    ? sizeof(struct sockaddr_in)
                 : peer->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                               : sizeof(peer->ss_family);
    memset(to, 0, sizeof(*to));
    memcpy(to, peer, len);
}

/* A connection from peer, counted in the pool and its address's holder, with its idle timer running:
 * what a socket's connection and a linked one share. NULL when memory ran out. */
static struct conn *conn_alloc(struct conn_pool *pool, int fd, const struct sockaddr_storage *peer)
{
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    peer_copy(&c->peer, peer);
    struct conn_holder *h = holder_of(pool, peer);
    if (h == NULL) {
        free(c);
        return NULL;
    }
    hold(h, c);
    c->fd = fd;
    c->pool = pool;
    c->id = ++pool->next_id;
    c->state = CONN_OPEN;
    c->ops = pool->first;
    c->out_held = CONN_HELD_NONE;
    c->last_active = ev_now(pool->loop);
    c->idle = pool->first_idle;
    ev_init(&c->idle_w, idle_cb);
    ev_init(&c->resume_w, resume_cb);
    c->idle_w.repeat = c->idle;
    ev_timer_again(pool->loop, &c->idle_w);

    c->next = pool->all;
    if (pool->all != NULL) {
        pool->all->prev = c;
    }
    pool->all = c;
    pool->n++;
    if (pool->n > pool->peak) {
        pool->peak = pool->n;
    }
    return c;
}

struct conn *conn_new(struct conn_pool *pool, int fd, const struct sockaddr_storage *peer)
{
    struct conn *c = conn_alloc(pool, fd, peer);
    if (c == NULL) {
        close(fd);
        return NULL;
    }
    ev_io_init(&c->read_w, read_cb, fd, EV_READ);
    ev_io_init(&c->write_w, write_cb, fd, EV_WRITE);
    ev_io_start(pool->loop, &c->read_w);
    if (log_enabled(LOG_DEBUG)) {
        char from[CONN_PEER_MAX];
        log_debug("conn %llu: open from %s (fd %d, %u open)", (unsigned long long)c->id,
                  conn_peer_name(c, from, sizeof(from)), fd, pool->n);
    }
    return c;
}

struct conn *conn_new_linked(struct conn_pool *pool, const struct sockaddr_storage *peer,
                             const struct conn_link *link)
{
    struct conn *c = conn_alloc(pool, -1, peer);
    if (c == NULL) {
        return NULL;
    }
    c->linked = 1;
    c->link = *link;
    log_debug("conn %llu: linked (%u open)", (unsigned long long)c->id, pool->n);
    return c;
}

int conn_set_peer(struct conn *c, const struct sockaddr_storage *peer)
{
    /* The new holder first: should memory run out, the connection is still counted somewhere. */
    struct conn_holder *h = holder_of(c->pool, peer);
    if (h == NULL) {
        conn_close(c, "out of memory");
        return -1;
    }
    peer_copy(&c->peer, peer);
    if (h != c->holder) {
        unhold(c->pool, c);
        hold(h, c);
    }
    return 0;
}

void conn_set_kind(struct conn *c, const struct conn_ops *ops, void *owner, double idle, int metered)
{
    log_debug("conn %llu: %s", (unsigned long long)c->id, ops->kind);
    c->ops = ops;
    c->owner = owner;
    c->metered = metered != 0 && !c->linked;    /* the gate meters the socket */
    if (idle != c->idle) {
        c->idle = idle;
        c->idle_w.repeat = idle;
        ev_timer_again(c->pool->loop, &c->idle_w);
    }
}

static void set_state(struct conn *c, enum conn_state state)
{
    log_debug("conn %llu: %s -> %s", (unsigned long long)c->id, state_names[c->state], state_names[state]);
    c->state = state;
}

static void mark_dirty(struct conn *c)
{
    if (!c->dirty) {
        c->dirty = 1;
        c->dirty_next = c->pool->dirty;
        c->pool->dirty = c;
    }
}

/* The owner is to hear, at the flush, that the connection is gone. */
static void mark_gone(struct conn *c)
{
    if (!c->gone_listed) {
        c->gone_listed = 1;
        c->gone_next = c->pool->gone;
        c->pool->gone = c;
    }
}

char *conn_reserve(struct conn *c, size_t n)
{
    if (c->state == CONN_CLOSED) {
        return NULL;
    }
    /* An idle buffer is counted again once it holds output. */
    uint32_t cap = c->out_idle ? 0 : c->out.cap;
    c->out_idle = 0;
    char *p = buf_reserve(&c->out, n, c->pool->out_max);
    c->pool->out_bytes += c->out.cap - cap;
    if (p == NULL) {
        conn_close(c, "output limit passed (client not reading)");
    }
    return p;
}

void conn_wrote(struct conn *c, size_t n)
{
    c->out.len += (uint32_t)n;
    mark_dirty(c);
}

void conn_upgrade(struct conn *c, struct ws *ws)
{
    c->ws = ws;
    c->out_framed = c->out.len;
    log_debug("conn %llu: websocket", (unsigned long long)c->id);
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

void conn_progress(struct conn *c)
{
    c->last_active = ev_now(c->pool->loop);
}

void conn_hold(struct conn *c, uint32_t off)
{
    if (c->out_held == CONN_HELD_NONE) {
        c->out_held = off;
    }
}

void conn_unhold(struct conn *c)
{
    c->out_held = CONN_HELD_NONE;
    mark_dirty(c);
}

void conn_drain(struct conn *c, const char *reason)
{
    if (c->state != CONN_OPEN) {
        return;
    }
    c->close_reason = reason;
    set_state(c, CONN_DRAINING);
    update_reading(c);
    mark_dirty(c);
    mark_gone(c);
}

void conn_close(struct conn *c, const char *reason)
{
    if (c->state == CONN_CLOSED) {
        return;
    }
    if (c->close_reason == NULL) {
        c->close_reason = reason;
    }
    set_state(c, CONN_CLOSED);
    c->pool->closing++;
    struct ev_loop *loop = c->pool->loop;
    ev_io_stop(loop, &c->read_w);
    ev_io_stop(loop, &c->write_w);
    ev_timer_stop(loop, &c->idle_w);
    ev_timer_stop(loop, &c->resume_w);
    if (c->linked && c->link.closed != NULL) {
        c->link.closed(c->link.arg, c->close_reason != NULL ? c->close_reason : "closed");
    } else {
        close(c->fd);
    }
    c->fd = -1;
    mark_dirty(c);
    mark_gone(c);
}

static void conn_free(struct conn *c)
{
    struct conn_pool *pool = c->pool;
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        pool->all = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    pool->n--;
    pool->closing--;
    unhold(pool, c);
    log_debug("conn %llu: closed (%s, %u open)", (unsigned long long)c->id,
              c->close_reason ? c->close_reason : "done", pool->n);
    pool->out_bytes -= c->out_idle ? 0 : c->out.cap;
    buf_free(&c->out);
    ws_free(c->ws);
    free(c->in);
    free(c);
}

unsigned conn_pool_tell_gone(struct conn_pool *pool)
{
    unsigned told = 0;
    struct conn *c;
    while ((c = pool->gone) != NULL) {
        pool->gone = c->gone_next;
        c->told = 1;
        if (c->ops->gone != NULL) {
            c->ops->gone(c);
        }
        told++;
    }
    return told;
}

int conn_pool_dirty(const struct conn_pool *pool)
{
    return pool->dirty != NULL;
}

void conn_pool_flush(struct conn_pool *pool)
{
    struct conn *c = pool->dirty, *later = NULL;
    pool->dirty = NULL;
    while (c != NULL) {
        struct conn *next = c->dirty_next;
        conn_flush(c);      /* still marked dirty, so closing cannot list it twice */
        if (c->state == CONN_CLOSED && c->told && c->out_held == CONN_HELD_NONE && !c->ready) {
            conn_free(c);
        } else if (c->state == CONN_CLOSED && !c->told) {
            c->dirty_next = later;      /* freed once its owner has heard */
            later = c;
        } else {
            c->dirty = 0;
        }
        c = next;
    }
    while (later != NULL) {
        struct conn *next = later->dirty_next;
        later->dirty_next = pool->dirty;
        pool->dirty = later;
        later = next;
    }
}

/* Read while the client takes its answers and has frame budget left. */
static void update_reading(struct conn *c)
{
    if (c->linked) {
        return;     /* no socket: conn_link_input brings what there is */
    }
    int want = !c->read_paused && !c->throttled && !c->yielded && c->state == CONN_OPEN;
    if (want && !ev_is_active(&c->read_w)) {
        ev_io_start(c->pool->loop, &c->read_w);
    } else if (!want && ev_is_active(&c->read_w)) {
        ev_io_stop(c->pool->loop, &c->read_w);
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
    double rate = c->pool->frame_rate;
    if (rate <= 0 || !c->metered) {
        return CONN_READ_MAX;
    }
    double tokens = limit_refill(&c->budget, rate, rate, now);
    if (tokens < 1) {
        c->throttled = 1;
        stats.throttled[STATS_THROTTLE_FRAMES]++;
        update_reading(c);
        ev_timer_set(&c->resume_w, (1 - tokens) / rate, 0.);
        ev_timer_start(c->pool->loop, &c->resume_w);
        return 0;
    }
    /* A frame is at least a byte: reading no more bytes than tokens reads no
     * more frames than the connection may send. */
    return tokens < CONN_READ_MAX ? (size_t)tokens : CONN_READ_MAX;
}

/* A WebSocket's output: what the protocol wrote since the last flush becomes one data message, and
 * the control frames due follow it. Held output is framed once the commit lets it go, so that held
 * bytes keep their offsets. Returns 0, or -1 if the connection closed. */
static int frame_out(struct conn *c)
{
    if (c->out_held != CONN_HELD_NONE) {
        return 0;
    }
    size_t len = c->out.len - c->out_framed;
    if (ws_close_sent(c->ws)) {
        c->out.len = c->out_framed;     /* nothing may follow a close frame */
        return 0;
    }
    if (len > 0) {
        char hdr[WS_HEADER_MAX];
        size_t h = ws_header(c->ws, len, hdr);
        if (conn_reserve(c, h) == NULL) {
            return -1;
        }
        char *payload = c->out.data + c->out_framed;
        memmove(payload + h, payload, len);
        memcpy(payload, hdr, h);
        c->out.len += (uint32_t)h;
    }
    char controls[WS_CONTROLS_MAX];
    size_t n = ws_controls(c->ws, controls);
    if (n > 0 && conn_write(c, controls, n) < 0) {
        return -1;
    }
    c->out_framed = c->out.len;
    return 0;
}

/* Write [out_sent, limit) now; returns 0, or -1 if the connection closed. */
static int write_out(struct conn *c)
{
    if (c->ws != NULL && frame_out(c) < 0) {
        return -1;
    }
    uint32_t limit = c->ws != NULL ? c->out_framed : c->out_held != CONN_HELD_NONE ? c->out_held : c->out.len;

    if (c->linked && c->out_sent < limit) {
        c->link.send(c->link.arg, c->out.data + c->out_sent, limit - c->out_sent);
        c->out_sent = limit;
        c->last_active = ev_now(c->pool->loop);
    }

    while (c->out_sent < limit) {
        ssize_t n = send(c->fd, c->out.data + c->out_sent, limit - c->out_sent, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_sent += (uint32_t)n;
            c->last_active = ev_now(c->pool->loop);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            ev_io_start(c->pool->loop, &c->write_w);
            pause_reading(c, c->out.len - c->out_sent > OUT_PAUSE(c->pool));
            return 0;
        }
        conn_close(c, "write failed");
        return -1;
    }
    ev_io_stop(c->pool->loop, &c->write_w);
    if (c->yielded) {
        conn_yield(c);      /* it stopped for the client to read: its turn again */
    }
    /* Offsets of held bytes must not move, so compact only when nothing is held. A big buffer
     * that has been written is given back: idle connections keep no memory for answers. */
    if (c->out_sent == c->out.len && c->out.cap > OUT_KEEP) {
        c->pool->out_bytes -= c->out.cap;
        buf_free(&c->out);
        c->out_sent = c->out_framed = 0;
    } else if (c->out_sent == c->out.len) {
        /* A small written buffer is kept for the next answer, but holds nothing for a client: it
         * does not count against out_total until it does. */
        c->out.len = c->out_sent = c->out_framed = 0;
        if (!c->out_idle) {
            c->pool->out_bytes -= c->out.cap;
            c->out_idle = 1;
        }
    } else if (c->out_held == CONN_HELD_NONE && c->out_sent > 0) {
        buf_consume(&c->out, c->out_sent);
        c->out_framed -= c->out_sent;
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
    if (c->state == CONN_DRAINING && c->ws != NULL) {
        ws_close(c->ws, WS_CLOSE_NORMAL, c->close_reason != NULL ? c->close_reason : "");
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

/* Keep the unconsumed tail [from, len) of buf as the connection's pending input: an unfinished line
 * or frame, or (after a yield) whole requests waiting for their turn. buf may be c->in itself. */
static void keep_tail(struct conn *c, const char *buf, size_t from, size_t len)
{
    size_t rest = len - from;
    if (rest == 0) {
        free(c->in);
        c->in = NULL;
        c->in_len = c->in_cap = 0;
        return;
    }
    if (rest > c->in_cap) {
        size_t cap = rest <= CONN_IN_MAX ? CONN_IN_MAX : rest;
        char *in = malloc(cap);
        if (in == NULL) {
            conn_close(c, "out of memory");
            return;
        }
        memcpy(in, buf + from, rest);
        free(c->in);
        c->in = in;
        c->in_cap = (uint32_t)cap;
    } else {
        memmove(c->in, buf + from, rest);
    }
    c->in_len = (uint32_t)rest;
}

/* Hand buf[0, len) to the protocol; the bytes it does not consume stay as pending input. */
static void feed(struct conn *c, const char *buf, size_t len, int more, int eof)
{
    uint32_t out_before = c->out.len;
    size_t used = c->ops->input(c, buf, len, more, eof);
    /* Only progress keeps a connection alive: an answer, or what the protocol
     * calls progress (conn_progress). Bytes that never finish a request (one a
     * second, blank lines, whitespace between frames) do not. */
    if (c->out.len != out_before) {
        c->last_active = ev_now(c->pool->loop);
    }
    if (c->metered) {
        c->budget.tokens -= (double)used;
    }
    if (c->state != CONN_OPEN) {
        return;
    }
    if (eof && !c->yielded) {
        conn_drain(c, "client closed");
        return;
    }
    c->eof |= eof;
    keep_tail(c, buf, used, len);
    update_reading(c);
}

void conn_yield(struct conn *c)
{
    struct conn_pool *pool = c->pool;
    c->yielded = 1;
    update_reading(c);
    if (c->waiting || conn_congested(c)) {
        return;     /* its turn comes at conn_resume, or when the client has read (write_out) */
    }
    if (!c->ready) {
        c->ready = 1;
        c->ready_next = pool->ready;
        pool->ready = c;
        ev_idle_start(pool->loop, &pool->spin_w);
    }
}

void conn_wait(struct conn *c)
{
    c->waiting = 1;
    conn_yield(c);
}

void conn_resume(struct conn *c)
{
    c->waiting = 0;
    if (c->state == CONN_OPEN) {
        conn_yield(c);
    }
}

int conn_congested(const struct conn *c)
{
    uint32_t ahead = c->out.len - c->out_sent;
    /* Past the budget of all connections together, nobody gets ahead of its client. */
    return ahead > OUT_PAUSE(c->pool) || (ahead > 0 && c->pool->out_bytes > c->pool->out_total);
}

unsigned conn_addr_spent(const struct conn *c)
{
    return c->holder->turn == c->pool->turn ? c->holder->spent : 0;
}

void conn_addr_spend(struct conn *c, unsigned units)
{
    struct conn_holder *h = c->holder;
    if (h->turn != c->pool->turn) {
        h->turn = c->pool->turn;
        h->spent = 0;
    }
    h->spent += units;
}

/* Once per iteration, after the poll: every connection that yielded gets one more turn. */
static void turn_cb(struct ev_loop *loop, ev_check *w, int revents)
{
    struct conn_pool *pool = (struct conn_pool *)((char *)w - offsetof(struct conn_pool, turn_w));
    struct conn *c = pool->ready;
    (void)revents;

    pool->turn++;
    pool->ready = NULL;
    ev_idle_stop(loop, &pool->spin_w);
    while (c != NULL) {
        struct conn *next = c->ready_next;
        c->ready = 0;
        if (c->state == CONN_OPEN && c->yielded && !c->waiting) {
            c->yielded = 0;
            feed(c, c->in, c->in_len, 1, c->eof);
        } else if (c->state == CONN_CLOSED) {
            mark_dirty(c);      /* kept for its turn: the flush frees it now */
        }
        c = next;
    }
}

/* Keeps the loop from sleeping while connections wait for their turn. */
static void spin_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
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
    size_t got = (size_t)n;
    if (c->ws != NULL && n > 0) {
        got = ws_decode(c->ws, scratch + have, got, scratch + have);
        mark_dirty(c);      /* a pong or a close may be due */
        if (c->metered) {
            /* Frames cost their headers too: empty frames are no way around the frame rate. */
            c->budget.tokens -= (double)((size_t)n - got);
        }
    }
    /* A short read means nothing more is waiting: an unterminated request may be answered. */
    if (got > 0 || n == 0) {
        feed(c, scratch, have + got, n > 0 && (size_t)n == allowed, n == 0);
    }
    if (c->ws != NULL && ws_closing(c->ws)) {
        conn_drain(c, "websocket closed");
    }
}

static void idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct conn *c = (struct conn *)((char *)w - offsetof(struct conn, idle_w));
    (void)revents;

    /* The timer is not touched on every byte: it fires, and rearms itself for
     * whatever is left of the idle time since the last activity. */
    double left = c->last_active + c->idle - ev_now(loop);
    if (left > 0.001) {
        w->repeat = left;
        ev_timer_again(loop, w);
        return;
    }
    conn_close(c, "idle timeout");
}

void conn_link_input(struct conn *c, const void *bytes, size_t len, int eof)
{
    if (c->state != CONN_OPEN) {
        return;
    }
    if (len > CONN_LINK_IN_MAX - c->in_len) {
        conn_close(c, "input overrun");
        return;
    }
    if (len > 0) {
        if (c->in_len + len > c->in_cap) {
            size_t cap = c->in_len + len < CONN_IN_MAX ? CONN_IN_MAX : c->in_len + len;
            char *in = realloc(c->in, cap);
            if (in == NULL) {
                conn_close(c, "out of memory");
                return;
            }
            c->in = in;
            c->in_cap = (uint32_t)cap;
        }
        memcpy(c->in + c->in_len, bytes, len);
        c->in_len += (uint32_t)len;
    }
    if (c->yielded || c->ready) {
        c->eof |= eof != 0;     /* its turn comes: the input is given then */
        return;
    }
    feed(c, c->in, c->in_len, 0, eof);
}
