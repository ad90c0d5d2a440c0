/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The discrete-event engine: replays a sorted trace through the scheduling
 * core. Events are arrivals (the trace, in order), completions (a min-heap
 * keyed by end time, tie-broken by job) and the core's own wakeups
 * (sched_next_wakeup). At each time step it applies, in this order, every
 * completion, then every arrival (in trace order), then ONE sched_pass; if the
 * pass preempted jobs they are requeued and the pass repeats until it preempts
 * nothing. A job runs for its trace duration capped by its time limit; a
 * preempted job resumes later with its remaining time (plus an optional
 * restart overhead).
 *
 * Every decision of the core is checked against invariants as it is applied
 * (gang all-or-nothing, no start before submit, no device share above 1000
 * milli, devices in use never above devices that exist), so every simulation
 * is also a test of the core. Cost per event: O(allocations of the decision)
 * plus the core's pass.
 */
#include <strings.h>

#include "sim/sim_int.h"

void sim_opts_defaults(struct sim_opts *o)
{
	struct sched_config cfg;

	memset(o, 0, sizeof *o);
	sched_config_defaults(&cfg);
	o->gittins_min_samples = cfg.gittins_min_samples;
	o->gittins_max_preempt = cfg.gittins_max_preempt;
	o->gittins_starve_factor = cfg.gittins_starve_factor;
	o->gittins_quantum_s = cfg.gittins_quantum_s;
	o->gittins_starve_s = cfg.gittins_starve_s;
	o->gittins_window = cfg.gittins_window;
	o->fs_half_life_s = cfg.fs_half_life_s;
	o->prio_calc_period_s = cfg.prio_calc_period_s;
	o->prio_max_age_s = cfg.prio_max_age_s;
	o->prio_weight_age = cfg.prio_weight_age;
	o->prio_weight_fairshare = cfg.prio_weight_fairshare;
	o->prio_weight_size = cfg.prio_weight_size;
	o->prio_weight_qos = cfg.prio_weight_qos;
	o->policy.order = SCHED_ORDER_FIFO;
	o->placement = SCHED_PLACE_CONSOLIDATE;
	o->from_s = INT64_MIN;
	o->to_s = INT64_MAX;
	o->seed = 1;
}

void sim_result_init(struct sim_result *r)
{
	memset(r, 0, sizeof *r);
}

void sim_result_release(struct sim_result *r)
{
	aidc_free(r->jobs);
	aidc_free(r->qstats);
	aidc_free(r->util);
	memset(r, 0, sizeof *r);
}

void sim_policy_label(const struct sim_policy *p, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s", sched_order_label(p->order), p->backfill ? "+bf" : "");
}

/* ---- cluster into the core ------------------------------------------------ */

int sim_cluster_build(const struct sim_cluster *c, struct sched *s, struct aidc_err *e)
{
	struct sched_device_spec devs[AIDC_MAX_DEVICES_PER_NODE];
	uint32_t rack = 0, gidx = 0;
	char nname[AIDC_MAX_NAME_BYTES + 16];
	for (size_t i = 0; i < c->n; i++) {
		const struct sim_node_group *g = &c->groups[i];
		int model = sched_add_model(s, g->model, g->vendor, g->device_mem_mib, e);
		if (model < 0)
			return model;
		int part = sched_add_partition(s, *g->partition ? g->partition : "default", e);
		if (part < 0)
			return part;
		uint32_t nv = g->nvlink ? g->nvlink : AIDC_MAX(g->devices, 1u);
		for (uint32_t d = 0; d < g->devices; d++) {
			devs[d].model = (uint32_t)model;
			devs[d].group = d / nv;
		}
		uint32_t rn = g->rack_nodes ? g->rack_nodes : 32;
		if (i > 0)
			rack++; /* every group starts a new rack */
		for (uint32_t k = 0; k < g->count; k++, gidx++) {
			if (k > 0 && k % rn == 0)
				rack++;
			if (rack >= AIDC_MAX_RACKS)
				return aidc_errf(e, AIDC_E_LIMIT, "more than %u racks", AIDC_MAX_RACKS);
			snprintf(nname, sizeof nname, "%s-%u", g->name, gidx);
			struct sched_node_spec ns = {
				.name = nname,
				.partition = (uint32_t)part,
				.rack = rack,
				.cpu_milli = g->cpu_milli,
				.mem_mib = g->mem_mib,
				.ndev = g->devices,
				.devs = devs,
			};
			int rc = sched_add_node(s, &ns, e);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* ---- engine state ---------------------------------------------------------- */

/* One device share held by a running job (for the share invariant). */
struct held {
	uint32_t dev, milli;
};

#define QSIZES 1024u /* pending-size buckets per account (guarantee accounting) */

struct engine {
	const struct sim_trace *t;
	const struct sim_opts *o;
	struct sim_result *r;
	struct sched *s;
	struct sched_decisions d;
	struct aidc_heap done; /* completions: key end time, tie job index, value epoch<<32|idx */
	uint32_t node_devs;    /* devices per node, for auto-shaped gangs */
	uint32_t nparts;
	int32_t *part_of;      /* strtab index -> partition id, -1 none, -2 not looked up */
	int64_t *mask_of;      /* strtab index -> model mask, -1 unknown model, -2 not looked up */
	uint32_t *dev_used;    /* per device, milli in use */
	uint32_t ndevs;
	uint32_t *node_stamp;  /* per node: last start that touched it (distinct-node count) */
	uint32_t nnodes, stamp;
	uint32_t *task_seen;   /* per task of the decision being checked */
	size_t cap_task_seen;
	struct held *held;     /* append-only log of device shares */
	size_t nheld, cap_held;
	size_t *held_first;    /* per job: its current run's first entry in held */
	uint32_t *held_n;
	uint64_t used;         /* milli in use, whole cluster */
	int32_t *group_of;     /* strtab index -> quota index, -1 none, -2 not looked up */
	int32_t *qgid;         /* quota index -> the core's group id */
	int64_t *qpend;        /* quota index -> pending demand, milli */
	/* quota index -> pending jobs by device count (QSIZES buckets, the last
	 * holds every larger job) and a bitmap of the non-empty buckets */
	uint32_t (*qsizes)[QSIZES];
	uint64_t (*qbits)[QSIZES / 64];
	size_t running, finished_or_lost;
	int64_t now;
	/* Heterogeneity (opts.speeds; hetero_setup): the model of each device,
	 * true speeds [class x nmodels + model] (0 = not listed: 1000), and per
	 * job the wall run time of its finished segments. NULL without speeds. */
	uint32_t *dev_model, *speed;
	uint32_t speed_rows, nmodels;
	int64_t *ran_s;
	size_t prior_in, prior_out; /* opts.gittins_prior's window (gittins_prior) */
	bool oracle_set;	    /* opts.eta_oracle given (eta_oracle), at oracle_t */
	int64_t oracle_t;
};

static int64_t run_time(const struct sim_job *j)
{
	int64_t d = j->duration_s;
	if (j->time_limit_s > 0 && d > j->time_limit_s)
		d = j->time_limit_s;
	return d;
}

/* The gang shape for the core: auto-shaped jobs of G devices become one task
 * of G devices when G fits a node, G/N whole-node tasks when G is a multiple
 * of the node size N, and G one-device tasks otherwise. */
static void shape(const struct engine *en, const struct sim_job *j, uint32_t *ntasks,
		  uint32_t *ndev)
{
	*ntasks = j->ntasks;
	*ndev = j->ndev;
	if (!(j->flags & SIM_JOB_SHAPE_AUTO))
		return;
	uint32_t g = j->ndev, n = en->node_devs ? en->node_devs : 1;
	if (g <= n) {
		*ntasks = 1;
		*ndev = g;
	} else if (g % n == 0) {
		*ntasks = g / n;
		*ndev = n;
	} else {
		*ntasks = g;
		*ndev = 1;
	}
}

static int32_t partition_of(struct engine *en, uint32_t vc)
{
	if (en->nparts == 1)
		return 0; /* one pool: every job goes there whatever its VC label */
	if (en->part_of[vc] == -2)
		en->part_of[vc] = sched_find_partition(en->s, sim_strtab_get(&en->t->strs, vc));
	return en->part_of[vc];
}

/* Model mask of a constraint "A|B"; -1 when a name is not in the cluster. */
static int64_t mask_of(struct engine *en, uint32_t model)
{
	if (model == 0)
		return 0;
	if (en->mask_of[model] != -2)
		return en->mask_of[model];
	const char *m = sim_strtab_get(&en->t->strs, model);
	uint64_t mask = 0;
	char name[AIDC_MAX_NAME_BYTES];
	while (*m) {
		const char *bar = strchr(m, '|');
		size_t n = bar ? (size_t)(bar - m) : strlen(m);
		snprintf(name, sizeof name, "%.*s", (int)n, m);
		int id = sched_find_model(en->s, name);
		if (id < 0 || id >= 64) {
			en->mask_of[model] = -1;
			return -1;
		}
		mask |= 1ull << id;
		m += n + (bar ? 1 : 0);
	}
	en->mask_of[model] = (int64_t)mask;
	return (int64_t)mask;
}

/* The quota (index in o->quotas) a VC label is charged to, or -1. */
static int32_t quota_of(struct engine *en, uint32_t vc)
{
	if (!en->o->nquotas)
		return -1;
	if (en->group_of[vc] == -2) {
		const char *name = sim_strtab_get(&en->t->strs, vc);
		en->group_of[vc] = -1;
		for (size_t q = 0; q < en->o->nquotas; q++)
			if (strcmp(en->o->quotas[q].name, name) == 0)
				en->group_of[vc] = (int32_t)q;
	}
	return en->group_of[vc];
}

/* Job i's device demand (milli) enters (+1) or leaves (-1) its account's pending. */
static void quota_pending(struct engine *en, size_t i, int sign)
{
	int32_t q = quota_of(en, en->t->jobs[i].vc);
	if (q < 0)
		return;
	const struct sim_job_run *jr = &en->r->jobs[i];
	uint32_t m = en->t->jobs[i].dev_milli ? en->t->jobs[i].dev_milli : AIDC_DEVICE_MILLI;
	int64_t need = (int64_t)jr->ntasks * jr->ndev * m;
	en->qpend[q] += sign * need;
	uint64_t b = (uint64_t)((need + AIDC_DEVICE_MILLI - 1) / AIDC_DEVICE_MILLI);
	if (b >= QSIZES)
		b = QSIZES - 1;
	en->qsizes[q][b] += (uint32_t)sign;
	if (en->qsizes[q][b])
		en->qbits[q][b / 64] |= UINT64_C(1) << (b % 64);
	else
		en->qbits[q][b / 64] &= ~(UINT64_C(1) << (b % 64));
}

/* Devices of the account's smallest pending job (0 when none). */
static int64_t quota_min_pending(const struct engine *en, size_t q)
{
	for (size_t w = 0; w < QSIZES / 64; w++)
		if (en->qbits[q][w])
			return (int64_t)(w * 64 + (size_t)__builtin_ctzll(en->qbits[q][w]));
	return 0;
}

static void reject(struct engine *en, size_t i, struct aidc_err *why)
{
	struct sim_result *r = en->r;
	r->jobs[i].status = SIM_ST_REJECTED;
	if (r->n_rejected++ == 0)
		snprintf(r->first_reject, sizeof r->first_reject, "job %" PRIu64 " (line %u): %.400s",
			 en->t->jobs[i].id, en->t->jobs[i].line, why->msg);
	en->finished_or_lost++;
}

static int submit(struct engine *en, size_t i, struct aidc_err *e)
{
	const struct sim_job *j = &en->t->jobs[i];
	struct sim_job_run *jr = &en->r->jobs[i];
	struct aidc_err why;
	aidc_err_clear(&why);
	int64_t mask = mask_of(en, j->model);
	if (mask < 0) {
		aidc_errf(&why, AIDC_E_NOFIT, "model '%s' is not in the cluster",
			  sim_strtab_get(&en->t->strs, j->model));
		reject(en, i, &why);
		return 0;
	}
	uint32_t ntasks, ndev;
	shape(en, j, &ntasks, &ndev);
	bool aut = j->flags & SIM_JOB_SHAPE_AUTO;
	const struct sim_strtab *st = &en->t->strs;
	struct sched_job_spec sp = {
		.id = (uint64_t)i + 1,
		.name = sim_strtab_get(st, j->name),
		.user = sim_strtab_get(st, j->user),
		.tenant = sim_strtab_get(st, j->tenant),
		.partition = (uint32_t)partition_of(en, j->vc),
		.priority = j->priority,
		.submit_s = j->submit_s,
		.ntasks = ntasks,
		/* GPU traces (auto-shaped) replay on devices only: their CPU counts
		 * describe the original machines, not ours. */
		.task = {.cpu_milli = aut ? 0 : j->cpu_milli,
			 .mem_mib = aut ? 0 : j->mem_mib,
			 .ndev = ndev,
			 .dev_milli = j->dev_milli,
			 .model_mask = (uint64_t)mask},
		.time_limit_s = j->time_limit_s,
		.predicted_s = j->predicted_s,
		.oracle_s = jr->run_s > 0 ? jr->run_s : 1,
		.flags = (j->flags & SIM_JOB_PREEMPTIBLE) ? SCHED_JOB_PREEMPTIBLE : 0,
		.speed_class = j->speed_class <= AIDC_MAX_SPEED_CLASSES ? j->speed_class : 0,
	};
	int32_t q = quota_of(en, j->vc);
	if (q >= 0) {
		sp.groups[sp.ngroups++] = (uint32_t)en->qgid[q];
		if (en->o->quotas[q].org >= 0) /* its organization's caps */
			sp.groups[sp.ngroups++] = (uint32_t)en->qgid[en->o->quotas[q].org];
	}
	int h = sched_submit(en->s, &sp, en->now, &why);
	if (h < 0) {
		if (h == AIDC_E_NOMEM || h == AIDC_E_INTERNAL)
			return aidc_errf(e, h, "submitting job %" PRIu64 ": %s", j->id,
					 aidc_err_text(&why, h));
		if (!why.code)
			aidc_errf(&why, h, "%s", aidc_strerror(h));
		reject(en, i, &why);
		return 0;
	}
	jr->handle = (uint32_t)h;
	jr->ntasks = ntasks;
	jr->ndev = ndev;
	jr->status = SIM_ST_PENDING;
	quota_pending(en, i, +1);
	return 0;
}

/* ---- applying decisions ----------------------------------------------------- */

static int bad_decision(struct aidc_err *e, const struct sched_decision *dc, const char *what)
{
	return aidc_errf(e, AIDC_E_INTERNAL, "invariant violated: job %" PRIu64 ": %s",
			 dc->job_id, what);
}

/* Checks a START decision and takes its device shares; fills jr->nodes/dev_milli. */
static int check_start(struct engine *en, const struct sched_decision *dc, size_t i,
		       struct aidc_err *e)
{
	struct sim_job_run *jr = &en->r->jobs[i];
	const struct sim_job *j = &en->t->jobs[i];
	if (en->now < j->submit_s)
		return bad_decision(e, dc, "started before it was submitted");
	AIDC_GROW(en->task_seen, en->cap_task_seen, jr->ntasks);
	memset(en->task_seen, 0, jr->ntasks * sizeof *en->task_seen);
	en->stamp++;
	uint32_t nodes = 0;
	uint64_t milli = 0;
	uint32_t want_milli = jr->ndev ? (j->dev_milli ? j->dev_milli : AIDC_DEVICE_MILLI) : 0;
	AIDC_GROW(en->held, en->cap_held, en->nheld + dc->nalloc);
	en->held_first[i] = en->nheld;
	en->held_n[i] = 0;
	for (uint32_t k = 0; k < dc->nalloc; k++) {
		const struct sched_alloc *a = &en->d.allocs[dc->first_alloc + k];
		if (a->task >= jr->ntasks || a->node >= en->nnodes)
			return bad_decision(e, dc, "allocation names a task or node that does not exist");
		en->task_seen[a->task]++;
		if (en->node_stamp[a->node] != en->stamp) {
			en->node_stamp[a->node] = en->stamp;
			nodes++;
		}
		if (a->dev == SCHED_NO_DEVICE)
			continue;
		if (a->dev >= en->ndevs || a->milli != want_milli)
			return bad_decision(e, dc, "device share is not the one requested");
		if (en->dev_used[a->dev] + a->milli > AIDC_DEVICE_MILLI)
			return bad_decision(e, dc, "a device would be shared above 1000 milli");
		en->dev_used[a->dev] += a->milli;
		en->held[en->nheld++] = (struct held){a->dev, a->milli};
		en->held_n[i]++;
		milli += a->milli;
	}
	for (uint32_t k = 0; k < jr->ntasks; k++)
		if (en->task_seen[k] != (jr->ndev ? jr->ndev : 1))
			return bad_decision(e, dc, "gang started partially (all-or-nothing broken)");
	en->used += milli;
	if (en->used > en->r->dev_milli_total)
		return bad_decision(e, dc, "devices in use exceed devices that exist");
	jr->nodes = nodes;
	jr->dev_milli = milli;
	return 0;
}

static void release_shares(struct engine *en, size_t i)
{
	for (uint32_t k = 0; k < en->held_n[i]; k++) {
		const struct held *h = &en->held[en->held_first[i] + k];
		en->dev_used[h->dev] -= h->milli;
	}
	en->held_n[i] = 0;
	en->used -= en->r->jobs[i].dev_milli;
}

/* Guarantee satisfaction over [en->now, until): an account with pending
 * demand is satisfied while it holds at least min(demand, nominal), up to
 * the granularity of jobs: while none of its pending jobs would fit in the
 * nominal quota it does not use (a 4-device job of an account holding 14 of
 * its 16 is not owed a start). */
static void quota_tick(struct engine *en, int64_t until)
{
	double dt = (double)(until - en->now);
	for (size_t q = 0; dt > 0 && q < en->o->nquotas; q++) {
		if (en->qpend[q] <= 0)
			continue;
		int64_t held = (int64_t)sched_group_dev_milli(en->s, (uint32_t)en->qgid[q]);
		int64_t demand = held + en->qpend[q];
		int64_t nominal = en->o->quotas[q].nominal_devices * AIDC_DEVICE_MILLI;
		int64_t smallest = quota_min_pending(en, q) * AIDC_DEVICE_MILLI;
		en->r->qstats[q].pending_s += dt;
		if (held >= (demand < nominal ? demand : nominal) || held + smallest > nominal)
			en->r->qstats[q].satisfied_s += dt;
	}
}

/* ---- heterogeneity: run time by the model a job runs on ------------------------ */

/* Speed of job i on the devices of decision dc (its first device's model;
 * a gang has one model): sets jr->speed_milli and jr->model. */
static void run_speed(struct engine *en, size_t i, const struct sched_decision *dc)
{
	struct sim_job_run *jr = &en->r->jobs[i];
	uint32_t cls = en->t->jobs[i].speed_class, sp = 0;

	jr->speed_milli = AIDC_DEVICE_MILLI;
	jr->model = -1;
	if (!en->speed)
		return;
	for (uint32_t k = 0; k < dc->nalloc && jr->model < 0; k++) {
		const struct sched_alloc *a = &en->d.allocs[dc->first_alloc + k];
		if (a->dev != SCHED_NO_DEVICE)
			jr->model = (int32_t)en->dev_model[a->dev];
	}
	if (jr->model >= 0 && cls < en->speed_rows)
		sp = en->speed[(size_t)cls * en->nmodels + (uint32_t)jr->model];
	jr->speed_milli = sp ? sp : AIDC_DEVICE_MILLI;
}

/* Wall time to run base seconds at speed sp (rounded up: never early). */
static int64_t wall_of(int64_t base, uint32_t sp)
{
	return sp == AIDC_DEVICE_MILLI ? base
				       : (base * AIDC_DEVICE_MILLI + sp - 1) / (int64_t)sp;
}

/* A run of job i ends: counts its wall time, feeds the core the observed
 * speed (opts.speed_learn; a finished run of a job with a class on a
 * device model). */
static int run_ends(struct engine *en, size_t i, bool finished, struct aidc_err *e)
{
	struct sim_job_run *jr = &en->r->jobs[i];
	int64_t wall = en->now - jr->run_start_s;
	uint32_t cls = en->t->jobs[i].speed_class;

	if (!en->speed)
		return 0;
	en->ran_s[i] += wall;
	if (!finished || !en->o->speed_learn || jr->model < 0 || cls == 0 || wall <= 0 ||
	    jr->remaining_s <= 0 || cls > AIDC_MAX_SPEED_CLASSES)
		return 0;
	int64_t obs = (jr->remaining_s * AIDC_DEVICE_MILLI + wall / 2) / wall;
	obs = AIDC_MIN(AIDC_MAX(obs, 1), (int64_t)AIDC_MAX_SPEED_MILLI);
	return sched_speed_observe(en->s, cls, (uint32_t)jr->model, (uint32_t)obs, e);
}

static int apply_start(struct engine *en, const struct sched_decision *dc, struct aidc_err *e)
{
	size_t i = (size_t)(dc->job_id - 1);
	if (dc->job_id == 0 || i >= en->t->n || en->r->jobs[i].status != SIM_ST_PENDING)
		return bad_decision(e, dc, "started a job that is not pending");
	struct sim_job_run *jr = &en->r->jobs[i];
	int rc = check_start(en, dc, i, e);
	if (rc)
		return rc;
	if (jr->first_start_s < 0)
		jr->first_start_s = en->now;
	jr->run_start_s = en->now;
	jr->status = SIM_ST_RUNNING;
	quota_pending(en, i, -1);
	jr->epoch++;
	jr->handle = dc->job;
	en->running++;
	run_speed(en, i, dc);
	aidc_heap_push(&en->done, en->now + wall_of(jr->remaining_s, jr->speed_milli), i,
		       ((uint64_t)jr->epoch << 32) | (uint64_t)i);
	return 0;
}

static int preempt(struct engine *en, uint32_t handle, struct aidc_err *e)
{
	uint64_t id = sched_job_id(en->s, handle);
	size_t i = (size_t)(id - 1);
	if (id == 0 || i >= en->t->n)
		return aidc_errf(e, AIDC_E_INTERNAL, "preemption of unknown handle %u", handle);
	struct sim_job_run *jr = &en->r->jobs[i];
	if (jr->status != SIM_ST_RUNNING)
		return 0; /* named twice in one pass */
	int rc = sched_job_requeue(en->s, jr->handle, en->now, e);
	if (rc)
		return rc;
	release_shares(en, i);
	if ((rc = run_ends(en, i, false, e)) != 0)
		return rc;
	/* remaining_s is base time: the wall time ran, at the run's speed */
	jr->remaining_s -= (en->now - jr->run_start_s) * jr->speed_milli / AIDC_DEVICE_MILLI;
	if (jr->remaining_s < 0)
		jr->remaining_s = 0;
	jr->remaining_s += en->o->restart_overhead_s;
	jr->status = SIM_ST_PENDING;
	quota_pending(en, i, +1);
	jr->preemptions++;
	jr->epoch++; /* its completion event is now stale */
	en->running--;
	return 0;
}

/* One time step's passes: repeat while the core preempts, at most
 * SIM_PREEMPT_ROUNDS times; past that, the last pass's PREEMPT decisions are
 * ignored (the core changed nothing for them) and counted, so a core that
 * keeps swapping the same jobs cannot stall the simulation. */
#define SIM_PREEMPT_ROUNDS 64
static int passes(struct engine *en, struct aidc_err *e)
{
	for (int iter = 0;; iter++) {
		int rc = sched_pass(en->s, en->now, &en->d, e);
		if (rc)
			return rc;
		en->r->passes++;
		size_t npre = 0;
		for (size_t k = 0; k < en->d.n && !rc; k++) {
			const struct sched_decision *dc = &en->d.v[k];
			if (dc->kind == SCHED_DECIDE_START) {
				rc = apply_start(en, dc, e);
			} else if (dc->kind == SCHED_DECIDE_RESERVE) {
				size_t i = (size_t)(dc->job_id - 1);
				if (dc->job_id && i < en->t->n && en->r->jobs[i].reserved_s < 0)
					en->r->jobs[i].reserved_s = dc->at_s;
			} else if (dc->kind == SCHED_DECIDE_PREEMPT) {
				npre++;
			}
		}
		if (rc)
			return rc;
		if (!npre)
			return 0;
		if (iter + 1 >= SIM_PREEMPT_ROUNDS) {
			en->r->preempt_capped++;
			return 0;
		}
		for (size_t k = 0; k < en->d.n && !rc; k++)
			if (en->d.v[k].kind == SCHED_DECIDE_PREEMPT)
				rc = preempt(en, en->d.v[k].job, e);
		if (rc)
			return rc;
	}
}

static int complete(struct engine *en, const struct aidc_heap_item *it, struct aidc_err *e)
{
	size_t i = (size_t)(it->value & 0xffffffffu);
	struct sim_job_run *jr = &en->r->jobs[i];
	if (jr->status != SIM_ST_RUNNING || jr->epoch != (uint32_t)(it->value >> 32))
		return 0; /* stale: the job was preempted after this was scheduled */
	int rc = sched_job_finish(en->s, jr->handle, en->now, e);
	if (rc)
		return rc;
	release_shares(en, i);
	if ((rc = run_ends(en, i, true, e)) != 0)
		return rc;
	if (en->speed)
		jr->run_s = en->ran_s[i]; /* what it ran, at the speeds it got */
	jr->end_s = en->now;
	jr->remaining_s = 0;
	jr->status = SIM_ST_DONE;
	en->running--;
	en->finished_or_lost++;
	return 0;
}

static void util_point(struct engine *en)
{
	struct sim_result *r = en->r;
	if (r->nutil && r->util[r->nutil - 1].used_milli == en->used)
		return;
	if (r->nutil && r->util[r->nutil - 1].t_s == en->now) {
		r->util[r->nutil - 1].used_milli = en->used;
		return;
	}
	AIDC_GROW(r->util, r->cap_util, r->nutil + 1);
	r->util[r->nutil++] = (struct sim_util_pt){en->now, en->used};
}

/* ---- setup and the loop ------------------------------------------------------ */

/* Row r's per-model entries with the cluster's model ids (any case). */
static int quota_models(struct engine *en, const struct sim_quota *r, struct sched_model_quota *mq,
			struct aidc_err *e)
{
	for (uint32_t i = 0; i < r->nmodels; i++) {
		int id = -1;
		for (uint32_t m = 0; m < sched_model_count(en->s) && id < 0; m++)
			if (!strcasecmp(sched_model_name(en->s, m), r->models[i].model))
				id = (int)m;
		if (id < 0) {
			char known[512] = "";
			size_t l = 0;
			for (uint32_t m = 0; m < sched_model_count(en->s) && l < sizeof known; m++)
				l += (size_t)snprintf(known + l, sizeof known - l, "%s%s", m ? ", " : "",
						      sched_model_name(en->s, m));
			return aidc_errf(e, AIDC_E_INVAL,
					 "quota file: account %s: quota_gpu:%s: the cluster has no such "
					 "model (its models: %s)",
					 r->name, r->models[i].model, known);
		}
		mq[i] = (struct sched_model_quota){(uint32_t)id, r->models[i].nominal,
						   r->models[i].borrow_limit, r->models[i].lend_limit};
	}
	return 0;
}

static int quota_group_set(struct engine *en, size_t q, int cohort, struct aidc_err *e)
{
	const struct sim_quota *r = &en->o->quotas[q];
	bool m = en->o->quotas_measure_only;
	int32_t parent = r->is_org ? -1 : r->org >= 0 ? en->qgid[r->org] : cohort;
	struct sched_group_spec gs = {.name = r->name, .parent = m ? -1 : parent,
				      .max_running_jobs = -1, .max_devices = -1,
				      .nominal_devices = m ? -1 : r->nominal_devices,
				      .borrow_limit = r->borrow_limit,
				      .lend_limit = r->lend_limit,
				      .shares = r->shares};
	struct sched_model_quota mq[SIM_MAX_QUOTA_MODELS];
	if (!m) {
		gs.cpus = r->cpus;
		gs.mem_mib = r->mem_mib;
		int rc = quota_models(en, r, mq, e);
		if (rc)
			return rc;
		gs.models = mq;
		gs.nmodels = r->nmodels;
	}
	int g = sched_group_set(en->s, &gs, e);
	if (g >= 0)
		en->qgid[q] = g;
	return g;
}

/* Each row's organization is -1 or another row marked is_org: a caller
 * that filled rows without sim_quota_init would otherwise put every account
 * under row 0's caps. */
static int check_orgs(const struct sim_opts *o, struct aidc_err *e)
{
	for (size_t q = 0; q < o->nquotas; q++) {
		int32_t org = o->quotas[q].org;
		if (org >= 0 && ((size_t)org >= o->nquotas || (size_t)org == q ||
				 !o->quotas[org].is_org || o->quotas[q].is_org))
			return aidc_errf(e, AIDC_E_INVAL,
					 "quota row %zu (account %s): organization index %d is "
					 "not another row marked as an organization",
					 q, o->quotas[q].name, (int)org);
	}
	return 0;
}

/* Tenancy: one cohort, one group per account with its quota. */
static int setup_quotas(struct engine *en, struct aidc_err *e)
{
	const struct sim_opts *o = en->o;
	if (!o->nquotas)
		return 0;
	int rc = check_orgs(o, e);
	if (rc)
		return rc;
	struct sched_group_spec cs = {.name = "cohort", .parent = -1, .max_running_jobs = -1,
				      .max_devices = -1, .nominal_devices = -1,
				      .borrow_limit = -1, .lend_limit = -1, .shares = 1};
	int cohort = sched_group_set(en->s, &cs, e);
	if (cohort < 0)
		return cohort;
	en->qgid = aidc_calloc(o->nquotas, sizeof *en->qgid);
	en->qpend = aidc_calloc(o->nquotas, sizeof *en->qpend);
	en->qsizes = aidc_calloc(o->nquotas, sizeof *en->qsizes);
	en->qbits = aidc_calloc(o->nquotas, sizeof *en->qbits);
	en->r->qstats = aidc_calloc(o->nquotas, sizeof *en->r->qstats);
	for (int orgs = 1; orgs >= 0; orgs--)
		for (size_t q = 0; q < o->nquotas; q++) {
			int g = o->quotas[q].is_org == (orgs == 1) ? quota_group_set(en, q, cohort, e)
								   : 0;
			if (g < 0)
				return g;
		}
	return 0;
}

/* The core's prior (opts.speed_prior) from the true table. */
static int hetero_prior(struct engine *en, struct aidc_err *e)
{
	int rc = 0;

	for (uint32_t m = 0; m < en->nmodels && !rc; m++) {
		uint64_t sum = 0, n = 0;
		for (uint32_t c = 1; c < en->speed_rows && !rc; c++) {
			uint32_t sp = en->speed[(size_t)c * en->nmodels + m];
			if (!sp)
				continue;
			sum += sp;
			n++;
			if (en->o->speed_prior == SIM_PRIOR_EXACT)
				rc = sched_speed_set(en->s, c, m, sp, e);
		}
		if (!rc && n && en->o->speed_prior == SIM_PRIOR_MODEL)
			rc = sched_speed_set(en->s, 0, m, (uint32_t)((sum + n / 2) / n), e);
	}
	return rc;
}

/* opts.charges into the core: fair share in normalized units (sim.h). */
static int setup_charges(struct engine *en, struct aidc_err *e)
{
	const struct sim_opts *o = en->o;

	if (o->ncharges && o->policy.order != SCHED_ORDER_MULTIFACTOR)
		return aidc_errf(e, AIDC_E_INVAL, "fair-share charges apply to order multifactor only");
	for (size_t k = 0; k < o->ncharges; k++) {
		int m = sched_find_model(en->s, o->charges[k].model);
		if (m < 0)
			return aidc_errf(e, AIDC_E_INVAL, "charge %zu: no device model '%s' in the cluster",
					 k + 1, o->charges[k].model);
		int rc = sched_model_set_charge(en->s, (uint32_t)m, o->charges[k].charge_milli, e);
		if (rc)
			return rc;
	}
	return 0;
}

/* Resolves opts.speeds by model name (models not in the cluster are
 * ignored) and the model of every device (the order sim_cluster_build
 * adds them). */
static int hetero_setup(struct engine *en, const struct sim_cluster *c, struct aidc_err *e)
{
	const struct sim_opts *o = en->o;
	uint32_t d = 0;

	if (!o->speeds)
		return 0;
	en->nmodels = AIDC_MAX(sched_model_count(en->s), 1u);
	for (size_t k = 0; k < o->nspeeds; k++) {
		const struct sim_speed *x = &o->speeds[k];
		if (x->cls < 1 || x->cls > AIDC_MAX_SPEED_CLASSES || x->speed_milli < 1 ||
		    x->speed_milli > AIDC_MAX_SPEED_MILLI)
			return aidc_errf(e, AIDC_E_INVAL, "speed entry %zu: class %u or speed %u out of range",
					 k + 1, x->cls, x->speed_milli);
		en->speed_rows = AIDC_MAX(en->speed_rows, x->cls + 1);
	}
	en->speed = aidc_calloc((size_t)AIDC_MAX(en->speed_rows, 1u) * en->nmodels, sizeof *en->speed);
	for (size_t k = 0; k < o->nspeeds; k++) {
		int m = sched_find_model(en->s, o->speeds[k].model);
		if (m >= 0)
			en->speed[(size_t)o->speeds[k].cls * en->nmodels + (uint32_t)m] =
			    o->speeds[k].speed_milli;
	}
	en->dev_model = aidc_calloc(AIDC_MAX(en->ndevs, 1u), sizeof *en->dev_model);
	for (size_t g = 0; g < c->n; g++) {
		int m = sched_find_model(en->s, c->groups[g].model);
		for (uint64_t k = 0; k < (uint64_t)c->groups[g].count * c->groups[g].devices; k++)
			en->dev_model[d++] = (uint32_t)(m < 0 ? 0 : m);
	}
	en->ran_s = aidc_calloc(AIDC_MAX(en->t->n, (size_t)1), sizeof *en->ran_s);
	return hetero_prior(en, e);
}

static int setup(struct engine *en, const struct sim_cluster *c, struct aidc_err *e)
{
	const struct sim_opts *o = en->o;
	struct sched_config cfg;
	sched_config_defaults(&cfg);
	cfg.order = o->policy.order;
	cfg.placement = o->compat_helios ? SCHED_PLACE_HELIOS : o->placement;
	cfg.blocking = (o->policy.backfill && !o->compat_helios) ? SCHED_BLOCK_EASY
								   : SCHED_BLOCK_STRICT;
	if (o->skip_blocked)
		cfg.blocking = SCHED_BLOCK_SKIP;
	cfg.seed = o->seed;
	cfg.restart_overhead_s = o->restart_overhead_s;
	cfg.gittins_min_samples = o->gittins_min_samples;
	cfg.gittins_max_preempt = o->gittins_max_preempt;
	cfg.gittins_starve_factor = o->gittins_starve_factor;
	cfg.gittins_quantum_s = o->gittins_quantum_s;
	cfg.gittins_starve_s = o->gittins_starve_s;
	cfg.gittins_window = o->gittins_window;
	cfg.fs_half_life_s = o->fs_half_life_s;
	cfg.prio_calc_period_s = o->prio_calc_period_s;
	cfg.prio_max_age_s = o->prio_max_age_s;
	cfg.prio_weight_age = o->prio_weight_age;
	cfg.prio_weight_fairshare = o->prio_weight_fairshare;
	cfg.prio_weight_size = o->prio_weight_size;
	cfg.prio_weight_qos = o->prio_weight_qos;
	cfg.hetero = o->hetero;
	if (o->tiresias_threshold_dev_s > 0) {
		/* an explicit threshold is fixed: no history-derived one */
		cfg.tiresias_threshold_dev_s = o->tiresias_threshold_dev_s;
		cfg.tiresias_threshold_pct = 0;
	}
	struct sched_env env = {.version = SCHED_ENV_VERSION};
	int rc = sched_new(&cfg, &env, &en->s, e);
	if (rc)
		return rc;
	/* Before any history: Kaplan-Meier's rings are fed only while it is on. */
	if (o->eta_every && (rc = sched_forecast_km(en->s, o->eta_km, e)) != 0)
		return rc;
	rc = sim_cluster_build(c, en->s, e);
	if (rc)
		return rc;
	en->node_devs = sim_cluster_node_devices(c);
	en->nparts = sched_partition_count(en->s);
	en->nnodes = sched_node_count(en->s);
	uint64_t ndevs = sim_cluster_devices(c);
	en->ndevs = (uint32_t)ndevs;
	en->r->dev_milli_total = ndevs * AIDC_DEVICE_MILLI;
	en->dev_used = aidc_calloc(ndevs ? ndevs : 1, sizeof *en->dev_used);
	en->node_stamp = aidc_calloc(en->nnodes ? en->nnodes : 1, sizeof *en->node_stamp);
	size_t ns = AIDC_MAX(sim_strtab_count(&en->t->strs), 1u);
	en->part_of = aidc_malloc(ns * sizeof *en->part_of);
	en->mask_of = aidc_malloc(ns * sizeof *en->mask_of);
	en->group_of = aidc_malloc(ns * sizeof *en->group_of);
	for (size_t k = 0; k < ns; k++) {
		en->part_of[k] = -2;
		en->mask_of[k] = -2;
		en->group_of[k] = -2;
	}
	rc = hetero_setup(en, c, e);
	if (!rc)
		rc = setup_charges(en, e);
	return rc ? rc : setup_quotas(en, e);
}

/* Marks what the options filter out; returns how many jobs remain. */
static void classify(struct engine *en)
{
	const struct sim_opts *o = en->o;
	struct sim_result *r = en->r;
	for (size_t i = 0; i < en->t->n; i++) {
		const struct sim_job *j = &en->t->jobs[i];
		struct sim_job_run *jr = &r->jobs[i];
		jr->first_start_s = jr->end_s = jr->reserved_s = jr->eta_s = -1;
		jr->run_s = jr->remaining_s = run_time(j);
		bool gpu_only = o->gpu_only || o->compat_helios;
		if (j->submit_s < o->from_s || j->submit_s > o->to_s || (gpu_only && j->ndev == 0)) {
			jr->status = SIM_ST_EXCLUDED;
			r->n_excluded++;
		} else if (partition_of(en, j->vc) < 0) {
			jr->status = SIM_ST_NO_PART;
			r->n_no_part++;
		} else {
			jr->status = SIM_ST_WAITING;
		}
		if (jr->status != SIM_ST_WAITING)
			en->finished_or_lost++;
	}
}

/* opts.eta_oracle (ORACLE): the true run times (as submit gives them in
 * oracle_s) of every replayed job, or with opts.eta_oracle_window_s = W > 0
 * of those submitted within W of now (given again when an hour has passed),
 * with W < 0 of those submitted in [now - |W|, now] (at every forecast), to
 * the forecast by partition and devices. Jobs are in submit order. */
static int eta_oracle(struct engine *en, struct aidc_err *e)
{
	int64_t w = en->o->eta_oracle_window_s, ahead = w > 0 ? w : 0;
	bool fresh = en->oracle_set && (!w || (w > 0 && en->now - en->oracle_t < 3600));
	if (!en->o->eta_oracle || fresh)
		return 0;
	w = w < 0 ? -w : w;
	size_t lo = 0, hi = en->t->n;
	while (w && lo < hi) { /* the first job submitted at now - w or later */
		size_t mid = lo + (hi - lo) / 2;
		if (en->t->jobs[mid].submit_s < en->now - w)
			lo = mid + 1;
		else
			hi = mid;
	}
	struct sched_fc_sample *v = aidc_calloc(en->t->n + 1, sizeof *v);
	size_t n = 0;
	for (size_t i = lo; i < en->t->n; i++) {
		const struct sim_job *j = &en->t->jobs[i];
		const struct sim_job_run *jr = &en->r->jobs[i];
		uint32_t ntasks, ndev;
		if (w && j->submit_s > en->now + ahead)
			break;
		if (jr->status == SIM_ST_EXCLUDED || jr->status == SIM_ST_NO_PART)
			continue;
		shape(en, j, &ntasks, &ndev);
		v[n++] = (struct sched_fc_sample){(uint32_t)partition_of(en, j->vc), ntasks * ndev,
						  AIDC_MAX(jr->run_s, 1)};
	}
	int rc = sched_forecast_oracle(en->s, en->o->eta_oracle, v, n, e);
	aidc_free(v);
	en->oracle_set = true;
	en->oracle_t = en->now;
	return rc;
}

/* Start estimates at submission (opts.eta_every): one forecast of the core
 * as it is after the jobs [first, last) arrived, before the pass that may
 * start them, as the controller makes it for a job just submitted. */
static int estimate(struct engine *en, size_t first, size_t last, struct aidc_err *e)
{
	bool want = false;
	for (size_t i = first; i < last; i++)
		want |= en->r->jobs[i].status == SIM_ST_PENDING && i % en->o->eta_every == 0;
	if (!want)
		return 0;
	int rc = eta_oracle(en, e);
	if (rc)
		return rc;
	size_t n = sched_job_handles(en->s);
	int64_t *est = aidc_calloc(n ? n : 1, sizeof *est);
	rc = sched_forecast(en->s, en->now,
				en->o->eta_max_passes ? en->o->eta_max_passes : 100000,
				en->o->eta_step_s, est, n, e);
	for (size_t i = first; rc == 0 && i < last; i++) {
		struct sim_job_run *jr = &en->r->jobs[i];
		if (jr->status == SIM_ST_PENDING && i % en->o->eta_every == 0)
			jr->eta_s = jr->handle < n ? est[jr->handle] : 0;
	}
	aidc_free(est);
	return rc;
}

/* opts.gittins_prior (ORACLE): job i's true run time into (sign 1) or out of
 * (-1) its Gittins classes; only jobs that are replayed. */
static int gittins_prior_one(struct engine *en, size_t i, int sign, struct aidc_err *e)
{
	const struct sim_job *j = &en->t->jobs[i];
	const struct sim_job_run *jr = &en->r->jobs[i];
	struct sched_job_spec sp = {
	    .name = sim_strtab_get(&en->t->strs, j->name),
	    .user = sim_strtab_get(&en->t->strs, j->user),
	};

	if (jr->status == SIM_ST_EXCLUDED || jr->status == SIM_ST_NO_PART)
		return 0;
	sp.partition = (uint32_t)partition_of(en, j->vc);
	shape(en, j, &sp.ntasks, &sp.task.ndev);
	/* the run time submit gives as oracle_s, so "others" leaves it out */
	return sched_gittins_prior(en->s, &sp, AIDC_MAX(jr->run_s, 1), sign, e);
}

/* The prior at en->now: every job (no window: once), or the jobs submitted
 * within opts.gittins_prior_window_s of now (en->prior_in / prior_out: the
 * next job of the trace to add / to drop). */
static int gittins_prior(struct engine *en, struct aidc_err *e)
{
	int64_t w = en->o->gittins_prior_window_s;
	int rc = 0;

	if (!en->o->gittins_prior || en->o->policy.order != SCHED_ORDER_GITTINS)
		return 0;
	if (en->o->gittins_prior == SIM_GPRIOR_SELF) {
		sched_gittins_prior_self(en->s);
		return 0;
	}
	if (en->o->gittins_prior == SIM_GPRIOR_OTHERS && en->prior_in == 0)
		sched_gittins_prior_others(en->s, w);
	while (!rc && en->prior_in < en->t->n &&
	       (!w || en->t->jobs[en->prior_in].submit_s <= en->now + w))
		rc = gittins_prior_one(en, en->prior_in++, 1, e);
	while (!rc && w && en->prior_out < en->prior_in &&
	       en->t->jobs[en->prior_out].submit_s < en->now - w)
		rc = gittins_prior_one(en, en->prior_out++, -1, e);
	return rc;
}

static int loop(struct engine *en, struct aidc_err *e)
{
	const struct sim_trace *t = en->t;
	size_t next = 0, total = t->n;
	int rc = 0;
	for (;;) {
		while (next < t->n && en->r->jobs[next].status != SIM_ST_WAITING)
			next++;
		int64_t when = next < t->n ? t->jobs[next].submit_s : INT64_MAX;
		const struct aidc_heap_item *top = aidc_heap_peek(&en->done);
		if (top && top->key < when)
			when = top->key;
		if (en->running > 0 || next < t->n) {
			int64_t w = sched_next_wakeup(en->s, en->now);
			if (w > en->now && w < when)
				when = w;
		}
		if (when == INT64_MAX || (en->running == 0 && next >= t->n && !top))
			break;
		if (en->o->nquotas)
			quota_tick(en, when);
		en->now = when;
		en->r->events++;
		if ((rc = gittins_prior(en, e)) != 0)
			return rc;
		struct aidc_heap_item it;
		while ((top = aidc_heap_peek(&en->done)) != NULL && top->key == en->now) {
			aidc_heap_pop(&en->done, &it);
			if ((rc = complete(en, &it, e)) != 0)
				return rc;
		}
		size_t first = next;
		for (; next < t->n && t->jobs[next].submit_s == en->now; next++)
			if (en->r->jobs[next].status == SIM_ST_WAITING && (rc = submit(en, next, e)))
				return rc;
		if (en->o->eta_every && (rc = estimate(en, first, next, e)) != 0)
			return rc;
		if ((rc = passes(en, e)) != 0)
			return rc;
		util_point(en);
		if (en->o->progress_fn && (en->r->events & 4095) == 0)
			en->o->progress_fn(en->o->progress_ctx, en->finished_or_lost, total, en->now);
	}
	if (en->o->progress_fn)
		en->o->progress_fn(en->o->progress_ctx, total, total, en->now);
	return 0;
}

int sim_run(const struct sim_trace *t, const struct sim_cluster *c, const struct sim_opts *o,
	    struct sim_result *r, struct aidc_err *e)
{
	struct engine en;
	memset(&en, 0, sizeof en);
	en.t = t;
	en.o = o;
	en.r = r;
	r->trace = t;
	r->policy = o->policy;
	r->placement = o->compat_helios ? SCHED_PLACE_HELIOS : o->placement;
	sched_decisions_init(&en.d);
	aidc_heap_init(&en.done);
	r->jobs = aidc_calloc(t->n ? t->n : 1, sizeof *r->jobs);
	en.held_first = aidc_calloc(t->n ? t->n : 1, sizeof *en.held_first);
	en.held_n = aidc_calloc(t->n ? t->n : 1, sizeof *en.held_n);
	int rc = setup(&en, c, e);
	if (rc)
		goto fail;
	if (t->n)
		en.now = t->jobs[0].submit_s;
	classify(&en);
	rc = loop(&en, e);
	if (rc)
		goto fail;
	for (size_t i = 0; i < t->n; i++)
		if (r->jobs[i].status == SIM_ST_PENDING)
			r->n_never_started++;
fail:
	sched_decisions_release(&en.d);
	aidc_heap_release(&en.done);
	sched_free(en.s);
	aidc_free(en.dev_used);
	aidc_free(en.node_stamp);
	aidc_free(en.part_of);
	aidc_free(en.mask_of);
	aidc_free(en.group_of);
	aidc_free(en.qgid);
	aidc_free(en.qpend);
	aidc_free(en.qsizes);
	aidc_free(en.qbits);
	aidc_free(en.task_seen);
	aidc_free(en.held);
	aidc_free(en.held_first);
	aidc_free(en.held_n);
	aidc_free(en.dev_model);
	aidc_free(en.speed);
	aidc_free(en.ran_s);
	return rc;
}
