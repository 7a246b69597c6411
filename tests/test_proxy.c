/* server/proxy: the PROXY protocol header, version 2, without sockets. Headers are written out here
 * byte by byte from HAProxy's proxy-protocol.txt, not built by the parser's code. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"
#include "suite.h"

#define SIG 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a

/* TCP over IPv4, from 192.0.2.1:51000 to 198.51.100.7:5000, then the client's first bytes. */
static const unsigned char tcp4[] = {
    /* the signature: \r \n \r \n \0 \r \n Q U I T \n */
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
    0x21,               /* version 2 (high nibble), command PROXY (low nibble 1) */
    0x11,               /* family INET (high nibble 1), transport STREAM (low nibble 1) */
    0x00, 0x0c,         /* 12 bytes follow: two 4-byte addresses, two 2-byte ports */
    192, 0, 2, 1,       /* source address 192.0.2.1: the player */
    198, 51, 100, 7,    /* destination address 198.51.100.7: the proxy's listener */
    0xc7, 0x38,         /* source port 51000 = 0xc738 */
    0x13, 0x88,         /* destination port 5000 = 0x1388 */
    'G', 'E', 'T', ' ', /* not the header's: the client's own bytes */
};
#define TCP4_LEN 28

/* TCP over IPv6, from [2001:db8::1]:443 to [2001:db8::2]:5000. */
static const unsigned char tcp6[] = {
    SIG, 0x21,
    0x21,               /* family INET6, transport STREAM */
    0x00, 0x24,         /* 36 bytes: two 16-byte addresses, two ports */
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
    0x01, 0xbb,         /* 443 */
    0x13, 0x88,
};

/* UDP over IPv4 and over IPv6: the same blocks, transport DGRAM (low nibble 2). */
static const unsigned char udp4[] = { SIG, 0x21, 0x12, 0x00, 0x0c, 10, 1, 2, 3, 10, 9, 9, 9, 0x00, 0x35, 0x13, 0x88 };
static const unsigned char udp6[] = {
    SIG, 0x21, 0x22, 0x00, 0x24,
    0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07,
    0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08,
    0xff, 0xff, 0x13, 0x88,
};

/* LOCAL (command 0): the proxy's own connection, a health check. UNSPEC family, nothing follows. */
static const unsigned char local[] = { SIG, 0x20, 0x00, 0x00, 0x00 };
/* LOCAL may carry addresses; they are ignored. */
static const unsigned char local4[] = { SIG, 0x20, 0x11, 0x00, 0x0c, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2 };
/* PROXY of an unspecified family: no address to take. */
static const unsigned char unspec[] = { SIG, 0x21, 0x00, 0x00, 0x00 };

/* IPv4 with TLVs after the addresses: PP2_TYPE_NOOP (0x04) of 3 bytes, PP2_TYPE_AUTHORITY (0x02)
 * "arcade". Each TLV: a type byte, a 2-byte length, the value. */
static const unsigned char tlvs[] = {
    SIG, 0x21, 0x11,
    0x00, 0x1b,                         /* 12 + (3 + 3) + (3 + 6) = 27 */
    203, 0, 113, 9, 198, 51, 100, 7, 0x30, 0x39, 0x13, 0x88,   /* 203.0.113.9:12345 */
    0x04, 0x00, 0x03, 0xaa, 0xbb, 0xcc,
    0x02, 0x00, 0x06, 'a', 'r', 'c', 'a', 'd', 'e',
    'P',                                /* the client's */
};

static struct proxy_header untouched(void)
{
    struct proxy_header h;
    memset(&h, 0x5a, sizeof(h));
    return h;
}

/* buf[0, n) is one whole header of hlen bytes (n >= hlen): every shorter prefix needs more and leaves
 * *h alone, the whole gives the same header every time, bytes after it are not the header's. */
static struct proxy_header parses(const unsigned char *buf, size_t n, size_t hlen)
{
    struct proxy_header want = untouched(), h;
    for (size_t i = 0; i < hlen; i++) {
        h = untouched();
        ck_assert_msg(proxy_parse(buf, i, &h) == PROXY_NEED_MORE, "%zu of %zu bytes: not NEED_MORE", i, hlen);
        ck_assert_msg(memcmp(&h, &want, sizeof(h)) == 0, "%zu bytes: header written", i);
    }
    for (size_t i = hlen; i <= n; i++) {
        h = untouched();
        ck_assert_msg(proxy_parse(buf, i, &h) == PROXY_OK, "%zu bytes: not OK", i);
        ck_assert_uint_eq(h.len, hlen);
        if (i == hlen) {
            want = h;
        } else {
            ck_assert_int_eq(h.has_src, want.has_src);
            ck_assert(!h.has_src || memcmp(&h.src, &want.src, sizeof(h.src)) == 0);
        }
    }
    return want;
}

/* buf[0, n) is refused, and refused from its first `at` bytes on; before that, it needs more. */
static void refused_at(const unsigned char *buf, size_t n, size_t at)
{
    struct proxy_header want = untouched(), h;
    for (size_t i = 0; i <= n; i++) {
        h = untouched();
        enum proxy_result r = proxy_parse(buf, i, &h);
        ck_assert_msg(r == (i < at ? PROXY_NEED_MORE : PROXY_BAD), "%zu bytes (bad from %zu): got %d", i, at, r);
        ck_assert_msg(memcmp(&h, &want, sizeof(h)) == 0, "%zu bytes: header written", i);
    }
}

static void is_v4(const struct proxy_header *h, const char *addr, int port)
{
    const struct sockaddr_in *in = (const struct sockaddr_in *)&h->src;
    char text[INET_ADDRSTRLEN];
    ck_assert(h->has_src);
    ck_assert_int_eq(in->sin_family, AF_INET);
    ck_assert_str_eq(inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text)), addr);
    ck_assert_int_eq(ntohs(in->sin_port), port);
}

static void is_v6(const struct proxy_header *h, const char *addr, int port)
{
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&h->src;
    char text[INET6_ADDRSTRLEN];
    ck_assert(h->has_src);
    ck_assert_int_eq(in6->sin6_family, AF_INET6);
    ck_assert_str_eq(inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text)), addr);
    ck_assert_int_eq(ntohs(in6->sin6_port), port);
}

START_TEST(test_tcp_over_ipv4_gives_the_source_and_leaves_the_clients_bytes)
{
    struct proxy_header h = parses(tcp4, sizeof(tcp4), TCP4_LEN);
    is_v4(&h, "192.0.2.1", 51000);
    ck_assert_int_eq(memcmp(tcp4 + h.len, "GET ", 4), 0);
}
END_TEST

START_TEST(test_tcp_over_ipv6_gives_the_source)
{
    struct proxy_header h = parses(tcp6, sizeof(tcp6), sizeof(tcp6));
    is_v6(&h, "2001:db8::1", 443);
}
END_TEST

START_TEST(test_udp_over_either_family_gives_the_source)
{
    struct proxy_header h = parses(udp4, sizeof(udp4), sizeof(udp4));
    is_v4(&h, "10.1.2.3", 53);
    h = parses(udp6, sizeof(udp6), sizeof(udp6));
    is_v6(&h, "fe80::7", 65535);
}
END_TEST

/* LOCAL, an UNSPEC or a UNIX family: whole headers, but no address to take. */
START_TEST(test_local_unspec_and_unix_keep_the_connections_own_address)
{
    struct proxy_header h = parses(local, sizeof(local), 16);
    ck_assert(!h.has_src);
    h = parses(local4, sizeof(local4), sizeof(local4));
    ck_assert(!h.has_src);
    h = parses(unspec, sizeof(unspec), 16);
    ck_assert(!h.has_src);

    unsigned char unix_stream[16 + 216 + 1] = { SIG, 0x21, 0x31, 0x00, 0xd8 };   /* 216 bytes of paths */
    memcpy(unix_stream + 16, "/run/haproxy.sock", 17);
    h = parses(unix_stream, sizeof(unix_stream), 16 + 216);
    ck_assert(!h.has_src);
    unix_stream[13] = 0x32;     /* UNIX datagram */
    h = parses(unix_stream, sizeof(unix_stream), 16 + 216);
    ck_assert(!h.has_src);
}
END_TEST

START_TEST(test_tlvs_after_the_addresses_are_skipped)
{
    struct proxy_header h = parses(tlvs, sizeof(tlvs), sizeof(tlvs) - 1);
    is_v4(&h, "203.0.113.9", 12345);
    ck_assert_int_eq(tlvs[h.len], 'P');
}
END_TEST

/* A wrong byte anywhere in the signature is refused as soon as it arrives. */
START_TEST(test_a_wrong_signature_byte_is_refused_at_once)
{
    for (size_t i = 0; i < PROXY_SIGNATURE_LEN; i++) {
        unsigned char b[TCP4_LEN];
        memcpy(b, tcp4, sizeof(b));
        b[i] ^= 0x20;
        refused_at(b, sizeof(b), i + 1);
    }
    /* What a client sends without a proxy, and version 1's text form, which is not read. */
    refused_at((const unsigned char *)"GET / HTTP/1.1\r\n", 16, 1);
    refused_at((const unsigned char *)"P\n", 2, 1);
    static const char v1[] = "PROXY TCP4 192.0.2.1 198.51.100.7 51000 5000\r\n";
    refused_at((const unsigned char *)v1, sizeof(v1) - 1, 1);
    /* The signature's first bytes and then something else: HTTP's blank line, say. */
    refused_at((const unsigned char *)"\r\n\r\nGET", 7, 5);
}
END_TEST

START_TEST(test_other_versions_and_commands_are_refused)
{
    static const unsigned char bytes[] = { 0x11, 0x31, 0xf1, 0x01, 0x22, 0x2f };
    for (size_t i = 0; i < sizeof(bytes); i++) {
        unsigned char b[TCP4_LEN];
        memcpy(b, tcp4, sizeof(b));
        b[12] = bytes[i];
        refused_at(b, sizeof(b), 13);
    }
}
END_TEST

/* Only 0x00, 0x11, 0x12, 0x21, 0x22, 0x31 and 0x32 are families and transports; the spec has the
 * receiver refuse the rest. */
START_TEST(test_other_families_and_transports_are_refused)
{
    static const unsigned char valid[] = { 0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32 };
    for (int v = 0; v < 256; v++) {
        if (memchr(valid, v, sizeof(valid)) != NULL) {
            continue;
        }
        unsigned char b[TCP4_LEN];
        memcpy(b, tcp4, sizeof(b));
        b[13] = (unsigned char)v;
        refused_at(b, sizeof(b), 14);
        b[12] = 0x20;           /* LOCAL too: its family byte is still the spec's */
        refused_at(b, sizeof(b), 14);
    }
}
END_TEST

/* A PROXY whose length cannot hold its family's addresses is refused on its 16th byte. */
START_TEST(test_an_address_block_too_short_for_its_family_is_refused)
{
    static const struct { unsigned char fam; int need; } fams[] = {
        { 0x11, 12 }, { 0x12, 12 }, { 0x21, 36 }, { 0x22, 36 }, { 0x31, 216 }, { 0x32, 216 },
    };
    for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
        unsigned char b[16 + 216] = { SIG, 0x21, fams[i].fam, 0x00, (unsigned char)(fams[i].need - 1) };
        refused_at(b, 16 + (size_t)fams[i].need - 1, 16);
        refused_at(b, 16, 16);
        b[15] = 0;
        refused_at(b, 16, 16);
        /* The same from LOCAL: its addresses are not read, so a short block is no fault. */
        b[12] = 0x20;
        b[15] = (unsigned char)(fams[i].need - 1);
        ck_assert(parses(b, 16 + (size_t)fams[i].need - 1, 16 + (size_t)fams[i].need - 1).has_src == 0);
    }
}
END_TEST

/* PROXY_MAX bytes in all is the most: one more, or any length the 2 bytes can say past it, is
 * refused as soon as the length is there, without waiting for the bytes it announces. */
START_TEST(test_a_header_longer_than_the_bound_is_refused_on_its_length)
{
    static unsigned char b[65536 + 16];
    memcpy(b, tcp4, 16);
    size_t rest = PROXY_MAX - 16;               /* 520 */
    b[14] = (unsigned char)(rest >> 8);
    b[15] = (unsigned char)rest;
    memcpy(b + 16, tcp4 + 16, 12);
    struct proxy_header h = parses(b, PROXY_MAX + 1, PROXY_MAX);
    is_v4(&h, "192.0.2.1", 51000);
    b[15]++;                                    /* 521 */
    refused_at(b, PROXY_MAX + 1, 16);
    b[14] = b[15] = 0xff;
    h = untouched();
    ck_assert_int_eq(proxy_parse(b, 16, &h), PROXY_BAD);
    ck_assert_int_eq(proxy_parse(b, sizeof(b), &h), PROXY_BAD);
}
END_TEST

static struct sockaddr_storage address(const char *text)
{
    struct sockaddr_storage sa = { 0 };
    if (inet_pton(AF_INET, text, &((struct sockaddr_in *)&sa)->sin_addr) == 1) {
        sa.ss_family = AF_INET;
    } else {
        ck_assert_int_eq(inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)&sa)->sin6_addr), 1);
        sa.ss_family = AF_INET6;
    }
    return sa;
}

static int net_has(const char *net, const char *addr)
{
    struct proxy_net n;
    ck_assert_msg(proxy_net_parse(net, strlen(net), &n) == 0, "%s refused", net);
    struct sockaddr_storage sa = address(addr);
    return proxy_net_has(&n, 1, &sa);
}

/* --proxy-from's networks: an address alone is itself, a /BITS its network, IPv4 and IPv6 apart. */
START_TEST(test_a_network_holds_the_addresses_of_its_prefix)
{
    ck_assert(net_has("127.0.0.1", "127.0.0.1"));
    ck_assert(!net_has("127.0.0.1", "127.0.0.2"));
    ck_assert(net_has("10.0.0.0/8", "10.255.1.2"));
    ck_assert(!net_has("10.0.0.0/8", "11.0.0.0"));
    ck_assert(net_has("192.168.4.0/22", "192.168.7.255"));
    ck_assert(!net_has("192.168.4.0/22", "192.168.8.0"));
    ck_assert(net_has("0.0.0.0/0", "203.0.113.9"));
    ck_assert(!net_has("0.0.0.0/0", "2001:db8::1"));
    ck_assert(net_has("2001:db8::/32", "2001:db8:ffff::1"));
    ck_assert(!net_has("2001:db8::/32", "2001:db9::1"));
    ck_assert(net_has("::1", "::1"));
    ck_assert(!net_has("::1", "127.0.0.1"));
    struct proxy_net n;
    static const char *const bad[] = {
        "", "/8", "127.0.0.1/", "127.0.0.1/33", "::/129", "10.0.0.1/8", "localhost", "127.0.0.1/+8",
        "127.0.0.1/0x8", "1.2.3", "127.0.0.1 ",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(proxy_net_parse(bad[i], strlen(bad[i]), &n) < 0, "'%s' taken", bad[i]);
    }
    /* The text is its n bytes, not up to a NUL: a comma list is read piece by piece. */
    ck_assert_int_eq(proxy_net_parse("10.0.0.0/8,127.0.0.1", 10, &n), 0);
    ck_assert_uint_eq(n.bits, 96 + 8);
    struct sockaddr_storage unix_sa = { .ss_family = AF_UNIX };
    ck_assert(!proxy_net_has(&n, 1, &unix_sa));
}
END_TEST

static Suite *proxy_suite(void)
{
    Suite *s = suite_create("proxy");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_tcp_over_ipv4_gives_the_source_and_leaves_the_clients_bytes);
    tcase_add_test(tc, test_tcp_over_ipv6_gives_the_source);
    tcase_add_test(tc, test_udp_over_either_family_gives_the_source);
    tcase_add_test(tc, test_local_unspec_and_unix_keep_the_connections_own_address);
    tcase_add_test(tc, test_tlvs_after_the_addresses_are_skipped);
    tcase_add_test(tc, test_a_wrong_signature_byte_is_refused_at_once);
    tcase_add_test(tc, test_other_versions_and_commands_are_refused);
    tcase_add_test(tc, test_other_families_and_transports_are_refused);
    tcase_add_test(tc, test_an_address_block_too_short_for_its_family_is_refused);
    tcase_add_test(tc, test_a_header_longer_than_the_bound_is_refused_on_its_length);
    tcase_add_test(tc, test_a_network_holds_the_addresses_of_its_prefix);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return suite_run(proxy_suite());
}
