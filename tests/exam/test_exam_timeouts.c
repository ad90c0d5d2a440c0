/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The isolated exam's timeouts (exam_timeouts_now): explicit ones are
 * applied as given; the defaults follow the level and stretch to 10x the
 * longest call of a slow device; and the plugin watch records that call.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "dev/dev.h"
#include "exam/exam.h"
#include "util/clock.h"
#include "util/util.h"
#include "../test.h"

#define CHECK_MS(sec, ms) CHECK_EQ(llround((sec) * 1000.0), (ms))

static void test_defaults_by_level(void)
{
	const enum exam_level lv[] = {EXAM_QUICK, EXAM_STANDARD, EXAM_FULL};
	const long long want_ms[] = {60000, 150000, 300000};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(lv); i++) {
		struct exam_options o = {.level = lv[i]};
		double call, q;
		exam_timeouts_now(&o, 0, &call, &q);
		CHECK_MS(q, want_ms[i]);
		CHECK_MS(call, want_ms[i]);
		/* A call of up to a tenth of the question changes nothing. */
		exam_timeouts_now(&o, (double)want_ms[i] / 10000.0, &call, &q);
		CHECK_MS(q, want_ms[i]);
	}
}

static void test_slow_device_stretches(void)
{
	struct exam_options o = {.level = EXAM_FULL};
	double call, q;
	exam_timeouts_now(&o, 45.5, &call, &q);
	CHECK_MS(q, 455000);
	CHECK_MS(call, 455000);
	/* An explicit per-call timeout stays; the question still stretches. */
	o.call_timeout_s = 8;
	exam_timeouts_now(&o, 45.5, &call, &q);
	CHECK_MS(call, 8000);
	CHECK_MS(q, 455000);
}

static void test_explicit_question_timeout_is_exact(void)
{
	struct exam_options o = {.level = EXAM_QUICK, .question_timeout_s = 5};
	double call, q;
	exam_timeouts_now(&o, 3, &call, &q);
	CHECK_MS(q, 5000);
	CHECK_MS(call, 5000);
	o.call_timeout_s = 2;
	exam_timeouts_now(&o, 100, &call, &q);
	CHECK_MS(q, 5000);
	CHECK_MS(call, 2000);
}

/* The watch keeps the longest call that returned: a 64 MiB copy into the
 * example plugin's memory is the longest here. */
static void test_watch_records_longest_call(void)
{
	const char *bin = getenv("AIDC_BINARY_DIR");
	char path[1024];
	snprintf(path, sizeof path, "%s/plugins/aidc_dev_example.so", bin ? bin : "build");
	struct dev_watch w = {0};
	struct dev_plugin p;
	struct aidc_err e;
	aidc_err_clear(&e);
	int rc = dev_plugin_open_watched(&p, path, NULL, &w, &e);
	if (rc) {
		fprintf(stderr, "%s\n", aidc_err_text(&e, rc));
		CHECK_EQ(rc, 0);
		return;
	}
	const uint64_t n = 64u << 20;
	char *host = aidc_calloc(n, 1);
	struct aidc_dev_mem *m = NULL;
	CHECK_EQ(dev_mem_alloc(&p, 0, n, &m, &e), 0);
	w.longest_s = 0;
	double t0 = (double)aidc_mono_us() * 1e-6;
	CHECK_EQ(dev_copy_h2d(&p, 0, m, 0, host, n, &e), 0);
	CHECK_EQ(dev_sync(&p, 0, &e), 0);
	double took = (double)aidc_mono_us() * 1e-6 - t0;
	CHECK(took > 0);
	CHECK(w.longest_s > 0);
	CHECK(w.longest_s <= took + 0.001);
	CHECK(w.start_s == 0);
	/* The supervisor zeroes it before a question; later calls set it again. */
	w.longest_s = 0;
	CHECK_EQ(dev_sync(&p, 0, &e), 0);
	CHECK(w.longest_s < took);
	dev_mem_free(&p, 0, m);
	free(host);
	dev_plugin_close(&p);
}

TEST_MAIN(TEST(test_defaults_by_level), TEST(test_slow_device_stretches),
	  TEST(test_explicit_question_timeout_is_exact), TEST(test_watch_records_longest_call))
