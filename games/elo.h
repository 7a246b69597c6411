/* Elo ratings for arcade's player-vs-player rounds: pure arithmetic, no storage.
 *
 * Expected score of a against b: E_a = 1 / (1 + 10^((Rb - Ra) / 400)).
 * After a round: Ra' = Ra + K_a * (S_a - E_a), with S_a = 1 win, 0.5 draw, 0 loss.
 * K depends on the player alone, before the round is counted:
 *   10  at a rating of 2400 or more, even for a provisional player: the top of the table moves
 *       slowly, and a newcomer who got there quickly keeps the damping of everyone else there;
 *   40  while the player has fewer than 30 rated rounds (provisional: the rating still searches);
 *   20  otherwise.
 * Everyone starts at 1200. The two players may have different K, so a round does not always keep
 * the sum of ratings: it does when both K are equal.
 */
#ifndef ARCADE_ELO_H
#define ARCADE_ELO_H

#define ELO_START 1200.0      /* rating of a player who has not played a rated round */
#define ELO_PROVISIONAL 30    /* rated rounds before a rating stops being provisional */
#define ELO_MASTER 2400.0     /* from this rating on, K is ELO_K_MASTER */
#define ELO_K_PROVISIONAL 40
#define ELO_K_ESTABLISHED 20
#define ELO_K_MASTER 10

/* Expected score of a rating ra against rb, in (0, 1). */
double elo_expected(double ra, double rb);

/* K factor of a player at this rating with this many rated rounds before the round. */
int elo_k(double rating, int rated);

/* 1 while a player with this many rated rounds is provisional, else 0. */
int elo_provisional(int rated);

/* Apply one round's result: score_a is a's score (1, 0.5 or 0), b scores 1 - score_a. Both new
 * ratings are computed from both old ones; rated_a and rated_b count the rounds before this one. */
void elo_update(double *ra, int rated_a, double *rb, int rated_b, double score_a);

#endif
