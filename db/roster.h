/* roster: the store's memory of rated players.
 *
 * The players table is the durable snapshot of each player, and rounds is the record of every
 * rated round. Between the two, the roster holds what a rated round changes (rating, counts, form,
 * the results not yet added to the player's row) for every player with a rated round, so that a
 * round reads nothing from the database and writes one row. Entries live in one array, found by id
 * through an open-addressing table; an entry's index stays put until roster_truncate, and
 * pointers into the array stay valid until the next roster_add.
 */
#ifndef ARCADE_ROSTER_H
#define ARCADE_ROSTER_H

#include <stddef.h>
#include <stdint.h>

#include "board.h"

struct roster_entry {
    int64_t id;
    double rating;                  /* unrounded Elo rating */
    int64_t rated;                  /* rated rounds */
    int64_t rated_at;               /* round that brought the rating (leaderboard ties) */
    int64_t last_round;             /* its last rated round, 0 for none: the history's start */
    int64_t wins, losses, draws;    /* rated results not yet added to the player's row */
    char form[BOARD_FORM_MAX + 1];  /* last rated results, oldest first */
    unsigned char named;            /* 1: a named player (on the leaderboard once rated) */
    unsigned char dirty;            /* 1: the row in the database is behind this entry */
};

struct roster {
    struct roster_entry *e;         /* entries, in the order they were added */
    size_t n, cap;
    uint32_t *slot;                 /* index + 1 of an entry, 0 for a free slot */
    size_t nslot;                   /* a power of two, at least twice n */
};

/* The entry with this id, or NULL. */
struct roster_entry *roster_find(const struct roster *r, int64_t id);
/* Add a copy of e (its id not there yet); returns the new entry, or NULL when out of memory. */
struct roster_entry *roster_add(struct roster *r, const struct roster_entry *e);
/* Forget every entry from index n on (entries added by a batch that was rolled back). */
void roster_truncate(struct roster *r, size_t n);
void roster_free(struct roster *r);

/* Append a result letter to a form, keeping the last BOARD_FORM_MAX. */
void roster_form_push(char *form, char result);

#endif
