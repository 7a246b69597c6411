/*
 * board: parsing of leaderboard requests and formatting of their rows.
 */
#include "board.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jsonstr.h"

int board_is_op(int c)
{
    return c == BOARD_TOP || c == BOARD_RANK;
}

/* Parse an unsigned decimal of at most 3 digits in [lo, hi] spanning exactly len bytes. */
static int parse_count(const char *s, size_t len, int lo, int hi, int *out)
{
    int v = 0;
    if (len == 0 || len > 3) {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_rank(const char *arg, size_t len, struct board_query *q, const char **reason)
{
    const char *space = memchr(arg, ' ', len);
    size_t name_len = space != NULL ? (size_t)(space - arg) : len;

    if (!rps_valid_name(arg, name_len)) {
        *reason = "bad name";
        return -1;
    }
    memcpy(q->name, arg, name_len);
    q->name[name_len] = '\0';
    q->count = BOARD_AROUND_DEFAULT;
    if (space != NULL &&
        parse_count(space + 1, len - name_len - 1, 0, BOARD_AROUND_MAX, &q->count) < 0) {
        *reason = "bad count";
        return -1;
    }
    return 0;
}

int board_parse(const char *line, size_t len, struct board_query *q, const char **reason)
{
    if (len == 0 || !board_is_op((unsigned char)line[0])) {
        *reason = "unknown op";
        return -1;
    }
    q->kind = (enum board_kind)line[0];
    q->name[0] = '\0';
    if (q->kind == BOARD_RANK) {
        return parse_rank(line + 1, len - 1, q, reason);
    }
    q->count = BOARD_TOP_DEFAULT;
    if (len > 1 && parse_count(line + 1, len - 1, 1, BOARD_TOP_MAX, &q->count) < 0) {
        *reason = "bad count";
        return -1;
    }
    return 0;
}

long long board_rating(double rating)
{
    return (long long)floor(rating + 0.5);
}

size_t board_format_row(const struct board_row *row, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%lld\t%s\t%lld\t%d\t%lld\t%lld\t%lld\t%lld\t%s\n", (long long)row->rank, row->name,
                     board_rating(row->rating), row->provisional ? 1 : 0, (long long)row->wins, (long long)row->losses,
                     (long long)row->draws, (long long)row->rounds, row->form);
    if (n < 0) {
        return 0;
    }
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* s as a JSON string, quotes included, into out (room for 2 + JSONSTR_BYTE_MAX * strlen(s) + 1),
 * NUL-terminated. */
static void json_text(const char *s, char *out)
{
    size_t n = 0;
    out[n++] = '"';
    for (; *s != '\0'; s++) {
        n += jsonstr_byte((unsigned char)*s, out + n);
    }
    out[n++] = '"';
    out[n] = '\0';
}

size_t board_format_json(const struct board_row *row, char *out, size_t cap)
{
    char name[2 + JSONSTR_BYTE_MAX * RPS_NAME_MAX + 1], form[2 + JSONSTR_BYTE_MAX * BOARD_FORM_MAX + 1];
    json_text(row->name, name);
    json_text(row->form, form);
    int n = snprintf(out, cap,
                     "{\"rank\":%lld,\"name\":%s,\"rating\":%lld,\"provisional\":%s,\"wins\":%lld,"
                     "\"losses\":%lld,\"draws\":%lld,\"rounds\":%lld,\"form\":%s}",
                     (long long)row->rank, name, board_rating(row->rating), row->provisional ? "true" : "false",
                     (long long)row->wins, (long long)row->losses, (long long)row->draws, (long long)row->rounds, form);
    if (n < 0) {
        return 0;
    }
    return (size_t)n < cap ? (size_t)n : cap - 1;
}
