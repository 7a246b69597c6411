/*
 * limit: token buckets for the per-address connection rate and the
 * per-connection frame rate.
 */
#ifndef ARCADE_LIMIT_H
#define ARCADE_LIMIT_H

#include <ev.h>
#include <sys/socket.h>

struct limit_bucket {
    double tokens;      /* may go below zero: a debt paid back before the next read */
    ev_tstamp at;       /* when tokens was last brought up to date */
};

/* Refill b at rate tokens per second up to burst; returns the tokens now. A
 * burst below 1 counts as 1: a bucket that never holds a whole token would
 * refuse everything at a rate below 1 per second (--frame-rate 0.5) instead of
 * allowing one every 1/rate seconds. */
double limit_refill(struct limit_bucket *b, double rate, double burst, ev_tstamp now);

/* Remembers recent connections per source address, in a fixed table. */
struct limit_addrs;

struct limit_addrs *limit_addrs_new(void);
void limit_addrs_free(struct limit_addrs *t);
/* May a new connection from sa be accepted at `rate` per second (burst rate)? Takes a token if so. */
int limit_addrs_take(struct limit_addrs *t, const struct sockaddr_storage *sa, double rate, ev_tstamp now);

#endif
