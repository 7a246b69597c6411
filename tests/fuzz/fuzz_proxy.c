/*
 * libFuzzer target: the PROXY protocol header, version 2 (server/proxy.c). The
 * input read as it grows, a byte at a time (as split reads deliver it, each read
 * parsed again from the start), reaches the verdict it gets whole, with the same
 * header; a header is never longer than the input nor than PROXY_MAX, and is
 * exactly its 16 fixed bytes and the length they declare; a source address is
 * the bytes that follow them.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

static int same(const struct proxy_header *a, const struct proxy_header *b)
{
    return a->len == b->len && a->has_src == b->has_src &&
           (!a->has_src || memcmp(&a->src, &b->src, sizeof(a->src)) == 0);
}

static void check_header(const uint8_t *data, size_t size, const struct proxy_header *h)
{
    if (size < PROXY_FIXED_LEN || h->len > size || h->len > PROXY_MAX ||
        h->len != PROXY_FIXED_LEN + ((size_t)data[14] << 8 | data[15])) {
        abort();
    }
    if (!h->has_src) {
        return;
    }
    const uint8_t *addr = data + PROXY_FIXED_LEN;
    if (h->src.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&h->src;
        if (h->len < PROXY_FIXED_LEN + 12 || memcmp(&in->sin_addr, addr, 4) != 0 ||
            memcmp(&in->sin_port, addr + 8, 2) != 0) {
            abort();
        }
    } else if (h->src.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&h->src;
        if (h->len < PROXY_FIXED_LEN + 36 || memcmp(&in6->sin6_addr, addr, 16) != 0 ||
            memcmp(&in6->sin6_port, addr + 32, 2) != 0) {
            abort();
        }
    } else {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct proxy_header whole, part, blank;
    memset(&blank, 0x5a, sizeof(blank));
    whole = blank;
    enum proxy_result r = proxy_parse(data, size, &whole);
    if (r == PROXY_OK) {
        check_header(data, size, &whole);
    } else if (r != PROXY_NEED_MORE && r != PROXY_BAD) {
        abort();
    }
    if (r != PROXY_OK && memcmp(&whole, &blank, sizeof(whole)) != 0) {
        abort();
    }
    for (size_t n = 0; n <= size; n++) {
        part = blank;
        enum proxy_result p = proxy_parse(data, n, &part);
        if (p == PROXY_NEED_MORE) {
            if (memcmp(&part, &blank, sizeof(part)) != 0) {
                abort();
            }
            continue;
        }
        if (p != r || (p == PROXY_OK && (!same(&part, &whole) || part.len != n))) {
            abort();
        }
        return 0;
    }
    if (r != PROXY_NEED_MORE) {
        abort();
    }
    return 0;
}
