/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running a whole exam (selection, progress, scoring against the reference
 * device) and the report's summary: verdict, counts, and geometric-mean
 * scores overall and per group.
 */
#include <math.h>
#include <time.h>

#include "exam/exam_int.h"
#include "util/util.h"

void exam_report_init(struct exam_report *r)
{
	memset(r, 0, sizeof *r);
	r->schema_version = EXAM_REPORT_VERSION;
}

void exam_report_release(struct exam_report *r)
{
	aidc_free(r->q);
	memset(r, 0, sizeof *r);
}

double exam_report_group_score(const struct exam_report *r, const char *group)
{
	double logsum = 0;
	size_t n = 0;
	for (size_t i = 0; i < r->nq; i++) {
		const struct exam_result *q = &r->q[i];
		if (strcmp(q->status, "pass") != 0 || !(q->score > 0))
			continue;
		if (group && strcmp(q->group, group) != 0)
			continue;
		logsum += log(q->score);
		n++;
	}
	return n ? exp(logsum / (double)n) : 0;
}

void exam_report_summarize(struct exam_report *r)
{
	r->n_pass = r->n_wrong = r->n_error = r->n_unsupported = 0;
	for (size_t i = 0; i < r->nq; i++) {
		const char *s = r->q[i].status;
		if (!strcmp(s, "pass"))
			r->n_pass++;
		else if (!strcmp(s, "wrong"))
			r->n_wrong++;
		else if (!strcmp(s, "unsupported"))
			r->n_unsupported++;
		else
			r->n_error++;
	}
	bool ok = r->n_wrong == 0 && r->n_error == 0 && r->n_pass > 0;
	snprintf(r->verdict, sizeof r->verdict, "%s", ok ? "pass" : "fail");
	r->score = exam_report_group_score(r, NULL);
}

static double reference_value(const struct exam_options *o, const char *id)
{
	if (!o->reference)
		return exam_builtin_ref(id);
	for (size_t i = 0; i < o->reference->nq; i++) {
		const struct exam_result *q = &o->reference->q[i];
		if (strcmp(q->id, id) == 0)
			return strcmp(q->status, "pass") == 0 ? q->value : 0;
	}
	return 0;
}

void exam_fill_header(const char *name, const char *version, const char *path, uint32_t ndev,
		      const struct aidc_dev_info *info, const struct exam_options *o,
		      struct exam_report *r)
{
	snprintf(r->aidc_version, sizeof r->aidc_version, "%s", AIDC_VERSION);
	aidc_format_datetime((int64_t)time(NULL), r->created);
	snprintf(r->level, sizeof r->level, "%s", exam_level_name(o->level));
	snprintf(r->plugin_name, sizeof r->plugin_name, "%s", name);
	snprintf(r->plugin_version, sizeof r->plugin_version, "%s", version);
	snprintf(r->plugin_path, sizeof r->plugin_path, "%s", path);
	if (o->reference)
		snprintf(r->reference, sizeof r->reference, "%.90s (%.30s)", o->reference->dev.name,
			 o->reference->created);
	else
		snprintf(r->reference, sizeof r->reference, "%s", exam_builtin_ref_name);
	r->seed = o->seed;
	r->dev_index = o->device;
	r->devices_total = ndev;
	r->dev = *info;
}

/* Sets ref_value and score of a finished question. */
static void score(const struct exam_options *o, struct exam_result *res)
{
	res->ref_value = reference_value(o, res->id);
	if (!strcmp(res->status, "pass") && res->ref_value > 0)
		res->score = res->value / res->ref_value;
}

int exam_count_selected(const struct exam_options *o, size_t *nsel, struct aidc_err *e)
{
	size_t ncat;
	const struct exam_question *cat = exam_catalog(&ncat);
	*nsel = 0;
	for (size_t i = 0; i < ncat; i++)
		*nsel += exam_selected(&cat[i], o);
	if (!*nsel)
		return aidc_errf(e, AIDC_E_NOTFOUND, "no question matches '%s' (see 'aidc exam list')",
				 o->questions ? o->questions : "");
	return 0;
}

void exam_ask_all(const struct exam_options *o, size_t nsel, exam_ask_fn ask, void *arg,
		  struct exam_report *r)
{
	size_t ncat;
	const struct exam_question *cat = exam_catalog(&ncat);
	if (o->started)
		o->started(o->progress_arg, r);
	double t0 = exam_now_s();
	size_t k = 0;
	for (size_t i = 0; i < ncat; i++) {
		if (!exam_selected(&cat[i], o))
			continue;
		if (o->progress)
			o->progress(o->progress_arg, k, nsel, &cat[i], NULL);
		AIDC_GROW(r->q, r->capq, r->nq + 1);
		struct exam_result *res = &r->q[r->nq++];
		ask(arg, &cat[i], (uint32_t)i, res);
		score(o, res);
		r->wall_s = exam_now_s() - t0;
		exam_report_summarize(r);
		if (o->progress)
			o->progress(o->progress_arg, k, nsel, &cat[i], res);
		if (o->checkpoint)
			o->checkpoint(o->progress_arg, r);
		k++;
	}
	r->wall_s = exam_now_s() - t0;
	exam_report_summarize(r);
}

struct in_process {
	struct dev_plugin *p;
	const struct exam_options *o;
};

static void ask_in_process(void *arg, const struct exam_question *q, uint32_t i,
			   struct exam_result *res)
{
	const struct in_process *a = arg;
	(void)i;
	exam_run_question(a->p, a->o->device, q, a->o->level, a->o->seed, res);
}

int exam_run(struct dev_plugin *p, const struct exam_options *o, struct exam_report *r,
	     struct aidc_err *e)
{
	if (o->device >= p->ndev)
		return aidc_errf(e, AIDC_E_INVAL, "device %u: the plugin has %u device(s)", o->device,
				 p->ndev);
	size_t nsel;
	int rc = exam_count_selected(o, &nsel, e);
	if (rc)
		return rc;
	exam_fill_header(p->api->name ? p->api->name : "", p->api->version ? p->api->version : "",
			 p->path, p->ndev, &p->info[o->device], o, r);
	struct in_process a = {p, o};
	exam_ask_all(o, nsel, ask_in_process, &a, r);
	return 0;
}
