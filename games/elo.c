/* Elo ratings: see elo.h for the rules and the choice of K. */
#include "elo.h"

#include <math.h>

double elo_expected(double ra, double rb)
{
    return 1.0 / (1.0 + pow(10.0, (rb - ra) / 400.0));
}

int elo_k(double rating, int rated)
{
    if (rating >= ELO_MASTER) {
        return ELO_K_MASTER;
    }
    if (rated < ELO_PROVISIONAL) {
        return ELO_K_PROVISIONAL;
    }
    return ELO_K_ESTABLISHED;
}

int elo_provisional(int rated)
{
    return rated < ELO_PROVISIONAL;
}

void elo_update(double *ra, int rated_a, double *rb, int rated_b, double score_a)
{
    double ea = elo_expected(*ra, *rb);
    double a = *ra + elo_k(*ra, rated_a) * (score_a - ea);
    /* E_b = 1 - E_a and S_b = 1 - S_a, so b's change uses the same expectation. */
    double b = *rb + elo_k(*rb, rated_b) * ((1.0 - score_a) - (1.0 - ea));

    *ra = a;
    *rb = b;
}
