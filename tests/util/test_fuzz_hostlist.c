/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seeded mutation fuzzing (tests/fuzz_mut.h) of Slurm hostlists
 * (src/util/hostlist.c), what -w/-x, scontrol show hostnames/hostlist and
 * SLURM_JOB_NODELIST read: every list expands or is refused with its code
 * and a message; an expanded list stays within the limits, and
 * expand(compress(names)) == names for every list that expanded and for
 * random name lists.
 */
#include "tests/fuzz_mut.h"
#include "tests/test.h"
#include "util/hostlist.h"
#include "util/util.h"

#define FZ_MAX_HOSTS 4096

/* expand(compress(names)) gives names back, in order. */
static void roundtrip_checked(char *const *names, size_t n)
{
	struct aidc_buf b;
	aidc_buf_init(&b, 1u << 22);
	CHECK_EQ(aidc_hostlist_compress(names, n, &b), 0);
	char **back = NULL;
	size_t nb = 0;
	struct aidc_err e = {0};
	int rc = aidc_hostlist_expand(aidc_buf_str(&b), n, &back, &nb, &e);
	CHECK_EQ(rc, 0);
	if (rc != 0) {
		fprintf(stderr, "compress gave '%.200s' (%zu names from '%s'...): %s\n",
			aidc_buf_str(&b), n, names[0], e.msg);
	} else {
		CHECK_EQ(nb, n);
		for (size_t i = 0; i < n && i < nb; i++)
			CHECK_STR(back[i], names[i]);
		aidc_hostlist_free(back, nb);
	}
	aidc_buf_release(&b);
}

static bool list_checked(const char *list)
{
	char **names = NULL;
	size_t n = 0;
	struct aidc_err e = {0};
	int rc = aidc_hostlist_expand(list, FZ_MAX_HOSTS, &names, &n, &e);
	if (rc != 0) {
		CHECK(rc == AIDC_E_PARSE || rc == AIDC_E_LIMIT);
		CHECK_EQ(e.code, rc);
		CHECK(e.msg[0] != '\0');
		return false;
	}
	CHECK(n >= 1 && n <= FZ_MAX_HOSTS);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);
		CHECK(len >= 1 && len < AIDC_MAX_NAME_BYTES);
		CHECK(strpbrk(names[i], "[], \t\n") == NULL);
	}
	roundtrip_checked(names, n);
	aidc_hostlist_free(names, n);
	return true;
}

static void fuzz_expand(void)
{
	static const char *const seeds[] = {
	    "gpu[01-03,7],login1", "r[1-2]n[1-2]",  "n[1-99999999]", "n[08-10]", "a,b c\td",
	    "node-[0-9]x.dc[1-2]", "n[1-3],n[2-4]",
	};
	static const char *const dict[] = {"[",		"]",	      "[1-3]",	 "[01-99999999]",
					   "-",		",",	      "[[",	 "]]",
					   "999999999", "0000000001", "[1,2,3]", "x"};
	struct fz_rng r = {fz_seed(0x405711)};
	struct fz_buf b = {malloc(16384), 0, 16384};
	long iters = fz_iters(15000), ok = 0;
	for (long i = 0; i < iters; i++) {
		const char *seed = seeds[fz_below(&r, sizeof seeds / sizeof *seeds)];
		fz_mutate(&r, &b, seed, strlen(seed), dict, sizeof dict / sizeof *dict);
		char *in = fz_exact(&b);
		ok += list_checked(in);
		free(in);
	}
	printf("aidc_hostlist_expand: %ld lists, %ld expanded (each compressed and expanded "
	       "back)\n",
	       iters, ok);
	free(b.data);
}

/* Random lists of names: a few stems, numbers of 1 to 12 digits with or
 * without leading zeros, runs and repeats. */
static void fuzz_compress(void)
{
	static const char *const stems[] = {"n", "gpu", "r1n", "a-b.", "x9y", ""};
	struct fz_rng r = {fz_seed(0x405712)};
	long iters = fz_iters(3000);
	char *names[64];
	for (long it = 0; it < iters; it++) {
		size_t n = 1 + fz_below(&r, 64);
		unsigned long long base = fz_next(&r) % 10000000000000ULL;
		int width = (int)fz_below(&r, 14);
		const char *stem = stems[fz_below(&r, sizeof stems / sizeof *stems)];
		for (size_t i = 0; i < n; i++) {
			unsigned long long v = fz_below(&r, 3) ? base + i : fz_next(&r) % 1000;
			names[i] = malloc(64);
			snprintf(names[i], 64, "%s%0*llu", *stem ? stem : "z", width, v);
		}
		roundtrip_checked(names, n);
		for (size_t i = 0; i < n; i++)
			free(names[i]);
	}
	printf("aidc_hostlist_compress: %ld name lists\n", iters);
}

TEST_MAIN({"fuzz_expand", fuzz_expand, 240}, {"fuzz_compress", fuzz_compress, 240})
