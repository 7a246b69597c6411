/*
 * json: strings escaped byte by byte as games/jsonstr.h says, the same
 * escaping as the server's JSON API.
 */
#include "json.h"

#include <string.h>

#include "jsonstr.h"

void json_string(FILE *f, const char *s, size_t len)
{
    char esc[JSONSTR_BYTE_MAX];
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        fwrite(esc, 1, jsonstr_byte((unsigned char)s[i], esc), f);
    }
    fputc('"', f);
}

void json_cstring(FILE *f, const char *s)
{
    json_string(f, s, strlen(s));
}

void json_key(FILE *f, const char *key)
{
    json_cstring(f, key);
    fputc(':', f);
}
