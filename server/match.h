/*
 * match: the queue of players waiting for a person, and the matches between
 * them. Everything here works on sessions: a match never sees a connection, so
 * a player whose connection drops can keep its seat.
 */
#ifndef ARCADE_MATCH_H
#define ARCADE_MATCH_H

#include <ev.h>

struct game;
struct session;

struct match {
    struct game *game;
    struct session *p[2];   /* p[0] waited in the queue, p[1] arrived */
    int move[2];            /* this round's moves, 0 until made */
    int timeouts[2];        /* timed-out rounds in a row */
    int away[2];            /* the connection is gone; the seat is held to the end of the window */
    unsigned round;         /* the current round, from 1 (void rounds count) */
    unsigned wins, losses, draws;   /* stored rounds, from p[0]'s side: counted by the commit */
    unsigned in_batch;      /* rounds still waiting for a commit: the match is freed after them */
    int over;               /* finished: on game->over until in_batch is 0 */
    const char *why;        /* why it finished, for the log */
    char names[2 * 32 + 16]; /* "ana against bo", for the log once the players may be gone */
    struct match *over_next;
    ev_timer window_w;      /* the move window of the current round */
};

/* Match s with the first waiting player, or queue it (`W`). */
void match_queue(struct session *s);
/* s, queued, leaves this node's list of waiting players (if on it) but stays queued: the shared
 * queue has it (cluster). */
void match_unlist(struct session *s);
/* As match_queue, without the `W`: s was told it already (on the node it came from). */
void match_wait(struct session *s);
/* s waits on this node only (the bus was down when it queued, or its entry went with Redis): offer
 * it to the players of the other nodes again. Nothing unless it is queued without a shared entry. */
void match_share(struct session *s);
/* s, queued already (W sent), goes on this node's list of waiting players, or is matched with the
 * first of them. */
void match_enlist(struct session *s);
/* Start a match of a (who waited) and b (who arrived), wherever they were queued. */
void match_start(struct session *a, struct session *b);
/* Take s out of the queue (this node's and the shared one); it is back in the lobby. */
void match_unqueue(struct session *s);
/* s moves in its match's current round. */
void match_move(struct session *s, int move);
/* s leaves its match: its opponent is told (`G`) and, if it had moved in the current round, wins
 * that round by forfeit (`T z` to s, `G` to the opponent, both held until stored). */
void match_leave(struct session *s);
/* s's connection is gone: a proven player keeps its seat to the end of the window (`D` to the
 * opponent); anyone else leaves. */
void match_drop(struct session *s);
/* s is back on a connection (a login): `J` with the snapshot to s, `C` to the opponent if s was
 * away. */
void match_rejoin(struct session *s);
/* End s's match with its current round void (`T v` to both), storing nothing: shutdown. */
void match_abort(struct session *s);
/* Free the matches that are over and whose rounds are all committed: after the commit. */
void match_reap(struct game *g);

#endif
