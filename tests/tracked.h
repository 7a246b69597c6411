/*
 * tracked: the one server of a test suite's current test, remembered in memory
 * shared with Check's forked test processes. Check ends a failed test with
 * _exit, which would leave its server running: the next start_server, and
 * tracked_sweep at the end of main, stop whatever a failed test left behind.
 */
#ifndef ARCADE_TRACKED_H
#define ARCADE_TRACKED_H

#include "harness.h"

extern struct harness srv;  /* the current test's server */
extern char port_arg[16];   /* its port, as a command-line argument */

/* Set up the shared record; call in main before running the suite. */
void tracked_init(void);
/* Stop what a failed test left running; call in main after the suite. */
void tracked_sweep(void);

/* Start the server with up to two extra arguments (NULL for none); asserts it started. */
void start_server(const char *a, const char *b);
/* Stop it and remove its directory. */
void stop_server(void);
/* Stop it (asserting exit status 0), keeping the database for a restart. */
void stop_keep(void);
/* Start it again on the same database. */
void restart(const char *a, const char *b);

#endif
