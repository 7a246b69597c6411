/* The bus against a real redis-server of each test's own, on a unix socket in the test's
 * directory: several buses (nodes) on one libev loop, which the test drives until the answer it
 * waits for has come. The test looks at Redis itself through a plain hiredis connection of its
 * own, never through the bus it checks. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <hiredis/hiredis.h>

#include "bus.h"
#include "suite.h"

#define WAIT 5.0        /* seconds an answer may take before the test gives up */

static char dir[64];
static char sock[128];
static char uri[192];
static char password[32];   /* what redis-server wants, if anything */
static pid_t redis_pid;
static struct ev_loop *loop;
static ev_timer tick;       /* so that EVRUN_ONCE comes back while nothing happens */

/* Run the loop until cond holds or secs have passed. */
#define RUN_UNTIL(cond, secs)                                       \
    do {                                                            \
        double until_ = ev_time() + (secs);                         \
        while (!(cond) && ev_time() < until_) {                     \
            ev_run(loop, EVRUN_ONCE);                               \
        }                                                           \
    } while (0)

static void run_for(double secs)
{
    double until = ev_time() + secs;

    while (ev_time() < until) {
        ev_run(loop, EVRUN_ONCE);
    }
}

static void tick_cb(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)l;
    (void)w;
    (void)revents;
}

/* The test's own connection to Redis. */
static redisContext *raw(void)
{
    redisContext *c = redisConnectUnix(sock);

    ck_assert_msg(c != NULL && c->err == 0, "connect %s: %s", sock, c != NULL ? c->errstr : "?");
    if (password[0] != '\0') {
        freeReplyObject(redisCommand(c, "AUTH %s", password));
    }
    return c;
}

static long long raw_int(const char *fmt, const char *arg)
{
    redisContext *c = raw();
    redisReply *rep = redisCommand(c, fmt, arg);
    long long v;

    ck_assert_msg(rep != NULL && rep->type == REDIS_REPLY_INTEGER, "%s: no integer", fmt);
    v = rep->integer;
    freeReplyObject(rep);
    redisFree(c);
    return v;
}

static void raw_do(const char *fmt, const char *arg)
{
    redisContext *c = raw();
    redisReply *rep = redisCommand(c, fmt, arg);

    ck_assert_msg(rep != NULL && rep->type != REDIS_REPLY_ERROR, "%s: %s", fmt, rep != NULL ? rep->str : "?");
    freeReplyObject(rep);
    redisFree(c);
}

/* Does redis-server answer PING (or ask for a password) on the socket? */
static int answers(void)
{
    redisContext *c = redisConnectUnix(sock);
    redisReply *rep;
    int ok = 0;

    if (c == NULL || c->err != 0) {
        redisFree(c);
        return 0;
    }
    rep = redisCommand(c, "PING");
    ok = rep != NULL && (rep->type == REDIS_REPLY_STATUS || rep->type == REDIS_REPLY_ERROR);
    freeReplyObject(rep);
    redisFree(c);
    return ok;
}

/* redis-server on the test's socket (and on TCP port, when not 0). */
static void redis_start(int port)
{
    char portarg[16], logfile[160];
    double until = ev_time() + WAIT;

    snprintf(portarg, sizeof(portarg), "%d", port);
    snprintf(logfile, sizeof(logfile), "%s/redis.log", dir);
    redis_pid = fork();
    ck_assert_int_ge(redis_pid, 0);
    if (redis_pid == 0) {
        const char *argv[20] = {"redis-server", "--port", portarg, "--bind", "127.0.0.1", "--unixsocket", sock,
                                "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", logfile};
        int argc = 15;
        if (password[0] != '\0') {
            argv[argc++] = "--requirepass";
            argv[argc++] = password;
        }
        argv[argc] = NULL;
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    suite_child(redis_pid);
    while (!answers() && ev_time() < until) {
        usleep(10000);
    }
    ck_assert_msg(answers(), "redis-server does not answer on %s", sock);
}

static void redis_stop(void)
{
    if (redis_pid > 0) {
        kill(redis_pid, SIGKILL);
        waitpid(redis_pid, NULL, 0);
        suite_forget_child(redis_pid);
        redis_pid = 0;
    }
}

/* Stop redis-server (SIGSTOP), and wait until it is stopped: its sockets stay open and the kernel
 * still accepts connections for it, but nothing is answered until redis_resume. */
static void redis_pause(void)
{
    int status;

    ck_assert_int_eq(kill(redis_pid, SIGSTOP), 0);
    ck_assert_int_eq(waitpid(redis_pid, &status, WUNTRACED), redis_pid);
    ck_assert(WIFSTOPPED(status));
}

static void redis_resume(void)
{
    ck_assert_int_eq(kill(redis_pid, SIGCONT), 0);
}

static void setup(void)
{
    ck_assert_int_eq(suite_mkdtemp(dir, sizeof(dir), "bus"), 0);
    snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
    snprintf(uri, sizeof(uri), "unix://%s", sock);
    password[0] = '\0';
    loop = ev_loop_new(EVFLAG_AUTO);
    ev_timer_init(&tick, tick_cb, 0.02, 0.02);
    ev_timer_start(loop, &tick);
}

static void teardown(void)
{
    redis_stop();
    ev_timer_stop(loop, &tick);
    ev_loop_destroy(loop);
    suite_rmtree(dir);
}

/* What a node was told. */
struct inbox {
    int n;
    char from[BUS_NODE_LEN + 1];
    unsigned char msg[BUS_MESSAGE_MAX];
    size_t len;
};

static void on_message(void *arg, const char *from, const void *msg, size_t len)
{
    struct inbox *in = arg;

    in->n++;
    snprintf(in->from, sizeof(in->from), "%s", from);
    ck_assert_uint_le(len, sizeof(in->msg));
    memcpy(in->msg, msg, len);
    in->len = len;
}

static struct bus *open_bus(const char *where, struct inbox *in)
{
    char err[256] = "";
    struct bus *b = bus_open(where, loop, on_message, in, err, sizeof(err));

    ck_assert_msg(b != NULL, "bus_open %s: %s", where, err);
    ck_assert(bus_connected(b));
    ck_assert_uint_eq(strlen(bus_node(b)), BUS_NODE_LEN);
    return b;
}

/* A request, and how many times its done was called. */
struct ask {
    struct bus_req r;
    int done;
    struct ask *other;      /* cancel_done: the one to cancel */
    struct bus *bus;        /* close_done: the bus to close */
};

static void ask_done(struct bus_req *r)
{
    struct ask *a = r->data;

    a->done++;
}

static void ask_init(struct ask *a)
{
    memset(a, 0, sizeof(*a));
    a->r.done = ask_done;
    a->r.data = a;
}

/* Wait for a's answer (sent already: done must not have come yet); its status. */
static int answer(struct ask *a)
{
    ck_assert_int_eq(a->done, 0);
    RUN_UNTIL(a->done > 0, WAIT);
    ck_assert_int_eq(a->done, 1);
    ck_assert_ptr_null(a->r.flight);
    return a->r.status;
}

/* bus_claim, answered; the holder into node when not NULL. */
static int claim(struct bus *b, const char *name, int take, char *node)
{
    struct ask a;
    int status;

    ask_init(&a);
    ck_assert_int_eq(bus_claim(b, &a.r, name, take), 0);
    status = answer(&a);
    if (node != NULL) {
        snprintf(node, BUS_NODE_LEN + 1, "%s", a.r.node);
    }
    return status;
}

static int alive(struct bus *b, const char *node)
{
    struct ask a;

    ask_init(&a);
    ck_assert_int_eq(bus_alive(b, &a.r, node), 0);
    return answer(&a);
}

static int queue_take(struct bus *b, const char *entry, char *taken)
{
    struct ask a;
    int status;

    ask_init(&a);
    ck_assert_int_eq(bus_queue_take(b, &a.r, entry), 0);
    status = answer(&a);
    snprintf(taken, BUS_ENTRY_MAX + 1, "%s", a.r.entry);
    return status;
}

static int queue_remove(struct bus *b, const char *entry)
{
    struct ask a;

    ask_init(&a);
    ck_assert_int_eq(bus_queue_remove(b, &a.r, entry), 0);
    return answer(&a);
}

/* Release and hand over give no answer: a request after them on the same connection comes back
 * after they are done. */
static void sync_bus(struct bus *b)
{
    ck_assert_int_eq(alive(b, bus_node(b)), 1);
}

static void entry_of(char *out, struct bus *b, const char *who)
{
    snprintf(out, BUS_ENTRY_MAX + 1, "%s%c%s", bus_node(b), BUS_ENTRY_SEP, who);
}

START_TEST(test_messages_both_ways)
{
    struct inbox ia = {0}, ib = {0};
    struct bus *a, *b;
    static const unsigned char hello[] = {'h', 0, 'i', 0xff, 0, '\n', 0x80};
    static unsigned char big[BUS_MESSAGE_MAX + 1];

    redis_start(0);
    a = open_bus(uri, &ia);
    b = open_bus(uri, &ib);
    ck_assert_str_ne(bus_node(a), bus_node(b));

    ck_assert_int_eq(bus_send(a, bus_node(b), hello, sizeof(hello)), 0);
    RUN_UNTIL(ib.n == 1, WAIT);
    ck_assert_int_eq(ib.n, 1);
    ck_assert_str_eq(ib.from, bus_node(a));
    ck_assert_uint_eq(ib.len, sizeof(hello));
    ck_assert(memcmp(ib.msg, hello, sizeof(hello)) == 0);

    ck_assert_int_eq(bus_send(b, bus_node(a), "", 0), 0);
    memset(big, 'x', sizeof(big));
    big[0] = 0;
    ck_assert_int_eq(bus_send(b, bus_node(a), big, BUS_MESSAGE_MAX), 0);
    RUN_UNTIL(ia.n == 2, WAIT);
    ck_assert_int_eq(ia.n, 2);
    ck_assert_str_eq(ia.from, bus_node(b));
    ck_assert_uint_eq(ia.len, BUS_MESSAGE_MAX);
    ck_assert(memcmp(ia.msg, big, BUS_MESSAGE_MAX) == 0);

    /* Too long, or to something that is not a node id: refused at once. */
    ck_assert_int_eq(bus_send(b, bus_node(a), big, BUS_MESSAGE_MAX + 1), -1);
    ck_assert_int_eq(bus_send(b, "alice", "x", 1), -1);
    ck_assert_int_eq(bus_send(b, "0123456789ABCDEF", "x", 1), -1);
    run_for(0.1);
    ck_assert_int_eq(ia.n, 2);
    ck_assert_int_eq(ib.n, 1);
    bus_close(a);
    bus_close(b);
}
END_TEST

START_TEST(test_hello_claims_once)
{
    struct inbox ia = {0}, ib = {0};
    struct bus *a, *b;
    char node[BUS_NODE_LEN + 1];
    struct ask bad;

    redis_start(0);
    a = open_bus(uri, &ia);
    b = open_bus(uri, &ib);
    ck_assert_int_eq(claim(a, "Alice", 0, node), 1);
    ck_assert_str_eq(node, "");
    ck_assert_int_eq(claim(a, "alice", 0, node), 1);    /* its own already */
    ck_assert_str_eq(node, "");
    /* Another node, whatever the case of the name. */
    ck_assert_int_eq(claim(b, "ALICE", 0, node), 0);
    ck_assert_str_eq(node, bus_node(a));
    ck_assert_int_eq(claim(b, "alice_2", 0, node), 1);
    redisContext *c = raw();
    redisReply *rep = redisCommand(c, "GET arcade:live:alice");
    ck_assert(rep != NULL && rep->type == REDIS_REPLY_STRING);
    ck_assert_str_eq(rep->str, bus_node(a));
    freeReplyObject(rep);
    redisFree(c);

    /* Not a name: refused at once, done never called. */
    ask_init(&bad);
    ck_assert_int_eq(bus_claim(b, &bad.r, "al ice", 0), -1);
    ck_assert_int_eq(bus_claim(b, &bad.r, "", 0), -1);
    run_for(0.1);
    ck_assert_int_eq(bad.done, 0);
    bus_close(a);
    bus_close(b);
}
END_TEST

START_TEST(test_proven_claim_takes_and_names_the_holder)
{
    struct inbox ia = {0}, ib = {0};
    struct bus *a, *b;
    char node[BUS_NODE_LEN + 1];

    redis_start(0);
    a = open_bus(uri, &ia);
    b = open_bus(uri, &ib);
    ck_assert_int_eq(claim(b, "bob", 1, node), 1);      /* nobody held it */
    ck_assert_str_eq(node, "");
    ck_assert_int_eq(claim(a, "Bob", 1, node), 1);      /* b held it: b must be told */
    ck_assert_str_eq(node, bus_node(b));
    ck_assert_int_eq(claim(b, "bob", 0, node), 0);
    ck_assert_str_eq(node, bus_node(a));
    ck_assert_int_eq(claim(a, "bob", 1, node), 1);      /* its own: nobody to tell */
    ck_assert_str_eq(node, "");
    bus_close(a);
    bus_close(b);
}
END_TEST

START_TEST(test_release_and_hand_over)
{
    struct inbox ia = {0}, ib = {0}, ic = {0};
    struct bus *a, *b, *c;
    char node[BUS_NODE_LEN + 1];

    redis_start(0);
    a = open_bus(uri, &ia);
    b = open_bus(uri, &ib);
    c = open_bus(uri, &ic);
    ck_assert_int_eq(claim(a, "carol", 0, node), 1);

    /* Only the holder lets go, or hands over. */
    bus_release(b, "carol");
    bus_hand_over(b, "carol", bus_node(b));
    sync_bus(b);
    ck_assert_int_eq(claim(c, "carol", 0, node), 0);
    ck_assert_str_eq(node, bus_node(a));

    bus_hand_over(a, "CAROL", bus_node(b));
    sync_bus(a);
    ck_assert_int_eq(claim(c, "carol", 0, node), 0);
    ck_assert_str_eq(node, bus_node(b));
    bus_release(a, "carol");                            /* not a's any more */
    sync_bus(a);
    ck_assert_int_eq(claim(c, "carol", 0, node), 0);
    ck_assert_str_eq(node, bus_node(b));

    bus_release(b, "Carol");
    sync_bus(b);
    ck_assert_int_eq(raw_int("EXISTS %s", "arcade:live:carol"), 0);
    ck_assert_int_eq(claim(c, "carol", 0, node), 1);
    bus_close(a);
    bus_close(b);
    bus_close(c);
}
END_TEST

START_TEST(test_gone_holder_holds_nothing)
{
    struct inbox ia = {0}, ib = {0}, ic = {0};
    struct bus *a, *b, *c;
    char node[BUS_NODE_LEN + 1], a_node[BUS_NODE_LEN + 1], key[64];
    long long ttl;

    redis_start(0);
    a = open_bus(uri, &ia);
    b = open_bus(uri, &ib);
    c = open_bus(uri, &ic);
    snprintf(a_node, sizeof(a_node), "%s", bus_node(a));
    ck_assert_int_eq(claim(a, "dave", 0, node), 1);
    ck_assert_int_eq(claim(c, "erin", 0, node), 1);
    ck_assert_int_eq(alive(b, a_node), 1);
    snprintf(key, sizeof(key), "arcade:node:%s", bus_node(c));
    ttl = raw_int("PTTL %s", key);
    ck_assert_msg(ttl > 0 && ttl <= (long long)(BUS_NODE_TTL * 1000), "PTTL %lld", ttl);

    /* Closed: a's names are free at once. */
    bus_close(a);
    ck_assert_int_eq(alive(b, a_node), 0);
    ck_assert_int_eq(claim(b, "dave", 0, node), 1);
    ck_assert_str_eq(node, "");

    /* Silent (its key expired): c counts as gone, a proven claim has nobody to tell. */
    raw_do("DEL %s", key);
    ck_assert_int_eq(alive(b, bus_node(c)), 0);
    ck_assert_int_eq(claim(b, "erin", 1, node), 1);
    ck_assert_str_eq(node, "");

    /* c's heartbeat brings it back within BUS_HEARTBEAT. */
    run_for(BUS_HEARTBEAT + 0.3);
    ck_assert_int_eq(alive(b, bus_node(c)), 1);
    ck_assert_int_eq(claim(c, "erin", 0, node), 0);
    ck_assert_str_eq(node, bus_node(b));
    bus_close(b);
    bus_close(c);
}
END_TEST

START_TEST(test_queue_takes_the_oldest_alive)
{
    struct inbox ia = {0}, ib = {0}, ic = {0};
    struct bus *a, *b, *c;
    char ea[BUS_ENTRY_MAX + 1], eb[BUS_ENTRY_MAX + 1], ec[BUS_ENTRY_MAX + 1], taken[BUS_ENTRY_MAX + 1];
    char ea2[BUS_ENTRY_MAX + 1];
    struct ask bad;

    redis_start(0);
    a = open_bus(uri, &ia);
    b = open_bus(uri, &ib);
    c = open_bus(uri, &ic);
    entry_of(ea, a, "alice");
    entry_of(ea2, a, "anna");
    entry_of(eb, b, "bob");
    entry_of(ec, c, "carl");

    /* Empty: appended. Then taken by the next one. */
    ck_assert_int_eq(queue_take(a, ea, taken), 0);
    ck_assert_int_eq(raw_int("LLEN %s", "arcade:queue"), 1);
    ck_assert_int_eq(queue_take(b, eb, taken), 1);
    ck_assert_str_eq(taken, ea);
    ck_assert_int_eq(raw_int("LLEN %s", "arcade:queue"), 0);

    /* The oldest first. */
    raw_do("RPUSH arcade:queue %s", ea);
    raw_do("RPUSH arcade:queue %s", ea2);
    ck_assert_int_eq(queue_take(b, eb, taken), 1);
    ck_assert_str_eq(taken, ea);
    ck_assert_int_eq(queue_take(b, eb, taken), 1);
    ck_assert_str_eq(taken, ea2);

    /* A gone node's entries, and entries of no node, are dropped on the way. */
    ck_assert_int_eq(queue_take(c, ec, taken), 0);
    raw_do("RPUSH arcade:queue %s", "not-an-entry");
    raw_do("RPUSH arcade:queue %s", ea);
    bus_close(c);
    ck_assert_int_eq(queue_take(b, eb, taken), 1);
    ck_assert_str_eq(taken, ea);
    ck_assert_int_eq(raw_int("LLEN %s", "arcade:queue"), 0);
    raw_do("RPUSH arcade:queue %s", ec);
    ck_assert_int_eq(queue_take(b, eb, taken), 0);
    ck_assert_int_eq(raw_int("LLEN %s", "arcade:queue"), 1);
    ck_assert_int_eq(queue_take(a, ea, taken), 1);
    ck_assert_str_eq(taken, eb);

    /* Entries the script could not read are refused at once. */
    ask_init(&bad);
    ck_assert_int_eq(bus_queue_take(a, &bad.r, "alice"), -1);
    ck_assert_int_eq(bus_queue_take(a, &bad.r, "0123456789abcdef:alice"), -1);
    run_for(0.1);
    ck_assert_int_eq(bad.done, 0);
    bus_close(a);
    bus_close(b);
}
END_TEST

START_TEST(test_queue_remove)
{
    struct inbox ia = {0};
    struct bus *a;
    char ea[BUS_ENTRY_MAX + 1], taken[BUS_ENTRY_MAX + 1];

    redis_start(0);
    a = open_bus(uri, &ia);
    entry_of(ea, a, "alice");
    ck_assert_int_eq(queue_take(a, ea, taken), 0);
    ck_assert_int_eq(queue_remove(a, ea), 1);
    ck_assert_int_eq(raw_int("LLEN %s", "arcade:queue"), 0);
    ck_assert_int_eq(queue_remove(a, ea), 0);
    bus_close(a);
}
END_TEST

static void cancel_done(struct bus_req *r)
{
    struct ask *a = r->data;

    a->done++;
    bus_cancel(a->bus, &a->other->r);
}

static void close_done(struct bus_req *r)
{
    struct ask *a = r->data;

    a->done++;
    bus_close(a->bus);
}

START_TEST(test_cancel_and_close)
{
    struct inbox ia = {0}, ib = {0};
    struct bus *a, *b;
    struct ask x, y, z;

    redis_start(0);
    a = open_bus(uri, &ia);

    /* Cancelled while Redis has it. */
    ask_init(&x);
    ask_init(&y);
    ck_assert_int_eq(bus_claim(a, &x.r, "frank", 0), 0);
    ck_assert_ptr_nonnull(x.r.flight);
    bus_cancel(a, &x.r);
    ck_assert_ptr_null(x.r.flight);
    bus_cancel(a, &x.r);                                /* not pending: nothing */
    ck_assert_int_eq(bus_alive(a, &y.r, bus_node(a)), 0);
    ck_assert_int_eq(answer(&y), 1);
    run_for(0.1);
    ck_assert_int_eq(x.done, 0);

    /* Cancelled once answered, before its done: one done cancels the next. */
    ask_init(&x);
    ask_init(&y);
    x.r.done = cancel_done;
    x.bus = a;
    x.other = &y;
    ck_assert_int_eq(bus_claim(a, &x.r, "frank", 0), 0);
    ck_assert_int_eq(bus_claim(a, &y.r, "grace", 0), 0);
    RUN_UNTIL(x.done > 0, WAIT);
    run_for(0.1);
    ck_assert_int_eq(x.done, 1);
    ck_assert_int_eq(y.done, 0);
    ck_assert_ptr_null(y.r.flight);

    /* A done that closes the bus: the other answer still comes, once. */
    b = open_bus(uri, &ib);
    ask_init(&x);
    ask_init(&y);
    x.r.done = close_done;
    x.bus = b;
    ck_assert_int_eq(bus_claim(b, &x.r, "heidi", 0), 0);
    ck_assert_int_eq(bus_claim(b, &y.r, "ivan", 0), 0);
    RUN_UNTIL(x.done > 0, WAIT);
    ck_assert_int_eq(x.done, 1);
    ck_assert_int_eq(y.done, 1);
    run_for(0.1);
    ck_assert_int_eq(y.done, 1);

    /* Closing answers what is pending, as failed. */
    ask_init(&z);
    ck_assert_int_eq(bus_claim(a, &z.r, "judy", 0), 0);
    bus_close(a);
    ck_assert_int_eq(z.done, 1);
    ck_assert_int_eq(z.r.status, -1);
    ck_assert_str_ne(z.r.err, "");
    bus_close(NULL);
}
END_TEST

START_TEST(test_redis_lost_and_back)
{
    struct inbox ia = {0}, ib = {0};
    struct bus *a, *b;
    struct ask x, y;
    char node[BUS_NODE_LEN + 1], ea[BUS_ENTRY_MAX + 1];

    redis_start(0);
    a = open_bus(uri, &ia);
    b = open_bus(uri, &ib);
    ck_assert_int_eq(claim(a, "kate", 0, node), 1);

    /* Pending when Redis dies: answered as failed, from the loop. */
    ask_init(&x);
    ck_assert_int_eq(bus_claim(a, &x.r, "leo", 0), 0);
    redis_stop();
    ck_assert_int_eq(x.done, 0);
    ck_assert_int_eq(answer(&x), -1);
    ck_assert_str_ne(x.r.err, "");
    RUN_UNTIL(!bus_connected(a) && !bus_connected(b), WAIT);
    ck_assert(!bus_connected(a));
    ck_assert(!bus_connected(b));

    /* Down: everything fails at once. */
    ask_init(&y);
    entry_of(ea, a, "alice");
    ck_assert_int_eq(bus_claim(a, &y.r, "leo", 0), -1);
    ck_assert_str_ne(y.r.err, "");
    ck_assert_int_eq(bus_alive(a, &y.r, bus_node(b)), -1);
    ck_assert_int_eq(bus_queue_take(a, &y.r, ea), -1);
    ck_assert_int_eq(bus_queue_remove(a, &y.r, ea), -1);
    ck_assert_int_eq(bus_send(a, bus_node(b), "x", 1), -1);
    bus_release(a, "kate");
    bus_hand_over(a, "kate", bus_node(b));
    run_for(0.5);                                       /* a few attempts fail meanwhile */
    ck_assert_int_eq(y.done, 0);
    ck_assert(!bus_connected(a));

    /* Back: both connect by themselves, listen again and say they are alive. */
    redis_start(0);
    RUN_UNTIL(bus_connected(a) && bus_connected(b), BUS_RETRY_MAX + WAIT);
    ck_assert(bus_connected(a));
    ck_assert(bus_connected(b));
    ck_assert_int_eq(bus_send(a, bus_node(b), "again", 5), 0);
    ck_assert_int_eq(bus_send(b, bus_node(a), "too", 3), 0);
    RUN_UNTIL(ib.n == 1 && ia.n == 1, WAIT);
    ck_assert_int_eq(ib.n, 1);
    ck_assert_int_eq(ia.n, 1);
    ck_assert(ib.len == 5 && memcmp(ib.msg, "again", 5) == 0);
    ck_assert_int_eq(alive(a, bus_node(b)), 1);
    ck_assert_int_eq(claim(a, "leo", 0, node), 1);
    ck_assert_int_eq(claim(b, "leo", 0, node), 0);
    ck_assert_str_eq(node, bus_node(a));
    run_for(BUS_HEARTBEAT + 0.3);
    ck_assert_int_eq(alive(b, bus_node(a)), 1);
    bus_close(a);
    bus_close(b);
}
END_TEST

/* Redis stopped, not gone: the bus hears nothing more and counts it as lost before the others can
 * count this node gone (its key expires BUS_NODE_TTL after the last heartbeat Redis stored). It
 * connects again once Redis answers again. */
START_TEST(test_silent_redis_counts_as_lost)
{
    struct inbox ia = {0};
    struct bus *a;
    struct ask x, y;
    char node[BUS_NODE_LEN + 1];
    unsigned links;
    double stopped;

    redis_start(0);
    a = open_bus(uri, &ia);
    links = bus_links(a);
    ck_assert_int_eq(claim(a, "nina", 0, node), 1);

    /* Pending when Redis stops (sent once it is stopped: never answered), failed once the bus
     * gives up on it. */
    ask_init(&x);
    ck_assert_int_eq(bus_claim(a, &x.r, "oscar", 0), 0);
    redis_pause();
    stopped = ev_time();
    RUN_UNTIL(!bus_connected(a), BUS_NODE_TTL);
    ck_assert_msg(!bus_connected(a), "still connected %.1f s after Redis stopped", ev_time() - stopped);
    RUN_UNTIL(x.done > 0, WAIT);
    ck_assert_int_eq(x.done, 1);
    ck_assert_int_eq(x.r.status, -1);
    ck_assert_str_ne(x.r.err, "");
    ask_init(&y);
    ck_assert_int_eq(bus_claim(a, &y.r, "oscar", 0), -1);

    /* The attempts connect (the kernel accepts for a stopped Redis) and time out: still down, for
     * longer than one attempt may take (3 s). */
    run_for(4.0);
    ck_assert(!bus_connected(a));
    ck_assert_uint_eq(bus_links(a), links);

    /* Answering again: connected again by itself, and it is alive to the others. */
    redis_resume();
    RUN_UNTIL(bus_connected(a), BUS_RETRY_MAX + WAIT);
    ck_assert(bus_connected(a));
    ck_assert_uint_eq(bus_links(a), links + 1);
    ck_assert_int_eq(claim(a, "oscar", 0, node), 1);
    run_for(BUS_HEARTBEAT + 0.3);
    ck_assert(bus_connected(a));
    ck_assert_int_eq(alive(a, bus_node(a)), 1);
    bus_close(a);
}
END_TEST

/* The loop held up (a slow callback, a stopped process) for longer than Redis may stay silent,
 * while Redis owed nothing: it is not to blame, and the link stays. */
START_TEST(test_held_up_loop_keeps_the_link)
{
    struct inbox ia = {0};
    struct bus *a;
    char key[64];
    unsigned links;

    redis_start(0);
    a = open_bus(uri, &ia);
    links = bus_links(a);
    snprintf(key, sizeof(key), "arcade:node:%s", bus_node(a));

    /* Just after a heartbeat was stored, and its answer read: the next one is a second away. */
    RUN_UNTIL(raw_int("PTTL %s", key) > (long long)(BUS_NODE_TTL * 1000) - 50, WAIT);
    ck_assert_int_gt(raw_int("PTTL %s", key), (long long)(BUS_NODE_TTL * 1000) - 100);
    run_for(0.1);
    usleep((useconds_t)((BUS_HEARTBEAT + BUS_STALL + 0.2) * 1e6));     /* the hold-up itself */
    run_for(BUS_STALL + 0.5);
    ck_assert(bus_connected(a));
    ck_assert_uint_eq(bus_links(a), links);
    ck_assert_int_eq(alive(a, bus_node(a)), 1);
    bus_close(a);
}
END_TEST

/* A Redis that answers but refuses writes (a replica after a failover, out of memory, here too few
 * replicas for min-replicas-to-write): the heartbeat is refused, the node key would expire and the
 * others count this node gone, so the bus must count Redis lost too; back once it takes writes. */
START_TEST(test_redis_refusing_writes_counts_as_lost)
{
    struct inbox ia = {0};
    struct bus *a;
    char node[BUS_NODE_LEN + 1];
    unsigned links;
    double refused;

    redis_start(0);
    a = open_bus(uri, &ia);
    links = bus_links(a);
    raw_do("CONFIG SET min-replicas-to-write %s", "1");
    refused = ev_time();
    RUN_UNTIL(!bus_connected(a), BUS_NODE_TTL);
    ck_assert_msg(!bus_connected(a), "still connected %.1f s after Redis refused writes", ev_time() - refused);

    raw_do("CONFIG SET min-replicas-to-write %s", "0");
    RUN_UNTIL(bus_connected(a), BUS_RETRY_MAX + WAIT);
    ck_assert(bus_connected(a));
    ck_assert_uint_gt(bus_links(a), links);
    ck_assert_int_eq(claim(a, "oscar", 0, node), 1);
    ck_assert_int_eq(alive(a, bus_node(a)), 1);
    bus_close(a);
}
END_TEST

static int free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

START_TEST(test_password_database_and_refusals)
{
    struct inbox ia = {0};
    struct bus *a;
    char where[256], err[256], node[BUS_NODE_LEN + 1];
    int port = free_port();
    redisContext *c;
    redisReply *rep;

    /* Nobody there. */
    snprintf(where, sizeof(where), "unix://%s/none.sock", dir);
    ck_assert_ptr_null(bus_open(where, loop, on_message, &ia, err, sizeof(err)));
    ck_assert_msg(strstr(err, "cannot reach Redis") != NULL && strstr(err, "none.sock") != NULL, "%s", err);
    ck_assert_ptr_null(bus_open("redis://", loop, on_message, &ia, err, sizeof(err)));
    ck_assert_ptr_null(bus_open("redis://host:99999", loop, on_message, &ia, err, sizeof(err)));
    ck_assert_ptr_null(bus_open("unix://relative.sock", loop, on_message, &ia, err, sizeof(err)));

    snprintf(password, sizeof(password), "s3cret");
    redis_start(port);
    /* A wrong password, or none: refused with Redis's reason, no password in it. */
    snprintf(where, sizeof(where), "redis://:wrongpw@127.0.0.1:%d", port);
    ck_assert_ptr_null(bus_open(where, loop, on_message, &ia, err, sizeof(err)));
    ck_assert_msg(strstr(err, "AUTH") != NULL && strstr(err, "wrongpw") == NULL, "%s", err);
    snprintf(where, sizeof(where), "unix://%s", sock);
    ck_assert_ptr_null(bus_open(where, loop, on_message, &ia, err, sizeof(err)));
    ck_assert_msg(strstr(err, "NOAUTH") != NULL, "%s", err);

    /* The right one over TCP, in database 3. */
    snprintf(where, sizeof(where), "redis://:s3cret@127.0.0.1:%d/3", port);
    a = open_bus(where, &ia);
    ck_assert_int_eq(claim(a, "mallory", 0, node), 1);
    c = raw();
    rep = redisCommand(c, "SELECT 3");
    freeReplyObject(rep);
    rep = redisCommand(c, "EXISTS arcade:live:mallory arcade:node:%s", bus_node(a));
    ck_assert(rep != NULL && rep->type == REDIS_REPLY_INTEGER);
    ck_assert_int_eq(rep->integer, 2);
    freeReplyObject(rep);
    redisFree(c);
    ck_assert_int_eq(raw_int("EXISTS %s", "arcade:live:mallory"), 0);     /* database 0 */
    bus_close(a);

    /* And over the socket. */
    snprintf(where, sizeof(where), "unix://:s3cret@%s", sock);
    a = open_bus(where, &ia);
    ck_assert_int_eq(claim(a, "mallory", 0, node), 1);
    bus_close(a);
}
END_TEST

START_TEST(test_addresses_and_redaction)
{
    char out[256];

    ck_assert(bus_is_uri("redis://localhost"));
    ck_assert(bus_is_uri("unix:///run/redis.sock"));
    ck_assert(!bus_is_uri("postgresql://x"));
    ck_assert(!bus_is_uri("arcade.db"));

    ck_assert_str_eq(bus_redact("redis://:hunter2@cache:6380/2", out, sizeof(out)), "redis://:***@cache:6380/2");
    ck_assert_str_eq(bus_redact("redis://arcade:hunter2@cache", out, sizeof(out)), "redis://arcade:***@cache");
    ck_assert_str_eq(bus_redact("redis://hunter2@cache", out, sizeof(out)), "redis://***@cache");
    ck_assert_str_eq(bus_redact("unix://:hunter2@/run/redis.sock", out, sizeof(out)), "unix://:***@/run/redis.sock");
    ck_assert_str_eq(bus_redact("redis://cache:6380/2", out, sizeof(out)), "redis://cache:6380/2");
    ck_assert_str_eq(bus_redact("unix:///run/a@b.sock", out, sizeof(out)), "unix:///run/a@b.sock");
    ck_assert(strstr(bus_redact("redis://:hunter2@cache", out, 12), "hunter2") == NULL);

    /* The reason bus_open gives for a bad address has no password in it either. */
    char err[256];
    ck_assert_ptr_null(bus_open("redis://:hunter2@cache:0", loop, on_message, NULL, err, sizeof(err)));
    ck_assert_msg(strstr(err, "hunter2") == NULL && strstr(err, "port") != NULL, "%s", err);
}
END_TEST

static Suite *bus_suite(void)
{
    Suite *s = suite_create("bus");
    TCase *messages = tcase_create("messages");
    TCase *names = tcase_create("names");
    TCase *queue = tcase_create("queue");
    TCase *requests = tcase_create("requests");
    TCase *link = tcase_create("link");

    tcase_add_checked_fixture(messages, setup, teardown);
    tcase_add_checked_fixture(names, setup, teardown);
    tcase_add_checked_fixture(queue, setup, teardown);
    tcase_add_checked_fixture(requests, setup, teardown);
    tcase_add_checked_fixture(link, setup, teardown);
    tcase_add_test(messages, test_messages_both_ways);
    tcase_add_test(names, test_hello_claims_once);
    tcase_add_test(names, test_proven_claim_takes_and_names_the_holder);
    tcase_add_test(names, test_release_and_hand_over);
    tcase_add_test(names, test_gone_holder_holds_nothing);
    tcase_add_test(queue, test_queue_takes_the_oldest_alive);
    tcase_add_test(queue, test_queue_remove);
    tcase_add_test(requests, test_cancel_and_close);
    tcase_add_test(link, test_redis_lost_and_back);
    tcase_add_test(link, test_silent_redis_counts_as_lost);
    tcase_add_test(link, test_held_up_loop_keeps_the_link);
    tcase_add_test(link, test_redis_refusing_writes_counts_as_lost);
    tcase_add_test(link, test_password_database_and_refusals);
    tcase_add_test(link, test_addresses_and_redaction);
    tcase_set_timeout(link, 60);
    tcase_set_timeout(names, 30);
    tcase_set_timeout(requests, 30);
    suite_add_tcase(s, messages);
    suite_add_tcase(s, names);
    suite_add_tcase(s, queue);
    suite_add_tcase(s, requests);
    suite_add_tcase(s, link);
    return s;
}

int main(void)
{
    return suite_run(bus_suite());
}
