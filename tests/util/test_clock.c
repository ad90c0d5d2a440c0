/* SPDX-License-Identifier: Apache-2.0 */
/* util/clock: the test step of the wall clock, monotonic condition waits. */
#include <pthread.h>
#include <time.h>

#include "util/clock.h"
#include "util/util.h"
#include "../test.h"

/* Each case runs in its own process: the step is read at the first clock read. */
static void test_step_now(void)
{
	setenv("AIDC_TEST_WALL_STEP", "0:3600", 1);
	int64_t off = aidc_wall_s() - (int64_t)time(NULL);
	CHECK_GE(off, 3599);
	CHECK_LE(off, 3601);
	CHECK_CONTAINS(aidc_wall_step_note(), "steps by +3600 s in 0 s");
}

static void test_step_later_back(void)
{
	setenv("AIDC_TEST_WALL_STEP", "1:-60", 1);
	int64_t off = aidc_wall_s() - (int64_t)time(NULL);
	CHECK_GE(off, -1);
	CHECK_LE(off, 1);
	int64_t until = aidc_mono_ms() + 1100;
	while (aidc_mono_ms() < until) {
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
	off = aidc_wall_s() - (int64_t)time(NULL);
	CHECK_GE(off, -61);
	CHECK_LE(off, -59);
}

static void test_step_malformed(void)
{
	const char *bad[] = {"3600", "x:1", "1:y", "-1:5", "1:999999999999", "100000:1"};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(bad); i++) {
		pid_t p = fork();
		if (p == 0) {
			setenv("AIDC_TEST_WALL_STEP", bad[i], 1);
			const char *n = aidc_wall_step_note();
			int64_t off = aidc_wall_s() - (int64_t)time(NULL);
			_exit(n && strstr(n, "ignored") && off >= -1 && off <= 1 ? 0 : 1);
		}
		int st = 0;
		waitpid(p, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
}

static void test_no_step(void)
{
	unsetenv("AIDC_TEST_WALL_STEP");
	CHECK(aidc_wall_step_note() == NULL);
	int64_t off = aidc_wall_ms() / 1000 - (int64_t)time(NULL);
	CHECK_GE(off, -1);
	CHECK_LE(off, 1);
}

static void test_cond_mono(void)
{
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv;
	aidc_cond_init_mono(&cv);
	pthread_mutex_lock(&mu);
	int64_t deadline = aidc_mono_ms() + 50;
	int rc;
	do
		rc = aidc_cond_wait_until_ms(&cv, &mu, deadline);
	while (rc == 0);
	CHECK_EQ(rc, ETIMEDOUT);
	CHECK_GE(aidc_mono_ms(), deadline);
	/* A deadline in the past returns at once. */
	CHECK_EQ(aidc_cond_wait_until_ms(&cv, &mu, aidc_mono_ms() - 1000), ETIMEDOUT);
	pthread_mutex_unlock(&mu);
	pthread_cond_destroy(&cv);
}

TEST_MAIN(TEST(test_step_now), TEST(test_step_later_back), TEST(test_step_malformed),
	  TEST(test_no_step), TEST(test_cond_mono))
