/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /metrics: the controller's state and timings in the Prometheus text
 * exposition format (version 0.0.4), built on the loop thread from memory:
 *   - jobs by state (all, ended ones from the restore-time counters) and live
 *     jobs by state and partition;
 *   - histograms of queue wait (submit to start, observed at each start),
 *     scheduling pass duration and store group-commit latency;
 *   - counters of submissions, starts, ends, passes and loop requests (the
 *     submit rate is rate(aidc_jobs_submitted_total[5m]));
 *   - devices allocated, free and unavailable (down or drained nodes) by
 *     model and partition, and per node; per-node device memory and agent
 *     heartbeat age.
 * Cost: O(jobs + nodes + tasks) per scrape. Per-device utilization is not
 * here: agents do not report it yet (docs/metrics.md).
 */
#include <time.h>

#include "ctld/ctld_int.h"
#include "ctld/services.h"
#include "util/clock.h"
#include "util/util.h"

/* Bucket upper bounds (seconds) of the three histograms; +Inf is implied. */
static const double wait_bounds[CTLD_HIST_BUCKETS] = {
	1, 5, 15, 30, 60, 300, 600, 1800, 3600, 7200, 21600, 86400,
};
static const double fast_bounds[CTLD_HIST_BUCKETS] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
};

int64_t ctld_mono_us(void)
{
	return aidc_mono_us();
}

static void observe(struct ctld_hist *h, const double *bounds, double v)
{
	h->count++;
	h->sum += v;
	for (size_t i = 0; i < CTLD_HIST_BUCKETS; i++)
		if (v <= bounds[i])
			h->le[i]++; /* cumulative: every bucket whose bound holds v */
}

void ctld_metrics_queue_wait(struct ctld *c, double seconds)
{
	observe(&c->m_wait, wait_bounds, seconds < 0 ? 0 : seconds);
}

void ctld_metrics_pass(struct ctld *c, int64_t us)
{
	observe(&c->m_pass, fast_bounds, (double)us / 1e6);
	c->m_pass_us_total += (uint64_t)us;
}

void ctld_metrics_commit(struct ctld *c, int64_t us)
{
	observe(&c->m_commit, fast_bounds, (double)us / 1e6);
}

/* A label value as the format wants it: \\, \" and \n escaped. */
static void label(struct aidc_buf *b, const char *s)
{
	aidc_buf_putc(b, '"');
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			aidc_buf_putc(b, '\\');
		if (*s == '\n') {
			aidc_buf_puts(b, "\\n");
			continue;
		}
		aidc_buf_putc(b, *s);
	}
	aidc_buf_putc(b, '"');
}

static void header(struct aidc_buf *b, const char *name, const char *type, const char *help)
{
	aidc_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void hist(struct aidc_buf *b, const char *name, const char *help, const struct ctld_hist *h,
		 const double *bounds)
{
	header(b, name, "histogram", help);
	for (size_t i = 0; i < CTLD_HIST_BUCKETS; i++)
		aidc_buf_printf(b, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, bounds[i], h->le[i]);
	aidc_buf_printf(b, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n%s_sum %.6f\n%s_count %" PRIu64 "\n",
			name, h->count, name, h->sum, name, h->count);
}

/* Counts by two or three label values, e.g. (state, partition): a small
 * table sorted for a stable output. Distinct tuples beyond the cap add to the
 * last row (partitions and models are few; nodes are bounded by
 * AIDC_MAX_NODES, so the per-node series use their own loops). */
enum { SERIES_CAP = 512 };
struct series {
	const char *a, *b, *c; /* borrowed label values */
	uint64_t v;
};
struct series_set {
	struct series *v;
	size_t n;
};

static int cmp_str(const char *x, const char *y)
{
	return strcmp(x ? x : "", y ? y : "");
}

static void add(struct series_set *s, const char *a, const char *b, const char *c, uint64_t v)
{
	for (size_t i = 0; i < s->n; i++)
		if (!cmp_str(s->v[i].a, a) && !cmp_str(s->v[i].b, b) && !cmp_str(s->v[i].c, c)) {
			s->v[i].v += v;
			return;
		}
	if (s->n < SERIES_CAP)
		s->v[s->n++] = (struct series){a, b, c, v};
	else
		s->v[SERIES_CAP - 1].v += v;
}

static int by_labels(const void *x, const void *y)
{
	const struct series *p = x, *q = y;
	int r = cmp_str(p->a, q->a);
	if (!r)
		r = cmp_str(p->b, q->b);
	return r ? r : cmp_str(p->c, q->c);
}

static void emit(struct aidc_buf *b, const char *name, const char *la, const char *lb,
		 const char *lc, struct series_set *s)
{
	qsort(s->v, s->n, sizeof *s->v, by_labels);
	for (size_t i = 0; i < s->n; i++) {
		aidc_buf_printf(b, "%s{%s=", name, la);
		label(b, s->v[i].a);
		aidc_buf_printf(b, ",%s=", lb);
		label(b, s->v[i].b);
		if (lc) {
			aidc_buf_printf(b, ",%s=", lc);
			label(b, s->v[i].c);
		}
		aidc_buf_printf(b, "} %" PRIu64 "\n", s->v[i].v);
	}
	s->n = 0;
}

static void job_metrics(struct ctld *c, struct aidc_buf *b, struct series_set *s)
{
	uint64_t js[CTLD_JOB_STATE_COUNT_] = {0};
	/* Live jobs from memory, ended ones from the counters kept since restore. */
	for (size_t i = 0; i < c->njobs; i++)
		if (!ctld_job_ended(c->jobs[i]))
			js[c->jobs[i]->state]++;
	for (int st = 0; st < CTLD_JOB_STATE_COUNT_; st++)
		js[st] += c->ended[st];
	header(b, "aidc_jobs", "gauge", "Jobs known to the controller by state.");
	for (int st = 0; st < CTLD_JOB_STATE_COUNT_; st++)
		aidc_buf_printf(b, "aidc_jobs{state=\"%s\"} %" PRIu64 "\n", ctld_job_state_name(st),
				js[st]);
	header(b, "aidc_jobs_live", "gauge",
	       "Pending, running and stopping jobs by state and partition.");
	for (size_t i = 0; i < c->njobs; i++) {
		const struct ctld_job *j = c->jobs[i];
		if (!ctld_job_ended(j))
			add(s, ctld_job_state_name(j->state),
			    j->spec.partition ? j->spec.partition : c->cfg.partition, NULL, 1);
	}
	emit(b, "aidc_jobs_live", "state", "partition", NULL, s);
}

/* The share (milli) of each device of node n its active tasks hold. */
static void node_shares(const struct ctld_node *n, uint32_t used[AIDC_MAX_DEVICES_PER_NODE])
{
	memset(used, 0, AIDC_MAX_DEVICES_PER_NODE * sizeof *used);
	for (size_t i = 0; i < n->nact; i++) {
		const struct ctld_task *k = &n->act[i].job->tasks[n->act[i].task];
		if (k->state != CTLD_TASK_ASSIGNED && k->state != CTLD_TASK_RUNNING)
			continue;
		for (uint32_t d = 0; d < k->ndev; d++)
			if (k->devs[d] < AIDC_MAX_DEVICES_PER_NODE)
				used[k->devs[d]] += k->dev_milli ? k->dev_milli : AIDC_DEVICE_MILLI;
	}
}

/* Devices of node n in use by its active tasks (whole or in part). */
static uint32_t node_allocated(const struct ctld_node *n)
{
	uint32_t used[AIDC_MAX_DEVICES_PER_NODE], k = 0;
	node_shares(n, used);
	for (uint32_t d = 0; d < n->ndev && d < AIDC_MAX_DEVICES_PER_NODE; d++)
		k += used[d] > 0;
	return k;
}

uint32_t ctld_node_devices_allocated(const struct ctld_node *n)
{
	return node_allocated(n);
}

uint32_t ctld_node_device_milli_free(const struct ctld_node *n)
{
	uint32_t used[AIDC_MAX_DEVICES_PER_NODE], free_milli = 0;
	node_shares(n, used);
	for (uint32_t d = 0; d < n->ndev && d < AIDC_MAX_DEVICES_PER_NODE; d++)
		free_milli += used[d] < AIDC_DEVICE_MILLI ? AIDC_DEVICE_MILLI - used[d] : 0;
	return free_milli;
}

static void node_metrics(struct ctld *c, struct aidc_buf *b, struct series_set *s)
{
	header(b, "aidc_nodes", "gauge", "Nodes by state.");
	for (int st = 0; st < 4; st++) {
		uint64_t k = 0;
		for (size_t i = 0; i < c->nnodes; i++)
			k += (c->nodes[i].state & 3) == st;
		aidc_buf_printf(b, "aidc_nodes{state=\"%s\"} %" PRIu64 "\n", ctld_node_state_name(st),
				k);
	}
	/* A node's unallocated devices are free only when it is up and not drained. */
	header(b, "aidc_devices", "gauge",
	       "Accelerators by model, partition and state (allocated, free, unavailable).");
	for (size_t i = 0; i < c->nnodes; i++) {
		const struct ctld_node *n = &c->nodes[i];
		uint32_t used = node_allocated(n);
		bool usable = n->state == CTLD_NODE_UP && !n->drained;
		const char *model = n->model[0] ? n->model : "none";
		add(s, model, n->partition ? n->partition : "", "allocated", used);
		add(s, model, n->partition ? n->partition : "", usable ? "free" : "unavailable",
		    n->ndev - used);
	}
	emit(b, "aidc_devices", "model", "partition", "state", s);
	header(b, "aidc_node_devices", "gauge", "Accelerators of each node: allocated and total.");
	for (size_t i = 0; i < c->nnodes; i++) {
		const struct ctld_node *n = &c->nodes[i];
		for (int k = 0; k < 2; k++) {
			aidc_buf_puts(b, "aidc_node_devices{node=");
			label(b, n->name);
			aidc_buf_puts(b, ",model=");
			label(b, n->model[0] ? n->model : "none");
			aidc_buf_printf(b, ",state=\"%s\"} %u\n", k ? "total" : "allocated",
					k ? n->ndev : node_allocated(n));
		}
	}
	header(b, "aidc_node_device_memory_bytes", "gauge",
	       "Total accelerator memory of each node, as its agent registered it.");
	for (size_t i = 0; i < c->nnodes; i++) {
		aidc_buf_puts(b, "aidc_node_device_memory_bytes{node=");
		label(b, c->nodes[i].name);
		aidc_buf_printf(b, "} %" PRIu64 "\n", c->nodes[i].dev_mem_mib << 20);
	}
	header(b, "aidc_node_device_utilization_ratio", "gauge",
	       "Busy share of each device in the agent's last sample (NVML; absent for devices "
	       "the agent does not measure).");
	for (size_t i = 0; i < c->nnodes; i++)
		for (uint32_t k = 0; k < c->nodes[i].usage_n; k++) {
			aidc_buf_puts(b, "aidc_node_device_utilization_ratio{node=");
			label(b, c->nodes[i].name);
			aidc_buf_printf(b, ",device=\"%" PRId64 "\"} %.2f\n",
					c->nodes[i].usage[k].index,
					(double)c->nodes[i].usage[k].util_pct / 100.0);
		}
	header(b, "aidc_node_device_memory_used_bytes", "gauge",
	       "Memory in use on each device in the agent's last sample (NVML).");
	for (size_t i = 0; i < c->nnodes; i++)
		for (uint32_t k = 0; k < c->nodes[i].usage_n; k++) {
			aidc_buf_puts(b, "aidc_node_device_memory_used_bytes{node=");
			label(b, c->nodes[i].name);
			aidc_buf_printf(b, ",device=\"%" PRId64 "\"} %" PRIu64 "\n",
					c->nodes[i].usage[k].index,
					(uint64_t)c->nodes[i].usage[k].mem_used_mib << 20);
		}
	header(b, "aidc_node_heartbeat_age_seconds", "gauge",
	       "Seconds since each node's agent was last heard from.");
	int64_t now = ctld_now_ms();
	for (size_t i = 0; i < c->nnodes; i++) {
		int64_t age = now - c->nodes[i].last_seen_ms;
		aidc_buf_puts(b, "aidc_node_heartbeat_age_seconds{node=");
		label(b, c->nodes[i].name);
		aidc_buf_printf(b, "} %.3f\n", (double)(age < 0 ? 0 : age) / 1e3);
	}
}

/* ---- GET /metrics/services: one series per service, for its owner ---------------- */

/* Labels service="NAME",user="OWNER" of s, with the braces left open. */
static void svc_labels(struct aidc_buf *b, const char *family, const struct svc_service *s)
{
	aidc_buf_printf(b, "%s{service=", family);
	label(b, s->name);
	aidc_buf_puts(b, ",user=");
	label(b, s->user);
}

/* The services the caller may see: admins every one, a user their own. */
static size_t visible_services(struct ctld *c, const struct ctld_msg *m,
			       const struct svc_service **out)
{
	size_t n = 0;
	for (size_t i = 0; c->svc && i < c->svc->n; i++)
		if (m->req->who.admin || m->req->who.uid == c->svc->v[i]->uid)
			out[n++] = c->svc->v[i];
	return n;
}

/* One integer series per service: header, then get(s) for each. */
static void svc_int_series(struct aidc_buf *b, const char *family, const char *type,
			   const char *help, const struct svc_service *const *v, size_t n,
			   int64_t (*get)(const struct svc_service *))
{
	header(b, family, type, help);
	for (size_t i = 0; i < n; i++) {
		svc_labels(b, family, v[i]);
		aidc_buf_printf(b, "} %" PRId64 "\n", get(v[i]));
	}
}

static int64_t svc_requests(const struct svc_service *s)
{
	return (int64_t)s->requests;
}

static int64_t svc_5xx(const struct svc_service *s)
{
	return (int64_t)s->resp_5xx;
}

static int64_t svc_restarts(const struct svc_service *s)
{
	return s->restarts;
}

static int64_t svc_want(const struct svc_service *s)
{
	return s->want;
}

static void svc_counters(struct aidc_buf *b, const struct svc_service *const *v, size_t n)
{
	svc_int_series(b, "aidc_svc_requests_total", "counter",
		       "Requests the router received for it.", v, n, svc_requests);
	svc_int_series(b, "aidc_svc_responses_5xx_total", "counter", "5xx responses among them.",
		       v, n, svc_5xx);
	svc_int_series(b, "aidc_svc_restarts_total", "counter",
		       "Replicas replaced after an exit or a failed probe.", v, n, svc_restarts);
}

static void svc_gauges(struct aidc_buf *b, const struct svc_service *const *v, size_t n)
{
	static const char *const states[] = {"starting", "ready", "draining", "stopping"};
	header(b, "aidc_svc_requests_per_second", "gauge",
	       "Request rate over the router's last measuring interval.");
	for (size_t i = 0; i < n; i++) {
		svc_labels(b, "aidc_svc_requests_per_second", v[i]);
		aidc_buf_printf(b, "} %.3f\n", v[i]->rps);
	}
	header(b, "aidc_svc_response_seconds", "gauge",
	       "The router's average response time (absent before the first request).");
	for (size_t i = 0; i < n; i++)
		if (v[i]->avg_ms >= 0 && v[i]->requests > 0) {
			svc_labels(b, "aidc_svc_response_seconds", v[i]);
			aidc_buf_printf(b, "} %.3f\n", (double)v[i]->avg_ms / 1e3);
		}
	svc_int_series(b, "aidc_svc_replicas_wanted", "gauge",
		       "Replicas wanted now (spec or autoscaler).", v, n, svc_want);
	header(b, "aidc_svc_replicas", "gauge", "Its replicas by state.");
	for (size_t i = 0; i < n; i++) {
		uint64_t by[4] = {0};
		for (size_t k = 0; k < v[i]->nr; k++)
			if (v[i]->r[k].state >= 0 && v[i]->r[k].state < 4)
				by[v[i]->r[k].state]++;
		for (int k = 0; k < 4; k++) {
			svc_labels(b, "aidc_svc_replicas", v[i]);
			aidc_buf_printf(b, ",state=\"%s\"} %" PRIu64 "\n", states[k], by[k]);
		}
	}
}

int ctld_lf_metrics_services(struct ctld *c, struct ctld_msg *m)
{
	size_t cap = c->svc && c->svc->n ? c->svc->n : 1;
	const struct svc_service **v = aidc_calloc(cap, sizeof *v);
	size_t n = visible_services(c, m, v);
	svc_counters(&m->resp->body, v, n);
	svc_gauges(&m->resp->body, v, n);
	aidc_free(v);
	m->resp->content_type = "text/plain; version=0.0.4";
	return CTLD_DONE;
}

int ctld_lf_metrics(struct ctld *c, struct ctld_msg *m)
{
	struct aidc_buf *b = &m->resp->body;
	struct series_set s = {aidc_calloc(SERIES_CAP, sizeof *s.v), 0};
	job_metrics(c, b, &s);
	node_metrics(c, b, &s);
	aidc_free(s.v);
	ctld_services_metrics(c, b);
	struct {
		const char *name, *help;
		uint64_t v;
	} ctr[] = {
		{"aidc_jobs_submitted_total", "Jobs accepted since start.", c->m_submitted},
		{"aidc_jobs_started_total", "Job starts (attempts) since start.", c->m_started},
		{"aidc_jobs_finished_total", "Jobs ended since start.", c->m_finished},
		{"aidc_sched_passes_total", "Scheduling passes since start.", c->m_passes},
		{"aidc_loop_requests_total", "Requests handled by the event loop.", c->m_requests},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(ctr); i++) {
		header(b, ctr[i].name, "counter", ctr[i].help);
		aidc_buf_printf(b, "%s %" PRIu64 "\n", ctr[i].name, ctr[i].v);
	}
	header(b, "aidc_leader_term", "gauge",
	       "The leader lease's term this controller holds (0: no lease, a SQLite store; "
	       "docs/ha.md).");
	aidc_buf_printf(b, "aidc_leader_term %" PRId64 "\n", c->lead_term);
	header(b, "aidc_leader_lease_renewed_age_seconds", "gauge",
		"Seconds since the leader lease was last renewed (absent without a lease).");
	if (c->lead_term > 0)
		aidc_buf_printf(b, "aidc_leader_lease_renewed_age_seconds %.3f\n",
				(double)(ctld_now_ms() - c->lead_ok_ms) / 1e3);
	header(b, "aidc_sched_pass_seconds_total", "counter", "Time spent in scheduling passes.");
	aidc_buf_printf(b, "aidc_sched_pass_seconds_total %.6f\n", (double)c->m_pass_us_total / 1e6);
	hist(b, "aidc_queue_wait_seconds", "Seconds from submission to start, per start.", &c->m_wait,
	     wait_bounds);
	hist(b, "aidc_sched_pass_duration_seconds", "Duration of each scheduling pass.", &c->m_pass,
	     fast_bounds);
	hist(b, "aidc_store_commit_seconds", "Latency of each store group commit (with fsync).",
	     &c->m_commit, fast_bounds);
	m->resp->content_type = "text/plain; version=0.0.4";
	return CTLD_DONE;
}
