/*
 * watch: leaderboard watchers. The board's version (store_board_version)
 * moves when a commit or a fold may have changed the top; a watcher is sent
 * the board when it arrives and after each move, unless its client is not
 * reading: then it is sent the board as it is once the client has caught up.
 */
#include "watch.h"

#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "conn.h"
#include "log.h"
#include "store.h"

#define DOC_MAX (STORE_TOP_MAX * BOARD_JSON_MAX + 16)

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

void watch_init(struct watch *w, struct ev_loop *loop, struct store *st, double idle)
{
    memset(w, 0, sizeof(*w));
    w->loop = loop;
    w->store = st;
    w->idle = idle;
    w->version = store_board_version(st);
    ev_init(&w->later_w, later_cb);
}

void watch_free(struct watch *w)
{
    ev_timer_stop(w->loop, &w->later_w);
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

void watch_tick(struct watch *w)
{
    uint64_t version = store_board_version(w->store);
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
    static struct board_row rows[STORE_TOP_MAX];
    static char doc[DOC_MAX];
    char err[256];
    int have = store_top(w->store, STORE_TOP_MAX, rows, err, sizeof(err));
    if (have < 0) {
        log_error("leaderboard for watchers: %s", err);
        return;
    }
    int done_rows = -1;
    size_t len = 0;
    for (struct watcher *x = w->all; x != NULL; x = x->next) {
        /* A client that has not read the last board is sent the newest once it has. */
        if (!x->stale || x->conn->state != CONN_OPEN || conn_congested(x->conn)) {
            continue;
        }
        int n = x->rows < have ? x->rows : have;
        if (n != done_rows) {
            len = document(rows, n, doc);
            done_rows = n;
        }
        conn_write(x->conn, doc, len);
        x->stale = 0;
        w->stale--;
    }
}
