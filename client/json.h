/*
 * json: the few pieces of JSON that arcade's --json output needs, written
 * straight to a stream. Strings are always valid JSON whatever bytes they
 * hold, escaped as games/jsonstr.h says.
 */
#ifndef ARCADE_JSON_H
#define ARCADE_JSON_H

#include <stddef.h>
#include <stdio.h>

/* s[0..len) as a JSON string, quotes included. */
void json_string(FILE *f, const char *s, size_t len);

/* A NUL-terminated string as a JSON string. */
void json_cstring(FILE *f, const char *s);

/* "key": (a member name and its colon; the caller writes the value and any comma). */
void json_key(FILE *f, const char *key);

#endif
