/*
 * json: escaping by the table of RFC 8259, section 7: the two characters
 * that must be escaped, the short forms for the usual control bytes, \u00XX
 * for every other byte below 0x20 and (see json.h) above 0x7e.
 */
#include "json.h"

#include <string.h>

void json_string(FILE *f, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default: break;
        }
        if (esc != NULL) {
            fputs(esc, f);
        } else if (c < 0x20 || c > 0x7e) {
            fprintf(f, "\\u00%c%c", hex[c >> 4], hex[c & 0xf]);
        } else {
            fputc(c, f);
        }
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
