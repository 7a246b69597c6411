/* arcaded --workers end to end: three workers on one port, each answering /metrics for itself (its
 * arcade_worker_pid and its own counters), a worker killed and started again while the port keeps
 * answering, the stop, a supervisor that dies, and the refusal of several workers on SQLite.
 *
 * Several workers need a database they can share: the suite runs against PostgreSQL whatever
 * ARCADE_TEST_ENGINE says, and without ARCADE_TEST_PG it says so on one line and runs only the test
 * that needs no database server. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "expect.h"
#include "harness.h"
#include "redistest.h"
#include "pgtest.h"
#include "suite.h"

#define WORKERS 3
#define CONNS 300           /* short connections of the first test */
#define DATAGRAMS 300
#define METRICS_TRIES 300   /* /metrics asked at most this often to hear from every worker */
#define WAIT_SECS 15.0
#define LOG_MAX 65536

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pause_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* The server's log so far (its first line aside), into buf. */
static const char *server_log(const struct harness *h, char *buf, size_t cap)
{
    int fd = open(h->log, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? 0 : read(fd, buf, cap - 1);
    if (fd >= 0) {
        close(fd);
    }
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* Wait (WAIT_SECS at most) until the log holds what; fails the test with the log otherwise. */
static void wait_log(const struct harness *h, const char *what)
{
    static char log[LOG_MAX];
    double until = now() + WAIT_SECS;
    while (strstr(server_log(h, log, sizeof(log)), what) == NULL) {
        ck_assert_msg(now() < until, "no \"%s\" in the log:\n%s", what, log);
        pause_ms(20);
    }
}

/* The pid the log gives worker i when it says it is ready, the last time it did; 0 if never. */
static pid_t ready_pid(const struct harness *h, int i)
{
    static char log[LOG_MAX];
    char what[64];
    pid_t pid = 0;
    snprintf(what, sizeof(what), "worker %d ready (pid ", i);
    for (const char *p = server_log(h, log, sizeof(log)); (p = strstr(p, what)) != NULL; p += strlen(what)) {
        pid = (pid_t)atoi(p + strlen(what));
    }
    return pid;
}

/* Gone: no such process, or a zombie, whose sockets are closed. */
static int gone(pid_t pid)
{
    char path[64], stat[256];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 1;
    }
    ssize_t n = read(fd, stat, sizeof(stat) - 1);
    close(fd);
    stat[n > 0 ? n : 0] = '\0';
    const char *end = strrchr(stat, ')');
    return end == NULL || end[1] == '\0' || end[2] == 'Z' || end[2] == 'X';
}

static void wait_gone(pid_t pid)
{
    double until = now() + WAIT_SECS;
    while (!gone(pid)) {
        ck_assert_msg(now() < until, "process %d still there after %.0f s", (int)pid, WAIT_SECS);
        pause_ms(10);
    }
}

static char redis_dir[64], redis_sock[128], bus_uri[192];
static pid_t redis_pid;

/* Three workers on PostgreSQL and a redis-server of the test's own. */
static void start_workers(struct harness *h)
{
    ck_assert_int_eq(suite_mkdtemp(redis_dir, sizeof(redis_dir), "redis"), 0);
    redis_pid = redistest_start(redis_dir, redis_sock, sizeof(redis_sock), bus_uri, sizeof(bus_uri));
    /* Datagrams here come faster than --udp-rate allows one address: not what is tested. */
    START(h, "--workers", "3", "--udp-rate", "0", "--bus", bus_uri, NULL);
    ck_assert_msg(strstr(h->first, ", 3 workers") != NULL, "first line: %s", h->first);
    wait_log(h, "all 3 workers ready");
}

/* The workers (if still there) and the redis-server gone, their directories removed. */
static void stop_workers(struct harness *h)
{
    harness_cleanup(h);
    redistest_stop(redis_pid);
    suite_rmtree(redis_dir);
}

/* a12 on a short connection of its own, answered d144. */
static void ask_tcp(int port)
{
    char answer[64];
    ck_assert_msg(harness_ask(port, "a12\n", answer, sizeof(answer)) == 0, "a12: no answer (%s)", strerror(errno));
    ck_assert_str_eq(answer, "d144\n");
}

/* a12 in a datagram, answered d144. */
static void ask_udp(int fd, int port)
{
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    char answer[64];
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(sendto(fd, "a12\n", 4, 0, (struct sockaddr *)&to, sizeof(to)), 4);
    ssize_t n = recv(fd, answer, sizeof(answer) - 1, 0);
    ck_assert_msg(n > 0, "a12 by datagram: no answer (%s)", strerror(errno));
    answer[n] = '\0';
    ck_assert_str_eq(answer, "d144\n");
}

/* What one worker's /metrics said. */
struct seen {
    long pid;
    long tcp, udp;      /* arcade_requests_total by transport */
};

static long metric_of(const char *body, const char *name)
{
    char key[128];
    snprintf(key, sizeof(key), "\n%s ", name);
    const char *at = strstr(body, key);
    ck_assert_msg(at != NULL, "no %s in /metrics:\n%s", name, body);
    return atol(at + strlen(key));
}

/* Ask /metrics until each of the workers has answered (METRICS_TRIES at most); returns how many did. */
static int hear_workers(int port, struct seen seen[WORKERS])
{
    static char reply[65536];
    int n = 0;
    for (int t = 0; t < METRICS_TRIES && n < WORKERS; t++) {
        int fd = harness_connect(port);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(harness_sends(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 0);
        harness_recv_all(fd, reply, sizeof(reply));
        close(fd);
        const char *body = strstr(reply, "\r\n\r\n");
        ck_assert_msg(body != NULL, "/metrics: %s", reply);
        long pid = metric_of(body + 2, "arcade_worker_pid");
        int k = 0;
        while (k < n && seen[k].pid != pid) {
            k++;
        }
        if (k == n) {
            seen[n++] = (struct seen){ pid, metric_of(body + 2, "arcade_requests_total{transport=\"tcp\"}"),
                                       metric_of(body + 2, "arcade_requests_total{transport=\"udp\"}") };
        }
    }
    return n;
}

/* Many short connections and datagrams are all answered, and the kernel spread them over the
 * workers: each worker's /metrics counts its own, and the counts add up. */
START_TEST(test_requests_are_spread_over_the_workers)
{
    struct harness h;
    struct seen seen[WORKERS];

    start_workers(&h);
    for (int i = 0; i < CONNS; i++) {
        ask_tcp(h.port);
    }
    /* A datagram goes to the worker its source address and port hash to: a socket each. */
    for (int i = 0; i < DATAGRAMS; i++) {
        int udp = harness_udp();
        ask_udp(udp, h.port);
        close(udp);
    }
    ck_assert_int_eq(hear_workers(h.port, seen), WORKERS);
    long tcp = 0, dgrams = 0;
    int tcp_workers = 0, udp_workers = 0;
    for (int k = 0; k < WORKERS; k++) {
        ck_assert_int_ne(seen[k].pid, h.pid);
        tcp += seen[k].tcp;
        dgrams += seen[k].udp;
        tcp_workers += seen[k].tcp > 0;
        udp_workers += seen[k].udp > 0;
    }
    ck_assert_int_eq(tcp, CONNS);
    ck_assert_int_eq(dgrams, DATAGRAMS);
    ck_assert_int_ge(tcp_workers, 2);
    ck_assert_int_ge(udp_workers, 2);
    ck_assert_int_eq(harness_stop(&h), 0);
    stop_workers(&h);
}
END_TEST

/* kill -9 of a worker: the supervisor says so and starts another, and every request meanwhile is
 * answered by the others, then by all three again. */
START_TEST(test_a_killed_worker_is_started_again)
{
    struct harness h;
    struct seen seen[WORKERS];
    char what[128];
    int udp = harness_udp();

    start_workers(&h);
    pid_t dead = ready_pid(&h, 2);
    ck_assert_int_gt(dead, 0);
    ck_assert_int_eq(kill(dead, SIGKILL), 0);
    wait_gone(dead);
    snprintf(what, sizeof(what), "worker 2 (pid %d) killed by signal 9", (int)dead);
    double until = now() + WAIT_SECS;
    int asked = 0;
    while (ready_pid(&h, 2) == dead || asked < 50) {
        ck_assert_msg(now() < until, "worker 2 not started again after %.0f s", WAIT_SECS);
        ask_tcp(h.port);
        ask_udp(udp, h.port);
        asked++;
        pause_ms(2);
    }
    wait_log(&h, what);
    pid_t again = ready_pid(&h, 2);
    ck_assert_int_ne(again, dead);
    for (int i = 0; i < 50; i++) {
        ask_tcp(h.port);
        ask_udp(udp, h.port);
    }
    close(udp);
    /* The new worker serves too. */
    ck_assert_int_eq(hear_workers(h.port, seen), WORKERS);
    int found = 0;
    for (int k = 0; k < WORKERS; k++) {
        found |= seen[k].pid == again;
    }
    ck_assert_msg(found, "worker 2's new pid %d never answered /metrics", (int)again);
    ck_assert_int_eq(harness_stop(&h), 0);
    stop_workers(&h);
}
END_TEST

/* SIGTERM to the supervisor: every worker drains and ends, the supervisor exits 0, the port is
 * closed. */
START_TEST(test_sigterm_stops_every_worker)
{
    struct harness h;
    pid_t pids[WORKERS];

    start_workers(&h);
    for (int i = 0; i < WORKERS; i++) {
        pids[i] = ready_pid(&h, i + 1);
        ck_assert_int_gt(pids[i], 0);
    }
    int port = h.port;
    ask_tcp(port);
    ck_assert_int_eq(harness_stop(&h), 0);
    for (int i = 0; i < WORKERS; i++) {
        ck_assert_msg(gone(pids[i]), "worker %d (pid %d) outlived the supervisor", i + 1, (int)pids[i]);
    }
    for (int i = 1; i <= WORKERS; i++) {
        char what[64];
        snprintf(what, sizeof(what), "worker %d stopped", i);
        wait_log(&h, what);
    }
    int fd = harness_connect(port);
    ck_assert_msg(fd < 0 && errno == ECONNREFUSED, "port %d still takes connections", port);
    stop_workers(&h);
}
END_TEST

/* A supervisor killed outright leaves no worker behind: each is told SIGTERM and drains. */
START_TEST(test_workers_end_with_their_supervisor)
{
    struct harness h;
    pid_t pids[WORKERS];

    start_workers(&h);
    for (int i = 0; i < WORKERS; i++) {
        pids[i] = ready_pid(&h, i + 1);
    }
    ck_assert_int_eq(kill(h.pid, SIGKILL), 0);
    ck_assert_int_eq(harness_wait(&h), 128 + SIGKILL);
    for (int i = 0; i < WORKERS; i++) {
        wait_gone(pids[i]);
    }
    wait_log(&h, "arcaded[1]: shutdown: done");
    stop_workers(&h);
}
END_TEST

/* A SQLite file has one writer: several workers on one are refused before anything starts. */
START_TEST(test_workers_on_sqlite_are_refused)
{
    char dir[64], db[128], out[256], err[512];

    ck_assert_int_eq(suite_mkdtemp(dir, sizeof(dir), "workers"), 0);
    snprintf(db, sizeof(db), "%s/arcade.db", dir);
    char *argv[] = { (char *)harness_arcaded(), "--port", "0", "--db", db, "--workers", "2", NULL };
    ck_assert_int_eq(harness_run(argv, NULL, out, sizeof(out), err, sizeof(err)), 1);
    ck_assert_str_eq(err, "arcaded: --workers needs a shared database: --db postgresql://...\n");
    ck_assert_int_eq(access(db, F_OK), -1);
    suite_rmtree(dir);
}
END_TEST

/* Without a bus, players on different workers could not meet and a name could be live twice: refused
 * before anything starts (nothing connects to the database named). */
START_TEST(test_workers_without_a_bus_are_refused)
{
    char out[256], err[512];
    char *argv[] = { (char *)harness_arcaded(), "--port", "0", "--db", "postgresql://nobody@127.0.0.1:1/none",
                     "--workers", "2", NULL };
    ck_assert_int_eq(harness_run(argv, NULL, out, sizeof(out), err, sizeof(err)), 1);
    ck_assert_msg(strstr(err, "--workers needs a bus: --bus redis://...") != NULL, "stderr: %s", err);
}
END_TEST

/* Servers on one bus share names and matches: what they store must be shared too. */
START_TEST(test_a_bus_on_sqlite_is_refused)
{
    char dir[64], db[128], out[256], err[512];

    ck_assert_int_eq(suite_mkdtemp(dir, sizeof(dir), "workers"), 0);
    snprintf(db, sizeof(db), "%s/arcade.db", dir);
    char *argv[] = { (char *)harness_arcaded(), "--port", "0", "--db", db, "--bus", "unix:///nowhere", NULL };
    ck_assert_int_eq(harness_run(argv, NULL, out, sizeof(out), err, sizeof(err)), 1);
    ck_assert_str_eq(err, "arcaded: --bus needs a shared database: --db postgresql://...\n");
    ck_assert_int_eq(access(db, F_OK), -1);
    suite_rmtree(dir);
}
END_TEST

static Suite *workers_suite(void)
{
    Suite *s = suite_create("workers");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    if (pgtest_uri() != NULL) {
        tcase_add_test(tc, test_requests_are_spread_over_the_workers);
        tcase_add_test(tc, test_a_killed_worker_is_started_again);
        tcase_add_test(tc, test_sigterm_stops_every_worker);
        tcase_add_test(tc, test_workers_end_with_their_supervisor);
    }
    tcase_add_test(tc, test_workers_on_sqlite_are_refused);
    tcase_add_test(tc, test_workers_without_a_bus_are_refused);
    tcase_add_test(tc, test_a_bus_on_sqlite_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (pgtest_uri() == NULL) {
        printf("test_workers: ARCADE_TEST_PG is not set: the tests of several workers, which need PostgreSQL, "
               "are skipped (export ARCADE_TEST_PG=$(sudo bash tests/pg.sh))\n");
        fflush(stdout);
    }
    /* Several workers need a shared database, whichever engine the other suites run on. */
    setenv("ARCADE_TEST_ENGINE", "pg", 1);
    return suite_run(workers_suite());
}
