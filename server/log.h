/*
 * log: one line per event on stderr, with a level filter (--quiet, --verbose).
 */
#ifndef ARCADE_LOG_H
#define ARCADE_LOG_H

enum log_level {
    LOG_ALWAYS = 0, /* the start line, which carries the port */
    LOG_ERROR = 1,  /* shown even with --quiet */
    LOG_INFO = 2,   /* start and shutdown steps: the default */
    LOG_DEBUG = 3,  /* every connection: --verbose */
};

void log_set_level(enum log_level level);
/* Lines say "arcaded[worker]:" from now on, rather than "arcaded:" (--workers). */
void log_set_worker(int worker);
int log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_enabled(LOG_DEBUG)) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
