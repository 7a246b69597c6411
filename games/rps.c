/*
 * rps: rock-paper-scissors rules, frame decoding and the bot's generator.
 */
#include "rps.h"

#include <string.h>

int rps_is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int rps_opens(int c)
{
    return (c >= '1' && c <= '3') || c == RPS_OP_HELLO || c == RPS_OP_PLAY || c == RPS_OP_LEAVE ||
           c == RPS_OP_REGISTER || c == RPS_OP_LOGIN;
}

int rps_outcome(int mine, int theirs)
{
    if (mine == theirs) {
        return RPS_DRAW;
    }
    /* With 1 scissors, 2 rock, 3 paper, each move beats the one just below it, cyclically. */
    return (mine - theirs + 3) % 3 == 1 ? RPS_WIN : RPS_LOSS;
}

static int name_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

int rps_valid_name(const char *name, size_t len)
{
    if (len == 0 || len > RPS_NAME_MAX) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (!name_byte((unsigned char)name[i])) {
            return 0;
        }
    }
    return 1;
}

/* The name of a hello or a register frame (`op len name`), or of a login (`I len name len secret`).
 * A frame whose lengths are wrong is skipped whole, so the stream stays in step. */
static size_t decode_named(const unsigned char *p, size_t len, enum rps_frame_type type, struct rps_frame *f)
{
    size_t n = len >= 2 ? p[1] : 0, s = 0, end = 2 + n;

    if (len < 2 || len < end) {
        return 0;
    }
    if (type == RPS_FRAME_LOGIN) {
        if (len < end + 1 || len < end + 1 + p[end]) {
            return 0;
        }
        s = p[end];
        end += 1 + s;
    }
    if (n == 0 || n > RPS_NAME_MAX || (type == RPS_FRAME_LOGIN && s == 0)) {
        f->type = RPS_FRAME_BAD_LENGTH;
    } else if (!rps_valid_name((const char *)p + 2, n)) {
        f->type = RPS_FRAME_BAD_NAME;
    } else {
        f->type = type;
        memcpy(f->name, p + 2, n);
        f->name[n] = '\0';
        memcpy(f->secret, p + 3 + n, s);
        f->secret[s] = '\0';
        f->secret_len = s;
    }
    return end;
}

size_t rps_decode(const char *buf, size_t len, struct rps_frame *f)
{
    const unsigned char *p = (const unsigned char *)buf;

    if (len == 0) {
        return 0;
    }
    f->move = RPS_NONE;
    f->name[0] = '\0';
    f->secret[0] = '\0';
    f->secret_len = 0;
    if (rps_is_space(p[0])) {
        size_t n = 1;
        while (n < len && rps_is_space(p[n])) {
            n++;
        }
        f->type = RPS_FRAME_SPACE;
        return n;
    }
    switch (p[0]) {
    case '1':
    case '2':
    case '3':
        f->type = RPS_FRAME_MOVE;
        f->move = p[0] - '0';
        return 1;
    case RPS_OP_HELLO:
        return decode_named(p, len, RPS_FRAME_HELLO, f);
    case RPS_OP_REGISTER:
        return decode_named(p, len, RPS_FRAME_REGISTER, f);
    case RPS_OP_LOGIN:
        return decode_named(p, len, RPS_FRAME_LOGIN, f);
    case RPS_OP_ROTATE:
        f->type = RPS_FRAME_ROTATE;
        return 1;
    case RPS_OP_RELEASE:
        f->type = RPS_FRAME_RELEASE;
        return 1;
    case RPS_OP_PLAY:
        f->type = RPS_FRAME_PLAY;
        return 1;
    case RPS_OP_LEAVE:
        f->type = RPS_FRAME_LEAVE;
        return 1;
    default:
        f->type = RPS_FRAME_BAD;
        return 1;
    }
}

size_t rps_frame_text(char *out, int op, const char *text)
{
    size_t n = strlen(text);
    if (n > 255) {
        n = 255;
    }
    out[0] = (char)op;
    out[1] = (char)n;
    memcpy(out + 2, text, n);
    return 2 + n;
}

/* xoshiro256** (Blackman and Vigna), seeded through splitmix64 so that any
 * seed, zero included, gives a well-mixed state. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void rps_bot_seed(struct rps_bot *bot, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        bot->s[i] = splitmix64(&seed);
    }
}

static uint64_t bot_next(struct rps_bot *bot)
{
    uint64_t *s = bot->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

int rps_bot_move(struct rps_bot *bot)
{
    /* Multiply-shift maps the top 32 bits onto 0..2 with a bias below 2^-30. */
    uint64_t r = bot_next(bot) >> 32;
    return (int)((r * 3) >> 32) + 1;
}
