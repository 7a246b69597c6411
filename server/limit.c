/*
 * limit: token buckets. The address table is direct-mapped and fixed in size:
 * two active addresses that land in one slot share a bucket, which can only
 * make the limit stricter for them, never let anyone past it, and an attacker
 * cannot grow the table.
 */
#include "limit.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT_SLOTS 4096

struct slot {
    unsigned char addr[16];     /* IPv4 in the first 4 bytes, or IPv6 */
    struct limit_bucket bucket;
};

struct limit_addrs {
    struct slot slots[LIMIT_SLOTS];
};

double limit_refill(struct limit_bucket *b, double rate, double burst, ev_tstamp now)
{
    if (burst < 1) {
        burst = 1;
    }
    if (b->at == 0) {
        b->tokens = burst;
    } else if (now > b->at) {
        b->tokens += (now - b->at) * rate;
        if (b->tokens > burst) {
            b->tokens = burst;
        }
    }
    b->at = now;
    return b->tokens;
}

struct limit_addrs *limit_addrs_new(void)
{
    return calloc(1, sizeof(struct limit_addrs));
}

void limit_addrs_free(struct limit_addrs *t)
{
    free(t);
}

static void addr_key(const struct sockaddr_storage *sa, unsigned char key[16])
{
    memset(key, 0, 16);
    if (sa->ss_family == AF_INET) {
        memcpy(key, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa->ss_family == AF_INET6) {
        memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    }
}

static uint32_t hash(const unsigned char key[16])
{
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (int i = 0; i < 16; i++) {
        h = (h ^ key[i]) * 16777619u;
    }
    return h;
}

int limit_addrs_take(struct limit_addrs *t, const struct sockaddr_storage *sa, double rate, ev_tstamp now)
{
    unsigned char key[16];
    addr_key(sa, key);
    struct slot *s = &t->slots[hash(key) % LIMIT_SLOTS];

    double tokens = limit_refill(&s->bucket, rate, rate, now);
    if (memcmp(s->addr, key, sizeof(key)) != 0 && tokens >= rate) {
        /* The slot's owner has been quiet long enough to be forgotten. */
        memcpy(s->addr, key, sizeof(key));
    }
    if (tokens < 1) {
        return 0;
    }
    s->bucket.tokens -= 1;
    return 1;
}
