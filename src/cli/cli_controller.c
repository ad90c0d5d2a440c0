/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc controller` and `aidc agent`: the two daemons of the live center.
 * Flags override the config file (controller) or the defaults (agent); the
 * controller's keys are documented by `aidc controller --config-doc`.
 */
#include "agent/agent.h"
#include "cli/cli.h"
#include "ctld/ctld.h"
#include "util/util.h"

static int set_str(char *dst, size_t n, const char *v, const char *what)
{
	if (strlen(v) >= n) {
		fprintf(stderr, "aidc: %s: longer than %zu bytes\n", what, n - 1);
		return CLI_EXIT_USAGE;
	}
	snprintf(dst, n, "%s", v);
	return 0;
}

int cli_controller_main(int argc, char **argv)
{
	const char *config = NULL, *state = NULL, *sock = NULL, *listen = NULL, *port_file = NULL,
		   *db = NULL, *secret = NULL, *tls_cert = NULL, *tls_key = NULL,
		   *munge_socket = NULL;
	int64_t port = -1, node_timeout = 0, master_port_base = 0;
	bool allow_root = false, doc = false, debug = false, insecure = false, munge = false;
	const struct cli_flag flags[] = {
		{"config", CLI_STR, &config, "FILE", "key = value config file (docs/config.md)", 0, 0,
		 NULL, NULL},
		{"state-dir", CLI_STR, &state, "DIR", "database, secret, logs", 0, 0, NULL, NULL},
		{"socket", CLI_STR, &sock, "PATH", "Unix socket for users", 0, 0, NULL, NULL},
		{"listen", CLI_STR, &listen, "ADDR",
		 "TCP address for agents and remote users (default 127.0.0.1; others need "
		 "--tls-cert/--tls-key)",
		 0, 0, NULL, NULL},
		{"tls-cert", CLI_STR, &tls_cert, "FILE", "PEM certificate: serve HTTPS on TCP", 0, 0,
		 NULL, NULL},
		{"tls-key", CLI_STR, &tls_key, "FILE", "PEM private key (mode 0600)", 0, 0, NULL,
		 NULL},
		{"munge", CLI_BOOL, &munge, NULL, "accept MUNGE credentials (config munge)", 0, 0,
		 NULL, NULL},
		{"munge-socket", CLI_STR, &munge_socket, "PATH", "munged's socket", 0, 0, NULL, NULL},
		{"insecure-plaintext-listen", CLI_BOOL, &insecure, NULL,
		 "ISOLATED TEST NETWORKS ONLY: allow a non-loopback --listen without TLS (secret "
		 "and tokens in clear text)",
		 0, 0, NULL, NULL},
		{"port", CLI_I64, &port, "N", "TCP port (0 = any free port)", 0, 65535, NULL, NULL},
		{"port-file", CLI_STR, &port_file, "FILE", "write the chosen port here", 0, 0, NULL,
		 NULL},
		{"db", CLI_STR, &db, "FILE", "SQLite database", 0, 0, NULL, NULL},
		{"secret-file", CLI_STR, &secret, "FILE", "cluster secret (created mode 0600)", 0, 0,
		 NULL, NULL},
		{"node-timeout", CLI_I64, &node_timeout, "S", "seconds without heartbeat -> down", 1,
		 3600, NULL, NULL},
		{"allow-root-jobs", CLI_BOOL, &allow_root, NULL, "accept jobs from uid 0", 0, 0, NULL,
		 NULL},
		{"master-port-base", CLI_I64, &master_port_base, "PORT",
		 "first MASTER_PORT handed to jobs (config master_port_base; give concurrent "
		 "centers on one host disjoint ranges)",
		 1024, 65535, NULL, NULL},
		{"config-doc", CLI_BOOL, &doc, NULL, "print the config keys as Markdown and exit", 0,
		 0, NULL, NULL},
		{"debug", CLI_BOOL, &debug, NULL, "debug logging", 0, 0, NULL, NULL},
	};
	const struct cli_cmd cmd = {"controller", "aidc controller [options]",
				    "Run the controller: REST API (Unix socket for local users, TCP "
				    "(HTTPS with --tls-cert) for agents and token holders), durable "
				    "state, scheduling, dispatch.",
				    flags, AIDC_ARRAY_LEN(flags)};
	int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	if (doc) {
		ctld_config_doc(stdout);
		return CLI_EXIT_OK;
	}
	if (debug)
		aidc_log_set_level(AIDC_LOG_DEBUG);
	struct ctld_config cfg;
	struct aidc_err e = {0};
	ctld_config_defaults(&cfg);
	if (config && ctld_config_load(&cfg, config, &e) != 0) {
		fprintf(stderr, "aidc controller: %s\n", e.msg);
		return CLI_EXIT_FAIL;
	}
	if ((state && (rc = set_str(cfg.state_dir, sizeof cfg.state_dir, state, "--state-dir"))) ||
	    (sock && (rc = set_str(cfg.socket_path, sizeof cfg.socket_path, sock, "--socket"))) ||
	    (listen && (rc = set_str(cfg.listen_addr, sizeof cfg.listen_addr, listen, "--listen"))) ||
	    (port_file &&
	     (rc = set_str(cfg.port_file, sizeof cfg.port_file, port_file, "--port-file"))) ||
	    (db && (rc = set_str(cfg.db_path, sizeof cfg.db_path, db, "--db"))) ||
	    (secret && (rc = set_str(cfg.secret_file, sizeof cfg.secret_file, secret, "--secret-file"))) ||
	    (tls_cert && (rc = set_str(cfg.tls_cert, sizeof cfg.tls_cert, tls_cert, "--tls-cert"))) ||
	    (tls_key && (rc = set_str(cfg.tls_key, sizeof cfg.tls_key, tls_key, "--tls-key"))) ||
	    (munge_socket && (rc = set_str(cfg.munge_socket, sizeof cfg.munge_socket, munge_socket,
					   "--munge-socket"))))
		return rc;
	if (munge)
		cfg.munge = true;
	if (insecure)
		cfg.insecure_plaintext_listen = true;
	if (port >= 0)
		cfg.port = port;
	if (node_timeout)
		cfg.node_timeout_s = node_timeout;
	if (allow_root)
		cfg.allow_root_jobs = true;
	if (master_port_base)
		cfg.master_port_base = master_port_base;
	if (ctld_run(&cfg, &e) != 0) {
		fprintf(stderr, "aidc controller: %s\n", e.msg);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

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
	if ((name && (rc = set_str(cfg.name, sizeof cfg.name, name, "--name"))) ||
	    (addr && (rc = set_str(cfg.addr, sizeof cfg.addr, addr, "--addr"))) ||
	    (state && (rc = set_str(cfg.state_dir, sizeof cfg.state_dir, state, "--state-dir"))) ||
	    (secret && (rc = set_str(cfg.secret_file, sizeof cfg.secret_file, secret, "--secret-file"))) ||
	    (devices && (rc = set_str(cfg.devices, sizeof cfg.devices, devices, "--devices"))) ||
	    (part && (rc = set_str(cfg.partition, sizeof cfg.partition, part, "--partition"))) ||
	    (cg_root &&
	     (rc = set_str(cfg.cgroup_root, sizeof cfg.cgroup_root, cg_root, "--cgroup-root"))))
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
