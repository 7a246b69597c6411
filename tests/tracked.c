/*
 * tracked: a suite's current server, remembered across Check's forks.
 */
#include "tracked.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct harness srv;
char port_arg[16];

struct leftover {
    pid_t pid;
    pid_t drainer;
    char dir[64];
};
static struct leftover *leftover;

static void track(void)
{
    if (leftover != NULL) {
        leftover->pid = srv.pid;
        leftover->drainer = srv.drainer;
        snprintf(leftover->dir, sizeof(leftover->dir), "%s", srv.dir);
    }
}

void tracked_sweep(void)
{
    if (leftover == NULL) {
        return;
    }
    if (leftover->pid > 0) {
        kill(leftover->pid, SIGTERM);
    }
    if (leftover->dir[0] != '\0') {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", leftover->dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "could not remove %s\n", leftover->dir);
        }
    }
    memset(leftover, 0, sizeof(*leftover));
}

void stop_keep(void)
{
    ck_assert_int_eq(harness_stop(&srv), 0);
    track();
}

void restart(const char *a, const char *b)
{
    ck_assert_msg(harness_restart(&srv, a, b, NULL) == 0, "server did not restart: %s", srv.first);
    snprintf(port_arg, sizeof(port_arg), "%d", srv.port);
    track();
}

void start_server(const char *a, const char *b)
{
    tracked_sweep();
    ck_assert_msg(harness_start(&srv, a, b, NULL) == 0, "server did not start: %s", srv.first);
    snprintf(port_arg, sizeof(port_arg), "%d", srv.port);
    track();
}

void stop_server(void)
{
    harness_cleanup(&srv);
    track();
}

void tracked_init(void)
{
    leftover = mmap(NULL, sizeof(*leftover), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (leftover == MAP_FAILED) {
        leftover = NULL;
    }
}
