/*
 * session: a player, apart from the connection that carries it. A session has
 * one identity for its life (a guest, or a name: bare, or proven with the
 * account's secret), a place (the lobby, the queue or a match) and its bot
 * rounds waiting for the commit. A connection that names itself moves to a
 * session of that name; a proven session in a match outlives its connection
 * for the rest of the move window, so its owner can rejoin.
 *
 * Sessions are freed only by session_reap, after the commit: the batch and the
 * matches may still point at a session released earlier in the iteration.
 */
#ifndef ARCADE_SESSION_H
#define ARCADE_SESSION_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "game.h"
#include "rps.h"

struct account_call;
struct cluster_entry;
struct play_claim;
struct conn;
struct match;

enum session_place {
    SESSION_LOBBY,  /* moves play the bot */
    SESSION_QUEUED, /* waiting for an opponent */
    SESSION_MATCH,  /* playing a person */
};

struct session {
    struct game *game;
    uint64_t serial;                /* numbered as made: tells it from a later session of its name */
    struct conn *conn;              /* NULL while away */
    struct batch_player player;     /* store id, and bot rounds in the batch */
    char name[RPS_NAME_MAX + 1];    /* as stored; empty for a guest */
    unsigned named : 1;             /* said hello, registered or logged in */
    unsigned proven : 1;            /* proved the name's secret: may rejoin, rotate, release */
    unsigned listed : 1;            /* in game->names */
    unsigned reaping : 1;           /* on game->reap */
    unsigned moved : 1;             /* went on to another node (cluster): its name is that node's */
    enum session_place place;
    struct match *match;            /* while MATCH */
    int side;                       /* 0 or 1 in the match */
    struct session *queue_prev;     /* while QUEUED */
    struct session *queue_next;
    ev_timer queue_w;               /* queue wait deadline */
    struct session *prev, *next;    /* game->sessions */
    struct session *name_next;      /* game->names chain */
    struct session *reap_next;      /* game->reap */
    struct account_call *call;      /* an account frame waiting for the database: input waits too */
    struct play_claim *claim;       /* its name being claimed across nodes: input waits too */
    struct cluster_entry *shared;   /* its entry in the queue shared by the nodes (cluster's) */
};

/* A new guest session; NULL when memory ran out. */
struct session *session_new(struct game *g);
/* A new session for a named player (store id, name as stored), listed by name; NULL when memory
 * ran out. */
struct session *session_new_named(struct game *g, int64_t id, const char *name, int proven);
/* The live session of name, ASCII case ignored, or NULL. */
struct session *session_find(struct game *g, const char *name);
/* Carry s on c (from now on c's input is s's). */
void session_attach(struct session *s, struct conn *c);
/* s has no connection any more (c keeps no pointer to it). */
void session_detach(struct session *s);
/* Free s after the commit if nothing holds it: no connection, and in the lobby. */
void session_release(struct session *s);
/* Free the released sessions: after the commit, when nothing points at them (a session whose bot
 * rounds still wait for a commit stays until they are stored). */
void session_reap(struct game *g);
/* Free every session: at exit. */
void session_free_all(struct game *g);

/* How a frame waits for the commit. */
enum session_hold {
    SESSION_NOW = 0,    /* not a result: written at the flush */
    SESSION_HELD = 1,   /* a result: written once stored, replaced by an error if storing fails */
};

/* Frames to the player, dropped while it is away. */
void session_send_op(struct session *s, int op, enum session_hold hold);
void session_send_code(struct session *s, int op, int code, enum session_hold hold);
void session_send_text(struct session *s, int op, const char *text, enum session_hold hold);
/* A round's outcome, held until stored: the bare result byte before a name, "M<move><result>"
 * after it. */
void session_send_result(struct session *s, int their_move, int result);

#endif
