/* server/web without sockets of its own: every route and error against a real temporary store,
 * bodies checked to the byte and as JSON; /metrics read back as Prometheus' text format; counters
 * that move when the real protocol code plays rounds and the group commit stores them. */
#include <check.h>
#include <ev.h>
#include <signal.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account.h"
#include "batch.h"
#include "db.h"
#include "conn.h"
#include "db.h"
#include "expect.h"
#include "game.h"
#include "log.h"
#include "match.h"
#include "play.h"
#include "session.h"
#include "short.h"
#include "stats.h"
#include "store.h"
#include "suite.h"
#include "web.h"

#define JSON "application/json"

static char dir[128];
static char path[160];
static char err[256];

static struct db *database;
static struct store *st;        /* database's: the rows the tests write */
static struct game game;
static struct conn_pool pool;
static struct web *web;

/* The last reply, its body NUL-terminated. */
static int routed;
static int status;
static const char *type;
static char *body;

static size_t first_input(struct conn *c, const char *buf, size_t len, int more, int eof)
{
    (void)c;
    (void)buf;
    (void)more;
    (void)eof;
    return len;
}

static const struct conn_ops first_ops = { "new", first_input, NULL };

static void open_all(const char *db)
{
    memset(&game, 0, sizeof(game));
    game.loop = EV_DEFAULT;
    database = db_open(db, 0, game.loop, err, sizeof(err));
    ck_assert_msg(database != NULL, "db_open: %s", err);
    st = db_sqlite(database);
    game.db = database;
    game.move_timeout = game.queue_timeout = game.long_idle = 30;
    ck_assert_int_eq(account_init(&game), 0);
    conn_pool_init(&pool, game.loop, 0, 1 << 18, 1 << 26, &first_ops, 10);
    web = web_new(database, &game, &pool);
    ck_assert_ptr_nonnull(web);
}

static void setup(void)
{
    ck_assert_int_eq(suite_mkdtemp(dir, sizeof(dir), "web"), 0);
    snprintf(path, sizeof(path), "%s/arcade.db", dir);
    open_all(path);
}

static void teardown(void)
{
    for (struct conn *c = pool.all; c != NULL; c = c->next) {
        conn_close(c, "test over");
    }
    conn_pool_tell_gone(&pool);
    batch_commit(&game.batch, database, ev_now(game.loop), 0);
    conn_pool_flush(&pool);
    play_shutdown(&game);
    match_reap(&game);
    session_free_all(&game);
    conn_pool_free(&pool);
    batch_free(&game.batch);
    account_free(&game);
    web_free(web);
    db_close(database);
    free(body);
    body = NULL;
}

/* GET target ("/path?query"): the reply into routed, status, type and body. */
static void get(const char *target)
{
    struct web_reply r;
    const char *q = strchr(target, '?');
    size_t plen = q != NULL ? (size_t)(q - target) : strlen(target);
    const char *query = q != NULL ? q + 1 : "";

    struct web_ask *wait = NULL;
    routed = web_route(web, target, plen, query, strlen(query), &r, NULL, NULL, &wait);
    ck_assert_int_ne(routed, WEB_LATER);    /* SQLite answers at once */
    status = r.status;
    type = r.type;
    free(body);
    body = malloc(r.body.len + 1);
    ck_assert_ptr_nonnull(body);
    memcpy(body, r.body.data != NULL ? r.body.data : "", r.body.len);
    body[r.body.len] = '\0';
    buf_free(&r.body);
}

/* ---- a small JSON checker: 1 when the whole of s is one JSON value ---- */

static const char *json_value(const char *p);

static const char *json_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
        p++;
    }
    return p;
}

static const char *json_str(const char *p)
{
    if (*p++ != '"') {
        return NULL;
    }
    while (*p != '"') {
        if ((unsigned char)*p < 0x20) {
            return NULL;
        }
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++) {
                    if (strchr("0123456789abcdefABCDEF", p[i]) == NULL || p[i] == '\0') {
                        return NULL;
                    }
                }
                p += 4;
            } else if (*p == '\0' || strchr("\"\\/bfnrt", *p) == NULL) {
                return NULL;
            }
        }
        p++;
    }
    return p + 1;
}

static const char *json_list(const char *p, char close, int members)
{
    p = json_ws(p + 1);
    if (*p == close) {
        return p + 1;
    }
    for (;;) {
        if (members) {
            if ((p = json_str(json_ws(p))) == NULL || *(p = json_ws(p)) != ':') {
                return NULL;
            }
            p++;
        }
        if ((p = json_value(p)) == NULL) {
            return NULL;
        }
        if (*p == close) {
            return p + 1;
        }
        if (*p++ != ',') {
            return NULL;
        }
    }
}

static const char *json_value(const char *p)
{
    p = json_ws(p);
    if (*p == '{' || *p == '[') {
        p = json_list(p, *p == '{' ? '}' : ']', *p == '{');
    } else if (*p == '"') {
        p = json_str(p);
    } else if (strncmp(p, "true", 4) == 0 || strncmp(p, "null", 4) == 0) {
        p += 4;
    } else if (strncmp(p, "false", 5) == 0) {
        p += 5;
    } else {
        char *end;
        if (*p != '-' && (*p < '0' || *p > '9')) {
            return NULL;
        }
        strtod(p, &end);
        p = end;
    }
    return p != NULL ? json_ws(p) : NULL;
}

static int is_json(const char *s)
{
    const char *end = json_value(s);
    return end != NULL && *end == '\0';
}

START_TEST(test_json_checker_refuses_bad_json)
{
    ck_assert(is_json("{\"a\":[1,-2.5e3,true,null,\"x\\u00e9\\n\"],\"b\":{}}"));
    ck_assert(!is_json("{\"a\":1,}"));
    ck_assert(!is_json("{\"a\"1}"));
    ck_assert(!is_json("[\"\x01\"]"));
    ck_assert(!is_json("[\"\\x\"]"));
    ck_assert(!is_json("{\"a\":1} x"));
}
END_TEST

/* GET target and expect this status and JSON body, to the byte. */
#define EXPECT_JSON(target, code, json)                                                             \
    do {                                                                                            \
        get(target);                                                                                \
        ck_assert_msg(routed == 1, "%s: not routed", (target));                                    \
        ck_assert_msg(status == (code), "%s: status %d, body %s", (target), status, body);          \
        ck_assert_str_eq(type, JSON);                                                               \
        ck_assert_str_eq(body, (json));                                                             \
        ck_assert_msg(is_json(body), "%s: not JSON: %s", (target), body);                           \
    } while (0)

/* ---- a small board: ana beat bo once; cy played the bot only ---- */

static int64_t ana, bo, cy;

static int64_t player(const char *name)
{
    int64_t id = store_player(st, name, err, sizeof(err));
    ck_assert_msg(id > 0, "store_player %s: %s", name, err);
    return id;
}

static void board(void)
{
    ana = player("ana");
    bo = player("bo");
    cy = player("cy");
    ck_assert_int_eq(store_begin(st, err, sizeof(err)), 0);
    ck_assert_int_eq(store_pvp_round(st, ana, bo, 2, 1, 'W', 0, NULL, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(store_add_totals(st, cy, 2, 1, 0, err, sizeof(err)), 0);
    ck_assert_msg(store_commit(st, err, sizeof(err)) == 0, "commit: %s", err);
}

#define ANA_ROW "{\"rank\":1,\"name\":\"ana\",\"rating\":1220,\"provisional\":true,\"wins\":1,\"losses\":0,\"draws\":0,\"rounds\":1,\"form\":\"W\"}"
#define BO_ROW "{\"rank\":2,\"name\":\"bo\",\"rating\":1180,\"provisional\":true,\"wins\":0,\"losses\":1,\"draws\":0,\"rounds\":1,\"form\":\"L\"}"

START_TEST(test_top)
{
    EXPECT_JSON("/api/top", 200, "{\"players\":[]}");
    board();
    EXPECT_JSON("/api/top", 200, "{\"players\":[" ANA_ROW "," BO_ROW "]}");
    EXPECT_JSON("/api/top?n=1", 200, "{\"players\":[" ANA_ROW "]}");
    EXPECT_JSON("/api/top?x=5&n=100&n=1", 200, "{\"players\":[" ANA_ROW "," BO_ROW "]}");
    EXPECT_JSON("/api/top?n=%31", 200, "{\"players\":[" ANA_ROW "]}");
    EXPECT_JSON("/api/top?nn=1", 200, "{\"players\":[" ANA_ROW "," BO_ROW "]}");
}
END_TEST

/* The same reasons as the short protocol's t, with 400. */
START_TEST(test_top_bad_counts)
{
    static const char *const bad[] = { "n=0", "n=101", "n=x", "n=", "n=-1", "n=0001", "n=10000000", "n=1%00", "n=%20" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char target[64];
        snprintf(target, sizeof(target), "/api/top?%s", bad[i]);
        EXPECT_JSON(target, 400, "{\"error\":\"bad count\"}");
    }
    EXPECT_JSON("/api/top?n=%zz", 400, "{\"error\":\"bad query\"}");
    EXPECT_JSON("/api/top?n=%4", 400, "{\"error\":\"bad query\"}");
    EXPECT_JSON("/api/top?n=1%", 400, "{\"error\":\"bad query\"}");
}
END_TEST

START_TEST(test_rank)
{
    board();
    EXPECT_JSON("/api/rank/bo", 200, "{\"players\":[" ANA_ROW "," BO_ROW "]}");
    EXPECT_JSON("/api/rank/bo?k=0", 200, "{\"players\":[" BO_ROW "]}");
    EXPECT_JSON("/api/rank/ANA?k=50", 200, "{\"players\":[" ANA_ROW "," BO_ROW "]}");
    EXPECT_JSON("/api/rank/%41na?k=0", 200, "{\"players\":[" ANA_ROW "]}");
    EXPECT_JSON("/api/rank/nobody", 404, "{\"error\":\"unknown player\"}");
    /* Bot rounds only: known, with its totals, and told why it is not on the board. */
    EXPECT_JSON("/api/rank/cy", 404,
                "{\"error\":\"not ranked\",\"why\":\"only players with a rated round (a round against a person) are "
                "on the leaderboard\",\"name\":\"cy\",\"wins\":2,\"losses\":1,\"draws\":0,\"rounds\":3}");
    EXPECT_JSON("/api/rank/bo?k=51", 400, "{\"error\":\"bad count\"}");
    EXPECT_JSON("/api/rank/bo?k=", 400, "{\"error\":\"bad count\"}");
    EXPECT_JSON("/api/rank/bo?k=%", 400, "{\"error\":\"bad query\"}");
    static const char *const names[] = {
        "/api/rank/", "/api/rank/a!b", "/api/rank/ana%20bo", "/api/rank/ana/x", "/api/rank/%00",
        "/api/rank/abcdefghijklmnopqrstuvwxyz0123456", "/api/rank/%zz",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        EXPECT_JSON(names[i], 400, "{\"error\":\"bad name\"}");
    }
    EXPECT_JSON("/api/rank/abcdefghijklmnopqrstuvwxyz012345", 404, "{\"error\":\"unknown player\"}");
}
END_TEST

START_TEST(test_players)
{
    struct store_rating points[STORE_HISTORY_MAX];
    char expect[512];

    board();
    ck_assert_int_eq(store_history(st, ana, STORE_HISTORY_MAX, points, err, sizeof(err)), 1);
    snprintf(expect, sizeof(expect),
             "{\"name\":\"ana\",\"rating\":1220,\"provisional\":true,\"rank\":1,\"wins\":1,\"losses\":0,\"draws\":0,"
             "\"rounds\":1,\"form\":\"W\",\"history\":[{\"at\":%lld,\"rating\":1220}]}",
             (long long)points[0].at);
    EXPECT_JSON("/api/players/Ana", 200, expect);
    EXPECT_JSON("/api/players/cy", 200,
                "{\"name\":\"cy\",\"rating\":1200,\"provisional\":true,\"rank\":null,\"wins\":2,\"losses\":1,"
                "\"draws\":0,\"rounds\":3,\"form\":\"\",\"history\":[]}");
    EXPECT_JSON("/api/players/nobody", 404, "{\"error\":\"unknown player\"}");
    EXPECT_JSON("/api/players/", 400, "{\"error\":\"bad name\"}");
    EXPECT_JSON("/api/players/a%22b", 400, "{\"error\":\"bad name\"}");
}
END_TEST

/* The history is the last 100 ratings, oldest first, the last one the player's rating now. */
START_TEST(test_players_history_is_the_last_hundred)
{
    double after[STORE_HISTORY_MAX + 5];

    board();
    for (int i = 0; i < STORE_HISTORY_MAX + 5; i++) {
        ck_assert_int_eq(store_begin(st, err, sizeof(err)), 0);
        ck_assert_int_eq(store_pvp_round(st, ana, bo, 2, 1, i % 3 == 0 ? 'L' : 'W', 0, &after[i], NULL, err,
                                         sizeof(err)),
                         0);
        ck_assert_int_eq(store_commit(st, err, sizeof(err)), 0);
    }
    get("/api/players/ana");
    ck_assert_int_eq(status, 200);
    ck_assert(is_json(body));
    const char *h = strstr(body, "\"history\":[");
    ck_assert_ptr_nonnull(h);
    int points = 0;
    long long last_at = 0;
    for (const char *p = strstr(h, "{\"at\":"); p != NULL; p = strstr(p + 1, "{\"at\":")) {
        long long at, rating;
        ck_assert_int_eq(sscanf(p, "{\"at\":%lld,\"rating\":%lld}", &at, &rating), 2);
        ck_assert_int_ge(at, last_at);
        last_at = at;
        /* The ratings of the rounds after the first six (one before the loop, five past a hundred). */
        ck_assert_int_eq(rating, (long long)(after[points + 5] + 0.5));
        points++;
    }
    ck_assert_int_eq(points, STORE_HISTORY_MAX);
}
END_TEST

/* The math routes answer what the short protocol answers: the value, or its reason with 400. */
START_TEST(test_math)
{
    static const struct {
        const char *target;
        int status;
        const char *json;
    } cases[] = {
        { "/api/square?n=12", 200, "{\"result\":\"144\"}" },
        { "/api/cube?n=-2", 200, "{\"result\":\"-8\"}" },
        { "/api/fourth?n=1.5", 200, "{\"result\":\"5.0625\"}" },
        { "/api/square?n=0.1", 200, "{\"result\":\"0.01\"}" },
        { "/api/square?n=1e30", 200, "{\"result\":\"1e60\"}" },
        { "/api/square?n=%2B7", 200, "{\"result\":\"49\"}" },
        { "/api/square?n=+7", 200, "{\"result\":\"49\"}" },
        { "/api/square", 400, "{\"error\":\"no number\"}" },
        { "/api/square?n=", 400, "{\"error\":\"no number\"}" },
        { "/api/square?n=12x", 400, "{\"error\":\"junk after number\"}" },
        { "/api/square?n=1%0A", 400, "{\"error\":\"junk after number\"}" },
        { "/api/cube?n=1e1000000000", 400, "{\"error\":\"number too large\"}" },
        { "/api/cube?n=%", 400, "{\"error\":\"bad query\"}" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        EXPECT_JSON(cases[i].target, cases[i].status, cases[i].json);
    }
}
END_TEST

/* The windows a client counts down are the server's own. */
START_TEST(test_settings_are_the_servers_windows)
{
    game.move_timeout = 5;
    game.queue_timeout = 12.5;
    game.long_idle = 300;
    EXPECT_JSON("/api/settings", 200, "{\"move_timeout\":5,\"queue_timeout\":12.5,\"long_idle_timeout\":300}");
}
END_TEST

/* A request line holds 1024 bytes: the op and 1023 of number. */
START_TEST(test_math_line_bound)
{
    static char target[4096], expect[8192];
    char reply[SHORT_REPLY_MAX], line[1 + 1024];
    int n = snprintf(target, sizeof(target), "/api/square?n=");
    memset(target + n, '9', 1023);
    target[n + 1023] = '\0';
    line[0] = 'a';
    memset(line + 1, '9', 1023);
    size_t len = short_reply(line, 1024, reply);
    ck_assert_int_eq(reply[0], 'd');
    snprintf(expect, sizeof(expect), "{\"result\":\"%.*s\"}", (int)len - 2, reply + 1);
    EXPECT_JSON(target, 200, expect);
    strcat(target, "9");
    EXPECT_JSON(target, 400, "{\"error\":\"line too long\"}");
    memset(target + n, '9', 3000);
    target[n + 3000] = '\0';
    EXPECT_JSON(target, 400, "{\"error\":\"line too long\"}");
}
END_TEST

START_TEST(test_routes_not_ours)
{
    static const char *const others[] = { "/", "/ws", "/index.html", "/api", "/apix", "/healthzz", "/metrics/x", "" };
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        get(others[i]);
        ck_assert_msg(routed == 0, "%s routed", others[i]);
        ck_assert_uint_eq(strlen(body), 0);
    }
    EXPECT_JSON("/api/", 404, "{\"error\":\"no such route\"}");
    EXPECT_JSON("/api/top/", 404, "{\"error\":\"no such route\"}");
    EXPECT_JSON("/api/nothing?n=1", 404, "{\"error\":\"no such route\"}");
    EXPECT_JSON("/api/players", 404, "{\"error\":\"no such route\"}");
}
END_TEST

/* ---- health ---- */

static void expect_health(int code, const char *text)
{
    get("/healthz");
    ck_assert_int_eq(routed, 1);
    ck_assert_msg(status == code, "status %d: %s", status, body);
    ck_assert_str_eq(type, "text/plain; charset=utf-8");
    ck_assert_msg(strstr(body, text) != NULL, "%s not in %s", text, body);
    ck_assert_int_eq(body[strlen(body) - 1], '\n');
}

START_TEST(test_health)
{
    sqlite3 *other;

    expect_health(200, "ok\n");
    ck_assert_str_eq(body, "ok\n");
    /* Another process holds the write lock: found by the check itself, nothing waiting yet. */
    ck_assert_int_eq(sqlite3_open(path, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    expect_health(503, "locked");
    ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    expect_health(200, "ok\n");
    /* The probe wrote nothing. */
    ck_assert_int_eq(store_begin(st, err, sizeof(err)), 0);
    store_rollback(st);

    /* The group commit's own state: results waiting for a lock, a recent failed commit. */
    game.batch.locked_since = ev_now(game.loop) - 2;
    expect_health(503, "database locked by another process: results waiting for 2 s");
    game.batch.locked_since = 0;
    game.batch.failed_at = ev_now(game.loop) - 1;
    expect_health(503, "the last commit failed 1 s ago");
    game.batch.failed_at = ev_now(game.loop) - 11;
    expect_health(200, "ok\n");
}
END_TEST

START_TEST(test_health_read_only)
{
    char uri[256];

    teardown();
    snprintf(uri, sizeof(uri), "file:%s?mode=ro", path);
    open_all(uri);
    expect_health(503, "read-only");
}
END_TEST

/* ---- metrics ---- */

/* The value of the sample whose name and labels are exactly key ("name" or "name{l=\"v\"}"). */
static double metric(const char *key)
{
    size_t n = strlen(key);
    for (const char *line = body; *line != '\0'; line = strchr(line, '\n') + 1) {
        if (strncmp(line, key, n) == 0 && line[n] == ' ') {
            return strtod(line + n + 1, NULL);
        }
    }
    ck_abort_msg("no sample %s in\n%s", key, body);
    return -1;
}

static int valid_name(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        int ok = c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9');
        if (!ok) {
            return 0;
        }
    }
    return n > 0;
}

static char why[1024];

/* On cond, the exposition is wrong: say why and return it. */
#define WRONG_IF(cond, ...)                                                                         \
    do {                                                                                            \
        if (cond) {                                                                                 \
            snprintf(why, sizeof(why), __VA_ARGS__);                                                \
            return why;                                                                             \
        }                                                                                           \
    } while (0)

/* Labels "{a=\"x\",le=\"0.5\"}" at *p, moved past them; le's value goes to le. NULL, or why not. */
static const char *labels(const char **at, char *le, size_t cap)
{
    const char *p = *at;
    le[0] = '\0';
    if (*p != '{') {
        return NULL;
    }
    p++;
    while (*p != '}') {
        const char *eq = strchr(p, '=');
        WRONG_IF(eq == NULL || !valid_name(p, (size_t)(eq - p)) || eq[1] != '"', "bad label at %s", p);
        int is_le = eq - p == 2 && strncmp(p, "le", 2) == 0;
        size_t k = 0;
        for (p = eq + 2; *p != '"'; p++) {
            WRONG_IF(*p == '\0' || *p == '\n', "unterminated label value");
            if (*p == '\\') {
                WRONG_IF(p[1] != '\\' && p[1] != '"' && p[1] != 'n', "bad escape in a label");
                p++;
            }
            if (is_le && k + 1 < cap) {
                le[k++] = *p;
                le[k] = '\0';
            }
        }
        p++;
        WRONG_IF(*p != ',' && *p != '}', "labels run on at %s", p);
        p += *p == ',';
    }
    *at = p + 1;
    return NULL;
}

/* The state of the family being read. */
struct family {
    char name[128];
    char type[32];
    int inf, sum;           /* a histogram's +Inf bucket and _sum have come */
    double last_le, last_bucket, inf_count;
};

/* One sample line of family f. NULL, or why it is wrong. */
static const char *sample_line(const char *one, struct family *f)
{
    char name[128], le[32];
    const char *rest;
    char *vend;
    size_t n = strcspn(one, "{ ");

    WRONG_IF(!valid_name(one, n) || n >= sizeof(name), "metric name in %s", one);
    snprintf(name, sizeof(name), "%.*s", (int)n, one);
    rest = one + n;
    if (labels(&rest, le, sizeof(le)) != NULL) {
        return why;
    }
    WRONG_IF(*rest != ' ', "no value in %s", one);
    double v = strtod(rest + 1, &vend);
    WRONG_IF(vend == rest + 1 || *vend != '\0', "value of %s", one);
    WRONG_IF(f->name[0] == '\0', "sample before any TYPE: %s", one);
    if (strcmp(f->type, "histogram") != 0) {
        WRONG_IF(strcmp(name, f->name) != 0, "sample %s under the TYPE of %s", name, f->name);
        WRONG_IF(strcmp(f->type, "counter") == 0 && v < 0, "negative counter %s", one);
        return NULL;
    }
    size_t fl = strlen(f->name);
    WRONG_IF(strncmp(name, f->name, fl) != 0, "sample %s under the TYPE of %s", name, f->name);
    if (strcmp(name + fl, "_bucket") == 0) {
        WRONG_IF(f->inf || f->sum, "bucket after +Inf: %s", one);
        double bound = strcmp(le, "+Inf") == 0 ? 1e308 : strtod(le, NULL);
        WRONG_IF(le[0] == '\0' || bound <= f->last_le, "le missing or out of order: %s", one);
        WRONG_IF(v < f->last_bucket, "buckets not cumulative: %s", one);
        f->last_le = bound;
        f->last_bucket = v;
        f->inf = strcmp(le, "+Inf") == 0;
        f->inf_count = v;
    } else if (strcmp(name + fl, "_sum") == 0) {
        WRONG_IF(!f->inf, "_sum before the +Inf bucket: %s", one);
        f->sum = 1;
    } else {
        WRONG_IF(strcmp(name + fl, "_count") != 0, "sample %s in histogram %s", name, f->name);
        WRONG_IF(!f->inf || !f->sum, "_count before the +Inf bucket and _sum");
        WRONG_IF(v != f->inf_count, "_count %g, +Inf bucket %g", v, f->inf_count);
    }
    return NULL;
}

/* The exposition read line by line: HELP and TYPE before a family's samples, and TYPE once;
 * every sample of a declared family, its samples together; counters named _total; histograms
 * with cumulative buckets ending at +Inf, then _sum, then _count equal to the +Inf bucket. NULL,
 * or why it is wrong. */
static const char *exposition_error(const char *text)
{
    struct family f = { .name = "" };
    char seen[64][128];
    int nseen = 0;

    WRONG_IF(text[0] == '\0' || text[strlen(text) - 1] != '\n', "the last line must end with a newline");
    for (const char *line = text; *line != '\0'; line = strchr(line, '\n') + 1) {
        char one[512], name[128], type_word[32];
        snprintf(one, sizeof(one), "%.*s", (int)(strchr(line, '\n') - line), line);
        if (strncmp(one, "# HELP ", 7) == 0) {
            WRONG_IF(sscanf(one + 7, "%127s", name) != 1 || strchr(one, '\\') != NULL, "help: %s", one);
            continue;
        }
        if (strncmp(one, "# TYPE ", 7) != 0) {
            WRONG_IF(one[0] == '#' || one[0] == '\0', "stray line: %s", one);
            if (sample_line(one, &f) != NULL) {
                return why;
            }
            continue;
        }
        WRONG_IF(sscanf(one + 7, "%127s %31s", name, type_word) != 2, "type: %s", one);
        WRONG_IF(strcmp(f.type, "histogram") == 0 && !(f.inf && f.sum), "histogram %s unfinished", f.name);
        for (int i = 0; i < nseen; i++) {
            WRONG_IF(strcmp(seen[i], name) == 0, "TYPE of %s twice", name);
        }
        WRONG_IF(nseen == 64, "too many families for this test");
        snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
        WRONG_IF(strcmp(type_word, "counter") != 0 && strcmp(type_word, "gauge") != 0 &&
                     strcmp(type_word, "histogram") != 0,
                 "type %s", type_word);
        WRONG_IF(strcmp(type_word, "counter") == 0 && (strlen(name) <= 6 || strcmp(name + strlen(name) - 6, "_total") != 0),
                 "counter %s not named _total", name);
        f = (struct family){ .last_le = -1 };
        snprintf(f.name, sizeof(f.name), "%s", name);
        snprintf(f.type, sizeof(f.type), "%s", type_word);
    }
    WRONG_IF(strcmp(f.type, "histogram") == 0 && !(f.inf && f.sum), "histogram %s unfinished", f.name);
    return NULL;
}

static void get_metrics(void)
{
    get("/metrics");
    ck_assert_int_eq(routed, 1);
    ck_assert_int_eq(status, 200);
    ck_assert_str_eq(type, "text/plain; version=0.0.4; charset=utf-8");
    const char *wrong = exposition_error(body);
    ck_assert_msg(wrong == NULL, "%s\n%s", wrong, body);
}

START_TEST(test_metrics_format)
{
    get_metrics();
    ck_assert_ptr_nonnull(strstr(body, "# TYPE arcade_commit_duration_seconds histogram\n"));
    ck_assert_ptr_nonnull(strstr(body, "arcade_commit_duration_seconds_bucket{le=\"+Inf\"} 0\n"));
    ck_assert(metric("arcade_database_writable") == 1);
    ck_assert(metric("arcade_connections{kind=\"short\",transport=\"tcp\"}") == 0);
}
END_TEST

/* The checker itself: what the format allows, and what it does not. */
START_TEST(test_metrics_checker)
{
    ck_assert_ptr_null(exposition_error("# HELP a_total A.\n# TYPE a_total counter\na_total 1\n"
                                        "# TYPE g gauge\ng{kind=\"x\\\"y\"} 2\ng{kind=\"z\"} 0\n"));
    ck_assert_ptr_null(exposition_error("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
                                        "h_sum 3\nh_count 2\n"));
    ck_assert_ptr_nonnull(exposition_error("a_total 1\n"));
    ck_assert_ptr_nonnull(exposition_error("# TYPE a_total counter\na_total 1"));
    ck_assert_ptr_nonnull(exposition_error("# TYPE a counter\na 1\n"));
    ck_assert_ptr_nonnull(exposition_error("# TYPE a_total counter\nb_total 1\n"));
    ck_assert_ptr_nonnull(exposition_error("# TYPE g gauge\n# TYPE g gauge\ng 1\n"));
    ck_assert_ptr_nonnull(exposition_error("# TYPE g gauge\ng{kind=\"x} 1\n"));
    ck_assert_ptr_nonnull(exposition_error("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
                                           "h_sum 3\nh_count 3\n"));
    ck_assert_ptr_nonnull(exposition_error("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 3\nh_count 1\n"));
    ck_assert_ptr_nonnull(exposition_error("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 1\n"
                                           "h_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n"));
    ck_assert_ptr_nonnull(exposition_error("# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n"
                                           "h_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n"));
}
END_TEST

/* A connection from a socketpair, as accept would hand it over. */
static struct conn *connection(int *peer_fd)
{
    int fds[2];
    struct sockaddr_storage sa;
    struct sockaddr_in *in = (struct sockaddr_in *)&sa;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    memset(&sa, 0, sizeof(sa));
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    in->sin_port = htons(40000);
    struct conn *c = conn_new(&pool, fds[0], &sa);
    ck_assert_ptr_nonnull(c);
    *peer_fd = fds[1];
    return c;
}

static void feed(struct conn *c, const char *bytes, size_t n)
{
    ck_assert_uint_eq(c->ops->input(c, bytes, n, 0, 0), n);
}

/* Commit what the iteration produced, as the flush does. */
static void commit(void)
{
    ck_assert_int_eq(batch_commit(&game.batch, database, ev_now(game.loop), 5), BATCH_DONE);
}

/* The real protocol code plays: connections by kind, players by place, rounds by kind. */
START_TEST(test_metrics_move_with_play)
{
    int peers[4];

    get_metrics();
    ck_assert(metric("arcade_connections{kind=\"new\",transport=\"tcp\"}") == 0);
    ck_assert(metric("arcade_rounds_total{kind=\"guest\"}") == 0);
    double commits = metric("arcade_commits_total");

    struct conn *guest = connection(&peers[0]);
    struct conn *ana_c = connection(&peers[1]);
    struct conn *bo_c = connection(&peers[2]);
    struct conn *asker = connection(&peers[3]);
    get_metrics();
    ck_assert(metric("arcade_connections{kind=\"new\",transport=\"tcp\"}") == 4);

    short_attach(asker, database, 10);
    play_attach(&game, guest);
    play_attach(&game, ana_c);
    play_attach(&game, bo_c);
    feed(guest, "2", 1);
    feed(guest, "3", 1);
    feed(ana_c, "H\x03" "ana", 5);
    feed(ana_c, "1", 1);
    commit();
    get_metrics();
    ck_assert(metric("arcade_connections{kind=\"new\",transport=\"tcp\"}") == 0);
    ck_assert(metric("arcade_connections{kind=\"short\",transport=\"tcp\"}") == 1);
    ck_assert(metric("arcade_connections{kind=\"long\",transport=\"tcp\"}") == 3);
    ck_assert(metric("arcade_players_online{kind=\"guest\"}") == 2);
    ck_assert(metric("arcade_players_online{kind=\"named\"}") == 1);
    ck_assert(metric("arcade_rounds_total{kind=\"guest\"}") == 2);
    ck_assert(metric("arcade_rounds_total{kind=\"bot\"}") == 1);
    ck_assert(metric("arcade_rounds_total{kind=\"person\"}") == 0);
    ck_assert(metric("arcade_commits_total") == commits + 1);
    ck_assert(metric("arcade_commit_duration_seconds_count") == commits + 1);

    feed(ana_c, "P", 1);
    get_metrics();
    ck_assert(metric("arcade_players_queued") == 1);
    ck_assert(metric("arcade_matches_running") == 0);
    feed(bo_c, "H\x02" "bo", 4);
    feed(bo_c, "P", 1);
    get_metrics();
    ck_assert(metric("arcade_players_queued") == 0);
    ck_assert(metric("arcade_matches_running") == 1);
    ck_assert(metric("arcade_matches_total") == 1);
    ck_assert(metric("arcade_players_online{kind=\"named\"}") == 2);
    feed(ana_c, "2", 1);
    feed(bo_c, "1", 1);
    commit();
    feed(asker, "a12\n", 4);
    get_metrics();
    ck_assert(metric("arcade_rounds_total{kind=\"person\"}") == 1);
    ck_assert(metric("arcade_requests_total{transport=\"tcp\"}") == 1);
    ck_assert(metric("arcade_commits_total") == commits + 2);
    for (int i = 0; i < 4; i++) {
        close(peers[i]);
    }
}
END_TEST

/* A commit refused by a lock held elsewhere, then given up: counted by why, health says so. */
START_TEST(test_metrics_count_failed_commits)
{
    struct batch_player p = { .id = 0, .slot = -1 };
    sqlite3 *other;

    ana = player("ana");
    p.id = ana;
    ck_assert_int_eq(batch_bot(&game.batch, &p, RPS_WIN), 0);
    ck_assert_int_eq(sqlite3_open(path, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    ev_now_update(game.loop);
    ck_assert_int_eq(batch_commit(&game.batch, database, ev_now(game.loop), 5), BATCH_WAITING);
    get_metrics();
    ck_assert(metric("arcade_commit_failures_total{reason=\"locked\"}") == 1);
    ck_assert(metric("arcade_commits_total") == 0);
    ck_assert(metric("arcade_database_writable") == 0);
    expect_health(503, "locked");
    /* Given up: the results are refused, and for a while /healthz says a commit failed. */
    ck_assert_int_eq(batch_commit(&game.batch, database, ev_now(game.loop) + 6, 5), BATCH_DONE);
    ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    get_metrics();
    ck_assert(metric("arcade_commit_failures_total{reason=\"locked\"}") == 2);
    ck_assert(metric("arcade_rounds_total{kind=\"bot\"}") == 0);
    expect_health(503, "the last commit failed");
    /* The next one stores, and all is well again. */
    ck_assert_int_eq(batch_bot(&game.batch, &p, RPS_WIN), 0);
    commit();
    get_metrics();
    ck_assert(metric("arcade_rounds_total{kind=\"bot\"}") == 1);
    ck_assert(metric("arcade_commits_total") == 1);
    expect_health(200, "ok\n");
}
END_TEST

/* ---- end to end: the real arcaded, raw sockets ---- */

/* One request with Connection: close, the whole response read to the end. Sets status, body
 * (NUL-terminated) and the Content-Type into ctype; checks Content-Length against the body. */
static void http(const char *method, const char *target, char *ctype, size_t cap)
{
    static char out[1 << 20];
    char req[512];
    int fd = dial(srv.port);
    snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", method, target);
    send_str(fd, req);
    ssize_t n = harness_recv_all(fd, out, sizeof(out) - 1);
    close(fd);
    ck_assert_int_gt(n, 0);
    out[n] = '\0';
    char *end = strstr(out, "\r\n\r\n");
    ck_assert_msg(end != NULL, "no head in %s", show(out, (size_t)n));
    *end = '\0';
    ck_assert_int_eq(sscanf(out, "HTTP/1.1 %d", &status), 1);
    const char *t = strstr(out, "\r\nContent-Type: ");
    const char *cl = strstr(out, "\r\nContent-Length: ");
    ck_assert_msg(t != NULL && cl != NULL, "head: %s", out);
    snprintf(ctype, cap, "%.*s", (int)strcspn(t + 16, "\r"), t + 16);
    free(body);
    body = strdup(end + 4);
    ck_assert_ptr_nonnull(body);
    if (strcmp(method, "HEAD") != 0) {
        ck_assert_uint_eq(strtoul(cl + 18, NULL, 10), strlen(body));
    } else {
        ck_assert_uint_eq(strlen(body), 0);
    }
}

START_TEST(test_e2e_routes_over_http)
{
    char ctype[128];
    static const struct {
        const char *method, *target;
        int status;
        const char *type, *body;
    } cases[] = {
        { "GET", "/api/square?n=12", 200, JSON, "{\"result\":\"144\"}" },
        { "GET", "/api/top?n=3", 200, JSON, "{\"players\":[]}" },
        { "HEAD", "/api/top", 200, JSON, "" },
        { "GET", "/api/rank/nobody", 404, JSON, "{\"error\":\"unknown player\"}" },
        { "GET", "/api/nothing", 404, JSON, "{\"error\":\"no such route\"}" },
        { "GET", "/nothing", 404, "text/plain; charset=utf-8", "not found\n" },
        { "GET", "/healthz", 200, "text/plain; charset=utf-8", "ok\n" },
    };
    start_server(NULL, NULL);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        http(cases[i].method, cases[i].target, ctype, sizeof(ctype));
        ck_assert_msg(status == cases[i].status, "%s: %d", cases[i].target, status);
        ck_assert_str_eq(ctype, cases[i].type);
        ck_assert_str_eq(body, cases[i].body);
    }
    http("GET", "/metrics", ctype, sizeof(ctype));
    ck_assert_int_eq(status, 200);
    ck_assert_str_eq(ctype, "text/plain; version=0.0.4; charset=utf-8");
    const char *wrong = exposition_error(body);
    ck_assert_msg(wrong == NULL, "%s\n%s", wrong, body);
    ck_assert(metric("arcade_connections{kind=\"http\",transport=\"tcp\"}") == 1);  /* this one */
    stop_server();
}
END_TEST

/* What `curl /metrics` shows moves under `arcade bench`: requests, connections, rounds, commits. */
START_TEST(test_e2e_metrics_move_under_bench)
{
    char ctype[128], out[4096], errs[4096];
    start_server(NULL, NULL);
    http("GET", "/metrics", ctype, sizeof(ctype));
    double accepted = metric("arcade_connections_accepted_total");
    double requests = metric("arcade_requests_total{transport=\"tcp\"}");
    double bot = metric("arcade_rounds_total{kind=\"bot\"}");
    double guest = metric("arcade_rounds_total{kind=\"guest\"}");
    double commits = metric("arcade_commits_total");

    char *short_load[] = { (char *)harness_arcade(), "bench", "short", "-c", "4", "-d", "1", "-t", "1", "--port",
                           port_arg, NULL };
    ck_assert_msg(run(short_load, out, sizeof(out), errs, sizeof(errs)) == 0, "%s%s", out, errs);
    char *long_load[] = { (char *)harness_arcade(), "bench", "long", "-c", "4", "-d", "1", "-t", "1", "--port",
                          port_arg, NULL };
    ck_assert_msg(run(long_load, out, sizeof(out), errs, sizeof(errs)) == 0, "%s%s", out, errs);
    char *guests[] = { (char *)harness_arcade(), "bench", "long", "--anonymous", "-c", "2", "-d", "1", "-t", "1",
                       "--port", port_arg, NULL };
    ck_assert_msg(run(guests, out, sizeof(out), errs, sizeof(errs)) == 0, "%s%s", out, errs);

    http("GET", "/metrics", ctype, sizeof(ctype));
    const char *wrong = exposition_error(body);
    ck_assert_msg(wrong == NULL, "%s\n%s", wrong, body);
    ck_assert_double_gt(metric("arcade_connections_accepted_total"), accepted + 10);
    ck_assert_double_gt(metric("arcade_requests_total{transport=\"tcp\"}"), requests + 10);
    ck_assert_double_gt(metric("arcade_rounds_total{kind=\"bot\"}"), bot + 10);
    ck_assert_double_gt(metric("arcade_rounds_total{kind=\"guest\"}"), guest + 10);
    ck_assert_double_gt(metric("arcade_commits_total"), commits + 10);
    ck_assert(metric("arcade_commit_duration_seconds_count") == metric("arcade_commits_total"));
    ck_assert_double_gt(metric("arcade_commit_duration_seconds_sum"), 0);
    stop_server();
}
END_TEST

static Suite *web_suite(void)
{
    Suite *s = suite_create("web");
    TCase *e2e = tcase_create("end_to_end");
    tcase_add_test(e2e, test_e2e_routes_over_http);
    tcase_add_test(e2e, test_e2e_metrics_move_under_bench);
    tcase_set_timeout(e2e, 60);
    suite_add_tcase(s, e2e);
    /* The others drive the web layer in this process over a SQLite store of their own (a file
     * another process locks, for health): against PostgreSQL they would only run again as they are.
     * They are not even made then: a case made but never added is memory LeakSanitizer counts. */
    if (harness_engine_pg()) {
        printf("web: api, health and metrics need SQLite: they open its store in this process\n");
        return s;
    }
    TCase *api = tcase_create("api");
    TCase *health = tcase_create("health");
    TCase *metrics = tcase_create("metrics");
    tcase_add_checked_fixture(api, setup, teardown);
    tcase_add_checked_fixture(health, setup, teardown);
    tcase_add_checked_fixture(metrics, setup, teardown);
    tcase_add_test(api, test_json_checker_refuses_bad_json);
    tcase_add_test(api, test_top);
    tcase_add_test(api, test_top_bad_counts);
    tcase_add_test(api, test_rank);
    tcase_add_test(api, test_players);
    tcase_add_test(api, test_players_history_is_the_last_hundred);
    tcase_add_test(api, test_math);
    tcase_add_test(api, test_math_line_bound);
    tcase_add_test(api, test_settings_are_the_servers_windows);
    tcase_add_test(api, test_routes_not_ours);
    tcase_add_test(health, test_health);
    tcase_add_test(health, test_health_read_only);
    tcase_add_test(metrics, test_metrics_format);
    tcase_add_test(metrics, test_metrics_checker);
    tcase_add_test(metrics, test_metrics_move_with_play);
    tcase_add_test(metrics, test_metrics_count_failed_commits);
    tcase_set_timeout(api, 30);
    suite_add_tcase(s, api);
    suite_add_tcase(s, health);
    suite_add_tcase(s, metrics);
    return s;
}

int main(void)
{
    log_set_level(LOG_ALWAYS);  /* the matches and the locked database would fill the output */
    return suite_run(web_suite());
}
