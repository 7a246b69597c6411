/* bench_rank: the store with a million players, and a rated round there against one with a hundred.
 *
 * Build and run: make bench-rank, or build/rel/bench_rank [players [queries]] (defaults:
 * 1000000 2000). The databases live in a fresh directory under /tmp, removed at the end.
 * build/rel/bench_rank --fill PATH PLAYERS only creates and fills a database at PATH (make bench
 * starts arcaded on one of a million players).
 *
 * Two databases in one run, so that their figures compare: one of SMALL players, then one of
 * players. Each is created by store_open and filled straight through SQLite in large transactions
 * (the store has no bulk path, and a million rounds through store_pvp_round would take far longer
 * and give a narrow spread), one guest for every ten players. Ratings are roughly normal around
 * 1200 with a spread of 250 (a sum of twelve uniforms), and rated_at is a random permutation, as
 * after a long history of rounds. Then, through the store API:
 * - store_open, timed, with the process's resident memory before and after: it reads every rated
 *   player into memory. Then the checkpointer's thread is started (store_background), as the
 *   server does: checkpoints run beside the batches, and while a last pass runs the bench writes
 *   nothing, as the server holds its commits (that wait is counted apart: the server's loop goes
 *   on serving meanwhile). The thread's CPU over the batches and the sweep is reported per round.
 * - For the large one only: the query plans, a few ranks checked against a count over the whole
 *   table, store_rank (k = 5) for random players and store_top(10).
 * - PVP_BATCHES batches of PVP_PER_BATCH store_pvp_round between random pairs, each timed from
 *   store_begin to store_commit, with store_top(10) timed after each (the top is read again).
 * - The write-back: store_sweep(SWEEP_WRITES), the server's step, until the snapshot holds every
 *   round, each call timed; then a passive checkpoint, timed, and ranks of players who played
 *   checked against a count over the table the sweep wrote.
 * - A rated round's cost, batch and sweep, in both databases and their ratio.
 * Bytes read and written are the process's read and write system calls (/proc/self/io): what
 * SQLite asked of its files, whether the kernel's cache answered or the disk.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#define SMALL 100          /* players of the database the large one is set against */
#define FILL_TXN 100000    /* players per fill transaction */
#define PVP_BATCHES 200
#define PVP_PER_BATCH 50
#define PLAYED (2 * PVP_BATCHES * PVP_PER_BATCH) /* sides of all the rounds */
#define SWEEP_WRITES STORE_SWEEP_WRITES /* rows a sweep step writes at most, as the server's */
#define CHECKS 10          /* ranks checked against a full count */
#define MIB (1024.0 * 1024.0)

/* What the rated rounds of one database cost, in microseconds. */
struct cost {
    long rounds;
    double batches;    /* every batch, store_begin to store_commit */
    double sweep;      /* every store_sweep call until the snapshot holds every round */
    double checkpoint; /* the passive checkpoint after the sweep */
    double waited;     /* waits for the checkpointer's last passes (not the loop's time) */
    double checkpointer; /* CPU of the checkpointer's thread over the batches and the sweep */
};

/* The process's read and write system calls so far, in bytes. */
struct io {
    long long read, written;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

/* xorshift64*: fast, reproducible, good enough to spread ratings. */
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

static double uniform(void)
{
    return (double)(rng() >> 11) / 9007199254740992.0;
}

/* Sum of twelve uniforms minus six: mean 0, variance 1, within +-6. */
static double normalish(void)
{
    double s = 0;

    for (int i = 0; i < 12; i++) {
        s += uniform();
    }
    return s - 6.0;
}

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void name_of(char *buf, size_t cap, long i)
{
    snprintf(buf, cap, "p%07ld", i);
}

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, msg ? msg : "failed");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* One player row; name NULL for a guest. */
static int insert_player(sqlite3_stmt *ins, const char *name, long rated_at)
{
    static const char letters[] = "WLD";
    char form[STORE_FORM_MAX + 1];
    int rated = 1 + (int)(rng() % 400);
    int wins = (int)(rng() % (rated + 1));
    int losses = (int)(rng() % (rated - wins + 1));
    int bot = (int)(rng() % 50);

    for (int i = 0; i < STORE_FORM_MAX; i++) {
        form[i] = letters[rng() % 3];
    }
    form[rated < STORE_FORM_MAX ? rated : STORE_FORM_MAX] = '\0';
    if (name != NULL) {
        sqlite3_bind_text(ins, 1, name, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(ins, 1);
    }
    sqlite3_bind_int(ins, 2, wins);
    sqlite3_bind_int(ins, 3, losses);
    sqlite3_bind_int(ins, 4, rated - wins - losses);
    sqlite3_bind_int(ins, 5, rated + bot);
    sqlite3_bind_double(ins, 6, 1200.0 + 250.0 * normalish());
    sqlite3_bind_int(ins, 7, rated);
    sqlite3_bind_int64(ins, 8, rated_at);
    sqlite3_bind_text(ins, 9, form, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(ins) != SQLITE_DONE) {
        return -1;
    }
    sqlite3_reset(ins);
    return 0;
}

/* A random permutation of 1..n, for rated_at. */
static long *permutation(long n)
{
    long *p = malloc(sizeof(*p) * (size_t)n);

    if (p == NULL) {
        return NULL;
    }
    for (long i = 0; i < n; i++) {
        p[i] = i + 1;
    }
    for (long i = n - 1; i > 0; i--) {
        long j = (long)(rng() % (uint64_t)(i + 1));
        long t = p[i];

        p[i] = p[j];
        p[j] = t;
    }
    return p;
}

static int fill(sqlite3 *db, long players)
{
    const char *sql = "INSERT INTO players(name, wins, losses, draws, rounds, rating, rated,"
                      " rated_at, form, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0)";
    sqlite3_stmt *ins = NULL;
    long *at = permutation(players);
    char name[24];
    int rc = -1;

    if (at == NULL || sqlite3_prepare_v2(db, sql, -1, &ins, NULL) != SQLITE_OK) {
        goto out;
    }
    for (long i = 0; i < players; i++) {
        if (i % FILL_TXN == 0 && exec(db, i == 0 ? "BEGIN" : "COMMIT; BEGIN") != 0) {
            goto out;
        }
        name_of(name, sizeof(name), i);
        if (insert_player(ins, name, at[i]) != 0 ||
            (i % 10 == 0 && insert_player(ins, NULL, 0) != 0)) {
            fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
            goto out;
        }
    }
    rc = exec(db, "COMMIT");
out:
    sqlite3_finalize(ins);
    free(at);
    return rc;
}

/* The rank by the definition, counting over the whole table. */
static long slow_rank(sqlite3 *db, const char *name)
{
    const char *sql =
        "SELECT count(*) + 1 FROM players p, players me WHERE me.name = ?1"
        " AND p.name IS NOT NULL AND p.rated > 0 AND (p.rating > me.rating"
        " OR (p.rating = me.rating AND (p.rated_at < me.rated_at"
        " OR (p.rated_at = me.rated_at AND p.id < me.id))))";
    sqlite3_stmt *s = NULL;
    long rank = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
        rank = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    }
    sqlite3_finalize(s);
    return rank;
}

/* The number after "key:" on its line of a /proc file, or -1. */
static long long proc_value(const char *file, const char *key)
{
    size_t len = strlen(key);
    long long v = -1;
    char line[256];
    FILE *f = fopen(file, "r");

    if (f == NULL) {
        return -1;
    }
    while (v < 0 && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, key, len) == 0 && line[len] == ':') {
            v = strtoll(line + len + 1, NULL, 10);
        }
    }
    fclose(f);
    return v;
}

/* Resident memory, in MiB (the kernel counts kB). */
static double rss_mib(void)
{
    return proc_value("/proc/self/status", "VmRSS") / 1024.0;
}

/* One read of /proc/self/io: reading it counts too, about a hundred bytes. */
static void io_now(struct io *io)
{
    char line[256];
    FILE *f = fopen("/proc/self/io", "r");

    io->read = io->written = 0;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "rchar:", 6) == 0) {
            io->read = strtoll(line + 6, NULL, 10);
        } else if (strncmp(line, "wchar:", 6) == 0) {
            io->written = strtoll(line + 6, NULL, 10);
        }
    }
    if (f != NULL) {
        fclose(f);
    }
}

/* What was read and written since before, added to sum. */
static void io_add(struct io *sum, const struct io *before)
{
    struct io now;

    io_now(&now);
    sum->read += now.read - before->read;
    sum->written += now.written - before->written;
}

static void print_io(const struct io *io)
{
    printf("files read %.1f MiB, written %.1f MiB", io->read / MIB, io->written / MIB);
}

/* A single integer from a query on the bench's own connection, or -1. */
static int64_t query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t v = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
        v = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return v;
}

/* Ranks of CHECKS players against slow_rank: players drawn from all of them when from is NULL,
 * else from the nfrom indexes in from. */
static int check_ranks(struct store *st, sqlite3 *db, long players, const long *from, long nfrom,
                       const char *who)
{
    struct board_row rows[2 * 5 + 1];
    char name[24], err[256];
    int self;

    for (int i = 0; i < CHECKS; i++) {
        long want, got;
        long index = from == NULL ? (long)(rng() % (uint64_t)players)
                                  : from[rng() % (uint64_t)nfrom];

        name_of(name, sizeof(name), index);
        want = slow_rank(db, name);
        if (store_rank(st, name, 5, rows, &self, err, sizeof(err)) <= 0) {
            fprintf(stderr, "rank %s: %s\n", name, err);
            return -1;
        }
        got = (long)rows[self].rank;
        if (got != want) {
            fprintf(stderr, "rank of %s: store says %ld, count says %ld\n", name, got, want);
            return -1;
        }
    }
    printf("ranks of %d %s agree with a full count\n", CHECKS, who);
    return 0;
}

static void report(const char *what, double *us, int n)
{
    double sum = 0;

    qsort(us, (size_t)n, sizeof(*us), cmp_double);
    for (int i = 0; i < n; i++) {
        sum += us[i];
    }
    printf("%-28s n=%d p50 %.1f us, mean %.1f us, p99 %.1f us, max %.1f us\n", what, n, us[n / 2],
           sum / n, us[(int)(n * 0.99)], us[n - 1]);
}

static int time_rank(struct store *st, long players, int queries)
{
    struct board_row rows[2 * 5 + 1];
    double *us = malloc(sizeof(*us) * (size_t)queries);
    char name[24], err[256];
    int self;

    if (us == NULL) {
        return -1;
    }
    for (int i = 0; i < queries; i++) {
        double t0;

        name_of(name, sizeof(name), (long)(rng() % (uint64_t)players));
        t0 = now_us();
        if (store_rank(st, name, 5, rows, &self, err, sizeof(err)) <= 0) {
            fprintf(stderr, "rank %s: %s\n", name, err);
            free(us);
            return -1;
        }
        us[i] = now_us() - t0;
    }
    report("store_rank(k=5)", us, queries);
    free(us);
    return 0;
}

/* store_top(10) into rows; its time in *us. */
static int top_once(struct store *st, struct board_row *rows, double *us)
{
    char err[256];
    double t0 = now_us();

    if (store_top(st, 10, rows, err, sizeof(err)) != 10) {
        fprintf(stderr, "top: %s\n", err);
        return -1;
    }
    *us = now_us() - t0;
    return 0;
}

/* The top is read once until it changes: these are copies but for the first. */
static int time_top(struct store *st)
{
    struct board_row rows[10];
    double us[1000];

    for (int i = 0; i < 1000; i++) {
        if (top_once(st, rows, &us[i]) != 0) {
            return -1;
        }
    }
    report("store_top(10)", us, 1000);
    printf("top 3: %s %.1f, %s %.1f, %s %.1f\n", rows[0].name, rows[0].rating, rows[1].name,
           rows[1].rating, rows[2].name, rows[2].rating);
    return 0;
}

/* PVP_PER_BATCH pairs of different random players: their indexes into pair, their ids into ids
 * (store_player, a lookup by name, outside the batch's time). */
static int pick_pairs(struct store *st, long players, long *pair, int64_t *ids, char *err,
                      size_t errlen)
{
    char name[24];

    for (int j = 0; j < 2 * PVP_PER_BATCH; j++) {
        pair[j] = (long)(rng() % (uint64_t)players);
        while (j % 2 == 1 && pair[j] == pair[j - 1]) {
            pair[j] = (long)(rng() % (uint64_t)players);
        }
        name_of(name, sizeof(name), pair[j]);
        if ((ids[j] = store_player(st, name, err, errlen)) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The checkpointer's thread says its last pass is done: the store_paused poll below sees it. */
static void checkpointed(void *arg)
{
    (void)arg;
}

/* As the server does while the checkpointer's last pass runs: no write until it is done. The wait
 * is not the loop's time (the server serves meanwhile): counted apart, in *waited. */
static void wait_unpaused(struct store *st, double *waited)
{
    const struct timespec tick = { 0, 50000 };
    double t0 = now_us();

    while (store_paused(st)) {
        nanosleep(&tick, NULL);
    }
    *waited += now_us() - t0;
}

/* CPU time in microseconds: the process's, every thread's (PROCESS), or this thread's (THREAD). */
static double cpu_us(clockid_t which)
{
    struct timespec ts;

    clock_gettime(which, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* One batch of rated rounds between the pairs in ids, store_begin to store_commit. */
static int pvp_batch(struct store *st, const int64_t *ids, char *err, size_t errlen)
{
    static const char outcomes[] = "WLD";

    if (store_begin(st, err, errlen) != 0) {
        return -1;
    }
    for (int j = 0; j < PVP_PER_BATCH; j++) {
        if (store_pvp_round(st, ids[2 * j], ids[2 * j + 1], 2, 1, outcomes[rng() % 3], 0, NULL,
                            NULL, err, errlen) != 0) {
            store_rollback(st);
            return -1;
        }
    }
    return store_commit(st, err, errlen);
}

/* PVP_BATCHES batches, each timed; the players' indexes into played (room for PLAYED). After each
 * batch the top is stale, and store_top(10) reads it again. */
static int time_pvp(struct store *st, long players, long *played, struct cost *c)
{
    static double us[PVP_BATCHES], top_us[PVP_BATCHES];
    struct board_row rows[10];
    int64_t ids[2 * PVP_PER_BATCH];
    char err[256];
    struct io io = {0}, before;

    for (int i = 0; i < PVP_BATCHES; i++) {
        double t0;

        if (pick_pairs(st, players, played + 2 * PVP_PER_BATCH * i, ids, err, sizeof(err)) != 0) {
            fprintf(stderr, "player: %s\n", err);
            return -1;
        }
        wait_unpaused(st, &c->waited);
        io_now(&before);
        t0 = now_us();
        if (pvp_batch(st, ids, err, sizeof(err)) != 0) {
            fprintf(stderr, "pvp: %s\n", err);
            return -1;
        }
        us[i] = now_us() - t0;
        io_add(&io, &before);
        c->batches += us[i];
        if (top_once(st, rows, &top_us[i]) != 0) {
            return -1;
        }
    }
    c->rounds = (long)PVP_BATCHES * PVP_PER_BATCH;
    report("batch of 50 rated rounds", us, PVP_BATCHES);
    printf("  %.2f us a round; ", c->batches / c->rounds);
    print_io(&io);
    printf("\n");
    report("store_top(10) after a batch", top_us, PVP_BATCHES);
    return 0;
}

/* store_sweep as the server steps it, until the snapshot holds every round, each call timed. Two
 * passes over the roster: the first writes the changed rows, the second only moves the snapshot
 * at its end, to the last round before the first pass ended. The calls that write no row (but
 * for the snapshot's) only look at entries: their time counts in the total, the distribution is
 * of the calls that wrote rows. */
static int time_sweep(struct store *st, sqlite3 *db, struct cost *c)
{
    int64_t last = query_int(db, "SELECT coalesce(max(id), 0) FROM rounds");
    int64_t entries = query_int(db, "SELECT count(*) FROM players WHERE rated > 0");
    /* A call stops after STORE_SWEEP_VISITS entries or SWEEP_WRITES writes: two passes take no
     * more than this. */
    long limit = 2 * (long)(entries / STORE_SWEEP_VISITS + entries / SWEEP_WRITES + 2);
    double *us = malloc(sizeof(*us) * (size_t)(limit > 0 ? limit : 1));
    long calls = 0, writing = 0, rows = 0;
    char err[256];
    struct io io = {0}, before;
    int rc = -1;

    if (last < 0 || entries < 0 || us == NULL) {
        fprintf(stderr, "sweep: cannot count rounds and players\n");
        goto out;
    }
    io_now(&before);
    while (store_snapshot(st) < last) {
        double t0;
        int n;

        wait_unpaused(st, &c->waited);
        t0 = now_us();
        if (calls == limit) {
            fprintf(stderr, "sweep: snapshot at round %" PRId64 " of %" PRId64 " after %ld calls\n",
                    store_snapshot(st), last, calls);
            goto out;
        }
        if ((n = store_sweep(st, SWEEP_WRITES, err, sizeof(err))) < 0) {
            fprintf(stderr, "sweep: %s\n", err);
            goto out;
        }
        us[writing] = now_us() - t0;
        c->sweep += us[writing];
        calls++;
        writing += n > 0;
        rows += n;
    }
    io_add(&io, &before);
    printf("sweep(%d) over %" PRId64 " rated players: %ld calls, %ld rows written, %.1f ms,"
           " %.2f us a round; ", SWEEP_WRITES, entries, calls, rows, c->sweep / 1e3,
           c->sweep / c->rounds);
    print_io(&io);
    printf("\n");
    if (writing > 0) {
        report("store_sweep call that wrote", us, (int)writing);
    }
    rc = 0;
out:
    free(us);
    return rc;
}

static int time_checkpoint(struct store *st, struct cost *c)
{
    const struct timespec ms = { 0, 1000000 };
    char err[256];
    struct io io = {0}, before;
    double t0;
    int rc, tries = 0;

    io_now(&before);
    t0 = now_us();
    /* Busy while the checkpointer's own checkpoint runs: again a millisecond later. */
    while ((rc = store_checkpoint(st, 0, err, sizeof(err))) != 0 && store_busy(st) && ++tries < 1000) {
        nanosleep(&ms, NULL);
    }
    if (rc != 0) {
        fprintf(stderr, "checkpoint: %s\n", err);
        return -1;
    }
    c->checkpoint = now_us() - t0;
    io_add(&io, &before);
    printf("checkpoint (passive) after the sweep: %.1f ms; ", c->checkpoint / 1e3);
    print_io(&io);
    printf("\n");
    return 0;
}

static int sync_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = fd >= 0 ? fsync(fd) : -1;

    if (rc != 0) {
        perror(path);
    }
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}

/* A fresh database at path: its schema by store_open, its players by fill, on a connection of
 * the bench's own (*db) kept open for the checks. */
static int create(const char *path, long players, sqlite3 **db)
{
    char err[256];
    struct store *st = store_open(path, 0, err, sizeof(err));
    double t0;

    if (st == NULL) {
        fprintf(stderr, "store_open: %s\n", err);
        return -1;
    }
    store_close(st);
    t0 = now_us();
    /* The fill's pages go into the database and onto the disk before the store opens: the WAL
     * the rounds find is empty, as the server's once-a-second checkpoint keeps it, and the first
     * checkpoint after the rounds does not flush the whole fill (written without a sync). */
    if (sqlite3_open(path, db) != SQLITE_OK || exec(*db, "PRAGMA synchronous = OFF") != 0 ||
        fill(*db, players) != 0 || exec(*db, "PRAGMA wal_checkpoint(TRUNCATE)") != 0 ||
        sync_file(path) != 0) {
        return -1;
    }
    printf("filled %ld players and %ld guests in %.1f s\n", players, (players + 9) / 10,
           (now_us() - t0) / 1e6);
    return 0;
}

/* store_open, timed, with the memory it takes: every rated player is read into the roster (and
 * the named ones onto the ladder). */
static struct store *open_timed(const char *path)
{
    double rss = rss_mib(), t0 = now_us();
    char err[256];
    struct store *st = store_open(path, 0, err, sizeof(err));

    if (st == NULL) {
        fprintf(stderr, "store_open: %s\n", err);
        return NULL;
    }
    printf("store_open: %.1f ms; VmRSS %.1f MiB before, %.1f MiB after\n",
           (now_us() - t0) / 1e3, rss, rss_mib());
    /* Checkpoints in a thread, as the server runs them. */
    if (store_background(st, checkpointed, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "checkpointer: %s\n", err);
        store_close(st);
        return NULL;
    }
    return st;
}

/* What only the large database shows: plans, ranks, top. */
static int leaderboard(struct store *st, sqlite3 *db, long players, int queries)
{
    static char plan[8192];
    char err[256];

    if (store_plan(st, plan, sizeof(plan), err, sizeof(err)) != 0) {
        fprintf(stderr, "plan: %s\n", err);
        return -1;
    }
    printf("query plans:\n%s", plan);
    if (check_ranks(st, db, players, NULL, 0, "random players") != 0 ||
        time_rank(st, players, queries) != 0 || time_top(st) != 0) {
        return -1;
    }
    return 0;
}

static void remove_db(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    char file[256];

    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
        unlink(file);
    }
}

/* One database of players under dir, benched, then removed; large: the leaderboard's queries too. */
static int bench_db(const char *dir, long players, int queries, int large, struct cost *c)
{
    static long played[PLAYED];
    char path[256];
    sqlite3 *db = NULL;
    struct store *st = NULL;
    int rc = -1;

    snprintf(path, sizeof(path), "%s/bench-%ld.db", dir, players);
    printf("\n== %ld players: %s\n", players, path);
    if (create(path, players, &db) != 0 || (st = open_timed(path)) == NULL) {
        goto out;
    }
    if (large && leaderboard(st, db, players, queries) != 0) {
        goto out;
    }
    /* The checkpointer's CPU: the process's less this thread's. */
    c->checkpointer = cpu_us(CLOCK_THREAD_CPUTIME_ID) - cpu_us(CLOCK_PROCESS_CPUTIME_ID);
    if (time_pvp(st, players, played, c) == 0 && time_sweep(st, db, c) == 0 &&
        (c->checkpointer += cpu_us(CLOCK_PROCESS_CPUTIME_ID) - cpu_us(CLOCK_THREAD_CPUTIME_ID)) >= 0 &&
        time_checkpoint(st, c) == 0 &&
        check_ranks(st, db, players, played, PLAYED, "players who played, from the swept rows,") == 0) {
        rc = 0;
    }
out:
    if (rc != 0 && db != NULL) {
        fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
    }
    store_close(st);
    sqlite3_close(db);
    remove_db(path);
    return rc;
}

/* A rated round's cost in both databases: what the bound (1.5) is about. */
static void compare(const struct cost *small, const struct cost *large, long players)
{
    const struct cost *c[2] = {small, large};
    double round[2], with_checkpoint[2];

    printf("\na rated round (us):     batch  + sweep  = total  (+ checkpoint)\n");
    for (int i = 0; i < 2; i++) {
        double batch = c[i]->batches / c[i]->rounds, sweep = c[i]->sweep / c[i]->rounds;

        round[i] = batch + sweep;
        with_checkpoint[i] = round[i] + c[i]->checkpoint / c[i]->rounds;
        printf("  %8ld players    %6.2f + %6.2f = %6.2f (%6.2f)\n", i == 0 ? (long)SMALL : players,
               batch, sweep, round[i], with_checkpoint[i]);
    }
    printf("%ld players against %d, batch + sweep: %.2fx (with the checkpoint %.2fx)\n", players,
           SMALL, round[1] / round[0], with_checkpoint[1] / with_checkpoint[0]);
    printf("the checkpointer's thread meanwhile: %.2f and %.2f us of CPU a round; commits waited for"
           " its last passes %.1f and %.1f ms in all\n",
           small->checkpointer / small->rounds, large->checkpointer / large->rounds,
           small->waited / 1e3, large->waited / 1e3);
}

/* bench_rank --fill PATH PLAYERS: only create and fill a database at PATH, for make bench to start
 * arcaded on. */
static int fill_only(const char *path, long players)
{
    sqlite3 *db = NULL;
    int rc = create(path, players, &db);

    sqlite3_close(db);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--fill") == 0) {
        return fill_only(argv[2], atol(argv[3]));
    }
    long players = argc > 1 ? atol(argv[1]) : 1000000;
    int queries = argc > 2 ? atoi(argv[2]) : 2000;
    char dir[] = "/tmp/arcade-bench-XXXXXX";
    struct cost small = {0}, large = {0};
    int rc;

    if (players < 10 || queries < 1) {
        fprintf(stderr, "usage: bench_rank [players >= 10 [queries >= 1]]\n");
        return 2;
    }
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    printf("databases in %s, SQLite %s\n", dir, sqlite3_libversion());
    rc = bench_db(dir, SMALL, queries, 0, &small);
    if (rc == 0) {
        rc = bench_db(dir, players, queries, 1, &large);
    }
    if (rc == 0) {
        compare(&small, &large, players);
    }
    rmdir(dir);
    return rc == 0 ? 0 : 1;
}
