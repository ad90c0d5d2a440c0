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
	sched_hindex_release(&p->groups);
	memset(p, 0, sizeof *p);
}

uint32_t sched_intern(struct sched *s, const char *str)
{
	uint32_t id;
	return aidc_intern(&s->pred.names, str, AIDC_MAX_PREDICT_NAMES, &id) == 0 ? id : UINT32_MAX;
}

/* What each level's group is keyed by, finest first. */
enum { K_USER = SCHED_HK_USER, K_NAME = SCHED_HK_NAME, K_PART = SCHED_HK_PART, K_DEVS = SCHED_HK_DEVS };
static const uint8_t level_keys[LEVELS] = {
    K_USER | K_NAME | K_DEVS, K_USER | K_NAME, K_USER | K_DEVS, K_USER,
    K_PART | K_DEVS,	      K_PART,	       K_DEVS,
};

/* The group key of job j at a level; false when the job has no such group. */
static bool group_key(const struct sched_job *j, uint32_t level, struct sched_hkey *k)
{
	return sched_hkey_make(j, level, level_keys[level], sched_job_dev_milli(j), k);
}

int64_t sched_predict_lookup(const struct sched *s, const struct sched_job *j)
{
	struct sched_hkey k;

	for (uint32_t level = 0; level < LEVELS; level++) {
		const struct sched_hgroup *g;
		if (!group_key(j, level, &k) || !(g = sched_hindex_find(&s->pred.groups, &k)))
			continue;
		if (g->n) {
			double m = g->mean_s + 0.5;
			return m < 1 ? 1 : (int64_t)m;
		}
	}
	return 0;
}

void sched_predict_feed(struct sched *s, const struct sched_job *j, int64_t run_s)
{
	struct sched_hkey k;

	if (run_s <= 0)
		return;
	for (uint32_t level = 0; level < LEVELS; level++) {
		struct sched_hgroup *g;
		uint32_t w;

		if (!group_key(j, level, &k) ||
		    !(g = sched_hindex_get(&s->pred.groups, &k, sizeof *g, 1024,
					   AIDC_MAX_PREDICT_GROUPS)))
			continue;
		g->n++;
		w = s->cfg.predict_window && g->n > s->cfg.predict_window ? s->cfg.predict_window
									  : g->n;
		g->mean_s += ((double)run_s - g->mean_s) / (double)w;
	}
}
