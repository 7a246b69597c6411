/* server/batch, the group commit, without sockets: a real store in a temporary directory, and
 * connections made by hand on a pool without a socket (the batch only queues bytes on a connection,
 * holds them and lets them go). "Another process" holding the database's lock is a second SQLite
 * connection of the test's own, and the clock is a number passed to batch_commit. */
#include <check.h>
#include <ev.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "db.h"
#include "conn.h"
#include "expect.h"
#include "harness.h"
#include "log.h"
#include "rps.h"
#include "store.h"
#include "suite.h"

/* docs/PROTOCOL.md: a result that could not be stored is replaced by `E` "games unavailable". */
#define UNAVAILABLE "E\x11" "games unavailable"
#define T0 1000.0           /* the clock at the first commit of a test */
#define WAIT 5.0            /* seconds results wait for a database locked elsewhere (--lock-wait) */

static char dir[64], path[128], err[256];
static struct ev_loop *loop;
static struct conn_pool pool;
static struct db *d;
static struct store *st;   /* d's */
static struct batch b;
static int64_t ana, bo, cy;   /* ana and bo play each other, cy only the bot */

static void open_store(const char *name)
{
    d = db_open(name, 0, loop, err, sizeof(err));
    ck_assert_msg(d != NULL, "db_open %s: %s", name, err);
    st = db_sqlite(d);
}

/* A store with three named players, a pool on a loop that never runs, an empty batch. */
static void setup(void)
{
    log_set_level(LOG_ALWAYS);      /* the failed commits are on purpose: their log lines are noise */
    ck_assert_int_eq(suite_mkdtemp(dir, sizeof(dir), "batch"), 0);
    snprintf(path, sizeof(path), "%s/arcade.db", dir);
    loop = ev_loop_new(EVFLAG_AUTO);
    ck_assert_ptr_nonnull(loop);
    open_store(path);
    ana = store_player(st, "ana", err, sizeof(err));
    bo = store_player(st, "bo", err, sizeof(err));
    cy = store_player(st, "cy", err, sizeof(err));
    ck_assert_msg(ana > 0 && bo > 0 && cy > 0, "store_player: %s", err);
    conn_pool_init(&pool, loop, 0, 1 << 16, 1 << 20, NULL, 0);
    memset(&b, 0, sizeof(b));
}

static void teardown(void)
{
    batch_free(&b);
    db_close(d);
    conn_pool_free(&pool);
    ev_loop_destroy(loop);
}

/* An open connection as conn_new leaves it, without its socket and watchers. */
static void conn_open(struct conn *c)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->state = CONN_OPEN;
    c->pool = &pool;
    c->out_held = CONN_HELD_NONE;
}

static void conn_done(struct conn *c)
{
    buf_free(&c->out);
}

/* Bytes queued on c that carry no result (a notice written before any result, say). */
static void queue(struct conn *c, const char *bytes)
{
    ck_assert_int_eq(conn_write(c, bytes, strlen(bytes)), 0);
}

/* A result queued on c and held for the commit. */
static void result(struct conn *c, const char *bytes)
{
    uint32_t off = c->out.len;
    queue(c, bytes);
    ck_assert_int_eq(batch_hold(&b, c, off, (uint32_t)strlen(bytes)), 0);
}

/* A round between ana and bo, ana winning, counted in *stored once stored and out of *pending once
 * resolved either way. */
static void round_ana_wins(unsigned *stored, unsigned *pending)
{
    struct batch_round r = { .player = { ana, bo }, .move = { 2, 1 }, .outcome = 'W', .stored = stored,
                             .pending = pending };
    (*pending)++;
    ck_assert_int_eq(batch_round(&b, &r), 0);
}

/* What c has queued, held or not, is exactly the literal lit. */
#define EXPECT_QUEUED(c, lit)                                                                               \
    ck_assert_msg((c)->out.len == sizeof(lit) - 1 && memcmp((c)->out.data, (lit), sizeof(lit) - 1) == 0,    \
                  "%s: queued \"%s\", expected \"%s\"", #c, show((c)->out.data, (c)->out.len),               \
                  show((lit), sizeof(lit) - 1))

static long long count(const char *sql)
{
    long long n = harness_sql_int(path, sql);
    ck_assert_msg(n >= 0, "%s failed", sql);
    return n;
}

/* The bot rounds of a player, once the tally log is folded in: wins * 100 + losses * 10 + draws. */
static long long bot_totals(int64_t id)
{
    char sql[128];
    ck_assert_msg(store_fold(st, err, sizeof(err)) == 0, "fold: %s", err);
    snprintf(sql, sizeof(sql), "SELECT wins * 100 + losses * 10 + draws FROM players WHERE id = %lld",
             (long long)id);
    return count(sql);
}

/* Another process takes the database's write lock, as `sqlite3 DB 'BEGIN EXCLUSIVE'` does. */
static sqlite3 *lock_database(void)
{
    sqlite3 *other = NULL;
    ck_assert_int_eq(sqlite3_open(path, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    return other;
}

static void unlock_database(sqlite3 *other)
{
    ck_assert_int_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
}

START_TEST(test_results_are_held_until_the_commit_then_released)
{
    struct conn c1, c2;
    struct batch_player p = { .id = cy, .slot = -1 };
    unsigned stored = 0, pending = 0;

    conn_open(&c1);
    conn_open(&c2);
    queue(&c1, "W");
    result(&c1, "M2y");
    result(&c2, "M1z");
    result(&c1, "M3x");
    round_ana_wins(&stored, &pending);
    ck_assert_int_eq(batch_bot(&b, &p, RPS_WIN), 0);
    ck_assert_int_eq(batch_bot(&b, &p, RPS_DRAW), 0);
    ck_assert(batch_pending(&b));

    /* Held from each connection's first result on; what came before may be written. */
    ck_assert_uint_eq(c1.out_held, 1);
    ck_assert_uint_eq(c2.out_held, 0);
    ck_assert_int_eq(count("SELECT count(*) FROM rounds"), 0);

    ck_assert_int_eq(batch_commit(&b, d, T0, WAIT), BATCH_DONE);
    ck_assert_uint_eq(c1.out_held, CONN_HELD_NONE);
    ck_assert_uint_eq(c2.out_held, CONN_HELD_NONE);
    ck_assert(c1.dirty && c2.dirty);            /* listed for the flush to write */
    EXPECT_QUEUED(&c1, "WM2yM3x");
    EXPECT_QUEUED(&c2, "M1z");
    ck_assert_int_eq(count("SELECT count(*) FROM rounds WHERE a = 1 AND b = 2 AND outcome = 'W'"), 1);
    ck_assert_uint_eq(stored, 1);
    ck_assert_uint_eq(pending, 0);
    ck_assert_int_eq(bot_totals(cy), 101);
    ck_assert_int_eq(p.slot, -1);
    ck_assert(!batch_pending(&b));

    /* An empty batch has nothing to do. */
    ck_assert_int_eq(batch_commit(&b, d, T0 + 1, WAIT), BATCH_DONE);
    ck_assert_int_eq(count("SELECT count(*) FROM rounds"), 1);
    conn_done(&c1);
    conn_done(&c2);
}
END_TEST

/* A database that refuses writes: every held result becomes the error frame, the bytes between
 * results stay, and nothing is stored. */
START_TEST(test_a_failed_commit_replaces_every_held_result_and_stores_nothing)
{
    struct conn c1, c2;
    struct batch_player p = { .id = cy, .slot = -1 };
    unsigned stored = 0, pending = 0;
    char uri[160];

    db_close(d);
    snprintf(uri, sizeof(uri), "file:%s?mode=ro", path);
    open_store(uri);
    conn_open(&c1);
    conn_open(&c2);
    queue(&c1, "A");
    result(&c1, "M2y");
    result(&c2, "M1z");
    queue(&c1, "W");
    result(&c1, "Tz");
    queue(&c1, "Z");
    round_ana_wins(&stored, &pending);
    ck_assert_int_eq(batch_bot(&b, &p, RPS_LOSS), 0);

    ck_assert_int_eq(batch_commit(&b, d, T0, WAIT), BATCH_DONE);
    EXPECT_QUEUED(&c1, "A" UNAVAILABLE "W" UNAVAILABLE "Z");
    EXPECT_QUEUED(&c2, UNAVAILABLE);
    ck_assert_uint_eq(c1.out_held, CONN_HELD_NONE);
    ck_assert_uint_eq(c2.out_held, CONN_HELD_NONE);
    ck_assert_uint_eq(stored, 0);
    ck_assert_uint_eq(pending, 0);
    ck_assert_int_eq(p.slot, -1);
    ck_assert(!batch_pending(&b));
    ck_assert_int_eq(count("SELECT count(*) FROM rounds"), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM tallies"), 0);
    ck_assert_int_eq(count("SELECT sum(rounds) FROM players"), 0);
    conn_done(&c1);
    conn_done(&c2);
}
END_TEST

/* Guests' rounds go to one row that the first commit needing it makes. A commit that fails after
 * making it (a round naming no player) takes the row with it, and the next commit makes it again. */
START_TEST(test_a_failed_commit_does_not_keep_the_guests_row)
{
    struct conn c;
    struct batch_player guest = { .id = 0, .slot = -1 };
    struct batch_round bad = { .player = { ana, 9999 }, .move = { 2, 1 }, .outcome = 'W' };

    conn_open(&c);
    result(&c, "y");
    ck_assert_int_eq(batch_bot(&b, &guest, RPS_WIN), 0);
    ck_assert_int_eq(batch_round(&b, &bad), 0);
    ck_assert_int_eq(batch_commit(&b, d, T0, WAIT), BATCH_DONE);
    EXPECT_QUEUED(&c, UNAVAILABLE);
    ck_assert_int_eq(count("SELECT count(*) FROM players"), 3);

    result(&c, "z");
    ck_assert_int_eq(batch_bot(&b, &guest, RPS_LOSS), 0);
    ck_assert_int_eq(batch_commit(&b, d, T0 + 1, WAIT), BATCH_DONE);
    EXPECT_QUEUED(&c, UNAVAILABLE "z");
    ck_assert_int_eq(count("SELECT count(*) FROM players WHERE name IS NULL"), 1);
    ck_assert_int_eq(bot_totals(count("SELECT id FROM players WHERE name IS NULL")), 10);
    conn_done(&c);
}
END_TEST

/* While another process holds the lock nothing waits for it: the commit says BATCH_WAITING and keeps
 * everything held, as often as it is tried, and stores it all once the lock is gone. */
START_TEST(test_results_wait_while_the_database_is_locked_then_go_out)
{
    struct conn c;
    struct batch_player p = { .id = cy, .slot = -1 };
    unsigned stored = 0, pending = 0;

    conn_open(&c);
    result(&c, "M2y");
    round_ana_wins(&stored, &pending);
    ck_assert_int_eq(batch_bot(&b, &p, RPS_WIN), 0);
    sqlite3 *other = lock_database();

    ck_assert_int_eq(batch_commit(&b, d, T0, WAIT), BATCH_WAITING);
    ck_assert_int_eq(batch_commit(&b, d, T0 + WAIT / 2, WAIT), BATCH_WAITING);
    ck_assert_uint_eq(c.out_held, 0);
    EXPECT_QUEUED(&c, "M2y");
    ck_assert_uint_eq(stored, 0);
    ck_assert_uint_eq(pending, 1);
    ck_assert(batch_pending(&b));
    ck_assert_int_eq(count("SELECT count(*) FROM rounds"), 0);

    unlock_database(other);
    ck_assert_int_eq(batch_commit(&b, d, T0 + WAIT - 0.5, WAIT), BATCH_DONE);
    ck_assert_uint_eq(c.out_held, CONN_HELD_NONE);
    EXPECT_QUEUED(&c, "M2y");
    ck_assert_uint_eq(stored, 1);
    ck_assert_uint_eq(pending, 0);
    ck_assert_int_eq(count("SELECT count(*) FROM rounds"), 1);
    ck_assert_int_eq(bot_totals(cy), 100);
    conn_done(&c);
}
END_TEST

/* Locked for the whole wait: the results are refused as on any failure. The wait is counted afresh
 * for the next batch. */
START_TEST(test_locked_for_the_whole_wait_refuses_the_results)
{
    struct conn c;
    unsigned stored = 0, pending = 0;

    conn_open(&c);
    result(&c, "M2y");
    round_ana_wins(&stored, &pending);
    sqlite3 *other = lock_database();
    ck_assert_int_eq(batch_commit(&b, d, T0, WAIT), BATCH_WAITING);
    ck_assert_int_eq(batch_commit(&b, d, T0 + WAIT, WAIT), BATCH_DONE);
    EXPECT_QUEUED(&c, UNAVAILABLE);
    ck_assert_uint_eq(c.out_held, CONN_HELD_NONE);
    ck_assert_uint_eq(stored, 0);
    ck_assert_uint_eq(pending, 0);

    result(&c, "M1z");
    round_ana_wins(&stored, &pending);
    ck_assert_int_eq(batch_commit(&b, d, T0 + 2 * WAIT, WAIT), BATCH_WAITING);
    unlock_database(other);
    ck_assert_int_eq(count("SELECT count(*) FROM rounds"), 0);
    ck_assert_int_eq(batch_commit(&b, d, T0 + 2 * WAIT + 1, WAIT), BATCH_DONE);
    EXPECT_QUEUED(&c, UNAVAILABLE "M1z");
    ck_assert_uint_eq(stored, 1);
    ck_assert_uint_eq(pending, 0);
    ck_assert_int_eq(count("SELECT count(*) FROM rounds"), 1);
    conn_done(&c);
}
END_TEST

/* A connection closed while its result was held is left alone by a failed commit; the others still
 * get their error frames. */
START_TEST(test_a_failed_commit_skips_a_closed_connection)
{
    struct conn gone, open;
    struct batch_round bad = { .player = { ana, 9999 }, .move = { 2, 1 }, .outcome = 'W' };

    conn_open(&gone);
    conn_open(&open);
    result(&gone, "M2y");
    result(&open, "M1z");
    ck_assert_int_eq(batch_round(&b, &bad), 0);
    conn_close(&gone, "test");
    ck_assert_int_eq(batch_commit(&b, d, T0, WAIT), BATCH_DONE);
    EXPECT_QUEUED(&gone, "M2y");
    EXPECT_QUEUED(&open, UNAVAILABLE);
    ck_assert_uint_eq(gone.out_held, CONN_HELD_NONE);
    conn_done(&gone);
    conn_done(&open);
}
END_TEST

/* Many players in one batch: the engine takes their totals in one array, made to measure (a batch
 * of 200 once overran an array grown only twice over). Every player's rounds are stored. */
START_TEST(test_a_batch_of_many_players_is_stored_whole)
{
    enum { PLAYERS = 200 };
    static struct batch_player many[PLAYERS];
    struct conn c;
    char name[16];

    conn_open(&c);
    for (int i = 0; i < PLAYERS; i++) {
        snprintf(name, sizeof(name), "p%03d", i);
        many[i] = (struct batch_player){ .id = store_player(st, name, err, sizeof(err)), .slot = -1 };
        ck_assert_msg(many[i].id > 0, "store_player: %s", err);
        ck_assert_int_eq(batch_bot(&b, &many[i], RPS_WIN), 0);
        result(&c, "y");
    }
    ck_assert_int_eq(batch_commit(&b, d, T0, WAIT), BATCH_DONE);
    ck_assert_uint_eq(c.out_held, CONN_HELD_NONE);
    ck_assert_int_eq(c.out.len, PLAYERS);
    ck_assert_int_eq(memchr(c.out.data, 'E', c.out.len) == NULL, 1);
    for (int i = 0; i < PLAYERS; i++) {
        ck_assert_int_eq(many[i].slot, -1);
        ck_assert_int_eq(bot_totals(many[i].id), 100);
    }
    conn_done(&c);
}
END_TEST

static Suite *batch_suite(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_results_are_held_until_the_commit_then_released);
    tcase_add_test(tc, test_a_failed_commit_replaces_every_held_result_and_stores_nothing);
    tcase_add_test(tc, test_a_failed_commit_does_not_keep_the_guests_row);
    tcase_add_test(tc, test_results_wait_while_the_database_is_locked_then_go_out);
    tcase_add_test(tc, test_locked_for_the_whole_wait_refuses_the_results);
    tcase_add_test(tc, test_a_failed_commit_skips_a_closed_connection);
    tcase_add_test(tc, test_a_batch_of_many_players_is_stored_whole);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return suite_run(batch_suite());
}
