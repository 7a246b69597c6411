/*
 * sess: the client's side of a long connection as a plain state machine.
 * It takes decoded frames and the player's intents, keeps the phase, the
 * pending move and the score, queues the bytes to send in s->out, and turns
 * frames into events (rounds and notices) for whoever shows them. No
 * sockets, no terminal: play.c does the I/O, report.c the words.
 *
 *   OFFLINE --connect--> NAMING --A--> LOBBY --P--> QUEUED --V--> MATCH
 *                  (no name: LOBBY)      ^  <--Q--    |              |
 *                                        +------------+---G, F, B----+
 *
 * Before a hello the server sends bare results; the bot's move is then
 * worked out from ours and the result, so every round shows both moves.
 */
#ifndef ARCADE_SESS_H
#define ARCADE_SESS_H

#include <stddef.h>

#include "rps.h"
#include "wire.h"

enum sess_phase {
    SESS_OFFLINE,   /* no connection */
    SESS_NAMING,    /* hello sent, waiting for A or N */
    SESS_LOBBY,     /* moves play the bot */
    SESS_QUEUED,    /* P sent, waiting for an opponent */
    SESS_MATCH,     /* playing s->opponent */
};

/* Why a round ended the way it did. */
enum sess_why {
    SESS_PLAYED,            /* both moved */
    SESS_OPP_TIMED_OUT,     /* T y */
    SESS_YOU_TIMED_OUT,     /* T z */
    SESS_OPP_LEFT,          /* G */
};

enum sess_note {
    SESS_NOTE_NONE,
    SESS_NOTE_NAMED,        /* text: the name */
    SESS_NOTE_REFUSED,      /* text: the reason */
    SESS_NOTE_ERROR,        /* text: the reason */
    SESS_NOTE_WAITING,
    SESS_NOTE_MATCHED,      /* text: the opponent */
    SESS_NOTE_QUEUE_TIMEOUT,
    SESS_NOTE_VOID,         /* a round neither player moved in */
    SESS_NOTE_OPP_LEFT,
    SESS_NOTE_MATCH_OVER,   /* code: y won, z lost, v both timed out */
    SESS_NOTE_LOBBY,
};

struct sess_event {
    int is_round;           /* a round (the fields below) or a note */
    unsigned number;        /* round number, from 1, over the whole run */
    int you, opp;           /* moves, RPS_NONE when not made or not known */
    int outcome;            /* RPS_WIN, RPS_LOSS, RPS_DRAW */
    enum sess_why why;
    enum sess_note note;
    int code;
    char text[256];
};

struct sess {
    char name[RPS_NAME_MAX + 1];    /* asked for; empty: a guest */
    int pvp;                        /* queue for people after the hello */
    enum sess_phase phase;
    int named;                      /* the server accepted the name on this connection */
    int pending;                    /* our move in this round, sent, not yet resolved */
    int opp_move;                   /* from M, until the result */
    char opponent[RPS_NAME_MAX + 1];
    unsigned rounds, wins, losses, draws;
    char out[64];                   /* bytes to send */
    size_t outlen;
};

/* name may be NULL or empty (a guest); pvp needs a name. 0, or -1 (err filled). */
int sess_init(struct sess *s, const char *name, int pvp, char *err, size_t errlen);

/* A connection is up: queue the hello (or nothing for a guest). */
void sess_connected(struct sess *s);

/* The connection is gone. Returns the move that was sent and never resolved (RPS_NONE if none),
 * so the caller can play it again. */
int sess_disconnected(struct sess *s);

/* Can a move be sent now? (lobby against the bot, or a match, and no move pending) */
int sess_can_move(const struct sess *s);

/* Queue a move (1..3). 0, or -1 when sess_can_move says no. */
int sess_move(struct sess *s, int move);

/* Queue P: in the lobby of a pvp session. 0, or -1 when not possible now. */
int sess_queue(struct sess *s);

/* Handle one frame; fills up to two events (a round and a note) and returns how many. */
int sess_frame(struct sess *s, const struct wire_frame *f, struct sess_event ev[2]);

/* Drop n sent bytes from s->out. */
void sess_sent(struct sess *s, size_t n);

#endif
