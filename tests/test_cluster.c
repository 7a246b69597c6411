/* Several arcaded on one PostgreSQL database and one Redis (--bus), end to end: names, matches,
 * rejoin and a killed node across processes. Each test starts its own redis-server on a unix
 * socket in a temporary directory and makes its own database at ARCADE_TEST_PG (tests/pgtest.h);
 * without ARCADE_TEST_PG each test says so and passes. Expected frames come from docs/PROTOCOL.md. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "expect.h"
#include "harness.h"
#include "pgtest.h"
#include "suite.h"

#define NODES 2
#define TEXT_MAX 255
#define SECRET_HEX 64
#define SCISSORS 1
#define ROCK 2
#define PAPER 3

static char dir[64];
static char sock[128];
static char bus_uri[192];
static char db[256];
static pid_t redis_pid;
static struct harness node[NODES];

/* Does redis-server answer PING on the socket? */
static int redis_answers(void)
{
    redisContext *c = redisConnectUnix(sock);
    int ok = 0;
    if (c != NULL && c->err == 0) {
        redisReply *rep = redisCommand(c, "PING");
        ok = rep != NULL && rep->type == REDIS_REPLY_STATUS;
        freeReplyObject(rep);
    }
    redisFree(c);
    return ok;
}

/* redis-server and a database of this test's own, then the nodes, each with --bus and --db. */
static int cluster_up(const char *move_timeout)
{
    if (pgtest_uri() == NULL) {
        return -1;
    }
    ck_assert_int_eq(suite_mkdtemp(dir, sizeof(dir), "cluster"), 0);
    snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
    snprintf(bus_uri, sizeof(bus_uri), "unix://%s", sock);
    redis_pid = fork();
    ck_assert_int_ge(redis_pid, 0);
    if (redis_pid == 0) {
        char logfile[160];
        snprintf(logfile, sizeof(logfile), "%s/redis.log", dir);
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly",
               "no", "--logfile", logfile, (char *)NULL);
        _exit(127);
    }
    suite_child(redis_pid);
    for (int i = 0; i < 500 && !redis_answers(); i++) {
        usleep(10000);
    }
    ck_assert_msg(redis_answers(), "redis-server does not answer on %s", sock);
    ck_assert_int_eq(pgtest_create(db, sizeof(db)), 0);
    ck_assert_int_eq(suite_note_db(db, pgtest_drop), 0);
    for (int i = 0; i < NODES; i++) {
        struct harness *h = &node[i];
        memset(h, 0, sizeof(*h));
        ck_assert_int_eq(suite_mkdtemp(h->dir, sizeof(h->dir), "node"), 0);
        snprintf(h->log, sizeof(h->log), "%s/arcaded.log", h->dir);
        snprintf(h->db, sizeof(h->db), "%s", db);
        ck_assert_msg(harness_restart(h, "--bus", bus_uri, "--move-timeout", move_timeout, NULL) == 0,
                      "node %d did not start: '%s'", i, h->first);
    }
    return 0;
}

static void cluster_down(void)
{
    for (int i = 0; i < NODES; i++) {
        harness_cleanup(&node[i]);
    }
    kill(redis_pid, SIGTERM);
    waitpid(redis_pid, NULL, 0);
    suite_forget_child(redis_pid);
    pgtest_drop(db);
    suite_forget_db(db);
    suite_rmtree(dir);
}

#define CLUSTER_OR_SKIP(move_timeout)                                                                       \
    do {                                                                                                    \
        if (cluster_up(move_timeout) < 0) {                                                                 \
            harness_note_skip(__func__, "needs PostgreSQL (ARCADE_TEST_PG)");                              \
            return;                                                                                         \
        }                                                                                                   \
    } while (0)

/* ---- frames ---- */

static void send_frame(int fd, char op, const char *text)
{
    char f[2 + TEXT_MAX];
    size_t n = strlen(text);
    f[0] = op;
    f[1] = (char)n;
    memcpy(f + 2, text, n);
    put(fd, f, n + 2);
}

static void expect_frame(int fd, const char *who, char op, const char *text)
{
    char f[2 + TEXT_MAX];
    size_t n = strlen(text);
    f[0] = op;
    f[1] = (char)n;
    memcpy(f + 2, text, n);
    expect_bytes_as(fd, who, f, n + 2);
}

static void expect_op(int fd, const char *who, char op)
{
    expect_bytes_as(fd, who, &op, 1);
}

/* `R <len> <name>`: `K <len> <secret>` then `A <len> <name>`; the secret into secret. */
static void register_name(int fd, const char *name, char secret[SECRET_HEX + 1])
{
    char head[2];
    send_frame(fd, 'R', name);
    ck_assert_int_eq(harness_recv_n(fd, head, 2), 2);
    ck_assert_msg(head[0] == 'K' && head[1] == SECRET_HEX, "%s: expected K, got %s", name, show(head, 2));
    ck_assert_int_eq(harness_recv_n(fd, secret, SECRET_HEX), SECRET_HEX);
    secret[SECRET_HEX] = '\0';
    expect_frame(fd, name, 'A', name);
}

static void send_login(int fd, const char *name, const char *secret)
{
    char f[4 + 2 * TEXT_MAX];
    size_t n = strlen(name), s = strlen(secret);
    f[0] = 'I';
    f[1] = (char)n;
    memcpy(f + 2, name, n);
    f[2 + n] = (char)s;
    memcpy(f + 3 + n, secret, s);
    put(fd, f, 3 + n + s);
}

static void send_move(int fd, int move)
{
    char b = (char)('0' + move);
    put(fd, &b, 1);
}

static void expect_result(int fd, const char *who, int mine, int theirs)
{
    char f[3] = { 'M', (char)('0' + theirs), rules(mine, theirs) };
    expect_bytes_as(fd, who, f, 3);
}

/* A frame `op <len> <text>` whatever its text; the text into out. */
static void expect_any_text(int fd, const char *who, char op, char *out, size_t cap)
{
    char head[2];
    ck_assert_int_eq(harness_recv_n(fd, head, 2), 2);
    ck_assert_msg(head[0] == op, "%s: expected %c, got %s", who, op, show(head, 2));
    size_t n = (unsigned char)head[1];
    ck_assert_uint_lt(n, cap);
    ck_assert_int_eq(harness_recv_n(fd, out, n), (ssize_t)n);
    out[n] = '\0';
}

/* `P`, answered `W`; then a moment for the bus to have the entry. */
static void queue_up(int fd, const char *who)
{
    put(fd, "P", 1);
    expect_op(fd, who, 'W');
    usleep(300000);
}

/* ---- tests ---- */

/* One live session per name across the nodes: a bare hello elsewhere is refused. */
START_TEST(test_hello_on_two_nodes)
{
    CLUSTER_OR_SKIP("10");
    int a = dial(node[0].port);
    hello(a, "ana");
    int b = dial(node[1].port);
    send_frame(b, 'H', "ana");
    expect_frame(b, "ana on B", 'N', "name in use");
    /* Once it is gone from A, B may have it. */
    close(a);
    usleep(300000);
    hello(b, "ana");
    close(b);
    cluster_down();
}
END_TEST

/* Players on different nodes are matched and play: both see the same frames as on one node, and
 * the round is stored once. */
START_TEST(test_match_across_nodes)
{
    CLUSTER_OR_SKIP("10");
    int a = dial(node[0].port), b = dial(node[1].port);
    hello(a, "ana");
    hello(b, "bo");
    queue_up(a, "ana");
    put(b, "P", 1);
    expect_op(b, "bo", 'W');
    expect_frame(b, "bo", 'V', "ana");
    expect_frame(a, "ana", 'V', "bo");
    send_move(a, ROCK);
    send_move(b, SCISSORS);
    expect_result(a, "ana", ROCK, SCISSORS);
    expect_result(b, "bo", SCISSORS, ROCK);
    send_move(b, PAPER);
    send_move(a, PAPER);
    expect_result(a, "ana", PAPER, PAPER);
    expect_result(b, "bo", PAPER, PAPER);
    ck_assert_int_eq(harness_sql_int(db, "SELECT count(*) FROM rounds"), 2);
    close(a);
    close(b);
    cluster_down();
}
END_TEST

/* A login on B for a name registered and live on A takes it over: A's connection is told and
 * closed, and the session carries on at B. */
START_TEST(test_login_takes_over_across_nodes)
{
    char secret[SECRET_HEX + 1], rest[64];
    CLUSTER_OR_SKIP("10");
    int a = dial(node[0].port);
    register_name(a, "cy", secret);
    int b = dial(node[1].port);
    send_login(b, "cy", secret);
    expect_frame(b, "cy on B", 'A', "cy");
    expect_frame(a, "cy on A", 'E', "taken over by another login");
    ck_assert_int_eq(harness_recv_all(a, rest, sizeof(rest)), 0);
    named_round(b, (char)('0' + ROCK));
    /* The name is B's now: a bare hello on A is refused. */
    int a2 = dial(node[0].port);
    send_frame(a2, 'H', "cy");
    expect_frame(a2, "cy again on A", 'N', "name is registered");
    close(a);
    close(a2);
    close(b);
    cluster_down();
}
END_TEST

/* A proven player who drops from the node hosting its match and logs in on another gets its seat
 * back, and the round completes. */
START_TEST(test_rejoin_on_another_node)
{
    char ana_secret[SECRET_HEX + 1], bo_secret[SECRET_HEX + 1], snap[128];
    CLUSTER_OR_SKIP("10");
    int a = dial(node[0].port), b = dial(node[1].port);
    register_name(a, "ana", ana_secret);
    register_name(b, "bo", bo_secret);
    queue_up(b, "bo");          /* bo waits on B: ana, arriving on A, is matched there */
    put(a, "P", 1);
    expect_op(a, "ana", 'W');
    expect_frame(a, "ana", 'V', "bo");
    expect_frame(b, "bo", 'V', "ana");
    send_move(b, PAPER);
    close(a);
    expect_any_text(b, "bo", 'D', snap, sizeof(snap));
    int a2 = dial(node[1].port);
    send_login(a2, "ana", ana_secret);
    expect_frame(a2, "ana on B", 'A', "ana");
    expect_any_text(a2, "ana on B", 'J', snap, sizeof(snap));
    ck_assert_msg(strncmp(snap, "bo 1 0 0 0 0 ", 13) == 0, "snapshot \"%s\"", snap);
    expect_op(b, "bo", 'C');
    send_move(a2, ROCK);
    expect_result(a2, "ana", ROCK, PAPER);
    expect_result(b, "bo", PAPER, ROCK);
    ck_assert_int_eq(harness_sql_int(db, "SELECT count(*) FROM rounds"), 1);
    close(a2);
    close(b);
    cluster_down();
}
END_TEST

/* kill -9 of the node hosting a match: the player connected elsewhere gets an error and the
 * lobby; the dead node's player logs in on the other once the node counts as gone. */
START_TEST(test_killed_node)
{
    char ana_secret[SECRET_HEX + 1], bo_secret[SECRET_HEX + 1], err[128];
    CLUSTER_OR_SKIP("30");
    int a = dial(node[0].port), b = dial(node[1].port);
    register_name(a, "ana", ana_secret);
    register_name(b, "bo", bo_secret);
    queue_up(b, "bo");
    put(a, "P", 1);
    expect_op(a, "ana", 'W');
    expect_frame(a, "ana", 'V', "bo");
    expect_frame(b, "bo", 'V', "ana");
    kill(node[0].pid, SIGKILL);
    harness_wait(&node[0]);
    expect_any_text(b, "bo", 'E', err, sizeof(err));
    ck_assert_str_eq(err, "server gone");
    expect_op(b, "bo", 'B');
    named_round(b, (char)('0' + ROCK));       /* the lobby, for real: the bot plays */
    close(a);
    int a2 = dial(node[1].port);
    send_login(a2, "ana", ana_secret);
    expect_frame(a2, "ana on B", 'A', "ana");
    named_round(a2, (char)('0' + PAPER));
    close(a2);
    close(b);
    cluster_down();
}
END_TEST

static Suite *cluster_suite(void)
{
    Suite *s = suite_create("cluster");
    TCase *tc = tcase_create("nodes");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_hello_on_two_nodes);
    tcase_add_test(tc, test_login_takes_over_across_nodes);
    tcase_add_test(tc, test_match_across_nodes);
    tcase_add_test(tc, test_rejoin_on_another_node);
    tcase_add_test(tc, test_killed_node);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return suite_run(cluster_suite());
}
