/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Node constraints of the scheduling core (sched_job_spec.nodes and
 * .tasks_per_node, Slurm's -N and --ntasks-per-node): a table of gangs, each
 * placed under every gang placement policy, for whole-device and CPU-only
 * tasks; never-fits versus waiting; bad specs rejected with nothing changed;
 * exact restore after a controller restart (sched_job_restore).
 */
#include "sched_test_util.h"

static const enum sched_placement gang_policies[] = {SCHED_PLACE_CONSOLIDATE, SCHED_PLACE_TOPOLOGY,
						     SCHED_PLACE_SPREAD, SCHED_PLACE_HELIOS};

/* Tasks per node of a START decision, sorted descending into per[0 .. return). */
static uint32_t tasks_per_node(const struct sched_decisions *d, const struct sched_decision *x,
			       uint32_t *per, uint32_t max)
{
	uint32_t node_of[64], cnt[64], n = 0, last_task = UINT32_MAX;

	for (uint32_t i = 0; i < x->nalloc; i++) {
		const struct sched_alloc *a = &d->allocs[x->first_alloc + i];
		uint32_t k = 0;
		if (a->task == last_task)
			continue; /* a task's allocs are contiguous and on one node */
		last_task = a->task;
		while (k < n && node_of[k] != a->node)
			k++;
		if (k == n && n < 64) {
			node_of[n] = a->node;
			cnt[n++] = 0;
		}
		if (k < 64)
			cnt[k]++;
	}
	for (uint32_t i = 0; i < n; i++) /* insertion sort, descending */
		for (uint32_t k = i; k > 0 && cnt[k] > cnt[k - 1]; k--) {
			uint32_t t = cnt[k];
			cnt[k] = cnt[k - 1];
			cnt[k - 1] = t;
		}
	for (uint32_t i = 0; i < n && i < max; i++)
		per[i] = cnt[i];
	return n;
}

struct gang_case {
	const char *what;
	uint32_t ntasks, nodes, per_node;
	uint32_t want_nodes;
	uint32_t want_per[4]; /* tasks per node, descending */
	bool spread_wide;     /* SPREAD uses one node per task instead */
};

static const struct gang_case gang_cases[] = {
    {"-N 2 -n 4", 4, 2, 0, 2, {2, 2}, false},
    {"-N 2 --ntasks-per-node 2", 4, 2, 2, 2, {2, 2}, false},
    {"-n 4 --ntasks-per-node 1", 4, 0, 1, 4, {1, 1, 1, 1}, false},
    {"-N 3 -n 3", 3, 3, 0, 3, {1, 1, 1}, false},
    {"-N 2 -n 3", 3, 2, 0, 2, {2, 1}, false},
    {"-N 1 -n 4", 4, 1, 0, 1, {4}, false},
    {"-n 4 --ntasks-per-node 3", 4, 0, 3, 2, {3, 1}, true},
    {"-N 4 -n 8", 8, 4, 0, 4, {2, 2, 2, 2}, false},
};

/* 4 nodes x 4 devices, 64 CPUs each: every case fits on the empty cluster. */
static void test_gang_table(void)
{
	struct sched_decisions d;

	sched_decisions_init(&d);
	for (size_t p = 0; p < AIDC_ARRAY_LEN(gang_policies); p++) {
		for (size_t i = 0; i < AIDC_ARRAY_LEN(gang_cases); i++) {
			for (uint32_t ndev = 0; ndev <= 1; ndev++) {
				const struct gang_case *gc = &gang_cases[i];
				struct sched *s = cluster(SCHED_ORDER_FIFO, gang_policies[p],
							  SCHED_BLOCK_STRICT, 4, 4);
				struct sched_job_spec js = jspec(1, gc->ntasks, ndev, 0);
				const struct sched_decision *x;
				uint32_t per[4] = {0}, n, want_n = gc->want_nodes;
				uint32_t want[4] = {gc->want_per[0], gc->want_per[1],
						    gc->want_per[2], gc->want_per[3]};

				if (gc->spread_wide && gang_policies[p] == SCHED_PLACE_SPREAD) {
					want_n = gc->ntasks;
					for (uint32_t k = 0; k < 4; k++)
						want[k] = k < gc->ntasks;
				}

				js.nodes = gc->nodes;
				js.tasks_per_node = gc->per_node;
				CHECK(submit_spec(s, &js, 0) >= 0);
				CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 1);
				x = started(&d, 1);
				CHECK(x != NULL);
				if (!x) {
					fprintf(stderr, "  case %s ndev %u policy %zu\n", gc->what,
						ndev, p);
					sched_free(s);
					continue;
				}
				n = tasks_per_node(&d, x, per, 4);
				if (n != want_n || memcmp(per, want, sizeof per))
					fprintf(stderr,
						"  case %s ndev %u policy %zu: %u nodes, "
						"%u/%u/%u/%u per node\n",
						gc->what, ndev, p, n, per[0], per[1], per[2],
						per[3]);
				CHECK_EQ(n, want_n);
				CHECK(memcmp(per, want, sizeof per) == 0);
				CHECK_EQ(check_invariants(s), 0);
				sched_free(s);
			}
		}
	}
	sched_decisions_release(&d);
}

/* Without constraints consolidate packs; the same gang with -N 2 is split. */
static void test_constraint_changes_placement(void)
{
	struct sched *s =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_SKIP, 2, 4);
	struct sched_decisions d;
	struct sched_job_spec js = jspec(2, 2, 0, 0);

	sched_decisions_init(&d);
	submit(s, 1, 2, 0, 0, 0);
	js.nodes = 2;
	submit_spec(s, &js, 0);
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 2);
	CHECK_EQ(nodes_of(&d, started(&d, 1), NULL), 1);
	CHECK_EQ(nodes_of(&d, started(&d, 2), NULL), 2);
	sched_decisions_release(&d);
	sched_free(s);
}

/* Never fits (larger than the partition will ever offer) versus waiting. */
static void test_never_fits_and_wait(void)
{
	struct sched_decisions d;
	struct {
		uint32_t ntasks, ndev, nodes, per_node;
	} never[] = {
	    {5, 1, 5, 0}, /* 5 nodes of 4 */
	    {5, 1, 0, 1}, /* 5 distinct nodes */
	    {5, 1, 1, 0}, /* 5 devices on one node of 4 */
	    {5, 0, 0, 1}, /* CPU-only: 5 distinct nodes */
	    {9, 1, 2, 0}, /* 5 + 4 devices on 2 nodes */
	    {8, 2, 3, 0}, /* 3 x 2 devices on one node */
	};

	sched_decisions_init(&d);
	for (size_t p = 0; p < AIDC_ARRAY_LEN(gang_policies); p++) {
		for (size_t i = 0; i < AIDC_ARRAY_LEN(never); i++) {
			struct sched *s =
			    cluster(SCHED_ORDER_FIFO, gang_policies[p], SCHED_BLOCK_STRICT, 4, 4);
			struct sched_job_spec js = jspec(1, never[i].ntasks, never[i].ndev, 0);
			int h, h2;
			js.nodes = never[i].nodes;
			js.tasks_per_node = never[i].per_node;
			h = submit_spec(s, &js, 0);
			CHECK(h >= 0);
			h2 = submit(s, 2, 1, 1, 0, 0); /* not blocked by a job that never fits */
			CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 1);
			CHECK_EQ(sched_job_reason(s, (uint32_t)h), SCHED_REASON_NEVER_FITS);
			CHECK_EQ(sched_job_state(s, (uint32_t)h2), SCHED_JOB_RUNNING);
			sched_free(s);
		}
		/* Fits later: 3 of 4 nodes full, -N 2 waits (and blocks STRICT), then runs. */
		for (uint32_t ndev = 0; ndev <= 1; ndev++) {
			struct sched *s =
			    cluster(SCHED_ORDER_FIFO, gang_policies[p], SCHED_BLOCK_STRICT, 4, 4);
			struct sched_job_spec full = jspec(1, 3, 4, 0);
			struct sched_job_spec js = jspec(2, 2, ndev, 0);
			int hf, h;
			if (!ndev) {
				full.task.cpu_milli = 64000; /* CPU-only gang: fill the CPUs */
				full.tasks_per_node = 1;
			}
			hf = submit_spec(s, &full, 0);
			CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 1);
			js.nodes = 2;
			h = submit_spec(s, &js, 1);
			CHECK_EQ(pass_count(s, 1, &d, SCHED_DECIDE_START), 0);
			CHECK_EQ(sched_job_reason(s, (uint32_t)h), SCHED_REASON_RESOURCES);
			CHECK_EQ(sched_job_finish(s, (uint32_t)hf, 2, NULL), 0);
			CHECK_EQ(pass_count(s, 2, &d, SCHED_DECIDE_START), 1);
			CHECK_EQ(nodes_of(&d, started(&d, 2), NULL), 2);
			CHECK_EQ(check_invariants(s), 0);
			sched_free(s);
		}
	}
	sched_decisions_release(&d);
}

/* Bad constraints: one clear error, nothing queued. */
static void test_bad_specs(void)
{
	struct {
		enum sched_placement place;
		uint32_t ntasks, ndev, dev_milli, nodes, per_node;
		const char *msg;
	} bad[] = {
	    {SCHED_PLACE_CONSOLIDATE, 2, 1, 0, 3, 0, "3 nodes for only 2 tasks"},
	    {SCHED_PLACE_CONSOLIDATE, 5, 1, 0, 2, 2, "do not fit 2 nodes at 2 per node"},
	    {SCHED_PLACE_CONSOLIDATE, 2, 1, 0, 0, AIDC_MAX_TASKS_PER_NODE + 1, "tasks per node"},
	    {SCHED_PLACE_FGD, 2, 1, 0, 2, 0, "gang placement policy"},
	    {SCHED_PLACE_CONSOLIDATE, 2, 1, 500, 2, 0, "fractional"},
	};

	for (size_t i = 0; i < AIDC_ARRAY_LEN(bad); i++) {
		struct sched *s = cluster(SCHED_ORDER_FIFO, bad[i].place, SCHED_BLOCK_STRICT, 2, 4);
		struct sched_job_spec js = jspec(1, bad[i].ntasks, bad[i].ndev, 0);
		struct aidc_err e = {0};
		js.task.dev_milli = bad[i].dev_milli;
		js.nodes = bad[i].nodes;
		js.tasks_per_node = bad[i].per_node;
		CHECK(sched_submit(s, &js, 0, &e) < 0);
		CHECK_CONTAINS(e.msg, bad[i].msg);
		CHECK_EQ(sched_job_count(s), 0);
		sched_free(s);
	}
	/* Trivial constraints are accepted under any policy (FGD is single-task). */
	{
		struct sched *s =
		    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_FGD, SCHED_BLOCK_STRICT, 2, 4);
		struct sched_job_spec js = jspec(1, 1, 1, 0);
		js.nodes = 1;
		js.tasks_per_node = 1;
		CHECK(submit_spec(s, &js, 0) >= 0);
		sched_free(s);
	}
}

/* sched_job_restore: exact slots, the first problem reported, nothing changed. */
static void test_restore(void)
{
	struct sched *s =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_SKIP, 2, 4);
	struct sched_decisions d;
	struct aidc_err e = {0};
	const struct sched_decision *x;
	struct sched_alloc hi[2] = {{0, 0, 3, 1000}, {0, 0, 2, 1000}}; /* node 0, devs 3 and 2 */
	struct {
		struct sched_alloc a[2];
		uint32_t n;
		int rc;
		const char *msg;
	} bad[] = {
	    {{{0, 0, 99, 1000}, {0, 0, 1, 1000}}, 2, AIDC_E_NOTFOUND, "has no device 99"},
	    {{{0, 0, 5, 1000}, {0, 0, 1, 1000}}, 2, AIDC_E_NOTFOUND, "has no device 5"},
	    {{{0, 0, 2, 1000}, {0, 0, 1, 1000}}, 2, AIDC_E_STATE, "0 free"},
	    {{{0, 0, 1, 1000}, {0, 0, 0, 0}}, 1, AIDC_E_INVAL, "holds 1 allocations, not 2"},
	    {{{0, 0, 1, 1000}, {0, 1, 4, 1000}}, 2, AIDC_E_INVAL, "spans nodes"},
	    {{{1, 0, 1, 1000}, {1, 0, 0, 1000}}, 2, AIDC_E_INVAL, "task 0 has no allocation"},
	    {{{0, 7, 1, 1000}, {0, 7, 0, 1000}}, 2, AIDC_E_NOTFOUND, "no such node"},
	    {{{0, 0, 1, 1000}, {0, 0, 1, 1000}}, 2, AIDC_E_INVAL, "device 1 twice"},
	};
	int h, h2, h3;

	sched_decisions_init(&d);
	h = submit(s, 1, 1, 2, 0, 0);
	CHECK_EQ(sched_job_restore(s, (uint32_t)h, hi, 2, 0, &e), 0);
	CHECK_EQ(sched_job_state(s, (uint32_t)h), SCHED_JOB_RUNNING);
	CHECK_EQ(check_invariants(s), 0);
	CHECK_EQ(sched_job_restore(s, (uint32_t)h, hi, 2, 0, &e), AIDC_E_STATE);
	h2 = submit(s, 2, 1, 2, 0, 0);
	for (size_t i = 0; i < AIDC_ARRAY_LEN(bad); i++) {
		struct sched_usage u;
		aidc_err_clear(&e);
		CHECK_EQ(sched_job_restore(s, (uint32_t)h2, bad[i].a, bad[i].n, 0, &e), bad[i].rc);
		CHECK_CONTAINS(e.msg, bad[i].msg);
		CHECK_EQ(sched_job_state(s, (uint32_t)h2), SCHED_JOB_PENDING);
		sched_usage(s, UINT32_MAX, &u);
		CHECK_EQ(u.devs_busy, 2);
		CHECK_EQ(check_invariants(s), 0);
	}
	/* The pending job now gets the 2 free devices of node 0, never 2 or 3. */
	CHECK_EQ(pass_count(s, 1, &d, SCHED_DECIDE_START), 1);
	x = started(&d, 2);
	CHECK(x != NULL);
	for (uint32_t i = 0; x && i < x->nalloc; i++) {
		CHECK_EQ(d.allocs[x->first_alloc + i].node, 0);
		CHECK_LT(d.allocs[x->first_alloc + i].dev, 2);
	}
	/* Two tasks on two nodes in reverse order; a CPU-only task. */
	{
		struct sched_alloc two[2] = {{1, 1, 7, 1000}, {0, 1, 6, 1000}};
		struct sched_alloc cpu[1] = {{0, 1, SCHED_NO_DEVICE, 0}};
		struct sched_job_spec js = jspec(4, 1, 0, 0);
		h3 = submit(s, 3, 2, 1, 0, 0);
		CHECK_EQ(sched_job_restore(s, (uint32_t)h3, two, 2, 2, &e), 0);
		h3 = submit_spec(s, &js, 2);
		CHECK_EQ(sched_job_restore(s, (uint32_t)h3, cpu, 1, 2, &e), 0);
		CHECK_EQ(sched_job_state(s, (uint32_t)h3), SCHED_JOB_RUNNING);
		CHECK_EQ(check_invariants(s), 0);
	}
	sched_decisions_release(&d);
	sched_free(s);
}

/* A START of a constrained job keeps its constraints; returns 1 when not. */
static int start_ok(const struct sched *s, const struct sched_decisions *d,
		    const struct sched_decision *x, uint32_t nodes, uint32_t per_node)
{
	uint32_t per[64] = {0}, n = tasks_per_node(d, x, per, 64);
	uint32_t ntasks = s->jobs[x->job].ntasks;

	if (nodes &&
	    (n != nodes || per[0] != (ntasks + nodes - 1) / nodes || per[n - 1] != ntasks / nodes))
		return 1;
	if (per_node && per[0] > per_node)
		return 1;
	return 0;
}

/* A deterministic random workload of constrained and plain gangs: every start
 * keeps its job's constraints, the bookkeeping stays exact, and two runs give
 * the same decisions (hash). */
static uint64_t random_constrained(enum sched_order o, enum sched_placement p,
				   enum sched_blocking b, uint64_t seed, int *bad, uint32_t *ncons)
{
	struct sched *s = cluster(o, p, b, 6, 8);
	struct sched_decisions d;
	struct aidc_rng rng;
	struct aidc_err e = {0};
	uint64_t hash = 1469598103934665603ULL, id = 1;
	uint32_t cons[4096][2] = {{0}};
	struct run_set run = {.n = 0};

	sched_decisions_init(&d);
	aidc_rng_seed(&rng, seed);
	for (int64_t now = 0; now < 1500; now += 5) {
		*bad += run_set_finish_due(s, &run, now);
		for (int k = (int)aidc_rng_below(&rng, 3); k > 0 && id < 4096; k--) {
			uint32_t nt = 1 + (uint32_t)aidc_rng_below(&rng, 12);
			uint32_t nd = (uint32_t)aidc_rng_below(&rng, 4);
			struct sched_job_spec js =
			    jspec(id, nt, nd, 10 + (int64_t)aidc_rng_below(&rng, 200));
			switch (aidc_rng_below(&rng, 3)) {
			case 0:
				js.nodes = 1 + (uint32_t)aidc_rng_below(&rng, nt);
				break;
			case 1:
				js.tasks_per_node = 1 + (uint32_t)aidc_rng_below(&rng, 4);
				break;
			default:
				break;
			}
			if (!nd)
				js.task.cpu_milli = 4000 * (1 + (uint32_t)aidc_rng_below(&rng, 8));
			js.oracle_s = js.time_limit_s / 2 + 1;
			js.priority = (int32_t)aidc_rng_below(&rng, 3);
			js.flags = aidc_rng_below(&rng, 2) ? SCHED_JOB_PREEMPTIBLE : 0;
			cons[id][0] = js.nodes;
			cons[id][1] = js.tasks_per_node;
			*bad += submit_spec(s, &js, now) < 0;
			id++;
		}
		*bad += sched_pass(s, now, &d, &e) != 0;
		for (size_t i = 0; i < d.n; i++) {
			const struct sched_decision *x = &d.v[i];
			hash = (hash ^
				((uint64_t)x->kind << 56 ^ x->job_id ^ (uint64_t)x->at_s << 20)) *
			       1099511628211ULL;
			for (uint32_t a = 0; a < x->nalloc; a++)
				hash = (hash ^ d.allocs[x->first_alloc + a].node << 8 ^
					d.allocs[x->first_alloc + a].dev) *
				       1099511628211ULL;
			if (x->kind == SCHED_DECIDE_START && run.n < RUN_SET_MAX) {
				if (start_ok(s, &d, x, cons[x->job_id][0], cons[x->job_id][1])) {
					fprintf(stderr, "  job %" PRIu64 " broke its constraints\n",
						x->job_id);
					(*bad)++;
				}
				*ncons += (s->jobs[x->job].nnodes > 1 || s->jobs[x->job].per_node);
			}
			*bad += run_set_apply(s, &run, x, now);
		}
		*bad += check_invariants(s);
	}
	sched_decisions_release(&d);
	sched_free(s);
	return hash;
}

static void test_random_constrained(void)
{
	static const struct {
		enum sched_order o;
		enum sched_blocking b;
	} cfgs[] = {
	    {SCHED_ORDER_FIFO, SCHED_BLOCK_STRICT},
	    {SCHED_ORDER_FIFO, SCHED_BLOCK_EASY},
	    {SCHED_ORDER_PRIORITY, SCHED_BLOCK_SKIP},
	};
	for (size_t p = 0; p < AIDC_ARRAY_LEN(gang_policies); p++) {
		for (size_t i = 0; i < AIDC_ARRAY_LEN(cfgs); i++) {
			int bad = 0;
			uint32_t n1 = 0, n2 = 0;
			uint64_t h1 = random_constrained(cfgs[i].o, gang_policies[p], cfgs[i].b,
							 7 + i, &bad, &n1);
			uint64_t h2 = random_constrained(cfgs[i].o, gang_policies[p], cfgs[i].b,
							 7 + i, &bad, &n2);
			CHECK_EQ(bad, 0);
			CHECK_GE(n1, 10); /* the constraints were exercised */
			CHECK_EQ(n1, n2);
			CHECK_EQ(h1, h2);
			if (bad || h1 != h2)
				fprintf(stderr, "  policy %zu config %zu\n", p, i);
		}
	}
}

/* Nodes of a START decision as a bit mask (nodes < 64). */
static uint64_t node_bits(const struct sched_decisions *d, const struct sched_decision *x)
{
	uint64_t m = 0;

	for (uint32_t i = 0; x && i < x->nalloc; i++)
		m |= 1ull << d->allocs[x->first_alloc + i].node;
	return m;
}

/* Exclusive jobs (Slurm --exclusive): they start only on nodes without tasks,
 * no other job shares their nodes while they run, and one that finds every
 * node busy waits (Resources, not never-fits) until a node empties. */
static void test_exclusive_one(enum sched_placement p, uint32_t ndev, struct sched_decisions *d)
{
	struct sched *s = cluster(SCHED_ORDER_FIFO, p, SCHED_BLOCK_SKIP, 4, 4);
	struct sched_job_spec a = jspec(1, 1, ndev, 0), b = jspec(2, 2, ndev, 0);
	struct sched_job_spec c = jspec(3, 6, ndev, 0), w = jspec(4, 1, ndev, 0);
	uint64_t ma, mb, mc;
	int hc, hw;

	b.task.exclusive = true;
	c.tasks_per_node = 3;
	w.task.exclusive = true;
	CHECK(submit_spec(s, &a, 0) >= 0);
	CHECK_EQ(pass_count(s, 0, d, SCHED_DECIDE_START), 1);
	ma = node_bits(d, started(d, 1));
	CHECK(submit_spec(s, &b, 1) >= 0);
	CHECK_EQ(pass_count(s, 1, d, SCHED_DECIDE_START), 1);
	mb = node_bits(d, started(d, 2));
	CHECK(mb != 0 && (ma & mb) == 0);
	/* 6 tasks at most 3 per node: not on b's nodes even where they have room. */
	hc = submit_spec(s, &c, 2);
	CHECK(hc >= 0);
	(void)pass_count(s, 2, d, SCHED_DECIDE_START);
	mc = node_bits(d, started(d, 3));
	CHECK_EQ(mc & mb, 0);
	/* Every node now holds a task: an exclusive job waits. */
	if (!mc) {
		CHECK_EQ(sched_job_cancel(s, (uint32_t)hc, 3, NULL), 0);
		c = jspec(3, 4, ndev, 0);
		c.tasks_per_node = 1;
		hc = submit_spec(s, &c, 3);
		(void)pass_count(s, 3, d, SCHED_DECIDE_START);
	}
	hw = submit_spec(s, &w, 4);
	CHECK(hw >= 0);
	(void)pass_count(s, 4, d, SCHED_DECIDE_START);
	if (sched_job_state(s, (uint32_t)hw) == SCHED_JOB_PENDING) {
		CHECK_EQ(sched_job_reason(s, (uint32_t)hw), SCHED_REASON_RESOURCES);
		CHECK_EQ(sched_job_cancel(s, (uint32_t)hc, 5, NULL), 0);
		CHECK_EQ(sched_job_finish(s, (uint32_t)sched_find_job(s, 1), 5, NULL), 0);
		CHECK_EQ(pass_count(s, 5, d, SCHED_DECIDE_START), 1);
	}
	CHECK_EQ(sched_job_state(s, (uint32_t)hw), SCHED_JOB_RUNNING);
	CHECK_EQ(check_invariants(s), 0);
	sched_free(s);
}

static void test_exclusive(void)
{
	struct sched_decisions d;
	struct sched_job_spec js = jspec(9, 2, 1, 0);
	struct aidc_err e = {0};
	struct sched *s;
	uint64_t m9;

	sched_decisions_init(&d);
	for (size_t p = 0; p < AIDC_ARRAY_LEN(gang_policies); p++)
		for (uint32_t ndev = 0; ndev <= 1; ndev++)
			test_exclusive_one(gang_policies[p], ndev, &d);
	/* A gang of exclusive tasks needs a gang placement policy. */
	s = cluster(SCHED_ORDER_FIFO, SCHED_PLACE_FGD, SCHED_BLOCK_STRICT, 2, 4);
	js.task.exclusive = true;
	CHECK_EQ(sched_submit(s, &js, 0, &e), AIDC_E_INVAL);
	CHECK(strstr(e.msg, "exclusive") != NULL);
	CHECK_EQ(sched_job_count(s), 0);
	js.ntasks = 1; /* one task: any policy */
	CHECK(sched_submit(s, &js, 0, &e) >= 0);
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 1);
	m9 = node_bits(&d, started(&d, 9));
	js.id = 10;
	js.task.exclusive = false;
	CHECK(sched_submit(s, &js, 0, &e) >= 0);
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 1);
	CHECK(m9 != 0 && (node_bits(&d, started(&d, 10)) & m9) == 0);
	sched_free(s);
	sched_decisions_release(&d);
}

/* EASY: an exclusive head's reserved node is held whole, so a job that would
 * outlive the shadow time cannot start there and leave it non-empty. */
static void test_exclusive_easy(void)
{
	struct sched_decisions d;
	struct sched *s = cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_EASY, 2, 4);
	struct sched_job_spec h = jspec(3, 1, 1, 10), b = jspec(4, 1, 1, 1000);
	int hl1, hh, hb;

	sched_decisions_init(&d);
	hl1 = submit(s, 1, 1, 1, 100, 0); /* node 0, ends at 100 */
	CHECK(submit(s, 2, 4, 1, 200, 0) >= 0); /* fills node 1 until 200 */
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 2);
	h.task.exclusive = true;
	hh = submit_spec(s, &h, 1);
	hb = submit_spec(s, &b, 1);
	CHECK(hh >= 0 && hb >= 0);
	CHECK_EQ(pass_count(s, 1, &d, SCHED_DECIDE_START), 0);
	CHECK_EQ(sched_job_reason(s, (uint32_t)hh), SCHED_REASON_RESOURCES);
	CHECK_EQ(sched_job_reason(s, (uint32_t)hb), SCHED_REASON_RESERVED);
	CHECK_EQ(sched_job_finish(s, (uint32_t)hl1, 100, NULL), 0);
	CHECK_EQ(pass_count(s, 100, &d, SCHED_DECIDE_START), 1);
	CHECK_EQ(sched_job_state(s, (uint32_t)hh), SCHED_JOB_RUNNING);
	CHECK_EQ(sched_job_state(s, (uint32_t)hb), SCHED_JOB_PENDING);
	CHECK_EQ(check_invariants(s), 0);
	sched_free(s);
	sched_decisions_release(&d);
}

TEST_MAIN(TEST(test_gang_table), TEST(test_constraint_changes_placement),
	  TEST(test_never_fits_and_wait), TEST(test_bad_specs), TEST(test_restore),
	  TEST(test_random_constrained), TEST(test_exclusive),
	  TEST(test_exclusive_easy))
