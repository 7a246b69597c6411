/*
 * pgtest: create and drop test databases through the maintenance database, with libpq.
 */
#include "pgtest.h"

#include <postgresql/libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *pgtest_uri(void)
{
    const char *uri = getenv("ARCADE_TEST_PG");

    return uri != NULL && uri[0] != '\0' ? uri : NULL;
}

/* Run sql on the maintenance database. */
static int maintenance(const char *sql)
{
    const char *uri = pgtest_uri();
    PGconn *conn;
    int rc = -1;

    if (uri == NULL) {
        fprintf(stderr, "pgtest: ARCADE_TEST_PG is not set\n");
        return -1;
    }
    conn = PQconnectdb(uri);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "pgtest: connect: %s", PQerrorMessage(conn));
    } else {
        PGresult *res = PQexec(conn, sql);
        if (PQresultStatus(res) == PGRES_COMMAND_OK) {
            rc = 0;
        } else {
            fprintf(stderr, "pgtest: %s: %s", sql, PQresultErrorMessage(res));
        }
        PQclear(res);
    }
    PQfinish(conn);
    return rc;
}

int pgtest_create(char *uri, size_t cap)
{
    static int counter;
    const char *base = pgtest_uri();
    char name[64], sql[128];

    if (base == NULL || (strncmp(base, "postgresql://", 13) != 0 && strncmp(base, "postgres://", 11) != 0)) {
        fprintf(stderr, "pgtest: ARCADE_TEST_PG must be a postgresql:// URI\n");
        return -1;
    }
    snprintf(name, sizeof(name), "arcade_test_%d_%d", (int)getpid(), ++counter);
    /* The URI's path is the database: between the authority and the query, if any. */
    const char *authority = strstr(base, "://") + 3;
    size_t head = strcspn(authority, "/?") + (size_t)(authority - base);
    const char *query = strchr(authority, '?');
    int n = snprintf(uri, cap, "%.*s/%s%s", (int)head, base, name, query != NULL ? query : "");
    if (n < 0 || (size_t)n >= cap) {
        fprintf(stderr, "pgtest: no room for the URI\n");
        return -1;
    }
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    return maintenance(sql);
}

int pgtest_drop(const char *uri)
{
    PQconninfoOption *opts = PQconninfoParse(uri, NULL);
    const char *db = NULL;
    int rc = -1;

    for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++) {
        if (strcmp(o->keyword, "dbname") == 0) {
            db = o->val;
        }
    }
    if (db == NULL || strncmp(db, "arcade_test_", 12) != 0 ||
        strspn(db, "abcdefghijklmnopqrstuvwxyz_0123456789") != strlen(db)) {
        fprintf(stderr, "pgtest: not a test database: %s\n", db != NULL ? db : "(none)");
    } else {
        char sql[128];
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", db);
        /* FORCE cannot end another role's process (an autovacuum worker, say): again, later. */
        for (int i = 0; i < 5 && (rc = maintenance(sql)) != 0; i++) {
            usleep(200000);
        }
    }
    PQconninfoFree(opts);
    return rc;
}
