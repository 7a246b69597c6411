/*
 * httpget: one request at a time on a kept connection. An answer is read in two steps: the head
 * up to its blank line (bounded by HTTPGET_HEAD_MAX), then the body's Content-Length bytes, some
 * of which may have come with the head. Nothing more is sent before an answer is complete, so no
 * byte of the next answer can arrive early.
 */
#include "httpget.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dial.h"

#define DIGITS_MAX 18               /* below 10^18: no overflow of a uint64_t */

void httpget_open(struct httpget *h, const char *host, int port, double timeout)
{
    memset(h, 0, sizeof(*h));
    h->fd = -1;
    h->host = host;
    h->port = port;
    h->timeout = timeout;
    dial_label(host, port, h->host_header, sizeof(h->host_header));
}

void httpget_close(struct httpget *h)
{
    if (h->fd >= 0) {
        close(h->fd);
    }
    h->fd = -1;
    h->used = 0;
}

/* Receive into buf[*len..cap) before the deadline: bytes read, 0 at the end of the stream, or -1
 * (errno set; ETIMEDOUT on the deadline). */
static ssize_t recv_some(int fd, char *buf, size_t *len, size_t cap, double deadline)
{
    for (;;) {
        ssize_t n = recv(fd, buf + *len, cap - *len, 0);
        if (n >= 0) {
            *len += (size_t)n;
            return n;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            return -1;
        }
        int rc = dial_wait(fd, POLLIN, deadline);
        if (rc <= 0) {
            errno = rc == 0 ? ETIMEDOUT : errno;
            return -1;
        }
    }
}

/* The value of the header name in head (lines ending "\r\n"), as a whole number: 0, or -1. */
static int header_size(const char *head, const char *name, size_t *out)
{
    size_t nlen = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line != NULL; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, name, nlen) != 0 || line[nlen] != ':') {
            continue;
        }
        const char *p = line + nlen + 1;
        p += strspn(p, " \t");
        size_t v = 0, digits = 0;
        for (; *p >= '0' && *p <= '9' && digits < DIGITS_MAX; p++, digits++) {
            v = v * 10 + (size_t)(*p - '0');
        }
        if (digits == 0 || (*p != '\r' && *p != ' ' && *p != '\t')) {
            return -1;
        }
        *out = v;
        return 0;
    }
    return -1;
}

/* The first bytes of an answer that is not HTTP, printable, into body. */
static void not_http(const char *got, size_t n, char *body, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap && i < 32; i++) {
        body[k++] = got[i] >= ' ' && got[i] < 127 ? got[i] : '.';
    }
    body[k] = '\0';
}

static int fail(char *err, size_t errlen, const char *path, const char *why)
{
    snprintf(err, errlen, "GET %s: %s", path, why);
    return HTTPGET_ERROR;
}

/* Read one answer. Returns an httpget_rc, or 2 when the connection ended before its first byte. */
static int read_answer(struct httpget *h, const char *path, int *status, char *body, size_t cap, char *err,
                       size_t errlen)
{
    char head[HTTPGET_HEAD_MAX + 1];
    size_t len = 0;
    char *end = NULL;
    double deadline = dial_now() + h->timeout;
    while (end == NULL) {
        ssize_t n = recv_some(h->fd, head, &len, HTTPGET_HEAD_MAX, deadline);
        if (n == 0 && len == 0) {
            return 2;
        }
        if (n < 0) {
            return fail(err, errlen, path, strerror(errno));
        }
        head[len] = '\0';
        if (strncmp(head, "HTTP/", len < 5 ? len : 5) != 0) {
            not_http(head, len, body, cap);
            return HTTPGET_NOT_HTTP;
        }
        if (n == 0) {
            return fail(err, errlen, path, "the server closed the connection");
        }
        end = strstr(head, "\r\n\r\n");
        if (end == NULL && len == HTTPGET_HEAD_MAX) {
            return fail(err, errlen, path, "the answer's head is too long");
        }
    }
    size_t body_len;
    end[2] = '\0';      /* the head ends with its last header's "\r\n" */
    if (sscanf(head, "HTTP/1.%*1[01] %3d", status) != 1 || header_size(head, "Content-Length", &body_len) < 0) {
        return fail(err, errlen, path, "an HTTP answer without a status or a Content-Length");
    }
    if (body_len >= cap) {
        return fail(err, errlen, path, "the answer's body is too long");
    }
    size_t have = len - (size_t)(end + 4 - head);
    if (have > body_len) {
        return fail(err, errlen, path, "more bytes than the answer's Content-Length");
    }
    memcpy(body, end + 4, have);
    while (have < body_len) {
        ssize_t n = recv_some(h->fd, body, &have, body_len, deadline);
        if (n <= 0) {
            return fail(err, errlen, path, n == 0 ? "the server closed the connection" : strerror(errno));
        }
    }
    body[body_len] = '\0';
    return HTTPGET_OK;
}

enum httpget_rc httpget(struct httpget *h, const char *path, int *status, char *body, size_t cap, char *err,
                        size_t errlen)
{
    char request[HTTPGET_HOST_MAX + 256];
    int n = snprintf(request, sizeof(request), "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, h->host_header);
    if (n < 0 || (size_t)n >= sizeof(request)) {
        return fail(err, errlen, path, "path too long");
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        int reused = h->used;
        if (h->fd < 0 && (h->fd = dial_tcp(h->host, h->port, h->timeout, err, errlen)) < 0) {
            return HTTPGET_ERROR;
        }
        h->used = 1;
        if (dial_send_all(h->fd, request, (size_t)n, dial_now() + h->timeout) < 0) {
            httpget_close(h);
            if (reused) {
                continue;
            }
            return fail(err, errlen, path, strerror(errno));
        }
        int rc = read_answer(h, path, status, body, cap, err, errlen);
        if (rc == 2 && reused) {
            httpget_close(h);   /* the server let the kept connection go: once more on a new one */
            continue;
        }
        if (rc == 2) {
            return fail(err, errlen, path, "the server closed the connection without an answer");
        }
        if (rc != HTTPGET_OK) {
            httpget_close(h);
        }
        return (enum httpget_rc)rc;
    }
    return fail(err, errlen, path, "the server closed the connection without an answer");
}

int httpget_json_uint(const char *json, const char *key, uint64_t *out)
{
    char quoted[64];
    int n = snprintf(quoted, sizeof(quoted), "\"%s\":", key);
    if (n < 0 || (size_t)n >= sizeof(quoted)) {
        return -1;
    }
    const char *p = strstr(json, quoted);
    if (p == NULL) {
        return -1;
    }
    p += n;
    uint64_t v = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (++digits > DIGITS_MAX) {
            return -1;
        }
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (digits == 0 || (*p != ',' && *p != '}')) {
        return -1;
    }
    *out = v;
    return 0;
}
