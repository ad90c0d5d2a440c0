/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The GITTINS queue order: a non-oracle order that ranks jobs by the Gittins
 * index of their attained run time under the run-time distribution learned
 * online from finished jobs of the same class (Gittins 1989; Aalto, Ayesta and
 * Righter, "On the Gittins index in the M/G/1 queue", Queueing Systems 2009;
 * Tiresias' Gittins variant, NSDI'19). docs/scheduler.md explains the choices.
 *
 * Distribution: per class, a histogram of finished jobs' run times (seconds)
 * in half-octave buckets (bucket 0 = [0, 1), then [1, 1.5), [1.5, 2), [2, 3),
 * [3, 4), [4, 6) ...), each bucket with its count and the sum of its samples,
 * so conditional means are exact within the bucket. Classes, finest first:
 *   level 0  same user, same job name, same device-count bucket
 *   level 1  same user, same device-count bucket
 *   level 2  same partition, same device-count bucket
 *   level 3  same partition
 *   level 4  same device-count bucket, any partition
 *   level 5  everything
 * (device-count bucket: floor(log2(devices)) + 1, CPU-only jobs 0). An empty
 * user or name identifies nobody (levels 0-1 skipped). A job uses the finest
 * class with cfg.gittins_min_samples samples, else the class with the most
 * samples, else (no history at all) its estimate (sched_job_est) as if its run
 * time were known.
 *
 * Recency (cfg.gittins_window = W > 0): each job fed multiplies the weights
 * already in its classes by 1 - 1/W, so a class's distribution is about its
 * last W finished jobs (where a center's workload drifts, as in Philly's VCs,
 * the recent jobs of a VC x GPU count predict a new one better than all of
 * them). The classes' n stays a count (gittins_min_samples). The keys of
 * waiting jobs then go stale: at most every GIT_REKEY_S (1 hour), if a job has
 * finished since, every pending key is computed again and the queues sorted.
 *
 * Index. For a job that has run a seconds, let q be the lower edge of a's
 * bucket (quantization: a job's priority changes only when its run time
 * crosses a bucket edge, its quantum boundary) and S a run time drawn from the
 * class conditioned on S >= q. The Gittins index is
 *     G(q) = max over b > q of P(S <= b) / E[min(S, b) - q],
 * b ranging over the bucket edges above q. The key is its inverse, an
 * "effective remaining time" R = 1 / G(q) in seconds (for a known duration d it
 * is d - q: the order is then SRTF), times the job's device units, so that the
 * order favours the most completions per device-second (Smith's rule): k1 =
 * R x device units (milli-device-seconds). A job that has outrun every sample
 * of its class gets R = 2 x q (a heavy tail's mean residual life grows with
 * age), never better than a fresh class. Before that rule, tail backoff: when
 * less than GIT_TAIL_MIN_W (0.25) of its class's weight has run as long as the
 * job, the index comes from the first coarser class that has that much weight
 * there (a VC x GPU-count class's last ~8 jobs say nothing about a job that has
 * outrun them; the VC's, the GPU count's or the center's longer jobs do).
 *
 * Preemption (sched_running_k1): a running job's key is its index at its
 * current run time, minus the cost of preempting it (cfg.restart_overhead_s x
 * device units: what the restart would waste); it can be a victim only when
 * that is still strictly worse than the head's key. A job never becomes a
 * victim in its first cfg.gittins_quantum_s of a run, after
 * cfg.gittins_max_preempt preemptions, or once it started from the starved
 * tier (below). A running job's key changes at its bucket edges: the demote
 * heap holds the next edge of every running job so sched_next_wakeup wakes the
 * driver there.
 *
 * Starvation: a job that has waited max(cfg.gittins_starve_s, starve_factor x
 * its effective remaining time R) since it was last queued goes to the starved
 * tier (k1 = -1, ahead of every Gittins key) and, once started, runs to its end
 * without preemption. One starved job per partition at a time: the next due
 * one is promoted only after it has ended (retried every starve_s / 8), so the
 * tier never turns an overloaded partition into FIFO. So a long job behind a
 * stream of short ones waits at most that limit plus the time until its
 * partition has room (the starved jobs due before it, and running jobs
 * ending). The promote heap drives it.
 *
 * Distribution oracle (sched_gittins_prior; a diagnostic, never a default):
 * the driver fills the classes with every job's true run time before the
 * first submit (or, with a window, adds and drops them as their submit times
 * come within the window of now); nothing is fed, no decay ("others": a key
 * takes the job's own sample out of its classes and puts it back).
 *
 * Costs: a key O(levels + buckets) (~60 buckets), computed when a job is queued
 * and when preemption looks at a running job (and for every pending job at a
 * re-keying); feeding a finished job O(levels) (O(levels x buckets) with a
 * window). Memory: 16 bytes x buckets per class; classes are bounded by
 * AIDC_MAX_PREDICT_GROUPS (past it new classes are not created and their jobs
 * use coarser ones). Only lookups go through the hash table.
 */
#include "sched/sched_int.h"

#define LEVELS 6

enum { K_USER = SCHED_HK_USER, K_NAME = SCHED_HK_NAME, K_PART = SCHED_HK_PART, K_DEVB = SCHED_HK_DEVS };
static const uint8_t level_keys[LEVELS] = {
    K_USER | K_NAME | K_DEVB, K_USER | K_DEVB, K_PART | K_DEVB, K_PART, K_DEVB, 0,
};

/* ---- buckets ---------------------------------------------------------------------- */

/* Bucket of a run time in seconds: SCHED_GIT_SUB equal steps per octave. */
static uint32_t bucket_of(int64_t x)
{
	uint32_t msb, sub, b;
	uint64_t y = (uint64_t)x;

	if (x < 1)
		return 0;
	msb = 63u - (uint32_t)__builtin_clzll(y);
	/* the SUB_BITS bits below the top one (shifted in from the right when x is
	 * small) */
	sub = (uint32_t)((y << SCHED_GIT_SUB_BITS) >> msb) & (SCHED_GIT_SUB - 1);
	b = 1 + SCHED_GIT_SUB * msb + sub;
	return AIDC_MIN(b, SCHED_GIT_BUCKETS - 1);
}

/* Lower edge of bucket b in seconds (SUB 4: 0, 1, 1.25, 1.5, 1.75, 2, 2.5 ...). */
static double edge_of(uint32_t b)
{
	uint32_t m;

	if (b == 0)
		return 0;
	m = (b - 1) / SCHED_GIT_SUB;
	return (1.0 + (double)((b - 1) % SCHED_GIT_SUB) / SCHED_GIT_SUB) *
	       (double)((uint64_t)1 << m);
}

int64_t sched_gittins_next_edge_s(int64_t run_s)
{
	uint32_t b = bucket_of(run_s);
	double e;

	if (b + 1 >= SCHED_GIT_BUCKETS)
		return INT64_MAX;
	e = edge_of(b + 1);
	return (int64_t)e + ((double)(int64_t)e < e ? 1 : 0);
}

/* ---- classes ---------------------------------------------------------------------- */

static uint32_t devb_of(const struct sched_job *j)
{
	uint64_t d = (uint64_t)j->ntasks * j->task.ndev;

	return d ? 64u - (uint32_t)__builtin_clzll(d) : 0;
}

static bool class_key(const struct sched_job *j, uint32_t level, struct sched_hkey *k)
{
	return sched_hkey_make(j, level, level_keys[level], devb_of(j), k);
}

void sched_gittins_release(struct sched_gittins *g)
{
	sched_hindex_release(&g->cls);
	memset(g, 0, sizeof *g);
}

/* Older samples weigh d times less; weights that no longer count are dropped
 * (kept exact zeros, and no denormal arithmetic). */
static void decay(struct sched_gclass *c, double d)
{
	for (uint32_t i = 0; i < SCHED_GIT_BUCKETS; i++) {
		c->cnt[i] *= d;
		c->sum[i] *= d;
		if (c->cnt[i] < 1e-6)
			c->cnt[i] = c->sum[i] = 0;
	}
}

void sched_gittins_feed(struct sched *s, const struct sched_job *j, int64_t run_s)
{
	struct sched_hkey k;
	uint32_t b = bucket_of(run_s);

	if (s->cfg.order != SCHED_ORDER_GITTINS || s->git.prior)
		return;
	for (uint32_t level = 0; level < LEVELS; level++) {
		struct sched_gclass *c;

		if (!class_key(j, level, &k) ||
		    !(c = sched_hindex_get(&s->git.cls, &k, sizeof *c, 256, AIDC_MAX_PREDICT_GROUPS)))
			continue;
		c->n++;
		s->git.fed++;
		if (s->cfg.gittins_window)
			decay(c, 1.0 - 1.0 / (double)s->cfg.gittins_window);
		c->cnt[b] += 1;
		c->sum[b] += (double)AIDC_MAX(run_s, 0);
	}
}

/* ---- the distribution oracle (sched_gittins_prior; diagnostic only) ---------------- */

/* Adds w (+1 or -1) samples of run_s to the classes of j at the levels in mask
 * (bit per level); returns the levels changed. -1 changes only classes that
 * hold such a sample. The weights stay whole numbers (no decay in this mode),
 * so -1 then +1 on the levels it changed is exact. */
static uint32_t prior_add(struct sched *s, const struct sched_job *j, int64_t run_s, double w,
			  uint32_t mask)
{
	struct sched_hkey k;
	uint32_t b = bucket_of(run_s), done = 0;

	for (uint32_t level = 0; level < LEVELS; level++) {
		struct sched_gclass *c;

		if (!(mask >> level & 1) || !class_key(j, level, &k))
			continue;
		if (w < 0)
			c = (struct sched_gclass *)sched_hindex_find(&s->git.cls, &k);
		else
			c = sched_hindex_get(&s->git.cls, &k, sizeof *c, 256,
					     AIDC_MAX_PREDICT_GROUPS);
		if (!c || (w < 0 && (c->cnt[b] < 1 || !c->n)))
			continue;
		c->n = w < 0 ? c->n - 1 : c->n + 1;
		c->cnt[b] += w;
		c->sum[b] += w * (double)run_s;
		done |= 1u << level;
	}
	return done;
}

int sched_gittins_prior(struct sched *s, const struct sched_job_spec *spec, int64_t run_s,
			int sign, struct aidc_err *e)
{
	struct sched_job j;

	if (s->cfg.order != SCHED_ORDER_GITTINS)
		return aidc_errf(e, AIDC_E_INVAL, "a Gittins prior needs the gittins order");
	if (!spec || spec->partition >= s->nparts || run_s < 0 || run_s > AIDC_MAX_DURATION_S ||
	    (sign != 1 && sign != -1))
		return aidc_errf(e, AIDC_E_INVAL,
				 "bad Gittins prior (partition, run time or sign)");
	memset(&j, 0, sizeof j);
	j.part = spec->partition;
	j.ntasks = spec->ntasks;
	j.task.ndev = spec->task.ndev;
	j.user_id = spec->user && *spec->user ? sched_intern(s, spec->user) : UINT32_MAX;
	j.name_id = spec->name && *spec->name ? sched_intern(s, spec->name) : UINT32_MAX;
	s->git.prior = true;
	s->git.fed++; /* a moving prior: pending keys are computed again (rekey) */
	prior_add(s, &j, run_s, sign, ~0u);
	return 0;
}

void sched_gittins_prior_self(struct sched *s)
{
	s->git.prior = true;
	s->git.prior_self = true;
}

void sched_gittins_prior_others(struct sched *s, int64_t window_s)
{
	s->git.prior_others = true;
	s->git.prior_window_s = window_s;
}

/* The class job j uses (NULL: no history at all); *at = its level. */
static const struct sched_gclass *class_at(const struct sched *s, const struct sched_job *j,
					   uint32_t *at)
{
	const struct sched_gclass *best = NULL;
	struct sched_hkey k;

	*at = LEVELS;
	for (uint32_t level = 0; level < LEVELS; level++) {
		const struct sched_gclass *c;

		if (!class_key(j, level, &k) || !(c = sched_hindex_find(&s->git.cls, &k)))
			continue;
		if (c->n >= s->cfg.gittins_min_samples) {
			*at = level;
			return c;
		}
		if (!best || c->n > best->n) {
			best = c;
			*at = level;
		}
	}
	return best;
}

static const struct sched_gclass *class_for(const struct sched *s, const struct sched_job *j)
{
	uint32_t at;

	return class_at(s, j, &at);
}

/* Weight of class c's samples at or above bucket b. */
static double surviving(const struct sched_gclass *c, uint32_t b)
{
	double w = 0;

	for (uint32_t i = b; i < SCHED_GIT_BUCKETS; i++)
		w += c->cnt[i];
	return w;
}

/* Tail backoff: a job that has outrun its class (less than GIT_TAIL_MIN_W of
 * the class's weight ran as long) learns nothing more from it; the coarser
 * classes, from level at + 1 on, may still hold jobs that ran that long: the
 * first with GIT_TAIL_MIN_W of weight there gives the index. None: c stays
 * (and inv_index's outrun rule applies). */
#define GIT_TAIL_MIN_W 0.25
static const struct sched_gclass *tail_class(const struct sched *s, const struct sched_job *j,
					     const struct sched_gclass *c, uint32_t at,
					     int64_t run_s)
{
	uint32_t b = bucket_of(run_s);
	struct sched_hkey k;

	if (b == 0 || surviving(c, b) >= GIT_TAIL_MIN_W)
		return c;
	for (uint32_t level = at + 1; level < LEVELS; level++) {
		const struct sched_gclass *d;

		if (class_key(j, level, &k) && (d = sched_hindex_find(&s->git.cls, &k)) &&
		    surviving(d, b) >= GIT_TAIL_MIN_W)
			return d;
	}
	return c;
}

/* 1 / Gittins index (seconds) of a job of class c that has run run_s seconds. */
static double inv_index(const struct sched_gclass *c, int64_t run_s)
{
	uint32_t k = bucket_of(run_s);
	double q = edge_of(k), surv = surviving(c, k), done = 0, work = 0, best = -1;

	if (surv <= 0)
		return 2 * AIDC_MAX(q, 1.0);
	for (uint32_t m = k; m < SCHED_GIT_BUCKETS && done < surv; m++) {
		double tail, cost;

		if (!c->cnt[m])
			continue;
		done += c->cnt[m];
		work += c->sum[m] - c->cnt[m] * q;
		tail = surv - done;
		/* the jobs still running at the next edge have run up to it */
		cost = (work + tail * ((m + 1 < SCHED_GIT_BUCKETS ? edge_of(m + 1) : q) - q)) / done;
		if (best < 0 || cost < best)
			best = cost;
	}
	return AIDC_MAX(best, 1.0);
}

static int64_t units(const struct sched_job *j)
{
	uint64_t u = sched_job_dev_milli(j);
	return u ? (int64_t)u : (int64_t)j->ntasks * AIDC_DEVICE_MILLI;
}

static int64_t to_key(double r_s, const struct sched_job *j)
{
	double k = r_s * (double)units(j);

	return k >= 9e18 ? INT64_MAX : (int64_t)(k + 0.5);
}

static int64_t key_of(const struct sched *s, const struct sched_job *j, int64_t run_s)
{
	const struct sched_gclass *c;
	uint32_t at;

	c = class_at(s, j, &at);
	if (!c)
		return to_key((double)AIDC_MAX(sched_job_est(s, j) - run_s, 1), j);
	return to_key(inv_index(tail_class(s, j, c, at, run_s), run_s), j);
}

int64_t sched_gittins_key(const struct sched *s, const struct sched_job *j, int64_t run_s)
{
	struct sched *m = (struct sched *)s; /* only in the oracle's "others" mode */
	int64_t k;
	uint32_t out;

	if (j->starved)
		return -1;
	if (s->git.prior_self && j->oracle_s > 0) {
		/* clairvoyant: a class of one sample, the job's own run time */
		struct sched_gclass one = {.n = 1};
		one.cnt[bucket_of(j->oracle_s)] = 1;
		one.sum[bucket_of(j->oracle_s)] = (double)j->oracle_s;
		return to_key(inv_index(&one, run_s), j);
	}
	if (!s->git.prior_others || j->oracle_s <= 0 ||
	    (s->git.prior_window_s && s->now_last - j->submit_s > s->git.prior_window_s))
		return key_of(s, j, run_s); /* (not in the window: its sample is not in) */
	/* the distribution of the other jobs: j's own sample (its oracle_s, as the
	 * driver gave it to sched_gittins_prior) out, then back in (exact) */
	out = prior_add(m, j, j->oracle_s, -1, ~0u);
	k = key_of(s, j, run_s);
	prior_add(m, j, j->oracle_s, 1, out);
	return k;
}

int64_t sched_gittins_running_key(const struct sched *s, const struct sched_job *j,
				  int64_t now_s)
{
	int64_t ran = now_s - j->run_start_s, k, cost;

	if (j->starved || ran < s->cfg.gittins_quantum_s ||
	    (s->cfg.gittins_max_preempt && j->preemptions >= s->cfg.gittins_max_preempt))
		return INT64_MIN;
	/* preempted before: not again until its run time reaches the next quantum */
	if (j->preemptions && bucket_of(j->executed_s + ran) <= j->git_pre_bucket)
		return INT64_MIN;
	k = sched_gittins_key(s, j, j->executed_s + ran);
	cost = to_key((double)s->cfg.restart_overhead_s, j);
	return k - AIDC_MIN(cost, k);
}

/* ---- wake-ups: quantum boundaries and starvation ---------------------------------- */

#define QUANTUM_FLAG ((uint64_t)1 << 63)

static void push_edge(struct sched *s, uint32_t h, int64_t now_s)
{
	const struct sched_job *j = &s->jobs[h];
	int64_t run = sched_job_run_s(j, now_s), next = sched_gittins_next_edge_s(run);

	if (next == INT64_MAX || j->starved ||
	    (s->cfg.gittins_max_preempt && j->preemptions >= s->cfg.gittins_max_preempt))
		return;
	aidc_heap_push(&s->demote, now_s + (next - run), j->seq,
		       h | (uint64_t)(j->run_no & 0x7fffffffu) << 32);
}

void sched_gittins_started(struct sched *s, uint32_t h, int64_t now_s)
{
	const struct sched_job *j = &s->jobs[h];

	if (s->cfg.order != SCHED_ORDER_GITTINS)
		return;
	push_edge(s, h, now_s);
	if (s->cfg.gittins_quantum_s > 0 && !j->starved)
		aidc_heap_push(&s->demote, now_s + s->cfg.gittins_quantum_s, j->seq,
			       h | (uint64_t)(j->run_no & 0x7fffffffu) << 32 | QUANTUM_FLAG);
}

void sched_gittins_queued(struct sched *s, uint32_t h, int64_t now_s)
{
	struct sched_job *j = &s->jobs[h];
	int64_t wait;
	double rel;

	if (s->cfg.order != SCHED_ORDER_GITTINS)
		return;
	j->git_pre_bucket = (uint8_t)bucket_of(j->executed_s);
	if (!s->cfg.gittins_starve_s || j->starved)
		return;
	/* k1 / units = the effective remaining time R in seconds */
	rel = (double)s->cfg.gittins_starve_factor * (double)s->hot[h].k1 / (double)units(j);
	wait = rel >= (double)AIDC_MAX_DURATION_S ? AIDC_MAX_DURATION_S : (int64_t)rel;
	wait = AIDC_MAX(wait, s->cfg.gittins_starve_s);
	aidc_heap_push(&s->promote, now_s + wait, j->seq, h | (uint64_t)j->enq_no << 32);
}

static bool run_entry_valid(const struct sched *s, uint64_t v)
{
	uint32_t h = (uint32_t)v, no = (uint32_t)(v >> 32) & 0x7fffffffu;

	return h < s->njob_slots && s->jobs[h].live && s->jobs[h].running &&
	       (s->jobs[h].run_no & 0x7fffffffu) == no;
}

static bool wait_entry_valid(const struct sched *s, uint64_t v)
{
	uint32_t h = (uint32_t)v, no = (uint32_t)(v >> 32);

	return h < s->njob_slots && s->jobs[h].live && !s->jobs[h].running &&
	       s->jobs[h].enq_no == no && !s->jobs[h].starved;
}

/* Does partition p have a starved job that has not ended yet (waiting or running)? */
static bool starved_live(const struct sched *s, const struct sched_partition *p)
{
	const struct sched_job *j;

	if (p->git_starved >= s->njob_slots)
		return false;
	j = &s->jobs[p->git_starved];
	return j->live && j->starved && j->seq == p->git_starved_seq;
}

/* With gittins_window the class distributions move, so the keys of waiting
 * jobs (computed when they were queued) go stale: at most every
 * GIT_REKEY_S, if a job has finished since, every pending job's key is
 * computed again and each queue sorted again (O(pending x (levels + buckets))
 * plus the sort; starved jobs keep theirs). */
#define GIT_REKEY_S 3600

/* sched_gittins_key of pending job h during a re-keying: most waiting jobs
 * have not run, so their class's index at run time 0 is computed once per
 * re-keying (the same value: histories do not change during one). */
static int64_t rekey_key(struct sched *s, uint32_t h)
{
	const struct sched_job *j = &s->jobs[h];
	struct sched_gclass *c;

	if (j->starved || j->executed_s >= 1 || s->git.prior_others || s->git.prior_self ||
	    !(c = (struct sched_gclass *)class_for(s, j)))
		return sched_gittins_key(s, j, j->executed_s);
	if (c->memo_no != s->git.rekey_no) {
		c->memo_r0 = inv_index(c, 0);
		c->memo_no = s->git.rekey_no;
	}
	return to_key(c->memo_r0, j);
}

static void rekey(struct sched *s, int64_t now_s)
{
	if (!s->cfg.gittins_window || s->git.fed == s->git.rekey_fed ||
	    (s->git.rekey_started && now_s - s->git.rekey_t < GIT_REKEY_S))
		return;
	if (!s->git.rekey_started) {
		/* the first pass: keys were computed when their jobs were queued; the
		 * first re-keying is an hour later */
		s->git.rekey_started = true;
		s->git.rekey_t = now_s;
		s->git.rekey_fed = s->git.fed;
		return;
	}
	s->git.rekey_fed = s->git.fed;
	s->git.rekey_t = now_s;
	s->git.rekey_no++;
	for (uint32_t part = 0; part < s->nparts; part++) {
		struct sched_partition *p = &s->parts[part];

		for (size_t i = p->qhead; i < p->qn; i++)
			s->hot[p->q[i]].k1 = rekey_key(s, p->q[i]);
		for (size_t i = 0; i < p->ninbox; i++)
			s->hot[p->inbox[i]].k1 = rekey_key(s, p->inbox[i]);
		sched_queue_sort(s, p);
		sched_queue_merge(s, p);
	}
}

/* Due quantum boundaries schedule the next one (the pass itself recomputes
 * running keys); due starvation deadlines move their job to the starved tier.
 * Stale entries at the top are dropped so sched_next_wakeup stays exact. */
void sched_gittins_tick(struct sched *s, int64_t now_s)
{
	struct aidc_heap_item it;
	const struct aidc_heap_item *top;
	struct sched_partition *p;

	rekey(s, now_s);
	while ((top = aidc_heap_peek(&s->demote)) != NULL &&
	       (top->key <= now_s || !run_entry_valid(s, top->value))) {
		aidc_heap_pop(&s->demote, &it);
		if (it.key <= now_s && run_entry_valid(s, it.value) && !(it.value & QUANTUM_FLAG))
			push_edge(s, (uint32_t)it.value, now_s);
	}
	while ((top = aidc_heap_peek(&s->promote)) != NULL &&
	       (top->key <= now_s || !wait_entry_valid(s, top->value))) {
		bool ok = wait_entry_valid(s, top->value);
		uint32_t h;

		aidc_heap_pop(&s->promote, &it);
		if (!ok)
			continue;
		h = (uint32_t)it.value;
		p = &s->parts[s->jobs[h].part];
		if (starved_live(s, p)) {
			/* one starved job at a time per partition, until it ends: try again
			 * later */
			aidc_heap_push(&s->promote, now_s + AIDC_MAX(s->cfg.gittins_starve_s / 8, 1),
				       it.tie, it.value);
			continue;
		}
		sched_queue_remove(s, h);
		s->jobs[h].starved = true;
		p->git_starved = h;
		p->git_starved_seq = s->jobs[h].seq;
		sched_queue_push(s, h, now_s);
	}
}
