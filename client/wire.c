/*
 * wire: a table of opcodes and their shapes drives the decoder, so each
 * frame's layout is written once.
 */
#include "wire.h"

#include <string.h>

#include "rps.h"

enum shape {
    SHAPE_BARE,     /* the opcode alone */
    SHAPE_CODE,     /* opcode and one code byte */
    SHAPE_TEXT,     /* opcode, length byte, text */
};

static const struct {
    char op;
    enum wire_kind kind;
    enum shape shape;
    const char *codes;  /* the code bytes allowed (SHAPE_CODE) */
} ops[] = {
    { RPS_DRAW, WIRE_RESULT, SHAPE_BARE, NULL },
    { RPS_WIN, WIRE_RESULT, SHAPE_BARE, NULL },
    { RPS_LOSS, WIRE_RESULT, SHAPE_BARE, NULL },
    { RPS_OP_MOVE, WIRE_MOVE, SHAPE_CODE, "123" },
    { RPS_OP_ACCEPTED, WIRE_ACCEPTED, SHAPE_TEXT, NULL },
    { RPS_OP_REFUSED, WIRE_REFUSED, SHAPE_TEXT, NULL },
    { RPS_OP_ERROR, WIRE_ERROR, SHAPE_TEXT, NULL },
    { RPS_OP_WAITING, WIRE_WAITING, SHAPE_BARE, NULL },
    { RPS_OP_MATCHED, WIRE_MATCHED, SHAPE_TEXT, NULL },
    { RPS_OP_QUEUE_TIMEOUT, WIRE_QUEUE_TIMEOUT, SHAPE_BARE, NULL },
    { RPS_OP_ROUND_TIMEOUT, WIRE_ROUND_TIMEOUT, SHAPE_CODE, "yzv" },
    { RPS_OP_GONE, WIRE_GONE, SHAPE_BARE, NULL },
    { RPS_OP_MATCH_OVER, WIRE_OVER, SHAPE_CODE, "yzv" },
    { RPS_OP_LOBBY, WIRE_LOBBY, SHAPE_BARE, NULL },
};

static int decode_shape(int i, const unsigned char *p, size_t len, struct wire_frame *f)
{
    switch (ops[i].shape) {
    case SHAPE_BARE:
        f->code = p[0];
        return 1;
    case SHAPE_CODE:
        if (len < 2) {
            return 0;
        }
        if (p[1] == '\0' || strchr(ops[i].codes, p[1]) == NULL) {
            f->code = p[1];
            return -1;
        }
        f->code = ops[i].kind == WIRE_MOVE ? p[1] - '0' : p[1];
        return 2;
    case SHAPE_TEXT:
        if (len < 2 || len < 2 + (size_t)p[1]) {
            return 0;
        }
        if (p[1] == 0) {
            f->code = 0;
            return -1;
        }
        memcpy(f->text, p + 2, p[1]);
        f->text[p[1]] = '\0';
        return 2 + p[1];
    }
    return -1;
}

int wire_decode(const char *buf, size_t len, struct wire_frame *f)
{
    const unsigned char *p = (const unsigned char *)buf;

    if (len == 0) {
        return 0;
    }
    f->code = 0;
    f->text[0] = '\0';
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (ops[i].op == (char)p[0]) {
            f->kind = ops[i].kind;
            return decode_shape((int)i, p, len, f);
        }
    }
    f->code = p[0];
    return -1;
}

int wire_hello(const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    if (!rps_valid_name(name, n) || cap < n + 2) {
        return -1;
    }
    out[0] = RPS_OP_HELLO;
    out[1] = (char)n;
    memcpy(out + 2, name, n);
    return (int)(n + 2);
}
