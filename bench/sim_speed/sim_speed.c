/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/sim_speed: how fast the simulator replays all 82,247 jobs of
 * philly-pollux on one 352 x 8-GPU pool under FIFO, SJF, QSSF+backfill and
 * Tiresias. Prints jobs/s, wall time, peak RSS (getrusage) and the ratio of
 * each replay to the baseline measured in the same run: the time to just
 * parse and sort the trace. Never a test: it asserts nothing about time.
 * Usage: bench_sim_speed [TRACES_DIR]  (default $AIDC_TRACES_DIR or ../shared/traces)
 */
#include <sys/resource.h>
#include <time.h>

#include "sim/sim.h"
#include "util/util.h"
#include "../bench_util.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double rss_mib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024.0;
}

int main(int argc, char **argv)
{
	const char *dir = bench_traces_dir(argc > 1 ? argv[1] : NULL);
	char path[1024];
	snprintf(path, sizeof path, "%s/philly-pollux/philly.csv", dir);
	struct aidc_err e;
	aidc_err_clear(&e);
	struct sim_trace t;
	sim_trace_init(&t);
	double t0 = now_s();
	int rc = sim_trace_load(path, SIM_FORMAT_PHILLY, NULL, &t, &e);
	double parse_s = now_s() - t0;
	if (rc) {
		fprintf(stderr, "bench_sim_speed: %s\n", aidc_err_text(&e, rc));
		return 1;
	}
	struct sim_cluster c;
	sim_cluster_init(&c);
	sim_cluster_add_uniform(&c, "", 352, 8, &e);
	printf("trace %s: %zu jobs; cluster 352 x 8 GPUs\n", path, t.n);
	printf("%-12s %10s %12s %10s %10s\n", "run", "wall s", "jobs/s", "x parse", "RSS MiB");
	printf("%-12s %10.3f %12.0f %10.2f %10.1f\n", "parse", parse_s, (double)t.n / parse_s,
	       1.0, rss_mib());
	const struct sim_policy pols[] = {{SCHED_ORDER_FIFO, false},
					  {SCHED_ORDER_SJF, false},
					  {SCHED_ORDER_QSSF, true},
					  {SCHED_ORDER_TIRESIAS, false}};
	for (size_t k = 0; k < AIDC_ARRAY_LEN(pols) && !rc; k++) {
		struct sim_opts o;
		sim_opts_defaults(&o);
		o.policy = pols[k];
		struct sim_result r;
		sim_result_init(&r);
		t0 = now_s();
		rc = sim_run(&t, &c, &o, &r, &e);
		double w = now_s() - t0;
		char label[64];
		sim_policy_label(&pols[k], label, sizeof label);
		if (rc)
			fprintf(stderr, "bench_sim_speed: %s: %s\n", label, aidc_err_text(&e, rc));
		else
			printf("%-12s %10.3f %12.0f %10.2f %10.1f\n", label, w, (double)t.n / w,
			       w / parse_s, rss_mib());
		sim_result_release(&r);
	}
	sim_cluster_release(&c);
	sim_trace_release(&t);
	return rc ? 1 : 0;
}
