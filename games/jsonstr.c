/*
 * jsonstr: the two characters that must be escaped, the short forms for the usual control bytes,
 * \u00XX for every other byte below 0x20 and (see jsonstr.h) above 0x7e.
 */
#include "jsonstr.h"

#include <string.h>

size_t jsonstr_byte(unsigned char c, char *out)
{
    static const char hex[] = "0123456789abcdef";
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
        memcpy(out, esc, 2);
        return 2;
    }
    if (c < 0x20 || c > 0x7e) {
        memcpy(out, "\\u00", 4);
        out[4] = hex[c >> 4];
        out[5] = hex[c & 0xf];
        return 6;
    }
    out[0] = (char)c;
    return 1;
}
