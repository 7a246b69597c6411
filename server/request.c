/*
 * request: http-parser's callbacks gather the head of a request into struct
 * request and stop it at each limit; the parser is paused at the end of each
 * request, so that a connection answers one at a time.
 */
#include "request.h"

#include <string.h>
#include <strings.h>

static const char *const field_names[RQ_FIELDS] = {
    [RQ_HOST] = "host",
    [RQ_UPGRADE] = "upgrade",
    [RQ_CONNECTION] = "connection",
    [RQ_WS_KEY] = "sec-websocket-key",
    [RQ_WS_VERSION] = "sec-websocket-version",
    [RQ_ORIGIN] = "origin",
};

static struct request *of(http_parser *p)
{
    return p->data;
}

static int too_big(struct request *rq, size_t more, int status)
{
    rq->head += more;
    if (rq->head > REQUEST_HEAD_MAX) {
        rq->status = status;
        return 1;
    }
    return 0;
}

static int on_message_begin(http_parser *p)
{
    struct request *rq = of(p);
    rq->status = 0;
    rq->head = 0;
    rq->nfields = 0;
    rq->url_len = 0;
    rq->name_len = 0;
    rq->name_done = 0;
    rq->seen = 0;
    rq->url[0] = '\0';
    for (int f = 0; f < RQ_FIELDS; f++) {
        rq->value_len[f] = 0;
        rq->values[f][0] = '\0';   /* nothing of the last request is read as this one's */
    }
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct request *rq = of(p);
    if (rq->url_len + len > REQUEST_URL_MAX) {
        rq->status = 414;
        return -1;
    }
    if (too_big(rq, len, 431)) {
        return -1;
    }
    memcpy(rq->url + rq->url_len, at, len);
    rq->url_len += len;
    rq->url[rq->url_len] = '\0';
    return 0;
}

/* The name of a header field is whole: find which kept field it is. */
static void end_name(struct request *rq)
{
    rq->name[rq->name_len] = '\0';
    rq->field = RQ_OTHER;
    for (int f = RQ_OTHER + 1; f < RQ_FIELDS; f++) {
        if (strcasecmp(rq->name, field_names[f]) == 0) {
            rq->field = f;
        }
    }
    rq->name_done = 1;
    if (rq->field != RQ_OTHER && (rq->seen & 1u << rq->field) && rq->field != RQ_CONNECTION) {
        rq->status = 400;    /* a kept field twice: which one would count? */
    }
    rq->seen |= 1u << rq->field;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct request *rq = of(p);
    if (too_big(rq, len, 431)) {
        return -1;
    }
    if (rq->name_done) {     /* a new field begins */
        rq->name_len = 0;
        rq->name_done = 0;
        if (++rq->nfields > REQUEST_FIELDS_MAX) {
            rq->status = 431;
            return -1;
        }
    }
    size_t n = rq->name_len + len > REQUEST_NAME_MAX ? REQUEST_NAME_MAX - rq->name_len : len;
    memcpy(rq->name + rq->name_len, at, n);
    rq->name_len += n;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct request *rq = of(p);
    if (too_big(rq, len, 431)) {
        return -1;
    }
    size_t *vl = &rq->value_len[rq->field];
    if (!rq->name_done) {
        /* A value may come in pieces: only its first piece begins a field. */
        end_name(rq);
        vl = &rq->value_len[rq->field];
        if (*vl > 0 && rq->field == RQ_CONNECTION && *vl < REQUEST_VALUE_MAX) {
            rq->values[rq->field][(*vl)++] = ',';     /* repeated: one list */
        }
    }
    if (rq->field == RQ_OTHER) {
        return 0;
    }
    size_t n = *vl + len > REQUEST_VALUE_MAX ? REQUEST_VALUE_MAX - *vl : len;
    memcpy(rq->values[rq->field] + *vl, at, n);
    *vl += n;
    rq->values[rq->field][*vl] = '\0';
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct request *rq = of(p);
    if (rq->name_len > 0 && !rq->name_done) {
        end_name(rq);
    }
    if (p->method != HTTP_GET && p->method != HTTP_HEAD) {
        rq->status = 405;
    } else if ((p->flags & F_CHUNKED) || ((p->flags & F_CONTENTLENGTH) && p->content_length > 0)) {
        rq->status = 413;
    }
    if (rq->status != 0) {
        http_parser_pause(p, 1);    /* answered at once, and the connection closed: no body is read */
    }
    return 0;
}

static int on_message_complete(http_parser *p)
{
    http_parser_pause(p, 1);        /* one request at a time */
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_message_complete = on_message_complete,
};

void request_init(struct request *rq)
{
    memset(rq, 0, sizeof(*rq));
    http_parser_init(&rq->parser, HTTP_REQUEST);
    rq->parser.data = rq;
}

enum request_state request_parse(struct request *rq, const char *buf, size_t len, size_t *used)
{
    *used = http_parser_execute(&rq->parser, &settings, buf, len);
    enum http_errno err = HTTP_PARSER_ERRNO(&rq->parser);
    if (err == HPE_PAUSED) {
        return REQUEST_DONE;
    }
    if (err != HPE_OK) {
        if (rq->status == 0) {
            rq->status = 400;
        }
        return REQUEST_BAD;
    }
    return REQUEST_MORE;
}

void request_next(struct request *rq)
{
    http_parser_pause(&rq->parser, 0);
}

int request_has(const struct request *rq, enum request_field f)
{
    return (rq->seen & 1u << f) != 0;
}

const char *request_value(const struct request *rq, enum request_field f)
{
    return rq->values[f];
}
