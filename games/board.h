/*
 * board: leaderboard queries on short connections, parsed and answered as text.
 *
 *   t[<n>]            the top n players (default 10, 1..100)
 *   r<name>[ <k>]     a player's rank with k players above and below (default 5, 0..50)
 *
 * Answers are tab-separated rows, one per player, then a line holding ".".
 */
#ifndef ARCADE_BOARD_H
#define ARCADE_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "rps.h"

#define BOARD_TOP_DEFAULT 10
#define BOARD_TOP_MAX 100
#define BOARD_AROUND_DEFAULT 5
#define BOARD_AROUND_MAX 50
/* Longest row: rank, name, rating, flag, four totals (20 digits each), form. */
#define BOARD_ROW_MAX 160
/* Rated results kept in a player's form. */
#define BOARD_FORM_MAX 10

enum board_kind {
    BOARD_TOP = 't',
    BOARD_RANK = 'r',
};

struct board_query {
    enum board_kind kind;
    int count;                      /* n for top, k for rank */
    char name[RPS_NAME_MAX + 1];    /* rank only */
};

/* One leaderboard row. */
struct board_row {
    int64_t rank;                    /* 1 is the best */
    char name[RPS_NAME_MAX + 1];
    double rating;                   /* unrounded Elo rating */
    int provisional;                 /* 1 until the player has ELO_PROVISIONAL rated rounds */
    int64_t wins, losses, draws, rounds; /* totals over bot and rated rounds */
    char form[BOARD_FORM_MAX + 1];   /* last rated results, oldest first: 'W', 'L', 'D' */
};

/* Is c a leaderboard request letter? */
int board_is_op(int c);

/* Parse one request line. Returns 0, or -1 with *reason set to a static string. */
int board_parse(const char *line, size_t len, struct board_query *q, const char **reason);

/* A rating as rows show it: rounded to the nearest integer. */
long long board_rating(double rating);

/* The longest row as a JSON object: its keys, six 20-digit numbers, and a name and form whose every
 * byte would need the longest escape. */
#define BOARD_JSON_MAX 512

/* Write one row as a JSON object ({"rank":1,"name":"ana",...}) into out (cap >= BOARD_JSON_MAX);
 * returns its length. Names are [A-Za-z0-9_-] and forms [WLD], but they are escaped all the same
 * (games/jsonstr.h): the JSON stays valid whatever a row holds. */
size_t board_format_json(const struct board_row *row, char *out, size_t cap);

/* Write one row, newline included, into out (cap >= BOARD_ROW_MAX); returns its length. */
size_t board_format_row(const struct board_row *row, char *out, size_t cap);

#endif
