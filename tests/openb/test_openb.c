/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the openb readers (src/sim/trace_openb.c) and the inflation
 * experiment driver (src/sim/openb.c): a table of good and bad node/pod lists
 * with the expected error and file:line, the typical-shape builder, the
 * arrival order (bounded, seeded, deterministic), and small experiments through
 * the real core (determinism per seed, allocation bounded by capacity). With
 * the real openb trace present (../shared/traces or $AIDC_TRACES_DIR) one seed
 * of FGD on the default workload must land in the published neighbourhood.
 */
#include "sim/openb.h"
#include "util/util.h"
#include "../test.h"

static const struct {
	const char *text;
	int rc;
	const char *msg; /* substring of the error, or NULL */
} node_cases[] = {
	{"sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,P100\nn1,32000,1000,0,\n", 0, NULL},
	{"model,gpu,memory_mib,cpu_milli\nT4,1,100,1000\n", 0, NULL}, /* any column order */
	{"sn,cpu_milli,memory_mib,gpu\nn0,1,1,1\n", AIDC_E_PARSE, "no 'model' column"},
	{"sn,cpu_milli,memory_mib,gpu,model\nn0,x,1,1,T4\n", AIDC_E_PARSE, "nodes.csv:2:"},
	{"sn,cpu_milli,memory_mib,gpu,model\nn0,1,1,65,T4\n", AIDC_E_LIMIT, "gpu"},
	{"sn,cpu_milli,memory_mib,gpu,model\nn0,1,1,-1,T4\n", AIDC_E_LIMIT, NULL},
	{"sn,cpu_milli,memory_mib,gpu,model\nn0,1,1,1,\n", AIDC_E_PARSE, "empty GPU model"},
	{"", AIDC_E_PARSE, NULL},
};

static const struct {
	const char *text;
	int rc;
	size_t npods;
	const char *msg;
} pod_cases[] = {
	{"name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\np,1000,100,1,500,T4|P100\n"
	 "q,1000,100,0,0,\nr,1000,100,8,1000,\n",
	 0, 3, NULL},
	{"name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1000,100,1,1000\n", 0, 1, NULL},
	{"name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1000,100,2,500\n", AIDC_E_PARSE, 0,
	 "needs num_gpu 1"},
	{"name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1000,100,1,0\n", AIDC_E_PARSE, 0,
	 "0 milli"},
	{"name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1000,100,1,1001\n", AIDC_E_LIMIT, 0,
	 "pods.csv:2:"},
	{"name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\np,1,1,1,500,T4|\n", AIDC_E_PARSE,
	 0, "ends with '|'"},
	{"name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\np,1,1,1,500,T4||V\n",
	 AIDC_E_PARSE, 0, "empty GPU model"},
	{"name,cpu_milli,num_gpu,gpu_milli\np,1,1,500\n", AIDC_E_PARSE, 0, "memory_mib"},
};

static void test_readers(void)
{
	for (size_t i = 0; i < AIDC_ARRAY_LEN(node_cases); i++) {
		struct sim_openb_models m = {0};
		struct sim_openb_nodes n;
		struct aidc_err e = {0};
		int rc = sim_openb_read_nodes_mem("nodes.csv", node_cases[i].text,
						  strlen(node_cases[i].text), &m, &n, &e);
		if (rc != node_cases[i].rc)
			fprintf(stderr, "node case %zu: %s\n", i, e.msg);
		CHECK_EQ(rc, node_cases[i].rc);
		if (node_cases[i].msg)
			CHECK_CONTAINS(e.msg, node_cases[i].msg);
		if (rc == 0)
			CHECK_GE(n.n, 1);
		sim_openb_nodes_release(&n);
	}
	for (size_t i = 0; i < AIDC_ARRAY_LEN(pod_cases); i++) {
		struct sim_openb_models m = {0};
		struct sim_openb_pods p;
		struct aidc_err e = {0};
		int rc = sim_openb_read_pods_mem("pods.csv", pod_cases[i].text,
						 strlen(pod_cases[i].text), &m, &p, &e);
		if (rc != pod_cases[i].rc)
			fprintf(stderr, "pod case %zu: %s\n", i, e.msg);
		CHECK_EQ(rc, pod_cases[i].rc);
		CHECK_EQ(p.n, pod_cases[i].npods);
		if (pod_cases[i].msg)
			CHECK_CONTAINS(e.msg, pod_cases[i].msg);
		sim_openb_pods_release(&p);
	}
	/* models are shared between the two lists: the spec maps onto node models */
	struct sim_openb_models m = {0};
	struct sim_openb_nodes n;
	struct sim_openb_pods p;
	const char *nt = "sn,cpu_milli,memory_mib,gpu,model\na,1,1,1,P100\nb,1,1,2,T4\n";
	const char *pt = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\n"
			 "p,1,1,1,500,T4\nq,1,1,1,500,V100|P100\nr,1,1,0,0,T4\n";
	CHECK_EQ(sim_openb_read_nodes_mem("n", nt, strlen(nt), &m, &n, NULL), 0);
	CHECK_EQ(sim_openb_read_pods_mem("p", pt, strlen(pt), &m, &p, NULL), 0);
	CHECK_EQ(n.gpu_milli_total, 3000);
	CHECK_EQ(m.n, 3);
	CHECK_STR(m.name[2], "V100");
	CHECK_EQ(p.v[0].model_mask, 1u << 1);
	CHECK_EQ(p.v[1].model_mask, (1u << 2) | (1u << 0));
	CHECK_EQ(p.v[2].model_mask, 0); /* CPU-only pods carry no model constraint */
	sim_openb_nodes_release(&n);
	sim_openb_pods_release(&p);
}

static void test_workload_and_arrivals(void)
{
	struct sim_openb_pods p = {0};
	/* 6 pods of shape A (share 500), 3 of B (1 GPU), 1 of C (CPU only) */
	for (int i = 0; i < 10; i++) {
		AIDC_GROW(p.v, p.cap, p.n + 1);
		p.v[p.n++] = i < 6 ? (struct sim_openb_pod){1000, 100 + i, 1, 500, 0}
			   : i < 9 ? (struct sim_openb_pod){2000, 100, 1, 1000, 0}
				   : (struct sim_openb_pod){500, 100, 0, 0, 0};
	}
	struct sched_task_type *t;
	size_t nt;
	CHECK_EQ(sim_openb_workload(&p, 0.9, &t, &nt, NULL), 0);
	CHECK_EQ(nt, 2); /* 6 + 3 >= 90% of 10 */
	CHECK_EQ(t[0].req.dev_milli, 500);
	CHECK(t[0].weight == 6.0 && t[1].weight == 3.0);
	CHECK_EQ(t[0].req.mem_mib, 102); /* mean of 100..105 */
	aidc_free(t);
	CHECK_EQ(sim_openb_workload(&p, 1.0, &t, &nt, NULL), 0);
	CHECK_EQ(nt, 3);
	aidc_free(t);

	/* arrivals: originals first counted, then draws up to the target, shuffled */
	uint32_t *o1, *o2;
	size_t n1, n2;
	CHECK_EQ(sim_openb_arrivals(&p, 20000, 9, &o1, &n1, NULL), 0);
	CHECK_EQ(sim_openb_arrivals(&p, 20000, 9, &o2, &n2, NULL), 0);
	CHECK_EQ(n1, n2);
	CHECK(memcmp(o1, o2, n1 * sizeof *o1) == 0);
	uint64_t gpu = 0;
	uint32_t seen[10] = {0};
	for (size_t i = 0; i < n1; i++) {
		gpu += (uint64_t)p.v[o1[i]].num_gpu * p.v[o1[i]].gpu_milli;
		seen[o1[i]]++;
	}
	CHECK_LE(gpu, 20000);
	CHECK_GE(gpu, 19000); /* stops only when the next draw would pass the target */
	for (int i = 0; i < 10; i++)
		CHECK_GE(seen[i], 1);
	aidc_free(o1);
	aidc_free(o2);
	CHECK_EQ(sim_openb_arrivals(&p, 3000, 9, &o1, &n1, NULL), 0); /* below the list: trimmed */
	gpu = 0;
	for (size_t i = 0; i < n1; i++)
		gpu += (uint64_t)p.v[o1[i]].num_gpu * p.v[o1[i]].gpu_milli;
	CHECK_LE(gpu, 3000);
	aidc_free(o1);
	sim_openb_pods_release(&p);
}

/* A small experiment through the core: deterministic per seed, bounded. */
static void test_small_experiment(void)
{
	const char *nt = "sn,cpu_milli,memory_mib,gpu,model\n"
			 "a,32000,65536,4,A\nb,32000,65536,4,A\nc,16000,65536,2,B\nd,8000,8192,1,B\n";
	const char *pt = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\n"
			 "p0,2000,4096,1,500,\np1,4000,8192,1,1000,\np2,1000,2048,1,250,B\n"
			 "p3,8000,16384,2,1000,A\np4,3000,4096,0,0,\np5,2000,2048,1,700,A|B\n";
	struct sim_openb_models m = {0};
	struct sim_openb_nodes n;
	struct sim_openb_pods p;
	struct aidc_err e = {0};
	CHECK_EQ(sim_openb_read_nodes_mem("n", nt, strlen(nt), &m, &n, &e), 0);
	CHECK_EQ(sim_openb_read_pods_mem("p", pt, strlen(pt), &m, &p, &e), 0);
	struct sim_openb_config cfg;
	sim_openb_config_defaults(&cfg);
	cfg.nseeds = 3;
	static const enum sched_placement pols[] = {
		SCHED_PLACE_RANDOM,	 SCHED_PLACE_DOTPROD, SCHED_PLACE_GPU_CLUSTERING,
		SCHED_PLACE_GPU_PACKING, SCHED_PLACE_BESTFIT, SCHED_PLACE_FGD,
		SCHED_PLACE_AIDC_FRAG,
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(pols); i++) {
		struct sim_openb_result a, b;
		int rc = sim_openb_run(&m, &n, &p, pols[i], &cfg, &a, &e);
		if (rc)
			fprintf(stderr, "policy %s: %s\n", sim_openb_policy_name(pols[i]), e.msg);
		CHECK_EQ(rc, 0);
		CHECK_EQ(sim_openb_run(&m, &n, &p, pols[i], &cfg, &b, &e), 0);
		CHECK(memcmp(a.alloc, b.alloc, sizeof a.alloc) == 0);
		CHECK(memcmp(a.frag, b.frag, sizeof a.frag) == 0);
		CHECK_EQ(a.nseeds, 3);
		for (int k = 0; k < SIM_OPENB_STEPS; k++) {
			CHECK(a.alloc[k] >= 0 && a.alloc[k] <= 1.0);
			CHECK(a.frag[k] >= 0 && a.frag[k] <= 1.0);
			if (k > 0)
				CHECK(a.alloc_min[k] >= a.alloc_min[k - 1] - 1e-12);
		}
		CHECK(a.alloc[0] == 0.0);
	}
	cfg.nseeds = 0;
	struct sim_openb_result r;
	CHECK_EQ(sim_openb_run(&m, &n, &p, SCHED_PLACE_FGD, &cfg, &r, &e), AIDC_E_LIMIT);
	sim_openb_nodes_release(&n);
	sim_openb_pods_release(&p);
}

/* One seed of FGD on the real default workload (skipped without the trace). */
static int test_real_trace(void)
{
	const char *dir = getenv("AIDC_TRACES_DIR");
	char np[1024], pp[1024];
	snprintf(np, sizeof np, "%s/alibaba-openb-2023/openb_node_list_gpu_node.csv",
		 dir && *dir ? dir : "../shared/traces");
	snprintf(pp, sizeof pp, "%s/alibaba-openb-2023/openb_pod_list_default.csv",
		 dir && *dir ? dir : "../shared/traces");
	FILE *f = fopen(np, "r");
	if (!f)
		return 0;
	fclose(f);
	struct sim_openb_models m = {0};
	struct sim_openb_nodes n;
	struct sim_openb_pods p;
	struct aidc_err e = {0};
	CHECK_EQ(sim_openb_read_nodes(np, &m, &n, &e), 0);
	CHECK_EQ(sim_openb_read_pods(pp, &m, &p, &e), 0);
	CHECK_EQ(n.n, 1213);
	CHECK_EQ(n.gpu_milli_total, 6212000);
	CHECK_EQ(p.n, 8152);
	struct sim_openb_config cfg;
	sim_openb_config_defaults(&cfg);
	cfg.nseeds = 1;
	struct sim_openb_result r;
	CHECK_EQ(sim_openb_run(&m, &n, &p, SCHED_PLACE_FGD, &cfg, &r, &e), 0);
	/* published seed average 95.23; one seed stays within a point of it */
	printf("FGD seed 42 on openb default: %.2f%% allocated at 100%% arrived\n",
	       100 * r.alloc[100]);
	CHECK(r.alloc[100] > 0.94 && r.alloc[100] < 0.965);
	sim_openb_nodes_release(&n);
	sim_openb_pods_release(&p);
	return 1;
}

/* test_openb        the unit tests
 * test_openb --real the real-trace check (SKIP, exit 77, without the trace) */
static void test_real(void)
{
	if (!test_real_trace())
		TEST_SKIP("openb trace not found under $AIDC_TRACES_DIR or ../shared/traces");
}

/* `openb_unit --real` is the real-trace run (ctest openb_real_trace). */
int main(int argc, char **argv)
{
	static const struct test_case cases[] = {TEST(test_readers), TEST(test_workload_and_arrivals),
						 TEST(test_small_experiment)};
	static const struct test_case real[] = {{"test_real", test_real, 115}};
	if (argc > 1 && strcmp(argv[1], "--real") == 0)
		return test_run(argc - 1, argv + 1, real, AIDC_ARRAY_LEN(real));
	return test_run(argc, argv, cases, AIDC_ARRAY_LEN(cases));
}
