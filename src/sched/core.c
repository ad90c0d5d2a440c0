/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Life cycle of struct sched and the cluster model: configuration, device
 * models, partitions, nodes and their states, and the usage counters. Nodes
 * are appended (ids ascend in the order they are added), their devices are
 * contiguous in s->devs, and index.c files each node into the free-capacity
 * indexes of its partition; each partition also counts its nodes by class
 * (devices of a model, CPU, memory) for the exact never-fits test (place.c).
 */
#include "sched/sched_int.h"

void sched_config_defaults(struct sched_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->order = SCHED_ORDER_FIFO;
	cfg->placement = SCHED_PLACE_CONSOLIDATE;
	cfg->blocking = SCHED_BLOCK_STRICT;
	cfg->tiresias_threshold_dev_s = 3600;
	cfg->tiresias_starve_s = 0;
	cfg->default_estimate_s = 3600;
	cfg->seed = 1;
	cfg->predict_window = 10;
	cfg->tiresias_threshold_pct = 80;
	cfg->tiresias_min_samples = 20;
	cfg->gittins_min_samples = 16;
	cfg->gittins_quantum_s = 0;
	cfg->gittins_max_preempt = 0;
	cfg->gittins_starve_s = 604800;
	cfg->gittins_starve_factor = 10;
	cfg->gittins_window = 8;
	cfg->restart_overhead_s = 0;
	cfg->fs_half_life_s = 604800;
	cfg->prio_calc_period_s = 60;
	cfg->prio_max_age_s = 604800;
	cfg->prio_weight_age = 1000;
	cfg->prio_weight_fairshare = 10000;
	cfg->prio_weight_size = 0;
	cfg->prio_weight_qos = 10000;
}

static int check_config(const struct sched_config *cfg, struct aidc_err *e)
{
	if ((unsigned)cfg->order >= SCHED_ORDER_COUNT_)
		return aidc_errf(e, AIDC_E_INVAL, "unknown queue order %d", (int)cfg->order);
	if ((unsigned)cfg->placement >= SCHED_PLACE_COUNT_)
		return aidc_errf(e, AIDC_E_INVAL, "unknown placement %d", (int)cfg->placement);
	if ((unsigned)cfg->hetero >= SCHED_HETERO_COUNT_)
		return aidc_errf(e, AIDC_E_INVAL, "unknown heterogeneity mode %d", (int)cfg->hetero);
	if ((unsigned)cfg->blocking >= SCHED_BLOCK_COUNT_)
		return aidc_errf(e, AIDC_E_INVAL, "unknown blocking mode %d", (int)cfg->blocking);
	if (cfg->tiresias_threshold_dev_s <= 0 ||
	    cfg->tiresias_threshold_dev_s > AIDC_MAX_DURATION_S)
		return aidc_errf(e, AIDC_E_INVAL,
				 "tiresias threshold %" PRId64
				 " device-seconds out of range 1..%lld",
				 cfg->tiresias_threshold_dev_s, (long long)AIDC_MAX_DURATION_S);
	if (cfg->tiresias_starve_s < 0 || cfg->tiresias_starve_s > AIDC_MAX_DURATION_S)
		return aidc_errf(e, AIDC_E_INVAL,
				 "tiresias starvation limit %" PRId64 " s out of range 0..%lld",
				 cfg->tiresias_starve_s, (long long)AIDC_MAX_DURATION_S);
	if (cfg->tiresias_threshold_pct > 99)
		return aidc_errf(e, AIDC_E_INVAL,
				 "tiresias threshold percentile %u out of range 0..99",
				 cfg->tiresias_threshold_pct);
	if (cfg->tiresias_promote_pct > 100000)
		return aidc_errf(e, AIDC_E_INVAL,
				 "tiresias promote knob %u%% out of range 0..100000",
				 cfg->tiresias_promote_pct);
	if (cfg->gittins_min_samples < 1 || cfg->gittins_min_samples > 1000000)
		return aidc_errf(e, AIDC_E_INVAL, "gittins min samples %u out of range 1..1000000",
				 cfg->gittins_min_samples);
	if (cfg->gittins_window > 1000000)
		return aidc_errf(e, AIDC_E_INVAL, "gittins window %u out of range 0..1000000",
				 cfg->gittins_window);
	if (cfg->gittins_quantum_s < 0 || cfg->gittins_quantum_s > AIDC_MAX_DURATION_S ||
	    cfg->gittins_starve_s < 0 || cfg->gittins_starve_s > AIDC_MAX_DURATION_S ||
	    cfg->restart_overhead_s < 0 || cfg->restart_overhead_s > AIDC_MAX_DURATION_S)
		return aidc_errf(e, AIDC_E_INVAL,
				 "gittins quantum, starvation limit or restart overhead out of "
				 "range 0..%lld s",
				 (long long)AIDC_MAX_DURATION_S);
	if (cfg->fs_half_life_s < 0 || cfg->fs_half_life_s > AIDC_MAX_DURATION_S ||
	    cfg->prio_calc_period_s < 0 || cfg->prio_calc_period_s > AIDC_MAX_DURATION_S)
		return aidc_errf(e, AIDC_E_INVAL,
				 "fair-share half-life or priority recalculation period out of "
				 "range 0..%lld s",
				 (long long)AIDC_MAX_DURATION_S);
	if (cfg->prio_max_age_s < 1 || cfg->prio_max_age_s > AIDC_MAX_DURATION_S)
		return aidc_errf(e, AIDC_E_INVAL, "priority max age %" PRId64 " s out of range 1..%lld",
				 cfg->prio_max_age_s, (long long)AIDC_MAX_DURATION_S);
	if (cfg->prio_weight_age > AIDC_MAX_PRIORITY || cfg->prio_weight_fairshare > AIDC_MAX_PRIORITY ||
	    cfg->prio_weight_size > AIDC_MAX_PRIORITY || cfg->prio_weight_qos > AIDC_MAX_PRIORITY ||
	    cfg->prio_weight_partition > AIDC_MAX_PRIORITY)
		return aidc_errf(e, AIDC_E_INVAL, "a priority weight is above %d", AIDC_MAX_PRIORITY);
	if (cfg->default_estimate_s <= 0 || cfg->default_estimate_s > AIDC_MAX_DURATION_S)
		return aidc_errf(e, AIDC_E_INVAL,
				 "default estimate %" PRId64 " s out of range 1..%lld",
				 cfg->default_estimate_s, (long long)AIDC_MAX_DURATION_S);
	return 0;
}

int sched_new(const struct sched_config *cfg, const struct sched_env *env, struct sched **out,
	      struct aidc_err *e)
{
	struct sched_config def;
	struct sched *s;
	int rc;

	*out = NULL;
	if (!cfg) {
		sched_config_defaults(&def);
		cfg = &def;
	}
	rc = check_config(cfg, e);
	if (rc)
		return rc;
	if (env && env->version != SCHED_ENV_VERSION)
		return aidc_errf(e, AIDC_E_VERSION, "sched_env version %d, this core knows %d",
				 env->version, SCHED_ENV_VERSION);
	s = aidc_calloc(1, sizeof *s);
	s->cfg = *cfg;
	if (env)
		s->env = *env;
	else
		s->env.version = SCHED_ENV_VERSION;
	s->free_job = UINT32_MAX;
	s->now_last = INT64_MIN;
	aidc_heap_init(&s->demote);
	aidc_heap_init(&s->promote);
	*out = s;
	return 0;
}

static void part_release(struct sched_partition *p)
{
	aidc_free(p->name);
	aidc_free(p->nodes);
	aidc_free(p->q);
	aidc_free(p->inbox);
	aidc_free(p->running);
	aidc_free(p->run_ends);
	aidc_free(p->ncls);
}

void sched_free(struct sched *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->nmodels; i++) {
		aidc_free(s->models[i].name);
		aidc_free(s->models[i].vendor);
	}
	aidc_free(s->models);
	sched_fs_release(s);
	sched_quota_release(s);
	for (uint32_t i = 0; i < s->nparts; i++)
		part_release(&s->parts[i]);
	aidc_free(s->parts);
	for (uint32_t i = 0; i < s->nnodes; i++)
		aidc_free(s->nodes[i].name);
	aidc_free(s->nodes);
	aidc_free(s->devs);
	sched_frag_free(s->frag);
	sched_speeds_free(s->speeds);
	aidc_free(s->fs_charge);
	aidc_free(s->slots);
	for (uint32_t i = 0; i < s->npools; i++)
		sched_pool_release(&s->pools[i]);
	aidc_free(s->pools);
	for (uint32_t i = 0; i < s->njob_slots; i++) {
		struct sched_job *j = &s->jobs[i];
		aidc_free(j->name);
		aidc_free(j->user);
		aidc_free(j->tenant);
		aidc_free(j->allocs);
		aidc_free(j->filter);
	}
	aidc_free(s->jobs);
	sched_idmap_release(&s->ids);
	sched_predict_release(&s->pred);
	sched_gittins_release(&s->git);
	sched_forecast_release(s);
	aidc_heap_release(&s->demote);
	aidc_heap_release(&s->promote);
	aidc_free(s->scr);
	aidc_free(s->plan);
	aidc_free(s->plan2);
	aidc_free(s->cand);
	aidc_free(s->mark);
	aidc_free(s->resv.allocs);
	aidc_free(s->resv.held);
	aidc_free(s->ends);
	aidc_free(s->walk);
	aidc_free(s->end_pos);
	aidc_free(s->tmp_q);
	aidc_free(s->qkeys);
	aidc_free(s->rkeys);
	aidc_free(s->fs_depth);
	aidc_intern_release(&s->node_ids);
	sched_hot_release(s);
	aidc_free(s);
}

const struct sched_config *sched_get_config(const struct sched *s)
{
	return &s->cfg;
}

void sched_logf(const struct sched *s, int level, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!s->env.log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	s->env.log_fn(s->env.ctx, level, msg);
}

uint64_t sched_all_models(const struct sched *s)
{
	return s->nmodels >= 64 ? UINT64_MAX : ((uint64_t)1 << s->nmodels) - 1;
}

static int check_name(const char *what, const char *name, struct aidc_err *e)
{
	size_t n;

	if (!name || !name[0])
		return aidc_errf(e, AIDC_E_INVAL, "%s name is empty", what);
	n = strnlen(name, AIDC_MAX_NAME_BYTES);
	if (n >= AIDC_MAX_NAME_BYTES)
		return aidc_errf(e, AIDC_E_LIMIT, "%s name longer than %u bytes", what,
				 AIDC_MAX_NAME_BYTES - 1);
	return 0;
}

/* ---- models and partitions: O(count) lookups by name (both are small, bounded) */

int sched_find_model(const struct sched *s, const char *name)
{
	for (uint32_t i = 0; name && i < s->nmodels; i++)
		if (strcmp(s->models[i].name, name) == 0)
			return (int)i;
	return -1;
}

int sched_add_model(struct sched *s, const char *name, const char *vendor, uint64_t mem_mib,
		    struct aidc_err *e)
{
	int rc = check_name("model", name, e);
	int id;

	if (rc)
		return rc;
	if (vendor && strnlen(vendor, AIDC_MAX_NAME_BYTES) >= AIDC_MAX_NAME_BYTES)
		return aidc_errf(e, AIDC_E_LIMIT, "vendor name longer than %u bytes",
				 AIDC_MAX_NAME_BYTES - 1);
	id = sched_find_model(s, name);
	if (id >= 0)
		return id;
	if (s->nmodels >= AIDC_MAX_DEVICE_MODELS)
		return aidc_errf(e, AIDC_E_LIMIT, "more than %u device models",
				 AIDC_MAX_DEVICE_MODELS);
	AIDC_GROW(s->models, s->cap_models, s->nmodels + 1);
	s->models[s->nmodels].name = aidc_strdup(name);
	s->models[s->nmodels].vendor = aidc_strdup(vendor ? vendor : "");
	s->models[s->nmodels].mem_mib = mem_mib;
	return (int)s->nmodels++;
}

uint32_t sched_model_count(const struct sched *s)
{
	return s->nmodels;
}

const char *sched_model_name(const struct sched *s, uint32_t model)
{
	return model < s->nmodels ? s->models[model].name : NULL;
}

int sched_find_partition(const struct sched *s, const char *name)
{
	for (uint32_t i = 0; name && i < s->nparts; i++)
		if (strcmp(s->parts[i].name, name) == 0)
			return (int)i;
	return -1;
}

int sched_add_partition(struct sched *s, const char *name, struct aidc_err *e)
{
	struct sched_partition *p;
	int rc = check_name("partition", name, e);
	int id;

	if (rc)
		return rc;
	id = sched_find_partition(s, name);
	if (id >= 0)
		return id;
	if (s->nparts >= AIDC_MAX_PARTITIONS)
		return aidc_errf(e, AIDC_E_LIMIT, "more than %u partitions", AIDC_MAX_PARTITIONS);
	AIDC_GROW(s->parts, s->cap_parts, s->nparts + 1);
	p = &s->parts[s->nparts];
	memset(p, 0, sizeof *p);
	p->name = aidc_strdup(name);
	p->git_starved = UINT32_MAX;
	for (uint32_t m = 0; m < AIDC_MAX_DEVICE_MODELS; m++)
		p->pool_of[m] = UINT32_MAX;
	return (int)s->nparts++;
}

uint32_t sched_partition_count(const struct sched *s)
{
	return s->nparts;
}

const char *sched_partition_name(const struct sched *s, uint32_t part)
{
	return part < s->nparts ? s->parts[part].name : NULL;
}

/* ---- nodes ------------------------------------------------------------------ */

static int check_node_spec(const struct sched *s, const struct sched_node_spec *spec,
			   struct aidc_err *e)
{
	int rc = check_name("node", spec->name, e);

	if (rc)
		return rc;
	if (spec->partition >= s->nparts)
		return aidc_errf(e, AIDC_E_INVAL, "node %s: unknown partition %u", spec->name,
				 spec->partition);
	if (spec->rack >= AIDC_MAX_RACKS)
		return aidc_errf(e, AIDC_E_LIMIT, "node %s: rack %u >= %u", spec->name, spec->rack,
				 AIDC_MAX_RACKS);
	if (spec->cpu_milli > AIDC_MAX_NODE_CPU_MILLI)
		return aidc_errf(e, AIDC_E_LIMIT, "node %s: %u milli-cores > %u", spec->name,
				 spec->cpu_milli, AIDC_MAX_NODE_CPU_MILLI);
	if (spec->mem_mib > AIDC_MAX_NODE_MEM_MIB)
		return aidc_errf(e, AIDC_E_LIMIT, "node %s: %" PRIu64 " MiB > %llu", spec->name,
				 spec->mem_mib, (unsigned long long)AIDC_MAX_NODE_MEM_MIB);
	if (spec->ndev > AIDC_MAX_DEVICES_PER_NODE)
		return aidc_errf(e, AIDC_E_LIMIT, "node %s: %u devices > %u", spec->name,
				 spec->ndev, AIDC_MAX_DEVICES_PER_NODE);
	if (spec->ndev && !spec->devs)
		return aidc_errf(e, AIDC_E_INVAL, "node %s: devices missing", spec->name);
	for (uint32_t i = 0; i < spec->ndev; i++) {
		if (spec->devs[i].model >= s->nmodels)
			return aidc_errf(e, AIDC_E_INVAL, "node %s: device %u: unknown model %u",
					 spec->name, i, spec->devs[i].model);
		if (spec->devs[i].group >= AIDC_MAX_GROUPS_PER_NODE)
			return aidc_errf(e, AIDC_E_LIMIT, "node %s: device %u: group %u >= %u",
					 spec->name, i, spec->devs[i].group,
					 AIDC_MAX_GROUPS_PER_NODE);
	}
	if (s->nnodes >= AIDC_MAX_NODES)
		return aidc_errf(e, AIDC_E_LIMIT, "more than %u nodes", AIDC_MAX_NODES);
	/* Names are unique: one hash lookup (a linear scan made building 4,096
	 * nodes ~8M compares, paid again by every forecast's copy). */
	uint32_t other;
	if (aidc_intern_find(&s->node_ids, spec->name, &other) == 0)
		return aidc_errf(e, AIDC_E_EXISTS, "node %s already exists", spec->name);
	return 0;
}

/* Counts one more node of a class (O(classes): identical nodes share one). */
static void nclass_add(struct sched_partition *p, uint32_t model, uint32_t ndev, uint32_t cpu_milli,
		       uint64_t mem_mib)
{
	struct sched_nclass *c;

	for (uint32_t i = 0; i < p->nncls; i++) {
		c = &p->ncls[i];
		if (c->model == model && c->ndev == ndev && c->cpu_milli == cpu_milli &&
		    c->mem_mib == mem_mib) {
			c->count++;
			return;
		}
	}
	AIDC_GROW(p->ncls, p->cap_ncls, (size_t)p->nncls + 1);
	p->ncls[p->nncls++] = (struct sched_nclass){model, ndev, cpu_milli, 1, mem_mib};
}

static void nclass_add_node(struct sched_partition *p, const struct sched_node_spec *spec)
{
	uint32_t cnt[AIDC_MAX_DEVICE_MODELS] = {0};

	nclass_add(p, SCHED_NCLASS_CPU, spec->ndev, spec->cpu_milli, spec->mem_mib);
	for (uint32_t i = 0; i < spec->ndev; i++)
		cnt[spec->devs[i].model]++;
	for (uint32_t m = 0; m < AIDC_MAX_DEVICE_MODELS; m++)
		if (cnt[m])
			nclass_add(p, m, cnt[m], spec->cpu_milli, spec->mem_mib);
}

int sched_add_node(struct sched *s, const struct sched_node_spec *spec, struct aidc_err *e)
{
	struct sched_node *n;
	struct sched_partition *p;
	uint32_t id;
	int rc;

	if (!spec)
		return aidc_errf(e, AIDC_E_INVAL, "no node spec");
	rc = check_node_spec(s, spec, e);
	if (rc)
		return rc;
	id = s->nnodes;
	uint32_t iid;
	if (aidc_intern(&s->node_ids, spec->name, AIDC_MAX_NODES, &iid) != 0)
		return aidc_errf(e, AIDC_E_LIMIT, "more than %u nodes", AIDC_MAX_NODES);
	AIDC_GROW(s->nodes, s->cap_nodes, (size_t)id + 1);
	AIDC_GROW(s->devs, s->cap_devs, (size_t)s->ndevs + spec->ndev);
	n = &s->nodes[id];
	memset(n, 0, sizeof *n);
	n->name = aidc_strdup(spec->name);
	n->partition = spec->partition;
	n->rack = spec->rack;
	n->state = SCHED_NODE_UP;
	n->cpu_milli = n->cpu_free_milli = spec->cpu_milli;
	n->mem_mib = n->mem_free_mib = spec->mem_mib;
	n->first_dev = s->ndevs;
	n->ndev = n->ndev_free = spec->ndev;
	for (uint32_t i = 0; i < spec->ndev; i++) {
		struct sched_device *d = &s->devs[s->ndevs + i];
		d->node = id;
		d->model = (uint16_t)spec->devs[i].model;
		d->group = (uint16_t)spec->devs[i].group;
		d->free_milli = AIDC_DEVICE_MILLI;
		d->ntasks = 0;
		n->model_mask |= (uint64_t)1 << spec->devs[i].model;
	}
	s->ndevs += spec->ndev;
	s->nnodes++;

	p = &s->parts[spec->partition];
	AIDC_GROW(p->nodes, p->cap_nodes, (size_t)p->nnodes + 1);
	p->nodes[p->nnodes++] = id;
	p->max_cpu_milli = AIDC_MAX(p->max_cpu_milli, spec->cpu_milli);
	p->max_mem_mib = AIDC_MAX(p->max_mem_mib, spec->mem_mib);
	nclass_add_node(p, spec);
	p->use.dev_milli_total += (uint64_t)spec->ndev * AIDC_DEVICE_MILLI;
	p->use.devs_total += spec->ndev;
	p->use.cpu_milli_total += spec->cpu_milli;
	p->use.mem_mib_total += spec->mem_mib;
	AIDC_GROW(s->mark, s->cap_mark, s->nnodes);
	s->mark[id] = 0;
	sched_idx_add_node(s, id);
	return (int)id;
}

int sched_set_node_state(struct sched *s, uint32_t node, enum sched_node_state st,
			 struct aidc_err *e)
{
	struct sched_node *n;
	struct sched_usage *u;
	int sign;

	if (node >= s->nnodes)
		return aidc_errf(e, AIDC_E_NOTFOUND, "no node %u", node);
	if ((unsigned)st > SCHED_NODE_DOWN)
		return aidc_errf(e, AIDC_E_INVAL, "unknown node state %d", (int)st);
	n = &s->nodes[node];
	if (st == n->state)
		return 0;
	if (st == SCHED_NODE_DOWN && n->ntasks_held)
		return aidc_errf(e, AIDC_E_STATE,
				 "node %s still runs %u tasks: finish or requeue "
				 "its jobs first",
				 n->name, n->ntasks_held);
	/* Totals count UP and DRAINING nodes; only UP nodes are in the indexes. */
	u = &s->parts[n->partition].use;
	sign = 0;
	if (st == SCHED_NODE_DOWN)
		sign = -1;
	else if (n->state == SCHED_NODE_DOWN)
		sign = 1;
	if (sign) {
		u->dev_milli_total += (uint64_t)((int64_t)sign * n->ndev * AIDC_DEVICE_MILLI);
		u->devs_total += (uint32_t)(sign * (int32_t)n->ndev);
		u->cpu_milli_total += (uint64_t)((int64_t)sign * n->cpu_milli);
		u->mem_mib_total += (uint64_t)((int64_t)sign * (int64_t)n->mem_mib);
	}
	if (n->state == SCHED_NODE_UP)
		sched_idx_set_up(s, node, false);
	n->state = st;
	if (st == SCHED_NODE_UP)
		sched_idx_set_up(s, node, true);
	n->gen++;
	return 0;
}

uint32_t sched_node_count(const struct sched *s)
{
	return s->nnodes;
}

const char *sched_node_name(const struct sched *s, uint32_t node)
{
	return node < s->nnodes ? s->nodes[node].name : NULL;
}

/* ---- usage: O(partitions) from counters kept by index.c and job.c ------------ */

static void usage_add(struct sched_usage *to, const struct sched_usage *u)
{
	to->dev_milli_total += u->dev_milli_total;
	to->dev_milli_used += u->dev_milli_used;
	to->devs_total += u->devs_total;
	to->devs_busy += u->devs_busy;
	to->cpu_milli_total += u->cpu_milli_total;
	to->cpu_milli_used += u->cpu_milli_used;
	to->mem_mib_total += u->mem_mib_total;
	to->mem_mib_used += u->mem_mib_used;
	to->jobs_pending += u->jobs_pending;
	to->jobs_running += u->jobs_running;
}

void sched_usage(const struct sched *s, uint32_t part, struct sched_usage *u)
{
	memset(u, 0, sizeof *u);
	if (part != UINT32_MAX) {
		if (part < s->nparts)
			*u = s->parts[part].use;
		return;
	}
	for (uint32_t i = 0; i < s->nparts; i++)
		usage_add(u, &s->parts[i].use);
}

const char *sched_reason_name(enum sched_reason r)
{
	switch (r) {
	case SCHED_REASON_NONE:
		return "none";
	case SCHED_REASON_PRIORITY:
		return "priority";
	case SCHED_REASON_RESOURCES:
		return "resources";
	case SCHED_REASON_RESERVED:
		return "reserved";
	case SCHED_REASON_NEVER_FITS:
		return "never_fits";
	case SCHED_REASON_PREEMPTING:
		return "preempting";
	case SCHED_REASON_LIMIT:
		return "limit";
	case SCHED_REASON_QUOTA:
		return "quota";
	}
	return "unknown";
}
