/*
 * play: long connections, rock-paper-scissors frames against the bot or, through
 * match, against another player.
 */
#ifndef ARCADE_PLAY_H
#define ARCADE_PLAY_H

#include <stddef.h>

struct conn;

/* Act on the whole frames in buf[0, len); returns the bytes consumed. */
size_t play_input(struct conn *c, const char *buf, size_t len);
/* The connection is going away: leave the queue or the match. */
void play_leave(struct conn *c);
/* Send a round's outcome (held until stored): the bare result byte before a
 * hello, "M<move><result>" after it. */
void play_send_result(struct conn *c, int their_move, int result);
/* Send a frame: op alone, op and one code byte, or op and a length-prefixed text. */
void play_send_op(struct conn *c, int op);
void play_send_code(struct conn *c, int op, int code, int held);
void play_send_text(struct conn *c, int op, const char *text);

#endif
