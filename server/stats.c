/*
 * stats: the counters, and the buckets of the duration histograms. A commit or a loop iteration
 * takes ten to a hundred microseconds when all is well, and milliseconds with fsyncs (--sync full)
 * or a checkpoint after a full disk: the bounds run from 10 us to a second.
 */
#include "stats.h"

#include <time.h>

struct stats stats;

const double stats_bounds[STATS_BUCKETS] = {
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25, 1,
};

double stats_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double stats_thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void stats_observe(struct stats_histogram *h, double seconds)
{
    int i = 0;
    while (i < STATS_BUCKETS && seconds > stats_bounds[i]) {
        i++;
    }
    h->n[i]++;
    h->count++;
    h->sum += seconds;
}
