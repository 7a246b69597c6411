/*
 * query: percent-decoding and a query's pairs.
 */
#include "query.h"

#include <string.h>

static int hex_value(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c |= 0x20;  /* ASCII lower case */
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int query_decode(const char *s, size_t n, char *out, size_t cap, size_t *len)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++, k++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            int hi = i + 2 < n ? hex_value((unsigned char)s[i + 1]) : -1;
            int lo = hi >= 0 ? hex_value((unsigned char)s[i + 2]) : -1;
            if (lo < 0) {
                return -1;
            }
            c = hi * 16 + lo;
            i += 2;
        }
        if (k < cap) {
            out[k] = (char)c;
        }
    }
    *len = k;
    return 0;
}

int query_value(const char *query, size_t n, const char *key, char *out, size_t cap, size_t *len)
{
    size_t klen = strlen(key), pos = 0;
    while (pos < n) {
        const char *pair = query + pos;
        const char *amp = memchr(pair, '&', n - pos);
        size_t plen = amp != NULL ? (size_t)(amp - pair) : n - pos;
        if (plen > klen && memcmp(pair, key, klen) == 0 && pair[klen] == '=') {
            return query_decode(pair + klen + 1, plen - klen - 1, out, cap, len) < 0 ? -1 : 1;
        }
        pos += plen + 1;
    }
    *len = 0;
    return 0;
}
