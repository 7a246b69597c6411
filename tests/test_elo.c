/* Elo arithmetic against values worked out by hand (the working is in the comments). */
#include <check.h>
#include <stdlib.h>

#include "elo.h"
#include "suite.h"

#define EPS 1e-4

START_TEST(test_expected_values)
{
    /* Equal ratings: 10^0 = 1, E = 1/2. */
    ck_assert_double_eq_tol(elo_expected(1500, 1500), 0.5, 1e-12);
    /* 1400 vs 1200: 10^(-200/400) = 10^-0.5 = 0.316228, E = 1/1.316228 = 0.759747. */
    ck_assert_double_eq_tol(elo_expected(1400, 1200), 0.759747, 1e-6);
    /* and the other side: 1/(1 + 10^0.5) = 1/4.162278 = 0.240253. */
    ck_assert_double_eq_tol(elo_expected(1200, 1400), 0.240253, 1e-6);
    /* 400 points: 10^-1, E = 1/1.1 = 0.909091. */
    ck_assert_double_eq_tol(elo_expected(2400, 2000), 0.909091, 1e-6);
    /* 800 points below: 10^2, E = 1/101 = 0.009901. */
    ck_assert_double_eq_tol(elo_expected(1200, 2000), 0.009901, 1e-6);
}
END_TEST

START_TEST(test_k_thresholds)
{
    ck_assert_int_eq(elo_k(ELO_START, 0), 40);
    ck_assert_int_eq(elo_k(1500, 29), 40);  /* 29 rounds before this one: still provisional */
    ck_assert_int_eq(elo_k(1500, 30), 20);
    ck_assert_int_eq(elo_k(2399, 100), 20);
    ck_assert_int_eq(elo_k(2399.999, 100), 20);
    ck_assert_int_eq(elo_k(2400, 100), 10);
    ck_assert_int_eq(elo_k(2399, 29), 40);
    /* At 2400 K is 10 even for a provisional player. */
    ck_assert_int_eq(elo_k(2400, 29), 10);
    ck_assert_int_eq(elo_k(2400, 0), 10);
    ck_assert_int_eq(elo_provisional(0), 1);
    ck_assert_int_eq(elo_provisional(29), 1);
    ck_assert_int_eq(elo_provisional(30), 0);
}
END_TEST

START_TEST(test_first_round_win)
{
    /* 1200 vs 1200, both new (K 40): E = 0.5;
     * a = 1200 + 40 * 0.5 = 1220, b = 1200 - 40 * 0.5 = 1180. */
    double a = ELO_START, b = ELO_START;

    elo_update(&a, 0, &b, 0, 1.0);
    ck_assert_double_eq_tol(a, 1220.0, 1e-9);
    ck_assert_double_eq_tol(b, 1180.0, 1e-9);
}
END_TEST

START_TEST(test_favourite_wins)
{
    /* 1400 beats 1200, both K 20: a = 1400 + 20 * (1 - 0.759747) = 1404.805061,
     * b = 1200 + 20 * (0 - 0.240253) = 1195.194939. */
    double a = 1400, b = 1200;

    elo_update(&a, 50, &b, 50, 1.0);
    ck_assert_double_eq_tol(a, 1404.805061, EPS);
    ck_assert_double_eq_tol(b, 1195.194939, EPS);
}
END_TEST

START_TEST(test_upset)
{
    /* 1200 beats 1400, both K 20: a = 1200 + 20 * (1 - 0.240253) = 1215.194939,
     * b = 1400 + 20 * (0 - 0.759747) = 1384.805061. */
    double a = 1200, b = 1400;

    elo_update(&a, 40, &b, 40, 1.0);
    ck_assert_double_eq_tol(a, 1215.194939, EPS);
    ck_assert_double_eq_tol(b, 1384.805061, EPS);
}
END_TEST

START_TEST(test_draw)
{
    /* 1600 draws 1400, both K 20: a = 1600 + 20 * (0.5 - 0.759747) = 1594.805061,
     * b = 1400 + 20 * (0.5 - 0.240253) = 1405.194939. */
    double a = 1600, b = 1400;

    elo_update(&a, 30, &b, 30, 0.5);
    ck_assert_double_eq_tol(a, 1594.805061, EPS);
    ck_assert_double_eq_tol(b, 1405.194939, EPS);

    /* Equal ratings and a draw: nothing moves. */
    a = 1300;
    b = 1300;
    elo_update(&a, 3, &b, 70, 0.5);
    ck_assert_double_eq_tol(a, 1300.0, 1e-9);
    ck_assert_double_eq_tol(b, 1300.0, 1e-9);
}
END_TEST

START_TEST(test_loss_with_different_k)
{
    /* 1500 with 29 rated rounds (K 40) loses to 1300 with 30 (K 20):
     * a = 1500 + 40 * (0 - 0.759747) = 1469.610123,
     * b = 1300 + 20 * (1 - 0.240253) = 1315.194939. */
    double a = 1500, b = 1300;

    elo_update(&a, 29, &b, 30, 0.0);
    ck_assert_double_eq_tol(a, 1469.610123, EPS);
    ck_assert_double_eq_tol(b, 1315.194939, EPS);
}
END_TEST

START_TEST(test_master_k)
{
    /* 2400 (K 10) loses to a provisional 2000 (K 40): E_a = 1/1.1 = 0.909091;
     * a = 2400 - 10 * 0.909091 = 2390.909091, b = 2000 + 40 * (1 - 0.090909) = 2036.363636. */
    double a = 2400, b = 2000;

    elo_update(&a, 100, &b, 5, 0.0);
    ck_assert_double_eq_tol(a, 2390.909091, EPS);
    ck_assert_double_eq_tol(b, 2036.363636, EPS);

    /* One point lower, a has K 20: 10^(-399/400) = 0.100577, E = 1/1.100577 = 0.908614,
     * so a = 2399 - 20 * 0.908614 = 2399 - 18.172281 = 2380.827719. */
    a = 2399;
    b = 2000;
    elo_update(&a, 100, &b, 5, 0.0);
    ck_assert_double_eq_tol(a, 2380.827719, EPS);
}
END_TEST

START_TEST(test_symmetry)
{
    /* With equal K what one gains the other loses, whatever the result. */
    static const double pairs[][2] = {
        {1200, 1200}, {1400, 1200}, {900, 1700}, {2450, 2410}, {1835.5, 1201.25},
    };
    static const double scores[] = {0.0, 0.5, 1.0};

    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        for (size_t j = 0; j < sizeof(scores) / sizeof(scores[0]); j++) {
            double a = pairs[i][0], b = pairs[i][1];

            /* Same K on both sides: both established, or both masters. */
            elo_update(&a, 100, &b, 100, scores[j]);
            ck_assert_double_eq_tol((a - pairs[i][0]) + (b - pairs[i][1]), 0.0, 1e-9);
        }
    }
    /* Swapping sides mirrors the result. */
    double a1 = 1400, b1 = 1200, a2 = 1200, b2 = 1400;

    elo_update(&a1, 50, &b1, 50, 1.0);
    elo_update(&a2, 50, &b2, 50, 0.0);
    ck_assert_double_eq_tol(a1, b2, 1e-9);
    ck_assert_double_eq_tol(b1, a2, 1e-9);
}
END_TEST

static Suite *elo_suite(void)
{
    Suite *s = suite_create("elo");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_expected_values);
    tcase_add_test(tc, test_k_thresholds);
    tcase_add_test(tc, test_first_round_win);
    tcase_add_test(tc, test_favourite_wins);
    tcase_add_test(tc, test_upset);
    tcase_add_test(tc, test_draw);
    tcase_add_test(tc, test_loss_with_different_k);
    tcase_add_test(tc, test_master_k);
    tcase_add_test(tc, test_symmetry);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return suite_run(elo_suite());
}
