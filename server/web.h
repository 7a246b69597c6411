/*
 * web: the HTTP routes that answer with data: the JSON API, /healthz and /metrics. http.c serves
 * the page and the WebSocket upgrades itself and hands every other GET or HEAD here. web knows
 * nothing of HTTP's bytes, only a path, a query and a reply's status, type and body; its answers
 * come from the same code as the short protocol's (board_parse and the store for the leaderboard,
 * short_reply for the math), so both say the same thing the same way.
 *
 *   GET /api/top?n=N            the best N players (1 to 100, default 10)
 *   GET /api/rank/NAME?k=K      NAME's place with K players on each side (0 to 50, default 5)
 *   GET /api/players/NAME       NAME's totals, rating, rank and rating history
 *   GET /api/square?n=X         also /api/cube, /api/fourth: the exact power, as a string
 *   GET /api/settings           the move window, the queue's wait and the idle timeout, in seconds
 *   GET /healthz                "ok" while the database takes writes (and the bus is up, with
 *                               --bus), else 503 and why
 *   GET /metrics                the counters and gauges in Prometheus' text format
 *
 * API answers are JSON objects; an error is {"error":"<reason>"} with a 4xx or 5xx status. Paths
 * and values are percent-decoded here; '+' in a query is a plus sign, not a space.
 *
 * The routes that read the database (the API's leaderboard and players, /healthz) answer at once
 * with SQLite, and later with PostgreSQL: web_route says which. /metrics never waits.
 */
#ifndef ARCADE_WEB_H
#define ARCADE_WEB_H

#include <stddef.h>

#include "buf.h"

struct conn_pool;
struct db;
struct game;

#define WEB_BODY_MAX (1u << 20)     /* the largest body a route builds */

struct web_reply {
    int status;         /* HTTP status code */
    const char *type;   /* Content-Type, a static string */
    struct buf body;    /* built with buf_append; the caller frees it (buf_free) */
};

/* What the routes read: the database, the game (sessions, queue, the group commit's state) and
 * the connection pool. */
struct web;
/* A reply that waits for the database. */
struct web_ask;

/* A reply that waited is ready: r (its body is the caller's to free) for the caller's data. */
typedef void web_done_fn(void *data, struct web_reply *r);

enum web_routed {
    WEB_NOT_MINE,   /* not one of web's paths */
    WEB_ANSWERED,   /* the reply is ready */
    WEB_LATER,      /* the reply comes later, to done */
};

/* NULL when memory ran out. */
struct web *web_new(struct db *db, struct game *g, struct conn_pool *pool);
/* NULL is allowed; replies still waiting are the callers' to cancel first. */
void web_free(struct web *w);

/* Answer the GET (or HEAD: the caller drops the body) of path (raw, not percent-decoded, without
 * the query) and query (raw, without '?', may be empty). WEB_ANSWERED with r filled when the path
 * is one of web's (errors included, as JSON: 400, 404, 503); WEB_NOT_MINE when it is not (r is
 * then empty); WEB_LATER when the answer waits for the database: done(data, reply) is called from
 * the loop once it is ready, never from inside web_route, unless *wait is given to web_cancel
 * first. r is set in every case, so buf_free(&r->body) is always right. */
int web_route(struct web *w, const char *path, size_t path_len, const char *query, size_t query_len,
              struct web_reply *r, web_done_fn *done, void *data, struct web_ask **wait);
/* Forget a reply that waits: done is not called. */
void web_cancel(struct web_ask *wait);

/* The n of a query asking for the top n players (1 to 100, default 10), read as /api/top reads it;
 * -1 when it is bad. */
int web_top_rows(const char *query, size_t query_len);

#endif
