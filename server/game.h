/*
 * game: what the game services share, owned by the server and handed down to
 * the sessions, the matches, the accounts and the long-connection protocol.
 */
#ifndef ARCADE_GAME_H
#define ARCADE_GAME_H

#include <ev.h>

#include "batch.h"
#include "rps.h"

struct cluster;
struct limit_table;
struct match;
struct session;
struct db;

struct game {
    struct ev_loop *loop;
    struct db *db;                  /* results, players and accounts */
    struct batch batch;             /* results waiting for the group commit */
    struct rps_bot bot;             /* the bot's moves, seeded per process */
    double move_timeout;            /* player-vs-player move window */
    double queue_timeout;           /* longest wait for an opponent */
    double long_idle;               /* idle timeout of a long connection */
    double name_rate;               /* new names a minute per address (burst as many); 0: no limit */

    struct session *sessions;       /* every session, newest first */
    unsigned nsessions;
    uint64_t sessions_made;         /* every session so far: the last one's serial */
    struct session **names;         /* named sessions by folded name: chained hash */
    unsigned names_cap;             /* buckets, a power of two */
    unsigned nnames;
    struct session *reap;           /* sessions to free after the commit */
    struct match *over;             /* matches over, freed once their rounds are committed */
    struct session *queue_head;     /* players waiting for an opponent, FIFO */
    struct session *queue_tail;

    struct cluster *cluster;        /* the other nodes (--bus); NULL: this process alone */
    void (*name_freed)(void *arg, const char *name);   /* a named session here is gone */
    void *name_arg;

    struct limit_table *fails_by_addr;      /* failed proofs of secrets, per address */
    struct limit_table *fails_by_account;   /* and per account */
    struct limit_table *fails_by_pair;      /* and per address against one account */
    struct limit_table *names_by_addr;      /* new names (rows, registrations) per address */
    uint64_t accounts_turn;                 /* the loop iteration accounts_used counts in */
    unsigned accounts_used;                 /* frames about accounts acted on in it */
};

#endif
