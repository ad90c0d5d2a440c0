/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc agent`: the node daemon of the live center (registers with the
 * controller, launches and isolates tasks, reports). Flags override the
 * agent's built-in defaults (agent.h, struct agent_config).
 */
#include "agent/agent.h"
#include "cli/cli.h"
#include "util/util.h"

int cli_agent_main(int argc, char **argv)
{
	const char *ctl = NULL, *name = NULL, *addr = NULL, *state = NULL, *secret = NULL,
		   *devices = NULL, *part = NULL, *limits = NULL, *cg_root = NULL, *cacert = NULL;
	int64_t cpus = 0, mem = 0;
	bool allow_root = false;
	const struct cli_flag flags[] = {
		{"controller", CLI_STR, &ctl, "[https://]HOST:PORT",
		 "controller (default 127.0.0.1:6820; https:// for TLS)", 0, 0, NULL, NULL},
		{"cacert", CLI_STR, &cacert, "FILE",
		 "CA certificate(s) verifying an https controller (default $AIDC_CACERT, else the "
		 "system store)",
		 0, 0, NULL, NULL},
		{"name", CLI_STR, &name, "NAME", "node name (default: host name)", 0, 0, NULL, NULL},
		{"addr", CLI_STR, &addr, "ADDR", "address peers use for MASTER_ADDR", 0, 0, NULL,
		 NULL},
		{"state-dir", CLI_STR, &state, "DIR", "task logs and scripts", 0, 0, NULL, NULL},
		{"secret-file", CLI_STR, &secret, "FILE", "cluster secret", 0, 0, NULL, NULL},
		{"devices", CLI_STR, &devices, "SPEC", "none | mock:N:MODEL[:VENDOR] | plugin:NAME | nvml", 0,
		 0, NULL, NULL},
		{"partition", CLI_STR, &part, "NAME", "partition of this node", 0, 0, NULL, NULL},
		{"cpus", CLI_I64, &cpus, "N", "CPUs offered (default: online CPUs)", 1,
		 AIDC_MAX_NODE_CPU_MILLI / 1000, NULL, NULL},
		{"mem-mib", CLI_I64, &mem, "N", "memory offered (default: physical)", 1,
		 (double)AIDC_MAX_NODE_MEM_MIB, NULL, NULL},
		{"allow-root-jobs", CLI_BOOL, &allow_root, NULL, "run jobs of uid 0", 0, 0, NULL,
		 NULL},
		{"limits", CLI_STR, &limits, "MODE",
		 "how task limits are enforced: auto (cgroup2, cgroup1, rlimit: the first that "
		 "works) | cgroup2 | cgroup1 | rlimit | none",
		 0, 0, NULL, NULL},
		{"cgroup-root", CLI_STR, &cg_root, "DIR",
		 "delegated cgroup v2 directory (default <mount>/aidc); for v1, the subdirectory "
		 "name under each controller",
		 0, 0, NULL, NULL},
	};
	const struct cli_cmd cmd = {"agent", "aidc agent [options]",
				    "Run a node agent: register, heartbeat, launch tasks as their "
				    "users, push logs, report exits.",
				    flags, AIDC_ARRAY_LEN(flags)};
	int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	struct agent_config cfg;
	agent_config_defaults(&cfg);
	if (ctl) {
		/* controller_host keeps the scheme ("https://10.0.0.1"); api_client_init
		 * takes it from there. */
		const char *colon = strrchr(ctl, ':');
		const char *sch = strstr(ctl, "://");
		uint32_t p;
		bool scheme_ok = !sch || !strncmp(ctl, "https://", 8) || !strncmp(ctl, "http://", 7);
		if (!colon || (sch && colon < sch + 3) || !scheme_ok ||
		    (size_t)(colon - ctl) >= sizeof cfg.controller_host ||
		    aidc_parse_u32(colon + 1, 1, 65535, &p)) {
			fprintf(stderr, "aidc agent: --controller %s: expected [https://]HOST:PORT\n",
				ctl);
			return CLI_EXIT_USAGE;
		}
		memcpy(cfg.controller_host, ctl, (size_t)(colon - ctl));
		cfg.controller_host[colon - ctl] = '\0';
		cfg.controller_port = (uint16_t)p;
	}
	if ((name && (rc = cli_set_str(cfg.name, sizeof cfg.name, name, "--name"))) ||
	    (addr && (rc = cli_set_str(cfg.addr, sizeof cfg.addr, addr, "--addr"))) ||
	    (state && (rc = cli_set_str(cfg.state_dir, sizeof cfg.state_dir, state, "--state-dir"))) ||
	    (secret && (rc = cli_set_str(cfg.secret_file, sizeof cfg.secret_file, secret, "--secret-file"))) ||
	    (devices && (rc = cli_set_str(cfg.devices, sizeof cfg.devices, devices, "--devices"))) ||
	    (part && (rc = cli_set_str(cfg.partition, sizeof cfg.partition, part, "--partition"))) ||
	    (cg_root &&
	     (rc = cli_set_str(cfg.cgroup_root, sizeof cfg.cgroup_root, cg_root, "--cgroup-root"))))
		return rc;
	if (limits) {
		static const char *const modes[] = {"auto", "cgroup2", "cgroup1", "rlimit", "none"};
		bool known = false;
		for (size_t i = 0; i < AIDC_ARRAY_LEN(modes) && !known; i++)
			known = !strcmp(limits, modes[i]);
		if (!known) {
			fprintf(stderr, "aidc agent: --limits %s: expected auto, cgroup2, cgroup1, "
					"rlimit or none\n", limits);
			return CLI_EXIT_USAGE;
		}
		snprintf(cfg.limits, sizeof cfg.limits, "%s", limits);
	}
	/* The agent's clients read the CA file from here (api_client_open). */
	if (cacert && setenv("AIDC_CACERT", cacert, 1) != 0) {
		fprintf(stderr, "aidc agent: --cacert: %s\n", strerror(errno));
		return CLI_EXIT_FAIL;
	}
	cfg.cpus = (uint32_t)cpus;
	cfg.mem_mib = (uint64_t)mem;
	cfg.allow_root_jobs = allow_root;
	struct aidc_err e = {0};
	if (agent_run(&cfg, &e) != 0) {
		fprintf(stderr, "aidc agent: %s\n", e.msg);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}
