/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sched_pass: one scheduling pass over every partition's queue, with the
 * blocking modes (STRICT head-of-line, EASY backfill, SKIP), preemption for
 * the preemptive orders, and the decision list.
 *
 * Per partition, in queue order (queue.c):
 *   - a job that can never fit is skipped (NEVER_FITS) and blocks nothing;
 *   - a job that fits starts (START, resources taken at once);
 *   - the first job that does not fit is the head: under SRTF, TIRESIAS,
 *     PRIORITY and GITTINS it may preempt running preemptible jobs whose current key is
 *     strictly worse (PREEMPT decisions, nothing changed: the driver stops and
 *     requeues them, then passes again), only if it then fits (a head that
 *     cannot start anyway stops nobody). Then
 *       STRICT stops the partition's queue there;
 *       with victims outstanding (EASY and SKIP): the placement the head gets
 *         once they stop is its reservation at now (RESERVE at now), so no
 *         later job takes the room preemption makes: the head starts in the
 *         driver's next pass and its victims cannot be restarted before it
 *         (before this, backfill took that room, the head preempted again and
 *         the victims were backfilled: an endless loop within one time step);
 *       else EASY computes when the head can start if running jobs end at their
 *         estimates (the shadow time, sched_will_run) and where (the
 *         reservation, RESERVE decision); later jobs still start if they end
 *         by the shadow time (now + estimate <= shadow), or if they fit while
 *         the reservation's devices, CPU and memory are held back;
 *       SKIP tries every later job (greedy; big jobs may starve).
 * Capacity only shrinks during a pass, so a failed shape is remembered (memo)
 * and any job that needs at least as much of everything in a subset of its
 * models is rejected without a placement attempt (whole-device jobs under
 * CONSOLIDATE/SPREAD; identical shapes only under the other built-in
 * policies; never under fractional policies, which may be randomized).
 *
 * A quiet pass (the forecast's copy, s->quiet_tail: its reasons are never
 * read) stops walking a queue once every shape queued is known to fail for
 * the rest of the pass (tail_dead): the jobs left keep their old reasons.
 *
 * Cost: O(queue merge) + per visited job O(1) (its shape's answers) or one
 * placement attempt; STRICT visits only the jobs that start plus the head;
 * EASY adds one will-run (O(k log k) for the k running jobs released, +
 * placement attempts) per partition and O(|reservation|) each time the
 * held-back view is switched; preemption O(R log R) + one placement attempt
 * per victim considered.
 */
#include "sched/sched_int.h"

/* ---- decisions ------------------------------------------------------------------ */

void sched_decisions_init(struct sched_decisions *d)
{
	memset(d, 0, sizeof *d);
}

void sched_decisions_reset(struct sched_decisions *d)
{
	d->n = 0;
	d->nallocs = 0;
}

void sched_decisions_release(struct sched_decisions *d)
{
	aidc_free(d->v);
	aidc_free(d->allocs);
	sched_decisions_init(d);
}

int sched_decide(struct sched_decisions *d, enum sched_decision_kind kind, const struct sched *s,
		 uint32_t h, uint32_t for_job, int64_t at_s, const struct sched_alloc *a,
		 uint32_t n)
{
	struct sched_decision *x;

	AIDC_GROW(d->v, d->cap, d->n + 1);
	AIDC_GROW(d->allocs, d->cap_allocs, d->nallocs + n + 1);
	x = &d->v[d->n++];
	x->kind = kind;
	x->job = h;
	x->job_id = s->jobs[h].id;
	x->for_job = for_job;
	x->at_s = at_s;
	x->first_alloc = d->nallocs;
	x->nalloc = n;
	if (n)
		memcpy(d->allocs + d->nallocs, a, n * sizeof *a);
	d->nallocs += n;
	return 0;
}

/* ---- failed-shape memo ------------------------------------------------------------ */

static uint64_t eff_mask(const struct sched *s, const struct sched_job *j)
{
	return j->task.model_mask ? j->task.model_mask : sched_all_models(s);
}

static bool memo_usable(const struct sched *s)
{
	return !sched_frag_policy(s->cfg.placement);
}

/* Dominance is safe only where a policy finds a placement whenever the free
 * capacity admits one (CONSOLIDATE and SPREAD for whole devices). */
static bool memo_dominates(const struct sched *s, const struct sched_job *j)
{
	return (s->cfg.placement == SCHED_PLACE_CONSOLIDATE ||
		s->cfg.placement == SCHED_PLACE_SPREAD) &&
	       j->task.ndev > 0 && j->task.dev_milli == AIDC_DEVICE_MILLI;
}

/* Whether an entry of the memo from entry `from` on rejects job j's shape. */
static bool memo_fails(const struct sched *s, const struct sched_job *j, bool blocked,
		       uint32_t from)
{
	const struct sched_memo *m = &s->memo;
	uint64_t mask = eff_mask(s, j);
	bool dom = memo_dominates(s, j) && !j->nnodes && !j->per_node;

	if (!memo_usable(s))
		return false;
	for (uint32_t i = from; i < m->n; i++) {
		const struct sched_memo_ent *f = &m->v[i];
		if (f->blocked && !blocked)
			continue;
		if (dom && (f->nnodes | f->per_node) == 0) {
			if (j->ntasks >= f->ntasks && j->task.ndev >= f->ndev &&
			    f->dev_milli == AIDC_DEVICE_MILLI &&
			    j->task.cpu_milli >= f->cpu_milli && j->task.mem_mib >= f->mem_mib &&
			    (mask & ~f->mask) == 0)
				return true;
		} else if (j->ntasks == f->ntasks && j->nnodes == f->nnodes &&
			   j->per_node == f->per_node && j->task.ndev == f->ndev &&
			   j->task.dev_milli == f->dev_milli && j->task.cpu_milli == f->cpu_milli &&
			   j->task.mem_mib == f->mem_mib && mask == f->mask) {
			return true;
		}
	}
	return false;
}

/* Remembers j's failed shape; false when the memo cannot (policy, full). */
static bool memo_add(struct sched *s, const struct sched_job *j, bool blocked)
{
	struct sched_memo *m = &s->memo;
	struct sched_memo_ent *f;

	/* An exclusive job's failure says nothing of a sharing job's (it may use
	 * nodes that hold tasks); the converse holds, so only it is remembered. */
	if (!memo_usable(s) || m->n >= SCHED_MEMO_MAX || j->task.exclusive)
		return false;
	/* Nor is a job's with a node filter (-w/-x): the nodes it may not use
	 * can hold other jobs of its shape. Its lookups stay sound (a filter only
	 * takes nodes away). */
	if (j->filter)
		return false;
	f = &m->v[m->n++];
	f->ntasks = j->ntasks;
	f->nnodes = j->nnodes;
	f->per_node = j->per_node;
	f->ndev = j->task.ndev;
	f->dev_milli = j->task.dev_milli;
	f->cpu_milli = j->task.cpu_milli;
	f->mem_mib = j->task.mem_mib;
	f->mask = eff_mask(s, j);
	f->blocked = blocked;
	return true;
}

/* ---- per-shape answers (equivalence classes) -------------------------------------- */

/* sched_never_fits of pending job h, once per shape and partition pass (the
 * partition's nodes do not change during a pass). */
static bool job_never_fits(struct sched *s, uint32_t h)
{
	struct sched_shape *sh = sched_shape_of(s, h);
	struct sched_job pj;

	if (!sh)
		return sched_never_fits(s, &s->jobs[h]);
	if (sh->nf_stamp != s->pp_stamp) {
		sched_shape_proto(sh, &pj);
		sh->nf = sched_never_fits(s, &pj);
		sh->nf_stamp = s->pp_stamp;
	}
	return sh->nf;
}

/* memo_fails of pending job h. The memo only grows during a partition pass, so
 * a shape it rejected stays rejected and only entries added since the shape's
 * last look need checking: O(new entries) per job instead of O(memo). */
static bool job_memo_fails(struct sched *s, uint32_t h, bool blocked)
{
	struct sched_shape *sh = sched_shape_of(s, h);
	struct sched_job pj;
	unsigned b = blocked;
	bool f;

	if (!sh)
		return memo_fails(s, &s->jobs[h], blocked, 0);
	if (sh->fail_stamp[b] == s->pp_stamp)
		return true;
	if (sh->scan_stamp[b] != s->pp_stamp) {
		sh->scan_stamp[b] = s->pp_stamp;
		sh->scanned[b] = 0;
	}
	if (sh->scanned[b] == s->memo.n)
		return false;
	sched_shape_proto(sh, &pj);
	f = memo_fails(s, &pj, blocked, sh->scanned[b]);
	sh->scanned[b] = s->memo.n;
	if (f)
		sh->fail_stamp[b] = s->pp_stamp;
	return f;
}

/* Whether any group may hold or reclaim: groups without a limit or quota
 * (sched_quota_admits and sched_quota_may_reclaim always say yes and no). */
static bool groups_limit(const struct sched *s)
{
	return s->no_fast_path ? s->ngroups > 0 : s->ngroups_limited > 0;
}

/* ---- EASY reservation: hold back / give back the head's planned resources ---------- */

/* An exclusive head's reserved node is held whole: every free device, CPU
 * and memory (holding it again holds nothing more), so a blocked job cannot
 * start there and leave it non-empty at the shadow time. */
static void resv_hold_node(struct sched *s, struct sched_resv *r, uint32_t node)
{
	const struct sched_node *n = &s->nodes[node];
	struct sched_resv_hold hd = {node, SCHED_NO_DEVICE, 0, n->cpu_free_milli, n->mem_free_mib};

	for (uint32_t i = 0; i < n->ndev; i++) {
		uint32_t f = s->devs[n->first_dev + i].free_milli;
		if (!f)
			continue;
		AIDC_GROW(r->held, r->cap_held, (size_t)r->nheld + 1);
		r->held[r->nheld++] = (struct sched_resv_hold){node, n->first_dev + i, f, 0, 0};
		sched_dev_change(s, n->first_dev + i, (int32_t)f, 0);
	}
	if (hd.cpu_milli || hd.mem_mib) {
		AIDC_GROW(r->held, r->cap_held, (size_t)r->nheld + 1);
		r->held[r->nheld++] = hd;
		sched_node_change(s, node, hd.cpu_milli, (int64_t)hd.mem_mib, 0);
	}
}

static void resv_hold(struct sched *s)
{
	struct sched_resv *r = &s->resv;
	const struct sched_job *head = &s->jobs[r->job];

	r->nheld = 0;
	for (uint32_t i = 0; i < r->nalloc; i++) {
		const struct sched_alloc *a = &r->allocs[i];
		if (head->task.exclusive && (i == 0 || a->node != r->allocs[i - 1].node))
			resv_hold_node(s, r, a->node);
		struct sched_resv_hold hd = {a->node, SCHED_NO_DEVICE, 0, 0, 0};
		if (a->dev != SCHED_NO_DEVICE) {
			hd.dev = a->dev;
			hd.milli = AIDC_MIN(s->devs[a->dev].free_milli, a->milli);
			if (hd.milli) {
				AIDC_GROW(r->held, r->cap_held, (size_t)r->nheld + 1);
				r->held[r->nheld++] = hd;
				sched_dev_change(s, hd.dev, (int32_t)hd.milli, 0);
			}
		}
		if (i == 0 || a->task != r->allocs[i - 1].task) {
			const struct sched_node *n = &s->nodes[a->node];
			hd.dev = SCHED_NO_DEVICE;
			hd.milli = 0;
			hd.cpu_milli = AIDC_MIN(n->cpu_free_milli, head->task.cpu_milli);
			hd.mem_mib = AIDC_MIN(n->mem_free_mib, head->task.mem_mib);
			if (hd.cpu_milli || hd.mem_mib) {
				AIDC_GROW(r->held, r->cap_held, (size_t)r->nheld + 1);
				r->held[r->nheld++] = hd;
				sched_node_change(s, hd.node, hd.cpu_milli, (int64_t)hd.mem_mib, 0);
			}
		}
	}
	r->blocked = true;
}

static void resv_unhold(struct sched *s)
{
	struct sched_resv *r = &s->resv;

	while (r->nheld) {
		const struct sched_resv_hold *hd = &r->held[--r->nheld];
		if (hd->dev != SCHED_NO_DEVICE)
			sched_dev_change(s, hd->dev, -(int32_t)hd->milli, 0);
		else
			sched_node_change(s, hd->node, -(int64_t)hd->cpu_milli,
					  -(int64_t)hd->mem_mib, 0);
	}
	r->blocked = false;
}

static void resv_view(struct sched *s, bool blocked)
{
	if (blocked && !s->resv.blocked)
		resv_hold(s);
	else if (!blocked && s->resv.blocked)
		resv_unhold(s);
}

/* ---- preemption ------------------------------------------------------------------- */

static int cmp_victim(const void *a, const void *b)
{
	const struct sched_endev *x = a, *y = b;
	/* least important first: larger key, then later submit sequence */
	if (x->end_s != y->end_s)
		return x->end_s > y->end_s ? -1 : 1;
	return x->seq > y->seq ? -1 : x->seq < y->seq;
}

static void take_back(struct sched *s, uint32_t h)
{
	const struct sched_job *r = &s->jobs[h];
	sched_allocs_apply(s, r->allocs, r->nalloc, &r->task, 1);
}

static void give_up(struct sched *s, uint32_t h)
{
	const struct sched_job *r = &s->jobs[h];
	sched_allocs_apply(s, r->allocs, r->nalloc, &r->task, -1);
}

/* Would h fit now? Leaves nothing changed. */
static bool fits_now(struct sched *s, uint32_t h)
{
	uint32_t n;

	if (sched_place_take(s, h, &n))
		return false;
	sched_allocs_apply(s, s->scr, n, &s->jobs[h].task, -1);
	return true;
}

/*
 * Chooses victims for pending job h among the partition's running preemptible
 * jobs whose key now is strictly worse, least important first, until h fits;
 * then spares every victim h does not need (in choice order). Appends PREEMPT
 * decisions; changes nothing else. Returns the number of victims.
 */
static uint32_t preempt_for(struct sched *s, struct sched_partition *p, uint32_t h, int64_t now_s,
			    struct sched_decisions *out, bool by_order)
{
	struct sched_job *j = &s->jobs[h];
	struct sched_hot *x = &s->hot[h];
	uint32_t nc = 0, used = 0, nv = 0;
	bool ok = false;

	if (x->victims_pending) {
		if (groups_limit(s))
			sched_quota_reclaim_wait(s, h);
		return 0;
	}
	/* MULTIFACTOR preempts only by QoS rights (Slurm's preempt/qos). */
	by_order = by_order && (sched_order_preemptive(s->cfg.order) ||
				(s->cfg.order == SCHED_ORDER_MULTIFACTOR &&
				 (j->flags & SCHED_JOB_QOS_PREEMPT)));
	/* Quota reclaim (quota.c): a job within its nominal quota preempts
	 * borrowing jobs of sibling groups whatever the queue order. */
	bool reclaim = groups_limit(s) && sched_quota_may_reclaim(s, h);
	if (!by_order && !reclaim)
		return 0;
	AIDC_GROW(s->ends, s->cap_ends, (size_t)p->nrunning + 1);
	for (uint32_t i = 0; i < p->nrunning; i++) {
		const struct sched_job *r = &s->jobs[p->running[i]];
		bool quota = reclaim && sched_quota_victim(s, r, j);
		bool may = by_order && (r->flags & SCHED_JOB_PREEMPTIBLE) &&
			   (!(j->flags & SCHED_JOB_QOS_PREEMPT) ||
			    ((j->preempt_qos >> r->qos_class) & 1u)); /* QoS rights */
		if (!may && !quota)
			continue; /* before its key: that can cost (GITTINS) */
		if (r->victim && r->victim_for < s->njob_slots && s->jobs[r->victim_for].live &&
		    s->jobs[r->victim_for].seq == r->victim_for_seq)
			continue; /* already chosen for a job that still waits */
		int64_t k = sched_running_k1(s, r, now_s);
		if (k <= x->k1 && !quota)
			continue;
		s->ends[nc].end_s = k;
		s->ends[nc].seq = r->seq;
		s->ends[nc].job = p->running[i];
		nc++;
	}
	if (!nc)
		return 0;
	qsort(s->ends, nc, sizeof *s->ends, cmp_victim);
	while (used < nc && !ok) {
		give_up(s, s->ends[used++].job);
		ok = fits_now(s, h);
	}
	if (ok) {
		/* Spare victims that turn out unnecessary (job stays in the list with
		 * job = UINT32_MAX). */
		for (uint32_t i = 0; i + 1 < used; i++) {
			take_back(s, s->ends[i].job);
			if (fits_now(s, h)) {
				s->ends[i].job = UINT32_MAX;
			} else {
				give_up(s, s->ends[i].job);
			}
		}
	}
	for (uint32_t i = used; i-- > 0;)
		if (s->ends[i].job != UINT32_MAX)
			take_back(s, s->ends[i].job);
	if (!ok)
		return 0;
	for (uint32_t i = 0; i < used; i++) {
		struct sched_job *v;
		if (s->ends[i].job == UINT32_MAX)
			continue;
		v = &s->jobs[s->ends[i].job];
		v->victim = true;
		v->victim_for = h;
		v->victim_for_seq = j->seq;
		sched_decide(out, SCHED_DECIDE_PREEMPT, s, s->ends[i].job, h, now_s, NULL, 0);
		nv++;
	}
	x->victims_pending = nv;
	return nv;
}

/*
 * Reserves for pending job h, at now, the placement it gets once its outstanding
 * victims (running jobs chosen for it and not yet stopped) are stopped, and
 * makes that the partition's reservation (shadow = now). Every later job of
 * the pass then sees the reservation's free devices, CPU and memory held back
 * (no estimate ends by now), so backfill and SKIP cannot take the room the
 * preemption was made for, and h starts in the driver's next pass. Without the
 * hold a later job took that room, h preempted again and the first victims
 * were backfilled in turn: a loop within one time step. Returns false (nothing
 * reserved) when h does not fit even with its victims stopped (e.g. a node
 * went down meanwhile). Nothing changed. Cost: O(R) + one placement.
 */
static bool resv_for_victims(struct sched *s, struct sched_partition *p, uint32_t h)
{
	struct sched_resv *r = &s->resv;
	const struct sched_job *j = &s->jobs[h];
	uint32_t n;
	bool ok;

	for (uint32_t i = 0; i < p->nrunning; i++) {
		const struct sched_job *v = &s->jobs[p->running[i]];
		if (v->victim && v->victim_for == h && v->victim_for_seq == j->seq)
			give_up(s, p->running[i]);
	}
	ok = sched_place_take(s, h, &n) == 0;
	if (ok) {
		AIDC_GROW(r->allocs, r->cap_allocs, n ? n : 1);
		memcpy(r->allocs, s->scr, n * sizeof *s->scr);
		r->nalloc = n;
		sched_allocs_apply(s, s->scr, n, &j->task, -1);
	}
	for (uint32_t i = 0; i < p->nrunning; i++) {
		const struct sched_job *v = &s->jobs[p->running[i]];
		if (v->victim && v->victim_for == h && v->victim_for_seq == j->seq)
			take_back(s, p->running[i]);
	}
	return ok;
}

/* ---- the pass --------------------------------------------------------------------- */

static void keep(struct sched *s, enum sched_reason r, struct sched_partition *p, size_t *w,
		 uint32_t h)
{
	s->hot[h].reason = (uint8_t)r;
	s->pp_min_est = AIDC_MIN(s->pp_min_est, s->hot[h].est);
	p->q[(*w)++] = h;
}

/* ---- stopping early (the forecast's copy) ------------------------------------------ */

/* No job of h's shape can start in the rest of this partition pass: neither
 * one that is blocked (sees the reservation held back) nor, with unblocked,
 * one that is not. */
static void shape_dead(struct sched *s, uint32_t h, bool unblocked)
{
	struct sched_shape *sh = sched_shape_of(s, h);
	if (!sh)
		return;
	for (int b = unblocked ? 0 : 1; b < 2; b++)
		if (sh->dead_stamp[b] != s->pp_stamp) {
			sh->dead_stamp[b] = s->pp_stamp;
			s->pp_dead[b]++;
		}
}

/*
 * Whether no job left in the queue can start in this pass, so that a quiet
 * pass (s->quiet_tail: its reasons are never read) stops walking it: every
 * shape queued is dead for blocked jobs, and for unblocked ones too unless
 * every job queued is blocked (the least estimate queued ends after the
 * shadow). Jobs turned away change nothing but their reason (no tenancy
 * groups: no quota holds, no reclaim), so the decisions are the full walk's.
 */
static bool tail_dead(const struct sched *s, const struct sched_partition *p, int64_t now_s)
{
	if (!s->quiet_tail || s->no_fast_path || s->ngroups || p->qnoshape ||
	    s->pp_dead[1] < p->qshapes)
		return false;
	return s->pp_dead[0] >= p->qshapes ||
	       (s->resv.active && p->qmin_est > s->resv.shadow_s - now_s);
}

/* The queue head h cannot start: it preempts lower-priority running jobs when
 * its order allows, and is PREEMPTING while victims are chosen for it. */
static void head_preempt(struct sched *s, struct sched_partition *p, uint32_t h, int64_t now_s,
			 struct sched_decisions *out)
{
	struct sched_hot *x = &s->hot[h];
	if (preempt_for(s, p, h, now_s, out, true) || x->victims_pending)
		x->reason = SCHED_REASON_PREEMPTING;
}

/* A job behind the head that cannot start: with tenancy groups it may still
 * reclaim its quota from borrowers (never by the order's key). */
static void behind_reclaim(struct sched *s, struct sched_partition *p, uint32_t h, int64_t now_s,
			   struct sched_decisions *out)
{
	struct sched_hot *x = &s->hot[h];
	if (s->ngroups && (preempt_for(s, p, h, now_s, out, false) || x->victims_pending))
		x->reason = SCHED_REASON_PREEMPTING;
}

/* EASY and SKIP: the head h that cannot start preempts if it may, then
 * reserves the room its victims free (both modes) or, under EASY, the room it
 * will run in, which the jobs behind it must not delay. False when the head
 * fits no node up now: then the next job that cannot start is the head. */
static bool head_reserve(struct sched *s, struct sched_partition *p, uint32_t h, int64_t now_s,
			 struct sched_decisions *out)
{
	struct sched_resv *resv = &s->resv;
	struct sched_hot *x = &s->hot[h];
	int64_t t = now_s;
	head_preempt(s, p, h, now_s, out);
	/* EASY and SKIP alike: the room preemption frees is h's, from now. */
	bool for_victims = x->victims_pending && resv_for_victims(s, p, h);
	if (!for_victims && s->cfg.blocking != SCHED_BLOCK_EASY)
		return true; /* SKIP reserves nothing */
	if (!for_victims && sched_will_run(s, h, now_s, &t, resv) != 0) {
		/* It fits the partition (sched_never_fits said so), only not the
		 * nodes up now: it waits for resources (nodes that return), it is
		 * not never_fits. */
		x->reason = SCHED_REASON_RESOURCES;
		return false;
	}
	resv->active = true;
	resv->job = h;
	resv->shadow_s = t;
	sched_decide(out, SCHED_DECIDE_RESERVE, s, h, UINT32_MAX, t, NULL, 0);
	return true;
}

/* After a pass over q[qhead .. i): kept jobs sit in q[qhead .. w), unvisited
 * ones in q[i .. qn). Closes the gap by moving the kept ones up (STRICT keeps
 * few, so this is cheap). */
static void close_gap(struct sched_partition *p, size_t i, size_t w)
{
	size_t nk = w - p->qhead;
	if (i < p->qn) {
		memmove(p->q + i - nk, p->q + p->qhead, nk * sizeof *p->q);
		p->qhead = i - nk;
	} else {
		p->qn = w;
	}
}

static void pass_partition(struct sched *s, struct sched_partition *p, int64_t now_s,
			   struct sched_decisions *out)
{
	struct sched_resv *resv = &s->resv;
	size_t i, w;
	bool head_seen = false;

	sched_queue_merge(s, p);
	resv->active = false;
	resv->blocked = false;
	s->memo.n = 0;
	s->pp_stamp++;
	s->pp_dead[0] = s->pp_dead[1] = 0;
	s->pp_min_est = INT64_MAX;
	w = p->qhead;
	bool stopped = false;
	/* A job turned away touches only s->hot[h] and its shape, not its record. */
	for (i = p->qhead; i < p->qn; i++) {
		uint32_t h = p->q[i], n;
		struct sched_hot *x = &s->hot[h];
		bool blocked = false;

		if (tail_dead(s, p, now_s)) {
			stopped = true;
			break;
		}
		sched_quota_restore(s); /* the previous job's models */
		x->reason_pass = s->npasses;
		if (job_never_fits(s, h)) {
			keep(s, SCHED_REASON_NEVER_FITS, p, &w, h);
			shape_dead(s, h, true);
			continue;
		}
		/* Held by a group limit or quota: waits without blocking others. */
		if (groups_limit(s) && !sched_quota_admits(s, h)) {
			keep(s, (enum sched_reason)x->reason, p, &w, h);
			sched_quota_cap_reclaim(s, h, now_s, out); /* at its organization's cap */
			continue;
		}
		if (resv->active)
			blocked = x->est > resv->shadow_s - now_s;
		if (job_memo_fails(s, h, blocked)) {
			keep(s, blocked ? SCHED_REASON_RESERVED : SCHED_REASON_RESOURCES, p, &w, h);
			shape_dead(s, h, !blocked);
			behind_reclaim(s, p, h, now_s, out);
			continue;
		}
		struct sched_job *j = &s->jobs[h];
		if (resv->active)
			resv_view(s, blocked);
		if (sched_place_take(s, h, &n) == 0) {
			sched_decide(out, SCHED_DECIDE_START, s, h, UINT32_MAX, now_s, s->scr, n);
			sched_job_mark_started(s, h, now_s, s->scr, n);
			sched_shape_queued(s, h, -1); /* not kept: it leaves the queue */
			continue;
		}
		if (memo_add(s, j, blocked))
			shape_dead(s, h, !blocked);
		if (head_seen) {
			keep(s, blocked ? SCHED_REASON_RESERVED : SCHED_REASON_RESOURCES, p, &w, h);
			behind_reclaim(s, p, h, now_s, out);
			continue;
		}
		/* j is the head: the first job of the partition that cannot start. */
		keep(s, SCHED_REASON_RESOURCES, p, &w, h);
		head_seen = true;
		if (s->cfg.blocking == SCHED_BLOCK_STRICT) {
			head_preempt(s, p, h, now_s, out);
			i++;
			break;
		}
		head_seen = head_reserve(s, p, h, now_s, out);
	}
	if (resv->active)
		resv_view(s, false);
	resv->active = false;
	if (i >= p->qn && !stopped)
		p->qmin_est = s->pp_min_est; /* every job queued was kept or started */
	close_gap(p, i, w);
}

int sched_pass(struct sched *s, int64_t now_s, struct sched_decisions *out, struct aidc_err *e)
{
	if (!out)
		return aidc_errf(e, AIDC_E_INVAL, "no decision list");
	sched_decisions_reset(out);
	if (now_s < s->now_last)
		now_s = s->now_last;
	if (now_s < AIDC_MIN_TIME_S || now_s > AIDC_MAX_TIME_S)
		return aidc_errf(e, AIDC_E_INVAL, "time %" PRId64 " out of range", now_s);
	s->now_last = now_s;
	s->npasses++;
	if (s->cfg.order == SCHED_ORDER_TIRESIAS)
		sched_tiresias_tick(s, now_s);
	else if (s->cfg.order == SCHED_ORDER_GITTINS)
		sched_gittins_tick(s, now_s);
	else if (s->cfg.order == SCHED_ORDER_MULTIFACTOR)
		sched_fs_tick(s, now_s);
	for (uint32_t part = 0; part < s->nparts; part++) {
		pass_partition(s, &s->parts[part], now_s, out);
		sched_quota_restore(s); /* its last job's models */
	}
	return 0;
}
