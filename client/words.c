/*
 * words: move names for scripts and keys for the terminal.
 */
#include "words.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

#include "rps.h"

static const struct {
    const char *word;
    int move;
} word_table[] = {
    { "rock", RPS_ROCK }, { "paper", RPS_PAPER }, { "scissors", RPS_SCISSORS },
    { "r", RPS_ROCK },    { "p", RPS_PAPER },     { "s", RPS_SCISSORS },
    { "2", RPS_ROCK },    { "3", RPS_PAPER },     { "1", RPS_SCISSORS },
};

int words_move(const char *w, size_t len)
{
    for (size_t i = 0; i < sizeof(word_table) / sizeof(word_table[0]); i++) {
        const char *t = word_table[i].word;
        size_t n = 0;
        while (t[n] != '\0') {
            n++;
        }
        if (n == len && strncasecmp(t, w, len) == 0) {
            return word_table[i].move;
        }
    }
    return 0;
}

int words_key(int c)
{
    if (c == 'q' || c == 'Q' || c == 3 || c == 4) {
        return WORDS_KEY_QUIT;
    }
    if (c == 'n' || c == 'N') {
        return WORDS_KEY_AGAIN;
    }
    char k = (char)c;
    int m = (c > 0 && c < 128) ? words_move(&k, 1) : 0;
    return m != 0 ? m : WORDS_KEY_NONE;
}

const char *words_name(int move)
{
    switch (move) {
    case RPS_ROCK:
        return "rock";
    case RPS_PAPER:
        return "paper";
    case RPS_SCISSORS:
        return "scissors";
    default:
        return "none";
    }
}

void words_reader_init(struct words_reader *r)
{
    r->len = 0;
    r->word[0] = '\0';
    r->bad[0] = '\0';
}

static int end_word(struct words_reader *r)
{
    if (r->len == 0) {
        return 0;
    }
    size_t kept = r->len > WORDS_MAX ? WORDS_MAX : r->len;
    int m = r->len > WORDS_MAX ? 0 : words_move(r->word, r->len);
    if (m == 0) {
        snprintf(r->bad, sizeof(r->bad), "%.*s%s", (int)kept, r->word, r->len > WORDS_MAX ? "..." : "");
    }
    r->len = 0;
    r->word[0] = '\0';
    return m != 0 ? m : -1;
}

int words_reader_feed(struct words_reader *r, int c)
{
    if (c < 0 || isspace(c)) {
        return end_word(r);
    }
    if (r->len < WORDS_MAX) {
        r->word[r->len] = (char)c;
        r->word[r->len + 1] = '\0';
    }
    r->len++;
    return 0;
}
