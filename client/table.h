/*
 * table: leaderboard rows as the server sends them (tab-separated:
 * rank name rating provisional wins losses draws rounds form), parsed, and
 * printed as an aligned table for people or as tab-separated values.
 */
#ifndef ARCADE_TABLE_H
#define ARCADE_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include "rps.h"

#define TABLE_FORM_MAX 10   /* the server sends the last 10 results */

struct table_row {
    long long rank;
    char name[RPS_NAME_MAX + 1];
    long long rating;
    int provisional;
    long long wins, losses, draws, rounds;
    char form[TABLE_FORM_MAX + 1];
};

/* Parse one row (no newline). 0, or -1 (err filled). */
int table_parse_row(const char *line, size_t len, struct table_row *row, char *err, size_t errlen);

/* Parse a whole answer: rows then a "." line. *rows is allocated (free it); returns the number of
 * rows, or -1 on a malformed answer (err filled). */
int table_parse(const char *answer, size_t len, struct table_row **rows, char *err, size_t errlen);

/* The aligned table, a header and one line per row; a provisional rating carries "?", and a
 * legend says so. mark is the index of a row to point at ("> " and, with colour, reverse
 * video), or -1. */
void table_print(FILE *f, const struct table_row *rows, size_t n, int mark, int colour);

/* The rows as a JSON array of objects with typed fields: rank, name, rating, provisional (a
 * boolean), wins, losses, draws, rounds, form. With player, each also has "is_player", true
 * for the row of index mark. No newline. */
void table_print_json(FILE *f, const struct table_row *rows, size_t n, int player, int mark);

/* The rows as the server sent them, tab-separated, no header. */
void table_print_tsv(FILE *f, const struct table_row *rows, size_t n);

#endif
