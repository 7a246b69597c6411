/* --proxy-from end to end: a proxy's connections start with a PROXY header (version 2) naming the
 * client, whose address the per-address limits then see; nobody else's header is read. Headers are
 * written here byte by byte from HAProxy's proxy-protocol.txt. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "expect.h"
#include "harness.h"
#include "suite.h"

#define WAIT_MS 10000
#define BUSY "ebusy\n"
#define HEADER_V4 28

/* A PROXY header for TCP over IPv4 from client (dotted) port 40000 to 10.0.0.1:5000, into b. */
static void header_v4(unsigned char b[HEADER_V4], const char *client)
{
    static const unsigned char fixed[16] = {
        0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,    /* signature */
        0x21,           /* version 2, PROXY */
        0x11,           /* INET, STREAM */
        0x00, 0x0c,     /* 12 bytes of addresses and ports */
    };
    memcpy(b, fixed, sizeof(fixed));
    ck_assert_int_eq(inet_pton(AF_INET, client, b + 16), 1);   /* source address */
    static const unsigned char rest[8] = { 10, 0, 0, 1, 0x9c, 0x40, 0x13, 0x88 };  /* dst; 40000; 5000 */
    memcpy(b + 20, rest, sizeof(rest));
}

/* Served (a request answered) or refused (ebusy), by what the connection gets for a3. */
static int refused(int fd)
{
    char got[64];
    send_str(fd, "a3\n");
    ssize_t n = harness_recv_line(fd, got, sizeof(got));
    if (n > 0 && strcmp(got, BUSY) == 0) {
        return 1;
    }
    ck_assert_msg(n > 0 && strcmp(got, "d9\n") == 0, "got \"%s\"", show(got, n > 0 ? (size_t)n : 0));
    return 0;
}

/* A proxy's connection whose header names client. */
static int via_proxy(int port, const char *proxy, const char *client)
{
    unsigned char b[HEADER_V4];
    int fd = dial_from(port, proxy, 0);
    header_v4(b, client);
    put(fd, b, sizeof(b));
    return fd;
}

/* With --addr-conns 1, two clients behind one proxy are both served; a second connection of either
 * is refused, as it would be without the proxy; the proxy's own address holds no share. */
START_TEST(test_limits_see_the_client_a_proxy_names)
{
    struct harness h;
    START(&h, "--proxy-from", "127.0.0.1", "--addr-conns", "1", NULL);
    int a = via_proxy(h.port, "127.0.0.1", "192.0.2.1");
    ck_assert_msg(!refused(a), "the first client behind the proxy was refused");
    int b = via_proxy(h.port, "127.0.0.1", "192.0.2.2");
    ck_assert_msg(!refused(b), "a second client behind the proxy was refused for the first's connection");
    int again = via_proxy(h.port, "127.0.0.1", "192.0.2.1");
    ck_assert_msg(refused(again), "192.0.2.1 held two connections with --addr-conns 1");
    expect_eof(again);
    close(again);
    /* Its place given back, the client gets in again. */
    close(a);
    double deadline = now_s() + WAIT_MS / 1000.0;
    int in = 0;
    while (!in && now_s() < deadline) {
        int fd = via_proxy(h.port, "127.0.0.1", "192.0.2.1");
        in = !refused(fd);
        close(fd);
    }
    ck_assert_msg(in, "192.0.2.1 could not connect again after closing its connection");
    close(b);
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

/* From an address not listed, a header is only bytes: it names nobody, and the connection counts as
 * its socket's address. */
START_TEST(test_nobody_else_can_name_a_client)
{
    struct harness h;
    char got[64];
    START(&h, "--proxy-from", "127.0.0.1", "--addr-conns", "1", NULL);
    int a = via_proxy(h.port, "127.0.0.2", "192.0.2.1");
    /* The header reaches the request-line service as lines: "\r\n\r\n" are blank lines, skipped;
     * "\0\r\n" is a request it does not know. */
    ssize_t n = harness_recv_line(a, got, sizeof(got));
    ck_assert_msg(n > 0 && got[0] == 'e' && strcmp(got, BUSY) != 0, "a header from 127.0.0.2 got \"%s\"",
                  show(got, n > 0 ? (size_t)n : 0));
    /* Another "client" from the same socket address is that address's second connection. */
    int b = via_proxy(h.port, "127.0.0.2", "192.0.2.2");
    n = harness_recv_line(b, got, sizeof(got));
    ck_assert_msg(n > 0 && strcmp(got, BUSY) == 0, "127.0.0.2 got a second connection in by naming 192.0.2.2: \"%s\"",
                  show(got, n > 0 ? (size_t)n : 0));
    close(a);
    close(b);
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

/* A listed address that does not send a header is closed, with a line in the log; one that sends
 * half a header is closed once the idle timeout has passed. */
START_TEST(test_a_proxy_without_a_header_is_closed)
{
    struct harness h;
    char log[8192];
    START(&h, "--proxy-from", "127.0.0.0/8", "--idle-timeout", "1", NULL);
    int fd = dial_from(h.port, "127.0.0.1", 0);
    send_str(fd, "a3\n");
    expect_eof(fd);
    close(fd);
    /* The log's file is made by a process of the harness that may not have run yet. */
    double deadline = now_s() + WAIT_MS / 1000.0;
    log[0] = '\0';
    while ((access(h.log, R_OK) < 0 || strstr(read_log(&h, log, sizeof(log)), "without a PROXY header") == NULL) &&
           now_s() < deadline) {
        usleep(20000);
    }
    ck_assert_msg(strstr(log, "without a PROXY header") != NULL, "log: %s", log);

    unsigned char b[HEADER_V4];
    header_v4(b, "192.0.2.1");
    fd = dial_from(h.port, "127.0.0.9", 0);
    put(fd, b, 20);
    double t0 = now_s();
    expect_eof(fd);
    ck_assert_msg(now_s() - t0 > 0.5, "closed after %.2f s, before the idle timeout", now_s() - t0);
    close(fd);
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

/* A header split over many writes, and LOCAL (the proxy's own check), are read as whole ones; the
 * client's bytes that follow the header are its own. */
START_TEST(test_split_and_local_headers_are_read)
{
    struct harness h;
    START(&h, "--proxy-from", "127.0.0.1", NULL);
    unsigned char b[HEADER_V4];
    header_v4(b, "203.0.113.7");
    int fd = dial_from(h.port, "127.0.0.1", 0);
    for (size_t i = 0; i < sizeof(b); i++) {
        put(fd, b + i, 1);
        usleep(2000);
    }
    ck_assert(!refused(fd));
    close(fd);

    static const unsigned char local[16] = {
        0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x20, 0x00, 0x00, 0x00,
    };
    fd = dial_from(h.port, "127.0.0.1", 0);
    put(fd, local, sizeof(local));
    ck_assert(!refused(fd));
    close(fd);
    ck_assert_int_eq(harness_stop(&h), 0);
    harness_cleanup(&h);
}
END_TEST

static Suite *proxy_e2e_suite(void)
{
    Suite *s = suite_create("proxy_e2e");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_limits_see_the_client_a_proxy_names);
    tcase_add_test(tc, test_nobody_else_can_name_a_client);
    tcase_add_test(tc, test_a_proxy_without_a_header_is_closed);
    tcase_add_test(tc, test_split_and_local_headers_are_read);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return suite_run(proxy_e2e_suite());
}
