/*
 * conn: one TCP connection as a transport, from accept to free: bytes in and
 * out, timers, limits and output held for the group commit. It knows nothing of
 * games: the protocol that owns a connection sees it through a table of
 * callbacks chosen when the connection's kind is decided.
 *
 * A connection is OPEN until it is closed (CLOSED) or told to send what is
 * queued and then close (DRAINING). Neither frees it: the protocol hears that it
 * is gone once, from conn_pool_tell_gone at the flush, never from inside one of
 * its own calls, and the flush frees it after the commit.
 */
#ifndef ARCADE_CONN_H
#define ARCADE_CONN_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "limit.h"

struct conn;
struct conn_holder;
struct ws;

/* Where a linked connection's bytes go: a connection with no socket, whose client is elsewhere
 * (cluster.c: a player on another node). send is given the output the flush would have written
 * (held bytes only after the commit); closed is called once, when the connection closes. Neither may
 * touch the connection. */
struct conn_link {
    void (*send)(void *arg, const void *bytes, size_t len);
    void (*closed)(void *arg, const char *reason);
    void *arg;
};

/* What the protocol that owns a connection does with it. */
struct conn_ops {
    const char *kind;   /* for logs */
    /* Act on the whole requests or frames in buf[0, len); return the bytes consumed (the rest is
     * kept for the next read). more: the read filled its allowance, so more bytes may be waiting;
     * eof: the client half-closed and this is all there will be. */
    size_t (*input)(struct conn *c, const char *buf, size_t len, int more, int eof);
    /* The connection is closing or draining: called once, from the flush. NULL: nothing to do. */
    void (*gone)(struct conn *c);
};

enum conn_state {
    CONN_OPEN,      /* reading and writing */
    CONN_DRAINING,  /* writing what is left, then closing */
    CONN_CLOSED,    /* socket closed; freed by the flush */
};

#define CONN_HELD_NONE UINT32_MAX

/* Every connection, and what the flush has to do with them. */
struct conn_pool {
    struct ev_loop *loop;
    double frame_rate;              /* frames per second on a metered connection; 0: no limit */
    uint32_t out_max;               /* queued output past which a connection is dropped */
    size_t out_total;               /* output buffers of all connections together, before they wait */
    size_t out_bytes;               /* allocated to output buffers that hold output now */
    const struct conn_ops *first;   /* the ops of a connection whose kind is not decided yet */
    double first_idle;              /* and its idle timeout */
    struct conn *all;               /* every connection, newest first */
    unsigned n;                     /* allocated, closed ones included until the flush frees them */
    unsigned closing;               /* closed, not yet freed */
    unsigned peak;                  /* most open at once since memory was last trimmed */
    uint64_t next_id;
    struct conn *dirty;             /* to write or free at the flush */
    struct conn *gone;              /* closing or draining, the owner not told yet */
    struct conn *ready;             /* yielded: a turn at the next iteration */
    uint64_t turn;                  /* loop iterations so far (counted after each poll) */
    ev_check turn_w;                /* gives the ready connections their turns, after the poll */
    ev_idle spin_w;                 /* on while some are ready: the poll does not sleep */
    struct conn_holder **holders;   /* open connections by address (IPv6 by /64): chained hash */
    unsigned holders_cap;           /* buckets, a power of two */
    unsigned nholders;
    unsigned char seed[16];         /* the holders' hash key */
};

struct conn {
    int fd;                     /* -1 for a linked connection */
    uint64_t id;                /* for logs */
    enum conn_state state;
    struct conn_pool *pool;
    const struct conn_ops *ops; /* the protocol that owns it */
    void *owner;                /* the protocol's data for it */
    struct sockaddr_storage peer;
    struct conn_holder *holder; /* its address's connections */
    struct conn *holder_next;   /* the holder's list */
    ev_io read_w;
    ev_io write_w;              /* on only while the socket is full */
    ev_timer idle_w;            /* fires at last_active + idle */
    ev_tstamp last_active;      /* last progress: a frame, an answered request, bytes written */
    double idle;                /* seconds without progress before it is closed */
    struct limit_bucket budget; /* frames a metered connection may still send (frame_rate) */
    ev_timer resume_w;          /* reading again once the budget allows */

    char *in;                   /* bytes of an unfinished line or frame, or requests waiting for a turn */
    uint32_t in_len;
    uint32_t in_cap;
    struct buf out;             /* replies not yet written */
    uint32_t out_sent;          /* bytes of out already written */
    uint32_t out_held;          /* out bytes from here on wait for the commit */
    struct ws *ws;              /* a WebSocket: bytes in and out travel in its frames */
    struct conn_link link;      /* a linked connection's: where its bytes go (linked is set) */
    uint32_t out_framed;        /* a WebSocket's out bytes before this are frames; after, payload */

    struct conn *prev, *next;   /* pool->all */
    struct conn *dirty_next;    /* pool->dirty */
    struct conn *gone_next;     /* pool->gone */
    struct conn *ready_next;    /* pool->ready */
    unsigned dirty : 1;         /* on the dirty list */
    unsigned gone_listed : 1;   /* on the gone list (or told already) */
    unsigned told : 1;          /* the owner heard it is gone */
    unsigned metered : 1;       /* frames count against frame_rate */
    unsigned read_paused : 1;   /* reading stopped until the client reads */
    unsigned throttled : 1;     /* reading stopped until the frame budget refills */
    unsigned yielded : 1;       /* the protocol stopped before the end of its input: reading waits */
    unsigned waiting : 1;       /* and waits for an answer from elsewhere (conn_wait): no turn either */
    unsigned ready : 1;         /* on pool->ready */
    unsigned eof : 1;           /* the client half-closed while requests waited for their turn */
    unsigned out_idle : 1;      /* out is empty, its buffer kept but not counted in out_bytes */
    unsigned skip_line : 1;     /* line protocol (short.c): discarding the rest of an overlong line */
    unsigned sent_newline : 1;  /* line protocol (short.c): has ended a request with \n */
    unsigned linked : 1;        /* no socket: bytes come by conn_link_input and go to link.send */
    const char *close_reason;   /* why it closed, for the log */
};

void conn_pool_init(struct conn_pool *pool, struct ev_loop *loop, double frame_rate, uint32_t out_max,
                    size_t out_total, const struct conn_ops *first, double first_idle);
/* Accept a connected socket; NULL if memory ran out (the fd is closed). */
struct conn *conn_new(struct conn_pool *pool, int fd, const struct sockaddr_storage *peer);
/* A connection with no socket, for a client whose socket is elsewhere: its output goes to
 * link->send, its input comes from conn_link_input. peer is the client's address (logs and per-address
 * accounting). Its kind is the pool's first until conn_set_kind; it is never metered. NULL if memory
 * ran out. */
struct conn *conn_new_linked(struct conn_pool *pool, const struct sockaddr_storage *peer,
                             const struct conn_link *link);
/* Bytes for a linked connection, as if read (kept while it yields or waits; past CONN_LINK_IN_MAX
 * unread it is closed, "input overrun"); eof: the client's side closed. Nothing once it is not open. */
#define CONN_LINK_IN_MAX 65536
void conn_link_input(struct conn *c, const void *bytes, size_t len, int eof);
/* The peer as text ("127.0.0.1:5555", "[::1]:5555"), for logs; returns out. */
#define CONN_PEER_MAX 64
const char *conn_peer_name(const struct conn *c, char *out, size_t cap);
/* The connection is another address's from now on (the client's, which a proxy in front named):
 * its logs and per-address limits see that one. Returns 0, or -1 when memory ran out (the
 * connection is then closed). */
int conn_set_peer(struct conn *c, const struct sockaddr_storage *peer);
/* Open connections from peer's address (an IPv6 address counts with its /64). */
unsigned conn_pool_held(const struct conn_pool *pool, const struct sockaddr_storage *peer);
/* The connection to close to make room: the least recently active (open or draining) of the address
 * that holds the most, if that address holds more than `than`; else NULL. */
struct conn *conn_pool_crowding(const struct conn_pool *pool, unsigned than);
/* Free what the pool keeps besides its connections (at exit, once every connection is freed). */
void conn_pool_free(struct conn_pool *pool);
/* Hand the connection to a protocol: its callbacks, its data, its idle timeout, and whether its
 * frames count against the frame rate. */
void conn_set_kind(struct conn *c, const struct conn_ops *ops, void *owner, double idle, int metered);

/* From now on the connection is a WebSocket (its handshake answer already queued): what it reads
 * is the payload of ws's frames, what it writes is sent in them. */
void conn_upgrade(struct conn *c, struct ws *ws);

/* Queue bytes for the client. Returns 0, or -1 when the connection is closed or the output cap
 * was passed (the connection is then closed). */
int conn_write(struct conn *c, const void *p, size_t n);
/* Room for n bytes at the end of out, to be committed with conn_wrote; NULL as conn_write's -1. */
char *conn_reserve(struct conn *c, size_t n);
void conn_wrote(struct conn *c, size_t n);
/* The protocol stops before the end of its input on purpose (its share of this iteration is used,
 * or the client is not reading its answers): it is given the rest again at the next iteration, or
 * once the client has read, and nothing more is read meanwhile. */
void conn_yield(struct conn *c);
/* The protocol stops after a request whose answer comes later (from the database): nothing more
 * is read and it gets no turn until conn_resume, so the client's next requests are answered after
 * that one, in order. A half-close meanwhile waits too. */
void conn_wait(struct conn *c);
/* The answer came: the rest of the input is given to the protocol again at the next iteration (or
 * once the client has read), then reading goes on. Nothing for a connection no longer open. */
void conn_resume(struct conn *c);
/* Work done in this loop iteration for all connections of c's address, in the protocol's units;
 * add to it. A protocol can so give each address, not only each connection, its share. */
unsigned conn_addr_spent(const struct conn *c);
void conn_addr_spend(struct conn *c, unsigned units);
/* Is more output waiting than the client should be given before it reads? (A quarter of out_max;
 * or any at all while the output buffers of all connections pass out_total.) */
int conn_congested(const struct conn *c);
/* The client did something that keeps the connection alive (a frame that is not whitespace). */
void conn_progress(struct conn *c);
/* Bytes of out from off on wait for the commit; conn_unhold lets them go. */
void conn_hold(struct conn *c, uint32_t off);
void conn_unhold(struct conn *c);
/* Send what is queued, then close. */
void conn_drain(struct conn *c, const char *reason);
/* Close now (output dropped). */
void conn_close(struct conn *c, const char *reason);
/* Write what may be written now. */
void conn_flush(struct conn *c);

/* Tell the owners of connections that closed or began draining; returns how many were told. The
 * owners' callbacks may close or drain more: those are told in the same call. */
unsigned conn_pool_tell_gone(struct conn_pool *pool);
/* Does any connection wait for the flush? */
int conn_pool_dirty(const struct conn_pool *pool);
/* Write every connection that has output; free those that closed, whose owners were told, whose
 * output is not held for a commit (conn_unhold lists them again) and that do not wait for a turn. */
void conn_pool_flush(struct conn_pool *pool);

#endif
