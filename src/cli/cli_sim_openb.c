/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc sim openb`: the FGD inflation experiment on Alibaba's openb GPU
 * cluster trace (see docs/sim-openb.md). Reads a node list and a pod list,
 * runs one or more fractional placement policies over several seeds and
 * prints the seed-averaged GPU allocation ratio and fragmentation at 100% and
 * 130% of capacity arrived; --csv writes the whole curves, --json a summary
 * with the curves. Progress goes to stderr.
 */
#include "cli/cli.h"
#include "sim/openb.h"
#include "sim/sim.h"
#include "util/util.h"

#define OPENB_DIR "alibaba-openb-2023"
#define OPENB_NODES "openb_node_list_gpu_node.csv"
#define OPENB_PODS "openb_pod_list_default.csv"

struct opts {
	const char *node_list, *pod_list, *policy, *csv;
	int64_t seeds, seed;
	double inflation, popularity;
	bool json, quiet;
};

/* ../shared/traces/alibaba-openb-2023/<file>, or under $AIDC_TRACES_DIR. */
static void default_path(char *buf, size_t n, const char *file)
{
	const char *dir = getenv("AIDC_TRACES_DIR");
	snprintf(buf, n, "%s/%s/%s", dir && *dir ? dir : "../shared/traces", OPENB_DIR, file);
}

/* "all" or a comma-separated list of policy names -> pols; returns the count,
 * or -1 with the problem (naming the offending item) in why. A name given
 * twice is refused: it would run the same curves twice under one label. */
static int parse_policies(const char *arg, enum sched_placement *pols, size_t max, char *why,
			  size_t nwhy)
{
	static const enum sched_placement all[] = {
		SCHED_PLACE_FGD,	    SCHED_PLACE_BESTFIT, SCHED_PLACE_GPU_PACKING,
		SCHED_PLACE_GPU_CLUSTERING, SCHED_PLACE_DOTPROD, SCHED_PLACE_RANDOM,
		SCHED_PLACE_AIDC_FRAG,
	};
	if (!*arg) {
		snprintf(why, nwhy, "empty policy list");
		return -1;
	}
	if (strcmp(arg, "all") == 0 || strcmp(arg, "published") == 0) {
		size_t k = strcmp(arg, "all") == 0 ? AIDC_ARRAY_LEN(all) : AIDC_ARRAY_LEN(all) - 1;
		memcpy(pols, all, k * sizeof *pols);
		return (int)k;
	}
	size_t n = 0;
	const char *p = arg;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char name[32];
		if (len == 0) {
			snprintf(why, nwhy, "empty policy name in the list");
			return -1;
		}
		if (len >= sizeof name || n == max) {
			snprintf(why, nwhy, "unknown policy '%.*s'", (int)AIDC_MIN(len, (size_t)40), p);
			return -1;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		int x = sim_openb_policy_parse(name);
		if (x < 0) {
			snprintf(why, nwhy, "unknown policy '%s'", name);
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			if (pols[i] == (enum sched_placement)x) {
				snprintf(why, nwhy, "policy '%s' is listed twice", name);
				return -1;
			}
		pols[n++] = (enum sched_placement)x;
		if (comma && !comma[1]) {
			snprintf(why, nwhy, "empty policy name in the list");
			return -1;
		}
		p = comma ? comma + 1 : p + len;
	}
	return (int)n;
}

static void progress(void *ctx, enum sched_placement p, uint64_t seed, double secs)
{
	const struct opts *o = ctx;
	if (!o->quiet)
		fprintf(stderr, "aidc sim openb: %s seed %" PRIu64 " done in %.2f s\n",
			sim_openb_policy_name(p), seed, secs);
}

/* Writes the curves into the already opened (temporary) CSV file. */
static void write_csv(FILE *f, const struct sim_openb_result *r, size_t n)
{
	fprintf(f, "policy,arrived_pct,alloc_pct,alloc_min_pct,alloc_max_pct,frag_pct\n");
	for (size_t k = 0; k < n; k++)
		for (int i = 0; i < SIM_OPENB_STEPS; i++)
			fprintf(f, "%s,%d,%.4f,%.4f,%.4f,%.4f\n", sim_openb_policy_name(r[k].policy), i,
				100 * r[k].alloc[i], 100 * r[k].alloc_min[i], 100 * r[k].alloc_max[i],
				100 * r[k].frag[i]);
}

static int print_json(const struct opts *o, const struct sim_openb_nodes *nodes,
		      const struct sim_openb_result *r, size_t n)
{
	struct aidc_buf b;
	struct aidc_json j;
	aidc_buf_init(&b, 64u << 20);
	aidc_json_init(&j, &b, true);
	aidc_json_obj_begin(&j);
	aidc_json_ki64(&j, "version", 1);
	aidc_json_kstr(&j, "node_list", o->node_list);
	aidc_json_kstr(&j, "pod_list", o->pod_list);
	aidc_json_ki64(&j, "seeds", o->seeds);
	aidc_json_ki64(&j, "first_seed", o->seed);
	aidc_json_kf64(&j, "inflation", o->inflation, 3);
	aidc_json_ki64(&j, "capacity_gpu_milli", (int64_t)nodes->gpu_milli_total);
	aidc_json_key(&j, "policies");
	aidc_json_arr_begin(&j);
	for (size_t k = 0; k < n; k++) {
		aidc_json_obj_begin(&j);
		aidc_json_kstr(&j, "policy", sim_openb_policy_name(r[k].policy));
		aidc_json_kf64(&j, "alloc_pct_at_100", 100 * r[k].alloc[100], 3);
		aidc_json_kf64(&j, "alloc_pct_at_130", 100 * r[k].alloc[130], 3);
		aidc_json_kf64(&j, "frag_pct_at_100", 100 * r[k].frag[100], 3);
		aidc_json_kf64(&j, "frag_pct_at_130", 100 * r[k].frag[130], 3);
		aidc_json_kf64(&j, "pods_failed", r[k].pods_failed, 1);
		aidc_json_kf64(&j, "pods_total", r[k].pods_total, 1);
		aidc_json_key(&j, "alloc_pct");
		aidc_json_arr_begin(&j);
		for (int i = 0; i < SIM_OPENB_STEPS; i++)
			aidc_json_f64(&j, 100 * r[k].alloc[i], 3);
		aidc_json_arr_end(&j);
		aidc_json_key(&j, "frag_pct");
		aidc_json_arr_begin(&j);
		for (int i = 0; i < SIM_OPENB_STEPS; i++)
			aidc_json_f64(&j, 100 * r[k].frag[i], 3);
		aidc_json_arr_end(&j);
		aidc_json_obj_end(&j);
	}
	aidc_json_arr_end(&j);
	aidc_json_obj_end(&j);
	int rc = aidc_json_finish(&j);
	if (rc == 0)
		printf("%s\n", aidc_buf_str(&b));
	else
		fprintf(stderr, "aidc sim openb: JSON output: %s\n", aidc_strerror(rc));
	aidc_buf_release(&b);
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static void print_table(const struct sim_openb_result *r, size_t n)
{
	printf("%-14s %5s %11s %11s %10s %10s %12s %8s\n", "policy", "seeds", "alloc@100%",
	       "alloc@130%", "frag@100%", "frag@130%", "failed/pods", "wall_s");
	for (size_t k = 0; k < n; k++)
		printf("%-14s %5u %11.2f %11.2f %10.2f %10.2f %5.0f/%-6.0f %8.2f\n",
		       sim_openb_policy_name(r[k].policy), r[k].nseeds, 100 * r[k].alloc[100],
		       100 * r[k].alloc[130], 100 * r[k].frag[100], 100 * r[k].frag[130],
		       r[k].pods_failed, r[k].pods_total, r[k].wall_s);
}

/* Fills o from the command line: 0, 1 after --help, or a CLI_EXIT_* code. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	static char def_nodes[1024], def_pods[1024];
	default_path(def_nodes, sizeof def_nodes, OPENB_NODES);
	default_path(def_pods, sizeof def_pods, OPENB_PODS);
	*o = (struct opts){def_nodes, def_pods, "all", NULL, 10, 42, 1.3, 0.95, false, false};
	const struct cli_flag flags[] = {
		{"node-list", CLI_STR, &o->node_list, "FILE", "openb node list CSV (default: the openb trace under $AIDC_TRACES_DIR or ../shared/traces)", 0, 0, NULL, NULL},
		{"pod-list", CLI_STR, &o->pod_list, "FILE", "openb pod list CSV (default: its openb_pod_list_default.csv)", 0, 0, NULL, NULL},
		{"policy", CLI_STR, &o->policy, "LIST",
		 "fgd|bestfit|gpu-packing|gpu-clustering|dotprod|random|aidc-frag, comma-separated, "
		 "or all|published (default all)", 0, 0, NULL, NULL},
		{"seeds", CLI_I64, &o->seeds, "N", "runs per policy, seeds seed..seed+N-1 (default 10)", 1,
		 AIDC_MAX_SEEDS, NULL, NULL},
		{"seed", CLI_I64, &o->seed, "N", "first seed (default 42)", 0, 1e15, NULL, NULL},
		{"inflation", CLI_F64, &o->inflation, "X", "GPU request to arrive / capacity (1.3)",
		 0.01, AIDC_MAX_OPENB_INFLATION, NULL, NULL},
		{"popularity", CLI_F64, &o->popularity, "X",
		 "typical task shapes cover this share of pods (0.95)", 0.01, 1, NULL, NULL},
		{"csv", CLI_STR, &o->csv, "FILE", "write the curves as CSV", 0, 0, NULL, NULL},
		{"json", CLI_BOOL, &o->json, NULL, "print a JSON summary with curves", 0, 0, NULL, NULL},
		{"quiet", CLI_BOOL, &o->quiet, NULL, "no progress on stderr", 0, 0, NULL, NULL},
	};
	const struct cli_cmd cmd = {
		"sim openb", "aidc sim openb [options]",
		"Reproduces the FGD inflation experiment (Weng et al., ATC'23) on Alibaba's openb\n"
		"trace: pods arrive in a seeded random order, inflated to --inflation x GPU\n"
		"capacity, and never depart; prints the GPU allocation ratio at 100% and 130%\n"
		"of capacity arrived, per policy, averaged over seeds.",
		flags, AIDC_ARRAY_LEN(flags)};
	return cli_parse(&cmd, argc, argv, NULL, 0, NULL);
}

/* Reads the trace, runs each policy over the seeds, writes the outputs. */
static int run(const struct opts *o, const enum sched_placement *pols, int npol)
{
	int rc;
	struct sim_openb_models models = {0};
	struct sim_openb_nodes nodes = {0};
	struct sim_openb_pods pods = {0};
	struct sim_openb_result *res = aidc_calloc((size_t)npol, sizeof *res);
	struct aidc_err e = {0};
	int exit_code = CLI_EXIT_FAIL;
	/* --csv is opened first (a bad path fails at once, not after the runs)
	 * and appears only when everything succeeded. */
	struct aidc_outfile csv;
	aidc_outfile_init(&csv);
	if ((o->csv && (rc = aidc_outfile_open(&csv, o->csv, &e))) ||
	    (rc = sim_openb_read_nodes(o->node_list, &models, &nodes, &e)) ||
	    (rc = sim_openb_read_pods(o->pod_list, &models, &pods, &e)))
		goto fail;
	struct sim_openb_config cfg;
	sim_openb_config_defaults(&cfg);
	cfg.inflation = o->inflation;
	cfg.popularity = o->popularity;
	cfg.seed = (uint64_t)o->seed;
	cfg.nseeds = (uint32_t)o->seeds;
	cfg.progress_fn = progress;
	cfg.progress_ctx = (void *)o;
	if (!o->quiet)
		fprintf(stderr, "aidc sim openb: %zu nodes (%" PRIu64 " GPUs), %zu pods, %d policies x %u seeds\n",
			nodes.n, nodes.gpu_milli_total / AIDC_DEVICE_MILLI, pods.n, npol, cfg.nseeds);
	for (int k = 0; k < npol; k++)
		if ((rc = sim_openb_run(&models, &nodes, &pods, pols[k], &cfg, &res[k], &e)))
			goto fail;
	if (o->csv) {
		write_csv(csv.f, res, (size_t)npol);
		if ((rc = aidc_outfile_commit(&csv, &e)))
			goto fail;
	}
	if (o->json)
		exit_code = print_json(o, &nodes, res, (size_t)npol);
	else {
		print_table(res, (size_t)npol);
		exit_code = CLI_EXIT_OK;
	}
	goto out;
fail:
	fprintf(stderr, "aidc sim openb: %s\n", aidc_err_text(&e, rc));
out:
	aidc_outfile_abort(&csv);
	aidc_free(res);
	sim_openb_nodes_release(&nodes);
	sim_openb_pods_release(&pods);
	return exit_code;
}

int cli_sim_openb_main(int argc, char **argv)
{
	struct opts o;
	int rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	enum sched_placement pols[16];
	char why[96];
	int npol = parse_policies(o.policy, pols, AIDC_ARRAY_LEN(pols), why, sizeof why);
	if (npol <= 0) {
		fprintf(stderr, "aidc sim openb: --policy %s: %s (see --help)\n", o.policy, why);
		return CLI_EXIT_USAGE;
	}
	return run(&o, pols, npol);
}
