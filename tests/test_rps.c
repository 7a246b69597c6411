/* games/rps: the rules, the names, the frame decoder fed whole and split at every byte, the
 * length-prefixed frames, and the bot's generator. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rps.h"
#include "suite.h"

/* The rules written out by hand, not derived from the module: mine, theirs, result. */
static const struct {
    int mine, theirs, result;
} outcomes[9] = {
    { RPS_SCISSORS, RPS_SCISSORS, RPS_DRAW }, { RPS_SCISSORS, RPS_ROCK, RPS_LOSS },
    { RPS_SCISSORS, RPS_PAPER, RPS_WIN },     { RPS_ROCK, RPS_SCISSORS, RPS_WIN },
    { RPS_ROCK, RPS_ROCK, RPS_DRAW },         { RPS_ROCK, RPS_PAPER, RPS_LOSS },
    { RPS_PAPER, RPS_SCISSORS, RPS_LOSS },    { RPS_PAPER, RPS_ROCK, RPS_WIN },
    { RPS_PAPER, RPS_PAPER, RPS_DRAW },
};

START_TEST(test_outcome_of_every_pair)
{
    ck_assert_int_eq(RPS_SCISSORS, 1);
    ck_assert_int_eq(RPS_ROCK, 2);
    ck_assert_int_eq(RPS_PAPER, 3);
    for (int i = 0; i < 9; i++) {
        int got = rps_outcome(outcomes[i].mine, outcomes[i].theirs);
        ck_assert_msg(got == outcomes[i].result, "%d against %d: got '%c', want '%c'", outcomes[i].mine,
                      outcomes[i].theirs, got, outcomes[i].result);
    }
}
END_TEST

START_TEST(test_outcome_is_mirrored)
{
    for (int a = 1; a <= 3; a++) {
        for (int b = 1; b <= 3; b++) {
            int ab = rps_outcome(a, b), ba = rps_outcome(b, a);
            int mirror = ab == RPS_WIN ? RPS_LOSS : ab == RPS_LOSS ? RPS_WIN : RPS_DRAW;
            ck_assert_int_eq(ba, mirror);
        }
    }
}
END_TEST

static int allowed(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

START_TEST(test_valid_name_lengths)
{
    char name[40];
    memset(name, 'a', sizeof(name));

    ck_assert_int_eq(rps_valid_name(name, 0), 0);
    ck_assert_int_eq(rps_valid_name(name, 1), 1);
    ck_assert_int_eq(rps_valid_name(name, 31), 1);
    ck_assert_int_eq(rps_valid_name(name, RPS_NAME_MAX), 1);
    ck_assert_int_eq(RPS_NAME_MAX, 32);
    ck_assert_int_eq(rps_valid_name(name, 33), 0);
    ck_assert_int_eq(rps_valid_name(name, 40), 0);
}
END_TEST

START_TEST(test_valid_name_classes)
{
    ck_assert_int_eq(rps_valid_name("abcdefghijklmnopqrstuvwxyz", 26), 1);
    ck_assert_int_eq(rps_valid_name("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 26), 1);
    ck_assert_int_eq(rps_valid_name("0123456789", 10), 1);
    ck_assert_int_eq(rps_valid_name("_", 1), 1);
    ck_assert_int_eq(rps_valid_name("-", 1), 1);
    ck_assert_int_eq(rps_valid_name("Ana_b-9", 7), 1);
}
END_TEST

/* Every byte value, alone and in the middle of an otherwise good name. */
START_TEST(test_valid_name_every_byte)
{
    for (int c = 0; c < 256; c++) {
        char one[1] = { (char)c };
        char mid[3] = { 'a', (char)c, 'b' };
        ck_assert_msg(rps_valid_name(one, 1) == allowed(c), "byte 0x%02x alone", c);
        ck_assert_msg(rps_valid_name(mid, 3) == allowed(c), "byte 0x%02x inside", c);
    }
}
END_TEST

START_TEST(test_valid_name_bad_bytes)
{
    ck_assert_int_eq(rps_valid_name("a\0b", 3), 0);
    ck_assert_int_eq(rps_valid_name("a b", 3), 0);
    ck_assert_int_eq(rps_valid_name("a\x80", 2), 0);
    ck_assert_int_eq(rps_valid_name("\xff", 1), 0);
    ck_assert_int_eq(rps_valid_name("a!b", 3), 0);
    ck_assert_int_eq(rps_valid_name(".", 1), 0);
    ck_assert_int_eq(rps_valid_name("ana\n", 4), 0);
    /* Only len bytes count: a bad byte past them does not matter. */
    ck_assert_int_eq(rps_valid_name("ana!", 3), 1);
}
END_TEST

START_TEST(test_opens_and_space)
{
    for (int c = 0; c < 256; c++) {
        int opens = (c >= '1' && c <= '3') || c == 'H' || c == 'P' || c == 'L' || c == 'R' || c == 'I';
        int space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
        ck_assert_msg(rps_opens(c) == opens, "rps_opens(0x%02x)", c);
        ck_assert_msg(rps_is_space(c) == space, "rps_is_space(0x%02x)", c);
    }
}
END_TEST

/* ---- the decoder ---- */

#define MAX_FRAMES 64

struct frames {
    struct rps_frame f[MAX_FRAMES];
    size_t n;
};

/* Append a frame; adjacent whitespace frames are one, since a run split by the
 * network arrives as two runs and both are ignored alike. */
static void add_frame(struct frames *fs, const struct rps_frame *f)
{
    if (f->type == RPS_FRAME_SPACE && fs->n > 0 && fs->f[fs->n - 1].type == RPS_FRAME_SPACE) {
        return;
    }
    ck_assert_uint_lt(fs->n, MAX_FRAMES);
    fs->f[fs->n++] = *f;
}

/* Decode what is whole in buf[0, len); returns the bytes used (the tail is kept by the caller). */
static size_t decode_all(const char *buf, size_t len, struct frames *fs)
{
    size_t pos = 0;
    while (pos < len) {
        struct rps_frame f;
        memset(&f, 0x5a, sizeof(f));
        size_t n = rps_decode(buf + pos, len - pos, &f);
        if (n == 0) {
            break;
        }
        ck_assert_uint_le(n, len - pos);
        add_frame(fs, &f);
        pos += n;
    }
    return pos;
}

/* Feed stream in the chunks that end at the offsets cuts[0..ncuts) (then the rest), the way a
 * server reads: append to what is pending, decode what is whole, keep the tail. */
static void feed(const char *stream, size_t len, const size_t *cuts, size_t ncuts, struct frames *fs)
{
    char pending[1024];
    size_t have = 0, from = 0;

    ck_assert_uint_le(len, sizeof(pending));
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        memcpy(pending + have, stream + from, to - from);
        have += to - from;
        from = to;
        size_t used = decode_all(pending, have, fs);
        memmove(pending, pending + used, have - used);
        have -= used;
    }
    ck_assert_msg(have == 0, "%zu bytes left undecoded at the end of the stream", have);
}

static const char *type_name(enum rps_frame_type t)
{
    static const char *const names[] = {
        [RPS_FRAME_SPACE] = "space", [RPS_FRAME_MOVE] = "move",       [RPS_FRAME_HELLO] = "hello",
        [RPS_FRAME_PLAY] = "play",   [RPS_FRAME_LEAVE] = "leave",     [RPS_FRAME_BAD] = "bad",
        [RPS_FRAME_BAD_LENGTH] = "bad length", [RPS_FRAME_BAD_NAME] = "bad name",
        [RPS_FRAME_REGISTER] = "register", [RPS_FRAME_LOGIN] = "login", [RPS_FRAME_ROTATE] = "rotate",
        [RPS_FRAME_RELEASE] = "release",
    };
    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

static void assert_frames_eq(const struct frames *got, const struct frames *want, const char *how)
{
    ck_assert_msg(got->n == want->n, "%s: %zu frames, want %zu", how, got->n, want->n);
    for (size_t i = 0; i < want->n; i++) {
        const struct rps_frame *g = &got->f[i], *w = &want->f[i];
        ck_assert_msg(g->type == w->type, "%s: frame %zu is %s, want %s", how, i, type_name(g->type),
                      type_name(w->type));
        if (w->type == RPS_FRAME_MOVE) {
            ck_assert_msg(g->move == w->move, "%s: frame %zu moves %d, want %d", how, i, g->move, w->move);
        }
        if (w->type == RPS_FRAME_HELLO || w->type == RPS_FRAME_REGISTER || w->type == RPS_FRAME_LOGIN) {
            ck_assert_msg(strcmp(g->name, w->name) == 0, "%s: frame %zu names '%s', want '%s'", how, i, g->name,
                          w->name);
        }
        if (w->type == RPS_FRAME_LOGIN) {
            ck_assert_msg(g->secret_len == w->secret_len && memcmp(g->secret, w->secret, w->secret_len) == 0,
                          "%s: frame %zu has secret '%s', want '%s'", how, i, g->secret, w->secret);
        }
    }
}

static void want_frame(struct frames *fs, enum rps_frame_type type, int move, const char *name)
{
    struct rps_frame f = { .type = type, .move = move };
    snprintf(f.name, sizeof(f.name), "%s", name);
    add_frame(fs, &f);
}

/* Bytes of a hello with length 33: they would be moves, a hello, P and L if read as frames. */
#define SKIPPED_33 "123H\x01" "aPL" "1231231231231231231231231"
_Static_assert(sizeof(SKIPPED_33) - 1 == 33, "33 bytes");

/* Every kind of frame, with the awkward ones: a hello of length 33 whose skipped bytes would be
 * moves and hellos if they were read as frames, bytes 0x00 and 0x80, a 32-byte name. */
static size_t build_stream(char *s, struct frames *want)
{
    size_t n = 0;
#define PUT(lit) (memcpy(s + n, (lit), sizeof(lit) - 1), n += sizeof(lit) - 1)
    memset(want, 0, sizeof(*want));
    PUT("1");
    want_frame(want, RPS_FRAME_MOVE, 1, "");
    PUT("2");
    want_frame(want, RPS_FRAME_MOVE, 2, "");
    PUT("3");
    want_frame(want, RPS_FRAME_MOVE, 3, "");
    PUT(" \t\r\n  ");
    want_frame(want, RPS_FRAME_SPACE, 0, "");
    PUT("H\x03" "ana");
    want_frame(want, RPS_FRAME_HELLO, 0, "ana");
    PUT("P");
    want_frame(want, RPS_FRAME_PLAY, 0, "");
    PUT("L");
    want_frame(want, RPS_FRAME_LEAVE, 0, "");
    PUT("7");
    want_frame(want, RPS_FRAME_BAD, 0, "");
    PUT("\x00");
    want_frame(want, RPS_FRAME_BAD, 0, "");
    PUT("\x80");
    want_frame(want, RPS_FRAME_BAD, 0, "");
    PUT("H\x00");
    want_frame(want, RPS_FRAME_BAD_LENGTH, 0, "");
    PUT("2");
    want_frame(want, RPS_FRAME_MOVE, 2, "");
    PUT("H\x21" SKIPPED_33);
    want_frame(want, RPS_FRAME_BAD_LENGTH, 0, "");
    PUT("H\x03" "a!b");
    want_frame(want, RPS_FRAME_BAD_NAME, 0, "");
    PUT("H\x02" "a\x00");
    want_frame(want, RPS_FRAME_BAD_NAME, 0, "");
    PUT("H\x20" "abcdefghijklmnopqrstuvwxyz_-0189");
    want_frame(want, RPS_FRAME_HELLO, 0, "abcdefghijklmnopqrstuvwxyz_-0189");
    PUT("\n");
    want_frame(want, RPS_FRAME_SPACE, 0, "");
    PUT("H\x01" "Z");
    want_frame(want, RPS_FRAME_HELLO, 0, "Z");
    PUT("3");
    want_frame(want, RPS_FRAME_MOVE, 3, "");
    PUT("R\x03" "bob");
    want_frame(want, RPS_FRAME_REGISTER, 0, "bob");
    PUT("I\x03" "bob" "\x05" "1H\x01P2");      /* a secret whose bytes would be frames */
    want_frame(want, RPS_FRAME_LOGIN, 0, "bob");
    memcpy(want->f[want->n - 1].secret, "1H\x01P2", 6);
    want->f[want->n - 1].secret_len = 5;
    PUT("X");
    want_frame(want, RPS_FRAME_ROTATE, 0, "");
    PUT("U");
    want_frame(want, RPS_FRAME_RELEASE, 0, "");
    PUT("I\x02" "bo" "\x00");                    /* an empty secret */
    want_frame(want, RPS_FRAME_BAD_LENGTH, 0, "");
    PUT("I\x00" "\x02" "12");                    /* an empty name: the secret is skipped too */
    want_frame(want, RPS_FRAME_BAD_LENGTH, 0, "");
    PUT("R\x03" "a b");
    want_frame(want, RPS_FRAME_BAD_NAME, 0, "");
    PUT("I\x02" "a." "\x01" "3");
    want_frame(want, RPS_FRAME_BAD_NAME, 0, "");
    PUT("2");
    want_frame(want, RPS_FRAME_MOVE, 2, "");
#undef PUT
    return n;
}

START_TEST(test_decode_stream_whole)
{
    char s[512];
    struct frames want, got = { .n = 0 };
    size_t len = build_stream(s, &want);

    ck_assert_uint_eq(decode_all(s, len, &got), len);
    assert_frames_eq(&got, &want, "one buffer");
}
END_TEST

START_TEST(test_decode_stream_split_at_every_byte)
{
    char s[512];
    struct frames want;
    size_t len = build_stream(s, &want);
    char how[64];

    for (size_t cut = 0; cut <= len; cut++) {
        struct frames got = { .n = 0 };
        feed(s, len, &cut, 1, &got);
        snprintf(how, sizeof(how), "split at %zu", cut);
        assert_frames_eq(&got, &want, how);
    }
}
END_TEST

START_TEST(test_decode_stream_byte_by_byte)
{
    char s[512];
    struct frames want, got = { .n = 0 };
    size_t len = build_stream(s, &want);
    size_t cuts[512];

    for (size_t i = 0; i < len; i++) {
        cuts[i] = i + 1;
    }
    feed(s, len, cuts, len, &got);
    assert_frames_eq(&got, &want, "one byte at a time");
}
END_TEST

START_TEST(test_decode_needs_more)
{
    struct rps_frame f;
    char hello33[35];

    ck_assert_uint_eq(rps_decode("", 0, &f), 0);
    ck_assert_uint_eq(rps_decode("H", 1, &f), 0);
    ck_assert_uint_eq(rps_decode("H\x05" "ab", 4, &f), 0);
    ck_assert_uint_eq(rps_decode("H\x05" "abcd", 6, &f), 0);
    ck_assert_uint_eq(rps_decode("H\x05" "abcde", 7, &f), 7);
    ck_assert_int_eq(f.type, RPS_FRAME_HELLO);
    ck_assert_str_eq(f.name, "abcde");
    /* A length over the maximum still waits for all its bytes, so they are skipped as one frame. */
    hello33[0] = 'H';
    hello33[1] = 33;
    memset(hello33 + 2, '1', 33);
    ck_assert_uint_eq(rps_decode(hello33, 34, &f), 0);
    ck_assert_uint_eq(rps_decode(hello33, 35, &f), 35);
    ck_assert_int_eq(f.type, RPS_FRAME_BAD_LENGTH);
}
END_TEST

START_TEST(test_decode_longest_length)
{
    char buf[3 + 255 + 255 + 1];
    struct rps_frame f;

    buf[0] = 'H';
    buf[1] = (char)255;
    memset(buf + 2, 'a', 255);
    buf[257] = '2';
    ck_assert_uint_eq(rps_decode(buf, 256, &f), 0);
    ck_assert_uint_eq(rps_decode(buf, 258, &f), 2 + 255);
    ck_assert_int_eq(f.type, RPS_FRAME_BAD_LENGTH);

    /* The longest frame of all: a login with both lengths 255. */
    buf[0] = 'I';
    buf[257] = (char)255;
    memset(buf + 258, 'b', 255);
    buf[513] = '2';
    ck_assert_uint_eq(rps_decode(buf, 257, &f), 0);
    ck_assert_uint_eq(rps_decode(buf, 258, &f), 0);
    ck_assert_uint_eq(rps_decode(buf, RPS_FRAME_MAX - 1, &f), 0);
    ck_assert_uint_eq(rps_decode(buf, sizeof(buf), &f), RPS_FRAME_MAX);
    ck_assert_int_eq(f.type, RPS_FRAME_BAD_LENGTH);
}
END_TEST

START_TEST(test_decode_login_with_the_longest_secret)
{
    char buf[3 + 3 + 255];
    struct rps_frame f;

    memcpy(buf, "I\x03" "ana" "\xff", 6);
    memset(buf + 6, 'f', 255);
    ck_assert_uint_eq(rps_decode(buf, sizeof(buf) - 1, &f), 0);
    ck_assert_uint_eq(rps_decode(buf, sizeof(buf), &f), sizeof(buf));
    ck_assert_int_eq(f.type, RPS_FRAME_LOGIN);
    ck_assert_str_eq(f.name, "ana");
    ck_assert_uint_eq(f.secret_len, 255);
    ck_assert_uint_eq(strlen(f.secret), 255);
}
END_TEST

START_TEST(test_decode_one_byte_frames)
{
    struct rps_frame f;

    for (int c = 0; c < 256; c++) {
        char b = (char)c;
        if (c == 'H' || c == 'R' || c == 'I') {
            continue;
        }
        ck_assert_uint_eq(rps_decode(&b, 1, &f), 1);
        if (c >= '1' && c <= '3') {
            ck_assert_int_eq(f.type, RPS_FRAME_MOVE);
            ck_assert_int_eq(f.move, c - '0');
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            ck_assert_int_eq(f.type, RPS_FRAME_SPACE);
        } else if (c == 'P') {
            ck_assert_int_eq(f.type, RPS_FRAME_PLAY);
        } else if (c == 'L') {
            ck_assert_int_eq(f.type, RPS_FRAME_LEAVE);
        } else if (c == 'X') {
            ck_assert_int_eq(f.type, RPS_FRAME_ROTATE);
        } else if (c == 'U') {
            ck_assert_int_eq(f.type, RPS_FRAME_RELEASE);
        } else {
            ck_assert_msg(f.type == RPS_FRAME_BAD, "byte 0x%02x decoded as %s", c, type_name(f.type));
        }
    }
}
END_TEST

START_TEST(test_decode_space_run_stops_at_frame)
{
    struct rps_frame f;

    ck_assert_uint_eq(rps_decode(" \t\r\n 2  ", 8, &f), 5);
    ck_assert_int_eq(f.type, RPS_FRAME_SPACE);
}
END_TEST

/* ---- frames out ---- */

START_TEST(test_frame_text)
{
    char out[2 + 255 + 8];
    char text[300];

    ck_assert_uint_eq(rps_frame_text(out, RPS_OP_ERROR, "bad frame"), 11);
    ck_assert_int_eq(memcmp(out, "E\x09" "bad frame", 11), 0);
    ck_assert_uint_eq(rps_frame_text(out, RPS_OP_ACCEPTED, "ana"), 5);
    ck_assert_int_eq(memcmp(out, "A\x03" "ana", 5), 0);
    ck_assert_uint_eq(rps_frame_text(out, RPS_OP_REFUSED, "already named"), 15);
    ck_assert_int_eq(memcmp(out, "N\x0d" "already named", 15), 0);
    ck_assert_uint_eq(rps_frame_text(out, RPS_OP_ERROR, "server shutting down"), 22);
    ck_assert_int_eq(memcmp(out, "E\x14" "server shutting down", 22), 0);

    memset(text, 'r', 255);
    text[255] = '\0';
    ck_assert_uint_eq(rps_frame_text(out, RPS_OP_ERROR, text), 257);
    ck_assert_int_eq((unsigned char)out[1], 255);
    ck_assert_int_eq(memcmp(out + 2, text, 255), 0);
}
END_TEST

START_TEST(test_frame_text_truncates_past_255)
{
    char out[2 + 255 + 8];
    char text[300];

    memset(out, '#', sizeof(out));
    memset(text, 's', 299);
    text[299] = '\0';
    ck_assert_uint_eq(rps_frame_text(out, RPS_OP_ERROR, text), 257);
    ck_assert_int_eq(out[0], 'E');
    ck_assert_int_eq((unsigned char)out[1], 255);
    ck_assert_int_eq(out[257], '#');
}
END_TEST

/* ---- the bot ---- */

START_TEST(test_bot_moves_in_range)
{
    struct rps_bot bot;
    for (uint64_t seed = 0; seed < 8; seed++) {
        rps_bot_seed(&bot, seed);
        for (int i = 0; i < 10000; i++) {
            int m = rps_bot_move(&bot);
            ck_assert_msg(m >= 1 && m <= 3, "seed %llu move %d is %d", (unsigned long long)seed, i, m);
        }
    }
}
END_TEST

START_TEST(test_bot_seed_is_deterministic)
{
    struct rps_bot a, b;

    rps_bot_seed(&a, 12345);
    rps_bot_seed(&b, 12345);
    for (int i = 0; i < 1000; i++) {
        ck_assert_int_eq(rps_bot_move(&a), rps_bot_move(&b));
    }
}
END_TEST

START_TEST(test_bot_seeds_differ)
{
    /* Two sequences of 200 moves agree by chance with probability 3^-200. */
    static const uint64_t seeds[][2] = { { 1, 2 }, { 0, 1 }, { 12345, 12346 }, { 0, UINT64_MAX } };

    for (size_t k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
        struct rps_bot a, b;
        int same = 0;
        rps_bot_seed(&a, seeds[k][0]);
        rps_bot_seed(&b, seeds[k][1]);
        for (int i = 0; i < 200; i++) {
            same += rps_bot_move(&a) == rps_bot_move(&b);
        }
        ck_assert_msg(same < 200, "seeds %llu and %llu give the same moves", (unsigned long long)seeds[k][0],
                      (unsigned long long)seeds[k][1]);
    }
}
END_TEST

START_TEST(test_bot_is_roughly_uniform)
{
    struct rps_bot bot;
    int count[4] = { 0 };
    const int n = 30000;

    rps_bot_seed(&bot, 20240601);
    for (int i = 0; i < n; i++) {
        count[rps_bot_move(&bot)]++;
    }
    for (int m = 1; m <= 3; m++) {
        /* 30% to 36.7%: expected 33.3%, the bound is more than 10 standard deviations away. */
        ck_assert_msg(count[m] >= n * 30 / 100 && count[m] <= n * 367 / 1000, "move %d came %d times of %d", m,
                      count[m], n);
    }
}
END_TEST

static Suite *rps_suite(void)
{
    Suite *s = suite_create("rps");
    TCase *rules = tcase_create("rules");
    TCase *decode = tcase_create("decode");
    TCase *bot = tcase_create("bot");

    tcase_add_test(rules, test_outcome_of_every_pair);
    tcase_add_test(rules, test_outcome_is_mirrored);
    tcase_add_test(rules, test_valid_name_lengths);
    tcase_add_test(rules, test_valid_name_classes);
    tcase_add_test(rules, test_valid_name_every_byte);
    tcase_add_test(rules, test_valid_name_bad_bytes);
    tcase_add_test(rules, test_opens_and_space);
    tcase_add_test(rules, test_frame_text);
    tcase_add_test(rules, test_frame_text_truncates_past_255);
    suite_add_tcase(s, rules);

    tcase_add_test(decode, test_decode_stream_whole);
    tcase_add_test(decode, test_decode_stream_split_at_every_byte);
    tcase_add_test(decode, test_decode_stream_byte_by_byte);
    tcase_add_test(decode, test_decode_needs_more);
    tcase_add_test(decode, test_decode_longest_length);
    tcase_add_test(decode, test_decode_login_with_the_longest_secret);
    tcase_add_test(decode, test_decode_one_byte_frames);
    tcase_add_test(decode, test_decode_space_run_stops_at_frame);
    suite_add_tcase(s, decode);

    tcase_add_test(bot, test_bot_moves_in_range);
    tcase_add_test(bot, test_bot_seed_is_deterministic);
    tcase_add_test(bot, test_bot_seeds_differ);
    tcase_add_test(bot, test_bot_is_roughly_uniform);
    suite_add_tcase(s, bot);
    return s;
}

int main(void)
{
    return suite_run(rps_suite());
}
