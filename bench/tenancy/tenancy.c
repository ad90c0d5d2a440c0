/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/tenancy: what quotas with borrowing buy a multi-tenant center (issue
 * 11 item 5). The philly-pollux trace (Oct-Nov 2017, as bench/sched_quality)
 * with its 11 VCs as accounts, their VC sizes (philly-meta/philly_vc.csv,
 * 8-GPU nodes) as nominal quotas, at full, half and quarter VC sizes, under:
 *   (a) hard partitions: one partition per VC (today's Helios setup: FIFO,
 *       strict queues, Helios placement);
 *   (b) one shared pool of the same nodes (FIFO, EASY backfill);
 *   (c) the pool with quotas: each account's nominal quota = its VC's
 *       devices, unused quota lent to the others (one cohort), reclaimed by
 *       preempting borrowing jobs when its owner needs it (FIFO, EASY);
 *   (d) (c) plus fair share: the queue ordered by multifactor priority
 *       (order multifactor: fair share with each account's shares = its
 *       nominal quota, usage half-life 7 days, plus age; the core's default
 *       weights), quotas, borrowing and reclaim as (c).
 * Per policy: avg and p99 JCT and queueing, utilization, preemptions, and the
 * worst account's guarantee satisfaction (the fraction of the time with
 * pending demand in which the account held at least min(demand, nominal)).
 * The target line compares (c) with (a) at quarter size: avg queueing at
 * least 5x lower with every account's satisfaction >= 99%. Ratios are
 * against (a) measured in the same run. Never a test: asserts nothing.
 * Usage: bench_tenancy [TRACES_DIR] (else $AIDC_TRACES_DIR, else ../shared/traces)
 */
#include <stdlib.h>

#include "sim/sim.h"
#include "util/util.h"
#include "../bench_util.h"

enum { P_HARD, P_POOL, P_QUOTA, P_FAIR, NPOL };
static const char *const pol_names[NPOL] = {"(a) hard partitions", "(b) shared pool",
					     "(c) quotas+borrowing", "(d) (c)+fair share"};

struct outcome {
	struct sim_stats st;
	double worst_sat; /* worst account's guarantee satisfaction, 0..1 (-1: n/a) */
	char worst_name[AIDC_MAX_NAME_BYTES];
};

/* Every group moved into one partition (the shared pool). */
static void pool_of(const struct sim_cluster *c, struct sim_cluster *pool)
{
	sim_cluster_init(pool);
	for (size_t i = 0; i < c->n; i++) {
		AIDC_GROW(pool->groups, pool->cap, pool->n + 1);
		pool->groups[pool->n] = c->groups[i];
		snprintf(pool->groups[pool->n].partition, AIDC_MAX_NAME_BYTES, "pool");
		pool->n++;
	}
}

static int run_one(const struct sim_trace *t, const struct sim_cluster *c, int pol,
		   const struct sim_quota *q, size_t nq, struct outcome *out)
{
	struct sim_opts o;
	struct sim_result r;
	struct sim_summary sum;
	struct aidc_err e;
	sim_opts_defaults(&o);
	aidc_err_clear(&e);
	aidc_parse_datetime("2017-10-01 00:00:00", &o.from_s);
	aidc_parse_datetime("2017-11-30 23:59:59", &o.to_s);
	o.gpu_only = true;
	if (pol == P_HARD) {
		o.compat_helios = true;
	} else {
		o.policy.backfill = true;
		o.placement = SCHED_PLACE_HELIOS;
	}
	/* Every policy measures satisfaction against the same quotas; only (c)
	 * has the core enforce them (borrowing, reclaim). */
	o.quotas = q;
	o.nquotas = nq;
	o.quotas_measure_only = pol != P_QUOTA && pol != P_FAIR;
	if (pol == P_FAIR)
		o.policy.order = SCHED_ORDER_MULTIFACTOR;
	sim_result_init(&r);
	int rc = sim_run(t, c, &o, &r, &e);
	if (rc) {
		fprintf(stderr, "bench_tenancy: %s: %s\n", pol_names[pol], aidc_err_text(&e, rc));
		sim_result_release(&r);
		return rc;
	}
	sim_summary_compute(&r, &sum);
	out->st = sum.all;
	out->worst_sat = -1;
	for (size_t k = 0; k < nq; k++) {
		double sat = r.qstats[k].pending_s > 0
				     ? r.qstats[k].satisfied_s / r.qstats[k].pending_s
				     : 1.0;
		if (out->worst_sat < 0 || sat < out->worst_sat) {
			out->worst_sat = sat;
			snprintf(out->worst_name, sizeof out->worst_name, "%s", q[k].name);
		}
	}
	sim_summary_release(&sum);
	sim_result_release(&r);
	return 0;
}

static int one_scale(const struct sim_trace *t, const char *vpath, double scale,
		     struct outcome res[NPOL])
{
	struct sim_cluster c, pool;
	struct aidc_err e;
	aidc_err_clear(&e);
	sim_cluster_init(&c);
	int rc = sim_cluster_load_vcs(vpath, scale, 8, &c, &e);
	if (rc) {
		fprintf(stderr, "bench_tenancy: %s\n", aidc_err_text(&e, rc));
		sim_cluster_release(&c);
		return rc;
	}
	struct sim_quota *q = aidc_calloc(c.n, sizeof *q);
	for (size_t i = 0; i < c.n; i++) {
		sim_quota_init(&q[i]);
		snprintf(q[i].name, sizeof q[i].name, "%s", c.groups[i].partition);
		q[i].nominal_devices = (int64_t)c.groups[i].count * c.groups[i].devices;
		q[i].borrow_limit = -1;
		q[i].lend_limit = -1;
		q[i].shares = AIDC_MAX(q[i].nominal_devices, 1);
	}
	pool_of(&c, &pool);
	rc = run_one(t, &c, P_HARD, q, c.n, &res[P_HARD]);
	if (!rc)
		rc = run_one(t, &pool, P_POOL, q, c.n, &res[P_POOL]);
	if (!rc)
		rc = run_one(t, &pool, P_QUOTA, q, c.n, &res[P_QUOTA]);
	if (!rc)
		rc = run_one(t, &pool, P_FAIR, q, c.n, &res[P_FAIR]);
	printf("\nphilly-pollux, 11 VCs as accounts, VC sizes x %.2f (%llu GPUs), Oct-Nov 2017\n",
	       scale, (unsigned long long)sim_cluster_devices(&c));
	printf("%-22s %9s %9s %9s %9s %6s %8s %9s  %s\n", "policy", "JCT avg", "JCT p99",
	       "queue avg", "queue p99", "util", "preempt", "q vs (a)", "worst guarantee");
	for (int p = 0; !rc && p < NPOL; p++) {
		const struct sim_stats *s = &res[p].st;
		double ratio = s->queue_avg > 0 ? res[P_HARD].st.queue_avg / s->queue_avg : 0;
		printf("%-22s %9.0f %9.0f %9.0f %9.0f %5.1f%% %8llu %8.1fx  ", pol_names[p],
		       s->jct_avg, s->jct_p99, s->queue_avg, s->queue_p99, 100.0 * s->util_avg,
		       (unsigned long long)s->preemptions, ratio);
		if (res[p].worst_sat >= 0)
			printf("%.2f%% (%s)\n", 100.0 * res[p].worst_sat, res[p].worst_name);
		else
			printf("-\n");
	}
	aidc_free(q);
	sim_cluster_release(&pool);
	sim_cluster_release(&c);
	return rc;
}

int main(int argc, char **argv)
{
	const char *dir = bench_traces_dir(argc > 1 ? argv[1] : NULL);
	char tpath[1024], vpath[1024];
	if (bench_philly_paths(dir, "philly-pollux", tpath, vpath, sizeof tpath))
		return 0;
	struct sim_trace tr;
	struct aidc_err e;
	aidc_err_clear(&e);
	sim_trace_init(&tr);
	int rc = sim_trace_load(tpath, SIM_FORMAT_PHILLY, NULL, &tr, &e);
	if (rc) {
		fprintf(stderr, "bench_tenancy: %s\n", aidc_err_text(&e, rc));
		sim_trace_release(&tr);
		return 1;
	}
	static const double scales[] = {1.0, 0.5, 0.25};
	struct outcome res[NPOL];
	for (size_t i = 0; i < AIDC_ARRAY_LEN(scales) && !rc; i++)
		rc = one_scale(&tr, vpath, scales[i], res);
	if (!rc) {
		double ratio = res[P_QUOTA].st.queue_avg > 0
				       ? res[P_HARD].st.queue_avg / res[P_QUOTA].st.queue_avg
				       : 0;
		bool ok = ratio >= 5.0 && res[P_QUOTA].worst_sat >= 0.99;
		printf("\ntarget (quarter size): (c) avg queueing %.0f s vs (a) %.0f s = %.1fx lower "
		       "(>= 5x), worst guarantee %.2f%% (>= 99%%): %s\n",
		       res[P_QUOTA].st.queue_avg, res[P_HARD].st.queue_avg, ratio,
		       100.0 * res[P_QUOTA].worst_sat, ok ? "MET" : "NOT MET");
		double rd = res[P_FAIR].st.queue_avg > 0
				    ? res[P_HARD].st.queue_avg / res[P_FAIR].st.queue_avg
				    : 0;
		printf("(d) at quarter size: avg queueing %.0f s = %.1fx lower than (a), worst "
		       "guarantee %.2f%%\n",
		       res[P_FAIR].st.queue_avg, rd, 100.0 * res[P_FAIR].worst_sat);
	}
	sim_trace_release(&tr);
	return rc ? 1 : 0;
}
