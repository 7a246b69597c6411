/*
 * json: the few pieces of JSON that arcade's --json output needs, written
 * straight to a stream. Strings are always valid JSON whatever bytes they
 * hold: quotes, backslashes and control bytes are escaped, and a byte above
 * 0x7f is written as \u00XX (read as Latin-1), since nothing arcade prints
 * is meant to be anything but ASCII and a stray byte must not make the whole
 * document unreadable.
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
