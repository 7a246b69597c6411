/*
 * reply: request-line answers common to all services.
 */
#include "reply.h"

#include <string.h>

size_t reply_error(char *out, const char *reason)
{
    size_t n = strlen(reason);
    out[0] = 'e';
    memcpy(out + 1, reason, n);
    out[n + 1] = '\n';
    return n + 2;
}
