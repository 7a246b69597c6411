/* The math service of arcade's short connections: one request line, one reply line.
 *
 * Request: <op><number>, no spaces anywhere (the caller strips the "\n" or "\r\n").
 *   op   a square, b cube, c fourth power, d the number itself
 *   number  [+|-] digits [. [digits]] [(e|E) [+|-] digits], or [+|-] . digits [exponent]:
 *           at least one mantissa digit; "5." is 5, ".5" is 0.5. An exponent whose magnitude
 *           has more than 9 significant digits (|e| >= 10^9) is refused as too large.
 *
 * Reply: "d<result>\n", the exact result, in normal form: no "+", no "-0", no leading zeros,
 *   no trailing zeros after the point, no point for integers. Results are plain decimal unless that
 *   would need more than 40 zeros of padding: zeros after the significant digits of a large number
 *   (1e40 is "1" and 40 zeros, 1e41 is "1e41") or zeros between "0." and the first significant
 *   digit of a small one (1e-41 is "0." 40 zeros "1", 1e-42 is "1e-42"). Past that threshold the
 *   reply is scientific, <d>[.<digits>]e<exp>, with every significant digit: "d1.23e52",
 *   "d2.25e-60".
 *
 * Errors: "e<reason>\n", one of
 *   eline too long       the line is longer than MATH_LINE_MAX
 *   eunknown op          empty line or the first byte is not an op letter
 *   eno number           nothing after the op, or no number starts there ("ax", "a-", "a.", "ae5")
 *   ejunk after number   a number followed by anything ("a12x", "a1 2", "a1e5e5", "a1e")
 *   enumber too large    exponent magnitude of 10^9 or more
 */

#ifndef ARCADE_MATH_H
#define ARCADE_MATH_H

#include <stddef.h>
#include <stdint.h>

#define MATH_LINE_MAX 1024 /* longest request line accepted, without its terminator */

/* A result has at most 4 * (MATH_LINE_MAX - 1) significant digits (a fourth power of a mantissa
 * that fills the line); around them come at most 45 more bytes: "d-0." and 40 zeros of padding
 * and "\n", or "d-", ".", "e-", a 10-digit exponent and "\n". */
#define MATH_REPLY_MAX (4 * MATH_LINE_MAX + 64)

/* A parsed number, exactly: value = (negative ? -1 : 1) * digits * 10^exp10. */
struct math_number {
    int negative;                   /* never set for zero */
    size_t ndigits;                 /* length of digits, 0 for zero */
    char digits[MATH_LINE_MAX + 1]; /* mantissa, no leading or trailing zeros, NUL-terminated */
    int64_t exp10;                  /* 0 for zero; |exp10| < 10^9 + MATH_LINE_MAX */
};

/* Parse the longest number at the start of s[0..len); *used gets the bytes it took, so the caller
 * decides what trailing bytes mean. Returns 0, or -1 with "no number" or "number too large" in
 * err (err may be NULL). */
int math_parse_number(const char *s, size_t len, struct math_number *num, size_t *used,
                      char *err, size_t errlen);

/* Answer one request line (no terminator). Writes the whole reply line, "d...\n" or "e...\n", to
 * out (at most out_cap bytes, not NUL-terminated) and returns its length, or -1 if out_cap is too
 * small (MATH_REPLY_MAX is always enough). */
int math_answer(const char *line, size_t len, char *out, size_t out_cap);

/* Is line a complete, valid request, one math_answer would answer with "d"? Lets the server answer
 * a request that arrived without a newline. "a12" and "a1." are complete; "a", "a-", "a1e", "a1e-",
 * "a1x" are not. Returns 1 or 0. */
int math_complete(const char *line, size_t len);

/* Is c a math op letter? */
int math_is_op(int c);

#endif
