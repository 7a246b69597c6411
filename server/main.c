/*
 * arcaded: the arcade game server. Options, limits and signals; the loop is in server.c.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bus.h"
#include "log.h"
#include "db.h"
#include "server.h"
#include "workers.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: arcaded [options]\n"
            "  --port N            TCP and UDP port (default 5000; 0 picks a free one)\n"
            "  --bind ADDR         address to listen on (default 127.0.0.1)\n"
            "  --db PATH|URI       SQLite database file (default arcade.db), or a PostgreSQL URI\n"
            "                      (postgresql://user@host/dbname; a password is better kept in\n"
            "                      ~/.pgpass or PGPASSWORD than on the command line)\n"
            "  --store PATH|URI    the same as --db\n"
            "  --sync MODE         normal (default: survives a killed process) or full (also power loss)\n"
            "  --lock-wait S       how long results wait for a database locked elsewhere (default 5)\n"
            "  --max-conns N       open connections at most (default 10000)\n"
            "  --addr-conns N      open connections one address may hold (default 500; 0: no limit)\n"
            "  --conn-rate N       new connections per second from one address (default 0: no limit)\n"
            "  --frame-rate N      frames per second on one long connection (default 1000; 0: no limit)\n"
            "  --udp-rate N        datagrams per second from one source address (default 1000; 0: no limit)\n"
            "  --name-rate N       new names (players, registrations) a minute from one address (default 60;\n"
            "                      0: no limit)\n"
            "  --out-max BYTES     queued output per connection before it is dropped (default 262144)\n"
            "  --out-total BYTES   output held for all connections before answers wait (default 67108864)\n"
            "  --idle-timeout S    close a silent short connection after S seconds (default 10)\n"
            "  --long-idle-timeout S  close a silent long connection after S seconds (default 300)\n"
            "  --move-timeout S    move window of a player-vs-player round (default 30)\n"
            "  --queue-timeout S   longest wait for an opponent (default 30)\n"
            "  --proxy-from ADDR[/BITS]  connections from these addresses (a comma list; repeatable)\n"
            "                      start with a PROXY header (version 2) naming the client (default none)\n"
            "  --bus URI           share names and the queue with other arcaded on the same --db through\n"
            "                      Redis: redis://[[user]:password@]host[:port][/db] or unix://[...@]/path\n"
            "  --workers N         processes serving the port, each one loop on one core (default 1;\n"
            "                      at most %d); more than 1 needs a PostgreSQL --db and a --bus\n"
            "  --quiet             log errors only\n"
            "  --verbose           log every connection\n"
            "  -h, --help, --version\n",
            WORKERS_MAX);
}

/* Parse a number in [min, max]; exits with a message otherwise. */
static double number(const char *opt, const char *s, double min, double max)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "arcaded: %s wants a number from %g to %g, not '%s'\n", opt, min, max, s);
        exit(2);
    }
    return v;
}

#define PROXY_FROM_MAX 64

/* Add the comma-separated networks of s to nets; exits with a message for one that is not. */
static void proxy_from(const char *s, struct proxy_net *nets, size_t *n)
{
    for (;;) {
        size_t len = strcspn(s, ",");
        if (*n == PROXY_FROM_MAX) {
            fprintf(stderr, "arcaded: --proxy-from takes at most %d networks\n", PROXY_FROM_MAX);
            exit(2);
        }
        if (proxy_net_parse(s, len, &nets[*n]) < 0) {
            fprintf(stderr, "arcaded: --proxy-from wants ADDR or ADDR/BITS (IPv4 or IPv6, host bits zero), not '%.*s'\n",
                    (int)len, s);
            exit(2);
        }
        ++*n;
        if (s[len] == '\0') {
            return;
        }
        s += len + 1;
    }
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
            log_error("cannot raise the open file limit: %s", strerror(errno));
        }
    }
}

int main(int argc, char **argv)
{
    enum { OPT_SYNC = 256, OPT_LOCK_WAIT, OPT_MAX_CONNS, OPT_ADDR_CONNS, OPT_CONN_RATE, OPT_FRAME_RATE, OPT_UDP_RATE, OPT_NAME_RATE, OPT_OUT_MAX, OPT_OUT_TOTAL, OPT_IDLE, OPT_LONG_IDLE, OPT_MOVE, OPT_QUEUE, OPT_PROXY_FROM, OPT_BUS, OPT_WORKERS, OPT_QUIET, OPT_VERBOSE };
    static const struct option options[] = {
        { "port", required_argument, NULL, 'p' },
        { "bind", required_argument, NULL, 'b' },
        { "db", required_argument, NULL, 'd' },
        { "store", required_argument, NULL, 'd' },
        { "sync", required_argument, NULL, OPT_SYNC },
        { "lock-wait", required_argument, NULL, OPT_LOCK_WAIT },
        { "max-conns", required_argument, NULL, OPT_MAX_CONNS },
        { "addr-conns", required_argument, NULL, OPT_ADDR_CONNS },
        { "conn-rate", required_argument, NULL, OPT_CONN_RATE },
        { "frame-rate", required_argument, NULL, OPT_FRAME_RATE },
        { "udp-rate", required_argument, NULL, OPT_UDP_RATE },
        { "name-rate", required_argument, NULL, OPT_NAME_RATE },
        { "out-max", required_argument, NULL, OPT_OUT_MAX },
        { "out-total", required_argument, NULL, OPT_OUT_TOTAL },
        { "idle-timeout", required_argument, NULL, OPT_IDLE },
        { "long-idle-timeout", required_argument, NULL, OPT_LONG_IDLE },
        { "move-timeout", required_argument, NULL, OPT_MOVE },
        { "queue-timeout", required_argument, NULL, OPT_QUEUE },
        { "proxy-from", required_argument, NULL, OPT_PROXY_FROM },
        { "bus", required_argument, NULL, OPT_BUS },
        { "workers", required_argument, NULL, OPT_WORKERS },
        { "quiet", no_argument, NULL, OPT_QUIET },
        { "verbose", no_argument, NULL, OPT_VERBOSE },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    struct config cfg = {
        .bind = "127.0.0.1",
        .port = 5000,
        .db = "arcade.db",
        .lock_wait = 5,
        .max_conns = 10000,
        .addr_conns = 500,
        .conn_rate = 0,
        .frame_rate = 1000,
        .udp_rate = 1000,
        .name_rate = 60,
        .out_max = 256 * 1024,
        .out_total = 64 * 1024 * 1024,
        .idle_timeout = 10,
        .long_idle_timeout = 300,
        .move_timeout = 30,
        .queue_timeout = 30,
        .workers = 1,
    };
    static struct proxy_net proxies[PROXY_FROM_MAX];
    int opt;

    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'p': cfg.port = (int)number("--port", optarg, 0, 65535); break;
        case 'b': cfg.bind = optarg; break;
        case 'd': cfg.db = optarg; break;
        case OPT_SYNC:
            if (strcmp(optarg, "full") != 0 && strcmp(optarg, "normal") != 0) {
                fprintf(stderr, "arcaded: --sync wants normal or full, not '%s'\n", optarg);
                return 2;
            }
            cfg.sync_full = strcmp(optarg, "full") == 0;
            break;
        case OPT_LOCK_WAIT: cfg.lock_wait = number("--lock-wait", optarg, 0, 3600); break;
        case OPT_MAX_CONNS: cfg.max_conns = (int)number("--max-conns", optarg, 1, 1000000); break;
        case OPT_ADDR_CONNS: cfg.addr_conns = (int)number("--addr-conns", optarg, 0, 1000000); break;
        case OPT_CONN_RATE: cfg.conn_rate = number("--conn-rate", optarg, 0, 1e9); break;
        case OPT_FRAME_RATE: cfg.frame_rate = number("--frame-rate", optarg, 0, 1e9); break;
        case OPT_NAME_RATE: cfg.name_rate = number("--name-rate", optarg, 0, 1e9); break;
        case OPT_UDP_RATE: cfg.udp_rate = number("--udp-rate", optarg, 0, 1e9); break;
        case OPT_OUT_MAX: cfg.out_max = (uint32_t)number("--out-max", optarg, 64, 1 << 30); break;
        case OPT_OUT_TOTAL: cfg.out_total = (size_t)number("--out-total", optarg, 65536, 1e12); break;
        case OPT_IDLE: cfg.idle_timeout = number("--idle-timeout", optarg, 0.01, 86400); break;
        case OPT_LONG_IDLE: cfg.long_idle_timeout = number("--long-idle-timeout", optarg, 0.01, 86400); break;
        case OPT_MOVE: cfg.move_timeout = number("--move-timeout", optarg, 0.01, 3600); break;
        case OPT_QUEUE: cfg.queue_timeout = number("--queue-timeout", optarg, 0.01, 3600); break;
        case OPT_PROXY_FROM: proxy_from(optarg, proxies, &cfg.nproxy_from); break;
        case OPT_BUS:
            if (!bus_is_uri(optarg)) {
                fprintf(stderr, "arcaded: --bus wants redis://[[user]:password@]host[:port][/db] or unix://[[user]:password@]/path\n");
                return 2;
            }
            cfg.bus = optarg;
            break;
        case OPT_WORKERS: cfg.workers = (int)number("--workers", optarg, 1, WORKERS_MAX); break;
        case OPT_QUIET: log_set_level(LOG_ERROR); break;
        case OPT_VERBOSE: log_set_level(LOG_DEBUG); break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("arcaded %s\n", ARCADE_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "arcaded: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    /* Servers that share names and matches must share what is stored of them. */
    if (cfg.bus != NULL && cfg.workers <= 1 && !db_shared(cfg.db)) {
        fprintf(stderr, "arcaded: --bus needs a shared database: --db postgresql://...\n");
        return 1;
    }
    /* A SQLite file has one writer: each worker would be another. */
    if (cfg.workers > 1 && !db_shared(cfg.db)) {
        fprintf(stderr, "arcaded: --workers needs a shared database: --db postgresql://...\n");
        return 1;
    }
    cfg.proxy_from = proxies;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);   /* past a file size limit, writes fail with EFBIG and the server goes on */
    raise_fd_limit();

    if (cfg.workers > 1) {
        return workers_run(&cfg);
    }
    struct server srv;
    if (server_init(&srv, &cfg) < 0) {
        return 1;
    }
    return server_run(&srv);
}
