/*
 * proxy: the PROXY protocol header, version 2 (HAProxy's proxy-protocol.txt), that a proxy in front
 * of arcaded sends first on each connection it opens, to say whose connection it carries. A plain
 * function over (buf, len), free of sockets and of the loop.
 *
 * The binary header, all numbers big-endian:
 *   12 bytes  signature \r\n\r\n\0\r\nQUIT\n
 *    1 byte   version (high nibble, 2) and command (low nibble: 0 LOCAL, 1 PROXY)
 *    1 byte   family (high nibble: 0 UNSPEC, 1 INET, 2 INET6, 3 UNIX) and transport
 *             (low nibble: 0 UNSPEC, 1 STREAM, 2 DGRAM)
 *    2 bytes  length of what follows: the addresses, then TLVs (skipped here)
 *   INET:  source address (4), destination address (4), source port (2), destination port (2)
 *   INET6: the same with 16-byte addresses
 *   UNIX:  source path (108), destination path (108)
 *
 * Version 1 (the text form "PROXY TCP4 ...\r\n") is not read: only version 2 is.
 */
#ifndef ARCADE_PROXY_H
#define ARCADE_PROXY_H

#include <stddef.h>
#include <sys/socket.h>

#define PROXY_SIGNATURE_LEN 12
#define PROXY_FIXED_LEN 16      /* signature, version and command, family and transport, length */
/* The most a header may take, TLVs included: 536 bytes, the smallest segment every TCP host takes
 * (its default MSS), so that a header arrives whole in one segment. */
#define PROXY_MAX 536

enum proxy_result {
    PROXY_NEED_MORE,    /* every byte so far fits a header, but it is not whole yet */
    PROXY_OK,           /* a whole header: see struct proxy_header */
    PROXY_BAD,          /* not a version 2 header, or not one arcaded takes */
};

/* What a whole header says. */
struct proxy_header {
    size_t len;                     /* its bytes, TLVs included: what to consume before the client's */
    int has_src;                    /* 0: keep the connection's own address (LOCAL, the proxy's own
                                     * health check; or a PROXY of UNSPEC or UNIX family, which
                                     * names no IP address) */
    struct sockaddr_storage src;    /* the client's address and port (AF_INET or AF_INET6), when
                                     * has_src */
};

/* Read the header at the start of buf[0, len). On PROXY_OK, *h is filled; otherwise it is not
 * touched. A header is judged on its first 16 bytes as soon as they are there (a length past
 * PROXY_MAX is refused without waiting for the rest), and NEED_MORE never follows a byte that
 * cannot begin a header. */
enum proxy_result proxy_parse(const unsigned char *buf, size_t len, struct proxy_header *h);

/* The addresses that a header is expected from (--proxy-from): a network, IPv4 as its
 * IPv4-mapped IPv6 form. */
struct proxy_net {
    unsigned char addr[16];
    unsigned bits;                  /* leading bits of addr that count, 0 to 128 */
};

/* "ADDR" or "ADDR/BITS" in text[0, n), IPv4 or IPv6, into *net. Returns 0, or -1 for anything else
 * (bits past the family's, host bits set past them). */
int proxy_net_parse(const char *text, size_t n, struct proxy_net *net);
/* Is sa (AF_INET or AF_INET6) in one of nets[0, n)? */
int proxy_net_has(const struct proxy_net *nets, size_t n, const struct sockaddr_storage *sa);

#endif
