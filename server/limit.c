/*
 * limit: token buckets, and a table of them keyed by exact byte strings.
 *
 * The table keeps its entries in one array and reaches them two ways:
 *
 *   index  open addressing, linear probing, at most half full:
 *          slot -> entry number + 1 (0: empty), by a keyed hash of the key
 *   heap   entry numbers, soonest back to its burst first: the top is the
 *          entry a new key replaces when the table is full
 *
 * An entry leaves only to be replaced, so the numbers 0..n-1 are all in use
 * and the new key takes its victim's number.
 */
#include "limit.h"

#include <assert.h>
#include <math.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Only an address whose bucket is still refilling needs a place: one that
 * connected within the last burst/rate seconds (a second at any rate of 1 or
 * more). At 60 bytes an entry this is under 4 MiB, allocated as it fills. */
#define LIMIT_ADDRS_MAX 65536
#define FIRST_CAP 64            /* entries allocated at first; doubled as needed */

_Static_assert(LIMIT_ADDR_KEY <= LIMIT_KEY_MAX, "an address must fit in a key");
_Static_assert(LIMIT_ADDR_KEY == sizeof(struct in6_addr), "an address key is an IPv6 address");

struct entry {
    unsigned char key[LIMIT_KEY_MAX];
    uint8_t keylen;
    uint32_t pos;               /* its place in the heap */
    struct limit_bucket bucket;
    ev_tstamp full;             /* when the bucket is back to its burst, as of the last take */
};

struct limit_table {
    size_t max;                 /* entries kept at most */
    size_t n;                   /* entries in use: numbers 0..n-1 */
    size_t cap;                 /* entries allocated */
    struct entry *ents;         /* cap entries */
    uint32_t *heap;             /* n entry numbers, a min-heap on full */
    uint32_t *index;            /* mask + 1 slots */
    size_t mask;
    unsigned char seed[crypto_shorthash_KEYBYTES]; /* hash key: nobody can aim at a slot */
};

struct limit_addrs {
    struct limit_table *table;
};

static double least_burst(double burst)
{
    return burst < 1 ? 1 : burst;
}

/* The bucket brought up to now; it never holds more than burst. */
static double refill(struct limit_bucket *b, double rate, double burst, ev_tstamp now)
{
    if (now > b->at) {
        b->tokens += (now - b->at) * rate;
    }
    b->at = now;
    if (b->tokens > burst) {
        b->tokens = burst;
    }
    return b->tokens;
}

double limit_refill(struct limit_bucket *b, double rate, double burst, ev_tstamp now)
{
    burst = least_burst(burst);
    if (b->at == 0) {
        b->tokens = burst;
        b->at = now;
    }
    return refill(b, rate, burst, now);
}

/* ---- the index ---- */

static size_t home(const struct limit_table *t, const void *key, size_t keylen)
{
    unsigned char h[crypto_shorthash_BYTES];
    uint64_t v;

    crypto_shorthash(h, key, keylen, t->seed);
    memcpy(&v, h, sizeof(v));
    return (size_t)v & t->mask;
}

/* The slot that holds key, or the empty slot where it would go. */
static size_t find(const struct limit_table *t, const void *key, size_t keylen)
{
    size_t i = home(t, key, keylen);

    while (t->index[i] != 0) {
        const struct entry *e = &t->ents[t->index[i] - 1];
        if (e->keylen == keylen && memcmp(e->key, key, keylen) == 0) {
            break;
        }
        i = (i + 1) & t->mask;
    }
    return i;
}

/* Empty slot i, moving back the entries after it that probed past it, so
 * that no probe meets a hole before its key. */
static void index_remove(struct limit_table *t, size_t i)
{
    for (size_t j = (i + 1) & t->mask; t->index[j] != 0; j = (j + 1) & t->mask) {
        const struct entry *e = &t->ents[t->index[j] - 1];
        size_t h = home(t, e->key, e->keylen);
        /* It may fill the hole if the hole lies between its home and j. */
        if (((j - h) & t->mask) >= ((j - i) & t->mask)) {
            t->index[i] = t->index[j];
            i = j;
        }
    }
    t->index[i] = 0;
}

/* ---- the heap ---- */

static int sooner(const struct limit_table *t, size_t a, size_t b)
{
    return t->ents[t->heap[a]].full < t->ents[t->heap[b]].full;
}

static void heap_swap(struct limit_table *t, size_t a, size_t b)
{
    uint32_t x = t->heap[a];

    t->heap[a] = t->heap[b];
    t->heap[b] = x;
    t->ents[t->heap[a]].pos = (uint32_t)a;
    t->ents[t->heap[b]].pos = (uint32_t)b;
}

/* Put the entry at place k where its full belongs. */
static void heap_fix(struct limit_table *t, size_t k)
{
    while (k > 0 && sooner(t, k, (k - 1) / 2)) {
        heap_swap(t, k, (k - 1) / 2);
        k = (k - 1) / 2;
    }
    for (size_t c = 2 * k + 1; c < t->n; c = 2 * k + 1) {
        if (c + 1 < t->n && sooner(t, c + 1, c)) {
            c++;
        }
        if (!sooner(t, c, k)) {
            break;
        }
        heap_swap(t, k, c);
        k = c;
    }
}

/* ---- the table ---- */

/* Room for twice the entries (max at most) and the index rebuilt to match;
 * -1 if out of memory, with the table as it was. */
static int grow(struct limit_table *t)
{
    size_t cap = t->cap == 0 ? FIRST_CAP : 2 * t->cap;
    size_t slots = 2;

    cap = cap < t->max ? cap : t->max;
    while (slots < 2 * cap) {
        slots *= 2;
    }
    struct entry *ents = realloc(t->ents, cap * sizeof(*ents));
    if (ents == NULL) {
        return -1;
    }
    t->ents = ents;
    uint32_t *heap = realloc(t->heap, cap * sizeof(*heap));
    if (heap == NULL) {
        return -1;
    }
    t->heap = heap;
    uint32_t *index = calloc(slots, sizeof(*index));
    if (index == NULL) {
        return -1;
    }
    free(t->index);
    t->index = index;
    t->mask = slots - 1;
    t->cap = cap;
    for (size_t i = 0; i < t->n; i++) {
        t->index[find(t, ents[i].key, ents[i].keylen)] = (uint32_t)i + 1;
    }
    return 0;
}

struct limit_table *limit_table_new(size_t max_entries)
{
    assert(max_entries > 0 && max_entries < UINT32_MAX);
    if (sodium_init() < 0) {
        return NULL;
    }
    struct limit_table *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    t->max = max_entries;
    randombytes_buf(t->seed, sizeof(t->seed));
    if (grow(t) < 0) {
        limit_table_free(t);
        return NULL;
    }
    return t;
}

void limit_table_free(struct limit_table *t)
{
    if (t == NULL) {
        return;
    }
    free(t->ents);
    free(t->heap);
    free(t->index);
    free(t);
}

/* A full bucket for key: a new entry while there is room, else the entry
 * soonest back to its burst, which is nobody's limit if it already is. */
static struct entry *insert(struct limit_table *t, const void *key, size_t keylen, double burst, ev_tstamp now)
{
    uint32_t num;

    if (t->n < t->cap || (t->n < t->max && grow(t) == 0)) {
        num = (uint32_t)t->n++;
        t->heap[num] = num;
        t->ents[num].pos = num;
    } else {
        num = t->heap[0];
        index_remove(t, find(t, t->ents[num].key, t->ents[num].keylen));
    }
    struct entry *e = &t->ents[num];
    memcpy(e->key, key, keylen);
    e->keylen = (uint8_t)keylen;
    e->bucket = (struct limit_bucket){ .tokens = burst, .at = now };
    e->full = now;
    t->index[find(t, key, keylen)] = num + 1;
    heap_fix(t, e->pos);
    return e;
}

double limit_table_peek(struct limit_table *t, const void *key, size_t keylen, double rate, double burst,
                        ev_tstamp now)
{
    assert(keylen <= LIMIT_KEY_MAX && rate >= 0);
    burst = least_burst(burst);
    uint32_t num = t->index[find(t, key, keylen)];
    if (num == 0) {
        return burst;
    }
    struct limit_bucket b = t->ents[num - 1].bucket;
    return refill(&b, rate, burst, now);
}

int limit_table_take(struct limit_table *t, const void *key, size_t keylen, double rate, double burst,
                     ev_tstamp now)
{
    assert(keylen <= LIMIT_KEY_MAX && rate >= 0);
    burst = least_burst(burst);
    uint32_t num = t->index[find(t, key, keylen)];
    struct entry *e = num != 0 ? &t->ents[num - 1] : insert(t, key, keylen, burst, now);

    if (refill(&e->bucket, rate, burst, now) < 1) {
        return 0;
    }
    e->bucket.tokens -= 1;
    e->full = rate > 0 ? now + (burst - e->bucket.tokens) / rate : INFINITY;
    heap_fix(t, e->pos);
    return 1;
}

/* ---- addresses ---- */

void limit_addr_key(const struct sockaddr_storage *sa, unsigned char key[LIMIT_ADDR_KEY])
{
    memset(key, 0, LIMIT_ADDR_KEY);
    if (sa->ss_family == AF_INET) {
        /* ::ffff:a.b.c.d, as a dual-stack socket reports the same peer */
        key[10] = 0xff;
        key[11] = 0xff;
        memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa->ss_family == AF_INET6) {
        memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, LIMIT_ADDR_KEY);
    }
}

void limit_addr_owner_key(const struct sockaddr_storage *sa, unsigned char key[LIMIT_ADDR_KEY])
{
    static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    limit_addr_key(sa, key);
    if (memcmp(key, v4mapped, sizeof(v4mapped)) != 0) {
        memset(key + 8, 0, LIMIT_ADDR_KEY - 8);
    }
}

struct limit_addrs *limit_addrs_new(void)
{
    struct limit_addrs *a = malloc(sizeof(*a));

    if (a != NULL && (a->table = limit_table_new(LIMIT_ADDRS_MAX)) == NULL) {
        free(a);
        return NULL;
    }
    return a;
}

void limit_addrs_free(struct limit_addrs *a)
{
    if (a != NULL) {
        limit_table_free(a->table);
        free(a);
    }
}

int limit_addrs_take(struct limit_addrs *a, const struct sockaddr_storage *sa, double rate, ev_tstamp now)
{
    unsigned char key[LIMIT_ADDR_KEY];

    limit_addr_key(sa, key);
    return limit_table_take(a->table, key, sizeof(key), rate, rate, now);
}
