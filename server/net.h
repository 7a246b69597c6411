/*
 * net: listening sockets.
 */
#ifndef ARCADE_NET_H
#define ARCADE_NET_H

#include <stddef.h>

/* A non-blocking TCP listener and a UDP socket bound to the same address and
 * port (port 0: a free one, returned in *port). reuseport: with SO_REUSEPORT, beside other such
 * sockets of the same user on that port. Returns 0, or -1 with err. */
int net_listen(const char *addr, int *port, int reuseport, int *tcp_fd, int *udp_fd, char *err, size_t errlen);
/* Hold a port for listeners that other processes open with reuseport (port 0: a free one, returned
 * in *port): a TCP socket bound with SO_REUSEPORT that does not listen, so it takes no connections,
 * while nobody else (another user, a socket without SO_REUSEPORT) can take the port. UDP is only
 * checked free, and not kept. Returns 0, or -1 with err. */
int net_reserve(const char *addr, int *port, int *tcp_fd, char *err, size_t errlen);

#endif
