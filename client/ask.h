/*
 * ask: short-connection requests (`a12`, `t5`, `rbo 2`) sent to the server and
 * their answers read back in order, over one TCP connection or one UDP
 * datagram per request. Requests come from the command line and, where it
 * says `-`, from standard input, one a line, sent as they are read. Also the
 * subcommands `ask`, `square`, `cube`, `fourth`.
 */
#ifndef ARCADE_ASK_H
#define ARCADE_ASK_H

#include <stddef.h>

#include "opts.h"

/* The longest answer accepted (a hundred leaderboard rows fit many times over). */
#define ASK_ANSWER_MAX (1 << 20)
/* The longest request line read from standard input (the server's limit is 1024). */
#define ASK_LINE_MAX 4096
/* Requests read ahead of their answers, at most: past it, standard input waits. */
#define ASK_AHEAD_MAX 1024

/* Is req fit to send: not empty or blank, no control bytes (a newline would make it two)?
 * 0, or -1 (err filled). */
int ask_check_request(const char *req, char *err, size_t errlen);

/* Does req's answer span several lines, ended by "."? (`t` and `r` requests) */
int ask_is_multiline(const char *req);

/* The length of the complete answer at the start of buf, newline(s) included, or 0 when more bytes
 * are needed. A multi-line answer is rows up to a "." line, or a single error line. */
size_t ask_answer_len(const char *buf, size_t len, int multiline);

/* One request, and what the person gave for it. */
struct ask_req {
    char *text;             /* what is sent, without the newline: "a12" */
    char *input;            /* the argument or line it came from ("12" for `square 12`), or "line N"
                             * for a line of standard input that cannot be shown */
    char bad[96];           /* why it was not sent (checked here), or "" */
};

/* Called with each request's whole answer, in request order; answer is NULL for a request that
 * was not sent (req->bad says why). */
typedef void (*ask_fn)(void *ctx, const struct ask_req *req, const char *answer, size_t len);

/* Where requests come from: each argument with prefix (an op letter, or 0) before it, and at an
 * argument "-", the lines of in_fd. */
struct ask_source {
    char prefix;
    char *const *args;
    size_t nargs;
    int in_fd;
};

/* Send every request of src and hand each answer to fn, in order, as answers come (a request of
 * standard input goes out as soon as its line is read). 0 when all were answered, or -1 when the
 * server could not be reached or did not answer in time (err filled, names host and port). */
int ask_stream(const struct opts_conn *c, int udp, const struct ask_source *src, ask_fn fn, void *ctx, char *err,
               size_t errlen);

/* The same for n fixed requests. */
int ask_exchange(const struct opts_conn *c, int udp, char *const *reqs, size_t n, ask_fn fn, void *ctx,
                 char *err, size_t errlen);

/* `arcade ask [--udp] [--json] REQUEST...|-`: exit 0, 1 (an error answer), 2 (usage, or a bad line
 * of input), 3 (network). */
int ask_main(int argc, char **argv);

/* `arcade square|cube|fourth [--udp] [--json] NUMBER...|-`: argv[0] is the alias. */
int ask_alias_main(int argc, char **argv);

#endif
