/* The PostgreSQL engine (db/pg.c) against a real server: each test gets a database of its own
 * (tests/pgtest.h), drives the engine on a libev loop of its own, and reads and arranges the
 * database through a libpq connection of its own, never through the engine it checks. Ratings are
 * compared, to the bit, with what games/elo.c computes; the leaderboard with a sort done here.
 *
 * Without ARCADE_TEST_PG the suite says it is skipped, and passes. */
#include <check.h>
#include <ev.h>
#include <postgresql/libpq-fe.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "elo.h"
#include "log.h"
#include "pg.h"
#include "pgtest.h"
#include "suite.h"

#define WAIT_SECS 20.0      /* longest wait for an answer or a reconnect */
#define DBS_MAX 64          /* databases a run may leave behind, to drop at its end */

/* The databases the tests made and have not dropped yet, in memory every test's process shares,
 * so that main drops what a failed test left. */
static char (*dbs)[256];

static char uri[256];
static char err[DB_ERR_MAX];
static struct ev_loop *loop;
static int answered;        /* answers so far, in the order they came */

/* A request and what the test saw of it. */
struct call {
    struct db_req r;
    int done;               /* times done was called */
    int order;              /* answered as the order-th */
    struct board_row rows[2 * STORE_AROUND_MAX + 1];
    struct store_rating points[STORE_HISTORY_MAX];
};

static void on_done(struct db_req *r)
{
    struct call *c = r->data;

    c->done++;
    c->order = ++answered;
}

static void call_init(struct call *c)
{
    memset(c, 0, sizeof(*c));
    c->r.done = on_done;
    c->r.data = c;
    c->r.rows = c->rows;
    c->r.points = c->points;
}

static void timed_out(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)l;
    (void)revents;
    *(int *)w->data = 1;
}

/* Run the loop until *flag is set, WAIT_SECS at most; returns the flag. */
static int run_until(const int *flag)
{
    int late = 0;
    ev_timer guard;

    ev_timer_init(&guard, timed_out, WAIT_SECS, 0.);
    guard.data = &late;
    ev_timer_start(loop, &guard);
    while (!*flag && !late) {
        ev_run(loop, EVRUN_ONCE);
    }
    ev_timer_stop(loop, &guard);
    return *flag;
}

/* The answer of a call that was just made: at once, or once done has been called. */
static int64_t answer(struct call *c, int state)
{
    if (state == DB_PENDING) {
        ck_assert_msg(run_until(&c->done), "no answer in %.0f s", WAIT_SECS);
        ck_assert_int_eq(c->done, 1);
    } else {
        ck_assert_int_eq(state, DB_DONE);
        ck_assert_int_eq(c->done, 0);
    }
    return c->r.result;
}

/* The test's own connection to its database. */
static PGconn *raw_open(void)
{
    PGconn *conn = PQconnectdb(uri);

    ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "raw connection: %s", PQerrorMessage(conn));
    return conn;
}

static void raw_exec(const char *sql)
{
    PGconn *conn = raw_open();
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);

    ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(conn);
}

/* First column of the first row of sql, as text into out. */
static void raw_text(const char *sql, char *out, size_t cap)
{
    PGconn *conn = raw_open();
    PGresult *res = PQexec(conn, sql);

    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(res));
    ck_assert_msg(PQntuples(res) > 0, "%s: no row", sql);
    snprintf(out, cap, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(conn);
}

static int64_t raw_int(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int64_t raw_int(const char *fmt, ...)
{
    char sql[1024], text[64];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    raw_text(sql, text, sizeof(text));
    return strtoll(text, NULL, 10);
}

static double raw_double(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static double raw_double(const char *fmt, ...)
{
    char sql[1024], text[64];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    raw_text(sql, text, sizeof(text));
    return strtod(text, NULL);
}

static void raw_execf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void raw_execf(const char *fmt, ...)
{
    char sql[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    raw_exec(sql);
}

/* sql on the maintenance database (a database cannot refuse its own connections). */
static void maintenance_execf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void maintenance_execf(const char *fmt, ...)
{
    char sql[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    PGconn *conn = PQconnectdb(pgtest_uri());
    PGresult *res = PQexec(conn, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(conn);
}

static void note_db(const char *u, int add)
{
    for (int i = 0; dbs != NULL && i < DBS_MAX; i++) {
        if (add ? dbs[i][0] == '\0' : strcmp(dbs[i], u) == 0) {
            snprintf(dbs[i], sizeof(dbs[i]), "%s", add ? u : "");
            return;
        }
    }
}

static void setup(void)
{
    ck_assert_int_eq(pgtest_create(uri, sizeof(uri)), 0);
    note_db(uri, 1);
    loop = ev_loop_new(EVFLAG_AUTO);
    answered = 0;
    err[0] = '\0';
    log_set_level(LOG_ERROR);
}

static void teardown(void)
{
    ev_loop_destroy(loop);
    /* A database that would not go now is tried again at the end of the run. */
    if (pgtest_drop(uri) == 0) {
        note_db(uri, 0);
    }
}

static struct pg *open_pg(void)
{
    struct pg *p = pg_open(uri, loop, err, sizeof(err));

    ck_assert_msg(p != NULL, "pg_open: %s", err);
    ck_assert(pg_connected(p));
    return p;
}

/* Create an unclaimed player; returns its id. */
static int64_t player(struct pg *p, const char *name)
{
    struct call c;

    call_init(&c);
    ck_assert_msg(answer(&c, pg_account_create(p, &c.r, name, NULL)) == 1, "create %s: %s", name, c.r.err);
    return c.r.acct.id;
}

static int64_t commit(struct pg *p, const struct db_totals *t, size_t nt, const struct db_round *rs,
                      size_t nr, struct call *c)
{
    call_init(c);
    return answer(c, pg_commit(p, &c->r, t, nt, rs, nr));
}

static void commit_ok(struct pg *p, const struct db_totals *t, size_t nt, const struct db_round *rs,
                      size_t nr)
{
    struct call c;

    ck_assert_msg(commit(p, t, nt, rs, nr, &c) == 0, "commit: %s", c.r.err);
}

/* Schema. */

START_TEST(test_migrations_then_reopen)
{
    struct pg *p = open_pg();
    struct call c;
    int64_t ana = player(p, "ana");

    ck_assert_int_eq(raw_int("SELECT version FROM arcade_schema"), 1);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM pg_proc WHERE proname = 'arcade_commit'"), 1);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players WHERE name IS NULL"), 1);
    pg_close(p);

    p = open_pg();
    ck_assert_int_eq(raw_int("SELECT count(*) FROM arcade_schema"), 1);
    ck_assert_int_eq(raw_int("SELECT version FROM arcade_schema"), 1);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_find(p, &c.r, "ANA")), 1);
    ck_assert_int_eq(c.r.acct.id, ana);
    /* One guests' row per process that opened. */
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players WHERE name IS NULL"), 2);
    pg_close(p);
}
END_TEST

/* Processes opening a new database at once: one migrates, the others wait and find it done. */
START_TEST(test_concurrent_opens_migrate_once)
{
    enum { N = 4 };
    pid_t kids[N];

    for (int i = 0; i < N; i++) {
        kids[i] = fork();
        ck_assert(kids[i] >= 0);
        if (kids[i] == 0) {
            struct ev_loop *l = ev_loop_new(EVFLAG_AUTO);
            struct pg *p = pg_open(uri, l, err, sizeof(err));
            if (p == NULL) {
                fprintf(stderr, "child: %s\n", err);
            }
            pg_close(p);
            ev_loop_destroy(l);
            _exit(p != NULL ? 0 : 1);
        }
    }
    for (int i = 0; i < N; i++) {
        int status = 0;
        ck_assert_int_eq(waitpid(kids[i], &status, 0), kids[i]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "open %d failed", i);
    }
    ck_assert_int_eq(raw_int("SELECT version FROM arcade_schema"), 1);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM arcade_schema"), 1);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players WHERE name IS NULL"), N);
}
END_TEST

START_TEST(test_newer_version_refused)
{
    pg_close(open_pg());
    raw_exec("UPDATE arcade_schema SET version = 2");
    ck_assert(pg_open(uri, loop, err, sizeof(err)) == NULL);
    ck_assert_msg(strstr(err, "newer") != NULL, "err: %s", err);
    ck_assert_int_eq(raw_int("SELECT version FROM arcade_schema"), 2);
}
END_TEST

/* Accounts. */

static void hash_of(unsigned char *h, int seed)
{
    for (int i = 0; i < STORE_HASH_LEN; i++) {
        h[i] = (unsigned char)(seed * 31 + i * 7);
    }
}

START_TEST(test_accounts)
{
    struct pg *p = open_pg();
    unsigned char h1[STORE_HASH_LEN], h2[STORE_HASH_LEN], h3[STORE_HASH_LEN];
    struct call c;

    hash_of(h1, 1);
    hash_of(h2, 2);
    hash_of(h3, 3);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_create(p, &c.r, "Ana-1", h1)), 1);
    int64_t ana = c.r.acct.id;
    ck_assert(ana > 0);
    ck_assert_str_eq(c.r.acct.name, "Ana-1");
    ck_assert_int_eq(c.r.acct.registered, 1);
    ck_assert_mem_eq(c.r.acct.hash, h1, STORE_HASH_LEN);

    /* The same name in another case is taken. */
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_create(p, &c.r, "aNA-1", h2)), 0);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players WHERE name IS NOT NULL"), 1);

    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_create(p, &c.r, "bo_", NULL)), 1);
    int64_t bo = c.r.acct.id;
    ck_assert_int_eq(c.r.acct.registered, 0);

    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_find(p, &c.r, "ANA-1")), 1);
    ck_assert_int_eq(c.r.acct.id, ana);
    ck_assert_str_eq(c.r.acct.name, "Ana-1");
    ck_assert_int_eq(c.r.acct.registered, 1);
    ck_assert_mem_eq(c.r.acct.hash, h1, STORE_HASH_LEN);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_find(p, &c.r, "nobody")), 0);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_find(p, &c.r, "BO_")), 1);
    ck_assert_int_eq(c.r.acct.registered, 0);

    /* Claims: once only, named players only. */
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_claim(p, &c.r, bo, h2)), 1);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_claim(p, &c.r, bo, h3)), 0);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_find(p, &c.r, "bo_")), 1);
    ck_assert_mem_eq(c.r.acct.hash, h2, STORE_HASH_LEN);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_claim(p, &c.r, 999999, h3)), -1);
    ck_assert_int_eq(c.r.fault, DB_FAULT_OTHER);
    ck_assert_msg(strstr(c.r.err, "no named player") != NULL, "err: %s", c.r.err);
    int64_t guest = raw_int("SELECT id FROM players WHERE name IS NULL");
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_claim(p, &c.r, guest, h3)), -1);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_claim(p, &c.r, bo, NULL)), -1);

    /* A new secret, then none. */
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_set_hash(p, &c.r, bo, h3)), 0);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_find(p, &c.r, "bo_")), 1);
    ck_assert_mem_eq(c.r.acct.hash, h3, STORE_HASH_LEN);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_set_hash(p, &c.r, bo, NULL)), 0);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_find(p, &c.r, "bo_")), 1);
    ck_assert_int_eq(c.r.acct.registered, 0);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_set_hash(p, &c.r, 999999, h1)), -1);
    ck_assert_msg(strstr(c.r.err, "no named player") != NULL, "err: %s", c.r.err);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_set_hash(p, &c.r, guest, h1)), -1);

    /* Names no player can have: refused before the database. */
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_create(p, &c.r, "", NULL)), -1);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_account_find(p, &c.r, "abcdefghijklmnopqrstuvwxyz0123456")), -1);
    pg_close(p);
}
END_TEST

/* Commits: totals. */

START_TEST(test_commit_totals_and_guests)
{
    struct pg *p = open_pg();
    int64_t ana = player(p, "ana"), bo = player(p, "bo");
    int64_t guest = raw_int("SELECT id FROM players WHERE name IS NULL");
    struct db_totals t[] = {
        {ana, 3, 1, 2}, {0, 1, 2, 3}, {bo, 0, 0, 1}, {0, 1, 0, 0}, {ana, 1, 0, 0},
    };
    struct call c;

    commit_ok(p, t, 5, NULL, 0);
    ck_assert_int_eq(raw_int("SELECT wins FROM players WHERE id = %lld", (long long)ana), 4);
    ck_assert_int_eq(raw_int("SELECT losses FROM players WHERE id = %lld", (long long)ana), 1);
    ck_assert_int_eq(raw_int("SELECT draws FROM players WHERE id = %lld", (long long)ana), 2);
    ck_assert_int_eq(raw_int("SELECT rounds FROM players WHERE id = %lld", (long long)ana), 7);
    ck_assert_int_eq(raw_int("SELECT rounds FROM players WHERE id = %lld", (long long)bo), 1);
    ck_assert_int_eq(raw_int("SELECT wins FROM players WHERE id = %lld", (long long)guest), 2);
    ck_assert_int_eq(raw_int("SELECT losses FROM players WHERE id = %lld", (long long)guest), 2);
    ck_assert_int_eq(raw_int("SELECT draws FROM players WHERE id = %lld", (long long)guest), 3);
    ck_assert_int_eq(raw_int("SELECT rounds FROM players WHERE id = %lld", (long long)guest), 7);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players WHERE rated > 0"), 0);

    /* A player the database does not know fails the whole commit. */
    struct db_totals bad[] = {{ana, 5, 0, 0}, {999999, 1, 0, 0}};
    ck_assert_int_eq(commit(p, bad, 2, NULL, 0, &c), -1);
    ck_assert_int_eq(c.r.fault, DB_FAULT_OTHER);
    ck_assert_msg(strstr(c.r.err, "add totals") != NULL, "err: %s", c.r.err);
    ck_assert_int_eq(raw_int("SELECT wins FROM players WHERE id = %lld", (long long)ana), 4);

    /* Negative totals never leave the process. */
    struct db_totals negative[] = {{ana, -1, 0, 0}};
    ck_assert_int_eq(commit(p, negative, 1, NULL, 0, &c), -1);

    /* Nothing to store is answered at once. */
    ck_assert_int_eq(commit(p, NULL, 0, NULL, 0, &c), 0);
    pg_close(p);
}
END_TEST

/* Commits: rated rounds. */

/* A player as the test expects it. */
struct mirror {
    int64_t id;
    double rating;
    int rated;
    int64_t rated_at;
    int wins, losses, draws;
    char form[BOARD_FORM_MAX + 1];
};

static char flip(char outcome)
{
    return outcome == 'W' ? 'L' : outcome == 'L' ? 'W' : 'D';
}

static void form_push(char *form, char result)
{
    size_t len = strlen(form);

    if (len == BOARD_FORM_MAX) {
        memmove(form, form + 1, len);
        len--;
    }
    form[len] = result;
    form[len + 1] = '\0';
}

static void side_apply(struct mirror *m, char result, double after, int64_t round)
{
    if (after != m->rating) {
        m->rated_at = round;
    }
    m->rating = after;
    m->rated++;
    m->wins += result == 'W';
    m->losses += result == 'L';
    m->draws += result == 'D';
    form_push(m->form, result);
}

/* Play rs[0..n) on the mirrors as games/elo.c says, the rounds getting ids from first_round on. */
static void mirror_play(struct mirror *ms, size_t nm, const struct db_round *rs, size_t n,
                        int64_t first_round)
{
    for (size_t i = 0; i < n; i++) {
        struct mirror *a = NULL, *b = NULL;
        for (size_t j = 0; j < nm; j++) {
            a = ms[j].id == rs[i].a ? &ms[j] : a;
            b = ms[j].id == rs[i].b ? &ms[j] : b;
        }
        ck_assert(a != NULL && b != NULL);
        double ra = a->rating, rb = b->rating;
        double score = rs[i].outcome == 'W' ? 1.0 : rs[i].outcome == 'D' ? 0.5 : 0.0;
        elo_update(&ra, a->rated, &rb, b->rated, score);
        side_apply(a, rs[i].outcome, ra, first_round + (int64_t)i);
        side_apply(b, flip(rs[i].outcome), rb, first_round + (int64_t)i);
    }
}

static void expect_mirror(const struct mirror *m)
{
    char form[32];
    double rating = raw_double("SELECT rating FROM players WHERE id = %lld", (long long)m->id);

    ck_assert_msg(rating == m->rating, "player %lld: rating %.17g, elo.c says %.17g", (long long)m->id,
                  rating, m->rating);
    ck_assert_int_eq(raw_int("SELECT rated FROM players WHERE id = %lld", (long long)m->id), m->rated);
    ck_assert_int_eq(raw_int("SELECT rated_at FROM players WHERE id = %lld", (long long)m->id), m->rated_at);
    ck_assert_int_eq(raw_int("SELECT wins FROM players WHERE id = %lld", (long long)m->id), m->wins);
    ck_assert_int_eq(raw_int("SELECT losses FROM players WHERE id = %lld", (long long)m->id), m->losses);
    ck_assert_int_eq(raw_int("SELECT draws FROM players WHERE id = %lld", (long long)m->id), m->draws);
    ck_assert_int_eq(raw_int("SELECT rounds FROM players WHERE id = %lld", (long long)m->id),
                     m->wins + m->losses + m->draws);
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT form FROM players WHERE id = %lld", (long long)m->id);
    raw_text(sql, form, sizeof(form));
    ck_assert_str_eq(form, m->form);
}

static void mirror_read(struct mirror *m, int64_t id)
{
    memset(m, 0, sizeof(*m));
    m->id = id;
    m->rating = raw_double("SELECT rating FROM players WHERE id = %lld", (long long)id);
    m->rated = (int)raw_int("SELECT rated FROM players WHERE id = %lld", (long long)id);
    m->rated_at = raw_int("SELECT rated_at FROM players WHERE id = %lld", (long long)id);
}

static int64_t next_round(void)
{
    return raw_int("SELECT coalesce(max(id), 0) + 1 FROM rounds");
}

START_TEST(test_ratings_are_elo_c_to_the_bit)
{
    struct pg *p = open_pg();
    int64_t ana = player(p, "ana"), bo = player(p, "bo"), cy = player(p, "cy"), dan = player(p, "dan");
    int64_t eve = player(p, "eve"), fay = player(p, "fay"), gus = player(p, "gus");
    int64_t hal = player(p, "hal"), ida = player(p, "ida"), jo = player(p, "jo"), kit = player(p, "kit");
    int64_t lee = player(p, "lee"), mo = player(p, "mo");
    enum { N = 13 };
    struct mirror ms[N];
    unsigned seed = 11;

    raw_execf("UPDATE players SET rated = 29, rated_at = 1 WHERE id = %lld;"
              "UPDATE players SET rated = 30, rating = 1200.5, rated_at = 1 WHERE id = %lld;"
              "UPDATE players SET rating = 2400, rated = 3, rated_at = 1 WHERE id = %lld;"
              "UPDATE players SET rating = 2000.25, rated = 50, rated_at = 1 WHERE id = %lld;"
              "UPDATE players SET rating = 1333.3333333333333, rated = 30, rated_at = 1 WHERE id = %lld;"
              "UPDATE players SET rating = 2399.9999999999995, rated = 29, rated_at = 1 WHERE id = %lld;"
              /* Near 0, the change is most of the rating: its last bits show in the result. */
              "UPDATE players SET rating = 0.3, rated = 40, rated_at = 1 WHERE id = %lld;"
              "UPDATE players SET rating = -0.1, rated = 40, rated_at = 1 WHERE id = %lld;"
              "UPDATE players SET rating = 5.5, rated = 40, rated_at = 1 WHERE id = %lld;"
              "UPDATE players SET rating = -3.25, rated = 10, rated_at = 1 WHERE id = %lld;"
              "SELECT arcade_buckets_rebuild()",
              (long long)ana, (long long)bo, (long long)cy, (long long)dan, (long long)hal, (long long)ida,
              (long long)jo, (long long)kit, (long long)lee, (long long)mo);
    int64_t ids[N] = {ana, bo, cy, dan, eve, fay, gus, hal, ida, jo, kit, lee, mo};
    for (int i = 0; i < N; i++) {
        mirror_read(&ms[i], ids[i]);
    }
    /* One batch, in order: ana's 30th round (K 40) then her 31st (K 20); cy at 2400 (K 10 though
     * provisional) draws dan; eve (new) wins by forfeit; fay and gus, both new, draw (no move). */
    struct db_round rs[] = {
        {ana, bo, 2, 1, 'W', 0},
        {bo, ana, 3, 2, 'W', 0},
        {cy, dan, 1, 1, 'D', 0},
        {eve, ana, 1, 0, 'W', 1},
        {ana, cy, 3, 1, 'L', 0},
        {fay, gus, 2, 2, 'D', 0},
        /* Exactly 30 rated rounds (K 20), on either side; just under 2400 (K 40). */
        {hal, ida, 1, 3, 'L', 0},
        {ida, hal, 2, 1, 'D', 0},
        {jo, kit, 1, 2, 'D', 0},
        {kit, jo, 3, 2, 'W', 0},
        {jo, kit, 2, 1, 'W', 0},
        {kit, jo, 1, 1, 'D', 0},
    };
    enum { NR = sizeof(rs) / sizeof(rs[0]) };
    int64_t first = next_round();
    mirror_play(ms, N, rs, NR, first);
    commit_ok(p, NULL, 0, rs, NR);
    for (int i = 0; i < N; i++) {
        expect_mirror(&ms[i]);
    }
    /* A draw between equal ratings moves neither: whoever was there first stays ahead. */
    ck_assert_int_eq(ms[5].rated_at, 0);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM rounds"), NR);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM rounds WHERE timeout = 1"), 1);
    ck_assert_int_eq(raw_int("SELECT a FROM rounds WHERE timeout = 1"), eve);
    ck_assert(raw_double("SELECT rating_a FROM rounds WHERE id = %lld", (long long)first + 3) ==
              ms[4].rating);

    /* A second batch goes on from the first. */
    struct db_round more[] = {{dan, cy, 2, 3, 'L', 0}, {ana, eve, 0, 0, 'D', 1}};
    mirror_play(ms, N, more, 2, next_round());
    commit_ok(p, NULL, 0, more, 2);
    for (int i = 0; i < N; i++) {
        expect_mirror(&ms[i]);
    }

    /* Many rounds at uneven ratings, where any change in the order of the operations shows in
     * the last bits: among everyone, then among the four near 0 (a few rounds in a hundred
     * differ there when the expectation is worked out in another order). */
    for (int batch = 0; batch < 20; batch++) {
        struct db_round many[16];
        int from = batch < 8 ? 0 : N - 4, span = N - from;
        for (int i = 0; i < 16; i++) {
            seed = seed * 1103515245 + 12345;
            int x = from + (int)(seed >> 16) % span, y = (int)(seed >> 8) % (span - 1);
            y = from + y + (from + y >= x);
            many[i] = (struct db_round){ids[x], ids[y], 1, 2, "WLD"[(seed >> 4) % 3], (int)(seed >> 20) & 1};
        }
        mirror_play(ms, N, many, 16, next_round());
        commit_ok(p, NULL, 0, many, 16);
    }
    for (int i = 0; i < N; i++) {
        expect_mirror(&ms[i]);
    }
    pg_close(p);
}
END_TEST

START_TEST(test_form_keeps_the_last_ten)
{
    struct pg *p = open_pg();
    int64_t ana = player(p, "ana"), bo = player(p, "bo");
    static const char results[] = "WWLDLWDDLWLW";
    struct mirror ms[2];

    mirror_read(&ms[0], ana);
    mirror_read(&ms[1], bo);
    for (size_t i = 0; i < strlen(results); i++) {
        struct db_round r = {ana, bo, 1, 2, results[i], 0};
        mirror_play(ms, 2, &r, 1, next_round());
        commit_ok(p, NULL, 0, &r, 1);
    }
    expect_mirror(&ms[0]);
    expect_mirror(&ms[1]);
    ck_assert_str_eq(ms[0].form, "LDLWDDLWLW");
    ck_assert_str_eq(ms[1].form, "WDWLDDWLWL");
    pg_close(p);
}
END_TEST

/* One bad round fails its commit alone: the requests before and after it are stored. */
START_TEST(test_failed_segment_fails_its_request_alone)
{
    struct pg *p = open_pg();
    int64_t ana = player(p, "ana"), bo = player(p, "bo");
    struct db_round good = {ana, bo, 1, 2, 'W', 0}, unknown = {ana, 999999, 1, 2, 'W', 0};
    struct db_totals t = {ana, 1, 0, 0};
    struct call c1, c2, c3, c4;

    call_init(&c1);
    call_init(&c2);
    call_init(&c3);
    call_init(&c4);
    ck_assert_int_eq(pg_commit(p, &c1.r, NULL, 0, &good, 1), DB_PENDING);
    ck_assert_int_eq(pg_commit(p, &c2.r, &t, 1, &unknown, 1), DB_PENDING);
    ck_assert_int_eq(pg_commit(p, &c3.r, NULL, 0, &good, 1), DB_PENDING);
    ck_assert(run_until(&c3.done));
    ck_assert_int_eq(c1.r.result, 0);
    ck_assert_int_eq(c2.r.result, -1);
    ck_assert_int_eq(c2.r.fault, DB_FAULT_OTHER);
    ck_assert_msg(strstr(c2.r.err, "no player") != NULL, "err: %s", c2.r.err);
    ck_assert_int_eq(c3.r.result, 0);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM rounds"), 2);
    ck_assert_int_eq(raw_int("SELECT rated FROM players WHERE id = %lld", (long long)ana), 2);
    /* The totals of the failed commit were not stored either. */
    ck_assert_int_eq(raw_int("SELECT rounds FROM players WHERE id = %lld", (long long)ana), 2);

    /* What the engine can tell at once is answered at once. */
    struct db_round self = {ana, ana, 1, 2, 'W', 0}, bad_move = {ana, bo, 4, 2, 'W', 0};
    ck_assert_int_eq(pg_commit(p, &c4.r, NULL, 0, &self, 1), DB_DONE);
    ck_assert_int_eq(c4.r.result, -1);
    ck_assert_int_eq(pg_commit(p, &c4.r, NULL, 0, &bad_move, 1), DB_DONE);
    ck_assert_int_eq(c4.r.result, -1);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM rounds"), 2);
    pg_close(p);
}
END_TEST

/* The leaderboard. */

struct ranked {
    int64_t id;
    char name[STORE_NAME_MAX + 1];
    double rating;
    int64_t rated_at;
};

static int by_board(const void *x, const void *y)
{
    const struct ranked *a = x, *b = y;

    if (a->rating != b->rating) {
        return a->rating > b->rating ? -1 : 1;
    }
    if (a->rated_at != b->rated_at) {
        return a->rated_at < b->rated_at ? -1 : 1;
    }
    return a->id < b->id ? -1 : a->id > b->id;
}

/* The leaderboard sorted here from the raw table; returns its length. */
static int board_sorted(struct ranked *out, int cap)
{
    PGconn *conn = raw_open();
    PGresult *res = PQexec(conn, "SELECT id, name, rating, rated_at FROM players"
                                 " WHERE name IS NOT NULL AND rated > 0");
    int n = PQntuples(res);

    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    ck_assert(n <= cap);
    for (int i = 0; i < n; i++) {
        out[i].id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        snprintf(out[i].name, sizeof(out[i].name), "%s", PQgetvalue(res, i, 1));
        out[i].rating = strtod(PQgetvalue(res, i, 2), NULL);
        out[i].rated_at = strtoll(PQgetvalue(res, i, 3), NULL, 10);
    }
    PQclear(res);
    PQfinish(conn);
    qsort(out, (size_t)n, sizeof(*out), by_board);
    return n;
}

/* Every rank, top and neighbourhood the engine gives agrees with the sort done here. */
static void expect_board(struct pg *p)
{
    static struct ranked want[512];
    int n = board_sorted(want, 512);
    struct call c;

    call_init(&c);
    int top = n < STORE_TOP_MAX ? n : STORE_TOP_MAX;
    ck_assert_int_eq(answer(&c, pg_top(p, &c.r, STORE_TOP_MAX)), top);
    for (int i = 0; i < top; i++) {
        ck_assert_str_eq(c.rows[i].name, want[i].name);
        ck_assert_int_eq(c.rows[i].rank, i + 1);
        ck_assert(c.rows[i].rating == want[i].rating);
    }
    for (int i = 0; i < n; i++) {
        char upper[STORE_NAME_MAX + 1];
        for (size_t j = 0; j <= strlen(want[i].name); j++) {
            upper[j] = (char)(want[i].name[j] >= 'a' && want[i].name[j] <= 'z' ? want[i].name[j] - 32
                                                                                 : want[i].name[j]);
        }
        call_init(&c);
        ck_assert_int_eq(answer(&c, pg_row(p, &c.r, upper)), 1);
        ck_assert_msg(c.rows[0].rank == i + 1, "%s: rank %lld, sorted %d", want[i].name,
                      (long long)c.rows[0].rank, i + 1);
        ck_assert_int_eq(c.r.id, want[i].id);

        int k = 2, above = i < k ? i : k, below = n - 1 - i < k ? n - 1 - i : k;
        call_init(&c);
        ck_assert_int_eq(answer(&c, pg_rank(p, &c.r, upper, k)), above + 1 + below);
        ck_assert_int_eq(c.r.self, above);
        for (int j = 0; j < above + 1 + below; j++) {
            ck_assert_str_eq(c.rows[j].name, want[i - above + j].name);
            ck_assert_int_eq(c.rows[j].rank, i - above + j + 1);
        }
    }
}

START_TEST(test_leaderboard_order_and_ties)
{
    struct pg *p = open_pg();
    /* Ratings across buckets, with ties in rating (then rated_at decides) and in both (then id). */
    static const struct {
        const char *name;
        double rating;
        int64_t rated_at;
    } set[] = {
        {"ana", 1500.5, 7}, {"bo", 1500.5, 3}, {"cy", 1500.5, 3}, {"dan", 1500.25, 1}, {"eve", 1499.9, 2},
        {"fay", 1501, 9},   {"gus", 1200, 4},  {"hal", 1200, 5},  {"ivy", 2401.75, 6}, {"jo", 900.125, 8},
        {"kim", 1500.0, 10}, {"lu", 1500.999, 11},
    };
    enum { SET = sizeof(set) / sizeof(set[0]) };

    for (int i = 0; i < SET; i++) {
        int64_t id = player(p, set[i].name);
        raw_execf("UPDATE players SET rating = %.17g, rated = 5 + %d, rated_at = %lld, wins = %d"
                  " WHERE id = %lld",
                  set[i].rating, 25 * (i % 2), (long long)set[i].rated_at, i, (long long)id);
    }
    player(p, "unrated");
    raw_exec("SELECT arcade_buckets_rebuild()");
    expect_board(p);

    struct call c;
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_top(p, &c.r, 3)), 3);
    ck_assert_str_eq(c.rows[0].name, "ivy");
    ck_assert_str_eq(c.rows[1].name, "fay");
    ck_assert_str_eq(c.rows[2].name, "lu");
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_rank(p, &c.r, "BO", 1)), 3);
    ck_assert_str_eq(c.rows[0].name, "lu");
    ck_assert_str_eq(c.rows[1].name, "bo");
    ck_assert_str_eq(c.rows[2].name, "cy");
    ck_assert_int_eq(c.rows[1].rank, 4);
    ck_assert_int_eq(c.rows[1].wins, 1);
    ck_assert_int_eq(c.rows[1].provisional, 0);
    ck_assert_int_eq(c.rows[2].provisional, 1);

    /* Off the board: named but unrated, unknown, a guest. */
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_rank(p, &c.r, "unrated", 2)), 0);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_rank(p, &c.r, "nobody", 2)), 0);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_row(p, &c.r, "Unrated")), 1);
    ck_assert_int_eq(c.rows[0].rank, 0);
    ck_assert_str_eq(c.rows[0].name, "unrated");
    ck_assert(c.rows[0].rating == ELO_START);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_row(p, &c.r, "nobody")), 0);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_top(p, &c.r, 0)), -1);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_rank(p, &c.r, "ana", STORE_AROUND_MAX + 1)), -1);
    pg_close(p);
}
END_TEST

/* Rated rounds move players between buckets: the ranks still agree with a full sort. */
START_TEST(test_ranks_follow_rated_rounds)
{
    enum { N = 40, BATCHES = 12, PER = 9 };
    struct pg *p = open_pg();
    int64_t ids[N];
    unsigned seed = 7;

    for (int i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof(name), "p%02d", i);
        ids[i] = player(p, name);
    }
    raw_exec("INSERT INTO players (name, created) VALUES (NULL, 0)");
    int64_t guest = raw_int("SELECT max(id) FROM players WHERE name IS NULL");
    for (int b = 0; b < BATCHES; b++) {
        struct db_round rs[PER];
        for (int i = 0; i < PER; i++) {
            seed = seed * 1103515245 + 12345;
            int x = (int)(seed >> 16) % N, y = (int)(seed >> 8) % (N - 1);
            y += y >= x;
            rs[i] = (struct db_round){ids[x], i == 0 ? guest : ids[y], 1, 2, "WLD"[(seed >> 4) % 3], 0};
        }
        commit_ok(p, NULL, 0, rs, PER);
    }
    ck_assert_int_eq(raw_int("SELECT count(*) FROM (SELECT floor(rating)::integer AS bucket, count(*) AS n"
                             " FROM players WHERE name IS NOT NULL AND rated > 0 GROUP BY 1) AS b"
                             " FULL JOIN rating_buckets AS r USING (bucket)"
                             " WHERE coalesce(b.n, 0) <> coalesce(r.n, 0)"),
                     0);
    expect_board(p);
    pg_close(p);
}
END_TEST

START_TEST(test_history_oldest_first)
{
    struct pg *p = open_pg();
    int64_t ana = player(p, "ana"), bo = player(p, "bo"), cy = player(p, "cy");
    double after[6];
    struct call c;

    for (int i = 0; i < 6; i++) {
        /* ana on either side, so both indexes are walked. */
        struct db_round r = i % 2 ? (struct db_round){ana, bo, 1, 2, 'W', 0}
                                  : (struct db_round){cy, ana, 1, 2, 'L', 0};
        commit_ok(p, NULL, 0, &r, 1);
        after[i] = raw_double("SELECT rating FROM players WHERE id = %lld", (long long)ana);
    }
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_history(p, &c.r, ana, 4)), 4);
    for (int i = 0; i < 4; i++) {
        ck_assert(c.points[i].rating == after[2 + i]);
        ck_assert(c.points[i].at > 1600000000 && c.points[i].at < 4000000000);
    }
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_history(p, &c.r, ana, STORE_HISTORY_MAX)), 6);
    ck_assert(c.points[0].rating == after[0]);
    ck_assert(c.points[5].rating == after[5]);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_history(p, &c.r, bo, 10)), 3);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_history(p, &c.r, 999999, 10)), 0);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_history(p, &c.r, ana, 0)), 0);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_history(p, &c.r, ana, STORE_HISTORY_MAX + 1)), -1);
    pg_close(p);
}
END_TEST

START_TEST(test_board_version_moves_with_rated_commits)
{
    struct pg *p = open_pg();
    int64_t ana = player(p, "ana"), bo = player(p, "bo");
    struct db_round r = {ana, bo, 1, 2, 'W', 0};
    uint64_t v = pg_board_version(p);

    commit_ok(p, NULL, 0, &r, 1);
    ck_assert(pg_board_version(p) > v);
    v = pg_board_version(p);
    /* Others may write: a second later the version moves by itself. */
    ev_sleep(1.1);
    ev_now_update(loop);
    ck_assert(pg_board_version(p) > v);
    pg_close(p);
}
END_TEST

/* Requests in flight. */

START_TEST(test_cancelled_request_never_answered)
{
    struct pg *p = open_pg();
    struct call a, b, c, d;

    player(p, "ana");
    call_init(&a);
    call_init(&b);
    call_init(&c);
    call_init(&d);
    ck_assert_int_eq(pg_account_find(p, &a.r, "ana"), DB_PENDING);
    ck_assert_int_eq(pg_account_find(p, &b.r, "ana"), DB_PENDING);
    ck_assert_int_eq(pg_account_find(p, &c.r, "nobody"), DB_PENDING);
    pg_cancel(p, &b.r);
    ck_assert(b.r.flight == NULL);
    /* b is the caller's again at once: reused for another request. */
    memset(&b.r.acct, 0, sizeof(b.r.acct));
    ck_assert(run_until(&c.done));
    ck_assert_int_eq(a.done, 1);
    ck_assert_int_eq(a.r.result, 1);
    ck_assert(a.order < c.order);
    ck_assert_int_eq(c.r.result, 0);
    ck_assert_int_eq(answer(&d, pg_account_find(p, &d.r, "ana")), 1);
    ck_assert_int_eq(b.done, 0);
    ck_assert_int_eq(b.r.acct.id, 0);
    /* Cancelling what is not pending does nothing. */
    pg_cancel(p, &d.r);
    pg_cancel(p, &b.r);
    pg_close(p);
    ck_assert_int_eq(b.done, 0);
}
END_TEST

START_TEST(test_many_in_flight_answered_in_order)
{
    struct pg *p = open_pg();
    static struct call calls[PG_PENDING_MAX + 1];

    player(p, "ana");
    answered = 0;
    for (int i = 0; i < PG_PENDING_MAX; i++) {
        call_init(&calls[i]);
        int state = i % 3 == 0 ? pg_account_find(p, &calls[i].r, i % 2 ? "ANA" : "nobody")
                    : i % 3 == 1 ? pg_top(p, &calls[i].r, 5) : pg_writable(p, &calls[i].r);
        ck_assert_int_eq(state, DB_PENDING);
    }
    /* One more than the bound fails at once. */
    call_init(&calls[PG_PENDING_MAX]);
    ck_assert_int_eq(pg_account_find(p, &calls[PG_PENDING_MAX].r, "ana"), DB_DONE);
    ck_assert_int_eq(calls[PG_PENDING_MAX].r.result, -1);
    ck_assert_int_eq(calls[PG_PENDING_MAX].r.fault, DB_FAULT_OTHER);
    ck_assert(run_until(&calls[PG_PENDING_MAX - 1].done));
    for (int i = 0; i < PG_PENDING_MAX; i++) {
        ck_assert_int_eq(calls[i].done, 1);
        ck_assert_int_eq(calls[i].order, i + 1);
        int64_t want = i % 3 == 0 ? i % 2 : 0;
        ck_assert_msg(calls[i].r.result == want, "request %d: %lld (%s)", i, (long long)calls[i].r.result,
                      calls[i].r.err);
    }
    pg_close(p);
}
END_TEST

static struct pg *to_close;

static void on_done_close(struct db_req *r)
{
    on_done(r);
    pg_close(to_close);
}

START_TEST(test_close_answers_pending)
{
    struct pg *p = open_pg();
    struct call a, b;

    call_init(&a);
    call_init(&b);
    ck_assert_int_eq(pg_top(p, &a.r, 10), DB_PENDING);
    ck_assert_int_eq(pg_writable(p, &b.r), DB_PENDING);
    pg_close(p);
    ck_assert_int_eq(a.done, 1);
    ck_assert_int_eq(b.done, 1);
    ck_assert(a.order < b.order);
    ck_assert_int_eq(a.r.result, -1);
    ck_assert_int_eq(a.r.fault, DB_FAULT_DOWN);
    ck_assert_int_eq(b.r.fault, DB_FAULT_DOWN);

    /* Closed from inside an answer: the others are answered, and nothing is touched after. */
    p = open_pg();
    call_init(&a);
    call_init(&b);
    a.r.done = on_done_close;
    to_close = p;
    ck_assert_int_eq(pg_writable(p, &a.r), DB_PENDING);
    ck_assert_int_eq(pg_writable(p, &b.r), DB_PENDING);
    ck_assert(run_until(&b.done));
    ck_assert_int_eq(a.r.result, 0);
    ck_assert_int_eq(b.r.fault, DB_FAULT_DOWN);
}
END_TEST

START_TEST(test_writable)
{
    struct pg *p = open_pg();
    struct call c;

    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_writable(p, &c.r)), 0);
    pg_close(p);
}
END_TEST

/* The connection lost. */

/* expr over the server processes of the engine's connections to the test's database, read from the
 * maintenance database (the test's own may refuse connections). */
static int engine_int(const char *expr)
{
    char sql[512];
    const char *db = strrchr(uri, '/') + 1;
    PGconn *conn = PQconnectdb(pgtest_uri());

    snprintf(sql, sizeof(sql), "SELECT %s FROM pg_stat_activity WHERE datname = '%.*s'"
             " AND application_name = 'arcaded'", expr, (int)strcspn(db, "?"), db);
    PGresult *res = PQexec(conn, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(res));
    int v = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(conn);
    return v;
}

/* End the engine's connections. */
static void kill_engine(void)
{
    ck_assert_int_ge(engine_int("count(pg_terminate_backend(pid))"), 1);
}

/* A connection of the test's whose open transaction holds the row of player id. */
static PGconn *lock_row(int64_t id)
{
    PGconn *holder = raw_open();
    char sql[128];

    PQclear(PQexec(holder, "BEGIN"));
    snprintf(sql, sizeof(sql), "SELECT 1 FROM players WHERE id = %lld FOR UPDATE", (long long)id);
    PGresult *res = PQexec(holder, sql);
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    return holder;
}

static void wait_connected(struct pg *p)
{
    int up = 0;
    ev_timer guard;
    int late = 0;

    ev_timer_init(&guard, timed_out, WAIT_SECS, 0.);
    guard.data = &late;
    ev_timer_start(loop, &guard);
    while (!(up = pg_connected(p)) && !late) {
        ev_run(loop, EVRUN_ONCE);
    }
    ev_timer_stop(loop, &guard);
    ck_assert_msg(up, "not connected again in %.0f s", WAIT_SECS);
}

START_TEST(test_lost_connection_fails_pending_then_reconnects)
{
    struct pg *p = open_pg();
    int64_t ana = player(p, "ana"), bo = player(p, "bo");
    struct db_round r = {ana, bo, 1, 2, 'W', 0};
    struct call a, b, c, d;
    /* A commit waits for the row ana's holder locked, with a read queued behind it. */
    PGconn *holder = lock_row(ana);

    call_init(&a);
    call_init(&b);
    ck_assert_int_eq(pg_commit(p, &a.r, NULL, 0, &r, 1), DB_PENDING);
    ck_assert_int_eq(pg_top(p, &b.r, 10), DB_PENDING);
    for (int i = 0; i < 20; i++) {
        ev_run(loop, EVRUN_NOWAIT);
        usleep(10000);
    }
    ck_assert_int_eq(a.done, 0);
    kill_engine();
    ck_assert(run_until(&b.done));
    ck_assert_int_eq(a.done, 1);
    ck_assert(a.order < b.order);
    ck_assert_int_eq(a.r.result, -1);
    ck_assert_int_eq(a.r.fault, DB_FAULT_DOWN);
    ck_assert_int_eq(b.r.fault, DB_FAULT_DOWN);
    ck_assert_msg(strncmp(a.r.err, "database unavailable: ", 22) == 0, "err: %s", a.r.err);
    PQclear(PQexec(holder, "ROLLBACK"));
    PQfinish(holder);

    /* Down: requests fail at once. */
    if (!pg_connected(p)) {
        call_init(&c);
        ck_assert_int_eq(pg_account_find(p, &c.r, "ana"), DB_DONE);
        ck_assert_int_eq(c.r.result, -1);
        ck_assert_int_eq(c.r.fault, DB_FAULT_DOWN);
    }
    wait_connected(p);
    call_init(&d);
    ck_assert_int_eq(answer(&d, pg_commit(p, &d.r, NULL, 0, &r, 1)), 0);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM rounds"), 1);

    /* Again, with nothing pending: found lost when it reads, and back again. */
    kill_engine();
    for (int i = 0; i < 50 && pg_connected(p); i++) {
        ev_run(loop, EVRUN_NOWAIT);
        usleep(10000);
    }
    wait_connected(p);
    call_init(&d);
    ck_assert_int_eq(answer(&d, pg_account_find(p, &d.r, "BO")), 1);
    ck_assert_int_eq(d.r.acct.id, bo);
    pg_close(p);
}
END_TEST

/* While the server refuses every connection, requests fail at once and the engine keeps trying. */
START_TEST(test_down_while_the_database_refuses)
{
    struct pg *p = open_pg();
    struct call c;
    char name[128];

    raw_text("SELECT current_database()", name, sizeof(name));
    maintenance_execf("ALTER DATABASE %s ALLOW_CONNECTIONS false", name);
    kill_engine();
    for (int i = 0; i < 100 && pg_connected(p); i++) {
        ev_run(loop, EVRUN_NOWAIT);
        usleep(10000);
    }
    ck_assert(!pg_connected(p));
    /* A few failed attempts. */
    ev_timer t;
    int late = 0;
    ev_timer_init(&t, timed_out, 0.5, 0.);
    t.data = &late;
    ev_timer_start(loop, &t);
    while (!late) {
        ev_run(loop, EVRUN_ONCE);
    }
    ck_assert(!pg_connected(p));
    call_init(&c);
    ck_assert_int_eq(pg_writable(p, &c.r), DB_DONE);
    ck_assert_int_eq(c.r.fault, DB_FAULT_DOWN);

    maintenance_execf("ALTER DATABASE %s ALLOW_CONNECTIONS true", name);
    wait_connected(p);
    call_init(&c);
    ck_assert_int_eq(answer(&c, pg_writable(p, &c.r)), 0);
    pg_close(p);
}
END_TEST

/* Slow and silent servers. */

/* A lock held past the statement wait: PostgreSQL ends the statement, the request fails alone
 * (nothing of it stored) and the connection serves the next; the same after a reconnect, whose
 * session gets the setting again. */
static void expect_lock_wait_fails(struct pg *p, int64_t locked, const struct db_round *r)
{
    PGconn *holder = lock_row(locked);
    struct call a, b;

    call_init(&a);
    call_init(&b);
    ck_assert_int_eq(pg_commit(p, &a.r, NULL, 0, r, 1), DB_PENDING);
    ck_assert_int_eq(pg_top(p, &b.r, 10), DB_PENDING);
    ck_assert_msg(run_until(&b.done), "no answer in %.0f s", WAIT_SECS);
    ck_assert_int_eq(a.done, 1);
    ck_assert(a.order < b.order);
    ck_assert_int_eq(a.r.result, -1);
    ck_assert_int_eq(a.r.fault, DB_FAULT_OTHER);
    ck_assert_msg(strstr(a.r.err, "statement timeout") != NULL, "err: %s", a.r.err);
    ck_assert_msg(b.r.result >= 0, "the read after it: %s", b.r.err);
    ck_assert(pg_connected(p));
    PQclear(PQexec(holder, "ROLLBACK"));
    PQfinish(holder);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM rounds"), 0);
}

START_TEST(test_statement_past_its_wait_fails_alone)
{
    struct pg *p = open_pg();
    int64_t ana = player(p, "ana"), bo = player(p, "bo");
    struct db_round r = {ana, bo, 1, 2, 'W', 0};

    expect_lock_wait_fails(p, bo, &r);
    kill_engine();
    for (int i = 0; i < 100 && pg_connected(p); i++) {
        ev_run(loop, EVRUN_NOWAIT);
        usleep(10000);
    }
    wait_connected(p);
    expect_lock_wait_fails(p, ana, &r);
    commit_ok(p, NULL, 0, &r, 1);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM rounds"), 1);
    pg_close(p);
}
END_TEST

/* The pid of the server process of the engine's connection. */
static int engine_pid(void)
{
    ck_assert_int_eq(engine_int("count(*)"), 1);
    return engine_int("max(pid)");
}

/* A server that stops answering (its process stopped: no error, no close): the engine drops the
 * connection after PG_ANSWER_WAIT, fails what was pending, and connects again. Stopping
 * PostgreSQL's process takes root (or its owner). */
START_TEST(test_silent_server_is_dropped_and_made_again)
{
    struct pg *p = open_pg();
    struct call a, b;
    int pid = engine_pid();

    if (kill(pid, SIGSTOP) != 0) {
        printf("test_silent_server_is_dropped_and_made_again: skipped: cannot stop PostgreSQL's process %d"
               " (run as root)\n", pid);
        pg_close(p);
        return;
    }
    /* Whatever happens here, the process goes on within WAIT_SECS: its database must be dropped. */
    pid_t guard = fork();
    ck_assert_int_ge(guard, 0);
    if (guard == 0) {
        sleep((unsigned)WAIT_SECS);
        kill(pid, SIGCONT);
        _exit(0);
    }
    call_init(&a);
    ck_assert_int_eq(pg_top(p, &a.r, 10), DB_PENDING);
    int answered_in_time = run_until(&a.done);
    kill(pid, SIGCONT);
    kill(guard, SIGKILL);
    waitpid(guard, NULL, 0);
    ck_assert_msg(answered_in_time, "no answer in %.0f s", WAIT_SECS);
    ck_assert_int_eq(a.r.result, -1);
    ck_assert_int_eq(a.r.fault, DB_FAULT_DOWN);
    ck_assert_msg(strstr(a.r.err, "no answer in") != NULL, "err: %s", a.r.err);
    wait_connected(p);
    call_init(&b);
    ck_assert_int_ge(answer(&b, pg_top(p, &b.r, 10)), 0);
    ck_assert_int_ne(engine_pid(), pid);
    pg_close(p);
}
END_TEST

/* Passwords. */

static void expect_redacted(const char *in, const char *secret, const char *want)
{
    char out[512];

    pg_redact(in, out, sizeof(out));
    ck_assert_msg(strstr(out, secret) == NULL, "%s -> %s", in, out);
    if (want != NULL) {
        ck_assert_str_eq(out, want);
    }
}

START_TEST(test_redact_hides_passwords)
{
    expect_redacted("postgresql://arcade:s3cret@127.0.0.1:5432/postgres?sslmode=disable", "s3cret",
                    "postgresql://arcade:***@127.0.0.1:5432/postgres?sslmode=disable");
    expect_redacted("postgres://u:s%33cret@db.example/arcade", "s3cret",
                    "postgresql://u:***@db.example/arcade");
    expect_redacted("postgresql://u:s3cret@h/d", "s%33cret", NULL);
    expect_redacted("host=h user=u password=s3cret dbname=d", "s3cret", "postgresql://u:***@h/d");
    expect_redacted("host=h password='s3 cret' dbname=d", "s3 cret", "postgresql://:***@h/d");
    expect_redacted("postgresql://h/d?password=s3cret&application_name=x", "s3cret",
                    "postgresql://:***@h/d?application_name=x");
    expect_redacted("postgresql://u@h:5433/d", "***", "postgresql://u@h:5433/d");
    expect_redacted("host=h password='s3cret", "s3cret", "(unparsable address)");
    expect_redacted("postgresql://u:s3cret@h/d?nosuchoption=1", "s3cret", "(unparsable address)");
    ck_assert(pg_is_uri("postgresql://h/d"));
    ck_assert(pg_is_uri("postgres://h/d"));
    ck_assert(!pg_is_uri("arcade.db"));
    ck_assert(!pg_is_uri("file:arcade.db"));
}
END_TEST

/* A failure to connect says why without the password. */
START_TEST(test_open_errors_hide_passwords)
{
    char bad[512];
    const char *at = strstr(uri, "@");

    ck_assert(at != NULL);
    snprintf(bad, sizeof(bad), "postgresql://arcade:Wr0ngPassw0rd%s", at);
    ck_assert(pg_open(bad, loop, err, sizeof(err)) == NULL);
    ck_assert_msg(strstr(err, "Wr0ngPassw0rd") == NULL, "err: %s", err);
    ck_assert_msg(strstr(err, "***") != NULL, "err: %s", err);
    /* A message that quotes the password (here as the user's name) has it replaced. */
    snprintf(bad, sizeof(bad), "postgresql://S3cr3tUser:S3cr3tUser%s", at);
    ck_assert(pg_open(bad, loop, err, sizeof(err)) == NULL);
    ck_assert_msg(strstr(err, "S3cr3tUser") == NULL, "err: %s", err);
    ck_assert(pg_open("postgresql://u:Wr0ng%zz@h/d", loop, err, sizeof(err)) == NULL);
    ck_assert_msg(strstr(err, "Wr0ng") == NULL, "err: %s", err);
}
END_TEST

static Suite *pg_suite(void)
{
    Suite *s = suite_create("pg");
    TCase *schema = tcase_create("schema");
    TCase *accounts = tcase_create("accounts");
    TCase *writes = tcase_create("writes");
    TCase *board = tcase_create("leaderboard");
    TCase *flight = tcase_create("flight");
    TCase *down = tcase_create("down");
    TCase *secrets = tcase_create("secrets");
    TCase *all[] = {schema, accounts, writes, board, flight, down, secrets};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        tcase_add_checked_fixture(all[i], setup, teardown);
        tcase_set_timeout(all[i], 120);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_test(schema, test_migrations_then_reopen);
    tcase_add_test(schema, test_concurrent_opens_migrate_once);
    tcase_add_test(schema, test_newer_version_refused);
    tcase_add_test(accounts, test_accounts);
    tcase_add_test(writes, test_commit_totals_and_guests);
    tcase_add_test(writes, test_ratings_are_elo_c_to_the_bit);
    tcase_add_test(writes, test_form_keeps_the_last_ten);
    tcase_add_test(writes, test_failed_segment_fails_its_request_alone);
    tcase_add_test(board, test_leaderboard_order_and_ties);
    tcase_add_test(board, test_ranks_follow_rated_rounds);
    tcase_add_test(board, test_history_oldest_first);
    tcase_add_test(board, test_board_version_moves_with_rated_commits);
    tcase_add_test(flight, test_cancelled_request_never_answered);
    tcase_add_test(flight, test_many_in_flight_answered_in_order);
    tcase_add_test(flight, test_close_answers_pending);
    tcase_add_test(flight, test_writable);
    tcase_add_test(down, test_lost_connection_fails_pending_then_reconnects);
    tcase_add_test(down, test_down_while_the_database_refuses);
    tcase_add_test(down, test_statement_past_its_wait_fails_alone);
    tcase_add_test(down, test_silent_server_is_dropped_and_made_again);
    tcase_add_test(secrets, test_redact_hides_passwords);
    tcase_add_test(secrets, test_open_errors_hide_passwords);
    return s;
}

int main(void)
{
    if (pgtest_uri() == NULL) {
        printf("pg: skipped: ARCADE_TEST_PG is not set (a postgresql:// URI of a maintenance database"
               " whose role may CREATE DATABASE)\n");
        return EXIT_SUCCESS;
    }
    dbs = mmap(NULL, DBS_MAX * sizeof(*dbs), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (dbs == MAP_FAILED) {
        perror("mmap");
        return EXIT_FAILURE;
    }
    memset(dbs, 0, DBS_MAX * sizeof(*dbs));
    int status = suite_run(pg_suite());
    for (int i = 0; i < DBS_MAX; i++) {
        if (dbs[i][0] != '\0') {
            pgtest_drop(dbs[i]);
        }
    }
    return status;
}
