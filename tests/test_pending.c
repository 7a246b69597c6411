/* Answers that come later: short connections and HTTP against a database whose every read waits
 * until the test answers it, as PostgreSQL's do. This suite is its own PostgreSQL engine (pg.h): it
 * links everything but db/pg.o, keeps the requests sent, and answers them when told, in order. */
#include <check.h>
#include <ev.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "board.h"
#include "conn.h"
#include "db.h"
#include "expect.h"
#include "game.h"
#include "http.h"
#include "pg.h"
#include "short.h"
#include "suite.h"
#include "watch.h"
#include "web.h"

/* ---- the engine ---- */

#define SENT_MAX 8

struct pg {
    int open;
};

static struct pg engine;
static struct db_req *sent[SENT_MAX];   /* waiting for their answers, oldest first */
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

static int pending(struct db_req *r)
{
    ck_assert_int_lt(nsent, SENT_MAX);
    r->flight = r;
    sent[nsent++] = r;
    return DB_PENDING;
}

void pg_cancel(struct pg *p, struct db_req *r)
{
    (void)p;
    for (int i = 0; i < nsent; i++) {
        if (sent[i] == r) {
            memmove(&sent[i], &sent[i + 1], (size_t)(nsent - i - 1) * sizeof(sent[0]));
            nsent--;
            r->flight = NULL;
            cancelled++;
            return;
        }
    }
}

/* What this suite never asks. */
static int refused(struct db_req *r)
{
    r->result = -1;
    r->fault = DB_FAULT_OTHER;
    snprintf(r->err, sizeof(r->err), "not in this suite");
    return DB_DONE;
}

int pg_commit(struct pg *p, struct db_req *r, const struct db_totals *t, size_t nt, const struct db_round *rs,
              size_t nr)
{
    (void)p, (void)t, (void)nt, (void)rs, (void)nr;
    return refused(r);
}

int pg_account_find(struct pg *p, struct db_req *r, const char *name)
{
    (void)p, (void)name;
    return refused(r);
}

int pg_account_create(struct pg *p, struct db_req *r, const char *name, const unsigned char *hash)
{
    (void)p, (void)name, (void)hash;
    return refused(r);
}

int pg_account_claim(struct pg *p, struct db_req *r, int64_t id, const unsigned char *hash)
{
    (void)p, (void)id, (void)hash;
    return refused(r);
}

int pg_account_set_hash(struct pg *p, struct db_req *r, int64_t id, const unsigned char *hash)
{
    (void)p, (void)id, (void)hash;
    return refused(r);
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

/* Answer the oldest request: result, with rows named names[0..result) when it has rows' room. */
static void answer(int64_t result, const char *const *names)
{
    ck_assert_int_gt(nsent, 0);
    struct db_req *r = sent[0];
    memmove(&sent[0], &sent[1], (size_t)(nsent - 1) * sizeof(sent[0]));
    nsent--;
    r->flight = NULL;
    r->result = result;
    r->fault = result < 0 ? DB_FAULT_DOWN : DB_FAULT_NONE;
    snprintf(r->err, sizeof(r->err), "%s", result < 0 ? "not connected" : "");
    for (int64_t i = 0; names != NULL && i < result; i++) {
        fill_row(&r->rows[i], (int)i + 1, names[i]);
    }
    r->id = 7;
    r->done(r);
}

/* ---- a connection over a socketpair, and the loop a server would run ---- */

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

static size_t first_input(struct conn *c, const char *buf, size_t len, int more, int eof)
{
    (void)c, (void)buf, (void)more, (void)eof;
    return len;
}

static const struct conn_ops first_ops = { "new", first_input, NULL };

static struct conn *setup_conn(void)
{
    char err[256];
    int sv[2];
    struct sockaddr_storage from = { 0 };
    struct sockaddr_in *in = (struct sockaddr_in *)&from;

    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    nsent = cancelled = 0;
    ngot = 0;
    ended = 0;
    loop = ev_loop_new(0);
    database = db_open("postgresql://test", 0, loop, err, sizeof(err));
    ck_assert_msg(database != NULL, "db_open: %s", err);
    ck_assert_ptr_null(db_sqlite(database));
    memset(&game, 0, sizeof(game));
    game.loop = loop;
    game.move_timeout = game.queue_timeout = game.long_idle = 30;
    web = web_new(database, &game, &pool);
    ck_assert_ptr_nonnull(web);
    site = (struct http_site){ .game = &game, .web = web, .idle = 10 };
    conn_pool_init(&pool, loop, 0, 1 << 18, 1 << 26, &first_ops, 10);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    struct conn *c = conn_new(&pool, sv[0], &from);
    ck_assert_ptr_nonnull(c);
    peer = sv[1];
    return c;
}

static void teardown_conn(void)
{
    for (struct conn *c = pool.all; c != NULL; c = c->next) {
        conn_close(c, "test over");
    }
    conn_pool_tell_gone(&pool);
    conn_pool_flush(&pool);
    ck_assert_uint_eq(pool.n, 0);
    ck_assert_int_eq(nsent, 0);     /* nothing left waiting: answered or cancelled */
    conn_pool_free(&pool);
    web_free(web);
    db_close(database);
    ev_loop_destroy(loop);
    close(peer);
}

/* Loop iterations with a server's flush; what the peer is sent is appended to got. */
static void iterate(int times)
{
    for (int i = 0; i < times; i++) {
        ev_run(loop, EVRUN_NOWAIT);
        conn_pool_tell_gone(&pool);
        conn_pool_flush(&pool);
        ssize_t k;
        while ((k = recv(peer, got + ngot, sizeof(got) - 1 - ngot, MSG_DONTWAIT)) > 0) {
            ngot += (size_t)k;
        }
        ended |= k == 0;
        got[ngot] = '\0';
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
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return suite_run(pending_suite());
}
