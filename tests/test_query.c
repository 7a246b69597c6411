/* games/query: percent-decoding and a query's pairs, without sockets. Expected bytes are written
 * out by hand from RFC 3986's rules. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "suite.h"

/* s decodes to want (NUL-terminated), whole. */
static void decodes(const char *s, const char *want)
{
    char out[64];
    size_t len = 99;
    ck_assert_int_eq(query_decode(s, strlen(s), out, sizeof(out), &len), 0);
    ck_assert_uint_eq(len, strlen(want));
    ck_assert_int_eq(memcmp(out, want, len), 0);
}

START_TEST(test_escapes_decode_in_either_case_and_plus_is_a_plus)
{
    decodes("ana", "ana");
    decodes("%41na", "Ana");
    decodes("%2b7", "+7");
    decodes("%2B7", "+7");
    decodes("+7", "+7");
    decodes("a%20b", "a b");
    char out[4];
    size_t len;
    ck_assert_int_eq(query_decode("%00", 3, out, sizeof(out), &len), 0);
    ck_assert_uint_eq(len, 1);
    ck_assert_int_eq(out[0], '\0');
}
END_TEST

START_TEST(test_a_percent_without_two_hex_digits_is_refused)
{
    char out[8];
    size_t len;
    ck_assert_int_eq(query_decode("%", 1, out, sizeof(out), &len), -1);
    ck_assert_int_eq(query_decode("%4", 2, out, sizeof(out), &len), -1);
    ck_assert_int_eq(query_decode("a%4g", 4, out, sizeof(out), &len), -1);
    ck_assert_int_eq(query_decode("%g1", 3, out, sizeof(out), &len), -1);
    /* The escape must lie within the bytes given, not past them. */
    ck_assert_int_eq(query_decode("%41", 2, out, sizeof(out), &len), -1);
}
END_TEST

/* Past cap the bytes are counted, not written. */
START_TEST(test_output_past_cap_is_counted_not_written)
{
    char out[4] = { 'x', 'x', 'x', 'x' };
    size_t len;
    ck_assert_int_eq(query_decode("abcdef", 6, out, 3, &len), 0);
    ck_assert_uint_eq(len, 6);
    ck_assert_int_eq(memcmp(out, "abcx", 4), 0);
}
END_TEST

START_TEST(test_value_is_the_first_pair_with_the_key)
{
    static const char q[] = "k=3&n=1%32&n=9&nn=5&n";
    char out[8];
    size_t len = 99;
    ck_assert_int_eq(query_value(q, strlen(q), "n", out, sizeof(out), &len), 1);
    ck_assert_uint_eq(len, 2);
    ck_assert_int_eq(memcmp(out, "12", 2), 0);
    ck_assert_int_eq(query_value(q, strlen(q), "k", out, sizeof(out), &len), 1);
    ck_assert_int_eq(out[0], '3');
    /* A key is the whole name before '=': nn is not n, and a bare name has no value. */
    ck_assert_int_eq(query_value("nn=5&n", 6, "n", out, sizeof(out), &len), 0);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(query_value("", 0, "n", out, sizeof(out), &len), 0);
    /* An empty value is there, and empty. */
    ck_assert_int_eq(query_value("n=", 2, "n", out, sizeof(out), &len), 1);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(query_value("n=%zz", 5, "n", out, sizeof(out), &len), -1);
}
END_TEST

static Suite *query_suite(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_escapes_decode_in_either_case_and_plus_is_a_plus);
    tcase_add_test(tc, test_a_percent_without_two_hex_digits_is_refused);
    tcase_add_test(tc, test_output_past_cap_is_counted_not_written);
    tcase_add_test(tc, test_value_is_the_first_pair_with_the_key);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return suite_run(query_suite());
}
