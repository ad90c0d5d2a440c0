/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Metrics of one run: JCT and queueing-delay statistics (mean and
 * nearest-rank percentiles), bounded slowdown, makespan, device utilization
 * (average and over time), per-VC and per-tenant breakdowns, and Jain's
 * fairness index over the groups' mean bounded slowdown.
 *
 * Definitions (docs/sim.md): JCT = end - submit; queueing delay = JCT - the
 * run time the job actually needed (for a job never preempted: start -
 * submit); bounded slowdown = JCT / max(run time, 10 s). Cost: O(n log n) in
 * the number of jobs (sorting for percentiles and grouping).
 */
#include "sim/sim_int.h"

#define SLOWDOWN_FLOOR_S 10.0

static bool submitted(const struct sim_job_run *jr)
{
	return jr->status == SIM_ST_PENDING || jr->status == SIM_ST_RUNNING ||
	       jr->status == SIM_ST_DONE;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n). */
static double pct(const double *v, size_t n, double p)
{
	if (n == 0)
		return 0.0;
	size_t k = (size_t)(p * (double)n + 0.999999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

/* Statistics of the jobs idx[0..n) (all submitted); scratch has room for 2n. */
static void stats_of(const struct sim_result *r, const size_t *idx, size_t n,
		     struct sim_stats *st, double *scratch)
{
	memset(st, 0, sizeof *st);
	double *jct = scratch, *que = scratch + n;
	double sj = 0, sq = 0, ss = 0;
	int64_t t0 = INT64_MAX, t1 = INT64_MIN;
	for (size_t k = 0; k < n; k++) {
		const struct sim_job_run *jr = &r->jobs[idx[k]];
		const struct sim_job *j = &r->trace->jobs[idx[k]];
		st->jobs++;
		st->preemptions += jr->preemptions;
		t0 = AIDC_MIN(t0, j->submit_s);
		if (jr->status != SIM_ST_DONE) {
			if (jr->first_start_s < 0)
				st->never_started++;
			continue;
		}
		t1 = AIDC_MAX(t1, jr->end_s);
		double c = (double)(jr->end_s - j->submit_s);
		double q = c - (double)jr->run_s;
		if (q < 0)
			q = 0;
		jct[st->finished] = c;
		que[st->finished] = q;
		st->finished++;
		sj += c;
		sq += q;
		ss += c / AIDC_MAX((double)jr->run_s, SLOWDOWN_FLOOR_S);
	}
	size_t f = st->finished;
	if (f) {
		qsort(jct, f, sizeof *jct, cmp_double);
		qsort(que, f, sizeof *que, cmp_double);
		st->jct_avg = sj / (double)f;
		st->queue_avg = sq / (double)f;
		st->slowdown_avg = ss / (double)f;
		st->jct_p50 = pct(jct, f, 0.50);
		st->jct_p95 = pct(jct, f, 0.95);
		st->jct_p99 = pct(jct, f, 0.99);
		st->queue_p50 = pct(que, f, 0.50);
		st->queue_p95 = pct(que, f, 0.95);
		st->queue_p99 = pct(que, f, 0.99);
		st->makespan_s = t1 - t0;
	}
}

/* Integrates utilization over [t0, t1) into the overall average and buckets. */
static void utilization(const struct sim_result *r, int64_t t0, int64_t t1,
			struct sim_summary *sum)
{
	if (t1 <= t0 || r->dev_milli_total == 0)
		return;
	int64_t span = t1 - t0;
	size_t nb = span < SIM_UTIL_BUCKETS ? (size_t)span : SIM_UTIL_BUCKETS;
	double area[SIM_UTIL_BUCKETS] = {0}, total = 0;
	for (size_t k = 0; k < r->nutil; k++) {
		int64_t a = AIDC_MAX(r->util[k].t_s, t0);
		int64_t b = k + 1 < r->nutil ? r->util[k + 1].t_s : t1;
		b = AIDC_MIN(b, t1);
		double used = (double)r->util[k].used_milli;
		/* Spread [a, b) over the buckets it overlaps. */
		while (a < b) {
			size_t bi = (size_t)((double)(a - t0) * (double)nb / (double)span);
			if (bi >= nb)
				bi = nb - 1;
			int64_t bend = t0 + (int64_t)((double)span * (double)(bi + 1) / (double)nb);
			if (bend <= a)
				bend = a + 1;
			int64_t e = AIDC_MIN(b, bend);
			area[bi] += used * (double)(e - a);
			total += used * (double)(e - a);
			a = e;
		}
	}
	double cap = (double)r->dev_milli_total;
	sum->all.util_avg = total / (cap * (double)span);
	sum->nbuckets = nb;
	for (size_t b = 0; b < nb; b++) {
		int64_t bs = t0 + (int64_t)((double)span * (double)b / (double)nb);
		int64_t be = t0 + (int64_t)((double)span * (double)(b + 1) / (double)nb);
		sum->util_timeline[b] = be > bs ? area[b] / (cap * (double)(be - bs)) : 0.0;
	}
}

struct keyed {
	uint32_t key;
	size_t idx;
	const struct sim_strtab *st;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	if (x->key != y->key) {
		int c = strcmp(sim_strtab_get(x->st, x->key), sim_strtab_get(y->st, y->key));
		if (c)
			return c;
		return x->key < y->key ? -1 : 1;
	}
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Jain's index (sum x)^2 / (n sum x^2) over the groups' mean slowdown. */
static double jain(const struct sim_group_stats *g, size_t n)
{
	double s = 0, s2 = 0;
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (!g[i].st.finished)
			continue;
		double x = g[i].st.slowdown_avg;
		s += x;
		s2 += x * x;
		m++;
	}
	return (m && s2 > 0) ? (s * s) / ((double)m * s2) : 1.0;
}

static void groups_of(const struct sim_result *r, const size_t *idx, size_t n, bool by_tenant,
		      struct sim_group_stats **out, size_t *nout, double *scratch)
{
	struct keyed *kv = aidc_malloc((n ? n : 1) * sizeof *kv);
	size_t *ids = aidc_malloc((n ? n : 1) * sizeof *ids);
	for (size_t k = 0; k < n; k++) {
		const struct sim_job *j = &r->trace->jobs[idx[k]];
		kv[k] = (struct keyed){by_tenant ? j->tenant : j->vc, idx[k], &r->trace->strs};
	}
	qsort(kv, n, sizeof *kv, cmp_keyed);
	struct sim_group_stats *g = NULL;
	size_t ng = 0, cap = 0;
	for (size_t a = 0; a < n;) {
		size_t b = a;
		while (b < n && kv[b].key == kv[a].key) {
			ids[b - a] = kv[b].idx;
			b++;
		}
		AIDC_GROW(g, cap, ng + 1);
		g[ng].key = kv[a].key;
		stats_of(r, ids, b - a, &g[ng].st, scratch);
		ng++;
		a = b;
	}
	aidc_free(kv);
	aidc_free(ids);
	*out = g;
	*nout = ng;
}

void sim_summary_compute(const struct sim_result *r, struct sim_summary *sum)
{
	memset(sum, 0, sizeof *sum);
	size_t n = r->trace->n;
	size_t *idx = aidc_malloc((n ? n : 1) * sizeof *idx);
	double *scratch = aidc_malloc((n ? 2 * n : 2) * sizeof *scratch);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (submitted(&r->jobs[i]))
			idx[m++] = i;
	stats_of(r, idx, m, &sum->all, scratch);
	if (m) {
		int64_t t0 = r->trace->jobs[idx[0]].submit_s;
		utilization(r, t0, t0 + sum->all.makespan_s, sum);
	}
	groups_of(r, idx, m, false, &sum->vcs, &sum->nvcs, scratch);
	groups_of(r, idx, m, true, &sum->tenants, &sum->ntenants, scratch);
	sum->jain_vc = jain(sum->vcs, sum->nvcs);
	sum->jain_tenant = jain(sum->tenants, sum->ntenants);
	aidc_free(idx);
	aidc_free(scratch);
}

void sim_summary_release(struct sim_summary *sum)
{
	aidc_free(sum->vcs);
	aidc_free(sum->tenants);
	memset(sum, 0, sizeof *sum);
}
