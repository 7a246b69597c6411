/*
 * leaders: one `t` or `r` request through ask_exchange, the answer parsed
 * by table and printed for a person or, with --tsv or --json, for a script.
 *
 * The server answers `eunknown player` both for a name nobody has used and
 * for a player with no rated round yet (only rounds against people are
 * rated), and the protocol has no other way to ask about a player without
 * becoming one: so rank says what the answer means, both ways, and cannot
 * show an unranked player's totals.
 */
#include "leaders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ask.h"
#include "opts.h"
#include "screen.h"
#include "table.h"

enum { LEADERS_TSV = 1, LEADERS_JSON, LEADERS_K };

#define UNRANKED "unknown player"   /* the server's answer to r for a player not on the board */

static const struct opts_spec top_specs[] = { { "tsv", 0, 0, LEADERS_TSV }, { "json", 0, 0, LEADERS_JSON },
                                              OPTS_COMMON };
static const struct opts_spec rank_specs[] = { { "tsv", 0, 0, LEADERS_TSV }, { "json", 0, 0, LEADERS_JSON },
                                               { "k", 'k', 1, LEADERS_K }, OPTS_COMMON };

/* The one answer of the exchange, copied out. */
struct answer {
    char *text;
    size_t len;
};

static void keep_answer(void *ctx, const struct ask_req *req, const char *text, size_t len)
{
    struct answer *a = ctx;
    (void)req;
    a->text = malloc(len + 1);
    if (a->text != NULL) {
        memcpy(a->text, text, len);
        a->text[len] = '\0';
        a->len = len;
    }
}

/* What a parsed command line asks for. */
struct query {
    struct opts_conn conn;
    int tsv;
    int json;
    char request[64];
    char name[RPS_NAME_MAX + 1];    /* rank only */
};

/* Send q->request and parse the rows. Returns the number of rows, or -(exit status). */
static int fetch(const struct query *q, struct table_row **rows)
{
    char err[512];
    char *reqs[1] = { (char *)q->request };
    struct answer a = { NULL, 0 };

    *rows = NULL;
    if (ask_exchange(&q->conn, 0, reqs, 1, keep_answer, &a, err, sizeof(err)) < 0) {
        fprintf(stderr, "arcade: %s\n", err);
        return -OPTS_EXIT_NET;
    }
    int n = -OPTS_EXIT_SERVER;
    int reason = a.text != NULL ? (int)strcspn(a.text + 1, "\r\n") : 0;
    if (a.text == NULL) {
        fprintf(stderr, "arcade: out of memory\n");
    } else if (a.text[0] == 'e' && q->name[0] != '\0' && (size_t)reason == strlen(UNRANKED) &&
               strncmp(a.text + 1, UNRANKED, (size_t)reason) == 0) {
        fprintf(stderr,
                "arcade: %s is not ranked: only players with a rated round (a round against a person) are on "
                "the leaderboard, and the server does not tell such a player from a name nobody has used\n",
                q->name);
    } else if (a.text[0] == 'e') {
        fprintf(stderr, "arcade: server: %.*s\n", reason, a.text + 1);
    } else if ((n = table_parse(a.text, a.len, rows, err, sizeof(err))) < 0) {
        fprintf(stderr, "arcade: %s\n", err);
        n = -OPTS_EXIT_SERVER;
    }
    free(a.text);
    return n;
}

static void top_usage(FILE *f)
{
    fprintf(f, "usage: arcade top [N] [--tsv|--json] [options]\n"
               "Print the N best players (default 10, 1 to 100): rank, name, rating (? while\n"
               "provisional), wins, losses, draws, form (last results, oldest first).\n"
               "  --tsv            tab-separated rows for scripts: rank name rating provisional\n"
               "                   wins losses draws rounds form\n"
               "  --json           one JSON array of rows with those fields\n%s"
               "exit status: 0 done, 1 the server answered an error, 2 bad usage,\n"
               "             3 could not connect or no answer in time\n",
            opts_common_help);
}

static void rank_usage(FILE *f)
{
    fprintf(f, "usage: arcade rank NAME [-k K] [--tsv|--json] [options]\n"
               "Print NAME's place on the leaderboard with K players above and below (default 5,\n"
               "0 to 50), NAME's row marked with '>', then NAME's totals. Only players with a\n"
               "rated round (a round against a person) are on the leaderboard.\n"
               "  -k K             neighbours on each side\n"
               "  --tsv            tab-separated rows, as for top\n"
               "  --json           one JSON array of rows, as for top, each with is_player\n%s"
               "exit status: 0 done, 1 NAME is not on the leaderboard (or the server answered\n"
               "             another error), 2 bad usage, 3 could not connect or no answer in time\n",
            opts_common_help);
}

/* Parse argv into q. Returns -1 to go on, or an exit status. */
static int parse(int argc, char **argv, int is_rank, struct query *q)
{
    struct opts_parser p;
    char err[512] = "";
    const char *val, *count = NULL, *name = NULL;
    int id, status = -1;
    long v = 0;

    memset(q, 0, sizeof(*q));
    if (opts_conn_init(&q->conn, err, sizeof(err)) < 0) {
        fprintf(stderr, "arcade: %s\n", err);
        return OPTS_EXIT_USAGE;
    }
    opts_init(&p, is_rank ? rank_specs : top_specs, argc, argv, 1);
    while (status < 0 && (id = opts_next(&p, &val, err, sizeof(err))) != -1) {
        if (id == OPTS_HELP) {
            is_rank ? rank_usage(stdout) : top_usage(stdout);
            return OPTS_EXIT_OK;
        }
        if (id == LEADERS_TSV) {
            q->tsv = 1;
        } else if (id == LEADERS_JSON) {
            q->json = 1;
        } else if (id == LEADERS_K) {
            count = val;
        } else if (id == 0 && is_rank && name == NULL) {
            name = val;
        } else if (id == 0 && !is_rank && count == NULL) {
            count = val;
        } else if (id == 0) {
            snprintf(err, sizeof(err), "too many arguments");
            status = OPTS_EXIT_USAGE;
        } else if (id < 0 || opts_conn_apply(&q->conn, id, val, err, sizeof(err)) < 0) {
            status = OPTS_EXIT_USAGE;
        }
    }
    if (status < 0 && q->tsv && q->json) {
        snprintf(err, sizeof(err), "--tsv or --json, not both");
        status = OPTS_EXIT_USAGE;
    }
    if (status < 0 && is_rank && (name == NULL || !rps_valid_name(name, strlen(name)))) {
        snprintf(err, sizeof(err), name == NULL ? "which player?" : "bad name: 1 to 32 of A-Z a-z 0-9 _ -");
        status = OPTS_EXIT_USAGE;
    }
    if (status < 0 && count != NULL &&
        opts_int(count, is_rank ? 0 : 1, is_rank ? 50 : 100, &v, err, sizeof(err)) < 0) {
        status = OPTS_EXIT_USAGE;
    }
    if (status == OPTS_EXIT_USAGE) {
        fprintf(stderr, "arcade %s: %s\n", argv[0], err);
        is_rank ? rank_usage(stderr) : top_usage(stderr);
        return status;
    }
    if (is_rank) {
        snprintf(q->name, sizeof(q->name), "%s", name);
    }
    int k = snprintf(q->request, sizeof(q->request), "%c%s", is_rank ? 'r' : 't', q->name);
    if (count != NULL) {
        snprintf(q->request + k, sizeof(q->request) - (size_t)k, "%s%ld", is_rank ? " " : "", v);
    }
    return -1;
}

int leaders_top_main(int argc, char **argv)
{
    struct query q;
    struct table_row *rows;
    int status = parse(argc, argv, 0, &q);
    if (status >= 0) {
        return status;
    }
    int n = fetch(&q, &rows);
    if (n < 0) {
        free(rows);
        return -n;
    }
    if (q.json) {
        table_print_json(stdout, rows, (size_t)n, 0, -1);
        putchar('\n');
    } else if (q.tsv) {
        table_print_tsv(stdout, rows, (size_t)n);
    } else if (n == 0) {
        printf("no ranked players yet: named players appear once they have played a person\n");
    } else {
        table_print(stdout, rows, (size_t)n, -1, screen_colour(STDOUT_FILENO));
    }
    free(rows);
    return OPTS_EXIT_OK;
}

static int find_row(const struct table_row *rows, int n, const char *name)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(rows[i].name, name) == 0) {
            return i;
        }
    }
    for (int i = 0; i < n; i++) {
        if (strcasecmp(rows[i].name, name) == 0) {
            return i;
        }
    }
    return -1;
}

int leaders_rank_main(int argc, char **argv)
{
    struct query q;
    struct table_row *rows;
    int status = parse(argc, argv, 1, &q);
    if (status >= 0) {
        return status;
    }
    int n = fetch(&q, &rows);
    if (n < 0) {
        free(rows);
        if (q.json && n == -OPTS_EXIT_SERVER) {
            puts("[]");     /* not on the leaderboard: no rows, and the reason on stderr */
        }
        return -n;
    }
    int me = find_row(rows, n, q.name);
    if (q.json) {
        table_print_json(stdout, rows, (size_t)n, 1, me);
        putchar('\n');
    } else if (q.tsv) {
        table_print_tsv(stdout, rows, (size_t)n);
    } else {
        table_print(stdout, rows, (size_t)n, me, screen_colour(STDOUT_FILENO));
    }
    if (!q.tsv && !q.json && me >= 0) {
        const struct table_row *r = &rows[me];
        printf("%s: rank %lld, rating %lld%s, wins %lld, losses %lld, draws %lld in %lld rounds, form %s\n", r->name,
               r->rank, r->rating, r->provisional ? " (provisional)" : "", r->wins, r->losses, r->draws, r->rounds,
               r->form[0] != '\0' ? r->form : "-");
    }
    free(rows);
    return OPTS_EXIT_OK;
}
