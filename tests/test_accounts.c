/* Accounts and rejoin, end to end: the real arcaded on --port 0 with a temporary database, clients
 * over real sockets, and the database (and the server's log) read back after the server stopped.
 * Expected frames come from docs/PROTOCOL.md ("Accounts: a name belongs to whoever registered it",
 * "Rejoin: a dropped player keeps its seat" and the frame tables), never from the server's code.
 * Every wait is a blocking read with the harness's 10 s deadline; a timeout that must happen is made
 * short with --move-timeout. One server per test (each test runs in its own process). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sqlite3.h>
#include <unistd.h>

#include "expect.h"
#include "harness.h"
#include "suite.h"

#define SECRET_HEX 64           /* a secret: 64 lowercase hex digits (256 bits) */
#define TEXT_MAX 255            /* `<len>` is one byte */
/* Failed proofs allowed in a burst, per address and per account (ACCOUNT_FAIL_BURST; they refill at
 * one per 10 s, far slower than this suite sends them). */
#define FAIL_BURST 10
#define GUEST_ROUNDS 20

#define SCISSORS 1
#define ROCK 2
#define PAPER 3

/* The server of the test, verbose, with this move timeout. */
static void serve(const char *move_timeout)
{
    start_server("--move-timeout", move_timeout, "--verbose", NULL);
}

static void hang_up(int *fd)
{
    close(*fd);
    *fd = -1;
}

/* Half-close and wait for the server to close: it has handled this connection's end by then (a
 * client that half-closes is closed by the server after its last answers). Nothing else may come. */
static void hang_up_and_wait(int *fd, const char *who)
{
    char rest[256];
    ck_assert_int_eq(shutdown(*fd, SHUT_WR), 0);
    ssize_t n = harness_recv_all(*fd, rest, sizeof(rest));
    ck_assert_msg(n == 0, "%s: expected the server to close with nothing more, got \"%s\"", who,
                  show(rest, n > 0 ? (size_t)n : 0));
    hang_up(fd);
}

/* ---- frames ---- */

/* `op <len> <text>` */
static void send_frame(int fd, char op, const char *text)
{
    char f[2 + TEXT_MAX];
    size_t n = strlen(text);
    ck_assert_uint_le(n, TEXT_MAX);
    f[0] = op;
    f[1] = (char)n;
    memcpy(f + 2, text, n);
    put(fd, f, n + 2);
}

/* `I <len> <name> <len> <secret>` */
static void send_login(int fd, const char *name, const char *secret)
{
    char f[4 + 2 * TEXT_MAX];
    size_t n = strlen(name), s = strlen(secret);
    f[0] = 'I';
    f[1] = (char)n;
    memcpy(f + 2, name, n);
    f[2 + n] = (char)s;
    memcpy(f + 3 + n, secret, s);
    put(fd, f, 3 + n + s);
}

static void send_move(int fd, int move)
{
    char b = (char)('0' + move);
    put(fd, &b, 1);
}

static void expect_frame(int fd, const char *who, char op, const char *text)
{
    char f[2 + TEXT_MAX];
    size_t n = strlen(text);
    f[0] = op;
    f[1] = (char)n;
    memcpy(f + 2, text, n);
    expect_bytes_as(fd, who, f, n + 2);
}

static void expect_op(int fd, const char *who, char op)
{
    expect_bytes_as(fd, who, &op, 1);
}

static void expect_code(int fd, const char *who, char op, char code)
{
    char f[2] = { op, code };
    expect_bytes_as(fd, who, f, 2);
}

/* A named player's result in a match: `M <their move> <my result>`. */
static void expect_result(int fd, const char *who, int mine, int theirs)
{
    char f[3] = { 'M', (char)('0' + theirs), rules(mine, theirs) };
    expect_bytes_as(fd, who, f, 3);
}

/* A move in the lobby plays the bot: `M <any move> <the result that move gives>`. */
static void expect_bot_round(int fd, const char *who, int mine)
{
    char f[3];
    send_move(fd, mine);
    ssize_t r = harness_recv_n(fd, f, 3);
    ck_assert_msg(r == 3 && f[0] == 'M' && f[1] >= '1' && f[1] <= '3' && f[2] == rules(mine, f[1] - '0'),
                  "%s: expected a bot result \"M<move><result>\" for move %d, got \"%s\"", who, mine,
                  show(f, r > 0 ? (size_t)r : 0));
}

/* `op <len> <text>` with any text: the text, NUL-terminated, into out. */
static void read_text_frame(int fd, const char *who, char op, char out[TEXT_MAX + 1])
{
    unsigned char head[2];
    ssize_t r = harness_recv_n(fd, head, 2);
    ck_assert_msg(r == 2 && head[0] == (unsigned char)op && head[1] >= 1,
                  "%s: expected a frame '%c' <len> <text>, got \"%s\"", who, op, show(head, r > 0 ? (size_t)r : 0));
    r = harness_recv_n(fd, out, head[1]);
    ck_assert_msg(r == head[1], "%s: frame '%c' of %u bytes cut short: \"%s\"", who, op, head[1],
                  show(out, r > 0 ? (size_t)r : 0));
    out[head[1]] = '\0';
}

/* A decimal number of whole seconds, 1 to max, and nothing else. */
static long expect_seconds(const char *who, const char *what, const char *text, long max)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    ck_assert_msg(text[0] >= '1' && text[0] <= '9' && *end == '\0' && errno == 0 && v >= 1 && v <= max,
                  "%s: %s \"%s\" is not whole seconds from 1 to %ld", who, what, text, max);
    return v;
}

/* `J <len> <prefix><seconds>`: the snapshot's fields before seconds are exactly prefix. */
static void expect_snapshot(int fd, const char *who, const char *prefix, long max_seconds)
{
    char text[TEXT_MAX + 1];
    read_text_frame(fd, who, 'J', text);
    ck_assert_msg(strncmp(text, prefix, strlen(prefix)) == 0, "%s: snapshot \"%s\", expected \"%s<seconds>\"", who,
                  text, prefix);
    expect_seconds(who, "snapshot seconds", text + strlen(prefix), max_seconds);
}

/* `D <len> <seconds>`; returns seconds. */
static long expect_dropped(int fd, const char *who, long max_seconds)
{
    char text[TEXT_MAX + 1];
    read_text_frame(fd, who, 'D', text);
    return expect_seconds(who, "D", text, max_seconds);
}

/* `K \x40 <64 lowercase hex digits>` into secret. */
static void expect_secret(int fd, const char *who, char secret[SECRET_HEX + 1])
{
    char head[2];
    ssize_t r = harness_recv_n(fd, head, 2);
    ck_assert_msg(r == 2 && head[0] == 'K' && head[1] == SECRET_HEX, "%s: expected \"K\\x40\", got \"%s\"", who,
                  show(head, r > 0 ? (size_t)r : 0));
    r = harness_recv_n(fd, secret, SECRET_HEX);
    ck_assert_msg(r == SECRET_HEX, "%s: secret cut short: \"%s\"", who, show(secret, r > 0 ? (size_t)r : 0));
    secret[SECRET_HEX] = '\0';
    for (int i = 0; i < SECRET_HEX; i++) {
        ck_assert_msg((secret[i] >= '0' && secret[i] <= '9') || (secret[i] >= 'a' && secret[i] <= 'f'),
                      "%s: secret \"%s\" is not lowercase hex", who, show(secret, SECRET_HEX));
    }
}

/* `R <len> <name>`: `K` with a secret, then `A` with the name spelt as given (a new name). */
static void register_name(int fd, const char *name, char secret[SECRET_HEX + 1])
{
    send_frame(fd, 'R', name);
    expect_secret(fd, name, secret);
    expect_frame(fd, name, 'A', name);
}

/* `I`, answered `A <len> <spelt>`. */
static void login(int fd, const char *name, const char *secret, const char *spelt)
{
    send_login(fd, name, secret);
    expect_frame(fd, name, 'A', spelt);
}

/* A new connection that registered name; its secret into secret. */
static int registered(const char *name, char secret[SECRET_HEX + 1])
{
    int fd = dial(srv.port);
    register_name(fd, name, secret);
    return fd;
}

/* A new connection that said a bare hello as name. */
static int said_hello(const char *name)
{
    int fd = dial(srv.port);
    hello(fd, name);
    return fd;
}

/* A new connection logged in to name with secret (`I`), answered with the name as spelt. */
static int logged_in(const char *name, const char *secret, const char *spelt)
{
    int fd = dial(srv.port);
    login(fd, name, secret, spelt);
    return fd;
}

/* The older connection of a name someone logged in to again: told, then closed. */
static void expect_taken_over(int *fd, const char *who)
{
    expect_frame(*fd, who, 'E', "taken over by another login");
    expect_eof(*fd);
    hang_up(fd);
}

/* first queues and waits; second's P matches them: V to both, naming the other. */
static void match_pair(int first, const char *first_name, int second, const char *second_name)
{
    send_str(first, "P");
    expect_op(first, first_name, 'W');
    send_str(second, "P");
    expect_frame(second, second_name, 'V', first_name);
    expect_frame(first, first_name, 'V', second_name);
}

/* ana registers, bo says a bare hello, and they are matched (ana waited). */
static void ana_meets_bo(int *ana, int *bo, char secret[SECRET_HEX + 1])
{
    *ana = registered("ana", secret);
    *bo = said_hello("bo");
    match_pair(*ana, "ana", *bo, "bo");
}

/* A move, then a second one the round refuses: the server has the first when the refusal comes. */
static void move_and_confirm(int fd, const char *who, int move)
{
    send_move(fd, move);
    send_move(fd, move);
    expect_frame(fd, who, 'E', "already moved");
}

/* ---- the database and files after the server stopped ---- */

static int64_t player_id(const char *name)
{
    return sql(&srv, "SELECT id FROM players WHERE name = '%s'", name);
}

/* Whether the file holds the n bytes of needle. */
static int file_contains(const char *path, const void *needle, size_t n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    ck_assert_int_ge(size, 0);
    rewind(f);
    char *buf = malloc((size_t)size + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    int found = memmem(buf, (size_t)size, needle, n) != NULL;
    free(buf);
    return found;
}

/* No file in the server's directory (the database, its WAL and shared memory, the log) holds needle.
 * Returns how many files were looked at. */
static int no_file_holds(const void *needle, size_t n, const char *what)
{
    DIR *d = opendir(srv.dir);
    struct dirent *e;
    int files = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL) {
        char path[512];
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", srv.dir, e->d_name);
        ck_assert_msg(!file_contains(path, needle, n), "%s holds %s", path, what);
        files++;
    }
    closedir(d);
    return files;
}

/* ---- the tests ---- */

/* Frame op with crowd member i's name into out (room for 16); returns its length. */
static size_t crowd_frame(char op, int i, char *out)
{
    int n = snprintf(out + 2, 14, "crowd%03d", i);
    out[0] = op;
    out[1] = (char)n;
    return (size_t)n + 2;
}

/* A crowd of hellos with new names in one burst: the server acts on a few dozen frames about
 * accounts an iteration, and the rest wait for the next ones; every one is answered, in order. */
START_TEST(test_a_crowd_of_new_names_is_answered_over_several_turns)
{
    enum { CROWD = 150 };
    int fds[CROWD];
    char frame[16];

    start_server("--name-rate", "0", "--addr-conns", "0", "--conn-rate", "0", NULL);
    for (int i = 0; i < CROWD; i++) {
        fds[i] = dial(srv.port);
    }
    for (int i = 0; i < CROWD; i++) {
        put(fds[i], frame, crowd_frame('H', i, frame));
    }
    for (int i = 0; i < CROWD; i++) {
        size_t n = crowd_frame('A', i, frame);
        expect_bytes_as(fds[i], frame + 2, frame, n);
        close(fds[i]);
    }
    stop_keep();
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM players WHERE name LIKE 'crowd%%'"), CROWD);
}
END_TEST

START_TEST(test_register_gives_a_secret_and_only_its_hash_is_kept)
{
    char secret[SECRET_HEX + 1], upper[SECRET_HEX + 1];
    unsigned char raw[SECRET_HEX / 2];

    serve("30");
    int ana = registered("ana", secret);
    /* The account plays as ana from now on. */
    expect_bot_round(ana, "ana", ROCK);
    hang_up(&ana);
    stop_keep();

    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM players WHERE name = 'ana'"), 1);
    ck_assert_int_eq(sql(&srv, "SELECT length(secret_hash) FROM players WHERE name = 'ana'"), 32);
    /* Bytes, and a hash, not the secret's 32 bytes themselves. */
    if (!harness_engine_pg()) {
        ck_assert_int_eq(sql(&srv, "SELECT typeof(secret_hash) = 'blob' FROM players WHERE name = 'ana'"), 1);
        ck_assert_int_eq(sql(&srv, "SELECT lower(hex(secret_hash)) = '%s' FROM players WHERE name = 'ana'", secret), 0);
    } else {
        ck_assert_int_eq(sql(&srv, "SELECT pg_typeof(secret_hash) = 'bytea'::regtype FROM players WHERE name = 'ana'"), 1);
        ck_assert_int_eq(sql(&srv, "SELECT encode(secret_hash, 'hex') = '%s' FROM players WHERE name = 'ana'", secret), 0);
    }

    /* Neither the secret's text (in either case) nor its bytes are anywhere on disk, log included. */
    for (int i = 0; i < SECRET_HEX; i++) {
        upper[i] = (char)(secret[i] >= 'a' ? secret[i] - 'a' + 'A' : secret[i]);
    }
    for (int i = 0; i < SECRET_HEX / 2; i++) {
        unsigned int byte;
        ck_assert_int_eq(sscanf(secret + 2 * i, "%2x", &byte), 1);
        raw[i] = (unsigned char)byte;
    }
    /* The database and its WAL (on SQLite) and the log. */
    ck_assert_int_ge(no_file_holds(secret, SECRET_HEX, "the secret's hex text"), harness_engine_pg() ? 1 : 2);
    no_file_holds(upper, SECRET_HEX, "the secret's hex text in capitals");
    no_file_holds(raw, sizeof(raw), "the secret's bytes");
    if (!harness_engine_pg()) {
        ck_assert_msg(file_contains(srv.db, "ana", 3), "the database does not even hold the name: wrong file?");
    } else {
        /* No row of players, as text (where bytes show as lower-case hex), holds the secret in any
         * case or its bytes. */
        ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM players p WHERE strpos(lower(p::text), '%s') > 0", secret), 0);
        ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM players p WHERE strpos(p::text, 'ana') > 0"), 1);
    }
    ck_assert_msg(strstr(srv.first, secret) == NULL, "the first log line holds the secret");
}
END_TEST

START_TEST(test_an_impostor_is_refused_and_the_rating_does_not_move)
{
    char secret[SECRET_HEX + 1], wrong[SECRET_HEX + 1];

    serve("30");
    int ana, bo;
    ana_meets_bo(&ana, &bo, secret);
    match_round(ana, "ana", ROCK, bo, "bo", SCISSORS);

    int imp = dial(srv.port);
    send_frame(imp, 'H', "ana");
    expect_frame(imp, "impostor", 'N', "name is registered");
    memset(wrong, '0', SECRET_HEX);
    wrong[SECRET_HEX] = '\0';
    ck_assert_str_ne(wrong, secret);
    send_login(imp, "ana", wrong);
    expect_frame(imp, "impostor", 'N', "wrong secret");
    send_frame(imp, 'R', "ana");
    expect_frame(imp, "impostor", 'N', "name taken");
    /* Still a guest: refused everything, got nothing. */
    send_str(imp, "P");
    expect_frame(imp, "impostor", 'E', "hello first");
    /* ana was not taken over: still in her match. */
    send_str(ana, "P");
    expect_frame(ana, "ana", 'E', "in a match");
    hang_up(&imp);

    /* Shutting down voids the running round: nothing more is stored. */
    stop_keep();
    hang_up(&ana);
    hang_up(&bo);
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds"), 1);
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM players WHERE lower(name) = 'ana'"), 1);
    /* 1200 against 1200, a win, K 40: expected score 1/2, so 1200 + 40 * (1 - 1/2) and 1200 - 20. */
    ck_assert_int_eq(sql(&srv, "SELECT CAST(round(rating * 100) AS INT) FROM players WHERE name = 'ana'"), 122000);
    ck_assert_int_eq(sql(&srv, "SELECT CAST(round(rating * 100) AS INT) FROM players WHERE name = 'bo'"), 118000);
    ck_assert_int_eq(sql(&srv, "SELECT rounds * 1000 + wins * 100 + losses * 10 + draws FROM players"
                         " WHERE name = 'ana'"), 1100);
    ck_assert_int_eq(sql(&srv, "SELECT rated FROM players WHERE name = 'ana'"), 1);
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds WHERE %lld IN (a, b)", (long long)player_id("ana")), 1);
    if (!harness_engine_pg()) {
        /* SQLite's row says which rounds it holds. */
        ck_assert_int_eq(sql(&srv, "SELECT last_round FROM players WHERE name = 'ana'"),
                         sql(&srv, "SELECT max(id) FROM rounds"));
    }
}
END_TEST

START_TEST(test_names_are_one_regardless_of_case)
{
    char secret[SECRET_HEX + 1];

    serve("30");
    int cat1 = dial(srv.port);
    int cat2 = dial(srv.port);
    int opp = dial(srv.port);
    send_frame(cat1, 'H', "Cat");
    expect_frame(cat1, "Cat", 'A', "Cat");
    send_frame(cat2, 'H', "cAT");
    expect_frame(cat2, "cAT", 'N', "name in use");
    /* Nor can it be registered while someone plays as it unclaimed. */
    send_frame(cat2, 'R', "cat");
    expect_frame(cat2, "cat", 'N', "name in use");
    /* Cat hangs up in a match: the opponent's G shows the server saw it. */
    hello(opp, "opp");
    match_pair(cat1, "Cat", opp, "opp");
    hang_up(&cat1);
    expect_op(opp, "opp", 'G');
    send_frame(cat2, 'H', "CAT");
    expect_frame(cat2, "CAT", 'A', "Cat");

    int dee1 = registered("Dee", secret);
    int dee2 = dial(srv.port);
    send_frame(dee2, 'R', "DEE");
    expect_frame(dee2, "DEE", 'N', "name taken");
    send_frame(dee2, 'H', "dEE");
    expect_frame(dee2, "dEE", 'N', "name is registered");
    login(dee2, "dee", secret, "Dee");
    expect_taken_over(&dee1, "Dee (first)");
    expect_bot_round(dee2, "Dee (second)", PAPER);

    hang_up(&cat2);
    hang_up(&dee2);
    hang_up(&opp);
    stop_keep();
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM players WHERE lower(name) = 'cat'"), 1);
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM players WHERE name = 'Cat'"), 1);
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM players WHERE lower(name) = 'dee'"), 1);
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM players WHERE name = 'Dee'"), 1);
}
END_TEST

START_TEST(test_a_second_login_takes_over)
{
    char secret[SECRET_HEX + 1];

    serve("30");
    int c1 = registered("ana", secret);
    int c2 = logged_in("ana", secret, "ana");
    expect_taken_over(&c1, "ana (first)");
    /* The new connection plays as ana: a named round against the bot. */
    expect_bot_round(c2, "ana (second)", SCISSORS);
    /* And it is the account's live session: a third login takes over from it in turn. */
    int c3 = logged_in("ana", secret, "ana");
    expect_taken_over(&c2, "ana (second)");
    expect_bot_round(c3, "ana (third)", ROCK);
    hang_up(&c3);
    stop_keep();
}
END_TEST

START_TEST(test_take_over_in_a_match_gives_a_snapshot)
{
    char secret[SECRET_HEX + 1];

    serve("30");
    int c1, bo;
    ana_meets_bo(&c1, &bo, secret);
    move_and_confirm(c1, "ana (first)", ROCK);

    int c2 = logged_in("ana", secret, "ana");
    /* Round 1, no stored rounds, her move is in. */
    expect_snapshot(c2, "ana (second)", "bo 1 0 0 0 1 ", 30);
    expect_taken_over(&c1, "ana (first)");
    /* bo is told nothing: the next bytes bo gets are the round's result. */
    send_move(bo, SCISSORS);
    expect_result(c2, "ana (second)", ROCK, SCISSORS);
    expect_result(bo, "bo", SCISSORS, ROCK);
    /* The match goes on with the new connection. */
    match_round(c2, "ana (second)", PAPER, bo, "bo", PAPER);
    hang_up(&c2);
    hang_up(&bo);
    stop_keep();
}
END_TEST

START_TEST(test_drop_mid_round_and_rejoin_with_the_move_in)
{
    char secret[SECRET_HEX + 1];

    serve("30");
    int c1, bo;
    ana_meets_bo(&c1, &bo, secret);
    match_round(c1, "ana", ROCK, bo, "bo", SCISSORS);

    move_and_confirm(c1, "ana", PAPER);
    hang_up(&c1);
    expect_dropped(bo, "bo", 30);

    int c2 = logged_in("ana", secret, "ana");
    /* Round 2, one round won, her move is in. */
    expect_snapshot(c2, "ana (back)", "bo 2 1 0 0 1 ", 30);
    expect_op(bo, "bo", 'C');
    send_move(bo, ROCK);
    expect_result(c2, "ana (back)", PAPER, ROCK);
    expect_result(bo, "bo", ROCK, PAPER);

    stop_keep();
    hang_up(&c2);
    hang_up(&bo);
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds"), 2);
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds WHERE timeout = 0 AND ((a = %lld AND move_a = 3"
                         " AND move_b = 2 AND outcome = 'W') OR (b = %lld AND move_b = 3 AND move_a = 2"
                         " AND outcome = 'L'))", (long long)player_id("ana"), (long long)player_id("ana")), 1);
}
END_TEST

START_TEST(test_a_round_decided_while_away_is_in_the_snapshot)
{
    char secret[SECRET_HEX + 1];

    serve("30");
    int c1, bo;
    ana_meets_bo(&c1, &bo, secret);
    match_round(c1, "ana", ROCK, bo, "bo", SCISSORS);

    move_and_confirm(c1, "ana", PAPER);
    hang_up(&c1);
    expect_dropped(bo, "bo", 30);
    /* bo can still move; ana's move was in, so the round is decided: bo wins it. */
    send_move(bo, SCISSORS);
    expect_result(bo, "bo", SCISSORS, PAPER);

    int c2 = logged_in("ana", secret, "ana");
    /* Round 3, one won and one lost, no move in yet. */
    expect_snapshot(c2, "ana (back)", "bo 3 1 1 0 0 ", 30);
    expect_op(bo, "bo", 'C');
    match_round(c2, "ana (back)", ROCK, bo, "bo", ROCK);

    stop_keep();
    hang_up(&c2);
    hang_up(&bo);
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds WHERE timeout = 0"), 3);
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds"), 3);
    ck_assert_int_eq(sql(&srv, "SELECT wins * 100 + losses * 10 + draws FROM players WHERE name = 'ana'"), 111);
}
END_TEST

START_TEST(test_a_registered_player_who_drops_while_queued_leaves_the_queue)
{
    char secret[SECRET_HEX + 1];

    serve("30");
    int ana = registered("ana", secret);
    send_str(ana, "P");
    expect_op(ana, "ana", 'W');
    hang_up_and_wait(&ana, "ana");
    /* Nobody is queued: bo waits, and the next player meets bo. */
    int bo = said_hello("bo");
    int cy = said_hello("cy");
    match_pair(bo, "bo", cy, "cy");
    /* ana logs in to the lobby: no seat, no queue, a move plays the bot. */
    int again = logged_in("ana", secret, "ana");
    expect_bot_round(again, "ana (back)", PAPER);
    hang_up(&again);
    hang_up(&bo);
    hang_up(&cy);
    stop_keep();
}
END_TEST

START_TEST(test_a_take_over_while_queued_stays_queued)
{
    char secret[SECRET_HEX + 1], b;

    serve("30");
    int c1 = registered("ana", secret);
    send_str(c1, "P");
    expect_op(c1, "ana (first)", 'W');
    int c2 = logged_in("ana", secret, "ana");
    expect_taken_over(&c1, "ana (first)");
    /* ana is still queued: the next player is matched with her at once. */
    int bo = said_hello("bo");
    send_str(bo, "P");
    expect_frame(bo, "bo", 'V', "ana");
    /* docs/PROTOCOL.md does not say whether the new connection is reminded that it waits (W); allow
     * one W before the match's V. */
    ck_assert_int_eq(harness_recv_n(c2, &b, 1), 1);
    if (b == 'W') {
        ck_assert_int_eq(harness_recv_n(c2, &b, 1), 1);
    }
    ck_assert_msg(b == 'V', "ana (second): expected V, got \"%s\"", show(&b, 1));
    expect_bytes_as(c2, "ana (second)", "\x02" "bo", 3);
    match_round(c2, "ana (second)", PAPER, bo, "bo", ROCK);
    hang_up(&c2);
    hang_up(&bo);
    stop_keep();
}
END_TEST

START_TEST(test_drop_and_rejoin_too_late)
{
    char secret[SECRET_HEX + 1];

    serve("1");
    int c1, bo;
    ana_meets_bo(&c1, &bo, secret);
    move_and_confirm(bo, "bo", ROCK);
    hang_up(&c1);
    /* A 1 s window, rounded up. */
    expect_frame(bo, "bo", 'D', "1");
    /* Nobody came back: bo wins the round by forfeit, and the match is over. */
    expect_code(bo, "bo", 'T', 'y');
    expect_op(bo, "bo", 'G');
    expect_bot_round(bo, "bo", PAPER);

    int c2 = logged_in("ana", secret, "ana");
    /* No J: ana is in the lobby, and a move plays the bot. */
    expect_bot_round(c2, "ana (back)", SCISSORS);

    stop_keep();
    hang_up(&c2);
    hang_up(&bo);
    long long a = player_id("ana"), b = player_id("bo");
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds"), 1);
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds WHERE timeout = 1 AND ((a = %lld AND b = %lld"
                         " AND move_a = 0 AND move_b = 2 AND outcome = 'L') OR (a = %lld AND b = %lld"
                         " AND move_a = 2 AND move_b = 0 AND outcome = 'W'))", a, b, b, a), 1);
}
END_TEST

START_TEST(test_a_bare_hello_player_is_not_held)
{
    char secret[SECRET_HEX + 1];

    serve("30");
    int ana, bo;
    ana_meets_bo(&ana, &bo, secret);
    double t0 = now_s();
    hang_up(&bo);
    /* G at once: no D, no seat held through the 30 s window. */
    expect_op(ana, "ana", 'G');
    ck_assert_msg(now_s() - t0 < 5.0, "G came %.1f s after the hang-up", now_s() - t0);
    expect_bot_round(ana, "ana", ROCK);
    /* bo's name is free at once too. */
    int bo2 = said_hello("bo");
    hang_up(&bo2);
    hang_up(&ana);
    stop_keep();
}
END_TEST

START_TEST(test_wrong_secrets_are_limited_per_address_and_per_account)
{
    char ana_secret[SECRET_HEX + 1], bo_secret[SECRET_HEX + 1], wrong[SECRET_HEX + 1];

    serve("30");
    int ana = registered("ana", ana_secret);
    int bo = registered("bo", bo_secret);

    /* A burst of wrong secrets from 127.0.0.1, each on its own connection. */
    for (int i = 0; i < FAIL_BURST; i++) {
        snprintf(wrong, sizeof(wrong), "%064d", i);
        int fd = dial_from(srv.port, "127.0.0.1", 0);
        send_login(fd, "ana", wrong);
        expect_frame(fd, "guesser", 'N', "wrong secret");
        hang_up(&fd);
    }
    int fd = dial_from(srv.port, "127.0.0.1", 0);
    snprintf(wrong, sizeof(wrong), "%064d", FAIL_BURST);
    send_login(fd, "ana", wrong);
    expect_frame(fd, "guesser", 'N', "too many attempts");
    /* Past the limit the secret is not even compared: the right one is refused the same way. */
    send_login(fd, "ana", ana_secret);
    expect_frame(fd, "guesser", 'N', "too many attempts");
    hang_up(&fd);

    /* The account's budget is spent: an address that then fails against it is refused, secret right or
     * wrong; the owner, who has not been guessing, still gets in from its own address. */
    int guesser = dial_from(srv.port, "127.0.0.3", 0);
    snprintf(wrong, sizeof(wrong), "%064d", FAIL_BURST + 1);
    send_login(guesser, "ana", wrong);
    expect_frame(guesser, "127.0.0.3", 'N', "wrong secret");
    send_login(guesser, "ana", ana_secret);
    expect_frame(guesser, "127.0.0.3", 'N', "too many attempts");
    hang_up(&guesser);
    int owner = dial_from(srv.port, "127.0.0.4", 0);
    login(owner, "ana", ana_secret, "ana");
    expect_taken_over(&ana, "ana (first)");
    ana = owner;
    /* Another address's own budget is whole: another account's right secret works. */
    int far = dial_from(srv.port, "127.0.0.2", 0);
    login(far, "bo", bo_secret, "bo");
    expect_taken_over(&bo, "bo (first)");
    expect_bot_round(far, "bo (127.0.0.2)", ROCK);

    /* The address's budget: from 127.0.0.1, even bo's right secret is refused. */
    int near = dial_from(srv.port, "127.0.0.1", 0);
    send_login(near, "bo", bo_secret);
    expect_frame(near, "127.0.0.1", 'N', "too many attempts");
    /* The owner plays on. */
    expect_bot_round(ana, "ana", PAPER);
    hang_up(&near);
    hang_up(&far);
    hang_up(&ana);
    stop_keep();
}
END_TEST

START_TEST(test_a_new_secret_and_releasing_a_name)
{
    char secret1[SECRET_HEX + 1], secret2[SECRET_HEX + 1], secret3[SECRET_HEX + 1];

    serve("30");
    int c1 = registered("ana", secret1);
    expect_bot_round(c1, "ana", ROCK);
    send_str(c1, "X");
    expect_secret(c1, "ana", secret2);
    ck_assert_str_ne(secret1, secret2);

    int c2 = dial(srv.port);
    send_login(c2, "ana", secret1);
    expect_frame(c2, "ana (old secret)", 'N', "wrong secret");
    login(c2, "ana", secret2, "ana");
    expect_taken_over(&c1, "ana (first)");
    send_str(c2, "U");
    expect_op(c2, "ana (second)", 'U');
    hang_up_and_wait(&c2, "ana (second)");

    /* Unclaimed: the secret is forgotten, and a bare hello works. */
    int c3 = dial(srv.port);
    send_login(c3, "ana", secret2);
    expect_frame(c3, "ana (released)", 'N', "not registered");
    hello(c3, "ana");
    hang_up_and_wait(&c3, "ana (bare)");

    /* And it can be registered anew: a new secret, the old ones dead. */
    int c4 = registered("ana", secret3);
    ck_assert_str_ne(secret3, secret2);
    ck_assert_str_ne(secret3, secret1);
    int c5 = dial(srv.port);
    send_login(c5, "ana", secret2);
    expect_frame(c5, "ana (released secret)", 'N', "wrong secret");
    send_frame(c5, 'H', "ana");
    expect_frame(c5, "ana (bare again)", 'N', "name is registered");

    /* X and U need a login on the connection: a bare hello is not one. */
    hello(c5, "zed");
    send_str(c5, "X");
    expect_frame(c5, "zed", 'E', "log in first");
    send_str(c5, "U");
    expect_frame(c5, "zed", 'E', "log in first");
    expect_bot_round(c5, "zed", PAPER);
    /* Nor is being a guest (a move first: a connection's first byte must open a long one). */
    int guest = dial(srv.port);
    guest_round(guest, '2');
    send_str(guest, "X");
    expect_frame(guest, "guest", 'E', "log in first");
    send_str(guest, "U");
    expect_frame(guest, "guest", 'E', "log in first");
    guest_round(guest, '3');
    hang_up(&guest);

    hang_up(&c4);
    hang_up(&c5);
    stop_keep();
    /* One ana all along, keeping her history through the release. */
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM players WHERE lower(name) = 'ana'"), 1);
    ck_assert_int_eq(sql(&srv, "SELECT rounds FROM players WHERE name = 'ana'"), 1);
    ck_assert_int_eq(sql(&srv, "SELECT length(secret_hash) FROM players WHERE name = 'ana'"), 32);
}
END_TEST

START_TEST(test_bad_frames_lose_nothing)
{
    serve("30");
    int fd = dial(srv.port);
    put(fd, "I\x00\x02" "ab", 5);
    expect_frame(fd, "guest", 'N', "bad length");
    put(fd, "I\x03" "ana\x00", 6);
    expect_frame(fd, "guest", 'N', "bad length");
    send_frame(fd, 'R', "a!b");
    expect_frame(fd, "guest", 'N', "bad name");
    send_frame(fd, 'R', "abcdefghijklmnopqrstuvwxyz0123456");     /* 33 bytes: one too many */
    expect_frame(fd, "guest", 'N', "bad length");
    char secret[SECRET_HEX + 1];
    memset(secret, 'a', SECRET_HEX);
    secret[SECRET_HEX] = '\0';
    send_login(fd, "zed", secret);
    expect_frame(fd, "guest", 'N', "not registered");
    /* Still a guest in the lobby, and in step: a move gets one bare result byte. */
    guest_round(fd, '2');
    guest_round(fd, '1');
    hang_up_and_wait(&fd, "guest");
    stop_keep();
}
END_TEST

START_TEST(test_the_classic_guest_client_is_unchanged)
{
    serve("30");
    /* Only move bytes: one bare result byte each, one round at a time. */
    int fd = dial(srv.port);
    for (int i = 0; i < GUEST_ROUNDS; i++) {
        guest_round(fd, (char)('1' + i % 3));
    }
    hang_up_and_wait(&fd, "guest");

    /* The classic client: one byte out, one byte back. */
    int one = dial(srv.port);
    guest_round(one, '2');
    hang_up_and_wait(&one, "one-move guest");

    /* A short request without its newline is answered. */
    int shortc = dial(srv.port);
    send_str(shortc, "a2");
    EXPECT(shortc, "d4\n");
    hang_up_and_wait(&shortc, "short");

    stop_keep();
    ck_assert_int_eq(sql(&srv, "SELECT sum(rounds) FROM players WHERE name IS NULL"), GUEST_ROUNDS + 1);
}
END_TEST

/* --name-rate: each new name (a player made by a bare hello, or a registration) spends the address's
 * budget; names that exist cost nothing, and other addresses have their own. */
START_TEST(test_new_names_are_limited_per_address)
{
    char name[16];

    start_server("--name-rate", "5", NULL);
    for (int i = 0; i < 5; i++) {
        int fd = dial(srv.port);
        snprintf(name, sizeof(name), "n%d", i);
        hello(fd, name);
        close(fd);
    }
    int fd = dial(srv.port);
    send_str(fd, "H\x02" "n5");
    expect_frame(fd, "6th name", 'N', "too many new names");
    send_str(fd, "R\x02" "n6");
    expect_frame(fd, "7th name", 'N', "too many new names");
    hello(fd, "n0");                            /* a name that exists costs nothing */
    close(fd);
    int far = dial_from(srv.port, "127.0.0.2", 0);
    char secret[SECRET_HEX + 1];
    send_str(far, "R\x02" "n5");
    expect_secret(far, "127.0.0.2", secret);
    expect_frame(far, "127.0.0.2", 'A', "n5");
    close(far);
    stop_keep();
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM players WHERE name IS NOT NULL"), 6);
}
END_TEST

/* The snapshot's score counts stored rounds only, and it is sent at once, even while another process
 * holds the database's lock: a round refused (games unavailable) is not in it. */
START_TEST(test_a_snapshot_counts_only_stored_rounds_and_does_not_wait_for_a_lock)
{
    char secret[SECRET_HEX + 1], unavailable[2 + 17];

    NEEDS_SQLITE("the database file's write lock, held by another process");

    start_server("--lock-wait", "0.2", NULL);
    memcpy(unavailable, "E\x11" "games unavailable", sizeof(unavailable));
    int c1, bo;
    ana_meets_bo(&c1, &bo, secret);
    sqlite3 *locker = NULL;
    ck_assert_int_eq(sqlite3_open(srv.db, &locker), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(locker, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    send_move(c1, ROCK);
    send_move(bo, SCISSORS);
    expect_bytes_as(c1, "ana", unavailable, sizeof(unavailable));
    expect_bytes_as(bo, "bo", unavailable, sizeof(unavailable));
    hang_up(&c1);
    expect_dropped(bo, "bo", 30);
    int c2 = logged_in("ana", secret, "ana");
    expect_snapshot(c2, "ana", "bo 2 0 0 0 0 ", 30);    /* round 2, nothing stored, no move in */
    EXPECT(bo, "C");
    ck_assert_int_eq(sqlite3_exec(locker, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(locker);
    match_round(c2, "ana", PAPER, bo, "bo", ROCK);
    hang_up(&c2);
    hang_up(&bo);
    stop_keep();
    ck_assert_int_eq(sql(&srv, "SELECT count(*) FROM rounds"), 1);
}
END_TEST

/* Both players dropped: the first back is told, after its snapshot, that the other's seat is held. */
START_TEST(test_back_while_the_opponent_is_away_is_told_so)
{
    char sa[SECRET_HEX + 1], sb[SECRET_HEX + 1];

    serve("30");
    int a = registered("ana", sa), b = registered("bo", sb);
    match_pair(a, "ana", b, "bo");
    hang_up(&a);
    expect_dropped(b, "bo", 30);
    hang_up(&b);
    int a2 = logged_in("ana", sa, "ana");
    expect_snapshot(a2, "ana", "bo 1 0 0 0 0 ", 30);
    expect_dropped(a2, "ana", 30);
    hang_up(&a2);
    stop_keep();
}
END_TEST

static Suite *accounts_suite(void)
{
    Suite *s = suite_create("accounts");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, NULL, stop_server);
    tcase_add_test(tc, test_register_gives_a_secret_and_only_its_hash_is_kept);
    tcase_add_test(tc, test_new_names_are_limited_per_address);
    tcase_add_test(tc, test_a_snapshot_counts_only_stored_rounds_and_does_not_wait_for_a_lock);
    tcase_add_test(tc, test_back_while_the_opponent_is_away_is_told_so);
    tcase_add_test(tc, test_an_impostor_is_refused_and_the_rating_does_not_move);
    tcase_add_test(tc, test_names_are_one_regardless_of_case);
    tcase_add_test(tc, test_a_second_login_takes_over);
    tcase_add_test(tc, test_take_over_in_a_match_gives_a_snapshot);
    tcase_add_test(tc, test_drop_mid_round_and_rejoin_with_the_move_in);
    tcase_add_test(tc, test_a_round_decided_while_away_is_in_the_snapshot);
    tcase_add_test(tc, test_a_registered_player_who_drops_while_queued_leaves_the_queue);
    tcase_add_test(tc, test_a_take_over_while_queued_stays_queued);
    tcase_add_test(tc, test_drop_and_rejoin_too_late);
    tcase_add_test(tc, test_a_bare_hello_player_is_not_held);
    tcase_add_test(tc, test_wrong_secrets_are_limited_per_address_and_per_account);
    tcase_add_test(tc, test_a_new_secret_and_releasing_a_name);
    tcase_add_test(tc, test_bad_frames_lose_nothing);
    tcase_add_test(tc, test_the_classic_guest_client_is_unchanged);
    tcase_add_test(tc, test_a_crowd_of_new_names_is_answered_over_several_turns);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return suite_run(accounts_suite());
}
