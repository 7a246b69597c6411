/*
 * player: one libev loop watches the socket and the keyboard (or the script
 * on stdin) together, so a notice from the server shows up while the
 * player is still thinking.
 *
 *   stdin --keys_cb--> words --> sess_move --+            +--> report/screen
 *                                            v            |
 *                                  sess.out --flush--> socket --sock_cb--> wire_decode --> sess_frame
 *
 * The connection is a small state machine of its own: connecting (a
 * non-blocking connect with a deadline), up, or waiting to retry. The first
 * connection (and its login) must succeed within --timeout, on a terminal
 * too: nothing is lost by giving up before anything was played. Once it was
 * up, a drop is retried with a delay doubling from 0.5 s to 8 s for
 * --retry-for seconds without success, and the session logs in again: back
 * in its match if the server held the seat (J), else in the lobby (and
 * queued again with --pvp). A move that was sent but never answered is the
 * session's to play again or report (sess.h).
 *
 * A name is an account: the first run registers it (R) and keeps the secret
 * the server sends (K) through secrets.c before it handles anything else;
 * later runs log in with it (I). The answer to R or I is awaited for
 * --timeout seconds, like a connect.
 *
 * Terminal mode prints through screen (colours, a status line redrawn by a
 * 1 s timer with the move window's countdown). Script mode prints the
 * stable lines of report.h on stdout and client-side trouble on stderr.
 */
#include "player.h"

#include <errno.h>
#include <ev.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dial.h"
#include "opts.h"
#include "report.h"
#include "screen.h"
#include "secrets.h"
#include "sess.h"
#include "words.h"

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define SCRIPT_QUEUE 1024   /* moves read ahead from a script */
#define READ_CHUNK 512      /* bytes per read of stdin: at most READ_CHUNK / 2 words */

enum link_state {
    LINK_DOWN,          /* waiting for the retry timer */
    LINK_CONNECTING,    /* connect in progress */
    LINK_UP,
};

struct player {
    struct ev_loop *loop;
    struct opts_conn conn;
    char label[300];                /* host:port for messages */
    struct sess sess;
    char secret_path[SECRETS_PATH_MAX]; /* where the name's secret is kept */
    int releasing;                  /* the secret could not be kept: the name is being given up */
    int tty;                        /* keys from a terminal, else a script */
    struct screen scr;              /* terminal output */
    double move_timeout;            /* length of the countdown */

    enum link_state link;
    int fd;                         /* the socket, or -1 */
    struct addrinfo *addrs;         /* being tried, during a connect */
    struct addrinfo *next_addr;     /* the next one to try */
    int last_errno;                 /* why the last address failed */
    int ever_up;                    /* connected at least once */
    int ever_answered;              /* the server answered a login at least once */
    double backoff;                 /* delay before the next retry */
    double retry_for;               /* give up reconnecting after this long without success */
    double down_since;              /* when the link was lost (ev_now), 0 while it is fine */
    char in[1024];                  /* bytes from the server not yet decoded */
    size_t inlen;
    ev_io sock_r;                   /* socket readable */
    ev_io sock_w;                   /* connect finished, or room to write */
    ev_timer connect_t;             /* connect deadline */
    ev_timer login_t;               /* deadline for the answer to R or I */
    ev_timer retry_t;               /* reconnect delay */

    ev_io keys;                     /* stdin */
    struct words_reader reader;
    int queue[SCRIPT_QUEUE];        /* script moves not yet sent */
    size_t qhead, qlen;
    int input_done;                 /* end of input, or a bad word */
    int bad_word;

    ev_timer tick;                  /* redraws the status line every second */
    double deadline;                /* end of the move window (ev_time clock) */
    double held_until;              /* end of the dropped opponent's held seat */
    double queued_since;            /* when the wait for an opponent began */

    ev_signal sig_int, sig_term, sig_hup, sig_tstp, sig_cont;
    int status;                     /* exit status once the loop stops */
    int summary;                    /* print the summary on the way out */
};

static void connect_begin(struct player *p);
static void link_lost(struct player *p, const char *why);
static void update_status(struct player *p);

/* --- output --- */

/* A line for the player: on the screen in terminal mode, on stdout (or stderr for client-side
 * trouble) in script mode. */
static void say(struct player *p, enum screen_tone tone, const char *text)
{
    if (p->tty) {
        screen_line(&p->scr, tone, text);
        return;
    }
    FILE *f = tone == SCREEN_ALERT ? stderr : stdout;
    fprintf(f, "%s%s\n", tone == SCREEN_ALERT ? "arcade: " : "", text);
    fflush(f);
}

/* The first reason to stop wins. */
static void stop(struct player *p, int status, int summary)
{
    if (p->status >= 0) {
        return;
    }
    p->status = status;
    p->summary = summary;
    ev_break(p->loop, EVBREAK_ALL);
}

/* --- the script's move queue --- */

static void queue_push(struct player *p, int move, int front)
{
    if (p->qlen == SCRIPT_QUEUE) {
        return;
    }
    if (front) {
        p->qhead = (p->qhead + SCRIPT_QUEUE - 1) % SCRIPT_QUEUE;
        p->queue[p->qhead] = move;
    } else {
        p->queue[(p->qhead + p->qlen) % SCRIPT_QUEUE] = move;
    }
    p->qlen++;
}

static int queue_pop(struct player *p)
{
    int m = p->queue[p->qhead];
    p->qhead = (p->qhead + 1) % SCRIPT_QUEUE;
    p->qlen--;
    return m;
}

/* --- the connection --- */

static void flush_out(struct player *p)
{
    if (p->link != LINK_UP || p->sess.outlen == 0) {
        return;
    }
    ssize_t w = send(p->fd, p->sess.out, p->sess.outlen, MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        link_lost(p, strerror(errno));
        return;
    }
    sess_sent(&p->sess, w > 0 ? (size_t)w : 0);
    if (p->sess.outlen > 0) {
        ev_io_start(p->loop, &p->sock_w);
    } else {
        ev_io_stop(p->loop, &p->sock_w);
    }
}

/* Is a move still out there: sent and unanswered, or lost in a drop and not yet resolved? */
static int move_open(const struct player *p)
{
    return p->sess.pending != RPS_NONE || p->sess.lost != RPS_NONE;
}

/* Send what the script has next, queue again after a match ended, or finish. */
static void script_step(struct player *p)
{
    if (p->tty || p->releasing) {
        return;
    }
    if (p->link == LINK_UP && p->qlen > 0 && sess_can_move(&p->sess)) {
        sess_move(&p->sess, queue_pop(p));
    } else if (p->link == LINK_UP && p->qlen > 0 && p->sess.pvp && p->sess.phase == SESS_LOBBY) {
        sess_queue(&p->sess);
    }
    flush_out(p);
    if (p->input_done && p->qlen == 0 && !move_open(p)) {
        stop(p, p->bad_word ? OPTS_EXIT_USAGE : OPTS_EXIT_OK, !p->bad_word);
    }
}

static void close_link(struct player *p)
{
    ev_io_stop(p->loop, &p->sock_r);
    ev_io_stop(p->loop, &p->sock_w);
    ev_timer_stop(p->loop, &p->connect_t);
    ev_timer_stop(p->loop, &p->login_t);
    if (p->fd >= 0) {
        close(p->fd);
        p->fd = -1;
    }
    if (p->addrs != NULL) {
        freeaddrinfo(p->addrs);
        p->addrs = NULL;
    }
    p->inlen = 0;
    p->link = LINK_DOWN;
}

/* Quitting on purpose is leaving. A closed connection alone would be taken for a drop: the server
 * would hold a logged-in player's seat for the rest of the move window, and the opponent would wait
 * for nobody. */
static void leave(struct player *p)
{
    char l = RPS_OP_LEAVE;
    if (p->link == LINK_UP && (p->sess.phase == SESS_MATCH || p->sess.phase == SESS_QUEUED)) {
        send(p->fd, &l, 1, MSG_NOSIGNAL);
    }
}

static void retry_later(struct player *p, const char *what)
{
    char msg[700];
    double now = ev_now(p->loop);
    if (p->down_since == 0) {
        p->down_since = now;
    }
    double left = p->down_since + p->retry_for - now;
    if (left <= 0) {
        snprintf(msg, sizeof(msg), "%s; no success for %g s: giving up", what, p->retry_for);
        say(p, SCREEN_ALERT, msg);
        stop(p, OPTS_EXIT_NET, 1);
        return;
    }
    double delay = fmin(p->backoff, ceil(left * 10) / 10);  /* tenths, to be read */
    snprintf(msg, sizeof(msg), "%s; retrying in %g s", what, delay);
    say(p, SCREEN_ALERT, msg);
    ev_timer_set(&p->retry_t, delay, 0.);
    ev_timer_start(p->loop, &p->retry_t);
    p->backoff = fmin(p->backoff * 2, PLAYER_BACKOFF_MAX);
    update_status(p);
}

/* The connection went away: the session keeps the unanswered move; come back later. */
static void link_lost(struct player *p, const char *why)
{
    char msg[600];
    close_link(p);
    sess_disconnected(&p->sess);
    snprintf(msg, sizeof(msg), "connection to %s lost (%s)", p->label, why);
    if (p->releasing) {
        snprintf(msg, sizeof(msg), "connection to %s lost (%s) while giving up '%s': it may stay registered",
                 p->label, why, p->sess.name);
        say(p, SCREEN_ALERT, msg);
        stop(p, OPTS_EXIT_SERVER, 0);
        return;
    }
    if (!p->tty && p->input_done && p->qlen == 0 && !move_open(p)) {
        /* A script with nothing left to play has no reason to come back. */
        stop(p, p->bad_word ? OPTS_EXIT_USAGE : OPTS_EXIT_OK, !p->bad_word);
        return;
    }
    retry_later(p, msg);
}

static void connect_failed(struct player *p)
{
    char msg[600];
    const char *why = p->last_errno == ETIMEDOUT ? "timed out" : strerror(p->last_errno);
    close_link(p);
    snprintf(msg, sizeof(msg), "cannot connect to %s: %s", p->label, why);
    if (!p->ever_up) {
        say(p, SCREEN_ALERT, msg);
        stop(p, OPTS_EXIT_NET, 0);
        return;
    }
    retry_later(p, msg);
}

static void link_up(struct player *p)
{
    ev_timer_stop(p->loop, &p->connect_t);
    ev_io_stop(p->loop, &p->sock_w);
    freeaddrinfo(p->addrs);
    p->addrs = NULL;
    p->link = LINK_UP;
    if (p->ever_up) {
        char msg[400];
        snprintf(msg, sizeof(msg), "reconnected to %s", p->label);
        say(p, p->tty ? SCREEN_NOTE : SCREEN_ALERT, msg);
    }
    p->ever_up = 1;
    p->backoff = PLAYER_BACKOFF_MIN;
    if (p->sess.name[0] == '\0') {
        p->down_since = 0;  /* a guest has no login to wait for: connected is back */
    }
    ev_io_set(&p->sock_r, p->fd, EV_READ);
    ev_io_start(p->loop, &p->sock_r);
    ev_io_set(&p->sock_w, p->fd, EV_WRITE);
    sess_connected(&p->sess);
    if (p->sess.phase == SESS_NAMING) {
        ev_timer_set(&p->login_t, p->conn.timeout, 0.);
        ev_timer_start(p->loop, &p->login_t);
    }
    flush_out(p);
    script_step(p);
    update_status(p);
}

/* Start connecting to the next address, or give up on this attempt. */
static void try_next(struct player *p)
{
    while (p->next_addr != NULL) {
        struct addrinfo *ai = p->next_addr;
        int in_progress;
        p->next_addr = ai->ai_next;
        p->fd = dial_start(ai, &in_progress);
        if (p->fd < 0) {
            p->last_errno = errno;
            continue;
        }
        if (!in_progress) {
            link_up(p);
            return;
        }
        p->link = LINK_CONNECTING;
        ev_io_set(&p->sock_w, p->fd, EV_WRITE);
        ev_io_start(p->loop, &p->sock_w);
        ev_timer_set(&p->connect_t, p->conn.timeout, 0.);
        ev_timer_start(p->loop, &p->connect_t);
        return;
    }
    connect_failed(p);
}

static void connect_begin(struct player *p)
{
    char err[512];
    p->addrs = dial_resolve(p->conn.host, p->conn.port, SOCK_STREAM, err, sizeof(err));
    if (p->addrs == NULL) {
        if (!p->ever_up) {
            say(p, SCREEN_ALERT, err);
            stop(p, OPTS_EXIT_NET, 0);
            return;
        }
        retry_later(p, err);
        return;
    }
    p->next_addr = p->addrs;
    p->last_errno = ECONNREFUSED;
    try_next(p);
    update_status(p);
}

/* --- what the server says --- */

static enum screen_tone round_tone(int outcome)
{
    return outcome == RPS_WIN ? SCREEN_WIN : outcome == RPS_LOSS ? SCREEN_LOSS : SCREEN_DRAW;
}

/* A countdown of secs begins: the tick is re-aligned to fire just after each whole second of it,
 * so the countdown shows every number once, however late it began within a second. Returns its end. */
static double start_countdown(struct player *p, double secs)
{
    if (p->tty) {
        ev_timer_stop(p->loop, &p->tick);
        ev_timer_set(&p->tick, secs - floor(secs) + 0.05, 1.);
        ev_timer_start(p->loop, &p->tick);
    }
    return ev_time() + secs;
}

static void show_round(struct player *p, const struct sess_event *ev)
{
    char line[300];
    size_t n = report_round(ev, line, sizeof(line));
    if (p->tty) {
        char score[100];
        report_summary(p->sess.wins, p->sess.losses, p->sess.draws, score, sizeof(score));
        snprintf(line + n, sizeof(line) - n, "    %s", score);
        say(p, round_tone(ev->outcome), line);
    } else {
        say(p, SCREEN_PLAIN, line);
    }
    p->deadline = start_countdown(p, p->move_timeout);
}

/* The server sent the account's secret: keep it before anything else happens. A secret that
 * cannot be kept would leave the name registered to nobody, so the name is given up instead. */
static void keep_secret(struct player *p, const char *secret)
{
    char err[SECRETS_ERR_MAX], line[SECRETS_ERR_MAX + 100];
    const struct opts_conn *c = &p->conn;
    if (secrets_save(c->host, c->port, p->sess.name, secret, err, sizeof(err)) == 0) {
        report_registered(p->sess.name, p->secret_path, line, sizeof(line));
        say(p, SCREEN_PLAIN, line);
        return;
    }
    snprintf(line, sizeof(line), "%s; giving '%s' up again so that it is not lost", err, p->sess.name);
    say(p, SCREEN_ALERT, line);
    sess_release(&p->sess);
    p->releasing = 1;
}

/* The server has no account by this name any more (a new database, or the name was released):
 * the secret is stale, and the session registers the name again. */
static void forget_secret(struct player *p)
{
    char err[SECRETS_ERR_MAX], line[SECRETS_ERR_MAX + 100];
    if (secrets_drop(p->conn.host, p->conn.port, p->sess.name, err, sizeof(err)) < 0) {
        say(p, SCREEN_ALERT, err);
    }
    snprintf(line, sizeof(line), "%s has no account '%s' any more: registering it again", p->label, p->sess.name);
    say(p, p->tty ? SCREEN_NOTE : SCREEN_ALERT, line);
}

/* Notes that stop the session or act on it; returns 1 when the note was dealt with here. */
static int act_on_note(struct player *p, const struct sess_event *ev)
{
    char line[SECRETS_ERR_MAX];
    switch (ev->note) {
    case SESS_NOTE_SECRET:
        keep_secret(p, ev->text);
        return 1;
    case SESS_NOTE_FORGOTTEN:
        forget_secret(p);
        return 1;
    case SESS_NOTE_REFUSED:
        report_refusal(ev->text, p->sess.name, p->label, p->secret_path, line, sizeof(line));
        say(p, SCREEN_ALERT, line);
        stop(p, OPTS_EXIT_SERVER, 0);
        return 1;
    case SESS_NOTE_TAKEN_OVER:
        snprintf(line, sizeof(line), "'%s' logged in on %s from somewhere else: this session ends", p->sess.name,
                 p->label);
        say(p, SCREEN_ALERT, line);
        /* The seat is the other login's now: this connection must not leave it. */
        close_link(p);
        stop(p, OPTS_EXIT_SERVER, 1);
        return 1;
    case SESS_NOTE_ERROR:
        snprintf(line, sizeof(line), "server: %s", ev->text);
        say(p, SCREEN_ALERT, line);
        return 1;
    case SESS_NOTE_RELEASED:
        snprintf(line, sizeof(line), "'%s' is unclaimed again on %s", p->sess.name, p->label);
        say(p, SCREEN_ALERT, line);
        return 1;
    case SESS_NOTE_UNPLAYED:
        if (!p->tty) {
            queue_push(p, ev->code, 1);
        } else {
            say(p, SCREEN_ALERT, "your last move was not played");
        }
        return 1;
    default:
        return 0;
    }
}

static void show_note(struct player *p, const struct sess_event *ev)
{
    char line[400];
    if (act_on_note(p, ev)) {
        return;
    }
    switch (ev->note) {
    case SESS_NOTE_NAMED:
        p->ever_answered = 1;
        p->down_since = 0;
        p->queued_since = ev_time();
        break;
    case SESS_NOTE_WAITING:
        p->queued_since = ev_time();
        break;
    case SESS_NOTE_MATCHED:
    case SESS_NOTE_VOID:
        p->deadline = start_countdown(p, p->move_timeout);
        break;
    case SESS_NOTE_REJOINED:
        p->deadline = start_countdown(p, ev->snap.seconds);
        break;
    case SESS_NOTE_OPP_DROPPED:
        p->held_until = start_countdown(p, ev->code);
        break;
    case SESS_NOTE_QUEUE_TIMEOUT:
        if (!p->tty && (p->qlen > 0 || !p->input_done)) {
            report_note(ev, line, sizeof(line));
            say(p, SCREEN_PLAIN, line);
            stop(p, OPTS_EXIT_NET, 1);
            return;
        }
        break;
    default:
        break;
    }
    if (report_note(ev, line, sizeof(line)) > 0) {
        say(p, ev->note == SESS_NOTE_NAMED ? SCREEN_PLAIN : SCREEN_NOTE, line);
    }
}

static void show_events(struct player *p, const struct sess_event *ev, int n)
{
    for (int i = 0; i < n && p->status < 0; i++) {
        if (ev[i].is_round) {
            show_round(p, &ev[i]);
        } else {
            show_note(p, &ev[i]);
        }
    }
}

static void handle_frame(struct player *p, const struct wire_frame *f)
{
    struct sess_event ev[SESS_EVENTS_MAX];
    int releasing = p->releasing;
    /* Giving the name up, only the answer (or an error) matters, and either ends the session. */
    if (releasing && f->kind != WIRE_RELEASED && f->kind != WIRE_ERROR) {
        return;
    }
    show_events(p, ev, sess_frame(&p->sess, f, ev));
    if (releasing) {
        stop(p, OPTS_EXIT_SERVER, 0);
    }
}

static void sock_read(struct player *p)
{
    ssize_t r = recv(p->fd, p->in + p->inlen, sizeof(p->in) - p->inlen, 0);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        link_lost(p, r == 0 ? "closed by the server" : strerror(errno));
        return;
    }
    p->inlen += r > 0 ? (size_t)r : 0;
    size_t off = 0;
    struct wire_frame f;
    int k = 0;
    /* A script stops at the answer to its last move, whatever else arrived with it. */
    while (p->link == LINK_UP && p->status < 0 && (k = wire_decode(p->in + off, p->inlen - off, &f)) > 0) {
        off += (size_t)k;
        handle_frame(p, &f);
        script_step(p);
    }
    if (p->link != LINK_UP || p->status >= 0) {
        return;
    }
    if (k < 0) {
        char why[64];
        snprintf(why, sizeof(why), "unexpected byte 0x%02x from the server", (unsigned)f.code & 0xff);
        link_lost(p, why);
        return;
    }
    memmove(p->in, p->in + off, p->inlen - off);
    p->inlen -= off;
    if (p->sess.phase != SESS_NAMING) {
        ev_timer_stop(p->loop, &p->login_t);
    }
    /* Every frame of this read is handled: a login that was given no seat is in the lobby. */
    if (!p->releasing) {
        struct sess_event ev[SESS_EVENTS_MAX];
        show_events(p, ev, sess_settle(&p->sess, ev));
        script_step(p);
    }
    flush_out(p);
    update_status(p);
}

static void sock_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    struct player *p = container_of(w, struct player, sock_r);
    sock_read(p);
}

static void sock_w_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    struct player *p = container_of(w, struct player, sock_w);
    if (p->link == LINK_UP) {
        flush_out(p);
        return;
    }
    if (dial_finish(p->fd) == 0) {
        link_up(p);
        return;
    }
    p->last_errno = errno;
    ev_io_stop(p->loop, &p->sock_w);
    ev_timer_stop(p->loop, &p->connect_t);
    close(p->fd);
    p->fd = -1;
    try_next(p);
}

static void connect_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct player *p = container_of(w, struct player, connect_t);
    ev_io_stop(p->loop, &p->sock_w);
    close(p->fd);
    p->fd = -1;
    p->last_errno = ETIMEDOUT;
    try_next(p);
}

/* The server took the connection and never answered R or I. */
static void login_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct player *p = container_of(w, struct player, login_t);
    char msg[400];
    snprintf(msg, sizeof(msg), "no answer from %s to the login in %g s", p->label, p->conn.timeout);
    if (!p->ever_answered) {
        say(p, SCREEN_ALERT, msg);
        stop(p, OPTS_EXIT_NET, 0);
        return;
    }
    link_lost(p, "no answer to the login");
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    connect_begin(container_of(w, struct player, retry_t));
}

/* --- what the player does --- */

static void press(struct player *p, int c)
{
    int k = words_key(c);
    if (k == WORDS_KEY_QUIT) {
        stop(p, OPTS_EXIT_OK, 1);
        return;
    }
    if (k == WORDS_KEY_AGAIN && sess_queue(&p->sess) == 0) {
        p->queued_since = ev_time();
        flush_out(p);
        return;
    }
    if (k > 0 && p->link == LINK_UP && sess_move(&p->sess, k) == 0) {
        flush_out(p);
    }
}

/* Feed a chunk of the script (n == 0: its end) to the word reader. */
static void read_script(struct player *p, const char *buf, ssize_t n)
{
    int m = 0;
    for (ssize_t i = 0; i < n && m >= 0; i++) {
        m = words_reader_feed(&p->reader, (unsigned char)buf[i]);
        if (m > 0) {
            queue_push(p, m, 0);
        }
    }
    if (n == 0) {
        m = words_reader_feed(&p->reader, -1);
        if (m > 0) {
            queue_push(p, m, 0);
        }
    }
    if (m < 0) {
        fprintf(stderr, "arcade: bad move '%s' in the input: use rock, paper, scissors, r, p, s, 1, 2 or 3\n",
                p->reader.bad);
        p->bad_word = 1;
    }
    if (n == 0 || p->bad_word) {
        p->input_done = 1;
        ev_io_stop(p->loop, &p->keys);
    } else if (p->qlen > SCRIPT_QUEUE - READ_CHUNK) {
        /* Read on only once the queue has room for a whole chunk of words. */
        ev_io_stop(p->loop, &p->keys);
    }
}

static void keys_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    struct player *p = container_of(w, struct player, keys);
    char buf[READ_CHUNK];
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return;
    }
    if (p->tty) {
        for (ssize_t i = 0; i < n && p->status < 0; i++) {
            press(p, (unsigned char)buf[i]);
        }
        if (n <= 0) {
            stop(p, OPTS_EXIT_OK, 1);
        }
        update_status(p);
        return;
    }
    read_script(p, buf, n < 0 ? 0 : n);
    script_step(p);
    if (!ev_is_active(&p->keys) && !p->input_done && p->qlen <= SCRIPT_QUEUE - READ_CHUNK) {
        ev_io_start(p->loop, &p->keys);
    }
}

/* --- the status line --- */

/* The status line in full. */
static void status_text(struct player *p, char *out, size_t cap)
{
    const struct sess *s = &p->sess;
    double now = ev_time();
    int left = (int)fmax(ceil(p->deadline - now), 0);
    int held = (int)fmax(ceil(p->held_until - now), 0);

    if (p->link == LINK_DOWN) {
        snprintf(out, cap, "offline: reconnecting to %.200s ... (q quits)", p->label);
    } else if (p->link == LINK_CONNECTING || s->phase == SESS_OFFLINE) {
        snprintf(out, cap, "connecting to %.200s ...", p->label);
    } else if (s->phase == SESS_NAMING || s->phase == SESS_SEATED) {
        snprintf(out, cap, s->secret[0] != '\0' ? "logging in as %s ..." : "registering %s ...", s->name);
    } else if (s->phase == SESS_QUEUED) {
        snprintf(out, cap, "waiting for an opponent (%.0f s) ... (q quits)", floor(now - p->queued_since));
    } else if (s->phase == SESS_LOBBY && s->pvp) {
        snprintf(out, cap, "in the lobby: n finds a new opponent, q quits");
    } else if (s->phase == SESS_LOBBY && s->pending != RPS_NONE) {
        snprintf(out, cap, "you play %s against the bot ...", words_name(s->pending));
    } else if (s->phase == SESS_LOBBY) {
        snprintf(out, cap, "%s vs the bot: r rock, p paper, s scissors, q quits", s->named ? s->name : "guest");
    } else if (s->opp_away) {
        snprintf(out, cap, "%s vs %s: %s dropped, seat held %d s: %s", s->name, s->opponent, s->opponent, held,
                 s->pending != RPS_NONE ? "your move is in" : "r rock, p paper, s scissors, q quits");
    } else if (s->pending == SESS_MOVE_IN) {
        snprintf(out, cap, "%s vs %s: %d s left: your move is in, waiting for %s ...", s->name, s->opponent, left,
                 s->opponent);
    } else if (s->pending != RPS_NONE) {
        snprintf(out, cap, "%s vs %s: %d s left: you play %s, waiting for %s ...", s->name, s->opponent, left,
                 words_name(s->pending), s->opponent);
    } else {
        snprintf(out, cap, "%s vs %s: %d s left: r rock, p paper, s scissors, q quits", s->name, s->opponent, left);
    }
}

/* The same in a few words, for a narrow terminal: what counts down and which keys do what come
 * first, names last (the screen cuts what still does not fit). */
static void status_short(struct player *p, char *out, size_t cap)
{
    const struct sess *s = &p->sess;
    double now = ev_time();
    int left = (int)fmax(ceil(p->deadline - now), 0);
    int held = (int)fmax(ceil(p->held_until - now), 0);

    if (p->link == LINK_DOWN) {
        snprintf(out, cap, "offline, reconnecting (q quits)");
    } else if (p->link == LINK_CONNECTING || s->phase == SESS_OFFLINE) {
        snprintf(out, cap, "connecting ...");
    } else if (s->phase == SESS_NAMING || s->phase == SESS_SEATED) {
        snprintf(out, cap, s->secret[0] != '\0' ? "logging in ..." : "registering ...");
    } else if (s->phase == SESS_QUEUED) {
        snprintf(out, cap, "waiting %.0f s (q quits)", floor(now - p->queued_since));
    } else if (s->phase == SESS_LOBBY && s->pvp) {
        snprintf(out, cap, "n new opponent, q quits");
    } else if (s->phase == SESS_LOBBY && s->pending != RPS_NONE) {
        snprintf(out, cap, "you play %s ...", words_name(s->pending));
    } else if (s->phase == SESS_LOBBY) {
        snprintf(out, cap, "r/p/s plays, q quits: vs the bot");
    } else if (s->opp_away) {
        snprintf(out, cap, "%s dropped, held %d s%s", s->opponent, held, s->pending != RPS_NONE ? "" : ": r/p/s, q");
    } else if (s->pending == SESS_MOVE_IN) {
        snprintf(out, cap, "%d s: your move is in: vs %s", left, s->opponent);
    } else if (s->pending != RPS_NONE) {
        snprintf(out, cap, "%d s: you play %s: vs %s", left, words_name(s->pending), s->opponent);
    } else {
        snprintf(out, cap, "%d s: r/p/s plays, q quits: vs %s", left, s->opponent);
    }
}

static void update_status(struct player *p)
{
    char text[256];
    if (!p->tty || p->status >= 0) {
        return;
    }
    status_text(p, text, sizeof(text));
    int width = screen_width(&p->scr);
    if (width > 0 && (int)strlen(text) > width - 1) {
        status_short(p, text, sizeof(text));
    }
    screen_status(&p->scr, text);
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    update_status(container_of(w, struct player, tick));
}

/* --- signals --- */

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)revents;
    struct player *p = w->data;
    stop(p, 128 + w->signum, 1);
}

/* Ctrl-Z: hand the terminal back as it was before stopping, take it again on resume. */
static void suspend_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)revents;
    struct player *p = w->data;
    screen_clear(&p->scr);
    screen_restore();
    kill(getpid(), SIGSTOP);
}

static void resume_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)revents;
    struct player *p = w->data;
    screen_reraw();
    update_status(p);
}

static void watch_signal(struct player *p, ev_signal *w, void (*cb)(struct ev_loop *, ev_signal *, int), int sig)
{
    ev_signal_init(w, cb, sig);
    w->data = p;
    ev_signal_start(p->loop, w);
}

/* --- setup --- */

enum { PLAYER_NAME = 1, PLAYER_PVP, PLAYER_MOVE_TIMEOUT_OPT, PLAYER_RETRY_FOR_OPT };

static const struct opts_spec play_specs[] = {
    { "name", 'n', 1, PLAYER_NAME }, { "pvp", 0, 0, PLAYER_PVP }, { "move-timeout", 0, 1, PLAYER_MOVE_TIMEOUT_OPT },
    { "retry-for", 0, 1, PLAYER_RETRY_FOR_OPT }, OPTS_COMMON,
};

static void play_usage(FILE *f)
{
    fprintf(f,
            "usage: arcade play [--name NAME] [--pvp] [--move-timeout S] [--retry-for S] [options]\n"
            "Play rock-paper-scissors against the bot, or with --pvp against a person.\n"
            "On a terminal: r rock, p paper, s scissors (1 scissors, 2 rock, 3 paper), n a new\n"
            "opponent after a match, q quits. From a script: moves as words on stdin\n"
            "(rock paper scissors, r p s, 1 2 3), one line per round, a summary at the end.\n"
            "  -n, --name NAME  play as NAME (1 to 32 of A-Z a-z 0-9 _ -); without it, a guest.\n"
            "                   The first run registers NAME on this server and keeps its secret\n"
            "                   in $XDG_CONFIG_HOME/arcade/ (~/.config/arcade/); later runs log in\n"
            "                   with it, and after a drop the match goes on where it was\n"
            "  --pvp            queue for a match against a person (needs --name)\n"
            "  --move-timeout S the server's move window, for the countdown (default 30)\n"
            "  --retry-for S    after a drop, reconnect for S seconds without success, then\n"
            "                   give up (default 60)\n%s"
            "exit status: 0 done, 1 name refused (or its secret cannot be kept, or another\n"
            "             login took the session over), 2 bad usage or bad move word, 3 could\n"
            "             not connect or log in within --timeout, could not reconnect within\n"
            "             --retry-for, or nobody to play (scripts)\n",
            opts_common_help);
}

/* Parse argv into p. Returns -1 to go on, or an exit status. */
static int parse(struct player *p, int argc, char **argv)
{
    struct opts_parser op;
    char err[512] = "";
    const char *val, *name = NULL;
    int id, pvp = 0, status = -1;

    if (opts_conn_init(&p->conn, err, sizeof(err)) < 0) {
        status = OPTS_EXIT_USAGE;
    }
    opts_init(&op, play_specs, argc, argv, 1);
    while (status < 0 && (id = opts_next(&op, &val, err, sizeof(err))) != -1) {
        if (id == OPTS_HELP) {
            play_usage(stdout);
            return OPTS_EXIT_OK;
        }
        if (id == PLAYER_NAME) {
            name = val;
        } else if (id == PLAYER_PVP) {
            pvp = 1;
        } else if (id == PLAYER_MOVE_TIMEOUT_OPT) {
            status = opts_seconds(val, &p->move_timeout, err, sizeof(err)) < 0 ? OPTS_EXIT_USAGE : -1;
        } else if (id == PLAYER_RETRY_FOR_OPT) {
            status = opts_seconds(val, &p->retry_for, err, sizeof(err)) < 0 ? OPTS_EXIT_USAGE : -1;
        } else if (id == 0) {
            snprintf(err, sizeof(err), "unexpected argument '%s'", val);
            status = OPTS_EXIT_USAGE;
        } else if (id < 0 || opts_conn_apply(&p->conn, id, val, err, sizeof(err)) < 0) {
            status = OPTS_EXIT_USAGE;
        }
    }
    if (status < 0 && sess_init(&p->sess, name, pvp, err, sizeof(err)) < 0) {
        status = OPTS_EXIT_USAGE;
    }
    if (status >= 0) {
        fprintf(stderr, "arcade play: %s\n", err);
        play_usage(stderr);
    }
    return status;
}

/* A name is an account: log in with the secret kept for it, or register it if a secret can be
 * kept. Returns -1 to go on, or an exit status. */
static int load_account(struct player *p)
{
    char err[SECRETS_ERR_MAX], secret[WIRE_SECRET_LEN + 1];
    const struct opts_conn *c = &p->conn;
    const char *name = p->sess.name;
    int found = 0;

    if (name[0] == '\0') {
        return -1;
    }
    if (secrets_path(c->host, c->port, name, p->secret_path, sizeof(p->secret_path), err, sizeof(err)) < 0 ||
        (found = secrets_load(c->host, c->port, name, secret, err, sizeof(err))) < 0 ||
        (found == 0 && secrets_ready(err, sizeof(err)) < 0)) {
        fprintf(stderr, "arcade: %s\n", err);
        return OPTS_EXIT_SERVER;
    }
    if (found) {
        sess_set_secret(&p->sess, secret);
    }
    return -1;
}

static void setup(struct player *p)
{
    p->loop = ev_default_loop(0);
    p->fd = -1;
    p->backoff = PLAYER_BACKOFF_MIN;
    dial_label(p->conn.host, p->conn.port, p->label, sizeof(p->label));
    words_reader_init(&p->reader);
    signal(SIGPIPE, SIG_IGN);

    ev_io_init(&p->sock_r, sock_cb, -1, EV_READ);
    ev_io_init(&p->sock_w, sock_w_cb, -1, EV_WRITE);
    ev_timer_init(&p->connect_t, connect_timeout_cb, 0., 0.);
    ev_timer_init(&p->login_t, login_timeout_cb, 0., 0.);
    ev_timer_init(&p->retry_t, retry_cb, 0., 0.);
    ev_io_init(&p->keys, keys_cb, STDIN_FILENO, EV_READ);
    ev_io_start(p->loop, &p->keys);
    watch_signal(p, &p->sig_int, signal_cb, SIGINT);
    watch_signal(p, &p->sig_term, signal_cb, SIGTERM);
    watch_signal(p, &p->sig_hup, signal_cb, SIGHUP);
    if (p->tty) {
        watch_signal(p, &p->sig_tstp, suspend_cb, SIGTSTP);
        watch_signal(p, &p->sig_cont, resume_cb, SIGCONT);
        ev_timer_init(&p->tick, tick_cb, 1., 1.);
        ev_timer_start(p->loop, &p->tick);
    }
}

int player_main(int argc, char **argv)
{
    static struct player player;
    struct player *p = &player;

    p->move_timeout = PLAYER_MOVE_TIMEOUT;
    p->retry_for = PLAYER_RETRY_FOR;
    p->status = -1;
    int status = parse(p, argc, argv);
    if (status < 0) {
        status = load_account(p);
    }
    if (status >= 0) {
        return status;
    }
    p->tty = isatty(STDIN_FILENO) && screen_raw(STDIN_FILENO) == 0;
    screen_init(&p->scr, stdout, screen_colour(STDOUT_FILENO), screen_fancy(STDOUT_FILENO));
    setup(p);
    if (p->tty) {
        char hello[400];
        snprintf(hello, sizeof(hello), "arcade: rock-paper-scissors on %.300s%s", p->label,
                 p->sess.pvp ? ", against people" : ", against the bot");
        say(p, SCREEN_NOTE, hello);
    }
    connect_begin(p);
    if (p->status < 0) {
        ev_run(p->loop, 0);
    }
    leave(p);
    close_link(p);
    if (p->tty) {
        screen_clear(&p->scr);
    }
    screen_restore();
    if (p->summary) {
        char line[100];
        report_summary(p->sess.wins, p->sess.losses, p->sess.draws, line, sizeof(line));
        printf("%s\n", line);
    }
    fflush(stdout);
    return p->status < 0 ? OPTS_EXIT_OK : p->status;
}
