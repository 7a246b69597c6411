/* arcaded end to end: the real binary on --port 0 with a temporary database, spoken to over TCP and
 * UDP exactly as docs/PROTOCOL.md shows, then the database read back after the server stopped.
 *
 * Every wait is a read with the harness's 10 s deadline (or a poll with one); nothing sleeps.
 * Check runs each test in its own process group and kills the group afterwards, so a failing test
 * does not leave its server running. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "expect.h"
#include "harness.h"
#include "pgtest.h"
#include "suite.h"

#define TEST_TIMEOUT 90     /* seconds Check gives one test */

/* ---- start, options, exit ---- */

/* Whether text shows the password of a PostgreSQL URI (postgresql://user:password@host/...) as the
 * URI does, ":password@"; a URI without one shows none. */
static int shows_password(const char *text, const char *uri)
{
    const char *user = strstr(uri, "://");
    if (user == NULL) {
        return 0;
    }
    user += 3;
    const char *at = strchr(user, '@'), *colon = strchr(user, ':');
    if (at == NULL || colon == NULL || colon > at) {
        return 0;
    }
    char secret[256];
    snprintf(secret, sizeof(secret), "%.*s", (int)(at - colon + 1), colon);
    return strstr(text, secret) != NULL;
}

START_TEST(test_first_log_line_has_port)
{
    struct harness h;
    char want[64];

    START(&h, NULL);
    snprintf(want, sizeof(want), "listening on 127.0.0.1:%d ", h.port);
    ck_assert_msg(strstr(h.first, want) != NULL, "first line \"%s\" lacks \"%s\"", h.first, want);
    if (!harness_engine_pg()) {
        ck_assert_msg(strstr(h.first, h.db) != NULL, "first line \"%s\" lacks the database %s", h.first, h.db);
    } else {
        /* The database's name, never the password. */
        char name[128];
        const char *slash = strrchr(h.db, '/');
        snprintf(name, sizeof(name), "%.*s", (int)strcspn(slash + 1, "?"), slash + 1);
        ck_assert_msg(strstr(h.first, name) != NULL, "first line \"%s\" lacks the database %s", h.first, name);
        ck_assert_msg(!shows_password(h.first, h.db), "first line \"%s\" shows the password", h.first);
    }
    ask(h.port, "a3\n", "d9\n");
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_help_and_version_exit_0)
{
    char out[4096], err[4096];
    char *help[] = { (char *)harness_arcaded(), "--help", NULL };
    char *version[] = { (char *)harness_arcaded(), "--version", NULL };

    ck_assert_int_eq(run(help, out, sizeof(out), err, sizeof(err)), 0);
    ck_assert_msg(strncmp(out, "usage: arcaded", 14) == 0, "--help printed \"%s\"", out);
    ck_assert_msg(strstr(out, "--idle-timeout") != NULL && strstr(out, "--max-conns") != NULL, "--help: %s", out);
    ck_assert_int_eq(run(version, out, sizeof(out), err, sizeof(err)), 0);
    ck_assert_msg(strncmp(out, "arcaded ", 8) == 0 && out[8] >= '0' && out[8] <= '9', "--version printed \"%s\"",
                  out);
}
END_TEST

START_TEST(test_bad_options_exit_2)
{
    char out[4096], err[4096];
    char *const cases[][4] = {
        { (char *)harness_arcaded(), "--bogus", NULL, NULL },
        { (char *)harness_arcaded(), "--port", "x", NULL },
        { (char *)harness_arcaded(), "--port", "70000", NULL },
        { (char *)harness_arcaded(), "--max-conns", "0", NULL },
        { (char *)harness_arcaded(), "--idle-timeout", "-1", NULL },
        { (char *)harness_arcaded(), "--sync", "often", NULL },
        { (char *)harness_arcaded(), "stray", NULL, NULL },
        { (char *)harness_arcaded(), "--port", NULL, NULL },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = run(cases[i], out, sizeof(out), err, sizeof(err));
        ck_assert_msg(rc == 2, "%s %s: exit %d, want 2", cases[i][1], cases[i][2] ? cases[i][2] : "", rc);
        ck_assert_msg(err[0] != '\0', "%s: nothing on stderr", cases[i][1]);
    }
}
END_TEST

START_TEST(test_db_in_missing_directory_exits_nonzero)
{
    char dir[64], path[128], out[4096], err[4096];

    NEEDS_SQLITE("a database file in a directory that does not exist");
    ck_assert_int_eq(suite_mkdtemp(dir, sizeof(dir), "nodb"), 0);
    snprintf(path, sizeof(path), "%s/missing/arcade.db", dir);
    char *argv[] = { (char *)harness_arcaded(), "--port", "0", "--db", path, NULL };
    int rc = run(argv, out, sizeof(out), err, sizeof(err));
    ck_assert_msg(rc != 0, "exit 0 with --db %s", path);
    ck_assert_msg(rc < 128, "killed by signal %d", rc - 128);
    ck_assert_msg(strstr(err, path) != NULL, "stderr does not name %s: \"%s\"", path, err);
    ck_assert_msg(strstr(err, "database") != NULL, "stderr does not say what failed: \"%s\"", err);
}
END_TEST

/* Its PostgreSQL counterpart: a database that does not exist on a server that does. The start
 * fails at once, says why, and does not show the password. */
START_TEST(test_pg_database_missing_exits_nonzero)
{
    char uri[256], out[4096], err[4096];

    NEEDS_POSTGRESQL("a database missing on a server that runs");
    /* A database made and dropped again: its name is free. */
    ck_assert_int_eq(pgtest_create(uri, sizeof(uri)), 0);
    ck_assert_int_eq(pgtest_drop(uri), 0);
    char *argv[] = { (char *)harness_arcaded(), "--port", "0", "--db", uri, NULL };
    int rc = run(argv, out, sizeof(out), err, sizeof(err));
    ck_assert_msg(rc != 0, "exit 0 with --db %s", uri);
    ck_assert_msg(rc < 128, "killed by signal %d", rc - 128);
    ck_assert_msg(strstr(err, "database") != NULL, "stderr does not say what failed: \"%s\"", err);
    ck_assert_msg(!shows_password(err, uri), "stderr shows the password: \"%s\"", err);
}
END_TEST

START_TEST(test_sigterm_with_connections_open)
{
    struct harness h;
    START(&h, NULL);
    int silent = dial(h.port);
    int shrt = dial(h.port);
    int lng = dial(h.port);
    int named = dial(h.port);

    send_str(shrt, "a4\n");
    expect_line(shrt, "d16\n");
    guest_round(lng, '2');
    hello(named, "ana");
    named_round(named, '1');
    ck_assert_int_eq(harness_stop(&h), 0);
    EXPECT(lng, "E\x14" "server shutting down");
    expect_eof(lng);
    EXPECT(named, "E\x14" "server shutting down");
    expect_eof(named);
    expect_eof(shrt);
    expect_eof(silent);
    close(silent);
    close(shrt);
    close(lng);
    close(named);
    harness_cleanup(&h);
}
END_TEST

/* Closing the terminal that runs the server sends SIGHUP: the same clean shutdown as SIGTERM. */
START_TEST(test_sighup_stops_cleanly)
{
    struct harness h;
    START(&h, NULL);
    int named = dial(h.port);

    hello(named, "ana");
    named_round(named, '1');
    ck_assert_int_eq(kill(h.pid, SIGHUP), 0);
    EXPECT(named, "E\x14" "server shutting down");
    expect_eof(named);
    ck_assert_int_eq(harness_stop(&h), 0);
    close(named);
    harness_cleanup(&h);
}
END_TEST

/* --verbose names each connection's peer, and the player it plays as. */
START_TEST(test_verbose_log_names_peers_and_players)
{
    struct harness h;
    static char log[16384];
    START(&h, "--verbose", NULL);
    int named = dial(h.port);

    hello(named, "ana");
    close(named);
    ck_assert_int_eq(harness_stop(&h), 0);
    read_log(&h, log, sizeof(log));
    ck_assert_msg(strstr(log, ": open from 127.0.0.1:") != NULL, "no peer in the log: %s", log);
    ck_assert_msg(strstr(log, ": plays as ana (unclaimed name)") != NULL, "no player in the log: %s", log);
    harness_cleanup(&h);
}
END_TEST

/* ---- short connections ---- */

static const char *const math_examples[][2] = {
    { "a12\n", "d144\n" },
    { "a0.1\n", "d0.01\n" },
    { "c1.5\n", "d5.0625\n" },
    { "b-2\n", "d-8\n" },
    { "d1.50\n", "d1.5\n" },
    { "a1e10\n", "d100000000000000000000\n" },
    { "a1e30\n", "d1e60\n" },
    { "a1.5e-30\n", "d2.25e-60\n" },
    { "x5\n", "eunknown op\n" },
    { "a\n", "eno number\n" },
    { "a12x\n", "ejunk after number\n" },
    /* PROTOCOL.md shows a1e999999999 as too large, but its own rule (an exponent's magnitude must be
     * below 10^9) and games/math.h accept it; the first refused exponent is 10^9. */
    { "a1e1000000000\n", "enumber too large\n" },
    { "a1e999999999\n", "d1e1999999998\n" },
    /* The number forms the protocol lists. */
    { "d12\n", "d12\n" },
    { "d-2\n", "d-2\n" },
    { "d+7\n", "d7\n" },
    { "d2.5\n", "d2.5\n" },
    { "d.5\n", "d0.5\n" },
    { "d5.\n", "d5\n" },
    { "d1e3\n", "d1000\n" },
    { "d1E-3\n", "d0.001\n" },
    { "d-1.25e+2\n", "d-125\n" },
    { "t0\n", "ebad count\n" },
    { "rnobody\n", "eunknown player\n" },
};

START_TEST(test_math_examples_one_connection_each)
{
    struct harness h;
    START(&h, NULL);
    for (size_t i = 0; i < sizeof(math_examples) / sizeof(math_examples[0]); i++) {
        ask(h.port, math_examples[i][0], math_examples[i][1]);
    }
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_math_examples_on_one_connection)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);
    for (size_t i = 0; i < sizeof(math_examples) / sizeof(math_examples[0]); i++) {
        send_str(fd, math_examples[i][0]);
        expect_line(fd, math_examples[i][1]);
    }
    close(fd);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_request_without_newline_is_answered)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);

    send_str(fd, "a2");
    expect_line(fd, "d4\n");
    /* The connection goes on: more unterminated requests, then a terminated one. */
    send_str(fd, "b3");
    expect_line(fd, "d27\n");
    send_str(fd, "\na5\n");
    expect_line(fd, "d25\n");
    close(fd);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_request_answered_at_half_close)
{
    struct harness h;
    START(&h, NULL);
    /* Complete or not, an unterminated request is answered when the client half-closes. */
    static const char *const cases[][2] = {
        { "a1", "d1\n" },
        { "a1e", "ejunk after number\n" },
        { "a", "eno number\n" },
        { "x5", "eunknown op\n" },
        { "a3\na4", "d9\nd16\n" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int fd = dial(h.port);
        char got[256];
        send_str(fd, cases[i][0]);
        ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
        ssize_t n = harness_recv_all(fd, got, sizeof(got));
        ck_assert_msg(strcmp(got, cases[i][1]) == 0, "\"%s\" + half-close: got \"%s\", want \"%s\"", cases[i][0],
                      show(got, (size_t)n), show(cases[i][1], strlen(cases[i][1])));
        close(fd);
    }
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_many_requests_in_one_write_in_order)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);
    char *req = malloc(500 * 8);
    size_t n = 0;

    ck_assert_ptr_nonnull(req);
    for (int i = 0; i < 500; i++) {
        n += (size_t)sprintf(req + n, "a%d\n", i);
    }
    put(fd, req, n);
    for (int i = 0; i < 500; i++) {
        char want[32];
        snprintf(want, sizeof(want), "d%d\n", i * i);
        expect_line(fd, want);
    }
    free(req);
    close(fd);
    harness_cleanup(&h);
}
END_TEST

/* Requests and answers pumped through one connection without waiting for each answer: every
 * answer in order, whatever chunks the kernel cuts the stream into. Returns on the first wrong
 * answer with its index in *bad, else *bad = -1. */
static void pipeline(int fd, int nreq, int *bad, char *got_line, size_t cap)
{
    char out[8192], in[65536], line[64];
    int next_req = 0, next_ans = 0;
    size_t out_len = 0, out_off = 0, in_len = 0;

    *bad = -1;
    while (next_ans < nreq) {
        if (out_off == out_len && next_req < nreq) {
            out_len = out_off = 0;
            while (next_req < nreq && out_len + 32 < sizeof(out)) {
                out_len += (size_t)sprintf(out + out_len, "a%d\n", next_req++);
            }
        }
        struct pollfd p = { .fd = fd, .events = POLLIN | (out_off < out_len ? POLLOUT : 0) };
        ck_assert_msg(poll(&p, 1, 10000) == 1, "stalled at answer %d of %d", next_ans, nreq);
        if (p.revents & POLLOUT) {
            ssize_t w = send(fd, out + out_off, out_len - out_off, MSG_DONTWAIT | MSG_NOSIGNAL);
            ck_assert_msg(w > 0 || errno == EAGAIN, "send: %s", strerror(errno));
            out_off += w > 0 ? (size_t)w : 0;
        }
        if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) {
            continue;
        }
        ssize_t r = recv(fd, in + in_len, sizeof(in) - in_len, MSG_DONTWAIT);
        ck_assert_msg(r > 0, "connection ended at answer %d of %d", next_ans, nreq);
        in_len += (size_t)r;
        char *start = in, *nl;
        while ((nl = memchr(start, '\n', in_len - (size_t)(start - in))) != NULL) {
            snprintf(line, sizeof(line), "d%lld\n", (long long)next_ans * next_ans);
            size_t len = (size_t)(nl - start) + 1;
            if (len != strlen(line) || memcmp(start, line, len) != 0) {
                *bad = next_ans;
                snprintf(got_line, cap, "%s", show(start, len));
                return;
            }
            next_ans++;
            start = nl + 1;
        }
        in_len -= (size_t)(start - in);
        memmove(in, start, in_len);
    }
}

START_TEST(test_pipelined_requests_answered_in_order)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);
    int bad;
    char got[256] = "";

    pipeline(fd, 200000, &bad, got, sizeof(got));
    ck_assert_msg(bad < 0, "answer %d is \"%s\", want \"d%lld\\n\"", bad, got, (long long)bad * bad);
    close(fd);
    harness_cleanup(&h);
}
END_TEST

/* The same, but the requests go out in a few writes of a megabyte from another process: the kernel
 * cuts them into segments anywhere, also inside a line, and the server must wait for the rest of
 * that line rather than answer its first part. */
START_TEST(test_big_writes_answered_in_order)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);
    const int nreq = 400000;
    size_t cap = (size_t)nreq * 9, n = 0;
    char *req = malloc(cap);

    ck_assert_ptr_nonnull(req);
    for (int i = 0; i < nreq; i++) {
        n += (size_t)sprintf(req + n, "a%d\n", i);
    }
    pid_t writer = fork();
    ck_assert_int_ge(writer, 0);
    if (writer == 0) {
        for (size_t off = 0; off < n; off += 1u << 20) {
            size_t len = n - off < (1u << 20) ? n - off : 1u << 20;
            if (harness_send(fd, req + off, len) < 0) {
                _exit(1);
            }
        }
        _exit(0);
    }
    free(req);
    for (int i = 0; i < nreq; i++) {
        char want[32], got[64];
        snprintf(want, sizeof(want), "d%lld\n", (long long)i * i);
        ssize_t r = harness_recv_line(fd, got, sizeof(got));
        ck_assert_msg(r > 0 && strcmp(got, want) == 0, "answer %d: got \"%s\", want \"%s\"", i,
                      show(got, r > 0 ? (size_t)r : 0), show(want, strlen(want)));
    }
    int status;
    ck_assert_int_eq(waitpid(writer, &status, 0), writer);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the writer failed");
    close(fd);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_crlf_line_endings)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);

    send_str(fd, "a12\r\nb2\r\n");
    expect_line(fd, "d144\n");
    expect_line(fd, "d8\n");
    send_str(fd, "x\r\n");
    expect_line(fd, "eunknown op\n");
    send_str(fd, "t\r\n");
    expect_line(fd, ".\n");
    close(fd);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_blank_lines_ignored)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);

    send_str(fd, "a1\n\n\n  \n\t\n\r\n \t\r\na3\n");
    expect_line(fd, "d1\n");
    expect_line(fd, "d9\n");
    /* Had a blank line been answered, its answer would come here instead. */
    send_str(fd, "a5\n");
    expect_line(fd, "d25\n");
    close(fd);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_whitespace_before_first_byte)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);

    /* Whitespace alone decides nothing, even in its own segment. */
    send_str(fd, " \r\n\t\n");
    send_str(fd, " a3\n");
    expect_line(fd, "d9\n");
    close(fd);
    fd = dial(h.port);
    send_str(fd, "\n\n b2\n");
    expect_line(fd, "d8\n");
    close(fd);
    fd = dial(h.port);
    send_str(fd, "\r\na3\n");
    expect_line(fd, "d9\n");
    close(fd);
    fd = dial(h.port);
    send_str(fd, " \t\r\n");
    guest_round(fd, '2');
    close(fd);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_line_over_1024_bytes)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);
    char line[2100];

    /* 1024 bytes is still a line: d and 1023 digits. */
    line[0] = 'd';
    memset(line + 1, '7', 1023);
    memcpy(line + 1024, "\n", 2);
    send_str(fd, line);
    expect_line(fd, line);
    /* 1025 bytes and a newline, then a good line in the same write. */
    line[0] = 'a';
    memset(line + 1, '1', 1024);
    memcpy(line + 1025, "\na2\n", 5);
    send_str(fd, line);
    expect_line(fd, "eline too long\n");
    expect_line(fd, "d4\n");
    /* 2000 bytes without a newline: refused before the line ends, and its rest is skipped. */
    memset(line + 1, '1', 1999);
    put(fd, line, 2000);
    expect_line(fd, "eline too long\n");
    send_str(fd, "1111\na7\n");
    expect_line(fd, "d49\n");
    close(fd);
    harness_cleanup(&h);
}
END_TEST

/* The answer to a datagram whose source could be forged is at most three times its size: past that,
 * `etcp only`, or nothing when even that would be more. */
START_TEST(test_udp_never_amplifies_past_three_times)
{
    struct harness h;
    static char big[1 + 1000];
    char got[4096];
    START(&h, NULL);
    int fd = harness_udp();
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)h.port) };
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    big[0] = 'c';
    memset(big + 1, '9', sizeof(big) - 1);      /* its fourth power has 4000 digits */
    ck_assert_int_gt(sendto(fd, big, sizeof(big), 0, (struct sockaddr *)&to, sizeof(to)), 0);
    ssize_t n = recv(fd, got, sizeof(got), 0);
    ck_assert_msg(n == 10 && memcmp(got, "etcp only\n", 10) == 0, "a 1001-byte c got %zd bytes: \"%s\"", n,
                  show(got, n > 0 ? (size_t)n : 0));
    big[0] = 'a';                               /* its square: 2000 digits, 2002 bytes with d and \n */
    ck_assert_int_gt(sendto(fd, big, sizeof(big), 0, (struct sockaddr *)&to, sizeof(to)), 0);
    n = recv(fd, got, sizeof(got), 0);
    ck_assert_int_eq(n, 2002);
    /* c57 (3 bytes) is d10556001\n (10): more than 9, and so is the error: nothing comes back. The
     * next request's answer is the next datagram. */
    ck_assert_int_gt(sendto(fd, "c57", 3, 0, (struct sockaddr *)&to, sizeof(to)), 0);
    ck_assert_int_gt(sendto(fd, "c9", 2, 0, (struct sockaddr *)&to, sizeof(to)), 0);
    n = recv(fd, got, sizeof(got), 0);
    ck_assert_msg(n == 6 && memcmp(got, "d6561\n", 6) == 0, "got \"%s\"", show(got, n > 0 ? (size_t)n : 0));
    close(fd);
    harness_cleanup(&h);
}
END_TEST

/* --udp-rate: a source past its budget is dropped, silently (an answer would be traffic too); other
 * sources are answered. */
START_TEST(test_udp_rate_per_source)
{
    struct harness h;
    char got[64];
    START(&h, "--udp-rate", "5", NULL);
    int fd = harness_udp(), other = harness_udp();
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)h.port) };
    struct sockaddr_in from = { .sin_family = AF_INET };
    struct timeval tv = { .tv_usec = 300000 };
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    inet_pton(AF_INET, "127.0.0.7", &from.sin_addr);
    ck_assert_int_eq(bind(other, (struct sockaddr *)&from, sizeof(from)), 0);

    for (int i = 0; i < 50; i++) {
        ck_assert_int_gt(sendto(fd, "a2", 2, 0, (struct sockaddr *)&to, sizeof(to)), 0);
    }
    /* The last datagram is the other source's: once it is answered, the 50 have all been read. */
    ck_assert_int_gt(sendto(other, "a3", 2, 0, (struct sockaddr *)&to, sizeof(to)), 0);
    ssize_t n = recv(other, got, sizeof(got), 0);
    ck_assert_msg(n == 3 && memcmp(got, "d9\n", 3) == 0, "the other source got \"%s\"", show(got, n > 0 ? (size_t)n : 0));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int answered = 0;
    while (recv(fd, got, sizeof(got), 0) > 0) {
        answered++;
    }
    ck_assert_msg(answered >= 5 && answered <= 7, "%d of 50 datagrams answered at --udp-rate 5", answered);
    close(fd);
    close(other);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_udp_requests)
{
    struct harness h;
    START(&h, NULL);
    int fd = harness_udp();
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)h.port) };
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static const char *const cases[][2] = {
        { "a12", "d144\n" }, { "a12\n", "d144\n" }, { "a12\r\n", "d144\n" },
        { "x5555", "eunknown op\n" }, { " a2", "d4\n" }, { "\ta2", "d4\n" },
        /* Read as a TCP line is: blanks after the number are junk, as they are over TCP. */
        { "a1234567 ", "ejunk after number\n" }, { "a1234567\t\n", "ejunk after number\n" },
        /* Leaderboards are TCP only: over UDP they would amplify forged requests. */
        { "t100", "etcp only\n" }, { "rnobody\n", "etcp only\n" },
    };

    ck_assert_int_ge(fd, 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char got[256];
        ck_assert_int_gt(sendto(fd, cases[i][0], strlen(cases[i][0]), 0, (struct sockaddr *)&to, sizeof(to)), 0);
        ssize_t n = recv(fd, got, sizeof(got) - 1, 0);
        ck_assert_msg(n > 0, "no datagram for \"%s\"", show(cases[i][0], strlen(cases[i][0])));
        got[n] = '\0';
        ck_assert_msg(strcmp(got, cases[i][1]) == 0, "\"%s\": got \"%s\"", show(cases[i][0], strlen(cases[i][0])),
                      show(got, (size_t)n));
    }
    close(fd);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_short_and_long_at_once)
{
    struct harness h;
    START(&h, NULL);
    int shrt = dial(h.port);
    int lng = dial(h.port);

    send_str(shrt, "a3\n");
    guest_round(lng, '2');
    expect_line(shrt, "d9\n");
    guest_round(lng, '3');
    send_str(shrt, "b3\n");
    expect_line(shrt, "d27\n");
    guest_round(lng, '1');
    close(shrt);
    close(lng);
    harness_cleanup(&h);
}
END_TEST

/* ---- long connections ---- */

START_TEST(test_guest_plays_bot_one_byte_at_a_time)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);

    for (int i = 0; i < 100; i++) {
        guest_round(fd, (char)('1' + i % 3));
    }
    /* Nothing but the result bytes came: the next bytes are exactly this error. */
    send_str(fd, "7");
    EXPECT(fd, "E\x09" "bad frame");
    close(fd);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_guest_half_close_gets_results)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);
    char got[16];

    send_str(fd, "123");
    ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
    ssize_t n = harness_recv_all(fd, got, sizeof(got));
    ck_assert_msg(n == 3, "got \"%s\"", show(got, n > 0 ? (size_t)n : 0));
    for (int i = 0; i < 3; i++) {
        ck_assert_msg(got[i] >= 'x' && got[i] <= 'z', "result %d is 0x%02x", i, (unsigned char)got[i]);
    }
    close(fd);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_named_player_against_bot)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);
    int seen[4] = { 0 };

    send_str(fd, "H\x03" "ana");
    EXPECT(fd, "A\x03" "ana");
    for (int i = 0; i < 60; i++) {
        char move = (char)('1' + i % 3);
        char got[3];
        put(fd, &move, 1);
        ck_assert_int_eq(harness_recv_n(fd, got, 3), 3);
        ck_assert_msg(got[0] == 'M' && got[1] >= '1' && got[1] <= '3', "frame \"%s\"", show(got, 3));
        ck_assert_msg(got[2] == rules(move - '0', got[1] - '0'), "%c against %c gave '%c'", move, got[1], got[2]);
        seen[got[1] - '0']++;
    }
    /* The bot is not stuck on one move (each is missed in 60 rounds with probability 3 * (2/3)^60). */
    ck_assert_msg(seen[1] > 0 && seen[2] > 0 && seen[3] > 0, "bot moves %d %d %d", seen[1], seen[2], seen[3]);
    close(fd);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_longest_name_accepted)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);

    hello(fd, "abcdefghijklmnopqrstuvwxyz_-0189");
    named_round(fd, '2');
    close(fd);
    harness_cleanup(&h);
}
END_TEST

/* The protocol's refusals, one frame at a time and then all in one write. */
#define REFUSALS_IN                                                                                         \
    "H\x00" "H\x21" "222222222222222222222222222222222" "H\x03" "a!b" "H\x03" "ana" "H\x02" "bo" "7"
#define REFUSALS_OUT                                                                                        \
    "N\x0a" "bad length" "N\x0a" "bad length" "N\x08" "bad name" "A\x03" "ana" "N\x0d" "already named"     \
    "E\x09" "bad frame"

START_TEST(test_hello_refusals_one_by_one)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);

    put(fd, "H\x00", 2);
    EXPECT(fd, "N\x0a" "bad length");
    /* The 33 bytes of a too-long hello are skipped, not played. */
    send_str(fd, "H\x21" "222222222222222222222222222222222");
    EXPECT(fd, "N\x0a" "bad length");
    send_str(fd, "H\x03" "a!b");
    EXPECT(fd, "N\x08" "bad name");
    /* Refused hellos leave the connection a guest. */
    guest_round(fd, '2');
    send_str(fd, "H\x03" "ana");
    EXPECT(fd, "A\x03" "ana");
    send_str(fd, "H\x02" "bo");
    EXPECT(fd, "N\x0d" "already named");
    send_str(fd, "7");
    EXPECT(fd, "E\x09" "bad frame");
    /* Still ana, still playing. */
    named_round(fd, '3');
    close(fd);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_hello_refusals_in_one_write)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);

    put(fd, REFUSALS_IN, sizeof(REFUSALS_IN) - 1);
    EXPECT(fd, REFUSALS_OUT);
    named_round(fd, '1');
    close(fd);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_hello_refusals_byte_by_byte)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);

    /* Each byte its own segment: a hello cut anywhere waits for its rest. */
    for (size_t i = 0; i < sizeof(REFUSALS_IN) - 1; i++) {
        put(fd, &REFUSALS_IN[i], 1);
    }
    EXPECT(fd, REFUSALS_OUT);
    named_round(fd, '1');
    close(fd);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_play_from_guest_needs_hello)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);

    send_str(fd, "P");
    EXPECT(fd, "E\x0b" "hello first");
    guest_round(fd, '1');
    send_str(fd, "P");
    EXPECT(fd, "E\x0b" "hello first");
    send_str(fd, "L");
    EXPECT(fd, "B");
    guest_round(fd, '2');
    close(fd);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_whitespace_ignored_on_long_connection)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);
    char got[3];

    send_str(fd, "2 \t\r\n3\n\n  1\r\n");
    ck_assert_int_eq(harness_recv_n(fd, got, 3), 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_msg(got[i] >= 'x' && got[i] <= 'z', "byte %d is 0x%02x", i, (unsigned char)got[i]);
    }
    send_str(fd, "\n\n7");
    EXPECT(fd, "E\x09" "bad frame");
    send_str(fd, " H\x02" "bo \n");
    EXPECT(fd, "A\x02" "bo");
    named_round(fd, '2');
    close(fd);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_bad_bytes_do_not_disturb_others)
{
    struct harness h;
    START(&h, NULL);
    int bad = dial(h.port);
    int bad_short = dial(h.port);
    int good_long = dial(h.port);
    int good_short = dial(h.port);

    guest_round(bad, '2');
    put(bad, "7\x80\x00!x", 5);
    put(bad_short, "\x80\x00zz\nq\n", 7);
    guest_round(good_long, '3');
    send_str(good_short, "a6\n");
    expect_line(good_short, "d36\n");
    EXPECT(bad, "E\x09" "bad frame" "E\x09" "bad frame" "E\x09" "bad frame" "E\x09" "bad frame"
                "E\x09" "bad frame");
    expect_line(bad_short, "eunknown op\n");
    expect_line(bad_short, "eunknown op\n");
    /* Both bad clients are still served. */
    guest_round(bad, '1');
    send_str(bad_short, "a2\n");
    expect_line(bad_short, "d4\n");
    guest_round(good_long, '2');
    send_str(good_short, "a7\n");
    expect_line(good_short, "d49\n");
    close(bad);
    close(bad_short);
    close(good_long);
    close(good_short);
    harness_cleanup(&h);
}
END_TEST

/* ---- the database ---- */

START_TEST(test_results_stored_after_stop)
{
    struct harness h;
    struct tally ana = { 0 }, bo = { 0 }, guest = { 0 };
    START(&h, NULL);
    int a = dial(h.port), b = dial(h.port), g = dial(h.port);

    hello(a, "ana");
    for (int i = 0; i < 20; i++) {
        tally_add(&ana, named_round(a, (char)('1' + i % 3)));
    }
    /* Rounds played before a hello stay the guest's. */
    for (int i = 0; i < 3; i++) {
        tally_add(&guest, guest_round(b, '2'));
    }
    hello(b, "bo");
    for (int i = 0; i < 4; i++) {
        tally_add(&bo, named_round(b, '3'));
    }
    for (int i = 0; i < 7; i++) {
        tally_add(&guest, guest_round(g, '1'));
    }
    close(a);
    close(b);
    close(g);
    ck_assert_int_eq(harness_stop(&h), 0);

    ck_assert_int_eq(sql(&h, "SELECT rounds FROM players WHERE name = 'ana'"), 20);
    ck_assert_int_eq(sql(&h, "SELECT wins FROM players WHERE name = 'ana'"), ana.wins);
    ck_assert_int_eq(sql(&h, "SELECT losses FROM players WHERE name = 'ana'"), ana.losses);
    ck_assert_int_eq(sql(&h, "SELECT draws FROM players WHERE name = 'ana'"), ana.draws);
    ck_assert_int_eq(sql(&h, "SELECT rounds FROM players WHERE name = 'bo'"), 4);
    ck_assert_int_eq(sql(&h, "SELECT wins FROM players WHERE name = 'bo'"), bo.wins);
    ck_assert_int_eq(sql(&h, "SELECT losses FROM players WHERE name = 'bo'"), bo.losses);
    ck_assert_int_eq(sql(&h, "SELECT sum(rounds) FROM players WHERE name IS NULL"), 10);
    ck_assert_int_eq(sql(&h, "SELECT sum(wins) FROM players WHERE name IS NULL"), guest.wins);
    ck_assert_int_eq(sql(&h, "SELECT sum(losses) FROM players WHERE name IS NULL"), guest.losses);
    ck_assert_int_eq(sql(&h, "SELECT sum(draws) FROM players WHERE name IS NULL"), guest.draws);
    /* Bot rounds move no rating. */
    ck_assert_int_eq(sql(&h, "SELECT count(*) FROM players WHERE rating != 1200 OR rated != 0"), 0);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_guest_rounds_stored)
{
    struct harness h;
    START(&h, NULL);
    int a = dial(h.port), b = dial(h.port);

    for (int i = 0; i < 4; i++) {
        guest_round(a, '1');
    }
    /* Several rounds in one write land in one commit. */
    send_str(b, "123123");
    char got[6];
    ck_assert_int_eq(harness_recv_n(b, got, 6), 6);
    close(a);
    close(b);
    /* Fifty more guests, one round each. */
    for (int i = 0; i < 50; i++) {
        int g = dial(h.port);
        guest_round(g, '2');
        close(g);
    }
    ck_assert_int_eq(harness_stop(&h), 0);
    ck_assert_int_eq(sql(&h, "SELECT sum(rounds) FROM players WHERE name IS NULL"), 60);
    ck_assert_int_eq(sql(&h, "SELECT sum(wins + losses + draws) FROM players WHERE name IS NULL"), 60);
    /* Guests do not grow the database: one row holds all of a server's guest rounds. */
    ck_assert_int_eq(sql(&h, "SELECT count(*) FROM players WHERE name IS NULL"), 1);
    harness_cleanup(&h);
}
END_TEST

/* A hello in the middle of one write: the rounds before it are the guest's, those after it the
 * player's, though all of them are stored in the same commit. */
START_TEST(test_hello_between_rounds_in_one_write)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);
    char got[2 + 4 + 6];
    struct tally guest = { 0 }, cy = { 0 };

    send_str(fd, "22H\x02" "cy31");
    ck_assert_int_eq(harness_recv_n(fd, got, sizeof(got)), (ssize_t)sizeof(got));
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(got[i] >= 'x' && got[i] <= 'z', "guest result %d is 0x%02x", i, (unsigned char)got[i]);
        tally_add(&guest, got[i]);
    }
    ck_assert_msg(memcmp(got + 2, "A\x02" "cy", 4) == 0, "got \"%s\"", show(got, sizeof(got)));
    for (int i = 0; i < 2; i++) {
        const char *f = got + 6 + 3 * i;
        ck_assert_msg(f[0] == 'M' && f[1] >= '1' && f[1] <= '3', "frame \"%s\"", show(f, 3));
        ck_assert_int_eq(f[2], rules(i == 0 ? 3 : 1, f[1] - '0'));
        tally_add(&cy, f[2]);
    }
    close(fd);
    ck_assert_int_eq(harness_stop(&h), 0);
    ck_assert_int_eq(sql(&h, "SELECT rounds FROM players WHERE name = 'cy'"), 2);
    ck_assert_int_eq(sql(&h, "SELECT wins FROM players WHERE name = 'cy'"), cy.wins);
    ck_assert_int_eq(sql(&h, "SELECT sum(rounds) FROM players WHERE name IS NULL"), 2);
    ck_assert_int_eq(sql(&h, "SELECT sum(wins) FROM players WHERE name IS NULL"), guest.wins);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_results_survive_restart)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);

    hello(fd, "ana");
    for (int i = 0; i < 5; i++) {
        named_round(fd, '2');
    }
    close(fd);
    ck_assert_int_eq(harness_stop(&h), 0);
    ck_assert_msg(harness_restart(&h, NULL) == 0, "no restart: '%s'", h.first);
    fd = dial(h.port);
    hello(fd, "ana");
    for (int i = 0; i < 3; i++) {
        named_round(fd, '1');
    }
    close(fd);
    ck_assert_int_eq(harness_stop(&h), 0);
    ck_assert_int_eq(sql(&h, "SELECT count(*) FROM players WHERE name = 'ana'"), 1);
    ck_assert_int_eq(sql(&h, "SELECT rounds FROM players WHERE name = 'ana'"), 8);
    harness_cleanup(&h);
}
END_TEST

/* ---- the leaderboard ---- */

START_TEST(test_leaderboard_before_any_match)
{
    struct harness h;
    START(&h, NULL);
    int fd = dial(h.port);

    /* Bot rounds do not put a player on the board. */
    hello(fd, "ana");
    named_round(fd, '2');
    ask(h.port, "t\n", ".\n");
    ask(h.port, "t3\n", ".\n");
    ask(h.port, "t100\n", ".\n");
    ask(h.port, "rnobody\n", "eunknown player\n");
    ask(h.port, "rana\n", "eunknown player\n");
    ask(h.port, "rana 3\n", "eunknown player\n");
    ask(h.port, "t101\n", "ebad count\n");
    ask(h.port, "r!\n", "ebad name\n");
    ask(h.port, "rana 51\n", "ebad count\n");
    close(fd);
    harness_cleanup(&h);
}
END_TEST

/* Read a whole leaderboard answer (rows and the "." line) into got. */
static void board_answer(int fd, char *got, size_t cap)
{
    size_t n = 0;
    got[0] = '\0';
    for (;;) {
        ssize_t r = harness_recv_line(fd, got + n, cap - n);
        ck_assert_msg(r > 0, "answer ended early: \"%s\"", show(got, n));
        if (strcmp(got + n, ".\n") == 0) {
            return;
        }
        n += (size_t)r;
    }
}

START_TEST(test_leaderboard_after_a_match)
{
    struct harness h;
    char got[4096];
    START(&h, NULL);
    int ana = dial(h.port), bo = dial(h.port), q = dial(h.port);

    hello(ana, "ana");
    send_str(ana, "P");
    EXPECT(ana, "W");
    hello(bo, "bo");
    send_str(bo, "P");
    EXPECT(bo, "V\x03" "ana");
    EXPECT(ana, "V\x02" "bo");
    send_str(ana, "2");
    send_str(bo, "1");
    EXPECT(ana, "M1y");
    EXPECT(bo, "M2z");

    send_str(q, "t\n");
    board_answer(q, got, sizeof(got));
    ck_assert_str_eq(got, "1\tana\t1220\t1\t1\t0\t0\t1\tW\n2\tbo\t1180\t1\t0\t1\t0\t1\tL\n.\n");
    send_str(q, "t1\n");
    board_answer(q, got, sizeof(got));
    ck_assert_str_eq(got, "1\tana\t1220\t1\t1\t0\t0\t1\tW\n.\n");
    send_str(q, "rbo 0\n");
    board_answer(q, got, sizeof(got));
    ck_assert_str_eq(got, "2\tbo\t1180\t1\t0\t1\t0\t1\tL\n.\n");
    send_str(q, "rbo\n");
    board_answer(q, got, sizeof(got));
    ck_assert_str_eq(got, "1\tana\t1220\t1\t1\t0\t0\t1\tW\n2\tbo\t1180\t1\t0\t1\t0\t1\tL\n.\n");
    close(ana);
    close(bo);
    close(q);
    harness_cleanup(&h);
}
END_TEST

/* ---- limits ---- */

START_TEST(test_idle_timeout_closes_short_not_long)
{
    struct harness h;
    START(&h, "--idle-timeout", "0.5", NULL);
    int silent = dial(h.port);
    int shrt = dial(h.port);
    int lng = dial(h.port);

    send_str(shrt, "a2\n");
    expect_line(shrt, "d4\n");
    guest_round(lng, '2');
    expect_eof(silent);
    expect_eof(shrt);
    /* The long connection outlived both. */
    guest_round(lng, '3');
    close(silent);
    close(shrt);
    close(lng);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_long_idle_timeout_closes_long_not_short)
{
    struct harness h;
    /* Short connections get longer than the 10 s the reads wait, long ones much less. */
    START(&h, "--long-idle-timeout", "0.5", "--idle-timeout", "60", NULL);
    int shrt = dial(h.port);
    int lng = dial(h.port);

    send_str(shrt, "a2\n");
    expect_line(shrt, "d4\n");
    hello(lng, "ana");
    expect_eof(lng);
    /* The short connection outlived it. */
    send_str(shrt, "a3\n");
    expect_line(shrt, "d9\n");
    close(shrt);
    close(lng);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_max_conns)
{
    struct harness h;
    char got[64];
    START(&h, "--max-conns", "2", NULL);
    int one = dial(h.port), two = dial(h.port);

    /* Both answered, so the server has taken both. */
    send_str(one, "a1\n");
    expect_line(one, "d1\n");
    guest_round(two, '2');
    int three = dial(h.port);
    ssize_t n = harness_recv_all(three, got, sizeof(got));
    ck_assert_msg(strcmp(got, "ebusy\n") == 0, "third connection got \"%s\"", show(got, (size_t)n));
    close(three);
    send_str(one, "a2\n");
    expect_line(one, "d4\n");
    guest_round(two, '3');
    /* Once the server has closed one, a new connection is served. */
    ck_assert_int_eq(shutdown(one, SHUT_WR), 0);
    expect_eof(one);
    close(one);
    int four = dial(h.port);
    send_str(four, "a3\n");
    expect_line(four, "d9\n");
    close(two);
    close(four);
    harness_cleanup(&h);
}
END_TEST

#define FLOOD_MAX (20u * 1024 * 1024)
#define FLOOD_LINE "a1e999999\n"

START_TEST(test_client_that_never_reads)
{
    struct harness h;
    START(&h, NULL);
    int greedy = dial(h.port);
    static char chunk[65530];
    size_t sent = 0, off = 0;
    int dropped = 0;

    for (size_t i = 0; i < sizeof(chunk); i += sizeof(FLOOD_LINE) - 1) {
        memcpy(chunk + i, FLOOD_LINE, sizeof(FLOOD_LINE) - 1);
    }
    /* Send until the socket stays full for a second (the server stopped taking input),
     * the server drops the client, or FLOOD_MAX went out. */
    while (sent < FLOOD_MAX) {
        ssize_t w = send(greedy, chunk + off, sizeof(chunk) - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0) {
            sent += (size_t)w;
            off = (off + (size_t)w) % sizeof(chunk);
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = { .fd = greedy, .events = POLLOUT };
            if (poll(&p, 1, 1000) == 0) {
                break;
            }
            continue;
        }
        dropped = 1;
        break;
    }
    ck_assert_msg(dropped || sent < FLOOD_MAX, "the server took all %u bytes from a client that reads nothing",
                  FLOOD_MAX);
    /* Others are served as usual. */
    ask(h.port, "a5\n", "d25\n");
    int other = dial(h.port);
    guest_round(other, '2');
    send_str(other, "H\x02" "bo");
    EXPECT(other, "A\x02" "bo");
    named_round(other, '1');
    close(other);
    close(greedy);
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

static Suite *server_suite(void)
{
    Suite *s = suite_create("server");
    TCase *process = tcase_create("process");
    TCase *shrt = tcase_create("short");
    TCase *lng = tcase_create("long");
    TCase *db = tcase_create("database");
    TCase *limits = tcase_create("limits");
    TCase *all[] = { process, shrt, lng, db, limits };

    tcase_add_test(process, test_first_log_line_has_port);
    tcase_add_test(process, test_help_and_version_exit_0);
    tcase_add_test(process, test_bad_options_exit_2);
    tcase_add_test(process, test_db_in_missing_directory_exits_nonzero);
    tcase_add_test(process, test_pg_database_missing_exits_nonzero);
    tcase_add_test(process, test_sigterm_with_connections_open);
    tcase_add_test(process, test_sighup_stops_cleanly);
    tcase_add_test(process, test_verbose_log_names_peers_and_players);

    tcase_add_test(shrt, test_math_examples_one_connection_each);
    tcase_add_test(shrt, test_math_examples_on_one_connection);
    tcase_add_test(shrt, test_request_without_newline_is_answered);
    tcase_add_test(shrt, test_request_answered_at_half_close);
    tcase_add_test(shrt, test_many_requests_in_one_write_in_order);
    tcase_add_test(shrt, test_pipelined_requests_answered_in_order);
    tcase_add_test(shrt, test_big_writes_answered_in_order);
    tcase_add_test(shrt, test_crlf_line_endings);
    tcase_add_test(shrt, test_blank_lines_ignored);
    tcase_add_test(shrt, test_whitespace_before_first_byte);
    tcase_add_test(shrt, test_line_over_1024_bytes);
    tcase_add_test(shrt, test_udp_requests);
    tcase_add_test(shrt, test_udp_never_amplifies_past_three_times);
    tcase_add_test(shrt, test_udp_rate_per_source);
    tcase_add_test(shrt, test_short_and_long_at_once);

    tcase_add_test(lng, test_guest_plays_bot_one_byte_at_a_time);
    tcase_add_test(lng, test_guest_half_close_gets_results);
    tcase_add_test(lng, test_named_player_against_bot);
    tcase_add_test(lng, test_longest_name_accepted);
    tcase_add_test(lng, test_hello_refusals_one_by_one);
    tcase_add_test(lng, test_hello_refusals_in_one_write);
    tcase_add_test(lng, test_hello_refusals_byte_by_byte);
    tcase_add_test(lng, test_play_from_guest_needs_hello);
    tcase_add_test(lng, test_whitespace_ignored_on_long_connection);
    tcase_add_test(lng, test_bad_bytes_do_not_disturb_others);

    tcase_add_test(db, test_results_stored_after_stop);
    tcase_add_test(db, test_guest_rounds_stored);
    tcase_add_test(db, test_hello_between_rounds_in_one_write);
    tcase_add_test(db, test_results_survive_restart);
    tcase_add_test(db, test_leaderboard_before_any_match);
    tcase_add_test(db, test_leaderboard_after_a_match);

    tcase_add_test(limits, test_idle_timeout_closes_short_not_long);
    tcase_add_test(limits, test_long_idle_timeout_closes_long_not_short);
    tcase_add_test(limits, test_max_conns);
    tcase_add_test(limits, test_client_that_never_reads);

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        tcase_set_timeout(all[i], TEST_TIMEOUT);
        suite_add_tcase(s, all[i]);
    }
    return s;
}

int main(void)
{
    return suite_run(server_suite());
}
