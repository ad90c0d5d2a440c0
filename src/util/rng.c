/* SPDX-License-Identifier: Apache-2.0 */
/* xoshiro256** (Blackman and Vigna, public domain algorithm), reimplemented. */
#include <math.h>

#include "util/rng.h"

static uint64_t splitmix(uint64_t *x)
{
	return aidc_mix64(*x += 0x9e3779b97f4a7c15ull);
}

void aidc_rng_seed(struct aidc_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t aidc_rng_next(struct aidc_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

double aidc_rng_unit(struct aidc_rng *r)
{
	return (double)(aidc_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t aidc_rng_below(struct aidc_rng *r, uint64_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;
	do
		x = aidc_rng_next(r);
	while (x >= limit);
	return x % n;
}

double aidc_rng_exp(struct aidc_rng *r, double mean)
{
	return -mean * log1p(-aidc_rng_unit(r));
}

double aidc_rng_lognormal(struct aidc_rng *r, double mu, double sigma)
{
	/* Box-Muller; u1 in (0, 1] so log() is finite. */
	double u1 = 1.0 - aidc_rng_unit(r), u2 = aidc_rng_unit(r);
	double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
	return exp(mu + sigma * z);
}
