/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Normalized units (issue 12 item 2, docs/accounting.md): per device model, a
 * rate in normalized units per device-second, derived from a published exam
 * report (POST /v1/exam/publish) or set by an admin with a reason
 * (POST /v1/rates), both audited in the transaction that changes the rate.
 * Accounting records charge device-seconds x the rate of the node's model at
 * the attempt's end (acct.c); a model without a rate is charged at rate 1.
 *
 * Rates are fixed point, in millionths (rate_ppm), so that units =
 * device-seconds x rate is exact integer arithmetic and sums of records equal
 * the usage totals to the last digit.
 *
 * Derived rate: the geometric mean, over the report's passed questions of
 * the training-relevant groups (gemm, conv, attention), of value / the
 * built-in reference's value for the same question (docs/exam.md's score).
 * The rate uses each question's value and the built-in reference value (not
 * the report's rounded score). A report scored against another reference,
 * or whose scores do not match its values, is refused: all rates must be
 * against one reference.
 *
 * The controller keeps model -> rate_ppm in memory (loaded at start, a few
 * models: a linear scan per accounting record is cheaper than a lookup
 * structure); the listing reads the store.
 */
#include <jansson.h>
#include <math.h>

#include "ctld/ctld_int.h"
#include "exam/exam.h"
#include "util/util.h"

/* Highest rate accepted: a million times the reference device. */
#define RATE_MAX_PPM INT64_C(1000000000000)

static const char *const training_groups[] = {"gemm", "conv", "attention"};

void ctld_ppm_str(int64_t ppm, char *buf, size_t n)
{
	/* Negative values never occur (rates and units are positive); the
	 * magnitude of INT64_MIN is not representable, so it prints as 0. */
	uint64_t v = ppm < 0 ? (ppm == INT64_MIN ? 0 : (uint64_t)-ppm) : (uint64_t)ppm;
	snprintf(buf, n, "%s%" PRIu64 ".%06" PRIu64, ppm < 0 ? "-" : "", v / 1000000, v % 1000000);
}

int64_t ctld_rate_ppm(const struct ctld *c, const char *model)
{
	for (size_t i = 0; i < c->rates.n; i++)
		if (!strcmp(c->rates.v[i].model, model))
			return c->rates.v[i].rate_ppm;
	return 0;
}

static void rate_mem_set(struct ctld *c, const char *model, int64_t ppm)
{
	for (size_t i = 0; i < c->rates.n; i++)
		if (!strcmp(c->rates.v[i].model, model)) {
			c->rates.v[i].rate_ppm = ppm;
			return;
		}
	AIDC_GROW(c->rates.v, c->rates.cap, c->rates.n + 1);
	struct ctld_rate *r = &c->rates.v[c->rates.n++];
	snprintf(r->model, sizeof r->model, "%s", model);
	r->rate_ppm = ppm;
}

static int load_one(void *ctx, const struct store_rate *r)
{
	rate_mem_set(ctx, r->model, r->rate_ppm);
	return 0;
}

int ctld_rates_load(struct ctld *c, struct aidc_err *e)
{
	return c->st->ops->rate_list(c->st, load_one, c, e);
}

void ctld_rates_release(struct ctld *c)
{
	aidc_free(c->rates.v);
	c->rates.v = NULL;
	c->rates.n = c->rates.cap = 0;
}

/* A model key: printable ASCII without quotes or backslashes, 1..NAME-1. */
static int check_model(const char *m, struct aidc_err *e)
{
	size_t n = strlen(m);
	if (n == 0 || n >= AIDC_MAX_NAME_BYTES)
		return aidc_errf(e, AIDC_E_INVAL, "model: 1 to %u characters",
				 AIDC_MAX_NAME_BYTES - 1);
	for (size_t i = 0; i < n; i++)
		if (m[i] < 0x20 || m[i] > 0x7e || m[i] == '"' || m[i] == '\\')
			return aidc_errf(e, AIDC_E_INVAL,
					 "model: printable ASCII without quotes or backslashes");
	return 0;
}

/* Writes the rate and its audit record in one savepoint; on an audit
 * failure the change is undone and the controller stops (as audit.c). */
static int commit_rate(struct ctld *c, struct ctld_msg *m, const struct store_rate *r,
		       const char *action, const char *detail)
{
	int rc = ctld_tx_begin(c, &m->err);
	if (rc)
		return rc;
	if ((rc = c->st->ops->rate_put(c->st, r, &m->err)) != 0) {
		ctld_tx_rollback(c);
		return rc;
	}
	char target[AIDC_MAX_NAME_BYTES + 16];
	snprintf(target, sizeof target, "model %s", r->model);
	if ((rc = ctld_audit_commit(c, m, action, target, -1, detail, strlen(detail))) != 0)
		return rc;
	rate_mem_set(c, r->model, r->rate_ppm);
	ctld_speeds_exam(c, r->model, r->derived_ppm); /* the speed table's prior */
	return 0;
}

static bool training(const char *group)
{
	for (size_t i = 0; i < AIDC_ARRAY_LEN(training_groups); i++)
		if (!strcmp(group, training_groups[i]))
			return true;
	return false;
}

/* The derived rate of a parsed report, or an error naming what is wrong. */
static int derive(const struct exam_report *r, int64_t *ppm, size_t *nused, struct aidc_err *e)
{
	if (strcmp(r->verdict, "pass"))
		return aidc_errf(e, AIDC_E_INVAL,
				 "report verdict is '%s': only a passing report can be published "
				 "(a wrong answer makes every score of it untrustworthy)",
				 r->verdict);
	double sum = 0;
	size_t n = 0;
	for (size_t i = 0; i < r->nq; i++) {
		const struct exam_result *q = &r->q[i];
		if (strcmp(q->status, "pass") || !training(q->group))
			continue;
		double ref = exam_builtin_ref(q->id);
		if (!(ref > 0))
			return aidc_errf(e, AIDC_E_INVAL,
					 "question %s has no built-in reference value", q->id);
		/* Reports print ref_value with 3 decimals and score with 4, value
		 * with 3: the checks allow exactly that rounding. */
		if (!(fabs(q->ref_value - ref) <= 5e-4 + 1e-9 * ref))
			return aidc_errf(e, AIDC_E_INVAL,
					 "question %s is scored against reference value %g, not "
					 "the built-in reference's %g (%s): rates must all be "
					 "against one reference; rerun without --reference",
					 q->id, q->ref_value, ref, exam_builtin_ref_name);
		if (!(q->value > 0) || !isfinite(q->value) ||
		    !(fabs(q->score - q->value / ref) <= 5e-5 + 5e-4 / ref + 1e-9 * q->score))
			return aidc_errf(
			    e, AIDC_E_INVAL,
			    "question %s: score %g does not match value %g / reference "
			    "%g (an edited report?)",
			    q->id, q->score, q->value, ref);
		sum += log(q->value / ref);
		n++;
	}
	if (!n)
		return aidc_errf(e, AIDC_E_INVAL,
				 "the report has no passed question of the training groups (gemm, "
				 "conv, attention): no rate can be derived");
	double rate = exp(sum / (double)n);
	if (!(rate * 1e6 >= 0.5) || !(rate * 1e6 <= (double)RATE_MAX_PPM))
		return aidc_errf(e, AIDC_E_LIMIT, "derived rate %g is outside 0.000001..1000000",
				 rate);
	*ppm = llround(rate * 1e6);
	*nused = n;
	return 0;
}

/* POST /v1/exam/publish (admins): body = the report of `aidc exam run --out`. */
int ctld_lf_exam_publish(struct ctld *c, struct ctld_msg *m)
{
	const struct api_request *q = m->req;
	if (!q->body || !q->body_len)
		return aidc_errf(&m->err, AIDC_E_INVAL, "the body must be an exam report (JSON)");
	struct exam_report r;
	exam_report_init(&r);
	int64_t ppm = 0;
	size_t n = 0;
	int rc = exam_report_parse(q->body, q->body_len, &r, &m->err);
	if (rc == 0)
		rc = check_model(r.dev.model, &m->err);
	if (rc == 0)
		rc = derive(&r, &ppm, &n, &m->err);
	if (rc) {
		exam_report_release(&r);
		return rc < 0 ? rc : AIDC_E_INVAL;
	}
	struct aidc_buf sum, det;
	aidc_buf_init(&sum, 64 * 1024);
	aidc_buf_init(&det, 64 * 1024);
	struct aidc_json w;
	aidc_json_init(&w, &sum, false);
	aidc_json_obj_begin(&w);
	aidc_json_kstr(&w, "plugin", r.plugin_name);
	aidc_json_kstr(&w, "level", r.level);
	aidc_json_kstr(&w, "created", r.created);
	aidc_json_kstr(&w, "device", r.dev.name);
	aidc_json_kf64(&w, "score", r.score, 4);
	aidc_json_ki64(&w, "training_questions", (int64_t)n);
	aidc_json_obj_end(&w);
	rc = aidc_json_finish(&w);
	char rs[32];
	ctld_ppm_str(ppm, rs, sizeof rs);
	aidc_buf_printf(&det, "rate %s (geometric mean of %zu training questions); report %s", rs,
			n, aidc_buf_str(&sum));
	struct store_rate sr = {
	    .model = r.dev.model,
	    .rate_ppm = ppm,
	    .derived_ppm = ppm,
	    .source = "exam",
	    .reason = "",
	    .actor = q->who.user,
	    .set_s = ctld_now_s(),
	    .report = aidc_buf_str(&sum),
	};
	if (rc == 0)
		rc = commit_rate(c, m, &sr, "exam.publish", aidc_buf_str(&det));
	if (rc == 0) {
		aidc_json_init(&w, &m->resp->body, false);
		aidc_json_obj_begin(&w);
		aidc_json_kstr(&w, "model", r.dev.model);
		aidc_json_key(&w, "rate");
		aidc_json_raw(&w, rs);
		aidc_json_ki64(&w, "rate_ppm", ppm);
		aidc_json_ki64(&w, "training_questions", (int64_t)n);
		aidc_json_kstr(&w, "formula",
			       "geometric mean over passed gemm/conv/attention questions of value "
			       "/ built-in reference value");
		aidc_json_obj_end(&w);
		rc = aidc_json_finish(&w);
	}
	aidc_buf_release(&sum);
	aidc_buf_release(&det);
	exam_report_release(&r);
	return rc;
}

/* The stored row of one model: an override keeps the exam-derived rate and
 * the report summary beside it. */
struct find_ctx {
	const char *model;
	int64_t derived;
	char report[4096];
};

static int find_visit(void *ctx, const struct store_rate *r)
{
	struct find_ctx *f = ctx;
	if (strcmp(r->model, f->model))
		return 0;
	f->derived = r->derived_ppm;
	snprintf(f->report, sizeof f->report, "%s", r->report);
	return 0;
}

/* POST /v1/rates (admins): {"model": M, "rate_ppm": N, "reason": R}. */
int ctld_lf_rate_set(struct ctld *c, struct ctld_msg *m)
{
	const struct api_request *q = m->req;
	json_error_t je;
	json_t *root = q->body ? json_loadb(q->body, q->body_len, 0, &je) : NULL;
	const char *model = json_string_value(json_object_get(root, "model"));
	const char *reason = json_string_value(json_object_get(root, "reason"));
	json_t *jr = json_object_get(root, "rate_ppm");
	int rc = 0;
	if (!json_is_object(root))
		rc = aidc_errf(&m->err, AIDC_E_INVAL,
			       "the body must be {\"model\", \"rate_ppm\", \"reason\"}");
	else if (json_object_size(root) != 3)
		rc = aidc_errf(&m->err, AIDC_E_INVAL,
			       "unknown or missing fields: exactly model, rate_ppm and reason");
	else if (!model || (rc = check_model(model, &m->err)) != 0)
		rc = rc ? rc : aidc_errf(&m->err, AIDC_E_INVAL, "model: a string");
	else if (!json_is_integer(jr) || json_integer_value(jr) < 1 ||
		 json_integer_value(jr) > RATE_MAX_PPM)
		rc = aidc_errf(&m->err, AIDC_E_INVAL,
			       "rate_ppm: an integer 1..%" PRId64 " (rate x 1,000,000)",
			       RATE_MAX_PPM);
	else if (!reason || !*reason || strlen(reason) > AIDC_MAX_RATE_REASON_BYTES)
		rc = aidc_errf(&m->err, AIDC_E_INVAL,
			       "reason: required, 1 to %u bytes (the audit log keeps it)",
			       AIDC_MAX_RATE_REASON_BYTES);
	if (rc) {
		json_decref(root);
		return rc;
	}
	int64_t ppm = json_integer_value(jr), derived = 0;
	char rs[32], ds[32] = "none";
	ctld_ppm_str(ppm, rs, sizeof rs);
	struct find_ctx f = {.model = model};
	rc = c->st->ops->rate_list(c->st, find_visit, &f, &m->err);
	derived = f.derived;
	if (derived)
		ctld_ppm_str(derived, ds, sizeof ds);
	struct aidc_buf det;
	aidc_buf_init(&det, AIDC_MAX_RATE_REASON_BYTES + 256);
	aidc_buf_printf(&det, "rate %s (exam-derived: %s); reason: %s", rs, ds, reason);
	struct store_rate sr = {
	    .model = model,
	    .rate_ppm = ppm,
	    .derived_ppm = derived,
	    .source = "override",
	    .reason = reason,
	    .actor = q->who.user,
	    .set_s = ctld_now_s(),
	    .report = f.report[0] ? f.report : "{}",
	};
	if (rc == 0)
		rc = commit_rate(c, m, &sr, "rate.override", aidc_buf_str(&det));
	if (rc == 0)
		aidc_buf_printf(&m->resp->body,
				"{\"model\":\"%s\",\"rate\":%s,\"rate_ppm\":%" PRId64
				",\"source\":\"override\"}",
				model, rs, ppm);
	aidc_buf_release(&det);
	json_decref(root);
	return rc;
}

static int list_visit(void *ctx, const struct store_rate *r)
{
	struct aidc_json *w = ctx;
	char rs[32], ds[32];
	ctld_ppm_str(r->rate_ppm, rs, sizeof rs);
	ctld_ppm_str(r->derived_ppm, ds, sizeof ds);
	aidc_json_obj_begin(w);
	aidc_json_kstr(w, "model", r->model);
	aidc_json_key(w, "rate");
	aidc_json_raw(w, rs);
	aidc_json_ki64(w, "rate_ppm", r->rate_ppm);
	aidc_json_key(w, "derived_rate");
	if (r->derived_ppm > 0)
		aidc_json_raw(w, ds);
	else
		aidc_json_null(w);
	aidc_json_kstr(w, "source", r->source);
	aidc_json_kstr(w, "reason", r->reason);
	aidc_json_kstr(w, "actor", r->actor);
	aidc_json_ki64(w, "set_s", r->set_s);
	aidc_json_key(w, "report");
	aidc_json_raw(w, r->report); /* a summary the controller wrote itself */
	aidc_json_obj_end(w);
	return 0;
}

/* GET /v1/rates: every model's rate, in model order. */
int ctld_lf_rates_list(struct ctld *c, struct ctld_msg *m)
{
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	aidc_json_obj_begin(&w);
	aidc_json_key(&w, "rates");
	aidc_json_arr_begin(&w);
	int rc = c->st->ops->rate_list(c->st, list_visit, &w, &m->err);
	if (rc)
		return rc;
	aidc_json_arr_end(&w);
	aidc_json_key(&w, "default_rate");
	aidc_json_raw(&w, "1.000000");
	aidc_json_kstr(&w, "note",
		       "a device model without a published exam or override is charged at rate 1");
	aidc_json_obj_end(&w);
	return aidc_json_finish(&w);
}
