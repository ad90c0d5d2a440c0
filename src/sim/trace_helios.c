/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reader of the Helios (SC'21) cluster_log.csv schema:
 *   job_id,user,vc,jobname,gpu_num,cpu_num,node_num,state,submit_time,
 *   start_time,end_time,duration,queue
 * Times are "YYYY-MM-DD HH:MM:SS". Required: vc, gpu_num, submit_time and
 * either duration or both start_time and end_time. The recorded start/end and
 * queue are the production outcome, not an input to scheduling: only the run
 * time is taken from them. Every state (COMPLETED, FAILED, CANCELLED ...) is
 * replayed for its recorded duration, as the Helios simulator does.
 * See docs/trace-formats.md.
 */
#include "sim/sim_int.h"

struct helios_cols {
	int id, user, vc, name, gpus, cpus, submit, start, end, dur;
};

static int helios_duration(struct aidc_csv *c, const struct helios_cols *k, struct sim_job *j,
			   struct aidc_err *e)
{
	const char *v = sim_fld(c, k->dur);
	if (*v) {
		if (sim_parse_seconds(v, &j->duration_s))
			return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: duration '%s' is not a number "
					 "of seconds in 0..%lld", c->name, c->line, v,
					 (long long)AIDC_MAX_DURATION_S);
		return 0;
	}
	int64_t s, t;
	const char *vs = sim_fld(c, k->start), *ve = sim_fld(c, k->end);
	if (aidc_parse_datetime(vs, &s) || aidc_parse_datetime(ve, &t) || t < s ||
	    t - s > AIDC_MAX_DURATION_S)
		return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: no duration, and start_time '%s' / "
				 "end_time '%s' do not give one", c->name, c->line, vs, ve);
	j->duration_s = t - s;
	return 0;
}

static int helios_row(void *ctx, struct aidc_csv *c, struct sim_trace *t, struct sim_job *j,
		      struct aidc_err *e)
{
	const struct helios_cols *k = ctx;
	const char *v = sim_fld(c, k->submit);
	int rc = aidc_parse_datetime(v, &j->submit_s);
	if (rc)
		return aidc_errf(e, rc, "%s:%zu: submit_time '%s' is not a date and time "
				 "(YYYY-MM-DD HH:MM:SS)", c->name, c->line, v);
	rc = helios_duration(c, k, j, e);
	if (rc)
		return rc;
	int64_t g, cpus = 0;
	v = sim_fld(c, k->gpus);
	if (aidc_parse_i64(v, 0, AIDC_MAX_TASKS_PER_JOB, &g))
		return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: gpu_num '%s' is not an integer in "
				 "0..%u", c->name, c->line, v, AIDC_MAX_TASKS_PER_JOB);
	v = sim_fld(c, k->cpus);
	if (*v && aidc_parse_i64(v, 0, AIDC_MAX_NODE_CPU_MILLI / 1000, &cpus))
		return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: cpu_num '%s' is not an integer in "
				 "0..%u", c->name, c->line, v, AIDC_MAX_NODE_CPU_MILLI / 1000);
	j->ntasks = 1;
	j->ndev = (uint32_t)g;
	j->dev_milli = AIDC_DEVICE_MILLI;
	/* Total CPU of the job; the engine divides it among the gang's tasks. */
	j->cpu_milli = (uint32_t)cpus * 1000u;
	j->flags = SIM_JOB_SHAPE_AUTO | SIM_JOB_PREEMPTIBLE;
	rc = sim_intern_field(c, t, "vc", sim_fld(c, k->vc), &j->vc, e);
	if (!rc)
		rc = sim_intern_field(c, t, "user", sim_fld(c, k->user), &j->user, e);
	if (!rc)
		rc = sim_intern_field(c, t, "jobname", sim_fld(c, k->name), &j->name, e);
	if (rc)
		return rc;
	j->tenant = j->vc;
	/* Numeric job ids are kept for the per-job output; others get the row ordinal. */
	int64_t id;
	j->id = aidc_parse_i64(sim_fld(c, k->id), 1, INT64_MAX, &id) == 0 ? (uint64_t)id
									  : t->n + 1;
	return 0;
}

int sim_read_helios(struct aidc_csv *c, const struct sim_read_opts *o, struct sim_trace *t,
		    struct aidc_err *e)
{
	struct helios_cols k;
	int rc = sim_need_col(c, "vc", &k.vc, e);
	if (!rc)
		rc = sim_need_col(c, "gpu_num", &k.gpus, e);
	if (!rc)
		rc = sim_need_col(c, "submit_time", &k.submit, e);
	if (rc)
		return rc;
	k.id = aidc_csv_col(c, "job_id");
	k.user = aidc_csv_col(c, "user");
	k.name = aidc_csv_col(c, "jobname");
	k.cpus = aidc_csv_col(c, "cpu_num");
	k.start = aidc_csv_col(c, "start_time");
	k.end = aidc_csv_col(c, "end_time");
	k.dur = aidc_csv_col(c, "duration");
	if (k.dur < 0 && (k.start < 0 || k.end < 0))
		return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: header needs 'duration' or both "
				 "'start_time' and 'end_time'", c->name, c->line);
	return sim_read_rows(c, o, t, helios_row, &k, e);
}
