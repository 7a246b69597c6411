/*
 * account: names, secrets and proofs.
 *
 * The secret has 256 bits of entropy, so a fast hash is as safe as a slow one
 * and keeps a login from costing the loop a password-hashing delay (a slow
 * hash on the loop would also make every login attempt a way to stall it).
 */
#include "account.h"

#include <sodium.h>
#include <string.h>

#include "game.h"
#include "limit.h"
#include "log.h"
#include "stats.h"

#define SECRET_BYTES (RPS_SECRET_HEX / 2)
#define FAIL_TABLE_MAX 65536
#define UNAVAILABLE "games unavailable"

_Static_assert(STORE_HASH_LEN == crypto_generichash_BYTES, "the store keeps a BLAKE2b-256 hash");

int account_init(struct game *g)
{
    if (sodium_init() < 0) {
        log_error("cannot start libsodium");
        return -1;
    }
    g->fails_by_addr = limit_table_new(FAIL_TABLE_MAX);
    g->fails_by_account = limit_table_new(FAIL_TABLE_MAX);
    g->fails_by_pair = limit_table_new(FAIL_TABLE_MAX);
    g->names_by_addr = limit_table_new(FAIL_TABLE_MAX);
    if (g->fails_by_addr == NULL || g->fails_by_account == NULL || g->fails_by_pair == NULL ||
        g->names_by_addr == NULL) {
        log_error("out of memory");
        account_free(g);
        return -1;
    }
    return 0;
}

void account_free(struct game *g)
{
    limit_table_free(g->fails_by_addr);
    limit_table_free(g->fails_by_account);
    limit_table_free(g->fails_by_pair);
    limit_table_free(g->names_by_addr);
    g->fails_by_addr = g->fails_by_account = g->fails_by_pair = g->names_by_addr = NULL;
}

/* The key of one address's failures against one account. */
static void account_pair_key(const unsigned char addr[LIMIT_ADDR_KEY], int64_t id, unsigned char pair[LIMIT_ADDR_KEY])
{
    unsigned char in[LIMIT_ADDR_KEY + sizeof(id)];
    memcpy(in, addr, LIMIT_ADDR_KEY);
    memcpy(in + LIMIT_ADDR_KEY, &id, sizeof(id));
    crypto_generichash(pair, LIMIT_ADDR_KEY, in, sizeof(in), NULL, 0);
}

static void hash_secret(const unsigned char secret[SECRET_BYTES], unsigned char hash[STORE_HASH_LEN])
{
    crypto_generichash(hash, STORE_HASH_LEN, secret, SECRET_BYTES, NULL, 0);
}

/* A new secret: its hex digits for the client, its hash for the store. */
static void new_secret(char hex[RPS_SECRET_HEX + 1], unsigned char hash[STORE_HASH_LEN])
{
    unsigned char secret[SECRET_BYTES];
    randombytes_buf(secret, sizeof(secret));
    sodium_bin2hex(hex, RPS_SECRET_HEX + 1, secret, sizeof(secret));
    hash_secret(secret, hash);
    sodium_memzero(secret, sizeof(secret));
}

static int unavailable(const char *what, const char *name, const char *err, const char **reason)
{
    log_error("account: could not %s %s: %s", what, name, err);
    *reason = UNAVAILABLE;
    return -1;
}

/* Every new row or registration costs the database a player for good: each address has a budget,
 * taken when it is spent. */
static int name_allowed(struct game *g, const struct sockaddr_storage *peer, const char **reason)
{
    unsigned char addr[LIMIT_ADDR_KEY];
    if (g->name_rate <= 0) {
        return 1;
    }
    limit_addr_owner_key(peer, addr);
    if (!limit_table_take(g->names_by_addr, addr, sizeof(addr), g->name_rate / 60, g->name_rate, ev_now(g->loop))) {
        *reason = "too many new names";
        stats.throttled[STATS_THROTTLE_NAMES]++;
        return 0;
    }
    return 1;
}

int account_hello(struct game *g, const struct sockaddr_storage *peer, const char *name, struct store_account *acct,
                  const char **reason)
{
    char err[256];
    for (int tries = 0; tries < 2; tries++) {
        int found = store_account_find(g->store, name, acct, err, sizeof(err));
        if (found < 0) {
            return unavailable("look up", name, err, reason);
        }
        if (found && acct->registered) {
            *reason = "name is registered";
            return -1;
        }
        if (found) {
            return 0;
        }
        if (!name_allowed(g, peer, reason)) {
            return -1;
        }
        int made = store_account_create(g->store, name, NULL, acct, err, sizeof(err));
        if (made < 0) {
            return unavailable("create", name, err, reason);
        }
        if (made) {
            return 0;
        }
    }
    *reason = UNAVAILABLE;
    return -1;
}

int account_register(struct game *g, const struct sockaddr_storage *peer, const char *name,
                     struct store_account *acct, char secret[RPS_SECRET_HEX + 1], const char **reason)
{
    unsigned char hash[STORE_HASH_LEN];
    char err[256];

    new_secret(secret, hash);
    int found = store_account_find(g->store, name, acct, err, sizeof(err));
    if (found < 0) {
        return unavailable("look up", name, err, reason);
    }
    if (found && acct->registered) {
        *reason = "name taken";
        return -1;
    }
    if (!name_allowed(g, peer, reason)) {
        return -1;
    }
    int done = found ? store_account_claim(g->store, acct->id, hash, err, sizeof(err))
                     : store_account_create(g->store, name, hash, acct, err, sizeof(err));
    if (done < 0) {
        return unavailable("register", name, err, reason);
    }
    if (!done) {
        *reason = "name taken";
        return -1;
    }
    acct->registered = 1;
    memcpy(acct->hash, hash, sizeof(hash));
    log_info("account: %s registered", acct->name);
    return 0;
}

int account_login(struct game *g, const struct sockaddr_storage *peer, const char *name, const char *secret,
                  size_t secret_len, struct store_account *acct, const char **reason)
{
    unsigned char addr[LIMIT_ADDR_KEY], pair[LIMIT_ADDR_KEY], bytes[SECRET_BYTES], hash[STORE_HASH_LEN];
    ev_tstamp now = ev_now(g->loop);
    char err[256];
    size_t n = 0;

    limit_addr_owner_key(peer, addr);
    if (limit_table_peek(g->fails_by_addr, addr, sizeof(addr), ACCOUNT_FAIL_RATE, ACCOUNT_FAIL_BURST, now) < 1) {
        *reason = "too many attempts";
        stats.throttled[STATS_THROTTLE_ATTEMPTS]++;
        return -1;
    }
    int found = store_account_find(g->store, name, acct, err, sizeof(err));
    if (found < 0) {
        return unavailable("look up", name, err, reason);
    }
    if (!found || !acct->registered) {
        *reason = "not registered";
        return -1;
    }
    /* An account that has had its failures refuses the addresses that failed against it, not
     * everyone: whoever holds the secret, and has not been guessing, still gets in. */
    account_pair_key(addr, acct->id, pair);
    if (limit_table_peek(g->fails_by_account, &acct->id, sizeof(acct->id), ACCOUNT_FAIL_RATE, ACCOUNT_FAIL_BURST,
                         now) < 1 &&
        limit_table_peek(g->fails_by_pair, pair, sizeof(pair), ACCOUNT_FAIL_RATE, ACCOUNT_FAIL_BURST, now) <
            ACCOUNT_FAIL_BURST) {
        *reason = "too many attempts";
        stats.throttled[STATS_THROTTLE_ATTEMPTS]++;
        return -1;
    }
    /* A secret of the wrong form hashes like any other wrong one, so every failure costs the same. */
    memset(bytes, 0, sizeof(bytes));
    int well_formed = secret_len == RPS_SECRET_HEX &&
                      sodium_hex2bin(bytes, sizeof(bytes), secret, secret_len, NULL, &n, NULL) == 0 &&
                      n == sizeof(bytes);
    hash_secret(bytes, hash);
    sodium_memzero(bytes, sizeof(bytes));
    if (!well_formed || sodium_memcmp(hash, acct->hash, sizeof(hash)) != 0) {
        limit_table_take(g->fails_by_addr, addr, sizeof(addr), ACCOUNT_FAIL_RATE, ACCOUNT_FAIL_BURST, now);
        limit_table_take(g->fails_by_account, &acct->id, sizeof(acct->id), ACCOUNT_FAIL_RATE, ACCOUNT_FAIL_BURST,
                         now);
        limit_table_take(g->fails_by_pair, pair, sizeof(pair), ACCOUNT_FAIL_RATE, ACCOUNT_FAIL_BURST, now);
        log_debug("account: wrong secret for %s", acct->name);
        *reason = "wrong secret";
        return -1;
    }
    return 0;
}

int account_rotate(struct game *g, int64_t id, char secret[RPS_SECRET_HEX + 1], const char **reason)
{
    unsigned char hash[STORE_HASH_LEN];
    char err[256];

    new_secret(secret, hash);
    if (store_account_set_hash(g->store, id, hash, err, sizeof(err)) < 0) {
        return unavailable("change the secret of", "a player", err, reason);
    }
    return 0;
}

int account_release(struct game *g, int64_t id, const char **reason)
{
    char err[256];
    if (store_account_set_hash(g->store, id, NULL, err, sizeof(err)) < 0) {
        return unavailable("release", "a player", err, reason);
    }
    return 0;
}
