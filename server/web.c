/*
 * web: a table of routes, each a function that builds its reply's body in a buffer. Values from
 * the query and names from the path are percent-decoded into bounded buffers, then handed to the
 * parsers the short protocol uses: a route is a request line in other clothes.
 *
 * A route that reads the database sends its request with an ask (the request and the room for its
 * rows) and names the step that takes the answer (then): with SQLite the step runs before the
 * request's call returns, on one static ask; with PostgreSQL it runs when the answer comes, on an
 * ask of the reply's own, which also keeps the reply being built, and the caller hears of it
 * through its done.
 */
#include "web.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board.h"
#include "conn.h"
#include "db.h"
#include "game.h"
#include "jsonstr.h"
#include "math.h"
#include "query.h"
#include "session.h"
#include "short.h"
#include "stats.h"
#include "checkpointer.h"
#include "cluster.h"

#define JSON "application/json"
#define TEXT "text/plain; charset=utf-8"
#define METRICS "text/plain; version=0.0.4; charset=utf-8"
#define COUNT_MAX 4             /* bytes of a count kept: one past the 3 digits board_parse takes */
#define HEALTH_AFTER_FAILURE 10.0   /* seconds a failed commit keeps /healthz failing */
#define UNAVAILABLE "games unavailable"
#define UNRANKED_WHY "only players with a rated round (a round against a person) are on the leaderboard"

struct web {
    struct db *db;
    struct game *game;
    struct conn_pool *pool;
};

struct web_ask;

/* A reply being built. The first append that fails (no memory, or past WEB_BODY_MAX) marks it,
 * and web_route answers 500 instead. */
struct answer {
    struct web_reply *r;
    int failed;
    struct web_ask *ask;    /* the route's request to the database, once it has sent one */
    int later;              /* its answer comes later: the route goes on from ask->then */
};

/* A route's request to the database and the room for its answer. */
struct web_ask {
    struct db_req req;
    struct web *w;
    void (*then)(struct web_ask *k, struct answer *a);  /* the route's step that takes the answer */
    struct board_query bq;                              /* what the route asks */
    struct board_row rows[BOARD_TOP_MAX > 2 * BOARD_AROUND_MAX + 1 ? BOARD_TOP_MAX : 2 * BOARD_AROUND_MAX + 1];
    struct store_rating points[STORE_HISTORY_MAX];
    /* An answer that comes later: the reply built meanwhile, and whom to give it. */
    struct answer a;
    struct web_reply reply;
    web_done_fn *done;
    void *data;
};

/* A request as a route sees it. */
struct call {
    const char *arg;        /* the path after a prefix route's path (a name) */
    size_t arg_len;
    const char *query;
    size_t query_len;
    int op;                 /* the route's request letter */
};

static void put_bytes(struct answer *a, const void *p, size_t n)
{
    if (!a->failed && buf_append(&a->r->body, p, n, WEB_BODY_MAX) < 0) {
        a->failed = 1;
    }
}

static void put(struct answer *a, const char *s)
{
    put_bytes(a, s, strlen(s));
}

static void putf(struct answer *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct answer *a, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(text)) {
        a->failed = 1;
        return;
    }
    put_bytes(a, text, (size_t)n);
}

/* s[0..len) as a JSON string, quotes included. */
static void put_string(struct answer *a, const char *s, size_t len)
{
    char esc[JSONSTR_BYTE_MAX];
    put(a, "\"");
    for (size_t i = 0; i < len; i++) {
        put_bytes(a, esc, jsonstr_byte((unsigned char)s[i], esc));
    }
    put(a, "\"");
}

static void put_cstring(struct answer *a, const char *s)
{
    put_string(a, s, strlen(s));
}

static void reply(struct answer *a, int status, const char *type)
{
    a->r->status = status;
    a->r->type = type;
}

static void json_error(struct answer *a, int status, const char *reason)
{
    reply(a, status, JSON);
    put(a, "{\"error\":");
    put_cstring(a, reason);
    put(a, "}");
}

/* The player's name from the path into name (room for RPS_NAME_MAX + 1), NUL-terminated. Returns
 * 0, or -1 (a 400 answered) when it is not a valid name. */
static int path_name(const struct call *q, char *name, struct answer *a)
{
    size_t len;
    if (query_decode(q->arg, q->arg_len, name, RPS_NAME_MAX, &len) < 0 || !rps_valid_name(name, len)) {
        json_error(a, 400, "bad name");
        return -1;
    }
    name[len] = '\0';
    return 0;
}

/* A leaderboard request line: op, arg, and the count from the query's key when it has one (after a
 * space when there is an arg), parsed by board_parse into bq. Returns 0, or -1 with the 400
 * answered. */
static int board_request(const struct call *q, const char *arg, const char *key, struct board_query *bq,
                         struct answer *a)
{
    char line[1 + RPS_NAME_MAX + 1 + COUNT_MAX], count[COUNT_MAX];
    size_t arg_len = strlen(arg), used = 0, len;
    const char *reason;

    int has = query_value(q->query, q->query_len, key, count, sizeof(count), &len);
    if (has < 0) {
        json_error(a, 400, "bad query");
        return -1;
    }
    if (has && len == 0) {
        json_error(a, 400, "bad count");
        return -1;
    }
    line[used++] = (char)q->op;
    memcpy(line + used, arg, arg_len);
    used += arg_len;
    if (has && arg_len > 0) {
        line[used++] = ' ';
    }
    /* A count cut to COUNT_MAX bytes is still too long for board_parse. */
    memcpy(line + used, count, len < COUNT_MAX ? len : COUNT_MAX);
    used += len < COUNT_MAX ? len : COUNT_MAX;
    if (board_parse(line, used, bq, &reason) < 0) {
        json_error(a, 400, reason);
        return -1;
    }
    return 0;
}

/* ---- the JSON API ---- */

static void put_totals(struct answer *a, const struct board_row *row)
{
    putf(a, "\"wins\":%lld,\"losses\":%lld,\"draws\":%lld,\"rounds\":%lld", (long long)row->wins,
         (long long)row->losses, (long long)row->draws, (long long)row->rounds);
}

static void put_rows(struct answer *a, const struct board_row *rows, int n)
{
    char row[BOARD_JSON_MAX];
    put(a, "{\"players\":[");
    for (int i = 0; i < n; i++) {
        put(a, i == 0 ? "" : ",");
        put_bytes(a, row, board_format_json(&rows[i], row, sizeof(row)));
    }
    put(a, "]}");
}

static void answered(struct db_req *r);

/* SQLite's answers come before its calls return: one ask serves every request. */
static struct web_ask at_once;

/* An ask for the route answering a: at_once, or for an answer that may come later (PostgreSQL) one
 * of its own. NULL when memory ran out. */
static struct web_ask *ask_for(struct web *w, struct answer *a)
{
    struct web_ask *k = db_sqlite(w->db) != NULL ? &at_once : malloc(sizeof(*k));
    if (k == NULL) {
        a->failed = 1;
        return NULL;
    }
    k->req = (struct db_req){ .done = answered, .data = k, .rows = k->rows, .points = k->points };
    k->w = w;
    a->ask = k;
    return k;
}

/* The request just sent (state as its db_* call returned) is answered: its step runs now, or when
 * the answer comes. */
static void then(struct answer *a, int state, void (*step)(struct web_ask *k, struct answer *a))
{
    if (state == DB_PENDING) {
        a->ask->then = step;
        a->later = 1;
        return;
    }
    step(a->ask, a);
}

static void ask_free(struct web_ask *k)
{
    if (k != &at_once) {
        free(k);
    }
}

/* The reply when building it ran out of memory (or past WEB_BODY_MAX). */
static void out_of_memory(struct web_reply *r)
{
    buf_free(&r->body);
    r->status = 500;
    r->type = TEXT;
    buf_append(&r->body, "out of memory\n", 14, WEB_BODY_MAX);
}

/* The answer came: the route's step, then (unless it asked again) the reply to the caller. */
static void answered(struct db_req *r)
{
    struct web_ask *k = r->data;
    struct answer *a = &k->a;

    a->later = 0;
    k->then(k, a);
    if (a->later) {
        return;
    }
    if (a->failed) {
        out_of_memory(&k->reply);
    }
    k->done(k->data, &k->reply);    /* the body is the caller's now */
    ask_free(k);
}

static void top_answered(struct web_ask *k, struct answer *a)
{
    if (k->req.result < 0) {
        json_error(a, 503, UNAVAILABLE);
        return;
    }
    reply(a, 200, JSON);
    put_rows(a, k->rows, (int)k->req.result);
}

static void api_top(struct web *w, const struct call *q, struct answer *a)
{
    struct board_query bq;
    struct web_ask *k;

    if (board_request(q, "", "n", &bq, a) < 0 || (k = ask_for(w, a)) == NULL) {
        return;
    }
    k->bq = bq;
    then(a, db_top(w->db, &k->req, bq.count), top_answered);
}

/* A name the leaderboard does not show: nobody's, or a player's with no rated round yet. */
static void unranked_answered(struct web_ask *k, struct answer *a)
{
    const struct board_row *row = &k->rows[0];
    if (k->req.result < 0) {
        json_error(a, 503, UNAVAILABLE);
    } else if (k->req.result == 0) {
        json_error(a, 404, "unknown player");
    } else {
        reply(a, 404, JSON);
        put(a, "{\"error\":\"not ranked\",\"why\":");
        put_cstring(a, UNRANKED_WHY);
        put(a, ",\"name\":");
        put_cstring(a, row->name);
        put(a, ",");
        put_totals(a, row);
        put(a, "}");
    }
}

static void rank_answered(struct web_ask *k, struct answer *a)
{
    if (k->req.result < 0) {
        json_error(a, 503, UNAVAILABLE);
    } else if (k->req.result == 0) {
        then(a, db_row(k->w->db, &k->req, k->bq.name), unranked_answered);
    } else {
        reply(a, 200, JSON);
        put_rows(a, k->rows, (int)k->req.result);
    }
}

static void api_rank(struct web *w, const struct call *q, struct answer *a)
{
    struct board_query bq;
    char name[RPS_NAME_MAX + 1];
    struct web_ask *k;

    if (path_name(q, name, a) < 0 || board_request(q, name, "k", &bq, a) < 0 || (k = ask_for(w, a)) == NULL) {
        return;
    }
    k->bq = bq;
    then(a, db_rank(w->db, &k->req, k->bq.name, bq.count), rank_answered);
}

/* The player's row is k->rows[0], the history k->points. */
static void history_answered(struct web_ask *k, struct answer *a)
{
    const struct board_row *row = &k->rows[0];
    int64_t n = k->req.result;

    if (n < 0) {
        json_error(a, 503, UNAVAILABLE);
        return;
    }
    reply(a, 200, JSON);
    put(a, "{\"name\":");
    put_cstring(a, row->name);
    putf(a, ",\"rating\":%lld,\"provisional\":%s,\"rank\":", board_rating(row->rating),
         row->provisional ? "true" : "false");
    if (row->rank > 0) {
        putf(a, "%lld,", (long long)row->rank);
    } else {
        put(a, "null,");
    }
    put_totals(a, row);
    put(a, ",\"form\":");
    put_cstring(a, row->form);
    put(a, ",\"history\":[");
    for (int64_t i = 0; i < n; i++) {
        putf(a, "%s{\"at\":%lld,\"rating\":%lld}", i == 0 ? "" : ",", (long long)k->points[i].at,
             board_rating(k->points[i].rating));
    }
    put(a, "]}");
}

static void row_answered(struct web_ask *k, struct answer *a)
{
    if (k->req.result < 0) {
        json_error(a, 503, UNAVAILABLE);
    } else if (k->req.result == 0) {
        json_error(a, 404, "unknown player");
    } else {
        then(a, db_history(k->w->db, &k->req, k->req.id, STORE_HISTORY_MAX), history_answered);
    }
}

static void api_player(struct web *w, const struct call *q, struct answer *a)
{
    char name[RPS_NAME_MAX + 1];
    struct web_ask *k;

    if (path_name(q, name, a) < 0 || (k = ask_for(w, a)) == NULL) {
        return;
    }
    then(a, db_row(w->db, &k->req, name), row_answered);
}

/* The short protocol's answer to the line op + n: "d<result>\n" or "e<reason>\n". */
static void api_math(struct web *w, const struct call *q, struct answer *a)
{
    static char line[1 + MATH_LINE_MAX], out[SHORT_REPLY_MAX];
    size_t len;
    (void)w;

    line[0] = (char)q->op;
    if (query_value(q->query, q->query_len, "n", line + 1, MATH_LINE_MAX, &len) < 0) {
        json_error(a, 400, "bad query");
        return;
    }
    /* A value past the line's bound is kept to one byte more than a line may hold: too long. */
    size_t n = short_reply(line, 1 + (len < MATH_LINE_MAX ? len : MATH_LINE_MAX), out);
    size_t text = n >= 2 ? n - 2 : 0;   /* without the letter and the newline */
    if (n < 2 || out[0] != 'd') {
        reply(a, 400, JSON);
        put(a, "{\"error\":");
    } else {
        reply(a, 200, JSON);
        put(a, "{\"result\":");
    }
    put_string(a, out + 1, text);
    put(a, "}");
}

static void api_unknown(struct web *w, const struct call *q, struct answer *a)
{
    (void)w;
    (void)q;
    json_error(a, 404, "no such route");
}

/* ---- health ---- */

/* Does the database take writes, as far as this process knows without asking it? No when results
 * wait for a lock held elsewhere, or when a commit failed in the last HEALTH_AFTER_FAILURE seconds
 * (and none was stored since). */
static int known_writable(struct web *w, char *why, size_t cap)
{
    const struct batch *b = &w->game->batch;

    if (b->locked_since != 0) {
        snprintf(why, cap, "database locked by another process: results waiting for %.0f s",
                 ev_now(w->game->loop) - b->locked_since);
        return 0;
    }
    if (b->failed_at != 0 && ev_now(w->game->loop) - b->failed_at < HEALTH_AFTER_FAILURE) {
        snprintf(why, cap, "the last commit failed %.0f s ago", ev_now(w->game->loop) - b->failed_at);
        return 0;
    }
    return 1;
}

/* The database's own check: read-only, locked, a disk without room (SQLite), or not connected or
 * not taking writes (PostgreSQL). Nothing is written. */
static void writable_answered(struct web_ask *k, struct answer *a)
{
    if (k->req.result < 0) {
        reply(a, 503, TEXT);
        putf(a, "%s%s\n", k->req.fault == DB_FAULT_LOCKED ? "database locked by another process: " : "",
             k->req.err);
        return;
    }
    reply(a, 200, TEXT);
    put(a, "ok\n");
}

/* What a client needs to know of this server's rules: the windows it counts down. */
static void api_settings(struct web *w, const struct call *q, struct answer *a)
{
    (void)q;
    reply(a, 200, JSON);
    putf(a, "{\"move_timeout\":%g,\"queue_timeout\":%g,\"long_idle_timeout\":%g}", w->game->move_timeout,
         w->game->queue_timeout, w->game->long_idle);
}

static void healthz(struct web *w, const struct call *q, struct answer *a)
{
    char why[320];
    struct web_ask *k;
    (void)q;

    if (!known_writable(w, why, sizeof(why))) {
        reply(a, 503, TEXT);
        putf(a, "%s\n", why);
        return;
    }
    if (w->game->cluster != NULL && !cluster_connected(w->game->cluster)) {
        /* Alone, this server would serve names another may hold: it refuses them, and cannot match
         * or carry players across servers. */
        reply(a, 503, TEXT);
        put(a, "the bus (Redis) is not connected: names and matches across servers unavailable\n");
        return;
    }
    if ((k = ask_for(w, a)) != NULL) {
        then(a, db_writable(w->db, &k->req), writable_answered);
    }
}

/* /healthz's answer for a gauge, which must not wait: SQLite's check answers at once; PostgreSQL's
 * would be a round trip, and being connected stands for it. */
static int writable_now(struct web *w)
{
    char why[320];

    if (!known_writable(w, why, sizeof(why))) {
        return 0;
    }
    if (db_sqlite(w->db) == NULL) {
        return db_connected(w->db);
    }
    struct db_req r = { 0 };    /* answered before the call returns: no need to outlive it */
    return db_writable(w->db, &r) == DB_DONE && r.result >= 0;
}

/* ---- metrics ---- */

/* The connections always shown, even at 0: a kind (the protocol that owns it) over a transport
 * (plain TCP, or a WebSocket's frames). Others are added as they are found. */
static const struct kind {
    const char *kind;
    const char *transport;
} known_kinds[] = {
    { "new", "tcp" }, { "short", "tcp" }, { "long", "tcp" }, { "http", "tcp" },
    { "long", "websocket" }, { "watch", "websocket" },
};
#define KINDS_MAX 16

static const char *const refusal_labels[REFUSALS] = {
    [REFUSED_RATE] = "conn_rate",
    [REFUSED_SHARE] = "addr_share",
    [REFUSED_FULL] = "server_full",
    [EVICTED] = "evicted",
    [DROPPED_DATAGRAMS] = "udp_rate",
};
static const char *const round_labels[STATS_ROUND_KINDS] = {
    [STATS_ROUND_BOT] = "bot",
    [STATS_ROUND_GUEST] = "guest",
    [STATS_ROUND_PERSON] = "person",
};
static const char *const throttle_labels[STATS_THROTTLES] = {
    [STATS_THROTTLE_FRAMES] = "frame_rate",
    [STATS_THROTTLE_ATTEMPTS] = "attempts",
    [STATS_THROTTLE_NAMES] = "new_names",
};
static const char *const db_failure_labels[STATS_DB_FAILURES] = {
    [STATS_DB_LOCKED] = "locked",
    [STATS_DB_FULL] = "full",
    [STATS_DB_OTHER] = "other",
};
static const char *const transport_labels[STATS_TRANSPORTS] = {
    [STATS_TCP] = "tcp",
    [STATS_UDP] = "udp",
};

/* A metric family's HELP and TYPE lines, which come before its samples. */
static void family(struct answer *a, const char *name, const char *type, const char *help)
{
    putf(a, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(struct answer *a, const char *name, unsigned long long value)
{
    putf(a, "%s %llu\n", name, value);
}

/* A label's value, escaped as the format wants (\\, \", \n). */
static void put_label_value(struct answer *a, const char *value)
{
    for (const char *p = value; *p != '\0'; p++) {
        const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;
        put_bytes(a, esc != NULL ? esc : p, esc != NULL ? 2 : 1);
    }
}

/* One sample with one label. */
static void labelled(struct answer *a, const char *name, const char *label, const char *value, unsigned long long n)
{
    putf(a, "%s{%s=\"", name, label);
    put_label_value(a, value);
    putf(a, "\"} %llu\n", n);
}

/* A family of counters with one label, from an array indexed as labels. */
static void counters(struct answer *a, const char *name, const char *help, const char *label,
                     const char *const *labels, const uint64_t *values, int n)
{
    family(a, name, "counter", help);
    for (int i = 0; i < n; i++) {
        labelled(a, name, label, labels[i], values[i]);
    }
}

/* Open connections (closed ones waiting to be freed are not), by kind and transport. */
static void connections(struct web *w, struct answer *a)
{
    struct kind kinds[KINDS_MAX];
    unsigned long long count[KINDS_MAX] = { 0 };
    int n = 0;

    for (size_t i = 0; i < sizeof(known_kinds) / sizeof(known_kinds[0]); i++) {
        kinds[n++] = known_kinds[i];
    }
    for (const struct conn *c = w->pool->all; c != NULL; c = c->next) {
        const char *transport = c->ws != NULL ? "websocket" : "tcp";
        int k = 0;
        if (c->state == CONN_CLOSED) {
            continue;
        }
        while (k < n && (strcmp(kinds[k].kind, c->ops->kind) != 0 || strcmp(kinds[k].transport, transport) != 0)) {
            k++;
        }
        if (k == n && n < KINDS_MAX) {
            kinds[n++] = (struct kind){ c->ops->kind, transport };
        }
        if (k < n) {
            count[k]++;
        }
    }
    family(a, "arcade_connections", "gauge",
           "Open TCP connections, by kind (new: not decided yet; watch: the live leaderboard) and transport.");
    for (int k = 0; k < n; k++) {
        put(a, "arcade_connections{kind=\"");
        put_label_value(a, kinds[k].kind);
        put(a, "\",transport=\"");
        put_label_value(a, kinds[k].transport);
        putf(a, "\"} %llu\n", count[k]);
    }
    family(a, "arcade_connections_accepted_total", "counter", "TCP connections accepted.");
    sample(a, "arcade_connections_accepted_total", stats.accepted);
}

/* Sessions by where they are. */
static void players(struct web *w, struct answer *a)
{
    unsigned long long named = 0, guests = 0, away = 0, queued = 0, matches = 0;

    for (const struct session *s = w->game->sessions; s != NULL; s = s->next) {
        named += s->conn != NULL && s->named;
        guests += s->conn != NULL && !s->named;
        away += s->conn == NULL && s->place == SESSION_MATCH;
        matches += s->place == SESSION_MATCH && s->side == 0;
    }
    for (const struct session *s = w->game->queue_head; s != NULL; s = s->queue_next) {
        queued++;
    }
    family(a, "arcade_players_online", "gauge", "Players with a connection, named or guests.");
    labelled(a, "arcade_players_online", "kind", "named", named);
    labelled(a, "arcade_players_online", "kind", "guest", guests);
    family(a, "arcade_players_away", "gauge", "Players in a match whose connection dropped: their seat is held.");
    sample(a, "arcade_players_away", away);
    family(a, "arcade_players_queued", "gauge", "Players waiting for an opponent.");
    sample(a, "arcade_players_queued", queued);
    family(a, "arcade_matches_running", "gauge", "Player-vs-player matches being played.");
    sample(a, "arcade_matches_running", matches);
    family(a, "arcade_matches_total", "counter", "Player-vs-player matches started.");
    sample(a, "arcade_matches_total", stats.matches);
}

static void histogram(struct answer *a, const char *name, const char *help, const struct stats_histogram *h)
{
    unsigned long long below = 0;

    family(a, name, "histogram", help);
    for (int i = 0; i < STATS_BUCKETS; i++) {
        below += h->n[i];
        putf(a, "%s_bucket{le=\"%g\"} %llu\n", name, stats_bounds[i], below);
    }
    below += h->n[STATS_BUCKETS];
    putf(a, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9g\n%s_count %llu\n", name, below, name, h->sum, name,
         (unsigned long long)h->count);
}

static void commits(struct web *w, struct answer *a)
{
    char err[256];

    family(a, "arcade_commits_total", "counter", "Group commits stored.");
    sample(a, "arcade_commits_total", stats.commits.count);
    histogram(a, "arcade_commit_duration_seconds", "Time the transaction of a stored group commit took.",
              &stats.commits);
    histogram(a, "arcade_loop_busy_seconds",
              "Time the loop worked in one iteration, from poll's return to the next poll: how long it kept everyone waiting.",
              &stats.loop_busy);
    histogram(a, "arcade_loop_busy_cpu_seconds",
              "CPU time the loop's thread used in those iterations: less when the machine ran something else.",
              &stats.loop_cpu);
    counters(a, "arcade_commit_failures_total", "Group commit transactions that failed, by why.", "reason",
             db_failure_labels, stats.commit_failures, STATS_DB_FAILURES);
    family(a, "arcade_results_refused_total", "counter",
           "Results answered 'games unavailable' because their commit failed.");
    sample(a, "arcade_results_refused_total", stats.results_refused);
    family(a, "arcade_fold_failures_total", "counter", "Folds of the bot rounds' tally log put off by the database.");
    sample(a, "arcade_fold_failures_total", stats.fold_failures);
    family(a, "arcade_sweep_failures_total", "counter", "Steps of the rated players' write-back put off by the database.");
    sample(a, "arcade_sweep_failures_total", stats.sweep_failures);
    /* The checkpointer is SQLite's: zeros for PostgreSQL, which keeps its own WAL. */
    struct checkpointer_counts ck = { 0 };
    if (db_sqlite(w->db) != NULL) {
        store_background_counts(db_sqlite(w->db), &ck, err, sizeof(err));
    }
    family(a, "arcade_checkpoints_total", "counter", "Checkpoints of the WAL run by the checkpointer thread.");
    sample(a, "arcade_checkpoints_total", ck.passes);
    family(a, "arcade_checkpoint_last_passes_total", "counter",
           "Last passes the checkpointer ran while commits waited, so that the WAL starts over.");
    sample(a, "arcade_checkpoint_last_passes_total", ck.finished);
    family(a, "arcade_checkpoint_last_pass_longest_seconds", "gauge", "The longest of those passes.");
    putf(a, "arcade_checkpoint_last_pass_longest_seconds %.9g\n", ck.longest);
    family(a, "arcade_checkpoint_failures_total", "counter", "Checkpoints that failed.");
    sample(a, "arcade_checkpoint_failures_total", ck.failures);
    family(a, "arcade_database_writable", "gauge",
           "1 while the database takes writes (as /healthz; for PostgreSQL: while connected), else 0.");
    sample(a, "arcade_database_writable", writable_now(w));
    if (w->game->cluster != NULL) {
        family(a, "arcade_bus_connected", "gauge", "1 while the bus (Redis, --bus) is connected, else 0.");
        sample(a, "arcade_bus_connected", (unsigned long long)cluster_connected(w->game->cluster));
    }
}

static void metrics(struct web *w, const struct call *q, struct answer *a)
{
    (void)q;
    reply(a, 200, METRICS);
    family(a, "arcade_worker_pid", "gauge",
           "The id of the process that answered: with --workers, each worker answers for itself.");
    sample(a, "arcade_worker_pid", (unsigned long long)getpid());
    connections(w, a);
    players(w, a);
    counters(a, "arcade_requests_total", "Short requests answered, by transport.", "transport", transport_labels,
             stats.requests, STATS_TRANSPORTS);
    counters(a, "arcade_rounds_total", "Rounds stored: named players and guests against the bot, people against each other.",
             "kind", round_labels, stats.rounds, STATS_ROUND_KINDS);
    commits(w, a);
    counters(a, "arcade_refusals_total", "Connections refused or closed to make room, and datagrams dropped, by why.",
             "reason", refusal_labels, stats.refusals, REFUSALS);
    counters(a, "arcade_throttled_total",
             "Times a budget held someone back: a long connection's frame rate (reading paused), "
             "proofs refused unchecked, new names refused.",
             "reason", throttle_labels, stats.throttled, STATS_THROTTLES);
}

/* ---- routing ---- */

struct route {
    const char *path;       /* the whole path, or its beginning when prefix */
    int prefix;             /* the rest of the path is the request's arg */
    void (*answer)(struct web *w, const struct call *q, struct answer *a);
    int op;                 /* the request letter the route stands for */
};

/* First match wins: "/api/" last, for every other path under it. */
static const struct route routes[] = {
    { "/api/top", 0, api_top, BOARD_TOP },
    { "/api/rank/", 1, api_rank, BOARD_RANK },
    { "/api/players/", 1, api_player, 0 },
    { "/api/square", 0, api_math, 'a' },
    { "/api/cube", 0, api_math, 'b' },
    { "/api/fourth", 0, api_math, 'c' },
    { "/api/settings", 0, api_settings, 0 },
    { "/healthz", 0, healthz, 0 },
    { "/metrics", 0, metrics, 0 },
    { "/api/", 1, api_unknown, 0 },
};

static const struct route *find_route(const char *path, size_t len)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        size_t n = strlen(routes[i].path);
        if ((routes[i].prefix ? len >= n : len == n) && memcmp(path, routes[i].path, n) == 0) {
            return &routes[i];
        }
    }
    return NULL;
}

int web_top_rows(const char *query, size_t query_len)
{
    struct call q = { .arg = "", .query = query, .query_len = query_len, .op = 't' };
    struct web_reply r = { 0 };
    struct answer a = { .r = &r };
    struct board_query bq;
    int ok = board_request(&q, "", "n", &bq, &a) == 0;
    buf_free(&r.body);
    return ok ? bq.count : -1;
}

int web_route(struct web *w, const char *path, size_t path_len, const char *query, size_t query_len,
              struct web_reply *r, web_done_fn *done, void *data, struct web_ask **wait)
{
    memset(r, 0, sizeof(*r));
    const struct route *rt = find_route(path, path_len);
    if (rt == NULL) {
        return WEB_NOT_MINE;
    }
    size_t skip = rt->prefix ? strlen(rt->path) : path_len;
    struct call q = { path + skip, path_len - skip, query, query_len, rt->op };
    struct answer a = { r, 0, NULL, 0 };
    rt->answer(w, &q, &a);
    if (a.later) {
        /* The reply is built in the ask from now on: whatever the route put in r goes with it. */
        struct web_ask *k = a.ask;
        k->reply = *r;
        k->a = (struct answer){ &k->reply, a.failed, k, 1 };
        k->done = done;
        k->data = data;
        memset(r, 0, sizeof(*r));
        *wait = k;
        return WEB_LATER;
    }
    if (a.ask != NULL) {
        ask_free(a.ask);
    }
    if (a.failed) {
        out_of_memory(r);
    }
    return WEB_ANSWERED;
}

void web_cancel(struct web_ask *k)
{
    db_cancel(k->w->db, &k->req);
    buf_free(&k->reply.body);
    ask_free(k);
}

struct web *web_new(struct db *db, struct game *g, struct conn_pool *pool)
{
    struct web *w = calloc(1, sizeof(*w));
    if (w != NULL) {
        w->db = db;
        w->game = g;
        w->pool = pool;
    }
    return w;
}

void web_free(struct web *w)
{
    free(w);
}
