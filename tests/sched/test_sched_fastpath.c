/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Differential test of the pass's fast paths (pass.c "per-shape answers",
 * sched_int.h struct sched_hot / sched_shape): pending jobs of one shape share
 * one never-fits and one failed-shape-memo answer per partition pass, and the
 * group-limit checks are skipped while no group has a limit or quota. Two
 * schedulers run the same randomized workload, one with s->no_fast_path set
 * (the per-job path), and must make the same decisions (kind, job, for whom,
 * time, every allocation) and give every pending job the same reason, pass
 * after pass: across orders, blocking modes, whole-device, fractional and
 * CPU-only jobs, node constraints, model masks, nodes going down and up,
 * tenancy groups with and without limits and quotas, and preemption.
 */
#include "sched_test_util.h"

#define NJOBS_MAX 4096u

struct world {
	struct sched *s[2]; /* [0] fast path, [1] per-job path */
	struct aidc_rng rng;
	uint32_t ngroups;
	int gid[16];
	uint64_t next_id;
	uint32_t nnodes;
};

static void add_groups(struct world *w, bool limits)
{
	struct aidc_err e = {0};
	char name[32];

	for (int k = 0; k < 2; k++) {
		struct sched_group_spec org = {"org", -1, -1, -1, -1, -1, -1, 1, {0}, {0}, NULL, 0};
		w->gid[0] = sched_group_set(w->s[k], &org, &e);
		CHECK(w->gid[0] >= 0);
	}
	w->ngroups = 1;
	for (uint32_t a = 1; a < 9; a++) {
		/* the same random limits for both schedulers */
		int64_t maxrun = limits && aidc_rng_below(&w->rng, 3) == 0
				     ? (int64_t)aidc_rng_below(&w->rng, 6)
				     : -1;
		int64_t nominal = limits && aidc_rng_below(&w->rng, 2) == 0
				      ? (int64_t)aidc_rng_below(&w->rng, 24)
				      : -1;
		int64_t shares = 1 + (int64_t)aidc_rng_below(&w->rng, 5);
		snprintf(name, sizeof name, "acct%u", a);
		for (int k = 0; k < 2; k++) {
			struct sched_group_spec g = {name,    w->gid[0], maxrun, -1,
						     nominal, -1,	 -1,	 shares, {0}, {0}, NULL, 0};
			w->gid[a] = sched_group_set(w->s[k], &g, &e);
			CHECK(w->gid[a] >= 0);
		}
		w->ngroups++;
	}
}

static void build(struct world *w, enum sched_order o, enum sched_placement pl,
		  enum sched_blocking b, int groups, uint64_t seed)
{
	struct sched_config cfg;
	struct aidc_err e = {0};

	memset(w, 0, sizeof *w);
	aidc_rng_seed(&w->rng, seed);
	sched_config_defaults(&cfg);
	cfg.order = o;
	cfg.placement = pl;
	cfg.blocking = b;
	cfg.prio_calc_period_s = 30;
	for (int k = 0; k < 2; k++) {
		w->s[k] = mk_config(&cfg);
		CHECK(sched_add_model(w->s[k], "a100", "v", 40960, &e) == 0);
		CHECK(sched_add_model(w->s[k], "h100", "v", 81920, &e) == 1);
		CHECK(sched_add_partition(w->s[k], "p0", &e) == 0);
		CHECK(sched_add_partition(w->s[k], "p1", &e) == 1);
		add_nodes(w->s[k], "a", 0, 12, 8, 0, 4, 0);
		add_nodes(w->s[k], "h", 0, 6, 4, 1, 2, 1);
		add_nodes(w->s[k], "c", 1, 8, 2, 0, 0, 2);
		w->s[k]->no_fast_path = k == 1;
	}
	w->nnodes = 26;
	w->next_id = 1;
	if (groups)
		add_groups(w, groups == 2);
}

/* A random job: shapes repeat (few sizes) so that shape answers are reused. */
static void random_job(struct world *w, struct sched_job_spec *js)
{
	static const uint32_t ndevs[] = {0, 1, 1, 1, 2, 4, 8};
	static const uint32_t tasks[] = {1, 1, 1, 2, 4, 8, 16};
	struct aidc_rng *r = &w->rng;

	*js = jspec(w->next_id++, tasks[aidc_rng_below(r, 7)], ndevs[aidc_rng_below(r, 7)],
		    60 + (int64_t)aidc_rng_below(r, 4) * 300);
	js->partition = aidc_rng_below(r, 5) == 0 ? 1 : 0;
	js->task.cpu_milli = 500 + 500 * (uint32_t)aidc_rng_below(r, 3);
	js->task.mem_mib = 1024u << aidc_rng_below(r, 3);
	if (js->task.ndev == 1 && aidc_rng_below(r, 4) == 0 && js->ntasks == 1)
		js->task.dev_milli = 250 * (1 + (uint32_t)aidc_rng_below(r, 3));
	else if (js->task.ndev && aidc_rng_below(r, 5) == 0)
		js->task.model_mask = 1u << aidc_rng_below(r, 2);
	if (js->ntasks > 1 && js->task.dev_milli == 0 && aidc_rng_below(r, 4) == 0)
		js->nodes = 1 + (uint32_t)aidc_rng_below(r, js->ntasks < 4 ? js->ntasks : 4);
	else if (js->ntasks > 1 && js->task.dev_milli == 0 && aidc_rng_below(r, 4) == 0)
		js->tasks_per_node = 1 + (uint32_t)aidc_rng_below(r, 4);
	js->priority = (int32_t)aidc_rng_below(r, 3) * 10;
	js->flags = aidc_rng_below(r, 2) ? SCHED_JOB_PREEMPTIBLE : 0;
	js->qos_milli = (uint32_t)aidc_rng_below(r, 3) * 500;
	if (w->ngroups) {
		js->groups[0] = (uint32_t)w->gid[1 + aidc_rng_below(r, w->ngroups - 1)];
		js->ngroups = 1;
	}
}

/* Live job h has the same reason (and hold) in both schedulers. */
static bool same_reason(const struct world *w, uint32_t h)
{
	char a[128], b[128];
	sched_job_hold(w->s[0], h, a, sizeof a);
	sched_job_hold(w->s[1], h, b, sizeof b);
	return sched_job_reason(w->s[0], h) == sched_job_reason(w->s[1], h) && !strcmp(a, b);
}

/* Every partition's queue is in strict sched_hot_cmp order (the sort: presorted,
 * radix or merge sort, and the merges). */
static bool queues_sorted(const struct sched *s)
{
	for (uint32_t part = 0; part < s->nparts; part++) {
		const struct sched_partition *p = &s->parts[part];
		for (size_t i = p->qhead + 1; i < p->qn; i++)
			if (sched_hot_cmp(&s->hot[p->q[i - 1]], &s->hot[p->q[i]]) >= 0)
				return false;
	}
	return true;
}

/* Both schedulers made the same decisions and gave every job the same reason. */
static void compare(struct world *w, const struct sched_decisions *d0,
		    const struct sched_decisions *d1, const char *what, int step)
{
	bool same = d0->n == d1->n && d0->nallocs == d1->nallocs;
	for (size_t i = 0; same && i < d0->n; i++) {
		const struct sched_decision *a = &d0->v[i], *b = &d1->v[i];
		same = a->kind == b->kind && a->job == b->job && a->job_id == b->job_id &&
		       a->for_job == b->for_job && a->at_s == b->at_s && a->nalloc == b->nalloc &&
		       a->first_alloc == b->first_alloc;
	}
	for (size_t i = 0; same && i < d0->nallocs; i++)
		same = memcmp(&d0->allocs[i], &d1->allocs[i], sizeof d0->allocs[i]) == 0;
	for (uint32_t h = 0; same && h < w->s[0]->njob_slots; h++)
		same = w->s[0]->jobs[h].live == w->s[1]->jobs[h].live &&
		       (!w->s[0]->jobs[h].live || same_reason(w, h));
	if (!same) {
		fprintf(stderr, "%s: diverged at step %d (%zu vs %zu decisions)\n", what, step,
			d0->n, d1->n);
		for (size_t i = 0; getenv("FASTPATH_DEBUG") && i < d0->n + d1->n; i++) {
			const struct sched_decision *x = i < d0->n ? &d0->v[i] : &d1->v[i - d0->n];
			fprintf(stderr, "  %s kind %d job %" PRIu64 " nalloc %u\n",
				i < d0->n ? "fast" : "slow", (int)x->kind, x->job_id, x->nalloc);
		}
	}
	CHECK(same);
	CHECK(queues_sorted(w->s[0]));
}

/* Applies pass decisions the way a driver does: PREEMPT requeues its victim. */
static void apply(struct world *w, const struct sched_decisions *d, int64_t now)
{
	struct aidc_err e = {0};
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].kind == SCHED_DECIDE_PREEMPT)
			for (int k = 0; k < 2; k++)
				CHECK(sched_job_requeue(w->s[k], d->v[i].job, now, &e) == 0);
}

/* One step: submit, maybe finish or cancel some jobs, maybe flip a node. */
static void churn(struct world *w, int64_t now)
{
	struct aidc_err e = {0};
	uint32_t nsub = (uint32_t)aidc_rng_below(&w->rng, 40);
	for (uint32_t i = 0; i < nsub && w->next_id < NJOBS_MAX; i++) {
		struct sched_job_spec js;
		random_job(w, &js);
		int h[2];
		js.submit_s = now;
		/* a request the policy refuses (e.g. node constraints under a
		 * non-gang policy) is refused by both */
		for (int k = 0; k < 2; k++)
			h[k] = sched_submit(w->s[k], &js, now, &e);
		CHECK(h[0] == h[1]);
	}
	for (uint32_t h = 0; h < w->s[0]->njob_slots; h++) {
		const struct sched_job *j = &w->s[0]->jobs[h];
		if (!j->live || aidc_rng_below(&w->rng, 6))
			continue;
		bool running = j->running;
		bool cancel = !running && aidc_rng_below(&w->rng, 8) == 0;
		for (int k = 0; k < 2; k++) {
			if (running)
				CHECK(sched_job_finish(w->s[k], h, now, &e) == 0);
			else if (cancel)
				CHECK(sched_job_cancel(w->s[k], h, now, &e) == 0);
		}
	}
	if (aidc_rng_below(&w->rng, 4) == 0) {
		uint32_t n = (uint32_t)aidc_rng_below(&w->rng, w->nnodes);
		enum sched_node_state st =
		    aidc_rng_below(&w->rng, 2) ? SCHED_NODE_UP : SCHED_NODE_DOWN;
		for (int k = 0; k < 2; k++)
			(void)sched_set_node_state(w->s[k], n, st, &e);
	}
}

static void run(enum sched_order o, enum sched_placement pl, enum sched_blocking b, int groups,
		uint64_t seed)
{
	struct world w;
	struct sched_decisions d0, d1;
	struct aidc_err e = {0};
	char what[96];
	size_t starts = 0;

	snprintf(what, sizeof what, "order %d placement %d blocking %d groups %d seed %" PRIu64,
		 (int)o, (int)pl, (int)b, groups, seed);
	build(&w, o, pl, b, groups, seed);
	sched_decisions_init(&d0);
	sched_decisions_init(&d1);
	for (int step = 0; step < 40; step++) {
		int64_t now = 1000 + step * 37;
		churn(&w, now);
		if (step == 20) /* jobs that never fitted fit now */
			for (int k = 0; k < 2; k++)
				add_nodes(w.s[k], "late", 0, 6, 8, 0, 4, 3);
		CHECK(sched_pass(w.s[0], now, &d0, &e) == 0);
		CHECK(sched_pass(w.s[1], now, &d1, &e) == 0);
		compare(&w, &d0, &d1, what, step);
		for (size_t i = 0; i < d0.n; i++)
			starts += d0.v[i].kind == SCHED_DECIDE_START;
		apply(&w, &d0, now);
	}
	CHECK(starts > 0); /* the workload is not empty */
	sched_decisions_release(&d0);
	sched_decisions_release(&d1);
	sched_free(w.s[0]);
	sched_free(w.s[1]);
}

/* Every placement x blocking mode x groups (none, no limits, limits) for order o. */
static void all_for(enum sched_order o)
{
	static const enum sched_placement places[] = {SCHED_PLACE_CONSOLIDATE, SCHED_PLACE_SPREAD,
						      SCHED_PLACE_TOPOLOGY, SCHED_PLACE_BESTFIT,
						      SCHED_PLACE_AIDC_FRAG};
	uint64_t seed = 1 + 1000 * (uint64_t)o;

	for (size_t p = 0; p < AIDC_ARRAY_LEN(places); p++)
		for (int b = 0; b < SCHED_BLOCK_COUNT_; b++)
			for (int g = 0; g < 3; g++)
				run(o, places[p], (enum sched_blocking)b, g, seed++);
}

static void test_fifo(void)
{
	all_for(SCHED_ORDER_FIFO);
}

static void test_priority(void)
{
	all_for(SCHED_ORDER_PRIORITY);
}

static void test_multifactor(void)
{
	all_for(SCHED_ORDER_MULTIFACTOR);
}

static void test_tiresias(void)
{
	all_for(SCHED_ORDER_TIRESIAS);
}

static void test_sjf(void)
{
	all_for(SCHED_ORDER_SJF);
}

TEST_MAIN(TEST(test_fifo), TEST(test_priority), TEST(test_multifactor), TEST(test_tiresias),
	  TEST(test_sjf))
