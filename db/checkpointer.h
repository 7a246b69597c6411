/* checkpointer: copies the WAL back into the database from a thread of its own.
 *
 * In WAL mode every commit appends pages to the WAL, and a checkpoint copies them into the database
 * file, syncing the WAL before and the database after. Run inside a commit, as SQLite does by
 * default, those syncs stall the loop for milliseconds. Here a thread with a connection of its own
 * runs a PASSIVE checkpoint every CHECKPOINTER_PERIOD seconds: it takes no write lock, so commits
 * go on beside it.
 *
 * A checkpoint beside a stream of commits never copies the last frames (more come while it runs),
 * and SQLite starts the WAL over only at a write that finds every frame copied. So once the WAL is
 * long, the store asks for a last pass (checkpointer_finish) and holds its commits until the pass is
 * done: it copies the few frames written since the previous pass, and the next write starts the WAL
 * from its beginning. Results wait that long; the loop goes on serving. An idle store costs the
 * thread nothing: it checkpoints only after commits (checkpointer_written).
 */
#ifndef ARCADE_CHECKPOINTER_H
#define ARCADE_CHECKPOINTER_H

#include <stddef.h>
#include <stdint.h>

#define CHECKPOINTER_PERIOD 0.02 /* seconds between the thread's checkpoints */
#define CHECKPOINTER_TRIES 8     /* checkpoints a last pass may take to copy every frame */

struct checkpointer;

/* What the thread has done, for metrics. */
struct checkpointer_counts {
    uint64_t passes;       /* checkpoints run */
    uint64_t finished;     /* last passes asked for and done */
    uint64_t failures;     /* checkpoints that failed (busy elsewhere is no failure) */
    double longest;        /* seconds of the longest last pass */
};

/* Open a second connection to the database file at path, in the same sync mode, and start the
 * thread. done(arg) is called from the thread after each last pass: it must be safe to call
 * from another thread (ev_async_send is). Returns NULL with the reason in err. */
struct checkpointer *checkpointer_start(const char *path, int sync_full, void (*done)(void *arg),
                                        void *arg, char *err, size_t errlen);
/* Stop the thread (after the checkpoint it is running, if any) and close its connection. NULL is
 * allowed. */
void checkpointer_stop(struct checkpointer *c);
/* Ask for a last pass now. Until it is done, checkpointer_finishing says 1. After it, the thread
 * runs no checkpoint until checkpointer_resume: the store calls it after its next write, the one
 * that starts the WAL over. */
void checkpointer_finish(struct checkpointer *c);
int checkpointer_finishing(struct checkpointer *c);
void checkpointer_resume(struct checkpointer *c);
/* The store committed: the thread's next checkpoint has something to copy. */
void checkpointer_written(struct checkpointer *c);
/* A copy of the counts; the last failure's message into err (empty when none). */
void checkpointer_counts(struct checkpointer *c, struct checkpointer_counts *n, char *err,
                         size_t errlen);

#endif
