/* SPDX-License-Identifier: Apache-2.0 */
/* util/arrayset: sbatch --array specs (good, malformed, absurd, at and past
 * the limits), the compact form, taking and removing indices, bounds. */
#include <stdio.h>
#include <string.h>

#include "util/arrayset.h"
#include "util/util.h"
#include "../test.h"

/* "SET %LIMIT COUNT" or "ERR: message". */
static void parsed(const char *spec, char *out, size_t cap)
{
	struct aidc_aset s;
	int64_t lim;
	struct aidc_err e;
	aidc_err_clear(&e);
	int rc = aidc_aset_parse(spec, &s, &lim, &e);
	if (rc) {
		snprintf(out, cap, "ERR: %s", aidc_err_text(&e, rc));
		CHECK_EQ(s.n, 0);
		return;
	}
	char set[256];
	CHECK_LT(aidc_aset_format(&s, set, sizeof set), sizeof set);
	snprintf(out, cap, "%s %%%lld #%lld", set, (long long)lim, (long long)s.count);
	aidc_aset_free(&s);
}

static void test_parse_good(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
	    {"0-9", "0-9 %0 #10"},
	    {"7", "7 %0 #1"},
	    {"1-9:2", "1-9:2 %0 #5"},
	    {"1-10:4", "1-9:4 %0 #3"}, /* 1 5 9: the end is the last index reached */
	    {"1,3,5-9:2%4", "1,3,5-9:2 %4 #5"},
	    {"0-99%10", "0-99 %10 #100"},
	    {"3,1,2", "1-3 %0 #3"},		/* out of order: sorted */
	    {"1-5,3-8", "1-8 %0 #8"},		/* overlapping: merged */
	    {"5,5,5", "5 %0 #1"},		/* duplicates count once */
	    {"1-3:2,2", "1-3 %0 #3"},		/* interleaved */
	    {"0,10,20,30", "0,10,20,30 %0 #4"}, /* as written when ordered */
	    {"30,0,20,10", "0-30:10 %0 #4"},
	    {"4000000", "4000000 %0 #1"},
	    {"0-99999", "0-99999 %0 #100000"},		 /* AIDC_MAX_ARRAY_TASKS */
	    {"0-3999999:40", "0-3999960:40 %0 #100000"}, /* many indices apart */
	    {"1-2%100000", "1-2 %100000 #2"},
	};
	char got[512];
	for (size_t i = 0; i < AIDC_ARRAY_LEN(t); i++) {
		parsed(t[i].in, got, sizeof got);
		CHECK_STR(got, t[i].want);
	}
}

static void test_parse_bad(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
	    {"", "needs indices"},
	    {"-1", "expected N, A-B or A-B:S"},
	    {"a-b", "expected N, A-B or A-B:S"},
	    {"1-", "expected N, A-B or A-B:S"},
	    {"9-1", "ends before it starts"},
	    {"1,,2", "empty item"},
	    {"1,", "empty item"},
	    {",1", "empty item"},
	    {"1-9:0", "step must be"},
	    {"1-9:", "step must be"},
	    {"5:2", "needs a range"},
	    {"1-9%0", "throttle"},
	    {"1-9%", "throttle"},
	    {"1-9%x", "throttle"},
	    {"1-9%100001", "throttle"},
	    {"%4", "no index"},
	    {"4000001", "indices 0..4000000"},
	    {"0-99999999999", "indices 0..4000000"},
	    {"0-100000", "more than 100000 elements"},
	    {"0-4000000", "more than 100000 elements"},
	    {"0-60000,0-60000", "more than 100000 elements"},
	    {" 1", "expected N"},
	    {"1 - 3", "expected N"},
	    {"+1", "expected N"},
	};
	char got[512];
	for (size_t i = 0; i < AIDC_ARRAY_LEN(t); i++) {
		parsed(t[i].in, got, sizeof got);
		CHECK_CONTAINS(got, "ERR: ");
		CHECK_CONTAINS(got, t[i].want);
	}
	char big[AIDC_MAX_ARRAY_SPEC_BYTES + 8];
	memset(big, '1', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	parsed(big, got, sizeof got);
	CHECK_CONTAINS(got, "longer than");
}

static void test_ops(void)
{
	struct aidc_aset s;
	int64_t lim, mn, mx, st;
	struct aidc_err e = {0};
	CHECK_EQ(aidc_aset_parse("1-9:2,20-22", &s, &lim, &e), 0);
	aidc_aset_bounds(&s, &mn, &mx, &st);
	CHECK_EQ(mn, 1);
	CHECK_EQ(mx, 22);
	CHECK_EQ(st, 1); /* not evenly spaced */
	CHECK(aidc_aset_contains(&s, 5));
	CHECK(!aidc_aset_contains(&s, 4));
	CHECK(!aidc_aset_remove(&s, 4));
	CHECK(aidc_aset_remove(&s, 5)); /* splits 1-9:2 */
	char buf[128];
	aidc_aset_format(&s, buf, sizeof buf);
	CHECK_STR(buf, "1-3:2,7-9:2,20-22");
	CHECK_EQ(aidc_aset_pop(&s), 1);
	aidc_aset_format(&s, buf, sizeof buf);
	CHECK_STR(buf, "3,7-9:2,20-22");
	CHECK_EQ(aidc_aset_pop(&s), 3);
	CHECK_EQ(aidc_aset_pop(&s), 7);
	CHECK(aidc_aset_remove(&s, 22));
	CHECK(aidc_aset_remove(&s, 20));
	aidc_aset_format(&s, buf, sizeof buf);
	CHECK_STR(buf, "9,21");
	CHECK_EQ(s.count, 2);
	/* the text form reads back as the same set */
	struct aidc_aset t;
	CHECK_EQ(aidc_aset_read(buf, &t, &e), 0);
	char again[128];
	aidc_aset_format(&t, again, sizeof again);
	CHECK_STR(again, buf);
	aidc_aset_free(&t);
	CHECK_EQ(aidc_aset_pop(&s), 9);
	CHECK_EQ(aidc_aset_pop(&s), 21);
	CHECK_EQ(aidc_aset_pop(&s), -1);
	CHECK_EQ(aidc_aset_format(&s, buf, sizeof buf), 0);
	CHECK_STR(buf, "");
	aidc_aset_free(&s);
	/* evenly spaced: the step Slurm reports */
	CHECK_EQ(aidc_aset_parse("0,10,20-40:10", &s, &lim, &e), 0);
	aidc_aset_bounds(&s, &mn, &mx, &st);
	CHECK_EQ(st, 10);
	aidc_aset_free(&s);
	CHECK_EQ(aidc_aset_parse("3", &s, &lim, &e), 0);
	aidc_aset_bounds(&s, &mn, &mx, &st);
	CHECK_EQ(mn, 3);
	CHECK_EQ(mx, 3);
	CHECK_EQ(st, 1);
	aidc_aset_free(&s);
	/* a short buffer: the length it needed */
	CHECK_EQ(aidc_aset_parse("100-200", &s, &lim, &e), 0);
	CHECK_EQ(aidc_aset_format(&s, buf, 4), 7);
	CHECK_EQ(aidc_aset_format_len(&s), 7);
	aidc_aset_free(&s);
}

/* 100,000 pops of a 100,000-element set stay one range the whole way. */
static void test_large(void)
{
	struct aidc_aset s;
	int64_t lim;
	struct aidc_err e = {0};
	CHECK_EQ(aidc_aset_parse("0-99999%50", &s, &lim, &e), 0);
	CHECK_EQ(lim, 50);
	for (int64_t i = 0; i < 100000; i++) {
		CHECK_EQ(aidc_aset_pop(&s), i);
		CHECK_LE(s.n, 1);
	}
	CHECK_EQ(s.count, 0);
	aidc_aset_free(&s);
}

/* squeue's JOBID of jobs, elements and pending remainders. */
static void test_ref(void)
{
	char b[64];
	aidc_array_ref(b, sizeof b, 12, -1, NULL, 0);
	CHECK_STR(b, "12");
	aidc_array_ref(b, sizeof b, 12, 0, NULL, 0);
	CHECK_STR(b, "12_0");
	aidc_array_ref(b, sizeof b, 12, 2, "3-9", 4); /* an element: no remainder */
	CHECK_STR(b, "12_2");
	aidc_array_ref(b, sizeof b, 12, -1, "3-9", 0);
	CHECK_STR(b, "12_[3-9]");
	aidc_array_ref(b, sizeof b, 12, -1, "3-9", 2);
	CHECK_STR(b, "12_[3-9%2]");
	aidc_array_ref(b, sizeof b, 7, -1, "1,3,5-9:2", 0);
	CHECK_STR(b, "7_[1,3,5-9:2]");
	char s[16];
	aidc_array_ref(s, sizeof s, 12, -1, "1,3,5,7,9,11,13,15", 0);
	CHECK_STR(s, "12_[1,3,5,7...]");
	CHECK_EQ(strlen(s), sizeof s - 1);
}

TEST_MAIN(TEST(test_ref), TEST(test_parse_good), TEST(test_parse_bad), TEST(test_ops),
	  TEST(test_large))
