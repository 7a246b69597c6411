/*
 * libFuzzer target: the long-connection frame decoder, hello names included.
 * Decoding the input whole and byte by byte (as split reads deliver it) must
 * give the same frames, and every frame must be well formed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rps.h"

#define MAX_FRAMES 4096

static size_t decode_all(const char *buf, size_t len, struct rps_frame *out, size_t max)
{
    size_t pos = 0, n = 0;
    while (pos < len && n < max) {
        size_t used = rps_decode(buf + pos, len - pos, &out[n]);
        if (used == 0) {
            break;
        }
        if (pos + used > len || (out[n].type != RPS_FRAME_SPACE && used > RPS_FRAME_MAX)) {
            abort();
        }
        if (out[n].type == RPS_FRAME_HELLO && !rps_valid_name(out[n].name, strlen(out[n].name))) {
            abort();
        }
        if (out[n].type == RPS_FRAME_MOVE && (out[n].move < 1 || out[n].move > 3)) {
            abort();
        }
        pos += used;
        n++;
    }
    return n;
}

/* Feed one byte at a time, keeping the undecoded tail as a server does. */
static size_t decode_split(const char *buf, size_t len, struct rps_frame *out, size_t max)
{
    char tail[RPS_FRAME_MAX + 1];
    size_t have = 0, n = 0;
    for (size_t i = 0; i < len && n < max; i++) {
        tail[have++] = buf[i];
        size_t used;
        while (have > 0 && n < max && (used = rps_decode(tail, have, &out[n])) > 0) {
            memmove(tail, tail + used, have - used);
            have -= used;
            n++;
        }
        if (have > RPS_FRAME_MAX) {
            abort();
        }
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rps_frame whole[MAX_FRAMES], split[MAX_FRAMES];
    size_t a = decode_all((const char *)data, size, whole, MAX_FRAMES);
    size_t b = decode_split((const char *)data, size, split, MAX_FRAMES);

    /* Whitespace runs are one frame whole but several when split: compare the rest. */
    size_t i = 0, j = 0;
    for (;;) {
        while (i < a && whole[i].type == RPS_FRAME_SPACE) {
            i++;
        }
        while (j < b && split[j].type == RPS_FRAME_SPACE) {
            j++;
        }
        if (i == a || j == b) {
            break;
        }
        if (whole[i].type != split[j].type || whole[i].move != split[j].move ||
            strcmp(whole[i].name, split[j].name) != 0 || whole[i].secret_len != split[j].secret_len ||
            memcmp(whole[i].secret, split[j].secret, whole[i].secret_len) != 0) {
            abort();
        }
        i++;
        j++;
    }
    if (a < MAX_FRAMES && b < MAX_FRAMES && (i != a || j != b)) {
        abort();
    }
    return 0;
}
