/* redistest: see redistest.h. */
#include "redistest.h"

#include <check.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suite.h"

int redistest_answers(const char *sock)
{
    redisContext *c = redisConnectUnix(sock);
    int ok = 0;
    if (c != NULL && c->err == 0) {
        redisReply *rep = redisCommand(c, "PING");
        ok = rep != NULL && rep->type == REDIS_REPLY_STATUS;
        freeReplyObject(rep);
    }
    redisFree(c);
    return ok;
}

pid_t redistest_start(const char *dir, char *sock, size_t sockcap, char *uri, size_t uricap)
{
    snprintf(sock, sockcap, "%s/redis.sock", dir);
    snprintf(uri, uricap, "unix://%s", sock);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char logfile[256];
        snprintf(logfile, sizeof(logfile), "%s/redis.log", dir);
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly",
               "no", "--logfile", logfile, (char *)NULL);
        _exit(127);
    }
    suite_child(pid);
    for (int i = 0; i < 500 && !redistest_answers(sock); i++) {
        usleep(10000);  /* redis-server says nowhere when it is ready but by answering */
    }
    ck_assert_msg(redistest_answers(sock), "redis-server does not answer on %s", sock);
    return pid;
}

void redistest_kill(pid_t pid, const char *sock)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    suite_forget_child(pid);
    unlink(sock);
}

void redistest_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    kill(pid, SIGCONT);     /* a stopped one (SIGSTOP) would never get to its SIGTERM */
    waitpid(pid, NULL, 0);
    suite_forget_child(pid);
}
