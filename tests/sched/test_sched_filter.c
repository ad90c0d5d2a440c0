/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Node filters of the scheduling core (sched_job_spec include_nodes /
 * exclude_nodes, Slurm's -w/--nodelist and -x/--exclude): every placement
 * policy (gang, fractional-share and fractional policies) honors them for
 * whole-device, shared-device and CPU-only tasks; never-fits counts only the
 * nodes a filter leaves (and learns of nodes added later); a filtered job's
 * failure does not enter the failed-shape memo, so an unfiltered job of the
 * same shape behind it still starts; bad ids are refused with nothing changed.
 */
#include "sched_test_util.h"

static const enum sched_placement all_policies[] = {
    SCHED_PLACE_CONSOLIDATE, SCHED_PLACE_TOPOLOGY, SCHED_PLACE_SPREAD, SCHED_PLACE_HELIOS,
    SCHED_PLACE_RANDOM,	     SCHED_PLACE_BESTFIT,  SCHED_PLACE_FGD,    SCHED_PLACE_AIDC_FRAG};

static bool gang_policy(enum sched_placement p)
{
	return p == SCHED_PLACE_CONSOLIDATE || p == SCHED_PLACE_TOPOLOGY ||
	       p == SCHED_PLACE_SPREAD || p == SCHED_PLACE_HELIOS;
}

/* Nodes of a START decision as a bit mask (nodes < 64). */
static uint64_t node_bits(const struct sched_decisions *d, const struct sched_decision *x)
{
	uint64_t m = 0;

	for (uint32_t i = 0; x && i < x->nalloc; i++)
		m |= 1ull << d->allocs[x->first_alloc + i].node;
	return m;
}

/* Kinds of task: CPU-only, one whole device, half a device. */
static struct sched_job_spec kind_spec(uint64_t id, uint32_t ntasks, int kind)
{
	struct sched_job_spec js = jspec(id, ntasks, kind ? 1 : 0, 0);

	if (kind == 2)
		js.task.dev_milli = 500;
	return js;
}

/* One policy and task kind: include picks the listed node, exclude avoids the
 * listed ones, both together leave their difference; gangs with nodes = the
 * list's size use every listed node. */
static void one_policy(enum sched_placement p, int kind, struct sched_decisions *d)
{
	struct sched *s = cluster(SCHED_ORDER_FIFO, p, SCHED_BLOCK_SKIP, 4, 4);
	static const uint32_t in2[] = {2}, ex012[] = {0, 1, 2, 0}, in13[] = {3, 1, 3};
	static const uint32_t in123[] = {1, 2, 3}, ex2[] = {2};
	struct sched_job_spec a = kind_spec(1, 1, kind), b = kind_spec(2, 1, kind);
	struct sched_job_spec c = kind_spec(3, 1, kind), g = kind_spec(4, 2, kind);

	a.include_nodes = in2;
	a.ninclude = 1;
	b.exclude_nodes = ex012;
	b.nexclude = 4;
	c.include_nodes = in123;
	c.ninclude = 3;
	c.exclude_nodes = ex2;
	c.nexclude = 1;
	CHECK(submit_spec(s, &a, 0) >= 0 && submit_spec(s, &b, 0) >= 0);
	CHECK(submit_spec(s, &c, 0) >= 0);
	CHECK_EQ(pass_count(s, 0, d, SCHED_DECIDE_START), 3);
	CHECK_EQ(node_bits(d, started(d, 1)), 1ull << 2);
	CHECK_EQ(node_bits(d, started(d, 2)), 1ull << 3);
	CHECK_EQ(node_bits(d, started(d, 3)) & ~(1ull << 1 | 1ull << 3), 0);
	if (gang_policy(p) && kind != 2) {
		g.include_nodes = in13;
		g.ninclude = 3;
		g.nodes = 2;
		CHECK(submit_spec(s, &g, 1) >= 0);
		CHECK_EQ(pass_count(s, 1, d, SCHED_DECIDE_START), 1);
		CHECK_EQ(node_bits(d, started(d, 4)), 1ull << 1 | 1ull << 3);
	}
	CHECK_EQ(check_invariants(s), 0);
	sched_free(s);
}

static void test_policies(void)
{
	struct sched_decisions d;

	sched_decisions_init(&d);
	for (size_t p = 0; p < AIDC_ARRAY_LEN(all_policies); p++)
		for (int kind = 0; kind < 3; kind++) {
			int before = test_failures_;
			one_policy(all_policies[p], kind, &d);
			if (test_failures_ != before)
				fprintf(stderr, "  policy %d kind %d\n", (int)all_policies[p],
					kind);
		}
	sched_decisions_release(&d);
}

/* Adds one node of ndev devices of model 0 to partition part. */
static void add_one(struct sched *s, const char *name, uint32_t part, uint32_t ndev)
{
	struct sched_device_spec devs[8] = {{0, 0}};
	struct sched_node_spec ns = {name, part, 0, 64000, 512 * 1024, ndev, devs};
	struct aidc_err e = {0};

	CHECK(sched_add_node(s, &ns, &e) >= 0);
}

/* Never-fits looks only at the nodes a filter leaves: nodes 0, 1 have 4
 * devices, node 2 has 8, node 3 (8) is in another partition. */
static void test_never_fits(void)
{
	struct sched_decisions d;
	struct sched *s =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_SKIP, 2, 4);
	static const uint32_t ex2[] = {2}, in2[] = {2}, in3[] = {3}, in01[] = {0, 1}, in0[] = {0};
	struct sched_job_spec x = jspec(1, 1, 8, 0), w = jspec(2, 1, 8, 0), o = jspec(3, 1, 1, 0);
	struct sched_job_spec g = jspec(4, 2, 4, 0), g1 = jspec(5, 2, 4, 0);
	struct aidc_err e = {0};
	int hx, ho, hg1;

	sched_decisions_init(&d);
	add_one(s, "big", 0, 8);
	CHECK_EQ(sched_add_partition(s, "q", &e), 1);
	add_one(s, "other", 1, 8);
	x.exclude_nodes = ex2;
	x.nexclude = 1;
	w.include_nodes = in2;
	w.ninclude = 1;
	o.include_nodes = in3; /* a node of another partition */
	o.ninclude = 1;
	g.include_nodes = in01;
	g.ninclude = 2;
	g.nodes = 2;
	g1.include_nodes = in0; /* 8 devices on a 4-device node */
	g1.ninclude = 1;
	g1.nodes = 1;
	hx = submit_spec(s, &x, 0);
	ho = submit_spec(s, &o, 0);
	hg1 = submit_spec(s, &g1, 0);
	CHECK(hx >= 0 && ho >= 0 && hg1 >= 0);
	CHECK(submit_spec(s, &w, 0) >= 0 && submit_spec(s, &g, 0) >= 0);
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 2);
	CHECK(started(&d, 2) != NULL && started(&d, 4) != NULL);
	CHECK_EQ(sched_job_reason(s, (uint32_t)hx), SCHED_REASON_NEVER_FITS);
	CHECK_EQ(sched_job_reason(s, (uint32_t)ho), SCHED_REASON_NEVER_FITS);
	CHECK_EQ(sched_job_reason(s, (uint32_t)hg1), SCHED_REASON_NEVER_FITS);
	/* A node added later counts for an exclude list (the answer is not kept). */
	add_one(s, "big2", 0, 8);
	CHECK_EQ(pass_count(s, 1, &d, SCHED_DECIDE_START), 1);
	CHECK_EQ(node_bits(&d, started(&d, 1)), 1ull << 4);
	CHECK_EQ(sched_job_reason(s, (uint32_t)ho), SCHED_REASON_NEVER_FITS);
	CHECK_EQ(check_invariants(s), 0);
	sched_free(s);
	sched_decisions_release(&d);
}

/* The memo case: a filtered job that fails (its only node is busy) must not
 * mark its shape as failing, or the unfiltered job of the same shape queued
 * behind it would wait although node 1 is free. The other way round is sound
 * and stays: an unfiltered failure rejects a filtered job of its shape. */
static void test_memo(void)
{
	struct sched_decisions d;
	struct sched *s =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_SKIP, 2, 4);
	static const uint32_t in0[] = {0}, ex1[] = {1};
	struct sched_job_spec f = jspec(2, 1, 4, 0), u = jspec(3, 1, 4, 0), f2 = jspec(4, 1, 4, 0);
	int hf, hu, hf2;

	sched_decisions_init(&d);
	CHECK(submit(s, 1, 1, 4, 0, 0) >= 0); /* fills node 0 */
	CHECK_EQ(pass_count(s, 0, &d, SCHED_DECIDE_START), 1);
	CHECK_EQ(node_bits(&d, started(&d, 1)), 1ull << 0);
	f.include_nodes = in0;
	f.ninclude = 1;
	hf = submit_spec(s, &f, 1);
	hu = submit_spec(s, &u, 1);
	CHECK(hf >= 0 && hu >= 0);
	CHECK_EQ(pass_count(s, 1, &d, SCHED_DECIDE_START), 1);
	CHECK_EQ(sched_job_state(s, (uint32_t)hf), SCHED_JOB_PENDING);
	CHECK_EQ(sched_job_reason(s, (uint32_t)hf), SCHED_REASON_RESOURCES);
	CHECK_EQ(node_bits(&d, started(&d, 3)), 1ull << 1);
	/* Both nodes full now: an unfiltered job of the shape fails first, then a
	 * filtered one of it waits too (resources, not never-fits). */
	CHECK(submit(s, 5, 1, 4, 0, 2) >= 0);
	f2.exclude_nodes = ex1;
	f2.nexclude = 1;
	hf2 = submit_spec(s, &f2, 2);
	CHECK(hf2 >= 0);
	CHECK_EQ(pass_count(s, 2, &d, SCHED_DECIDE_START), 0);
	CHECK_EQ(sched_job_reason(s, (uint32_t)hf2), SCHED_REASON_RESOURCES);
	CHECK_EQ(sched_job_finish(s, (uint32_t)sched_find_job(s, 1), 3, NULL), 0);
	CHECK_EQ(pass_count(s, 3, &d, SCHED_DECIDE_START), 1);
	CHECK_EQ(sched_job_state(s, (uint32_t)hf), SCHED_JOB_RUNNING);
	CHECK_EQ(node_bits(&d, started(&d, 2)), 1ull << 0);
	CHECK_EQ(check_invariants(s), 0);
	sched_free(s);
	sched_decisions_release(&d);
}

/* Bad ids and lists are refused and change nothing. */
static void test_bad(void)
{
	struct sched *s =
	    cluster(SCHED_ORDER_FIFO, SCHED_PLACE_CONSOLIDATE, SCHED_BLOCK_SKIP, 2, 4);
	static const uint32_t bad[] = {1, 2};
	struct sched_job_spec js = jspec(1, 1, 1, 0);
	struct aidc_err e = {0};

	js.include_nodes = bad;
	js.ninclude = 2;
	CHECK_EQ(sched_submit(s, &js, 0, &e), AIDC_E_INVAL);
	CHECK(strstr(e.msg, "node id 2") != NULL);
	js.include_nodes = NULL;
	js.ninclude = 0;
	js.nexclude = 1; /* no array */
	CHECK_EQ(sched_submit(s, &js, 0, &e), AIDC_E_INVAL);
	CHECK_EQ(sched_job_count(s), 0);
	sched_free(s);
}

TEST_MAIN(TEST(test_policies), TEST(test_never_fits), TEST(test_memo), TEST(test_bad))
