/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Preemption tests of the scheduling core: the resources that preemption frees
 * for a job stay reserved for it until it starts (no backfill steals them, so
 * no preempt/backfill loop), Tiresias starvation promotion (starve_s and
 * PromoteKnob), the history-derived Tiresias threshold, and the exact per-node
 * never-fits test. Each scenario is driven like the simulator drives
 * the core: a pass, the PREEMPT decisions applied with sched_job_requeue, and
 * another pass at the same time until the core preempts nothing.
 */
#include "sched_test_util.h"

/* Rounds a driver allows per time step before declaring the core looping. */
#define ROUNDS_MAX 16

struct step_result {
	uint32_t rounds;      /* passes run (ROUNDS_MAX = gave up: a loop) */
	uint32_t preemptions; /* PREEMPT decisions applied */
	uint32_t restarts;    /* starts of a job already preempted in this step */
};

/* Passes at time now like the simulator: requeue every victim, pass again. */
static struct step_result step(struct sched *s, int64_t now, struct sched_decisions *d,
			       uint64_t *started_ids, size_t *nstarted)
{
	struct step_result r = {0, 0, 0};
	uint64_t victims[ROUNDS_MAX * 4];
	uint32_t nv = 0;
	struct aidc_err e = {0};

	while (r.rounds < ROUNDS_MAX) {
		uint32_t npre = 0;

		r.rounds++;
		CHECK_EQ(sched_pass(s, now, d, &e), 0);
		for (size_t i = 0; i < d->n; i++) {
			const struct sched_decision *x = &d->v[i];
			if (x->kind == SCHED_DECIDE_START) {
				for (uint32_t k = 0; k < nv; k++)
					r.restarts += victims[k] == x->job_id;
				if (*nstarted < 64)
					started_ids[(*nstarted)++] = x->job_id;
			} else if (x->kind == SCHED_DECIDE_PREEMPT) {
				npre++;
			}
		}
		if (!npre)
			break;
		for (size_t i = 0; i < d->n; i++) {
			const struct sched_decision *x = &d->v[i];
			if (x->kind != SCHED_DECIDE_PREEMPT)
				continue;
			CHECK_EQ(sched_job_requeue(s, x->job, now, &e), 0);
			if (nv < AIDC_ARRAY_LEN(victims))
				victims[nv++] = x->job_id;
			r.preemptions++;
		}
		CHECK_EQ(check_invariants(s), 0);
	}
	return r;
}

static bool in_list(const uint64_t *v, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

/*
 * One node of 4 devices. A (2 devices, preemptible) runs; then J (4 devices)
 * and B (2 devices, preemptible, short estimate) arrive, J ahead of B in the
 * queue order and A worse than J. J preempts A. Before the fix, backfill (or
 * SKIP) started B on the two free devices J was counting on, so J preempted B,
 * A was backfilled into B's place, and so on without end (SRTF, PRIORITY) or J
 * waited with A stopped for nothing (Tiresias, where B in the high queue is no
 * victim). Now J's preemption placement is held back at once: B waits, J
 * starts in the next pass, and exactly one job (A) is preempted.
 */
static void test_preempt_holds_room(void)
{
	static const struct {
		enum sched_order o;
		enum sched_blocking b;
		int64_t t_arrive; /* when J and B arrive (A starts at 0) */
	} cases[] = {
	    {SCHED_ORDER_SRTF, SCHED_BLOCK_EASY, 0},
	    {SCHED_ORDER_SRTF, SCHED_BLOCK_SKIP, 0},
	    {SCHED_ORDER_SRTF, SCHED_BLOCK_STRICT, 0},
	    {SCHED_ORDER_PRIORITY, SCHED_BLOCK_EASY, 0},
	    {SCHED_ORDER_PRIORITY, SCHED_BLOCK_SKIP, 0},
	    {SCHED_ORDER_PRIORITY, SCHED_BLOCK_STRICT, 0},
	    {SCHED_ORDER_TIRESIAS, SCHED_BLOCK_EASY, 10},
	    {SCHED_ORDER_TIRESIAS, SCHED_BLOCK_SKIP, 10},
	    {SCHED_ORDER_TIRESIAS, SCHED_BLOCK_STRICT, 10},
	};

	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		struct sched_config cfg;
		struct sched *s = NULL;
		struct aidc_err e = {0};
		struct sched_decisions d;
		struct sched_job_spec a = jspec(1, 1, 2, 0), j = jspec(2, 1, 4, 0),
				      b = jspec(3, 1, 2, 0);
		uint64_t ids[64];
		size_t nids = 0;
		struct step_result r;
		int64_t t = cases[i].t_arrive;

		sched_config_defaults(&cfg);
		cfg.order = cases[i].o;
		cfg.blocking = cases[i].b;
		cfg.tiresias_threshold_dev_s = 1; /* A is in the low queue after 1 s */
		CHECK_EQ(sched_new(&cfg, NULL, &s, &e), 0);
		sched_add_model(s, "gpu", "v", 1, &e);
		sched_add_partition(s, "p", &e);
		add_nodes(s, "n", 0, 1, 4, 0, 0, 0);
		sched_decisions_init(&d);

		a.flags = b.flags = SCHED_JOB_PREEMPTIBLE;
		a.oracle_s = 10000; /* SRTF: A worst, then B, J best */
		b.oracle_s = 500;
		j.oracle_s = 100;
		a.priority = 0; /* PRIORITY: J 10 > B 5 > A 0 */
		b.priority = 5;
		j.priority = 10;
		b.predicted_s = 5; /* short estimate: backfill would take it */
		submit_spec(s, &a, 0);
		CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 1);
		submit_spec(s, &j, t);
		submit_spec(s, &b, t);
		r = step(s, t, &d, ids, &nids);
		CHECK_LE(r.rounds, 2);
		CHECK_EQ(r.preemptions, 1);
		CHECK_EQ(r.restarts, 0);
		CHECK(in_list(ids, nids, 2));
		CHECK(!in_list(ids, nids, 3));
		if (r.rounds > 2 || r.preemptions != 1 || !in_list(ids, nids, 2))
			fprintf(stderr, "  case %zu: order %d blocking %d\n", i, (int)cases[i].o,
				(int)cases[i].b);
		CHECK_EQ(check_invariants(s), 0);
		sched_decisions_release(&d);
		sched_free(s);
	}
}

/* A Tiresias scheduler on one node of ndev devices with the given knobs. */
static struct sched *tiresias(int64_t threshold, int64_t starve_s, uint32_t promote_pct,
			      uint32_t pct, uint32_t ndev)
{
	struct sched_config cfg;
	struct sched *s;
	struct aidc_err e = {0};

	sched_config_defaults(&cfg);
	cfg.order = SCHED_ORDER_TIRESIAS;
	cfg.tiresias_threshold_dev_s = threshold;
	cfg.tiresias_starve_s = starve_s;
	cfg.tiresias_promote_pct = promote_pct;
	cfg.tiresias_threshold_pct = pct;
	cfg.tiresias_min_samples = 4;
	s = mk_config(&cfg);
	sched_add_model(s, "gpu", "v", 1, &e);
	sched_add_partition(s, "p", &e);
	add_nodes(s, "n", 0, 1, ndev, 0, 0, 0);
	return s;
}

/*
 * Starvation promotion. One device. A (preemptible) runs 100 s past the 50 s
 * threshold and is preempted by B at 100; B runs long. A waits in the low queue
 * until promoted: after tiresias_starve_s, or after PromoteKnob x the 100 s it
 * ran, whichever comes first. Promoted, its attained service is reset, so it is
 * in the high queue again and preempts B (B crossed the threshold meanwhile).
 * The driver learns when from sched_next_wakeup.
 */
static void test_tiresias_starvation(void)
{
	static const struct {
		int64_t starve_s;
		uint32_t promote_pct;
		int64_t want; /* when A preempts B back; 0 = never (within 10,000 s) */
	} cases[] = {
	    {0, 0, 0},	      /* no promotion: A waits for B */
	    {1000, 0, 1100},  /* starve_s: 1000 s after it was queued at 100 */
	    {0, 300, 400},    /* knob 3 x 100 s run */
	    {1000, 300, 400}, /* the earlier of the two */
	    {150, 300, 250},  /* ... either way */
	};

	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		struct sched *s = tiresias(50, cases[i].starve_s, cases[i].promote_pct, 0, 1);
		struct sched_decisions d;
		struct aidc_err e = {0};
		struct sched_job_spec js = jspec(1, 1, 1, 0);
		int64_t t, got = 0;
		int a, b;

		sched_decisions_init(&d);
		js.flags = SCHED_JOB_PREEMPTIBLE;
		a = submit_spec(s, &js, 0);
		CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 1);
		js = jspec(2, 1, 1, 0);
		js.flags = SCHED_JOB_PREEMPTIBLE;
		b = submit_spec(s, &js, 100);
		CHECK_EQ(pass_count(s, 100, &d, SCHED_DECIDE_PREEMPT), 1);
		CHECK_EQ(sched_job_requeue(s, (uint32_t)a, 100, &e), 0);
		CHECK_EQ(pass_count(s, 100, &d, SCHED_DECIDE_START), 1);
		CHECK_EQ(sched_job_state(s, (uint32_t)b), SCHED_JOB_RUNNING);
		/* follow the core's wake-ups until A preempts B */
		for (t = 100; t < 10000 && !got;) {
			int64_t w = sched_next_wakeup(s, t);
			if (w == INT64_MAX || w > 10000)
				break;
			t = w;
			if (pass_count(s, t, &d, SCHED_DECIDE_PREEMPT) == 1 &&
			    d.v[0].job == (uint32_t)b && d.v[0].for_job == (uint32_t)a)
				got = t;
		}
		CHECK_EQ(got, cases[i].want);
		if (got != cases[i].want)
			fprintf(stderr, "  case %zu\n", i);
		CHECK_EQ(check_invariants(s), 0);
		sched_decisions_release(&d);
		sched_free(s);
	}
}

/*
 * History-derived threshold (tiresias_threshold_pct): after min_samples
 * finished jobs the partition's threshold is the percentile of their service,
 * rounded up to its quarter-octave bucket. Four jobs of 100, 200, 400 and 800
 * device-seconds: the 50th percentile is 200 (bucket top 224), the 75th 400
 * (bucket top 448). A job is then demoted (and preemptible by a fresh one) once
 * it crossed that, not the fixed 10,000; the core's next wake-up says when.
 */
static void test_tiresias_history_threshold(void)
{
	static const struct {
		uint32_t pct;
		int64_t want; /* demotion wake-up of a job started at 10,000 on 1 device */
	} cases[] = {
	    {0, 20000},	 /* fixed threshold 10,000 */
	    {50, 10224}, /* 224 */
	    {75, 10448}, /* 448 */
	};
	static const int64_t runs[] = {100, 200, 400, 800};

	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		struct sched *s = tiresias(10000, 0, 0, cases[i].pct, 1);
		struct sched_decisions d;
		struct aidc_err e = {0};
		struct sched_job_spec js = jspec(1, 1, 1, 0);
		int64_t t = 0;

		sched_decisions_init(&d);
		for (size_t k = 0; k < AIDC_ARRAY_LEN(runs); k++) {
			int h;
			js.id = k + 1;
			h = submit_spec(s, &js, t);
			CHECK_EQ(pass_count(s, t, &d, SCHED_DECIDE_START), 1);
			t += runs[k];
			CHECK_EQ(sched_job_finish(s, (uint32_t)h, t, &e), 0);
		}
		js.id = 10;
		js.flags = SCHED_JOB_PREEMPTIBLE;
		submit_spec(s, &js, 10000);
		CHECK_EQ(pass_count(s, 10000, &d, SCHED_DECIDE_START), 1);
		CHECK_EQ(sched_next_wakeup(s, 10000), cases[i].want);
		js = jspec(11, 1, 1, 0);
		submit_spec(s, &js, cases[i].want - 1);
		CHECK_EQ(pass_count(s, cases[i].want - 1, &d, SCHED_DECIDE_PREEMPT), 0);
		CHECK_EQ(pass_count(s, cases[i].want, &d, SCHED_DECIDE_PREEMPT), 1);
		sched_decisions_release(&d);
		sched_free(s);
	}
}

/*
 * Never-fits is exact per node, not a comparison of totals: two nodes of 4
 * devices hold 8 devices in all, yet a task of 3 devices fits once per node,
 * and CPU bounds tasks per node too. Such a job is NEVER_FITS and does not
 * block a STRICT queue.
 */
static void test_never_fits_per_node(void)
{
	static const struct {
		uint32_t ntasks, ndev, dev_milli, cpu_milli;
		bool never;
	} cases[] = {
	    {2, 3, 0, 1000, false},    /* one 3-device task per node */
	    {3, 3, 0, 1000, true},     /* 9 <= 8 devices? no, and only 2 fit per node anyway */
	    {2, 4, 0, 1000, false},    /* a whole node each */
	    {4, 2, 0, 1000, false},    /* two per node */
	    {5, 2, 0, 1000, true},     /* totals say 10 > 8: never */
	    {4, 1, 0, 20000, true},    /* devices allow 8, CPU (32 cores) 1 per node */
	    {2, 1, 0, 20000, false},   /* 1 per node */
	    {16, 1, 500, 1000, false}, /* two halves per device */
	    {17, 1, 500, 1000, true},  /* ... 16 at most */
	    {12, 1, 300, 8000, true},  /* 3 shares of 300 per device, but CPU: 4 per node */
	    {8, 1, 300, 8000, false},  {2, 0, 0, 32000, false}, /* CPU-only: one per node */
	    {3, 0, 0, 32000, true},
	};

	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		struct sched *s = mk(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_STRICT);
		struct sched_device_spec devs[4] = {{0, 0}, {0, 0}, {0, 0}, {0, 0}};
		struct aidc_err e = {0};
		struct sched_decisions d;
		struct sched_job_spec js = jspec(1, cases[i].ntasks, cases[i].ndev, 0);
		int h;

		sched_add_model(s, "gpu", "v", 1, &e);
		sched_add_partition(s, "p", &e);
		for (uint32_t n = 0; n < 2; n++) {
			char name[8];
			struct sched_node_spec ns = {name, 0, 0, 32000, 65536, 4, devs};
			snprintf(name, sizeof name, "n%u", n);
			CHECK_EQ(sched_add_node(s, &ns, &e), (int)n);
		}
		sched_decisions_init(&d);
		js.task.dev_milli = cases[i].dev_milli;
		js.task.cpu_milli = cases[i].cpu_milli;
		h = submit_spec(s, &js, 0);
		js = jspec(2, 1, 0, 0); /* behind it */
		submit_spec(s, &js, 0);
		pass_count(s, 0, &d, SCHED_DECIDE_START);
		CHECK_EQ(sched_job_reason(s, (uint32_t)h) == SCHED_REASON_NEVER_FITS,
			 cases[i].never);
		CHECK_EQ(sched_job_state(s, (uint32_t)h) == SCHED_JOB_RUNNING, !cases[i].never);
		if (cases[i].never)
			CHECK(started(&d, 2) != NULL); /* not blocked behind it */
		if ((sched_job_reason(s, (uint32_t)h) == SCHED_REASON_NEVER_FITS) != cases[i].never)
			fprintf(stderr, "  case %zu\n", i);
		sched_decisions_release(&d);
		sched_free(s);
	}
}

TEST_MAIN(TEST(test_preempt_holds_room), TEST(test_tiresias_starvation),
	  TEST(test_tiresias_history_threshold), TEST(test_never_fits_per_node))
