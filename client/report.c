/*
 * report: fixed wording for rounds and notices, shared by the script output
 * and the terminal screen so a person and a script read the same sentences.
 */
#include "report.h"

#include <stdio.h>
#include <string.h>

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
    case SESS_WHILE_AWAY:
        return " (while you were away)";
    default:
        return "";
    }
}

size_t report_round(const struct sess_event *ev, char *out, size_t cap)
{
    /* After `T z`, or while we were away, nobody said what the opponent played; and a move made by
     * the process before this one is not known here. */
    const char *opp = ev->why == SESS_YOU_TIMED_OUT || ev->why == SESS_WHILE_AWAY ? "unknown" : words_name(ev->opp);
    const char *you = ev->you == SESS_MOVE_IN ? "unknown" : words_name(ev->you);
    int n = snprintf(out, cap, "round %u: you %s, opponent %s: %s%s", ev->number, you, opp,
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
    case SESS_NOTE_REJOINED:
        n = snprintf(out, cap,
                     "rejoined: opponent %s, round %u, wins %u, losses %u, draws %u, your move is %s, %u s left",
                     ev->snap.opponent, ev->snap.round, ev->snap.wins, ev->snap.losses, ev->snap.draws,
                     ev->snap.moved ? "in" : "not in", ev->snap.seconds);
        break;
    case SESS_NOTE_AWAY_OVER:
        n = snprintf(out, cap, "match over: ended while you were away");
        break;
    case SESS_NOTE_OPP_DROPPED:
        n = snprintf(out, cap, "opponent dropped: seat held for %d s", ev->code);
        break;
    case SESS_NOTE_OPP_BACK:
        n = snprintf(out, cap, "opponent is back");
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

size_t report_registered(const char *name, const char *path, char *out, size_t cap)
{
    return clamp(snprintf(out, cap, "registered %s: secret kept in %s", name, path), cap);
}

size_t report_refusal(const char *reason, const char *name, const char *server, const char *path, char *out,
                      size_t cap)
{
    int n;
    if (strcmp(reason, "name taken") == 0 || strcmp(reason, "name is registered") == 0) {
        n = snprintf(out, cap,
                     "the name '%s' belongs to someone else on %s: choose another --name; if it is yours, copy "
                     "its secret file from the machine where you registered it to %s",
                     name, server, path);
    } else if (strcmp(reason, "wrong secret") == 0) {
        n = snprintf(out, cap,
                     "%s refused the secret kept for '%s' in %s (wrong secret): it was replaced from another "
                     "machine (arcade account rotate); copy the secret file from there",
                     server, name, path);
    } else if (strcmp(reason, "too many attempts") == 0) {
        n = snprintf(out, cap, "too many failed logins for '%s' on %s: try again later", name, server);
    } else if (strcmp(reason, "name in use") == 0) {
        n = snprintf(out, cap,
                     "the name '%s' is in use on %s by someone playing without an account: choose another "
                     "--name, or try again once they have left",
                     name, server);
    } else {
        n = snprintf(out, cap, "the server refused the name '%s': %s", name, reason);
    }
    return clamp(n, cap);
}
