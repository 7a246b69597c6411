/*
 * secrets: the secrets of the accounts this client registered, kept so that
 * later runs log in with them without asking. One file per server and name,
 *
 *   $XDG_CONFIG_HOME/arcade/NAME@HOST:PORT.secret     (default ~/.config/arcade/)
 *
 * holding the 64 hex digits and a newline. Name and host are in lower case:
 * the server compares names without case, and DNS compares hosts so. The
 * directory is 0700 and every file 0600, tightened when found looser. A file
 * is replaced whole (a temporary file in the same directory, synced, then
 * renamed over the old one), so a crash leaves the old secret or the new one.
 * One file per account means two clients registering two names at once
 * never write the same file.
 */
#ifndef ARCADE_SECRETS_H
#define ARCADE_SECRETS_H

#include <stddef.h>

#include "wire.h"

#define SECRETS_PATH_MAX 4096
#define SECRETS_ERR_MAX (SECRETS_PATH_MAX + 1024)   /* room for any message about a secret's file */

/* The file that holds (or would hold) name's secret on host:port. 0, or -1 (err filled: no home
 * directory, or a path too long). */
int secrets_path(const char *host, int port, const char *name, char *out, size_t cap, char *err, size_t errlen);

/* Read name's secret on host:port into secret. 1 when one is kept, 0 when none is, -1 when the file
 * cannot be read or does not hold a secret (err filled). */
int secrets_load(const char *host, int port, const char *name, char secret[WIRE_SECRET_LEN + 1], char *err,
                 size_t errlen);

/* Can a secret be kept? Creates the directory (0700) if needed and checks that it is writable, so a
 * name is registered only where its secret can be kept. 0, or -1 (err filled). */
int secrets_ready(char *err, size_t errlen);

/* Keep secret as name's on host:port, replacing any. 0, or -1 (err filled). */
int secrets_save(const char *host, int port, const char *name, const char *secret, char *err, size_t errlen);

/* Forget name's secret on host:port; none kept is no error. 0, or -1 (err filled). */
int secrets_drop(const char *host, int port, const char *name, char *err, size_t errlen);

#endif
