/*
 * expect: the Check assertions end-to-end suites make over and over about a running arcaded, built
 * on the harness. Each one fails the current test with a message showing the bytes involved.
 * Expected results come from docs/PROTOCOL.md, never from the server's code.
 */
#ifndef ARCADE_EXPECT_H
#define ARCADE_EXPECT_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"

/* Start the server (harness_start arguments) or fail the test. */
#define START(h, ...)                                                                                       \
    ck_assert_msg(harness_start((h), __VA_ARGS__) == 0, "server did not start: '%s'", (h)->first)

/* The server of the current test, for suites that run one at a time, and its port as a command-line
 * argument (which a test may point elsewhere). */
extern struct harness srv;
extern char port_arg[16];
/* Start srv with harness_start's NULL-terminated arguments, or fail the test. */
#define start_server(...)                                                                                   \
    do {                                                                                                    \
        START(&srv, __VA_ARGS__);                                                                           \
        set_port_arg(srv.port);                                                                             \
    } while (0)
/* Start srv again on the same database (harness_restart arguments), or fail the test. */
#define restart(...)                                                                                        \
    do {                                                                                                    \
        ck_assert_msg(harness_restart(&srv, __VA_ARGS__) == 0, "server did not restart: '%s'", srv.first);  \
        set_port_arg(srv.port);                                                                             \
    } while (0)
/* port_arg from a port number. */
void set_port_arg(int port);
/* Stop srv and remove its directory. */
void stop_server(void);
/* Stop srv, which must exit 0, keeping its database to read or to restart on. */
void stop_keep(void);

/* Bytes as C would write them (\n, \xNN), for failure messages. The result lives in one of a few
 * rotating static buffers, so a message may show several. */
const char *show(const void *p, size_t n);

/* A connected TCP socket to the server on port (harness deadlines), or the test fails. */
int dial(int port);
/* The same from the loopback address source (NULL: any), with a receive buffer of rcvbuf bytes (0:
 * the default), set before the connect so the window stays small. */
int dial_from(int port, const char *source, int rcvbuf);
/* Send all of p, or the test fails. */
void put(int fd, const void *p, size_t n);
void send_str(int fd, const char *s);

/* The next n bytes on fd are exactly want; who (may be NULL) names the client in the message. */
void expect_bytes_as(int fd, const char *who, const void *want, size_t n);
void expect_bytes(int fd, const void *want, size_t n);
#define EXPECT(fd, lit) expect_bytes((fd), (lit), sizeof(lit) - 1)
/* The next line (with its '\n') is exactly want. */
void expect_line(int fd, const char *want);
/* The server closed: recv gives 0, not data and not the deadline. */
void expect_eof(int fd);
/* One request on a fresh short connection; its one-line answer is exactly want. */
void ask(int port, const char *request, const char *want);
/* GET path on a fresh connection to port: the status (0 when none came), the body into body. */
int http_get(int port, const char *path, char *body, size_t cap);

/* The result of move mine against theirs (1 scissors, 2 rock, 3 paper): 'x' draw, 'y' win, 'z'
 * loss, written out from the rules. */
char rules(int mine, int theirs);
/* A guest round: one move byte out, one bare result byte back; returns it. */
char guest_round(int fd, char move);
/* A named round against the bot: `M <their move> <result>`, checked against the rules; returns the result. */
char named_round(int fd, char move);
/* A round of a match between two named players: a's move, then b's; each gets `M <the other's move>
 * <its result>`, checked against the rules. */
void match_round(int a, const char *a_name, int a_move, int b, const char *b_name, int b_move);
/* `H <len> <name>`, answered `A <len> <name>`. */
void hello(int fd, const char *name);

/* Results a client received, by kind. */
struct tally {
    int wins, losses, draws;
};

/* Count one result byte ('y' win, 'z' loss, 'x' draw). */
void tally_add(struct tally *t, char result);

/* A small seeded generator (xorshift), so a run that failed can be run again byte for byte. */
void rng_seed(uint64_t seed);
uint32_t rng_next(void);

/* Seconds on the monotonic clock, for deadlines. */
double now_s(void);
/* Raise this process's open-file limit to its hard limit (suites that hold thousands of sockets). */
void raise_nofile(void);

/* A new empty directory, its path into dir, as XDG_CONFIG_HOME of this process and the arcade it runs:
 * no test reads or writes the secrets of the person running it, or those of another test. */
void fresh_config(char *dir, size_t cap);
/* The same as a checked fixture. */
void own_config(void);

/* The server's log (harness.log, its first line excepted) into buf, NUL-terminated and cut to cap; the
 * test fails if it cannot be read. Returns buf. */
char *read_log(const struct harness *h, char *buf, size_t cap);

/* One integer from the test database (a printf format); the query must give a row. */
long long sql(const struct harness *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Run argv without a shell (harness_run, no input); the test fails if it cannot be run. */
int run(char *const argv[], char *out, size_t outcap, char *err, size_t errcap);

#endif
