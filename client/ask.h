/*
 * ask: short-connection requests (`a12`, `t5`, `rbo 2`) sent to the server and
 * their answers read back in order, over one TCP connection or one UDP
 * datagram per request. Also the subcommands `ask`, `square`, `cube`,
 * `fourth`.
 */
#ifndef ARCADE_ASK_H
#define ARCADE_ASK_H

#include <stddef.h>

#include "opts.h"

/* The longest answer accepted (a hundred leaderboard rows fit many times over). */
#define ASK_ANSWER_MAX (1 << 20)

/* Is req fit to send: not empty or blank, no control bytes (a newline would make it two)?
 * 0, or -1 (err filled). */
int ask_check_request(const char *req, char *err, size_t errlen);

/* Does req's answer span several lines, ended by "."? (`t` and `r` requests) */
int ask_is_multiline(const char *req);

/* The length of the complete answer at the start of buf, newline(s) included, or 0 when more bytes
 * are needed. A multi-line answer is rows up to a "." line, or a single error line. */
size_t ask_answer_len(const char *buf, size_t len, int multiline);

/* Called with each request's whole answer, in request order. */
typedef void (*ask_fn)(void *ctx, size_t index, const char *answer, size_t len);

/* Send the n requests and hand every answer to fn. 0 when all were answered, or -1 when the
 * server could not be reached or did not answer in time (err filled, names host and port). */
int ask_exchange(const struct opts_conn *c, int udp, char *const *reqs, size_t n, ask_fn fn, void *ctx,
                 char *err, size_t errlen);

/* `arcade ask [--udp] REQUEST...`: exit 0, 1 (an error answer), 2 (usage), 3 (network). */
int ask_main(int argc, char **argv);

/* `arcade square|cube|fourth [--udp] NUMBER...`: argv[0] is the alias. */
int ask_alias_main(int argc, char **argv);

#endif
