/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the scheduling-core tests: hand-built clusters, one-line
 * job submission, the running set of a driven workload, and an invariant
 * check of the capacity bookkeeping that recomputes everything from the
 * running jobs' allocations.
 */
#ifndef AIDC_TESTS_SCHED_TEST_UTIL_H
#define AIDC_TESTS_SCHED_TEST_UTIL_H

#include "../test.h"
#include "sched/sched_int.h"
/* The core bans these inside itself; tests print. */
#undef printf
#undef fprintf
#undef time

/* A scheduler with cfg; a refusal ends the test. */
static inline struct sched *mk_config(const struct sched_config *cfg)
{
	struct sched *s = NULL;
	struct aidc_err e = {0};

	if (sched_new(cfg, NULL, &s, &e)) {
		fprintf(stderr, "sched_new: %s\n", e.msg);
		exit(1);
	}
	return s;
}

/* A scheduler with the given order/placement/blocking and defaults otherwise. */
static inline struct sched *mk(enum sched_order o, enum sched_placement p, enum sched_blocking b)
{
	struct sched_config cfg;

	sched_config_defaults(&cfg);
	cfg.order = o;
	cfg.placement = p;
	cfg.blocking = b;
	return mk_config(&cfg);
}

/* Adds nodes named <prefix><i> with ndev devices of model in groups of gsize. */
static inline void add_nodes(struct sched *s, const char *prefix, uint32_t part, uint32_t count,
			     uint32_t ndev, uint32_t model, uint32_t gsize, uint32_t rack)
{
	struct sched_device_spec devs[AIDC_MAX_DEVICES_PER_NODE];
	struct aidc_err e = {0};

	for (uint32_t d = 0; d < ndev; d++) {
		devs[d].model = model;
		devs[d].group = gsize ? d / gsize : 0;
	}
	for (uint32_t i = 0; i < count; i++) {
		char name[64];
		struct sched_node_spec ns = {name, part, rack, 64000, 512 * 1024, ndev, devs};
		snprintf(name, sizeof name, "%s%u", prefix, i);
		if (sched_add_node(s, &ns, &e) < 0) {
			fprintf(stderr, "add_node: %s\n", e.msg);
			exit(1);
		}
	}
}

/* A simple cluster: one model "gpu", one partition "p", n nodes x g devices. */
static inline struct sched *cluster(enum sched_order o, enum sched_placement p,
				    enum sched_blocking b, uint32_t n, uint32_t g)
{
	struct sched *s = mk(o, p, b);
	struct aidc_err e = {0};

	if (sched_add_model(s, "gpu", "v", 16384, &e) != 0 || sched_add_partition(s, "p", &e) != 0)
		exit(1);
	add_nodes(s, "n", 0, n, g, 0, 0, 0);
	return s;
}

static inline struct sched_job_spec jspec(uint64_t id, uint32_t ntasks, uint32_t ndev,
					  int64_t limit)
{
	struct sched_job_spec js;

	memset(&js, 0, sizeof js);
	js.id = id;
	js.name = "job";
	js.user = "u";
	js.ntasks = ntasks;
	js.task.ndev = ndev;
	js.task.cpu_milli = 1000;
	js.task.mem_mib = 1024;
	js.time_limit_s = limit;
	return js;
}

static inline int submit(struct sched *s, uint64_t id, uint32_t ntasks, uint32_t ndev,
			 int64_t limit, int64_t now)
{
	struct sched_job_spec js = jspec(id, ntasks, ndev, limit);
	struct aidc_err e = {0};
	int h;

	js.submit_s = now;
	h = sched_submit(s, &js, now, &e);
	if (h < 0)
		fprintf(stderr, "submit %" PRIu64 ": %s\n", id, e.msg);
	return h;
}

static inline int submit_spec(struct sched *s, struct sched_job_spec *js, int64_t now)
{
	struct aidc_err e = {0};
	int h;

	js->submit_s = now;
	h = sched_submit(s, js, now, &e);
	if (h < 0)
		fprintf(stderr, "submit %" PRIu64 ": %s\n", js->id, e.msg);
	return h;
}

/* A job of ndev devices of model (-1 = any) charged to group g1 and, when
 * g2 >= 0, to g2 too (a user inside an account). */
static inline int submit_in(struct sched *s, uint64_t id, uint32_t ndev, int model, int g1,
			    int g2, int64_t now)
{
	struct sched_job_spec js = jspec(id, 1, ndev, 100);
	js.task.model_mask = model < 0 ? 0 : (uint64_t)1 << model;
	js.groups[0] = (uint32_t)g1;
	js.ngroups = 1;
	if (g2 >= 0) {
		js.groups[1] = (uint32_t)g2;
		js.ngroups = 2;
	}
	return submit_spec(s, &js, now);
}

/* Checks the hold text of job h. */
static inline void hold_is(struct sched *s, int h, const char *want)
{
	char buf[160];
	sched_job_hold(s, (uint32_t)h, buf, sizeof buf);
	CHECK_STR(buf, want);
}

/* Runs a pass and returns how many decisions of kind k it made. */
static inline size_t pass_count(struct sched *s, int64_t now, struct sched_decisions *d,
				enum sched_decision_kind k)
{
	struct aidc_err e = {0};
	size_t n = 0;

	if (sched_pass(s, now, d, &e)) {
		fprintf(stderr, "pass: %s\n", e.msg);
		exit(1);
	}
	for (size_t i = 0; i < d->n; i++)
		n += d->v[i].kind == k;
	return n;
}

/* The START decision for job id in d, or NULL. */
static inline const struct sched_decision *started(const struct sched_decisions *d, uint64_t id)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].kind == SCHED_DECIDE_START && d->v[i].job_id == id)
			return &d->v[i];
	return NULL;
}

/* Distinct nodes used by a decision. */
static inline uint32_t nodes_of(const struct sched_decisions *d, const struct sched_decision *x,
				uint32_t *first)
{
	uint32_t seen[64], n = 0;

	for (uint32_t i = 0; i < x->nalloc; i++) {
		uint32_t node = d->allocs[x->first_alloc + i].node;
		bool dup = false;
		for (uint32_t k = 0; k < n; k++)
			dup |= seen[k] == node;
		if (!dup && n < 64)
			seen[n++] = node;
	}
	if (first)
		*first = n ? seen[0] : UINT32_MAX;
	return n;
}

/* The running jobs of a workload driven like the simulator, with their ends. */
#define RUN_SET_MAX 512
struct run_set {
	uint32_t job[RUN_SET_MAX];
	int64_t end[RUN_SET_MAX];
	uint32_t n;
};

/* Finishes the jobs whose end has come; returns how many the core refused. */
static inline int run_set_finish_due(struct sched *s, struct run_set *r, int64_t now)
{
	struct aidc_err e = {0};
	int bad = 0;

	for (uint32_t i = 0; i < r->n;) {
		if (r->end[i] <= now) {
			bad += sched_job_finish(s, r->job[i], now, &e) != 0;
			r->job[i] = r->job[--r->n];
			r->end[i] = r->end[r->n];
		} else {
			i++;
		}
	}
	return bad;
}

/*
 * Applies decision x: a START runs until its oracle time (while there is room
 * to track it), a PREEMPT's job leaves the set and is requeued. Returns how
 * many calls the core refused.
 */
static inline int run_set_apply(struct sched *s, struct run_set *r,
				const struct sched_decision *x, int64_t now)
{
	struct aidc_err e = {0};

	if (x->kind == SCHED_DECIDE_START && r->n < RUN_SET_MAX) {
		r->job[r->n] = x->job;
		r->end[r->n++] = now + (int64_t)s->jobs[x->job].oracle_s;
	}
	for (uint32_t i = 0; x->kind == SCHED_DECIDE_PREEMPT && i < r->n; i++) {
		if (r->job[i] == x->job) {
			r->job[i] = r->job[--r->n];
			r->end[i] = r->end[r->n];
			return sched_job_requeue(s, x->job, now, &e) != 0;
		}
	}
	return 0;
}

/* Each partition's run_ends is a heap by (end, seq) of exactly its running
 * jobs, s->end_pos their positions; its shape counts match its queue. */
static inline int check_ends_and_shapes(const struct sched *s)
{
	int bad = 0;
	uint32_t *count = calloc(s->nshapes + 1, sizeof *count);
	for (uint32_t pi = 0; pi < s->nparts; pi++) {
		const struct sched_partition *p = &s->parts[pi];
		for (uint32_t i = 0; i < p->nrunning; i++) {
			const struct sched_endev *x = &p->run_ends[i],
						 *up = &p->run_ends[(i - 1) / 2];
			bool order = i == 0 || up->end_s < x->end_s ||
				     (up->end_s == x->end_s && up->seq < x->seq);
			const struct sched_job *j = &s->jobs[x->job];
			if (!order || s->end_pos[x->job] != i || !j->live || !j->running ||
			    j->part != pi || j->seq != x->seq) {
				fprintf(stderr,
					"partition %u: run_ends[%u] (job %u) out of place\n", pi, i,
					x->job);
				bad++;
			}
		}
		uint32_t shapes = 0, noshape = 0;
		memset(count, 0, (s->nshapes + 1) * sizeof *count);
		for (size_t k = 0; k < (p->qn - p->qhead) + p->ninbox; k++) {
			uint32_t h = k < p->qn - p->qhead ? p->q[p->qhead + k]
							  : p->inbox[k - (p->qn - p->qhead)];
			const struct sched_hot *x = &s->hot[h];
			if (x->est < p->qmin_est) {
				fprintf(stderr,
					"partition %u: queued estimate %" PRId64
					" below the bound %" PRId64 "\n",
					pi, x->est, p->qmin_est);
				bad++;
			}
			if (x->shape == SCHED_NO_SHAPE)
				noshape++;
			else
				shapes += count[x->shape]++ == 0;
		}
		for (uint32_t k = 0; k < s->nshapes; k++)
			if (s->shapes[k].part == pi && s->shapes[k].nqueued != count[k]) {
				fprintf(stderr, "shape %u: %u queued, counted %u\n", k,
					s->shapes[k].nqueued, count[k]);
				bad++;
			}
		if (shapes != p->qshapes || noshape != p->qnoshape) {
			fprintf(stderr,
				"partition %u: %u shapes %u shapeless queued, counted %u %u\n", pi,
				p->qshapes, p->qnoshape, shapes, noshape);
			bad++;
		}
	}
	free(count);
	return bad;
}

/*
 * Recomputes every device's and node's use from the running jobs' allocations
 * and compares with the core's counters and indexes. Returns the number of
 * mismatches (each printed).
 */
static inline int check_invariants(const struct sched *s)
{
	int bad = 0;
	uint32_t *milli = calloc(s->ndevs + 1, sizeof *milli);
	uint64_t *cpu = calloc(s->nnodes + 1, sizeof *cpu);
	uint64_t *mem = calloc(s->nnodes + 1, sizeof *mem);
	uint64_t used = 0;

	for (uint32_t h = 0; h < s->njob_slots; h++) {
		const struct sched_job *j = &s->jobs[h];
		if (!j->live || !j->running)
			continue;
		for (uint32_t i = 0; i < j->nalloc; i++) {
			const struct sched_alloc *a = &j->allocs[i];
			if (i == 0 || a->task != j->allocs[i - 1].task) {
				cpu[a->node] += j->task.cpu_milli;
				mem[a->node] += j->task.mem_mib;
			}
			if (a->dev != SCHED_NO_DEVICE) {
				milli[a->dev] += a->milli;
				used += a->milli;
			}
		}
	}
	for (uint32_t d = 0; d < s->ndevs; d++) {
		if (milli[d] > AIDC_DEVICE_MILLI ||
		    s->devs[d].free_milli != AIDC_DEVICE_MILLI - milli[d]) {
			fprintf(stderr, "device %u: allocated %u milli, free %u\n", d, milli[d],
				s->devs[d].free_milli);
			bad++;
		}
	}
	for (uint32_t n = 0; n < s->nnodes; n++) {
		const struct sched_node *nd = &s->nodes[n];
		uint32_t nfree = 0;
		if (cpu[n] + nd->cpu_free_milli != nd->cpu_milli ||
		    mem[n] + nd->mem_free_mib != nd->mem_mib) {
			fprintf(stderr, "node %u: cpu/mem bookkeeping off\n", n);
			bad++;
		}
		for (uint32_t i = 0; i < nd->ndev; i++)
			nfree += s->devs[nd->first_dev + i].free_milli == AIDC_DEVICE_MILLI;
		if (nfree != nd->ndev_free) {
			fprintf(stderr, "node %u: ndev_free %u, counted %u\n", n, nd->ndev_free,
				nfree);
			bad++;
		}
		for (uint32_t k = 0; k < nd->nslots; k++) {
			const struct sched_slot *sl = &s->slots[nd->first_slot + k];
			const struct sched_pool *p = &s->pools[sl->pool];
			uint32_t f = 0;
			for (uint32_t i = 0; i < nd->ndev; i++) {
				const struct sched_device *dv = &s->devs[nd->first_dev + i];
				f += dv->model == sl->model && dv->free_milli == AIDC_DEVICE_MILLI;
			}
			if (f != sl->nfree) {
				fprintf(stderr, "node %u model %u: slot nfree %u, counted %u\n", n,
					sl->model, sl->nfree, f);
				bad++;
			}
			for (uint32_t b = 0; b <= p->maxdev; b++) {
				const uint64_t *bits = sched_pool_bucket(p, b);
				bool in = (bits[sl->local >> 6] >> (sl->local & 63)) & 1;
				bool want = sl->indexed && b == sl->nfree;
				if (in != want) {
					fprintf(stderr,
						"node %u: bucket %u membership %d, want %d\n", n, b,
						in, want);
					bad++;
				}
			}
		}
	}
	{
		struct sched_usage u;
		sched_usage(s, UINT32_MAX, &u);
		if (u.dev_milli_used != used || u.devs_busy > u.devs_total) {
			fprintf(stderr,
				"usage: used %" PRIu64 " counted %" PRIu64 ", busy %u of %u\n",
				u.dev_milli_used, used, u.devs_busy, u.devs_total);
			bad++;
		}
	}
	free(milli);
	free(cpu);
	free(mem);
	return bad + check_ends_and_shapes(s);
}

#endif
