/*
 * libFuzzer target: the math request parser and its exact arithmetic.
 * Every input must get exactly one reply line, starting with 'd' or 'e'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "math.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[MATH_REPLY_MAX];
    int n = math_answer((const char *)data, size, out, sizeof(out));

    if (n <= 0 || (out[0] != 'd' && out[0] != 'e') || out[n - 1] != '\n' || memchr(out, '\n', (size_t)n - 1)) {
        abort();
    }
    /* A request the server would answer early must get a number, not an error. */
    if (math_complete((const char *)data, size) && out[0] != 'd') {
        abort();
    }
    return 0;
}
