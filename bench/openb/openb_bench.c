/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/openb: wall time of the FGD inflation experiment on the default openb
 * workload, 6 published policies x 10 seeds (the target: under 60 s on
 * a 2-core machine). Two paths are timed in the same run:
 *   core    the real path: sim_openb_run over the core's public API
 *           (sched_submit + sched_place + sched_usage per pod);
 *   direct  the policies alone: sched_frag_pick on a hand-built cluster
 *           (tests/openb/frag_harness.h), no job table;
 * and the ratio core/direct is the core's per-pod overhead. Both paths print
 * the seed-averaged allocation ratio at 100% and 130% arrived so that a
 * difference in decisions shows up next to the timing.
 *
 * usage: openb_bench [--direct-only] [--policy LIST] [--seeds N] [--nodes FILE] [--pods FILE]
 * Traces: $AIDC_TRACES_DIR or ../shared/traces; exits 77 when they are absent.
 */
#include <time.h>

#include "sim/openb.h"
#include "../../tests/openb/frag_harness.h"

/* The harness pulls in the core's private header, whose purity guards ban I/O
 * and clocks; this driver is not the core. */
#undef printf
#undef fprintf
#undef fopen
#undef clock_gettime

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct dres {
	double a100, a130, f100, failed;
};

/* One run of the experiment through sched_frag_pick only. */
static int direct_run(const struct sim_openb_nodes *nodes, const struct sim_openb_pods *pods,
		      const struct sched_task_type *types, size_t ntypes, enum sched_placement p,
		      uint64_t seed, struct dres *r)
{
	struct aidc_err e = {0};
	uint32_t *order = NULL;
	size_t n = 0;
	uint64_t cap = nodes->gpu_milli_total;
	if (sim_openb_arrivals(pods, 1.3 * (double)cap, seed, &order, &n, &e))
		return -1;
	struct sched *s = fh_new(p, seed);
	for (size_t i = 0; i < nodes->n; i++)
		fh_node(s, nodes->v[i].cpu_milli, nodes->v[i].mem_mib, nodes->v[i].ngpu,
			(uint16_t)nodes->v[i].model);
	if (sched_set_workload(s, types, ntypes, &e)) {
		fh_free(s);
		aidc_free(order);
		return -1;
	}
	uint64_t used = 0, arrived = 0;
	uint32_t step = 0;
	double alloc[SIM_OPENB_STEPS], frag[SIM_OPENB_STEPS];
	struct sched_alloc out[AIDC_MAX_DEVICES_PER_NODE];
	r->failed = 0;
	for (size_t i = 0; i <= n; i++) {
		while (step < SIM_OPENB_STEPS && arrived * 100 >= (uint64_t)step * cap) {
			alloc[step] = (double)used / (double)cap;
			frag[step++] = sched_fragmentation(s, UINT32_MAX) / (double)cap;
		}
		if (i == n)
			break;
		const struct sim_openb_pod *pd = &pods->v[order[i]];
		struct sched_req q = {pd->cpu_milli, pd->mem_mib, pd->num_gpu, pd->gpu_milli,
				      pd->model_mask, false};
		arrived += (uint64_t)pd->num_gpu * pd->gpu_milli;
		if (fh_place(s, &q, out) < 0)
			r->failed++;
		else
			used += (uint64_t)pd->num_gpu * pd->gpu_milli;
	}
	for (; step < SIM_OPENB_STEPS; step++) {
		alloc[step] = (double)used / (double)cap;
		frag[step] = sched_fragmentation(s, UINT32_MAX) / (double)cap;
	}
	r->a100 = alloc[100];
	r->a130 = alloc[130];
	r->f100 = frag[100];
	fh_free(s);
	aidc_free(order);
	return 0;
}

/* The trace's cluster, pods and typical shapes. */
struct openb_in {
	struct sim_openb_models models;
	struct sim_openb_nodes nodes;
	struct sim_openb_pods pods;
	struct sched_task_type *types;
	size_t ntypes;
};

/* One policy's row: the direct replay averaged over nseeds seeds, then (unless
 * direct_only) the core path; adds their times to tot[0] and tot[1]. 0, 1 on
 * a failed run, 2 on an unknown policy. */
static int policy_row(struct openb_in *in, const char *tok, uint32_t nseeds, bool direct_only,
		      double tot[2])
{
	int p = sim_openb_policy_parse(tok);
	if (p < 0) {
		fprintf(stderr, "openb_bench: unknown policy %s\n", tok);
		return 2;
	}
	struct dres sum = {0};
	double t0 = now_s();
	for (uint32_t k = 0; k < nseeds; k++) {
		struct dres r;
		if (direct_run(&in->nodes, &in->pods, in->types, in->ntypes,
			       (enum sched_placement)p, 42 + k, &r))
			return 1;
		sum.a100 += r.a100 / nseeds;
		sum.a130 += r.a130 / nseeds;
		sum.f100 += r.f100 / nseeds;
	}
	double td = now_s() - t0;
	tot[0] += td;
	printf("%-14s %9.2f %9.2f %9.2f %9.2f |", tok, 100 * sum.a100, 100 * sum.a130,
	       100 * sum.f100, td);
	if (direct_only) {
		printf("\n");
		fflush(stdout);
		return 0;
	}
	struct sim_openb_config cfg;
	sim_openb_config_defaults(&cfg);
	cfg.nseeds = nseeds;
	struct sim_openb_result res;
	struct aidc_err e = {0};
	t0 = now_s();
	if (sim_openb_run(&in->models, &in->nodes, &in->pods, (enum sched_placement)p, &cfg, &res,
			  &e)) {
		printf("\nopenb_bench: core path: %s\n", e.msg);
		return 1;
	}
	double tc = now_s() - t0;
	tot[1] += tc;
	printf(" %9.2f %9.2f %9.2f %7.2f\n", 100 * res.alloc[100], 100 * res.alloc[130], tc,
	       tc / td);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	char nodes_path[1024], pods_path[1024];
	const char *dir = getenv("AIDC_TRACES_DIR");
	dir = dir && *dir ? dir : "../shared/traces";
	snprintf(nodes_path, sizeof nodes_path, "%s/alibaba-openb-2023/openb_node_list_gpu_node.csv",
		 dir);
	snprintf(pods_path, sizeof pods_path, "%s/alibaba-openb-2023/openb_pod_list_default.csv", dir);
	const char *np = nodes_path, *pp = pods_path,
		   *pol = "random,dotprod,gpu-clustering,gpu-packing,bestfit,fgd";
	int64_t nseeds = 10;
	bool direct_only = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--direct-only") == 0)
			direct_only = true;
		else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc)
			pol = argv[++i];
		else if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc) {
			if (aidc_parse_i64(argv[++i], 1, AIDC_MAX_SEEDS, &nseeds)) {
				fprintf(stderr, "openb_bench: --seeds takes 1..%u\n", AIDC_MAX_SEEDS);
				return 2;
			}
		} else if (strcmp(argv[i], "--nodes") == 0 && i + 1 < argc)
			np = argv[++i];
		else if (strcmp(argv[i], "--pods") == 0 && i + 1 < argc)
			pp = argv[++i];
		else {
			fprintf(stderr, "usage: openb_bench [--direct-only] [--policy LIST] [--seeds N] "
					"[--nodes FILE] [--pods FILE]\n");
			return 2;
		}
	}
	FILE *probe = fopen(np, "r");
	if (!probe) {
		printf("SKIP: openb trace not found at %s (set AIDC_TRACES_DIR)\n", np);
		return 77;
	}
	fclose(probe);
	struct openb_in in = {0};
	struct aidc_err e = {0};
	if (sim_openb_read_nodes(np, &in.models, &in.nodes, &e) ||
	    sim_openb_read_pods(pp, &in.models, &in.pods, &e)) {
		fprintf(stderr, "openb_bench: %s\n", e.msg);
		return 1;
	}
	sim_openb_workload(&in.pods, 0.95, &in.types, &in.ntypes, &e);
	printf("openb: %zu nodes, %zu pods, %zu typical shapes, %u seeds\n", in.nodes.n, in.pods.n,
	       in.ntypes, (uint32_t)nseeds);
	printf("%-14s %9s %9s %9s %9s | %9s %9s %9s %7s\n", "policy", "d.a@100", "d.a@130",
	       "d.f@100", "direct_s", "c.a@100", "c.a@130", "core_s", "ratio");
	double tot[2] = {0, 0};
	char buf[256];
	snprintf(buf, sizeof buf, "%s", pol);
	int rc = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && !rc;
	     tok = strtok_r(NULL, ",", &save))
		rc = policy_row(&in, tok, (uint32_t)nseeds, direct_only, tot);
	if (!rc) {
		printf("total: direct %.2f s", tot[0]);
		if (!direct_only)
			printf(", core %.2f s (ratio %.2f)", tot[1], tot[1] / tot[0]);
		printf("\n");
	}
	aidc_free(in.types);
	sim_openb_nodes_release(&in.nodes);
	sim_openb_pods_release(&in.pods);
	return rc;
}
