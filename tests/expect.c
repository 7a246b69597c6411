/*
 * expect: shared assertions of the end-to-end suites. Every wait is a read with the harness's
 * deadline, so a server that does not answer fails the test instead of hanging it.
 */
#include "expect.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "suite.h"

#define SHOW_SLOTS 4
#define SHOW_MAX 1100           /* a 257-byte frame, up to 4 characters a byte */
#define LINE_MAX_BYTES 8192
#define BYTES_MAX 4096

struct harness srv;
char port_arg[16];

void set_port_arg(int port)
{
    snprintf(port_arg, sizeof(port_arg), "%d", port);
}

void stop_server(void)
{
    harness_cleanup(&srv);
}

void stop_keep(void)
{
    ck_assert_msg(harness_stop(&srv) == 0, "the server did not exit cleanly (see %s)", srv.log);
}

const char *show(const void *p, size_t n)
{
    static char out[SHOW_SLOTS][SHOW_MAX];
    static int slot;
    char *o = out[slot++ % SHOW_SLOTS];
    size_t k = 0;
    const unsigned char *b = p;

    for (size_t i = 0; i < n && k + 8 < sizeof(out[0]); i++) {
        if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\\') {
            o[k++] = (char)b[i];
        } else if (b[i] == '\n') {
            k += (size_t)snprintf(o + k, sizeof(out[0]) - k, "\\n");
        } else {
            k += (size_t)snprintf(o + k, sizeof(out[0]) - k, "\\x%02x", b[i]);
        }
    }
    o[k] = '\0';
    return o;
}

int dial_from(int port, const char *source, int rcvbuf)
{
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    struct timeval tv = { .tv_sec = 10 };  /* harness_connect's deadline */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (rcvbuf > 0) {
        ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
    }
    if (source != NULL) {
        struct sockaddr_in from = { .sin_family = AF_INET };
        ck_assert_int_eq(inet_pton(AF_INET, source, &from.sin_addr), 1);
        ck_assert_msg(bind(fd, (struct sockaddr *)&from, sizeof(from)) == 0, "bind %s: %s", source, strerror(errno));
    }
    ck_assert_msg(connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0, "connect: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

int dial(int port)
{
    int fd = harness_connect(port);
    ck_assert_msg(fd >= 0, "cannot connect to port %d: %s", port, strerror(errno));
    return fd;
}

void put(int fd, const void *p, size_t n)
{
    ck_assert_msg(harness_send(fd, p, n) == 0, "send of %zu bytes failed: %s", n, strerror(errno));
}

void send_str(int fd, const char *s)
{
    put(fd, s, strlen(s));
}

void expect_bytes_as(int fd, const char *who, const void *want, size_t n)
{
    char got[BYTES_MAX];
    ck_assert_uint_le(n, sizeof(got));
    ssize_t r = harness_recv_n(fd, got, n);
    size_t have = r > 0 ? (size_t)r : 0;
    ck_assert_msg(have == n && memcmp(got, want, n) == 0, "%s%sexpected \"%s\", got \"%s\"%s",
                  who != NULL ? who : "", who != NULL ? ": " : "", show(want, n), show(got, have),
                  have < n ? " and then nothing (timeout or EOF)" : "");
}

void expect_bytes(int fd, const void *want, size_t n)
{
    expect_bytes_as(fd, NULL, want, n);
}

void expect_line(int fd, const char *want)
{
    char got[LINE_MAX_BYTES];
    ssize_t r = harness_recv_line(fd, got, sizeof(got));
    ck_assert_msg(r > 0 && strcmp(got, want) == 0, "expected \"%s\", got \"%s\" (%zd)", show(want, strlen(want)),
                  show(got, r > 0 ? (size_t)r : 0), r);
}

void expect_eof(int fd)
{
    char b[64];
    ssize_t r;
    do {
        r = recv(fd, b, sizeof(b), 0);
    } while (r < 0 && errno == EINTR);
    /* A reset is a close too: a server that closes with bytes it did not read sends one. */
    ck_assert_msg(r == 0 || (r < 0 && errno == ECONNRESET), "expected the server to close; recv gave %zd (%s) \"%s\"", r,
                  r < 0 ? strerror(errno) : "data", show(b, r > 0 ? (size_t)r : 0));
}

void ask(int port, const char *request, const char *want)
{
    char got[LINE_MAX_BYTES];
    ck_assert_msg(harness_ask(port, request, got, sizeof(got)) == 0, "no answer to \"%s\"",
                  show(request, strlen(request)));
    ck_assert_msg(strcmp(got, want) == 0, "\"%s\": expected \"%s\", got \"%s\"", show(request, strlen(request)),
                  show(want, strlen(want)), show(got, strlen(got)));
}

int http_get(int port, const char *path, char *body, size_t cap)
{
    char req[256], ans[65536];
    int fd = dial(port);
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
    put(fd, req, strlen(req));
    ssize_t n = harness_recv_all(fd, ans, sizeof(ans) - 1);
    close(fd);
    ans[n > 0 ? n : 0] = '\0';
    const char *b = strstr(ans, "\r\n\r\n");
    snprintf(body, cap, "%s", b != NULL ? b + 4 : "");
    int status = 0;
    return sscanf(ans, "HTTP/1.1 %d", &status) == 1 ? status : 0;
}

/* Rock 2 beats scissors 1, scissors 1 beat paper 3, paper 3 beats rock 2. */
char rules(int mine, int theirs)
{
    static const char table[4][4] = {
        [1] = { 0, 'x', 'z', 'y' },
        [2] = { 0, 'y', 'x', 'z' },
        [3] = { 0, 'z', 'y', 'x' },
    };
    ck_assert_msg(mine >= 1 && mine <= 3 && theirs >= 1 && theirs <= 3, "moves %d and %d", mine, theirs);
    return table[mine][theirs];
}

char guest_round(int fd, char move)
{
    char r = 0;
    put(fd, &move, 1);
    ck_assert_msg(harness_recv_n(fd, &r, 1) == 1, "no result for move %c", move);
    ck_assert_msg(r == 'x' || r == 'y' || r == 'z', "result byte 0x%02x for move %c", (unsigned char)r, move);
    return r;
}

char named_round(int fd, char move)
{
    char got[3];
    put(fd, &move, 1);
    ck_assert_msg(harness_recv_n(fd, got, 3) == 3, "no result frame for move %c", move);
    ck_assert_msg(got[0] == 'M' && got[1] >= '1' && got[1] <= '3', "result frame \"%s\"", show(got, 3));
    char want = rules(move - '0', got[1] - '0');
    ck_assert_msg(got[2] == want, "%c against %c: got '%c', want '%c'", move, got[1], got[2], want);
    return got[2];
}

void match_round(int a, const char *a_name, int a_move, int b, const char *b_name, int b_move)
{
    char move_a = (char)('0' + a_move), move_b = (char)('0' + b_move);
    char want_a[3] = { 'M', move_b, rules(a_move, b_move) }, want_b[3] = { 'M', move_a, rules(b_move, a_move) };
    put(a, &move_a, 1);
    put(b, &move_b, 1);
    expect_bytes_as(a, a_name, want_a, 3);
    expect_bytes_as(b, b_name, want_b, 3);
}

void hello(int fd, const char *name)
{
    char frame[64], want[64];
    size_t n = strlen(name);
    ck_assert_uint_le(n + 2, sizeof(frame));
    frame[0] = 'H';
    frame[1] = (char)n;
    memcpy(frame + 2, name, n);
    put(fd, frame, n + 2);
    want[0] = 'A';
    want[1] = (char)n;
    memcpy(want + 2, name, n);
    expect_bytes_as(fd, name, want, n + 2);
}

void tally_add(struct tally *t, char result)
{
    t->wins += result == 'y';
    t->losses += result == 'z';
    t->draws += result == 'x';
}

static uint64_t rng_state = 88172645463325252ull;

void rng_seed(uint64_t seed)
{
    rng_state = seed != 0 ? seed : 88172645463325252ull;
}

uint32_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32);
}

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void raise_nofile(void)
{
    struct rlimit rl;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rl.rlim_cur = rl.rlim_max;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

long long sql(const struct harness *h, const char *fmt, ...)
{
    char q[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    long long v = harness_sql_int(h->db, q);
    ck_assert_msg(v != -1, "query failed or gave no row: %s", q);
    return v;
}

int run(char *const argv[], char *out, size_t outcap, char *err, size_t errcap)
{
    int rc = harness_run(argv, NULL, out, outcap, err, errcap);
    ck_assert_msg(rc >= 0, "could not run %s", argv[0]);
    return rc;
}

char *read_log(const struct harness *h, char *buf, size_t cap)
{
    FILE *f = fopen(h->log, "r");
    ck_assert_msg(f != NULL, "cannot read the server's log %s", h->log);
    buf[fread(buf, 1, cap - 1, f)] = '\0';
    fclose(f);
    return buf;
}

void fresh_config(char *dir, size_t cap)
{
    ck_assert_int_eq(suite_mkdtemp(dir, cap, "config"), 0);
    ck_assert_int_eq(setenv("XDG_CONFIG_HOME", dir, 1), 0);
}

void own_config(void)
{
    char dir[64];
    fresh_config(dir, sizeof(dir));
}
