/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of #SBATCH / #AIDC directive parsing (src/api/api_sbatch.c), table-driven. */
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
		{"#!/bin/bash\n#SBATCH -N 2\n#SBATCH -n 8\n#SBATCH -t 1:00:00\nsrun x\n", 0, 2, 8,
		 0, 0, 3600, 0, "", "", ""},
		{"#!/bin/sh\n#SBATCH --nodes=4 --ntasks-per-node=2\n#SBATCH --gres=gpu:a100:4\n", 0,
		 4, 0, 2, 4, 0, 0, "", "", "a100"},
		{"#!/bin/sh\n#SBATCH -J train -o out.%j -e err.%j\n#SBATCH --mem=4G\n", 0, 0, 0, 0,
		 0, 0, 4096, "train", "out.%j", ""},
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
		{"#!/bin/sh\n#SBATCH -t 99999999999\n", AIDC_E_INVAL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL},
		{"#!/bin/sh\n#SBATCH -t -5\n", AIDC_E_INVAL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL},
		{"#!/bin/sh\n#SBATCH -t soon\n", AIDC_E_INVAL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL},
		{"#!/bin/sh\n#SBATCH --gres=fpga:1\n", AIDC_E_UNSUPPORTED, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL},
		{"#!/bin/sh\n#SBATCH --mem=4Q\n", AIDC_E_INVAL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL},
		{"#!/bin/sh\n#SBATCH nodes\n", AIDC_E_PARSE, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL},
		{"#!/bin/sh\n#SBATCH -N\n", AIDC_E_INVAL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL},
		/* quotes group words and are removed, as in a shell */
		{"#!/bin/sh\n#SBATCH -J \"a b\"\n", 0, 0, 0, 0, 0, 0, 0, "a b", "", ""},
		{"#!/bin/sh\n#SBATCH --job-name='x  y' -o \"out %j.txt\" -N 2\n", 0, 2, 0, 0, 0, 0,
		 0, "x  y", "out %j.txt", ""},
		{"#!/bin/sh\n#SBATCH -J=\"q\"uoted -o a#b # a comment\n", 0, 0, 0, 0, 0, 0, 0,
		 "quoted", "a#b", ""},
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
		CHECK_EQ(s.gpus_per_task, c->gpus);
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

TEST_MAIN(TEST(test_directives), TEST(test_long_line), TEST(test_crlf_message))
