/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tenancy groups in the scheduling core (sched.h "tenancy groups"): limits
 * (running jobs, devices) and quotas with borrowing and reclaim, in the
 * spirit of Slurm's association limits and Kueue's ClusterQueues in a cohort.
 *
 * Quotas count three resources (SCHED_RES_*): devices, CPUs and memory, each
 * with its own nominal, borrow and lend limit; a job needs ntasks x its
 * task's devices, cpu_milli and mem_mib of each.
 *
 * Cost: sched_group_set is one hash lookup of the name (util/intern.h).
 * Use is counted when a job starts and released when it stops, in use units
 * (milli-devices, milli-cores, MiB). A cohort (a group that is some groups'
 * parent) keeps two sums per resource over its children so that admission
 * costs O(1) per group of the job and resource:
 *   L = sum of min(lend_limit, max(0, nominal - use))   unused quota lent out
 *   B = sum of max(0, use - nominal)                     quota borrowed
 * A child's borrowing is feasible while the cohort's lent capacity covers
 * everything borrowed: L - B >= 0 after the job's use is added (only the
 * child's two terms change). Physical room is the placement's concern.
 * A group with a quota and no parent (an organization's) is a cap: the use
 * of the jobs charged to it (all its projects', borrowing included) stays
 * within its nominal. As L - B >= 0 keeps a cohort's use within the sum of
 * its children's nominals, a cap of at least that sum never holds a job that
 * is within its own project's quota.
 */
#include "sched/sched_int.h"
#include "util/util.h"

enum { HOLD_RUNNING = 1, HOLD_DEVICES, HOLD_QUOTA, HOLD_BORROW, HOLD_RECLAIM };
/* hold_what = HOLD_* | resource << HOLD_RES_SHIFT; resource HOLD_MODEL: the
 * per-model entry of j->hold_model. */
#define HOLD_RES_SHIFT 4
#define HOLD_MODEL SCHED_NRES
#define BIT(m) ((uint64_t)1 << (m))

#define MILLI 1000
/* Quota units (devices, cores, MiB) -> use units (milli, milli, MiB). */
static const int64_t unit[SCHED_NRES] = {MILLI, MILLI, 1};
/* The largest quota of each resource, in quota units. */
static const int64_t qmax[SCHED_NRES] = {AIDC_MAX_TENANCY_LIMIT, AIDC_MAX_TENANCY_LIMIT,
					 (int64_t)AIDC_MAX_TENANCY_LIMIT * 1024};

/* What job j holds of each resource while it runs. */
static void job_need(const struct sched_job *j, int64_t need[SCHED_NRES])
{
	need[SCHED_RES_DEV] = (int64_t)sched_job_dev_milli(j);
	need[SCHED_RES_CPU] = (int64_t)j->task.cpu_milli * j->ntasks;
	need[SCHED_RES_MEM] = (int64_t)j->task.mem_mib * j->ntasks;
}

static int64_t lend_term(const struct sched_gquota *q, int64_t use)
{
	if (q->nominal < 0)
		return 0;
	int64_t unused = q->nominal - use;
	if (unused < 0)
		unused = 0;
	if (q->lend_limit >= 0 && unused > q->lend_limit)
		unused = q->lend_limit;
	return unused;
}

static int64_t borrow_term(const struct sched_gquota *q, int64_t use)
{
	if (q->nominal < 0)
		return 0;
	int64_t over = use - q->nominal;
	return over > 0 ? over : 0;
}

/* Whether g can hold a job (sched_quota_admits) or be reclaimed for: a limit or
 * a nominal quota. With none in the tree no job is held and none reclaims. */
static bool group_limited(const struct sched_group *g)
{
	return g->max_running_jobs >= 0 || g->max_devices >= 0 || g->has_quota;
}

/* Whether g's quotas lend and borrow in its parent's cohort (else a group
 * with a quota and no parent holds its jobs at its nominal: a cap). */
static bool cohort_member(const struct sched *s, const struct sched_group *g)
{
	return g->has_quota && g->parent >= 0 && (uint32_t)g->parent < s->ngroups;
}

/* Adds (sign 1) or takes out (-1) g's terms of its cohort's per-model sums,
 * of the models in mask (entries of g; its parent has mq, sched_group_set). */
static void cohort_mterms(struct sched *s, const struct sched_group *g, uint64_t mask, int sign)
{
	if (!cohort_member(s, g) || !mask)
		return;
	struct sched_gmodels *c = s->groups[g->parent].mq;
	for (uint64_t b = mask; b; b &= b - 1) {
		int m = __builtin_ctzll(b);
		c->q[m].lendable += sign * lend_term(&g->mq->q[m], g->mq->use[m]);
		c->q[m].borrowed += sign * borrow_term(&g->mq->q[m], g->mq->use[m]);
	}
}

/* Adds (sign 1) or takes out (-1) g's terms of its cohort's sums. */
static void cohort_terms(struct sched *s, const struct sched_group *g, int sign)
{
	if (!cohort_member(s, g))
		return;
	struct sched_group *c = &s->groups[g->parent];
	for (int r = 0; r < SCHED_NRES; r++) {
		c->q[r].lendable += sign * lend_term(&g->q[r], g->use[r]);
		c->q[r].borrowed += sign * borrow_term(&g->q[r], g->use[r]);
	}
	if (g->mq)
		cohort_mterms(s, g, g->mq->set, sign);
}

static int64_t scaled(int64_t v, int r)
{
	return v < 0 ? -1 : v * unit[r];
}

/* The spec's quotas in use units (q[r].nominal -1 where none). */
static void spec_quotas(const struct sched_group_spec *gs, struct sched_gquota q[SCHED_NRES])
{
	const struct sched_res_quota dev = {true, gs->nominal_devices, gs->borrow_limit,
					    gs->lend_limit};
	const struct sched_res_quota *rq[SCHED_NRES] = {&dev, &gs->cpus, &gs->mem_mib};
	memset(q, 0, SCHED_NRES * sizeof *q);
	for (int r = 0; r < SCHED_NRES; r++) {
		bool set = rq[r]->set && rq[r]->nominal >= 0;
		q[r].nominal = set ? scaled(rq[r]->nominal, r) : -1;
		q[r].borrow_limit = set ? scaled(rq[r]->borrow_limit, r) : -1;
		q[r].lend_limit = set ? scaled(rq[r]->lend_limit, r) : -1;
	}
}

/* Milli-devices of each model job j holds (its allocations) into mu; the
 * models as a mask. */
static uint64_t job_model_use(const struct sched *s, const struct sched_job *j,
			      int64_t mu[AIDC_MAX_DEVICE_MODELS])
{
	uint64_t touched = 0;
	for (uint32_t i = 0; i < j->nalloc; i++) {
		const struct sched_alloc *a = &j->allocs[i];
		if (a->dev == SCHED_NO_DEVICE || a->dev >= s->ndevs)
			continue;
		uint32_t m = s->devs[a->dev].model;
		if (!(touched & BIT(m)))
			mu[m] = 0;
		touched |= BIT(m);
		mu[m] += a->milli;
	}
	return touched;
}

static bool job_in_group(const struct sched_job *j, uint32_t id)
{
	for (uint32_t k = 0; k < j->ngroups; k++)
		if (j->groups[k] == id)
			return true;
	return false;
}

/* Group id's per-model quotas, made (no entries) on first use with the use
 * of its running jobs: O(running jobs), once per group. */
static struct sched_gmodels *gmodels(struct sched *s, uint32_t id)
{
	struct sched_group *g = &s->groups[id];
	if (g->mq)
		return g->mq;
	g->mq = aidc_calloc(1, sizeof *g->mq);
	for (uint32_t m = 0; m < AIDC_MAX_DEVICE_MODELS; m++)
		g->mq->q[m] = (struct sched_gquota){-1, -1, -1, 0, 0};
	s->ngroups_models++;
	for (uint32_t pi = 0; pi < s->nparts; pi++) {
		const struct sched_partition *p = &s->parts[pi];
		for (uint32_t i = 0; i < p->nrunning; i++) {
			const struct sched_job *j = &s->jobs[p->running[i]];
			int64_t mu[AIDC_MAX_DEVICE_MODELS];
			if (!job_in_group(j, id))
				continue;
			for (uint64_t b = job_model_use(s, j, mu); b; b &= b - 1)
				g->mq->use[__builtin_ctzll(b)] += mu[__builtin_ctzll(b)];
		}
	}
	return g->mq;
}

/* The spec's per-model entries: known models, each once, limits in range. */
static int models_check(const struct sched *s, const struct sched_group_spec *gs,
			struct aidc_err *e)
{
	uint64_t seen = 0;
	if (gs->nmodels && !gs->models)
		return aidc_errf(e, AIDC_E_INVAL, "group %s: no model quotas", gs->name);
	for (uint32_t i = 0; i < gs->nmodels; i++) {
		const struct sched_model_quota *mq = &gs->models[i];
		if (mq->model >= s->nmodels || (seen & BIT(mq->model)))
			return aidc_errf(e, AIDC_E_INVAL,
					 "group %s: model quota %u: model id %u unknown or twice",
					 gs->name, i, mq->model);
		seen |= BIT(mq->model);
		if (mq->nominal < 0 || mq->nominal > AIDC_MAX_TENANCY_LIMIT ||
		    mq->borrow_limit < -1 || mq->borrow_limit > AIDC_MAX_TENANCY_LIMIT ||
		    mq->lend_limit < -1 || mq->lend_limit > AIDC_MAX_TENANCY_LIMIT)
			return aidc_errf(e, AIDC_E_INVAL,
					 "group %s: quota of model %s: nominal 0..%d, borrow and "
					 "lend limits -1..%d",
					 gs->name, s->models[mq->model].name, AIDC_MAX_TENANCY_LIMIT,
					 AIDC_MAX_TENANCY_LIMIT);
	}
	return 0;
}

/* Sets g's per-model entries to the spec's (its cohort terms are out). */
static void models_apply(struct sched *s, uint32_t id, const struct sched_group_spec *gs)
{
	struct sched_group *g = &s->groups[id];
	if (!gs->nmodels && !g->mq)
		return;
	struct sched_gmodels *mq = gmodels(s, id);
	for (uint64_t b = mq->set; b; b &= b - 1)
		mq->q[__builtin_ctzll(b)].nominal = -1;
	mq->set = 0;
	for (uint32_t i = 0; i < gs->nmodels; i++) {
		const struct sched_model_quota *x = &gs->models[i];
		struct sched_gquota *q = &mq->q[x->model];
		q->nominal = x->nominal * MILLI;
		q->borrow_limit = x->borrow_limit < 0 ? -1 : x->borrow_limit * MILLI;
		q->lend_limit = x->lend_limit < 0 ? -1 : x->lend_limit * MILLI;
		mq->set |= BIT(x->model);
	}
	aidc_free(mq->spec);
	mq->spec = gs->nmodels ? aidc_reallocarray(NULL, gs->nmodels, sizeof *mq->spec) : NULL;
	if (gs->nmodels)
		memcpy(mq->spec, gs->models, gs->nmodels * sizeof *mq->spec);
	mq->nspec = gs->nmodels;
	g->has_quota |= mq->set != 0;
	if (mq->set && g->parent >= 0)
		gmodels(s, (uint32_t)g->parent); /* the cohort keeps per-model sums */
}

static int spec_check(const struct sched_group_spec *gs, struct aidc_err *e)
{
	if (!gs->name || !*gs->name || strlen(gs->name) >= AIDC_MAX_NAME_BYTES)
		return aidc_errf(e, AIDC_E_INVAL, "group: a name of 1..%u bytes is required",
				 AIDC_MAX_NAME_BYTES - 1);
	if (gs->shares < 0 || gs->shares > AIDC_MAX_TENANCY_LIMIT)
		return aidc_errf(e, AIDC_E_INVAL, "group %s: shares %" PRId64 " outside 0..%d",
				 gs->name, gs->shares, AIDC_MAX_TENANCY_LIMIT);
	const int64_t lim[] = {gs->max_running_jobs,   gs->max_devices,	     gs->nominal_devices,
			       gs->borrow_limit,       gs->lend_limit,	     gs->cpus.nominal,
			       gs->cpus.borrow_limit,  gs->cpus.lend_limit,  gs->mem_mib.nominal,
			       gs->mem_mib.borrow_limit, gs->mem_mib.lend_limit};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(lim); i++) {
		int64_t max = i >= 8 ? qmax[SCHED_RES_MEM] : AIDC_MAX_TENANCY_LIMIT;
		if ((i < 5 || (i < 8 ? gs->cpus.set : gs->mem_mib.set)) &&
		    (lim[i] < -1 || lim[i] > max))
			return aidc_errf(e, AIDC_E_INVAL,
					 "group %s: a limit of %" PRId64 " is outside -1..%" PRId64,
					 gs->name, lim[i], max);
	}
	return 0;
}

int sched_group_set(struct sched *s, const struct sched_group_spec *gs, struct aidc_err *e)
{
	int rc = spec_check(gs, e);
	if (!rc)
		rc = models_check(s, gs, e);
	if (rc)
		return rc;
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
		for (int r = 0; r < SCHED_NRES; r++)
			s->groups[id].q[r].nominal = -1;
		s->ngroups++;
	}
	struct sched_group *g = &s->groups[id];
	if (!fresh && group_limited(g))
		s->ngroups_limited--;
	/* Take its terms out of the old cohort, change it, put them back. */
	cohort_terms(s, g, -1);
	struct sched_gquota q[SCHED_NRES];
	spec_quotas(gs, q);
	g->parent = gs->parent;
	g->max_running_jobs = gs->max_running_jobs;
	g->max_devices = gs->max_devices;
	g->has_quota = false;
	for (int r = 0; r < SCHED_NRES; r++) {
		q[r].lendable = g->q[r].lendable; /* its children's sums stay */
		q[r].borrowed = g->q[r].borrowed;
		g->q[r] = q[r];
		g->has_quota |= q[r].nominal >= 0;
	}
	models_apply(s, id, gs);
	g->shares = gs->shares ? gs->shares : 1;
	if (group_limited(g))
		s->ngroups_limited++;
	cohort_terms(s, g, +1);
	return (int)id;
}

int sched_group_get(const struct sched *s, uint32_t group, struct sched_group_spec *out)
{
	if (group >= s->ngroups)
		return AIDC_E_NOTFOUND;
	const struct sched_group *g = &s->groups[group];
	int64_t v[SCHED_NRES][3];
	for (int r = 0; r < SCHED_NRES; r++) {
		const struct sched_gquota *q = &g->q[r];
		v[r][0] = q->nominal < 0 ? -1 : q->nominal / unit[r];
		v[r][1] = q->borrow_limit < 0 ? -1 : q->borrow_limit / unit[r];
		v[r][2] = q->lend_limit < 0 ? -1 : q->lend_limit / unit[r];
	}
	*out = (struct sched_group_spec){
	    .name = g->name,
	    .parent = g->parent,
	    .max_running_jobs = g->max_running_jobs,
	    .max_devices = g->max_devices,
	    .nominal_devices = v[0][0],
	    .borrow_limit = v[0][1],
	    .lend_limit = v[0][2],
	    .shares = g->shares,
	    .cpus = {v[1][0] >= 0, v[1][0], v[1][1], v[1][2]},
	    .mem_mib = {v[2][0] >= 0, v[2][0], v[2][1], v[2][2]},
	    .models = g->mq ? g->mq->spec : NULL,
	    .nmodels = g->mq ? g->mq->nspec : 0,
	};
	return 0;
}

uint64_t sched_group_dev_milli(const struct sched *s, uint32_t group)
{
	return group < s->ngroups ? (uint64_t)s->groups[group].use[SCHED_RES_DEV] : 0;
}

bool sched_job_borrowing(const struct sched *s, uint32_t job)
{
	/* borrowing is last set when the job started: a waiting job borrows nothing */
	return job < s->njob_slots && s->jobs[job].live && s->jobs[job].running &&
	       s->jobs[job].borrowing;
}

static bool hold(struct sched *s, uint32_t h, enum sched_reason r, uint32_t g, int what, int res)
{
	struct sched_job *j = &s->jobs[h];
	s->hot[h].reason = (uint8_t)r;
	j->hold_group = g;
	j->hold_what = (uint8_t)(what | res << HOLD_RES_SHIFT);
	return false;
}

/* Whether quota q of g (with use, its cohort's sums cq) admits need more:
 * within nominal, or borrowing what its cohort lends. 0 or the HOLD_ reason. */
static int q_admits(const struct sched *s, const struct sched_group *g,
		    const struct sched_gquota *q, int64_t use, const struct sched_gquota *cq,
		    int64_t need)
{
	int64_t after = use + need;
	if (q->nominal < 0 || need <= 0 || after <= q->nominal)
		return 0;
	if (!cohort_member(s, g))
		return HOLD_QUOTA;
	if (q->borrow_limit >= 0 && borrow_term(q, after) > q->borrow_limit)
		return HOLD_BORROW;
	const struct sched_group *c = &s->groups[g->parent];
	if (c->lender_wait_pass && c->lender_wait_pass + 1 >= s->npasses)
		return HOLD_RECLAIM;
	int64_t l = cq->lendable - lend_term(q, use) + lend_term(q, after);
	int64_t b = cq->borrowed - borrow_term(q, use) + borrow_term(q, after);
	return l - b < 0 ? HOLD_QUOTA : 0;
}

static int quota_admits(const struct sched *s, const struct sched_group *g, int r, int64_t need)
{
	const struct sched_gquota *cq = cohort_member(s, g) ? &s->groups[g->parent].q[r] : NULL;
	return q_admits(s, g, &g->q[r], g->use[r], cq, need);
}

static int model_admits(const struct sched *s, const struct sched_group *g, int m, int64_t need)
{
	const struct sched_gquota *cq =
	    cohort_member(s, g) ? &s->groups[g->parent].mq->q[m] : NULL;
	return q_admits(s, g, &g->mq->q[m], g->mq->use[m], cq, need);
}

/* The models of job h's accepted ones that every per-model entry of its
 * groups admits (sets j->quota_mask to them when fewer); false holds it at
 * the first entry that refuses, when none is left. */
static bool models_admit(struct sched *s, uint32_t h, int64_t need)
{
	struct sched_job *j = &s->jobs[h];
	uint64_t all = j->task.model_mask ? j->task.model_mask : sched_all_models(s), ok = all;
	int why = 0;
	uint32_t gid = 0;
	for (uint32_t k = 0; k < j->ngroups && ok; k++) {
		const struct sched_group *g = &s->groups[j->groups[k]];
		for (uint64_t b = g->mq ? g->mq->set & ok : 0; b; b &= b - 1) {
			int m = __builtin_ctzll(b), w = model_admits(s, g, m, need);
			if (!w)
				continue;
			ok &= ~BIT(m);
			if (!why) {
				why = w;
				gid = j->groups[k];
				j->hold_model = (uint8_t)m;
			}
		}
	}
	if (!ok)
		return hold(s, h, SCHED_REASON_QUOTA, gid, why, HOLD_MODEL);
	if (ok != all) {
		s->quota_narrowed = true;
		s->quota_narrowed_job = h;
		s->quota_saved_mask = j->task.model_mask;
		j->task.model_mask = ok;
	}
	return true;
}

void sched_quota_restore(struct sched *s)
{
	if (!s->quota_narrowed)
		return;
	s->jobs[s->quota_narrowed_job].task.model_mask = s->quota_saved_mask;
	s->quota_narrowed = false;
}

bool sched_quota_admits(struct sched *s, uint32_t h)
{
	struct sched_job *j = &s->jobs[h];
	int64_t need[SCHED_NRES];
	job_need(j, need);
	for (uint32_t k = 0; k < j->ngroups; k++) {
		uint32_t id = j->groups[k];
		const struct sched_group *g = &s->groups[id];
		if (g->max_running_jobs >= 0 && g->running + 1 > (uint64_t)g->max_running_jobs)
			return hold(s, h, SCHED_REASON_LIMIT, id, HOLD_RUNNING, 0);
		if (g->max_devices >= 0 &&
		    g->use[SCHED_RES_DEV] + need[SCHED_RES_DEV] > g->max_devices * MILLI)
			return hold(s, h, SCHED_REASON_LIMIT, id, HOLD_DEVICES, 0);
		for (int r = 0; g->has_quota && r < SCHED_NRES; r++) {
			int why = quota_admits(s, g, r, need[r]);
			if (why)
				return hold(s, h, SCHED_REASON_QUOTA, id, why, r);
		}
	}
	if (s->ngroups_models && need[SCHED_RES_DEV] > 0)
		return models_admit(s, h, need[SCHED_RES_DEV]);
	return true;
}

/* Charges (sign 1) or releases (-1) j's use mu of the models touched to g
 * (its cohort terms are out); marks j borrowing the models it takes beyond
 * g's entries. */
static void charge_models(struct sched *s, struct sched_job *j, struct sched_group *g,
			  uint64_t touched, const int64_t *mu, int sign)
{
	for (uint64_t b = touched; b; b &= b - 1) {
		int m = __builtin_ctzll(b);
		int64_t after = g->mq->use[m] + sign * mu[m];
		g->mq->use[m] = after < 0 ? 0 : after;
		if (sign > 0 && (g->mq->set & BIT(m)) && g->mq->use[m] > g->mq->q[m].nominal &&
		    cohort_member(s, g)) {
			j->borrow_models |= BIT(m);
			j->borrowing = true;
		}
	}
}

void sched_quota_charge(struct sched *s, uint32_t h, int sign)
{
	struct sched_job *j = &s->jobs[h];
	int64_t need[SCHED_NRES];
	job_need(j, need);
	int64_t mu[AIDC_MAX_DEVICE_MODELS];
	uint64_t touched = s->ngroups_models ? job_model_use(s, j, mu) : 0;
	if (sign > 0) {
		j->borrowing = j->borrow_base = false;
		j->borrow_models = 0;
	}
	for (uint32_t k = 0; k < j->ngroups; k++) {
		struct sched_group *g = &s->groups[j->groups[k]];
		cohort_terms(s, g, -1);
		for (int r = 0; r < SCHED_NRES; r++) {
			int64_t after = g->use[r] + sign * need[r];
			g->use[r] = after < 0 ? 0 : after;
			if (sign > 0 && g->q[r].nominal >= 0 && g->use[r] > g->q[r].nominal &&
			    cohort_member(s, g))
				j->borrowing = j->borrow_base = true;
		}
		if (touched && g->mq)
			charge_models(s, j, g, touched, mu, sign);
		cohort_terms(s, g, +1);
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

/* Models of j's accepted ones (narrowed by its quota) that its quota group g
 * has entries for, that j fits within, and that the cohort lends out now:
 * those it may reclaim from borrowers of the same model. */
static uint64_t models_reclaim(const struct sched *s, const struct sched_job *j,
			       const struct sched_group *g, int64_t need)
{
	if (!g->mq || need <= 0)
		return 0;
	const struct sched_gmodels *c = s->groups[g->parent].mq;
	uint64_t all = j->task.model_mask ? j->task.model_mask : sched_all_models(s), rm = 0;
	for (uint64_t b = g->mq->set & all; b; b &= b - 1) {
		int m = __builtin_ctzll(b);
		if (g->mq->use[m] + need <= g->mq->q[m].nominal && c->q[m].borrowed > 0)
			rm |= BIT(m);
	}
	return rm;
}

bool sched_quota_may_reclaim(struct sched *s, uint32_t h)
{
	struct sched_job *j = &s->jobs[h];
	struct sched_group *g = quota_group(s, j);
	if (!g || g->reclaim_pass == s->npasses)
		return false;
	struct sched_group *c = &s->groups[g->parent];
	int64_t need[SCHED_NRES];
	job_need(j, need);
	bool borrowed = false;
	for (int r = 0; r < SCHED_NRES; r++) {
		if (g->q[r].nominal < 0)
			continue;
		if (g->use[r] + need[r] > g->q[r].nominal)
			return false; /* beyond its quota: it would borrow, not reclaim */
		borrowed |= c->q[r].borrowed > 0;
	}
	j->reclaim_base = borrowed;
	j->reclaim_models = models_reclaim(s, j, g, need[SCHED_RES_DEV]);
	if (!borrowed && !j->reclaim_models)
		return false;
	g->reclaim_pass = s->npasses;
	/* Borrowing in the cohort pauses while a lender reclaims (this pass and
	 * the next), or borrowers would take back the room it frees. */
	c->lender_wait_pass = s->npasses;
	return true;
}

void sched_quota_reclaim_wait(struct sched *s, uint32_t h)
{
	const struct sched_job *j = &s->jobs[h];
	const struct sched_group *g = quota_group(s, j);
	if (g && (j->reclaim_base || j->reclaim_models))
		s->groups[g->parent].lender_wait_pass = s->npasses;
}

bool sched_quota_victim(const struct sched *s, const struct sched_job *r, const struct sched_job *h)
{
	if (!r->borrowing)
		return false;
	const struct sched_group *gh = quota_group((struct sched *)s, h);
	const struct sched_group *gr = quota_group((struct sched *)s, r);
	return gh && gr && gr != gh && gr->parent == gh->parent &&
	       ((h->reclaim_base && r->borrow_base) || (h->reclaim_models & r->borrow_models));
}

static int cmp_newest(const void *a, const void *b)
{
	const struct sched_endev *x = a, *y = b;
	if (x->end_s != y->end_s)
		return x->end_s > y->end_s ? -1 : 1;
	return x->seq > y->seq ? -1 : x->seq < y->seq;
}

/* Running borrowers of h's cohort, newest first, into s->ends; their count. */
static uint32_t cap_candidates(struct sched *s, const struct sched_job *j)
{
	uint32_t nc = 0;
	for (uint32_t pi = 0; pi < s->nparts; pi++) {
		const struct sched_partition *p = &s->parts[pi];
		AIDC_GROW(s->ends, s->cap_ends, (size_t)nc + p->nrunning + 1);
		for (uint32_t i = 0; i < p->nrunning; i++) {
			const struct sched_job *r = &s->jobs[p->running[i]];
			if (!sched_quota_victim(s, r, j))
				continue;
			if (r->victim && r->victim_for < s->njob_slots && s->jobs[r->victim_for].live &&
			    s->jobs[r->victim_for].seq == r->victim_for_seq)
				continue; /* already chosen for a job that still waits */
			s->ends[nc++] = (struct sched_endev){r->run_start_s, r->seq, p->running[i]};
		}
	}
	qsort(s->ends, nc, sizeof *s->ends, cmp_newest);
	return nc;
}

/* How many of j's cap candidates (borrowers of its cohort, newest first,
 * into s->ends) must stop for j to fit under its organization's cap: a
 * device/CPU/memory cap, or the cap's entry of the model that holds j (then
 * only borrowers of that model count); 0 if all of them would not do. */
static uint32_t cap_victims(struct sched *s, struct sched_job *j, const struct sched_group *cap)
{
	int64_t need[SCHED_NRES], over[SCHED_NRES + 1] = {0};
	job_need(j, need);
	bool by_model = (j->hold_what >> HOLD_RES_SHIFT) == HOLD_MODEL && cap->mq;
	int m = j->hold_model, nr = by_model ? SCHED_NRES + 1 : SCHED_NRES;
	bool short_of = false;
	for (int r = 0; r < SCHED_NRES && !by_model; r++)
		over[r] = cap->q[r].nominal < 0 ? 0 : cap->use[r] + need[r] - cap->q[r].nominal;
	if (by_model) {
		over[SCHED_NRES] = cap->mq->use[m] + need[SCHED_RES_DEV] - cap->mq->q[m].nominal;
		j->reclaim_base = false; /* only borrowers of model m help */
		j->reclaim_models &= BIT(m);
	}
	for (int r = 0; r < nr; r++)
		short_of |= over[r] > 0;
	uint32_t nc = short_of ? cap_candidates(s, j) : 0, used = 0;
	while (short_of && used < nc) {
		const struct sched_job *v = &s->jobs[s->ends[used++].job];
		int64_t vneed[SCHED_NRES + 1] = {0}, mu[AIDC_MAX_DEVICE_MODELS];
		job_need(v, vneed);
		if (by_model && (job_model_use(s, v, mu) & BIT(m)))
			vneed[SCHED_NRES] = mu[m];
		short_of = false;
		for (int r = 0; r < nr; r++)
			short_of |= (over[r] -= by_model && r < SCHED_NRES ? 0 : vneed[r]) > 0;
	}
	return short_of ? 0 : used;
}

uint32_t sched_quota_cap_reclaim(struct sched *s, uint32_t h, int64_t now_s,
				 struct sched_decisions *out)
{
	struct sched_job *j = &s->jobs[h];
	struct sched_hot *x = &s->hot[h];
	if (x->reason != SCHED_REASON_QUOTA || j->hold_group >= s->ngroups)
		return 0;
	const struct sched_group *cap = &s->groups[j->hold_group];
	const struct sched_group *g = quota_group(s, j);
	if (cohort_member(s, cap) || !g || g->parent != (int32_t)j->hold_group)
		return 0;
	if (x->victims_pending) {
		/* Its victims are stopping: borrowing in the cohort stays paused
		 * until it starts, or borrowers would take the room back. */
		s->groups[g->parent].lender_wait_pass = s->npasses;
		x->reason = SCHED_REASON_PREEMPTING;
		return 0;
	}
	if (!sched_quota_may_reclaim(s, h))
		return 0;
	uint32_t used = cap_victims(s, j, cap);
	if (!used)
		return 0; /* the borrowers' jobs would not make room: none stops */
	for (uint32_t i = 0; i < used; i++) {
		struct sched_job *v = &s->jobs[s->ends[i].job];
		v->victim = true;
		v->victim_for = h;
		v->victim_for_seq = j->seq;
		sched_decide(out, SCHED_DECIDE_PREEMPT, s, s->ends[i].job, h, now_s, NULL, 0);
	}
	x->victims_pending = used;
	x->reason = SCHED_REASON_PREEMPTING;
	return used;
}

uint32_t sched_group_count(const struct sched *s)
{
	return s->ngroups;
}

const char *sched_group_name(const struct sched *s, uint32_t group)
{
	return group < s->ngroups ? s->groups[group].name : NULL;
}

/* v milli-devices as devices: "8" or "2.500". */
static void fmt_dev(char *b, size_t n, int64_t v)
{
	if (v % MILLI)
		snprintf(b, n, "%" PRId64 ".%03" PRId64, v / MILLI, v % MILLI);
	else
		snprintf(b, n, "%" PRId64, v / MILLI);
}

/* A per-model hold: "quota gpu:A100 of account p1: 8/8 in use". */
static void model_hold(const struct sched *s, const struct sched_job *j, unsigned w, char *buf,
		       size_t n)
{
	const struct sched_group *g = &s->groups[j->hold_group];
	uint32_t m = j->hold_model;
	if (!g->mq || m >= s->nmodels)
		return;
	char use[32], nom[32];
	fmt_dev(use, sizeof use, g->mq->use[m]);
	fmt_dev(nom, sizeof nom, g->mq->q[m].nominal);
	snprintf(buf, n, "%s gpu:%s%s of %s: %s/%s in use",
		 w == HOLD_BORROW ? "borrow_limit" : "quota", s->models[m].name,
		 w == HOLD_RECLAIM ? " (a lender reclaims)" : "", g->name, use, nom);
}

void sched_job_hold(const struct sched *s, uint32_t job, char *buf, size_t n)
{
	static const char *const what[] = {"", "max_running_jobs", "max_devices", "quota",
					   "borrow_limit", "quota"};
	static const char *const res[SCHED_NRES] = {"", "_cpus", "_mem"};
	if (!n)
		return;
	buf[0] = '\0';
	if (job >= s->njob_slots || !s->jobs[job].live)
		return;
	const struct sched_job *j = &s->jobs[job];
	unsigned w = j->hold_what & ((1u << HOLD_RES_SHIFT) - 1), r = j->hold_what >> HOLD_RES_SHIFT;
	if ((s->hot[job].reason != SCHED_REASON_LIMIT && s->hot[job].reason != SCHED_REASON_QUOTA) ||
	    j->hold_group >= s->ngroups || w >= AIDC_ARRAY_LEN(what) || r > HOLD_MODEL)
		return;
	if (r == HOLD_MODEL) {
		model_hold(s, j, w, buf, n);
		return;
	}
	snprintf(buf, n, "%s%s%s of %s", what[w], res[r],
		 w == HOLD_RECLAIM ? " (a lender reclaims)" : "", s->groups[j->hold_group].name);
}

void sched_quota_release(struct sched *s)
{
	for (uint32_t i = 0; i < s->ngroups; i++) {
		aidc_free(s->groups[i].name);
		if (s->groups[i].mq)
			aidc_free(s->groups[i].mq->spec);
		aidc_free(s->groups[i].mq);
	}
	s->ngroups_models = 0;
	aidc_free(s->groups);
	aidc_intern_release(&s->group_ids);
	s->groups = NULL;
	s->ngroups = 0;
	s->ngroups_limited = 0;
}
