/*
 * watch: leaderboard watchers. The board's version (db_board_version)
 * moves when a commit or a fold may have changed the top; a watcher is sent
 * the board when it arrives and after each move, unless its client is not
 * reading: then it is sent the board as it is once the client has caught up.
 * The top last read is kept with its version, so that a watcher who catches up
 * or arrives before the next move is sent it without another read.
 */
#include "watch.h"

#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "conn.h"
#include "log.h"

#define DOC_MAX (STORE_TOP_MAX * BOARD_JSON_MAX + 16)
#define FAILURE_LOG_EVERY 1.0   /* seconds between two logs of a failed read */

struct watcher {
    struct watch *watch;
    struct conn *conn;
    int rows;
    int stale;                  /* to be sent the board */
    struct watcher *prev, *next;
};

static size_t input(struct conn *c, const char *buf, size_t len, int more, int eof);
static void gone(struct conn *c);
static const struct conn_ops watch_ops = { "watch", input, gone };

static void later_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)t;
    (void)revents;
    /* Nothing to do here: waking the loop runs the flush, and watch_tick from it. */
}

static void read_answered(struct db_req *r);

void watch_init(struct watch *w, struct ev_loop *loop, struct db *db, double idle)
{
    memset(w, 0, sizeof(*w));
    w->loop = loop;
    w->db = db;
    w->idle = idle;
    w->version = db_board_version(db);
    w->have = -1;
    w->read.done = read_answered;
    w->read.data = w;
    w->read.rows = w->rows;
    ev_init(&w->later_w, later_cb);
}

void watch_free(struct watch *w)
{
    ev_timer_stop(w->loop, &w->later_w);
    if (w->reading) {
        db_cancel(w->db, &w->read);
        w->reading = 0;
    }
}

void watch_attach(struct watch *w, struct conn *c, int rows)
{
    struct watcher *x = calloc(1, sizeof(*x));
    if (x == NULL) {
        conn_close(c, "out of memory");
        return;
    }
    x->watch = w;
    x->conn = c;
    x->rows = rows;
    x->stale = 1;
    x->next = w->all;
    if (w->all != NULL) {
        w->all->prev = x;
    }
    w->all = x;
    w->n++;
    w->stale++;
    conn_set_kind(c, &watch_ops, x, w->idle, 0);
}

static void gone(struct conn *c)
{
    struct watcher *x = c->owner;
    struct watch *w = x->watch;
    if (x->prev != NULL) {
        x->prev->next = x->next;
    } else {
        w->all = x->next;
    }
    if (x->next != NULL) {
        x->next->prev = x->prev;
    }
    w->n--;
    w->stale -= x->stale;
    free(x);
    c->owner = NULL;
}

/* What a watcher sends is not read: any message only keeps it alive. */
static size_t input(struct conn *c, const char *buf, size_t len, int more, int eof)
{
    (void)buf;
    (void)more;
    (void)eof;
    if (len > 0) {
        conn_progress(c);
    }
    return len;
}

/* {"top":[row,...]} for the first n of rows into out (room for DOC_MAX); returns its length. */
static size_t document(const struct board_row *rows, int n, char *out)
{
    size_t len = 0;
    memcpy(out, "{\"top\":[", 8);
    len = 8;
    for (int i = 0; i < n; i++) {
        if (i > 0) {
            out[len++] = ',';
        }
        len += board_format_json(&rows[i], out + len, BOARD_JSON_MAX);
    }
    memcpy(out + len, "]}", 2);
    return len + 2;
}

/* Send the top as last read to the watchers that have not seen it and whose clients read. */
static void push(struct watch *w)
{
    static char doc[DOC_MAX];
    int done_rows = -1;
    size_t len = 0;

    for (struct watcher *x = w->all; x != NULL; x = x->next) {
        /* A client that has not read the last board is sent the newest once it has. */
        if (!x->stale || x->conn->state != CONN_OPEN || conn_congested(x->conn)) {
            continue;
        }
        int n = x->rows < w->have ? x->rows : w->have;
        if (n != done_rows) {
            len = document(w->rows, n, doc);
            done_rows = n;
        }
        conn_write(x->conn, doc, len);
        x->stale = 0;
        w->stale--;
    }
}

/* The top as it was at w->have_version, or a failure. */
static void answered_top(struct watch *w)
{
    if (w->read.result < 0) {
        ev_tstamp now = ev_now(w->loop);
        if (now - w->failure_logged >= FAILURE_LOG_EVERY) {
            log_error("leaderboard for watchers: %s", w->read.err);
            w->failure_logged = now;
        }
        return;
    }
    w->have = (int)w->read.result;
    push(w);
}

static void read_answered(struct db_req *r)
{
    struct watch *w = r->data;
    w->reading = 0;
    answered_top(w);
}

void watch_tick(struct watch *w)
{
    /* A read on its way answers for the version it was sent at: a move since waits for it. */
    if (w->reading) {
        return;
    }
    uint64_t version = db_board_version(w->db);
    ev_tstamp now = ev_now(w->loop);

    if (version != w->version) {
        if (now - w->last_push < WATCH_INTERVAL) {
            if (!ev_is_active(&w->later_w)) {
                ev_timer_set(&w->later_w, w->last_push + WATCH_INTERVAL - now, 0.);
                ev_timer_start(w->loop, &w->later_w);
            }
            return;
        }
        for (struct watcher *x = w->all; x != NULL; x = x->next) {
            w->stale += !x->stale;
            x->stale = 1;
        }
        w->version = version;
        w->last_push = now;
    }
    if (w->stale == 0) {
        return;
    }
    if (w->have >= 0 && w->have_version == w->version) {
        push(w);
        return;
    }
    w->have = -1;
    w->have_version = w->version;
    if (db_top(w->db, &w->read, STORE_TOP_MAX) == DB_PENDING) {
        w->reading = 1;
        return;
    }
    answered_top(w);
}
