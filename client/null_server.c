/*
 * arcade-null: the baseline `make bench` holds arcaded against. It answers arcade's loads
 * with constants and no game, no database, no parsing beyond this:
 *
 *   TCP, first byte '1'..'3'  long: one 'x' per move byte ('1'..'3') received, others ignored
 *   TCP, first byte 'H'       named: the frames of a player against a player, each answered
 *                             with what arcaded would answer in a match that never ends:
 *                             H<len><name> -> A<len><name>, P -> V\x04null (matched at once),
 *                             a move m -> M<m>x (the opponent played the same: a draw, so the
 *                             result still follows the rules), L -> B; others ignored
 *   TCP, any other first byte short: one "d144\n" per '\n' received, and one at the client's
 *                             half-close when a request was left without its '\n'
 *   UDP, same port            one datagram "d144\n" per datagram
 *
 * It does what arcaded must do for the same bytes, in the same shape: one thread, one epoll,
 * non-blocking sockets, each reply appended to its connection's output buffer and written
 * once per loop iteration, never before its request was read. A connection whose unread
 * output is full is not read until it drains, so every buffer is bounded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define NULL_OUT_CAP 4096           /* unwritten replies per connection */
#define NULL_EVENTS 256
#define NULL_ACCEPTS_PER_EVENT 64   /* as arcaded: one busy listener cannot starve the rest */
#define NULL_DATAGRAMS_PER_EVENT 64
#define NULL_PAUSE_MS 100           /* accepts pause this long when out of descriptors */

static const char ANSWER[] = "d144\n";
#define ANSWER_LEN (sizeof(ANSWER) - 1)
static const char MATCHED[] = "V\x04null";
#define MATCHED_LEN (sizeof(MATCHED) - 1)
#define NAME_MAX_LEN 32             /* a hello's name, as arcaded takes it */
#define HELLO_MAX (2 + NAME_MAX_LEN)

enum kind {
    KIND_NEW,       /* no byte yet: the first one decides */
    KIND_LONG,
    KIND_NAMED,
    KIND_SHORT,
};

struct nconn {
    int fd;
    enum kind kind;
    int partial;            /* short: bytes of a request whose '\n' has not come yet */
    size_t hello_len;       /* named: bytes of a hello read so far (0: none under way) */
    char hello[HELLO_MAX];  /* named: the hello under way, answered with its own bytes */
    int eof;                /* the client half-closed: close once out is written */
    int reading;            /* EPOLLIN is on (off while out is too full to answer more) */
    int writing;            /* EPOLLOUT is on (after a write met EAGAIN) */
    int dirty;              /* on the flush list */
    struct nconn *dirty_next;
    size_t outlen;
    char out[NULL_OUT_CAP];
};

struct nserver {
    int ep;
    int tcp_fd;
    int udp_fd;
    int accepting;          /* the listener is in the epoll set */
    struct nconn *dirty;    /* connections to write this iteration */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int watch(struct nserver *s, struct nconn *c)
{
    struct epoll_event ev = {
        .events = (c->reading ? EPOLLIN : 0u) | (c->writing ? EPOLLOUT : 0u),
        .data.ptr = c,
    };
    return epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_free(struct nserver *s, struct nconn *c)
{
    epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

static void mark_dirty(struct nserver *s, struct nconn *c)
{
    if (!c->dirty) {
        c->dirty = 1;
        c->dirty_next = s->dirty;
        s->dirty = c;
    }
}

/* How many input bytes can be read and still be answered within out. A named connection's byte
 * is answered with at most MATCHED_LEN bytes, except the last byte of a hello begun in an earlier
 * read, which gives back the whole hello; before the first byte, any kind may come. */
static size_t read_budget(const struct nconn *c)
{
    size_t room = NULL_OUT_CAP - c->outlen;
    if (c->kind == KIND_NAMED || c->kind == KIND_NEW) {
        return room > HELLO_MAX ? (room - HELLO_MAX) / MATCHED_LEN : 0;
    }
    return c->kind == KIND_LONG ? room : room / ANSWER_LEN;
}

static void put(struct nconn *c, const char *p, size_t n)
{
    memcpy(c->out + c->outlen, p, n);
    c->outlen += n;
}

/* One byte of a named connection. */
static void named_byte(struct nconn *c, char b)
{
    if (c->hello_len > 0) {
        c->hello[c->hello_len++] = b;
        unsigned char len = (unsigned char)c->hello[1];
        if (c->hello_len == 2 && (len == 0 || len > NAME_MAX_LEN)) {
            c->hello_len = 0;   /* arcaded refuses it: not a load this server measures */
        } else if (c->hello_len > 2 && c->hello_len == 2u + len) {
            c->hello[0] = 'A';
            put(c, c->hello, c->hello_len);
            c->hello_len = 0;
        }
    } else if (b == 'H') {
        c->hello[c->hello_len++] = b;
    } else if (b == 'P') {
        put(c, MATCHED, MATCHED_LEN);
    } else if (b >= '1' && b <= '3') {
        char result[] = { 'M', b, 'x' };
        put(c, result, sizeof(result));
    } else if (b == 'L') {
        put(c, "B", 1);
    }
}

static enum kind first_kind(char b)
{
    if (b >= '1' && b <= '3') {
        return KIND_LONG;
    }
    return b == 'H' ? KIND_NAMED : KIND_SHORT;
}

static void answer(struct nconn *c, const char *in, size_t n)
{
    if (c->kind == KIND_NEW && n > 0) {
        c->kind = first_kind(in[0]);
    }
    for (size_t i = 0; i < n; i++) {
        if (c->kind == KIND_NAMED) {
            named_byte(c, in[i]);
        } else if (c->kind == KIND_LONG && in[i] >= '1' && in[i] <= '3') {
            c->out[c->outlen++] = 'x';
        } else if (c->kind == KIND_SHORT && in[i] == '\n') {
            put(c, ANSWER, ANSWER_LEN);
            c->partial = 0;
        } else if (c->kind == KIND_SHORT) {
            c->partial = 1;
        }
    }
}

static void conn_readable(struct nserver *s, struct nconn *c)
{
    char in[NULL_OUT_CAP];
    size_t budget = read_budget(c);
    if (budget == 0) {
        c->reading = 0;     /* the flush turns reading back on once out drains */
        watch(s, c);
        mark_dirty(s, c);
        return;
    }
    ssize_t n = read(c->fd, in, budget);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n < 0) {
        conn_free(s, c);
        return;
    }
    if (n == 0) {
        c->eof = 1;
        c->reading = 0;
        if (c->kind == KIND_SHORT && c->partial && c->outlen + ANSWER_LEN <= NULL_OUT_CAP) {
            answer(c, "\n", 1);
        }
        watch(s, c);
    } else {
        answer(c, in, (size_t)n);
    }
    mark_dirty(s, c);
}

/* Write what is queued. Returns 0, or -1 when the connection was freed. */
static int conn_flush(struct nserver *s, struct nconn *c)
{
    while (c->outlen > 0) {
        ssize_t n = write(c->fd, c->out, c->outlen);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            break;
        }
        if (n < 0) {
            conn_free(s, c);
            return -1;
        }
        memmove(c->out, c->out + n, c->outlen - (size_t)n);
        c->outlen -= (size_t)n;
    }
    if (c->eof && c->outlen == 0) {
        conn_free(s, c);
        return -1;
    }
    int writing = c->outlen > 0;
    int reading = !c->eof && read_budget(c) > 0;
    if (writing != c->writing || reading != c->reading) {
        c->writing = writing;
        c->reading = reading;
        watch(s, c);
    }
    return 0;
}

static void flush_all(struct nserver *s)
{
    struct nconn *c;
    while ((c = s->dirty) != NULL) {
        s->dirty = c->dirty_next;
        c->dirty = 0;
        conn_flush(s, c);
    }
}

static void listener_pause(struct nserver *s)
{
    if (s->accepting) {
        epoll_ctl(s->ep, EPOLL_CTL_DEL, s->tcp_fd, NULL);
        s->accepting = 0;
    }
}

static void listener_resume(struct nserver *s)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->tcp_fd };
    if (!s->accepting && epoll_ctl(s->ep, EPOLL_CTL_ADD, s->tcp_fd, &ev) == 0) {
        s->accepting = 1;
    }
}

static void accept_some(struct nserver *s)
{
    int one = 1;
    for (int i = 0; i < NULL_ACCEPTS_PER_EVENT; i++) {
        int fd = accept4(s->tcp_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EINTR || errno == ECONNABORTED)) {
            continue;
        }
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                listener_pause(s);
            }
            return;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct nconn *c = calloc(1, sizeof(*c));
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        if (c == NULL || epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            free(c);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->reading = 1;
    }
}

static void udp_some(struct nserver *s)
{
    char in[2048];
    for (int i = 0; i < NULL_DATAGRAMS_PER_EVENT; i++) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof(from);
        ssize_t n = recvfrom(s->udp_fd, in, sizeof(in), 0, (struct sockaddr *)&from, &fromlen);
        if (n < 0) {
            return;
        }
        sendto(s->udp_fd, ANSWER, ANSWER_LEN, MSG_DONTWAIT, (struct sockaddr *)&from, fromlen);
    }
}

static int open_socket(int type, int port, int *bound, char *err, size_t errlen)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    int one = 1;
    int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || (type == SOCK_STREAM && listen(fd, 1024) < 0) ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        snprintf(err, errlen, "port %d: %s", port, strerror(errno));
        close(fd);
        return -1;
    }
    *bound = ntohs(sa.sin_port);
    return fd;
}

/* TCP first (port 0 picks one), then UDP on the same number; retried when that UDP port is
 * taken, since only the TCP pick was free. */
static int open_sockets(struct nserver *s, int port, char *err, size_t errlen)
{
    for (int attempt = 0; attempt < 20; attempt++) {
        int bound;
        s->tcp_fd = open_socket(SOCK_STREAM, port, &bound, err, errlen);
        if (s->tcp_fd < 0) {
            return -1;
        }
        s->udp_fd = open_socket(SOCK_DGRAM, bound, &bound, err, errlen);
        if (s->udp_fd >= 0) {
            return bound;
        }
        close(s->tcp_fd);
        if (port != 0) {
            return -1;
        }
    }
    return -1;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int parse_port(int argc, char **argv)
{
    int port = 5000;
    for (int i = 1; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--port") != 0 || i + 1 == argc) {
            return -1;
        }
        long v = strtol(argv[++i], &end, 10);
        if (end == argv[i] || *end != '\0' || v < 0 || v > 65535) {
            return -1;
        }
        port = (int)v;
    }
    return port;
}

static void run(struct nserver *s)
{
    struct epoll_event evs[NULL_EVENTS];
    while (!stop) {
        int n = epoll_wait(s->ep, evs, NULL_EVENTS, s->accepting ? -1 : NULL_PAUSE_MS);
        if (n < 0 && errno != EINTR) {
            perror("arcade-null: epoll_wait");
            return;
        }
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &s->tcp_fd) {
                accept_some(s);
            } else if (p == &s->udp_fd) {
                udp_some(s);
            } else if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR) && ((struct nconn *)p)->reading) {
                conn_readable(s, p);
            } else {
                mark_dirty(s, p);   /* EPOLLOUT: the flush below writes */
            }
        }
        flush_all(s);
        if (n == 0 && !s->accepting) {
            listener_resume(s);
        }
    }
}

int main(int argc, char **argv)
{
    struct nserver s = { .ep = -1 };
    char err[128];
    int port = parse_port(argc, argv);
    if (port < 0) {
        fprintf(stderr, "usage: arcade-null [--port N]  (N 0 picks a free port)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    raise_fd_limit();
    int bound = open_sockets(&s, port, err, sizeof(err));
    s.ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s.udp_fd };
    if (bound < 0 || s.ep < 0 || epoll_ctl(s.ep, EPOLL_CTL_ADD, s.udp_fd, &ev) < 0) {
        fprintf(stderr, "arcade-null: cannot listen: %s\n", bound < 0 ? err : strerror(errno));
        return 1;
    }
    listener_resume(&s);
    fprintf(stderr, "arcade-null: listening on 127.0.0.1:%d\n", bound);
    fflush(stderr);
    run(&s);
    return 0;
}
