/*
 * rps: the rules and wire frames of rock-paper-scissors, free of sockets.
 *
 * A long connection is a stream of one-byte frames (moves, whitespace, `P`, `L`)
 * and hello frames (`H`, a length byte, a name). rps_decode takes bytes as they
 * arrived, split anywhere, and returns one frame at a time.
 */
#ifndef ARCADE_RPS_H
#define ARCADE_RPS_H

#include <stddef.h>
#include <stdint.h>

#define RPS_NAME_MAX 32

enum rps_move {
    RPS_NONE = 0,       /* no move (a forfeit) */
    RPS_SCISSORS = 1,
    RPS_ROCK = 2,
    RPS_PAPER = 3,
};

/* Results are the bytes sent on the wire, from the receiver's side. */
#define RPS_DRAW 'x'
#define RPS_WIN 'y'
#define RPS_LOSS 'z'
#define RPS_VOID 'v'

/* Server-to-client opcodes (docs/PROTOCOL.md). */
#define RPS_OP_ACCEPTED 'A'
#define RPS_OP_REFUSED 'N'
#define RPS_OP_ERROR 'E'
#define RPS_OP_MOVE 'M'
#define RPS_OP_WAITING 'W'
#define RPS_OP_MATCHED 'V'
#define RPS_OP_QUEUE_TIMEOUT 'Q'
#define RPS_OP_ROUND_TIMEOUT 'T'
#define RPS_OP_GONE 'G'
#define RPS_OP_MATCH_OVER 'F'
#define RPS_OP_LOBBY 'B'

/* Client-to-server opcodes. */
#define RPS_OP_HELLO 'H'
#define RPS_OP_PLAY 'P'
#define RPS_OP_LEAVE 'L'

enum rps_frame_type {
    RPS_FRAME_SPACE,    /* whitespace, ignored */
    RPS_FRAME_MOVE,     /* move holds 1..3 */
    RPS_FRAME_HELLO,    /* name holds a valid name */
    RPS_FRAME_PLAY,
    RPS_FRAME_LEAVE,
    RPS_FRAME_BAD,      /* a byte that starts no frame */
    RPS_FRAME_BAD_LENGTH, /* hello with length 0 or over RPS_NAME_MAX (its bytes skipped) */
    RPS_FRAME_BAD_NAME, /* hello whose name has a byte outside [A-Za-z0-9_-] */
};

struct rps_frame {
    enum rps_frame_type type;
    int move;
    char name[RPS_NAME_MAX + 1];
};

/* Longest frame a decoder may have to wait for: a hello with length 255. */
#define RPS_FRAME_MAX (2 + 255)

/* Decode one frame from buf. Returns the bytes it spans (> 0) and fills f, or 0
 * when buf holds only the start of a frame and more bytes are needed. */
size_t rps_decode(const char *buf, size_t len, struct rps_frame *f);

/* Does c open a long connection? */
int rps_opens(int c);

/* Is c whitespace that frames and request streams ignore? */
int rps_is_space(int c);

/* The result of `mine` against `theirs` (both 1..3): RPS_DRAW, RPS_WIN or RPS_LOSS. */
int rps_outcome(int mine, int theirs);

/* Is name a valid player name (1..RPS_NAME_MAX of [A-Za-z0-9_-])? */
int rps_valid_name(const char *name, size_t len);

/* Write a length-prefixed frame `op len text` into out (cap >= 2 + strlen(text),
 * text at most 255 bytes); returns its length. */
size_t rps_frame_text(char *out, int op, const char *text);

/* The bot: xoshiro256** seeded once per process. */
struct rps_bot {
    uint64_t s[4];
};

void rps_bot_seed(struct rps_bot *bot, uint64_t seed);
int rps_bot_move(struct rps_bot *bot);

#endif
