/*
 * workers: arcaded --workers N. The first process is a supervisor that serves nothing. It holds
 * the port and starts N workers; each is the whole server (its own loop on its own core, its own
 * database connection), and its sockets share the port with the others' through SO_REUSEPORT, so
 * that the kernel spreads new connections and datagrams over them.
 *
 *   supervisor: net_reserve (a TCP socket bound, never listening; no UDP socket at all)
 *     fork -> worker i: PR_SET_PDEATHSIG, server_init (listeners with SO_REUSEPORT),
 *             one byte on its pipe ("ready"), server_run
 *   poll over a signalfd (SIGCHLD, SIGINT, SIGTERM, SIGHUP) and the workers' pipes:
 *     a byte:       "worker i ready"
 *     SIGCHLD:      a worker that died is logged and started again after a pause that doubles
 *                   while it keeps dying young (RESTART_MIN to RESTART_MAX)
 *     stop signal:  forwarded to every worker, which drains as a lone server does; the supervisor
 *                   exits once all have, 0 if every one exited 0
 *
 * No libev here: the workers' loop is libev's default one, made after the fork, and libev's signal
 * handlers cannot belong to two loops. The stop signals stay blocked in a new worker until its
 * watchers are in place, so one sent early is taken, not fatal.
 */
#include "workers.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "net.h"

#define RESTART_MIN 0.1     /* seconds before a dead worker is started again */
#define RESTART_MAX 10.0    /* the longest pause, for a worker that keeps dying */
#define STABLE 30.0         /* seconds of life after which a death starts the pauses over */
#define STOP_WAIT 30.0      /* seconds the workers have to stop (a drain is 5) before they are killed */

struct worker {
    pid_t pid;              /* 0: not running */
    int ready_fd;           /* the pipe's end it says "ready" on; -1 once it has, or has died */
    int ready;              /* it has said so */
    double started;         /* when it was forked */
    double restart_at;      /* when it is to be started again; 0: not waiting to be */
    double pause;           /* the pause before its last start; 0: it has never died */
};

struct supervisor {
    struct config cfg;      /* the workers' (reuseport, the port held) */
    struct worker w[WORKERS_MAX];
    int reserved_fd;        /* holds the port */
    int sig_fd;             /* the signals below, read as data */
    sigset_t old_mask;      /* the mask before they were blocked: the workers' once ready */
    int started;            /* every worker has been ready once: dying is no longer failing to start */
    int stopping;           /* the stop signal forwarded; 0 while serving */
    double stop_by;         /* past this, workers still running are killed */
    int failed;             /* a worker did not start or did not stop cleanly: exit 1 */
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the bus ---- */

/* The one place where --workers meets --bus. Without a bus each worker would know only its own
 * players: two players on different workers would never be matched with each other, and one name
 * could be live on two workers at once. So no bus is refused. Returns 0 (fine) or -1 (refuse),
 * with why in msg. */
static int bus_check(const struct config *cfg, char *msg, size_t len)
{
    if (cfg->bus != NULL) {
        return 0;
    }
    snprintf(msg, len, "--workers needs a bus: --bus redis://... (players on different workers are matched, and "
                       "a name is live once, through it)");
    return -1;
}

/* ---- a worker ---- */

static const char *status_text(int status, char *out, size_t len)
{
    if (WIFEXITED(status)) {
        snprintf(out, len, "exited with status %d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        snprintf(out, len, "killed by signal %d (%s)%s", WTERMSIG(status), strsignal(WTERMSIG(status)),
                 WCOREDUMP(status) ? ", core dumped" : "");
    } else {
        snprintf(out, len, "ended with status %#x", (unsigned)status);
    }
    return out;
}

/* In the child: the whole server, as worker i (from 1). Returns its exit status. */
static int worker_main(struct supervisor *s, int i, int ready_fd, pid_t supervisor)
{
    struct server srv;
    char ready = 'r';

    log_set_worker(i);
    /* Sent SIGTERM (a drain) when the supervisor dies, however it dies; if it already has, the
     * signal will never come. */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != supervisor) {
        return 1;
    }
    close(s->reserved_fd);
    close(s->sig_fd);
    for (int k = 0; k < s->cfg.workers; k++) {
        if (s->w[k].ready_fd >= 0) {
            close(s->w[k].ready_fd);
        }
    }
    int rc = server_init(&srv, &s->cfg);
    sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
    if (rc < 0) {
        return 1;
    }
    if (write(ready_fd, &ready, 1) != 1) {
        log_error("cannot tell the supervisor it is ready: %s", strerror(errno));
    }
    close(ready_fd);
    return server_run(&srv);
}

static int start(struct supervisor *s, int i)
{
    struct worker *w = &s->w[i];
    pid_t supervisor = getpid();
    int p[2];

    w->restart_at = 0;
    if (pipe2(p, O_CLOEXEC) < 0) {
        log_error("worker %d: pipe: %s", i + 1, strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        log_error("worker %d: fork: %s", i + 1, strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        _exit(worker_main(s, i + 1, p[1], supervisor));
    }
    close(p[1]);
    *w = (struct worker){ .pid = pid, .ready_fd = p[0], .started = now(), .pause = w->pause };
    return 0;
}

/* A start that failed (fork, pipe) is tried again as a death would be. */
static void schedule(struct supervisor *s, int i, double t)
{
    struct worker *w = &s->w[i];
    int young = w->pause > 0 && t - w->started < STABLE;

    w->pause = young ? (w->pause * 2 < RESTART_MAX ? w->pause * 2 : RESTART_MAX) : RESTART_MIN;
    w->restart_at = t + w->pause;
}

/* ---- the supervisor ---- */

static void stop(struct supervisor *s, int sig)
{
    int running = 0;

    for (int i = 0; i < s->cfg.workers; i++) {
        running += s->w[i].pid > 0;
    }
    if (!s->stopping) {
        s->stopping = sig;
        s->stop_by = now() + STOP_WAIT;
        log_info("shutdown: signal %d, forwarded to %d workers", sig, running);
    }
    for (int i = 0; i < s->cfg.workers; i++) {
        s->w[i].restart_at = 0;
        if (s->w[i].pid > 0) {
            kill(s->w[i].pid, sig);
        }
    }
}

static void ended(struct supervisor *s, int i, int status)
{
    struct worker *w = &s->w[i];
    char how[128];
    double t = now();
    int pid = (int)w->pid;

    status_text(status, how, sizeof(how));
    w->pid = 0;
    if (w->ready_fd >= 0) {
        close(w->ready_fd);
        w->ready_fd = -1;
    }
    if (s->stopping) {
        int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        s->failed |= !clean;
        if (clean) {
            log_info("worker %d stopped", i + 1);
        } else {
            log_error("worker %d (pid %d) %s while stopping", i + 1, pid, how);
        }
        return;
    }
    if (!s->started) {
        /* Its own lines said why (the database, the port); the others are stopped. */
        log_error("worker %d (pid %d) %s before it was ready: stopping", i + 1, pid, how);
        s->failed = 1;
        stop(s, SIGTERM);
        return;
    }
    schedule(s, i, t);
    log_error("worker %d (pid %d) %s after %.1f s; starting it again in %.1f s", i + 1, pid, how, t - w->started,
              w->pause);
}

static void reap(struct supervisor *s)
{
    pid_t pid;
    int status;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < s->cfg.workers; i++) {
            if (s->w[i].pid == pid) {
                ended(s, i, status);
            }
        }
    }
}

static void signalled(struct supervisor *s)
{
    struct signalfd_siginfo si;

    while (read(s->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGCHLD) {
            reap(s);
        } else {
            stop(s, (int)si.ssi_signo);
        }
    }
}

static void heard(struct supervisor *s, int i)
{
    struct worker *w = &s->w[i];
    char b;

    if (read(w->ready_fd, &b, 1) == 1) {
        w->ready = 1;
        log_info("worker %d ready (pid %d)", i + 1, (int)w->pid);
    }
    close(w->ready_fd);     /* a byte, or the end of a worker that died first */
    w->ready_fd = -1;
    int all = 1;
    for (int k = 0; k < s->cfg.workers; k++) {
        all &= s->w[k].ready;
    }
    if (all && !s->started) {
        s->started = 1;
        log_info("all %d workers ready", s->cfg.workers);
    }
}

/* Until every worker has ended after a stop signal. */
static void supervise(struct supervisor *s)
{
    struct pollfd p[WORKERS_MAX + 1];
    int of[WORKERS_MAX + 1];

    for (;;) {
        int n = 0, running = 0;
        double t = now(), next = -1;

        p[n++] = (struct pollfd){ .fd = s->sig_fd, .events = POLLIN };
        for (int i = 0; i < s->cfg.workers; i++) {
            struct worker *w = &s->w[i];
            if (w->restart_at > 0 && w->restart_at <= t && start(s, i) < 0) {
                schedule(s, i, t);
            }
            running += w->pid > 0;
            if (w->ready_fd >= 0) {
                of[n] = i;
                p[n++] = (struct pollfd){ .fd = w->ready_fd, .events = POLLIN };
            }
            if (w->restart_at > 0 && (next < 0 || w->restart_at < next)) {
                next = w->restart_at;
            }
        }
        if (s->stopping && running == 0) {
            return;
        }
        if (s->stopping && t >= s->stop_by) {
            log_error("shutdown: %d workers still running after %.0f s: killed", running, STOP_WAIT);
            stop(s, SIGKILL);
            s->stop_by = t + STOP_WAIT;
        }
        if (s->stopping) {
            next = s->stop_by;
        }
        int ms = next < 0 ? -1 : next <= t ? 0 : (int)((next - t) * 1000) + 1;
        if (poll(p, (nfds_t)n, ms) < 0) {
            continue;
        }
        for (int k = 1; k < n; k++) {
            if (p[k].revents != 0) {
                heard(s, of[k]);
            }
        }
        if (p[0].revents != 0) {
            signalled(s);
        }
    }
}

int workers_run(const struct config *cfg)
{
    static struct supervisor s;     /* static: a worker's server lives on the stack beside it */
    static const int signals[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP };
    char err[256], where[512], why[256];
    sigset_t set;

    s.cfg = *cfg;
    s.cfg.reuseport = 1;
    if (bus_check(cfg, why, sizeof(why)) < 0) {
        fprintf(stderr, "arcaded: %s\n", why);
        return 1;
    }
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
        sigaddset(&set, signals[i]);
    }
    sigprocmask(SIG_BLOCK, &set, &s.old_mask);
    s.sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s.sig_fd < 0) {
        log_error("signalfd: %s", strerror(errno));
        return 1;
    }
    if (net_reserve(cfg->bind, &s.cfg.port, &s.reserved_fd, err, sizeof(err)) < 0) {
        log_error("cannot listen on %s:%d: %s", cfg->bind, cfg->port, err);
        close(s.sig_fd);
        return 1;
    }
    db_describe(cfg->db, where, sizeof(where));
    const char *fmt = strchr(cfg->bind, ':') != NULL ? "listening on [%s]:%d (tcp and udp), database %s, %d workers"
                                                      : "listening on %s:%d (tcp and udp), database %s, %d workers";
    log_msg(LOG_ALWAYS, fmt, cfg->bind, s.cfg.port, where, cfg->workers);
    for (int i = 0; i < cfg->workers; i++) {
        s.w[i].ready_fd = -1;
    }
    for (int i = 0; i < cfg->workers && !s.failed; i++) {
        if (start(&s, i) < 0) {
            s.failed = 1;
            stop(&s, SIGTERM);
        }
    }
    supervise(&s);
    close(s.reserved_fd);
    close(s.sig_fd);
    log_info("shutdown: %s", s.failed ? "done, a worker did not stop cleanly" : "done");
    return s.failed ? 1 : 0;
}
