/*
 * session: players apart from sockets. Named sessions are listed by their
 * name folded to lower case (names are ASCII), so one name has one live
 * session.
 */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conn.h"
#include "log.h"

#define NAMES_MIN 64

static unsigned name_hash(const char *name)
{
    unsigned h = 2166136261u;   /* FNV-1a over the folded bytes */
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
        unsigned char c = *p >= 'A' && *p <= 'Z' ? (unsigned char)(*p + 32) : *p;
        h = (h ^ c) * 16777619u;
    }
    return h;
}

static int grow_names(struct game *g)
{
    unsigned cap = g->names_cap ? g->names_cap * 2 : NAMES_MIN;
    struct session **names = calloc(cap, sizeof(*names));
    if (names == NULL) {
        return -1;
    }
    for (unsigned i = 0; i < g->names_cap; i++) {
        struct session *s = g->names[i], *next;
        for (; s != NULL; s = next) {
            next = s->name_next;
            unsigned b = name_hash(s->name) & (cap - 1);
            s->name_next = names[b];
            names[b] = s;
        }
    }
    free(g->names);
    g->names = names;
    g->names_cap = cap;
    return 0;
}

static int list_name(struct session *s)
{
    struct game *g = s->game;
    if (g->nnames + 1 > g->names_cap / 2 && grow_names(g) < 0 && g->names_cap == 0) {
        return -1;
    }
    unsigned b = name_hash(s->name) & (g->names_cap - 1);
    s->name_next = g->names[b];
    g->names[b] = s;
    g->nnames++;
    s->listed = 1;
    return 0;
}

static void unlist_name(struct session *s)
{
    struct game *g = s->game;
    if (!s->listed) {
        return;
    }
    struct session **p = &g->names[name_hash(s->name) & (g->names_cap - 1)];
    while (*p != s) {
        p = &(*p)->name_next;
    }
    *p = s->name_next;
    g->nnames--;
    s->listed = 0;
    if (g->name_freed != NULL && !s->moved) {
        g->name_freed(g->name_arg, s->name);
    }
}

struct session *session_find(struct game *g, const char *name)
{
    if (g->names_cap == 0) {
        return NULL;
    }
    for (struct session *s = g->names[name_hash(name) & (g->names_cap - 1)]; s != NULL; s = s->name_next) {
        if (strcasecmp(s->name, name) == 0) {
            return s;
        }
    }
    return NULL;
}

struct session *session_new(struct game *g)
{
    struct session *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    s->game = g;
    s->serial = ++g->sessions_made;
    s->player.slot = -1;
    s->place = SESSION_LOBBY;
    s->next = g->sessions;
    if (g->sessions != NULL) {
        g->sessions->prev = s;
    }
    g->sessions = s;
    g->nsessions++;
    return s;
}

struct session *session_new_named(struct game *g, int64_t id, const char *name, int proven)
{
    struct session *s = session_new(g);
    if (s == NULL) {
        return NULL;
    }
    s->player.id = id;
    s->named = 1;
    s->proven = proven != 0;
    snprintf(s->name, sizeof(s->name), "%s", name);
    if (list_name(s) < 0) {
        session_release(s);
        return NULL;
    }
    return s;
}

void session_attach(struct session *s, struct conn *c)
{
    s->conn = c;
    c->owner = s;
}

void session_detach(struct session *s)
{
    if (s->conn != NULL) {
        s->conn->owner = NULL;
        s->conn = NULL;
    }
}

void session_release(struct session *s)
{
    if (s->reaping || s->conn != NULL || s->place != SESSION_LOBBY) {
        return;
    }
    unlist_name(s);
    s->reaping = 1;
    s->reap_next = s->game->reap;
    s->game->reap = s;
}

static void free_session(struct session *s)
{
    struct game *g = s->game;
    if (s->prev != NULL) {
        s->prev->next = s->next;
    } else {
        g->sessions = s->next;
    }
    if (s->next != NULL) {
        s->next->prev = s->prev;
    }
    g->nsessions--;
    unlist_name(s);
    ev_timer_stop(g->loop, &s->queue_w);
    free(s);
}

void session_reap(struct game *g)
{
    struct session **p = &g->reap;
    while (*p != NULL) {
        struct session *s = *p;
        if (s->player.slot >= 0) {
            p = &s->reap_next;      /* its bot rounds wait for a commit that has not happened yet */
            continue;
        }
        *p = s->reap_next;
        free_session(s);
    }
}

void session_free_all(struct game *g)
{
    session_reap(g);
    while (g->sessions != NULL) {
        free_session(g->sessions);
    }
    free(g->names);
    g->names = NULL;
    g->names_cap = g->nnames = 0;
}

static void send_bytes(struct session *s, const void *p, size_t n, enum session_hold hold)
{
    struct conn *c = s->conn;
    if (c == NULL) {
        return;
    }
    uint32_t off = c->out.len;
    if (conn_write(c, p, n) == 0 && hold != SESSION_NOW) {
        batch_hold(&s->game->batch, c, off, (uint32_t)n);
    }
}

void session_send_op(struct session *s, int op, enum session_hold hold)
{
    char b = (char)op;
    send_bytes(s, &b, 1, hold);
}

void session_send_code(struct session *s, int op, int code, enum session_hold hold)
{
    char frame[2] = { (char)op, (char)code };
    send_bytes(s, frame, sizeof(frame), hold);
}

void session_send_text(struct session *s, int op, const char *text, enum session_hold hold)
{
    char frame[2 + 255];
    send_bytes(s, frame, rps_frame_text(frame, op, text), hold);
}

void session_send_result(struct session *s, int their_move, int result)
{
    char frame[3] = { RPS_OP_MOVE, (char)('0' + their_move), (char)result };
    if (s->named) {
        send_bytes(s, frame, sizeof(frame), SESSION_HELD);
    } else {
        send_bytes(s, frame + 2, 1, SESSION_HELD);
    }
}
