/* db/ladder: the leaderboard's order in memory, against a sorted array kept by brute force, by hand
 * for ties, and at a million entries for balance. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ladder.h"
#include "suite.h"

#define OPS 20000           /* mixed adds and removes of the randomized test */
#define CHECK_EVERY 250     /* operations between two full comparisons with the array */
#define PROBES 64           /* random keys looked up at each comparison */
#define MILLION 1000000
#define KEPT 1000           /* entries on the ladder through the reuse test */
#define CYCLES 2000000      /* removes and adds of the reuse test */
#define GROWTH_MAX (16L << 20) /* resident bytes the reuse test may add; 80 MB without reuse */

static uint64_t rng_state;

/* xorshift64*: the same sequence on every run, so a failure can be replayed. */
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

/* Keys from a small space (64 ratings, 10 times, 100 ids), so that ties on rating and on rated_at
 * are common and the same key comes up again. Ratings are quarters: a rating off by an eighth
 * is never present. */
static struct ladder_key random_key(void)
{
    struct ladder_key k = {
        .rating = 1000.0 + (double)(rng() % 64) / 4.0,
        .rated_at = (int64_t)(rng() % 10),
        .id = (int64_t)(rng() % 100),
    };
    return k;
}

/* The leaderboard's order written out again, apart from ladder_cmp: does a rank ahead of b? */
static int ref_ahead(const struct ladder_key *a, const struct ladder_key *b)
{
    if (a->rating != b->rating) {
        return a->rating > b->rating;
    }
    if (a->rated_at != b->rated_at) {
        return a->rated_at < b->rated_at;
    }
    return a->id < b->id;
}

static int same_key(const struct ladder_key *a, const struct ladder_key *b)
{
    return a->rating == b->rating && a->rated_at == b->rated_at && a->id == b->id;
}

/* For the loops of millions: Check notes the place of every ck_assert that passes, one write to a
 * pipe each, which would take far longer than the ladder does. what and i say where it failed. */
static void expect(int64_t got, int64_t want, const char *what, int64_t i)
{
    if (got != want) {
        ck_abort_msg("%s %lld: %lld, not %lld", what, (long long)i, (long long)got, (long long)want);
    }
}

/* The entry at position rank is k. */
static void expect_at(const struct ladder *l, int64_t rank, const struct ladder_key *k)
{
    struct ladder_key got;

    expect(ladder_at(l, rank, &got), 1, "ladder_at", rank);
    if (!same_key(&got, k)) {
        ck_abort_msg("ladder_at %lld: %g %lld %lld, not %g %lld %lld", (long long)rank, got.rating,
                     (long long)got.rated_at, (long long)got.id, k->rating, (long long)k->rated_at,
                     (long long)k->id);
    }
}

/* What the ladder should hold, in order, kept by brute force. */
struct ref {
    struct ladder_key keys[OPS];
    size_t n;
};

/* How many of r's keys rank ahead of k, counted one by one. */
static size_t ref_before(const struct ref *r, const struct ladder_key *k)
{
    size_t n = 0;

    for (size_t i = 0; i < r->n; i++) {
        n += ref_ahead(&r->keys[i], k);
    }
    return n;
}

/* Where k is in r, or -1. */
static long ref_find(const struct ref *r, const struct ladder_key *k)
{
    size_t at = ref_before(r, k);

    return at < r->n && same_key(&r->keys[at], k) ? (long)at : -1;
}

static void ref_insert(struct ref *r, const struct ladder_key *k)
{
    size_t at = ref_before(r, k);

    for (size_t i = r->n; i > at; i--) {
        r->keys[i] = r->keys[i - 1];
    }
    r->keys[at] = *k;
    r->n++;
}

static void ref_delete(struct ref *r, size_t at)
{
    for (size_t i = at; i + 1 < r->n; i++) {
        r->keys[i] = r->keys[i + 1];
    }
    r->n--;
}

/* Everything the ladder answers, against the array: the count, every present key's rank and the
 * entries ahead of it, the entry at every position, and random keys, mostly absent. */
static void check_against(const struct ladder *l, const struct ref *r)
{
    ck_assert_uint_eq(ladder_count(l), r->n);
    for (size_t i = 0; i < r->n; i++) {
        int64_t rank = (int64_t)i + 1;
        expect(i == 0 || ref_ahead(&r->keys[i - 1], &r->keys[i]), 1, "array in order at", rank);
        expect(ladder_rank(l, &r->keys[i]), rank, "ladder_rank of the entry at", rank);
        expect(ladder_before(l, &r->keys[i]), rank - 1, "ladder_before of the entry at", rank);
        expect_at(l, rank, &r->keys[i]);
    }
    for (int j = 0; j < PROBES; j++) {
        struct ladder_key k = random_key();
        if (j % 2 == 1) {
            k.rating += 0.125;
        }
        long at = ref_find(r, &k);
        expect(ladder_before(l, &k), (int64_t)ref_before(r, &k), "ladder_before of probe", j);
        expect(ladder_rank(l, &k), at < 0 ? 0 : at + 1, "ladder_rank of probe", j);
    }
}

START_TEST(test_random_adds_and_removes_match_a_sorted_array)
{
    struct ref *r = calloc(1, sizeof(*r));
    struct ladder *l = ladder_new();
    int added = 0, refused = 0, removed = 0, absent = 0;

    ck_assert_ptr_nonnull(r);
    ck_assert_ptr_nonnull(l);
    rng_state = 0x9e3779b97f4a7c15u;
    /* Mostly adds in the first half and mostly removes in the second, so the ladder grows to a
     * few thousand and drains again, reusing the nodes it freed. */
    for (int op = 0; op < OPS; op++) {
        int adds_in_10 = op < OPS / 2 ? 7 : 3;
        if (r->n == 0 || (int)(rng() % 10) < adds_in_10) {
            struct ladder_key k = random_key();
            int dup = ref_find(r, &k) >= 0;
            expect(ladder_add(l, &k), dup ? -1 : 0, "ladder_add at operation", op);
            if (!dup) {
                ref_insert(r, &k);
            }
            added += !dup;
            refused += dup;
        } else if (rng() % 4 == 0) {
            /* A key picked at random, most often not there. */
            struct ladder_key k = random_key();
            long at = ref_find(r, &k);
            expect(ladder_remove(l, &k), at < 0 ? -1 : 0, "ladder_remove at operation", op);
            if (at >= 0) {
                ref_delete(r, (size_t)at);
            }
            removed += at >= 0;
            absent += at < 0;
        } else {
            size_t at = rng() % r->n;
            expect(ladder_remove(l, &r->keys[at]), 0, "ladder_remove at operation", op);
            ref_delete(r, at);
            removed++;
        }
        if ((op + 1) % CHECK_EVERY == 0) {
            check_against(l, r);
        }
    }
    check_against(l, r);
    /* Each path was taken often enough to mean something. */
    ck_assert_int_gt(refused, 50);
    ck_assert_int_gt(absent, 500);
    ck_assert_int_gt(removed, 5000);
    ck_assert_int_eq(added - removed, (int)r->n);
    ladder_free(l);
    free(r);
}
END_TEST

START_TEST(test_ties_go_to_the_earlier_rating_then_the_lower_id)
{
    /* Added in a muddled order; the leaderboard reads them top down as in want. */
    static const struct ladder_key in[] = {
        { 1500.0, 7, 3 }, { 1400.0, 0, 0 }, { 1500.0, 2, 10 }, { 1500.0, 7, 1 },
        { 1600.0, 100, 50 }, { 1500.0, 2, 9 }, { 1500.5, 900, 99 }, { 1499.5, 1, 1 },
    };
    static const struct ladder_key want[] = {
        { 1600.0, 100, 50 }, { 1500.5, 900, 99 }, { 1500.0, 2, 9 }, { 1500.0, 2, 10 },
        { 1500.0, 7, 1 }, { 1500.0, 7, 3 }, { 1499.5, 1, 1 }, { 1400.0, 0, 0 },
    };
    size_t n = sizeof(want) / sizeof(want[0]);
    struct ladder *l = ladder_new();
    struct ladder_key got;

    ck_assert_ptr_nonnull(l);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(ladder_add(l, &in[i]), 0);
    }
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(ladder_rank(l, &want[i]), (int64_t)i + 1);
        ck_assert_int_eq(ladder_at(l, (int64_t)i + 1, &got), 1);
        ck_assert(same_key(&got, &want[i]));
        for (size_t j = 0; j < n; j++) {
            int c = ladder_cmp(&want[i], &want[j]);
            ck_assert_int_eq(c < 0 ? -1 : c > 0, i < j ? -1 : i > j);
        }
    }
    /* A key about to be added: 1500 reached at time 5 stands after those who got there at 2. */
    struct ladder_key next = { 1500.0, 5, 0 };
    ck_assert_int_eq(ladder_before(l, &next), 4);
    ck_assert_int_eq(ladder_rank(l, &next), 0);
    /* The ladder does not know players: the same id under another key is another entry. */
    struct ladder_key again = { 1450.0, 8, 3 };
    ck_assert_int_eq(ladder_add(l, &again), 0);
    ck_assert_int_eq(ladder_rank(l, &again), 8);
    ck_assert_int_eq(ladder_rank(l, &want[5]), 6);
    ck_assert_uint_eq(ladder_count(l), n + 1);
    ladder_free(l);
}
END_TEST

/* The ladder holds exactly keys[0..n), in that order. */
static void holds(const struct ladder *l, const struct ladder_key *keys, size_t n)
{
    struct ladder_key got;

    ck_assert_uint_eq(ladder_count(l), n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(ladder_at(l, (int64_t)i + 1, &got), 1);
        ck_assert(same_key(&got, &keys[i]));
        ck_assert_int_eq(ladder_rank(l, &keys[i]), (int64_t)i + 1);
    }
}

START_TEST(test_absent_removes_and_duplicate_adds_change_nothing)
{
    static const struct ladder_key keys[] = {
        { 1800.0, 4, 2 }, { 1200.0, 1, 5 }, { 1200.0, 1, 6 }, { 1200.0, 3, 1 }, { 900.0, 2, 7 },
    };
    /* Each differs from a present key in one field only. */
    static const struct ladder_key near[] = {
        { 1800.0, 4, 3 }, { 1800.0, 5, 2 }, { 1799.0, 4, 2 }, { 1200.0, 1, 4 }, { 1200.0, 2, 5 },
        { 900.0, 2, 8 },
    };
    size_t n = sizeof(keys) / sizeof(keys[0]);
    struct ladder *l = ladder_new();

    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(ladder_remove(l, &keys[0]), -1);
    ck_assert_uint_eq(ladder_count(l), 0);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(ladder_add(l, &keys[i]), 0);
    }
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(ladder_add(l, &keys[i]), -1);
        holds(l, keys, n);
    }
    for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
        ck_assert_int_eq(ladder_remove(l, &near[i]), -1);
        ck_assert_int_eq(ladder_rank(l, &near[i]), 0);
        holds(l, keys, n);
    }
    /* No rating that is not a number enters, and none finds an entry. */
    struct ladder_key odd = keys[1];
    odd.rating = NAN;
    ck_assert_int_eq(ladder_add(l, &odd), -1);
    ck_assert_int_eq(ladder_rank(l, &odd), 0);
    ck_assert_int_eq(ladder_remove(l, &odd), -1);
    odd.rating = INFINITY;
    ck_assert_int_eq(ladder_add(l, &odd), -1);
    odd.rating = -INFINITY;
    ck_assert_int_eq(ladder_add(l, &odd), -1);
    holds(l, keys, n);
    /* Removed once, a key is gone: a second remove fails. */
    ck_assert_int_eq(ladder_remove(l, &keys[2]), 0);
    ck_assert_int_eq(ladder_remove(l, &keys[2]), -1);
    ck_assert_int_eq(ladder_rank(l, &keys[3]), 3);
    ck_assert_uint_eq(ladder_count(l), n - 1);
    ladder_free(l);
}
END_TEST

START_TEST(test_at_out_of_range_finds_nothing)
{
    struct ladder *l = ladder_new();
    struct ladder_key k = { 1300.0, 2, 4 };
    struct ladder_key got = { -1.0, -1, -1 };

    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(ladder_at(l, 1, &got), 0);
    ck_assert_int_eq(ladder_before(l, &k), 0);
    ck_assert_int_eq(ladder_add(l, &k), 0);
    ck_assert_int_eq(ladder_at(l, 0, &got), 0);
    ck_assert_int_eq(ladder_at(l, -1, &got), 0);
    ck_assert_int_eq(ladder_at(l, 2, &got), 0);
    ck_assert_int_eq(ladder_at(l, INT64_MIN, &got), 0);
    ck_assert_int_eq(ladder_at(l, INT64_MAX, &got), 0);
    /* Past what a uint32 holds: cut to 32 bits, it would be position 1. */
    ck_assert_int_eq(ladder_at(l, (int64_t)UINT32_MAX + 2, &got), 0);
    /* A refused position leaves *out as it was. */
    ck_assert(got.rating == -1.0 && got.rated_at == -1 && got.id == -1);
    ck_assert_int_eq(ladder_at(l, 1, &got), 1);
    ck_assert(same_key(&got, &k));
    ladder_free(l);
    ladder_free(NULL);
}
END_TEST

/* The i-th key of a million in the ladder's order: a thousand to a rating, each reached later than
 * the one before it. */
static struct ladder_key nth(int64_t i)
{
    struct ladder_key k = { 3000.0 - (double)(i / 1000), i % 1000, i };
    return k;
}

/* A million keys from nth, added in whatever order: a few positions checked. */
static void check_million(const struct ladder *l)
{
    static const int64_t at[] = { 0, 1, 999, 1000, 1001, 333333, MILLION / 2, MILLION - 2, MILLION - 1 };

    ck_assert_uint_eq(ladder_count(l), MILLION);
    for (size_t j = 0; j < sizeof(at) / sizeof(at[0]); j++) {
        struct ladder_key k = nth(at[j]);
        ck_assert_int_eq(ladder_rank(l, &k), at[j] + 1);
        expect_at(l, at[j] + 1, &k);
        /* Just ahead of it, not there: every earlier key is ahead of this one. */
        k.id = -1;
        ck_assert_int_eq(ladder_before(l, &k), at[j]);
    }
}

/* Keys in sorted order would make a plain search tree a list, a million long: this finishes in
 * time only if the tree stays balanced. */
START_TEST(test_a_million_in_increasing_order)
{
    struct ladder *l = ladder_new();

    ck_assert_ptr_nonnull(l);
    for (int64_t i = 0; i < MILLION; i++) {
        struct ladder_key k = nth(i);
        expect(ladder_add(l, &k), 0, "ladder_add of key", i);
    }
    check_million(l);
    ladder_free(l);
}
END_TEST

START_TEST(test_a_million_in_decreasing_order)
{
    struct ladder *l = ladder_new();

    ck_assert_ptr_nonnull(l);
    for (int64_t i = MILLION - 1; i >= 0; i--) {
        struct ladder_key k = nth(i);
        expect(ladder_add(l, &k), 0, "ladder_add of key", i);
    }
    check_million(l);
    ladder_free(l);
}
END_TEST

/* Resident bytes of this process, or -1. */
static long resident(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size, pages = -1;

    if (f == NULL) {
        return -1;
    }
    if (fscanf(f, "%ld %ld", &size, &pages) != 2) {
        pages = -1;
    }
    fclose(f);
    return pages < 0 ? -1 : pages * sysconf(_SC_PAGESIZE);
}

/* A player moves: the oldest entry goes and a new one comes, two million times over a ladder of a
 * thousand. Were removed nodes not reused, the array would grow to two million nodes, 80 MB. */
START_TEST(test_removed_nodes_are_reused)
{
    struct ladder *l = ladder_new();

    ck_assert_ptr_nonnull(l);
    for (int64_t i = 0; i < KEPT; i++) {
        struct ladder_key k = nth(i);
        ck_assert_int_eq(ladder_add(l, &k), 0);
    }
    long before = resident();
    ck_assert_int_gt(before, 0);
    for (int64_t i = KEPT; i < KEPT + CYCLES; i++) {
        struct ladder_key old = nth(i - KEPT);
        struct ladder_key k = nth(i);
        expect(ladder_remove(l, &old), 0, "ladder_remove of key", i - KEPT);
        expect(ladder_add(l, &k), 0, "ladder_add of key", i);
    }
    long grown = resident() - before;
    ck_assert_msg(grown < GROWTH_MAX, "%ld bytes more resident after %d moves", grown, CYCLES);
    ck_assert_uint_eq(ladder_count(l), KEPT);
    struct ladder_key top = nth(CYCLES);
    ck_assert_int_eq(ladder_rank(l, &top), 1);
    ladder_free(l);
}
END_TEST

/* The bounds ladder.h gives for ladder_memory and ladder_height at count entries. */
static void within_bounds(const struct ladder *l, const char *when, int64_t i)
{
    double n = (double)ladder_count(l);
    double bytes = 56.0 * n + 96 * 1024, levels = 2.0 + log(n / 46.0 + 1.0) / log(16.0);

    if ((double)ladder_memory(l) > bytes || ladder_height(l) > levels) {
        ck_abort_msg("%s %lld: %zu bytes and %d levels for %.0f entries, past %.0f and %.1f", when,
                     (long long)i, ladder_memory(l), ladder_height(l), n, bytes, levels);
    }
}

#define BOUNDARY_SMALL 2000     /* keys of the boundary test checked after every operation */
#define BOUNDARY_LARGE 100000   /* keys of the one checked every BOUNDARY_EVERY operations */
#define BOUNDARY_EVERY 4999

/* The ladder holds exactly the keys nth(i) for which present[i], i below n: every one's rank, the
 * entries ahead of it and its position, and the absent ones' ranks and entries ahead. */
static void check_present(const struct ladder *l, const unsigned char *present, int64_t n)
{
    struct ladder_key got;
    int64_t rank = 0;

    for (int64_t i = 0; i < n; i++) {
        struct ladder_key k = nth(i);
        expect(ladder_before(l, &k), rank, "ladder_before of key", i);
        if (!present[i]) {
            expect(ladder_rank(l, &k), 0, "ladder_rank of absent key", i);
            continue;
        }
        rank++;
        expect(ladder_rank(l, &k), rank, "ladder_rank of key", i);
        expect_at(l, rank, &k);
    }
    expect((int64_t)ladder_count(l), rank, "ladder_count after key", n);
    expect(ladder_at(l, rank + 1, &got), 0, "ladder_at past the last", rank + 1);
    within_bounds(l, "bounds with keys below", n);
}

/* Add (or remove) nth(idx[j]) for each j below m, checking everything every `every` operations
 * and after the last. */
static void run_phase(struct ladder *l, unsigned char *present, int64_t n, const int64_t *idx,
                      int64_t m, int add, int64_t every)
{
    for (int64_t j = 0; j < m; j++) {
        struct ladder_key k = nth(idx[j]);
        if (add) {
            expect(ladder_add(l, &k), 0, "ladder_add of key", idx[j]);
        } else {
            expect(ladder_remove(l, &k), 0, "ladder_remove of key", idx[j]);
        }
        present[idx[j]] = (unsigned char)add;
        if ((j + 1) % every == 0 || j + 1 == m) {
            check_present(l, present, n);
        }
    }
}

/* Keys in ascending, descending and shuffled order (by _i % 3), a few thousand checked after every
 * operation or a hundred thousand checked now and then (by _i / 3): all added, so that leaves and
 * inner nodes split on three levels or more; every other one removed, so that nodes fall under
 * half full all over and borrow or merge; then the rest, down to nothing. */
START_TEST(test_splits_and_merges_keep_ranks)
{
    int64_t n = _i / 3 == 0 ? BOUNDARY_SMALL : BOUNDARY_LARGE;
    int64_t every = n == BOUNDARY_SMALL ? 1 : BOUNDARY_EVERY;
    int64_t *idx = malloc(sizeof(*idx) * (size_t)n);
    int64_t *half = malloc(sizeof(*half) * (size_t)n);
    unsigned char *present = calloc((size_t)n, 1);
    struct ladder *l = ladder_new();

    ck_assert(idx != NULL && half != NULL && present != NULL && l != NULL);
    rng_state = 0x2545f4914f6cdd1du + (uint64_t)_i;
    for (int64_t i = 0; i < n; i++) {
        idx[i] = _i % 3 == 1 ? n - 1 - i : i;
    }
    for (int64_t i = n - 1; _i % 3 == 2 && i > 0; i--) {
        int64_t j = (int64_t)(rng() % (uint64_t)(i + 1)), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    size_t empty = ladder_memory(l);
    run_phase(l, present, n, idx, n, 1, every);
    ck_assert_int_ge(ladder_height(l), 3);
    for (int64_t j = 0; j < n / 2; j++) {
        half[j] = idx[2 * j + 1];
    }
    run_phase(l, present, n, half, n / 2, 0, every);
    for (int64_t j = 0; j < n - n / 2; j++) {
        half[j] = idx[2 * j];
    }
    run_phase(l, present, n, half, n - n / 2, 0, every);
    ck_assert_uint_eq(ladder_count(l), 0);
    ck_assert_int_eq(ladder_height(l), 0);
    /* Nothing is held but the few spare blocks ladder.h allows. */
    ck_assert_uint_le(ladder_memory(l), empty + 96 * 1024);
    ladder_free(l);
    free(present);
    free(half);
    free(idx);
}
END_TEST

#define CHURN_KEPT 100000       /* entries through the churn test */
#define CHURN_CYCLES 1000000    /* removes and adds of it */
#define CHURN_EVERY 100000      /* cycles between two looks at height and memory */

/* A key of the churn test: ratings in quarters over 800 points, so ties are common; ids unique. */
static struct ladder_key churn_key(int64_t id)
{
    struct ladder_key k = {
        .rating = 800.0 + (double)(rng() % 3200) / 4.0,
        .rated_at = (int64_t)(rng() % 1000),
        .id = id,
    };
    return k;
}

static int cmp_ref(const void *a, const void *b)
{
    return ref_ahead(a, b) ? -1 : ref_ahead(b, a);
}

/* Players move at random, a million times over a ladder of a hundred thousand: the height and the
 * memory stay where the first adds put them, and within ladder.h's bounds; then every entry is
 * where a sort puts it. */
START_TEST(test_churn_keeps_height_and_memory_bounded)
{
    struct ladder_key *keys = malloc(sizeof(*keys) * CHURN_KEPT);
    struct ladder *l = ladder_new();
    int64_t next_id = 0;

    ck_assert(keys != NULL && l != NULL);
    rng_state = 0x9e3779b97f4a7c15u;
    for (int64_t i = 0; i < CHURN_KEPT; i++) {
        keys[i] = churn_key(next_id++);
        expect(ladder_add(l, &keys[i]), 0, "ladder_add of key", i);
    }
    size_t filled = ladder_memory(l);
    int height = ladder_height(l);
    for (int64_t c = 1; c <= CHURN_CYCLES; c++) {
        size_t j = rng() % CHURN_KEPT;
        expect(ladder_remove(l, &keys[j]), 0, "ladder_remove at cycle", c);
        keys[j] = churn_key(next_id++);
        expect(ladder_add(l, &keys[j]), 0, "ladder_add at cycle", c);
        if (c % CHURN_EVERY == 0) {
            within_bounds(l, "bounds at cycle", c);
            expect(ladder_height(l), height, "ladder_height at cycle", c);
            ck_assert_msg(ladder_memory(l) <= filled + filled / 4, "%zu bytes at cycle %lld, %zu"
                          " after the adds", ladder_memory(l), (long long)c, filled);
        }
    }
    qsort(keys, CHURN_KEPT, sizeof(*keys), cmp_ref);
    ck_assert_uint_eq(ladder_count(l), CHURN_KEPT);
    for (int64_t i = 0; i < CHURN_KEPT; i++) {
        expect(ladder_rank(l, &keys[i]), i + 1, "ladder_rank of the entry at", i + 1);
        expect(ladder_before(l, &keys[i]), i, "ladder_before of the entry at", i + 1);
        expect_at(l, i + 1, &keys[i]);
    }
    ladder_free(l);
    free(keys);
}
END_TEST

static Suite *ladder_suite(void)
{
    Suite *s = suite_create("ladder");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_random_adds_and_removes_match_a_sorted_array);
    tcase_add_test(tc, test_ties_go_to_the_earlier_rating_then_the_lower_id);
    tcase_add_test(tc, test_absent_removes_and_duplicate_adds_change_nothing);
    tcase_add_test(tc, test_at_out_of_range_finds_nothing);
    tcase_add_test(tc, test_a_million_in_increasing_order);
    tcase_add_test(tc, test_a_million_in_decreasing_order);
    tcase_add_test(tc, test_removed_nodes_are_reused);
    tcase_add_loop_test(tc, test_splits_and_merges_keep_ranks, 0, 6);
    tcase_add_test(tc, test_churn_keeps_height_and_memory_bounded);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return suite_run(ladder_suite());
}
