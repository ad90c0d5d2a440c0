/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The controller's configuration: one table declares every key (type, where
 * it lands in struct ctld_config, bounds, default, command-line flag, help).
 * The defaults, the config file reader, the controller's flags
 * (cli_controller.c) and docs/config.md (`aidc controller --config-doc`) all
 * come from it. The config file is "key = value" lines; '#' starts a comment.
 */
#include <grp.h>
#include <sys/types.h>

#include "ctld/ctld.h"
#include "sched/sched.h"
#include "store/store.h"
#include "util/util.h"

enum key_type { K_STR, K_I64, K_BOOL, K_CHOICE, K_GROUP };

/*
 * One config key. `def` is THE default: ctld_config_defaults() applies it
 * through ctld_config_set(), the docs print it, and nothing else in the tree
 * repeats it. A path key with `derive` set and an empty value after loading
 * becomes "<state_dir>/<derive>" (ctld_config_finish). The controller's
 * command-line flag is `--<flag>`, or the key with '_' as '-' when flag is
 * NULL; every key has one.
 */
struct key {
	const char *name;
	enum key_type type;
	size_t off;
	size_t size; /* K_STR: buffer size */
	int64_t min, max;
	const struct sched_name *choices; /* K_CHOICE: the enum's name table (src/sched/names.c) */
	const char *def;            /* default value, as config text ("" = empty / none) */
	const char *derive;         /* K_STR: default file name under state_dir, or NULL */
	const char *flag;           /* command-line name if not derived from `name` */
	const char *metavar;        /* K_STR: shown in --help (FILE, DIR, ADDR, NAME) */
	const char *help;
	int (*check)(const char *value, struct aidc_err *e); /* K_STR: validates, or NULL */
};

#define OFF(f) offsetof(struct ctld_config, f)
#define SZ(f) sizeof(((struct ctld_config *)0)->f)
/* Table rows by type: STR(key, field, default, derive, flag, metavar, help) ... */
#define STR(k, f, d, dv, fl, mv, h) {k, K_STR, OFF(f), SZ(f), 0, 0, NULL, d, dv, fl, mv, h, NULL}
#define I64(k, f, lo, hi, d, fl, h) {k, K_I64, OFF(f), 0, lo, hi, NULL, d, NULL, fl, "N", h, NULL}
#define BOOL(k, f, d, h) {k, K_BOOL, OFF(f), 0, 0, 1, NULL, d, NULL, NULL, NULL, h, NULL}
#define CHOICE(k, f, ch, d, h) {k, K_CHOICE, OFF(f), 0, 0, 0, ch, d, NULL, NULL, "NAME", h, NULL}

/* One NAME=N item of a partition_priority list (len bytes at it). */
static int partition_item(const char *it, size_t len, char *name, size_t cap, uint32_t *f,
			  struct aidc_err *e)
{
	const char *eq = memchr(it, '=', len);
	size_t nl = eq ? (size_t)(eq - it) : 0;
	char num[16];
	int64_t v = -1;
	if (eq && len - nl - 1 < sizeof num) {
		memcpy(num, eq + 1, len - nl - 1);
		num[len - nl - 1] = '\0';
		if (aidc_parse_i64(num, 0, AIDC_MAX_PARTITION_PRIORITY, &v))
			v = -1;
	}
	if (!nl || nl >= cap || memchr(it, ' ', nl) || v < 0)
		return aidc_errf(e, AIDC_E_INVAL,
				 "partition_priority: '%.*s' is not NAME=N with N in 0..%d",
				 (int)AIDC_MIN(len, 64), it, AIDC_MAX_PARTITION_PRIORITY);
	memcpy(name, it, nl);
	name[nl] = '\0';
	*f = (uint32_t)v;
	return 0;
}

int ctld_partition_priority(const char *list, const char *name, uint32_t *out,
			    struct aidc_err *e)
{
	char seen[64][AIDC_MAX_NAME_BYTES];
	size_t nseen = 0;
	*out = 0;
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char item[AIDC_MAX_NAME_BYTES];
		uint32_t f = 0;
		int rc = partition_item(p, len, item, sizeof item, &f, e);
		if (rc)
			return rc;
		for (size_t i = 0; i < nseen; i++)
			if (!strcmp(seen[i], item))
				return aidc_errf(e, AIDC_E_INVAL,
						 "partition_priority: partition '%s' twice", item);
		if (nseen == AIDC_ARRAY_LEN(seen))
			return aidc_errf(e, AIDC_E_LIMIT, "partition_priority: more than %zu items",
					 AIDC_ARRAY_LEN(seen));
		snprintf(seen[nseen++], sizeof seen[0], "%s", item);
		if (name && !strcmp(item, name))
			*out = f;
		p = end ? end + 1 : p + len;
		if (end && !*p)
			return aidc_errf(e, AIDC_E_INVAL,
					 "partition_priority: empty item at the end");
	}
	return 0;
}

static int check_partition_priority(const char *value, struct aidc_err *e)
{
	uint32_t f;
	return ctld_partition_priority(value, NULL, &f, e);
}

static const struct key keys[] = {
	STR("listen_addr", listen_addr, "127.0.0.1", NULL, "listen", "ADDR",
	    "IPv4 address of the TCP listener (agents, remote users); anything but loopback "
	    "needs tls_cert and tls_key (see docs/security.md)"),
	STR("tls_cert", tls_cert, "", NULL, NULL, "FILE",
	    "PEM certificate (chain) for HTTPS on the TCP listener; empty = plain HTTP"),
	STR("tls_key", tls_key, "", NULL, NULL, "FILE",
	    "PEM private key of tls_cert; refused if readable by group or others"),
	BOOL("insecure_plaintext_listen", insecure_plaintext_listen, "false",
	     "ISOLATED TEST NETWORKS ONLY: allow a non-loopback listen_addr without TLS (the "
	     "cluster secret and tokens then cross the network in clear text)"),
	BOOL("munge", munge, "false",
	     "accept MUNGE credentials (Authorization: MUNGE) from hosts sharing munged's key"),
	STR("munge_socket", munge_socket, "", NULL, NULL, "PATH",
	    "munged's socket for decoding (empty = munged's default)"),
	I64("port", port, 0, 65535, "6820", NULL, "TCP port (0 = any free port)"),
	STR("socket", socket_path, "", "aidc.sock", NULL, "PATH",
	    "Unix socket for users (identity by SO_PEERCRED)"),
	STR("state_dir", state_dir, "/var/lib/aidc", NULL, NULL, "DIR",
	    "directory for the database, the secret and job logs"),
	STR("db", db_path, "", "aidc.db", NULL, "FILE|URI",
	    "the store: a SQLite database file, or a postgresql:// (postgres://) URI of a "
	    "PostgreSQL database (docs/config.md \"PostgreSQL\"; its password never shows in "
	    "logs or the audit log)"),
	STR("secret_file", secret_file, "", "secret", NULL, "FILE",
	    "cluster secret shared with agents (created mode 0600)"),
	STR("web_dir", web_dir, "", NULL, NULL, "DIR",
	    "the dashboard's files (GET /ui); empty = <binary's dir>/../share/aidc/web as "
	    "installed, else <binary's dir>/web as built (docs/dashboard.md)"),
	STR("port_file", port_file, "", NULL, NULL, "FILE",
	    "if set, the chosen TCP port is written here once listening"),
	CHOICE("order", order, sched_order_names, "fifo", "queue order of the core"),
	CHOICE("placement", placement, sched_placement_names, "consolidate", "placement policy of the core"),
	CHOICE("hetero", hetero, sched_hetero_names, "off",
	       "heterogeneity-aware choice of a device job's model (whole devices and shares) "
	       "by the speed table of job classes (aidc speeds, docs/placement.md): off, "
	       "fastest (where its class runs fastest) or gavel (largest speedup relative to "
	       "other classes, priced by how busy the model and the partition are)"),
	CHOICE("blocking", blocking, sched_blocking_names, "easy",
	       "what a blocked queue head does: holds the queue (strict), lets jobs pass that "
	       "do not delay it (easy backfill), or lets any job pass (skip)"),
	/* The next six defaults are the core's (sched_config_defaults; test_ctld_config
	 * checks that they agree). */
	I64("restart_overhead_s", restart_overhead_s, 0, AIDC_MAX_DURATION_S, "0", NULL,
	    "run time a preempted job is expected to lose when it restarts (work since its "
	    "last checkpoint plus start-up), s; the gittins order preempts a job only when "
	    "the head's gain exceeds this cost"),
	I64("gittins_min_samples", gittins_min_samples, 1, 1000000, "16", NULL,
	    "gittins: finished jobs a class (user+name, user, partition, ... by GPU count) "
	    "needs before its run-time history is used"),
	I64("gittins_quantum_s", gittins_quantum_s, 0, AIDC_MAX_DURATION_S, "0", NULL,
	    "gittins: a job is never preempted in the first this-many seconds of a run"),
	I64("gittins_max_preempt", gittins_max_preempt, 0, 1000000, "0", NULL,
	    "gittins: preemptions per job at most (0 = at most one per run-time bucket)"),
	I64("gittins_starve_s", gittins_starve_s, 0, AIDC_MAX_DURATION_S, "604800", NULL,
	    "gittins: a job queued this long (or gittins_starve_factor x its expected "
	    "remaining run time, if longer) goes first and runs unpreempted (0 = never)"),
	I64("gittins_starve_factor", gittins_starve_factor, 0, 1000000, "10", NULL,
	    "gittins: see gittins_starve_s"),
	I64("gittins_window", gittins_window, 0, 1000000, "8", NULL,
	    "gittins: each class's run-time history weighs about its last this-many "
	    "finished jobs (older ones fade; 0 = all count the same)"),
	/* order = multifactor (docs/tenancy.md "Fair share"); defaults are the core's. */
	I64("fs_half_life_s", fs_half_life_s, 0, AIDC_MAX_DURATION_S, "604800", NULL,
	    "multifactor: half-life of the decayed usage that fair share compares with "
	    "shares, s (0 = usage never decays)"),
	I64("priority_calc_period_s", priority_calc_period_s, 0, AIDC_MAX_DURATION_S, "60", NULL,
	    "multifactor: factors and queue order are recomputed at most this often, s "
	    "(0 = every pass)"),
	I64("priority_max_age_s", priority_max_age_s, 1, AIDC_MAX_DURATION_S, "604800", NULL,
	    "multifactor: queued time at which the age factor reaches 1, s"),
	I64("priority_weight_age", priority_weight_age, 0, AIDC_MAX_PRIORITY, "1000", NULL,
	    "multifactor: weight of the age factor"),
	I64("priority_weight_fairshare", priority_weight_fairshare, 0, AIDC_MAX_PRIORITY, "10000",
	    NULL, "multifactor: weight of the fair-share factor"),
	I64("priority_weight_size", priority_weight_size, 0, AIDC_MAX_PRIORITY, "0", NULL,
	    "multifactor: weight of the job-size factor (devices over the partition's)"),
	I64("priority_weight_qos", priority_weight_qos, 0, AIDC_MAX_PRIORITY, "10000", NULL,
	    "multifactor: weight of the QoS factor (QoS priority over the highest QoS "
	    "priority)"),
	I64("priority_weight_partition", priority_weight_partition, 0, AIDC_MAX_PRIORITY, "0", NULL,
	    "multifactor: weight of the partition factor (partition_priority's factor over the "
	    "highest)"),
	{"partition_priority", K_STR, OFF(partition_priority), SZ(partition_priority), 0, 0, NULL,
	 "", NULL, NULL, "LIST",
	 "multifactor: partitions' priority job factors, NAME=N,... (N 0..65533; unlisted: 0), "
	 "as Slurm's PriorityJobFactor",
	 check_partition_priority},
	I64("node_timeout_s", node_timeout_s, 1, 3600, "10", "node-timeout",
	    "a node whose agent is silent this long is marked down"),
	I64("heartbeat_s", heartbeat_s, 1, 600, "1", NULL, "heartbeat period asked of agents"),
	I64("heartbeat_max_per_s", heartbeat_max_per_s, 0, 1000000, "1000", NULL,
	    "all nodes together send at most this many heartbeats a second: the period asked "
	    "of agents is max(heartbeat_s, ceil(nodes / this)) and a node counts as down after "
	    "max(node_timeout_s, 3 periods); 0 = always heartbeat_s"),
	I64("kill_grace_s", kill_grace_s, 0, 3600, "5", NULL,
	    "seconds between SIGTERM and SIGKILL when a task is stopped"),
	I64("step_lease_s", step_lease_s, 2, 3600, "30", NULL,
	    "an srun step whose srun has not polled the controller this long (srun killed "
	    "with SIGKILL, or its host lost) is cancelled: SIGTERM to its tasks on the "
	    "holders' nodes, SIGKILL 10 s later, then ended (docs/slurm.md)"),
	I64("estimate_interval_ms", estimate_interval_ms, 0, 3600000, "5000", NULL,
	    "start estimates of every pending job (the core run forward over the live state, "
	    "sched_forecast) are refreshed after a pass at most this often; 0 = only the "
	    "queue head's reservation"),
	I64("estimate_step_s", estimate_step_s, 0, 86400, "60", NULL,
	    "the start forecast passes at steps of this many seconds (jobs ending in between end "
	    "at the step): estimates are up to this late, long queues cost fewer passes; 0 = a "
	    "pass at every estimated end"),
	I64("estimate_budget_ms", estimate_budget_ms, 1, 60000, "200", NULL,
	    "a start forecast runs about as many passes as the latest live pass's duration fits "
	    "in this budget (at least 100); jobs it does not reach have no estimate"),
	I64("pass_interval_ms", pass_interval_ms, 10, 600000, "1000", NULL,
	    "scheduling pass timer (passes also run on every event)"),
	I64("default_mem_mib", default_mem_mib, 0, (int64_t)AIDC_MAX_NODE_MEM_MIB, "0", NULL,
	    "memory per task when a job asks for none, MiB"),
	I64("master_port_base", master_port_base, 1024, 65535, "29500", NULL,
	    "MASTER_PORT = base + job id mod range (give concurrent centers on one host "
	    "disjoint ranges)"),
	I64("master_port_range", master_port_range, 1, 30000, "1000", NULL,
	    "see master_port_base"),
	BOOL("requeue_on_node_failure", requeue_on_node_failure, "true",
	     "requeue (true) or fail (false) a job whose node is lost; jobs may override"),
	BOOL("allow_root_jobs", allow_root_jobs, "false",
	     "accept jobs from uid 0 (they run as root on the nodes)"),
	BOOL("store_sync_full", store_sync_full, "true",
	     "fsync every commit (survives power loss); false survives process crashes only"),
	I64("leader_lease_ms", leader_lease_ms, 1000, 600000, "3000", NULL,
	    "controllers sharing one PostgreSQL database: the leader's lease; a standby takes "
	    "over this long after the leader's last renewal (docs/ha.md)"),
	I64("leader_agent_loss_pct", leader_agent_loss_pct, 0, 100, "50", NULL,
	    "a leader that has not heard from this share (%) of the agents it heard from for "
	    "leader_agent_loss_s steps down while a standby waits (docs/ha.md); 0 = never"),
	I64("leader_agent_loss_s", leader_agent_loss_s, 1, 3600, "5", NULL,
	    "see leader_agent_loss_pct; at least 2 heartbeat periods"),
	STR("advertise_url", advertise_url, "", NULL, NULL, "URL",
	    "where agents and clients reach this controller, as the leader lease records it "
	    "(docs/ha.md); empty = http(s)://listen_addr:port"),
	{"admin_group", K_GROUP, OFF(admin_gid), 0, 0, 0, NULL, "", NULL, NULL, "GROUP",
	 "members of this group may act on every job and drain nodes (empty: root only)", NULL},
	STR("partition", partition, "default", NULL, NULL, "NAME",
	    "partition of nodes that register without one"),
	I64("max_conns_per_peer", max_conns_per_peer, 1, (int64_t)AIDC_MAX_HTTP_CONNECTIONS, "64",
	    NULL,
	    "HTTP connections one peer may hold (uid on the Unix socket and loopback TCP, "
	    "address otherwise; root is not capped); more are closed at once"),
	I64("http_header_timeout_s", http_header_timeout_s, 1, 3600, "10", NULL,
	    "a connection that takes longer to send a request's headers (or, kept alive, the "
	    "next request's) is closed"),
	I64("http_body_timeout_s", http_body_timeout_s, 1, 3600, "60", NULL,
	    "a connection that takes longer to send a request's body is closed"),
	I64("max_pending_jobs_per_user", max_pending_jobs_per_user, 1, (int64_t)AIDC_MAX_JOBS,
	    "10000", NULL, "pending jobs one user may have; more submissions are refused"),
	I64("max_jobs_per_user", max_jobs_per_user, 1, (int64_t)AIDC_MAX_JOBS, "20000", NULL,
	    "pending, running and stopping jobs one user may have"),
	I64("max_spec_kib", max_spec_kib, 1, 65536, "1024", NULL,
	    "size of one job's spec as stored (command, script, environment), KiB"),
	I64("max_pending_spec_mib_per_user", max_pending_spec_mib_per_user, 1, 1048576, "256",
	    NULL, "total spec size of one user's live jobs (in memory or, over "
	    "spec_in_memory_kib, in the store), MiB"),
	I64("max_pending_spec_mib", max_pending_spec_mib, 1, 1048576, "2048", NULL,
	    "total spec size of all live jobs (in memory or, over spec_in_memory_kib, in the "
	    "store), MiB"),
	I64("spec_in_memory_kib", spec_in_memory_kib, 0, 65536, "16", NULL,
	    "a live job whose spec is larger keeps only its scheduling fields in memory; its "
	    "command, script and environment are read from the store when it is launched or "
	    "shown (0: every spec), KiB"),
	I64("submit_request_ttl_s", submit_request_ttl_s, 60, 31536000, "86400", NULL,
	    "how long a submission's request id is remembered: a retry within it returns the "
	    "job the first attempt made instead of submitting again"),
	I64("max_job_output_mib", max_job_output_mib, 1, 1048576, "1024", NULL,
	    "output the controller stores for one job (all tasks and streams, bytes written; "
	    "holes of sparse writes count nothing), MiB; the rest is cut with a marker line"),
	I64("max_user_output_mib", max_user_output_mib, 1, 16777216, "10240", NULL,
	    "output the controller stores for one user's jobs not yet ended, MiB; the rest is "
	    "cut with a marker line"),
	I64("output_retention_s", output_retention_s, 0, 3153600000, "0", NULL,
	    "how long the output of an ended job is kept under the state directory; later it "
	    "is removed and `aidc logs` says so (its accounting record stays); 0: kept forever"),
	I64("min_free_mib", min_free_mib, 0, 16777216, "1024", NULL,
	    "free space kept for the store on the state directory's filesystem (at most an "
	    "eighth of it), MiB: below it job output is cut with a marker line, below half of "
	    "it new jobs are refused; likewise for free inodes (an eighth of them, at most "
	    "65,536); 0: no floor"),
	STR("haproxy_bin", haproxy_bin, "/usr/sbin/haproxy", NULL, NULL, "FILE",
	    "HAProxy, the router of inference services (docs/services.md), started by the "
	    "controller; empty: services run without a router (no stable address)"),
	STR("service_addr", service_addr, "127.0.0.1", NULL, NULL, "ADDR",
	    "IPv4 address the router listens on for services"),
	I64("service_port_base", service_port_base, 1024, 65535, "18000", NULL,
	    "a service's stable address is service_addr:(service_port_base + its slot)"),
	I64("service_slots", service_slots, 1, 128, "16", NULL,
	    "router slots: the most services at once (each a listening port from "
	    "service_port_base)"),
	I64("replica_port_min", replica_port_min, 1024, 65535, "20000", NULL,
	    "lowest port handed to a service replica in $PORT (unique in the center)"),
	I64("replica_port_max", replica_port_max, 1024, 65535, "29999", NULL,
	    "highest port handed to a service replica"),
	I64("max_services_per_user", max_services_per_user, 0, 1024, "8", NULL,
	    "services one user may own (admins: no limit)"),
	I64("service_slots_per_user", service_slots_per_user, 0, 128, "4", NULL,
	    "router slots one user's services hold at most (admins too; 0: no cap); a "
	    "user's further services wait without an address, and a free slot goes to the "
	    "waiting service whose owner holds the fewest"),
	BOOL("router_keep_on_stop", router_keep_on_stop, "false",
	     "a clean stop of the controller leaves HAProxy routing to the replicas (which "
	     "run on), and the next controller with this state directory adopts it, so "
	     "services answer through a restart or an upgrade; false: stopped with the "
	     "controller. Under systemd the unit needs KillMode=process for it "
	     "(docs/services.md)"),
};
_Static_assert(AIDC_ARRAY_LEN(keys) <= CTLD_CONFIG_MAX_KEYS, "raise CTLD_CONFIG_MAX_KEYS");

void ctld_config_defaults(struct ctld_config *c)
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < AIDC_ARRAY_LEN(keys); i++) {
		struct aidc_err e = {0};
		/* test_ctld_config checks that every default parses; a bad table row is a bug. */
		if (ctld_config_set(c, keys[i].name, keys[i].def, &e) != 0) {
			fprintf(stderr, "config table: default of %s: %s\n", keys[i].name, e.msg);
			abort();
		}
	}
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1") || !strcmp(v, "on"))
		*out = true;
	else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0") || !strcmp(v, "off"))
		*out = false;
	else
		return AIDC_E_PARSE;
	return 0;
}

static int set_group(const struct key *k, int64_t *dst, const char *value, struct aidc_err *e)
{
	if (!*value) {
		*dst = -1;
		return 0;
	}
	struct group gr, *res = NULL;
	char buf[8192];
	if (getgrnam_r(value, &gr, buf, sizeof buf, &res) != 0 || !res)
		return aidc_errf(e, AIDC_E_INVAL, "%s: no group '%.64s'", k->name, value);
	*dst = res->gr_gid;
	return 0;
}

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < AIDC_ARRAY_LEN(keys); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

int ctld_config_set(struct ctld_config *c, const char *key, const char *value,
		    struct aidc_err *e)
{
	const struct key *k = find_key(key);
	if (!k)
		return aidc_errf(e, AIDC_E_INVAL, "unknown config key '%.64s'", key);
	char *dst = (char *)c + k->off;
	switch (k->type) {
	case K_STR:
		if (strlen(value) >= k->size)
			return aidc_errf(e, AIDC_E_LIMIT, "%s: longer than %zu bytes", key,
					 k->size - 1);
		if (k->check) {
			int rc = k->check(value, e);
			if (rc)
				return rc;
		}
		memcpy(dst, value, strlen(value) + 1);
		return 0;
	case K_I64: {
		int64_t x;
		int rc = aidc_parse_i64(value, k->min, k->max, &x);
		if (rc)
			return aidc_errf(e, AIDC_E_INVAL, "%s: '%.64s' is not an integer in %" PRId64
					 "..%" PRId64, key, value, k->min, k->max);
		*(int64_t *)dst = x;
		return 0;
	}
	case K_BOOL:
		if (parse_bool(value, (bool *)dst))
			return aidc_errf(e, AIDC_E_INVAL, "%s: '%.64s' is not true or false", key,
					 value);
		return 0;
	case K_CHOICE: {
		const struct sched_name *r = sched_name_find(k->choices, value);
		if (!r)
			return aidc_errf(e, AIDC_E_INVAL, "%s: unknown value '%.64s'", key, value);
		*(int *)dst = r->value;
		return 0;
	}
	case K_GROUP:
		return set_group(k, (int64_t *)dst, value, e);
	}
	return aidc_errf(e, AIDC_E_INTERNAL, "%s: bad key type", key);
}

size_t ctld_config_nkeys(void)
{
	return AIDC_ARRAY_LEN(keys);
}

void ctld_config_key_info(size_t i, struct ctld_config_key *out)
{
	const struct key *k = &keys[i];
	memset(out, 0, sizeof *out);
	out->key = k->name;
	if (k->flag) {
		snprintf(out->flag, sizeof out->flag, "%s", k->flag);
	} else {
		for (size_t j = 0; k->name[j] && j + 1 < sizeof out->flag; j++)
			out->flag[j] = k->name[j] == '_' ? '-' : k->name[j];
	}
	out->metavar = k->metavar;
	out->is_bool = k->type == K_BOOL;
	out->help = k->help;
	if (k->derive)
		snprintf(out->def, sizeof out->def, "<state_dir>/%s", k->derive);
	else
		snprintf(out->def, sizeof out->def, "%s", k->def);
	out->choices = k->choices;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

int ctld_config_load(struct ctld_config *c, const char *path, struct aidc_err *e)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return aidc_errf(e, AIDC_E_IO, "%s: %s", path, strerror(errno));
	char line[AIDC_MAX_LINE_BYTES];
	size_t lineno = 0;
	int rc = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			rc = aidc_errf(e, AIDC_E_LIMIT, "%s:%zu: line longer than %u bytes", path,
				       lineno, AIDC_MAX_LINE_BYTES);
			break;
		}
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *s = trim(line);
		if (!*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = aidc_errf(e, AIDC_E_PARSE, "%s:%zu: expected 'key = value'", path,
				       lineno);
			break;
		}
		*eq = '\0';
		struct aidc_err ke = {0};
		rc = ctld_config_set(c, trim(s), trim(eq + 1), &ke);
		if (rc) {
			aidc_errf(e, rc, "%s:%zu: %s", path, lineno, ke.msg);
			break;
		}
	}
	fclose(f);
	return rc;
}

void ctld_config_finish(struct ctld_config *c)
{
	for (size_t i = 0; i < AIDC_ARRAY_LEN(keys); i++) {
		const struct key *k = &keys[i];
		char *dst = (char *)c + k->off;
		if (k->derive && !*dst)
			snprintf(dst, k->size, "%.4000s/%s", c->state_dir, k->derive);
	}
}

int ctld_config_text(const struct ctld_config *c, struct aidc_buf *out)
{
	int rc = 0;
	for (size_t i = 0; i < AIDC_ARRAY_LEN(keys) && rc == 0; i++) {
		const struct key *k = &keys[i];
		const char *src = (const char *)c + k->off;
		switch (k->type) {
		case K_STR: {
			/* The config is recorded in the audit log: never a password. */
			char shown[512];
			if (store_is_pg_uri(src))
				store_redact(src, shown, sizeof shown);
			rc = aidc_buf_printf(out, "%s=%s\n", k->name,
					     store_is_pg_uri(src) ? shown : src);
			break;
		}
		case K_I64:
		case K_GROUP:
			rc = aidc_buf_printf(out, "%s=%" PRId64 "\n", k->name, *(const int64_t *)src);
			break;
		case K_BOOL:
			rc = aidc_buf_printf(out, "%s=%s\n", k->name,
					     *(const bool *)src ? "true" : "false");
			break;
		case K_CHOICE: {
			const char *name = "?";
			for (const struct sched_name *r = k->choices; r && r->name; r++)
				if (r->value == *(const int *)src)
					name = r->name;
			rc = aidc_buf_printf(out, "%s=%s\n", k->name, name);
			break;
		}
		}
	}
	return rc;
}

void ctld_config_doc(FILE *out)
{
	fprintf(out, "| key | flag | type | default | meaning |\n|---|---|---|---|---|\n");
	static const char *const tnames[] = {"path/text", "integer", "bool", "choice", "group"};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(keys); i++) {
		const struct key *k = &keys[i];
		struct ctld_config_key info;
		ctld_config_key_info(i, &info);
		fprintf(out, "| `%s` | `--%s` | %s", k->name, info.flag, tnames[k->type]);
		if (k->type == K_I64)
			fprintf(out, " %" PRId64 "..%" PRId64, k->min, k->max);
		if (k->type == K_CHOICE) {
			fprintf(out, ": ");
			for (const struct sched_name *c = k->choices; c->name; c++)
				fprintf(out, "%s%s", c != k->choices ? ", " : "", c->name);
		}
		if (info.def[0])
			fprintf(out, " | `%s` | %s |\n", info.def, k->help);
		else
			fprintf(out, " | (empty) | %s |\n", k->help);
	}
}
