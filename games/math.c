/* The math service: parse "<op><number>", raise the number to the op's power, print it exactly.
 *
 * A number is kept as a decimal mantissa and a power of ten, value = M * 10^E with M free of
 * trailing zeros. Then M^k * 10^(k*E) is the power, and M^k is again free of trailing zeros (if
 * 10 does not divide M, 2 or 5 does not, and neither divides M^k), so the digits of M^k are the
 * significant digits of the result as they stand: printing only places the point or the exponent.
 * M^k comes from a uint64 when it fits (the usual request, "a12"), else from GMP.
 */
#include "math.h"

#include "reply.h"

#include <gmp.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* More zeros of padding than this and the result is printed in scientific notation. */
#define MATH_PAD_MAX 40

/* Room for the digits of M^k plus what mpz_get_str may write beyond them (sign slot and NUL). */
#define MATH_POW_DIGITS_MAX (4 * MATH_LINE_MAX + 2)

/* An exponent magnitude with more significant digits than this is refused: below it, k * E
 * stays far inside int64 and the reply inside MATH_REPLY_MAX. */
#define MATH_EXP_DIGITS_MAX 9

struct math_op {
    char op;        /* the request's first byte */
    unsigned power; /* the power it raises the number to */
};

static const struct math_op math_ops[] = {
    { 'a', 2 },
    { 'b', 3 },
    { 'c', 4 },
    { 'd', 1 },
};

static const struct math_op *math_find_op(int c)
{
    for (size_t i = 0; i < sizeof(math_ops) / sizeof(math_ops[0]); i++) {
        if (math_ops[i].op == c) {
            return &math_ops[i];
        }
    }
    return NULL;
}

int math_is_op(int c)
{
    return math_find_op(c) != NULL;
}

static void math_set_err(char *err, size_t errlen, const char *reason)
{
    if (err != NULL && errlen > 0) {
        snprintf(err, errlen, "%s", reason);
    }
}

static int math_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static size_t math_skip_digits(const char *s, size_t i, size_t len)
{
    while (i < len && math_is_digit(s[i])) {
        i++;
    }
    return i;
}

static size_t math_skip_zeros(const char *s, size_t i, size_t end)
{
    while (i < end && s[i] == '0') {
        i++;
    }
    return i;
}

/* Reads an exponent at s[i]; one without digits ("1e", "1e-") is not part of the number, so *end
 * stays at i and the caller sees those bytes as trailing. */
static int math_parse_exponent(const char *s, size_t i, size_t len, int64_t *exp, size_t *end,
                               char *err, size_t errlen)
{
    *exp = 0;
    *end = i;
    if (i >= len || (s[i] != 'e' && s[i] != 'E')) {
        return 0;
    }
    size_t j = i + 1;
    int negative = 0;
    if (j < len && (s[j] == '+' || s[j] == '-')) {
        negative = s[j] == '-';
        j++;
    }
    size_t digits_end = math_skip_digits(s, j, len);
    if (digits_end == j) {
        return 0;
    }
    size_t first = math_skip_zeros(s, j, digits_end);
    if (digits_end - first > MATH_EXP_DIGITS_MAX) {
        math_set_err(err, errlen, "number too large");
        return -1;
    }
    int64_t value = 0;
    for (size_t k = first; k < digits_end; k++) {
        value = value * 10 + (s[k] - '0');
    }
    *exp = negative ? -value : value;
    *end = digits_end;
    return 0;
}

/* Joins the integer and fraction digits into num's mantissa without leading or trailing zeros. */
static int math_set_mantissa(struct math_number *num, const char *s, size_t int_start,
                             size_t int_end, size_t frac_start, size_t frac_end,
                             char *err, size_t errlen)
{
    size_t int_first = math_skip_zeros(s, int_start, int_end);
    size_t frac_first = frac_start;
    if (int_first == int_end) {
        frac_first = math_skip_zeros(s, frac_start, frac_end);
    }
    size_t int_n = int_end - int_first;
    size_t frac_n = frac_end - frac_first;
    if (int_n + frac_n > MATH_LINE_MAX) {
        math_set_err(err, errlen, "number too large");
        return -1;
    }
    memcpy(num->digits, s + int_first, int_n);
    memcpy(num->digits + int_n, s + frac_first, frac_n);
    size_t n = int_n + frac_n;
    int64_t exp10 = -(int64_t)(frac_end - frac_start);
    while (n > 0 && num->digits[n - 1] == '0') {
        n--;
        exp10++;
    }
    num->digits[n] = '\0';
    num->ndigits = n;
    num->exp10 = n > 0 ? exp10 : 0;
    return 0;
}

int math_parse_number(const char *s, size_t len, struct math_number *num, size_t *used,
                      char *err, size_t errlen)
{
    size_t i = 0;
    int negative = 0;
    if (len > 0 && (s[0] == '+' || s[0] == '-')) {
        negative = s[0] == '-';
        i = 1;
    }
    size_t int_start = i;
    size_t int_end = math_skip_digits(s, int_start, len);
    size_t frac_start = int_end;
    size_t frac_end = int_end;
    if (int_end < len && s[int_end] == '.') {
        frac_start = int_end + 1;
        frac_end = math_skip_digits(s, frac_start, len);
    }
    if (int_end == int_start && frac_end == frac_start) {
        math_set_err(err, errlen, "no number");
        return -1;
    }
    int64_t exp = 0;
    size_t end = 0;
    if (math_parse_exponent(s, frac_end, len, &exp, &end, err, errlen) != 0) {
        return -1;
    }
    if (math_set_mantissa(num, s, int_start, int_end, frac_start, frac_end, err, errlen) != 0) {
        return -1;
    }
    if (num->ndigits > 0) {
        num->exp10 += exp;
    }
    num->negative = negative && num->ndigits > 0;
    *used = end;
    return 0;
}

/* Checks a whole request and parses its number; the one place that decides what is valid. */
static int math_parse_request(const char *line, size_t len, struct math_number *num,
                              unsigned *power, char *err, size_t errlen)
{
    if (len > MATH_LINE_MAX) {
        math_set_err(err, errlen, "line too long");
        return -1;
    }
    const struct math_op *op = len > 0 ? math_find_op((unsigned char)line[0]) : NULL;
    if (op == NULL) {
        math_set_err(err, errlen, "unknown op");
        return -1;
    }
    size_t used = 0;
    if (math_parse_number(line + 1, len - 1, num, &used, err, errlen) != 0) {
        return -1;
    }
    if (used != len - 1) {
        math_set_err(err, errlen, "junk after number");
        return -1;
    }
    *power = op->power;
    return 0;
}

static size_t math_u64_digits(uint64_t v, char *buf)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    for (size_t i = 0; i < n; i++) {
        buf[i] = tmp[n - 1 - i];
    }
    return n;
}

/* M^k in a uint64 when every step fits; returns its digit count, or 0 to send it to GMP. */
static size_t math_pow_small(const struct math_number *num, unsigned power, char *buf)
{
    if (num->ndigits > 19) { /* 19 nines are still below 2^64 */
        return 0;
    }
    uint64_t m = 0;
    for (size_t i = 0; i < num->ndigits; i++) {
        m = m * 10 + (uint64_t)(num->digits[i] - '0');
    }
    uint64_t r = 1;
    for (unsigned i = 0; i < power; i++) {
        if (__builtin_mul_overflow(r, m, &r)) {
            return 0;
        }
    }
    return math_u64_digits(r, buf);
}

/* buf holds MATH_POW_DIGITS_MAX bytes, enough for mpz_get_str on M^k with M of at most
 * MATH_LINE_MAX digits and k at most 4. */
static size_t math_pow_big(const struct math_number *num, unsigned power, char *buf)
{
    mpz_t m;
    mpz_init(m);
    mpz_set_str(m, num->digits, 10);
    mpz_pow_ui(m, m, power);
    mpz_get_str(buf, 10, m);
    mpz_clear(m);
    return strlen(buf);
}

static size_t math_put_zeros(char *out, int64_t count)
{
    memset(out, '0', (size_t)count);
    return (size_t)count;
}

/* Scientific form of d[0..n) * 10^x: the point goes after the first digit. */
static size_t math_put_scientific(char *out, const char *d, size_t n, int64_t x)
{
    size_t p = 0;
    out[p++] = d[0];
    if (n > 1) {
        out[p++] = '.';
        memcpy(out + p, d + 1, n - 1);
        p += n - 1;
    }
    int w = snprintf(out + p, 24, "e%" PRId64, x + (int64_t)n - 1);
    return p + (size_t)w;
}

/* Prints "d[-]<d * 10^x>\n"; d has n > 0 digits, no leading or trailing zeros. */
static size_t math_put_result(char *out, int negative, const char *d, size_t n, int64_t x)
{
    size_t p = 0;
    int64_t point = (int64_t)n + x; /* digits before the decimal point */
    out[p++] = 'd';
    if (negative) {
        out[p++] = '-';
    }
    if (x >= 0 && x <= MATH_PAD_MAX) {
        memcpy(out + p, d, n);
        p += n;
        p += math_put_zeros(out + p, x);
    } else if (x < 0 && point > 0) {
        memcpy(out + p, d, (size_t)point);
        p += (size_t)point;
        out[p++] = '.';
        memcpy(out + p, d + point, n - (size_t)point);
        p += n - (size_t)point;
    } else if (x < 0 && -point <= MATH_PAD_MAX) {
        memcpy(out + p, "0.", 2);
        p += 2;
        p += math_put_zeros(out + p, -point);
        memcpy(out + p, d, n);
        p += n;
    } else {
        p += math_put_scientific(out + p, d, n, x);
    }
    out[p++] = '\n';
    return p;
}

int math_answer(const char *line, size_t len, char *out, size_t out_cap)
{
    struct math_number num;
    unsigned power = 0;
    char err[64];
    char reply[MATH_REPLY_MAX];
    size_t n;
    if (math_parse_request(line, len, &num, &power, err, sizeof(err)) != 0) {
        n = reply_error(reply, err);
    } else if (num.ndigits == 0) {
        memcpy(reply, "d0\n", 3);
        n = 3;
    } else {
        char digits[MATH_POW_DIGITS_MAX];
        size_t nd = math_pow_small(&num, power, digits);
        if (nd == 0) {
            nd = math_pow_big(&num, power, digits);
        }
        int negative = num.negative && power % 2 == 1;
        n = math_put_result(reply, negative, digits, nd, num.exp10 * (int64_t)power);
    }
    if (out == NULL || n > out_cap) {
        return -1;
    }
    memcpy(out, reply, n);
    return (int)n;
}

int math_complete(const char *line, size_t len)
{
    struct math_number num;
    unsigned power = 0;
    return math_parse_request(line, len, &num, &power, NULL, 0) == 0;
}
