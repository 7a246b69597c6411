/*
 * ask: every request goes out newline-terminated on one connection, then a
 * half-close says "no more"; answers are cut from the input as they become
 * complete and handed over in order. The first byte of a TCP connection
 * decides its kind on the server, so a first request that would open a game
 * (`1`, `P`, ...) is preceded by a harmless `d0` whose answer is dropped: the
 * server then answers the request itself (`eunknown op`).
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
#include "rps.h"

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

/* Input gathered from the socket until answers are complete. */
struct inbuf {
    char *p;
    size_t len, cap;
};

static int inbuf_room(struct inbuf *b, size_t want)
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

/* Everything the connection sends: an optional primer, then each request and "\n". */
static char *request_text(char *const *reqs, size_t n, int *primed, size_t *outlen)
{
    size_t total = sizeof(PRIMER);
    for (size_t i = 0; i < n; i++) {
        total += strlen(reqs[i]) + 1;
    }
    char *out = malloc(total);
    if (out == NULL) {
        return NULL;
    }
    size_t off = 0;
    *primed = n > 0 && rps_opens(first_op(reqs[0]));
    if (*primed) {
        memcpy(out, PRIMER, strlen(PRIMER));
        off = strlen(PRIMER);
    }
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(reqs[i]);
        memcpy(out + off, reqs[i], k);
        out[off + k] = '\n';
        off += k + 1;
    }
    *outlen = off;
    return out;
}

/* The state of one TCP exchange. */
struct tcp_ex {
    int fd;
    char *out;              /* all requests */
    size_t outlen, sent;
    struct inbuf in;
    int skip;               /* answers still to drop (the primer's) */
    size_t answered;
};

/* Hand over every complete answer in the input. */
static void take_answers(struct tcp_ex *x, char *const *reqs, size_t n, ask_fn fn, void *ctx)
{
    size_t off = 0;
    while (x->answered < n) {
        int multi = x->skip == 0 && ask_is_multiline(reqs[x->answered]);
        size_t k = ask_answer_len(x->in.p + off, x->in.len - off, multi);
        if (k == 0) {
            break;
        }
        if (x->skip > 0) {
            x->skip--;
        } else {
            fn(ctx, x->answered++, x->in.p + off, k);
        }
        off += k;
    }
    if (off > 0) {
        memmove(x->in.p, x->in.p + off, x->in.len - off);
        x->in.len -= off;
    }
}

/* One step of the exchange after poll said rc: 0 to go on, or -1 (err filled). */
static int tcp_step(struct tcp_ex *x, int rc, const char *label, char *err, size_t errlen)
{
    if ((rc & POLLOUT) && x->sent < x->outlen) {
        ssize_t w = send(x->fd, x->out + x->sent, x->outlen - x->sent, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            snprintf(err, errlen, "connection to %s failed: %s", label, strerror(errno));
            return -1;
        }
        x->sent += w > 0 ? (size_t)w : 0;
        if (x->sent == x->outlen) {
            shutdown(x->fd, SHUT_WR);
        }
    }
    if (!(rc & (POLLIN | POLLHUP | POLLERR))) {
        return 0;
    }
    if (inbuf_room(&x->in, 4096) < 0) {
        snprintf(err, errlen, "answer from %s too long", label);
        return -1;
    }
    ssize_t r = recv(x->fd, x->in.p + x->in.len, x->in.cap - x->in.len, 0);
    if (r == 0) {
        snprintf(err, errlen, "%s closed the connection before answering", label);
        return -1;
    }
    if (r < 0 && errno != EAGAIN && errno != EINTR) {
        snprintf(err, errlen, "connection to %s failed: %s", label, strerror(errno));
        return -1;
    }
    x->in.len += r > 0 ? (size_t)r : 0;
    return 0;
}

static int tcp_exchange(const struct opts_conn *c, char *const *reqs, size_t n, ask_fn fn, void *ctx,
                        char *err, size_t errlen)
{
    char label[300];
    struct tcp_ex x = { .fd = -1 };
    int rc = -1;

    dial_label(c->host, c->port, label, sizeof(label));
    x.out = request_text(reqs, n, &x.skip, &x.outlen);
    if (x.out == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    x.fd = dial_tcp(c->host, c->port, c->timeout, err, errlen);
    if (x.fd < 0) {
        goto out;
    }
    double deadline = dial_now() + c->timeout;
    while (x.answered < n) {
        int ready = dial_wait(x.fd, (short)(POLLIN | (x.sent < x.outlen ? POLLOUT : 0)), deadline);
        if (ready <= 0) {
            snprintf(err, errlen, "no answer from %s within %g s", label, c->timeout);
            goto out;
        }
        size_t had = x.in.len;
        if (tcp_step(&x, ready, label, err, errlen) < 0) {
            goto out;
        }
        if (x.in.len > had) {
            /* The timeout bounds silence, not the length of a long exchange. */
            deadline = dial_now() + c->timeout;
        }
        take_answers(&x, reqs, n, fn, ctx);
    }
    rc = 0;
out:
    if (x.fd >= 0) {
        close(x.fd);
    }
    free(x.out);
    free(x.in.p);
    return rc;
}

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

static int udp_exchange(const struct opts_conn *c, char *const *reqs, size_t n, ask_fn fn, void *ctx,
                        char *err, size_t errlen)
{
    char label[300];
    static char answer[65536];

    dial_label(c->host, c->port, label, sizeof(label));
    int fd = dial_udp(c->host, c->port, err, errlen);
    if (fd < 0) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        ssize_t r = udp_one(fd, reqs[i], answer, sizeof(answer), c->timeout, label, err, errlen);
        if (r < 0) {
            close(fd);
            return -1;
        }
        fn(ctx, i, answer, (size_t)r);
    }
    close(fd);
    return 0;
}

int ask_exchange(const struct opts_conn *c, int udp, char *const *reqs, size_t n, ask_fn fn, void *ctx,
                 char *err, size_t errlen)
{
    if (udp) {
        return udp_exchange(c, reqs, n, fn, ctx, err, errlen);
    }
    return tcp_exchange(c, reqs, n, fn, ctx, err, errlen);
}

/* Print one answer: the value of `d`, rows of `t`/`r` without the final ".", or the reason of `e`
 * on stderr (remembered for the exit status). */
static void print_answer(void *ctx, size_t index, const char *answer, size_t len)
{
    int *status = ctx;
    (void)index;
    while (len > 0 && (answer[len - 1] == '\n' || answer[len - 1] == '\r')) {
        len--;
    }
    if (len > 0 && answer[0] == 'e') {
        fprintf(stderr, "arcade: server: %.*s\n", (int)(len - 1), answer + 1);
        *status = OPTS_EXIT_SERVER;
        return;
    }
    if (len > 0 && answer[0] == 'd') {
        printf("%.*s\n", (int)(len - 1), answer + 1);
        return;
    }
    if (len >= 1 && answer[len - 1] == '.' && (len == 1 || answer[len - 2] == '\n')) {
        len -= 1;
        printf("%.*s", (int)len, answer);
        return;
    }
    fprintf(stderr, "arcade: unexpected answer from the server: %.*s\n", (int)len, answer);
    *status = OPTS_EXIT_SERVER;
}

enum { ASK_UDP = 1 };

static const struct opts_spec ask_specs[] = { { "udp", 'u', 0, ASK_UDP }, OPTS_COMMON };

static void ask_usage(FILE *f, const char *cmd)
{
    if (strcmp(cmd, "ask") == 0) {
        fprintf(f, "usage: arcade ask [--udp] [options] REQUEST...\n"
                   "Send requests (a12, b3, c1.5, d1e3, t5, \"rbo 2\") and print each answer on its line.\n");
    } else {
        fprintf(f, "usage: arcade %s [--udp] [options] NUMBER...\n"
                   "Print the %s of each number, exactly.\n",
                cmd, cmd);
    }
    fprintf(f, "  -u, --udp        one UDP datagram per request instead of a TCP connection\n%s"
               "exit status: 0 answered, 1 the server answered an error, 2 bad usage,\n"
               "             3 could not connect or no answer in time\n",
            opts_common_help);
}

/* The request text: the alias's op letter (or nothing) and the argument. */
static char *make_request(char prefix, const char *arg)
{
    size_t k = strlen(arg);
    char *r = malloc(k + 2);
    if (r == NULL) {
        return NULL;
    }
    size_t off = 0;
    if (prefix != 0) {
        r[off++] = prefix;
    }
    memcpy(r + off, arg, k + 1);
    return r;
}

/* Parse the command line of ask or an alias; prefix (or 0) goes before each argument.
 * Returns -1 to go on, or an exit status. */
static int run(int argc, char **argv, char prefix)
{
    struct opts_conn c;
    struct opts_parser p;
    char err[512];
    const char *val;
    int udp = 0, id;
    size_t n = 0;
    char **reqs = calloc((size_t)argc + 1, sizeof(*reqs));

    if (reqs == NULL || opts_conn_init(&c, err, sizeof(err)) < 0) {
        fprintf(stderr, "arcade: %s\n", reqs == NULL ? "out of memory" : err);
        free(reqs);
        return OPTS_EXIT_USAGE;
    }
    opts_init(&p, ask_specs, argc, argv, 1);
    int status = -1;
    while (status < 0 && (id = opts_next(&p, &val, err, sizeof(err))) != -1) {
        if (id == OPTS_HELP) {
            ask_usage(stdout, argv[0]);
            status = OPTS_EXIT_OK;
        } else if (id == ASK_UDP) {
            udp = 1;
        } else if (id == 0) {
            reqs[n] = make_request(prefix, val);
            snprintf(err, sizeof(err), "out of memory");
            status = reqs[n] == NULL || ask_check_request(reqs[n++], err, sizeof(err)) < 0 ? OPTS_EXIT_USAGE : -1;
        } else if (id < 0 || opts_conn_apply(&c, id, val, err, sizeof(err)) < 0) {
            status = OPTS_EXIT_USAGE;
        }
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
        status = OPTS_EXIT_OK;
        if (ask_exchange(&c, udp, reqs, n, print_answer, &status, err, sizeof(err)) < 0) {
            fprintf(stderr, "arcade: %s\n", err);
            status = OPTS_EXIT_NET;
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(reqs[i]);
    }
    free(reqs);
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
