/*
 * pgtest: a fresh PostgreSQL database for each test that needs one.
 *
 * ARCADE_TEST_PG names a maintenance database on the server to test against, as a libpq URI
 * (postgresql://user:password@host:port/postgres) whose role may CREATE DATABASE. Without it, the
 * suites that need PostgreSQL say so and skip. Each database is created empty, named
 * arcade_test_<pid>_<counter>, and dropped by pgtest_drop (WITH (FORCE): connections still open to
 * it are ended). A test that fails before it drops its database leaves it on the server; the
 * names say which process made them.
 */
#ifndef ARCADE_PGTEST_H
#define ARCADE_PGTEST_H

#include <stddef.h>

/* The maintenance database's URI (ARCADE_TEST_PG), or NULL when it is not set or empty. */
const char *pgtest_uri(void);

/* Create a new empty database and write its URI (the maintenance URI with the database's name in
 * place of its path) into uri (cap bytes). Returns 0, or -1 with the reason on stderr. */
int pgtest_create(char *uri, size_t cap);

/* Drop the database uri names (one pgtest_create made). Returns 0, or -1 with the reason on
 * stderr. */
int pgtest_drop(const char *uri);

#endif
