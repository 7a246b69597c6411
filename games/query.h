/*
 * query: the bytes of a URL's path segment or query string, percent-decoded
 * (RFC 3986), and a query's name=value pairs. '+' is a plus sign, not a space:
 * arcade's values are numbers and names, and "+7" means seven.
 */
#ifndef ARCADE_QUERY_H
#define ARCADE_QUERY_H

#include <stddef.h>

/* Percent-decode s[0, n) into out, keeping at most cap bytes; *len gets the whole decoded length,
 * which may pass cap. Returns 0, or -1 for a '%' not followed by two hex digits. */
int query_decode(const char *s, size_t n, char *out, size_t cap, size_t *len);

/* The value of key in query[0, n) (name=value pairs split at '&'), decoded as query_decode does;
 * the first pair with the key counts. Returns 1, 0 when no pair has it (*len is then 0), -1 for a
 * bad escape. */
int query_value(const char *query, size_t n, const char *key, char *out, size_t cap, size_t *len);

#endif
