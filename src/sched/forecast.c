/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Start-time forecast (issue 14 item 2, docs/scheduler.md "Start estimates"):
 * the estimated start of every pending job, computed by running THE core
 * forward from the live state with no new arrivals.
 *
 * The live core is never touched: a private core is built from it with the
 * same configuration (models, partitions, nodes with their devices and racks,
 * tenancy groups, node states), every live job is submitted to it in submit
 * order with the run-time estimate the live core uses fixed as its prediction
 * (the copy has no history), and running jobs are restored on their
 * allocations. Then the same sched_pass decides, at now and at each estimated
 * end: a running job submitted within the hour ends as its class's cohort
 * runs (see "Cohorts" below), another one at its start plus what is left of
 * sched_job_estimate (time limit, else prediction, else history, else the
 * default; one that ran past it: see live_end; one without a time limit: at
 * a quantile of its partition's finished run times longer than its age, see
 * tail_left); a job started by the forecast runs its class's cohort's run
 * time if it has one, else its estimate (the copy's scheduling decisions
 * still use the live estimates: only how long jobs run differs), and a
 * preempted victim is requeued. A pending job's estimate is the time of the
 * pass that started it in the copy.
 *
 * What the copy does not carry: Tiresias levels and attained service, GITTINS
 * history and starvation marks: under those orders the copy's keys start
 * afresh. MULTIFACTOR's fair-share usage and factors are copied, so the
 * copy's keys are the live ones (charged and re-ranked at its recalculations).
 * The speed table and each job's class (hetero.c) are copied, so under
 * cfg.hetero the copy chooses the device models the live core would.
 *
 * Cost: building the copy is O(nodes + devices + jobs log jobs) (cohorts: O(R
 * log R) for R running jobs, see cohort_build); the run is at
 * most max_passes passes plus O(log R) per job end. The copy's passes are
 * cheaper than live ones: nobody reads its reasons, so a pass stops walking a
 * queue once no job left in it can start (pass.c, quiet_tail), and will-run
 * walks only the ends it releases (place.c); s->no_fast_path (tests) makes
 * the copy take the reference paths, with the same estimates. Deterministic:
 * same live state and now, same estimates. ORACLE (sched_forecast_oracle,
 * diagnostic only, off by default): run times from each class's true
 * distribution instead (see "ORACLE" below). KAPLAN-MEIER
 * (sched_forecast_km, off by default: measured 47.0% / 36.8% / 35.6% for
 * ALL / COHORT / MEAN against 38.4% off, p90s all worse): run times from a
 * censored estimate over each class's jobs submitted within the last day,
 * finished or running (see "Kaplan-Meier" below).
 */
#include "sched/sched_int.h"

/* Live handles in submit order (seq), into out (njobs entries). */
static void jobs_by_seq(const struct sched *s, uint32_t *out, uint32_t *n)
{
	struct aidc_heap h;
	aidc_heap_init(&h);
	for (uint32_t i = 0; i < s->njob_slots; i++)
		if (s->jobs[i].live)
			aidc_heap_push(&h, 0, s->jobs[i].seq, i);
	struct aidc_heap_item it;
	*n = 0;
	while (aidc_heap_pop(&h, &it))
		out[(*n)++] = (uint32_t)it.value;
	aidc_heap_release(&h);
}

static int copy_cluster(const struct sched *s, struct sched *c, struct aidc_err *e)
{
	int rc;
	for (uint32_t m = 0; m < s->nmodels; m++)
		if ((rc = sched_add_model(c, s->models[m].name, s->models[m].vendor,
					  s->models[m].mem_mib, e)) < 0)
			return rc;
	for (uint32_t p = 0; p < s->nparts; p++) {
		if ((rc = sched_add_partition(c, s->parts[p].name, e)) < 0)
			return rc;
		/* the copy's id is p; the factor was valid in s */
		if ((rc = sched_partition_set_priority(c, p, s->parts[p].prio_factor, e)) != 0)
			return -rc;
	}
	struct sched_device_spec devs[AIDC_MAX_DEVICES_PER_NODE];
	for (uint32_t i = 0; i < s->nnodes; i++) {
		const struct sched_node *n = &s->nodes[i];
		for (uint32_t d = 0; d < n->ndev; d++) {
			devs[d].model = s->devs[n->first_dev + d].model;
			devs[d].group = s->devs[n->first_dev + d].group;
		}
		struct sched_node_spec ns = {
		    .name = n->name,
		    .partition = n->partition,
		    .rack = n->rack,
		    .cpu_milli = n->cpu_milli,
		    .mem_mib = n->mem_mib,
		    .ndev = n->ndev,
		    .devs = devs,
		};
		if ((rc = sched_add_node(c, &ns, e)) < 0)
			return rc;
	}
	for (uint32_t g = 0; g < s->ngroups; g++) {
		const struct sched_group *sg = &s->groups[g];
		struct sched_group_spec gs;
		sched_group_get(s, g, &gs);
		if ((rc = sched_group_set(c, &gs, e)) < 0)
			return rc;
		/* MULTIFACTOR: the same usage and factors, so the same keys */
		c->groups[g].usage = sg->usage;
		c->groups[g].norm_shares = sg->norm_shares;
		c->groups[g].norm_usage = sg->norm_usage;
		c->groups[g].level_fs = sg->level_fs;
		c->groups[g].fs_factor = sg->fs_factor;
		c->groups[g].fs_rank = sg->fs_rank;
	}
	c->fs_t = s->fs_t;
	c->fs_total = s->fs_total;
	c->fs_started = s->fs_started;
	c->prio_t = s->prio_t;
	c->prio_valid = s->prio_valid;
	sched_speeds_copy(s, c); /* the same model choice (hetero.c) */
	return 0;
}

/* Submits live job j to the copy (restored on its allocations if running);
 * returns the copy's handle or a negative code. */
static int copy_job(const struct sched *s, struct sched *c, const struct sched_job *j,
		    int64_t now_s, struct aidc_err *e)
{
	struct sched_job_spec sp = {
	    .id = j->id,
	    .name = j->name,
	    .user = j->user,
	    .tenant = j->tenant,
	    .partition = j->part,
	    .priority = j->priority,
	    .submit_s = j->submit_s <= now_s ? j->submit_s : now_s,
	    .ntasks = j->ntasks,
	    .nodes = j->nnodes,
	    .tasks_per_node = j->per_node,
	    .task = j->task,
	    .time_limit_s = j->time_limit_s,
	    .predicted_s = sched_job_est(s, j),
	    .oracle_s = j->oracle_s,
	    .flags = j->flags,
	    .qos_class = j->qos_class,
	    .preempt_qos = j->preempt_qos,
	    .qos_milli = j->qos_milli,
	    .ngroups = j->ngroups,
	    .speed_class = j->speed_class,
	};
	for (uint32_t g = 0; g < j->ngroups && g < SCHED_MAX_JOB_GROUPS; g++)
		sp.groups[g] = j->groups[g];
	/* Its node filter (-w/-x) as it was made: the allowed ids, or the denied
	 * ones; an include list the excludes emptied is "include 0, exclude 0". */
	static const uint32_t none = 0;
	const struct sched_nfilter *f = j->filter;
	if (f && f->allow && f->n) {
		sp.include_nodes = f->ids;
		sp.ninclude = f->n;
	} else if (f && f->allow) {
		sp.include_nodes = sp.exclude_nodes = &none;
		sp.ninclude = sp.nexclude = 1;
	} else if (f) {
		sp.exclude_nodes = f->ids;
		sp.nexclude = f->n;
	}
	int h = sched_submit(c, &sp, now_s, e);
	if (h < 0 || !j->running)
		return h;
	int rc = sched_job_restore(c, (uint32_t)h, j->allocs, j->nalloc, now_s, e);
	return rc ? rc : h;
}

/* The forecast's run: the copy, its handles' live handles, the estimated end
 * of each copy handle's current run (0 = not running), ends by time; per
 * live partition, the number of finished jobs in run_hist's buckets from b on
 * (tail_cnt[p * (SCHED_SVC_BUCKETS + 1) + b]); per copy handle, its run time
 * when it starts in the copy (queued_dur; 0 = its estimate); per class
 * record, its cohort's run time (cohort_build). */
struct run {
	struct sched *c;
	uint32_t *to_live;
	int64_t *end_of;
	struct aidc_heap ends;
	uint32_t *tail_cnt;
	int64_t *dur_of;
	int64_t *cohort_d;
	struct sched_fc_sample *fco_coh; /* ORACLE cohorts: class, median age (run_s) */
	size_t nfco_coh;
	/* Kaplan-Meier (km_begin; NULL km = off): per class record its curve;
	 * the steps of all curves; running jobs submitted within FC_KM_W_S as
	 * (record << 40 | age), sorted, one per class level; sort scratch */
	uint8_t km_mode;
	int64_t km_from_s;
	struct km_cls *km;
	struct km_step *steps;
	size_t nsteps, cap_steps;
	uint64_t *cens, *scr;
	size_t ncens;
};

#define TAIL_MIN_JOBS 10u /* finished jobs longer than a running one's age */

/*
 * Cohorts (the forecast's run times of queued jobs and of jobs that started
 * recently). A class's jobs submitted close together are usually one sweep
 * of like jobs, and their run times are alike: in philly-pollux, 247 1-GPU
 * jobs submitted within 16 minutes into one VC ran 11,000-34,600 s (median
 * 13,700) while that VC's 1-GPU jobs finished before (2,344 since the
 * replay's start) had a median of 70 s; the scheduler's point
 * prediction (a mean of the class's last finished jobs, predict.c) and any
 * independent draw from the class's run times say "minutes". What the
 * forecast sees at now is that the sweep's running jobs have all outlived
 * their class's usual run time. So a class's running jobs submitted within
 * FC_COHORT_S of now are its cohort, taken to share one run time D: the mean
 * run time of the class's finished jobs that ran longer than the cohort's
 * median run time so far (its members survived that long). With a cohort,
 * the class's queued jobs run D (at most their limit) and the cohort's
 * running jobs end at their start + D when that is still ahead; without one
 * (or with too little history: FC_MIN_JOBS), a queued job runs its estimate
 * and a running job ends as live_end says.
 *
 * History: per class, the run times of its finished jobs (fed by
 * sched_job_finish, so a forecast at now sees only jobs finished by now) in
 * quarter-octave buckets (sched_svc_bucket). Classes, finest first: same user,
 * name and devices; same user and devices; same partition and devices; same
 * partition. A job's class is the finest with FC_MIN_JOBS finished jobs.
 * Costs: feed O(FC_LEVELS); per forecast O(R log R + C x FC_BUCKETS) for R
 * running jobs and C classes with a cohort, then O(FC_LEVELS) per job.
 */
#define FC_BUCKETS     128 /* quarter octaves up to 2^32 s (longer: the last) */
#define FC_MIN_JOBS    10u /* finished jobs a class needs (in total, and longer than the cohort) */
#define FC_MAX_CLASSES (1u << 15) /* past it, new classes are not kept (coarser ones are used) */
#define FC_COHORT_S    3600 /* running jobs submitted within this of now: their class's cohort */
#define FC_LEVELS      4
#define FC_KM_W_S      86400 /* Kaplan-Meier: a class's jobs submitted within this of now */
#define FC_KM_RING     4096u /* ... of which at most this many finished ones (the latest) */
#define FC_KM_DEFAULT  SCHED_FCKM_OFF /* sched_forecast_km's DEFAULT */
struct fc_done {
	int64_t submit_s, run_s;
};
struct fc_class {
	struct sched_hkey key;
	uint32_t n;
	uint32_t hist[FC_BUCKETS];
	/* Kaplan-Meier: finished jobs in finish order (owned); once ring_n ==
	 * FC_KM_RING, the oldest at ring_next */
	struct fc_done *ring;
	uint32_t ring_n, ring_cap, ring_next;
};
static const uint8_t fc_keys[FC_LEVELS] = {
    SCHED_HK_USER | SCHED_HK_NAME | SCHED_HK_DEVS,
    SCHED_HK_USER | SCHED_HK_DEVS,
    SCHED_HK_PART | SCHED_HK_DEVS,
    SCHED_HK_PART,
};

static uint32_t fc_bucket(int64_t run_s)
{
	uint32_t b = sched_svc_bucket(run_s > 0 ? (uint64_t)run_s : 1);
	return b < FC_BUCKETS ? b : FC_BUCKETS - 1;
}

/* Adds a finished job (submitted at submit_s, ran run_s) to c's ring. Before
 * the ring grows, jobs submitted more than FC_KM_W_S before this one are
 * dropped: every later forecast is at or after this job's submission, so
 * they are outside its window. Memory: at most FC_KM_RING x 16 bytes per
 * class, in practice a day's finished jobs; amortized O(1) per job. */
static void ring_add(struct fc_class *c, int64_t submit_s, int64_t run_s)
{
	struct fc_done d = {submit_s, run_s};
	if (c->ring_n == FC_KM_RING) {
		c->ring[c->ring_next] = d;
		c->ring_next = (c->ring_next + 1) % FC_KM_RING;
		return;
	}
	if (c->ring_n == c->ring_cap) {
		uint32_t k = 0;
		for (uint32_t i = 0; i < c->ring_n; i++)
			if (c->ring[i].submit_s >= submit_s - FC_KM_W_S)
				c->ring[k++] = c->ring[i];
		c->ring_n = k;
	}
	if (c->ring_n == c->ring_cap) {
		c->ring_cap = c->ring_cap ? 2 * c->ring_cap : 16;
		c->ring = aidc_reallocarray(c->ring, c->ring_cap, sizeof *c->ring);
	}
	c->ring[c->ring_n++] = d;
}

/* Whether Kaplan-Meier is on (its rings are fed only then). */
static bool km_on(const struct sched *s)
{
	return (s->fc_km ? s->fc_km : FC_KM_DEFAULT) != SCHED_FCKM_OFF;
}

void sched_forecast_feed(struct sched *s, const struct sched_job *j)
{
	struct sched_partition *p = &s->parts[j->part];
	p->run_hist[sched_svc_bucket(j->executed_s > 0 ? (uint64_t)j->executed_s : 1)]++;
	if (s->quiet_tail)
		return; /* a forecast's copy: nobody forecasts from it */
	uint32_t b = fc_bucket(j->executed_s);
	for (uint32_t level = 0; level < FC_LEVELS; level++) {
		struct sched_hkey k;
		struct fc_class *c;
		if (!sched_hkey_make(j, level, fc_keys[level], sched_job_dev_milli(j), &k) ||
		    !(c = sched_hindex_get(&s->fc_classes, &k, sizeof *c, 64, FC_MAX_CLASSES)))
			continue;
		c->n++;
		c->hist[b]++;
		if (km_on(s)) /* off (the default): no ring, no memory */
			ring_add(c, j->submit_s, j->executed_s);
	}
}

static void fco_drop(struct sched *s)
{
	aidc_free(s->fco);
	aidc_free(s->fco_sum);
	s->fco = NULL;
	s->fco_sum = NULL;
	s->nfco = 0;
	s->fco_mode = SCHED_FCO_OFF;
}

void sched_forecast_release(struct sched *s)
{
	struct sched_hindex *x = &s->fc_classes;
	for (uint32_t i = 0; i < x->n; i++)
		aidc_free(((struct fc_class *)((char *)x->recs + (size_t)i * x->stride))->ring);
	sched_hindex_release(x);
	fco_drop(s);
}

static uint32_t fc_rec(const struct sched_hindex *x, const struct fc_class *c)
{
	return (uint32_t)((size_t)((const char *)c - (const char *)x->recs) / x->stride);
}

/* The record number of j's class (see above); UINT32_MAX if none. */
static uint32_t fc_class_of(const struct sched *s, const struct sched_job *j)
{
	for (uint32_t level = 0; level < FC_LEVELS; level++) {
		struct sched_hkey k;
		const struct fc_class *c;
		if (sched_hkey_make(j, level, fc_keys[level], sched_job_dev_milli(j), &k) &&
		    (c = sched_hindex_find(&s->fc_classes, &k)) != NULL && c->n >= FC_MIN_JOBS)
			return fc_rec(&s->fc_classes, c);
	}
	return UINT32_MAX;
}

/* The middle of run_hist's bucket b (sched_svc_bucket: 0-3 hold 0-3 s, 4-7
 * nothing, from 8 on quarter octaves). */
static double bucket_mid(uint32_t b)
{
	if (b < 8)
		return b < 4 ? (double)b : 0;
	return (double)sched_svc_bucket_top(b) - (double)(1ull << (b / 4 - 2)) / 2;
}

static void tails_build(const struct sched *s, struct run *r)
{
	size_t w = SCHED_SVC_BUCKETS + 1;
	r->tail_cnt = aidc_calloc(s->nparts * w + 1, sizeof *r->tail_cnt);
	for (uint32_t p = 0; p < s->nparts; p++) {
		uint32_t *cnt = r->tail_cnt + p * w;
		for (uint32_t b = SCHED_SVC_BUCKETS; b-- > 0;)
			cnt[b] = cnt[b + 1] + s->parts[p].run_hist[b];
	}
}

/*
 * Remaining run time of a job of partition p that has run age seconds: a
 * quantile u of the run times of the partition's finished jobs that ran
 * longer (buckets above age's), less age; 0 when fewer than TAIL_MIN_JOBS
 * did. Each running job takes its own u (frac(seq x golden ratio), a
 * low-discrepancy sequence): the ends of many like jobs spread as their run
 * times do, so the k-th of them to end comes when the k-th would, not all at
 * their mean.
 */
static int64_t tail_left(const struct run *r, uint32_t p, int64_t age, uint64_t seq)
{
	size_t w = SCHED_SVC_BUCKETS + 1;
	const uint32_t *cnt = r->tail_cnt + p * w;
	uint32_t b = sched_svc_bucket(age > 0 ? (uint64_t)age : 1) + 1;
	if (b >= SCHED_SVC_BUCKETS || cnt[b] < TAIL_MIN_JOBS)
		return 0;
	double u = (double)seq * 0.6180339887498949;
	u -= (double)(uint64_t)u;
	/* the first bucket from b on where the count above it falls to (1 - u) of cnt[b] */
	double want = (1 - u) * cnt[b];
	uint32_t k = b;
	while (k + 1 < SCHED_SVC_BUCKETS && (double)cnt[k + 1] > want)
		k++;
	/* k holds jobs: cnt[k] > want >= cnt[k + 1] */
	int64_t left = (int64_t)bucket_mid(k) - age;
	return left > 1 ? left : 1;
}

/* The mean run time (bucket middles) of class c's finished jobs that ran
 * longer than age; 0 when fewer than FC_MIN_JOBS did. */
static int64_t fc_mean_above(const struct fc_class *c, int64_t age)
{
	double n = 0, sum = 0;
	for (uint32_t b = fc_bucket(age) + 1; b < FC_BUCKETS; b++) {
		n += c->hist[b];
		sum += c->hist[b] * bucket_mid(b);
	}
	return n >= FC_MIN_JOBS ? (int64_t)(sum / n + 0.5) : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/*
 * Kaplan-Meier (sched_forecast_km; docs/scheduler.md "Start estimates:
 * Kaplan-Meier"). The learned history holds finished jobs only, biased to
 * short ones: a sweep's run times show up only once it ends. Per class
 * record, the samples are its jobs submitted within FC_KM_W_S of now: those
 * finished (the ring; an event at their run time) and those running now
 * (censored at their age); queued jobs are not samples. S(t) is the
 * product-limit estimate, events before censorings at equal times. A job's
 * KM class is the finest level with FC_MIN_JOBS events in the window.
 * Costs, per forecast: O(R log R) for the R running jobs submitted within
 * the window (times FC_LEVELS); per class record a job asks for, O(ring) to
 * count its events and, once, O(m log m) to build its curve from its m
 * samples (at most FC_KM_RING + R); O(log m) per question.
 */
struct km_step {
	int64_t t; /* an event time */
	double s;  /* S just after t */
	double tm; /* sum of t' x (S before t' - S after t') over steps t' <= t */
};
struct km_cls {
	int32_t nev; /* events in the window; -1 = not counted yet */
	bool built;
	size_t off, len; /* its steps in r->steps */
};

/* Starts the forecast's Kaplan-Meier state (nothing when off or no history). */
static void km_begin(const struct sched *s, int64_t now_s, struct run *r)
{
	const struct sched_hindex *x = &s->fc_classes;
	r->km_mode = s->fc_km ? s->fc_km : FC_KM_DEFAULT;
	if (!km_on(s) || x->n == 0)
		return;
	r->km_from_s = now_s - FC_KM_W_S;
	r->km = aidc_calloc(x->n, sizeof *r->km);
	for (uint32_t i = 0; i < x->n; i++)
		r->km[i].nev = -1;
	r->cens = aidc_calloc((size_t)s->njob_slots * FC_LEVELS + 1, sizeof *r->cens);
	const uint64_t amask = (1ull << 40) - 1;
	for (uint32_t i = 0; i < s->njob_slots; i++) {
		const struct sched_job *j = &s->jobs[i];
		if (!j->live || !j->running || j->submit_s < r->km_from_s)
			continue;
		int64_t a = AIDC_MAX(sched_job_run_s(j, now_s), 0);
		for (uint32_t level = 0; level < FC_LEVELS; level++) {
			struct sched_hkey k;
			const struct fc_class *c;
			if (sched_hkey_make(j, level, fc_keys[level], sched_job_dev_milli(j), &k) &&
			    (c = sched_hindex_find(x, &k)) != NULL)
				r->cens[r->ncens++] =
				    (uint64_t)fc_rec(x, c) << 40 | ((uint64_t)a & amask);
		}
	}
	qsort(r->cens, r->ncens, sizeof *r->cens, cmp_u64);
	r->scr = aidc_calloc(FC_KM_RING + r->ncens + 1, sizeof *r->scr);
}

static const struct fc_class *fc_at(const struct sched_hindex *x, uint32_t rec)
{
	return (const void *)((const char *)x->recs + (size_t)rec * x->stride);
}

/* Record rec's events in the window (memoized). */
static uint32_t km_count(const struct sched *s, struct run *r, uint32_t rec)
{
	struct km_cls *k = &r->km[rec];
	if (k->nev < 0) {
		const struct fc_class *c = fc_at(&s->fc_classes, rec);
		k->nev = 0;
		for (uint32_t i = 0; i < c->ring_n; i++)
			k->nev += c->ring[i].submit_s >= r->km_from_s;
	}
	return (uint32_t)k->nev;
}

/* r->scr[0 .. return): rec's samples as (time << 1 | censored), sorted:
 * events before censorings at equal times. */
static size_t km_samples(const struct sched *s, struct run *r, uint32_t rec)
{
	const struct fc_class *c = fc_at(&s->fc_classes, rec);
	const uint64_t amask = (1ull << 40) - 1;
	size_t m = 0, lo = 0, hi = r->ncens;
	for (uint32_t i = 0; i < c->ring_n; i++)
		if (c->ring[i].submit_s >= r->km_from_s)
			r->scr[m++] = ((uint64_t)AIDC_MAX(c->ring[i].run_s, 0) & amask) << 1;
	while (lo < hi) { /* the first censored sample of rec */
		size_t mid = lo + (hi - lo) / 2;
		if (r->cens[mid] >> 40 < rec)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < r->ncens && r->cens[lo] >> 40 == rec; lo++)
		r->scr[m++] = (r->cens[lo] & amask) << 1 | 1;
	qsort(r->scr, m, sizeof *r->scr, cmp_u64);
	return m;
}

/* Builds rec's curve once: a step per distinct event time. */
static const struct km_cls *km_build(const struct sched *s, struct run *r, uint32_t rec)
{
	struct km_cls *k = &r->km[rec];
	if (k->built)
		return k;
	size_t m = km_samples(s, r, rec);
	k->built = true;
	k->off = r->nsteps;
	double surv = 1, tm = 0;
	for (size_t i = 0, d; i < m; i += d) {
		uint64_t v = r->scr[i];
		for (d = 1; i + d < m && r->scr[i + d] == v; d++)
			;
		if (v & 1)
			continue; /* censorings leave the risk set, S unchanged */
		if (r->nsteps == r->cap_steps) {
			r->cap_steps = r->cap_steps ? 2 * r->cap_steps : 64;
			r->steps = aidc_reallocarray(r->steps, r->cap_steps, sizeof *r->steps);
		}
		double next = surv * (1 - (double)d / (double)(m - i));
		tm += (double)(v >> 1) * (surv - next);
		surv = next;
		r->steps[r->nsteps++] = (struct km_step){(int64_t)(v >> 1), surv, tm};
	}
	k->len = r->nsteps - k->off;
	return k;
}

/*
 * The run time rec's curve gives a job that has run a (a < 0: queued): the
 * smallest event time t > a with S(t) <= S(a) / 2 (mean: the mean of the
 * events beyond a, weighted by their mass); 0 when there is none (the mass
 * beyond a lies past the last event, censored).
 */
static int64_t km_run(const struct sched *s, struct run *r, uint32_t rec, int64_t a, bool mean)
{
	const struct km_cls *k = km_build(s, r, rec);
	const struct km_step *v = r->steps + k->off;
	size_t lo = 0, hi = k->len;
	while (lo < hi) { /* steps at or before a: [0, lo) */
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].t <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t first = lo;
	if (first == k->len)
		return 0;
	double sa = first ? v[first - 1].s : 1, tm0 = first ? v[first - 1].tm : 0;
	if (mean) {
		double mass = sa - v[k->len - 1].s;
		return mass > 0 ? (int64_t)((v[k->len - 1].tm - tm0) / mass + 0.5) : 0;
	}
	for (hi = k->len; lo < hi;) { /* the first step from first on with S <= sa / 2 */
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].s > sa / 2)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < k->len ? v[lo].t : 0;
}

/* j's KM class record (see above); UINT32_MAX if none. */
static uint32_t km_class_of(const struct sched *s, struct run *r, const struct sched_job *j)
{
	for (uint32_t level = 0; r->km && level < FC_LEVELS; level++) {
		struct sched_hkey k;
		const struct fc_class *c;
		if (sched_hkey_make(j, level, fc_keys[level], sched_job_dev_milli(j), &k) &&
		    (c = sched_hindex_find(&s->fc_classes, &k)) != NULL &&
		    km_count(s, r, fc_rec(&s->fc_classes, c)) >= FC_MIN_JOBS)
			return fc_rec(&s->fc_classes, c);
	}
	return UINT32_MAX;
}

/* ALL, MEAN: the run time of live job j having run a (a < 0: queued) from
 * its KM class, at most its time limit; 0 = none (the other rules). */
static int64_t km_dur(const struct sched *s, struct run *r, const struct sched_job *j, int64_t a)
{
	if (r->km_mode != SCHED_FCKM_ALL && r->km_mode != SCHED_FCKM_MEAN)
		return 0;
	uint32_t rec = km_class_of(s, r, j);
	int64_t d = rec == UINT32_MAX ? 0 : km_run(s, r, rec, a, r->km_mode == SCHED_FCKM_MEAN);
	if (d > 0 && j->time_limit_s > 0 && d > j->time_limit_s)
		d = j->time_limit_s;
	return d;
}

int sched_forecast_km(struct sched *s, enum sched_fc_km mode, struct aidc_err *e)
{
	if ((unsigned)mode > SCHED_FCKM_MEAN)
		return aidc_errf(e, AIDC_E_INVAL, "forecast Kaplan-Meier: mode %d", (int)mode);
	s->fc_km = (uint8_t)mode; /* rings are fed from now on: set it before the history */
	return 0;
}

/* r->cohort_d[class record]: its cohort's run time D (see above), 0 = none.
 * Each cohort member's (class, run time so far) sorted: a class's median is
 * the middle of its run. */
static void cohort_build(const struct sched *s, int64_t now_s, struct run *r)
{
	const struct sched_hindex *x = &s->fc_classes;
	r->cohort_d = aidc_calloc((size_t)x->n + 1, sizeof *r->cohort_d);
	uint64_t *v = aidc_calloc((size_t)s->njob_slots + 1, sizeof *v);
	size_t n = 0;
	const uint64_t amask = (1ull << 40) - 1; /* run times < 2^40 s (AIDC_MAX_DURATION_S) */
	for (uint32_t i = 0; i < s->njob_slots; i++) {
		const struct sched_job *j = &s->jobs[i];
		uint32_t rec;
		if (j->live && j->running && now_s - j->submit_s <= FC_COHORT_S &&
		    (rec = fc_class_of(s, j)) != UINT32_MAX) {
			int64_t a = sched_job_run_s(j, now_s);
			v[n++] = (uint64_t)rec << 40 | ((uint64_t)(a > 0 ? a : 0) & amask);
		}
	}
	qsort(v, n, sizeof *v, cmp_u64);
	for (size_t lo = 0, hi; lo < n; lo = hi) {
		for (hi = lo; hi < n && v[hi] >> 40 == v[lo] >> 40; hi++)
			;
		const struct fc_class *c =
		    (const void *)((const char *)x->recs + (size_t)(v[lo] >> 40) * x->stride);
		uint32_t rec = (uint32_t)(v[lo] >> 40);
		int64_t age = (int64_t)(v[lo + (hi - lo - 1) / 2] & amask), d = 0;
		if (r->km && r->km_mode == SCHED_FCKM_COHORT && km_count(s, r, rec) >= FC_MIN_JOBS)
			d = km_run(s, r, rec, age, false); /* V2: the KM conditional median */
		r->cohort_d[rec] = d > 0 ? d : fc_mean_above(c, age);
	}
	aidc_free(v);
}

/* The run time of j's class's cohort (0 = none, see above). */
static int64_t cohort_dur(const struct sched *s, const struct run *r, const struct sched_job *j)
{
	uint32_t rec = fc_class_of(s, j);
	return rec == UINT32_MAX ? 0 : r->cohort_d[rec];
}

/*
 * ORACLE (sched_forecast_oracle, diagnostic only): the true run times of each
 * class (partition x devices), sorted, with prefix sums. A job's view of its
 * class at age a: the run times > a, less one equal to its own oracle_s (the
 * other jobs' run times). Costs: O(n log n) to set; O(log n) per view.
 */
static int fco_cmp3(uint32_t p, uint32_t d, int64_t r, const struct sched_fc_sample *b)
{
	if (p != b->part)
		return p < b->part ? -1 : 1;
	if (d != b->ndev)
		return d < b->ndev ? -1 : 1;
	return (r > b->run_s) - (r < b->run_s);
}

static int cmp_fco(const void *a, const void *b)
{
	const struct sched_fc_sample *x = a;
	return fco_cmp3(x->part, x->ndev, x->run_s, b);
}

int sched_forecast_oracle(struct sched *s, enum sched_fc_oracle mode,
			  const struct sched_fc_sample *v, size_t n, struct aidc_err *e)
{
	if ((unsigned)mode > SCHED_FCO_COHORT)
		return aidc_errf(e, AIDC_E_INVAL, "forecast oracle: mode %d", (int)mode);
	for (size_t i = 0; i < n; i++)
		if (v[i].run_s <= 0 || v[i].run_s > AIDC_MAX_DURATION_S || v[i].part >= s->nparts)
			return aidc_errf(e, AIDC_E_INVAL,
					 "forecast oracle: sample %zu (partition %u, %" PRId64
					 " s) out of range",
					 i, v[i].part, v[i].run_s);
	fco_drop(s);
	if (mode == SCHED_FCO_OFF)
		return 0;
	s->fco = aidc_calloc(n + 1, sizeof *s->fco);
	s->fco_sum = aidc_calloc(n + 1, sizeof *s->fco_sum);
	if (n)
		memcpy(s->fco, v, n * sizeof *v);
	qsort(s->fco, n, sizeof *s->fco, cmp_fco);
	for (size_t i = 0; i < n; i++)
		s->fco_sum[i + 1] = s->fco_sum[i] + s->fco[i].run_s;
	s->nfco = n;
	s->fco_mode = (uint8_t)mode;
	return 0;
}

/* The first sample not below (p, d, r). */
static size_t fco_lb(const struct sched *s, uint32_t p, uint32_t d, int64_t r)
{
	size_t lo = 0, hi = s->nfco;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (fco_cmp3(p, d, r, &s->fco[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* j's view at age a: fco[k..hi) less fco[skip] when excl; n samples. */
struct fco_view {
	size_t k, hi, skip, n;
	bool excl;
	int64_t own;
};

static uint32_t fco_devs(const struct sched_job *j)
{
	return j->ntasks * j->task.ndev;
}

static void fco_view(const struct sched *s, const struct sched_job *j, int64_t a,
		     struct fco_view *v)
{
	uint32_t d = fco_devs(j);
	v->k = fco_lb(s, j->part, d, a < AIDC_MAX_DURATION_S ? a + 1 : a);
	v->hi = fco_lb(s, j->part, d, INT64_MAX);
	v->own = j->oracle_s;
	v->skip = v->own > a ? fco_lb(s, j->part, d, v->own) : v->hi;
	v->excl = v->skip < v->hi && s->fco[v->skip].run_s == v->own;
	v->n = v->hi - v->k - v->excl;
}

/* The view's i-th run time (i < n). */
static int64_t fco_at(const struct sched *s, const struct fco_view *v, size_t i)
{
	size_t f = v->k + i;
	return s->fco[f + (v->excl && f >= v->skip)].run_s;
}

static int64_t fco_mean(const struct sched *s, const struct fco_view *v)
{
	int64_t sum = s->fco_sum[v->hi] - s->fco_sum[v->k] - (v->excl ? v->own : 0);
	return (int64_t)((double)sum / (double)v->n + 0.5);
}

/* The run time j runs in the oracle's forecast, having run a s (running) or
 * queued: see sched_forecast_oracle; 0 = none (the default rules). */
static int64_t fco_dur(const struct sched *s, const struct sched_job *j, int64_t a, bool running)
{
	struct fco_view v;
	fco_view(s, j, a, &v);
	if (v.n == 0)
		return 0;
	if (s->fco_mode == SCHED_FCO_MEAN)
		return fco_mean(s, &v);
	if (s->fco_mode == SCHED_FCO_MEDIAN || !running)
		return fco_at(s, &v, (v.n - 1) / 2);
	double u = (double)j->seq * 0.6180339887498949;
	u -= (double)(uint64_t)u;
	size_t i = (size_t)(u * (double)v.n);
	return fco_at(s, &v, i < v.n ? i : v.n - 1);
}

/* COHORT: r->fco_coh, per class with running jobs submitted within
 * FC_COHORT_S of now, the median of their ages (run_s), sorted by class. */
static void fco_cohorts(const struct sched *s, int64_t now_s, struct run *r)
{
	struct sched_fc_sample *v = aidc_calloc((size_t)s->njob_slots + 1, sizeof *v);
	size_t n = 0, m = 0;
	for (uint32_t i = 0; i < s->njob_slots; i++) {
		const struct sched_job *j = &s->jobs[i];
		if (j->live && j->running && now_s - j->submit_s <= FC_COHORT_S)
			v[n++] = (struct sched_fc_sample){j->part, fco_devs(j),
							  AIDC_MAX(sched_job_run_s(j, now_s), 0)};
	}
	qsort(v, n, sizeof *v, cmp_fco);
	for (size_t lo = 0, hi; lo < n; lo = hi) {
		for (hi = lo; hi < n && v[hi].part == v[lo].part && v[hi].ndev == v[lo].ndev; hi++)
			;
		v[m++] = v[lo + (hi - lo - 1) / 2];
	}
	r->fco_coh = v;
	r->nfco_coh = m;
}

/* COHORT: j's cohort's run time (the mean of its class's run times longer
 * than the cohort's median age, less j's own); 0 = none. */
static int64_t fco_cohort_dur(const struct sched *s, const struct run *r, const struct sched_job *j)
{
	if (s->fco_mode != SCHED_FCO_COHORT)
		return 0;
	uint32_t d = fco_devs(j);
	size_t lo = 0, hi = r->nfco_coh;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (fco_cmp3(j->part, d, 0, &r->fco_coh[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == r->nfco_coh || r->fco_coh[lo].part != j->part || r->fco_coh[lo].ndev != d)
		return 0;
	struct fco_view v;
	fco_view(s, j, r->fco_coh[lo].run_s, &v);
	return v.n ? fco_mean(s, &v) : 0;
}

/* The oracle's end of live job j, running now (0 = none). */
static int64_t fco_end(const struct sched *s, const struct run *r, const struct sched_job *j,
		       int64_t now_s)
{
	int64_t age = j->executed_s + (now_s - j->run_start_s);
	int64_t d = now_s - j->submit_s <= FC_COHORT_S ? fco_cohort_dur(s, r, j) : 0;
	if (d <= age)
		d = fco_dur(s, j, age, true);
	if (d <= 0)
		return 0;
	if (j->time_limit_s > 0 && d > j->time_limit_s)
		d = j->time_limit_s;
	return now_s + AIDC_MAX(d - age, 1);
}

/* The oracle's run time of live job j, queued now (0 = none). */
static int64_t fco_queued(const struct sched *s, const struct run *r, const struct sched_job *j)
{
	int64_t d = fco_cohort_dur(s, r, j);
	return d > 0 ? d : fco_dur(s, j, 0, false);
}

/* How long live job j, queued now, runs in the forecast: its class's cohort's
 * run time, at most its time limit; without a cohort, its estimate. */
static int64_t queued_dur(const struct sched *s, struct run *r, const struct sched_job *j)
{
	int64_t d = s->fco_mode ? fco_queued(s, r, j) : 0;
	if (d <= 0)
		d = km_dur(s, r, j, -1);
	if (d <= 0)
		d = cohort_dur(s, r, j);
	if (d <= 0)
		return sched_job_est(s, j);
	if (j->time_limit_s > 0 && d > j->time_limit_s)
		d = j->time_limit_s;
	return d > 1 ? d : 1;
}

/* Copy job h ends at end_s. */
static void run_ends(struct run *r, uint32_t h, int64_t end_s)
{
	r->end_of[h] = end_s;
	aidc_heap_push(&r->ends, end_s, r->c->jobs[h].seq, h);
}

/* When live job j, running now and a cohort member (submitted within
 * FC_COHORT_S), ends as its cohort runs: at its start + D (at most its time
 * limit), if that is after now; else 0. */
static int64_t cohort_end(const struct sched *s, const struct run *r, const struct sched_job *j,
			  int64_t now_s)
{
	int64_t d = now_s - j->submit_s <= FC_COHORT_S ? cohort_dur(s, r, j) : 0;
	if (d <= 0)
		return 0;
	if (j->time_limit_s > 0 && d > j->time_limit_s)
		d = j->time_limit_s;
	int64_t end = j->run_start_s + d - j->executed_s;
	return end > now_s ? end : 0;
}

/*
 * When live job j, running now, is expected to end. A cohort member: as its
 * cohort (cohort_end). Without a time limit, once its partition has history
 * past its age: as such jobs did (tail_left).
 * Else at its start plus what is left of its estimate (as the core's will-run
 * assumes). A job already
 * past its estimate ran longer than predicted: it is expected to run as long
 * again as it has run so far (a heavy-tailed run time's expected remainder
 * grows with its age), but never past its time limit, and at the earliest
 * at now + 1 (as the core assumes).
 */
static int64_t live_end(const struct sched *s, struct run *r, const struct sched_job *j,
			int64_t now_s)
{
	int64_t ce = s->fco_mode ? fco_end(s, r, j, now_s) : 0;
	if (ce > 0)
		return ce;
	int64_t ka = AIDC_MAX(sched_job_run_s(j, now_s), 0), kd = km_dur(s, r, j, ka);
	if (kd > 0)
		return now_s + AIDC_MAX(kd - ka, 1);
	ce = cohort_end(s, r, j, now_s);
	if (ce > 0)
		return ce;
	if (j->time_limit_s <= 0) {
		int64_t age = j->executed_s + (now_s - j->run_start_s);
		int64_t tl = tail_left(r, j->part, age, j->seq);
		if (tl > 0)
			return now_s + tl;
	}
	int64_t left = sched_job_est(s, j) - j->executed_s;
	int64_t end = j->run_start_s + (left > 1 ? left : 1);
	if (end <= now_s) {
		int64_t age = now_s - j->run_start_s;
		end = now_s + (age > 1 ? age : 1);
		if (j->time_limit_s > 0) {
			int64_t kill = j->run_start_s + j->time_limit_s - j->executed_s;
			if (kill < end)
				end = kill;
		}
	}
	return end > now_s ? end : now_s + 1;
}

/* Builds the copy; to_live[copy handle] = live handle. */
static int build(const struct sched *s, int64_t now_s, struct run *r, struct aidc_err *e)
{
	struct sched *c = NULL;
	struct sched_env quiet = {.version = SCHED_ENV_VERSION};
	int rc = sched_new(&s->cfg, &quiet, &c, e);
	if (rc)
		return rc;
	c->quiet_tail = true;		   /* nobody reads the copy's reasons */
	c->no_fast_path = s->no_fast_path; /* tests: the reference paths */
	uint32_t *order = aidc_calloc(s->njobs + 1, sizeof *order), n = 0;
	r->c = c;
	r->to_live = aidc_calloc(s->njobs + 1, sizeof *r->to_live);
	r->end_of = aidc_calloc(s->njobs + 1, sizeof *r->end_of);
	r->dur_of = aidc_calloc(s->njobs + 1, sizeof *r->dur_of);
	if ((rc = copy_cluster(s, c, e)) != 0)
		goto out;
	tails_build(s, r);
	km_begin(s, now_s, r);
	cohort_build(s, now_s, r);
	if (s->fco_mode == SCHED_FCO_COHORT)
		fco_cohorts(s, now_s, r);
	jobs_by_seq(s, order, &n);
	sched_reserve_jobs(c, n); /* one allocation, not log n growth copies */
	for (uint32_t i = 0; i < n; i++) {
		const struct sched_job *j = &s->jobs[order[i]];
		int h = copy_job(s, c, j, now_s, e);
		if (h < 0) {
			rc = h;
			goto out;
		}
		if ((uint32_t)h > s->njobs) { /* handles are dense in a fresh core */
			rc = aidc_errf(e, AIDC_E_INTERNAL, "forecast: handle %d past %u", h,
				       s->njobs);
			goto out;
		}
		r->to_live[h] = order[i];
		if (j->running)
			run_ends(r, (uint32_t)h, live_end(s, r, j, now_s));
		else
			r->dur_of[h] = queued_dur(s, r, j);
	}
	for (uint32_t i = 0; i < s->nnodes; i++)
		if (s->nodes[i].state != SCHED_NODE_UP &&
		    (rc = sched_set_node_state(c, i, s->nodes[i].state, e)) != 0)
			goto out;
out:
	aidc_free(order);
	return rc;
}

static void run_release(struct run *r)
{
	sched_free(r->c);
	aidc_free(r->to_live);
	aidc_free(r->end_of);
	aidc_free(r->dur_of);
	aidc_free(r->cohort_d);
	aidc_free(r->fco_coh);
	aidc_free(r->tail_cnt);
	aidc_free(r->km);
	aidc_free(r->steps);
	aidc_free(r->cens);
	aidc_free(r->scr);
	aidc_heap_release(&r->ends);
}

/* Applies one pass's decisions at t: starts (the first start of a job
 * pending in the live core is its estimate) and preemptions (requeued);
 * true when a victim was stopped. */
static bool take_decisions(struct run *r, const struct sched_decisions *d, int64_t t,
			   int64_t *start_s, uint32_t *npending)
{
	bool preempted = false;
	for (size_t i = 0; i < d->n; i++) {
		const struct sched_decision *x = &d->v[i];
		if (x->kind == SCHED_DECIDE_START) {
			int64_t *st = &start_s[r->to_live[x->job]];
			if (*st == 0) {
				*st = t;
				(*npending)--;
			}
			int64_t est = r->dur_of[x->job] ? r->dur_of[x->job]
							: sched_job_estimate(r->c, x->job);
			run_ends(r, x->job, t + (est > 1 ? est : 1));
		} else if (x->kind == SCHED_DECIDE_PREEMPT) {
			r->end_of[x->job] = 0; /* its heap entry is now stale */
			sched_job_requeue(r->c, x->job, t, NULL);
			preempted = true;
		}
	}
	return preempted;
}

/* Finishes every job whose estimated end is the earliest one, if that is no
 * later than limit; returns that time, or limit when none ends by then. With
 * step_s, the time is rounded up to now_s + a multiple of step_s and every job
 * ending by then finishes (one pass for all of them). */
static int64_t finish_next(struct run *r, int64_t limit, int64_t now_s, int64_t step_s)
{
	const struct aidc_heap_item *top;
	int64_t at = limit;
	bool found = false;
	while ((top = aidc_heap_peek(&r->ends)) != NULL && top->key <= at) {
		struct aidc_heap_item it;
		aidc_heap_pop(&r->ends, &it);
		uint32_t h = (uint32_t)it.value;
		if (r->end_of[h] != it.key)
			continue; /* stale: the run was preempted */
		if (!found) {
			at = it.key, found = true;
			if (step_s > 0) {
				int64_t k = (it.key - now_s + step_s - 1) / step_s;
				at = now_s + k * step_s;
				at = at < limit ? at : limit;
				at = at > it.key ? at : it.key;
			}
		}
		r->end_of[h] = 0;
		sched_job_finish(r->c, h, at, NULL);
	}
	return at;
}

uint32_t sched_job_handles(const struct sched *s)
{
	return s->njob_slots;
}

int sched_forecast(const struct sched *s, int64_t now_s, uint32_t max_passes, int64_t step_s,
		   int64_t *start_s, size_t n, struct aidc_err *e)
{
	if (step_s < 0 || step_s > AIDC_MAX_DURATION_S)
		return aidc_errf(e, AIDC_E_INVAL, "forecast: step %" PRId64 " s outside 0..%lld",
				 step_s, (long long)AIDC_MAX_DURATION_S);
	if (n < s->njob_slots)
		return aidc_errf(e, AIDC_E_INVAL, "forecast: %zu outputs for %u job handles", n,
				 s->njob_slots);
	uint32_t npending = 0;
	for (size_t i = 0; i < n; i++)
		start_s[i] = 0;
	/* Running jobs are marked so that a restart in the copy is not taken
	 * for an estimate; cleared at the end. */
	for (uint32_t i = 0; i < s->njob_slots; i++) {
		if (s->jobs[i].live && s->jobs[i].running)
			start_s[i] = INT64_MIN;
		npending += s->jobs[i].live && !s->jobs[i].running;
	}
	struct run r = {0};
	aidc_heap_init(&r.ends);
	int rc = npending ? build(s, now_s, &r, e) : 0;
	struct sched_decisions d;
	sched_decisions_init(&d);
	int64_t t = now_s;
	for (uint32_t pass = 0; rc == 0 && npending > 0 && pass < max_passes; pass++) {
		if ((rc = sched_pass(r.c, t, &d, e)) != 0)
			break;
		/* Victims stopped: the jobs they make room for start in a pass at
		 * the same time. */
		if (take_decisions(&r, &d, t, start_s, &npending))
			continue;
		if (npending == 0)
			break;
		/* Next: the earliest estimated end, or a wakeup the core asks for
		 * (e.g. a Tiresias promotion), whichever comes first. */
		int64_t wake = sched_next_wakeup(r.c, t);
		int64_t next = finish_next(&r, wake, now_s, step_s);
		if (next == INT64_MAX)
			break; /* nothing will change: the rest never start */
		t = next > t ? next : t;
	}
	for (uint32_t i = 0; i < s->njob_slots; i++)
		if (start_s[i] == INT64_MIN)
			start_s[i] = 0;
	sched_decisions_release(&d);
	run_release(&r);
	return rc;
}
