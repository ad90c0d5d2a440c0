/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the scheduling core's model and API: submission limits at and
 * past the edge (rejections change nothing), gang all-or-nothing, fractional
 * shares, model constraints with alternatives, node drain/down, will-run,
 * requeue/cancel, determinism of decisions, and a randomized run that checks
 * the capacity bookkeeping after every step.
 */
#include "sched_test_util.h"

static void test_limits(void)
{
	struct sched *s =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_STRICT, 2, 8);
	char longname[AIDC_MAX_NAME_BYTES + 1];
	struct {
		const char *what;
		uint32_t ntasks, ndev, milli;
		uint64_t mask;
		uint32_t part;
		int64_t limit;
		int32_t prio;
		int want; /* 0 = accepted, else the error code */
	} cases[] = {
	    {"one task", 1, 1, 0, 0, 0, 0, 0, 0},
	    {"zero tasks", 0, 1, 0, 0, 0, 0, 0, AIDC_E_LIMIT},
	    {"max tasks", AIDC_MAX_TASKS_PER_JOB, 1, 0, 0, 0, 0, 0, 0},
	    {"past max tasks", AIDC_MAX_TASKS_PER_JOB + 1, 1, 0, 0, 0, 0, 0, AIDC_E_LIMIT},
	    {"max devs per task", 1, AIDC_MAX_DEVICES_PER_NODE, 0, 0, 0, 0, 0, 0},
	    {"past max devs", 1, AIDC_MAX_DEVICES_PER_NODE + 1, 0, 0, 0, 0, 0, AIDC_E_LIMIT},
	    {"past devices per job", AIDC_MAX_TASKS_PER_JOB, 2, 0, 0, 0, 0, 0, AIDC_E_LIMIT},
	    {"share 1000", 1, 1, 1000, 0, 0, 0, 0, 0},
	    {"share 1001", 1, 1, 1001, 0, 0, 0, 0, AIDC_E_INVAL},
	    {"fraction of 2 devs", 1, 2, 500, 0, 0, 0, 0, AIDC_E_INVAL},
	    {"known model", 1, 1, 0, 1, 0, 0, 0, 0},
	    {"unknown model", 1, 1, 0, 2, 0, 0, 0, AIDC_E_INVAL},
	    {"bad partition", 1, 1, 0, 0, 1, 0, 0, AIDC_E_INVAL},
	    {"max duration", 1, 1, 0, 0, 0, AIDC_MAX_DURATION_S, 0, 0},
	    {"past max duration", 1, 1, 0, 0, 0, AIDC_MAX_DURATION_S + 1, 0, AIDC_E_INVAL},
	    {"negative limit", 1, 1, 0, 0, 0, -1, 0, AIDC_E_INVAL},
	    {"max priority", 1, 1, 0, 0, 0, 0, AIDC_MAX_PRIORITY, 0},
	    {"past max priority", 1, 1, 0, 0, 0, 0, AIDC_MAX_PRIORITY + 1, AIDC_E_INVAL},
	    {"past min priority", 1, 1, 0, 0, 0, 0, AIDC_MIN_PRIORITY - 1, AIDC_E_INVAL},
	};
	uint64_t id = 1;

	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		struct sched_job_spec js =
		    jspec(id++, cases[i].ntasks, cases[i].ndev, cases[i].limit);
		struct aidc_err e = {0};
		uint32_t before = sched_job_count(s);
		int rc;
		js.task.dev_milli = cases[i].milli;
		js.task.model_mask = cases[i].mask;
		js.partition = cases[i].part;
		js.priority = cases[i].prio;
		rc = sched_submit(s, &js, 0, &e);
		if (cases[i].want == 0) {
			CHECK_GE(rc, 0);
			CHECK_EQ(sched_job_count(s), before + 1);
		} else {
			CHECK_EQ(rc, cases[i].want);
			CHECK_EQ(sched_job_count(s), before);
			CHECK(e.msg[0] != 0);
		}
		if (rc != cases[i].want && !(cases[i].want == 0 && rc >= 0))
			fprintf(stderr, "  case: %s (%s)\n", cases[i].what, e.msg);
	}
	/* duplicate id, names too long, submit in the future, nothing requested */
	{
		struct sched_job_spec js = jspec(1, 1, 1, 0);
		struct aidc_err e = {0};
		uint32_t before = sched_job_count(s);
		CHECK_EQ(sched_submit(s, &js, 0, &e), AIDC_E_EXISTS);
		memset(longname, 'x', sizeof longname - 1);
		longname[sizeof longname - 1] = 0;
		js = jspec(500, 1, 1, 0);
		js.user = longname;
		CHECK_EQ(sched_submit(s, &js, 0, &e), AIDC_E_LIMIT);
		js = jspec(501, 1, 1, 0);
		js.submit_s = 10;
		CHECK_EQ(sched_submit(s, &js, 5, &e), AIDC_E_INVAL);
		js = jspec(502, 1, 0, 0);
		js.task.cpu_milli = 0;
		js.task.mem_mib = 0;
		CHECK_EQ(sched_submit(s, &js, 5, &e), AIDC_E_INVAL);
		js = jspec(503, 1, 1, 0);
		js.flags = 0x80;
		CHECK_EQ(sched_submit(s, &js, 5, &e), AIDC_E_INVAL);
		CHECK_EQ(sched_job_count(s), before);
	}
	/* cluster-model limits */
	{
		struct aidc_err e = {0};
		struct sched_device_spec devs[AIDC_MAX_DEVICES_PER_NODE + 1] = {{0, 0}};
		struct sched_node_spec ns = {"big", 0, 0, 1000, 1024, AIDC_MAX_DEVICES_PER_NODE + 1,
					     devs};
		uint32_t nn = sched_node_count(s);
		CHECK_EQ(sched_add_node(s, &ns, &e), AIDC_E_LIMIT);
		ns.ndev = AIDC_MAX_DEVICES_PER_NODE;
		CHECK_GE(sched_add_node(s, &ns, &e), 0);
		CHECK_EQ(sched_add_node(s, &ns, &e), AIDC_E_EXISTS);
		ns.name = "badgroup";
		ns.ndev = 1;
		devs[0].group = AIDC_MAX_GROUPS_PER_NODE;
		CHECK_EQ(sched_add_node(s, &ns, &e), AIDC_E_LIMIT);
		devs[0].group = 0;
		ns.rack = AIDC_MAX_RACKS;
		CHECK_EQ(sched_add_node(s, &ns, &e), AIDC_E_LIMIT);
		ns.rack = 0;
		devs[0].model = 7;
		CHECK_EQ(sched_add_node(s, &ns, &e), AIDC_E_INVAL);
		CHECK_EQ(sched_node_count(s), nn + 1);
		for (uint32_t m = 1; m < AIDC_MAX_DEVICE_MODELS; m++) {
			char name[32];
			snprintf(name, sizeof name, "m%u", m);
			CHECK_EQ(sched_add_model(s, name, "v", 1, &e), (int)m);
		}
		CHECK_EQ(sched_add_model(s, "one-too-many", "v", 1, &e), AIDC_E_LIMIT);
		CHECK_EQ(sched_add_model(s, "gpu", "v", 1, &e), 0);
	}
	CHECK_EQ(check_invariants(s), 0);
	sched_free(s);
}

static void test_gang_all_or_nothing(void)
{
	/* 3 nodes x 4 devices. A job of 1 x 2 devices takes node 0; then a gang of
	 * 3 tasks x 3 devices cannot start (only nodes 1 and 2 hold a task) and
	 * must take nothing, while a later 2 x 2 job still starts (SKIP). */
	struct sched *s =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_SKIP, 3, 4);
	struct sched_decisions d;
	struct sched_usage u;
	int big, small;

	sched_decisions_init(&d);
	submit(s, 1, 1, 2, 0, 0);
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 1);
	big = submit(s, 2, 3, 3, 0, 0);
	small = submit(s, 3, 2, 2, 0, 0);
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 1);
	CHECK(started(&d, 3) != NULL);
	CHECK_EQ(sched_job_state(s, (uint32_t)big), SCHED_JOB_PENDING);
	CHECK_EQ(sched_job_state(s, (uint32_t)small), SCHED_JOB_RUNNING);
	CHECK_EQ(sched_job_reason(s, (uint32_t)big), SCHED_REASON_RESOURCES);
	sched_usage(s, UINT32_MAX, &u);
	CHECK_EQ(u.devs_busy, 6);
	CHECK_EQ(u.jobs_pending, 1);
	CHECK_EQ(u.jobs_running, 2);
	CHECK_EQ(check_invariants(s), 0);
	/* 1 task larger than any node never fits, and does not block STRICT queues */
	{
		struct sched *t =
		    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_STRICT, 2, 4);
		int h = submit(t, 1, 1, 5, 0, 0);
		submit(t, 2, 1, 4, 0, 0);
		CHECK_EQ(pass_count(t, 0, &d, SCHED_DECIDE_START), 1);
		CHECK_EQ(sched_job_reason(t, (uint32_t)h), SCHED_REASON_NEVER_FITS);
		sched_free(t);
	}
	sched_decisions_release(&d);
	sched_free(s);
}

static void test_fractional(void)
{
	struct sched *s =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_SKIP, 1, 2);
	struct sched_decisions d;
	uint32_t devs[8];

	sched_decisions_init(&d);
	for (uint64_t id = 1; id <= 8; id++) {
		struct sched_job_spec js = jspec(id, 1, 1, 0);
		js.task.dev_milli = 300;
		js.task.cpu_milli = 100;
		submit_spec(s, &js, 0);
	}
	/* 300 milli each: 3 per device, 6 on two devices; best fit packs device 0 first */
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 6);
	for (size_t i = 0; i < d.n && i < 8; i++)
		devs[i] = d.allocs[d.v[i].first_alloc].dev;
	CHECK_EQ(devs[0], 0);
	CHECK_EQ(devs[1], 0);
	CHECK_EQ(devs[2], 0);
	CHECK_EQ(devs[3], 1);
	CHECK_EQ(s->devs[0].free_milli, 100);
	CHECK_EQ(s->devs[1].free_milli, 100);
	CHECK_EQ(check_invariants(s), 0);
	/* a whole-device task cannot take a partly used device */
	submit(s, 100, 1, 1, 0, 0);
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 0);
	sched_decisions_release(&d);
	sched_free(s);
}

static void test_models(void)
{
	struct sched *s = mk(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_SKIP);
	struct aidc_err e = {0};
	struct sched_decisions d;
	struct sched_job_spec js;
	uint32_t node;

	sched_decisions_init(&d);
	CHECK_EQ(sched_add_model(s, "a100", "nvidia", 40960, &e), 0);
	CHECK_EQ(sched_add_model(s, "mi250", "amd", 65536, &e), 1);
	CHECK_EQ(sched_add_model(s, "h100", "nvidia", 81920, &e), 2);
	CHECK_EQ(sched_add_partition(s, "p", &e), 0);
	add_nodes(s, "a", 0, 1, 4, 0, 0, 0); /* node 0: a100 */
	add_nodes(s, "m", 0, 1, 4, 1, 0, 0); /* node 1: mi250 */
	CHECK_EQ(sched_find_model(s, "mi250"), 1);
	CHECK_EQ(sched_find_model(s, "nope"), -1);
	js = jspec(1, 1, 2, 0);
	js.task.model_mask = 1u << 1; /* mi250 only */
	submit_spec(s, &js, 0);
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 1);
	nodes_of(&d, &d.v[0], &node);
	CHECK_EQ(node, 1);
	/* alternatives: h100 (absent) or a100 -> the a100 node */
	js = jspec(2, 1, 4, 0);
	js.task.model_mask = (1u << 2) | (1u << 0);
	submit_spec(s, &js, 0);
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 1);
	nodes_of(&d, &d.v[0], &node);
	CHECK_EQ(node, 0);
	/* h100 only: never fits in this partition */
	js = jspec(3, 1, 1, 0);
	js.task.model_mask = 1u << 2;
	int h = submit_spec(s, &js, 0);
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 0);
	CHECK_EQ(sched_job_reason(s, (uint32_t)h), SCHED_REASON_NEVER_FITS);
	/* a gang never mixes models: 2 tasks x 2 devs, mask any: a100 is full, mi250 has 2 */
	js = jspec(4, 2, 2, 0);
	h = submit_spec(s, &js, 0);
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 0);
	CHECK_EQ(check_invariants(s), 0);
	sched_decisions_release(&d);
	sched_free(s);
}

static void test_node_states(void)
{
	struct sched *s =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_SKIP, 2, 4);
	struct sched_decisions d;
	struct aidc_err e = {0};
	struct sched_usage u;
	uint32_t node;
	int h;

	sched_decisions_init(&d);
	h = submit(s, 1, 1, 4, 0, 0);
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 1);
	nodes_of(&d, &d.v[0], &node);
	CHECK_EQ(node, 0);
	/* drain node 1: nothing new starts there; node 0 is busy */
	CHECK_EQ(sched_set_node_state(s, 1, SCHED_NODE_DRAINING, &e), 0);
	submit(s, 2, 1, 1, 0, 1);
	CHECK_EQ(pass_count(s, 1, &d, SCHED_DECIDE_START), 0);
	sched_usage(s, UINT32_MAX, &u);
	CHECK_EQ(u.devs_total, 8); /* draining devices still count */
	/* down with a running job is refused */
	CHECK_EQ(sched_set_node_state(s, 0, SCHED_NODE_DOWN, &e), AIDC_E_STATE);
	CHECK_EQ(sched_set_node_state(s, 1, SCHED_NODE_DOWN, &e), 0);
	sched_usage(s, UINT32_MAX, &u);
	CHECK_EQ(u.devs_total, 4);
	CHECK_EQ(sched_job_finish(s, (uint32_t)h, 2, &e), 0);
	CHECK_EQ(sched_set_node_state(s, 0, SCHED_NODE_DOWN, &e), 0);
	CHECK_EQ(pass_count(s, 2, &d, SCHED_DECIDE_START), 0);
	CHECK_EQ(sched_set_node_state(s, 1, SCHED_NODE_UP, &e), 0);
	CHECK_EQ(pass_count(s, 3, &d, SCHED_DECIDE_START), 1);
	nodes_of(&d, &d.v[0], &node);
	CHECK_EQ(node, 1);
	CHECK_EQ(check_invariants(s), 0);
	CHECK_EQ(sched_set_node_state(s, 9, SCHED_NODE_UP, &e), AIDC_E_NOTFOUND);
	sched_decisions_release(&d);
	sched_free(s);
}

static void test_lifecycle(void)
{
	struct sched *s =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_STRICT, 1, 8);
	struct sched_decisions d;
	struct aidc_err e = {0};
	int a, b, c;
	int64_t t = -1;

	sched_decisions_init(&d);
	a = submit(s, 10, 1, 8, 100, 0);
	b = submit(s, 11, 1, 4, 50, 0);
	c = submit(s, 12, 1, 4, 50, 0);
	CHECK_EQ(sched_find_job(s, 11), b);
	CHECK_EQ(sched_find_job(s, 99), -1);
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 1);
	CHECK_EQ(sched_job_reason(s, (uint32_t)b), SCHED_REASON_RESOURCES);
	CHECK_EQ(sched_job_reason(s, (uint32_t)c), SCHED_REASON_PRIORITY);
	/* will-run: b after a's limit (t = 100); nothing changes */
	CHECK_EQ(sched_place(s, (uint32_t)b, SCHED_MODE_WILL_RUN, 0, &d, &t, &e), 0);
	CHECK_EQ(t, 100);
	CHECK_EQ(d.v[d.n - 1].kind, SCHED_DECIDE_RESERVE);
	CHECK_EQ(sched_place(s, (uint32_t)b, SCHED_MODE_TEST_ONLY, 0, &d, &t, &e), AIDC_E_NOFIT);
	CHECK_EQ(sched_job_estimate(s, (uint32_t)a), 100);
	/* requeue a: FIFO puts it first again, so it restarts; its time limit
	 * counts the 10 s already run, so b will run at 10 + 90 */
	CHECK_EQ(sched_job_requeue(s, (uint32_t)a, 10, &e), 0);
	CHECK_EQ(sched_job_preemptions(s, (uint32_t)a), 1);
	CHECK_EQ(pass_count(s, 10, &d, SCHED_DECIDE_START), 1);
	CHECK(started(&d, 10) != NULL);
	CHECK_EQ(sched_place(s, (uint32_t)b, SCHED_MODE_WILL_RUN, 10, &d, &t, &e), 0);
	CHECK_EQ(t, 100);
	CHECK_EQ(sched_job_cancel(s, (uint32_t)b, 20, &e), 0);
	CHECK_EQ(sched_job_finish(s, (uint32_t)b, 20, &e), AIDC_E_NOTFOUND);
	CHECK_EQ(sched_job_finish(s, (uint32_t)c, 20, &e), AIDC_E_STATE);
	CHECK_EQ(sched_job_cancel(s, (uint32_t)c, 20, &e), 0);
	CHECK_EQ(sched_job_finish(s, (uint32_t)a, 20, &e), 0);
	CHECK_EQ(sched_job_count(s), 0);
	/* run now on a fresh job that fits */
	{
		int h = submit(s, 13, 1, 4, 0, 20);
		CHECK_EQ(sched_place(s, (uint32_t)h, SCHED_MODE_TEST_ONLY, 20, &d, &t, &e), 0);
		CHECK_EQ(sched_job_state(s, (uint32_t)h), SCHED_JOB_PENDING);
		CHECK_EQ(sched_place(s, (uint32_t)h, SCHED_MODE_RUN_NOW, 20, &d, &t, &e), 0);
		CHECK_EQ(sched_job_state(s, (uint32_t)h), SCHED_JOB_RUNNING);
		CHECK_EQ(pass_count(s, 21, &d, SCHED_DECIDE_START), 0);
	}
	CHECK_EQ(check_invariants(s), 0);
	sched_decisions_release(&d);
	sched_free(s);
}

/* A deterministic random workload driven like the simulator; returns a hash
 * of every decision and checks invariants along the way. */
static uint64_t random_run(enum sched_order o, enum sched_placement p, enum sched_blocking b,
			   uint64_t seed, int *bad)
{
	struct sched *s = cluster(o, p, b, 6, 8);
	struct sched_decisions d;
	struct aidc_rng rng;
	struct aidc_err e = {0};
	uint64_t hash = 1469598103934665603ULL;
	struct run_set run = {.n = 0};
	uint64_t id = 1;

	sched_decisions_init(&d);
	aidc_rng_seed(&rng, seed);
	for (int64_t now = 0; now < 2000; now += 5) {
		*bad += run_set_finish_due(s, &run, now);
		for (int k = (int)aidc_rng_below(&rng, 3); k > 0; k--) {
			static const uint32_t shapes[][2] = {{1, 1}, {1, 2}, {1, 4},  {2, 4},
							     {1, 8}, {3, 8}, {12, 1}, {4, 1}};
			uint32_t sh = (uint32_t)aidc_rng_below(&rng, 8);
			struct sched_job_spec js = jspec(id++, shapes[sh][0], shapes[sh][1],
							 10 + (int64_t)aidc_rng_below(&rng, 200));
			js.oracle_s = js.time_limit_s / 2 + 1;
			js.flags = SCHED_JOB_PREEMPTIBLE;
			js.user = aidc_rng_below(&rng, 2) ? "alice" : "bob";
			if (aidc_rng_below(&rng, 5) == 0) {
				js.task.dev_milli = 250 * (1 + (uint32_t)aidc_rng_below(&rng, 3));
				js.ntasks = 1;
				js.task.ndev = 1;
			}
			if (submit_spec(s, &js, now) < 0)
				(*bad)++;
		}
		if (sched_pass(s, now, &d, &e))
			(*bad)++;
		for (size_t i = 0; i < d.n; i++) {
			const struct sched_decision *x = &d.v[i];
			hash = (hash ^
				((uint64_t)x->kind << 56 ^ x->job_id ^ (uint64_t)x->at_s << 20)) *
			       1099511628211ULL;
			for (uint32_t a = 0; a < x->nalloc; a++)
				hash = (hash ^ d.allocs[x->first_alloc + a].dev) * 1099511628211ULL;
			*bad += run_set_apply(s, &run, x, now);
		}
		*bad += check_invariants(s);
	}
	sched_decisions_release(&d);
	sched_free(s);
	return hash;
}

static void test_determinism_and_invariants(void)
{
	static const struct {
		enum sched_order o;
		enum sched_placement p;
		enum sched_blocking b;
	} cfgs[] = {
	    {SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_STRICT},
	    {SCHED_ORDER_FIFO, SCHED_PLACE_HELIOS, SCHED_BLOCK_EASY},
	    {SCHED_ORDER_SJF, SCHED_PLACE_SPREAD, SCHED_BLOCK_SKIP},
	    {SCHED_ORDER_SRTF, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY},
	    {SCHED_ORDER_QSSF, SCHED_PLACE_TOPOLOGY, SCHED_BLOCK_EASY},
	    {SCHED_ORDER_TIRESIAS, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_SKIP},
	    {SCHED_ORDER_PRIORITY, SCHED_PLACE_HELIOS, SCHED_BLOCK_STRICT},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cfgs); i++) {
		int bad = 0;
		uint64_t h1 = random_run(cfgs[i].o, cfgs[i].p, cfgs[i].b, 42 + i, &bad);
		uint64_t h2 = random_run(cfgs[i].o, cfgs[i].p, cfgs[i].b, 42 + i, &bad);
		CHECK_EQ(bad, 0);
		CHECK_EQ(h1, h2);
		if (bad || h1 != h2)
			fprintf(stderr, "  config %zu\n", i);
	}
}

static void test_config(void)
{
	struct sched_config cfg;
	struct sched *s = NULL;
	struct aidc_err e = {0};
	struct sched_env env = {SCHED_ENV_VERSION + 1, NULL, NULL};

	sched_config_defaults(&cfg);
	CHECK_EQ(cfg.order, SCHED_ORDER_FIFO);
	CHECK_EQ(cfg.default_estimate_s, 3600);
	CHECK_EQ(sched_new(&cfg, &env, &s, &e), AIDC_E_VERSION);
	CHECK(s == NULL);
	cfg.placement = SCHED_PLACE_COUNT_;
	CHECK_EQ(sched_new(&cfg, NULL, &s, &e), AIDC_E_INVAL);
	sched_config_defaults(&cfg);
	cfg.default_estimate_s = 0;
	CHECK_EQ(sched_new(&cfg, NULL, &s, &e), AIDC_E_INVAL);
	sched_config_defaults(&cfg);
	CHECK_EQ(cfg.tiresias_threshold_pct, 80);
	CHECK_EQ(cfg.predict_window, 10);
	cfg.tiresias_threshold_pct = 100;
	CHECK_EQ(sched_new(&cfg, NULL, &s, &e), AIDC_E_INVAL);
	sched_config_defaults(&cfg);
	cfg.tiresias_promote_pct = 100001;
	CHECK_EQ(sched_new(&cfg, NULL, &s, &e), AIDC_E_INVAL);
	sched_free(NULL);
	CHECK_STR(sched_reason_name(SCHED_REASON_RESERVED), "reserved");
}

TEST_MAIN(TEST(test_config), TEST(test_limits), TEST(test_gang_all_or_nothing),
	  TEST(test_fractional), TEST(test_models), TEST(test_node_states), TEST(test_lifecycle),
	  TEST(test_determinism_and_invariants))
