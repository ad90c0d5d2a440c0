/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cluster description files (docs/cluster-file.md): a version line
 * "aidc-cluster 1", then one [nodes] section per group of identical nodes with
 * "key = value" lines (count, devices, model, vendor, device_mem_mib, cpu,
 * mem_mib, nvlink, rack_nodes, partition, name). '#' starts a comment line.
 * Also the shorthand cluster (--nodes N --gpus-per-node G). Every limit is
 * checked here; registering a description in the core is in engine.c, so that
 * parsing (and its fuzz target) needs nothing but util.
 */
#include "sim/sim_int.h"

void sim_cluster_init(struct sim_cluster *c)
{
	memset(c, 0, sizeof *c);
}

void sim_cluster_release(struct sim_cluster *c)
{
	aidc_free(c->groups);
	memset(c, 0, sizeof *c);
}

void sim_node_group_defaults(struct sim_node_group *g)
{
	memset(g, 0, sizeof *g);
	snprintf(g->name, sizeof g->name, "node");
	snprintf(g->model, sizeof g->model, "gpu");
	snprintf(g->vendor, sizeof g->vendor, "generic");
	g->count = 1;
	g->devices = 8;
	g->device_mem_mib = 32768;
	g->cpu_milli = 96000;
	g->mem_mib = 1024 * 1024;
	g->nvlink = 0;
	g->rack_nodes = 32;
}

uint64_t sim_cluster_nodes(const struct sim_cluster *c)
{
	uint64_t n = 0;
	for (size_t i = 0; i < c->n; i++)
		n += c->groups[i].count;
	return n;
}

uint64_t sim_cluster_devices(const struct sim_cluster *c)
{
	uint64_t n = 0;
	for (size_t i = 0; i < c->n; i++)
		n += (uint64_t)c->groups[i].count * c->groups[i].devices;
	return n;
}

uint32_t sim_cluster_node_devices(const struct sim_cluster *c)
{
	uint32_t m = 0;
	for (size_t i = 0; i < c->n; i++)
		m = AIDC_MAX(m, c->groups[i].devices);
	return m;
}

/* Checks one finished group against the limits, and the cluster's node total. */
static int check_group(const char *name, const struct sim_cluster *c,
		       const struct sim_node_group *g, struct aidc_err *e)
{
	if (g->count == 0)
		return aidc_errf(e, AIDC_E_PARSE, "%s:%u: node group has count = 0", name, g->line);
	if (sim_cluster_nodes(c) + g->count > AIDC_MAX_NODES)
		return aidc_errf(e, AIDC_E_LIMIT, "%s:%u: more than %u nodes in the cluster", name,
				 g->line, AIDC_MAX_NODES);
	uint32_t nv = g->nvlink ? g->nvlink : AIDC_MAX(g->devices, 1u);
	if ((g->devices + nv - 1) / nv > AIDC_MAX_GROUPS_PER_NODE)
		return aidc_errf(e, AIDC_E_LIMIT, "%s:%u: nvlink = %u makes more than %u device "
				 "groups per node", name, g->line, g->nvlink,
				 AIDC_MAX_GROUPS_PER_NODE);
	return 0;
}

static int push_group(const char *name, struct sim_cluster *c, const struct sim_node_group *g,
		      struct aidc_err *e)
{
	int rc = check_group(name, c, g, e);
	if (rc)
		return rc;
	AIDC_GROW(c->groups, c->cap, c->n + 1);
	c->groups[c->n++] = *g;
	return 0;
}

int sim_cluster_add_uniform(struct sim_cluster *c, const char *part, uint32_t nodes,
			    uint32_t gpus, struct aidc_err *e)
{
	struct sim_node_group g;
	sim_node_group_defaults(&g);
	if (gpus > AIDC_MAX_DEVICES_PER_NODE || nodes > AIDC_MAX_NODES)
		return aidc_errf(e, AIDC_E_LIMIT, "%u nodes x %u devices is past the limits "
				 "(%u nodes, %u devices per node)", nodes, gpus, AIDC_MAX_NODES,
				 AIDC_MAX_DEVICES_PER_NODE);
	if (strlen(part) >= sizeof g.partition)
		return aidc_errf(e, AIDC_E_LIMIT, "partition name '%.40s...' is too long", part);
	snprintf(g.partition, sizeof g.partition, "%s", part);
	if (*part)
		snprintf(g.name, sizeof g.name, "%s", part);
	g.count = nodes;
	g.devices = gpus;
	return push_group("(flags)", c, &g, e);
}

/* ---- parser --------------------------------------------------------------- */

struct cf_key {
	const char *name;
	int kind; /* 0 = string, 1 = u32, 2 = u64, 3 = cores (milli) */
	size_t off;
	uint64_t max;
};

#define GOFF(f) offsetof(struct sim_node_group, f)
static const struct cf_key cf_keys[] = {
	{"name", 0, GOFF(name), 0},
	{"model", 0, GOFF(model), 0},
	{"vendor", 0, GOFF(vendor), 0},
	{"partition", 0, GOFF(partition), 0},
	{"count", 1, GOFF(count), AIDC_MAX_NODES},
	{"devices", 1, GOFF(devices), AIDC_MAX_DEVICES_PER_NODE},
	{"device_mem_mib", 2, GOFF(device_mem_mib), AIDC_MAX_NODE_MEM_MIB},
	{"cpu", 3, GOFF(cpu_milli), AIDC_MAX_NODE_CPU_MILLI},
	{"mem_mib", 2, GOFF(mem_mib), AIDC_MAX_NODE_MEM_MIB},
	{"nvlink", 1, GOFF(nvlink), AIDC_MAX_DEVICES_PER_NODE},
	{"rack_nodes", 1, GOFF(rack_nodes), AIDC_MAX_NODES},
};

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* seen: bit i set once cf_keys[i] was given in this section; a key given
 * twice is an error rather than "the last one wins", which hides typos. */
static int set_key(const char *name, size_t line, struct sim_node_group *g, uint32_t *seen,
		   const char *k, const char *v, struct aidc_err *e)
{
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cf_keys); i++) {
		const struct cf_key *ck = &cf_keys[i];
		if (strcmp(ck->name, k) != 0)
			continue;
		if (*seen & (1u << i))
			return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: key '%s' given twice in one "
					 "[nodes] section", name, line, k);
		*seen |= 1u << i;
		char *dst = (char *)g + ck->off;
		if (ck->kind == 0) {
			if (!*v || strlen(v) >= AIDC_MAX_NAME_BYTES)
				return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: %s must be 1..%u bytes",
						 name, line, k, AIDC_MAX_NAME_BYTES - 1);
			snprintf(dst, AIDC_MAX_NAME_BYTES, "%s", v);
			return 0;
		}
		if (ck->kind == 3) {
			double x;
			if (aidc_parse_f64(v, 0, (double)ck->max / 1000.0, &x))
				return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: cpu '%s' is not a number "
						 "of cores in 0..%u", name, line, v,
						 AIDC_MAX_NODE_CPU_MILLI / 1000);
			*(uint32_t *)(void *)dst = (uint32_t)(x * 1000.0 + 0.5);
			return 0;
		}
		int64_t x;
		if (aidc_parse_i64(v, 0, (int64_t)ck->max, &x))
			return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: %s '%s' is not an integer in "
					 "0..%llu", name, line, k, v, (unsigned long long)ck->max);
		if (ck->kind == 1)
			*(uint32_t *)(void *)dst = (uint32_t)x;
		else
			*(uint64_t *)(void *)dst = (uint64_t)x;
		return 0;
	}
	return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: unknown key '%s'", name, line, k);
}

/* One logical line (already trimmed, not blank, not a comment). */
static int cf_line(const char *name, size_t line, char *s, bool *have_ver, bool *in_group,
		   uint32_t *seen, struct sim_node_group *g, struct sim_cluster *c,
		   struct aidc_err *e)
{
	if (!*have_ver) {
		int64_t ver;
		if (strncmp(s, "aidc-cluster ", 13) != 0 || aidc_parse_i64(s + 13, 0, INT32_MAX, &ver))
			return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: first line must be "
					 "'aidc-cluster %d' (the format version)", name, line,
					 SIM_CLUSTER_VERSION);
		if (ver != SIM_CLUSTER_VERSION)
			return aidc_errf(e, AIDC_E_VERSION, "%s:%zu: cluster file version %lld is "
					 "not supported (this build reads version %d)", name, line,
					 (long long)ver, SIM_CLUSTER_VERSION);
		*have_ver = true;
		return 0;
	}
	if (s[0] == '[') {
		if (strcmp(s, "[nodes]") != 0)
			return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: unknown section '%s' (only "
					 "[nodes])", name, line, s);
		if (*in_group) {
			int rc = push_group(name, c, g, e);
			if (rc)
				return rc;
		}
		sim_node_group_defaults(g);
		*seen = 0;
		g->line = (uint32_t)AIDC_MIN(line, (size_t)UINT32_MAX);
		*in_group = true;
		return 0;
	}
	char *eq = strchr(s, '=');
	if (!eq)
		return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: expected 'key = value'", name, line);
	if (!*in_group)
		return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: key outside a [nodes] section", name,
				 line);
	*eq = '\0';
	return set_key(name, line, g, seen, trim(s), trim(eq + 1), e);
}

int sim_cluster_parse(const char *name, const char *data, size_t len, struct sim_cluster *c,
		      struct aidc_err *e)
{
	char *buf = aidc_malloc(AIDC_MAX_LINE_BYTES + 1);
	struct sim_node_group g;
	sim_node_group_defaults(&g);
	bool have_ver = false, in_group = false;
	uint32_t seen = 0;
	size_t pos = 0, line = 0;
	int rc = 0;
	if (len > AIDC_MAX_SMALL_FILE_BYTES) {
		rc = aidc_errf(e, AIDC_E_LIMIT, "%s: larger than %u bytes", name,
			       AIDC_MAX_SMALL_FILE_BYTES);
		goto fail;
	}
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;
		line++;
		if (n > AIDC_MAX_LINE_BYTES) {
			rc = aidc_errf(e, AIDC_E_LIMIT, "%s:%zu: line longer than %u bytes", name,
				       line, AIDC_MAX_LINE_BYTES);
			goto fail;
		}
		if (memchr(data + pos, '\0', n)) {
			rc = aidc_errf(e, AIDC_E_PARSE, "%s:%zu: NUL byte in text", name, line);
			goto fail;
		}
		memcpy(buf, data + pos, n);
		buf[n] = '\0';
		pos += n + (nl ? 1 : 0);
		char *s = trim(buf);
		if (!*s || s[0] == '#')
			continue;
		rc = cf_line(name, line, s, &have_ver, &in_group, &seen, &g, c, e);
		if (rc)
			goto fail;
	}
	if (!have_ver) {
		rc = aidc_errf(e, AIDC_E_PARSE, "%s: empty file (no 'aidc-cluster %d' line)", name,
			       SIM_CLUSTER_VERSION);
		goto fail;
	}
	if (in_group && (rc = push_group(name, c, &g, e)) != 0)
		goto fail;
	if (c->n == 0)
		rc = aidc_errf(e, AIDC_E_PARSE, "%s: no [nodes] section", name);
fail:
	aidc_free(buf);
	return rc;
}

/* Reads a whole small file into memory (bounded by AIDC_MAX_SMALL_FILE_BYTES). */
static int slurp(const char *path, char **out, size_t *len, struct aidc_err *e)
{
	int rc = aidc_input_check(path, e);
	if (rc)
		return rc;
	FILE *f = fopen(path, "rb");
	if (!f)
		return aidc_errf(e, AIDC_E_IO, "%s: %s", path, strerror(errno));
	char *buf = aidc_malloc(AIDC_MAX_SMALL_FILE_BYTES + 1);
	size_t n = fread(buf, 1, AIDC_MAX_SMALL_FILE_BYTES + 1, f);
	if (ferror(f))
		rc = aidc_errf(e, AIDC_E_IO, "%s: read error", path);
	else if (n > AIDC_MAX_SMALL_FILE_BYTES)
		rc = aidc_errf(e, AIDC_E_LIMIT, "%s: larger than %u bytes", path,
			       AIDC_MAX_SMALL_FILE_BYTES);
	fclose(f);
	if (rc) {
		aidc_free(buf);
		return rc;
	}
	*out = buf;
	*len = n;
	return 0;
}

int sim_cluster_load(const char *path, struct sim_cluster *c, struct aidc_err *e)
{
	char *data = NULL;
	size_t len = 0;
	int rc = slurp(path, &data, &len, e);
	if (rc)
		return rc;
	rc = sim_cluster_parse(path, data, len, c, e);
	aidc_free(data);
	return rc;
}
