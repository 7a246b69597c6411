/*
 * server: the process-wide state of arcaded, one libev loop in one thread.
 */
#ifndef ARCADE_SERVER_H
#define ARCADE_SERVER_H

#include <ev.h>
#include <stdint.h>

#include "conn.h"
#include "game.h"
#include "http.h"
#include "proxy.h"
#include "watch.h"
#include "stats.h"

#define ARCADE_VERSION "1.0.0"
#define SERVER_STOP_SIGNALS 3

struct config {
    const char *bind;           /* address to listen on */
    int port;                   /* TCP and UDP port; 0 picks a free one */
    const char *db;             /* SQLite database path */
    const char *bus;            /* Redis shared with other arcaded (--bus); NULL: this process alone */
    int sync_full;              /* synchronous=FULL: commits survive power loss */
    double lock_wait;           /* how long results wait for a database locked elsewhere */
    int max_conns;              /* past it, new connections are refused or make room */
    int addr_conns;             /* open connections one address may hold; 0: no limit */
    double conn_rate;           /* new connections per second per address; 0: no limit */
    double udp_rate;            /* datagrams per second per source address; 0: no limit */
    double name_rate;           /* new names a minute per address; 0: no limit */
    double frame_rate;          /* frames per second per long connection; 0: no limit */
    uint32_t out_max;           /* queued output per connection before it is dropped */
    size_t out_total;           /* output buffers of all connections, past which answers wait */
    double idle_timeout;        /* short connections: seconds without traffic */
    double long_idle_timeout;   /* long connections: seconds without a frame */
    double move_timeout;        /* player-vs-player move window */
    double queue_timeout;       /* longest wait for an opponent */
    const struct proxy_net *proxy_from; /* peers whose connections start with a PROXY header */
    size_t nproxy_from;
    int workers;                /* processes serving the port (--workers); 1: this one alone */
    int reuseport;              /* a worker: its sockets share the port with the other workers' */
};

struct cluster;
struct db;
struct limit_addrs;
struct limit_table;
struct db;
struct web;

struct server {
    struct ev_loop *loop;
    struct config cfg;
    struct db *db;              /* results, players and the leaderboard */
    struct conn_pool pool;      /* every TCP connection */
    struct game game;           /* sessions, matches, accounts and the group commit */
    struct watch watch;         /* live leaderboard WebSockets */
    struct http_site site;      /* what HTTP connections are served from */
    struct web *web;            /* the HTTP routes that answer with data: API, health, metrics */
    struct cluster *cluster;    /* the other arcaded on the bus; NULL without --bus */

    int tcp_fd;                 /* listening socket */
    int udp_fd;                 /* datagram socket on the same port */
    int db_lock;                /* the database file, flocked: one arcaded per database */
    ev_io accept_w;
    ev_io udp_w;
    ev_timer accept_pause_w;    /* accept paused after EMFILE */
    ev_prepare flush_w;         /* once per iteration: commit, then write */
    ev_async checkpointed_w;    /* the store's checkpointer finished a last pass: commit again */
    ev_check busy_w;            /* poll returned: the loop's work in this iteration starts */
    double busy_from;           /* when it did */
    double busy_cpu_from;       /* the thread's CPU time then */
    ev_timer retry_w;           /* the next try of a commit while the database is locked elsewhere */
    ev_signal stop_w[SERVER_STOP_SIGNALS];  /* SIGINT, SIGTERM, SIGHUP: a clean shutdown */
    ev_timer drain_w;           /* deadline for the shutdown drain */
    ev_timer second_w;          /* reports refusals */
    ev_timer sweep_w;           /* folds bot rounds into totals, writes rated players' rows back */
    double step_failure_logged; /* when a failed step of those was last logged */

    struct limit_addrs *addrs;  /* recent connections per source address */
    struct limit_table *udp_sources; /* datagrams per source address */
    /* Refusals (enum refusal, counted in stats.refusals) are logged at most once a second, so that
     * a flood cannot turn the log into a second flood: these are the counts last logged. */
    uint64_t refusals_told[REFUSALS];
    int stopping;               /* a stop signal received */
};

/* Set up the listeners, the store and the watchers. Returns 0 or -1 (logged). */
int server_init(struct server *srv, const struct config *cfg);
/* Run until a signal has drained every connection; returns the exit status. */
int server_run(struct server *srv);

#endif
