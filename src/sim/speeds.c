/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Speed tables for heterogeneity runs (`aidc sim --speeds FILE`, bench/hetero;
 * docs/placement.md "Heterogeneity-aware placement"): a CSV with a header and
 * the columns
 *   class  a job class name: jobs whose trace name equals it belong to it
 *   model  a device model of the cluster (others are ignored by the engine)
 *   speed  relative throughput, a decimal in 0.001..1000 (1.0 = the job's
 *          base run time; run time = base / speed)
 * Classes are numbered 1.. in the order they first appear; a (class, model)
 * pair listed twice is an error. Bad rows are refused naming file:line.
 */
#include <math.h>

#include "sim/sim_int.h"

static int speed_rows(struct aidc_csv *csv, struct sim_speed **out, size_t *n,
		      char (**names)[AIDC_MAX_NAME_BYTES], uint32_t *ncls, struct aidc_err *e)
{
	int cc, cm, cs, rc = sim_need_col(csv, "class", &cc, e);
	size_t cap = 0, capn = 0;

	if (!rc)
		rc = sim_need_col(csv, "model", &cm, e);
	if (!rc)
		rc = sim_need_col(csv, "speed", &cs, e);
	while (!rc && (rc = aidc_csv_next(csv, e)) > 0) {
		const char *cl = aidc_csv_get(csv, cc), *mo = aidc_csv_get(csv, cm);
		const char *sv = aidc_csv_get(csv, cs);
		double sp;
		uint32_t k = 0;
		rc = 0;
		if (!*cl || strlen(cl) >= AIDC_MAX_NAME_BYTES || !*mo ||
		    strlen(mo) >= AIDC_MAX_NAME_BYTES)
			return aidc_errf(e, AIDC_E_PARSE,
					 "%s:%zu: class and model of 1..%u bytes required",
					 csv->name, csv->line, AIDC_MAX_NAME_BYTES - 1);
		if (aidc_parse_f64(sv, 0.001, AIDC_MAX_SPEED_MILLI / 1000.0, &sp))
			return aidc_errf(e, AIDC_E_PARSE,
					 "%s:%zu: speed '%s' is not a number in 0.001..%u",
					 csv->name, csv->line, sv, AIDC_MAX_SPEED_MILLI / 1000);
		while (k < *ncls && strcmp((*names)[k], cl))
			k++;
		if (k == *ncls) {
			if (*ncls >= AIDC_MAX_SPEED_CLASSES)
				return aidc_errf(e, AIDC_E_LIMIT, "%s:%zu: more than %u classes",
						 csv->name, csv->line, AIDC_MAX_SPEED_CLASSES);
			AIDC_GROW(*names, capn, (size_t)*ncls + 1);
			snprintf((*names)[(*ncls)++], AIDC_MAX_NAME_BYTES, "%s", cl);
		}
		for (size_t i = 0; i < *n; i++)
			if ((*out)[i].cls == k + 1 && !strcmp((*out)[i].model, mo))
				return aidc_errf(e, AIDC_E_PARSE,
						 "%s:%zu: class '%s' on model '%s' twice",
						 csv->name, csv->line, cl, mo);
		if (*n >= (size_t)AIDC_MAX_SPEED_CLASSES * AIDC_MAX_DEVICE_MODELS)
			return aidc_errf(e, AIDC_E_LIMIT, "%s:%zu: too many rows", csv->name,
					 csv->line);
		AIDC_GROW(*out, cap, *n + 1);
		(*out)[*n].cls = k + 1;
		snprintf((*out)[*n].model, AIDC_MAX_NAME_BYTES, "%s", mo);
		(*out)[(*n)++].speed_milli = (uint32_t)llround(sp * 1000.0);
	}
	if (rc == 0 && *n == 0)
		return aidc_errf(e, AIDC_E_PARSE, "%s: no speed", csv->name);
	return rc;
}

static int load(struct aidc_csv *csv, struct sim_speed **out, size_t *n,
		char (**names)[AIDC_MAX_NAME_BYTES], uint32_t *ncls, struct aidc_err *e)
{
	int rc = aidc_csv_read_header(csv, e);

	*out = NULL;
	*names = NULL;
	*n = 0;
	*ncls = 0;
	if (!rc)
		rc = speed_rows(csv, out, n, names, ncls, e);
	aidc_csv_close(csv);
	if (rc) {
		aidc_free(*out);
		aidc_free(*names);
		*out = NULL;
		*names = NULL;
		*n = 0;
		*ncls = 0;
	}
	return rc;
}

int sim_speeds_load(const char *path, struct sim_speed **out, size_t *n,
		    char (**names)[AIDC_MAX_NAME_BYTES], uint32_t *nclasses, struct aidc_err *e)
{
	struct aidc_csv csv;
	int rc = aidc_csv_open_file(&csv, path, e);

	if (rc) {
		*out = NULL;
		*names = NULL;
		*n = 0;
		*nclasses = 0;
		return rc;
	}
	return load(&csv, out, n, names, nclasses, e);
}

int sim_speeds_parse(const char *name, const char *data, size_t len, struct sim_speed **out,
		     size_t *n, char (**names)[AIDC_MAX_NAME_BYTES], uint32_t *nclasses,
		     struct aidc_err *e)
{
	struct aidc_csv csv;

	aidc_csv_open_mem(&csv, name, data, len);
	return load(&csv, out, n, names, nclasses, e);
}

size_t sim_speeds_classify(struct sim_trace *t, const char (*names)[AIDC_MAX_NAME_BYTES],
			   uint32_t nclasses)
{
	uint32_t ns = sim_strtab_count(&t->strs);
	uint32_t *cls = aidc_calloc(AIDC_MAX(ns, 1u), sizeof *cls);
	size_t got = 0;

	/* Name string index -> class, once per distinct name. */
	for (uint32_t s = 1; s < ns; s++)
		for (uint32_t k = 0; k < nclasses && !cls[s]; k++)
			if (!strcmp(sim_strtab_get(&t->strs, s), names[k]))
				cls[s] = k + 1;
	for (size_t i = 0; i < t->n; i++) {
		t->jobs[i].speed_class = t->jobs[i].name < ns ? cls[t->jobs[i].name] : 0;
		got += t->jobs[i].speed_class != 0;
	}
	aidc_free(cls);
	return got;
}
