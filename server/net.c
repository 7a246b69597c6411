/*
 * net: the TCP listener and the UDP socket, on one port number.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NET_BACKLOG 1024
#define NET_PORT_TRIES 16

/* reuseport: SO_REUSEPORT, so that other processes' sockets (the workers', --workers) may bind the same
 * address and port, and the kernel spreads connections and datagrams over them. listen: a TCP
 * socket that is only bound (the supervisor's reservation of a port) takes no connections. */
static int open_socket(const struct addrinfo *ai, int type, int port, int reuseport, int listens, char *err,
                       size_t errlen)
{
    struct sockaddr_storage sa;
    int one = 1;

    memcpy(&sa, ai->ai_addr, ai->ai_addrlen);
    if (sa.ss_family == AF_INET6) {
        ((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)port);
    } else {
        ((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)port);
    }
    int fd = socket(ai->ai_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
        bind(fd, (struct sockaddr *)&sa, ai->ai_addrlen) < 0 ||
        (type == SOCK_STREAM && listens && listen(fd, NET_BACKLOG) < 0)) {
        snprintf(err, errlen, "%s port %d: %s", type == SOCK_STREAM ? "tcp" : "udp", port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int bound_port(int fd)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        return -1;
    }
    if (sa.ss_family == AF_INET6) {
        return ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
    }
    return ntohs(((struct sockaddr_in *)&sa)->sin_port);
}

/* A TCP socket (listening, or only bound when !listens) and a UDP socket on the same port of addr. */
static int open_pair(const char *addr, int *port, int reuseport, int listens, int *tcp_fd, int *udp_fd, char *err,
                     size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_flags = AI_PASSIVE | AI_NUMERICHOST };
    struct addrinfo *ai;
    int rc = getaddrinfo(addr, NULL, &hints, &ai);

    if (rc != 0) {
        snprintf(err, errlen, "bad address %s: %s", addr, gai_strerror(rc));
        return -1;
    }
    /* With port 0 the kernel picks the TCP port; the same number may be taken
     * on UDP, so try again a few times. */
    for (int i = 0; i < (*port == 0 ? NET_PORT_TRIES : 1); i++) {
        int t = open_socket(ai, SOCK_STREAM, *port, reuseport, listens, err, errlen);
        if (t < 0) {
            break;
        }
        int p = bound_port(t);
        int u = open_socket(ai, SOCK_DGRAM, p, reuseport, listens, err, errlen);
        if (u >= 0) {
            *tcp_fd = t;
            *udp_fd = u;
            *port = p;
            freeaddrinfo(ai);
            return 0;
        }
        close(t);
    }
    freeaddrinfo(ai);
    return -1;
}

int net_listen(const char *addr, int *port, int reuseport, int *tcp_fd, int *udp_fd, char *err, size_t errlen)
{
    return open_pair(addr, port, reuseport, 1, tcp_fd, udp_fd, err, errlen);
}

int net_reserve(const char *addr, int *port, int *tcp_fd, char *err, size_t errlen)
{
    int udp_fd;
    if (open_pair(addr, port, 1, 0, tcp_fd, &udp_fd, err, errlen) < 0) {
        return -1;
    }
    /* A bound UDP socket would be handed its share of the port's datagrams, and nobody reads them. */
    close(udp_fd);
    return 0;
}
