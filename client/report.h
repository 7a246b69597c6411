/*
 * report: the words arcade play prints, one stable line per event. Scripts
 * parse these lines, so they change only with the README's list:
 *
 *   round 3: you rock, opponent scissors: win
 *   round 4: you rock, opponent none: win (opponent timed out)
 *   round 5: you none, opponent unknown: loss (you timed out)
 *   round 6: you paper, opponent none: win (opponent left)
 *   round 7: you rock, opponent unknown: win (while you were away)
 *   playing as ana | waiting for an opponent | matched with bo | queue timed out
 *   void round: neither player moved in time | opponent left
 *   match over: you won | match over: you lost | match over: both timed out
 *   back in the lobby
 *   registered ana: secret kept in /home/ana/.config/arcade/ana@127.0.0.1:5000.secret
 *   rejoined: opponent bo, round 4, wins 2, losses 1, draws 0, your move is in, 17 s left
 *   match over: ended while you were away
 *   opponent dropped: seat held for 21 s | opponent is back
 *   wins 2, losses 1, draws 0
 */
#ifndef ARCADE_REPORT_H
#define ARCADE_REPORT_H

#include <stddef.h>

#include "sess.h"

/* "win", "loss", "draw". */
const char *report_outcome(int outcome);

/* The line for a round event, without "\n". Returns its length (truncated to cap - 1). */
size_t report_round(const struct sess_event *ev, char *out, size_t cap);

/* The line for a note, without "\n"; 0 for notes that print nothing here (refusals and errors,
 * which the caller reports on stderr). */
size_t report_note(const struct sess_event *ev, char *out, size_t cap);

/* "wins W, losses L, draws D". */
size_t report_summary(unsigned wins, unsigned losses, unsigned draws, char *out, size_t cap);

/* "registered NAME: secret kept in PATH". */
size_t report_registered(const char *name, const char *path, char *out, size_t cap);

/* What a refusal of name (`N reason`) on server means for a person, and what to do; path is where
 * the name's secret is kept. */
size_t report_refusal(const char *reason, const char *name, const char *server, const char *path, char *out,
                      size_t cap);

#endif
