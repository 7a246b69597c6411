/* The load generator: histogram percentiles on known data, the command line's refusals, and
 * short real runs, one against bin/arcaded (named players whose rounds the server must have
 * stored, one for each op counted) and one against a fake server that answers wrongly, which
 * must count errors; pvp against bin/arcaded (its check read against the database itself) and
 * against bin/arcade-null (no API: the check is skipped). No assertion depends on timing. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "harness.h"
#include "httpget.h"
#include "suite.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static struct bench_hist *hist_new(void)
{
    struct bench_hist *h = malloc(sizeof(*h));
    ck_assert_ptr_nonnull(h);
    bench_hist_init(h);
    return h;
}

/* |got - want| within 1% of want. */
static void assert_close(uint64_t got, uint64_t want)
{
    double diff = got > want ? (double)(got - want) : (double)(want - got);
    ck_assert_msg(diff <= 0.01 * (double)want, "got %llu, want %llu within 1%%", (unsigned long long)got,
                  (unsigned long long)want);
}

START_TEST(test_hist_small_values_are_exact)
{
    struct bench_hist *h = hist_new();
    for (uint64_t v = 0; v < 256; v++) {
        bench_hist_record(h, v);
    }
    ck_assert_uint_eq(h->count, 256);
    ck_assert_uint_eq(bench_hist_percentile(h, 50), 127);  /* rank 128 of 0..255 */
    ck_assert_uint_eq(bench_hist_percentile(h, 100), 255);
    ck_assert_uint_eq(bench_hist_percentile(h, 0.1), 0);
    ck_assert_uint_eq(bench_hist_percentile(h, 25), 63);
    free(h);
}
END_TEST

START_TEST(test_hist_percentiles_within_one_percent)
{
    /* 1 us .. 10 ms in steps of 1 us: percentile p is p% of 10 ms. */
    struct bench_hist *h = hist_new();
    for (uint64_t i = 1; i <= 10000; i++) {
        bench_hist_record(h, i * 1000);
    }
    for (int p = 1; p <= 100; p++) {
        assert_close(bench_hist_percentile(h, p), (uint64_t)p * 100 * 1000);
    }
    assert_close(bench_hist_percentile(h, 99.9), 9990000);
    ck_assert_uint_eq(h->min, 1000);
    ck_assert_uint_eq(h->max, 10000000);
    ck_assert_uint_eq(bench_hist_percentile(h, 100), 10000000);
    free(h);
}
END_TEST

START_TEST(test_hist_skewed_data)
{
    /* 990 fast answers at 100 us and 10 slow ones at 50 ms: p99 is still fast, p99.1 slow. */
    struct bench_hist *h = hist_new();
    for (int i = 0; i < 990; i++) {
        bench_hist_record(h, 100000);
    }
    for (int i = 0; i < 10; i++) {
        bench_hist_record(h, 50000000);
    }
    assert_close(bench_hist_percentile(h, 50), 100000);
    assert_close(bench_hist_percentile(h, 99), 100000);
    ck_assert_uint_eq(bench_hist_percentile(h, 99.1), 50000000);
    ck_assert_uint_eq(bench_hist_percentile(h, 100), 50000000);
    free(h);
}
END_TEST

START_TEST(test_hist_huge_value_is_clamped_not_lost)
{
    struct bench_hist *h = hist_new();
    bench_hist_record(h, 5);
    bench_hist_record(h, UINT64_MAX / 2);
    ck_assert_uint_eq(h->count, 2);
    ck_assert_uint_eq(bench_hist_percentile(h, 50), 5);
    ck_assert_uint_eq(bench_hist_percentile(h, 100), UINT64_MAX / 2);
    free(h);
}
END_TEST

START_TEST(test_hist_merge_equals_one_histogram)
{
    struct bench_hist *all = hist_new();
    struct bench_hist *a = hist_new();
    struct bench_hist *b = hist_new();
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t v = x % 50000000;
        bench_hist_record(all, v);
        bench_hist_record(i % 3 == 0 ? a : b, v);
    }
    bench_hist_merge(a, b);
    ck_assert_uint_eq(a->count, all->count);
    ck_assert_uint_eq(a->min, all->min);
    ck_assert_uint_eq(a->max, all->max);
    for (double p = 0.5; p <= 100; p += 0.5) {
        ck_assert_uint_eq(bench_hist_percentile(a, p), bench_hist_percentile(all, p));
    }
    free(all);
    free(a);
    free(b);
}
END_TEST

START_TEST(test_hist_empty)
{
    struct bench_hist *h = hist_new();
    ck_assert_uint_eq(bench_hist_percentile(h, 99), 0);
    free(h);
}
END_TEST

static int parse(int argc, char **argv, struct bench_opts *o)
{
    char err[256];
    return bench_parse(argc, argv, o, err, sizeof(err));
}

START_TEST(test_parse_good)
{
    struct bench_opts o;
    char *a[] = { "bench", "long", "-c", "7", "-p", "3", "-d", "0.5", "-t", "2", "--port", "6001", "--anonymous",
                  "--host", "localhost" };
    ck_assert_int_eq(parse(ARGC(a), a, &o), 0);
    ck_assert_int_eq(o.load, BENCH_LONG);
    ck_assert_int_eq(o.conns, 7);
    ck_assert_int_eq(o.depth, 3);
    ck_assert(o.secs == 0.5);
    ck_assert_int_eq(o.threads, 2);
    ck_assert_int_eq(o.port, 6001);
    ck_assert_int_eq(o.anonymous, 1);
    ck_assert_str_eq(o.host, "localhost");

    char *b[] = { "bench", "-c", "3", "-t", "8", "short" };    /* options before the load too */
    ck_assert_int_eq(parse(ARGC(b), b, &o), 0);
    ck_assert_int_eq(o.load, BENCH_SHORT);
    ck_assert_int_eq(o.threads, 3);                            /* never more threads than conns */
    ck_assert_int_eq(o.depth, 1);

    char *c[] = { "bench", "hold" };
    ck_assert_int_eq(parse(ARGC(c), c, &o), 0);
    ck_assert_int_eq(o.conns, 10000);
    ck_assert(o.secs == 60.0);
    ck_assert_int_eq(o.anonymous, 0);

    char *d[] = { "bench", "udp", "--help" };
    ck_assert_int_eq(parse(ARGC(d), d, &o), 1);
    char *e[] = { "bench", "udp", "-h" };
    ck_assert_int_eq(parse(ARGC(e), e, &o), 1);

    /* --timeout, which every arcade command takes: the connect and answer deadline. */
    ck_assert(o.timeout < 0);
    char *f[] = { "bench", "short", "--timeout", "0.25" };
    ck_assert_int_eq(parse(ARGC(f), f, &o), 0);
    ck_assert(o.timeout == 0.25);
    char *g[] = { "bench", "--timeout=7", "hold" };
    ck_assert_int_eq(parse(ARGC(g), g, &o), 0);
    ck_assert(o.timeout == 7.0);

    /* pvp's -c counts pairs: two connections each, so up to twice as many threads. */
    char *h[] = { "bench", "pvp", "-c", "3", "-t", "8" };
    ck_assert_int_eq(parse(ARGC(h), h, &o), 0);
    ck_assert_int_eq(o.load, BENCH_PVP);
    ck_assert_int_eq(o.conns, 3);
    ck_assert_int_eq(o.threads, 6);
    ck_assert_int_eq(o.depth, 1);
}
END_TEST

START_TEST(test_parse_refusals)
{
    struct bench_opts o;
    char *bad[][6] = {
        { "bench", "long", "-c", "0" },
        { "bench", "long", "-c", "abc" },
        { "bench", "long", "-c", "-5" },
        { "bench", "long", "-c", "12x" },
        { "bench", "long", "-c" },
        { "bench", "long", "-d", "0" },
        { "bench", "long", "-d", "-1" },
        { "bench", "long", "-t", "0" },
        { "bench", "long", "-p", "0" },
        { "bench", "long", "--port", "70000" },
        { "bench", "short", "-p", "4" },
        { "bench", "udp", "--anonymous" },
        { "bench", "pvp", "--anonymous" },
        { "bench", "pvp", "-p", "2" },
        { "bench", "pvp", "-c", "0" },
        { "bench", "long", "--bogus" },
        { "bench", "long", "-x" },
        { "bench", "nosuch" },
        { "bench" },
        { "bench", "long", "extra" },
        { "bench", "long", "--timeout", "0" },
        { "bench", "long", "--timeout", "soon" },
        { "bench", "long", "--timeout" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int argc = 0;
        while (argc < 6 && bad[i][argc] != NULL) {
            argc++;
        }
        ck_assert_msg(parse(argc, bad[i], &o) == -1, "case %zu (%s %s) was accepted", i, bad[i][1],
                      argc > 2 ? bad[i][2] : "");
        ck_assert_msg(bench_main(argc, bad[i]) == BENCH_EXIT_USAGE, "case %zu: exit status not 2", i);
    }
}
END_TEST

/* pvp plays named players, so a guest option is refused with a reason that says which loads take it. */
START_TEST(test_pvp_refuses_anonymous)
{
    struct bench_opts o;
    char err[256] = "";
    char *a[] = { "bench", "pvp", "--anonymous" };
    ck_assert_int_eq(bench_parse(ARGC(a), a, &o, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "--anonymous is for the long and hold loads only");
    char *b[] = { "bench", "sideways" };
    ck_assert_int_eq(bench_parse(ARGC(b), b, &o, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "unknown load 'sideways' (short, long, udp, hold or pvp)");
}
END_TEST

START_TEST(test_json_uint)
{
    uint64_t v = 7;
    ck_assert_int_eq(httpget_json_uint("{\"name\":\"a\",\"rounds\":12,\"wins\":3}", "rounds", &v), 0);
    ck_assert_uint_eq(v, 12);
    ck_assert_int_eq(httpget_json_uint("{\"rounds\":0}", "rounds", &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(httpget_json_uint("{\"rounds\":999999999999999999}", "rounds", &v), 0);
    ck_assert_uint_eq(v, 999999999999999999ull);
    const char *bad[] = {
        "{\"rounds\":1000000000000000000}",     /* 19 digits: past the bound */
        "{\"rounds\":-1}",
        "{\"rounds\":1e3}",
        "{\"rounds\":\"12\"}",
        "{\"rounds\":}",
        "{\"rounds\":12",                       /* cut off */
        "{\"round\":12}",
        "{\"wins\":1}",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 7;
        ck_assert_msg(httpget_json_uint(bad[i], "rounds", &v) == -1, "'%s' was read as %llu", bad[i],
                      (unsigned long long)v);
        ck_assert_uint_eq(v, 7);
    }
}
END_TEST

/* A port nothing listens on: one the kernel gave and took back. */
static int closed_port(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

START_TEST(test_cannot_connect_exits_3)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", closed_port());
    char *a[] = { "bench", "short", "-c", "1", "-d", "0.2", "--port", port };
    ck_assert_int_eq(bench_main(ARGC(a), a), BENCH_EXIT_CONNECT);
}
END_TEST

/* Parse argv and run it, which must go without an error: o and r get the options and the result. */
static void run_clean(int argc, char **argv, struct bench_opts *o, struct bench_result *r)
{
    char err[256] = "";
    ck_assert_int_eq(parse(argc, argv, o), 0);
    ck_assert_msg(bench_run(o, r, err, sizeof(err)) == 0, "bench_run: %s", err);
    ck_assert_msg(r->errors == 0, "%s: %llu errors, first: %s", argv[1], (unsigned long long)r->errors,
                  r->first_error);
}

/* Start arcaded with --quiet, its port into port (16 bytes). */
static void start_quiet(struct harness *srv, char *port)
{
    ck_assert_msg(harness_start(srv, "--quiet", NULL) == 0, "server did not start: %s", srv->first);
    snprintf(port, 16, "%d", srv->port);
}

START_TEST(test_long_against_arcaded)
{
    struct harness srv;
    struct bench_opts o;
    char port[16];
    start_quiet(&srv, port);
    char *a[] = { "bench", "long", "-c", "2", "-d", "1", "-t", "1", "--port", port };
    struct bench_result *r = malloc(sizeof(*r));
    ck_assert_ptr_nonnull(r);
    run_clean(ARGC(a), a, &o, r);
    ck_assert_uint_gt(r->ops, 0);
    ck_assert_uint_eq(r->hist.count, r->ops);
    /* The two named players exist, and every round counted as an op was stored (the totals
     * are complete once the server has stopped and folded its tally log). */
    ck_assert_int_eq(harness_stop(&srv), 0);
    ck_assert_int_eq(harness_sql_int(srv.db, "SELECT count(*) FROM players WHERE name IN ('bench0x0', 'bench0x1')"), 2);
    ck_assert_int_eq(harness_sql_int(srv.db, "SELECT sum(rounds) FROM players WHERE name LIKE 'bench%'"),
                     (long long)r->ops);
    free(r);

    /* The same through the command's entry point: exit status 0 means no error. */
    ck_assert_msg(harness_restart(&srv, "--quiet", NULL) == 0, "server did not restart: %s", srv.first);
    snprintf(port, sizeof(port), "%d", srv.port);
    char *b[] = { "bench", "long", "-c", "2", "-d", "0.3", "--port", port };
    ck_assert_int_eq(bench_main(ARGC(b), b), BENCH_EXIT_OK);
    harness_cleanup(&srv);
}
END_TEST

/* r's summary line, as bench_summary writes it. */
static void summary_of(const struct bench_opts *o, const struct bench_result *r, char *line, size_t cap)
{
    FILE *f = fmemopen(line, cap, "w");
    ck_assert_ptr_nonnull(f);
    bench_summary(f, o, r);
    fclose(f);
}

/* Pairs of new players, every rated round they were told of stored: the check says so, and so
 * does the database read on its own after the server stopped. A count told that differs from what
 * the server holds is an error of the check. */
START_TEST(test_pvp_against_arcaded)
{
    struct harness srv;
    struct bench_opts o;
    char port[16];
    start_quiet(&srv, port);
    char *a[] = { "bench", "pvp", "-c", "2", "-d", "1", "--port", port };
    struct bench_result *r = malloc(sizeof(*r));
    struct bench_result *wrong = malloc(sizeof(*wrong));
    ck_assert(r != NULL && wrong != NULL);
    run_clean(ARGC(a), a, &o, r);
    ck_assert_int_eq(r->check, BENCH_CHECK_DONE);
    ck_assert_uint_gt(r->told, 0);
    ck_assert_uint_eq(r->stored, r->told);
    ck_assert_uint_eq(r->ops, r->told / 2);
    ck_assert_uint_gt(r->hist.count, 0);
    ck_assert_uint_le(r->hist.count, r->told);
    char line[512], want[64];
    summary_of(&o, r, line, sizeof(line));
    snprintf(want, sizeof(want), ", stored %llu of %llu", (unsigned long long)r->ops, (unsigned long long)r->ops);
    ck_assert_msg(strncmp(line, "pvp: 2 pairs, ", 14) == 0 && strstr(line, want) != NULL, "%s", line);

    /* Two results fewer than told than the server holds: the check fails, and says so. */
    memcpy(wrong, r, sizeof(*r));
    wrong->told += 2;
    bench_check(&o, wrong);
    ck_assert_int_eq(wrong->check, BENCH_CHECK_DONE);
    ck_assert_uint_eq(wrong->errors, 1);
    ck_assert_msg(strstr(wrong->first_error, "rated rounds of this run's players, it told of") != NULL, "%s",
                  wrong->first_error);

    ck_assert_int_eq(harness_stop(&srv), 0);
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM players WHERE name LIKE 'bp%s-_'", r->run);
    ck_assert_int_eq(harness_sql_int(srv.db, sql), 4);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM rounds JOIN players a ON a.id = rounds.a JOIN players b ON b.id = rounds.b"
             " WHERE a.name LIKE 'bp%s-%%' AND b.name LIKE 'bp%s-%%'", r->run, r->run);
    ck_assert_int_eq(harness_sql_int(srv.db, sql), (long long)r->ops);
    snprintf(sql, sizeof(sql), "SELECT sum(rounds) FROM players WHERE name LIKE 'bp%s-%%'", r->run);
    ck_assert_int_eq(harness_sql_int(srv.db, sql), (long long)(r->told + r->bot));
    free(wrong);
    free(r);

    /* The command: a new run, new names, exit status 0. */
    ck_assert_msg(harness_restart(&srv, "--quiet", NULL) == 0, "server did not restart: %s", srv.first);
    snprintf(port, sizeof(port), "%d", srv.port);
    char *b[] = { "bench", "pvp", "-c", "2", "-d", "0.3", "--port", port };
    ck_assert_int_eq(bench_main(ARGC(b), b), BENCH_EXIT_OK);
    ck_assert_int_eq(harness_stop(&srv), 0);
    ck_assert_int_eq(harness_sql_int(srv.db, "SELECT count(*) FROM players WHERE name LIKE 'bp%'"), 8);
    harness_cleanup(&srv);
}
END_TEST

/* The baseline answers pvp's frames, and its guests' and short requests as before; it has no API,
 * so the check is skipped, which is no error. */
START_TEST(test_pvp_against_null)
{
    struct harness srv;
    ck_assert_msg(harness_start_null(&srv) == 0, "%s did not start: %s", harness_null(), srv.first);
    char port[16];
    snprintf(port, sizeof(port), "%d", srv.port);
    struct bench_opts o;
    struct bench_result *r = malloc(sizeof(*r));
    ck_assert_ptr_nonnull(r);
    char line[512];

    char *a[] = { "bench", "pvp", "-c", "2", "-d", "0.3", "--port", port };
    run_clean(ARGC(a), a, &o, r);
    ck_assert_uint_gt(r->ops, 0);
    ck_assert_uint_eq(r->bot, 0);
    ck_assert_int_eq(r->check, BENCH_CHECK_SKIPPED);
    ck_assert_msg(strstr(r->check_why, "not over HTTP") != NULL, "%s", r->check_why);
    summary_of(&o, r, line, sizeof(line));
    ck_assert_msg(strstr(line, ", errors 0, check skipped\n") != NULL, "%s", line);

    const char *const others[][2] = { { "long", "--anonymous" }, { "short", NULL } };
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        char *b[] = { "bench", (char *)others[i][0], "-c", "2", "-d", "0.2", "--port", port, (char *)others[i][1] };
        run_clean(others[i][1] != NULL ? ARGC(b) : ARGC(b) - 1, b, &o, r);
        ck_assert_uint_gt(r->ops, 0);
        ck_assert_int_eq(r->check, BENCH_CHECK_NONE);
    }
    free(r);
    harness_cleanup(&srv);
}
END_TEST

/* A server that answers every short request with answer (NULL: closes without a word). */
static pid_t fake_server(int *port, const char *answer)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(fd, 64), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid > 0) {
        close(fd);
        return pid;
    }
    for (;;) {
        int c = accept(fd, NULL, NULL);
        char buf[64];
        if (c >= 0 && answer != NULL && read(c, buf, sizeof(buf)) > 0 &&
            write(c, answer, strlen(answer)) < 0) {
            _exit(1);
        }
        if (c >= 0) {
            close(c);
        }
    }
}

START_TEST(test_wrong_answers_are_errors)
{
    int port;
    pid_t pid = fake_server(&port, "d145\n");
    struct bench_opts o;
    char ports[16];
    snprintf(ports, sizeof(ports), "%d", port);
    char *a[] = { "bench", "short", "-c", "1", "-d", "0.3", "--port", ports };
    ck_assert_int_eq(parse(ARGC(a), a, &o), 0);
    struct bench_result *r = malloc(sizeof(*r));
    ck_assert_ptr_nonnull(r);
    char err[256] = "";
    int rc = bench_run(&o, r, err, sizeof(err));
    int exit_status = bench_main(ARGC(a), a);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ck_assert_msg(rc == 0, "bench_run: %s", err);
    ck_assert_uint_eq(r->ops, 0);
    ck_assert_uint_gt(r->errors, 0);
    ck_assert_msg(strstr(r->first_error, "d145") != NULL, "first error: %s", r->first_error);
    ck_assert_int_eq(exit_status, BENCH_EXIT_ERRORS);
    free(r);
}
END_TEST

/* Run a short load against a fake server answering answer; r gets the result. */
static void short_against(const char *answer, struct bench_result *r, char *summary, size_t cap, char *notes,
                          size_t ncap)
{
    int port;
    pid_t pid = fake_server(&port, answer);
    struct bench_opts o;
    char ports[16];
    snprintf(ports, sizeof(ports), "%d", port);
    char *a[] = { "bench", "short", "-c", "1", "-t", "1", "-d", "0.2", "--port", ports };
    ck_assert_int_eq(parse(ARGC(a), a, &o), 0);
    char err[256] = "";
    int rc = bench_run(&o, r, err, sizeof(err));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ck_assert_msg(rc == 0, "bench_run: %s", err);
    FILE *f = fmemopen(summary, cap, "w");
    bench_summary(f, &o, r);
    fclose(f);
    f = fmemopen(notes, ncap, "w");
    bench_explain(f, &o, r);
    fclose(f);
}

/* What the server refused, closed or answered with an error is counted by kind and explained,
 * not only counted as errors. */
START_TEST(test_refusals_closes_and_error_answers_are_told)
{
    struct bench_result *r = malloc(sizeof(*r));
    char summary[512], notes[1024];
    ck_assert_ptr_nonnull(r);

    short_against("ebusy\n", r, summary, sizeof(summary), notes, sizeof(notes));
    ck_assert_uint_gt(r->refused, 0);
    ck_assert_uint_eq(r->errors, r->refused);
    ck_assert_uint_eq(r->ops, 0);
    ck_assert_msg(strstr(summary, ", errors ") != NULL && strstr(summary, " (refused ") != NULL, "%s", summary);
    ck_assert_msg(strstr(notes, "connections (ebusy): the server's limits were hit, see arcaded --max-conns, "
                                "--addr-conns and --conn-rate\n") != NULL,
                  "%s", notes);

    short_against("eunknown op\n", r, summary, sizeof(summary), notes, sizeof(notes));
    ck_assert_uint_gt(r->error_answers, 0);
    ck_assert_uint_eq(r->refused, 0);
    ck_assert_msg(strstr(summary, " (error answers ") != NULL, "%s", summary);
    ck_assert_msg(strstr(notes, "requests with an error") != NULL, "%s", notes);
    ck_assert_msg(strstr(r->first_error, "answered eunknown op") != NULL, "%s", r->first_error);

    short_against(NULL, r, summary, sizeof(summary), notes, sizeof(notes));
    ck_assert_uint_gt(r->closed, 0);
    ck_assert_msg(strstr(summary, " (closed ") != NULL, "%s", summary);
    ck_assert_msg(strstr(notes, "the server closed ") != NULL, "%s", notes);
    free(r);
}
END_TEST

/* A real arcaded refusing connections past --addr-conns: hold counts the refusals, and the
 * command's exit status is 1. */
START_TEST(test_hold_past_addr_conns_is_refused)
{
    struct harness srv;
    ck_assert_msg(harness_start(&srv, "--quiet", "--addr-conns", "3", NULL) == 0, "server did not start: %s",
                  srv.first);
    char port[16];
    snprintf(port, sizeof(port), "%d", srv.port);
    char *a[] = { "bench", "hold", "-c", "5", "-t", "1", "-d", "0.1", "--port", port };
    struct bench_opts o;
    ck_assert_int_eq(parse(ARGC(a), a, &o), 0);
    struct bench_result *r = malloc(sizeof(*r));
    ck_assert_ptr_nonnull(r);
    char err[256] = "";
    ck_assert_msg(bench_run(&o, r, err, sizeof(err)) == 0, "bench_run: %s", err);
    /* Three of the five at most: the bench's first connection (the check that the server answers)
     * may still count against the address when the five arrive, if the server has not yet read its
     * end (a database that answers later makes that likelier); then only two get in. */
    ck_assert_uint_le(r->held, 3);
    ck_assert_uint_ge(r->held, 2);
    ck_assert_uint_eq(r->refused, 5 - r->held);
    ck_assert_uint_eq(r->errors, r->refused);
    ck_assert_int_eq(bench_main(ARGC(a), a), BENCH_EXIT_ERRORS);
    free(r);
    harness_cleanup(&srv);
}
END_TEST

/* A listener that accepts (in the kernel's backlog) and never answers. */
static int silent_listener(int *port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(fd, 64), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* --timeout is the answer deadline: an unanswered request is missing after it, not after 5 s. */
START_TEST(test_timeout_is_the_answer_deadline)
{
    int port;
    int l = silent_listener(&port);
    char ports[16];
    snprintf(ports, sizeof(ports), "%d", port);
    char *a[] = { "bench", "short", "-c", "1", "-t", "1", "-d", "0.2", "--timeout", "0.3", "--port", ports };
    struct bench_opts o;
    ck_assert_int_eq(parse(ARGC(a), a, &o), 0);
    struct bench_result *r = malloc(sizeof(*r));
    ck_assert_ptr_nonnull(r);
    char err[256] = "";
    ck_assert_msg(bench_run(&o, r, err, sizeof(err)) == 0, "bench_run: %s", err);
    close(l);
    ck_assert_uint_eq(r->ops, 0);
    ck_assert_uint_gt(r->errors, 0);
    ck_assert_msg(strstr(r->first_error, "missing after 0.3 s") != NULL, "first error: %s", r->first_error);
    free(r);
}
END_TEST

static Suite *bench_suite(void)
{
    Suite *s = suite_create("bench");
    /* Against PostgreSQL only the runs: the rest starts no server, and would run again as it is (a
     * case made but never added is memory LeakSanitizer counts in every test's process). */
    if (!harness_engine_pg()) {
        TCase *hist = tcase_create("histogram");
        tcase_add_test(hist, test_hist_small_values_are_exact);
        tcase_add_test(hist, test_hist_percentiles_within_one_percent);
        tcase_add_test(hist, test_hist_skewed_data);
        tcase_add_test(hist, test_hist_huge_value_is_clamped_not_lost);
        tcase_add_test(hist, test_hist_merge_equals_one_histogram);
        tcase_add_test(hist, test_hist_empty);
        suite_add_tcase(s, hist);
        TCase *args = tcase_create("arguments");
        tcase_add_test(args, test_parse_good);
        tcase_add_test(args, test_parse_refusals);
        tcase_add_test(args, test_pvp_refuses_anonymous);
        tcase_add_test(args, test_json_uint);
        suite_add_tcase(s, args);
    }

    TCase *runs = tcase_create("runs");
    tcase_set_timeout(runs, 60);
    tcase_add_test(runs, test_cannot_connect_exits_3);
    tcase_add_test(runs, test_long_against_arcaded);
    tcase_add_test(runs, test_wrong_answers_are_errors);
    tcase_add_test(runs, test_timeout_is_the_answer_deadline);
    tcase_add_test(runs, test_refusals_closes_and_error_answers_are_told);
    tcase_add_test(runs, test_hold_past_addr_conns_is_refused);
    tcase_add_test(runs, test_pvp_against_arcaded);
    tcase_add_test(runs, test_pvp_against_null);
    suite_add_tcase(s, runs);
    return s;
}

int main(void)
{
    return suite_run(bench_suite());
}
