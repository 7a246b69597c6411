/*
 * account: `arcade account rotate NAME` and `arcade account drop NAME`, what
 * a person does with a registered name besides playing it: replace its
 * secret, or give the name up.
 */
#ifndef ARCADE_ACCOUNT_H
#define ARCADE_ACCOUNT_H

/* `arcade account rotate|drop NAME [options]`: exit 0 done, 1 the server refused (or no secret is
 * kept for NAME, or it cannot be kept), 2 bad usage, 3 could not connect or no answer in time. */
int account_main(int argc, char **argv);

#endif
