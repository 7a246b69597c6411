/*
 * wire: the frames a long connection receives from the server, decoded from
 * bytes as they arrive (split anywhere), and the frames the client sends.
 *
 *   x y z             result: draw, win, loss
 *   M <move>          the opponent's move, before the result
 *   A|N|E|V <len> <text>  hello accepted, name refused, error, matched
 *   W Q G B           waiting, queue timeout, opponent gone, back in lobby
 *   T|F <code>        round timeout, match over: y, z or v
 */
#ifndef ARCADE_WIRE_H
#define ARCADE_WIRE_H

#include <stddef.h>

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
};

struct wire_frame {
    enum wire_kind kind;
    int code;
    char text[256];     /* NUL-terminated */
};

/* Decode the frame at the start of buf. Returns the bytes it spans (> 0), 0 when buf holds only
 * part of a frame, -1 when buf starts with something no frame can be (f->code holds that byte). */
int wire_decode(const char *buf, size_t len, struct wire_frame *f);

/* Write a hello for name (1..32 of [A-Za-z0-9_-]) into out; returns its length, or -1. */
int wire_hello(const char *name, char *out, size_t cap);

#endif
