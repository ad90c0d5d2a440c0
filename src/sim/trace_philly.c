/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reader of the Philly-derived CSV published with Pollux (OSDI'21):
 *     timestamp,duration,num_gpus,gpu_time,cluster
 * timestamp is the submit time "YYYY-MM-DD HH:MM:SS" (UTC assumed), duration
 * the run time in seconds (may carry a fraction: rounded to nearest),
 * num_gpus the job's total GPU count, cluster the Philly VC. gpu_time is
 * redundant (duration x num_gpus) and ignored, as are unknown columns.
 * The file is not sorted; the caller sorts stably. See docs/trace-formats.md.
 */
#include "sim/sim_int.h"

struct philly_cols {
	int ts, dur, gpus, vc;
};

static int philly_row(void *ctx, struct aidc_csv *c, struct sim_trace *t, struct sim_job *j,
		      struct aidc_err *e)
{
	const struct philly_cols *k = ctx;
	const char *v = sim_fld(c, k->ts);
	int rc = aidc_parse_datetime(v, &j->submit_s);
	if (rc)
		return aidc_errf(e, rc, "%s:%zu: timestamp '%s' is not a date and time "
				 "(YYYY-MM-DD HH:MM:SS)", c->name, c->line, v);
	v = sim_fld(c, k->dur);
	if (sim_parse_seconds(v, &j->duration_s))
		return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: duration '%s' is not a number of "
				 "seconds in 0..%lld", c->name, c->line, v,
				 (long long)AIDC_MAX_DURATION_S);
	int64_t g;
	v = sim_fld(c, k->gpus);
	if (aidc_parse_i64(v, 0, AIDC_MAX_TASKS_PER_JOB, &g))
		return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: num_gpus '%s' is not an integer in "
				 "0..%u", c->name, c->line, v, AIDC_MAX_TASKS_PER_JOB);
	j->ntasks = 1;
	j->ndev = (uint32_t)g;
	j->dev_milli = AIDC_DEVICE_MILLI;
	j->flags = SIM_JOB_SHAPE_AUTO | SIM_JOB_PREEMPTIBLE;
	rc = sim_intern_field(c, t, "cluster", sim_fld(c, k->vc), &j->vc, e);
	if (rc)
		return rc;
	/* Philly VCs are the tenants of the cluster. */
	j->tenant = j->vc;
	j->id = t->n + 1;
	return 0;
}

int sim_read_philly(struct aidc_csv *c, const struct sim_read_opts *o, struct sim_trace *t,
		    struct aidc_err *e)
{
	struct philly_cols k;
	int rc = sim_need_col(c, "timestamp", &k.ts, e);
	if (!rc)
		rc = sim_need_col(c, "duration", &k.dur, e);
	if (!rc)
		rc = sim_need_col(c, "num_gpus", &k.gpus, e);
	if (!rc)
		rc = sim_need_col(c, "cluster", &k.vc, e);
	if (rc)
		return rc;
	return sim_read_rows(c, o, t, philly_row, &k, e);
}
