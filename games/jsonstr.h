/*
 * jsonstr: the bytes of a JSON string, escaped by the table of RFC 8259, section 7. Shared by the
 * client's --json output and the server's JSON API, so both write the same valid JSON whatever a
 * string holds: quotes, backslashes and control bytes are escaped, and a byte above 0x7e is
 * written as \u00XX (read as Latin-1), since nothing arcade writes is meant to be anything but
 * ASCII and a stray byte must not make the whole document unreadable.
 */
#ifndef ARCADE_JSONSTR_H
#define ARCADE_JSONSTR_H

#include <stddef.h>

#define JSONSTR_BYTE_MAX 6  /* longest escape of one byte: \u00XX */

/* The text of byte c inside a JSON string into out (room for JSONSTR_BYTE_MAX); returns its
 * length, 1 to JSONSTR_BYTE_MAX. */
size_t jsonstr_byte(unsigned char c, char *out);

#endif
