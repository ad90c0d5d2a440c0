/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The FGD inflation experiment (Weng et al., ATC'23, section 6) over the
 * scheduling core's public API: build the cluster from an openb node list,
 * derive the workload's typical task shapes, inflate and shuffle the pod list
 * per seed, place pods one by one with a fractional policy, and sample the GPU
 * allocation ratio and the fragmentation at every 1% of arrived GPU request.
 * See docs/sim-openb.md for the differences from the published simulator.
 */
#include <time.h>

#include "sim/openb.h"
#include "util/util.h"

/* The placements of the FGD experiment; their names are sched's (src/sched/names.c). */
static const enum sched_placement openb_policies[] = {
	SCHED_PLACE_RANDOM,  SCHED_PLACE_DOTPROD, SCHED_PLACE_GPU_CLUSTERING, SCHED_PLACE_GPU_PACKING,
	SCHED_PLACE_BESTFIT, SCHED_PLACE_FGD,     SCHED_PLACE_AIDC_FRAG,
};

const char *sim_openb_policy_name(enum sched_placement p)
{
	for (size_t i = 0; i < AIDC_ARRAY_LEN(openb_policies); i++)
		if (openb_policies[i] == p)
			return sched_placement_name(p);
	return NULL;
}

int sim_openb_policy_parse(const char *name)
{
	enum sched_placement p;
	if (sched_placement_parse(name, &p) != 0 || !sim_openb_policy_name(p))
		return -1;
	return (int)p;
}

void sim_openb_config_defaults(struct sim_openb_config *c)
{
	memset(c, 0, sizeof *c);
	c->inflation = 1.3;
	c->popularity = 0.95;
	c->seed = 42; /* the published runs use seeds 42..51 */
	c->nseeds = 10;
}

static uint64_t pod_gpu(const struct sim_openb_pod *p)
{
	return (uint64_t)p->num_gpu * p->gpu_milli;
}

/* ---- typical task shapes --------------------------------------------------- */

struct group {
	uint32_t cpu, ngpu, milli;
	uint64_t mask;
	uint64_t count;
	double mem_sum;
};

static int cmp_key(const struct sim_openb_pod *a, const struct sim_openb_pod *b)
{
	if (a->cpu_milli != b->cpu_milli)
		return a->cpu_milli < b->cpu_milli ? -1 : 1;
	if (a->num_gpu != b->num_gpu)
		return a->num_gpu < b->num_gpu ? -1 : 1;
	if (a->gpu_milli != b->gpu_milli)
		return a->gpu_milli < b->gpu_milli ? -1 : 1;
	if (a->model_mask != b->model_mask)
		return a->model_mask < b->model_mask ? -1 : 1;
	return 0;
}

static int cmp_pod(const void *a, const void *b)
{
	return cmp_key(a, b);
}

/* Most popular first; equal counts in key order (the order above) for determinism. */
static int cmp_group(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	struct sim_openb_pod px = {x->cpu, 0, x->ngpu, x->milli, x->mask};
	struct sim_openb_pod py = {y->cpu, 0, y->ngpu, y->milli, y->mask};
	return cmp_key(&px, &py);
}

int sim_openb_workload(const struct sim_openb_pods *pods, double popularity,
		       struct sched_task_type **types, size_t *ntypes, struct aidc_err *e)
{
	*types = NULL;
	*ntypes = 0;
	if (!(popularity > 0 && popularity <= 1))
		return aidc_errf(e, AIDC_E_INVAL, "popularity %g outside (0, 1]", popularity);
	if (pods->n == 0)
		return 0;
	struct sim_openb_pod *v = aidc_calloc(pods->n, sizeof *v);
	memcpy(v, pods->v, pods->n * sizeof *v);
	qsort(v, pods->n, sizeof *v, cmp_pod);
	struct group *g = aidc_calloc(pods->n, sizeof *g);
	size_t ng = 0;
	for (size_t i = 0; i < pods->n; i++) {
		if (i == 0 || cmp_key(&v[i - 1], &v[i]) != 0)
			g[ng++] = (struct group){v[i].cpu_milli, v[i].num_gpu, v[i].gpu_milli,
						 v[i].model_mask, 0, 0};
		g[ng - 1].count++;
		g[ng - 1].mem_sum += (double)v[i].mem_mib;
	}
	qsort(g, ng, sizeof *g, cmp_group);
	double want = popularity * (double)pods->n, cum = 0;
	size_t k = 0;
	while (k < ng && cum < want)
		cum += (double)g[k++].count;
	if (k > AIDC_MAX_WORKLOAD_TYPES)
		k = AIDC_MAX_WORKLOAD_TYPES; /* the least popular shapes beyond the cap are dropped */
	struct sched_task_type *t = aidc_calloc(k, sizeof *t);
	for (size_t i = 0; i < k; i++) {
		t[i].req.cpu_milli = g[i].cpu;
		t[i].req.mem_mib = (uint64_t)(g[i].mem_sum / (double)g[i].count);
		t[i].req.ndev = g[i].ngpu;
		t[i].req.dev_milli = g[i].milli;
		t[i].req.model_mask = g[i].mask;
		t[i].weight = (double)g[i].count;
	}
	aidc_free(v);
	aidc_free(g);
	*types = t;
	*ntypes = k;
	return 0;
}

/* ---- one run ----------------------------------------------------------------- */

int sim_openb_arrivals(const struct sim_openb_pods *pods, double target, uint64_t seed,
		       uint32_t **order, size_t *n, struct aidc_err *e)
{
	*order = NULL;
	*n = 0;
	if (pods->n == 0)
		return 0;
	struct aidc_rng rng;
	aidc_rng_seed(&rng, seed);
	size_t cap = 0, k = 0;
	uint32_t *o = NULL;
	uint64_t total = 0;
	AIDC_GROW(o, cap, pods->n);
	for (size_t i = 0; i < pods->n; i++) {
		o[k++] = (uint32_t)i;
		total += pod_gpu(&pods->v[i]);
	}
	while (k > 0 && (double)total > target) {
		size_t j = (size_t)aidc_rng_below(&rng, k);
		total -= pod_gpu(&pods->v[o[j]]);
		o[j] = o[--k];
	}
	bool any_gpu = false; /* else drawing could never reach the target */
	for (size_t i = 0; i < pods->n && !any_gpu; i++)
		any_gpu = pod_gpu(&pods->v[i]) > 0;
	while (any_gpu) {
		uint32_t j = (uint32_t)aidc_rng_below(&rng, pods->n);
		uint64_t g = pod_gpu(&pods->v[j]);
		if ((double)(total + g) > target)
			break;
		if (k >= AIDC_MAX_TRACE_JOBS) {
			aidc_free(o);
			return aidc_errf(e, AIDC_E_LIMIT, "inflated workload passes %u pods",
					 AIDC_MAX_TRACE_JOBS);
		}
		AIDC_GROW(o, cap, k + 1);
		o[k++] = j;
		total += g;
	}
	for (size_t i = k; i > 1; i--) {
		size_t j = (size_t)aidc_rng_below(&rng, i);
		uint32_t tmp = o[i - 1];
		o[i - 1] = o[j];
		o[j] = tmp;
	}
	*order = o;
	*n = k;
	return 0;
}

static int build_cluster(struct sched *s, const struct sim_openb_models *models,
			 const struct sim_openb_nodes *nodes, const struct sched_task_type *types,
			 size_t ntypes, struct aidc_err *e)
{
	int rc;
	for (uint32_t m = 0; m < models->n; m++)
		if ((rc = sched_add_model(s, models->name[m], "", 0, e)) < 0)
			return rc;
	int part = sched_add_partition(s, "openb", e);
	if (part < 0)
		return part;
	struct sched_device_spec devs[AIDC_MAX_DEVICES_PER_NODE];
	for (size_t i = 0; i < nodes->n; i++) {
		const struct sim_openb_node *nd = &nodes->v[i];
		char name[32];
		snprintf(name, sizeof name, "openb-%05zu", i);
		for (uint32_t d = 0; d < nd->ngpu; d++)
			devs[d] = (struct sched_device_spec){nd->model, 0};
		struct sched_node_spec spec = {name, (uint32_t)part, 0, nd->cpu_milli, nd->mem_mib,
					       nd->ngpu, devs};
		if ((rc = sched_add_node(s, &spec, e)) < 0)
			return rc;
	}
	return sched_set_workload(s, types, ntypes, e);
}

struct curve {
	double alloc[SIM_OPENB_STEPS], frag[SIM_OPENB_STEPS];
	uint64_t failed, total, arrived;
};

static void sample(const struct sched *s, uint64_t cap, struct curve *c, uint32_t step)
{
	struct sched_usage u;
	sched_usage(s, UINT32_MAX, &u);
	c->alloc[step] = (double)u.dev_milli_used / (double)cap;
	c->frag[step] = sched_fragmentation(s, UINT32_MAX) / (double)cap;
}

static int run_one(const struct sim_openb_models *models, const struct sim_openb_nodes *nodes,
		   const struct sim_openb_pods *pods, const struct sched_task_type *types,
		   size_t ntypes, enum sched_placement policy, double inflation, uint64_t seed,
		   struct curve *c, struct aidc_err *e)
{
	uint64_t cap = nodes->gpu_milli_total;
	uint32_t *order = NULL;
	size_t n = 0;
	struct sched *s = NULL;
	struct sched_decisions d;
	sched_decisions_init(&d);
	int rc = sim_openb_arrivals(pods, inflation * (double)cap, seed, &order, &n, e);
	if (rc)
		goto fail;
	struct sched_config cfg;
	sched_config_defaults(&cfg);
	cfg.placement = policy;
	cfg.seed = seed;
	struct sched_env env = {.version = SCHED_ENV_VERSION};
	if ((rc = sched_new(&cfg, &env, &s, e)) ||
	    (rc = build_cluster(s, models, nodes, types, ntypes, e)) < 0)
		goto fail;
	memset(c, 0, sizeof *c);
	uint32_t step = 0;
	for (size_t i = 0; i <= n; i++) {
		while (step < SIM_OPENB_STEPS && c->arrived * 100 >= (uint64_t)step * cap)
			sample(s, cap, c, step++);
		if (i == n)
			break;
		const struct sim_openb_pod *p = &pods->v[order[i]];
		struct sched_job_spec js = {.id = i + 1, .ntasks = 1};
		js.task = (struct sched_req){p->cpu_milli, p->mem_mib, p->num_gpu, p->gpu_milli,
					     p->model_mask, false};
		int h = sched_submit(s, &js, 0, e);
		if (h < 0) {
			rc = h;
			goto fail;
		}
		c->total++;
		c->arrived += pod_gpu(p);
		sched_decisions_reset(&d);
		rc = sched_place(s, (uint32_t)h, SCHED_MODE_RUN_NOW, 0, &d, NULL, e);
		if (rc == AIDC_E_NOFIT) {
			c->failed++;
			aidc_err_clear(e);
			if ((rc = sched_job_cancel(s, (uint32_t)h, 0, e)))
				goto fail;
		} else if (rc) {
			goto fail;
		}
	}
	/* The stream stops just short of the target: later steps hold the final state. */
	for (; step < SIM_OPENB_STEPS; step++)
		sample(s, cap, c, step);
	rc = 0;
fail:
	sched_decisions_release(&d);
	sched_free(s);
	aidc_free(order);
	return rc;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int sim_openb_run(const struct sim_openb_models *models, const struct sim_openb_nodes *nodes,
		  const struct sim_openb_pods *pods, enum sched_placement policy,
		  const struct sim_openb_config *cfg, struct sim_openb_result *out,
		  struct aidc_err *e)
{
	memset(out, 0, sizeof *out);
	out->policy = policy;
	if (nodes->gpu_milli_total == 0)
		return aidc_errf(e, AIDC_E_INVAL, "the node list has no GPUs");
	if (pods->n == 0)
		return aidc_errf(e, AIDC_E_INVAL, "the pod list is empty");
	if (cfg->nseeds == 0 || cfg->nseeds > AIDC_MAX_SEEDS)
		return aidc_errf(e, AIDC_E_LIMIT, "%u seeds (1..%u)", cfg->nseeds, AIDC_MAX_SEEDS);
	if (!(cfg->inflation > 0 && cfg->inflation <= AIDC_MAX_OPENB_INFLATION))
		return aidc_errf(e, AIDC_E_LIMIT, "inflation %g outside (0, %g]", cfg->inflation,
				 AIDC_MAX_OPENB_INFLATION);
	if (!sim_openb_policy_name(policy))
		return aidc_errf(e, AIDC_E_INVAL, "policy %d is not a fractional policy", policy);
	struct sched_task_type *types = NULL;
	size_t ntypes = 0;
	int rc = sim_openb_workload(pods, cfg->popularity, &types, &ntypes, e);
	if (rc)
		return rc;
	struct curve *c = aidc_calloc(1, sizeof *c);
	for (uint32_t k = 0; k < cfg->nseeds; k++) {
		double t0 = now_s();
		uint64_t seed = cfg->seed + k;
		rc = run_one(models, nodes, pods, types, ntypes, policy, cfg->inflation, seed, c, e);
		if (rc)
			goto fail;
		double dt = now_s() - t0;
		out->wall_s += dt;
		for (int i = 0; i < SIM_OPENB_STEPS; i++) {
			out->alloc[i] += c->alloc[i] / cfg->nseeds;
			out->frag[i] += c->frag[i] / cfg->nseeds;
			if (k == 0 || c->alloc[i] < out->alloc_min[i])
				out->alloc_min[i] = c->alloc[i];
			if (k == 0 || c->alloc[i] > out->alloc_max[i])
				out->alloc_max[i] = c->alloc[i];
		}
		out->pods_failed += (double)c->failed / cfg->nseeds;
		out->pods_total += (double)c->total / cfg->nseeds;
		out->final_arrived += (double)c->arrived / (double)nodes->gpu_milli_total / cfg->nseeds;
		out->nseeds++;
		if (cfg->progress_fn)
			cfg->progress_fn(cfg->progress_ctx, policy, seed, dt);
	}
fail:
	aidc_free(c);
	aidc_free(types);
	return rc;
}
