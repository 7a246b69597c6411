/* Abuse, end to end: the real arcaded against clients that send garbage, trickle bytes, never read,
 * never speak, come in floods or send faster than they may. Each test ends with a well-behaved client
 * that must still get correct answers, and a server that exits 0.
 *
 * Waits are reads or polls with a deadline. The only pauses are the abusers' own pacing (a byte
 * every 100 ms is what a slowloris does), and waiting for the server's fd count in /proc, which
 * has no file descriptor to poll. Random bytes come from fixed seeds. */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "expect.h"
#include "harness.h"
#include "suite.h"

#define TEST_TIMEOUT 120            /* seconds Check gives one test */
#define WAIT_MS 10000               /* the deadline of every wait */
#define OUT_CONNS 400               /* clients that pipeline big answers and never read */
#define OUT_SLACK_KIB (16 * 1024)   /* growth allowed with --out-total 4 MiB: buffers, tails, structs */
#define BUSY "ebusy\n"

/* ---- helpers ---- */

static void pause_ms(int ms)
{
    poll(NULL, 0, ms);
}

/* Send what the socket takes now; the abuser does not care about the rest. */
static void shove(int fd, const void *p, size_t n)
{
    ssize_t w = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)w;
}

/* The server closed fd (FIN or reset), seen without reading what it sent before. */
static void expect_closed_unread(int fd, const char *who)
{
    struct pollfd p = { .fd = fd, .events = POLLRDHUP };
    ck_assert_msg(poll(&p, 1, WAIT_MS) == 1, "%s: still open after %d ms", who, WAIT_MS);
}

/* The server closed fd and sent nothing: recv gives EOF (or a reset), never data. */
static void expect_closed_silent(int fd, const char *who)
{
    char b[64];
    ssize_t r = recv(fd, b, sizeof(b), 0);
    ck_assert_msg(r == 0 || (r < 0 && errno == ECONNRESET), "%s: expected a close, got %zd (%s) \"%s\"", who, r,
                  r < 0 ? strerror(errno) : "data", show(b, r > 0 ? (size_t)r : 0));
}

/* The server still serves a newcomer correctly: math, and a named round against the bot. */
static void expect_served(int port, const char *name)
{
    ask(port, "a12\n", "d144\n");
    ask(port, "c1.5\n", "d5.0625\n");
    int fd = dial(port);
    hello(fd, name);
    named_round(fd, '2');
    named_round(fd, '3');
    close(fd);
}

static long vm_rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = atol(line + 6);
        }
    }
    fclose(f);
    ck_assert_int_gt(kib, 0);
    return kib;
}

static int open_fds(pid_t pid)
{
    char path[64];
    int n = 0;
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        n += e->d_name[0] != '.';
    }
    closedir(d);
    return n;
}

/* Does the server run on an allocator of its own (AddressSanitizer's, valgrind's)? Those keep freed
 * memory in quarantine on purpose, so its size says nothing about the server's. */
static int foreign_allocator(pid_t pid)
{
    char path[64], line[512];
    int found = 0;
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        found = strstr(line, "libasan") != NULL || strstr(line, "vgpreload") != NULL;
    }
    fclose(f);
    return found;
}

/* Wait until the server holds exactly want descriptors: every client socket closed on its side. */
static void wait_fds(pid_t pid, int want)
{
    double deadline = now_s() + WAIT_MS / 1000.0;
    int n;
    while ((n = open_fds(pid)) != want && now_s() < deadline) {
        pause_ms(10);
    }
    ck_assert_msg(n == want, "the server holds %d descriptors, want %d", n, want);
}

/* ---- garbage ---- */

#define GARBAGE_CONNS 300
#define GARBAGE_SEED 6u

/* What abuser i sends: a kind picked by i, bytes from the seeded generator. Returns the length. */
static size_t garbage(int i, char *buf, size_t cap)
{
    size_t n = 1 + rng_next() % (cap - 1);
    switch (i % 6) {
    case 0:     /* random bytes, any first byte */
        for (size_t k = 0; k < n; k++) {
            buf[k] = (char)rng_next();
        }
        return n;
    case 1:     /* a long connection, then random bytes */
        buf[0] = '2';
        for (size_t k = 1; k < n; k++) {
            buf[k] = (char)rng_next();
        }
        return n;
    case 2:     /* half a hello: the name never ends */
        memcpy(buf, "H\x20" "half", 6);
        return 6;
    case 3:     /* a line of 3000 bytes, then half a line */
        buf[0] = 'a';
        memset(buf + 1, '9', 2999);
        memcpy(buf + 3000, "\na1", 3);
        return 3003;
    case 4:     /* hellos with bad lengths: 0, 255, 33 */
        memcpy(buf, "H\x00" "H\xff", 4);
        memset(buf + 4, 'n', 255);
        memcpy(buf + 259, "H\x21", 2);
        memset(buf + 261, 'm', 33);
        return 294;
    default:    /* a short connection of NULs and high bytes, no newline */
        for (size_t k = 0; k < n; k++) {
            buf[k] = (char)(0x80 | rng_next());
        }
        buf[0] = 'x';
        return n;
    }
}

START_TEST(test_garbage_from_300_connections_then_good_client_served)
{
    struct harness h;
    static int fds[GARBAGE_CONNS];
    static char buf[8192];
    long long bytes = 0;

    raise_nofile();
    START(&h, NULL);
    rng_seed(GARBAGE_SEED);
    for (int i = 0; i < GARBAGE_CONNS; i++) {
        fds[i] = dial(h.port);
        size_t n = garbage(i, buf, sizeof(buf));
        shove(fds[i], buf, n);
        bytes += (long long)n;
        /* Half of them hang up at once, the rest stay. */
        if (rng_next() % 2 == 0 && i % 6 != 3 && i % 6 != 4) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
    expect_served(h.port, "good");
    /* The abusers that broke a rule in a known way got the protocol's answers. */
    for (int i = 0; i < GARBAGE_CONNS; i++) {
        if (i % 6 == 3) {
            expect_line(fds[i], "eline too long\n");
        } else if (i % 6 == 4) {
            EXPECT(fds[i], "N\x0a" "bad length" "N\x0a" "bad length" "N\x0a" "bad length");
        }
    }
    for (int i = 0; i < GARBAGE_CONNS; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    expect_served(h.port, "good2");
    printf("garbage: %d connections, %lld bytes of abuse, then served\n", GARBAGE_CONNS, bytes);
    fflush(stdout);
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

/* ---- slow clients ---- */

/* Send start, then one byte every 100 ms, until the server closes the connection or 100 bytes (10 s)
 * went out. The server must send nothing. Returns the bytes sent. */
static int trickle(int fd, const char *start, char byte, const char *what)
{
    int sent = (int)strlen(start);
    send_str(fd, start);
    for (int i = 0; i < 100; i++, sent++) {
        struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
        if (poll(&p, 1, 100) != 0 || send(fd, &byte, 1, MSG_NOSIGNAL) < 0) {
            expect_closed_silent(fd, what);
            return sent;
        }
    }
    ck_abort_msg("%s: a line trickled in for 10 s is still open (--idle-timeout 1)", what);
    return sent;
}

START_TEST(test_slowloris_closed_by_request_timeout)
{
    struct harness h;
    START(&h, "--idle-timeout", "1", NULL);
    int fd = dial(h.port);

    /* A newline first, so that a complete but unterminated number is not answered early. */
    send_str(fd, "a1\n");
    expect_line(fd, "d1\n");
    int n = trickle(fd, "d", '1', "slowloris");
    close(fd);
    printf("slowloris: closed after %d bytes at one per 100 ms (--idle-timeout 1)\n", n);
    fflush(stdout);
    expect_served(h.port, "after");
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

/* The rest of a line already refused as too long is a line that never ends either. */
START_TEST(test_slowloris_after_overlong_line_closed)
{
    struct harness h;
    START(&h, "--idle-timeout", "1", NULL);
    int fd = dial(h.port);
    char line[1100];

    line[0] = 'd';
    memset(line + 1, '1', 1049);
    line[1050] = '\0';
    send_str(fd, line);
    expect_line(fd, "eline too long\n");
    trickle(fd, "", '1', "overlong");
    close(fd);
    expect_served(h.port, "after");
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

/* Blanks before a request that never comes. */
START_TEST(test_slowloris_of_blanks_closed)
{
    struct harness h;
    START(&h, "--idle-timeout", "1", NULL);
    int fd = dial(h.port);

    trickle(fd, " ", ' ', "blanks");
    close(fd);
    expect_served(h.port, "after");
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

/* The timeout runs from the last answered request, not from the connection's start: lines that
 * each take a while but finish in time are served for three times the timeout. */
START_TEST(test_slow_but_complete_lines_are_served)
{
    struct harness h;
    START(&h, "--idle-timeout", "1", NULL);
    int fd = dial(h.port);
    char req[32], want[32];

    send_str(fd, "a0\n");
    expect_line(fd, "d0\n");
    for (int i = 1; i <= 10; i++) {
        snprintf(req, sizeof(req), "a%d", i);
        send_str(fd, req);
        pause_ms(150);
        send_str(fd, "\n");
        snprintf(want, sizeof(want), "d%d\n", i * i);
        expect_line(fd, want);
        pause_ms(150);
    }
    close(fd);
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

/* A pipelining client whose every write ends inside its next line always has an unfinished line,
 * but never the same one for long: each line is done 300 ms after its first byte. It must not be
 * taken for a slowloris. */
START_TEST(test_pipelined_lines_are_not_a_slowloris)
{
    struct harness h;
    START(&h, "--idle-timeout", "1", "--frame-rate", "0", NULL);
    int fd = dial(h.port);
    char req[32], want[32];

    send_str(fd, "a0\na");
    expect_line(fd, "d0\n");
    for (int i = 1; i <= 10; i++) {
        pause_ms(300);
        /* Ends line i, starts line i + 1 ("a" is already there). */
        snprintf(req, sizeof(req), "%d\na", i);
        send_str(fd, req);
        snprintf(want, sizeof(want), "d%d\n", i * i);
        expect_line(fd, want);
    }
    close(fd);
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

/* ---- clients that never read, never speak ---- */

#define GREEDY 5
#define GREEDY_MAX (64u * 1024 * 1024)

START_TEST(test_clients_that_never_read_are_paused_then_closed)
{
    struct harness h;
    static char chunk[65536];
    int greedy[GREEDY];
    size_t sent[GREEDY] = { 0 };
    const size_t line = 1002;   /* "d" + 1000 digits + "\n": the answer is as long */

    START(&h, "--idle-timeout", "1", "--frame-rate", "0", NULL);
    for (size_t i = 0; i + line <= sizeof(chunk); i += line) {
        chunk[i] = 'd';
        memset(chunk + i + 1, '7', line - 2);
        chunk[i + line - 1] = '\n';
    }
    size_t usable = sizeof(chunk) / line * line;
    for (int g = 0; g < GREEDY; g++) {
        greedy[g] = dial_from(h.port, NULL, 4096);
        /* Until the socket stays full for half a second: the server stopped reading. */
        for (;;) {
            ssize_t w = send(greedy[g], chunk, usable, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w > 0) {
                sent[g] += (size_t)w;
                ck_assert_msg(sent[g] < GREEDY_MAX, "the server took %u bytes from a client that reads nothing",
                              GREEDY_MAX);
                continue;
            }
            ck_assert_msg(errno == EAGAIN || errno == EWOULDBLOCK, "send: %s", strerror(errno));
            struct pollfd p = { .fd = greedy[g], .events = POLLOUT };
            if (poll(&p, 1, 500) == 0) {
                break;
            }
        }
    }
    /* Meanwhile everyone else is served. */
    expect_served(h.port, "patient");
    /* No progress for the idle timeout: closed, though they still have answers waiting. */
    for (int g = 0; g < GREEDY; g++) {
        expect_closed_unread(greedy[g], "greedy");
        close(greedy[g]);
    }
    printf("never read: %d clients paused after %zu bytes sent (first), then closed\n", GREEDY, sent[0]);
    fflush(stdout);
    expect_served(h.port, "patient2");
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_silent_clients_closed_after_idle_timeout)
{
    struct harness h;
    int silent[10];

    START(&h, "--idle-timeout", "1", NULL);
    for (int i = 0; i < 10; i++) {
        silent[i] = dial(h.port);
    }
    /* One that said only whitespace has said nothing either. */
    send_str(silent[9], " \r\n");
    for (int i = 0; i < 10; i++) {
        expect_closed_silent(silent[i], "silent");
        close(silent[i]);
    }
    expect_served(h.port, "talker");
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

/* ---- memory ---- */

#define MEM_CONNS 2000
#define MEM_SLACK_KIB 4096

START_TEST(test_memory_back_near_idle_after_2000_abusers)
{
    struct harness h;
    static int fds[MEM_CONNS];
    static char big[100 * 1002];
    char half[1100];

    raise_nofile();
    START(&h, "--addr-conns", "0", "--frame-rate", "0", "--idle-timeout", "60", NULL);
    int idle_fds = open_fds(h.pid);
    expect_served(h.port, "warm");
    wait_fds(h.pid, idle_fds);
    long before = vm_rss_kib(h.pid);

    for (size_t i = 0; i < sizeof(big); i += 1002) {
        big[i] = 'd';
        memset(big + i + 1, '3', 1000);
        big[i + 1001] = '\n';
    }
    memcpy(half, "a1\nd", 4);
    memset(half + 4, '5', 900);
    for (int i = 0; i < MEM_CONNS; i++) {
        switch (i % 4) {
        case 0:     /* half a line held in the server's input buffer */
            fds[i] = dial(h.port);
            shove(fds[i], half, 904);
            break;
        case 1:     /* answers piling up in the server's output buffer */
            fds[i] = dial_from(h.port, NULL, 4096);
            shove(fds[i], big, sizeof(big));
            break;
        case 2:     /* half a hello */
            fds[i] = dial(h.port);
            shove(fds[i], "H\x20" "abc", 5);
            break;
        default:    /* nothing at all */
            fds[i] = dial(h.port);
            break;
        }
    }
    expect_served(h.port, "during");
    wait_fds(h.pid, idle_fds + MEM_CONNS);
    long during = vm_rss_kib(h.pid);

    for (int i = 0; i < MEM_CONNS; i++) {
        close(fds[i]);
    }
    wait_fds(h.pid, idle_fds);
    /* A round trip after the last close: the iteration that freed them has ended. */
    expect_served(h.port, "after");
    wait_fds(h.pid, idle_fds);
    long after = vm_rss_kib(h.pid);
    printf("memory: VmRSS %ld KiB before, %ld KiB with %d abusive connections, %ld KiB after\n", before, during,
           MEM_CONNS, after);
    if (foreign_allocator(h.pid)) {
        printf("memory: not asserted, the server runs on a sanitizer's or valgrind's allocator\n");
    } else {
        ck_assert_msg(after <= before + MEM_SLACK_KIB, "VmRSS %ld KiB after, %ld KiB before", after, before);
    }
    fflush(stdout);
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

/* ---- floods ---- */

#define FLOOD_ATTEMPTS 200
#define FLOOD_MAX_CONNS 50

START_TEST(test_connection_flood_gets_ebusy_and_players_play_on)
{
    struct harness h;
    static int fds[FLOOD_ATTEMPTS], refused[FLOOD_ATTEMPTS];
    char got[64];

    START(&h, "--max-conns", "50", NULL);
    int guest = dial(h.port), named = dial(h.port);
    guest_round(guest, '1');
    hello(named, "ana");
    named_round(named, '2');

    for (int i = 0; i < FLOOD_ATTEMPTS; i++) {
        fds[i] = dial(h.port);
    }
    /* The two players hold two of the 50 places, so 48 attempts get in and the rest are refused. */
    int want_refused = FLOOD_ATTEMPTS - (FLOOD_MAX_CONNS - 2), nrefused = 0;
    double deadline = now_s() + WAIT_MS / 1000.0;
    while (nrefused < want_refused && now_s() < deadline) {
        struct pollfd p[FLOOD_ATTEMPTS];
        for (int i = 0; i < FLOOD_ATTEMPTS; i++) {
            p[i] = (struct pollfd){ .fd = refused[i] ? -1 : fds[i], .events = POLLIN };
        }
        if (poll(p, FLOOD_ATTEMPTS, 1000) <= 0) {
            continue;
        }
        for (int i = 0; i < FLOOD_ATTEMPTS; i++) {
            if (p[i].revents == 0) {
                continue;
            }
            ssize_t n = harness_recv_all(fds[i], got, sizeof(got));
            ck_assert_msg(strcmp(got, BUSY) == 0, "attempt %d got \"%s\"", i, show(got, n > 0 ? (size_t)n : 0));
            refused[i] = 1;
            nrefused++;
        }
    }
    ck_assert_int_eq(nrefused, want_refused);
    /* The players played on, and those let in are served. */
    guest_round(guest, '2');
    named_round(named, '3');
    for (int i = 0; i < FLOOD_ATTEMPTS; i++) {
        if (!refused[i]) {
            send_str(fds[i], "a2\n");
            expect_line(fds[i], "d4\n");
        }
        close(fds[i]);
    }
    guest_round(guest, '3');
    named_round(named, '1');
    close(guest);
    close(named);
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

/* Accepted (answers a request) or refused (ebusy and close), by what the connection gets. */
static int refused_conn(int fd)
{
    char got[64];
    send_str(fd, "a3\n");
    ssize_t n = harness_recv_line(fd, got, sizeof(got));
    if (n > 0 && strcmp(got, BUSY) == 0) {
        return 1;
    }
    ck_assert_msg(n > 0 && strcmp(got, "d9\n") == 0, "got \"%s\"", show(got, n > 0 ? (size_t)n : 0));
    return 0;
}

START_TEST(test_conn_rate_limits_each_address)
{
    struct harness h;
    int fds[10];

    START(&h, "--conn-rate", "5", NULL);
    /* Ten at once from 127.0.0.1: a burst of five gets in, then one a fifth of a second. The
     * connects take well under a second, so some are refused; the first five never are. */
    for (int i = 0; i < 10; i++) {
        fds[i] = dial_from(h.port, "127.0.0.1", 0);
    }
    int nrefused = 0;
    for (int i = 0; i < 10; i++) {
        int r = refused_conn(fds[i]);
        ck_assert_msg(!r || i >= 5, "connection %d of a burst of 5 refused", i + 1);
        nrefused += r;
    }
    ck_assert_msg(nrefused > 0, "ten connections at once, --conn-rate 5, none refused");
    /* Another address has its own budget. */
    int other = dial_from(h.port, "127.0.0.2", 0);
    ck_assert_msg(!refused_conn(other), "127.0.0.2 refused for 127.0.0.1's connections");
    int player = dial_from(h.port, "127.0.0.2", 0);
    hello(player, "bo");
    named_round(player, '2');
    close(player);
    /* And 127.0.0.1 gets in again once its budget refills. */
    int again = -1;
    double deadline = now_s() + WAIT_MS / 1000.0;
    while (again < 0 && now_s() < deadline) {
        int fd = dial_from(h.port, "127.0.0.1", 0);
        if (!refused_conn(fd)) {
            again = fd;
        } else {
            close(fd);
            pause_ms(50);
        }
    }
    ck_assert_msg(again >= 0, "127.0.0.1 still refused after %d ms", WAIT_MS);
    printf("conn rate: %d of 10 connections at once refused with --conn-rate 5\n", nrefused);
    fflush(stdout);
    close(again);
    close(other);
    for (int i = 0; i < 10; i++) {
        close(fds[i]);
    }
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

#define RATE_FRAMES 200

/* Bytes the server has not read yet from the client's connection: the receive queue of the server's
 * end, from /proc/net/tcp (addresses and ports in hex, as the kernel prints them). */
static long server_unread(int client_fd, int server_port)
{
    struct sockaddr_in me;
    socklen_t len = sizeof(me);
    char want_local[32], want_remote[32], line[512];
    long unread = -1;

    ck_assert_int_eq(getsockname(client_fd, (struct sockaddr *)&me, &len), 0);
    snprintf(want_local, sizeof(want_local), "0100007F:%04X", server_port);
    snprintf(want_remote, sizeof(want_remote), "0100007F:%04X", ntohs(me.sin_port));
    FILE *f = fopen("/proc/net/tcp", "r");
    ck_assert_ptr_nonnull(f);
    while (unread < 0 && fgets(line, sizeof(line), f) != NULL) {
        char local[64], remote[64];
        unsigned st;
        unsigned long tx, rx;
        if (sscanf(line, " %*d: %63s %63s %x %lx:%lx", local, remote, &st, &tx, &rx) == 5 &&
            strcmp(local, want_local) == 0 && strcmp(remote, want_remote) == 0) {
            unread = (long)rx;
        }
    }
    fclose(f);
    ck_assert_msg(unread >= 0, "no server socket for local port %d in /proc/net/tcp", ntohs(me.sin_port));
    return unread;
}

/* The classic client opens a connection per request, in a loop: with the default options every
 * request of a long run is answered. */
START_TEST(test_honest_sequential_client_gets_every_answer)
{
    struct harness h;
    char got[64];

    START(&h, NULL);
    for (int i = 0; i < 2000; i++) {
        int fd = dial(h.port);
        send_str(fd, "a12\n");
        ssize_t n = harness_recv_line(fd, got, sizeof(got));
        ck_assert_msg(n > 0 && strcmp(got, "d144\n") == 0, "request %d of 2000 got \"%s\"", i + 1,
                      show(got, n > 0 ? (size_t)n : 0));
        close(fd);
    }
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

/* --addr-conns: one address may hold so many open connections; the next is refused, while another
 * address still gets in. */
START_TEST(test_one_address_holds_at_most_its_share)
{
    struct harness h;
    int fds[5];

    START(&h, "--addr-conns", "5", NULL);
    for (int i = 0; i < 5; i++) {
        fds[i] = dial_from(h.port, "127.0.0.3", 0);
        guest_round(fds[i], '2');
    }
    int extra = dial_from(h.port, "127.0.0.3", 0);
    ck_assert_msg(refused_conn(extra), "a sixth connection from 127.0.0.3 was let in with --addr-conns 5");
    close(extra);
    int other = dial_from(h.port, "127.0.0.4", 0);
    ck_assert_msg(!refused_conn(other), "127.0.0.4 refused for 127.0.0.3's connections");
    close(other);
    /* A place given back is a place again. */
    close(fds[0]);
    double deadline = now_s() + WAIT_MS / 1000.0;
    int in = 0;
    while (!in && now_s() < deadline) {
        int fd = dial_from(h.port, "127.0.0.3", 0);
        in = !refused_conn(fd);
        close(fd);
    }
    ck_assert_msg(in, "127.0.0.3 could not connect again after closing one of its five");
    for (int i = 1; i < 5; i++) {
        close(fds[i]);
    }
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

/* A full server makes room: the address holding the most gives up its idlest connection to a newcomer,
 * so one address (or a few) holding every place cannot keep the others out. */
START_TEST(test_full_server_makes_room_for_another_address)
{
    struct harness h;
    int fds[20];
    char log[65536];

    START(&h, "--max-conns", "20", "--addr-conns", "0", NULL);
    for (int i = 0; i < 20; i++) {
        fds[i] = dial_from(h.port, "127.0.0.5", 0);
        guest_round(fds[i], '1');
    }
    /* The first of them is the idlest: the others move again. */
    for (int i = 1; i < 20; i++) {
        guest_round(fds[i], '3');
    }
    int honest = dial_from(h.port, "127.0.0.6", 0);
    ck_assert_msg(!refused_conn(honest), "a full server held by 127.0.0.5 refused 127.0.0.6");
    expect_closed_silent(fds[0], "the idlest connection of 127.0.0.5");
    for (int i = 1; i < 20; i++) {
        guest_round(fds[i], '2');
    }
    /* Between equals nobody is pushed out: 127.0.0.5 itself is refused. */
    int more = dial_from(h.port, "127.0.0.5", 0);
    ck_assert_msg(refused_conn(more), "127.0.0.5 pushed out its own connection");
    close(more);
    for (int i = 0; i < 20; i++) {
        close(fds[i]);
    }
    close(honest);
    ck_assert_int_eq(harness_stop(&h), 0);
    read_log(&h, log, sizeof(log));
    ck_assert_msg(strstr(log, "closed to make room") != NULL, "nothing logged about the room made: %s", log);
    harness_cleanup(&h);
}
END_TEST

/* Whitespace between frames is not play: a long connection that sends only that is closed at its idle
 * timeout. (The spaces are the load of this test, sent every 100 ms; every wait is a read.) */
START_TEST(test_whitespace_does_not_keep_a_long_connection_alive)
{
    struct harness h;

    START(&h, "--long-idle-timeout", "1", NULL);
    int fd = dial(h.port);
    guest_round(fd, '2');
    double start = now_s(), closed = 0;
    while (closed == 0 && now_s() < start + WAIT_MS / 1000.0) {
        shove(fd, " ", 1);
        struct pollfd p = { .fd = fd, .events = POLLRDHUP };
        if (poll(&p, 1, 100) == 1) {
            closed = now_s();
        }
    }
    ck_assert_msg(closed != 0, "a long connection sending spaces was still open after %d ms", WAIT_MS);
    ck_assert_msg(closed - start >= 0.9, "closed after %.2f s, before its idle timeout", closed - start);
    close(fd);
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

/* A full leaderboard: 100 ranked players, p000 to p099, in one rated round each (p000 beats p001,
 * p002 beats p003, ...), played through the server, so that it is made the same way on either
 * engine. The server must take 100 new names from one address (--name-rate 0). */
static void fill_board(int port)
{
    for (int i = 0; i < 100; i += 2) {
        char name[2][16], matched[2][16];
        int fd[2];
        for (int s = 0; s < 2; s++) {
            int n = snprintf(name[s], sizeof(name[s]), "p%03d", i + s);
            fd[s] = dial(port);
            hello(fd[s], name[s]);
            matched[s][0] = 'V';
            matched[s][1] = (char)n;
            memcpy(matched[s] + 2, name[s], (size_t)n);
        }
        send_str(fd[0], "P");
        EXPECT(fd[0], "W");
        send_str(fd[1], "P");
        expect_bytes(fd[1], matched[0], 6);
        expect_bytes(fd[0], matched[1], 6);
        send_str(fd[0], "2");
        send_str(fd[1], "1");
        EXPECT(fd[0], "M1y");
        EXPECT(fd[1], "M2z");
        close(fd[0]);
        close(fd[1]);
    }
}

/* 200 requests for the whole leaderboard in one write, about 800 KB of answers, more than the 256 KiB
 * a connection may have queued: the server stops reading until the client reads (back-pressure), and
 * every answer comes, none is lost to a close. */
START_TEST(test_pipelined_leaderboards_meet_back_pressure_not_a_close)
{
    struct harness h;
    static char reqs[200 * 5];
    char line[256];

    START(&h, "--name-rate", "0", NULL);
    fill_board(h.port);
    ck_assert_int_eq(harness_stop(&h), 0);
    ck_assert_msg(harness_restart(&h, NULL) == 0, "restart: %s", h.first);
    for (int i = 0; i < 200; i++) {
        memcpy(reqs + 5 * i, "t100\n", 5);
    }
    int fd = dial(h.port);
    put(fd, reqs, sizeof(reqs));
    for (int i = 0; i < 200; i++) {
        for (int row = 1; row <= 100; row++) {
            ssize_t n = harness_recv_line(fd, line, sizeof(line));
            ck_assert_msg(n > 0 && atoi(line) == row, "answer %d, row %d: \"%s\"", i + 1, row,
                          show(line, n > 0 ? (size_t)n : 0));
        }
        expect_line(fd, ".\n");
    }
    close(fd);
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

/* Clients that pipeline big answers and never read: each may get 64 KiB ahead of its client, but all
 * of them together no more than --out-total; past that nobody gets ahead, and an honest client is
 * still served. The server's resident memory is sampled while they pile up. */
START_TEST(test_output_of_all_connections_is_bounded)
{
    struct harness h;
    static int fds[OUT_CONNS];
    static char reqs[400 * 5];

    raise_nofile();
    START(&h, "--name-rate", "0", NULL);
    fill_board(h.port);
    ck_assert_int_eq(harness_stop(&h), 0);
    ck_assert_msg(harness_restart(&h, "--addr-conns", "0", "--out-total", "4194304", "--idle-timeout", "60",
                                  NULL) == 0, "restart: %s", h.first);
    expect_served(h.port, "warm");
    long before = vm_rss_kib(h.pid), most = before;
    for (int i = 0; i < 400; i++) {
        memcpy(reqs + 5 * i, "t100\n", 5);
    }
    for (int i = 0; i < OUT_CONNS; i++) {
        fds[i] = dial_from(h.port, NULL, 4096);
        shove(fds[i], reqs, sizeof(reqs));
    }
    expect_served(h.port, "during");
    /* Until the server's memory has not grown for half a second (at most WAIT_MS). */
    double start = now_s(), grew = start;
    while (now_s() - grew < 0.5 && now_s() - start < WAIT_MS / 1000.0) {
        long rss = vm_rss_kib(h.pid);
        if (rss > most) {
            most = rss;
            grew = now_s();
        }
        pause_ms(20);
    }
    expect_served(h.port, "after");
    printf("output: VmRSS %ld KiB before, at most %ld KiB with %d clients pipelining 400 t100 each, unread, "
           "--out-total 4 MiB\n", before, most, OUT_CONNS);
    fflush(stdout);
    if (!foreign_allocator(h.pid)) {
        ck_assert_msg(most - before < OUT_SLACK_KIB, "VmRSS grew %ld KiB with --out-total 4 MiB", most - before);
    }
    for (int i = 0; i < OUT_CONNS; i++) {
        close(fds[i]);
    }
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

START_TEST(test_frame_rate_limit_loses_nothing)
{
    struct harness h;
    char moves[RATE_FRAMES], got[3 * RATE_FRAMES];
    static char lines[RATE_FRAMES * 8];
    size_t n = 0;

    START(&h, "--frame-rate", "50", NULL);
    int lng = dial(h.port), shrt = dial(h.port);
    hello(lng, "ana");
    rng_seed(50);
    for (int i = 0; i < RATE_FRAMES; i++) {
        moves[i] = (char)('1' + rng_next() % 3);
        n += (size_t)snprintf(lines + n, sizeof(lines) - n, "a%d\n", i);
    }
    double t0 = now_s();
    put(lng, moves, sizeof(moves));
    put(shrt, lines, n);
    /* When the first answers come, the budget is spent: the rest of the moves wait unread in the
     * server's socket (a server that did not throttle would have read all 200 bytes at once). */
    ck_assert_int_eq(harness_recv_n(lng, got, 3), 3);
    long unread = server_unread(lng, h.port);
    ck_assert_msg(unread > 0, "all %d moves read at once with --frame-rate 50", RATE_FRAMES);
    ck_assert_int_eq(harness_recv_n(lng, got + 3, sizeof(got) - 3), (ssize_t)sizeof(got) - 3);
    for (int i = 0; i < RATE_FRAMES; i++) {
        const char *f = got + 3 * i;
        ck_assert_msg(f[0] == 'M' && f[1] >= '1' && f[1] <= '3' && f[2] == rules(moves[i] - '0', f[1] - '0'),
                      "move %d (%c) answered \"%s\"", i, moves[i], show(f, 3));
    }
    for (int i = 0; i < RATE_FRAMES; i++) {
        char want[32];
        snprintf(want, sizeof(want), "d%d\n", i * i);
        expect_line(shrt, want);
    }
    double took = now_s() - t0;
    close(lng);
    close(shrt);
    ck_assert_int_eq(harness_stop(&h), 0);
    ck_assert_int_eq(sql(&h, "SELECT rounds FROM players WHERE name = 'ana'"), RATE_FRAMES);
    printf("frame rate: %d moves sent at once, %ld left unread at the first answer, all answered in order in "
           "%.1f s (--frame-rate 50)\n", RATE_FRAMES, unread, took);
    fflush(stdout);
    harness_cleanup(&h);
}
END_TEST

static Suite *abuse_suite(void)
{
    Suite *s = suite_create("abuse");
    TCase *bytes = tcase_create("bytes");
    TCase *slow = tcase_create("slow");
    TCase *load = tcase_create("load");
    TCase *all[] = { bytes, slow, load };

    tcase_add_test(bytes, test_garbage_from_300_connections_then_good_client_served);
    tcase_add_test(slow, test_slowloris_closed_by_request_timeout);
    tcase_add_test(slow, test_slowloris_after_overlong_line_closed);
    tcase_add_test(slow, test_slowloris_of_blanks_closed);
    tcase_add_test(slow, test_slow_but_complete_lines_are_served);
    tcase_add_test(slow, test_pipelined_lines_are_not_a_slowloris);
    tcase_add_test(slow, test_clients_that_never_read_are_paused_then_closed);
    tcase_add_test(slow, test_silent_clients_closed_after_idle_timeout);
    tcase_add_test(load, test_memory_back_near_idle_after_2000_abusers);
    tcase_add_test(load, test_connection_flood_gets_ebusy_and_players_play_on);
    tcase_add_test(load, test_conn_rate_limits_each_address);
    tcase_add_test(load, test_frame_rate_limit_loses_nothing);
    tcase_add_test(load, test_honest_sequential_client_gets_every_answer);
    tcase_add_test(load, test_pipelined_leaderboards_meet_back_pressure_not_a_close);
    tcase_add_test(load, test_output_of_all_connections_is_bounded);
    tcase_add_test(load, test_one_address_holds_at_most_its_share);
    tcase_add_test(load, test_full_server_makes_room_for_another_address);
    tcase_add_test(slow, test_whitespace_does_not_keep_a_long_connection_alive);
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        tcase_set_timeout(all[i], TEST_TIMEOUT);
        suite_add_tcase(s, all[i]);
    }
    return s;
}

int main(void)
{
    return suite_run(abuse_suite());
}
