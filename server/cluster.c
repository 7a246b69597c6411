/*
 * cluster: tunnels, name claims and the shared queue over the bus (see cluster.h).
 *
 * Messages between nodes: a kind byte, the tunnel id (8 bytes, big-endian; 0 when there is none),
 * then either raw bytes (I, O, X, Y) or fields of a 2-byte big-endian length and that many bytes.
 *
 *   I tid <bytes>      gate -> host: the player's input
 *   O tid <bytes>      host -> gate: the player's output (already let go by the commit)
 *   X tid <reason>     gate -> host: the socket closed
 *   Y tid <reason>     host -> gate: the session's connection closed (the gate drains the socket)
 *   T tid name peer    take the session of name over on a new tunnel tid (a proven login)
 *   S tid / F tid      answer to T: seated (the tunnel is up) / free (no session here)
 *   M 0 entry asker    your queued player of entry is matched with asker: send it over
 *   J tid entry asker name id proven peer
 *                      answer to M: the player, whose socket is a gate for tunnel tid now
 *   G 0 entry asker    answer to M: that player is not waiting any more (also to R, naming
 *                      the player of entry as asker: send your asker over yourself)
 *   R 0 entry asker name
 *                      answer to M: that player, name, is served through a tunnel and cannot be
 *                      sent on: asker comes over instead (J, naming name as the asker), or G
 */
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conn.h"
#include "game.h"
#include "log.h"
#include "match.h"
#include "play.h"
#include "session.h"

#define TUNNEL_BUCKETS 256
#define TAKE_WAIT 2.0           /* seconds a TAKE waits for its answer before the holder counts as gone */
#define PROBE_EVERY 1.0         /* seconds between two looks at the nodes at the other ends */
#define HEAD 9                  /* kind and tunnel id */
#define CHUNK (BUS_MESSAGE_MAX - HEAD)
#define FIELDS_MAX 8

/* One end of a tunnel. */
struct tunnel {
    struct cluster *cl;
    int gate;                   /* 1: the socket is here; 0: the session is here (a linked conn) */
    char node[BUS_NODE_LEN + 1];    /* the other end */
    uint64_t tid;               /* the gate's id for it */
    struct conn *conn;          /* the socket (gate) or the linked conn (host); NULL once it closed */
    int ended;                  /* the other end said it ended: nothing more is sent there */
    /* A gate's player, to carry on here should the host go. */
    char name[RPS_NAME_MAX + 1];
    int64_t id;
    int proven;
    struct tunnel *next;        /* hash chain */
};

/* A session's place in the shared queue. */
struct cluster_entry {
    struct session *s;
    char entry[BUS_ENTRY_MAX + 1];
    struct bus_req req;         /* a take in flight */
    int taking;                 /* req pending */
    int appended;               /* the entry is in the shared queue */
    int asking;                 /* MATCH sent for the entry taken: JOIN or GONE comes */
    char taken[BUS_ENTRY_MAX + 1];
};

/* A request nobody waits for (a removal, a claim after a host went), a look at a node, or the
 * claim again of a name live here once the bus is back. */
struct errand {
    struct cluster *cl;
    struct bus_req req;
    char node[BUS_NODE_LEN + 1];
    char name[RPS_NAME_MAX + 1];
    uint64_t serial;            /* a claim again: the session of name it is for */
    int clash;                  /* a claim again: another node holds name */
    int again;                  /* ... and the session is in a match: claimed again at the next probe */
    struct errand *prev, *next;
};

struct cluster {
    struct bus *bus;
    struct game *game;
    struct conn_pool *pool;
    struct tunnel *tunnels[TUNNEL_BUCKETS];
    struct cluster_claim *takes;    /* claims waiting for a TAKE's answer */
    struct errand *errands;
    ev_timer probe_w;
    int was_up;                 /* the bus was connected at the last look */
    unsigned links;             /* bus_links at the last look */
    uint64_t seq;               /* makes queue entries unique */
};

static const struct conn_ops gate_ops;

/* Messages. */

struct msg {
    char b[BUS_MESSAGE_MAX];
    size_t len;
};

static void msg_begin(struct msg *m, char kind, uint64_t tid)
{
    m->b[0] = kind;
    for (int i = 0; i < 8; i++) {
        m->b[1 + i] = (char)(tid >> (56 - 8 * i));
    }
    m->len = HEAD;
}

static void msg_field(struct msg *m, const void *p, size_t n)
{
    if (m->len + 2 + n > sizeof(m->b)) {
        m->len = sizeof(m->b) + 1;  /* too long: bus_send refuses it */
        return;
    }
    m->b[m->len] = (char)(n >> 8);
    m->b[m->len + 1] = (char)n;
    memcpy(m->b + m->len + 2, p, n);
    m->len += 2 + n;
}

static void msg_str(struct msg *m, const char *s)
{
    msg_field(m, s, strlen(s));
}

static void send_msg(struct cluster *cl, const char *node, const struct msg *m)
{
    if (m->len > sizeof(m->b) || bus_send(cl->bus, node, m->b, m->len) < 0) {
        log_debug("cluster: a message to %s was not sent", node);
    }
}

/* Raw bytes in messages of kind, split to fit. */
static void send_bytes(struct cluster *cl, const char *node, char kind, uint64_t tid, const void *p, size_t n)
{
    const char *at = p;
    do {
        struct msg m;
        size_t k = n < CHUNK ? n : CHUNK;
        msg_begin(&m, kind, tid);
        memcpy(m.b + HEAD, at, k);
        m.len += k;
        send_msg(cl, node, &m);
        at += k;
        n -= k;
    } while (n > 0);
}

/* A received message's fields into f (text, NUL-terminated, at most cap bytes each); how many. */
struct field {
    const char *p;
    size_t n;
};

static int fields(const char *p, size_t len, struct field *f, int max)
{
    int k = 0;
    while (len >= 2 && k < max) {
        size_t n = ((size_t)(unsigned char)p[0] << 8) | (unsigned char)p[1];
        if (n > len - 2) {
            return -1;
        }
        f[k].p = p + 2;
        f[k].n = n;
        k++;
        p += 2 + n;
        len -= 2 + n;
    }
    return len == 0 ? k : -1;
}

/* A field as a string into out; -1 when it does not fit or holds a NUL. */
static int field_str(const struct field *f, char *out, size_t cap)
{
    if (f->n >= cap || memchr(f->p, '\0', f->n) != NULL) {
        return -1;
    }
    memcpy(out, f->p, f->n);
    out[f->n] = '\0';
    return 0;
}

/* Tunnels. */

static unsigned slot(const char *node, uint64_t tid, int gate)
{
    unsigned h = 2166136261u;
    for (const char *p = node; *p != '\0'; p++) {
        h = (h ^ (unsigned char)*p) * 16777619u;
    }
    h ^= (unsigned)tid ^ (unsigned)(tid >> 32) ^ (unsigned)gate;
    return (h * 16777619u) % TUNNEL_BUCKETS;
}

static struct tunnel *find_tunnel(struct cluster *cl, const char *node, uint64_t tid, int gate)
{
    for (struct tunnel *t = cl->tunnels[slot(node, tid, gate)]; t != NULL; t = t->next) {
        if (t->tid == tid && t->gate == gate && strcmp(t->node, node) == 0) {
            return t;
        }
    }
    return NULL;
}

static struct tunnel *add_tunnel(struct cluster *cl, const char *node, uint64_t tid, int gate)
{
    struct tunnel *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    t->cl = cl;
    t->gate = gate;
    snprintf(t->node, sizeof(t->node), "%s", node);
    t->tid = tid;
    unsigned s = slot(node, tid, gate);
    t->next = cl->tunnels[s];
    cl->tunnels[s] = t;
    return t;
}

static void remove_tunnel(struct tunnel *t)
{
    struct tunnel **p = &t->cl->tunnels[slot(t->node, t->tid, t->gate)];
    while (*p != t) {
        p = &(*p)->next;
    }
    *p = t->next;
    free(t);
}

/* Host side: the linked conn's output and its end. */
static void host_send(void *arg, const void *bytes, size_t len)
{
    struct tunnel *t = arg;
    if (!t->ended) {
        send_bytes(t->cl, t->node, 'O', t->tid, bytes, len);
    }
}

static void host_closed(void *arg, const char *reason)
{
    struct tunnel *t = arg;
    if (!t->ended) {
        send_bytes(t->cl, t->node, 'Y', t->tid, reason, strlen(reason));
    }
    remove_tunnel(t);
}

/* A linked conn at this node, the host, for the gate node's tunnel tid. NULL if memory ran out. */
static struct conn *host_tunnel(struct cluster *cl, const char *node, uint64_t tid,
                                const struct sockaddr_storage *peer)
{
    struct tunnel *t = add_tunnel(cl, node, tid, 0);
    if (t == NULL) {
        return NULL;
    }
    struct conn_link link = { host_send, host_closed, t };
    t->conn = conn_new_linked(cl->pool, peer, &link);
    if (t->conn == NULL) {
        remove_tunnel(t);
        return NULL;
    }
    return t->conn;
}

/* Gate side: the socket's bytes go to the host. */
static size_t gate_input(struct conn *c, const char *buf, size_t len, int more, int eof)
{
    struct tunnel *t = c->owner;
    (void)more;
    (void)eof;
    if (t != NULL && len > 0) {
        conn_progress(c);
        send_bytes(t->cl, t->node, 'I', t->tid, buf, len);
    }
    return len;
}

static void gate_gone(struct conn *c)
{
    struct tunnel *t = c->owner;
    if (t == NULL) {
        return;
    }
    c->owner = NULL;
    if (!t->ended) {
        const char *why = c->close_reason != NULL ? c->close_reason : "closed";
        send_bytes(t->cl, t->node, 'X', t->tid, why, strlen(why));
    }
    remove_tunnel(t);
}

static const struct conn_ops gate_ops = { "gate", gate_input, gate_gone };

/* c (its session detached) relays to node's session from now on. NULL if memory ran out (c is
 * then closed). */
static struct tunnel *make_gate(struct cluster *cl, struct conn *c, const char *node, const char *name, int64_t id,
                                int proven)
{
    struct tunnel *t = add_tunnel(cl, node, c->id, 1);
    if (t == NULL) {
        conn_close(c, "out of memory");
        return NULL;
    }
    t->conn = c;
    snprintf(t->name, sizeof(t->name), "%s", name);
    t->id = id;
    t->proven = proven;
    conn_set_kind(c, &gate_ops, t, cl->game->long_idle, 1);
    if (c->in_len > 0 || c->waiting) {
        conn_resume(c);     /* what the client sent meanwhile goes to the host at its turn */
    }
    return t;
}

/* Errands: requests the cluster itself owns. */

static struct errand *errand_new(struct cluster *cl, void (*done)(struct bus_req *))
{
    struct errand *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        return NULL;
    }
    e->cl = cl;
    e->req.done = done;
    e->req.data = e;
    e->next = cl->errands;
    if (cl->errands != NULL) {
        cl->errands->prev = e;
    }
    cl->errands = e;
    return e;
}

static void errand_free(struct errand *e)
{
    if (e->prev != NULL) {
        e->prev->next = e->next;
    } else {
        e->cl->errands = e->next;
    }
    if (e->next != NULL) {
        e->next->prev = e->prev;
    }
    free(e);
}

static void errand_done(struct bus_req *r)
{
    errand_free(r->data);
}

/* The host of a gate's player is gone: the player carries on here, in the lobby. */
static void gate_orphaned(struct tunnel *t, const char *why)
{
    struct cluster *cl = t->cl;
    struct conn *c = t->conn;
    char frame[2 + 255];

    t->ended = 1;
    c->owner = NULL;
    conn_write(c, frame, rps_frame_text(frame, RPS_OP_ERROR, why));
    struct session *s = NULL;
    if (t->name[0] != '\0' && session_find(cl->game, t->name) == NULL) {
        s = session_new_named(cl->game, t->id, t->name, t->proven);
    }
    if (s == NULL) {
        conn_drain(c, why);
        remove_tunnel(t);
        return;
    }
    char lobby = RPS_OP_LOBBY;
    conn_write(c, &lobby, 1);
    struct errand *e = errand_new(cl, errand_done);
    if (e != NULL && bus_claim(cl->bus, &e->req, t->name, 1) < 0) {
        errand_free(e);
    }
    log_info("cluster: %s's session was on a node that is gone; back in the lobby here", t->name);
    remove_tunnel(t);
    play_attach_session(cl->game, c, s);
}

/* End every tunnel to node (every tunnel when node is NULL: the bus is lost). */
static void end_tunnels(struct cluster *cl, const char *node, const char *why)
{
    for (unsigned i = 0; i < TUNNEL_BUCKETS; i++) {
        struct tunnel *t = cl->tunnels[i], *next;
        for (; t != NULL; t = next) {
            next = t->next;
            if (node != NULL && strcmp(t->node, node) != 0) {
                continue;
            }
            if (t->conn->state != CONN_OPEN) {
                continue;   /* closing: its end is under way */
            }
            if (!t->gate) {
                t->ended = 1;
                conn_link_input(t->conn, NULL, 0, 1);   /* as if the player dropped */
            } else if (node != NULL) {
                gate_orphaned(t, why);
            } else {
                char frame[2 + 255];
                t->ended = 1;
                conn_write(t->conn, frame, rps_frame_text(frame, RPS_OP_ERROR, why));
                conn_drain(t->conn, why);
            }
        }
    }
}

static void look_back(struct cluster *cl);

/* Names. */

static void claim_answer(struct cluster_claim *k, enum cluster_answer a)
{
    k->answer = a;
    k->done(k);
}

static void unlist_take(struct cluster_claim *k)
{
    struct cluster_claim **p = &k->cl->takes;
    while (*p != NULL && *p != k) {
        p = &(*p)->next;
    }
    if (*p == k) {
        *p = k->next;
    }
    ev_timer_stop(k->cl->game->loop, &k->take_w);
}

static void take_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct cluster_claim *k = (struct cluster_claim *)((char *)w - offsetof(struct cluster_claim, take_w));
    (void)loop;
    (void)revents;
    log_info("cluster: %s did not answer for %s: taken as gone", k->holder, k->name);
    unlist_take(k);
    claim_answer(k, CLUSTER_HELD);
}

static void claimed(struct bus_req *r)
{
    struct cluster_claim *k = r->data;
    struct cluster *cl = k->cl;

    if (r->status < 0) {
        claim_answer(k, CLUSTER_FAILED);
    } else if (r->status == 0) {
        claim_answer(k, CLUSTER_IN_USE);
    } else if (r->node[0] == '\0' || !k->take) {
        claim_answer(k, CLUSTER_HELD);
    } else {
        /* The holder is alive and has the session: ask it to hand it over on a tunnel. */
        struct msg m;
        snprintf(k->holder, sizeof(k->holder), "%s", r->node);
        msg_begin(&m, 'T', k->conn->id);
        msg_str(&m, k->name);
        msg_field(&m, &k->conn->peer, sizeof(k->conn->peer));
        send_msg(cl, k->holder, &m);
        k->next = cl->takes;
        cl->takes = k;
        ev_timer_init(&k->take_w, take_timeout, TAKE_WAIT, 0.);
        ev_timer_start(cl->game->loop, &k->take_w);
    }
}

int cluster_claim(struct cluster *cl, struct cluster_claim *k, struct conn *c, const char *name, int take)
{
    k->cl = cl;
    k->conn = c;
    k->take = take;
    k->holder[0] = '\0';
    snprintf(k->name, sizeof(k->name), "%s", name);
    k->req.done = claimed;
    k->req.data = k;
    ev_init(&k->take_w, take_timeout);
    look_back(cl);
    return bus_claim(cl->bus, &k->req, name, take);
}

void cluster_claim_cancel(struct cluster_claim *k)
{
    bus_cancel(k->cl->bus, &k->req);
    unlist_take(k);
}

static struct cluster_claim *find_take(struct cluster *cl, const char *node, uint64_t tid)
{
    for (struct cluster_claim *k = cl->takes; k != NULL; k = k->next) {
        if (k->conn->id == tid && strcmp(k->holder, node) == 0) {
            return k;
        }
    }
    return NULL;
}

/* S or F: the holder's answer to a TAKE. */
static void on_take_answer(struct cluster *cl, const char *from, uint64_t tid, int seated)
{
    struct cluster_claim *k = find_take(cl, from, tid);
    if (k == NULL) {
        return;     /* timed out, or its connection went: the tunnel's X tells the host */
    }
    unlist_take(k);
    if (!seated) {
        claim_answer(k, CLUSTER_HELD);
        return;
    }
    struct conn *c = k->conn;
    char name[RPS_NAME_MAX + 1], holder[BUS_NODE_LEN + 1];
    int64_t id = k->id;
    snprintf(name, sizeof(name), "%s", k->name);
    snprintf(holder, sizeof(holder), "%s", k->holder);
    claim_answer(k, CLUSTER_MOVED);     /* the caller lets go of c */
    bus_hand_over(cl->bus, name, holder);
    if (make_gate(cl, c, holder, name, id, 1) != NULL) {
        log_info("cluster: %s plays on %s through this node", name, holder);
    }
}

/* T: a login elsewhere takes over the session of name, if it is here. */
static void on_take(struct cluster *cl, const char *from, uint64_t tid, const char *p, size_t len)
{
    struct field f[FIELDS_MAX];
    char name[RPS_NAME_MAX + 1];
    struct sockaddr_storage peer;
    struct msg m;

    if (fields(p, len, f, FIELDS_MAX) != 2 || field_str(&f[0], name, sizeof(name)) < 0 || f[1].n != sizeof(peer)) {
        return;
    }
    memcpy(&peer, f[1].p, sizeof(peer));
    struct session *s = session_find(cl->game, name);
    /* Out of a match, the session ends here and starts again where the login came in. */
    if (s != NULL && play_give_up(s) == 0) {
        s = NULL;
    }
    struct conn *lc = s != NULL ? host_tunnel(cl, from, tid, &peer) : NULL;
    msg_begin(&m, lc != NULL ? 'S' : 'F', tid);
    send_msg(cl, from, &m);     /* before the tunnel's first output, which goes at the flush */
    if (lc != NULL) {
        log_info("cluster: %s taken over from %s", name, from);
        play_take_over(cl->game, lc, s);
    }
}

/* The game's hook: a named session here is gone. */
static void name_freed(void *arg, const char *name)
{
    struct cluster *cl = arg;
    bus_release(cl->bus, name);
}

/* The queue. */

static void queue_taken(struct bus_req *r);

static int queue_take(struct cluster *cl, struct cluster_entry *e)
{
    e->req.done = queue_taken;
    e->req.data = e;
    if (bus_queue_take(cl->bus, &e->req, e->entry) < 0) {
        return -1;
    }
    e->taking = 1;
    return 0;
}

/* The entry's player, if it is still waiting here with that entry. */
static struct session *entry_session(struct cluster *cl, const char *entry)
{
    const char *name = entry + BUS_NODE_LEN + 1;
    const char *bar = strchr(name, BUS_ENTRY_SEP);
    char n[RPS_NAME_MAX + 1];
    if (strlen(entry) <= BUS_NODE_LEN + 1 || bar == NULL || (size_t)(bar - name) >= sizeof(n)) {
        return NULL;
    }
    memcpy(n, name, (size_t)(bar - name));
    n[bar - name] = '\0';
    struct session *s = session_find(cl->game, n);
    if (s == NULL || s->place != SESSION_QUEUED || s->shared == NULL || strcmp(s->shared->entry, entry) != 0) {
        return NULL;
    }
    return s;
}

static void forget_entry(struct session *s)
{
    free(s->shared);
    s->shared = NULL;
}

static void queue_taken(struct bus_req *r)
{
    struct cluster_entry *e = r->data;
    struct session *s = e->s;
    struct cluster *cl = s->game->cluster;

    e->taking = 0;
    if (r->status <= 0) {
        e->appended = r->status == 0;
        match_enlist(s);    /* appended, or the bus failed: waits here (a local opponent may come) */
        return;
    }
    snprintf(e->taken, sizeof(e->taken), "%s", r->entry);
    if (strncmp(e->taken, bus_node(cl->bus), BUS_NODE_LEN) == 0) {
        /* One of ours (a race with a local match): the player if it still waits, else the next. */
        struct session *o = entry_session(cl, e->taken);
        if (o != NULL && o != s) {
            o->shared->appended = 0;
            forget_entry(s);
            match_start(o, s);
        } else if (queue_take(cl, e) < 0) {
            match_enlist(s);
        }
        return;
    }
    struct msg m;
    char node[BUS_NODE_LEN + 1];
    snprintf(node, sizeof(node), "%.*s", BUS_NODE_LEN, e->taken);
    msg_begin(&m, 'M', 0);
    msg_str(&m, e->taken);
    msg_str(&m, s->name);
    send_msg(cl, node, &m);
    e->asking = 1;
}

int cluster_queue(struct cluster *cl, struct session *s)
{
    /* A player served through another node's socket is queued too: it is not sent on a second
     * time, the player who takes its entry comes here instead (R). */
    if (s->conn == NULL) {
        return -1;
    }
    look_back(cl);
    if (s->shared != NULL) {
        return 0;   /* look_back offered it already */
    }
    struct cluster_entry *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        return -1;
    }
    e->s = s;
    snprintf(e->entry, sizeof(e->entry), "%s%c%s%c%llu", bus_node(cl->bus), BUS_ENTRY_SEP, s->name, BUS_ENTRY_SEP,
             (unsigned long long)++cl->seq);
    s->shared = e;
    if (queue_take(cl, e) < 0) {
        forget_entry(s);
        return -1;
    }
    return 0;
}

void cluster_unqueue(struct cluster *cl, struct session *s)
{
    struct cluster_entry *e = s->shared;
    if (e == NULL) {
        return;
    }
    if (e->taking) {
        bus_cancel(cl->bus, &e->req);
    }
    if (e->appended) {
        struct errand *r = errand_new(cl, errand_done);
        if (r != NULL && bus_queue_remove(cl->bus, &r->req, e->entry) < 0) {
            errand_free(r);
        }
    }
    forget_entry(s);
}

/* s's session goes to node to, where asker took entry: J, then s's socket is a gate to it. */
static void send_over(struct cluster *cl, struct session *s, const char *to, const char *entry, const char *asker)
{
    struct conn *c = s->conn;
    struct msg m;
    char id[24], proven[2] = { (char)('0' + s->proven), '\0' };

    snprintf(id, sizeof(id), "%lld", (long long)s->player.id);
    msg_begin(&m, 'J', c->id);
    msg_str(&m, entry);
    msg_str(&m, asker);
    msg_str(&m, s->name);
    msg_str(&m, id);
    msg_str(&m, proven);
    msg_field(&m, &c->peer, sizeof(c->peer));
    send_msg(cl, to, &m);

    /* The session moves to the other node; the socket stays here as its gate. */
    char name[RPS_NAME_MAX + 1];
    snprintf(name, sizeof(name), "%s", s->name);
    int64_t pid = s->player.id;
    int was_proven = s->proven;
    if (s->shared != NULL) {
        s->shared->appended = 0;
        s->shared->asking = 0;
    }
    match_unqueue(s);
    s->moved = 1;
    session_detach(s);
    session_release(s);
    bus_hand_over(cl->bus, name, to);
    make_gate(cl, c, to, name, pid, was_proven);
    log_info("cluster: %s matched with %s on %s", name, asker, to);
}

static void send_gone(struct cluster *cl, const char *to, const char *entry, const char *asker)
{
    struct msg m;
    msg_begin(&m, 'G', 0);
    msg_str(&m, entry);
    msg_str(&m, asker);
    send_msg(cl, to, &m);
}

/* M: a node took our player's entry. */
static void on_match(struct cluster *cl, const char *from, const char *p, size_t len)
{
    struct field f[FIELDS_MAX];
    char entry[BUS_ENTRY_MAX + 1], asker[RPS_NAME_MAX + 1];
    struct msg m;

    if (fields(p, len, f, FIELDS_MAX) != 2 || field_str(&f[0], entry, sizeof(entry)) < 0 ||
        field_str(&f[1], asker, sizeof(asker)) < 0) {
        return;
    }
    struct session *s = entry_session(cl, entry);
    struct conn *c = s != NULL ? s->conn : NULL;
    if (c == NULL || c->state != CONN_OPEN || !s->shared->appended || s->call != NULL) {
        send_gone(cl, from, entry, asker);
        return;
    }
    if (!c->linked) {
        send_over(cl, s, from, entry, asker);
        return;
    }
    /* Served through a tunnel: the asker comes here instead; s waits for it off this node's list. */
    s->shared->appended = 0;
    s->shared->asking = 1;
    snprintf(s->shared->taken, sizeof(s->shared->taken), "%s", entry);
    match_unlist(s);
    msg_begin(&m, 'R', 0);
    msg_str(&m, entry);
    msg_str(&m, asker);
    msg_str(&m, s->name);
    send_msg(cl, from, &m);
}

/* R: the player of the entry we took cannot come: ours goes there, if it can. */
static void on_reverse(struct cluster *cl, const char *from, const char *p, size_t len)
{
    struct field f[FIELDS_MAX];
    char entry[BUS_ENTRY_MAX + 1], asker[RPS_NAME_MAX + 1], name[RPS_NAME_MAX + 1];

    if (fields(p, len, f, FIELDS_MAX) != 3 || field_str(&f[0], entry, sizeof(entry)) < 0 ||
        field_str(&f[1], asker, sizeof(asker)) < 0 || field_str(&f[2], name, sizeof(name)) < 0) {
        return;
    }
    struct session *s = session_find(cl->game, asker);
    if (s == NULL || s->shared == NULL || !s->shared->asking || strcmp(s->shared->taken, entry) != 0) {
        send_gone(cl, from, entry, name);   /* our asker left: theirs takes the next */
        return;
    }
    struct conn *c = s->conn;
    if (c != NULL && !c->linked && c->state == CONN_OPEN && s->call == NULL) {
        send_over(cl, s, from, entry, name);
        return;
    }
    /* Served through a tunnel too: it waits for this node's players, theirs takes the next (taking
     * again here could take theirs again, and again). */
    s->shared->asking = 0;
    match_enlist(s);
    send_gone(cl, from, entry, name);
}

/* J: the player of the entry we took came over. */
static void on_join(struct cluster *cl, const char *from, uint64_t tid, const char *p, size_t len)
{
    struct field f[FIELDS_MAX];
    char entry[BUS_ENTRY_MAX + 1], asker[RPS_NAME_MAX + 1], name[RPS_NAME_MAX + 1], id[24], proven[2];
    struct sockaddr_storage peer;

    if (fields(p, len, f, FIELDS_MAX) != 6 || field_str(&f[0], entry, sizeof(entry)) < 0 ||
        field_str(&f[1], asker, sizeof(asker)) < 0 || field_str(&f[2], name, sizeof(name)) < 0 ||
        field_str(&f[3], id, sizeof(id)) < 0 || field_str(&f[4], proven, sizeof(proven)) < 0 ||
        f[5].n != sizeof(peer)) {
        return;
    }
    memcpy(&peer, f[5].p, sizeof(peer));
    struct session *them = session_find(cl->game, name);
    struct conn *lc = them == NULL ? host_tunnel(cl, from, tid, &peer) : NULL;
    if (lc == NULL) {
        send_bytes(cl, from, 'Y', tid, "server busy", strlen("server busy"));
        return;
    }
    them = session_new_named(cl->game, strtoll(id, NULL, 10), name, proven[0] == '1');
    if (them == NULL) {
        conn_close(lc, "out of memory");
        return;
    }
    play_attach_session(cl->game, lc, them);
    struct session *s = session_find(cl->game, asker);
    if (s != NULL && s->shared != NULL && s->shared->asking && strcmp(s->shared->taken, entry) == 0) {
        forget_entry(s);
        match_start(them, s);
    } else {
        /* The asker left meanwhile: they wait here instead, told nothing (they had their W). */
        match_wait(them);
    }
}

/* G: the entry's player is not waiting any more: take the next. */
static void on_gone(struct cluster *cl, const char *p, size_t len)
{
    struct field f[FIELDS_MAX];
    char entry[BUS_ENTRY_MAX + 1], asker[RPS_NAME_MAX + 1];

    if (fields(p, len, f, FIELDS_MAX) != 2 || field_str(&f[0], entry, sizeof(entry)) < 0 ||
        field_str(&f[1], asker, sizeof(asker)) < 0) {
        return;
    }
    struct session *s = session_find(cl->game, asker);
    if (s == NULL || s->shared == NULL || !s->shared->asking || strcmp(s->shared->taken, entry) != 0) {
        return;
    }
    s->shared->asking = 0;
    if (queue_take(cl, s->shared) < 0) {
        match_enlist(s);
    }
}

/* Bytes of a tunnel. */
static void on_bytes(struct cluster *cl, const char *from, char kind, uint64_t tid, const char *p, size_t len)
{
    struct tunnel *t = find_tunnel(cl, from, tid, kind == 'O' || kind == 'Y');
    if (t == NULL || t->conn == NULL) {
        return;
    }
    switch (kind) {
    case 'I':
        conn_link_input(t->conn, p, len, 0);
        break;
    case 'X':
        t->ended = 1;
        conn_link_input(t->conn, NULL, 0, 1);
        break;
    case 'O':
        conn_write(t->conn, p, len);
        break;
    case 'Y': {
        char why[128];
        snprintf(why, sizeof(why), "%.*s", (int)(len < sizeof(why) ? len : sizeof(why) - 1), p);
        struct conn *c = t->conn;
        t->ended = 1;
        c->owner = NULL;
        remove_tunnel(t);
        conn_drain(c, "ended by the session's node");
        break;
    }
    }
}

static void on_message(void *arg, const char *from, const void *msg, size_t len)
{
    struct cluster *cl = arg;
    const char *p = msg;
    uint64_t tid = 0;

    if (len < HEAD) {
        return;
    }
    for (int i = 0; i < 8; i++) {
        tid = tid << 8 | (unsigned char)p[1 + i];
    }
    switch (p[0]) {
    case 'I': case 'O': case 'X': case 'Y':
        on_bytes(cl, from, p[0], tid, p + HEAD, len - HEAD);
        break;
    case 'T': on_take(cl, from, tid, p + HEAD, len - HEAD); break;
    case 'S': on_take_answer(cl, from, tid, 1); break;
    case 'F': on_take_answer(cl, from, tid, 0); break;
    case 'M': on_match(cl, from, p + HEAD, len - HEAD); break;
    case 'J': on_join(cl, from, tid, p + HEAD, len - HEAD); break;
    case 'G': on_gone(cl, p + HEAD, len - HEAD); break;
    case 'R': on_reverse(cl, from, p + HEAD, len - HEAD); break;
    default: break;
    }
}

/* Nodes at the other ends. */

static void probed(struct bus_req *r)
{
    struct errand *e = r->data;
    struct cluster *cl = e->cl;
    if (r->status == 0) {
        log_info("cluster: node %s is gone", e->node);
        end_tunnels(cl, e->node, "server gone");
    }
    errand_free(e);
}

static int probing(struct cluster *cl, const char *node)
{
    for (struct errand *e = cl->errands; e != NULL; e = e->next) {
        if (e->req.done == probed && strcmp(e->node, node) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The session a claim again is for, if it is still live here: a session of the name made since
 * claimed the name for itself. */
static struct session *reclaim_session(const struct errand *e)
{
    struct session *s = session_find(e->cl->game, e->name);
    return s != NULL && s->serial == e->serial && !s->moved ? s : NULL;
}

/* The answer to a claim again. Held: the name is this node's. Held by another node: that node
 * gave it to a newer session, so the one here ends, or, in a match, is claimed again at each probe
 * until it can end or the other lets the name go. */
static void reclaimed(struct bus_req *r)
{
    struct errand *e = r->data;
    struct session *s = reclaim_session(e);

    if (s == NULL || r->status < 0) {
        errand_free(e);     /* ended already; or the bus failed (lost: bus_back claims again) */
        return;
    }
    if (r->status == 1) {
        if (e->clash) {
            log_info("cluster: %s is this node's again: its session elsewhere ended", e->name);
        }
        errand_free(e);
        return;
    }
    /* Node r->node was given the name while this one counted as gone: its session is the newer,
     * and wins as a login there would have taken this one over. */
    if (play_give_up(s) == 0) {
        log_error("cluster: %s was live here and on node %s (the bus was lost meanwhile): ended here", e->name,
                  r->node);
        errand_free(e);
        return;
    }
    if (!e->clash) {
        log_error("cluster: %s is live here and on node %s (the bus was lost meanwhile): ends here after its "
                  "match", e->name, r->node);
    }
    e->clash = 1;
    e->again = 1;
}

/* Claim the name of s again (take 0: a node holding it now keeps it). */
static void reclaim(struct cluster *cl, struct session *s)
{
    struct errand *e = errand_new(cl, reclaimed);
    if (e == NULL) {
        return;
    }
    snprintf(e->name, sizeof(e->name), "%s", s->name);
    e->serial = s->serial;
    if (bus_claim(cl->bus, &e->req, s->name, 0) < 0) {
        errand_free(e);
    }
}

/* The claims again of names whose sessions wait out a match: each tried once more. */
static void reclaim_again(struct cluster *cl)
{
    struct errand *e = cl->errands, *next;
    for (; e != NULL; e = next) {
        next = e->next;
        if (e->req.done != reclaimed || !e->again) {
            continue;
        }
        e->again = 0;
        if (reclaim_session(e) == NULL || bus_claim(cl->bus, &e->req, e->name, 0) < 0) {
            errand_free(e);
        }
    }
}

/* The bus is lost: an asker's MATCH may never be answered, so it waits for this node's players. */
static void bus_lost(struct cluster *cl)
{
    end_tunnels(cl, NULL, "server gone");
    for (struct session *s = cl->game->sessions; s != NULL; s = s->next) {
        if (s->place == SESSION_QUEUED && s->shared != NULL && s->shared->asking) {
            s->shared->asking = 0;
            match_enlist(s);
        }
    }
}

/* The bus is back, maybe on a Redis that lost everything: the names live here are claimed again
 * (those claims of the link before are dropped first), and players waiting here are offered to the
 * other nodes again. A name another node was given meanwhile, while this one counted as gone, is
 * that node's: its session here ends (reclaimed). */
static void bus_back(struct cluster *cl)
{
    struct errand *e = cl->errands, *next;
    for (; e != NULL; e = next) {
        next = e->next;
        if (e->req.done == reclaimed) {
            bus_cancel(cl->bus, &e->req);   /* of the link before: made again below */
            errand_free(e);
        }
    }
    for (struct session *s = cl->game->sessions; s != NULL; s = s->next) {
        if (s->named && !s->moved && session_find(cl->game, s->name) == s) {
            reclaim(cl, s);
        }
        if (s->place != SESSION_QUEUED || (s->shared != NULL && (s->shared->taking || s->shared->asking))) {
            continue;
        }
        if (s->shared != NULL) {
            cluster_unqueue(cl, s);     /* its entry, if Redis still has it, goes */
        }
        match_share(s);
    }
}

/* Has the bus come back since the last look? Then what it lost is given back first: a claim made
 * now must not go before the claims of the names live here. */
static void look_back(struct cluster *cl)
{
    if (bus_connected(cl->bus) && (!cl->was_up || bus_links(cl->bus) != cl->links)) {
        cl->links = bus_links(cl->bus);
        log_info("cluster: the bus is connected again: names and the shared queue are back");
        cl->was_up = 1;
        bus_back(cl);
    }
}

static void probe_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct cluster *cl = (struct cluster *)((char *)w - offsetof(struct cluster, probe_w));
    (void)loop;
    (void)revents;

    int up = bus_connected(cl->bus);
    if (!up) {
        if (cl->was_up) {
            log_error("cluster: the bus is lost: tunnels end, names are refused and matching is local only "
                      "until it is back");
            bus_lost(cl);
        }
        cl->was_up = 0;
        return;
    }
    look_back(cl);
    reclaim_again(cl);
    for (unsigned i = 0; i < TUNNEL_BUCKETS; i++) {
        for (struct tunnel *t = cl->tunnels[i]; t != NULL; t = t->next) {
            if (t->ended || probing(cl, t->node)) {
                continue;
            }
            struct errand *e = errand_new(cl, probed);
            if (e == NULL) {
                return;
            }
            snprintf(e->node, sizeof(e->node), "%s", t->node);
            if (bus_alive(cl->bus, &e->req, t->node) < 0) {
                errand_free(e);
                return;
            }
        }
    }
}

struct cluster *cluster_open(const char *where, struct game *g, struct conn_pool *pool)
{
    char err[256], shown[512];
    struct cluster *cl = calloc(1, sizeof(*cl));

    bus_redact(where, shown, sizeof(shown));
    if (cl == NULL) {
        log_error("cannot use the bus %s: out of memory", shown);
        return NULL;
    }
    cl->game = g;
    cl->pool = pool;
    cl->bus = bus_open(where, g->loop, on_message, cl, err, sizeof(err));
    if (cl->bus == NULL) {
        log_error("cannot use the bus %s: %s", shown, err);
        free(cl);
        return NULL;
    }
    cl->was_up = 1;
    cl->links = bus_links(cl->bus);
    g->cluster = cl;
    g->name_freed = name_freed;
    g->name_arg = cl;
    ev_timer_init(&cl->probe_w, probe_cb, PROBE_EVERY, PROBE_EVERY);
    ev_timer_start(g->loop, &cl->probe_w);
    return cl;
}

int cluster_connected(const struct cluster *cl)
{
    return bus_connected(cl->bus);
}

const char *cluster_node(const struct cluster *cl)
{
    return bus_node(cl->bus);
}

void cluster_close(struct cluster *cl)
{
    if (cl == NULL) {
        return;
    }
    ev_timer_stop(cl->game->loop, &cl->probe_w);
    cl->game->cluster = NULL;
    cl->game->name_freed = NULL;
    while (cl->takes != NULL) {
        unlist_take(cl->takes);
    }
    for (struct errand *e = cl->errands; e != NULL; e = e->next) {
        bus_cancel(cl->bus, &e->req);
    }
    while (cl->errands != NULL) {
        errand_free(cl->errands);
    }
    for (unsigned i = 0; i < TUNNEL_BUCKETS; i++) {
        while (cl->tunnels[i] != NULL) {
            struct tunnel *t = cl->tunnels[i];
            if (t->conn != NULL && t->conn->owner == t) {
                t->conn->owner = NULL;
            }
            remove_tunnel(t);
        }
    }
    bus_close(cl->bus);
    free(cl);
}
