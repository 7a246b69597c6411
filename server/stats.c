/*
 * stats: the counters, and the buckets of the commit duration histogram. A commit takes ten to a
 * hundred microseconds when all is well, and milliseconds with fsyncs (--sync full) or a
 * checkpoint after a full disk: the bounds run from 10 us to a second.
 */
#include "stats.h"

#include <time.h>

struct stats stats;

const double stats_commit_bounds[STATS_COMMIT_BUCKETS] = {
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.05, 0.25, 1,
};

double stats_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void stats_commit_took(double seconds)
{
    int i = 0;
    while (i < STATS_COMMIT_BUCKETS && seconds > stats_commit_bounds[i]) {
        i++;
    }
    stats.commit_took[i]++;
    stats.commits++;
    stats.commit_seconds += seconds;
}
