/* The math service: exact powers, normal form, notation threshold, errors, and the promise that
 * no byte string gets anything but one bounded reply line. Expected big values come from mpz here,
 * computed from the test's own digit strings, never from math.c's parser. */
#include <check.h>
#include <gmp.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "math.h"
#include "suite.h"

/* Room for any reply plus a NUL so replies compare as strings. */
static char reply_buf[MATH_REPLY_MAX + 1];

static const char *answer_n(const char *line, size_t len)
{
    int n = math_answer(line, len, reply_buf, MATH_REPLY_MAX);
    ck_assert_int_gt(n, 0);
    ck_assert_int_le(n, MATH_REPLY_MAX);
    reply_buf[n] = '\0';
    return reply_buf;
}

static const char *answer(const char *line)
{
    return answer_n(line, strlen(line));
}

#define ANSWER_IS(line, want) ck_assert_str_eq(answer(line), (want))

/* "<prefix>" then count copies of c then "<suffix>", in a heap string the caller frees. */
static char *repeat(const char *prefix, char c, size_t count, const char *suffix)
{
    size_t pl = strlen(prefix);
    size_t sl = strlen(suffix);
    char *s = malloc(pl + count + sl + 1);
    ck_assert_ptr_nonnull(s);
    memcpy(s, prefix, pl);
    memset(s + pl, c, count);
    memcpy(s + pl + count, suffix, sl + 1);
    return s;
}

START_TEST(test_examples_from_the_protocol)
{
    ANSWER_IS("a12", "d144\n");
    ANSWER_IS("a0.1", "d0.01\n");
    ANSWER_IS("c1.5", "d5.0625\n");
    ANSWER_IS("b-2", "d-8\n");
    ANSWER_IS("d1.50", "d1.5\n");
    ANSWER_IS("d-0", "d0\n");
    ANSWER_IS("a-0.0", "d0\n");
    ANSWER_IS("d1e3", "d1000\n");
    ANSWER_IS("a.5", "d0.25\n");
    ANSWER_IS("b+7", "d343\n");
    ANSWER_IS("d-2", "d-2\n");
    ANSWER_IS("d+7", "d7\n");
    ANSWER_IS("d2.5", "d2.5\n");
    ANSWER_IS("d.5", "d0.5\n");
    ANSWER_IS("d5.", "d5\n");
    ANSWER_IS("d1E-3", "d0.001\n");
    ANSWER_IS("a1e30", "d1e60\n");
    ANSWER_IS("a1e10", "d100000000000000000000\n");
    ANSWER_IS("a1.5e-30", "d2.25e-60\n");
    ANSWER_IS("d123e50", "d1.23e52\n");
}
END_TEST

START_TEST(test_signs_follow_the_power)
{
    ANSWER_IS("a-2", "d4\n");
    ANSWER_IS("b-2", "d-8\n");
    ANSWER_IS("c-2", "d16\n");
    ANSWER_IS("d-2", "d-2\n");
    ANSWER_IS("a+3", "d9\n");
    ANSWER_IS("b-0.5", "d-0.125\n");
    ANSWER_IS("d-.5", "d-0.5\n");
    ANSWER_IS("b-1e41", "d-1e123\n");
    /* zero never carries a sign, whatever its spelling */
    ANSWER_IS("d+0", "d0\n");
    ANSWER_IS("b-0", "d0\n");
    ANSWER_IS("b-0.000", "d0\n");
    ANSWER_IS("d-0e5", "d0\n");
    ANSWER_IS("d-.0e-7", "d0\n");
    ANSWER_IS("c-000", "d0\n");
}
END_TEST

START_TEST(test_exponents_shift_the_point)
{
    ANSWER_IS("d1e3", "d1000\n");
    ANSWER_IS("d1E3", "d1000\n");
    ANSWER_IS("d1e+3", "d1000\n");
    ANSWER_IS("d1e-3", "d0.001\n");
    ANSWER_IS("d1e0", "d1\n");
    ANSWER_IS("d1e-0", "d1\n");
    ANSWER_IS("d2.5e1", "d25\n");
    ANSWER_IS("d12e-1", "d1.2\n");
    ANSWER_IS("d12.34e1", "d123.4\n");
    ANSWER_IS("d.5e1", "d5\n");
    ANSWER_IS("d5.e-1", "d0.5\n");
    ANSWER_IS("a2e-2", "d0.0004\n");
    ANSWER_IS("b1.1e2", "d1331000\n");
    /* leading zeros of an exponent do not count towards its size */
    ANSWER_IS("d1e0000000005", "d100000\n");
    ANSWER_IS("d1e-00000000000003", "d0.001\n");
}
END_TEST

START_TEST(test_fractions_are_normalised)
{
    ANSWER_IS("d1.50", "d1.5\n");
    ANSWER_IS("d001.2300", "d1.23\n");
    ANSWER_IS("d1.000", "d1\n");
    ANSWER_IS("d0.010", "d0.01\n");
    ANSWER_IS("d00", "d0\n");
    ANSWER_IS("d0.0", "d0\n");
    ANSWER_IS("d100", "d100\n");
    ANSWER_IS("d1000.000", "d1000\n");
    ANSWER_IS("d007", "d7\n");
    ANSWER_IS("a0.1", "d0.01\n");
    ANSWER_IS("a1.10", "d1.21\n");
    ANSWER_IS("c0.5", "d0.0625\n");
    ANSWER_IS("a100", "d10000\n");
    ANSWER_IS("a0.20", "d0.04\n");
    ANSWER_IS("d-000.000100", "d-0.0001\n");
}
END_TEST

/* (10^n - 1)^2 = 10^2n - 2*10^n + 1: n-1 nines, an 8, n-1 zeros, a 1. */
START_TEST(test_long_integer_square_by_identity)
{
    size_t n = 300;
    char *line = repeat("a", '9', n, "");
    char *want = malloc(2 * n + 3);
    ck_assert_ptr_nonnull(want);
    size_t p = 0;
    want[p++] = 'd';
    memset(want + p, '9', n - 1);
    p += n - 1;
    want[p++] = '8';
    memset(want + p, '0', n - 1);
    p += n - 1;
    want[p++] = '1';
    want[p++] = '\n';
    want[p] = '\0';
    ANSWER_IS(line, want);
    free(line);
    free(want);
}
END_TEST

/* Deterministic generator so every failure can be replayed. */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void random_digits(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        s[i] = (char)('0' + rng_next() % 10);
    }
    if (n > 0 && s[0] == '0') {
        s[0] = '7';
    }
    s[n] = '\0';
}

START_TEST(test_long_integers_match_mpz)
{
    static const size_t lengths[] = { 20, 300, 301, 777, MATH_LINE_MAX - 1 };
    static const char ops[] = "dabc";
    rng_state = 0x5eed1234u;
    for (size_t li = 0; li < sizeof(lengths) / sizeof(lengths[0]); li++) {
        for (unsigned k = 1; k <= 4; k++) {
            char line[MATH_LINE_MAX + 1];
            line[0] = ops[k - 1];
            random_digits(line + 1, lengths[li]);
            mpz_t v;
            mpz_init_set_str(v, line + 1, 10);
            mpz_pow_ui(v, v, k);
            char *digits = mpz_get_str(NULL, 10, v);
            char want[MATH_REPLY_MAX + 1];
            snprintf(want, sizeof(want), "d%s\n", digits);
            ANSWER_IS(line, want);
            free(digits);
            mpz_clear(v);
        }
    }
}
END_TEST

/* A long mantissa with a fraction: the digits must come out whole, the point in place. */
START_TEST(test_long_fraction_matches_mpz)
{
    rng_state = 0xfeedu;
    char digits[401];
    random_digits(digits, 400);
    digits[399] = '3'; /* no trailing zero, so the normal form keeps every digit */
    char line[420];
    snprintf(line, sizeof(line), "b%.*s.%s", 100, digits, digits + 100);
    mpz_t v;
    mpz_init_set_str(v, digits, 10);
    mpz_pow_ui(v, v, 3);
    char *cube = mpz_get_str(NULL, 10, v);
    size_t n = strlen(cube);
    size_t frac = 3 * 300;
    ck_assert_uint_gt(n, frac);
    char want[MATH_REPLY_MAX + 1];
    snprintf(want, sizeof(want), "d%.*s.%s\n", (int)(n - frac), cube, cube + n - frac);
    ANSWER_IS(line, want);
    free(cube);
    mpz_clear(v);
}
END_TEST

/* Around 2^64 the uint64 path must hand over to GMP without losing a digit. */
START_TEST(test_powers_around_uint64_limit_match_mpz)
{
    static const char *bases[] = {
        "65535", "65536", "65537", "2642245", "2642246", "4294967295", "4294967296",
        "4294967297", "9999999999", "3037000499", "3037000500", "18446744073709551615",
        "18446744073709551616", "9999999999999999999", "10000000000000000001", "99999",
        "1000000000000000001",
    };
    static const char ops[] = "dabc";
    for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
        for (unsigned k = 1; k <= 4; k++) {
            char line[64];
            snprintf(line, sizeof(line), "%c%s", ops[k - 1], bases[i]);
            mpz_t v;
            mpz_init_set_str(v, bases[i], 10);
            mpz_pow_ui(v, v, k);
            char *digits = mpz_get_str(NULL, 10, v);
            size_t n = strlen(digits);
            /* trailing zeros past 40 would switch notation; none of these bases has that many */
            ck_assert_uint_lt(n, 100);
            char want[200];
            snprintf(want, sizeof(want), "d%s\n", digits);
            ANSWER_IS(line, want);
            free(digits);
            mpz_clear(v);
        }
    }
}
END_TEST

START_TEST(test_scientific_threshold_large)
{
    char *line = NULL;
    char *want = repeat("d1", '0', 40, "\n");
    ANSWER_IS("d1e40", want);
    ANSWER_IS("a1e20", want);
    free(want);
    ANSWER_IS("d1e41", "d1e41\n");
    ANSWER_IS("a1e21", "d1e42\n");
    want = repeat("d123", '0', 40, "\n");
    ANSWER_IS("d123e40", want);
    free(want);
    ANSWER_IS("d123e41", "d1.23e43\n");
    ANSWER_IS("d-123e41", "d-1.23e43\n");
    /* the threshold counts zeros, not the length of the number */
    line = repeat("d", '7', 500, "e40");
    want = repeat("d", '7', 500, "");
    char *want2 = repeat(want, '0', 40, "\n");
    ANSWER_IS(line, want2);
    free(line);
    free(want);
    free(want2);
}
END_TEST

START_TEST(test_scientific_threshold_small)
{
    char *want = repeat("d0.", '0', 40, "1\n");
    ANSWER_IS("d1e-41", want);
    free(want);
    ANSWER_IS("d1e-42", "d1e-42\n");
    want = repeat("d0.", '0', 40, "123\n");
    ANSWER_IS("d1.23e-41", want);
    free(want);
    ANSWER_IS("d1.23e-42", "d1.23e-42\n");
    ANSWER_IS("d-1.23e-42", "d-1.23e-42\n");
    want = repeat("d0.", '0', 40, "16\n");
    ANSWER_IS("a4e-21", want);
    free(want);
    ANSWER_IS("a4e-22", "d1.6e-43\n");
    ANSWER_IS("a2e-21", "d4e-42\n");
    ANSWER_IS("b-1.5e-30", "d-3.375e-90\n");
    ANSWER_IS("d1.2e-1", "d0.12\n");
}
END_TEST

START_TEST(test_exponent_limit)
{
    ANSWER_IS("d1e999999999", "d1e999999999\n");
    ANSWER_IS("d1e-999999999", "d1e-999999999\n");
    ANSWER_IS("d1e000999999999", "d1e999999999\n");
    ANSWER_IS("c9e999999999", "d6.561e3999999999\n");
    ANSWER_IS("c-1e-999999999", "d1e-3999999996\n");
    ANSWER_IS("b-2e-999999999", "d-8e-2999999997\n");
    ANSWER_IS("d0.1e999999999", "d1e999999998\n");
    ANSWER_IS("d10e-999999999", "d1e-999999998\n");
    ANSWER_IS("d1e1000000000", "enumber too large\n");
    ANSWER_IS("d1e-1000000000", "enumber too large\n");
    ANSWER_IS("d1e+9999999999", "enumber too large\n");
    ANSWER_IS("d0e1000000000", "enumber too large\n");
}
END_TEST

START_TEST(test_error_reasons)
{
    ANSWER_IS("", "eunknown op\n");
    ANSWER_IS("x1", "eunknown op\n");
    ANSWER_IS("A2", "eunknown op\n");
    ANSWER_IS("e2", "eunknown op\n");
    ANSWER_IS(" a2", "eunknown op\n");
    ck_assert_str_eq(answer_n("\0a2", 3), "eunknown op\n");
    ck_assert_str_eq(answer_n("\xe1" "2", 2), "eunknown op\n");

    ANSWER_IS("a", "eno number\n");
    ANSWER_IS("ax", "eno number\n");
    ANSWER_IS("a-", "eno number\n");
    ANSWER_IS("a+", "eno number\n");
    ANSWER_IS("a.", "eno number\n");
    ANSWER_IS("a-.", "eno number\n");
    ANSWER_IS("ae5", "eno number\n");
    ANSWER_IS("a.e5", "eno number\n");
    ANSWER_IS("a--1", "eno number\n");
    ANSWER_IS("a 1", "eno number\n");
    ck_assert_str_eq(answer_n("a\0" "1", 3), "eno number\n");

    ANSWER_IS("a12x", "ejunk after number\n");
    ANSWER_IS("a1 2", "ejunk after number\n");
    ANSWER_IS("a1 ", "ejunk after number\n");
    ANSWER_IS("a1e5e5", "ejunk after number\n");
    ANSWER_IS("a1e", "ejunk after number\n");
    ANSWER_IS("a1e-", "ejunk after number\n");
    ANSWER_IS("a1.2.3", "ejunk after number\n");
    ANSWER_IS("a1..", "ejunk after number\n");
    ANSWER_IS("a1\r", "ejunk after number\n");
    ck_assert_str_eq(answer_n("a1\0", 3), "ejunk after number\n");

    ANSWER_IS("a1e1000000000", "enumber too large\n");
}
END_TEST

START_TEST(test_line_length_limit)
{
    /* exactly MATH_LINE_MAX bytes is a request; one more is not */
    char *line = repeat("d", '1', MATH_LINE_MAX - 1, "");
    char *want = repeat("d", '1', MATH_LINE_MAX - 1, "\n");
    ANSWER_IS(line, want);
    ck_assert_int_eq(math_complete(line, strlen(line)), 1);
    free(line);
    free(want);
    line = repeat("d", '1', MATH_LINE_MAX, "");
    ANSWER_IS(line, "eline too long\n");
    ck_assert_int_eq(math_complete(line, strlen(line)), 0);
    free(line);
    line = repeat("", 'z', 100000, "");
    ANSWER_IS(line, "eline too long\n");
    free(line);
}
END_TEST

START_TEST(test_output_capacity)
{
    char out[8];
    memset(out, '#', sizeof(out));
    ck_assert_int_eq(math_answer("a12", 3, out, 5), 5);
    ck_assert_int_eq(memcmp(out, "d144\n", 5), 0);
    ck_assert_int_eq(out[5], '#');
    ck_assert_int_eq(math_answer("a12", 3, out, 4), -1);
    ck_assert_int_eq(math_answer("x", 1, out, 4), -1);
    ck_assert_int_eq(math_answer("a12", 3, NULL, 0), -1);
    ck_assert_int_eq(math_answer("d1", 2, out, 3), 3);
    ck_assert_int_eq(memcmp(out, "d1\n", 3), 0);
}
END_TEST

START_TEST(test_complete_prefixes)
{
    static const char *complete[] = {
        "a12", "a1.", "a.5", "d-0", "a1e5", "a1E-3", "b+7", "c0", "d5.", "a1e999999999",
    };
    static const char *incomplete[] = {
        "", "a", "a-", "a+", "a.", "a-.", "a1e", "a1e-", "a1e+", "a1E", "x1", "a1x", "a1 ",
        " a1", "a1e1000000000", "A1", "ae5",
    };
    for (size_t i = 0; i < sizeof(complete) / sizeof(complete[0]); i++) {
        ck_assert_msg(math_complete(complete[i], strlen(complete[i])) == 1, "%s", complete[i]);
    }
    for (size_t i = 0; i < sizeof(incomplete) / sizeof(incomplete[0]); i++) {
        const char *s = incomplete[i];
        ck_assert_msg(math_complete(s, strlen(s)) == 0, "%s", s);
    }
    ck_assert_int_eq(math_complete("a1\0", 3), 0);
}
END_TEST

START_TEST(test_is_op)
{
    ck_assert_int_eq(math_is_op('a'), 1);
    ck_assert_int_eq(math_is_op('b'), 1);
    ck_assert_int_eq(math_is_op('c'), 1);
    ck_assert_int_eq(math_is_op('d'), 1);
    ck_assert_int_eq(math_is_op('e'), 0);
    ck_assert_int_eq(math_is_op('A'), 0);
    ck_assert_int_eq(math_is_op(0), 0);
    ck_assert_int_eq(math_is_op(-1), 0);
    ck_assert_int_eq(math_is_op(0x100 + 'a'), 0);
    ck_assert_int_eq(math_is_op(0xe1), 0);
}
END_TEST

START_TEST(test_parse_number_fields)
{
    struct math_number num;
    size_t used = 99;
    char err[64] = "";
    ck_assert_int_eq(math_parse_number("-12.50e3xyz", 11, &num, &used, err, sizeof(err)), 0);
    ck_assert_int_eq(num.negative, 1);
    ck_assert_str_eq(num.digits, "125");
    ck_assert_uint_eq(num.ndigits, 3);
    ck_assert_int_eq(num.exp10, 2);
    ck_assert_uint_eq(used, 8);

    ck_assert_int_eq(math_parse_number("-0.000e-7", 9, &num, &used, err, sizeof(err)), 0);
    ck_assert_int_eq(num.negative, 0);
    ck_assert_uint_eq(num.ndigits, 0);
    ck_assert_int_eq(num.exp10, 0);
    ck_assert_uint_eq(used, 9);

    ck_assert_int_eq(math_parse_number(".0050", 5, &num, &used, err, sizeof(err)), 0);
    ck_assert_str_eq(num.digits, "5");
    ck_assert_int_eq(num.exp10, -3);

    /* an exponent without digits is left for the caller */
    ck_assert_int_eq(math_parse_number("7e-", 3, &num, &used, err, sizeof(err)), 0);
    ck_assert_uint_eq(used, 1);
    ck_assert_int_eq(num.exp10, 0);

    /* the length bounds the parse even when more digits follow in memory */
    ck_assert_int_eq(math_parse_number("12345", 2, &num, &used, err, sizeof(err)), 0);
    ck_assert_str_eq(num.digits, "12");
    ck_assert_uint_eq(used, 2);

    ck_assert_int_eq(math_parse_number("-x", 2, &num, &used, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "no number");
    ck_assert_int_eq(math_parse_number("1e1234567890", 12, &num, &used, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "number too large");
    ck_assert_int_eq(math_parse_number("", 0, &num, &used, NULL, 0), -1);
}
END_TEST

/* One reply line: starts with d or e, ends with its only newline, fits MATH_REPLY_MAX; a d reply
 * is in normal form. */
static void check_reply_shape(const char *line, size_t len)
{
    char out[MATH_REPLY_MAX];
    int n = math_answer(line, len, out, sizeof(out));
    ck_assert_int_ge(n, 2);
    ck_assert_int_le(n, MATH_REPLY_MAX);
    ck_assert(out[0] == 'd' || out[0] == 'e');
    ck_assert_int_eq(out[n - 1], '\n');
    ck_assert_ptr_null(memchr(out, '\n', (size_t)n - 1));
    ck_assert_int_eq(math_complete(line, len), out[0] == 'd');
    if (out[0] != 'd') {
        return;
    }
    const char *p = out + 1;
    const char *end = out + n - 1;
    if (*p == '-') {
        p++;
        ck_assert_msg(!(end - p == 1 && *p == '0'), "negative zero");
    }
    ck_assert(*p >= '0' && *p <= '9');
    ck_assert_msg(!(*p == '0' && p + 1 < end && p[1] != '.'), "leading zero");
    const char *dot = memchr(p, '.', (size_t)(end - p));
    const char *e = memchr(p, 'e', (size_t)(end - p));
    const char *frac_end = e != NULL ? e : end;
    if (dot != NULL) {
        ck_assert_msg(frac_end[-1] != '0' && frac_end[-1] != '.', "trailing zero after point");
    }
    ck_assert_ptr_null(memchr(out, '+', (size_t)n));
}

static const char *long_requests[] = {
    "b-0001234.567800e-0000012",
    "c+.000000000000000000000000000000000000000000000000012345e+999999998",
    "a98765432109876543210987654321.0123456789E-45",
    "d-1e-999999999",
};

START_TEST(test_every_prefix_gets_one_line)
{
    for (size_t i = 0; i < sizeof(long_requests) / sizeof(long_requests[0]); i++) {
        size_t len = strlen(long_requests[i]);
        for (size_t k = 0; k <= len; k++) {
            check_reply_shape(long_requests[i], k);
        }
    }
    char *big = repeat("c-", '9', MATH_LINE_MAX - 8, ".5e-10");
    size_t len = strlen(big);
    ck_assert_uint_eq(len, MATH_LINE_MAX);
    for (size_t k = 0; k <= len; k++) {
        check_reply_shape(big, k);
    }
    free(big);
}
END_TEST

START_TEST(test_random_bytes_get_one_line)
{
    static const char alphabet[] = "abcdx+-.eE0123456789 \r\n\x80\xff";
    rng_state = 0xa11ce5u;
    for (int round = 0; round < 4000; round++) {
        char line[MATH_LINE_MAX + 40];
        size_t len = rng_next() % sizeof(line);
        int any_byte = round % 3 == 0;
        for (size_t i = 0; i < len; i++) {
            uint64_t r = rng_next();
            line[i] = any_byte ? (char)r : alphabet[r % (sizeof(alphabet) - 1)];
        }
        if (len > 0 && round % 2 == 0) {
            line[0] = "abcd"[round % 4]; /* reach the number parser more often */
        }
        if (len > 40 && round % 5 == 0) {
            len = 1 + rng_next() % 40; /* short lines are the likely ones */
        }
        check_reply_shape(line, len);
    }
}
END_TEST

/* value = sign * digits * 10^exp, reduced so digits has no trailing zero; zero is (0, 0). */
static void normalise(mpz_t m, int64_t *exp)
{
    if (mpz_sgn(m) == 0) {
        *exp = 0;
        return;
    }
    while (mpz_divisible_ui_p(m, 10)) {
        mpz_divexact_ui(m, m, 10);
        (*exp)++;
    }
}

/* A d reply read back as a number, to compare values rather than spellings. */
static void reply_value(const char *reply, mpz_t m, int64_t *exp)
{
    struct math_number num;
    size_t used = 0;
    size_t len = strlen(reply);
    ck_assert_int_eq(reply[0], 'd');
    ck_assert_int_eq(math_parse_number(reply + 1, len - 2, &num, &used, NULL, 0), 0);
    ck_assert_uint_eq(used, len - 2);
    mpz_set_str(m, num.ndigits > 0 ? num.digits : "0", 10);
    if (num.negative) {
        mpz_neg(m, m);
    }
    *exp = num.exp10;
}

/* Random valid numbers built from parts; the expected power comes from those parts via mpz. */
START_TEST(test_random_numbers_match_mpz)
{
    rng_state = 0xc0ffeeu;
    for (int round = 0; round < 2000; round++) {
        char ip[64];
        char fp[64];
        size_t il = rng_next() % 30;
        size_t fl = rng_next() % 30;
        for (size_t i = 0; i < il; i++) {
            ip[i] = (char)('0' + rng_next() % (round % 2 ? 10 : 2));
        }
        for (size_t i = 0; i < fl; i++) {
            fp[i] = (char)('0' + rng_next() % (round % 2 ? 10 : 2));
        }
        if (il + fl == 0) {
            ip[il++] = '3';
        }
        ip[il] = '\0';
        fp[fl] = '\0';
        int negative = rng_next() % 2;
        int64_t e = (int64_t)(rng_next() % 120) - 60;
        unsigned k = 1 + rng_next() % 4;
        char line[200];
        snprintf(line, sizeof(line), "%c%s%s%s%s%s%" PRId64, "dabc"[k - 1],
                 negative ? "-" : (round % 3 ? "" : "+"), ip, fl > 0 || round % 4 == 0 ? "." : "",
                 fp, round % 2 ? "e" : "E", e);

        char all[130];
        snprintf(all, sizeof(all), "0%s%s", ip, fp);
        mpz_t want;
        mpz_init_set_str(want, all, 10);
        if (negative) {
            mpz_neg(want, want);
        }
        mpz_pow_ui(want, want, k);
        int64_t want_exp = (e - (int64_t)fl) * (int64_t)k;
        normalise(want, &want_exp);

        mpz_t got;
        mpz_init(got);
        int64_t got_exp = 0;
        const char *r = answer(line);
        check_reply_shape(line, strlen(line));
        reply_value(r, got, &got_exp);
        normalise(got, &got_exp);
        ck_assert_msg(mpz_cmp(got, want) == 0 && got_exp == want_exp, "%s -> %s", line, r);
        mpz_clear(got);
        mpz_clear(want);
    }
}
END_TEST

/* The largest replies the grammar allows: long powers placed at the edge of each notation. */
START_TEST(test_worst_case_reply_fits)
{
    ck_assert_int_ge(MATH_REPLY_MAX, 4 * (MATH_LINE_MAX - 1) + 45);
    char *lines[] = {
        repeat("c", '9', MATH_LINE_MAX - 1, ""),
        repeat("c-.", '9', MATH_LINE_MAX - 3, ""),
        repeat("c-.0000000000", '9', MATH_LINE_MAX - 13, ""),
        repeat("b-.0000000000000", '9', MATH_LINE_MAX - 16, ""),
        repeat("c-", '9', MATH_LINE_MAX - 13, "e-999999999"),
        repeat("c-9.", '9', MATH_LINE_MAX - 15, "e+999999999"),
        repeat("c-", '9', MATH_LINE_MAX - 5, "e10"),
        repeat("c-", '9', MATH_LINE_MAX - 5, "e-9"),
    };
    int longest = 0;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        size_t len = strlen(lines[i]);
        ck_assert_msg(len == MATH_LINE_MAX, "case %zu is %zu bytes", i, len);
        char out[MATH_REPLY_MAX];
        int n = math_answer(lines[i], len, out, sizeof(out));
        ck_assert_msg(n > 3000 && out[0] == 'd', "case %zu: %d bytes", i, n);
        if (n > longest) {
            longest = n;
        }
        free(lines[i]);
    }
    ck_assert_int_le(longest, MATH_REPLY_MAX);
}
END_TEST

static Suite *math_suite(void)
{
    Suite *s = suite_create("math");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_examples_from_the_protocol);
    tcase_add_test(tc, test_signs_follow_the_power);
    tcase_add_test(tc, test_exponents_shift_the_point);
    tcase_add_test(tc, test_fractions_are_normalised);
    tcase_add_test(tc, test_long_integer_square_by_identity);
    tcase_add_test(tc, test_long_integers_match_mpz);
    tcase_add_test(tc, test_long_fraction_matches_mpz);
    tcase_add_test(tc, test_powers_around_uint64_limit_match_mpz);
    tcase_add_test(tc, test_scientific_threshold_large);
    tcase_add_test(tc, test_scientific_threshold_small);
    tcase_add_test(tc, test_exponent_limit);
    tcase_add_test(tc, test_error_reasons);
    tcase_add_test(tc, test_line_length_limit);
    tcase_add_test(tc, test_output_capacity);
    tcase_add_test(tc, test_complete_prefixes);
    tcase_add_test(tc, test_is_op);
    tcase_add_test(tc, test_parse_number_fields);
    tcase_add_test(tc, test_every_prefix_gets_one_line);
    tcase_add_test(tc, test_random_bytes_get_one_line);
    tcase_add_test(tc, test_random_numbers_match_mpz);
    tcase_add_test(tc, test_worst_case_reply_fits);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return suite_run(math_suite());
}
