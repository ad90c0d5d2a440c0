/* SPDX-License-Identifier: Apache-2.0 */
/*
 * VC files: a CSV with columns "vc" and "node num" (the format of the Helios
 * SC'21 simulator's philly_vc.csv), one row per virtual cluster. Each VC
 * becomes one partition of its own nodes; --vc-scale multiplies every VC's
 * node count (rounded to nearest, at least 1) to model a smaller or more
 * loaded center. See docs/cluster-file.md.
 */
#include <math.h>

#include "sim/sim_int.h"

static int vc_rows(struct aidc_csv *csv, double scale, uint32_t gpus, struct sim_cluster *c,
		   struct aidc_err *e)
{
	int cv, cn;
	int rc = sim_need_col(csv, "vc", &cv, e);
	if (!rc)
		rc = sim_need_col(csv, "node num", &cn, e);
	if (rc)
		return rc;
	size_t first = c->n, nzero = 0;
	while ((rc = aidc_csv_next(csv, e)) > 0) {
		const char *vc = aidc_csv_get(csv, cv), *v = aidc_csv_get(csv, cn);
		int64_t n;
		if (!*vc)
			return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: empty vc name", csv->name,
					 csv->line);
		if (aidc_parse_i64(v, 0, AIDC_MAX_NODES, &n))
			return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: node num '%s' is not an integer "
					 "in 0..%u", csv->name, csv->line, v, AIDC_MAX_NODES);
		for (size_t i = first; i < c->n; i++)
			if (strcmp(c->groups[i].partition, vc) == 0)
				return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: vc '%s' appears twice",
						 csv->name, csv->line, vc);
		if (n == 0) {
			nzero++; /* a VC with no nodes: its jobs have nowhere to run */
			continue;
		}
		int64_t scaled = llround((double)n * scale);
		if (scaled < 1)
			scaled = 1;
		/* The total is checked here, so that the message names this row. */
		if ((uint64_t)scaled + sim_cluster_nodes(c) > AIDC_MAX_NODES)
			return aidc_errf(e, AIDC_E_LIMIT, "%s:%zu: vc '%s' takes the cluster past %u "
					 "nodes", csv->name, csv->line, vc, AIDC_MAX_NODES);
		rc = sim_cluster_add_uniform(c, vc, (uint32_t)scaled, gpus, e);
		if (rc)
			return aidc_errf(e, rc, "%s:%zu: cannot add vc '%s'", csv->name, csv->line, vc);
	}
	if (rc == 0 && c->n == first)
		return aidc_errf(e, AIDC_E_PARSE, "%s: no VC has any node (%zu VCs with node num "
				 "0): the cluster would be empty", csv->name, nzero);
	return rc;
}

static int vc_read(struct aidc_csv *csv, double scale, uint32_t gpus, struct sim_cluster *c,
		   struct aidc_err *e)
{
	if (!(scale > 0.0) || scale > 1000.0)
		return aidc_errf(e, AIDC_E_INVAL, "vc scale %g is outside (0, 1000]", scale);
	int rc = aidc_csv_read_header(csv, e);
	if (!rc)
		rc = vc_rows(csv, scale, gpus, c, e);
	return rc;
}

int sim_cluster_load_vcs(const char *path, double scale, uint32_t gpus, struct sim_cluster *c,
			 struct aidc_err *e)
{
	struct aidc_csv csv;
	int rc = aidc_csv_open_file(&csv, path, e);
	if (rc)
		return rc;
	rc = vc_read(&csv, scale, gpus, c, e);
	aidc_csv_close(&csv);
	return rc;
}

int sim_cluster_parse_vcs(const char *name, const char *data, size_t len, double scale,
			  uint32_t gpus, struct sim_cluster *c, struct aidc_err *e)
{
	struct aidc_csv csv;
	aidc_csv_open_mem(&csv, name, data, len);
	int rc = vc_read(&csv, scale, gpus, c, e);
	aidc_csv_close(&csv);
	return rc;
}
