/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of #SBATCH / #AIDC directive parsing (src/api/api_sbatch.c), table-driven. */
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "api/sbatch.h"
#include "tests/test.h"
#include "util/util.h"

struct sb_case {
	const char *script;
	int want;
	int64_t nodes, ntasks, per_node, gpus, time_s, mem;
	const char *name, *out, *model;
};

static void test_directives(void)
{
	const struct sb_case cases[] = {
	    {"#!/bin/bash\n#SBATCH -N 2\n#SBATCH -n 8\n#SBATCH -t 1:00:00\nsrun x\n", 0, 2, 8, 0, 0,
	     3600, 0, "", "", ""},
	    {"#!/bin/sh\n#SBATCH --nodes=4 --ntasks-per-node=2\n#SBATCH --gres=gpu:a100:4\n", 0, 4,
	     0, 2, 4, 0, 0, "", "", "a100"},
	    {"#!/bin/sh\n#SBATCH -J train -o out.%j -e err.%j\n#SBATCH --mem=4G\n", 0, 0, 0, 0, 0,
	     0, 4096, "train", "out.%j", ""},
	    {"#!/bin/sh\n#SBATCH -N2 -n4\n#SBATCH --time=2-00:00:00\n", 0, 2, 4, 0, 0, 172800, 0,
	     "", "", ""},
	    {"#!/bin/sh\n#AIDC --gpus-per-task 2\n#SBATCH --account=foo  # ignored\n", 0, 0, 0, 0,
	     2, 0, 0, "", "", ""},
	    /* directives end at the first command */
	    {"#!/bin/sh\necho hi\n#SBATCH -N 9\n", 0, 0, 0, 0, 0, 0, 0, "", "", ""},
	    /* "#SBATCHX" is not a directive; "# SBATCH" neither */
	    {"#!/bin/sh\n#SBATCHX -N 9\n# SBATCH -N 9\n", 0, 0, 0, 0, 0, 0, 0, "", "", ""},
	    {"#!/bin/sh\n#SBATCH -N zero\n", AIDC_E_INVAL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL},
	    {"#!/bin/sh\n#SBATCH -N 0\n", AIDC_E_INVAL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL},
	    /* Slurm's time formats: a bare number is minutes */
	    {"#!/bin/sh\n#SBATCH -t 2\n", 0, 0, 0, 0, 0, 120, 0, "", "", ""},
	    {"#!/bin/sh\n#SBATCH --time=90\n", 0, 0, 0, 0, 0, 5400, 0, "", "", ""},
	    {"#!/bin/sh\n#SBATCH -t 5:30\n", 0, 0, 0, 0, 0, 330, 0, "", "", ""},
	    {"#!/bin/sh\n#SBATCH -t 1-12\n", 0, 0, 0, 0, 0, 129600, 0, "", "", ""},
	    {"#!/bin/sh\n#SBATCH -t 1-0:30\n", 0, 0, 0, 0, 0, 88200, 0, "", "", ""},
	    {"#!/bin/sh\n#SBATCH -t UNLIMITED\n", 0, 0, 0, 0, 0, 0, 0, "", "", ""},
	    {"#!/bin/sh\n#SBATCH -t 45s\n", 0, 0, 0, 0, 0, 45, 0, "", "", ""},
	    {"#!/bin/sh\n#SBATCH -t 99999999999\n", AIDC_E_INVAL, 0, 0, 0, 0, 0, 0, NULL, NULL,
	     NULL},
	    {"#!/bin/sh\n#SBATCH -t -5\n", AIDC_E_INVAL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL},
	    {"#!/bin/sh\n#SBATCH -t soon\n", AIDC_E_INVAL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL},
	    {"#!/bin/sh\n#SBATCH --gres=fpga:1\n", AIDC_E_UNSUPPORTED, 0, 0, 0, 0, 0, 0, NULL, NULL,
	     NULL},
	    {"#!/bin/sh\n#SBATCH --mem=4Q\n", AIDC_E_INVAL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL},
	    {"#!/bin/sh\n#SBATCH nodes\n", AIDC_E_PARSE, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL},
	    {"#!/bin/sh\n#SBATCH -N\n", AIDC_E_INVAL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL},
	    /* quotes group words and are removed, as in a shell */
	    {"#!/bin/sh\n#SBATCH -J \"a b\"\n", 0, 0, 0, 0, 0, 0, 0, "a b", "", ""},
	    {"#!/bin/sh\n#SBATCH --job-name='x  y' -o \"out %j.txt\" -N 2\n", 0, 2, 0, 0, 0, 0, 0,
	     "x  y", "out %j.txt", ""},
	    {"#!/bin/sh\n#SBATCH -J=\"q\"uoted -o a#b # a comment\n", 0, 0, 0, 0, 0, 0, 0, "quoted",
	     "a#b", ""},
	    {"#!/bin/sh\n#SBATCH -J \"open\n", AIDC_E_PARSE, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL},
	    /* DOS line breaks: refused with Slurm's message, naming the line */
	    {"#!/bin/sh\n#SBATCH -N 2\r\necho hi\r\n", AIDC_E_INVAL, 0, 0, 0, 0, 0, 0, NULL, NULL,
	     NULL},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		const struct sb_case *c = &cases[i];
		struct api_sbatch s;
		struct aidc_err e = {0};
		int rc = api_sbatch_parse(c->script, &s, &e);
		if (rc != c->want)
			fprintf(stderr, "case %zu: %s\n", i, e.msg);
		CHECK_EQ(rc, c->want);
		if (rc != 0) {
			CHECK_CONTAINS(e.msg, "line 2");
			continue;
		}
		CHECK_EQ(s.nodes, c->nodes);
		CHECK_EQ(s.ntasks, c->ntasks);
		CHECK_EQ(s.ntasks_per_node, c->per_node);
		CHECK_EQ(s.gpus_per_task + s.gpus_per_node, c->gpus);
		CHECK_EQ(s.time_limit_s, c->time_s);
		CHECK_EQ(s.mem_mib, c->mem);
		CHECK_STR(s.name, c->name);
		CHECK_STR(s.stdout_path, c->out);
		CHECK_STR(s.gpu_model, c->model);
	}
}

/* An over-long line is refused, not truncated. */
static void test_long_line(void)
{
	char big[2048];
	memset(big, 'x', sizeof big);
	memcpy(big, "#SBATCH -J ", 11);
	big[sizeof big - 1] = '\0';
	struct api_sbatch s;
	CHECK_EQ(api_sbatch_parse(big, &s, NULL), AIDC_E_LIMIT);
}

static void test_crlf_message(void)
{
	struct api_sbatch s;
	struct aidc_err e = {0};
	CHECK_EQ(api_sbatch_parse("#!/bin/bash\r\n#SBATCH -N 1\r\n", &s, &e), AIDC_E_INVAL);
	CHECK_CONTAINS(e.msg, "DOS line breaks");
	CHECK_CONTAINS(e.msg, "line 1");
	/* A lone '\r' inside a line is not a DOS line break. */
	CHECK_EQ(api_script_check_text("#!/bin/sh\necho 'a\rb'\n", NULL), 0);
}

/* Never silent: unknown options and refused ones are errors naming them;
 * no-effect ones are accepted and recorded for one warning each. */
static void test_refusals(void)
{
	const struct {
		const char *script;
		int want;
		const char *msg;
	} cases[] = {
	    {"#!/bin/sh\n#SBATCH --bogus-flag\n", AIDC_E_INVAL, "--bogus-flag: unknown option"},
	    {"#!/bin/sh\n#SBATCH -Z\n", AIDC_E_INVAL, "-Z: unknown option"},
	    {"#!/bin/sh\n#SBATCH --array=9-1\n", AIDC_E_INVAL,
	     "--array=9-1: '9-1': the range ends before it starts"},
	    {"#!/bin/sh\n#SBATCH -a 0-100000\n", AIDC_E_LIMIT, "-a=0-100000: more than 100000"},
	    {"#!/bin/sh\n#SBATCH --array=1-3%0\n", AIDC_E_INVAL, "throttle %LIMIT must be"},
	    {"#!/bin/sh\n#SBATCH --dependency=aftercorr\n", AIDC_E_INVAL,
	     "aftercorr needs :JOBID"},
	    {"#!/bin/sh\n#SBATCH --dependency=aftercor:1\n", AIDC_E_INVAL,
	     "'aftercor' is not a dependency type"},
	    {"#!/bin/sh\n#SBATCH --dependency=singleton:1\n", AIDC_E_INVAL, "takes no job id"},
	    {"#!/bin/sh\n#SBATCH -d afterok:1,afterany:2?after:3\n", AIDC_E_INVAL,
	     "cannot be mixed"},
	    {"#!/bin/sh\n#SBATCH -d afterok:1+5\n", AIDC_E_INVAL, "only for after"},
	    {"#!/bin/sh\n#SBATCH -d after:1+x\n", AIDC_E_INVAL, "not a number of minutes"},
	    {"#!/bin/sh\n#SBATCH -d after:1+\n", AIDC_E_INVAL, "not a number of minutes"},
	    {"#!/bin/sh\n#SBATCH -d after:+5\n", AIDC_E_INVAL, "not a job id"},
	    {"#!/bin/sh\n#SBATCH --kill-on-invalid-dep=maybe\n", AIDC_E_INVAL, "not yes or no"},
	    {"#!/bin/sh\n#SBATCH -d afterok:x\n", AIDC_E_INVAL, "'x' is not a job id"},
	    {"#!/bin/sh\n#SBATCH -d afterok:1,\n", AIDC_E_INVAL, "empty item"},
	    {"#!/bin/sh\n#SBATCH -d afterok:1:\n", AIDC_E_INVAL, "empty job id"},
	    {"#!/bin/sh\n#SBATCH -d nope:1\n", AIDC_E_INVAL, "not a dependency type"},
	    {"#!/bin/sh\n#SBATCH --exclusive=user\n", AIDC_E_UNSUPPORTED, "--exclusive"},
	    {"#!/bin/sh\n#SBATCH --constraint=a100&ib\n", AIDC_E_UNSUPPORTED, "AND (&)"},
	    {"#!/bin/sh\n#SBATCH -C a100|h100\n", AIDC_E_UNSUPPORTED, "OR (|)"},
	    {"#!/bin/sh\n#SBATCH -C [rack1|rack2]\n", AIDC_E_UNSUPPORTED, "-C=[rack1|rack2]"},
	    {"#!/bin/sh\n#SBATCH -C a100*2\n", AIDC_E_UNSUPPORTED, "counts (*N)"},
	    {"#!/bin/sh\n#SBATCH -C !a100\n", AIDC_E_UNSUPPORTED, "NOT (!)"},
	    {"#!/bin/sh\n#SBATCH --gres=gpu:a100:1 -C h100\n", AIDC_E_UNSUPPORTED,
	     "differs from the GPU type 'a100'"},
	    {"#!/bin/sh\n#SBATCH -x n[3-1]\n", AIDC_E_INVAL, "-x=n[3-1]"},
	    {"#!/bin/sh\n#SBATCH -w n[1-2\n", AIDC_E_INVAL, "-w=n[1-2"},
	    {"#!/bin/sh\n#SBATCH --nodelist=\n", AIDC_E_INVAL, "--nodelist"},
	    {"#!/bin/sh\n#SBATCH --begin=now+1fortnight\n", AIDC_E_INVAL, "not a unit"},
	    {"#!/bin/sh\n#SBATCH --signal=R:USR1@60\n", AIDC_E_UNSUPPORTED, "R: (at a reservation"},
	    {"#!/bin/sh\n#SBATCH --signal=FOO\n", AIDC_E_INVAL, "'FOO' is not a signal"},
	    {"#!/bin/sh\n#SBATCH --signal=USR1@x\n", AIDC_E_INVAL, "not a number of seconds"},
	    {"#!/bin/sh\n#SBATCH --signal=USR1@70000\n", AIDC_E_INVAL, "not a number of seconds"},
	    {"#!/bin/sh\n#SBATCH --open-mode=append\n", AIDC_E_UNSUPPORTED, "only truncate"},
	    {"#!/bin/sh\n#SBATCH --gres=gpu:2,fpga:1\n", AIDC_E_UNSUPPORTED, "'fpga:1': only gpu"},
	    /* --gres=mps:N: N percent of one device, 1..100 */
	    {"#!/bin/sh\n#SBATCH --gres=mps:0\n", AIDC_E_INVAL, "a percent of one device, 1..100"},
	    {"#!/bin/sh\n#SBATCH --gres=mps:101\n", AIDC_E_INVAL, "--gres=mps:101"},
	    {"#!/bin/sh\n#SBATCH --gres=mps:half\n", AIDC_E_INVAL, "1..100"},
	    {"#!/bin/sh\n#SBATCH --gres=mps\n", AIDC_E_INVAL, "give a count"},
	    {"#!/bin/sh\n#SBATCH --gres=mps:a:b:5\n", AIDC_E_INVAL, "expected [type:]N"},
	    {"#!/bin/sh\n#SBATCH --gres=mps:5,mps:6\n", AIDC_E_INVAL, "mps given twice"},
	    {"#!/bin/sh\n#SBATCH --gres=mps:a100:5 -C h100\n", AIDC_E_UNSUPPORTED, "differs"},
	    {"#!/bin/sh\n#SBATCH --parsable=yes\n", AIDC_E_INVAL, "takes no value"},
	    {"#!/bin/sh\n#SBATCH --mem\n", AIDC_E_INVAL, "--mem needs a value"},
	    {"#!/bin/sh\n#SBATCH -N 3-2\n", AIDC_E_INVAL, "MIN <= MAX"},
	    {"#!/bin/sh\n#SBATCH -p a,b\n", AIDC_E_UNSUPPORTED, "list of partitions"},
	    {"#!/bin/sh\n#SBATCH --gpus=a100:1 --gpus-per-node=h100:1\n", AIDC_E_UNSUPPORTED,
	     "one type per job"},
	    {"#!/bin/sh\n#SBATCH --help\n", AIDC_E_INVAL, "only on the command line"},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		struct api_sbatch s;
		struct aidc_err e = {0};
		CHECK_EQ(api_sbatch_parse(cases[i].script, &s, &e), cases[i].want);
		CHECK_CONTAINS(e.msg, cases[i].msg);
		CHECK_CONTAINS(e.msg, "line 2");
	}
	struct api_sbatch s;
	CHECK_EQ(api_sbatch_parse("#!/bin/sh\n#SBATCH --mail-type=END --mail-user=a@b\n"
				  "#SBATCH --mail-type=FAIL --comment x\n#PBS -l nodes=1\n",
				  &s, NULL),
		 0);
	CHECK_EQ(s.nwarn, 3); /* mail-type once, mail-user, comment */
	CHECK_STR(api_sbatch_opts[s.warn[0]].name, "mail-type");
	CHECK_EQ(s.pbs_lines, 1);
}

/* --dependency: every type, both joiners, after's +MINUTES, the limit. */
static void test_dependency(void)
{
	struct api_dep d[AIDC_MAX_JOB_DEPS];
	size_t n;
	bool any;
	CHECK_EQ(api_parse_dependency("after:7+2:8,afterok:1:2,afternotok:3,afterany:4,singleton",
				      d, &n, &any, NULL),
		 0);
	CHECK_EQ(n, 7);
	CHECK(!any);
	CHECK_EQ(d[0].type, API_DEP_AFTER);
	CHECK_EQ(d[0].id, 7);
	CHECK_EQ(d[0].delay_s, 120);
	CHECK_EQ(d[1].delay_s, 0);
	CHECK_EQ(d[2].type, API_DEP_AFTEROK);
	CHECK_EQ(d[4].type, API_DEP_AFTERNOTOK);
	CHECK_EQ(d[5].type, API_DEP_AFTERANY);
	CHECK_EQ(d[6].type, API_DEP_SINGLETON);
	CHECK_EQ(d[6].id, 0);
	CHECK_STR(api_dep_type_name(API_DEP_SINGLETON), "singleton");
	CHECK_EQ(api_parse_dependency("afterok:1?afternotok:1", d, &n, &any, NULL), 0);
	CHECK(any);
	CHECK_EQ(n, 2);
	struct aidc_err e = {0};
	char big[16 * (AIDC_MAX_JOB_DEPS + 2)] = "afterok";
	for (unsigned i = 0; i <= AIDC_MAX_JOB_DEPS; i++)
		snprintf(big + strlen(big), sizeof big - strlen(big), ":%u", i + 1);
	CHECK_EQ(api_parse_dependency(big, d, &n, &any, &e), AIDC_E_LIMIT);
	CHECK_CONTAINS(e.msg, "more than");
	struct api_sbatch s;
	CHECK_EQ(api_sbatch_parse("#SBATCH --kill-on-invalid-dep=yes -d singleton\n", &s, NULL), 0);
	CHECK(s.kill_invalid_dep);
	CHECK_STR(s.dependency, "singleton");
	CHECK_EQ(api_sbatch_parse("#SBATCH --signal=B:SIGUSR1@90\n", &s, NULL), 0);
	CHECK_EQ(s.signal, SIGUSR1);
	CHECK_EQ(s.signal_before_s, 90);
	CHECK(s.signal_batch);
	CHECK_EQ(api_sbatch_parse("#SBATCH --signal=10\n", &s, NULL), 0);
	CHECK_EQ(s.signal, 10);
	CHECK_EQ(s.signal_before_s, 60);
	CHECK(!s.signal_batch);
	CHECK_EQ(api_signal_number("usr2"), SIGUSR2);
	CHECK_EQ(api_signal_number("0"), -1);
}

/* The table: sorted, unique, every row explained, short letters unique. */
static void test_table(void)
{
	for (size_t i = 0; i < api_sbatch_nopts; i++) {
		const struct api_sbatch_opt *o = &api_sbatch_opts[i];
		CHECK(o->why && o->why[0]);
		CHECK(o->status >= API_SB_APPLIED && o->status <= API_SB_REFUSED);
		if (i)
			CHECK(strcmp(api_sbatch_opts[i - 1].name, o->name) < 0);
		CHECK(api_sbatch_find(o->name) == o);
		for (size_t k = 0; k < i && o->shortopt; k++)
			CHECK(api_sbatch_opts[k].shortopt != o->shortopt);
		if (o->status == API_SB_REFUSED) {
			struct api_sbatch s = {0};
			struct aidc_err e = {0};
			char opt[80];
			snprintf(opt, sizeof opt, "--%s", o->name);
			CHECK_EQ(api_sbatch_apply(&s, opt, o->arg == API_SB_ARG ? "1" : NULL, &e),
				 AIDC_E_UNSUPPORTED);
			CHECK_CONTAINS(e.msg, opt);
		}
	}
	CHECK(api_sbatch_find("--no-such") == NULL);
	CHECK(api_sbatch_nopts > 100);
}

/* The batch job: Slurm's per-node meanings; nodes and Slurm's
 * SLURM_TASKS_PER_NODE checked where given. */
static void test_resolve(void)
{
	const struct {
		const char *script;
		int want;
		int64_t cpus, gpus, mem, prio, nodes;
		const char *tpn;
	} cases[] = {
	    /* the script: 24 tasks, 4 GPUs per node -> 4 GPUs, not 96 */
	    {"#SBATCH --ntasks-per-node=24 --gres=gpu:4 --mem=64G\n", 0, 24, 4, 65536, 0, 0, NULL},
	    {"#SBATCH -n 4 -c 2 --gpus-per-task=1 --mem-per-cpu=1G\n", 0, 8, 4, 8192, 0, 0, NULL},
	    {"#SBATCH --gpus-per-node=2 --cpus-per-gpu=8 --mem-per-gpu=10G\n", 0, 16, 2, 20480, 0, 0, NULL},
	    {"#SBATCH -G 3 --nice=10\n", 0, 1, 3, 0, -10, 0, NULL},
	    {"#SBATCH --gres=gpu --mincpus=6 --nice\n", 0, 6, 1, 0, -100, 0, NULL},
	    {"#SBATCH -N 1-4 --priority=5\n", 0, 1, 0, 0, 5, 1, "1"}, /* a range: MIN */
	    {"#SBATCH -N 2\n", 0, 1, 0, 0, 0, 2, "1(x2)"},
	    {"#SBATCH -n 8 --ntasks-per-node=4\n", 0, 4, 0, 0, 0, 2, "4(x2)"},
	    {"#SBATCH -N 2 -n 3 -c 2 --gpus-per-task=1\n", 0, 4, 2, 0, 0, 2, "2,1"},
	    {"#SBATCH -N 3 -n 7\n", 0, 3, 0, 0, 0, 3, "3,2(x2)"},
	    {"#SBATCH -N 4 -n 6 -G 8 --mem-per-gpu=1G\n", 0, 2, 2, 2048, 0, 4, "2(x2),1(x2)"},
	    {"#SBATCH -N 3 -n 2\n", AIDC_E_INVAL, 0, 0, 0, 0, 0, NULL},
	    {"#SBATCH -N 2 -n 9 --ntasks-per-node=4\n", AIDC_E_INVAL, 0, 0, 0, 0, 0, NULL},
	    {"#SBATCH -N 2 -G 3\n", AIDC_E_UNSUPPORTED, 0, 0, 0, 0, 0, NULL},
	    {"#SBATCH -N 3 -w n[1-2]\n", AIDC_E_UNSUPPORTED, 0, 0, 0, 0, 0, NULL},
	    {"#SBATCH --gres=gpu:2 --gpus=2\n", AIDC_E_UNSUPPORTED, 0, 0, 0, 0, 0, NULL},
	    {"#SBATCH --mem=1G --mem-per-cpu=1G\n", AIDC_E_INVAL, 0, 0, 0, 0, 0, NULL},
	    {"#SBATCH --mem=0\n", 0, 1, 0, 0, 0, 0, NULL}, /* all of the node's: mem_whole */
	    /* -w names the job's one node; -x any; -C a model for the GPUs */
	    {"#SBATCH -w n1 -x n[2-9],gpu07 --gres=gpu:1 -C A100\n", 0, 1, 1, 0, 0, 0, NULL},
	    {"#SBATCH -w n[1-1],n1\n", 0, 1, 0, 0, 0, 1, "1"},
	    {"#SBATCH --nodelist=n[1-2] --ntasks-per-node=2\n", 0, 2, 0, 0, 0, 2, "2(x2)"},
	    {"#SBATCH -C h100\n", AIDC_E_UNSUPPORTED, 0, 0, 0, 0, 0, NULL},
	    {"#SBATCH -c 2 --cpus-per-gpu=2 --gpus=1\n", AIDC_E_INVAL, 0, 0, 0, 0, 0, NULL},
	    {"#SBATCH --mem-per-gpu=1G\n", AIDC_E_INVAL, 0, 0, 0, 0, 0, NULL},
	    {"#SBATCH --nice=1 --priority=1\n", AIDC_E_INVAL, 0, 0, 0, 0, 0, NULL},
	    {"#SBATCH -n 1000 --gpus-per-task=1\n", AIDC_E_LIMIT, 0, 0, 0, 0, 0, NULL},
	    /* --gres=mps:N: one device (its share in test_mps) */
	    {"#SBATCH --gres=mps:50 -n 2 --mem=1G\n", 0, 2, 1, 1024, 0, 1, "2"},
	    {"#SBATCH --gres=gpu:1,mps:50\n", AIDC_E_UNSUPPORTED, 0, 0, 0, 0, 0, NULL},
	    {"#SBATCH --gres=mps:50 --gpus-per-task=1\n", AIDC_E_UNSUPPORTED, 0, 0, 0, 0, 0, NULL},
	    {"#SBATCH --gres=mps:50 -N 2\n", AIDC_E_UNSUPPORTED, 0, 0, 0, 0, 0, NULL},
	    {"#SBATCH --gres=mps:50 --mem-per-gpu=1G\n", AIDC_E_UNSUPPORTED, 0, 0, 0, 0, 0, NULL},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		struct api_sbatch s;
		struct api_sbatch_job j;
		struct aidc_err e = {0};
		CHECK_EQ(api_sbatch_parse(cases[i].script, &s, &e), 0);
		int rc = api_sbatch_resolve(&s, &j, &e);
		if (rc != cases[i].want)
			fprintf(stderr, "resolve case %zu: %s\n", i, e.msg);
		CHECK_EQ(rc, cases[i].want);
		if (rc)
			continue;
		CHECK_EQ(j.cpus, cases[i].cpus);
		CHECK_EQ(j.gpus, cases[i].gpus);
		CHECK_EQ(j.mem_mib, cases[i].mem);
		CHECK_EQ(j.priority, cases[i].prio);
		if (cases[i].nodes)
			CHECK_EQ(j.nodes, cases[i].nodes);
		if (cases[i].tpn)
			CHECK_STR(j.tasks_per_node, cases[i].tpn);
	}
}

/* -w/-x/-F: hostlists kept as given, file names (a '/', or -F) left for the
 * client to read (and refused by resolve until it has); -C sets the model. */
static void test_nodes(void)
{
	struct api_sbatch s;
	struct api_sbatch_job j;
	struct aidc_err e = {0};
	CHECK_EQ(api_sbatch_parse("#!/bin/sh\n#SBATCH -w gpu07 -x n[1-3] -C H100 -G 1\n", &s, &e),
		 0);
	CHECK_STR(s.nodelist, "gpu07");
	CHECK_STR(s.exclude, "n[1-3]");
	CHECK(!s.nodelist_file && !s.exclude_file && s.constraint);
	CHECK_STR(s.gpu_model, "H100");
	CHECK_EQ(api_sbatch_apply(&s, "-w", "./hosts", &e), 0); /* the command line wins */
	CHECK(s.nodelist_file);
	CHECK_STR(s.nodelist, "./hosts");
	CHECK_EQ(api_sbatch_resolve(&s, &j, &e), AIDC_E_INTERNAL); /* not read yet */
	CHECK_EQ(api_sbatch_apply(&s, "--nodefile", "hosts", &e), 0);
	CHECK(s.nodelist_file);
	CHECK_EQ(api_sbatch_apply(&s, "-x", "/etc/bad_nodes", &e), 0);
	CHECK(s.exclude_file);
	/* --mem=0: the node's whole memory (mem_whole), not the default */
	CHECK_EQ(api_sbatch_parse("#!/bin/sh\n#SBATCH --mem=0 -c 4\n", &s, NULL), 0);
	CHECK_EQ(api_sbatch_resolve(&s, &j, NULL), 0);
	CHECK(j.mem_whole && j.mem_mib == 0);
	CHECK_EQ(api_sbatch_parse("#!/bin/sh\n#SBATCH --mem=1G\n", &s, NULL), 0);
	CHECK_EQ(api_sbatch_resolve(&s, &j, NULL), 0);
	CHECK(!j.mem_whole && j.mem_mib == 1024);
	/* aidc submit takes -w/-x (its gangs), not node files (-F) */
	struct aidc_err e2 = {0};
	CHECK_EQ(api_sbatch_parse("#!/bin/sh\n#SBATCH -x n1 -w n[2-3]\n", &s, &e2), 0);
	CHECK_EQ(api_sbatch_check_submit(&s, &e2), 0);
	CHECK_EQ(api_sbatch_parse("#!/bin/sh\n#SBATCH -F hosts\n", &s, &e2), 0);
	CHECK_EQ(api_sbatch_check_submit(&s, &e2), AIDC_E_UNSUPPORTED);
	CHECK_CONTAINS(e2.msg, "--nodefile");
}

static void test_patterns(void)
{
	const struct {
		const char *pat, *want, *msg;
	} cases[] = {
	    {"%x-%j.out", "train-%j.out", NULL},
	    {"out/%x_%u_%N_%n_%t_%%.log", "out/train_%u_%N_0_0_%%.log", NULL},
	    {"a\\%j", "a%%j", NULL},
	    {"%A_%a.out", NULL, "%A: only in a job array"},
	    {"%a.out", NULL, "%a: only in a job array"},
	    {"%J.out", NULL, "%J: names an srun step"},
	    {"%s.out", NULL, "%s: names an srun step"},
	    {"%4j.out", NULL, "zero-padded"},
	    {"%q.out", NULL, "unknown pattern %q"},
	    {"x%", NULL, "lone %"},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		char out[256];
		struct aidc_err e = {0};
		int rc =
		    api_sbatch_pattern("-o", cases[i].pat, "train", false, out, sizeof out, &e);
		if (cases[i].want) {
			CHECK_EQ(rc, 0);
			CHECK_STR(out, cases[i].want);
			CHECK_EQ(api_output_pattern_check("stdout_path", out, NULL), 0);
		} else {
			CHECK(rc != 0);
			CHECK_CONTAINS(e.msg, cases[i].msg);
		}
	}
	/* a job name with '%' stays literal */
	char out[64];
	CHECK_EQ(api_sbatch_pattern("-o", "%x", "a%jb", false, out, sizeof out, NULL), 0);
	CHECK_STR(out, "a%%jb");
	CHECK_EQ(api_output_pattern_check("stdout_path", "o-%x", NULL), AIDC_E_INVAL);
	CHECK_EQ(api_output_pattern_check("stdout_path", "o-%j-%t-%u-%N-%%", NULL), 0);
	/* a job array keeps %A %a for the controller */
	CHECK_EQ(api_sbatch_pattern("-o", "%x-%A_%a.out", "t", true, out, sizeof out, NULL), 0);
	CHECK_STR(out, "t-%A_%a.out");
	CHECK_EQ(api_output_pattern_check_ex("stdout_path", out, true, NULL), 0);
	CHECK_EQ(api_output_pattern_check("stdout_path", out, NULL), AIDC_E_INVAL);
}

/* --gres=mps:N: a share of N x 10 milli of one device; refusals name the
 * option beside it; a later --gres replaces an earlier one. */
static void test_mps(void)
{
	const struct {
		const char *script;
		int want;
		int64_t milli;
		const char *model, *msg;
	} cases[] = {
	    {"#SBATCH --gres=mps:50\n", 0, 500, "", NULL},
	    {"#SBATCH --gres=mps:1\n", 0, 10, "", NULL},
	    {"#SBATCH --gres=mps:100\n", 0, 1000, "", NULL},
	    {"#SBATCH --gres=mps:A100:25\n", 0, 250, "A100", NULL},
	    {"#SBATCH --gres=mps:25 -C H100\n", 0, 250, "H100", NULL},
	    {"#SBATCH --gres=gpu:2\n#SBATCH --gres=mps:30\n", 0, 300, "", NULL},
	    {"#SBATCH --gres=mps:30\n#SBATCH --gres=gpu:2\n", 0, 0, "", NULL},
	    {"#SBATCH --gres=gpu:1,mps:50\n", AIDC_E_UNSUPPORTED, 0, "", "with --gres=gpu"},
	    {"#SBATCH --gpus-per-node=1 --gres=mps:50\n", AIDC_E_UNSUPPORTED, 0, "",
	     "--gres=mps:50 with --gpus-per-node"},
	    {"#SBATCH -G 1 --gres=mps:50\n", AIDC_E_UNSUPPORTED, 0, "", "with --gpus:"},
	    {"#SBATCH --gres=mps:50 --gpus-per-task=1\n", AIDC_E_UNSUPPORTED, 0, "",
	     "with --gpus-per-task"},
	    {"#SBATCH --gres=mps:50 -N 2\n", AIDC_E_UNSUPPORTED, 0, "", "on 2 nodes"},
	    {"#SBATCH --gres=mps:50 -w n[1-2]\n", AIDC_E_UNSUPPORTED, 0, "", "on 2 nodes"},
	    {"#SBATCH --gres=mps:50 --cpus-per-gpu=2\n", AIDC_E_UNSUPPORTED, 0, "",
	     "--cpus-per-gpu: no whole GPU"},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		struct api_sbatch s;
		struct api_sbatch_job j;
		struct aidc_err e = {0};
		CHECK_EQ(api_sbatch_parse(cases[i].script, &s, &e), 0);
		int rc = api_sbatch_resolve(&s, &j, &e);
		if (rc != cases[i].want)
			fprintf(stderr, "mps case %zu: %s\n", i, e.msg);
		CHECK_EQ(rc, cases[i].want);
		if (rc) {
			CHECK_CONTAINS(e.msg, cases[i].msg);
			continue;
		}
		CHECK_EQ(j.gpu_milli, cases[i].milli);
		CHECK_EQ(j.gpus, cases[i].milli ? 1 : 2);
		CHECK_STR(s.gpu_model, cases[i].model);
	}
}

/* aidc submit keeps its per-task meaning and refuses sbatch-only options. */
static void test_submit_check(void)
{
	struct api_sbatch s;
	struct aidc_err e = {0};
	CHECK_EQ(api_sbatch_parse("#SBATCH -N 2 -J x --gres=gpu:1 -A a\n", &s, NULL), 0);
	CHECK_EQ(api_sbatch_check_submit(&s, NULL), 0);
	CHECK_EQ(api_sbatch_parse("#SBATCH --chdir=/tmp\n", &s, NULL), 0);
	CHECK_EQ(api_sbatch_check_submit(&s, &e), AIDC_E_UNSUPPORTED);
	CHECK_CONTAINS(e.msg, "--chdir: applies with 'aidc sbatch' only");
	CHECK_EQ(api_sbatch_parse("#SBATCH -N 1-3\n", &s, NULL), 0);
	CHECK_EQ(api_sbatch_check_submit(&s, NULL), AIDC_E_UNSUPPORTED);
	CHECK_EQ(api_sbatch_parse("#SBATCH --mail-type=ALL\n", &s, NULL), 0);
	CHECK_EQ(api_sbatch_check_submit(&s, NULL), 0);
	CHECK_EQ(api_sbatch_parse("#SBATCH --gres=mps:40\n", &s, NULL), 0);
	struct aidc_err e2 = {0};
	CHECK_EQ(api_sbatch_check_submit(&s, &e2), AIDC_E_UNSUPPORTED);
	CHECK_CONTAINS(e2.msg, "--gpu-milli 400");
}

/* --begin's forms at a fixed now (2026-12-06 20:30:15 UTC, TZ=UTC), at and
 * past each edge. */
static void test_begin(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	const int64_t now = 1796589015; /* 2026-12-06T20:30:15Z */
	const int64_t day0 = 1796515200; /* 2026-12-06T00:00:00Z */
	static const struct {
		const char *v;
		int rc;
		int64_t off; /* from day0, when rc == 0 */
		const char *msg;
	} cases[] = {
	    {"now", 0, 73815, NULL},
	    {"now+0", 0, 73815, NULL},
	    {"now+90", 0, 73815 + 90, NULL},
	    {"now+2minutes", 0, 73815 + 120, NULL},
	    {"NOW+1hour", 0, 73815 + 3600, NULL},
	    {"now+3days", 0, 73815 + 3 * 86400, NULL},
	    {"now+1week", 0, 73815 + 604800, NULL},
	    {"2026-12-24", 0, 18 * 86400, NULL},
	    {"2026-12-24T08:05", 0, 18 * 86400 + 8 * 3600 + 300, NULL},
	    {"2026-12-24T08:05:09", 0, 18 * 86400 + 8 * 3600 + 309, NULL},
	    {"2026-12-01", 0, -5 * 86400, NULL}, /* past: eligible at once */
	    {"21:00", 0, 21 * 3600, NULL},      /* still ahead today */
	    {"20:30", 0, 86400 + 20 * 3600 + 1800, NULL}, /* passed: tomorrow, as Slurm */
	    {"06:00:30", 0, 86400 + 6 * 3600 + 30, NULL},
	    {"today", 0, 0, NULL},
	    {"tomorrow", 0, 86400, NULL},
	    {"midnight", 0, 86400, NULL},
	    {"noon", 0, 86400 + 12 * 3600, NULL},
	    {"", AIDC_E_INVAL, 0, "empty"},
	    {"now+", AIDC_E_INVAL, 0, "a count of units"},
	    {"now+5fortnights", AIDC_E_INVAL, 0, "'fortnights' is not a unit"},
	    {"now+99999999999days", AIDC_E_LIMIT, 0, "seconds ahead"},
	    {"2026-02-30", AIDC_E_INVAL, 0, "is not a date"},
	    {"2026-13-01", AIDC_E_INVAL, 0, "is not a date"},
	    {"24:00", AIDC_E_INVAL, 0, "is not a time"},
	    {"12:60", AIDC_E_INVAL, 0, "is not a time"},
	    {"2026-12-24T25:00", AIDC_E_INVAL, 0, "is not a time"},
	    {"12/24/26", AIDC_E_UNSUPPORTED, 0, "MM/DD[/YY]"},
	    {"12.24", AIDC_E_UNSUPPORTED, 0, "not supported here"},
	    {"1224", AIDC_E_UNSUPPORTED, 0, "MMDD[YY]"},
	    {"4pm", AIDC_E_UNSUPPORTED, 0, "AM/PM"},
	    {"16:00 12/24/26", AIDC_E_UNSUPPORTED, 0, "'TIME DATE'"},
	    {"teatime", AIDC_E_UNSUPPORTED, 0, "'teatime' is not supported here"},
	    {"soon", AIDC_E_INVAL, 0, "'soon' is not a time"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct aidc_err e = {0};
		int64_t at = -1;
		CHECK_EQ(api_parse_begin(cases[i].v, now, &at, &e), cases[i].rc);
		if (cases[i].rc == 0)
			CHECK_EQ(at, day0 + cases[i].off);
		else
			CHECK_CONTAINS(e.msg, cases[i].msg);
	}
	struct api_sbatch sb;
	CHECK_EQ(api_sbatch_parse("#SBATCH --begin=now+1hour\n", &sb, NULL), 0);
	CHECK_GE(sb.begin_s, (int64_t)time(NULL) + 3590);
	CHECK_EQ(api_sbatch_parse("#SBATCH -b 2026-12-24\n", &sb, NULL), 0);
	CHECK_EQ(sb.begin_s, day0 + 18 * 86400);
	CHECK_EQ(api_sbatch_check_submit(&sb, NULL), 0);
	struct aidc_err e = {0};
	CHECK_EQ(api_sbatch_parse("#SBATCH --begin=12/24\n", &sb, &e), AIDC_E_UNSUPPORTED);
}

/* A refused option leaves the job's values as they were (found by
 * test_fuzz_sbatch: --mem=4G0 set mem_set, a bad -w/-x hostlist was kept,
 * a bad --gpus type was recorded, --priority=x set priority_set). */
static void test_apply_refused_unchanged(void)
{
	static const char *const bad[][2] = {
	    {"--mem", "4G0"},
	    {"--mem-per-cpu", "500M/"},
	    {"--nodelist", "n[1"},
	    {"--exclude", "n[1-x]"},
	    {"--gpus", "a100:x"},
	    {"--gpus-per-node", "v100:2"},
	    {"--gres", "gpu:a100:99999999999999999999"},
	    {"--priority", "x"},
	    {"--nodes", "2-1"},
	    {"--signal", "B:USR1@x"},
	    {"--nice", "x"},
	};
	struct api_sbatch *s = calloc(1, sizeof *s), *was = calloc(1, sizeof *s);
	struct aidc_err e = {0};
	CHECK_EQ(api_sbatch_parse("#!/bin/sh\n#SBATCH --mem=1G -w n1 --gpus=a100:1 -N 1\n", s, &e),
		 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		*was = *s;
		struct aidc_err le = {0};
		CHECK(api_sbatch_apply(s, bad[i][0], bad[i][1], &le) < 0);
		CHECK(le.msg[0] != '\0');
		CHECK(memcmp(was, s, sizeof *s) == 0);
	}
	CHECK_EQ(s->mem_mib, 1024);
	CHECK_STR(s->nodelist, "n1");
	free(s);
	free(was);
}

TEST_MAIN(TEST(test_apply_refused_unchanged), TEST(test_directives), TEST(test_nodes),
	  TEST(test_long_line), TEST(test_crlf_message), TEST(test_refusals), TEST(test_dependency),
	  TEST(test_table), TEST(test_resolve), TEST(test_patterns), TEST(test_mps),
	  TEST(test_submit_check), TEST(test_begin))
