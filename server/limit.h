/*
 * limit: token buckets for the per-address connection rate and the
 * per-connection frame rate.
 *
 * A burst below 1 counts as 1 everywhere here: a bucket whose burst is below
 * one token would never hold a whole token, so a positive rate below 1 per
 * second (--conn-rate 0.5) would refuse everything instead of allowing one
 * every 1/rate seconds.
 */
#ifndef ARCADE_LIMIT_H
#define ARCADE_LIMIT_H

#include <ev.h>
#include <stddef.h>
#include <sys/socket.h>

struct limit_bucket {
    double tokens;      /* may go below zero: a debt paid back before the next read */
    ev_tstamp at;       /* when tokens was last brought up to date; 0: never, the bucket is full */
};

/* Refill b at rate tokens per second up to burst; returns the tokens now. */
double limit_refill(struct limit_bucket *b, double rate, double burst, ev_tstamp now);

/*
 * A table of token buckets keyed by short byte strings (an address, an account
 * id), each key exact: two keys never share a bucket. At most max_entries are
 * kept. A new key that finds the table full takes the place of the entry whose
 * bucket is soonest back to its burst: first one that already is (it carries
 * no information, a fresh bucket is the same), else the one whose loss forgives
 * the fewest tokens, which among equally drained buckets is the oldest. So a
 * flood of new keys, each taking a token or two, evicts itself before it
 * evicts a key that has emptied its bucket, and a new key is always tracked.
 *
 * Keys are at most LIMIT_KEY_MAX bytes; rate is in tokens per second, >= 0.
 * Keys are hashed with a secret seed, so nobody can choose keys that pile up
 * in one place of the table. Memory grows with the keys seen up to
 * max_entries; after that no call allocates.
 */
#define LIMIT_KEY_MAX 16

struct limit_table;

/* NULL if out of memory. */
struct limit_table *limit_table_new(size_t max_entries);
void limit_table_free(struct limit_table *t);
/* Tokens key's bucket holds now (rate per second, up to burst; an unknown key
 * holds burst). Changes nothing visible. */
double limit_table_peek(struct limit_table *t, const void *key, size_t keylen, double rate, double burst,
                        ev_tstamp now);
/* Take one token from key's bucket if it holds at least one; returns 1 if
 * taken, 0 if not. An unknown key starts with a full bucket. */
int limit_table_take(struct limit_table *t, const void *key, size_t keylen, double rate, double burst,
                     ev_tstamp now);

/* An address as a key: 16 bytes, IPv4 as its IPv4-mapped IPv6 form; the port
 * is not part of it. Any other family is all zeros. */
#define LIMIT_ADDR_KEY 16
void limit_addr_key(const struct sockaddr_storage *sa, unsigned char key[LIMIT_ADDR_KEY]);
/* An address as its owner holds it: one IPv4 address, or an IPv6 /64 (the rest zeroed), for the
 * limits one owner must not get around by changing addresses. */
void limit_addr_owner_key(const struct sockaddr_storage *sa, unsigned char key[LIMIT_ADDR_KEY]);

/* Recent connections per source address: a limit_table of addresses. */
struct limit_addrs;

struct limit_addrs *limit_addrs_new(void);
void limit_addrs_free(struct limit_addrs *t);
/* May a new connection from sa be accepted at `rate` per second (burst rate)? Takes a token if so. */
int limit_addrs_take(struct limit_addrs *t, const struct sockaddr_storage *sa, double rate, ev_tstamp now);

#endif
