/*
 * account: who may play as a name. A name is unclaimed (anyone may say a bare
 * hello for it) or registered: then it belongs to whoever holds its secret, 256
 * random bits from the kernel given to the client once, of which the store
 * keeps only a BLAKE2b hash (libsodium). Proofs are compared in constant time
 * and failed ones are limited per address and per account. Secrets are never
 * logged.
 *
 * A call asks the database one thing after another, and each answer may come
 * later (db.h): the caller waits for the call's answer, an ok or the refusal a
 * client is sent. Database errors are logged here.
 */
#ifndef ARCADE_ACCOUNT_H
#define ARCADE_ACCOUNT_H

#include <stddef.h>
#include <sys/socket.h>

#include "rps.h"
#include "db.h"
#include "store.h"

struct game;

/* Failed proofs allowed in a burst, and their refill rate (per second), per address and per account. */
#define ACCOUNT_FAIL_BURST 10
#define ACCOUNT_FAIL_RATE 0.1

/* Start libsodium and the limits of failed proofs. 0 or -1. */
int account_init(struct game *g);
void account_free(struct game *g);

/* What an account frame asks for. */
enum account_op {
    ACCOUNT_HELLO,      /* a bare hello: the player of that name, created unclaimed if new (within the
                         * address's budget of new names); refused when it is registered */
    ACCOUNT_REGISTER,   /* a new or unclaimed name (within the budget of new names) with a new secret */
    ACCOUNT_LOGIN,      /* prove the secret of a registered name */
    ACCOUNT_ROTATE,     /* a new secret for the account id; the old one stops working */
    ACCOUNT_RELEASE,    /* forget the account's secret: the name is unclaimed again */
};

/* One account frame being acted on: the requests it makes to the database, one after the other
 * (a look-up, then maybe a new row or a claim), and its answer. The caller fills the part marked
 * so and keeps the call until it is answered or cancelled. */
struct account_call {
    /* The caller's. */
    enum account_op op;
    struct sockaddr_storage peer;       /* who asks */
    char name[RPS_NAME_MAX + 1];        /* hello, register, login */
    int64_t id;                         /* rotate, release: the account */
    void (*done)(struct account_call *call);    /* a pending answer */
    void *owner;

    /* The answer: ok 0, or -1 with reason (a static string) for the client. */
    int ok;
    const char *reason;
    struct store_account acct;          /* hello, register, login */
    char secret[RPS_SECRET_HEX + 1];    /* register, rotate: the new secret, for the client */

    /* The account service's. */
    struct game *game;
    struct db_req req;
    int step;
    int tries;
    unsigned char hash[STORE_HASH_LEN]; /* register, rotate: the new secret's; login: the proof's */
    int well_formed;                    /* login: the proof had the form of a secret */
};

/* Act on call. A login's secret (secret_len bytes, as sent) is hashed now and not kept. Returns
 * DB_DONE when the answer is in call already (done is not called), or DB_PENDING: done(call)
 * comes later, from the loop. */
int account_start(struct game *g, struct account_call *call, const char *secret, size_t secret_len);
/* Forget a pending call: done is never called. */
void account_cancel(struct account_call *call);

#endif
