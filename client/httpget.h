/*
 * httpget: GET requests to the server's JSON API over one blocking keep-alive HTTP/1.1
 * connection, for a command that reads back what the server stored (bench pvp's check). It
 * understands what arcaded sends: a status line, headers with a Content-Length, a body. Every
 * wait is bounded by the timeout given at open.
 */
#ifndef ARCADE_HTTPGET_H
#define ARCADE_HTTPGET_H

#include <stddef.h>
#include <stdint.h>

#define HTTPGET_HEAD_MAX 8192       /* status line and headers */
#define HTTPGET_HOST_MAX 300

struct httpget {
    int fd;                         /* -1 while not connected */
    int used;                       /* fd has carried a request: the server may close it idle */
    const char *host;               /* to connect to */
    int port;
    double timeout;                 /* seconds: the connect, and each answer */
    char host_header[HTTPGET_HOST_MAX];
};

enum httpget_rc {
    HTTPGET_OK = 0,                 /* an HTTP answer: *status and body filled */
    HTTPGET_NOT_HTTP = 1,           /* the server answered something else: body holds its first bytes */
    HTTPGET_ERROR = -1,             /* no answer, or a broken one: err says why */
};

void httpget_open(struct httpget *h, const char *host, int port, double timeout);
void httpget_close(struct httpget *h);

/* GET path (it must need no escaping): the status into *status and the body, NUL-terminated, into
 * body (a body of cap bytes or more is an error). Connects on first use, and once more when a
 * kept connection was closed before it answered. */
enum httpget_rc httpget(struct httpget *h, const char *path, int *status, char *body, size_t cap, char *err,
                        size_t errlen);

/* The member key of a flat JSON object when it is a whole number from 0 to 10^18 - 1 (digits,
 * then ',' or '}'): 0 with it in *out, else -1. The first "key": in json is taken, so key must be
 * a name no string value of the object can hold (as for arcade's names and counts). */
int httpget_json_uint(const char *json, const char *key, uint64_t *out);

#endif
