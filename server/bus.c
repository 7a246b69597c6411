/* bus: arcade's Redis bus (bus.h), on hiredis's asynchronous API and its libev adapter.
 *
 * Two connections to the same Redis, the "link":
 *
 *   cmd   every request (EVAL of the scripts below, EXISTS, LREM, PUBLISH) and the heartbeat,
 *         one pipeline, answered in order
 *   sub   SUBSCRIBE arcade:to:<id> and nothing else: a subscribed connection may not send
 *         anything but (un)subscriptions
 *
 *   DOWN --retry_w (pause)--> CONNECTING --both set up, heartbeat stored--> UP
 *     ^                           |                                          |
 *     +--- lost, refused, timed out, silent (retry_w as deadline) ----------+
 *
 * Setting up a link: connect both, AUTH and SELECT on cmd, AUTH and SUBSCRIBE on sub; once sub
 * is subscribed, the first heartbeat (SET arcade:node:<id>) goes on cmd, and its reply makes the
 * link UP: another node can only see this one alive once it listens. Requests are accepted only
 * while UP.
 *
 * A Redis that is stopped, or cut off by a network that drops packets, keeps both sockets open and
 * answers nothing: only its silence tells. While UP and a heartbeat is unanswered, retry_w is the
 * deadline of Redis's next answer, BUS_STALL after that heartbeat or after Redis's last answer;
 * when it passes, the link drops as if lost. That is at most BUS_HEARTBEAT + BUS_STALL after the
 * last answer, before the node key stored with it expires (BUS_NODE_TTL): this node lets go
 * before the others count it gone. Nothing owed, no deadline: a loop held up for a while (a slow
 * callback, a stopped process) does not blame Redis for the answers it could not read. The
 * attempts that follow connect, since the kernel accepts for a stopped Redis, and time out in
 * CONNECTING until it answers again.
 *
 * A request travels as a struct flight, which hiredis holds as the privdata of its command and
 * hands back exactly once: with the reply, or with NULL when the connection goes away. The reply
 * is written into the caller's request, the flight moves to b->answered, and answer_w (fed with
 * ev_feed_event, never started) calls done from the loop once hiredis has returned: no caller's
 * code ever runs inside a callback of cmd, so nothing the caller does there (bus_close among it)
 * pulls cmd away under hiredis. bus_cancel cuts the request off its flight; the flight itself
 * lives on until hiredis lets it go.
 *
 * Losing either connection drops the whole link: the other one is freed, the pending flights get
 * hiredis's NULL reply and fail, and retry_w tries again after pauses that double from
 * BUS_RETRY_MIN to BUS_RETRY_MAX.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <hiredis/adapters/libev.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "bus.h"
#include "log.h"

#define BUS_RETRY_MIN 0.1       /* seconds before the first attempt after a loss */
#define BUS_CONNECT_WAIT 3.0    /* seconds an attempt may take, bus_open's included */
#define BUS_GOODBYE_WAIT 500    /* milliseconds bus_close waits for Redis to forget this node */
#define BUS_WHERE_MAX 512

#define KEY_NODE "arcade:node:"
#define KEY_LIVE "arcade:live:"
#define KEY_TO "arcade:to:"
#define KEY_QUEUE "arcade:queue"

/* take 0 or 1: {status, holder that must be told or ""}. The holder counts only while its node
 * key exists (it says it is alive). */
static const char claim_lua[] =
    "local cur = redis.call('GET', KEYS[1]) "
    "if cur and cur ~= ARGV[1] and redis.call('EXISTS', ARGV[3] .. cur) == 1 then "
    "  if ARGV[2] == '0' then return {0, cur} end "
    "  redis.call('SET', KEYS[1], ARGV[1]) "
    "  return {1, cur} "
    "end "
    "redis.call('SET', KEYS[1], ARGV[1]) "
    "return {1, ''}";

/* Compare and delete. */
static const char release_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end "
    "return 0";

/* Compare and set. */
static const char hand_over_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end "
    "return 0";

/* Pop from the head until an entry of a live node ({1, entry}); none left: append ours ({0, ''}).
 * An entry's node is its first BUS_NODE_LEN bytes, followed by BUS_ENTRY_SEP; an entry of any
 * other shape counts as a gone node's. */
static const char queue_take_lua[] =
    "while true do "
    "  local e = redis.call('LPOP', KEYS[1]) "
    "  if not e then "
    "    redis.call('RPUSH', KEYS[1], ARGV[1]) "
    "    return {0, ''} "
    "  end "
    "  local n = tonumber(ARGV[3]) "
    "  if string.sub(e, n + 1, n + 1) == ARGV[4] "
    "     and redis.call('EXISTS', ARGV[2] .. string.sub(e, 1, n)) == 1 then "
    "    return {1, e} "
    "  end "
    "end";

enum link_state {
    LINK_DOWN,          /* no connection; retry_w waits out the pause */
    LINK_CONNECTING,    /* connections being set up; retry_w is the deadline */
    LINK_UP,            /* requests accepted */
    LINK_CLOSED,        /* bus_close under way */
};

enum ask {
    ASK_CLAIM,
    ASK_ALIVE,
    ASK_QUEUE_TAKE,
    ASK_QUEUE_REMOVE,
};

/* Where Redis is, parsed from the URI. */
struct where {
    int unix_socket;
    char host[256];
    int port;
    char path[108];             /* sizeof(sun_path) */
    char user[64];
    char password[256];
    int has_password;
    int db;
};

struct flight {
    struct bus *b;
    struct bus_req *r;          /* NULL once cancelled: the answer is dropped */
    enum ask ask;
    int answered;               /* in b->answered, waiting for answer_w */
    struct flight *prev, *next; /* in b->answered */
};

struct bus {
    struct ev_loop *loop;
    struct where at;
    char where[BUS_WHERE_MAX];  /* at, redacted, for logs */
    char node[BUS_NODE_LEN + 1];
    char node_key[sizeof(KEY_NODE) + BUS_NODE_LEN];
    char channel[sizeof(KEY_TO) + BUS_NODE_LEN];
    char alive_value[96];       /* what the node key holds: host and pid, for whoever looks */
    bus_message_fn *on_message;
    void *arg;

    enum link_state state;
    redisAsyncContext *cmd;     /* NULL while down */
    redisAsyncContext *sub;
    int subscribed;             /* sub has confirmed its SUBSCRIBE */
    int opening;                /* inside bus_open: no retry, no log, the reason goes to its caller */
    int lost_logged;            /* the loss was logged; said again only once connected again */
    unsigned links;             /* links that came up so far */
    double pause;               /* before the next attempt */
    char why[128];              /* why the link last dropped */
    ev_timer retry_w;           /* DOWN: the pause; CONNECTING: the deadline; UP: the next answer's */
    ev_timer heartbeat_w;       /* UP: SET node_key every BUS_HEARTBEAT */
    int owed;                   /* UP: heartbeats Redis has not answered yet */

    struct flight *answered, *answered_tail;   /* answered, done not called yet, oldest first */
    ev_idle answer_w;           /* fed when answered fills, never started */
    int delivering;             /* answer_cb is calling done: bus_close leaves the freeing to it */
};

static void link_start(struct bus *b, struct ev_loop *loop);

/* Parsing the address. */

static int is_hex_node(const char *s, size_t len)
{
    if (len != BUS_NODE_LEN) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f')) {
            return 0;
        }
    }
    return 1;
}

/* "[user]:password@" at the head of s (before any '/'), into w; returns what follows, or NULL. */
static const char *parse_userinfo(const char *s, struct where *w)
{
    const char *slash = strchr(s, '/');
    size_t span = slash != NULL ? (size_t)(slash - s) : strlen(s);
    const char *at = memrchr(s, '@', span);
    const char *colon;

    if (at == NULL) {
        return s;
    }
    colon = memchr(s, ':', (size_t)(at - s));
    if (colon == NULL || (size_t)(colon - s) >= sizeof(w->user) || (size_t)(at - colon - 1) >= sizeof(w->password)) {
        return NULL;
    }
    memcpy(w->user, s, (size_t)(colon - s));
    w->user[colon - s] = '\0';
    memcpy(w->password, colon + 1, (size_t)(at - colon - 1));
    w->password[at - colon - 1] = '\0';
    w->has_password = 1;
    return at + 1;
}

static int parse_number(const char *s, size_t len, int max, int *out)
{
    long v = 0;

    if (len == 0 || len > 9) {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i])) {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    if (v > max) {
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* "host[:port][/db]" or "[v6]:port..." */
static int parse_host(const char *s, struct where *w, const char **why)
{
    const char *end = s + strcspn(s, "/");
    const char *host = s, *host_end, *port = NULL;

    if (*s == '[') {
        host = s + 1;
        host_end = memchr(host, ']', (size_t)(end - host));
        if (host_end == NULL || (host_end[1] != ':' && host_end + 1 != end)) {
            *why = "bad IPv6 address";
            return -1;
        }
        port = host_end[1] == ':' ? host_end + 2 : NULL;
    } else {
        host_end = memchr(s, ':', (size_t)(end - s));
        if (host_end != NULL) {
            port = host_end + 1;
        } else {
            host_end = end;
        }
    }
    if (host_end == host || (size_t)(host_end - host) >= sizeof(w->host)) {
        *why = "no host";
        return -1;
    }
    memcpy(w->host, host, (size_t)(host_end - host));
    w->host[host_end - host] = '\0';
    w->port = 6379;
    if (port != NULL && (parse_number(port, (size_t)(end - port), 65535, &w->port) < 0 || w->port == 0)) {
        *why = "bad port";
        return -1;
    }
    if (*end == '/' && end[1] != '\0' && parse_number(end + 1, strlen(end + 1), 1000000, &w->db) < 0) {
        *why = "bad database number";
        return -1;
    }
    return 0;
}

static int parse_where(const char *s, struct where *w, const char **why)
{
    const char *rest;

    memset(w, 0, sizeof(*w));
    *why = "not redis://... or unix://...";
    if (strncmp(s, "redis://", 8) == 0) {
        rest = parse_userinfo(s + 8, w);
        if (rest == NULL) {
            *why = "bad user or password (redis://[[user]:password@]host[:port][/db])";
            return -1;
        }
        return parse_host(rest, w, why);
    }
    if (strncmp(s, "unix://", 7) == 0) {
        w->unix_socket = 1;
        rest = parse_userinfo(s + 7, w);
        if (rest == NULL || rest[0] != '/' || strlen(rest) >= sizeof(w->path)) {
            *why = "not unix://[[user]:password@]/path/to/socket";
            return -1;
        }
        snprintf(w->path, sizeof(w->path), "%s", rest);
        return 0;
    }
    return -1;
}

int bus_is_uri(const char *where)
{
    return strncmp(where, "redis://", 8) == 0 || strncmp(where, "unix://", 7) == 0;
}

const char *bus_redact(const char *where, char *out, size_t outlen)
{
    const char *rest = strstr(where, "://");
    const char *slash, *at, *colon, *cut;
    size_t span;

    if (rest == NULL) {
        snprintf(out, outlen, "%s", where);
        return out;
    }
    rest += 3;
    slash = strchr(rest, '/');
    span = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
    at = memrchr(rest, '@', span);
    if (at == NULL) {
        snprintf(out, outlen, "%s", where);
        return out;
    }
    /* Keep the scheme and the user; whatever follows the user's ':' is the secret. */
    colon = memchr(rest, ':', (size_t)(at - rest));
    cut = colon != NULL ? colon + 1 : rest;
    snprintf(out, outlen, "%.*s***%s", (int)(cut - where), where, at);
    return out;
}

/* Names and entries. */

/* name folded to lower case into out; -1 when it is not 1..BUS_NAME_MAX of [A-Za-z0-9_-]. */
static int fold_name(const char *name, char *out)
{
    size_t i;

    for (i = 0; name[i] != '\0'; i++) {
        unsigned char c = (unsigned char)name[i];
        if (i >= BUS_NAME_MAX || c >= 0x80 || !(isalnum(c) || c == '_' || c == '-')) {
            return -1;
        }
        out[i] = (char)tolower(c);
    }
    out[i] = '\0';
    return i > 0 ? 0 : -1;
}

static int name_key(const char *name, char *key)
{
    memcpy(key, KEY_LIVE, sizeof(KEY_LIVE) - 1);
    return fold_name(name, key + sizeof(KEY_LIVE) - 1);
}

static int entry_ok(const char *entry)
{
    size_t len = strlen(entry);

    return len > BUS_NODE_LEN && len <= BUS_ENTRY_MAX && is_hex_node(entry, BUS_NODE_LEN) &&
           entry[BUS_NODE_LEN] == BUS_ENTRY_SEP;
}

/* Answers. */

static void unlink_answered(struct bus *b, struct flight *f)
{
    if (f->prev != NULL) {
        f->prev->next = f->next;
    } else {
        b->answered = f->next;
    }
    if (f->next != NULL) {
        f->next->prev = f->prev;
    } else {
        b->answered_tail = f->prev;
    }
}

static void answer_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
    struct bus *b = (struct bus *)((char *)w - offsetof(struct bus, answer_w));

    (void)loop;
    (void)revents;
    b->delivering = 1;
    while (b->state != LINK_CLOSED && b->answered != NULL) {
        struct flight *f = b->answered;
        struct bus_req *r = f->r;

        unlink_answered(b, f);
        r->flight = NULL;
        free(f);
        r->done(r);
    }
    b->delivering = 0;
    /* A done that closed the bus left the freeing to here. */
    if (b->state == LINK_CLOSED) {
        free(b);
    }
}

static void fail(struct bus_req *r, const char *why)
{
    r->status = -1;
    snprintf(r->err, sizeof(r->err), "%s", why);
}

/* Fill r from reply, as f->ask reads it. */
static void read_reply(struct flight *f, const redisReply *reply)
{
    struct bus_req *r = f->r;
    const redisReply *text;

    if (reply->type == REDIS_REPLY_ERROR) {
        r->status = -1;
        snprintf(r->err, sizeof(r->err), "Redis: %s", reply->str);
        return;
    }
    switch (f->ask) {
    case ASK_ALIVE:
    case ASK_QUEUE_REMOVE:
        if (reply->type != REDIS_REPLY_INTEGER) {
            break;
        }
        r->status = reply->integer > 0;
        return;
    case ASK_CLAIM:
    case ASK_QUEUE_TAKE:
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
            reply->element[0]->type != REDIS_REPLY_INTEGER || reply->element[1]->type != REDIS_REPLY_STRING) {
            break;
        }
        text = reply->element[1];
        if (f->ask == ASK_CLAIM) {
            if (text->len != 0 && !is_hex_node(text->str, text->len)) {
                break;
            }
            memcpy(r->node, text->str, text->len);
            r->node[text->len] = '\0';
        } else {
            if (text->len > BUS_ENTRY_MAX) {
                break;
            }
            memcpy(r->entry, text->str, text->len);
            r->entry[text->len] = '\0';
        }
        r->status = (int)reply->element[0]->integer;
        return;
    }
    fail(r, "unexpected reply from Redis");
}

/* The link. */

static void link_drop(struct bus *b, const redisAsyncContext *gone, const char *why);

/* Forget ac: nothing of it calls back into b any more. Freed unless hiredis is freeing it (gone). */
static void let_go(redisAsyncContext *ac, const redisAsyncContext *gone)
{
    if (ac == NULL) {
        return;
    }
    ac->data = NULL;
    ac->onConnect = NULL;
    ac->onDisconnect = NULL;
    if (ac != gone) {
        redisAsyncFree(ac);
    }
}

static void flight_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct flight *f = privdata;
    struct bus *b = f->b;

    if (reply == NULL) {
        /* hiredis is letting the connection go; if it is still ours, the link drops with it. */
        if (ac->data == b) {
            link_drop(b, ac, ac->errstr != NULL && ac->err != 0 ? ac->errstr : "connection closed");
        }
    }
    if (f->r == NULL) {
        free(f);
        return;
    }
    if (reply == NULL) {
        fail(f->r, b->state == LINK_CLOSED ? "bus closed" : "lost the connection to Redis");
    } else {
        read_reply(f, reply);
    }
    f->answered = 1;
    f->next = NULL;
    f->prev = b->answered_tail;
    if (b->answered_tail != NULL) {
        b->answered_tail->next = f;
    } else {
        b->answered = f;
    }
    b->answered_tail = f;
    if (b->state != LINK_CLOSED) {
        ev_feed_event(b->loop, &b->answer_w, EV_CUSTOM);
    }
}

static void heartbeat(struct bus *b, redisCallbackFn *fn)
{
    char px[32];

    snprintf(px, sizeof(px), "%lld", (long long)(BUS_NODE_TTL * 1000));
    if (redisAsyncCommand(b->cmd, fn, NULL, "SET %s %s PX %s", b->node_key, b->alive_value, px) != REDIS_OK) {
        link_drop(b, NULL, "cannot send to Redis");
    }
}

/* An error reply or NULL to a command the link depends on (a step of its setup, a heartbeat) drops
 * the link; returns 1 when the command went through. */
static int reply_ok(redisAsyncContext *ac, const redisReply *reply, const char *step)
{
    struct bus *b = ac->data;
    char why[160];

    if (b == NULL) {
        return 0;
    }
    if (reply == NULL) {
        link_drop(b, ac, ac->err != 0 && ac->errstr != NULL ? ac->errstr : "connection closed");
        return 0;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        snprintf(why, sizeof(why), "%s: %s", step, reply->str);
        link_drop(b, NULL, why);
        return 0;
    }
    return 1;
}

/* UP: Redis owes an answer (from now) while a heartbeat is unanswered, and none otherwise. */
static void await_answer(struct bus *b)
{
    ev_timer_stop(b->loop, &b->retry_w);
    if (b->owed > 0) {
        ev_timer_set(&b->retry_w, BUS_STALL, 0.);
        ev_timer_start(b->loop, &b->retry_w);
    }
}

/* A heartbeat came back: Redis answers. An error (a replica, out of memory, too few replicas to
 * write) means the node key is not kept: the others will count this node gone, so the link drops as
 * if lost. ac->data is b only while ac is b's cmd (which sends heartbeats only while UP): NULL once
 * the bus let go of it, and b may be freed by then. A NULL reply means cmd is going away, which
 * disconnect_cb sees to. */
static void beat_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct bus *b = ac->data;

    (void)privdata;
    if (b != NULL && reply_ok(ac, reply, "heartbeat")) {
        b->owed--;
        await_answer(b);
    }
}

static void heartbeat_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct bus *b = (struct bus *)((char *)w - offsetof(struct bus, heartbeat_w));

    (void)loop;
    (void)revents;
    if (b->state != LINK_UP) {
        return;
    }
    if (++b->owed == 1) {
        await_answer(b);
    }
    heartbeat(b, beat_cb);
}

static void auth_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)privdata;
    reply_ok(ac, reply, "AUTH");
}

static void select_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)privdata;
    reply_ok(ac, reply, "SELECT");
}

/* Without a password, a Redis that wants one says so here rather than nowhere (a subscribed
 * connection drops the error of its SUBSCRIBE). */
static void ping_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)privdata;
    reply_ok(ac, reply, "PING");
}

/* The first heartbeat of a link came back: up. */
static void hello_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct bus *b = ac->data;

    (void)privdata;
    if (!reply_ok(ac, reply, "SET") || b->state != LINK_CONNECTING) {
        return;
    }
    ev_timer_stop(b->loop, &b->retry_w);
    b->state = LINK_UP;
    b->links++;
    b->pause = BUS_RETRY_MIN;
    b->owed = 0;
    ev_timer_again(b->loop, &b->heartbeat_w);
    if (b->lost_logged) {
        log_info("bus: connected to Redis at %s again", b->where);
    }
    b->lost_logged = 0;
}

static void deliver(struct bus *b, const redisReply *payload)
{
    char from[BUS_NODE_LEN + 1];

    if (payload->type != REDIS_REPLY_STRING || payload->len < BUS_NODE_LEN ||
        payload->len - BUS_NODE_LEN > BUS_MESSAGE_MAX || !is_hex_node(payload->str, BUS_NODE_LEN)) {
        log_debug("bus: dropped a malformed message");
        return;
    }
    memcpy(from, payload->str, BUS_NODE_LEN);
    from[BUS_NODE_LEN] = '\0';
    /* The last use of b here: on_message may close the bus. */
    b->on_message(b->arg, from, payload->str + BUS_NODE_LEN, payload->len - BUS_NODE_LEN);
}

static void sub_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct bus *b = ac->data;
    const redisReply *rep = reply;
    const char *kind;

    (void)privdata;
    if (!reply_ok(ac, rep, "SUBSCRIBE")) {
        return;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 || rep->element[0]->type != REDIS_REPLY_STRING) {
        return;
    }
    kind = rep->element[0]->str;
    if (strcmp(kind, "subscribe") == 0 && !b->subscribed) {
        b->subscribed = 1;
        heartbeat(b, hello_cb);
    } else if (strcmp(kind, "message") == 0 && b->state == LINK_UP && !b->opening) {
        /* Nobody can know this node before bus_open returns: nothing is lost. */
        deliver(b, rep->element[2]);
    }
}

static void connect_cb(const redisAsyncContext *ac, int status)
{
    struct bus *b = ac->data;

    if (b != NULL && status != REDIS_OK) {
        link_drop(b, ac, ac->errstr != NULL ? ac->errstr : "cannot connect");
    }
}

static void disconnect_cb(const redisAsyncContext *ac, int status)
{
    struct bus *b = ac->data;

    (void)status;
    if (b != NULL) {
        link_drop(b, ac, ac->err != 0 && ac->errstr != NULL ? ac->errstr : "connection closed");
    }
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct bus *b = (struct bus *)((char *)w - offsetof(struct bus, retry_w));

    (void)revents;
    if (b->state == LINK_DOWN) {
        link_start(b, loop);
    } else if (b->state == LINK_CONNECTING) {
        link_drop(b, NULL, "timed out");
    } else if (b->state == LINK_UP) {
        link_drop(b, NULL, "Redis stopped answering");
    }
}

static void link_drop(struct bus *b, const redisAsyncContext *gone, const char *why)
{
    redisAsyncContext *cmd = b->cmd, *sub = b->sub;
    int was_up = b->state == LINK_UP;

    if (b->state == LINK_DOWN || b->state == LINK_CLOSED) {
        return;
    }
    b->state = LINK_DOWN;
    snprintf(b->why, sizeof(b->why), "%s", why);
    b->cmd = NULL;
    b->sub = NULL;
    b->subscribed = 0;
    ev_timer_stop(b->loop, &b->heartbeat_w);
    ev_timer_stop(b->loop, &b->retry_w);
    /* Freeing cmd answers its flights (hiredis's NULL reply), which find the link down already. */
    let_go(cmd, gone);
    let_go(sub, gone);
    if (b->opening) {
        return;
    }
    if (was_up && !b->lost_logged) {
        log_error("bus: lost Redis at %s (%s); connecting again", b->where, why);
        b->lost_logged = 1;
    } else {
        log_debug("bus: Redis at %s: %s", b->where, why);
    }
    ev_timer_set(&b->retry_w, b->pause, 0.);
    ev_timer_start(b->loop, &b->retry_w);
    b->pause = b->pause * 2 < BUS_RETRY_MAX ? b->pause * 2 : BUS_RETRY_MAX;
}

static redisAsyncContext *connect_one(struct bus *b, struct ev_loop *loop, char *why, size_t whylen)
{
    redisAsyncContext *ac = b->at.unix_socket ? redisAsyncConnectUnix(b->at.path)
                                              : redisAsyncConnect(b->at.host, b->at.port);

    if (ac == NULL) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    if (ac->err != 0) {
        snprintf(why, whylen, "%s", ac->errstr);
        redisAsyncFree(ac);
        return NULL;
    }
    ac->data = b;
    redisLibevAttach(loop, ac);
    redisAsyncSetConnectCallback(ac, connect_cb);
    redisAsyncSetDisconnectCallback(ac, disconnect_cb);
    if (b->at.has_password) {
        if (b->at.user[0] != '\0') {
            redisAsyncCommand(ac, auth_cb, NULL, "AUTH %s %s", b->at.user, b->at.password);
        } else {
            redisAsyncCommand(ac, auth_cb, NULL, "AUTH %s", b->at.password);
        }
    }
    return ac;
}

/* Connect both, set them up, on loop (bus_open's own until the first link is up). */
static void link_start(struct bus *b, struct ev_loop *loop)
{
    char why[128];

    b->state = LINK_CONNECTING;
    b->subscribed = 0;
    b->cmd = connect_one(b, loop, why, sizeof(why));
    if (b->cmd != NULL) {
        b->sub = connect_one(b, loop, why, sizeof(why));
    }
    if (b->sub == NULL) {
        link_drop(b, NULL, why);
        return;
    }
    if (b->at.db != 0) {
        redisAsyncCommand(b->cmd, select_cb, NULL, "SELECT %d", b->at.db);
    }
    redisAsyncCommand(b->cmd, ping_cb, NULL, "PING");
    redisAsyncCommand(b->sub, sub_cb, NULL, "SUBSCRIBE %s", b->channel);
    if (!b->opening) {
        ev_timer_set(&b->retry_w, BUS_CONNECT_WAIT, 0.);
        ev_timer_start(b->loop, &b->retry_w);
    }
}

/* Move ac from the loop it was set up on to loop, keeping what it watches (the libev adapter has
 * no call for this: its events are undone and done again). */
static void move_to(redisAsyncContext *ac, struct ev_loop *loop)
{
    redisLibevEvents *e = ac->ev.data;
    int reading = e->reading, writing = e->writing;

    ac->ev.cleanup(e);
    ac->ev.data = NULL;
    redisLibevAttach(loop, ac);
    if (reading) {
        ac->ev.addRead(ac->ev.data);
    }
    if (writing) {
        ac->ev.addWrite(ac->ev.data);
    }
}

static void open_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

/* The first link, on a loop of bus_open's own, so that nothing else on the caller's loop runs
 * inside bus_open. */
static int first_link(struct bus *b)
{
    struct ev_loop *own = ev_loop_new(EVFLAG_AUTO);
    ev_timer deadline;
    double until;

    if (own == NULL) {
        snprintf(b->why, sizeof(b->why), "cannot make an event loop");
        return -1;
    }
    ev_timer_init(&deadline, open_deadline_cb, BUS_CONNECT_WAIT, 0.);
    ev_timer_start(own, &deadline);
    until = ev_now(own) + BUS_CONNECT_WAIT;
    link_start(b, own);
    while (b->state == LINK_CONNECTING && ev_now(own) < until) {
        ev_run(own, EVRUN_ONCE);
    }
    ev_timer_stop(own, &deadline);
    if (b->state == LINK_CONNECTING) {
        link_drop(b, NULL, "timed out");
    }
    if (b->state == LINK_UP) {
        move_to(b->cmd, b->loop);
        move_to(b->sub, b->loop);
    }
    ev_loop_destroy(own);
    return b->state == LINK_UP ? 0 : -1;
}

struct bus *bus_open(const char *where, struct ev_loop *loop, bus_message_fn *on_message, void *arg, char *err,
                     size_t errlen)
{
    struct bus *b = calloc(1, sizeof(*b));
    unsigned char id[BUS_NODE_LEN / 2];
    const char *why;
    char host[64];

    if (b == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    bus_redact(where, b->where, sizeof(b->where));
    if (parse_where(where, &b->at, &why) < 0) {
        snprintf(err, errlen, "bad Redis address %s: %s", b->where, why);
        free(b);
        return NULL;
    }
    if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id)) {
        snprintf(err, errlen, "getrandom: %s", strerror(errno));
        free(b);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(id); i++) {
        snprintf(b->node + 2 * i, 3, "%02x", id[i]);
    }
    snprintf(b->node_key, sizeof(b->node_key), KEY_NODE "%s", b->node);
    snprintf(b->channel, sizeof(b->channel), KEY_TO "%s", b->node);
    if (gethostname(host, sizeof(host)) != 0) {
        snprintf(host, sizeof(host), "?");
    }
    host[sizeof(host) - 1] = '\0';
    snprintf(b->alive_value, sizeof(b->alive_value), "%s %ld", host, (long)getpid());
    b->loop = loop;
    b->on_message = on_message;
    b->arg = arg;
    b->pause = BUS_RETRY_MIN;
    ev_init(&b->retry_w, retry_cb);
    /* After the reads due with it: an answer that came while the loop was held up counts. */
    ev_set_priority(&b->retry_w, EV_MINPRI);
    ev_init(&b->heartbeat_w, heartbeat_cb);
    b->heartbeat_w.repeat = BUS_HEARTBEAT;
    ev_idle_init(&b->answer_w, answer_cb);

    b->opening = 1;
    if (first_link(b) < 0) {
        snprintf(err, errlen, "cannot reach Redis at %s: %s", b->where, b->why);
        ev_timer_stop(loop, &b->heartbeat_w);
        free(b);
        return NULL;
    }
    b->opening = 0;
    return b;
}

static int wait_fd(int fd, short events, int ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    int n;

    do {
        n = poll(&p, 1, ms);
    } while (n < 0 && errno == EINTR);
    return n;
}

/* DEL this node's key, waiting a little for Redis to do it: every name this node held is free
 * once it is gone. The replies of what was pending before are read and dropped on the way (those
 * requests fail: the bus is closing). A goodbye that does not get through costs only time: the
 * key expires after BUS_NODE_TTL. */
static void say_goodbye(struct bus *b)
{
    redisContext *c = &b->cmd->c;
    int pending = 1, done = 0;

    for (redisCallback *cb = b->cmd->replies.head; cb != NULL; cb = cb->next) {
        pending++;
    }
    if (redisAppendCommand(c, "DEL %s", b->node_key) != REDIS_OK) {
        return;
    }
    while (!done) {
        if (redisBufferWrite(c, &done) == REDIS_ERR || (!done && wait_fd(c->fd, POLLOUT, BUS_GOODBYE_WAIT) <= 0)) {
            return;
        }
    }
    while (pending > 0) {
        void *reply = NULL;

        if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
            return;
        }
        if (reply != NULL) {
            freeReplyObject(reply);
            pending--;
        } else if (wait_fd(c->fd, POLLIN, BUS_GOODBYE_WAIT) <= 0 || redisBufferRead(c) == REDIS_ERR) {
            return;
        }
    }
}

void bus_close(struct bus *b)
{
    redisAsyncContext *cmd, *sub;

    if (b == NULL || b->state == LINK_CLOSED) {
        return;
    }
    if (b->state == LINK_UP) {
        say_goodbye(b);
    }
    cmd = b->cmd;
    sub = b->sub;
    b->cmd = NULL;
    b->sub = NULL;
    b->state = LINK_CLOSED;
    ev_timer_stop(b->loop, &b->retry_w);
    ev_timer_stop(b->loop, &b->heartbeat_w);
    ev_clear_pending(b->loop, &b->answer_w);
    /* Every flight still in hiredis comes back now, with NULL, into answered. */
    let_go(cmd, NULL);
    let_go(sub, NULL);
    while (b->answered != NULL) {
        struct flight *f = b->answered;
        struct bus_req *r = f->r;

        unlink_answered(b, f);
        free(f);
        r->flight = NULL;
        r->done(r);
    }
    if (!b->delivering) {
        free(b);
    }
}

int bus_connected(const struct bus *b)
{
    return b->state == LINK_UP;
}

unsigned bus_links(const struct bus *b)
{
    return b->links;
}

const char *bus_node(const struct bus *b)
{
    return b->node;
}

void bus_cancel(struct bus *b, struct bus_req *r)
{
    struct flight *f = r->flight;

    if (f == NULL) {
        return;
    }
    r->flight = NULL;
    if (f->answered) {
        unlink_answered(b, f);
        free(f);
    } else {
        f->r = NULL;
    }
}

/* Requests. */

/* A flight for r, or NULL (r->err says why) when the bus is down. */
static struct flight *take_off(struct bus *b, struct bus_req *r, enum ask ask)
{
    struct flight *f;

    r->status = -1;
    r->err[0] = '\0';
    r->node[0] = '\0';
    r->entry[0] = '\0';
    r->flight = NULL;
    if (b->state != LINK_UP) {
        fail(r, "not connected to Redis");
        return NULL;
    }
    f = calloc(1, sizeof(*f));
    if (f == NULL) {
        fail(r, "out of memory");
        return NULL;
    }
    f->b = b;
    f->r = r;
    f->ask = ask;
    return f;
}

/* The command went into hiredis (0), or it did not and the flight is gone (-1). */
static int sent(struct bus_req *r, struct flight *f, int rc)
{
    if (rc != REDIS_OK) {
        free(f);
        fail(r, "cannot send to Redis");
        return -1;
    }
    r->flight = f;
    return 0;
}

int bus_send(struct bus *b, const char *node, const void *msg, size_t len)
{
    char channel[sizeof(KEY_TO) + BUS_NODE_LEN];
    char payload[BUS_NODE_LEN + BUS_MESSAGE_MAX];

    if (b->state != LINK_UP || len > BUS_MESSAGE_MAX || !is_hex_node(node, strlen(node))) {
        return -1;
    }
    snprintf(channel, sizeof(channel), KEY_TO "%s", node);
    memcpy(payload, b->node, BUS_NODE_LEN);
    memcpy(payload + BUS_NODE_LEN, msg, len);
    if (redisAsyncCommand(b->cmd, NULL, NULL, "PUBLISH %s %b", channel, payload, BUS_NODE_LEN + len) != REDIS_OK) {
        return -1;
    }
    return 0;
}

int bus_claim(struct bus *b, struct bus_req *r, const char *name, int take)
{
    char key[sizeof(KEY_LIVE) + BUS_NAME_MAX];
    struct flight *f;

    if (name_key(name, key) < 0) {
        fail(r, "bad name");
        return -1;
    }
    f = take_off(b, r, ASK_CLAIM);
    if (f == NULL) {
        return -1;
    }
    return sent(r, f,
                redisAsyncCommand(b->cmd, flight_cb, f, "EVAL %s 1 %s %s %s %s", claim_lua, key, b->node,
                                  take ? "1" : "0", KEY_NODE));
}

void bus_release(struct bus *b, const char *name)
{
    char key[sizeof(KEY_LIVE) + BUS_NAME_MAX];

    if (b->state == LINK_UP && name_key(name, key) == 0) {
        redisAsyncCommand(b->cmd, NULL, NULL, "EVAL %s 1 %s %s", release_lua, key, b->node);
    }
}

void bus_hand_over(struct bus *b, const char *name, const char *node)
{
    char key[sizeof(KEY_LIVE) + BUS_NAME_MAX];

    if (b->state == LINK_UP && name_key(name, key) == 0 && is_hex_node(node, strlen(node))) {
        redisAsyncCommand(b->cmd, NULL, NULL, "EVAL %s 1 %s %s %s", hand_over_lua, key, b->node, node);
    }
}

int bus_alive(struct bus *b, struct bus_req *r, const char *node)
{
    struct flight *f;

    if (!is_hex_node(node, strlen(node))) {
        fail(r, "bad node id");
        return -1;
    }
    f = take_off(b, r, ASK_ALIVE);
    if (f == NULL) {
        return -1;
    }
    return sent(r, f, redisAsyncCommand(b->cmd, flight_cb, f, "EXISTS " KEY_NODE "%s", node));
}

int bus_queue_take(struct bus *b, struct bus_req *r, const char *entry)
{
    char n[8], sep[2] = {BUS_ENTRY_SEP, '\0'};
    struct flight *f;

    if (!entry_ok(entry)) {
        fail(r, "bad queue entry");
        return -1;
    }
    f = take_off(b, r, ASK_QUEUE_TAKE);
    if (f == NULL) {
        return -1;
    }
    snprintf(n, sizeof(n), "%d", BUS_NODE_LEN);
    return sent(r, f,
                redisAsyncCommand(b->cmd, flight_cb, f, "EVAL %s 1 %s %s %s %s %s", queue_take_lua, KEY_QUEUE,
                                  entry, KEY_NODE, n, sep));
}

int bus_queue_remove(struct bus *b, struct bus_req *r, const char *entry)
{
    struct flight *f;

    if (strlen(entry) > BUS_ENTRY_MAX) {
        fail(r, "bad queue entry");
        return -1;
    }
    f = take_off(b, r, ASK_QUEUE_REMOVE);
    if (f == NULL) {
        return -1;
    }
    return sent(r, f, redisAsyncCommand(b->cmd, flight_cb, f, "LREM " KEY_QUEUE " 1 %s", entry));
}
