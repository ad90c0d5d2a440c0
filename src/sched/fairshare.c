/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fair share and multifactor priority in the scheduling core (docs/tenancy.md
 * "Fair share and multifactor priority"), in the spirit of Slurm's
 * priority/multifactor plugin with its Fair Tree algorithm.
 *
 * Usage. A job charges device-seconds (device units / 1000 x run time; a
 * CPU-only task counts as one device) to its fair-share group (the deepest of
 * its groups in the tree of parent links) and every ancestor of it, and to the
 * total. Usage decays with cfg.fs_half_life_s: every group's usage is kept
 * decayed to one time fs_t, and a charge made at t > fs_t is scaled up by
 * 2^((t - fs_t) / half-life) so that decaying it later to fs_t' is exact.
 * Running jobs are charged when they stop and at every recalculation.
 *
 * Fair Tree. For each group, among its siblings (same parent; the top level
 * are the groups without one):
 *   S = shares / sum of the siblings' shares        (norm_shares)
 *   U = usage / parent's usage (top: / all usage)    (norm_usage)
 *   level_fs = S / U  (DBL_MAX while U is 0)
 * The tree is walked depth first, siblings by level_fs descending (then group
 * id); the i-th leaf reached (a group without children, 0-based) of n leaves
 * gets the fair-share factor (n - i) / n, but a leaf whose level_fs path from
 * the top equals the previous leaf's (over their common length) shares its
 * rank (so leaves without usage all rank first), and an inner group shows the
 * rank of its first leaf. So every leaf of an under-served subtree ranks
 * above every leaf of an over-served one, as users do in Slurm's Fair Tree.
 *
 * Multifactor priority of a job (rounded to an integer; higher runs first):
 *   nice + w_age x min(age / max_age, 1) + w_fairshare x F(fair-share group)
 *        + w_size x device units / the partition's device units (capped at 1)
 *        + w_qos x qos_milli / 1000
 *        + w_partition x the partition's priority job factor / the highest
 * where nice is the job's own priority and age is measured at the last
 * recalculation (a job queued after it has age 0 until the next). Under
 * MULTIFACTOR the pass recalculates every cfg.prio_calc_period_s: decay,
 * charge running jobs, rank the tree, recompute every pending job's key and
 * re-sort each partition's queue. Cost O(G log G + R + J log J) for G groups,
 * R running and J pending jobs; between recalculations the pass is as cheap
 * as under PRIORITY. Determinism: the same calls give the same doubles and
 * every ordering ends in group id or the job order's tie-breaks.
 */
#include <float.h>
#include <math.h>

#include "sched/sched_int.h"

struct sched_fs_ent {
	double lfs;
	uint32_t id;
};

/* Device-seconds per second of run time of job j. */
static double job_rate(const struct sched *s, const struct sched_job *j)
{
	uint64_t u = sched_job_dev_milli(j);
	if (!u)
		u = (uint64_t)j->ntasks * AIDC_DEVICE_MILLI;
	else if (s->fs_charge && j->nalloc) {
		/* normalized units (hetero.c): each device's share x its model's
		 * charge; O(allocs) */
		double w = 0;
		for (uint32_t i = 0; i < j->nalloc; i++)
			if (j->allocs[i].dev != SCHED_NO_DEVICE)
				w += (double)j->allocs[i].milli *
				     s->fs_charge[s->devs[j->allocs[i].dev].model];
		return w / ((double)AIDC_DEVICE_MILLI * AIDC_DEVICE_MILLI);
	}
	return (double)u / AIDC_DEVICE_MILLI;
}

/* Number of ancestors of group g (bounded by ngroups + 1). */
static uint32_t depth_of(const struct sched *s, uint32_t g)
{
	uint32_t d = 0;
	for (int32_t p = s->groups[g].parent; p >= 0 && d <= s->ngroups; p = s->groups[p].parent)
		d++;
	return d;
}

/* The deepest of groups[0 .. n) (most ancestors; the later one on a tie), or
 * -1; depth: depth_of per group, precomputed (or NULL: walk the tree). */
static int32_t deepest(const struct sched *s, const uint32_t *groups, uint32_t n,
		       const uint32_t *depth)
{
	int32_t best = -1;
	uint32_t best_d = 0;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t d = depth ? depth[groups[k]] : depth_of(s, groups[k]);
		if (best < 0 || d >= best_d) {
			best = (int32_t)groups[k];
			best_d = d;
		}
	}
	return best;
}

/* The job's fair-share group: the deepest of its groups, or -1. */
static int32_t fs_group(const struct sched *s, const struct sched_job *j)
{
	return deepest(s, j->groups, j->ngroups, NULL);
}

/* Decays every usage from fs_t to t (t > fs_t). O(G). */
static void decay_to(struct sched *s, int64_t t)
{
	if (t <= s->fs_t)
		return;
	if (s->cfg.fs_half_life_s > 0) {
		double d = exp2(-(double)(t - s->fs_t) / (double)s->cfg.fs_half_life_s);
		for (uint32_t i = 0; i < s->ngroups; i++)
			s->groups[i].usage *= d;
		s->fs_total *= d;
	}
	s->fs_t = t;
}

/* Charges job h's run time from fs_charged_s to now_s. */
void sched_fs_charge(struct sched *s, uint32_t h, int64_t now_s)
{
	struct sched_job *j = &s->jobs[h];
	int64_t dt = now_s - j->fs_charged_s;
	if (dt <= 0)
		return;
	j->fs_charged_s = now_s;
	if (!s->fs_started) { /* first charge: start the clock here */
		s->fs_t = now_s;
		s->fs_started = true;
	}
	double scale = 1.0;
	if (s->cfg.fs_half_life_s > 0 && now_s > s->fs_t) {
		double x = (double)(now_s - s->fs_t) / (double)s->cfg.fs_half_life_s;
		if (x > 16) { /* keep the scale finite: decay everything first */
			decay_to(s, now_s);
			x = 0;
		}
		scale = exp2(x);
	}
	double a = job_rate(s, j) * (double)dt * scale;
	s->fs_total += a;
	for (int32_t g = fs_group(s, j), n = 0; g >= 0 && n <= (int32_t)s->ngroups;
	     g = s->groups[g].parent, n++)
		s->groups[g].usage += a;
}

static int cmp_ent(const void *a, const void *b)
{
	const struct sched_fs_ent *x = a, *y = b;
	if (x->lfs != y->lfs)
		return x->lfs > y->lfs ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Children lists by counting sort on the parent (slot G = the top level):
 * off[p] .. off[p + 1) index kids; each list normalized (shares and usage
 * against its siblings and parent) and sorted by level_fs.
 */
static void build_levels(struct sched *s, uint32_t *off, uint32_t *kids)
{
	uint32_t G = s->ngroups;
	memset(off, 0, ((size_t)G + 2) * sizeof *off);
	for (uint32_t i = 0; i < G; i++) {
		int32_t p = s->groups[i].parent;
		off[(p >= 0 ? (uint32_t)p : G) + 1]++;
	}
	for (uint32_t i = 0; i <= G; i++)
		off[i + 1] += off[i];
	/* off[p] .. off[p + 1): children of p; fill with a moving cursor. */
	for (uint32_t i = 0; i < G; i++) {
		int32_t p = s->groups[i].parent;
		uint32_t slot = p >= 0 ? (uint32_t)p : G;
		kids[off[slot]++] = i;
	}
	for (uint32_t i = G + 1; i-- > 0;)
		off[i + 1] = off[i];
	off[0] = 0;
	for (uint32_t p = 0; p <= G; p++) {
		uint32_t a = off[p], b = off[p + 1];
		double sum = 0, pu = p < G ? s->groups[p].usage : s->fs_total;
		for (uint32_t k = a; k < b; k++)
			sum += (double)s->groups[kids[k]].shares;
		for (uint32_t k = a; k < b; k++) {
			struct sched_group *g = &s->groups[kids[k]];
			g->norm_shares = sum > 0 ? (double)g->shares / sum : 0;
			g->norm_usage = pu > 0 ? g->usage / pu : 0;
			g->level_fs = g->norm_usage > 0 ? g->norm_shares / g->norm_usage : DBL_MAX;
			s->fs_ents[k - a] = (struct sched_fs_ent){g->level_fs, kids[k]};
		}
		qsort(s->fs_ents, b - a, sizeof *s->fs_ents, cmp_ent);
		for (uint32_t k = a; k < b; k++)
			kids[k] = s->fs_ents[k - a].id;
	}
}

/* Depth first over the levels built by build_levels; returns the number of
 * leaves ranked. */
static uint32_t rank_leaves(struct sched *s, const uint32_t *off, const uint32_t *kids,
			    uint32_t *stack)
{
	uint32_t G = s->ngroups;
	/* Depth first, pre-order; the stack holds positions in kids and depths,
	 * children pushed in reverse. Only leaves (groups without children) take
	 * a place in the ranking, as users do in Fair Tree. A leaf whose path of
	 * level_fs values from the top equals the previous leaf's (over their
	 * common length) ties with it and shares its rank: with no usage at all
	 * every leaf ranks first. An inner group shows its first leaf's rank. */
	uint32_t sp = 0, nleaves = 0, prev_d = 0, prev_rank = 0;
	bool have_prev = false;
	double *path = s->fs_path, *prev = s->fs_path + G;
	for (uint32_t i = 0; i < G; i++)
		s->groups[i].fs_rank = UINT32_MAX; /* unreachable (cannot happen: no cycles) */
	for (uint32_t k = off[G + 1]; k-- > off[G];) {
		stack[2 * sp] = k;
		stack[2 * sp++ + 1] = 0;
	}
	while (sp) {
		sp--;
		uint32_t k = stack[2 * sp], d = stack[2 * sp + 1], g = kids[k];
		struct sched_group *x = &s->groups[g];
		path[d] = x->level_fs;
		if (off[g + 1] == off[g]) {
			bool tie = have_prev;
			for (uint32_t i = 0; tie && i <= AIDC_MIN(d, prev_d); i++)
				tie = path[i] == prev[i];
			x->fs_rank = tie ? prev_rank : nleaves;
			nleaves++;
			prev_rank = x->fs_rank;
			prev_d = d;
			have_prev = true;
			memcpy(prev, path, ((size_t)d + 1) * sizeof *path);
			for (int32_t p = x->parent; p >= 0 && s->groups[p].fs_rank == UINT32_MAX;
			     p = s->groups[p].parent)
				s->groups[p].fs_rank = x->fs_rank;
		}
		for (uint32_t c = off[g + 1]; c-- > off[g];) {
			stack[2 * sp] = c;
			stack[2 * sp++ + 1] = d + 1;
		}
	}
	return nleaves;
}

/*
 * Normalizes shares and usage per level and ranks the tree (Fair Tree).
 * O(G log G); the walk uses an explicit stack.
 */
static void rank_tree(struct sched *s)
{
	uint32_t G = s->ngroups;
	if (!G)
		return;
	AIDC_GROW(s->fs_scr, s->cap_fs_scr, 4 * (size_t)G + 2);
	AIDC_GROW(s->fs_ents, s->cap_fs_ents, (size_t)G);
	AIDC_GROW(s->fs_path, s->cap_fs_path, 2 * (size_t)G);
	uint32_t *off = s->fs_scr, *kids = off + G + 2, *stack = kids + G; /* 2 x G */
	build_levels(s, off, kids);
	uint32_t nleaves = rank_leaves(s, off, kids, stack);
	for (uint32_t i = 0; i < G; i++) {
		struct sched_group *x = &s->groups[i];
		x->fs_factor =
		    x->fs_rank >= nleaves ? 0 : (double)(nleaves - x->fs_rank) / (double)nleaves;
	}
}

/* What a job's multifactor priority depends on: from its record (factors) or
 * from s->hot (the recalculation, which does not walk the job records). */
struct fs_in {
	int32_t nice, fs_group;
	int64_t submit_s;
	uint32_t part, qos_milli;
	uint64_t units;
};

static void factors_of(const struct sched *s, const struct fs_in *j, struct sched_prio *f)
{
	memset(f, 0, sizeof *f);
	f->at_s = s->prio_t;
	f->nice = j->nice;
	f->w_age = s->cfg.prio_weight_age;
	f->w_fairshare = s->cfg.prio_weight_fairshare;
	f->w_size = s->cfg.prio_weight_size;
	f->w_qos = s->cfg.prio_weight_qos;
	f->w_partition = s->cfg.prio_weight_partition;
	int64_t age = s->prio_valid ? s->prio_t - j->submit_s : 0;
	age = AIDC_MAX(age, 0);
	f->age = age >= s->cfg.prio_max_age_s ? 1.0 : (double)age / (double)s->cfg.prio_max_age_s;
	f->fs_group = j->fs_group;
	f->fairshare = f->fs_group >= 0 ? s->groups[f->fs_group].fs_factor : 0;
	uint64_t total = s->parts[j->part].use.dev_milli_total;
	uint64_t units = j->units;
	f->size = total ? AIDC_MIN(1.0, (double)units / (double)total) : 0;
	f->qos = (double)j->qos_milli / 1000.0;
	f->partition = s->part_prio_max ? (double)s->parts[j->part].prio_factor /
					      (double)s->part_prio_max
					: 0;
	double p = (double)j->nice + (double)f->w_age * f->age +
		   (double)f->w_fairshare * f->fairshare + (double)f->w_size * f->size +
		   (double)f->w_qos * f->qos + (double)f->w_partition * f->partition;
	f->priority = (int64_t)llround(p);
}

static void factors(const struct sched *s, const struct sched_job *j, struct sched_prio *f)
{
	struct fs_in in = {j->priority, fs_group(s, j), j->submit_s,
			   j->part,	    j->qos_milli,   sched_job_dev_milli(j)};
	factors_of(s, &in, f);
}

/* sched_fs_key of pending job h from s->hot (depth: depth_of per group). */
static int64_t hot_key(const struct sched *s, uint32_t h, const uint32_t *depth)
{
	const struct sched_hot *x = &s->hot[h];
	struct fs_in in = {x->priority, deepest(s, x->groups, x->ngroups, depth),
			   x->submit_s, x->part,
			   x->qos_milli, x->units};
	struct sched_prio f;
	factors_of(s, &in, &f);
	return -f.priority;
}

int sched_partition_set_priority(struct sched *s, uint32_t part, uint32_t factor,
				 struct aidc_err *e)
{
	if (part >= s->nparts)
		return aidc_errf(e, AIDC_E_INVAL, "no partition %u", part);
	if (factor > AIDC_MAX_PARTITION_PRIORITY)
		return aidc_errf(e, AIDC_E_INVAL, "partition %s: priority factor %u above %d",
				 s->parts[part].name, factor, AIDC_MAX_PARTITION_PRIORITY);
	s->parts[part].prio_factor = factor;
	s->part_prio_max = 0;
	for (uint32_t p = 0; p < s->nparts; p++)
		s->part_prio_max = AIDC_MAX(s->part_prio_max, s->parts[p].prio_factor);
	return 0;
}

int64_t sched_fs_key(const struct sched *s, const struct sched_job *j)
{
	struct sched_prio f;
	factors(s, j, &f);
	return -f.priority;
}

int sched_job_prio(const struct sched *s, uint32_t job, struct sched_prio *out)
{
	if (job >= s->njob_slots || !s->jobs[job].live)
		return AIDC_E_NOTFOUND;
	factors(s, &s->jobs[job], out);
	return 0;
}

int sched_group_share(const struct sched *s, uint32_t group, struct sched_group_share *out)
{
	if (group >= s->ngroups)
		return AIDC_E_NOTFOUND;
	const struct sched_group *g = &s->groups[group];
	double d = 1.0;
	/* usage as of the last recalculation's time */
	if (s->cfg.fs_half_life_s > 0 && s->prio_valid && s->prio_t > s->fs_t)
		d = exp2(-(double)(s->prio_t - s->fs_t) / (double)s->cfg.fs_half_life_s);
	*out = (struct sched_group_share){g->parent,	 g->shares,   g->norm_shares, g->usage * d,
					  g->norm_usage, g->level_fs, g->fs_factor,   g->fs_rank};
	return 0;
}

void sched_fairshare_update(struct sched *s, int64_t now_s)
{
	if (now_s < s->now_last)
		now_s = s->now_last;
	for (uint32_t part = 0; part < s->nparts; part++) {
		const struct sched_partition *p = &s->parts[part];
		for (uint32_t i = 0; i < p->nrunning; i++)
			sched_fs_charge(s, p->running[i], now_s);
	}
	if (!s->fs_started) {
		s->fs_t = now_s;
		s->fs_started = true;
	}
	decay_to(s, now_s);
	rank_tree(s);
	s->prio_t = now_s;
	s->prio_valid = true;
	if (s->cfg.order != SCHED_ORDER_MULTIFACTOR)
		return;
	/* New keys for every pending job (from s->hot, with each group's depth
	 * computed once), then each queue sorted again. */
	AIDC_GROW(s->fs_depth, s->cap_fs_depth, (size_t)s->ngroups + 1);
	for (uint32_t g = 0; g < s->ngroups; g++)
		s->fs_depth[g] = depth_of(s, g);
	for (uint32_t part = 0; part < s->nparts; part++) {
		struct sched_partition *p = &s->parts[part];
		/* new keys for the sorted part and the inbox; one sort of the first,
		 * then the merge sorts the inbox into it */
		for (size_t i = p->qhead; i < p->qn; i++)
			s->hot[p->q[i]].k1 = hot_key(s, p->q[i], s->fs_depth);
		for (size_t i = 0; i < p->ninbox; i++)
			s->hot[p->inbox[i]].k1 = hot_key(s, p->inbox[i], s->fs_depth);
		sched_queue_sort(s, p);
		sched_queue_merge(s, p);
	}
}

void sched_fs_tick(struct sched *s, int64_t now_s)
{
	if (s->cfg.order != SCHED_ORDER_MULTIFACTOR)
		return;
	if (s->prio_valid && now_s - s->prio_t < s->cfg.prio_calc_period_s)
		return;
	sched_fairshare_update(s, now_s);
}

void sched_fs_release(struct sched *s)
{
	aidc_free(s->fs_scr);
	aidc_free(s->fs_ents);
	aidc_free(s->fs_path);
	s->fs_path = NULL;
	s->fs_scr = NULL;
	s->fs_ents = NULL;
}
