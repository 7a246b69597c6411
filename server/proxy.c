/*
 * proxy: the PROXY protocol header, version 2. Every verdict but "whole" is reached within the
 * first 16 bytes, so a header read in pieces is judged as it would be whole.
 */
#include "proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static const unsigned char signature[PROXY_SIGNATURE_LEN] = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
};

enum { CMD_LOCAL = 0x0, CMD_PROXY = 0x1 };
enum { FAM_UNSPEC = 0x0, FAM_INET = 0x1, FAM_INET6 = 0x2, FAM_UNIX = 0x3 };

/* The address block each family needs: the spec's only family and transport bytes (any other is to
 * be refused), UNSPEC's with none. */
static int address_block(unsigned char fam_transport)
{
    switch (fam_transport) {
    case 0x00: return 0;        /* UNSPEC */
    case 0x11: case 0x12: return 12;    /* TCP or UDP over IPv4 */
    case 0x21: case 0x22: return 36;    /* TCP or UDP over IPv6 */
    case 0x31: case 0x32: return 216;   /* UNIX stream or datagram */
    default: return -1;
    }
}

static void source(const unsigned char *addr, int family, struct sockaddr_storage *src)
{
    memset(src, 0, sizeof(*src));
    if (family == FAM_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)src;
        in->sin_family = AF_INET;
        memcpy(&in->sin_addr, addr, 4);
        memcpy(&in->sin_port, addr + 8, 2);     /* after both addresses; already big-endian */
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)src;
        in6->sin6_family = AF_INET6;
        memcpy(&in6->sin6_addr, addr, 16);
        memcpy(&in6->sin6_port, addr + 32, 2);
    }
}

enum proxy_result proxy_parse(const unsigned char *buf, size_t len, struct proxy_header *h)
{
    size_t sig = len < PROXY_SIGNATURE_LEN ? len : PROXY_SIGNATURE_LEN;
    if (memcmp(buf, signature, sig) != 0) {
        return PROXY_BAD;
    }
    /* Version 2, and a command the spec assigns. */
    if (len > 12 && ((buf[12] >> 4) != 2 || (buf[12] & 0x0f) > CMD_PROXY)) {
        return PROXY_BAD;
    }
    int block = len > 13 ? address_block(buf[13]) : 0;
    if (block < 0) {
        return PROXY_BAD;
    }
    if (len < PROXY_FIXED_LEN) {
        return PROXY_NEED_MORE;
    }
    size_t rest = (size_t)buf[14] << 8 | buf[15];
    int command = buf[12] & 0x0f, family = buf[13] >> 4;
    /* LOCAL's addresses, if any, are ignored: only PROXY must carry its family's. */
    if (PROXY_FIXED_LEN + rest > PROXY_MAX || (command == CMD_PROXY && rest < (size_t)block)) {
        return PROXY_BAD;
    }
    if (len < PROXY_FIXED_LEN + rest) {
        return PROXY_NEED_MORE;
    }
    h->len = PROXY_FIXED_LEN + rest;
    h->has_src = command == CMD_PROXY && (family == FAM_INET || family == FAM_INET6);
    if (h->has_src) {
        source(buf + PROXY_FIXED_LEN, family, &h->src);
    }
    return PROXY_OK;
}

/* The 16-byte form of an address; 0, or -1 for another family. */
static int mapped(const struct sockaddr_storage *sa, unsigned char out[16])
{
    if (sa->ss_family == AF_INET) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 0;
    }
    if (sa->ss_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return 0;
    }
    return -1;
}

/* Do a and b agree on their first `bits` bits? */
static int same_prefix(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, whole) != 0) {
        return 0;
    }
    return rest == 0 || ((a[whole] ^ b[whole]) & (0xff00 >> rest) & 0xff) == 0;
}

int proxy_net_parse(const char *text, size_t n, struct proxy_net *net)
{
    char addr[INET6_ADDRSTRLEN];
    const char *slash = memchr(text, '/', n);
    size_t alen = slash != NULL ? (size_t)(slash - text) : n;
    if (alen == 0 || alen >= sizeof(addr)) {
        return -1;
    }
    memcpy(addr, text, alen);
    addr[alen] = '\0';
    struct sockaddr_storage sa = { 0 };
    unsigned max = 128;
    if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&sa)->sin_addr) == 1) {
        sa.ss_family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&sa)->sin6_addr) == 1) {
        sa.ss_family = AF_INET6;
    } else {
        return -1;
    }
    unsigned bits = max;
    if (slash != NULL) {
        size_t blen = n - alen - 1;
        bits = 0;
        if (blen == 0 || blen > 3) {
            return -1;
        }
        for (size_t i = 0; i < blen; i++) {
            char d = slash[1 + i];
            if (d < '0' || d > '9') {
                return -1;
            }
            bits = bits * 10 + (unsigned)(d - '0');
        }
        if (bits > max) {
            return -1;
        }
    }
    struct proxy_net out = { .bits = bits + (128 - max) };
    mapped(&sa, out.addr);
    /* 10.0.0.1/8 is most likely a mistake for 10.0.0.0/8 or 10.0.0.1: say so rather than guess. */
    for (unsigned b = out.bits; b < 128; b++) {
        if (out.addr[b / 8] & (0x80 >> (b % 8))) {
            return -1;
        }
    }
    *net = out;
    return 0;
}

int proxy_net_has(const struct proxy_net *nets, size_t n, const struct sockaddr_storage *sa)
{
    unsigned char a[16];
    if (mapped(sa, a) < 0) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (same_prefix(a, nets[i].addr, nets[i].bits)) {
            return 1;
        }
    }
    return 0;
}
