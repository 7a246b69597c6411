/*
 * libFuzzer target: URL percent-decoding and query pairs (games/query.c). A
 * decoded length never passes the input's, nothing is written past cap, every
 * string percent-encoded whole decodes back to itself, and a value found in a
 * query is a decoding of bytes of that query.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"

#define CAP 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char out[CAP + 1], whole[4096], encoded[3 * 4096];
    const char *s = (const char *)data;
    size_t len;

    if (size > sizeof(whole)) {
        return 0;
    }
    out[CAP] = 0x5a;
    if (query_decode(s, size, out, CAP, &len) == 0 && len > size) {
        abort();
    }
    if (out[CAP] != 0x5a) {
        abort();
    }
    /* Every byte as %XX decodes back to the input. */
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < size; i++) {
        encoded[3 * i] = '%';
        encoded[3 * i + 1] = hex[data[i] >> 4];
        encoded[3 * i + 2] = hex[data[i] & 15];
    }
    if (query_decode(encoded, 3 * size, whole, sizeof(whole), &len) != 0 || len != size ||
        memcmp(whole, data, size) != 0) {
        abort();
    }
    /* A value is never longer than the query it came from. */
    int found = query_value(s, size, "n", out, CAP, &len);
    if (found < -1 || found > 1 || (found == 1 && len > size) || (found == 0 && len != 0) ||
        out[CAP] != 0x5a) {
        abort();
    }
    return 0;
}
