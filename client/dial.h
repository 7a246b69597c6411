/*
 * dial: reaching the server. Blocking helpers with deadlines for the
 * one-shot subcommands (ask, top, rank), and a non-blocking connect that
 * play.c drives from its event loop. Errors name host and port:
 * "cannot connect to 127.0.0.1:5999: Connection refused".
 */
#ifndef ARCADE_DIAL_H
#define ARCADE_DIAL_H

#include <stddef.h>
#include <sys/types.h>

struct addrinfo;

/* Monotonic clock, seconds. */
double dial_now(void);

/* "host:port", "[v6]:port" for addresses with a colon. */
void dial_label(const char *host, int port, char *out, size_t cap);

/* Addresses for host:port (SOCK_STREAM or SOCK_DGRAM); free with freeaddrinfo. NULL (err filled). */
struct addrinfo *dial_resolve(const char *host, int port, int socktype, char *err, size_t errlen);

/* A connected, non-blocking TCP socket within timeout seconds, or -1 (err filled). */
int dial_tcp(const char *host, int port, double timeout, char *err, size_t errlen);

/* A connected, non-blocking UDP socket, or -1 (err filled). */
int dial_udp(const char *host, int port, char *err, size_t errlen);

/* Begin a non-blocking TCP connect to one address: a socket, with *in_progress set when the
 * connect has not finished yet (wait for writable, then dial_finish), or -1 with errno set. */
int dial_start(const struct addrinfo *ai, int *in_progress);

/* The outcome of a connect that was in progress: 0, or -1 with errno set. */
int dial_finish(int fd);

/* Wait until fd is ready for events or the deadline (dial_now() time) passes: the revents, 0 on
 * timeout, -1 on error. */
int dial_wait(int fd, short events, double deadline);

/* Send all of buf before the deadline: 0, or -1 (errno set; ETIMEDOUT on the deadline). */
int dial_send_all(int fd, const char *buf, size_t len, double deadline);

#endif
