/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The QSSF-style duration predictor (Helios, SC'21: Quasi-Shortest-Service-
 * First). No oracle: a job's duration is predicted from the run times of
 * finished jobs that resemble it, looking at groups from the finest to the
 * coarsest and taking the first that has history:
 *   level 0  same user, same job name, same shape (device units)
 *   level 1  same user, same job name
 *   level 2  same user, same shape
 *   level 3  same user
 *   level 4  same partition (VC), same shape
 *   level 5  same partition
 *   level 6  same shape, any partition
 * An empty user or job name identifies nobody (levels 0-3 are skipped), so a
 * trace without users (Philly) predicts from its VC's history before the whole
 * cluster's: a VC's jobs resemble each other more than the cluster's do.
 * Statistic per group: the mean of the run times seen, which after
 * cfg.predict_window samples (default 10) becomes an exponentially weighted
 * mean with weight 1/window for the newest, so a group follows drift (recent
 * jobs predict better than a lifetime mean) while one outlier moves it by at
 * most 1/window; window 0 keeps the lifetime mean. No group with history: the
 * caller falls back to the time limit, then to cfg.default_estimate_s. The
 * prediction is made once, at submit (as Helios does), so a job's queue key
 * never changes while it waits, and it uses only jobs finished by then.
 * Fed by sched_job_finish with the job's total run time (cancelled jobs and
 * requeues feed nothing). Names are interned; both tables are open-addressing
 * hash tables used only for lookups, so iteration order decides nothing.
 * Costs: lookup and feed O(levels) expected; memory bounded by
 * AIDC_MAX_PREDICT_NAMES and AIDC_MAX_PREDICT_GROUPS (past them new names or
 * groups are not remembered and their jobs use the coarser levels).
 */
#include "sched/sched_int.h"

#define LEVELS 7

void sched_predict_release(struct sched_predict *p)
{
	aidc_intern_release(&p->names);
	aidc_free(p->groups);
	aidc_free(p->gtab);
	memset(p, 0, sizeof *p);
}

uint32_t sched_intern(struct sched *s, const char *str)
{
	uint32_t id;
	return aidc_intern(&s->pred.names, str, AIDC_MAX_PREDICT_NAMES, &id) == 0 ? id : UINT32_MAX;
}

/* What each level's group is keyed by, finest first. */
enum { K_USER = 1, K_NAME = 2, K_PART = 4, K_DEVS = 8 };
static const uint8_t level_keys[LEVELS] = {
    K_USER | K_NAME | K_DEVS, K_USER | K_NAME, K_USER | K_DEVS, K_USER,
    K_PART | K_DEVS,	      K_PART,	       K_DEVS,
};

/* The group key of job j at a level; false when the job has no such group
 * (no user or no name: an empty string identifies nobody). */
static bool group_key(const struct sched_job *j, uint32_t level, struct sched_hgroup *k)
{
	uint8_t f = level_keys[level];

	memset(k, 0, sizeof *k);
	k->level = level;
	if (((f & K_USER) && j->user_id == UINT32_MAX) ||
	    ((f & K_NAME) && j->name_id == UINT32_MAX))
		return false;
	k->user = (f & K_USER) ? j->user_id : 0;
	k->name = (f & K_NAME) ? j->name_id : 0;
	k->part = (f & K_PART) ? j->part : 0;
	k->devs = (f & K_DEVS) ? sched_job_dev_milli(j) : 0;
	return true;
}

static size_t group_hash(const struct sched_hgroup *k, size_t cap)
{
	uint64_t h = aidc_mix64(k->level + ((uint64_t)k->user << 8));
	h = aidc_mix64(h ^ k->name ^ ((uint64_t)k->part << 32));
	h = aidc_mix64(h ^ k->devs);
	return (size_t)h & (cap - 1);
}

static bool group_eq(const struct sched_hgroup *a, const struct sched_hgroup *b)
{
	return a->level == b->level && a->user == b->user && a->name == b->name &&
	       a->part == b->part && a->devs == b->devs;
}

/* Slot in gtab holding k, or the empty slot where it would go. */
static size_t group_slot(const struct sched_predict *p, const struct sched_hgroup *k)
{
	size_t i = group_hash(k, p->gtab_cap);
	while (p->gtab[i] != UINT32_MAX && !group_eq(&p->groups[p->gtab[i]], k))
		i = (i + 1) & (p->gtab_cap - 1);
	return i;
}

int64_t sched_predict_lookup(const struct sched *s, const struct sched_job *j)
{
	const struct sched_predict *p = &s->pred;
	struct sched_hgroup k;

	if (!p->gtab_cap)
		return 0;
	for (uint32_t level = 0; level < LEVELS; level++) {
		size_t i;
		if (!group_key(j, level, &k))
			continue;
		i = group_slot(p, &k);
		if (p->gtab[i] != UINT32_MAX && p->groups[p->gtab[i]].n) {
			double m = p->groups[p->gtab[i]].mean_s + 0.5;
			return m < 1 ? 1 : (int64_t)m;
		}
	}
	return 0;
}

static void groups_rehash(struct sched_predict *p)
{
	size_t cap = p->gtab_cap ? p->gtab_cap * 2 : 1024;

	aidc_free(p->gtab);
	p->gtab = aidc_malloc(cap * sizeof *p->gtab);
	memset(p->gtab, 0xff, cap * sizeof *p->gtab);
	p->gtab_cap = cap;
	for (uint32_t g = 0; g < p->ngroups; g++)
		p->gtab[group_slot(p, &p->groups[g])] = g;
}

void sched_predict_feed(struct sched *s, const struct sched_job *j, int64_t run_s)
{
	struct sched_predict *p = &s->pred;
	struct sched_hgroup k;

	if (run_s <= 0)
		return;
	if (!p->gtab_cap)
		groups_rehash(p);
	for (uint32_t level = 0; level < LEVELS; level++) {
		struct sched_hgroup *g;
		uint32_t w;
		size_t i;

		if (!group_key(j, level, &k))
			continue;
		i = group_slot(p, &k);
		if (p->gtab[i] == UINT32_MAX) {
			if (p->ngroups >= AIDC_MAX_PREDICT_GROUPS)
				continue;
			AIDC_GROW(p->groups, p->cap_groups, (size_t)p->ngroups + 1);
			p->groups[p->ngroups] = k;
			p->gtab[i] = p->ngroups++;
			if ((size_t)p->ngroups * 2 > p->gtab_cap)
				groups_rehash(p);
			i = group_slot(p, &k);
		}
		g = &p->groups[p->gtab[i]];
		g->n++;
		w = s->cfg.predict_window && g->n > s->cfg.predict_window ? s->cfg.predict_window
									  : g->n;
		g->mean_s += ((double)run_s - g->mean_s) / (double)w;
	}
}
