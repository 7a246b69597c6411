/* The store on real temporary databases: schema and migrations, batches, rounds and ratings, the
 * leaderboard against a sort done here in C, query plans, and failures (missing directory,
 * read-only file, lock held by another process, disk full at commit). The test reads and arranges
 * the database through its own SQLite connection, never through the store it checks. */
#include <check.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checkpointer.h"
#include "elo.h"
#include "store.h"
#include "suite.h"

#define ERRLEN 256

/* The test's directory (removed once the test is over, passed or failed), its database. */
static char dir[64];
static char path[160];
static char err[ERRLEN];

static void make_dir(void)
{
    ck_assert_int_eq(suite_mkdtemp(dir, sizeof(dir), "store"), 0);
    snprintf(path, sizeof(path), "%s/arcade.db", dir);
    err[0] = '\0';
}

static struct store *open_store(void)
{
    struct store *st = store_open(path, 0, err, sizeof(err));

    ck_assert_msg(st != NULL, "store_open: %s", err);
    return st;
}

/* The test's own connection. */
static sqlite3 *raw_open(void)
{
    sqlite3 *db = NULL;

    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    return db;
}

static void raw_exec(const char *sql)
{
    sqlite3 *db = raw_open();
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
    sqlite3_close(db);
}

/* First column of the first row of sql with ?1 bound to arg: an integer, or text into out. */
static int64_t raw_query(const char *sql, int64_t arg, char *out, size_t cap)
{
    sqlite3 *db = raw_open();
    sqlite3_stmt *s = NULL;
    int64_t v = -1;

    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    if (sqlite3_bind_parameter_count(s) > 0) {
        sqlite3_bind_int64(s, 1, arg);
    }
    ck_assert_msg(sqlite3_step(s) == SQLITE_ROW, "%s: no row", sql);
    v = sqlite3_column_int64(s, 0);
    if (out != NULL) {
        snprintf(out, cap, "%s", sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0)
                                                           : "(null)");
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static int64_t raw_int(const char *sql, int64_t arg)
{
    return raw_query(sql, arg, NULL, 0);
}

static double raw_double(const char *sql, int64_t arg)
{
    char text[64];

    raw_query(sql, arg, text, sizeof(text));
    return strtod(text, NULL);
}

/* The rating the table holds for a player. */
static double rating_of(int64_t id)
{
    return raw_double("SELECT rating FROM players WHERE id = ?1", id);
}

static int64_t player(struct store *st, const char *name)
{
    int64_t id = store_player(st, name, err, sizeof(err));

    ck_assert_msg(id > 0, "store_player %s: %s", name, err);
    return id;
}

static void begin(struct store *st)
{
    ck_assert_msg(store_begin(st, err, sizeof(err)) == 0, "begin: %s", err);
}

/* Commit, then fold the tally log into players and write every rated player's row back, so that
 * raw reads see every total and rating. */
static void commit(struct store *st)
{
    ck_assert_msg(store_commit(st, err, sizeof(err)) == 0, "commit: %s", err);
    ck_assert_msg(store_fold(st, err, sizeof(err)) == 0, "fold: %s", err);
    ck_assert_msg(store_sweep_all(st, err, sizeof(err)) == 0, "sweep: %s", err);
}

/* Commit only: the tally log stays unfolded and rated players' rows unswept. */
static void commit_only(struct store *st)
{
    ck_assert_msg(store_commit(st, err, sizeof(err)) == 0, "commit: %s", err);
}

/* A rated round of this outcome (a's side) with moves that give it; returns store_pvp_round's. */
static int rated(struct store *st, int64_t a, int64_t b, char outcome, double *ra, double *rb)
{
    int move_a = outcome == 'W' ? 2 : outcome == 'L' ? 1 : 3;
    int move_b = outcome == 'W' ? 1 : outcome == 'L' ? 2 : 3;

    return store_pvp_round(st, a, b, move_a, move_b, outcome, 0, ra, rb, err, sizeof(err));
}

static void round_of(struct store *st, int64_t a, int64_t b, char outcome)
{
    ck_assert_msg(rated(st, a, b, outcome, NULL, NULL) == 0, "pvp: %s", err);
}

/* One committed round. */
static void play(struct store *st, int64_t a, int64_t b, char outcome)
{
    begin(st);
    round_of(st, a, b, outcome);
    commit(st);
}

/* The leaderboard as the store gives it against a sort of the players table: 1 when the top 100
 * agree by name and rating. The rows must have been written back (commit does). */
static int board_agrees(struct store *st)
{
    static struct board_row rows[STORE_TOP_MAX];
    char sorted[8192], given[8192] = "";
    size_t used = 0;
    int n = store_top(st, STORE_TOP_MAX, rows, err, sizeof(err));

    ck_assert_msg(n >= 0, "top: %s", err);
    for (int i = 0; i < n; i++) {
        used += (size_t)snprintf(given + used, sizeof(given) - used, "%s%s %.15g", i ? ";" : "",
                                 rows[i].name, rows[i].rating);
    }
    raw_query("SELECT coalesce(group_concat(line, ';'), '') FROM (SELECT name || ' ' ||"
              " printf('%.15g', rating) AS line FROM players WHERE name IS NOT NULL AND rated > 0"
              " ORDER BY rating DESC, rated_at, id LIMIT 100)",
              0, sorted, sizeof(sorted));
    if (strcmp(sorted, given) != 0) {
        fprintf(stderr, "board: %s\nsorted: %s\n", given, sorted);
        return 0;
    }
    return 1;
}

START_TEST(test_schema_created_at_current_version)
{
    struct store *st;

    make_dir();
    st = open_store();
    ck_assert_int_eq(raw_int("PRAGMA user_version", 0), 4);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"
                             " ('players', 'rounds', 'tallies', 'snapshot')",
                             0),
                     4);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_master WHERE name IN"
                             " ('ratings', 'rating_buckets', 'players_board', 'ratings_player')",
                             0),
                     0);
    /* The only index of ours: names in any case. */
    ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                             " AND sql IS NOT NULL",
                             0),
                     1);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM pragma_table_info('rounds') WHERE name IN"
                             " ('rating_a', 'rating_b', 'prev_a', 'prev_b')",
                             0),
                     4);
    ck_assert_int_eq(raw_int("SELECT round FROM snapshot", 0), 0);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_master WHERE name LIKE '%scratch%'", 0),
                     0);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM pragma_table_info('players')"
                             " WHERE name = 'secret_hash' AND type = 'BLOB'",
                             0),
                     1);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'", 0), 0);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players", 0), 0);
    store_close(st);
}
END_TEST

START_TEST(test_wal_mode_is_on)
{
    char mode[16];
    char wal[200];
    struct stat sb;
    struct store *st;

    make_dir();
    st = store_open(path, 1, err, sizeof(err)); /* sync_full opens as well */
    ck_assert_msg(st != NULL, "%s", err);
    player(st, "ana");
    raw_query("PRAGMA journal_mode", 0, mode, sizeof(mode));
    ck_assert_str_eq(mode, "wal");
    snprintf(wal, sizeof(wal), "%s-wal", path);
    ck_assert_int_eq(stat(wal, &sb), 0);
    ck_assert_int_gt(sb.st_size, 0);
    store_close(st);
}
END_TEST

START_TEST(test_reopen_keeps_data)
{
    struct board_row rows[10];
    struct store *st;
    int64_t ana, bo;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    bo = player(st, "bo");
    play(st, ana, bo, 'W');
    begin(st);
    ck_assert_int_eq(store_add_totals(st, bo, 2, 0, 1, err, sizeof(err)), 0);
    commit(st);
    store_close(st);

    st = open_store();
    ck_assert_int_eq(player(st, "ana"), ana);
    ck_assert_int_eq(player(st, "bo"), bo);
    ck_assert_int_eq(store_top(st, 10, rows, err, sizeof(err)), 2);
    ck_assert_str_eq(rows[0].name, "ana");
    ck_assert_double_eq_tol(rows[0].rating, 1220.0, 1e-9);
    ck_assert_str_eq(rows[1].name, "bo");
    ck_assert_int_eq(rows[1].wins, 2);
    ck_assert_int_eq(rows[1].losses, 1);
    ck_assert_int_eq(rows[1].draws, 1);
    ck_assert_int_eq(rows[1].rounds, 4);
    ck_assert_str_eq(rows[1].form, "L");
    store_close(st);
}
END_TEST

START_TEST(test_current_version_opens_unchanged)
{
    struct store *st;
    int64_t schema;

    make_dir();
    st = open_store();
    player(st, "ana");
    store_close(st);
    /* schema_version counts every change to the schema. */
    schema = raw_int("PRAGMA schema_version", 0);

    st = open_store();
    store_close(st);
    ck_assert_int_eq(raw_int("PRAGMA user_version", 0), 4);
    ck_assert_int_eq(raw_int("PRAGMA schema_version", 0), schema);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players WHERE name = 'ana'", 0), 1);
}
END_TEST

/* The schema as arcade wrote it at versions 1 and 2, frozen here: a migration must work on what
 * older versions left, whatever store.c says today. */
#define BUCKET_OF(x) "(CAST(" x " AS INTEGER) - (" x " < CAST(" x " AS INTEGER)))"
#define SCHEMA_1                                                                                   \
    "CREATE TABLE players ( id INTEGER PRIMARY KEY, name TEXT UNIQUE,"                             \
    " wins INTEGER NOT NULL DEFAULT 0, losses INTEGER NOT NULL DEFAULT 0,"                         \
    " draws INTEGER NOT NULL DEFAULT 0, rounds INTEGER NOT NULL DEFAULT 0,"                        \
    " rating REAL NOT NULL DEFAULT 1200, rated INTEGER NOT NULL DEFAULT 0,"                        \
    " rated_at INTEGER NOT NULL DEFAULT 0, form TEXT NOT NULL DEFAULT '',"                         \
    " created INTEGER NOT NULL);"                                                                  \
    "CREATE TABLE rounds ( id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,"             \
    " a INTEGER NOT NULL REFERENCES players(id), b INTEGER NOT NULL REFERENCES players(id),"       \
    " move_a INTEGER NOT NULL CHECK (move_a BETWEEN 0 AND 3),"                                     \
    " move_b INTEGER NOT NULL CHECK (move_b BETWEEN 0 AND 3),"                                     \
    " outcome TEXT NOT NULL CHECK (outcome IN ('W', 'L', 'D')),"                                   \
    " timeout INTEGER NOT NULL CHECK (timeout IN (0, 1)), CHECK (a <> b));"                        \
    "CREATE TABLE ratings ( id INTEGER PRIMARY KEY,"                                               \
    " round INTEGER NOT NULL REFERENCES rounds(id),"                                               \
    " player INTEGER NOT NULL REFERENCES players(id), before REAL NOT NULL,"                       \
    " after REAL NOT NULL);"                                                                       \
    "CREATE TABLE rating_buckets (bucket INTEGER PRIMARY KEY, n INTEGER NOT NULL);"                \
    "CREATE INDEX players_board ON players(rating DESC, rated_at)"                                 \
    " WHERE name IS NOT NULL AND rated > 0;"                                                       \
    "CREATE INDEX ratings_player ON ratings(player, round);"                                       \
    "CREATE TRIGGER players_board_insert AFTER INSERT ON players"                                  \
    " WHEN new.name IS NOT NULL AND new.rated > 0 BEGIN"                                           \
    " INSERT INTO rating_buckets(bucket, n) VALUES (" BUCKET_OF("new.rating") ", 1)"               \
    " ON CONFLICT(bucket) DO UPDATE SET n = n + 1; END;"                                           \
    "CREATE TRIGGER players_board_leave AFTER UPDATE OF name, rating, rated ON players"            \
    " WHEN old.name IS NOT NULL AND old.rated > 0 BEGIN"                                           \
    " UPDATE rating_buckets SET n = n - 1 WHERE bucket = " BUCKET_OF("old.rating") "; END;"        \
    "CREATE TRIGGER players_board_enter AFTER UPDATE OF name, rating, rated ON players"            \
    " WHEN new.name IS NOT NULL AND new.rated > 0 BEGIN"                                           \
    " INSERT INTO rating_buckets(bucket, n) VALUES (" BUCKET_OF("new.rating") ", 1)"               \
    " ON CONFLICT(bucket) DO UPDATE SET n = n + 1; END;"                                           \
    "CREATE TRIGGER players_board_delete AFTER DELETE ON players"                                  \
    " WHEN old.name IS NOT NULL AND old.rated > 0 BEGIN"                                           \
    " UPDATE rating_buckets SET n = n - 1 WHERE bucket = " BUCKET_OF("old.rating") "; END;"        \
    "PRAGMA user_version = 1;"
#define SCHEMA_2                                                                                   \
    SCHEMA_1 "CREATE TABLE tallies (id INTEGER PRIMARY KEY, counts BLOB NOT NULL);"                \
    "PRAGMA user_version = 2;"

START_TEST(test_version_1_migrates)
{
    struct store *st;

    make_dir();
    raw_exec(SCHEMA_1 "INSERT INTO players(name, created) VALUES ('ana', 0);");
    st = open_store();
    ck_assert_int_eq(raw_int("PRAGMA user_version", 0), 4);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_master WHERE name = 'tallies'", 0), 1);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_master WHERE name = 'players_name'", 0),
                     1);
    ck_assert_int_eq(player(st, "ANA"), 1);
    store_close(st);
}
END_TEST

/* A version 2 database with names that differ only in case, every kind of history, and names in
 * the way of the renames: bob-3 takes BOB's first choice; the 32-byte pair must be cut. */
#define COLLIDING                                                                                  \
    "INSERT INTO players(id, name, wins, losses, draws, rounds, rating, rated, rated_at, form,"    \
    " created) VALUES"                                                                             \
    " (1, 'Bob', 1, 1, 0, 6, 1210.5, 2, 2, 'WL', 100),"                                            \
    " (2, 'bob', 1, 1, 0, 2, 1189.5, 2, 2, 'LW', 101),"                                            \
    " (3, 'BOB', 4, 0, 1, 5, 1200, 0, 0, '', 102),"                                                \
    " (4, 'bob-3', 0, 0, 0, 0, 1200, 0, 0, '', 103),"                                              \
    " (5, 'ana', 2, 2, 2, 6, 1200, 0, 0, '', 104),"                                                \
    " (6, NULL, 3, 0, 0, 3, 1200, 0, 0, '', 105),"                                                 \
    " (7, 'abcdefghijklmnopqrstuvwxyz012345', 0, 0, 1, 1, 1200, 1, 3, 'D', 106),"                  \
    " (8, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345', 0, 0, 1, 1, 1200, 1, 3, 'D', 107);"                  \
    "INSERT INTO rounds(id, at, a, b, move_a, move_b, outcome, timeout) VALUES"                    \
    " (1, 1000, 1, 2, 2, 1, 'W', 0), (2, 2000, 2, 1, 2, 1, 'W', 0),"                               \
    " (3, 3000, 7, 8, 3, 3, 'D', 0);"                                                              \
    "INSERT INTO ratings(round, player, before, after) VALUES"                                     \
    " (1, 1, 1200, 1220), (1, 2, 1200, 1180), (2, 2, 1180, 1189.5), (2, 1, 1220, 1210.5),"         \
    " (3, 7, 1200, 1200), (3, 8, 1200, 1200);"

/* Everything but the names, as one line of text each. */
#define PLAYER_STATS                                                                               \
    "SELECT group_concat(line, ';') FROM (SELECT id || ' ' || wins || ' ' || losses || ' ' ||"     \
    " draws || ' ' || rounds || ' ' || rating || ' ' || rated || ' ' || rated_at || ' ' || form"   \
    " || ' ' || created AS line FROM players ORDER BY id)"
#define HISTORY                                                                                    \
    "SELECT group_concat(line, ';') FROM (SELECT id || ' ' || at || ' ' || a || ' ' || b"          \
    " || ' ' || move_a || ' ' || move_b || ' ' || outcome || ' ' || timeout AS line FROM rounds"   \
    " ORDER BY id)"
/* What version 4 adds to rounds and players, from ratings. */
#define CHAINS                                                                                     \
    "SELECT group_concat(line, ';') FROM (SELECT id || ' ' || rating_a || ' ' || rating_b || ' '"  \
    " || prev_a || ' ' || prev_b AS line FROM rounds ORDER BY id)"
#define LAST_ROUNDS                                                                                \
    "SELECT group_concat(last_round, ' ') FROM (SELECT last_round FROM players ORDER BY id)"
#define NAMES                                                                                      \
    "SELECT group_concat(coalesce(name, '(guest)'), ' ') FROM (SELECT name FROM players"           \
    " ORDER BY id)"

START_TEST(test_version_2_names_apart_keeping_history)
{
    char stats[1024], history[1024], text[1024];
    struct store_account acct;
    struct board_row rows[3];
    struct store *st;
    int self;

    make_dir();
    raw_exec(SCHEMA_2 COLLIDING);
    raw_query(PLAYER_STATS, 0, stats, sizeof(stats));
    raw_query(HISTORY, 0, history, sizeof(history));

    st = open_store();
    ck_assert_int_eq(raw_int("PRAGMA user_version", 0), 4);
    raw_query(NAMES, 0, text, sizeof(text));
    ck_assert_str_eq(text, "Bob bob-2 BOB-3-2 bob-3 ana (guest) abcdefghijklmnopqrstuvwxyz012345"
                           " ABCDEFGHIJKLMNOPQRSTUVWXYZ0123-8");
    raw_query(PLAYER_STATS, 0, text, sizeof(text));
    ck_assert_str_eq(text, stats);
    raw_query(HISTORY, 0, text, sizeof(text));
    ck_assert_str_eq(text, history);
    /* Each round holds both ratings after it and each player's round before. */
    raw_query(CHAINS, 0, text, sizeof(text));
    ck_assert_str_eq(text, "1 1220.0 1180.0 0 0;2 1189.5 1210.5 1 1;3 1200.0 1200.0 0 0");
    raw_query(LAST_ROUNDS, 0, text, sizeof(text));
    ck_assert_str_eq(text, "2 2 0 0 0 0 3 3");
    ck_assert_int_eq(raw_int("SELECT round FROM snapshot", 0), 3);
    ck_assert(board_agrees(st));
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players WHERE secret_hash IS NOT NULL", 0), 0);

    /* Names now unique regardless of case, kept so by the index. */
    ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND"
                             " name = 'players_name' AND sql LIKE 'CREATE UNIQUE INDEX%'",
                             0),
                     1);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_master WHERE name LIKE '%scratch%'", 0),
                     0);
    ck_assert_int_eq(store_account_find(st, "BOB", &acct, err, sizeof(err)), 1);
    ck_assert_int_eq(acct.id, 1);
    ck_assert_str_eq(acct.name, "Bob");
    ck_assert_int_eq(acct.registered, 0);
    ck_assert_int_eq(store_account_find(st, "BOB-2", &acct, err, sizeof(err)), 1);
    ck_assert_int_eq(acct.id, 2);
    ck_assert_str_eq(acct.name, "bob-2");
    ck_assert_int_eq(store_account_create(st, "BOB-3", NULL, &acct, err, sizeof(err)), 0);

    /* The renamed are on the board as before. */
    ck_assert_int_eq(store_rank(st, "bob-2", 1, rows, &self, err, sizeof(err)), 2);
    ck_assert_str_eq(rows[self].name, "bob-2");
    ck_assert_double_eq_tol(rows[self].rating, 1189.5, 1e-9);
    ck_assert_int_eq(rows[self].rank, 4);
    store_close(st);
}
END_TEST

/* The migration is one transaction: when its last step fails, the renames are undone too. */
START_TEST(test_failed_migration_leaves_version_2)
{
    struct store *st;
    char text[1024];

    make_dir();
    raw_exec(SCHEMA_2 COLLIDING "CREATE TABLE other (x); CREATE INDEX players_name ON other(x);");
    ck_assert_ptr_null(store_open(path, 0, err, sizeof(err)));
    ck_assert_msg(strstr(err, "players_name already exists") != NULL, "err: %s", err);
    ck_assert_int_eq(raw_int("PRAGMA user_version", 0), 2);
    raw_query(NAMES, 0, text, sizeof(text));
    ck_assert_str_eq(text, "Bob bob BOB bob-3 ana (guest) abcdefghijklmnopqrstuvwxyz012345"
                           " ABCDEFGHIJKLMNOPQRSTUVWXYZ012345");
    ck_assert_int_eq(raw_int("SELECT count(*) FROM pragma_table_info('players')"
                             " WHERE name = 'secret_hash'",
                             0),
                     0);

    /* Once the way is clear, it migrates. */
    raw_exec("DROP TABLE other");
    st = open_store();
    raw_query(NAMES, 0, text, sizeof(text));
    ck_assert_ptr_nonnull(strstr(text, "Bob bob-2 BOB-3-2"));
    store_close(st);
}
END_TEST

START_TEST(test_tally_log_folds_into_totals)
{
    struct store *st;
    int64_t ana, guest;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    guest = store_guest(st, err, sizeof(err));
    for (int i = 0; i < 3; i++) {
        begin(st);
        ck_assert_int_eq(store_add_totals(st, ana, 2, 1, 0, err, sizeof(err)), 0);
        ck_assert_int_eq(store_add_totals(st, guest, 0, 0, 1, err, sizeof(err)), 0);
        ck_assert_msg(store_commit(st, err, sizeof(err)) == 0, "commit: %s", err);
    }
    /* Committed is stored: one log row per batch, not yet in the totals. */
    ck_assert_int_eq(raw_int("SELECT count(*) FROM tallies", 0), 3);
    ck_assert_int_eq(raw_int("SELECT rounds FROM players WHERE id = ?1", ana), 0);

    ck_assert_msg(store_fold(st, err, sizeof(err)) == 0, "fold: %s", err);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM tallies", 0), 0);
    ck_assert_int_eq(raw_int("SELECT wins * 100 + losses * 10 + draws FROM players WHERE id = ?1", ana), 630);
    ck_assert_int_eq(raw_int("SELECT rounds FROM players WHERE id = ?1", ana), 9);
    ck_assert_int_eq(raw_int("SELECT draws FROM players WHERE id = ?1", guest), 3);

    /* A rolled-back batch logs nothing. */
    begin(st);
    ck_assert_int_eq(store_add_totals(st, ana, 5, 0, 0, err, sizeof(err)), 0);
    store_rollback(st);
    ck_assert_msg(store_fold(st, err, sizeof(err)) == 0, "fold: %s", err);
    ck_assert_int_eq(raw_int("SELECT wins FROM players WHERE id = ?1", ana), 6);
    store_close(st);
}
END_TEST

/* A step of the fold takes the log's oldest rows, whole, until they hold max_players players,
 * deletes just those, and leaves the rest for the next step. */
START_TEST(test_fold_steps_take_the_oldest_rows_whole)
{
    struct store *st;
    int64_t ana, bo, cy;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    bo = player(st, "bo");
    cy = player(st, "cy");
    /* Row 1: ana and bo; row 2: cy; row 3: ana. */
    begin(st);
    ck_assert_int_eq(store_add_totals(st, ana, 1, 0, 0, err, sizeof(err)), 0);
    ck_assert_int_eq(store_add_totals(st, bo, 0, 1, 0, err, sizeof(err)), 0);
    ck_assert_msg(store_commit(st, err, sizeof(err)) == 0, "commit: %s", err);
    begin(st);
    ck_assert_int_eq(store_add_totals(st, cy, 0, 0, 1, err, sizeof(err)), 0);
    ck_assert_msg(store_commit(st, err, sizeof(err)) == 0, "commit: %s", err);
    begin(st);
    ck_assert_int_eq(store_add_totals(st, ana, 1, 0, 0, err, sizeof(err)), 0);
    ck_assert_msg(store_commit(st, err, sizeof(err)) == 0, "commit: %s", err);

    /* Two players: the first row is enough. */
    ck_assert_msg(store_fold_step(st, 2, err, sizeof(err)) == 0, "fold: %s", err);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM tallies", 0), 2);
    ck_assert_int_eq(raw_int("SELECT wins FROM players WHERE id = ?1", ana), 1);
    ck_assert_int_eq(raw_int("SELECT losses FROM players WHERE id = ?1", bo), 1);
    ck_assert_int_eq(raw_int("SELECT draws FROM players WHERE id = ?1", cy), 0);
    /* One player: the second row, whole, and no more. */
    ck_assert_msg(store_fold_step(st, 1, err, sizeof(err)) == 0, "fold: %s", err);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM tallies", 0), 1);
    ck_assert_int_eq(raw_int("SELECT draws FROM players WHERE id = ?1", cy), 1);
    ck_assert_int_eq(raw_int("SELECT wins FROM players WHERE id = ?1", ana), 1);
    ck_assert_msg(store_fold_step(st, 1, err, sizeof(err)) == 0, "fold: %s", err);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM tallies", 0), 0);
    ck_assert_int_eq(raw_int("SELECT wins * 10 + rounds FROM players WHERE id = ?1", ana), 22);
    /* Nothing left: a step does nothing. */
    ck_assert_msg(store_fold_step(st, 1, err, sizeof(err)) == 0, "fold: %s", err);
    ck_assert_int_eq(raw_int("SELECT rounds FROM players WHERE id = ?1", bo), 1);
    store_close(st);
}
END_TEST

/* A process killed between commit and fold leaves the log behind: the next open folds it. */
START_TEST(test_tally_log_left_by_a_crash_is_folded_at_open)
{
    struct store *st;
    int64_t ana;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    store_close(st);
    /* The log row a killed server would have committed: player ana, 1 win, 2 losses, 3 draws
     * (varints), then a truncated tally that is skipped. */
    raw_exec("INSERT INTO tallies(counts) VALUES (x'01010203')");
    raw_exec("INSERT INTO tallies(counts) VALUES (x'0101')");

    st = open_store();
    ck_assert_int_eq(raw_int("SELECT count(*) FROM tallies", 0), 0);
    ck_assert_int_eq(raw_int("SELECT wins * 100 + losses * 10 + draws FROM players WHERE id = ?1", ana), 123);
    ck_assert_int_eq(raw_int("SELECT rounds FROM players WHERE id = ?1", ana), 6);
    store_close(st);
}
END_TEST

START_TEST(test_newer_version_refused)
{
    char mode[16];
    struct store *st;

    make_dir();
    st = open_store();
    store_close(st);
    raw_exec("PRAGMA user_version = 5");
    ck_assert_ptr_null(store_open(path, 0, err, sizeof(err)));
    ck_assert_msg(strstr(err, "version 5 is newer") != NULL, "err: %s", err);
    ck_assert_int_eq(raw_int("PRAGMA user_version", 0), 5);

    /* Refused before anything is touched: a foreign database keeps its journal mode and gets
     * no table. */
    make_dir();
    raw_exec("CREATE TABLE other(x); PRAGMA user_version = 7");
    ck_assert_ptr_null(store_open(path, 0, err, sizeof(err)));
    ck_assert_msg(strstr(err, "newer") != NULL, "err: %s", err);
    raw_query("PRAGMA journal_mode", 0, mode, sizeof(mode));
    ck_assert_str_eq(mode, "delete");
    ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_master WHERE name = 'players'", 0), 0);
}
END_TEST

START_TEST(test_add_totals)
{
    struct board_row rows[1];
    struct store *st;
    int64_t ana, guest;
    int self;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    guest = store_guest(st, err, sizeof(err));
    ck_assert_int_gt(guest, 0);
    ck_assert_int_ne(guest, ana);
    begin(st);
    ck_assert_int_eq(store_add_totals(st, ana, 3, 2, 1, err, sizeof(err)), 0);
    ck_assert_int_eq(store_add_totals(st, ana, 1, 0, 0, err, sizeof(err)), 0);
    ck_assert_int_eq(store_add_totals(st, guest, 0, 5, 0, err, sizeof(err)), 0);
    commit(st);
    ck_assert_int_eq(raw_int("SELECT wins FROM players WHERE id = ?1", ana), 4);
    ck_assert_int_eq(raw_int("SELECT losses FROM players WHERE id = ?1", ana), 2);
    ck_assert_int_eq(raw_int("SELECT draws FROM players WHERE id = ?1", ana), 1);
    ck_assert_int_eq(raw_int("SELECT rounds FROM players WHERE id = ?1", ana), 7);
    ck_assert_int_eq(raw_int("SELECT rounds FROM players WHERE id = ?1", guest), 5);
    /* Bot rounds never rate: no rating change, not on the leaderboard. */
    ck_assert_int_eq(raw_int("SELECT rated FROM players WHERE id = ?1", ana), 0);
    ck_assert_double_eq(raw_double("SELECT rating FROM players WHERE id = ?1", ana), 1200);
    ck_assert_int_eq(store_top(st, 1, rows, err, sizeof(err)), 0);
    ck_assert_int_eq(store_rank(st, "ana", 0, rows, &self, err, sizeof(err)), 0);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM rounds", 0), 0);
    store_close(st);
}
END_TEST

START_TEST(test_writes_need_a_batch)
{
    struct store *st;
    int64_t ana, bo;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    bo = player(st, "bo");
    ck_assert_int_eq(store_add_totals(st, ana, 1, 0, 0, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "no batch open");
    ck_assert_int_eq(store_pvp_round(st, ana, bo, 2, 1, 'W', 0, NULL, NULL, err, sizeof(err)), -1);
    ck_assert_int_eq(store_commit(st, err, sizeof(err)), -1);
    begin(st);
    ck_assert_int_eq(store_begin(st, err, sizeof(err)), -1);
    ck_assert_int_eq(store_add_totals(st, ana, 1, 0, 0, err, sizeof(err)), 0);
    commit(st);
    ck_assert_int_eq(raw_int("SELECT wins FROM players WHERE id = ?1", ana), 1);
    store_close(st);
}
END_TEST

START_TEST(test_rollback_leaves_nothing)
{
    struct store_rating points[10];
    struct board_row rows[10];
    struct store *st;
    int64_t ana, bo, zed, guest;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    bo = player(st, "bo");
    begin(st);
    zed = player(st, "zed");
    guest = store_guest(st, err, sizeof(err));
    ck_assert_int_gt(guest, 0);
    ck_assert_int_eq(store_add_totals(st, ana, 5, 5, 5, err, sizeof(err)), 0);
    round_of(st, ana, bo, 'W');
    round_of(st, zed, bo, 'D');
    store_rollback(st);

    ck_assert_int_eq(raw_int("SELECT count(*) FROM players", 0), 2);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players WHERE name = 'zed'", 0), 0);
    ck_assert_int_eq(raw_int("SELECT wins + losses + draws + rounds + rated FROM players"
                             " WHERE id = ?1",
                             ana),
                     0);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM rounds", 0), 0);
    /* Nor is anything left in memory: no board, no history. */
    ck_assert_int_eq(store_top(st, 10, rows, err, sizeof(err)), 0);
    ck_assert_int_eq(store_history(st, bo, 10, points, err, sizeof(err)), 0);
    /* The store goes on: a new batch commits, rated as the first round of both. */
    play(st, ana, bo, 'L');
    ck_assert_int_eq(raw_int("SELECT count(*) FROM rounds", 0), 1);
    ck_assert_int_eq(store_top(st, 10, rows, err, sizeof(err)), 2);
    ck_assert_str_eq(rows[0].name, "bo");
    ck_assert_double_eq_tol(rows[0].rating, 1220.0, 1e-9);
    ck_assert_int_eq(rows[0].wins, 1);
    ck_assert_str_eq(rows[0].form, "W");
    ck_assert(board_agrees(st));
    store_close(st);
}
END_TEST

START_TEST(test_close_drops_open_batch)
{
    struct store *st;
    int64_t ana;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    begin(st);
    ck_assert_int_eq(store_add_totals(st, ana, 1, 0, 0, err, sizeof(err)), 0);
    store_close(st);
    ck_assert_int_eq(raw_int("SELECT wins FROM players WHERE id = ?1", ana), 0);
}
END_TEST

START_TEST(test_pvp_round_updates_everything)
{
    struct store *st;
    int64_t ana, bo, r1, r2;
    double ra = 0, rb = 0;
    char text[32];
    int64_t before = (int64_t)time(NULL) * 1000;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    bo = player(st, "bo");
    begin(st);
    ck_assert_int_eq(store_pvp_round(st, ana, bo, 2, 1, 'W', 0, &ra, &rb, err, sizeof(err)), 0);
    commit(st);
    /* 1200 vs 1200, K 40: 1220 and 1180. */
    ck_assert_double_eq_tol(ra, 1220.0, 1e-9);
    ck_assert_double_eq_tol(rb, 1180.0, 1e-9);
    r1 = raw_int("SELECT max(id) FROM rounds", 0);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM rounds WHERE id = ?1 AND a = 1 AND b = 2"
                             " AND move_a = 2 AND move_b = 1 AND outcome = 'W' AND timeout = 0",
                             r1),
                     1);
    ck_assert_int_ge(raw_int("SELECT at FROM rounds WHERE id = ?1", r1), before);
    ck_assert_int_le(raw_int("SELECT at FROM rounds WHERE id = ?1", r1), before + 60000);
    ck_assert_int_eq(raw_int("SELECT wins * 1000 + losses * 100 + draws * 10 + rounds"
                             " FROM players WHERE id = ?1",
                             ana),
                     1001);
    ck_assert_int_eq(raw_int("SELECT wins * 1000 + losses * 100 + draws * 10 + rounds"
                             " FROM players WHERE id = ?1",
                             bo),
                     101);
    ck_assert_int_eq(raw_int("SELECT rated FROM players WHERE id = ?1", ana), 1);
    ck_assert_int_eq(raw_int("SELECT rated_at FROM players WHERE id = ?1", bo), r1);
    raw_query("SELECT form FROM players WHERE id = ?1", ana, text, sizeof(text));
    ck_assert_str_eq(text, "W");
    raw_query("SELECT form FROM players WHERE id = ?1", bo, text, sizeof(text));
    ck_assert_str_eq(text, "L");
    ck_assert_int_eq(raw_int("SELECT count(*) FROM rounds WHERE id = ?1 AND rating_a = 1220"
                             " AND rating_b = 1180 AND prev_a = 0 AND prev_b = 0",
                             r1),
                     1);
    ck_assert_int_eq(raw_int("SELECT last_round FROM players WHERE id = ?1", ana), r1);
    ck_assert_int_eq(raw_int("SELECT round FROM snapshot", 0), r1);

    /* A forfeit: bo moved, ana did not. Both now have one rated round, K 40:
     * E_bo = 1/(1 + 10^(40/400)) = 1/2.258925 = 0.442688; bo = 1180 + 40 * 0.557312 = 1202.29247,
     * ana = 1220 - 40 * 0.557312 = 1197.70753. */
    begin(st);
    ck_assert_int_eq(store_pvp_round(st, bo, ana, 3, 0, 'W', 1, &rb, &ra, err, sizeof(err)), 0);
    commit(st);
    ck_assert_double_eq_tol(rb, 1202.29247, 1e-4);
    ck_assert_double_eq_tol(ra, 1197.70753, 1e-4);
    r2 = raw_int("SELECT max(id) FROM rounds", 0);
    ck_assert_int_gt(r2, r1);
    ck_assert_int_eq(raw_int("SELECT timeout * 10 + move_b FROM rounds WHERE id = ?1", r2), 10);
    raw_query("SELECT form FROM players WHERE id = ?1", ana, text, sizeof(text));
    ck_assert_str_eq(text, "WL");
    raw_query("SELECT form FROM players WHERE id = ?1", bo, text, sizeof(text));
    ck_assert_str_eq(text, "LW");
    ck_assert_double_eq_tol(rating_of(ana), ra, 1e-9);
    /* bo is a now: its round before is prev_a, ana's prev_b. */
    ck_assert_int_eq(raw_int("SELECT prev_a * 10 + prev_b FROM rounds WHERE id = ?1", r2), r1 * 11);
    ck_assert_double_eq_tol(raw_double("SELECT rating_a FROM rounds WHERE id = ?1", r2), rb, 1e-9);
    ck_assert_double_eq_tol(raw_double("SELECT rating_b FROM rounds WHERE id = ?1", r2), ra, 1e-9);
    ck_assert(board_agrees(st));
    store_close(st);
}
END_TEST

START_TEST(test_bad_rounds_refused)
{
    struct store *st;
    int64_t ana, bo;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    bo = player(st, "bo");
    begin(st);
    ck_assert_int_eq(store_pvp_round(st, ana, ana, 2, 1, 'W', 0, NULL, NULL, err, sizeof(err)), -1);
    ck_assert_int_eq(store_pvp_round(st, ana, bo, 4, 1, 'W', 0, NULL, NULL, err, sizeof(err)), -1);
    ck_assert_int_eq(store_pvp_round(st, ana, bo, 2, 1, 'X', 0, NULL, NULL, err, sizeof(err)), -1);
    ck_assert_int_eq(store_pvp_round(st, ana, bo, 2, 1, 'W', 2, NULL, NULL, err, sizeof(err)), -1);
    ck_assert_int_eq(store_add_totals(st, ana, -1, 0, 0, err, sizeof(err)), -1);
    commit(st);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM rounds", 0), 0);
    ck_assert_int_eq(raw_int("SELECT sum(rounds) FROM players", 0), 0);
    store_close(st);
}
END_TEST

START_TEST(test_form_keeps_last_ten)
{
    static const char results[] = "WWLDLWDDLWLW"; /* ana's, oldest first */
    char text[32], mirrored[sizeof(results)];
    struct store *st;
    int64_t ana, bo;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    bo = player(st, "bo");
    begin(st);
    for (size_t i = 0; i < strlen(results); i++) {
        round_of(st, ana, bo, results[i]);
        mirrored[i] = results[i] == 'W' ? 'L' : results[i] == 'L' ? 'W' : 'D';
    }
    mirrored[strlen(results)] = '\0';
    commit(st);
    raw_query("SELECT form FROM players WHERE id = ?1", ana, text, sizeof(text));
    ck_assert_str_eq(text, results + 2);
    raw_query("SELECT form FROM players WHERE id = ?1", bo, text, sizeof(text));
    ck_assert_str_eq(text, mirrored + 2);
    ck_assert_int_eq(raw_int("SELECT rated FROM players WHERE id = ?1", ana), 12);
    store_close(st);
}
END_TEST

/* Ratings through the store against values worked out by hand (games/elo.h: E_a = 1 / (1 +
 * 10^((Rb - Ra) / 400)), Ra' = Ra + K * (S_a - E_a); K 40 for a player's first 30 rated rounds, 20
 * after them, 10 from 2400 on), with each K in play. The players are set up by hand first: ana has 29
 * rated rounds and bo 30, cy is provisional at 2400 and dan established at 2000. */
START_TEST(test_ratings_worked_out_by_hand)
{
    struct store *st;
    int64_t ana, bo, cy, dan;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    bo = player(st, "bo");
    cy = player(st, "cy");
    dan = player(st, "dan");
    raw_exec("UPDATE players SET rated = 29 WHERE name = 'ana';"
             "UPDATE players SET rated = 30 WHERE name = 'bo';"
             "UPDATE players SET rating = 2400, rated = 3 WHERE name = 'cy';"
             "UPDATE players SET rating = 2000, rated = 50 WHERE name = 'dan'");

    /* ana (K 40, her 30th rated round) beats bo (K 20), both at 1200: E = 1/2 for both;
     * ana = 1200 + 40 * (1 - 0.5) = 1220, bo = 1200 + 20 * (0 - 0.5) = 1190. */
    play(st, ana, bo, 'W');
    ck_assert_double_eq_tol(rating_of(ana), 1220.0, 1e-9);
    ck_assert_double_eq_tol(rating_of(bo), 1190.0, 1e-9);

    /* bo beats ana, both K 20 now (ana has 30 rated rounds): 10^((1220 - 1190) / 400) = 10^0.075 =
     * 1.1885022, E_bo = 1 / 2.1885022 = 0.4569335, 20 * (1 - 0.4569335) = 10.8613298;
     * bo = 1190 + 10.8613298 = 1200.8613298, ana = 1220 - 10.8613298 = 1209.1386702. */
    play(st, bo, ana, 'W');
    ck_assert_double_eq_tol(rating_of(bo), 1200.8613298, 1e-6);
    ck_assert_double_eq_tol(rating_of(ana), 1209.1386702, 1e-6);

    /* cy (2400, K 10 although provisional) draws dan (2000, K 20): 10^((2000 - 2400) / 400) = 0.1,
     * E_cy = 1 / 1.1 = 0.9090909, E_dan = 0.0909091; cy = 2400 + 10 * (0.5 - 0.9090909) = 2395.9090909,
     * dan = 2000 + 20 * (0.5 - 0.0909091) = 2008.1818182. */
    play(st, cy, dan, 'D');
    ck_assert_double_eq_tol(rating_of(cy), 2395.9090909, 1e-6);
    ck_assert_double_eq_tol(rating_of(dan), 2008.1818182, 1e-6);

    ck_assert_int_eq(raw_int("SELECT rated FROM players WHERE id = ?1", ana), 31);
    ck_assert_int_eq(raw_int("SELECT rated FROM players WHERE id = ?1", cy), 4);
    ck_assert(board_agrees(st));
    store_close(st);
}
END_TEST

/* The sign of a rating's move in a round: up for a win, down for a loss, and for a draw towards the
 * opponent's rating (S - E: E is above 1/2 exactly when the player is rated higher). */
static int move_sign(char outcome, double mine, double theirs)
{
    if (outcome == 'W' || outcome == 'L') {
        return outcome == 'W' ? 1 : -1;
    }
    return (theirs > mine) - (theirs < mine);
}

static int sign(double d)
{
    return (d > 0) - (d < 0);
}

/* Each side of each round as a row: round, player, rating after, the player's round before. */
#define SIDES                                                                                      \
    "(SELECT id AS round, a AS player, rating_a AS after, prev_a AS prev FROM rounds UNION ALL"    \
    " SELECT id, b, rating_b, prev_b FROM rounds)"

/* Random rounds between named players and guests, then every derived value checked against the
 * rounds table: totals, rated counts, rated_at, form, history, and the buckets. Each rating moves the
 * way its result says, and the history chains the ratings the store gave back. */
START_TEST(test_random_rounds_stay_consistent)
{
    enum { PLAYERS = 12, GUESTS = 3, ROUNDS = 400 };
    static const char outcomes[] = "WLD";
    int64_t ids[PLAYERS + GUESTS];
    double rating[PLAYERS + GUESTS];
    int rated[PLAYERS + GUESTS];
    struct store *st;

    make_dir();
    st = open_store();
    srand(7);
    for (int i = 0; i < PLAYERS + GUESTS; i++) {
        char name[16];

        snprintf(name, sizeof(name), "p%d", i);
        ids[i] = i < PLAYERS ? player(st, name) : store_guest(st, err, sizeof(err));
        ck_assert_int_gt(ids[i], 0);
        rating[i] = 1200;
        rated[i] = 0;
    }
    for (int r = 0; r < ROUNDS; r++) {
        int a = rand() % (PLAYERS + GUESTS), b = (a + 1 + rand() % (PLAYERS + GUESTS - 1)) %
                                                     (PLAYERS + GUESTS);
        char o = outcomes[rand() % 3];
        char mirrored = o == 'W' ? 'L' : o == 'L' ? 'W' : 'D';
        double ra, rb;

        if (r % 7 == 0) {
            begin(st);
        }
        ck_assert_int_eq(store_pvp_round(st, ids[a], ids[b], 1 + rand() % 3, rand() % 4, o,
                                         rand() % 2, &ra, &rb, err, sizeof(err)),
                         0);
        ck_assert_int_eq(sign(ra - rating[a]), move_sign(o, rating[a], rating[b]));
        ck_assert_int_eq(sign(rb - rating[b]), move_sign(mirrored, rating[b], rating[a]));
        rating[a] = ra;
        rating[b] = rb;
        rated[a]++;
        rated[b]++;
        if (r % 7 == 6 || r == ROUNDS - 1) {
            commit(st);
        }
    }
    /* Each side's round before is the player's previous round. */
    ck_assert_int_eq(raw_int("SELECT count(*) FROM " SIDES " AS s WHERE s.prev <> coalesce((SELECT max(q.id)"
                             " FROM rounds q WHERE (q.a = s.player OR q.b = s.player) AND q.id < s.round),"
                             " 0)",
                             0),
                     0);
    for (int i = 0; i < PLAYERS + GUESTS; i++) {
        int64_t id = ids[i];

        ck_assert_double_eq_tol(rating_of(id),
                                rating[i], 1e-6);
        ck_assert_int_eq(raw_int("SELECT rated FROM players WHERE id = ?1", id), rated[i]);
        ck_assert_int_eq(raw_int("SELECT count(*) FROM rounds WHERE a = ?1 OR b = ?1", id), rated[i]);
        ck_assert_int_eq(raw_int("SELECT rounds FROM players WHERE id = ?1", id), rated[i]);
        ck_assert_int_eq(raw_int("SELECT wins FROM players WHERE id = ?1", id),
                         raw_int("SELECT count(*) FROM rounds WHERE (a = ?1 AND outcome = 'W')"
                                 " OR (b = ?1 AND outcome = 'L')",
                                 id));
        ck_assert_int_eq(raw_int("SELECT draws FROM players WHERE id = ?1", id),
                         raw_int("SELECT count(*) FROM rounds WHERE (a = ?1 OR b = ?1)"
                                 " AND outcome = 'D'",
                                 id));
        /* rated_at: the last round that moved the rating (the one before it ended elsewhere). */
        ck_assert_int_eq(raw_int("SELECT rated_at FROM players WHERE id = ?1", id),
                         raw_int("SELECT coalesce(max(s.round), 0) FROM " SIDES " AS s WHERE s.player = ?1"
                                 " AND s.after <> coalesce((SELECT t.after FROM " SIDES
                                 " AS t WHERE t.round = s.prev AND t.player = s.player), 1200)",
                                 id));
        /* The player's last round ends at the current rating. */
        ck_assert_double_eq_tol(raw_double("SELECT s.after FROM " SIDES " AS s WHERE s.round ="
                                           " (SELECT last_round FROM players WHERE id = ?1)"
                                           " AND s.player = ?1",
                                           id),
                                rating[i], 1e-9);
        ck_assert_int_eq(raw_int("SELECT form = (SELECT group_concat(r, '') FROM (SELECT r FROM"
                                 " (SELECT id, CASE WHEN a = ?1 THEN outcome WHEN outcome = 'W'"
                                 " THEN 'L' WHEN outcome = 'L' THEN 'W' ELSE 'D' END AS r"
                                 " FROM rounds WHERE a = ?1 OR b = ?1 ORDER BY id DESC LIMIT 10)"
                                 " ORDER BY id)) FROM players WHERE id = ?1",
                                 id),
                         1);
    }
    ck_assert(board_agrees(st));
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players WHERE name IS NOT NULL AND rated > 0", 0),
                     PLAYERS);
    store_close(st);
}
END_TEST

/* The top is read once and kept until a rated round is committed or bot rounds are folded in: each
 * of those shows at the next read, a rolled-back round never does, and every n is a prefix of it. */
START_TEST(test_top_is_kept_until_the_board_changes)
{
    struct board_row rows[10], again[3];
    struct store *st;
    int64_t a, b, c;

    make_dir();
    st = open_store();
    a = player(st, "a");
    b = player(st, "b");
    c = player(st, "c");
    play(st, a, b, 'W');                            /* a 1220, b 1180 */
    ck_assert_int_eq(store_top(st, 10, rows, err, sizeof(err)), 2);
    ck_assert_str_eq(rows[0].name, "a");
    ck_assert_int_eq(store_top(st, 1, again, err, sizeof(err)), 1);
    ck_assert_str_eq(again[0].name, "a");

    play(st, c, a, 'W');                            /* c 1222.29 beats a: a rated round shows at once */
    ck_assert_int_eq(store_top(st, 10, rows, err, sizeof(err)), 3);
    ck_assert_str_eq(rows[0].name, "c");
    ck_assert_str_eq(rows[1].name, "a");
    ck_assert_int_eq(rows[1].rank, 2);

    begin(st);                                      /* rolled back: nothing changes */
    round_of(st, b, a, 'W');
    store_rollback(st);
    ck_assert_int_eq(store_top(st, 3, again, err, sizeof(err)), 3);
    ck_assert_str_eq(again[0].name, rows[0].name);
    ck_assert_double_eq(again[2].rating, rows[2].rating);

    begin(st);                                      /* bot rounds: in the totals at the next read */
    ck_assert_int_eq(store_add_totals(st, b, 3, 0, 0, err, sizeof(err)), 0);
    commit(st);
    ck_assert_int_eq(store_top(st, 3, again, err, sizeof(err)), 3);
    ck_assert_str_eq(again[2].name, "b");
    ck_assert_int_eq(again[2].wins, 3);
    ck_assert_int_eq(again[2].rounds, 4);
    store_close(st);
}
END_TEST

START_TEST(test_top_ties_go_to_who_got_there_first)
{
    struct board_row rows[10];
    struct store *st;
    int64_t c, d, a, b, e, f;

    make_dir();
    st = open_store();
    /* c and d get the smaller ids, a and b play first. */
    c = player(st, "c");
    d = player(st, "d");
    a = player(st, "a");
    b = player(st, "b");
    play(st, a, b, 'W'); /* a 1220, b 1180 */
    play(st, c, d, 'W'); /* c 1220, d 1180, later */
    ck_assert_int_eq(store_top(st, 10, rows, err, sizeof(err)), 4);
    ck_assert_str_eq(rows[0].name, "a");
    ck_assert_str_eq(rows[1].name, "c");
    ck_assert_str_eq(rows[2].name, "b");
    ck_assert_str_eq(rows[3].name, "d");
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(rows[i].rank, i + 1);
        ck_assert_int_eq(rows[i].provisional, 1);
    }
    ck_assert_double_eq(rows[0].rating, rows[1].rating);

    /* A draw between equal ratings changes neither, so a keeps its place ahead of c. */
    play(st, a, c, 'D');
    ck_assert_int_eq(store_top(st, 10, rows, err, sizeof(err)), 4);
    ck_assert_str_eq(rows[0].name, "a");
    ck_assert_str_eq(rows[0].form, "WD");
    ck_assert_str_eq(rows[1].name, "c");
    ck_assert_double_eq(rows[0].rating, 1220.0);

    /* Same rating in the same round (a draw at 1200): the older player first. */
    f = player(st, "f");
    e = player(st, "e");
    play(st, e, f, 'D');
    ck_assert_int_eq(store_top(st, 10, rows, err, sizeof(err)), 6);
    ck_assert_str_eq(rows[2].name, "f");
    ck_assert_str_eq(rows[3].name, "e");
    ck_assert_int_eq(store_top(st, 3, rows, err, sizeof(err)), 3);
    ck_assert_int_eq(store_top(st, 0, rows, err, sizeof(err)), -1);
    ck_assert_int_eq(store_top(st, STORE_TOP_MAX + 1, rows, err, sizeof(err)), -1);
    store_close(st);
}
END_TEST

/* The leaderboard by its definition, sorted here. */
struct expect {
    int64_t id;
    double rating;
    int64_t rated_at;
    char name[16];
};

static int expect_cmp(const void *x, const void *y)
{
    const struct expect *a = x, *b = y;

    if (a->rating != b->rating) {
        return a->rating > b->rating ? -1 : 1;
    }
    if (a->rated_at != b->rated_at) {
        return a->rated_at < b->rated_at ? -1 : 1;
    }
    return a->id < b->id ? -1 : a->id > b->id;
}

/* n board players straight into the table, with ratings from a short list so that many share a
 * rating or a bucket, and some guests and unrated players who must not count. Returns them in
 * leaderboard order. */
static struct expect *board_fixture(int n)
{
    static const double ratings[] = {1200, 1200.5, 1200.999, 1201, 1199.999, 1180, 2400, 845.25,
                                     -3.5, -3, 0, 0.5, 1500, 1500.0001, 1499.9999};
    struct expect *want = calloc((size_t)n, sizeof(*want));
    sqlite3 *db = raw_open();
    sqlite3_stmt *ins = NULL;

    ck_assert_ptr_nonnull(want);
    ck_assert_int_eq(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "INSERT INTO players(name, rating, rated, rated_at,"
                                            " created) VALUES (?1, ?2, ?3, ?4, 0)",
                                        -1, &ins, NULL),
                     SQLITE_OK);
    srand(11);
    for (int i = 0; i < n + n / 4; i++) {
        double rating = ratings[rand() % (int)(sizeof(ratings) / sizeof(ratings[0]))];
        int64_t at = rand() % 8;
        int on_board = i < n;
        char name[16];

        snprintf(name, sizeof(name), "p%d", i);
        /* Every fourth extra row is an unrated named player, the rest guests. */
        if (on_board || i % 4 == 0) {
            sqlite3_bind_text(ins, 1, name, -1, SQLITE_TRANSIENT);
        } else {
            sqlite3_bind_null(ins, 1);
        }
        sqlite3_bind_double(ins, 2, on_board ? rating : rating + 5000);
        sqlite3_bind_int(ins, 3, on_board ? 1 + rand() % 40 : !(i % 4 == 0));
        sqlite3_bind_int64(ins, 4, at);
        ck_assert_int_eq(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
        if (on_board) {
            want[i].id = sqlite3_last_insert_rowid(db);
            want[i].rating = rating;
            want[i].rated_at = at;
            snprintf(want[i].name, sizeof(want[i].name), "%s", name);
        }
    }
    sqlite3_finalize(ins);
    ck_assert_int_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    qsort(want, (size_t)n, sizeof(*want), expect_cmp);
    return want;
}

START_TEST(test_rank_matches_a_full_sort)
{
    enum { N = 240 };
    static const int ks[] = {0, 1, 3, 7};
    struct board_row rows[2 * 7 + 1];
    struct store *st;
    struct expect *want;

    make_dir();
    /* The board is read at open: the players go in first. */
    store_close(open_store());
    want = board_fixture(N);
    st = open_store();
    ck_assert(board_agrees(st));
    for (int i = 0; i < N; i++) {
        for (size_t j = 0; j < sizeof(ks) / sizeof(ks[0]); j++) {
            int k = ks[j], self = -1;
            int lo = i - k < 0 ? 0 : i - k, hi = i + k >= N ? N - 1 : i + k;
            int n = store_rank(st, want[i].name, k, rows, &self, err, sizeof(err));

            ck_assert_msg(n == hi - lo + 1, "%s k=%d: %d rows (%s)", want[i].name, k, n, err);
            ck_assert_int_eq(self, i - lo);
            for (int r = 0; r < n; r++) {
                ck_assert_str_eq(rows[r].name, want[lo + r].name);
                ck_assert_int_eq(rows[r].rank, lo + r + 1);
            }
        }
    }
    free(want);
    store_close(st);
}
END_TEST

START_TEST(test_top_matches_a_full_sort)
{
    enum { N = 240 };
    struct board_row rows[STORE_TOP_MAX];
    struct store *st;
    struct expect *want;

    make_dir();
    /* The board is read at open: the players go in first. */
    store_close(open_store());
    want = board_fixture(N);
    st = open_store();
    ck_assert_int_eq(store_top(st, STORE_TOP_MAX, rows, err, sizeof(err)), STORE_TOP_MAX);
    for (int i = 0; i < STORE_TOP_MAX; i++) {
        ck_assert_str_eq(rows[i].name, want[i].name);
        ck_assert_double_eq(rows[i].rating, want[i].rating);
        ck_assert_int_eq(rows[i].rank, i + 1);
    }
    free(want);
    store_close(st);
}
END_TEST

START_TEST(test_rank_top_middle_bottom)
{
    struct board_row rows[2 * STORE_AROUND_MAX + 1];
    struct store *st;
    int64_t ids[9];
    int self = -1;

    make_dir();
    st = open_store();
    /* p0 beats everyone once, p1 everyone after it, ...: nine distinct ratings, p0 on top. */
    for (int i = 0; i < 9; i++) {
        char name[16];

        snprintf(name, sizeof(name), "p%d", i);
        ids[i] = player(st, name);
    }
    begin(st);
    for (int i = 0; i < 9; i++) {
        for (int j = i + 1; j < 9; j++) {
            round_of(st, ids[i], ids[j], 'W');
        }
    }
    commit(st);

    ck_assert_int_eq(store_rank(st, "p0", 2, rows, &self, err, sizeof(err)), 3);
    ck_assert_int_eq(self, 0);
    ck_assert_str_eq(rows[0].name, "p0");
    ck_assert_int_eq(rows[0].rank, 1);
    ck_assert_str_eq(rows[2].name, "p2");
    ck_assert_int_eq(rows[2].rank, 3);

    ck_assert_int_eq(store_rank(st, "p4", 2, rows, &self, err, sizeof(err)), 5);
    ck_assert_int_eq(self, 2);
    for (int r = 0; r < 5; r++) {
        char name[16];

        snprintf(name, sizeof(name), "p%d", r + 2);
        ck_assert_str_eq(rows[r].name, name);
        ck_assert_int_eq(rows[r].rank, r + 3);
    }
    ck_assert_int_eq(rows[2].wins, 4);
    ck_assert_int_eq(rows[2].losses, 4);
    ck_assert_str_eq(rows[2].form, "LLLLWWWW");

    ck_assert_int_eq(store_rank(st, "p8", 2, rows, &self, err, sizeof(err)), 3);
    ck_assert_int_eq(self, 2);
    ck_assert_str_eq(rows[0].name, "p6");
    ck_assert_str_eq(rows[2].name, "p8");
    ck_assert_int_eq(rows[2].rank, 9);

    ck_assert_int_eq(store_rank(st, "p5", 0, rows, &self, err, sizeof(err)), 1);
    ck_assert_int_eq(self, 0);
    ck_assert_int_eq(rows[0].rank, 6);
    ck_assert_int_eq(store_rank(st, "p5", STORE_AROUND_MAX, rows, &self, err, sizeof(err)), 9);
    ck_assert_int_eq(self, 5);
    store_close(st);
}
END_TEST

START_TEST(test_rank_unknown_or_unrated)
{
    struct board_row rows[3];
    struct store *st;
    int64_t ana, bo;
    int self;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    bo = player(st, "bo");
    player(st, "cy");
    play(st, ana, bo, 'W');
    ck_assert_int_eq(store_rank(st, "nobody", 1, rows, &self, err, sizeof(err)), 0);
    ck_assert_int_eq(store_rank(st, "cy", 1, rows, &self, err, sizeof(err)), 0); /* bot only */
    ck_assert_int_eq(store_rank(st, "", 1, rows, &self, err, sizeof(err)), 0);
    ck_assert_int_eq(store_rank(st, "an", 1, rows, &self, err, sizeof(err)), 0);
    ck_assert_int_eq(store_rank(st, "ana", -1, rows, &self, err, sizeof(err)), -1);
    ck_assert_int_eq(store_rank(st, "ana", STORE_AROUND_MAX + 1, rows, &self, err, sizeof(err)),
                     -1);
    ck_assert_int_eq(store_rank(st, "bo", 1, rows, &self, err, sizeof(err)), 2);
    ck_assert_int_eq(self, 1);
    store_close(st);
}
END_TEST

/* A player's row whether ranked or not, and its rank the same as store_rank's. */
START_TEST(test_row_ranked_or_not)
{
    struct board_row row, rows[3];
    struct store *st;
    int64_t ana, bo, cy, id = 0;
    int self;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    bo = player(st, "bo");
    cy = player(st, "cy");
    play(st, ana, bo, 'W');
    begin(st);
    ck_assert_int_eq(store_add_totals(st, cy, 2, 1, 0, err, sizeof(err)), 0);
    ck_assert_int_eq(store_commit(st, err, sizeof(err)), 0); /* left in the tally log */

    ck_assert_int_eq(store_row(st, "BO", &row, &id, err, sizeof(err)), 1);
    ck_assert_int_eq(id, bo);
    ck_assert_str_eq(row.name, "bo");
    ck_assert_int_eq(store_rank(st, "bo", 1, rows, &self, err, sizeof(err)), 2);
    ck_assert_int_eq(row.rank, rows[self].rank);
    ck_assert_int_eq(row.rank, 2);
    ck_assert_int_eq(row.losses, 1);
    ck_assert_str_eq(row.form, "L");
    /* Bot rounds only: found, not ranked, its logged rounds counted. */
    ck_assert_int_eq(store_row(st, "cy", &row, &id, err, sizeof(err)), 1);
    ck_assert_int_eq(id, cy);
    ck_assert_int_eq(row.rank, 0);
    ck_assert_int_eq(row.wins, 2);
    ck_assert_int_eq(row.rounds, 3);
    ck_assert_int_eq(row.provisional, 1);
    ck_assert_str_eq(row.form, "");
    ck_assert_int_eq(store_row(st, "nobody", &row, &id, err, sizeof(err)), 0);
    ck_assert_int_eq(store_row(st, "abcdefghijklmnopqrstuvwxyz0123456", &row, &id, err, sizeof(err)),
                     0);
    store_close(st);
}
END_TEST

/* The rating history: the rating after each rated round, oldest first, the last n of them. */
START_TEST(test_history_oldest_first)
{
    struct store_rating points[STORE_HISTORY_MAX];
    struct board_row row;
    struct store *st;
    int64_t ana, bo, id;
    double after[5];

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    bo = player(st, "bo");
    ck_assert_int_eq(store_history(st, ana, 10, points, err, sizeof(err)), 0);
    for (int i = 0; i < 5; i++) {
        begin(st);
        ck_assert_int_eq(store_pvp_round(st, ana, bo, 2, 1, i == 2 ? 'L' : 'W', 0, &after[i], NULL, err,
                                         sizeof(err)),
                         0);
        commit(st);
    }
    ck_assert_int_eq(store_history(st, ana, STORE_HISTORY_MAX, points, err, sizeof(err)), 5);
    for (int i = 0; i < 5; i++) {
        ck_assert_double_eq(points[i].rating, after[i]);
        ck_assert_int_le(points[i].at, (int64_t)time(NULL));
        ck_assert_int_gt(points[i].at, (int64_t)time(NULL) - 60);
    }
    ck_assert_int_eq(store_history(st, ana, 2, points, err, sizeof(err)), 2);
    ck_assert_double_eq(points[0].rating, after[3]);
    ck_assert_double_eq(points[1].rating, after[4]);
    ck_assert_int_eq(store_row(st, "ana", &row, &id, err, sizeof(err)), 1);
    ck_assert_double_eq(row.rating, after[4]);
    ck_assert_int_eq(store_history(st, ana, STORE_HISTORY_MAX + 1, points, err, sizeof(err)), -1);
    ck_assert_int_eq(store_history(st, 9999, 10, points, err, sizeof(err)), 0);
    store_close(st);
}
END_TEST

START_TEST(test_guests_never_on_the_board)
{
    struct board_row rows[10];
    struct store *st;
    int64_t ana, g1, g2;
    int self;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    g1 = store_guest(st, err, sizeof(err));
    g2 = store_guest(st, err, sizeof(err));
    ck_assert_int_gt(g2, g1);
    begin(st);
    round_of(st, g1, ana, 'W'); /* the guest climbs above ana */
    round_of(st, g1, g2, 'W');
    commit(st);
    ck_assert_double_gt(raw_double("SELECT rating FROM players WHERE id = ?1", g1),
                        raw_double("SELECT rating FROM players WHERE id = ?1", ana));
    ck_assert_int_eq(store_top(st, 10, rows, err, sizeof(err)), 1);
    ck_assert_str_eq(rows[0].name, "ana");
    ck_assert_int_eq(store_rank(st, "ana", 5, rows, &self, err, sizeof(err)), 1);
    ck_assert_int_eq(rows[0].rank, 1);
    ck_assert(board_agrees(st));
    store_close(st);
}
END_TEST

START_TEST(test_names_stored_as_given)
{
    static const char *const names[] = {
        "Ann_1-x",
        "a",
        "ZZ-top_99",
        "abcdefghijklmnopqrstuvwxyz012345", /* 32 bytes */
        "bob",
        /* The server never lets these through; the store must still bind them verbatim. */
        "x'); DROP TABLE players;--",
        "%s%n\"\\",
    };
    enum { N = sizeof(names) / sizeof(names[0]) };
    struct board_row rows[3];
    int64_t ids[N];
    char text[64];
    struct store *st;
    int self;

    make_dir();
    st = open_store();
    for (int i = 0; i < N; i++) {
        ids[i] = player(st, names[i]);
    }
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(player(st, names[i]), ids[i]);
        raw_query("SELECT name FROM players WHERE id = ?1", ids[i], text, sizeof(text));
        ck_assert_str_eq(text, names[i]);
    }
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players", 0), N);
    play(st, ids[5], ids[3], 'W');
    ck_assert_int_eq(store_rank(st, names[5], 1, rows, &self, err, sizeof(err)), 2);
    ck_assert_str_eq(rows[self].name, names[5]);
    ck_assert_str_eq(rows[1].name, names[3]);
    ck_assert_int_eq(store_player(st, "", err, sizeof(err)), -1);
    ck_assert_int_eq(store_player(st, NULL, err, sizeof(err)), -1);
    ck_assert_int_eq(store_player(st, "abcdefghijklmnopqrstuvwxyz0123456", err, sizeof(err)), -1);
    store_close(st);
}
END_TEST

/* 1 when the plan of section (its name and a newline) is one search of players_name by name. */
static int names_by_index(const char *plan, const char *section)
{
    const char *step = strstr(plan, section);
    char line[128];

    if (step == NULL || sscanf(step + strlen(section), " %127[^\n]", line) != 1) {
        return 0;
    }
    return strcmp(line, "SEARCH players USING INDEX players_name (name=?)") == 0 ||
           strcmp(line, "SEARCH players USING COVERING INDEX players_name (name=?)") == 0;
}

START_TEST(test_plans_use_keys)
{
    static char plan[8192];
    struct store *st;
    const char *section;

    make_dir();
    st = open_store();
    ck_assert_int_eq(store_plan(st, plan, sizeof(plan), err, sizeof(err)), 0);
    /* No statement reads players without an index, nor sorts. */
    for (const char *line = plan; *line != '\0'; line = strchr(line, '\n') + 1) {
        const char *end = strchr(line, '\n');
        char one[256];

        ck_assert_ptr_nonnull(end);
        snprintf(one, sizeof(one), "%.*s", (int)(end - line), line);
        ck_assert_msg(strstr(one, "SCAN players") == NULL || strstr(one, "USING") != NULL,
                      "full scan: %s\n%s", one, plan);
        /* The history sorts its points, 100 at most, by their place in the chain. */
        ck_assert_msg(strstr(one, "TEMP B-TREE") == NULL ||
                          (line > strstr(plan, "history:") && line < strstr(plan, "replay:")),
                      "sort: %s\n%s", one, plan);
    }
    /* Names, in any case, through the unique index (covering or not). */
    ck_assert_msg(names_by_index(plan, "find:\n"), "%s", plan);
    ck_assert_msg(names_by_index(plan, "me:\n"), "%s", plan);
    ck_assert_ptr_nonnull(strstr(plan, "row:\n  SEARCH players USING INTEGER PRIMARY KEY (rowid=?)\n"));
    /* A player's history: the chain of its rounds, each by its key. */
    section = strstr(plan, "history:\n");
    ck_assert_ptr_nonnull(section);
    ck_assert_ptr_nonnull(strstr(section, "RECURSIVE STEP\n      SCAN chain\n"
                                          "      SEARCH r USING INTEGER PRIMARY KEY (rowid=?)\n"));
    ck_assert_ptr_nonnull(strstr(plan, "replay:\n  SEARCH rounds USING INTEGER PRIMARY KEY (rowid>?)\n"));
    store_close(st);
}
END_TEST

/* A hash that differs for each seed. */
static void hash_of(unsigned char *hash, int seed)
{
    for (int i = 0; i < STORE_HASH_LEN; i++) {
        hash[i] = (unsigned char)(seed * 31 + i);
    }
}

static void find(struct store *st, const char *name, struct store_account *acct)
{
    ck_assert_msg(store_account_find(st, name, acct, err, sizeof(err)) == 1, "find %s: %s", name,
                  err);
}

START_TEST(test_account_create_and_find)
{
    unsigned char h1[STORE_HASH_LEN];
    struct store_account acct, got;
    char text[80];
    struct store *st;

    make_dir();
    st = open_store();
    hash_of(h1, 1);
    ck_assert_int_eq(store_account_create(st, "Bob", h1, &acct, err, sizeof(err)), 1);
    ck_assert_int_gt(acct.id, 0);
    ck_assert_str_eq(acct.name, "Bob");
    ck_assert_int_eq(acct.registered, 1);
    ck_assert_mem_eq(acct.hash, h1, STORE_HASH_LEN);
    /* Committed, as the hash: another connection sees it. */
    raw_query("SELECT hex(secret_hash) FROM players WHERE name = 'Bob'", 0, text, sizeof(text));
    ck_assert_str_eq(text, "1F202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E");

    find(st, "BOB", &got);
    ck_assert_int_eq(got.id, acct.id);
    ck_assert_str_eq(got.name, "Bob");
    ck_assert_int_eq(got.registered, 1);
    ck_assert_mem_eq(got.hash, h1, STORE_HASH_LEN);
    find(st, "bob", &got);
    ck_assert_int_eq(got.id, acct.id);

    /* Taken in any case: nothing stored, whether registered or not. */
    ck_assert_int_eq(store_account_create(st, "bob", NULL, &got, err, sizeof(err)), 0);
    ck_assert_int_eq(store_account_create(st, "BOB", h1, &got, err, sizeof(err)), 0);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players", 0), 1);

    /* Unclaimed: no hash. */
    ck_assert_int_eq(store_account_create(st, "ana", NULL, &acct, err, sizeof(err)), 1);
    ck_assert_int_eq(acct.registered, 0);
    find(st, "ANA", &got);
    ck_assert_int_eq(got.id, acct.id);
    ck_assert_str_eq(got.name, "ana");
    ck_assert_int_eq(got.registered, 0);
    ck_assert_int_eq(raw_int("SELECT secret_hash IS NULL FROM players WHERE id = ?1", acct.id), 1);

    ck_assert_int_eq(store_account_find(st, "nobody", &got, err, sizeof(err)), 0);
    ck_assert_int_eq(store_account_find(st, "an", &got, err, sizeof(err)), 0);
    ck_assert_int_eq(store_account_find(st, "", &got, err, sizeof(err)), -1);
    ck_assert_int_eq(store_account_create(st, "", NULL, &got, err, sizeof(err)), -1);
    ck_assert_int_eq(store_account_create(st, "abcdefghijklmnopqrstuvwxyz0123456", NULL, &got, err,
                                          sizeof(err)),
                     -1);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players", 0), 2);
    store_close(st);
}
END_TEST

/* The database itself refuses a second spelling of a name and a hash of the wrong size. */
START_TEST(test_names_unique_regardless_of_case)
{
    struct store_account acct;
    struct store *st;
    sqlite3 *db;

    make_dir();
    st = open_store();
    player(st, "Bob");
    db = raw_open();
    ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO players(name, created) VALUES ('bOB', 0)", NULL,
                                  NULL, NULL),
                     SQLITE_CONSTRAINT);
    ck_assert_int_eq(sqlite3_extended_errcode(db), SQLITE_CONSTRAINT_UNIQUE);
    ck_assert_ptr_nonnull(strstr(sqlite3_errmsg(db), "players.name"));
    ck_assert_int_eq(sqlite3_exec(db, "UPDATE players SET secret_hash = x'00' WHERE name = 'Bob'",
                                  NULL, NULL, NULL),
                     SQLITE_CONSTRAINT);
    ck_assert_int_eq(sqlite3_extended_errcode(db), SQLITE_CONSTRAINT_CHECK);
    ck_assert_int_eq(sqlite3_exec(db, "UPDATE players SET secret_hash = zeroblob(31)", NULL, NULL,
                                  NULL),
                     SQLITE_CONSTRAINT);
    ck_assert_int_eq(sqlite3_exec(db, "UPDATE players SET secret_hash = '" /* text, not a blob */
                                      "0123456789abcdef0123456789abcdef'",
                                  NULL, NULL, NULL),
                     SQLITE_CONSTRAINT);
    ck_assert_int_eq(sqlite3_exec(db, "UPDATE players SET secret_hash = zeroblob(32)", NULL, NULL,
                                  NULL),
                     SQLITE_OK);
    /* Were a bad hash there anyway, the name would not pass for unclaimed. */
    ck_assert_int_eq(sqlite3_exec(db, "PRAGMA ignore_check_constraints = ON;"
                                      "UPDATE players SET secret_hash = x'00'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    ck_assert_int_eq(store_account_find(st, "bob", &acct, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "player 1: bad secret hash");
    /* Guests have no name to collide. */
    ck_assert_int_gt(store_guest(st, err, sizeof(err)), 0);
    ck_assert_int_gt(store_guest(st, err, sizeof(err)), 0);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players", 0), 3);
    store_close(st);
}
END_TEST

START_TEST(test_account_claim)
{
    unsigned char h1[STORE_HASH_LEN], h2[STORE_HASH_LEN];
    struct store_account acct, got;
    struct store *st;
    int64_t guest;

    make_dir();
    st = open_store();
    hash_of(h1, 1);
    hash_of(h2, 2);
    ck_assert_int_eq(store_account_create(st, "ana", NULL, &acct, err, sizeof(err)), 1);
    ck_assert_int_eq(store_account_claim(st, acct.id, h1, err, sizeof(err)), 1);
    find(st, "Ana", &got);
    ck_assert_int_eq(got.registered, 1);
    ck_assert_mem_eq(got.hash, h1, STORE_HASH_LEN);

    /* Registered already: the old hash stays. */
    ck_assert_int_eq(store_account_claim(st, acct.id, h2, err, sizeof(err)), 0);
    find(st, "ana", &got);
    ck_assert_mem_eq(got.hash, h1, STORE_HASH_LEN);

    /* A registered creation cannot be claimed either. */
    ck_assert_int_eq(store_account_create(st, "bo", h2, &acct, err, sizeof(err)), 1);
    ck_assert_int_eq(store_account_claim(st, acct.id, h1, err, sizeof(err)), 0);
    find(st, "bo", &got);
    ck_assert_mem_eq(got.hash, h2, STORE_HASH_LEN);

    /* No such player, a guest, no hash. */
    ck_assert_int_eq(store_account_claim(st, 999, h1, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "no named player 999");
    guest = store_guest(st, err, sizeof(err));
    ck_assert_int_gt(guest, 0);
    ck_assert_int_eq(store_account_claim(st, guest, h1, err, sizeof(err)), -1);
    ck_assert_int_eq(raw_int("SELECT secret_hash IS NULL FROM players WHERE id = ?1", guest), 1);
    ck_assert_int_eq(store_account_create(st, "cy", NULL, &acct, err, sizeof(err)), 1);
    ck_assert_int_eq(store_account_claim(st, acct.id, NULL, err, sizeof(err)), -1);
    find(st, "cy", &got);
    ck_assert_int_eq(got.registered, 0);
    store_close(st);
}
END_TEST

START_TEST(test_account_set_hash)
{
    unsigned char h1[STORE_HASH_LEN], h2[STORE_HASH_LEN], h3[STORE_HASH_LEN];
    struct store_account acct, got;
    struct board_row rows[2];
    struct store *st;
    int64_t bo, guest;
    int self;

    make_dir();
    st = open_store();
    hash_of(h1, 1);
    hash_of(h2, 2);
    hash_of(h3, 3);
    ck_assert_int_eq(store_account_create(st, "ana", h1, &acct, err, sizeof(err)), 1);
    bo = player(st, "bo");
    play(st, acct.id, bo, 'W');

    /* A new secret replaces the old at once. */
    ck_assert_int_eq(store_account_set_hash(st, acct.id, h2, err, sizeof(err)), 0);
    find(st, "ana", &got);
    ck_assert_int_eq(got.registered, 1);
    ck_assert_mem_eq(got.hash, h2, STORE_HASH_LEN);

    /* Cleared: unclaimed, with its history, and claimable again. */
    ck_assert_int_eq(store_account_set_hash(st, acct.id, NULL, err, sizeof(err)), 0);
    find(st, "ANA", &got);
    ck_assert_int_eq(got.id, acct.id);
    ck_assert_int_eq(got.registered, 0);
    ck_assert_int_eq(raw_int("SELECT secret_hash IS NULL FROM players WHERE id = ?1", acct.id), 1);
    ck_assert_int_eq(store_rank(st, "ana", 0, rows, &self, err, sizeof(err)), 1);
    ck_assert_double_eq_tol(rows[0].rating, 1220.0, 1e-9);
    ck_assert_int_eq(rows[0].wins, 1);
    ck_assert_int_eq(store_account_claim(st, acct.id, h3, err, sizeof(err)), 1);
    find(st, "ana", &got);
    ck_assert_mem_eq(got.hash, h3, STORE_HASH_LEN);

    /* No such player, a guest. */
    ck_assert_int_eq(store_account_set_hash(st, 999, h1, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "no named player 999");
    guest = store_guest(st, err, sizeof(err));
    ck_assert_int_gt(guest, 0);
    ck_assert_int_eq(store_account_set_hash(st, guest, h1, err, sizeof(err)), -1);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players WHERE secret_hash IS NOT NULL", 0), 1);
    store_close(st);
}
END_TEST

/* A secret is handed out only once it is stored: the account writes refuse a batch, which could
 * still be rolled back. */
START_TEST(test_accounts_outside_batches)
{
    unsigned char h1[STORE_HASH_LEN];
    struct store_account acct, got;
    struct store *st;

    make_dir();
    st = open_store();
    hash_of(h1, 1);
    ck_assert_int_eq(store_account_create(st, "ana", NULL, &acct, err, sizeof(err)), 1);
    begin(st);
    ck_assert_int_eq(store_account_create(st, "bo", h1, &got, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "not allowed inside a batch");
    ck_assert_int_eq(store_account_claim(st, acct.id, h1, err, sizeof(err)), -1);
    ck_assert_int_eq(store_account_set_hash(st, acct.id, h1, err, sizeof(err)), -1);
    ck_assert_int_eq(store_account_find(st, "ana", &got, err, sizeof(err)), -1);
    store_rollback(st);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players WHERE secret_hash IS NOT NULL", 0), 0);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players", 0), 1);
    store_close(st);
}
END_TEST

START_TEST(test_player_ignores_case)
{
    struct store_account acct;
    struct board_row rows[2];
    struct store *st;
    int64_t ana, bo;
    char text[64];
    int self;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    ck_assert_int_eq(player(st, "ANA"), ana);
    ck_assert_int_eq(player(st, "aNa"), ana);
    raw_query("SELECT name FROM players WHERE id = ?1", ana, text, sizeof(text));
    ck_assert_str_eq(text, "ana");
    ck_assert_int_eq(store_account_create(st, "Bo", NULL, &acct, err, sizeof(err)), 1);
    bo = player(st, "bO");
    ck_assert_int_eq(bo, acct.id);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players", 0), 2);

    /* The leaderboard finds a name in any case, and shows it as stored. */
    play(st, ana, bo, 'W');
    ck_assert_int_eq(store_rank(st, "ANA", 1, rows, &self, err, sizeof(err)), 2);
    ck_assert_int_eq(self, 0);
    ck_assert_str_eq(rows[0].name, "ana");
    ck_assert_str_eq(rows[1].name, "Bo");
    store_close(st);
}
END_TEST

START_TEST(test_missing_directory)
{
    char bad[256];

    make_dir();
    snprintf(bad, sizeof(bad), "%s/no/such/dir/arcade.db", dir);
    ck_assert_ptr_null(store_open(bad, 0, err, sizeof(err)));
    ck_assert_msg(strstr(err, "unable to open") != NULL, "err: %s", err);
}
END_TEST

START_TEST(test_read_only_database)
{
    struct store *st;
    char uri[256];
    int64_t ana;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    store_close(st);
    /* Root ignores file modes, so read-only comes from the open mode instead. */
    snprintf(uri, sizeof(uri), "file:%s?mode=ro", path);
    st = store_open(uri, 0, err, sizeof(err));
    ck_assert_msg(st != NULL, "%s", err);
    ck_assert_int_eq(player(st, "ana"), ana);
    ck_assert_int_eq(store_player(st, "bo", err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "readonly") != NULL, "err: %s", err);
    ck_assert_int_eq(store_guest(st, err, sizeof(err)), -1);
    /* SQLite may refuse the begin already, or only the first write. */
    err[0] = '\0';
    if (store_begin(st, err, sizeof(err)) == 0) {
        ck_assert_int_eq(store_add_totals(st, ana, 1, 0, 0, err, sizeof(err)), 0);
        ck_assert_int_eq(store_commit(st, err, sizeof(err)), -1);
    }
    ck_assert_msg(strstr(err, "readonly") != NULL, "err: %s", err);
    store_close(st);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players", 0), 1);

    /* A new database cannot be created read-only. */
    make_dir();
    snprintf(uri, sizeof(uri), "file:%s?mode=ro", path);
    ck_assert_ptr_null(store_open(uri, 0, err, sizeof(err)));
    ck_assert(err[0] != '\0');
}
END_TEST

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

START_TEST(test_locked_database)
{
    struct store *st;
    sqlite3 *other;
    int64_t ana;
    double t0;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    /* Another process holds the write lock. */
    other = raw_open();
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    t0 = now_s();
    ck_assert_int_eq(store_begin(st, err, sizeof(err)), -1);
    ck_assert_double_lt(now_s() - t0, 1.0); /* gives up after the short busy timeout */
    ck_assert_msg(strstr(err, "locked") != NULL, "err: %s", err);
    ck_assert_int_eq(store_player(st, "bo", err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "locked") != NULL, "err: %s", err);
    ck_assert_int_eq(player(st, "ana"), ana); /* reading still works */
    ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);

    begin(st);
    ck_assert_int_eq(store_add_totals(st, ana, 1, 0, 0, err, sizeof(err)), 0);
    commit(st);
    ck_assert_int_gt(player(st, "bo"), ana);
    ck_assert_int_eq(raw_int("SELECT wins FROM players WHERE id = ?1", ana), 1);
    store_close(st);
}
END_TEST

START_TEST(test_failed_statement_then_rollback)
{
    struct store *st;
    int64_t ana, bo;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    bo = player(st, "bo");
    begin(st);
    ck_assert_int_eq(store_add_totals(st, ana, 1, 0, 0, err, sizeof(err)), 0);
    round_of(st, ana, bo, 'W');
    ck_assert_int_eq(store_add_totals(st, 9999, 1, 0, 0, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "no player 9999") != NULL, "err: %s", err);
    ck_assert_int_eq(store_pvp_round(st, ana, 9999, 2, 1, 'W', 0, NULL, NULL, err, sizeof(err)),
                     -1);
    ck_assert_msg(strstr(err, "no player 9999") != NULL, "err: %s", err);
    store_rollback(st);
    store_rollback(st); /* harmless when nothing is open */

    begin(st);
    ck_assert_int_eq(store_add_totals(st, ana, 0, 2, 0, err, sizeof(err)), 0);
    commit(st);
    ck_assert_int_eq(raw_int("SELECT wins * 10 + losses FROM players WHERE id = ?1", ana), 2);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM rounds", 0), 0);
    store_close(st);
}
END_TEST

/* A full disk at commit time, made with RLIMIT_FSIZE: in WAL mode a small batch reaches the disk
 * only when it commits, as frames appended to the -wal file, so that write is the one refused. */
START_TEST(test_commit_fails_then_store_works)
{
    struct board_row rows[10];
    struct rlimit old, tiny;
    struct store *st;
    int64_t ana, bo;
    char text[64];

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    bo = player(st, "bo");
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    tiny = old;
    tiny.rlim_cur = 1024;
    signal(SIGXFSZ, SIG_IGN);

    begin(st);
    ck_assert_int_eq(store_add_totals(st, ana, 7, 0, 0, err, sizeof(err)), 0);
    round_of(st, ana, bo, 'W');
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &tiny), 0);
    err[0] = '\0';
    ck_assert_int_eq(store_commit(st, err, sizeof(err)), -1);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    ck_assert_msg(strstr(err, "commit: ") == err, "err: %s", err);
    ck_assert_msg(strstr(err, "full") != NULL || strstr(err, "I/O") != NULL, "err: %s", err);

    store_rollback(st);
    begin(st);
    ck_assert_int_eq(store_add_totals(st, ana, 0, 3, 0, err, sizeof(err)), 0);
    commit(st);
    ck_assert_int_eq(raw_int("SELECT wins * 10 + losses FROM players WHERE id = ?1", ana), 3);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM rounds", 0), 0);
    ck_assert_int_eq(store_top(st, 10, rows, err, sizeof(err)), 0);
    store_close(st);

    st = open_store();
    store_close(st);
    ck_assert_int_eq(raw_int("SELECT wins * 10 + losses FROM players WHERE id = ?1", ana), 3);
    raw_query("PRAGMA integrity_check", 0, text, sizeof(text));
    ck_assert_str_eq(text, "ok");
}
END_TEST

/* The checkpointer's done callback, from its thread: a byte down a pipe. */
static int done_pipe[2];

static void checkpointed(void *arg)
{
    (void)arg;
    ck_assert_int_eq(write(done_pipe[1], "x", 1), 1);
}

/* Commit one round at a time until the store holds its commits for a last pass; returns how many
 * commits that took (at most limit, else the test fails). As in the server, nothing else writes. */
static int commit_until_paused(struct store *st, int64_t a, int64_t b, int limit)
{
    for (int n = 1; n <= limit; n++) {
        begin(st);
        round_of(st, a, b, n % 2 ? 'W' : 'L');
        ck_assert_msg(store_commit(st, err, sizeof(err)) == 0, "commit: %s", err);
        if (store_paused(st)) {
            return n;
        }
    }
    ck_abort_msg("no last pass asked for in %d commits", limit);
    return 0;
}

static off_t wal_size(void)
{
    char wal[200];
    struct stat sb;

    snprintf(wal, sizeof(wal), "%s-wal", path);
    ck_assert_int_eq(stat(wal, &sb), 0);
    return sb.st_size;
}

/* Past STORE_WAL_FINISH frames the store holds its commits for the checkpointer's last pass; once
 * it is done, the next commit starts the WAL over, so the WAL stays at the size it had reached:
 * without the start over, the second round of commits would double it. */
START_TEST(test_wal_starts_over_after_a_last_pass)
{
    struct checkpointer_counts n;
    struct pollfd done = { .events = POLLIN };
    struct store *st;
    char byte, msg[256];
    int64_t ana, bo;

    make_dir();
    ck_assert_int_eq(pipe(done_pipe), 0);
    done.fd = done_pipe[0];
    st = open_store();
    ck_assert_msg(store_background(st, checkpointed, NULL, err, sizeof(err)) == 0, "%s", err);
    ana = player(st, "ana");
    bo = player(st, "bo");
    commit_until_paused(st, ana, bo, 20000);
    ck_assert_int_eq(poll(&done, 1, 10000), 1);
    ck_assert_int_eq(read(done_pipe[0], &byte, 1), 1);
    ck_assert_int_eq(store_paused(st), 0);
    off_t reached = wal_size();
    ck_assert_int_ge(reached, (off_t)STORE_WAL_FINISH * 4096);
    /* A write outside any batch (a new player) is the first after the pass: the thread checkpoints
     * again after it, not only after the next batch. */
    store_background_counts(st, &n, msg, sizeof(msg));
    uint64_t passes = n.passes;
    player(st, "cy");
    for (int i = 0; i < 1000 && n.passes == passes; i++) {
        poll(NULL, 0, 5);
        store_background_counts(st, &n, msg, sizeof(msg));
    }
    ck_assert_uint_gt(n.passes, passes);

    commit_until_paused(st, ana, bo, 20000);
    ck_assert_int_eq(poll(&done, 1, 10000), 1);
    ck_assert_int_le(wal_size(), reached + 64 * 1024);
    store_background_counts(st, &n, msg, sizeof(msg));
    ck_assert_uint_ge(n.passes, 2);
    ck_assert_uint_eq(n.finished, 2);
    ck_assert_uint_eq(n.failures, 0);
    ck_assert_str_eq(msg, "");
    ck_assert_msg(store_sweep_all(st, err, sizeof(err)) == 0, "sweep: %s", err);
    ck_assert(board_agrees(st));
    store_close(st);
    close(done_pipe[0]);
    close(done_pipe[1]);
}
END_TEST

/* The history follows a player from side to side: a in one round, b in the next, against both
 * others, and not in every round. Read from memory, then again from the rows after a reopen. */
START_TEST(test_history_follows_both_sides)
{
    static const struct {
        int a, b;
        char outcome;
    } plan[] = {
        {0, 1, 'W'}, {1, 0, 'W'}, {2, 0, 'D'}, {0, 2, 'L'}, {1, 2, 'W'}, {2, 0, 'W'}, {0, 1, 'D'}, {1, 0, 'L'},
    };
    enum { ROUNDS = sizeof(plan) / sizeof(plan[0]) };
    static const char *const names[] = {"ana", "bo", "cy"};
    struct store_rating points[STORE_HISTORY_MAX];
    double after[3][ROUNDS];
    int64_t ids[3];
    int count[3] = {0};
    struct store *st;

    make_dir();
    st = open_store();
    for (int p = 0; p < 3; p++) {
        ids[p] = player(st, names[p]);
    }
    for (int r = 0; r < ROUNDS; r++) {
        int a = plan[r].a, b = plan[r].b;

        begin(st);
        ck_assert_msg(rated(st, ids[a], ids[b], plan[r].outcome, &after[a][count[a]], &after[b][count[b]]) == 0,
                      "pvp: %s", err);
        count[a]++;
        count[b]++;
        /* Every other round stays unswept: the history must not depend on the rows. */
        if (r % 2 == 0) {
            commit(st);
        } else {
            commit_only(st);
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        for (int p = 0; p < 3; p++) {
            ck_assert_int_eq(store_history(st, ids[p], STORE_HISTORY_MAX, points, err, sizeof(err)), count[p]);
            for (int k = 0; k < count[p]; k++) {
                ck_assert_msg(points[k].rating == after[p][k], "%s point %d: %.17g, want %.17g", names[p], k,
                              points[k].rating, after[p][k]);
            }
            ck_assert_int_eq(store_history(st, ids[p], 2, points, err, sizeof(err)), 2);
            ck_assert(points[0].rating == after[p][count[p] - 2]);
            ck_assert(points[1].rating == after[p][count[p] - 1]);
        }
        store_close(st);
        st = open_store();
    }
    store_close(st);
}
END_TEST

/* A version 2 database where three players take both sides, each against both others: ana a, b,
 * then a; bo b, a, b, b. Ratings after each round, for each player:
 *   ana 1220 (1), 1199 (2), 1178 (4); bo 1180 (1), 1182 (3), 1203 (4), 1184 (5);
 *   cy 1221 (2), 1219 (3), 1240 (5). */
#define SIDES_V2                                                                                   \
    "INSERT INTO players(id, name, wins, losses, draws, rounds, rating, rated, rated_at, form,"    \
    " created) VALUES"                                                                             \
    " (1, 'ana', 1, 2, 0, 3, 1178, 3, 4, 'WLL', 100),"                                             \
    " (2, 'bo', 1, 2, 1, 4, 1184, 4, 5, 'LDWL', 101),"                                             \
    " (3, 'cy', 2, 0, 1, 3, 1240, 3, 5, 'WDW', 102);"                                              \
    "INSERT INTO rounds(id, at, a, b, move_a, move_b, outcome, timeout) VALUES"                    \
    " (1, 1000, 1, 2, 2, 1, 'W', 0), (2, 2000, 3, 1, 2, 1, 'W', 0), (3, 3000, 2, 3, 3, 3, 'D', 0),"  \
    " (4, 4000, 1, 2, 1, 2, 'L', 0), (5, 5000, 3, 2, 2, 1, 'W', 0);"                               \
    "INSERT INTO ratings(round, player, before, after) VALUES"                                     \
    " (1, 1, 1200, 1220), (1, 2, 1200, 1180), (2, 3, 1200, 1221), (2, 1, 1220, 1199),"             \
    " (3, 2, 1180, 1182), (3, 3, 1221, 1219), (4, 1, 1199, 1178), (4, 2, 1182, 1203),"             \
    " (5, 3, 1219, 1240), (5, 2, 1203, 1184);"

/* store_history gives exactly these n ratings and times (in seconds), oldest first. */
static void expect_history(struct store *st, int64_t id, const double *rating, const int64_t *at, int n)
{
    struct store_rating points[STORE_HISTORY_MAX];

    ck_assert_int_eq(store_history(st, id, STORE_HISTORY_MAX, points, err, sizeof(err)), n);
    for (int k = 0; k < n; k++) {
        ck_assert_msg(points[k].rating == rating[k], "player %lld point %d: %.17g, want %.17g", (long long)id, k,
                      points[k].rating, rating[k]);
        if (at != NULL) {
            ck_assert_int_eq(points[k].at, at[k]);
        }
    }
}

START_TEST(test_version_2_histories_migrate_and_go_on)
{
    double ana[4] = {1220, 1199, 1178}, bo[5] = {1180, 1182, 1203, 1184};
    static const double cy[] = {1221, 1219, 1240};
    static const int64_t ana_at[] = {1, 2, 4}, bo_at[] = {1, 3, 4, 5}, cy_at[] = {2, 3, 5};
    double ra, rb, want_a = 1178, want_b = 1184;
    struct store *st;

    make_dir();
    raw_exec(SCHEMA_2 SIDES_V2);
    st = open_store();
    expect_history(st, 1, ana, ana_at, 3);
    expect_history(st, 2, bo, bo_at, 4);
    expect_history(st, 3, cy, cy_at, 3);

    /* One more round, bo (a) beating ana (b): it goes on from the migrated ratings and counts (bo 4
     * rated rounds, ana 3), and each side's round before is that player's last migrated one. */
    begin(st);
    ck_assert_msg(rated(st, 2, 1, 'W', &rb, &ra) == 0, "pvp: %s", err);
    commit(st);
    elo_update(&want_b, 4, &want_a, 3, 1.0);
    ck_assert_double_eq(rb, want_b);
    ck_assert_double_eq(ra, want_a);
    ck_assert_int_eq(raw_int("SELECT max(id) FROM rounds", 0), 6);
    ck_assert_int_eq(raw_int("SELECT prev_a * 10 + prev_b FROM rounds WHERE id = 6", 0), 54);
    ana[3] = ra;
    bo[4] = rb;
    for (int pass = 0; pass < 2; pass++) {
        expect_history(st, 1, ana, NULL, 4);
        expect_history(st, 2, bo, NULL, 5);
        expect_history(st, 3, cy, cy_at, 3);
        store_close(st);
        st = open_store();
    }
    store_close(st);
}
END_TEST

/* The top read inside a batch shows its rated rounds, as every read does; once the batch is rolled
 * back, it shows them no more. */
START_TEST(test_top_read_inside_a_rolled_back_batch)
{
    struct board_row rows[10];
    struct store *st;
    int64_t a, b;

    make_dir();
    st = open_store();
    a = player(st, "a");
    b = player(st, "b");
    play(st, a, b, 'W');                            /* a 1220, b 1180; the top not read since */
    begin(st);
    round_of(st, b, a, 'W');                        /* b 1202.29 over a 1197.71 */
    ck_assert_int_eq(store_top(st, 10, rows, err, sizeof(err)), 2);
    ck_assert_str_eq(rows[0].name, "b");
    store_rollback(st);
    ck_assert_int_eq(store_top(st, 10, rows, err, sizeof(err)), 2);
    ck_assert_str_eq(rows[0].name, "a");
    ck_assert_double_eq(rows[0].rating, 1220.0);
    ck_assert_str_eq(rows[0].form, "W");

    /* And with the top read just before the batch. */
    begin(st);
    round_of(st, b, a, 'W');
    ck_assert_int_eq(store_top(st, 10, rows, err, sizeof(err)), 2);
    ck_assert_str_eq(rows[0].name, "b");
    ck_assert_str_eq(rows[0].form, "LW");
    store_rollback(st);
    ck_assert_int_eq(store_top(st, 10, rows, err, sizeof(err)), 2);
    ck_assert_str_eq(rows[0].name, "a");
    ck_assert(board_agrees(st));
    store_close(st);
}
END_TEST

/* A batch that loaded new roster entries (a guest created inside it, and cy's first rated round)
 * is rolled back: the entries are forgotten. The guest's id is free again, and the player who gets
 * it next starts from nothing: named, unrated, and on the leaderboard after its first round. */
START_TEST(test_rollback_forgets_new_entries_and_a_reused_id_starts_fresh)
{
    struct store_rating points[10];
    struct board_row row, rows[10];
    struct store *st;
    int64_t ana, bo, cy, guest, zed, id;
    double rz, rb;
    int self;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    bo = player(st, "bo");
    cy = player(st, "cy");
    play(st, ana, bo, 'W');
    begin(st);
    guest = store_guest(st, err, sizeof(err));
    ck_assert_int_gt(guest, cy);
    round_of(st, guest, ana, 'W');
    round_of(st, cy, bo, 'W');
    store_rollback(st);

    ck_assert_int_eq(raw_int("SELECT count(*) FROM players", 0), 3);
    ck_assert_int_eq(store_row(st, "cy", &row, &id, err, sizeof(err)), 1);
    ck_assert_int_eq(row.rank, 0);
    ck_assert_double_eq(row.rating, 1200.0);
    ck_assert_int_eq(row.rounds, 0);
    ck_assert_str_eq(row.form, "");
    ck_assert_int_eq(store_history(st, cy, 10, points, err, sizeof(err)), 0);
    ck_assert_int_eq(store_history(st, guest, 10, points, err, sizeof(err)), 0);
    ck_assert_int_eq(store_row(st, "ana", &row, &id, err, sizeof(err)), 1);
    ck_assert_double_eq(row.rating, 1220.0);
    ck_assert_str_eq(row.form, "W");

    zed = player(st, "zed");
    ck_assert_int_eq(zed, guest);
    ck_assert_int_eq(store_row(st, "zed", &row, &id, err, sizeof(err)), 1);
    ck_assert_int_eq(row.rank, 0);
    ck_assert_double_eq(row.rating, 1200.0);
    ck_assert_int_eq(row.rounds, 0);
    ck_assert_str_eq(row.form, "");
    ck_assert_int_eq(store_history(st, zed, 10, points, err, sizeof(err)), 0);
    ck_assert_int_eq(store_rank(st, "zed", 1, rows, &self, err, sizeof(err)), 0);

    begin(st);
    ck_assert_msg(rated(st, zed, bo, 'W', &rz, &rb) == 0, "pvp: %s", err);
    commit(st);
    ck_assert_int_eq(store_row(st, "zed", &row, &id, err, sizeof(err)), 1);
    ck_assert_double_eq(row.rating, rz);
    ck_assert_int_eq(row.wins * 100 + row.rounds, 101);
    ck_assert_str_eq(row.form, "W");
    ck_assert_int_gt(row.rank, 0);
    ck_assert_int_eq(store_rank(st, "zed", 1, rows, &self, err, sizeof(err)), 3);
    ck_assert_str_eq(rows[self].name, "zed");
    ck_assert_int_eq(store_history(st, zed, 10, points, err, sizeof(err)), 1);
    ck_assert_double_eq(points[0].rating, rz);
    ck_assert_int_eq(store_top(st, 10, rows, err, sizeof(err)), 3);
    ck_assert(board_agrees(st));

    /* cy's first rated round, once more: counted from the start. */
    play(st, cy, ana, 'D');
    ck_assert_int_eq(store_row(st, "cy", &row, &id, err, sizeof(err)), 1);
    ck_assert_int_eq(row.rounds, 1);
    ck_assert_str_eq(row.form, "D");
    ck_assert_int_eq(raw_int("SELECT rated FROM players WHERE id = ?1", cy), 1);
    ck_assert_int_eq(store_top(st, 10, rows, err, sizeof(err)), 4);
    ck_assert(board_agrees(st));
    store_close(st);
}
END_TEST

/* A player's totals and form as "wins losses draws rounds form", from the store. */
static void expect_totals(struct store *st, const char *name, const char *want)
{
    struct board_row row;
    char got[64];
    int64_t id;

    ck_assert_int_eq(store_row(st, name, &row, &id, err, sizeof(err)), 1);
    snprintf(got, sizeof(got), "%lld %lld %lld %lld %s", (long long)row.wins, (long long)row.losses,
             (long long)row.draws, (long long)row.rounds, row.form);
    ck_assert_str_eq(got, want);
}

/* The same from the player's row. */
static void expect_row_totals(int64_t id, const char *want)
{
    char got[64];

    raw_query("SELECT wins || ' ' || losses || ' ' || draws || ' ' || rounds || ' ' || form FROM players"
              " WHERE id = ?1",
              id, got, sizeof(got));
    ck_assert_str_eq(got, want);
}

/* Bot rounds reach the row through the tally log and store_fold, rated results through the roster
 * and store_sweep; both add to the same totals, in either order, and neither clobbers the other. */
START_TEST(test_bot_totals_and_rated_results_both_reach_the_row)
{
    struct store *st;
    int64_t ana, bo;

    make_dir();
    st = open_store();
    ana = player(st, "ana");
    bo = player(st, "bo");
    begin(st);
    ck_assert_int_eq(store_add_totals(st, ana, 3, 2, 1, err, sizeof(err)), 0);
    round_of(st, ana, bo, 'W');
    commit_only(st);
    /* Neither folded nor swept yet: the store adds the log and the roster. */
    expect_row_totals(ana, "0 0 0 0 ");
    expect_totals(st, "ana", "4 2 1 7 W");
    ck_assert_int_eq(raw_int("SELECT rated FROM players WHERE id = ?1", ana), 0);

    /* Swept, then folded. */
    begin(st);
    ck_assert_int_eq(store_add_totals(st, ana, 0, 0, 5, err, sizeof(err)), 0);
    round_of(st, bo, ana, 'D');
    commit_only(st);
    ck_assert_msg(store_sweep_all(st, err, sizeof(err)) == 0, "sweep: %s", err);
    expect_row_totals(ana, "4 2 2 8 WD");
    ck_assert_msg(store_fold(st, err, sizeof(err)) == 0, "fold: %s", err);
    expect_row_totals(ana, "4 2 7 13 WD");
    expect_totals(st, "ana", "4 2 7 13 WD");

    /* Folded, then swept. */
    begin(st);
    ck_assert_int_eq(store_add_totals(st, ana, 1, 0, 0, err, sizeof(err)), 0);
    round_of(st, ana, bo, 'L');
    commit_only(st);
    ck_assert_msg(store_fold(st, err, sizeof(err)) == 0, "fold: %s", err);
    expect_row_totals(ana, "5 2 7 14 WD");
    expect_totals(st, "ana", "5 3 7 15 WDL");
    ck_assert_msg(store_sweep_all(st, err, sizeof(err)) == 0, "sweep: %s", err);
    expect_row_totals(ana, "5 3 7 15 WDL");
    expect_row_totals(bo, "1 1 1 3 LDW");
    ck_assert_int_eq(raw_int("SELECT rated FROM players WHERE id = ?1", ana), 3);
    store_close(st);

    st = open_store();
    expect_totals(st, "ana", "5 3 7 15 WDL");
    expect_totals(st, "bo", "1 1 1 3 LDW");
    store_close(st);
    expect_row_totals(ana, "5 3 7 15 WDL");
}
END_TEST

/* The sweep in steps, over 40 players whose entries are in the order of their first rounds: each
 * step writes STEP changed rows (and says so), the snapshot moves only when a pass over the whole
 * roster completes, to the last round committed before that pass began, and a round committed
 * during a pass is in the snapshot after the next one. */
START_TEST(test_sweep_in_steps)
{
    enum { N = 40, STEP = 5 };
    int64_t ids[N];
    struct store *st;
    sqlite3 *other;

    make_dir();
    st = open_store();
    for (int i = 0; i < N; i++) {
        char name[16];

        snprintf(name, sizeof(name), "s%02d", i);
        ids[i] = player(st, name);
    }
    /* Pass 1 began at open, before rounds 1 to 20. */
    begin(st);
    for (int i = 0; i < N / 2; i++) {
        round_of(st, ids[2 * i], ids[2 * i + 1], 'W');
    }
    commit_only(st);
    for (int k = 1; k <= N / STEP; k++) {
        ck_assert_int_eq(store_sweep(st, STEP, err, sizeof(err)), STEP);
        ck_assert_int_eq(raw_int("SELECT count(*) FROM players WHERE rated = 1", 0), k * STEP);
        ck_assert_int_eq(store_snapshot(st), 0);
        ck_assert_int_eq(raw_int("SELECT round FROM snapshot", 0), 0);
    }

    /* Pass 2 began after round 20. Rounds 21 to 40 come before its first step, round 41 (s00
     * against s39) after its second: s00 is written before it, s39 after. The snapshot stays until
     * the last step, then moves to round 20. */
    begin(st);
    for (int i = 0; i < N / 2; i++) {
        round_of(st, ids[i], ids[N - 1 - i], 'D');
    }
    commit_only(st);
    for (int k = 1; k <= N / STEP; k++) {
        int64_t snapshot = k < N / STEP ? 0 : 20;

        if (k == 3) {
            begin(st);
            round_of(st, ids[0], ids[N - 1], 'W');
            commit_only(st);
        }
        ck_assert_int_eq(store_sweep(st, STEP, err, sizeof(err)), STEP);
        ck_assert_int_eq(raw_int("SELECT count(*) FROM players WHERE rated >= 2", 0), k * STEP);
        ck_assert_int_eq(store_snapshot(st), snapshot);
        ck_assert_int_eq(raw_int("SELECT round FROM snapshot", 0), snapshot);
    }
    ck_assert_int_eq(raw_int("SELECT rated * 100 + last_round FROM players WHERE id = ?1", ids[0]), 221);
    ck_assert_int_eq(raw_int("SELECT rated * 100 + last_round FROM players WHERE id = ?1", ids[N - 1]), 341);

    /* Pass 3 began after round 41: it writes s00 alone and moves the snapshot there. */
    ck_assert_int_eq(store_sweep(st, STEP, err, sizeof(err)), 1);
    ck_assert_int_eq(store_snapshot(st), 41);
    ck_assert_int_eq(raw_int("SELECT round FROM snapshot", 0), 41);
    ck_assert_int_eq(raw_int("SELECT rated * 100 + last_round FROM players WHERE id = ?1", ids[0]), 341);

    /* Nothing changed: nothing to write, and no transaction begun (another connection holds the
     * write lock). */
    other = raw_open();
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    for (int k = 0; k < 3; k++) {
        ck_assert_msg(store_sweep(st, STEP, err, sizeof(err)) == 0, "sweep: %s", err);
    }
    ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    ck_assert_int_eq(store_snapshot(st), 41);

    /* Never inside a batch. */
    begin(st);
    ck_assert_int_eq(store_sweep(st, STEP, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "not allowed inside a batch");
    store_rollback(st);
    store_close(st);
}
END_TEST

/* A step stops writing once its time budget is spent: the 4,096 changed rows a call may visit
 * cannot be written in a millisecond, so one call writes some and returns; the calls after it go on from there, and the
 * snapshot moves only when the pass is over. */
START_TEST(test_sweep_step_keeps_to_its_time_budget)
{
    enum { PLAYERS = 20000 };
    struct store *st;
    int64_t *ids = malloc(PLAYERS * sizeof(*ids));
    int64_t last;
    long total = 0;
    int n, calls = 0;

    ck_assert_ptr_nonnull(ids);
    make_dir();
    st = open_store();
    begin(st);
    for (int i = 0; i < PLAYERS; i++) {
        ids[i] = store_guest(st, err, sizeof(err));
        ck_assert_int_gt(ids[i], 0);
    }
    ck_assert_msg(store_commit(st, err, sizeof(err)) == 0, "commit: %s", err);
    begin(st);
    for (int i = 0; i < PLAYERS; i += 2) {
        round_of(st, ids[i], ids[i + 1], 'W');
    }
    ck_assert_msg(store_commit(st, err, sizeof(err)) == 0, "commit: %s", err);
    last = raw_int("SELECT max(id) FROM rounds", 0);
    /* A pass begins where the last one ended: finish the one open at startup first. */
    while (store_snapshot(st) < last && calls < 100000) {
        n = store_sweep(st, SIZE_MAX, err, sizeof(err));
        ck_assert_msg(n >= 0, "sweep: %s", err);
        if (calls++ == 0) {
            /* Every entry is changed: only the budget stops it short of its visits. */
            ck_assert_int_gt(n, 0);
            ck_assert_int_lt(n, STORE_SWEEP_VISITS);
            ck_assert_int_lt(store_snapshot(st), last);
        }
        total += n;
    }
    ck_assert_int_eq(store_snapshot(st), last);
    ck_assert_int_eq(total, PLAYERS);
    ck_assert_int_gt(calls, 2);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players WHERE rated = 1", 0), PLAYERS);
    free(ids);
    store_close(st);
}
END_TEST

/* A step visits at most STORE_SWEEP_VISITS entries, changed or not: of two changed players at the
 * two ends of the roster, the first step writes one and the second the other; the snapshot moves
 * when the pass reaches the end. */
START_TEST(test_sweep_visits_at_most_its_limit)
{
    enum { N = STORE_SWEEP_VISITS + 4 };
    char sql[512];
    struct store *st;

    make_dir();
    store_close(open_store());
    /* Rated players, loaded into the roster at open in the order of their ids. */
    snprintf(sql, sizeof(sql),
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
             " INSERT INTO players(name, rating, rated, rated_at, created) SELECT 'v' || i, 1200, 1, 0, 0"
             " FROM n",
             N);
    raw_exec(sql);
    st = open_store();
    play(st, 1, N, 'W');
    begin(st);
    round_of(st, 1, N, 'L');
    commit_only(st);
    ck_assert_int_eq(store_sweep(st, 100, err, sizeof(err)), 1);
    ck_assert_int_eq(raw_int("SELECT rated FROM players WHERE id = 1", 0), 3);
    ck_assert_int_eq(raw_int("SELECT rated FROM players WHERE id = ?1", N), 2);
    ck_assert_int_eq(store_sweep(st, 100, err, sizeof(err)), 1);
    ck_assert_int_eq(raw_int("SELECT rated FROM players WHERE id = ?1", N), 3);
    ck_assert_int_eq(store_snapshot(st), 1);
    /* The next pass: one step short of the end, then the end, where the snapshot moves. */
    ck_assert_int_eq(store_sweep(st, 100, err, sizeof(err)), 0);
    ck_assert_int_eq(store_snapshot(st), 1);
    ck_assert_int_eq(store_sweep(st, 100, err, sizeof(err)), 0);
    ck_assert_int_eq(store_snapshot(st), 2);
    store_close(st);
}
END_TEST

/* ---- A crash: the process ends without store_close, as a server killed with SIGKILL does ---- */

#define CRASH_PLAYERS 6
#define CRASH_ROUNDS 60
#define CRASH_BATCH 3           /* rounds in a batch */
#define CRASH_SWEPT_AFTER 8     /* batches before the crashing child's one small step of the sweep */

/* A round as the crashing child stored it, with the ratings store_pvp_round gave back. */
struct told {
    int a, b;                   /* indexes of the players */
    char outcome;
    double ra, rb;
};

/* Shared with the children (mmap): the players, what they were told, and a child's sweep. */
struct crash {
    int64_t ids[CRASH_PLAYERS];
    struct told told[CRASH_ROUNDS];
    size_t sweep;               /* max_writes of the child's one step of the sweep, 0 for none */
    int swept;                  /* what it returned */
};

/* A player as the told rounds make it, worked out here. */
struct expected {
    double rating;
    int64_t rated, rated_at, last_round, wins, losses, draws;
    char results[CRASH_ROUNDS + 1];     /* every rated result, oldest first */
    double history[CRASH_ROUNDS];
};

/* In a child process: open the store, run steps, and end without store_close. The test fails
 * unless the child opened the store and every step worked. */
static void crash_child(int (*steps)(struct store *st, struct crash *c), struct crash *c)
{
    int status;
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct store *st = store_open(path, 0, err, sizeof(err));
        int rc = st != NULL ? steps(st, c) : -1;

        if (rc != 0) {
            fprintf(stderr, "crashing child: %s\n", err);
        }
        _exit(rc == 0 ? 0 : 1);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the crashing child failed (status %d)",
                  status);
}

/* CRASH_ROUNDS random rounds, CRASH_BATCH a batch, every batch committed; once, after
 * CRASH_SWEPT_AFTER batches, one step of the sweep writes two rows. */
static int play_then_crash(struct store *st, struct crash *c)
{
    srand(5);
    for (int r = 0; r < CRASH_ROUNDS; r++) {
        struct told *t = &c->told[r];

        t->a = rand() % CRASH_PLAYERS;
        t->b = (t->a + 1 + rand() % (CRASH_PLAYERS - 1)) % CRASH_PLAYERS;
        t->outcome = "WLD"[rand() % 3];
        if ((r % CRASH_BATCH == 0 && store_begin(st, err, sizeof(err)) != 0) ||
            rated(st, c->ids[t->a], c->ids[t->b], t->outcome, &t->ra, &t->rb) != 0 ||
            (r % CRASH_BATCH == CRASH_BATCH - 1 && store_commit(st, err, sizeof(err)) != 0)) {
            return -1;
        }
        if (r == CRASH_SWEPT_AFTER * CRASH_BATCH - 1) {
            c->swept = store_sweep(st, 2, err, sizeof(err));
        }
    }
    return 0;
}

/* Open (which replays), then c->sweep > 0: one step of the sweep. */
static int sweep_then_crash(struct store *st, struct crash *c)
{
    c->swept = c->sweep > 0 ? store_sweep(st, c->sweep, err, sizeof(err)) : 0;
    return c->swept < 0 ? -1 : 0;
}

static char mirrored(char outcome)
{
    return outcome == 'W' ? 'L' : outcome == 'L' ? 'W' : 'D';
}

/* Every player's state from the told rounds; the database was new, so round r is rounds.id r + 1. */
static void work_out(const struct crash *c, struct expected *want)
{
    memset(want, 0, CRASH_PLAYERS * sizeof(*want));
    for (int i = 0; i < CRASH_PLAYERS; i++) {
        want[i].rating = ELO_START;
    }
    for (int r = 0; r < CRASH_ROUNDS; r++) {
        const struct told *t = &c->told[r];

        for (int side = 0; side < 2; side++) {
            struct expected *w = &want[side == 0 ? t->a : t->b];
            double after = side == 0 ? t->ra : t->rb;
            char result = side == 0 ? t->outcome : mirrored(t->outcome);

            if (after != w->rating) {
                w->rated_at = r + 1;
            }
            w->rating = after;
            w->history[w->rated] = after;
            w->results[w->rated++] = result;
            w->wins += result == 'W';
            w->losses += result == 'L';
            w->draws += result == 'D';
            w->last_round = r + 1;
        }
    }
}

static const char *form_of(const struct expected *w)
{
    size_t n = strlen(w->results);

    return w->results + (n > STORE_FORM_MAX ? n - STORE_FORM_MAX : 0);
}

/* 1 when player i ranks ahead of j: rating, then who got there first, then the older player. */
static int ahead(const struct crash *c, const struct expected *want, int i, int j)
{
    if (want[i].rating != want[j].rating) {
        return want[i].rating > want[j].rating;
    }
    if (want[i].rated_at != want[j].rated_at) {
        return want[i].rated_at < want[j].rated_at;
    }
    return c->ids[i] < c->ids[j];
}

/* The leaderboard, each row and each history as the store gives them, against want. */
static void expect_store_agrees(struct store *st, const struct crash *c, const struct expected *want)
{
    struct store_rating points[STORE_HISTORY_MAX];
    struct board_row row, top[STORE_TOP_MAX];

    ck_assert_int_eq(store_top(st, STORE_TOP_MAX, top, err, sizeof(err)), CRASH_PLAYERS);
    for (int i = 0; i < CRASH_PLAYERS; i++) {
        const struct expected *w = &want[i];
        int64_t rank = 1, id = 0;
        char name[16];

        for (int j = 0; j < CRASH_PLAYERS; j++) {
            rank += j != i && ahead(c, want, j, i);
        }
        snprintf(name, sizeof(name), "c%d", i);
        ck_assert_int_eq(store_row(st, name, &row, &id, err, sizeof(err)), 1);
        ck_assert_int_eq(id, c->ids[i]);
        ck_assert_msg(row.rating == w->rating, "%s: rating %.17g, want %.17g", name, row.rating, w->rating);
        ck_assert_int_eq(row.rank, rank);
        ck_assert_str_eq(top[rank - 1].name, name);
        ck_assert_int_eq(row.provisional, w->rated < ELO_PROVISIONAL);
        ck_assert_int_eq(row.wins, w->wins);
        ck_assert_int_eq(row.losses, w->losses);
        ck_assert_int_eq(row.draws, w->draws);
        ck_assert_int_eq(row.rounds, w->rated);
        ck_assert_str_eq(row.form, form_of(w));
        ck_assert_int_eq(store_history(st, id, STORE_HISTORY_MAX, points, err, sizeof(err)), w->rated);
        for (int k = 0; k < w->rated; k++) {
            ck_assert_msg(points[k].rating == w->history[k], "%s point %d: %.17g, want %.17g", name, k,
                          points[k].rating, w->history[k]);
        }
    }
}

/* Every player's row against want, and the snapshot at the last round. */
static void expect_rows_agree(const struct crash *c, const struct expected *want)
{
    for (int i = 0; i < CRASH_PLAYERS; i++) {
        const struct expected *w = &want[i];
        char got[128], line[128];

        snprintf(line, sizeof(line), "%lld %lld %lld %lld %lld %lld %lld %s", (long long)w->rated,
                 (long long)w->rated_at, (long long)w->wins, (long long)w->losses, (long long)w->draws,
                 (long long)w->rated, (long long)w->last_round, form_of(w));
        raw_query("SELECT rated || ' ' || rated_at || ' ' || wins || ' ' || losses || ' ' || draws || ' ' ||"
                  " rounds || ' ' || last_round || ' ' || form FROM players WHERE id = ?1",
                  c->ids[i], got, sizeof(got));
        ck_assert_str_eq(got, line);
        ck_assert_double_eq_tol(rating_of(c->ids[i]), w->rating, 1e-9);
    }
    ck_assert_int_eq(raw_int("SELECT round FROM snapshot", 0), CRASH_ROUNDS);
}

/* A crash loses nothing committed, and a crash again after the replay (before any step of the
 * sweep, and after one) counts no round twice. */
START_TEST(test_crash_loses_no_committed_round)
{
    struct crash *c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    struct expected want[CRASH_PLAYERS];
    struct store *st;

    ck_assert_ptr_ne(c, MAP_FAILED);
    memset(c, 0, sizeof(*c));
    make_dir();
    st = open_store();
    for (int i = 0; i < CRASH_PLAYERS; i++) {
        char name[16];

        snprintf(name, sizeof(name), "c%d", i);
        c->ids[i] = player(st, name);
    }
    store_close(st);

    crash_child(play_then_crash, c);
    ck_assert_int_eq(c->swept, 2);
    work_out(c, want);
    /* Every round is stored; the rows are behind them, two of them written once partway. */
    ck_assert_int_eq(raw_int("SELECT count(*) FROM rounds", 0), CRASH_ROUNDS);
    ck_assert_int_eq(raw_int("SELECT max(id) FROM rounds", 0), CRASH_ROUNDS);
    ck_assert_int_eq(raw_int("SELECT round FROM snapshot", 0), 0);
    ck_assert_int_eq(raw_int("SELECT count(*) FROM players WHERE rated > 0", 0), 2);
    ck_assert_int_lt(raw_int("SELECT sum(rated) FROM players", 0), 2 * CRASH_ROUNDS);

    /* Killed again right after the replay; then again after one step of the sweep, which brings
     * three rows up to their last round and leaves the snapshot where it was. */
    c->sweep = 0;
    crash_child(sweep_then_crash, c);
    c->sweep = 3;
    crash_child(sweep_then_crash, c);
    ck_assert_int_eq(c->swept, 3);
    ck_assert_int_eq(raw_int("SELECT round FROM snapshot", 0), 0);
    ck_assert_int_ge(raw_int("SELECT count(*) FROM players WHERE last_round > 0 AND last_round ="
                             " (SELECT max(id) FROM rounds WHERE a = players.id OR b = players.id)",
                             0),
                     3);

    st = open_store();
    expect_store_agrees(st, c, want);
    store_close(st);
    expect_rows_agree(c, want);
    /* Opened from rows that hold every round, it is all the same. */
    st = open_store();
    expect_store_agrees(st, c, want);
    store_close(st);
    expect_rows_agree(c, want);
    munmap(c, sizeof(*c));
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *schema = tcase_create("schema");
    TCase *writes = tcase_create("writes");
    TCase *board = tcase_create("leaderboard");
    TCase *errors = tcase_create("errors");
    TCase *accounts = tcase_create("accounts");
    TCase *background = tcase_create("background");
    TCase *sweep = tcase_create("sweep");

    tcase_add_test(schema, test_schema_created_at_current_version);
    tcase_add_test(schema, test_version_1_migrates);
    tcase_add_test(schema, test_version_2_names_apart_keeping_history);
    tcase_add_test(schema, test_failed_migration_leaves_version_2);
    tcase_add_test(schema, test_version_2_histories_migrate_and_go_on);
    tcase_add_test(schema, test_wal_mode_is_on);
    tcase_add_test(schema, test_reopen_keeps_data);
    tcase_add_test(schema, test_current_version_opens_unchanged);
    tcase_add_test(schema, test_newer_version_refused);
    tcase_add_test(writes, test_tally_log_folds_into_totals);
    tcase_add_test(writes, test_fold_steps_take_the_oldest_rows_whole);
    tcase_add_test(writes, test_tally_log_left_by_a_crash_is_folded_at_open);
    tcase_add_test(writes, test_add_totals);
    tcase_add_test(writes, test_writes_need_a_batch);
    tcase_add_test(writes, test_rollback_leaves_nothing);
    tcase_add_test(writes, test_close_drops_open_batch);
    tcase_add_test(writes, test_pvp_round_updates_everything);
    tcase_add_test(writes, test_bad_rounds_refused);
    tcase_add_test(writes, test_form_keeps_last_ten);
    tcase_add_test(writes, test_ratings_worked_out_by_hand);
    tcase_add_test(writes, test_random_rounds_stay_consistent);
    tcase_add_test(writes, test_bot_totals_and_rated_results_both_reach_the_row);
    tcase_add_test(writes, test_rollback_forgets_new_entries_and_a_reused_id_starts_fresh);
    tcase_add_test(sweep, test_sweep_in_steps);
    tcase_add_test(sweep, test_sweep_visits_at_most_its_limit);
    tcase_add_test(sweep, test_sweep_step_keeps_to_its_time_budget);
    tcase_add_test(sweep, test_crash_loses_no_committed_round);
    tcase_add_test(board, test_top_ties_go_to_who_got_there_first);
    tcase_add_test(board, test_top_is_kept_until_the_board_changes);
    tcase_add_test(board, test_rank_matches_a_full_sort);
    tcase_add_test(board, test_top_matches_a_full_sort);
    tcase_add_test(board, test_rank_top_middle_bottom);
    tcase_add_test(board, test_rank_unknown_or_unrated);
    tcase_add_test(board, test_row_ranked_or_not);
    tcase_add_test(board, test_history_oldest_first);
    tcase_add_test(board, test_history_follows_both_sides);
    tcase_add_test(board, test_top_read_inside_a_rolled_back_batch);
    tcase_add_test(board, test_guests_never_on_the_board);
    tcase_add_test(board, test_names_stored_as_given);
    tcase_add_test(board, test_plans_use_keys);
    tcase_add_test(accounts, test_account_create_and_find);
    tcase_add_test(accounts, test_names_unique_regardless_of_case);
    tcase_add_test(accounts, test_account_claim);
    tcase_add_test(accounts, test_account_set_hash);
    tcase_add_test(accounts, test_accounts_outside_batches);
    tcase_add_test(accounts, test_player_ignores_case);
    tcase_add_test(errors, test_missing_directory);
    tcase_add_test(errors, test_read_only_database);
    tcase_add_test(errors, test_locked_database);
    tcase_add_test(errors, test_failed_statement_then_rollback);
    tcase_add_test(errors, test_commit_fails_then_store_works);
    tcase_add_test(background, test_wal_starts_over_after_a_last_pass);
    tcase_set_timeout(background, 120);
    tcase_set_timeout(writes, 60);
    tcase_set_timeout(board, 60);
    tcase_set_timeout(sweep, 60);
    suite_add_tcase(s, schema);
    suite_add_tcase(s, writes);
    suite_add_tcase(s, board);
    suite_add_tcase(s, sweep);
    suite_add_tcase(s, accounts);
    suite_add_tcase(s, errors);
    suite_add_tcase(s, background);
    return s;
}

int main(void)
{
    return suite_run(store_suite());
}
