/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/hetero: heterogeneity-aware placement against unaware placement
 * (issue 12 item 3; docs/placement.md "Heterogeneity-aware placement").
 *
 * Cluster: the GPU nodes of Alibaba's openb node list (1,213 nodes, 6,212
 * GPUs of 7 models), an even sample of --scale of them (default 0.1: 121
 * nodes, 621 GPUs, the same model mix; at full scale the generated workloads
 * never queue), consecutive identical nodes as one group. Workload:
 * `aidc sim`'s Philly-fitted generator at each offered load (against base run
 * times, i.e. on P100-speed devices), every job template (a recurring job of
 * one user) given one of the speed table's classes by a hash of its name.
 * Speeds: bench/hetero/speeds_openb.csv (Gavel's published per-model
 * throughputs plus stated assumptions). A job runs base / speed(class, model)
 * on the model it is given. Every variant replays the same trace on the same
 * cluster with FIFO + EASY backfill and consolidating placement:
 *   unaware      the core's model choice (cfg.hetero OFF), speeds in effect
 *   fastest      SCHED_HETERO_FASTEST with the true table
 *   gavel        SCHED_HETERO_GAVEL with the true table
 *   gavel-learn  SCHED_HETERO_GAVEL from per-model speeds only (the mean
 *                over classes, as one exam score per model gives), learning
 *                each class's speeds from finished jobs
 * and prints average JCT, average queueing delay and makespan, with the
 * ratio to unaware measured in the same run.
 *
 * usage: hetero_bench [--nodes FILE] [--speeds FILE] [--jobs N] [--loads X,Y,...]
 *                     [--scale X] [--profile philly|venus|earth] [--seed S] [--seeds N]
 * (defaults: 20,000 jobs, loads 1.0,1.5,2.0, scale 0.1, philly, seed 1, 1 seed)
 * --seeds N runs seeds S..S+N-1 and ends with each variant's mean, min and
 * max JCT change per load: one seed's change swings widely (gavel at load
 * 1.5: -11.1% to -27.8% over seeds 1-4), so claims rest on the mean.
 * Traces: $AIDC_TRACES_DIR or ../shared/traces; SKIP (exit 0) when absent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/openb.h"
#include "sim/sim.h"
#include "util/util.h"

struct variant {
	const char *name;
	enum sched_hetero hetero;
	enum sim_speed_prior prior;
	bool learn;
};

static const struct variant variants[] = {
    {"unaware", SCHED_HETERO_OFF, SIM_PRIOR_EXACT, false},
    {"fastest", SCHED_HETERO_FASTEST, SIM_PRIOR_EXACT, false},
    {"gavel", SCHED_HETERO_GAVEL, SIM_PRIOR_EXACT, false},
    {"gavel-learn", SCHED_HETERO_GAVEL, SIM_PRIOR_MODEL, true},
};

/* The openb GPU nodes as groups of consecutive identical nodes. */
static int build_cluster(const char *path, double scale, struct sim_cluster *c, struct aidc_err *e)
{
	struct sim_openb_models models = {0};
	struct sim_openb_nodes nodes = {0};
	int rc = sim_openb_read_nodes(path, &models, &nodes, e);

	for (size_t i = 0; !rc && i < nodes.n; i++) {
		const struct sim_openb_node *nd = &nodes.v[i];
		struct sim_node_group *g = c->n ? &c->groups[c->n - 1] : NULL;
		/* --scale: every node i with floor((i + 1) x scale) > floor(i x scale),
		 * an even sample that keeps the model mix */
		if (!nd->ngpu ||
		    (uint64_t)((double)(i + 1) * scale) <= (uint64_t)((double)i * scale))
			continue;
		if (g && g->devices == nd->ngpu && g->cpu_milli == nd->cpu_milli &&
		    g->mem_mib == nd->mem_mib && !strcmp(g->model, models.name[nd->model])) {
			g->count++;
			continue;
		}
		AIDC_GROW(c->groups, c->cap, c->n + 1);
		g = &c->groups[c->n++];
		sim_node_group_defaults(g);
		snprintf(g->name, sizeof g->name, "openb");
		snprintf(g->model, sizeof g->model, "%s", models.name[nd->model]);
		g->count = 1;
		g->devices = nd->ngpu;
		g->cpu_milli = nd->cpu_milli;
		g->mem_mib = nd->mem_mib;
	}
	sim_openb_nodes_release(&nodes);
	return rc;
}

/* Class of every job: a hash of its name (a user's job template), so one
 * recurring job always has one class. */
static void assign_classes(struct sim_trace *t, uint32_t nclasses)
{
	for (size_t i = 0; i < t->n; i++) {
		const unsigned char *p =
		    (const unsigned char *)sim_strtab_get(&t->strs, t->jobs[i].name);
		uint64_t h = 1469598103934665603ull; /* FNV-1a */
		while (*p)
			h = (h ^ *p++) * 1099511628211ull;
		t->jobs[i].speed_class = (uint32_t)(h % nclasses) + 1;
	}
}

struct row {
	double jct, queue;
	int64_t makespan;
	size_t never;
};

static int run_one(const struct sim_trace *t, const struct sim_cluster *c,
		   const struct sim_speed *sp, size_t nsp, const struct variant *v, struct row *out,
		   struct aidc_err *e)
{
	struct sim_opts o;
	struct sim_result r;
	struct sim_summary sum;

	sim_opts_defaults(&o);
	o.policy.order = SCHED_ORDER_FIFO;
	o.policy.backfill = true;
	o.speeds = sp;
	o.nspeeds = nsp;
	o.hetero = v->hetero;
	o.speed_prior = v->prior;
	o.speed_learn = v->learn;
	sim_result_init(&r);
	int rc = sim_run(t, c, &o, &r, e);
	if (!rc) {
		sim_summary_compute(&r, &sum);
		out->jct = sum.all.jct_avg;
		out->queue = sum.all.queue_avg;
		out->makespan = sum.all.makespan_s;
		out->never = sum.all.never_started;
		sim_summary_release(&sum);
	}
	sim_result_release(&r);
	return rc;
}

enum { NVAR = AIDC_ARRAY_LEN(variants), MAX_LOADS = 16 };

/* Per load and variant, the JCT change against unaware over the seeds run. */
struct seed_stats {
	double sum[MAX_LOADS][NVAR], min[MAX_LOADS][NVAR], max[MAX_LOADS][NVAR];
	double load[MAX_LOADS];
	size_t nloads, nseeds;
};

static void stats_add(struct seed_stats *st, size_t li, size_t k, double chg)
{
	bool first = st->nseeds == 0;
	st->sum[li][k] += chg;
	st->min[li][k] = first || chg < st->min[li][k] ? chg : st->min[li][k];
	st->max[li][k] = first || chg > st->max[li][k] ? chg : st->max[li][k];
}

static void stats_print(const struct seed_stats *st, uint64_t seed)
{
	printf("\nover seeds %llu..%llu: JCT vs unaware\n\n| load | placement | mean | min | max "
	       "|\n|---|---|---|---|---|\n",
	       (unsigned long long)seed, (unsigned long long)(seed + st->nseeds - 1));
	for (size_t li = 0; li < st->nloads; li++)
		for (size_t k = 1; k < NVAR; k++)
			printf("| %.1f | %s | %+.1f%% | %+.1f%% | %+.1f%% |\n", st->load[li],
			       variants[k].name, 100.0 * st->sum[li][k] / (double)st->nseeds,
			       100.0 * st->min[li][k], 100.0 * st->max[li][k]);
}

/* One load with one seed: a row per variant; chg[k] = its JCT change. */
static int one_load(const struct sim_cluster *c, const struct sim_speed *sp, size_t nsp,
		    uint32_t ncls, size_t njobs, double load, uint64_t seed, int profile,
		    double chg[NVAR], struct aidc_err *e)
{
	struct sim_gen_opts g;
	struct sim_trace t;
	struct row base = {0}, r;
	int rc;

	sim_gen_defaults(&g);
	g.njobs = njobs;
	g.seed = seed;
	g.load = load;
	g.profile = (enum sim_gen_profile)profile;
	g.cluster_devices = (uint32_t)sim_cluster_devices(c);
	g.node_devices = sim_cluster_node_devices(c);
	sim_trace_init(&t);
	rc = sim_gen(&g, &t, e);
	if (!rc) {
		sim_trace_sort(&t);
		assign_classes(&t, ncls);
	}
	for (size_t k = 0; !rc && k < AIDC_ARRAY_LEN(variants); k++) {
		rc = run_one(&t, c, sp, nsp, &variants[k], k ? &r : &base, e);
		if (rc)
			break;
		if (!k)
			r = base;
		chg[k] = r.jct / base.jct - 1.0;
		printf("| %.1f | %s | %.0f | %.0f | %.1f | %+.1f%% | %+.1f%% |\n", load,
		       variants[k].name, r.jct, r.queue, (double)r.makespan / 3600.0,
		       100.0 * (r.jct / base.jct - 1.0),
		       100.0 * ((double)r.makespan / (double)base.makespan - 1.0));
		fflush(stdout);
	}
	sim_trace_release(&t);
	return rc;
}

/* Every load of the list with one seed, into st. */
static int run_loads(const struct sim_cluster *c, const struct sim_speed *sp, size_t nsp,
		     uint32_t ncls, size_t njobs, const char *loads, uint64_t seed, int profile,
		     struct seed_stats *st, struct aidc_err *e)
{
	int rc = 0;
	size_t li = 0;
	for (const char *p = loads; !rc && *p; li++) {
		double chg[NVAR] = {0};
		if (li == MAX_LOADS)
			return aidc_errf(e, AIDC_E_LIMIT, "more than %d loads", MAX_LOADS);
		char one[64];
		size_t n = strcspn(p, ",");
		snprintf(one, sizeof one, "%.*s", (int)(n < sizeof one ? n : sizeof one - 1), p);
		if (n >= sizeof one || aidc_parse_f64(one, 0.01, 100, &st->load[li]))
			return aidc_errf(e, AIDC_E_INVAL, "--loads: '%s' is not a load in 0.01..100",
					 one);
		rc = one_load(c, sp, nsp, ncls, njobs, st->load[li], seed, profile, chg, e);
		for (size_t k = 0; !rc && k < NVAR; k++)
			stats_add(st, li, k, chg[k]);
		p = strchr(p, ',');
		p = p ? p + 1 : "";
	}
	st->nloads = li;
	return rc;
}

/* The command line (values checked; an unknown or incomplete option refused). */
struct hb_args {
	const char *nodes, *speeds, *loads;
	int64_t njobs, seed, nseeds;
	int profile;
	double scale;
};

/* Whether every load of the comma list is a number in 0.01..100 (at most
 * MAX_LOADS of them). */
static bool loads_ok(const char *loads)
{
	size_t k = 0;
	for (const char *p = loads; *p; k++) {
		char one[64];
		double v;
		size_t n = strcspn(p, ",");
		snprintf(one, sizeof one, "%.*s", (int)(n < sizeof one ? n : sizeof one - 1), p);
		if (k == MAX_LOADS || n >= sizeof one || aidc_parse_f64(one, 0.01, 100, &v))
			return false;
		p += n + (p[n] == ',');
	}
	return k > 0;
}

static int parse_args(int argc, char **argv, struct hb_args *a)
{
	for (int i = 1; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool bad = !v;
		if (bad)
			;
		else if (!strcmp(k, "--nodes"))
			a->nodes = v;
		else if (!strcmp(k, "--speeds"))
			a->speeds = v;
		else if (!strcmp(k, "--jobs"))
			bad = aidc_parse_i64(v, 1, 100000000, &a->njobs) != 0;
		else if (!strcmp(k, "--loads"))
			bad = !loads_ok(a->loads = v);
		else if (!strcmp(k, "--scale"))
			bad = aidc_parse_f64(v, 1e-9, 1, &a->scale) != 0;
		else if (!strcmp(k, "--profile"))
			bad = (a->profile = sim_gen_profile_parse(v)) < 0;
		else if (!strcmp(k, "--seed"))
			bad = aidc_parse_i64(v, 0, INT64_MAX / 2, &a->seed) != 0;
		else if (!strcmp(k, "--seeds"))
			bad = aidc_parse_i64(v, 1, 1000, &a->nseeds) != 0;
		else
			bad = true;
		if (bad) {
			fprintf(stderr, "hetero_bench: %s%s%s: bad or unknown option (usage: "
					"hetero_bench [--nodes CSV] [--speeds CSV] [--jobs 1..1e8] "
					"[--loads L,... (0.01..100)] [--scale (0,1]] [--profile philly|venus|earth] "
					"[--seed N] [--seeds 1..1000])\n",
				k, v ? " " : "", v ? v : "");
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = getenv("AIDC_TRACES_DIR");
	struct hb_args a = {.speeds = "bench/hetero/speeds_openb.csv",
			    .loads = "1.0,1.5,2.0",
			    .njobs = 20000,
			    .seed = 1,
			    .nseeds = 1,
			    .profile = SIM_GEN_PHILLY,
			    .scale = 0.1};
	char npath[4096];
	struct aidc_err e = {0};
	struct stat sb;

	if (parse_args(argc, argv, &a) != 0)
		return 2;
	snprintf(npath, sizeof npath, "%s/alibaba-openb-2023/openb_node_list_gpu_node.csv",
		 dir ? dir : "../shared/traces");
	const char *nodes = a.nodes ? a.nodes : npath, *speeds = a.speeds, *loads = a.loads;
	size_t njobs = (size_t)a.njobs;
	uint64_t seed = (uint64_t)a.seed, nseeds = (uint64_t)a.nseeds;
	int profile = a.profile;
	double scale = a.scale;
	if (stat(nodes, &sb) != 0) {
		printf("hetero_bench: SKIP (%s not found)\n", nodes);
		return 0;
	}
	struct sim_cluster c;
	struct sim_speed *sp = NULL;
	char(*names)[AIDC_MAX_NAME_BYTES] = NULL;
	size_t nsp = 0;
	uint32_t ncls = 0;
	sim_cluster_init(&c);
	int rc = build_cluster(nodes, scale, &c, &e);
	if (!rc)
		rc = sim_speeds_load(speeds, &sp, &nsp, &names, &ncls, &e);
	if (!rc) {
		printf("cluster: %s x %.2f (%zu groups, %llu nodes, %llu GPUs); speeds: %s (%u "
		       "classes); %zu %s jobs per load, seed %llu; FIFO + EASY backfill, "
		       "consolidate\n\n",
		       nodes, scale, c.n, (unsigned long long)sim_cluster_nodes(&c),
		       (unsigned long long)sim_cluster_devices(&c), speeds, ncls, njobs,
		       profile == SIM_GEN_PHILLY  ? "philly"
		       : profile == SIM_GEN_VENUS ? "venus"
						  : "earth",
		       (unsigned long long)seed);
		printf(
		    "| load | placement | avg JCT s | avg queue s | makespan h | JCT vs unaware | "
		    "makespan vs unaware |\n|---|---|---|---|---|---|---|\n");
	}
	static struct seed_stats st;
	for (uint64_t sd = seed; !rc && sd < seed + nseeds; sd++, st.nseeds++) {
		if (nseeds > 1)
			printf("%s| seed %llu |\n", sd == seed ? "" : "|---|---|---|---|---|---|---|\n",
			       (unsigned long long)sd);
		rc = run_loads(&c, sp, nsp, ncls, njobs, loads, sd, profile, &st, &e);
	}
	if (!rc && nseeds > 1)
		stats_print(&st, seed);
	if (rc)
		fprintf(stderr, "hetero_bench: %s\n", aidc_err_text(&e, rc));
	aidc_free(sp);
	aidc_free(names);
	sim_cluster_release(&c);
	return rc ? 1 : 0;
}
