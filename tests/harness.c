/*
 * harness: the real server under test, started on --port 0 with a temporary
 * database. The server's first log line carries the bound port; the rest of its
 * stderr is copied to a log file by a small drainer process so the server never
 * blocks on a full pipe.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <postgresql/libpq-fe.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pgtest.h"
#include "suite.h"

#define HARNESS_MAX_ARGS 32
#define HARNESS_WAIT_MS 10000

static const char *env_or(const char *var, const char *fallback)
{
    const char *v = getenv(var);
    return (v != NULL && v[0] != '\0') ? v : fallback;
}

const char *harness_arcaded(void)
{
    return env_or("ARCADED", "bin/arcaded");
}

const char *harness_arcade(void)
{
    return env_or("ARCADE", "bin/arcade");
}

const char *harness_null(void)
{
    return env_or("ARCADE_NULL", "bin/arcade-null");
}

int harness_engine_pg(void)
{
    const char *e = env_or("ARCADE_TEST_ENGINE", "sqlite");
    return strcmp(e, "pg") == 0 || strcmp(e, "postgresql") == 0;
}

void harness_note_skip(const char *test, const char *note)
{
    size_t n = strlen(test);
    /* Check's START_TEST(name) defines name_fn. */
    if (n > 3 && strcmp(test + n - 3, "_fn") == 0) {
        n -= 3;
    }
    printf("%.*s: %s\n", (int)n, test, note);
    fflush(stdout);
}

/* h->db: a new PostgreSQL database, noted so that it is dropped even if the test fails first. */
static int make_pg_db(struct harness *h)
{
    if (pgtest_uri() == NULL) {
        snprintf(h->first, sizeof(h->first), "ARCADE_TEST_ENGINE=pg, but ARCADE_TEST_PG is not set");
        return -1;
    }
    if (pgtest_create(h->db, sizeof(h->db)) < 0) {
        snprintf(h->first, sizeof(h->first), "no PostgreSQL database could be made at ARCADE_TEST_PG (see stderr)");
        return -1;
    }
    if (suite_note_db(h->db, pgtest_drop) < 0) {
        pgtest_drop(h->db);
        snprintf(h->first, sizeof(h->first), "the database could not be noted for dropping");
        return -1;
    }
    h->made_db = 1;
    return 0;
}

/* Read one line from fd within the deadline; returns its length or -1. */
static int read_first_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;

    while (n + 1 < cap) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, HARNESS_WAIT_MS) <= 0) {
            return -1;
        }
        ssize_t r = read(fd, buf + n, 1);
        if (r <= 0) {
            return -1;
        }
        if (buf[n] == '\n') {
            break;
        }
        n++;
    }
    buf[n] = '\0';
    return (int)n;
}

static pid_t start_drainer(int from, const char *path)
{
    pid_t pid = fork();
    if (pid != 0) {
        return pid;
    }
    int to = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    char buf[4096];
    ssize_t r;
    while ((r = read(from, buf, sizeof(buf))) > 0) {
        if (to >= 0 && write(to, buf, (size_t)r) < 0) {
            break;
        }
    }
    _exit(0);
}

/* Start the server argv (NULL-terminated), whose first line on stderr names its port. */
static int spawn_argv(struct harness *h, const char *const *argv)
{
    int pfd[2];
    if (pipe(pfd) < 0) {
        return -1;
    }
    h->pid = fork();
    if (h->pid < 0) {
        return -1;
    }
    if (h->pid == 0) {
        dup2(pfd[1], 2);
        close(pfd[0]);
        close(pfd[1]);
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    suite_child(h->pid);
    close(pfd[1]);
    int ok = read_first_line(pfd[0], h->first, sizeof(h->first));
    h->drainer = start_drainer(pfd[0], h->log);
    close(pfd[0]);
    if (ok < 0) {
        return -1;
    }
    /* "listening on ADDR:PORT ..." or "[ADDR]:PORT": any other first line (an error that names
     * another address, a database server's, say) is a failed start. */
    const char *at = strstr(h->first, "listening on ");
    if (at == NULL) {
        return -1;
    }
    at += strlen("listening on ");
    const char *end = at + strcspn(at, " ");
    const char *colon = NULL;
    for (const char *p = at; p < end; p++) {
        colon = *p == ':' ? p : colon;
    }
    h->port = colon != NULL ? atoi(colon + 1) : 0;
    return h->port > 0 ? 0 : -1;
}

static int spawn(struct harness *h, va_list ap)
{
    const char *argv[HARNESS_MAX_ARGS + 8];
    int argc = 0;
    argv[argc++] = harness_arcaded();
    argv[argc++] = "--port";
    argv[argc++] = "0";
    argv[argc++] = "--db";
    argv[argc++] = h->db;
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && argc < HARNESS_MAX_ARGS) {
        argv[argc++] = a;
    }
    argv[argc] = NULL;
    return spawn_argv(h, argv);
}

int harness_start(struct harness *h, ...)
{
    memset(h, 0, sizeof(*h));
    if (suite_mkdtemp(h->dir, sizeof(h->dir), "test") < 0) {
        return -1;
    }
    snprintf(h->log, sizeof(h->log), "%s/arcaded.log", h->dir);
    if (!harness_engine_pg()) {
        snprintf(h->db, sizeof(h->db), "%s/arcade.db", h->dir);
    } else if (make_pg_db(h) < 0) {
        return -1;
    }
    va_list ap;
    va_start(ap, h);
    int rc = spawn(h, ap);
    va_end(ap);
    return rc;
}

int harness_start_null(struct harness *h)
{
    const char *argv[] = { harness_null(), "--port", "0", NULL };
    memset(h, 0, sizeof(*h));
    if (suite_mkdtemp(h->dir, sizeof(h->dir), "null") < 0) {
        return -1;
    }
    snprintf(h->log, sizeof(h->log), "%s/arcade-null.log", h->dir);
    return spawn_argv(h, argv);
}

int harness_restart(struct harness *h, ...)
{
    va_list ap;
    va_start(ap, h);
    int rc = spawn(h, ap);
    va_end(ap);
    return rc;
}

int harness_wait(struct harness *h)
{
    int status;
    int rc = -1;

    if (h->pid <= 0) {
        return -1;
    }
    if (waitpid(h->pid, &status, 0) == h->pid) {
        rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    suite_forget_child(h->pid);
    h->pid = 0;
    if (h->drainer > 0) {
        waitpid(h->drainer, NULL, 0);
        h->drainer = 0;
    }
    return rc;
}

int harness_stop(struct harness *h)
{
    if (h->pid <= 0) {
        return -1;
    }
    kill(h->pid, SIGTERM);
    return harness_wait(h);
}

void harness_cleanup(struct harness *h)
{
    if (h->pid > 0) {
        harness_stop(h);
    }
    if (h->made_db) {
        pgtest_drop(h->db);
        suite_forget_db(h->db);
        h->made_db = 0;
    }
    if (h->dir[0] != '\0') {
        suite_rmtree(h->dir);
        h->dir[0] = '\0';
    }
}

static void set_timeout(int fd)
{
    struct timeval tv = { .tv_sec = HARNESS_WAIT_MS / 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int harness_connect(int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    set_timeout(fd);
    return fd;
}

int harness_udp(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        set_timeout(fd);
    }
    return fd;
}

int harness_send(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int harness_sends(int fd, const char *s)
{
    return harness_send(fd, s, strlen(s));
}

ssize_t harness_recv_n(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = recv(fd, (char *)buf + got, len - got, 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        got += (size_t)r;
    }
    return (ssize_t)got;
}

ssize_t harness_recv_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = recv(fd, buf + n, 1, 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            buf[n] = '\0';
            return -1;
        }
        if (r == 0) {
            break;
        }
        if (buf[n++] == '\n') {
            break;
        }
    }
    buf[n] = '\0';
    return (ssize_t)n;
}

ssize_t harness_recv_all(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        n += (size_t)r;
    }
    buf[n] = '\0';
    return (ssize_t)n;
}

int harness_ask(int port, const char *request, char *answer, size_t cap)
{
    int fd = harness_connect(port);
    if (fd < 0) {
        return -1;
    }
    int rc = -1;
    if (harness_sends(fd, request) == 0 && harness_recv_line(fd, answer, cap) > 0) {
        rc = 0;
    }
    close(fd);
    return rc;
}

/* Collect a child's stdout and stderr until both close, feeding stdin as it goes. */
static void pump(int in, const char *input, int out, char *obuf, size_t ocap, int err, char *ebuf,
                 size_t ecap)
{
    size_t ilen = input != NULL ? strlen(input) : 0, ioff = 0, on = 0, en = 0;
    struct pollfd p[3] = { { .fd = out, .events = POLLIN }, { .fd = err, .events = POLLIN },
                           { .fd = ilen > 0 ? in : -1, .events = POLLOUT } };
    if (ilen == 0) {
        close(in);
    }
    while (p[0].fd >= 0 || p[1].fd >= 0) {
        if (poll(p, 3, 30000) <= 0) {
            break;
        }
        if (p[2].fd >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write(in, input + ioff, ilen - ioff);
            ioff += w > 0 ? (size_t)w : 0;
            if (w <= 0 || ioff == ilen) {
                close(in);
                p[2].fd = -1;
            }
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                continue;
            }
            char *b = i == 0 ? obuf : ebuf;
            size_t *n = i == 0 ? &on : &en;
            size_t cap = i == 0 ? ocap : ecap;
            char sink[512];
            ssize_t r = *n + 1 < cap ? read(p[i].fd, b + *n, cap - 1 - *n) : read(p[i].fd, sink, sizeof(sink));
            if (r <= 0) {
                close(p[i].fd);
                p[i].fd = -1;
            } else if (*n + 1 < cap) {
                *n += (size_t)r;
            }
        }
    }
    if (p[2].fd >= 0) {
        close(in);
    }
    obuf[on] = '\0';
    ebuf[en] = '\0';
}

int harness_run(char *const argv[], const char *input, char *out, size_t outcap, char *err, size_t errcap)
{
    int pin[2], pout[2], perr[2];
    if (pipe(pin) < 0 || pipe(pout) < 0 || pipe(perr) < 0) {
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        dup2(pin[0], 0);
        dup2(pout[1], 1);
        dup2(perr[1], 2);
        close(pin[0]); close(pin[1]); close(pout[0]); close(pout[1]); close(perr[0]); close(perr[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pin[0]);
    close(pout[1]);
    close(perr[1]);
    signal(SIGPIPE, SIG_IGN);
    pump(pin[1], input, pout[0], out, outcap, perr[0], err, errcap);
    int status;
    if (waitpid(pid, &status, 0) != pid) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static long long pg_sql_int(const char *uri, const char *sql)
{
    const char *keys[] = { "dbname", "connect_timeout", "options", NULL };
    const char *values[] = { uri, "10", "-c default_transaction_read_only=on", NULL };
    PGconn *c = PQconnectdbParams(keys, values, 1);
    long long v = -1;

    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "harness: %s", PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "harness: %s: %s", sql, PQerrorMessage(c));
    } else if (PQntuples(r) > 0 && PQnfields(r) > 0) {
        const char *s = PQgetvalue(r, 0, 0);
        /* What sqlite3_column_int64 makes of the same value. */
        v = PQgetisnull(r, 0, 0) ? 0 : strcmp(s, "t") == 0 ? 1 : strcmp(s, "f") == 0 ? 0 : strtoll(s, NULL, 10);
    }
    PQclear(r);
    PQfinish(c);
    return v;
}

long long harness_sql_int(const char *db, const char *sql)
{
    if (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0) {
        return pg_sql_int(db, sql);
    }
    sqlite3 *h;
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(h);
        return -1;
    }
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            v = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return v;
}
