/*
 * opts: the command line of bin/arcade, shared by every subcommand.
 *
 * Options are long (`--port 5000`, `--port=5000`) with a few one-letter
 * forms (`-k 3`, `-h`); they may come before or after the positional
 * arguments, `--` ends them, and an argument that looks like a negative
 * number (`-2`, `-.5`) is positional, so `arcade square -2` works.
 */
#ifndef ARCADE_OPTS_H
#define ARCADE_OPTS_H

#include <stddef.h>

#define OPTS_DEFAULT_HOST "127.0.0.1"
#define OPTS_DEFAULT_PORT 5000
#define OPTS_DEFAULT_TIMEOUT 5.0
#define OPTS_HOST_MAX 255

/* Exit statuses shared by the subcommands. */
enum opts_exit {
    OPTS_EXIT_OK = 0,
    OPTS_EXIT_SERVER = 1,   /* the server answered with an error */
    OPTS_EXIT_USAGE = 2,    /* bad command line or bad input */
    OPTS_EXIT_NET = 3,      /* could not connect, or timed out */
};

/* Where the server is: defaults, then ARCADE_HOST / ARCADE_PORT, then options. */
struct opts_conn {
    char host[OPTS_HOST_MAX + 1];
    int port;
    double timeout;         /* seconds for a connect or an answer */
};

/* One option a subcommand accepts; id 0 is reserved for positionals. */
struct opts_spec {
    const char *name;       /* long name without "--" */
    char letter;            /* one-letter form, or 0 */
    int takes_value;
    int id;
};

/* Ids of the options every subcommand accepts (opts_common_specs). */
enum opts_common_id {
    OPTS_HOST = 1000,
    OPTS_PORT,
    OPTS_TIMEOUT,
    OPTS_HELP,
};

/* Walks argv[first..argc). */
struct opts_parser {
    const struct opts_spec *specs;  /* terminated by a NULL name */
    int argc;
    char **argv;
    int next;                       /* index of the next argument */
    int only_positional;            /* "--" seen */
};

void opts_init(struct opts_parser *p, const struct opts_spec *specs, int argc, char **argv, int first);

/* The next argument: an option's id with its value (or NULL) in *val, 0 for a positional in *val,
 * -1 at the end, -2 on an unknown option or a missing value (err filled). */
int opts_next(struct opts_parser *p, const char **val, char *err, size_t errlen);

/* Fill c from the defaults and the environment. 0, or -1 on a bad ARCADE_PORT (err filled). */
int opts_conn_init(struct opts_conn *c, char *err, size_t errlen);

/* Apply a common option (OPTS_HOST, OPTS_PORT, OPTS_TIMEOUT) to c. 0, or -1 (err filled). */
int opts_conn_apply(struct opts_conn *c, int id, const char *val, char *err, size_t errlen);

/* Parse a port (1..65535). */
int opts_port(const char *s, int *port, char *err, size_t errlen);
/* Parse a positive number of seconds (fractions allowed, at most a day). */
int opts_seconds(const char *s, double *secs, char *err, size_t errlen);
/* Parse a whole number in [lo, hi]. */
int opts_int(const char *s, long lo, long hi, long *out, char *err, size_t errlen);

/* The options every subcommand accepts: --host, --port, --timeout, --help / -h.
 * A subcommand's table lists its own, then these (copied with OPTS_COMMON). */
#define OPTS_COMMON                                                                      \
    { "host", 0, 1, OPTS_HOST }, { "port", 0, 1, OPTS_PORT }, { "timeout", 0, 1, OPTS_TIMEOUT },     \
    { "help", 'h', 0, OPTS_HELP }, { NULL, 0, 0, 0 }

/* The usage lines for the common options, for every --help. */
extern const char opts_common_help[];

#endif
