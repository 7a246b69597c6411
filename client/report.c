/*
 * report: fixed wording for rounds and notices, shared by the script output
 * and the terminal screen so a person and a script read the same sentences.
 */
#include "report.h"

#include <stdio.h>

#include "words.h"

/* snprintf's return is what it wanted to write; callers want what is there. */
static size_t clamp(int n, size_t cap)
{
    if (n < 0 || cap == 0) {
        return 0;
    }
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

const char *report_outcome(int outcome)
{
    switch (outcome) {
    case RPS_WIN:
        return "win";
    case RPS_LOSS:
        return "loss";
    default:
        return "draw";
    }
}

static const char *why_text(enum sess_why why)
{
    switch (why) {
    case SESS_OPP_TIMED_OUT:
        return " (opponent timed out)";
    case SESS_YOU_TIMED_OUT:
        return " (you timed out)";
    case SESS_OPP_LEFT:
        return " (opponent left)";
    default:
        return "";
    }
}

size_t report_round(const struct sess_event *ev, char *out, size_t cap)
{
    /* After `T z` the server does not say what the opponent played. */
    const char *opp = ev->why == SESS_YOU_TIMED_OUT ? "unknown" : words_name(ev->opp);
    int n = snprintf(out, cap, "round %u: you %s, opponent %s: %s%s", ev->number, words_name(ev->you), opp,
                     report_outcome(ev->outcome), why_text(ev->why));
    return clamp(n, cap);
}

static const char *over_text(int code)
{
    switch (code) {
    case RPS_WIN:
        return "you won";
    case RPS_LOSS:
        return "you lost";
    default:
        return "both timed out";
    }
}

size_t report_note(const struct sess_event *ev, char *out, size_t cap)
{
    int n = 0;
    switch (ev->note) {
    case SESS_NOTE_NAMED:
        n = snprintf(out, cap, "playing as %s", ev->text);
        break;
    case SESS_NOTE_WAITING:
        n = snprintf(out, cap, "waiting for an opponent");
        break;
    case SESS_NOTE_MATCHED:
        n = snprintf(out, cap, "matched with %s", ev->text);
        break;
    case SESS_NOTE_QUEUE_TIMEOUT:
        n = snprintf(out, cap, "queue timed out");
        break;
    case SESS_NOTE_VOID:
        n = snprintf(out, cap, "void round: neither player moved in time");
        break;
    case SESS_NOTE_OPP_LEFT:
        n = snprintf(out, cap, "opponent left");
        break;
    case SESS_NOTE_MATCH_OVER:
        n = snprintf(out, cap, "match over: %s", over_text(ev->code));
        break;
    case SESS_NOTE_LOBBY:
        n = snprintf(out, cap, "back in the lobby");
        break;
    default:
        if (cap > 0) {
            out[0] = '\0';
        }
        return 0;
    }
    return clamp(n, cap);
}

size_t report_summary(unsigned wins, unsigned losses, unsigned draws, char *out, size_t cap)
{
    return clamp(snprintf(out, cap, "wins %u, losses %u, draws %u", wins, losses, draws), cap);
}
