/*
 * table: columns are described once (header, alignment, how to show a
 * cell), and widths come from the data, so a long name or a big total
 * widens its column instead of breaking the alignment.
 */
#include "table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define FIELDS 9
#define CELL_MAX 48

static int parse_ll(const char *s, size_t len, long long lo, long long *out)
{
    char tmp[32];
    if (len == 0 || len >= sizeof(tmp) || (s[0] != '-' && (s[0] < '0' || s[0] > '9'))) {
        return -1;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (*end != '\0' || errno != 0 || v < lo) {
        return -1;
    }
    *out = v;
    return 0;
}

static int valid_form(const char *s, size_t len)
{
    if (len > TABLE_FORM_MAX) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] != 'W' && s[i] != 'L' && s[i] != 'D') {
            return 0;
        }
    }
    return 1;
}

/* Split on tabs: exactly FIELDS fields. */
static int split(const char *line, size_t len, const char *f[FIELDS], size_t flen[FIELDS])
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != '\t') {
            continue;
        }
        if (k == FIELDS) {
            return -1;
        }
        f[k] = line + start;
        flen[k++] = i - start;
        start = i + 1;
    }
    return k == FIELDS ? 0 : -1;
}

int table_parse_row(const char *line, size_t len, struct table_row *row, char *err, size_t errlen)
{
    const char *f[FIELDS];
    size_t fl[FIELDS];
    long long prov = 0;

    memset(row, 0, sizeof(*row));
    int bad = split(line, len, f, fl) < 0 || parse_ll(f[0], fl[0], 1, &row->rank) < 0 ||
              !rps_valid_name(f[1], fl[1]) || parse_ll(f[2], fl[2], -1000000000LL, &row->rating) < 0 ||
              parse_ll(f[3], fl[3], 0, &prov) < 0 || prov > 1 || parse_ll(f[4], fl[4], 0, &row->wins) < 0 ||
              parse_ll(f[5], fl[5], 0, &row->losses) < 0 || parse_ll(f[6], fl[6], 0, &row->draws) < 0 ||
              parse_ll(f[7], fl[7], 0, &row->rounds) < 0 || !valid_form(f[8], fl[8]);
    if (bad) {
        snprintf(err, errlen, "bad leaderboard row from the server: '%.*s'", (int)(len > 200 ? 200 : len), line);
        return -1;
    }
    memcpy(row->name, f[1], fl[1]);
    row->provisional = (int)prov;
    memcpy(row->form, f[8], fl[8]);
    return 0;
}

static int grow(struct table_row **rows, size_t *cap)
{
    struct table_row *more = realloc(*rows, 2 * *cap * sizeof(**rows));
    if (more == NULL) {
        return -1;
    }
    *rows = more;
    *cap *= 2;
    return 0;
}

int table_parse(const char *answer, size_t len, struct table_row **rows, char *err, size_t errlen)
{
    size_t cap = 16, n = 0, off = 0;
    *rows = malloc(cap * sizeof(**rows));
    if (*rows == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    while (off < len) {
        const char *nl = memchr(answer + off, '\n', len - off);
        size_t end = nl != NULL ? (size_t)(nl - answer) : len;
        size_t l = end - off;
        if (l > 0 && answer[end - 1] == '\r') {
            l--;
        }
        if (l == 1 && answer[off] == '.') {
            return (int)n;
        }
        if (n == cap && grow(rows, &cap) < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (table_parse_row(answer + off, l, &(*rows)[n++], err, errlen) < 0) {
            return -1;
        }
        off = end + 1;
    }
    snprintf(err, errlen, "leaderboard answer without its final '.'");
    return -1;
}

enum col { COL_RANK, COL_NAME, COL_RATING, COL_WINS, COL_LOSSES, COL_DRAWS, COL_FORM, NCOLS };

static const struct {
    const char *header;
    int left;           /* left-aligned (text), else right-aligned (numbers) */
} cols[NCOLS] = {
    [COL_RANK] = { "rank", 0 },  [COL_NAME] = { "name", 1 },    [COL_RATING] = { "rating", 0 },
    [COL_WINS] = { "wins", 0 },  [COL_LOSSES] = { "losses", 0 }, [COL_DRAWS] = { "draws", 0 },
    [COL_FORM] = { "form", 1 },
};

/* A rating is followed by its mark or a space, so the digits of all ratings line up. */
static void cell(const struct table_row *r, enum col c, char *out, size_t cap)
{
    switch (c) {
    case COL_RANK:
        snprintf(out, cap, "%lld", r->rank);
        break;
    case COL_NAME:
        snprintf(out, cap, "%s", r->name);
        break;
    case COL_RATING:
        snprintf(out, cap, "%lld%c", r->rating, r->provisional ? '?' : ' ');
        break;
    case COL_WINS:
        snprintf(out, cap, "%lld", r->wins);
        break;
    case COL_LOSSES:
        snprintf(out, cap, "%lld", r->losses);
        break;
    case COL_DRAWS:
        snprintf(out, cap, "%lld", r->draws);
        break;
    default:
        snprintf(out, cap, "%s", r->form[0] != '\0' ? r->form : "-");
        break;
    }
}

static void print_line(FILE *f, char cells[NCOLS][CELL_MAX], const int width[NCOLS])
{
    for (int c = 0; c < NCOLS; c++) {
        const char *sep = c == 0 ? "" : "  ";
        if (c == NCOLS - 1) {
            fprintf(f, "%s%s", sep, cells[c]);
        } else {
            fprintf(f, cols[c].left ? "%s%-*s" : "%s%*s", sep, width[c], cells[c]);
        }
    }
}

void table_print(FILE *f, const struct table_row *rows, size_t n, int mark, int colour)
{
    int width[NCOLS];
    char cells[NCOLS][CELL_MAX];
    int any_provisional = 0;

    for (int c = 0; c < NCOLS; c++) {
        width[c] = (int)strlen(cols[c].header) + (c == COL_RATING ? 1 : 0);
        snprintf(cells[c], CELL_MAX, c == COL_RATING ? "%s " : "%s", cols[c].header);
    }
    for (size_t i = 0; i < n; i++) {
        any_provisional |= rows[i].provisional;
        for (int c = 0; c < NCOLS; c++) {
            char tmp[CELL_MAX];
            cell(&rows[i], (enum col)c, tmp, sizeof(tmp));
            int w = (int)strlen(tmp);
            width[c] = w > width[c] ? w : width[c];
        }
    }
    const char *gutter = mark >= 0 ? "  " : "";
    fprintf(f, "%s%s", gutter, colour ? "\033[1m" : "");
    print_line(f, cells, width);
    fprintf(f, "%s\n", colour ? "\033[0m" : "");
    for (size_t i = 0; i < n; i++) {
        int marked = mark >= 0 && (size_t)mark == i;
        for (int c = 0; c < NCOLS; c++) {
            cell(&rows[i], (enum col)c, cells[c], CELL_MAX);
        }
        fprintf(f, "%s%s", marked ? "> " : gutter, marked && colour ? "\033[7m" : "");
        print_line(f, cells, width);
        fprintf(f, "%s\n", marked && colour ? "\033[0m" : "");
    }
    if (any_provisional) {
        fprintf(f, "? provisional rating: fewer than 30 rated rounds\n");
    }
}

void table_print_tsv(FILE *f, const struct table_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct table_row *r = &rows[i];
        fprintf(f, "%lld\t%s\t%lld\t%d\t%lld\t%lld\t%lld\t%lld\t%s\n", r->rank, r->name, r->rating, r->provisional,
                r->wins, r->losses, r->draws, r->rounds, r->form);
    }
}

void table_print_json(FILE *f, const struct table_row *rows, size_t n, int player, int mark)
{
    fputc('[', f);
    for (size_t i = 0; i < n; i++) {
        const struct table_row *r = &rows[i];
        fputs(i == 0 ? "" : ",", f);
        fprintf(f, "{\"rank\":%lld,", r->rank);
        json_key(f, "name");
        json_cstring(f, r->name);
        fprintf(f, ",\"rating\":%lld,\"provisional\":%s,\"wins\":%lld,\"losses\":%lld,\"draws\":%lld,\"rounds\":%lld,",
                r->rating, r->provisional ? "true" : "false", r->wins, r->losses, r->draws, r->rounds);
        json_key(f, "form");
        json_cstring(f, r->form);
        if (player) {
            fprintf(f, ",\"is_player\":%s", (int)i == mark ? "true" : "false");
        }
        fputc('}', f);
    }
    fputc(']', f);
}
