/*
 * match: the queue of players waiting for a person, and the matches between them.
 */
#ifndef ARCADE_MATCH_H
#define ARCADE_MATCH_H

#include <ev.h>

struct conn;
struct server;

struct match {
    struct server *srv;
    struct conn *p[2];      /* p[0] waited in the queue, p[1] arrived */
    int move[2];            /* this round's moves, 0 until made */
    int timeouts[2];        /* timed-out rounds in a row */
    ev_timer window_w;      /* the move window of the current round */
};

/* Match c with the first waiting player of another name, or queue it (`W`). */
void match_queue(struct conn *c);
/* Take c out of the queue; it is back in the lobby. */
void match_unqueue(struct conn *c);
/* c moves in its match's current round. */
void match_move(struct conn *c, int move);
/* c leaves its match; its opponent is told (`G`) and, if it had moved in the current round,
 * wins that round by forfeit. */
void match_leave(struct conn *c);
/* End c's match with its current round void (`T v` to both), storing nothing: shutdown. */
void match_abort(struct conn *c);

#endif
