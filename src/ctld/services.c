/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inference services (docs/services.md): the API (create, list, show, update,
 * scale, delete), the checks every spec passes before anything changes, and
 * the durable record of each service. A service is stored as one versioned
 * document in the store's tenancy table under kind "service" (no schema
 * migration): its spec, the previous spec (the rollback target), its
 * generation counters, router slot and the replicas' job ids and ports. The
 * replicas themselves are ordinary job rows, written in the same group
 * transaction as the service's document, so a controller killed at any point
 * restarts with the two in agreement.
 *
 * services_run.c drives the replicas; this file only changes what people and
 * the store see. Everything here runs on the loop thread.
 */
#include <jansson.h>

#include "ctld/services.h"
#include "util/util.h"

#define SVC_DOC_VERSION 1

/* ---- the set ----------------------------------------------------------------------- */

static size_t lower_bound(const struct ctld_services *S, const char *name)
{
	size_t lo = 0, hi = S->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(S->v[mid]->name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct svc_service *svc_find(struct ctld *c, const char *name)
{
	struct ctld_services *S = c->svc;
	size_t i = lower_bound(S, name);
	return i < S->n && strcmp(S->v[i]->name, name) == 0 ? S->v[i] : NULL;
}

static void svc_insert(struct ctld *c, struct svc_service *s)
{
	struct ctld_services *S = c->svc;
	size_t i = lower_bound(S, s->name);
	AIDC_GROW(S->v, S->cap, S->n + 1);
	memmove(&S->v[i + 1], &S->v[i], (S->n - i) * sizeof *S->v);
	S->v[i] = s;
	S->n++;
}

void svc_free(struct svc_service *s)
{
	if (!s)
		return;
	api_decoded_release(&api_schema_service_spec, &s->spec);
	aidc_free(s->spec_json);
	aidc_free(s->prev_json);
	aidc_free(s->r);
	aidc_free(s);
}

void svc_drop(struct ctld *c, struct svc_service *s)
{
	struct ctld_services *S = c->svc;
	size_t i = lower_bound(S, s->name);
	if (i < S->n && S->v[i] == s) {
		memmove(&S->v[i], &S->v[i + 1], (S->n - i - 1) * sizeof *S->v);
		S->n--;
	}
	svc_free(s);
}

/* ---- spec defaults ----------------------------------------------------------------- */

void svc_probe_of(const struct svc_service *s, char *path, size_t n, int64_t *period_ms,
		  int64_t *timeout_ms, int64_t *threshold, int64_t *start_ms)
{
	const struct api_service_probe *p = s->spec.probe;
	snprintf(path, n, "%s", p && p->path ? p->path : "/healthz");
	*period_ms = (p && p->period_s ? p->period_s : 2) * 1000;
	*timeout_ms = (p && p->timeout_s ? p->timeout_s : 1) * 1000;
	*threshold = p && p->failure_threshold ? p->failure_threshold : 3;
	*start_ms = (p && p->start_timeout_s ? p->start_timeout_s : 300) * 1000;
}

void svc_rollout_of(const struct svc_service *s, int64_t *surge, int64_t *unavail,
		    int64_t *max_failures)
{
	const struct api_service_rollout *r = s->spec.rollout;
	*surge = r ? r->max_surge : 0;
	*unavail = r ? r->max_unavailable : 0;
	if (*surge == 0 && *unavail == 0)
		*surge = 1; /* both zero could never make progress */
	*max_failures = r && r->max_failures ? r->max_failures : 3;
}

/* ---- the spec document ------------------------------------------------------------- */

static void strv_json(struct aidc_json *w, const char *key, const struct api_strv *v)
{
	aidc_json_key(w, key);
	aidc_json_arr_begin(w);
	for (size_t i = 0; i < v->n; i++)
		aidc_json_str(w, v->v[i]);
	aidc_json_arr_end(w);
}

static void spec_members(struct aidc_json *w, const struct api_service_spec *s)
{
	aidc_json_ki64(w, "v", API_SERVICE_SPEC_VERSION);
	aidc_json_kstr(w, "name", s->name);
	aidc_json_ki64(w, "replicas", s->replicas);
	strv_json(w, "command", &s->command);
	if (s->env.n)
		strv_json(w, "env", &s->env);
	const char *strs[][2] = {{"cwd", s->cwd},
				 {"gpu_model", s->gpu_model},
				 {"partition", s->partition},
				 {"account", s->account},
				 {"qos", s->qos}};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(strs); i++)
		if (strs[i][1])
			aidc_json_kstr(w, strs[i][0], strs[i][1]);
	aidc_json_ki64(w, "cpus_per_task", s->cpus_per_task);
	aidc_json_ki64(w, "mem_mib", s->mem_mib);
	aidc_json_ki64(w, "gpus_per_task", s->gpus_per_task);
	if (s->gpu_milli)
		aidc_json_ki64(w, "gpu_milli", s->gpu_milli);
	if (s->probe) {
		const struct api_service_probe *p = s->probe;
		aidc_json_key(w, "probe");
		aidc_json_obj_begin(w);
		if (p->path)
			aidc_json_kstr(w, "path", p->path);
		const int64_t v[] = {p->period_s, p->timeout_s, p->failure_threshold,
				     p->start_timeout_s};
		const char *k[] = {"period_s", "timeout_s", "failure_threshold", "start_timeout_s"};
		for (size_t i = 0; i < AIDC_ARRAY_LEN(v); i++)
			if (v[i])
				aidc_json_ki64(w, k[i], v[i]);
		aidc_json_obj_end(w);
	}
	if (s->autoscale) {
		const struct api_service_autoscale *a = s->autoscale;
		aidc_json_key(w, "autoscale");
		aidc_json_obj_begin(w);
		aidc_json_ki64(w, "min", a->min);
		aidc_json_ki64(w, "max", a->max);
		if (a->target_rps)
			aidc_json_ki64(w, "target_rps", a->target_rps);
		if (a->target_latency_ms)
			aidc_json_ki64(w, "target_latency_ms", a->target_latency_ms);
		if (a->scale_down_delay_s)
			aidc_json_ki64(w, "scale_down_delay_s", a->scale_down_delay_s);
		aidc_json_obj_end(w);
	}
	if (s->rollout) {
		aidc_json_key(w, "rollout");
		aidc_json_obj_begin(w);
		aidc_json_ki64(w, "max_surge", s->rollout->max_surge);
		aidc_json_ki64(w, "max_unavailable", s->rollout->max_unavailable);
		if (s->rollout->max_failures)
			aidc_json_ki64(w, "max_failures", s->rollout->max_failures);
		aidc_json_obj_end(w);
	}
}

/* The canonical document of s (caller frees), NULL when too large. */
static char *spec_doc(const struct api_service_spec *s)
{
	struct aidc_buf b;
	aidc_buf_init(&b, AIDC_MAX_HTTP_BODY_BYTES);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	aidc_json_obj_begin(&w);
	spec_members(&w, s);
	aidc_json_obj_end(&w);
	if (aidc_json_finish(&w) != 0) {
		aidc_buf_release(&b);
		return NULL;
	}
	return aidc_buf_detach(&b);
}

int svc_spec_decode(const char *json, struct api_service_spec *out, struct aidc_err *e)
{
	return api_decode(&api_schema_service_spec, json, strlen(json), out, e);
}

/* ---- checks ------------------------------------------------------------------------ */

static bool name_ok(const char *n)
{
	if (!n || !(n[0] >= 'a' && n[0] <= 'z'))
		return false;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return strlen(n) <= 63 && n[strlen(n) - 1] != '-';
}

/* The variables the controller sets in every replica. */
static const char *const reserved_env[] = {"PORT", "AIDC_SERVICE", "AIDC_SERVICE_GEN",
					   "AIDC_REPLICA_PORT"};

static int env_check(const struct api_strv *env, struct aidc_err *e)
{
	for (size_t i = 0; i < env->n; i++) {
		const char *eq = strchr(env->v[i], '=');
		if (!eq || eq == env->v[i])
			return aidc_errf(e, AIDC_E_INVAL, "env[%zu]: expected KEY=VALUE", i);
		for (size_t k = 0; k < AIDC_ARRAY_LEN(reserved_env); k++)
			if ((size_t)(eq - env->v[i]) == strlen(reserved_env[k]) &&
			    !strncmp(env->v[i], reserved_env[k], strlen(reserved_env[k])))
				return aidc_errf(e, AIDC_E_INVAL,
						 "env[%zu]: %s is set by the controller (each "
						 "replica gets its own port in $PORT)",
						 i, reserved_env[k]);
	}
	return 0;
}

static int probe_check(const struct api_service_probe *p, struct aidc_err *e)
{
	if (!p)
		return 0;
	if (p->path && p->path[0] != '/')
		return aidc_errf(e, AIDC_E_INVAL, "probe.path must start with '/'");
	for (const char *q = p->path ? p->path : ""; *q; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f)
			return aidc_errf(e, AIDC_E_INVAL,
					 "probe.path: spaces and control characters are not "
					 "allowed");
	int64_t period = p->period_s ? p->period_s : 2, timeout = p->timeout_s ? p->timeout_s : 1;
	if (timeout > period)
		return aidc_errf(e, AIDC_E_INVAL,
				 "probe.timeout_s (%" PRId64 ") must not be more than "
				 "probe.period_s (%" PRId64 ")",
				 timeout, period);
	return 0;
}

/* Fills replicas from autoscale and checks the counts. */
static int count_check(struct api_service_spec *s, struct aidc_err *e)
{
	const struct api_service_autoscale *a = s->autoscale;
	if (!a)
		return 0;
	if (!a->target_rps && !a->target_latency_ms)
		return aidc_errf(e, AIDC_E_INVAL,
				 "autoscale needs autoscale.target_rps, autoscale.target_latency_ms "
				 "or both");
	if (a->min > a->max)
		return aidc_errf(e, AIDC_E_INVAL,
				 "autoscale.min (%" PRId64 ") is more than autoscale.max (%" PRId64
				 ")",
				 a->min, a->max);
	if (s->replicas == 0)
		s->replicas = a->min;
	if (s->replicas < a->min || s->replicas > a->max)
		return aidc_errf(e, AIDC_E_INVAL,
				 "replicas %" PRId64 " is outside autoscale's %" PRId64
				 "..%" PRId64,
				 s->replicas, a->min, a->max);
	return 0;
}

/* A replica's job spec from s (strings copied; caller releases with
 * api_decoded_release(&api_schema_job_submit, ...)). env gets $PORT and the
 * service's name and generation. */
void svc_replica_spec(const struct svc_service *s, uint16_t port, struct api_job_submit *j)
{
	const struct api_service_spec *p = &s->spec;
	memset(j, 0, sizeof *j);
	char name[96];
	snprintf(name, sizeof name, "svc-%s", s->name);
	j->name = aidc_strdup(name);
	j->command.v = aidc_calloc(p->command.n, sizeof(char *));
	for (size_t i = 0; i < p->command.n; i++)
		j->command.v[i] = aidc_strdup(p->command.v[i]);
	j->command.n = p->command.n;
	j->env.v = aidc_calloc(p->env.n + 3, sizeof(char *));
	for (size_t i = 0; i < p->env.n; i++)
		j->env.v[i] = aidc_strdup(p->env.v[i]);
	char kv[3][96];
	snprintf(kv[0], sizeof kv[0], "PORT=%u", (unsigned)port);
	snprintf(kv[1], sizeof kv[1], "AIDC_SERVICE=%s", s->name);
	snprintf(kv[2], sizeof kv[2], "AIDC_SERVICE_GEN=%u", s->gen);
	for (int k = 0; k < 3; k++)
		j->env.v[p->env.n + k] = aidc_strdup(kv[k]);
	j->env.n = p->env.n + 3;
	j->cwd = p->cwd ? aidc_strdup(p->cwd) : NULL;
	j->ntasks = 1;
	j->cpus_per_task = p->cpus_per_task;
	j->mem_mib = p->mem_mib;
	j->gpus_per_task = p->gpus_per_task;
	j->gpu_milli = p->gpu_milli;
	j->gpu_model = p->gpu_model ? aidc_strdup(p->gpu_model) : NULL;
	j->partition = p->partition ? aidc_strdup(p->partition) : NULL;
	j->account = p->account ? aidc_strdup(p->account) : NULL;
	j->qos = p->qos ? aidc_strdup(p->qos) : NULL;
	j->preemptible = false;			  /* batch jobs never preempt a service */
	j->on_node_failure = aidc_strdup("fail"); /* the service starts a new replica */
}

/* Everything a spec must pass before anything changes: its own fields, then
 * a replica's job as the submit path would check it (partition, account,
 * QoS, limits of the job spec). */
static int spec_check(struct ctld *c, const struct api_identity *who, struct api_service_spec *s,
		      struct aidc_err *e)
{
	int rc;
	if (!name_ok(s->name))
		return aidc_errf(e, AIDC_E_INVAL,
				 "name '%.64s': 1 to 63 of a-z, 0-9 and '-', starting with a "
				 "letter and not ending with '-'",
				 s->name ? s->name : "");
	if (s->command.n == 0 || s->command.v[0][0] == '\0')
		return aidc_errf(e, AIDC_E_INVAL, "command: give the replica's argv");
	if (s->cwd && s->cwd[0] != '/')
		return aidc_errf(e, AIDC_E_INVAL, "cwd must be an absolute path");
	if (!s->autoscale && s->replicas == 0)
		s->replicas = 1;
	if ((rc = env_check(&s->env, e)) != 0 || (rc = probe_check(s->probe, e)) != 0 ||
	    (rc = count_check(s, e)) != 0)
		return rc;
	struct svc_service tmp = {.gen = 1};
	snprintf(tmp.name, sizeof tmp.name, "%s", s->name);
	tmp.spec = *s;
	struct api_job_submit j;
	svc_replica_spec(&tmp, (uint16_t)c->cfg.replica_port_min, &j);
	rc = ctld_job_check(c, who, &j, e);
	api_decoded_release(&api_schema_job_submit, &j);
	return rc;
}

/* ---- persistence ------------------------------------------------------------------- */

static void doc_members(struct aidc_json *w, const struct svc_service *s)
{
	aidc_json_ki64(w, "v", SVC_DOC_VERSION);
	aidc_json_ki64(w, "uid", s->uid);
	aidc_json_ki64(w, "gid", s->gid);
	aidc_json_kstr(w, "user", s->user);
	aidc_json_ki64(w, "gen", s->gen);
	aidc_json_ki64(w, "prev_gen", s->prev_gen);
	aidc_json_ki64(w, "next_gen", s->next_gen);
	aidc_json_ki64(w, "want", s->want);
	aidc_json_ki64(w, "slot", s->slot);
	aidc_json_ki64(w, "restarts", s->restarts);
	aidc_json_ki64(w, "created_s", s->created_s);
	aidc_json_ki64(w, "updated_s", s->updated_s);
	aidc_json_kbool(w, "deleting", s->deleting);
	aidc_json_kstr(w, "message", s->message);
	aidc_json_key(w, "spec");
	aidc_json_raw(w, s->spec_json);
	if (s->prev_json) {
		aidc_json_key(w, "prev_spec");
		aidc_json_raw(w, s->prev_json);
	}
	aidc_json_key(w, "replicas");
	aidc_json_arr_begin(w);
	for (size_t i = 0; i < s->nr; i++) {
		const struct svc_replica *r = &s->r[i];
		aidc_json_obj_begin(w);
		aidc_json_ki64(w, "job", (int64_t)r->job);
		aidc_json_ki64(w, "gen", r->gen);
		aidc_json_ki64(w, "port", r->port);
		aidc_json_ki64(w, "state", r->state);
		if (r->why[0])
			aidc_json_kstr(w, "why", r->why);
		aidc_json_obj_end(w);
	}
	aidc_json_arr_end(w);
}

int svc_persist(struct ctld *c, struct svc_service *s, struct aidc_err *e)
{
	struct aidc_buf b;
	aidc_buf_init(&b, 2u * AIDC_MAX_HTTP_BODY_BYTES + 65536u);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	aidc_json_obj_begin(&w);
	doc_members(&w, s);
	aidc_json_obj_end(&w);
	int rc = aidc_json_finish(&w);
	if (rc)
		rc = aidc_errf(e, rc, "service '%s': document too large", s->name);
	if (rc == 0 && (rc = ctld_tx_begin(c, e)) == 0) {
		if ((rc = c->st->ops->tenancy_put(c->st, "service", s->name, aidc_buf_str(&b),
						  e)) != 0)
			ctld_tx_rollback(c);
		else
			rc = ctld_tx_release(c, e);
	}
	aidc_buf_release(&b);
	s->dirty = rc != 0;
	return rc;
}

int svc_remove_row(struct ctld *c, const char *name, struct aidc_err *e)
{
	int rc = ctld_tx_begin(c, e);
	if (rc)
		return rc;
	if ((rc = c->st->ops->tenancy_delete(c->st, "service", name, e)) != 0) {
		ctld_tx_rollback(c);
		return rc;
	}
	return ctld_tx_release(c, e);
}

/* ---- load -------------------------------------------------------------------------- */

static char *dump(json_t *v)
{
	char *t = v ? json_dumps(v, JSON_COMPACT) : NULL;
	char *out = t ? aidc_strdup(t) : NULL;
	free(t);
	return out;
}

static int load_replicas(struct svc_service *s, json_t *arr, struct aidc_err *e)
{
	size_t i;
	json_t *r;
	if (!json_is_array(arr) || json_array_size(arr) > 2u * AIDC_MAX_SERVICE_REPLICAS + 64u)
		return aidc_errf(e, AIDC_E_VERSION, "replicas: not a list of a sane size");
	json_array_foreach(arr, i, r)
	{
		json_int_t job = json_integer_value(json_object_get(r, "job"));
		json_int_t port = json_integer_value(json_object_get(r, "port"));
		json_int_t st = json_integer_value(json_object_get(r, "state"));
		if (job <= 0 || port <= 0 || port > 65535 || st < 0 || st > SVC_R_STOPPING)
			return aidc_errf(e, AIDC_E_VERSION, "replicas[%zu]: bad entry", i);
		AIDC_GROW(s->r, s->cap, s->nr + 1);
		struct svc_replica *x = &s->r[s->nr++];
		memset(x, 0, sizeof *x);
		x->job = (uint64_t)job;
		x->gen = (uint32_t)json_integer_value(json_object_get(r, "gen"));
		x->port = (uint16_t)port;
		/* Probes start over: a replica is ready again once it answers. */
		x->state = st >= SVC_R_DRAINING ? (int)st : SVC_R_STARTING;
		snprintf(x->why, sizeof x->why, "%s",
			 json_string_value(json_object_get(r, "why")) ?: "");
	}
	return 0;
}

static int load_doc(struct ctld *c, struct svc_service *s, json_t *d, struct aidc_err *e)
{
	if (json_integer_value(json_object_get(d, "v")) != SVC_DOC_VERSION)
		return aidc_errf(e, AIDC_E_VERSION, "unknown document version");
	s->uid = (uint32_t)json_integer_value(json_object_get(d, "uid"));
	s->gid = (uint32_t)json_integer_value(json_object_get(d, "gid"));
	snprintf(s->user, sizeof s->user, "%s",
		 json_string_value(json_object_get(d, "user")) ?: "?");
	s->gen = (uint32_t)json_integer_value(json_object_get(d, "gen"));
	s->prev_gen = (uint32_t)json_integer_value(json_object_get(d, "prev_gen"));
	s->next_gen = (uint32_t)json_integer_value(json_object_get(d, "next_gen"));
	s->want = json_integer_value(json_object_get(d, "want"));
	s->slot = (int)json_integer_value(json_object_get(d, "slot"));
	s->restarts = json_integer_value(json_object_get(d, "restarts"));
	s->created_s = json_integer_value(json_object_get(d, "created_s"));
	s->updated_s = json_integer_value(json_object_get(d, "updated_s"));
	s->deleting = json_is_true(json_object_get(d, "deleting"));
	snprintf(s->message, sizeof s->message, "%s",
		 json_string_value(json_object_get(d, "message")) ?: "");
	s->spec_json = dump(json_object_get(d, "spec"));
	s->prev_json = dump(json_object_get(d, "prev_spec"));
	if (s->slot >= (int)c->cfg.service_slots)
		s->slot = -1; /* the slot count shrank: a new slot is found by the tick */
	if (!s->spec_json || s->want < 0 || s->want > AIDC_MAX_SERVICE_REPLICAS)
		return aidc_errf(e, AIDC_E_VERSION, "bad spec or replica count");
	int rc = svc_spec_decode(s->spec_json, &s->spec, e);
	return rc ? rc : load_replicas(s, json_object_get(d, "replicas"), e);
}

static int load_row(void *ctx, const char *kind, const char *name, const char *doc)
{
	struct ctld *c = ctx;
	if (strcmp(kind, "service") != 0)
		return 0;
	struct aidc_err e = {0};
	struct svc_service *s = aidc_calloc(1, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name);
	json_error_t je;
	json_t *d = json_loads(doc, 0, &je);
	int rc = d ? load_doc(c, s, d, &e) : aidc_errf(&e, AIDC_E_VERSION, "not JSON");
	json_decref(d);
	if (rc) {
		aidc_log(AIDC_LOG_ERROR, "service '%s' in the store: %s; refused", name, e.msg);
		svc_free(s);
		return rc;
	}
	svc_insert(c, s);
	return 0;
}

int ctld_services_load(struct ctld *c, struct aidc_err *e)
{
	c->svc = aidc_calloc(1, sizeof *c->svc);
	int rc = c->st->ops->tenancy_list(c->st, load_row, c, e);
	if (rc)
		return aidc_errf(e, rc, "reading services from the store failed");
	if (c->svc->n)
		aidc_log(AIDC_LOG_INFO, "services: %zu restored", c->svc->n);
	return 0;
}

void ctld_services_release(struct ctld *c)
{
	if (!c->svc)
		return;
	svc_worker_stop(c);
	for (size_t i = 0; i < c->svc->n; i++)
		svc_free(c->svc->v[i]);
	aidc_free(c->svc->v);
	aidc_free(c->svc);
	c->svc = NULL;
}

/* ---- JSON for people ----------------------------------------------------------------- */

static const char *rstate_name(int st)
{
	static const char *const n[] = {"starting", "ready", "draining", "stopping"};
	return st >= 0 && st <= SVC_R_STOPPING ? n[st] : "?";
}

static size_t count_ready(const struct svc_service *s)
{
	size_t k = 0;
	for (size_t i = 0; i < s->nr; i++)
		k += s->r[i].state == SVC_R_READY;
	return k;
}

static bool rolling(const struct svc_service *s)
{
	for (size_t i = 0; i < s->nr; i++)
		if (s->r[i].gen != s->gen && s->r[i].state < SVC_R_DRAINING)
			return true;
	return false;
}

static const char *svc_state(const struct svc_service *s)
{
	if (s->deleting)
		return "deleting";
	if (rolling(s))
		return "updating";
	size_t ready = count_ready(s);
	return ready >= (size_t)s->want ? "ready" : ready ? "degraded" : "starting";
}

static void replicas_json(struct ctld *c, struct aidc_json *w, const struct svc_service *s)
{
	aidc_json_key(w, "replica_list");
	aidc_json_arr_begin(w);
	for (size_t i = 0; i < s->nr; i++) {
		const struct svc_replica *r = &s->r[i];
		const struct ctld_job *j = ctld_job_find(c, r->job);
		aidc_json_obj_begin(w);
		aidc_json_ki64(w, "job", (int64_t)r->job);
		aidc_json_ki64(w, "gen", r->gen);
		aidc_json_ki64(w, "port", r->port);
		aidc_json_kstr(w, "state", rstate_name(r->state));
		aidc_json_kstr(w, "job_state", j ? ctld_job_state_name(j->state) : "ended");
		aidc_json_kstr(w, "node", j && j->tasks ? c->nodes[j->tasks[0].node].name : "");
		aidc_json_kstr(w, "addr", r->addr);
		aidc_json_kbool(w, "routed", r->routed);
		aidc_json_ki64(w, "probe_failures", r->fails);
		if (r->why[0])
			aidc_json_kstr(w, "why", r->why);
		aidc_json_obj_end(w);
	}
	aidc_json_arr_end(w);
}

/* A free router slot, or -1. O(services x slots), both small. */
static int free_slot(struct ctld *c)
{
	for (int k = 0; k < (int)c->cfg.service_slots; k++) {
		bool used = false;
		for (size_t i = 0; i < c->svc->n && !used; i++)
			used = c->svc->v[i]->slot == k;
		if (!used)
			return k;
	}
	return -1;
}

/* The owners of the services that hold a slot, one entry per slot held. */
struct slot_owners {
	uint32_t uid[AIDC_MAX_HAPROXY_SLOTS];
	size_t n;
};

static void slot_owners(const struct ctld *c, struct slot_owners *o)
{
	o->n = 0;
	for (size_t i = 0; i < c->svc->n && o->n < AIDC_MAX_HAPROXY_SLOTS; i++)
		if (c->svc->v[i]->slot >= 0)
			o->uid[o->n++] = c->svc->v[i]->uid;
}

static int64_t slots_held(const struct slot_owners *o, uint32_t uid)
{
	int64_t n = 0;
	for (size_t i = 0; i < o->n; i++)
		n += o->uid[i] == uid;
	return n;
}

static bool at_slot_cap(const struct ctld *c, const struct slot_owners *o, uint32_t uid)
{
	return c->cfg.service_slots_per_user > 0 && slots_held(o, uid) >= c->cfg.service_slots_per_user;
}

/* The waiting service that gets the next free slot: its owner holds the
 * fewest slots and is under service_slots_per_user, then the oldest, then by
 * name (deterministic); NULL if none. */
static struct svc_service *next_waiter(const struct ctld *c, const struct slot_owners *o)
{
	struct svc_service *best = NULL;
	int64_t best_held = 0;
	for (size_t i = 0; i < c->svc->n; i++) {
		struct svc_service *s = c->svc->v[i];
		if (s->slot >= 0 || s->deleting || at_slot_cap(c, o, s->uid))
			continue;
		int64_t held = slots_held(o, s->uid);
		if (best && (held > best_held ||
			     (held == best_held &&
			      (s->created_s > best->created_s ||
			       (s->created_s == best->created_s && strcmp(s->name, best->name) > 0)))))
			continue;
		best = s;
		best_held = held;
	}
	return best;
}

/* Free slots go, one at a time, to the waiting service whose owner holds
 * the fewest (max-min over users); a slot held is never taken back (it is
 * the service's address). Once per tick and at each create: O(services x
 * slots) per slot given. Services given a slot are marked dirty (the tick
 * persists them). */
void svc_assign_slots(struct ctld *c)
{
	struct slot_owners o;
	for (;;) {
		slot_owners(c, &o);
		struct svc_service *w = next_waiter(c, &o);
		int k = w ? free_slot(c) : -1;
		if (k < 0)
			return;
		w->slot = k;
		w->dirty = true;
	}
}

/* Why a service without a slot has none (its "address_why"). */
static const char *no_slot_why(const struct ctld *c, const struct svc_service *s, char *buf,
			       size_t n)
{
	struct slot_owners o;
	slot_owners(c, &o);
	if (!at_slot_cap(c, &o, s->uid))
		return "no free router slot";
	snprintf(buf, n,
		 "the owner's services hold %" PRId64 " router slots, the most for one user "
		 "(service_slots_per_user = %" PRId64 ")",
		 slots_held(&o, s->uid), c->cfg.service_slots_per_user);
	return buf;
}

static void svc_json(struct ctld *c, struct aidc_json *w, const struct svc_service *s, bool detail)
{
	aidc_json_obj_begin(w);
	aidc_json_kstr(w, "name", s->name);
	aidc_json_kstr(w, "user", s->user);
	aidc_json_ki64(w, "uid", s->uid);
	aidc_json_kstr(w, "state", svc_state(s));
	char addr[96] = "";
	if (s->slot >= 0 && c->svc->router_up)
		snprintf(addr, sizeof addr, "%s:%" PRId64, c->cfg.service_addr,
			 c->cfg.service_port_base + s->slot);
	aidc_json_kstr(w, "address", addr);
	char why[160];
	if (!addr[0])
		aidc_json_kstr(w, "address_why",
			       s->slot < 0 ? no_slot_why(c, s, why, sizeof why) : c->svc->router_why);
	aidc_json_ki64(w, "replicas", s->want);
	aidc_json_ki64(w, "ready", (int64_t)count_ready(s));
	aidc_json_ki64(w, "total", (int64_t)s->nr);
	aidc_json_ki64(w, "generation", s->gen);
	aidc_json_ki64(w, "restarts", s->restarts);
	aidc_json_ki64(w, "requests", (int64_t)s->requests);
	aidc_json_ki64(w, "responses_5xx", (int64_t)s->resp_5xx);
	aidc_json_kf64(w, "rps", s->rps, 2);
	aidc_json_ki64(w, "avg_response_ms", s->avg_ms);
	aidc_json_kstr(w, "message", s->message);
	aidc_json_ki64(w, "created_s", s->created_s);
	aidc_json_ki64(w, "updated_s", s->updated_s);
	if (detail) {
		aidc_json_key(w, "spec");
		aidc_json_raw(w, s->spec_json);
		if (s->prev_json) {
			aidc_json_key(w, "prev_spec");
			aidc_json_raw(w, s->prev_json);
		}
		replicas_json(c, w, s);
	}
	aidc_json_obj_end(w);
}

/* ---- /metrics ---------------------------------------------------------------------- */

/* Totals over every service: /metrics is public, so nothing names a user's
 * service (GET /v1/services has each one, for its owner). */
void ctld_services_metrics(struct ctld *c, struct aidc_buf *b)
{
	static const char *const states[] = {"starting", "ready", "draining", "stopping"};
	uint64_t by_state[4] = {0}, requests = 0, resp5xx = 0;
	int64_t restarts = 0, max_ms = 0;
	double rps = 0, weighted_ms = 0; /* the response times of services with traffic */
	for (size_t i = 0; c->svc && i < c->svc->n; i++) {
		const struct svc_service *s = c->svc->v[i];
		for (size_t k = 0; k < s->nr; k++)
			by_state[s->r[k].state]++;
		requests += s->requests;
		resp5xx += s->resp_5xx;
		restarts += s->restarts;
		if (s->rps > 0 && s->avg_ms >= 0) {
			rps += s->rps;
			weighted_ms += s->rps * (double)s->avg_ms;
			max_ms = s->avg_ms > max_ms ? s->avg_ms : max_ms;
		}
	}
	/* Aggregates only: /metrics is public, service names are their owners'. */
	aidc_buf_printf(b,
			"# HELP aidc_service_response_seconds Router's average response time over "
			"the services with requests: weighted by their request rate (avg) and the "
			"slowest (max).\n# TYPE aidc_service_response_seconds gauge\n"
			"aidc_service_response_seconds{stat=\"avg\"} %.3f\n"
			"aidc_service_response_seconds{stat=\"max\"} %.3f\n",
			rps > 0 ? weighted_ms / rps / 1e3 : 0.0, (double)max_ms / 1e3);
	aidc_buf_printf(b,
			"# HELP aidc_services Inference services.\n# TYPE aidc_services gauge\n"
			"aidc_services %zu\n"
			"# HELP aidc_service_router_up Whether the services' router (HAProxy) "
			"runs.\n# TYPE aidc_service_router_up gauge\naidc_service_router_up %d\n"
			"# HELP aidc_service_replicas Service replicas by state.\n"
			"# TYPE aidc_service_replicas gauge\n",
			c->svc ? c->svc->n : 0, c->svc && c->svc->router_up);
	for (int k = 0; k < 4; k++)
		aidc_buf_printf(b, "aidc_service_replicas{state=\"%s\"} %" PRIu64 "\n", states[k],
				by_state[k]);
	aidc_buf_printf(b,
			"# HELP aidc_service_requests_total Requests the router received for the "
			"services that exist now.\n# TYPE aidc_service_requests_total counter\n"
			"aidc_service_requests_total %" PRIu64 "\n"
			"# HELP aidc_service_responses_5xx_total 5xx responses among them.\n"
			"# TYPE aidc_service_responses_5xx_total counter\n"
			"aidc_service_responses_5xx_total %" PRIu64 "\n"
			"# HELP aidc_service_restarts_total Replicas replaced after an exit or a "
			"failed probe.\n# TYPE aidc_service_restarts_total counter\n"
			"aidc_service_restarts_total %" PRId64 "\n",
			requests, resp5xx, restarts);
}

/* ---- routes (loop functions) ------------------------------------------------------- */

static bool may_see(const struct ctld_msg *m, const struct svc_service *s)
{
	return m->req->who.admin || m->req->who.uid == s->uid;
}

/* The service {name} if the caller may see it; others' answer 404 as missing. */
static struct svc_service *req_svc(struct ctld *c, struct ctld_msg *m)
{
	struct svc_service *s = svc_find(c, m->req->params[0]);
	if (s && !may_see(m, s))
		s = NULL;
	if (!s)
		aidc_errf(&m->err, AIDC_E_NOTFOUND, "no service %.64s", m->req->params[0]);
	return s;
}

static int svc_reply(struct ctld *c, struct ctld_msg *m, const struct svc_service *s)
{
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	svc_json(c, &w, s, true);
	return aidc_json_finish(&w);
}

int ctld_lf_service_list(struct ctld *c, struct ctld_msg *m)
{
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	aidc_json_obj_begin(&w);
	aidc_json_kbool(&w, "router", c->svc->router_up);
	if (!c->svc->router_up)
		aidc_json_kstr(&w, "router_why", c->svc->router_why);
	aidc_json_key(&w, "services");
	aidc_json_arr_begin(&w);
	for (size_t i = 0; i < c->svc->n; i++)
		if (may_see(m, c->svc->v[i]))
			svc_json(c, &w, c->svc->v[i], false);
	aidc_json_arr_end(&w);
	aidc_json_obj_end(&w);
	return aidc_json_finish(&w);
}

int ctld_lf_service_get(struct ctld *c, struct ctld_msg *m)
{
	struct svc_service *s = req_svc(c, m);
	return s ? svc_reply(c, m, s) : m->err.code;
}

static int owner_check(struct ctld *c, const struct api_identity *who, struct aidc_err *e)
{
	if (who->admin)
		return 0;
	int64_t mine = 0;
	for (size_t i = 0; i < c->svc->n; i++)
		mine += c->svc->v[i]->uid == who->uid;
	if (mine >= c->cfg.max_services_per_user)
		return aidc_errf(e, AIDC_E_LIMIT,
				 "you own %" PRId64 " services, the most allowed "
				 "(max_services_per_user = %" PRId64 ")",
				 mine, c->cfg.max_services_per_user);
	if (c->svc->n >= AIDC_MAX_SERVICES)
		return aidc_errf(e, AIDC_E_LIMIT, "the center holds %u services, its most",
				 AIDC_MAX_SERVICES);
	return 0;
}

int ctld_lf_service_create(struct ctld *c, struct ctld_msg *m)
{
	struct api_service_spec *spec = m->body;
	const struct api_identity *who = &m->req->who;
	int rc;
	if ((rc = spec_check(c, who, spec, &m->err)) != 0 ||
	    (rc = owner_check(c, who, &m->err)) != 0)
		return rc;
	if (svc_find(c, spec->name))
		return aidc_errf(&m->err, AIDC_E_EXISTS, "service %s exists", spec->name);
	struct svc_service *s = aidc_calloc(1, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", spec->name);
	s->uid = who->uid;
	s->gid = who->gid;
	snprintf(s->user, sizeof s->user, "%s", who->user);
	s->spec_json = spec_doc(spec);
	s->gen = 1;
	s->next_gen = 2;
	s->want = spec->replicas;
	s->slot = -1; /* svc_assign_slots, once it is in the set */
	s->created_s = s->updated_s = ctld_now_s();
	snprintf(s->message, sizeof s->message, "created with %" PRId64 " replicas", s->want);
	if (!s->spec_json) {
		svc_free(s);
		return aidc_errf(&m->err, AIDC_E_LIMIT, "service spec too large");
	}
	s->spec = *spec;
	memset(spec, 0, sizeof *spec); /* ownership moved */
	if ((rc = svc_persist(c, s, &m->err)) != 0) {
		svc_free(s);
		return rc;
	}
	svc_insert(c, s);
	svc_assign_slots(c);
	struct aidc_err pe = {0};
	if (s->dirty) /* it got a slot; if this fails, it stays dirty for the tick */
		(void)svc_persist(c, s, &pe);
	aidc_log(AIDC_LOG_INFO, "service %s created by %s: %" PRId64 " replicas, slot %d", s->name,
		 s->user, s->want, s->slot);
	c->svc->next_tick_ms = 0;
	m->resp->status = 201;
	return svc_reply(c, m, s);
}

/* A new spec: a rolling update (docs/services.md "Updates"). The previous
 * spec is kept as the rollback target. */
int ctld_lf_service_update(struct ctld *c, struct ctld_msg *m)
{
	struct svc_service *s = req_svc(c, m);
	struct api_service_spec *spec = m->body;
	int rc;
	if (!s)
		return m->err.code;
	if (s->deleting)
		return aidc_errf(&m->err, AIDC_E_STATE, "service %s is being deleted", s->name);
	if (!spec->name || strcmp(spec->name, s->name) != 0)
		return aidc_errf(&m->err, AIDC_E_INVAL, "name: a service keeps its name (%s)",
				 s->name);
	struct api_identity owner = m->req->who;
	owner.uid = s->uid;
	owner.gid = s->gid;
	snprintf(owner.user, sizeof owner.user, "%s", s->user);
	owner.admin = false;
	if (!spec->autoscale && spec->replicas == 0)
		spec->replicas = s->want; /* absent: the count stays */
	if ((rc = spec_check(c, &owner, spec, &m->err)) != 0)
		return rc;
	char *doc = spec_doc(spec);
	if (!doc)
		return aidc_errf(&m->err, AIDC_E_LIMIT, "service spec too large");
	aidc_free(s->prev_json);
	s->prev_json = s->spec_json;
	s->spec_json = doc;
	api_decoded_release(&api_schema_service_spec, &s->spec);
	s->spec = *spec;
	memset(spec, 0, sizeof *spec);
	s->prev_gen = s->gen;
	s->gen = s->next_gen++;
	s->want = s->spec.replicas;
	s->gen_failures = 0;
	s->crash_streak = 0;
	s->backoff_until_ms = 0;
	s->updated_s = ctld_now_s();
	snprintf(s->message, sizeof s->message, "updating to generation %u", s->gen);
	if ((rc = svc_persist(c, s, &m->err)) != 0)
		return rc;
	aidc_log(AIDC_LOG_INFO, "service %s: rolling update to generation %u", s->name, s->gen);
	c->svc->next_tick_ms = 0;
	return svc_reply(c, m, s);
}

int ctld_lf_service_scale(struct ctld *c, struct ctld_msg *m)
{
	struct svc_service *s = req_svc(c, m);
	const struct api_service_scale *b = m->body;
	if (!s)
		return m->err.code;
	if (s->deleting)
		return aidc_errf(&m->err, AIDC_E_STATE, "service %s is being deleted", s->name);
	const struct api_service_autoscale *a = s->spec.autoscale;
	if (a && (b->replicas < a->min || b->replicas > a->max))
		return aidc_errf(&m->err, AIDC_E_INVAL,
				 "replicas %" PRId64 " is outside autoscale's %" PRId64 "..%" PRId64
				 " (update the spec to change the bounds)",
				 b->replicas, a->min, a->max);
	int64_t before = s->want;
	s->want = b->replicas;
	s->spec.replicas = b->replicas;
	char *doc = spec_doc(&s->spec);
	aidc_free(s->spec_json);
	s->spec_json = doc;
	s->updated_s = ctld_now_s();
	snprintf(s->message, sizeof s->message, "scaled from %" PRId64 " to %" PRId64, before,
		 s->want);
	int rc = svc_persist(c, s, &m->err);
	if (rc)
		return rc;
	c->svc->next_tick_ms = 0;
	return svc_reply(c, m, s);
}

int ctld_lf_service_delete(struct ctld *c, struct ctld_msg *m)
{
	struct svc_service *s = req_svc(c, m);
	if (!s)
		return m->err.code;
	if (!s->deleting) {
		s->deleting = true;
		s->want = 0;
		s->updated_s = ctld_now_s();
		snprintf(s->message, sizeof s->message,
			 "deleting: replicas leave the router, "
			 "then stop");
		int rc = svc_persist(c, s, &m->err);
		if (rc)
			return rc;
		aidc_log(AIDC_LOG_INFO, "service %s: deleting", s->name);
	}
	c->svc->next_tick_ms = 0;
	m->resp->status = 202;
	return svc_reply(c, m, s);
}
