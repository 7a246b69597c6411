/*
 * pgtest: throwaway PostgreSQL databases for the tests, made and dropped through the maintenance
 * database that ARCADE_TEST_PG names.
 */
#include "pgtest.h"

#include <postgresql/libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PGTEST_TRIES 8                  /* names tried, or waits for a busy template, at most */
#define PGTEST_CONNECT_TIMEOUT "10"     /* seconds */
#define SQLSTATE_DUPLICATE_DATABASE "42P04"
#define SQLSTATE_OBJECT_IN_USE "55006"  /* someone is on template1: CREATE DATABASE may wait */

const char *pgtest_uri(void)
{
    const char *v = getenv("ARCADE_TEST_PG");
    return v != NULL && v[0] != '\0' ? v : NULL;
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* A session on the maintenance database, or NULL with the reason on stderr. */
static PGconn *maintenance(void)
{
    const char *uri = pgtest_uri();
    if (uri == NULL) {
        fprintf(stderr, "pgtest: ARCADE_TEST_PG is not set\n");
        return NULL;
    }
    /* Anything else would be taken for a database name on the local socket, as this user. */
    if (strncmp(uri, "postgresql://", 13) != 0 && strncmp(uri, "postgres://", 11) != 0 && strchr(uri, '=') == NULL) {
        fprintf(stderr, "pgtest: ARCADE_TEST_PG is neither a postgresql:// URI nor key=value pairs: '%s'\n", uri);
        return NULL;
    }
    const char *keys[] = { "dbname", "connect_timeout", NULL };
    const char *values[] = { uri, PGTEST_CONNECT_TIMEOUT, NULL };
    PGconn *c = PQconnectdbParams(keys, values, 1);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "pgtest: cannot connect to ARCADE_TEST_PG: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, quiet, NULL);
    return c;
}

/* Where the authority of a URI ends (postgresql://[user[:password]@]host[:port]), or NULL. */
static const char *authority_end(const char *uri)
{
    const char *p = strstr(uri, "://");
    return p != NULL ? p + 3 + strcspn(p + 3, "/?") : NULL;
}

/* uri with its database name replaced by name, into out (cap bytes); its parameters are kept. */
static int with_dbname(const char *uri, const char *name, char *out, size_t cap)
{
    const char *end = authority_end(uri);
    if (end == NULL) {
        return -1;
    }
    const char *params = strchr(end, '?');
    int n = snprintf(out, cap, "%.*s/%s%s", (int)(end - uri), uri, name, params != NULL ? params : "");
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Run one command; returns 0, or -1 with its SQLSTATE in state (6 bytes). */
static int command(PGconn *c, const char *sql, char *state)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    snprintf(state, 6, "%s", ok || s == NULL ? "" : s);
    if (!ok && strcmp(state, SQLSTATE_DUPLICATE_DATABASE) != 0 && strcmp(state, SQLSTATE_OBJECT_IN_USE) != 0) {
        fprintf(stderr, "pgtest: %s: %s", sql, PQerrorMessage(c));
    }
    PQclear(r);
    return ok ? 0 : -1;
}

int pgtest_create(char *uri, size_t cap)
{
    static int made;    /* databases this process asked for */
    PGconn *c = maintenance();
    int rc = -1;

    for (int i = 0; c != NULL && i < PGTEST_TRIES; i++) {
        char name[64], sql[128], state[6];
        snprintf(name, sizeof(name), "arcade_test_%ld_%d", (long)getpid(), made++);
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
        if (command(c, sql, state) == 0) {
            rc = with_dbname(pgtest_uri(), name, uri, cap);
            if (rc < 0) {
                fprintf(stderr, "pgtest: ARCADE_TEST_PG is not a postgresql:// URI, or too long\n");
                snprintf(sql, sizeof(sql), "DROP DATABASE %s", name);
                command(c, sql, state);
            }
            break;
        }
        if (strcmp(state, SQLSTATE_OBJECT_IN_USE) == 0) {
            nanosleep(&(struct timespec){ .tv_nsec = 100000000 }, NULL);
        } else if (strcmp(state, SQLSTATE_DUPLICATE_DATABASE) != 0) {
            break;
        }
    }
    PQfinish(c);
    return rc;
}

int pgtest_drop(const char *uri)
{
    const char *end = authority_end(uri);
    if (end == NULL || *end != '/') {
        return -1;
    }
    char name[64];
    size_t len = strcspn(end + 1, "?");
    if (len == 0 || len >= sizeof(name)) {
        return -1;
    }
    memcpy(name, end + 1, len);
    name[len] = '\0';

    PGconn *c = maintenance();
    if (c == NULL) {
        return -1;
    }
    int rc = -1;
    char *quoted = PQescapeIdentifier(c, name, len);
    if (quoted != NULL) {
        char sql[160], state[6];
        /* FORCE: a server killed a moment ago may still have its session open. */
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", quoted);
        rc = command(c, sql, state);
        PQfreemem(quoted);
    }
    PQfinish(c);
    return rc;
}
