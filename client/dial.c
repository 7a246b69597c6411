/*
 * dial: sockets are always non-blocking; the blocking helpers wait with
 * poll() against an absolute deadline so a slow server can never hold a
 * subcommand past --timeout.
 */
#include "dial.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

double dial_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void dial_label(const char *host, int port, char *out, size_t cap)
{
    if (strchr(host, ':') != NULL) {
        snprintf(out, cap, "[%s]:%d", host, port);
    } else {
        snprintf(out, cap, "%s:%d", host, port);
    }
}

struct addrinfo *dial_resolve(const char *host, int port, int socktype, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    char service[16];

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socktype;
    snprintf(service, sizeof(service), "%d", port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        char label[300];
        dial_label(host, port, label, sizeof(label));
        snprintf(err, errlen, "cannot connect to %s: %s", label, gai_strerror(rc));
        return NULL;
    }
    return res;
}

int dial_start(const struct addrinfo *ai, int *in_progress)
{
    *in_progress = 0;
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        return -1;
    }
    if (ai->ai_socktype == SOCK_STREAM) {
        int one = 1;
        /* Moves are single bytes: waiting to coalesce them would only add latency. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        return fd;
    }
    if (errno == EINPROGRESS) {
        *in_progress = 1;
        return fd;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

int dial_finish(int fd)
{
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) {
        return -1;
    }
    if (soerr != 0) {
        errno = soerr;
        return -1;
    }
    return 0;
}

int dial_wait(int fd, short events, double deadline)
{
    for (;;) {
        double left = deadline - dial_now();
        if (left <= 0) {
            return 0;
        }
        struct pollfd p = { .fd = fd, .events = events };
        int rc = poll(&p, 1, (int)(left * 1000) + 1);
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        return rc <= 0 ? rc : p.revents;
    }
}

/* Try one address within the deadline: a connected socket, or -1 with errno set. */
static int connect_one(const struct addrinfo *ai, double deadline)
{
    int in_progress;
    int fd = dial_start(ai, &in_progress);
    if (fd < 0 || !in_progress) {
        return fd;
    }
    int rc = dial_wait(fd, POLLOUT, deadline);
    int saved = rc == 0 ? ETIMEDOUT : errno;
    if (rc > 0 && dial_finish(fd) == 0) {
        return fd;
    }
    if (rc > 0) {
        saved = errno;
    }
    close(fd);
    errno = saved;
    return -1;
}

static int dial(const char *host, int port, int socktype, double timeout, char *err, size_t errlen)
{
    struct addrinfo *res = dial_resolve(host, port, socktype, err, errlen);
    if (res == NULL) {
        return -1;
    }
    double deadline = dial_now() + timeout;
    int fd = -1, last = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = connect_one(ai, deadline);
        last = errno;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        char label[300];
        dial_label(host, port, label, sizeof(label));
        if (last == ETIMEDOUT) {
            snprintf(err, errlen, "cannot connect to %s: timed out", label);
        } else {
            snprintf(err, errlen, "cannot connect to %s: %s", label, strerror(last));
        }
    }
    return fd;
}

int dial_tcp(const char *host, int port, double timeout, char *err, size_t errlen)
{
    return dial(host, port, SOCK_STREAM, timeout, err, errlen);
}

int dial_udp(const char *host, int port, char *err, size_t errlen)
{
    return dial(host, port, SOCK_DGRAM, 1.0, err, errlen);
}

int dial_send_all(int fd, const char *buf, size_t len, double deadline)
{
    while (len > 0) {
        ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
        if (w > 0) {
            buf += w;
            len -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            return -1;
        }
        int rc = dial_wait(fd, POLLOUT, deadline);
        if (rc <= 0) {
            errno = rc == 0 ? ETIMEDOUT : errno;
            return -1;
        }
    }
    return 0;
}
