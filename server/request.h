/*
 * request: the head of one HTTP request (its line and header fields), parsed
 * by http-parser within arcade's bounds. Only the fields the server acts on
 * are kept; the others are counted against the limits and dropped. Bytes may
 * come in any pieces: the parser keeps its place between them.
 */
#ifndef ARCADE_REQUEST_H
#define ARCADE_REQUEST_H

#include <http_parser.h>
#include <stddef.h>

#define REQUEST_HEAD_MAX 8192   /* bytes of a request's line and headers */
#define REQUEST_URL_MAX 2048    /* bytes of its target */
#define REQUEST_FIELDS_MAX 64   /* header fields in one request */
#define REQUEST_NAME_MAX 32     /* the longest header name kept */
#define REQUEST_VALUE_MAX 256   /* the longest header value kept (longer ones are cut) */

/* The header fields that are kept. */
enum request_field { RQ_OTHER, RQ_HOST, RQ_UPGRADE, RQ_CONNECTION, RQ_WS_KEY, RQ_WS_VERSION, RQ_ORIGIN, RQ_FIELDS };

struct request {
    http_parser parser;
    int status;                 /* why the request is refused (400, 405, 413, 414, 431); 0: it is not */
    size_t head;                /* bytes of the line and headers so far */
    unsigned nfields;
    char url[REQUEST_URL_MAX + 1];
    size_t url_len;
    char name[REQUEST_NAME_MAX + 1]; /* the header name being read */
    size_t name_len;
    int name_done;              /* its value has begun */
    enum request_field field;   /* which kept field the value belongs to */
    char values[RQ_FIELDS][REQUEST_VALUE_MAX + 1];
    size_t value_len[RQ_FIELDS];
    unsigned seen;              /* kept fields present (bit per field) */
};

enum request_state {
    REQUEST_MORE,   /* all bytes taken: the request goes on in the next ones */
    REQUEST_DONE,   /* a whole request is read (or refused: status); request_next before the next */
    REQUEST_BAD,    /* malformed or over a limit (status says which): the connection is to close */
};

void request_init(struct request *rq);
/* Parse buf[0, len); *used gets the bytes taken. */
enum request_state request_parse(struct request *rq, const char *buf, size_t len, size_t *used);
/* Go on to the next request on the connection. */
void request_next(struct request *rq);

/* Was field f present; its value ("" when absent). */
int request_has(const struct request *rq, enum request_field f);
const char *request_value(const struct request *rq, enum request_field f);

#endif
