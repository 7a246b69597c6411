/* The store: see store.h for the batch discipline.
 *
 * Every statement the server runs is in stmt_sql below, prepared once by store_open and reused
 * with bind / step / reset; values, names included, only ever travel as bound parameters. The
 * schema lives in migrations[]: entry i brings a database from user_version i to i + 1.
 *
 * A rated round writes one row. rounds is the record: each row holds both players' ratings after
 * the round and, for each, the id of the player's round before (a chain a player's rating history
 * walks back). What a round changes in a player (rating, counts, form) is kept in the roster
 * (roster.h), and the leaderboard's order in the ladder (ladder.h), both in memory: the server is
 * the database's only writer. The players table is their snapshot, written back by store_sweep a
 * few rows at a time, outside batches. snapshot.round says how far it has come: every round up to
 * it is in both its players' rows, and each row's last_round says which rounds it holds. store_open
 * loads the rated players and replays the rounds after snapshot.round that their rows lack, so a
 * crash loses nothing that was committed.
 *
 * This keeps a round's cost the same with a hundred players or a million: one row appended to
 * rounds, not a rating, a histogram and a board index moved in pages spread over the whole table.
 */
#include "store.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <time.h>

#include "checkpointer.h"
#include "elo.h"
#include "ladder.h"
#include "roster.h"

/* floor(x) without SQLite's optional math functions: CAST truncates toward zero, so step down one
 * for a negative non-integer. Version 1's histogram triggers use it (version 4 drops them). */
#define BUCKET_OF(x) "(CAST(" x " AS INTEGER) - (" x " < CAST(" x " AS INTEGER)))"

/* Version 1. Refinements of the plain design, and why:
 * - rounds.id is AUTOINCREMENT: players.rated_at holds a round id and breaks leaderboard ties, so
 *   ids must never be reused, even if old rounds are one day pruned.
 * - CHECK constraints on rounds: a malformed round is refused by the database itself.
 * - ratings.player references players, and before/after are NOT NULL: every row is a rated round of a real player (a draw at equal ratings leaves before = after).
 * - players_board is a partial index holding only the leaderboard (named, rated), ordered as the
 *   leaderboard: rating DESC, rated_at, then the implicit rowid (id). Guests and bot-only players
 *   cost it nothing, and top-N, ranks and neighbours are all ranges of it.
 * - ratings_player (player, round) lists a player's rounds newest first (each rated round has one
 *   ratings row per side, joined to rounds by id) and a player's rating history, with one index
 *   instead of one per side of rounds.
 * - rating_buckets and its triggers: see the top of this file. */
static const char migration_1[] =
    "CREATE TABLE players ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT UNIQUE," /* NULL for a guest */
    " wins INTEGER NOT NULL DEFAULT 0,"
    " losses INTEGER NOT NULL DEFAULT 0,"
    " draws INTEGER NOT NULL DEFAULT 0,"
    " rounds INTEGER NOT NULL DEFAULT 0,"
    " rating REAL NOT NULL DEFAULT 1200,"
    " rated INTEGER NOT NULL DEFAULT 0,"
    " rated_at INTEGER NOT NULL DEFAULT 0,"
    " form TEXT NOT NULL DEFAULT '',"
    " created INTEGER NOT NULL);"
    "CREATE TABLE rounds ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " at INTEGER NOT NULL,"
    " a INTEGER NOT NULL REFERENCES players(id),"
    " b INTEGER NOT NULL REFERENCES players(id),"
    " move_a INTEGER NOT NULL CHECK (move_a BETWEEN 0 AND 3),"
    " move_b INTEGER NOT NULL CHECK (move_b BETWEEN 0 AND 3),"
    " outcome TEXT NOT NULL CHECK (outcome IN ('W', 'L', 'D')),"
    " timeout INTEGER NOT NULL CHECK (timeout IN (0, 1)),"
    " CHECK (a <> b));"
    "CREATE TABLE ratings ("
    " id INTEGER PRIMARY KEY,"
    " round INTEGER NOT NULL REFERENCES rounds(id),"
    " player INTEGER NOT NULL REFERENCES players(id),"
    " before REAL NOT NULL,"
    " after REAL NOT NULL);"
    "CREATE TABLE rating_buckets (bucket INTEGER PRIMARY KEY, n INTEGER NOT NULL);"
    "CREATE INDEX players_board ON players(rating DESC, rated_at)"
    " WHERE name IS NOT NULL AND rated > 0;"
    "CREATE INDEX ratings_player ON ratings(player, round);"
    "CREATE TRIGGER players_board_insert AFTER INSERT ON players"
    " WHEN new.name IS NOT NULL AND new.rated > 0 BEGIN"
    " INSERT INTO rating_buckets(bucket, n) VALUES (" BUCKET_OF("new.rating") ", 1)"
    " ON CONFLICT(bucket) DO UPDATE SET n = n + 1; END;"
    "CREATE TRIGGER players_board_leave AFTER UPDATE OF name, rating, rated ON players"
    " WHEN old.name IS NOT NULL AND old.rated > 0 BEGIN"
    " UPDATE rating_buckets SET n = n - 1 WHERE bucket = " BUCKET_OF("old.rating") "; END;"
    "CREATE TRIGGER players_board_enter AFTER UPDATE OF name, rating, rated ON players"
    " WHEN new.name IS NOT NULL AND new.rated > 0 BEGIN"
    " INSERT INTO rating_buckets(bucket, n) VALUES (" BUCKET_OF("new.rating") ", 1)"
    " ON CONFLICT(bucket) DO UPDATE SET n = n + 1; END;"
    "CREATE TRIGGER players_board_delete AFTER DELETE ON players"
    " WHEN old.name IS NOT NULL AND old.rated > 0 BEGIN"
    " UPDATE rating_buckets SET n = n - 1 WHERE bucket = " BUCKET_OF("old.rating") "; END;"
    "PRAGMA user_version = 1;";

/* Version 2: the tally log. Bot rounds come by the hundred thousand a second and only add to
 * totals, and one UPDATE per player per batch cost as much CPU as the network work of the round
 * itself. So a batch's bot rounds are appended as one row of varint tallies, and store_fold adds
 * the log into players once a second (and before every leaderboard read, and at close). A round
 * in the log is stored: a crash loses nothing, the next open folds it. */
static const char migration_2[] =
    "CREATE TABLE tallies (id INTEGER PRIMARY KEY, counts BLOB NOT NULL);"
    "PRAGMA user_version = 2;";

/* Version 3: accounts. A name is unique regardless of ASCII case; a registered one has the hash
 * of its secret, and a name without one (every name before this version) is unclaimed.
 * - players_name, unique on name COLLATE NOCASE, is what finds a name in any case. The older
 *   UNIQUE on name stays (dropping it means rebuilding players); it never refuses a name that
 *   players_name lets through.
 * - Names that differ only in case may be there already: before players_name can exist,
 *   rename_collisions gives each but the oldest a name of its own, with a scratch index to find
 *   them. The renamed keep their ids, hence every round, rating and total. */
static const char migration_3[] =
    "ALTER TABLE players ADD COLUMN secret_hash BLOB"
    " CHECK (secret_hash IS NULL OR (typeof(secret_hash) = 'blob' AND length(secret_hash) = 32));"
    "CREATE INDEX players_name_scratch ON players(name COLLATE NOCASE) WHERE name IS NOT NULL;";
static const char migration_3_index[] =
    "DROP INDEX players_name_scratch;"
    "CREATE UNIQUE INDEX players_name ON players(name COLLATE NOCASE) WHERE name IS NOT NULL;"
    "PRAGMA user_version = 3;";

/* Version 4: a rated round writes one row (see the top of this file).
 * - rounds gains both players' ratings after the round (rating_a, rating_b) and each player's
 *   round before (prev_a, prev_b, 0 for none), filled from ratings, which goes: a player's history
 *   is the chain from players.last_round back, one rowid lookup a point, where ratings cost two
 *   rows and an index entry a round.
 * - players gains last_round: the last rated round its row holds. Rows are written back after
 *   the round (store_sweep), so it is also what store_open replays against.
 * - snapshot holds one round id: every round up to it is in its players' rows.
 * - rating_buckets, its triggers and players_board go: the leaderboard is kept in memory. */
static const char migration_4[] =
    "ALTER TABLE rounds ADD COLUMN rating_a REAL NOT NULL DEFAULT 0;"
    "ALTER TABLE rounds ADD COLUMN rating_b REAL NOT NULL DEFAULT 0;"
    "ALTER TABLE rounds ADD COLUMN prev_a INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE rounds ADD COLUMN prev_b INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE players ADD COLUMN last_round INTEGER NOT NULL DEFAULT 0;"
    "UPDATE rounds SET"
    " rating_a = coalesce((SELECT after FROM ratings WHERE player = rounds.a AND round = rounds.id), 0),"
    " rating_b = coalesce((SELECT after FROM ratings WHERE player = rounds.b AND round = rounds.id), 0),"
    " prev_a = coalesce((SELECT max(round) FROM ratings WHERE player = rounds.a AND round < rounds.id), 0),"
    " prev_b = coalesce((SELECT max(round) FROM ratings WHERE player = rounds.b AND round < rounds.id), 0);"
    "UPDATE players SET last_round = coalesce((SELECT max(round) FROM ratings"
    " WHERE player = players.id), 0) WHERE rated > 0;"
    "DROP TRIGGER players_board_insert;"
    "DROP TRIGGER players_board_leave;"
    "DROP TRIGGER players_board_enter;"
    "DROP TRIGGER players_board_delete;"
    "DROP TABLE rating_buckets;"
    "DROP INDEX players_board;"
    "DROP TABLE ratings;"
    "CREATE TABLE snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), round INTEGER NOT NULL);"
    "INSERT INTO snapshot(id, round) SELECT 1, coalesce(max(id), 0) FROM rounds;"
    "PRAGMA user_version = 4;";

static int rename_collisions(struct store *st, char *err, size_t errlen);
static void undo_batch(struct store *st);
static int load_rated(struct store *st, char *err, size_t errlen);

/* Entry i brings a database from version i to i + 1: its sql, then fix when there is one (for
 * what SQL alone cannot do), then finish. The last script must set user_version to i + 1; migrate
 * checks it. A new version is one more entry here (and, when it changes a table the statements
 * use, an edit of stmt_sql). Migrations run before foreign keys are switched on, so one may
 * rebuild a table. */
static const struct {
    const char *sql;
    int (*fix)(struct store *st, char *err, size_t errlen);
    const char *finish;
} migrations[] = {
    {migration_1, NULL, NULL},
    {migration_2, NULL, NULL},
    {migration_3, rename_collisions, migration_3_index},
    {migration_4, NULL, NULL},
};
#define MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* The first player after id ?1 whose name an older player has too, regardless of case. Each
 * renamed player stops colliding, so the walk goes through the table once, by id. */
#define SQL_COLLIDER                                                                               \
    "SELECT id, name FROM players AS p WHERE id > ?1 AND name IS NOT NULL AND EXISTS"              \
    " (SELECT 1 FROM players AS q WHERE q.name = p.name COLLATE NOCASE AND q.id < p.id)"           \
    " ORDER BY id LIMIT 1"

/* A name, regardless of case: what store_player and the accounts look up (players_name). */
#define SQL_FIND "SELECT id, name, secret_hash FROM players WHERE name = ?1 COLLATE NOCASE"

/* The statements store_plan explains, as macros so that it explains the very same text. Each row
 * is ROW_COLS, in the order row_fill reads them, then the player's id. */
#define ROW_COLS "name, rating, rated, wins, losses, draws, rounds, form"

/* A named player, by name in any case (players_name), and any player by id. */
#define SQL_ME "SELECT " ROW_COLS ", id FROM players WHERE name = ?1 COLLATE NOCASE"
#define SQL_ROW "SELECT " ROW_COLS ", id FROM players WHERE id = ?1"

/* A player's (?1) rating after each of its last ?3 rated rounds, newest first: the chain of its
 * rounds from ?2 (its last) back, one rowid lookup a point. */
#define SQL_RATINGS                                                                                \
    "WITH RECURSIVE chain(n, round) AS (SELECT 1, ?2 UNION ALL"                                    \
    " SELECT chain.n + 1, CASE WHEN r.a = ?1 THEN r.prev_a ELSE r.prev_b END"                      \
    " FROM chain JOIN rounds AS r ON r.id = chain.round WHERE chain.n < ?3)"                       \
    " SELECT r.at, CASE WHEN r.a = ?1 THEN r.rating_a ELSE r.rating_b END"                         \
    " FROM chain JOIN rounds AS r ON r.id = chain.round ORDER BY chain.n"

/* The rounds after ?1, oldest first: what store_open replays. */
#define SQL_REPLAY "SELECT id, a, b, outcome, rating_a, rating_b FROM rounds WHERE id > ?1 ORDER BY id"

/* The rated state of a player, as the roster holds it. */
#define RATED_COLS "rating, rated, rated_at, last_round, form, name IS NOT NULL"

enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_FIND,
    ST_CREATE,
    ST_CLAIM,
    ST_SET_HASH,
    ST_NAMED,
    ST_TOTALS,
    ST_LOAD,
    ST_LOAD_ALL,
    ST_ROUND,
    ST_WRITE_BACK,
    ST_SNAPSHOT_READ,
    ST_SNAPSHOT,
    ST_REPLAY,
    ST_ROUND_MAX,
    ST_ME,
    ST_ROW,
    ST_RATINGS,
    ST_LOG,
    ST_LOG_READ,
    ST_LOG_CLEAR,
    ST_LOG_COUNT,
    ST_MAX_ID,
    ST_COUNT
};

static const struct {
    const char *name; /* for error messages */
    const char *sql;
} stmt_sql[ST_COUNT] = {
    /* IMMEDIATE takes the write lock now, so a locked database fails the begin, not a result. */
    [ST_BEGIN] = {"begin", "BEGIN IMMEDIATE"},
    [ST_COMMIT] = {"commit", "COMMIT"},
    [ST_ROLLBACK] = {"rollback", "ROLLBACK"},
    [ST_FIND] = {"find player", SQL_FIND},
    /* A name taken in any case stores nothing: sqlite3_changes tells. */
    [ST_CREATE] = {"create player", "INSERT INTO players(name, secret_hash, created)"
                                    " VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING"},
    [ST_CLAIM] = {"claim player", "UPDATE players SET secret_hash = ?2"
                                  " WHERE id = ?1 AND name IS NOT NULL AND secret_hash IS NULL"},
    [ST_SET_HASH] = {"set secret", "UPDATE players SET secret_hash = ?2"
                                   " WHERE id = ?1 AND name IS NOT NULL"},
    [ST_NAMED] = {"find named player", "SELECT 1 FROM players WHERE id = ?1 AND name IS NOT NULL"},
    [ST_TOTALS] = {"add totals", "UPDATE players SET wins = wins + ?2, losses = losses + ?3,"
                                 " draws = draws + ?4, rounds = rounds + ?5 WHERE id = ?1"},
    [ST_LOAD] = {"read rating", "SELECT " RATED_COLS " FROM players WHERE id = ?1"},
    [ST_LOAD_ALL] = {"read ratings", "SELECT " RATED_COLS ", id FROM players WHERE rated > 0"},
    [ST_ROUND] = {"store round", "INSERT INTO rounds(at, a, b, move_a, move_b, outcome, timeout,"
                                 " rating_a, rating_b, prev_a, prev_b)"
                                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"},
    /* The roster's entry into its row: results as additions (the tally fold adds to the same
     * totals), the rest as it is now. */
    [ST_WRITE_BACK] = {"write back player",
                       "UPDATE players SET wins = wins + ?2, losses = losses + ?3,"
                       " draws = draws + ?4, rounds = rounds + ?2 + ?3 + ?4, rating = ?5,"
                       " rated = ?6, rated_at = ?7, form = ?8, last_round = ?9 WHERE id = ?1"},
    [ST_SNAPSHOT_READ] = {"read snapshot", "SELECT round FROM snapshot"},
    [ST_SNAPSHOT] = {"write snapshot", "UPDATE snapshot SET round = ?1"},
    [ST_REPLAY] = {"replay rounds", SQL_REPLAY},
    [ST_ROUND_MAX] = {"last round", "SELECT coalesce(max(id), 0) FROM rounds"},
    [ST_ME] = {"find ranked player", SQL_ME},
    [ST_ROW] = {"read player", SQL_ROW},
    [ST_RATINGS] = {"rating history", SQL_RATINGS},
    [ST_LOG] = {"log tallies", "INSERT INTO tallies(counts) VALUES (?1)"},
    [ST_LOG_READ] = {"read tallies", "SELECT id, counts FROM tallies ORDER BY id"},
    [ST_LOG_CLEAR] = {"clear tallies", "DELETE FROM tallies WHERE id <= ?1"},
    [ST_LOG_COUNT] = {"count tallies", "SELECT count(*) FROM tallies"},
    [ST_MAX_ID] = {"last player", "SELECT coalesce(max(id), 0) FROM players"},
};

/* Prepared for store_plan only: diagnostics, not the loop's path, so prepared on demand. */
static const struct {
    const char *name;
    const char *sql;
} plan_sql[] = {
    {"find", "EXPLAIN QUERY PLAN " SQL_FIND},
    {"me", "EXPLAIN QUERY PLAN " SQL_ME},
    {"row", "EXPLAIN QUERY PLAN " SQL_ROW},
    {"history", "EXPLAIN QUERY PLAN " SQL_RATINGS},
    {"replay", "EXPLAIN QUERY PLAN " SQL_REPLAY},
};

/* Bot rounds of one player: one entry of the tally log. */
struct tally {
    int64_t player;
    int64_t wins, losses, draws;
};

/* A growable array of tallies; as a fold's sum, an open-addressing table keyed by player. */
struct tallies {
    struct tally *t;
    size_t n, cap;
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT]; /* indexed by enum stmt_id */
    struct tallies batch;         /* this batch's bot rounds, logged by store_commit */
    struct tallies sum;           /* scratch for store_fold */
    unsigned char *blob;          /* scratch for the encoded log entry */
    size_t blob_cap;
    int64_t last_player;          /* highest player id: totals for any other are refused */
    int unfolded;                 /* the tally log may hold rows */
    int busy;                     /* the last failure was a lock held by another process */
    struct board_row top[STORE_TOP_MAX]; /* the leaderboard's top, as last read */
    int ntop;                     /* rows in top; -1: to be read again */
    int rated;                    /* the open batch has rated rounds: the top changes at its commit */
    uint64_t board_version;       /* moves each time the top may have changed */
    int full;                     /* the last failure was a full disk (or a file size limit) */
    struct roster roster;         /* every rated player (roster.h) */
    struct ladder *ladder;        /* the named ones among them, in leaderboard order */
    struct undo *undo;            /* the open batch's roster entries as they were */
    size_t nundo, undo_cap;
    size_t roster_at_begin;       /* entries before the open batch: the rest are its own */
    int64_t round_max;            /* the last committed round */
    int64_t batch_round_max;      /* the open batch's last round */
    int64_t snapshot;             /* every round up to this one is in its players' rows */
    size_t sweep_at;              /* the roster entry store_sweep visits next */
    int64_t sweep_from;           /* round_max when the sweep's current pass began */
    struct checkpointer *ckpt;    /* checkpoints off the loop (store_background), or NULL */
    int sync_full;                /* synchronous FULL rather than NORMAL */
    int wal_frames;               /* frames in the WAL after the last commit */
    int wal_finish_at;            /* frames at which to ask for the checkpointer's last pass */
    int restarting;               /* a last pass was asked for: the next write starts the WAL over */
};

/* A roster entry before the open batch changed it. */
struct undo {
    size_t index;
    struct roster_entry before;
};

/* The top may have changed: read it again when asked, and let watchers know. */
static void stale_top(struct store *st)
{
    st->ntop = -1;
    st->board_version++;
}

uint64_t store_board_version(const struct store *st)
{
    return st->board_version;
}

/* The ranked player as store_rank needs it. */
struct ranked {
    struct board_row row;
    int64_t id;
};

static int fail(struct store *st, const char *what, char *err, size_t errlen)
{
    int rc = sqlite3_errcode(st->db) & 0xff;   /* the primary code of an extended one */
    st->busy = rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
    st->full = rc == SQLITE_FULL || rc == SQLITE_IOERR;
    snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(st->db));
    return -1;
}

int store_busy(const struct store *st)
{
    return st->busy;
}

int store_full(const struct store *st)
{
    return st->full;
}


static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
    snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

static int in_batch(struct store *st)
{
    return !sqlite3_get_autocommit(st->db);
}

static int need_batch(struct store *st, char *err, size_t errlen)
{
    if (!in_batch(st)) {
        snprintf(err, errlen, "no batch open");
        return -1;
    }
    return 0;
}

/* Step a statement that returns no row to completion, then reset it for the next use. */
static int run(struct store *st, enum stmt_id id, char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[id];
    int rc = sqlite3_step(s);

    if (rc != SQLITE_DONE) {
        fail(st, stmt_sql[id].name, err, errlen);
        sqlite3_reset(s);
        return -1;
    }
    sqlite3_reset(s);
    return 0;
}

/* Run one statement outside the table (pragmas at open), discarding rows; text of the first
 * column of the first row goes to out when it is not NULL. */
static int exec_once(struct store *st, const char *sql, char *out, size_t outlen, char *err,
                     size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc;

    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        return fail(st, sql, err, errlen);
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (out != NULL) {
            const unsigned char *text = sqlite3_column_text(s, 0);

            snprintf(out, outlen, "%s", text ? (const char *)text : "");
            out = NULL;
        }
    }
    if (rc != SQLITE_DONE) {
        fail(st, sql, err, errlen);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int user_version(struct store *st, int *version, char *err, size_t errlen)
{
    char text[32] = "";

    if (exec_once(st, "PRAGMA user_version", text, sizeof(text), err, errlen) != 0) {
        return -1;
    }
    *version = atoi(text);
    return 0;
}

static int refuse_newer(int version, char *err, size_t errlen)
{
    if (version > MIGRATIONS) {
        snprintf(err, errlen, "database schema version %d is newer than this arcade knows (%d)",
                 version, MIGRATIONS);
        return -1;
    }
    return 0;
}

/* Migration 3's fix, step by step; each returns SQLITE_OK, SQLITE_ROW or SQLITE_DONE as said, or
 * SQLite's error code (the message is then the connection's). Their SQL is their own, not
 * stmt_sql's: a migration must keep working when later versions change the statements. */

/* SQLITE_ROW with *id and name set to the next collider after *id, or SQLITE_DONE. */
static int next_collider(sqlite3_stmt *s, int64_t *id, char *name)
{
    int rc = sqlite3_bind_int64(s, 1, *id);

    if (rc != SQLITE_OK) {
        return rc;
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        copy_text(name, STORE_NAME_MAX + 1, sqlite3_column_text(s, 1));
    }
    sqlite3_reset(s);
    return rc;
}

/* SQLITE_OK with out (room for STORE_NAME_MAX + 1) set to the first of name-id, name-id-2,
 * name-id-3... that no player has in any case, the name part cut to keep the whole within
 * STORE_NAME_MAX bytes. taken finds a name in any case. */
static int free_name(sqlite3_stmt *taken, const char *name, int64_t id, char *out)
{
    for (int k = 1;; k++) {
        char tail[48];
        int n = k == 1 ? snprintf(tail, sizeof(tail), "-%lld", (long long)id)
                       : snprintf(tail, sizeof(tail), "-%lld-%d", (long long)id, k);
        /* n is at most 31 (a 19-digit id, a 10-digit k): some of the name always stays. */
        size_t cut = strnlen(name, (size_t)(STORE_NAME_MAX - n));
        int rc;

        memcpy(out, name, cut);
        memcpy(out + cut, tail, (size_t)n + 1);
        rc = sqlite3_bind_text(taken, 1, out, -1, SQLITE_STATIC);
        if (rc != SQLITE_OK) {
            return rc;
        }
        rc = sqlite3_step(taken);
        sqlite3_reset(taken);
        if (rc != SQLITE_ROW) {
            return rc == SQLITE_DONE ? SQLITE_OK : rc;
        }
    }
}

static int rename_player(sqlite3_stmt *s, int64_t id, const char *name)
{
    int rc = sqlite3_bind_int64(s, 1, id);

    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        sqlite3_reset(s);
    }
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Names that differ only in case: the oldest player keeps its name, each other one is renamed by
 * free_name. Renames go in id order, each checked against every name there is at that moment,
 * so no two names end up the same in any case. */
static int rename_collisions(struct store *st, char *err, size_t errlen)
{
    sqlite3_stmt *next = NULL, *taken = NULL, *rename = NULL;
    char name[STORE_NAME_MAX + 1], fresh[STORE_NAME_MAX + 1];
    int64_t id = 0;
    int rc = sqlite3_prepare_v2(st->db, SQL_COLLIDER, -1, &next, NULL);

    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(st->db, "SELECT 1 FROM players WHERE name = ?1 COLLATE NOCASE", -1,
                                &taken, NULL);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(st->db, "UPDATE players SET name = ?2 WHERE id = ?1", -1, &rename,
                                NULL);
    }
    while (rc == SQLITE_OK && (rc = next_collider(next, &id, name)) == SQLITE_ROW) {
        rc = free_name(taken, name, id, fresh);
        if (rc == SQLITE_OK) {
            rc = rename_player(rename, id, fresh);
        }
    }
    if (rc != SQLITE_DONE) {
        fail(st, "migration to version 3: names differing only in case", err, errlen);
    }
    sqlite3_finalize(next);
    sqlite3_finalize(taken);
    sqlite3_finalize(rename);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* One script of the migration to version v; NULL is nothing to run. */
static int migration_script(struct store *st, const char *sql, int v, char *err, size_t errlen)
{
    char *msg = NULL;

    if (sql == NULL || sqlite3_exec(st->db, sql, NULL, NULL, &msg) == SQLITE_OK) {
        return 0;
    }
    snprintf(err, errlen, "migration to version %d: %s", v, msg ? msg : "failed");
    sqlite3_free(msg);
    return -1;
}

/* Apply the migrations the database lacks, inside the caller's transaction; the version is read
 * again under the write lock, in case another process migrated in the meantime. */
static int migrate_locked(struct store *st, char *err, size_t errlen)
{
    int version;

    if (user_version(st, &version, err, errlen) != 0 || refuse_newer(version, err, errlen) != 0) {
        return -1;
    }
    for (int v = version; v < MIGRATIONS; v++) {
        int now;

        if (migration_script(st, migrations[v].sql, v + 1, err, errlen) != 0 ||
            (migrations[v].fix != NULL && migrations[v].fix(st, err, errlen) != 0) ||
            migration_script(st, migrations[v].finish, v + 1, err, errlen) != 0 ||
            user_version(st, &now, err, errlen) != 0) {
            return -1;
        }
        if (now != v + 1) {
            snprintf(err, errlen, "migration to version %d left version %d", v + 1, now);
            return -1;
        }
    }
    return 0;
}

static int migrate(struct store *st, char *err, size_t errlen)
{
    int version;

    if (user_version(st, &version, err, errlen) != 0 || refuse_newer(version, err, errlen) != 0) {
        return -1;
    }
    if (version == MIGRATIONS) {
        return 0;
    }
    if (exec_once(st, "BEGIN IMMEDIATE", NULL, 0, err, errlen) != 0) {
        return -1;
    }
    if (migrate_locked(st, err, errlen) != 0) {
        exec_once(st, "ROLLBACK", NULL, 0, NULL, 0);
        return -1;
    }
    return exec_once(st, "COMMIT", NULL, 0, err, errlen);
}

static int configure(struct store *st, int sync_full, char *err, size_t errlen)
{
    char mode[16] = "";
    const char *sync = sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL";

    if (exec_once(st, "PRAGMA journal_mode = WAL", mode, sizeof(mode), err, errlen) != 0) {
        return -1;
    }
    /* The pragma answers with the mode in force, which stays the old one when WAL is impossible. */
    if (strcmp(mode, "wal") != 0) {
        snprintf(err, errlen, "cannot use WAL journal (mode is %s)", mode);
        return -1;
    }
    if (exec_once(st, sync, NULL, 0, err, errlen) != 0) {
        return -1;
    }
    return exec_once(st, "PRAGMA foreign_keys = ON", NULL, 0, err, errlen);
}

static int prepare_all(struct store *st, char *err, size_t errlen)
{
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(st->db, stmt_sql[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
                               &st->stmt[i], NULL) != SQLITE_OK) {
            return fail(st, stmt_sql[i].name, err, errlen);
        }
    }
    return 0;
}

/* The tally log's encoding: per tally, player, wins, losses and draws as unsigned LEB128
 * varints, so a batch of a hundred players is a few hundred bytes in one row. */
static size_t put_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

/* Returns the bytes read, or 0 for a truncated or overlong varint. */
static size_t get_varint(const unsigned char *p, size_t len, uint64_t *v)
{
    *v = 0;
    for (size_t i = 0; i < len && i < 10; i++) {
        *v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            return i + 1;
        }
    }
    return 0;
}

static int tallies_push(struct tallies *a, const struct tally *t)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        struct tally *p = realloc(a->t, cap * sizeof(*p));
        if (p == NULL) {
            return -1;
        }
        a->t = p;
        a->cap = cap;
    }
    a->t[a->n++] = *t;
    return 0;
}

/* Add t into the sum table (player 0 marks a free slot; load kept under one half). */
static int sum_add(struct tallies *m, const struct tally *t)
{
    if (2 * (m->n + 1) > m->cap) {
        struct tallies bigger = { .cap = m->cap ? m->cap * 2 : 256 };
        if ((bigger.t = calloc(bigger.cap, sizeof(*bigger.t))) == NULL) {
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (m->t[i].player != 0) {
                sum_add(&bigger, &m->t[i]);
            }
        }
        free(m->t);
        *m = bigger;
    }
    size_t i = ((uint64_t)t->player * 0x9e3779b97f4a7c15ULL >> 32) & (m->cap - 1);
    while (m->t[i].player != 0 && m->t[i].player != t->player) {
        i = (i + 1) & (m->cap - 1);
    }
    if (m->t[i].player == 0) {
        m->t[i].player = t->player;
        m->n++;
    }
    m->t[i].wins += t->wins;
    m->t[i].losses += t->losses;
    m->t[i].draws += t->draws;
    return 0;
}

/* Append the batch's tallies to the log, as one row. */
static int log_batch(struct store *st, char *err, size_t errlen)
{
    size_t need = st->batch.n * 4 * 10;
    if (need > st->blob_cap) {
        unsigned char *p = realloc(st->blob, need);
        if (p == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        st->blob = p;
        st->blob_cap = need;
    }
    size_t len = 0;
    for (size_t i = 0; i < st->batch.n; i++) {
        const struct tally *t = &st->batch.t[i];
        len += put_varint(st->blob + len, (uint64_t)t->player);
        len += put_varint(st->blob + len, (uint64_t)t->wins);
        len += put_varint(st->blob + len, (uint64_t)t->losses);
        len += put_varint(st->blob + len, (uint64_t)t->draws);
    }
    if (sqlite3_bind_blob(st->stmt[ST_LOG], 1, st->blob, (int)len, SQLITE_STATIC) != SQLITE_OK) {
        return fail(st, stmt_sql[ST_LOG].name, err, errlen);
    }
    int rc = run(st, ST_LOG, err, errlen);
    sqlite3_clear_bindings(st->stmt[ST_LOG]);
    return rc;
}

/* Add one log row's tallies into the sum; a malformed row is skipped whole. */
static int sum_row(struct tallies *sum, const unsigned char *p, size_t len)
{
    struct tallies row = { 0 };
    size_t pos = 0;
    int rc = 0;

    while (pos < len && rc == 0) {
        uint64_t v[4];
        for (int k = 0; k < 4; k++) {
            size_t used = get_varint(p + pos, len - pos, &v[k]);
            if (used == 0) {
                free(row.t);
                return 0;
            }
            pos += used;
        }
        struct tally t = { (int64_t)v[0], (int64_t)v[1], (int64_t)v[2], (int64_t)v[3] };
        rc = t.player > 0 ? tallies_push(&row, &t) : 0;
    }
    for (size_t i = 0; i < row.n && rc == 0; i++) {
        rc = sum_add(sum, &row.t[i]);
    }
    free(row.t);
    return rc;
}

static int add_totals(struct store *st, const struct tally *t, char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[ST_TOTALS];
    int bad = 0;

    bad |= sqlite3_bind_int64(s, 1, t->player) != SQLITE_OK;
    bad |= sqlite3_bind_int64(s, 2, t->wins) != SQLITE_OK;
    bad |= sqlite3_bind_int64(s, 3, t->losses) != SQLITE_OK;
    bad |= sqlite3_bind_int64(s, 4, t->draws) != SQLITE_OK;
    bad |= sqlite3_bind_int64(s, 5, t->wins + t->losses + t->draws) != SQLITE_OK;
    if (bad) {
        return fail(st, stmt_sql[ST_TOTALS].name, err, errlen);
    }
    return run(st, ST_TOTALS, err, errlen);
}

/* Sum the log from its start, row by row, until the sum holds max_players players or the log
 * ends; add the sum into players and delete the rows it took, in the caller's transaction. *more
 * says whether rows were left. */
static int fold_locked(struct store *st, size_t max_players, int *more, char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[ST_LOG_READ];
    int64_t last = 0;
    int rc;

    if (st->sum.t != NULL) {
        memset(st->sum.t, 0, st->sum.cap * sizeof(*st->sum.t));
    }
    st->sum.n = 0;
    *more = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (st->sum.n >= max_players) {
            *more = 1;
            break;
        }
        last = sqlite3_column_int64(s, 0);
        if (sum_row(&st->sum, sqlite3_column_blob(s, 1), (size_t)sqlite3_column_bytes(s, 1)) != 0) {
            sqlite3_reset(s);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        sqlite3_reset(s);
        return fail(st, stmt_sql[ST_LOG_READ].name, err, errlen);
    }
    sqlite3_reset(s);
    for (size_t i = 0; i < st->sum.cap; i++) {
        if (st->sum.t[i].player != 0 && add_totals(st, &st->sum.t[i], err, errlen) != 0) {
            return -1;
        }
    }
    if (sqlite3_bind_int64(st->stmt[ST_LOG_CLEAR], 1, last) != SQLITE_OK) {
        return fail(st, stmt_sql[ST_LOG_CLEAR].name, err, errlen);
    }
    return run(st, ST_LOG_CLEAR, err, errlen);
}

int store_fold_step(struct store *st, size_t max_players, char *err, size_t errlen)
{
    int more = 0;

    if (!st->unfolded) {
        return 0;
    }
    if (in_batch(st)) {
        snprintf(err, errlen, "cannot fold inside a batch");
        return -1;
    }
    if (run(st, ST_BEGIN, err, errlen) != 0) {
        return -1;
    }
    if (fold_locked(st, max_players, &more, err, errlen) != 0 || run(st, ST_COMMIT, err, errlen) != 0) {
        store_rollback(st);
        return -1;
    }
    st->unfolded = more;
    stale_top(st);
    return 0;
}

int store_fold(struct store *st, char *err, size_t errlen)
{
    while (st->unfolded) {
        if (store_fold_step(st, SIZE_MAX, err, errlen) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Totals read outside a batch include every logged round; when the fold cannot run now (the
 * database is busy), the read answers from the totals as they are. */
static void fold_for_read(struct store *st)
{
    char ignored[64];
    if (!in_batch(st)) {
        store_fold(st, ignored, sizeof(ignored));
    }
}

/* One integer from a statement that returns a single row. */
static int query_int(struct store *st, enum stmt_id id, int64_t *v, char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[id];
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *v = sqlite3_column_int64(s, 0);
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? 0 : fail(st, stmt_sql[id].name, err, errlen);
}

/* Every connection of a store is used by one thread: no mutexes, and no
 * global allocation statistics (each malloc would take a lock to count it).
 * sqlite3_config only works before SQLite initialises; later calls change
 * nothing and are harmless. */
static void configure_library(void)
{
    static int done;
    if (!done) {
        done = 1;
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    }
}

struct store *store_open(const char *path, int sync_full, char *err, size_t errlen)
{
    struct store *st = calloc(1, sizeof(*st));

    configure_library();
    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2(path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "open %s: %s", path, sqlite3_errmsg(st->db));
        goto fail;
    }
    sqlite3_extended_result_codes(st->db, 1);
    st->sync_full = sync_full;
    sqlite3_busy_timeout(st->db, STORE_OPEN_BUSY_MS);
    int64_t logged = 0;
    if (migrate(st, err, errlen) != 0 || configure(st, sync_full, err, errlen) != 0 ||
        prepare_all(st, err, errlen) != 0 || query_int(st, ST_MAX_ID, &st->last_player, err, errlen) != 0 ||
        query_int(st, ST_LOG_COUNT, &logged, err, errlen) != 0 || load_rated(st, err, errlen) != 0) {
        goto fail;
    }
    /* From now on the loop serves: a lock held elsewhere fails at once, and the caller retries. */
    sqlite3_busy_timeout(st->db, 0);
    /* Tallies left by a crash are folded now; if the database is busy, the next fold does it. */
    st->unfolded = logged > 0;
    stale_top(st);
    char ignored[64];
    store_fold(st, ignored, sizeof(ignored));
    return st;
fail:
    store_close(st);
    return NULL;
}

void store_close(struct store *st)
{
    if (st == NULL) {
        return;
    }
    if (st->db != NULL && st->stmt[ST_COUNT - 1] != NULL && st->ladder != NULL && !in_batch(st)) {
        char ignored[64];
        /* What the sweep has not written yet is in rounds: the next open replays it. */
        store_sweep_all(st, ignored, sizeof(ignored));
        store_fold(st, ignored, sizeof(ignored));
    }
    checkpointer_stop(st->ckpt);
    roster_free(&st->roster);
    ladder_free(st->ladder);
    free(st->undo);
    free(st->batch.t);
    free(st->sum.t);
    free(st->blob);
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(st->stmt[i]);
    }
    /* Closing rolls back an open batch. */
    sqlite3_close(st->db);
    free(st);
}

int store_checkpoint(struct store *st, int truncate, char *err, size_t errlen)
{
    if (in_batch(st)) {
        snprintf(err, errlen, "a batch is open");
        return -1;
    }
    int mode = truncate ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE;
    if (sqlite3_wal_checkpoint_v2(st->db, NULL, mode, NULL, NULL) != SQLITE_OK) {
        return fail(st, "checkpoint", err, errlen);
    }
    return 0;
}

/* SQLite calls this after each commit on the store's connection, with the WAL's length. Having a
 * hook turns SQLite's own checkpoints inside commits off. */
static int wal_written(void *arg, sqlite3 *db, const char *name, int frames)
{
    struct store *st = arg;

    (void)db;
    (void)name;
    if (frames < st->wal_frames) {
        st->wal_finish_at = STORE_WAL_FINISH;   /* the WAL started over */
    }
    st->wal_frames = frames;
    /* Any write after a last pass, a batch's or not (the sweep, a new account), is the one that
     * starts the WAL over: the thread may checkpoint again. */
    if (st->restarting) {
        checkpointer_resume(st->ckpt);
        st->restarting = 0;
    }
    if (frames >= st->wal_finish_at) {
        checkpointer_finish(st->ckpt);
        st->restarting = 1;
        st->wal_finish_at = frames + STORE_WAL_FINISH;
    }
    checkpointer_written(st->ckpt);
    return SQLITE_OK;
}

int store_background(struct store *st, void (*done)(void *arg), void *arg, char *err, size_t errlen)
{
    const char *file = sqlite3_db_filename(st->db, "main");

    if (st->ckpt != NULL) {
        return 0;
    }
    if (file == NULL || file[0] == '\0') {
        snprintf(err, errlen, "checkpointer: the database has no file");
        return -1;
    }
    st->ckpt = checkpointer_start(file, st->sync_full, done, arg, err, errlen);
    if (st->ckpt == NULL) {
        return -1;
    }
    st->wal_finish_at = STORE_WAL_FINISH;
    sqlite3_wal_hook(st->db, wal_written, st);
    return 0;
}

int store_paused(struct store *st)
{
    return st->ckpt != NULL && checkpointer_finishing(st->ckpt);
}

void store_background_counts(struct store *st, struct checkpointer_counts *n, char *err, size_t errlen)
{
    if (st->ckpt == NULL) {
        memset(n, 0, sizeof(*n));
        snprintf(err, errlen, "%s", "");
        return;
    }
    checkpointer_counts(st->ckpt, n, err, errlen);
}

int store_begin(struct store *st, char *err, size_t errlen)
{
    st->busy = st->full = 0;
    if (in_batch(st)) {
        snprintf(err, errlen, "a batch is already open");
        return -1;
    }
    st->nundo = 0;
    st->roster_at_begin = st->roster.n;
    return run(st, ST_BEGIN, err, errlen);
}

int store_commit(struct store *st, char *err, size_t errlen)
{
    if (need_batch(st, err, errlen) != 0) {
        return -1;
    }
    if ((st->batch.n == 0 || log_batch(st, err, errlen) == 0) && run(st, ST_COMMIT, err, errlen) == 0) {
        st->unfolded |= st->batch.n > 0;
        st->batch.n = 0;
        st->nundo = 0;
        st->roster_at_begin = st->roster.n;
        st->round_max = st->batch_round_max;
        if (st->rated) {
            stale_top(st);
        }
        st->rated = 0;
        return 0;
    }
    /* Some failures (busy) leave the transaction open; the batch is lost either way. */
    store_rollback(st);
    return -1;
}

void store_rollback(struct store *st)
{
    /* A top read inside the batch holds its rounds: read it again. The version stays: outside
     * the batch, the top is what it was before. */
    if (st->rated) {
        st->ntop = -1;
    }
    st->batch.n = 0;
    st->rated = 0;
    undo_batch(st);
    if (in_batch(st)) {
        sqlite3_step(st->stmt[ST_ROLLBACK]);
        sqlite3_reset(st->stmt[ST_ROLLBACK]);
    }
}

int store_writable(struct store *st, char *err, size_t errlen)
{
    if (in_batch(st)) {
        return 0;   /* a batch is being written */
    }
    st->busy = st->full = 0;
    if (sqlite3_db_readonly(st->db, "main") == 1) {
        snprintf(err, errlen, "the database is read-only");
        return -1;
    }
    if (run(st, ST_BEGIN, err, errlen) != 0) {
        return -1;
    }
    sqlite3_step(st->stmt[ST_ROLLBACK]);
    sqlite3_reset(st->stmt[ST_ROLLBACK]);
    /* No file name: a temporary or in-memory database, whose room is memory. */
    const char *file = sqlite3_db_filename(st->db, "main");
    struct statvfs fs;
    if (file != NULL && file[0] != '\0' && statvfs(file, &fs) == 0 &&
        (uint64_t)fs.f_bavail * fs.f_frsize < STORE_ROOM_MIN) {
        st->full = 1;
        snprintf(err, errlen, "disk full: %llu KiB free", (unsigned long long)fs.f_bavail * fs.f_frsize / 1024);
        return -1;
    }
    return 0;
}

static int need_no_batch(struct store *st, char *err, size_t errlen)
{
    if (in_batch(st)) {
        snprintf(err, errlen, "not allowed inside a batch");
        return -1;
    }
    return 0;
}

static int check_name(const char *name, char *err, size_t errlen)
{
    size_t len = name ? strlen(name) : 0;

    if (len == 0 || len > STORE_NAME_MAX) {
        snprintf(err, errlen, "bad name length %zu", len);
        return -1;
    }
    return 0;
}

/* Fill acct from a row of SQL_FIND. Returns 0, or -1 for a hash of the wrong size: the schema's
 * CHECK keeps one out, but were one there, the name must not pass for unclaimed. */
static int account_fill(sqlite3_stmt *s, struct store_account *acct, char *err, size_t errlen)
{
    const void *hash = sqlite3_column_blob(s, 2);

    acct->id = sqlite3_column_int64(s, 0);
    copy_text(acct->name, sizeof(acct->name), sqlite3_column_text(s, 1));
    acct->registered = hash != NULL;
    memset(acct->hash, 0, sizeof(acct->hash));
    if (hash == NULL) {
        return 0;
    }
    if (sqlite3_column_bytes(s, 2) != STORE_HASH_LEN) {
        snprintf(err, errlen, "player %lld: bad secret hash", (long long)acct->id);
        return -1;
    }
    memcpy(acct->hash, hash, sizeof(acct->hash));
    return 0;
}

/* Returns 1 with *acct filled, 0 when there is no such player, -1 on error. */
static int find_account(struct store *st, const char *name, struct store_account *acct, char *err,
                        size_t errlen)
{
    sqlite3_stmt *s = st->stmt[ST_FIND];
    int found = -1;
    int rc;

    if (sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC) != SQLITE_OK) {
        return fail(st, stmt_sql[ST_FIND].name, err, errlen);
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        found = account_fill(s, acct, err, errlen) == 0 ? 1 : -1;
    } else if (rc == SQLITE_DONE) {
        found = 0;
    } else {
        fail(st, stmt_sql[ST_FIND].name, err, errlen);
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return found;
}

/* Insert a player; name NULL makes a guest, hash NULL an unclaimed name. Returns its id, 0 when
 * the name is taken in any case, or -1. */
static int64_t create_player(struct store *st, const char *name, const unsigned char *hash,
                             char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[ST_CREATE];
    int bad = 0;

    bad |= (name ? sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC) : sqlite3_bind_null(s, 1)) !=
           SQLITE_OK;
    bad |= (hash ? sqlite3_bind_blob(s, 2, hash, STORE_HASH_LEN, SQLITE_STATIC)
                 : sqlite3_bind_null(s, 2)) != SQLITE_OK;
    bad |= sqlite3_bind_int64(s, 3, (int64_t)time(NULL)) != SQLITE_OK;
    if (bad) {
        return fail(st, stmt_sql[ST_CREATE].name, err, errlen);
    }
    int rc = run(st, ST_CREATE, err, errlen);
    sqlite3_clear_bindings(s);
    if (rc != 0) {
        return -1;
    }
    if (sqlite3_changes(st->db) == 0) {
        return 0;
    }
    int64_t id = sqlite3_last_insert_rowid(st->db);
    if (id > st->last_player) {
        st->last_player = id;
    }
    return id;
}

int64_t store_player(struct store *st, const char *name, char *err, size_t errlen)
{
    struct store_account acct;
    int64_t id;
    int found;

    if (check_name(name, err, errlen) != 0) {
        return -1;
    }
    found = find_account(st, name, &acct, err, errlen);
    if (found != 0) {
        return found > 0 ? acct.id : -1;
    }
    id = create_player(st, name, NULL, err, errlen);
    if (id == 0) {
        /* Only another connection could have stored the name since the find. */
        snprintf(err, errlen, "player %s created meanwhile by another connection", name);
        return -1;
    }
    return id;
}

int store_account_find(struct store *st, const char *name, struct store_account *acct, char *err,
                       size_t errlen)
{
    if (need_no_batch(st, err, errlen) != 0 || check_name(name, err, errlen) != 0) {
        return -1;
    }
    return find_account(st, name, acct, err, errlen);
}

int store_account_create(struct store *st, const char *name, const unsigned char *hash,
                         struct store_account *acct, char *err, size_t errlen)
{
    int64_t id;

    if (need_no_batch(st, err, errlen) != 0 || check_name(name, err, errlen) != 0) {
        return -1;
    }
    id = create_player(st, name, hash, err, errlen);
    if (id <= 0) {
        return (int)id;
    }
    acct->id = id;
    snprintf(acct->name, sizeof(acct->name), "%s", name);
    acct->registered = hash != NULL;
    memset(acct->hash, 0, sizeof(acct->hash));
    if (hash != NULL) {
        memcpy(acct->hash, hash, sizeof(acct->hash));
    }
    return 1;
}

/* Run ST_CLAIM or ST_SET_HASH for player with hash (NULL: none); returns the rows changed (0 or
 * 1) or -1. */
static int write_hash(struct store *st, enum stmt_id which, int64_t player,
                      const unsigned char *hash, char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[which];
    int bad = 0;

    if (need_no_batch(st, err, errlen) != 0) {
        return -1;
    }
    bad |= sqlite3_bind_int64(s, 1, player) != SQLITE_OK;
    bad |= (hash ? sqlite3_bind_blob(s, 2, hash, STORE_HASH_LEN, SQLITE_STATIC)
                 : sqlite3_bind_null(s, 2)) != SQLITE_OK;
    if (bad) {
        return fail(st, stmt_sql[which].name, err, errlen);
    }
    int rc = run(st, which, err, errlen);
    sqlite3_clear_bindings(s);
    return rc != 0 ? -1 : sqlite3_changes(st->db);
}

/* 0 when player is a named player, else -1 with the reason. */
static int need_named(struct store *st, int64_t player, char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[ST_NAMED];
    int rc;

    if (sqlite3_bind_int64(s, 1, player) != SQLITE_OK) {
        return fail(st, stmt_sql[ST_NAMED].name, err, errlen);
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        snprintf(err, errlen, "no named player %lld", (long long)player);
    } else if (rc != SQLITE_ROW) {
        fail(st, stmt_sql[ST_NAMED].name, err, errlen);
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? 0 : -1;
}

int store_account_claim(struct store *st, int64_t id, const unsigned char *hash, char *err,
                        size_t errlen)
{
    int changed;

    if (hash == NULL) {
        snprintf(err, errlen, "claim without a hash");
        return -1;
    }
    changed = write_hash(st, ST_CLAIM, id, hash, err, errlen);
    if (changed != 0) {
        return changed;
    }
    /* Nothing changed: the player has a hash already, or there is no such player. */
    return need_named(st, id, err, errlen);
}

int store_account_set_hash(struct store *st, int64_t id, const unsigned char *hash, char *err,
                           size_t errlen)
{
    int changed = write_hash(st, ST_SET_HASH, id, hash, err, errlen);

    if (changed == 0) {
        snprintf(err, errlen, "no named player %lld", (long long)id);
        return -1;
    }
    return changed < 0 ? -1 : 0;
}

int64_t store_guest(struct store *st, char *err, size_t errlen)
{
    return create_player(st, NULL, NULL, err, errlen);
}

int store_add_totals(struct store *st, int64_t player, int wins, int losses, int draws, char *err,
                     size_t errlen)
{
    if (need_batch(st, err, errlen) != 0) {
        return -1;
    }
    if (wins < 0 || losses < 0 || draws < 0) {
        snprintf(err, errlen, "negative totals");
        return -1;
    }
    if (player <= 0 || player > st->last_player) {
        snprintf(err, errlen, "add totals: no player %lld", (long long)player);
        return -1;
    }
    struct tally t = { player, wins, losses, draws };
    if (tallies_push(&st->batch, &t) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static void key_of(const struct roster_entry *e, struct ladder_key *k)
{
    k->rating = e->rating;
    k->rated_at = e->rated_at;
    k->id = e->id;
}

static int on_board(const struct roster_entry *e)
{
    return e->named && e->rated > 0;
}

/* Take the entry off the ladder, before its key changes. */
static void board_leave(struct store *st, const struct roster_entry *e)
{
    struct ladder_key k;

    if (on_board(e)) {
        key_of(e, &k);
        ladder_remove(st->ladder, &k);
    }
}

/* Put the entry on the ladder, if it belongs there. Returns 0, or -1 when out of memory. */
static int board_enter(struct store *st, const struct roster_entry *e)
{
    struct ladder_key k;

    if (!on_board(e)) {
        return 0;
    }
    key_of(e, &k);
    return ladder_add(st->ladder, &k);
}

/* Fill e from a row of RATED_COLS starting at column col. */
static void entry_fill(sqlite3_stmt *s, int col, struct roster_entry *e)
{
    e->rating = sqlite3_column_double(s, col);
    e->rated = sqlite3_column_int64(s, col + 1);
    e->rated_at = sqlite3_column_int64(s, col + 2);
    e->last_round = sqlite3_column_int64(s, col + 3);
    copy_text(e->form, sizeof(e->form), sqlite3_column_text(s, col + 4));
    e->named = sqlite3_column_int(s, col + 5) != 0;
    e->wins = e->losses = e->draws = 0;
    e->dirty = 0;
}

/* The roster index of the player's entry, read from its row the first time. Returns -1 when
 * there is no such player (or on error). */
static ssize_t entry_of(struct store *st, int64_t player, char *err, size_t errlen)
{
    struct roster_entry *found = roster_find(&st->roster, player);
    sqlite3_stmt *s = st->stmt[ST_LOAD];
    struct roster_entry e = { .id = player };
    int rc;

    if (found != NULL) {
        return found - st->roster.e;
    }
    if (sqlite3_bind_int64(s, 1, player) != SQLITE_OK) {
        return fail(st, stmt_sql[ST_LOAD].name, err, errlen);
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        entry_fill(s, 0, &e);
    } else if (rc == SQLITE_DONE) {
        snprintf(err, errlen, "no player %lld", (long long)player);
    } else {
        fail(st, stmt_sql[ST_LOAD].name, err, errlen);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW) {
        return -1;
    }
    if (roster_add(&st->roster, &e) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return (ssize_t)st->roster.n - 1;
}

/* One side's part of a rated round in its entry: result ('W', 'L', 'D'), rating after, round. The
 * rating's time (rated_at) moves only when the rating does: a draw between equal ratings leaves
 * both where they were, and whoever got there first stays ahead. */
static int entry_apply(struct store *st, size_t index, char result, double after, int64_t round)
{
    struct roster_entry *e = &st->roster.e[index];

    board_leave(st, e);
    if (after != e->rating) {
        e->rated_at = round;
    }
    e->rating = after;
    e->rated++;
    e->wins += result == 'W';
    e->losses += result == 'L';
    e->draws += result == 'D';
    roster_form_push(e->form, result);
    e->last_round = round;
    e->dirty = 1;
    return board_enter(st, e);
}

/* Keep the entry as it is now, to be put back if the batch is rolled back. */
static int undo_push(struct store *st, size_t index, char *err, size_t errlen)
{
    if (st->nundo == st->undo_cap) {
        size_t cap = st->undo_cap ? st->undo_cap * 2 : 64;
        struct undo *p = realloc(st->undo, cap * sizeof(*p));
        if (p == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        st->undo = p;
        st->undo_cap = cap;
    }
    st->undo[st->nundo].index = index;
    st->undo[st->nundo].before = st->roster.e[index];
    st->nundo++;
    return 0;
}

/* The batch is gone: every entry it changed goes back, newest change first, and the entries it
 * added are forgotten. */
static void undo_batch(struct store *st)
{
    while (st->nundo > 0) {
        const struct undo *u = &st->undo[--st->nundo];
        struct roster_entry *e = &st->roster.e[u->index];

        board_leave(st, e);
        *e = u->before;
        board_enter(st, e);
    }
    roster_truncate(&st->roster, st->roster_at_begin);
    st->batch_round_max = st->round_max;
}

static int check_round(int64_t a, int64_t b, int move_a, int move_b, char outcome, int timeout,
                       char *err, size_t errlen)
{
    if (a == b) {
        snprintf(err, errlen, "a player cannot play itself");
        return -1;
    }
    if (move_a < 0 || move_a > 3 || move_b < 0 || move_b > 3) {
        snprintf(err, errlen, "bad move");
        return -1;
    }
    if (outcome != 'W' && outcome != 'L' && outcome != 'D') {
        snprintf(err, errlen, "bad outcome");
        return -1;
    }
    if (timeout != 0 && timeout != 1) {
        snprintf(err, errlen, "bad timeout flag");
        return -1;
    }
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The round's row; returns its id or -1. */
static int64_t insert_round(struct store *st, int64_t a, int64_t b, int move_a, int move_b,
                            char outcome, int timeout, const struct roster_entry *ea,
                            const struct roster_entry *eb, double after_a, double after_b,
                            char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[ST_ROUND];
    char out[2] = {outcome, '\0'};
    int bad = 0;

    bad |= sqlite3_bind_int64(s, 1, now_ms()) != SQLITE_OK;
    bad |= sqlite3_bind_int64(s, 2, a) != SQLITE_OK;
    bad |= sqlite3_bind_int64(s, 3, b) != SQLITE_OK;
    bad |= sqlite3_bind_int(s, 4, move_a) != SQLITE_OK;
    bad |= sqlite3_bind_int(s, 5, move_b) != SQLITE_OK;
    bad |= sqlite3_bind_text(s, 6, out, 1, SQLITE_TRANSIENT) != SQLITE_OK;
    bad |= sqlite3_bind_int(s, 7, timeout) != SQLITE_OK;
    bad |= sqlite3_bind_double(s, 8, after_a) != SQLITE_OK;
    bad |= sqlite3_bind_double(s, 9, after_b) != SQLITE_OK;
    bad |= sqlite3_bind_int64(s, 10, ea->last_round) != SQLITE_OK;
    bad |= sqlite3_bind_int64(s, 11, eb->last_round) != SQLITE_OK;
    if (bad) {
        return fail(st, stmt_sql[ST_ROUND].name, err, errlen);
    }
    if (run(st, ST_ROUND, err, errlen) != 0) {
        return -1;
    }
    return sqlite3_last_insert_rowid(st->db);
}

static char mirror(char outcome)
{
    return outcome == 'W' ? 'L' : outcome == 'L' ? 'W' : 'D';
}

int store_pvp_round(struct store *st, int64_t a, int64_t b, int move_a, int move_b, char outcome,
                    int timeout, double *rating_a, double *rating_b, char *err, size_t errlen)
{
    ssize_t ia, ib;
    double na, nb;
    int64_t round;

    if (check_round(a, b, move_a, move_b, outcome, timeout, err, errlen) != 0 ||
        need_batch(st, err, errlen) != 0) {
        return -1;
    }
    st->rated = 1;
    /* Indexes, not pointers: reading b's entry may move the array. */
    if ((ia = entry_of(st, a, err, errlen)) < 0 || (ib = entry_of(st, b, err, errlen)) < 0) {
        return -1;
    }
    const struct roster_entry *ea = &st->roster.e[ia], *eb = &st->roster.e[ib];
    na = ea->rating;
    nb = eb->rating;
    elo_update(&na, (int)ea->rated, &nb, (int)eb->rated, outcome == 'W' ? 1.0 : outcome == 'D' ? 0.5 : 0.0);
    round = insert_round(st, a, b, move_a, move_b, outcome, timeout, ea, eb, na, nb, err, errlen);
    if (round < 0 || undo_push(st, (size_t)ia, err, errlen) != 0 ||
        undo_push(st, (size_t)ib, err, errlen) != 0) {
        return -1;
    }
    st->batch_round_max = round;
    /* The top as last read is behind the ladder now, for reads inside the batch too. */
    st->ntop = -1;
    if (entry_apply(st, (size_t)ia, outcome, na, round) != 0 ||
        entry_apply(st, (size_t)ib, mirror(outcome), nb, round) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (rating_a != NULL) {
        *rating_a = na;
    }
    if (rating_b != NULL) {
        *rating_b = nb;
    }
    return 0;
}

/* Write one entry into its row. */
static int write_back(struct store *st, const struct roster_entry *e, char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[ST_WRITE_BACK];
    int bad = 0;

    bad |= sqlite3_bind_int64(s, 1, e->id) != SQLITE_OK;
    bad |= sqlite3_bind_int64(s, 2, e->wins) != SQLITE_OK;
    bad |= sqlite3_bind_int64(s, 3, e->losses) != SQLITE_OK;
    bad |= sqlite3_bind_int64(s, 4, e->draws) != SQLITE_OK;
    bad |= sqlite3_bind_double(s, 5, e->rating) != SQLITE_OK;
    bad |= sqlite3_bind_int64(s, 6, e->rated) != SQLITE_OK;
    bad |= sqlite3_bind_int64(s, 7, e->rated_at) != SQLITE_OK;
    bad |= sqlite3_bind_text(s, 8, e->form, -1, SQLITE_STATIC) != SQLITE_OK;
    bad |= sqlite3_bind_int64(s, 9, e->last_round) != SQLITE_OK;
    if (bad) {
        return fail(st, stmt_sql[ST_WRITE_BACK].name, err, errlen);
    }
    return run(st, ST_WRITE_BACK, err, errlen);
}

static int write_snapshot(struct store *st, int64_t round, char *err, size_t errlen)
{
    if (sqlite3_bind_int64(st->stmt[ST_SNAPSHOT], 1, round) != SQLITE_OK) {
        return fail(st, stmt_sql[ST_SNAPSHOT].name, err, errlen);
    }
    return run(st, ST_SNAPSHOT, err, errlen);
}

/* One transaction of the sweep: from sweep_at on, write up to max_writes changed entries,
 * visiting at most STORE_SWEEP_VISITS entries and stopping at the end of the roster. The pass
 * that reaches the end has visited every entry since it began, after every round up to
 * sweep_from: those rounds are all in the rows now, and the snapshot moves up to there. */
static double seconds_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int store_sweep(struct store *st, size_t max_writes, char *err, size_t errlen)
{
    size_t end = st->sweep_at, written = 0;
    int64_t snapshot = st->snapshot;
    int wrapped = 0;

    if (need_no_batch(st, err, errlen) != 0) {
        return -1;
    }
    if (end > st->roster.n) {
        end = st->roster.n;
    }
    size_t start = end;
    while (written < max_writes && end - start < STORE_SWEEP_VISITS && end < st->roster.n) {
        written += st->roster.e[end++].dirty;
    }
    if (end == st->roster.n) {
        wrapped = 1;
        snapshot = st->sweep_from;
    }
    if (written == 0 && snapshot == st->snapshot) {
        goto moved;
    }
    if (run(st, ST_BEGIN, err, errlen) != 0) {
        return -1;
    }
    /* Rows of a big table are on pages of their own, each one read and written: past the time
     * budget, the step ends after the row it wrote, and the snapshot waits for the pass's end. */
    double deadline = seconds_now() + STORE_SWEEP_BUDGET;
    size_t done = 0;
    for (size_t i = start; i < end; i++) {
        if (!st->roster.e[i].dirty) {
            continue;
        }
        if (write_back(st, &st->roster.e[i], err, errlen) != 0) {
            store_rollback(st);
            return -1;
        }
        if (++done < written && seconds_now() > deadline) {
            end = i + 1;
            wrapped = 0;
            snapshot = st->snapshot;
            break;
        }
    }
    written = done;
    if ((snapshot != st->snapshot && write_snapshot(st, snapshot, err, errlen) != 0) ||
        run(st, ST_COMMIT, err, errlen) != 0) {
        store_rollback(st);
        return -1;
    }
    for (size_t i = start; i < end; i++) {
        struct roster_entry *e = &st->roster.e[i];
        e->wins = e->losses = e->draws = 0;
        e->dirty = 0;
    }
    /* Nothing a reader sees has changed: what the rows gained, the entries gave up. */
    st->snapshot = snapshot;
moved:
    st->sweep_at = end;
    if (wrapped) {
        st->sweep_at = 0;
        st->sweep_from = st->round_max;
    }
    return (int)written;
}

int store_sweep_all(struct store *st, char *err, size_t errlen)
{
    /* Two passes: the first may begin halfway; the second starts at 0 and ends at the last
     * entry, so every entry is written and the snapshot reaches the last round. */
    for (int pass = 0; pass < 2; pass++) {
        do {
            if (store_sweep(st, SIZE_MAX, err, errlen) < 0) {
                return -1;
            }
        } while (st->sweep_at != 0);
    }
    return 0;
}

int64_t store_snapshot(const struct store *st)
{
    return st->snapshot;
}

/* Every rated player into the roster, the named ones onto the ladder. */
static int load_roster(struct store *st, char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[ST_LOAD_ALL];
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct roster_entry e = { .id = sqlite3_column_int64(s, 6) };
        entry_fill(s, 0, &e);
        if (roster_find(&st->roster, e.id) == NULL &&
            (roster_add(&st->roster, &e) == NULL || board_enter(st, &e) != 0)) {
            sqlite3_reset(s);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : fail(st, stmt_sql[ST_LOAD_ALL].name, err, errlen);
}

/* The rounds after the snapshot, into the entries whose rows lack them. */
static int replay(struct store *st, char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[ST_REPLAY];
    int rc;

    if (sqlite3_bind_int64(s, 1, st->snapshot) != SQLITE_OK) {
        return fail(st, stmt_sql[ST_REPLAY].name, err, errlen);
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t round = sqlite3_column_int64(s, 0);
        const unsigned char *outcome = sqlite3_column_text(s, 3);
        char result = outcome != NULL ? (char)outcome[0] : 'D';

        for (int side = 0; side < 2; side++) {
            ssize_t i = entry_of(st, sqlite3_column_int64(s, 1 + side), err, errlen);
            if (i < 0) {
                sqlite3_reset(s);
                return -1;
            }
            if (round > st->roster.e[i].last_round &&
                entry_apply(st, (size_t)i, side == 0 ? result : mirror(result),
                            sqlite3_column_double(s, 4 + side), round) != 0) {
                sqlite3_reset(s);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        }
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : fail(st, stmt_sql[ST_REPLAY].name, err, errlen);
}

/* The roster, the ladder and the round counters, from the database as it is. */
static int load_rated(struct store *st, char *err, size_t errlen)
{
    if ((st->ladder = ladder_new()) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (query_int(st, ST_SNAPSHOT_READ, &st->snapshot, err, errlen) != 0 ||
        query_int(st, ST_ROUND_MAX, &st->round_max, err, errlen) != 0 ||
        load_roster(st, err, errlen) != 0 || replay(st, err, errlen) != 0) {
        return -1;
    }
    st->batch_round_max = st->round_max;
    st->roster_at_begin = st->roster.n;
    st->sweep_from = st->round_max;
    return 0;
}

/* Fill a row from ROW_COLS, then what the roster knows that the row may not have yet; rank is the
 * caller's. */
static void row_fill(struct store *st, sqlite3_stmt *s, struct board_row *row)
{
    const struct roster_entry *e = roster_find(&st->roster, sqlite3_column_int64(s, 8));

    copy_text(row->name, sizeof(row->name), sqlite3_column_text(s, 0));
    row->rating = sqlite3_column_double(s, 1);
    row->provisional = elo_provisional(sqlite3_column_int(s, 2));
    row->wins = sqlite3_column_int64(s, 3);
    row->losses = sqlite3_column_int64(s, 4);
    row->draws = sqlite3_column_int64(s, 5);
    row->rounds = sqlite3_column_int64(s, 6);
    copy_text(row->form, sizeof(row->form), sqlite3_column_text(s, 7));
    if (e != NULL) {
        row->rating = e->rating;
        row->provisional = elo_provisional((int)e->rated);
        row->wins += e->wins;
        row->losses += e->losses;
        row->draws += e->draws;
        row->rounds += e->wins + e->losses + e->draws;
        memcpy(row->form, e->form, sizeof(row->form));
    }
}

/* The row of the player with this id. */
static int row_by_id(struct store *st, int64_t id, struct board_row *row, char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[ST_ROW];
    int rc;

    if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK) {
        return fail(st, stmt_sql[ST_ROW].name, err, errlen);
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        row_fill(st, s, row);
    } else if (rc == SQLITE_DONE) {
        snprintf(err, errlen, "no player %lld", (long long)id);
    } else {
        fail(st, stmt_sql[ST_ROW].name, err, errlen);
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* The ladder's players from rank first on, count of them at most, into rows; returns how many. */
static int rows_from(struct store *st, int64_t first, int count, struct board_row *rows, char *err,
                     size_t errlen)
{
    struct ladder_key k;
    int n = 0;

    while (n < count && ladder_at(st->ladder, first + n, &k) == 1) {
        if (row_by_id(st, k.id, &rows[n], err, errlen) != 0) {
            return -1;
        }
        rows[n].rank = first + n;
        n++;
    }
    return n;
}

int store_top(struct store *st, int n, struct board_row *rows, char *err, size_t errlen)
{
    int count;

    if (n < 1 || n > STORE_TOP_MAX) {
        snprintf(err, errlen, "bad count %d", n);
        return -1;
    }
    fold_for_read(st);
    /* The top changes only with a rated round or a fold: until then it is read once, whatever n. */
    if (st->ntop < 0) {
        if ((count = rows_from(st, 1, STORE_TOP_MAX, st->top, err, errlen)) < 0) {
            return -1;
        }
        st->ntop = count;
    }
    count = n < st->ntop ? n : st->ntop;
    memcpy(rows, st->top, (size_t)count * sizeof(*rows));
    return count;
}

/* Returns 1 with *me filled when a named player has that name (ASCII case ignored), 0 when none
 * has, -1 on error; *on_board says whether it is on the leaderboard (has a rated round). */
static int read_me(struct store *st, const char *name, struct ranked *me, int *on_ladder, char *err,
                   size_t errlen)
{
    sqlite3_stmt *s = st->stmt[ST_ME];
    int rc;

    *on_ladder = 0;
    if (name == NULL || strlen(name) > STORE_NAME_MAX) {
        return 0;
    }
    if (sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC) != SQLITE_OK) {
        return fail(st, stmt_sql[ST_ME].name, err, errlen);
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const struct roster_entry *e;

        row_fill(st, s, &me->row);
        me->row.rank = 0;
        me->id = sqlite3_column_int64(s, 8);
        e = roster_find(&st->roster, me->id);
        if (e != NULL && on_board(e)) {
            struct ladder_key k;
            key_of(e, &k);
            me->row.rank = ladder_rank(st->ladder, &k);
            *on_ladder = me->row.rank > 0;
        }
    } else if (rc != SQLITE_DONE) {
        fail(st, stmt_sql[ST_ME].name, err, errlen);
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int store_rank(struct store *st, const char *name, int k, struct board_row *rows, int *self,
               char *err, size_t errlen)
{
    struct ranked me;
    int found, listed, above, below;

    if (k < 0 || k > STORE_AROUND_MAX) {
        snprintf(err, errlen, "bad neighbour count %d", k);
        return -1;
    }
    fold_for_read(st);
    found = read_me(st, name, &me, &listed, err, errlen);
    if (found <= 0 || !listed) {
        return found < 0 ? -1 : 0;
    }
    above = me.row.rank - 1 < k ? (int)me.row.rank - 1 : k;
    if (rows_from(st, me.row.rank - above, above, rows, err, errlen) != above) {
        return -1;
    }
    rows[above] = me.row;
    below = rows_from(st, me.row.rank + 1, k, rows + above + 1, err, errlen);
    if (below < 0) {
        return -1;
    }
    *self = above;
    return above + 1 + below;
}

int store_row(struct store *st, const char *name, struct board_row *row, int64_t *id, char *err,
              size_t errlen)
{
    struct ranked me;
    int listed;

    fold_for_read(st);
    int found = read_me(st, name, &me, &listed, err, errlen);
    if (found <= 0) {
        return found;
    }
    *row = me.row;
    *id = me.id;
    return 1;
}

int store_history(struct store *st, int64_t player, int n, struct store_rating *points, char *err,
                  size_t errlen)
{
    sqlite3_stmt *s = st->stmt[ST_RATINGS];
    const struct roster_entry *e = roster_find(&st->roster, player);
    int count = 0;
    int rc = SQLITE_DONE;

    if (n < 0 || n > STORE_HISTORY_MAX) {
        snprintf(err, errlen, "bad history length %d", n);
        return -1;
    }
    if (n == 0 || e == NULL || e->last_round == 0) {
        return 0;
    }
    if (sqlite3_bind_int64(s, 1, player) != SQLITE_OK ||
        sqlite3_bind_int64(s, 2, e->last_round) != SQLITE_OK || sqlite3_bind_int(s, 3, n) != SQLITE_OK) {
        return fail(st, stmt_sql[ST_RATINGS].name, err, errlen);
    }
    /* Newest first along the chain: each point goes to its place from the end, then the points
     * move to the front of the array. */
    while (count < n && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_rating *p = &points[n - 1 - count++];
        p->at = sqlite3_column_int64(s, 0) / 1000;   /* rounds.at is in milliseconds */
        p->rating = sqlite3_column_double(s, 1);
    }
    if (count < n && rc != SQLITE_DONE) {
        fail(st, stmt_sql[ST_RATINGS].name, err, errlen);
        count = -1;
    }
    sqlite3_reset(s);
    if (count > 0 && count < n) {
        memmove(points, points + n - count, (size_t)count * sizeof(*points));
    }
    return count;
}

/* printf into out at *used, never past outlen - 1; the text is cut when out is full. */
static void append(char *out, size_t outlen, size_t *used, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*used + 1 >= outlen) {
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(out + *used, outlen - *used, fmt, ap);
    va_end(ap);
    if (n > 0) {
        *used = *used + (size_t)n < outlen ? *used + (size_t)n : outlen - 1;
    }
}

/* Append one statement's plan to out, each step indented under its parent. */
static int plan_one(struct store *st, const char *name, const char *sql, char *out, size_t outlen,
                    size_t *used, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int ids[32], depths[32], n = 0;
    int rc;

    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        return fail(st, name, err, errlen);
    }
    append(out, outlen, used, "%s:\n", name);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int parent = sqlite3_column_int(s, 1);
        int depth = 1;

        for (int i = 0; i < n; i++) {
            depth = ids[i] == parent ? depths[i] + 1 : depth;
        }
        if (n < 32) {
            ids[n] = sqlite3_column_int(s, 0);
            depths[n++] = depth;
        }
        append(out, outlen, used, "%*s%s\n", 2 * depth, "",
               (const char *)sqlite3_column_text(s, 3));
    }
    if (rc != SQLITE_DONE) {
        fail(st, name, err, errlen);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_plan(struct store *st, char *out, size_t outlen, char *err, size_t errlen)
{
    size_t used = 0;

    if (outlen == 0) {
        snprintf(err, errlen, "no room for the plan");
        return -1;
    }
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(plan_sql) / sizeof(plan_sql[0]); i++) {
        if (plan_one(st, plan_sql[i].name, plan_sql[i].sql, out, outlen, &used, err, errlen) != 0) {
            return -1;
        }
    }
    return 0;
}
