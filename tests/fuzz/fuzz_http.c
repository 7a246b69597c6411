/*
 * libFuzzer target: the HTTP request reader (server/request.c over
 * http-parser). Reading the input whole and byte by byte (as split reads
 * deliver it) must give the same requests with the same kept fields, refused
 * at the same point; every refusal is a status the server answers, and nothing
 * kept is over its bound.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

#define LOG_MAX 65536

/* What the server would act on, one request after another, as text. */
static size_t read_all(const uint8_t *data, size_t size, size_t step, char *log)
{
    static struct request rq;
    size_t len = 0, pos = 0;
    request_init(&rq);
    while (pos < size) {
        size_t n = size - pos < step ? size - pos : step, used;
        enum request_state st = request_parse(&rq, (const char *)data + pos, n, &used);
        if (used > n) {
            abort();
        }
        pos += used;
        if (st == REQUEST_MORE) {
            if (used != n) {
                abort();
            }
            continue;
        }
        if (rq.url_len > REQUEST_URL_MAX || strlen(rq.url) != rq.url_len) {
            abort();
        }
        if (st == REQUEST_BAD || rq.status != 0) {
            if (rq.status != 400 && rq.status != 405 && rq.status != 413 && rq.status != 414 && rq.status != 431) {
                abort();
            }
            /* Which limit a refused request meets first may depend on where the reads end (a
             * field over its bound in one read, a bad byte past the bound in the next): that it
             * is refused may not. */
            len += (size_t)snprintf(log + len, LOG_MAX - len, "refused\n");
            return len;     /* the server closes */
        }
        len += (size_t)snprintf(log + len, LOG_MAX - len, "%d %s", rq.parser.method, rq.url);
        for (int f = RQ_OTHER + 1; f < RQ_FIELDS; f++) {
            const char *v = request_value(&rq, f);
            if (strlen(v) > REQUEST_VALUE_MAX) {
                abort();
            }
            len += (size_t)snprintf(log + len, LOG_MAX - len, " %d:%d:%s", f, request_has(&rq, f), v);
        }
        len += (size_t)snprintf(log + len, LOG_MAX - len, " upgrade %d\n", rq.parser.upgrade);
        if (rq.parser.upgrade || len > LOG_MAX / 2) {
            return len;     /* a WebSocket from here on */
        }
        request_next(&rq);
    }
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char whole[LOG_MAX], split[LOG_MAX];
    size_t a = read_all(data, size, size > 0 ? size : 1, whole);
    size_t b = read_all(data, size, 1, split);
    if (a != b || memcmp(whole, split, a) != 0) {
        abort();
    }
    return 0;
}
