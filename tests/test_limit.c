/* Token buckets and the keyed table, over a fake clock: no sockets, no loop. Times start at T0
 * rather than 0 and step by binary fractions, so the refills compared here are exact. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limit.h"
#include "suite.h"

#define T0 1000.0

/* ---- helpers ---- */

static struct sockaddr_storage v4(const char *ip, int port)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

    memset(&ss, 0, sizeof(ss));
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    ck_assert_int_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
    return ss;
}

static struct sockaddr_storage v6(const char *ip, int port)
{
    struct sockaddr_storage ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

    memset(&ss, 0, sizeof(ss));
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)port);
    ck_assert_int_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
    return ss;
}

static uint64_t next_random(uint64_t *s)
{
    /* xorshift64: a fixed seed gives the same addresses every run */
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Key number i of a flood: its 8 bytes. */
static void nth_key(unsigned char key[8], uint64_t i)
{
    memcpy(key, &i, 8);
}

/* ---- tests ---- */

START_TEST(test_burst_then_refusal_then_refill)
{
    struct limit_table *t = limit_table_new(16);

    ck_assert_ptr_nonnull(t);
    /* rate 2/s, burst 3: three at once, then one every half second. */
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(limit_table_take(t, "alice", 5, 2, 3, T0), 1);
    }
    ck_assert_int_eq(limit_table_take(t, "alice", 5, 2, 3, T0), 0);
    ck_assert_int_eq(limit_table_take(t, "alice", 5, 2, 3, T0 + 0.25), 0);    /* 0.5 token */
    ck_assert_int_eq(limit_table_take(t, "alice", 5, 2, 3, T0 + 0.5), 1);     /* 1 token */
    ck_assert_int_eq(limit_table_take(t, "alice", 5, 2, 3, T0 + 0.5), 0);
    /* A long pause refills up to the burst and no further. */
    ck_assert_double_eq(limit_table_peek(t, "alice", 5, 2, 3, T0 + 100), 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(limit_table_take(t, "alice", 5, 2, 3, T0 + 100), 1);
    }
    ck_assert_int_eq(limit_table_take(t, "alice", 5, 2, 3, T0 + 100), 0);
    limit_table_free(t);

    /* The same through the address table, whose burst is the rate. */
    struct limit_addrs *a = limit_addrs_new();
    struct sockaddr_storage sa = v4("192.0.2.7", 40000);

    ck_assert_ptr_nonnull(a);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(limit_addrs_take(a, &sa, 4, T0), 1);
    }
    ck_assert_int_eq(limit_addrs_take(a, &sa, 4, T0), 0);
    ck_assert_int_eq(limit_addrs_take(a, &sa, 4, T0 + 0.125), 0);
    ck_assert_int_eq(limit_addrs_take(a, &sa, 4, T0 + 0.25), 1);
    ck_assert_int_eq(limit_addrs_take(a, &sa, 4, T0 + 0.25), 0);
    limit_addrs_free(a);
}
END_TEST

START_TEST(test_rate_below_one_allows_one_per_interval)
{
    /* --conn-rate 0.5: one connection, then one more 2 s later. */
    struct limit_addrs *a = limit_addrs_new();
    struct sockaddr_storage sa = v4("192.0.2.8", 1234);

    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(limit_addrs_take(a, &sa, 0.5, T0), 1);
    ck_assert_int_eq(limit_addrs_take(a, &sa, 0.5, T0), 0);
    ck_assert_int_eq(limit_addrs_take(a, &sa, 0.5, T0 + 1.75), 0);
    ck_assert_int_eq(limit_addrs_take(a, &sa, 0.5, T0 + 2), 1);
    ck_assert_int_eq(limit_addrs_take(a, &sa, 0.5, T0 + 2), 0);
    ck_assert_int_eq(limit_addrs_take(a, &sa, 0.5, T0 + 4), 1);
    limit_addrs_free(a);

    /* The table itself raises a burst below 1, even 0, to 1. */
    struct limit_table *t = limit_table_new(4);

    ck_assert_ptr_nonnull(t);
    ck_assert_double_eq(limit_table_peek(t, "k", 1, 0.25, 0, T0), 1);
    ck_assert_int_eq(limit_table_take(t, "k", 1, 0.25, 0, T0), 1);
    ck_assert_int_eq(limit_table_take(t, "k", 1, 0.25, 0, T0 + 3.5), 0);
    ck_assert_int_eq(limit_table_take(t, "k", 1, 0.25, 0, T0 + 4), 1);
    limit_table_free(t);

    /* The frame budget of a connection (burst = rate) reaches a whole token too. */
    struct limit_bucket b = { 0 };

    ck_assert_double_eq(limit_refill(&b, 0.5, 0.5, T0), 1);
    b.tokens -= 1;
    ck_assert_double_eq(limit_refill(&b, 0.5, 0.5, T0 + 1), 0.5);
    ck_assert_double_eq(limit_refill(&b, 0.5, 0.5, T0 + 2), 1);
    ck_assert_double_eq(limit_refill(&b, 0.5, 0.5, T0 + 10), 1);
}
END_TEST

START_TEST(test_colliding_addresses_are_separate)
{
    /* 127.0.0.1 and 127.1.17.91 shared slot 3421 of the old 4096-slot table. */
    struct limit_addrs *a = limit_addrs_new();
    struct sockaddr_storage lo = v4("127.0.0.1", 5000), other = v4("127.1.17.91", 5000);

    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(limit_addrs_take(a, &lo, 1, T0), 1);
    ck_assert_int_eq(limit_addrs_take(a, &lo, 1, T0), 0);
    ck_assert_int_eq(limit_addrs_take(a, &other, 1, T0), 1);
    ck_assert_int_eq(limit_addrs_take(a, &other, 1, T0), 0);
    limit_addrs_free(a);

    /* 20,000 distinct addresses: the old table had at most 4096 buckets for them. At one
     * connection per second and no time passing, each gets exactly its own one token. */
    enum { N = 10000 };
    static struct sockaddr_storage addrs[2 * N];
    uint64_t seed = 0x9e3779b97f4a7c15u;

    for (uint32_t i = 0; i < N; i++) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&addrs[i];
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&addrs[N + i];
        uint64_t hi = next_random(&seed), lo64 = next_random(&seed);

        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = i * 2654435761u;    /* odd multiplier: distinct for distinct i */
        sin6->sin6_family = AF_INET6;
        memcpy(sin6->sin6_addr.s6_addr, &hi, 8);
        memcpy(sin6->sin6_addr.s6_addr + 8, &lo64, 8);
    }
    a = limit_addrs_new();
    ck_assert_ptr_nonnull(a);
    for (int i = 0; i < 2 * N; i++) {
        ck_assert_msg(limit_addrs_take(a, &addrs[i], 1, T0) == 1, "address %d found its bucket taken", i);
    }
    for (int i = 0; i < 2 * N; i++) {
        ck_assert_msg(limit_addrs_take(a, &addrs[i], 1, T0) == 0, "address %d lost its bucket", i);
    }
    limit_addrs_free(a);
}
END_TEST

START_TEST(test_keys_are_exact)
{
    /* Keys of any length up to 16 bytes, compared in full: a prefix, a trailing zero byte or
     * the empty key is another key. Small tables with fresh hash seeds, so that the keys also
     * meet each other while probing, not only through different slots. */
    static const struct {
        const char *key;
        size_t len;
    } keys[] = {
        { "", 0 }, { "a", 1 }, { "ab", 2 }, { "ab\0", 3 }, { "ba", 2 },
        { "0123456789abcdef", 16 }, { "0123456789abcdeF", 16 },
    };
    enum { NKEYS = sizeof(keys) / sizeof(keys[0]), TABLES = 64 };

    for (int n = 0; n < TABLES; n++) {
        struct limit_table *t = limit_table_new(NKEYS);

        ck_assert_ptr_nonnull(t);
        for (int i = 0; i < NKEYS; i++) {
            ck_assert_msg(limit_table_take(t, keys[i].key, keys[i].len, 1, 1, T0) == 1, "key %d shares a bucket", i);
        }
        for (int i = 0; i < NKEYS; i++) {
            ck_assert_double_eq(limit_table_peek(t, keys[i].key, keys[i].len, 1, 1, T0), 0);
        }
        limit_table_free(t);
    }
}
END_TEST

START_TEST(test_long_key_aborts)
{
    struct limit_table *t = limit_table_new(4);

    ck_assert_ptr_nonnull(t);
    close(STDERR_FILENO);   /* the failed assertion is the expected outcome, not news */
    limit_table_take(t, "0123456789abcdefg", LIMIT_KEY_MAX + 1, 1, 1, T0);
}
END_TEST

START_TEST(test_addr_key_ipv4_is_mapped_and_port_ignored)
{
    static const unsigned char mapped[LIMIT_ADDR_KEY] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3,
    };
    struct sockaddr_storage a4 = v4("10.1.2.3", 80), b4 = v4("10.1.2.3", 65535);
    struct sockaddr_storage a6 = v6("::ffff:10.1.2.3", 443), next = v4("10.1.2.4", 80);
    struct sockaddr_storage compat = v6("::10.1.2.3", 80);
    unsigned char k1[LIMIT_ADDR_KEY], k2[LIMIT_ADDR_KEY];

    limit_addr_key(&a4, k1);
    ck_assert_mem_eq(k1, mapped, LIMIT_ADDR_KEY);
    limit_addr_key(&b4, k2);
    ck_assert_mem_eq(k1, k2, LIMIT_ADDR_KEY);
    limit_addr_key(&a6, k2);
    ck_assert_mem_eq(k1, k2, LIMIT_ADDR_KEY);
    limit_addr_key(&next, k2);
    ck_assert(memcmp(k1, k2, LIMIT_ADDR_KEY) != 0);
    limit_addr_key(&compat, k2);
    ck_assert(memcmp(k1, k2, LIMIT_ADDR_KEY) != 0);

    /* One budget for the address however it arrives. */
    struct limit_addrs *a = limit_addrs_new();

    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(limit_addrs_take(a, &a4, 2, T0), 1);
    ck_assert_int_eq(limit_addrs_take(a, &a6, 2, T0), 1);
    ck_assert_int_eq(limit_addrs_take(a, &b4, 2, T0), 0);
    ck_assert_int_eq(limit_addrs_take(a, &next, 2, T0), 1);
    limit_addrs_free(a);
}
END_TEST

START_TEST(test_bounded_under_a_flood_of_keys)
{
    /* 100,000 keys, one every 1/8192 s, into a table of 1000: every new key is tracked (gets
     * its token), and what is remembered afterwards is exactly the last 1000 keys, none of
     * them back to its burst yet (the last 1000 span 0.12 s at rate 1). */
    enum { MAX = 1000, KEYS = 100000 };
    struct limit_table *t = limit_table_new(MAX);
    unsigned char key[8];
    double end = T0 + (KEYS - 1) / 8192.0;

    ck_assert_ptr_nonnull(t);
    for (uint64_t i = 0; i < KEYS; i++) {
        nth_key(key, i);
        ck_assert_msg(limit_table_take(t, key, sizeof(key), 1, 1, T0 + i / 8192.0) == 1, "key %d not tracked",
                      (int)i);
    }
    int remembered = 0;
    for (uint64_t i = 0; i < KEYS; i++) {
        nth_key(key, i);
        if (limit_table_peek(t, key, sizeof(key), 1, 1, end) < 1) {
            remembered++;
            ck_assert_msg(i >= KEYS - MAX, "key %d kept, newer ones dropped", (int)i);
        }
    }
    ck_assert_int_eq(remembered, MAX);
    limit_table_free(t);
}
END_TEST

START_TEST(test_refilled_entries_go_before_a_drained_one)
{
    /* rate 1, burst 4, room for 100. A drains its bucket at T0; 99 keys take one token each at
     * T0 + 0.5 and are full again at T0 + 1.5. At T0 + 2, 99 new keys must replace those 99,
     * not A, although A is the oldest. */
    enum { MAX = 100 };
    struct limit_table *t = limit_table_new(MAX);
    unsigned char key[8];

    ck_assert_ptr_nonnull(t);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(limit_table_take(t, "A", 1, 1, 4, T0), 1);
    }
    for (uint64_t i = 0; i < MAX - 1; i++) {
        nth_key(key, i);
        ck_assert_int_eq(limit_table_take(t, key, sizeof(key), 1, 4, T0 + 0.5), 1);
    }
    for (uint64_t i = 1000; i < 1000 + MAX - 1; i++) {
        nth_key(key, i);
        ck_assert_int_eq(limit_table_take(t, key, sizeof(key), 1, 4, T0 + 2), 1);
    }
    ck_assert_double_eq(limit_table_peek(t, "A", 1, 1, 4, T0 + 2), 2);
    for (uint64_t i = 1000; i < 1000 + MAX - 1; i++) {
        nth_key(key, i);
        ck_assert_double_eq(limit_table_peek(t, key, sizeof(key), 1, 4, T0 + 2), 3);
    }

    /* Nothing is full now: the new keys are full at T0 + 3, A at T0 + 4. A flood of more keys
     * replaces those soonest full, its own kind, and A keeps its debt. */
    for (uint64_t i = 2000; i < 2000 + 10 * MAX; i++) {
        nth_key(key, i);
        ck_assert_int_eq(limit_table_take(t, key, sizeof(key), 1, 4, T0 + 2), 1);
    }
    ck_assert_double_eq(limit_table_peek(t, "A", 1, 1, 4, T0 + 2), 2);
    ck_assert_int_eq(limit_table_take(t, "A", 1, 1, 4, T0 + 2), 1);
    ck_assert_int_eq(limit_table_take(t, "A", 1, 1, 4, T0 + 2), 1);
    ck_assert_int_eq(limit_table_take(t, "A", 1, 1, 4, T0 + 2), 0);
    limit_table_free(t);
}
END_TEST

START_TEST(test_peek_does_not_take)
{
    struct limit_table *t = limit_table_new(2);

    ck_assert_ptr_nonnull(t);
    for (int i = 0; i < 10; i++) {
        ck_assert_double_eq(limit_table_peek(t, "x", 1, 1, 3, T0), 3);
    }
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(limit_table_take(t, "x", 1, 1, 3, T0), 1);
    }
    ck_assert_int_eq(limit_table_take(t, "x", 1, 1, 3, T0), 0);
    /* Peeking at later times moves nothing: an earlier peek still sees the earlier count. */
    ck_assert_double_eq(limit_table_peek(t, "x", 1, 1, 3, T0 + 0.75), 0.75);
    ck_assert_double_eq(limit_table_peek(t, "x", 1, 1, 3, T0 + 0.75), 0.75);
    ck_assert_double_eq(limit_table_peek(t, "x", 1, 1, 3, T0 + 0.5), 0.5);
    ck_assert_int_eq(limit_table_take(t, "x", 1, 1, 3, T0 + 0.75), 0);
    ck_assert_int_eq(limit_table_take(t, "x", 1, 1, 3, T0 + 1), 1);

    /* Peeking at unknown keys neither adds them nor pushes out the two known ones. */
    ck_assert_int_eq(limit_table_take(t, "y", 1, 1, 3, T0 + 1), 1);
    unsigned char key[8];
    for (uint64_t i = 0; i < 100; i++) {
        nth_key(key, i);
        ck_assert_double_eq(limit_table_peek(t, key, sizeof(key), 1, 3, T0 + 1), 3);
    }
    ck_assert_double_eq(limit_table_peek(t, "x", 1, 1, 3, T0 + 1), 0);
    ck_assert_double_eq(limit_table_peek(t, "y", 1, 1, 3, T0 + 1), 2);
    limit_table_free(t);
}
END_TEST

static Suite *limit_suite(void)
{
    Suite *s = suite_create("limit");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_burst_then_refusal_then_refill);
    tcase_add_test(tc, test_rate_below_one_allows_one_per_interval);
    tcase_add_test(tc, test_colliding_addresses_are_separate);
    tcase_add_test(tc, test_keys_are_exact);
    tcase_add_test_raise_signal(tc, test_long_key_aborts, SIGABRT);
    tcase_add_test(tc, test_addr_key_ipv4_is_mapped_and_port_ignored);
    tcase_add_test(tc, test_bounded_under_a_flood_of_keys);
    tcase_add_test(tc, test_refilled_entries_go_before_a_drained_one);
    tcase_add_test(tc, test_peek_does_not_take);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return suite_run(limit_suite());
}
