/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reports of simulation runs: the human table (default), the JSON summary
 * (--json), the per-job CSV (--jobs-csv) and the policy comparison tables
 * (--policy all). Nothing here prints wall-clock times, so the output of a
 * run is a pure function of its inputs (the determinism test diffs it).
 */
#include "sim/sim_int.h"

/* "532s", "12.3m", "4.56h", "2.10d": short and deterministic. */
static const char *fmt_dur(double s, char *buf, size_t n)
{
	if (s < 100)
		snprintf(buf, n, "%.0fs", s);
	else if (s < 6000)
		snprintf(buf, n, "%.1fm", s / 60);
	else if (s < 48 * 3600)
		snprintf(buf, n, "%.2fh", s / 3600);
	else
		snprintf(buf, n, "%.2fd", s / 86400);
	return buf;
}

static void stats_row(FILE *out, const char *label, const struct sim_stats *st, int width)
{
	char a[4][16], b[2][16];
	fprintf(out, "%-*s %7zu %8zu %9s %9s %9s %9s %9s %9s %8.2f\n", width, label, st->jobs,
		st->finished, fmt_dur(st->jct_avg, a[0], 16), fmt_dur(st->jct_p50, a[1], 16),
		fmt_dur(st->jct_p95, a[2], 16), fmt_dur(st->jct_p99, a[3], 16),
		fmt_dur(st->queue_avg, b[0], 16), fmt_dur(st->queue_p95, b[1], 16),
		st->slowdown_avg);
}

static void stats_header(FILE *out, const char *label, int width)
{
	fprintf(out, "%-*s %7s %8s %9s %9s %9s %9s %9s %9s %8s\n", width, label, "jobs", "finished",
		"avg JCT", "p50 JCT", "p95 JCT", "p99 JCT", "avg queue", "p95 queue", "slowdown");
}

static void groups_table(FILE *out, const char *what, const struct sim_result *r,
			 const struct sim_group_stats *g, size_t n)
{
	int w = 8;
	for (size_t i = 0; i < n; i++)
		w = AIDC_MAX(w, (int)strlen(sim_strtab_get(&r->trace->strs, g[i].key)));
	w = AIDC_MIN(w, 40);
	fprintf(out, "\nper %s:\n", what);
	stats_header(out, what, w);
	for (size_t i = 0; i < n; i++) {
		const char *name = sim_strtab_get(&r->trace->strs, g[i].key);
		stats_row(out, *name ? name : "-", &g[i].st, w);
	}
}

/* True when every job's tenant is its VC (Philly, Helios): one table is enough. */
static bool tenants_are_vcs(const struct sim_result *r)
{
	for (size_t i = 0; i < r->trace->n; i++)
		if (r->trace->jobs[i].tenant != r->trace->jobs[i].vc)
			return false;
	return true;
}

void sim_report_text(const struct sim_result *r, const struct sim_summary *sum, FILE *out)
{
	char label[64], d[16];
	sim_policy_label(&r->policy, label, sizeof label);
	const struct sim_stats *a = &sum->all;
	fprintf(out, "policy %s, placement %s, %" PRIu64 " devices\n", label,
		sched_placement_name(r->placement), r->dev_milli_total / AIDC_DEVICE_MILLI);
	fprintf(out, "jobs: %zu in trace, %zu submitted, %zu finished, %zu never started, "
		"%zu filtered out, %zu without a partition, %zu rejected\n",
		r->trace->n, a->jobs, a->finished, a->never_started, r->n_excluded, r->n_no_part,
		r->n_rejected);
	if (r->n_rejected)
		fprintf(out, "first rejected: %s\n", r->first_reject);
	if (r->preempt_capped)
		fprintf(out, "warning: at %" PRIu64 " time steps the core kept preempting; the "
			"preemptions past %d rounds were ignored\n", r->preempt_capped, 64);
	fprintf(out, "makespan %s, device utilization %.1f%%, preemptions %" PRIu64
		", Jain fairness (slowdown) per VC %.3f, per tenant %.3f\n",
		fmt_dur((double)a->makespan_s, d, sizeof d), 100.0 * a->util_avg, a->preemptions,
		sum->jain_vc, sum->jain_tenant);
	fprintf(out, "utilization over time (%zu equal spans, %%):", sum->nbuckets);
	for (size_t b = 0; b < sum->nbuckets; b++)
		fprintf(out, " %.0f", 100.0 * sum->util_timeline[b]);
	fprintf(out, "\n\n");
	stats_header(out, "", 8);
	stats_row(out, "all", a, 8);
	if (sum->nvcs > 1)
		groups_table(out, "vc", r, sum->vcs, sum->nvcs);
	if (sum->ntenants > 1 && !tenants_are_vcs(r))
		groups_table(out, "tenant", r, sum->tenants, sum->ntenants);
}

static void json_stats(struct aidc_json *j, const struct sim_stats *st)
{
	aidc_json_ki64(j, "jobs", (int64_t)st->jobs);
	aidc_json_ki64(j, "finished", (int64_t)st->finished);
	aidc_json_ki64(j, "never_started", (int64_t)st->never_started);
	aidc_json_kf64(j, "jct_avg_s", st->jct_avg, 1);
	aidc_json_kf64(j, "jct_p50_s", st->jct_p50, 1);
	aidc_json_kf64(j, "jct_p95_s", st->jct_p95, 1);
	aidc_json_kf64(j, "jct_p99_s", st->jct_p99, 1);
	aidc_json_kf64(j, "queue_avg_s", st->queue_avg, 1);
	aidc_json_kf64(j, "queue_p50_s", st->queue_p50, 1);
	aidc_json_kf64(j, "queue_p95_s", st->queue_p95, 1);
	aidc_json_kf64(j, "queue_p99_s", st->queue_p99, 1);
	aidc_json_kf64(j, "slowdown_avg", st->slowdown_avg, 3);
	aidc_json_ki64(j, "makespan_s", st->makespan_s);
	aidc_json_ki64(j, "preemptions", (int64_t)st->preemptions);
}

static void json_groups(struct aidc_json *j, const char *key, const char *name_key,
			const struct sim_result *r, const struct sim_group_stats *g, size_t n)
{
	aidc_json_key(j, key);
	aidc_json_arr_begin(j);
	for (size_t i = 0; i < n; i++) {
		aidc_json_obj_begin(j);
		aidc_json_kstr(j, name_key, sim_strtab_get(&r->trace->strs, g[i].key));
		json_stats(j, &g[i].st);
		aidc_json_obj_end(j);
	}
	aidc_json_arr_end(j);
}

void sim_report_json(const struct sim_result *r, const struct sim_summary *sum,
		     struct aidc_json *j)
{
	char label[64];
	sim_policy_label(&r->policy, label, sizeof label);
	aidc_json_obj_begin(j);
	aidc_json_kstr(j, "policy", label);
	aidc_json_kstr(j, "order", sched_order_name(r->policy.order));
	aidc_json_kbool(j, "backfill", r->policy.backfill);
	aidc_json_kstr(j, "placement", sched_placement_name(r->placement));
	aidc_json_ki64(j, "devices", (int64_t)(r->dev_milli_total / AIDC_DEVICE_MILLI));
	aidc_json_ki64(j, "trace_jobs", (int64_t)r->trace->n);
	aidc_json_ki64(j, "bad_rows_skipped", (int64_t)r->trace->bad_rows);
	aidc_json_ki64(j, "filtered_out", (int64_t)r->n_excluded);
	aidc_json_ki64(j, "without_partition", (int64_t)r->n_no_part);
	aidc_json_ki64(j, "rejected", (int64_t)r->n_rejected);
	json_stats(j, &sum->all);
	aidc_json_kf64(j, "util_avg", sum->all.util_avg, 4);
	aidc_json_key(j, "util_timeline");
	aidc_json_arr_begin(j);
	for (size_t b = 0; b < sum->nbuckets; b++)
		aidc_json_f64(j, sum->util_timeline[b], 4);
	aidc_json_arr_end(j);
	aidc_json_kf64(j, "jain_vc", sum->jain_vc, 4);
	aidc_json_kf64(j, "jain_tenant", sum->jain_tenant, 4);
	aidc_json_ki64(j, "passes", (int64_t)r->passes);
	aidc_json_ki64(j, "preempt_rounds_capped", (int64_t)r->preempt_capped);
	json_groups(j, "vcs", "vc", r, sum->vcs, sum->nvcs);
	json_groups(j, "tenants", "tenant", r, sum->tenants, sum->ntenants);
	aidc_json_obj_end(j);
}

static void csv_time(FILE *out, int64_t t)
{
	if (t >= 0)
		fprintf(out, "%" PRId64, t);
}

static const char *status_name(uint8_t s)
{
	static const char *const names[] = {"filtered", "no_partition", "rejected", "waiting",
					    "pending",  "running",      "done"};
	return s < AIDC_ARRAY_LEN(names) ? names[s] : "?";
}

int sim_report_jobs_csv(const struct sim_result *r, FILE *out, struct aidc_err *e)
{
	const struct sim_trace *t = r->trace;
	fputs("id,vc,tenant,user,name,submit,start,end,queue_s,jct_s,run_s,tasks,devices,"
	      "nodes,preemptions,reserved,status\n", out);
	for (size_t i = 0; i < t->n; i++) {
		const struct sim_job *j = &t->jobs[i];
		const struct sim_job_run *jr = &r->jobs[i];
		if (jr->status == SIM_ST_EXCLUDED || jr->status == SIM_ST_NO_PART)
			continue;
		fprintf(out, "%" PRIu64 ",", j->id);
		const uint32_t strs[] = {j->vc, j->tenant, j->user, j->name};
		for (size_t k = 0; k < AIDC_ARRAY_LEN(strs); k++) {
			aidc_csv_put_field(out, sim_strtab_get(&t->strs, strs[k]));
			fputc(',', out);
		}
		fprintf(out, "%" PRId64 ",", j->submit_s);
		csv_time(out, jr->first_start_s);
		fputc(',', out);
		csv_time(out, jr->end_s);
		fputc(',', out);
		if (jr->status == SIM_ST_DONE)
			fprintf(out, "%" PRId64 ",%" PRId64, jr->end_s - j->submit_s - jr->run_s,
				jr->end_s - j->submit_s);
		else
			fputc(',', out);
		fprintf(out, ",%" PRId64 ",%u,%u,%u,%u,", jr->run_s, jr->ntasks,
			jr->ntasks * jr->ndev, jr->nodes, jr->preemptions);
		csv_time(out, jr->reserved_s);
		fprintf(out, ",%s\n", status_name(jr->status));
	}
	if (fflush(out) != 0 || ferror(out))
		return aidc_errf(e, AIDC_E_IO, "writing the per-job CSV failed: %s",
				 strerror(errno));
	return 0;
}

/* One per-VC table: value(g) for each run, VCs from the first run's summary. */
static void compare_vc_table(const struct sim_result *const *rs, const struct sim_summary *sums,
			     size_t n, FILE *out, bool queue)
{
	const struct sim_summary *s0 = &sums[0];
	fprintf(out, "\n%s per VC (%s):\n%-10s %7s", queue ? "avg queueing delay" : "avg JCT",
		queue ? "minutes" : "hours", "vc", "jobs");
	char label[64];
	for (size_t k = 0; k < n; k++) {
		sim_policy_label(&rs[k]->policy, label, sizeof label);
		fprintf(out, " %10s", label);
	}
	fputc('\n', out);
	for (size_t v = 0; v < s0->nvcs; v++) {
		const char *name = sim_strtab_get(&rs[0]->trace->strs, s0->vcs[v].key);
		fprintf(out, "%-10s %7zu", *name ? name : "-", s0->vcs[v].st.jobs);
		for (size_t k = 0; k < n; k++) {
			/* Runs share the trace, so VC v has the same key in every run. */
			const struct sim_stats *st = NULL;
			for (size_t w = 0; w < sums[k].nvcs; w++)
				if (sums[k].vcs[w].key == s0->vcs[v].key)
					st = &sums[k].vcs[w].st;
			double x = !st ? 0 : queue ? st->queue_avg / 60.0 : st->jct_avg / 3600.0;
			fprintf(out, " %10.2f", x);
		}
		fputc('\n', out);
	}
}

void sim_report_compare(const struct sim_result *const *rs, const struct sim_summary *sums,
			size_t n, FILE *out)
{
	if (n == 0)
		return;
	fprintf(out, "placement %s, %" PRIu64 " devices, %zu jobs submitted\n\n",
		sched_placement_name(rs[0]->placement), rs[0]->dev_milli_total / AIDC_DEVICE_MILLI,
		sums[0].all.jobs);
	fprintf(out, "%-12s %8s %9s %9s %9s %9s %9s %9s %6s %8s %7s\n", "policy", "finished",
		"avg JCT", "p50 JCT", "p95 JCT", "p99 JCT", "avg queue", "p95 queue", "util",
		"preempt", "Jain/VC");
	char label[64], a[6][16];
	for (size_t k = 0; k < n; k++) {
		const struct sim_stats *st = &sums[k].all;
		sim_policy_label(&rs[k]->policy, label, sizeof label);
		fprintf(out, "%-12s %8zu %9s %9s %9s %9s %9s %9s %5.1f%% %8" PRIu64 " %7.3f\n",
			label, st->finished, fmt_dur(st->jct_avg, a[0], 16),
			fmt_dur(st->jct_p50, a[1], 16), fmt_dur(st->jct_p95, a[2], 16),
			fmt_dur(st->jct_p99, a[3], 16), fmt_dur(st->queue_avg, a[4], 16),
			fmt_dur(st->queue_p95, a[5], 16), 100.0 * st->util_avg, st->preemptions,
			sums[k].jain_vc);
	}
	if (sums[0].nvcs > 1) {
		compare_vc_table(rs, sums, n, out, false);
		compare_vc_table(rs, sums, n, out, true);
	}
}
