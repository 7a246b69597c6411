/*
 * net: listening sockets.
 */
#ifndef ARCADE_NET_H
#define ARCADE_NET_H

#include <stddef.h>

/* A non-blocking TCP listener and a UDP socket bound to the same address and
 * port (port 0: a free one, returned in *port). Returns 0, or -1 with err. */
int net_listen(const char *addr, int *port, int *tcp_fd, int *udp_fd, char *err, size_t errlen);

#endif
