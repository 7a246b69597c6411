/* Answers that come later: short connections, HTTP, the group commit and account frames against a
 * database whose every request waits until the test answers it, as PostgreSQL's do. This suite is
 * its own PostgreSQL engine (pg.h): it links everything but db/pg.o, keeps the requests sent, with
 * what they asked, and answers each when told, with the result the test chooses. */
#include <check.h>
#include <ev.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "account.h"
#include "batch.h"
#include "board.h"
#include "conn.h"
#include "db.h"
#include "expect.h"
#include "game.h"
#include "http.h"
#include "log.h"
#include "match.h"
#include "pg.h"
#include "play.h"
#include "rps.h"
#include "session.h"
#include "short.h"
#include "store.h"
#include "suite.h"
#include "watch.h"
#include "web.h"

/* ---- the engine ---- */

#define SENT_MAX 8

struct pg {
    int open;
};

/* What a request asks. */
enum ask {
    ASK_READ,       /* the leaderboard, the health check */
    ASK_COMMIT,
    ASK_FIND,
    ASK_CREATE,
    ASK_CLAIM,
    ASK_SET_HASH,
};

/* A request waiting for its answer, and what it asked. */
struct sent {
    struct db_req *r;
    enum ask what;
    char name[RPS_NAME_MAX + 1];        /* find, create */
    int64_t id;                         /* claim, set_hash */
    int hashed;                         /* create, claim, set_hash: a hash was given */
    unsigned char hash[STORE_HASH_LEN];
    size_t nt, nr;                      /* commit: its totals and rounds */
    struct db_totals t0;                /* commit: its first totals */
};

static struct pg engine;
static struct sent sent[SENT_MAX];      /* waiting for their answers, oldest first */
static int nsent;
static int cancelled;

int pg_is_uri(const char *where)
{
    return strncmp(where, "postgresql://", 13) == 0;
}

const char *pg_redact(const char *uri, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", uri);
    return out;
}

struct pg *pg_open(const char *uri, struct ev_loop *loop, char *err, size_t errlen)
{
    (void)uri;
    (void)loop;
    (void)err;
    (void)errlen;
    engine.open = 1;
    return &engine;
}

void pg_close(struct pg *p)
{
    (void)p;
}

int pg_connected(const struct pg *p)
{
    return p->open;
}

/* Keep r until the test answers it; the caller notes what it asked. */
static struct sent *keep(struct db_req *r, enum ask what)
{
    ck_assert_int_lt(nsent, SENT_MAX);
    r->flight = r;
    sent[nsent] = (struct sent){ .r = r, .what = what };
    return &sent[nsent++];
}

static int pending(struct db_req *r)
{
    keep(r, ASK_READ);
    return DB_PENDING;
}

void pg_cancel(struct pg *p, struct db_req *r)
{
    (void)p;
    for (int i = 0; i < nsent; i++) {
        if (sent[i].r == r) {
            memmove(&sent[i], &sent[i + 1], (size_t)(nsent - i - 1) * sizeof(sent[0]));
            nsent--;
            r->flight = NULL;
            cancelled++;
            return;
        }
    }
}

int pg_commit(struct pg *p, struct db_req *r, const struct db_totals *t, size_t nt, const struct db_round *rs,
              size_t nr)
{
    (void)p, (void)rs;
    struct sent *s = keep(r, ASK_COMMIT);
    s->nt = nt;
    s->nr = nr;
    if (nt > 0) {
        s->t0 = t[0];
    }
    return DB_PENDING;
}

static void note_hash(struct sent *s, const unsigned char *hash)
{
    s->hashed = hash != NULL;
    if (hash != NULL) {
        memcpy(s->hash, hash, STORE_HASH_LEN);
    }
}

int pg_account_find(struct pg *p, struct db_req *r, const char *name)
{
    (void)p;
    snprintf(keep(r, ASK_FIND)->name, RPS_NAME_MAX + 1, "%s", name);
    return DB_PENDING;
}

int pg_account_create(struct pg *p, struct db_req *r, const char *name, const unsigned char *hash)
{
    (void)p;
    struct sent *s = keep(r, ASK_CREATE);
    snprintf(s->name, sizeof(s->name), "%s", name);
    note_hash(s, hash);
    return DB_PENDING;
}

int pg_account_claim(struct pg *p, struct db_req *r, int64_t id, const unsigned char *hash)
{
    (void)p;
    struct sent *s = keep(r, ASK_CLAIM);
    s->id = id;
    note_hash(s, hash);
    return DB_PENDING;
}

int pg_account_set_hash(struct pg *p, struct db_req *r, int64_t id, const unsigned char *hash)
{
    (void)p;
    struct sent *s = keep(r, ASK_SET_HASH);
    s->id = id;
    note_hash(s, hash);
    return DB_PENDING;
}

int pg_top(struct pg *p, struct db_req *r, int n)
{
    (void)p, (void)n;
    return pending(r);
}

int pg_rank(struct pg *p, struct db_req *r, const char *name, int k)
{
    (void)p, (void)name, (void)k;
    return pending(r);
}

int pg_row(struct pg *p, struct db_req *r, const char *name)
{
    (void)p, (void)name;
    return pending(r);
}

int pg_history(struct pg *p, struct db_req *r, int64_t player, int n)
{
    (void)p, (void)player, (void)n;
    return pending(r);
}

int pg_writable(struct pg *p, struct db_req *r)
{
    (void)p;
    return pending(r);
}

static uint64_t board_version = 1;

uint64_t pg_board_version(struct pg *p)
{
    (void)p;
    return board_version;
}

static void fill_row(struct board_row *row, int rank, const char *name)
{
    memset(row, 0, sizeof(*row));
    row->rank = rank;
    snprintf(row->name, sizeof(row->name), "%s", name);
    row->rating = 1500 - 10 * rank;
    row->wins = rank;
    row->rounds = rank;
}

/* The oldest request that asks what (fails the test when there is none). */
static int oldest(enum ask what)
{
    for (int i = 0; i < nsent; i++) {
        if (sent[i].what == what) {
            return i;
        }
    }
    ck_abort_msg("no request of kind %d is waiting (%d are)", (int)what, nsent);
    return -1;
}

/* Take sent[i] off the list: its answer is being written. */
static struct db_req *take(int i)
{
    ck_assert_int_lt(i, nsent);
    struct db_req *r = sent[i].r;
    memmove(&sent[i], &sent[i + 1], (size_t)(nsent - i - 1) * sizeof(sent[0]));
    nsent--;
    r->flight = NULL;
    return r;
}

/* Answer r with result: -1 is a lost connection, as PostgreSQL's engine says it. */
static void reply(struct db_req *r, int64_t result)
{
    r->result = result;
    r->fault = result < 0 ? DB_FAULT_DOWN : DB_FAULT_NONE;
    snprintf(r->err, sizeof(r->err), "%s", result < 0 ? "not connected" : "");
    r->done(r);
}

/* Answer the oldest request: result, with rows named names[0..result) when it has rows' room. */
static void answer(int64_t result, const char *const *names)
{
    ck_assert_int_gt(nsent, 0);
    struct db_req *r = take(0);
    for (int64_t i = 0; names != NULL && i < result; i++) {
        fill_row(&r->rows[i], (int)i + 1, names[i]);
    }
    r->id = 7;
    reply(r, result);
}

/* Answer the oldest commit: 0 stored, -1 not. */
static void answer_commit(int64_t result)
{
    reply(take(oldest(ASK_COMMIT)), result);
}

/* Answer the oldest request about accounts that asks what: result (find: 1 found, 0 not; create
 * and claim: 1 made, 0 not), with acct when not NULL. */
static void answer_account(enum ask what, int64_t result, const struct store_account *acct)
{
    struct db_req *r = take(oldest(what));
    if (acct != NULL) {
        r->acct = *acct;
    }
    reply(r, result);
}

/* An account as the database keeps it: registered when hash is not NULL. */
static struct store_account account(int64_t id, const char *name, const unsigned char *hash)
{
    struct store_account a = { .id = id, .registered = hash != NULL };
    snprintf(a.name, sizeof(a.name), "%s", name);
    if (hash != NULL) {
        memcpy(a.hash, hash, sizeof(a.hash));
    }
    return a;
}

/* ---- memory that runs out ---- */

/* The server's objects call realloc through this (the link wraps it): the next realloc_fails calls
 * fail. */
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);
static int realloc_fails;

void *__wrap_realloc(void *p, size_t n)
{
    if (realloc_fails > 0) {
        realloc_fails--;
        return NULL;
    }
    return __real_realloc(p, n);
}

/* ---- connections over socketpairs, and the loop a server would run ---- */

static struct ev_loop *loop;
static struct conn_pool pool;
static struct db *database;
static struct game game;
static struct web *web;
static struct http_site site;
static int peer;
static char got[8192];
static size_t ngot;
static int ended;

/* A second client, for the tests that need two. */
static struct {
    int fd;             /* -1: none */
    char got[1024];
    size_t n;
    int ended;
} other;

static size_t first_input(struct conn *c, const char *buf, size_t len, int more, int eof)
{
    (void)c, (void)buf, (void)more, (void)eof;
    return len;
}

static const struct conn_ops first_ops = { "new", first_input, NULL };

/* A connection of the pool from 127.0.0.1 over a socketpair; *fd is the client's end. */
static struct conn *open_conn(int *fd)
{
    int sv[2];
    struct sockaddr_storage from = { 0 };
    struct sockaddr_in *in = (struct sockaddr_in *)&from;

    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    struct conn *c = conn_new(&pool, sv[0], &from);
    ck_assert_ptr_nonnull(c);
    *fd = sv[1];
    return c;
}

static struct conn *setup_conn(void)
{
    char err[256];

    log_set_level(LOG_ALWAYS);      /* failed requests are on purpose: their log lines are noise */
    nsent = cancelled = 0;
    realloc_fails = 0;
    ngot = 0;
    ended = 0;
    memset(&other, 0, sizeof(other));
    other.fd = -1;
    loop = ev_loop_new(0);
    database = db_open("postgresql://test", 0, loop, err, sizeof(err));
    ck_assert_msg(database != NULL, "db_open: %s", err);
    ck_assert_ptr_null(db_sqlite(database));
    memset(&game, 0, sizeof(game));
    game.loop = loop;
    game.db = database;
    game.move_timeout = game.queue_timeout = game.long_idle = 30;
    rps_bot_seed(&game.bot, 42);
    ck_assert_int_eq(account_init(&game), 0);
    web = web_new(database, &game, &pool);
    ck_assert_ptr_nonnull(web);
    site = (struct http_site){ .game = &game, .web = web, .idle = 10 };
    conn_pool_init(&pool, loop, 0, 1 << 18, 1 << 26, &first_ops, 10);
    return open_conn(&peer);
}

/* The second client's connection. */
static struct conn *open_other(void)
{
    ck_assert_int_eq(other.fd, -1);
    return open_conn(&other.fd);
}

/* What a server's flush does: tell, commit (one in flight at a time), write, free; then the
 * sessions and matches nothing holds any more are freed. */
static void flush(void)
{
    for (;;) {
        conn_pool_tell_gone(&pool);
        int waiting = batch_in_flight(&game.batch);
        if ((!batch_pending(&game.batch) || waiting) && !conn_pool_dirty(&pool)) {
            break;
        }
        if (!waiting) {
            ck_assert_int_ne(batch_commit(&game.batch, database, ev_now(loop), 5), BATCH_WAITING);
        }
        conn_pool_flush(&pool);
    }
    session_reap(&game);
    match_reap(&game);
}

static void teardown_conn(void)
{
    for (struct conn *c = pool.all; c != NULL; c = c->next) {
        conn_close(c, "test over");
    }
    flush();
    ck_assert_uint_eq(pool.n, 0);
    ck_assert_int_eq(nsent, 0);     /* nothing left waiting: answered or cancelled */
    ck_assert(!batch_pending(&game.batch) && !batch_in_flight(&game.batch));
    session_free_all(&game);
    match_reap(&game);
    batch_free(&game.batch);
    account_free(&game);
    conn_pool_free(&pool);
    web_free(web);
    db_close(database);
    ev_loop_destroy(loop);
    close(peer);
    if (other.fd >= 0) {
        close(other.fd);
    }
}

/* Append what fd has been sent to buf (n bytes so far, cap in all, kept NUL-terminated); 1 once
 * the connection has ended. */
static int receive(int fd, char *buf, size_t *n, size_t cap)
{
    ssize_t k;
    while ((k = recv(fd, buf + *n, cap - 1 - *n, MSG_DONTWAIT)) > 0) {
        *n += (size_t)k;
    }
    buf[*n] = '\0';
    return k == 0;
}

/* Loop iterations with a server's flush; what the clients are sent is appended to got and
 * other.got. */
static void iterate(int times)
{
    for (int i = 0; i < times; i++) {
        ev_run(loop, EVRUN_NOWAIT);
        flush();
        ended |= receive(peer, got, &ngot, sizeof(got));
        if (other.fd >= 0) {
            other.ended |= receive(other.fd, other.got, &other.n, sizeof(other.got));
        }
    }
}

static void send_all(const char *s)
{
    ck_assert_int_eq(send(peer, s, strlen(s), 0), (ssize_t)strlen(s));
}

static int starts_with(const char *s, const char *prefix)
{
    return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- short connections ---- */

/* t2, then rbob, then a2, pipelined: each answered in order, the database's when it comes. */
START_TEST(test_short_answers_in_order)
{
    static const char *const two[] = { "ana", "bo" };
    char want[1024];
    struct board_row row;
    size_t n = 0;

    struct conn *c = setup_conn();
    short_attach(c, database, 10);
    send_all("t2\nrbob\na2\n");
    iterate(3);
    ck_assert_int_eq(nsent, 1);
    ck_assert_uint_eq(ngot, 0);

    answer(2, two);
    iterate(3);
    for (int i = 0; i < 2; i++) {
        fill_row(&row, i + 1, two[i]);
        n += board_format_row(&row, want + n, BOARD_ROW_MAX);
    }
    memcpy(want + n, ".\n", 3);
    ck_assert_msg(strcmp(got, want) == 0, "after the top: %s", show(got, ngot));
    ck_assert_int_eq(nsent, 1);         /* rbob asked, a2 not answered yet */

    answer(0, NULL);
    iterate(3);
    strcat(want, "eunknown player\nd4\n");
    ck_assert_msg(strcmp(got, want) == 0, "after the rank: %s", show(got, ngot));

    /* The client half-closes while a request waits: answered, then the connection ends. */
    send_all("t1\n");
    shutdown(peer, SHUT_WR);
    iterate(3);
    ck_assert(!ended);
    answer(-1, NULL);
    iterate(3);
    strcat(want, "egames unavailable\n");
    ck_assert_msg(strcmp(got, want) == 0, "after the failure: %s", show(got, ngot));
    ck_assert(ended);
    teardown_conn();
}
END_TEST

/* A connection closed while its request waits: the request is cancelled. */
START_TEST(test_short_close_cancels)
{
    struct conn *c = setup_conn();
    short_attach(c, database, 10);
    send_all("rana 3\nt\n");
    iterate(2);
    ck_assert_int_eq(nsent, 1);
    conn_close(c, "test");
    iterate(2);
    ck_assert_int_eq(nsent, 0);
    ck_assert_int_eq(cancelled, 1);
    teardown_conn();
}
END_TEST

/* ---- HTTP ---- */

#define GET(target) "GET " target " HTTP/1.1\r\nHost: x\r\n\r\n"

/* The body of the i-th response (0 first) in got, or NULL. */
static const char *body_of(int i)
{
    const char *p = got;
    for (int k = 0; p != NULL; k++) {
        p = strstr(p, "HTTP/1.1 ");
        if (p == NULL) {
            return NULL;
        }
        const char *body = strstr(p, "\r\n\r\n");
        if (k == i) {
            return body != NULL ? body + 4 : NULL;
        }
        p = body;
    }
    return NULL;
}

/* /api/top waits; /api/settings, pipelined after it, is answered after it. */
START_TEST(test_http_answers_in_order)
{
    static const char *const one[] = { "ana" };
    struct conn *c = setup_conn();
    http_attach(&site, c);
    send_all(GET("/api/top?n=1") GET("/api/settings"));
    iterate(3);
    ck_assert_uint_eq(ngot, 0);
    ck_assert_int_eq(nsent, 1);
    answer(1, one);
    iterate(3);
    ck_assert_msg(strncmp(got, "HTTP/1.1 200 ", 13) == 0, "%s", got);
    ck_assert_msg(starts_with(body_of(0), "{\"players\":[{\"rank\":1,\"name\":\"ana\","), "%s", got);
    ck_assert_msg(starts_with(body_of(1), "{\"move_timeout\":30"), "%s", got);
    teardown_conn();
}
END_TEST

/* A player: the row, then the history, two answers in sequence; then /healthz. */
START_TEST(test_http_player_and_health)
{
    static const char *const ana[] = { "ana" };
    struct conn *c = setup_conn();
    http_attach(&site, c);
    send_all(GET("/api/players/ana") GET("/healthz") GET("/healthz"));
    iterate(2);
    answer(1, ana);     /* the row */
    iterate(2);
    ck_assert_uint_eq(ngot, 0);
    ck_assert_int_eq(nsent, 1);     /* the history */
    answer(0, NULL);
    iterate(2);
    ck_assert_msg(body_of(0) != NULL && strstr(body_of(0), "\"name\":\"ana\"") != NULL &&
                  strstr(body_of(0), "\"history\":[]") != NULL, "%s", got);
    ck_assert_ptr_null(body_of(1));
    answer(0, NULL);
    iterate(2);
    ck_assert_msg(body_of(1) != NULL && strcmp(body_of(1), "ok\n") == 0, "%s", got);
    answer(-1, NULL);
    iterate(2);
    ck_assert_msg(strstr(got, "HTTP/1.1 503 ") != NULL && body_of(2) != NULL &&
                  strcmp(body_of(2), "not connected\n") == 0, "%s", got);
    teardown_conn();
}
END_TEST

/* HEAD and Connection: close are the waiting request's own. */
START_TEST(test_http_close_after_answer)
{
    struct conn *c = setup_conn();
    http_attach(&site, c);
    send_all("HEAD /api/top HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" GET("/api/settings"));
    iterate(2);
    answer(0, NULL);
    iterate(3);
    ck_assert_msg(strncmp(got, "HTTP/1.1 200 ", 13) == 0 && strstr(got, "Connection: close\r\n") != NULL, "%s", got);
    ck_assert_msg(body_of(0) != NULL && *body_of(0) == '\0', "HEAD has no body: %s", got);
    ck_assert(ended);
    teardown_conn();
}
END_TEST

/* A connection closed while its response waits: the request is cancelled. */
START_TEST(test_http_close_cancels)
{
    struct conn *c = setup_conn();
    http_attach(&site, c);
    send_all(GET("/api/rank/ana"));
    iterate(2);
    ck_assert_int_eq(nsent, 1);
    answer(0, NULL);    /* not ranked: the row is asked next */
    ck_assert_int_eq(nsent, 1);
    conn_close(c, "test");
    iterate(2);
    ck_assert_int_eq(nsent, 0);
    ck_assert_int_eq(cancelled, 1);
    teardown_conn();
}
END_TEST

/* ---- the live leaderboard ---- */

/* One read of the top at a time, pushed to the watchers when it comes; the next watcher is sent
 * it without another read; a read still on its way at the end is cancelled. */
START_TEST(test_watch_reads_once)
{
    static const char *const ana[] = { "ana" };
    struct watch w;
    struct conn *c = setup_conn();

    watch_init(&w, loop, database, 10);
    watch_attach(&w, c, 5);
    watch_tick(&w);
    watch_tick(&w);
    ck_assert_int_eq(nsent, 1);
    answer(1, ana);
    iterate(2);
    ck_assert_msg(starts_with(got, "{\"top\":[{\"rank\":1,\"name\":\"ana\","), "%s", got);

    int sv[2];
    struct sockaddr_storage from = { 0 };
    from.ss_family = AF_INET;
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    struct conn *second = conn_new(&pool, sv[0], &from);
    ck_assert_ptr_nonnull(second);
    watch_attach(&w, second, 5);
    watch_tick(&w);
    iterate(2);
    ck_assert_int_eq(nsent, 0);         /* the top as read, no second read */
    char doc[1024];
    ssize_t k = recv(sv[1], doc, sizeof(doc), MSG_DONTWAIT);
    ck_assert_msg(k == (ssize_t)ngot && memcmp(doc, got, ngot) == 0, "second watcher: %s", show(doc, k > 0 ? (size_t)k : 0));
    close(sv[1]);

    board_version++;
    watch_tick(&w);
    watch_tick(&w);
    ck_assert_int_eq(nsent, 1);
    watch_free(&w);
    ck_assert_int_eq(cancelled, 1);
    teardown_conn();
    board_version = 1;
}
END_TEST

/* ---- the group commit ---- */

/* docs/PROTOCOL.md: a result that could not be stored is replaced by `E` "games unavailable". */
#define UNAVAILABLE "E\x11" "games unavailable"

/* buf[0, n) is exactly the literal lit. */
#define EXPECT_BYTES(buf, n, lit)                                                                           \
    ck_assert_msg((n) == sizeof(lit) - 1 && memcmp((buf), (lit), sizeof(lit) - 1) == 0,                      \
                  "%s: got \"%s\", expected \"%s\"", #buf, show((buf), (n)), show((lit), sizeof(lit) - 1))

/* Bytes queued on c that are not a result (a notice). */
static void notice(struct conn *c, const char *bytes)
{
    ck_assert_int_eq(conn_write(c, bytes, strlen(bytes)), 0);
}

/* A result queued on c and held for the commit, as a session sends one. */
static void result(struct conn *c, const char *bytes)
{
    uint32_t off = c->out.len;
    notice(c, bytes);
    ck_assert_int_eq(batch_hold(&game.batch, c, off, (uint32_t)strlen(bytes)), 0);
}

/* A player-vs-player round, counted in *stored once stored and out of *pending once settled, as
 * a match counts its rounds. */
static void round_counted(unsigned *stored, unsigned *pending)
{
    struct batch_round r = { .player = { 1, 2 }, .move = { 2, 1 }, .outcome = 'W', .stored = stored,
                             .pending = pending };
    (*pending)++;
    ck_assert_int_eq(batch_round(&game.batch, &r), 0);
}

/* A result held while its commit is in flight is not written; results produced meanwhile, on the
 * same connection and on another, go in the next commit and are written after its answer, not the
 * first's; a connection's results come out in order. */
START_TEST(test_commit_in_flight_holds_later_results)
{
    unsigned stored = 0, pending = 0;
    struct conn *c = setup_conn();
    struct conn *d = open_other();

    result(c, "y");
    round_counted(&stored, &pending);
    iterate(2);
    ck_assert_int_eq(nsent, 1);
    ck_assert_int_eq(sent[0].what, ASK_COMMIT);
    ck_assert_uint_eq(sent[0].nr, 1);
    ck_assert_uint_eq(ngot, 0);

    result(c, "z");
    result(d, "x");
    round_counted(&stored, &pending);
    iterate(2);
    ck_assert_int_eq(nsent, 1);     /* one commit in flight at a time */
    ck_assert_uint_eq(ngot, 0);
    ck_assert_uint_eq(other.n, 0);

    answer_commit(0);
    iterate(2);
    EXPECT_BYTES(got, ngot, "y");
    EXPECT_BYTES(other.got, other.n, "");
    ck_assert_uint_eq(stored, 1);
    ck_assert_uint_eq(pending, 1);
    ck_assert_int_eq(nsent, 1);     /* the next commit, with what waited */
    ck_assert_int_eq(sent[0].what, ASK_COMMIT);
    ck_assert_uint_eq(sent[0].nr, 1);

    answer_commit(0);
    iterate(2);
    EXPECT_BYTES(got, ngot, "yz");
    EXPECT_BYTES(other.got, other.n, "x");
    ck_assert_uint_eq(stored, 2);
    ck_assert_uint_eq(pending, 0);
    teardown_conn();
}
END_TEST

/* A failed commit fails what waited behind it too: every held result of both, in order, becomes the
 * error frame, the bytes around them stay as they were, the rounds are counted out of their
 * matches unstored, and the players' bot rounds start again from nothing. The next commit works. */
START_TEST(test_failed_commit_fails_both_parts)
{
    unsigned stored = 0, pending = 0;
    struct batch_player p = { .id = 5, .slot = -1 };
    struct conn *c = setup_conn();
    struct conn *d = open_other();

    notice(c, "A\x03" "ana");
    result(c, "y");
    ck_assert_int_eq(batch_bot(&game.batch, &p, RPS_WIN), 0);
    round_counted(&stored, &pending);
    iterate(2);
    ck_assert_int_eq(nsent, 1);
    ck_assert_uint_eq(sent[0].nt, 1);
    ck_assert_int_eq(sent[0].t0.wins, 1);
    EXPECT_BYTES(got, ngot, "A\x03" "ana");     /* not a result: not held */

    notice(c, "B");
    result(c, "z");
    result(d, "x");
    notice(d, "W");
    ck_assert_int_eq(batch_bot(&game.batch, &p, RPS_LOSS), 0);
    round_counted(&stored, &pending);
    iterate(2);
    EXPECT_BYTES(got, ngot, "A\x03" "ana");
    EXPECT_BYTES(other.got, other.n, "");

    answer_commit(-1);
    iterate(2);
    EXPECT_BYTES(got, ngot, "A\x03" "ana" UNAVAILABLE "B" UNAVAILABLE);
    EXPECT_BYTES(other.got, other.n, UNAVAILABLE "W");
    ck_assert_int_eq(nsent, 0);     /* what waited failed with the flight: no commit for it */
    ck_assert_uint_eq(stored, 0);
    ck_assert_uint_eq(pending, 0);
    ck_assert_int_eq(p.slot, -1);

    result(c, "x");
    ck_assert_int_eq(batch_bot(&game.batch, &p, RPS_DRAW), 0);
    iterate(2);
    ck_assert_int_eq(nsent, 1);
    ck_assert_uint_eq(sent[0].nt, 1);
    ck_assert_uint_eq(sent[0].nr, 0);
    ck_assert_int_eq(sent[0].t0.player, 5);
    ck_assert_msg(sent[0].t0.wins == 0 && sent[0].t0.losses == 0 && sent[0].t0.draws == 1,
                  "totals %d %d %d", sent[0].t0.wins, sent[0].t0.losses, sent[0].t0.draws);
    answer_commit(0);
    iterate(2);
    EXPECT_BYTES(got, ngot, "A\x03" "ana" UNAVAILABLE "B" UNAVAILABLE "x");
    teardown_conn();
}
END_TEST

/* A failed commit when there is no memory to merge the two parts' results: each is still replaced
 * by the error frame, in order. (The flight holds as many results as its room, so merging needs
 * more.) */
START_TEST(test_failed_commit_out_of_memory)
{
    char want[8192];
    size_t n = 0;
    struct conn *c = setup_conn();
    struct conn *d = open_other();

    for (int i = 0; i < 64; i++) {
        result(c, "y");
        memcpy(want + n, UNAVAILABLE, sizeof(UNAVAILABLE) - 1);
        n += sizeof(UNAVAILABLE) - 1;
    }
    iterate(2);
    ck_assert_int_eq(nsent, 1);
    notice(c, "B");
    result(c, "z");
    result(d, "x");
    memcpy(want + n, "B" UNAVAILABLE, sizeof(UNAVAILABLE));
    n += sizeof(UNAVAILABLE);

    realloc_fails = 1;
    answer_commit(-1);
    ck_assert_int_eq(realloc_fails, 0);     /* the merge asked for memory, and had none */
    iterate(2);
    ck_assert_msg(ngot == n && memcmp(got, want, n) == 0, "got \"%s\"", show(got, ngot));
    EXPECT_BYTES(other.got, other.n, UNAVAILABLE);
    teardown_conn();
}
END_TEST

/* A guest's moves against the bot over a long connection: each result byte waits for its commit,
 * and becomes the error frame when that commit fails. */
START_TEST(test_moves_wait_for_their_commits)
{
    struct conn *c = setup_conn();
    play_attach(&game, c);
    send_all("2");
    iterate(3);
    ck_assert_int_eq(nsent, 1);
    ck_assert_int_eq(sent[0].what, ASK_COMMIT);
    ck_assert_uint_eq(sent[0].nt, 1);
    ck_assert_int_eq(sent[0].t0.player, 0);     /* a guest */
    send_all("3");
    iterate(3);
    ck_assert_uint_eq(ngot, 0);

    answer_commit(0);
    iterate(3);
    ck_assert_msg(ngot == 1 && strchr("xyz", got[0]) != NULL, "%s", show(got, ngot));
    answer_commit(-1);
    iterate(3);
    ck_assert_msg(ngot == sizeof(UNAVAILABLE) && memcmp(got + 1, UNAVAILABLE, sizeof(UNAVAILABLE) - 1) == 0,
                  "%s", show(got, ngot));
    teardown_conn();
}
END_TEST

/* ---- account frames ---- */

#define SECRET_HEX 64

static void send_other(const char *s)
{
    ck_assert_int_eq(send(other.fd, s, strlen(s), 0), (ssize_t)strlen(s));
}

/* `I <len> <name> <len> <secret>`, from the second client. */
static void login_other(const char *name, const char *secret)
{
    char f[4 + 2 * 255];
    snprintf(f, sizeof(f), "I%c%s%c%s", (char)strlen(name), name, (char)strlen(secret), secret);
    send_other(f);
}

/* Does buf[0, n) match pattern, in which '?' stands for any byte (the bot's move, its result)? */
static int like(const char *buf, size_t n, const char *pattern)
{
    if (n != strlen(pattern)) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (pattern[i] != '?' && pattern[i] != buf[i]) {
            return 0;
        }
    }
    return 1;
}

/* Answer the commits that come, until none does. */
static void store_results(void)
{
    for (int i = 0; i < 4 && nsent > 0; i++) {
        answer_commit(0);
        iterate(3);
    }
    ck_assert_int_eq(nsent, 0);
}

/* A hello waits for its look-up: a move and a frame sent right after it, and a move that arrives
 * later, are not acted on before its answer, and are answered after it, in order. */
START_TEST(test_hello_answered_before_what_follows)
{
    struct store_account ana = account(9, "ana", NULL);
    struct conn *c = setup_conn();

    play_attach(&game, c);
    send_all("H\x03" "ana" "2" "H\x02" "bo");
    iterate(3);
    ck_assert_int_eq(nsent, 1);
    ck_assert_int_eq(sent[0].what, ASK_FIND);   /* no commit: the move was not played */
    ck_assert_str_eq(sent[0].name, "ana");
    send_all("1");
    iterate(3);
    ck_assert_int_eq(nsent, 1);
    ck_assert_uint_eq(ngot, 0);

    answer_account(ASK_FIND, 1, &ana);
    iterate(3);
    EXPECT_BYTES(got, ngot, "A\x03" "ana");     /* the moves' results wait for their commits */
    store_results();
    ck_assert_msg(like(got, ngot, "A\x03" "ana" "M??" "N\x0d" "already named" "M??"), "%s", show(got, ngot));
    teardown_conn();
}
END_TEST

/* A client that half-closes right after its hello is answered before the connection ends. */
START_TEST(test_hello_then_half_close)
{
    struct store_account ana = account(9, "ana", NULL);
    struct conn *c = setup_conn();

    play_attach(&game, c);
    send_all("H\x03" "ana");
    ck_assert_int_eq(shutdown(peer, SHUT_WR), 0);
    iterate(3);
    ck_assert_int_eq(nsent, 1);
    ck_assert(!ended);
    answer_account(ASK_FIND, 1, &ana);
    iterate(3);
    EXPECT_BYTES(got, ngot, "A\x03" "ana");
    ck_assert(ended);
    teardown_conn();
}
END_TEST

/* A connection closed while its hello waits: the look-up is cancelled, nothing is written. */
START_TEST(test_close_cancels_hello)
{
    struct conn *c = setup_conn();

    play_attach(&game, c);
    send_all("H\x03" "ana" "2");
    iterate(3);
    ck_assert_int_eq(nsent, 1);
    conn_close(c, "test");
    iterate(3);
    ck_assert_int_eq(nsent, 0);
    ck_assert_int_eq(cancelled, 1);
    ck_assert_uint_eq(ngot, 0);
    ck_assert(ended);
    teardown_conn();
}
END_TEST

/* A hello for a new name: looked up (none), then made unclaimed. */
START_TEST(test_hello_new_name)
{
    struct store_account ana = account(9, "ana", NULL);
    struct conn *c = setup_conn();

    play_attach(&game, c);
    send_all("H\x03" "ana");
    iterate(3);
    answer_account(ASK_FIND, 0, NULL);
    ck_assert_int_eq(nsent, 1);
    ck_assert_int_eq(sent[0].what, ASK_CREATE);
    ck_assert_str_eq(sent[0].name, "ana");
    ck_assert(!sent[0].hashed);
    iterate(3);
    ck_assert_uint_eq(ngot, 0);
    answer_account(ASK_CREATE, 1, &ana);
    iterate(3);
    EXPECT_BYTES(got, ngot, "A\x03" "ana");
    teardown_conn();
}
END_TEST

/* A name somebody made between the look-up and the create is looked up again, once: found, it is
 * accepted; made away again, the hello is refused. */
START_TEST(test_hello_name_made_meanwhile)
{
    struct store_account ana = account(9, "ana", NULL);
    struct conn *c = setup_conn();

    play_attach(&game, c);
    send_all("H\x03" "ana");
    iterate(3);
    answer_account(ASK_FIND, 0, NULL);
    answer_account(ASK_CREATE, 0, NULL);
    ck_assert_int_eq(nsent, 1);
    ck_assert_int_eq(sent[0].what, ASK_FIND);
    answer_account(ASK_FIND, 1, &ana);
    iterate(3);
    EXPECT_BYTES(got, ngot, "A\x03" "ana");

    play_attach(&game, open_other());
    send_other("H\x02" "bo");
    iterate(3);
    answer_account(ASK_FIND, 0, NULL);
    answer_account(ASK_CREATE, 0, NULL);
    answer_account(ASK_FIND, 0, NULL);
    answer_account(ASK_CREATE, 0, NULL);
    ck_assert_int_eq(nsent, 0);     /* no third look-up */
    iterate(3);
    EXPECT_BYTES(other.got, other.n, "N\x11" "games unavailable");
    teardown_conn();
}
END_TEST

/* Register ana on the first client: looked up (none), made with the hash of a new secret; answered
 * K with the secret, then A. The secret and the hash given to the database are returned. */
static void register_ana(char secret[SECRET_HEX + 1], unsigned char hash[STORE_HASH_LEN])
{
    send_all("R\x03" "ana");
    iterate(3);
    answer_account(ASK_FIND, 0, NULL);
    ck_assert_int_eq(nsent, 1);
    ck_assert_int_eq(sent[0].what, ASK_CREATE);
    ck_assert_str_eq(sent[0].name, "ana");
    ck_assert(sent[0].hashed);
    memcpy(hash, sent[0].hash, STORE_HASH_LEN);
    struct store_account ana = account(9, "ana", hash);
    answer_account(ASK_CREATE, 1, &ana);
    iterate(3);
    ck_assert_msg(ngot == 2 + SECRET_HEX + 5 && got[0] == 'K' && got[1] == SECRET_HEX &&
                  memcmp(got + 2 + SECRET_HEX, "A\x03" "ana", 5) == 0, "%s", show(got, ngot));
    memcpy(secret, got + 2, SECRET_HEX);
    secret[SECRET_HEX] = '\0';
}

/* The hash stored is BLAKE2b-256 of the secret's 32 bytes; a login with another secret is refused,
 * with this one accepted, and the registering connection is told it was taken over. */
START_TEST(test_register_then_login)
{
    char secret[SECRET_HEX + 1], wrong[SECRET_HEX + 1];
    unsigned char hash[STORE_HASH_LEN], bytes[SECRET_HEX / 2], want[STORE_HASH_LEN];
    size_t n = 0;
    struct conn *c = setup_conn();

    play_attach(&game, c);
    register_ana(secret, hash);
    ck_assert_int_eq(sodium_hex2bin(bytes, sizeof(bytes), secret, SECRET_HEX, NULL, &n, NULL), 0);
    ck_assert_uint_eq(n, sizeof(bytes));
    crypto_generichash(want, sizeof(want), bytes, sizeof(bytes), NULL, 0);
    ck_assert(memcmp(want, hash, sizeof(want)) == 0);

    struct store_account ana = account(9, "ana", hash);
    play_attach(&game, open_other());
    memset(wrong, '0', SECRET_HEX);
    wrong[SECRET_HEX] = '\0';
    login_other("ana", wrong);
    iterate(3);
    ck_assert_int_eq(nsent, 1);
    ck_assert_str_eq(sent[0].name, "ana");
    answer_account(ASK_FIND, 1, &ana);
    iterate(3);
    EXPECT_BYTES(other.got, other.n, "N\x0c" "wrong secret");

    login_other("ana", secret);
    iterate(3);
    answer_account(ASK_FIND, 1, &ana);
    iterate(3);
    EXPECT_BYTES(other.got, other.n, "N\x0c" "wrong secret" "A\x03" "ana");
    size_t before = 2 + SECRET_HEX + 5;
    EXPECT_BYTES(got + before, ngot - before, "E\x1b" "taken over by another login");
    ck_assert(ended);
    teardown_conn();
}
END_TEST

/* Registering an unclaimed name claims its row; a row claimed by somebody else meanwhile is refused
 * as taken. */
START_TEST(test_register_claims_unclaimed_name)
{
    struct store_account ana = account(9, "ana", NULL), bo = account(10, "bo", NULL);
    struct conn *c = setup_conn();

    play_attach(&game, c);
    send_all("R\x03" "ana");
    iterate(3);
    answer_account(ASK_FIND, 1, &ana);
    ck_assert_int_eq(nsent, 1);
    ck_assert_int_eq(sent[0].what, ASK_CLAIM);
    ck_assert_int_eq(sent[0].id, 9);
    ck_assert(sent[0].hashed);
    answer_account(ASK_CLAIM, 1, NULL);
    iterate(3);
    ck_assert_msg(ngot == 2 + SECRET_HEX + 5 && got[0] == 'K' && memcmp(got + 2 + SECRET_HEX, "A\x03" "ana", 5) == 0,
                  "%s", show(got, ngot));

    play_attach(&game, open_other());
    send_other("R\x02" "bo");
    iterate(3);
    answer_account(ASK_FIND, 1, &bo);
    answer_account(ASK_CLAIM, 0, NULL);
    iterate(3);
    EXPECT_BYTES(other.got, other.n, "N\x0a" "name taken");
    teardown_conn();
}
END_TEST

/* A login takes the name over from a connection whose new secret is still being stored: that
 * request is cancelled, and the old connection is told it was taken over, never sent a secret. */
START_TEST(test_take_over_cancels_pending_call)
{
    char secret[SECRET_HEX + 1];
    unsigned char hash[STORE_HASH_LEN];
    struct conn *c = setup_conn();

    play_attach(&game, c);
    register_ana(secret, hash);
    size_t before = ngot;
    send_all("X");
    iterate(3);
    ck_assert_int_eq(nsent, 1);
    ck_assert_int_eq(sent[0].what, ASK_SET_HASH);
    ck_assert_int_eq(sent[0].id, 9);

    struct store_account ana = account(9, "ana", hash);
    play_attach(&game, open_other());
    login_other("ana", secret);
    iterate(3);
    ck_assert_int_eq(nsent, 2);
    answer_account(ASK_FIND, 1, &ana);
    ck_assert_int_eq(nsent, 0);
    ck_assert_int_eq(cancelled, 1);
    iterate(3);
    EXPECT_BYTES(other.got, other.n, "A\x03" "ana");
    EXPECT_BYTES(got + before, ngot - before, "E\x1b" "taken over by another login");
    ck_assert(ended);
    teardown_conn();
}
END_TEST

static Suite *pending_suite(void)
{
    Suite *s = suite_create("pending");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_short_answers_in_order);
    tcase_add_test(tc, test_short_close_cancels);
    tcase_add_test(tc, test_http_answers_in_order);
    tcase_add_test(tc, test_http_player_and_health);
    tcase_add_test(tc, test_http_close_after_answer);
    tcase_add_test(tc, test_http_close_cancels);
    tcase_add_test(tc, test_watch_reads_once);
    tcase_add_test(tc, test_commit_in_flight_holds_later_results);
    tcase_add_test(tc, test_failed_commit_fails_both_parts);
    tcase_add_test(tc, test_failed_commit_out_of_memory);
    tcase_add_test(tc, test_moves_wait_for_their_commits);
    tcase_add_test(tc, test_hello_answered_before_what_follows);
    tcase_add_test(tc, test_hello_then_half_close);
    tcase_add_test(tc, test_close_cancels_hello);
    tcase_add_test(tc, test_hello_new_name);
    tcase_add_test(tc, test_hello_name_made_meanwhile);
    tcase_add_test(tc, test_register_then_login);
    tcase_add_test(tc, test_register_claims_unclaimed_name);
    tcase_add_test(tc, test_take_over_cancels_pending_call);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return suite_run(pending_suite());
}
