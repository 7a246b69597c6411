/*
 * http: HTTP/1.1 on the game's TCP port, parsed by http-parser. It serves the
 * page, upgrades /ws (the long connection's game) and /ws/top (the live
 * leaderboard) to WebSockets, and answers the rest from the routes of web.
 */
#ifndef ARCADE_HTTP_H
#define ARCADE_HTTP_H

#include <stddef.h>

struct conn;
struct game;
struct watch;
struct web;

/* What HTTP connections are served from. */
struct http_site {
    struct game *game;      /* /ws: the game of long connections */
    struct watch *watch;    /* /ws/top: leaderboard watchers */
    struct web *web;        /* the JSON API, /healthz, /metrics */
    double idle;            /* seconds a connection may stay without a request */
};

/* Could the first bytes of a connection be an HTTP request? HTTP_MAYBE: too few bytes to tell. */
enum http_sniff { HTTP_NO, HTTP_MAYBE, HTTP_YES };
enum http_sniff http_sniff(const char *buf, size_t len);

/* A connection whose first bytes are an HTTP request. */
void http_attach(struct http_site *site, struct conn *c);

#endif
