/*
 * libFuzzer target: the WebSocket decoder (server/ws.c over wslay). Decoding
 * the input whole and byte by byte (as split reads deliver it) must give the
 * same payload and the same verdict (closing or not), the payload is never
 * longer than the bytes it came in, and the control frames due fit their room.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws.h"

struct outcome {
    char payload[4096];
    size_t len;
    int closing;
};

static void decode(const uint8_t *data, size_t size, size_t step, struct outcome *o)
{
    static char scratch[4096];
    struct ws *ws = ws_new(WS_BINARY, WS_BINARY);
    if (ws == NULL) {
        abort();
    }
    memset(o, 0, sizeof(*o));
    for (size_t pos = 0; pos < size; pos += step) {
        size_t n = size - pos < step ? size - pos : step;
        memcpy(scratch, data + pos, n);
        size_t got = ws_decode(ws, scratch, n, scratch);
        if (got > n) {
            abort();
        }
        memcpy(o->payload + o->len, scratch, got);
        o->len += got;
        /* Control frames due are taken after each read, as the server's flush does. */
        char controls[WS_CONTROLS_MAX];
        if (ws_controls(ws, controls) > WS_CONTROLS_MAX) {
            abort();
        }
    }
    o->closing = ws_closing(ws);
    ws_free(ws);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct outcome whole, split;
    if (size > 4096) {
        return 0;
    }
    decode(data, size, size > 0 ? size : 1, &whole);
    decode(data, size, 1, &split);
    if (whole.len > size || whole.len != split.len || memcmp(whole.payload, split.payload, whole.len) != 0 ||
        whole.closing != split.closing) {
        abort();
    }
    return 0;
}
