/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keeping services running (docs/services.md): the reconcile tick on the loop
 * thread and the worker thread beside it.
 *
 * Every 200 ms the tick compares each service with its replicas' jobs and
 * the worker's latest probe and router reports, and acts: it starts replicas
 * (one-task jobs through the ordinary submit path), restarts the ones that
 * ended or fail their probe (with exponential backoff), replaces old
 * replicas in a rolling update within max_surge / max_unavailable and rolls
 * back an update whose new replicas keep failing, scales with the request
 * rate, and removes replicas in two steps: out of the router first (the
 * worker drains and deletes the server once its in-flight requests are
 * done), then the job stops, so no accepted request is dropped.
 *
 * The worker owns every blocking call: HTTP probes (non-blocking sockets
 * side by side, each bounded by its probe's timeout) and HAProxy's runtime
 * API. It never
 * touches controller state; the two threads exchange plain arrays in
 * struct ctld_svc_shared.
 */
#include <math.h>

#include "ctld/services.h"
#include "util/util.h"

#define DRAIN_MAX_MS   30000 /* a router that never confirms does not hold a replica */
#define BACKOFF_MAX_MS 60000

/* ---- replicas ---------------------------------------------------------------------- */

static bool port_used(struct ctld *c, uint32_t port)
{
	for (size_t i = 0; i < c->svc->n; i++) {
		const struct svc_service *s = c->svc->v[i];
		for (size_t k = 0; k < s->nr; k++)
			if (s->r[k].port == port)
				return true;
	}
	return false;
}

/* The next free replica port after the cursor, or 0. */
static uint16_t alloc_port(struct ctld *c)
{
	uint32_t lo = (uint32_t)c->cfg.replica_port_min, hi = (uint32_t)c->cfg.replica_port_max;
	if (hi < lo)
		return 0;
	uint32_t span = hi - lo + 1;
	for (uint32_t k = 0; k < span; k++) {
		uint32_t p = lo + (c->svc->port_cursor + k) % span;
		if (!port_used(c, p)) {
			c->svc->port_cursor = (p - lo + 1) % span;
			return (uint16_t)p;
		}
	}
	return 0;
}

static void set_backoff(struct svc_service *s, int64_t now_ms)
{
	uint32_t k = s->crash_streak < 7 ? s->crash_streak : 7;
	int64_t ms = (int64_t)1000 << k;
	s->backoff_until_ms = now_ms + (ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS);
}

/* Submits one replica of the current generation as s's owner. */
static int create_replica(struct ctld *c, struct svc_service *s, int64_t now_ms)
{
	uint16_t port = alloc_port(c);
	if (!port) {
		snprintf(s->message, sizeof s->message,
			 "no free replica port in %" PRId64 "..%" PRId64 " (replica_port_min/max)",
			 c->cfg.replica_port_min, c->cfg.replica_port_max);
		s->backoff_until_ms = now_ms + 5000;
		return AIDC_E_LIMIT;
	}
	struct api_identity who = {.role = API_ROLE_USER, .authenticated_user = true};
	who.uid = s->uid;
	who.gid = s->gid;
	snprintf(who.user, sizeof who.user, "%s", s->user);
	struct api_job_submit spec;
	svc_replica_spec(s, port, &spec);
	struct aidc_err e = {0};
	uint64_t id = 0;
	bool existing;
	int rc = ctld_job_submit(c, &who, &spec, NULL, 0, &id, &existing, &e);
	api_decoded_release(&api_schema_job_submit, &spec);
	if (rc) {
		snprintf(s->message, sizeof s->message, "cannot start a replica: %.200s", e.msg);
		s->backoff_until_ms = now_ms + 5000;
		return rc;
	}
	AIDC_GROW(s->r, s->cap, s->nr + 1);
	struct svc_replica *r = &s->r[s->nr++];
	memset(r, 0, sizeof *r);
	r->job = id;
	r->gen = s->gen;
	r->port = port;
	r->state = SVC_R_STARTING;
	s->dirty = true;
	return 0;
}

/* Begins taking r away: out of the router, then its job stops. */
static void leave(struct svc_service *s, struct svc_replica *r, int64_t now_ms, const char *why)
{
	if (r->state >= SVC_R_DRAINING)
		return;
	r->state = SVC_R_DRAINING;
	r->drain_ms = now_ms;
	r->drain_seq = UINT64_MAX; /* set when the next target list is published */
	snprintf(r->why, sizeof r->why, "%s", why);
	s->dirty = true;
}

static void remove_at(struct svc_service *s, size_t i)
{
	memmove(&s->r[i], &s->r[i + 1], (s->nr - i - 1) * sizeof *s->r);
	s->nr--;
	s->dirty = true;
}

/* A replica whose job ended without being asked: restarted after a backoff. */
static void replica_lost(struct svc_service *s, const struct svc_replica *r,
			 const struct ctld_job *j, int64_t now_ms)
{
	s->restarts++;
	s->crash_streak++;
	if (r->gen == s->gen && s->prev_json)
		s->gen_failures++;
	set_backoff(s, now_ms);
	snprintf(s->message, sizeof s->message,
		 "replica job %" PRIu64 " ended (%s%s%.120s); a new one starts in %" PRId64 " s",
		 r->job, j ? ctld_job_state_name(j->state) : "gone", j && j->reason ? ": " : "",
		 j && j->reason ? j->reason : "", (s->backoff_until_ms - now_ms + 999) / 1000);
	aidc_log(AIDC_LOG_WARN, "service %s: %s", s->name, s->message);
}

/* Matches the replicas with their jobs: drops the ended ones, notes where
 * running ones are. */
static void sync_jobs(struct ctld *c, struct svc_service *s, int64_t now_ms)
{
	for (size_t i = 0; i < s->nr;) {
		struct svc_replica *r = &s->r[i];
		struct ctld_job *j = ctld_job_find(c, r->job), *gone = NULL;
		if (!j || ctld_job_ended(j)) {
			/* An ended job may have left memory already: its row says why. */
			if (!j && r->state < SVC_R_DRAINING)
				ctld_job_load(c, r->job, &gone, NULL);
			if (r->state < SVC_R_DRAINING)
				replica_lost(s, r, j ? j : gone, now_ms);
			ctld_job_free(gone);
			remove_at(s, i);
			continue;
		}
		if (j->state == CTLD_JOB_RUNNING && j->tasks) {
			const struct ctld_node *n = &c->nodes[j->tasks[0].node];
			snprintf(r->addr, sizeof r->addr, "%s", n->addr ? n->addr : "");
			if (!r->run_ms)
				r->run_ms = now_ms;
		}
		i++;
	}
}

static const struct svc_result *find_result(const struct svc_result *v, size_t n, uint64_t job)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v[mid].job < job)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].job == job ? &v[lo] : NULL;
}

/* A replica restarted for its probe: counted like a crash (the backoff grows
 * while replicas keep failing) and, during an update, against the update. */
static void probe_restart(struct svc_service *s, struct svc_replica *r, int64_t now_ms,
			  const char *why)
{
	s->restarts++;
	s->crash_streak++;
	set_backoff(s, now_ms);
	if (r->gen == s->gen && s->prev_json)
		s->gen_failures++;
	snprintf(s->message, sizeof s->message, "replica job %" PRIu64 ": %s", r->job, why);
	aidc_log(AIDC_LOG_WARN, "service %s: %s", s->name, s->message);
	leave(s, r, now_ms, why);
}

/* Readiness and liveness from the worker's probes. Liveness (failure_threshold
 * failures in a row) applies once a replica has been ready; until then only
 * start_timeout_s does, so a slow start (a model loading) is not a failure. */
static void apply_probes(struct svc_service *s, const struct svc_result *res, size_t nres,
			 int64_t now_ms)
{
	char path[256];
	int64_t period, timeout, threshold, start_ms;
	svc_probe_of(s, path, sizeof path, &period, &timeout, &threshold, &start_ms);
	for (size_t i = 0; i < s->nr; i++) {
		struct svc_replica *r = &s->r[i];
		const struct svc_result *x = find_result(res, nres, r->job);
		r->routed = x && x->routed;
		r->lb_gone = !x || (x->lb_gone && x->seq >= r->drain_seq);
		if (r->state >= SVC_R_DRAINING || !x || x->probes == r->probes)
			goto start_timeout;
		r->probes = x->probes;
		r->fails = x->fails;
		if (x->ok && r->state == SVC_R_STARTING) {
			r->state = SVC_R_READY;
			r->ever_ready = true;
			s->crash_streak = 0;
		} else if (!x->ok && r->state == SVC_R_READY) {
			r->state = SVC_R_STARTING; /* out of the router until it answers */
		}
		if (r->ever_ready && r->fails >= (uint32_t)threshold) {
			char why[160];
			snprintf(why, sizeof why, "probe %.100s failed %u times in a row", path,
				 r->fails);
			probe_restart(s, r, now_ms, why);
			continue;
		}
	start_timeout:
		if (r->state == SVC_R_STARTING && !r->ever_ready && r->run_ms &&
		    now_ms - r->run_ms > start_ms) {
			char why[96];
			snprintf(why, sizeof why,
				 "not ready within probe.start_timeout_s (%" PRId64 " s)",
				 start_ms / 1000);
			probe_restart(s, r, now_ms, why);
		}
	}
}

/* Draining replicas whose server the router has let go: their jobs stop. */
static void finish_drains(struct ctld *c, struct svc_service *s, int64_t now_ms)
{
	bool router = c->svc->router_up && s->slot >= 0;
	for (size_t i = 0; i < s->nr; i++) {
		struct svc_replica *r = &s->r[i];
		if (r->state != SVC_R_DRAINING)
			continue;
		if (router && !r->lb_gone && now_ms - r->drain_ms < DRAIN_MAX_MS)
			continue;
		struct ctld_job *j = ctld_job_find(c, r->job);
		struct aidc_err e = {0};
		char reason[256];
		snprintf(reason, sizeof reason, "service %s: %s", s->name, r->why);
		if (j && !ctld_job_ended(j) && ctld_job_stop(c, j, CTLD_JOB_CANCELLED, reason, &e))
			aidc_log(AIDC_LOG_WARN, "service %s: stopping replica job %" PRIu64 ": %s",
				 s->name, r->job, e.msg);
		r->state = SVC_R_STOPPING;
		s->dirty = true;
	}
}

/* ---- rollout, scaling ------------------------------------------------------------- */

/* The update's new replicas kept failing: back to the previous spec. */
static void rollback(struct svc_service *s, int64_t now_ms)
{
	struct api_service_spec prev;
	struct aidc_err e = {0};
	uint32_t failed = s->gen;
	if (svc_spec_decode(s->prev_json, &prev, &e) != 0) {
		snprintf(s->message, sizeof s->message, "cannot roll back: %.200s", e.msg);
		aidc_free(s->prev_json);
		s->prev_json = NULL;
		return;
	}
	api_decoded_release(&api_schema_service_spec, &s->spec);
	s->spec = prev;
	aidc_free(s->spec_json);
	s->spec_json = s->prev_json;
	s->prev_json = NULL;
	s->gen = s->prev_gen;
	if (!s->spec.autoscale)
		s->want = s->spec.replicas;
	snprintf(s->message, sizeof s->message,
		 "rollout of generation %u failed (%u replica failures); rolled back to "
		 "generation %u",
		 failed, s->gen_failures, s->gen);
	aidc_log(AIDC_LOG_WARN, "service %s: %s", s->name, s->message);
	s->gen_failures = 0;
	s->crash_streak = 0;
	s->backoff_until_ms = now_ms;
	s->dirty = true;
}

struct counts {
	int64_t cur, old, ready, live;
};

static struct counts count(const struct svc_service *s)
{
	struct counts k = {0};
	for (size_t i = 0; i < s->nr; i++) {
		const struct svc_replica *r = &s->r[i];
		if (r->state >= SVC_R_DRAINING)
			continue;
		k.live++;
		k.cur += r->gen == s->gen;
		k.old += r->gen != s->gen;
		k.ready += r->state == SVC_R_READY;
	}
	return k;
}

/* Old replicas leave: not ready ones at once, ready ones while the ready
 * count stays at want - max_unavailable or more. */
static void replace_old(struct svc_service *s, int64_t unavail, int64_t now_ms)
{
	struct counts k = count(s);
	char why[64];
	snprintf(why, sizeof why, "replaced by generation %u", s->gen);
	for (size_t i = 0; i < s->nr; i++) {
		struct svc_replica *r = &s->r[i];
		if (r->state >= SVC_R_DRAINING || r->gen == s->gen)
			continue;
		if (r->state != SVC_R_READY) {
			leave(s, r, now_ms, why);
		} else if (k.ready - 1 >= s->want - unavail) {
			leave(s, r, now_ms, why);
			k.ready--;
		}
	}
}

/* More current replicas than wanted: not ready ones leave first, then the
 * newest. */
static void scale_down(struct svc_service *s, int64_t now_ms)
{
	struct counts k = count(s);
	for (int pass = 0; pass < 2 && k.cur > s->want; pass++)
		for (size_t i = s->nr; i-- > 0 && k.cur > s->want;) {
			struct svc_replica *r = &s->r[i];
			if (r->state >= SVC_R_DRAINING || r->gen != s->gen ||
			    (pass == 0 && r->state == SVC_R_READY))
				continue;
			leave(s, r, now_ms, s->deleting ? "service deleted" : "scaled down");
			k.cur--;
		}
}

static void reconcile(struct ctld *c, struct svc_service *s, int64_t now_ms)
{
	int64_t surge, unavail, max_failures;
	svc_rollout_of(s, &surge, &unavail, &max_failures);
	if (s->prev_json && s->gen_failures >= (uint32_t)max_failures)
		rollback(s, now_ms);
	replace_old(s, unavail, now_ms);
	struct counts k = count(s);
	bool roll = k.old > 0;
	while (!s->deleting && k.cur < s->want && now_ms >= s->backoff_until_ms &&
	       (roll ? (int64_t)s->nr < s->want + surge : k.live < s->want)) {
		if (create_replica(c, s, now_ms) != 0)
			break;
		k.cur++;
		k.live++;
	}
	scale_down(s, now_ms);
	k = count(s);
	if (!k.old && s->prev_json && k.ready >= s->want) {
		snprintf(s->message, sizeof s->message, "generation %u rolled out", s->gen);
		aidc_free(s->prev_json);
		s->prev_json = NULL;
		s->gen_failures = 0;
		s->dirty = true;
	}
}

/* Replicas the latency target asks for: one more while the router's average
 * response time is over the target by more than 10 % and every wanted
 * replica is ready (the last step has taken effect), as many as now while it
 * is within [50 %, 110 %] of it, the fewest once it is under half the target
 * or no request comes (docs/services.md "Autoscaling"). */
static int64_t latency_need(const struct svc_service *s, int64_t target_ms, int64_t ready)
{
	if (s->rps < 0.5 || s->avg_ms <= 0)
		return 0;
	double ratio = (double)s->avg_ms / (double)target_ms;
	if (ratio > 1.1)
		return ready >= s->want ? s->want + 1 : s->want;
	return ratio >= 0.5 ? s->want : 0;
}

/* Replicas from the router's request rate and response time: up at once,
 * down after the need stayed lower for scale_down_delay_s (docs/services.md
 * "Autoscaling"). */
static void autoscale(struct svc_service *s, int64_t now_ms)
{
	const struct api_service_autoscale *a = s->spec.autoscale;
	if (!a || s->deleting || s->prev_json)
		return;
	int64_t need = a->target_rps ? (int64_t)ceil(s->rps / (double)a->target_rps - 1e-9) : 0;
	if (a->target_latency_ms) {
		int64_t lat = latency_need(s, a->target_latency_ms, count(s).ready);
		need = lat > need ? lat : need;
	}
	need = need < a->min ? a->min : need > a->max ? a->max : need;
	int64_t delay_ms = (a->scale_down_delay_s ? a->scale_down_delay_s : 60) * 1000;
	bool now_up = need > s->want;
	if (!now_up && need == s->want) {
		s->low_since_ms = 0;
		return;
	}
	if (!now_up && !s->low_since_ms) {
		s->low_since_ms = now_ms;
		return;
	}
	if (!now_up && now_ms - s->low_since_ms < delay_ms)
		return;
	snprintf(s->message, sizeof s->message,
		 "autoscaled from %" PRId64 " to %" PRId64 " replicas (%.1f requests/s, %" PRId64
		 " ms average response)",
		 s->want, need, s->rps, s->avg_ms);
	s->want = need;
	s->low_since_ms = 0;
	s->dirty = true;
}

void svc_tick_one(struct ctld *c, struct svc_service *s, const struct svc_result *res, size_t nres,
		  int64_t now_ms)
{
	sync_jobs(c, s, now_ms);
	apply_probes(s, res, nres, now_ms);
	finish_drains(c, s, now_ms);
	reconcile(c, s, now_ms);
	autoscale(s, now_ms);
}
