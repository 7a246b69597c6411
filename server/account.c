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

static int step_answered(struct account_call *call);

static int refuse(struct account_call *call, const char *reason)
{
    call->ok = -1;
    call->reason = reason;
    return DB_DONE;
}

static int grant(struct account_call *call)
{
    call->ok = 0;
    call->reason = NULL;
    return DB_DONE;
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

static int unavailable(struct account_call *call, const char *what)
{
    log_error("account: could not %s %s: %s", what, call->op == ACCOUNT_ROTATE || call->op == ACCOUNT_RELEASE ? "a player" : call->name,
              call->req.err);
    return refuse(call, UNAVAILABLE);
}

/* Every new row or registration costs the database a player for good: each address has a budget,
 * taken when it is spent. */
static int name_allowed(struct account_call *call)
{
    struct game *g = call->game;
    unsigned char addr[LIMIT_ADDR_KEY];
    if (g->name_rate <= 0) {
        return 1;
    }
    limit_addr_owner_key(&call->peer, addr);
    if (!limit_table_take(g->names_by_addr, addr, sizeof(addr), g->name_rate / 60, g->name_rate, ev_now(g->loop))) {
        stats.throttled[STATS_THROTTLE_NAMES]++;
        return 0;
    }
    return 1;
}

/* The steps of the calls: each sends one request to the database, and the next step reads its
 * answer in call->req. */
enum step {
    STEP_FIND,          /* look the name up */
    STEP_CREATE,        /* hello: a new unclaimed player */
    STEP_CLAIM,         /* register: the found unclaimed player gets the hash, or a new one with it */
    STEP_SET_HASH,      /* rotate, release */
};

static void answered(struct db_req *r);

/* Send the request of step, or read its answer at once. Returns DB_DONE when the call is answered. */
static int ask(struct account_call *call, enum step step)
{
    struct db *d = call->game->db;
    struct db_req *r = &call->req;
    int state = DB_DONE;

    call->step = step;
    *r = (struct db_req){ .done = answered, .data = call };
    switch (step) {
    case STEP_FIND:
        state = db_account_find(d, r, call->name);
        break;
    case STEP_CREATE:
        state = db_account_create(d, r, call->name, NULL);
        break;
    case STEP_CLAIM:
        state = call->acct.id != 0 ? db_account_claim(d, r, call->acct.id, call->hash)
                                   : db_account_create(d, r, call->name, call->hash);
        break;
    case STEP_SET_HASH:
        state = db_account_set_hash(d, r, call->id, call->op == ACCOUNT_ROTATE ? call->hash : NULL);
        break;
    }
    return state == DB_PENDING ? DB_PENDING : step_answered(call);
}

static int hello_found(struct account_call *call)
{
    if (call->req.result < 0) {
        return unavailable(call, "look up");
    }
    if (call->req.result == 0) {
        return name_allowed(call) ? ask(call, STEP_CREATE) : refuse(call, "too many new names");
    }
    call->acct = call->req.acct;
    return call->acct.registered ? refuse(call, "name is registered") : grant(call);
}

static int hello_created(struct account_call *call)
{
    if (call->req.result < 0) {
        return unavailable(call, "create");
    }
    if (call->req.result > 0) {
        call->acct = call->req.acct;
        return grant(call);
    }
    /* Someone made that name since the look-up: look again, once. */
    return ++call->tries < 2 ? ask(call, STEP_FIND) : refuse(call, UNAVAILABLE);
}

static int register_found(struct account_call *call)
{
    if (call->req.result < 0) {
        return unavailable(call, "look up");
    }
    if (call->req.result > 0 && call->req.acct.registered) {
        return refuse(call, "name taken");
    }
    if (!name_allowed(call)) {
        return refuse(call, "too many new names");
    }
    call->acct = call->req.result > 0 ? call->req.acct : (struct store_account){ 0 };
    return ask(call, STEP_CLAIM);
}

static int register_claimed(struct account_call *call)
{
    if (call->req.result < 0) {
        return unavailable(call, "register");
    }
    if (call->req.result == 0) {
        return refuse(call, "name taken");
    }
    if (call->acct.id == 0) {
        call->acct = call->req.acct;
    }
    call->acct.registered = 1;
    memcpy(call->acct.hash, call->hash, sizeof(call->hash));
    log_info("account: %s registered", call->acct.name);
    return grant(call);
}

static int login_found(struct account_call *call)
{
    struct game *g = call->game;
    unsigned char addr[LIMIT_ADDR_KEY], pair[LIMIT_ADDR_KEY];
    ev_tstamp now = ev_now(g->loop);

    if (call->req.result < 0) {
        return unavailable(call, "look up");
    }
    if (call->req.result == 0 || !call->req.acct.registered) {
        return refuse(call, "not registered");
    }
    call->acct = call->req.acct;
    /* An account that has had its failures refuses the addresses that failed against it, not
     * everyone: whoever holds the secret, and has not been guessing, still gets in. */
    limit_addr_owner_key(&call->peer, addr);
    account_pair_key(addr, call->acct.id, pair);
    if (limit_table_peek(g->fails_by_account, &call->acct.id, sizeof(call->acct.id), ACCOUNT_FAIL_RATE,
                         ACCOUNT_FAIL_BURST, now) < 1 &&
        limit_table_peek(g->fails_by_pair, pair, sizeof(pair), ACCOUNT_FAIL_RATE, ACCOUNT_FAIL_BURST, now) <
            ACCOUNT_FAIL_BURST) {
        stats.throttled[STATS_THROTTLE_ATTEMPTS]++;
        return refuse(call, "too many attempts");
    }
    if (!call->well_formed || sodium_memcmp(call->hash, call->acct.hash, sizeof(call->hash)) != 0) {
        limit_table_take(g->fails_by_addr, addr, sizeof(addr), ACCOUNT_FAIL_RATE, ACCOUNT_FAIL_BURST, now);
        limit_table_take(g->fails_by_account, &call->acct.id, sizeof(call->acct.id), ACCOUNT_FAIL_RATE,
                         ACCOUNT_FAIL_BURST, now);
        limit_table_take(g->fails_by_pair, pair, sizeof(pair), ACCOUNT_FAIL_RATE, ACCOUNT_FAIL_BURST, now);
        log_debug("account: wrong secret for %s", call->acct.name);
        return refuse(call, "wrong secret");
    }
    return grant(call);
}

static int hash_set(struct account_call *call)
{
    if (call->req.result < 0) {
        return unavailable(call, call->op == ACCOUNT_ROTATE ? "change the secret of" : "release");
    }
    return grant(call);
}

/* The answer to the request of call->step is in call->req: act on it. */
static int step_answered(struct account_call *call)
{
    switch (call->step) {
    case STEP_FIND:
        return call->op == ACCOUNT_HELLO      ? hello_found(call)
               : call->op == ACCOUNT_REGISTER ? register_found(call)
                                              : login_found(call);
    case STEP_CREATE:
        return hello_created(call);
    case STEP_CLAIM:
        return register_claimed(call);
    case STEP_SET_HASH:
        return hash_set(call);
    }
    return refuse(call, UNAVAILABLE);
}

static void answered(struct db_req *r)
{
    struct account_call *call = r->data;
    if (step_answered(call) == DB_DONE) {
        call->done(call);
    }
}

/* Hash a proof as a secret is hashed. A proof of the wrong form hashes like any other wrong one,
 * so every failure costs the same. */
static void hash_proof(struct account_call *call, const char *secret, size_t secret_len)
{
    unsigned char bytes[SECRET_BYTES];
    size_t n = 0;

    memset(bytes, 0, sizeof(bytes));
    call->well_formed = secret_len == RPS_SECRET_HEX &&
                        sodium_hex2bin(bytes, sizeof(bytes), secret, secret_len, NULL, &n, NULL) == 0 &&
                        n == sizeof(bytes);
    hash_secret(bytes, call->hash);
    sodium_memzero(bytes, sizeof(bytes));
}

int account_start(struct game *g, struct account_call *call, const char *secret, size_t secret_len)
{
    unsigned char addr[LIMIT_ADDR_KEY];

    call->game = g;
    call->tries = 0;
    call->ok = -1;
    call->reason = UNAVAILABLE;
    switch (call->op) {
    case ACCOUNT_HELLO:
        return ask(call, STEP_FIND);
    case ACCOUNT_REGISTER:
        new_secret(call->secret, call->hash);
        return ask(call, STEP_FIND);
    case ACCOUNT_LOGIN:
        limit_addr_owner_key(&call->peer, addr);
        if (limit_table_peek(g->fails_by_addr, addr, sizeof(addr), ACCOUNT_FAIL_RATE, ACCOUNT_FAIL_BURST,
                             ev_now(g->loop)) < 1) {
            stats.throttled[STATS_THROTTLE_ATTEMPTS]++;
            return refuse(call, "too many attempts");
        }
        hash_proof(call, secret, secret_len);
        return ask(call, STEP_FIND);
    case ACCOUNT_ROTATE:
        new_secret(call->secret, call->hash);
        return ask(call, STEP_SET_HASH);
    case ACCOUNT_RELEASE:
        return ask(call, STEP_SET_HASH);
    }
    return refuse(call, UNAVAILABLE);
}

void account_cancel(struct account_call *call)
{
    db_cancel(call->game->db, &call->req);
}
