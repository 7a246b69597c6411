/*
 * server: the wiring. One libev loop in one thread serves TCP and UDP on one
 * port. Calls go down the layers, never back up:
 *
 *   server (this file: listeners, signals, the flush)
 *     -> protocols: short (request lines), play (rock-paper-scissors frames), http (the page,
 *        WebSockets; the JSON API, /healthz and /metrics from web), watch (the live leaderboard)
 *       -> services: session, match, account, batch (the group commit), store
 *         -> conn (the transport; ws frames a WebSocket) -> buf, limit, net, log, stats (counters
 *            any layer bumps)
 *   games/ (rules, parsers, the leaderboard's rows) is used by all and uses none.
 *
 * How a byte travels:
 *   accept -> conn; its first decisive bytes hand it to short, play or http (which may hand a
 *       WebSocket on to play or watch)
 *   readable conn -> ops->input -> replies queued, results held for the commit
 *   prepare (once per iteration, before the loop sleeps), until nothing is left:
 *       conn_pool_tell_gone: protocols hear of connections that closed
 *       batch_commit:        one transaction for every result of the iteration
 *       conn_pool_flush:     write what is no longer held; free what closed
 *     then session_reap frees the sessions nothing holds any more
 *   every 50 ms: store_fold_step adds some of the logged bot rounds into the
 *       players' totals, and store_sweep writes a few rated players' rows back
 *   the store's checkpointer thread copies the WAL into the database; when it asks for a last
 *       pass, commits wait (store_paused) until checkpointed_w says it is done
 *   datagram -> short_reply -> one datagram back
 *   SIGINT/SIGTERM/SIGHUP -> stop accepting, void running rounds, drain, close the store
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include "account.h"
#include "board.h"
#include "bus.h"
#include "cluster.h"
#include "db.h"
#include "http.h"
#include "limit.h"
#include "log.h"
#include "match.h"
#include "net.h"
#include "play.h"
#include "reply.h"
#include "session.h"
#include "short.h"
#include "db.h"
#include "store.h"
#include "watch.h"
#include "web.h"

#define ACCEPTS_PER_EVENT 64
#define DATAGRAMS_PER_EVENT 64
#define ACCEPT_PAUSE 0.1    /* seconds without accept() after EMFILE */
#define DRAIN_TIMEOUT 5.0   /* seconds the shutdown waits for clients to take their answers */
#define BUSY "ebusy\n"
#define TCP_ONLY "tcp only"
#define UDP_AMPLIFICATION 3 /* an answer is at most this many times its datagram */
#define UDP_SOURCES_MAX 65536 /* sources whose datagram budget is remembered */
#define COMMIT_RETRY 0.01   /* seconds between tries of a commit while the database is locked */
#define SECOND 1.0          /* seconds between folds of the tally log and refusal reports */
#define SWEEP 0.05          /* seconds between steps of the store's fold and sweep */
#define FOLD_PLAYERS 256    /* most players' totals one step of the fold adds bot rounds to */
#define TRIM_PEAK 64        /* connections open at once before a mass close trims memory */

/* The first decisive byte of a connection chooses its protocol; whitespace before it belongs to
 * neither and is skipped. */
static size_t choose(struct conn *c, const char *buf, size_t len, int more, int eof)
{
    struct server *srv = (struct server *)((char *)c->pool - offsetof(struct server, pool));
    size_t i = 0;

    while (i < len && rps_is_space((unsigned char)buf[i])) {
        i++;
    }
    if (i == len) {
        return len;
    }
    enum http_sniff http = http_sniff(buf + i, len - i);
    /* Too few bytes to tell an HTTP method from a frame or a request: wait for more, unless nothing
     * more is coming, or the bytes are the whole `P` frame of a client that now waits for `W`. */
    if (http == HTTP_MAYBE && !eof && (more || len - i > 1 || buf[i] != 'P')) {
        return i;
    }
    if (http == HTTP_YES) {
        http_attach(&srv->site, c);
    } else if (rps_opens((unsigned char)buf[i])) {
        play_attach(&srv->game, c);
    } else {
        short_attach(c, srv->db, srv->cfg.idle_timeout);
    }
    if (c->ops->input == choose || c->state != CONN_OPEN) {
        return len;
    }
    return i + c->ops->input(c, buf + i, len - i, more, eof);
}

static const struct conn_ops first_ops = { "new", choose, NULL };

static int refuse_conn(struct server *srv, struct conn *c, const struct sockaddr_storage *sa);

/* A connection from a proxy (--proxy-from) starts with a PROXY header that names the client; the
 * client's bytes follow it, and are then read as any connection's are. */
static size_t proxied(struct conn *c, const char *buf, size_t len, int more, int eof)
{
    struct server *srv = (struct server *)((char *)c->pool - offsetof(struct server, pool));
    struct proxy_header h;
    enum proxy_result r = proxy_parse((const unsigned char *)buf, len, &h);

    /* A proxy's health check may connect and close without a byte: nothing to log. */
    if (r == PROXY_NEED_MORE && (!eof || len == 0)) {
        return 0;
    }
    if (r != PROXY_OK) {
        char from[CONN_PEER_MAX];
        log_info("conn %llu: from %s, a proxy, without a PROXY header (version 2): closed",
                 (unsigned long long)c->id, conn_peer_name(c, from, sizeof(from)));
        conn_close(c, "no PROXY header");
        return len;
    }
    if (h.has_src && (refuse_conn(srv, c, &h.src) || conn_set_peer(c, &h.src) < 0)) {
        return len;
    }
    conn_set_kind(c, &first_ops, NULL, srv->cfg.idle_timeout, 0);
    return h.len + choose(c, buf + h.len, len - h.len, more, eof);
}

static const struct conn_ops proxied_ops = { "proxied", proxied, NULL };

static const char *const refusal_names[REFUSALS] = {
    [REFUSED_RATE] = "connections refused over their address's connection rate",
    [REFUSED_SHARE] = "connections refused over their address's share of open connections",
    [REFUSED_FULL] = "connections refused: server full",
    [EVICTED] = "connections closed to make room (the idlest of the address holding the most)",
    [DROPPED_DATAGRAMS] = "datagrams dropped over their source's rate",
};

static void refuse(int fd, enum refusal why)
{
    /* Best effort: a client that cannot take these few bytes now will see the close. */
    ssize_t n = send(fd, BUSY, strlen(BUSY), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)n;
    close(fd);
    stats.refusals[why]++;
}

static void report_refusals(struct server *srv)
{
    for (int i = 0; i < REFUSALS; i++) {
        if (stats.refusals[i] > srv->refusals_told[i]) {
            log_info("in the last second: %llu %s", (unsigned long long)(stats.refusals[i] - srv->refusals_told[i]),
                     refusal_names[i]);
            srv->refusals_told[i] = stats.refusals[i];
        }
    }
}

/* Is an address past its connection rate or its share of open connections? */
static int over_limits(struct server *srv, const struct sockaddr_storage *sa, enum refusal *why)
{
    const struct config *cfg = &srv->cfg;
    if (cfg->conn_rate > 0 && !limit_addrs_take(srv->addrs, sa, cfg->conn_rate, ev_now(srv->loop))) {
        *why = REFUSED_RATE;
        return 1;
    }
    if (cfg->addr_conns > 0 && conn_pool_held(&srv->pool, sa) >= (unsigned)cfg->addr_conns) {
        *why = REFUSED_SHARE;
        return 1;
    }
    return 0;
}

/* A proxied connection whose client is past its address's limits: refused as it would have been at
 * accept, had it come straight. Returns 1 if so. */
static int refuse_conn(struct server *srv, struct conn *c, const struct sockaddr_storage *sa)
{
    enum refusal why;
    if (!over_limits(srv, sa, &why)) {
        return 0;
    }
    conn_write(c, BUSY, strlen(BUSY));
    conn_drain(c, refusal_names[why]);
    stats.refusals[why]++;
    return 1;
}

/* May a connection from sa be let in? When the server is full, the address holding the most gives up
 * its idlest connection, if it holds more than sa's would: one address cannot keep the others out.
 * A proxy's own address has no share to keep to: its clients are held to theirs once its header
 * has named them. */
static int admit(struct server *srv, int fd, const struct sockaddr_storage *sa, int proxy)
{
    const struct config *cfg = &srv->cfg;
    enum refusal why;
    if (!proxy && over_limits(srv, sa, &why)) {
        refuse(fd, why);
        return 0;
    }
    unsigned held = conn_pool_held(&srv->pool, sa);
    if (srv->pool.n - srv->pool.closing < (unsigned)cfg->max_conns) {
        return 1;
    }
    struct conn *idlest = conn_pool_crowding(&srv->pool, held + 1);
    if (idlest == NULL) {
        refuse(fd, REFUSED_FULL);
        return 0;
    }
    conn_close(idlest, "closed to make room for another address");
    stats.refusals[EVICTED]++;
    return 1;
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct server *srv = (struct server *)((char *)w - offsetof(struct server, accept_w));
    int one = 1;
    (void)revents;

    for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
        struct sockaddr_storage sa;
        socklen_t salen = sizeof(sa);
        int fd = accept4(srv->tcp_fd, (struct sockaddr *)&sa, &salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                log_error("accept: %s; pausing accepts", strerror(errno));
                ev_io_stop(loop, &srv->accept_w);
                ev_timer_start(loop, &srv->accept_pause_w);
            }
            return;
        }
        int proxy = proxy_net_has(srv->cfg.proxy_from, srv->cfg.nproxy_from, &sa);
        if (!admit(srv, fd, &sa, proxy)) {
            continue;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct conn *c = conn_new(&srv->pool, fd, &sa);
        if (c != NULL) {
            stats.accepted++;
        }
        if (c != NULL && proxy) {
            conn_set_kind(c, &proxied_ops, NULL, srv->cfg.idle_timeout, 0);
        }
    }
}

static void accept_pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct server *srv = (struct server *)((char *)w - offsetof(struct server, accept_pause_w));
    (void)revents;
    if (!srv->stopping) {
        ev_io_start(loop, &srv->accept_w);
    }
}

/* The answer to one datagram of n bytes (got of them kept in `in`) into out; 0: send nothing. A
 * UDP source address can be forged, so no answer is more than UDP_AMPLIFICATION times the request
 * (QUIC's anti-amplification factor, RFC 9000 section 8): a bigger one is replaced by a pointer to TCP,
 * when even that fits. Leaderboards, a few bytes answered with kilobytes, are TCP only. */
static size_t udp_answer(char *in, size_t n, size_t got, char *out)
{
    /* The datagram is read as a TCP line is: a \n ends it, a \r before that is dropped, spaces and
     * tabs before the request are skipped; anything else is the request's, trailing blanks too. */
    size_t len = got, start = 0;
    if (len > 0 && in[len - 1] == '\n') {
        len--;
    }
    if (len > 0 && in[len - 1] == '\r') {
        len--;
    }
    while (start < len && (in[start] == ' ' || in[start] == '\t')) {
        start++;
    }
    size_t reply = n > got                                                 ? reply_error(out, "line too long")
                   : start < len && board_is_op((unsigned char)in[start]) ? reply_error(out, TCP_ONLY)
                                                                          : short_reply(in + start, len - start, out);
    if (reply > UDP_AMPLIFICATION * n) {
        reply = reply_error(out, TCP_ONLY);
    }
    return reply <= UDP_AMPLIFICATION * n ? reply : 0;
}

static void udp_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct server *srv = (struct server *)((char *)w - offsetof(struct server, udp_w));
    static char in[2048], out[SHORT_REPLY_MAX];
    unsigned char key[LIMIT_ADDR_KEY];
    double rate = srv->cfg.udp_rate;
    (void)revents;

    for (int i = 0; i < DATAGRAMS_PER_EVENT; i++) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof(from);
        ssize_t n = recvfrom(srv->udp_fd, in, sizeof(in), MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
        if (n < 0) {
            return;
        }
        limit_addr_key(&from, key);
        if (rate > 0 && !limit_table_take(srv->udp_sources, key, sizeof(key), rate, rate, ev_now(loop))) {
            stats.refusals[DROPPED_DATAGRAMS]++;
            continue;
        }
        size_t got = (size_t)n > sizeof(in) ? sizeof(in) : (size_t)n;
        size_t reply = udp_answer(in, (size_t)n, got, out);
        stats.requests[STATS_UDP] += reply > 0;
        if (reply > 0 && sendto(srv->udp_fd, out, reply, MSG_DONTWAIT, (struct sockaddr *)&from, fromlen) < 0) {
            log_debug("udp: sendto: %s", strerror(errno));
        }
    }
}

/* Nothing to do: its end wakes the loop, whose flush tries the commit again. */
/* Poll returned: time the iteration's work, up to the end of its flush. */
static void busy_cb(struct ev_loop *loop, ev_check *w, int revents)
{
    struct server *srv = (struct server *)((char *)w - offsetof(struct server, busy_w));
    (void)loop;
    (void)revents;
    srv->busy_from = stats_clock();
    srv->busy_cpu_from = stats_thread_cpu();
}

/* From the checkpointer's thread: its last pass is done. */
static void checkpointed(void *arg)
{
    struct server *srv = arg;
    ev_async_send(srv->loop, &srv->checkpointed_w);
}

/* Wakes the loop only: the flush that follows commits what waited. */
static void checkpointed_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
}

/* Tell, commit, write, free: until nothing is left, since a closed connection
 * can produce one more result (the opponent's forfeit win), and a write that
 * fails closes one more connection. */
static void flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
    struct server *srv = (struct server *)((char *)w - offsetof(struct server, flush_w));
    struct conn_pool *pool = &srv->pool;
    (void)revents;

    for (;;) {
        conn_pool_tell_gone(pool);
        watch_tick(&srv->watch);
        /* While the database is locked elsewhere, one try per retry tick; while the checkpointer
         * finishes a pass, none until it is done; while a commit is in flight, none until its
         * answer. */
        int waiting = ev_is_active(&srv->retry_w) || !db_ready(srv->db) || batch_in_flight(&srv->game.batch);
        if ((!batch_pending(&srv->game.batch) || waiting) && !conn_pool_dirty(pool)) {
            break;
        }
        if (!waiting && batch_commit(&srv->game.batch, srv->db, ev_now(loop), srv->cfg.lock_wait) == BATCH_WAITING) {
            ev_timer_start(loop, &srv->retry_w);
        }
        conn_pool_flush(pool);
    }
    session_reap(&srv->game);
    match_reap(&srv->game);
    /* After a crowd has gone, hand its memory back to the system: malloc keeps freed chunks, and
     * thousands of connections are megabytes of structs and buffers. The peak starts again from
     * what is left, so a crowd that leaves in waves is given back wave by wave. */
    if (pool->peak >= TRIM_PEAK && pool->n < pool->peak / 4) {
        malloc_trim(0);
        pool->peak = pool->n;
    }
    if (srv->stopping && pool->n == 0) {
        ev_break(loop, EVBREAK_ALL);
    }
    if (srv->busy_from > 0) {
        stats_observe(&stats.loop_busy, stats_clock() - srv->busy_from);
        stats_observe(&stats.loop_cpu, stats_thread_cpu() - srv->busy_cpu_from);
        srv->busy_from = 0;
    }
}

/* Once a second: what was refused told. */
static void second_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct server *srv = (struct server *)((char *)w - offsetof(struct server, second_w));
    (void)loop;
    (void)revents;
    report_refusals(srv);
}

/* A failed step (busy, disk full) is tried again at the next one; said at most once a second. */
static void step_failed(struct server *srv, ev_tstamp now, const char *what, const char *err)
{
    if (now - srv->step_failure_logged >= SECOND) {
        log_error("could not %s (kept for the next try): %s", what, err);
        srv->step_failure_logged = now;
    }
}

/* A step of the fold and of the sweep: small enough for the loop not to notice. While commits wait
 * for the checkpointer's last pass, no other write: the next step. */
static void sweep_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct server *srv = (struct server *)((char *)w - offsetof(struct server, sweep_w));
    struct store *st = db_sqlite(srv->db);
    char err[256];
    (void)revents;

    if (st == NULL || store_paused(st)) {
        return;
    }
    if (store_fold_step(st, FOLD_PLAYERS, err, sizeof(err)) < 0) {
        stats.fold_failures++;
        step_failed(srv, ev_now(loop), "fold bot rounds into the totals", err);
    }
    if (store_sweep(st, STORE_SWEEP_WRITES, err, sizeof(err)) < 0) {
        stats.sweep_failures++;
        step_failed(srv, ev_now(loop), "write rated players back", err);
    }
}

static void drain_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct server *srv = (struct server *)((char *)w - offsetof(struct server, drain_w));
    (void)loop;
    (void)revents;
    log_info("shutdown: closing %u connections that did not take their answers", srv->pool.n);
    for (struct conn *c = srv->pool.all; c != NULL; c = c->next) {
        conn_close(c, "shutdown");
    }
}

static void stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    struct server *srv = w->data;
    (void)revents;
    if (srv->stopping) {
        return;
    }
    srv->stopping = 1;
    /* Results held for a database locked elsewhere wait no longer than the drain does. */
    if (srv->cfg.lock_wait > DRAIN_TIMEOUT) {
        srv->cfg.lock_wait = DRAIN_TIMEOUT;
    }
    report_refusals(srv);
    log_info("shutdown: signal %d, %u connections open", w->signum, srv->pool.n);
    ev_io_stop(loop, &srv->accept_w);
    ev_io_stop(loop, &srv->udp_w);
    ev_timer_stop(loop, &srv->accept_pause_w);
    close(srv->tcp_fd);
    close(srv->udp_fd);
    play_shutdown(&srv->game);
    for (struct conn *c = srv->pool.all; c != NULL; c = c->next) {
        conn_drain(c, "shutdown");
    }
    ev_timer_init(&srv->drain_w, drain_cb, DRAIN_TIMEOUT, 0.);
    ev_timer_start(loop, &srv->drain_w);
}

static uint64_t random_seed(void)
{
    uint64_t seed;
    if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)getpid();
    }
    return seed;
}

/* One arcaded per database: two would each believe they are its only writer (and fold each other's
 * tallies). An flock on the database file itself, held for the life of the process, says so; it is
 * apart from SQLite's own fcntl locks. Returns the locked fd, or -1 with err. A "file:" URI is not
 * a path: it is not locked. */
static int lock_database(const char *path, char *err, size_t errlen)
{
    if (strncmp(path, "file:", 5) == 0) {
        return open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        snprintf(err, errlen, "%s", errno == EWOULDBLOCK ? "another arcaded is serving it" : strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int server_init(struct server *srv, const struct config *cfg)
{
    char err[256];

    memset(srv, 0, sizeof(*srv));
    srv->cfg = *cfg;
    srv->loop = EV_DEFAULT;
    conn_pool_init(&srv->pool, srv->loop, cfg->frame_rate, cfg->out_max, cfg->out_total, &first_ops,
                   cfg->idle_timeout);
    struct game *g = &srv->game;
    g->loop = srv->loop;
    g->move_timeout = cfg->move_timeout;
    g->queue_timeout = cfg->queue_timeout;
    g->long_idle = cfg->long_idle_timeout;
    g->name_rate = cfg->name_rate;
    rps_bot_seed(&g->bot, random_seed());
    srv->tcp_fd = srv->udp_fd = srv->db_lock = -1;
    if (account_init(g) < 0) {
        goto fail;
    }
    if ((srv->addrs = limit_addrs_new()) == NULL || (srv->udp_sources = limit_table_new(UDP_SOURCES_MAX)) == NULL) {
        log_error("out of memory");
        goto fail;
    }
    if (net_listen(cfg->bind, &srv->cfg.port, cfg->reuseport, &srv->tcp_fd, &srv->udp_fd, err, sizeof(err)) < 0) {
        log_error("cannot listen on %s:%d: %s", cfg->bind, cfg->port, err);
        goto fail;
    }
    char where[512];
    db_describe(cfg->db, where, sizeof(where));
    /* A SQLite file is this process's alone; a shared database is shared on purpose. */
    if (!db_shared(cfg->db) && (srv->db_lock = lock_database(cfg->db, err, sizeof(err))) < 0) {
        log_error("cannot use database %s: %s", where, err);
        goto fail;
    }
    srv->db = db_open(cfg->db, cfg->sync_full, srv->loop, err, sizeof(err));
    if (srv->db == NULL) {
        log_error("cannot open database %s: %s", where, err);
        goto fail;
    }
    g->db = srv->db;
    if (cfg->bus != NULL && (srv->cluster = cluster_open(cfg->bus, g, &srv->pool)) == NULL) {
        goto fail;
    }
    ev_async_init(&srv->checkpointed_w, checkpointed_cb);
    ev_async_start(srv->loop, &srv->checkpointed_w);
    if (db_sqlite(srv->db) != NULL && store_background(db_sqlite(srv->db), checkpointed, srv, err, sizeof(err)) < 0) {
        log_error("checkpoints stay inside commits: %s", err);
    }
    if ((srv->web = web_new(srv->db, g, &srv->pool)) == NULL) {
        log_error("out of memory");
        goto fail;
    }
    watch_init(&srv->watch, srv->loop, srv->db, cfg->long_idle_timeout);
    srv->site = (struct http_site){
        .game = g, .watch = &srv->watch, .web = srv->web, .idle = cfg->idle_timeout,
    };
    ev_io_init(&srv->accept_w, accept_cb, srv->tcp_fd, EV_READ);
    ev_io_init(&srv->udp_w, udp_cb, srv->udp_fd, EV_READ);
    ev_timer_init(&srv->accept_pause_w, accept_pause_cb, ACCEPT_PAUSE, 0.);
    ev_prepare_init(&srv->flush_w, flush_cb);
    ev_check_init(&srv->busy_w, busy_cb);
    ev_timer_init(&srv->retry_w, retry_cb, COMMIT_RETRY, 0.);
    ev_timer_init(&srv->second_w, second_cb, SECOND, SECOND);
    ev_timer_init(&srv->sweep_w, sweep_cb, SWEEP, SWEEP);
    static const int stop_signals[SERVER_STOP_SIGNALS] = { SIGINT, SIGTERM, SIGHUP };
    for (int i = 0; i < SERVER_STOP_SIGNALS; i++) {
        ev_signal_init(&srv->stop_w[i], stop_cb, stop_signals[i]);
        srv->stop_w[i].data = srv;
        ev_signal_start(srv->loop, &srv->stop_w[i]);
    }
    ev_io_start(srv->loop, &srv->accept_w);
    ev_io_start(srv->loop, &srv->udp_w);
    ev_prepare_start(srv->loop, &srv->flush_w);
    ev_check_start(srv->loop, &srv->busy_w);
    ev_timer_start(srv->loop, &srv->second_w);
    ev_timer_start(srv->loop, &srv->sweep_w);
    const char *fmt = strchr(cfg->bind, ':') != NULL ? "listening on [%s]:%d (tcp and udp), database %s%s%s"
                                                      : "listening on %s:%d (tcp and udp), database %s%s%s";
    char bus[600] = "";
    if (srv->cluster != NULL) {
        char shown[512];
        snprintf(bus, sizeof(bus), ", bus %s (node %s)", bus_redact(cfg->bus, shown, sizeof(shown)),
                 cluster_node(srv->cluster));
    }
    log_msg(LOG_ALWAYS, fmt, cfg->bind, srv->cfg.port, where, cfg->sync_full ? " (synchronous=FULL)" : "", bus);
    return 0;

fail:
    cluster_close(srv->cluster);
    web_free(srv->web);
    db_close(srv->db);
    ev_async_stop(srv->loop, &srv->checkpointed_w);
    if (srv->db_lock >= 0) {
        close(srv->db_lock);
    }
    if (srv->tcp_fd >= 0) {
        close(srv->tcp_fd);
        close(srv->udp_fd);
    }
    limit_addrs_free(srv->addrs);
    limit_table_free(srv->udp_sources);
    account_free(g);
    conn_pool_free(&srv->pool);
    return -1;
}

int server_run(struct server *srv)
{
    ev_run(srv->loop, 0);
    ev_timer_stop(srv->loop, &srv->drain_w);
    ev_timer_stop(srv->loop, &srv->retry_w);
    ev_timer_stop(srv->loop, &srv->second_w);
    ev_timer_stop(srv->loop, &srv->sweep_w);
    ev_prepare_stop(srv->loop, &srv->flush_w);
    ev_check_stop(srv->loop, &srv->busy_w);
    /* The signal watchers stay until the store is closed, so a second SIGTERM
     * cannot kill the process in the middle of the last fold. */
    watch_free(&srv->watch);
    db_close(srv->db);
    ev_async_stop(srv->loop, &srv->checkpointed_w);
    web_free(srv->web);
    if (srv->db_lock >= 0) {
        close(srv->db_lock);  /* only now: closing a file drops the process's locks on it */
    }
    /* The shutdown is under way: a second stop signal from here on (one sent when the first one's
     * connections were seen closed) is ignored, not the default action that kills the process
     * before it is done freeing and saying goodbye to the bus. */
    for (int i = 0; i < SERVER_STOP_SIGNALS; i++) {
        ev_signal_stop(srv->loop, &srv->stop_w[i]);
        signal(srv->stop_w[i].signum, SIG_IGN);
    }
    session_free_all(&srv->game);
    cluster_close(srv->cluster);
    match_reap(&srv->game);
    conn_pool_free(&srv->pool);
    batch_free(&srv->game.batch);
    account_free(&srv->game);
    limit_addrs_free(srv->addrs);
    limit_table_free(srv->udp_sources);
    ev_loop_destroy(srv->loop);
    log_info("shutdown: done");
    return 0;
}
