/* server/conn: the transport's accounting and a WebSocket's framing, over a socketpair and without
 * a server: the connection's peer end is read directly. */
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "expect.h"
#include "suite.h"
#include "ws.h"

#define OUT_MAX 65536
#define OUT_TOTAL 1024

static size_t swallow(struct conn *c, const char *buf, size_t len, int more, int eof)
{
    (void)c;
    (void)buf;
    (void)more;
    (void)eof;
    return len;
}

static const struct conn_ops test_ops = { "test", swallow, NULL };

struct rig {
    struct ev_loop *loop;
    struct conn_pool pool;
    struct conn *c;
    int peer;       /* the client's end */
};

static void rig_up(struct rig *r)
{
    int sv[2];
    struct sockaddr_storage from = { 0 };
    struct sockaddr_in *in = (struct sockaddr_in *)&from;
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    r->loop = ev_loop_new(0);
    conn_pool_init(&r->pool, r->loop, 0, OUT_MAX, OUT_TOTAL, &test_ops, 10);
    r->c = conn_new(&r->pool, sv[0], &from);
    ck_assert_ptr_nonnull(r->c);
    r->peer = sv[1];
}

static void rig_down(struct rig *r)
{
    if (r->pool.n > 0) {    /* not closed and freed by the test already */
        conn_close(r->c, "test over");
        conn_pool_tell_gone(&r->pool);
        conn_pool_flush(&r->pool);
    }
    ck_assert_uint_eq(r->pool.n, 0);
    ck_assert_uint_eq(r->pool.out_bytes, 0);
    conn_pool_free(&r->pool);
    ev_loop_destroy(r->loop);
    close(r->peer);
}

/* Exactly want is waiting at the peer. */
static void peer_reads(struct rig *r, const void *want, size_t n)
{
    char got[256];
    ssize_t k = recv(r->peer, got, sizeof(got), MSG_DONTWAIT);
    ck_assert_msg(k == (ssize_t)n && memcmp(got, want, n) == 0, "peer read %zd bytes: %s", k,
                  k > 0 ? show(got, (size_t)k) : "");
}

/* A written answer's small buffer is kept for the next one, but counts against --out-total only
 * while it holds output: idle connections do not make busy ones wait. */
START_TEST(test_idle_buffers_do_not_count_against_the_total)
{
    struct rig r;
    rig_up(&r);
    ck_assert_int_eq(conn_write(r.c, "d144\n", 5), 0);
    ck_assert_uint_gt(r.pool.out_bytes, 0);
    conn_pool_flush(&r.pool);
    peer_reads(&r, "d144\n", 5);
    ck_assert_uint_gt(r.c->out.cap, 0);          /* kept */
    ck_assert_uint_eq(r.pool.out_bytes, 0);      /* not counted */
    ck_assert_int_eq(conn_write(r.c, "d9\n", 3), 0);
    ck_assert_uint_eq(r.pool.out_bytes, r.c->out.cap);
    conn_pool_flush(&r.pool);
    peer_reads(&r, "d9\n", 3);
    ck_assert_uint_eq(r.pool.out_bytes, 0);
    rig_down(&r);
}
END_TEST

/* What the protocol writes goes out as one binary message per flush. */
START_TEST(test_websocket_output_is_one_message_per_flush)
{
    struct rig r;
    rig_up(&r);
    conn_write(r.c, "HTTP/1.1 101\r\n\r\n", 16);    /* the handshake's answer is not framed */
    conn_upgrade(r.c, ws_new(WS_BINARY, WS_BINARY));
    conn_write(r.c, "A\x03" "ana", 5);
    conn_write(r.c, "W", 1);
    conn_pool_flush(&r.pool);
    peer_reads(&r, "HTTP/1.1 101\r\n\r\n\x82\x06" "A\x03" "anaW", 24);
    conn_write(r.c, "y", 1);
    conn_pool_flush(&r.pool);
    peer_reads(&r, "\x82\x01y", 3);
    rig_down(&r);
}
END_TEST

/* Output held for a commit is neither sent nor framed until it is let go, and then it is framed
 * whole, with what was written after it. */
START_TEST(test_websocket_held_output_is_framed_when_let_go)
{
    struct rig r;
    rig_up(&r);
    conn_upgrade(r.c, ws_new(WS_BINARY, WS_BINARY));
    conn_write(r.c, "M2", 2);
    conn_hold(r.c, r.c->out.len);
    conn_write(r.c, "y", 1);
    conn_pool_flush(&r.pool);
    char got[16];
    ck_assert_int_lt(recv(r.peer, got, sizeof(got), MSG_DONTWAIT), 0);     /* nothing yet */
    conn_unhold(r.c);
    conn_pool_flush(&r.pool);
    peer_reads(&r, "\x82\x03" "M2y", 5);
    rig_down(&r);
}
END_TEST

/* Draining a WebSocket sends what is queued, then a close frame with the reason. */
START_TEST(test_websocket_drain_ends_with_a_close_frame)
{
    struct rig r;
    rig_up(&r);
    conn_upgrade(r.c, ws_new(WS_BINARY, WS_BINARY));
    conn_write(r.c, "B", 1);
    conn_drain(r.c, "bye");
    conn_pool_tell_gone(&r.pool);
    conn_pool_flush(&r.pool);
    peer_reads(&r, "\x82\x01" "B" "\x88\x05\x03\xe8" "bye", 10);
    ck_assert_uint_eq(r.pool.n, 0);     /* closed once written, and freed by the same flush */
    rig_down(&r);
}
END_TEST

/* ---- waiting for an answer from elsewhere (conn_wait, conn_resume) ---- */

/* Request lines, each answered with itself, but for "w", whose answer ("W") comes later, as a
 * database's would: the test gives it (answer_later). */
static size_t lines(struct conn *c, const char *buf, size_t len, int more, int eof)
{
    size_t pos = 0;
    (void)more;
    (void)eof;
    while (pos < len && !c->waiting) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        if (nl == NULL) {
            break;
        }
        size_t end = (size_t)(nl - buf) + 1;
        if (end - pos == 2 && buf[pos] == 'w') {
            conn_wait(c);
        } else {
            conn_write(c, buf + pos, end - pos);
        }
        pos = end;
    }
    return pos;
}

static const struct conn_ops line_ops = { "lines", lines, NULL };

static void answer_later(struct conn *c)
{
    conn_write(c, "W\n", 2);
    conn_resume(c);
}

/* Loop iterations, each with the flush a server runs; what the peer was sent is appended to got
 * (*n bytes so far, room for 64). Returns whether the peer saw the connection's end. */
static int iterate(struct rig *r, int times, char *got, size_t *n)
{
    int ended = 0;
    for (int i = 0; i < times; i++) {
        ev_run(r->loop, EVRUN_NOWAIT);
        conn_pool_tell_gone(&r->pool);
        conn_pool_flush(&r->pool);
        ssize_t k;
        while ((k = recv(r->peer, got + *n, 64 - *n, MSG_DONTWAIT)) > 0) {
            *n += (size_t)k;
        }
        ended |= k == 0;
    }
    return ended;
}

/* A request whose answer comes later holds back the pipelined ones after it, and the client's
 * half-close: they are answered after it, in order, and then the connection ends. */
START_TEST(test_waiting_keeps_pipelined_requests_in_order)
{
    struct rig r;
    char got[64];
    size_t n = 0;

    rig_up(&r);
    conn_set_kind(r.c, &line_ops, NULL, 10, 0);
    ck_assert_int_eq(send(r.peer, "a\nw\nb\nc\n", 8, 0), 8);
    ck_assert_int_eq(shutdown(r.peer, SHUT_WR), 0);
    ck_assert(!iterate(&r, 5, got, &n));
    ck_assert_msg(n == 2 && memcmp(got, "a\n", 2) == 0, "before the answer: %s", show(got, n));
    ck_assert_uint_eq(r.c->in_len, 4);          /* b and c, unread */
    ck_assert(!ev_is_active(&r.c->read_w));     /* and nothing more read meanwhile */

    answer_later(r.c);
    ck_assert(iterate(&r, 5, got, &n));
    ck_assert_msg(n == 8 && memcmp(got, "a\nW\nb\nc\n", 8) == 0, "after: %s", show(got, n));
    ck_assert_uint_eq(r.pool.n, 0);             /* ended by the half-close, and freed */
    rig_down(&r);
}
END_TEST

/* A connection that closes while it waits is freed all the same (its protocol cancels the
 * request when told it is gone). */
START_TEST(test_waiting_connection_closes)
{
    struct rig r;
    char got[64];
    size_t n = 0;

    rig_up(&r);
    conn_set_kind(r.c, &line_ops, NULL, 10, 0);
    ck_assert_int_eq(send(r.peer, "w\nb\n", 4, 0), 4);
    iterate(&r, 2, got, &n);
    ck_assert(r.c->waiting);
    conn_close(r.c, "test");
    iterate(&r, 2, got, &n);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(r.pool.n, 0);
    rig_down(&r);
}
END_TEST


/* A linked connection: its output is what the link is given at the flush, its input what the test
 * feeds it. */
struct linked {
    char sent[256];
    size_t n;
    int closed;
    const char *reason;
};

static void linked_send(void *arg, const void *bytes, size_t len)
{
    struct linked *l = arg;
    ck_assert_uint_le(l->n + len, sizeof(l->sent));
    memcpy(l->sent + l->n, bytes, len);
    l->n += len;
}

static void linked_closed(void *arg, const char *reason)
{
    struct linked *l = arg;
    l->closed++;
    l->reason = reason;
}

static struct conn *linked_up(struct rig *r, struct linked *l)
{
    struct sockaddr_storage from = { 0 };
    struct conn_link link = { linked_send, linked_closed, l };
    memset(l, 0, sizeof(*l));
    from.ss_family = AF_INET;
    r->loop = ev_loop_new(0);
    r->peer = -1;
    conn_pool_init(&r->pool, r->loop, 0, OUT_MAX, OUT_TOTAL, &test_ops, 10);
    struct conn *c = conn_new_linked(&r->pool, &from, &link);
    ck_assert_ptr_nonnull(c);
    conn_set_kind(c, &line_ops, NULL, 10, 1);
    ck_assert(!c->metered);
    return c;
}

static void linked_down(struct rig *r)
{
    conn_pool_tell_gone(&r->pool);
    conn_pool_flush(&r->pool);
    ck_assert_uint_eq(r->pool.n, 0);
    conn_pool_free(&r->pool);
    ev_loop_destroy(r->loop);
}

/* Input split anywhere is answered in order, a waiting request holding back the rest; output goes
 * to the link at the flush, held bytes only once let go; the end of input drains and closes it,
 * and the link hears of the close once. */
START_TEST(test_linked_connection_in_and_out)
{
    struct rig r;
    struct linked l;
    struct conn *c = linked_up(&r, &l);

    conn_link_input(c, "a\nw", 3, 0);
    ck_assert_uint_eq(l.n, 0);                      /* nothing before the flush */
    conn_pool_flush(&r.pool);
    ck_assert_msg(l.n == 2 && memcmp(l.sent, "a\n", 2) == 0, "%s", show(l.sent, l.n));
    conn_link_input(c, "\nb\n", 3, 0);
    ck_assert(c->waiting);
    conn_link_input(c, "c\n", 2, 1);               /* kept while it waits, the end too */
    conn_pool_flush(&r.pool);
    ck_assert_uint_eq(l.n, 2);
    uint32_t off = c->out.len;
    conn_write(c, "H\n", 2);
    conn_hold(c, off);
    answer_later(c);
    ev_run(r.loop, EVRUN_NOWAIT);                   /* its turn: b and c, then the end */
    conn_pool_tell_gone(&r.pool);
    conn_pool_flush(&r.pool);
    ck_assert_msg(l.n == 2 && l.closed == 0, "held bytes went early: %s", show(l.sent, l.n));
    conn_unhold(c);
    conn_pool_flush(&r.pool);
    ck_assert_msg(l.n == 10 && memcmp(l.sent, "a\nH\nW\nb\nc\n", 10) == 0, "%s", show(l.sent, l.n));
    ck_assert_int_eq(l.closed, 1);
    ck_assert_str_eq(l.reason, "client closed");
    linked_down(&r);
    ck_assert_int_eq(l.closed, 1);
}
END_TEST

/* Input that piles up while the connection waits is bounded: past it, the connection closes. */
START_TEST(test_linked_connection_input_overrun)
{
    struct rig r;
    struct linked l;
    static char junk[CONN_LINK_IN_MAX];
    struct conn *c = linked_up(&r, &l);

    memset(junk, 'x', sizeof(junk));
    conn_link_input(c, "w\n", 2, 0);
    ck_assert(c->waiting);
    conn_link_input(c, junk, sizeof(junk) / 2, 0);
    ck_assert_int_eq(c->state, CONN_OPEN);
    conn_link_input(c, junk, sizeof(junk) / 2 + 1, 0);
    ck_assert_int_eq(c->state, CONN_CLOSED);
    ck_assert_int_eq(l.closed, 1);
    ck_assert_str_eq(l.reason, "input overrun");
    conn_link_input(c, "a\n", 2, 0);                /* nothing once closed */
    linked_down(&r);
    ck_assert_int_eq(l.closed, 1);
}
END_TEST

static Suite *conn_suite(void)
{
    Suite *s = suite_create("conn");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_idle_buffers_do_not_count_against_the_total);
    tcase_add_test(tc, test_websocket_output_is_one_message_per_flush);
    tcase_add_test(tc, test_websocket_held_output_is_framed_when_let_go);
    tcase_add_test(tc, test_websocket_drain_ends_with_a_close_frame);
    tcase_add_test(tc, test_waiting_keeps_pipelined_requests_in_order);
    tcase_add_test(tc, test_waiting_connection_closes);
    tcase_add_test(tc, test_linked_connection_in_and_out);
    tcase_add_test(tc, test_linked_connection_input_overrun);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return suite_run(conn_suite());
}
