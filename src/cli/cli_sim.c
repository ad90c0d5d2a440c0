/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc sim`: the trace-driven simulator's command line (docs/sim.md).
 * Reads a trace (or generates one), builds the cluster from a cluster file,
 * shorthand flags or a VC file, replays it through the scheduling core under
 * one policy or all of them, and prints a human table, a JSON summary and/or a
 * per-job CSV. `aidc sim --generate N` writes a synthetic AIDC-format trace;
 * `aidc sim` alone runs a built-in generated workload on a built-in cluster.
 * `aidc sim openb ...` is the FGD experiment (cli_sim_openb.c).
 */
#include <math.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sim/sim.h"
#include "util/util.h"

/* Philly window of the Helios simulator (Oct and Nov 2017). */
#define HELIOS_PHILLY_FROM "2017-10-01 00:00:00"
#define HELIOS_PHILLY_TO "2017-11-30 23:59:59"
/* Built-in demo: 16 nodes x 8 GPUs and 4,000 Philly-like jobs, every policy. */
#define DEMO_NODES 16
#define DEMO_JOBS 4000

static const char *const format_choices[] = {"philly", "helios", "aidc", NULL};
/* --policy takes a queue order's name (sched's table) or "all". */
#define POLICY_ALL (-1)
static const char *const compat_choices[] = {"none", "helios", NULL};
static const char *const profile_choices[] = {"philly", "venus", "earth", NULL};
/* In the order of enum sched_hetero and enum sim_speed_prior. */
static const char *const hetero_choices[] = {"off", "fastest", "gavel", NULL};
static const char *const prior_choices[] = {"exact", "model", "none", NULL};
/* --gittins-prior, in the order of enum sim_gittins_prior */
static const char *const gprior_choices[] = {"learned", "trace", "others", "self", NULL};

struct sim_args {
	const char *trace, *cluster, *vc_file, *from, *to, *jobs_csv, *out;
	int format, policy, placement, compat, profile;
	bool format_set, policy_set, backfill, json, skip_bad, progress, timing, nodes_set;
	int64_t nodes, gpn, seed, generate, restart_s, tiresias_threshold;
	int64_t g_min, g_quantum, g_maxpre, g_starve, g_factor; /* GITTINS settings */
	int64_t g_window;
	int g_prior; /* index into gprior_choices */
	int64_t g_prior_window;
	double vc_scale, load;
	const char *quota_file;
	/* MULTIFACTOR settings, in the order of mf_names; mf_set: given */
	int64_t mf[7];
	bool mf_set[7];
	/* Heterogeneity (docs/placement.md): --speeds, --hetero, --speed-prior,
	 * --speed-learn, and the loaded table (owned) */
	const char *speeds;
	int hetero, speed_prior;
	bool speed_learn, hetero_set, prior_set;
	struct sim_speed *speed_tab;
	size_t nspeeds;
	/* --charge MODEL=RATE,...: fair share in normalized units (multifactor) */
	const char *charge;
	struct sim_charge charges[AIDC_MAX_DEVICE_MODELS];
	size_t ncharges;
};

/* The multifactor flags (they apply to --policy multifactor only). */
static const char *const mf_names[7] = {
    "fs-half-life",	      "priority-calc-period",	   "priority-max-age",
    "priority-weight-age",    "priority-weight-fairshare", "priority-weight-size",
    "priority-weight-qos"};

static const char *usage_text = "aidc sim [--trace FILE --format philly|helios|aidc] "
				"[--policy P|all] [--backfill] [cluster flags] [output flags]";
static const char *summary_text =
	"Replays a workload trace through the scheduling core and reports job completion "
	"times, queueing delays, utilization and fairness. With no trace, runs a built-in "
	"generated workload on a built-in cluster. See docs/sim.md.";

/* The flags' defaults (the Gittins and multifactor ones: the core's). */
static void arg_defaults(struct sim_args *a)
{
	memset(a, 0, sizeof *a);
	a->policy = SCHED_ORDER_FIFO;
	a->placement = SCHED_PLACE_CONSOLIDATE;
	a->format = 2;
	a->gpn = 8;
	a->seed = 1;
	a->vc_scale = 1.0;
	a->load = 0.9;
	struct sched_config core;
	sched_config_defaults(&core);
	a->g_min = core.gittins_min_samples;
	a->g_quantum = core.gittins_quantum_s;
	a->g_maxpre = core.gittins_max_preempt;
	a->g_starve = core.gittins_starve_s;
	a->g_factor = core.gittins_starve_factor;
	a->g_window = core.gittins_window;
	a->mf[0] = core.fs_half_life_s;
	a->mf[1] = core.prio_calc_period_s;
	a->mf[2] = core.prio_max_age_s;
	a->mf[3] = core.prio_weight_age;
	a->mf[4] = core.prio_weight_fairshare;
	a->mf[5] = core.prio_weight_size;
	a->mf[6] = core.prio_weight_qos;
}

static int parse_args(int argc, char **argv, struct sim_args *a)
{
	arg_defaults(a);
	struct sched_name policies[SCHED_ORDER_COUNT_ + 2], *p = policies;
	for (const struct sched_name *r = sched_order_names; r->name; r++)
		*p++ = *r;
	*p++ = (struct sched_name){POLICY_ALL, "all", NULL, "all"};
	*p = (struct sched_name){0, NULL, NULL, NULL};
	const struct cli_flag flags[] = {
		{"trace", CLI_STR, &a->trace, "FILE", "trace to replay ('-' = stdin)", 0, 0, NULL, NULL},
		{"format", CLI_CHOICE, &a->format, "F", "trace format", 0, 0, format_choices, &a->format_set},
		{"policy", CLI_NAME, &(struct cli_name_dst){&a->policy, policies}, "P", "queue policy, or all for a comparison", 0, 0, NULL, &a->policy_set},
		{"backfill", CLI_BOOL, &a->backfill, NULL, "EASY backfill behind the queue head", 0, 0, NULL, NULL},
		{"placement", CLI_NAME, &(struct cli_name_dst){&a->placement, sched_placement_names}, "P", "placement policy", 0, 0, NULL, NULL},
		{"cluster", CLI_STR, &a->cluster, "FILE", "cluster description (docs/cluster-file.md)", 0, 0, NULL, NULL},
		{"nodes", CLI_I64, &a->nodes, "N", "shorthand cluster: N identical nodes", 1, AIDC_MAX_NODES, NULL, &a->nodes_set},
		{"gpus-per-node", CLI_I64, &a->gpn, "G", "devices per node (shorthand, VC file)", 1, AIDC_MAX_DEVICES_PER_NODE, NULL, NULL},
		{"vc-file", CLI_STR, &a->vc_file, "FILE", "one partition per VC (CSV 'vc,node num')", 0, 0, NULL, NULL},
		{"vc-scale", CLI_F64, &a->vc_scale, "X", "multiply every VC's node count (0.5 = halve)", 0.001, 1000, NULL, NULL},
		{"compat", CLI_CHOICE, &a->compat, "SIM", "follow another simulator's rules", 0, 0, compat_choices, NULL},
		{"from", CLI_STR, &a->from, "T", "first submit time replayed (YYYY-MM-DD HH:MM:SS)", 0, 0, NULL, NULL},
		{"to", CLI_STR, &a->to, "T", "last submit time replayed (inclusive)", 0, 0, NULL, NULL},
		{"seed", CLI_I64, &a->seed, "S", "seed for generation and randomized placement", 0, 9007199254740992.0, NULL, NULL},
		{"json", CLI_BOOL, &a->json, NULL, "print the summary as JSON", 0, 0, NULL, NULL},
		{"jobs-csv", CLI_STR, &a->jobs_csv, "FILE", "write one CSV row per job", 0, 0, NULL, NULL},
		{"skip-bad-rows", CLI_BOOL, &a->skip_bad, NULL, "skip and count malformed trace rows", 0, 0, NULL, NULL},
		{"generate", CLI_I64, &a->generate, "N", "write a synthetic trace of N jobs and exit", 1, AIDC_MAX_TRACE_JOBS, NULL, NULL},
		{"out", CLI_STR, &a->out, "FILE", "where --generate writes (default stdout)", 0, 0, NULL, NULL},
		{"profile", CLI_CHOICE, &a->profile, "W", "generated workload's statistics", 0, 0, profile_choices, NULL},
		{"load", CLI_F64, &a->load, "X", "generated offered load / cluster devices", 0.01, 100, NULL, NULL},
		{"restart-overhead", CLI_I64, &a->restart_s, "S", "seconds a preempted job loses on resume", 0, AIDC_MAX_DURATION_S, NULL, NULL},
		{"tiresias-threshold", CLI_I64, &a->tiresias_threshold, "S", "Tiresias: fixed demotion threshold, device-seconds (default: from each VC's history)", 1, AIDC_MAX_DURATION_S, NULL, NULL},
		{"gittins-min-samples", CLI_I64, &a->g_min, "N", "Gittins: finished jobs a class needs before its history is used", 1, 1000000, NULL, NULL},
		{"gittins-quantum", CLI_I64, &a->g_quantum, "S", "Gittins: no preemption in a run's first S seconds (0 = none)", 0, AIDC_MAX_DURATION_S, NULL, NULL},
		{"gittins-max-preempt", CLI_I64, &a->g_maxpre, "N", "Gittins: preemptions per job at most (0 = one per run-time bucket)", 0, 1000000, NULL, NULL},
		{"gittins-starve", CLI_I64, &a->g_starve, "S", "Gittins: a job queued this long goes first and runs unpreempted (0 = never)", 0, AIDC_MAX_DURATION_S, NULL, NULL},
		{"gittins-starve-factor", CLI_I64, &a->g_factor, "X", "Gittins: ... or X times its effective remaining time, whichever is longer", 0, 1000000, NULL, NULL},
		{"gittins-window", CLI_I64, &a->g_window, "N", "Gittins: each class's history weighs about its last N finished jobs (0 = all alike)", 0, 1000000, NULL, NULL},
		{"gittins-prior", CLI_CHOICE, &a->g_prior, "P", "Gittins: class distributions learned online (default), 'trace': ORACLE, diagnostic only: each class's true run-time distribution over the whole replayed trace, fixed; 'others': the same ORACLE without the job's own run time in its classes; 'self': CLAIRVOYANT check, each job's own run time alone", 0, 0, gprior_choices, NULL},
		{"gittins-prior-window", CLI_I64, &a->g_prior_window, "S", "with --gittins-prior (ORACLE): at each time t, the jobs submitted in [t - S, t + S] (0 = the whole trace)", 0, AIDC_MAX_DURATION_S, NULL, NULL},
		{"quota-file", CLI_STR, &a->quota_file, "FILE", "accounts with quotas, borrowing and shares (CSV: account,quota_devices[,borrow_limit,lend_limit,shares,parent,CPU and memory quotas,quota_gpu:MODEL per device model]; docs/tenancy.md); a job is charged to the account named by its VC / partition label", 0, 0, NULL, NULL},
		{"fs-half-life", CLI_I64, &a->mf[0], "S", "multifactor: half-life of fair-share usage (0 = no decay)", 0, AIDC_MAX_DURATION_S, NULL, &a->mf_set[0]},
		{"priority-calc-period", CLI_I64, &a->mf[1], "S", "multifactor: recompute factors at most this often (0 = every pass)", 0, AIDC_MAX_DURATION_S, NULL, &a->mf_set[1]},
		{"priority-max-age", CLI_I64, &a->mf[2], "S", "multifactor: queued time at which the age factor reaches 1", 1, AIDC_MAX_DURATION_S, NULL, &a->mf_set[2]},
		{"priority-weight-age", CLI_I64, &a->mf[3], "N", "multifactor: weight of age", 0, AIDC_MAX_PRIORITY, NULL, &a->mf_set[3]},
		{"priority-weight-fairshare", CLI_I64, &a->mf[4], "N", "multifactor: weight of fair share", 0, AIDC_MAX_PRIORITY, NULL, &a->mf_set[4]},
		{"priority-weight-size", CLI_I64, &a->mf[5], "N", "multifactor: weight of job size", 0, AIDC_MAX_PRIORITY, NULL, &a->mf_set[5]},
		{"priority-weight-qos", CLI_I64, &a->mf[6], "N", "multifactor: weight of QoS", 0, AIDC_MAX_PRIORITY, NULL, &a->mf_set[6]},
		{"charge", CLI_STR, &a->charge, "M=R,...", "multifactor: fair share charges R units per device-second of model M (the live center's rates, aidc rates; others 1)", 0, 0, NULL, NULL},
		{"speeds", CLI_STR, &a->speeds, "FILE", "speed table CSV class,model,speed: a job whose name is a class runs its duration / speed on that model (docs/placement.md)", 0, 0, NULL, NULL},
		{"hetero", CLI_CHOICE, &a->hetero, "MODE", "device model choice by the speed table (needs --speeds)", 0, 0, hetero_choices, &a->hetero_set},
		{"speed-prior", CLI_CHOICE, &a->speed_prior, "P", "the core's initial speeds: the true table, per-model means, or none", 0, 0, prior_choices, &a->prior_set},
		{"speed-learn", CLI_BOOL, &a->speed_learn, NULL, "the core learns speeds from finished jobs", 0, 0, NULL, NULL},
		{"progress", CLI_BOOL, &a->progress, NULL, "progress on stderr even when it is not a TTY", 0, 0, NULL, NULL},
		{"timing", CLI_BOOL, &a->timing, NULL, "print wall time and peak RSS on stderr", 0, 0, NULL, NULL},
	};
	struct cli_cmd cmd = {"sim", usage_text, summary_text, flags, AIDC_ARRAY_LEN(flags)};
	int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
	if (rc == 1)
		return -1; /* --help printed */
	return rc;
}

/* --charge "MODEL=RATE,...": RATE a positive decimal (milli precision), each
 * model once; the models are checked against the cluster by sim_run. */
static int parse_charges(struct sim_args *a, struct aidc_err *e)
{
	char item[AIDC_MAX_NAME_BYTES + 32];
	const double max = AIDC_MAX_SPEED_MILLI / 1000.0;

	for (const char *p = a->charge; p && *p;) {
		size_t n = strcspn(p, ",");
		snprintf(item, sizeof item, "%.*s", (int)AIDC_MIN(n, sizeof item - 1), p);
		char *eq = strrchr(item, '=');
		double v = 0;
		if (n >= sizeof item || !eq || eq == item || (size_t)(eq - item) >= AIDC_MAX_NAME_BYTES ||
		    aidc_parse_f64(eq + 1, 0.001, max, &v))
			return aidc_errf(e, AIDC_E_USAGE,
					 "--charge: '%.64s' is not MODEL=RATE (RATE 0.001..%g)", item,
					 max);
		*eq = '\0';
		for (size_t k = 0; k < a->ncharges; k++)
			if (!strcmp(a->charges[k].model, item))
				return aidc_errf(e, AIDC_E_USAGE, "--charge: model '%s' given twice",
						 item);
		if (a->ncharges == AIDC_ARRAY_LEN(a->charges))
			return aidc_errf(e, AIDC_E_USAGE, "--charge: more than %zu models",
					 AIDC_ARRAY_LEN(a->charges));
		struct sim_charge *c = &a->charges[a->ncharges++];
		memcpy(c->model, item, (size_t)(eq - item) + 1);
		c->charge_milli = (uint32_t)AIDC_MAX(llround(v * 1000), 1);
		p += n;
		if (*p && !*++p)
			return aidc_errf(e, AIDC_E_USAGE, "--charge: empty item after ','");
	}
	if (a->charge && !a->ncharges)
		return aidc_errf(e, AIDC_E_USAGE, "--charge: empty list");
	return 0;
}

static int fail(const struct aidc_err *e, int code)
{
	fprintf(stderr, "aidc sim: %s\n", aidc_err_text(e, code));
	return CLI_EXIT_FAIL;
}

static int usage(const char *msg)
{
	fprintf(stderr, "aidc sim: %s (see 'aidc sim --help')\n", msg);
	return CLI_EXIT_USAGE;
}

static int build_cluster(const struct sim_args *a, struct sim_cluster *c, struct aidc_err *e)
{
	int n = (a->cluster != NULL) + (a->nodes_set) + (a->vc_file != NULL);
	if (n > 1)
		return aidc_errf(e, AIDC_E_USAGE, "--cluster, --nodes and --vc-file exclude each other");
	if (a->compat == 1 && !a->vc_file)
		return aidc_errf(e, AIDC_E_USAGE, "--compat helios needs --vc-file (the VC sizes)");
	if (a->cluster)
		return sim_cluster_load(a->cluster, c, e);
	if (a->vc_file)
		return sim_cluster_load_vcs(a->vc_file, a->vc_scale, a->compat == 1 ? 8u : (uint32_t)a->gpn,
					    c, e);
	return sim_cluster_add_uniform(c, "", a->nodes_set ? (uint32_t)a->nodes : DEMO_NODES,
				       (uint32_t)a->gpn, e);
}

static int gen_opts(const struct sim_args *a, const struct sim_cluster *c, size_t njobs,
		    struct sim_gen_opts *g)
{
	sim_gen_defaults(g);
	g->njobs = njobs;
	g->seed = (uint64_t)a->seed;
	g->profile = (enum sim_gen_profile)a->profile;
	g->load = a->load;
	uint64_t devs = sim_cluster_devices(c);
	g->cluster_devices = devs > UINT32_MAX ? UINT32_MAX : (uint32_t)devs;
	g->node_devices = sim_cluster_node_devices(c);
	return 0;
}

static int do_generate(const struct sim_args *a, const struct sim_cluster *c)
{
	struct aidc_err e;
	aidc_err_clear(&e);
	struct sim_trace t;
	sim_trace_init(&t);
	struct sim_gen_opts g;
	gen_opts(a, c, (size_t)a->generate, &g);
	/* The file appears only when the whole trace was written. */
	struct aidc_outfile out;
	int rc = aidc_outfile_open(&out, a->out, &e);
	if (!rc)
		rc = sim_gen(&g, &t, &e);
	if (!rc)
		rc = sim_trace_write_aidc(&t, out.f, &e);
	if (!rc)
		rc = aidc_outfile_commit(&out, &e);
	aidc_outfile_abort(&out);
	sim_trace_release(&t);
	return rc ? fail(&e, rc) : CLI_EXIT_OK;
}

static void progress(void *ctx, size_t done, size_t total, int64_t now_s)
{
	(void)ctx;
	char when[20];
	aidc_format_datetime(now_s, when);
	fprintf(stderr, "\raidc sim: %3.0f%% of jobs done, simulated time %s",
		total ? 100.0 * (double)done / (double)total : 100.0, when);
	if (done >= total)
		fputc('\n', stderr);
}

static int sim_options(const struct sim_args *a, struct sim_opts *o, struct aidc_err *e)
{
	sim_opts_defaults(o);
	o->placement = (enum sched_placement)a->placement;
	o->policy.backfill = a->backfill;
	o->compat_helios = a->compat == 1;
	o->seed = (uint64_t)a->seed;
	o->restart_overhead_s = a->restart_s;
	o->tiresias_threshold_dev_s = a->tiresias_threshold;
	o->gittins_min_samples = (uint32_t)a->g_min;
	o->gittins_quantum_s = a->g_quantum;
	o->gittins_max_preempt = (uint32_t)a->g_maxpre;
	o->gittins_starve_s = a->g_starve;
	o->gittins_starve_factor = (uint32_t)a->g_factor;
	o->gittins_window = (uint32_t)a->g_window;
	o->gittins_prior = (enum sim_gittins_prior)a->g_prior;
	o->gittins_prior_window_s = a->g_prior_window;
	if (a->g_prior_window && !o->gittins_prior)
		return aidc_errf(e, AIDC_E_USAGE, "--gittins-prior-window needs --gittins-prior");
	if (o->gittins_prior && a->policy != SCHED_ORDER_GITTINS && a->policy != POLICY_ALL)
		return aidc_errf(e, AIDC_E_USAGE, "--gittins-prior applies to --policy gittins only");
	for (size_t i = 0; i < AIDC_ARRAY_LEN(mf_names); i++)
		if (a->mf_set[i] && a->policy != SCHED_ORDER_MULTIFACTOR)
			return aidc_errf(e, AIDC_E_USAGE, "--%s applies to --policy multifactor only",
					 mf_names[i]);
	if (a->ncharges && a->policy != SCHED_ORDER_MULTIFACTOR)
		return aidc_errf(e, AIDC_E_USAGE, "--charge applies to --policy multifactor only");
	o->charges = a->charges;
	o->ncharges = a->ncharges;
	o->fs_half_life_s = a->mf[0];
	o->prio_calc_period_s = a->mf[1];
	o->prio_max_age_s = a->mf[2];
	o->prio_weight_age = (uint32_t)a->mf[3];
	o->prio_weight_fairshare = (uint32_t)a->mf[4];
	o->prio_weight_size = (uint32_t)a->mf[5];
	o->prio_weight_qos = (uint32_t)a->mf[6];
	const char *from = a->from, *to = a->to;
	if (o->compat_helios && a->format == SIM_FORMAT_PHILLY && a->trace) {
		from = from ? from : HELIOS_PHILLY_FROM;
		to = to ? to : HELIOS_PHILLY_TO;
	}
	if (from && aidc_parse_datetime(from, &o->from_s))
		return aidc_errf(e, AIDC_E_USAGE, "--from '%s' is not a time", from);
	if (to && aidc_parse_datetime(to, &o->to_s))
		return aidc_errf(e, AIDC_E_USAGE, "--to '%s' is not a time", to);
	if (from && to && o->from_s > o->to_s)
		return aidc_errf(e, AIDC_E_USAGE, "--from '%s' is later than --to '%s'", from, to);
	if (a->progress || isatty(STDERR_FILENO))
		o->progress_fn = progress;
	if (!a->speeds && (a->hetero || a->prior_set || a->speed_learn))
		return aidc_errf(e, AIDC_E_USAGE, "--%s needs --speeds",
				 a->hetero ? "hetero" : a->prior_set ? "speed-prior" : "speed-learn");
	o->speeds = a->speed_tab;
	o->nspeeds = a->nspeeds;
	o->hetero = (enum sched_hetero)a->hetero;
	o->speed_prior = (enum sim_speed_prior)a->speed_prior;
	o->speed_learn = a->speed_learn;
	return 0;
}

/* --speeds: loads the table and gives every job whose name is a class that
 * class; says on stderr what it applied. */
static int load_speeds(struct sim_args *a, struct sim_trace *t, struct aidc_err *e)
{
	char(*names)[AIDC_MAX_NAME_BYTES] = NULL;
	uint32_t ncls = 0;

	if (!a->speeds)
		return 0;
	int rc = sim_speeds_load(a->speeds, &a->speed_tab, &a->nspeeds, &names, &ncls, e);
	if (rc)
		return rc;
	size_t got = sim_speeds_classify(t, (const char(*)[AIDC_MAX_NAME_BYTES])names, ncls);
	fprintf(stderr,
		"aidc sim: speeds from %s: %u classes, %zu of %zu jobs have one (by name); model "
		"choice %s, core's prior %s%s\n",
		a->speeds, ncls, got, t->n, hetero_choices[a->hetero], prior_choices[a->speed_prior],
		a->speed_learn ? ", learning from finished jobs" : "");
	aidc_free(names);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int load_trace(const struct sim_args *a, const struct sim_cluster *c,
		      struct sim_trace *t, struct aidc_err *e)
{
	if (!a->trace) {
		struct sim_gen_opts g;
		gen_opts(a, c, DEMO_JOBS, &g);
		return sim_gen(&g, t, e);
	}
	struct sim_read_opts ro = {.skip_bad_rows = a->skip_bad};
	int rc = sim_trace_load(a->trace, (enum sim_format)a->format, &ro, t, e);
	if (!rc && t->bad_rows)
		fprintf(stderr, "aidc sim: skipped %zu bad rows; the first: %s\n", t->bad_rows,
			t->first_bad);
	return rc;
}

/* The built-in demo is what a newcomer sees first (README, scripts/run.sh):
 * say what was simulated and how it was made before the table, and where to
 * go next after it. Only for the human table of a run without --trace. */
static void demo_header(const struct sim_args *a, const struct sim_cluster *c, size_t njobs)
{
	printf("aidc sim: built-in demo (no --trace given)\n");
	static const char *const profile_src[] = {"Philly (Microsoft)", "Helios Venus",
						  "Helios Earth"};
	printf("  workload: %zu synthetic jobs, GPU counts and durations fitted to %s,\n"
	       "            Poisson arrivals offering %.0f%% of the devices (generator seed %lld)\n",
	       njobs, profile_src[a->profile], 100.0 * a->load, (long long)a->seed);
	if (a->cluster || a->vc_file)
		printf("  cluster:  %llu nodes, %llu devices (from %s)\n",
		       (unsigned long long)sim_cluster_nodes(c),
		       (unsigned long long)sim_cluster_devices(c), a->cluster ? a->cluster : a->vc_file);
	else
		printf("  cluster:  %llu nodes x %lld GPUs = %llu devices, one partition\n",
		       (unsigned long long)sim_cluster_nodes(c), (long long)a->gpn,
		       (unsigned long long)sim_cluster_devices(c));
	if (a->policy == POLICY_ALL)
		printf("  policies: FIFO, SJF, SRTF, QSSF, Tiresias, Gittins; '+bf' = with EASY backfill\n");
	printf("  columns:  JCT = job completion time (submit to end), queue = wait before the "
	       "first start,\n            util = device utilization, Jain/VC = fairness across "
	       "VCs (1 = equal)\n\n");
}

static void demo_footer(void)
{
	printf("\nNext: replay a real trace with 'aidc sim --trace FILE' (docs/trace-formats.md);\n"
	       "      every flag: 'aidc sim --help'; the guide: docs/sim.md\n");
}

/* Prints the results of n runs (one: full report; several: comparison) and
 * writes the per-job CSV into csv (opened by the caller, may be NULL). */
static int print_results(const struct sim_args *a, const struct sim_cluster *c,
			 struct sim_result *rs, size_t n, struct aidc_outfile *csv,
			 struct aidc_err *e)
{
	struct sim_summary *sums = aidc_calloc(n, sizeof *sums);
	const struct sim_result **rp = aidc_calloc(n, sizeof *rp);
	for (size_t k = 0; k < n; k++) {
		sim_summary_compute(&rs[k], &sums[k]);
		rp[k] = &rs[k];
	}
	int rc = 0;
	if (a->json) {
		struct aidc_buf b;
		aidc_buf_init(&b, 256u << 20);
		struct aidc_json j;
		aidc_json_init(&j, &b, true);
		if (n > 1) {
			aidc_json_obj_begin(&j);
			aidc_json_key(&j, "runs");
			aidc_json_arr_begin(&j);
		}
		for (size_t k = 0; k < n; k++)
			sim_report_json(&rs[k], &sums[k], &j);
		if (n > 1) {
			aidc_json_arr_end(&j);
			aidc_json_obj_end(&j);
		}
		rc = aidc_json_finish(&j);
		if (rc)
			aidc_errf(e, rc, "JSON output is too large");
		else
			printf("%s\n", aidc_buf_str(&b));
		aidc_buf_release(&b);
	} else {
		bool demo = !a->trace;
		if (demo)
			demo_header(a, c, rs[0].trace->n);
		if (n == 1)
			sim_report_text(&rs[0], &sums[0], stdout);
		else
			sim_report_compare(rp, sums, n, stdout);
		if (demo)
			demo_footer();
	}
	if (!rc && csv)
		rc = sim_report_jobs_csv(&rs[0], csv->f, e);
	for (size_t k = 0; k < n; k++)
		sim_summary_release(&sums[k]);
	aidc_free(sums);
	aidc_free(rp);
	return rc;
}

/* Per run, each account's guarantee satisfaction: the fraction of the time
 * with pending demand in which it held at least min(demand, quota). */
static void print_guarantees(const struct sim_result *rs, const struct sim_policy *pol, size_t n,
			     const struct sim_quota *q, size_t nq)
{
	printf("\nguarantee satisfaction per account (time with pending demand holding at "
	       "least min(demand, quota)):\n");
	for (size_t k = 0; k < n; k++) {
		char label[64];
		sim_policy_label(&pol[k], label, sizeof label);
		printf("  %-14s", label);
		for (size_t i = 0; i < nq && rs[k].qstats; i++) {
			const struct sim_quota_stat *st = &rs[k].qstats[i];
			double sat = st->pending_s > 0 ? st->satisfied_s / st->pending_s : 1.0;
			printf(" %s %.2f%%", q[i].name, 100.0 * sat);
		}
		printf("\n");
	}
}

/* Jobs whose VC names no partition are not replayed (docs/sim.md). When that
 * is every job, the cluster and the trace do not belong together: fail with
 * one line. Otherwise say on stderr how many were left out (stdout stays the
 * report). Every run sees the same partitions, so the first run tells. */
static int check_partitions(const struct sim_trace *t, const struct sim_result *r,
			    struct aidc_err *e)
{
	if (r->n_no_part == 0)
		return 0;
	const char *example = "";
	uint8_t *seen = aidc_calloc(AIDC_MAX(sim_strtab_count(&t->strs), 1u), 1);
	size_t nvc = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (r->jobs[i].status != SIM_ST_NO_PART)
			continue;
		uint32_t vc = t->jobs[i].vc;
		if (vc < sim_strtab_count(&t->strs) && !seen[vc]) {
			seen[vc] = 1;
			nvc++;
			if (!*example)
				example = sim_strtab_get(&t->strs, vc);
		}
	}
	aidc_free(seen);
	if (r->n_no_part + r->n_excluded >= t->n)
		return aidc_errf(e, AIDC_E_INVAL, "no job replayed: the %zu jobs' VCs (%zu, e.g. "
				 "'%s') are not partitions of the cluster (check --vc-file / "
				 "--cluster)", r->n_no_part, nvc, example);
	fprintf(stderr, "aidc sim: note: %zu jobs of %zu VCs (e.g. '%s') are not partitions of "
		"the cluster and are not replayed\n", r->n_no_part, nvc, example);
	return 0;
}

/* The policies to run: one, or every order with and without backfill. */
static size_t policy_list(const struct sim_args *a, struct sim_policy *out)
{
	if (a->policy != POLICY_ALL) {
		out[0] = (struct sim_policy){(enum sched_order)a->policy, a->backfill};
		return 1;
	}
	static const enum sched_order orders[] = {SCHED_ORDER_FIFO, SCHED_ORDER_SJF,
						  SCHED_ORDER_SRTF, SCHED_ORDER_QSSF,
						  SCHED_ORDER_TIRESIAS, SCHED_ORDER_GITTINS};
	size_t n = 0;
	for (int bf = 0; bf < (a->compat == 1 ? 1 : 2); bf++)
		for (size_t k = 0; k < AIDC_ARRAY_LEN(orders); k++)
			out[n++] = (struct sim_policy){orders[k], bf == 1};
	return n;
}

static int run_all(const struct sim_args *a, const struct sim_trace *t,
		   const struct sim_cluster *c, struct aidc_err *e)
{
	struct sim_policy pol[16];
	size_t n = policy_list(a, pol);
	if (n > 1 && a->jobs_csv)
		return aidc_errf(e, AIDC_E_USAGE, "--jobs-csv needs a single --policy");
	struct sim_opts o;
	int rc = sim_options(a, &o, e);
	if (rc)
		return rc;
	struct sim_quota *quotas = NULL;
	if (a->quota_file) {
		if ((rc = sim_quotas_load(a->quota_file, &quotas, &o.nquotas, e)) != 0)
			return rc;
		o.quotas = quotas;
	}
	/* Open --jobs-csv before the runs: a bad path fails in a moment, not
	 * after a long replay, and the file appears only on success. */
	struct aidc_outfile csv;
	aidc_outfile_init(&csv);
	if (a->jobs_csv && (rc = aidc_outfile_open(&csv, a->jobs_csv, e)) != 0) {
		aidc_free(quotas);
		return rc;
	}
	struct sim_result *rs = aidc_calloc(n, sizeof *rs);
	size_t done = 0;
	for (; done < n && !rc; done++) {
		o.policy = pol[done];
		sim_result_init(&rs[done]);
		double t0 = now_s();
		rc = sim_run(t, c, &o, &rs[done], e);
		rs[done].wall_s = now_s() - t0;
		if (a->timing) {
			struct rusage ru;
			getrusage(RUSAGE_SELF, &ru);
			char label[64];
			sim_policy_label(&pol[done], label, sizeof label);
			fprintf(stderr, "aidc sim: %s: %zu jobs in %.3f s wall, peak RSS %.1f MiB\n",
				label, t->n, rs[done].wall_s, (double)ru.ru_maxrss / 1024.0);
		}
	}
	if (!rc)
		rc = check_partitions(t, &rs[0], e);
	if (!rc)
		rc = print_results(a, c, rs, n, a->jobs_csv ? &csv : NULL, e);
	if (!rc && quotas && !a->json)
		print_guarantees(rs, pol, n, quotas, o.nquotas);
	aidc_free(quotas);
	if (!rc && a->jobs_csv)
		rc = aidc_outfile_commit(&csv, e);
	aidc_outfile_abort(&csv);
	for (size_t k = 0; k < done; k++)
		sim_result_release(&rs[k]);
	aidc_free(rs);
	return rc;
}

/* Guesses a trace's format from its first line; the reader then checks it
 * properly. Unknown or unreadable files are left to the AIDC reader's message. */
static int sniff_format(const char *path)
{
	struct aidc_csv csv;
	struct aidc_err e;
	aidc_err_clear(&e);
	int fmt = SIM_FORMAT_AIDC;
	if (aidc_csv_open_file(&csv, path, &e) != 0)
		return fmt;
	if (aidc_csv_next(&csv, &e) > 0 && strncmp(csv.fields[0], "# aidc-trace", 12) != 0) {
		for (size_t i = 0; i < csv.nfields; i++) {
			if (strcmp(csv.fields[i], "num_gpus") == 0)
				fmt = SIM_FORMAT_PHILLY;
			else if (strcmp(csv.fields[i], "gpu_num") == 0)
				fmt = SIM_FORMAT_HELIOS;
		}
	}
	aidc_csv_close(&csv);
	return fmt;
}

int cli_sim_main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "openb") == 0)
		return cli_sim_openb_main(argc - 1, argv + 1);
	struct sim_args a;
	int rc = parse_args(argc, argv, &a);
	if (rc < 0)
		return CLI_EXIT_OK;
	if (rc)
		return rc;
	if (a.trace && strcmp(a.trace, "-") == 0 && !a.format_set)
		return usage("--trace - (stdin) needs --format");
	if (a.trace && !a.format_set)
		a.format = sniff_format(a.trace);
	if (!a.trace && !a.policy_set)
		a.policy = POLICY_ALL; /* the demo compares every policy */
	struct aidc_err e;
	aidc_err_clear(&e);
	struct sim_cluster c;
	sim_cluster_init(&c);
	struct sim_trace t;
	sim_trace_init(&t);
	rc = parse_charges(&a, &e);
	if (!rc)
		rc = build_cluster(&a, &c, &e);
	if (!rc && a.generate) {
		rc = do_generate(&a, &c);
		goto out;
	}
	if (!rc)
		rc = load_trace(&a, &c, &t, &e);
	if (!rc)
		rc = load_speeds(&a, &t, &e);
	if (!rc)
		rc = run_all(&a, &t, &c, &e);
	if (rc)
		rc = rc == AIDC_E_USAGE ? usage(aidc_err_text(&e, rc)) : fail(&e, rc);
out:
	aidc_free(a.speed_tab);
	sim_trace_release(&t);
	sim_cluster_release(&c);
	return rc;
}
