/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Nodes and the agent protocol on the controller's loop thread: registration,
 * heartbeats (which also reconcile what each agent really runs), the work
 * long-poll (launch and kill orders), task status and log pushes, node loss
 * after the heartbeat timeout, admin drain/resume, and the node table's
 * persistence.
 *
 * Reconciliation (after a controller restart, an agent restart or a lost
 * message): an agent's running list is authoritative for its node. A listed
 * task the controller assigned there is adopted; a listed task the controller
 * does not run is killed; a task the controller believes RUNNING there but the
 * agent does not list is lost. Cost: O(listed x tasks on the node) per
 * heartbeat, through the node's index of active tasks (struct ctld_node.act).
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctld/ctld_int.h"
#include "util/hostlist.h"
#include "util/util.h"

const char *ctld_node_state_name(int st)
{
	static const char *const n[] = {"up", "drained", "down", "unknown"};
	return st >= 0 && st < (int)AIDC_ARRAY_LEN(n) ? n[st] : "invalid";
}

struct ctld_node *ctld_node_find(struct ctld *c, const char *name, uint32_t *idx)
{
	uint32_t id;
	if (aidc_intern_find(&c->node_names, name, &id) != 0 || id >= c->cap_node_of_name)
		return NULL;
	uint32_t i = c->node_of_name[id];
	if (i >= c->nnodes)
		return NULL;
	if (idx)
		*idx = i;
	return &c->nodes[i];
}

/* Makes node ni findable by name (once it is registered or restored). */
static int name_node(struct ctld *c, uint32_t ni, struct aidc_err *e)
{
	uint32_t id;
	if (aidc_intern(&c->node_names, c->nodes[ni].name, AIDC_MAX_NODES, &id) != 0)
		return aidc_errf(e, AIDC_E_LIMIT, "too many nodes (at most %u)", AIDC_MAX_NODES);
	if (id >= c->cap_node_of_name) {
		size_t old = c->cap_node_of_name;
		AIDC_GROW(c->node_of_name, c->cap_node_of_name, (size_t)id + 1);
		memset(c->node_of_name + old, 0xff, (c->cap_node_of_name - old) * sizeof(uint32_t));
	}
	c->node_of_name[id] = ni;
	return 0;
}

void ctld_index_add(struct ctld *c, struct ctld_job *j)
{
	for (uint32_t t = 0; j->tasks && t < j->ntasks; t++) {
		struct ctld_node *n = &c->nodes[j->tasks[t].node];
		AIDC_GROW(n->act, n->cap_act, n->nact + 1);
		n->act[n->nact++] = (struct ctld_task_ref){.job = j, .task = t};
	}
}

void ctld_index_remove(struct ctld *c, struct ctld_job *j)
{
	for (uint32_t t = 0; j->tasks && t < j->ntasks; t++) {
		struct ctld_node *n = &c->nodes[j->tasks[t].node];
		for (size_t i = 0; i < n->nact; i++)
			if (n->act[i].job == j && n->act[i].task == t) {
				n->act[i] = n->act[--n->nact];
				break;
			}
	}
}

/* A copy of a node's index, for walks whose steps may end jobs (which
 * removes them from the index). Caller frees. */
static struct ctld_task_ref *index_snapshot(const struct ctld_node *n, size_t *count)
{
	*count = n->nact;
	if (!n->nact)
		return NULL;
	struct ctld_task_ref *v = aidc_malloc(n->nact * sizeof *v);
	memcpy(v, n->act, n->nact * sizeof *v);
	return v;
}

/* Whether ref is still in n's index (an earlier step of a walk may have ended it). */
static bool indexed(const struct ctld_node *n, const struct ctld_task_ref *ref)
{
	for (size_t i = 0; i < n->nact; i++)
		if (n->act[i].job == ref->job && n->act[i].task == ref->task)
			return true;
	return false;
}

int ctld_node_persist(struct ctld *c, struct ctld_node *n, struct aidc_err *e)
{
	struct store_node r = {
		.name = n->name,
		.info_json = n->info_json,
		.state = n->drained ? CTLD_NODE_DRAINED
				    : (n->state == CTLD_NODE_DOWN ? CTLD_NODE_DOWN : CTLD_NODE_UP),
		.registered_s = n->registered_s,
	};
	return c->st->ops->node_put(c->st, &r, e);
}

static int commit_node(struct ctld *c, struct ctld_node *n, struct aidc_err *e)
{
	int rc = ctld_tx_begin(c, e);
	if (rc == 0 && (rc = ctld_node_persist(c, n, e)) != 0)
		ctld_tx_rollback(c);
	else if (rc == 0)
		rc = ctld_tx_release(c, e);
	return rc;
}

/* Fills a node's fields from its registration document (owned strings replaced). */
static int node_from_info(struct ctld *c, struct ctld_node *n, const char *info,
			  struct aidc_err *e)
{
	struct api_agent_register reg;
	int rc = api_decode(&api_schema_agent_register, info, strlen(info), &reg, e);
	if (rc)
		return rc;
	aidc_free(n->addr);
	aidc_free(n->partition);
	aidc_free(n->info_json);
	n->addr = aidc_strdup(reg.addr);
	n->partition = aidc_strdup(reg.partition ? reg.partition : c->cfg.partition);
	n->info_json = aidc_strdup(info);
	snprintf(n->agent_id, sizeof n->agent_id, "%s", reg.agent_id ? reg.agent_id : "");
	n->epoch = reg.epoch;
	n->cpus = (uint32_t)reg.cpus;
	n->mem_mib = (uint64_t)reg.mem_mib;
	n->ndev = (uint32_t)reg.devices.n;
	const struct api_device *d = reg.devices.v;
	snprintf(n->vendor, sizeof n->vendor, "%s", reg.devices.n ? d[0].vendor : "");
	snprintf(n->model, sizeof n->model, "%s", reg.devices.n && d[0].model ? d[0].model : "");
	n->dev_mem_mib = 0;
	for (size_t i = 0; i < reg.devices.n; i++) {
		n->dev_mem_mib += d[i].mem_mib > 0 ? (uint64_t)d[i].mem_mib : 0;
		if (strcmp(d[i].model ? d[i].model : "", n->model) != 0)
			snprintf(n->model, sizeof n->model, "mixed");
	}
	/* Counts for listings; the decoder bounded each by AIDC_MAX_TOPO_*. */
	const struct api_topology *t = reg.topology;
	n->has_topo = t != NULL;
	n->topo_packages = t ? (uint32_t)t->packages.n : 0;
	n->topo_numa = t ? (uint32_t)t->numa.n : 0;
	n->topo_cores = t ? (uint32_t)t->cores : 0;
	n->topo_pus = t ? (uint32_t)t->pus : 0;
	n->topo_accels = t ? (uint32_t)t->accelerators.n : 0;
	api_decoded_release(&api_schema_agent_register, &reg);
	return 0;
}

static struct ctld_node *node_add(struct ctld *c, const char *name)
{
	AIDC_GROW(c->nodes, c->cap_nodes, c->nnodes + 1);
	struct ctld_node *n = &c->nodes[c->nnodes++];
	memset(n, 0, sizeof *n);
	n->name = aidc_strdup(name);
	n->sched_id = -1;
	n->state = CTLD_NODE_UNKNOWN;
	return n;
}

static int restore_node(void *ctx, const struct store_node *r)
{
	struct ctld *c = ctx;
	struct aidc_err e = {0};
	struct ctld_node *n = node_add(c, r->name);
	int rc = name_node(c, (uint32_t)(c->nnodes - 1), &e);
	if (rc) {
		aidc_log(AIDC_LOG_ERROR, "restore: node %s: %s", r->name, e.msg);
		return rc;
	}
	n->drained = r->state == CTLD_NODE_DRAINED;
	n->registered_s = r->registered_s;
	/* Heard from nobody yet: give every agent one timeout to come back. */
	n->last_seen_ms = ctld_now_ms();
	rc = node_from_info(c, n, r->info_json, &e);
	if (rc == 0)
		rc = ctld_sched_add_node(c, n, &e);
	if (rc)
		aidc_log(AIDC_LOG_ERROR, "restore: node %s: %s", r->name, e.msg);
	return rc;
}

int ctld_nodes_restore(struct ctld *c, struct aidc_err *e)
{
	return c->st->ops->node_list(c->st, restore_node, c, e);
}

static bool task_terminal(int st)
{
	return st == CTLD_TASK_EXITED || st == CTLD_TASK_FAILED || st == CTLD_TASK_LOST;
}

/* Marks a task lost and stops (or settles) its job. */
static void task_lost(struct ctld *c, struct ctld_job *j, struct ctld_task *k, const char *why)
{
	k->state = CTLD_TASK_LOST;
	k->end_s = ctld_now_s();
	j->tasks_unsaved = true; /* stored when the job stops or settles, else with the next report */
	struct aidc_err e = {0};
	int rc;
	if (j->state == CTLD_JOB_RUNNING)
		rc = ctld_job_stop(c, j,
				   j->requeue_on_node_failure ? CTLD_JOB_REQUEUE : CTLD_JOB_NODE_FAIL,
				   why, &e);
	else
		rc = ctld_job_settle(c, j, &e);
	if (rc)
		aidc_log(AIDC_LOG_ERROR, "job %" PRIu64 ": %s", j->id, e.msg);
}

static void add_orphan(struct ctld_node *n, const struct api_task_ref *r)
{
	for (size_t i = 0; i < n->norphans; i++)
		if (!memcmp(&n->orphans[i], r, sizeof *r))
			return;
	if (n->norphans >= AIDC_MAX_TASKS_PER_NODE)
		return;
	AIDC_GROW(n->orphans, n->cap_orphans, n->norphans + 1);
	n->orphans[n->norphans++] = *r;
}

/* Applies an agent's running list (see the file comment). */
static void reconcile(struct ctld *c, uint32_t ni, const struct api_objv *running)
{
	struct ctld_node *n = &c->nodes[ni];
	const struct api_task_ref *refs = running->v;
	uint32_t adopted = 0;
	for (size_t i = 0; i < running->n; i++) {
		const struct api_task_ref *r = &refs[i];
		struct ctld_job *j = ctld_job_find(c, (uint64_t)r->job);
		struct ctld_task *k = NULL;
		if (j && ctld_job_active(j) && (uint32_t)r->attempt == j->attempt &&
		    (uint64_t)r->task < j->ntasks && j->tasks[r->task].node == ni)
			k = &j->tasks[r->task];
		if (!k || task_terminal(k->state)) {
			add_orphan(n, r);
			continue;
		}
		if (k->state == CTLD_TASK_ASSIGNED) {
			k->state = CTLD_TASK_RUNNING;
			if (!k->start_s) /* its "running" report, with the pid, may follow */
				k->start_s = ctld_now_s();
			adopted++;
			struct aidc_err e = {0};
			if (ctld_task_commit(c, j, (uint32_t)r->task, &e) != 0)
				aidc_log(AIDC_LOG_ERROR, "job %" PRIu64 ": %s", j->id, e.msg);
		}
		if (j->state == CTLD_JOB_STOPPING && !k->kill_sent)
			ctld_unpark_node(c, ni);
	}
	/* Tasks confirmed running here that the agent no longer lists are gone. */
	size_t nsnap;
	struct ctld_task_ref *snap = index_snapshot(n, &nsnap);
	for (size_t s = 0; s < nsnap; s++) {
		struct ctld_job *j = snap[s].job;
		uint32_t t = snap[s].task;
		if (!indexed(n, &snap[s]) || j->tasks[t].state != CTLD_TASK_RUNNING)
			continue;
		bool listed = false;
		for (size_t i = 0; i < running->n && !listed; i++)
			listed = (uint64_t)refs[i].job == j->id && (uint32_t)refs[i].task == t &&
				 (uint32_t)refs[i].attempt == j->attempt;
		if (!listed)
			task_lost(c, j, &j->tasks[t], "the agent no longer runs a task");
	}
	aidc_free(snap);
	if (adopted)
		aidc_log(AIDC_LOG_INFO, "node %s: adopted %u running tasks", n->name, adopted);
}

static void node_alive(struct ctld *c, struct ctld_node *n)
{
	n->last_seen_ms = ctld_now_ms();
	if (n->state == CTLD_NODE_UP)
		return;
	bool was_down = n->state == CTLD_NODE_DOWN;
	n->state = CTLD_NODE_UP;
	ctld_sched_node_state(c, n);
	c->need_pass = true;
	if (was_down) {
		struct aidc_err e = {0};
		if (commit_node(c, n, &e) != 0)
			aidc_log(AIDC_LOG_ERROR, "node %s: %s", n->name, e.msg);
		aidc_log(AIDC_LOG_INFO, "node %s is back up", n->name);
	}
}

int64_t ctld_heartbeat_s(const struct ctld *c)
{
	int64_t p = c->cfg.heartbeat_s, max = c->cfg.heartbeat_max_per_s;
	if (max > 0 && ((int64_t)c->nnodes + max - 1) / max > p)
		p = ((int64_t)c->nnodes + max - 1) / max;
	return p < 600 ? p : 600;
}

int64_t ctld_node_timeout_ms(const struct ctld *c)
{
	int64_t t = c->cfg.node_timeout_s, hb3 = 3 * ctld_heartbeat_s(c);
	return (t > hb3 ? t : hb3) * 1000;
}

static void ok_json(struct api_response *resp, struct ctld *c)
{
	int64_t hb = ctld_heartbeat_s(c);
	if (hb != c->heartbeat_told_s) {
		aidc_log(AIDC_LOG_INFO,
			 "heartbeat period %" PRId64 " s for %zu nodes (heartbeat_s %" PRId64
			 ", heartbeat_max_per_s %" PRId64 "); node timeout %" PRId64 " s",
			 hb, c->nnodes, c->cfg.heartbeat_s, c->cfg.heartbeat_max_per_s,
			 ctld_node_timeout_ms(c) / 1000);
		c->heartbeat_told_s = hb;
	}
	aidc_buf_printf(&resp->body,
			"{\"ok\":true,\"protocol\":%d,\"heartbeat_s\":%" PRId64
			",\"kill_grace_s\":%" PRId64 "}",
			API_AGENT_PROTOCOL_VERSION, hb, c->cfg.kill_grace_s);
}

/* A request of a live node's registered agent (not a replay of a parked
 * one): counts as a sign of life only while the node is up, so nothing but
 * a registration or a heartbeat brings a down node back. */
static void node_seen(struct ctld *c, struct ctld_node *n)
{
	if (n->state == CTLD_NODE_UP)
		n->last_seen_ms = ctld_now_ms();
}

/* Whether a request's epoch is the registered agent's; else AIDC_E_STATE
 * in e (the agent registers again, or gives up if a newer run replaced it). */
static bool epoch_ok(struct ctld_node *n, int64_t epoch, struct aidc_err *e)
{
	if (epoch == n->epoch)
		return true;
	aidc_errf(e, AIDC_E_STATE,
		  "stale agent: node %s is served by agent run %" PRId64 ", not %" PRId64
		  " (register again)",
		  n->name, n->epoch, epoch);
	return false;
}

/* The epoch of a GET or octet-stream request (query "epoch"). */
static bool query_epoch_ok(struct ctld_msg *m, struct ctld_node *n)
{
	const char *v = api_query(m->req, "epoch");
	int64_t epoch = -1;
	if (!v || aidc_parse_i64(v, 0, INT64_MAX, &epoch) != 0) {
		aidc_errf(&m->err, AIDC_E_INVAL,
			  "missing epoch=N (agent protocol %d; upgrade the agent)",
			  API_AGENT_PROTOCOL_VERSION);
		return false;
	}
	return epoch_ok(n, epoch, &m->err);
}

/* The agent's problem (a full state directory...): drains the node with
 * the reason; a node drained for it is resumed once the problem is gone.
 * An admin's drain is left alone. */
static void node_problem(struct ctld *c, struct ctld_node *n, const char *problem)
{
	bool has = problem && *problem;
	if (has == n->agent_drained &&
	    (!has || (n->drain_reason && !strcmp(n->drain_reason + 7, problem))))
		return;
	if (has && n->drained && !n->agent_drained)
		return; /* drained by an admin: keep their reason */
	aidc_free(n->drain_reason);
	n->drain_reason = NULL;
	if (has) {
		size_t len = strlen(problem) + 8;
		n->drain_reason = aidc_malloc(len);
		snprintf(n->drain_reason, len, "agent: %s", problem);
	}
	n->drained = has;
	n->agent_drained = has;
	struct aidc_err e = {0};
	if (commit_node(c, n, &e) != 0)
		aidc_log(AIDC_LOG_ERROR, "node %s: %s", n->name, e.msg);
	ctld_sched_node_state(c, n);
	c->need_pass = true;
	if (has)
		aidc_log(AIDC_LOG_WARN, "node %s drained: %s", n->name, n->drain_reason);
	else
		aidc_log(AIDC_LOG_INFO, "node %s resumed: its agent reports no problem", n->name);
}

/* Protocol 2 admission of a registration: the version, then the node name.
 * A name is taken by one agent (agent_id) at a time: another agent may take
 * it over only once the first is gone (its node down after node_timeout_s
 * without a heartbeat); the same agent may register again with its run's
 * epoch or a newer one (a restart), never an older one (a stale run). */
static int admit_register(struct ctld *c, const struct ctld_node *n,
			  const struct api_agent_register *reg, struct aidc_err *e)
{
	if (reg->protocol == 0)
		return aidc_errf(e, AIDC_E_INVAL,
				 "this agent speaks agent protocol 1; the controller speaks %d: "
				 "upgrade the agent to the controller's version",
				 API_AGENT_PROTOCOL_VERSION);
	if (reg->protocol != API_AGENT_PROTOCOL_VERSION)
		return aidc_errf(e, AIDC_E_VERSION,
				 "this agent speaks agent protocol %" PRId64
				 "; the controller speaks %d: run the same aidc version on both",
				 reg->protocol, API_AGENT_PROTOCOL_VERSION);
	if (!reg->agent_id || !*reg->agent_id)
		return aidc_errf(e, AIDC_E_INVAL, "agent_id: required by agent protocol %d",
				 API_AGENT_PROTOCOL_VERSION);
	if (!n || !n->agent_id[0])
		return 0;
	if (!strcmp(n->agent_id, reg->agent_id)) {
		if (reg->epoch < n->epoch)
			return aidc_errf(e, AIDC_E_STATE,
					 "agent run %" PRId64 " of node %s was replaced by run %" PRId64
					 " of the same agent (same state directory)",
					 reg->epoch, n->name, n->epoch);
		return 0;
	}
	if (n->state == CTLD_NODE_DOWN)
		return 0;
	int64_t ago_s = (ctld_now_ms() - n->last_seen_ms) / 1000;
	return aidc_errf(e, AIDC_E_EXISTS,
			 "node name '%s' is in use by another live agent (at %s, heard from %" PRId64
			 " s ago): give this agent another --name, or stop the other one (its "
			 "node counts as gone %" PRId64 " s after its last heartbeat)",
			 n->name, n->addr ? n->addr : "?", ago_s, ctld_node_timeout_ms(c) / 1000);
}

int ctld_lf_register(struct ctld *c, struct ctld_msg *m)
{
	struct api_agent_register *reg = m->body;
	uint32_t ni;
	struct ctld_node *n = ctld_node_find(c, reg->name, &ni);
	int rc = admit_register(c, n, reg, &m->err);
	if (rc) {
		aidc_log(AIDC_LOG_WARN, "registration of node %s refused: %s", reg->name, m->err.msg);
		return rc;
	}
	bool fresh = !n;
	if (!n) {
		/* Refused before anything changes: the name is interned (name_node)
		 * only once the registration has succeeded, so it cannot fail then. */
		if (c->node_names.n >= AIDC_MAX_NODES)
			return aidc_errf(&m->err, AIDC_E_LIMIT,
					 "too many nodes (at most %u); node %s not registered",
					 AIDC_MAX_NODES, reg->name);
		n = node_add(c, reg->name);
		ni = (uint32_t)(c->nnodes - 1);
		n->registered_s = ctld_now_s();
	}
	char *old_info = n->info_json ? aidc_strdup(n->info_json) : NULL;
	rc = node_from_info(c, n, m->req->body, &m->err);
	if (rc == 0 && n->sched_id < 0)
		rc = ctld_sched_add_node(c, n, &m->err);
	else if (rc == 0 && old_info && n->sched_id >= 0) {
		/* The core cannot reshape a node yet: keep the registered shape. */
		struct api_agent_register o;
		if (api_decode(&api_schema_agent_register, old_info, strlen(old_info), &o, NULL) == 0) {
			if (o.cpus != reg->cpus || o.mem_mib != reg->mem_mib ||
			    o.devices.n != reg->devices.n)
				aidc_log(AIDC_LOG_WARN,
					 "node %s registered with a new shape; the old one is kept "
					 "until the controller restarts",
					 n->name);
			api_decoded_release(&api_schema_agent_register, &o);
		}
	}
	aidc_free(old_info);
	if (rc == 0 && fresh)
		rc = name_node(c, ni, &m->err);
	if (rc) {
		if (fresh) {
			aidc_free(n->name);
			aidc_free(n->addr);
			aidc_free(n->partition);
			aidc_free(n->info_json);
			c->nnodes--;
		}
		return rc;
	}
	if ((rc = commit_node(c, n, &m->err)) != 0)
		return rc;
	/* A (re)registered agent gets every launch order again; it ignores
	 * duplicates. Polls parked before this registration may be a dead
	 * agent's: answer them empty so that no order goes to it. */
	ctld_drop_parked_node(c, ni);
	for (size_t i = 0; i < n->nact; i++) {
		struct ctld_task *k = &n->act[i].job->tasks[n->act[i].task];
		k->dispatched = false;
		k->kill_sent = false;
	}
	node_alive(c, n);
	reconcile(c, ni, &reg->running);
	aidc_log(AIDC_LOG_INFO,
		 "node %s registered (%u CPUs, %" PRIu64 " MiB, %u devices, address %s, agent run %" PRId64
		 ")",
		 n->name, n->cpus, n->mem_mib, n->ndev, n->addr, n->epoch);
	ok_json(m->resp, c);
	return CTLD_DONE;
}

/* The node named by the route's first parameter, its index in *ni (ni may be
 * NULL); NULL with m->err set (AIDC_E_NOTFOUND) when there is none. */
static struct ctld_node *req_node(struct ctld *c, struct ctld_msg *m, uint32_t *ni)
{
	struct ctld_node *n = ctld_node_find(c, m->req->params[0], ni);
	if (!n)
		aidc_errf(&m->err, AIDC_E_NOTFOUND, "no node '%s' (register first)",
			  m->req->params[0]);
	return n;
}

/* req_node for an agent's request that names its run with ?epoch=E
 * (query_epoch_ok); NULL with m->err set when either check fails. */
static struct ctld_node *req_agent_node(struct ctld *c, struct ctld_msg *m, uint32_t *ni)
{
	struct ctld_node *n = req_node(c, m, ni);
	return n && query_epoch_ok(m, n) ? n : NULL;
}

int ctld_lf_heartbeat(struct ctld *c, struct ctld_msg *m)
{
	uint32_t ni;
	struct ctld_node *n = req_node(c, m, &ni);
	if (!n)
		return AIDC_E_NOTFOUND;
	struct api_heartbeat *hb = m->body;
	if (!epoch_ok(n, hb->epoch, &m->err))
		return AIDC_E_STATE;
	node_alive(c, n);
	reconcile(c, ni, &hb->running);
	node_problem(c, n, hb->problem);
	n->usage_n = 0;
	for (size_t i = 0; i < hb->devices.n && n->usage_n < AIDC_MAX_DEVICES_PER_NODE; i++) {
		const struct api_device_usage *u = &((struct api_device_usage *)hb->devices.v)[i];
		if (u->index < n->ndev)
			n->usage[n->usage_n++] = *u;
	}
	ok_json(m->resp, c);
	return CTLD_DONE;
}

/* ---- work ---------------------------------------------------------------------- */

/* A multi-node batch job's nodes in task order as Slurm's compressed
 * hostlist (protocol 5, "slurm_nodes"): SLURM_JOB_NODELIST on every node and
 * the step holders' node numbering. Left out (with a warning) past the
 * field's AIDC_MAX_ARG_BYTES; O(ntasks) per launch order. */
static void slurm_nodes_json(struct ctld *c, struct aidc_json *w, const struct ctld_job *j)
{
	char **names = aidc_calloc(j->ntasks, sizeof *names);
	for (uint32_t t = 0; t < j->ntasks; t++)
		names[t] = c->nodes[j->tasks[t].node].name;
	struct aidc_buf b;
	aidc_buf_init(&b, AIDC_MAX_ARG_BYTES);
	if (aidc_hostlist_compress(names, j->ntasks, &b) == 0 && b.len < AIDC_MAX_ARG_BYTES)
		aidc_json_kstr(w, "slurm_nodes", aidc_buf_str(&b));
	else
		aidc_log(AIDC_LOG_WARN, "job %" PRIu64 ": its node list is over %u bytes: "
			 "SLURM_JOB_NODELIST is left out", j->id, AIDC_MAX_ARG_BYTES);
	aidc_buf_release(&b);
	aidc_free(names);
}

/* s: the job's whole spec (ctld_job_spec), borrowed. */
static void launch_json(struct ctld *c, struct aidc_json *w, struct ctld_job *j,
			const struct api_job_submit *s, struct ctld_task *k)
{
	const struct ctld_node *master = &c->nodes[j->tasks[0].node];
	aidc_json_obj_begin(w);
	aidc_json_ki64(w, "job", (int64_t)j->id);
	aidc_json_ki64(w, "task", k->index);
	aidc_json_ki64(w, "attempt", j->attempt);
	aidc_json_ki64(w, "uid", j->uid);
	aidc_json_ki64(w, "gid", j->gid);
	aidc_json_kstr(w, "user", j->user);
	aidc_json_kstr(w, "name", j->name);
	aidc_json_kstr(w, "cwd", s->cwd ? s->cwd : "/");
	if (s->script)
		aidc_json_kstr(w, "script", s->script);
	if (s->script_args.n) {
		aidc_json_key(w, "script_args");
		aidc_json_arr_begin(w);
		for (size_t i = 0; i < s->script_args.n; i++)
			aidc_json_str(w, s->script_args.v[i]);
		aidc_json_arr_end(w);
	}
	aidc_json_key(w, "command");
	aidc_json_arr_begin(w);
	for (size_t i = 0; i < s->command.n; i++)
		aidc_json_str(w, s->command.v[i]);
	aidc_json_arr_end(w);
	aidc_json_key(w, "env");
	aidc_json_arr_begin(w);
	for (size_t i = 0; i < s->env.n; i++)
		aidc_json_str(w, s->env.v[i]);
	aidc_json_arr_end(w);
	aidc_json_ki64(w, "time_limit_s", s->time_limit_s);
	aidc_json_ki64(w, "kill_grace_s", c->cfg.kill_grace_s);
	/* The agent's limits (cgroup/rlimit) and -o/-e files. */
	/* --mem=0 (mem_whole): the node's memory; the job holds the node alone */
	aidc_json_ki64(w, "mem_mib",
		       s->mem_whole ? (int64_t)c->nodes[k->node].mem_mib : s->mem_mib);
	aidc_json_ki64(w, "cpus", s->cpus_per_task);
	if (s->stdout_path)
		aidc_json_kstr(w, "stdout_path", s->stdout_path);
	if (s->stderr_path)
		aidc_json_kstr(w, "stderr_path", s->stderr_path);
	if (s->umask)
		aidc_json_kstr(w, "umask", s->umask);
	if (s->slurm_env)
		aidc_json_kbool(w, "slurm_env", true);
	if (s->slurm_env && j->ntasks > 1)
		slurm_nodes_json(c, w, j);
	if (s->signal) {
		aidc_json_ki64(w, "signal", s->signal);
		aidc_json_ki64(w, "signal_before_s", s->signal_before_s);
		if (s->signal_batch)
			aidc_json_kbool(w, "signal_batch", true);
	}
	aidc_json_ki64(w, "world_size", j->ntasks);
	aidc_json_ki64(w, "local_rank", k->local_rank);
	aidc_json_ki64(w, "local_world_size", k->local_size);
	aidc_json_kstr(w, "master_addr", master->addr);
	aidc_json_ki64(w, "master_port", j->master_port);
	aidc_json_kstr(w, "vendor", c->nodes[k->node].vendor);
	aidc_json_key(w, "devices");
	aidc_json_arr_begin(w);
	for (uint32_t d = 0; d < k->ndev; d++) {
		char num[16];
		snprintf(num, sizeof num, "%u", (unsigned)k->devs[d]);
		aidc_json_str(w, num);
	}
	aidc_json_arr_end(w);
	if (k->ndev == 1 && k->dev_milli && k->dev_milli < AIDC_DEVICE_MILLI)
		aidc_json_ki64(w, "device_milli", k->dev_milli);
	aidc_json_obj_end(w);
}

static void ref_json(struct aidc_json *w, uint64_t job, uint32_t task, uint32_t attempt)
{
	aidc_json_obj_begin(w);
	aidc_json_ki64(w, "job", (int64_t)job);
	aidc_json_ki64(w, "task", task);
	aidc_json_ki64(w, "attempt", attempt);
	aidc_json_obj_end(w);
}

/* A launch order the agent has not confirmed this long after it went out is
 * sent again: the reply carrying it may have been lost (a poll the agent gave
 * up, a dropped connection). Agents ignore an order for a task they have. */
#define CTLD_REDISPATCH_MS 10000

size_t ctld_node_work(struct ctld *c, uint32_t ni, struct aidc_buf *out)
{
	struct ctld_node *n = &c->nodes[ni];
	struct aidc_json w;
	size_t items = 0;
	aidc_json_init(&w, out, false);
	aidc_json_obj_begin(&w);
	aidc_json_ki64(&w, "protocol", API_AGENT_PROTOCOL_VERSION);
	aidc_json_key(&w, "launch");
	aidc_json_arr_begin(&w);
	/* Cost: O(tasks on this node), through the node's index; plus one
	 * store read per job whose spec was shed (its tasks here share it). */
	struct api_job_submit tmp = {0};
	const struct api_job_submit *full = NULL;
	const struct ctld_job *loaded = NULL;
	int64_t now = ctld_now_ms();
	for (size_t i = 0; i < n->nact; i++) {
		struct ctld_job *j = n->act[i].job;
		struct ctld_task *k = &j->tasks[n->act[i].task];
		if (j->state != CTLD_JOB_RUNNING || k->state != CTLD_TASK_ASSIGNED ||
		    (k->dispatched && now - k->dispatched_ms < CTLD_REDISPATCH_MS))
			continue;
		if (out->len > API_MAX_WORK_BYTES / 2)
			break; /* the rest in the next reply */
		if (j != loaded) {
			api_decoded_release(&api_schema_job_submit, &tmp);
			memset(&tmp, 0, sizeof tmp);
			loaded = NULL;
			struct aidc_err se = {0};
			if (ctld_job_spec(c, j, &tmp, &full, &se) != 0) {
				/* Not dispatched: tried again at the next poll. */
				aidc_log(AIDC_LOG_ERROR, "job %" PRIu64 ": reading its spec: %s",
					 j->id, se.msg);
				continue;
			}
			loaded = j;
		}
		launch_json(c, &w, j, full, k);
		k->dispatched = true;
		k->dispatched_ms = now;
		items++;
	}
	api_decoded_release(&api_schema_job_submit, &tmp);
	aidc_json_arr_end(&w);
	aidc_json_key(&w, "kill");
	aidc_json_arr_begin(&w);
	for (size_t i = 0; i < n->nact; i++) {
		struct ctld_job *j = n->act[i].job;
		struct ctld_task *k = &j->tasks[n->act[i].task];
		if (j->state != CTLD_JOB_STOPPING || task_terminal(k->state) || k->kill_sent)
			continue;
		ref_json(&w, j->id, k->index, j->attempt);
		k->kill_sent = true;
		items++;
	}
	for (size_t i = 0; i < n->norphans; i++, items++)
		ref_json(&w, (uint64_t)n->orphans[i].job, (uint32_t)n->orphans[i].task,
			 (uint32_t)n->orphans[i].attempt);
	n->norphans = 0;
	aidc_json_arr_end(&w);
	aidc_json_obj_end(&w);
	if (aidc_json_finish(&w) != 0)
		aidc_log(AIDC_LOG_ERROR, "node %s: work reply too large", n->name);
	return items;
}

int ctld_lf_work(struct ctld *c, struct ctld_msg *m)
{
	/* A replayed parked poll (deadline set) proves nothing about the agent
	 * now: it may be a killed agent's. Only a fresh poll of the registered
	 * run counts, and never brings a down node back (see node_seen). */
	uint32_t ni;
	struct ctld_node *n = req_agent_node(c, m, &ni);
	if (!n)
		return m->err.code;
	if (m->deadline_ms == 0)
		node_seen(c, n);
	aidc_buf_reset(&m->resp->body);
	size_t items = ctld_node_work(c, ni, &m->resp->body);
	if (items || m->deadline_ms < 0)
		return CTLD_DONE;
	if (m->deadline_ms == 0) {
		int64_t wait_s = 0;
		const char *w = api_query(m->req, "wait");
		if (w && aidc_parse_i64(w, 0, AIDC_MAX_LONGPOLL_S, &wait_s) != 0)
			return aidc_errf(&m->err, AIDC_E_INVAL, "wait: 0..%d seconds",
					 AIDC_MAX_LONGPOLL_S);
		if (wait_s == 0)
			return CTLD_DONE;
		m->deadline_ms = ctld_now_ms() + wait_s * 1000;
	}
	m->park_node = ni;
	return CTLD_PARK;
}

/* ---- task reports ----------------------------------------------------------- */

/* The job and task named by /v1/agents/{node}/tasks/{job}/{task}/..., checked
 * against the node; NULL (with the error set) if it does not match. */
static struct ctld_task *req_task(struct ctld *c, struct ctld_msg *m, struct ctld_job **jp,
				  int64_t attempt)
{
	uint32_t ni;
	if (!req_node(c, m, &ni))
		return NULL;
	int64_t id, t;
	if (aidc_parse_i64(m->req->params[1], 1, INT64_MAX, &id) ||
	    aidc_parse_i64(m->req->params[2], 0, AIDC_MAX_TASKS_PER_JOB - 1, &t)) {
		aidc_errf(&m->err, AIDC_E_INVAL, "bad job or task number");
		return NULL;
	}
	struct ctld_job *j = ctld_job_find(c, (uint64_t)id);
	if (!j || !ctld_job_active(j) || (uint64_t)t >= j->ntasks || j->tasks[t].node != ni ||
	    (attempt >= 0 && (uint32_t)attempt != j->attempt)) {
		aidc_errf(&m->err, AIDC_E_STATE, "job %" PRId64 " task %" PRId64
			  " is not running on %s in this attempt", id, t, m->req->params[0]);
		return NULL;
	}
	*jp = j;
	return &j->tasks[t];
}

/* What an agent says about one task (a single report or one of a batch). */
struct status_in {
	const char *state;
	int64_t pid, exit_code, signal;
	bool timed_out;
	const char *message; /* NULL = none */
};

/* Applies one report to a task of this attempt on the reporting node. */
static int apply_status(struct ctld *c, struct ctld_job *j, struct ctld_task *k,
			const struct status_in *st, struct aidc_err *e)
{
	int rc = 0;
	if (!strcmp(st->state, "running")) {
		/* ... or running since a heartbeat listed it before this report came
		 * (reconcile): the report still brings its pid. */
		bool listed = k->state == CTLD_TASK_RUNNING && !k->pid && st->pid > 0;
		if (k->state == CTLD_TASK_ASSIGNED || listed) {
			if (!listed || !k->start_s)
				k->start_s = ctld_now_s();
			k->state = CTLD_TASK_RUNNING;
			k->pid = (int32_t)st->pid;
			rc = ctld_task_commit(c, j, (uint32_t)(k - j->tasks), e);
		}
		return rc;
	}
	if (strcmp(st->state, "exited") && strcmp(st->state, "failed") && strcmp(st->state, "lost"))
		return aidc_errf(e, AIDC_E_INVAL, "state: unknown '%.16s'", st->state);
	if (task_terminal(k->state))
		return 0;
	k->state = !strcmp(st->state, "exited")	 ? CTLD_TASK_EXITED
		   : !strcmp(st->state, "failed") ? CTLD_TASK_FAILED
						  : CTLD_TASK_LOST;
	k->exit_code = (int32_t)st->exit_code;
	k->term_signal = (int32_t)st->signal;
	k->timed_out = st->timed_out;
	k->end_s = ctld_now_s();
	bool bad = k->state != CTLD_TASK_EXITED || k->exit_code || k->term_signal || k->timed_out;
	if (bad && j->state == CTLD_JOB_RUNNING) {
		char why[256];
		if (k->state == CTLD_TASK_FAILED)
			snprintf(why, sizeof why, "task %u could not start: %.200s", k->index,
				 st->message ? st->message : "");
		else if (k->timed_out)
			snprintf(why, sizeof why, "task %u reached the time limit", k->index);
		else if (k->term_signal)
			snprintf(why, sizeof why, "task %u killed by signal %d", k->index,
				 k->term_signal);
		else
			snprintf(why, sizeof why, "task %u exited with code %d", k->index,
				 k->exit_code);
		/* The agent's explanation (e.g. an OOM kill, a lost adopted task). */
		if (k->state != CTLD_TASK_FAILED && st->message && *st->message)
			snprintf(why + strlen(why), sizeof why - strlen(why), ": %.150s",
				 st->message);
		j->exit_code = k->exit_code;
		j->term_signal = k->term_signal;
		return ctld_job_stop(c, j, k->timed_out ? CTLD_JOB_TIMEOUT : CTLD_JOB_FAILED, why,
				     e);
	}
	/* A multi-node batch job ends with its script, task 0 (docs/slurm.md):
	 * the step holders on its other nodes are stopped. */
	if (k->index == 0 && j->spec.slurm_env && j->ntasks > 1 && j->state == CTLD_JOB_RUNNING)
		return ctld_job_stop(c, j, CTLD_JOB_COMPLETED, "the batch script ended", e);
	if (ctld_job_settle(c, j, e) == 0 && ctld_job_active(j))
		/* Not the last task: record this one (settle wrote the job otherwise). */
		return ctld_task_commit(c, j, (uint32_t)(k - j->tasks), e);
	return e->code;
}

/* POST /v1/agents/{node}/tasks/status: the reports in order, each as the
 * single-report route would apply it. A report the controller will never
 * want (an attempt that is over, an unknown state) is counted as stale and
 * dropped, so the agent forgets the whole batch on a 200; a store error
 * fails the request and the agent resends the batch (reports are idempotent:
 * "running" applies to an assigned task only, an exit to a live one only). */
int ctld_lf_task_status_batch(struct ctld *c, struct ctld_msg *m)
{
	struct api_task_status_batch *b = m->body;
	uint32_t ni;
	if (!req_node(c, m, &ni))
		return m->err.code ? m->err.code : AIDC_E_NOTFOUND;
	if (!epoch_ok(&c->nodes[ni], b->epoch, &m->err))
		return AIDC_E_STATE;
	node_seen(c, &c->nodes[ni]);
	const struct api_task_report *r = b->reports.v;
	size_t stale = 0;
	for (size_t i = 0; i < b->reports.n; i++) {
		struct ctld_job *j = ctld_job_find(c, (uint64_t)r[i].job);
		if (!j || !ctld_job_active(j) || (uint64_t)r[i].task >= j->ntasks ||
		    j->tasks[r[i].task].node != ni || (uint32_t)r[i].attempt != j->attempt) {
			stale++;
			continue;
		}
		struct status_in in = {r[i].state,	r[i].pid,	r[i].exit_code,
				       r[i].signal, r[i].timed_out, r[i].message};
		/* An end report carries the task's resource use (accounting). */
		if (strcmp(r[i].state, "running") != 0) {
			struct ctld_task *k = &j->tasks[r[i].task];
			k->usage_set = true;
			k->cpu_usec = r[i].cpu_usec;
			k->mem_peak_bytes = r[i].mem_peak_bytes;
			k->progress_milli = r[i].progress_milli;
		}
		struct aidc_err ie = {0};
		int rc = apply_status(c, j, &j->tasks[r[i].task], &in, &ie);
		if (rc == AIDC_E_INVAL) {
			stale++;
			aidc_log(AIDC_LOG_WARN, "node %s: job %" PRId64 " task %" PRId64 ": %s",
				 c->nodes[ni].name, r[i].job, r[i].task, ie.msg);
		} else if (rc) {
			return aidc_errf(&m->err, rc, "%s", ie.msg);
		}
	}
	aidc_buf_printf(&m->resp->body, "{\"ok\":true,\"applied\":%zu,\"stale\":%zu}",
			b->reports.n - stale, stale);
	return CTLD_DONE;
}

int ctld_lf_task_logs(struct ctld *c, struct ctld_msg *m)
{
	struct ctld_job *j = NULL;
	if (!req_agent_node(c, m, NULL))
		return m->err.code;
	/* Output of another attempt (a leftover task of an earlier one) must
	 * never land in this attempt's log: 409, and the agent stops pushing it. */
	const char *att = api_query(m->req, "attempt");
	int64_t attempt;
	if (!att || aidc_parse_i64(att, 0, INT32_MAX, &attempt) != 0)
		return aidc_errf(&m->err, AIDC_E_INVAL, "need attempt=N");
	struct ctld_task *k = req_task(c, m, &j, attempt);
	if (!k)
		return m->err.code ? m->err.code : AIDC_E_NOTFOUND;
	const char *stream = api_query(m->req, "stream");
	const char *offs = api_query(m->req, "offset");
	int64_t off;
	/* Any offset: past AIDC_MAX_LOG_BYTES nothing is stored (the stream is
	 * cut, output.c), but refusing it would stall the agent on this push. */
	if (!stream || (strcmp(stream, "out") && strcmp(stream, "err")) || !offs ||
	    aidc_parse_i64(offs, 0, INT64_MAX - AIDC_MAX_LOG_CHUNK_BYTES, &off))
		return aidc_errf(&m->err, AIDC_E_INVAL, "need stream=out|err and offset=N");
	if (m->req->body_len > AIDC_MAX_LOG_CHUNK_BYTES)
		return aidc_errf(&m->err, AIDC_E_LIMIT, "log chunk over %u bytes",
				 AIDC_MAX_LOG_CHUNK_BYTES);
	int64_t size;
	int rc = ctld_output_write(c, j, k, strcmp(stream, "out") != 0, off, m->req->body,
				   m->req->body_len, &size, &m->err);
	if (rc)
		return rc;
	aidc_buf_printf(&m->resp->body, "{\"size\":%" PRId64 "}", size);
	return CTLD_DONE;
}

/* ---- heartbeat timeouts -------------------------------------------------------- */

void ctld_nodes_check(struct ctld *c)
{
	int64_t now = ctld_now_ms(), timeout_ms = ctld_node_timeout_ms(c);
	for (size_t ni = 0; ni < c->nnodes; ni++) {
		struct ctld_node *n = &c->nodes[ni];
		if (n->state == CTLD_NODE_DOWN || now - n->last_seen_ms < timeout_ms)
			continue;
		n->state = CTLD_NODE_DOWN;
		ctld_sched_node_state(c, n);
		struct aidc_err e = {0};
		if (commit_node(c, n, &e) != 0)
			aidc_log(AIDC_LOG_ERROR, "node %s: %s", n->name, e.msg);
		aidc_log(AIDC_LOG_WARN, "node %s is down: no heartbeat for %" PRId64 " s", n->name,
			 timeout_ms / 1000);
		char why[AIDC_MAX_NAME_BYTES + 32];
		snprintf(why, sizeof why, "node %s lost", n->name);
		size_t nsnap;
		struct ctld_task_ref *snap = index_snapshot(n, &nsnap);
		for (size_t s = 0; s < nsnap; s++) {
			struct ctld_task *k = &snap[s].job->tasks[snap[s].task];
			if (indexed(n, &snap[s]) && !task_terminal(k->state))
				task_lost(c, snap[s].job, k, why);
		}
		aidc_free(snap);
	}
}

/* ---- views and admin ------------------------------------------------------------- */

/* "topology_summary": the counts of the registered topology, or null. */
static void topo_summary_json(struct aidc_json *w, const struct ctld_node *n)
{
	aidc_json_key(w, "topology_summary");
	if (!n->has_topo) {
		aidc_json_null(w);
		return;
	}
	char text[64];
	snprintf(text, sizeof text, "%us/%un/%uc", n->topo_packages, n->topo_numa, n->topo_cores);
	aidc_json_obj_begin(w);
	aidc_json_kstr(w, "text", text);
	aidc_json_ki64(w, "packages", n->topo_packages);
	aidc_json_ki64(w, "numa_nodes", n->topo_numa);
	aidc_json_ki64(w, "cores", n->topo_cores);
	aidc_json_ki64(w, "pus", n->topo_pus);
	aidc_json_ki64(w, "accelerators", n->topo_accels);
	aidc_json_obj_end(w);
}

/* "topology": the whole registered document (null when the agent sent none).
 * Decoded again from info_json: O(document) per GET of one node, and no
 * second copy of it kept per node. */
static void topo_detail_json(struct aidc_json *w, const struct ctld_node *n)
{
	struct api_agent_register reg;
	aidc_json_key(w, "topology");
	if (!n->has_topo || !n->info_json ||
	    api_decode(&api_schema_agent_register, n->info_json, strlen(n->info_json), &reg,
		       NULL) != 0) {
		aidc_json_null(w);
		return;
	}
	if (reg.topology)
		api_topology_json(w, reg.topology);
	else
		aidc_json_null(w);
	api_decoded_release(&api_schema_agent_register, &reg);
}

/* "device_list": each device as the agent registered it (index, vendor, model, memory, uuid). */
static void device_list_json(struct aidc_json *w, const struct ctld_node *n)
{
	struct api_agent_register reg;
	aidc_json_key(w, "device_list");
	aidc_json_arr_begin(w);
	if (n->info_json && api_decode(&api_schema_agent_register, n->info_json,
				       strlen(n->info_json), &reg, NULL) == 0) {
		const struct api_device *d = reg.devices.v;
		for (size_t i = 0; i < reg.devices.n; i++) {
			aidc_json_obj_begin(w);
			aidc_json_ki64(w, "index", d[i].index);
			aidc_json_kstr(w, "vendor", d[i].vendor ? d[i].vendor : "");
			aidc_json_kstr(w, "model", d[i].model ? d[i].model : "");
			aidc_json_ki64(w, "mem_mib", d[i].mem_mib);
			aidc_json_kstr(w, "uuid", d[i].uuid ? d[i].uuid : "");
			aidc_json_obj_end(w);
		}
		api_decoded_release(&api_schema_agent_register, &reg);
	}
	aidc_json_arr_end(w);
}

static void node_json(struct ctld *c, struct aidc_json *w, const struct ctld_node *n, bool detail)
{
	aidc_json_obj_begin(w);
	aidc_json_kstr(w, "name", n->name);
	aidc_json_kstr(w, "state", ctld_node_state_name(n->state));
	aidc_json_kbool(w, "drained", n->drained);
	if (n->drain_reason)
		aidc_json_kstr(w, "drain_reason", n->drain_reason);
	aidc_json_kstr(w, "addr", n->addr ? n->addr : "");
	aidc_json_kstr(w, "partition", n->partition ? n->partition : "");
	aidc_json_ki64(w, "cpus", n->cpus);
	aidc_json_ki64(w, "mem_mib", (int64_t)n->mem_mib);
	aidc_json_ki64(w, "devices", n->ndev);
	aidc_json_kstr(w, "vendor", n->vendor);
	aidc_json_kstr(w, "model", n->model);
	aidc_json_ki64(w, "devices_free", n->ndev - ctld_node_devices_allocated(n));
	aidc_json_ki64(w, "device_milli_free", ctld_node_device_milli_free(n));
	int64_t ago_ms = ctld_now_ms() - n->last_seen_ms;
	aidc_json_ki64(w, "last_seen_ms_ago", ago_ms);
	/* Why the node takes no new work ("" when it does). */
	char why[96] = "";
	if (n->state == CTLD_NODE_DOWN)
		snprintf(why, sizeof why, "no heartbeat for %llds", (long long)(ago_ms / 1000));
	else if (n->state == CTLD_NODE_UNKNOWN)
		snprintf(why, sizeof why, "not heard from since the controller started");
	else if (n->drained)
		snprintf(why, sizeof why, "%s", n->drain_reason ? n->drain_reason : "drained by an admin");
	aidc_json_kstr(w, "reason", why);
	uint32_t tasks = 0;
	for (size_t i = 0; i < n->nact; i++)
		tasks += !task_terminal(n->act[i].job->tasks[n->act[i].task].state);
	aidc_json_ki64(w, "tasks", tasks);
	topo_summary_json(w, n);
	if (detail) {
		topo_detail_json(w, n);
		device_list_json(w, n);
	}
	aidc_json_obj_end(w);
}

void ctld_node_json(struct ctld *c, struct aidc_json *w, const struct ctld_node *n)
{
	node_json(c, w, n, false);
}

int ctld_lf_nodes_list(struct ctld *c, struct ctld_msg *m)
{
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	aidc_json_obj_begin(&w);
	aidc_json_key(&w, "nodes");
	aidc_json_arr_begin(&w);
	for (size_t i = 0; i < c->nnodes; i++)
		ctld_node_json(c, &w, &c->nodes[i]);
	aidc_json_arr_end(&w);
	aidc_json_obj_end(&w);
	return aidc_json_finish(&w);
}

int ctld_lf_node_get(struct ctld *c, struct ctld_msg *m)
{
	struct ctld_node *n = req_node(c, m, NULL);
	if (!n)
		return AIDC_E_NOTFOUND;
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	node_json(c, &w, n, true);
	return aidc_json_finish(&w);
}

static int set_drain(struct ctld *c, struct ctld_msg *m, bool drained)
{
	struct ctld_node *n = req_node(c, m, NULL);
	if (!n)
		return AIDC_E_NOTFOUND;
	bool old = n->drained;
	n->drained = drained;
	int rc = commit_node(c, n, &m->err);
	if (rc) {
		n->drained = old;
		return rc;
	}
	/* The admin's word replaces the agent's reason (an admin resume of a
	 * node whose agent still reports a problem lasts until its next
	 * heartbeat names it again). */
	aidc_free(n->drain_reason);
	const char *why = api_query(m->req, "reason");
	n->drain_reason = drained ? aidc_strdup(why && *why ? why : "drained by an admin") : NULL;
	n->agent_drained = false;
	ctld_sched_node_state(c, n);
	c->need_pass = true;
	struct aidc_json w;
	aidc_json_init(&w, &m->resp->body, false);
	ctld_node_json(c, &w, n);
	return aidc_json_finish(&w);
}

int ctld_lf_node_drain(struct ctld *c, struct ctld_msg *m)
{
	return set_drain(c, m, true);
}

int ctld_lf_node_resume(struct ctld *c, struct ctld_msg *m)
{
	return set_drain(c, m, false);
}
