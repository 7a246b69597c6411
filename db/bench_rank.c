/* bench_rank: how fast the store answers leaderboard queries with a million players.
 *
 * Build and run: make bench-rank, or build/rel/bench_rank [players [queries]] (defaults:
 * 1000000 2000).
 * The database lives in a fresh directory under /tmp, removed at the end.
 *
 * It creates the schema with store_open, fills players straight through SQLite in large
 * transactions (the store has no bulk path, and a million rounds through store_pvp_round would
 * take far longer and give a narrow spread), adds one guest for every ten players, checks a few
 * ranks against a plain count over the whole table, then times through the store API:
 * store_rank (k = 5) for random players, store_top(10), and batches of store_pvp_round; and, for
 * comparison, the rank as a single count over the board index without the histogram.
 * Ratings are roughly normal around 1200 with a spread of 250 (a sum of twelve uniforms), and
 * rated_at is a random permutation, as after a long history of rounds.
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#define FILL_TXN 100000 /* players per fill transaction */
#define PVP_BATCHES 200
#define PVP_PER_BATCH 50

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

/* xorshift64*: fast, reproducible, good enough to spread ratings. */
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

static double uniform(void)
{
    return (double)(rng() >> 11) / 9007199254740992.0;
}

/* Sum of twelve uniforms minus six: mean 0, variance 1, within +-6. */
static double normalish(void)
{
    double s = 0;

    for (int i = 0; i < 12; i++) {
        s += uniform();
    }
    return s - 6.0;
}

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void name_of(char *buf, size_t cap, long i)
{
    snprintf(buf, cap, "p%07ld", i);
}

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, msg ? msg : "failed");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* One player row; name NULL for a guest. */
static int insert_player(sqlite3_stmt *ins, const char *name, long rated_at)
{
    static const char letters[] = "WLD";
    char form[STORE_FORM_MAX + 1];
    int rated = 1 + (int)(rng() % 400);
    int wins = (int)(rng() % (rated + 1));
    int losses = (int)(rng() % (rated - wins + 1));
    int bot = (int)(rng() % 50);

    for (int i = 0; i < STORE_FORM_MAX; i++) {
        form[i] = letters[rng() % 3];
    }
    form[rated < STORE_FORM_MAX ? rated : STORE_FORM_MAX] = '\0';
    if (name != NULL) {
        sqlite3_bind_text(ins, 1, name, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(ins, 1);
    }
    sqlite3_bind_int(ins, 2, wins);
    sqlite3_bind_int(ins, 3, losses);
    sqlite3_bind_int(ins, 4, rated - wins - losses);
    sqlite3_bind_int(ins, 5, rated + bot);
    sqlite3_bind_double(ins, 6, 1200.0 + 250.0 * normalish());
    sqlite3_bind_int(ins, 7, rated);
    sqlite3_bind_int64(ins, 8, rated_at);
    sqlite3_bind_text(ins, 9, form, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(ins) != SQLITE_DONE) {
        return -1;
    }
    sqlite3_reset(ins);
    return 0;
}

/* A random permutation of 1..n, for rated_at. */
static long *permutation(long n)
{
    long *p = malloc(sizeof(*p) * (size_t)n);

    if (p == NULL) {
        return NULL;
    }
    for (long i = 0; i < n; i++) {
        p[i] = i + 1;
    }
    for (long i = n - 1; i > 0; i--) {
        long j = (long)(rng() % (uint64_t)(i + 1));
        long t = p[i];

        p[i] = p[j];
        p[j] = t;
    }
    return p;
}

static int fill(sqlite3 *db, long players)
{
    const char *sql = "INSERT INTO players(name, wins, losses, draws, rounds, rating, rated,"
                      " rated_at, form, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0)";
    sqlite3_stmt *ins = NULL;
    long *at = permutation(players);
    char name[24];
    int rc = -1;

    if (at == NULL || sqlite3_prepare_v2(db, sql, -1, &ins, NULL) != SQLITE_OK) {
        goto out;
    }
    for (long i = 0; i < players; i++) {
        if (i % FILL_TXN == 0 && exec(db, i == 0 ? "BEGIN" : "COMMIT; BEGIN") != 0) {
            goto out;
        }
        name_of(name, sizeof(name), i);
        if (insert_player(ins, name, at[i]) != 0 ||
            (i % 10 == 0 && insert_player(ins, NULL, 0) != 0)) {
            fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
            goto out;
        }
    }
    rc = exec(db, "COMMIT");
out:
    sqlite3_finalize(ins);
    free(at);
    return rc;
}

/* The rank by the definition, counting over the whole table. */
static long slow_rank(sqlite3 *db, const char *name)
{
    const char *sql =
        "SELECT count(*) + 1 FROM players p, players me WHERE me.name = ?1"
        " AND p.name IS NOT NULL AND p.rated > 0 AND (p.rating > me.rating"
        " OR (p.rating = me.rating AND (p.rated_at < me.rated_at"
        " OR (p.rated_at = me.rated_at AND p.id < me.id))))";
    sqlite3_stmt *s = NULL;
    long rank = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
        rank = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    }
    sqlite3_finalize(s);
    return rank;
}

static int check_ranks(struct store *st, sqlite3 *db, long players)
{
    struct board_row rows[2 * 5 + 1];
    char name[24], err[256];
    int self;

    for (int i = 0; i < 10; i++) {
        long want, got;

        name_of(name, sizeof(name), (long)(rng() % (uint64_t)players));
        want = slow_rank(db, name);
        if (store_rank(st, name, 5, rows, &self, err, sizeof(err)) <= 0) {
            fprintf(stderr, "rank %s: %s\n", name, err);
            return -1;
        }
        got = (long)rows[self].rank;
        if (got != want) {
            fprintf(stderr, "rank of %s: store says %ld, count says %ld\n", name, got, want);
            return -1;
        }
    }
    printf("ranks of 10 random players agree with a full count\n");
    return 0;
}

static void report(const char *what, double *us, int n)
{
    double sum = 0;

    qsort(us, (size_t)n, sizeof(*us), cmp_double);
    for (int i = 0; i < n; i++) {
        sum += us[i];
    }
    printf("%-28s n=%d mean %.1f us, p50 %.1f us, p99 %.1f us, max %.1f us\n", what, n, sum / n,
           us[n / 2], us[(int)(n * 0.99)], us[n - 1]);
}

static int time_rank(struct store *st, long players, int queries)
{
    struct board_row rows[2 * 5 + 1];
    double *us = malloc(sizeof(*us) * (size_t)queries);
    char name[24], err[256];
    int self;

    if (us == NULL) {
        return -1;
    }
    for (int i = 0; i < queries; i++) {
        double t0;

        name_of(name, sizeof(name), (long)(rng() % (uint64_t)players));
        t0 = now_us();
        if (store_rank(st, name, 5, rows, &self, err, sizeof(err)) <= 0) {
            fprintf(stderr, "rank %s: %s\n", name, err);
            free(us);
            return -1;
        }
        us[i] = now_us() - t0;
    }
    report("store_rank(k=5)", us, queries);
    free(us);
    return 0;
}

/* What the histogram saves: the same rank as one count over the board index, which walks every
 * player ahead. Timed on the bench's own connection, for comparison only. */
static int time_plain_count(sqlite3 *db, long players, int queries)
{
    const char *sql =
        "SELECT count(*) + 1 FROM players WHERE name IS NOT NULL AND rated > 0 AND rating >="
        " (SELECT rating FROM players WHERE name = ?1)";
    double *us = malloc(sizeof(*us) * (size_t)queries);
    sqlite3_stmt *s = NULL;
    char name[24];
    int rc = -1;

    if (us == NULL || sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        goto out;
    }
    for (int i = 0; i < queries; i++) {
        double t0;

        name_of(name, sizeof(name), (long)(rng() % (uint64_t)players));
        t0 = now_us();
        sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(s) != SQLITE_ROW) {
            goto out;
        }
        sqlite3_reset(s);
        us[i] = now_us() - t0;
    }
    report("plain count (no histogram)", us, queries);
    rc = 0;
out:
    sqlite3_finalize(s);
    free(us);
    return rc;
}

static int time_top(struct store *st)
{
    struct board_row rows[10];
    double us[1000];
    char err[256];

    for (int i = 0; i < 1000; i++) {
        double t0 = now_us();

        if (store_top(st, 10, rows, err, sizeof(err)) != 10) {
            fprintf(stderr, "top: %s\n", err);
            return -1;
        }
        us[i] = now_us() - t0;
    }
    report("store_top(10)", us, 1000);
    printf("top 3: %s %.1f, %s %.1f, %s %.1f\n", rows[0].name, rows[0].rating, rows[1].name,
           rows[1].rating, rows[2].name, rows[2].rating);
    return 0;
}

/* Rounds between random players, PVP_PER_BATCH to a batch, timed per batch including commit. */
static int time_pvp(struct store *st, long players)
{
    static const char outcomes[] = "WLD";
    double us[PVP_BATCHES];
    char name[24], err[256];

    for (int i = 0; i < PVP_BATCHES; i++) {
        int64_t ids[2 * PVP_PER_BATCH];
        double t0;

        for (int j = 0; j < 2 * PVP_PER_BATCH; j++) {
            name_of(name, sizeof(name), (long)(rng() % (uint64_t)players));
            ids[j] = store_player(st, name, err, sizeof(err));
        }
        t0 = now_us();
        if (store_begin(st, err, sizeof(err)) != 0) {
            goto fail;
        }
        for (int j = 0; j < PVP_PER_BATCH; j++) {
            if (ids[2 * j] != ids[2 * j + 1] &&
                store_pvp_round(st, ids[2 * j], ids[2 * j + 1], 2, 1, outcomes[rng() % 3], 0, NULL,
                                NULL, err, sizeof(err)) != 0) {
                goto fail;
            }
        }
        if (store_commit(st, err, sizeof(err)) != 0) {
            goto fail;
        }
        us[i] = now_us() - t0;
    }
    report("batch of 50 pvp rounds", us, PVP_BATCHES);
    return 0;
fail:
    fprintf(stderr, "pvp: %s\n", err);
    store_rollback(st);
    return -1;
}

static int run(const char *path, long players, int queries)
{
    static char plan[8192];
    char err[256];
    sqlite3 *db = NULL;
    struct store *st;
    double t0;
    int rc = -1;

    st = store_open(path, 0, err, sizeof(err));
    if (st == NULL) {
        fprintf(stderr, "store_open: %s\n", err);
        return -1;
    }
    store_close(st);
    t0 = now_us();
    if (sqlite3_open(path, &db) != SQLITE_OK || exec(db, "PRAGMA synchronous = OFF") != 0 ||
        fill(db, players) != 0) {
        goto out;
    }
    printf("filled %ld players and %ld guests in %.1f s\n", players, (players + 9) / 10,
           (now_us() - t0) / 1e6);
    st = store_open(path, 0, err, sizeof(err));
    if (st == NULL || store_plan(st, plan, sizeof(plan), err, sizeof(err)) != 0) {
        fprintf(stderr, "store: %s\n", err);
        goto out;
    }
    printf("query plans:\n%s", plan);
    if (check_ranks(st, db, players) == 0 && time_rank(st, players, queries) == 0 &&
        time_plain_count(db, players, queries / 10 + 1) == 0 && time_top(st) == 0 &&
        time_pvp(st, players) == 0) {
        rc = 0;
    }
out:
    if (rc != 0 && db != NULL) {
        fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
    }
    store_close(st);
    sqlite3_close(db);
    return rc;
}

static void remove_db(const char *dir, const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    char file[256];

    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
        unlink(file);
    }
    rmdir(dir);
}

int main(int argc, char **argv)
{
    long players = argc > 1 ? atol(argv[1]) : 1000000;
    int queries = argc > 2 ? atoi(argv[2]) : 2000;
    char dir[] = "/tmp/arcade-bench-XXXXXX";
    char path[sizeof(dir) + 16];
    int rc;

    if (players < 10 || queries < 1) {
        fprintf(stderr, "usage: bench_rank [players >= 10 [queries >= 1]]\n");
        return 2;
    }
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/bench.db", dir);
    printf("database %s, SQLite %s\n", path, sqlite3_libversion());
    rc = run(path, players, queries);
    remove_db(dir, path);
    return rc == 0 ? 0 : 1;
}
