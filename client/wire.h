/*
 * wire: the frames a long connection receives from the server, decoded from
 * bytes as they arrive (split anywhere), and the frames the client sends.
 *
 *   x y z             result: draw, win, loss
 *   M <move>          the opponent's move, before the result
 *   A|N|E|V <len> <text>  hello accepted, name refused, error, matched
 *   W Q G B C U       waiting, queue timeout, opponent gone, back in lobby,
 *                     opponent back, name released
 *   T|F <code>        round timeout, match over: y, z or v
 *   K <len> <secret>  the account's secret, 64 lowercase hex digits
 *   J <len> <snapshot>  back in the match: "opponent round wins losses draws moved seconds"
 *   D <len> <seconds> the opponent dropped; its seat is held that long
 *
 * The client sends moves, P, L and the hello-like frames built here:
 * H <len> <name>, R <len> <name>, I <len> <name> <len> <secret>, and X, U.
 */
#ifndef ARCADE_WIRE_H
#define ARCADE_WIRE_H

#include <stddef.h>

#include "rps.h"

/* Opcodes of accounts and rejoin (docs/PROTOCOL.md), client to server. */
#define WIRE_OP_REGISTER 'R'
#define WIRE_OP_LOGIN 'I'
#define WIRE_OP_NEW_SECRET 'X'
#define WIRE_OP_RELEASE 'U'
/* Server to client. */
#define WIRE_OP_SECRET 'K'
#define WIRE_OP_REJOINED 'J'
#define WIRE_OP_DROPPED 'D'
#define WIRE_OP_BACK 'C'
#define WIRE_OP_RELEASED 'U'

#define WIRE_SECRET_LEN 64
#define WIRE_SECONDS_MAX 86400  /* a longer wait in D or J is not believed */

enum wire_kind {
    WIRE_RESULT,        /* code: x, y or z */
    WIRE_MOVE,          /* code: the opponent's move, 1..3 */
    WIRE_ACCEPTED,      /* text: the name */
    WIRE_REFUSED,       /* text: the reason */
    WIRE_ERROR,         /* text: the reason */
    WIRE_WAITING,
    WIRE_MATCHED,       /* text: the opponent's name */
    WIRE_QUEUE_TIMEOUT,
    WIRE_ROUND_TIMEOUT, /* code: y, z or v */
    WIRE_GONE,
    WIRE_OVER,          /* code: y, z or v */
    WIRE_LOBBY,
    WIRE_SECRET,        /* text: the secret */
    WIRE_REJOINED,      /* snap */
    WIRE_DROPPED,       /* code: seconds the opponent's seat is held */
    WIRE_BACK,
    WIRE_RELEASED,
};

/* Where a rejoined match stands (J), from our side. */
struct wire_snapshot {
    char opponent[RPS_NAME_MAX + 1];
    unsigned round;                 /* the current round, from 1, void rounds counted */
    unsigned wins, losses, draws;   /* this match's stored rounds */
    int moved;                      /* our move of this round is in */
    unsigned seconds;               /* left in this move window */
};

struct wire_frame {
    enum wire_kind kind;
    int code;
    char text[256];     /* NUL-terminated */
    struct wire_snapshot snap;
};

/* Decode the frame at the start of buf. Returns the bytes it spans (> 0), 0 when buf holds only
 * part of a frame, -1 when buf starts with something no frame can be (f->code holds the byte at
 * fault: the opcode when a frame's text does not have its frame's form). */
int wire_decode(const char *buf, size_t len, struct wire_frame *f);

/* Is s (n bytes) a secret as the server makes them: WIRE_SECRET_LEN lowercase hex digits? */
int wire_valid_secret(const char *s, size_t n);

/* Write a hello (H) or a registration (R) for name (1..32 of [A-Za-z0-9_-]) into out; returns its
 * length, or -1. */
int wire_hello(const char *name, char *out, size_t cap);
int wire_register(const char *name, char *out, size_t cap);

/* Write a login (I) for name with its secret into out; returns its length, or -1. */
int wire_login(const char *name, const char *secret, char *out, size_t cap);

/* The longest frame the client sends: a login. */
#define WIRE_LOGIN_MAX (3 + RPS_NAME_MAX + WIRE_SECRET_LEN)

#endif
