/*
 * stats: the server's counters, in one process-wide struct that any layer bumps with one line
 * where the thing happens (as Redis keeps its server.stat_* fields). A bottom layer, like log: it
 * includes nothing of the server's. Counters only grow, from the start of the process; web.c
 * renders them for /metrics, next to the gauges it reads from the connections and sessions.
 */
#ifndef ARCADE_STATS_H
#define ARCADE_STATS_H

#include <stdint.h>

/* Why a new connection was refused, an old one closed to make room, or a datagram dropped. */
enum refusal { REFUSED_RATE, REFUSED_SHARE, REFUSED_FULL, EVICTED, DROPPED_DATAGRAMS, REFUSALS };

/* Rounds by who played them. */
enum stats_round {
    STATS_ROUND_BOT,        /* a named player against the bot */
    STATS_ROUND_GUEST,      /* a guest against the bot */
    STATS_ROUND_PERSON,     /* two players against each other: rated */
    STATS_ROUND_KINDS,
};

/* Budgets that made someone wait or refused them. */
enum stats_throttle {
    STATS_THROTTLE_FRAMES,  /* a long connection's frame budget ran out: reading paused */
    STATS_THROTTLE_ATTEMPTS,    /* a proof refused unchecked: "too many attempts" */
    STATS_THROTTLE_NAMES,   /* a new name refused: "too many new names" */
    STATS_THROTTLES,
};

/* Why a group commit's transaction failed. */
enum stats_db_failure {
    STATS_DB_LOCKED,        /* another process holds the database's lock */
    STATS_DB_FULL,          /* a full disk or a failed write */
    STATS_DB_OTHER,
    STATS_DB_FAILURES,
};

/* Short requests by transport. */
enum stats_transport { STATS_TCP, STATS_UDP, STATS_TRANSPORTS };

/* Upper bounds, in seconds, of the buckets of the duration histograms. */
#define STATS_BUCKETS 13
extern const double stats_bounds[STATS_BUCKETS];

/* Durations: how many took at most each bound (and more than the one before), the last bucket
 * longer; how many in all, and their sum. */
struct stats_histogram {
    uint64_t n[STATS_BUCKETS + 1];
    uint64_t count;
    double sum;
};

struct stats {
    uint64_t accepted;                          /* TCP connections let in */
    uint64_t refusals[REFUSALS];                /* by enum refusal */
    uint64_t requests[STATS_TRANSPORTS];        /* short requests answered */
    uint64_t matches;                           /* player-vs-player matches started */
    uint64_t rounds[STATS_ROUND_KINDS];         /* rounds stored (committed) */
    struct stats_histogram commits;             /* group commits stored, by how long they took */
    struct stats_histogram loop_busy;           /* loop iterations, by how long the loop worked in
                                                 * them (from poll's return to the next poll) */
    struct stats_histogram loop_cpu;            /* the same iterations, by the CPU time they took:
                                                 * less than the above when the thread was not
                                                 * running (the machine ran something else) */
    uint64_t commit_failures[STATS_DB_FAILURES]; /* transactions that failed, by why */
    uint64_t results_refused;                   /* results answered "games unavailable" instead */
    uint64_t fold_failures;                     /* folds of the tally log put off */
    uint64_t sweep_failures;                    /* steps of the rated players' write-back put off */
    uint64_t throttled[STATS_THROTTLES];        /* by enum stats_throttle */
};

extern struct stats stats;

/* Seconds on a clock that only goes forward, to time things with. */
double stats_clock(void);
/* Seconds of CPU this thread has used. */
double stats_thread_cpu(void);
/* Count one duration of `seconds` into h. */
void stats_observe(struct stats_histogram *h, double seconds);

#endif
