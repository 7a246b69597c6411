/*
 * wsclient: wslay's frame layer over a blocking socket.
 */
#include "wsclient.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "harness.h"

static ssize_t send_cb(const uint8_t *data, size_t len, int flags, void *user)
{
    struct wsc *w = user;
    (void)flags;
    return harness_send(w->fd, data, len) == 0 ? (ssize_t)len : -1;
}

static ssize_t recv_cb(uint8_t *buf, size_t len, int flags, void *user)
{
    struct wsc *w = user;
    (void)flags;
    ssize_t n = recv(w->fd, buf, len, 0);
    return n > 0 ? n : -1;
}

static int genmask_cb(uint8_t *buf, size_t len, void *user)
{
    (void)user;
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)rand();
    }
    return 0;
}

static const struct wslay_frame_callbacks callbacks = { send_cb, recv_cb, genmask_cb };

int wsc_open(struct wsc *w, int port, const char *path, const char *extra, char *head, size_t cap)
{
    char req[1024];
    memset(w, 0, sizeof(*w));
    w->masked = 1;
    w->fd = harness_connect(port);
    if (w->fd < 0) {
        return -1;
    }
    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
             path, port, extra != NULL ? extra : "");
    if (harness_sends(w->fd, req) < 0) {
        return -1;
    }
    size_t len = 0;
    while (len + 1 < cap && (len < 4 || memcmp(head + len - 4, "\r\n\r\n", 4) != 0)) {
        if (recv(w->fd, head + len, 1, 0) != 1) {
            break;
        }
        len++;
    }
    head[len] = '\0';
    int status;
    if (sscanf(head, "HTTP/1.1 %d", &status) != 1) {
        return -1;
    }
    if (wslay_frame_context_init((wslay_frame_context_ptr *)&w->frames, &callbacks, w) != 0) {
        return -1;
    }
    return status;
}

void wsc_close(struct wsc *w)
{
    if (w->frames != NULL) {
        wslay_frame_context_free(w->frames);
    }
    if (w->fd >= 0) {
        close(w->fd);
    }
    w->frames = NULL;
    w->fd = -1;
}

int wsc_send(struct wsc *w, int opcode, int fin, const void *p, size_t n)
{
    return wsc_send_part(w, opcode, fin, n, p, n);
}

int wsc_send_part(struct wsc *w, int opcode, int fin, uint64_t len, const void *p, size_t n)
{
    struct wslay_frame_iocb io = {
        .fin = (uint8_t)fin, .opcode = (uint8_t)opcode, .mask = (uint8_t)w->masked,
        .payload_length = len, .data = p, .data_length = n,
    };
    return wslay_frame_send(w->frames, &io) == (ssize_t)n ? 0 : -1;
}

long wsc_recv(struct wsc *w, int *opcode, char *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        struct wslay_frame_iocb io;
        ssize_t r = wslay_frame_recv(w->frames, &io);
        if (r < 0) {
            return -1;
        }
        size_t keep = len + io.data_length < cap - 1 ? io.data_length : cap - 1 - len;
        memcpy(buf + len, io.data, keep);
        len += keep;
        /* A frame is whole when its last payload byte has come. */
        w->got += io.data_length;
        if (w->got >= io.payload_length) {
            w->got = 0;
            *opcode = io.opcode;
            buf[len] = '\0';
            return (long)len;
        }
    }
}
