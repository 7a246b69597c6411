/* The remote crashes of a player-vs-player match, reproduced deterministically: the server is stopped
 * (SIGSTOP) while both players' bytes arrive, so that everything they send lands in one loop
 * iteration, then continued. Each sequence is tried many times in both orders of arrival, since which
 * socket the loop reads first decides which path is taken. The server must survive (an answer on a new
 * connection), stop cleanly (exit 0: under `make test SAN=1` any use after free aborts it), and keep
 * a database that agrees with what the players were told. Last, the server killed with SIGKILL
 * right after a match's results: a restart must give back the ratings those results make. */
#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "expect.h"
#include "harness.h"
#include "suite.h"

/* "E <len> already moved": a move after one's own move in the same round. */
#define ALREADY_MOVED_LEN 15
#define EXTRA_MOVES 20
#define OUT_MAX (ALREADY_MOVED_LEN * EXTRA_MOVES)
/* Tries of each sequence, half in each order of arrival. */
#define TRIES 20
#define ELO_START 1200.0
#define ELO_K_NEW 40.0          /* a player's first 30 rated rounds */

/* Close with a reset (RST) instead of a FIN. */
static void reset(int fd)
{
    struct linger l = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    close(fd);
}

/* Two named players, matched: a waited in the queue. Every frame so far has been read. */
static void matched_pair(const char *a_name, const char *b_name, int *a, int *b)
{
    *a = dial(srv.port);
    *b = dial(srv.port);
    hello(*a, a_name);
    hello(*b, b_name);
    send_str(*a, "P");
    EXPECT(*a, "W");
    send_str(*b, "P");
    char f[2 + 32];
    f[0] = 'V';
    f[1] = (char)strlen(a_name);
    memcpy(f + 2, a_name, strlen(a_name));
    expect_bytes(*b, f, 2 + strlen(a_name));
    f[1] = (char)strlen(b_name);
    memcpy(f + 2, b_name, strlen(b_name));
    expect_bytes(*a, f, 2 + strlen(b_name));
}

/* Stop the server and wait until it is stopped: bytes sent from now on wait for it together. */
static void pause_server(void)
{
    int status;
    ck_assert_int_eq(kill(srv.pid, SIGSTOP), 0);
    ck_assert_int_eq(waitpid(srv.pid, &status, WUNTRACED), srv.pid);
    ck_assert_msg(WIFSTOPPED(status), "the server ended instead of stopping");
}

static void resume_server(void)
{
    ck_assert_int_eq(kill(srv.pid, SIGCONT), 0);
}

/* The server is alive and answers a new connection; then it stops cleanly. */
static void alive_then_clean_stop(void)
{
    ask(srv.port, "a2\n", "d4\n");
    ck_assert_msg(harness_stop(&srv) == 0, "the server did not exit cleanly (see %s)", srv.log);
}

/* A sends a bad frame and resets; B sends a move and a bad frame and resets: closing A must not
 * free B (or the match) while B's forfeit win is held for the commit. */
static void reset_race(void)
{
    start_server("--out-max", "262144", NULL);
    for (int i = 0; i < TRIES; i++) {
        char na[16], nb[16];
        int a, b;
        snprintf(na, sizeof(na), "ra%d", i);
        snprintf(nb, sizeof(nb), "rb%d", i);
        matched_pair(na, nb, &a, &b);
        pause_server();
        if (i % 2 == 0) {
            send_str(a, "7");
            reset(a);
            send_str(b, "37");
            reset(b);
        } else {
            send_str(b, "37");
            reset(b);
            send_str(a, "7");
            reset(a);
        }
        resume_server();
        ask(srv.port, "a3\n", "d9\n");
    }
    alive_then_clean_stop();
    /* A round stored can only be B's forfeit win over A (A waited in the queue: it is player a). */
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds WHERE NOT (timeout = 1 AND outcome = 'L')"), 0);
}

START_TEST(test_two_players_resetting_at_once)
{
    reset_race();
}
END_TEST

/* B moves, then fills its output to exactly the cap with moves the round refuses, and never reads;
 * in the same iteration A acts (`L`, or a move that ends the round). The frame the server then owes
 * B passes the cap and closes B: that close must not leave the match, or free it, under A. */
static void opponent_at_the_cap(const char *a_sends)
{
    char moves[1 + EXTRA_MOVES], cap[16];

    snprintf(cap, sizeof(cap), "%d", OUT_MAX);
    start_server("--out-max", cap, NULL);
    memset(moves, '1', sizeof(moves));
    for (int i = 0; i < TRIES; i++) {
        char na[16], nb[16];
        int a, b;
        snprintf(na, sizeof(na), "capa%d", i);
        snprintf(nb, sizeof(nb), "capb%d", i);
        matched_pair(na, nb, &a, &b);
        pause_server();
        if (i % 2 == 0) {
            send_str(a, a_sends);
            put(b, moves, sizeof(moves));
        } else {
            put(b, moves, sizeof(moves));
            send_str(a, a_sends);
        }
        resume_server();
        ask(srv.port, "a3\n", "d9\n");
        close(a);
        close(b);
    }
    alive_then_clean_stop();
}

START_TEST(test_leave_while_the_opponent_is_at_the_output_cap)
{
    opponent_at_the_cap("L");
}
END_TEST

START_TEST(test_move_while_the_opponent_is_at_the_output_cap)
{
    opponent_at_the_cap("2");
}
END_TEST

/* Elo as docs/PROTOCOL.md gives it, for two provisional players (K 40 each, below 2400). */
static void elo(double *ra, double *rb, double score_a)
{
    double ea = 1.0 / (1.0 + pow(10.0, (*rb - *ra) / 400.0));
    double d = ELO_K_NEW * (score_a - ea);
    *ra += d;
    *rb -= d;
}

/* A player as the results told make it. */
struct told {
    const char *name;
    double rating;
    struct tally t;
    char form[16];
};

static void told_add(struct told *p, char result)
{
    size_t n = strlen(p->form);

    tally_add(&p->t, result);
    p->form[n] = result == 'y' ? 'W' : result == 'z' ? 'L' : 'D';
    p->form[n + 1] = '\0';
}

/* Its leaderboard row, ranked rank (docs/PROTOCOL.md, "Leaderboard rows"): every round rated. */
static const char *told_row(const struct told *p, int rank)
{
    static char row[128];

    snprintf(row, sizeof(row), "%d\t%s\t%lld\t1\t%d\t%d\t%d\t%d\t%s\n", rank, p->name,
             (long long)floor(p->rating + 0.5), p->t.wins, p->t.losses, p->t.draws,
             p->t.wins + p->t.losses + p->t.draws, p->form);
    return row;
}

/* The server is killed with SIGKILL as soon as both players have read their last result. On SQLite
 * it writes rated players' rows back every tenth of a second, so it may have written some, all or
 * none of them: either way, and on either engine, after a restart the leaderboard gives the ratings
 * the told results make, and the database holds every round told, once. */
START_TEST(test_sigkill_right_after_rated_results_keeps_every_rating)
{
    /* ana's move and bo's, a round each (1 scissors, 2 rock, 3 paper): ana wins five, draws two,
     * loses two, so the two never tie. */
    static const int moves[][2] = {{2, 1}, {3, 3}, {1, 2}, {2, 1}, {3, 2}, {1, 1}, {2, 3}, {2, 1}, {3, 2}};
    enum { ROUNDS = sizeof(moves) / sizeof(moves[0]) };
    struct told ana = {.name = "ana", .rating = ELO_START}, bo = {.name = "bo", .rating = ELO_START};
    int a, b, fd;

    start_server("--move-timeout", "30", NULL);
    matched_pair(ana.name, bo.name, &a, &b);
    for (int r = 0; r < ROUNDS; r++) {
        char ma = (char)('0' + moves[r][0]), mb = (char)('0' + moves[r][1]);
        char result_a = rules(moves[r][0], moves[r][1]), result_b = rules(moves[r][1], moves[r][0]);
        char fa[3] = {'M', mb, result_a}, fb[3] = {'M', ma, result_b};

        put(a, &ma, 1);
        put(b, &mb, 1);
        expect_bytes_as(a, ana.name, fa, sizeof(fa));
        expect_bytes_as(b, bo.name, fb, sizeof(fb));
        told_add(&ana, result_a);
        told_add(&bo, result_b);
        elo(&ana.rating, &bo.rating, result_a == 'y' ? 1.0 : result_a == 'x' ? 0.5 : 0.0);
    }
    ck_assert_int_eq(kill(srv.pid, SIGKILL), 0);
    ck_assert_int_eq(harness_wait(&srv), 128 + SIGKILL);
    close(a);
    close(b);
    /* A result is told only once its round is committed. */
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds"), ROUNDS);
    ck_assert_double_gt(ana.rating, bo.rating);

    restart(NULL);
    fd = dial(srv.port);
    send_str(fd, "rana 1\nrbo 0\n");
    expect_line(fd, told_row(&ana, 1));
    expect_line(fd, told_row(&bo, 2));
    expect_line(fd, ".\n");
    expect_line(fd, told_row(&bo, 2));
    expect_line(fd, ".\n");
    close(fd);
    stop_keep();
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds"), ROUNDS);
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM players WHERE rated = %d AND rounds = %d", ROUNDS, ROUNDS), 2);
    ck_assert_int_eq(sql(&srv, "SELECT CAST(round(rating * 100) AS INT) FROM players WHERE name = 'ana'"),
                     llround(ana.rating * 100));
    ck_assert_int_eq(sql(&srv, "SELECT CAST(round(rating * 100) AS INT) FROM players WHERE name = 'bo'"),
                     llround(bo.rating * 100));
    ck_assert_int_eq(sql(&srv, "SELECT wins * 100 + losses * 10 + draws FROM players WHERE name = 'ana'"),
                     ana.t.wins * 100 + ana.t.losses * 10 + ana.t.draws);
}
END_TEST

static Suite *crash_suite(void)
{
    Suite *s = suite_create("crash");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, NULL, stop_server);
    tcase_add_test(tc, test_two_players_resetting_at_once);
    tcase_add_test(tc, test_leave_while_the_opponent_is_at_the_output_cap);
    tcase_add_test(tc, test_move_while_the_opponent_is_at_the_output_cap);
    tcase_add_test(tc, test_sigkill_right_after_rated_results_keeps_every_rating);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return suite_run(crash_suite());
}
