/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc agent`: the node daemon of the live center (registers with the
 * controller, launches and isolates tasks, reports). Flags override the
 * agent's built-in defaults (agent.h, struct agent_config).
 */
#include <errno.h>
#include <unistd.h>

#include "agent/agent.h"
#include "api/api.h"
#include "cli/cli.h"
#include "util/util.h"

/* One [https://]HOST:PORT of --controller (len bytes at ctl) into host and *port. */
static int parse_controller(const char *ctl, size_t len, char *host, size_t n, uint16_t *port)
{
	char one[256];
	uint32_t p;
	if (len >= sizeof one)
		return -1;
	memcpy(one, ctl, len);
	one[len] = '\0';
	const char *colon = strrchr(one, ':');
	const char *sch = strstr(one, "://");
	bool scheme_ok = !sch || !strncmp(one, "https://", 8) || !strncmp(one, "http://", 7);
	if (!colon || (sch && colon < sch + 3) || !scheme_ok || (size_t)(colon - one) >= n ||
	    colon == one || aidc_parse_u32(colon + 1, 1, 65535, &p))
		return -1;
	memcpy(host, one, (size_t)(colon - one));
	host[colon - one] = '\0';
	*port = (uint16_t)p;
	return 0;
}

/* --controller [https://]HOST:PORT[,...] into cfg: the first in
 * controller_host (which keeps a scheme, "https://10.0.0.1") and
 * controller_port; with several, all of them as URLs in controllers. */
static int set_controller(struct agent_config *cfg, const char *ctl)
{
	size_t used = 0, count = 0;
	bool several = strchr(ctl, ',') != NULL;
	cfg->controllers[0] = '\0';
	for (const char *p = ctl;; count++) {
		size_t len = strcspn(p, ",");
		char host[sizeof cfg->controller_host];
		uint16_t port;
		if (parse_controller(p, len, host, sizeof host, &port) != 0 ||
		    count == API_CLIENT_MAX_URLS) {
			fprintf(stderr,
				"aidc agent: --controller %s: expected [https://]HOST:PORT, or up to %d "
				"of them separated by commas\n",
				ctl, API_CLIENT_MAX_URLS);
			return CLI_EXIT_USAGE;
		}
		if (count == 0) {
			snprintf(cfg->controller_host, sizeof cfg->controller_host, "%s", host);
			cfg->controller_port = port;
		}
		int w = several ? snprintf(cfg->controllers + used, sizeof cfg->controllers - used,
					   "%s%s%s:%u", count ? "," : "",
					   strstr(host, "://") ? "" : "http://", host, (unsigned)port)
				: 0;
		if (w < 0 || (size_t)w >= sizeof cfg->controllers - used) {
			fprintf(stderr, "aidc agent: --controller %s: too long\n", ctl);
			return CLI_EXIT_USAGE;
		}
		used += (size_t)w;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

static const char *const limit_modes[] = {"auto", "cgroup2", "cgroup1", "rlimit", "none", NULL};

/* The flags' values; strings are borrowed from argv. */
struct agent_opts {
	const char *ctl, *name, *addr, *state, *secret, *devices, *part, *cg_root, *cacert;
	const char *log_file, *pid_file, *health;
	int64_t cpus, mem, health_interval, def_mem, job_pids, node_pids;
	int limits;
	bool allow_root, limits_set, background;
};

/* Copies the given flags over the agent's defaults. */
static int apply_opts(const struct agent_opts *o, struct agent_config *cfg)
{
	const struct {
		const char *v, *flag;
		char *dst;
		size_t n;
	} strs[] = {
	    {o->name, "--name", cfg->name, sizeof cfg->name},
	    {o->addr, "--addr", cfg->addr, sizeof cfg->addr},
	    {o->state, "--state-dir", cfg->state_dir, sizeof cfg->state_dir},
	    {o->secret, "--secret-file", cfg->secret_file, sizeof cfg->secret_file},
	    {o->devices, "--devices", cfg->devices, sizeof cfg->devices},
	    {o->part, "--partition", cfg->partition, sizeof cfg->partition},
	    {o->cg_root, "--cgroup-root", cfg->cgroup_root, sizeof cfg->cgroup_root},
	};
	int rc;
	if (o->ctl && (rc = set_controller(cfg, o->ctl)) != 0)
		return rc;
	for (size_t i = 0; i < AIDC_ARRAY_LEN(strs); i++)
		if (strs[i].v &&
		    (rc = cli_set_str(strs[i].dst, strs[i].n, strs[i].v, strs[i].flag)))
			return rc;
	if (o->limits_set)
		snprintf(cfg->limits, sizeof cfg->limits, "%s", limit_modes[o->limits]);
	/* The agent's clients read the CA file from here (api_client_open). */
	if (o->cacert && setenv("AIDC_CACERT", o->cacert, 1) != 0) {
		fprintf(stderr, "aidc agent: --cacert: %s\n", strerror(errno));
		return CLI_EXIT_FAIL;
	}
	if (o->health) {
		/* Refused now rather than as a drained node: the agent execs it. */
		if (o->health[0] != '/' || access(o->health, X_OK) != 0) {
			fprintf(stderr, "aidc agent: --health-check %s: %s\n", o->health,
				o->health[0] != '/' ? "give an absolute path" : strerror(errno));
			return CLI_EXIT_USAGE;
		}
		if ((rc = cli_set_str(cfg->health_check, sizeof cfg->health_check, o->health,
				      "--health-check")) != 0)
			return rc;
	}
	if (o->health_interval) {
		if (!o->health && strcmp(cfg->devices, "nvml") != 0) {
			fprintf(stderr, "aidc agent: --health-interval needs --health-check or "
					"--devices nvml (nothing else is checked)\n");
			return CLI_EXIT_USAGE;
		}
		cfg->health_interval_s = o->health_interval;
	}
	if (o->def_mem)
		cfg->def_mem_per_cpu_mib = (uint64_t)o->def_mem;
	if (o->job_pids)
		cfg->job_pids_max = (uint32_t)o->job_pids;
	if (o->node_pids)
		cfg->node_pids_max = (uint32_t)o->node_pids;
	if (cfg->job_pids_max > cfg->node_pids_max) {
		fprintf(stderr, "aidc agent: --max-job-pids %u is over --max-node-pids %u\n",
			cfg->job_pids_max, cfg->node_pids_max);
		return CLI_EXIT_USAGE;
	}
	cfg->cpus = (uint32_t)o->cpus;
	cfg->mem_mib = (uint64_t)o->mem;
	cfg->allow_root_jobs = o->allow_root;
	return 0;
}

/* After parsing: the configuration, the daemon's files, then the agent. */
static int run_agent(const struct agent_opts *o)
{
	struct agent_config cfg;
	agent_config_defaults(&cfg);
	int rc = apply_opts(o, &cfg);
	if (rc != 0)
		return rc;
	if ((rc = cli_daemon_files("agent", o->log_file, o->pid_file, o->background)) != 0)
		return rc;
	struct aidc_err e = {0};
	rc = agent_run(&cfg, &e);
	aidc_pidfile_remove();
	if (rc != 0) {
		aidc_daemon_failed(e.msg);
		fprintf(stderr, "aidc agent: %s\n", e.msg);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

int cli_agent_main(int argc, char **argv)
{
	struct agent_opts o = {0};
	const struct cli_flag flags[] = {
	    {"controller", CLI_STR, &o.ctl, "[https://]HOST:PORT[,...]",
	     "controller (default 127.0.0.1:6820; https:// for TLS); several, comma-separated: a "
	     "leader and its standbys, the agent follows whichever leads (docs/ha.md)",
	     0, 0, NULL, NULL},
	    {"cacert", CLI_STR, &o.cacert, "FILE",
	     "CA certificate(s) verifying an https controller (default $AIDC_CACERT, else the "
	     "system store)",
	     0, 0, NULL, NULL},
	    {"name", CLI_STR, &o.name, "NAME", "node name (default: host name)", 0, 0, NULL, NULL},
	    {"addr", CLI_STR, &o.addr, "ADDR",
	     "address other nodes reach this one at (MASTER_ADDR); default: this host's "
	     "address on the route to the controller; loopback is refused for a remote "
	     "controller",
	     0, 0, NULL, NULL},
	    {"state-dir", CLI_STR, &o.state, "DIR", "task logs and scripts", 0, 0, NULL, NULL},
	    {"secret-file", CLI_STR, &o.secret, "FILE", "cluster secret", 0, 0, NULL, NULL},
	    {"devices", CLI_STR, &o.devices, "SPEC",
	     "none | mock:N:MODEL[:VENDOR] | plugin:NAME[:CONFIG] | nvml (CONFIG: the plugin's "
	     "key=value,...)",
	     0, 0, NULL, NULL},
	    {"partition", CLI_STR, &o.part, "NAME", "partition of this node", 0, 0, NULL, NULL},
	    {"cpus", CLI_I64, &o.cpus, "N", "CPUs offered (default: online CPUs)", 1,
	     AIDC_MAX_NODE_CPU_MILLI / 1000, NULL, NULL},
	    {"mem-mib", CLI_I64, &o.mem, "N", "memory offered (default: physical)", 1,
	     (double)AIDC_MAX_NODE_MEM_MIB, NULL, NULL},
	    {"default-mem-per-cpu", CLI_I64, &o.def_mem, "MIB",
	     "memory limit of a task without --mem, per CPU it asks for (default: the node's "
	     "memory / CPUs); cgroups only",
	     1, (double)AIDC_MAX_NODE_MEM_MIB, NULL, NULL},
	    {"max-job-pids", CLI_I64, &o.job_pids, "N",
	     "processes and threads of one job on this node, shared by its tasks here (default "
	     "8192)",
	     1, 4194304, NULL, NULL},
	    {"max-node-pids", CLI_I64, &o.node_pids, "N",
	     "processes and threads of all tasks on this node together (default 32768); "
	     "cgroups only",
	     1, 4194304, NULL, NULL},
	    {"allow-root-jobs", CLI_BOOL, &o.allow_root, NULL, "run jobs of uid 0", 0, 0, NULL,
	     NULL},
	    {"limits", CLI_CHOICE, &o.limits, "MODE",
	     "how task limits are enforced: auto is cgroup2, cgroup1 or rlimit, the first that "
	     "works",
	     0, 0, limit_modes, &o.limits_set},
	    {"cgroup-root", CLI_STR, &o.cg_root, "DIR",
	     "delegated cgroup v2 directory (default <mount>/aidc); for v1, the subdirectory "
	     "name under each controller",
	     0, 0, NULL, NULL},
	    {"health-check", CLI_STR, &o.health, "PROGRAM",
	     "run PROGRAM (absolute path) at start and every --health-interval; a non-zero exit "
	     "drains the node with its output as the reason, the next pass resumes it "
	     "(Slurm's HealthCheckProgram)",
	     0, 0, NULL, NULL},
	    {"health-interval", CLI_I64, &o.health_interval, "S",
	     "seconds between health checks (the program's and, with --devices nvml, the GPUs' "
	     "XID, ECC, retired pages and temperature), also the time one may take (default 60)",
	     1, 86400, NULL, NULL},
	    {"log-file", CLI_STR, &o.log_file, "FILE",
	     "append the log (and all stderr) to FILE, created 0600 (default: stderr)", 0, 0, NULL,
	     NULL},
	    {"pid-file", CLI_STR, &o.pid_file, "FILE",
	     "write the pid to FILE (refused while it names a live process)", 0, 0, NULL, NULL},
	    {"background", CLI_BOOL, &o.background, NULL,
	     "detach once registered, or at the first failure to register, saying why (needs "
	     "--log-file); a refusal or bad option is printed and the exit status is 1",
	     0, 0, NULL, NULL},
	};
	const struct cli_cmd cmd = {"agent", "aidc agent [options]",
				    "Run a node agent: register, heartbeat, launch tasks as their "
				    "users, push logs, report exits.",
				    flags, AIDC_ARRAY_LEN(flags)};
	int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	return run_agent(&o);
}
