/* checkpointer: see checkpointer.h. The thread sleeps on a condition variable between passes; a
 * request for a last pass wakes it at once, and the pass it then starts is known to begin after
 * the store's last commit, so it copies every frame. */
#include "checkpointer.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct checkpointer {
    sqlite3 *db;                    /* the thread's own connection */
    pthread_t thread;
    void (*done)(void *arg);
    void *arg;
    pthread_mutex_t mu;             /* guards everything below */
    pthread_cond_t cv;              /* stop or finish was set */
    int stop;
    int finish;                     /* a last pass is asked for and not done */
    int held;                       /* a last pass is done, and the store has not committed since */
    int written;                    /* the store committed since the last checkpoint began */
    struct checkpointer_counts n;
    char error[256];
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* With mu held: sleep one period, or less when woken. After a last pass, sleep until the store has
 * committed: a checkpoint running at that commit could keep it from starting the WAL over (it
 * needs every reader's mark), and the chance would not come back until the next last pass. */
static void nap(struct checkpointer *c)
{
    struct timespec at;

    clock_gettime(CLOCK_MONOTONIC, &at);
    at.tv_nsec += (long)(CHECKPOINTER_PERIOD * 1e9);
    at.tv_sec += at.tv_nsec / 1000000000L;
    at.tv_nsec %= 1000000000L;
    int timed_out = 0;

    while (!c->stop && !c->finish) {
        if (c->held || (timed_out && !c->written)) {
            pthread_cond_wait(&c->cv, &c->mu);
        } else if (timed_out || pthread_cond_timedwait(&c->cv, &c->mu, &at) == ETIMEDOUT) {
            timed_out = 1;
            if (c->written) {
                break;
            }
        }
    }
    c->written = 0;
}

/* One PASSIVE checkpoint: it never takes the write lock, so writes outside the store's held
 * commits (a new player's hello, the store's own sweep) go on beside it. A last one goes on until
 * every frame is copied, CHECKPOINTER_TRIES passes at most: such a write may have added frames. */
static int pass(struct checkpointer *c, int last)
{
    int rc, log = 0, copied = 0;

    for (int i = 0; i < (last ? CHECKPOINTER_TRIES : 1); i++) {
        rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
        if (rc != SQLITE_OK || copied == log) {
            break;
        }
    }
    return rc;
}

static void *run(void *arg)
{
    struct checkpointer *c = arg;

    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        nap(c);
        if (c->stop) {
            break;
        }
        int last = c->finish;
        pthread_mutex_unlock(&c->mu);
        double start = now_s();
        int rc = pass(c, last);
        double took = now_s() - start;
        pthread_mutex_lock(&c->mu);
        c->n.passes++;
        /* Busy: another process is checkpointing, which does the same work. */
        if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY) {
            c->n.failures++;
            snprintf(c->error, sizeof(c->error), "checkpoint: %s", sqlite3_errmsg(c->db));
        }
        if (last) {
            c->finish = 0;
            c->held = 1;
            c->n.finished++;
            if (took > c->n.longest) {
                c->n.longest = took;
            }
            pthread_mutex_unlock(&c->mu);
            c->done(c->arg);
            pthread_mutex_lock(&c->mu);
        }
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

struct checkpointer *checkpointer_start(const char *path, int sync_full, void (*done)(void *arg),
                                        void *arg, char *err, size_t errlen)
{
    struct checkpointer *c = calloc(1, sizeof(*c));
    pthread_condattr_t attr;

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->done = done;
    c->arg = arg;
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
        sqlite3_exec(c->db, sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                     NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "checkpointer: open %s: %s", path, sqlite3_errmsg(c->db));
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &attr);
    pthread_condattr_destroy(&attr);
    int rc = pthread_create(&c->thread, NULL, run, c);
    if (rc != 0) {
        snprintf(err, errlen, "checkpointer: thread: %s", strerror(rc));
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    return c;
}

void checkpointer_stop(struct checkpointer *c)
{
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    sqlite3_close(c->db);
    free(c);
}

void checkpointer_finish(struct checkpointer *c)
{
    pthread_mutex_lock(&c->mu);
    c->finish = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

void checkpointer_written(struct checkpointer *c)
{
    pthread_mutex_lock(&c->mu);
    if (!c->written) {
        c->written = 1;
        pthread_cond_signal(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
}

void checkpointer_resume(struct checkpointer *c)
{
    pthread_mutex_lock(&c->mu);
    c->held = 0;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

int checkpointer_finishing(struct checkpointer *c)
{
    pthread_mutex_lock(&c->mu);
    int finishing = c->finish;
    pthread_mutex_unlock(&c->mu);
    return finishing;
}

void checkpointer_counts(struct checkpointer *c, struct checkpointer_counts *n, char *err,
                         size_t errlen)
{
    pthread_mutex_lock(&c->mu);
    *n = c->n;
    snprintf(err, errlen, "%s", c->error);
    pthread_mutex_unlock(&c->mu);
}
