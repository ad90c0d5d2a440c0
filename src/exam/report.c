/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exam report as JSON (schema "aidc-exam-report", version 1). The field
 * list here is the schema; report_read.c decodes the same fields and
 * docs/exam.md describes them. Numbers carry fixed decimals so that the
 * same results always print the same bytes.
 */
#include "exam/exam.h"
#include "util/util.h"

static void write_device(struct aidc_json *j, const struct exam_report *r)
{
	const struct aidc_dev_info *d = &r->dev;
	aidc_json_key(j, "device");
	aidc_json_obj_begin(j);
	aidc_json_ki64(j, "index", r->dev_index);
	aidc_json_kstr(j, "name", d->name);
	aidc_json_kstr(j, "vendor", d->vendor);
	aidc_json_kstr(j, "model", d->model);
	aidc_json_kstr(j, "driver", d->driver);
	aidc_json_kstr(j, "uuid", d->uuid);
	aidc_json_key(j, "mem_bytes");
	aidc_json_u64(j, d->mem_bytes);
	aidc_json_ki64(j, "compute_units", d->compute_units);
	aidc_json_key(j, "peak_gflops");
	aidc_json_obj_begin(j);
	for (int t = 0; t < AIDC_DEV_NDTYPES; t++)
		aidc_json_kf64(j, dev_dtype_name((enum aidc_dev_dtype)t), d->peak_gflops[t], 3);
	aidc_json_obj_end(j);
	aidc_json_kf64(j, "peak_mem_gbps", d->peak_mem_gbps, 3);
	aidc_json_kf64(j, "peak_host_link_gbps", d->peak_host_link_gbps, 3);
	aidc_json_ki64(j, "caps", d->caps);
	aidc_json_obj_end(j);
}

static void write_question(struct aidc_json *j, const struct exam_result *q)
{
	aidc_json_obj_begin(j);
	aidc_json_kstr(j, "id", q->id);
	aidc_json_kstr(j, "group", q->group);
	aidc_json_kstr(j, "kind", q->kind);
	aidc_json_kstr(j, "dtype", q->dtype);
	aidc_json_kstr(j, "shape", q->shape);
	aidc_json_kstr(j, "source", q->source);
	aidc_json_kstr(j, "status", q->status);
	aidc_json_kstr(j, "error", q->error);
	if (q->path[0]) /* absent for plugins that do not say (older reports read the same) */
		aidc_json_kstr(j, "path", q->path);
	aidc_json_kstr(j, "metric", q->metric);
	aidc_json_kf64(j, "value", q->value, 3);
	aidc_json_kf64(j, "work", q->work, 0);
	aidc_json_kf64(j, "median_s", q->median_s, 9);
	aidc_json_kf64(j, "min_s", q->min_s, 9);
	aidc_json_kf64(j, "max_s", q->max_s, 9);
	aidc_json_kf64(j, "spread_pct", q->spread_pct, 2);
	aidc_json_ki64(j, "samples", q->samples);
	aidc_json_ki64(j, "iters", (int64_t)q->iters);
	aidc_json_kf64(j, "peak", q->peak, 3);
	aidc_json_kf64(j, "peak_fraction", q->peak_fraction, 4);
	aidc_json_kf64(j, "ref_value", q->ref_value, 3);
	aidc_json_kf64(j, "score", q->score, 4);
	aidc_json_key(j, "check");
	aidc_json_obj_begin(j);
	aidc_json_kf64(j, "tolerance", q->tolerance, 9);
	aidc_json_kf64(j, "max_err", q->max_err, 6);
	aidc_json_ki64(j, "checked", (int64_t)q->checked);
	aidc_json_obj_end(j);
	aidc_json_obj_end(j);
}

static const char *const groups[] = {"gemm", "conv", "attention", "memory", "transfer",
				     "collective"};

int exam_report_to_json(const struct exam_report *r, struct aidc_buf *out)
{
	struct aidc_json j;
	aidc_json_init(&j, out, true);
	aidc_json_obj_begin(&j);
	aidc_json_kstr(&j, "schema", EXAM_REPORT_SCHEMA);
	aidc_json_ki64(&j, "schema_version", EXAM_REPORT_VERSION);
	aidc_json_kstr(&j, "aidc_version", r->aidc_version);
	aidc_json_kstr(&j, "created", r->created);
	aidc_json_kstr(&j, "level", r->level);
	aidc_json_key(&j, "seed");
	aidc_json_u64(&j, r->seed);
	aidc_json_key(&j, "plugin");
	aidc_json_obj_begin(&j);
	aidc_json_kstr(&j, "name", r->plugin_name);
	aidc_json_kstr(&j, "version", r->plugin_version);
	aidc_json_kstr(&j, "path", r->plugin_path);
	aidc_json_obj_end(&j);
	aidc_json_ki64(&j, "devices_total", r->devices_total);
	write_device(&j, r);
	aidc_json_kstr(&j, "reference", r->reference);
	aidc_json_key(&j, "summary");
	aidc_json_obj_begin(&j);
	aidc_json_kstr(&j, "verdict", r->verdict);
	aidc_json_kf64(&j, "score", r->score, 4);
	aidc_json_key(&j, "group_scores");
	aidc_json_obj_begin(&j);
	for (size_t g = 0; g < AIDC_ARRAY_LEN(groups); g++)
		aidc_json_kf64(&j, groups[g], exam_report_group_score(r, groups[g]), 4);
	aidc_json_obj_end(&j);
	aidc_json_ki64(&j, "questions", (int64_t)r->nq);
	aidc_json_ki64(&j, "passed", r->n_pass);
	aidc_json_ki64(&j, "wrong", r->n_wrong);
	aidc_json_ki64(&j, "errors", r->n_error);
	aidc_json_ki64(&j, "unsupported", r->n_unsupported);
	aidc_json_kf64(&j, "wall_s", r->wall_s, 3);
	aidc_json_obj_end(&j);
	aidc_json_key(&j, "questions");
	aidc_json_arr_begin(&j);
	for (size_t i = 0; i < r->nq; i++)
		write_question(&j, &r->q[i]);
	aidc_json_arr_end(&j);
	aidc_json_obj_end(&j);
	int rc = aidc_json_finish(&j);
	if (!rc)
		rc = aidc_buf_putc(out, '\n');
	return rc;
}
