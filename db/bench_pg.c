/* bench_pg: the PostgreSQL engine with a million rated players.
 *
 * Build and run: make bench-pg, or build/rel/bench_pg [players [queries]] (defaults: 1000000
 * 200), with ARCADE_TEST_PG naming a maintenance database whose role may CREATE DATABASE (as for
 * test_pg). It creates arcade_bench_<pid>, fills it, measures, and drops it.
 *
 * The schema comes from pg_open; the players are filled straight through SQL (INSERT ... SELECT
 * generate_series): ratings roughly normal around 1200 with a spread of 250 (a sum of twelve
 * uniforms), rated 1 to 200 rounds, one guest for every ten players, and as many rounds as players
 * between random pairs (for the history's indexes). Then the buckets are rebuilt and the tables
 * vacuumed and analyzed. Then:
 * - EXPLAIN (ANALYZE, BUFFERS) of the engine's own statements (pg_statement) on a connection of
 *   the bench's own, each run a few times first so that the plan shown is the one a long-lived
 *   connection uses; and of a rank counted over everyone ahead, the plain way, for comparison.
 * - Round trips through the engine on a libev loop, one request at a time: pg_top(100), pg_rank
 *   (k = 5) of the first, the middle and the last player, pg_row, pg_history(100). Median, 99th
 *   percentile and mean, in microseconds.
 * - The same requests all in flight at once (the pipeline), requests per second.
 * - Rated rounds through pg_commit between random pairs, one commit pending at a time as the
 *   server does, in batches of 1, 16 and 256 rounds, for BENCH_SECS each: rounds per second.
 */
#include <ev.h>
#include <postgresql/libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "pg.h"

#define BENCH_SECS 3.0
#define WARM 6      /* executions before EXPLAIN: after five, PostgreSQL may switch to a generic plan */

static struct ev_loop *loop;
static PGconn *raw;

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int exec(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

    if (!ok) {
        fprintf(stderr, "%.120s: %s", sql, PQresultErrorMessage(res));
    }
    PQclear(res);
    return ok ? 0 : -1;
}

/* The first column of the first row, as text. */
static int query_text(const char *sql, char *out, size_t cap)
{
    PGresult *res = PQexec(raw, sql);
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0;

    if (ok) {
        snprintf(out, cap, "%s", PQgetvalue(res, 0, 0));
    } else {
        fprintf(stderr, "%.120s: %s", sql, PQresultErrorMessage(res));
    }
    PQclear(res);
    return ok ? 0 : -1;
}

static int fill(long players)
{
    char sql[2048];
    double t0 = now_us();

    snprintf(sql, sizeof(sql),
             "SELECT setseed(0.42);"
             "INSERT INTO players (name, created, rating, rated, rated_at, wins, losses, draws, rounds, form)"
             " SELECT 'p' || g, 0, 1200 + 250 * (random() + random() + random() + random() + random()"
             " + random() + random() + random() + random() + random() + random() + random() - 6),"
             " 1 + g %% 200, (g::bigint * 7919) %% %ld, g %% 90, g %% 80, g %% 30, g %% 90 + g %% 80 + g %% 30,"
             " 'WLDWL'"
             " FROM generate_series(1, %ld) AS g;"
             "INSERT INTO players (name, created) SELECT NULL, 0 FROM generate_series(1, %ld);",
             players, players, (players + 9) / 10);
    if (exec(raw, sql) != 0) {
        return -1;
    }
    snprintf(sql, sizeof(sql),
             "INSERT INTO rounds (at, a, b, move_a, move_b, outcome, timeout, rating_a, rating_b)"
             " SELECT 1700000000000 + g, x.a, x.b, 1, 2, 'W', false, 1200 + g %% 100, 1200 - g %% 100"
             " FROM (SELECT g, f.id + (hashint4(g) & 2147483647) %% %ld AS a,"
             " f.id + (hashint4(g + 1) & 2147483647) %% %ld AS b"
             " FROM generate_series(1, %ld) AS g,"
             " (SELECT min(id) AS id FROM players WHERE name IS NOT NULL) AS f) AS x WHERE x.a <> x.b",
             players, players, players);
    if (exec(raw, sql) != 0 || exec(raw, "SELECT arcade_buckets_rebuild()") != 0 ||
        exec(raw, "VACUUM ANALYZE players") != 0 || exec(raw, "VACUUM ANALYZE rounds") != 0 ||
        exec(raw, "VACUUM ANALYZE rating_buckets") != 0) {
        return -1;
    }
    printf("filled %ld players, %ld guests and about %ld rounds in %.1f s\n", players, (players + 9) / 10,
           players, (now_us() - t0) / 1e6);
    return 0;
}

/* EXPLAIN (ANALYZE, BUFFERS) of sql, run WARM times first. */
static void explain(const char *title, const char *sql)
{
    char text[1024];

    for (int i = 0; i < WARM; i++) {
        PQclear(PQexec(raw, sql));
    }
    snprintf(text, sizeof(text), "EXPLAIN (ANALYZE, BUFFERS) %s", sql);
    PGresult *res = PQexec(raw, text);
    printf("\n-- %s: %s\n", title, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        printf("%s", PQresultErrorMessage(res));
    }
    for (int i = 0; i < PQntuples(res); i++) {
        printf("%s\n", PQgetvalue(res, i, 0));
    }
    PQclear(res);
}

static int prepare(const char *name)
{
    PGresult *res = PQprepare(raw, name, pg_statement(name), 0, NULL);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

    if (!ok) {
        fprintf(stderr, "prepare %s: %s", name, PQresultErrorMessage(res));
    }
    PQclear(res);
    return ok ? 0 : -1;
}

struct call {
    struct db_req r;
    int done;
    struct board_row rows[2 * STORE_AROUND_MAX + 1];
    struct store_rating points[STORE_HISTORY_MAX];
};

static int pending;

static void on_done(struct db_req *r)
{
    ((struct call *)r->data)->done = 1;
    pending--;
}

static void call_init(struct call *c)
{
    memset(c, 0, sizeof(*c));
    c->r.done = on_done;
    c->r.data = c;
    c->r.rows = c->rows;
    c->r.points = c->points;
}

/* Wait for c's answer; returns its result. */
static int64_t wait_call(struct call *c, int state)
{
    if (state == DB_PENDING) {
        while (!c->done) {
            ev_run(loop, EVRUN_ONCE);
        }
    }
    if (c->r.result < 0) {
        fprintf(stderr, "request failed: %s\n", c->r.err);
    }
    return c->r.result;
}

enum op { OP_TOP, OP_RANK, OP_ROW, OP_HISTORY };

static int send_op(struct pg *p, struct call *c, enum op op, const char *name, int64_t id)
{
    call_init(c);
    switch (op) {
    case OP_TOP:
        return pg_top(p, &c->r, STORE_TOP_MAX);
    case OP_RANK:
        return pg_rank(p, &c->r, name, 5);
    case OP_ROW:
        return pg_row(p, &c->r, name);
    default:
        return pg_history(p, &c->r, id, STORE_HISTORY_MAX);
    }
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* queries round trips of op, one at a time, then all at once. */
static int time_op(struct pg *p, const char *title, enum op op, const char *name, int64_t id, int queries)
{
    static double us[100000];
    static struct call calls[PG_PENDING_MAX];
    double sum = 0;

    for (int i = 0; i < queries; i++) {
        double t0 = now_us();
        if (wait_call(&calls[0], send_op(p, &calls[0], op, name, id)) < 0) {
            return -1;
        }
        us[i] = now_us() - t0;
        sum += us[i];
    }
    qsort(us, (size_t)queries, sizeof(us[0]), by_value);
    int many = queries < PG_PENDING_MAX ? queries : PG_PENDING_MAX;
    double t0 = now_us();
    pending = 0;
    for (int i = 0; i < many; i++) {
        if (send_op(p, &calls[i], op, name, id) != DB_PENDING) {
            fprintf(stderr, "%s: refused: %s\n", title, calls[i].r.err);
            return -1;
        }
        pending++;
    }
    while (pending > 0) {
        ev_run(loop, EVRUN_ONCE);
    }
    double pipelined = now_us() - t0;
    printf("%-28s median %7.0f us  p99 %7.0f us  mean %7.0f us  | %d in flight: %7.0f requests/s\n", title,
           us[queries / 2], us[queries * 99 / 100], sum / queries, many, many / (pipelined / 1e6));
    return 0;
}

/* Rated rounds between random players, batch at a time, for BENCH_SECS. */
static int time_commits(struct pg *p, int64_t first, long players, int batch)
{
    static struct db_round rs[256];
    struct call c;
    long rounds = 0, commits = 0;
    double t0 = now_us(), longest = 0;
    unsigned seed = (unsigned)batch * 2654435761u;

    while (now_us() - t0 < BENCH_SECS * 1e6) {
        for (int i = 0; i < batch; i++) {
            seed = seed * 1103515245 + 12345;
            int64_t a = first + (int64_t)(seed % (unsigned)players);
            seed = seed * 1103515245 + 12345;
            int64_t b = first + (int64_t)(seed % (unsigned)players);
            b = b == a ? (b == first ? b + 1 : b - 1) : b;
            rs[i] = (struct db_round){a, b, 1 + (int)(seed % 3), 1 + (int)((seed >> 4) % 3),
                                      "WLD"[(seed >> 8) % 3], 0};
        }
        double c0 = now_us();
        call_init(&c);
        if (wait_call(&c, pg_commit(p, &c.r, NULL, 0, rs, (size_t)batch)) != 0) {
            return -1;
        }
        double took = now_us() - c0;
        longest = took > longest ? took : longest;
        rounds += batch;
        commits++;
    }
    double secs = (now_us() - t0) / 1e6;
    printf("batches of %3d: %6ld rounds in %.1f s: %7.0f rounds/s, %6.0f commits/s, mean commit %6.0f us,"
           " longest %6.0f us\n",
           batch, rounds, secs, rounds / secs, commits / secs, secs * 1e6 / commits, longest);
    return 0;
}

int main(int argc, char **argv)
{
    long players = argc > 1 ? atol(argv[1]) : 1000000;
    int queries = argc > 2 ? atoi(argv[2]) : 200;
    const char *base = getenv("ARCADE_TEST_PG");
    char name[64], uri[512], sql[1024], err[DB_ERR_MAX];
    char top[64], middle[64], bottom[64], text[64];
    int rc = 1;

    if (base == NULL || !pg_is_uri(base) || players < 10 || queries < 1 || queries > 100000) {
        fprintf(stderr, "usage: ARCADE_TEST_PG=postgresql://... bench_pg"
                        " [players >= 10 [queries 1..100000]]\n");
        return 2;
    }
    PGconn *maint = PQconnectdb(base);
    snprintf(name, sizeof(name), "arcade_bench_%d", (int)getpid());
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    if (PQstatus(maint) != CONNECTION_OK || exec(maint, sql) != 0) {
        fprintf(stderr, "maintenance database: %s", PQerrorMessage(maint));
        return 1;
    }
    const char *authority = strstr(base, "://") + 3;
    const char *query = strchr(authority, '?');
    int head = (int)(strcspn(authority, "/?") + (size_t)(authority - base));
    snprintf(uri, sizeof(uri), "%.*s/%s%s", head, base, name, query != NULL ? query : "");
    loop = ev_default_loop(0);
    struct pg *p = pg_open(uri, loop, err, sizeof(err));
    raw = PQconnectdb(uri);
    if (p == NULL || PQstatus(raw) != CONNECTION_OK) {
        fprintf(stderr, "open: %s\n", p == NULL ? err : PQerrorMessage(raw));
        goto out;
    }
    printf("database %s, PostgreSQL %d\n", name, PQserverVersion(raw));
    if (fill(players) != 0) {
        goto out;
    }
#define BOARD_ORDER "FROM players WHERE name IS NOT NULL AND rated > 0 ORDER BY rating DESC, rated_at, id"
    snprintf(sql, sizeof(sql), "SELECT name " BOARD_ORDER " LIMIT 1 OFFSET %ld", players / 2);
    if (query_text("SELECT name " BOARD_ORDER " LIMIT 1", top, sizeof(top)) != 0 ||
        query_text(sql, middle, sizeof(middle)) != 0) {
        goto out;
    }
    snprintf(sql, sizeof(sql), "SELECT name " BOARD_ORDER " LIMIT 1 OFFSET %ld", players - 1);
    if (query_text(sql, bottom, sizeof(bottom)) != 0 ||
        query_text("SELECT a FROM rounds GROUP BY a ORDER BY count(*) DESC LIMIT 1", text, sizeof(text)) !=
            0) {
        goto out;
    }
    int64_t busiest = atoll(text);
    if (query_text("SELECT min(id) FROM players WHERE name IS NOT NULL", text, sizeof(text)) != 0) {
        goto out;
    }
    int64_t first = atoll(text);

    printf("\n== plans (EXPLAIN (ANALYZE, BUFFERS), after %d runs)\n", WARM);
    static const char *const names[] = {"arcade_top", "arcade_rank", "arcade_row", "arcade_history"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (prepare(names[i]) != 0) {
            goto out;
        }
    }
    explain("top", "EXECUTE arcade_top(100)");
    const char *who[3] = {top, middle, bottom};
    const char *where[3] = {"first", "middle", "last"};
    for (int i = 0; i < 3; i++) {
        char title[64];
        snprintf(title, sizeof(title), "rank of the %s", where[i]);
        snprintf(sql, sizeof(sql), "EXECUTE arcade_rank('%s', 5)", who[i]);
        explain(title, sql);
    }
    snprintf(sql, sizeof(sql), "EXECUTE arcade_row('%s')", middle);
    explain("row of the middle", sql);
    snprintf(sql, sizeof(sql), "EXECUTE arcade_history(%lld, 100)", (long long)busiest);
    explain("history", sql);
    for (int i = 1; i < 3; i++) {
        char title[64];
        snprintf(title, sizeof(title), "plain count: rank of the %s", where[i]);
        snprintf(sql, sizeof(sql),
                 "SELECT 1 + count(*) FROM players AS q, players AS m WHERE m.name = '%s'"
                 " AND q.name IS NOT NULL AND q.rated > 0 AND (q.rating > m.rating OR (q.rating = m.rating"
                 " AND (q.rated_at, q.id) < (m.rated_at, m.id)))",
                 who[i]);
        explain(title, sql);
    }

    printf("\n== round trips through the engine (%d each)\n", queries);
    char title[64];
    if (time_op(p, "pg_top(100)", OP_TOP, NULL, 0, queries) != 0) {
        goto out;
    }
    for (int i = 0; i < 3; i++) {
        snprintf(title, sizeof(title), "pg_rank(%s, 5)", where[i]);
        if (time_op(p, title, OP_RANK, who[i], 0, queries) != 0) {
            goto out;
        }
    }
    if (time_op(p, "pg_row(middle)", OP_ROW, middle, 0, queries) != 0 ||
        time_op(p, "pg_history(100)", OP_HISTORY, NULL, busiest, queries) != 0) {
        goto out;
    }

    printf("\n== rated rounds through pg_commit, one commit pending at a time, %.0f s each\n", BENCH_SECS);
    static const int batches[] = {1, 16, 256};
    for (size_t i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
        if (time_commits(p, first, players, batches[i]) != 0) {
            goto out;
        }
    }
    rc = 0;
out:
    pg_close(p);
    PQfinish(raw);
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    exec(maint, sql);
    PQfinish(maint);
    return rc;
}
