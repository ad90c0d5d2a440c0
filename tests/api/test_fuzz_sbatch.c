/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seeded mutation fuzzing (tests/fuzz_mut.h) of sbatch's input
 * (src/api/api_sbatch.c): whole batch scripts through api_sbatch_parse and
 * api_sbatch_resolve, every option of the table with mutated values through
 * api_sbatch_apply, and the value parsers on their own (time limits,
 * --dependency, --begin, --signal, -o/-e patterns, --array). Every input is
 * accepted or refused with its code and a non-empty message; a refused
 * option leaves the job's values as they were; accepted values keep their
 * documented bounds.
 */
#include "api/sbatch.h"
#include "tests/fuzz_mut.h"
#include "tests/test.h"
#include "util/arrayset.h"
#include "util/util.h"

static void check_refusal(int rc, const struct aidc_err *e)
{
	CHECK(rc < 0);
	CHECK_EQ(e->code, rc);
	CHECK(e->msg[0] != '\0');
}

static const char *const sb_dict[] = {
    "#SBATCH ",
    "\n#SBATCH --",
    "-N ",
    "--nodes=",
    "--array=",
    "--dependency=",
    "--gres=gpu:",
    "--gpus=",
    "--mem=",
    "--time=",
    "--begin=",
    "--signal=",
    "--export=",
    "-o ",
    "--wrap=",
    "-w ",
    "--exclude=",
    "--mem-per-gpu=",
    "\"",
    "'",
    "#",
    "=",
    " ",
    "\\",
    "1-99999999",
    "n[1-99999999]",
    "afterok:1?afterany:2",
    "1,3,5-9:2%4",
    "now+99999999weeks",
    "B:USR1@60",
    "%j%x%A%a%N%%%",
    "gpu:a100:4",
    "64G",
    "99999999T",
    "1-00:00:00",
    "UNLIMITED",
    "ALL,A=b",
};

static const char *const sb_seeds[] = {
    "#!/bin/bash\n#SBATCH -J t -N 1-2 --ntasks-per-node=24 --gres=gpu:a100:4 --mem=64G\n"
    "#SBATCH -t 1-00:00:00 -o %x-%j.out --mail-type=END\necho $1\n",
    "#!/bin/sh\n#SBATCH --array=1,3,5-9:2%4 -o out-%A_%a.log\n#SBATCH -d afterok:12:13,"
    "singleton\n#SBATCH --begin=now+1hour --signal=B:USR1@90 --export=ALL,X=1\nsrun a\n",
    "#!/bin/sh\n#SBATCH -w n[01-04],gpu7 -x n3 -N 4 -n 8 -c 2 --gpus-per-task=1\n"
    "#SBATCH --mem-per-cpu=500M --exclusive --requeue -p batch -A acct -q high\nhostname\n",
    "#!/bin/sh\n#SBATCH --gres=mps:50 -n 1 --nice=10 -H --kill-on-invalid-dep=yes\n"
    "#AIDC --preemptible\n#SBATCH -e err.%j --chdir=/tmp --wrap=\"echo hi\"\n",
    "#!/bin/sh\n#SBATCH --gpus=8 --gpus-per-node=4 -N 2 --mem=0 --exclusive -t 90\n",
};

/* A script: parse, then (when it parses) resolve and expand its patterns. */
static bool script_checked(const char *text)
{
	struct api_sbatch *s = aidc_calloc(1, sizeof *s);
	struct aidc_err e = {0};
	int rc = api_sbatch_parse(text, s, &e);
	if (rc != 0) {
		check_refusal(rc, &e);
		aidc_free(s);
		return false;
	}
	struct api_sbatch_job j;
	struct aidc_err e2 = {0};
	int r2 = api_sbatch_resolve(s, &j, &e2);
	if (r2 != 0) {
		check_refusal(r2, &e2);
	} else {
		CHECK(j.cpus >= 1);
		CHECK(j.gpus >= 0);
		CHECK(j.mem_mib >= 0);
		CHECK(j.nodes >= 0);
	}
	char out[AIDC_MAX_PATH_BYTES];
	const char *pats[2] = {s->stdout_path, s->stderr_path};
	for (int k = 0; k < 2; k++) {
		if (!pats[k][0])
			continue;
		struct aidc_err e3 = {0};
		int r3 = api_sbatch_pattern("-o", pats[k], s->name, s->array[0] != 0, out,
					    sizeof out, &e3);
		if (r3 != 0)
			check_refusal(r3, &e3);
		else
			CHECK_EQ(api_output_pattern_check_ex("-o", out, s->array[0] != 0, NULL), 0);
	}
	aidc_free(s);
	return true;
}

static void fuzz_scripts(void)
{
	struct fz_rng r = {fz_seed(0x5BA7C001)};
	size_t cap = 3 * AIDC_MAX_ARG_BYTES + 16384;
	struct fz_buf b = {malloc(cap), 0, cap};
	long iters = fz_iters(12000), parsed = 0;
	size_t ns = sizeof sb_seeds / sizeof *sb_seeds;
	for (size_t i = 0; i < ns; i++)
		CHECK(script_checked(sb_seeds[i]));
	for (long i = 0; i < iters; i++) {
		const char *seed = sb_seeds[fz_below(&r, ns)];
		fz_mutate(&r, &b, seed, strlen(seed), sb_dict, sizeof sb_dict / sizeof *sb_dict);
		char *in = fz_exact(&b);
		parsed += script_checked(in);
		free(in);
	}
	printf("api_sbatch_parse: %ld scripts, %ld parsed\n", iters, parsed);
	free(b.data);
}

/* ---- every option through api_sbatch_apply ---- */

static const char *const values[] = {
    "1",	   "2-4",	  "1:00:00", "gpu:2",	  "gpu:a100:4", "4G",
    "500M",	   "afterok:1:2", "1-9:2%4", "now+1hour", "out-%j.log", "ALL,A=b",
    "n[1-3],gpu7", "B:USR1@60",	  "yes",     "train",	  "/tmp",	"2026-12-31T23:59",
    "mps:50",	   "a100",	  "END",     "user@host", "0",		"UNLIMITED",
    "--nodes",
};

/* The values a refused option must leave alone (seen[] records the attempt). */
static bool same_values(const struct api_sbatch *a, const struct api_sbatch *b)
{
	struct api_sbatch x = *a, y = *b;
	memset(x.seen, 0, sizeof x.seen);
	memset(y.seen, 0, sizeof y.seen);
	return memcmp(&x, &y, sizeof x) == 0;
}

static void apply_checked(struct api_sbatch *s, const struct api_sbatch_opt *o, const char *v,
			  long *refused_changed)
{
	char opt[80];
	snprintf(opt, sizeof opt, "--%s", o->name);
	struct api_sbatch *before = aidc_malloc(sizeof *before);
	*before = *s;
	struct aidc_err e = {0};
	int rc = api_sbatch_apply(s, opt, v, &e);
	if (rc != 0) {
		check_refusal(rc, &e);
		if (!same_values(before, s)) {
			if (*refused_changed < 5)
				fprintf(stderr, "%s=%s refused (%s) but changed the job\n", opt,
					v ? v : "(none)", e.msg);
			(*refused_changed)++;
		}
	}
	aidc_free(before);
}

static void fuzz_options(void)
{
	struct fz_rng r = {fz_seed(0x5BA7C002)};
	struct fz_buf b = {malloc(2 * AIDC_MAX_ARG_BYTES), 0, 2 * AIDC_MAX_ARG_BYTES};
	long iters = fz_iters(40), n = 0, refused_changed = 0;
	struct api_sbatch *s = aidc_calloc(1, sizeof *s);
	for (size_t k = 0; k < api_sbatch_nopts; k++) {
		const struct api_sbatch_opt *o = &api_sbatch_opts[k];
		if (o->arg != API_SB_ARG) {
			apply_checked(s, o, NULL, &refused_changed);
			n++;
		}
		if (o->arg == API_SB_NOARG)
			continue;
		for (long i = 0; i < iters; i++, n++) {
			const char *seed = values[fz_below(&r, sizeof values / sizeof *values)];
			fz_mutate(&r, &b, seed, strlen(seed), sb_dict,
				  sizeof sb_dict / sizeof *sb_dict);
			char *in = fz_exact(&b);
			apply_checked(s, o, in, &refused_changed);
			free(in);
		}
	}
	CHECK_EQ(refused_changed, 0);
	printf("api_sbatch_apply: %zu options, %ld values\n", api_sbatch_nopts, n);
	aidc_free(s);
	free(b.data);
}

/* ---- the value parsers on their own ---- */

static void value_checked(const char *v)
{
	int64_t t = -1;
	if (api_parse_time_limit(v, &t) == 0)
		CHECK(t >= 0 && t <= AIDC_MAX_DURATION_S);
	struct api_dep deps[AIDC_MAX_JOB_DEPS];
	size_t nd = 0;
	bool any = false;
	struct aidc_err e = {0};
	int rc = api_parse_dependency(v, deps, &nd, &any, &e);
	if (rc != 0)
		check_refusal(rc, &e);
	else
		for (size_t i = 0; i < nd && i < AIDC_MAX_JOB_DEPS; i++)
			CHECK(deps[i].type >= API_DEP_AFTEROK && deps[i].type <= API_DEP_AFTERCORR);
	int64_t now = 1800000000, begin = 0;
	struct aidc_err e2 = {0};
	rc = api_parse_begin(v, now, &begin, &e2);
	if (rc != 0)
		check_refusal(rc, &e2);
	int64_t sig = 0, before = 0;
	bool batch = false;
	struct aidc_err e3 = {0};
	rc = api_parse_signal_opt(v, &sig, &before, &batch, &e3);
	if (rc != 0)
		check_refusal(rc, &e3);
	else
		CHECK(sig >= 1 && before >= 0 && before <= 65535);
	char out[AIDC_MAX_PATH_BYTES];
	struct aidc_err e4 = {0};
	rc = api_sbatch_pattern("-o", v, "job", true, out, sizeof out, &e4);
	if (rc != 0)
		check_refusal(rc, &e4);
	struct aidc_err e5 = {0};
	rc = api_output_pattern_check_ex("-o", v, false, &e5);
	if (rc != 0)
		check_refusal(rc, &e5);
}

/* --array: an accepted spec's set formats and reads back to the same set. */
static void array_checked(const char *v)
{
	struct aidc_aset s = {0}, s2 = {0};
	int64_t limit = -1;
	struct aidc_err e = {0};
	int rc = aidc_aset_parse(v, &s, &limit, &e);
	if (rc != 0) {
		check_refusal(rc, &e);
		CHECK_EQ(s.n, 0);
		aidc_aset_free(&s);
		return;
	}
	CHECK(limit >= 0);
	CHECK(s.count >= 1 && s.count <= AIDC_MAX_ARRAY_TASKS);
	size_t len = aidc_aset_format_len(&s);
	char *txt = malloc(len + 1);
	CHECK_EQ(aidc_aset_format(&s, txt, len + 1), len);
	struct aidc_err e2 = {0};
	CHECK_EQ(aidc_aset_read(txt, &s2, &e2), 0);
	CHECK_EQ(s2.count, s.count);
	char *txt2 = malloc(len + 1);
	aidc_aset_format(&s2, txt2, len + 1);
	CHECK_STR(txt2, txt);
	free(txt);
	free(txt2);
	aidc_aset_free(&s);
	aidc_aset_free(&s2);
}

static void values_checked(struct fz_rng *r, const char *in)
{
	(void)r;
	value_checked(in);
	array_checked(in);
}

static void fuzz_values(void)
{
	static const char *const seeds[] = {
	    "1-00:00:00",
	    "90",
	    "2:30",
	    "45s",
	    "UNLIMITED",
	    "afterok:1:2",
	    "after:5+10",
	    "singleton",
	    "afterany:1?afternotok:2",
	    "aftercorr:7",
	    "now+1hour",
	    "2026-12-31T23:59:59",
	    "16:00",
	    "tomorrow",
	    "B:USR1@60",
	    "SIGTERM",
	    "out-%j-%x-%A_%a.log",
	    "\\%j",
	    "1,3,5-9:2%4",
	    "0-99999",
	    "7",
	};
	long iters = fz_iters(25000);
	fz_each_string(0x5BA7C003, 8192, seeds, sizeof seeds / sizeof *seeds, sb_dict,
		       sizeof sb_dict / sizeof *sb_dict, iters, values_checked);
	printf("time/dependency/begin/signal/pattern/array parsers: %ld values each\n", iters);
}

TEST_MAIN({"fuzz_scripts", fuzz_scripts, 240}, {"fuzz_options", fuzz_options, 240},
	  {"fuzz_values", fuzz_values, 240})
