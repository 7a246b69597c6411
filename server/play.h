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

/* A connection whose first byte opened a long connection: it plays as a new guest session. */
void play_attach(struct game *g, struct conn *c);
/* Shutdown: void every running round, empty the queue, tell every connected player. */
void play_shutdown(struct game *g);

#endif
