/*
 * words: what a player types, turned into moves.
 *
 * A script gives moves as words separated by whitespace, case insensitive:
 * `rock` `paper` `scissors`, `r` `p` `s`, or the wire digits `1` scissors,
 * `2` rock, `3` paper (as the protocol numbers them, so `nc` players and
 * scripts agree). A terminal gives one key per move: r p s, 1 2 3, q quits.
 */
#ifndef ARCADE_WORDS_H
#define ARCADE_WORDS_H

#include <stddef.h>

#define WORDS_MAX 15 /* a longer word is bad whatever it is */

/* A key that is not a move (moves are RPS_SCISSORS..RPS_PAPER). */
enum words_key {
    WORDS_KEY_NONE = 0,     /* means nothing */
    WORDS_KEY_QUIT = -1,    /* q, Ctrl-C, Ctrl-D */
    WORDS_KEY_AGAIN = -2,   /* n: look for a new opponent */
};

/* The move a word names (1..3), or 0 if it names none. */
int words_move(const char *w, size_t len);

/* The move a key names (1..3), or a words_key. */
int words_key(int c);

/* "rock", "paper", "scissors", or "none" for anything else. */
const char *words_name(int move);

/* Splits a byte stream into move words, fed as it arrives. */
struct words_reader {
    char word[WORDS_MAX + 1];   /* the word being read, NUL-terminated */
    size_t len;                 /* its length so far (may exceed WORDS_MAX: then it is bad) */
    char bad[WORDS_MAX + 5];    /* the last bad word, shortened with "..." if long */
};

void words_reader_init(struct words_reader *r);

/* Feed one byte, or -1 at end of input. Returns a move (1..3) when a word ends, 0 when none
 * ended, -1 when the word that ended names no move (its text in r->bad). */
int words_reader_feed(struct words_reader *r, int c);

#endif
