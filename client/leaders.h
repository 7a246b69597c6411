/*
 * leaders: the subcommands `top` and `rank`, the leaderboard as a table.
 */
#ifndef ARCADE_LEADERS_H
#define ARCADE_LEADERS_H

/* `arcade top [N] [--tsv]`: exit 0, 1 (server error), 2 (usage), 3 (network). */
int leaders_top_main(int argc, char **argv);

/* `arcade rank NAME [-k K] [--tsv]`: the same statuses; an unknown player is 1. */
int leaders_rank_main(int argc, char **argv);

#endif
