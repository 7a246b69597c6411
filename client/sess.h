/*
 * sess: the client's side of a long connection as a plain state machine.
 * It takes decoded frames and the player's intents, keeps the phase, the
 * pending move and the score, queues the bytes to send in s->out, and turns
 * frames into events (rounds and notices) for whoever shows them. No
 * sockets, no terminal, no files: player.c does the I/O (and keeps the
 * secret a SESS_NOTE_SECRET hands it), report.c the words.
 *
 *   OFFLINE --connect--> NAMING --A--> SEATED --settle--> LOBBY --P--> QUEUED --V--> MATCH
 *              (R or I)    |             |                  ^  <--Q--    |             |
 *      (a guest: LOBBY)    N             +--------J---------+------------+---------> MATCH
 *                                                           +---G, F, B--------------------+
 *
 * A name registers (R) the first time and logs in (I) with its secret after
 * that. A login may find its seat in a match held from a dropped connection:
 * the server then sends J right after A, in the same write, so the session
 * waits in SEATED until the end of that read (sess_settle) before it decides
 * it is in the lobby and queues.
 *
 * A move sent and never answered when the connection dropped is kept
 * (s->lost). Once the session is back, the snapshot of J tells whether it
 * was played while away, is in, or is to be sent again; in the lobby it is
 * sent again against the bot, or handed back to the player (SESS_NOTE_UNPLAYED)
 * when it cannot be played there.
 *
 * Before a hello the server sends bare results; the bot's move is then
 * worked out from ours and the result, so every round shows both moves.
 */
#ifndef ARCADE_SESS_H
#define ARCADE_SESS_H

#include <stddef.h>

#include "rps.h"
#include "wire.h"

#define SESS_EVENTS_MAX 5   /* events one frame (or a settle) can make */

/* s->pending when J says our move is in but this process never made it (the one before it did):
 * no move may be sent, and the result tells which it was. */
#define SESS_MOVE_IN (-1)

enum sess_phase {
    SESS_OFFLINE,   /* no connection */
    SESS_NAMING,    /* R or I sent, waiting for A or N */
    SESS_SEATED,    /* accepted: a J may follow in the same read */
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
    SESS_WHILE_AWAY,        /* decided while our connection was down (J's score moved) */
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
    SESS_NOTE_SECRET,       /* text: the account's new secret, to keep before anything else */
    SESS_NOTE_FORGOTTEN,    /* the server does not know the account (N not registered): the secret
                             * is stale, and the session registers the name again */
    SESS_NOTE_TAKEN_OVER,   /* another login took this account's session: do not come back */
    SESS_NOTE_REJOINED,     /* snap: back in the match */
    SESS_NOTE_AWAY_OVER,    /* back, but the match went on without us and is over */
    SESS_NOTE_UNPLAYED,     /* code: the lost move, which cannot be played where the session is */
    SESS_NOTE_OPP_DROPPED,  /* code: seconds the opponent's seat is held */
    SESS_NOTE_OPP_BACK,
    SESS_NOTE_RELEASED,     /* the name is unclaimed now */
};

struct sess_event {
    int is_round;           /* a round (the fields below) or a note */
    unsigned number;        /* round number, from 1, over the whole run */
    int you, opp;           /* moves, RPS_NONE when not made or not known; you may be SESS_MOVE_IN */
    int outcome;            /* RPS_WIN, RPS_LOSS, RPS_DRAW */
    enum sess_why why;
    enum sess_note note;
    int code;
    char text[256];
    struct wire_snapshot snap;  /* SESS_NOTE_REJOINED */
};

struct sess {
    char name[RPS_NAME_MAX + 1];    /* asked for; empty: a guest */
    char secret[WIRE_SECRET_LEN + 1]; /* the account's secret; empty: register the name */
    int pvp;                        /* queue for people after the hello */
    enum sess_phase phase;
    int named;                      /* the server accepted the name on this connection */
    int pending;                    /* our move in this round, sent, not yet resolved */
    int forfeit;                    /* a round won by forfeit (`T y`), told with the next frame */
    int lost;                       /* the pending move when the connection dropped */
    int away;                       /* the connection dropped in a match, not yet back */
    int opp_move;                   /* from M, until the result */
    int opp_away;                   /* the opponent's connection dropped (D), not back yet (C) */
    char opponent[RPS_NAME_MAX + 1];
    unsigned rounds, wins, losses, draws;   /* over the whole run */
    unsigned match_wins, match_losses, match_draws; /* this match's, to compare with J */
    char out[2 * WIRE_LOGIN_MAX];   /* bytes to send */
    size_t outlen;
};

/* name may be NULL or empty (a guest); pvp needs a name. 0, or -1 (err filled). */
int sess_init(struct sess *s, const char *name, int pvp, char *err, size_t errlen);

/* Log in with secret (64 hex digits) from now on, or register when it is NULL. */
void sess_set_secret(struct sess *s, const char *secret);

/* A connection is up: queue R or I (or, for a guest, the lost move). */
void sess_connected(struct sess *s);

/* The connection is gone: an unanswered move is kept in s->lost. */
void sess_disconnected(struct sess *s);

/* Can a move be sent now? (lobby against the bot, or a match, and no move pending) */
int sess_can_move(const struct sess *s);

/* Queue a move (1..3). 0, or -1 when sess_can_move says no. */
int sess_move(struct sess *s, int move);

/* Queue P: in the lobby of a pvp session. 0, or -1 when not possible now. */
int sess_queue(struct sess *s);

/* Queue U: give the name up (answered by SESS_NOTE_RELEASED); the server takes it after the R or I
 * of this connection, even before its A. 0, or -1 for a guest or offline. */
int sess_release(struct sess *s);

/* Handle one frame; fills up to SESS_EVENTS_MAX events and returns how many. */
int sess_frame(struct sess *s, const struct wire_frame *f, struct sess_event ev[SESS_EVENTS_MAX]);

/* Every frame of a read has been handled: a session still SEATED was given no seat, so it is in the
 * lobby (queued again with pvp, its lost move played or handed back). Returns the events. */
int sess_settle(struct sess *s, struct sess_event ev[SESS_EVENTS_MAX]);

/* Drop n sent bytes from s->out. */
void sess_sent(struct sess *s, size_t n);

#endif
