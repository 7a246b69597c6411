/* pg: see pg.h for the engine's shape.
 *
 *   pg_* call --PQsendQueryPrepared + PQpipelineSync--> libpq's output buffer --PQflush--> socket
 *   socket readable --PQconsumeInput--> PQgetResult, one result per statement, then the sync's
 *   PGRES_PIPELINE_SYNC --> the oldest flight's answer --> r->done(r)
 *
 * Every request is one statement and a sync, so each request is one implicit transaction and its
 * answer is one result: what the statement returned, or PostgreSQL's error (the transaction is
 * rolled back: nothing of it is stored). The flights (requests sent, not yet answered) are a ring
 * in the order they were sent, which is the order their answers come in; a request's flight
 * pointer is its slot there, so pg_cancel only empties the slot.
 *
 * The schema lives in migrations[] (entry i brings version i to i + 1), applied at open inside one
 * transaction that holds an advisory lock, so that two processes opening at once do not both
 * migrate. Rated rounds are applied by arcade_commit, a function of the schema, so that the Elo
 * update reads and writes the players' rows under their locks, whichever process commits.
 *
 * A lost connection fails every flight (DB_FAULT_DOWN) and is made again with PQconnectStart and
 * PQconnectPoll on the loop; the statements are prepared again in the new connection's pipeline,
 * ahead of any request. The oldest request unanswered past PG_ANSWER_WAIT counts as a lost
 * connection: PostgreSQL ends its own statements sooner (statement_timeout), so only a server or a
 * network that stopped answering gets there.
 */
#include "pg.h"

#include <postgresql/libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "elo.h"
#include "log.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

#define PG_RETRY_MIN 0.1        /* seconds before the first attempt to connect again */
#define PG_CONNECT_TIMEOUT 5.0  /* seconds an attempt to connect may take */
#define PG_CONNECT_TIMEOUT_S "5"
#define PG_VERSION_PERIOD 1.0   /* seconds after which the board may have moved by others' writes */
/* A statement that runs longer, waiting for locks included, is ended by PostgreSQL
 * (statement_timeout): its request fails, the connection stays. */
#define PG_STATEMENT_WAIT_MS "5000"
/* A request the server has not answered after so long (a statement's wait and a margin) means a
 * server or a network that stopped answering: the connection is dropped and made again. */
#define PG_ANSWER_WAIT 10.0
#define PG_ANSWER_CHECK 1.0     /* seconds between two looks at the oldest request */
/* Every connection's, once the schema is up to date (a migration may take longer). */
#define SQL_SESSION "SET statement_timeout = " PG_STATEMENT_WAIT_MS
#define PG_RING (PG_PENDING_MAX + 1) /* flights: the requests and the engine's setup after a reconnect */
/* The schema lock: "arcade" in ASCII, so that other users of pg_advisory_xact_lock can tell. */
#define PG_SCHEMA_LOCK "107083266171237"

/* arcade_commit does elo_update in PL/pgSQL, with its constants written out: a change of the Elo
 * rules is a new migration that replaces the function. */
_Static_assert((int)ELO_MASTER == 2400 && ELO_K_MASTER == 10 && ELO_K_PROVISIONAL == 40 &&
                   ELO_K_ESTABLISHED == 20 && ELO_PROVISIONAL == 30 && (int)ELO_START == 1200 &&
                   BOARD_FORM_MAX == 10,
               "arcade_commit (migration 1) computes with these Elo constants and form length");

/* Version 1.
 * - Names are unique regardless of ASCII case: lower() under the "C" collation folds A-Z and
 *   nothing else, whatever the database's locale. Guests have no name.
 * - players_board holds the leaderboard alone (named, rated) in its order: top-N, neighbours and
 *   the count within a rating are ranges of it.
 * - rating_buckets counts the leaderboard's players per whole rating point, so that a rank is the
 *   sum of the buckets above plus a count within one bucket, not a count of everyone ahead (tens of
 *   milliseconds at a million players). arcade_commit keeps it; whoever changes ratings another
 *   way rebuilds it (SELECT arcade_buckets_rebuild()).
 * - arcade_commit stores one batch: it locks every player the batch names in id order, first of
 *   all, so that two processes committing at once wait for each other instead of deadlocking; then
 *   adds the bot totals, then plays each rated round in order exactly as games/elo.c does (same
 *   operations in the same order on float8, so the ratings are the very doubles elo_update gives),
 *   and last moves the buckets, in ascending order for the same reason.
 * - rounds.at is in milliseconds, as in the SQLite store. */
static const char migration_1[] =
    "CREATE TABLE players ("
    " id bigserial PRIMARY KEY,"
    " name text,"
    " secret_hash bytea CHECK (secret_hash IS NULL OR length(secret_hash) = 32),"
    " created bigint NOT NULL,"
    " wins bigint NOT NULL DEFAULT 0,"
    " losses bigint NOT NULL DEFAULT 0,"
    " draws bigint NOT NULL DEFAULT 0,"
    " rounds bigint NOT NULL DEFAULT 0,"
    " rating float8 NOT NULL DEFAULT 1200,"
    " rated integer NOT NULL DEFAULT 0,"
    " rated_at bigint NOT NULL DEFAULT 0,"
    " form text NOT NULL DEFAULT '');"
    "CREATE UNIQUE INDEX players_name ON players (lower(name COLLATE \"C\")) WHERE name IS NOT NULL;"
    "CREATE INDEX players_board ON players (rating DESC, rated_at, id)"
    " WHERE name IS NOT NULL AND rated > 0;"
    "CREATE TABLE rounds ("
    " id bigserial PRIMARY KEY,"
    " at bigint NOT NULL,"
    " a bigint NOT NULL REFERENCES players(id),"
    " b bigint NOT NULL REFERENCES players(id),"
    " move_a smallint NOT NULL CHECK (move_a BETWEEN 0 AND 3),"
    " move_b smallint NOT NULL CHECK (move_b BETWEEN 0 AND 3),"
    " outcome text NOT NULL CHECK (outcome IN ('W', 'L', 'D')),"
    " timeout smallint NOT NULL CHECK (timeout IN (0, 1)),"
    " rating_a float8 NOT NULL,"
    " rating_b float8 NOT NULL,"
    " CHECK (a <> b));"
    "CREATE INDEX rounds_a ON rounds (a, id);"
    "CREATE INDEX rounds_b ON rounds (b, id);"
    "CREATE TABLE rating_buckets (bucket integer PRIMARY KEY, n bigint NOT NULL);"
    "CREATE FUNCTION arcade_buckets_rebuild() RETURNS void LANGUAGE sql AS $$"
    " DELETE FROM rating_buckets;"
    " INSERT INTO rating_buckets (bucket, n) SELECT floor(rating)::integer, count(*) FROM players"
    " WHERE name IS NOT NULL AND rated > 0 GROUP BY 1 $$;"
    "CREATE FUNCTION arcade_commit(p_at bigint, t_id bigint[], t_w bigint[], t_l bigint[],"
    " t_d bigint[], r_a bigint[], r_b bigint[], r_move_a smallint[], r_move_b smallint[],"
    " r_outcome text[], r_timeout smallint[]) RETURNS integer LANGUAGE plpgsql AS $$\n"
    "DECLARE\n"
    " want integer; got integer; rid bigint;\n"
    " pl record; ra float8; rb float8; qa integer; qb integer; named_a boolean; named_b boolean;\n"
    " sa float8; ea float8; na float8; nb float8; ka integer; kb integer; res_b text;\n"
    " bk integer[] := '{}'; bd integer[] := '{}';\n"
    "BEGIN\n"
    " PERFORM 1 FROM players WHERE id IN (SELECT unnest(t_id) UNION SELECT unnest(r_a)"
    "  UNION SELECT unnest(r_b)) ORDER BY id FOR UPDATE;\n"
    " IF cardinality(t_id) > 0 THEN\n"
    "  UPDATE players AS p SET wins = p.wins + t.w, losses = p.losses + t.l,"
    "   draws = p.draws + t.d, rounds = p.rounds + t.w + t.l + t.d"
    "   FROM (SELECT u.id, sum(u.w)::bigint AS w, sum(u.l)::bigint AS l, sum(u.d)::bigint AS d"
    "   FROM unnest(t_id, t_w, t_l, t_d) AS u(id, w, l, d) GROUP BY u.id) AS t WHERE p.id = t.id;\n"
    "  GET DIAGNOSTICS got = ROW_COUNT;\n"
    "  SELECT count(DISTINCT x) INTO want FROM unnest(t_id) AS x;\n"
    "  IF got <> want THEN RAISE EXCEPTION 'add totals: % of % players unknown', want - got, want;"
    "  END IF;\n"
    " END IF;\n"
    " FOR i IN 1 .. coalesce(cardinality(r_a), 0) LOOP\n"
    "  IF r_a[i] = r_b[i] THEN RAISE EXCEPTION 'a player cannot play itself'; END IF;\n"
    "  got := 0;\n"
    "  FOR pl IN SELECT id, rating, rated, name IS NOT NULL AS named FROM players"
    "   WHERE id IN (r_a[i], r_b[i]) ORDER BY id FOR UPDATE LOOP\n"
    "   got := got + 1;\n"
    "   IF pl.id = r_a[i] THEN ra := pl.rating; qa := pl.rated; named_a := pl.named;\n"
    "   ELSE rb := pl.rating; qb := pl.rated; named_b := pl.named; END IF;\n"
    "  END LOOP;\n"
    "  IF got <> 2 THEN RAISE EXCEPTION 'no player % or %', r_a[i], r_b[i]; END IF;\n"
    "  sa := CASE r_outcome[i] WHEN 'W' THEN 1::float8 WHEN 'D' THEN 0.5::float8 ELSE 0::float8 END;\n"
    "  ka := CASE WHEN ra >= 2400::float8 THEN 10 WHEN qa < 30 THEN 40 ELSE 20 END;\n"
    "  kb := CASE WHEN rb >= 2400::float8 THEN 10 WHEN qb < 30 THEN 40 ELSE 20 END;\n"
    "  ea := 1::float8 / (1::float8 + power(10::float8, (rb - ra) / 400::float8));\n"
    "  na := ra + ka::float8 * (sa - ea);\n"
    "  nb := rb + kb::float8 * ((1::float8 - sa) - (1::float8 - ea));\n"
    "  INSERT INTO rounds (at, a, b, move_a, move_b, outcome, timeout, rating_a, rating_b)"
    "   VALUES (p_at, r_a[i], r_b[i], r_move_a[i], r_move_b[i], r_outcome[i], r_timeout[i], na, nb)"
    "   RETURNING id INTO rid;\n"
    "  res_b := CASE r_outcome[i] WHEN 'W' THEN 'L' WHEN 'L' THEN 'W' ELSE 'D' END;\n"
    "  UPDATE players SET rating = na, rated = rated + 1,"
    "   rated_at = CASE WHEN na <> ra THEN rid ELSE rated_at END,"
    "   wins = wins + (r_outcome[i] = 'W')::integer, losses = losses + (r_outcome[i] = 'L')::integer,"
    "   draws = draws + (r_outcome[i] = 'D')::integer, rounds = rounds + 1,"
    "   form = right(form || r_outcome[i], 10) WHERE id = r_a[i];\n"
    "  UPDATE players SET rating = nb, rated = rated + 1,"
    "   rated_at = CASE WHEN nb <> rb THEN rid ELSE rated_at END,"
    "   wins = wins + (res_b = 'W')::integer, losses = losses + (res_b = 'L')::integer,"
    "   draws = draws + (res_b = 'D')::integer, rounds = rounds + 1,"
    "   form = right(form || res_b, 10) WHERE id = r_b[i];\n"
    "  IF named_a THEN\n"
    "   IF qa > 0 THEN bk := array_append(bk, floor(ra)::integer); bd := array_append(bd, -1); END IF;\n"
    "   bk := array_append(bk, floor(na)::integer); bd := array_append(bd, 1);\n"
    "  END IF;\n"
    "  IF named_b THEN\n"
    "   IF qb > 0 THEN bk := array_append(bk, floor(rb)::integer); bd := array_append(bd, -1); END IF;\n"
    "   bk := array_append(bk, floor(nb)::integer); bd := array_append(bd, 1);\n"
    "  END IF;\n"
    " END LOOP;\n"
    " INSERT INTO rating_buckets (bucket, n)"
    "  SELECT u.bucket, sum(u.d) FROM unnest(bk, bd) AS u(bucket, d) GROUP BY u.bucket"
    "  HAVING sum(u.d) <> 0 ORDER BY u.bucket"
    "  ON CONFLICT (bucket) DO UPDATE SET n = rating_buckets.n + excluded.n;\n"
    " RETURN coalesce(cardinality(r_a), 0);\n"
    "END $$;";

/* Entry i brings a database from version i to i + 1; migrate records the version. A new version
 * is one more entry (and, when it changes what the statements use, an edit of stmt_sql). */
static const char *const migrations[] = {
    migration_1,
};
#define MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* A row of the leaderboard, in the order row_fill reads it. */
#define ROW_COLS(t) t ".name, " t ".rating, " t ".rated, " t ".wins, " t ".losses, " t ".draws, " \
    t ".rounds, " t ".form, " t ".id"
#define ON_BOARD(t) t ".name IS NOT NULL AND " t ".rated > 0"
#define NAMED(t, param)                                                                            \
    t ".name IS NOT NULL AND lower(" t ".name COLLATE \"C\") = lower(" param "::text COLLATE \"C\")"
/* The rank of the leaderboard's player m: one more than the players ahead, those of the buckets
 * above m's and those of m's bucket ahead of m (a range of players_board). */
#define RANK_OF(m)                                                                                 \
    "(1 + coalesce((SELECT sum(n) FROM rating_buckets"                                             \
    " WHERE bucket > floor(" m ".rating)::integer), 0)"                                            \
    " + (SELECT count(*) FROM players AS q WHERE " ON_BOARD("q") " AND q.rating >= " m ".rating"   \
    " AND q.rating < floor(" m ".rating) + 1 AND (q.rating > " m ".rating"                         \
    " OR (q.rated_at, q.id) < (" m ".rated_at, " m ".id))))::bigint"

#define SQL_TOP                                                                                    \
    "SELECT " ROW_COLS("p") " FROM players AS p WHERE " ON_BOARD("p")                              \
    " ORDER BY p.rating DESC, p.rated_at, p.id LIMIT $1"
/* Rows: ROW_COLS then the rank, 0 for all but the player asked for. */
#define SQL_RANK                                                                                   \
    "WITH m AS (SELECT p.*, " RANK_OF("p") " AS rank FROM players AS p"                            \
    " WHERE " NAMED("p", "$1") " AND p.rated > 0)"                                                 \
    " SELECT x.name, x.rating, x.rated, x.wins, x.losses, x.draws, x.rounds, x.form, x.id,"        \
    " x.rank"                                                                                      \
    " FROM (SELECT " ROW_COLS("m") ", m.rated_at, m.rank FROM m"                                   \
    " UNION ALL SELECT a.*, 0 FROM m, LATERAL (SELECT " ROW_COLS("q") ", q.rated_at"               \
    " FROM players AS q WHERE " ON_BOARD("q") " AND q.rating >= m.rating AND (q.rating > m.rating" \
    " OR (q.rated_at, q.id) < (m.rated_at, m.id))"                                                 \
    " ORDER BY q.rating, q.rated_at DESC, q.id DESC LIMIT $2) AS a"                                \
    " UNION ALL SELECT b.*, 0 FROM m, LATERAL (SELECT " ROW_COLS("q") ", q.rated_at"               \
    " FROM players AS q WHERE " ON_BOARD("q") " AND q.rating <= m.rating AND (q.rating < m.rating" \
    " OR (q.rated_at, q.id) > (m.rated_at, m.id))"                                                 \
    " ORDER BY q.rating DESC, q.rated_at, q.id LIMIT $2) AS b) AS x"                               \
    " ORDER BY x.rating DESC, x.rated_at, x.id"
#define SQL_ROW                                                                                    \
    "SELECT " ROW_COLS("p") ", CASE WHEN p.rated > 0 THEN " RANK_OF("p") " ELSE 0 END"             \
    " FROM players AS p WHERE " NAMED("p", "$1")
/* The player's last $2 ratings, oldest first: the newest of each side, then the newest of both. */
#define SQL_HISTORY                                                                                \
    "SELECT h.at, h.rating FROM (SELECT s.id, s.at, s.rating FROM"                                 \
    " ((SELECT id, at, rating_a AS rating FROM rounds WHERE a = $1 ORDER BY id DESC LIMIT $2)"     \
    " UNION ALL (SELECT id, at, rating_b FROM rounds WHERE b = $1 ORDER BY id DESC LIMIT $2)) AS s"\
    " ORDER BY s.id DESC LIMIT $2) AS h ORDER BY h.id"
#define ACCT_COLS "id, name, encode(secret_hash, 'hex')"

enum stmt_id {
    ST_COMMIT,
    ST_FIND,
    ST_CREATE,
    ST_CLAIM,
    ST_SET_HASH,
    ST_TOP,
    ST_RANK,
    ST_ROW,
    ST_HISTORY,
    ST_WRITABLE,
    ST_COUNT
};

/* Every statement a request runs, prepared under its name once per connection. */
static const struct {
    const char *name;
    const char *sql;
} stmt_sql[ST_COUNT] = {
    [ST_COMMIT] = {"arcade_commit", "SELECT arcade_commit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"},
    [ST_FIND] = {"arcade_find", "SELECT " ACCT_COLS " FROM players AS p WHERE " NAMED("p", "$1")},
    /* A name taken in any case stores nothing and returns no row. */
    [ST_CREATE] = {"arcade_create", "INSERT INTO players (name, secret_hash, created) VALUES ($1, $2, $3)"
                                    " ON CONFLICT DO NOTHING RETURNING " ACCT_COLS},
    /* Claimed or not, and whether it is a named player at all (no: -1, as the SQLite store). */
    [ST_CLAIM] = {"arcade_claim", "WITH u AS (UPDATE players SET secret_hash = $2 WHERE id = $1"
                                  " AND name IS NOT NULL AND secret_hash IS NULL RETURNING id)"
                                  " SELECT (SELECT count(*) FROM u),"
                                  " EXISTS (SELECT 1 FROM players WHERE id = $1 AND name IS NOT NULL)"},
    [ST_SET_HASH] = {"arcade_set_hash", "UPDATE players SET secret_hash = $2"
                                        " WHERE id = $1 AND name IS NOT NULL"},
    [ST_TOP] = {"arcade_top", SQL_TOP},
    [ST_RANK] = {"arcade_rank", SQL_RANK},
    [ST_ROW] = {"arcade_row", SQL_ROW},
    [ST_HISTORY] = {"arcade_history", SQL_HISTORY},
    [ST_WRITABLE] = {"arcade_writable",
                     "SELECT pg_is_in_recovery(), current_setting('transaction_read_only')"},
};

/* What a flight is, for reading its answer. */
enum flight_kind {
    FL_SETUP,       /* the statements prepared again after a reconnect: the engine's own */
    FL_COMMIT,
    FL_FIND,
    FL_CREATE,
    FL_CLAIM,
    FL_SET_HASH,
    FL_TOP,
    FL_RANK,
    FL_ROW,
    FL_HISTORY,
    FL_WRITABLE,
};

/* A request sent and not answered yet. */
struct flight {
    struct db_req *req;     /* NULL: cancelled, or the engine's own */
    enum flight_kind kind;
    int failed;             /* an error came: the answer is -1 */
    int rated;              /* a commit with rounds: the board moves once it is stored */
    int cap;                /* rows or points the caller has room for */
    int64_t id;             /* the player, for messages */
    ev_tstamp sent;         /* when it was sent */
};

enum pg_state {
    PG_UP,          /* connected: requests are sent */
    PG_DOWN,        /* waiting before the next attempt to connect */
    PG_CONNECTING,  /* PQconnectPoll in progress */
};

/* A growable text buffer, for array literals. */
struct text {
    char *s;
    size_t len, cap;
};

/* arcade_commit's arrays, after its first parameter: the totals', then the rounds'. */
enum {
    ARR_T_ID, ARR_T_W, ARR_T_L, ARR_T_D,
    ARR_R_A, ARR_R_B, ARR_R_MA, ARR_R_MB, ARR_R_OUT, ARR_R_TO,
    ARR_COUNT
};

struct pg {
    struct ev_loop *loop;
    PGconn *conn;                   /* NULL while down */
    enum pg_state state;
    ev_io io;                       /* the socket: readable while up; as PQconnectPoll asks before */
    ev_io wio;                      /* the socket writable: only while PQflush has more to send */
    ev_timer retry;                 /* the pause before an attempt to connect, then its time limit */
    ev_timer later;                 /* answers the flights a lost connection failed, from the loop */
    ev_timer kick;                  /* reads what libpq took in while it sent requests */
    ev_timer stall;                 /* while up: has the oldest request waited past PG_ANSWER_WAIT? */
    double pause;                   /* the next pause before connecting again */
    struct flight *ring;            /* PG_RING slots */
    size_t head, n;                 /* the oldest flight, and how many there are */
    size_t dead;                    /* the first dead flights are failed, to be answered by later */
    PQconninfoOption *opts;         /* the address, parsed */
    const char **keys, **vals;      /* what PQconnect*Params take, from opts */
    char *password;                 /* to scrub from messages, or NULL */
    char where[512];                /* the address without its password */
    int64_t guest;                  /* the row of this process's guests */
    uint64_t version;               /* the board's version */
    ev_tstamp version_at;           /* when it last moved by time */
    int busy;                       /* callbacks of the engine under way: free waits for them */
    int closed;                     /* pg_close was called inside a callback */
    struct text arr[ARR_COUNT];     /* the commit's array literals */
};

static void io_cb(struct ev_loop *loop, ev_io *w, int revents);
static void wio_cb(struct ev_loop *loop, ev_io *w, int revents);
static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void later_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void kick_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void stall_cb(struct ev_loop *loop, ev_timer *w, int revents);

int pg_is_uri(const char *where)
{
    return where != NULL &&
           (strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0);
}

/* Append s to out, percent-encoding what a URI part cannot hold as it is. */
static void put_encoded(char *out, size_t outlen, size_t *used, const char *s)
{
    for (; *s != '\0' && *used + 4 < outlen; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~,", c) != NULL) {
            out[(*used)++] = (char)c;
        } else {
            *used += (size_t)snprintf(out + *used, outlen - *used, "%%%02X", c);
        }
    }
    out[*used] = '\0';
}

static void put_text(char *out, size_t outlen, size_t *used, const char *s)
{
    size_t n = strlen(s);

    if (*used + n + 1 > outlen) {
        n = outlen - *used - 1;
    }
    memcpy(out + *used, s, n);
    *used += n;
    out[*used] = '\0';
}

static const char *opt_val(const PQconninfoOption *opts, const char *key)
{
    for (const PQconninfoOption *o = opts; o->keyword != NULL; o++) {
        if (strcmp(o->keyword, key) == 0) {
            return o->val != NULL && o->val[0] != '\0' ? o->val : NULL;
        }
    }
    return NULL;
}

/* The address as a URI, postgresql://user:***@host:port/dbname?key=value..., from its options. */
static void redact_opts(const PQconninfoOption *opts, char *out, size_t outlen)
{
    static const char *const parts[] = {"user", "password", "host", "port", "dbname"};
    const char *user = opt_val(opts, "user"), *host = opt_val(opts, "host"), *port = opt_val(opts, "port");
    const char *db = opt_val(opts, "dbname");
    size_t used = 0;
    char sep = '?';

    out[0] = '\0';
    put_text(out, outlen, &used, "postgresql://");
    if (user != NULL) {
        put_encoded(out, outlen, &used, user);
    }
    if (opt_val(opts, "password") != NULL) {
        put_text(out, outlen, &used, ":***");
    }
    if (user != NULL || opt_val(opts, "password") != NULL) {
        put_text(out, outlen, &used, "@");
    }
    if (host != NULL) {
        put_encoded(out, outlen, &used, host);
    }
    if (port != NULL) {
        put_text(out, outlen, &used, ":");
        put_encoded(out, outlen, &used, port);
    }
    put_text(out, outlen, &used, "/");
    if (db != NULL) {
        put_encoded(out, outlen, &used, db);
    }
    for (const PQconninfoOption *o = opts; o->keyword != NULL; o++) {
        int part = 0;
        for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
            part |= strcmp(o->keyword, parts[i]) == 0;
        }
        if (part || o->val == NULL) {
            continue;
        }
        char kv[2] = {sep, '\0'};
        put_text(out, outlen, &used, kv);
        put_encoded(out, outlen, &used, o->keyword);
        put_text(out, outlen, &used, "=");
        put_encoded(out, outlen, &used, o->val);
        sep = '&';
    }
}

const char *pg_redact(const char *uri, char *out, size_t outlen)
{
    PQconninfoOption *opts;

    if (outlen == 0) {
        return out;
    }
    opts = uri != NULL ? PQconninfoParse(uri, NULL) : NULL;
    if (opts == NULL) {
        snprintf(out, outlen, "(unparsable address)");
        return out;
    }
    redact_opts(opts, out, outlen);
    PQconninfoFree(opts);
    return out;
}

/* msg into out on one line, without the password. */
static void scrub(const struct pg *p, const char *msg, char *out, size_t outlen)
{
    size_t used = 0;
    size_t plen = p != NULL && p->password != NULL ? strlen(p->password) : 0;

    out[0] = '\0';
    while (msg != NULL && *msg != '\0' && used + 1 < outlen) {
        if (plen > 0 && strncmp(msg, p->password, plen) == 0) {
            put_text(out, outlen, &used, "***");
            msg += plen;
            continue;
        }
        /* libpq's messages run over lines: one line for a log. */
        if (*msg == '\n' || *msg == '\t') {
            if (used > 0 && out[used - 1] != ' ') {
                out[used++] = ' ';
            }
            msg++;
        } else {
            out[used++] = *msg++;
        }
        out[used] = '\0';
    }
    while (used > 0 && (out[used - 1] == '\n' || out[used - 1] == ' ')) {
        out[--used] = '\0';
    }
}

/* libpq's notices (NOTICE from a migration, say) are for --verbose, not for stderr. */
static void notice(void *arg, const char *message)
{
    char line[DB_ERR_MAX];

    scrub(arg, message, line, sizeof(line));
    log_debug("database: %s", line);
}

static void req_fail(struct pg *p, struct db_req *r, enum db_fault fault, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void req_fail(struct pg *p, struct db_req *r, enum db_fault fault, const char *fmt, ...)
{
    char msg[DB_ERR_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    scrub(p, msg, r->err, sizeof(r->err));
    r->result = -1;
    r->fault = fault;
}

/* Answer r at once, failed; what every pg_* call returns then. */
static int refuse(struct pg *p, struct db_req *r, enum db_fault fault, const char *why)
{
    req_fail(p, r, fault, "%s", why);
    r->flight = NULL;
    return DB_DONE;
}

static int refuse_down(struct pg *p, struct db_req *r)
{
    return refuse(p, r, DB_FAULT_DOWN, "database unavailable: not connected");
}

/* The ring. */

static struct flight *flight_at(struct pg *p, size_t i)
{
    return &p->ring[(p->head + i) % PG_RING];
}

static struct flight *flight_push(struct pg *p, struct db_req *r, enum flight_kind kind)
{
    struct flight *f = flight_at(p, p->n++);

    memset(f, 0, sizeof(*f));
    f->req = r;
    f->kind = kind;
    f->sent = ev_now(p->loop);
    if (r != NULL) {
        r->flight = f;
        r->result = 0;
        r->fault = DB_FAULT_NONE;
        r->err[0] = '\0';
    }
    return f;
}

/* Take the oldest flight off the ring; returns its request, or NULL (cancelled, or the engine's
 * own). */
static struct db_req *flight_pop(struct pg *p)
{
    struct flight *f = flight_at(p, 0);
    struct db_req *r = f->req;

    p->head = (p->head + 1) % PG_RING;
    p->n--;
    if (p->dead > 0) {
        p->dead--;
    }
    if (r != NULL) {
        r->flight = NULL;
    }
    return r;
}

/* The socket. */

static void watch_stop(struct pg *p)
{
    ev_io_stop(p->loop, &p->io);
    ev_io_stop(p->loop, &p->wio);
    ev_timer_stop(p->loop, &p->stall);
}

static void watch(struct pg *p, int events)
{
    ev_io_stop(p->loop, &p->io);
    ev_io_set(&p->io, PQsocket(p->conn), events);
    ev_io_start(p->loop, &p->io);
}

static void schedule_connect(struct pg *p)
{
    p->state = PG_DOWN;
    ev_timer_stop(p->loop, &p->retry);
    ev_timer_set(&p->retry, p->pause, 0.);
    ev_timer_start(p->loop, &p->retry);
    p->pause = p->pause * 2 < PG_RETRY_MAX ? p->pause * 2 : PG_RETRY_MAX;
}

/* The connection is gone: every flight fails (answered by later, from the loop: this may run
 * inside a pg_* call), and a new connection is made in the background. */
static void lose(struct pg *p, const char *why)
{
    char msg[DB_ERR_MAX];

    scrub(p, why, msg, sizeof(msg));
    log_error("database %s: connection lost (%s); connecting again in the background", p->where,
              msg[0] != '\0' ? msg : "no reason given");
    for (size_t i = p->dead; i < p->n; i++) {
        struct flight *f = flight_at(p, i);
        if (f->req != NULL) {
            req_fail(p, f->req, DB_FAULT_DOWN, "database unavailable: %s", msg);
        }
    }
    p->dead = p->n;
    watch_stop(p);
    PQfinish(p->conn);
    p->conn = NULL;
    p->pause = PG_RETRY_MIN;
    schedule_connect(p);
    if (p->dead > 0 && !ev_is_active(&p->later)) {
        ev_timer_start(p->loop, &p->later);
    }
}

/* Send what libpq holds; the write watcher runs while some is left. Returns 0, or -1 when the
 * connection was lost. */
static int flush(struct pg *p)
{
    int rc = PQflush(p->conn);

    if (rc < 0) {
        lose(p, PQerrorMessage(p->conn));
        return -1;
    }
    if (rc > 0 && !ev_is_active(&p->wio)) {
        ev_io_set(&p->wio, PQsocket(p->conn), EV_WRITE);
        ev_io_start(p->loop, &p->wio);
    } else if (rc == 0) {
        ev_io_stop(p->loop, &p->wio);
    }
    return 0;
}

/* Free what pg_close left for the end of the callback it was called in. */
static void pg_free(struct pg *p)
{
    PQconninfoFree(p->opts);
    free(p->keys);
    free(p->vals);
    free(p->password);
    free(p->ring);
    for (int i = 0; i < ARR_COUNT; i++) {
        free(p->arr[i].s);
    }
    free(p);
}

/* A callback of the engine ends: returns 1 when p is gone (closed inside it). */
static int leave(struct pg *p)
{
    if (--p->busy == 0 && p->closed) {
        pg_free(p);
        return 1;
    }
    return 0;
}

/* Answer the flights a lost connection failed, oldest first. */
static void answer_dead(struct pg *p)
{
    while (p->dead > 0 && !p->closed) {
        struct db_req *r = flight_pop(p);
        if (r != NULL) {
            r->done(r);
        }
    }
}

static void later_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct pg *p = container_of(w, struct pg, later);

    (void)loop;
    (void)revents;
    p->busy++;
    answer_dead(p);
    leave(p);
}

/* Reading answers. */

static int64_t int_at(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static void text_at(const PGresult *res, int row, int col, char *out, size_t cap)
{
    snprintf(out, cap, "%s", PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col));
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* acct from a row of ACCT_COLS. Returns 0, or -1 for a hash of the wrong size: the schema keeps
 * one out, but were one there, the name must not pass for unclaimed. */
static int account_fill(struct pg *p, const PGresult *res, struct db_req *r)
{
    struct store_account *acct = &r->acct;
    const char *hex = PQgetvalue(res, 0, 2);

    acct->id = int_at(res, 0, 0);
    text_at(res, 0, 1, acct->name, sizeof(acct->name));
    acct->registered = !PQgetisnull(res, 0, 2);
    memset(acct->hash, 0, sizeof(acct->hash));
    if (!acct->registered) {
        return 0;
    }
    if (strlen(hex) != 2 * STORE_HASH_LEN) {
        req_fail(p, r, DB_FAULT_OTHER, "player %lld: bad secret hash", (long long)acct->id);
        return -1;
    }
    for (int i = 0; i < STORE_HASH_LEN; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            req_fail(p, r, DB_FAULT_OTHER, "player %lld: bad secret hash", (long long)acct->id);
            return -1;
        }
        acct->hash[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

/* A leaderboard row from ROW_COLS; rank is the caller's. */
static void row_fill(const PGresult *res, int i, struct board_row *row)
{
    text_at(res, i, 0, row->name, sizeof(row->name));
    row->rating = strtod(PQgetvalue(res, i, 1), NULL);
    row->provisional = elo_provisional((int)int_at(res, i, 2));
    row->wins = int_at(res, i, 3);
    row->losses = int_at(res, i, 4);
    row->draws = int_at(res, i, 5);
    row->rounds = int_at(res, i, 6);
    text_at(res, i, 7, row->form, sizeof(row->form));
}

/* The flight's statement answered res (not an error): fill its request. */
static void read_answer(struct pg *p, struct flight *f, const PGresult *res)
{
    struct db_req *r = f->req;
    int rows = PQntuples(res);

    switch (f->kind) {
    case FL_SETUP:
    case FL_COMMIT:
        break;
    case FL_FIND:
    case FL_CREATE:
        r->result = rows == 0 ? 0 : account_fill(p, res, r) == 0 ? 1 : -1;
        break;
    case FL_CLAIM:
        if (int_at(res, 0, 0) > 0) {
            r->result = 1;
        } else if (strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
            r->result = 0;
        } else {
            req_fail(p, r, DB_FAULT_OTHER, "no named player %lld", (long long)f->id);
        }
        break;
    case FL_SET_HASH:
        if (strcmp(PQcmdTuples((PGresult *)res), "0") == 0) {
            req_fail(p, r, DB_FAULT_OTHER, "no named player %lld", (long long)f->id);
        }
        break;
    case FL_TOP:
        rows = rows < f->cap ? rows : f->cap;
        for (int i = 0; i < rows; i++) {
            row_fill(res, i, &r->rows[i]);
            r->rows[i].rank = i + 1;
        }
        r->result = rows;
        break;
    case FL_RANK: {
        int self = -1;
        rows = rows < f->cap ? rows : f->cap;
        for (int i = 0; i < rows && self < 0; i++) {
            self = int_at(res, i, 9) > 0 ? i : -1;
        }
        if (self < 0) {
            r->result = 0;
            break;
        }
        int64_t rank = int_at(res, self, 9);
        for (int i = 0; i < rows; i++) {
            row_fill(res, i, &r->rows[i]);
            r->rows[i].rank = rank - self + i;
        }
        r->self = self;
        r->result = rows;
        break;
    }
    case FL_ROW:
        if (rows > 0) {
            row_fill(res, 0, &r->rows[0]);
            r->rows[0].rank = int_at(res, 0, 9);
            r->id = int_at(res, 0, 8);
        }
        r->result = rows > 0;
        break;
    case FL_HISTORY:
        rows = rows < f->cap ? rows : f->cap;
        for (int i = 0; i < rows; i++) {
            r->points[i].at = int_at(res, i, 0) / 1000; /* rounds.at is in milliseconds */
            r->points[i].rating = strtod(PQgetvalue(res, i, 1), NULL);
        }
        r->result = rows;
        break;
    case FL_WRITABLE:
        if (strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
            req_fail(p, r, DB_FAULT_OTHER, "the database is in recovery: it takes no writes");
        } else if (strcmp(PQgetvalue(res, 0, 1), "on") == 0) {
            req_fail(p, r, DB_FAULT_OTHER, "the database takes no writes (transaction_read_only)");
        }
        break;
    }
}

/* One result of the oldest flight. */
static void take_result(struct pg *p, struct flight *f, const PGresult *res)
{
    ExecStatusType status = PQresultStatus(res);

    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
        if (!f->failed && f->req != NULL) {
            read_answer(p, f, res);
            f->failed = f->req->result < 0;
        }
        return;
    }
    if (status == PGRES_PIPELINE_ABORTED || f->failed) {
        f->failed = 1;
        return;
    }
    /* The first error of the segment says why; the rest of it was not run. */
    f->failed = 1;
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *msg = primary != NULL ? primary : PQresultErrorMessage(res);
    if (f->req != NULL) {
        req_fail(p, f->req, DB_FAULT_OTHER, "%s", msg);
    } else if (f->kind == FL_SETUP) {
        char line[DB_ERR_MAX];
        scrub(p, msg, line, sizeof(line));
        log_error("database %s: preparing statements: %s", p->where, line);
    }
}

/* The oldest flight's sync came: its transaction is over (committed unless it failed). Returns
 * -1 when a failed setup lost the connection. */
static int finish(struct pg *p)
{
    struct flight *f = flight_at(p, 0);
    int failed = f->failed, rated = f->rated;
    enum flight_kind kind = f->kind;
    struct db_req *r = flight_pop(p);

    if (kind == FL_COMMIT && rated && !failed) {
        p->version++;
    }
    if (r != NULL) {
        if (failed) {
            r->result = -1;
            r->fault = DB_FAULT_OTHER;
        }
        r->done(r);
    }
    if (kind == FL_SETUP && failed && !p->closed && p->conn != NULL) {
        lose(p, "the statements could not be prepared");
        return -1;
    }
    return 0;
}

/* Every answer libpq holds, to its request. Stops at a lost connection or a close. */
static void drain(struct pg *p)
{
    int nulls = 0;

    while (p->conn != NULL && !p->closed && p->n > p->dead && !PQisBusy(p->conn)) {
        PGresult *res = PQgetResult(p->conn);

        if (res == NULL) {
            /* The end of one statement's results; two in a row: nothing more is coming. */
            if (++nulls > 1) {
                break;
            }
            continue;
        }
        nulls = 0;
        if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            if (finish(p) != 0) {
                return;
            }
            continue;
        }
        take_result(p, flight_at(p, p->dead), res);
        PQclear(res);
    }
    if (p->conn != NULL && !p->closed && PQstatus(p->conn) == CONNECTION_BAD) {
        lose(p, PQerrorMessage(p->conn));
    }
}

static void io_up(struct pg *p)
{
    if (!PQconsumeInput(p->conn)) {
        lose(p, PQerrorMessage(p->conn));
        return;
    }
    drain(p);
    if (p->conn != NULL && !p->closed && ev_is_active(&p->wio)) {
        flush(p);
    }
}

/* Connecting. */

static void send_setup(struct pg *p);

static void connected(struct pg *p)
{
    answer_dead(p);
    if (p->closed) {
        return;
    }
    ev_timer_stop(p->loop, &p->retry);
    if (PQsetnonblocking(p->conn, 1) != 0 || PQenterPipelineMode(p->conn) != 1) {
        lose(p, PQerrorMessage(p->conn));
        return;
    }
    PQsetNoticeProcessor(p->conn, notice, p);
    p->state = PG_UP;
    p->pause = PG_RETRY_MIN;
    watch(p, EV_READ);
    ev_timer_again(p->loop, &p->stall);
    log_info("database %s: connected again", p->where);
    send_setup(p);
}

static void connect_failed(struct pg *p)
{
    char msg[DB_ERR_MAX];

    scrub(p, p->conn != NULL ? PQerrorMessage(p->conn) : "out of memory", msg, sizeof(msg));
    log_debug("database %s: cannot connect yet: %s", p->where, msg);
    watch_stop(p);
    PQfinish(p->conn);
    p->conn = NULL;
    schedule_connect(p);
}

static void poll_connect(struct pg *p)
{
    switch (PQconnectPoll(p->conn)) {
    case PGRES_POLLING_READING:
        watch(p, EV_READ);
        break;
    case PGRES_POLLING_WRITING:
        watch(p, EV_WRITE);
        break;
    case PGRES_POLLING_OK:
        connected(p);
        break;
    default:
        connect_failed(p);
        break;
    }
}

static void start_connect(struct pg *p)
{
    p->conn = PQconnectStartParams(p->keys, p->vals, 0);
    if (p->conn == NULL || PQstatus(p->conn) == CONNECTION_BAD || PQsocket(p->conn) < 0) {
        connect_failed(p);
        return;
    }
    p->state = PG_CONNECTING;
    /* PQconnectPoll does not keep connect_timeout: the timer does. */
    ev_timer_set(&p->retry, PG_CONNECT_TIMEOUT, 0.);
    ev_timer_start(p->loop, &p->retry);
    watch(p, EV_WRITE);
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct pg *p = container_of(w, struct pg, retry);

    (void)loop;
    (void)revents;
    p->busy++;
    if (p->state == PG_CONNECTING) {
        connect_failed(p);
    } else if (p->state == PG_DOWN) {
        start_connect(p);
    }
    leave(p);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct pg *p = container_of(w, struct pg, io);

    (void)loop;
    (void)revents;
    p->busy++;
    if (p->state == PG_CONNECTING) {
        poll_connect(p);
    } else if (p->state == PG_UP) {
        io_up(p);
    }
    leave(p);
}

static void kick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct pg *p = container_of(w, struct pg, kick);

    (void)loop;
    (void)revents;
    p->busy++;
    if (p->state == PG_UP) {
        io_up(p);
    }
    leave(p);
}

static void stall_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct pg *p = container_of(w, struct pg, stall);
    char why[64];

    (void)revents;
    if (p->state != PG_UP || p->n <= p->dead || ev_now(loop) - flight_at(p, p->dead)->sent <= PG_ANSWER_WAIT) {
        return;
    }
    p->busy++;
    snprintf(why, sizeof(why), "no answer in %.0f s", PG_ANSWER_WAIT);
    lose(p, why);
    leave(p);
}

static void wio_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct pg *p = container_of(w, struct pg, wio);

    (void)loop;
    (void)revents;
    p->busy++;
    if (p->state == PG_UP && flush(p) == 0) {
        /* Reading may be what lets the server go on taking what we write. */
        io_up(p);
    }
    leave(p);
}

/* Sending requests. */

static int usable(struct pg *p)
{
    return p->state == PG_UP && p->conn != NULL && !p->closed;
}

/* Send one statement and a sync as r's request. Returns DB_PENDING, or DB_DONE with r failed. */
static int send_req(struct pg *p, struct db_req *r, struct flight **out, enum flight_kind kind,
                    enum stmt_id st, int nparams, const char *const *values, const int *lengths,
                    const int *formats)
{
    if (!usable(p)) {
        return refuse_down(p, r);
    }
    if (p->n >= PG_PENDING_MAX) {
        return refuse(p, r, DB_FAULT_OTHER, "too many database requests pending");
    }
    if (!PQsendQueryPrepared(p->conn, stmt_sql[st].name, nparams, values, lengths, formats, 0) ||
        !PQpipelineSync(p->conn)) {
        char msg[DB_ERR_MAX];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(p->conn));
        lose(p, msg);
        req_fail(p, r, DB_FAULT_DOWN, "database unavailable: %s", msg);
        r->flight = NULL;
        return DB_DONE;
    }
    struct flight *f = flight_push(p, r, kind);
    if (out != NULL) {
        *out = f;
    }
    /* A failed flush fails r with the others, from the loop: it is pending all the same. libpq
     * reads what the server sent while it waits to write more, where no read event will tell: a
     * timer due at once has the loop look at it after its next poll (once for many requests). Not
     * ev_feed_event: ev_run runs what is pending as it starts, before it polls. */
    if (flush(p) == 0 && !ev_is_active(&p->kick)) {
        ev_timer_start(p->loop, &p->kick);
    }
    return DB_PENDING;
}

/* After a reconnect: the session's settings and the statements again, ahead of every request. */
static void send_setup(struct pg *p)
{
    if (!PQsendQueryParams(p->conn, SQL_SESSION, 0, NULL, NULL, NULL, NULL, 0)) {
        lose(p, PQerrorMessage(p->conn));
        return;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        if (!PQsendPrepare(p->conn, stmt_sql[i].name, stmt_sql[i].sql, 0, NULL)) {
            lose(p, PQerrorMessage(p->conn));
            return;
        }
    }
    if (!PQpipelineSync(p->conn)) {
        lose(p, PQerrorMessage(p->conn));
        return;
    }
    flight_push(p, NULL, FL_SETUP);
    flush(p);
}

static int check_name(struct pg *p, struct db_req *r, const char *name)
{
    size_t len = name ? strlen(name) : 0;

    if (len == 0 || len > STORE_NAME_MAX) {
        req_fail(p, r, DB_FAULT_OTHER, "bad name length %zu", len);
        r->flight = NULL;
        return -1;
    }
    return 0;
}

void pg_cancel(struct pg *p, struct db_req *r)
{
    struct flight *f = r->flight;

    (void)p;
    if (f != NULL && f->req == r) {
        f->req = NULL;
    }
    r->flight = NULL;
}

static int text_put(struct text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + n + 1) {
            cap *= 2;
        }
        char *b = realloc(t->s, cap);
        if (b == NULL) {
            return -1;
        }
        t->s = b;
        t->cap = cap;
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
    return 0;
}

/* Append one element to an array literal being built ("{" is put by the first). */
static int arr_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int arr_add(struct text *t, const char *fmt, ...)
{
    char v[32];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    return text_put(t, t->len == 0 ? "{" : ",", 1) != 0 || text_put(t, v, (size_t)n) != 0 ? -1 : 0;
}

static int arr_end(struct text *t)
{
    return t->len == 0 ? text_put(t, "{}", 2) : text_put(t, "}", 1);
}

static int check_round(const struct db_round *x, char *why, size_t cap)
{
    if (x->a == x->b) {
        snprintf(why, cap, "a player cannot play itself");
    } else if (x->a <= 0 || x->b <= 0) {
        snprintf(why, cap, "no player %lld", (long long)(x->a <= 0 ? x->a : x->b));
    } else if (x->move_a < 0 || x->move_a > 3 || x->move_b < 0 || x->move_b > 3) {
        snprintf(why, cap, "bad move");
    } else if (x->outcome != 'W' && x->outcome != 'L' && x->outcome != 'D') {
        snprintf(why, cap, "bad outcome");
    } else if (x->timeout != 0 && x->timeout != 1) {
        snprintf(why, cap, "bad timeout flag");
    } else {
        return 0;
    }
    return -1;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The commit's arrays, or -1 with why filled. */
static int build_commit(struct pg *p, const struct db_totals *t, size_t nt, const struct db_round *rs,
                        size_t nr, char *why, size_t cap)
{
    int bad = 0;

    for (int i = 0; i < ARR_COUNT; i++) {
        p->arr[i].len = 0;
    }
    for (size_t i = 0; i < nt; i++) {
        int64_t id = t[i].player == 0 ? p->guest : t[i].player;
        if (t[i].wins < 0 || t[i].losses < 0 || t[i].draws < 0 || id < 0) {
            snprintf(why, cap, id < 0 ? "add totals: no player %lld" : "negative totals", (long long)id);
            return -1;
        }
        bad |= arr_add(&p->arr[ARR_T_ID], "%lld", (long long)id);
        bad |= arr_add(&p->arr[ARR_T_W], "%d", t[i].wins);
        bad |= arr_add(&p->arr[ARR_T_L], "%d", t[i].losses);
        bad |= arr_add(&p->arr[ARR_T_D], "%d", t[i].draws);
    }
    for (size_t i = 0; i < nr; i++) {
        const struct db_round *x = &rs[i];
        if (check_round(x, why, cap) != 0) {
            return -1;
        }
        bad |= arr_add(&p->arr[ARR_R_A], "%lld", (long long)x->a);
        bad |= arr_add(&p->arr[ARR_R_B], "%lld", (long long)x->b);
        bad |= arr_add(&p->arr[ARR_R_MA], "%d", x->move_a);
        bad |= arr_add(&p->arr[ARR_R_MB], "%d", x->move_b);
        bad |= arr_add(&p->arr[ARR_R_OUT], "%c", x->outcome);
        bad |= arr_add(&p->arr[ARR_R_TO], "%d", x->timeout ? 1 : 0);
    }
    for (int i = 0; i < ARR_COUNT; i++) {
        bad |= arr_end(&p->arr[i]);
    }
    if (bad) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    return 0;
}

int pg_commit(struct pg *p, struct db_req *r, const struct db_totals *t, size_t nt, const struct db_round *rs,
              size_t nr)
{
    char why[DB_ERR_MAX], at[24];
    const char *values[1 + ARR_COUNT];
    struct flight *f = NULL;

    if (!usable(p)) {
        return refuse_down(p, r);
    }
    if (nt == 0 && nr == 0) {
        r->result = 0;
        r->fault = DB_FAULT_NONE;
        r->err[0] = '\0';
        r->flight = NULL;
        return DB_DONE;
    }
    if (build_commit(p, t, nt, rs, nr, why, sizeof(why)) != 0) {
        return refuse(p, r, DB_FAULT_OTHER, why);
    }
    snprintf(at, sizeof(at), "%lld", (long long)now_ms());
    values[0] = at;
    for (int i = 0; i < ARR_COUNT; i++) {
        values[1 + i] = p->arr[i].s;
    }
    int state = send_req(p, r, &f, FL_COMMIT, ST_COMMIT, 1 + ARR_COUNT, values, NULL, NULL);
    if (state == DB_PENDING) {
        f->rated = nr > 0;
    }
    return state;
}

int pg_account_find(struct pg *p, struct db_req *r, const char *name)
{
    const char *values[1] = {name};

    if (check_name(p, r, name) != 0) {
        return DB_DONE;
    }
    return send_req(p, r, NULL, FL_FIND, ST_FIND, 1, values, NULL, NULL);
}

int pg_account_create(struct pg *p, struct db_req *r, const char *name, const unsigned char *hash)
{
    char created[24];
    const char *values[3] = {name, (const char *)hash, created};
    const int lengths[3] = {0, STORE_HASH_LEN, 0};
    const int formats[3] = {0, 1, 0};

    if (check_name(p, r, name) != 0) {
        return DB_DONE;
    }
    snprintf(created, sizeof(created), "%lld", (long long)time(NULL));
    return send_req(p, r, NULL, FL_CREATE, ST_CREATE, 3, values, lengths, formats);
}

/* ST_CLAIM or ST_SET_HASH: player id, hash (NULL: none, binary otherwise). */
static int send_hash(struct pg *p, struct db_req *r, enum flight_kind kind, enum stmt_id st, int64_t id,
                     const unsigned char *hash)
{
    char player[24];
    const char *values[2] = {player, (const char *)hash};
    const int lengths[2] = {0, STORE_HASH_LEN};
    const int formats[2] = {0, 1};
    struct flight *f = NULL;

    snprintf(player, sizeof(player), "%lld", (long long)id);
    int state = send_req(p, r, &f, kind, st, 2, values, lengths, formats);
    if (state == DB_PENDING) {
        f->id = id;
    }
    return state;
}

int pg_account_claim(struct pg *p, struct db_req *r, int64_t id, const unsigned char *hash)
{
    if (hash == NULL) {
        return refuse(p, r, DB_FAULT_OTHER, "claim without a hash");
    }
    return send_hash(p, r, FL_CLAIM, ST_CLAIM, id, hash);
}

int pg_account_set_hash(struct pg *p, struct db_req *r, int64_t id, const unsigned char *hash)
{
    return send_hash(p, r, FL_SET_HASH, ST_SET_HASH, id, hash);
}

int pg_top(struct pg *p, struct db_req *r, int n)
{
    char count[16];
    const char *values[1] = {count};
    struct flight *f = NULL;

    if (n < 1 || n > STORE_TOP_MAX) {
        char why[64];
        snprintf(why, sizeof(why), "bad count %d", n);
        return refuse(p, r, DB_FAULT_OTHER, why);
    }
    snprintf(count, sizeof(count), "%d", n);
    int state = send_req(p, r, &f, FL_TOP, ST_TOP, 1, values, NULL, NULL);
    if (state == DB_PENDING) {
        f->cap = n;
    }
    return state;
}

/* A name no player can have is answered at once: 0, as the SQLite store answers it. */
static int answer_none(struct db_req *r)
{
    r->result = 0;
    r->fault = DB_FAULT_NONE;
    r->err[0] = '\0';
    r->flight = NULL;
    return DB_DONE;
}

int pg_rank(struct pg *p, struct db_req *r, const char *name, int k)
{
    char count[16];
    const char *values[2] = {name, count};
    struct flight *f = NULL;

    if (k < 0 || k > STORE_AROUND_MAX) {
        char why[64];
        snprintf(why, sizeof(why), "bad neighbour count %d", k);
        return refuse(p, r, DB_FAULT_OTHER, why);
    }
    if (!usable(p)) {
        return refuse_down(p, r);
    }
    if (name == NULL || name[0] == '\0' || strlen(name) > STORE_NAME_MAX) {
        return answer_none(r);
    }
    snprintf(count, sizeof(count), "%d", k);
    int state = send_req(p, r, &f, FL_RANK, ST_RANK, 2, values, NULL, NULL);
    if (state == DB_PENDING) {
        f->cap = 2 * k + 1;
    }
    return state;
}

int pg_row(struct pg *p, struct db_req *r, const char *name)
{
    const char *values[1] = {name};

    if (!usable(p)) {
        return refuse_down(p, r);
    }
    if (name == NULL || name[0] == '\0' || strlen(name) > STORE_NAME_MAX) {
        return answer_none(r);
    }
    return send_req(p, r, NULL, FL_ROW, ST_ROW, 1, values, NULL, NULL);
}

int pg_history(struct pg *p, struct db_req *r, int64_t player, int n)
{
    char id[24], count[16];
    const char *values[2] = {id, count};
    struct flight *f = NULL;

    if (n < 0 || n > STORE_HISTORY_MAX) {
        char why[64];
        snprintf(why, sizeof(why), "bad history length %d", n);
        return refuse(p, r, DB_FAULT_OTHER, why);
    }
    if (!usable(p)) {
        return refuse_down(p, r);
    }
    if (n == 0) {
        return answer_none(r);
    }
    snprintf(id, sizeof(id), "%lld", (long long)player);
    snprintf(count, sizeof(count), "%d", n);
    int state = send_req(p, r, &f, FL_HISTORY, ST_HISTORY, 2, values, NULL, NULL);
    if (state == DB_PENDING) {
        f->cap = n;
    }
    return state;
}

int pg_writable(struct pg *p, struct db_req *r)
{
    return send_req(p, r, NULL, FL_WRITABLE, ST_WRITABLE, 0, NULL, NULL, NULL);
}

uint64_t pg_board_version(struct pg *p)
{
    ev_tstamp now = ev_now(p->loop);

    if (now - p->version_at >= PG_VERSION_PERIOD) {
        p->version++;
        p->version_at = now;
    }
    return p->version;
}

const char *pg_statement(const char *name)
{
    for (int i = 0; i < ST_COUNT; i++) {
        if (strcmp(stmt_sql[i].name, name) == 0) {
            return stmt_sql[i].sql;
        }
    }
    return NULL;
}

int pg_connected(const struct pg *p)
{
    return p != NULL && p->state == PG_UP && !p->closed;
}

/* Opening. */

/* Run sql (one or more statements, no parameters) and keep its last result; NULL with err filled
 * when it failed. */
static PGresult *exec_sync(struct pg *p, const char *sql, const char *what, char *err, size_t errlen)
{
    PGresult *res = PQexec(p->conn, sql);
    ExecStatusType status = PQresultStatus(res);

    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        return res;
    }
    char msg[DB_ERR_MAX];
    scrub(p, res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(p->conn), msg, sizeof(msg));
    snprintf(err, errlen, "%s: %s", what, msg);
    PQclear(res);
    return NULL;
}

static int exec_ok(struct pg *p, const char *sql, const char *what, char *err, size_t errlen)
{
    PGresult *res = exec_sync(p, sql, what, err, errlen);

    PQclear(res);
    return res != NULL ? 0 : -1;
}

/* The migrations the database lacks, in the open transaction that holds the schema lock. */
static int migrate_locked(struct pg *p, char *err, size_t errlen)
{
    PGresult *res;
    int version;

    if (exec_ok(p, "SELECT pg_advisory_xact_lock(" PG_SCHEMA_LOCK ")", "schema lock", err, errlen) != 0 ||
        exec_ok(p, "CREATE TABLE IF NOT EXISTS arcade_schema (version integer NOT NULL);"
                   "INSERT INTO arcade_schema (version) SELECT 0"
                   " WHERE NOT EXISTS (SELECT 1 FROM arcade_schema)",
                "schema version", err, errlen) != 0 ||
        (res = exec_sync(p, "SELECT max(version) FROM arcade_schema", "schema version", err, errlen)) ==
            NULL) {
        return -1;
    }
    version = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (version > MIGRATIONS) {
        snprintf(err, errlen, "database schema version %d is newer than this arcade knows (%d)", version,
                 MIGRATIONS);
        return -1;
    }
    for (int v = version; v < MIGRATIONS; v++) {
        char what[64], set[96];
        snprintf(what, sizeof(what), "migration to version %d", v + 1);
        snprintf(set, sizeof(set), "UPDATE arcade_schema SET version = %d", v + 1);
        if (exec_ok(p, migrations[v], what, err, errlen) != 0 || exec_ok(p, set, what, err, errlen) != 0) {
            return -1;
        }
    }
    return 0;
}

static int migrate(struct pg *p, char *err, size_t errlen)
{
    if (exec_ok(p, "BEGIN", "begin", err, errlen) != 0) {
        return -1;
    }
    if (migrate_locked(p, err, errlen) != 0) {
        PQclear(PQexec(p->conn, "ROLLBACK"));
        return -1;
    }
    return exec_ok(p, "COMMIT", "commit", err, errlen);
}

static int make_guest(struct pg *p, char *err, size_t errlen)
{
    char created[24];
    const char *values[1] = {created};

    snprintf(created, sizeof(created), "%lld", (long long)time(NULL));
    PGresult *res = PQexecParams(p->conn,
                                 "INSERT INTO players (name, created) VALUES (NULL, $1) RETURNING id", 1,
                                 NULL, values, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char msg[DB_ERR_MAX];
        scrub(p, PQresultErrorMessage(res), msg, sizeof(msg));
        snprintf(err, errlen, "guests' row: %s", msg);
        PQclear(res);
        return -1;
    }
    p->guest = int_at(res, 0, 0);
    PQclear(res);
    return 0;
}

static int prepare_all(struct pg *p, char *err, size_t errlen)
{
    for (int i = 0; i < ST_COUNT; i++) {
        PGresult *res = PQprepare(p->conn, stmt_sql[i].name, stmt_sql[i].sql, 0, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            char msg[DB_ERR_MAX];
            scrub(p, res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(p->conn), msg, sizeof(msg));
            snprintf(err, errlen, "prepare %s: %s", stmt_sql[i].name, msg);
            PQclear(res);
            return -1;
        }
        PQclear(res);
    }
    return 0;
}

/* What PQconnect*Params take, from the parsed address, with a connect_timeout and an application
 * name unless it has them. */
static int conninfo(struct pg *p, const char *uri, char *err, size_t errlen)
{
    size_t n = 0;

    p->opts = PQconninfoParse(uri, NULL);
    if (p->opts == NULL) {
        /* libpq's message may quote the address, password and all. */
        snprintf(err, errlen, "cannot parse the database address");
        return -1;
    }
    for (const PQconninfoOption *o = p->opts; o->keyword != NULL; o++) {
        n++;
    }
    p->keys = calloc(n + 3, sizeof(*p->keys));
    p->vals = calloc(n + 3, sizeof(*p->vals));
    const char *password = opt_val(p->opts, "password");
    if (p->keys == NULL || p->vals == NULL ||
        (password != NULL && (p->password = strdup(password)) == NULL)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* The password may be elsewhere too, if only as the user's name. */
    char where[sizeof(p->where)];
    redact_opts(p->opts, where, sizeof(where));
    scrub(p, where, p->where, sizeof(p->where));
    n = 0;
    for (const PQconninfoOption *o = p->opts; o->keyword != NULL; o++) {
        if (o->val != NULL) {
            p->keys[n] = o->keyword;
            p->vals[n++] = o->val;
        }
    }
    if (opt_val(p->opts, "connect_timeout") == NULL) {
        p->keys[n] = "connect_timeout";
        p->vals[n++] = PG_CONNECT_TIMEOUT_S;
    }
    if (opt_val(p->opts, "application_name") == NULL) {
        p->keys[n] = "fallback_application_name";
        p->vals[n++] = "arcaded";
    }
    return 0;
}

struct pg *pg_open(const char *uri, struct ev_loop *loop, char *err, size_t errlen)
{
    struct pg *p = calloc(1, sizeof(*p));

    if (p == NULL || (p->ring = calloc(PG_RING, sizeof(*p->ring))) == NULL) {
        snprintf(err, errlen, "out of memory");
        free(p);
        return NULL;
    }
    p->loop = loop;
    p->state = PG_DOWN;
    p->pause = PG_RETRY_MIN;
    ev_io_init(&p->io, io_cb, -1, EV_READ);
    ev_io_init(&p->wio, wio_cb, -1, EV_WRITE);
    ev_timer_init(&p->retry, retry_cb, 0., 0.);
    ev_timer_init(&p->later, later_cb, 0., 0.);
    ev_timer_init(&p->kick, kick_cb, 0., 0.);
    ev_timer_init(&p->stall, stall_cb, 0., PG_ANSWER_CHECK);
    if (conninfo(p, uri, err, errlen) != 0) {
        goto fail;
    }
    p->conn = PQconnectdbParams(p->keys, p->vals, 0);
    if (p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK) {
        char msg[DB_ERR_MAX];
        scrub(p, p->conn != NULL ? PQerrorMessage(p->conn) : "out of memory", msg, sizeof(msg));
        snprintf(err, errlen, "connect to %s: %s", p->where, msg);
        goto fail;
    }
    PQsetNoticeProcessor(p->conn, notice, p);
    if (migrate(p, err, errlen) != 0 || make_guest(p, err, errlen) != 0 || prepare_all(p, err, errlen) != 0 ||
        exec_ok(p, SQL_SESSION, "session settings", err, errlen) != 0) {
        goto fail;
    }
    if (PQsetnonblocking(p->conn, 1) != 0 || PQenterPipelineMode(p->conn) != 1) {
        snprintf(err, errlen, "pipeline mode: %s", PQerrorMessage(p->conn));
        goto fail;
    }
    p->state = PG_UP;
    p->version_at = ev_now(loop);
    p->version = 1;
    watch(p, EV_READ);
    ev_timer_again(p->loop, &p->stall);
    return p;
fail:
    PQfinish(p->conn);
    p->conn = NULL;
    pg_free(p);
    return NULL;
}

void pg_close(struct pg *p)
{
    if (p == NULL || p->closed) {
        return;
    }
    p->closed = 1;
    watch_stop(p);
    ev_timer_stop(p->loop, &p->retry);
    ev_timer_stop(p->loop, &p->later);
    ev_timer_stop(p->loop, &p->kick);
    PQfinish(p->conn);
    p->conn = NULL;
    p->state = PG_DOWN;
    /* The one place done is called from inside a pg_* call: nothing would answer them later. */
    p->busy++;
    while (p->n > 0) {
        struct flight *f = flight_at(p, 0);
        if (f->req != NULL && p->dead == 0) {
            req_fail(p, f->req, DB_FAULT_DOWN, "database unavailable: closed");
        }
        struct db_req *r = flight_pop(p);
        if (r != NULL) {
            r->done(r);
        }
    }
    leave(p);
}
