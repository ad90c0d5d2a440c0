/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sched_forecast (issue 14 item 2): estimated starts of every pending job on
 * constructed cases with known answers, and that the live core is unchanged.
 */
#include "sched_test_util.h"

/* Runs one pass at now and returns the forecast for handles [0, n). */
static void forecast(struct sched *s, int64_t now, int64_t *est, size_t n)
{
	struct aidc_err e = {0};
	CHECK_GE(n, sched_job_handles(s));
	CHECK_EQ(sched_forecast(s, now, 100000, 0, est, n, &e), 0);
}

static void pass(struct sched *s, int64_t now)
{
	struct sched_decisions d;
	struct aidc_err e = {0};
	sched_decisions_init(&d);
	CHECK_EQ(sched_pass(s, now, &d, &e), 0);
	sched_decisions_release(&d);
}

/*
 * One node of 2 devices, EASY. A (2 devices, limit 120 s) runs from t=0.
 * Queued at t=10 in FIFO order: B (2 devices, limit 600), C (1 device, limit
 * 300), D (1 device, limit 50). At 10 nothing fits. A ends at 120: B starts
 * (head); B ends at 720: C and D start together. So B=120, C=720, D=720.
 */
static void test_queue_forward(void)
{
	struct sched *s =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY, 1, 2);
	int a = submit(s, 1, 1, 2, 120, 0);
	pass(s, 0);
	CHECK_EQ(sched_job_state(s, (uint32_t)a), SCHED_JOB_RUNNING);
	int b = submit(s, 2, 1, 2, 600, 10), c = submit(s, 3, 1, 1, 300, 10),
	    d = submit(s, 4, 1, 1, 50, 10);
	pass(s, 10);
	int64_t est[8];
	forecast(s, 10, est, 8);
	CHECK_EQ(est[a], 0);
	CHECK_EQ(est[b], 120);
	CHECK_EQ(est[c], 720);
	CHECK_EQ(est[d], 720);
	/* The live core did not move: same states, a pass at 10 starts nothing. */
	CHECK_EQ(sched_job_state(s, (uint32_t)b), SCHED_JOB_PENDING);
	CHECK_EQ(sched_job_count(s), 4);
	/* Deterministic: the same answer again. */
	int64_t again[8];
	forecast(s, 10, again, 8);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(again[i], est[i]);
	sched_free(s);
}

/*
 * Backfill in the forecast: 2 nodes x 1 device. A (limit 1000) holds node 0,
 * B (limit 100) node 1. Pending: C needs 2 devices (the head: reserved at
 * 1000 when both are free), D 1 device limit 500 (ends by 600 < 1000: backfills
 * at 100 when B ends), E 1 device limit 5000 (would delay C: after C). C
 * starts at 1000 and runs to its limit of 200, so E starts at 1200.
 */
static void test_backfill_forward(void)
{
	struct sched *s =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY, 2, 1);
	int a = submit(s, 1, 1, 1, 1000, 0), b = submit(s, 2, 1, 1, 100, 0);
	pass(s, 0);
	CHECK_EQ(sched_job_state(s, (uint32_t)b), SCHED_JOB_RUNNING);
	int c = submit(s, 3, 2, 1, 200, 0), d = submit(s, 4, 1, 1, 500, 0),
	    e = submit(s, 5, 1, 1, 5000, 0);
	pass(s, 0);
	int64_t est[8];
	forecast(s, 0, est, 8);
	CHECK_EQ(est[a], 0);
	CHECK_EQ(est[c], 1000);
	CHECK_EQ(est[d], 100);
	CHECK_EQ(est[e], 1200);
	/* With 60 s steps the passes fall at 0, 60, ..., 1020, 1080, ...: D at
	 * 120 (B ended at 100), C at 1020 (A at 1000), E when C ends at 1220,
	 * rounded up to 1260. */
	struct aidc_err e2 = {0};
	CHECK_EQ(sched_forecast(s, 0, 100000, 60, est, 8, &e2), 0);
	CHECK_EQ(est[d], 120);
	CHECK_EQ(est[c], 1020);
	CHECK_EQ(est[e], 1260);
	sched_free(s);
}

/* A job that can never start (larger than the partition) has no estimate;
 * too few outputs is refused. */
static void test_never_and_bad_input(void)
{
	struct sched *s =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY, 1, 2);
	int a = submit(s, 1, 1, 2, 60, 0);
	int big = submit(s, 2, 2, 2, 60, 0);
	pass(s, 0);
	int64_t est[4];
	forecast(s, 0, est, 4);
	CHECK_EQ(est[a], 0);
	CHECK_EQ(est[big], 0);
	struct aidc_err e = {0};
	CHECK_EQ(sched_forecast(s, 0, 10, 0, est, 0, &e), AIDC_E_INVAL);
	CHECK_CONTAINS(e.msg, "outputs");
	struct aidc_err e2 = {0};
	CHECK_EQ(sched_forecast(s, 0, 10, -1, est, 4, &e2), AIDC_E_INVAL);
	CHECK_CONTAINS(e2.msg, "step");
	sched_free(s);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
	    TEST(test_queue_forward), TEST(test_backfill_forward), TEST(test_never_and_bad_input)};
	return test_run(argc, argv, cases, AIDC_ARRAY_LEN(cases));
}
