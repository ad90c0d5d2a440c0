/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc exam compare A.json B.json`: for every question both reports asked,
 * B's value divided by A's (above 1: B is faster), and the geometric mean
 * over questions that both passed. A question wrong in either report is
 * shown as such and left out of the mean.
 */
#include <math.h>

#include "exam/exam.h"
#include "util/util.h"

static const struct exam_result *find(const struct exam_report *r, const char *id)
{
	for (size_t i = 0; i < r->nq; i++)
		if (!strcmp(r->q[i].id, id))
			return &r->q[i];
	return NULL;
}

int exam_compare(const struct exam_report *a, const struct exam_report *b, bool json,
		 struct aidc_buf *out)
{
	struct aidc_json j;
	double logsum = 0;
	size_t n = 0, common = 0;
	if (json) {
		aidc_json_init(&j, out, true);
		aidc_json_obj_begin(&j);
		aidc_json_kstr(&j, "a", a->dev.name);
		aidc_json_kstr(&j, "b", b->dev.name);
		aidc_json_key(&j, "questions");
		aidc_json_arr_begin(&j);
	} else {
		aidc_buf_printf(out, "A: %s (%s, %s)\nB: %s (%s, %s)\n", a->dev.name, a->plugin_name,
				a->created, b->dev.name, b->plugin_name, b->created);
		aidc_buf_printf(out, "%-28s %12s %12s %-8s %8s\n", "question", "A", "B", "metric",
				"B/A");
	}
	for (size_t i = 0; i < a->nq; i++) {
		const struct exam_result *qa = &a->q[i], *qb = find(b, qa->id);
		if (!qb)
			continue;
		common++;
		bool ok = !strcmp(qa->status, "pass") && !strcmp(qb->status, "pass") && qa->value > 0;
		double ratio = ok ? qb->value / qa->value : 0;
		if (ok && ratio > 0) {
			logsum += log(ratio);
			n++;
		}
		if (json) {
			aidc_json_obj_begin(&j);
			aidc_json_kstr(&j, "id", qa->id);
			aidc_json_kstr(&j, "metric", qa->metric);
			aidc_json_kstr(&j, "a_status", qa->status);
			aidc_json_kstr(&j, "b_status", qb->status);
			aidc_json_kf64(&j, "a", qa->value, 3);
			aidc_json_kf64(&j, "b", qb->value, 3);
			aidc_json_kf64(&j, "ratio", ratio, 4);
			aidc_json_obj_end(&j);
		} else if (ok) {
			aidc_buf_printf(out, "%-28s %12.2f %12.2f %-8s %8.3f\n", qa->id, qa->value,
					qb->value, qa->metric, ratio);
		} else {
			aidc_buf_printf(out, "%-28s %12s %12s %-8s %8s\n", qa->id, qa->status,
					qb->status, qa->metric, "-");
		}
	}
	double gm = n ? exp(logsum / (double)n) : 0;
	/* Questions asked by one report only are not compared; say how many, so
	 * that a mean over a few common questions is not read as the whole exam. */
	size_t only_a = a->nq - common, only_b = b->nq - common;
	if (json) {
		aidc_json_arr_end(&j);
		aidc_json_ki64(&j, "common", (int64_t)common);
		aidc_json_ki64(&j, "only_a", (int64_t)only_a);
		aidc_json_ki64(&j, "only_b", (int64_t)only_b);
		aidc_json_ki64(&j, "compared", (int64_t)n);
		aidc_json_kf64(&j, "geomean_ratio", gm, 4);
		aidc_json_obj_end(&j);
		int rc = aidc_json_finish(&j);
		return rc ? rc : aidc_buf_putc(out, '\n');
	}
	if (only_a || only_b)
		aidc_buf_printf(out, "not compared: %zu question(s) only in A, %zu only in B\n",
				only_a, only_b);
	return aidc_buf_printf(out, "geometric mean B/A over %zu of %zu common questions: %.3f\n", n,
			       common, gm);
}
