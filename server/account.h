/*
 * account: who may play as a name. A name is unclaimed (anyone may say a bare
 * hello for it) or registered: then it belongs to whoever holds its secret, 256
 * random bits from the kernel given to the client once, of which the store
 * keeps only a BLAKE2b hash (libsodium). Proofs are compared in constant time
 * and failed ones are limited per address and per account. Secrets are never
 * logged.
 *
 * Every function returns 0, or -1 with *reason set to the refusal a client is
 * sent (a static string); database errors are logged here.
 */
#ifndef ARCADE_ACCOUNT_H
#define ARCADE_ACCOUNT_H

#include <stddef.h>
#include <sys/socket.h>

#include "rps.h"
#include "store.h"

struct game;

/* Failed proofs allowed in a burst, and their refill rate (per second), per address and per account. */
#define ACCOUNT_FAIL_BURST 10
#define ACCOUNT_FAIL_RATE 0.1

/* Start libsodium and the limits of failed proofs. 0 or -1. */
int account_init(struct game *g);
void account_free(struct game *g);

/* A bare hello from the address peer: the player of that name, created unclaimed if new (within the
 * address's budget of new names); refused when it is registered. */
int account_hello(struct game *g, const struct sockaddr_storage *peer, const char *name, struct store_account *acct,
                  const char **reason);
/* Register a new or unclaimed name (within peer's budget of new names): acct and a new secret
 * (RPS_SECRET_HEX hex digits and a NUL). */
int account_register(struct game *g, const struct sockaddr_storage *peer, const char *name,
                     struct store_account *acct, char secret[RPS_SECRET_HEX + 1], const char **reason);
/* Prove the secret of a registered name, from the address peer. */
int account_login(struct game *g, const struct sockaddr_storage *peer, const char *name, const char *secret,
                  size_t secret_len, struct store_account *acct, const char **reason);
/* A new secret for the account id; the old one stops working. */
int account_rotate(struct game *g, int64_t id, char secret[RPS_SECRET_HEX + 1], const char **reason);
/* Forget the account's secret: the name is unclaimed again. */
int account_release(struct game *g, int64_t id, const char **reason);

#endif
