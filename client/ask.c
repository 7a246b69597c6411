/*
 * ask: requests go out newline-terminated on one connection as they come
 * (from the command line at once, from standard input as each line is
 * read), and a half-close says "no more" once the source has ended; answers
 * are cut from the input as they become complete and handed over in order.
 *
 *   args, stdin --feed_take--> queue --out--> socket --in--> take_answers --> fn
 *
 * The first byte of a TCP connection decides its kind on the server, so a
 * first request that would open a game (`1`, `P`, ...) is preceded by a
 * harmless `d0` whose answer is dropped: the server then answers the request
 * itself (`eunknown op`). A person typing requests may pause longer than the
 * server's idle timeout: a connection the server closes with nothing in
 * flight is opened again for the next request.
 */
#include "ask.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dial.h"
#include "json.h"
#include "rps.h"
#include "table.h"

#define PRIMER "d0\n"

int ask_check_request(const char *req, char *err, size_t errlen)
{
    int blank = 1;
    for (const unsigned char *p = (const unsigned char *)req; *p != '\0'; p++) {
        if (*p < 0x20 && *p != '\t') {
            snprintf(err, errlen, "a request cannot hold control characters (byte 0x%02x)", *p);
            return -1;
        }
        if (!rps_is_space(*p)) {
            blank = 0;
        }
    }
    if (blank) {
        snprintf(err, errlen, "empty request");
        return -1;
    }
    return 0;
}

/* The op is the first byte that is not whitespace, as the server skips it. */
static int first_op(const char *req)
{
    while (*req != '\0' && rps_is_space((unsigned char)*req)) {
        req++;
    }
    return (unsigned char)*req;
}

int ask_is_multiline(const char *req)
{
    int op = first_op(req);
    return op == 't' || op == 'r';
}

size_t ask_answer_len(const char *buf, size_t len, int multiline)
{
    size_t start = 0;
    for (;;) {
        if (start >= len) {
            return 0;
        }
        const char *nl = memchr(buf + start, '\n', len - start);
        if (nl == NULL) {
            return 0;
        }
        size_t end = (size_t)(nl - buf) + 1;
        int last = !multiline || (start == 0 && buf[0] == 'e') ||
                   (end - start == 2 && buf[start] == '.');
        if (last) {
            return end;
        }
        start = end;
    }
}


/* ---- where requests come from ---- */

/* The arguments, and the lines of standard input where an argument is "-". */
struct feed {
    const struct ask_source *src;
    size_t arg;                     /* the next argument */
    int reading;                    /* at a "-": taking lines of src->in_fd */
    int waiting;                    /* the last feed_take needs more input */
    int eof;                        /* src->in_fd has ended */
    int skipping;                   /* dropping the rest of a line over ASK_LINE_MAX */
    unsigned long lineno;
    char buf[ASK_LINE_MAX + 1];     /* a line and its newline */
    size_t len;
};

static void req_free(struct ask_req *r)
{
    free(r->text);
    free(r->input);
    r->text = r->input = NULL;
}

/* r from what was given (len bytes of input), with the prefix before it. 0, or -1 (out of memory). */
static int req_make(struct ask_req *r, char prefix, const char *input, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->input = malloc(len + 1);
    r->text = malloc(len + 2);
    if (r->input == NULL || r->text == NULL) {
        req_free(r);
        return -1;
    }
    memcpy(r->input, input, len);
    r->input[len] = '\0';
    size_t off = 0;
    if (prefix != 0) {
        r->text[off++] = prefix;
    }
    memcpy(r->text + off, input, len);
    r->text[off + len] = '\0';
    ask_check_request(r->text, r->bad, sizeof(r->bad));
    return 0;
}

/* A line of input that cannot be sent is named by its number: it may hold control bytes. */
static void req_name_line(struct ask_req *r, unsigned long lineno)
{
    char name[32];
    snprintf(name, sizeof(name), "line %lu", lineno);
    free(r->input);
    r->input = strdup(name);
}

/* The next line of standard input as a request: 1, 0 for "needs more input", -1 at its end.
 * Blank lines are skipped (the server ignores them, so they have no answer); spaces and tabs
 * around a line are dropped. */
static int take_line(struct feed *f, struct ask_req *r)
{
    for (;;) {
        char *nl = memchr(f->buf, '\n', f->len);
        size_t linelen, used;
        if (nl == NULL && f->len == sizeof(f->buf)) {
            f->skipping = 1;
            f->len = 0;
            continue;
        }
        if (nl == NULL && !f->eof) {
            return 0;
        }
        if (nl == NULL && f->len == 0 && !f->skipping) {
            return -1;
        }
        linelen = nl != NULL ? (size_t)(nl - f->buf) : f->len;
        used = nl != NULL ? linelen + 1 : linelen;
        f->lineno++;
        if (f->skipping) {
            f->skipping = 0;
            memmove(f->buf, f->buf + used, f->len - used);
            f->len -= used;
            if (req_make(r, f->src->prefix, "", 0) < 0) {
                return -1;
            }
            snprintf(r->bad, sizeof(r->bad), "longer than %d bytes", ASK_LINE_MAX);
            req_name_line(r, f->lineno);
            return 1;
        }
        char *s = f->buf;
        while (linelen > 0 && (s[linelen - 1] == '\r' || rps_is_space((unsigned char)s[linelen - 1]))) {
            linelen--;
        }
        while (linelen > 0 && rps_is_space((unsigned char)*s)) {
            s++;
            linelen--;
        }
        int got = 0;
        if (linelen > 0) {
            if (req_make(r, f->src->prefix, s, linelen) < 0) {
                return -1;
            }
            got = 1;
            if (r->bad[0] != '\0') {
                req_name_line(r, f->lineno);
            }
        }
        memmove(f->buf, f->buf + used, f->len - used);
        f->len -= used;
        if (got) {
            return 1;
        }
    }
}

/* The next request: 1 (r filled), 0 when standard input has to be read first (feed_read),
 * -1 at the end of the source (or out of memory). */
static int feed_take(struct feed *f, struct ask_req *r)
{
    const struct ask_source *src = f->src;
    f->waiting = 0;
    for (;;) {
        if (f->reading) {
            int k = take_line(f, r);
            if (k >= 0) {
                f->waiting = k == 0;
                return k;
            }
            f->reading = 0;
            continue;
        }
        if (f->arg >= src->nargs) {
            return -1;
        }
        const char *a = src->args[f->arg++];
        if (strcmp(a, "-") == 0 && src->in_fd >= 0) {
            f->reading = 1;
            continue;
        }
        return req_make(r, src->prefix, a, strlen(a)) < 0 ? -1 : 1;
    }
}

/* Read what standard input has now. */
static void feed_read(struct feed *f)
{
    ssize_t n = read(f->src->in_fd, f->buf + f->len, sizeof(f->buf) - f->len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return;
    }
    if (n <= 0) {
        f->eof = 1;     /* a read error ends the input as its end would */
        return;
    }
    f->len += (size_t)n;
}

/* ---- requests waiting for their answers ---- */

struct queue {
    struct ask_req *v;
    size_t head, n, cap;    /* v[head..n) wait for their answers, oldest first */
    size_t sent;            /* v[head..sent) are on the connection (or bad, answered in turn) */
};

static int queue_push(struct queue *q, struct ask_req *r)
{
    if (q->n == q->cap && q->head > 0) {
        memmove(q->v, q->v + q->head, (q->n - q->head) * sizeof(*q->v));
        q->n -= q->head;
        q->sent -= q->head;
        q->head = 0;
    }
    if (q->n == q->cap) {
        size_t cap = q->cap == 0 ? 64 : q->cap * 2;
        struct ask_req *v = realloc(q->v, cap * sizeof(*v));
        if (v == NULL) {
            return -1;
        }
        q->v = v;
        q->cap = cap;
    }
    q->v[q->n++] = *r;
    return 0;
}

static void queue_pop(struct queue *q)
{
    req_free(&q->v[q->head++]);
}

static void queue_free(struct queue *q)
{
    while (q->head < q->n) {
        queue_pop(q);
    }
    free(q->v);
}

/* ---- TCP ---- */

/* Bytes gathered from the socket until answers are complete, or waiting to be sent. */
struct bytes {
    char *p;
    size_t len, cap;
};

static int bytes_room(struct bytes *b, size_t want)
{
    if (b->cap - b->len >= want) {
        return 0;
    }
    size_t cap = b->cap == 0 ? 8192 : b->cap * 2;
    while (cap - b->len < want) {
        cap *= 2;
    }
    if (cap > ASK_ANSWER_MAX * 2) {
        return -1;
    }
    char *p = realloc(b->p, cap);
    if (p == NULL) {
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static int bytes_add(struct bytes *b, const char *s, size_t len)
{
    if (bytes_room(b, len) < 0) {
        return -1;
    }
    memcpy(b->p + b->len, s, len);
    b->len += len;
    return 0;
}

/* The state of one TCP exchange. */
struct tcp_ex {
    const struct opts_conn *c;
    char label[300];        /* host:port for messages */
    int fd;                 /* -1 before the first request, or after an idle close */
    int fresh;              /* nothing sent on this connection yet */
    int shut;               /* half-closed: the source has ended */
    struct bytes out;       /* bytes not sent yet */
    size_t outoff;
    struct bytes in;
    int skip;               /* answers still to drop (the primer's) */
    size_t inflight;        /* requests sent and not answered */
    double deadline;        /* for the oldest answer, while inflight > 0 */
    struct queue q;
    ask_fn fn;
    void *ctx;
};

/* Hand over every answer that is complete, and the bad requests whose turn it is. */
static void take_answers(struct tcp_ex *x)
{
    struct queue *q = &x->q;
    size_t off = 0;
    while (q->head < q->sent) {
        struct ask_req *r = &q->v[q->head];
        if (r->bad[0] != '\0') {
            x->fn(x->ctx, r, NULL, 0);
            queue_pop(q);
            continue;
        }
        int multi = x->skip == 0 && ask_is_multiline(r->text);
        size_t k = ask_answer_len(x->in.p + off, x->in.len - off, multi);
        if (k == 0) {
            break;
        }
        if (x->skip > 0) {
            x->skip--;
        } else {
            x->fn(x->ctx, r, x->in.p + off, k);
            queue_pop(q);
            x->inflight--;
        }
        off += k;
    }
    if (off > 0) {
        memmove(x->in.p, x->in.p + off, x->in.len - off);
        x->in.len -= off;
    }
}

/* Put the queued requests on the connection, opening it if need be. 0, or -1 (err filled). */
static int tcp_queue(struct tcp_ex *x, char *err, size_t errlen)
{
    struct queue *q = &x->q;
    for (; q->sent < q->n; q->sent++) {
        const struct ask_req *r = &q->v[q->sent];
        if (r->bad[0] != '\0') {
            continue;
        }
        if (x->fd < 0) {
            x->fd = dial_tcp(x->c->host, x->c->port, x->c->timeout, err, errlen);
            if (x->fd < 0) {
                return -1;
            }
            x->fresh = 1;
            x->skip = 0;
            x->in.len = 0;
        }
        int primed = x->fresh && rps_opens(first_op(r->text));
        if ((primed && bytes_add(&x->out, PRIMER, strlen(PRIMER)) < 0) ||
            bytes_add(&x->out, r->text, strlen(r->text)) < 0 || bytes_add(&x->out, "\n", 1) < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        x->skip += primed;
        x->fresh = 0;
        if (x->inflight++ == 0) {
            x->deadline = dial_now() + x->c->timeout;
        }
    }
    return 0;
}

static void tcp_close(struct tcp_ex *x)
{
    if (x->fd >= 0) {
        close(x->fd);
    }
    x->fd = -1;
    x->out.len = x->outoff = 0;
    x->in.len = 0;
}

/* The socket is ready (rc from poll): send, receive. 0 to go on, or -1 (err filled). */
static int tcp_step(struct tcp_ex *x, int rc, char *err, size_t errlen)
{
    if ((rc & POLLOUT) && x->outoff < x->out.len) {
        ssize_t w = send(x->fd, x->out.p + x->outoff, x->out.len - x->outoff, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            snprintf(err, errlen, "connection to %s failed: %s", x->label, strerror(errno));
            return -1;
        }
        x->outoff += w > 0 ? (size_t)w : 0;
        if (x->outoff == x->out.len) {
            x->out.len = x->outoff = 0;
        }
    }
    if (!(rc & (POLLIN | POLLHUP | POLLERR))) {
        return 0;
    }
    if (bytes_room(&x->in, 4096) < 0) {
        snprintf(err, errlen, "answer from %s too long", x->label);
        return -1;
    }
    ssize_t r = recv(x->fd, x->in.p + x->in.len, x->in.cap - x->in.len, 0);
    if (r == 0 && x->inflight == 0 && !x->shut) {
        tcp_close(x);   /* the server's idle timeout: open again for the next request */
        return 0;
    }
    if (r == 0) {
        snprintf(err, errlen, "%s closed the connection before answering", x->label);
        return -1;
    }
    if (r < 0 && errno != EAGAIN && errno != EINTR) {
        snprintf(err, errlen, "connection to %s failed: %s", x->label, strerror(errno));
        return -1;
    }
    if (r > 0) {
        x->in.len += (size_t)r;
        /* The timeout bounds silence, not the length of a long exchange. */
        x->deadline = dial_now() + x->c->timeout;
    }
    return 0;
}

/* Wait for the socket, or for standard input when the feed needs it: the socket's revents (0 if
 * none), or -1 when an answer is overdue. */
static int tcp_wait(struct tcp_ex *x, struct feed *f, int *input_ready)
{
    struct pollfd p[2] = { { .fd = -1 }, { .fd = -1 } };
    if (x->fd >= 0) {
        p[0].fd = x->fd;
        p[0].events = (short)(POLLIN | (x->outoff < x->out.len ? POLLOUT : 0));
    }
    if (f->waiting && x->q.n - x->q.head < ASK_AHEAD_MAX) {
        p[1].fd = f->src->in_fd;
        p[1].events = POLLIN;
    }
    int ms = -1;
    if (x->inflight > 0) {
        double left = x->deadline - dial_now();
        ms = left > 0 ? (int)(left * 1000) + 1 : 0;
    }
    int n = poll(p, 2, ms);
    if (n < 0 && errno == EINTR) {
        return 0;
    }
    if (n == 0 && x->inflight > 0 && dial_now() >= x->deadline) {
        return -1;
    }
    *input_ready = n > 0 && p[1].revents != 0;
    return n > 0 ? p[0].revents : 0;
}

static int tcp_stream(struct tcp_ex *x, const struct ask_source *src, char *err, size_t errlen)
{
    struct feed f = { .src = src };
    int ended = 0;
    for (;;) {
        struct ask_req r;
        int k = 0;
        while (!ended && x->q.n - x->q.head < ASK_AHEAD_MAX && (k = feed_take(&f, &r)) > 0) {
            if (queue_push(&x->q, &r) < 0) {
                req_free(&r);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        }
        ended = ended || k < 0;
        if (tcp_queue(x, err, errlen) < 0) {
            return -1;
        }
        take_answers(x);
        if (ended && x->q.head == x->q.n) {
            return 0;
        }
        if (ended && x->fd >= 0 && !x->shut && x->out.len == 0) {
            shutdown(x->fd, SHUT_WR);
            x->shut = 1;
        }
        int input_ready = 0;
        int rc = tcp_wait(x, &f, &input_ready);
        if (rc < 0) {
            snprintf(err, errlen, "no answer from %s within %g s", x->label, x->c->timeout);
            return -1;
        }
        if (input_ready) {
            feed_read(&f);
        }
        if (rc != 0 && tcp_step(x, rc, err, errlen) < 0) {
            return -1;
        }
    }
}

/* ---- UDP ---- */

/* One datagram out, one back: the answer's length, or -1 (err filled). */
static ssize_t udp_one(int fd, const char *req, char *answer, size_t cap, double timeout, const char *label,
                       char *err, size_t errlen)
{
    ssize_t r = -1;
    int ready = 0;
    if (send(fd, req, strlen(req), 0) >= 0) {
        ready = dial_wait(fd, POLLIN, dial_now() + timeout);
        r = ready > 0 ? recv(fd, answer, cap, 0) : -1;
    }
    if (r >= 0) {
        return r;
    }
    /* A refused datagram comes back as ECONNREFUSED on the connected socket. */
    if (ready == 0 && errno != ECONNREFUSED) {
        snprintf(err, errlen, "no answer from %s within %g s", label, timeout);
    } else {
        snprintf(err, errlen, "cannot reach %s: %s", label, strerror(errno));
    }
    return -1;
}

static int udp_stream(const struct opts_conn *c, const struct ask_source *src, ask_fn fn, void *ctx, char *err,
                      size_t errlen)
{
    static char answer[65536];
    char label[300];
    struct feed f = { .src = src };
    struct ask_req r;
    int fd = -1, k, rc = 0;

    dial_label(c->host, c->port, label, sizeof(label));
    while (rc == 0 && (k = feed_take(&f, &r)) >= 0) {
        if (k == 0) {
            struct pollfd p = { .fd = src->in_fd, .events = POLLIN };
            if (poll(&p, 1, -1) > 0 || errno != EINTR) {
                feed_read(&f);
            }
            continue;
        }
        ssize_t n = 0;
        if (r.bad[0] == '\0' && fd < 0 && (fd = dial_udp(c->host, c->port, err, errlen)) < 0) {
            rc = -1;
        } else if (r.bad[0] == '\0') {
            n = udp_one(fd, r.text, answer, sizeof(answer), c->timeout, label, err, errlen);
            rc = n < 0 ? -1 : 0;
        }
        if (rc == 0) {
            fn(ctx, &r, r.bad[0] != '\0' ? NULL : answer, (size_t)n);
        }
        req_free(&r);
    }
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}

int ask_stream(const struct opts_conn *c, int udp, const struct ask_source *src, ask_fn fn, void *ctx, char *err,
               size_t errlen)
{
    if (udp) {
        return udp_stream(c, src, fn, ctx, err, errlen);
    }
    struct tcp_ex x = { .c = c, .fd = -1, .fn = fn, .ctx = ctx };
    dial_label(c->host, c->port, x.label, sizeof(x.label));
    int rc = tcp_stream(&x, src, err, errlen);
    tcp_close(&x);
    free(x.out.p);
    free(x.in.p);
    queue_free(&x.q);
    return rc;
}

int ask_exchange(const struct opts_conn *c, int udp, char *const *reqs, size_t n, ask_fn fn, void *ctx,
                 char *err, size_t errlen)
{
    struct ask_source src = { .prefix = 0, .args = reqs, .nargs = n, .in_fd = -1 };
    return ask_stream(c, udp, &src, fn, ctx, err, errlen);
}

/* ---- the commands ---- */

/* How answers are shown, and what the exit status will be. */
struct printer {
    int json;
    int status;
    size_t shown;           /* answers shown so far */
};

static void raise_status(struct printer *pr, int status)
{
    if (status > pr->status) {
        pr->status = status;
    }
}

/* The start of one JSON element: {"request":"...", */
static void json_begin(struct printer *pr, const struct ask_req *req)
{
    fputs(pr->shown++ == 0 ? "[\n{" : ",\n{", stdout);
    json_key(stdout, "request");
    json_cstring(stdout, req->text);
    fputc(',', stdout);
}

/* A request that failed: said on stderr with the input it came from, and an empty line on stdout
 * in its place, so that line N of the output still answers input N. */
static void show_failure(struct printer *pr, const struct ask_req *req, const char *why, size_t len, int status)
{
    raise_status(pr, status);
    if (pr->json) {
        json_begin(pr, req);
        json_key(stdout, "error");
        json_string(stdout, why, len);
        fputc('}', stdout);
        return;
    }
    pr->shown++;
    fprintf(stderr, "arcade: %s: %.*s\n", req->input, (int)len, why);
    putchar('\n');
}

/* Leaderboard rows (the "." line cut off) as a JSON array, or -1 if they do not parse. */
static int json_rows(struct printer *pr, const struct ask_req *req, const char *rows, size_t len)
{
    struct table_row *v = NULL;
    char err[160];
    int n = table_parse(rows, len, &v, err, sizeof(err));
    if (n >= 0) {
        json_begin(pr, req);
        json_key(stdout, "answer");
        table_print_json(stdout, v, (size_t)n, 0, -1);
        fputc('}', stdout);
    }
    free(v);
    return n < 0 ? -1 : 0;
}

/* One answer: the value of `d`, rows of `t`/`r` without the final ".", or the reason of `e`. */
static void print_answer(void *ctx, const struct ask_req *req, const char *answer, size_t len)
{
    struct printer *pr = ctx;
    size_t full = len;
    while (len > 0 && (answer[len - 1] == '\n' || answer[len - 1] == '\r')) {
        len--;
    }
    if (answer == NULL) {
        show_failure(pr, req, req->bad, strlen(req->bad), OPTS_EXIT_USAGE);
    } else if (len > 0 && answer[0] == 'e') {
        show_failure(pr, req, answer + 1, len - 1, OPTS_EXIT_SERVER);
    } else if (len > 0 && answer[0] == 'd' && pr->json) {
        json_begin(pr, req);
        json_key(stdout, "answer");
        json_string(stdout, answer + 1, len - 1);
        fputc('}', stdout);
    } else if (len > 0 && answer[0] == 'd') {
        pr->shown++;
        printf("%.*s\n", (int)(len - 1), answer + 1);
    } else if (len >= 1 && answer[len - 1] == '.' && (len == 1 || answer[len - 2] == '\n') &&
               (!pr->json || json_rows(pr, req, answer, full) == 0)) {
        if (!pr->json) {
            pr->shown++;
            printf("%.*s", (int)(len - 1), answer);
        }
    } else {
        char why[200];
        int k = snprintf(why, sizeof(why), "unexpected answer from the server: %.*s", (int)(len > 100 ? 100 : len),
                         answer);
        show_failure(pr, req, why, (size_t)k < sizeof(why) ? (size_t)k : sizeof(why) - 1, OPTS_EXIT_SERVER);
    }
    fflush(stdout);
}

enum { ASK_UDP = 1, ASK_JSON };

static const struct opts_spec ask_specs[] = { { "udp", 'u', 0, ASK_UDP }, { "json", 0, 0, ASK_JSON }, OPTS_COMMON };

static void ask_usage(FILE *f, const char *cmd)
{
    if (strcmp(cmd, "ask") == 0) {
        fprintf(f, "usage: arcade ask [--udp] [--json] [options] REQUEST...|-\n"
                   "Send requests (a12, b3, c1.5, d1e3, t5, \"rbo 2\") and print each answer on its line.\n");
    } else {
        fprintf(f, "usage: arcade %s [--udp] [--json] [options] NUMBER...|-\n"
                   "Print the %s of each number, exactly.\n",
                cmd, cmd);
    }
    fprintf(f, "With - (or no arguments and input that is not a terminal), one a line from standard\n"
               "input, each sent as it is read. A request that fails is named on stderr and leaves\n"
               "an empty line on stdout, so the answers stay in line with the inputs.\n"
               "  -u, --udp        one UDP datagram per request instead of a TCP connection\n"
               "  --json           one JSON array on stdout: {\"request\", \"answer\"} or\n"
               "                   {\"request\", \"error\"} for each request\n%s"
               "exit status: 0 answered, 1 the server answered an error, 2 bad usage or a bad\n"
               "             line of input, 3 could not connect or no answer in time\n",
            opts_common_help);
}

/* Parse the command line of ask or an alias; prefix (or 0) goes before each argument.
 * Returns the exit status. */
static int run(int argc, char **argv, char prefix)
{
    struct opts_conn c;
    struct opts_parser p;
    struct printer pr = { 0, OPTS_EXIT_OK, 0 };
    char err[512];
    const char *val;
    int udp = 0, id, status = -1;
    size_t n = 0;
    char **args = calloc((size_t)argc + 1, sizeof(*args));

    if (args == NULL || opts_conn_init(&c, err, sizeof(err)) < 0) {
        fprintf(stderr, "arcade: %s\n", args == NULL ? "out of memory" : err);
        free(args);
        return OPTS_EXIT_USAGE;
    }
    opts_init(&p, ask_specs, argc, argv, 1);
    while (status < 0 && (id = opts_next(&p, &val, err, sizeof(err))) != -1) {
        struct ask_req r;
        if (id == OPTS_HELP) {
            ask_usage(stdout, argv[0]);
            status = OPTS_EXIT_OK;
        } else if (id == ASK_UDP) {
            udp = 1;
        } else if (id == ASK_JSON) {
            pr.json = 1;
        } else if (id == 0 && strcmp(val, "-") == 0) {
            args[n++] = (char *)val;
        } else if (id == 0 && req_make(&r, prefix, val, strlen(val)) == 0) {
            /* An argument that cannot be sent is a mistake on the command line: nothing is sent. */
            snprintf(err, sizeof(err), "%s", r.bad);
            status = r.bad[0] != '\0' ? OPTS_EXIT_USAGE : -1;
            args[n++] = (char *)val;
            req_free(&r);
        } else if (id < 0 || id == 0 || opts_conn_apply(&c, id, val, err, sizeof(err)) < 0) {
            status = OPTS_EXIT_USAGE;
        }
    }
    if (status < 0 && n == 0 && !isatty(STDIN_FILENO)) {
        args[n++] = "-";
    }
    if (status < 0 && n == 0) {
        snprintf(err, sizeof(err), "nothing to ask");
        status = OPTS_EXIT_USAGE;
    }
    if (status == OPTS_EXIT_USAGE) {
        fprintf(stderr, "arcade %s: %s\n", argv[0], err);
        ask_usage(stderr, argv[0]);
    }
    if (status < 0) {
        struct ask_source src = { .prefix = prefix, .args = args, .nargs = n, .in_fd = STDIN_FILENO };
        int rc = ask_stream(&c, udp, &src, print_answer, &pr, err, sizeof(err));
        status = pr.status;
        if (rc < 0) {
            fprintf(stderr, "arcade: %s\n", err);
            status = OPTS_EXIT_NET;
        } else if (pr.shown == 0) {
            fprintf(stderr, "arcade %s: nothing to ask: the input held no request\n", argv[0]);
            status = OPTS_EXIT_USAGE;
        }
        if (pr.json) {
            fputs(pr.shown == 0 ? "[]\n" : "\n]\n", stdout);
        }
    }
    free(args);
    return status;
}

int ask_main(int argc, char **argv)
{
    return run(argc, argv, 0);
}

int ask_alias_main(int argc, char **argv)
{
    static const struct {
        const char *name;
        char op;
    } aliases[] = { { "square", 'a' }, { "cube", 'b' }, { "fourth", 'c' } };

    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        if (strcmp(argv[0], aliases[i].name) == 0) {
            return run(argc, argv, aliases[i].op);
        }
    }
    fprintf(stderr, "arcade: unknown alias %s\n", argv[0]);
    return OPTS_EXIT_USAGE;
}
