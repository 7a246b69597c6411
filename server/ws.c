/*
 * ws: WebSocket frames through wslay's frame layer (wslay_frame_recv and
 * wslay_frame_send), which parses and unmasks headers and payloads; what is
 * checked here is what RFC 6455 asks of a server beyond that.
 */
#include "ws.h"

#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>

struct ws {
    wslay_frame_context_ptr frames;
    uint8_t in_opcode;          /* the data messages the client may send */
    uint8_t out_opcode;         /* the data messages sent */

    /* decoding */
    const char *raw;            /* bytes not yet given to wslay */
    size_t raw_len;
    uint64_t frame_left;        /* payload bytes of the current frame still to come */
    uint8_t frame_opcode;       /* and its opcode */
    uint8_t frame_fin;
    uint8_t msg_opcode;         /* a data message in fragments: its opcode; 0 when none */
    uint64_t msg_len;           /* its payload so far */
    uint8_t ctrl[WS_CONTROL_MAX]; /* a control frame's payload, gathered */
    size_t ctrl_len;

    /* encoding */
    char *sink;                 /* where wslay's output goes */
    size_t sink_len;
    int copy_payload;           /* copy the payload to sink too (else the header alone) */

    /* control frames due */
    uint8_t pong[WS_CONTROL_MAX];
    size_t pong_len;
    unsigned pong_due : 1;
    unsigned close_due : 1;
    unsigned close_sent : 1;
    unsigned closing : 1;       /* close received or protocol broken: nothing more is decoded */
    uint16_t close_code;
    char close_reason[WS_CONTROL_MAX - 2 + 1];
};

static ssize_t recv_cb(uint8_t *buf, size_t len, int flags, void *user)
{
    struct ws *ws = user;
    (void)flags;
    size_t n = len < ws->raw_len ? len : ws->raw_len;
    memcpy(buf, ws->raw, n);
    ws->raw += n;
    ws->raw_len -= n;
    return (ssize_t)n;     /* 0: wslay wants more than there is */
}

static ssize_t send_cb(const uint8_t *data, size_t len, int flags, void *user)
{
    struct ws *ws = user;
    (void)flags;
    if (ws->sink_len == 0 || ws->copy_payload) {
        memcpy(ws->sink + ws->sink_len, data, len);
        ws->sink_len += len;
    }
    return (ssize_t)len;
}

static int genmask_cb(uint8_t *buf, size_t len, void *user)
{
    (void)buf;
    (void)len;
    (void)user;
    return -1;      /* a server does not mask */
}

static const struct wslay_frame_callbacks callbacks = { send_cb, recv_cb, genmask_cb };

static uint8_t opcode_of(enum ws_type t)
{
    return t == WS_TEXT ? WSLAY_TEXT_FRAME : WSLAY_BINARY_FRAME;
}

struct ws *ws_new(enum ws_type in, enum ws_type out)
{
    struct ws *ws = calloc(1, sizeof(*ws));
    if (ws == NULL) {
        return NULL;
    }
    if (wslay_frame_context_init(&ws->frames, &callbacks, ws) != 0) {
        free(ws);
        return NULL;
    }
    ws->in_opcode = opcode_of(in);
    ws->out_opcode = opcode_of(out);
    return ws;
}

void ws_free(struct ws *ws)
{
    if (ws != NULL) {
        wslay_frame_context_free(ws->frames);
        free(ws);
    }
}

void ws_close(struct ws *ws, uint16_t code, const char *reason)
{
    if (ws->close_due || ws->close_sent) {
        return;
    }
    ws->close_due = 1;
    ws->close_code = code;
    size_t n = strlen(reason);
    if (n >= sizeof(ws->close_reason)) {
        n = sizeof(ws->close_reason) - 1;
    }
    memcpy(ws->close_reason, reason, n);
    ws->close_reason[n] = '\0';
}

/* The client broke the protocol: close with code, decode nothing more. */
static void fail(struct ws *ws, uint16_t code, const char *reason)
{
    ws_close(ws, code, reason);
    ws->closing = 1;
}

static int valid_close_code(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);
}

/* A whole control frame has arrived. */
static void control(struct ws *ws)
{
    if (ws->frame_opcode == WSLAY_PING) {
        memcpy(ws->pong, ws->ctrl, ws->ctrl_len);
        ws->pong_len = ws->ctrl_len;
        ws->pong_due = 1;
    } else if (ws->frame_opcode == WSLAY_CONNECTION_CLOSE) {
        unsigned code = ws->ctrl_len >= 2 ? (unsigned)ws->ctrl[0] << 8 | ws->ctrl[1] : WS_CLOSE_NORMAL;
        if (ws->ctrl_len == 1 || !valid_close_code(code)) {
            fail(ws, WS_CLOSE_PROTOCOL, "bad close code");
        } else {
            fail(ws, (uint16_t)code, "");   /* the answer echoes the client's code */
        }
    }
}

/* A new frame starts: is it one this client may send? */
static int frame_start(struct ws *ws, const struct wslay_frame_iocb *io)
{
    ws->frame_opcode = io->opcode;
    ws->frame_fin = io->fin;
    ws->frame_left = io->payload_length;
    ws->ctrl_len = 0;
    if (!io->mask) {
        fail(ws, WS_CLOSE_PROTOCOL, "unmasked frame");
    } else if (io->rsv != 0) {
        fail(ws, WS_CLOSE_PROTOCOL, "reserved bits set");
    } else if (wslay_is_ctrl_frame(io->opcode)) {
        if (io->opcode != WSLAY_PING && io->opcode != WSLAY_PONG && io->opcode != WSLAY_CONNECTION_CLOSE) {
            fail(ws, WS_CLOSE_PROTOCOL, "unknown opcode");
        }
    } else if (io->opcode == WSLAY_CONTINUATION_FRAME) {
        if (ws->msg_opcode == 0) {
            fail(ws, WS_CLOSE_PROTOCOL, "continuation without a message");
        }
    } else if (io->opcode != WSLAY_TEXT_FRAME && io->opcode != WSLAY_BINARY_FRAME) {
        fail(ws, WS_CLOSE_PROTOCOL, "unknown opcode");
    } else if (ws->msg_opcode != 0) {
        fail(ws, WS_CLOSE_PROTOCOL, "new message inside a fragmented one");
    } else if (io->opcode != ws->in_opcode) {
        fail(ws, WS_CLOSE_UNSUPPORTED, ws->in_opcode == WSLAY_TEXT_FRAME ? "text messages only" : "binary messages only");
    } else {
        ws->msg_opcode = io->opcode;
        ws->msg_len = 0;
    }
    if (!ws->closing && !wslay_is_ctrl_frame(io->opcode)) {
        ws->msg_len += io->payload_length;
        if (ws->msg_len > WS_MESSAGE_MAX) {
            fail(ws, WS_CLOSE_TOO_BIG, "message too big");
        }
    }
    return !ws->closing;
}

size_t ws_decode(struct ws *ws, const char *raw, size_t n, char *out)
{
    size_t len = 0;
    ws->raw = raw;
    ws->raw_len = n;
    while (!ws->closing) {
        struct wslay_frame_iocb io;
        int first = ws->frame_left == 0;
        ssize_t r = wslay_frame_recv(ws->frames, &io);
        if (r == WSLAY_ERR_WANT_READ) {
            break;
        }
        if (r < 0) {
            fail(ws, WS_CLOSE_PROTOCOL, "bad frame");
            break;
        }
        if (first && !frame_start(ws, &io)) {
            break;
        }
        ws->frame_left -= io.data_length;
        if (wslay_is_ctrl_frame(ws->frame_opcode)) {
            memcpy(ws->ctrl + ws->ctrl_len, io.data, io.data_length);
            ws->ctrl_len += io.data_length;
            if (ws->frame_left == 0) {
                control(ws);
            }
            continue;
        }
        /* Payload only ever comes from bytes already given to wslay, so out may be raw. */
        memcpy(out + len, io.data, io.data_length);
        len += io.data_length;
        if (ws->frame_left == 0 && ws->frame_fin) {
            ws->msg_opcode = 0;
        }
    }
    ws->raw = NULL;
    ws->raw_len = 0;
    return len;
}

/* One frame through wslay into out: its header, and its payload when copy is set. */
static size_t frame(struct ws *ws, uint8_t opcode, const void *payload, size_t len, int copy, char *out)
{
    struct wslay_frame_iocb io = {
        .fin = 1, .opcode = opcode, .payload_length = len, .data = payload, .data_length = len,
    };
    ws->sink = out;
    ws->sink_len = 0;
    ws->copy_payload = copy;
    wslay_frame_send(ws->frames, &io);
    ws->sink = NULL;
    return ws->sink_len;
}

size_t ws_header(struct ws *ws, size_t len, char *hdr)
{
    /* wslay hands the payload to send_cb without copying it here: it is already in place. */
    static const char unused;
    return frame(ws, ws->out_opcode, len > 0 ? &unused : NULL, len, 0, hdr);
}

size_t ws_controls(struct ws *ws, char *out)
{
    size_t n = 0;
    if (ws->close_sent) {
        return 0;
    }
    if (ws->pong_due && !ws->close_due) {
        n += frame(ws, WSLAY_PONG, ws->pong, ws->pong_len, 1, out);
    }
    ws->pong_due = 0;
    if (ws->close_due) {
        uint8_t body[2 + sizeof(ws->close_reason)];
        size_t reason = strlen(ws->close_reason);
        body[0] = (uint8_t)(ws->close_code >> 8);
        body[1] = (uint8_t)ws->close_code;
        memcpy(body + 2, ws->close_reason, reason);
        n += frame(ws, WSLAY_CONNECTION_CLOSE, body, 2 + reason, 1, out + n);
        ws->close_due = 0;
        ws->close_sent = 1;
    }
    return n;
}

int ws_closing(const struct ws *ws)
{
    return ws->closing;
}

int ws_close_sent(const struct ws *ws)
{
    return ws->close_sent;
}
