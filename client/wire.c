/*
 * wire: a table of opcodes and their shapes drives the decoder, so each
 * frame's layout is written once. A text frame whose text has a form of its
 * own (a secret, a snapshot, a number of seconds) names a checker that reads
 * it; text that fails its form is bad input, like an unknown opcode.
 */
#include "wire.h"

#include <string.h>

enum shape {
    SHAPE_BARE,     /* the opcode alone */
    SHAPE_CODE,     /* opcode and one code byte */
    SHAPE_TEXT,     /* opcode, length byte, text */
};

typedef int (*text_fn)(struct wire_frame *f, size_t len);

static int check_secret(struct wire_frame *f, size_t len);
static int check_snapshot(struct wire_frame *f, size_t len);
static int check_seconds(struct wire_frame *f, size_t len);

static const struct {
    char op;
    enum wire_kind kind;
    enum shape shape;
    const char *codes;  /* the code bytes allowed (SHAPE_CODE) */
    text_fn check;      /* the form of the text (SHAPE_TEXT), or NULL for any */
} ops[] = {
    { RPS_DRAW, WIRE_RESULT, SHAPE_BARE, NULL, NULL },
    { RPS_WIN, WIRE_RESULT, SHAPE_BARE, NULL, NULL },
    { RPS_LOSS, WIRE_RESULT, SHAPE_BARE, NULL, NULL },
    { RPS_OP_MOVE, WIRE_MOVE, SHAPE_CODE, "123", NULL },
    { RPS_OP_ACCEPTED, WIRE_ACCEPTED, SHAPE_TEXT, NULL, NULL },
    { RPS_OP_REFUSED, WIRE_REFUSED, SHAPE_TEXT, NULL, NULL },
    { RPS_OP_ERROR, WIRE_ERROR, SHAPE_TEXT, NULL, NULL },
    { RPS_OP_WAITING, WIRE_WAITING, SHAPE_BARE, NULL, NULL },
    { RPS_OP_MATCHED, WIRE_MATCHED, SHAPE_TEXT, NULL, NULL },
    { RPS_OP_QUEUE_TIMEOUT, WIRE_QUEUE_TIMEOUT, SHAPE_BARE, NULL, NULL },
    { RPS_OP_ROUND_TIMEOUT, WIRE_ROUND_TIMEOUT, SHAPE_CODE, "yzv", NULL },
    { RPS_OP_GONE, WIRE_GONE, SHAPE_BARE, NULL, NULL },
    { RPS_OP_MATCH_OVER, WIRE_OVER, SHAPE_CODE, "yzv", NULL },
    { RPS_OP_LOBBY, WIRE_LOBBY, SHAPE_BARE, NULL, NULL },
    { WIRE_OP_SECRET, WIRE_SECRET, SHAPE_TEXT, NULL, check_secret },
    { WIRE_OP_REJOINED, WIRE_REJOINED, SHAPE_TEXT, NULL, check_snapshot },
    { WIRE_OP_DROPPED, WIRE_DROPPED, SHAPE_TEXT, NULL, check_seconds },
    { WIRE_OP_BACK, WIRE_BACK, SHAPE_BARE, NULL, NULL },
    { WIRE_OP_RELEASED, WIRE_RELEASED, SHAPE_BARE, NULL, NULL },
};

int wire_valid_secret(const char *s, size_t n)
{
    if (n != WIRE_SECRET_LEN) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

static int check_secret(struct wire_frame *f, size_t len)
{
    return wire_valid_secret(f->text, len) ? 0 : -1;
}

/* A decimal number of at most 9 digits at *p, then `end` (a space, or NUL for the last field). */
static int take_number(const char **p, int end, unsigned *out)
{
    const char *s = *p;
    unsigned v = 0;
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9' && n < 9) {
        v = v * 10 + (unsigned)(s[n] - '0');
        n++;
    }
    if (n == 0 || s[n] != end) {
        return -1;
    }
    *out = v;
    *p = s + n + (end != '\0');
    return 0;
}

static int check_seconds(struct wire_frame *f, size_t len)
{
    const char *p = f->text;
    unsigned secs;
    (void)len;
    if (take_number(&p, '\0', &secs) < 0 || secs > WIRE_SECONDS_MAX) {
        return -1;
    }
    f->code = (int)secs;
    return 0;
}

/* "<opponent> <round> <wins> <losses> <draws> <moved> <seconds>", one space between fields. */
static int check_snapshot(struct wire_frame *f, size_t len)
{
    struct wire_snapshot *j = &f->snap;
    const char *sp = memchr(f->text, ' ', len);
    if (sp == NULL || !rps_valid_name(f->text, (size_t)(sp - f->text))) {
        return -1;
    }
    memcpy(j->opponent, f->text, (size_t)(sp - f->text));
    j->opponent[sp - f->text] = '\0';
    const char *p = sp + 1;
    unsigned moved;
    if (take_number(&p, ' ', &j->round) < 0 || take_number(&p, ' ', &j->wins) < 0 ||
        take_number(&p, ' ', &j->losses) < 0 || take_number(&p, ' ', &j->draws) < 0 ||
        take_number(&p, ' ', &moved) < 0 || take_number(&p, '\0', &j->seconds) < 0) {
        return -1;
    }
    if (moved > 1 || j->round == 0 || j->seconds > WIRE_SECONDS_MAX) {
        return -1;
    }
    j->moved = (int)moved;
    return 0;
}

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
        if (ops[i].check != NULL && (memchr(f->text, '\0', p[1]) != NULL || ops[i].check(f, p[1]) < 0)) {
            f->code = p[0];
            return -1;
        }
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

/* `op len name`, the shape of H and R. */
static int name_frame(int op, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    if (!rps_valid_name(name, n) || cap < n + 2) {
        return -1;
    }
    out[0] = (char)op;
    out[1] = (char)n;
    memcpy(out + 2, name, n);
    return (int)(n + 2);
}

int wire_hello(const char *name, char *out, size_t cap)
{
    return name_frame(RPS_OP_HELLO, name, out, cap);
}

int wire_register(const char *name, char *out, size_t cap)
{
    return name_frame(WIRE_OP_REGISTER, name, out, cap);
}

int wire_login(const char *name, const char *secret, char *out, size_t cap)
{
    size_t k = strlen(secret);
    int n = name_frame(WIRE_OP_LOGIN, name, out, cap);
    if (n < 0 || !wire_valid_secret(secret, k) || cap < (size_t)n + 1 + k) {
        return -1;
    }
    out[n] = (char)k;
    memcpy(out + n + 1, secret, k);
    return n + 1 + (int)k;
}
