/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seeded mutation fuzzing (tests/fuzz_mut.h) of the files `aidc sim` reads
 * from users: traces in the three formats (Philly, Helios, AIDC; with and
 * without --skip-bad-rows), cluster files, VC files, speed tables and the
 * OpenB node and pod lists. Seeds are the libFuzzer corpus (fuzz/corpus/;
 * the test runs in the source tree). Every file is read or refused with its
 * code and a message; an accepted trace is sorted and within its limits,
 * and an accepted AIDC trace written again (sim_trace_write_aidc, what
 * `aidc sim --generate` writes) reads back the same.
 */
#include "sim/openb.h"
#include "sim/sim.h"
#include "tests/fuzz_mut.h"
#include "tests/test.h"
#include "util/util.h"

#define FZ_MAX_JOBS 2000
#define FZ_CAP	    (256u << 10)

static void check_refusal(int rc, const struct aidc_err *e)
{
	CHECK(rc < 0);
	CHECK_EQ(e->code, rc);
	CHECK(e->msg[0] != '\0');
}

/* A corpus file into a malloc'd, NUL-terminated buffer. */
static char *corpus(const char *dir, const char *file, size_t *len)
{
	char path[256];
	snprintf(path, sizeof path, "fuzz/corpus/%s/%s", dir, file);
	FILE *f = fopen(path, "rb");
	CHECK(f != NULL);
	char *buf = calloc(1, FZ_CAP);
	if (!f || !buf) {
		if (f)
			fclose(f);
		*len = 0;
		return buf;
	}
	*len = fread(buf, 1, FZ_CAP - 1, f);
	fclose(f);
	return buf;
}

static bool same_job(const struct sim_trace *a, const struct sim_job *x, const struct sim_trace *b,
		     const struct sim_job *y)
{
	return x->id == y->id && x->submit_s == y->submit_s && x->duration_s == y->duration_s &&
	       x->time_limit_s == y->time_limit_s && x->ntasks == y->ntasks &&
	       x->cpu_milli == y->cpu_milli && x->mem_mib == y->mem_mib && x->ndev == y->ndev &&
	       x->dev_milli == y->dev_milli && x->priority == y->priority && x->flags == y->flags &&
	       !strcmp(sim_strtab_get(&a->strs, x->vc), sim_strtab_get(&b->strs, y->vc)) &&
	       !strcmp(sim_strtab_get(&a->strs, x->user), sim_strtab_get(&b->strs, y->user)) &&
	       !strcmp(sim_strtab_get(&a->strs, x->name), sim_strtab_get(&b->strs, y->name)) &&
	       !strcmp(sim_strtab_get(&a->strs, x->model), sim_strtab_get(&b->strs, y->model));
}

/* An accepted trace written in the AIDC format reads back the same. */
static void trace_roundtrip(const struct sim_trace *t)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct aidc_err e = {0};
	CHECK_EQ(sim_trace_write_aidc(t, f, &e), 0);
	fclose(f);
	struct sim_trace back;
	sim_trace_init(&back);
	struct sim_read_opts o = {.max_jobs = FZ_MAX_JOBS};
	struct aidc_err e2 = {0};
	int rc = sim_trace_load_mem("back", text, len, SIM_FORMAT_AIDC, &o, &back, &e2);
	CHECK_EQ(rc, 0);
	if (rc != 0)
		fprintf(stderr, "written trace does not read back: %s\n", e2.msg);
	else if (back.n != t->n)
		CHECK_EQ(back.n, t->n);
	else
		for (size_t i = 0; i < t->n; i++)
			CHECK(same_job(t, &t->jobs[i], &back, &back.jobs[i]));
	sim_trace_release(&back);
	free(text);
}

static bool trace_checked(const char *data, size_t len, enum sim_format fmt, bool skip)
{
	struct sim_trace t;
	sim_trace_init(&t);
	struct sim_read_opts o = {.skip_bad_rows = skip, .max_jobs = FZ_MAX_JOBS};
	struct aidc_err e = {0};
	int rc = sim_trace_load_mem("fuzz", data, len, fmt, &o, &t, &e);
	if (rc != 0) {
		check_refusal(rc, &e);
	} else {
		CHECK_LE(t.n, FZ_MAX_JOBS);
		CHECK(t.bad_rows == 0 || t.first_bad[0] != '\0');
		for (size_t i = 0; i < t.n; i++) {
			const struct sim_job *j = &t.jobs[i];
			CHECK(i == 0 || t.jobs[i - 1].submit_s <= j->submit_s);
			CHECK(j->duration_s >= 0 && j->dev_milli <= 1000);
			CHECK(j->vc < sim_strtab_count(&t.strs) &&
			      j->user < sim_strtab_count(&t.strs));
		}
		if (fmt == SIM_FORMAT_AIDC) /* the others may repeat ids */
			trace_roundtrip(&t);
	}
	sim_trace_release(&t);
	return rc == 0;
}

static const char *const csv_dict[] = {",",
				       "\"",
				       "\"\"",
				       "\n",
				       "\r\n",
				       "\xef\xbb\xbf",
				       "#",
				       "-1",
				       "1e308",
				       "nan",
				       "inf",
				       "2017-10-03 14:35:57",
				       "99999999999999999999",
				       "None",
				       "[]",
				       "[1,2]",
				       "a|b",
				       ":"};

static void fuzz_traces(void)
{
	static const struct {
		const char *dir, *file;
		enum sim_format fmt;
	} seeds[] = {
	    {"sim_philly", "ok.csv", SIM_FORMAT_PHILLY},
	    {"sim_philly", "huge.csv", SIM_FORMAT_PHILLY},
	    {"sim_helios", "ok.csv", SIM_FORMAT_HELIOS},
	    {"sim_helios", "start_end.csv", SIM_FORMAT_HELIOS},
	    {"sim_aidc", "ok.trace", SIM_FORMAT_AIDC},
	    {"sim_aidc", "full.trace", SIM_FORMAT_AIDC},
	    {"sim_aidc", "fraction.trace", SIM_FORMAT_AIDC},
	};
	struct fz_rng r = {fz_seed(0x51A0001)};
	struct fz_buf b = {malloc(FZ_CAP), 0, FZ_CAP};
	long iters = fz_iters(2000), total = 0, ok = 0;
	for (size_t s = 0; s < sizeof seeds / sizeof *seeds; s++) {
		size_t len;
		char *seed = corpus(seeds[s].dir, seeds[s].file, &len);
		trace_checked(seed, len, seeds[s].fmt, false);
		for (long i = 0; i < iters; i++, total++) {
			fz_mutate(&r, &b, seed, len, csv_dict, sizeof csv_dict / sizeof *csv_dict);
			char *in = fz_exact(&b);
			ok += trace_checked(in, b.len, seeds[s].fmt, i & 1);
			free(in);
		}
		free(seed);
	}
	printf("sim_trace_load_mem: %ld traces, %ld read (AIDC ones written and read back)\n",
	       total, ok);
	free(b.data);
}

static void cluster_checked(const char *data, size_t len)
{
	struct sim_cluster c;
	struct aidc_err e = {0};
	sim_cluster_init(&c);
	int rc = sim_cluster_parse("fuzz", data, len, &c, &e);
	if (rc != 0)
		check_refusal(rc, &e);
	else
		CHECK_LE(sim_cluster_nodes(&c), AIDC_MAX_NODES);
	sim_cluster_release(&c);
	sim_cluster_init(&c);
	struct aidc_err e2 = {0};
	rc = sim_cluster_parse_vcs("fuzz", data, len, 0.5, 8, &c, &e2);
	if (rc != 0)
		check_refusal(rc, &e2);
	else
		CHECK_LE(sim_cluster_nodes(&c), AIDC_MAX_NODES);
	sim_cluster_release(&c);
	struct sim_speed *sp = NULL;
	size_t n = 0;
	char(*names)[AIDC_MAX_NAME_BYTES] = NULL;
	uint32_t nclasses = 0;
	struct aidc_err e3 = {0};
	rc = sim_speeds_parse("fuzz", data, len, &sp, &n, &names, &nclasses, &e3);
	if (rc != 0) {
		check_refusal(rc, &e3);
	} else {
		aidc_free(sp);
		aidc_free(names);
	}
}

static void openb_checked(const char *data, size_t len)
{
	struct sim_openb_models m = {0};
	struct sim_openb_nodes nodes;
	struct sim_openb_pods pods;
	struct aidc_err e = {0}, e2 = {0};
	int rc = sim_openb_read_nodes_mem("fuzz.csv", data, len, &m, &nodes, &e);
	if (rc != 0)
		check_refusal(rc, &e);
	sim_openb_nodes_release(&nodes);
	rc = sim_openb_read_pods_mem("fuzz.csv", data, len, &m, &pods, &e2);
	if (rc != 0)
		check_refusal(rc, &e2);
	sim_openb_pods_release(&pods);
}

static void fuzz_cluster_files(void)
{
	static const char *const seeds[][2] = {
	    {"sim_cluster", "full.cluster"}, {"sim_cluster", "two4.cluster"},
	    {"sim_cluster", "vcs.csv"},	     {"openb_nodes", "good"},
	    {"openb_pods", "good"},	     {"openb_pods", "specs"},
	};
	static const char *const dict[] = {
	    "[",	   "]",		  "=", "count", "devices", "nodes", "model",
	    "\n[group]\n", "99999999999", "0", "-1",	",",	   "\""};
	struct fz_rng r = {fz_seed(0x51A0002)};
	struct fz_buf b = {malloc(FZ_CAP), 0, FZ_CAP};
	long iters = fz_iters(2000), total = 0;
	for (size_t s = 0; s < sizeof seeds / sizeof *seeds; s++) {
		size_t len;
		char *seed = corpus(seeds[s][0], seeds[s][1], &len);
		for (long i = 0; i < iters; i++, total++) {
			fz_mutate(&r, &b, seed, len, dict, sizeof dict / sizeof *dict);
			char *in = fz_exact(&b);
			cluster_checked(in, b.len);
			openb_checked(in, b.len);
			free(in);
		}
		free(seed);
	}
	printf("cluster, VC, speed, OpenB node and pod readers: %ld files each\n", total);
	free(b.data);
}

TEST_MAIN({"fuzz_traces", fuzz_traces, 240}, {"fuzz_cluster_files", fuzz_cluster_files, 240})
