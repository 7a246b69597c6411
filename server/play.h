/*
 * play: the long-connection protocol. Rock-paper-scissors frames in, frames
 * out, for the session the connection carries: against the bot, or through
 * match against another player. Accounts (hello, register, login) decide which
 * session that is.
 */
#ifndef ARCADE_PLAY_H
#define ARCADE_PLAY_H

struct conn;
struct game;
struct session;

/* A connection whose first byte opened a long connection: it plays as a new guest session. */
void play_attach(struct game *g, struct conn *c);
/* c carries the named session s from now on (a player whose session came from another node). */
void play_attach_session(struct game *g, struct conn *c, struct session *s);
/* c is a new connection of s's owner, who proved the secret (on another node): it takes s over. */
void play_take_over(struct game *g, struct conn *c, struct session *s);
/* A login on another node takes s over there: s ends here (its connection told as in a take-over)
 * unless it holds a seat in a match (-1: then it is taken over here, on a tunnel). */
int play_give_up(struct session *s);
/* Shutdown: void every running round, empty the queue, tell every connected player. */
void play_shutdown(struct game *g);

#endif
