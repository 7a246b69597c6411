/*
 * screen: the terminal side of arcade. Whether to colour, key-at-a-time
 * input (raw mode, always restored), and the play screen: permanent lines
 * scrolling above one status line that is redrawn in place.
 */
#ifndef ARCADE_SCREEN_H
#define ARCADE_SCREEN_H

#include <stdio.h>

/* Colour output to fd? Only on a terminal, with NO_COLOR unset and TERM not "dumb". */
int screen_colour(int fd);

/* May fd be redrawn with escape sequences (a terminal, TERM not "dumb")? */
int screen_fancy(int fd);

/* Read keys from the terminal fd one at a time, unechoed; Ctrl-C and Ctrl-Z still raise their
 * signals. The settings before are saved and restored by screen_restore, which also runs at exit.
 * 0, or -1 (not a terminal). */
int screen_raw(int fd);

/* Put the saved settings back; harmless when not raw. Safe in a signal handler. */
void screen_restore(void);

/* Enter raw mode again after screen_restore (a resumed Ctrl-Z). */
void screen_reraw(void);

enum screen_tone {
    SCREEN_PLAIN,
    SCREEN_WIN,
    SCREEN_LOSS,
    SCREEN_DRAW,
    SCREEN_NOTE,
    SCREEN_ALERT,
};

struct screen {
    FILE *out;
    int colour;             /* SGR colours */
    int fancy;              /* "\r" and erase-line for the status line */
    char status[256];       /* what the status line shows */
    int shown;              /* the status line is on screen */
    int shown_len;          /* its visible length, to blank it without escapes */
};

void screen_init(struct screen *s, FILE *out, int colour, int fancy);

/* A permanent line, in a tone, with the status line redrawn below it. */
void screen_line(struct screen *s, enum screen_tone tone, const char *text);

/* The terminal's width in columns, or 0 when out is no terminal. */
int screen_width(const struct screen *s);

/* Replace the status line; it is cut to fit one row of the terminal. */
void screen_status(struct screen *s, const char *text);

/* Take the status line off the screen (before exit). */
void screen_clear(struct screen *s);

#endif
