/*
 * bench: `arcade bench <load>`, a load generator for arcaded (and for its baseline,
 * bin/arcade-null). Four loads:
 *
 *   short  each connection connects, sends "a12\n", checks "d144\n", closes, repeats
 *   long   persistent rock-paper-scissors connections with DEPTH moves in flight each
 *   udp    INFLIGHT datagrams "a12" in flight, each answered by "d144\n" within 1 s
 *   hold   open many long connections, play a round, hold them idle, play another round
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
};

#define BENCH_HOST_MAX 255
#define BENCH_ERR_MAX 160

struct bench_opts {
    enum bench_load load;
    int conns;                      /* -c: connections (udp: datagrams in flight) */
    double secs;                    /* -d: duration (hold: how long connections are held) */
    int threads;                    /* -t: worker threads, at most conns */
    int depth;                      /* -p: long: moves in flight per connection */
    int anonymous;                  /* --anonymous: long, hold: no hello, bare result bytes */
    double timeout;                 /* --timeout: seconds for a connect or an answer; < 0: the load's */
    char host[BENCH_HOST_MAX + 1];  /* --host */
    int port;                       /* --port */
    int progress;                   /* print a progress line each second on stderr */
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
    struct bench_hist hist;         /* latency in ns from a request's send to its answer */
    char first_error[BENCH_ERR_MAX]; /* what the first error was, "" if none */
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

/* The one summary line, e.g. "long: 100 conns, depth 1, 10.00 s: 812345 ops, 81234 ops/s,
 * p50 0.950 ms, p90 1.200 ms, p99 1.800 ms, max 4.100 ms, errors 0"; when there were errors, what
 * they were follows in parentheses: "errors 1240 (refused 1234, closed 6)". */
void bench_summary(FILE *out, const struct bench_opts *o, const struct bench_result *r);

/* What the errors of a run say about the server, one "arcade bench: ..." line each (refusals, closes,
 * error answers, missing answers), and whether a long load ran at a default --frame-rate, for
 * stderr. */
void bench_explain(FILE *out, const struct bench_opts *o, const struct bench_result *r);

/* `arcade bench ...`: argv[0] is "bench". Returns an enum bench_exit. */
int bench_main(int argc, char **argv);

#endif
