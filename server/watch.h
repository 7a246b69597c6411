/*
 * watch: the live leaderboard. A watcher is a WebSocket (/ws/top?n=) that is
 * sent the top n players as JSON when it arrives and again whenever the top
 * changes, at most every WATCH_INTERVAL seconds: one read of the board for
 * every watcher, however many there are, and at most one at a time (a read
 * from PostgreSQL is answered later).
 */
#ifndef ARCADE_WATCH_H
#define ARCADE_WATCH_H

#include <ev.h>
#include <stdint.h>

#include "db.h"

#define WATCH_INTERVAL 0.25     /* seconds between two pushes of the board */

struct conn;
struct watcher;

struct watch {
    struct ev_loop *loop;
    struct db *db;
    double idle;                /* seconds a watcher may stay silent */
    struct watcher *all;        /* every watcher */
    unsigned n;
    unsigned stale;             /* watchers that have not been sent the board as it is now */
    uint64_t version;           /* the board version last sent */
    ev_tstamp last_push;
    ev_timer later_w;           /* a push held back by WATCH_INTERVAL */
    struct db_req read;         /* of the top, into rows */
    int reading;                /* read is on its way (PostgreSQL) */
    int have;                   /* rows holds the top as it was at have_version, this many; -1: not */
    uint64_t have_version;
    ev_tstamp failure_logged;   /* when a failed read was last logged */
    struct board_row rows[STORE_TOP_MAX];
};

void watch_init(struct watch *w, struct ev_loop *loop, struct db *db, double idle);
/* Stop the timer and forget a read of the board (at exit, once every connection is gone, before
 * the database closes). */
void watch_free(struct watch *w);
/* A WebSocket that asked for the top rows (1 to 100). */
void watch_attach(struct watch *w, struct conn *c, int rows);
/* Once per iteration, after the commit: send the board to the watchers that have not seen it as it
 * is now. */
void watch_tick(struct watch *w);

#endif
