/*
 * bench: `arcade bench <load>`, a load generator for arcaded (and for its baseline,
 * bin/arcade-null). Five loads:
 *
 *   short  each connection connects, sends "a12\n", checks "d144\n", closes, repeats
 *   long   persistent rock-paper-scissors connections with DEPTH moves in flight each
 *   udp    INFLIGHT datagrams "a12" in flight, each answered by "d144\n" within 1 s
 *   hold   open many long connections, play a round, hold them idle, play another round
 *   pvp    PAIRS pairs of named players queue, are matched and play rated rounds as fast as
 *          both sides answer; afterwards the server's JSON API is asked how many rounds it
 *          stored for them
 *
 * Every answer is checked; latencies go to a per-thread histogram merged at the end.
 */
#ifndef ARCADE_BENCH_H
#define ARCADE_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Log-linear latency histogram: values below 2^(SUB_BITS+1) are exact; above, each power
 * of two is cut into 2^SUB_BITS equal buckets, so a bucket is at most 1/128 (0.8%) wide. */
#define BENCH_HIST_SUB_BITS 7
#define BENCH_HIST_SUB (1u << BENCH_HIST_SUB_BITS)
#define BENCH_HIST_MAX_SHIFT 33     /* largest exact-enough value about 2^41 ns, 36 minutes */
#define BENCH_HIST_BUCKETS (BENCH_HIST_SUB * (BENCH_HIST_MAX_SHIFT + 2))

struct bench_hist {
    uint64_t count;                 /* values recorded */
    uint64_t min;                   /* smallest value, exact (UINT64_MAX when empty) */
    uint64_t max;                   /* largest value, exact */
    uint64_t counts[BENCH_HIST_BUCKETS];
};

void bench_hist_init(struct bench_hist *h);
void bench_hist_record(struct bench_hist *h, uint64_t value);
void bench_hist_merge(struct bench_hist *into, const struct bench_hist *from);
/* The value at percentile pct (0..100]: the highest value of the bucket holding that rank,
 * clamped to [min, max]; 0 for an empty histogram. */
uint64_t bench_hist_percentile(const struct bench_hist *h, double pct);

enum bench_load {
    BENCH_SHORT,
    BENCH_LONG,
    BENCH_UDP,
    BENCH_HOLD,
    BENCH_PVP,
};

#define BENCH_HOST_MAX 255
#define BENCH_ERR_MAX 160
#define BENCH_RUN_MAX 9             /* a run's id: 8 hex digits */

struct bench_opts {
    enum bench_load load;
    int conns;                      /* -c: connections (udp: datagrams in flight; pvp: pairs) */
    double secs;                    /* -d: duration (hold: how long connections are held) */
    int threads;                    /* -t: worker threads, at most conns */
    int depth;                      /* -p: long: moves in flight per connection */
    int anonymous;                  /* --anonymous: long, hold: no hello, bare result bytes */
    double timeout;                 /* --timeout: seconds for a connect or an answer; < 0: the load's */
    char host[BENCH_HOST_MAX + 1];  /* --host */
    int port;                       /* --port */
    int progress;                   /* print a progress line each second on stderr */
};

/* pvp: the check of what the server stored. */
enum bench_check {
    BENCH_CHECK_NONE,               /* not a pvp run */
    BENCH_CHECK_DONE,               /* every player's rounds read back */
    BENCH_CHECK_SKIPPED,            /* the server has no JSON API (arcade-null): not HTTP */
    BENCH_CHECK_FAILED,             /* the API did not answer for a player: an error */
};

struct bench_result {
    uint64_t ops;                   /* answers received and found right */
    uint64_t errors;                /* wrong, refused or missing answers, failed connects */
    uint64_t refused;               /* of which connections refused by the server (ebusy) */
    uint64_t closed;                /* connections the server closed */
    uint64_t error_answers;         /* requests answered with an error (e... or E) */
    uint64_t missing;               /* answers or connections that never came within the timeout */
    double elapsed;                 /* seconds from the start to the last answer (hold: held) */
    uint64_t opened;                /* hold: connections that answered round 1 */
    uint64_t held;                  /* hold: connections that answered both rounds */
    uint64_t interrupted;           /* pvp: rounds or matches cut short (T, G, F or Q) before the end */
    struct bench_hist hist;         /* latency in ns from a request's send to its answer */
    char first_error[BENCH_ERR_MAX]; /* what the first error was, "" if none */
    /* pvp: what the run was told and what the server holds, in results (a rated round gives
     * each of its two players one, so rounds are results / 2) */
    char run[BENCH_RUN_MAX];        /* the run's id: its players are bp<run>-0 to bp<run>-<2 PAIRS - 1> */
    uint64_t told;                  /* results of rated rounds received, forfeits included */
    uint64_t bot;                   /* results of rounds against the bot: a move that crossed the
                                       opponent's leaving, played in the lobby */
    enum bench_check check;
    uint64_t stored;                /* BENCH_CHECK_DONE: the players' rounds, less the bot's */
    char check_why[BENCH_ERR_MAX];  /* BENCH_CHECK_SKIPPED or _FAILED: why */
};

/* Exit statuses of bench_main. */
enum bench_exit {
    BENCH_EXIT_OK = 0,              /* no error */
    BENCH_EXIT_ERRORS = 1,          /* at least one error */
    BENCH_EXIT_USAGE = 2,
    BENCH_EXIT_CONNECT = 3,         /* cannot reach the server */
};

/* Parse argv ("bench", the load, options in any order). Returns 0, 1 for --help, or -1 with
 * the reason in err. Honours ARCADE_HOST and ARCADE_PORT as defaults, like the other
 * subcommands. */
int bench_parse(int argc, char **argv, struct bench_opts *o, char *err, size_t errlen);

/* Run the load. Returns 0 once it ran (its errors are counted in r), else why it could not
 * run, with the reason in err: BENCH_EXIT_CONNECT (server unreachable), BENCH_EXIT_USAGE (-c
 * above the open file limit), BENCH_EXIT_ERRORS (out of memory or threads). r is the caller's
 * (it holds a histogram, so better not on a small stack). */
int bench_run(const struct bench_opts *o, struct bench_result *r, char *err, size_t errlen);

/* pvp: ask the server's JSON API (GET /api/players/NAME on the same port) for the rounds of the
 * run's players, and compare the rated ones with r->told: r->check and r->stored say what came of
 * it, and a mismatch or an API that fails is one more error in r. bench_run does it after a pvp
 * run. */
void bench_check(const struct bench_opts *o, struct bench_result *r);

/* The one summary line, e.g. "long: 100 conns, depth 1, 10.00 s: 812345 ops, 81234 ops/s,
 * p50 0.950 ms, p90 1.200 ms, p99 1.800 ms, max 4.100 ms, errors 0"; when there were errors, what
 * they were follows in parentheses: "errors 1240 (refused 1234, closed 6)". A pvp line counts
 * rated rounds and ends with its check: "pvp: 50 pairs, 10.00 s: 61234 rated rounds, 6123 ops/s,
 * ..., errors 0, stored 61234 of 61234" (or "check skipped"). */
void bench_summary(FILE *out, const struct bench_opts *o, const struct bench_result *r);

/* What the errors of a run say about the server, one "arcade bench: ..." line each (refusals, closes,
 * error answers, missing answers), and whether a long load ran at a default --frame-rate, for
 * stderr. */
void bench_explain(FILE *out, const struct bench_opts *o, const struct bench_result *r);

/* `arcade bench ...`: argv[0] is "bench". Returns an enum bench_exit. */
int bench_main(int argc, char **argv);

#endif
