/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/sched_quality: how close the non-oracle queue orders come to the SRTF
 * oracle. For each workload it replays FIFO, SJF, SRTF, QSSF, Tiresias and
 * Gittins through the simulator and prints avg and p99 JCT with the gap to
 * SRTF (the baseline measured in the same run), then checks issue 17's
 * targets for Gittins on every row: avg JCT within 25% of SRTF (philly-pollux
 * rows), never more than 1% worse than FIFO, p99 no worse than Tiresias.
 *
 * Workloads:
 *   - philly-pollux per VC, Helios-style (--compat helios: 11 VCs of 8-GPU
 *     nodes from philly-meta/philly_vc.csv, Helios placement, strict queues,
 *     Oct-Nov 2017) at full, half and quarter VC sizes;
 *   - Alibaba PAI 2020: only usable with a job table, which ../shared/traces
 *     does not hold (SKIP with the reason);
 *   - generated workloads of each --profile (philly, venus, earth), 4,000 jobs
 *     on 16 x 8 GPUs at offered load 0.9 and 1.2 (seed 1).
 * Traces come from argv[1], else $AIDC_TRACES_DIR, else ../shared/traces; a
 * missing trace prints SKIP and the rest still runs. One parameter set: the
 * core's defaults (sched_config_defaults). Never a test: it asserts nothing;
 * the exit status is 0 unless a run fails.
 * Usage: bench_sched_quality [TRACES_DIR] [--scale 1|0.5|0.25] [--no-generated]
 * [--no-philly] [--restart-overhead S] [--gittins-* V] [--jitter N] (subsets
 * and the --gittins-* flags of `aidc sim`, to explore; the reported table uses
 * none).
 *
 * --gittins-prior trace|others|self: a seventh column, Git-dist: the Gittins order
 * with each class's true run-time distribution over the replayed trace, fixed
 * (`aidc sim --gittins-prior trace|others`; others: without the job's own run
 * time; self: each job's own run time alone, CLAIRVOYANT, the order's mechanics
 * with perfect knowledge; an ORACLE, a diagnostic of what knowing the distribution exactly would
 * buy, never a target); with --jitter its gap over the runs too.
 * --gittins-prior-window S: Git-dist's distribution at time t is that of the
 * jobs submitted in [t - S, t + S] (the workload drifts).
 *
 * --jitter N (1..8): the philly-pollux rows are also replayed N more times,
 * run r moving every job's submit time later by a fixed pseudo-random 0..60 s
 * (aidc_mix64 of r and the row's file position; the one-minute resolution
 * noise of a trace), and each row then gets the mean, min and max of its
 * Gittins gap to SRTF over the N + 1 runs, and in how many runs it met each
 * target. Why: on the overloaded quarter-size VCs such a shift moves single
 * rows by tens of points (docs/scheduler.md), so a variant that raises the
 * count of one run may only have drawn a lucky one. The "Gittins targets"
 * line stays the unjittered run's.
 */
#include <sys/stat.h>
#include <time.h>

#include "sim/sim.h"
#include "util/util.h"
#include "../bench_util.h"

/* The last one is only with --gittins-prior: Gittins with the trace's true
 * distribution (ORACLE, a diagnostic; "Git-dist" in the table). */
static const enum sched_order orders[] = {SCHED_ORDER_FIFO, SCHED_ORDER_SJF,
					  SCHED_ORDER_SRTF, SCHED_ORDER_QSSF,
					  SCHED_ORDER_TIRESIAS, SCHED_ORDER_GITTINS,
					  SCHED_ORDER_GITTINS};
#define NORD AIDC_ARRAY_LEN(orders)
enum { O_FIFO, O_SJF, O_SRTF, O_QSSF, O_TIR, O_GIT, O_GITD };
/* orders run: NORD - 1, or NORD with --gittins-prior */
static size_t nord = NORD - 1;
static enum sim_gittins_prior dist_prior; /* Git-dist's, and its window */
static int64_t dist_window_s;

struct tally {
	size_t rows, within25, vs_fifo_ok, p99_ok;
	double worst_gap, worst_vs_fifo, worst_p99_vs_tir;
};

static int64_t restart_s;
/* subsets for exploring (the reported table uses none): one philly scale, no
 * generated rows, no philly rows */
static double only_scale;
static bool skip_generated, skip_philly;
/* GITTINS settings: the core's defaults unless a flag (for exploring) says otherwise */
static struct sim_opts gopt;

/* --jitter: extra runs of the philly rows, the run being replayed (0 = the
 * trace as it is), and each row's results over the runs */
#define MAX_JITTER   8
#define MAX_AGG_ROWS 64
static uint32_t jitter_runs, cur_run;
static double cur_scale;
struct agg_row {
	char name[48];
	double gap[MAX_JITTER + 1];
	double gapd[MAX_JITTER + 1]; /* Git-dist's (--gittins-prior) */
	bool ok25[MAX_JITTER + 1], okf[MAX_JITTER + 1], okp[MAX_JITTER + 1];
};
static struct agg_row agg[MAX_AGG_ROWS];
static size_t nagg;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Records a philly row's Gittins results of run cur_run (rows are found by
 * scale and name; the first run adds them). */
static void agg_note(const char *name, double gap, double gapd, bool ok25, bool okf, bool okp)
{
	char key[48];
	size_t i = 0;

	snprintf(key, sizeof key, "x%.2f %s", cur_scale, name);
	while (i < nagg && strcmp(agg[i].name, key) != 0)
		i++;
	if (i == nagg) {
		if (nagg == MAX_AGG_ROWS || cur_run)
			return;
		snprintf(agg[nagg++].name, sizeof agg[0].name, "%s", key);
	}
	agg[i].gap[cur_run] = gap;
	agg[i].gapd[cur_run] = gapd;
	agg[i].ok25[cur_run] = ok25;
	agg[i].okf[cur_run] = okf;
	agg[i].okp[cur_run] = okp;
}

/* With --gittins-prior: Git-dist's gap to SRTF over the runs (mean, min, max,
 * runs within 25%) at the end of an agg_print line. */
static void agg_print_dist(const struct agg_row *a, uint32_t runs)
{
	double sum = 0, lo = a->gapd[0], hi = a->gapd[0];
	uint32_t n25 = 0;

	for (uint32_t r = 0; r < runs && nord == NORD; r++) {
		sum += a->gapd[r];
		lo = AIDC_MIN(lo, a->gapd[r]);
		hi = AIDC_MAX(hi, a->gapd[r]);
		n25 += a->gapd[r] <= 25.0;
	}
	if (nord == NORD)
		printf("   Git-dist %+8.1f%% %+8.1f%% %+8.1f%% %4u/%u", sum / runs, lo, hi, n25,
		       runs);
	printf("\n");
}

/* With --jitter: each philly row's Gittins gap over the runs and how many runs
 * met each target; then per run, how many rows met each. */
static void agg_print(void)
{
	uint32_t runs = jitter_runs + 1;

	if (!jitter_runs || !nagg)
		return;
	printf("\nGittins over %u runs (run 0: the trace; runs 1..%u: submit times + 0..60 s)\n"
	       "%-20s %9s %9s %9s %6s %6s %6s\n",
	       runs, jitter_runs, "size VC", "gap mean", "min", "max", "<=25%", "FIFO", "p99");
	for (size_t i = 0; i < nagg; i++) {
		double sum = 0, lo = agg[i].gap[0], hi = agg[i].gap[0];
		uint32_t n25 = 0, nf = 0, np = 0;

		for (uint32_t r = 0; r < runs; r++) {
			sum += agg[i].gap[r];
			lo = AIDC_MIN(lo, agg[i].gap[r]);
			hi = AIDC_MAX(hi, agg[i].gap[r]);
			n25 += agg[i].ok25[r];
			nf += agg[i].okf[r];
			np += agg[i].okp[r];
		}
		printf("%-20s %+8.1f%% %+8.1f%% %+8.1f%% %4u/%u %4u/%u %4u/%u", agg[i].name,
		       sum / runs, lo, hi, n25, runs, nf, runs, np, runs);
		agg_print_dist(&agg[i], runs);
	}
	for (uint32_t r = 0; r < runs; r++) {
		uint32_t n25 = 0, nf = 0, np = 0;

		for (size_t i = 0; i < nagg; i++) {
			n25 += agg[i].ok25[r];
			nf += agg[i].okf[r];
			np += agg[i].okp[r];
		}
		printf("run %u: philly rows (%zu): within 25%% of SRTF %u, at most 1%% worse than "
		       "FIFO %u, p99 <= Tiresias %u\n",
		       r, nagg, n25, nf, np);
	}
}

/* Sets every job's submit time to its time in the file (orig, by file
 * position) plus run r's shift, 0..60 s (none for run 0), and sorts again. */
static void jitter_trace(struct sim_trace *tr, const int64_t *orig, uint32_t r)
{
	for (size_t i = 0; i < tr->n; i++) {
		uint64_t pos = tr->jobs[i].seq;

		if (pos >= tr->n)
			continue;
		tr->jobs[i].submit_s =
		    orig[pos] + (r ? (int64_t)(aidc_mix64((uint64_t)r << 40 ^ pos) % 61) : 0);
	}
	sim_trace_sort(tr);
}

/* One row: the six orders' stats for one workload (or one VC of it). */
static void row(const char *name, const struct sim_stats *st[NORD], bool check25,
		struct tally *t)
{
	double srtf = st[O_SRTF]->jct_avg;
	double gap = srtf > 0 ? 100.0 * (st[O_GIT]->jct_avg / srtf - 1) : 0;
	double vs_fifo = st[O_FIFO]->jct_avg > 0
			     ? 100.0 * (st[O_GIT]->jct_avg / st[O_FIFO]->jct_avg - 1)
			     : 0;
	double p99 = st[O_TIR]->jct_p99 > 0
			 ? 100.0 * (st[O_GIT]->jct_p99 / st[O_TIR]->jct_p99 - 1)
			 : 0;
	bool ok25 = gap <= 25.0, okf = vs_fifo <= 1.0, okp = p99 <= 0.0;
	double gapd = nord == NORD && srtf > 0 ? 100.0 * (st[O_GITD]->jct_avg / srtf - 1) : 0;

	printf("%-16s %6zu", name, st[O_FIFO]->finished);
	for (size_t k = 0; k < nord; k++) {
		double g = srtf > 0 ? 100.0 * (st[k]->jct_avg / srtf - 1) : 0;
		printf(" %9.0f %6.1f%% %8.0f", st[k]->jct_avg, g, st[k]->jct_p99);
	}
	printf("  %s%s%s\n", check25 ? (ok25 ? "" : " >25%") : "", okf ? "" : " >FIFO+1%",
	       okp ? "" : " p99>Tir");
	if (check25)
		agg_note(name, gap, gapd, ok25, okf, okp);
	t->rows++;
	if (check25) {
		t->within25 += ok25;
		t->worst_gap = AIDC_MAX(t->worst_gap, gap);
	}
	t->vs_fifo_ok += okf;
	t->p99_ok += okp;
	t->worst_vs_fifo = AIDC_MAX(t->worst_vs_fifo, vs_fifo);
	t->worst_p99_vs_tir = AIDC_MAX(t->worst_p99_vs_tir, p99);
}

static void header(const char *title)
{
	printf("\n%s\n%-16s %6s", title, "workload/VC", "jobs");
	for (size_t k = 0; k < nord; k++) {
		char l[32];
		snprintf(l, sizeof l, "%s avg",
			 k == O_GITD ? "Git-dist" : sched_order_label(orders[k]));
		printf(" %9s %7s %8s", l, "gap", "p99");
	}
	printf("  misses (Gittins)\n");
}

/* Runs every order on t/c; sums[k] filled (caller releases). */
static int run_orders(const struct sim_trace *t, const struct sim_cluster *c, bool helios,
		      struct sim_result rs[NORD], struct sim_summary sums[NORD], double *wall)
{
	struct aidc_err e;
	int rc = 0;

	aidc_err_clear(&e);
	for (size_t k = 0; k < nord; k++) {
		struct sim_opts o;
		sim_opts_defaults(&o);
		o.policy.order = orders[k];
		o.compat_helios = helios;
		o.restart_overhead_s = restart_s;
		o.gittins_min_samples = gopt.gittins_min_samples;
		o.gittins_quantum_s = gopt.gittins_quantum_s;
		o.gittins_max_preempt = gopt.gittins_max_preempt;
		o.gittins_starve_s = gopt.gittins_starve_s;
		o.gittins_starve_factor = gopt.gittins_starve_factor;
		o.gittins_window = gopt.gittins_window;
		o.gittins_prior = k == O_GITD ? dist_prior : SIM_GPRIOR_LEARNED;
		o.gittins_prior_window_s = dist_window_s;
		if (helios) {
			aidc_parse_datetime("2017-10-01 00:00:00", &o.from_s);
			aidc_parse_datetime("2017-11-30 23:59:59", &o.to_s);
		}
		sim_result_init(&rs[k]);
		double t0 = now_s();
		rc = sim_run(t, c, &o, &rs[k], &e);
		*wall += now_s() - t0;
		if (rc) {
			fprintf(stderr, "bench_sched_quality: %s: %s\n", sched_order_label(orders[k]),
				aidc_err_text(&e, rc));
			for (size_t i = 0; i <= k; i++)
				sim_result_release(&rs[i]);
			return rc;
		}
		sim_summary_compute(&rs[k], &sums[k]);
	}
	return 0;
}

static void release_all(struct sim_result rs[NORD], struct sim_summary sums[NORD])
{
	for (size_t k = 0; k < nord; k++) {
		sim_summary_release(&sums[k]);
		sim_result_release(&rs[k]);
	}
}

/* The philly rows of every scale for trace tr as it is now (run cur_run). */
static int philly_scales(const struct sim_trace *tr, const char *vpath, struct tally *t,
			 double *wall)
{
	static const double scales[] = {1.0, 0.5, 0.25};
	struct aidc_err e;
	int rc = 0;

	aidc_err_clear(&e);
	for (size_t si = 0; si < AIDC_ARRAY_LEN(scales) && !rc; si++) {
		if (only_scale > 0 && scales[si] != only_scale)
			continue;
		struct sim_cluster c;
		struct sim_result rs[NORD];
		struct sim_summary sums[NORD];
		const struct sim_stats *st[NORD];
		char title[160];

		sim_cluster_init(&c);
		rc = sim_cluster_load_vcs(vpath, scales[si], 8, &c, &e);
		if (rc) {
			fprintf(stderr, "bench_sched_quality: %s\n", aidc_err_text(&e, rc));
			sim_cluster_release(&c);
			break;
		}
		snprintf(
		    title, sizeof title,
		    "philly-pollux, Helios VCs x %.2f (%llu GPUs), Oct-Nov 2017%s: avg/p99 JCT s, "
		    "gap = avg vs SRTF",
		    scales[si], (unsigned long long)sim_cluster_devices(&c),
		    cur_run ? ", jittered (see --jitter)" : "");
		cur_scale = scales[si];
		rc = run_orders(tr, &c, true, rs, sums, wall);
		if (!rc) {
			header(title);
			if (cur_run)
				printf("(jitter run %u)\n", cur_run);
			for (size_t v = 0; v < sums[0].nvcs; v++) {
				for (size_t k = 0; k < nord; k++)
					st[k] = &sums[k].vcs[v].st;
				row(sim_strtab_get(&tr->strs, sums[0].vcs[v].key), st, true, t);
			}
			for (size_t k = 0; k < nord; k++)
				st[k] = &sums[k].all;
			row("all VCs", st, true, t);
			release_all(rs, sums);
		}
		sim_cluster_release(&c);
	}
	return rc;
}

/* The philly rows: the trace as it is into t, then with --jitter each jittered
 * run (their tallies only feed agg). */
static int philly(const char *dir, struct tally *t, double *wall)
{
	char tpath[1024], vpath[1024];
	struct aidc_err e;
	struct sim_trace tr;
	int64_t *orig = NULL;
	int rc;

	if (bench_philly_paths(dir, "\nphilly-pollux", tpath, vpath, sizeof tpath))
		return 0;
	aidc_err_clear(&e);
	sim_trace_init(&tr);
	rc = sim_trace_load(tpath, SIM_FORMAT_PHILLY, NULL, &tr, &e);
	if (rc) {
		fprintf(stderr, "bench_sched_quality: %s\n", aidc_err_text(&e, rc));
		sim_trace_release(&tr);
		return rc;
	}
	if (jitter_runs) {
		orig = aidc_reallocarray(NULL, tr.n ? tr.n : 1, sizeof *orig);
		for (size_t i = 0; i < tr.n; i++)
			if (tr.jobs[i].seq < tr.n)
				orig[tr.jobs[i].seq] = tr.jobs[i].submit_s;
	}
	for (cur_run = 0; cur_run <= jitter_runs && !rc; cur_run++) {
		struct tally scratch = {0};

		if (cur_run)
			jitter_trace(&tr, orig, cur_run);
		rc = philly_scales(&tr, vpath, cur_run ? &scratch : t, wall);
	}
	aidc_free(orig);
	sim_trace_release(&tr);
	return rc;
}

static void pai(const char *dir)
{
	char p[1024];
	struct stat sb;

	snprintf(p, sizeof p, "%s/alibaba-pai-2020-meta/pai_job_table.csv", dir);
	if (stat(p, &sb) != 0)
		printf("\nalibaba-pai-2020: SKIP (no job table: %s is absent; the folder holds only "
		       "the machine spec and a simulator log, see its SOURCE.txt)\n",
		       p);
	else
		printf("\nalibaba-pai-2020: SKIP (%s present but no reader for its format yet)\n", p);
}

static int generated(struct tally *t, double *wall)
{
	static const char *const profiles[] = {"philly", "venus", "earth"};
	static const double loads[] = {0.9, 1.2};
	struct sim_result rs[NORD];
	struct sim_summary sums[NORD];
	const struct sim_stats *st[NORD];
	struct aidc_err e;
	int rc = 0;

	aidc_err_clear(&e);
	header("generated (aidc sim --profile P --load L, 4,000 jobs, 16 x 8 GPUs, seed 1)");
	for (size_t pi = 0; pi < AIDC_ARRAY_LEN(profiles) && !rc; pi++) {
		for (size_t li = 0; li < AIDC_ARRAY_LEN(loads) && !rc; li++) {
			struct sim_cluster c;
			struct sim_trace tr;
			struct sim_gen_opts g;
			char name[64];

			sim_cluster_init(&c);
			sim_trace_init(&tr);
			sim_cluster_add_uniform(&c, "", 16, 8, &e);
			sim_gen_defaults(&g);
			g.njobs = 4000;
			g.seed = 1;
			g.profile = (enum sim_gen_profile)sim_gen_profile_parse(profiles[pi]);
			g.load = loads[li];
			g.cluster_devices = (uint32_t)sim_cluster_devices(&c);
			g.node_devices = sim_cluster_node_devices(&c);
			rc = sim_gen(&g, &tr, &e);
			if (rc)
				fprintf(stderr, "bench_sched_quality: %s\n", aidc_err_text(&e, rc));
			if (!rc)
				rc = run_orders(&tr, &c, false, rs, sums, wall);
			if (!rc) {
				for (size_t k = 0; k < nord; k++)
					st[k] = &sums[k].all;
				snprintf(name, sizeof name, "%s load %.1f", profiles[pi], loads[li]);
				row(name, st, false, t);
				release_all(rs, sums);
			}
			sim_trace_release(&tr);
			sim_cluster_release(&c);
		}
	}
	return rc;
}

/* --gittins-* knobs of the learned Gittins (sim_opts): i at the flag. 0 when
 * argv[i] is none of them, 1 when parsed (i moved on), -1 when refused. */
static int parse_gittins_knob(int argc, char **argv, int *i)
{
	static const char *const gflags[] = {"--gittins-min-samples", "--gittins-quantum",
					     "--gittins-max-preempt", "--gittins-starve",
					     "--gittins-starve-factor", "--gittins-window"};
	size_t gi = AIDC_ARRAY_LEN(gflags);
	int64_t v;
	for (size_t k = 0; k < AIDC_ARRAY_LEN(gflags); k++)
		if (strcmp(argv[*i], gflags[k]) == 0)
			gi = k;
	if (gi == AIDC_ARRAY_LEN(gflags) || *i + 1 >= argc)
		return 0;
	int64_t hi = gi == 1 || gi == 3 ? AIDC_MAX_DURATION_S : 1000000;
	if (aidc_parse_i64(argv[++*i], gi == 0 ? 1 : 0, hi, &v)) {
		fprintf(stderr, "%s takes %d..%lld\n", gflags[gi], gi == 0, (long long)hi);
		return -1;
	}
	if (gi == 0)
		gopt.gittins_min_samples = (uint32_t)v;
	else if (gi == 1)
		gopt.gittins_quantum_s = v;
	else if (gi == 2)
		gopt.gittins_max_preempt = (uint32_t)v;
	else if (gi == 3)
		gopt.gittins_starve_s = v;
	else if (gi == 4)
		gopt.gittins_starve_factor = (uint32_t)v;
	else
		gopt.gittins_window = (uint32_t)v;
	return 1;
}

/* --gittins-prior trace|others|self (the distribution oracle): 0 or -1. */
static int parse_gittins_prior(const char *v)
{
	dist_prior = strcmp(v, "trace") == 0    ? SIM_GPRIOR_TRACE
		     : strcmp(v, "others") == 0 ? SIM_GPRIOR_OTHERS
		     : strcmp(v, "self") == 0   ? SIM_GPRIOR_SELF
						: SIM_GPRIOR_LEARNED;
	if (dist_prior == SIM_GPRIOR_LEARNED) {
		fprintf(stderr, "--gittins-prior takes trace, others or self\n");
		return -1;
	}
	nord = NORD;
	return 0;
}

/* One option at argv[*i] (its value too): 0, or -1 (said why). */
static int parse_arg(int argc, char **argv, int *i, const char **dir)
{
	int64_t v;
	int g = parse_gittins_knob(argc, argv, i);
	if (g)
		return g < 0 ? -1 : 0;
	const char *a = argv[*i];
	bool val = *i + 1 < argc;
	if (strcmp(a, "--scale") == 0 && val) {
		if (aidc_parse_f64(argv[++*i], 0.25, 1, &only_scale) ||
		    (only_scale != 1.0 && only_scale != 0.5 && only_scale != 0.25)) {
			fprintf(stderr, "--scale takes 1, 0.5 or 0.25\n");
			return -1;
		}
	} else if (strcmp(a, "--jitter") == 0 && val) {
		if (aidc_parse_i64(argv[++*i], 1, MAX_JITTER, &v)) {
			fprintf(stderr, "--jitter takes 1..%d\n", MAX_JITTER);
			return -1;
		}
		jitter_runs = (uint32_t)v;
	} else if (strcmp(a, "--gittins-prior") == 0 && val) {
		return parse_gittins_prior(argv[++*i]);
	} else if (strcmp(a, "--gittins-prior-window") == 0 && val) {
		if (aidc_parse_i64(argv[++*i], 0, AIDC_MAX_DURATION_S, &dist_window_s)) {
			fprintf(stderr, "--gittins-prior-window takes seconds\n");
			return -1;
		}
	} else if (strcmp(a, "--no-generated") == 0) {
		skip_generated = true;
	} else if (strcmp(a, "--no-philly") == 0) {
		skip_philly = true;
	} else if (strcmp(a, "--restart-overhead") == 0 && val) {
		if (aidc_parse_i64(argv[++*i], 0, 86400, &restart_s)) {
			fprintf(stderr, "--restart-overhead takes 0..86400 s\n");
			return -1;
		}
	} else if (a[0] != '-') {
		*dir = a;
	} else {
		fprintf(stderr, "usage: bench_sched_quality [TRACES_DIR] "
				"[--scale 1|0.5|0.25] [--no-generated] [--no-philly] "
				"[--restart-overhead S] [--gittins-min-samples N] "
				"[--gittins-quantum S] [--gittins-max-preempt N] "
				"[--gittins-starve S] [--gittins-starve-factor X] "
				"[--gittins-window N] [--gittins-prior trace|others|self] "
				"[--gittins-prior-window S] [--jitter N]\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	struct tally tp = {0}, tg = {0};
	double wall = 0, t0 = now_s();
	int rc;

	sim_opts_defaults(&gopt);
	for (int i = 1; i < argc; i++)
		if (parse_arg(argc, argv, &i, &dir) != 0)
			return 2;
	dir = bench_traces_dir(dir);
	printf("bench_sched_quality: traces from %s, restart overhead %lld s, Gittins min "
	       "samples %u, quantum %lld s, max preempt %u, starve %lld s, starve factor %u, window "
	       "%u\n",
	       dir, (long long)restart_s, gopt.gittins_min_samples,
	       (long long)gopt.gittins_quantum_s, gopt.gittins_max_preempt,
	       (long long)gopt.gittins_starve_s, gopt.gittins_starve_factor, gopt.gittins_window);
	if (nord == NORD)
		printf("Git-dist: Gittins with the trace's true run-time distributions%s, window "
		       "%lld s (0 = whole trace) (ORACLE, diagnostic)\n",
		       dist_prior == SIM_GPRIOR_OTHERS ? " without the job's own"
		       : dist_prior == SIM_GPRIOR_SELF ? " replaced by each job's own (CLAIRVOYANT)"
						       : "",
		       (long long)dist_window_s);
	rc = skip_philly ? 0 : philly(dir, &tp, &wall);
	if (!rc && !skip_philly)
		pai(dir);
	if (!rc && !skip_generated)
		rc = generated(&tg, &wall);
	if (rc)
		return 1;
	agg_print();
	printf("\nGittins targets: philly-pollux rows (%zu): within 25%% of SRTF %zu (worst gap "
	       "%.1f%%), at most 1%% worse than FIFO %zu (worst %+.1f%%), p99 <= Tiresias %zu "
	       "(worst %+.1f%%)\n",
	       tp.rows, tp.within25, tp.worst_gap, tp.vs_fifo_ok, tp.worst_vs_fifo, tp.p99_ok,
	       tp.worst_p99_vs_tir);
	printf("generated rows (%zu): at most 1%% worse than FIFO %zu (worst %+.1f%%), p99 <= "
	       "Tiresias %zu (worst %+.1f%%)\n",
	       tg.rows, tg.vs_fifo_ok, tg.worst_vs_fifo, tg.p99_ok, tg.worst_p99_vs_tir);
	printf("simulation %.1f s of %.1f s wall\n", wall, now_s() - t0);
	return 0;
}
