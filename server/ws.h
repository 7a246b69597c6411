/*
 * ws: the WebSocket framing (RFC 6455) of a connection, over wslay's frame
 * layer. A WebSocket here is a byte stream in frames: the payload of the
 * client's data messages is handed to the connection's protocol as if it had
 * come straight from the socket, and what the protocol writes is sent as data
 * messages, one per flush. The protocol never sees a frame: the long
 * connection's game is the same code over TCP and over a WebSocket.
 *
 * Control frames are answered here: a ping gets its pong, a close gets its
 * close. A client that breaks the protocol (an unmasked frame, a reserved bit,
 * a data message of the wrong type, a message over its size) gets a close
 * frame with the code that says why, and the connection drains.
 */
#ifndef ARCADE_WS_H
#define ARCADE_WS_H

#include <stddef.h>
#include <stdint.h>

#define WS_MESSAGE_MAX 65536   /* bytes of one message from a client */
#define WS_HEADER_MAX 14       /* the longest frame header */
#define WS_CONTROL_MAX 125     /* the longest control payload */
/* Room for the control frames that may be due at once: a pong and a close. */
#define WS_CONTROLS_MAX (2 * (WS_HEADER_MAX + WS_CONTROL_MAX))

/* Close codes (RFC 6455 section 7.4.1). */
#define WS_CLOSE_NORMAL 1000
#define WS_CLOSE_GOING_AWAY 1001
#define WS_CLOSE_PROTOCOL 1002
#define WS_CLOSE_UNSUPPORTED 1003
#define WS_CLOSE_TOO_BIG 1009

/* The type of a data message. */
enum ws_type { WS_BINARY, WS_TEXT };

struct ws;

/* Framing for one connection: data messages from the client must be of type `in`, and what is
 * sent goes as messages of type `out`. NULL if memory ran out. */
struct ws *ws_new(enum ws_type in, enum ws_type out);
void ws_free(struct ws *ws);

/* Decode n bytes from the client: the payload of its data messages is written to out, which may be
 * raw itself (the payload is never longer than the frames it came in). Returns the payload's length.
 * Control frames are dealt with: see ws_controls and ws_closing. */
size_t ws_decode(struct ws *ws, const char *raw, size_t n, char *out);

/* The header of a data message of len bytes, written to hdr (WS_HEADER_MAX bytes); returns its
 * length. */
size_t ws_header(struct ws *ws, size_t len, char *hdr);

/* The control frames due (a pong, a close), written to out (WS_CONTROLS_MAX bytes); returns their
 * length, 0 if none. After a close, nothing more may be sent. */
size_t ws_controls(struct ws *ws, char *out);

/* Ask for a close frame with this code and reason to be sent, unless one was already. */
void ws_close(struct ws *ws, uint16_t code, const char *reason);

/* Is the connection to drain and close: the client sent a close, or broke the protocol? */
int ws_closing(const struct ws *ws);

/* Has the close frame been handed out by ws_controls? */
int ws_close_sent(const struct ws *ws);

#endif
