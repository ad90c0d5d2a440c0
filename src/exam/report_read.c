/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoding and validating an exam report (schema "aidc-exam-report",
 * version 1) back into struct exam_report, for `aidc exam report`,
 * `aidc exam compare` and --reference. Unknown schema names and versions are
 * rejected (STYLE.md rule 13); every string must fit its field and every
 * number must be finite and in range; unknown extra fields are ignored so
 * that minor additions stay readable. JSON itself is parsed by jansson, as
 * everywhere else in the tree (duplicate keys and NUL in strings rejected).
 */
#include <sys/stat.h>

#include <jansson.h>

#include "exam/exam_int.h"
#include "util/util.h"

/* Member of an object, or NULL when absent or when o is not an object. Borrowed. */
static const json_t *get(const json_t *o, const char *key)
{
	return json_is_object(o) ? json_object_get(o, key) : NULL;
}

struct dec {
	struct aidc_err *e;
	const char *where;
};

static int str(struct dec *d, const json_t *o, const char *key, char *dst, size_t cap,
	       bool required)
{
	const json_t *v = get(o, key);
	if (!v) {
		if (!required) {
			dst[0] = '\0';
			return 0;
		}
		return aidc_errf(d->e, AIDC_E_PARSE, "%s: missing \"%s\"", d->where, key);
	}
	if (!json_is_string(v))
		return aidc_errf(d->e, AIDC_E_PARSE, "%s: \"%s\" must be a string", d->where, key);
	size_t len = json_string_length(v);
	if (len >= cap)
		return aidc_errf(d->e, AIDC_E_LIMIT, "%s: \"%s\" is longer than %zu bytes", d->where,
				 key, cap - 1);
	memcpy(dst, json_string_value(v), len + 1);
	return 0;
}

static int num(struct dec *d, const json_t *o, const char *key, double min, double max,
	       double *out)
{
	const json_t *v = get(o, key);
	if (!v || json_is_null(v)) {
		*out = 0;
		return 0; /* optional; null is how the writer spells NaN */
	}
	if (!json_is_number(v))
		return aidc_errf(d->e, AIDC_E_PARSE, "%s: \"%s\" must be a number", d->where, key);
	double x = json_number_value(v);
	if (!(x >= min && x <= max))
		return aidc_errf(d->e, AIDC_E_LIMIT, "%s: \"%s\" = %g is outside [%g, %g]", d->where,
				 key, x, min, max);
	*out = x;
	return 0;
}

#define BIG 1e300

static int question(struct dec *d, const json_t *o, struct exam_result *q)
{
	double samples = 0, iters = 0, checked = 0;
	const json_t *chk = get(o, "check");
	int rc = 0;
	memset(q, 0, sizeof *q);
	if (!json_is_object(o))
		return aidc_errf(d->e, AIDC_E_PARSE, "%s: a question must be an object", d->where);
	rc = str(d, o, "id", q->id, sizeof q->id, true);
	rc = rc ? rc : str(d, o, "group", q->group, sizeof q->group, true);
	rc = rc ? rc : str(d, o, "kind", q->kind, sizeof q->kind, false);
	rc = rc ? rc : str(d, o, "dtype", q->dtype, sizeof q->dtype, false);
	rc = rc ? rc : str(d, o, "shape", q->shape, sizeof q->shape, false);
	rc = rc ? rc : str(d, o, "source", q->source, sizeof q->source, false);
	rc = rc ? rc : str(d, o, "status", q->status, sizeof q->status, true);
	rc = rc ? rc : str(d, o, "error", q->error, sizeof q->error, false);
	rc = rc ? rc : str(d, o, "path", q->path, sizeof q->path, false);
	rc = rc ? rc : str(d, o, "metric", q->metric, sizeof q->metric, true);
	rc = rc ? rc : num(d, o, "value", 0, BIG, &q->value);
	rc = rc ? rc : num(d, o, "work", 0, BIG, &q->work);
	rc = rc ? rc : num(d, o, "median_s", 0, BIG, &q->median_s);
	rc = rc ? rc : num(d, o, "min_s", 0, BIG, &q->min_s);
	rc = rc ? rc : num(d, o, "max_s", 0, BIG, &q->max_s);
	rc = rc ? rc : num(d, o, "spread_pct", 0, BIG, &q->spread_pct);
	rc = rc ? rc : num(d, o, "samples", 0, 1e6, &samples);
	rc = rc ? rc : num(d, o, "iters", 0, 1e12, &iters);
	rc = rc ? rc : num(d, o, "peak", 0, BIG, &q->peak);
	rc = rc ? rc : num(d, o, "peak_fraction", 0, BIG, &q->peak_fraction);
	rc = rc ? rc : num(d, o, "ref_value", 0, BIG, &q->ref_value);
	rc = rc ? rc : num(d, o, "score", 0, BIG, &q->score);
	if (rc)
		return rc;
	if (chk) {
		rc = num(d, chk, "tolerance", 0, BIG, &q->tolerance);
		rc = rc ? rc : num(d, chk, "max_err", 0, BIG, &q->max_err);
		rc = rc ? rc : num(d, chk, "checked", 0, 1e15, &checked);
		if (rc)
			return rc;
		q->checked = (uint64_t)checked;
	}
	static const char *const st[] = {"pass", "wrong", "error", "unsupported"};
	bool known = false;
	for (size_t i = 0; i < AIDC_ARRAY_LEN(st); i++)
		known |= strcmp(q->status, st[i]) == 0;
	if (!known)
		return aidc_errf(d->e, AIDC_E_PARSE, "%s: question %s: unknown status \"%s\"", d->where,
				 q->id, q->status);
	q->samples = (uint32_t)samples;
	q->iters = (uint64_t)iters;
	return 0;
}

static int device(struct dec *d, const json_t *o, struct exam_report *r)
{
	if (!json_is_object(o))
		return aidc_errf(d->e, AIDC_E_PARSE, "%s: missing \"device\" object", d->where);
	struct aidc_dev_info *in = &r->dev;
	double idx = 0, mem = 0, cu = 0;
	int rc = str(d, o, "name", in->name, sizeof in->name, true);
	rc = rc ? rc : str(d, o, "vendor", in->vendor, sizeof in->vendor, false);
	rc = rc ? rc : str(d, o, "model", in->model, sizeof in->model, false);
	rc = rc ? rc : str(d, o, "driver", in->driver, sizeof in->driver, false);
	rc = rc ? rc : str(d, o, "uuid", in->uuid, sizeof in->uuid, false);
	rc = rc ? rc : num(d, o, "index", 0, AIDC_MAX_PLUGIN_DEVICES, &idx);
	rc = rc ? rc : num(d, o, "mem_bytes", 0, 1.8e19, &mem);
	rc = rc ? rc : num(d, o, "compute_units", 0, 4e9, &cu);
	rc = rc ? rc : num(d, o, "peak_mem_gbps", 0, BIG, &in->peak_mem_gbps);
	rc = rc ? rc : num(d, o, "peak_host_link_gbps", 0, BIG, &in->peak_host_link_gbps);
	const json_t *pk = get(o, "peak_gflops");
	for (int t = 0; t < AIDC_DEV_NDTYPES && !rc; t++)
		rc = num(d, pk, dev_dtype_name((enum aidc_dev_dtype)t), 0, BIG, &in->peak_gflops[t]);
	r->dev_index = (uint32_t)idx;
	in->mem_bytes = (uint64_t)mem;
	in->compute_units = (uint32_t)cu;
	return rc;
}

static int header(struct dec *d, const json_t *root, struct exam_report *r)
{
	char schema[64];
	double ver, seed = 0, total = 0;
	int rc = str(d, root, "schema", schema, sizeof schema, true);
	if (rc)
		return rc;
	if (strcmp(schema, EXAM_REPORT_SCHEMA) != 0)
		return aidc_errf(d->e, AIDC_E_PARSE, "%s: not an exam report (schema \"%s\")", d->where,
				 schema);
	const json_t *v = get(root, "schema_version");
	if (!json_is_number(v))
		return aidc_errf(d->e, AIDC_E_PARSE, "%s: missing \"schema_version\"", d->where);
	ver = json_number_value(v);
	if (ver != EXAM_REPORT_VERSION)
		return aidc_errf(d->e, AIDC_E_VERSION,
				 "%s: report schema version %g; this aidc reads version %d", d->where,
				 ver, EXAM_REPORT_VERSION);
	r->schema_version = EXAM_REPORT_VERSION;
	const json_t *pl = get(root, "plugin");
	rc = str(d, root, "aidc_version", r->aidc_version, sizeof r->aidc_version, false);
	rc = rc ? rc : str(d, root, "created", r->created, sizeof r->created, false);
	rc = rc ? rc : str(d, root, "level", r->level, sizeof r->level, false);
	rc = rc ? rc : str(d, root, "reference", r->reference, sizeof r->reference, false);
	rc = rc ? rc : num(d, root, "seed", 0, 1.8e19, &seed);
	rc = rc ? rc : num(d, root, "devices_total", 0, AIDC_MAX_PLUGIN_DEVICES, &total);
	if (!rc && pl) {
		rc = str(d, pl, "name", r->plugin_name, sizeof r->plugin_name, false);
		rc = rc ? rc : str(d, pl, "version", r->plugin_version, sizeof r->plugin_version, false);
		rc = rc ? rc : str(d, pl, "path", r->plugin_path, sizeof r->plugin_path, false);
	}
	r->seed = (uint64_t)seed;
	r->devices_total = (uint32_t)total;
	return rc ? rc : device(d, get(root, "device"), r);
}

int exam_report_parse(const char *text, size_t len, struct exam_report *r, struct aidc_err *e)
{
	struct dec d = {e, "report"};
	json_error_t je;
	int rc = 0;
	exam_report_init(r);
	if (len > AIDC_MAX_EXAM_REPORT_BYTES)
		return aidc_errf(e, AIDC_E_LIMIT, "report: larger than %u bytes",
				 AIDC_MAX_EXAM_REPORT_BYTES);
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return aidc_errf(e, AIDC_E_PARSE,
				 "report: invalid JSON at line %d column %d (byte %d): %s", je.line,
				 je.column, je.position, je.text);
	if (!json_is_object(root)) {
		rc = aidc_errf(e, AIDC_E_PARSE, "report: the document must be a JSON object");
		goto fail;
	}
	rc = header(&d, root, r);
	if (rc)
		goto fail;
	const json_t *qs = get(root, "questions");
	if (!json_is_array(qs)) {
		rc = aidc_errf(e, AIDC_E_PARSE, "report: missing \"questions\" array");
		goto fail;
	}
	size_t nq = json_array_size(qs);
	if (nq > AIDC_MAX_EXAM_QUESTIONS) {
		rc = aidc_errf(e, AIDC_E_LIMIT, "report: %zu questions, limit %u", nq,
			       AIDC_MAX_EXAM_QUESTIONS);
		goto fail;
	}
	r->q = aidc_calloc(nq ? nq : 1, sizeof *r->q);
	r->capq = nq ? nq : 1;
	for (size_t i = 0; i < nq; i++) {
		rc = question(&d, json_array_get(qs, i), &r->q[i]);
		if (rc)
			goto fail;
		/* compare and the HTML page look questions up by id: one id, one
		 * answer. Quadratic, but nq <= AIDC_MAX_EXAM_QUESTIONS. */
		for (size_t k = 0; k < i; k++)
			if (!strcmp(r->q[k].id, r->q[i].id)) {
				rc = aidc_errf(e, AIDC_E_PARSE, "report: question \"%s\" appears "
					       "twice (questions[%zu] and [%zu])", r->q[i].id, k, i);
				goto fail;
			}
		r->nq++;
	}
	const json_t *sum = get(root, "summary");
	double wall = 0;
	if (sum)
		rc = num(&d, sum, "wall_s", 0, BIG, &wall);
	if (rc)
		goto fail;
	exam_report_summarize(r);
	r->wall_s = wall;
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	exam_report_release(r);
	return rc;
}

int exam_report_load(const char *path, struct exam_report *r, struct aidc_err *e)
{
	exam_report_init(r);
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return aidc_errf(e, AIDC_E_IO, "%s: is a directory, not a file", path);
	FILE *f = fopen(path, "rb");
	if (!f)
		return aidc_errf(e, AIDC_E_IO, "%s: %s", path, strerror(errno));
	struct aidc_buf b;
	aidc_buf_init(&b, AIDC_MAX_EXAM_REPORT_BYTES);
	char chunk[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (aidc_buf_append(&b, chunk, n)) {
			rc = aidc_errf(e, AIDC_E_LIMIT, "%s: larger than %u bytes", path,
				       AIDC_MAX_EXAM_REPORT_BYTES);
			break;
		}
	if (!rc && ferror(f))
		rc = aidc_errf(e, AIDC_E_IO, "%s: read error", path);
	fclose(f);
	if (!rc) {
		struct aidc_err inner;
		aidc_err_clear(&inner);
		rc = exam_report_parse(aidc_buf_str(&b), b.len, r, &inner);
		if (rc)
			aidc_errf(e, rc, "%s: %s", path, aidc_err_text(&inner, rc));
	}
	aidc_buf_release(&b);
	return rc;
}
