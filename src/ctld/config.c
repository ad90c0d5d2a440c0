/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The controller's configuration: one table declares every key (type, where
 * it lands in struct ctld_config, bounds, help). The config file is
 * "key = value" lines; '#' starts a comment. docs/config.md is generated from
 * the same table (`aidc controller --config-doc`).
 */
#include <grp.h>
#include <sys/types.h>

#include "ctld/ctld.h"
#include "sched/sched.h"
#include "util/util.h"

enum key_type { K_STR, K_I64, K_BOOL, K_CHOICE, K_GROUP };

struct key {
	const char *name;
	enum key_type type;
	size_t off;
	size_t size; /* K_STR: buffer size */
	int64_t min, max;
	const char *const *choices; /* K_CHOICE: NULL-terminated, index = enum value */
	const char *def;            /* default, as text (documentation) */
	const char *help;
};

static const char *const orders[] = {"fifo", "sjf", "srtf", "qssf", "tiresias", "priority", NULL};
static const char *const placements[] = {"consolidate", "topology", "spread", "helios",
					 "random", "dotprod", "gpu-clustering", "gpu-packing",
					 "bestfit", "fgd", "aidc-frag", NULL};
static const char *const blockings[] = {"strict", "easy", "skip", NULL};

#define OFF(f) offsetof(struct ctld_config, f)
#define SZ(f) sizeof(((struct ctld_config *)0)->f)

static const struct key keys[] = {
	{"listen_addr", K_STR, OFF(listen_addr), SZ(listen_addr), 0, 0, NULL, "127.0.0.1",
	 "IPv4 address of the TCP listener (agents, remote users); anything but loopback "
	 "needs tls_cert and tls_key (see docs/security.md)"},
	{"tls_cert", K_STR, OFF(tls_cert), SZ(tls_cert), 0, 0, NULL, "",
	 "PEM certificate (chain) for HTTPS on the TCP listener; empty = plain HTTP"},
	{"tls_key", K_STR, OFF(tls_key), SZ(tls_key), 0, 0, NULL, "",
	 "PEM private key of tls_cert; refused if readable by group or others"},
	{"insecure_plaintext_listen", K_BOOL, OFF(insecure_plaintext_listen), 0, 0, 1, NULL,
	 "false",
	 "ISOLATED TEST NETWORKS ONLY: allow a non-loopback listen_addr without TLS (the "
	 "cluster secret and tokens then cross the network in clear text)"},
	{"munge", K_BOOL, OFF(munge), 0, 0, 1, NULL, "false",
	 "accept MUNGE credentials (Authorization: MUNGE) from hosts sharing munged's key"},
	{"munge_socket", K_STR, OFF(munge_socket), SZ(munge_socket), 0, 0, NULL, "",
	 "munged's socket for decoding (empty = munged's default)"},
	{"port", K_I64, OFF(port), 0, 0, 65535, NULL, "6820", "TCP port (0 = any free port)"},
	{"socket", K_STR, OFF(socket_path), SZ(socket_path), 0, 0, NULL, "<state_dir>/aidc.sock",
	 "Unix socket for users (identity by SO_PEERCRED)"},
	{"state_dir", K_STR, OFF(state_dir), SZ(state_dir), 0, 0, NULL, "/var/lib/aidc",
	 "directory for the database, the secret and job logs"},
	{"db", K_STR, OFF(db_path), SZ(db_path), 0, 0, NULL, "<state_dir>/aidc.db",
	 "SQLite database file"},
	{"secret_file", K_STR, OFF(secret_file), SZ(secret_file), 0, 0, NULL,
	 "<state_dir>/secret", "cluster secret shared with agents (created mode 0600)"},
	{"port_file", K_STR, OFF(port_file), SZ(port_file), 0, 0, NULL, "",
	 "if set, the chosen TCP port is written here once listening"},
	{"order", K_CHOICE, OFF(order), 0, 0, 0, orders, "fifo", "queue order of the core"},
	{"placement", K_CHOICE, OFF(placement), 0, 0, 0, placements, "consolidate",
	 "placement policy of the core"},
	{"blocking", K_CHOICE, OFF(blocking), 0, 0, 0, blockings, "easy",
	 "what a blocked queue head does (strict, easy backfill, skip)"},
	{"node_timeout_s", K_I64, OFF(node_timeout_s), 0, 1, 3600, NULL, "10",
	 "a node whose agent is silent this long is marked down"},
	{"heartbeat_s", K_I64, OFF(heartbeat_s), 0, 1, 600, NULL, "1",
	 "heartbeat period asked of agents"},
	{"kill_grace_s", K_I64, OFF(kill_grace_s), 0, 0, 3600, NULL, "5",
	 "seconds between SIGTERM and SIGKILL when a task is stopped"},
	{"pass_interval_ms", K_I64, OFF(pass_interval_ms), 0, 10, 600000, NULL, "1000",
	 "scheduling pass timer (passes also run on every event)"},
	{"default_mem_mib", K_I64, OFF(default_mem_mib), 0, 0, (int64_t)AIDC_MAX_NODE_MEM_MIB, NULL,
	 "0", "memory per task when a job asks for none, MiB"},
	{"master_port_base", K_I64, OFF(master_port_base), 0, 1024, 65535, NULL, "29500",
	 "MASTER_PORT = base + job id mod range"},
	{"master_port_range", K_I64, OFF(master_port_range), 0, 1, 30000, NULL, "1000",
	 "see master_port_base"},
	{"requeue_on_node_failure", K_BOOL, OFF(requeue_on_node_failure), 0, 0, 1, NULL, "true",
	 "requeue (true) or fail (false) a job whose node is lost; jobs may override"},
	{"allow_root_jobs", K_BOOL, OFF(allow_root_jobs), 0, 0, 1, NULL, "false",
	 "accept jobs from uid 0 (they run as root on the nodes)"},
	{"store_sync_full", K_BOOL, OFF(store_sync_full), 0, 0, 1, NULL, "true",
	 "fsync every commit (survives power loss); false survives process crashes only"},
	{"admin_group", K_GROUP, OFF(admin_gid), 0, 0, 0, NULL, "(none: root only)",
	 "members of this group may act on every job and drain nodes"},
	{"partition", K_STR, OFF(partition), SZ(partition), 0, 0, NULL, "default",
	 "partition of nodes that register without one"},
};

void ctld_config_defaults(struct ctld_config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->listen_addr, sizeof c->listen_addr, "127.0.0.1");
	c->port = 6820;
	snprintf(c->state_dir, sizeof c->state_dir, "/var/lib/aidc");
	c->order = SCHED_ORDER_FIFO;
	c->placement = SCHED_PLACE_CONSOLIDATE;
	c->blocking = SCHED_BLOCK_EASY;
	c->node_timeout_s = 10;
	c->heartbeat_s = 1;
	c->kill_grace_s = 5;
	c->pass_interval_ms = 1000;
	c->master_port_base = 29500;
	c->master_port_range = 1000;
	c->requeue_on_node_failure = true;
	c->store_sync_full = true;
	c->admin_gid = -1;
	snprintf(c->partition, sizeof c->partition, "default");
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

int ctld_config_set(struct ctld_config *c, const char *key, const char *value,
		    struct aidc_err *e)
{
	const struct key *k = NULL;
	for (size_t i = 0; i < AIDC_ARRAY_LEN(keys); i++)
		if (strcmp(keys[i].name, key) == 0)
			k = &keys[i];
	if (!k)
		return aidc_errf(e, AIDC_E_INVAL, "unknown config key '%.64s'", key);
	char *dst = (char *)c + k->off;
	switch (k->type) {
	case K_STR:
		if (strlen(value) >= k->size)
			return aidc_errf(e, AIDC_E_LIMIT, "%s: longer than %zu bytes", key,
					 k->size - 1);
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
	case K_CHOICE:
		for (int i = 0; k->choices[i]; i++)
			if (strcmp(k->choices[i], value) == 0) {
				*(int *)dst = i;
				return 0;
			}
		return aidc_errf(e, AIDC_E_INVAL, "%s: unknown value '%.64s'", key, value);
	case K_GROUP: {
		struct group gr, *res = NULL;
		char buf[8192];
		if (getgrnam_r(value, &gr, buf, sizeof buf, &res) != 0 || !res)
			return aidc_errf(e, AIDC_E_INVAL, "%s: no group '%.64s'", key, value);
		*(int64_t *)dst = res->gr_gid;
		return 0;
	}
	}
	return aidc_errf(e, AIDC_E_INTERNAL, "%s: bad key type", key);
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
	if (!c->db_path[0])
		snprintf(c->db_path, sizeof c->db_path, "%.4000s/aidc.db", c->state_dir);
	if (!c->secret_file[0])
		snprintf(c->secret_file, sizeof c->secret_file, "%.4000s/secret", c->state_dir);
	if (!c->socket_path[0])
		snprintf(c->socket_path, sizeof c->socket_path, "%.4000s/aidc.sock", c->state_dir);
}

void ctld_config_doc(FILE *out)
{
	fprintf(out, "| key | type | default | meaning |\n|---|---|---|---|\n");
	static const char *const tnames[] = {"path/text", "integer", "bool", "choice", "group"};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(keys); i++) {
		const struct key *k = &keys[i];
		fprintf(out, "| `%s` | %s", k->name, tnames[k->type]);
		if (k->type == K_I64)
			fprintf(out, " %" PRId64 "..%" PRId64, k->min, k->max);
		if (k->type == K_CHOICE) {
			fprintf(out, ": ");
			for (int c = 0; k->choices[c]; c++)
				fprintf(out, "%s%s", c ? ", " : "", k->choices[c]);
		}
		fprintf(out, " | `%s` | %s |\n", k->def, k->help);
	}
}
