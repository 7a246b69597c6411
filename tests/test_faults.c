/* Faults, end to end: the real arcaded with its database locked, its disk full, its database
 * unopenable, killed with SIGKILL again and again, and stopped with a thousand players on it. The
 * promise under test is the README's: a result is never sent before it is stored, and a stored
 * result is never lost. So every test counts the results its clients received and compares them
 * with what the database holds after the server stopped.
 *
 * Waits are reads or polls with a deadline; nothing sleeps. Random choices come from a fixed seed. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <postgresql/libpq-fe.h>

#include "expect.h"
#include "harness.h"
#include "pgtest.h"
#include "suite.h"

#define TEST_TIMEOUT 120            /* seconds Check gives one test */
#define WAIT_MS 10000               /* the deadline of every wait */

#define UNAVAILABLE "E\x11" "games unavailable"
#define SHUTTING_DOWN "E\x14" "server shutting down"
#define ALREADY_MOVED "E\x0d" "already moved"

/* ---- helpers ---- */

static sqlite3 *db_open(const char *path)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    ck_assert_msg(rc == SQLITE_OK, "cannot open %s: %s", path, sqlite3_errmsg(db));
    return db;
}

static void db_exec(sqlite3 *db, const char *statement)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, statement, NULL, NULL, &err);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", statement, err != NULL ? err : sqlite3_errstr(rc));
}

/* PRAGMA integrity_check on the stopped server's database says "ok". A PostgreSQL database is no
 * file of ours to check: its server recovers from a crash by itself, and the counts are checked. */
static void expect_integrity(const struct harness *h)
{
    if (harness_engine_pg()) {
        return;
    }
    sqlite3 *db = db_open(h->db);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    const char *verdict = (const char *)sqlite3_column_text(st, 0);
    ck_assert_msg(verdict != NULL && strcmp(verdict, "ok") == 0, "integrity_check: %s",
                  verdict != NULL ? verdict : "(null)");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* One move; returns its result byte, or 0 when the answer was `E games unavailable` instead.
 * A named connection's `M <their move> <result>` is checked against the rules. */
static char move_or_unavailable(int fd, char move, int named)
{
    char first = 0, rest[2];
    put(fd, &move, 1);
    ck_assert_msg(harness_recv_n(fd, &first, 1) == 1, "no answer to move %c", move);
    if (first == 'E') {
        expect_bytes(fd, &UNAVAILABLE[1], sizeof(UNAVAILABLE) - 2);
        return 0;
    }
    if (!named) {
        ck_assert_msg(first == 'x' || first == 'y' || first == 'z', "result byte 0x%02x", (unsigned char)first);
        return first;
    }
    ck_assert_msg(first == 'M' && harness_recv_n(fd, rest, 2) == 2, "no result frame for move %c", move);
    ck_assert_msg(rest[0] >= '1' && rest[0] <= '3' && rest[1] == rules(move - '0', rest[0] - '0'),
                  "move %c: frame \"M%s\"", move, show(rest, 2));
    return rest[1];
}

/* The stored totals of a named player (or, with name NULL, of all guests) are the tally. */
static void expect_stored(const struct harness *h, const char *name, const struct tally *t)
{
    char where[64];
    if (name != NULL) {
        snprintf(where, sizeof(where), "name = '%s'", name);
    } else {
        snprintf(where, sizeof(where), "name IS NULL");
    }
    long long rounds = t->wins + t->losses + t->draws;
    ck_assert_int_eq(sql(h, "SELECT coalesce(sum(rounds), 0) FROM players WHERE %s", where), rounds);
    ck_assert_int_eq(sql(h, "SELECT coalesce(sum(wins), 0) FROM players WHERE %s", where), t->wins);
    ck_assert_int_eq(sql(h, "SELECT coalesce(sum(losses), 0) FROM players WHERE %s", where), t->losses);
    ck_assert_int_eq(sql(h, "SELECT coalesce(sum(draws), 0) FROM players WHERE %s", where), t->draws);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

/* Run argv with stderr captured until it exits; fails the test (and kills it) if it is still
 * running after WAIT_MS, i.e. if it started serving when it should have refused to start. */
static int run_until_exit(char *const argv[], char *err, size_t cap)
{
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(pfd[1], 2);
        close(pfd[0]);
        close(pfd[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pfd[1]);
    size_t n = 0;
    double deadline = now_s() + WAIT_MS / 1000.0;
    for (;;) {
        struct pollfd p = { .fd = pfd[0], .events = POLLIN };
        int ms = (int)((deadline - now_s()) * 1000);
        if (ms <= 0 || poll(&p, 1, ms) <= 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            ck_abort_msg("%s still running after %d ms; stderr so far: %s", argv[0], WAIT_MS, err);
        }
        ssize_t r = read(pfd[0], err + n, cap - 1 - n);
        if (r <= 0) {
            break;
        }
        n += (size_t)r;
        err[n] = '\0';
    }
    err[n] = '\0';
    close(pfd[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* `op <len> <text>` */
static void expect_frame(int fd, char op, const char *text)
{
    char f[64];
    size_t n = strlen(text);
    f[0] = op;
    f[1] = (char)n;
    memcpy(f + 2, text, n);
    expect_bytes(fd, f, n + 2);
}

/* a queues, b joins: both are told whom they play. */
static void match_pair(int a, const char *aname, int b, const char *bname)
{
    send_str(a, "P");
    EXPECT(a, "W");
    send_str(b, "P");
    expect_frame(b, 'V', aname);
    expect_frame(a, 'V', bname);
}

/* ---- the database locked by another process ---- */

/* Another process holds the database's write lock: nothing in the loop waits for it. Moves are held,
 * unanswered, while everything that needs no write is served; once the lock is gone every held result
 * is stored and sent. */
START_TEST(test_locked_database_holds_results_until_it_is_free)
{
    struct harness h;
    struct tally guest = { 0 }, ana = { 0 };
    char r, m[3];
    NEEDS_SQLITE("the database file's write lock, held by another process");
    START(&h, NULL);
    int g = dial(h.port), a = dial(h.port);

    hello(a, "ana");
    for (int i = 0; i < 3; i++) {
        tally_add(&guest, guest_round(g, (char)('1' + i)));
        tally_add(&ana, named_round(a, (char)('3' - i)));
    }

    /* The write lock, held as another writer would hold it. */
    sqlite3 *locker = db_open(h.db);
    db_exec(locker, "BEGIN IMMEDIATE");
    put(g, "2", 1);
    put(a, "1", 1);
    put(g, "13", 2);
    /* What needs no write is served meanwhile: math, and the leaderboard (WAL readers do not wait).
     * Those answers come after the moves were read, and the results are still not sent. */
    ask(h.port, "a3\n", "d9\n");
    ask(h.port, "t\n", ".\n");
    ask(h.port, "rana\n", "eunknown player\n");
    struct pollfd p[2] = { { .fd = g, .events = POLLIN }, { .fd = a, .events = POLLIN } };
    ck_assert_msg(poll(p, 2, 0) == 0, "a result was sent while the database was locked");

    db_exec(locker, "ROLLBACK");
    sqlite3_close(locker);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(harness_recv_n(g, &r, 1), 1);
        ck_assert_msg(r == 'x' || r == 'y' || r == 'z', "guest result 0x%02x", (unsigned char)r);
        tally_add(&guest, r);
    }
    ck_assert_int_eq(harness_recv_n(a, m, 3), 3);
    ck_assert_msg(m[0] == 'M' && m[2] == rules(1, m[1] - '0'), "ana's held result \"%s\"", show(m, 3));
    tally_add(&ana, m[2]);
    tally_add(&guest, guest_round(g, '2'));
    tally_add(&ana, named_round(a, '1'));
    close(g);
    close(a);
    ck_assert_int_eq(harness_stop(&h), 0);

    expect_stored(&h, "ana", &ana);
    expect_stored(&h, NULL, &guest);
    expect_integrity(&h);
    harness_cleanup(&h);
}
END_TEST

/* A lock held past --lock-wait: the held moves are refused (games unavailable), none half-stored, and
 * play goes on once the lock is gone. */
START_TEST(test_locked_database_refuses_moves_after_the_lock_wait)
{
    struct harness h;
    struct tally guest = { 0 }, ana = { 0 };
    NEEDS_SQLITE("the database file's write lock, held by another process");
    START(&h, "--lock-wait", "0.2", NULL);
    int g = dial(h.port), a = dial(h.port);

    hello(a, "ana");
    tally_add(&guest, guest_round(g, '1'));
    tally_add(&ana, named_round(a, '3'));

    sqlite3 *locker = db_open(h.db);
    db_exec(locker, "BEGIN IMMEDIATE");
    ck_assert_int_eq(move_or_unavailable(g, '2', 0), 0);
    ck_assert_int_eq(move_or_unavailable(a, '1', 1), 0);
    /* Several moves in one write: each one refused, none half-stored. */
    put(g, "123", 3);
    for (int i = 0; i < 3; i++) {
        EXPECT(g, UNAVAILABLE);
    }
    db_exec(locker, "ROLLBACK");
    sqlite3_close(locker);
    tally_add(&guest, guest_round(g, '2'));
    tally_add(&ana, named_round(a, '1'));
    close(g);
    close(a);
    ck_assert_int_eq(harness_stop(&h), 0);

    expect_stored(&h, "ana", &ana);
    expect_stored(&h, NULL, &guest);
    expect_integrity(&h);
    harness_cleanup(&h);
}
END_TEST

/* Two servers on one database would each believe they are its only writer: the second is refused. */
START_TEST(test_second_server_on_the_same_database_is_refused)
{
    struct harness h;
    char err[4096];
    NEEDS_SQLITE("one writer per file; PostgreSQL is shared by several servers by design");
    START(&h, NULL);
    char *argv[] = { (char *)harness_arcaded(), "--port", "0", "--db", h.db, NULL };

    int rc = run_until_exit(argv, err, sizeof(err));
    ck_assert_msg(rc == 1, "a second arcaded on %s exited %d: %s", h.db, rc, err);
    ck_assert_msg(strstr(err, "another arcaded is serving it") != NULL, "stderr: %s", err);
    /* The first one serves on. */
    ask(h.port, "a3\n", "d9\n");
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

/* ---- the disk full ---- */

/* The disk full: the file size limit (RLIMIT_FSIZE, per file) stands in for it. At one page no
 * commit can be written: moves are refused, and what needs no write is served. Then room comes back,
 * but only a little: 64 KiB above the largest file, far less than the 1000 pages at which SQLite
 * checkpoints by itself. A WAL that is never checkpointed would fill that and fail every commit
 * again; every round must now be stored. */
START_TEST(test_disk_full_refuses_moves_then_recovers)
{
    struct harness h;
    struct tally ana = { 0 };
    NEEDS_SQLITE("a full disk under the database's files (RLIMIT_FSIZE on the server)");
    START(&h, NULL);
    int a = dial(h.port);
    char wal[sizeof(h.db) + 8];

    hello(a, "ana");
    for (int i = 0; i < 5; i++) {
        tally_add(&ana, named_round(a, (char)('1' + i % 3)));
    }
    struct rlimit full = { .rlim_cur = 4096, .rlim_max = RLIM_INFINITY }, old;
    ck_assert_msg(prlimit(h.pid, RLIMIT_FSIZE, &full, &old) == 0, "prlimit: %s", strerror(errno));
    ck_assert_int_eq(move_or_unavailable(a, '1', 1), 0);
    ck_assert_int_eq(move_or_unavailable(a, '2', 1), 0);
    /* The server is up and serves what needs no write. */
    ask(h.port, "a5\n", "d25\n");

    snprintf(wal, sizeof(wal), "%s-wal", h.db);
    off_t big = file_size(h.db) > file_size(wal) ? file_size(h.db) : file_size(wal);
    struct rlimit little = { .rlim_cur = (rlim_t)big + 65536, .rlim_max = RLIM_INFINITY };
    ck_assert_msg(prlimit(h.pid, RLIMIT_FSIZE, &little, NULL) == 0, "prlimit: %s", strerror(errno));
    int refused = 0;
    for (int i = 0; i < 600; i++) {
        char r = move_or_unavailable(a, (char)('1' + i % 3), 1);
        refused += r == 0;
        if (r != 0) {
            tally_add(&ana, r);
        }
    }
    ck_assert_msg(refused == 0, "%d of 600 moves refused with 64 KiB of room (files up to %lld bytes)", refused,
                  (long long)little.rlim_cur);

    ck_assert_msg(prlimit(h.pid, RLIMIT_FSIZE, &old, NULL) == 0, "prlimit: %s", strerror(errno));
    int g = dial(h.port);
    struct tally guest = { 0 };
    tally_add(&guest, guest_round(g, '2'));
    close(g);
    close(a);
    ck_assert_int_eq(harness_stop(&h), 0);

    printf("disk full: moves refused at one page; 600 of 600 stored with 64 KiB of room (files up to %lld "
           "bytes)\n", (long long)little.rlim_cur);
    fflush(stdout);
    expect_stored(&h, "ana", &ana);
    expect_stored(&h, NULL, &guest);
    expect_integrity(&h);
    harness_cleanup(&h);
}
END_TEST

/* ---- a database that cannot be opened ---- */

static void expect_refused_start(const char *path, const char *what)
{
    char err[8192] = "";
    char *argv[] = { (char *)harness_arcaded(), "--port", "0", "--db", (char *)path, NULL };
    int rc = run_until_exit(argv, err, sizeof(err));
    ck_assert_msg(rc != 0 && rc < 128, "%s: exit status %d, want an error exit", what, rc);
    ck_assert_msg(strstr(err, path) != NULL, "%s: stderr does not name %s: \"%s\"", what, path, err);
}

START_TEST(test_unopenable_database_stops_the_start)
{
    char dir[64], missing[128], junk[128], newer[128], bytes[4096];
    NEEDS_SQLITE("files that are not SQLite databases (test_server has a missing PostgreSQL database)");
    ck_assert_int_eq(suite_mkdtemp(dir, sizeof(dir), "baddb"), 0);

    snprintf(missing, sizeof(missing), "%s/no/such/dir/arcade.db", dir);
    expect_refused_start(missing, "directory missing");

    snprintf(junk, sizeof(junk), "%s/junk.db", dir);
    rng_seed(4096);
    for (size_t i = 0; i < sizeof(bytes); i++) {
        bytes[i] = (char)rng_next();
    }
    FILE *f = fopen(junk, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bytes, 1, sizeof(bytes), f), sizeof(bytes));
    fclose(f);
    expect_refused_start(junk, "4 KB of random bytes");
    /* Refusing must not have "repaired" the file into a database. */
    ck_assert_int_eq(file_size(junk), (off_t)sizeof(bytes));

    snprintf(newer, sizeof(newer), "%s/newer.db", dir);
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(newer, &db), SQLITE_OK);
    db_exec(db, "CREATE TABLE from_the_future (x); PRAGMA user_version = 1000000");
    sqlite3_close(db);
    expect_refused_start(newer, "user_version from a newer arcade");
    ck_assert_int_eq(harness_sql_int(newer, "PRAGMA user_version"), 1000000);
}
END_TEST

/* ---- SIGKILL at random moments ---- */

#define CRASH_BOTS 4                /* named players pipelining against the bot */
#define CRASH_PAIRS 1               /* named pairs playing each other */
#define CRASH_PLAYERS (CRASH_BOTS + 2 * CRASH_PAIRS)
#define CRASH_KILLS 40
#define CRASH_WINDOW 8              /* moves in flight per bot player */
#define CRASH_SEED 20261122u

struct crasher {
    int fd;
    char name[16];
    int partner;                    /* the opponent's index, or -1 against the bot */
    char moves[CRASH_WINDOW];       /* moves sent and not answered yet, a ring from head */
    unsigned head, inflight;
    long long sent, acked;          /* over every run of the server */
    char frame[3];                  /* a result frame cut by a read */
    size_t frame_len;
};

static void crash_send(struct crasher *p, unsigned n)
{
    char buf[CRASH_WINDOW];
    for (unsigned i = 0; i < n; i++) {
        buf[i] = (char)('1' + rng_next() % 3);
        p->moves[(p->head + p->inflight) % CRASH_WINDOW] = buf[i];
        p->inflight++;
    }
    put(p->fd, buf, n);
    p->sent += n;
}

/* Count the complete result frames in what a read gave, each checked against the move it answers. */
static long crash_take(struct crasher *p, const char *buf, size_t n)
{
    long got = 0;
    for (size_t i = 0; i < n; i++) {
        p->frame[p->frame_len++] = buf[i];
        if (p->frame_len < 3) {
            continue;
        }
        p->frame_len = 0;
        ck_assert_msg(p->inflight > 0, "%s: \"%s\" answers no move", p->name, show(p->frame, 3));
        char mine = p->moves[p->head % CRASH_WINDOW];
        ck_assert_msg(p->frame[0] == 'M' && p->frame[1] >= '1' && p->frame[1] <= '3' &&
                      p->frame[2] == rules(mine - '0', p->frame[1] - '0'),
                      "%s: move %c answered \"%s\"", p->name, mine, show(p->frame, 3));
        p->head++;
        p->inflight--;
        p->acked++;
        got++;
    }
    return got;
}

/* Keep every bot player's window full; a pair moves again once both have their results. */
static void crash_refill(struct crasher *ps)
{
    for (int i = 0; i < CRASH_PLAYERS; i++) {
        struct crasher *p = &ps[i];
        if (p->partner < 0 && p->inflight < CRASH_WINDOW) {
            crash_send(p, CRASH_WINDOW - p->inflight);
        } else if (p->partner > i && p->inflight == 0 && ps[p->partner].inflight == 0) {
            crash_send(p, 1);
            crash_send(&ps[p->partner], 1);
        }
    }
}

static void crash_connect(struct harness *h, struct crasher *ps)
{
    for (int i = 0; i < CRASH_PLAYERS; i++) {
        ps[i].fd = dial(h->port);
        hello(ps[i].fd, ps[i].name);
        ps[i].head = ps[i].inflight = 0;
        ps[i].frame_len = 0;
    }
    for (int i = 0; i < CRASH_PLAYERS; i++) {
        if (ps[i].partner > i) {
            match_pair(ps[i].fd, ps[i].name, ps[ps[i].partner].fd, ps[ps[i].partner].name);
        }
    }
}

/* Play until at least target results arrived. */
static void crash_play(struct crasher *ps, long target)
{
    struct pollfd pf[CRASH_PLAYERS];
    char buf[4096];
    long got = 0;

    while (got < target) {
        crash_refill(ps);
        for (int i = 0; i < CRASH_PLAYERS; i++) {
            pf[i] = (struct pollfd){ .fd = ps[i].fd, .events = POLLIN };
        }
        ck_assert_msg(poll(pf, CRASH_PLAYERS, WAIT_MS) > 0, "no result for %d ms", WAIT_MS);
        for (int i = 0; i < CRASH_PLAYERS; i++) {
            if (pf[i].revents == 0) {
                continue;
            }
            ssize_t r = recv(ps[i].fd, buf, sizeof(buf), 0);
            ck_assert_msg(r > 0, "%s: connection ended while the server runs", ps[i].name);
            got += crash_take(&ps[i], buf, (size_t)r);
        }
    }
}

static void kill_server(struct harness *h)
{
    ck_assert_int_eq(kill(h->pid, SIGKILL), 0);
    int rc = harness_wait(h);
    ck_assert_msg(rc == 128 + SIGKILL, "the server ended with status %d", rc);
}

/* What the dead server had written before it died still arrives and counts: the client has it. */
static void crash_collect(struct crasher *ps)
{
    char buf[4096];
    for (int i = 0; i < CRASH_PLAYERS; i++) {
        ssize_t r;
        while ((r = recv(ps[i].fd, buf, sizeof(buf), 0)) > 0) {
            crash_take(&ps[i], buf, (size_t)r);
        }
        ck_assert_msg(r == 0 || errno == ECONNRESET, "%s: recv after the kill: %s", ps[i].name, strerror(errno));
        close(ps[i].fd);
    }
}

START_TEST(test_sigkill_at_random_moments_loses_no_result)
{
    struct harness h;
    struct crasher ps[CRASH_PLAYERS];

    memset(ps, 0, sizeof(ps));
    for (int i = 0; i < CRASH_PLAYERS; i++) {
        snprintf(ps[i].name, sizeof(ps[i].name), i < CRASH_BOTS ? "bot%d" : "pvp%d", i);
        ps[i].partner = i < CRASH_BOTS ? -1 : CRASH_BOTS + ((i - CRASH_BOTS) ^ 1);
    }
    rng_seed(CRASH_SEED);
    START(&h, "--move-timeout", "120", NULL);
    for (int k = 0; k < CRASH_KILLS; k++) {
        if (k > 0) {
            ck_assert_msg(harness_restart(&h, "--move-timeout", "120", NULL) == 0, "restart %d: '%s'", k, h.first);
        }
        crash_connect(&h, ps);
        crash_play(ps, 50 + (long)(rng_next() % 450));
        kill_server(&h);
        crash_collect(ps);
    }
    /* The last kill's WAL is replayed by one more start, which must serve and stop cleanly. */
    ck_assert_msg(harness_restart(&h, NULL) == 0, "final restart: '%s'", h.first);
    ask(h.port, "a4\n", "d16\n");
    ck_assert_int_eq(harness_stop(&h), 0);

    long long acked = 0, stored = 0, sent = 0, lost = 0;
    for (int i = 0; i < CRASH_PLAYERS; i++) {
        long long s = sql(&h, "SELECT rounds FROM players WHERE name = '%s'", ps[i].name);
        ck_assert_msg(ps[i].acked <= s && s <= ps[i].sent, "%s: %lld results received, %lld stored, %lld moves sent",
                      ps[i].name, ps[i].acked, s, ps[i].sent);
        acked += ps[i].acked;
        stored += s;
        sent += ps[i].sent;
        lost += ps[i].acked > s ? ps[i].acked - s : 0;
    }
    printf("crash: %d kills survived, %lld results acknowledged, %lld stored, %lld moves sent, %lld lost\n",
           CRASH_KILLS, acked, stored, sent, lost);
    fflush(stdout);
    ck_assert_int_eq(lost, 0);
    expect_integrity(&h);
    harness_cleanup(&h);
}
END_TEST

/* ---- SIGTERM with a thousand players ---- */

#define SHUT_GUESTS 600
#define SHUT_PAIRS 200              /* 400 named connections: 1000 in all */

/* Wait until n bytes are waiting on fd, without reading them. */
static void wait_pending(int fd, int n)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &n, sizeof(n)), 0);
    ck_assert_msg(poll(&p, 1, WAIT_MS) == 1, "%d answers did not arrive", n);
    int one = 1;
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one)), 0);
}

START_TEST(test_sigterm_under_load_delivers_everything)
{
    struct harness h;
    static int guests[SHUT_GUESTS], pending[SHUT_GUESTS], pair[SHUT_PAIRS][2];
    struct tally guest = { 0 };
    char name[2][16];

    raise_nofile();
    /* A thousand connections from one address is no attack here. */
    START(&h, "--addr-conns", "0", "--name-rate", "0", NULL);
    for (int i = 0; i < SHUT_GUESTS; i++) {
        guests[i] = dial(h.port);
        tally_add(&guest, guest_round(guests[i], '2'));
    }
    for (int i = 0; i < SHUT_PAIRS; i++) {
        snprintf(name[0], sizeof(name[0]), "a%03d", i);
        snprintf(name[1], sizeof(name[1]), "b%03d", i);
        for (int s = 0; s < 2; s++) {
            pair[i][s] = dial(h.port);
            hello(pair[i][s], name[s]);
        }
        match_pair(pair[i][0], name[0], pair[i][1], name[1]);
        send_str(pair[i][0], "2");
        send_str(pair[i][1], "1");
        EXPECT(pair[i][0], "M1y");
        EXPECT(pair[i][1], "M2z");
        /* Mid-round with one move made; the refused second move shows the first was read. */
        send_str(pair[i][0], "33");
        EXPECT(pair[i][0], ALREADY_MOVED);
    }
    /* Moves whose answers the clients have not taken yet. */
    for (int i = 0; i < SHUT_GUESTS; i++) {
        pending[i] = 1 + i % 3;
        put(guests[i], "123", (size_t)pending[i]);
    }
    for (int i = 0; i < SHUT_GUESTS; i++) {
        wait_pending(guests[i], pending[i]);
    }

    ck_assert_int_eq(kill(h.pid, SIGTERM), 0);
    for (int i = 0; i < SHUT_GUESTS; i++) {
        char got[3];
        ck_assert_int_eq(harness_recv_n(guests[i], got, (size_t)pending[i]), pending[i]);
        for (int k = 0; k < pending[i]; k++) {
            ck_assert_msg(got[k] == 'x' || got[k] == 'y' || got[k] == 'z', "guest %d: byte 0x%02x", i,
                          (unsigned char)got[k]);
            tally_add(&guest, got[k]);
        }
        EXPECT(guests[i], SHUTTING_DOWN);
        if (i == 0) {
            /* The listener closed before the first notice was queued. */
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)h.port) };
            sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
            ck_assert_msg(rc < 0 && errno == ECONNREFUSED, "a connection after SIGTERM: %s",
                          rc == 0 ? "accepted" : strerror(errno));
            close(fd);
        }
        expect_eof(guests[i]);
        close(guests[i]);
    }
    for (int i = 0; i < SHUT_PAIRS; i++) {
        for (int s = 0; s < 2; s++) {
            EXPECT(pair[i][s], "Tv" SHUTTING_DOWN);
            expect_eof(pair[i][s]);
            close(pair[i][s]);
        }
    }
    /* harness_wait, not harness_stop: a second SIGTERM could land after the server has put its
     * signal handlers away. */
    ck_assert_int_eq(harness_wait(&h), 0);

    printf("shutdown: %d connections held at SIGTERM, every one answered, noticed and closed\n",
           SHUT_GUESTS + 2 * SHUT_PAIRS);
    fflush(stdout);
    expect_stored(&h, NULL, &guest);
    /* The guests' rounds are in one row. */
    ck_assert_int_eq(sql(&h, "SELECT count(*) FROM players WHERE name IS NULL"), 1);
    /* One decided round per pair; the void ones are not stored. */
    ck_assert_int_eq(sql(&h, "SELECT count(*) FROM rounds"), SHUT_PAIRS);
    ck_assert_int_eq(sql(&h, "SELECT count(*) FROM players WHERE name LIKE 'a%%' AND wins = 1 AND rounds = 1"),
                     SHUT_PAIRS);
    ck_assert_int_eq(sql(&h, "SELECT count(*) FROM players WHERE name LIKE 'b%%' AND losses = 1 AND rounds = 1"),
                     SHUT_PAIRS);
    expect_integrity(&h);
    harness_cleanup(&h);
}
END_TEST

/* One statement on PostgreSQL's maintenance database (ARCADE_TEST_PG), as its operator would. */
static void pg_admin(const char *fmt, const char *db)
{
    char sql[512];
    PQconninfoOption *opts = PQconninfoParse(db, NULL);
    const char *name = NULL;
    for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++) {
        if (strcmp(o->keyword, "dbname") == 0) {
            name = o->val;
        }
    }
    ck_assert_ptr_nonnull(name);
    snprintf(sql, sizeof(sql), fmt, name);
    PQconninfoFree(opts);
    PGconn *conn = PQconnectdb(pgtest_uri());
    ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "maintenance database: %s", PQerrorMessage(conn));
    PGresult *res = PQexec(conn, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
                  PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(conn);
}

/* The status of GET path (0 when no answer). */
static int http_status(int port, const char *path)
{
    char body[2048];
    return http_get(port, path, body, sizeof(body));
}

/* PostgreSQL goes away (its connections ended, new ones refused) and comes back: the server stays
 * up, refuses results it cannot store with the usual error, says so on /healthz, and takes results
 * again by itself once PostgreSQL is back; the log never holds the password. */
START_TEST(test_postgresql_down_refuses_results_then_recovers)
{
    struct harness h;
    struct tally guest = { 0 };
    char frame[sizeof(UNAVAILABLE) - 1], log[65536];
    NEEDS_POSTGRESQL("PostgreSQL's connections ended by its operator");
    START(&h, NULL);
    int g = dial(h.port);
    tally_add(&guest, guest_round(g, '2'));

    pg_admin("ALTER DATABASE %s ALLOW_CONNECTIONS false", h.db);
    pg_admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'", h.db);
    put(g, "1", 1);
    ck_assert_int_eq(harness_recv_n(g, frame, sizeof(frame)), sizeof(frame));
    ck_assert_msg(memcmp(frame, UNAVAILABLE, sizeof(frame)) == 0, "got \"%s\"", show(frame, sizeof(frame)));
    ck_assert_int_eq(http_status(h.port, "/healthz"), 503);
    ask(h.port, "a3\n", "d9\n");        /* what needs no database is served meanwhile */

    pg_admin("ALTER DATABASE %s ALLOW_CONNECTIONS true", h.db);
    int status = 0;
    for (int tries = 0; tries < 200 && (status = http_status(h.port, "/healthz")) != 200; tries++) {
        poll(NULL, 0, 50);  /* the server connects again on its own schedule: nothing to wait on here */
    }
    ck_assert_int_eq(status, 200);
    tally_add(&guest, guest_round(g, '3'));
    close(g);
    ck_assert_int_eq(harness_stop(&h), 0);
    ck_assert_int_eq(harness_sql_int(h.db, "SELECT sum(rounds) FROM players WHERE name IS NULL"), 2);

    FILE *f = fopen(h.log, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(log, 1, sizeof(log) - 1, f);
    fclose(f);
    log[n] = '\0';
    ck_assert_msg(strstr(log, "connection lost") != NULL || strstr(log, "unavailable") != NULL,
                  "the loss is not in the log: %s", log);
    const char *at = strchr(pgtest_uri(), '@');
    const char *colon = strchr(strstr(pgtest_uri(), "://") + 3, ':');
    if (colon != NULL && at != NULL && colon < at) {
        char secret[128];
        snprintf(secret, sizeof(secret), "%.*s@", (int)(at - colon), colon);
        ck_assert_msg(strstr(log, secret) == NULL && strstr(h.first, secret) == NULL, "the password is in the log");
    }
    harness_cleanup(&h);
}
END_TEST

/* A player's row locked on PostgreSQL past its statement wait (another process's long transaction):
 * the move is refused with the usual error, nothing of it stored, /healthz says so, math is served,
 * and the next round is stored once the lock is gone. */
START_TEST(test_postgresql_lock_past_the_wait_refuses_the_move)
{
    struct harness h;
    struct tally ana = { 0 };
    char lock[128];
    NEEDS_POSTGRESQL("a row lock held in PostgreSQL by another session");
    START(&h, NULL);
    int a = dial(h.port);
    hello(a, "ana");
    tally_add(&ana, named_round(a, '3'));

    PGconn *holder = PQconnectdb(h.db);
    ck_assert_msg(PQstatus(holder) == CONNECTION_OK, "%s", PQerrorMessage(holder));
    PQclear(PQexec(holder, "BEGIN"));
    snprintf(lock, sizeof(lock), "SELECT 1 FROM players WHERE name = 'ana' FOR UPDATE");
    PGresult *res = PQexec(holder, lock);
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    ck_assert_int_eq(move_or_unavailable(a, '1', 1), 0);
    ck_assert_int_eq(http_status(h.port, "/healthz"), 503);
    ask(h.port, "a4\n", "d16\n");
    PQclear(PQexec(holder, "ROLLBACK"));
    PQfinish(holder);

    tally_add(&ana, named_round(a, '2'));
    close(a);
    ck_assert_int_eq(harness_stop(&h), 0);
    expect_stored(&h, "ana", &ana);
    harness_cleanup(&h);
}
END_TEST

static Suite *faults_suite(void)
{
    Suite *s = suite_create("faults");
    TCase *db = tcase_create("database");
    TCase *crash = tcase_create("crash");
    TCase *all[] = { db, crash };

    tcase_add_test(db, test_locked_database_holds_results_until_it_is_free);
    tcase_add_test(db, test_locked_database_refuses_moves_after_the_lock_wait);
    tcase_add_test(db, test_second_server_on_the_same_database_is_refused);
    tcase_add_test(db, test_disk_full_refuses_moves_then_recovers);
    tcase_add_test(db, test_unopenable_database_stops_the_start);
    tcase_add_test(db, test_postgresql_down_refuses_results_then_recovers);
    tcase_add_test(db, test_postgresql_lock_past_the_wait_refuses_the_move);
    tcase_add_test(crash, test_sigkill_at_random_moments_loses_no_result);
    tcase_add_test(crash, test_sigterm_under_load_delivers_everything);
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        tcase_set_timeout(all[i], TEST_TIMEOUT);
        suite_add_tcase(s, all[i]);
    }
    return s;
}

int main(void)
{
    return suite_run(faults_suite());
}
