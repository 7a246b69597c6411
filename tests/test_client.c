/*
 * bin/arcade: its pure parts fed literal input (options, move words, frame
 * decoding, the session state machine, kept secrets in a temporary
 * XDG_CONFIG_HOME, report lines, leaderboard tables, answer framing), then
 * the real binary driven against a real bin/arcaded on --port 0: ask with
 * every op and every exit status, play scripted against the bot and against
 * a person, top and rank after those games; accounts, rotate and drop, and
 * rejoin after a connection cut by a relay.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ask.h"
#include "expect.h"
#include "harness.h"
#include "json.h"
#include "opts.h"
#include "report.h"
#include "rps.h"
#include "secrets.h"
#include "suite.h"
#include "sess.h"
#include "table.h"
#include "wire.h"
#include "words.h"

#define OUT_CAP 65536
#define WAIT_MS 15000

/* ------------------------------------------------------------------ opts */

START_TEST(test_opts_walk)
{
    static const struct opts_spec specs[] = { { "udp", 'u', 0, 1 }, { "k", 'k', 1, 2 }, OPTS_COMMON };
    char *argv[] = { "ask", "-2", "--port=6000", "-k3", "--udp", "a1", "--host", "h", "--", "--udp", "-", NULL };
    struct opts_parser p;
    const char *val;
    char err[128];

    opts_init(&p, specs, 11, argv, 1);
    ck_assert_int_eq(opts_next(&p, &val, err, sizeof(err)), 0);
    ck_assert_str_eq(val, "-2");
    ck_assert_int_eq(opts_next(&p, &val, err, sizeof(err)), OPTS_PORT);
    ck_assert_str_eq(val, "6000");
    ck_assert_int_eq(opts_next(&p, &val, err, sizeof(err)), 2);
    ck_assert_str_eq(val, "3");
    ck_assert_int_eq(opts_next(&p, &val, err, sizeof(err)), 1);
    ck_assert_ptr_null(val);
    ck_assert_int_eq(opts_next(&p, &val, err, sizeof(err)), 0);
    ck_assert_str_eq(val, "a1");
    ck_assert_int_eq(opts_next(&p, &val, err, sizeof(err)), OPTS_HOST);
    ck_assert_str_eq(val, "h");
    /* After "--" everything is positional, even "--udp". */
    ck_assert_int_eq(opts_next(&p, &val, err, sizeof(err)), 0);
    ck_assert_str_eq(val, "--udp");
    ck_assert_int_eq(opts_next(&p, &val, err, sizeof(err)), 0);
    ck_assert_str_eq(val, "-");
    ck_assert_int_eq(opts_next(&p, &val, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_opts_errors)
{
    static const struct opts_spec specs[] = { OPTS_COMMON };
    char *a1[] = { "x", "--bogus", NULL };
    char *a2[] = { "x", "--port", NULL };
    char *a3[] = { "x", "--help=yes", NULL };
    struct opts_parser p;
    const char *val;
    char err[128];

    opts_init(&p, specs, 2, a1, 1);
    ck_assert_int_eq(opts_next(&p, &val, err, sizeof(err)), -2);
    ck_assert_str_eq(err, "unknown option --bogus");
    opts_init(&p, specs, 2, a2, 1);
    ck_assert_int_eq(opts_next(&p, &val, err, sizeof(err)), -2);
    ck_assert_str_eq(err, "option --port needs a value");
    opts_init(&p, specs, 2, a3, 1);
    ck_assert_int_eq(opts_next(&p, &val, err, sizeof(err)), -2);
}
END_TEST

START_TEST(test_opts_numbers)
{
    char err[128];
    int port;
    double s;
    long v;

    ck_assert_int_eq(opts_port("5000", &port, err, sizeof(err)), 0);
    ck_assert_int_eq(port, 5000);
    ck_assert_int_eq(opts_port("65535", &port, err, sizeof(err)), 0);
    ck_assert_int_eq(opts_port("0", &port, err, sizeof(err)), -1);
    ck_assert_int_eq(opts_port("65536", &port, err, sizeof(err)), -1);
    ck_assert_int_eq(opts_port("50x", &port, err, sizeof(err)), -1);
    ck_assert_int_eq(opts_port("", &port, err, sizeof(err)), -1);
    ck_assert_int_eq(opts_seconds("0.5", &s, err, sizeof(err)), 0);
    ck_assert_double_eq(s, 0.5);
    ck_assert_int_eq(opts_seconds("0", &s, err, sizeof(err)), -1);
    ck_assert_int_eq(opts_seconds("-1", &s, err, sizeof(err)), -1);
    ck_assert_int_eq(opts_seconds("nan", &s, err, sizeof(err)), -1);
    ck_assert_int_eq(opts_int("50", 0, 50, &v, err, sizeof(err)), 0);
    ck_assert_int_eq(v, 50);
    ck_assert_int_eq(opts_int("51", 0, 50, &v, err, sizeof(err)), -1);
    ck_assert_int_eq(opts_int(" 5", 0, 50, &v, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_opts_environment)
{
    struct opts_conn c;
    char err[128];

    unsetenv("ARCADE_HOST");
    unsetenv("ARCADE_PORT");
    ck_assert_int_eq(opts_conn_init(&c, err, sizeof(err)), 0);
    ck_assert_str_eq(c.host, "127.0.0.1");
    ck_assert_int_eq(c.port, 5000);
    ck_assert_double_eq(c.timeout, 5.0);
    setenv("ARCADE_HOST", "example.org", 1);
    setenv("ARCADE_PORT", "6001", 1);
    ck_assert_int_eq(opts_conn_init(&c, err, sizeof(err)), 0);
    ck_assert_str_eq(c.host, "example.org");
    ck_assert_int_eq(c.port, 6001);
    /* An option beats the environment. */
    ck_assert_int_eq(opts_conn_apply(&c, OPTS_PORT, "7002", err, sizeof(err)), 0);
    ck_assert_int_eq(c.port, 7002);
    setenv("ARCADE_PORT", "none", 1);
    ck_assert_int_eq(opts_conn_init(&c, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "ARCADE_PORT"));
    unsetenv("ARCADE_HOST");
    unsetenv("ARCADE_PORT");
}
END_TEST

/* ----------------------------------------------------------------- words */

START_TEST(test_words_move)
{
    ck_assert_int_eq(words_move("rock", 4), RPS_ROCK);
    ck_assert_int_eq(words_move("PAPER", 5), RPS_PAPER);
    ck_assert_int_eq(words_move("Scissors", 8), RPS_SCISSORS);
    ck_assert_int_eq(words_move("R", 1), RPS_ROCK);
    ck_assert_int_eq(words_move("p", 1), RPS_PAPER);
    ck_assert_int_eq(words_move("s", 1), RPS_SCISSORS);
    /* The digits are the protocol's: 1 scissors, 2 rock, 3 paper. */
    ck_assert_int_eq(words_move("1", 1), RPS_SCISSORS);
    ck_assert_int_eq(words_move("2", 1), RPS_ROCK);
    ck_assert_int_eq(words_move("3", 1), RPS_PAPER);
    ck_assert_int_eq(words_move("4", 1), 0);
    ck_assert_int_eq(words_move("roc", 3), 0);
    ck_assert_int_eq(words_move("rocks", 5), 0);
    ck_assert_int_eq(words_move("", 0), 0);
    ck_assert_str_eq(words_name(RPS_ROCK), "rock");
    ck_assert_str_eq(words_name(RPS_PAPER), "paper");
    ck_assert_str_eq(words_name(RPS_SCISSORS), "scissors");
    ck_assert_str_eq(words_name(RPS_NONE), "none");
}
END_TEST

START_TEST(test_words_keys)
{
    ck_assert_int_eq(words_key('r'), RPS_ROCK);
    ck_assert_int_eq(words_key('P'), RPS_PAPER);
    ck_assert_int_eq(words_key('s'), RPS_SCISSORS);
    ck_assert_int_eq(words_key('1'), RPS_SCISSORS);
    ck_assert_int_eq(words_key('2'), RPS_ROCK);
    ck_assert_int_eq(words_key('3'), RPS_PAPER);
    ck_assert_int_eq(words_key('q'), WORDS_KEY_QUIT);
    ck_assert_int_eq(words_key(3), WORDS_KEY_QUIT);   /* Ctrl-C as a byte */
    ck_assert_int_eq(words_key(4), WORDS_KEY_QUIT);   /* Ctrl-D */
    ck_assert_int_eq(words_key('n'), WORDS_KEY_AGAIN);
    ck_assert_int_eq(words_key('x'), WORDS_KEY_NONE);
    ck_assert_int_eq(words_key(' '), WORDS_KEY_NONE);
    ck_assert_int_eq(words_key(200), WORDS_KEY_NONE);
}
END_TEST

/* Feed s byte by byte (then the end) and collect the results that are not 0. */
static int feed_all(struct words_reader *r, const char *s, int *got, int cap)
{
    int n = 0;
    for (size_t i = 0; i <= strlen(s) && n < cap; i++) {
        int m = words_reader_feed(r, i == strlen(s) ? -1 : (unsigned char)s[i]);
        if (m != 0) {
            got[n++] = m;
        }
    }
    return n;
}

START_TEST(test_words_reader)
{
    struct words_reader r;
    int got[16];

    words_reader_init(&r);
    ck_assert_int_eq(feed_all(&r, "  Rock\tpaper\n\nS 1 2 3", got, 16), 6);
    ck_assert_int_eq(got[0], RPS_ROCK);
    ck_assert_int_eq(got[1], RPS_PAPER);
    ck_assert_int_eq(got[2], RPS_SCISSORS);
    ck_assert_int_eq(got[3], RPS_SCISSORS);
    ck_assert_int_eq(got[4], RPS_ROCK);
    ck_assert_int_eq(got[5], RPS_PAPER); /* the last word ends at the end of input */

    words_reader_init(&r);
    ck_assert_int_eq(feed_all(&r, "r lizard p", got, 16), 3);
    ck_assert_int_eq(got[0], RPS_ROCK);
    ck_assert_int_eq(got[1], -1);
    ck_assert_str_eq(r.bad, "lizard");

    words_reader_init(&r);
    ck_assert_int_eq(feed_all(&r, "rockrockrockrockrock", got, 16), 1);
    ck_assert_int_eq(got[0], -1);
    ck_assert_str_eq(r.bad, "rockrockrockroc...");

    /* A word split over two reads is one word. */
    words_reader_init(&r);
    ck_assert_int_eq(words_reader_feed(&r, 's'), 0);
    ck_assert_int_eq(words_reader_feed(&r, 'c'), 0);
    for (const char *p = "issors"; *p != '\0'; p++) {
        ck_assert_int_eq(words_reader_feed(&r, *p), 0);
    }
    ck_assert_int_eq(words_reader_feed(&r, ' '), RPS_SCISSORS);
    ck_assert_int_eq(words_reader_feed(&r, -1), 0);
}
END_TEST

/* ------------------------------------------------------------------ wire */

/* Secrets as the server makes them: 64 lowercase hex digits. */
#define SECRET_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SECRET_B "77a0000000000000000000000000000000000000000000000000000000005b5b"

START_TEST(test_wire_frames)
{
    static const struct {
        const char *bytes;
        size_t len;
        enum wire_kind kind;
        int code;
        const char *text;
    } cases[] = {
        { "x", 1, WIRE_RESULT, 'x', "" },
        { "y", 1, WIRE_RESULT, 'y', "" },
        { "z", 1, WIRE_RESULT, 'z', "" },
        { "M2", 2, WIRE_MOVE, RPS_ROCK, "" },
        { "M1", 2, WIRE_MOVE, RPS_SCISSORS, "" },
        { "A\x03" "ana", 5, WIRE_ACCEPTED, 0, "ana" },
        { "N\x0a" "bad length", 12, WIRE_REFUSED, 0, "bad length" },
        { "E\x09" "bad frame", 11, WIRE_ERROR, 0, "bad frame" },
        { "W", 1, WIRE_WAITING, 'W', "" },
        { "V\x02" "bo", 4, WIRE_MATCHED, 0, "bo" },
        { "Q", 1, WIRE_QUEUE_TIMEOUT, 'Q', "" },
        { "Ty", 2, WIRE_ROUND_TIMEOUT, 'y', "" },
        { "Tv", 2, WIRE_ROUND_TIMEOUT, 'v', "" },
        { "G", 1, WIRE_GONE, 'G', "" },
        { "Fz", 2, WIRE_OVER, 'z', "" },
        { "B", 1, WIRE_LOBBY, 'B', "" },
        { "K\x40" SECRET_A, 66, WIRE_SECRET, 0, SECRET_A },
        { "D\x02" "21", 4, WIRE_DROPPED, 21, "21" },
        { "D\x01" "0", 3, WIRE_DROPPED, 0, "0" },
        { "C", 1, WIRE_BACK, 'C', "" },
        { "U", 1, WIRE_RELEASED, 'U', "" },
        { "J\x0f" "bo 4 2 1 0 1 17", 17, WIRE_REJOINED, 0, "bo 4 2 1 0 1 17" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct wire_frame f;
        /* Every proper prefix needs more bytes; the whole frame decodes, with a next frame after it. */
        for (size_t cut = 0; cut < cases[i].len; cut++) {
            ck_assert_msg(wire_decode(cases[i].bytes, cut, &f) == 0, "case %zu cut %zu", i, cut);
        }
        char buf[300];
        memcpy(buf, cases[i].bytes, cases[i].len);
        buf[cases[i].len] = 'x';
        ck_assert_int_eq(wire_decode(buf, cases[i].len + 1, &f), (int)cases[i].len);
        ck_assert_int_eq(f.kind, cases[i].kind);
        ck_assert_int_eq(f.code, cases[i].code);
        ck_assert_str_eq(f.text, cases[i].text);
    }
}
END_TEST

/* J's text is the snapshot, field by field. */
START_TEST(test_wire_snapshot)
{
    struct wire_frame f;
    const char *j = "J\x18" "Cyrano_long 12 5 4 2 0 3";
    ck_assert_int_eq(wire_decode(j, 26, &f), 26);
    ck_assert_int_eq(f.kind, WIRE_REJOINED);
    ck_assert_str_eq(f.snap.opponent, "Cyrano_long");
    ck_assert_uint_eq(f.snap.round, 12);
    ck_assert_uint_eq(f.snap.wins, 5);
    ck_assert_uint_eq(f.snap.losses, 4);
    ck_assert_uint_eq(f.snap.draws, 2);
    ck_assert_int_eq(f.snap.moved, 0);
    ck_assert_uint_eq(f.snap.seconds, 3);
    ck_assert_int_eq(wire_decode("J\x0f" "bo 4 2 1 0 1 17", 17, &f), 17);
    ck_assert_str_eq(f.snap.opponent, "bo");
    ck_assert_int_eq(f.snap.moved, 1);
    ck_assert_uint_eq(f.snap.seconds, 17);
}
END_TEST

START_TEST(test_wire_bad)
{
    struct wire_frame f;
    ck_assert_int_eq(wire_decode("?", 1, &f), -1);
    ck_assert_int_eq(f.code, '?');
    ck_assert_int_eq(wire_decode("1", 1, &f), -1);      /* a client's move is not a server frame */
    ck_assert_int_eq(wire_decode("M4", 2, &f), -1);
    ck_assert_int_eq(wire_decode("Tx", 2, &f), -1);
    ck_assert_int_eq(wire_decode("F\0", 2, &f), -1);
    ck_assert_int_eq(wire_decode("V\0", 2, &f), -1);    /* lengths are 1 to 255 */
    /* A secret is 64 lowercase hex digits, nothing else. */
    static const char *bad_text[] = {
        "K\x3f" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
        "K\x40" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
        "K\x40" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
        "D\x02" "2x", "D\x01" "-", "D\x06" "999999", "D\x03" " 21",
        "J\x0c" "bo 4 2 1 0 1",        /* a field short */
        "J\x0d" "bo 4 2 1 0 17",
        "J\x11" "bo 4 2 1 0 1 17 9",
        "J\x0f" "bo 4 2 1 0 2 17",     /* moved is 0 or 1 */
        "J\x0f" "bo 0 2 1 0 1 17",     /* rounds count from 1 */
        "J\x10" "bo  4 2 1 0 1 17",
        "J\x10" "b!o 4 2 1 0 1 17",
        "J\x0f" "bo 4 2 1 0 1 1x",
    };
    for (size_t i = 0; i < sizeof(bad_text) / sizeof(bad_text[0]); i++) {
        size_t len = 2 + (unsigned char)bad_text[i][1];
        ck_assert_msg(wire_decode(bad_text[i], len, &f) == -1, "bad text %zu decoded", i);
        ck_assert_int_eq(f.code, bad_text[i][0]);
    }
    /* A NUL inside a checked text is no digit either. */
    ck_assert_int_eq(wire_decode("D\x02" "2\0", 4, &f), -1);
}
END_TEST

START_TEST(test_wire_hello)
{
    char out[64];
    ck_assert_int_eq(wire_hello("ana", out, sizeof(out)), 5);
    ck_assert_int_eq(memcmp(out, "H\x03" "ana", 5), 0);
    ck_assert_int_eq(wire_hello("", out, sizeof(out)), -1);
    ck_assert_int_eq(wire_hello("a!b", out, sizeof(out)), -1);
    ck_assert_int_eq(wire_hello("abcdefghijklmnopqrstuvwxyz0123456", out, sizeof(out)), -1);
    ck_assert_int_eq(wire_hello("ana", out, 4), -1);
}
END_TEST

START_TEST(test_wire_account_frames)
{
    char out[WIRE_LOGIN_MAX + 8];
    ck_assert_int_eq(wire_register("ana", out, sizeof(out)), 5);
    ck_assert_int_eq(memcmp(out, "R\x03" "ana", 5), 0);
    ck_assert_int_eq(wire_register("a b", out, sizeof(out)), -1);
    ck_assert_int_eq(wire_login("ana", SECRET_A, out, sizeof(out)), 70);
    ck_assert_int_eq(memcmp(out, "I\x03" "ana\x40" SECRET_A, 70), 0);
    /* The longest name and a secret fill WIRE_LOGIN_MAX exactly. */
    const char *longest = "abcdefghijklmnopqrstuvwxyz012345";
    ck_assert_int_eq(wire_login(longest, SECRET_A, out, WIRE_LOGIN_MAX), WIRE_LOGIN_MAX);
    ck_assert_int_eq(wire_login(longest, SECRET_A, out, WIRE_LOGIN_MAX - 1), -1);
    ck_assert_int_eq(wire_login("ana", "00", out, sizeof(out)), -1);
    ck_assert_int_eq(wire_login("ana", SECRET_A "0", out, sizeof(out)), -1);
    ck_assert_int_eq(wire_login("", SECRET_A, out, sizeof(out)), -1);
    ck_assert_int_eq(wire_valid_secret(SECRET_B, 64), 1);
    ck_assert_int_eq(wire_valid_secret(SECRET_B, 63), 0);
    ck_assert_int_eq(WIRE_OP_NEW_SECRET, 'X');
    ck_assert_int_eq(WIRE_OP_RELEASE, 'U');
}
END_TEST

/* ------------------------------------------------------------------ sess */

/* Feed literal server bytes to s as one read, then settle it as the player does at the end of a
 * read; events land in ev (up to cap); returns how many. */
static int feed_sess(struct sess *s, const char *bytes, size_t len, struct sess_event *ev, int cap)
{
    size_t off = 0;
    int n = 0, m;
    struct wire_frame f;
    struct sess_event some[SESS_EVENTS_MAX];
    int k;
    while ((k = wire_decode(bytes + off, len - off, &f)) > 0) {
        m = sess_frame(s, &f, some);
        for (int i = 0; i < m && n < cap; i++) {
            ev[n++] = some[i];
        }
        off += (size_t)k;
    }
    ck_assert_uint_eq(off, len);
    m = sess_settle(s, some);
    for (int i = 0; i < m && n < cap; i++) {
        ev[n++] = some[i];
    }
    return n;
}

/* The bytes the session queued are exactly want; they count as sent. */
static void expect_out(struct sess *s, const char *want, size_t n)
{
    ck_assert_msg(s->outlen == n && memcmp(s->out, want, n) == 0, "queued %zu bytes '%.*s', not '%.*s'", s->outlen,
                  (int)s->outlen, s->out, (int)n, want);
    sess_sent(s, n);
}
#define EXPECT_OUT(s, lit) expect_out((s), (lit), sizeof(lit) - 1)

START_TEST(test_sess_guest_infers_bot_move)
{
    struct sess s;
    struct sess_event ev[4];
    char err[128];

    ck_assert_int_eq(sess_init(&s, NULL, 0, err, sizeof(err)), 0);
    ck_assert_int_eq(sess_can_move(&s), 0);    /* offline */
    sess_connected(&s);
    ck_assert_uint_eq(s.outlen, 0);            /* a guest sends no hello */
    ck_assert_int_eq(sess_move(&s, RPS_ROCK), 0);
    ck_assert_int_eq(s.outlen, 1);
    ck_assert_int_eq(s.out[0], '2');
    ck_assert_int_eq(sess_move(&s, RPS_PAPER), -1); /* one move at a time */
    sess_sent(&s, 1);
    /* Rock and a win: the bot played scissors. */
    ck_assert_int_eq(feed_sess(&s, "y", 1, ev, 4), 1);
    ck_assert_int_eq(ev[0].is_round, 1);
    ck_assert_uint_eq(ev[0].number, 1);
    ck_assert_int_eq(ev[0].you, RPS_ROCK);
    ck_assert_int_eq(ev[0].opp, RPS_SCISSORS);
    ck_assert_int_eq(ev[0].outcome, RPS_WIN);
    sess_move(&s, RPS_SCISSORS);
    feed_sess(&s, "z", 1, ev, 4);
    ck_assert_int_eq(ev[0].opp, RPS_ROCK);
    sess_move(&s, RPS_PAPER);
    feed_sess(&s, "x", 1, ev, 4);
    ck_assert_int_eq(ev[0].opp, RPS_PAPER);
    ck_assert_uint_eq(s.wins, 1);
    ck_assert_uint_eq(s.losses, 1);
    ck_assert_uint_eq(s.draws, 1);
    ck_assert_uint_eq(s.rounds, 3);
}
END_TEST

START_TEST(test_sess_named_bot)
{
    struct sess s;
    struct sess_event ev[4];
    char err[128];

    ck_assert_int_eq(sess_init(&s, "ana", 0, err, sizeof(err)), 0);
    sess_set_secret(&s, SECRET_A);
    sess_connected(&s);
    ck_assert_int_eq(s.phase, SESS_NAMING);
    EXPECT_OUT(&s, "I\x03" "ana\x40" SECRET_A);
    ck_assert_int_eq(sess_can_move(&s), 0);    /* not before the name is accepted */
    ck_assert_int_eq(feed_sess(&s, "A\x03" "ana", 5, ev, 4), 1);
    ck_assert_int_eq(ev[0].note, SESS_NOTE_NAMED);
    ck_assert_str_eq(ev[0].text, "ana");
    ck_assert_int_eq(s.phase, SESS_LOBBY);
    ck_assert_uint_eq(s.outlen, 0);            /* no P without --pvp */
    ck_assert_int_eq(sess_move(&s, RPS_SCISSORS), 0);
    /* The bot's move comes first, then the result. */
    ck_assert_int_eq(feed_sess(&s, "M2z", 3, ev, 4), 1);
    ck_assert_int_eq(ev[0].you, RPS_SCISSORS);
    ck_assert_int_eq(ev[0].opp, RPS_ROCK);
    ck_assert_int_eq(ev[0].outcome, RPS_LOSS);
    ck_assert_int_eq(ev[0].why, SESS_PLAYED);
}
END_TEST

START_TEST(test_sess_refusals)
{
    struct sess s;
    struct sess_event ev[4];
    char err[128];

    ck_assert_int_eq(sess_init(&s, NULL, 1, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "--name"));
    ck_assert_int_eq(sess_init(&s, "a b", 0, err, sizeof(err)), -1);
    ck_assert_int_eq(sess_init(&s, "ana", 0, err, sizeof(err)), 0);
    sess_connected(&s);
    ck_assert_int_eq(feed_sess(&s, "N\x0d" "already named", 15, ev, 4), 1);
    ck_assert_int_eq(ev[0].note, SESS_NOTE_REFUSED);
    ck_assert_str_eq(ev[0].text, "already named");
    /* An error answers the pending move: it is dropped, not counted. */
    sess_init(&s, NULL, 0, err, sizeof(err));
    sess_connected(&s);
    sess_move(&s, RPS_ROCK);
    ck_assert_int_eq(feed_sess(&s, "E\x11" "games unavailable", 19, ev, 4), 1);
    ck_assert_int_eq(ev[0].note, SESS_NOTE_ERROR);
    ck_assert_int_eq(s.pending, RPS_NONE);
    ck_assert_uint_eq(s.rounds, 0);
    ck_assert_int_eq(sess_can_move(&s), 1);
}
END_TEST

START_TEST(test_sess_pvp_match)
{
    struct sess s;
    struct sess_event ev[4];
    char err[128];

    ck_assert_int_eq(sess_init(&s, "ana", 1, err, sizeof(err)), 0);
    sess_connected(&s);
    sess_sent(&s, s.outlen);
    /* The hello accepted, the session queues by itself. */
    feed_sess(&s, "A\x03" "ana", 5, ev, 4);
    ck_assert_int_eq(s.phase, SESS_QUEUED);
    ck_assert_int_eq((int)s.outlen, 1);
    ck_assert_int_eq(s.out[0], 'P');
    sess_sent(&s, 1);
    ck_assert_int_eq(sess_can_move(&s), 0);
    ck_assert_int_eq(feed_sess(&s, "W", 1, ev, 4), 1);
    ck_assert_int_eq(ev[0].note, SESS_NOTE_WAITING);
    ck_assert_int_eq(feed_sess(&s, "V\x02" "bo", 4, ev, 4), 1);
    ck_assert_int_eq(ev[0].note, SESS_NOTE_MATCHED);
    ck_assert_str_eq(ev[0].text, "bo");
    ck_assert_int_eq(s.phase, SESS_MATCH);

    ck_assert_int_eq(sess_move(&s, RPS_ROCK), 0);
    ck_assert_int_eq(feed_sess(&s, "M1y", 3, ev, 4), 1);
    ck_assert_int_eq(ev[0].you, RPS_ROCK);
    ck_assert_int_eq(ev[0].opp, RPS_SCISSORS);
    ck_assert_int_eq(ev[0].outcome, RPS_WIN);

    /* The opponent does not move: a forfeit win with our move. */
    sess_move(&s, RPS_PAPER);
    ck_assert_int_eq(feed_sess(&s, "Ty", 2, ev, 4), 1);
    ck_assert_int_eq(ev[0].why, SESS_OPP_TIMED_OUT);
    ck_assert_int_eq(ev[0].you, RPS_PAPER);
    ck_assert_int_eq(ev[0].opp, RPS_NONE);
    ck_assert_int_eq(ev[0].outcome, RPS_WIN);
    /* We did not move: a loss; then a void round counts for nobody. */
    ck_assert_int_eq(feed_sess(&s, "Tz", 2, ev, 4), 1);
    ck_assert_int_eq(ev[0].why, SESS_YOU_TIMED_OUT);
    ck_assert_int_eq(ev[0].you, RPS_NONE);
    ck_assert_int_eq(ev[0].outcome, RPS_LOSS);
    ck_assert_int_eq(feed_sess(&s, "Tv", 2, ev, 4), 1);
    ck_assert_int_eq(ev[0].is_round, 0);
    ck_assert_int_eq(ev[0].note, SESS_NOTE_VOID);
    ck_assert_uint_eq(s.rounds, 3);

    /* The opponent leaves after our move: the forfeit stored for us (`T y`), then the notice, back
     * in the lobby. */
    sess_move(&s, RPS_SCISSORS);
    ck_assert_int_eq(feed_sess(&s, "TyG", 3, ev, 4), 2);
    ck_assert_int_eq(ev[0].is_round, 1);
    ck_assert_int_eq(ev[0].why, SESS_OPP_LEFT);
    ck_assert_int_eq(ev[0].you, RPS_SCISSORS);
    ck_assert_int_eq(ev[0].outcome, RPS_WIN);
    ck_assert_int_eq(ev[1].note, SESS_NOTE_OPP_LEFT);
    ck_assert_int_eq(s.phase, SESS_LOBBY);
    ck_assert_int_eq(sess_can_move(&s), 0);     /* pvp lobby: moves would play the bot */
    ck_assert_uint_eq(s.wins, 3);
    ck_assert_uint_eq(s.losses, 1);

    ck_assert_int_eq(sess_queue(&s), 0);
    ck_assert_int_eq(sess_queue(&s), -1);       /* already queued */
    feed_sess(&s, "V\x02" "cy", 4, ev, 4);
    ck_assert_int_eq(feed_sess(&s, "Fy", 2, ev, 4), 1);
    ck_assert_int_eq(ev[0].note, SESS_NOTE_MATCH_OVER);
    ck_assert_int_eq(ev[0].code, 'y');
    ck_assert_int_eq(s.phase, SESS_LOBBY);
    ck_assert_int_eq(feed_sess(&s, "Q", 1, ev, 4), 1);
    ck_assert_int_eq(ev[0].note, SESS_NOTE_QUEUE_TIMEOUT);
}
END_TEST

START_TEST(test_sess_register_then_login)
{
    struct sess s;
    struct sess_event ev[4];
    char err[128];

    /* No secret: R, and the secret comes first, before the A. */
    ck_assert_int_eq(sess_init(&s, "ana", 0, err, sizeof(err)), 0);
    sess_connected(&s);
    EXPECT_OUT(&s, "R\x03" "ana");
    ck_assert_int_eq(feed_sess(&s, "K\x40" SECRET_A "A\x03" "ana", 71, ev, 4), 2);
    ck_assert_int_eq(ev[0].note, SESS_NOTE_SECRET);
    ck_assert_str_eq(ev[0].text, SECRET_A);
    ck_assert_int_eq(ev[1].note, SESS_NOTE_NAMED);
    ck_assert_str_eq(s.secret, SECRET_A);
    ck_assert_int_eq(s.phase, SESS_LOBBY);
    /* The next connection logs in with it. */
    sess_disconnected(&s);
    sess_connected(&s);
    EXPECT_OUT(&s, "I\x03" "ana\x40" SECRET_A);

    /* The server forgot the account: the stale secret goes and the name is registered again. */
    ck_assert_int_eq(feed_sess(&s, "N\x0e" "not registered", 16, ev, 4), 1);
    ck_assert_int_eq(ev[0].note, SESS_NOTE_FORGOTTEN);
    ck_assert_str_eq(s.secret, "");
    ck_assert_int_eq(s.phase, SESS_NAMING);
    EXPECT_OUT(&s, "R\x03" "ana");
    /* Registering is not retried: a refusal of R is final. */
    ck_assert_int_eq(feed_sess(&s, "N\x0a" "name taken", 12, ev, 4), 1);
    ck_assert_int_eq(ev[0].note, SESS_NOTE_REFUSED);
    ck_assert_str_eq(ev[0].text, "name taken");
    ck_assert_uint_eq(s.outlen, 0);

    /* "not registered" without a secret held is just a refusal. */
    sess_init(&s, "bo", 0, err, sizeof(err));
    sess_connected(&s);
    sess_sent(&s, s.outlen);
    ck_assert_int_eq(feed_sess(&s, "N\x0e" "not registered", 16, ev, 4), 1);
    ck_assert_int_eq(ev[0].note, SESS_NOTE_REFUSED);
    ck_assert_uint_eq(s.outlen, 0);
}
END_TEST

START_TEST(test_sess_taken_over_and_release)
{
    struct sess s;
    struct sess_event ev[4];
    char err[128];

    sess_init(&s, "ana", 0, err, sizeof(err));
    ck_assert_int_eq(sess_release(&s), -1);     /* offline */
    sess_set_secret(&s, SECRET_A);
    sess_connected(&s);
    sess_sent(&s, s.outlen);
    feed_sess(&s, "A\x03" "ana", 5, ev, 4);
    ck_assert_int_eq(sess_release(&s), 0);
    EXPECT_OUT(&s, "U");
    ck_assert_int_eq(feed_sess(&s, "U", 1, ev, 4), 1);
    ck_assert_int_eq(ev[0].note, SESS_NOTE_RELEASED);
    ck_assert_str_eq(s.secret, "");
    ck_assert_int_eq(feed_sess(&s, "E\x1b" "taken over by another login", 29, ev, 4), 1);
    ck_assert_int_eq(ev[0].note, SESS_NOTE_TAKEN_OVER);
    ck_assert_int_eq(feed_sess(&s, "E\x09" "bad frame", 11, ev, 4), 1);
    ck_assert_int_eq(ev[0].note, SESS_NOTE_ERROR);
    sess_init(&s, NULL, 0, err, sizeof(err));
    sess_connected(&s);
    ck_assert_int_eq(sess_release(&s), -1);     /* a guest has no name to give up */
}
END_TEST

/* A session matched with bo, ana's rock in round 1 (wins 1 already when won_first). */
static void in_match(struct sess *s, int won_first)
{
    struct sess_event ev[4];
    char err[128];
    sess_init(s, "ana", 1, err, sizeof(err));
    sess_set_secret(s, SECRET_A);
    sess_connected(s);
    sess_sent(s, s->outlen);
    feed_sess(s, "A\x03" "anaWV\x02" "bo", 10, ev, 4);
    sess_sent(s, s->outlen);
    ck_assert_int_eq(s->phase, SESS_MATCH);
    if (won_first) {
        sess_move(s, RPS_PAPER);
        feed_sess(s, "M2y", 3, ev, 4);
    }
    ck_assert_int_eq(sess_move(s, RPS_ROCK), 0);
    sess_sent(s, 1);
}

START_TEST(test_sess_rejoin_move_in)
{
    struct sess s;
    struct sess_event ev[4];

    in_match(&s, 0);
    sess_disconnected(&s);
    ck_assert_int_eq(s.lost, RPS_ROCK);
    ck_assert_int_eq(sess_can_move(&s), 0);
    sess_connected(&s);
    EXPECT_OUT(&s, "I\x03" "ana\x40" SECRET_A);
    /* A and J in one read: back in the match, the rock is in, nothing is sent again. */
    ck_assert_int_eq(feed_sess(&s, "A\x03" "anaJ\x0f" "bo 1 0 0 0 1 17", 22, ev, 4), 2);
    ck_assert_int_eq(ev[0].note, SESS_NOTE_NAMED);
    ck_assert_int_eq(ev[1].note, SESS_NOTE_REJOINED);
    ck_assert_str_eq(ev[1].snap.opponent, "bo");
    ck_assert_int_eq(ev[1].snap.moved, 1);
    ck_assert_uint_eq(ev[1].snap.seconds, 17);
    ck_assert_int_eq(s.phase, SESS_MATCH);
    ck_assert_uint_eq(s.outlen, 0);
    ck_assert_int_eq(s.pending, RPS_ROCK);
    ck_assert_int_eq(s.lost, RPS_NONE);
    /* The round ends as if nothing had happened. */
    ck_assert_int_eq(feed_sess(&s, "M1y", 3, ev, 4), 1);
    ck_assert_int_eq(ev[0].you, RPS_ROCK);
    ck_assert_int_eq(ev[0].opp, RPS_SCISSORS);
    ck_assert_uint_eq(s.match_wins, 1);
}
END_TEST

START_TEST(test_sess_rejoin_move_not_in)
{
    struct sess s;
    struct sess_event ev[4];

    in_match(&s, 0);
    sess_disconnected(&s);
    /* Two drops in a row: the move is still kept. */
    sess_connected(&s);
    sess_disconnected(&s);
    ck_assert_int_eq(s.lost, RPS_ROCK);
    sess_connected(&s);
    sess_sent(&s, s.outlen);
    /* The rock never reached the server: it goes again. */
    ck_assert_int_eq(feed_sess(&s, "A\x03" "anaJ\x0f" "bo 1 0 0 0 0 17", 22, ev, 4), 2);
    EXPECT_OUT(&s, "2");
    ck_assert_int_eq(s.pending, RPS_ROCK);
    ck_assert_int_eq(s.lost, RPS_NONE);
}
END_TEST

START_TEST(test_sess_rejoin_decided_while_away)
{
    struct sess s;
    struct sess_event ev[4];

    in_match(&s, 1);
    ck_assert_uint_eq(s.wins, 1);
    sess_disconnected(&s);
    sess_connected(&s);
    sess_sent(&s, s.outlen);
    /* bo moved while ana was away: round 2 is decided (a second win), round 3 is on. */
    ck_assert_int_eq(feed_sess(&s, "A\x03" "anaJ\x0f" "bo 3 2 0 0 0 29", 22, ev, 4), 3);
    ck_assert_int_eq(ev[1].note, SESS_NOTE_REJOINED);
    ck_assert_int_eq(ev[2].is_round, 1);
    ck_assert_uint_eq(ev[2].number, 2);
    ck_assert_int_eq(ev[2].you, RPS_ROCK);
    ck_assert_int_eq(ev[2].opp, RPS_NONE);
    ck_assert_int_eq(ev[2].outcome, RPS_WIN);
    ck_assert_int_eq(ev[2].why, SESS_WHILE_AWAY);
    /* The rock was played: not sent again, and the summary counts it. */
    ck_assert_uint_eq(s.outlen, 0);
    ck_assert_int_eq(s.pending, RPS_NONE);
    ck_assert_int_eq(s.lost, RPS_NONE);
    ck_assert_uint_eq(s.wins, 2);
    ck_assert_uint_eq(s.rounds, 2);
    ck_assert_int_eq(sess_can_move(&s), 1);
}
END_TEST

START_TEST(test_sess_rejoin_seat_lost)
{
    struct sess s;
    struct sess_event ev[4];

    in_match(&s, 0);
    sess_disconnected(&s);
    sess_connected(&s);
    sess_sent(&s, s.outlen);
    /* A alone: the seat is gone. The match is over, ana queues again, and the rock, which cannot
     * be played in a pvp lobby, is handed back. */
    ck_assert_int_eq(feed_sess(&s, "A\x03" "ana", 5, ev, 4), 3);
    ck_assert_int_eq(ev[0].note, SESS_NOTE_NAMED);
    ck_assert_int_eq(ev[1].note, SESS_NOTE_AWAY_OVER);
    ck_assert_int_eq(ev[2].note, SESS_NOTE_UNPLAYED);
    ck_assert_int_eq(ev[2].code, RPS_ROCK);
    ck_assert_int_eq(s.phase, SESS_QUEUED);
    EXPECT_OUT(&s, "P");
    ck_assert_int_eq(s.lost, RPS_NONE);
    ck_assert_int_eq(s.away, 0);
}
END_TEST

START_TEST(test_sess_lost_move_against_the_bot)
{
    struct sess s;
    struct sess_event ev[4];
    char err[128];

    /* A guest sends it again as soon as it is connected. */
    sess_init(&s, NULL, 0, err, sizeof(err));
    sess_connected(&s);
    sess_move(&s, RPS_PAPER);
    sess_sent(&s, 1);
    sess_disconnected(&s);
    ck_assert_int_eq(s.phase, SESS_OFFLINE);
    ck_assert_uint_eq(s.outlen, 0);
    sess_connected(&s);
    EXPECT_OUT(&s, "3");
    ck_assert_int_eq(feed_sess(&s, "y", 1, ev, 4), 1);
    ck_assert_int_eq(ev[0].you, RPS_PAPER);
    ck_assert_int_eq(ev[0].opp, RPS_ROCK);

    /* A name, once the login is answered (and no seat came with it). */
    sess_init(&s, "ana", 0, err, sizeof(err));
    sess_set_secret(&s, SECRET_A);
    sess_connected(&s);
    sess_sent(&s, s.outlen);
    feed_sess(&s, "A\x03" "ana", 5, ev, 4);
    sess_move(&s, RPS_SCISSORS);
    sess_sent(&s, 1);
    sess_disconnected(&s);
    sess_connected(&s);
    sess_sent(&s, s.outlen);
    ck_assert_int_eq(feed_sess(&s, "A\x03" "ana", 5, ev, 4), 1);
    EXPECT_OUT(&s, "1");
    ck_assert_int_eq(s.pending, RPS_SCISSORS);
}
END_TEST

/* A login that takes over a session waiting in the queue is answered A then W: it is queued
 * already, and must not queue again. */
START_TEST(test_sess_login_back_in_the_queue)
{
    struct sess s;
    struct sess_event ev[4];
    char err[128];

    sess_init(&s, "ana", 1, err, sizeof(err));
    sess_set_secret(&s, SECRET_A);
    sess_connected(&s);
    sess_sent(&s, s.outlen);
    ck_assert_int_eq(feed_sess(&s, "A\x03" "anaW", 6, ev, 4), 2);
    ck_assert_int_eq(ev[1].note, SESS_NOTE_WAITING);
    ck_assert_int_eq(s.phase, SESS_QUEUED);
    ck_assert_uint_eq(s.outlen, 0);
}
END_TEST

/* A new process logging in to a match a dropped one left: the snapshot is where it starts from,
 * and no round is reported as played while away. */
START_TEST(test_sess_rejoin_new_process)
{
    struct sess s;
    struct sess_event ev[4];
    char err[128];

    sess_init(&s, "ana", 1, err, sizeof(err));
    sess_set_secret(&s, SECRET_A);
    sess_connected(&s);
    sess_sent(&s, s.outlen);
    ck_assert_int_eq(feed_sess(&s, "A\x03" "anaJ\x0f" "bo 4 2 1 0 1 17", 22, ev, 4), 2);
    ck_assert_int_eq(ev[1].note, SESS_NOTE_REJOINED);
    ck_assert_uint_eq(s.outlen, 0);             /* no P: it is in a match */
    ck_assert_int_eq(s.phase, SESS_MATCH);
    ck_assert_str_eq(s.opponent, "bo");
    ck_assert_uint_eq(s.rounds, 0);
    ck_assert_uint_eq(s.match_wins, 2);
    ck_assert_uint_eq(s.match_losses, 1);
    /* Its move is in, made by the process before: none may be sent, and the result tells which. */
    ck_assert_int_eq(s.pending, SESS_MOVE_IN);
    ck_assert_int_eq(sess_move(&s, RPS_PAPER), -1);
    ck_assert_int_eq(feed_sess(&s, "M1y", 3, ev, 4), 1);
    ck_assert_int_eq(ev[0].you, RPS_ROCK);
    ck_assert_int_eq(ev[0].opp, RPS_SCISSORS);
    ck_assert_uint_eq(s.match_wins, 3);
    /* Unknown it stays when the opponent times out. */
    feed_sess(&s, "J\x0f" "bo 6 3 1 0 1 17", 17, ev, 4);
    ck_assert_int_eq(feed_sess(&s, "Ty", 2, ev, 4), 1);
    ck_assert_int_eq(ev[0].you, SESS_MOVE_IN);
    char line[128];
    report_round(&ev[0], line, sizeof(line));
    ck_assert_str_eq(line, "round 2: you unknown, opponent none: win (opponent timed out)");
}
END_TEST

/* The opponent leaves after our move was in: the server stores our forfeit win and says so (`T y`),
 * then `G`. One round, won because the opponent left. */
START_TEST(test_sess_forfeit_told_before_gone_is_one_win)
{
    struct sess s;
    struct sess_event ev[4];
    char line[128];

    in_match(&s, 0);
    ck_assert_int_eq(feed_sess(&s, "TyG", 3, ev, 4), 2);
    report_round(&ev[0], line, sizeof(line));
    ck_assert_str_eq(line, "round 1: you rock, opponent none: win (opponent left)");
    ck_assert_int_eq(ev[1].note, SESS_NOTE_OPP_LEFT);
    ck_assert_uint_eq(s.wins, 1);
    ck_assert_int_eq(s.phase, SESS_LOBBY);
}
END_TEST

/* The opponent leaves before our move reached the server: `G` alone. No round is ours: the move is
 * played against the bot in the lobby, and only that result is shown. */
START_TEST(test_sess_gone_before_our_move_shows_the_bot_round_not_a_forfeit)
{
    struct sess s;
    struct sess_event ev[4];
    char line[128];

    in_match(&s, 0);
    ck_assert_int_eq(feed_sess(&s, "G", 1, ev, 4), 1);
    ck_assert_int_eq(ev[0].note, SESS_NOTE_OPP_LEFT);
    ck_assert_uint_eq(s.rounds, 0);
    ck_assert_int_eq(feed_sess(&s, "M1y", 3, ev, 4), 1);
    report_round(&ev[0], line, sizeof(line));
    ck_assert_str_eq(line, "round 1: you rock, opponent scissors: win");
    ck_assert_uint_eq(s.rounds, 1);
    ck_assert_uint_eq(s.wins, 1);
}
END_TEST

/* A forfeit that is the last frame of a read is the opponent's time running out. */
START_TEST(test_sess_forfeit_alone_is_the_opponent_timing_out)
{
    struct sess s;
    struct sess_event ev[4];

    in_match(&s, 0);
    ck_assert_int_eq(feed_sess(&s, "Ty", 2, ev, 4), 1);
    ck_assert_int_eq(ev[0].why, SESS_OPP_TIMED_OUT);
    ck_assert_int_eq(ev[0].you, RPS_ROCK);
    ck_assert_int_eq(s.phase, SESS_MATCH);
}
END_TEST

START_TEST(test_sess_opponent_drops_and_comes_back)
{
    struct sess s;
    struct sess_event ev[4];

    in_match(&s, 0);
    ck_assert_int_eq(feed_sess(&s, "D\x02" "21", 4, ev, 4), 1);
    ck_assert_int_eq(ev[0].note, SESS_NOTE_OPP_DROPPED);
    ck_assert_int_eq(ev[0].code, 21);
    ck_assert_int_eq(s.opp_away, 1);
    ck_assert_int_eq(feed_sess(&s, "C", 1, ev, 4), 1);
    ck_assert_int_eq(ev[0].note, SESS_NOTE_OPP_BACK);
    ck_assert_int_eq(s.opp_away, 0);
    /* Not back in time: the round is ours by forfeit, then the match is over. */
    feed_sess(&s, "D\x01" "3", 3, ev, 4);
    ck_assert_int_eq(feed_sess(&s, "TyG", 3, ev, 4), 2);
    ck_assert_int_eq(ev[0].why, SESS_OPP_LEFT);
    ck_assert_int_eq(ev[1].note, SESS_NOTE_OPP_LEFT);
    ck_assert_int_eq(s.opp_away, 0);
}
END_TEST

/* ---------------------------------------------------------------- report */

START_TEST(test_report_lines)
{
    struct sess_event ev;
    char line[256];

    memset(&ev, 0, sizeof(ev));
    ev.is_round = 1;
    ev.number = 3;
    ev.you = RPS_ROCK;
    ev.opp = RPS_SCISSORS;
    ev.outcome = RPS_WIN;
    report_round(&ev, line, sizeof(line));
    ck_assert_str_eq(line, "round 3: you rock, opponent scissors: win");
    ev.opp = RPS_PAPER;
    ev.outcome = RPS_LOSS;
    report_round(&ev, line, sizeof(line));
    ck_assert_str_eq(line, "round 3: you rock, opponent paper: loss");
    ev.opp = RPS_ROCK;
    ev.outcome = RPS_DRAW;
    report_round(&ev, line, sizeof(line));
    ck_assert_str_eq(line, "round 3: you rock, opponent rock: draw");
    ev.number = 4;
    ev.opp = RPS_NONE;
    ev.outcome = RPS_WIN;
    ev.why = SESS_OPP_TIMED_OUT;
    report_round(&ev, line, sizeof(line));
    ck_assert_str_eq(line, "round 4: you rock, opponent none: win (opponent timed out)");
    ev.you = RPS_NONE;
    ev.outcome = RPS_LOSS;
    ev.why = SESS_YOU_TIMED_OUT;
    report_round(&ev, line, sizeof(line));
    ck_assert_str_eq(line, "round 4: you none, opponent unknown: loss (you timed out)");
    ev.you = RPS_PAPER;
    ev.outcome = RPS_WIN;
    ev.why = SESS_OPP_LEFT;
    report_round(&ev, line, sizeof(line));
    ck_assert_str_eq(line, "round 4: you paper, opponent none: win (opponent left)");
    ev.why = SESS_WHILE_AWAY;
    ev.you = RPS_ROCK;
    ev.opp = RPS_NONE;
    report_round(&ev, line, sizeof(line));
    ck_assert_str_eq(line, "round 4: you rock, opponent unknown: win (while you were away)");
    ck_assert_uint_eq(report_round(&ev, line, 10), 9);
    ck_assert_str_eq(line, "round 4: ");
}
END_TEST

START_TEST(test_report_notes)
{
    static const struct {
        enum sess_note note;
        int code;
        const char *text;
        const char *line;
    } cases[] = {
        { SESS_NOTE_NAMED, 0, "ana", "playing as ana" },
        { SESS_NOTE_WAITING, 0, "", "waiting for an opponent" },
        { SESS_NOTE_MATCHED, 0, "bo", "matched with bo" },
        { SESS_NOTE_QUEUE_TIMEOUT, 0, "", "queue timed out" },
        { SESS_NOTE_VOID, 0, "", "void round: neither player moved in time" },
        { SESS_NOTE_OPP_LEFT, 0, "bo", "opponent left" },
        { SESS_NOTE_MATCH_OVER, 'y', "", "match over: you won" },
        { SESS_NOTE_MATCH_OVER, 'z', "", "match over: you lost" },
        { SESS_NOTE_MATCH_OVER, 'v', "", "match over: both timed out" },
        { SESS_NOTE_LOBBY, 0, "", "back in the lobby" },
        { SESS_NOTE_AWAY_OVER, 0, "bo", "match over: ended while you were away" },
        { SESS_NOTE_OPP_DROPPED, 21, "bo", "opponent dropped: seat held for 21 s" },
        { SESS_NOTE_OPP_BACK, 0, "bo", "opponent is back" },
        { SESS_NOTE_ERROR, 0, "bad frame", "" },
        /* The secret is never printed. */
        { SESS_NOTE_SECRET, 0, SECRET_A, "" },
        { SESS_NOTE_FORGOTTEN, 0, "not registered", "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sess_event ev;
        char line[128];
        memset(&ev, 0, sizeof(ev));
        ev.note = cases[i].note;
        ev.code = cases[i].code;
        snprintf(ev.text, sizeof(ev.text), "%s", cases[i].text);
        ck_assert_uint_eq(report_note(&ev, line, sizeof(line)), strlen(cases[i].line));
        ck_assert_str_eq(line, cases[i].line);
    }
    char line[64];
    report_summary(2, 1, 0, line, sizeof(line));
    ck_assert_str_eq(line, "wins 2, losses 1, draws 0");
}
END_TEST

START_TEST(test_report_rejoined)
{
    struct sess_event ev;
    char line[256];
    memset(&ev, 0, sizeof(ev));
    ev.note = SESS_NOTE_REJOINED;
    ev.snap = (struct wire_snapshot){ "bo", 4, 2, 1, 0, 1, 17 };
    report_note(&ev, line, sizeof(line));
    ck_assert_str_eq(line, "rejoined: opponent bo, round 4, wins 2, losses 1, draws 0, your move is in, 17 s left");
    ev.snap.moved = 0;
    ev.snap.seconds = 3;
    report_note(&ev, line, sizeof(line));
    ck_assert_str_eq(line, "rejoined: opponent bo, round 4, wins 2, losses 1, draws 0, your move is not in, 3 s left");
    report_registered("ana", "/h/.config/arcade/ana@127.0.0.1:5000.secret", line, sizeof(line));
    ck_assert_str_eq(line, "registered ana: secret kept in /h/.config/arcade/ana@127.0.0.1:5000.secret");
}
END_TEST

/* A refusal says what it means and what to do, naming the server and, where it helps, the file. */
START_TEST(test_report_refusal)
{
    static const struct {
        const char *reason;
        const char *has[3];
    } cases[] = {
        { "name taken", { "belongs to someone else on h:1", "choose another --name", "copy its secret file" } },
        { "name is registered", { "belongs to someone else on h:1", "where you registered it to /f", NULL } },
        { "wrong secret", { "h:1 refused the secret kept for 'ana' in /f", "arcade account rotate", NULL } },
        { "too many attempts", { "too many failed logins for 'ana' on h:1", "try again later", NULL } },
        { "name in use", { "in use on h:1", "without an account", "choose another --name" } },
        { "bad name", { "the server refused the name 'ana': bad name", NULL, NULL } },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char line[512];
        report_refusal(cases[i].reason, "ana", "h:1", "/f", line, sizeof(line));
        for (int k = 0; k < 3 && cases[i].has[k] != NULL; k++) {
            ck_assert_msg(strstr(line, cases[i].has[k]) != NULL, "'%s' lacks '%s'", line, cases[i].has[k]);
        }
    }
}
END_TEST

/* ----------------------------------------------------------------- table */

START_TEST(test_table_parse)
{
    struct table_row r;
    char err[256];
    const char *ok = "2\tbo\t1231\t1\t4\t2\t0\t6\tWLW";

    ck_assert_int_eq(table_parse_row(ok, strlen(ok), &r, err, sizeof(err)), 0);
    ck_assert_int_eq(r.rank, 2);
    ck_assert_str_eq(r.name, "bo");
    ck_assert_int_eq(r.rating, 1231);
    ck_assert_int_eq(r.provisional, 1);
    ck_assert_int_eq(r.wins, 4);
    ck_assert_int_eq(r.losses, 2);
    ck_assert_int_eq(r.draws, 0);
    ck_assert_int_eq(r.rounds, 6);
    ck_assert_str_eq(r.form, "WLW");
    const char *empty_form = "9\tcy\t1180\t0\t0\t1\t0\t1\t";
    ck_assert_int_eq(table_parse_row(empty_form, strlen(empty_form), &r, err, sizeof(err)), 0);
    ck_assert_str_eq(r.form, "");
    static const char *bad[] = {
        "2\tbo\t1231\t1\t4\t2\t0\t6",               /* a column short */
        "2\tbo\t1231\t1\t4\t2\t0\t6\tWLW\tx",       /* a column long */
        "x\tbo\t1231\t1\t4\t2\t0\t6\tWLW",          /* rank not a number */
        "2\tb o\t1231\t1\t4\t2\t0\t6\tWLW",         /* not a name */
        "2\tbo\t1231.5\t1\t4\t2\t0\t6\tWLW",        /* rating not rounded */
        "2\tbo\t1231\t2\t4\t2\t0\t6\tWLW",          /* provisional is 0 or 1 */
        "2\tbo\t1231\t1\t-4\t2\t0\t6\tWLW",         /* negative total */
        "2\tbo\t1231\t1\t4\t2\t0\t6\tWLX",          /* form letter */
        "2\tbo\t1231\t1\t4\t2\t0\t6\tWWWWWWWWWWW",  /* form longer than 10 */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(table_parse_row(bad[i], strlen(bad[i]), &r, err, sizeof(err)) == -1, "%s", bad[i]);
    }
}
END_TEST

START_TEST(test_table_answer)
{
    const char *answer = "1\tana\t1262\t1\t12\t3\t1\t16\tWWDWW\n2\tbo\t1231\t0\t4\t2\t0\t6\tWLW\n.\n";
    struct table_row *rows;
    char err[256];

    ck_assert_int_eq(table_parse(answer, strlen(answer), &rows, err, sizeof(err)), 2);
    ck_assert_str_eq(rows[1].name, "bo");
    free(rows);
    ck_assert_int_eq(table_parse(".\n", 2, &rows, err, sizeof(err)), 0);
    free(rows);
    const char *unfinished = "1\tana\t1262\t1\t12\t3\t1\t16\tWWDWW\n";
    ck_assert_int_eq(table_parse(unfinished, strlen(unfinished), &rows, err, sizeof(err)), -1);
    free(rows);
}
END_TEST

static char *print_to_string(const struct table_row *rows, size_t n, int mark, int colour, int tsv)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    if (tsv) {
        table_print_tsv(f, rows, n);
    } else {
        table_print(f, rows, n, mark, colour);
    }
    fclose(f);
    return text;
}

START_TEST(test_table_print)
{
    struct table_row rows[3];
    char err[256];
    const char *lines[] = { "1\tana\t1262\t0\t12\t3\t1\t16\tWWDWW", "2\tbo\t1231\t1\t4\t2\t0\t6\tWLW",
                            "3\tcyrano_long\t987\t1\t0\t10\t0\t10\t" };
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(table_parse_row(lines[i], strlen(lines[i]), &rows[i], err, sizeof(err)), 0);
    }
    char *t = print_to_string(rows, 3, -1, 0, 0);
    ck_assert_str_eq(t, "rank  name         rating   wins  losses  draws  form\n"
                        "   1  ana            1262     12       3      1  WWDWW\n"
                        "   2  bo             1231?     4       2      0  WLW\n"
                        "   3  cyrano_long     987?     0      10      0  -\n"
                        "? provisional rating: fewer than 30 rated rounds\n");
    free(t);
    t = print_to_string(rows, 3, 1, 0, 0);
    ck_assert_str_eq(t, "  rank  name         rating   wins  losses  draws  form\n"
                        "     1  ana            1262     12       3      1  WWDWW\n"
                        ">    2  bo             1231?     4       2      0  WLW\n"
                        "     3  cyrano_long     987?     0      10      0  -\n"
                        "? provisional rating: fewer than 30 rated rounds\n");
    free(t);
    /* Colour: the marked row in reverse video, nothing else changes. */
    t = print_to_string(rows, 3, 1, 1, 0);
    ck_assert_ptr_nonnull(strstr(t, "> \033[7m   2  bo"));
    free(t);
    t = print_to_string(rows, 1, -1, 0, 0);
    ck_assert_ptr_null(strstr(t, "provisional"));
    free(t);
    t = print_to_string(rows, 3, -1, 0, 1);
    ck_assert_str_eq(t, "1\tana\t1262\t0\t12\t3\t1\t16\tWWDWW\n2\tbo\t1231\t1\t4\t2\t0\t6\tWLW\n"
                        "3\tcyrano_long\t987\t1\t0\t10\t0\t10\t\n");
    free(t);
}
END_TEST

/* ------------------------------------------------------------------- ask */

START_TEST(test_ask_framing)
{
    ck_assert_uint_eq(ask_answer_len("d144\nd8\n", 9, 0), 5);
    ck_assert_uint_eq(ask_answer_len("d14", 3, 0), 0);
    ck_assert_uint_eq(ask_answer_len("eunknown op\n", 12, 0), 12);
    const char *rows = "1\ta\t1\t1\t1\t0\t0\t1\tW\n2\tb\t1\t1\t0\t1\t0\t1\tL\n.\nd4\n";
    size_t all = strlen(rows) - 3;
    ck_assert_uint_eq(ask_answer_len(rows, strlen(rows), 1), all);
    for (size_t cut = 0; cut < all; cut++) {
        ck_assert_uint_eq(ask_answer_len(rows, cut, 1), 0);
    }
    ck_assert_uint_eq(ask_answer_len(".\n", 2, 1), 2);
    ck_assert_uint_eq(ask_answer_len("ebad count\nd4\n", 14, 1), 11);
    ck_assert_int_eq(ask_is_multiline("t5"), 1);
    ck_assert_int_eq(ask_is_multiline(" rbo 2"), 1);
    ck_assert_int_eq(ask_is_multiline("a12"), 0);
    char err[128];
    ck_assert_int_eq(ask_check_request("a12", err, sizeof(err)), 0);
    ck_assert_int_eq(ask_check_request("rbo 2", err, sizeof(err)), 0);
    ck_assert_int_eq(ask_check_request("", err, sizeof(err)), -1);
    ck_assert_int_eq(ask_check_request("  ", err, sizeof(err)), -1);
    ck_assert_int_eq(ask_check_request("a1\na2", err, sizeof(err)), -1);
}
END_TEST

/* What json_string writes for len bytes of s. */
static const char *json_of(const char *s, size_t len)
{
    static char buf[512];
    FILE *f = fmemopen(buf, sizeof(buf), "w");
    ck_assert_ptr_nonnull(f);
    json_string(f, s, len);
    fclose(f);
    return buf;
}

START_TEST(test_json_strings)
{
    ck_assert_str_eq(json_of("ana", 3), "\"ana\"");
    ck_assert_str_eq(json_of("", 0), "\"\"");
    ck_assert_str_eq(json_of("a\"b\\c/d", 7), "\"a\\\"b\\\\c/d\"");
    ck_assert_str_eq(json_of("\b\f\n\r\t", 5), "\"\\b\\f\\n\\r\\t\"");
    ck_assert_str_eq(json_of("\x01\x1f\x7f", 3), "\"\\u0001\\u001f\\u007f\"");
    /* A NUL inside the length, and a byte above 0x7f, still make valid JSON. */
    ck_assert_str_eq(json_of("a\0b\xe9", 4), "\"a\\u0000b\\u00e9\"");
}
END_TEST

/* --------------------------------------------------------------- secrets */

static int mode_of(const char *path)
{
    struct stat st;
    ck_assert_msg(stat(path, &st) == 0, "%s: %s", path, strerror(errno));
    return (int)(st.st_mode & 07777);
}

/* What a file holds (at most cap - 1 bytes). */
static const char *contents(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    buf[n < 0 ? 0 : n] = '\0';
    return buf;
}

/* The names in a directory, "." and ".." aside. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    ck_assert_ptr_nonnull(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    }
    closedir(d);
    return n;
}

START_TEST(test_secrets_keep_load_drop)
{
    char base[128], xdg[256], dir[300], want[400], path[SECRETS_PATH_MAX], err[SECRETS_ERR_MAX], buf[256];
    char secret[WIRE_SECRET_LEN + 1];

    fresh_config(base, sizeof(base));
    /* A directory that does not exist yet: made, every level 0700. */
    snprintf(xdg, sizeof(xdg), "%s/deeper/config", base);
    setenv("XDG_CONFIG_HOME", xdg, 1);
    snprintf(dir, sizeof(dir), "%s/arcade", xdg);
    ck_assert_int_eq(secrets_load("127.0.0.1", 5000, "ana", secret, err, sizeof(err)), 0);
    ck_assert_int_eq(secrets_save("127.0.0.1", 5000, "Ana", SECRET_A, err, sizeof(err)), 0);
    ck_assert_int_eq(secrets_path("127.0.0.1", 5000, "ANA", path, sizeof(path), err, sizeof(err)), 0);
    snprintf(want, sizeof(want), "%s/ana@127.0.0.1:5000.secret", dir);
    ck_assert_str_eq(path, want);
    ck_assert_int_eq(mode_of(path), 0600);
    ck_assert_int_eq(mode_of(dir), 0700);
    ck_assert_int_eq(mode_of(xdg), 0700);
    ck_assert_str_eq(contents(path, buf, sizeof(buf)), SECRET_A "\n");

    /* The name without case; the server by host and port. */
    ck_assert_int_eq(secrets_load("127.0.0.1", 5000, "aNA", secret, err, sizeof(err)), 1);
    ck_assert_str_eq(secret, SECRET_A);
    ck_assert_int_eq(secrets_load("127.0.0.1", 5001, "ana", secret, err, sizeof(err)), 0);
    ck_assert_int_eq(secrets_load("localhost", 5000, "ana", secret, err, sizeof(err)), 0);
    ck_assert_int_eq(secrets_load("127.0.0.1", 5000, "bo", secret, err, sizeof(err)), 0);

    /* Replaced whole, with no temporary file left behind. */
    ck_assert_int_eq(secrets_save("127.0.0.1", 5000, "ana", SECRET_B, err, sizeof(err)), 0);
    ck_assert_int_eq(secrets_load("127.0.0.1", 5000, "ana", secret, err, sizeof(err)), 1);
    ck_assert_str_eq(secret, SECRET_B);
    ck_assert_int_eq(mode_of(path), 0600);
    ck_assert_int_eq(secrets_save("localhost", 5000, "ana", SECRET_A, err, sizeof(err)), 0);
    ck_assert_int_eq(entries(dir), 2);

    ck_assert_int_eq(secrets_drop("127.0.0.1", 5000, "ANA", err, sizeof(err)), 0);
    ck_assert_int_eq(secrets_load("127.0.0.1", 5000, "ana", secret, err, sizeof(err)), 0);
    ck_assert_int_eq(secrets_drop("127.0.0.1", 5000, "ana", err, sizeof(err)), 0);
    ck_assert_int_eq(entries(dir), 1);
}
END_TEST

START_TEST(test_secrets_tighten)
{
    char base[128], dir[200], path[SECRETS_PATH_MAX], err[SECRETS_ERR_MAX];
    char secret[WIRE_SECRET_LEN + 1];

    fresh_config(base, sizeof(base));
    snprintf(dir, sizeof(dir), "%s/arcade", base);
    ck_assert_int_eq(secrets_save("h", 1, "ana", SECRET_A, err, sizeof(err)), 0);
    ck_assert_int_eq(secrets_path("h", 1, "ana", path, sizeof(path), err, sizeof(err)), 0);
    /* Found looser (a copy from another machine, a umask): made private again when read. */
    ck_assert_int_eq(chmod(path, 0644), 0);
    ck_assert_int_eq(chmod(dir, 0755), 0);
    ck_assert_int_eq(secrets_load("h", 1, "ana", secret, err, sizeof(err)), 1);
    ck_assert_int_eq(mode_of(path), 0600);
    ck_assert_int_eq(mode_of(dir), 0700);
    /* And when written, or checked before a registration. */
    ck_assert_int_eq(chmod(dir, 0777), 0);
    ck_assert_int_eq(secrets_save("h", 1, "bo", SECRET_B, err, sizeof(err)), 0);
    ck_assert_int_eq(mode_of(dir), 0700);
    ck_assert_int_eq(chmod(dir, 0750), 0);
    ck_assert_int_eq(secrets_ready(err, sizeof(err)), 0);
    ck_assert_int_eq(mode_of(dir), 0700);
}
END_TEST

START_TEST(test_secrets_refuse)
{
    char base[128], dir[200], path[SECRETS_PATH_MAX], err[SECRETS_ERR_MAX], want[300];
    char secret[WIRE_SECRET_LEN + 1];

    fresh_config(base, sizeof(base));
    ck_assert_int_eq(secrets_save("h", 1, "ana", "not a secret", err, sizeof(err)), -1);
    ck_assert_int_eq(secrets_save("h", 1, "ana", SECRET_A, err, sizeof(err)), 0);
    ck_assert_int_eq(secrets_path("h", 1, "ana", path, sizeof(path), err, sizeof(err)), 0);
    /* A file that does not hold a secret is an error, never taken for one. */
    static const char *bad[] = { "hello\n", "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\n",
                                 SECRET_A SECRET_A "\n", "" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int fd = open(path, O_WRONLY | O_TRUNC);
        ck_assert_int_eq(write(fd, bad[i], strlen(bad[i])), (ssize_t)strlen(bad[i]));
        close(fd);
        ck_assert_int_eq(secrets_load("h", 1, "ana", secret, err, sizeof(err)), -1);
        ck_assert_ptr_nonnull(strstr(err, path));
    }
    /* A host cannot make a path of its own. */
    ck_assert_int_eq(secrets_path("../x/y z", 1, "ana", path, sizeof(path), err, sizeof(err)), 0);
    snprintf(want, sizeof(want), "%s/arcade/ana@..%%2Fx%%2Fy%%20z:1.secret", base);
    ck_assert_str_eq(path, want);
    /* A relative XDG_CONFIG_HOME is ignored, as the XDG rules say: HOME's .config it is. */
    setenv("XDG_CONFIG_HOME", "relative", 1);
    setenv("HOME", base, 1);
    ck_assert_int_eq(secrets_path("h", 1, "ana", path, sizeof(path), err, sizeof(err)), 0);
    snprintf(want, sizeof(want), "%s/.config/arcade/ana@h:1.secret", base);
    ck_assert_str_eq(path, want);
    /* A file where the directory should be. */
    snprintf(dir, sizeof(dir), "%s/file", base);
    int fd = open(dir, O_WRONLY | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    close(fd);
    setenv("XDG_CONFIG_HOME", dir, 1);
    ck_assert_int_eq(secrets_ready(err, sizeof(err)), -1);
    ck_assert_int_eq(secrets_save("h", 1, "ana", SECRET_A, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, dir));
}
END_TEST

/* ============================================================ end to end */

static long long now_ms(void);




/* Run arcade with the given arguments (after the subcommand's name, then --port), NULL-terminated. */
static int arcade(const char *input, char *out, char *err, const char *cmd, ...)
{
    char *argv[40];
    int n = 0;
    va_list ap;
    argv[n++] = (char *)harness_arcade();
    argv[n++] = (char *)cmd;
    argv[n++] = "--port";
    argv[n++] = port_arg;
    va_start(ap, cmd);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 38) {
        argv[n++] = (char *)a;
    }
    va_end(ap);
    argv[n] = NULL;
    return harness_run(argv, input, out, OUT_CAP, err, OUT_CAP);
}

static char out[OUT_CAP], err[OUT_CAP];

/* Where arcade keeps name's secret for the server on port, with this test's XDG_CONFIG_HOME. */
static const char *secret_file(const char *name, int port)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/arcade/%s@127.0.0.1:%d.secret", getenv("XDG_CONFIG_HOME"), name, port);
    return path;
}

/* The line of a first run that registered name. */
static const char *registered_line(const char *name, int port)
{
    static char line[600];
    snprintf(line, sizeof(line), "registered %s: secret kept in %s\n", name, secret_file(name, port));
    return line;
}

START_TEST(test_e2e_ask_every_op)
{
    start_server(NULL);
    ck_assert_int_eq(arcade(NULL, out, err, "ask", "a12", NULL), 0);
    ck_assert_str_eq(out, "144\n");
    ck_assert_str_eq(err, "");
    ck_assert_int_eq(arcade(NULL, out, err, "ask", "b-2", "c1.5", "d1.50", "a1e30", "a0.1", "a1.5e-30", NULL), 0);
    ck_assert_str_eq(out, "-8\n5.0625\n1.5\n1e60\n0.01\n2.25e-60\n");
    ck_assert_int_eq(arcade(NULL, out, err, "square", "12", "-3", NULL), 0);
    ck_assert_str_eq(out, "144\n9\n");
    ck_assert_int_eq(arcade(NULL, out, err, "cube", "3", NULL), 0);
    ck_assert_str_eq(out, "27\n");
    ck_assert_int_eq(arcade(NULL, out, err, "fourth", "2", NULL), 0);
    ck_assert_str_eq(out, "16\n");
    /* t and r on an empty board: no rows, and r an unknown player. */
    ck_assert_int_eq(arcade(NULL, out, err, "ask", "t", "a2", NULL), 0);
    ck_assert_str_eq(out, "4\n");
    stop_server();
}
END_TEST

START_TEST(test_e2e_ask_many_in_order)
{
    start_server(NULL);
    /* Fifty requests on one connection, answered in order. */
    const char *argv[60];
    char reqs[50][16], expect[2048] = "";
    int n = 0;
    argv[n++] = harness_arcade();
    argv[n++] = "ask";
    argv[n++] = "--port";
    argv[n++] = port_arg;
    for (int i = 0; i < 50; i++) {
        snprintf(reqs[i], sizeof(reqs[i]), "a%d", i);
        argv[n++] = reqs[i];
        snprintf(expect + strlen(expect), sizeof(expect) - strlen(expect), "%d\n", i * i);
    }
    argv[n] = NULL;
    ck_assert_int_eq(harness_run((char *const *)argv, NULL, out, OUT_CAP, err, OUT_CAP), 0);
    ck_assert_str_eq(out, expect);
    stop_server();
}
END_TEST

START_TEST(test_e2e_ask_udp)
{
    start_server(NULL);
    ck_assert_int_eq(arcade(NULL, out, err, "ask", "--udp", "a12", "b2", "d+7", NULL), 0);
    ck_assert_str_eq(out, "144\n8\n7\n");
    ck_assert_int_eq(arcade(NULL, out, err, "square", "--udp", "12e3", NULL), 0);
    ck_assert_str_eq(out, "144000000\n");
    /* An answer over three times its datagram is not sent over UDP. */
    ck_assert_int_eq(arcade(NULL, out, err, "square", "--udp", "1e10", NULL), 1);
    ck_assert_str_eq(err, "arcade: 1e10: tcp only\n");
    ck_assert_int_eq(arcade(NULL, out, err, "ask", "--udp", "x5555", NULL), 1);
    ck_assert_str_eq(err, "arcade: x5555: unknown op\n");
    /* Lines of standard input, one datagram each, answers in line with them. */
    ck_assert_int_eq(arcade("3\nxyzw\n4\n", out, err, "cube", "--udp", NULL), 1);
    ck_assert_str_eq(out, "27\n\n64\n");
    ck_assert_str_eq(err, "arcade: xyzw: no number\n");
    stop_server();
}
END_TEST

START_TEST(test_e2e_ask_server_errors)
{
    static const struct {
        const char *req;
        const char *reason;
    } cases[] = {
        { "x5", "unknown op" },          { "a", "no number" },
        { "a12x", "junk after number" }, { "a1e1000000000", "number too large" },
        { "t0", "bad count" },           { "rnobody", "unknown player" },
        { "P", "unknown op" },           /* would open a game as a connection's first byte */
        { "2", "unknown op" },
    };
    start_server(NULL);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[128];
        snprintf(want, sizeof(want), "arcade: %s: %s\n", cases[i].req, cases[i].reason);
        ck_assert_int_eq(arcade(NULL, out, err, "ask", cases[i].req, NULL), 1);
        ck_assert_str_eq(out, "\n");
        ck_assert_str_eq(err, want);
    }
    /* A line over 1024 bytes. */
    static char big[1100];
    memset(big, '1', sizeof(big) - 1);
    big[0] = 'a';
    ck_assert_int_eq(arcade(NULL, out, err, "ask", big, NULL), 1);
    ck_assert_int_eq(strncmp(err, "arcade: a1111", 13), 0);
    ck_assert_ptr_nonnull(strstr(err, "1: line too long\n"));
    /* Good and bad mixed: every answer, in order, and status 1; the failed one says which input
     * it was and leaves an empty line, so the answers stay in line with the inputs. */
    ck_assert_int_eq(arcade(NULL, out, err, "ask", "a2", "x", "a3", NULL), 1);
    ck_assert_str_eq(out, "4\n\n9\n");
    ck_assert_str_eq(err, "arcade: x: unknown op\n");
    ck_assert_int_eq(arcade(NULL, out, err, "square", "1", "abc", "3", NULL), 1);
    ck_assert_str_eq(out, "1\n\n9\n");
    ck_assert_str_eq(err, "arcade: abc: no number\n");
    ck_assert_int_eq(arcade(NULL, out, err, "fourth", "x", "2", "2y", NULL), 1);
    ck_assert_str_eq(out, "\n16\n\n");
    ck_assert_str_eq(err, "arcade: x: no number\narcade: 2y: junk after number\n");
    stop_server();
}
END_TEST

START_TEST(test_e2e_ask_usage)
{
    start_server(NULL);
    ck_assert_int_eq(arcade(NULL, out, err, "ask", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err, "nothing to ask"));
    ck_assert_int_eq(arcade(NULL, out, err, "ask", "--bogus", "a1", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err, "unknown option --bogus"));
    ck_assert_int_eq(arcade(NULL, out, err, "ask", "", NULL), 2);
    ck_assert_int_eq(arcade(NULL, out, err, "ask", "a1\na2", NULL), 2);
    ck_assert_int_eq(arcade(NULL, out, err, "ask", "--port", "99999", "a1", NULL), 2);
    ck_assert_int_eq(arcade(NULL, out, err, "ask", "--timeout", "0", "a1", NULL), 2);
    ck_assert_int_eq(arcade(NULL, out, err, "ask", "--help", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "usage: arcade ask"));
    ck_assert_int_eq(arcade(NULL, out, err, "nosuch", NULL), 2);
    setenv("ARCADE_PORT", "zero", 1);
    ck_assert_int_eq(arcade(NULL, out, err, "ask", "a1", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err, "ARCADE_PORT"));
    /* ARCADE_PORT alone finds the server. */
    setenv("ARCADE_PORT", port_arg, 1);
    char *argv[] = { (char *)harness_arcade(), "ask", "a5", NULL };
    ck_assert_int_eq(harness_run(argv, NULL, out, OUT_CAP, err, OUT_CAP), 0);
    ck_assert_str_eq(out, "25\n");
    unsetenv("ARCADE_PORT");
    stop_server();
}
END_TEST

/* Requests from standard input: with no arguments, or where an argument is "-". */
START_TEST(test_e2e_ask_stdin)
{
    start_server(NULL);
    ck_assert_int_eq(arcade("a12\n", out, err, "ask", NULL), 0);
    ck_assert_str_eq(out, "144\n");
    ck_assert_str_eq(err, "");
    /* Blank lines are no requests; spaces around a line and a CR before its end are dropped; the
     * last line needs no newline. */
    ck_assert_int_eq(arcade("a2\n\n  b3 \r\nt1\nd1.50", out, err, "ask", "-", NULL), 0);
    ck_assert_str_eq(out, "4\n27\n1.5\n");
    /* "-" among arguments: its lines go in its place. */
    ck_assert_int_eq(arcade("a2\na3\n", out, err, "ask", "a1", "-", "a4", NULL), 0);
    ck_assert_str_eq(out, "1\n4\n9\n16\n");
    ck_assert_int_eq(arcade("12\n-3\n", out, err, "square", "-", NULL), 0);
    ck_assert_str_eq(out, "144\n9\n");
    /* A line that cannot be sent is named by its number and answered in its turn (status 2); the
     * server's errors name the line. Every input keeps its line of output. */
    ck_assert_int_eq(arcade("a2\nx\na\001b\na3\n", out, err, "ask", NULL), 2);
    ck_assert_str_eq(out, "4\n\n\n9\n");
    ck_assert_str_eq(err, "arcade: x: unknown op\narcade: line 3: a request cannot hold control characters "
                          "(byte 0x01)\n");
    static char big[ASK_LINE_MAX + 100];
    memset(big, '1', sizeof(big) - 3);
    memcpy(big, "a", 1);
    memcpy(big + sizeof(big) - 3, "\na", 3);
    ck_assert_int_eq(arcade(big, out, err, "ask", NULL), 2);
    ck_assert_str_eq(out, "\n\n");
    ck_assert_ptr_nonnull(strstr(err, "arcade: line 1: longer than 4096 bytes\n"));
    ck_assert_ptr_nonnull(strstr(err, "arcade: a: no number\n"));
    /* An input with no request in it. */
    ck_assert_int_eq(arcade("\n \n", out, err, "ask", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err, "nothing to ask"));
    stop_server();
}
END_TEST

/* arcade ask reading a pipe the test writes to, and its stdout read as it comes. */
struct piped {
    pid_t pid;
    int in, out;
    char buf[4096];
    size_t len;
};

static void piped_start(struct piped *p, const char *cmd)
{
    int pin[2], pout[2];
    ck_assert_int_eq(pipe(pin), 0);
    ck_assert_int_eq(pipe(pout), 0);
    p->len = 0;
    p->pid = fork();
    ck_assert_int_ge(p->pid, 0);
    if (p->pid == 0) {
        dup2(pin[0], 0);
        dup2(pout[1], 1);
        close(pin[0]); close(pin[1]); close(pout[0]); close(pout[1]);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execl(harness_arcade(), harness_arcade(), cmd, "--port", port_arg, "-", (char *)NULL);
        _exit(127);
    }
    close(pin[0]);
    close(pout[1]);
    p->in = pin[1];
    p->out = pout[0];
}

/* The next line of its stdout (without '\n'), waiting for it at most WAIT_MS. */
static const char *piped_line(struct piped *p)
{
    static char line[4096];
    struct pollfd pf = { .fd = p->out, .events = POLLIN };
    long long deadline = now_ms() + WAIT_MS;
    char *nl;
    while ((nl = memchr(p->buf, '\n', p->len)) == NULL) {
        long long left = deadline - now_ms();
        ck_assert_msg(left > 0 && poll(&pf, 1, (int)left) == 1, "no line from arcade ask; it wrote '%.*s'",
                      (int)p->len, p->buf);
        ssize_t r = read(p->out, p->buf + p->len, sizeof(p->buf) - 1 - p->len);
        ck_assert_msg(r > 0, "arcade ask closed its output; it wrote '%.*s'", (int)p->len, p->buf);
        p->len += (size_t)r;
    }
    size_t k = (size_t)(nl - p->buf);
    memcpy(line, p->buf, k);
    line[k] = '\0';
    memmove(p->buf, nl + 1, p->len - k - 1);
    p->len -= k + 1;
    return line;
}

static int piped_exit(struct piped *p)
{
    int status;
    close(p->in);
    ck_assert_int_eq(waitpid(p->pid, &status, 0), p->pid);
    close(p->out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Each line is answered while standard input is still open: requests are not held until its end. */
START_TEST(test_e2e_ask_streams)
{
    struct piped p;
    start_server(NULL);
    piped_start(&p, "ask");
    ck_assert_int_eq(write(p.in, "a2\n", 3), 3);
    ck_assert_str_eq(piped_line(&p), "4");
    ck_assert_int_eq(write(p.in, "x\nt1\nb2\n", 8), 8);
    ck_assert_str_eq(piped_line(&p), "");
    ck_assert_str_eq(piped_line(&p), "8");
    ck_assert_int_eq(piped_exit(&p), 1);
    stop_server();
}
END_TEST

/* The server's idle timeout closes the connection between two lines a person types: the next
 * line is sent on a new connection. */
START_TEST(test_e2e_ask_reopens_after_idle_close)
{
    struct piped p;
    start_server("--verbose", "--idle-timeout=0.2", NULL);
    piped_start(&p, "square");
    ck_assert_int_eq(write(p.in, "2\n", 2), 2);
    ck_assert_str_eq(piped_line(&p), "4");
    long long deadline = now_ms() + WAIT_MS;
    char log[OUT_CAP];
    for (;;) {
        int fd = open(srv.log, O_RDONLY);
        ssize_t n = fd >= 0 ? read(fd, log, sizeof(log) - 1) : -1;
        close(fd);
        log[n > 0 ? n : 0] = '\0';
        if (strstr(log, "closed (idle timeout") != NULL) {
            break;
        }
        ck_assert_msg(now_ms() < deadline, "the server never closed the idle connection: %s", log);
        poll(NULL, 0, 20);  /* a log file cannot be waited on */
    }
    ck_assert_int_eq(write(p.in, "3\n", 2), 2);
    ck_assert_str_eq(piped_line(&p), "9");
    ck_assert_int_eq(piped_exit(&p), 0);
    stop_server();
}
END_TEST

/* --json: one array, an object per request, strings escaped, rows typed. */
START_TEST(test_e2e_ask_json)
{
    start_server(NULL);
    ck_assert_int_eq(arcade(NULL, out, err, "ask", "--json", "a12", "x\"\\", "a1e30", "t1", NULL), 1);
    ck_assert_str_eq(out, "[\n{\"request\":\"a12\",\"answer\":\"144\"},\n"
                          "{\"request\":\"x\\\"\\\\\",\"error\":\"unknown op\"},\n"
                          "{\"request\":\"a1e30\",\"answer\":\"1e60\"},\n"
                          "{\"request\":\"t1\",\"answer\":[]}\n]\n");
    ck_assert_str_eq(err, "");
    ck_assert_int_eq(arcade("12\n\001\n", out, err, "square", "--json", NULL), 2);
    ck_assert_str_eq(out, "[\n{\"request\":\"a12\",\"answer\":\"144\"},\n"
                          "{\"request\":\"a\\u0001\",\"error\":\"a request cannot hold control characters "
                          "(byte 0x01)\"}\n]\n");
    stop_server();
}
END_TEST

START_TEST(test_e2e_version_help)
{
    char *v[] = { (char *)harness_arcade(), "--version", NULL };
    ck_assert_int_eq(harness_run(v, NULL, out, OUT_CAP, err, OUT_CAP), 0);
    ck_assert_ptr_nonnull(strstr(out, "arcade "));
    char *h[] = { (char *)harness_arcade(), "--help", NULL };
    ck_assert_int_eq(harness_run(h, NULL, out, OUT_CAP, err, OUT_CAP), 0);
    /* README's copy of the help is the help. */
    char readme[65536];
    int rfd = open("README.md", O_RDONLY);
    ck_assert_msg(rfd >= 0, "README.md not found: run the suite from the repository's root");
    ssize_t rn = read(rfd, readme, sizeof(readme) - 1);
    close(rfd);
    readme[rn > 0 ? rn : 0] = '\0';
    const char *block = strstr(readme, "$ arcade --help\n");
    ck_assert_ptr_nonnull(block);
    block += strlen("$ arcade --help\n");
    ck_assert_int_eq(strncmp(block, out, strlen(out)), 0);
    ck_assert_int_eq(strncmp(block + strlen(out), "```", 3), 0);
    /* Every command takes what the help says every command takes. */
    static const char *cmds[] = { "play", "account", "ask", "square", "cube", "fourth", "top", "rank", "bench" };
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        ck_assert_ptr_nonnull(strstr(out, cmds[i]));
        char *sub[] = { (char *)harness_arcade(), (char *)cmds[i], "--help", NULL };
        char *sub_h[] = { (char *)harness_arcade(), (char *)cmds[i], "-h", NULL };
        char sout[8192], serr[1024], hout[8192];
        ck_assert_int_eq(harness_run(sub, NULL, sout, sizeof(sout), serr, sizeof(serr)), 0);
        ck_assert_int_eq(harness_run(sub_h, NULL, hout, sizeof(hout), serr, sizeof(serr)), 0);
        ck_assert_str_eq(sout, hout);
        ck_assert_msg(strstr(sout, "--host ") != NULL && strstr(sout, "--port ") != NULL &&
                          strstr(sout, "--timeout S") != NULL && strstr(sout, "-h, --help") != NULL &&
                          strstr(sout, "exit status") != NULL,
                      "arcade %s --help:\n%s", cmds[i], sout);
    }
    /* The server takes -h as --help, as the client does. */
    char *sh[] = { (char *)harness_arcaded(), "-h", NULL };
    ck_assert_int_eq(harness_run(sh, NULL, out, OUT_CAP, err, OUT_CAP), 0);
    ck_assert_ptr_nonnull(strstr(out, "--port N"));
    ck_assert_str_eq(err, "");
}
END_TEST

/* A port where nothing listens: bound, never listening, so connecting is refused. */
static int closed_port(int *fd)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(*fd, 0);
    ck_assert_int_eq(bind(*fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(getsockname(*fd, (struct sockaddr *)&sa, &len), 0);
    return ntohs(sa.sin_port);
}

START_TEST(test_e2e_unreachable)
{
    int fd;
    int port = closed_port(&fd);
    char want[128];
    snprintf(port_arg, sizeof(port_arg), "%d", port);
    snprintf(want, sizeof(want), "arcade: cannot connect to 127.0.0.1:%d: Connection refused\n", port);
    ck_assert_int_eq(arcade(NULL, out, err, "ask", "a12", NULL), 3);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(arcade(NULL, out, err, "top", NULL), 3);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(arcade("r p s", out, err, "play", NULL), 3);
    ck_assert_str_eq(err, want);
    ck_assert_str_eq(out, "");
    close(fd);
}
END_TEST

/* A server that accepts and never answers: TCP and UDP time out with status 3. */
START_TEST(test_e2e_timeout)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(l, 4), 0);
    ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sa, &len), 0);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_eq(bind(u, (struct sockaddr *)&sa, sizeof(sa)), 0);
    snprintf(port_arg, sizeof(port_arg), "%d", ntohs(sa.sin_port));

    ck_assert_int_eq(arcade(NULL, out, err, "ask", "--timeout", "0.3", "a12", NULL), 3);
    ck_assert_ptr_nonnull(strstr(err, "no answer from 127.0.0.1:"));
    ck_assert_int_eq(arcade(NULL, out, err, "ask", "--udp", "--timeout", "0.3", "a12", NULL), 3);
    ck_assert_ptr_nonnull(strstr(err, "no answer from 127.0.0.1:"));
    close(l);
    close(u);
}
END_TEST

/* Does every line of text match the pattern? Returns the number of lines, or -1. */
static int count_matching(const char *text, const char *pattern, int *all_match)
{
    regex_t re;
    ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    int n = 0;
    *all_match = 1;
    const char *p = text;
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t l = nl != NULL ? (size_t)(nl - p) : strlen(p);
        char line[512];
        snprintf(line, sizeof(line), "%.*s", (int)l, p);
        if (regexec(&re, line, 0, NULL, 0) == 0) {
            n++;
        } else {
            *all_match = 0;
        }
        p += l + (nl != NULL ? 1 : 0);
    }
    regfree(&re);
    return n;
}

/* Count "round" lines by outcome and check the numbering runs 1, 2, ... */
static void tally(const char *text, int *w, int *l, int *d)
{
    *w = *l = *d = 0;
    int next = 1;
    for (const char *p = strstr(text, "round "); p != NULL; p = strstr(p + 1, "\nround ")) {
        if (*p == '\n') {
            p++;
        }
        int num;
        char you[16], opp[16], outcome[16];
        ck_assert_int_eq(sscanf(p, "round %d: you %15[a-z], opponent %15[a-z]: %15[a-z]", &num, you, opp, outcome), 4);
        ck_assert_int_eq(num, next++);
        *w += strcmp(outcome, "win") == 0;
        *l += strcmp(outcome, "loss") == 0;
        *d += strcmp(outcome, "draw") == 0;
    }
}

#define ROUND_RE "^round [0-9]+: you (rock|paper|scissors), opponent (rock|paper|scissors): (win|loss|draw)$"

START_TEST(test_e2e_play_script_guest)
{
    start_server(NULL);
    ck_assert_int_eq(arcade("rock paper scissors\nR P S 1 2 3\n  r", out, err, "play", NULL), 0);
    ck_assert_str_eq(err, "");
    /* Ten rounds, each a stable line, then the summary. */
    char *summary = strstr(out, "wins ");
    ck_assert_ptr_nonnull(summary);
    *(summary - 1) = '\0';
    int all;
    ck_assert_int_eq(count_matching(out, ROUND_RE, &all), 10);
    ck_assert_int_eq(all, 1);
    /* The moves went out as written. */
    ck_assert_ptr_nonnull(strstr(out, "round 1: you rock,"));
    ck_assert_ptr_nonnull(strstr(out, "round 2: you paper,"));
    ck_assert_ptr_nonnull(strstr(out, "round 3: you scissors,"));
    ck_assert_ptr_nonnull(strstr(out, "round 7: you scissors,")); /* 1 */
    ck_assert_ptr_nonnull(strstr(out, "round 8: you rock,"));     /* 2 */
    ck_assert_ptr_nonnull(strstr(out, "round 9: you paper,"));    /* 3 */
    int w, l, d;
    tally(out, &w, &l, &d);
    char want[64];
    snprintf(want, sizeof(want), "wins %d, losses %d, draws %d\n", w, l, d);
    ck_assert_str_eq(summary, want);
    ck_assert_int_eq(w + l + d, 10);
    stop_server();
}
END_TEST

START_TEST(test_e2e_play_script_named_stored)
{
    start_server(NULL);
    ck_assert_int_eq(arcade("r p s r p s", out, err, "play", "--name", "ana", NULL), 0);
    const char *first = registered_line("ana", srv.port);
    ck_assert_int_eq(strncmp(out, first, strlen(first)), 0);
    memmove(out, out + strlen(first), strlen(out + strlen(first)) + 1);
    ck_assert_int_eq(strncmp(out, "playing as ana\n", 15), 0);
    int w, l, d;
    tally(out, &w, &l, &d);
    ck_assert_int_eq(w + l + d, 6);
    /* Each outcome agrees with the two moves shown. */
    int all;
    int consistent = count_matching(out + 15,
                                    "^(round [0-9]+: you (rock, opponent rock: draw|rock, opponent scissors: win|"
                                    "rock, opponent paper: loss|paper, opponent paper: draw|paper, opponent rock: "
                                    "win|paper, opponent scissors: loss|scissors, opponent scissors: draw|scissors, "
                                    "opponent paper: win|scissors, opponent rock: loss)|wins .*)$",
                                    &all);
    ck_assert_int_eq(consistent, 7);
    ck_assert_int_eq(all, 1);
    stop_keep();
    ck_assert_int_eq(harness_sql_int(srv.db, "SELECT rounds FROM players WHERE name = 'ana'"), 6);
    ck_assert_int_eq(harness_sql_int(srv.db, "SELECT wins FROM players WHERE name = 'ana'"), w);
    ck_assert_int_eq(harness_sql_int(srv.db, "SELECT losses FROM players WHERE name = 'ana'"), l);
    ck_assert_int_eq(harness_sql_int(srv.db, "SELECT draws FROM players WHERE name = 'ana'"), d);
    stop_server();
}
END_TEST

START_TEST(test_e2e_play_bad_word)
{
    start_server(NULL);
    ck_assert_int_eq(arcade("rock paper lizard scissors", out, err, "play", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err, "bad move 'lizard'"));
    /* The words before the bad one were played, the one after was not. */
    ck_assert_ptr_nonnull(strstr(out, "round 2: you paper"));
    ck_assert_ptr_null(strstr(out, "round 3"));
    ck_assert_ptr_null(strstr(out, "wins "));
    /* Bad usage of play. */
    ck_assert_int_eq(arcade("r", out, err, "play", "--pvp", NULL), 2);
    ck_assert_ptr_nonnull(strstr(err, "--name"));
    ck_assert_int_eq(arcade("r", out, err, "play", "--name", "a!b", NULL), 2);
    ck_assert_int_eq(arcade("r", out, err, "play", "extra", NULL), 2);
    /* No words at all: nothing played, a zero summary. */
    ck_assert_int_eq(arcade("", out, err, "play", NULL), 0);
    ck_assert_str_eq(out, "wins 0, losses 0, draws 0\n");
    stop_server();
}
END_TEST

/* A child arcade with pipes on stdin, stdout and stderr, read as it goes. */
struct proc {
    pid_t pid;
    int in, out, err;
    char obuf[OUT_CAP], ebuf[OUT_CAP];
    size_t olen, elen;
};

static void proc_start(struct proc *p, const char *const *args)
{
    int pin[2], pout[2], perr[2];
    const char *argv[32];
    int n = 0;
    argv[n++] = harness_arcade();
    for (; *args != NULL && n < 31; args++) {
        argv[n++] = *args;
    }
    argv[n] = NULL;
    /* Close-on-exec, so a second child does not hold the first one's stdin open. */
    ck_assert_int_eq(pipe2(pin, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(pout, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(perr, O_CLOEXEC), 0);
    memset(p, 0, sizeof(*p));
    p->pid = fork();
    ck_assert_int_ge(p->pid, 0);
    if (p->pid == 0) {
        dup2(pin[0], 0);
        dup2(pout[1], 1);
        dup2(perr[1], 2);
        for (int i = 0; i < 2; i++) {
            close(pin[i]);
            close(pout[i]);
            close(perr[i]);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(pin[0]);
    close(pout[1]);
    close(perr[1]);
    p->in = pin[1];
    p->out = pout[0];
    p->err = perr[0];
    signal(SIGPIPE, SIG_IGN);
}

/* Read what is there from both outputs, waiting at most ms. Returns 0 when both are closed. */
static int proc_pump(struct proc *p, int ms)
{
    struct pollfd f[2] = { { .fd = p->out, .events = POLLIN }, { .fd = p->err, .events = POLLIN } };
    if (p->out < 0 && p->err < 0) {
        return 0;
    }
    if (poll(f, 2, ms) <= 0) {
        return 1;
    }
    for (int i = 0; i < 2; i++) {
        int *fd = i == 0 ? &p->out : &p->err;
        char *b = i == 0 ? p->obuf : p->ebuf;
        size_t *n = i == 0 ? &p->olen : &p->elen;
        if (*fd < 0 || !(f[i].revents & (POLLIN | POLLHUP | POLLERR))) {
            continue;
        }
        ssize_t r = read(*fd, b + *n, OUT_CAP - 1 - *n);
        if (r <= 0) {
            close(*fd);
            *fd = -1;
        } else {
            *n += (size_t)r;
            b[*n] = '\0';
        }
    }
    return p->out >= 0 || p->err >= 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until stdout (or stderr) holds text. */
static int proc_wait_for(struct proc *p, int on_err, const char *text)
{
    long long end = now_ms() + WAIT_MS;
    while (strstr(on_err ? p->ebuf : p->obuf, text) == NULL) {
        long long left = end - now_ms();
        if (left <= 0 || (proc_pump(p, (int)left) == 0 && strstr(on_err ? p->ebuf : p->obuf, text) == NULL)) {
            return -1;
        }
    }
    return 0;
}

static void proc_write(struct proc *p, const char *s)
{
    ck_assert_int_eq(write(p->in, s, strlen(s)), (ssize_t)strlen(s));
}

/* Close stdin, read to the end, and return the exit status. */
static int proc_finish(struct proc *p)
{
    if (p->in >= 0) {
        close(p->in);
        p->in = -1;
    }
    long long end = now_ms() + WAIT_MS;
    while (proc_pump(p, 1000) && now_ms() < end) {
    }
    int status;
    ck_assert_int_eq(waitpid(p->pid, &status, 0), p->pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

START_TEST(test_e2e_play_pvp_two_scripts)
{
    start_server(NULL);
    static struct proc a, b;
    const char *aa[] = { "play", "--port", port_arg, "--name", "ana", "--pvp", NULL };
    const char *ba[] = { "play", "--port", port_arg, "--name", "bo", "--pvp", NULL };
    proc_start(&a, aa);
    proc_start(&b, ba);
    /* Both scripts end after four moves: each stops at its fourth answer, before it could hear
     * that the other one left. */
    proc_write(&a, "rock paper scissors rock\n");
    proc_write(&b, "scissors scissors scissors paper\n");
    close(a.in);
    close(b.in);
    a.in = b.in = -1;
    ck_assert_int_eq(proc_finish(&a), 0);
    ck_assert_int_eq(proc_finish(&b), 0);
    ck_assert_ptr_nonnull(strstr(a.obuf, "playing as ana\n"));
    ck_assert_ptr_nonnull(strstr(a.obuf, "matched with bo\n"));
    ck_assert_ptr_nonnull(strstr(b.obuf, "matched with ana\n"));
    /* Each side sees the other's move, and the outcomes mirror each other. */
    ck_assert_ptr_nonnull(strstr(a.obuf, "round 1: you rock, opponent scissors: win\n"));
    ck_assert_ptr_nonnull(strstr(a.obuf, "round 2: you paper, opponent scissors: loss\n"));
    ck_assert_ptr_nonnull(strstr(a.obuf, "round 3: you scissors, opponent scissors: draw\n"));
    ck_assert_ptr_nonnull(strstr(a.obuf, "round 4: you rock, opponent paper: loss\n"));
    ck_assert_ptr_nonnull(strstr(b.obuf, "round 1: you scissors, opponent rock: loss\n"));
    ck_assert_ptr_nonnull(strstr(b.obuf, "round 2: you scissors, opponent paper: win\n"));
    ck_assert_ptr_nonnull(strstr(b.obuf, "round 3: you scissors, opponent scissors: draw\n"));
    ck_assert_ptr_nonnull(strstr(b.obuf, "round 4: you paper, opponent rock: win\n"));
    ck_assert_ptr_nonnull(strstr(a.obuf, "wins 1, losses 2, draws 1\n"));
    ck_assert_ptr_nonnull(strstr(b.obuf, "wins 2, losses 1, draws 1\n"));
    ck_assert_ptr_null(strstr(a.obuf, "round 5"));
    ck_assert_str_eq(a.ebuf, "");
    ck_assert_str_eq(b.ebuf, "");
    stop_keep();
    /* The four played rounds are stored (whoever left first may add a forfeit round). */
    ck_assert_int_eq(harness_sql_int(srv.db, "SELECT count(*) FROM rounds WHERE timeout = 0"), 4);
    ck_assert_int_eq(harness_sql_int(srv.db, "SELECT count(*) FROM rounds r JOIN players p ON p.id = r.a"
                                             " WHERE r.timeout = 0 AND r.outcome = 'D'"),
                     1);

    /* And the leaderboard shows both of them. */
    restart(NULL);
    ck_assert_int_eq(arcade(NULL, out, err, "top", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "rank  name  rating   wins  losses  draws  form\n"));
    ck_assert_ptr_nonnull(strstr(out, "  ana "));
    ck_assert_ptr_nonnull(strstr(out, "  bo "));
    ck_assert_ptr_nonnull(strstr(out, "? provisional rating"));
    ck_assert_int_eq(arcade(NULL, out, err, "rank", "ana", "-k", "1", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, ">    "));
    ck_assert_ptr_nonnull(strstr(out, "  ana "));
    ck_assert_ptr_nonnull(strstr(out, "ana: rank "));
    ck_assert_int_eq(arcade(NULL, out, err, "top", "--tsv", NULL), 0);
    int all;
    ck_assert_int_eq(count_matching(out, "^[12]\t(ana|bo)\t[0-9]+\t1\t[0-9]+\t[0-9]+\t[0-9]+\t[0-9]+\t[WLD]+$", &all), 2);
    ck_assert_int_eq(all, 1);
    stop_server();
}
END_TEST

/* A raw opponent on a socket: hello, queue; returns the socket. */
static int raw_player(const char *name)
{
    int fd = harness_connect(srv.port);
    ck_assert_int_ge(fd, 0);
    char hello[40];
    int n = wire_hello(name, hello, sizeof(hello));
    ck_assert_int_eq(harness_send(fd, hello, (size_t)n), 0);
    char got[40];
    ck_assert_int_eq(harness_recv_n(fd, got, (size_t)n), n);
    ck_assert_int_eq(got[0], 'A');
    ck_assert_int_eq(harness_sends(fd, "P"), 0);
    return fd;
}

START_TEST(test_e2e_play_pvp_timeouts)
{
    start_server("--move-timeout", "1", NULL);
    static struct proc a;
    /* bo queues first and then never moves; ana's moves are ready before the match. */
    int bo = raw_player("bo");
    char c;
    ck_assert_int_eq(harness_recv_n(bo, &c, 1), 1);
    ck_assert_int_eq(c, 'W');
    const char *aa[] = { "play", "--port", port_arg, "--name", "ana", "--pvp", NULL };
    proc_start(&a, aa);
    proc_write(&a, "rock rock rock\n");
    ck_assert_int_eq(proc_wait_for(&a, 0, "matched with bo\n"), 0);
    ck_assert_int_eq(proc_wait_for(&a, 0, "round 1: you rock, opponent none: win (opponent timed out)\n"), 0);
    ck_assert_int_eq(proc_wait_for(&a, 0, "round 3: you rock, opponent none: win (opponent timed out)\n"), 0);
    /* Three timed-out rounds in a row end the match. */
    ck_assert_int_eq(proc_wait_for(&a, 0, "match over: you won\n"), 0);
    ck_assert_int_eq(proc_finish(&a), 0);
    ck_assert_ptr_nonnull(strstr(a.obuf, "wins 3, losses 0, draws 0\n"));
    close(bo);
    stop_server();
}
END_TEST

START_TEST(test_e2e_play_pvp_you_timed_out_void_left)
{
    start_server("--move-timeout", "1", NULL);
    static struct proc a;
    int bo = raw_player("bo");
    char buf[8];
    ck_assert_int_eq(harness_recv_n(bo, buf, 1), 1);
    const char *aa[] = { "play", "--port", port_arg, "--name", "ana", "--pvp", NULL };
    proc_start(&a, aa);
    ck_assert_int_eq(proc_wait_for(&a, 0, "matched with bo\n"), 0);
    /* bo moves, ana does not: ana loses by timeout, without knowing bo's move. */
    ck_assert_int_eq(harness_recv_n(bo, buf, 5), 5); /* V \x03 ana */
    ck_assert_int_eq(harness_sends(bo, "2"), 0);
    ck_assert_int_eq(harness_recv_n(bo, buf, 2), 2);
    ck_assert_int_eq(memcmp(buf, "Ty", 2), 0);
    ck_assert_int_eq(proc_wait_for(&a, 0, "round 1: you none, opponent unknown: loss (you timed out)\n"), 0);
    /* Then neither moves: a void round, not counted. */
    ck_assert_int_eq(harness_recv_n(bo, buf, 2), 2);
    ck_assert_int_eq(memcmp(buf, "Tv", 2), 0);
    ck_assert_int_eq(proc_wait_for(&a, 0, "void round: neither player moved in time\n"), 0);
    /* bo leaves before anyone moved: no round, but ana hears that bo left. */
    close(bo);
    ck_assert_int_eq(proc_wait_for(&a, 0, "void round: neither player moved in time\nopponent left\n"), 0);
    ck_assert_int_eq(proc_finish(&a), 0);
    ck_assert_ptr_nonnull(strstr(a.obuf, "wins 0, losses 1, draws 0\n"));
    stop_server();
}
END_TEST

START_TEST(test_e2e_play_queue_timeout)
{
    start_server("--queue-timeout", "1", NULL);
    ck_assert_int_eq(arcade("rock", out, err, "play", "--name", "ana", "--pvp", NULL), 3);
    char want[1024];
    snprintf(want, sizeof(want), "%s%s", registered_line("ana", srv.port),
             "playing as ana\nwaiting for an opponent\nqueue timed out\nwins 0, losses 0, draws 0\n");
    ck_assert_str_eq(out, want);
    stop_server();
}
END_TEST

START_TEST(test_e2e_play_reconnects)
{
    start_server(NULL);
    static struct proc a;
    const char *aa[] = { "play", "--port", port_arg, "--name", "ana", NULL };
    proc_start(&a, aa);
    proc_write(&a, "rock\n");
    ck_assert_int_eq(proc_wait_for(&a, 0, "round 1: you rock"), 0);
    /* The server goes away and comes back on the same port. */
    stop_keep();
    ck_assert_int_eq(proc_wait_for(&a, 1, "connection to 127.0.0.1:"), 0);
    restart("--port", port_arg, NULL);
    ck_assert_int_eq(proc_wait_for(&a, 1, "reconnected to 127.0.0.1:"), 0);
    proc_write(&a, "paper\n");
    ck_assert_int_eq(proc_wait_for(&a, 0, "round 2: you paper"), 0);
    /* The restarted server's log drainer is a fork of this process and holds ana's stdin open, so
     * ana would never see the end of input: stop it with SIGTERM, which still prints the summary. */
    kill(a.pid, SIGTERM);
    ck_assert_int_eq(proc_finish(&a), 128 + SIGTERM);
    /* It said hello again on the new connection. */
    ck_assert_ptr_nonnull(strstr(strstr(a.obuf, "playing as ana\n") + 1, "playing as ana\n"));
    int w, l, d;
    tally(a.obuf, &w, &l, &d);
    char want[64];
    snprintf(want, sizeof(want), "wins %d, losses %d, draws %d\n", w, l, d);
    ck_assert_ptr_nonnull(strstr(a.obuf, want));
    ck_assert_int_eq(w + l + d, 2);
    stop_server();
}
END_TEST

/* Play a few pvp rounds between two raw sockets so the board has rows. */
static void seed_board(void)
{
    int ana = raw_player("ana");
    char buf[16];
    ck_assert_int_eq(harness_recv_n(ana, buf, 1), 1); /* W */
    int bo = raw_player("bo");
    ck_assert_int_eq(harness_recv_n(bo, buf, 4), 4);  /* V \x03 ana */
    ck_assert_int_eq(harness_recv_n(ana, buf, 4), 4); /* V \x02 bo */
    /* ana rock against bo scissors, twice; then a draw. */
    const char *am = "223", *bm = "113";
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(harness_send(ana, am + i, 1), 0);
        ck_assert_int_eq(harness_send(bo, bm + i, 1), 0);
        ck_assert_int_eq(harness_recv_n(ana, buf, 3), 3);
        ck_assert_int_eq(harness_recv_n(bo, buf, 3), 3);
    }
    ck_assert_int_eq(harness_sends(ana, "L"), 0);
    ck_assert_int_eq(harness_recv_n(ana, buf, 1), 1);
    ck_assert_int_eq(buf[0], 'B');
    close(ana);
    close(bo);
}

START_TEST(test_e2e_top_and_rank)
{
    start_server(NULL);
    ck_assert_int_eq(arcade(NULL, out, err, "top", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "no ranked players yet"));
    seed_board();
    char raw[4096];
    int fd = harness_connect(srv.port);
    ck_assert_int_eq(harness_sends(fd, "t\n"), 0);
    shutdown(fd, SHUT_WR);
    harness_recv_all(fd, raw, sizeof(raw));
    close(fd);

    /* --tsv is the server's rows, without the final "." */
    ck_assert_int_eq(arcade(NULL, out, err, "top", "--tsv", NULL), 0);
    ck_assert_int_eq(strncmp(raw, out, strlen(out)), 0);
    ck_assert_str_eq(raw + strlen(out), ".\n");
    ck_assert_int_eq(strncmp(out, "1\tana\t", 6), 0);
    ck_assert_ptr_nonnull(strstr(out, "\n2\tbo\t"));

    ck_assert_int_eq(arcade(NULL, out, err, "top", "1", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "rank  name  rating   wins  losses  draws  form\n"));
    ck_assert_ptr_nonnull(strstr(out, "   1  ana "));
    ck_assert_ptr_null(strstr(out, " bo "));
    /* ana: 2 wins and a draw against bo; leaving with L between rounds stores no round. */
    ck_assert_ptr_nonnull(strstr(out, "?     2       0      1  WWD\n"));

    ck_assert_int_eq(arcade(NULL, out, err, "rank", "bo", "-k", "1", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "     1  ana "));
    ck_assert_ptr_nonnull(strstr(out, ">    2  bo "));
    ck_assert_ptr_nonnull(strstr(out, "bo: rank 2, rating "));
    ck_assert_ptr_nonnull(strstr(out, " (provisional), wins 0, losses 2, draws 1 in 3 rounds, form LLD\n"));
    ck_assert_int_eq(arcade(NULL, out, err, "rank", "bo", "--tsv", NULL), 0);
    ck_assert_int_eq(count_matching(out, "^[0-9]+\t[a-z]+\t[0-9]+\t[01]\t[0-9]+\t[0-9]+\t[0-9]+\t[0-9]+\t[WLD]*$", &fd),
                     2);
    ck_assert_int_eq(fd, 1);

    /* ask passes t and r through: the rows as they came. */
    ck_assert_int_eq(arcade(NULL, out, err, "ask", "rbo 0", "t1", NULL), 0);
    ck_assert_int_eq(count_matching(out, "^[12]\t(ana|bo)\t[0-9]+\t1\t[0-9]+\t[0-9]+\t[0-9]+\t3\t[WLD]+$", &fd), 2);
    ck_assert_int_eq(fd, 1);
    ck_assert_int_eq(strncmp(out, "2\tbo\t", 5), 0);
    ck_assert_ptr_nonnull(strstr(out, "\n1\tana\t"));
    /* Not on the leaderboard: a name nobody used, and a player who has only played the bot. The
     * server's answer is the same for both, and the client says what it means. */
    static const char unranked[] = " is not ranked: only players with a rated round (a round against a person) "
                                   "are on the leaderboard, and the server does not tell such a player from a "
                                   "name nobody has used\n";
    ck_assert_int_eq(arcade(NULL, out, err, "rank", "nobody", NULL), 1);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(strncmp(err, "arcade: nobody is not ranked: ", 30), 0);
    ck_assert_str_eq(err + strlen("arcade: nobody"), unranked);
    ck_assert_int_eq(arcade("rock\n", out, err, "play", "--name", "cy", NULL), 0);
    ck_assert_int_eq(arcade(NULL, out, err, "rank", "cy", NULL), 1);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(strncmp(err, "arcade: cy is not ranked: ", 26), 0);
    ck_assert_int_eq(arcade(NULL, out, err, "rank", "cy", "--json", NULL), 1);
    ck_assert_str_eq(out, "[]\n");

    /* --json: typed fields, and for rank which row is the player's. */
    ck_assert_int_eq(arcade(NULL, out, err, "top", "1", "--json", NULL), 0);
    ck_assert_int_eq(strncmp(out, "[{\"rank\":1,\"name\":\"ana\",\"rating\":", 33), 0);
    ck_assert_ptr_nonnull(
        strstr(out, ",\"provisional\":true,\"wins\":2,\"losses\":0,\"draws\":1,\"rounds\":3,\"form\":\"WWD\"}]\n"));
    ck_assert_ptr_null(strstr(out, "is_player"));
    ck_assert_int_eq(arcade(NULL, out, err, "rank", "bo", "-k", "1", "--json", NULL), 0);
    ck_assert_int_eq(strncmp(out, "[{\"rank\":1,\"name\":\"ana\",", 24), 0);
    ck_assert_ptr_nonnull(strstr(out, "\"form\":\"WWD\",\"is_player\":false},{\"rank\":2,\"name\":\"bo\","));
    ck_assert_ptr_nonnull(strstr(out, "\"form\":\"LLD\",\"is_player\":true}]\n"));
    ck_assert_int_eq(arcade(NULL, out, err, "rank", "bo", "--json", "--tsv", NULL), 2);
    ck_assert_int_eq(arcade(NULL, out, err, "ask", "--json", "t1", NULL), 0);
    ck_assert_int_eq(strncmp(out, "[\n{\"request\":\"t1\",\"answer\":[{\"rank\":1,\"name\":\"ana\",", 51), 0);
    ck_assert_int_eq(arcade(NULL, out, err, "rank", NULL), 2);
    ck_assert_int_eq(arcade(NULL, out, err, "rank", "a!b", NULL), 2);
    ck_assert_int_eq(arcade(NULL, out, err, "rank", "bo", "-k", "51", NULL), 2);
    ck_assert_int_eq(arcade(NULL, out, err, "top", "0", NULL), 2);
    ck_assert_int_eq(arcade(NULL, out, err, "top", "101", NULL), 2);
    ck_assert_int_eq(arcade(NULL, out, err, "top", "5", "6", NULL), 2);
    stop_server();
}
END_TEST

/* --------------------------------------------- accounts and rejoin, end to end */

/* These need the server's R, I, X, U, K, J, D and C (docs/PROTOCOL.md). */

/* The secret kept in a file (its 64 hex digits), read by the test. */
static void read_secret_file(const char *path, char secret[WIRE_SECRET_LEN + 1])
{
    char buf[128];
    contents(path, buf, sizeof(buf));
    ck_assert_msg(strlen(buf) == WIRE_SECRET_LEN + 1 && buf[WIRE_SECRET_LEN] == '\n', "%s holds '%s'", path, buf);
    memcpy(secret, buf, WIRE_SECRET_LEN);
    secret[WIRE_SECRET_LEN] = '\0';
    ck_assert(wire_valid_secret(secret, WIRE_SECRET_LEN));
}

/* Read one whole server frame from a raw socket, or fail the test. */
static void raw_frame(int fd, struct wire_frame *f)
{
    char buf[300];
    size_t len = 0;
    int k;
    while ((k = wire_decode(buf, len, f)) == 0) {
        ck_assert_msg(harness_recv_n(fd, buf + len, 1) == 1, "no frame from the server");
        len++;
    }
    ck_assert_int_eq(k, (int)len);
}

/* The next frame on a raw socket is of kind want; returns it in f. */
static void raw_expect(int fd, enum wire_kind want, struct wire_frame *f)
{
    raw_frame(fd, f);
    ck_assert_msg(f->kind == want, "frame of kind %d ('%s'), not %d", f->kind, f->text, want);
}

/* A raw player that registers name (R): its secret goes to secret; returns the socket. */
static int raw_register(const char *name, char secret[WIRE_SECRET_LEN + 1])
{
    char frame[WIRE_LOGIN_MAX];
    struct wire_frame f;
    int fd = harness_connect(srv.port);
    ck_assert_int_ge(fd, 0);
    int n = wire_register(name, frame, sizeof(frame));
    ck_assert_int_eq(harness_send(fd, frame, (size_t)n), 0);
    raw_expect(fd, WIRE_SECRET, &f);
    memcpy(secret, f.text, WIRE_SECRET_LEN + 1);
    raw_expect(fd, WIRE_ACCEPTED, &f);
    ck_assert_str_eq(f.text, name);
    return fd;
}

/* A raw player that logs in (I) as name; returns the socket after the A. */
static int raw_login(const char *name, const char *secret)
{
    char frame[WIRE_LOGIN_MAX];
    struct wire_frame f;
    int fd = harness_connect(srv.port);
    ck_assert_int_ge(fd, 0);
    int n = wire_login(name, secret, frame, sizeof(frame));
    ck_assert_int_eq(harness_send(fd, frame, (size_t)n), 0);
    raw_expect(fd, WIRE_ACCEPTED, &f);
    return fd;
}

/* A relay between arcade and the server, in a child process, so a test can cut arcade's connection
 * as a network does: the server sees an ordinary drop. Command 'c' cuts every relayed connection
 * and leaves new ones waiting in the listen queue; 'r' lets them in again. Every byte arcade sends
 * is copied to the tap once it is on its way to the server. */
#define RELAY_MAX 8

struct relay {
    pid_t pid;
    int port;               /* where arcade connects */
    int ctl;                /* commands to the child */
    int tap;                /* what arcade sent */
    char seen[4096];        /* read from the tap so far */
    size_t seen_len;
};

/* Move what one side of a relayed pair has to the other side, and to the tap if tap >= 0. 0, or -1
 * when that side is closed. */
static int relay_pump(int from, int to, int tap)
{
    char buf[4096];
    ssize_t r = read(from, buf, sizeof(buf));
    if (r <= 0 || write(to, buf, (size_t)r) != r) {
        return -1;
    }
    if (tap >= 0 && write(tap, buf, (size_t)r) != r) {
        _exit(1);
    }
    return 0;
}

static void relay_loop(int lfd, int ctl, int tap, int upstream)
{
    int pair[RELAY_MAX][2];     /* arcade's side, the server's side */
    int npairs = 0, held = 0;
    for (;;) {
        struct pollfd pf[2 + 2 * RELAY_MAX] = { { .fd = ctl, .events = POLLIN },
                                                 { .fd = lfd, .events = held ? 0 : POLLIN } };
        for (int i = 0; i < npairs; i++) {
            pf[2 + 2 * i] = (struct pollfd){ .fd = pair[i][0], .events = POLLIN };
            pf[3 + 2 * i] = (struct pollfd){ .fd = pair[i][1], .events = POLLIN };
        }
        if (poll(pf, (nfds_t)(2 + 2 * npairs), -1) < 0) {
            continue;
        }
        char cmd;
        if (pf[0].revents != 0 && read(ctl, &cmd, 1) != 1) {
            _exit(0);
        }
        if (pf[0].revents != 0) {
            held = cmd == 'c';
            for (; held && npairs > 0; npairs--) {
                close(pair[npairs - 1][0]);
                close(pair[npairs - 1][1]);
            }
            continue;
        }
        if ((pf[1].revents & POLLIN) && npairs < RELAY_MAX) {
            pair[npairs][0] = accept(lfd, NULL, NULL);
            pair[npairs][1] = harness_connect(upstream);
            npairs++;
        }
        /* From the last pair down, so a closed pair can take the place of the last one. */
        for (int i = npairs - 1; i >= 0; i--) {
            if ((pf[2 + 2 * i].revents != 0 && relay_pump(pair[i][0], pair[i][1], tap) < 0) ||
                (pf[3 + 2 * i].revents != 0 && relay_pump(pair[i][1], pair[i][0], -1) < 0)) {
                close(pair[i][0]);
                close(pair[i][1]);
                npairs--;
                pair[i][0] = pair[npairs][0];
                pair[i][1] = pair[npairs][1];
            }
        }
    }
}

static void relay_start(struct relay *r)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);
    int ctl[2], tap[2];
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(lfd, 16), 0);
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
    ck_assert_int_eq(pipe(ctl), 0);
    ck_assert_int_eq(pipe(tap), 0);
    memset(r, 0, sizeof(*r));
    r->port = ntohs(sa.sin_port);
    r->pid = fork();
    ck_assert_int_ge(r->pid, 0);
    if (r->pid == 0) {
        /* Only its own descriptors: a copy of a test's socket would keep it open after the test
         * closes it. */
        for (int fd = 3; fd < 1024; fd++) {
            if (fd != lfd && fd != ctl[0] && fd != tap[1]) {
                close(fd);
            }
        }
        relay_loop(lfd, ctl[0], tap[1], srv.port);
    }
    close(lfd);
    close(ctl[0]);
    close(tap[1]);
    r->ctl = ctl[1];
    r->tap = tap[0];
}

static void relay_command(struct relay *r, char cmd)
{
    ck_assert_int_eq(write(r->ctl, &cmd, 1), 1);
}

/* Wait until arcade has sent n bytes equal to want through the relay, counting from its first. */
static void relay_expect_sent(struct relay *r, const void *want, size_t n)
{
    long long end = now_ms() + WAIT_MS;
    while (memmem(r->seen, r->seen_len, want, n) == NULL) {
        struct pollfd p = { .fd = r->tap, .events = POLLIN };
        long long left = end - now_ms();
        ck_assert_msg(left > 0 && poll(&p, 1, (int)left) == 1, "arcade never sent the bytes awaited");
        ssize_t k = read(r->tap, r->seen + r->seen_len, sizeof(r->seen) - r->seen_len);
        ck_assert_int_gt(k, 0);
        r->seen_len += (size_t)k;
    }
}

static void relay_stop(struct relay *r)
{
    close(r->ctl);
    close(r->tap);
    waitpid(r->pid, NULL, 0);
}

START_TEST(test_e2e_account_register_then_login)
{
    char path[512], first[WIRE_SECRET_LEN + 1], again[WIRE_SECRET_LEN + 1];
    start_server(NULL);
    /* The first run registers the name and says where its secret is kept. */
    ck_assert_int_eq(arcade("r", out, err, "play", "--name", "ana", NULL), 0);
    ck_assert_str_eq(err, "");
    const char *line = registered_line("ana", srv.port);
    ck_assert_int_eq(strncmp(out, line, strlen(line)), 0);
    ck_assert_int_eq(strncmp(out + strlen(line), "playing as ana\nround 1: you rock, ", 34), 0);
    snprintf(path, sizeof(path), "%s", secret_file("ana", srv.port));
    ck_assert_int_eq(mode_of(path), 0600);
    *strrchr(path, '/') = '\0';
    ck_assert_int_eq(mode_of(path), 0700);
    read_secret_file(secret_file("ana", srv.port), first);

    /* Later runs log in with it, whatever the case of the name, without a word about it. */
    ck_assert_int_eq(arcade("p", out, err, "play", "--name", "ANA", NULL), 0);
    ck_assert_str_eq(err, "");
    ck_assert_int_eq(strncmp(out, "playing as ana\nround 1: you paper, ", 35), 0);
    read_secret_file(secret_file("ana", srv.port), again);
    ck_assert_str_eq(again, first);
    /* The server holds the name for the secret: a bare hello is refused. */
    int fd = harness_connect(srv.port);
    ck_assert_int_eq(harness_send(fd, "H\x03" "ana", 5), 0);
    struct wire_frame f;
    raw_expect(fd, WIRE_REFUSED, &f);
    ck_assert_str_eq(f.text, "name is registered");
    close(fd);
    stop_server();
}
END_TEST

START_TEST(test_e2e_account_name_belongs_to_another)
{
    char other[128], want[1024];
    start_server(NULL);
    ck_assert_int_eq(arcade("r", out, err, "play", "--name", "ana", NULL), 0);
    /* Another machine, or another person: another XDG_CONFIG_HOME. */
    fresh_config(other, sizeof(other));
    ck_assert_int_eq(arcade("r", out, err, "play", "--name", "Ana", NULL), 1);
    ck_assert_ptr_null(strstr(out, "round"));
    snprintf(want, sizeof(want), "arcade: the name 'Ana' belongs to someone else on 127.0.0.1:%d: choose another "
                                 "--name; if it is yours, copy its secret file from the machine where you "
                                 "registered it to %s\n", srv.port, secret_file("ana", srv.port));
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(access(secret_file("ana", srv.port), F_OK), -1);
    /* Another name is fine. */
    ck_assert_int_eq(arcade("r", out, err, "play", "--name", "bo", NULL), 0);
    ck_assert_str_eq(err, "");
    stop_server();
}
END_TEST

START_TEST(test_e2e_account_rotate)
{
    char first[128], other[128], old[WIRE_SECRET_LEN + 1], new[WIRE_SECRET_LEN + 1], want[1024];
    start_server(NULL);
    snprintf(first, sizeof(first), "%s", getenv("XDG_CONFIG_HOME"));
    ck_assert_int_eq(arcade("r", out, err, "play", "--name", "ana", NULL), 0);
    read_secret_file(secret_file("ana", srv.port), old);

    ck_assert_int_eq(arcade(NULL, out, err, "account", "rotate", "ana", NULL), 0);
    snprintf(want, sizeof(want), "new secret for ana on 127.0.0.1:%d kept in %s\n", srv.port,
             secret_file("ana", srv.port));
    ck_assert_str_eq(out, want);
    ck_assert_str_eq(err, "");
    read_secret_file(secret_file("ana", srv.port), new);
    ck_assert_str_ne(new, old);
    ck_assert_int_eq(mode_of(secret_file("ana", srv.port)), 0600);
    /* Play goes on with the new secret. */
    ck_assert_int_eq(arcade("s", out, err, "play", "--name", "ana", NULL), 0);
    ck_assert_int_eq(strncmp(out, "playing as ana\n", 15), 0);
    ck_assert_str_eq(err, "");

    /* A copy of the old one, elsewhere, no longer opens the name. */
    fresh_config(other, sizeof(other));
    ck_assert_int_eq(secrets_save("127.0.0.1", srv.port, "ana", old, err, OUT_CAP), 0);
    ck_assert_int_eq(arcade("r", out, err, "play", "--name", "ana", NULL), 1);
    ck_assert_ptr_nonnull(strstr(err, "refused the secret kept for 'ana'"));
    ck_assert_ptr_nonnull(strstr(err, "(wrong secret)"));
    ck_assert_int_eq(arcade(NULL, out, err, "account", "rotate", "ana", NULL), 1);
    ck_assert_ptr_nonnull(strstr(err, "(wrong secret)"));
    /* Nothing kept here at all. */
    fresh_config(other, sizeof(other));
    ck_assert_int_eq(arcade(NULL, out, err, "account", "rotate", "ana", NULL), 1);
    ck_assert_ptr_nonnull(strstr(err, "no secret kept for 'ana'"));
    /* Usage. */
    ck_assert_int_eq(arcade(NULL, out, err, "account", "turn", "ana", NULL), 2);
    ck_assert_int_eq(arcade(NULL, out, err, "account", "rotate", NULL), 2);
    ck_assert_int_eq(arcade(NULL, out, err, "account", "rotate", "a!b", NULL), 2);
    ck_assert_int_eq(arcade(NULL, out, err, "account", "drop", "ana", "bo", NULL), 2);
    /* The first home still plays. */
    setenv("XDG_CONFIG_HOME", first, 1);
    ck_assert_int_eq(arcade("r", out, err, "play", "--name", "ana", NULL), 0);
    stop_server();
}
END_TEST

START_TEST(test_e2e_account_drop)
{
    char first[128], other[128], want[512];
    start_server(NULL);
    snprintf(first, sizeof(first), "%s", getenv("XDG_CONFIG_HOME"));
    ck_assert_int_eq(arcade("r", out, err, "play", "--name", "ana", NULL), 0);
    ck_assert_int_eq(arcade(NULL, out, err, "account", "drop", "ana", NULL), 0);
    snprintf(want, sizeof(want), "ana is unclaimed now on 127.0.0.1:%d: anyone may play or register it\n", srv.port);
    ck_assert_str_eq(out, want);
    ck_assert_str_eq(err, "");
    ck_assert_int_eq(access(secret_file("ana", srv.port), F_OK), -1);
    /* Someone else registers it now. */
    fresh_config(other, sizeof(other));
    ck_assert_int_eq(arcade("r", out, err, "play", "--name", "ana", NULL), 0);
    const char *line = registered_line("ana", srv.port);
    ck_assert_int_eq(strncmp(out, line, strlen(line)), 0);
    ck_assert_str_eq(err, "");
    /* And the first home has nothing left to drop. */
    setenv("XDG_CONFIG_HOME", first, 1);
    ck_assert_int_eq(arcade(NULL, out, err, "account", "drop", "ana", NULL), 1);
    ck_assert_ptr_nonnull(strstr(err, "no secret kept for 'ana'"));
    stop_server();
}
END_TEST

/* A secret kept for a server that does not know the account (a new database): dropped, and the
 * name registered again. */
START_TEST(test_e2e_account_stale_secret)
{
    char now[WIRE_SECRET_LEN + 1], want[512];
    start_server(NULL);
    ck_assert_int_eq(secrets_save("127.0.0.1", srv.port, "ana", SECRET_A, err, OUT_CAP), 0);
    ck_assert_int_eq(arcade("r", out, err, "play", "--name", "ana", NULL), 0);
    snprintf(want, sizeof(want), "arcade: 127.0.0.1:%d has no account 'ana' any more: registering it again\n",
             srv.port);
    ck_assert_str_eq(err, want);
    const char *line = registered_line("ana", srv.port);
    ck_assert_int_eq(strncmp(out, line, strlen(line)), 0);
    read_secret_file(secret_file("ana", srv.port), now);
    ck_assert_str_ne(now, SECRET_A);
    /* drop with a stale secret: the name is unclaimed already, which is what drop is for. */
    ck_assert_int_eq(secrets_save("127.0.0.1", srv.port, "cy", SECRET_A, err, OUT_CAP), 0);
    ck_assert_int_eq(arcade(NULL, out, err, "account", "drop", "cy", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "cy is unclaimed on 127.0.0.1:"));
    ck_assert_int_eq(access(secret_file("cy", srv.port), F_OK), -1);
    stop_server();
}
END_TEST

/* The owner logs in elsewhere: the older session ends, and does not log in again to take it back. */
START_TEST(test_e2e_account_taken_over)
{
    static struct proc a;
    start_server(NULL);
    ck_assert_int_eq(arcade("r", out, err, "play", "--name", "ana", NULL), 0);
    const char *aa[] = { "play", "--port", port_arg, "--name", "ana", NULL };
    proc_start(&a, aa);
    ck_assert_int_eq(proc_wait_for(&a, 0, "playing as ana\n"), 0);
    ck_assert_int_eq(arcade("p", out, err, "play", "--name", "ana", NULL), 0);
    ck_assert_int_eq(strncmp(out, "playing as ana\nround 1: you paper", 33), 0);
    ck_assert_int_eq(proc_wait_for(&a, 1, "logged in on 127.0.0.1:"), 0);
    ck_assert_int_eq(proc_finish(&a), 1);
    ck_assert_ptr_nonnull(strstr(a.ebuf, "'ana' logged in on 127.0.0.1:"));
    ck_assert_ptr_null(strstr(a.ebuf, "reconnected"));
    stop_server();
}
END_TEST

/* ana (arcade, through the relay) and bo (a raw socket with an account) in a match; ana's script
 * is given, and her rock of round 1 is on the server when this returns. */
static void rejoin_setup(struct relay *r, struct proc *a, int *bo, char *bo_secret, const char *script)
{
    struct wire_frame f;
    char port[16];
    start_server(NULL);
    relay_start(r);
    snprintf(port, sizeof(port), "%d", r->port);
    *bo = raw_register("bo", bo_secret);
    ck_assert_int_eq(harness_sends(*bo, "P"), 0);
    raw_expect(*bo, WIRE_WAITING, &f);
    const char *aa[] = { "play", "--port", port, "--name", "ana", "--pvp", NULL };
    proc_start(a, aa);
    proc_write(a, script);
    close(a->in);
    a->in = -1;
    raw_expect(*bo, WIRE_MATCHED, &f);
    ck_assert_str_eq(f.text, "ana");
    relay_expect_sent(r, "\x03" "anaP2", 6);
}

/* What arcade sent after it logged in again: its bytes after the I frame. */
static const char *sent_after_login(struct relay *r, char *buf, size_t cap)
{
    const char *i = memmem(r->seen, r->seen_len, "I\x03" "ana\x40", 6);
    ck_assert_ptr_nonnull(i);
    size_t from = (size_t)(i - r->seen) + 6 + WIRE_SECRET_LEN;
    snprintf(buf, cap, "%.*s", (int)(r->seen_len - from), r->seen + from);
    return buf;
}

START_TEST(test_e2e_rejoin_move_in)
{
    static struct proc a;
    struct relay r;
    struct wire_frame f;
    char bo_secret[WIRE_SECRET_LEN + 1], after[64];
    int bo;
    rejoin_setup(&r, &a, &bo, bo_secret, "rock paper\n");
    /* ana's connection is cut: bo is told her seat is held. */
    relay_command(&r, 'c');
    raw_expect(bo, WIRE_DROPPED, &f);
    ck_assert_int_gt(f.code, 0);
    ck_assert_int_le(f.code, 30);
    relay_command(&r, 'r');
    /* ana is back by herself, with her rock in. */
    raw_expect(bo, WIRE_BACK, &f);
    ck_assert_int_eq(proc_wait_for(&a, 0, "rejoined: opponent bo, round 1, wins 0, losses 0, draws 0, "
                                          "your move is in, "), 0);
    ck_assert_int_eq(harness_sends(bo, "1"), 0);
    raw_expect(bo, WIRE_MOVE, &f);
    ck_assert_int_eq(f.code, RPS_ROCK);
    raw_expect(bo, WIRE_RESULT, &f);
    ck_assert_int_eq(harness_sends(bo, "2"), 0);
    ck_assert_int_eq(proc_finish(&a), 0);
    ck_assert_ptr_nonnull(strstr(a.obuf, "round 1: you rock, opponent scissors: win\n"));
    ck_assert_ptr_nonnull(strstr(a.obuf, "round 2: you paper, opponent rock: win\n"));
    ck_assert_ptr_nonnull(strstr(a.obuf, "wins 2, losses 0, draws 0\n"));
    /* The rock was not sent again: after the login, only the paper, and L as the script is done. */
    relay_expect_sent(&r, "3L", 2);
    ck_assert_str_eq(sent_after_login(&r, after, sizeof(after)), "3L");
    relay_stop(&r);
    close(bo);
    stop_server();
}
END_TEST

START_TEST(test_e2e_rejoin_decided_while_away)
{
    static struct proc a;
    struct relay r;
    struct wire_frame f;
    char bo_secret[WIRE_SECRET_LEN + 1], after[64];
    int bo;
    rejoin_setup(&r, &a, &bo, bo_secret, "rock paper\n");
    relay_command(&r, 'c');
    raw_expect(bo, WIRE_DROPPED, &f);
    /* While ana is away (held out by the relay), bo moves: ana's rock wins round 1. */
    ck_assert_int_eq(harness_sends(bo, "1"), 0);
    raw_expect(bo, WIRE_MOVE, &f);
    ck_assert_int_eq(f.code, RPS_ROCK);
    raw_expect(bo, WIRE_RESULT, &f);
    ck_assert_int_eq(f.code, RPS_LOSS);
    relay_command(&r, 'r');
    raw_expect(bo, WIRE_BACK, &f);
    ck_assert_int_eq(proc_wait_for(&a, 0, "rejoined: opponent bo, round 2, wins 1, losses 0, draws 0, "
                                          "your move is not in, "), 0);
    ck_assert_int_eq(proc_wait_for(&a, 0, "round 1: you rock, opponent unknown: win (while you were away)\n"), 0);
    ck_assert_int_eq(harness_sends(bo, "2"), 0);
    ck_assert_int_eq(proc_finish(&a), 0);
    ck_assert_ptr_nonnull(strstr(a.obuf, "round 2: you paper, opponent rock: win\n"));
    ck_assert_ptr_nonnull(strstr(a.obuf, "wins 2, losses 0, draws 0\n"));
    relay_expect_sent(&r, "3L", 2);
    ck_assert_str_eq(sent_after_login(&r, after, sizeof(after)), "3L");
    relay_stop(&r);
    close(bo);
    stop_server();
}
END_TEST

START_TEST(test_e2e_opponent_drops_and_returns)
{
    static struct proc a;
    struct wire_frame f;
    char bo_secret[WIRE_SECRET_LEN + 1];
    start_server(NULL);
    int bo = raw_register("bo", bo_secret);
    ck_assert_int_eq(harness_sends(bo, "P"), 0);
    raw_expect(bo, WIRE_WAITING, &f);
    const char *aa[] = { "play", "--port", port_arg, "--name", "ana", "--pvp", NULL };
    proc_start(&a, aa);
    ck_assert_int_eq(proc_wait_for(&a, 0, "matched with bo\n"), 0);
    raw_expect(bo, WIRE_MATCHED, &f);
    /* bo's connection goes: ana is told how long bo's seat is held. */
    close(bo);
    ck_assert_int_eq(proc_wait_for(&a, 0, "opponent dropped: seat held for "), 0);
    int secs = 0;
    ck_assert_int_eq(sscanf(strstr(a.obuf, "seat held for ") + 14, "%d s\n", &secs), 1);
    ck_assert_int_gt(secs, 0);
    ck_assert_int_le(secs, 30);
    /* bo logs in again and is back in the match. */
    bo = raw_login("bo", bo_secret);
    raw_expect(bo, WIRE_REJOINED, &f);
    ck_assert_str_eq(f.snap.opponent, "ana");
    ck_assert_uint_eq(f.snap.round, 1);
    ck_assert_int_eq(f.snap.moved, 0);
    ck_assert_int_eq(proc_wait_for(&a, 0, "opponent is back\n"), 0);
    ck_assert_int_eq(harness_sends(bo, "1"), 0);
    proc_write(&a, "rock\n");
    close(a.in);
    a.in = -1;
    ck_assert_int_eq(proc_finish(&a), 0);
    ck_assert_ptr_nonnull(strstr(a.obuf, "round 1: you rock, opponent scissors: win\nwins 1, losses 0, draws 0\n"));
    close(bo);
    stop_server();
}
END_TEST

/* A script that is done leaves its match (L): its opponent is told at once, not kept waiting for a
 * held seat as after a drop. */
START_TEST(test_e2e_quitting_leaves_the_match)
{
    static struct proc a;
    struct wire_frame f;
    char bo_secret[WIRE_SECRET_LEN + 1];
    start_server(NULL);
    int bo = raw_register("bo", bo_secret);
    ck_assert_int_eq(harness_sends(bo, "P"), 0);
    raw_expect(bo, WIRE_WAITING, &f);
    const char *aa[] = { "play", "--port", port_arg, "--name", "ana", "--pvp", NULL };
    proc_start(&a, aa);
    proc_write(&a, "rock\n");
    close(a.in);
    a.in = -1;
    raw_expect(bo, WIRE_MATCHED, &f);
    ck_assert_int_eq(harness_sends(bo, "1"), 0);
    raw_expect(bo, WIRE_MOVE, &f);
    raw_expect(bo, WIRE_RESULT, &f);
    ck_assert_int_eq(proc_finish(&a), 0);
    raw_expect(bo, WIRE_GONE, &f);
    close(bo);
    stop_server();
}
END_TEST

/* A listening socket that never accepts: a server that never answers. Returns its port. */
static int silent_server(int *fd)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(*fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(*fd, 4), 0);
    ck_assert_int_eq(getsockname(*fd, (struct sockaddr *)&sa, &len), 0);
    return ntohs(sa.sin_port);
}

/* The login is answered within --timeout, or a script gives up as it does on a connect. */
START_TEST(test_e2e_play_login_unanswered)
{
    int fd;
    char want[128];
    snprintf(port_arg, sizeof(port_arg), "%d", silent_server(&fd));
    ck_assert_int_eq(arcade("r", out, err, "play", "--name", "ana", "--timeout", "0.3", NULL), 3);
    snprintf(want, sizeof(want), "arcade: no answer from 127.0.0.1:%s to the login in 0.3 s\n", port_arg);
    ck_assert_str_eq(err, want);
    ck_assert_str_eq(out, "");
    close(fd);
}
END_TEST

/* A guest says nothing before its first move, reads bare results, and keeps no secret. */
START_TEST(test_e2e_play_guest_sends_no_login)
{
    static struct proc a;
    int lfd;
    char got[8], dir[256];
    snprintf(port_arg, sizeof(port_arg), "%d", silent_server(&lfd));
    const char *aa[] = { "play", "--port", port_arg, NULL };
    proc_start(&a, aa);
    proc_write(&a, "rock\n");
    close(a.in);
    a.in = -1;
    int fd = accept(lfd, NULL, NULL);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(harness_recv_n(fd, got, 1), 1);
    ck_assert_int_eq(got[0], '2');
    ck_assert_int_eq(harness_sends(fd, "y"), 0);
    ck_assert_int_eq(proc_finish(&a), 0);
    ck_assert_str_eq(a.obuf, "round 1: you rock, opponent scissors: win\nwins 1, losses 0, draws 0\n");
    ck_assert_int_eq(harness_recv_all(fd, got, sizeof(got)), 0);
    snprintf(dir, sizeof(dir), "%s/arcade", getenv("XDG_CONFIG_HOME"));
    ck_assert_int_eq(access(dir, F_OK), -1);
    close(fd);
    close(lfd);
}
END_TEST

static Suite *client_suite(void)
{
    Suite *s = suite_create("client");
    /* Against PostgreSQL only the cases that start a server: unit would run again as it is (and a
     * case made but never added is memory LeakSanitizer counts in every test's process). */
    if (!harness_engine_pg()) {
        TCase *unit = tcase_create("unit");
        tcase_add_test(unit, test_opts_walk);
        tcase_add_test(unit, test_opts_errors);
        tcase_add_test(unit, test_opts_numbers);
        tcase_add_test(unit, test_opts_environment);
        tcase_add_test(unit, test_words_move);
        tcase_add_test(unit, test_words_keys);
        tcase_add_test(unit, test_words_reader);
        tcase_add_test(unit, test_wire_frames);
        tcase_add_test(unit, test_wire_bad);
        tcase_add_test(unit, test_wire_hello);
        tcase_add_test(unit, test_wire_snapshot);
        tcase_add_test(unit, test_wire_account_frames);
        tcase_add_test(unit, test_sess_guest_infers_bot_move);
        tcase_add_test(unit, test_sess_named_bot);
        tcase_add_test(unit, test_sess_refusals);
        tcase_add_test(unit, test_sess_pvp_match);
        tcase_add_test(unit, test_sess_register_then_login);
        tcase_add_test(unit, test_sess_taken_over_and_release);
        tcase_add_test(unit, test_sess_rejoin_move_in);
        tcase_add_test(unit, test_sess_rejoin_move_not_in);
        tcase_add_test(unit, test_sess_rejoin_decided_while_away);
        tcase_add_test(unit, test_sess_rejoin_seat_lost);
        tcase_add_test(unit, test_sess_lost_move_against_the_bot);
        tcase_add_test(unit, test_sess_rejoin_new_process);
        tcase_add_test(unit, test_sess_login_back_in_the_queue);
        tcase_add_test(unit, test_sess_opponent_drops_and_comes_back);
        tcase_add_test(unit, test_sess_forfeit_told_before_gone_is_one_win);
        tcase_add_test(unit, test_sess_gone_before_our_move_shows_the_bot_round_not_a_forfeit);
        tcase_add_test(unit, test_sess_forfeit_alone_is_the_opponent_timing_out);
        tcase_add_test(unit, test_report_lines);
        tcase_add_test(unit, test_report_notes);
        tcase_add_test(unit, test_report_rejoined);
        tcase_add_test(unit, test_report_refusal);
        tcase_add_test(unit, test_table_parse);
        tcase_add_test(unit, test_table_answer);
        tcase_add_test(unit, test_table_print);
        tcase_add_test(unit, test_ask_framing);
        tcase_add_test(unit, test_json_strings);
        tcase_add_test(unit, test_secrets_keep_load_drop);
        tcase_add_test(unit, test_secrets_tighten);
        tcase_add_test(unit, test_secrets_refuse);
        suite_add_tcase(s, unit);
    }

    TCase *e2e = tcase_create("end_to_end");
    tcase_set_timeout(e2e, 60);
    tcase_add_checked_fixture(e2e, own_config, NULL);
    tcase_add_test(e2e, test_e2e_version_help);
    tcase_add_test(e2e, test_e2e_ask_every_op);
    tcase_add_test(e2e, test_e2e_ask_many_in_order);
    tcase_add_test(e2e, test_e2e_ask_udp);
    tcase_add_test(e2e, test_e2e_ask_server_errors);
    tcase_add_test(e2e, test_e2e_ask_usage);
    tcase_add_test(e2e, test_e2e_ask_stdin);
    tcase_add_test(e2e, test_e2e_ask_streams);
    tcase_add_test(e2e, test_e2e_ask_reopens_after_idle_close);
    tcase_add_test(e2e, test_e2e_ask_json);
    tcase_add_test(e2e, test_e2e_unreachable);
    tcase_add_test(e2e, test_e2e_timeout);
    tcase_add_test(e2e, test_e2e_play_script_guest);
    tcase_add_test(e2e, test_e2e_play_script_named_stored);
    tcase_add_test(e2e, test_e2e_play_bad_word);
    tcase_add_test(e2e, test_e2e_play_pvp_two_scripts);
    tcase_add_test(e2e, test_e2e_play_pvp_timeouts);
    tcase_add_test(e2e, test_e2e_play_pvp_you_timed_out_void_left);
    tcase_add_test(e2e, test_e2e_play_queue_timeout);
    tcase_add_test(e2e, test_e2e_play_reconnects);
    tcase_add_test(e2e, test_e2e_top_and_rank);
    tcase_add_test(e2e, test_e2e_play_login_unanswered);
    tcase_add_test(e2e, test_e2e_play_guest_sends_no_login);
    suite_add_tcase(s, e2e);

    TCase *accounts = tcase_create("accounts");
    tcase_set_timeout(accounts, 60);
    tcase_add_checked_fixture(accounts, own_config, NULL);
    tcase_add_test(accounts, test_e2e_account_register_then_login);
    tcase_add_test(accounts, test_e2e_account_name_belongs_to_another);
    tcase_add_test(accounts, test_e2e_account_rotate);
    tcase_add_test(accounts, test_e2e_account_drop);
    tcase_add_test(accounts, test_e2e_account_stale_secret);
    tcase_add_test(accounts, test_e2e_account_taken_over);
    tcase_add_test(accounts, test_e2e_rejoin_move_in);
    tcase_add_test(accounts, test_e2e_rejoin_decided_while_away);
    tcase_add_test(accounts, test_e2e_opponent_drops_and_returns);
    tcase_add_test(accounts, test_e2e_quitting_leaves_the_match);
    suite_add_tcase(s, accounts);
    return s;
}

int main(void)
{
    return suite_run(client_suite());
}
