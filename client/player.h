/*
 * player: the `arcade play` subcommand, rock-paper-scissors against the bot
 * or, with --pvp, against a person.
 */
#ifndef ARCADE_PLAYER_H
#define ARCADE_PLAYER_H

#define PLAYER_MOVE_TIMEOUT 30.0  /* the server's default move window, shown as a countdown */
#define PLAYER_BACKOFF_MIN 0.5    /* first reconnect delay, doubled per failure */
#define PLAYER_BACKOFF_MAX 8.0
#define PLAYER_RETRY_FOR 60.0     /* seconds of failed reconnects before giving up */

/* `arcade play [--name NAME] [--pvp] [--move-timeout S] [--retry-for S] [options]`.
 * Exit status: 0 done (end of input, or q), 1 the server refused the name (or its secret cannot be
 * kept, or another login took the session over), 2 bad usage or a bad word in the input, 3 could
 * not connect or no answer to the login the first time (within --timeout), no success reconnecting
 * for --retry-for seconds after a drop, or the queue timed out in a script, 128+signal when
 * interrupted. */
int player_main(int argc, char **argv);

#endif
