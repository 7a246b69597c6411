/*
 * short: request lines. The first byte of a line names the service; each
 * service is one line in the table below.
 */
#include "short.h"

#include <string.h>

#include "board.h"
#include "conn.h"
#include "math.h"
#include "reply.h"
#include "stats.h"
#include "store.h"

#define LINE_TOO_LONG "eline too long\n"
/* Work one connection may do in one turn (an iteration of the loop), in units of a small math
 * request; the rest of its requests wait for the next turn. A rank costs about what 16 small
 * requests cost, a top about 8 (measured: 115 and 22 us against 1 to 2 us). */
#define SHORT_TURN 32
#define SHORT_ADDR_TURN 256     /* and all connections of one address together */
#define SHORT_RANK_COST 16
#define SHORT_TOP_COST 8
#define UNKNOWN_OP "eunknown op\n"

_Static_assert(SHORT_REPLY_MAX >= MATH_REPLY_MAX, "a math answer fits a reply");
_Static_assert(SHORT_REPLY_MAX >= (2 * BOARD_AROUND_MAX + 1) * BOARD_ROW_MAX + 2 &&
               SHORT_REPLY_MAX >= BOARD_TOP_MAX * BOARD_ROW_MAX + 2, "a leaderboard fits a reply");

struct service {
    const char *ops;    /* request letters */
    /* Write the answer into out (room for SHORT_REPLY_MAX); return its length. */
    size_t (*answer)(struct store *st, const char *line, size_t len, char *out);
    /* Is an unterminated line already a whole request? */
    int (*complete)(const char *line, size_t len);
};

static size_t answer_math(struct store *st, const char *line, size_t len, char *out)
{
    (void)st;
    int n = math_answer(line, len, out, SHORT_REPLY_MAX);
    return n > 0 ? (size_t)n : 0;
}

static size_t answer_board(struct store *st, const char *line, size_t len, char *out)
{
    struct board_query q;
    struct board_row rows[BOARD_TOP_MAX > 2 * BOARD_AROUND_MAX + 1 ? BOARD_TOP_MAX : 2 * BOARD_AROUND_MAX + 1];
    const char *reason;
    char err[256];
    int n, self;

    if (board_parse(line, len, &q, &reason) < 0) {
        return reply_error(out, reason);
    }
    if (q.kind == BOARD_TOP) {
        n = store_top(st, q.count, rows, err, sizeof(err));
    } else {
        n = store_rank(st, q.name, q.count, rows, &self, err, sizeof(err));
        if (n == 0) {
            return reply_error(out, "unknown player");
        }
    }
    if (n < 0) {
        return reply_error(out, "games unavailable");
    }
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        used += board_format_row(&rows[i], out + used, BOARD_ROW_MAX);
    }
    memcpy(out + used, ".\n", 2);
    return used + 2;
}

static int board_complete(const char *line, size_t len)
{
    struct board_query q;
    const char *reason;
    return board_parse(line, len, &q, &reason) == 0;
}

static const struct service services[] = {
    { "abcd", answer_math, math_complete },
    { "tr", answer_board, board_complete },
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

size_t short_reply(struct store *st, const char *line, size_t len, char *out)
{
    const struct service *s = len > 0 ? find_service((unsigned char)line[0]) : NULL;
    const char *fixed = len > MATH_LINE_MAX ? LINE_TOO_LONG : s == NULL ? UNKNOWN_OP : NULL;

    if (fixed != NULL) {
        size_t n = strlen(fixed);
        memcpy(out, fixed, n);
        return n;
    }
    return s->answer(st, line, len, out);
}

static void answer(struct conn *c, const char *line, size_t len)
{
    static char reply[SHORT_REPLY_MAX];

    if (len > 0 && line[len - 1] == '\r') {
        len--;
    }
    size_t blank = 0;
    while (blank < len && (line[blank] == ' ' || line[blank] == '\t')) {
        blank++;
    }
    if (blank < len) {   /* blank lines are ignored */
        stats.requests[STATS_TCP]++;
        conn_write(c, reply, short_reply(c->owner, line + blank, len - blank, reply));
    }
}

static size_t input(struct conn *c, const char *buf, size_t len, int more, int eof);

static const struct conn_ops short_ops = { "short", input, NULL };

void short_attach(struct conn *c, struct store *st, double idle)
{
    conn_set_kind(c, &short_ops, st, idle, 0);
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

    while (pos < len && c->state == CONN_OPEN) {
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
