/*
 * bench: arcade's load generator.
 *
 *   main thread   parse, probe the server, start the workers, print progress once a
 *                 second, (hold: open, hold, second round), join, merge, one summary line
 *   worker t      its own epoll and its share of the connections (connection i goes to
 *                 worker i % T): readable -> check each answer against what was sent ->
 *                 record its latency -> send the next request or move
 *
 * Nothing is shared on the hot path: a worker owns its connections, counters and histogram.
 * The main thread only reads relaxed copies of the counters (for the progress line) and
 * merges the histograms after joining the workers.
 *
 * A connection keeps a FIFO of what it has in flight (the move it played, when it was sent),
 * since answers come back in order: that is how a pipelined answer is matched to its move and
 * how a missing one is noticed (nothing back within the timeout).
 *
 * pvp ends by leaving: at the deadline every connection sends L and closes at its B. A move
 * still on its way then is resolved, forfeited, or played against the bot, and the server tells
 * its player which before the B; so when every B is in, the run has been told of every round
 * stored in its players' names, which the check (bench_check) then reads back.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "httpget.h"
#include "rps.h"

#define NS_PER_SEC 1000000000ull
#define NS_PER_MS 1000000ull
#define TCP_TIMEOUT_NS (5 * NS_PER_SEC)     /* a TCP answer later than this counts as missing */
#define UDP_TIMEOUT_NS (1 * NS_PER_SEC)     /* a datagram unanswered after 1 s is lost */
#define HOLD_TIMEOUT_NS (30 * NS_PER_SEC)   /* a hold round: thousands of moves arrive at once */
#define SCAN_NS (100 * NS_PER_MS)           /* timeouts and reopening are checked this often */
#define PROBE_MS 2000
#define IN_CAP 512                          /* holds any frame (at most 257 bytes) and more */
#define EVENTS_MAX 256
#define HOLD_OPENING 64                     /* per worker: hold connections opening at once */
#define SOURCES 64                          /* short: loopback source addresses taken in turn */

#define DEFAULT_PORT 5000
#define DEFAULT_CONNS 50
#define DEFAULT_SECS 10.0
#define HOLD_CONNS 10000
#define HOLD_SECS 60.0
#define CONNS_MAX 1000000
#define THREADS_MAX 256
#define DEPTH_MAX 1024
#define API_BODY_MAX 16384                  /* a player's JSON: totals and 100 ratings */

static const char SHORT_REQUEST[] = "a12\n";
static const char UDP_REQUEST[] = "a12";
static const char SHORT_ANSWER[] = "d144\n";
#define SHORT_ANSWER_LEN (sizeof(SHORT_ANSWER) - 1)

/* ---- histogram ---- */

static unsigned hist_index(uint64_t v)
{
    unsigned shift = 0;
    if (v >= BENCH_HIST_SUB) {
        unsigned msb = 63u - (unsigned)__builtin_clzll(v);
        shift = msb - BENCH_HIST_SUB_BITS;
    }
    if (shift > BENCH_HIST_MAX_SHIFT) {
        return BENCH_HIST_BUCKETS - 1;
    }
    return BENCH_HIST_SUB * shift + (unsigned)(v >> shift);
}

/* The highest value that lands in bucket i. */
static uint64_t hist_bucket_top(unsigned i)
{
    if (i < 2 * BENCH_HIST_SUB) {
        return i;
    }
    unsigned shift = i / BENCH_HIST_SUB - 1;
    uint64_t mantissa = i - BENCH_HIST_SUB * shift;
    return ((mantissa + 1) << shift) - 1;
}

void bench_hist_init(struct bench_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

void bench_hist_record(struct bench_hist *h, uint64_t value)
{
    h->counts[hist_index(value)]++;
    h->count++;
    if (value < h->min) {
        h->min = value;
    }
    if (value > h->max) {
        h->max = value;
    }
}

void bench_hist_merge(struct bench_hist *into, const struct bench_hist *from)
{
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
        into->counts[i] += from->counts[i];
    }
    into->count += from->count;
    if (from->min < into->min) {
        into->min = from->min;
    }
    if (from->max > into->max) {
        into->max = from->max;
    }
}

uint64_t bench_hist_percentile(const struct bench_hist *h, double pct)
{
    if (h->count == 0) {
        return 0;
    }
    double want = pct * (double)h->count / 100.0;    /* exact for whole percents */
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want) {
        rank++;
    }
    if (rank < 1) {
        rank = 1;
    }
    uint64_t seen = 0;
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank && i == BENCH_HIST_BUCKETS - 1) {
            return h->max;      /* the last bucket also holds every larger value */
        }
        if (seen >= rank) {
            uint64_t top = hist_bucket_top(i);
            return top > h->max ? h->max : (top < h->min ? h->min : top);
        }
    }
    return h->max;
}

/* ---- options ---- */

static const char *const LOAD_NAMES[] = {
    [BENCH_SHORT] = "short",
    [BENCH_LONG] = "long",
    [BENCH_UDP] = "udp",
    [BENCH_HOLD] = "hold",
    [BENCH_PVP] = "pvp",
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: arcade bench LOAD [options]\n"
            "  short  connect, send a12, check d144, close, repeat\n"
            "  long   persistent rock-paper-scissors connections, -p moves in flight each\n"
            "  udp    datagrams a12 -> d144, -c in flight; no answer within 1 s is an error\n"
            "  hold   open -c long connections, play a round, hold them -d seconds, play again\n"
            "  pvp    -c pairs of new named players play each other as fast as both answer;\n"
            "         then the rated rounds the server stored are checked against the results\n"
            "options:\n"
            "  -c N         connections (udp: datagrams in flight; pvp: pairs; default 50,\n"
            "               hold 10000)\n"
            "  -d SECS      duration (default 10; hold: how long to hold, default 60)\n"
            "  -t N         worker threads (default: the number of cores)\n"
            "  -p N         long: moves in flight per connection (default 1)\n"
            "  --anonymous  long, hold: play as guests, no hello\n"
            "  --host H     server address (default 127.0.0.1, or $ARCADE_HOST)\n"
            "  --port P     server port (default 5000, or $ARCADE_PORT)\n"
            "  --timeout S  seconds a connection or an answer may take before it counts as an\n"
            "               error (default 5; udp 1, hold 30), and the wait for the first one\n"
            "  -h, --help   show this help\n"
            "Prints one summary line, what its errors were (refused, closed, error answers,\n"
            "missing, interrupted), and on stderr what they say about the server's limits.\n"
            "pvp reports rated rounds a second as ops/s, and reads each player's rounds back\n"
            "from the server's JSON API on the same port (GET /api/players/NAME): a count\n"
            "that differs from the results received is an error.\n"
            "exit status: 0 no error, 1 errors, 2 bad usage, 3 cannot connect\n");
}

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int parse_int(const char *opt, const char *s, long min, long max, int *out, char *err,
                     size_t errlen)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        return bad(err, errlen, "%s wants a whole number from %ld to %ld, not '%s'", opt, min, max, s);
    }
    *out = (int)v;
    return 0;
}

static int parse_secs(const char *opt, const char *s, double *out, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v > 0.0) || v > 86400.0) {
        return bad(err, errlen, "%s wants seconds above 0 and at most 86400, not '%s'", opt, s);
    }
    *out = v;
    return 0;
}

static int parse_load(const char *s, enum bench_load *load)
{
    for (size_t i = 0; i < sizeof(LOAD_NAMES) / sizeof(LOAD_NAMES[0]); i++) {
        if (strcmp(s, LOAD_NAMES[i]) == 0) {
            *load = (enum bench_load)i;
            return 0;
        }
    }
    return -1;
}

static void defaults(struct bench_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->conns = -1;
    o->secs = -1.0;
    o->depth = -1;
    o->timeout = -1.0;
    o->port = DEFAULT_PORT;
    snprintf(o->host, sizeof(o->host), "127.0.0.1");
    const char *host = getenv("ARCADE_HOST");
    if (host != NULL && host[0] != '\0' && strlen(host) <= BENCH_HOST_MAX) {
        snprintf(o->host, sizeof(o->host), "%s", host);
    }
    const char *port = getenv("ARCADE_PORT");
    if (port != NULL && atoi(port) > 0 && atoi(port) < 65536) {
        o->port = atoi(port);
    }
}

/* The connections (or datagrams in flight) the load opens: pvp's -c counts pairs. */
static int connections(const struct bench_opts *o)
{
    return o->load == BENCH_PVP ? 2 * o->conns : o->conns;
}

/* What the load implies once every option is known. */
static int settle(struct bench_opts *o, char *err, size_t errlen)
{
    if (o->depth > 0 && o->load != BENCH_LONG) {
        return bad(err, errlen, "-p is for the long load only");
    }
    if (o->anonymous && o->load != BENCH_LONG && o->load != BENCH_HOLD) {
        return bad(err, errlen, "--anonymous is for the long and hold loads only");
    }
    if (o->conns < 0) {
        o->conns = o->load == BENCH_HOLD ? HOLD_CONNS : DEFAULT_CONNS;
    }
    if (o->secs < 0.0) {
        o->secs = o->load == BENCH_HOLD ? HOLD_SECS : DEFAULT_SECS;
    }
    if (o->depth < 0) {
        o->depth = 1;
    }
    if (o->threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        o->threads = n > 0 ? (int)(n < THREADS_MAX ? n : THREADS_MAX) : 1;
    }
    if (o->threads > connections(o)) {
        o->threads = connections(o);
    }
    return 0;
}

static int parse_option(int opt, const char *arg, const char *word, struct bench_opts *o, char *err,
                        size_t errlen)
{
    switch (opt) {
    case 'c':
        return parse_int("-c", arg, 1, CONNS_MAX, &o->conns, err, errlen);
    case 'd':
        return parse_secs("-d", arg, &o->secs, err, errlen);
    case 'T':
        return parse_secs("--timeout", arg, &o->timeout, err, errlen);
    case 't':
        return parse_int("-t", arg, 1, THREADS_MAX, &o->threads, err, errlen);
    case 'p':
        return parse_int("-p", arg, 1, DEPTH_MAX, &o->depth, err, errlen);
    case 'P':
        return parse_int("--port", arg, 1, 65535, &o->port, err, errlen);
    case 'a':
        o->anonymous = 1;
        return 0;
    case 'H':
        if (arg[0] == '\0' || strlen(arg) > BENCH_HOST_MAX) {
            return bad(err, errlen, "--host wants a name or address of 1 to %d bytes", BENCH_HOST_MAX);
        }
        snprintf(o->host, sizeof(o->host), "%s", arg);
        return 0;
    case ':':
        return bad(err, errlen, "%s wants a value", word);
    default:
        return bad(err, errlen, "unknown option %s", word);
    }
}

int bench_parse(int argc, char **argv, struct bench_opts *o, char *err, size_t errlen)
{
    static const struct option longopts[] = {
        { "host", required_argument, NULL, 'H' },
        { "port", required_argument, NULL, 'P' },
        { "anonymous", no_argument, NULL, 'a' },
        { "timeout", required_argument, NULL, 'T' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    defaults(o);
    optind = 0;     /* glibc: start afresh, the caller may have parsed its own options */
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":c:d:t:p:h", longopts, NULL)) != -1) {
        if (opt == 'h') {
            return 1;
        }
        const char *word = argv[optind - 1];
        if (opt == '?' && optopt != 0) {
            return bad(err, errlen, "unknown option -%c", optopt);
        }
        if (parse_option(opt, optarg, word, o, err, errlen) < 0) {
            return -1;
        }
    }
    if (optind >= argc) {
        return bad(err, errlen, "which load? short, long, udp, hold or pvp");
    }
    if (parse_load(argv[optind], &o->load) < 0) {
        return bad(err, errlen, "unknown load '%s' (short, long, udp, hold or pvp)", argv[optind]);
    }
    if (optind + 1 < argc) {
        return bad(err, errlen, "unexpected argument '%s'", argv[optind + 1]);
    }
    return settle(o, err, errlen);
}

/* ---- workers ---- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Player i of a pvp run (0 to 2 PAIRS - 1): new names for each run, so that its rounds can be read
 * back on their own. */
static int pvp_player(char *name, size_t cap, const char *run, unsigned i)
{
    return snprintf(name, cap, "bp%s-%u", run, i);
}

static void new_run_id(char *run, size_t cap)
{
    uint32_t v;
    if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v)) {
        v = (uint32_t)(now_ns() ^ ((uint64_t)getpid() << 16));
    }
    snprintf(run, cap, "%08x", (unsigned)v);
}

enum cstate {
    CS_CLOSED,      /* no socket: the next scan reopens it unless the run is ending */
    CS_CONNECTING,  /* connect() in progress */
    CS_HELLO,       /* hello sent, waiting for its A */
    CS_QUEUED,      /* pvp: P sent, waiting for a match */
    CS_RUN,         /* requests or moves in flight (pvp: in a match) */
    CS_LEAVING,     /* pvp: L sent at the end, waiting for its B */
    CS_HELD,        /* hold: round 1 answered, idle until round 2 */
    CS_DONE,        /* finished for good */
};

struct bconn {
    int fd;                 /* -1 when closed */
    enum cstate state;
    uint32_t gen;           /* bumped at every open, so a stale epoll event is ignored */
    unsigned index;         /* within its worker; names it and tags its epoll events */
    uint64_t since;         /* ns: when connect() started (pvp leaving: when L was sent) */
    unsigned head;          /* FIFO of requests in flight: oldest at head, ring of depth */
    unsigned count;
    unsigned char *moves;   /* my move of each round in flight */
    uint64_t *sent;         /* when each request in flight was sent */
    char *out;              /* bytes send() has not taken yet (depth + a hello) */
    size_t outlen;
    size_t inlen;           /* answer bytes not yet checked */
    int rounds;             /* hold: rounds answered */
    int in_match;           /* pvp: between V and the match's end, so a result is a rated one */
    char in[IN_CAP];
};

struct ctx;

struct worker {
    struct ctx *ctx;
    int id;
    pthread_t tid;
    int epfd;
    struct bconn *conns;
    unsigned nconns;
    unsigned open;          /* connections with a socket */
    unsigned depth;         /* FIFO size of every connection */
    size_t outcap;          /* room in each connection's out */
    unsigned source;        /* short: the next loopback source address */
    uint64_t rng;           /* xorshift state for moves */
    int draining;           /* past the deadline: no new request, close when idle */
    unsigned hold_next;     /* hold: next connection to open */
    unsigned hold_opening;  /* hold: connections between connect() and their round 1 */
    unsigned hold_settled;  /* hold: connections done with round 1, right or wrong */
    int hold_reported;      /* hold: ctx->settled counted this worker */
    int hold_round2;        /* hold: round 2 moves sent */
    uint64_t ops;           /* pvp: results of rated rounds, two a round */
    uint64_t errors;
    uint64_t refused;       /* connections refused with ebusy */
    uint64_t closed;        /* connections the server closed */
    uint64_t error_answers; /* requests answered with an error */
    uint64_t missing;       /* answers or connections that did not come in time */
    uint64_t interrupted;   /* pvp: T, G, F or Q before the deadline */
    uint64_t bot;           /* pvp: results of moves played against the bot */
    uint64_t opened;
    uint64_t held;
    uint64_t last_ok;       /* ns of the last right answer */
    _Atomic uint64_t pub_ops;       /* relaxed copies for the progress line */
    _Atomic uint64_t pub_errors;
    _Atomic uint64_t pub_opened;
    char first_error[BENCH_ERR_MAX];
    struct bench_hist hist;
};

struct load {
    int sock_type;
    uint64_t timeout;                                           /* answer timeout, ns */
    void (*start)(struct worker *w, struct bconn *c, uint64_t now);   /* connected */
    void (*readable)(struct worker *w, struct bconn *c);
    void (*answer)(struct worker *w, struct bconn *c);          /* streams: bytes in c->in */
    void (*drain)(struct worker *w, uint64_t now);              /* the deadline passed (NULL: nothing) */
};

struct ctx {
    const struct bench_opts *o;
    const struct load *load;
    uint64_t timeout;       /* ns: --timeout, or the load's own */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int spread;             /* short on IPv4 loopback: bind sources across 127.0.0.0/8 */
    const char *run;        /* pvp: the run's id, in its players' names */
    uint64_t start;
    uint64_t deadline;
    _Atomic int phase;      /* hold: 0 open and play round 1, 1 hold, 2 play round 2 */
    _Atomic int settled;    /* hold: workers whose connections are all past round 1 */
    _Atomic int finished;   /* workers that are done */
};

/* Count n errors; the first one's reason goes to first unless one is there already. */
static void count_errors(uint64_t *errors, char *first, size_t cap, uint64_t n, const char *fmt, va_list ap)
{
    *errors += n;
    if (first[0] == '\0') {
        vsnprintf(first, cap, fmt, ap);
    }
}

static void fail(struct worker *w, uint64_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    count_errors(&w->errors, w->first_error, sizeof(w->first_error), n, fmt, ap);
    va_end(ap);
}

static int is_hold(const struct worker *w)
{
    return w->ctx->o->load == BENCH_HOLD;
}

static int random_move(struct worker *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return 1 + (int)((w->rng >> 32) % 3);
}

static void fifo_push(struct worker *w, struct bconn *c, int move, uint64_t now)
{
    unsigned tail = (c->head + c->count) % w->depth;
    c->moves[tail] = (unsigned char)move;
    c->sent[tail] = now;
    c->count++;
}

/* The oldest request is answered right: count it and its latency. */
static void answered(struct worker *w, struct bconn *c, uint64_t now)
{
    bench_hist_record(&w->hist, now - c->sent[c->head]);
    c->head = (c->head + 1) % w->depth;
    c->count--;
    w->ops++;
    w->last_ok = now;
}

/* A hold connection that will not play again still counts as settled for round 1. */
static void hold_settle(struct worker *w, struct bconn *c)
{
    if (c->state == CS_CONNECTING || c->state == CS_HELLO || (c->state == CS_RUN && c->rounds == 0)) {
        w->hold_opening--;
        w->hold_settled++;
    }
}

static void conn_close(struct worker *w, struct bconn *c)
{
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
        w->open--;
    }
    if (is_hold(w)) {
        hold_settle(w, c);
    }
    c->state = is_hold(w) ? CS_DONE : CS_CLOSED;
    c->count = 0;
    c->head = 0;
    c->outlen = 0;
    c->inlen = 0;
    c->in_match = 0;
}

/* Count what is in flight as missing, say why, close. */
static void conn_fail(struct worker *w, struct bconn *c, const char *fmt, ...)
{
    char why[BENCH_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    fail(w, c->count > 0 ? c->count : 1, "connection %d.%u: %s", w->id, c->index, why);
    conn_close(w, c);
}

/* The server's text error line at p (`e<reason>\n`, as a short connection gets it, and as any
 * connection gets `ebusy` when the server refuses it): count it by what it says and close. Returns
 * 0 while the line is incomplete, else -1 (the connection is closed). */
static long error_line(struct worker *w, struct bconn *c, const char *p, size_t left)
{
    const char *nl = memchr(p, '\n', left);
    if (nl == NULL && left < IN_CAP - 1) {
        return 0;
    }
    int len = nl != NULL ? (int)(nl - p - 1) : (int)left - 1;
    if (len == 4 && memcmp(p + 1, "busy", 4) == 0) {
        w->refused++;
        conn_fail(w, c, "refused by the server: ebusy");
        return -1;
    }
    w->error_answers++;
    conn_fail(w, c, "answered e%.*s", len, p + 1);
    return -1;
}

static int conn_flush(struct worker *w, struct bconn *c)
{
    while (c->outlen > 0) {
        ssize_t n = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return 0;   /* the EPOLLOUT edge brings us back */
        }
        if (n < 0) {
            conn_fail(w, c, "send: %s", strerror(errno));
            return -1;
        }
        memmove(c->out, c->out + n, c->outlen - (size_t)n);
        c->outlen -= (size_t)n;
    }
    return 0;
}

static int conn_send(struct worker *w, struct bconn *c, const void *buf, size_t len)
{
    if (c->outlen + len > w->outcap) {
        conn_fail(w, c, "%zu bytes not taken by send()", c->outlen);
        return -1;
    }
    memcpy(c->out + c->outlen, buf, len);
    c->outlen += len;
    return conn_flush(w, c);
}

/* A short connection is closed by the client, so each leaves a TIME_WAIT behind, and with a
 * single source address connect() soon spends most of its time in the kernel looking for a
 * free port (measured: 80% of the CPU at 15,000 connections/s). The loopback network is a
 * /8: taking source addresses in turn makes a free port easy to find, and the server still
 * sees ordinary connections closed with a FIN. The kernel picks the port at connect(). */
static void bind_source(struct worker *w, int fd)
{
    struct sockaddr_in src = { .sin_family = AF_INET };
    int one = 1;
    unsigned k = w->source++ % SOURCES;
    src.sin_addr.s_addr = htonl(INADDR_LOOPBACK + ((uint32_t)w->id % 64u << 8) + k);
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    bind(fd, (struct sockaddr *)&src, sizeof(src));
}

static int new_socket(struct worker *w, struct bconn *c)
{
    const struct ctx *x = w->ctx;
    int fd = socket(x->addr.ss_family, x->load->sock_type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    if (x->load->sock_type == SOCK_STREAM) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    if (x->spread) {
        bind_source(w, fd);
    }
    if (connect(fd, (const struct sockaddr *)&x->addr, x->addrlen) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    /* Streams are edge-triggered, so one registration serves connect, reads and writes;
     * datagrams are level-triggered and read one at a time. */
    struct epoll_event ev = {
        .events = x->load->sock_type == SOCK_STREAM ? EPOLLIN | EPOLLOUT | EPOLLET : EPOLLIN,
        .data.u64 = ((uint64_t)(c->gen + 1) << 32) | c->index,
    };
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void conn_open(struct worker *w, struct bconn *c, uint64_t now)
{
    int fd = new_socket(w, c);
    if (fd < 0) {
        fail(w, 1, "connection %d.%u: cannot open: %s", w->id, c->index, strerror(errno));
        c->state = is_hold(w) ? CS_DONE : CS_CLOSED;
        if (is_hold(w)) {
            w->hold_settled++;
        }
        return;
    }
    c->fd = fd;
    c->gen++;
    c->since = now;
    c->state = CS_CONNECTING;
    w->open++;
    if (is_hold(w)) {
        w->hold_opening++;
    }
    if (w->ctx->load->sock_type == SOCK_DGRAM) {
        w->ctx->load->start(w, c, now);
    }
}

/* The load is over for this worker: close what has nothing in flight. */
static void conn_idle_check(struct worker *w, struct bconn *c)
{
    if (w->draining && c->fd >= 0 && c->count == 0 && c->state != CS_CONNECTING) {
        conn_close(w, c);
    }
}

/* ---- short ---- */

static void short_start(struct worker *w, struct bconn *c, uint64_t now)
{
    c->state = CS_RUN;
    fifo_push(w, c, 0, now);
    conn_send(w, c, SHORT_REQUEST, sizeof(SHORT_REQUEST) - 1);
}

static void short_answer(struct worker *w, struct bconn *c)
{
    if (c->in[0] == 'e') {
        error_line(w, c, c->in, c->inlen);
        return;
    }
    size_t n = c->inlen < SHORT_ANSWER_LEN ? c->inlen : SHORT_ANSWER_LEN;
    if (c->count == 0 || memcmp(c->in, SHORT_ANSWER, n) != 0 || c->inlen > SHORT_ANSWER_LEN) {
        conn_fail(w, c, "short: answer '%.*s', want d144", (int)strcspn(c->in, "\n"), c->in);
        return;
    }
    if (c->inlen < SHORT_ANSWER_LEN) {
        return;
    }
    uint64_t now = now_ns();
    answered(w, c, now);
    conn_close(w, c);
    if (!w->draining) {
        conn_open(w, c, now);
    }
}

/* ---- long and hold ---- */

static void long_fill(struct worker *w, struct bconn *c, uint64_t now)
{
    char moves[DEPTH_MAX];
    size_t n = 0;
    while (c->count < w->depth) {
        int m = random_move(w);
        fifo_push(w, c, m, now);
        moves[n++] = (char)('0' + m);
    }
    if (n > 0) {
        conn_send(w, c, moves, n);
    }
}

/* A move of my own: hold plays one per round, long keeps the pipeline full. */
static void long_play(struct worker *w, struct bconn *c, uint64_t now)
{
    c->state = CS_RUN;
    if (!is_hold(w)) {
        if (!w->draining) {
            long_fill(w, c, now);
        }
        return;
    }
    int m = random_move(w);
    char b = (char)('0' + m);
    fifo_push(w, c, m, now);
    conn_send(w, c, &b, 1);
}

/* The name a connection says hello with: long and hold keep theirs from run to run, pvp's are
 * new to each run (its check reads back their rounds), numbered 0 to 2 PAIRS - 1 across the
 * workers as the connections are dealt out. */
static int conn_name(const struct worker *w, const struct bconn *c, char *name, size_t cap)
{
    const struct ctx *x = w->ctx;
    if (x->o->load == BENCH_PVP) {
        return pvp_player(name, cap, x->run, c->index * (unsigned)x->o->threads + (unsigned)w->id);
    }
    return snprintf(name, cap, "bench%dx%u", w->id, c->index);
}

static void send_hello(struct worker *w, struct bconn *c)
{
    char hello[RPS_NAME_MAX + 3];
    int len = conn_name(w, c, hello + 2, sizeof(hello) - 2);
    hello[0] = RPS_OP_HELLO;
    hello[1] = (char)len;
    c->state = CS_HELLO;
    conn_send(w, c, hello, (size_t)len + 2);
}

static void long_start(struct worker *w, struct bconn *c, uint64_t now)
{
    if (w->ctx->o->anonymous) {
        long_play(w, c, now);
        return;
    }
    send_hello(w, c);
}

/* The frame `op len text` at p, when complete: its length, or 0 for "need more". */
static size_t text_frame(const char *p, size_t left)
{
    if (left < 2) {
        return 0;
    }
    size_t len = 2 + (unsigned char)p[1];
    return left >= len ? len : 0;
}

/* The text frame p of len bytes accepts c's hello; if not, c is closed. Returns 0 or -1. */
static int hello_accepted(struct worker *w, struct bconn *c, const char *p, size_t len)
{
    char name[RPS_NAME_MAX + 1];
    int n = conn_name(w, c, name, sizeof(name));
    if (p[0] != RPS_OP_ACCEPTED || len != (size_t)n + 2 || memcmp(p + 2, name, (size_t)n) != 0) {
        conn_fail(w, c, "hello %s: answered '%c' '%.*s'", name, p[0], (int)len - 2, p + 2);
        return -1;
    }
    return 0;
}

/* Check the answer to a hello. Returns bytes used, 0 for more, -1 when the conn was closed. */
static long hello_frame(struct worker *w, struct bconn *c, const char *p, size_t left)
{
    if (p[0] == 'e') {
        return error_line(w, c, p, left);
    }
    size_t len = text_frame(p, left);
    if (len == 0) {
        return 0;
    }
    if (hello_accepted(w, c, p, len) < 0) {
        return -1;
    }
    long_play(w, c, now_ns());
    return c->fd >= 0 ? (long)len : -1;
}

/* A round is over for a hold connection: hold it, or close it after round 2. */
static void hold_round(struct worker *w, struct bconn *c)
{
    c->rounds++;
    if (c->rounds == 1) {
        c->state = CS_HELD;
        w->hold_opening--;
        w->hold_settled++;
        w->opened++;
        return;
    }
    w->held++;
    conn_close(w, c);
}

/* Check one answer to a move (named: M <bot move> <result>; guest: <result>). Returns bytes
 * used, 0 for more, -1 when the connection was closed. */
static long move_frame(struct worker *w, struct bconn *c, const char *p, size_t left)
{
    if (p[0] == 'e') {
        return error_line(w, c, p, left);
    }
    int named = !w->ctx->o->anonymous;
    size_t len = p[0] == RPS_OP_ERROR ? text_frame(p, left) : (named ? 3 : 1);
    if (left < len || len == 0) {
        return 0;
    }
    if (c->count == 0) {
        conn_fail(w, c, "answer '%c' to no move", p[0]);
        return -1;
    }
    int mine = c->moves[c->head];
    int result = named ? p[2] : p[0];
    int ok = named ? p[0] == RPS_OP_MOVE && p[1] >= '1' && p[1] <= '3' && rps_outcome(mine, p[1] - '0') == result
                   : result == RPS_DRAW || result == RPS_WIN || result == RPS_LOSS;
    if (p[0] == RPS_OP_ERROR) {
        w->error_answers++;
        fail(w, 1, "connection %d.%u: move %d: E %.*s", w->id, c->index, mine, (int)len - 2, p + 2);
        c->head = (c->head + 1) % w->depth;
        c->count--;
        return (long)len;
    }
    if (!ok) {
        conn_fail(w, c, "move %d: answered '%.*s'", mine, (int)len, p);
        return -1;
    }
    answered(w, c, now_ns());
    if (is_hold(w)) {
        hold_round(w, c);
    }
    return c->fd >= 0 ? (long)len : -1;
}

/* One frame at p, of left bytes: bytes used, 0 for more, -1 when the connection was closed. */
typedef long frame_reader(struct worker *w, struct bconn *c, const char *p, size_t left);

/* Read every complete frame in c->in, keeping the rest for later. Returns 0, or -1 when the
 * connection was closed. */
static int read_frames(struct worker *w, struct bconn *c, frame_reader *frame)
{
    size_t off = 0;
    while (off < c->inlen) {
        long used = frame(w, c, c->in + off, c->inlen - off);
        if (used < 0) {
            return -1;
        }
        if (used == 0) {
            break;
        }
        off += (size_t)used;
    }
    memmove(c->in, c->in + off, c->inlen - off);
    c->inlen -= off;
    return 0;
}

static long long_frame(struct worker *w, struct bconn *c, const char *p, size_t left)
{
    return c->state == CS_HELLO ? hello_frame(w, c, p, left) : move_frame(w, c, p, left);
}

static void long_answer(struct worker *w, struct bconn *c)
{
    if (read_frames(w, c, long_frame) < 0) {
        return;
    }
    if (c->state == CS_RUN && !w->draining && !is_hold(w)) {
        long_fill(w, c, now_ns());
    }
    conn_idle_check(w, c);
}

/* ---- pvp ---- */

static void pvp_start(struct worker *w, struct bconn *c, uint64_t now)
{
    (void)now;
    send_hello(w, c);
}

static void pvp_queue(struct worker *w, struct bconn *c)
{
    c->state = CS_QUEUED;
    char play = RPS_OP_PLAY;
    conn_send(w, c, &play, 1);
}

static void pvp_move(struct worker *w, struct bconn *c, uint64_t now)
{
    int m = random_move(w);
    char b = (char)('0' + m);
    fifo_push(w, c, m, now);
    conn_send(w, c, &b, 1);
}

/* In a match with nothing in flight, and the run going on: the next move. */
static void pvp_play_on(struct worker *w, struct bconn *c, uint64_t now)
{
    if (c->state == CS_RUN && c->in_match && c->count == 0) {
        pvp_move(w, c, now);
    }
}

static void pvp_drop_move(struct worker *w, struct bconn *c)
{
    c->head = (c->head + 1) % w->depth;
    c->count--;
}

/* T, G, F and Q end a round or a match early: at the end of the run, because the other side left;
 * before it, because something went wrong (a server that lets a round time out while both sides
 * answer at once, or an opponent whose connection failed). */
static void pvp_interrupted(struct worker *w, struct bconn *c, const char *p, size_t len, uint64_t now)
{
    if (now < w->ctx->deadline) {
        w->interrupted++;
        fail(w, 1, "connection %d.%u: '%.*s' before the end of the run", w->id, c->index, (int)len, p);
    }
}

typedef int pvp_handler(struct worker *w, struct bconn *c, const char *p, size_t len, uint64_t now);

static int pvp_accepted(struct worker *w, struct bconn *c, const char *p, size_t len, uint64_t now)
{
    (void)now;
    if (hello_accepted(w, c, p, len) < 0) {
        return -1;
    }
    if (c->state == CS_HELLO) {
        pvp_queue(w, c);
    }
    return 0;   /* leaving: the B to come says the rest */
}

static int pvp_refused(struct worker *w, struct bconn *c, const char *p, size_t len, uint64_t now)
{
    char name[RPS_NAME_MAX + 1];
    (void)now;
    conn_name(w, c, name, sizeof(name));
    w->error_answers++;
    conn_fail(w, c, "%c %.*s (to %s)", p[0], (int)len - 2, p + 2, name);
    return -1;
}

static int pvp_waiting(struct worker *w, struct bconn *c, const char *p, size_t len, uint64_t now)
{
    (void)w;
    (void)c;
    (void)p;
    (void)len;
    (void)now;
    return 0;
}

static int pvp_matched(struct worker *w, struct bconn *c, const char *p, size_t len, uint64_t now)
{
    (void)p;
    (void)len;
    c->in_match = 1;
    if (c->state == CS_QUEUED) {
        c->state = CS_RUN;
    }
    pvp_play_on(w, c, now);
    return 0;
}

/* M <their move> <my result>: in a match a rated round, else my move met the bot. */
static int pvp_result(struct worker *w, struct bconn *c, const char *p, size_t len, uint64_t now)
{
    if (c->count == 0) {
        conn_fail(w, c, "answer '%.*s' to no move", (int)len, p);
        return -1;
    }
    int mine = c->moves[c->head];
    if (p[1] < '1' || p[1] > '3' || rps_outcome(mine, p[1] - '0') != p[2]) {
        conn_fail(w, c, "move %d: answered '%.*s'", mine, (int)len, p);
        return -1;
    }
    if (c->in_match) {
        answered(w, c, now);
    } else {
        w->bot++;
        pvp_drop_move(w, c);
    }
    pvp_play_on(w, c, now);
    return 0;
}

/* T <code>: the round ended by its window or a leaving. y and z were stored (a forfeit, told to both
 * sides); y means my move was in. */
static int pvp_round_timeout(struct worker *w, struct bconn *c, const char *p, size_t len, uint64_t now)
{
    pvp_interrupted(w, c, p, len, now);
    if (p[1] == RPS_WIN || p[1] == RPS_LOSS) {
        w->ops++;
        w->last_ok = now;
    }
    if (p[1] == RPS_WIN && c->count > 0) {
        pvp_drop_move(w, c);
    }
    pvp_play_on(w, c, now);
    return 0;
}

/* G, F or Q: back in the lobby, so back in the queue while the run goes on. */
static int pvp_lobby(struct worker *w, struct bconn *c, const char *p, size_t len, uint64_t now)
{
    pvp_interrupted(w, c, p, len, now);
    c->in_match = 0;
    if (c->state == CS_RUN || c->state == CS_QUEUED) {
        pvp_queue(w, c);
    }
    return 0;
}

/* B, the answer to L: everything this connection sent has been dealt with and told. */
static int pvp_left(struct worker *w, struct bconn *c, const char *p, size_t len, uint64_t now)
{
    (void)p;
    (void)len;
    (void)now;
    if (c->state != CS_LEAVING) {
        conn_fail(w, c, "B without L");
        return -1;
    }
    conn_close(w, c);   /* a move still counted in flight was dropped by the leaving */
    return -1;
}

static const struct {
    char op;
    unsigned char len;      /* the frame's bytes; 0: op, a length byte and that many bytes */
    pvp_handler *on;        /* 0, or -1 when c was closed */
} PVP_FRAMES[] = {
    { RPS_OP_ACCEPTED, 0, pvp_accepted },
    { RPS_OP_REFUSED, 0, pvp_refused },
    { RPS_OP_ERROR, 0, pvp_refused },
    { RPS_OP_WAITING, 1, pvp_waiting },
    { RPS_OP_MATCHED, 0, pvp_matched },
    { RPS_OP_MOVE, 3, pvp_result },
    { RPS_OP_ROUND_TIMEOUT, 2, pvp_round_timeout },
    { RPS_OP_GONE, 1, pvp_lobby },
    { RPS_OP_MATCH_OVER, 2, pvp_lobby },
    { RPS_OP_QUEUE_TIMEOUT, 1, pvp_lobby },
    { RPS_OP_LOBBY, 1, pvp_left },
};

/* One frame from the server. Returns bytes used, 0 for more, -1 when the connection was closed. */
static long pvp_frame(struct worker *w, struct bconn *c, const char *p, size_t left)
{
    if (p[0] == 'e') {
        return error_line(w, c, p, left);
    }
    for (size_t i = 0; i < sizeof(PVP_FRAMES) / sizeof(PVP_FRAMES[0]); i++) {
        if (PVP_FRAMES[i].op != p[0]) {
            continue;
        }
        size_t len = PVP_FRAMES[i].len > 0 ? PVP_FRAMES[i].len : text_frame(p, left);
        if (len == 0 || left < len) {
            return 0;
        }
        return PVP_FRAMES[i].on(w, c, p, len, now_ns()) < 0 || c->fd < 0 ? -1 : (long)len;
    }
    conn_fail(w, c, "unexpected frame '%c' (byte %d)", p[0], (unsigned char)p[0]);
    return -1;
}

static void pvp_answer(struct worker *w, struct bconn *c)
{
    read_frames(w, c, pvp_frame);
}

/* The end of the run: every connection leaves, and closes once its B is in. */
static void pvp_drain(struct worker *w, uint64_t now)
{
    char leave = RPS_OP_LEAVE;
    for (unsigned i = 0; i < w->nconns; i++) {
        struct bconn *c = &w->conns[i];
        if (c->state == CS_CONNECTING) {
            conn_close(w, c);   /* sent nothing: nothing to tell */
        } else if (c->fd >= 0 && c->state != CS_LEAVING) {
            c->state = CS_LEAVING;
            c->since = now;
            conn_send(w, c, &leave, 1);
        }
    }
}

/* ---- reading ---- */

static void stream_readable(struct worker *w, struct bconn *c)
{
    uint32_t gen = c->gen;
    for (;;) {
        size_t room = IN_CAP - 1 - c->inlen;
        ssize_t n = recv(c->fd, c->in + c->inlen, room, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return;
        }
        if (n <= 0) {
            w->closed++;
            conn_fail(w, c, "%s with %u answers missing", n == 0 ? "closed by the server" : strerror(errno),
                      c->count);
            return;
        }
        c->inlen += (size_t)n;
        c->in[c->inlen] = '\0';
        w->ctx->load->answer(w, c);
        /* Edge-triggered: a short read means the socket is drained for now. */
        if (c->gen != gen || c->fd < 0 || (size_t)n < room) {
            return;
        }
    }
}

static void udp_start(struct worker *w, struct bconn *c, uint64_t now)
{
    c->state = CS_RUN;
    fifo_push(w, c, 0, now);
    if (send(c->fd, UDP_REQUEST, sizeof(UDP_REQUEST) - 1, 0) < 0) {
        conn_fail(w, c, "udp send: %s", strerror(errno));
    }
}

static void udp_readable(struct worker *w, struct bconn *c)
{
    char buf[64];
    ssize_t n = recv(c->fd, buf, sizeof(buf) - 1, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n < 0) {
        conn_fail(w, c, "udp: %s", strerror(errno));
        return;
    }
    buf[n] = '\0';
    if (c->count == 0 || (size_t)n != SHORT_ANSWER_LEN || memcmp(buf, SHORT_ANSWER, SHORT_ANSWER_LEN) != 0) {
        conn_fail(w, c, "udp: answer '%.*s', want d144", n > 0 ? (int)strcspn(buf, "\n") : 0, buf);
        return;
    }
    uint64_t now = now_ns();
    answered(w, c, now);
    if (w->draining) {
        conn_close(w, c);
        return;
    }
    udp_start(w, c, now);
}

static const struct load LOADS[] = {
    [BENCH_SHORT] = { SOCK_STREAM, TCP_TIMEOUT_NS, short_start, stream_readable, short_answer, NULL },
    [BENCH_LONG] = { SOCK_STREAM, TCP_TIMEOUT_NS, long_start, stream_readable, long_answer, NULL },
    [BENCH_UDP] = { SOCK_DGRAM, UDP_TIMEOUT_NS, udp_start, udp_readable, NULL, NULL },
    [BENCH_HOLD] = { SOCK_STREAM, HOLD_TIMEOUT_NS, long_start, stream_readable, long_answer, NULL },
    [BENCH_PVP] = { SOCK_STREAM, TCP_TIMEOUT_NS, pvp_start, stream_readable, pvp_answer, pvp_drain },
};

static void connected(struct worker *w, struct bconn *c, uint64_t now)
{
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) {
        soerr = errno;
    }
    if (soerr != 0) {
        conn_fail(w, c, "connect: %s", strerror(soerr));
        return;
    }
    w->ctx->load->start(w, c, now);
}

static void on_event(struct worker *w, const struct epoll_event *ev)
{
    unsigned index = (unsigned)(ev->data.u64 & 0xffffffffu);
    struct bconn *c = &w->conns[index];
    if ((uint32_t)(ev->data.u64 >> 32) != c->gen || c->fd < 0) {
        return;     /* an event of a socket this connection has closed since */
    }
    uint32_t gen = c->gen;
    if (c->state == CS_CONNECTING) {
        if (!(ev->events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
            return;
        }
        connected(w, c, now_ns());
    } else if ((ev->events & EPOLLOUT) && c->outlen > 0) {
        conn_flush(w, c);
    }
    if (c->gen == gen && c->fd >= 0 && (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        w->ctx->load->readable(w, c);
    }
}

/* Timeouts, reopening after a failure, and the end of the run. */
static void scan(struct worker *w, uint64_t now)
{
    uint64_t timeout = w->ctx->timeout;
    for (unsigned i = 0; i < w->nconns; i++) {
        struct bconn *c = &w->conns[i];
        if (c->state == CS_CLOSED && !w->draining && !is_hold(w)) {
            conn_open(w, c, now);   /* hold opens its connections once, in hold_tick */
        } else if ((c->state == CS_CONNECTING || c->state == CS_HELLO || c->state == CS_LEAVING) &&
                   now - c->since > timeout) {
            w->missing++;
            conn_fail(w, c, "no %s within %g s",
                      c->state == CS_HELLO ? "answer to hello" : c->state == CS_LEAVING ? "answer to L" : "connection",
                      (double)timeout / NS_PER_SEC);
        } else if (c->count > 0 && now - c->sent[c->head] > timeout) {
            w->missing += c->count;
            conn_fail(w, c, "%u answers missing after %g s", c->count, (double)timeout / NS_PER_SEC);
        } else if (w->draining && c->state == CS_CONNECTING) {
            conn_close(w, c);   /* sent nothing before the deadline: nothing is lost */
        }
    }
}

static void hold_tick(struct worker *w, uint64_t now)
{
    struct ctx *x = w->ctx;
    int phase = atomic_load_explicit(&x->phase, memory_order_acquire);
    while (phase == 0 && w->hold_next < w->nconns && w->hold_opening < HOLD_OPENING) {
        conn_open(w, &w->conns[w->hold_next++], now);
    }
    if (!w->hold_reported && w->hold_settled == w->nconns) {
        w->hold_reported = 1;
        atomic_fetch_add_explicit(&x->settled, 1, memory_order_release);
    }
    if (phase < 2 || w->hold_round2) {
        return;
    }
    w->hold_round2 = 1;
    w->draining = 1;
    for (unsigned i = 0; i < w->nconns; i++) {
        if (w->conns[i].state == CS_HELD) {
            long_play(w, &w->conns[i], now_ns());
        }
    }
}

static int worker_done(const struct worker *w)
{
    return w->draining && w->open == 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct ctx *x = w->ctx;
    struct epoll_event evs[EVENTS_MAX];
    uint64_t now = now_ns();
    uint64_t next_scan = now + SCAN_NS;

    for (unsigned i = 0; i < w->nconns && !is_hold(w); i++) {
        conn_open(w, &w->conns[i], now);
    }
    while (!worker_done(w)) {
        if (is_hold(w)) {
            hold_tick(w, now);
        }
        uint64_t until = next_scan;
        if (!w->draining && !is_hold(w) && x->deadline < until) {
            until = x->deadline;
        }
        int ms = until > now ? (int)((until - now + NS_PER_MS - 1) / NS_PER_MS) : 0;
        int n = epoll_wait(w->epfd, evs, EVENTS_MAX, is_hold(w) && ms > 20 ? 20 : ms);
        for (int i = 0; i < n; i++) {
            on_event(w, &evs[i]);
        }
        now = now_ns();
        if (!is_hold(w) && !w->draining && now >= x->deadline) {
            w->draining = 1;
            next_scan = now;
            if (x->load->drain != NULL) {
                x->load->drain(w, now);
            }
        }
        if (now >= next_scan) {
            scan(w, now);
            next_scan = now + SCAN_NS;
        }
        atomic_store_explicit(&w->pub_ops, w->ops, memory_order_relaxed);
        atomic_store_explicit(&w->pub_errors, w->errors, memory_order_relaxed);
        atomic_store_explicit(&w->pub_opened, w->opened, memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&x->finished, 1, memory_order_release);
    return NULL;
}

/* ---- setup ---- */

static int worker_init(struct worker *w, struct ctx *x, int id, unsigned nconns, unsigned depth)
{
    w->ctx = x;
    w->id = id;
    w->nconns = nconns;
    w->depth = depth;
    w->outcap = depth + 2 + RPS_NAME_MAX;
    w->rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)id * 0xbf58476d1ce4e5b9ull) ^ now_ns();
    w->rng = w->rng != 0 ? w->rng : 1;
    bench_hist_init(&w->hist);
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    /* Per connection: sent[depth], moves[depth], out[depth + a hello], kept 8-byte aligned. */
    size_t per = (depth * (sizeof(uint64_t) + 2) + 2 + RPS_NAME_MAX + 7) & ~(size_t)7;
    w->conns = calloc(nconns, sizeof(*w->conns));
    char *pool = calloc(nconns, per);
    if (w->epfd < 0 || w->conns == NULL || pool == NULL) {
        free(pool);
        return -1;
    }
    for (unsigned i = 0; i < nconns; i++) {
        struct bconn *c = &w->conns[i];
        char *p = pool + (size_t)i * per;
        c->fd = -1;
        c->index = i;
        c->sent = (uint64_t *)(void *)p;
        c->moves = (unsigned char *)p + depth * sizeof(uint64_t);
        c->out = (char *)c->moves + depth;
    }
    return 0;
}

static void worker_free(struct worker *w)
{
    for (unsigned i = 0; w->conns != NULL && i < w->nconns; i++) {
        if (w->conns[i].fd >= 0) {
            close(w->conns[i].fd);
        }
    }
    if (w->conns != NULL && w->nconns > 0) {
        free(w->conns[0].sent);
    }
    free(w->conns);
    if (w->epfd >= 0) {
        close(w->epfd);
    }
}

/* One TCP connection, or one datagram answered, before any load: else exit 3. */
static int probe(const struct bench_opts *o, const struct ctx *x, char *err, size_t errlen)
{
    int udp = o->load == BENCH_UDP;
    int fd = socket(x->addr.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return bad(err, errlen, "socket: %s", strerror(errno));
    }
    int rc = connect(fd, (const struct sockaddr *)&x->addr, x->addrlen);
    if (rc < 0 && errno != EINPROGRESS) {
        rc = bad(err, errlen, "cannot connect to %s port %d: %s", o->host, o->port, strerror(errno));
        close(fd);
        return rc;
    }
    struct pollfd p = { .fd = fd, .events = udp ? POLLIN : POLLOUT };
    int wait_ms = o->timeout > 0 ? (int)(o->timeout * 1000) : PROBE_MS;
    for (int attempt = 0; attempt < 3 && (udp || attempt == 0); attempt++) {
        if (udp && send(fd, UDP_REQUEST, sizeof(UDP_REQUEST) - 1, 0) < 0) {
            break;
        }
        if (poll(&p, 1, udp && o->timeout <= 0 ? wait_ms / 2 : wait_ms) == 1) {
            break;
        }
    }
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
    char buf[64];
    int ok = p.revents != 0 && soerr == 0 && (!udp || recv(fd, buf, sizeof(buf), 0) > 0);
    close(fd);
    if (!ok) {
        return bad(err, errlen, "cannot %s %s port %d: %s", udp ? "get an answer over udp from" : "connect to",
                   o->host, o->port, soerr != 0 ? strerror(soerr) : "no answer");
    }
    return 0;
}

/* The first of the host's addresses that passes the probe (localhost may be ::1 first while
 * the server listens on 127.0.0.1 only). */
static int find_server(const struct bench_opts *o, struct ctx *x, char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_flags = AI_NUMERICSERV };
    struct addrinfo *res;
    char port[16];
    hints.ai_socktype = o->load == BENCH_UDP ? SOCK_DGRAM : SOCK_STREAM;
    snprintf(port, sizeof(port), "%d", o->port);
    int rc = getaddrinfo(o->host, port, &hints, &res);
    if (rc != 0) {
        return bad(err, errlen, "cannot resolve %s: %s", o->host, gai_strerror(rc));
    }
    rc = -1;
    for (struct addrinfo *a = res; a != NULL && rc < 0; a = a->ai_next) {
        memcpy(&x->addr, a->ai_addr, a->ai_addrlen);
        x->addrlen = a->ai_addrlen;
        rc = probe(o, x, err, errlen);
    }
    freeaddrinfo(res);
    const struct sockaddr_in *in = (const struct sockaddr_in *)&x->addr;
    x->spread = o->load == BENCH_SHORT && x->addr.ss_family == AF_INET &&
                (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    return rc;
}

static int raise_fd_limit(const struct bench_opts *o, char *err, size_t errlen)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        return 0;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    rlim_t need = (rlim_t)connections(o) + (rlim_t)o->threads + 32;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        return bad(err, errlen, "-c %d needs %lu open files, the limit is %lu", o->conns, (unsigned long)need,
                   (unsigned long)rl.rlim_cur);
    }
    return 0;
}

static uint64_t sum_counter(struct worker *ws, int n, size_t offset)
{
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        total += atomic_load_explicit((_Atomic uint64_t *)((char *)&ws[i] + offset), memory_order_relaxed);
    }
    return total;
}

#define SUM(ws, n, field) sum_counter((ws), (n), offsetof(struct worker, field))

static void progress(const struct bench_opts *o, struct worker *ws, const char *fmt, ...)
{
    if (!o->progress) {
        return;
    }
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "\r%s: %s, errors %llu\033[K", LOAD_NAMES[o->load], line,
            (unsigned long long)SUM(ws, o->threads, pub_errors));
    fflush(stderr);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* The main thread during a timed load: a progress line each second until the workers end. */
static void watch_timed(const struct bench_opts *o, struct ctx *x, struct worker *ws)
{
    uint64_t next = x->start + NS_PER_SEC;
    uint64_t last_ops = 0;
    uint64_t per_op = o->load == BENCH_PVP ? 2 : 1;    /* pvp: a round is two results */
    while (atomic_load_explicit(&x->finished, memory_order_acquire) < o->threads) {
        sleep_ms(50);
        uint64_t now = now_ns();
        if (now < next) {
            continue;
        }
        uint64_t ops = SUM(ws, o->threads, pub_ops) / per_op;
        progress(o, ws, "%.0f s, %llu ops, %llu ops/s", (double)(now - x->start) / NS_PER_SEC,
                 (unsigned long long)ops, (unsigned long long)(ops - last_ops));
        last_ops = ops;
        next += NS_PER_SEC;
    }
}

/* The main thread during hold: wait for round 1 everywhere, hold, start round 2. */
static double watch_hold(const struct bench_opts *o, struct ctx *x, struct worker *ws)
{
    uint64_t next = now_ns() + NS_PER_SEC;
    while (atomic_load_explicit(&x->settled, memory_order_acquire) < o->threads) {
        sleep_ms(20);
        if (now_ns() >= next) {
            progress(o, ws, "%llu of %d open", (unsigned long long)SUM(ws, o->threads, pub_opened), o->conns);
            next += NS_PER_SEC;
        }
    }
    uint64_t opened = SUM(ws, o->threads, pub_opened);
    if (o->progress) {
        fprintf(stderr, "\r\033[K");
    }
    /* bench.sh waits for this line to read the server's memory with every connection open. */
    fprintf(stderr, "hold: %llu of %d connections open, holding %.1f s\n", (unsigned long long)opened, o->conns,
            o->secs);
    fflush(stderr);
    uint64_t held_from = now_ns();
    uint64_t until = held_from + (uint64_t)(o->secs * NS_PER_SEC);
    next = held_from + NS_PER_SEC;
    for (uint64_t now = held_from; now < until; now = now_ns()) {
        sleep_ms(until - now < 50 * NS_PER_MS ? (unsigned)((until - now) / NS_PER_MS) + 1 : 50);
        if (now >= next) {
            progress(o, ws, "%llu open, %.0f s left", (unsigned long long)opened, (double)(until - now) / NS_PER_SEC);
            next += NS_PER_SEC;
        }
    }
    double held = (double)(now_ns() - held_from) / NS_PER_SEC;
    atomic_store_explicit(&x->phase, 2, memory_order_release);
    while (atomic_load_explicit(&x->finished, memory_order_acquire) < o->threads) {
        sleep_ms(20);
    }
    return held;
}

static void collect(const struct bench_opts *o, const struct ctx *x, struct worker *ws, struct bench_result *r)
{
    uint64_t last = 0;
    bench_hist_init(&r->hist);
    for (int i = 0; i < o->threads; i++) {
        struct worker *w = &ws[i];
        r->ops += w->ops;
        r->errors += w->errors;
        r->refused += w->refused;
        r->closed += w->closed;
        r->error_answers += w->error_answers;
        r->missing += w->missing;
        r->interrupted += w->interrupted;
        r->bot += w->bot;
        r->opened += w->opened;
        r->held += w->held;
        last = w->last_ok > last ? w->last_ok : last;
        bench_hist_merge(&r->hist, &w->hist);
        if (r->first_error[0] == '\0' && w->first_error[0] != '\0') {
            snprintf(r->first_error, sizeof(r->first_error), "%s", w->first_error);
        }
    }
    if (r->ops == 0 && r->errors == 0) {
        r->errors = 1;  /* a run in which nothing was answered is no success */
        snprintf(r->first_error, sizeof(r->first_error), "no request was answered");
    }
    if (o->load == BENCH_PVP) {
        r->told = r->ops;
        r->ops = r->told / 2;
    }
    if (o->load != BENCH_HOLD) {
        r->elapsed = (double)((last > x->deadline ? last : x->deadline) - x->start) / NS_PER_SEC;
    }
}

int bench_run(const struct bench_opts *o, struct bench_result *r, char *err, size_t errlen)
{
    struct ctx x = { .o = o, .load = &LOADS[o->load] };
    x.timeout = o->timeout > 0 ? (uint64_t)(o->timeout * NS_PER_SEC) : x.load->timeout;
    memset(r, 0, sizeof(*r));
    new_run_id(r->run, sizeof(r->run));
    x.run = r->run;
    if (raise_fd_limit(o, err, errlen) < 0) {
        return BENCH_EXIT_USAGE;
    }
    if (find_server(o, &x, err, errlen) < 0) {
        return BENCH_EXIT_CONNECT;
    }
    struct worker *ws = calloc((size_t)o->threads, sizeof(*ws));
    if (ws == NULL) {
        bad(err, errlen, "out of memory");
        return BENCH_EXIT_ERRORS;
    }
    int rc = 0;
    int started = 0;
    for (int i = 0; i < o->threads; i++) {
        ws[i].epfd = -1;
    }
    int conns = connections(o);
    for (int i = 0; i < o->threads && rc == 0; i++) {
        unsigned share = (unsigned)(conns / o->threads + (i < conns % o->threads ? 1 : 0));
        rc = worker_init(&ws[i], &x, i, share, (unsigned)o->depth);
    }
    x.start = now_ns();
    x.deadline = x.start + (uint64_t)(o->secs * NS_PER_SEC);
    for (; started < o->threads && rc == 0; started++) {
        rc = pthread_create(&ws[started].tid, NULL, worker_main, &ws[started]) == 0 ? 0 : -1;
    }
    if (rc == 0 && o->load == BENCH_HOLD) {
        r->elapsed = watch_hold(o, &x, ws);
    } else if (rc == 0) {
        watch_timed(o, &x, ws);
    } else {
        atomic_store_explicit(&x.phase, 2, memory_order_release);  /* let started hold workers end */
    }
    for (int i = 0; i < started; i++) {
        pthread_join(ws[i].tid, NULL);
    }
    if (o->progress) {
        fprintf(stderr, "\r\033[K");
    }
    if (rc == 0) {
        collect(o, &x, ws, r);
    }
    for (int i = 0; i < o->threads; i++) {
        worker_free(&ws[i]);
    }
    free(ws);
    if (rc != 0) {
        bad(err, errlen, "cannot start the workers (out of memory or threads)");
        return BENCH_EXIT_ERRORS;
    }
    if (o->load == BENCH_PVP) {
        bench_check(o, r);
    }
    return 0;
}

/* ---- pvp's check ---- */

/* One more error of the whole run, found after it. */
static void fail_result(struct bench_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    count_errors(&r->errors, r->first_error, sizeof(r->first_error), 1, fmt, ap);
    va_end(ap);
}

/* A count of results as rounds: two results a round. */
static const char *as_rounds(uint64_t results, char *buf, size_t cap)
{
    snprintf(buf, cap, "%llu%s", (unsigned long long)(results / 2), results % 2 != 0 ? ".5" : "");
    return buf;
}

/* The rounds the server holds for player i of the run: 0, or -1 with r->check and r->check_why
 * saying why there is no answer. */
static int player_rounds(struct httpget *h, struct bench_result *r, int i, char *body, uint64_t *rounds)
{
    char name[RPS_NAME_MAX + 1], path[64];
    int status = 0;

    pvp_player(name, sizeof(name), r->run, (unsigned)i);
    snprintf(path, sizeof(path), "/api/players/%.32s", name);
    *rounds = 0;
    enum httpget_rc rc = httpget(h, path, &status, body, API_BODY_MAX, r->check_why, sizeof(r->check_why));
    if (rc == HTTPGET_ERROR) {
        r->check = BENCH_CHECK_FAILED;
        return -1;
    }
    if (rc == HTTPGET_NOT_HTTP) {
        r->check = BENCH_CHECK_SKIPPED;
        snprintf(r->check_why, sizeof(r->check_why), "GET %s was answered '%.32s', not over HTTP: no JSON API",
                 path, body);
        return -1;
    }
    if (status == 404 && strstr(body, "\"unknown player\"") != NULL) {
        return 0;   /* its hello never went through */
    }
    if (status != 200 || httpget_json_uint(body, "rounds", rounds) < 0) {
        r->check = BENCH_CHECK_FAILED;
        snprintf(r->check_why, sizeof(r->check_why), "GET %s: %d %.40s", path, status, body);
        return -1;
    }
    return 0;
}

void bench_check(const struct bench_opts *o, struct bench_result *r)
{
    struct httpget h;
    char *body = malloc(API_BODY_MAX);
    double timeout = o->timeout > 0 ? o->timeout : (double)LOADS[o->load].timeout / NS_PER_SEC;
    uint64_t rounds = 0;

    if (body == NULL) {
        r->check = BENCH_CHECK_FAILED;
        fail_result(r, "the rated rounds could not be checked: out of memory");
        return;
    }
    r->check = BENCH_CHECK_DONE;
    httpget_open(&h, o->host, o->port, timeout);
    for (int i = 0; i < connections(o) && r->check == BENCH_CHECK_DONE; i++) {
        uint64_t n;
        if (player_rounds(&h, r, i, body, &n) == 0) {
            rounds += n;
        }
    }
    httpget_close(&h);
    free(body);
    if (r->check == BENCH_CHECK_FAILED) {
        fail_result(r, "the rated rounds could not be checked: %s", r->check_why);
        return;
    }
    if (r->check == BENCH_CHECK_SKIPPED) {
        return;
    }
    r->stored = rounds >= r->bot ? rounds - r->bot : 0;
    if (rounds != r->told + r->bot) {
        char stored[32], told[32];
        fail_result(r, "the server holds %s rated rounds of this run's players, it told of %s",
                    as_rounds(r->stored, stored, sizeof(stored)), as_rounds(r->told, told, sizeof(told)));
    }
}

/* ---- report ---- */

static double ns_to_ms(uint64_t ns)
{
    return (double)ns / NS_PER_MS;
}

/* pvp: what the check found, at the end of the summary line. */
static void check_summary(FILE *out, const struct bench_result *r)
{
    char stored[32], told[32];
    switch (r->check) {
    case BENCH_CHECK_NONE:
        break;
    case BENCH_CHECK_DONE:
        fprintf(out, ", stored %s of %s", as_rounds(r->stored, stored, sizeof(stored)),
                as_rounds(r->told, told, sizeof(told)));
        break;
    case BENCH_CHECK_SKIPPED:
        fputs(", check skipped", out);
        break;
    case BENCH_CHECK_FAILED:
        fputs(", check failed", out);
        break;
    }
    if (r->bot > 0) {
        fprintf(out, " (and %llu bot rounds)", (unsigned long long)r->bot);
    }
}

void bench_summary(FILE *out, const struct bench_opts *o, const struct bench_result *r)
{
    const struct bench_hist *h = &r->hist;
    int pvp = o->load == BENCH_PVP;
    fprintf(out, "%s: %d %s, ", LOAD_NAMES[o->load], o->conns, pvp ? "pairs" : "conns");
    if (o->load == BENCH_HOLD) {
        fprintf(out, "held %.2f s: %llu opened, %llu answered both rounds, ", r->elapsed,
                (unsigned long long)r->opened, (unsigned long long)r->held);
    } else if (pvp) {
        fprintf(out, "%.2f s: ", r->elapsed);
    } else {
        fprintf(out, "depth %d, %.2f s: ", o->depth, r->elapsed);
    }
    fprintf(out, "%llu %s, ", (unsigned long long)r->ops, pvp ? "rated rounds" : "ops");
    if (o->load != BENCH_HOLD) {
        fprintf(out, "%.0f ops/s, ", r->elapsed > 0 ? (double)r->ops / r->elapsed : 0.0);
    }
    fprintf(out, "p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms, errors %llu",
            ns_to_ms(bench_hist_percentile(h, 50)), ns_to_ms(bench_hist_percentile(h, 90)),
            ns_to_ms(bench_hist_percentile(h, 99)), ns_to_ms(h->max), (unsigned long long)r->errors);
    const struct {
        const char *what;
        uint64_t n;
    } kinds[] = {
        { "refused", r->refused },
        { "closed", r->closed },
        { "error answers", r->error_answers },
        { "missing", r->missing },
        { "interrupted", r->interrupted },
    };
    const char *sep = " (";
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (kinds[i].n > 0) {
            fprintf(out, "%s%s %llu", sep, kinds[i].what, (unsigned long long)kinds[i].n);
            sep = ", ";
        }
    }
    fputs(sep[0] == ',' ? ")" : "", out);
    check_summary(out, r);
    fputc('\n', out);
}

static void pvp_explain(FILE *out, const struct bench_result *r)
{
    if (r->interrupted > 0) {
        fprintf(out, "arcade bench: %llu rounds or matches ended before the run did (T, G, F or Q): a round "
                     "ran out of time (arcaded --move-timeout), an opponent's connection failed, or nobody came to "
                     "play (--queue-timeout)\n",
                (unsigned long long)r->interrupted);
    }
    if (r->error_answers > 0 && strstr(r->first_error, "too many new names") != NULL) {
        fprintf(out, "arcade bench: pvp names two new players a pair, and a server takes --name-rate new names a "
                     "minute from one address (default 60)\n");
    }
    if (r->check == BENCH_CHECK_SKIPPED || r->check == BENCH_CHECK_FAILED) {
        fprintf(out, "arcade bench: the rated rounds were not checked: %s\n", r->check_why);
    }
}

void bench_explain(FILE *out, const struct bench_opts *o, const struct bench_result *r)
{
    if (r->refused > 0) {
        fprintf(out, "arcade bench: refused %llu connections (ebusy): the server's limits were hit, see arcaded "
                     "--max-conns, --addr-conns and --conn-rate\n",
                (unsigned long long)r->refused);
    }
    if (r->closed > 0) {
        fprintf(out, "arcade bench: the server closed %llu connections: made room (--max-conns), "
                     "dropped for unread output (--out-max), idle (--idle-timeout), or stopped\n",
                (unsigned long long)r->closed);
    }
    if (r->error_answers > 0) {
        fprintf(out, "arcade bench: the server answered %llu requests with an error\n",
                (unsigned long long)r->error_answers);
    }
    /* A default arcaded lets a long connection play 1000 frames a second after a burst of 1000, and
     * does not refuse past that: it reads later. A run that came out at that rate measured it. */
    double budget = 1000.0 * r->elapsed + 1000.0;
    double per_conn = o->conns > 0 ? (double)r->ops / o->conns : 0;    /* pvp: a move a round */
    if ((o->load == BENCH_LONG || o->load == BENCH_PVP) && r->elapsed > 0 && per_conn >= 0.9 * budget &&
        per_conn <= 1.05 * budget) {
        fprintf(out, "arcade bench: each connection played about %.0f rounds in %.2f s, what a server's "
                     "--frame-rate allows by default (a burst of 1000, then 1000 a second): that limit may be what "
                     "was measured\n",
                per_conn, r->elapsed);
    }
    if (r->missing > 0 && o->load == BENCH_UDP) {
        fprintf(out, "arcade bench: %llu datagrams unanswered: the server drops datagrams past --udp-rate a "
                     "second from one address (default 1000)\n",
                (unsigned long long)r->missing);
    } else if (r->missing > 0) {
        fprintf(out, "arcade bench: %llu answers or connections did not come within the timeout (--timeout)\n",
                (unsigned long long)r->missing);
    }
    pvp_explain(out, r);
}

int bench_main(int argc, char **argv)
{
    struct bench_opts o;
    char err[256];
    int rc = bench_parse(argc, argv, &o, err, sizeof(err));
    if (rc == 1) {
        usage(stdout);
        return BENCH_EXIT_OK;
    }
    if (rc < 0) {
        fprintf(stderr, "arcade bench: %s (arcade bench --help for usage)\n", err);
        return BENCH_EXIT_USAGE;
    }
    o.progress = isatty(STDERR_FILENO);
    struct bench_result *r = malloc(sizeof(*r));
    if (r == NULL) {
        fprintf(stderr, "arcade bench: out of memory\n");
        return BENCH_EXIT_ERRORS;
    }
    rc = bench_run(&o, r, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "arcade bench: %s\n", err);
        free(r);
        return rc;
    }
    bench_summary(stdout, &o, r);
    fflush(stdout);
    if (r->errors > 0) {
        fprintf(stderr, "arcade bench: %llu errors; the first: %s\n", (unsigned long long)r->errors, r->first_error);
    }
    bench_explain(stderr, &o, r);
    rc = r->errors == 0 ? BENCH_EXIT_OK : BENCH_EXIT_ERRORS;
    free(r);
    return rc;
}
