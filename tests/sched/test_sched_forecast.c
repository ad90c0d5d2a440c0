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

/*
 * A running job without a time limit ends as the partition's finished jobs
 * that ran longer than it has did. One node of one device: ten jobs without
 * a limit ran 1,000 s each (quarter-octave bucket 896-1,024 s, middle 960).
 * Then A runs from T and B waits: at T + 100 the forecast expects A to end at
 * T + 960 (the middle of the run times longer than 100 s), where the
 * prediction alone (1,000 s, the mean) said T + 1,000.
 */
static void test_running_ends_as_history(void)
{
	struct sched *s =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY, 1, 1);
	struct aidc_err e = {0};
	int64_t t = 0;
	for (uint64_t id = 1; id <= 10; id++, t += 1000) {
		int h = submit(s, id, 1, 1, 0, t);
		pass(s, t);
		CHECK_EQ(sched_job_state(s, (uint32_t)h), SCHED_JOB_RUNNING);
		CHECK_EQ(sched_job_finish(s, (uint32_t)h, t + 1000, &e), 0);
	}
	int a = submit(s, 11, 1, 1, 0, t), b = submit(s, 12, 1, 1, 0, t);
	pass(s, t);
	CHECK_EQ(sched_job_state(s, (uint32_t)a), SCHED_JOB_RUNNING);
	CHECK_EQ(sched_job_estimate(s, (uint32_t)a), 1000);
	int64_t est[16];
	forecast(s, t + 100, est, 16);
	CHECK_EQ(est[b], t + 960);
	sched_free(s);
}

/*
 * A queued job runs in the forecast as its class's cohort does, not for its
 * estimate, once the class has 10 finished jobs; only finished jobs are
 * history. One node of one device, FIFO; every job is user u's "job" on one
 * device with a limit of 5,000 s (its estimate). Nine ran 1,000 s each; A
 * runs since T and B, C wait: with too little history every job runs its
 * limit, B at T + 5,000 and C at T + 10,000 (A, running, is no history). A
 * finishes at T + 1,000 (the tenth: bucket 896-1,024 s, middle 960) and B
 * starts: B is the class's cohort (submitted within the hour, running for
 * 0 s), whose run time is the mean of the class's jobs that ran longer than
 * 0 s: 960. So B ends at T + 1,960, C runs 960 s, D (limit 500) runs 500 s
 * (its limit is less), and E starts at T + 3,420. The live core keeps its
 * estimates.
 */
static void test_queued_runs_as_history(void)
{
	struct sched *s =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY, 1, 1);
	struct aidc_err e = {0};
	int64_t t = 0;
	for (uint64_t id = 1; id <= 9; id++, t += 1000) {
		int h = submit(s, id, 1, 1, 5000, t);
		pass(s, t);
		CHECK_EQ(sched_job_state(s, (uint32_t)h), SCHED_JOB_RUNNING);
		CHECK_EQ(sched_job_finish(s, (uint32_t)h, t + 1000, &e), 0);
	}
	int a = submit(s, 10, 1, 1, 5000, t);
	pass(s, t);
	CHECK_EQ(sched_job_state(s, (uint32_t)a), SCHED_JOB_RUNNING);
	int b = submit(s, 11, 1, 1, 5000, t), c = submit(s, 12, 1, 1, 5000, t);
	int64_t est[16];
	forecast(s, t, est, 16);
	CHECK_EQ(est[b], t + 5000);
	CHECK_EQ(est[c], t + 10000);
	CHECK_EQ(sched_job_finish(s, (uint32_t)a, t + 1000, &e), 0);
	pass(s, t + 1000);
	CHECK_EQ(sched_job_state(s, (uint32_t)b), SCHED_JOB_RUNNING);
	int d = submit(s, 13, 1, 1, 500, t + 1000), f = submit(s, 14, 1, 1, 5000, t + 1000);
	forecast(s, t + 1000, est, 16);
	CHECK_EQ(est[c], t + 1960);
	CHECK_EQ(est[d], t + 2920);
	CHECK_EQ(est[f], t + 3420);
	CHECK_EQ(sched_job_estimate(s, (uint32_t)c), 5000);
	sched_free(s);
}

/*
 * A cohort's run time is conditioned on how long its members have run. One
 * node of two devices; limits of 5,000 s. Ten times, two jobs of the class
 * ran together: one 100 s (bucket middle 104), one 2,000 s (middle 1,920).
 * Then A and B start at T and C waits. At T + 50 the cohort (A, B) has run
 * 50 s: its run time is the mean of the class's jobs longer than that,
 * (10 x 104 + 10 x 1,920) / 20 = 1,012, so C starts at T + 1,012. At T + 500
 * only the 2,000 s jobs ran longer: C at T + 1,920. At T + 3,700, A and B
 * were submitted more than an hour ago: no cohort, they end at their limits
 * and C starts at T + 5,000.
 */
static void test_cohort_survival(void)
{
	struct sched *s =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY, 1, 2);
	struct aidc_err e = {0};
	int64_t t = 0;
	for (uint64_t id = 1; id <= 20; id += 2, t += 2000) {
		int h1 = submit(s, id, 1, 1, 5000, t), h2 = submit(s, id + 1, 1, 1, 5000, t);
		pass(s, t);
		CHECK_EQ(sched_job_state(s, (uint32_t)h2), SCHED_JOB_RUNNING);
		CHECK_EQ(sched_job_finish(s, (uint32_t)h1, t + 100, &e), 0);
		CHECK_EQ(sched_job_finish(s, (uint32_t)h2, t + 2000, &e), 0);
	}
	int a = submit(s, 21, 1, 1, 5000, t), b = submit(s, 22, 1, 1, 5000, t);
	pass(s, t);
	CHECK_EQ(sched_job_state(s, (uint32_t)a), SCHED_JOB_RUNNING);
	CHECK_EQ(sched_job_state(s, (uint32_t)b), SCHED_JOB_RUNNING);
	int c = submit(s, 23, 1, 1, 5000, t);
	int64_t est[32];
	forecast(s, t + 50, est, 32);
	CHECK_EQ(est[c], t + 1012);
	forecast(s, t + 500, est, 32);
	CHECK_EQ(est[c], t + 1920);
	forecast(s, t + 3700, est, 32);
	CHECK_EQ(est[c], t + 5000);
	sched_free(s);
}

/* A random job: 1-3 tasks of 1, 2 or 4 devices (some spread over exactly
 * ntasks nodes), limits 0 (the default estimate) or 60 s .. 2 h, some with a
 * prediction and an oracle run time. */
static int random_job(struct sched *s, struct aidc_rng *r, uint64_t id, int64_t now)
{
	static const uint32_t devs[] = {1, 2, 4};
	struct sched_job_spec js =
	    jspec(id, 1 + (uint32_t)aidc_rng_below(r, 3), devs[aidc_rng_below(r, 3)],
		  aidc_rng_below(r, 5) ? 60 + (int64_t)aidc_rng_below(r, 7200) : 0);
	if (aidc_rng_below(r, 4) == 0)
		js.nodes = js.ntasks;
	if (aidc_rng_below(r, 3) == 0)
		js.predicted_s = 30 + (int64_t)aidc_rng_below(r, 3600);
	js.oracle_s = 10 + (int64_t)aidc_rng_below(r, 4000);
	js.priority = (int32_t)aidc_rng_below(r, 5);
	return submit_spec(s, &js, now);
}

/* Forecasts of s at now by the fast and by the reference paths agree. */
static void check_same_forecast(struct sched *s, int64_t now, int64_t step)
{
	size_t n = sched_job_handles(s);
	int64_t *fast = calloc(n + 1, sizeof *fast), *ref = calloc(n + 1, sizeof *ref);
	struct aidc_err e = {0};
	CHECK_EQ(sched_forecast(s, now, 100000, step, fast, n, &e), 0);
	s->no_fast_path = true;
	CHECK_EQ(sched_forecast(s, now, 100000, step, ref, n, &e), 0);
	s->no_fast_path = false;
	size_t differ = 0, pending = 0;
	for (size_t h = 0; h < n; h++) {
		differ += fast[h] != ref[h];
		pending += fast[h] > 0;
	}
	CHECK_EQ(differ, 0);
	CHECK_GE(pending + 1, 1);
	free(fast);
	free(ref);
}

/* One random workload: rounds of submissions, a pass, random finishes (early
 * or long past the estimate) and a node draining now and then; the forecasts of
 * every round compared. */
static void fast_equals_reference_run(enum sched_order o, enum sched_placement pl,
				      enum sched_blocking b, uint64_t seed)
{
	struct sched *s = cluster(o, pl, b, 12, 4);
	struct aidc_rng r;
	struct aidc_err e = {0};
	struct sched_decisions d;
	uint64_t id = 1;
	int64_t now = 0;
	bool down[12] = {0};
	aidc_rng_seed(&r, seed);
	sched_decisions_init(&d);
	for (int round = 0; round < 25; round++) {
		for (uint64_t k = aidc_rng_below(&r, 12); k-- > 0;)
			CHECK_GE(random_job(s, &r, id++, now), 0);
		CHECK_EQ(sched_pass(s, now, &d, &e), 0);
		for (uint32_t h = 0; h < sched_job_handles(s); h++)
			if (sched_job_state(s, h) == SCHED_JOB_RUNNING &&
			    aidc_rng_below(&r, 4) == 0)
				CHECK_EQ(sched_job_finish(s, h, now, &e), 0);
		if (aidc_rng_below(&r, 6) == 0) { /* a node drains or comes back */
			uint32_t node = (uint32_t)aidc_rng_below(&r, 12);
			down[node] = !down[node];
			CHECK_EQ(sched_set_node_state(
				     s, node, down[node] ? SCHED_NODE_DRAINING : SCHED_NODE_UP, &e),
				 0);
		}
		check_same_forecast(s, now, 0);
		check_same_forecast(s, now, 60);
		CHECK_EQ(check_invariants(s), 0);
		now += 1 + (int64_t)aidc_rng_below(&r, 900);
	}
	sched_decisions_release(&d);
	sched_free(s);
}

/*
 * The forecast's fast paths (will-run walking the partition's end heap; the
 * copy's passes stopping once no queued job can start) against the reference
 * paths (s->no_fast_path, inherited by the copy: will-run over a heap of a
 * copy of every end, every queued job visited, no shapes): the same estimate
 * for every job, across orders, blocking modes and placements, steps 0 and
 * 60 s, with jobs past their estimates and nodes draining.
 */
static void test_fast_equals_reference(void)
{
	static const enum sched_order orders[] = {SCHED_ORDER_FIFO, SCHED_ORDER_QSSF,
						  SCHED_ORDER_SJF, SCHED_ORDER_PRIORITY,
						  SCHED_ORDER_SRTF};
	static const enum sched_blocking blocks[] = {SCHED_BLOCK_EASY, SCHED_BLOCK_SKIP,
						     SCHED_BLOCK_STRICT};
	static const enum sched_placement places[] = {SCHED_PLACE_CONSOLIDATE, SCHED_PLACE_SPREAD,
						      SCHED_PLACE_TOPOLOGY};
	uint64_t seed = 1;
	for (size_t i = 0; i < AIDC_ARRAY_LEN(orders); i++)
		for (size_t j = 0; j < AIDC_ARRAY_LEN(blocks); j++)
			for (size_t k = 0; k < AIDC_ARRAY_LEN(places); k++)
				fast_equals_reference_run(orders[i], places[k], blocks[j], seed++);
}

/*
 * Node filters (-w/-x) in the forecast: 2 nodes x 1 device, EASY. A (only
 * node 0, limit 100) runs from 0. Queued at 10: B (only node 0, limit 50) and
 * D (not node 1, limit 30). Node 1 stays free, but neither may use it: B
 * starts at 100 when A ends, D at 150 when B ends (not at 10 on node 1).
 */
static void test_node_filters(void)
{
	struct sched *s =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY, 2, 1);
	static const uint32_t n0 = 0, n1 = 1;
	struct sched_job_spec ja = jspec(1, 1, 1, 100), jb = jspec(2, 1, 1, 50),
			      jd = jspec(3, 1, 1, 30);
	ja.include_nodes = jb.include_nodes = &n0;
	ja.ninclude = jb.ninclude = 1;
	jd.exclude_nodes = &n1;
	jd.nexclude = 1;
	int a = submit_spec(s, &ja, 0);
	pass(s, 0);
	CHECK_EQ(sched_job_state(s, (uint32_t)a), SCHED_JOB_RUNNING);
	int b = submit_spec(s, &jb, 10), d = submit_spec(s, &jd, 10);
	pass(s, 10);
	CHECK_EQ(sched_job_state(s, (uint32_t)b), SCHED_JOB_PENDING);
	CHECK_EQ(sched_job_state(s, (uint32_t)d), SCHED_JOB_PENDING);
	int64_t est[4];
	forecast(s, 10, est, 4);
	CHECK_EQ(est[b], 100);
	CHECK_EQ(est[d], 150);
	sched_free(s);
}

/*
 * ORACLE (sched_forecast_oracle, diagnostic only): off by default and off
 * again gives the same estimates; with the class's true run times (partition
 * x devices; a job's own run time, its oracle_s, left out) known answers. One
 * node of one device, FIFO; A (true run 300 s) runs from 0, B (500) and C
 * (700) wait; no limits. Samples {50, 300, 400, 500, 700, 800}; forecast at
 * 100. MEAN: A's others above 100 {400, 500, 700, 800} mean 600, so A ends at
 * 600 (B's estimate); B runs the mean of {50, 300, 400, 700, 800}, 450: C at
 * 1,050. MEDIAN: A ends at 500 (lower middle of A's four), B runs 400: C at
 * 900.
 */
static void test_distribution_oracle(void)
{
	struct sched *s =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY, 1, 1);
	struct aidc_err e = {0};
	int h[3];
	static const int64_t run[3] = {300, 500, 700};
	for (int i = 0; i < 3; i++) {
		struct sched_job_spec js = jspec((uint64_t)i + 1, 1, 1, 0);
		js.oracle_s = run[i];
		h[i] = submit_spec(s, &js, 0);
		if (i == 0)
			pass(s, 0);
	}
	pass(s, 0);
	CHECK_EQ(sched_job_state(s, (uint32_t)h[0]), SCHED_JOB_RUNNING);
	int64_t off[8], est[8], again[8];
	forecast(s, 100, off, 8);
	struct sched_fc_sample v[6];
	static const int64_t samples[6] = {800, 50, 500, 300, 700, 400};
	for (int i = 0; i < 6; i++)
		v[i] = (struct sched_fc_sample){0, 1, samples[i]};
	CHECK_EQ(sched_forecast_oracle(s, SCHED_FCO_MEAN, v, 6, &e), 0);
	forecast(s, 100, est, 8);
	CHECK_EQ(est[h[1]], 600);
	CHECK_EQ(est[h[2]], 1050);
	forecast(s, 100, again, 8);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(again[i], est[i]);
	CHECK_EQ(sched_forecast_oracle(s, SCHED_FCO_MEDIAN, v, 6, &e), 0);
	forecast(s, 100, est, 8);
	CHECK_EQ(est[h[1]], 500);
	CHECK_EQ(est[h[2]], 900);
	CHECK_EQ(sched_forecast_oracle(s, SCHED_FCO_OFF, NULL, 0, &e), 0);
	forecast(s, 100, est, 8);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(est[i], off[i]);
	v[0].part = 1; /* no such partition */
	CHECK_EQ(sched_forecast_oracle(s, SCHED_FCO_MEAN, v, 6, &e), AIDC_E_INVAL);
	CHECK_EQ(sched_forecast_oracle(s, (enum sched_fc_oracle)9, NULL, 0, &e), AIDC_E_INVAL);
	sched_free(s);
}

/*
 * Kaplan-Meier (sched_forecast_km): a censored estimate over the class's jobs
 * submitted within the last day. One node of four devices, FIFO; every job
 * is user u's "job" on one device without a limit. Ten finished: six ran
 * 100 s, four 1,000 s (all submitted before T). A, B, C, D start at T; at
 * T + 500 they are censored samples at 500 s, and E, F, G, H, I wait. The
 * 14 samples: at 100 s six events of 14 at risk, S = 8/14; at 500 s four
 * censorings; at 1,000 s four events of 4 at risk, S = 0. ALL: the median
 * (S <= 1/2) is 1,000 s where the finished jobs alone say 100 s; a running
 * job of age 500 runs to the first event with S <= S(500) / 2 = 4/14: 1,000 s.
 * So A-D end at T + 1,000, E-H start then and run 1,000 s: I starts at
 * T + 2,000. COHORT: today's rules, but the cohort (A-D, median age 500)
 * runs the KM conditional median beyond 500, 1,000 s (the mean of finished
 * jobs longer than 500 s has only four: no cohort without it): the same
 * answers. MEAN: A-D run the mean of the events beyond 500, 1,000 s; a
 * queued job the mean of all events by their mass, (6 x 100 + 8 x 1,000) /
 * 14 = 614.3: I at T + 1,614. A day later the finished jobs are out of the
 * window (A-D alone are censored samples: no events): ALL gives OFF's
 * estimates. Same answers again (deterministic); a bad mode is refused.
 */
static void test_kaplan_meier(void)
{
	struct sched *s =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY, 1, 4);
	struct sched *bare =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY, 1, 4);
	struct aidc_err e = {0};
	int64_t t = 0;
	/* On before the history (the rings are fed only then); bare stays off. */
	CHECK_EQ(sched_forecast_km(s, SCHED_FCKM_ALL, &e), 0);
	for (uint64_t id = 1; id <= 10; id++) {
		int64_t run = id <= 6 ? 100 : 1000;
		int hb = submit(bare, id, 1, 1, 0, t);
		pass(bare, t);
		CHECK_EQ(sched_job_finish(bare, (uint32_t)hb, t + run, &e), 0);
		int h = submit(s, id, 1, 1, 0, t);
		pass(s, t);
		CHECK_EQ(sched_job_state(s, (uint32_t)h), SCHED_JOB_RUNNING);
		CHECK_EQ(sched_job_finish(s, (uint32_t)h, t + run, &e), 0);
		t += run;
	}
	int h[9];
	for (int i = 0; i < 4; i++)
		h[i] = submit(s, 11 + (uint64_t)i, 1, 1, 0, t);
	pass(s, t);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(sched_job_state(s, (uint32_t)h[i]), SCHED_JOB_RUNNING);
	for (int i = 4; i < 9; i++)
		h[i] = submit(s, 11 + (uint64_t)i, 1, 1, 0, t + 500);
	pass(s, t + 500);
	int64_t est[32], again[32], off[32];
	static const struct {
		enum sched_fc_km mode;
		int64_t first, last; /* E-H's and I's estimates, after T */
	} want[] = {{SCHED_FCKM_ALL, 1000, 2000},
		    {SCHED_FCKM_COHORT, 1000, 2000},
		    {SCHED_FCKM_MEAN, 1000, 1614}};
	for (size_t k = 0; k < AIDC_ARRAY_LEN(want); k++) {
		CHECK_EQ(sched_forecast_km(s, want[k].mode, &e), 0);
		forecast(s, t + 500, est, 32);
		for (int i = 4; i < 8; i++)
			CHECK_EQ(est[h[i]], t + want[k].first);
		CHECK_EQ(est[h[8]], t + want[k].last);
		forecast(s, t + 500, again, 32);
		for (int i = 0; i < 32; i++)
			CHECK_EQ(again[i], est[i]);
	}
	CHECK_EQ(sched_forecast_km(s, SCHED_FCKM_OFF, &e), 0);
	forecast(s, t + 500 + 86400, off, 32);
	CHECK_EQ(sched_forecast_km(s, SCHED_FCKM_ALL, &e), 0);
	forecast(s, t + 500 + 86400, est, 32);
	for (int i = 0; i < 32; i++)
		CHECK_EQ(est[i], off[i]);
	CHECK_EQ(sched_forecast_km(s, (enum sched_fc_km)9, &e), AIDC_E_INVAL);
	/* Turned on after a history fed while off: no ring, so the default
	 * estimates (the same queue as s's, at the same times). */
	for (int i = 0; i < 4; i++)
		submit(bare, 11 + (uint64_t)i, 1, 1, 0, t);
	pass(bare, t);
	for (int i = 4; i < 9; i++)
		submit(bare, 11 + (uint64_t)i, 1, 1, 0, t + 500);
	pass(bare, t + 500);
	forecast(bare, t + 500, off, 32);
	CHECK(off[h[8]] != t + want[0].last); /* what a fed ring would give */
	CHECK_EQ(sched_forecast_km(bare, SCHED_FCKM_ALL, &e), 0);
	forecast(bare, t + 500, est, 32);
	for (int i = 0; i < 32; i++)
		CHECK_EQ(est[i], off[i]);
	sched_free(bare);
	sched_free(s);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
	    TEST(test_queue_forward),		TEST(test_backfill_forward),
	    TEST(test_never_and_bad_input),	TEST(test_fast_equals_reference),
	    TEST(test_running_ends_as_history), TEST(test_node_filters),
	    TEST(test_queued_runs_as_history),	TEST(test_cohort_survival),
	    TEST(test_distribution_oracle),	TEST(test_kaplan_meier)};
	return test_run(argc, argv, cases, AIDC_ARRAY_LEN(cases));
}
