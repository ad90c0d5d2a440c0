/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Policy tests of the scheduling core on hand-built clusters with
 * hand-computed answers: placement choices (consolidate, Helios, spread,
 * topology), EASY backfill never delaying the reserved job, queue orders,
 * Tiresias and SRTF preemption decisions, and the QSSF predictor's fallbacks.
 */
#include "sched_test_util.h"

/* Node of the single-node job id in d (UINT32_MAX if not started). */
static uint32_t node_for(const struct sched_decisions *d, uint64_t id, uint32_t *count)
{
	const struct sched_decision *x = started(d, id);
	uint32_t first = UINT32_MAX, n = 0;

	if (x)
		n = nodes_of(d, x, &first);
	if (count)
		*count = n;
	return first;
}

static void test_helios_and_consolidate(void)
{
	/* Free devices per node after filling: n0: 2, n1: 5, n2: 8, n3: 8. The fillers
	 * are placed by SPREAD so each lands on its own node. */
	static const struct {
		enum sched_placement p;
		uint32_t ntasks, ndev;
		uint32_t want_node;  /* first node used */
		uint32_t want_nodes; /* distinct nodes */
	} cases[] = {
	    {SCHED_PLACE_HELIOS, 2, 1, 0, 1},		/* fullest that fits: n0 (2 free) */
	    {SCHED_PLACE_HELIOS, 1, 2, 0, 1},		/* same job as 1 task of 2 devices */
	    {SCHED_PLACE_HELIOS, 4, 1, 1, 1},		/* n1 (5 free) */
	    {SCHED_PLACE_HELIOS, 8, 1, 2, 1},		/* an empty node, lowest id */
	    {SCHED_PLACE_HELIOS, 1, 8, 2, 1},		/* same as 1 x 8 */
	    {SCHED_PLACE_HELIOS, 12, 1, 2, 2},		/* empty n2 + remainder 4 on n1 */
	    {SCHED_PLACE_HELIOS, 17, 1, 2, 3},		/* n2, n3 + 1 on n0 */
	    {SCHED_PLACE_HELIOS, 21, 1, 2, 3},		/* 2 empties + 5 on n1 = 21: fits */
	    {SCHED_PLACE_HELIOS, 22, 1, UINT32_MAX, 0}, /* needs 6 on a non-empty: no */
	    {SCHED_PLACE_CONSOLIDATE, 2, 1, 0, 1},
	    {SCHED_PLACE_CONSOLIDATE, 5, 1, 1, 1},
	    {SCHED_PLACE_CONSOLIDATE, 6, 1, 2, 1},
	    {SCHED_PLACE_CONSOLIDATE, 10, 1, 2, 2}, /* 8 on n2 + best fit for 2: n0 */
	    {SCHED_PLACE_CONSOLIDATE, 23, 1, 2, 4}, /* everything */
	    {SCHED_PLACE_CONSOLIDATE, 24, 1, UINT32_MAX, 0},
	    {SCHED_PLACE_SPREAD, 3, 1, 2, 3}, /* most free first: n2, n3, n1 */
	};
	static const uint32_t fill[] = {6, 3, 0, 0};

	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		struct sched *s =
		    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_SPREAD, SCHED_BLOCK_STRICT, 4, 8);
		struct sched_decisions d;
		uint32_t n = 0, first;

		sched_decisions_init(&d);
		/* fillers of 6 and 3 devices: SPREAD puts the first on n0 (all empty,
		 * lowest id) and the second on n1 (most free, lowest id) */
		for (uint32_t k = 0; k < 2; k++) {
			struct aidc_err e = {0};
			int64_t t;
			int h = submit(s, 1000 + k, 1, fill[k], 0, 0);
			sched_place(s, (uint32_t)h, SCHED_MODE_RUN_NOW, 0, &d, &t, &e);
		}
		s->cfg.placement = cases[i].p;
		submit(s, 1, cases[i].ntasks, cases[i].ndev, 0, 0);
		pass_count(s, 0, &d, SCHED_DECIDE_START);
		first = node_for(&d, 1, &n);
		CHECK_EQ(first, cases[i].want_node);
		CHECK_EQ(n, cases[i].want_nodes);
		if (first != cases[i].want_node || n != cases[i].want_nodes)
			fprintf(stderr, "  case %zu: policy %d, %u x %u\n", i, (int)cases[i].p,
				cases[i].ntasks, cases[i].ndev);
		CHECK_EQ(check_invariants(s), 0);
		sched_decisions_release(&d);
		sched_free(s);
	}
}

static void test_topology(void)
{
	struct sched *s = mk(SCHED_ORDER_FIFO, SCHED_PLACE_TOPOLOGY, SCHED_BLOCK_SKIP);
	struct aidc_err e = {0};
	struct sched_decisions d;
	uint32_t n, first;

	sched_decisions_init(&d);
	sched_add_model(s, "gpu", "v", 1, &e);
	sched_add_partition(s, "p", &e);
	add_nodes(s, "r0n", 0, 2, 8, 0, 4, 0); /* nodes 0,1 in rack 0: groups of 4 */
	add_nodes(s, "r1n", 0, 2, 8, 0, 4, 1); /* nodes 2,3 in rack 1 */
	/* 2 devices: node 0, inside one group (devices 0,1) */
	submit(s, 1, 1, 2, 0, 0);
	pass_count(s, 0, &d, SCHED_DECIDE_START);
	CHECK_EQ(d.allocs[0].dev, 0);
	CHECK_EQ(d.allocs[1].dev, 1);
	/* 4 devices: node 0 has 6 free but its groups hold 2 and 4: group 1 of node 0 */
	submit(s, 2, 1, 4, 0, 0);
	pass_count(s, 0, &d, SCHED_DECIDE_START);
	first = node_for(&d, 2, &n);
	CHECK_EQ(first, 0);
	CHECK_EQ(d.allocs[0].dev, 4);
	/* 16 devices as 4 x 4: no node holds it; rack 1 (16 free) before rack 0 (10 free) */
	submit(s, 3, 4, 4, 0, 0);
	pass_count(s, 0, &d, SCHED_DECIDE_START);
	first = node_for(&d, 3, &n);
	CHECK_EQ(first, 2);
	CHECK_EQ(n, 2);
	CHECK_EQ(check_invariants(s), 0);
	sched_decisions_release(&d);
	sched_free(s);
}

/* EASY: the reserved head starts no later than its reservation, whatever the
 * backfill candidates; exact time limits make the expectations exact. */
static void test_easy_backfill(void)
{
	struct sched *s =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY, 2, 4);
	struct sched_decisions d;
	struct aidc_err e = {0};
	int a, b, head, c, dd, f;

	sched_decisions_init(&d);
	a = submit(s, 1, 1, 4, 100, 0); /* node 0 until 100 */
	b = submit(s, 2, 1, 2, 300, 0); /* node 1 (2 of 4) until 300 */
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 2);
	head = submit(s, 3, 1, 4, 50, 1); /* needs a whole node: at 100 (node 0) */
	c = submit(s, 4, 1, 2, 500, 1);	  /* fits on node 1 now, does not touch node 0: starts */
	dd = submit(s, 5, 1, 4, 20, 1);	  /* would need node 0: nothing free now anyway */
	f = submit(s, 6, 1, 1, 50, 1);
	CHECK_EQ(pass_count(s, 1, &d, SCHED_DECIDE_RESERVE), 1);
	CHECK_EQ(d.v[0].kind, SCHED_DECIDE_RESERVE);
	CHECK_EQ(d.v[0].job_id, 3);
	CHECK_EQ(d.v[0].at_s, 100);
	CHECK(started(&d, 4) != NULL); /* long job on resources the head does not need */
	CHECK(started(&d, 6) == NULL); /* node 1 is full now */
	CHECK_EQ(sched_job_reason(s, (uint32_t)head), SCHED_REASON_RESOURCES);
	CHECK_EQ(sched_job_state(s, (uint32_t)dd), SCHED_JOB_PENDING);
	(void)b;
	/* a ends at 100: the head starts at 100 exactly */
	CHECK_EQ(sched_job_finish(s, (uint32_t)a, 100, &e), 0);
	pass_count(s, 100, &d, SCHED_DECIDE_START);
	CHECK(started(&d, 3) != NULL);
	(void)c;
	(void)f;
	sched_decisions_release(&d);
	sched_free(s);

	/* One node: the head needs all 4 at 100; a short job (ends by 100) may use the
	 * free device, a long one (ends after 100) may not. */
	s = cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY, 1, 4);
	sched_decisions_init(&d);
	a = submit(s, 1, 1, 3, 100, 0);
	pass_count(s, 0, &d, SCHED_DECIDE_START);
	head = submit(s, 2, 1, 4, 10, 0);
	c = submit(s, 3, 1, 1, 200, 0);	 /* ends at 200 > 100: would delay */
	dd = submit(s, 4, 1, 1, 100, 0); /* ends at 100: fine */
	pass_count(s, 0, &d, SCHED_DECIDE_START);
	CHECK(started(&d, 3) == NULL);
	CHECK(started(&d, 4) != NULL);
	CHECK_EQ(sched_job_reason(s, (uint32_t)c), SCHED_REASON_RESERVED);
	CHECK_EQ(check_invariants(s), 0);
	CHECK_EQ(sched_job_finish(s, (uint32_t)a, 100, &e), 0);
	CHECK_EQ(sched_job_finish(s, (uint32_t)dd, 100, &e), 0);
	pass_count(s, 100, &d, SCHED_DECIDE_START);
	CHECK(started(&d, 2) != NULL);
	(void)head;
	sched_decisions_release(&d);
	sched_free(s);
}

/* Randomized: under EASY with exact limits, no reserved job starts later than
 * its first reservation. */
static void test_easy_never_delays(void)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		struct sched *s =
		    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY, 3, 4);
		struct sched_decisions d;
		struct aidc_rng rng;
		struct aidc_err e = {0};
		int64_t resv_at[400];
		int64_t end_at[400];
		int late = 0;

		for (int i = 0; i < 400; i++)
			resv_at[i] = end_at[i] = -1;
		sched_decisions_init(&d);
		aidc_rng_seed(&rng, seed);
		for (uint64_t id = 1; id < 300; id++) {
			uint32_t nt = 1 + (uint32_t)aidc_rng_below(&rng, 3);
			uint32_t nd = 1 + (uint32_t)aidc_rng_below(&rng, 4);
			submit(s, id, nt, nd, 1 + (int64_t)aidc_rng_below(&rng, 100), 0);
		}
		for (int64_t now = 0; now < 40000 && sched_job_count(s); now++) {
			for (int i = 1; i < 300; i++) {
				if (end_at[i] == now) {
					int h = sched_find_job(s, (uint64_t)i);
					sched_job_finish(s, (uint32_t)h, now, &e);
				}
			}
			sched_pass(s, now, &d, &e);
			for (size_t k = 0; k < d.n; k++) {
				const struct sched_decision *x = &d.v[k];
				if (x->kind == SCHED_DECIDE_RESERVE && resv_at[x->job_id] < 0)
					resv_at[x->job_id] = x->at_s;
				if (x->kind == SCHED_DECIDE_START) {
					end_at[x->job_id] = now + sched_job_estimate(s, x->job);
					if (resv_at[x->job_id] >= 0 && now > resv_at[x->job_id])
						late++;
				}
			}
			CHECK_EQ(check_invariants(s), 0);
		}
		CHECK_EQ(late, 0);
		CHECK_EQ(sched_job_count(s), 0);
		sched_decisions_release(&d);
		sched_free(s);
	}
}

static void test_orders(void)
{
	/* One node x 1 device, one job running; who goes next? */
	static const struct {
		enum sched_order o;
		uint64_t want;
	} cases[] = {
	    {SCHED_ORDER_FIFO, 2},
	    {SCHED_ORDER_SJF, 3},      /* oracle 10 x 1 device */
	    {SCHED_ORDER_PRIORITY, 4}, /* priority 5 */
	    {SCHED_ORDER_QSSF, 4},     /* prediction 5 */
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		struct sched *s =
		    cluster(cases[i].o, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_STRICT, 1, 1);
		struct sched_decisions d;
		struct aidc_err e = {0};
		struct sched_job_spec js;
		int first;

		sched_decisions_init(&d);
		first = submit(s, 1, 1, 1, 0, 0);
		pass_count(s, 0, &d, SCHED_DECIDE_START);
		js = jspec(2, 1, 1, 0);
		js.oracle_s = 100;
		js.predicted_s = 50;
		submit_spec(s, &js, 1);
		js = jspec(3, 1, 1, 0);
		js.oracle_s = 10;
		js.predicted_s = 500;
		submit_spec(s, &js, 2);
		js = jspec(4, 1, 1, 0);
		js.oracle_s = 1000;
		js.predicted_s = 5;
		js.priority = 5;
		submit_spec(s, &js, 3);
		sched_job_finish(s, (uint32_t)first, 10, &e);
		pass_count(s, 10, &d, SCHED_DECIDE_START);
		CHECK_EQ(d.n ? d.v[0].job_id : 0, cases[i].want);
		sched_decisions_release(&d);
		sched_free(s);
	}
}

static void test_tiresias(void)
{
	struct sched_config cfg;
	struct sched *s = NULL;
	struct aidc_err e = {0};
	struct sched_decisions d;
	struct sched_job_spec js;
	int a, b;

	sched_config_defaults(&cfg);
	cfg.order = SCHED_ORDER_TIRESIAS;
	cfg.tiresias_threshold_dev_s = 200; /* 2 devices x 100 s */
	CHECK_EQ(sched_new(&cfg, NULL, &s, &e), 0);
	sched_add_model(s, "gpu", "v", 1, &e);
	sched_add_partition(s, "p", &e);
	add_nodes(s, "n", 0, 1, 2, 0, 0, 0);
	sched_decisions_init(&d);
	js = jspec(1, 1, 2, 0);
	js.flags = SCHED_JOB_PREEMPTIBLE;
	a = submit_spec(s, &js, 0);
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 1);
	CHECK_EQ(sched_next_wakeup(s, 0), 100); /* demotion at 2 x 100 s */
	js = jspec(2, 1, 2, 0);
	b = submit_spec(s, &js, 50);
	/* at 50, a is still in the high queue: no preemption (FIFO within a queue) */
	CHECK_EQ(pass_count(s, 50, &d, SCHED_DECIDE_PREEMPT), 0);
	/* at 100, a is demoted; b (high queue) preempts it */
	CHECK_EQ(pass_count(s, 100, &d, SCHED_DECIDE_PREEMPT), 1);
	CHECK_EQ(d.v[0].job, (uint32_t)a);
	CHECK_EQ(d.v[0].for_job, (uint32_t)b);
	CHECK_EQ(sched_job_reason(s, (uint32_t)b), SCHED_REASON_PREEMPTING);
	CHECK_EQ(sched_job_state(s, (uint32_t)a), SCHED_JOB_RUNNING); /* never executed */
	/* asking again before the driver acts: no second set of victims */
	CHECK_EQ(pass_count(s, 101, &d, SCHED_DECIDE_PREEMPT), 0);
	CHECK_EQ(sched_job_requeue(s, (uint32_t)a, 101, &e), 0);
	CHECK_EQ(pass_count(s, 101, &d, SCHED_DECIDE_START), 1);
	CHECK(started(&d, 2) != NULL);
	/* non-preemptible running jobs are never victims */
	CHECK_EQ(sched_job_preemptions(s, (uint32_t)a), 1);
	CHECK_EQ(check_invariants(s), 0);
	sched_decisions_release(&d);
	sched_free(s);
}

static void test_srtf(void)
{
	struct sched *s =
	    cluster(SCHED_ORDER_SRTF, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_STRICT, 1, 1);
	struct sched_decisions d;
	struct sched_job_spec js;
	int a, c;

	sched_decisions_init(&d);
	js = jspec(1, 1, 1, 0);
	js.oracle_s = 100;
	js.flags = SCHED_JOB_PREEMPTIBLE;
	a = submit_spec(s, &js, 0);
	pass_count(s, 0, &d, SCHED_DECIDE_START);
	/* at 60 a has 40 left: a 50 s job waits, a 30 s job preempts */
	js = jspec(2, 1, 1, 0);
	js.oracle_s = 50;
	submit_spec(s, &js, 60);
	CHECK_EQ(pass_count(s, 60, &d, SCHED_DECIDE_PREEMPT), 0);
	js = jspec(3, 1, 1, 0);
	js.oracle_s = 30;
	c = submit_spec(s, &js, 61);
	CHECK_EQ(pass_count(s, 61, &d, SCHED_DECIDE_PREEMPT), 1);
	CHECK_EQ(d.v[0].job, (uint32_t)a);
	CHECK_EQ(d.v[0].for_job, (uint32_t)c);
	sched_decisions_release(&d);
	sched_free(s);
}

/* Runs one job to completion: submitted and started at t, finished at t + run. */
static void run_job(struct sched *s, struct sched_decisions *d, struct sched_job_spec js, int64_t t,
		    int64_t run)
{
	struct aidc_err e = {0};
	int h = submit_spec(s, &js, t);

	pass_count(s, t, d, SCHED_DECIDE_START);
	CHECK_EQ(sched_job_state(s, (uint32_t)h), SCHED_JOB_RUNNING);
	CHECK_EQ(sched_job_finish(s, (uint32_t)h, t + run, &e), 0);
}

static void test_qssf_predictor(void)
{
	struct sched *s = mk(SCHED_ORDER_QSSF, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_SKIP);
	struct sched_decisions d;
	struct aidc_err e = {0};
	struct sched_job_spec js;
	static const struct {
		const char *user, *name;
		uint32_t part, ndev;
		int64_t want;
	} cases[] = {
	    {"alice", "train", 0, 2, 100}, /* level 0: user + name + shape */
	    {"alice", "train", 0, 4, 300}, /* level 1: user + name (mean of 100 and 500) */
	    {"alice", "other", 0, 2, 100}, /* level 2: user + shape */
	    {"alice", "other", 0, 1, 300}, /* level 3: user */
	    {"bob", "x", 0, 4, 500},	   /* level 4: partition + shape */
	    {"bob", "x", 0, 3, 367},	   /* level 5: partition (100, 500, 500) */
	    {"bob", "x", 2, 2, 500},	   /* level 6: shape in any partition (100, 900) */
	    {"bob", "x", 2, 3, 3600},	   /* nothing: the default */
	    {"", "", 0, 2, 100},	   /* no user, no name: partition + shape, not the
					      other nameless job (900 s in partition 1) */
	};

	sched_add_model(s, "gpu", "v", 1, &e);
	for (uint32_t p = 0; p < 3; p++) {
		char name[8];
		snprintf(name, sizeof name, "p%u", p);
		CHECK_EQ(sched_add_partition(s, name, &e), (int)p);
		add_nodes(s, name, p, 1, 8, 0, 0, p);
	}
	sched_decisions_init(&d);
	/* history in p0: alice/train 100 s on 2 devices and 500 s on 8 devices, carol/train
	 * 500 s on 4; in p1 a job without user or name, 900 s on 2 */
	js = jspec(1, 1, 2, 0);
	js.user = "alice";
	js.name = "train";
	run_job(s, &d, js, 0, 100);
	js = jspec(2, 1, 4, 0);
	js.user = "carol";
	js.name = "train";
	run_job(s, &d, js, 100, 500);
	js = jspec(3, 1, 8, 0);
	js.user = "alice";
	js.name = "train";
	run_job(s, &d, js, 600, 500);
	js = jspec(4, 1, 2, 0);
	js.user = js.name = "";
	js.partition = 1;
	run_job(s, &d, js, 1100, 900);
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		int h;
		js = jspec(100 + i, 1, cases[i].ndev, 0);
		js.user = cases[i].user;
		js.name = cases[i].name;
		js.partition = cases[i].part;
		h = submit_spec(s, &js, 2000);
		CHECK_EQ(sched_job_estimate(s, (uint32_t)h), cases[i].want);
		if (sched_job_estimate(s, (uint32_t)h) != cases[i].want)
			fprintf(stderr, "  case %zu\n", i);
	}
	/* a time limit wins for the backfill estimate */
	js = jspec(200, 1, 2, 42);
	js.user = "alice";
	js.name = "train";
	CHECK_EQ(sched_job_estimate(s, (uint32_t)submit_spec(s, &js, 2000)), 42);
	sched_decisions_release(&d);
	sched_free(s);
}

/* The estimate follows recent history: a plain mean for the first predict_window
 * samples, then each new sample weighs 1/window (0 = lifetime mean). */
static void test_predict_window(void)
{
	static const struct {
		uint32_t window;
		int64_t want; /* after 4 runs of 100 s and 4 of 900 s */
	} cases[] = {
	    {0, 500},  /* lifetime mean */
	    {10, 500}, /* fewer samples than the window: the mean too */
	    {2, 850},  /* EWMA: 100 -> ... -> 900 weighs most */
	};

	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		struct sched_config cfg;
		struct sched *s = NULL;
		struct aidc_err e = {0};
		struct sched_decisions d;
		struct sched_job_spec js = jspec(1, 1, 1, 0);
		int h;

		sched_config_defaults(&cfg);
		cfg.order = SCHED_ORDER_QSSF;
		cfg.predict_window = cases[i].window;
		CHECK_EQ(sched_new(&cfg, NULL, &s, &e), 0);
		sched_add_model(s, "gpu", "v", 1, &e);
		sched_add_partition(s, "p", &e);
		add_nodes(s, "n", 0, 1, 8, 0, 0, 0);
		sched_decisions_init(&d);
		for (uint64_t k = 0; k < 8; k++) {
			js.id = k + 1;
			run_job(s, &d, js, (int64_t)k * 1000, k < 4 ? 100 : 900);
		}
		js.id = 100;
		h = submit_spec(s, &js, 9000);
		CHECK_EQ(sched_job_estimate(s, (uint32_t)h), cases[i].want);
		sched_decisions_release(&d);
		sched_free(s);
	}
}

/* Quarter-octave service buckets: every value lies below its bucket's top,
 * and tops never go down, also across the buckets no value falls in (4..7). */
static void test_svc_buckets(void)
{
	for (uint64_t x = 0; x < 100000; x++) {
		uint32_t b = sched_svc_bucket(x);
		CHECK(b < SCHED_SVC_BUCKETS);
		CHECK(x < sched_svc_bucket_top(b));
		if (b > 0)
			CHECK(x >= sched_svc_bucket_top(b - 1) || b < 8);
	}
	/* as used: capped at the longest duration */
	for (uint32_t b = 1; b < SCHED_SVC_BUCKETS; b++)
		CHECK(AIDC_MIN(sched_svc_bucket_top(b), (uint64_t)AIDC_MAX_DURATION_S) >=
		      AIDC_MIN(sched_svc_bucket_top(b - 1), (uint64_t)AIDC_MAX_DURATION_S));
}

TEST_MAIN(TEST(test_svc_buckets), TEST(test_helios_and_consolidate), TEST(test_topology), TEST(test_easy_backfill),
	  TEST(test_easy_never_delays), TEST(test_orders), TEST(test_tiresias), TEST(test_srtf),
	  TEST(test_qssf_predictor), TEST(test_predict_window))
