/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seeded mutation fuzzing (tests/fuzz_mut.h) of the strict number, time and
 * duration parsers (src/util/parse.c) behind route parameters (job ids),
 * query arguments, umasks and trace fields: each accepts the whole string
 * within its bounds or fails with E_PARSE/E_LIMIT and leaves *out alone;
 * an accepted number or time prints and parses back to itself.
 */
#include <math.h>

#include "tests/fuzz_mut.h"
#include "tests/test.h"
#include "util/limits.h"
#include "util/parse.h"
#include "util/util.h"

static void numbers_checked(const char *s)
{
	int64_t v = 42;
	int rc = aidc_parse_i64(s, -1000000, INT64_MAX, &v);
	if (rc == 0) {
		CHECK(v >= -1000000);
		char buf[32];
		snprintf(buf, sizeof buf, "%" PRId64, v);
		int64_t w = 0;
		CHECK_EQ(aidc_parse_i64(buf, -1000000, INT64_MAX, &w), 0);
		CHECK_EQ(w, v);
	} else {
		CHECK(rc == AIDC_E_PARSE || rc == AIDC_E_LIMIT);
		CHECK_EQ(v, 42);
	}
	uint32_t u = 7;
	rc = aidc_parse_u32(s, 1, 65535, &u);
	CHECK(rc == 0 ? u >= 1 && u <= 65535 : u == 7);
	int m = aidc_parse_umask(s);
	CHECK(m >= -1 && m <= 0777);
	double d = 0.5;
	rc = aidc_parse_f64(s, -1e6, 1e12, &d);
	CHECK(rc == 0 ? isfinite(d) && d >= -1e6 && d <= 1e12 : d == 0.5);
}

static void times_checked(const char *s)
{
	int64_t t = -7;
	int rc = aidc_parse_datetime(s, &t);
	if (rc == 0) {
		CHECK(t >= AIDC_MIN_TIME_S && t <= AIDC_MAX_TIME_S);
		char buf[20];
		aidc_format_datetime(t, buf);
		int64_t t2 = 0;
		CHECK_EQ(aidc_parse_datetime(buf, &t2), 0);
		CHECK_EQ(t2, t);
	} else {
		CHECK(rc == AIDC_E_PARSE || rc == AIDC_E_LIMIT);
		CHECK_EQ(t, -7);
	}
	int64_t dur = -7;
	rc = aidc_parse_duration(s, &dur);
	CHECK(rc == 0 ? dur >= 0 && dur <= AIDC_MAX_DURATION_S : dur == -7);
}

static void strings_checked(struct fz_rng *r, const char *in)
{
	(void)r;
	numbers_checked(in);
	times_checked(in);
}

static void fuzz_parsers(void)
{
	static const char *const seeds[] = {
	    "12",
	    "-5",
	    " 7 ",
	    "0077",
	    "1.5e3",
	    "9223372036854775807",
	    "2026-12-07 17:50:19",
	    "2026-12-07T17:50:19",
	    "1700000000",
	    "90s",
	    "1.5h",
	    "01:02:03",
	    "3-04:05:06",
	    "65535",
	    "0x10",
	    "1e-5",
	};
	static const char *const dict[] = {"-",		 "+",  ".",  "e",     "E",	 ":",
					   "T",		 " ",  "s",  "m",     "h",	 "d",
					   "9999999999", "00", "29", "02-29", "24:00:00"};
	long iters = fz_iters(40000);
	fz_each_string(0x9A45E1, 4096, seeds, sizeof seeds / sizeof *seeds, dict,
		       sizeof dict / sizeof *dict, iters, strings_checked);
	printf("aidc_parse_i64/u32/umask/f64/datetime/duration: %ld strings each\n", iters);
}

TEST_MAIN({"fuzz_parsers", fuzz_parsers, 240})
