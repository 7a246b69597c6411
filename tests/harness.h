/*
 * harness: start the real bin/arcaded on --port 0 with a temporary database,
 * and talk to it over real sockets. Shared by every end-to-end suite. The
 * directory and the server are noted with suite.h, so a test that fails before
 * it stops its server leaves neither behind.
 *
 * Either engine: with ARCADE_TEST_ENGINE=pg (make test sets it for the second
 * run of the end-to-end suites) the database is a new PostgreSQL database made
 * beside $ARCADE_TEST_PG (tests/pgtest.h) and dropped by harness_cleanup, or
 * after the test if it failed first; otherwise a SQLite file in the directory.
 */
#ifndef ARCADE_HARNESS_H
#define ARCADE_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

struct harness {
    pid_t pid;          /* the server */
    pid_t drainer;      /* copies the server's stderr to log after the first line */
    int port;           /* the port the server bound (TCP and UDP) */
    char dir[64];       /* temporary directory, removed by harness_cleanup or after the test */
    char db[256];       /* the --db argument: a path inside dir, or a PostgreSQL URI */
    int made_db;        /* 1: db is a PostgreSQL database made for this harness, dropped with dir */
    char log[128];      /* the server's stderr, line 1 excepted */
    char first[256];    /* the server's first log line */
};

/* Path of a built binary: $ARCADED / $ARCADE / $ARCADE_NULL, else bin/arcaded / bin/arcade /
 * bin/arcade-null. */
const char *harness_arcaded(void);
const char *harness_arcade(void);
const char *harness_null(void);

/* 1 when the suites run against PostgreSQL (ARCADE_TEST_ENGINE=pg), 0 for SQLite. */
int harness_engine_pg(void);

/* First thing in a test that can only mean something on SQLite (a file locked by another process,
 * a full disk, the WAL's size, a second process on the same file): against PostgreSQL it passes at
 * once, saying so on stdout with why (a string literal). */
#define NEEDS_SQLITE(why)                                                                                   \
    do {                                                                                                    \
        if (harness_engine_pg()) {                                                                          \
            harness_note_skip(__func__, "needs SQLite: " why);                                              \
            return;                                                                                         \
        }                                                                                                   \
    } while (0)
/* The same the other way: a test of what only PostgreSQL has, passed at once on SQLite. */
#define NEEDS_POSTGRESQL(why)                                                                               \
    do {                                                                                                    \
        if (!harness_engine_pg()) {                                                                         \
            harness_note_skip(__func__, "needs PostgreSQL: " why);                                          \
            return;                                                                                         \
        }                                                                                                   \
    } while (0)
/* "<test>: <note>" on stdout, now. */
void harness_note_skip(const char *test, const char *note);

/* Start arcaded with --port 0 --db <tmp>/arcade.db (against PostgreSQL: --db <a new database's
 * URI>) plus the NULL-terminated extra arguments. Waits for its first log line (at most 10 s).
 * Returns 0 or -1 (the reason in first when the database could not be made). */
int harness_start(struct harness *h, ...);
/* Start bin/arcade-null (the bench's baseline) on --port 0 instead, with a temporary directory for
 * its log and no database; stopped and cleaned up as arcaded is. Returns 0 or -1. */
int harness_start_null(struct harness *h);
/* Same, keeping an existing directory and database, of either engine (restart after stop). */
int harness_restart(struct harness *h, ...);
/* SIGTERM, wait; returns the exit status (0..255), 128+signal, or -1. Keeps dir. */
int harness_stop(struct harness *h);
/* Wait for a server that was signalled (or is ending by itself); returns as harness_stop. */
int harness_wait(struct harness *h);
/* harness_stop if running, then remove the directory and drop a PostgreSQL database. */
void harness_cleanup(struct harness *h);

/* Connected TCP socket to 127.0.0.1:port with a 10 s receive timeout, or -1. */
int harness_connect(int port);
/* Unconnected UDP socket with a 10 s receive timeout, or -1. */
int harness_udp(void);
/* Write all of buf; 0 or -1. */
int harness_send(int fd, const void *buf, size_t len);
int harness_sends(int fd, const char *s);
/* Read exactly len bytes (receive timeout applies); returns bytes read (< len on EOF/timeout). */
ssize_t harness_recv_n(int fd, void *buf, size_t len);
/* Read one line up to '\n' (kept) into buf, NUL-terminated; returns its length, 0 on EOF, -1 on error. */
ssize_t harness_recv_line(int fd, char *buf, size_t cap);
/* Read until EOF; returns bytes read. */
ssize_t harness_recv_all(int fd, char *buf, size_t cap);
/* Send one request line to a fresh short connection and read the one-line answer. */
int harness_ask(int port, const char *request, char *answer, size_t cap);
/* Run a shell-free command (argv), feed it `input` on stdin, capture stdout and stderr
 * (each NUL-terminated, truncated to cap). Returns the exit status, or -1. */
int harness_run(char *const argv[], const char *input, char *out, size_t outcap, char *err, size_t errcap);
/* Run one SQL query against the test database (a SQLite path, or a postgresql:// URI), read-only:
 * the first column of the first row as an integer (NULL is 0; PostgreSQL's true and false are 1
 * and 0, as SQLite's), or -1 on error. */
long long harness_sql_int(const char *db, const char *sql);

#endif
