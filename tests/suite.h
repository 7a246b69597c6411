/*
 * suite: the one main of every Check suite, and what its tests leave behind.
 *
 * Check runs each test in a process of its own, in a process group of its own, and kills that group
 * when the test is over: a server the test started dies with it. But a failed assertion ends the
 * test's process with _exit on the spot, so nothing the test meant to do afterwards runs, neither an
 * atexit hook nor a checked teardown: a temporary directory would stay in /tmp. So every temporary
 * directory (and every server, for CK_FORK=no, where a failed test returns to the runner with its
 * server still running, and every PostgreSQL database a test made) is noted in memory shared by all the suite's processes, and removed by the
 * next test that notes one, once the test that made it is over, and by suite_run at the end.
 */
#ifndef ARCADE_SUITE_H
#define ARCADE_SUITE_H

#include <check.h>
#include <stddef.h>
#include <sys/types.h>

/* Run every test of s with SIGPIPE ignored, then remove what the tests left. Returns main's exit
 * status: EXIT_SUCCESS when every test passed. */
int suite_run(Suite *s);

/* Make a new empty directory /tmp/arcade-<what>-XXXXXX, its path into dir (cap bytes), to be removed
 * with everything in it once the test is over, passed or failed. Returns 0 or -1. */
int suite_mkdtemp(char *dir, size_t cap, const char *what);
/* Remove such a directory now, with everything in it. */
void suite_rmtree(const char *dir);

/* A database (a PostgreSQL URI) to be dropped with drop once the test is over, passed or failed.
 * drop is called from whichever of the suite's processes finds the test over: they are all forks of
 * this program, so the function is at the same address in each. Returns 0 or -1. */
int suite_note_db(const char *uri, int (*drop)(const char *uri));
/* Forget it: the test dropped it itself. */
void suite_forget_db(const char *uri);

/* A child process of this one (a server) to be killed if it still runs when the suite ends; forget
 * it once it has been waited for. */
void suite_child(pid_t pid);
void suite_forget_child(pid_t pid);

#endif
