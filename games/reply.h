/*
 * reply: the one-line error answer shared by every request-line service.
 */
#ifndef ARCADE_REPLY_H
#define ARCADE_REPLY_H

#include <stddef.h>

/* Write "e<reason>\n" into out (room for strlen(reason) + 2); returns its length. */
size_t reply_error(char *out, const char *reason);

#endif
