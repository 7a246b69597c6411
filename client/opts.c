/*
 * opts: a small option walker instead of getopt_long, because arcade's
 * positionals may be negative numbers (`arcade square -2`) and getopt would
 * take them for options.
 */
#include "opts.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char opts_common_help[] =
    "  --host HOST      server address (default 127.0.0.1, or $ARCADE_HOST)\n"
    "  --port PORT      server port (default 5000, or $ARCADE_PORT)\n"
    "  --timeout S      seconds to wait for a connection or an answer (default 5)\n"
    "  -h, --help       show this help\n";

void opts_init(struct opts_parser *p, const struct opts_spec *specs, int argc, char **argv, int first)
{
    p->specs = specs;
    p->argc = argc;
    p->argv = argv;
    p->next = first;
    p->only_positional = 0;
}

/* "-2", "-.5", "-" alone: positionals, not options. */
static int looks_positional(const char *a)
{
    if (a[0] != '-' || a[1] == '\0') {
        return 1;
    }
    return isdigit((unsigned char)a[1]) || (a[1] == '.' && isdigit((unsigned char)a[2]));
}

static const struct opts_spec *find_long(const struct opts_spec *s, const char *name, size_t len)
{
    for (; s->name != NULL; s++) {
        if (strlen(s->name) == len && strncmp(s->name, name, len) == 0) {
            return s;
        }
    }
    return NULL;
}

static const struct opts_spec *find_letter(const struct opts_spec *s, char c)
{
    for (; s->name != NULL; s++) {
        if (s->letter != 0 && s->letter == c) {
            return s;
        }
    }
    return NULL;
}

int opts_next(struct opts_parser *p, const char **val, char *err, size_t errlen)
{
    *val = NULL;
    if (p->next >= p->argc) {
        return -1;
    }
    const char *a = p->argv[p->next++];
    if (p->only_positional || looks_positional(a)) {
        *val = a;
        return 0;
    }
    if (strcmp(a, "--") == 0) {
        p->only_positional = 1;
        return opts_next(p, val, err, errlen);
    }

    const struct opts_spec *s;
    const char *inline_val = NULL;
    if (a[1] == '-') {
        const char *eq = strchr(a + 2, '=');
        size_t len = eq != NULL ? (size_t)(eq - (a + 2)) : strlen(a + 2);
        s = find_long(p->specs, a + 2, len);
        inline_val = eq != NULL ? eq + 1 : NULL;
    } else {
        s = find_letter(p->specs, a[1]);
        inline_val = a[2] != '\0' ? a + 2 : NULL;
    }
    if (s == NULL) {
        snprintf(err, errlen, "unknown option %s", a);
        return -2;
    }
    if (!s->takes_value) {
        if (inline_val != NULL) {
            snprintf(err, errlen, "option %s takes no value", a);
            return -2;
        }
        return s->id;
    }
    if (inline_val == NULL) {
        if (p->next >= p->argc) {
            snprintf(err, errlen, "option %s needs a value", a);
            return -2;
        }
        inline_val = p->argv[p->next++];
    }
    *val = inline_val;
    return s->id;
}

int opts_int(const char *s, long lo, long hi, long *out, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (s[0] == '\0' || isspace((unsigned char)s[0]) || *end != '\0' || errno != 0 || v < lo || v > hi) {
        snprintf(err, errlen, "'%s' is not a whole number from %ld to %ld", s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int opts_port(const char *s, int *port, char *err, size_t errlen)
{
    long v;
    if (opts_int(s, 1, 65535, &v, err, errlen) < 0) {
        snprintf(err, errlen, "bad port '%s' (1 to 65535)", s);
        return -1;
    }
    *port = (int)v;
    return 0;
}

int opts_seconds(const char *s, double *secs, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (s[0] == '\0' || isspace((unsigned char)s[0]) || *end != '\0' || errno != 0 || !isfinite(v) ||
        v <= 0 || v > 86400) {
        snprintf(err, errlen, "bad number of seconds '%s' (above 0, at most 86400)", s);
        return -1;
    }
    *secs = v;
    return 0;
}

static int set_host(struct opts_conn *c, const char *host, char *err, size_t errlen)
{
    size_t n = strlen(host);
    if (n == 0 || n > OPTS_HOST_MAX) {
        snprintf(err, errlen, "bad host '%s'", host);
        return -1;
    }
    memcpy(c->host, host, n + 1);
    return 0;
}

int opts_conn_init(struct opts_conn *c, char *err, size_t errlen)
{
    snprintf(c->host, sizeof(c->host), "%s", OPTS_DEFAULT_HOST);
    c->port = OPTS_DEFAULT_PORT;
    c->timeout = OPTS_DEFAULT_TIMEOUT;

    const char *h = getenv("ARCADE_HOST");
    if (h != NULL && h[0] != '\0' && set_host(c, h, err, errlen) < 0) {
        return -1;
    }
    const char *p = getenv("ARCADE_PORT");
    if (p != NULL && p[0] != '\0' && opts_port(p, &c->port, err, errlen) < 0) {
        snprintf(err, errlen, "bad ARCADE_PORT '%s' (1 to 65535)", p);
        return -1;
    }
    return 0;
}

int opts_conn_apply(struct opts_conn *c, int id, const char *val, char *err, size_t errlen)
{
    switch (id) {
    case OPTS_HOST:
        return set_host(c, val, err, errlen);
    case OPTS_PORT:
        return opts_port(val, &c->port, err, errlen);
    case OPTS_TIMEOUT:
        return opts_seconds(val, &c->timeout, err, errlen);
    default:
        snprintf(err, errlen, "internal: option %d is not a connection option", id);
        return -1;
    }
}
