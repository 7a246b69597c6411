/*
 * short: request lines. The first byte of a line names the service; each
 * service is one line in the table below. Math is answered at once; a
 * leaderboard line asks the database, whose answer may come later
 * (PostgreSQL): the connection then reads nothing more until it has come
 * (conn_wait), so pipelined requests are answered in order.
 */
#include "short.h"

#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "conn.h"
#include "db.h"
#include "math.h"
#include "reply.h"
#include "stats.h"

#define LINE_TOO_LONG "eline too long\n"
/* Work one connection may do in one turn (an iteration of the loop), in units of a small math
 * request; the rest of its requests wait for the next turn. A rank costs about what 16 small
 * requests cost, a top about 8 (measured: 115 and 22 us against 1 to 2 us). */
#define SHORT_TURN 32
#define SHORT_ADDR_TURN 256     /* and all connections of one address together */
#define SHORT_RANK_COST 16
#define SHORT_TOP_COST 8
#define SHORT_ROWS (BOARD_TOP_MAX > 2 * BOARD_AROUND_MAX + 1 ? BOARD_TOP_MAX : 2 * BOARD_AROUND_MAX + 1)
#define UNKNOWN_OP "eunknown op\n"
#define TCP_ONLY "tcp only"

_Static_assert(SHORT_REPLY_MAX >= MATH_REPLY_MAX, "a math answer fits a reply");
_Static_assert(SHORT_REPLY_MAX >= (2 * BOARD_AROUND_MAX + 1) * BOARD_ROW_MAX + 2 &&
               SHORT_REPLY_MAX >= BOARD_TOP_MAX * BOARD_ROW_MAX + 2, "a leaderboard fits a reply");

/* A leaderboard request and the room for its rows. SQLite answers before the call returns, so one
 * static ask serves them all; an answer that comes later (PostgreSQL) needs one of its own, made
 * when the request is sent and freed when it is answered or its connection goes: a connection
 * carries no rows while it asks nothing. While one waits, it is its connection's owner (the
 * database is, otherwise). */
struct ask {
    struct db_req req;
    struct db *db;
    struct conn *c;
    int rank;                           /* a rank: no rows means an unknown player */
    struct board_row rows[SHORT_ROWS];
};

static char reply[SHORT_REPLY_MAX];     /* the answer being written */

struct service {
    const char *ops;    /* request letters */
    /* Write the answer into out (room for SHORT_REPLY_MAX); return its length. NULL: the answer
     * is the database's, asked by the connection (ask_board). */
    size_t (*answer)(const char *line, size_t len, char *out);
    /* Is an unterminated line already a whole request? */
    int (*complete)(const char *line, size_t len);
};

static size_t answer_math(const char *line, size_t len, char *out)
{
    int n = math_answer(line, len, out, SHORT_REPLY_MAX);
    return n > 0 ? (size_t)n : 0;
}

static int board_complete(const char *line, size_t len)
{
    struct board_query q;
    const char *reason;
    return board_parse(line, len, &q, &reason) == 0;
}

static const struct service services[] = {
    { "abcd", answer_math, math_complete },
    { "tr", NULL, board_complete },
};

static const struct service *find_service(int op)
{
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
        if (op != '\0' && strchr(services[i].ops, op) != NULL) {
            return &services[i];
        }
    }
    return NULL;
}

/* Is the line a leaderboard request, for the database to answer? */
static int asks_database(const char *line, size_t len)
{
    const struct service *s = len > 0 && len <= MATH_LINE_MAX ? find_service((unsigned char)line[0]) : NULL;
    return s != NULL && s->answer == NULL;
}

size_t short_reply(const char *line, size_t len, char *out)
{
    const struct service *s = len > 0 ? find_service((unsigned char)line[0]) : NULL;
    const char *fixed = len > MATH_LINE_MAX ? LINE_TOO_LONG : s == NULL ? UNKNOWN_OP : NULL;

    if (fixed != NULL) {
        size_t n = strlen(fixed);
        memcpy(out, fixed, n);
        return n;
    }
    return s->answer != NULL ? s->answer(line, len, out) : reply_error(out, TCP_ONLY);
}

/* The answer to a leaderboard request into reply; its length. */
static size_t board_reply(const struct ask *k)
{
    int64_t n = k->req.result;
    if (n < 0) {
        return reply_error(reply, "games unavailable");
    }
    if (n == 0 && k->rank) {
        return reply_error(reply, "unknown player");
    }
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        used += board_format_row(&k->rows[i], reply + used, BOARD_ROW_MAX);
    }
    memcpy(reply + used, ".\n", 2);
    return used + 2;
}

/* A leaderboard answer that came later: written, and the connection reads its next requests. */
static void answered(struct db_req *r)
{
    struct ask *k = r->data;
    struct conn *c = k->c;

    conn_write(c, reply, board_reply(k));
    c->owner = k->db;
    free(k);
    conn_resume(c);
}

static void ask_board(struct conn *c, const char *line, size_t len)
{
    static struct ask now;
    struct db *db = c->owner;
    struct board_query q;
    const char *reason;

    if (board_parse(line, len, &q, &reason) < 0) {
        conn_write(c, reply, reply_error(reply, reason));
        return;
    }
    struct ask *k = db_sqlite(db) != NULL ? &now : malloc(sizeof(*k));
    if (k == NULL) {
        conn_write(c, reply, reply_error(reply, "out of memory"));
        return;
    }
    k->req = (struct db_req){ .done = answered, .data = k, .rows = k->rows };
    k->db = db;
    k->c = c;
    k->rank = q.kind != BOARD_TOP;
    int state = q.kind == BOARD_TOP ? db_top(db, &k->req, q.count) : db_rank(db, &k->req, q.name, q.count);
    if (state == DB_PENDING) {
        c->owner = k;
        conn_wait(c);
        return;
    }
    conn_write(c, reply, board_reply(k));
    if (k != &now) {
        free(k);
    }
}

static void answer(struct conn *c, const char *line, size_t len)
{
    if (len > 0 && line[len - 1] == '\r') {
        len--;
    }
    size_t blank = 0;
    while (blank < len && (line[blank] == ' ' || line[blank] == '\t')) {
        blank++;
    }
    if (blank == len) {
        return;     /* blank lines are ignored */
    }
    stats.requests[STATS_TCP]++;
    if (asks_database(line + blank, len - blank)) {
        ask_board(c, line + blank, len - blank);
    } else {
        conn_write(c, reply, short_reply(line + blank, len - blank, reply));
    }
}

static size_t input(struct conn *c, const char *buf, size_t len, int more, int eof);

static void gone(struct conn *c);
static const struct conn_ops short_ops = { "short", input, gone };

void short_attach(struct conn *c, struct db *db, double idle)
{
    conn_set_kind(c, &short_ops, db, idle, 0);
}

/* Closing or draining: an answer still to come is not wanted. */
static void gone(struct conn *c)
{
    if (c->waiting) {
        struct ask *k = c->owner;
        db_cancel(k->db, &k->req);
        c->owner = k->db;
        free(k);
        conn_resume(c);
    }
}

static int tail_complete(const char *line, size_t len)
{
    const struct service *s = len > 0 ? find_service((unsigned char)line[0]) : NULL;
    return s != NULL && s->complete(line, len);
}

/* What answering a line costs, roughly, in units of a small math request: a rank counts players
 * in the database, a top is rows to write, a long number's power is long to compute. */
static unsigned cost(const char *line, size_t len)
{
    if (len > 0 && line[0] == 'r') {
        return SHORT_RANK_COST;
    }
    return len > 0 && line[0] == 't' ? SHORT_TOP_COST : 1 + (unsigned)(len / 64);
}

static size_t input(struct conn *c, const char *buf, size_t len, int more, int eof)
{
    size_t pos = 0;
    unsigned spent = 0;

    while (pos < len && c->state == CONN_OPEN && !c->waiting) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - buf) : len;
        /* One connection's share of an iteration, its address's share, and no more answers than
         * the client reads. */
        if (nl != NULL && !c->skip_line &&
            (spent >= SHORT_TURN || conn_addr_spent(c) >= SHORT_ADDR_TURN || conn_congested(c))) {
            conn_yield(c);
            break;
        }
        if (c->skip_line) {
            /* The rest of a line already answered as too long. */
            c->skip_line = nl == NULL;
            pos = nl != NULL ? end + 1 : len;
            continue;
        }
        if (nl != NULL) {
            c->sent_newline = 1;
            unsigned units = cost(buf + pos, end - pos);
            spent += units;
            conn_addr_spend(c, units);
            answer(c, buf + pos, end - pos);
            pos = end + 1;
            continue;
        }
        size_t rest = len - pos;
        if (rest > MATH_LINE_MAX + 1) {
            conn_write(c, LINE_TOO_LONG, strlen(LINE_TOO_LONG));
            c->skip_line = 1;
            return len;
        }
        /* Only a client that has never ended a line with \n (the classic one) is
         * answered without a terminator: for the others, a short read can end
         * inside a line that is still on its way. */
        if (eof || (!more && !c->sent_newline && tail_complete(buf + pos, rest - (buf[len - 1] == '\r')))) {
            answer(c, buf + pos, rest);
            return len;
        }
        break;
    }
    return pos;
}
