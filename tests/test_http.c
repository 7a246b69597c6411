/* HTTP and WebSocket on the game's port, end to end: the real arcaded, raw sockets for HTTP, and a
 * wslay-framed client for WebSockets. What is expected comes from docs/PROTOCOL.md and RFC 6455
 * (the handshake's example key and answer are the RFC's own), never from the server's code. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "expect.h"
#include "http.h"
#include "request.h"
#include "suite.h"
#include "wsclient.h"

#define RESPONSE_MAX 65536

/* One whole HTTP response from fd into out (its head, then its Content-Length body, NUL-terminated);
 * *body points at the body. Returns the status. */
static int read_response(int fd, char *out, size_t cap, char **body)
{
    size_t len = 0;
    while (len < 4 || memcmp(out + len - 4, "\r\n\r\n", 4) != 0) {
        ck_assert_uint_lt(len + 1, cap);
        ck_assert_msg(recv(fd, out + len, 1, 0) == 1, "the response ended after %zu bytes: %s", len, show(out, len));
        len++;
    }
    out[len] = '\0';
    int status = 0;
    ck_assert_int_eq(sscanf(out, "HTTP/1.1 %d", &status), 1);
    const char *cl = strstr(out, "\r\nContent-Length: ");
    ck_assert_msg(cl != NULL, "no Content-Length in %s", out);
    size_t want = strtoul(cl + 18, NULL, 10);
    ck_assert_uint_lt(len + want, cap);
    ck_assert_int_eq(harness_recv_n(fd, out + len, want), (ssize_t)want);
    out[len + want] = '\0';
    if (body != NULL) {
        *body = out + len;
    }
    return status;
}

/* One request on a fresh connection; the response's status, head and body in out. */
static int request(const char *req, char *out, size_t cap, char **body)
{
    int fd = dial(srv.port);
    send_str(fd, req);
    int status = read_response(fd, out, cap, body);
    close(fd);
    return status;
}

static int get(const char *path, char *out, size_t cap, char **body)
{
    char req[4096];
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
    return request(req, out, cap, body);
}

START_TEST(test_sniff_tells_methods_from_frames_and_requests)
{
    ck_assert_int_eq(http_sniff("GET / HTTP/1.1", 14), HTTP_YES);
    ck_assert_int_eq(http_sniff("HEAD ", 5), HTTP_YES);
    ck_assert_int_eq(http_sniff("HEA", 3), HTTP_MAYBE);
    ck_assert_int_eq(http_sniff("P", 1), HTTP_MAYBE);
    ck_assert_int_eq(http_sniff("PO", 2), HTTP_MAYBE);
    ck_assert_int_eq(http_sniff("POST", 4), HTTP_MAYBE);
    ck_assert_int_eq(http_sniff("PUT ", 4), HTTP_YES);
    ck_assert_int_eq(http_sniff("P1", 2), HTTP_NO);         /* play a person, then scissors */
    ck_assert_int_eq(http_sniff("H\x03" "ana", 5), HTTP_NO); /* a hello */
    ck_assert_int_eq(http_sniff("a12", 3), HTTP_NO);
    ck_assert_int_eq(http_sniff("GETX", 4), HTTP_NO);
}
END_TEST

START_TEST(test_page_is_served_at_the_root_and_head_has_no_body)
{
    static char out[RESPONSE_MAX];
    char *body = NULL;
    start_server(NULL, NULL);
    ck_assert_int_eq(get("/", out, sizeof(out), &body), 200);
    ck_assert_ptr_nonnull(strstr(out, "Content-Type: text/html"));
    ck_assert_ptr_nonnull(strstr(body, "<!doctype html>"));
    char *cl = strstr(out, "Content-Length: ");
    ck_assert_ptr_nonnull(cl);
    size_t len = strtoul(cl + 16, NULL, 10);

    int fd = dial(srv.port);
    send_str(fd, "HEAD / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    char head[4096];
    ssize_t n = harness_recv_all(fd, head, sizeof(head) - 1);
    head[n] = '\0';
    close(fd);
    ck_assert_ptr_nonnull(strstr(head, "HTTP/1.1 200 OK\r\n"));
    ck_assert_uint_eq(strtoul(strstr(head, "Content-Length: ") + 16, NULL, 10), len);
    ck_assert_msg(strcmp(head + n - 4, "\r\n\r\n") == 0, "HEAD had a body: %s", show(head, (size_t)n));
    stop_server();
}
END_TEST

START_TEST(test_classic_clients_are_unchanged_beside_http)
{
    start_server(NULL, NULL);
    ask(srv.port, "a2", "d4\n");        /* no newline: answered when nothing more is waiting */
    int fd = dial(srv.port);
    guest_round(fd, '2');
    close(fd);
    /* `P` alone, as the first byte, is the frame: a guest is told to say hello first. */
    fd = dial(srv.port);
    send_str(fd, "P");
    EXPECT(fd, "E\x0bhello first");
    close(fd);
    /* A hello whose name starts like a method is still a hello. */
    fd = dial(srv.port);
    hello(fd, "HEAD");
    close(fd);
    fd = dial(srv.port);
    send_str(fd, "H\x04POST");
    EXPECT(fd, "A\x04POST");
    close(fd);
    stop_server();
}
END_TEST

START_TEST(test_keep_alive_answers_pipelined_requests_in_order)
{
    static char out[RESPONSE_MAX];
    start_server(NULL, NULL);
    int fd = dial(srv.port);
    send_str(fd, "GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert_int_eq(read_response(fd, out, sizeof(out), NULL), 404);
    ck_assert_int_eq(read_response(fd, out, sizeof(out), NULL), 200);
    send_str(fd, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ck_assert_int_eq(read_response(fd, out, sizeof(out), NULL), 200);
    expect_eof(fd);
    close(fd);
    stop_server();
}
END_TEST

START_TEST(test_bad_requests_get_their_status_and_a_close)
{
    static char out[RESPONSE_MAX];
    static char big[REQUEST_HEAD_MAX + 512];
    start_server(NULL, NULL);
    ck_assert_int_eq(request("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", out, sizeof(out), NULL), 405);
    ck_assert_ptr_nonnull(strstr(out, "Allow: GET, HEAD\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "Connection: close\r\n"));
    ck_assert_int_eq(request("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", out, sizeof(out), NULL), 413);
    ck_assert_int_eq(request("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", out, sizeof(out), NULL), 413);
    ck_assert_int_eq(request("GET / HTTP/1.1\r\n\r\n", out, sizeof(out), NULL), 400);     /* no Host */
    ck_assert_int_eq(request("GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", out, sizeof(out), NULL), 400);
    ck_assert_int_eq(request("GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n", out, sizeof(out), NULL), 400);
    ck_assert_int_eq(request("GET * HTTP/1.1\r\nHost: x\r\n\r\n", out, sizeof(out), NULL), 400);

    /* A target over REQUEST_URL_MAX, and headers over REQUEST_HEAD_MAX. */
    memcpy(big, "GET /", 5);
    memset(big + 5, 'a', REQUEST_URL_MAX);
    strcpy(big + 5 + REQUEST_URL_MAX, " HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert_int_eq(request(big, out, sizeof(out), NULL), 414);
    strcpy(big, "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ");
    size_t at = strlen(big);
    memset(big + at, 'p', REQUEST_HEAD_MAX);
    strcpy(big + at + REQUEST_HEAD_MAX, "\r\n\r\n");
    ck_assert_int_eq(request(big, out, sizeof(out), NULL), 431);
    /* Too many header fields, each small. */
    strcpy(big, "GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < REQUEST_FIELDS_MAX + 1; i++) {
        strcat(big, "A: b\r\n");
    }
    strcat(big, "\r\n");
    ck_assert_int_eq(request(big, out, sizeof(out), NULL), 431);
    /* The server took all of it and still serves. */
    ask(srv.port, "a3", "d9\n");
    stop_server();
}
END_TEST

START_TEST(test_websocket_handshake_answers_the_rfc_key)
{
    char head[1024];
    struct wsc w;
    start_server(NULL, NULL);
    ck_assert_int_eq(wsc_open(&w, srv.port, "/ws", NULL, head, sizeof(head)), 101);
    /* RFC 6455 section 1.3: this key's answer. */
    ck_assert_ptr_nonnull(strstr(head, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    wsc_close(&w);
    ck_assert_int_eq(wsc_open(&w, srv.port, "/ws", "Origin: http://elsewhere.example\r\n", head, sizeof(head)), 403);
    wsc_close(&w);
    char origin[64];
    snprintf(origin, sizeof(origin), "Origin: http://127.0.0.1:%d\r\n", srv.port);
    ck_assert_int_eq(wsc_open(&w, srv.port, "/ws", origin, head, sizeof(head)), 101);
    wsc_close(&w);
    ck_assert_int_eq(wsc_open(&w, srv.port, "/ws/top?n=0", NULL, head, sizeof(head)), 400);
    wsc_close(&w);
    /* The count is read as /api/top reads it, escapes and all. */
    ck_assert_int_eq(wsc_open(&w, srv.port, "/ws/top?n=%35", NULL, head, sizeof(head)), 101);
    wsc_close(&w);
    stop_server();
}
END_TEST

/* A request that never ends is not progress: the connection is closed after --idle-timeout, and the
 * server serves others meanwhile. */
START_TEST(test_unfinished_request_is_closed_when_idle)
{
    start_server("--idle-timeout", "1", NULL);
    int fd = dial(srv.port);
    send_str(fd, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: a");
    ask(srv.port, "a5", "d25\n");
    expect_eof(fd);
    close(fd);
    stop_server();
}
END_TEST

/* A request's fields are its own: the next request on the connection does not inherit them. */
START_TEST(test_fields_of_one_request_are_not_read_as_the_next_ones)
{
    static char out[RESPONSE_MAX];
    start_server(NULL, NULL);
    int fd = dial(srv.port);
    send_str(fd, "GET / HTTP/1.1\r\nHost: x\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n"
                 "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    ck_assert_int_eq(read_response(fd, out, sizeof(out), NULL), 200);
    ck_assert_int_eq(read_response(fd, out, sizeof(out), NULL), 426);    /* no version of its own */
    close(fd);
    stop_server();
}
END_TEST

/* A request read a byte at a time (each read ending inside a field) keeps the same fields, and a
 * field given twice is one list. */
START_TEST(test_request_read_a_byte_at_a_time_keeps_its_fields)
{
    static const char req[] = "GET /ws?n=3 HTTP/1.1\r\nHost: h:1\r\nConnection: keep-alive\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nX-Other: ignored\r\n\r\n";
    static struct request rq;
    request_init(&rq);
    enum request_state st = REQUEST_MORE;
    for (size_t i = 0; i < sizeof(req) - 1; i++) {
        size_t used;
        ck_assert_int_eq(st, REQUEST_MORE);
        st = request_parse(&rq, req + i, 1, &used);
        ck_assert_uint_eq(used, 1);
    }
    ck_assert_int_eq(st, REQUEST_DONE);
    ck_assert_int_eq(rq.status, 0);
    ck_assert_str_eq(rq.url, "/ws?n=3");
    ck_assert_str_eq(request_value(&rq, RQ_HOST), "h:1");
    ck_assert_str_eq(request_value(&rq, RQ_CONNECTION), "keep-alive,Upgrade");
    ck_assert_str_eq(request_value(&rq, RQ_UPGRADE), "websocket");
    ck_assert(!request_has(&rq, RQ_WS_KEY));
    ck_assert_str_eq(request_value(&rq, RQ_WS_KEY), "");
}
END_TEST

/* The next frame is a binary message holding exactly want. */
static void expect_message(struct wsc *w, const char *want, size_t n)
{
    char buf[1024];
    int op = 0;
    long len = wsc_recv(w, &op, buf, sizeof(buf));
    ck_assert_msg(len >= 0, "no message (wanted %s)", show(want, n));
    ck_assert_int_eq(op, WSC_BINARY);
    ck_assert_msg((size_t)len == n && memcmp(buf, want, n) == 0, "got %s, wanted %s", show(buf, (size_t)len),
                  show(want, n));
}
#define EXPECT_MSG(w, lit) expect_message((w), (lit), sizeof(lit) - 1)

/* The next binary messages hold exactly want, in one message or several: frames told in different
 * turns of the loop (an answer from a database that answers later) come in different messages. */
static void expect_stream(struct wsc *w, const char *want, size_t n)
{
    char buf[1024];
    size_t have = 0;
    while (have < n) {
        int op = 0;
        long len = wsc_recv(w, &op, buf + have, sizeof(buf) - have);
        ck_assert_msg(len >= 0, "no message (wanted %s)", show(want, n));
        ck_assert_int_eq(op, WSC_BINARY);
        have += (size_t)len;
    }
    ck_assert_msg(have == n && memcmp(buf, want, n) == 0, "got %s, wanted %s", show(buf, have), show(want, n));
}
#define EXPECT_STREAM(w, lit) expect_stream((w), (lit), sizeof(lit) - 1)

/* The next frame is a close with this code. */
static void expect_close(struct wsc *w, int code)
{
    char buf[256];
    int op = 0;
    long len = wsc_recv(w, &op, buf, sizeof(buf));
    ck_assert_int_eq(op, WSC_CLOSE);
    ck_assert_int_ge(len, 2);
    ck_assert_int_eq(((unsigned char)buf[0] << 8) | (unsigned char)buf[1], code);
}

static void open_ws(struct wsc *w, const char *path)
{
    char head[1024];
    ck_assert_int_eq(wsc_open(w, srv.port, path, NULL, head, sizeof(head)), 101);
}

START_TEST(test_websocket_plays_the_long_connection_game)
{
    struct wsc w;
    start_server(NULL, NULL);
    open_ws(&w, "/ws");
    ck_assert_int_eq(wsc_send(&w, WSC_BINARY, 1, "H\x03" "ana", 5), 0);
    EXPECT_MSG(&w, "A\x03" "ana");
    ck_assert_int_eq(wsc_send(&w, WSC_BINARY, 1, "2", 1), 0);
    char buf[64];
    int op;
    ck_assert_int_eq(wsc_recv(&w, &op, buf, sizeof(buf)), 3);
    ck_assert_int_eq(buf[0], 'M');
    ck_assert_int_eq(buf[2], rules(2, buf[1] - '0'));
    /* Frames split across messages any way are one stream: a hello in two fragments of two
     * messages, with a ping between. */
    ck_assert_int_eq(wsc_send(&w, WSC_BINARY, 0, "H", 1), 0);
    ck_assert_int_eq(wsc_send(&w, WSC_PING, 1, "hi", 2), 0);
    ck_assert_int_eq(wsc_recv(&w, &op, buf, sizeof(buf)), 2);
    ck_assert_int_eq(op, WSC_PONG);
    ck_assert_str_eq(buf, "hi");
    ck_assert_int_eq(wsc_send(&w, 0, 1, "\x02", 1), 0);
    ck_assert_int_eq(wsc_send(&w, WSC_BINARY, 1, "bo", 2), 0);
    EXPECT_MSG(&w, "N\x0d" "already named");
    /* A clean close is answered with the same code, then the connection ends. */
    ck_assert_int_eq(wsc_send(&w, WSC_CLOSE, 1, "\x03\xe8", 2), 0);
    expect_close(&w, 1000);
    expect_eof(w.fd);
    wsc_close(&w);
    stop_server();
}
END_TEST

START_TEST(test_websocket_and_tcp_players_play_each_other)
{
    struct wsc w;
    start_server(NULL, NULL);
    open_ws(&w, "/ws");
    ck_assert_int_eq(wsc_send(&w, WSC_BINARY, 1, "H\x03" "ana" "P", 6), 0);
    EXPECT_STREAM(&w, "A\x03" "anaW");
    int bo = dial(srv.port);
    hello(bo, "bo");
    send_str(bo, "P");
    EXPECT(bo, "V\x03" "ana");
    EXPECT_MSG(&w, "V\x02" "bo");
    ck_assert_int_eq(wsc_send(&w, WSC_BINARY, 1, "2", 1), 0);
    send_str(bo, "1");
    EXPECT_MSG(&w, "M1y");
    EXPECT(bo, "M2z");
    close(bo);
    EXPECT_MSG(&w, "G");
    wsc_close(&w);
    stop_keep();
    ck_assert_int_eq(harness_sql_int(srv.db, "SELECT count(*) FROM rounds"), 1);
    harness_cleanup(&srv);
}
END_TEST

/* Each way of breaking the protocol gets its close code, and the server serves on. */
START_TEST(test_websocket_protocol_errors_get_close_codes)
{
    struct wsc w;
    start_server(NULL, NULL);

    open_ws(&w, "/ws");
    w.masked = 0;
    ck_assert_int_eq(wsc_send(&w, WSC_BINARY, 1, "2", 1), 0);
    expect_close(&w, 1002);
    expect_eof(w.fd);
    wsc_close(&w);

    open_ws(&w, "/ws");
    ck_assert_int_eq(wsc_send(&w, WSC_TEXT, 1, "2", 1), 0);
    expect_close(&w, 1003);
    wsc_close(&w);

    open_ws(&w, "/ws");
    ck_assert_int_eq(wsc_send(&w, 3, 1, "2", 1), 0);     /* a reserved opcode */
    expect_close(&w, 1002);
    wsc_close(&w);

    open_ws(&w, "/ws");
    ck_assert_int_eq(wsc_send(&w, 0, 1, "2", 1), 0);     /* a continuation of nothing */
    expect_close(&w, 1002);
    wsc_close(&w);

    open_ws(&w, "/ws");
    ck_assert_int_eq(wsc_send(&w, WSC_BINARY, 0, "H", 1), 0);
    ck_assert_int_eq(wsc_send(&w, WSC_BINARY, 1, "2", 1), 0);  /* a new message inside one */
    expect_close(&w, 1002);
    wsc_close(&w);

    open_ws(&w, "/ws");
    ck_assert_int_eq(wsc_send_part(&w, WSC_BINARY, 1, 65537, " ", 1), 0);   /* one past the most */
    expect_close(&w, 1009);
    wsc_close(&w);

    ask(srv.port, "a4", "d16\n");
    stop_server();
}
END_TEST

/* The first board, then a new one once a rated round is stored, without asking. */
START_TEST(test_leaderboard_watchers_are_pushed_the_top_when_it_changes)
{
    struct wsc t;
    char buf[4096];
    int op;
    start_server(NULL, NULL);
    open_ws(&t, "/ws/top?n=5");
    ck_assert_int_ge(wsc_recv(&t, &op, buf, sizeof(buf)), 0);
    ck_assert_int_eq(op, WSC_TEXT);
    ck_assert_str_eq(buf, "{\"top\":[]}");

    int ana = dial(srv.port), bo = dial(srv.port);
    hello(ana, "ana");
    hello(bo, "bo");
    send_str(ana, "P");
    EXPECT(ana, "W");
    send_str(bo, "P");
    EXPECT(bo, "V\x03" "ana");
    EXPECT(ana, "V\x02" "bo");
    send_str(ana, "2");
    send_str(bo, "1");
    EXPECT(ana, "M1y");
    EXPECT(bo, "M2z");
    ck_assert_int_ge(wsc_recv(&t, &op, buf, sizeof(buf)), 0);
    ck_assert_int_eq(op, WSC_TEXT);
    /* 1200 each before; ana won with K 40: 1220 and 1180. */
    ck_assert_str_eq(buf, "{\"top\":["
                          "{\"rank\":1,\"name\":\"ana\",\"rating\":1220,\"provisional\":true,\"wins\":1,\"losses\":0,"
                          "\"draws\":0,\"rounds\":1,\"form\":\"W\"},"
                          "{\"rank\":2,\"name\":\"bo\",\"rating\":1180,\"provisional\":true,\"wins\":0,\"losses\":1,"
                          "\"draws\":0,\"rounds\":1,\"form\":\"L\"}]}");
    close(ana);
    close(bo);
    wsc_close(&t);
    stop_server();
}
END_TEST

START_TEST(test_shutdown_closes_websockets_with_a_close_frame)
{
    struct wsc w;
    start_server(NULL, NULL);
    open_ws(&w, "/ws");
    ck_assert_int_eq(wsc_send(&w, WSC_BINARY, 1, "H\x03" "ana", 5), 0);
    EXPECT_MSG(&w, "A\x03" "ana");
    kill(srv.pid, SIGTERM);
    EXPECT_MSG(&w, "E\x14server shutting down");
    expect_close(&w, 1000);
    expect_eof(w.fd);
    wsc_close(&w);
    ck_assert_int_eq(harness_stop(&srv), 0);
}
END_TEST

/* A sample from a /metrics body. */
static double metric_in(const char *body, const char *key)
{
    const char *at = strstr(body, key);
    ck_assert_msg(at != NULL, "no %s in\n%s", key, body);
    return strtod(at + strlen(key), NULL);
}

/* Enough bot rounds, one commit each, to take the WAL past STORE_WAL_FINISH frames (16 MiB) more
 * than twice: the server holds its commits while the checkpointer's last pass runs, so the WAL
 * starts over and stays near 16 MiB, and every answer still comes. */
START_TEST(test_commits_wait_for_the_checkpointers_last_pass_and_go_on)
{
    enum { ROUNDS = 16000 };
    struct stat wal;
    char name[sizeof(srv.db) + 8];
    static char out[RESPONSE_MAX];
    char *body;
    NEEDS_SQLITE("the WAL, its checkpointer and their metrics");
    start_server("--frame-rate", "0", NULL);
    int fd = dial(srv.port);
    for (int i = 0; i < ROUNDS; i++) {
        guest_round(fd, (char)('1' + i % 3));
    }
    ck_assert_int_eq(get("/metrics", out, sizeof(out), &body), 200);
    ck_assert_double_ge(metric_in(body, "\narcade_checkpoint_last_passes_total "), 1);
    ck_assert_double_eq(metric_in(body, "\narcade_checkpoint_failures_total "), 0);
    ck_assert_double_ge(metric_in(body, "\narcade_checkpoints_total "), 1);
    ck_assert_double_ge(metric_in(body, "\narcade_rounds_total{kind=\"guest\"} "), ROUNDS);
    snprintf(name, sizeof(name), "%s-wal", srv.db);
    ck_assert_int_eq(stat(name, &wal), 0);
    ck_assert_int_lt(wal.st_size, 20 << 20);
    close(fd);
}
END_TEST

static Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("http");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_sniff_tells_methods_from_frames_and_requests);
    tcase_add_test(tc, test_page_is_served_at_the_root_and_head_has_no_body);
    tcase_add_test(tc, test_classic_clients_are_unchanged_beside_http);
    tcase_add_test(tc, test_keep_alive_answers_pipelined_requests_in_order);
    tcase_add_test(tc, test_bad_requests_get_their_status_and_a_close);
    tcase_add_test(tc, test_unfinished_request_is_closed_when_idle);
    tcase_add_test(tc, test_websocket_handshake_answers_the_rfc_key);
    tcase_add_test(tc, test_fields_of_one_request_are_not_read_as_the_next_ones);
    tcase_add_test(tc, test_request_read_a_byte_at_a_time_keeps_its_fields);
    tcase_add_test(tc, test_websocket_plays_the_long_connection_game);
    tcase_add_test(tc, test_websocket_and_tcp_players_play_each_other);
    tcase_add_test(tc, test_websocket_protocol_errors_get_close_codes);
    tcase_add_test(tc, test_leaderboard_watchers_are_pushed_the_top_when_it_changes);
    tcase_add_test(tc, test_shutdown_closes_websockets_with_a_close_frame);
    tcase_add_test(tc, test_commits_wait_for_the_checkpointers_last_pass_and_go_on);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return suite_run(http_suite());
}
