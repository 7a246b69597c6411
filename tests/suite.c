/*
 * suite: what the tests of a suite leave behind, noted where every process of the suite sees it.
 */
#include "suite.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define SUITE_SLOTS 64
#define SUITE_PATH_MAX 128
#define SUITE_URI_MAX 256

/* One thing to remove once the test that noted it is over: a directory, a child process or a
 * database. */
struct leftover {
    pid_t owner;                /* the test's process; 0: a free slot */
    pid_t child;                /* a process to kill, or 0 */
    char dir[SUITE_PATH_MAX];   /* a directory to remove, or "" */
    char db[SUITE_URI_MAX];     /* a database to drop with drop, or "" */
    int (*drop)(const char *uri);
};

/* SUITE_SLOTS of them, shared with every process forked while suite_run runs (NULL outside it).
 * Check runs one test at a time, so no two processes write here at once. */
static struct leftover *left;

/* Check reaps a test's process before it starts the next test. */
static int over(const struct leftover *l)
{
    return l->owner != getpid() && kill(l->owner, 0) < 0 && errno == ESRCH;
}

/* Only a child of this process, still running, at the end of the suite: any other was killed with
 * its test's process group, and its pid may belong to another process by now, even one of ours. */
static void end_child(pid_t pid)
{
    if (waitpid(pid, NULL, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

/* Processes first, so nothing writes into a directory or a database while it goes. */
static void sweep(int all)
{
    for (int i = 0; i < SUITE_SLOTS; i++) {
        if (left[i].owner != 0 && left[i].child != 0 && (all || over(&left[i]))) {
            if (all) {
                end_child(left[i].child);
            }
            memset(&left[i], 0, sizeof(left[i]));
        }
    }
    for (int i = 0; i < SUITE_SLOTS; i++) {
        if (left[i].owner != 0 && left[i].dir[0] != '\0' && (all || over(&left[i]))) {
            nftw(left[i].dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
            memset(&left[i], 0, sizeof(left[i]));
        }
    }
    for (int i = 0; i < SUITE_SLOTS; i++) {
        if (left[i].owner != 0 && left[i].db[0] != '\0' && (all || over(&left[i]))) {
            left[i].drop(left[i].db);
            memset(&left[i], 0, sizeof(left[i]));
        }
    }
}

/* A free slot for this process, after what earlier tests left is gone; NULL when none is free. */
static struct leftover *note(void)
{
    sweep(0);
    for (int i = 0; i < SUITE_SLOTS; i++) {
        if (left[i].owner == 0) {
            left[i].owner = getpid();
            return &left[i];
        }
    }
    return NULL;
}

int suite_mkdtemp(char *dir, size_t cap, const char *what)
{
    int n = snprintf(dir, cap, "/tmp/arcade-%s-XXXXXX", what);
    if (n < 0 || (size_t)n >= cap || n >= SUITE_PATH_MAX) {
        return -1;
    }
    struct leftover *l = NULL;
    if (left != NULL && (l = note()) == NULL) {
        fprintf(stderr, "suite: more than %d temporary directories at once\n", SUITE_SLOTS);
        return -1;
    }
    if (mkdtemp(dir) == NULL) {
        if (l != NULL) {
            memset(l, 0, sizeof(*l));
        }
        return -1;
    }
    if (l != NULL) {
        memcpy(l->dir, dir, (size_t)n + 1);
    }
    return 0;
}

void suite_rmtree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (int i = 0; left != NULL && i < SUITE_SLOTS; i++) {
        if (left[i].owner != 0 && strcmp(left[i].dir, dir) == 0) {
            memset(&left[i], 0, sizeof(left[i]));
        }
    }
}

int suite_note_db(const char *uri, int (*drop)(const char *uri))
{
    if (left == NULL) {
        return 0;
    }
    size_t n = strlen(uri);
    struct leftover *l = n < SUITE_URI_MAX ? note() : NULL;
    if (l == NULL) {
        fprintf(stderr, "suite: cannot note the database: %s\n", n < SUITE_URI_MAX ? "no free slot" : "URI too long");
        return -1;
    }
    memcpy(l->db, uri, n + 1);
    l->drop = drop;
    return 0;
}

void suite_forget_db(const char *uri)
{
    for (int i = 0; left != NULL && i < SUITE_SLOTS; i++) {
        if (left[i].owner != 0 && strcmp(left[i].db, uri) == 0) {
            memset(&left[i], 0, sizeof(left[i]));
        }
    }
}

void suite_child(pid_t pid)
{
    struct leftover *l = left != NULL ? note() : NULL;
    if (l != NULL) {
        l->child = pid;
    }
}

void suite_forget_child(pid_t pid)
{
    for (int i = 0; left != NULL && i < SUITE_SLOTS; i++) {
        if (left[i].owner == getpid() && left[i].child == pid) {
            memset(&left[i], 0, sizeof(left[i]));
        }
    }
}

int suite_run(Suite *s)
{
    left = mmap(NULL, SUITE_SLOTS * sizeof(*left), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (left == MAP_FAILED) {
        perror("suite: mmap");
        return EXIT_FAILURE;
    }
    signal(SIGPIPE, SIG_IGN);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    sweep(1);
    munmap(left, SUITE_SLOTS * sizeof(*left));
    left = NULL;
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
