/*
 * arcade: the client. `arcade COMMAND [OPTIONS] [ARGS]`, one table of
 * commands; each command parses its own options (opts.h) and returns the
 * process's exit status.
 */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "ask.h"
#include "bench.h"
#include "leaders.h"
#include "opts.h"
#include "player.h"

#define ARCADE_CLIENT_VERSION "1.0.0"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    { "play", player_main, "play rock-paper-scissors against the bot or, with --pvp, a person" },
    { "account", account_main, "rotate the secret of a registered name, or drop the name" },
    { "ask", ask_main, "send requests (a12, t5, ...) and print the answers" },
    { "square", ask_alias_main, "the square of each number (ask a...)" },
    { "cube", ask_alias_main, "the cube of each number (ask b...)" },
    { "fourth", ask_alias_main, "the fourth power of each number (ask c...)" },
    { "top", leaders_top_main, "the leaderboard's best players" },
    { "rank", leaders_rank_main, "a player's place on the leaderboard" },
    { "bench", bench_main, "load the server and measure it (short, long, udp, hold, pvp)" },
};

/* The command named name, or -1. */
static int find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(name, commands[i].name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: arcade COMMAND [OPTIONS] [ARGS]\n"
               "       arcade --help | --version\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    }
    fprintf(f, "\nEvery command takes --host HOST and --port PORT (default 127.0.0.1:5000, or\n"
               "$ARCADE_HOST and $ARCADE_PORT), --timeout S (seconds to connect or wait for an\n"
               "answer, default 5) and -h, --help. See 'arcade COMMAND --help'.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return OPTS_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        /* `arcade help COMMAND` is `arcade COMMAND --help`. */
        int i = argc > 2 ? find_command(argv[2]) : -1;
        if (i >= 0) {
            char *sub[] = { argv[2], "--help", NULL };
            return commands[i].run(2, sub);
        }
        usage(stdout);
        return OPTS_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("arcade %s\n", ARCADE_CLIENT_VERSION);
        return OPTS_EXIT_OK;
    }
    int i = find_command(cmd);
    if (i >= 0) {
        return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "arcade: unknown command '%s'\n", cmd);
    usage(stderr);
    return OPTS_EXIT_USAGE;
}
