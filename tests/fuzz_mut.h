/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small deterministic mutator for the seeded fuzz tests (tests/MODULE/test_fuzz_*.c,
 * fuzz/mutate_main.c): no libFuzzer, no coverage feedback, just a fixed seed
 * and a bounded number of iterations, so a failure reproduces exactly under
 * any compiler and in the sanitizer build. Each iteration starts from a valid
 * seed input and stacks a few mutations: bit flips, interesting bytes (NUL,
 * quotes, brackets, invalid UTF-8), truncation, deletion, duplication,
 * insertion of dictionary tokens (the caller's plus huge numbers and JSON
 * type swaps), long runs (long strings, deep nesting), digit runs replaced.
 *
 * The iteration counts are multiplied by $AIDC_FUZZ_SCALE (default 1; e.g.
 * 50 for a longer local run); $AIDC_FUZZ_SEED replaces the fixed seed.
 */
#ifndef AIDC_TESTS_FUZZ_MUT_H
#define AIDC_TESTS_FUZZ_MUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fz_rng {
	uint64_t s;
};

static inline uint64_t fz_next(struct fz_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform-ish in [0, n); 0 when n is 0. */
static inline size_t fz_below(struct fz_rng *r, size_t n)
{
	return n ? (size_t)(fz_next(r) % n) : 0;
}

static inline uint64_t fz_seed(uint64_t fixed)
{
	const char *s = getenv("AIDC_FUZZ_SEED");
	return s && *s ? strtoull(s, NULL, 0) : fixed;
}

/* n iterations scaled by $AIDC_FUZZ_SCALE. */
static inline long fz_iters(long n)
{
	const char *s = getenv("AIDC_FUZZ_SCALE");
	long k = s && *s ? strtol(s, NULL, 10) : 1;
	return n * (k > 0 ? k : 1);
}

/* A byte buffer being mutated; len <= cap - 1 and data[len] is always NUL. */
struct fz_buf {
	char *data;
	size_t len, cap;
};

static const char *const fz_generic_dict[] = {
    "0",
    "-1",
    "1",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551616",
    "99999999999999999999999",
    "1e308",
    "1e999",
    "-0",
    "0.5",
    "0x10",
    "NaN",
    "null",
    "true",
    "false",
    "[]",
    "{}",
    "\"\"",
    "[[[[",
    "]]]]",
    "\"x\":1,",
    "\\u0000",
    "\\ud800",
    "\xc0\x80",
    "\xed\xa0\x80",
    "\xff\xfe",
    "%",
    "%%",
    "%s%n%x",
    "\\",
    "\"",
    ",",
    ":",
    "-",
    "=",
    "[",
    "]",
    "/",
    "//",
    "..",
    "\n",
    "\r\n",
    "\t",
    " ",
    "\x7f",
    "\x01",
    "UNLIMITED",
    "A_B",
    "1-",
    "-5",
    "1-0",
    "5-1:0",
};

static inline void fz_set(struct fz_buf *b, const char *src, size_t n)
{
	if (n >= b->cap)
		n = b->cap - 1;
	memcpy(b->data, src, n);
	b->len = n;
	b->data[n] = '\0';
}

/* Inserts n bytes of src at pos (cut to the capacity). */
static inline void fz_insert(struct fz_buf *b, size_t pos, const char *src, size_t n)
{
	if (pos > b->len)
		pos = b->len;
	if (n > b->cap - 1 - b->len)
		n = b->cap - 1 - b->len;
	memmove(b->data + pos + n, b->data + pos, b->len - pos);
	memcpy(b->data + pos, src, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static inline void fz_delete(struct fz_buf *b, size_t pos, size_t n)
{
	if (pos >= b->len)
		return;
	if (n > b->len - pos)
		n = b->len - pos;
	memmove(b->data + pos, b->data + pos + n, b->len - pos - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

/* A run of one repeated byte (long strings, deep nesting). */
static inline void fz_insert_run(struct fz_rng *r, struct fz_buf *b, size_t pos)
{
	static const char runs[] = "A[{9 ,%\"\\-\xff";
	char run[4096];
	size_t n = 1 + fz_below(r, sizeof run);
	memset(run, runs[fz_below(r, sizeof runs - 1)], n);
	fz_insert(b, pos, run, n);
}

/* Replaces the digit run at or after pos by a huge or negative number. */
static inline void fz_replace_digits(struct fz_rng *r, struct fz_buf *b, size_t pos)
{
	while (pos < b->len && (b->data[pos] < '0' || b->data[pos] > '9'))
		pos++;
	size_t end = pos;
	while (end < b->len && b->data[end] >= '0' && b->data[end] <= '9')
		end++;
	static const char *const nums[] = {"0",
					   "-1",
					   "99999999",
					   "2147483648",
					   "4294967296",
					   "9223372036854775807",
					   "9223372036854775808",
					   "000000000000000000001",
					   "99999999999999999999999999"};
	const char *s = nums[fz_below(r, sizeof nums / sizeof nums[0])];
	fz_delete(b, pos, end - pos);
	fz_insert(b, pos, s, strlen(s));
}

static inline const char *fz_pick_token(struct fz_rng *r, const char *const *dict, size_t ndict)
{
	size_t ng = sizeof fz_generic_dict / sizeof fz_generic_dict[0];
	size_t k = fz_below(r, ng + ndict * 2); /* the caller's tokens twice as likely */
	return k < ng ? fz_generic_dict[k] : dict[(k - ng) % ndict];
}

/* One mutation of b; dict (ndict tokens, may be 0) are the input's own words. */
static inline void fz_mutate_once(struct fz_rng *r, struct fz_buf *b, const char *const *dict,
				  size_t ndict)
{
	static const unsigned char interesting[] = {0,	  0xff, 0x7f, 0x80, '"', '\\', '{', '}',
						    '[',  ']',	',',  ':',  '-', '0',  '9', '%',
						    '\n', ' ',	0xc0, 0xed, '_', '.',  '@', '+'};
	size_t pos = fz_below(r, b->len + 1);
	switch (fz_below(r, 10)) {
	case 0:
		if (b->len)
			b->data[pos % b->len] ^= (char)(1u << fz_below(r, 8));
		break;
	case 1:
		if (b->len)
			b->data[pos % b->len] = (char)interesting[fz_below(r, sizeof interesting)];
		break;
	case 2:
		fz_delete(b, pos, 1 + fz_below(r, 16));
		break;
	case 3:
		b->len = pos, b->data[pos] = '\0'; /* truncation */
		break;
	case 4: { /* duplicate a chunk elsewhere (duplicate keys, repeated items) */
		size_t from = fz_below(r, b->len + 1), n = fz_below(r, b->len - from + 1);
		char tmp[512];
		n = n < sizeof tmp ? n : sizeof tmp;
		memcpy(tmp, b->data + from, n);
		fz_insert(b, pos, tmp, n);
		break;
	}
	case 5:
	case 6: {
		const char *t = fz_pick_token(r, dict, ndict);
		if (fz_below(r, 2))
			fz_delete(b, pos, fz_below(r, 8));
		fz_insert(b, pos, t, strlen(t));
		break;
	}
	case 7:
		if (fz_below(r, 4) == 0)
			fz_insert_run(r, b, pos);
		else
			fz_replace_digits(r, b, pos);
		break;
	case 8: {
		unsigned char c = (unsigned char)fz_next(r);
		fz_insert(b, pos, (const char *)&c, 1);
		break;
	}
	default:
		fz_replace_digits(r, b, pos);
		break;
	}
}

/* b = seed with 1..4 stacked mutations. */
static inline void fz_mutate(struct fz_rng *r, struct fz_buf *b, const char *seed, size_t n,
			     const char *const *dict, size_t ndict)
{
	fz_set(b, seed, n);
	size_t k = 1 + fz_below(r, 4);
	for (size_t i = 0; i < k; i++)
		fz_mutate_once(r, b, dict, ndict);
}

/* An exact-size heap copy of b (ASan sees reads past its end); free() it. */
static inline char *fz_exact(const struct fz_buf *b)
{
	char *p = malloc(b->len + 1);
	if (!p)
		abort();
	memcpy(p, b->data, b->len + 1);
	return p;
}

/*
 * iters inputs, each a seed of seeds (picked at random) mutated with dict,
 * handed to check as an exact-size string (then freed); the generator
 * starts at fz_seed(fixed) and is check's too. The buffer holds cap bytes.
 */
static inline void fz_each_string(uint64_t fixed, size_t cap, const char *const *seeds,
				  size_t nseeds, const char *const *dict, size_t ndict, long iters,
				  void (*check)(struct fz_rng *r, const char *in))
{
	struct fz_rng r = {fz_seed(fixed)};
	struct fz_buf b = {malloc(cap), 0, cap};
	for (long i = 0; i < iters; i++) {
		const char *seed = seeds[fz_below(&r, nseeds)];
		fz_mutate(&r, &b, seed, strlen(seed), dict, ndict);
		char *in = fz_exact(&b);
		check(&r, in);
		free(in);
	}
	free(b.data);
}

#endif
