/*
 * conn: one TCP connection, from accept to free.
 *
 * A connection starts NEW; its first decisive byte makes it SHORT (request
 * lines) or LOBBY (rock-paper-scissors frames). A long connection then moves
 * between LOBBY, QUEUED and MATCH. DRAINING sends what is queued and closes;
 * CLOSED waits for the end of the iteration to be freed.
 */
#ifndef ARCADE_CONN_H
#define ARCADE_CONN_H

#include <ev.h>
#include <stdint.h>

#include "buf.h"
#include "limit.h"
#include "rps.h"

struct server;
struct match;

enum conn_state {
    CONN_NEW,       /* no decisive byte yet */
    CONN_SHORT,     /* request lines: math and leaderboard */
    CONN_LOBBY,     /* long: plays the bot */
    CONN_QUEUED,    /* long: waiting for an opponent */
    CONN_MATCH,     /* long: playing a person */
    CONN_DRAINING,  /* writing what is left, then closing */
    CONN_CLOSED,    /* socket closed; freed at the end of the iteration */
};

#define CONN_HELD_NONE UINT32_MAX

struct conn {
    int fd;
    uint64_t id;                /* for logs */
    enum conn_state state;
    struct server *srv;
    ev_io read_w;
    ev_io write_w;              /* on only while the socket is full */
    ev_timer idle_w;            /* fires at last_active + the state's timeout */
    ev_tstamp last_active;      /* last progress: a frame, an answered request, bytes written */
    struct limit_bucket budget; /* frames a long connection may still send (--frame-rate) */
    ev_timer resume_w;          /* reading again once the budget allows */

    char *in;                   /* bytes of an unfinished line or frame */
    uint32_t in_len;
    struct buf out;             /* replies not yet written */
    uint32_t out_sent;          /* bytes of out already written */
    uint32_t out_held;          /* out bytes from here on wait for the commit */

    struct conn *prev, *next;   /* server->conns */
    struct conn *dirty_next;    /* server->dirty */
    unsigned dirty : 1;         /* on the dirty list */
    unsigned read_paused : 1;   /* reading stopped until the client reads */
    unsigned throttled : 1;     /* reading stopped until the frame budget refills */
    unsigned skip_line : 1;     /* discarding the rest of an overlong line */
    unsigned sent_newline : 1;  /* has ended a request with \n: no early answers */
    unsigned named : 1;         /* said hello */
    unsigned new_guest : 1;     /* player is a guest row made in the current batch */
    const char *close_reason;   /* why it closed, for the log */

    /* long connections */
    char name[RPS_NAME_MAX + 1];
    int64_t player;             /* store id, 0 until known */
    int batch_slot;             /* its bot totals in server->batch, or -1 */
    struct match *match;        /* while MATCH */
    int side;                   /* 0 or 1 in match */
    struct conn *queue_next;    /* while QUEUED */
    struct conn *queue_prev;
    ev_timer queue_w;           /* queue wait deadline */
};

/* Accept a connected socket; NULL if memory ran out (the fd is closed). */
struct conn *conn_new(struct server *srv, int fd);
void conn_set_state(struct conn *c, enum conn_state state);
/* Queue bytes for the client. Returns 0, or -1 when the output cap was passed:
 * the connection is then closed. */
int conn_write(struct conn *c, const void *p, size_t n);
/* Room for n bytes at the end of out, to be committed with conn_wrote. */
char *conn_reserve(struct conn *c, size_t n);
void conn_wrote(struct conn *c, size_t n);
/* Mark bytes [off, off+len) of out as a result that must be stored first; keep:
 * they are also a notice the client must get even if storing fails. */
void conn_hold(struct conn *c, uint32_t off, uint32_t len, int keep);
/* Send what is queued, then close. */
void conn_drain(struct conn *c, const char *reason);
/* Close now (output dropped); freed at the end of the iteration. */
void conn_close(struct conn *c, const char *reason);
/* Put c on the list the flush visits. */
void conn_mark_dirty(struct conn *c);
/* Write what may be written; called by the flush. */
void conn_flush(struct conn *c);
/* Free a CLOSED connection (by the flush). */
void conn_free(struct conn *c);
/* Is it a long connection (LOBBY, QUEUED or MATCH)? */
int conn_is_long(const struct conn *c);

#endif
