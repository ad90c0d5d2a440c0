/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the fractional placement policies (src/sched/frag.c) on
 * hand-built clusters (frag_harness.h): hand-computed fragmentation values and
 * placements, model constraints, whole devices never shared, CPU and memory
 * bounds, GpuClustering's task kinds (hand-computed, and the core's per-node
 * kind counts against its running jobs), workload validation, and a randomized
 * invariant and determinism check over all seven policies.
 */
#include "../test.h"
#include "frag_harness.h"

#undef printf
#undef fprintf

static const enum sched_placement all_policies[] = {
	SCHED_PLACE_RANDOM,	 SCHED_PLACE_DOTPROD, SCHED_PLACE_GPU_CLUSTERING,
	SCHED_PLACE_GPU_PACKING, SCHED_PLACE_BESTFIT, SCHED_PLACE_FGD,
	SCHED_PLACE_AIDC_FRAG,
};

static struct sched_req req(uint32_t cpu, uint64_t mem, uint32_t ndev, uint32_t milli,
			    uint64_t mask)
{
	return (struct sched_req){cpu, mem, ndev, milli, mask, false};
}

static void set_one_type(struct sched *s, struct sched_req r)
{
	struct sched_task_type t = {r, 1.0};
	struct aidc_err e = {0};
	CHECK_EQ(sched_set_workload(s, &t, 1, &e), 0);
}

/* Fragmentation by hand: one shape needing 500 milli of one GPU. */
static void test_frag_values(void)
{
	struct sched *s = fh_new(SCHED_PLACE_FGD, 1);
	fh_node(s, 8000, 64000, 2, 0);
	set_one_type(s, req(1000, 0, 1, 500, 0));
	CHECK(sched_fragmentation(s, UINT32_MAX) == 0.0); /* both GPUs can host it */
	struct sched_req r = req(1000, 0, 1, 700, 0);
	struct sched_alloc out[AIDC_MAX_DEVICES_PER_NODE];
	CHECK_EQ(fh_place(s, &r, out), 0);
	/* free [300, 1000]: the 300 left on the used GPU cannot serve a 500 share */
	CHECK_EQ((long long)sched_fragmentation(s, UINT32_MAX), 300);
	/* a CPU-starved node: every free share is fragmented */
	s->nodes[0].cpu_free_milli = 500;
	s->nodes[0].gen++;
	CHECK_EQ((long long)sched_fragmentation(s, UINT32_MAX), 1300);
	fh_free(s);
}

/* FGD picks the GPU that keeps the rest usable; best fit picks the tightest. */
static void test_gpu_choice(void)
{
	struct sched_alloc out[AIDC_MAX_DEVICES_PER_NODE];
	static const struct {
		enum sched_placement p;
		uint32_t want_dev;
	} cases[] = {
		{SCHED_PLACE_FGD, 1},     /* [600,1000] -> [600,500]: nothing fragmented */
		{SCHED_PLACE_AIDC_FRAG, 1},
		{SCHED_PLACE_BESTFIT, 0}, /* [600,1000] -> [100,1000]: tightest fit */
		{SCHED_PLACE_GPU_PACKING, 0},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		struct sched *s = fh_new(cases[i].p, 7);
		fh_node(s, 8000, 64000, 2, 0);
		set_one_type(s, req(100, 0, 1, 500, 0));
		struct sched_req first = req(100, 0, 1, 400, 0);
		CHECK_EQ(fh_place(s, &first, out), 0);
		CHECK_EQ(out[0].dev, 0); /* the empty node: both policies start on GPU 0 */
		struct sched_req r = req(100, 0, 1, 500, 0);
		CHECK_EQ(fh_place(s, &r, out), 0);
		if (out[0].dev != cases[i].want_dev)
			fprintf(stderr, "policy %d: GPU %u, want %u\n", cases[i].p, out[0].dev,
				cases[i].want_dev);
		CHECK_EQ(out[0].dev, cases[i].want_dev);
		CHECK_EQ(out[0].milli, 500);
		fh_free(s);
	}
}

/* FGD picks the node where the share fills a fragment (delta -500), not the
 * idle one where it would break a whole GPU (delta +500). */
static void test_node_choice(void)
{
	struct sched_alloc out[AIDC_MAX_DEVICES_PER_NODE];
	struct sched *s = fh_new(SCHED_PLACE_FGD, 3);
	fh_node(s, 8000, 64000, 1, 0); /* node 0: idle GPU */
	fh_node(s, 8000, 64000, 1, 0); /* node 1: GPU with 500 left */
	set_one_type(s, req(100, 0, 1, 1000, 0));
	s->devs[1].free_milli = 500;
	s->devs[1].ntasks = 1;
	s->nodes[1].ndev_free = 0;
	s->nodes[1].gen++;
	CHECK_EQ((long long)sched_fragmentation(s, UINT32_MAX), 500);
	struct sched_req r = req(100, 0, 1, 500, 0);
	CHECK_EQ(fh_place(s, &r, out), 1);
	CHECK_EQ((long long)sched_fragmentation(s, UINT32_MAX), 0);
	fh_free(s);
}

/* Model masks, whole devices, CPU and memory: table of (request, expected node). */
static void test_constraints(void)
{
	static const struct {
		struct sched_req r;
		int want; /* node id, or AIDC_E_NOFIT */
	} cases[] = {
		{{100, 100, 1, 1000, 1u << 1, false}, 1},        /* model 1 only on node 1 */
		{{100, 100, 1, 500, 1u << 0, false}, 0},             /* model 0: node 0's GPUs */
		{{100, 100, 1, 500, 1u << 5, false}, AIDC_E_NOFIT},  /* a model no node has */
		{{100, 100, 2, 1000, 1u << 0, false}, AIDC_E_NOFIT}, /* node 0 has one idle GPU left */
		{{9000, 100, 0, 0, 0, false}, AIDC_E_NOFIT},         /* more CPU than any node */
		{{100, 70000, 1, 100, 0, false}, AIDC_E_NOFIT},      /* more memory than any node */
		{{200, 100, 0, 0, 0, false}, 0},                     /* CPU-only task: node 1 lacks CPU */
	};
	for (size_t p = 0; p < AIDC_ARRAY_LEN(all_policies); p++) {
		for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
			struct sched *s = fh_new(all_policies[p], 11);
			fh_node(s, 8000, 64000, 2, 0);
			fh_node(s, 8000, 64000, 1, 1);
			s->nodes[1].cpu_free_milli = 150;
			set_one_type(s, req(100, 0, 1, 500, 0));
			s->devs[0].free_milli = 600; /* node 0: GPU 0 shared, GPU 1 idle */
			s->devs[0].ntasks = 1;
			s->nodes[0].ndev_free = 1;
			s->nodes[0].gen++;
			struct sched_alloc out[AIDC_MAX_DEVICES_PER_NODE];
			int got = fh_place(s, &cases[i].r, out);
			if (got != cases[i].want)
				fprintf(stderr, "policy %d case %zu: got %d want %d\n",
					all_policies[p], i, got, cases[i].want);
			CHECK_EQ(got, cases[i].want);
			if (got >= 0 && cases[i].r.ndev == 0)
				CHECK_EQ(out[0].dev, SCHED_NO_DEVICE);
			if (got >= 0 && cases[i].r.dev_milli == 1000)
				CHECK_NE(out[0].dev, 0); /* never the shared GPU */
			fh_free(s);
		}
	}
}

/* Occupies devices first .. first+ndev-1 of node n with one task of ndev x milli,
 * as the core would (fh_apply: free shares, device and kind counts). */
static void occupy(struct sched *s, uint32_t n, uint32_t first, uint32_t ndev, uint32_t milli)
{
	struct sched_alloc a[AIDC_MAX_DEVICES_PER_NODE];
	for (uint32_t i = 0; i < ndev; i++)
		a[i] = (struct sched_alloc){0, n, s->nodes[n].first_dev + first + i, milli};
	struct sched_req r = req(100, 0, ndev, milli, 0);
	fh_apply(s, &r, a, (int)ndev);
}

/*
 * GpuClustering by hand: the kinds are a share or k whole GPUs, so a node
 * running a 1-GPU task and one running a 2-GPU task are different neighbours.
 * Four nodes of 4 GPUs; score = 25 x (8000 - free GPU milli) / 8000 (integer)
 * + 75 (only the request's kind present) / 50 (it and others) / 25 (idle) / 0:
 *   node 0: one 2-GPU task       free 2000, base 18, kinds {2}
 *   node 1: one 1-GPU task       free 3000, base 15, kinds {1}
 *   node 2: idle                 free 4000, base 12, kinds {}
 *   node 3: 1-GPU task + a 500   free 2500, base 17, kinds {1, share}
 * A kind-blind rule (share versus whole only) would send the 1-GPU task to
 * node 0 (93 > 90) and the 3-GPU task to node 1 (90 > 37).
 */
static void test_clustering_kinds(void)
{
	static const struct {
		struct sched_req r;
		int want;
		int64_t why; /* the winner's score, for the failure message */
	} cases[] = {
		{{100, 0, 1, 1000, 0, false}, 1, 90}, /* 18, 90, 37, 67 */
		{{100, 0, 2, 1000, 0, false}, 0, 93}, /* 93, 15, 37, 17 */
		{{100, 0, 3, 1000, 0, false}, 2, 37}, /* node 1: 15, node 2: 37 (others too full) */
		{{100, 0, 1, 300, 0, false}, 3, 67},  /* 18, 15, 37, 67 */
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		struct sched *s = fh_new(SCHED_PLACE_GPU_CLUSTERING, 13 + i);
		for (int n = 0; n < 4; n++)
			fh_node(s, 64000, 256000, 4, 0);
		occupy(s, 0, 0, 2, 1000);
		occupy(s, 1, 0, 1, 1000);
		occupy(s, 3, 0, 1, 1000);
		occupy(s, 3, 1, 1, 500);
		CHECK_EQ(s->nodes[3].nkinds, 2);
		CHECK_EQ(s->nodes[3].ntasks_kind[0], 1);
		CHECK_EQ(s->nodes[3].ntasks_kind[1], 1);
		struct sched_alloc out[AIDC_MAX_DEVICES_PER_NODE];
		int got = fh_place(s, &cases[i].r, out);
		if (got != cases[i].want)
			fprintf(stderr, "case %zu: node %d, want node %d (score %lld)\n", i, got,
				cases[i].want, (long long)cases[i].why);
		CHECK_EQ(got, cases[i].want);
		fh_free(s);
	}
}

/*
 * The core keeps node->ntasks_kind and node->nkinds in step with the running
 * jobs through placements and finishes (index.c), gangs counted per task,
 * CPU-only tasks not at all: a seeded sequence of submits and finishes under
 * GpuClustering, recounted from the running jobs' allocations after each step.
 */
static int recount_kinds(const struct sched *s)
{
	int bad = 0;
	for (uint32_t n = 0; n < s->nnodes; n++) {
		uint32_t want[AIDC_MAX_DEVICES_PER_NODE + 1] = {0};
		uint32_t kinds = 0;
		for (uint32_t h = 0; h < s->njob_slots; h++) {
			const struct sched_job *j = &s->jobs[h];
			if (!j->live || !j->running || j->task.ndev == 0)
				continue;
			uint32_t k = j->task.ndev == 1 && j->task.dev_milli < 1000 ? 0 : j->task.ndev;
			for (uint32_t i = 0; i < j->nalloc; i++)
				if (j->allocs[i].node == n &&
				    (i == 0 || j->allocs[i].task != j->allocs[i - 1].task))
					want[k]++;
		}
		for (uint32_t k = 0; k <= AIDC_MAX_DEVICES_PER_NODE; k++) {
			kinds += want[k] > 0;
			if (want[k] != s->nodes[n].ntasks_kind[k]) {
				fprintf(stderr, "node %u kind %u: %u tasks counted, %u running\n", n,
					k, s->nodes[n].ntasks_kind[k], want[k]);
				bad++;
			}
		}
		if (kinds != s->nodes[n].nkinds) {
			fprintf(stderr, "node %u: nkinds %u, want %u\n", n, s->nodes[n].nkinds, kinds);
			bad++;
		}
	}
	return bad;
}

static void test_core_kind_counts(void)
{
	struct sched_config cfg;
	sched_config_defaults(&cfg);
	cfg.placement = SCHED_PLACE_GPU_CLUSTERING;
	cfg.seed = 3;
	struct sched *s = NULL;
	struct aidc_err e = {0};
	CHECK_EQ(sched_new(&cfg, NULL, &s, &e), 0);
	CHECK_EQ(sched_add_model(s, "gpu", "v", 16384, &e), 0);
	CHECK_EQ(sched_add_partition(s, "p", &e), 0);
	struct sched_device_spec devs[8] = {{0, 0}};
	for (int i = 0; i < 4; i++) {
		char name[16];
		snprintf(name, sizeof name, "n%d", i);
		struct sched_node_spec ns = {name, 0, 0, 64000, 256 * 1024, 8, devs};
		CHECK_EQ(sched_add_node(s, &ns, &e), i);
	}
	static const struct {
		uint32_t ntasks, ndev, milli;
	} shapes[] = {{1, 1, 300}, {1, 1, 1000}, {1, 2, 1000}, {2, 1, 1000},
		      {1, 0, 0},   {1, 1, 500},  {1, 4, 1000}, {3, 1, 250}};
	struct aidc_rng rng;
	aidc_rng_seed(&rng, 77);
	int running[64];
	uint32_t nrun = 0, placed = 0;
	for (uint64_t id = 1; id <= 300; id++) {
		if (nrun == AIDC_ARRAY_LEN(running) || (nrun && aidc_rng_below(&rng, 3) == 0)) {
			uint32_t i = (uint32_t)aidc_rng_below(&rng, nrun);
			uint32_t gen = s->nodes[s->jobs[running[i]].allocs[0].node].gen;
			uint32_t node = s->jobs[running[i]].allocs[0].node;
			CHECK_EQ(sched_job_finish(s, (uint32_t)running[i], (int64_t)id, &e), 0);
			CHECK_NE(s->nodes[node].gen, gen);
			running[i] = running[--nrun];
		}
		struct sched_job_spec js = {0};
		uint64_t k = aidc_rng_below(&rng, AIDC_ARRAY_LEN(shapes));
		js.id = id;
		js.partition = 0;
		js.submit_s = (int64_t)id;
		js.ntasks = shapes[k].ntasks;
		js.task = (struct sched_req){1000, 1024, shapes[k].ndev, shapes[k].milli, 0, false};
		int h = sched_submit(s, &js, (int64_t)id, &e);
		CHECK_GE(h, 0);
		if (sched_place(s, (uint32_t)h, SCHED_MODE_RUN_NOW, (int64_t)id, NULL, NULL, &e) ==
		    0) {
			running[nrun++] = h;
			placed++;
		} else {
			aidc_err_clear(&e);
			CHECK_EQ(sched_job_cancel(s, (uint32_t)h, (int64_t)id, &e), 0);
		}
		CHECK_EQ(recount_kinds(s), 0);
	}
	CHECK_GE(placed, 100);
	while (nrun)
		CHECK_EQ(sched_job_finish(s, (uint32_t)running[--nrun], 1000, &e), 0);
	CHECK_EQ(recount_kinds(s), 0);
	for (uint32_t n = 0; n < s->nnodes; n++)
		CHECK_EQ(s->nodes[n].nkinds, 0);
	sched_free(s);
}

static void test_workload_limits(void)
{
	struct sched *s = fh_new(SCHED_PLACE_FGD, 1);
	struct aidc_err e = {0};
	struct sched_task_type bad = {{100, 0, 1, 500, 0, false}, 0.0};
	CHECK_EQ(sched_set_workload(s, &bad, 1, &e), AIDC_E_INVAL);
	aidc_err_clear(&e);
	struct sched_task_type share2 = {{100, 0, 2, 500, 0, false}, 1.0};
	CHECK_EQ(sched_set_workload(s, &share2, 1, &e), AIDC_E_INVAL);
	aidc_err_clear(&e);
	CHECK_EQ(sched_set_workload(s, &share2, AIDC_MAX_WORKLOAD_TYPES + 1, &e), AIDC_E_LIMIT);
	CHECK_CONTAINS(e.msg, "limit");
	CHECK_EQ(sched_set_workload(s, NULL, 0, NULL), 0); /* empty: no fragmentation */
	CHECK(sched_fragmentation(s, UINT32_MAX) == 0.0);
	fh_free(s);
}

/*
 * Random clusters and requests under every policy: after each placement no
 * device is above 1000 milli used, CPU and memory stay within capacity, model
 * masks hold, whole-device tasks got idle devices; and the same seed gives
 * the same decisions (hash of all picks).
 */
static uint64_t stress(enum sched_placement p, uint64_t seed)
{
	struct aidc_rng rng;
	aidc_rng_seed(&rng, seed * 977 + 1);
	struct sched *s = fh_new(p, seed);
	for (int i = 0; i < 40; i++) {
		static const uint32_t sizes[] = {1, 2, 4, 8};
		fh_node(s, 16000 + 16000 * (uint32_t)aidc_rng_below(&rng, 4), 65536,
			sizes[aidc_rng_below(&rng, 4)], (uint16_t)aidc_rng_below(&rng, 3));
	}
	struct sched_task_type types[3] = {
		{{2000, 4096, 1, 500, 0, false}, 3}, {{4000, 8192, 1, 1000, 0, false}, 2}, {{8000, 8192, 4, 1000, 0, false}, 1}};
	CHECK_EQ(sched_set_workload(s, types, 3, NULL), 0);
	uint64_t h = 1469598103934665603ull;
	for (int k = 0; k < 600; k++) {
		static const uint32_t shares[] = {100, 250, 500, 700, 1000};
		struct sched_req r = {(uint32_t)aidc_rng_below(&rng, 6000),
				      (uint64_t)aidc_rng_below(&rng, 8192), 1,
				      shares[aidc_rng_below(&rng, 5)], 0, false};
		uint64_t roll = aidc_rng_below(&rng, 10);
		if (roll == 0)
			r.ndev = 0, r.dev_milli = 0;
		else if (roll < 3)
			r.ndev = 1u << aidc_rng_below(&rng, 4), r.dev_milli = 1000;
		if (aidc_rng_below(&rng, 4) == 0)
			r.model_mask = 1u << aidc_rng_below(&rng, 3);
		/* remember which devices were idle before */
		uint32_t before_tasks[40 * 8];
		for (uint32_t d = 0; d < s->ndevs; d++)
			before_tasks[d] = s->devs[d].ntasks;
		struct sched_alloc out[AIDC_MAX_DEVICES_PER_NODE];
		int n = sched_frag_pick(s, &r, 0, 0, out);
		if (n < 0) {
			CHECK_EQ(n, AIDC_E_NOFIT);
			h = (h ^ 0xffff) * 1099511628211ull;
			continue;
		}
		CHECK_EQ(n, r.ndev ? (int)r.ndev : 1);
		for (int i = 0; i < n; i++) {
			CHECK_EQ(out[i].node, out[0].node);
			if (r.ndev == 0)
				continue;
			const struct sched_device *dv = &s->devs[out[i].dev];
			CHECK_GE(dv->free_milli, out[i].milli);
			if (r.model_mask)
				CHECK((r.model_mask >> dv->model) & 1u);
			if (r.dev_milli == 1000)
				CHECK_EQ(before_tasks[out[i].dev], 0);
		}
		const struct sched_node *nd = &s->nodes[out[0].node];
		CHECK_GE(nd->cpu_free_milli, r.cpu_milli);
		CHECK_GE(nd->mem_free_mib, r.mem_mib);
		fh_apply(s, &r, out, n);
		h = (h ^ (out[0].node * 131u + (r.ndev ? out[0].dev : 7777))) * 1099511628211ull;
	}
	for (uint32_t d = 0; d < s->ndevs; d++)
		CHECK_LE(s->devs[d].free_milli, 1000);
	fh_free(s);
	return h;
}

static void test_invariants_and_determinism(void)
{
	for (size_t p = 0; p < AIDC_ARRAY_LEN(all_policies); p++) {
		uint64_t a = stress(all_policies[p], 5), b = stress(all_policies[p], 5);
		if (a != b)
			fprintf(stderr, "policy %d is not deterministic\n", all_policies[p]);
		CHECK(a == b);
	}
}

TEST_MAIN(TEST(test_frag_values), TEST(test_gpu_choice), TEST(test_node_choice),
	  TEST(test_constraints), TEST(test_clustering_kinds), TEST(test_core_kind_counts),
	  TEST(test_workload_limits), TEST(test_invariants_and_determinism))
