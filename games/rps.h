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
#define RPS_OP_SECRET 'K'
#define RPS_OP_REJOINED 'J'
#define RPS_OP_DROPPED 'D'
#define RPS_OP_BACK 'C'
#define RPS_OP_RELEASED 'U'

/* Client-to-server opcodes. */
#define RPS_OP_HELLO 'H'
#define RPS_OP_PLAY 'P'
#define RPS_OP_LEAVE 'L'
#define RPS_OP_REGISTER 'R'
#define RPS_OP_LOGIN 'I'
#define RPS_OP_ROTATE 'X'
#define RPS_OP_RELEASE 'U'

enum rps_frame_type {
    RPS_FRAME_SPACE,    /* whitespace, ignored */
    RPS_FRAME_MOVE,     /* move holds 1..3 */
    RPS_FRAME_HELLO,    /* name holds a valid name */
    RPS_FRAME_PLAY,
    RPS_FRAME_LEAVE,
    RPS_FRAME_REGISTER, /* name holds a valid name */
    RPS_FRAME_LOGIN,    /* name holds a valid name, secret the secret's secret_len bytes */
    RPS_FRAME_ROTATE,
    RPS_FRAME_RELEASE,
    RPS_FRAME_BAD,      /* a byte that starts no frame */
    RPS_FRAME_BAD_LENGTH, /* hello, register or login with a length 0 or a name over RPS_NAME_MAX
                             (its bytes skipped) */
    RPS_FRAME_BAD_NAME, /* hello, register or login whose name has a byte outside [A-Za-z0-9_-] */
};

/* Longest secret a login may carry (the server's are RPS_SECRET_HEX hex digits). */
#define RPS_SECRET_MAX 255
#define RPS_SECRET_HEX 64

struct rps_frame {
    enum rps_frame_type type;
    int move;
    char name[RPS_NAME_MAX + 1];
    char secret[RPS_SECRET_MAX + 1];    /* login only, NUL-terminated */
    size_t secret_len;
};

/* Longest frame a decoder may have to wait for: a login with lengths 255 and 255. */
#define RPS_FRAME_MAX (3 + 255 + 255)

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
