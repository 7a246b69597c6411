/*
 * wsclient: a WebSocket client for the suites, framing through wslay as a browser would (masked
 * frames), over a harness connection. Deadlines are the harness's (10 s receive timeout).
 */
#ifndef ARCADE_WSCLIENT_H
#define ARCADE_WSCLIENT_H

#include <stddef.h>
#include <stdint.h>

#define WSC_BINARY 2
#define WSC_TEXT 1
#define WSC_CLOSE 8
#define WSC_PING 9
#define WSC_PONG 10

struct wsc {
    int fd;
    void *frames;       /* wslay's frame context */
    int masked;         /* send masked frames (a client must) */
    uint64_t got;       /* payload bytes of the frame being received so far */
};

/* Send an upgrade request for path with the extra header lines (each ending in \r\n; may be NULL)
 * and read the answer's head into head (NUL-terminated). Returns the status code, or -1. The
 * connection is a WebSocket when it is 101. */
int wsc_open(struct wsc *w, int port, const char *path, const char *extra, char *head, size_t cap);
void wsc_close(struct wsc *w);
/* One frame: opcode, fin, payload. 0 or -1. */
int wsc_send(struct wsc *w, int opcode, int fin, const void *p, size_t n);
/* The beginning of a frame of len payload bytes: its header and the first n bytes, p. 0 or -1. */
int wsc_send_part(struct wsc *w, int opcode, int fin, uint64_t len, const void *p, size_t n);
/* The next whole frame: its opcode into *opcode and payload into buf (NUL-terminated; cap - 1
 * bytes at most kept). Returns the payload length, or -1 on EOF, timeout or a bad frame. */
long wsc_recv(struct wsc *w, int *opcode, char *buf, size_t cap);

#endif
