/*
 * assets: the page's files (web/), built into arcaded by web/embed.sh, so
 * that the server needs nothing beside its binary to serve them.
 */
#ifndef ARCADE_ASSETS_H
#define ARCADE_ASSETS_H

#include <stddef.h>

struct asset {
    const char *path;           /* "/" for index.html, else "/<file name>" */
    const char *type;           /* its Content-Type */
    const unsigned char *data;
    size_t len;
};

/* The file served at path[0, len), or NULL. */
const struct asset *assets_find(const char *path, size_t len);

#endif
