/*
 * log: timestamped lines on stderr. A line is formatted whole and written with
 * one write() so lines never interleave.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum log_level current = LOG_INFO;
static char name[32] = "arcaded";  /* who speaks: "arcaded", or "arcaded[2]" for a worker */

void log_set_level(enum log_level level)
{
    current = level;
}

void log_set_worker(int worker)
{
    snprintf(name, sizeof(name), "arcaded[%d]", worker);
}

int log_enabled(enum log_level level)
{
    return level <= current;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *const tags[] = { "", "error: ", "", "" };
    char line[1024];
    struct timeval tv;
    struct tm tm;

    if (!log_enabled(level)) {
        return;
    }
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03dZ %s: %s", (int)(tv.tv_usec / 1000), name,
                          tags[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    n += m < 0 ? 0 : ((size_t)m < sizeof(line) - n - 1 ? (size_t)m : sizeof(line) - n - 2);
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0) {
        return;
    }
}
