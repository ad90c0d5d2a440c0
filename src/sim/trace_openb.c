/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Readers for Alibaba's openb cluster trace (cluster-trace-gpu-v2023): the
 * node list (sn,cpu_milli,memory_mib,gpu,model) and the pod list
 * (name,cpu_milli,memory_mib,num_gpu,gpu_milli[,gpu_spec,...]). Columns are
 * found by header name. Every value is range-checked against util/limits.h and
 * every error names file:line; counts are bounded before the arrays grow.
 */
#include "sim/openb.h"
#include "sim/sim.h"
#include "util/util.h"

void sim_openb_nodes_release(struct sim_openb_nodes *n)
{
	aidc_free(n->v);
	memset(n, 0, sizeof *n);
}

void sim_openb_pods_release(struct sim_openb_pods *p)
{
	aidc_free(p->v);
	memset(p, 0, sizeof *p);
}

/* Index of model name (n bytes at s) in m, added when new. */
static int model_id(struct sim_openb_models *m, const char *s, size_t n, struct aidc_csv *c,
		    struct aidc_err *e)
{
	if (n == 0)
		return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: empty GPU model name", c->name, c->line);
	if (n >= AIDC_MAX_NAME_BYTES)
		return aidc_errf(e, AIDC_E_LIMIT, "%s:%zu: GPU model name longer than %u bytes",
				 c->name, c->line, AIDC_MAX_NAME_BYTES - 1);
	for (uint32_t i = 0; i < m->n; i++)
		if (strlen(m->name[i]) == n && memcmp(m->name[i], s, n) == 0)
			return (int)i;
	if (m->n >= AIDC_MAX_DEVICE_MODELS)
		return aidc_errf(e, AIDC_E_LIMIT, "%s:%zu: more than %u GPU models", c->name,
				 c->line, AIDC_MAX_DEVICE_MODELS);
	memcpy(m->name[m->n], s, n);
	m->name[m->n][n] = '\0';
	return (int)m->n++;
}

static int need_col(struct aidc_csv *c, const char *name, struct aidc_err *e)
{
	int i = aidc_csv_col(c, name);
	if (i < 0)
		return aidc_errf(e, AIDC_E_PARSE, "%s: no '%s' column in the header", c->name, name);
	return i;
}

static int get_u64(struct aidc_csv *c, int col, const char *what, uint64_t max, uint64_t *out,
		   struct aidc_err *e)
{
	int64_t x;
	const char *v = aidc_csv_get(c, col);
	int rc = aidc_parse_i64(v, 0, (int64_t)max, &x);
	if (rc == AIDC_E_LIMIT)
		return aidc_errf(e, rc, "%s:%zu: %s '%s' outside 0..%" PRIu64, c->name, c->line,
				 what, v, max);
	if (rc)
		return aidc_errf(e, rc, "%s:%zu: %s '%s' is not an integer", c->name, c->line, what,
				 v);
	*out = (uint64_t)x;
	return 0;
}

static int nodes_read(struct aidc_csv *c, struct sim_openb_models *m, struct sim_openb_nodes *out,
		      struct aidc_err *e)
{
	int rc = aidc_csv_read_header(c, e);
	if (rc)
		return rc;
	int ccpu = need_col(c, "cpu_milli", e), cmem = need_col(c, "memory_mib", e);
	int cgpu = need_col(c, "gpu", e), cmodel = need_col(c, "model", e);
	if (ccpu < 0 || cmem < 0 || cgpu < 0 || cmodel < 0)
		return AIDC_E_PARSE;
	while ((rc = aidc_csv_next(c, e)) == 1) {
		uint64_t cpu = 0, mem = 0, gpu = 0;
		if ((rc = get_u64(c, ccpu, "cpu_milli", AIDC_MAX_NODE_CPU_MILLI, &cpu, e)) ||
		    (rc = get_u64(c, cmem, "memory_mib", AIDC_MAX_NODE_MEM_MIB, &mem, e)) ||
		    (rc = get_u64(c, cgpu, "gpu", AIDC_MAX_DEVICES_PER_NODE, &gpu, e)))
			return rc;
		int model = 0;
		if (gpu > 0) {
			const char *name = aidc_csv_get(c, cmodel);
			model = model_id(m, name, strlen(name), c, e);
			if (model < 0)
				return model;
		}
		if (out->n >= AIDC_MAX_NODES)
			return aidc_errf(e, AIDC_E_LIMIT, "%s:%zu: more than %u nodes", c->name,
					 c->line, AIDC_MAX_NODES);
		AIDC_GROW(out->v, out->cap, out->n + 1);
		out->v[out->n++] = (struct sim_openb_node){(uint32_t)cpu, mem, (uint32_t)gpu,
							   (uint32_t)model};
		out->gpu_milli_total += gpu * AIDC_DEVICE_MILLI;
	}
	return rc;
}

/* gpu_spec "A|B|C" -> bitmask over model ids ("" = 0, any model). */
static int spec_mask(struct aidc_csv *c, const char *spec, struct sim_openb_models *m,
		     uint64_t *mask, struct aidc_err *e)
{
	*mask = 0;
	const char *p = spec;
	while (*p) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		while (n && (p[0] == ' ' || p[0] == '\t')) {
			p++;
			n--;
		}
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		int id = model_id(m, p, n, c, e);
		if (id < 0)
			return id;
		*mask |= 1ull << id;
		if (!bar)
			break;
		p = bar + 1;
		if (!*p)
			return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: gpu_spec ends with '|'", c->name,
					 c->line);
	}
	return 0;
}

static int pods_read(struct aidc_csv *c, struct sim_openb_models *m, struct sim_openb_pods *out,
		     struct aidc_err *e)
{
	int rc = aidc_csv_read_header(c, e);
	if (rc)
		return rc;
	int ccpu = need_col(c, "cpu_milli", e), cmem = need_col(c, "memory_mib", e);
	int cn = need_col(c, "num_gpu", e), cm = need_col(c, "gpu_milli", e);
	int cspec = aidc_csv_col(c, "gpu_spec"); /* optional: older pod lists lack it */
	if (ccpu < 0 || cmem < 0 || cn < 0 || cm < 0)
		return AIDC_E_PARSE;
	while ((rc = aidc_csv_next(c, e)) == 1) {
		uint64_t cpu = 0, mem = 0, ngpu = 0, milli = 0, mask = 0;
		if ((rc = get_u64(c, ccpu, "cpu_milli", AIDC_MAX_NODE_CPU_MILLI, &cpu, e)) ||
		    (rc = get_u64(c, cmem, "memory_mib", AIDC_MAX_NODE_MEM_MIB, &mem, e)) ||
		    (rc = get_u64(c, cn, "num_gpu", AIDC_MAX_DEVICES_PER_NODE, &ngpu, e)) ||
		    (rc = get_u64(c, cm, "gpu_milli", AIDC_DEVICE_MILLI, &milli, e)))
			return rc;
		if (ngpu == 0)
			milli = 0; /* CPU-only pod: a stray share means nothing */
		else if (milli == 0)
			return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: %" PRIu64 " GPUs of 0 milli",
					 c->name, c->line, ngpu);
		else if (ngpu > 1 && milli < AIDC_DEVICE_MILLI)
			return aidc_errf(e, AIDC_E_PARSE,
					 "%s:%zu: a GPU share (%" PRIu64 " milli) needs num_gpu 1, not %" PRIu64,
					 c->name, c->line, milli, ngpu);
		if (cspec >= 0 && ngpu > 0 && (rc = spec_mask(c, aidc_csv_get(c, cspec), m, &mask, e)))
			return rc;
		if (out->n >= AIDC_MAX_TRACE_JOBS)
			return aidc_errf(e, AIDC_E_LIMIT, "%s:%zu: more than %u pods", c->name, c->line,
					 AIDC_MAX_TRACE_JOBS);
		AIDC_GROW(out->v, out->cap, out->n + 1);
		out->v[out->n++] = (struct sim_openb_pod){(uint32_t)cpu, mem, (uint32_t)ngpu,
							  (uint32_t)milli, mask};
	}
	return rc;
}

/* The node and pod lists share one open/read/close path: read_fn parses the
 * rows into out; on failure release_fn frees what was read. A NULL data means
 * "read the file at name". */
static int read_list(const char *name, const char *data, size_t len,
		     struct sim_openb_models *models, void *out,
		     int (*read_fn)(struct aidc_csv *, struct sim_openb_models *, void *,
				    struct aidc_err *),
		     void (*release_fn)(void *), struct aidc_err *e)
{
	struct aidc_csv c;
	int rc = 0;
	if (data) {
		aidc_csv_open_mem(&c, name, data, len);
	} else {
		rc = aidc_csv_open_file(&c, name, e);
		if (rc)
			return rc;
	}
	rc = read_fn(&c, models, out, e);
	aidc_csv_close(&c);
	if (rc < 0)
		release_fn(out);
	return rc < 0 ? rc : 0;
}

static int nodes_read_fn(struct aidc_csv *c, struct sim_openb_models *m, void *out,
			 struct aidc_err *e)
{
	return nodes_read(c, m, out, e);
}

static int pods_read_fn(struct aidc_csv *c, struct sim_openb_models *m, void *out,
			struct aidc_err *e)
{
	return pods_read(c, m, out, e);
}

static void nodes_release_fn(void *out)
{
	sim_openb_nodes_release(out);
}

static void pods_release_fn(void *out)
{
	sim_openb_pods_release(out);
}

int sim_openb_read_nodes_mem(const char *name, const char *data, size_t len,
			     struct sim_openb_models *models, struct sim_openb_nodes *out,
			     struct aidc_err *e)
{
	memset(out, 0, sizeof *out);
	return read_list(name, data ? data : "", len, models, out, nodes_read_fn,
			 nodes_release_fn, e);
}

int sim_openb_read_nodes(const char *path, struct sim_openb_models *models,
			 struct sim_openb_nodes *out, struct aidc_err *e)
{
	memset(out, 0, sizeof *out);
	return read_list(path, NULL, 0, models, out, nodes_read_fn, nodes_release_fn, e);
}

int sim_openb_read_pods_mem(const char *name, const char *data, size_t len,
			    struct sim_openb_models *models, struct sim_openb_pods *out,
			    struct aidc_err *e)
{
	memset(out, 0, sizeof *out);
	return read_list(name, data ? data : "", len, models, out, pods_read_fn, pods_release_fn,
			 e);
}

int sim_openb_read_pods(const char *path, struct sim_openb_models *models,
			struct sim_openb_pods *out, struct aidc_err *e)
{
	memset(out, 0, sizeof *out);
	return read_list(path, NULL, 0, models, out, pods_read_fn, pods_release_fn, e);
}
