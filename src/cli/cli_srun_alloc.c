/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srun outside any allocation, as Slurm's srun on a login host: it makes
 * the allocation itself and runs its command as a step of it. Here that is
 * exactly salloc running srun:
 *
 *     srun -N2 -p gpu --gres=gpu:1 -l hostname
 *  =  salloc --nodes=2 --partition=gpu --gres=gpu:1 --job-name=hostname \
 *         AIDC srun --nodes=2 --label -- hostname
 *
 * The allocation's options (partition, memory, devices, nodes to use or
 * avoid, dependencies, hold, begin) go to salloc only; the step's (labels,
 * output patterns, --pty, ...) to the inner srun only; the shape (-N, -n,
 * --ntasks-per-node, -c, --gpus-per-task) to both. The job's name is the
 * command's, as Slurm's. salloc's messages then say "srun:", the allocation
 * ends with the step's status (completed, or failed with srun's exit code)
 * and srun exits with it. The inner srun is this same binary (by
 * /proc/self/exe), never another srun on PATH.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_slurm.h"
#include "util/util.h"

enum { SRA_STEP = 1, SRA_ALLOC = 2, SRA_BOTH = 3 };

/* Every option that is not the step's alone (long names, no dashes). */
static const struct {
	const char *name;
	int where;
} sra_opts[] = {
    {"nodes", SRA_BOTH},	 {"ntasks", SRA_BOTH},	      {"ntasks-per-node", SRA_BOTH},
    {"cpus-per-task", SRA_BOTH}, {"gpus-per-task", SRA_BOTH}, {"job-name", SRA_BOTH},
    {"time", SRA_ALLOC},	 {"exclusive", SRA_ALLOC},    {"partition", SRA_ALLOC},
    {"account", SRA_ALLOC},	 {"qos", SRA_ALLOC},	      {"nodelist", SRA_ALLOC},
    {"exclude", SRA_ALLOC},	 {"constraint", SRA_ALLOC},   {"mem", SRA_ALLOC},
    {"mem-per-cpu", SRA_ALLOC},	 {"mem-per-gpu", SRA_ALLOC},  {"cpus-per-gpu", SRA_ALLOC},
    {"gres", SRA_ALLOC},	 {"gpus", SRA_ALLOC},	      {"gpus-per-node", SRA_ALLOC},
    {"dependency", SRA_ALLOC},	 {"begin", SRA_ALLOC},	      {"hold", SRA_ALLOC},
};

static int sra_where(const char *name, size_t len)
{
	for (size_t i = 0; i < AIDC_ARRAY_LEN(sra_opts); i++)
		if (strlen(sra_opts[i].name) == len && !strncmp(sra_opts[i].name, name, len))
			return sra_opts[i].where;
	return SRA_STEP;
}

bool cli_srun_outside(void)
{
	const char *id = getenv("SLURM_JOB_ID");
	return !id || !*id;
}

bool cli_srun_alloc_option(const char *name)
{
	return (sra_where(name, strlen(name)) & SRA_ALLOC) != 0;
}

/* Whether long option name (len bytes) takes a value in srun's table. */
static bool sra_takes_value(const struct cli_flag *f, size_t nf, const char *name, size_t len)
{
	for (size_t k = 0; k < nf; k++)
		if (strlen(f[k].name) == len && !strncmp(f[k].name, name, len))
			return f[k].type != CLI_BOOL;
	return false;
}

/* One option as "--name=value" (or "--name") onto a vector. */
static void sra_push(char **vec, int *n, const char *opt, const char *val)
{
	size_t len = strlen(opt) + (val ? strlen(val) + 1 : 0) + 1;
	char *s = aidc_malloc(len);
	snprintf(s, len, "%s%s%s", opt, val ? "=" : "", val ? val : "");
	vec[(*n)++] = s;
}

/* The job's name: the command's base name, as Slurm's srun names it. */
static void sra_name(char **alloc, int *na, const char *cmd0)
{
	const char *slash = strrchr(cmd0, '/');
	char name[AIDC_MAX_NAME_BYTES];
	snprintf(name, sizeof name, "%s", slash && slash[1] ? slash + 1 : cmd0);
	sra_push(alloc, na, "--job-name", name);
}

int cli_srun_allocate(const struct cli_flag *f, size_t nf, int vc, char **v, char **command)
{
	char exe[AIDC_MAX_PATH_BYTES];
	ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (k <= 0)
		return fprintf(stderr,
			       "srun: error: cannot find this program (/proc/self/exe): %s\n",
			       strerror(errno)),
		       CLI_EXIT_FAIL;
	exe[k] = '\0';
	int ncmd = 0;
	while (command[ncmd])
		ncmd++;
	/* salloc OPTS... EXE srun OPTS... -- COMMAND...: at most 2 words per option */
	size_t cap = 2 * (size_t)vc + (size_t)ncmd + 8;
	char **alloc = aidc_calloc(cap, sizeof *alloc), **step = aidc_calloc(cap, sizeof *step);
	int na = 0, ns = 0;
	bool named = false;
	alloc[na++] = aidc_strdup("srun");
	for (int i = 1; i < vc; i++) {
		const char *a = v[i], *eq = strchr(a, '=');
		if (strncmp(a, "--", 2) != 0)
			continue; /* cli_parse took every word before the command as an option */
		size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		const char *val = eq ? eq + 1 : NULL;
		char opt[96];
		snprintf(opt, sizeof opt, "%.*s", (int)len + 2, a);
		if (!eq && sra_takes_value(f, nf, a + 2, len) && i + 1 < vc)
			val = v[++i];
		int where = sra_where(a + 2, len);
		named |= len == 8 && !strncmp(a + 2, "job-name", 8);
		if (where & SRA_ALLOC)
			sra_push(alloc, &na, opt, val);
		if (where & SRA_STEP)
			sra_push(step, &ns, opt, val);
	}
	if (!named)
		sra_name(alloc, &na, command[0]);
	alloc[na++] = aidc_strdup(exe);
	alloc[na++] = aidc_strdup("srun");
	for (int i = 0; i < ns; i++)
		alloc[na++] = step[i];
	alloc[na++] = aidc_strdup("--");
	for (int i = 0; i < ncmd; i++)
		alloc[na++] = aidc_strdup(command[i]);
	alloc[na] = NULL;
	int rc = cli_salloc_as("srun", na, alloc);
	for (int i = 0; i < na; i++)
		aidc_free(alloc[i]);
	aidc_free(alloc);
	aidc_free(step);
	return rc;
}
