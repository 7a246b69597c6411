/*
 * redistest: a redis-server of a test's own, on a unix socket in a directory of the test's, for the
 * suites that run arcaded with --bus. Noted with suite.h, so a test that fails before it stops it
 * leaves no process behind.
 */
#ifndef ARCADE_REDISTEST_H
#define ARCADE_REDISTEST_H

#include <stddef.h>
#include <sys/types.h>

/* Start redis-server (no persistence) on dir/redis.sock, its log in dir/redis.log, and wait until it
 * answers PING (at most 5 s). sock gets the socket's path, uri the --bus address (unix://...).
 * Returns its pid; fails the test when it does not answer. */
pid_t redistest_start(const char *dir, char *sock, size_t sockcap, char *uri, size_t uricap);
/* Does a redis-server answer PING on sock? */
int redistest_answers(const char *sock);
/* kill -9 of it (everything it held is gone with it), and its socket removed. */
void redistest_kill(pid_t pid, const char *sock);
/* SIGTERM (and SIGCONT, should it be stopped), wait. */
void redistest_stop(pid_t pid);

#endif
