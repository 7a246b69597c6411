/*
 * arcade play on a terminal, as a person uses it: bin/arcade runs on a
 * pseudo-terminal, the test presses keys on the master side and reads the
 * screen, against a real bin/arcaded on --port 0. Checks that a key plays a
 * round and shows both moves and the score, that server notices show up
 * while no key is pressed, the countdown, colours, reconnection, an
 * opponent's drop and return, a match rejoined after a crash, and that the
 * terminal's settings come back after q, Ctrl-C and SIGTERM.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <utmp.h>

#include "expect.h"
#include "harness.h"
#include "suite.h"
#include "wire.h"

#define SCREEN_CAP (256 * 1024)
#define WAIT_MS 15000

/* bin/arcade on a pseudo-terminal. The test keeps the slave side open too, to read the
 * terminal's settings whatever the child did. */
struct term {
    pid_t pid;
    int master, slave;
    struct termios before;      /* the settings the child started with */
    char raw[SCREEN_CAP];       /* every byte the child wrote */
    size_t len;
    char text[SCREEN_CAP];      /* the same without escape sequences and carriage returns */
    int status;                 /* exit status once reaped, else -1 */
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What a person reads: the output without CSI sequences and carriage returns. */
static void strip(struct term *t)
{
    size_t o = 0;
    for (size_t i = 0; i < t->len; i++) {
        unsigned char c = (unsigned char)t->raw[i];
        if (c == 0x1b && i + 1 < t->len && t->raw[i + 1] == '[') {
            i += 2;
            while (i < t->len && !((unsigned char)t->raw[i] >= 0x40 && (unsigned char)t->raw[i] <= 0x7e)) {
                i++;
            }
            continue;
        }
        if (c != '\r') {
            t->text[o++] = (char)c;
        }
    }
    t->text[o] = '\0';
}

/* env: "NAME=value" to set or "NAME" to unset, NULL-terminated; a terminal cols wide. */
static void term_start_cols(struct term *t, const char *const *env, const char *const *args, int cols)
{
    struct winsize ws = { .ws_row = 24, .ws_col = (unsigned short)cols };
    const char *argv[32];
    int n = 0;

    memset(t, 0, sizeof(*t));
    t->status = -1;
    ck_assert_int_eq(openpty(&t->master, &t->slave, NULL, NULL, &ws), 0);
    fcntl(t->master, F_SETFD, FD_CLOEXEC);
    fcntl(t->slave, F_SETFD, FD_CLOEXEC);
    ck_assert_int_eq(tcgetattr(t->slave, &t->before), 0);
    ck_assert_int_ne(t->before.c_lflag & ICANON, 0);
    argv[n++] = harness_arcade();
    for (; *args != NULL && n < 31; args++) {
        argv[n++] = *args;
    }
    argv[n] = NULL;
    t->pid = fork();
    ck_assert_int_ge(t->pid, 0);
    if (t->pid == 0) {
        close(t->master);
        if (login_tty(t->slave) < 0) {
            _exit(126);
        }
        setenv("TERM", "xterm", 1);
        for (; env != NULL && *env != NULL; env++) {
            const char *eq = strchr(*env, '=');
            if (eq == NULL) {
                unsetenv(*env);
            } else {
                char name[64];
                snprintf(name, sizeof(name), "%.*s", (int)(eq - *env), *env);
                setenv(name, eq + 1, 1);
            }
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
}

static void term_start(struct term *t, const char *const *env, const char *const *args)
{
    term_start_cols(t, env, args, 120);
}

/* Read what the child wrote, for at most ms. */
static void term_pump(struct term *t, int ms)
{
    struct pollfd p = { .fd = t->master, .events = POLLIN };
    if (poll(&p, 1, ms) <= 0) {
        return;
    }
    ssize_t r = read(t->master, t->raw + t->len, SCREEN_CAP - 1 - t->len);
    if (r > 0) {
        t->len += (size_t)r;
        t->raw[t->len] = '\0';
        strip(t);
    }
}

/* Wait until the screen shows text after offset `from` of what it showed. */
static int term_wait_from(struct term *t, size_t from, const char *text)
{
    long long end = now_ms() + WAIT_MS;
    while (strstr(t->text + from, text) == NULL) {
        long long left = end - now_ms();
        if (left <= 0) {
            fprintf(stderr, "screen never showed '%s'; it shows:\n%s\n", text, t->text);
            return -1;
        }
        term_pump(t, (int)(left < 200 ? left : 200));
    }
    return 0;
}

static int term_wait_for(struct term *t, const char *text)
{
    return term_wait_from(t, 0, text);
}

/* Where the screen's text ends now, for term_wait_from. */
static size_t term_mark(const struct term *t)
{
    return strlen(t->text);
}

static void term_keys(struct term *t, const char *keys)
{
    ck_assert_int_eq(write(t->master, keys, strlen(keys)), (ssize_t)strlen(keys));
}

/* Wait for the child to exit, reading its output meanwhile; returns its exit status. */
static int term_exit(struct term *t)
{
    long long end = now_ms() + WAIT_MS;
    int status;
    while (now_ms() < end) {
        pid_t r = waitpid(t->pid, &status, WNOHANG);
        if (r == t->pid) {
            term_pump(t, 50);
            t->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return t->status;
        }
        term_pump(t, 100);
    }
    kill(t->pid, SIGKILL);
    waitpid(t->pid, &status, 0);
    return -1;
}

static void term_close(struct term *t)
{
    if (t->status < 0 && t->pid > 0) {
        kill(t->pid, SIGKILL);
        waitpid(t->pid, NULL, 0);
    }
    close(t->master);
    close(t->slave);
}

/* Are the terminal's settings now what they were before the child started? */
static int term_restored(struct term *t)
{
    struct termios now;
    ck_assert_int_eq(tcgetattr(t->slave, &now), 0);
    return now.c_iflag == t->before.c_iflag && now.c_oflag == t->before.c_oflag &&
           now.c_cflag == t->before.c_cflag && now.c_lflag == t->before.c_lflag &&
           memcmp(now.c_cc, t->before.c_cc, sizeof(now.c_cc)) == 0;
}

/* Is the terminal in key-at-a-time mode: no line editing, no echo? */
static int term_is_raw(struct term *t)
{
    struct termios now;
    ck_assert_int_eq(tcgetattr(t->slave, &now), 0);
    return (now.c_lflag & (ICANON | ECHO)) == 0;
}



/* Does the screen hold a round line for round n with the move, a consistent outcome, and a score
 * whose parts add up to n? */
static void check_round(struct term *t, int n, const char *move)
{
    char pattern[256];
    regex_t re;
    regmatch_t m[6];
    snprintf(pattern, sizeof(pattern),
             "round %d: you %s, opponent (rock|paper|scissors): (win|loss|draw) +wins ([0-9]+), losses ([0-9]+), "
             "draws ([0-9]+)",
             n, move);
    ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED), 0);
    int rc = regexec(&re, t->text, 6, m, 0);
    ck_assert_msg(rc == 0, "no round %d line on the screen:\n%s", n, t->text);
    int sum = atoi(t->text + m[3].rm_so) + atoi(t->text + m[4].rm_so) + atoi(t->text + m[5].rm_so);
    ck_assert_int_eq(sum, n);
    regfree(&re);
}

static const char *const plain_env[] = { "NO_COLOR=1", NULL };

#define MODEL_ROWS 400
#define MODEL_COLS 128

/* What a terminal cols wide shows after the child's output: rows of text, each marked when the
 * terminal wrapped it into the next. Enough of a terminal for arcade: printable bytes, CR, LF, and
 * erase to the end of the row (CSI K); other CSI sequences change nothing that is read here. */
struct model {
    int cols, rows;
    int row, col;
    char text[MODEL_ROWS][MODEL_COLS + 1];
    int wrapped[MODEL_ROWS];
};

static void model_row(struct model *m, int row)
{
    ck_assert_int_lt(row, MODEL_ROWS);
    while (m->rows <= row) {
        memset(m->text[m->rows], ' ', (size_t)m->cols);
        m->text[m->rows][m->cols] = '\0';
        m->wrapped[m->rows++] = 0;
    }
}

static void model_run(struct model *m, const char *raw, size_t len, int cols)
{
    memset(m, 0, sizeof(*m));
    m->cols = cols;
    model_row(m, 0);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == 0x1b && i + 1 < len && raw[i + 1] == '[') {
            i += 2;
            while (i < len && !((unsigned char)raw[i] >= 0x40 && (unsigned char)raw[i] <= 0x7e)) {
                i++;
            }
            if (i < len && raw[i] == 'K') {
                int from = m->col < m->cols ? m->col : m->cols - 1;
                memset(m->text[m->row] + from, ' ', (size_t)(m->cols - from));
            }
        } else if (c == '\r') {
            m->col = 0;
        } else if (c == '\n') {
            model_row(m, ++m->row);
        } else if (c >= 0x20) {
            if (m->col == m->cols) {    /* the last column was filled: this byte wraps */
                m->wrapped[m->row] = 1;
                model_row(m, ++m->row);
                m->col = 0;
            }
            m->text[m->row][m->col++] = (char)c;
        }
    }
}

/* The lines the terminal shows, a wrapped line joined again, trailing blanks cut: the i-th of
 * them in out, or -1 when there are fewer. */
static int model_line(const struct model *m, int i, char *out, size_t cap)
{
    int r = 0;
    for (int n = 0; r < m->rows; n++) {
        size_t len = 0;
        out[0] = '\0';
        for (;;) {
            int w = m->cols;
            while (w > 0 && m->text[r][w - 1] == ' ' && !m->wrapped[r]) {
                w--;
            }
            if (len + (size_t)w + 1 < cap) {
                memcpy(out + len, m->text[r], (size_t)w);
                len += (size_t)w;
                out[len] = '\0';
            }
            if (!m->wrapped[r++] || r >= m->rows) {
                break;
            }
        }
        if (n == i) {
            return 0;
        }
    }
    return -1;
}

START_TEST(test_tty_key_plays_round_and_q_restores)
{
    static struct term t;
    start_server(NULL);
    const char *args[] = { "play", "--port", port_arg, NULL };
    term_start(&t, plain_env, args);
    ck_assert_int_eq(term_wait_for(&t, "guest vs the bot"), 0);
    ck_assert_msg(term_is_raw(&t), "play did not put the terminal in raw mode");
    /* One key, no Enter: a round with both moves and the score. */
    term_keys(&t, "r");
    ck_assert_int_eq(term_wait_for(&t, "round 1: you rock, opponent "), 0);
    ck_assert_int_eq(term_wait_for(&t, "draws "), 0);
    check_round(&t, 1, "rock");
    term_keys(&t, "3");
    size_t mark = term_mark(&t);
    ck_assert_int_eq(term_wait_for(&t, "round 2: you paper, opponent "), 0);
    ck_assert_int_eq(term_wait_from(&t, mark, "guest vs the bot"), 0);
    check_round(&t, 2, "paper");
    /* Keys that mean nothing do nothing. */
    term_keys(&t, "x");
    term_keys(&t, "q");
    ck_assert_int_eq(term_exit(&t), 0);
    ck_assert_msg(term_restored(&t), "terminal settings not restored after q");
    /* NO_COLOR: no SGR sequence anywhere. */
    regex_t sgr;
    ck_assert_int_eq(regcomp(&sgr, "\033\\[[0-9;]*m", REG_EXTENDED | REG_NOSUB), 0);
    ck_assert_int_ne(regexec(&sgr, t.raw, 0, NULL, 0), 0);
    regfree(&sgr);
    term_close(&t);
    stop_server();
}
END_TEST

START_TEST(test_tty_ctrl_c_restores)
{
    static struct term t;
    start_server(NULL);
    const char *args[] = { "play", "--port", port_arg, "--name", "ana", NULL };
    term_start(&t, plain_env, args);
    ck_assert_int_eq(term_wait_for(&t, "ana vs the bot"), 0);
    term_keys(&t, "p");
    ck_assert_int_eq(term_wait_for(&t, "round 1: you paper, opponent "), 0);
    ck_assert_int_eq(term_wait_for(&t, "draws "), 0);
    ck_assert(term_is_raw(&t));
    term_keys(&t, "\003");
    ck_assert_int_eq(term_exit(&t), 128 + SIGINT);
    ck_assert_msg(term_restored(&t), "terminal settings not restored after Ctrl-C");
    term_close(&t);
    stop_server();
}
END_TEST

START_TEST(test_tty_sigterm_restores)
{
    static struct term t;
    start_server(NULL);
    const char *args[] = { "play", "--port", port_arg, NULL };
    term_start(&t, plain_env, args);
    ck_assert_int_eq(term_wait_for(&t, "vs the bot"), 0);
    ck_assert(term_is_raw(&t));
    kill(t.pid, SIGTERM);
    ck_assert_int_eq(term_exit(&t), 128 + SIGTERM);
    ck_assert_msg(term_restored(&t), "terminal settings not restored after SIGTERM");
    term_close(&t);
    stop_server();
}
END_TEST

START_TEST(test_tty_colour)
{
    static struct term t;
    start_server(NULL);
    const char *args[] = { "play", "--port", port_arg, NULL };
    const char *const colour_env[] = { "NO_COLOR", NULL };
    term_start(&t, colour_env, args);
    ck_assert_int_eq(term_wait_for(&t, "vs the bot"), 0);
    term_keys(&t, "s");
    ck_assert_int_eq(term_wait_for(&t, "round 1: you scissors"), 0);
    ck_assert_int_eq(term_wait_for(&t, "draws "), 0);
    /* The round line is green, red or yellow by its outcome. */
    regex_t re;
    ck_assert_int_eq(regcomp(&re, "\033\\[3[123]mround 1: you scissors, opponent [a-z]+: (win|loss|draw)",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    ck_assert_msg(regexec(&re, t.raw, 0, NULL, 0) == 0, "no coloured round line");
    regfree(&re);
    term_keys(&t, "q");
    ck_assert_int_eq(term_exit(&t), 0);
    term_close(&t);

    /* TERM=dumb: no escape sequences at all. */
    const char *const dumb_env[] = { "NO_COLOR", "TERM=dumb", NULL };
    term_start(&t, dumb_env, args);
    ck_assert_int_eq(term_wait_for(&t, "vs the bot"), 0);
    term_keys(&t, "r");
    ck_assert_int_eq(term_wait_for(&t, "round 1: you rock"), 0);
    term_keys(&t, "q");
    ck_assert_int_eq(term_exit(&t), 0);
    ck_assert_ptr_null(strchr(t.raw, '\033'));
    term_close(&t);
    stop_server();
}
END_TEST

START_TEST(test_tty_pvp_notices_while_thinking)
{
    static struct term t;
    start_server(NULL);
    const char *args[] = { "play", "--port", port_arg, "--name", "ana", "--pvp", NULL };
    term_start(&t, plain_env, args);
    ck_assert_int_eq(term_wait_for(&t, "waiting for an opponent"), 0);

    /* bo arrives: the match shows up on ana's screen with no key pressed. */
    int bo = harness_connect(srv.port);
    char hello[8], buf[16];
    int n = wire_hello("bo", hello, sizeof(hello));
    ck_assert_int_eq(harness_send(bo, hello, (size_t)n), 0);
    ck_assert_int_eq(harness_recv_n(bo, buf, (size_t)n), n);
    ck_assert_int_eq(harness_sends(bo, "P"), 0);
    ck_assert_int_eq(harness_recv_n(bo, buf, 5), 5); /* V \x03 ana */
    ck_assert_int_eq(term_wait_for(&t, "matched with bo"), 0);
    /* The countdown of the 30 s move window runs on its own. */
    ck_assert_int_eq(term_wait_for(&t, "ana vs bo: 30 s left"), 0);
    ck_assert_int_eq(term_wait_for(&t, "ana vs bo: 29 s left"), 0);

    ck_assert_int_eq(harness_sends(bo, "2"), 0);
    term_keys(&t, "p");
    ck_assert_int_eq(term_wait_for(&t, "round 1: you paper, opponent rock: win"), 0);
    ck_assert_int_eq(term_wait_for(&t, "wins 1, losses 0, draws 0"), 0);
    ck_assert_int_eq(harness_recv_n(bo, buf, 3), 3);
    ck_assert_int_eq(memcmp(buf, "M3z", 3), 0);

    /* bo leaves between rounds: ana is told, no round is counted, and she may look for
     * someone else. */
    close(bo);
    ck_assert_int_eq(term_wait_for(&t, "opponent left\n"), 0);
    ck_assert_int_eq(term_wait_for(&t, "wins 1, losses 0, draws 0"), 0);
    ck_assert_int_eq(term_wait_for(&t, "n finds a new opponent"), 0);
    size_t mark = term_mark(&t);
    term_keys(&t, "n");
    ck_assert_int_eq(term_wait_from(&t, mark, "waiting for an opponent ("), 0);
    term_keys(&t, "q");
    ck_assert_int_eq(term_exit(&t), 0);
    ck_assert(term_restored(&t));
    term_close(&t);
    stop_server();
}
END_TEST

START_TEST(test_tty_queue_timeout_notice)
{
    static struct term t;
    start_server("--queue-timeout", "1", NULL);
    const char *args[] = { "play", "--port", port_arg, "--name", "ana", "--pvp", NULL };
    term_start(&t, plain_env, args);
    ck_assert_int_eq(term_wait_for(&t, "waiting for an opponent"), 0);
    ck_assert_int_eq(term_wait_for(&t, "queue timed out"), 0);
    ck_assert_int_eq(term_wait_for(&t, "n finds a new opponent"), 0);
    term_keys(&t, "q");
    ck_assert_int_eq(term_exit(&t), 0);
    term_close(&t);
    stop_server();
}
END_TEST

START_TEST(test_tty_reconnects)
{
    static struct term t;
    start_server(NULL);
    const char *args[] = { "play", "--port", port_arg, "--name", "ana", NULL };
    term_start(&t, plain_env, args);
    ck_assert_int_eq(term_wait_for(&t, "ana vs the bot"), 0);
    term_keys(&t, "r");
    ck_assert_int_eq(term_wait_for(&t, "round 1: you rock"), 0);
    stop_keep();
    ck_assert_int_eq(term_wait_for(&t, "connection to 127.0.0.1:"), 0);
    ck_assert_int_eq(term_wait_for(&t, "retrying in"), 0);
    size_t mark = term_mark(&t);
    restart("--port", port_arg, NULL);
    ck_assert_int_eq(term_wait_from(&t, mark, "reconnected to 127.0.0.1:"), 0);
    /* It says hello again by itself, and the player's next key plays. */
    ck_assert_int_eq(term_wait_from(&t, mark, "playing as ana"), 0);
    mark = term_mark(&t);
    term_keys(&t, "s");
    ck_assert_int_eq(term_wait_from(&t, mark, "round 2: you scissors"), 0);
    term_keys(&t, "q");
    ck_assert_int_eq(term_exit(&t), 0);
    ck_assert(term_restored(&t));
    term_close(&t);
    stop_server();
}
END_TEST

/* The next whole frame the server sends a raw socket is of kind want; returns it in f. */
static void raw_expect(int fd, enum wire_kind want, struct wire_frame *f)
{
    char buf[300];
    size_t len = 0;
    while (wire_decode(buf, len, f) == 0) {
        ck_assert_msg(harness_recv_n(fd, buf + len, 1) == 1, "no frame from the server");
        len++;
    }
    ck_assert_msg(f->kind == want, "frame of kind %d, not %d", f->kind, want);
}

/* bo on a raw socket with an account (R), queued; its secret in secret. */
static int raw_bo_queued(char secret[WIRE_SECRET_LEN + 1])
{
    char frame[WIRE_LOGIN_MAX];
    struct wire_frame f;
    int fd = harness_connect(srv.port);
    int n = wire_register("bo", frame, sizeof(frame));
    ck_assert_int_eq(harness_send(fd, frame, (size_t)n), 0);
    raw_expect(fd, WIRE_SECRET, &f);
    memcpy(secret, f.text, WIRE_SECRET_LEN + 1);
    raw_expect(fd, WIRE_ACCEPTED, &f);
    ck_assert_int_eq(harness_sends(fd, "P"), 0);
    raw_expect(fd, WIRE_WAITING, &f);
    return fd;
}

/* The number after `prefix` on the screen, from offset from on. */
static int number_after(struct term *t, size_t from, const char *prefix)
{
    const char *p = strstr(t->text + from, prefix);
    ck_assert_ptr_nonnull(p);
    return atoi(p + strlen(prefix));
}

START_TEST(test_tty_opponent_drops_and_returns)
{
    static struct term t;
    struct wire_frame f;
    char secret[WIRE_SECRET_LEN + 1], frame[WIRE_LOGIN_MAX], want[128];
    start_server(NULL);
    int bo = raw_bo_queued(secret);
    const char *args[] = { "play", "--port", port_arg, "--name", "ana", "--pvp", NULL };
    term_start(&t, plain_env, args);
    ck_assert_int_eq(term_wait_for(&t, "matched with bo"), 0);
    raw_expect(bo, WIRE_MATCHED, &f);
    /* bo's connection goes: a notice, and the held seat counts down in the status line. */
    close(bo);
    ck_assert_int_eq(term_wait_for(&t, "opponent dropped: seat held for "), 0);
    ck_assert_int_eq(term_wait_for(&t, "ana vs bo: bo dropped, seat held "), 0);
    size_t mark = term_mark(&t);
    int held = number_after(&t, 0, "bo dropped, seat held ");
    ck_assert_int_gt(held, 1);
    snprintf(want, sizeof(want), "bo dropped, seat held %d s", held - 1);
    ck_assert_int_eq(term_wait_from(&t, mark, want), 0);
    /* bo logs in again: back, and the move window's countdown again. */
    bo = harness_connect(srv.port);
    int n = wire_login("bo", secret, frame, sizeof(frame));
    ck_assert_int_eq(harness_send(bo, frame, (size_t)n), 0);
    raw_expect(bo, WIRE_ACCEPTED, &f);
    raw_expect(bo, WIRE_REJOINED, &f);
    ck_assert_int_eq(term_wait_for(&t, "opponent is back"), 0);
    mark = term_mark(&t);
    ck_assert_int_eq(term_wait_from(&t, mark, " s left: r rock, p paper, s scissors, q quits"), 0);
    term_keys(&t, "q");
    ck_assert_int_eq(term_exit(&t), 0);
    term_close(&t);
    close(bo);
    stop_server();
}
END_TEST

/* ana's client dies with her move in; a new one logs in and is back in the match where it was. */
START_TEST(test_tty_rejoin_after_a_crash)
{
    static struct term t;
    struct wire_frame f;
    char secret[WIRE_SECRET_LEN + 1];
    start_server(NULL);
    int bo = raw_bo_queued(secret);
    const char *args[] = { "play", "--port", port_arg, "--name", "ana", "--pvp", NULL };
    term_start(&t, plain_env, args);
    ck_assert_int_eq(term_wait_for(&t, "matched with bo"), 0);
    raw_expect(bo, WIRE_MATCHED, &f);
    term_keys(&t, "r");
    ck_assert_int_eq(term_wait_for(&t, "you play rock, waiting for bo"), 0);
    kill(t.pid, SIGKILL);
    ck_assert_int_eq(term_exit(&t), 128 + SIGKILL);
    term_close(&t);
    raw_expect(bo, WIRE_DROPPED, &f);

    term_start(&t, plain_env, args);
    ck_assert_int_eq(term_wait_for(&t, "rejoined: opponent bo, round 1, wins 0, losses 0, draws 0, your move is in, "),
                     0);
    ck_assert_int_eq(term_wait_for(&t, " s left: your move is in, waiting for bo"), 0);
    raw_expect(bo, WIRE_BACK, &f);
    ck_assert_int_eq(harness_sends(bo, "1"), 0);
    /* The move this process never made is read off the result. */
    ck_assert_int_eq(term_wait_for(&t, "round 1: you rock, opponent scissors: win"), 0);
    term_keys(&t, "q");
    ck_assert_int_eq(term_exit(&t), 0);
    ck_assert(term_restored(&t));
    term_close(&t);
    close(bo);
    stop_server();
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

/* On a terminal too, a server that cannot be reached at all is exit 3, not a retry forever. */
START_TEST(test_tty_first_connect_is_bounded)
{
    static struct term t;
    char port[16], want[128];
    int fd;
    snprintf(port, sizeof(port), "%d", closed_port(&fd));
    const char *args[] = { "play", "--port", port, "--timeout", "1", NULL };
    term_start(&t, plain_env, args);
    snprintf(want, sizeof(want), "cannot connect to 127.0.0.1:%s: Connection refused", port);
    ck_assert_int_eq(term_wait_for(&t, want), 0);
    ck_assert_int_eq(term_exit(&t), 3);
    ck_assert_ptr_null(strstr(t.text, "retrying"));
    ck_assert(term_restored(&t));
    term_close(&t);
    close(fd);
}
END_TEST

/* After a drop, reconnecting stops after --retry-for seconds without success: exit 3. */
START_TEST(test_tty_reconnect_gives_up)
{
    static struct term t;
    start_server(NULL);
    const char *args[] = { "play", "--port", port_arg, "--retry-for", "1", NULL };
    term_start(&t, plain_env, args);
    ck_assert_int_eq(term_wait_for(&t, "guest vs the bot"), 0);
    term_keys(&t, "r");
    ck_assert_int_eq(term_wait_for(&t, "round 1: you rock"), 0);
    stop_server();
    ck_assert_int_eq(term_wait_for(&t, "retrying in"), 0);
    ck_assert_int_eq(term_exit(&t), 3);
    ck_assert_ptr_nonnull(strstr(t.text, "no success for 1 s: giving up"));
    ck_assert(term_restored(&t));
    term_close(&t);
}
END_TEST

/* At 40 columns the status line fits one row, so each redraw takes the whole of the old one away:
 * once the game is over, the terminal shows the lines it printed for good and nothing else. */
START_TEST(test_tty_narrow_terminal)
{
    static struct term t;
    static struct model m;
    start_server(NULL);
    const char *args[] = { "play", "--port", port_arg, NULL };
    term_start_cols(&t, plain_env, args, 40);
    ck_assert_int_eq(term_wait_for(&t, "r/p/s plays, q quits"), 0);
    term_keys(&t, "r");
    ck_assert_int_eq(term_wait_for(&t, "round 1: you rock"), 0);
    ck_assert_int_eq(term_wait_for(&t, "draws "), 0);
    size_t mark = term_mark(&t);
    term_keys(&t, "p");
    ck_assert_int_eq(term_wait_from(&t, mark, "round 2: you paper"), 0);
    ck_assert_int_eq(term_wait_from(&t, mark, "draws "), 0);
    ck_assert_int_eq(term_wait_from(&t, mark, "r/p/s plays"), 0);
    term_keys(&t, "q");
    ck_assert_int_eq(term_exit(&t), 0);

    regex_t re;
    ck_assert_int_eq(regcomp(&re, "^(arcade: rock-paper-scissors on 127\\.0\\.0\\.1:[0-9]+, against the bot|"
                                  "round [12]: you (rock|paper), opponent [a-z]+: (win|loss|draw) +wins [0-9]+, "
                                  "losses [0-9]+, draws [0-9]+|wins [0-9]+, losses [0-9]+, draws [0-9]+|)$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    model_run(&m, t.raw, t.len, 40);
    char line[1024];
    int rounds = 0;
    for (int i = 0; model_line(&m, i, line, sizeof(line)) == 0; i++) {
        ck_assert_msg(regexec(&re, line, 0, NULL, 0) == 0, "the screen kept '%s'", line);
        rounds += strncmp(line, "round ", 6) == 0;
    }
    ck_assert_int_eq(rounds, 2);
    regfree(&re);
    term_close(&t);
    stop_server();
}
END_TEST

static Suite *tty_suite(void)
{
    Suite *s = suite_create("play_tty");
    TCase *tc = tcase_create("pty");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, own_config, NULL);
    tcase_add_test(tc, test_tty_key_plays_round_and_q_restores);
    tcase_add_test(tc, test_tty_ctrl_c_restores);
    tcase_add_test(tc, test_tty_sigterm_restores);
    tcase_add_test(tc, test_tty_colour);
    tcase_add_test(tc, test_tty_pvp_notices_while_thinking);
    tcase_add_test(tc, test_tty_queue_timeout_notice);
    tcase_add_test(tc, test_tty_reconnects);
    tcase_add_test(tc, test_tty_opponent_drops_and_returns);
    tcase_add_test(tc, test_tty_rejoin_after_a_crash);
    tcase_add_test(tc, test_tty_narrow_terminal);
    tcase_add_test(tc, test_tty_first_connect_is_bounded);
    tcase_add_test(tc, test_tty_reconnect_gives_up);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return suite_run(tty_suite());
}
