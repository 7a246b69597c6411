/* Player against player, end to end: the real arcaded on --port 0 with a temporary database, named
 * clients over real sockets, and the database read back after the server stopped. Expected frames
 * and ratings come from docs/PROTOCOL.md (the rules of the game and the Elo formula are written out
 * again here), never from the server's own code. Every wait is a blocking read with the harness's
 * 10 s deadline; timeouts that must happen are made short with --move-timeout / --queue-timeout. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "expect.h"
#include "harness.h"
#include "suite.h"

#define NAME_MAX_LEN 32
#define FRAME_MAX (2 + 255)
#define ELO_START 1200.0
#define ELO_K_NEW 40.0          /* a player's first 30 rated rounds */

#define SCISSORS 1
#define ROCK 2
#define PAPER 3

struct player {
    int fd;
    char name[NAME_MAX_LEN + 1];  /* for messages; empty for a guest */
};

/* The server of the test, with these timeouts. */
static void serve(const char *move_timeout, const char *queue_timeout)
{
    start_server("--move-timeout", move_timeout, "--queue-timeout", queue_timeout, NULL);
}

static const char *who(const struct player *p)
{
    return p->name[0] != '\0' ? p->name : "guest";
}

static void send_bytes(struct player *p, const char *bytes)
{
    ck_assert_msg(harness_sends(p->fd, bytes) == 0, "%s: send failed", who(p));
}

static void send_move(struct player *p, int move)
{
    char b[2] = { (char)('0' + move), '\0' };
    send_bytes(p, b);
}

/* The next n bytes from p are exactly want. */
static void expect_from(struct player *p, const char *want, size_t n)
{
    expect_bytes_as(p->fd, who(p), want, n);
}

static size_t make_frame(char *out, char op, const char *text)
{
    size_t n = strlen(text);
    out[0] = op;
    out[1] = (char)n;
    memcpy(out + 2, text, n);
    return n + 2;
}

/* `op <len> <text>` */
static void expect_frame(struct player *p, char op, const char *text)
{
    char f[FRAME_MAX];
    expect_from(p, f, make_frame(f, op, text));
}

/* `op` or `op <code>` */
static void expect_op(struct player *p, char op)
{
    expect_from(p, &op, 1);
}

static void expect_code(struct player *p, char op, char code)
{
    char f[2] = { op, code };
    expect_from(p, f, 2);
}

/* A named player's result: `M <their move> <my result>`. */
static void expect_result(struct player *p, int mine, int theirs)
{
    char f[3] = { 'M', (char)('0' + theirs), rules(mine, theirs) };
    expect_from(p, f, 3);
}

/* Move against the bot (the lobby): any bot move, with the result that move gives. Returns it. */
static char expect_bot_round(struct player *p, int mine)
{
    char f[3];

    send_move(p, mine);
    ssize_t r = harness_recv_n(p->fd, f, 3);
    ck_assert_msg(r == 3 && f[0] == 'M' && f[1] >= '1' && f[1] <= '3' && f[2] == rules(mine, f[1] - '0'),
                  "%s: expected a bot result \"M<move><result>\" for move %d, got \"%s\"", who(p), mine,
                  show(f, r > 0 ? (size_t)r : 0));
    return f[2];
}

static struct player connect_guest(void)
{
    struct player p = { .fd = dial(srv.port) };
    return p;
}

/* Connect and say hello: `H <len> <name>`, answered `A <len> <name>`. */
static struct player connect_named(const char *name)
{
    struct player p = connect_guest();

    snprintf(p.name, sizeof(p.name), "%s", name);
    hello(p.fd, name);
    return p;
}

static void queue(struct player *p)
{
    send_bytes(p, "P");
    expect_op(p, 'W');
}

/* first queues and waits; second's P matches them: V to both, naming the other. */
static void match_pair(struct player *first, struct player *second)
{
    queue(first);
    send_bytes(second, "P");
    expect_frame(second, 'V', first->name);
    expect_frame(first, 'V', second->name);
}

/* One round where both move in time: each gets the other's move and its own result. */
static void play_round(struct player *a, int move_a, struct player *b, int move_b)
{
    send_move(a, move_a);
    send_move(b, move_b);
    expect_result(a, move_a, move_b);
    expect_result(b, move_b, move_a);
}

/* mover wins the round by forfeit: the other did not move in the window. */
static void forfeit_round(struct player *mover, int move, struct player *idle)
{
    send_move(mover, move);
    expect_code(mover, 'T', 'y');
    expect_code(idle, 'T', 'z');
}

static void hang_up(struct player *p)
{
    close(p->fd);
    p->fd = -1;
}

/* Elo as docs/PROTOCOL.md gives it, for two provisional players (K 40 each, below 2400). */
static void elo(double *ra, double *rb, double score_a)
{
    double ea = 1.0 / (1.0 + pow(10.0, (*rb - *ra) / 400.0));
    double d = ELO_K_NEW * (score_a - ea);
    *ra += d;
    *rb -= d;
}

/* The player's rating in hundredths, rounded, from the stopped server's database. */
static long long rating_x100(const char *name)
{
    return sql(&srv, "SELECT CAST(round(rating * 100) AS INT) FROM players WHERE name = '%s'", name);
}

START_TEST(test_named_players_are_matched_and_play_all_nine_move_pairs)
{
    serve("30", "30");
    struct player ana = connect_named("ana");
    struct player bo = connect_named("bo");

    queue(&ana);
    send_bytes(&bo, "P");
    expect_frame(&bo, 'V', "ana");
    expect_frame(&ana, 'V', "bo");
    for (int a = SCISSORS; a <= PAPER; a++) {
        for (int b = SCISSORS; b <= PAPER; b++) {
            play_round(&ana, a, &bo, b);
        }
    }
    hang_up(&ana);
    hang_up(&bo);
}
END_TEST

START_TEST(test_second_move_in_a_round_is_refused_and_changes_nothing)
{
    serve("30", "30");
    struct player ana = connect_named("ana");
    struct player bo = connect_named("bo");

    match_pair(&ana, &bo);
    /* Rock, then scissors: the second must not replace the first. */
    send_bytes(&ana, "21");
    expect_frame(&ana, 'E', "already moved");
    send_move(&bo, SCISSORS);
    expect_result(&ana, ROCK, SCISSORS);
    expect_result(&bo, SCISSORS, ROCK);
    /* The refused move did not carry over into the next round either. */
    play_round(&bo, PAPER, &ana, SCISSORS);
    hang_up(&ana);
    hang_up(&bo);
}
END_TEST

START_TEST(test_move_while_queued_is_refused)
{
    serve("30", "30");
    struct player ana = connect_named("ana");
    struct player bo = connect_named("bo");

    queue(&ana);
    send_move(&ana, ROCK);
    expect_frame(&ana, 'E', "waiting for an opponent");
    /* Still queued, no bot round played: the next frame answers the next request. */
    send_bytes(&ana, "P");
    expect_frame(&ana, 'E', "already queued");
    send_bytes(&bo, "P");
    expect_frame(&bo, 'V', "ana");
    expect_frame(&ana, 'V', "bo");
    /* The refused move is not ana's first move of the match. */
    send_move(&bo, ROCK);
    send_move(&ana, PAPER);
    expect_result(&bo, ROCK, PAPER);
    expect_result(&ana, PAPER, ROCK);
    hang_up(&ana);
    hang_up(&bo);
}
END_TEST

START_TEST(test_play_twice_is_refused_as_already_queued)
{
    serve("30", "30");
    struct player ana = connect_named("ana");
    struct player bo = connect_named("bo");

    queue(&ana);
    send_bytes(&ana, "P");
    expect_frame(&ana, 'E', "already queued");
    /* Still queued, once: the next player meets ana. */
    send_bytes(&bo, "P");
    expect_frame(&bo, 'V', "ana");
    expect_frame(&ana, 'V', "bo");
    hang_up(&ana);
    hang_up(&bo);
}
END_TEST

START_TEST(test_play_in_a_match_is_refused_and_the_match_goes_on)
{
    serve("30", "30");
    struct player ana = connect_named("ana");
    struct player bo = connect_named("bo");

    match_pair(&ana, &bo);
    send_bytes(&ana, "P");
    expect_frame(&ana, 'E', "in a match");
    send_bytes(&bo, "P");
    expect_frame(&bo, 'E', "in a match");
    play_round(&ana, PAPER, &bo, ROCK);
    hang_up(&ana);
    hang_up(&bo);
}
END_TEST

START_TEST(test_play_from_a_guest_is_refused_hello_first)
{
    serve("30", "30");
    struct player guest = connect_guest();
    char r;

    send_bytes(&guest, "P");
    expect_frame(&guest, 'E', "hello first");
    /* Still a guest in the lobby: a move gets the bare result byte. */
    send_move(&guest, ROCK);
    ck_assert_int_eq(harness_recv_n(guest.fd, &r, 1), 1);
    ck_assert_msg(r == 'x' || r == 'y' || r == 'z', "guest: expected a bare result byte, got 0x%02x",
                  (unsigned char)r);
    hang_up(&guest);
}
END_TEST

START_TEST(test_a_name_in_use_is_refused_so_nobody_plays_themselves)
{
    serve("30", "30");
    struct player ana1 = connect_named("ana");
    struct player ana2 = connect_guest();
    struct player bo = connect_named("bo");

    /* A bare hello for a name someone is playing as now has no proof of who owns it: refused. */
    send_bytes(&ana2, "H\x03" "ANA");
    expect_frame(&ana2, 'N', "name in use");
    send_bytes(&ana2, "P");
    expect_frame(&ana2, 'E', "hello first");
    queue(&ana1);
    send_bytes(&bo, "P");
    expect_frame(&bo, 'V', "ana");
    expect_frame(&ana1, 'V', "bo");
    play_round(&ana1, ROCK, &bo, SCISSORS);
    /* Once the first ana is gone, the name is free again, in any case, spelt as stored. */
    hang_up(&ana1);
    expect_op(&bo, 'G');
    send_bytes(&ana2, "H\x03" "aNa");
    expect_frame(&ana2, 'A', "ana");
    hang_up(&ana2);
    hang_up(&bo);
}
END_TEST

START_TEST(test_queued_player_who_hangs_up_is_not_matched)
{
    serve("30", "30");
    struct player ana = connect_named("ana");
    struct player bo = connect_named("bo");
    struct player cy = connect_named("cy");

    queue(&ana);
    /* Half-close and wait for the server's close: it has handled ana's leaving by then. */
    char rest[16];
    ck_assert_int_eq(shutdown(ana.fd, SHUT_WR), 0);
    ck_assert_int_eq(harness_recv_all(ana.fd, rest, sizeof(rest)), 0);
    hang_up(&ana);
    queue(&bo);
    send_bytes(&cy, "P");
    expect_frame(&cy, 'V', "bo");
    expect_frame(&bo, 'V', "cy");
    hang_up(&bo);
    hang_up(&cy);
}
END_TEST

START_TEST(test_queue_timeout_sends_Q_then_bot_and_queue_again)
{
    serve("30", "0.5");
    struct player ana = connect_named("ana");

    queue(&ana);
    expect_op(&ana, 'Q');
    expect_bot_round(&ana, ROCK);
    queue(&ana);
    expect_op(&ana, 'Q');
    hang_up(&ana);
}
END_TEST

START_TEST(test_forfeit_by_timeout_then_next_round)
{
    serve("1", "30");
    struct player ana = connect_named("ana");
    struct player bo = connect_named("bo");

    match_pair(&ana, &bo);
    forfeit_round(&ana, ROCK, &bo);
    play_round(&ana, PAPER, &bo, ROCK);
    hang_up(&ana);
    hang_up(&bo);
}
END_TEST

START_TEST(test_void_round_when_neither_moves_stores_nothing)
{
    serve("1", "30");
    struct player ana = connect_named("ana");
    struct player bo = connect_named("bo");

    match_pair(&ana, &bo);
    expect_code(&ana, 'T', 'v');
    expect_code(&bo, 'T', 'v');
    play_round(&ana, SCISSORS, &bo, PAPER);
    stop_keep();
    hang_up(&ana);
    hang_up(&bo);
    /* Only the round both played is stored. */
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds"), 1);
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds WHERE move_a = 1 AND move_b = 3 AND outcome = 'W'"
                         " AND timeout = 0"), 1);
}
END_TEST

START_TEST(test_three_timeouts_in_a_row_end_the_match)
{
    serve("1", "30");
    struct player ana = connect_named("ana");
    struct player bo = connect_named("bo");

    match_pair(&ana, &bo);
    for (int round = 0; round < 3; round++) {
        forfeit_round(&ana, ROCK, &bo);
    }
    expect_code(&ana, 'F', 'y');
    expect_code(&bo, 'F', 'z');
    /* Both in the lobby: moves play the bot, and P queues again. */
    expect_bot_round(&ana, PAPER);
    expect_bot_round(&bo, SCISSORS);
    match_pair(&bo, &ana);
    hang_up(&ana);
    hang_up(&bo);
}
END_TEST

START_TEST(test_timeouts_end_the_match_only_in_a_row)
{
    serve("1", "30");
    struct player ana = connect_named("ana");
    struct player bo = connect_named("bo");

    match_pair(&ana, &bo);
    /* Two for ana; ana then moves in time, so her count starts again. */
    forfeit_round(&bo, ROCK, &ana);
    forfeit_round(&bo, ROCK, &ana);
    forfeit_round(&ana, PAPER, &bo);
    forfeit_round(&bo, ROCK, &ana);
    /* A played round starts it again too. */
    play_round(&ana, ROCK, &bo, PAPER);
    forfeit_round(&bo, SCISSORS, &ana);
    forfeit_round(&bo, SCISSORS, &ana);
    /* Four timed-out rounds of ana's, never three in a row: no F, the match goes on. */
    play_round(&ana, SCISSORS, &bo, SCISSORS);
    hang_up(&ana);
    hang_up(&bo);
}
END_TEST

START_TEST(test_three_void_rounds_end_the_match_for_both)
{
    serve("1", "30");
    struct player ana = connect_named("ana");
    struct player bo = connect_named("bo");

    match_pair(&ana, &bo);
    for (int round = 0; round < 3; round++) {
        expect_code(&ana, 'T', 'v');
        expect_code(&bo, 'T', 'v');
    }
    expect_code(&ana, 'F', 'v');
    expect_code(&bo, 'F', 'v');
    expect_bot_round(&ana, ROCK);
    expect_bot_round(&bo, ROCK);
    hang_up(&ana);
    hang_up(&bo);
}
END_TEST

START_TEST(test_opponent_disconnect_sends_G_and_returns_to_lobby)
{
    serve("30", "30");
    struct player ana = connect_named("ana");
    struct player bo = connect_named("bo");
    struct player cy = connect_named("cy");

    match_pair(&ana, &bo);
    /* ana moves; her second move is refused, which proves the server has the first. */
    send_move(&ana, ROCK);
    send_move(&ana, ROCK);
    expect_frame(&ana, 'E', "already moved");
    hang_up(&bo);
    /* The forfeit stored in her name is told, then the opponent's leaving. */
    expect_code(&ana, 'T', 'y');
    expect_op(&ana, 'G');
    expect_bot_round(&ana, ROCK);
    match_pair(&ana, &cy);
    play_round(&ana, ROCK, &cy, PAPER);
    stop_keep();
    hang_up(&ana);
    hang_up(&cy);
    /* The one who hung up lost the round ana had moved in, by forfeit: ana was a (she waited),
     * so 'W'. */
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds r JOIN players pa ON pa.id = r.a JOIN players pb"
                         " ON pb.id = r.b WHERE pa.name = 'ana' AND pb.name = 'bo' AND r.outcome = 'W'"
                         " AND r.timeout = 1"), 1);
}
END_TEST

START_TEST(test_leave_sends_B_to_leaver_and_G_to_opponent)
{
    serve("30", "30");
    struct player ana = connect_named("ana");
    struct player bo = connect_named("bo");

    match_pair(&ana, &bo);
    play_round(&ana, ROCK, &bo, ROCK);
    send_bytes(&bo, "L");
    expect_op(&bo, 'B');
    expect_op(&ana, 'G');
    /* Both in the lobby. */
    expect_bot_round(&ana, SCISSORS);
    expect_bot_round(&bo, PAPER);
    match_pair(&bo, &ana);
    play_round(&ana, PAPER, &bo, SCISSORS);
    /* Leaving between rounds, before anyone moved, stores no round. */
    send_bytes(&ana, "L");
    expect_op(&ana, 'B');
    expect_op(&bo, 'G');
    stop_keep();
    hang_up(&ana);
    hang_up(&bo);
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds"), 2);
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds WHERE timeout = 1"), 0);
    /* An operator sees each match, at the default log level: who, why it ended, the score. */
    static char log[16384];
    read_log(&srv, log, sizeof(log));
    ck_assert_msg(strstr(log, "match: ana against bo\n") != NULL, "no match start in the log: %s", log);
    ck_assert_msg(strstr(log, "match: ana against bo over (a player left): stored wins 0, losses 0, draws 1 for "
                              "the first\n") != NULL, "no match end in the log: %s", log);
    ck_assert_msg(strstr(log, "match: bo against ana over (a player left): stored wins 1, losses 0, draws 0 for "
                              "the first\n") != NULL, "no match end in the log: %s", log);
}
END_TEST

START_TEST(test_first_win_at_equal_ratings_gives_1220_and_1180)
{
    serve("1", "30");
    struct player ana = connect_named("ana");
    struct player bo = connect_named("bo");

    match_pair(&ana, &bo);
    play_round(&ana, ROCK, &bo, SCISSORS);
    /* End the match without another stored round: three void rounds. */
    for (int round = 0; round < 3; round++) {
        expect_code(&ana, 'T', 'v');
        expect_code(&bo, 'T', 'v');
    }
    expect_code(&ana, 'F', 'v');
    expect_code(&bo, 'F', 'v');
    stop_keep();
    hang_up(&ana);
    hang_up(&bo);
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds"), 1);
    ck_assert_int_eq(sql(&srv, "SELECT CAST(round(rating) AS INT) FROM players WHERE name = 'ana'"), 1220);
    ck_assert_int_eq(sql(&srv, "SELECT CAST(round(rating) AS INT) FROM players WHERE name = 'bo'"), 1180);
    /* The round holds both ratings after it (and on SQLite, each player's round before: none). */
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds r JOIN players p ON p.id = r.a JOIN players q"
                         " ON q.id = r.b WHERE p.name = 'ana' AND q.name = 'bo' AND r.rating_a = 1220"
                         " AND r.rating_b = 1180%s", harness_engine_pg() ? "" : " AND r.prev_a = 0 AND r.prev_b = 0"),
                     1);
}
END_TEST

/* Round k (0 = first stored) must be ana against bo with these moves, outcome and forfeit flag. */
static void expect_stored_round(int k, int move_a, int move_b, char result, int timeout)
{
    ck_assert_msg(sql(&srv, "SELECT count(*) FROM (SELECT * FROM rounds ORDER BY id LIMIT 1 OFFSET %d) r"
                      " WHERE r.a = (SELECT id FROM players WHERE name = 'ana')"
                      " AND r.b = (SELECT id FROM players WHERE name = 'bo')"
                      " AND r.move_a = %d AND r.move_b = %d AND r.outcome = '%c' AND r.timeout = %d",
                      k, move_a, move_b, result, timeout) == 1,
                  "stored round %d is not ana %d, bo %d, %c, timeout %d", k, move_a, move_b, result, timeout);
}

START_TEST(test_decided_rounds_are_stored_and_rated_bot_rounds_are_not)
{
    serve("1", "30");
    struct player ana = connect_named("ana");
    struct player bo = connect_named("bo");
    struct player cy = connect_named("cy");
    int bot_w = 0, bot_l = 0, bot_d = 0;

    /* Bot rounds: in the totals, never in a rating. */
    for (int i = 0; i < 3; i++) {
        char r = expect_bot_round(&ana, ROCK);
        bot_w += r == 'y';
        bot_l += r == 'z';
        bot_d += r == 'x';
        expect_bot_round(&cy, PAPER);
    }
    match_pair(&ana, &bo);
    play_round(&ana, ROCK, &bo, SCISSORS);      /* ana wins */
    play_round(&ana, PAPER, &bo, PAPER);        /* draw */
    play_round(&ana, SCISSORS, &bo, ROCK);      /* bo wins */
    send_move(&ana, PAPER);                     /* bo does not move: forfeit */
    expect_code(&ana, 'T', 'y');
    expect_code(&bo, 'T', 'z');
    expect_code(&ana, 'T', 'v');                /* void: stored nowhere */
    expect_code(&bo, 'T', 'v');
    send_move(&bo, ROCK);                       /* bo moves (the refused second move */
    send_move(&bo, ROCK);                       /* shows the server has the first) */
    expect_frame(&bo, 'E', "already moved");
    send_bytes(&ana, "L");                      /* leaving loses a round the other moved in, */
    expect_code(&ana, 'T', 'z');                /* and the leaver is told so, */
    expect_op(&ana, 'B');
    expect_code(&bo, 'T', 'y');                 /* and so is the winner */
    expect_op(&bo, 'G');
    hang_up(&ana);
    hang_up(&bo);
    hang_up(&cy);
    stop_keep();

    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds"), 5);
    expect_stored_round(0, ROCK, SCISSORS, 'W', 0);
    expect_stored_round(1, PAPER, PAPER, 'D', 0);
    expect_stored_round(2, SCISSORS, ROCK, 'L', 0);
    expect_stored_round(3, PAPER, 0, 'W', 1);
    expect_stored_round(4, 0, ROCK, 'L', 1);

    ck_assert_int_eq(sql(&srv, "SELECT wins FROM players WHERE name = 'ana'"), 2 + bot_w);
    ck_assert_int_eq(sql(&srv, "SELECT losses FROM players WHERE name = 'ana'"), 2 + bot_l);
    ck_assert_int_eq(sql(&srv, "SELECT draws FROM players WHERE name = 'ana'"), 1 + bot_d);
    ck_assert_int_eq(sql(&srv, "SELECT rounds FROM players WHERE name = 'ana'"), 8);
    ck_assert_int_eq(sql(&srv, "SELECT wins * 100 + losses * 10 + draws FROM players WHERE name = 'bo'"), 221);
    ck_assert_int_eq(sql(&srv, "SELECT rounds FROM players WHERE name = 'bo'"), 5);
    ck_assert_int_eq(sql(&srv, "SELECT rated FROM players WHERE name = 'ana'"), 5);
    ck_assert_int_eq(sql(&srv, "SELECT rated FROM players WHERE name = 'bo'"), 5);

    double ra = ELO_START, rb = ELO_START;
    static const double scores[] = { 1.0, 0.5, 0.0, 1.0, 0.0 };
    for (size_t i = 0; i < sizeof(scores) / sizeof(scores[0]); i++) {
        elo(&ra, &rb, scores[i]);
    }
    ck_assert_int_eq(rating_x100("ana"), llround(ra * 100));
    ck_assert_int_eq(rating_x100("bo"), llround(rb * 100));

    /* Each round holds both ratings after it: the last of each player's is the player's rating. */
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM players p WHERE p.name IN ('ana', 'bo') AND p.rating ="
                         " (SELECT CASE WHEN r.a = p.id THEN r.rating_a ELSE r.rating_b END FROM rounds r"
                         " WHERE r.id = (SELECT max(q.id) FROM rounds q WHERE p.id IN (q.a, q.b)))"),
                     2);
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds r JOIN players p ON p.id = r.a"
                         " WHERE p.name = 'ana' AND r.id = (SELECT min(id) FROM rounds) AND r.rating_a = 1220"), 1);
    /* SQLite's rounds also hold each player's round before, chained (a player's rating history walks
     * it back from players.last_round): the first of each player points at none, every other at the
     * one before, and the last is the player's. */
    if (!harness_engine_pg()) {
        ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds r WHERE r.prev_a <> coalesce((SELECT max(q.id)"
                             " FROM rounds q WHERE q.id < r.id AND r.a IN (q.a, q.b)), 0)"
                             " OR r.prev_b <> coalesce((SELECT max(q.id) FROM rounds q WHERE q.id < r.id"
                             " AND r.b IN (q.a, q.b)), 0)"), 0);
        ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM players p WHERE p.name IN ('ana', 'bo') AND p.last_round ="
                             " (SELECT max(q.id) FROM rounds q WHERE p.id IN (q.a, q.b))"), 2);
        ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds r JOIN players p ON p.id = r.a"
                             " WHERE p.name = 'ana' AND r.prev_a = 0 AND r.rating_a = 1220"), 1);
    }

    /* cy only played the bot. */
    ck_assert_int_eq(sql(&srv, "SELECT rounds FROM players WHERE name = 'cy'"), 3);
    ck_assert_int_eq(sql(&srv, "SELECT rated FROM players WHERE name = 'cy'"), 0);
    ck_assert_int_eq(sql(&srv, "SELECT rating = 1200 FROM players WHERE name = 'cy'"), 1);
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds r JOIN players p ON p.id IN (r.a, r.b)"
                         " WHERE p.name = 'cy'"), 0);
    if (!harness_engine_pg()) {
        ck_assert_int_eq(sql(&srv, "SELECT last_round FROM players WHERE name = 'cy'"), 0);
    }
}
END_TEST

START_TEST(test_top_and_rank_around_after_games)
{
    serve("30", "30");
    struct player ana = connect_named("ana");
    struct player bo = connect_named("bo");
    struct player cy = connect_named("cy");
    struct player dy = connect_named("dy");
    struct player eve = connect_named("eve");
    struct player guest = connect_guest();
    char r, row[128];

    char bot = expect_bot_round(&ana, ROCK);
    expect_bot_round(&eve, ROCK);
    send_move(&guest, ROCK);
    ck_assert_int_eq(harness_recv_n(guest.fd, &r, 1), 1);

    /* ana beats bo, moves again, then bo leaves and loses by forfeit: 1200/1200 -> 1220/1180 -> 1237.71/1162.29. */
    match_pair(&ana, &bo);
    play_round(&ana, ROCK, &bo, SCISSORS);
    send_move(&ana, ROCK);
    send_move(&ana, ROCK);
    expect_frame(&ana, 'E', "already moved");
    send_bytes(&bo, "L");
    expect_code(&bo, 'T', 'z');
    expect_op(&bo, 'B');
    expect_code(&ana, 'T', 'y');
    expect_op(&ana, 'G');
    /* dy beats cy, cy moves, then dy leaves and loses by forfeit: 1180/1220 -> 1202.29/1197.71. */
    match_pair(&cy, &dy);
    play_round(&cy, SCISSORS, &dy, ROCK);
    send_move(&cy, PAPER);
    send_move(&cy, PAPER);
    expect_frame(&cy, 'E', "already moved");
    send_bytes(&dy, "L");
    expect_code(&dy, 'T', 'z');
    expect_op(&dy, 'B');
    expect_code(&cy, 'T', 'y');
    expect_op(&cy, 'G');

    int fd = harness_connect(srv.port);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(harness_sends(fd, "t10\nt2\nrdy 1\nrana 1\nreve\nrnobody\n"), 0);
    snprintf(row, sizeof(row), "1\tana\t1238\t1\t%d\t%d\t%d\t3\tWW\n", 2 + (bot == 'y'), bot == 'z', bot == 'x');
    expect_line(fd, row);
    expect_line(fd, "2\tcy\t1202\t1\t1\t1\t0\t2\tLW\n");
    expect_line(fd, "3\tdy\t1198\t1\t1\t1\t0\t2\tWL\n");
    expect_line(fd, "4\tbo\t1162\t1\t0\t2\t0\t2\tLL\n");
    expect_line(fd, ".\n");
    expect_line(fd, row);
    expect_line(fd, "2\tcy\t1202\t1\t1\t1\t0\t2\tLW\n");
    expect_line(fd, ".\n");
    expect_line(fd, "2\tcy\t1202\t1\t1\t1\t0\t2\tLW\n");
    expect_line(fd, "3\tdy\t1198\t1\t1\t1\t0\t2\tWL\n");
    expect_line(fd, "4\tbo\t1162\t1\t0\t2\t0\t2\tLL\n");
    expect_line(fd, ".\n");
    expect_line(fd, row);
    expect_line(fd, "2\tcy\t1202\t1\t1\t1\t0\t2\tLW\n");
    expect_line(fd, ".\n");
    /* eve played only the bot; nobody never played. */
    expect_line(fd, "eunknown player\n");
    expect_line(fd, "eunknown player\n");
    close(fd);
    hang_up(&ana);
    hang_up(&bo);
    hang_up(&cy);
    hang_up(&dy);
    hang_up(&eve);
    hang_up(&guest);
}
END_TEST

static Suite *pvp_suite(void)
{
    Suite *s = suite_create("pvp");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, NULL, stop_server);
    tcase_add_test(tc, test_named_players_are_matched_and_play_all_nine_move_pairs);
    tcase_add_test(tc, test_second_move_in_a_round_is_refused_and_changes_nothing);
    tcase_add_test(tc, test_move_while_queued_is_refused);
    tcase_add_test(tc, test_play_twice_is_refused_as_already_queued);
    tcase_add_test(tc, test_play_in_a_match_is_refused_and_the_match_goes_on);
    tcase_add_test(tc, test_play_from_a_guest_is_refused_hello_first);
    tcase_add_test(tc, test_a_name_in_use_is_refused_so_nobody_plays_themselves);
    tcase_add_test(tc, test_queued_player_who_hangs_up_is_not_matched);
    tcase_add_test(tc, test_queue_timeout_sends_Q_then_bot_and_queue_again);
    tcase_add_test(tc, test_forfeit_by_timeout_then_next_round);
    tcase_add_test(tc, test_void_round_when_neither_moves_stores_nothing);
    tcase_add_test(tc, test_three_timeouts_in_a_row_end_the_match);
    tcase_add_test(tc, test_timeouts_end_the_match_only_in_a_row);
    tcase_add_test(tc, test_three_void_rounds_end_the_match_for_both);
    tcase_add_test(tc, test_opponent_disconnect_sends_G_and_returns_to_lobby);
    tcase_add_test(tc, test_leave_sends_B_to_leaver_and_G_to_opponent);
    tcase_add_test(tc, test_first_win_at_equal_ratings_gives_1220_and_1180);
    tcase_add_test(tc, test_decided_rounds_are_stored_and_rated_bot_rounds_are_not);
    tcase_add_test(tc, test_top_and_rank_around_after_games);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return suite_run(pvp_suite());
}
