/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The controller's only contact with the scheduling core (sched.h): nodes and
 * jobs in, passes and START decisions out, handles kept in step with the job
 * table. The core is the same one the simulator drives; it sees Unix seconds.
 *
 * Node states: the core's UP only for nodes whose agent is alive and not
 * drained; drained, down and not-yet-heard-from nodes are DRAINING in the core
 * (running jobs keep their resources, nothing new starts), so a lost node's
 * jobs can still be finished or requeued through the normal calls.
 *
 * Restart: a job that was running is submitted again and restored on exactly
 * the devices its tasks hold (sched_job_restore, from the allocation stored
 * with the job: what the tasks' AIDC_VISIBLE_DEVICES say, and the share of a
 * device each holds: "milli" of the record, absent = whole). Should that fail
 * (a node came back with fewer devices), it is placed with its own nodes
 * temporarily UP and every other node DRAINING, pinned to its nodes.
 */
#include <strings.h>

#include "ctld/ctld_int.h"
#include "util/hostlist.h"
#include "util/util.h"

static void core_log(void *ctx, int level, const char *msg)
{
	aidc_log((enum aidc_log_level)level, "sched: %s", msg);
}

int ctld_sched_init(struct ctld *c, struct aidc_err *e)
{
	struct sched_config sc;
	sched_config_defaults(&sc);
	sc.order = (enum sched_order)c->cfg.order;
	sc.placement = (enum sched_placement)c->cfg.placement;
	sc.hetero = (enum sched_hetero)c->cfg.hetero;
	sc.blocking = (enum sched_blocking)c->cfg.blocking;
	sc.restart_overhead_s = c->cfg.restart_overhead_s;
	sc.gittins_min_samples = (uint32_t)c->cfg.gittins_min_samples;
	sc.gittins_quantum_s = c->cfg.gittins_quantum_s;
	sc.gittins_max_preempt = (uint32_t)c->cfg.gittins_max_preempt;
	sc.gittins_starve_s = c->cfg.gittins_starve_s;
	sc.gittins_starve_factor = (uint32_t)c->cfg.gittins_starve_factor;
	sc.gittins_window = (uint32_t)c->cfg.gittins_window;
	sc.fs_half_life_s = c->cfg.fs_half_life_s;
	sc.prio_calc_period_s = c->cfg.priority_calc_period_s;
	sc.prio_max_age_s = c->cfg.priority_max_age_s;
	sc.prio_weight_age = (uint32_t)c->cfg.priority_weight_age;
	sc.prio_weight_fairshare = (uint32_t)c->cfg.priority_weight_fairshare;
	sc.prio_weight_size = (uint32_t)c->cfg.priority_weight_size;
	sc.prio_weight_qos = (uint32_t)c->cfg.priority_weight_qos;
	sc.prio_weight_partition = (uint32_t)c->cfg.priority_weight_partition;
	struct sched_env env = {.version = SCHED_ENV_VERSION, .ctx = c, .log_fn = core_log};
	return sched_new(&sc, &env, &c->sched, e);
}

/* sched_add_partition; a partition new to the core gets its priority job
 * factor from the config (partition_priority, checked when it was read). */
static int add_partition(struct ctld *c, const char *name, struct aidc_err *e)
{
	uint32_t before = sched_partition_count(c->sched), f = 0;
	int rc = sched_add_partition(c->sched, name, e);
	if (rc >= 0 && sched_partition_count(c->sched) > before &&
	    ctld_partition_priority(c->cfg.partition_priority, name, &f, e) == 0 && f)
		sched_partition_set_priority(c->sched, (uint32_t)rc, f, e);
	return rc;
}

/* The core's id of n's first device (n is in the core; the core numbers
 * devices in the order nodes were added). */
static uint32_t first_dev_of(struct ctld *c, const struct ctld_node *n)
{
	return c->core_first_dev[n->sched_id];
}

/* The node the core calls core_id, or -1 (one whose registration failed
 * after the core added it was dropped from nodes). */
static int node_of_core(struct ctld *c, uint32_t core_id)
{
	uint32_t i = core_id < c->ncore ? c->core_node[core_id] : UINT32_MAX;
	return i < c->nnodes && c->nodes[i].sched_id == (int32_t)core_id ? (int)i : -1;
}

/* Records the node the core just added as core_id with ndev devices. */
static void core_index_add(struct ctld *c, const struct ctld_node *n, uint32_t core_id,
			   uint32_t ndev)
{
	AIDC_GROW(c->core_node, c->cap_core_node, (size_t)core_id + 1);
	AIDC_GROW(c->core_first_dev, c->cap_core_first_dev, (size_t)core_id + 1);
	c->core_node[core_id] = (uint32_t)(n - c->nodes);
	c->core_first_dev[core_id] = c->core_ndevs;
	c->core_ndevs += ndev;
	c->ncore = (size_t)core_id + 1;
}

int ctld_sched_add_node(struct ctld *c, struct ctld_node *n, struct aidc_err *e)
{
	struct api_agent_register reg;
	int rc = api_decode(&api_schema_agent_register, n->info_json, strlen(n->info_json), &reg,
			    e);
	if (rc)
		return rc;
	struct sched_device_spec devs[AIDC_MAX_DEVICES_PER_NODE];
	uint32_t ndev = 0;
	const struct api_device *d = reg.devices.v;
	uint32_t nmodels = sched_model_count(c->sched);
	for (size_t i = 0; i < reg.devices.n; i++) {
		rc = sched_add_model(c->sched, d[i].model, d[i].vendor, (uint64_t)d[i].mem_mib, e);
		if (rc < 0)
			goto out;
		devs[ndev].model = (uint32_t)rc;
		devs[ndev].group = 0;
		ndev++;
	}
	if (sched_model_count(c->sched) != nmodels) {
		ctld_tenancy_models(c); /* quotas per model that named it */
		ctld_speeds_apply(c);   /* its row of the speed table (speeds.c) */
	}
	rc = add_partition(c, n->partition, e);
	if (rc < 0)
		goto out;
	struct sched_node_spec spec = {
		.name = n->name,
		.partition = (uint32_t)rc,
		.rack = 0,
		.cpu_milli = n->cpus * 1000u,
		.mem_mib = n->mem_mib,
		.ndev = ndev,
		.devs = devs,
	};
	rc = sched_add_node(c->sched, &spec, e);
	if (rc < 0)
		goto out;
	n->sched_id = rc;
	n->ndev = ndev;
	core_index_add(c, n, (uint32_t)rc, ndev);
	rc = ctld_sched_node_state(c, n);
out:
	api_decoded_release(&api_schema_agent_register, &reg);
	return rc < 0 ? rc : 0;
}

int ctld_sched_node_state(struct ctld *c, struct ctld_node *n)
{
	if (n->sched_id < 0)
		return 0;
	enum sched_node_state st =
		n->state == CTLD_NODE_UP && !n->drained ? SCHED_NODE_UP : SCHED_NODE_DRAINING;
	return sched_set_node_state(c->sched, (uint32_t)n->sched_id, st, NULL);
}

static void set_handle(struct ctld *c, struct ctld_job *j, int h)
{
	j->handle = h;
	if (h < 0)
		return;
	if ((size_t)h >= c->cap_handles) {
		size_t old = c->cap_handles;
		AIDC_GROW(c->by_handle, c->cap_handles, (size_t)h + 1);
		memset(c->by_handle + old, 0, (c->cap_handles - old) * sizeof *c->by_handle);
	}
	c->by_handle[h] = j;
}

/* ---- node lists (Slurm -w/--nodelist, -x/--exclude) ------------------------------ */

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The distinct names of hostlist list (Slurm's form), sorted: *out (free with
 * aidc_hostlist_free) and *n; field names the list in errors. O(n log n) for
 * the n <= AIDC_MAX_NODES names a short list may expand to. */
static int list_names(const char *field, const char *list, char ***out, size_t *n,
		      struct aidc_err *e)
{
	struct aidc_err he = {0};
	if (aidc_hostlist_expand(list, AIDC_MAX_NODES, out, n, &he) != 0)
		return aidc_errf(e, AIDC_E_INVAL, "%s '%.64s': %s", field, list, he.msg);
	qsort(*out, *n, sizeof **out, cmp_name);
	size_t k = 0;
	for (size_t i = 0; i < *n; i++) {
		if (k && !strcmp((*out)[k - 1], (*out)[i])) {
			aidc_free((*out)[i]);
			continue;
		}
		(*out)[k++] = (*out)[i];
	}
	*n = k;
	return 0;
}

/* Refuses names that are no node's, naming (up to 8 of) them, as Slurm's
 * "Invalid node name specified". */
static int names_known(struct ctld *c, const char *field, char **names, size_t n,
		       struct aidc_err *e)
{
	char bad[256] = "";
	size_t nbad = 0, len = 0;
	for (size_t i = 0; i < n; i++) {
		if (ctld_node_find(c, names[i], NULL))
			continue;
		if (nbad++ < 8 && len < sizeof bad)
			len += (size_t)snprintf(bad + len, sizeof bad - len, "%s%s",
						nbad > 1 ? ", " : "", names[i]);
	}
	if (!nbad)
		return 0;
	return aidc_errf(e, AIDC_E_INVAL,
			 "%s: invalid node name specified: %s%s (no such node; "
			 "aidc nodes lists them)",
			 field, bad, nbad > 8 ? ", ..." : "");
}

/* The nodelist's nodes in the job's partition and within its node count. */
static int nodelist_fits(struct ctld *c, struct api_job_submit *s, char **names, size_t n,
			 struct aidc_err *e)
{
	const char *part = s->partition ? s->partition : c->cfg.partition;
	for (size_t i = 0; i < n; i++) {
		const struct ctld_node *nd = ctld_node_find(c, names[i], NULL);
		const char *np = nd->partition ? nd->partition : c->cfg.partition;
		if (strcmp(np, part))
			return aidc_errf(e, AIDC_E_INVAL,
					 "nodelist: node %s is in partition %s, not the job's "
					 "partition %s",
					 names[i], np, part);
	}
	if (s->nodes > (int64_t)n)
		return aidc_errf(e, AIDC_E_UNSUPPORTED,
				 "nodes=%" PRId64 " with a nodelist of %zu node%s: Slurm would add "
				 "other nodes; that is not implemented here: list all %" PRId64,
				 s->nodes, n, n == 1 ? "" : "s", s->nodes);
	if (s->nodes && s->nodes < (int64_t)n)
		return aidc_errf(e, AIDC_E_INVAL,
				 "nodes=%" PRId64 " but the nodelist names %zu nodes (the job's "
				 "allocation contains every listed node, as in Slurm)",
				 s->nodes, n);
	if (s->ntasks < (int64_t)n)
		return aidc_errf(e, AIDC_E_INVAL,
				 "the nodelist names %zu nodes but the job has %" PRId64
				 " task%s (every listed node gets one at least; give more tasks)",
				 n, s->ntasks, s->ntasks == 1 ? "" : "s");
	s->nodes = (int64_t)n;
	return 0;
}

int ctld_sched_nodelists(struct ctld *c, struct api_job_submit *s, struct aidc_err *e)
{
	char **in = NULL, **ex = NULL;
	size_t nin = 0, nex = 0;
	int rc = 0;
	if (s->nodelist && (rc = list_names("nodelist", s->nodelist, &in, &nin, e)) == 0 &&
	    (rc = names_known(c, "nodelist", in, nin, e)) == 0)
		rc = nodelist_fits(c, s, in, nin, e);
	if (rc == 0 && s->exclude && (rc = list_names("exclude", s->exclude, &ex, &nex, e)) == 0)
		rc = names_known(c, "exclude", ex, nex, e);
	for (size_t i = 0, k = 0; rc == 0 && i < nin && k < nex;) { /* both sorted */
		int d = strcmp(in[i], ex[k]);
		if (d == 0)
			rc = aidc_errf(e, AIDC_E_INVAL,
				       "node %s is both in the nodelist and excluded", in[i]);
		i += d <= 0;
		k += d >= 0;
	}
	aidc_hostlist_free(in, nin);
	aidc_hostlist_free(ex, nex);
	return rc;
}

/* A hostlist as the core's node ids (nodes it does not have are left out:
 * an include list then cannot be met, an exclude list has nothing to say).
 * Caller frees the array. */
static uint32_t *core_ids(struct ctld *c, const char *list, uint32_t *n)
{
	char **names = NULL;
	size_t k = 0;
	*n = 0;
	if (!list || list_names("list", list, &names, &k, NULL) != 0)
		return NULL;
	uint32_t *ids = aidc_calloc(k + 1, sizeof *ids);
	for (size_t i = 0; i < k; i++) {
		const struct ctld_node *nd = ctld_node_find(c, names[i], NULL);
		if (nd && nd->sched_id >= 0)
			ids[(*n)++] = (uint32_t)nd->sched_id;
	}
	aidc_hostlist_free(names, k);
	return ids;
}

/* A job's --gpu-model no node has: AIDC_E_NOFIT naming the models known. */
static int no_model(const struct ctld *c, const char *model, struct aidc_err *e)
{
	char known[256] = "";
	size_t len = 0;
	for (uint32_t k = 0; k < sched_model_count(c->sched) && len < sizeof known; k++)
		len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", k ? ", " : "",
					sched_model_name(c->sched, k));
	return aidc_errf(e, AIDC_E_NOFIT, "no node has accelerator model '%s' (models here: %s)",
			 model, len ? known : "none");
}

int ctld_sched_submit(struct ctld *c, struct ctld_job *j, struct aidc_err *e)
{
	const struct api_job_submit *s = &j->spec;
	int part = add_partition(c, s->partition ? s->partition : c->cfg.partition, e);
	if (part < 0)
		return part;
	uint64_t mask = 0;
	if (s->gpu_model) {
		int m = sched_find_model(c->sched, s->gpu_model);
		/* GPU type names are case-insensitive, as Slurm's GRES types (--gres=gpu:a100
		 * on A100 nodes): the first node model that matches so. O(nodes), at submit. */
		for (size_t i = 0; m < 0 && i < c->nnodes; i++)
			if (!strcasecmp(c->nodes[i].model, s->gpu_model))
				m = sched_find_model(c->sched, c->nodes[i].model);
		if (m < 0)
			return no_model(c, s->gpu_model, e);
		mask = UINT64_C(1) << m;
	}
	struct sched_job_spec js = {
		.id = j->id,
		.name = j->name,
		.user = j->user,
		.tenant = s->account ? s->account : "",
		.partition = (uint32_t)part,
		/* multifactor: the QoS is a factor of its own, priority the job's nice */
		.priority = c->cfg.order == SCHED_ORDER_MULTIFACTOR ? (int32_t)j->spec.priority
								   : ctld_tenancy_priority(c, j),
		.qos_milli = c->cfg.order == SCHED_ORDER_MULTIFACTOR ? ctld_tenancy_qos_milli(c, j)
								    : 0,
		.submit_s = j->submit_s,
		.ntasks = j->ntasks,
		.nodes = (uint32_t)s->nodes,
		.tasks_per_node = (uint32_t)s->ntasks_per_node,
		.task = {.cpu_milli = (uint32_t)s->cpus_per_task * 1000u,
			 .mem_mib = (uint64_t)s->mem_mib,
			 .ndev = (uint32_t)s->gpus_per_task,
			 .dev_milli = !s->gpus_per_task ? 0u
				      : s->gpu_milli ? (uint32_t)s->gpu_milli
						     : AIDC_DEVICE_MILLI,
			 .model_mask = mask,
			 .exclusive = s->exclusive},
		.time_limit_s = s->time_limit_s,
		.flags = s->preemptible ? SCHED_JOB_PREEMPTIBLE : 0u,
	};
	js.speed_class = ctld_speeds_class(c, j->name); /* speeds.c */
	if (ctld_tenancy_qos_rights(c, j, &js.qos_class, &js.preempt_qos))
		js.flags |= SCHED_JOB_QOS_PREEMPT;
	int ng = ctld_tenancy_groups(c, j, js.groups, e);
	if (ng < 0)
		return ng;
	js.ngroups = (uint32_t)ng;
	uint32_t *in = core_ids(c, s->nodelist, &js.ninclude);
	uint32_t *ex = core_ids(c, s->exclude, &js.nexclude);
	js.include_nodes = in;
	js.exclude_nodes = ex;
	static const uint32_t node0 = 0;
	if (s->nodelist && !js.ninclude && sched_node_count(c->sched) > 0) {
		/* None of its nodes is the core's (their registration failed): node 0
		 * both included and excluded leaves it none, so it waits (never fits)
		 * instead of running elsewhere or being refused on a restart. */
		js.include_nodes = js.exclude_nodes = &node0;
		js.ninclude = js.nexclude = 1;
	}
	int h = sched_submit(c->sched, &js, ctld_now_s(), e);
	aidc_free(in);
	aidc_free(ex);
	if (h < 0)
		return h;
	set_handle(c, j, h);
	return 0;
}

/* The allocations the job's tasks hold (stored with the job, the devices their
 * AIDC_VISIBLE_DEVICES name) in the core's numbering. Caller frees *out. */
static uint32_t held_allocs(struct ctld *c, const struct ctld_job *j, struct sched_alloc **out)
{
	uint32_t n = 0;
	struct sched_alloc *a =
		aidc_calloc((size_t)j->ntasks * AIDC_MAX_DEVICES_PER_NODE + 1, sizeof *a);
	for (uint32_t t = 0; t < j->ntasks; t++) {
		const struct ctld_task *k = &j->tasks[t];
		const struct ctld_node *nd = &c->nodes[k->node];
		uint32_t node = nd->sched_id >= 0 ? (uint32_t)nd->sched_id : UINT32_MAX;
		uint32_t first = nd->sched_id >= 0 ? first_dev_of(c, nd) : 0;
		if (k->ndev == 0)
			a[n++] = (struct sched_alloc){t, node, SCHED_NO_DEVICE, 0};
		for (uint32_t d = 0; d < k->ndev; d++)
			a[n++] = (struct sched_alloc){
			    t, node, first + k->devs[d],
			    k->dev_milli ? k->dev_milli : AIDC_DEVICE_MILLI};
	}
	*out = a;
	return n;
}

/* Old path, when the exact slots cannot be restored: placed with its own nodes
 * temporarily UP and every other node DRAINING, which pins it to its nodes. */
static int restore_on_nodes(struct ctld *c, struct ctld_job *j, struct aidc_err *e)
{
	for (uint32_t t = 0; t < j->ntasks; t++) {
		struct ctld_node *n = &c->nodes[j->tasks[t].node];
		if (n->sched_id >= 0)
			sched_set_node_state(c->sched, (uint32_t)n->sched_id, SCHED_NODE_UP, NULL);
	}
	sched_decisions_reset(&c->dec);
	int rc = sched_place(c->sched, (uint32_t)j->handle, SCHED_MODE_RUN_NOW, ctld_now_s(),
			     &c->dec, NULL, e);
	for (uint32_t t = 0; t < j->ntasks; t++)
		ctld_sched_node_state(c, &c->nodes[j->tasks[t].node]);
	return rc;
}

int ctld_sched_restore_running(struct ctld *c, struct ctld_job *j, struct aidc_err *e)
{
	int rc = ctld_sched_submit(c, j, e);
	if (rc)
		return rc;
	struct sched_alloc *a;
	uint32_t n = held_allocs(c, j, &a);
	struct aidc_err why = {0};
	rc = sched_job_restore(c->sched, (uint32_t)j->handle, a, n, ctld_now_s(), &why);
	aidc_free(a);
	if (rc) {
		aidc_log(AIDC_LOG_WARN,
			 "restore: job %" PRIu64 " cannot have its exact devices back (%s); "
			 "placing it on its nodes",
			 j->id, why.msg);
		rc = restore_on_nodes(c, j, e);
	}
	if (rc) {
		/* It runs but the core cannot account for it: keep it out of the core
		 * (never started twice) and let its tasks' reports settle it. */
		aidc_log(AIDC_LOG_WARN, "restore: job %" PRIu64 " does not fit its nodes: %s", j->id,
			 e ? e->msg : "");
		sched_job_cancel(c->sched, (uint32_t)j->handle, ctld_now_s(), NULL);
		c->by_handle[j->handle] = NULL;
		j->handle = -1;
		if (e)
			aidc_err_clear(e);
	}
	return 0;
}

void ctld_sched_release(struct ctld *c, struct ctld_job *j, bool requeue)
{
	if (j->handle < 0)
		return;
	uint32_t h = (uint32_t)j->handle;
	int64_t now = ctld_now_s();
	bool running = sched_job_state(c->sched, h) == SCHED_JOB_RUNNING;
	if (requeue && running) {
		sched_job_requeue(c->sched, h, now, NULL);
		return;
	}
	if (requeue)
		return; /* pending already */
	if (running && j->state != CTLD_JOB_CANCELLED)
		sched_job_finish(c->sched, h, now, NULL);
	else
		sched_job_cancel(c->sched, h, now, NULL);
	c->by_handle[h] = NULL;
	j->handle = -1;
}

const char *ctld_sched_reason(struct ctld *c, const struct ctld_job *j, char *buf, size_t n)
{
	if (j->handle < 0)
		return "none";
	enum sched_reason r = sched_job_reason(c->sched, (uint32_t)j->handle);
	char hold[192];
	sched_job_hold(c->sched, (uint32_t)j->handle, hold, sizeof hold);
	if (!hold[0])
		return sched_reason_name(r);
	snprintf(buf, n, "%s: %s", sched_reason_name(r), hold);
	return buf;
}

/* Turns one START decision into tasks on nodes; false if a node is unknown. */
static bool build_tasks(struct ctld *c, struct ctld_job *j, const struct sched_decision *d)
{
	j->tasks = aidc_calloc(j->ntasks, sizeof *j->tasks);
	for (uint32_t t = 0; t < j->ntasks; t++)
		j->tasks[t].index = t;
	for (uint32_t a = 0; a < d->nalloc; a++) {
		const struct sched_alloc *al = &c->dec.allocs[d->first_alloc + a];
		int ni = node_of_core(c, al->node);
		if (ni < 0 || al->task >= j->ntasks)
			return false;
		struct ctld_task *k = &j->tasks[al->task];
		k->node = (uint32_t)ni;
		if (al->dev != SCHED_NO_DEVICE && k->ndev < AIDC_MAX_DEVICES_PER_NODE) {
			k->devs[k->ndev++] = al->dev - first_dev_of(c, &c->nodes[ni]);
			k->dev_milli = al->milli; /* the job's share, the same on each device */
		}
	}
	for (uint32_t t = 0; t < j->ntasks; t++) {
		struct ctld_task *k = &j->tasks[t];
		k->state = CTLD_TASK_ASSIGNED;
		for (uint32_t u = 0; u < j->ntasks; u++)
			if (j->tasks[u].node == k->node) {
				if (u < t)
					k->local_rank++;
				k->local_size++;
			}
	}
	j->master_port = (uint16_t)(c->cfg.master_port_base +
				    (int64_t)(j->id % (uint64_t)c->cfg.master_port_range));
	return true;
}

/*
 * PREEMPT decisions: the core chose running preemptible jobs to stop for a
 * higher-priority one and changed nothing. Each victim still running is
 * stopped with target REQUEUE (the agents send SIGTERM, then SIGKILL after
 * kill_grace_s); when its tasks have ended it is pending again with attempt + 1
 * (sched_job_requeue), and the core keeps the room it frees for the job it was
 * chosen for, which starts in a later pass. A victim already stopping (cancel,
 * time limit, node loss) is left to that.
 */
static void act_on_preempts(struct ctld *c)
{
	for (size_t i = 0; i < c->dec.n; i++) {
		const struct sched_decision *d = &c->dec.v[i];
		if (d->kind != SCHED_DECIDE_PREEMPT)
			continue;
		struct ctld_job *v = c->by_handle[d->job];
		const struct ctld_job *f =
			d->for_job < c->cap_handles ? c->by_handle[d->for_job] : NULL;
		if (!v || v->state != CTLD_JOB_RUNNING)
			continue;
		char why[96];
		snprintf(why, sizeof why, "preempted by job %" PRIu64, f ? f->id : 0);
		struct aidc_err pe = {0};
		if (ctld_job_stop(c, v, CTLD_JOB_REQUEUE, why, &pe) != 0) {
			aidc_log(AIDC_LOG_ERROR, "preemption of job %" PRIu64 ": %s", v->id, pe.msg);
			continue;
		}
		aidc_log(AIDC_LOG_INFO, "job %" PRIu64 " (attempt %u) %s", v->id, v->attempt, why);
	}
}

/* Marks the pass's started jobs running and stores them and their tasks, all
 * in one unit of the iteration's group transaction (rolled back on error). */
static int persist_starts(struct ctld *c, struct aidc_err *e)
{
	int rc = ctld_tx_begin(c, e);
	if (rc)
		return rc;
	for (size_t i = 0; i < c->dec.n; i++) {
		const struct sched_decision *d = &c->dec.v[i];
		if (d->kind != SCHED_DECIDE_START)
			continue;
		struct ctld_job *j = c->by_handle[d->job];
		if (j && j->arr) {
			/* A job array's record: the start is its lowest pending index's,
			 * a new job that takes over the core's handle. */
			struct ctld_job *m = j;
			if (!(j = ctld_array_split(c, m, e))) {
				ctld_tx_rollback(c);
				return e->code ? e->code : AIDC_E_INTERNAL;
			}
			m->handle = -1;
			set_handle(c, j, (int)d->job);
		}
		if (!j || !build_tasks(c, j, d)) {
			ctld_tx_rollback(c);
			return aidc_errf(e, AIDC_E_INTERNAL, "START for an unknown job or node");
		}
		j->state = CTLD_JOB_RUNNING;
		j->start_s = ctld_now_s();
		/* Why it stopped or waited before is over once it runs again. */
		aidc_free(j->reason);
		j->reason = NULL;
		if ((rc = ctld_job_persist(c, j, true, e)) != 0) {
			ctld_tx_rollback(c);
			return rc;
		}
	}
	return ctld_tx_release(c, e);
}

/* Indexes the started jobs, then answers their nodes' parked polls: the
 * launch orders go out with the iteration's replies, after its group commit. */
static void announce_starts(struct ctld *c)
{
	for (size_t i = 0; i < c->dec.n; i++) {
		const struct sched_decision *d = &c->dec.v[i];
		if (d->kind == SCHED_DECIDE_START)
			ctld_index_add(c, c->by_handle[d->job]);
	}
	for (size_t i = 0; i < c->dec.n; i++) {
		const struct sched_decision *d = &c->dec.v[i];
		if (d->kind != SCHED_DECIDE_START)
			continue;
		struct ctld_job *j = c->by_handle[d->job];
		c->m_started++;
		ctld_metrics_queue_wait(c, (double)(j->start_s - j->submit_s));
		for (uint32_t t = 0; t < j->ntasks; t++)
			ctld_unpark_node(c, j->tasks[t].node);
	}
}

/* persist_starts failed: nothing was acknowledged or dispatched, so every
 * started job goes back to the queue. */
static void undo_starts(struct ctld *c)
{
	for (size_t i = 0; i < c->dec.n; i++) {
		const struct sched_decision *d = &c->dec.v[i];
		if (d->kind != SCHED_DECIDE_START)
			continue;
		struct ctld_job *j = c->by_handle[d->job];
		if (j && j->arr_new) { /* back to its array's record, which gets the handle */
			j = ctld_array_unsplit(c, j);
			set_handle(c, j, (int)d->job);
		}
		sched_job_requeue(c->sched, d->job, ctld_now_s(), NULL);
		if (j) {
			aidc_free(j->tasks);
			j->tasks = NULL;
			j->state = CTLD_JOB_PENDING;
			j->start_s = 0;
		}
	}
}

/* One pass of the core and what it decided; *requeued: job arrays queued
 * again after one of their elements started (another pass may start more). */
static int one_pass(struct ctld *c, struct aidc_err *e, size_t *requeued)
{
	int64_t t0 = ctld_mono_us();
	if (c->arr_refill)
		ctld_array_refill(c);
	int rc = sched_pass(c->sched, ctld_now_s(), &c->dec, e);
	c->m_passes++;
	if (rc)
		return rc;
	size_t nstart = 0, npreempt = 0;
	for (size_t i = 0; i < c->dec.n; i++) {
		const struct sched_decision *d = &c->dec.v[i];
		nstart += d->kind == SCHED_DECIDE_START;
		npreempt += d->kind == SCHED_DECIDE_PREEMPT;
		struct ctld_job *rj = d->kind == SCHED_DECIDE_RESERVE ? c->by_handle[d->job] : NULL;
		if (rj) { /* the start estimate of this pass (ctld_job_json) */
			rj->est_start_s = d->at_s;
			rj->est_pass = c->m_passes;
		}
	}
	if (nstart && (rc = persist_starts(c, e)) != 0)
		undo_starts(c);
	else if (nstart)
		announce_starts(c);
	if (nstart)
		*requeued = ctld_array_after_starts(c);
	/* The core marked the victims: they are stopped even when the starts were
	 * undone, or the jobs they were chosen for would wait for them to end. */
	if (npreempt)
		act_on_preempts(c);
	if (rc)
		return rc;
	c->last_pass_us = ctld_mono_us() - t0;
	ctld_metrics_pass(c, c->last_pass_us);
	return 0;
}

/* A pass starts at most one element of each job array (the array is one
 * pending job in the core): while arrays queue again after a start, further
 * passes follow in the same iteration (one group commit), up to
 * ARRAY_PASSES or ARRAY_PASS_US, so elements start at single jobs' rate. */
#define ARRAY_PASSES  256
#define ARRAY_PASS_US 50000

int ctld_sched_pass(struct ctld *c, struct aidc_err *e)
{
	int64_t t0 = ctld_mono_us();
	for (int round = 0;; round++) {
		size_t requeued = 0;
		int rc = one_pass(c, e, &requeued);
		if (rc || !requeued || round + 1 >= ARRAY_PASSES ||
		    ctld_mono_us() - t0 >= ARRAY_PASS_US)
			return rc;
	}
}


void ctld_forecast_maybe(struct ctld *c, int64_t now_ms)
{
	if (c->cfg.estimate_interval_ms <= 0 || now_ms < c->next_forecast_ms)
		return;
	c->next_forecast_ms = now_ms + c->cfg.estimate_interval_ms;
	size_t n = sched_job_handles(c->sched);
	if (n == 0)
		return;
	if (n > c->cap_fc)
		AIDC_GROW(c->fc_buf, c->cap_fc, n);
	struct aidc_err e = {0};
	int64_t t0 = ctld_mono_us();
	/* Bounded: at most AIDC_MAX_FORECAST_PASSES passes, and about as many as
	 * take estimate_budget_ms at the cost of the latest live pass (each
	 * forecast pass costs about as much), so the loop is never held long;
	 * jobs past that get no estimate. */
	uint64_t per_pass_us = c->last_pass_us > 0 ? (uint64_t)c->last_pass_us : 1;
	uint64_t budget = (uint64_t)c->cfg.estimate_budget_ms * 1000 / per_pass_us;
	uint32_t max_passes = budget < 100 ? 100
			      : budget > AIDC_MAX_FORECAST_PASSES ? AIDC_MAX_FORECAST_PASSES
								  : (uint32_t)budget;
	int rc = sched_forecast(c->sched, ctld_now_s(), max_passes, c->cfg.estimate_step_s,
				c->fc_buf, n, &e);
	if (rc) {
		aidc_log(AIDC_LOG_WARN, "start forecast: %s", aidc_err_text(&e, rc));
		return;
	}
	c->fc_seq++;
	for (size_t h = 0; h < n && h < c->cap_handles; h++) {
		struct ctld_job *j = c->by_handle[h];
		if (j && j->state == CTLD_JOB_PENDING && c->fc_buf[h] > 0) {
			j->fc_start_s = c->fc_buf[h];
			j->fc_seq = c->fc_seq;
		}
	}
	int64_t us = ctld_mono_us() - t0;
	if (us > 2000 * c->cfg.estimate_budget_ms + 1000000)
		aidc_log(AIDC_LOG_WARN, "start forecast took %" PRId64 " ms (estimate_budget_ms %" PRId64
			 ")", us / 1000, c->cfg.estimate_budget_ms);
}
