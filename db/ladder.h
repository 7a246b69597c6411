/*
 * ladder: the leaderboard's order kept in memory, so a rank is a walk down a tree instead of a count
 * over the board index.
 *
 * The order is the leaderboard's: rating descending, then rated_at ascending (ties go to whoever
 * reached the rating first), then id ascending (then to the older player). Every operation is
 * O(log n): a B+tree whose inner nodes know how many entries are below each child, with nodes of a
 * kilobyte that hold dozens of keys each, so a walk touches a few nodes instead of dozens. Every
 * node but the root is at least half full, whatever the order of adds and removes: an entry costs
 * 25 to 54 bytes (about 38 after random adds, 42 after long churn). Pure code: no I/O, nothing
 * beyond libc.
 *
 * An entry is its whole key: the ladder knows nothing of players, so moving a player is a remove of
 * the old key and an add of the new one, and the caller keeps one key per id.
 */
#ifndef ARCADE_LADDER_H
#define ARCADE_LADDER_H

#include <stddef.h>
#include <stdint.h>

struct ladder_key {
    double rating;      /* finite; higher ranks ahead */
    int64_t rated_at;   /* when the rating was reached; earlier ranks ahead */
    int64_t id;         /* the player; lower ranks ahead */
};

struct ladder;

/* Negative when a ranks ahead of b, positive when b ranks ahead of a, 0 for the same key. Ratings
 * are compared with < and > only, so neither may be NaN. */
int ladder_cmp(const struct ladder_key *a, const struct ladder_key *b);

/* An empty ladder, or NULL when out of memory. */
struct ladder *ladder_new(void);

/* Free l and everything in it; NULL is allowed. */
void ladder_free(struct ladder *l);

/* Add an entry. Returns 0, or -1 (and l unchanged) when k's rating is not finite, when the very
 * same key is there already, or when out of memory. */
int ladder_add(struct ladder *l, const struct ladder_key *k);

/* Remove the entry with exactly this key. Returns 0, or -1 when there is none. */
int ladder_remove(struct ladder *l, const struct ladder_key *k);

/* 1-based position of the entry with exactly this key (1 is the top), or 0 when there is none. */
int64_t ladder_rank(const struct ladder *l, const struct ladder_key *k);

/* The entry at 1-based position rank into *out. Returns 1, or 0 (and *out untouched) when rank is
 * below 1 or above the count. */
int ladder_at(const struct ladder *l, int64_t rank, struct ladder_key *out);

/* How many entries rank ahead of k, whether k is there or not: a key about to be added will stand
 * at ladder_before + 1. k's rating must not be NaN. */
int64_t ladder_before(const struct ladder *l, const struct ladder_key *k);

/* How many entries there are. */
size_t ladder_count(const struct ladder *l);

/* For tests and diagnostics: the bytes l holds, itself and its nodes; and the levels of nodes
 * from the root to the entries, 0 when empty. However many adds and removes brought the count
 * where it is, the bytes are at most 56 an entry and 96 KiB besides, and the height at most
 * 2 + log base 16 of (count / 46 + 1). */
size_t ladder_memory(const struct ladder *l);
int ladder_height(const struct ladder *l);

#endif
