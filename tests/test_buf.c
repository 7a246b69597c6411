/* server/buf: the output buffer with a hard cap, without sockets. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "suite.h"

START_TEST(test_append_keeps_bytes_in_order)
{
    struct buf b = { 0 };
    ck_assert_int_eq(buf_append(&b, "abc", 3, 1024), 0);
    ck_assert_int_eq(buf_append(&b, "defg", 4, 1024), 0);
    ck_assert_uint_eq(b.len, 7);
    ck_assert_int_eq(memcmp(b.data, "abcdefg", 7), 0);
    ck_assert_uint_ge(b.cap, b.len);
    buf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 0);
}
END_TEST

START_TEST(test_reserve_then_commit_by_hand)
{
    struct buf b = { 0 };
    char *p = buf_reserve(&b, 5, 1024);
    ck_assert_ptr_nonnull(p);
    memcpy(p, "hello", 5);
    ck_assert_uint_eq(b.len, 0);    /* reserving adds nothing until the caller counts it */
    b.len += 5;
    ck_assert_int_eq(memcmp(b.data, "hello", 5), 0);
    buf_free(&b);
}
END_TEST

/* The cap is on the bytes in use: filling to it exactly works, one byte more does not and changes
 * nothing, and the buffer never grows past it. */
START_TEST(test_cap_is_exact_and_refusal_changes_nothing)
{
    struct buf b = { 0 };
    char big[300];
    memset(big, 'x', sizeof(big));

    ck_assert_int_eq(buf_append(&b, big, 299, 300), 0);
    ck_assert_int_eq(buf_append(&b, "y", 1, 300), 0);
    ck_assert_uint_eq(b.len, 300);
    ck_assert_uint_le(b.cap, 300);
    ck_assert_ptr_null(buf_reserve(&b, 1, 300));
    ck_assert_int_eq(buf_append(&b, "z", 1, 300), -1);
    ck_assert_uint_eq(b.len, 300);
    ck_assert_int_eq(b.data[299], 'y');
    buf_free(&b);

    /* A single append bigger than the cap is refused on an empty buffer too. */
    ck_assert_int_eq(buf_append(&b, big, sizeof(big), 299), -1);
    ck_assert_uint_eq(b.len, 0);
    buf_free(&b);
}
END_TEST

START_TEST(test_consume_drops_the_front)
{
    struct buf b = { 0 };
    ck_assert_int_eq(buf_append(&b, "0123456789", 10, 1024), 0);
    buf_consume(&b, 4);
    ck_assert_uint_eq(b.len, 6);
    ck_assert_int_eq(memcmp(b.data, "456789", 6), 0);
    buf_consume(&b, 0);
    ck_assert_uint_eq(b.len, 6);
    buf_consume(&b, 100);           /* more than there is: empty, not an error */
    ck_assert_uint_eq(b.len, 0);
    /* Room freed by consuming is used again within the cap. */
    ck_assert_int_eq(buf_append(&b, "abcdefghij", 10, 10), 0);
    ck_assert_int_eq(memcmp(b.data, "abcdefghij", 10), 0);
    buf_free(&b);
}
END_TEST

/* Growing keeps what was there, across many doublings. */
START_TEST(test_growth_keeps_content)
{
    struct buf b = { 0 };
    for (int i = 0; i < 100000; i++) {
        char c = (char)('a' + i % 26);
        ck_assert_int_eq(buf_append(&b, &c, 1, 1 << 20), 0);
    }
    for (int i = 0; i < 100000; i++) {
        ck_assert_int_eq(b.data[i], (char)('a' + i % 26));
    }
    buf_free(&b);
}
END_TEST

static Suite *buf_suite(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_append_keeps_bytes_in_order);
    tcase_add_test(tc, test_reserve_then_commit_by_hand);
    tcase_add_test(tc, test_cap_is_exact_and_refusal_changes_nothing);
    tcase_add_test(tc, test_consume_drops_the_front);
    tcase_add_test(tc, test_growth_keeps_content);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return suite_run(buf_suite());
}
