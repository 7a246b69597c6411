/*
 * http: requests in, responses out, on one connection, with keep-alive and
 * pipelining; request reads each request's head. Only GET and HEAD are
 * served, and no request may have a body.
 *
 * A WebSocket handshake (RFC 6455 section 4.2) is answered here with SHA-1 and
 * base64 from nettle; the connection is then handed to the protocol that owns
 * the endpoint, and ws frames its bytes from then on.
 *
 * A route of web's may answer later (the database is PostgreSQL): the request
 * stays parsed, nothing more is read (conn_wait) until its response is sent,
 * then the pipelined requests after it are read and answered in order.
 */
#include "http.h"

#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "assets.h"
#include "buf.h"
#include "conn.h"
#include "log.h"
#include "play.h"
#include "request.h"
#include "watch.h"
#include "web.h"
#include "ws.h"

#define HTTP_TURN 16            /* requests one connection may have answered in one turn */
#define HTTP_ADDR_TURN 256      /* and all connections of one address together */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_KEY_BYTES 16

struct http {
    struct request rq;
    struct http_site *site;
    struct conn *c;
    struct web_ask *wait;       /* the response to rq, waiting for the database; or NULL */
};

/* What serve did with a request. */
enum serve_result {
    SERVED,         /* answered */
    SERVED_LATER,   /* to be answered when web's reply comes (answered_later) */
    UPGRADED,       /* the connection is no longer HTTP's */
};

struct reply {
    int status;
    const char *type;
    const char *body;           /* the body, or NULL for dyn */
    size_t len;
    struct buf dyn;
    const char *extra;          /* further header lines, each ending in \r\n; or NULL */
};

static const char *reason_phrase(int status)
{
    switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

enum http_sniff http_sniff(const char *buf, size_t len)
{
    static const char *const methods[] = {
        "GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE ",
    };
    enum http_sniff verdict = HTTP_NO;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        size_t m = strlen(methods[i]);
        if (memcmp(buf, methods[i], len < m ? len : m) == 0) {
            if (len >= m) {
                return HTTP_YES;
            }
            verdict = HTTP_MAYBE;
        }
    }
    return verdict;
}

/* ---- answers ---- */

/* Does the comma-separated list hold token, regardless of case? */
static int has_token(const char *list, const char *token)
{
    size_t t = strlen(token);
    for (const char *p = list; *p != '\0';) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, ",");
        size_t end = n;
        while (end > 0 && (p[end - 1] == ' ' || p[end - 1] == '\t')) {
            end--;
        }
        if (end == t && strncasecmp(p, token, t) == 0) {
            return 1;
        }
        p += n;
    }
    return 0;
}

static void send_reply(struct http *h, struct reply *r, int keep)
{
    struct conn *c = h->c;
    const char *body = r->body != NULL ? r->body : r->dyn.data;
    size_t len = r->body != NULL ? r->len : r->dyn.len;
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: %s\r\n"
                     "Content-Length: %zu\r\n"
                     "Cache-Control: no-cache\r\n"
                     "X-Content-Type-Options: nosniff\r\n"
                     "%s"
                     "%s"
                     "\r\n",
                     r->status, reason_phrase(r->status), r->type, len,
                     r->extra != NULL ? r->extra : "", keep ? "" : "Connection: close\r\n");
    if (n > 0 && (size_t)n < sizeof(head)) {
        conn_write(c, head, (size_t)n);
        if (h->rq.parser.method != HTTP_HEAD && len > 0) {
            conn_write(c, body, len);
        }
    }
    buf_free(&r->dyn);
    if (!keep) {
        conn_drain(c, "http done");
    }
}

static void text(struct reply *r, int status, const char *msg)
{
    r->status = status;
    r->type = "text/plain; charset=utf-8";
    r->body = msg;
    r->len = strlen(msg);
}

/* The answer to a request refused while it was read. */
static void refusal(struct reply *r, int status)
{
    text(r, status, status == 405   ? "GET and HEAD only\n"
                    : status == 413 ? "no request bodies\n"
                    : status == 414 ? "target too long\n"
                    : status == 431 ? "headers too large\n"
                                    : "bad request\n");
    r->extra = status == 405 ? "Allow: GET, HEAD\r\n" : NULL;
}

/* The handshake's answer key: base64(SHA-1(key + GUID)). 0, or -1 if the key is not 16 bytes in
 * base64. */
static int accept_key(const char *key, char out[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE) + 1])
{
    struct base64_decode_ctx b64;
    uint8_t raw[BASE64_DECODE_LENGTH(REQUEST_VALUE_MAX)];
    size_t n = sizeof(raw);
    size_t klen = strlen(key);
    base64_decode_init(&b64);
    if (klen != 24 || !base64_decode_update(&b64, &n, raw, klen, key) || !base64_decode_final(&b64) ||
        n != WS_KEY_BYTES) {
        return -1;
    }
    struct sha1_ctx sha;
    uint8_t digest[SHA1_DIGEST_SIZE];
    sha1_init(&sha);
    sha1_update(&sha, klen, (const uint8_t *)key);
    sha1_update(&sha, strlen(WS_GUID), (const uint8_t *)WS_GUID);
    sha1_digest(&sha, sizeof(digest), digest);
    base64_encode_raw(out, sizeof(digest), digest);
    out[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE)] = '\0';
    return 0;
}

/* Is the page that opens the WebSocket from this server? (A browser sends Origin; other clients
 * need not.) Nothing here rides on cookies, but another site has no business playing from a
 * visitor's browser. */
static int same_origin(const struct http *h)
{
    if (!request_has(&h->rq, RQ_ORIGIN)) {
        return 1;
    }
    const char *host = strstr(request_value(&h->rq, RQ_ORIGIN), "://");
    return host != NULL && strcmp(host + 3, request_value(&h->rq, RQ_HOST)) == 0;
}

/* Answer a WebSocket handshake and hand the connection over; 0, or -1 with r filled to refuse. */
static int upgrade(struct http *h, int top, const char *query, size_t qlen, int extra_bytes, struct reply *r)
{
    char accept[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE) + 1];
    int rows = top ? web_top_rows(query, qlen) : 0;

    if (!h->rq.parser.upgrade || !has_token(request_value(&h->rq, RQ_UPGRADE), "websocket") ||
        !has_token(request_value(&h->rq, RQ_CONNECTION), "upgrade")) {
        text(r, 426, "websocket only\n");
        r->extra = "Upgrade: websocket\r\n";
        return -1;
    }
    if (strcmp(request_value(&h->rq, RQ_WS_VERSION), "13") != 0) {
        text(r, 426, "websocket version 13 only\n");
        r->extra = "Sec-WebSocket-Version: 13\r\n";
        return -1;
    }
    if (extra_bytes || accept_key(request_value(&h->rq, RQ_WS_KEY), accept) < 0) {
        text(r, 400, extra_bytes ? "bytes before the handshake's answer\n" : "bad websocket key\n");
        return -1;
    }
    if (!same_origin(h)) {
        text(r, 403, "cross-origin websocket\n");
        return -1;
    }
    if (rows < 0) {
        text(r, 400, "bad count\n");
        return -1;
    }
    struct ws *ws = ws_new(top ? WS_TEXT : WS_BINARY, top ? WS_TEXT : WS_BINARY);
    if (ws == NULL) {
        text(r, 503, "out of memory\n");
        return -1;
    }
    char head[160];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n",
                     accept);
    struct conn *c = h->c;
    struct http_site *site = h->site;
    if (conn_write(c, head, (size_t)n) < 0) {
        ws_free(ws);
        return 0;
    }
    conn_upgrade(c, ws);
    free(h);        /* the connection belongs to the game or the watchers now */
    if (top) {
        watch_attach(site->watch, c, rows);
    } else {
        play_attach(site->game, c);
    }
    return 0;
}

static void answered_later(void *data, struct web_reply *d);

/* The JSON API, /healthz or /metrics, when the path is one of web's: WEB_ANSWERED with r filled,
 * WEB_LATER with h->wait set, else WEB_NOT_MINE. */
static int answer_data(struct http *h, const char *path, size_t plen, const char *query, size_t qlen,
                       struct reply *r)
{
    struct web_reply data;
    int routed = web_route(h->site->web, path, plen, query, qlen, &data, answered_later, h, &h->wait);
    if (routed != WEB_ANSWERED) {
        buf_free(&data.body);
        return routed;
    }
    r->status = data.status;
    r->type = data.type;
    r->dyn = data.body;     /* freed by send_reply */
    return routed;
}

/* The request h has been read in full; extra_bytes: more bytes followed it. */
static enum serve_result serve(struct http *h, int extra_bytes)
{
    struct reply r = { 0 };
    struct http_parser_url u;
    struct request *rq = &h->rq;
    int keep = http_should_keep_alive(&rq->parser);

    http_parser_url_init(&u);
    if (rq->status != 0) {
        refusal(&r, rq->status);
        keep = 0;
    } else if (rq->parser.http_major == 1 && rq->parser.http_minor >= 1 && !request_has(rq, RQ_HOST)) {
        text(&r, 400, "no host\n");
        keep = 0;
    } else if (rq->url[0] != '/' || http_parser_parse_url(rq->url, rq->url_len, 0, &u) != 0) {
        text(&r, 400, "bad target\n");
        keep = 0;
    } else {
        const char *path = rq->url + u.field_data[UF_PATH].off;
        size_t plen = u.field_data[UF_PATH].len;
        const char *query = (u.field_set & 1u << UF_QUERY) ? rq->url + u.field_data[UF_QUERY].off : "";
        size_t qlen = (u.field_set & 1u << UF_QUERY) ? u.field_data[UF_QUERY].len : 0;
        const struct asset *a = assets_find(path, plen);
        int top = plen == 7 && memcmp(path, "/ws/top", 7) == 0;
        if (a != NULL) {
            r.status = 200;
            r.type = a->type;
            r.body = (const char *)a->data;
            r.len = a->len;
            r.extra = "Content-Security-Policy: default-src 'self'; connect-src 'self'; img-src 'self' data:\r\n";
        } else if (top || (plen == 3 && memcmp(path, "/ws", 3) == 0)) {
            if (upgrade(h, top, query, qlen, extra_bytes, &r) == 0) {
                return UPGRADED;
            }
            keep = 0;
        } else {
            int routed = answer_data(h, path, plen, query, qlen, &r);
            if (routed == WEB_LATER) {
                return SERVED_LATER;
            }
            if (routed == WEB_NOT_MINE) {
                text(&r, 404, "not found\n");
            }
        }
    }
    send_reply(h, &r, keep);
    return SERVED;
}

/* web's reply to the request that waited: sent, and the requests after it are read. rq is still
 * that request's (its method, its keep-alive): the parser waited too. */
static void answered_later(void *data, struct web_reply *d)
{
    struct http *h = data;
    struct reply r = { .status = d->status, .type = d->type, .dyn = d->body };

    h->wait = NULL;
    send_reply(h, &r, http_should_keep_alive(&h->rq.parser));
    request_next(&h->rq);
    conn_resume(h->c);
}

/* ---- the connection ---- */

static size_t input(struct conn *c, const char *buf, size_t len, int more, int eof);
static void gone(struct conn *c);
static const struct conn_ops http_ops = { "http", input, gone };

void http_attach(struct http_site *site, struct conn *c)
{
    struct http *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        conn_close(c, "out of memory");
        return;
    }
    h->site = site;
    h->c = c;
    request_init(&h->rq);
    conn_set_kind(c, &http_ops, h, site->idle, 0);
}

static void gone(struct conn *c)
{
    struct http *h = c->owner;
    if (h->wait != NULL) {
        web_cancel(h->wait);
    }
    free(h);
    c->owner = NULL;
}

static size_t input(struct conn *c, const char *buf, size_t len, int more, int eof)
{
    struct http *h = c->owner;
    size_t pos = 0;
    unsigned served = 0;
    (void)more;

    while (pos < len && c->state == CONN_OPEN) {
        if (served >= HTTP_TURN || conn_addr_spent(c) >= HTTP_ADDR_TURN || conn_congested(c)) {
            conn_yield(c);
            return pos;
        }
        size_t n;
        enum request_state state = request_parse(&h->rq, buf + pos, len - pos, &n);
        pos += n;
        if (state == REQUEST_DONE) {
            served++;
            conn_addr_spend(c, 1);
            conn_progress(c);
            enum serve_result served_as = serve(h, pos < len);
            if (served_as == UPGRADED) {
                return len;     /* a WebSocket now */
            }
            if (served_as == SERVED_LATER) {
                conn_wait(c);   /* the rest after its response */
                return pos;
            }
            request_next(&h->rq);
        } else if (state == REQUEST_BAD) {
            struct reply r = { 0 };
            refusal(&r, h->rq.status);
            send_reply(h, &r, 0);
            return len;
        }
    }
    if (eof && c->state == CONN_OPEN) {
        conn_drain(c, "client closed");
    }
    return pos;
}
