/*
 * cluster: several arcaded sharing one Redis (bus.h), so that a name has one live session across
 * all of them and players on different processes are matched.
 *
 * A session lives on one node, its host; the player's socket may be on another, its gate (the
 * split of skynet's gate and agent). At the host the player is a linked connection (conn.h) that
 * the play protocol reads as any other; at the gate the socket's bytes go to the host in I
 * messages, and what the host's flush lets go (results only once stored) comes back in O
 * messages. Either end closing sends X. A tunnel is named by its gate node and the gate's id for
 * it (the socket connection's id there).
 *
 *   gate (socket) --I--> host (linked conn -> play -> match, batch)
 *                 <--O--
 *
 * Names: a named session is claimed on the bus before it is made; a proven login for a name live
 * on another node asks that node (TAKE): it takes the session over on a new tunnel (SEAT), or has
 * none (FREE). When the bus comes back, the names live here are claimed again; one that another
 * node was given meanwhile (this node counted as gone) is that node's, and the session here ends as
 * in a take-over (after its match, if it is in one). The queue: a player with nobody to play here
 * takes the oldest entry of the shared queue, or appends its own; the node of a taken entry is
 * asked (MATCH) to send its player over (JOIN: that player's socket becomes a gate to the asking
 * node) or says it is gone (GONE).
 * A node that stops saying it is alive ends its tunnels: gates put their players back in the
 * lobby here, hosts treat them as players who dropped.
 */
#ifndef ARCADE_CLUSTER_H
#define ARCADE_CLUSTER_H

#include <ev.h>
#include <stdint.h>

#include "bus.h"
#include "rps.h"

struct cluster;
struct conn;
struct conn_pool;
struct game;
struct session;

enum cluster_answer {
    CLUSTER_HELD,       /* the name is this node's: make the session here */
    CLUSTER_IN_USE,     /* a bare hello for a name live elsewhere */
    CLUSTER_MOVED,      /* its holder took the session over on a tunnel: the connection is a gate now */
    CLUSTER_FAILED,     /* the bus did not answer */
};

/* Claiming a name for a connection, answered later. */
struct cluster_claim {
    /* The caller's. */
    void (*done)(struct cluster_claim *k);  /* after done with CLUSTER_MOVED, the cluster owns conn */
    void *owner;
    int64_t id;                             /* the player's store id */
    /* The answer. */
    enum cluster_answer answer;

    /* The cluster's. */
    struct cluster *cl;
    struct conn *conn;
    int take;
    char name[RPS_NAME_MAX + 1];
    char holder[BUS_NODE_LEN + 1];          /* asked to hand the session over (TAKE) */
    struct bus_req req;
    ev_timer take_w;
    struct cluster_claim *next;             /* cl->takes, while TAKE waits */
};

/* Open the bus at where (logged without its password) for the game's sessions on pool. NULL
 * (logged) when it cannot be reached. */
struct cluster *cluster_open(const char *where, struct game *g, struct conn_pool *pool);
/* This node's id on the bus, for logs. */
const char *cluster_node(const struct cluster *cl);
/* Is the bus connected (names, the shared queue and tunnels work)? */
int cluster_connected(const struct cluster *cl);
/* End every tunnel, cancel every request and close the bus. NULL is allowed. */
void cluster_close(struct cluster *cl);

/* Claim name for the player on c: take 0 for a bare hello, 1 for a proven owner. Returns 0
 * (done comes later) or -1 (the bus is down: nothing is called). */
int cluster_claim(struct cluster *cl, struct cluster_claim *k, struct conn *c, const char *name, int take);
void cluster_claim_cancel(struct cluster_claim *k);

/* Queue s (queued already, not on the game's list) in the shared queue. Returns 0 when the
 * cluster has it (it later starts a match, or puts s on the local list by match_enlist), -1 when
 * the bus is down (queue it locally only). */
int cluster_queue(struct cluster *cl, struct session *s);
/* s leaves the queue (matched here, left, timed out): its shared entry goes too. */
void cluster_unqueue(struct cluster *cl, struct session *s);

#endif
