/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Deterministic pseudo-random numbers (xoshiro256** seeded by splitmix64).
 * All state is in the struct: the same seed gives the same sequence on every
 * platform. Never rand(): its sequence differs between C libraries.
 */
#ifndef AIDC_UTIL_RNG_H
#define AIDC_UTIL_RNG_H

#include <stdint.h>

struct aidc_rng {
	uint64_t s[4];
};

/* splitmix64's finalizer: every input bit flips about half the output bits.
 * The generator's seeding uses it, and hash tables of integer keys (the
 * scheduling core's predictor and Gittins classes) hash with it. */
static inline uint64_t aidc_mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

void aidc_rng_seed(struct aidc_rng *r, uint64_t seed);
uint64_t aidc_rng_next(struct aidc_rng *r);
/* Uniform in [0, 1) with 53 bits. */
double aidc_rng_unit(struct aidc_rng *r);
/* Uniform integer in [0, n); n > 0. Unbiased (rejection). */
uint64_t aidc_rng_below(struct aidc_rng *r, uint64_t n);
/* Exponential with the given mean. */
double aidc_rng_exp(struct aidc_rng *r, double mean);
/* Log-normal with the given mu and sigma of the underlying normal. */
double aidc_rng_lognormal(struct aidc_rng *r, double mu, double sigma);

#endif
