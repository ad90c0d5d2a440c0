/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The live controller's speed table (issue 12 item 3, docs/placement.md
 * "Heterogeneity-aware placement"): jobs' reported throughput turned into the
 * core's (job class, device model) speeds, kept across restarts, and shown by
 * GET /v1/speeds (`aidc speeds`).
 *
 * A job reports its throughput by writing it to the file its agent names in
 * AIDC_PROGRESS_FILE; the agent reads it once the task has ended and sends it
 * with the end report (progress_milli). When an attempt ends, a job whose
 * tasks all held whole devices of one model and reported a throughput gives
 * one observation: the mean of its tasks' throughputs, for its class on that
 * model. A job's class is its name, as in `aidc sim --speeds` (class ids 1..
 * in the order classes were first observed, at most AIDC_MAX_SPEED_CLASSES).
 *
 * Units: a class's throughputs are in its own unit (steps/s, samples/s), so
 * they are made relative per class: over the models M where class c has
 * observations, speed(c, m) = rate(c, m) x sum_M prior(m) / sum_M rate(c, M),
 * with rate the mean observed throughput and prior(m) row 0 of the core's
 * table: the model's exam-derived rate (docs/accounting.md; 1.0 without an
 * exam). One model observed: the class runs at the exam's speed there; more:
 * their ratios are the measured ones, the scale the exam's. Each row is set
 * as the core's prior (sched_speed_set), recomputed after each observation.
 *
 * Persistence: the observations (per class and model: runs and the sum of
 * throughputs) are one versioned JSON document in the store's meta table
 * (key "speeds"), written in the transaction that ends the attempt. Cost: a
 * linear scan of the classes by name per job enqueued and per observation
 * (AIDC_MAX_SPEED_CLASSES at most); the document is rewritten whole per
 * observation (about 60 bytes per class and model).
 *
 * Fair share: ctld_speeds_apply also gives the core each model's rate in
 * force (rates.c, in milli) as its fair-share charge (sched_model_set_charge),
 * so multifactor usage is in normalized units, as accounting is.
 */
#include <jansson.h>
#include <math.h>

#include "ctld/ctld_int.h"
#include "util/util.h"

#define SPEEDS_KEY     "speeds"
#define SPEEDS_VERSION 1

static struct ctld_speed_class *find_class(const struct ctld *c, const char *name)
{
	for (size_t i = 0; name && i < c->speeds.n; i++)
		if (!strcmp(c->speeds.v[i].name, name))
			return &c->speeds.v[i];
	return NULL;
}

uint32_t ctld_speeds_class(const struct ctld *c, const char *name)
{
	const struct ctld_speed_class *k = find_class(c, name);
	return k ? (uint32_t)(k - c->speeds.v) + 1 : 0;
}

static struct ctld_speed_obs *find_obs(struct ctld_speed_class *k, const char *model, bool add)
{
	for (uint32_t i = 0; i < k->nmodels; i++)
		if (!strcmp(k->m[i].model, model))
			return &k->m[i];
	if (!add || k->nmodels >= AIDC_MAX_DEVICE_MODELS)
		return NULL;
	struct ctld_speed_obs *o = &k->m[k->nmodels++];
	memset(o, 0, sizeof *o);
	snprintf(o->model, sizeof o->model, "%s", model);
	return o;
}

/* v clamped to the core's range of speeds and charges. */
static uint32_t clamp_milli(int64_t v)
{
	return v < 1 ? 1u : v > AIDC_MAX_SPEED_MILLI ? AIDC_MAX_SPEED_MILLI : (uint32_t)v;
}

/* Row 0 of model id m in milli: its exam-derived rate, 1000 without one. */
static uint32_t prior_milli(const struct ctld *c, const char *model)
{
	for (size_t i = 0; i < c->speeds.nexam; i++)
		if (!strcmp(c->speeds.exam[i].model, model)) {
			return clamp_milli((c->speeds.exam[i].rate_ppm + 500) / 1000);
		}
	return AIDC_DEVICE_MILLI;
}

/* The speed the class's row gets on model i of its observations. */
static uint32_t class_speed(const struct ctld *c, const struct ctld_speed_class *k, uint32_t i)
{
	double s0 = 0, sr = 0;
	for (uint32_t x = 0; x < k->nmodels; x++) {
		if (!k->m[x].runs || sched_find_model(c->sched, k->m[x].model) < 0)
			continue;
		s0 += prior_milli(c, k->m[x].model);
		sr += (double)k->m[x].sum_milli / k->m[x].runs;
	}
	double r = (double)k->m[i].sum_milli / k->m[i].runs;
	double v = sr > 0 ? r * s0 / sr : AIDC_DEVICE_MILLI;
	return v > AIDC_MAX_SPEED_MILLI ? AIDC_MAX_SPEED_MILLI : clamp_milli(llround(v));
}

static void apply_class(struct ctld *c, const struct ctld_speed_class *k)
{
	uint32_t cls = (uint32_t)(k - c->speeds.v) + 1;
	for (uint32_t i = 0; i < k->nmodels; i++) {
		int m = sched_find_model(c->sched, k->m[i].model);
		struct aidc_err e = {0};
		if (m >= 0 && k->m[i].runs &&
		    sched_speed_set(c->sched, cls, (uint32_t)m, class_speed(c, k, i), &e) != 0)
			aidc_log(AIDC_LOG_WARN, "speeds: class %s: %s", k->name, e.msg);
	}
}

void ctld_speeds_apply(struct ctld *c)
{
	for (uint32_t m = 0; m < sched_model_count(c->sched); m++) {
		const char *name = sched_model_name(c->sched, m);
		struct aidc_err e = {0};
		for (size_t i = 0; i < c->speeds.nexam; i++)
			if (!strcmp(c->speeds.exam[i].model, name))
				(void)sched_speed_set(c->sched, 0, m, prior_milli(c, name), &e);
		/* fair share in normalized units: the rate in force (rates.c) */
		int64_t ppm = ctld_rate_ppm(c, name);
		if (ppm > 0)
			(void)sched_model_set_charge(c->sched, m, clamp_milli((ppm + 500) / 1000),
						     &e);
	}
	for (size_t i = 0; i < c->speeds.n; i++)
		apply_class(c, &c->speeds.v[i]);
}

void ctld_speeds_exam(struct ctld *c, const char *model, int64_t derived_ppm)
{
	size_t i = 0;
	while (i < c->speeds.nexam && strcmp(c->speeds.exam[i].model, model))
		i++;
	if (derived_ppm <= 0) {
		if (c->sched)
			ctld_speeds_apply(c); /* an override: the fair-share charge */
		return;
	}
	if (i == c->speeds.nexam) {
		AIDC_GROW(c->speeds.exam, c->speeds.cap_exam, c->speeds.nexam + 1);
		snprintf(c->speeds.exam[i].model, sizeof c->speeds.exam[i].model, "%s", model);
		c->speeds.nexam++;
	}
	c->speeds.exam[i].rate_ppm = derived_ppm;
	if (c->sched)
		ctld_speeds_apply(c);
}

/* ---- persistence ------------------------------------------------------------ */

static int doc_write(struct ctld *c, struct aidc_err *e)
{
	json_t *cl = json_array();
	for (size_t i = 0; i < c->speeds.n; i++) {
		const struct ctld_speed_class *k = &c->speeds.v[i];
		json_t *ms = json_array();
		for (uint32_t x = 0; x < k->nmodels; x++)
			json_array_append_new(ms, json_pack("{s:s, s:I, s:I}", "model",
							    k->m[x].model, "runs",
							    (json_int_t)k->m[x].runs, "sum_milli",
							    (json_int_t)k->m[x].sum_milli));
		json_array_append_new(cl, json_pack("{s:s, s:o}", "name", k->name, "models", ms));
	}
	json_t *doc = json_pack("{s:i, s:o}", "v", SPEEDS_VERSION, "classes", cl);
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!text)
		return aidc_errf(e, AIDC_E_INTERNAL, "speeds: cannot encode the table");
	int rc = c->st->ops->meta_set(c->st, SPEEDS_KEY, text, e);
	free(text);
	return rc;
}

static int bad_doc(struct aidc_err *e, const char *what)
{
	return aidc_errf(e, AIDC_E_VERSION,
			 "store: the speed table (meta '%s') is not version %d: %s", SPEEDS_KEY,
			 SPEEDS_VERSION, what);
}

/* One class of the stored document into the next slot. */
static int load_class(struct ctld *c, json_t *o, struct aidc_err *e)
{
	const char *name = json_string_value(json_object_get(o, "name"));
	json_t *ms = json_object_get(o, "models"), *x;
	size_t i;
	if (!name || !*name || strlen(name) >= AIDC_MAX_NAME_BYTES || find_class(c, name) ||
	    !json_is_array(ms) || json_array_size(ms) > AIDC_MAX_DEVICE_MODELS ||
	    c->speeds.n >= AIDC_MAX_SPEED_CLASSES)
		return bad_doc(e, "a bad class");
	AIDC_GROW(c->speeds.v, c->speeds.cap, c->speeds.n + 1);
	struct ctld_speed_class *k = &c->speeds.v[c->speeds.n++];
	memset(k, 0, sizeof *k);
	snprintf(k->name, sizeof k->name, "%s", name);
	json_array_foreach(ms, i, x)
	{
		const char *model = json_string_value(json_object_get(x, "model"));
		json_int_t runs = json_integer_value(json_object_get(x, "runs"));
		json_int_t sum = json_integer_value(json_object_get(x, "sum_milli"));
		if (!model || !*model || strlen(model) >= AIDC_MAX_NAME_BYTES || runs < 1 ||
		    runs > UINT32_MAX || sum < runs || find_obs(k, model, false))
			return bad_doc(e, "a bad model entry");
		struct ctld_speed_obs *ob = find_obs(k, model, true);
		ob->runs = (uint32_t)runs;
		ob->sum_milli = (uint64_t)sum;
	}
	return 0;
}

static int exam_visit(void *ctx, const struct store_rate *r)
{
	ctld_speeds_exam(ctx, r->model, r->derived_ppm);
	return 0;
}

int ctld_speeds_load(struct ctld *c, struct aidc_err *e)
{
	char *text = NULL;
	struct aidc_err ge = {0};
	int rc = c->st->ops->rate_list(c->st, exam_visit, c, e);
	if (rc)
		return rc;
	rc = c->st->ops->meta_get(c->st, SPEEDS_KEY, &text, &ge);
	if (rc == AIDC_E_NOTFOUND)
		return 0;
	if (rc)
		return aidc_errf(e, rc, "%s", ge.msg);
	json_t *doc = json_loads(text, 0, NULL), *cl = json_object_get(doc, "classes"), *o;
	size_t i;
	aidc_free(text);
	if (json_integer_value(json_object_get(doc, "v")) != SPEEDS_VERSION || !json_is_array(cl))
		rc = bad_doc(e, "no version or classes");
	json_array_foreach(cl, i, o)
	{
		if (!rc)
			rc = load_class(c, o, e);
	}
	json_decref(doc);
	if (rc)
		ctld_speeds_release(c);
	else
		ctld_speeds_apply(c);
	return rc;
}

void ctld_speeds_release(struct ctld *c)
{
	aidc_free(c->speeds.v);
	aidc_free(c->speeds.exam);
	memset(&c->speeds, 0, sizeof c->speeds);
}

/* ---- observations ----------------------------------------------------------- */

bool ctld_speeds_measure(const struct ctld *c, const struct ctld_job *j,
			 struct ctld_speed_sample *out)
{
	const char *model = NULL;
	uint64_t sum = 0, n = 0;
	if (!j->tasks || !j->ntasks || !j->name || !*j->name ||
	    strlen(j->name) >= AIDC_MAX_NAME_BYTES)
		return false;
	for (uint32_t t = 0; t < j->ntasks; t++) {
		const struct ctld_task *k = &j->tasks[t];
		const char *m = c->nodes[k->node].model;
		/* whole devices of one model only: a share or a CPU task measures
		 * something else */
		if (!k->ndev || (k->dev_milli && k->dev_milli != AIDC_DEVICE_MILLI) || !m[0] ||
		    (model && strcmp(model, m)))
			return false;
		model = m;
		if (k->progress_milli > 0) {
			sum += (uint64_t)k->progress_milli;
			n++;
		}
	}
	if (!n)
		return false;
	snprintf(out->cls, sizeof out->cls, "%s", j->name);
	snprintf(out->model, sizeof out->model, "%s", model);
	out->rate_milli = (sum + n / 2) / n;
	return true;
}

/* A new class row: the jobs of that name already in the core (queued before
 * it existed, with class 0, the default row) take it, so their next
 * placement uses what was just learned. */
static void reclass_queued(struct ctld *c, const struct ctld_speed_class *k)
{
	uint32_t cls = (uint32_t)(k - c->speeds.v) + 1;
	for (size_t h = 0; h < c->cap_handles; h++) {
		const struct ctld_job *j = c->by_handle[h];
		struct aidc_err e = {0};
		if (j && j->handle == (int32_t)h && j->state == CTLD_JOB_PENDING &&
		    j->name && !strcmp(j->name, k->name) &&
		    sched_job_set_speed_class(c->sched, (uint32_t)h, cls, &e) != 0)
			aidc_log(AIDC_LOG_WARN, "speeds: job %" PRIu64 ": %s", j->id, e.msg);
	}
}

int ctld_speeds_record(struct ctld *c, const struct ctld_speed_sample *s, struct aidc_err *e)
{
	struct ctld_speed_class *k = find_class(c, s->cls);
	bool added = false;
	if (!k) {
		if (c->speeds.n >= AIDC_MAX_SPEED_CLASSES) {
			if (!c->speeds.full_told)
				aidc_log(AIDC_LOG_WARN,
					 "speeds: %u job classes already; class '%s' and later new "
					 "ones are not recorded",
					 AIDC_MAX_SPEED_CLASSES, s->cls);
			c->speeds.full_told = true;
			return 0;
		}
		AIDC_GROW(c->speeds.v, c->speeds.cap, c->speeds.n + 1);
		k = &c->speeds.v[c->speeds.n++];
		memset(k, 0, sizeof *k);
		snprintf(k->name, sizeof k->name, "%s", s->cls);
		added = true;
	}
	struct ctld_speed_obs *o = find_obs(k, s->model, true);
	if (!o || o->runs == UINT32_MAX || o->sum_milli > UINT64_MAX - s->rate_milli) {
		if (added)
			c->speeds.n--;
		return 0; /* the mean no longer moves */
	}
	o->runs++;
	o->sum_milli += s->rate_milli;
	int rc = doc_write(c, e);
	if (rc) { /* undo: memory stays what the store holds */
		o->runs--;
		o->sum_milli -= s->rate_milli;
		if (o->runs == 0)
			k->nmodels--;
		if (added)
			c->speeds.n--;
		return rc;
	}
	apply_class(c, k);
	if (added)
		reclass_queued(c, k);
	return 0;
}

/* ---- GET /v1/speeds --------------------------------------------------------- */

static void write_model_row(const struct ctld *c, struct aidc_json *w, uint32_t m)
{
	const char *name = sched_model_name(c->sched, m);
	bool exam = false;
	for (size_t i = 0; i < c->speeds.nexam && !exam; i++)
		exam = !strcmp(c->speeds.exam[i].model, name);
	aidc_json_obj_begin(w);
	aidc_json_kstr(w, "model", name);
	aidc_json_kf64(w, "prior", prior_milli(c, name) / 1000.0, 3);
	aidc_json_kstr(w, "prior_source", exam ? "exam" : "default");
	aidc_json_kf64(w, "fair_share_charge", sched_model_charge(c->sched, m) / 1000.0, 3);
	aidc_json_obj_end(w);
}

static void write_class(const struct ctld *c, struct aidc_json *w, size_t i)
{
	const struct ctld_speed_class *k = &c->speeds.v[i];
	aidc_json_obj_begin(w);
	aidc_json_kstr(w, "class", k->name);
	aidc_json_ki64(w, "id", (int64_t)i + 1);
	aidc_json_key(w, "models");
	aidc_json_arr_begin(w);
	for (uint32_t x = 0; x < k->nmodels; x++) {
		int m = sched_find_model(c->sched, k->m[x].model);
		aidc_json_obj_begin(w);
		aidc_json_kstr(w, "model", k->m[x].model);
		aidc_json_ki64(w, "runs", k->m[x].runs);
		aidc_json_kf64(w, "mean_rate", (double)k->m[x].sum_milli / k->m[x].runs / 1000.0,
			       3);
		aidc_json_key(w, "speed");
		if (m >= 0)
			aidc_json_f64(
			    w, sched_speed(c->sched, (uint32_t)i + 1, (uint32_t)m) / 1000.0, 3);
		else
			aidc_json_null(w); /* no node of the model is known now */
		aidc_json_obj_end(w);
	}
	aidc_json_arr_end(w);
	aidc_json_obj_end(w);
}

/* A class is a job name: an admin sees every class, another user only those
 * named like one of their own jobs the controller holds (a job name is the
 * owner's; docs/placement.md). */
static bool class_visible(const struct ctld *c, const struct ctld_msg *m, const char *name)
{
	if (m->req->who.admin)
		return true;
	for (size_t i = 0; i < c->njobs; i++)
		if (c->jobs[i]->uid == m->req->who.uid && c->jobs[i]->name &&
		    !strcmp(c->jobs[i]->name, name))
			return true;
	return false;
}

int ctld_lf_speeds(struct ctld *c, struct ctld_msg *m)
{
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	aidc_json_obj_begin(&w);
	aidc_json_kstr(&w, "hetero", sched_hetero_name((enum sched_hetero)c->cfg.hetero));
	aidc_json_key(&w, "models");
	aidc_json_arr_begin(&w);
	for (uint32_t x = 0; x < sched_model_count(c->sched); x++)
		write_model_row(c, &w, x);
	aidc_json_arr_end(&w);
	aidc_json_key(&w, "classes");
	aidc_json_arr_begin(&w);
	size_t hidden = 0;
	for (size_t i = 0; i < c->speeds.n; i++) {
		if (class_visible(c, m, c->speeds.v[i].name))
			write_class(c, &w, i);
		else
			hidden++;
	}
	aidc_json_arr_end(&w);
	aidc_json_ki64(&w, "classes_hidden", (int64_t)hidden);
	aidc_json_obj_end(&w);
	return aidc_json_finish(&w);
}
