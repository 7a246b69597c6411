/*
 * account: one short exchange on a long connection, blocking with the
 * --timeout deadline for each answer, as the one-shot commands are:
 *
 *   C: I <len> NAME <len> SECRET   S: A <len> NAME   (and J, D, ... when a match is on: skipped)
 *   C: X                           S: K <len> SECRET   rotate: the new secret is kept at once
 *   C: U                           S: U                drop: the kept secret is removed
 *
 * A new secret that cannot be kept would leave the name registered to
 * nobody, so rotate then gives the name up instead (U), as play does.
 */
#include "account.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dial.h"
#include "opts.h"
#include "report.h"
#include "secrets.h"
#include "wire.h"

#define REASON_NOT_REGISTERED "not registered"

enum account_action { ACCOUNT_ROTATE, ACCOUNT_DROP };

/* A parsed command line and its connection. */
struct account {
    struct opts_conn conn;
    enum account_action action;
    char name[RPS_NAME_MAX + 1];
    char label[300];                    /* host:port for messages */
    char path[SECRETS_PATH_MAX];        /* the name's secret file */
    int fd;
    char in[1024];                      /* received, not yet decoded */
    size_t inlen;
};

static const struct opts_spec account_specs[] = { OPTS_COMMON };

static void account_usage(FILE *f)
{
    fprintf(f,
            "usage: arcade account rotate NAME [options]\n"
            "       arcade account drop NAME [options]\n"
            "Manage a name that arcade play --name registered on this server; its secret is kept\n"
            "in $XDG_CONFIG_HOME/arcade/ (~/.config/arcade/).\n"
            "  rotate           replace the secret: the old one stops working at once, so copy\n"
            "                   the new file to any other machine that plays NAME\n"
            "  drop             give NAME up: the server forgets its secret and anyone may play\n"
            "                   or register it; its history stays\n"
            "Both log in as NAME, which ends a game NAME is playing on another connection.\n%s"
            "exit status: 0 done, 1 refused (or no secret kept for NAME here), 2 bad usage,\n"
            "             3 could not connect or no answer in time\n",
            opts_common_help);
}

/* Parse argv into a. Returns -1 to go on, or an exit status. */
static int parse(struct account *a, int argc, char **argv)
{
    struct opts_parser op;
    char err[512] = "";
    const char *val, *action = NULL, *name = NULL;
    int id, status = -1;

    memset(a, 0, sizeof(*a));
    a->fd = -1;
    if (opts_conn_init(&a->conn, err, sizeof(err)) < 0) {
        status = OPTS_EXIT_USAGE;
    }
    opts_init(&op, account_specs, argc, argv, 1);
    while (status < 0 && (id = opts_next(&op, &val, err, sizeof(err))) != -1) {
        if (id == OPTS_HELP) {
            account_usage(stdout);
            return OPTS_EXIT_OK;
        }
        if (id == 0 && action == NULL) {
            action = val;
        } else if (id == 0 && name == NULL) {
            name = val;
        } else if (id == 0) {
            snprintf(err, sizeof(err), "too many arguments");
            status = OPTS_EXIT_USAGE;
        } else if (id < 0 || opts_conn_apply(&a->conn, id, val, err, sizeof(err)) < 0) {
            status = OPTS_EXIT_USAGE;
        }
    }
    if (status < 0 && (action == NULL || (strcmp(action, "rotate") != 0 && strcmp(action, "drop") != 0))) {
        snprintf(err, sizeof(err), action == NULL ? "rotate or drop?" : "unknown action '%s': rotate or drop",
                 action);
        status = OPTS_EXIT_USAGE;
    }
    if (status < 0 && (name == NULL || !rps_valid_name(name, strlen(name)))) {
        snprintf(err, sizeof(err), name == NULL ? "which name?" : "bad name: 1 to 32 of A-Z a-z 0-9 _ -");
        status = OPTS_EXIT_USAGE;
    }
    if (status >= 0) {
        fprintf(stderr, "arcade account: %s\n", err);
        account_usage(stderr);
        return status;
    }
    a->action = strcmp(action, "rotate") == 0 ? ACCOUNT_ROTATE : ACCOUNT_DROP;
    snprintf(a->name, sizeof(a->name), "%s", name);
    dial_label(a->conn.host, a->conn.port, a->label, sizeof(a->label));
    return -1;
}

/* Send frame bytes, within the timeout. 0, or -1 (err filled). */
static int put(struct account *a, const char *p, size_t n, char *err, size_t errlen)
{
    if (dial_send_all(a->fd, p, n, dial_now() + a->conn.timeout) < 0) {
        snprintf(err, errlen, "cannot send to %s: %s", a->label, strerror(errno));
        return -1;
    }
    return 0;
}

/* Read frames until one of kind want, or a refusal or an error, within the timeout. Frames of a
 * match the login landed in are skipped. 0 with f filled, or -1 (err filled: the connection). */
static int await(struct account *a, enum wire_kind want, struct wire_frame *f, char *err, size_t errlen)
{
    double deadline = dial_now() + a->conn.timeout;
    for (;;) {
        int k = wire_decode(a->in, a->inlen, f);
        if (k > 0) {
            a->inlen -= (size_t)k;
            memmove(a->in, a->in + k, a->inlen);
            if (f->kind == want || f->kind == WIRE_REFUSED || f->kind == WIRE_ERROR) {
                return 0;
            }
            continue;
        }
        if (k < 0) {
            snprintf(err, errlen, "unexpected byte 0x%02x from %s", (unsigned)f->code & 0xff, a->label);
            return -1;
        }
        int rc = dial_wait(a->fd, POLLIN, deadline);
        if (rc <= 0) {
            snprintf(err, errlen, "no answer from %s", a->label);
            return -1;
        }
        ssize_t r = recv(a->fd, a->in + a->inlen, sizeof(a->in) - a->inlen, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
            snprintf(err, errlen, "connection to %s lost (%s)", a->label, r == 0 ? "closed by the server"
                                                                                   : strerror(errno));
            return -1;
        }
        a->inlen += r > 0 ? (size_t)r : 0;
    }
}

/* Send one frame and wait for the answer of kind want. OPTS_EXIT_OK when it came, else an exit
 * status with the reason printed, except a refusal, which is left in f for the caller. */
static int exchange(struct account *a, const char *p, size_t n, enum wire_kind want, struct wire_frame *f)
{
    char err[SECRETS_ERR_MAX];
    if (put(a, p, n, err, sizeof(err)) < 0 || await(a, want, f, err, sizeof(err)) < 0) {
        fprintf(stderr, "arcade: %s\n", err);
        return OPTS_EXIT_NET;
    }
    if (f->kind == WIRE_ERROR) {
        fprintf(stderr, "arcade: server: %s\n", f->text);
        return OPTS_EXIT_SERVER;
    }
    return OPTS_EXIT_OK;
}

/* Forget the kept secret and say so; status on success. */
static int forget(struct account *a, const char *said, int status)
{
    char err[SECRETS_ERR_MAX];
    if (secrets_drop(a->conn.host, a->conn.port, a->name, err, sizeof(err)) < 0) {
        fprintf(stderr, "arcade: %s\n", err);
        return OPTS_EXIT_SERVER;
    }
    fprintf(status == OPTS_EXIT_OK ? stdout : stderr, "%s%s\n", status == OPTS_EXIT_OK ? "" : "arcade: ", said);
    return status;
}

/* The server knows no account by this name: the kept secret is stale. Dropping it was the point
 * of drop; rotate has nothing to rotate. */
static int stale(struct account *a)
{
    char said[SECRETS_ERR_MAX];
    if (a->action == ACCOUNT_DROP) {
        snprintf(said, sizeof(said), "%s is unclaimed on %s already (removed the stale secret)", a->name, a->label);
        return forget(a, said, OPTS_EXIT_OK);
    }
    snprintf(said, sizeof(said),
             "%s has no account '%s' (a new database, or the name was given up): removed the stale secret; "
             "arcade play --name %s registers it again",
             a->label, a->name, a->name);
    return forget(a, said, OPTS_EXIT_SERVER);
}

/* Rotate: keep the new secret, or, when it cannot be kept, give the name up rather than lose it. */
static int rotate(struct account *a, struct wire_frame *f)
{
    char err[SECRETS_ERR_MAX], frame = WIRE_OP_NEW_SECRET;
    int status = exchange(a, &frame, 1, WIRE_SECRET, f);
    if (status != OPTS_EXIT_OK || f->kind != WIRE_SECRET) {
        return status != OPTS_EXIT_OK ? status : OPTS_EXIT_SERVER;
    }
    if (secrets_save(a->conn.host, a->conn.port, a->name, f->text, err, sizeof(err)) == 0) {
        printf("new secret for %s on %s kept in %s\n", a->name, a->label, a->path);
        return OPTS_EXIT_OK;
    }
    fprintf(stderr, "arcade: %s; giving '%s' up so that it is not lost\n", err, a->name);
    frame = WIRE_OP_RELEASE;
    status = exchange(a, &frame, 1, WIRE_RELEASED, f);
    if (status == OPTS_EXIT_OK && f->kind == WIRE_RELEASED) {
        char said[SECRETS_ERR_MAX];
        snprintf(said, sizeof(said), "%s is unclaimed now on %s: arcade play --name %s registers it again", a->name,
                 a->label, a->name);
        return forget(a, said, OPTS_EXIT_SERVER);
    }
    return OPTS_EXIT_SERVER;
}

static int drop(struct account *a, struct wire_frame *f)
{
    char frame = WIRE_OP_RELEASE, said[SECRETS_ERR_MAX];
    int status = exchange(a, &frame, 1, WIRE_RELEASED, f);
    if (status != OPTS_EXIT_OK || f->kind != WIRE_RELEASED) {
        return status != OPTS_EXIT_OK ? status : OPTS_EXIT_SERVER;
    }
    snprintf(said, sizeof(said), "%s is unclaimed now on %s: anyone may play or register it", a->name, a->label);
    return forget(a, said, OPTS_EXIT_OK);
}

/* Log in with the kept secret, then rotate or drop. */
static int run(struct account *a)
{
    char err[SECRETS_ERR_MAX], secret[WIRE_SECRET_LEN + 1], login[WIRE_LOGIN_MAX], said[SECRETS_ERR_MAX];
    struct wire_frame f;
    const struct opts_conn *c = &a->conn;

    int found = secrets_path(c->host, c->port, a->name, a->path, sizeof(a->path), err, sizeof(err));
    if (found == 0) {
        found = secrets_load(c->host, c->port, a->name, secret, err, sizeof(err));
    }
    if (found <= 0) {
        if (found == 0) {
            snprintf(err, sizeof(err), "no secret kept for '%s' on %s: %s does not exist", a->name, a->label,
                     a->path);
        }
        fprintf(stderr, "arcade: %s\n", err);
        return OPTS_EXIT_SERVER;
    }
    a->fd = dial_tcp(c->host, c->port, c->timeout, err, sizeof(err));
    if (a->fd < 0) {
        fprintf(stderr, "arcade: %s\n", err);
        return OPTS_EXIT_NET;
    }
    int n = wire_login(a->name, secret, login, sizeof(login));
    int status = exchange(a, login, (size_t)n, WIRE_ACCEPTED, &f);
    if (status == OPTS_EXIT_OK && f.kind == WIRE_REFUSED && strcmp(f.text, REASON_NOT_REGISTERED) == 0) {
        return stale(a);
    }
    if (status == OPTS_EXIT_OK && f.kind == WIRE_REFUSED) {
        report_refusal(f.text, a->name, a->label, a->path, said, sizeof(said));
        fprintf(stderr, "arcade: %s\n", said);
        return OPTS_EXIT_SERVER;
    }
    if (status != OPTS_EXIT_OK) {
        return status;
    }
    return a->action == ACCOUNT_ROTATE ? rotate(a, &f) : drop(a, &f);
}

int account_main(int argc, char **argv)
{
    struct account a;
    int status = parse(&a, argc, argv);
    if (status >= 0) {
        return status;
    }
    status = run(&a);
    if (a.fd >= 0) {
        close(a.fd);
    }
    return status;
}
