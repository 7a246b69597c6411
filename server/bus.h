/* bus: what several arcaded share but need not keep, in Redis, through hiredis's asynchronous
 * context on the server's libev loop (hiredis/adapters/libev.h). Losing it loses no stored result:
 * everything here is about who is where right now.
 *
 *   nodes     each process is a node with a random id; it says it is alive every
 *             BUS_HEARTBEAT seconds (arcade:node:<id>, expiring after BUS_NODE_TTL), and
 *             listens on its channel (arcade:to:<id>) for messages from the others
 *   names     which node holds the live session of a name (arcade:live:<name folded to lower
 *             case>): one per name across every node; a node that stopped saying it is alive
 *             holds nothing
 *   queue     players waiting for an opponent on any node (arcade:queue, a list of entries)
 *
 * Requests are struct bus_req: sent now, answered by done(req) later from the loop, never from
 * inside a bus_* call; bus_cancel forgets one. A request made while Redis is unreachable fails
 * at once (bus_* returns -1, nothing is called). Losing the connection answers every pending
 * request as failed, and the bus connects again by itself (pauses growing to BUS_RETRY_MAX). A
 * Redis that keeps the connection but stops answering (stopped, or cut off by a network that
 * drops packets) counts as lost once it has left a heartbeat unanswered for BUS_STALL.
 *
 * One Redis, not a cluster: the scripts read node keys they are not given as keys. The process
 * must ignore SIGPIPE (the server does): hiredis writes to a socket Redis may have closed.
 */
#ifndef ARCADE_BUS_H
#define ARCADE_BUS_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#define BUS_NODE_LEN 16         /* hex digits of a node id */
#define BUS_HEARTBEAT 1.0       /* seconds between two "alive"s of a node */
#define BUS_NODE_TTL 3.0        /* seconds after its last "alive" a node counts as gone */
#define BUS_STALL 1.5           /* seconds Redis may leave a heartbeat unanswered before it counts as
                                 * lost (BUS_HEARTBEAT + BUS_STALL < BUS_NODE_TTL: a node knows
                                 * before the others count it gone) */
#define BUS_RETRY_MAX 2.0       /* seconds between two attempts to connect, at most */
#define BUS_ENTRY_MAX 128       /* bytes of a queue entry */
#define BUS_MESSAGE_MAX 4096    /* bytes of a message between nodes */
#define BUS_NAME_MAX 64         /* bytes of a name (of [A-Za-z0-9_-]) */
#define BUS_ENTRY_SEP '|'       /* ends the node id at the head of a queue entry */

struct bus;

/* A message from another node. */
typedef void bus_message_fn(void *arg, const char *from, const void *msg, size_t len);

struct bus_req {
    void (*done)(struct bus_req *r);    /* the caller's */
    void *data;                         /* the caller's */

    /* The answer. */
    int status;                         /* -1 failed (err says why); else as each call says */
    char err[128];
    char node[BUS_NODE_LEN + 1];        /* bus_claim: the node holding the name, when not this one */
    char entry[BUS_ENTRY_MAX + 1];      /* bus_queue_take: the entry taken */

    void *flight;                       /* the bus's, while pending */
};

/* Is where a Redis address: redis://[[user]:password@]host[:port][/db], or
 * unix://[[user]:password@]/path/to/socket? (A user means Redis 6's AUTH user password.) */
int bus_is_uri(const char *where);
/* where with its password replaced by "***", for logs. */
const char *bus_redact(const char *where, char *out, size_t outlen);

/* Connect (waiting at most a few seconds for the first connection, on a loop of its own: nothing
 * on loop runs meanwhile), pick this node's id, start saying it is alive and listening on its
 * channel: on_message(arg, ...) for each message, from the loop. NULL with the reason in err (no
 * password in it). */
struct bus *bus_open(const char *where, struct ev_loop *loop, bus_message_fn *on_message, void *arg, char *err,
                     size_t errlen);
/* Forget every name this node holds (its node key is deleted: a name whose holder is not alive is
 * free; if Redis does not answer within half a second, the key expires after BUS_NODE_TTL), answer
 * pending requests and close. The one call that calls done itself, before it returns: with
 * status -1, or with the answer when Redis had given it already. NULL is allowed. */
void bus_close(struct bus *b);
int bus_connected(const struct bus *b);
/* How many times the bus has connected: a change says it was lost meanwhile, however briefly (and
 * Redis may have lost what it held). */
unsigned bus_links(const struct bus *b);
/* This node's id (BUS_NODE_LEN hex digits, lower case, from getrandom). */
const char *bus_node(const struct bus *b);

void bus_cancel(struct bus *b, struct bus_req *r);

/* Send msg to node (PUBLISH). Nothing says whether it arrived: the caller's protocol does.
 * Returns 0, or -1 when not connected or msg is longer than BUS_MESSAGE_MAX. */
int bus_send(struct bus *b, const char *node, const void *msg, size_t len);

/* Names are 1..BUS_NAME_MAX of [A-Za-z0-9_-], folded to lower case by the bus (any other is
 * refused: -1). */

/* Hold name for this node. take 0 (a bare hello): only if nobody holds it, or its holder is gone;
 * status 1 held now, 0 another node holds it (r->node). take 1 (a proven owner): hold it whoever
 * held it; status 1, and r->node is the node that held it if that one is alive and not this one
 * (it must be told), else empty. Returns 0 (done comes later) or -1. */
int bus_claim(struct bus *b, struct bus_req *r, const char *name, int take);
/* Let name go if this node holds it (no answer; nothing when not connected). */
void bus_release(struct bus *b, const char *name);
/* Point name at node (a session that moved there): only if this node holds it. No answer. */
void bus_hand_over(struct bus *b, const char *name, const char *node);

/* Is node alive? status 1 yes, 0 no. Returns 0 or -1. */
int bus_alive(struct bus *b, struct bus_req *r, const char *node);

/* The queue, atomically: take the oldest entry whose node is alive (entries of gone nodes are
 * dropped on the way), or, if there is none, append entry. status 1: taken (r->entry), 0: appended.
 * Returns 0 or -1 (also for an entry not of this form).
 *
 * An entry is the caller's text of at most BUS_ENTRY_MAX bytes, no NUL, that begins with the id
 * of the node its player is on and BUS_ENTRY_SEP: "<16 hex digits>|<anything>", as
 * "3f2a9c00d1e4b7a8|alice". The bus reads only that head: the node is alive while its first
 * BUS_NODE_LEN bytes name a node key that exists. An entry in the list of any other form counts as
 * a gone node's and is dropped. Entries are compared whole (bus_queue_remove), so make them unique.
 * The taken entry may be one of this node's own (two players of one node): the caller tells. */
int bus_queue_take(struct bus *b, struct bus_req *r, const char *entry);
/* Remove entry from the queue: status 1 removed, 0 it was not there (taken by another node
 * meanwhile). Returns 0 or -1. */
int bus_queue_remove(struct bus *b, struct bus_req *r, const char *entry);

#endif
