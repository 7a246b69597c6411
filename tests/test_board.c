/* games/board: leaderboard request lines and the text of a row. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"

static struct board_query q;
static const char *reason;

/* Parse a literal line; the query is in q, the reason of a refusal in reason. */
static int parse(const char *line)
{
    memset(&q, 0x5a, sizeof(q));
    reason = NULL;
    return board_parse(line, strlen(line), &q, &reason);
}

#define TOP_OK(line, n)                                                                                     \
    do {                                                                                                    \
        ck_assert_msg(parse(line) == 0, "'%s' refused: %s", (line), reason ? reason : "(no reason)");      \
        ck_assert_int_eq(q.kind, BOARD_TOP);                                                                \
        ck_assert_int_eq(q.count, (n));                                                                     \
    } while (0)

#define RANK_OK(line, who, k)                                                                               \
    do {                                                                                                    \
        ck_assert_msg(parse(line) == 0, "'%s' refused: %s", (line), reason ? reason : "(no reason)");      \
        ck_assert_int_eq(q.kind, BOARD_RANK);                                                               \
        ck_assert_str_eq(q.name, (who));                                                                    \
        ck_assert_int_eq(q.count, (k));                                                                     \
    } while (0)

#define REFUSED(line, why)                                                                                  \
    do {                                                                                                    \
        ck_assert_msg(parse(line) == -1, "'%s' accepted", (line));                                         \
        ck_assert_ptr_nonnull(reason);                                                                      \
        ck_assert_str_eq(reason, (why));                                                                    \
    } while (0)

START_TEST(test_top_counts)
{
    TOP_OK("t", BOARD_TOP_DEFAULT);
    ck_assert_int_eq(BOARD_TOP_DEFAULT, 10);
    TOP_OK("t5", 5);
    TOP_OK("t1", 1);
    TOP_OK("t100", 100);
}
END_TEST

START_TEST(test_top_bad_counts)
{
    REFUSED("t0", "bad count");
    REFUSED("t101", "bad count");
    REFUSED("t1000", "bad count");
    REFUSED("tx", "bad count");
    REFUSED("t5x", "bad count");
    REFUSED("t-1", "bad count");
    REFUSED("t 5", "bad count");
    REFUSED("t5 ", "bad count");
}
END_TEST

START_TEST(test_rank_names_and_counts)
{
    RANK_OK("rana", "ana", BOARD_AROUND_DEFAULT);
    ck_assert_int_eq(BOARD_AROUND_DEFAULT, 5);
    RANK_OK("rana 3", "ana", 3);
    RANK_OK("rana 0", "ana", 0);
    RANK_OK("rana 50", "ana", 50);
    RANK_OK("rA_b-9", "A_b-9", 5);
    RANK_OK("rabcdefghijklmnopqrstuvwxyz012345", "abcdefghijklmnopqrstuvwxyz012345", 5);
}
END_TEST

START_TEST(test_rank_refusals)
{
    REFUSED("rana 51", "bad count");
    REFUSED("rana x", "bad count");
    REFUSED("rana ", "bad count");
    REFUSED("rana 1 2", "bad count");
    REFUSED("r", "bad name");
    REFUSED("ra!b", "bad name");
    REFUSED("r ana", "bad name");
    REFUSED("r.", "bad name");
    REFUSED("rabcdefghijklmnopqrstuvwxyz0123456", "bad name");
}
END_TEST

START_TEST(test_other_ops_refused)
{
    REFUSED("a12", "unknown op");
    REFUSED("x", "unknown op");
    reason = NULL;
    ck_assert_int_eq(board_parse("", 0, &q, &reason), -1);
    ck_assert_str_eq(reason, "unknown op");
    ck_assert_int_eq(board_is_op('t'), 1);
    ck_assert_int_eq(board_is_op('r'), 1);
    ck_assert_int_eq(board_is_op('T'), 0);
    ck_assert_int_eq(board_is_op('a'), 0);
}
END_TEST

/* Only len bytes are the request: what follows in memory is not read. */
START_TEST(test_parse_honours_length)
{
    ck_assert_int_eq(board_parse("t5x", 2, &q, &reason), 0);
    ck_assert_int_eq(q.count, 5);
    ck_assert_int_eq(board_parse("rana 3!", 6, &q, &reason), 0);
    ck_assert_str_eq(q.name, "ana");
    ck_assert_int_eq(q.count, 3);
    ck_assert_int_eq(board_parse("rbo\n", 3, &q, &reason), 0);
    ck_assert_str_eq(q.name, "bo");
}
END_TEST

static struct board_row make_row(int64_t rank, const char *name, double rating, int provisional, int64_t wins,
                                 int64_t losses, int64_t draws, const char *form)
{
    struct board_row r;
    memset(&r, 0, sizeof(r));
    r.rank = rank;
    snprintf(r.name, sizeof(r.name), "%s", name);
    r.rating = rating;
    r.provisional = provisional;
    r.wins = wins;
    r.losses = losses;
    r.draws = draws;
    /* Unsigned, so that the widest row's sum wraps instead of overflowing; it sets rounds itself. */
    r.rounds = (int64_t)((uint64_t)wins + (uint64_t)losses + (uint64_t)draws);
    snprintf(r.form, sizeof(r.form), "%s", form);
    return r;
}

/* A row as fmt writes it into a buffer of cap bytes (at most 512), checked to fit. */
static const char *format_by(size_t (*fmt)(const struct board_row *, char *, size_t), const struct board_row *r,
                             size_t cap)
{
    static char out[512];
    ck_assert_uint_le(cap, sizeof(out));
    memset(out, '#', sizeof(out));
    size_t n = fmt(r, out, cap);
    ck_assert_uint_lt(n, cap);
    ck_assert_uint_eq(n, strlen(out));
    return out;
}

static const char *format(const struct board_row *r)
{
    return format_by(board_format_row, r, BOARD_ROW_MAX);
}

START_TEST(test_row_of_the_protocol)
{
    struct board_row r = make_row(1, "ana", 1262.0, 1, 12, 3, 1, "WWDWW");
    ck_assert_str_eq(format(&r), "1\tana\t1262\t1\t12\t3\t1\t16\tWWDWW\n");
    r = make_row(3, "cy", 1180.0, 1, 0, 1, 0, "L");
    ck_assert_str_eq(format(&r), "3\tcy\t1180\t1\t0\t1\t0\t1\tL\n");
}
END_TEST

START_TEST(test_row_rounds_rating)
{
    struct board_row r = make_row(2, "bo", 1230.6, 0, 4, 2, 0, "WLW");
    ck_assert_str_eq(format(&r), "2\tbo\t1231\t0\t4\t2\t0\t6\tWLW\n");
    r.rating = 1230.4;
    ck_assert_str_eq(format(&r), "2\tbo\t1230\t0\t4\t2\t0\t6\tWLW\n");
    r.rating = 1230.49999;
    ck_assert_str_eq(format(&r), "2\tbo\t1230\t0\t4\t2\t0\t6\tWLW\n");
    /* Halves go up, even ones too (printf's own rounding would give 1230 and 1232). */
    r.rating = 1230.5;
    ck_assert_str_eq(format(&r), "2\tbo\t1231\t0\t4\t2\t0\t6\tWLW\n");
    r.rating = 1231.5;
    ck_assert_str_eq(format(&r), "2\tbo\t1232\t0\t4\t2\t0\t6\tWLW\n");
    r.rating = 2399.9;
    ck_assert_str_eq(format(&r), "2\tbo\t2400\t0\t4\t2\t0\t6\tWLW\n");
}
END_TEST

START_TEST(test_row_flag_and_empty_form)
{
    /* Any non-zero provisional is written 1; an empty form leaves the last column empty. */
    struct board_row r = make_row(7, "Z_z-1", 1200.0, 5, 0, 0, 3, "");
    ck_assert_str_eq(format(&r), "7\tZ_z-1\t1200\t1\t0\t0\t3\t3\t\n");
}
END_TEST

START_TEST(test_widest_row_fits)
{
    struct board_row r = make_row(INT64_MAX, "abcdefghijklmnopqrstuvwxyz012345", 3999.7, 0, INT64_MAX,
                                  INT64_MAX, INT64_MAX, "WWWWWLLLLD");
    r.rounds = INT64_MAX;
    ck_assert_str_eq(format(&r), "9223372036854775807\tabcdefghijklmnopqrstuvwxyz012345\t4000\t0\t"
                                 "9223372036854775807\t9223372036854775807\t9223372036854775807\t"
                                 "9223372036854775807\tWWWWWLLLLD\n");
}
END_TEST

static const char *format_json(const struct board_row *r)
{
    return format_by(board_format_json, r, BOARD_JSON_MAX);
}

START_TEST(test_row_as_json)
{
    struct board_row r = make_row(1, "ana", 1261.5, 1, 12, 3, 1, "WWDWW");
    ck_assert_str_eq(format_json(&r), "{\"rank\":1,\"name\":\"ana\",\"rating\":1262,\"provisional\":true,\"wins\":12,"
                                      "\"losses\":3,\"draws\":1,\"rounds\":16,\"form\":\"WWDWW\"}");
    r = make_row(7, "Z_z-1", 1200.0, 0, 0, 0, 3, "");
    ck_assert_str_eq(format_json(&r), "{\"rank\":7,\"name\":\"Z_z-1\",\"rating\":1200,\"provisional\":false,\"wins\":0,"
                                      "\"losses\":0,\"draws\":3,\"rounds\":3,\"form\":\"\"}");
}
END_TEST

/* Rows hold valid names, but JSON stays valid whatever they hold; the widest still fits. */
START_TEST(test_row_as_json_escapes_and_fits)
{
    struct board_row r = make_row(2, "a\"b\\c", 1200.0, 1, 0, 0, 0, "W\n");
    ck_assert_str_eq(format_json(&r), "{\"rank\":2,\"name\":\"a\\\"b\\\\c\",\"rating\":1200,\"provisional\":true,"
                                      "\"wins\":0,\"losses\":0,\"draws\":0,\"rounds\":0,\"form\":\"W\\n\"}");
    r = make_row(INT64_MIN, "", -1e18, 0, INT64_MIN, INT64_MIN, INT64_MIN, "");
    memset(r.name, 1, RPS_NAME_MAX);
    memset(r.form, 1, BOARD_FORM_MAX);
    r.rounds = INT64_MIN;
    const char *json = format_json(&r);
    ck_assert_ptr_nonnull(strstr(json, "\"form\":\"\\u0001"));
    ck_assert_int_eq(json[strlen(json) - 1], '}');
}
END_TEST

static Suite *board_suite(void)
{
    Suite *s = suite_create("board");
    TCase *parse_tc = tcase_create("parse");
    TCase *row_tc = tcase_create("row");

    tcase_add_test(parse_tc, test_top_counts);
    tcase_add_test(parse_tc, test_top_bad_counts);
    tcase_add_test(parse_tc, test_rank_names_and_counts);
    tcase_add_test(parse_tc, test_rank_refusals);
    tcase_add_test(parse_tc, test_other_ops_refused);
    tcase_add_test(parse_tc, test_parse_honours_length);
    suite_add_tcase(s, parse_tc);

    tcase_add_test(row_tc, test_row_of_the_protocol);
    tcase_add_test(row_tc, test_row_rounds_rating);
    tcase_add_test(row_tc, test_row_flag_and_empty_form);
    tcase_add_test(row_tc, test_widest_row_fits);
    tcase_add_test(row_tc, test_row_as_json);
    tcase_add_test(row_tc, test_row_as_json_escapes_and_fits);
    suite_add_tcase(s, row_tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(board_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
