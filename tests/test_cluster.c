/* Several arcaded on one PostgreSQL database and one Redis (--bus), end to end: names, matches,
 * rejoin and a killed node across processes. Each test starts its own redis-server on a unix
 * socket in a temporary directory and makes its own database at ARCADE_TEST_PG (tests/pgtest.h);
 * without ARCADE_TEST_PG each test says so and passes. Expected frames come from docs/PROTOCOL.md. */
#include <check.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


#include "expect.h"
#include "harness.h"
#include "redistest.h"
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

static void redis_start(void)
{
    redis_pid = redistest_start(dir, sock, sizeof(sock), bus_uri, sizeof(bus_uri));
}

static void redis_kill(void)
{
    redistest_kill(redis_pid, sock);
}

/* A command (hiredis's format) on a connection of the test's own to its redis-server; the test
 * fails when Redis refuses it. */
static void redis_do(const char *fmt, ...)
{
    va_list ap;
    redisContext *c = redisConnectUnix(sock);
    ck_assert_msg(c != NULL && c->err == 0, "cannot connect to redis-server on %s", sock);
    va_start(ap, fmt);
    redisReply *rep = redisvCommand(c, fmt, ap);
    va_end(ap);
    ck_assert_msg(rep != NULL && rep->type != REDIS_REPLY_ERROR, "Redis refused \"%s\": %s", fmt,
                  rep != NULL ? rep->str : c->errstr);
    freeReplyObject(rep);
    redisFree(c);
}

/* redis-server and a database of this test's own, then the nodes, each with --bus and --db. With a
 * user, node A connects to Redis as that user (made here, password "secret"), so that the test can
 * cut A alone off (cut_off). */
static int cluster_up(const char *move_timeout, const char *user)
{
    char bus_a[sizeof(bus_uri) + 64];

    if (pgtest_uri() == NULL) {
        return -1;
    }
    ck_assert_int_eq(suite_mkdtemp(dir, sizeof(dir), "cluster"), 0);
    redis_start();
    snprintf(bus_a, sizeof(bus_a), "%s", bus_uri);
    if (user != NULL) {
        redis_do("ACL SETUSER %s on >secret ~* &* +@all", user);
        snprintf(bus_a, sizeof(bus_a), "unix://%s:secret@%s", user, sock);
    }
    ck_assert_int_eq(pgtest_create(db, sizeof(db)), 0);
    ck_assert_int_eq(suite_note_db(db, pgtest_drop), 0);
    for (int i = 0; i < NODES; i++) {
        struct harness *h = &node[i];
        memset(h, 0, sizeof(*h));
        ck_assert_int_eq(suite_mkdtemp(h->dir, sizeof(h->dir), "node"), 0);
        snprintf(h->log, sizeof(h->log), "%s/arcaded.log", h->dir);
        snprintf(h->db, sizeof(h->db), "%s", db);
        const char *bus = i == 0 ? bus_a : bus_uri;
        ck_assert_msg(harness_restart(h, "--bus", bus, "--move-timeout", move_timeout, NULL) == 0,
                      "node %d did not start: '%s'", i, h->first);
    }
    return 0;
}

static void cluster_down(void)
{
    for (int i = 0; i < NODES; i++) {
        harness_cleanup(&node[i]);
    }
    redistest_stop(redis_pid);
    pgtest_drop(db);
    suite_forget_db(db);
    suite_rmtree(dir);
}

#define CLUSTER_OR_SKIP(move_timeout) CLUSTER_AS_OR_SKIP(move_timeout, NULL)
/* The same with node A on Redis as user (cluster_up). */
#define CLUSTER_AS_OR_SKIP(move_timeout, user)                                                              \
    do {                                                                                                    \
        if (cluster_up(move_timeout, user) < 0) {                                                           \
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

/* `V <name>`, after at most one `W`: a player matched at once, or once the shared queue answered. */
static void expect_matched(int fd, const char *who, const char *name)
{
    char head[2], text[TEXT_MAX + 1];
    ck_assert_int_eq(harness_recv_n(fd, head, 1), 1);
    if (head[0] == 'W') {
        ck_assert_int_eq(harness_recv_n(fd, head, 1), 1);
    }
    ck_assert_msg(head[0] == 'V', "%s: expected V, got %s", who, show(head, 1));
    ck_assert_int_eq(harness_recv_n(fd, head + 1, 1), 1);
    size_t n = (unsigned char)head[1];
    ck_assert_int_eq(harness_recv_n(fd, text, n), (ssize_t)n);
    text[n] = '\0';
    ck_assert_str_eq(text, name);
}

/* The first frame answering a hello for name on fd: its op (A or N) and text. */
static char hello_on(int fd, const char *name, char *text, size_t cap)
{
    char head[2];
    send_frame(fd, 'H', name);
    ck_assert_int_eq(harness_recv_n(fd, head, 2), 2);
    size_t n = (unsigned char)head[1];
    ck_assert_uint_lt(n, cap);
    ck_assert_int_eq(harness_recv_n(fd, text, n), (ssize_t)n);
    text[n] = '\0';
    return head[0];
}

/* The same on a fresh connection to port, closed after. */
static char hello_answer(int port, const char *name, char *text, size_t cap)
{
    int fd = dial(port);
    char op = hello_on(fd, name, text, cap);
    close(fd);
    return op;
}

/* Hellos for name on port, each on a fresh connection, refused with refusal (the name live on
 * another node, the bus down) until one is accepted: that connection, named. */
static int hello_until_accepted(int port, const char *name, const char *refusal)
{
    char text[TEXT_MAX + 1];
    for (int i = 0; i < 1000; i++) {
        int fd = dial(port);
        if (hello_on(fd, name, text, sizeof(text)) == 'A') {
            ck_assert_str_eq(text, name);
            return fd;
        }
        ck_assert_msg(strcmp(text, refusal) == 0, "%s on port %d: refused \"%s\", not \"%s\"", name, port, text,
                      refusal);
        close(fd);
        usleep(10000);
    }
    ck_abort_msg("%s on port %d: still refused \"%s\"", name, port, refusal);
    return -1;
}

/* /healthz on port, asked until it answers want (3 s at most): the last status, its body into body. */
static int healthz_until(int port, int want, char *body, size_t cap)
{
    int status = 0;
    for (int i = 0; i < 300 && (status = http_get(port, "/healthz", body, cap)) != want; i++) {
        usleep(10000);
    }
    return status;
}

/* `P`, answered `W`; then a moment for the bus to have the entry. */
static void queue_up(int fd, const char *who)
{
    put(fd, "P", 1);
    expect_op(fd, who, 'W');
    usleep(300000);
}

/* waiter queues, then asker's `P` matches them (the asker's `W` first): both see the other's `V`. */
static void pair_up(int waiter, const char *wname, int asker, const char *aname)
{
    queue_up(waiter, wname);
    put(asker, "P", 1);
    expect_op(asker, aname, 'W');
    expect_frame(asker, aname, 'V', wname);
    expect_frame(waiter, wname, 'V', aname);
}

/* Node A, on Redis as user, cut off it alone (B keeps it): the user is refused and its
 * connections killed, so A cannot connect again until let_back. Returns once A says so. */
static void cut_off(const char *user)
{
    char body[65536];
    redis_do("ACL SETUSER %s off", user);
    redis_do("CLIENT KILL USER %s", user);
    int status = healthz_until(node[0].port, 503, body, sizeof(body));
    ck_assert_msg(status == 503, "/healthz on A answered %d with A cut off Redis", status);
}

static void let_back(const char *user)
{
    redis_do("ACL SETUSER %s on", user);
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
    pair_up(a, "ana", b, "bo");
    match_round(a, "ana", ROCK, b, "bo", SCISSORS);
    match_round(b, "bo", PAPER, a, "ana", PAPER);
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
    pair_up(b, "bo", a, "ana"); /* bo waits on B: ana, arriving on A, is matched there */
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
    pair_up(b, "bo", a, "ana");
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

/* Redis killed while both nodes serve: names that need the bus are refused, play against the bot
 * goes on and is stored, /healthz and /metrics say the bus is down. Redis back on the same socket
 * (empty): the nodes connect again by themselves, the names live on them are theirs again, and
 * players on different nodes are matched again. */
START_TEST(test_redis_down_then_back)
{
    char text[TEXT_MAX + 1], body[65536];
    CLUSTER_OR_SKIP("10");
    int a = dial(node[0].port);
    hello(a, "ana");
    ck_assert_int_eq(http_get(node[0].port, "/healthz", body, sizeof(body)), 200);

    redis_kill();
    int status = healthz_until(node[0].port, 503, body, sizeof(body));
    ck_assert_msg(status == 503, "/healthz on A answered %d with Redis gone", status);
    ck_assert_msg(strstr(body, "bus") != NULL, "/healthz on A: \"%s\"", body);
    ck_assert_int_eq(http_get(node[0].port, "/metrics", body, sizeof(body)), 200);
    ck_assert_msg(strstr(body, "\narcade_bus_connected 0\n") != NULL, "no arcade_bus_connected 0 in /metrics");
    ck_assert_int_eq(hello_answer(node[0].port, "bo", text, sizeof(text)), 'N');
    ck_assert_str_eq(text, "games unavailable");
    named_round(a, (char)('0' + ROCK));     /* answered once stored */

    redis_start();
    close(hello_until_accepted(node[0].port, "bo", "games unavailable"));
    ck_assert_int_eq(healthz_until(node[0].port, 200, body, sizeof(body)), 200);
    ck_assert_int_eq(http_get(node[0].port, "/metrics", body, sizeof(body)), 200);
    ck_assert_msg(strstr(body, "\narcade_bus_connected 1\n") != NULL, "no arcade_bus_connected 1 in /metrics");
    /* ana stayed on A all along: the new Redis knows it as A's. */
    ck_assert_int_eq(hello_answer(node[1].port, "ana", text, sizeof(text)), 'N');
    ck_assert_str_eq(text, "name in use");
    ck_assert_int_eq(healthz_until(node[1].port, 200, body, sizeof(body)), 200);
    int c = dial(node[0].port), d = dial(node[1].port);
    hello(c, "cy");
    hello(d, "di");
    pair_up(c, "cy", d, "di");
    match_round(c, "cy", ROCK, d, "di", PAPER);
    ck_assert_int_eq(harness_sql_int(db, "SELECT count(*) FROM rounds"), 1);
    close(a);
    close(c);
    close(d);
    cluster_down();
}
END_TEST

/* Redis stopped (SIGSTOP), not gone: it keeps the nodes' connections open and answers nothing. A
 * node counts it as down all the same, within seconds: /healthz answers 503 and a hello is refused.
 * Answering again (SIGCONT), it is connected again by itself. */
START_TEST(test_silent_redis_counts_as_down)
{
    char text[TEXT_MAX + 1], body[65536];
    int status = 0;
    CLUSTER_OR_SKIP("10");
    ck_assert_int_eq(http_get(node[0].port, "/healthz", body, sizeof(body)), 200);

    kill(redis_pid, SIGSTOP);
    for (int i = 0; i < 500 && (status = http_get(node[0].port, "/healthz", body, sizeof(body))) != 503; i++) {
        usleep(10000);
    }
    ck_assert_msg(status == 503, "/healthz on A answered %d with Redis stopped", status);
    ck_assert_msg(strstr(body, "bus") != NULL, "/healthz on A: \"%s\"", body);
    ck_assert_int_eq(hello_answer(node[0].port, "bo", text, sizeof(text)), 'N');
    ck_assert_str_eq(text, "games unavailable");

    kill(redis_pid, SIGCONT);
    char op = 'N';
    for (int i = 0; i < 700 && (op = hello_answer(node[0].port, "bo", text, sizeof(text))) != 'A'; i++) {
        ck_assert_str_eq(text, "games unavailable");
        usleep(10000);
    }
    ck_assert_msg(op == 'A', "a hello on A still answered \"%s\" with Redis answering again", text);
    ck_assert_int_eq(http_get(node[0].port, "/healthz", body, sizeof(body)), 200);
    cluster_down();
}
END_TEST

/* The asking player leaves after its P took another node's entry and before that player came
 * over: the one who came over waits on, told nothing more (one W for one P), and is matched with
 * the next player. Node A is stopped meanwhile so that the order is certain. */
START_TEST(test_asker_leaves_before_the_join)
{
    CLUSTER_OR_SKIP("10");
    int a = dial(node[0].port), b = dial(node[1].port);
    hello(a, "ana");
    hello(b, "bo");
    queue_up(a, "ana");
    kill(node[0].pid, SIGSTOP);
    put(b, "P", 1);
    expect_op(b, "bo", 'W');
    usleep(300000);             /* B took ana's entry and asked A, which cannot answer yet */
    close(b);
    usleep(300000);             /* B saw bo leave */
    kill(node[0].pid, SIGCONT);
    usleep(500000);             /* A sent ana over; B had nobody to match her with */
    int c = dial(node[1].port);
    hello(c, "cy");
    put(c, "P", 1);
    expect_matched(c, "cy", "ana");
    expect_frame(a, "ana", 'V', "cy");
    match_round(a, "ana", ROCK, c, "cy", SCISSORS);
    close(a);
    close(c);
    cluster_down();
}
END_TEST

/* A player whose session is on another node (it came over for a match: its socket's node is a
 * gate) queues again after that match and is matched with a player of its gate node, who comes
 * over to the host too: the shared queue has it like anyone. */
START_TEST(test_tunnelled_player_queues_again)
{
    CLUSTER_OR_SKIP("10");
    int a = dial(node[0].port), b = dial(node[1].port);
    hello(a, "ana");
    hello(b, "bo");
    pair_up(a, "ana", b, "bo"); /* ana plays on B now, through A */
    put(b, "L", 1);
    expect_op(b, "bo", 'B');
    expect_op(a, "ana", 'G');
    close(b);
    queue_up(a, "ana");                     /* in the shared queue, first: its entry names B */
    int c = dial(node[0].port);
    hello(c, "cy");
    put(c, "P", 1);
    expect_matched(c, "cy", "ana");
    expect_frame(a, "ana", 'V', "cy");
    match_round(a, "ana", PAPER, c, "cy", ROCK);
    ck_assert_int_eq(harness_sql_int(db, "SELECT count(*) FROM rounds"), 1);
    close(a);
    close(c);
    cluster_down();
}
END_TEST

/* Node A alone loses Redis for longer than a node lives without saying so: B gives ana, live on A,
 * to a new hello. When A is back, the newer session wins: A's is ended as in a take-over, and the
 * name is B's alone. */
START_TEST(test_split_brain_ends_the_older_session)
{
    char text[TEXT_MAX + 1];
    CLUSTER_AS_OR_SKIP("10", "nodea");
    int a = dial(node[0].port);
    hello(a, "ana");
    cut_off("nodea");
    int b = hello_until_accepted(node[1].port, "ana", "name in use");   /* once A counts as gone */
    named_round(a, (char)('0' + ROCK));     /* two sessions of ana meanwhile: A's plays on alone */
    let_back("nodea");
    expect_frame(a, "ana on A", 'E', "taken over by another login");
    expect_eof(a);
    named_round(b, (char)('0' + PAPER));
    ck_assert_int_eq(hello_answer(node[0].port, "ana", text, sizeof(text)), 'N');
    ck_assert_str_eq(text, "name in use");
    close(a);
    close(b);
    cluster_down();
}
END_TEST

/* The same with A's ana in a match: it plays on until the match is over, and only then ends. */
START_TEST(test_split_brain_waits_out_a_match)
{
    CLUSTER_AS_OR_SKIP("30", "nodea");
    int a = dial(node[0].port), c = dial(node[0].port);
    hello(a, "ana");
    hello(c, "cy");
    queue_up(a, "ana");
    put(c, "P", 1);
    expect_matched(c, "cy", "ana");
    expect_frame(a, "ana", 'V', "cy");
    cut_off("nodea");
    int b = hello_until_accepted(node[1].port, "ana", "name in use");
    let_back("nodea");
    /* A is back once a hello there is claimed on the bus: after ana's claim again, answered first. */
    close(hello_until_accepted(node[0].port, "di", "games unavailable"));
    usleep(1500000);        /* a probe or more, which must not cut the match short */
    match_round(a, "ana", ROCK, c, "cy", SCISSORS);
    put(a, "L", 1);
    expect_op(a, "ana", 'B');
    expect_op(c, "cy", 'G');
    expect_frame(a, "ana on A", 'E', "taken over by another login");
    expect_eof(a);
    named_round(b, (char)('0' + PAPER));
    named_round(c, (char)('0' + PAPER));
    close(a);
    close(b);
    close(c);
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
    tcase_add_test(tc, test_redis_down_then_back);
    tcase_add_test(tc, test_silent_redis_counts_as_down);
    tcase_add_test(tc, test_asker_leaves_before_the_join);
    tcase_add_test(tc, test_tunnelled_player_queues_again);
    tcase_add_test(tc, test_split_brain_ends_the_older_session);
    tcase_add_test(tc, test_split_brain_waits_out_a_match);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return suite_run(cluster_suite());
}
