/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc controller`: the live center's control-plane daemon. Flags override
 * the config file; the keys are documented by `aidc controller --config-doc`.
 * (`aidc agent`, the node daemon, is cli_agent.c.)
 */
#include "cli/cli.h"
#include "ctld/ctld.h"
#include "util/util.h"

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
	if ((state && (rc = cli_set_str(cfg.state_dir, sizeof cfg.state_dir, state, "--state-dir"))) ||
	    (sock && (rc = cli_set_str(cfg.socket_path, sizeof cfg.socket_path, sock, "--socket"))) ||
	    (listen && (rc = cli_set_str(cfg.listen_addr, sizeof cfg.listen_addr, listen, "--listen"))) ||
	    (port_file &&
	     (rc = cli_set_str(cfg.port_file, sizeof cfg.port_file, port_file, "--port-file"))) ||
	    (db && (rc = cli_set_str(cfg.db_path, sizeof cfg.db_path, db, "--db"))) ||
	    (secret && (rc = cli_set_str(cfg.secret_file, sizeof cfg.secret_file, secret, "--secret-file"))) ||
	    (tls_cert && (rc = cli_set_str(cfg.tls_cert, sizeof cfg.tls_cert, tls_cert, "--tls-cert"))) ||
	    (tls_key && (rc = cli_set_str(cfg.tls_key, sizeof cfg.tls_key, tls_key, "--tls-key"))) ||
	    (munge_socket && (rc = cli_set_str(cfg.munge_socket, sizeof cfg.munge_socket, munge_socket,
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
