/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scheduler scenarios (STYLE.md 17): tiny traces in the simulator's own format
 * (tests/sim/scenarios/NAME.trace with a CLUSTER.cluster), replayed through the real
 * core, with golden per-job CSV outputs (*.<policy>.expected.csv). Beside the
 * goldens, properties are asserted directly: gang all-or-nothing, backfill
 * never delays the reserved job, no start before submit, and on a single-pool
 * trace avg JCT SRTF <= SJF <= FIFO. The engine itself checks device shares
 * (never above 1000 milli) and devices in use (never above those that exist)
 * on every decision. AIDC_UPDATE_GOLDEN=1 rewrites the goldens (review them!).
 */
#include "sim/sim.h"
#include "tests/test.h"
#include "util/util.h"

#define DIR "tests/sim/scenarios/"

struct scenario {
	const char *trace, *cluster;
	enum sched_order order;
	bool backfill;
	const char *golden;
};

static const struct scenario scenarios[] = {
    {"gang", "two4", SCHED_ORDER_FIFO, false, "gang.fifo"},
    {"gang", "two4", SCHED_ORDER_FIFO, true, "gang.fifo-bf"},
    {"backfill", "one4", SCHED_ORDER_FIFO, true, "backfill.fifo-bf"},
    {"backfill", "one4", SCHED_ORDER_FIFO, false, "backfill.fifo"},
    {"fraction", "one2", SCHED_ORDER_FIFO, false, "fraction.fifo"},
    {"single", "one1", SCHED_ORDER_FIFO, false, "single.fifo"},
    {"single", "one1", SCHED_ORDER_SJF, false, "single.sjf"},
    {"single", "one1", SCHED_ORDER_SRTF, false, "single.srtf"},
    {"single", "one1", SCHED_ORDER_TIRESIAS, false, "single.tiresias"},
};

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = aidc_malloc(1u << 20);
	*len = fread(buf, 1, (1u << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* ORACLE start estimates (opts.eta_oracle, diagnostic): the replay is
 * unchanged, estimates are at or after submission and the same when run
 * again; whole trace (COHORT) and a past-day window (MEDIAN). */
static void check_oracle_estimates(const struct sim_trace *t, const struct sim_cluster *c,
				   struct sim_opts *o, const struct sim_result *plain)
{
	static const struct {
		enum sched_fc_oracle mode;
		int64_t window_s;
	} runs[] = {{SCHED_FCO_COHORT, 0}, {SCHED_FCO_MEDIAN, -86400}};
	struct aidc_err e;
	aidc_err_clear(&e);
	for (size_t k = 0; k < AIDC_ARRAY_LEN(runs); k++) {
		struct sim_result r[2];
		o->eta_oracle = runs[k].mode;
		o->eta_oracle_window_s = runs[k].window_s;
		for (int n = 0; n < 2; n++) {
			sim_result_init(&r[n]);
			CHECK_EQ(sim_run(t, c, o, &r[n], &e), 0);
		}
		for (size_t i = 0; r[0].jobs && r[1].jobs && i < t->n; i++) {
			CHECK_EQ(r[0].jobs[i].first_start_s, plain->jobs[i].first_start_s);
			CHECK_GE(r[0].jobs[i].eta_s, t->jobs[i].submit_s);
			CHECK_EQ(r[1].jobs[i].eta_s, r[0].jobs[i].eta_s);
		}
		sim_result_release(&r[0]);
		sim_result_release(&r[1]);
	}
	o->eta_oracle = SCHED_FCO_OFF;
	o->eta_oracle_window_s = 0;
}

/*
 * Start estimates at submission (sched_forecast via opts.eta_every = 1): the
 * replay itself is unchanged by them, and under strict FIFO with exact run
 * times (time limit = duration) no later arrival can pass an earlier job, so
 * every estimate is exactly the actual start (a known answer).
 */
static void check_estimates(const struct scenario *sc, const struct sim_trace *t,
			    const struct sim_cluster *c, const struct sim_result *plain)
{
	struct sim_opts o;
	struct sim_result r;
	struct aidc_err e;
	aidc_err_clear(&e);
	sim_opts_defaults(&o);
	o.policy.order = sc->order;
	o.policy.backfill = sc->backfill;
	o.eta_every = 1;
	sim_result_init(&r);
	CHECK_EQ(sim_run(t, c, &o, &r, &e), 0);
	bool exact = sc->order == SCHED_ORDER_FIFO && !sc->backfill;
	for (size_t i = 0; i < t->n; i++)
		exact &=
		    t->jobs[i].time_limit_s > 0 && plain->jobs[i].run_s == t->jobs[i].time_limit_s;
	for (size_t i = 0; r.jobs && i < t->n; i++) {
		if (r.jobs[i].eta_s < t->jobs[i].submit_s)
			fprintf(stderr, "%s: job %zu: estimate %lld, submitted %lld\n", sc->golden,
				i, (long long)r.jobs[i].eta_s, (long long)t->jobs[i].submit_s);
		CHECK_EQ(r.jobs[i].first_start_s, plain->jobs[i].first_start_s);
		CHECK_GE(r.jobs[i].eta_s, t->jobs[i].submit_s);
		if (exact)
			CHECK_EQ(r.jobs[i].eta_s, r.jobs[i].first_start_s);
	}
	sim_result_release(&r);
	check_oracle_estimates(t, c, &o, plain);
}

/* Runs one scenario; returns avg JCT (or -1) and checks its properties. */
static double run_one(const struct scenario *sc)
{
	char path[256];
	struct aidc_err e;
	aidc_err_clear(&e);
	struct sim_trace t;
	struct sim_cluster c;
	struct sim_result r;
	sim_trace_init(&t);
	sim_cluster_init(&c);
	sim_result_init(&r);
	double avg = -1;
	snprintf(path, sizeof path, DIR "%s.trace", sc->trace);
	int rc = sim_trace_load(path, SIM_FORMAT_AIDC, NULL, &t, &e);
	snprintf(path, sizeof path, DIR "%s.cluster", sc->cluster);
	if (!rc)
		rc = sim_cluster_load(path, &c, &e);
	struct sim_opts o;
	sim_opts_defaults(&o);
	o.policy.order = sc->order;
	o.policy.backfill = sc->backfill;
	if (!rc)
		rc = sim_run(&t, &c, &o, &r, &e);
	if (rc) {
		fprintf(stderr, "%s: %s\n", sc->golden, aidc_err_text(&e, rc));
		CHECK_EQ(rc, 0);
		goto out;
	}
	char *csv = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&csv, &len);
	CHECK_EQ(sim_report_jobs_csv(&r, f, &e), 0);
	fclose(f);
	snprintf(path, sizeof path, DIR "%s.expected.csv", sc->golden);
	if (getenv("AIDC_UPDATE_GOLDEN")) {
		FILE *g = fopen(path, "w");
		CHECK(g != NULL);
		if (g) {
			fwrite(csv, 1, len, g);
			fclose(g);
		}
	} else {
		size_t glen = 0;
		char *want = read_all(path, &glen);
		if (!want)
			fprintf(stderr, "missing golden %s\n", path);
		CHECK_STR(csv, want ? want : "");
		aidc_free(want);
	}
	free(csv);
	/* Properties that hold whatever the golden says. */
	struct sim_summary sum;
	sim_summary_compute(&r, &sum);
	CHECK_EQ(sum.all.finished, t.n);
	avg = sum.all.jct_avg;
	sim_summary_release(&sum);
	for (size_t i = 0; i < t.n; i++) {
		const struct sim_job_run *jr = &r.jobs[i];
		CHECK_GE(jr->first_start_s, t.jobs[i].submit_s);
		/* EASY: estimates here are exact (time limit = duration), so a
		 * reserved job starts no later than its first reservation. */
		if (sc->backfill && jr->reserved_s >= 0)
			CHECK_LE(jr->first_start_s, jr->reserved_s);
	}
	check_estimates(sc, &t, &c, &r);
out:
	sim_result_release(&r);
	sim_cluster_release(&c);
	sim_trace_release(&t);
	return avg;
}

/* One case: the single-pool comparison needs every scenario's result. */
static void test_goldens_and_order(void)
{
	double single[SCHED_ORDER_COUNT_] = {0};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(scenarios); i++) {
		double avg = run_one(&scenarios[i]);
		if (strcmp(scenarios[i].trace, "single") == 0)
			single[scenarios[i].order] = avg;
	}
	/* Single pool: SRTF <= SJF <= FIFO on avg JCT. */
	CHECK_LE(single[SCHED_ORDER_SRTF], single[SCHED_ORDER_SJF]);
	CHECK_LE(single[SCHED_ORDER_SJF], single[SCHED_ORDER_FIFO]);
}

TEST_MAIN(TEST(test_goldens_and_order))
