/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tenancy groups in the scheduling core (sched.h "tenancy groups"): limits
 * (running jobs, devices) and quotas with borrowing and reclaim, in the
 * spirit of Slurm's association limits and Kueue's ClusterQueues in a cohort.
 *
 * Cost: sched_group_set is one hash lookup of the name (util/intern.h).
 * Use is counted when a job starts and released when it stops, in milli-
 * devices. A cohort (a group that is some groups' parent) keeps two sums over
 * its children so that admission costs O(1) per group of the job:
 *   L = sum of min(lend_limit, max(0, nominal - use))   unused quota lent out
 *   B = sum of max(0, use - nominal)                     quota borrowed
 * A child's borrowing is feasible while the cohort's lent capacity covers
 * everything borrowed: L - B >= 0 after the job's use is added (only the
 * child's two terms change). Physical room is the placement's concern.
 */
#include "sched/sched_int.h"
#include "util/util.h"

enum { HOLD_RUNNING = 1, HOLD_DEVICES, HOLD_QUOTA, HOLD_BORROW, HOLD_RECLAIM };

#define MILLI 1000

static int64_t lend_term(const struct sched_group *g, int64_t use)
{
	if (g->nominal < 0)
		return 0;
	int64_t unused = g->nominal * MILLI - use;
	if (unused < 0)
		unused = 0;
	if (g->lend_limit >= 0 && unused > g->lend_limit * MILLI)
		unused = g->lend_limit * MILLI;
	return unused;
}

static int64_t borrow_term(const struct sched_group *g, int64_t use)
{
	if (g->nominal < 0)
		return 0;
	int64_t over = use - g->nominal * MILLI;
	return over > 0 ? over : 0;
}

/* Whether g can hold a job (sched_quota_admits) or be reclaimed for: a limit or
 * a nominal quota. With none in the tree no job is held and none reclaims. */
static bool group_limited(const struct sched_group *g)
{
	return g->max_running_jobs >= 0 || g->max_devices >= 0 || g->nominal >= 0;
}

static bool cohort_member(const struct sched *s, const struct sched_group *g)
{
	return g->nominal >= 0 && g->parent >= 0 && (uint32_t)g->parent < s->ngroups;
}

int sched_group_set(struct sched *s, const struct sched_group_spec *gs, struct aidc_err *e)
{
	if (!gs->name || !*gs->name || strlen(gs->name) >= AIDC_MAX_NAME_BYTES)
		return aidc_errf(e, AIDC_E_INVAL, "group: a name of 1..%u bytes is required",
				 AIDC_MAX_NAME_BYTES - 1);
	if (gs->shares < 0 || gs->shares > AIDC_MAX_TENANCY_LIMIT)
		return aidc_errf(e, AIDC_E_INVAL, "group %s: shares %" PRId64 " outside 0..%d",
				 gs->name, gs->shares, AIDC_MAX_TENANCY_LIMIT);
	const int64_t lim[] = {gs->max_running_jobs, gs->max_devices, gs->nominal_devices,
			       gs->borrow_limit, gs->lend_limit};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(lim); i++)
		if (lim[i] < -1 || lim[i] > AIDC_MAX_TENANCY_LIMIT)
			return aidc_errf(e, AIDC_E_INVAL,
					 "group %s: a limit of %" PRId64 " is outside -1..%d", gs->name,
					 lim[i], AIDC_MAX_TENANCY_LIMIT);
	/* Names are interned in creation order, so a name's intern id is its
	 * group id: lookup is one hash probe, not a scan of the groups. */
	uint32_t id = s->ngroups;
	if (aidc_intern_find(&s->group_ids, gs->name, &id) != 0)
		id = s->ngroups;
	if (gs->parent >= 0 && ((uint32_t)gs->parent >= s->ngroups || (uint32_t)gs->parent == id))
		return aidc_errf(e, AIDC_E_INVAL, "group %s: bad parent %d", gs->name, gs->parent);
	/* The parent links are also the fair-share tree: no cycles (O(depth)). */
	for (int32_t p = gs->parent, n = 0; p >= 0; p = s->groups[p].parent)
		if ((uint32_t)p == id || ++n > (int32_t)s->ngroups)
			return aidc_errf(e, AIDC_E_INVAL, "group %s: parent %s would make a cycle",
					 gs->name, s->groups[gs->parent].name);
	bool fresh = id == s->ngroups;
	if (fresh) {
		uint32_t iid;
		if (s->ngroups >= AIDC_MAX_SCHED_GROUPS ||
		    aidc_intern(&s->group_ids, gs->name, AIDC_MAX_SCHED_GROUPS, &iid) != 0)
			return aidc_errf(e, AIDC_E_LIMIT, "more than %u groups",
					 AIDC_MAX_SCHED_GROUPS);
		AIDC_GROW(s->groups, s->cap_groups, (size_t)s->ngroups + 1);
		memset(&s->groups[id], 0, sizeof s->groups[id]);
		s->groups[id].name = aidc_strdup(gs->name);
		s->groups[id].parent = -1;
		s->groups[id].nominal = -1;
		s->ngroups++;
	}
	struct sched_group *g = &s->groups[id];
	if (!fresh && group_limited(g))
		s->ngroups_limited--;
	/* Take its terms out of the old cohort, change it, put them back. */
	int64_t use = (int64_t)g->dev_milli;
	if (cohort_member(s, g)) {
		s->groups[g->parent].lendable_milli -= lend_term(g, use);
		s->groups[g->parent].borrowed_milli -= borrow_term(g, use);
	}
	g->parent = gs->parent;
	g->max_running_jobs = gs->max_running_jobs;
	g->max_devices = gs->max_devices;
	g->nominal = gs->nominal_devices;
	g->borrow_limit = gs->borrow_limit;
	g->lend_limit = gs->lend_limit;
	g->shares = gs->shares ? gs->shares : 1;
	if (group_limited(g))
		s->ngroups_limited++;
	if (cohort_member(s, g)) {
		s->groups[g->parent].lendable_milli += lend_term(g, use);
		s->groups[g->parent].borrowed_milli += borrow_term(g, use);
	}
	return (int)id;
}

uint64_t sched_group_dev_milli(const struct sched *s, uint32_t group)
{
	return group < s->ngroups ? s->groups[group].dev_milli : 0;
}

bool sched_job_borrowing(const struct sched *s, uint32_t job)
{
	return job < s->njob_slots && s->jobs[job].live && s->jobs[job].borrowing;
}

static bool hold(struct sched *s, uint32_t h, enum sched_reason r, uint32_t g, uint8_t what)
{
	struct sched_job *j = &s->jobs[h];
	s->hot[h].reason = (uint8_t)r;
	j->hold_group = g;
	j->hold_what = what;
	return false;
}

bool sched_quota_admits(struct sched *s, uint32_t h)
{
	struct sched_job *j = &s->jobs[h];
	int64_t need = (int64_t)sched_job_dev_milli(j);
	for (uint32_t k = 0; k < j->ngroups; k++) {
		uint32_t id = j->groups[k];
		const struct sched_group *g = &s->groups[id];
		if (g->max_running_jobs >= 0 && g->running + 1 > (uint64_t)g->max_running_jobs)
			return hold(s, h, SCHED_REASON_LIMIT, id, HOLD_RUNNING);
		if (g->max_devices >= 0 && (int64_t)g->dev_milli + need > g->max_devices * MILLI)
			return hold(s, h, SCHED_REASON_LIMIT, id, HOLD_DEVICES);
		if (g->nominal < 0)
			continue;
		int64_t use = (int64_t)g->dev_milli, after = use + need;
		if (after <= g->nominal * MILLI)
			continue;
		if (!cohort_member(s, g))
			return hold(s, h, SCHED_REASON_QUOTA, id, HOLD_QUOTA);
		if (g->borrow_limit >= 0 && borrow_term(g, after) > g->borrow_limit * MILLI)
			return hold(s, h, SCHED_REASON_QUOTA, id, HOLD_BORROW);
		const struct sched_group *c = &s->groups[g->parent];
		if (c->lender_wait_pass && c->lender_wait_pass + 1 >= s->npasses)
			return hold(s, h, SCHED_REASON_QUOTA, id, HOLD_RECLAIM);
		int64_t l = c->lendable_milli - lend_term(g, use) + lend_term(g, after);
		int64_t b = c->borrowed_milli - borrow_term(g, use) + borrow_term(g, after);
		if (l - b < 0)
			return hold(s, h, SCHED_REASON_QUOTA, id, HOLD_QUOTA);
	}
	return true;
}

void sched_quota_charge(struct sched *s, uint32_t h, int sign)
{
	struct sched_job *j = &s->jobs[h];
	int64_t need = (int64_t)sched_job_dev_milli(j);
	if (sign > 0)
		j->borrowing = false;
	for (uint32_t k = 0; k < j->ngroups; k++) {
		struct sched_group *g = &s->groups[j->groups[k]];
		int64_t use = (int64_t)g->dev_milli, after = use + sign * need;
		if (after < 0)
			after = 0;
		if (cohort_member(s, g)) {
			struct sched_group *c = &s->groups[g->parent];
			c->lendable_milli += lend_term(g, after) - lend_term(g, use);
			c->borrowed_milli += borrow_term(g, after) - borrow_term(g, use);
		}
		if (sign > 0 && g->nominal >= 0 && after > g->nominal * MILLI)
			j->borrowing = true;
		g->dev_milli = (uint64_t)after;
		if (sign > 0)
			g->running++;
		else if (g->running)
			g->running--;
	}
}

/* The job's quota group (the first with a nominal quota in a cohort), or NULL. */
static struct sched_group *quota_group(struct sched *s, const struct sched_job *j)
{
	for (uint32_t k = 0; k < j->ngroups; k++)
		if (cohort_member(s, &s->groups[j->groups[k]]))
			return &s->groups[j->groups[k]];
	return NULL;
}

bool sched_quota_may_reclaim(struct sched *s, uint32_t h)
{
	const struct sched_job *j = &s->jobs[h];
	struct sched_group *g = quota_group(s, j);
	if (!g || g->reclaim_pass == s->npasses)
		return false;
	struct sched_group *c = &s->groups[g->parent];
	if ((int64_t)(g->dev_milli + sched_job_dev_milli(j)) > g->nominal * MILLI ||
	    c->borrowed_milli <= 0)
		return false;
	g->reclaim_pass = s->npasses;
	/* Borrowing in the cohort pauses while a lender reclaims (this pass and
	 * the next), or borrowers would take back the room it frees. */
	c->lender_wait_pass = s->npasses;
	return true;
}

bool sched_quota_victim(const struct sched *s, const struct sched_job *r, const struct sched_job *h)
{
	if (!r->borrowing)
		return false;
	const struct sched_group *gh = quota_group((struct sched *)s, h);
	const struct sched_group *gr = quota_group((struct sched *)s, r);
	return gh && gr && gr != gh && gr->parent == gh->parent;
}

uint32_t sched_group_count(const struct sched *s)
{
	return s->ngroups;
}

const char *sched_group_name(const struct sched *s, uint32_t group)
{
	return group < s->ngroups ? s->groups[group].name : NULL;
}

void sched_job_hold(const struct sched *s, uint32_t job, char *buf, size_t n)
{
	static const char *const what[] = {"",	   "max_running_jobs", "max_devices",
					   "quota", "borrow_limit",	"quota (a lender reclaims)"};
	if (!n)
		return;
	buf[0] = '\0';
	if (job >= s->njob_slots || !s->jobs[job].live)
		return;
	const struct sched_job *j = &s->jobs[job];
	if ((s->hot[job].reason != SCHED_REASON_LIMIT && s->hot[job].reason != SCHED_REASON_QUOTA) ||
	    j->hold_group >= s->ngroups || j->hold_what >= AIDC_ARRAY_LEN(what))
		return;
	snprintf(buf, n, "%s of %s", what[j->hold_what], s->groups[j->hold_group].name);
}

void sched_quota_release(struct sched *s)
{
	for (uint32_t i = 0; i < s->ngroups; i++)
		aidc_free(s->groups[i].name);
	aidc_free(s->groups);
	aidc_intern_release(&s->group_ids);
	s->groups = NULL;
	s->ngroups = 0;
	s->ngroups_limited = 0;
}
