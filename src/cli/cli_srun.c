/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc srun` (and `srun`, the same binary under Slurm's name, first on a
 * batch job's PATH): a job step inside an `aidc sbatch` job. An aidc batch
 * job is one node, so the step's tasks are forked here, on that node, from
 * the job's own allocation: no controller round trip, and the agent's kill
 * of the job (cancel, time limit) takes the step with it. Each task gets
 * Slurm's step environment (SLURM_PROCID, _LOCALID, _NODEID, _STEP_*), torch's
 * RANK/LOCAL_RANK/WORLD_SIZE for the step, and its share of the devices with
 * --gpus-per-task. srun waits for every task and exits with the highest exit
 * code (128 + signal for a killed task), as Slurm's does. Options that need
 * what a one-node batch job does not have are refused, naming them
 * (docs/slurm.md "srun inside a batch job").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/sbatch.h"
#include "cli/cli.h"
#include "cli/cli_slurm.h"
#include "util/clock.h"
#include "util/util.h"

#define SRUN_MAX_TASKS 1024

static const struct cli_slurm_refused sr_refused[] = {
    {"pty", 0, NULL, "interactive steps (srun --pty, salloc) are not implemented"},
    {"nodelist", 'w', "HOSTS", "an aidc batch job is one node: the step runs on it"},
    {"exclude", 'x', "HOSTS", "an aidc batch job is one node: the step runs on it"},
    {"constraint", 'C', "LIST", "a step uses its job's node"},
    {"partition", 'p', "PART", "a step uses its job's allocation"},
    {"account", 'A', "ACCOUNT", "a step uses its job's allocation"},
    {"qos", 'q', "QOS", "a step uses its job's allocation"},
    {"mem", 0, "SIZE", "step memory limits are not implemented (the job's limit applies)"},
    {"mem-per-cpu", 0, "SIZE", "step memory limits are not implemented (the job's limit applies)"},
    {"gres", 0, "LIST", "use --gpus-per-task; the step sees the job's devices by default"},
    {"gpus", 'G', "N", "use --gpus-per-task; the step sees the job's devices by default"},
    {"distribution", 'm', "TYPE", "one node: tasks are numbered in order on it"},
    {"relative", 'r', "N", "an aidc batch job is one node"},
    {"multi-prog", 0, NULL, "multiple programs per step are not implemented"},
    {"signal", 0, "SIG", "step signals before the time limit are not implemented"},
    {"wait", 'W', "SEC", "ending a step's other tasks after the first exit is not implemented"},
    {"input", 'i', "MODE", "task 0 reads srun's stdin, the others /dev/null; other modes are "
			   "not implemented"},
    {"jobid", 0, "ID", "a step runs in the job it is started from"},
    {"dependency", 'd', "LIST", "a step runs at once inside its job"},
};

static const struct cli_slurm_short sr_short[] = {
    {'n', "--ntasks", true},	    {'N', "--nodes", true},	    {'c', "--cpus-per-task", true},
    {'l', "--label", false},	    {'o', "--output", true},	    {'e', "--error", true},
    {'J', "--job-name", true},	    {'D', "--chdir", true},	    {'K', "--kill-on-bad-exit", false},
    {'u', "--unbuffered", false},   {'t', "--time", true},	    {'O', "--overcommit", false},
    {'v', "--verbose", false},	    {'Q', "--quiet", false},	    {'w', "--nodelist", true},
    {'x', "--exclude", true},	    {'C', "--constraint", true},    {'p', "--partition", true},
    {'A', "--account", true},	    {'q', "--qos", true},	    {'G', "--gpus", true},
    {'m', "--distribution", true},  {'r', "--relative", true},	    {'W', "--wait", true},
    {'i', "--input", true},	    {'d', "--dependency", true},
};

struct sr_opts {
	int64_t ntasks, nodes, cpus, per_node, gpt;
	const char *out, *err, *name, *chdir, *mpi, *time, *cpu_bind, *gpu_bind, *exportv;
	bool label, kill_bad, unbuffered, overcommit, overlap, exact, exclusive, verbose, quiet;
	bool seen_ntasks;
	struct cli_slurm_refusal refused[AIDC_ARRAY_LEN(sr_refused)];
};

static struct cli_flag *sr_flags(struct sr_opts *o, size_t *n)
{
	const struct cli_flag base[] = {
	    {"ntasks", CLI_I64, &o->ntasks, "N", "(-n) tasks in the step (default: the job's "
	     "SLURM_NTASKS)", 1, SRUN_MAX_TASKS, NULL, &o->seen_ntasks},
	    {"nodes", CLI_I64, &o->nodes, "N", "(-N) 1: an aidc batch job is one node", 1, 1,
	     NULL, NULL},
	    {"ntasks-per-node", CLI_I64, &o->per_node, "N", "the same as --ntasks (one node)", 1,
	     SRUN_MAX_TASKS, NULL, NULL},
	    {"cpus-per-task", CLI_I64, &o->cpus, "N", "(-c) CPUs per task, checked against the "
	     "job's SLURM_CPUS_ON_NODE (SLURM_CPUS_PER_TASK)", 1, 4096, NULL, NULL},
	    {"gpus-per-task", CLI_I64, &o->gpt, "N", "each task sees its own N of the job's "
	     "devices (CUDA_VISIBLE_DEVICES, ...); default: every task sees all", 1, 64, NULL,
	     NULL},
	    {"label", CLI_BOOL, &o->label, NULL, "(-l) prefix each output line with its task "
	     "number", 0, 0, NULL, NULL},
	    {"output", CLI_STR, &o->out, "PATTERN", "(-o) stdout file per task: %t task, %n "
	     "node, %N host, %j job, %J job.step, %s step, %u user, %x name, %%", 0, 0, NULL, NULL},
	    {"error", CLI_STR, &o->err, "PATTERN", "(-e) stderr file per task (default: with "
	     "stdout)", 0, 0, NULL, NULL},
	    {"job-name", CLI_STR, &o->name, "NAME", "(-J) the step's SLURM_JOB_NAME", 0, 0, NULL,
	     NULL},
	    {"chdir", CLI_STR, &o->chdir, "DIR", "(-D) the tasks' working directory", 0, 0, NULL,
	     NULL},
	    {"export", CLI_STR, &o->exportv, "VARS", "ALL (default), NONE (only SLURM_* and aidc's "
	     "own), or [ALL,]VAR[=VALUE],...", 0, 0, NULL, NULL},
	    {"kill-on-bad-exit", CLI_BOOL, &o->kill_bad, NULL, "(-K) a task that exits non-zero "
	     "ends the others (SIGTERM)", 0, 0, NULL, NULL},
	    {"time", CLI_STR, &o->time, "TIME", "(-t) the step's time limit (Slurm's formats): "
	     "SIGTERM, then SIGKILL 10 s later", 0, 0, NULL, NULL},
	    {"mpi", CLI_STR, &o->mpi, "TYPE", "none only (no PMI server here)", 0, 0, NULL, NULL},
	    {"overcommit", CLI_BOOL, &o->overcommit, NULL, "(-O) more task CPUs than the job has",
	     0, 0, NULL, NULL},
	    {"unbuffered", CLI_BOOL, &o->unbuffered, NULL, "(-u) output is never buffered by srun "
	     "here", 0, 0, NULL, NULL},
	    {"overlap", CLI_BOOL, &o->overlap, NULL, "steps share the job's CPUs here (always)", 0,
	     0, NULL, NULL},
	    {"exact", CLI_BOOL, &o->exact, NULL, "accepted, no effect: step CPUs are not "
	     "partitioned here", 0, 0, NULL, NULL},
	    {"exclusive", CLI_BOOL, &o->exclusive, NULL, "accepted, no effect: step CPUs are not "
	     "partitioned here", 0, 0, NULL, NULL},
	    {"cpu-bind", CLI_STR, &o->cpu_bind, "TYPE", "accepted, no effect: tasks are not bound "
	     "to CPUs here", 0, 0, NULL, NULL},
	    {"gpu-bind", CLI_STR, &o->gpu_bind, "TYPE", "none only; use --gpus-per-task", 0, 0,
	     NULL, NULL},
	    {"verbose", CLI_BOOL, &o->verbose, NULL, "(-v) print the step's tasks", 0, 0, NULL,
	     NULL},
	    {"quiet", CLI_BOOL, &o->quiet, NULL, "(-Q) no warnings", 0, 0, NULL, NULL},
	};
	return cli_slurm_flags(base, AIDC_ARRAY_LEN(base), sr_refused, o->refused,
			       AIDC_ARRAY_LEN(sr_refused), n);
}

/* Where srun's options end in the raw argv: "--", or the first word that
 * is neither an option nor the value of one (the step's command starts
 * there, and its own options, "sh -c", are never srun's). */
static int sr_split(const struct cli_flag *f, size_t nf, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--") || a[0] != '-' || !a[1])
			return i;
		bool value = false;
		if (a[1] == '-') {
			for (size_t k = 0; k < nf && !strchr(a, '='); k++)
				value |= !strcmp(a + 2, f[k].name) && f[k].type != CLI_BOOL;
		} else {
			/* -X VALUE; "-XVALUE" and grouped booleans ("-lK") carry their own */
			for (size_t k = 0; k < AIDC_ARRAY_LEN(sr_short) && !a[2]; k++)
				value |= sr_short[k].c == a[1] && sr_short[k].value;
		}
		i += value;
	}
	return argc;
}

/* The job's environment a step needs. */
struct sr_job {
	const char *job, *node, *name, *user, *devs;
	int64_t ntasks, cpus_on_node, step;
	char *dev[64];
	size_t ndev;
	char devbuf[AIDC_MAX_ARG_BYTES];
};

static int64_t env_i64(const char *k, int64_t dflt)
{
	const char *v = getenv(k);
	int64_t x;
	return v && *v && !aidc_parse_i64(v, 1, INT64_MAX, &x) ? x : dflt;
}

/* The start time (clock ticks after boot, /proc/PID/stat field 22) of
 * process pid: with the pid, it names one process for the machine's uptime. */
static int proc_start(pid_t pid, unsigned long long *start)
{
	char path[64], b[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t r = read(fd, b, sizeof b - 1);
	close(fd);
	if (r <= 0)
		return -1;
	b[r] = '\0';
	char *p = strrchr(b, ')'); /* the command name may hold spaces */
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	return p && sscanf(p + 1, "%llu", start) == 1 ? 0 : -1;
}

/* Removes the counters of sessions that are gone (their jobs ended). */
static void prune_step_counters(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		int sid;
		unsigned long long st, now;
		if (sscanf(e->d_name, "s%d.%llu", &sid, &st) == 2 &&
		    (proc_start(sid, &now) != 0 || now != st))
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

/*
 * A step id unique within the job: a counter in a private directory of this
 * user ($TMPDIR or /tmp), taken under flock, named after the batch script's
 * session (the agent starts each task in a session of its own) and that
 * session leader's start time, so no other job, before or after, shares it.
 * -1 when there is no safe place for it.
 */
static int64_t next_step_id(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[AIDC_MAX_PATH_BYTES], path[AIDC_MAX_PATH_BYTES + 64];
	snprintf(dir, sizeof dir, "%s/aidc-srun-%u", tmp && *tmp ? tmp : "/tmp", (unsigned)getuid());
	struct stat st;
	pid_t sid = getsid(0);
	unsigned long long start;
	if ((mkdir(dir, 0700) != 0 && errno != EEXIST) || lstat(dir, &st) != 0 ||
	    !S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077) || sid <= 0 ||
	    proc_start(sid, &start) != 0)
		return -1;
	prune_step_counters(dir);
	snprintf(path, sizeof path, "%s/s%d.%llu", dir, (int)sid, start);
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int64_t id = -1;
	if (flock(fd, LOCK_EX) == 0) {
		char b[32] = "";
		ssize_t r = pread(fd, b, sizeof b - 1, 0);
		id = r > 0 ? strtoll(b, NULL, 10) : 0;
		int len = snprintf(b, sizeof b, "%lld\n", (long long)id + 1);
		if (pwrite(fd, b, (size_t)len, 0) != len || ftruncate(fd, len) != 0)
			id = -1;
	}
	close(fd);
	return id;
}

static int sr_job_env(struct sr_job *j)
{
	j->job = getenv("SLURM_JOB_ID");
	if (!j->job || !*j->job || !getenv("AIDC_JOB_ID")) {
		fprintf(stderr, "srun: error: not inside an aidc batch job (SLURM_JOB_ID is not "
				"set): srun starts job steps inside 'aidc sbatch' jobs; interactive "
				"srun and salloc are not implemented (docs/slurm.md)\n");
		return CLI_EXIT_FAIL;
	}
	j->node = getenv("SLURMD_NODENAME") ? getenv("SLURMD_NODENAME") : "";
	j->name = getenv("SLURM_JOB_NAME") ? getenv("SLURM_JOB_NAME") : "";
	j->user = getenv("SLURM_JOB_USER") ? getenv("SLURM_JOB_USER") : "";
	j->ntasks = env_i64("SLURM_NTASKS", 1);
	j->cpus_on_node = env_i64("SLURM_CPUS_ON_NODE", 1);
	const char *d = getenv("AIDC_VISIBLE_DEVICES");
	j->devs = d ? d : "";
	snprintf(j->devbuf, sizeof j->devbuf, "%s", d ? d : "");
	for (char *s = j->devbuf, *save = NULL, *t; (t = strtok_r(s, ",", &save)) && j->ndev < 64;
	     s = NULL)
		j->dev[j->ndev++] = t;
	return 0;
}

/* Checks the options against the job; CLI_EXIT_USAGE after one line. */
static int sr_check(struct sr_opts *o, const struct sr_job *j, int64_t *limit_s)
{
	if (cli_slurm_refuse("srun", sr_refused, o->refused, AIDC_ARRAY_LEN(sr_refused), ""))
		return CLI_EXIT_USAGE;
	if (!o->seen_ntasks)
		o->ntasks = o->per_node ? o->per_node : j->ntasks;
	else if (o->per_node && o->per_node != o->ntasks)
		return fprintf(stderr, "srun: error: --ntasks=%lld and --ntasks-per-node=%lld "
				       "differ, on one node\n",
			       (long long)o->ntasks, (long long)o->per_node),
		       CLI_EXIT_USAGE;
	if (o->ntasks > SRUN_MAX_TASKS)
		return fprintf(stderr, "srun: error: %lld tasks: at most %d\n",
			       (long long)o->ntasks, SRUN_MAX_TASKS),
		       CLI_EXIT_USAGE;
	int64_t cpus = o->ntasks * (o->cpus ? o->cpus : 1);
	if (!o->overcommit && cpus > j->cpus_on_node)
		return fprintf(stderr, "srun: error: Unable to create step for job %s: %lld tasks x "
				       "%lld CPUs is more than the job's %lld CPUs on %s (-O allows it)\n",
			       j->job, (long long)o->ntasks, (long long)(o->cpus ? o->cpus : 1),
			       (long long)j->cpus_on_node, j->node),
		       CLI_EXIT_USAGE;
	if (o->gpt && (size_t)(o->gpt * o->ntasks) > j->ndev)
		return fprintf(stderr, "srun: error: Unable to create step for job %s: %lld tasks x "
				       "%lld GPUs is more than the job's %zu devices\n",
			       j->job, (long long)o->ntasks, (long long)o->gpt, j->ndev),
		       CLI_EXIT_USAGE;
	if (o->mpi && strcmp(o->mpi, "none"))
		return fprintf(stderr, "srun: error: --mpi=%s: only none is supported here (no PMI "
				       "server); start MPI with its own launcher inside the step\n",
			       o->mpi),
		       CLI_EXIT_USAGE;
	if (o->gpu_bind && strcmp(o->gpu_bind, "none"))
		return fprintf(stderr, "srun: error: --gpu-bind=%s: only none is supported here; "
				       "use --gpus-per-task\n",
			       o->gpu_bind),
		       CLI_EXIT_USAGE;
	*limit_s = 0;
	if (o->time && (api_parse_time_limit(o->time, limit_s) != 0))
		return fprintf(stderr, "srun: error: --time=%s: not a Slurm time (minutes, M:S, "
				       "H:M:S, D-H[:M[:S]])\n",
			       o->time),
		       CLI_EXIT_USAGE;
	if (!o->quiet && (o->exact || o->exclusive || o->cpu_bind))
		fprintf(stderr, "srun: warning: --%s has no effect here: step CPUs are neither "
				"partitioned nor bound\n",
			o->cpu_bind ? "cpu-bind" : o->exact ? "exact" : "exclusive");
	return 0;
}

/* Expands an -o/-e pattern for task t; -1 after a line naming a bad one. */
static int sr_pattern(const char *pat, const struct sr_job *j, int64_t t, char *out, size_t n)
{
	size_t k = 0;
	for (const char *p = pat; *p; p++) {
		char tmp[AIDC_MAX_ARG_BYTES];
		const char *add = tmp;
		if (*p != '%') {
			tmp[0] = *p, tmp[1] = '\0';
		} else {
			switch (*++p) {
			case 't': snprintf(tmp, sizeof tmp, "%lld", (long long)t); break;
			case 'n': add = "0"; break;
			case 'N': add = j->node; break;
			case 'j': add = j->job; break;
			case 'J': snprintf(tmp, sizeof tmp, "%s.%lld", j->job, (long long)j->step); break;
			case 's': snprintf(tmp, sizeof tmp, "%lld", (long long)j->step); break;
			case 'u': add = j->user; break;
			case 'x': add = j->name; break;
			case '%': add = "%"; break;
			default:
				fprintf(stderr, "srun: error: output pattern '%s': %%%c is not one of "
						"%%t %%n %%N %%j %%J %%s %%u %%x %%%%\n",
					pat, *p ? *p : ' ');
				return -1;
			}
		}
		size_t l = strlen(add);
		if (k + l >= n) {
			fprintf(stderr, "srun: error: output pattern '%s' is too long\n", pat);
			return -1;
		}
		memcpy(out + k, add, l);
		k += l;
	}
	out[k] = '\0';
	return 0;
}

/* One task of the step. */
struct sr_task {
	pid_t pid;
	int status, out_fd, err_fd; /* out/err: files (-o/-e) or -1 */
	int pipe[2];                /* -l: read ends of stdout, stderr; -1 when closed */
	bool done;
	struct aidc_buf line[2];    /* -l: a partial line of each */
};

/* Opens the -o/-e file of each task; tasks with one expanded path share
 * one descriptor (so their writes never overwrite each other). */
static int sr_open_files(const char *pat, const struct sr_job *j, struct sr_task *t, int64_t n,
			 bool err)
{
	for (int64_t i = 0; i < n; i++) {
		int *fd = err ? &t[i].err_fd : &t[i].out_fd;
		char path[AIDC_MAX_PATH_BYTES], other[AIDC_MAX_PATH_BYTES];
		if (sr_pattern(pat, j, i, path, sizeof path) != 0)
			return -1;
		for (int64_t k = 0; k < i && *fd < 0; k++) {
			int ofd = err ? t[k].err_fd : t[k].out_fd;
			if (sr_pattern(pat, j, k, other, sizeof other) == 0 && !strcmp(path, other))
				*fd = ofd;
		}
		if (*fd >= 0)
			continue;
		*fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOCTTY, 0666);
		if (*fd < 0) {
			fprintf(stderr, "srun: error: %s: %s\n", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Keeps only the SLURM_*, AIDC_* and launcher variables of environ. */
static void sr_env_minimal(void)
{
	static const char *const keep[] = {"SLURM", "AIDC_", "RANK=", "LOCAL_RANK=",
					   "WORLD_SIZE=", "LOCAL_WORLD_SIZE=", "MASTER_",
					   "CUDA_VISIBLE_DEVICES="};
	extern char **environ;
	size_t n = 0;
	for (char **e = environ; *e; e++)
		n++;
	char **mine = aidc_calloc(n + 1, sizeof *mine), **w = mine;
	for (char **e = environ; *e; e++)
		for (size_t k = 0; k < AIDC_ARRAY_LEN(keep); k++)
			if (!strncmp(*e, keep[k], strlen(keep[k]))) {
				*w++ = *e;
				break;
			}
	environ = mine;
}

/* --export (in the child): ALL keeps the environment; NONE, or a list
 * without ALL, keeps only sr_env_minimal's; VAR=VALUE items are set, bare
 * VAR items keep the variable's value. */
static int sr_export(const char *spec)
{
	if (!spec || !strcmp(spec, "ALL"))
		return 0;
	char *copy = aidc_strdup(spec), *save = NULL, *item[256];
	const char *val[256];
	size_t n = 0;
	bool all = false;
	for (char *t = strtok_r(copy, ",", &save); t && n < 256; t = strtok_r(NULL, ",", &save)) {
		all |= !strcmp(t, "ALL");
		if (!strcmp(t, "ALL") || !strcmp(t, "NONE"))
			continue;
		char *eq = strchr(t, '=');
		if (eq)
			*eq = '\0';
		item[n] = t;
		val[n++] = eq ? eq + 1 : getenv(t);
	}
	if (!all)
		sr_env_minimal();
	for (size_t i = 0; i < n; i++)
		if (val[i] && setenv(item[i], val[i], 1) != 0)
			return -1;
	return 0;
}

/* In the child: the step's environment of task i. */
static int sr_task_env(const struct sr_opts *o, const struct sr_job *j, int64_t i)
{
	char v[AIDC_MAX_ARG_BYTES];
	int rc = sr_export(o->exportv);
#define SET(k, ...)                                                                           \
	do {                                                                                  \
		snprintf(v, sizeof v, __VA_ARGS__);                                           \
		rc |= setenv(k, v, 1);                                                        \
	} while (0)
	SET("SLURM_PROCID", "%lld", (long long)i);
	SET("SLURM_LOCALID", "%lld", (long long)i);
	SET("SLURM_NODEID", "0");
	SET("SLURM_STEP_ID", "%lld", (long long)j->step);
	SET("SLURM_STEPID", "%lld", (long long)j->step);
	SET("SLURM_STEP_NUM_TASKS", "%lld", (long long)o->ntasks);
	SET("SLURM_STEP_NUM_NODES", "1");
	SET("SLURM_STEP_NODELIST", "%s", j->node);
	SET("SLURM_STEP_TASKS_PER_NODE", "%lld", (long long)o->ntasks);
	SET("SLURM_NTASKS", "%lld", (long long)o->ntasks);
	SET("SLURM_NPROCS", "%lld", (long long)o->ntasks);
	SET("SLURM_TASKS_PER_NODE", "%lld", (long long)o->ntasks);
	SET("SLURM_TASK_PID", "%lld", (long long)getpid());
	SET("SLURM_DISTRIBUTION", "block");
	SET("RANK", "%lld", (long long)i);
	SET("LOCAL_RANK", "%lld", (long long)i);
	SET("WORLD_SIZE", "%lld", (long long)o->ntasks);
	SET("LOCAL_WORLD_SIZE", "%lld", (long long)o->ntasks);
	if (o->cpus)
		SET("SLURM_CPUS_PER_TASK", "%lld", (long long)o->cpus);
	if (o->name)
		SET("SLURM_JOB_NAME", "%s", o->name);
	if (o->gpt) {
		size_t k = 0;
		for (int64_t d = 0; d < o->gpt; d++)
			k += (size_t)snprintf(v + k, sizeof v - k, "%s%s", d ? "," : "",
					      j->dev[i * o->gpt + d]);
		const char *vis[] = {"AIDC_VISIBLE_DEVICES", "SLURM_STEP_GPUS", "GPU_DEVICE_ORDINAL",
				     "CUDA_VISIBLE_DEVICES"};
		for (size_t n = 0; n < AIDC_ARRAY_LEN(vis); n++)
			if (n < 3 || getenv(vis[n]))
				rc |= setenv(vis[n], v, 1);
	}
#undef SET
	return rc;
}

/* In the child: fds, directory, environment, then the command. */
static void sr_child(const struct sr_opts *o, const struct sr_job *j, struct sr_task *t,
		     int64_t i, int lp[2][2], char **cmd)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (i > 0) {
		int nul = open("/dev/null", O_RDONLY);
		if (nul < 0 || dup2(nul, 0) < 0)
			_exit(127);
	}
	int out = o->label ? lp[0][1] : t->out_fd, err = o->label ? lp[1][1] : t->err_fd;
	if (err < 0)
		err = out;
	if ((out >= 0 && dup2(out, 1) < 0) || (err >= 0 && dup2(err, 2) < 0))
		_exit(127);
	if (o->chdir && chdir(o->chdir) != 0) {
		fprintf(stderr, "srun: error: task %lld: --chdir %s: %s\n", (long long)i, o->chdir,
			strerror(errno));
		_exit(127);
	}
	if (sr_task_env(o, j, i) != 0) {
		fprintf(stderr, "srun: error: task %lld: cannot set its environment\n",
			(long long)i);
		_exit(127);
	}
	execvp(cmd[0], cmd);
	fprintf(stderr, "srun: error: task %lld: %s: %s\n", (long long)i, cmd[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* Starts task i (with -l: its stdout and stderr through pipes). */
static int sr_spawn(const struct sr_opts *o, const struct sr_job *j, struct sr_task *t,
		    int64_t i, char **cmd)
{
	int lp[2][2] = {{-1, -1}, {-1, -1}};
	if (o->label && (pipe2(lp[0], O_CLOEXEC) != 0 || pipe2(lp[1], O_CLOEXEC) != 0)) {
		fprintf(stderr, "srun: error: pipe: %s\n", strerror(errno));
		return -1;
	}
	t->pid = fork();
	if (t->pid < 0) {
		fprintf(stderr, "srun: error: fork: %s\n", strerror(errno));
		return -1;
	}
	if (t->pid == 0)
		sr_child(o, j, t, i, lp, cmd);
	for (int k = 0; k < 2; k++) {
		t->pipe[k] = lp[k][0];
		if (lp[k][1] >= 0)
			close(lp[k][1]);
		if (t->pipe[k] >= 0)
			fcntl(t->pipe[k], F_SETFL, O_NONBLOCK);
		aidc_buf_init(&t->line[k], 64 * 1024);
	}
	return 0;
}

static volatile sig_atomic_t sr_signal;

static void sr_on_signal(int sig)
{
	sr_signal = sig;
}

/* -l: whole lines of task i's stream k go out with "i: " in front; what is
 * left at EOF (no newline) too. */
static void sr_label_flush(struct sr_task *t, int64_t i, int k, bool eof)
{
	struct aidc_buf *b = &t->line[k];
	FILE *f = k ? stderr : stdout;
	size_t start = 0;
	for (size_t p = 0; p < b->len; p++)
		if (b->data[p] == '\n') {
			fprintf(f, "%lld: %.*s\n", (long long)i, (int)(p - start), b->data + start);
			start = p + 1;
		}
	if (eof && start < b->len)
		fprintf(f, "%lld: %.*s\n", (long long)i, (int)(b->len - start), b->data + start);
	size_t rest = eof ? 0 : b->len - start;
	if (rest)
		memmove(b->data, b->data + start, rest);
	b->len = rest;
	fflush(f);
}

/* -l: reads what the tasks wrote, for at most wait_ms. */
static void sr_label_poll(struct sr_task *t, int64_t n, int wait_ms)
{
	struct pollfd pf[2 * SRUN_MAX_TASKS];
	int64_t who[2 * SRUN_MAX_TASKS];
	nfds_t m = 0;
	for (int64_t i = 0; i < n; i++)
		for (int k = 0; k < 2; k++)
			if (t[i].pipe[k] >= 0) {
				pf[m] = (struct pollfd){.fd = t[i].pipe[k], .events = POLLIN};
				who[m++] = i * 2 + k;
			}
	if (!m) {
		poll(NULL, 0, wait_ms);
		return;
	}
	if (poll(pf, m, wait_ms) <= 0)
		return;
	for (nfds_t q = 0; q < m; q++) {
		if (!pf[q].revents)
			continue;
		struct sr_task *x = &t[who[q] / 2];
		int k = (int)(who[q] % 2);
		char buf[8192];
		ssize_t r = read(pf[q].fd, buf, sizeof buf);
		if (r > 0 && aidc_buf_append(&x->line[k], buf, (size_t)r) != 0)
			r = 0; /* a line over 64 KiB: written out as it is */
		if (r < 0 && errno == EAGAIN)
			continue;
		sr_label_flush(x, who[q] / 2, k, r <= 0 || x->line[k].len >= x->line[k].max);
		if (r <= 0) {
			close(x->pipe[k]);
			x->pipe[k] = -1;
		}
	}
}

static void sr_kill_all(struct sr_task *t, int64_t n, int sig)
{
	for (int64_t i = 0; i < n; i++)
		if (!t[i].done && t[i].pid > 0)
			kill(t[i].pid, sig);
}

/* Collects ended tasks; returns how many are still running. */
static int64_t sr_reap(const struct sr_opts *o, struct sr_task *t, int64_t n, bool *bad)
{
	int64_t alive = 0;
	for (int64_t i = 0; i < n; i++) {
		if (t[i].done)
			continue;
		if (waitpid(t[i].pid, &t[i].status, WNOHANG) == t[i].pid) {
			t[i].done = true;
			if (o->kill_bad && !*bad &&
			    !(WIFEXITED(t[i].status) && WEXITSTATUS(t[i].status) == 0)) {
				*bad = true;
				fprintf(stderr, "srun: error: task %lld failed: ending the step's "
						"other tasks (--kill-on-bad-exit)\n",
					(long long)i);
				sr_kill_all(t, n, SIGTERM);
			}
		} else {
			alive++;
		}
	}
	return alive;
}

/* Waits for every task: forwards srun's signals, ends the step at its
 * time limit (SIGTERM, SIGKILL 10 s later), and drains -l output. */
static void sr_wait(const struct sr_opts *o, struct sr_task *t, int64_t n, int64_t limit_s)
{
	int64_t t0 = aidc_mono_ms(), term_ms = 0, drain_until = 0;
	bool bad = false;
	for (;;) {
		if (o->label)
			sr_label_poll(t, n, 50);
		else
			poll(NULL, 0, 20);
		if (sr_signal) {
			sr_kill_all(t, n, sr_signal);
			sr_signal = 0;
		}
		int64_t now = aidc_mono_ms();
		if (limit_s && !term_ms && now - t0 >= limit_s * 1000) {
			fprintf(stderr, "srun: error: step time limit (%lld s) reached: ending its "
					"tasks\n",
				(long long)limit_s);
			sr_kill_all(t, n, SIGTERM);
			term_ms = now;
		}
		if (term_ms && now - term_ms >= 10000)
			sr_kill_all(t, n, SIGKILL);
		if (sr_reap(o, t, n, &bad) > 0)
			continue;
		bool open = false;
		for (int64_t i = 0; i < n && o->label; i++)
			open |= t[i].pipe[0] >= 0 || t[i].pipe[1] >= 0;
		/* A task's background children may hold its pipe: 2 s at most. */
		if (!drain_until)
			drain_until = now + 2000;
		if (!open || now >= drain_until)
			break;
	}
	for (int64_t i = 0; i < n && o->label; i++)
		for (int k = 0; k < 2; k++)
			if (t[i].pipe[k] >= 0)
				sr_label_flush(&t[i], i, k, true);
}

/* Slurm's srun status: the highest exit code, 128 + signal for a killed
 * task; each failed task named on stderr. */
static int sr_status(const struct sr_job *j, const struct sr_task *t, int64_t n)
{
	int worst = 0;
	for (int64_t i = 0; i < n; i++) {
		int st = t[i].status, code = 0;
		if (WIFEXITED(st) && (code = WEXITSTATUS(st)) != 0)
			fprintf(stderr, "srun: error: %s: task %lld: Exited with exit code %d\n",
				j->node, (long long)i, code);
		else if (WIFSIGNALED(st)) {
			code = 128 + WTERMSIG(st);
			fprintf(stderr, "srun: error: %s: task %lld: %s\n", j->node, (long long)i,
				strsignal(WTERMSIG(st)));
		}
		worst = code > worst ? code : worst;
	}
	return worst;
}

/* Opens the files, starts every task, waits, and gives srun's status. */
static int sr_run(const struct sr_opts *o, struct sr_job *j, char **cmd, int64_t limit_s)
{
	j->step = next_step_id();
	if (j->step < 0) {
		if (!o->quiet)
			fprintf(stderr, "srun: warning: no private step counter under $TMPDIR or "
					"/tmp: this step is numbered 0\n");
		j->step = 0;
	}
	struct sr_task *t = aidc_calloc((size_t)o->ntasks, sizeof *t);
	for (int64_t i = 0; i < o->ntasks; i++)
		t[i] = (struct sr_task){.out_fd = -1, .err_fd = -1, .pipe = {-1, -1}};
	int rc = CLI_EXIT_FAIL;
	if ((o->out && sr_open_files(o->out, j, t, o->ntasks, false) != 0) ||
	    (o->err && sr_open_files(o->err, j, t, o->ntasks, true) != 0))
		goto out;
	if (o->verbose)
		fprintf(stderr, "srun: step %s.%lld: %lld task(s) on %s\n", j->job,
			(long long)j->step, (long long)o->ntasks, j->node);
	const int fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT};
	struct sigaction sa = {.sa_handler = sr_on_signal};
	sigemptyset(&sa.sa_mask);
	for (size_t k = 0; k < AIDC_ARRAY_LEN(fwd); k++)
		sigaction(fwd[k], &sa, NULL);
	int64_t started = 0;
	for (; started < o->ntasks; started++)
		if (sr_spawn(o, j, &t[started], started, cmd) != 0)
			break;
	if (started < o->ntasks) /* a fork failed: the started ones end too */
		sr_kill_all(t, started, SIGTERM);
	sr_wait(o, t, started, limit_s);
	rc = started < o->ntasks ? CLI_EXIT_FAIL : sr_status(j, t, started);
out:
	for (int64_t i = 0; i < o->ntasks; i++) {
		for (int k = 0; k < 2; k++)
			aidc_buf_release(&t[i].line[k]);
		bool shared_out = false, shared_err = false;
		for (int64_t q = 0; q < i; q++) {
			shared_out |= t[q].out_fd == t[i].out_fd;
			shared_err |= t[q].err_fd == t[i].err_fd;
		}
		if (t[i].out_fd >= 0 && !shared_out)
			close(t[i].out_fd);
		if (t[i].err_fd >= 0 && !shared_err)
			close(t[i].err_fd);
	}
	aidc_free(t);
	return rc;
}

/*
 * The step holder: what the agent runs as task N > 0 of a multi-node batch
 * job (agent_launch.c), holding that node's allocation while the script
 * runs on node 0. Signals other than SIGTERM (the job's end) are for the
 * steps' tasks, never for the holder.
 */
static int sr_holder(void)
{
	const int ign[] = {SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE};
	for (size_t k = 0; k < AIDC_ARRAY_LEN(ign); k++)
		signal(ign[k], SIG_IGN);
	for (;;)
		pause();
	return CLI_EXIT_OK; /* not reached */
}

int cli_srun_main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--aidc-step-holder"))
		return sr_holder();
	struct sr_opts o = {.nodes = 1};
	size_t nflags;
	struct cli_flag *flags = sr_flags(&o, &nflags);
	const struct cli_cmd cmd = {
	    "srun", "aidc srun [options] COMMAND [ARGS...]",
	    "Slurm's srun inside an 'aidc sbatch' job: runs a job step of -n tasks (default: "
	    "the job's SLURM_NTASKS) on the job's node, each with Slurm's step environment "
	    "(SLURM_PROCID, SLURM_LOCALID, SLURM_NODEID, SLURM_STEP_ID, ...) and RANK, "
	    "LOCAL_RANK, WORLD_SIZE for the step; waits for them and exits with the highest "
	    "exit code (128 + signal for a killed task). Installed as 'srun' first on a batch "
	    "job's PATH; options with no meaning here are refused naming them (docs/slurm.md).",
	    flags, nflags};
	int split = sr_split(flags, nflags, argc, argv);
	char **command = argv + split + (split < argc && !strcmp(argv[split], "--"));
	char **v;
	int vc;
	cli_slurm_args(sr_short, AIDC_ARRAY_LEN(sr_short), split, argv, &v, &vc);
	struct sr_job j = {0};
	int64_t limit_s = 0;
	const char *pos[1];
	size_t np = 0;
	int rc = cli_parse(&cmd, vc, v, pos, 1, &np);
	if (rc == 1)
		rc = CLI_EXIT_OK;
	else if (!rc && !*command)
		rc = cli_refuse(&cmd, "no command to run (srun [options] COMMAND [ARGS...])");
	else if (!rc && (rc = sr_job_env(&j)) == 0 && (rc = sr_check(&o, &j, &limit_s)) == 0)
		rc = sr_run(&o, &j, command, limit_s);
	aidc_free(v);
	aidc_free(flags);
	return rc;
}
