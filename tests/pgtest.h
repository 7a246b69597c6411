/*
 * pgtest: throwaway PostgreSQL databases for the tests. ARCADE_TEST_PG names a maintenance database
 * (postgresql://user:password@host:port/postgres) whose role may create databases; each test that
 * runs against PostgreSQL gets a database of its own there, dropped when it is over.
 */
#ifndef ARCADE_PGTEST_H
#define ARCADE_PGTEST_H

#include <stddef.h>

/* $ARCADE_TEST_PG, or NULL when it is unset or empty. */
const char *pgtest_uri(void);
/* Create a new empty database arcade_test_<pid>_<n> beside the maintenance database and write its
 * URI into uri (cap bytes). Returns 0, or -1 with the reason on stderr. */
int pgtest_create(char *uri, size_t cap);
/* Drop the database at uri (made by pgtest_create), closing any session still on it. Returns 0 or
 * -1. */
int pgtest_drop(const char *uri);

#endif
