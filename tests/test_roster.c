/* db/roster: the store's memory of rated players, found by id. A hundred thousand ids in order and
 * at random, ids that all hash to one slot, pointers kept across lookups, truncation after a failed
 * batch, and the form's last letters. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster.h"
#include "suite.h"

#define MANY 100000     /* ids of the large tests */
#define CLUSTER 3000    /* ids of the one-slot test */

/* splitmix64's finaliser: ids that look random, the same on every run, the i-th without the
 * ones before it. */
static int64_t mixed(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return (int64_t)((x ^ (x >> 31)) >> 1) | 1;
}

/* For the loops of a hundred thousand: Check notes every ck_assert that passes, one write to a
 * pipe each. what and i say where it failed. */
static void expect(int64_t got, int64_t want, const char *what, int64_t i)
{
    if (got != want) {
        ck_abort_msg("%s %lld: %lld, not %lld", what, (long long)i, (long long)got, (long long)want);
    }
}

/* An entry whose every field is derived from its id, so that a lookup that lands on the wrong
 * entry, or on one that was overwritten, shows. */
static struct roster_entry entry_for(int64_t id)
{
    struct roster_entry e = {
        .id = id,
        .rating = 1000.0 + (double)(id % 997),
        .rated = id % 31,
        .rated_at = id / 3,
        .last_round = id / 2,
        .wins = id % 5,
        .losses = id % 7,
        .draws = id % 11,
        .named = (unsigned char)(id % 2),
        .dirty = (unsigned char)(id % 3 == 0),
    };
    snprintf(e.form, sizeof(e.form), "%c", "WLD"[id % 3]);
    return e;
}

/* roster_find(id) is an entry holding entry_for(id). */
static void expect_found(const struct roster *r, int64_t id, int64_t i)
{
    const struct roster_entry *e = roster_find(r, id);
    struct roster_entry want = entry_for(id);

    if (e == NULL) {
        ck_abort_msg("id %lld (added at index %lld) not found", (long long)id, (long long)i);
    }
    expect(e->id, id, "id of entry", i);
    expect(e->rated_at, want.rated_at, "rated_at of entry", i);
    expect(e->last_round, want.last_round, "last_round of entry", i);
    expect(e->wins * 100 + e->losses * 10 + e->draws, want.wins * 100 + want.losses * 10 + want.draws,
           "results of entry", i);
    expect(e->rating == want.rating, 1, "rating of entry", i);
    expect(strcmp(e->form, want.form), 0, "form of entry", i);
}

static void add(struct roster *r, int64_t id, size_t i)
{
    struct roster_entry e = entry_for(id);
    struct roster_entry *got = roster_add(r, &e);

    if (got == NULL) {
        ck_abort_msg("roster_add of id %lld failed", (long long)id);
    }
    expect(got->id, id, "roster_add's entry", (int64_t)i);
    expect(got - r->e, (int64_t)i, "index of entry", (int64_t)i);
    expect((int64_t)r->n, (int64_t)i + 1, "count after add", (int64_t)i);
}

static int id_cmp(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

    return (a > b) - (a < b);
}

/* n random positive ids into ids, checked distinct apart from the roster (a sorted copy). */
static void random_ids(int64_t *ids, size_t n, uint64_t seed)
{
    int64_t *sorted = malloc(n * sizeof(*sorted));

    ck_assert_ptr_nonnull(sorted);
    for (size_t i = 0; i < n; i++) {
        ids[i] = mixed(seed + i);
    }
    memcpy(sorted, ids, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), id_cmp);
    for (size_t i = 1; i < n; i++) {
        ck_assert_msg(sorted[i] != sorted[i - 1], "seed %llu gives id %lld twice",
                      (unsigned long long)seed, (long long)sorted[i]);
    }
    free(sorted);
}

START_TEST(test_empty_roster_finds_nothing)
{
    struct roster r = { 0 };

    ck_assert_ptr_null(roster_find(&r, 1));
    ck_assert_ptr_null(roster_find(&r, 0));
    roster_truncate(&r, 0);
    roster_truncate(&r, 5);
    ck_assert_uint_eq(r.n, 0);
    ck_assert_ptr_null(roster_find(&r, 1));
    roster_free(&r);
    ck_assert_ptr_null(r.e);
    ck_assert_uint_eq(r.n, 0);
}
END_TEST

START_TEST(test_many_sequential_ids_all_found)
{
    struct roster r = { 0 };

    for (int64_t id = 1; id <= MANY; id++) {
        add(&r, id, (size_t)id - 1);
    }
    ck_assert_uint_eq(r.n, MANY);
    /* The table stays under half full: no lookup can run round it forever. */
    ck_assert_uint_ge(r.nslot, 2 * r.n);
    ck_assert_uint_eq(r.nslot & (r.nslot - 1), 0);
    for (int64_t id = 1; id <= MANY; id++) {
        expect_found(&r, id, id - 1);
    }
    for (int64_t id = MANY + 1; id <= 2 * MANY; id++) {
        expect(roster_find(&r, id) == NULL, 1, "absent id found", id);
    }
    ck_assert_ptr_null(roster_find(&r, 0));
    ck_assert_ptr_null(roster_find(&r, -1));
    ck_assert_ptr_null(roster_find(&r, INT64_MAX));
    roster_free(&r);
}
END_TEST

START_TEST(test_many_random_ids_all_found)
{
    static int64_t ids[2 * MANY];
    struct roster r = { 0 };

    /* The first half is added; the second half, as random and distinct from it, never is. */
    random_ids(ids, 2 * MANY, 0x9e3779b97f4a7c15u);
    for (size_t i = 0; i < MANY; i++) {
        add(&r, ids[i], i);
        /* Every tenth add, an earlier id must still be there, across each growth of the table. */
        if (i % 10 == 0) {
            expect_found(&r, ids[i / 2], (int64_t)(i / 2));
        }
    }
    for (size_t i = 0; i < MANY; i++) {
        expect_found(&r, ids[i], (int64_t)i);
    }
    for (size_t i = MANY; i < 2 * MANY; i++) {
        expect(roster_find(&r, ids[i]) == NULL, 1, "absent random id found", (int64_t)i);
    }
    roster_free(&r);
}
END_TEST

/* Multiples of 2^44 all hash to slot 0 of a table of up to 2^24 slots: every lookup probes through
 * one long run, which wraps round the end of the table. */
START_TEST(test_ids_that_share_one_slot)
{
    struct roster r = { 0 };

    for (int64_t i = 0; i < CLUSTER; i++) {
        add(&r, (i + 1) << 44, (size_t)i);
    }
    for (int64_t i = 0; i < CLUSTER; i++) {
        expect_found(&r, (i + 1) << 44, i);
    }
    expect(roster_find(&r, (int64_t)(CLUSTER + 1) << 44) == NULL, 1, "absent clustered id", 0);
    expect(roster_find(&r, 0) == NULL, 1, "id 0", 0);
    roster_truncate(&r, CLUSTER / 2);
    for (int64_t i = 0; i < CLUSTER; i++) {
        if (i < CLUSTER / 2) {
            expect_found(&r, (i + 1) << 44, i);
        } else {
            expect(roster_find(&r, (i + 1) << 44) == NULL, 1, "truncated clustered id", i);
        }
    }
    roster_free(&r);
}
END_TEST

/* A pointer from roster_find or roster_add is the entry itself: it stays valid across lookups and
 * truncation (which never moves the array), and a change through it is what later lookups see. */
START_TEST(test_pointers_stay_valid_until_the_next_add)
{
    struct roster r = { 0 };
    struct roster_entry *p[100];

    for (int64_t id = 1; id <= 1000; id++) {
        add(&r, id * 7, (size_t)id - 1);
    }
    for (int i = 0; i < 100; i++) {
        p[i] = roster_find(&r, (int64_t)(i + 1) * 7);
        ck_assert_ptr_nonnull(p[i]);
    }
    for (int64_t id = 1; id <= 1000; id++) {
        expect_found(&r, id * 7, id - 1);
    }
    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(p[i]->id, (int64_t)(i + 1) * 7);
        ck_assert_ptr_eq(roster_find(&r, p[i]->id), p[i]);
        p[i]->wins = 1000 + i;
        p[i]->dirty = 1;
    }
    roster_truncate(&r, 500);
    for (int i = 0; i < 100; i++) {
        ck_assert_ptr_eq(roster_find(&r, (int64_t)(i + 1) * 7), p[i]);
        ck_assert_int_eq(p[i]->wins, 1000 + i);
        ck_assert_int_eq(roster_find(&r, (int64_t)(i + 1) * 7)->wins, 1000 + i);
    }
    roster_free(&r);
}
END_TEST

/* After a failed batch the entries it added are forgotten, the rest found as they were, and the
 * forgotten ids can be added again. */
START_TEST(test_truncate_forgets_the_tail_only)
{
    static int64_t ids[MANY];
    enum { KEEP = MANY / 3 };
    struct roster r = { 0 };

    random_ids(ids, MANY, 77);
    for (size_t i = 0; i < MANY; i++) {
        add(&r, ids[i], i);
    }
    roster_truncate(&r, MANY);          /* nothing past the end: no change */
    roster_truncate(&r, MANY + 10);
    ck_assert_uint_eq(r.n, MANY);
    expect_found(&r, ids[MANY - 1], MANY - 1);

    roster_truncate(&r, KEEP);
    ck_assert_uint_eq(r.n, KEEP);
    for (size_t i = 0; i < MANY; i++) {
        if (i < KEEP) {
            expect_found(&r, ids[i], (int64_t)i);
        } else {
            expect(roster_find(&r, ids[i]) == NULL, 1, "truncated id found", (int64_t)i);
        }
    }
    /* The forgotten come back, in another order and at new indexes. */
    for (size_t i = MANY; i > KEEP; i--) {
        add(&r, ids[i - 1], KEEP + (MANY - i));
    }
    ck_assert_uint_eq(r.n, MANY);
    for (size_t i = 0; i < MANY; i++) {
        expect_found(&r, ids[i], (int64_t)i);
    }
    ck_assert_int_eq(roster_find(&r, ids[MANY - 1]) - r.e, KEEP);

    roster_truncate(&r, 0);
    ck_assert_uint_eq(r.n, 0);
    for (size_t i = 0; i < MANY; i += 97) {
        expect(roster_find(&r, ids[i]) == NULL, 1, "id found after truncating all", (int64_t)i);
    }
    add(&r, ids[5], 0);
    expect_found(&r, ids[5], 0);
    roster_free(&r);
}
END_TEST

/* The form keeps the last BOARD_FORM_MAX results, oldest first, after each push. */
START_TEST(test_form_keeps_the_last_letters_oldest_first)
{
    static const char results[] = "WLDDWLLWDWWWLDLWDLLLWDW";
    char form[BOARD_FORM_MAX + 1] = "";

    ck_assert_int_gt(strlen(results), 2 * BOARD_FORM_MAX);
    for (size_t i = 0; i < strlen(results); i++) {
        size_t have = i + 1 < BOARD_FORM_MAX ? i + 1 : BOARD_FORM_MAX;
        char want[BOARD_FORM_MAX + 1];

        roster_form_push(form, results[i]);
        snprintf(want, sizeof(want), "%.*s", (int)have, results + i + 1 - have);
        ck_assert_msg(strcmp(form, want) == 0, "after %zu results: \"%s\", want \"%s\"", i + 1, form,
                      want);
    }
    /* A form read back full from a row goes on the same way. */
    snprintf(form, sizeof(form), "WWWWWWWWWW");
    roster_form_push(form, 'L');
    ck_assert_str_eq(form, "WWWWWWWWWL");
}
END_TEST

static Suite *roster_suite(void)
{
    Suite *s = suite_create("roster");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_empty_roster_finds_nothing);
    tcase_add_test(tc, test_many_sequential_ids_all_found);
    tcase_add_test(tc, test_many_random_ids_all_found);
    tcase_add_test(tc, test_ids_that_share_one_slot);
    tcase_add_test(tc, test_pointers_stay_valid_until_the_next_add);
    tcase_add_test(tc, test_truncate_forgets_the_tail_only);
    tcase_add_test(tc, test_form_keeps_the_last_letters_oldest_first);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return suite_run(roster_suite());
}
