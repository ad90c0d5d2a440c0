/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc srun` (and `srun`, the same binary under Slurm's name, first on a
 * batch job's PATH): a job step inside an `aidc sbatch` job. The step's tasks
 * on the batch script's node (node 0) are forked here, from the job's own
 * allocation: no controller round trip, and the agent's kill of the job
 * (cancel, time limit) takes the step with it. On a multi-node job the
 * tasks of the other nodes are run by those nodes' step holders (the job's
 * tasks there, sr_holder): srun posts the step to the controller
 * (POST /v1/jobs/{id}/steps, steps.c), each holder forks a runner that
 * starts its node's tasks with the same code as here and reports their exit
 * statuses, and srun polls for the reports, forwards signals through the
 * controller and copies the remote tasks' output, which each runner stores
 * at the controller as that step's own (docs/slurm.md). Each task gets
 * Slurm's step environment (SLURM_PROCID, _LOCALID, _NODEID, _STEP_*), torch's
 * RANK/LOCAL_RANK/WORLD_SIZE for the step, and its share of the devices with
 * --gpus-per-task. srun waits for every task and exits with the highest exit
 * code (128 + signal for a killed task), as Slurm's does. Options that need
 * what a one-node batch job does not have are refused, naming them
 * (docs/slurm.md "srun inside a batch job"). --pty gives task 0 a pseudo
 * terminal relayed to srun (cli_pty.c; under salloc the node's runner
 * connects back to srun with a one-time token).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/sbatch.h"
#include "cli/cli.h"
#include "cli/cli_live.h"
#include "cli/cli_pty.h"
#include "cli/cli_slurm.h"
#include "util/clock.h"
#include "util/hostlist.h"
#include "util/route.h"
#include "util/util.h"

#define SRUN_MAX_TASKS 1024
/* Polls of the controller while remote tasks run (srun, holders), ms. */
#define SRUN_POLL_MS 200
/* ... and of a step on node 0 alone (for scancel JOB.STEP), ms. */
#define SRUN_POLL_LOCAL_MS 1000
/* Remote output while a step runs: looked for this often, at most this
 * much per node and stream each time (docs/slurm.md). */
#define SRUN_STREAM_MS 500
#define SRUN_STREAM_BYTES (256 * 1024)
/* A runner's pusher stores its node's output of the step this often (ms),
 * or at once when a stream's buffer is full; a runner waits this long for
 * its tasks' background children to close their output (ms). */
#define SRUN_PUSH_MS	   200
#define SRUN_PUSH_BYTES	   AIDC_MAX_LOG_CHUNK_BYTES
#define SRUN_PUSH_DRAIN_MS 2000

static const struct cli_slurm_refused sr_refused[] = {
    {"nodelist", 'w', "HOSTS", "a step runs on the first -N nodes of its job (the script's first)"},
    {"exclude", 'x', "HOSTS", "a step runs on the first -N nodes of its job (the script's first)"},
    {"constraint", 'C', "LIST", "a step uses its job's node"},
    {"partition", 'p', "PART", "a step uses its job's allocation"},
    {"account", 'A', "ACCOUNT", "a step uses its job's allocation"},
    {"qos", 'q', "QOS", "a step uses its job's allocation"},
    {"mem", 0, "SIZE", "step memory limits are not implemented (the job's limit applies)"},
    {"mem-per-cpu", 0, "SIZE", "step memory limits are not implemented (the job's limit applies)"},
    {"gres", 0, "LIST", "use --gpus-per-task; the step sees the job's devices by default"},
    {"gpus", 'G', "N", "use --gpus-per-task; the step sees the job's devices by default"},
    {"distribution", 'm', "TYPE", "tasks are laid out in blocks (Slurm's default) only"},
    {"relative", 'r', "N", "a step starts on the job's first node (the script's)"},
    {"multi-prog", 0, NULL, "multiple programs per step are not implemented"},
    {"signal", 0, "SIG", "step signals before the time limit are not implemented"},
    {"wait", 'W', "SEC", "ending a step's other tasks after the first exit is not implemented"},
    {"input", 'i', "MODE", "task 0 reads srun's stdin, the others /dev/null; other modes are "
			   "not implemented"},
    {"jobid", 0, "ID", "a step runs in the job it is started from"},
    {"dependency", 'd', "LIST", "a step runs at once inside its job"},
    /* allocation options: applied when srun makes the allocation (cli_srun_alloc.c) */
    {"gpus-per-node", 0, "N", "a step uses its job's allocation"},
    {"mem-per-gpu", 0, "SIZE", "a step uses its job's allocation"},
    {"cpus-per-gpu", 0, "N", "a step uses its job's allocation"},
    {"begin", 0, "TIME", "a step runs at once inside its job"},
    {"hold", 'H', NULL, "a step runs at once inside its job"},
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
    {'i', "--input", true},	    {'d', "--dependency", true},	    {'H', "--hold", false},
};

struct sr_opts {
	int64_t ntasks, nodes, cpus, per_node, gpt;
	const char *out, *err, *name, *chdir, *mpi, *time, *cpu_bind, *gpu_bind, *exportv;
	bool label, kill_bad, unbuffered, overcommit, overlap, exact, exclusive, verbose, quiet;
	bool seen_ntasks, seen_nodes, pty;
	struct cli_slurm_refusal refused[AIDC_ARRAY_LEN(sr_refused)];
};

static struct cli_flag *sr_flags(struct sr_opts *o, size_t *n)
{
	const struct cli_flag base[] = {
	    {"ntasks", CLI_I64, &o->ntasks, "N", "(-n) tasks in the step (default: the job's "
	     "SLURM_NTASKS)", 1, SRUN_MAX_TASKS, NULL, &o->seen_ntasks},
	    {"nodes", CLI_I64, &o->nodes, "N", "(-N) the step runs on the job's first N nodes "
	     "(default: all of them)", 1, SRUN_MAX_TASKS, NULL, &o->seen_nodes},
	    {"ntasks-per-node", CLI_I64, &o->per_node, "N", "tasks on each node (at most; without "
	     "-n: N on each)", 1, SRUN_MAX_TASKS, NULL, NULL},
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
	    {"pty", CLI_BOOL, &o->pty, NULL, "task 0 runs on a pseudo terminal relayed to srun's "
	     "stdin and stdout (an interactive shell: srun --pty bash); the other tasks' output "
	     "goes to /dev/null", 0, 0, NULL, NULL},
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

/* The job's environment a step needs, and the step's layout over the job's
 * nodes: this node runs nlocal tasks, ids first.. (block layout, cnt[k] on
 * the step's node k, nodes 0..step_nodes-1 of the job). */
struct sr_job {
	const char *job, *node, *name, *user, *devs;
	int64_t ntasks, cpus_on_node, step;
	char *dev[64];
	size_t ndev;
	char devbuf[AIDC_MAX_ARG_BYTES];
	int64_t job_nodes, nodeid, first, nlocal, step_nodes, step_tasks;
	int64_t cnt[SRUN_MAX_TASKS];
	char step_list[AIDC_MAX_ARG_BYTES], tpn[256];
	char **hosts; /* the job's nodes (SLURM_JOB_NODELIST expanded) */
	size_t nhosts;
	/* srun under salloc (AIDC_SALLOC=1, outside the job): no task runs here;
	 * every node of the step, node 0 included, is a step holder's. */
	bool external;
	struct sr_pty *pty; /* --pty with task 0's terminal relayed here; NULL without */
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
	const char *sa = getenv("AIDC_SALLOC");
	j->external = sa && !strcmp(sa, "1") && !getenv("AIDC_JOB_ID");
	if (!j->job || !*j->job || (!getenv("AIDC_JOB_ID") && !j->external)) {
		fprintf(stderr, "srun: error: SLURM_JOB_ID=%s is not an aidc batch job or salloc "
				"allocation (neither AIDC_JOB_ID nor AIDC_SALLOC=1 is set): unset "
				"SLURM_JOB_ID and srun makes an allocation of its own "
				"(docs/slurm.md)\n",
			j->job ? j->job : "");
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
	j->job_nodes = env_i64("SLURM_JOB_NUM_NODES", 1);
	j->nodeid = env_i64("SLURM_NODEID", 0);
	const char *list = getenv("SLURM_JOB_NODELIST");
	struct aidc_err e = {0};
	if ((j->job_nodes > 1 || j->external) &&
	    (!list || aidc_hostlist_expand(list, AIDC_MAX_NODES, &j->hosts, &j->nhosts, &e) != 0 ||
	     (int64_t)j->nhosts != j->job_nodes))
		return fprintf(stderr, "srun: error: SLURM_JOB_NODELIST (%s) does not name the "
				       "job's %lld nodes %s\n",
			       list ? list : "unset", (long long)j->job_nodes, e.msg),
		       CLI_EXIT_FAIL;
	return 0;
}

/* "2(x2),1": Slurm's compressed counts of cnt[0..n-1]. */
static void sr_counts_text(const int64_t *cnt, int64_t n, char *out, size_t cap)
{
	size_t k = 0;
	out[0] = '\0';
	for (int64_t i = 0; i < n && k < cap;) {
		int64_t r = 1;
		while (i + r < n && cnt[i + r] == cnt[i])
			r++;
		k += (size_t)snprintf(out + k, cap - k, r > 1 ? "%s%lld(x%lld)" : "%s%lld",
				      k ? "," : "", (long long)cnt[i], (long long)r);
		i += r;
	}
}

/* The step's nodes and tasks (Slurm's block layout over the job's first -N
 * nodes): CLI_EXIT_USAGE after one line when they do not fit the job. */
static int sr_layout(struct sr_opts *o, struct sr_job *j)
{
	int64_t ns = o->seen_nodes ? o->nodes : j->job_nodes;
	if (j->nodeid != 0)
		return fprintf(stderr, "srun: error: srun starts steps from the batch script's node "
				       "(node 0) only; this is node %lld\n",
			       (long long)j->nodeid),
		       CLI_EXIT_USAGE;
	if (ns > j->job_nodes)
		return fprintf(stderr, "srun: error: Unable to create step for job %s: -N %lld is "
				       "more than the job's %lld node(s)\n",
			       j->job, (long long)ns, (long long)j->job_nodes),
		       CLI_EXIT_USAGE;
	if (!o->seen_ntasks)
		o->ntasks = o->per_node ? o->per_node * ns : (j->ntasks < ns ? ns : j->ntasks);
	if (o->ntasks < ns || (o->per_node && o->ntasks > o->per_node * ns))
		return fprintf(stderr, "srun: error: %lld tasks do not fit %lld node(s)%s\n",
			       (long long)o->ntasks, (long long)ns,
			       o->per_node ? " at --ntasks-per-node" : " (at least one task each)"),
		       CLI_EXIT_USAGE;
	if (o->ntasks > SRUN_MAX_TASKS)
		return fprintf(stderr, "srun: error: %lld tasks: at most %d\n",
			       (long long)o->ntasks, SRUN_MAX_TASKS),
		       CLI_EXIT_USAGE;
	j->step_nodes = ns;
	j->step_tasks = o->ntasks;
	for (int64_t k = 0; k < ns; k++)
		j->cnt[k] = o->ntasks / ns + (k < o->ntasks % ns);
	j->first = 0;
	j->nlocal = j->external ? 0 : j->cnt[0];
	sr_counts_text(j->cnt, ns, j->tpn, sizeof j->tpn);
	struct aidc_buf b;
	aidc_buf_init(&b, sizeof j->step_list);
	if ((ns > 1 || j->external) && aidc_hostlist_compress(j->hosts, (size_t)ns, &b) == 0)
		snprintf(j->step_list, sizeof j->step_list, "%s", aidc_buf_str(&b));
	else
		snprintf(j->step_list, sizeof j->step_list, "%s", j->node);
	aidc_buf_release(&b);
	return 0;
}

/* The checks of the options alone (before any allocation); CLI_EXIT_USAGE
 * after one line. */
static int sr_check_opts(struct sr_opts *o)
{
	if (o->pty && (o->label || o->out || o->err))
		return fprintf(stderr, "srun: error: --pty with --%s: task 0's output goes to srun's "
				       "terminal, the other tasks' to /dev/null\n",
			       o->label ? "label" : o->out ? "output" : "error"),
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
	return 0;
}

/* Checks the options against the job; CLI_EXIT_USAGE after one line. */
static int sr_check(struct sr_opts *o, struct sr_job *j, int64_t *limit_s)
{
	if (cli_slurm_refuse("srun", sr_refused, o->refused, AIDC_ARRAY_LEN(sr_refused), ""))
		return CLI_EXIT_USAGE;
	int rc = sr_check_opts(o);
	if (rc)
		return rc;
	rc = sr_layout(o, j);
	if (rc)
		return rc;
	/* Every node of a batch job has the same CPUs and devices; node 0 the most tasks. */
	int64_t cpus = j->cnt[0] * (o->cpus ? o->cpus : 1);
	if (!o->overcommit && cpus > j->cpus_on_node)
		return fprintf(stderr, "srun: error: Unable to create step for job %s: %lld tasks x "
				       "%lld CPUs is more than the job's %lld CPUs on %s (-O allows it)\n",
			       j->job, (long long)j->cnt[0], (long long)(o->cpus ? o->cpus : 1),
			       (long long)j->cpus_on_node, j->external ? j->hosts[0] : j->node),
		       CLI_EXIT_USAGE;
	if (o->gpt && !j->external && (size_t)(o->gpt * j->nlocal) > j->ndev)
		return fprintf(stderr, "srun: error: Unable to create step for job %s: %lld tasks x "
				       "%lld GPUs is more than the job's %zu devices on %s\n",
			       j->job, (long long)j->nlocal, (long long)o->gpt, j->ndev, j->node),
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

/* Expands an -o/-e pattern for task t (the step's id of it); -1 after a
 * line naming a bad one. */
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
			case 'n': snprintf(tmp, sizeof tmp, "%lld", (long long)j->nodeid); break;
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

/* srun --pty (below, "srun --pty"): what the earlier sections use of it. */
struct sr_pty;
struct sr_remote;
static void sr_pty_child(struct sr_pty *p);
static void sr_pty_forked(struct sr_pty *p, pid_t pid);
static void sr_pty_json(struct aidc_json *w, const struct sr_pty *p);
static void sr_pty_pump(struct sr_pty *p, int wait_ms);
static bool sr_pty_open(const struct sr_pty *p);

/* One task of the step. */
struct sr_task {
	pid_t pid, parent; /* parent: srun (or the runner) that forked it */
	int status, out_fd, err_fd; /* out/err: files (-o/-e) or -1 */
	int pipe[2];                /* -l: read ends of stdout, stderr; -1 when closed */
	bool done;
	struct aidc_buf line[2];    /* -l: a partial line of each */
};

/* Posts node's report of the step (below, the runners). */
static int sr_post_report(struct sr_remote *r, int64_t node, const struct sr_job *j,
			  const struct sr_task *t, bool ok, const int64_t bytes[2],
			  const char *error);

/* Opens the -o/-e file of each task of this node; tasks with one expanded
 * path share one descriptor (so their writes never overwrite each other). */
static int sr_open_files(const char *pat, const struct sr_job *j, struct sr_task *t, int64_t n,
			 bool err)
{
	for (int64_t i = 0; i < n; i++) {
		int *fd = err ? &t[i].err_fd : &t[i].out_fd;
		char path[AIDC_MAX_PATH_BYTES], other[AIDC_MAX_PATH_BYTES];
		if (sr_pattern(pat, j, j->first + i, path, sizeof path) != 0)
			return -1;
		for (int64_t k = 0; k < i && *fd < 0; k++) {
			int ofd = err ? t[k].err_fd : t[k].out_fd;
			if (sr_pattern(pat, j, j->first + k, other, sizeof other) == 0 &&
			    !strcmp(path, other))
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

/* In the child: the step's environment of this node's task i. */
static int sr_task_env(const struct sr_opts *o, const struct sr_job *j, int64_t i)
{
	int64_t g = j->first + i; /* the task's id in the step */
	char v[AIDC_MAX_ARG_BYTES];
	int rc = sr_export(o->exportv);
#define SET(k, ...)                                                                           \
	do {                                                                                  \
		snprintf(v, sizeof v, __VA_ARGS__);                                           \
		rc |= setenv(k, v, 1);                                                        \
	} while (0)
	SET("SLURM_PROCID", "%lld", (long long)g);
	SET("SLURM_LOCALID", "%lld", (long long)i);
	SET("SLURM_NODEID", "%lld", (long long)j->nodeid);
	SET("SLURM_STEP_ID", "%lld", (long long)j->step);
	SET("SLURM_STEPID", "%lld", (long long)j->step);
	SET("SLURM_STEP_NUM_TASKS", "%lld", (long long)j->step_tasks);
	SET("SLURM_STEP_NUM_NODES", "%lld", (long long)j->step_nodes);
	SET("SLURM_STEP_NODELIST", "%s", j->step_list);
	SET("SLURM_STEP_TASKS_PER_NODE", "%s", j->tpn);
	SET("SLURM_NTASKS", "%lld", (long long)j->step_tasks);
	SET("SLURM_NPROCS", "%lld", (long long)j->step_tasks);
	SET("SLURM_NNODES", "%lld", (long long)j->step_nodes);
	SET("SLURM_TASKS_PER_NODE", "%s", j->tpn);
	SET("SLURM_TASK_PID", "%lld", (long long)getpid());
	SET("SLURM_DISTRIBUTION", "block");
	SET("RANK", "%lld", (long long)g);
	SET("LOCAL_RANK", "%lld", (long long)i);
	SET("WORLD_SIZE", "%lld", (long long)j->step_tasks);
	SET("LOCAL_WORLD_SIZE", "%lld", (long long)j->nlocal);
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
	/* A task dies with its srun (or runner): an srun killed with SIGKILL
	 * leaves no task behind here (the controller ends the step when its lease
	 * runs out; a holder's tasks die with their runner). The task's own
	 * children are not reached. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != t->parent)
		_exit(127);
	if (j->first + i > 0) { /* the step's task 0 alone reads srun's stdin */
		int nul = open("/dev/null", O_RDWR);
		if (nul < 0 || dup2(nul, 0) < 0 || (o->pty && (dup2(nul, 1) < 0 || dup2(nul, 2) < 0)))
			_exit(127); /* --pty: the others' output goes to /dev/null, as Slurm's */
	}
	int out = o->label ? lp[0][1] : t->out_fd, err = o->label ? lp[1][1] : t->err_fd;
	if (err < 0)
		err = out;
	if (j->pty && j->first + i == 0)
		sr_pty_child(j->pty);
	else if ((out >= 0 && dup2(out, 1) < 0) || (err >= 0 && dup2(err, 2) < 0))
		_exit(127);
	if (o->chdir && chdir(o->chdir) != 0) {
		fprintf(stderr, "srun: error: task %lld: --chdir %s: %s\n",
			(long long)(j->first + i), o->chdir, strerror(errno));
		_exit(127);
	}
	if (sr_task_env(o, j, i) != 0) {
		fprintf(stderr, "srun: error: task %lld: cannot set its environment\n",
			(long long)(j->first + i));
		_exit(127);
	}
	execvp(cmd[0], cmd);
	fprintf(stderr, "srun: error: task %lld: %s: %s\n", (long long)(j->first + i), cmd[0],
		strerror(errno));
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
	t->parent = getpid();
	t->pid = fork();
	if (t->pid < 0) {
		fprintf(stderr, "srun: error: fork: %s\n", strerror(errno));
		return -1;
	}
	if (t->pid == 0)
		sr_child(o, j, t, i, lp, cmd);
	if (j->pty && j->first + i == 0)
		sr_pty_forked(j->pty, t->pid);
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

/* -l: reads what the tasks (ids first..) wrote, for at most wait_ms. */
static void sr_label_poll(struct sr_task *t, int64_t n, int64_t first, int wait_ms)
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
		sr_label_flush(x, first + who[q] / 2, k, r <= 0 || x->line[k].len >= x->line[k].max);
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
static int64_t sr_reap(const struct sr_opts *o, const struct sr_job *j, struct sr_task *t,
		       int64_t n, bool *bad)
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
					(long long)(j->first + i));
				sr_kill_all(t, n, SIGTERM);
			}
		} else {
			alive++;
		}
	}
	return alive;
}

/* ---- the remote nodes of a multi-node step, seen from srun ---------------- */

/* The step's tasks on the job's other nodes (step nodes 1..nnodes-1): the
 * controller's step (steps.c), polled for each node's report. */
struct sr_remote {
	char sock[AIDC_MAX_PATH_BYTES];
	char path[96]; /* /v1/jobs/ID/steps */
	int64_t nnodes, step;
	json_t *reports[SRUN_MAX_TASKS]; /* per step node, from base */
	int64_t base; /* the first step node a holder runs: 1, or 0 under salloc */
	int64_t nreported, next_poll_ms, next_stream_ms;
	pid_t keeper; /* sr_keeper: renews the lease while srun lives; 0 none */
	/* Per step node and stream (out, err): the next byte of its output of
	 * the step (the runner's pusher stores it at the controller) to copy. */
	int64_t at[SRUN_MAX_TASKS][2];
	bool gone; /* the job or the step is gone: no more reports will come */
	bool bad;  /* a remote task failed */
	bool cancelled; /* scancel JOB.STEP: srun ends the step */
	bool timeout;   /* the step's time limit ended it */
	const char *node, *job; /* this node's name, the job id (messages) */
};

/* One POST to the step route; 0 or CLI_EXIT_FAIL (said on stderr). */
static int sr_post(struct sr_remote *r, const char *body)
{
	struct api_call c = {0};
	int rc = cli_call_retry("srun", r->sock, "POST", r->path, body, strlen(body), &c,
				cli_call_wait_flag(r->sock));
	aidc_buf_release(&c.reply);
	return rc;
}

/* Sends sig to the remote tasks (each holder delivers it once). */
static void sr_remote_signal(struct sr_remote *r, int sig)
{
	char body[128];
	if (!r || r->gone)
		return;
	snprintf(body, sizeof body, "{\"op\":\"signal\",\"step\":%lld,\"signal\":%d}",
		 (long long)r->step, sig);
	sr_post(r, body);
}

/* Whether a remote report holds a failed task (or is an error). */
static bool sr_report_bad(json_t *rep)
{
	json_t *tasks = json_object_get(rep, "tasks");
	bool bad = !json_is_array(tasks) || json_object_get(rep, "error");
	for (size_t i = 0; i < json_array_size(tasks); i++) {
		json_t *x = json_array_get(tasks, i);
		bad |= json_integer_value(json_object_get(x, "exit")) != 0 ||
		       json_integer_value(json_object_get(x, "signal")) != 0;
	}
	return bad;
}

/* Takes the reports that came since the last poll (SRUN_POLL_MS apart). */
static void sr_remote_poll(struct sr_remote *r)
{
	int64_t now = aidc_mono_ms();
	if (r->gone || now < r->next_poll_ms)
		return;
	/* A step on node 0 alone only looks for a cancel: once a second. */
	r->next_poll_ms = now + (r->nnodes > r->base ? SRUN_POLL_MS : SRUN_POLL_LOCAL_MS);
	char path[sizeof r->path + 32]; /* ?step=: this step alone, and its lease renewed */
	snprintf(path, sizeof path, "%s?step=%lld", r->path, (long long)r->step);
	struct api_call c = {0};
	int rc = cli_call_retry("srun", r->sock, "GET", path, NULL, 0, &c,
				cli_call_wait_flag(r->sock) | CLI_CALL_IDEMPOTENT | CLI_CALL_QUIET);
	json_error_t je;
	json_t *doc = rc ? NULL : json_loadb(aidc_buf_str(&c.reply), c.reply.len, 0, &je);
	if (rc && c.status >= 400) {
		fprintf(stderr, "srun: error: step %lld: the job has ended or the controller "
				"forgot the step (HTTP %ld)\n",
			(long long)r->step, c.status);
		r->gone = true;
	}
	aidc_buf_release(&c.reply);
	json_t *steps = json_object_get(doc, "steps"), *mine = NULL;
	for (size_t i = 0; i < json_array_size(steps); i++)
		if (json_integer_value(json_object_get(json_array_get(steps, i), "step")) == r->step)
			mine = json_array_get(steps, i);
	json_t *reps = json_object_get(mine, "reports");
	if (json_is_true(json_object_get(mine, "cancelled")) && !r->cancelled) {
		char when[32];
		time_t t = time(NULL);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", localtime(&t));
		fprintf(stderr, "srun: error: *** STEP %s.%lld ON %s CANCELLED AT %s ***\n",
			r->job ? r->job : "?", (long long)r->step, r->node ? r->node : "?", when);
		r->cancelled = true;
	}
	for (int64_t k = r->base; k < r->nnodes && (size_t)(k - r->base) < json_array_size(reps);
	     k++) {
		json_t *rep = json_array_get(reps, (size_t)(k - r->base));
		if (r->reports[k] || !json_is_object(rep))
			continue;
		r->reports[k] = json_incref(rep);
		r->nreported++;
		r->bad |= sr_report_bad(rep);
	}
	if (doc && !mine && !r->gone) {
		fprintf(stderr, "srun: error: step %lld is gone from the controller\n",
			(long long)r->step);
		r->gone = true;
	}
	json_decref(doc);
}

/* The step document the holders run (docs/slurm.md): srun's command,
 * environment, directory and options, and the layout. */
static void sr_doc_json(struct aidc_json *w, const struct sr_opts *o, const struct sr_job *j,
			char **cmd)
{
	extern char **environ;
	char cwd[AIDC_MAX_PATH_BYTES] = "/";
	if (!getcwd(cwd, sizeof cwd))
		snprintf(cwd, sizeof cwd, "/");
	aidc_json_obj_begin(w);
	aidc_json_key(w, "argv");
	aidc_json_arr_begin(w);
	for (char **a = cmd; *a; a++)
		aidc_json_str(w, *a);
	aidc_json_arr_end(w);
	aidc_json_key(w, "env");
	aidc_json_arr_begin(w);
	for (char **e = environ; *e; e++)
		aidc_json_str(w, *e);
	aidc_json_arr_end(w);
	aidc_json_kstr(w, "cwd", cwd);
	aidc_json_key(w, "cnt");
	aidc_json_arr_begin(w);
	for (int64_t k = 0; k < j->step_nodes; k++)
		aidc_json_i64(w, j->cnt[k]);
	aidc_json_arr_end(w);
	aidc_json_kstr(w, "nodelist", j->step_list);
	aidc_json_kstr(w, "tpn", j->tpn);
	aidc_json_ki64(w, "gpt", o->gpt);
	aidc_json_ki64(w, "cpus", o->cpus);
	aidc_json_kbool(w, "label", o->label);
	const char *strs[][2] = {{"out", o->out},	  {"err", o->err},    {"chdir", o->chdir},
				 {"export", o->exportv}, {"name", o->name}};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(strs); i++)
		if (strs[i][1])
			aidc_json_kstr(w, strs[i][0], strs[i][1]);
	sr_pty_json(w, j->pty);
	aidc_json_obj_end(w);
}

/* What squeue -s and sacct show of the step (steps.c step_info). */
static void sr_info_json(struct aidc_json *w, const struct sr_opts *o, const struct sr_job *j,
			 char **cmd, int64_t limit_s)
{
	const char *base = strrchr(cmd[0], '/');
	aidc_json_kstr(w, "name", o->name ? o->name : base && base[1] ? base + 1 : cmd[0]);
	aidc_json_ki64(w, "ntasks", j->step_tasks);
	aidc_json_ki64(w, "nnodes", j->step_nodes);
	aidc_json_ki64(w, "cpus", j->step_tasks * (o->cpus ? o->cpus : 1));
	aidc_json_kstr(w, "nodelist", j->step_list);
	aidc_json_ki64(w, "time_limit_s", limit_s);
}

/* The body of the start op of step (-1: the controller numbers it) into b;
 * nonzero (said) when it is over AIDC_MAX_STEP_BYTES. */
static int sr_start_body(const struct sr_opts *o, const struct sr_job *j, char **cmd,
			 int64_t limit_s, const struct sr_remote *r, int64_t step, struct aidc_buf *b)
{
	struct aidc_json w;
	aidc_json_init(&w, b, false);
	aidc_json_obj_begin(&w);
	aidc_json_kstr(&w, "op", "start");
	aidc_json_ki64(&w, "step", step);
	aidc_json_key(&w, "nodes");
	aidc_json_arr_begin(&w);
	for (int64_t k = r->base; k < j->step_nodes; k++)
		aidc_json_i64(&w, k);
	aidc_json_arr_end(&w);
	if (j->external)
		aidc_json_kbool(&w, "external", true);
	sr_info_json(&w, o, j, cmd, limit_s);
	if (j->step_nodes > r->base) {
		aidc_json_key(&w, "doc");
		sr_doc_json(&w, o, j, cmd);
	}
	aidc_json_obj_end(&w);
	int rc = aidc_json_finish(&w);
	if (rc)
		fprintf(stderr, "srun: error: the step (command and environment) is over %u bytes\n",
			AIDC_MAX_STEP_BYTES);
	return rc;
}

/* Registers the step with the controller; for the job's nodes
 * 1..step_nodes-1 with the document their holders run. An id the job has
 * already used (409: the step counter of another session of the job starts
 * at 0 again) is given up for one the controller numbers. */
static int sr_remote_start(const struct sr_opts *o, const struct sr_job *j, char **cmd,
			   int64_t limit_s, struct sr_remote *r)
{
	cli_socket_path(NULL, r->sock, sizeof r->sock);
	snprintf(r->path, sizeof r->path, "/v1/jobs/%s/steps", j->job);
	r->nnodes = j->step_nodes;
	r->step = j->step;
	r->node = j->external ? "salloc" : j->node;
	r->job = j->job;
	r->base = j->external ? 0 : 1;
	struct aidc_buf b;
	struct api_call c = {0};
	int rc = -1;
	for (int again = 0; again < 2 && rc; again++) {
		bool last = again || j->step < 0;
		aidc_buf_release(&c.reply);
		aidc_buf_init(&b, AIDC_MAX_STEP_BYTES);
		rc = sr_start_body(o, j, cmd, limit_s, r, again ? -1 : j->step, &b);
		if (!rc)
			rc = cli_call_retry("srun", r->sock, "POST", r->path, aidc_buf_str(&b),
					    b.len, &c,
					    cli_call_wait_flag(r->sock) | (last ? 0 : CLI_CALL_QUIET));
		aidc_buf_release(&b);
		if (rc && !last && c.status != 409) { /* said as cli_call_retry would */
			struct aidc_err e = {0};
			if (c.status >= 400) {
				api_client_error(&c, &e);
				fprintf(stderr, "aidc srun: %s\n", e.msg);
			}
			break;
		}
	}
	/* The controller's number of the step (asked for with "step":-1). */
	const char *at = rc ? NULL : strstr(aidc_buf_str(&c.reply), "\"step\":");
	r->step = at ? strtoll(at + 7, NULL, 10) : r->step;
	aidc_buf_release(&c.reply);
	r->gone = rc != 0;
	return rc ? CLI_EXIT_FAIL : 0;
}

/* Copies bytes [from, to) of node k's output of the step (what its runner
 * stored) to fd. */
static void sr_copy_log(struct sr_remote *r, const char *job, int64_t k, const char *stream,
			int64_t from, int64_t to, int fd)
{
	int64_t deadline = aidc_mono_ms() + 30000;
	while (from < to && aidc_mono_ms() < deadline) {
		char path[192];
		snprintf(
		    path, sizeof path,
		    "/v1/jobs/%s/logs?step=%lld&task=%lld&stream=%s&offset=%lld&follow=1&wait=5",
		    job, (long long)r->step, (long long)k, stream, (long long)from);
		struct api_call c = {0};
		if (cli_call_retry("srun", r->sock, "GET", path, NULL, 0, &c,
				   CLI_CALL_IDEMPOTENT) != 0)
			break;
		size_t n = c.reply.len;
		if ((int64_t)n > to - from)
			n = (size_t)(to - from);
		if (n && write(fd, c.reply.data, n) < 0)
			n = 0;
		from += (int64_t)n;
		aidc_buf_release(&c.reply);
		sr_remote_poll(r); /* keeps the step's lease while its output comes */
	}
	if (from < to)
		fprintf(stderr, "srun: warning: node %lld: %lld bytes of %s were not copied\n",
			(long long)k, (long long)(to - from), stream);
}

/* The bytes of stream q node k's report says its runner stored (INT64_MAX
 * before the report). */
static int64_t sr_report_bytes(const struct sr_remote *r, int64_t k, int q)
{
	if (!r->reports[k])
		return INT64_MAX;
	return json_integer_value(
	    json_array_get(json_object_get(r->reports[k], "bytes"), (size_t)q));
}

/* While the step runs: what each node's tasks of the step have written since
 * the last call (at most SRUN_STREAM_BYTES per node and stream), twice a
 * second; a node that has reported stops at the end it reported. Each node's
 * stream stays in order; nodes interleave as their output arrives. */
static void sr_remote_stream(struct sr_remote *r)
{
	int64_t now = aidc_mono_ms();
	if (r->gone || now < r->next_stream_ms)
		return;
	r->next_stream_ms = now + SRUN_STREAM_MS;
	for (int64_t k = r->base; k < r->nnodes; k++)
		for (int q = 0; q < 2; q++) {
			int64_t end = sr_report_bytes(r, k, q);
			if (r->at[k][q] >= end)
				continue;
			char path[192];
			snprintf(path, sizeof path,
				 "/v1/jobs/%s/logs?step=%lld&task=%lld&stream=%s&offset=%lld",
				 r->job, (long long)r->step, (long long)k, q ? "err" : "out",
				 (long long)r->at[k][q]);
			struct api_call c = {0};
			if (cli_call_retry("srun", r->sock, "GET", path, NULL, 0, &c,
					   cli_call_wait_flag(r->sock) | CLI_CALL_IDEMPOTENT |
					       CLI_CALL_QUIET) == 0) {
				int64_t n = (int64_t)c.reply.len;
				n = n > end - r->at[k][q] ? end - r->at[k][q] : n;
				n = n > SRUN_STREAM_BYTES ? SRUN_STREAM_BYTES : n;
				ssize_t w = n > 0 ? write(q ? 2 : 1, c.reply.data, (size_t)n) : 0;
				r->at[k][q] += w > 0 ? w : 0;
			}
			aidc_buf_release(&c.reply);
		}
}

/* The remote tasks' output at the step's end: of what their runners
 * reported stored, what streaming has not copied yet. */
static void sr_remote_output(struct sr_remote *r, const char *job)
{
	fflush(stdout);
	fflush(stderr);
	for (int64_t k = r->base; k < r->nnodes; k++) {
		if (r->reports[k] && !json_object_get(r->reports[k], "bytes") &&
		    json_object_get(r->reports[k], "tasks"))
			fprintf(stderr,
				"srun: warning: node %lld runs an older aidc: its output of the "
				"step is in aidc logs %s --task %lld\n",
				(long long)k, job, (long long)k);
		for (int s = 0; s < 2 && r->reports[k]; s++) {
			int64_t b = sr_report_bytes(r, k, s);
			if (b > r->at[k][s])
				sr_copy_log(r, job, k, s ? "err" : "out", r->at[k][s], b,
					    s ? 2 : 1);
		}
	}
}

/* A child that renews the step's lease once a second while srun lives,
 * whatever srun is doing (a write to a full pipe blocks srun's own polls);
 * it dies with srun (PR_SET_PDEATHSIG), so a killed srun still loses its
 * step after step_lease_s. close_fd: srun's, closed in the child (-1 none). */
static void sr_keeper_start(struct sr_remote *r, int close_fd)
{
	pid_t parent = getpid();
	fflush(NULL);
	r->keeper = fork();
	if (r->keeper != 0) {
		r->keeper = r->keeper < 0 ? 0 : r->keeper;
		return;
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(0);
	if (close_fd >= 0)
		close(close_fd); /* --pty's listener: srun's alone */
	const int ign[] = {SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE};
	for (size_t k = 0; k < AIDC_ARRAY_LEN(ign); k++)
		signal(ign[k], SIG_IGN);
	char path[sizeof r->path + 32];
	snprintf(path, sizeof path, "%s?step=%lld", r->path, (long long)r->step);
	for (;;) {
		poll(NULL, 0, SRUN_POLL_LOCAL_MS);
		struct api_call c = {0};
		cli_call_retry("srun", r->sock, "GET", path, NULL, 0, &c,
			       CLI_CALL_IDEMPOTENT | CLI_CALL_QUIET);
		aidc_buf_release(&c.reply);
	}
}

/* Ends the step at the controller with srun's status (exit code, signal). */
static void sr_remote_end(struct sr_remote *r, int code, int sig)
{
	if (r->keeper > 0) {
		kill(r->keeper, SIGKILL);
		waitpid(r->keeper, NULL, 0);
		r->keeper = 0;
	}
	char body[160];
	snprintf(body, sizeof body,
		 "{\"op\":\"end\",\"step\":%lld,\"exit_code\":%d,\"signal\":%d,\"timeout\":%s}",
		 (long long)r->step, code < 0 ? 0 : code > 255 ? 255 : code, sig,
		 r->timeout ? "true" : "false");
	if (!r->gone)
		sr_post(r, body);
	for (int64_t k = 0; k < r->nnodes; k++)
		json_decref(r->reports[k]);
}

/* ---- srun --pty: task 0 on a pseudo terminal (cli_pty.c) ------------------- */

/* The node of task 0 connects back within this (srun waits), s; its runner
 * gives up connecting after SRUN_PTY_DIAL_MS. */
#define SRUN_PTY_CONNECT_S 30
#define SRUN_PTY_DIAL_MS 10000

/* --pty's state: in srun (task 0 here, or under salloc the connection from
 * task 0's node) or in that node's runner. */
struct sr_pty {
	struct cli_pty_relay relay;
	enum cli_pty_role role;
	int master, slave; /* task 0's terminal (not in srun under salloc); -1 none */
	int lfd, sock;	   /* srun under salloc: the listener; srun/runner: the connection */
	int port;
	pid_t task0;
	bool on; /* the relay runs */
	char addr[AIDC_MAX_ARG_BYTES], token[CLI_PTY_TOKEN_HEX + 1];
};

static void sr_pty_child(struct sr_pty *p)
{
	cli_pty_child(p->slave);
}

static void sr_pty_forked(struct sr_pty *p, pid_t pid)
{
	close(p->slave); /* task 0 (and its children) hold it now */
	p->slave = -1;
	p->task0 = pid;
}

/* srun under salloc: the address task 0's node connects to: $AIDC_SRUN_ADDR,
 * or this host's on its route to that node's (as an agent chooses its own). */
static int sr_pty_addr(const struct sr_job *j, struct sr_pty *p)
{
	const char *env = getenv("AIDC_SRUN_ADDR");
	if (env && *env)
		return snprintf(p->addr, sizeof p->addr, "%s", env), 0;
	char sock[AIDC_MAX_PATH_BYTES], path[AIDC_MAX_ARG_BYTES], why[256] = "";
	cli_socket_path(NULL, sock, sizeof sock);
	snprintf(path, sizeof path, "/v1/nodes/%s", j->hosts[0]);
	struct api_call c = {0};
	json_error_t je;
	int rc = cli_call_retry("srun", sock, "GET", path, NULL, 0, &c, CLI_CALL_IDEMPOTENT);
	json_t *doc = rc ? NULL : json_loadb(aidc_buf_str(&c.reply), c.reply.len, 0, &je);
	aidc_buf_release(&c.reply);
	const char *node = json_string_value(json_object_get(doc, "addr"));
	bool known = node && *node;
	if (!known)
		snprintf(why, sizeof why, "the controller did not give node %s's address",
			 j->hosts[0]);
	else
		rc = aidc_route_addr(node, 9, p->addr, sizeof p->addr, why, sizeof why);
	json_decref(doc);
	if (known && !rc)
		return 0;
	fprintf(stderr, "srun: error: --pty: no address of this host for task 0's node to "
			"connect to: %s (set AIDC_SRUN_ADDR)\n",
		why);
	return -1;
}

/* Before the step is registered: task 0's terminal (task 0 here), or the
 * listener task 0's node connects to (under salloc). */
static int sr_pty_prepare(struct sr_job *j)
{
	struct sr_pty *p = aidc_calloc(1, sizeof *p);
	*p = (struct sr_pty){.master = -1, .slave = -1, .lfd = -1, .sock = -1};
	j->pty = p;
	if (!j->external) {
		struct winsize ws = {0};
		bool tty = ioctl(0, TIOCGWINSZ, &ws) == 0;
		if (cli_pty_open(tty ? &ws : NULL, &p->master, &p->slave) == 0)
			return 0;
		fprintf(stderr, "srun: error: --pty: no pseudo terminal: %s\n", strerror(errno));
		return CLI_EXIT_FAIL;
	}
	if (sr_pty_addr(j, p) != 0 || (p->lfd = cli_pty_listen(p->addr, &p->port)) < 0)
		return CLI_EXIT_FAIL;
	if (cli_pty_token(p->token) != 0) {
		fprintf(stderr, "srun: error: --pty: no random token: %s\n", strerror(errno));
		return CLI_EXIT_FAIL;
	}
	return 0;
}

/* The step document's "pty" (under salloc): where task 0's node connects. */
static void sr_pty_json(struct aidc_json *w, const struct sr_pty *p)
{
	if (!p || p->lfd < 0)
		return;
	aidc_json_key(w, "pty");
	aidc_json_obj_begin(w);
	aidc_json_kstr(w, "addr", p->addr);
	aidc_json_ki64(w, "port", p->port);
	aidc_json_kstr(w, "token", p->token);
	aidc_json_obj_end(w);
}

/* srun under salloc: waits for task 0's node to connect (SRUN_PTY_CONNECT_S),
 * while looking at the step: a node that reports (it could not connect or
 * start) or a cancelled step end the wait. 0: connected, or a report came
 * (sr_status says it); -1 after a line. */
static int sr_pty_wait(struct sr_remote *r, struct sr_pty *p)
{
	int64_t end = aidc_mono_ms() + SRUN_PTY_CONNECT_S * 1000;
	while (p->sock < 0 && aidc_mono_ms() < end) {
		p->sock = cli_pty_accept(p->lfd, p->token, SRUN_POLL_MS);
		sr_remote_poll(r);
		if (p->sock < 0 && (r->nreported || r->gone || r->cancelled))
			break;
	}
	close(p->lfd);
	p->lfd = -1;
	if (p->sock >= 0 || r->nreported)
		return 0;
	if (!r->gone && !r->cancelled)
		fprintf(stderr, "srun: error: --pty: task 0's node did not connect back to %s port "
				"%d within %d s (it must reach this host; AIDC_SRUN_ADDR sets the "
				"address): ending the step\n",
			p->addr, p->port, SRUN_PTY_CONNECT_S);
	sr_remote_signal(r, SIGKILL);
	return -1;
}

/* After the step is registered, before its tasks start: srun's relay (the
 * connection waited for under salloc), its terminal raw. */
static int sr_pty_start(struct sr_job *j, struct sr_remote *r)
{
	struct sr_pty *p = j->pty;
	if (j->external && sr_pty_wait(r, p) != 0)
		return -1;
	if (j->external && p->sock < 0)
		return 0; /* its node reported instead */
	int tty = isatty(0) ? 0 : -1;
	p->role = j->external ? CLI_PTY_SRUN : CLI_PTY_LOCAL;
	cli_pty_relay_init(&p->relay, p->role, 0, 1, j->external ? p->sock : p->master, tty);
	if (tty >= 0 && cli_pty_raw(0) != 0)
		fprintf(stderr, "srun: warning: --pty: the terminal stays as it is: %s\n",
			strerror(errno));
	cli_pty_watch_winch();
	p->on = true;
	return 0;
}

/* The runner of task 0's node: connects to srun (the step document's
 * "pty"), then opens task 0's terminal. -1 with why in msg (the node's
 * report). */
static int sr_pty_runner(json_t *pty, struct sr_job *j, char *msg, size_t n)
{
	struct sr_pty *p = aidc_calloc(1, sizeof *p);
	*p = (struct sr_pty){.master = -1, .slave = -1, .lfd = -1, .role = CLI_PTY_RUNNER};
	j->pty = p;
	const char *addr = json_string_value(json_object_get(pty, "addr")),
		   *token = json_string_value(json_object_get(pty, "token"));
	int port = (int)json_integer_value(json_object_get(pty, "port"));
	char why[512] = "a step document without srun's address";
	p->sock = addr && token && strlen(token) == CLI_PTY_TOKEN_HEX && port > 0 && port < 65536
			  ? cli_pty_connect(addr, port, token, SRUN_PTY_DIAL_MS, why, sizeof why)
			  : -1;
	if (p->sock >= 0 && cli_pty_open(NULL, &p->master, &p->slave) != 0)
		snprintf(why, sizeof why, "no pseudo terminal for task 0: %s", strerror(errno));
	if (p->master < 0)
		return snprintf(msg, n, "--pty: %s", why), -1;
	cli_pty_relay_init(&p->relay, CLI_PTY_RUNNER, p->sock, p->sock, p->master, -1);
	p->on = true;
	return 0;
}

static bool sr_pty_open(const struct sr_pty *p)
{
	return p && p->on && !cli_pty_done(&p->relay);
}

/* One round of the relay (at most wait_ms); in srun, once it is over, srun
 * stops reading its stdin and closes the connection. In a runner whose srun is gone,
 * task 0's terminal hangs up (closing the master: SIGHUP to its session),
 * and task 0 gets SIGHUP. */
static void sr_pty_pump(struct sr_pty *p, int wait_ms)
{
	if (!p->on) {
		poll(NULL, 0, wait_ms);
		return;
	}
	cli_pty_pump(&p->relay, wait_ms);
	if (p->role != CLI_PTY_RUNNER && cli_pty_done(&p->relay)) {
		p->on = false; /* srun's stdin is no longer read; the node's runner sees EOF */
		if (p->sock >= 0)
			close(p->sock);
		p->sock = -1;
	}
	if (p->role == CLI_PTY_RUNNER && p->relay.broken && p->master >= 0) {
		close(p->master);
		p->master = p->relay.task_fd = -1;
		if (p->task0 > 0)
			kill(p->task0, SIGHUP);
	}
}

/* The relay's end: srun's terminal as it was; the runner says it is done
 * (shutdown) and waits a little for srun to close first, so nothing srun
 * sent is answered with a reset. */
static void sr_pty_end(struct sr_job *j)
{
	struct sr_pty *p = j->pty;
	if (!p)
		return;
	cli_pty_restore();
	if (p->role == CLI_PTY_RUNNER && p->sock >= 0 && shutdown(p->sock, SHUT_WR) == 0) {
		char b[4096];
		struct pollfd pf = {.fd = p->sock, .events = POLLIN};
		for (int64_t end = aidc_mono_ms() + 2000;
		     aidc_mono_ms() < end && poll(&pf, 1, 100) >= 0;)
			if (pf.revents && read(p->sock, b, sizeof b) == 0)
				break;
	}
	const int fds[] = {p->master, p->slave, p->lfd, p->sock};
	for (size_t k = 0; k < AIDC_ARRAY_LEN(fds); k++)
		if (fds[k] >= 0)
			close(fds[k]);
	aidc_free(p);
	j->pty = NULL;
}

/* ---- waiting, status ------------------------------------------------------- */

/* Signals the step's tasks here and (r) on the other nodes. */
static void sr_kill_step(struct sr_task *t, int64_t n, struct sr_remote *r, int sig)
{
	sr_kill_all(t, n, sig);
	if (r)
		sr_remote_signal(r, sig);
}

/* One round of sr_wait's duties: srun's signals, the time limit, -K. */
static void sr_wait_duties(const struct sr_opts *o, struct sr_task *t, int64_t n,
			   struct sr_remote *r, int64_t limit_s, int64_t t0, int64_t *term_ms,
			   bool *bad, bool *bad_sent)
{
	if (sr_signal) {
		sr_kill_step(t, n, r, sr_signal);
		sr_signal = 0;
	}
	int64_t now = aidc_mono_ms();
	if (limit_s && !*term_ms && now - t0 >= limit_s * 1000) {
		fprintf(stderr, "srun: error: step time limit (%lld s) reached: ending its tasks\n",
			(long long)limit_s);
		sr_kill_step(t, n, r, SIGTERM);
		*term_ms = now;
		if (r)
			r->timeout = true;
	}
	if (r && r->cancelled && !*term_ms) { /* the holders have SIGTERM from the controller */
		sr_kill_all(t, n, SIGTERM);
		*term_ms = now;
	}
	if (*term_ms && *term_ms > 0 && now - *term_ms >= 10000) {
		sr_kill_step(t, n, r, SIGKILL);
		*term_ms = -1; /* once */
	}
	if (r && o->kill_bad && r->bad && !*bad) {
		*bad = true;
		fprintf(stderr, "srun: error: a task on another node failed: ending the step's "
				"other tasks (--kill-on-bad-exit)\n");
		sr_kill_all(t, n, SIGTERM);
	}
	if (r && *bad && !*bad_sent) {
		sr_remote_signal(r, SIGTERM);
		*bad_sent = true;
	}
}

/* srun's tasks (node 0 of a batch job's step) have ended before the other
 * nodes': their report, so that the step ends as its tasks did even if srun
 * is lost before the others end (steps.c lease_one). */
static void sr_local_report(const struct sr_opts *o, const struct sr_job *j,
			    const struct sr_task *t, int64_t n, struct sr_remote *r)
{
	if (!r || r->gone || j->external || !n || r->nreported >= r->nnodes - r->base)
		return;
	const int64_t none[2] = {0, 0};
	if (sr_post_report(r, 0, j, t, true, none, NULL) == 0 && o->verbose)
		fprintf(stderr, "srun: step %s.%lld: the tasks on %s ended, reported\n", j->job,
			(long long)j->step, j->node);
}

/* Waits for every task (here, and with r on the other nodes): forwards
 * srun's signals, ends the step at its time limit (SIGTERM, SIGKILL 10 s
 * later), and drains -l output. */
static void sr_wait(const struct sr_opts *o, const struct sr_job *j, struct sr_task *t,
		    int64_t n, int64_t limit_s, struct sr_remote *r)
{
	int64_t t0 = aidc_mono_ms(), term_ms = 0, drain_until = 0, alive = 1;
	bool bad = false, bad_sent = false;
	for (;;) {
		if (o->label)
			sr_label_poll(t, n, j->first, 50);
		else if (j->pty)
			sr_pty_pump(j->pty, 20);
		else
			poll(NULL, 0, 20);
		if (r) {
			sr_remote_poll(r);
			sr_remote_stream(r);
		}
		sr_wait_duties(o, t, n, r, limit_s, t0, &term_ms, &bad, &bad_sent);
		int64_t was = alive;
		if ((alive = sr_reap(o, j, t, n, &bad)) == 0 && was)
			sr_local_report(o, j, t, n, r);
		if (alive > 0 || (r && !r->gone && r->nreported < r->nnodes - r->base))
			continue;
		bool open = false;
		for (int64_t i = 0; i < n && o->label; i++)
			open |= t[i].pipe[0] >= 0 || t[i].pipe[1] >= 0;
		open |= sr_pty_open(j->pty);
		/* A task's background children may hold its pipe: 2 s at most. */
		int64_t now = aidc_mono_ms();
		if (!drain_until)
			drain_until = now + 2000;
		if (!open || now >= drain_until)
			break;
	}
	for (int64_t i = 0; i < n && o->label; i++)
		for (int k = 0; k < 2; k++)
			if (t[i].pipe[k] >= 0)
				sr_label_flush(&t[i], j->first + i, k, true);
}

/* One task's end for srun's status: named on stderr when it failed. */
static void sr_status_one(const char *host, int64_t id, int code, int sig, int *worst,
			  int *first_sig)
{
	if (sig && !*first_sig)
		*first_sig = sig;
	if (sig) {
		fprintf(stderr, "srun: error: %s: task %lld: %s\n", host, (long long)id,
			strsignal(sig));
		code = 128 + sig;
	} else if (code) {
		fprintf(stderr, "srun: error: %s: task %lld: Exited with exit code %d\n", host,
			(long long)id, code);
	}
	*worst = code > *worst ? code : *worst;
}

/* Slurm's srun status: the highest exit code, 128 + signal for a killed
 * task; each failed task named on stderr. *sig: the first signal that
 * killed a task, 0 if none. */
static int sr_status(const struct sr_job *j, const struct sr_task *t, int64_t n,
		     const struct sr_remote *r, int *sig)
{
	int worst = 0;
	*sig = 0;
	for (int64_t i = 0; i < n; i++) {
		int st = t[i].status;
		sr_status_one(j->node, j->first + i, WIFEXITED(st) ? WEXITSTATUS(st) : 0,
			      WIFSIGNALED(st) ? WTERMSIG(st) : 0, &worst, sig);
	}
	for (int64_t k = r ? r->base : 1; r && k < r->nnodes; k++) {
		json_t *rep = r->reports[k], *tasks = json_object_get(rep, "tasks");
		const char *host = json_string_value(json_object_get(rep, "host"));
		if (!rep || !json_is_array(tasks) || json_object_get(rep, "error")) {
			const char *why = json_string_value(json_object_get(rep, "error"));
			fprintf(stderr, "srun: error: node %lld of the step: %s\n", (long long)k,
				why ? why : "no report (the job ended, or its step holder failed)");
			worst = worst > 1 ? worst : 1;
			continue;
		}
		for (size_t i = 0; i < json_array_size(tasks); i++) {
			json_t *x = json_array_get(tasks, i);
			sr_status_one(host ? host : "?", json_integer_value(json_object_get(x, "id")),
				      (int)json_integer_value(json_object_get(x, "exit")),
				      (int)json_integer_value(json_object_get(x, "signal")), &worst,
				      sig);
		}
	}
	return worst;
}

static void sr_tasks_free(struct sr_task *t, int64_t n)
{
	for (int64_t i = 0; t && i < n; i++) {
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
}

/* This node's tasks of the step: opens their files, starts them and waits
 * for them (with r, for the other nodes' too). *ok: every task started. */
static struct sr_task *sr_local(const struct sr_opts *o, struct sr_job *j, char **cmd,
				int64_t limit_s, struct sr_remote *r, bool *ok)
{
	int64_t n = j->nlocal;
	struct sr_task *t = aidc_calloc((size_t)n, sizeof *t);
	for (int64_t i = 0; i < n; i++)
		t[i] = (struct sr_task){.out_fd = -1, .err_fd = -1, .pipe = {-1, -1}};
	*ok = false;
	if ((o->out && sr_open_files(o->out, j, t, n, false) != 0) ||
	    (o->err && sr_open_files(o->err, j, t, n, true) != 0)) {
		if (r)
			sr_remote_signal(r, SIGKILL);
		return t;
	}
	const int fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT};
	struct sigaction sa = {.sa_handler = sr_on_signal};
	sigemptyset(&sa.sa_mask);
	for (size_t k = 0; k < AIDC_ARRAY_LEN(fwd); k++)
		sigaction(fwd[k], &sa, NULL);
	int64_t started = 0;
	for (; started < n; started++)
		if (sr_spawn(o, j, &t[started], started, cmd) != 0)
			break;
	if (started < n) /* a fork failed: the started ones end too */
		sr_kill_step(t, started, r, SIGTERM);
	sr_wait(o, j, t, started, limit_s, r);
	*ok = started == n;
	return t;
}

/* Registers the step with the controller (with its document for the other
 * nodes); NULL when that failed. A step on node 0 alone then runs without
 * the controller, after a warning. *rc: CLI_EXIT_FAIL when it must not run. */
static struct sr_remote *sr_register(const struct sr_opts *o, const struct sr_job *j, char **cmd,
				     int64_t limit_s, int *rc)
{
	struct sr_remote *r = aidc_calloc(1, sizeof *r);
	*rc = 0;
	if (sr_remote_start(o, j, cmd, limit_s, r) == 0)
		return r;
	aidc_free(r);
	if (j->step_nodes > 1 || j->external)
		*rc = CLI_EXIT_FAIL;
	else if (!o->quiet)
		fprintf(stderr, "srun: warning: step %s.%lld runs unregistered: squeue -s, sacct "
				"and scancel %s.%lld do not see it\n",
			j->job, (long long)j->step, j->job, (long long)j->step);
	return NULL;
}

/* Starts the step (here, and on the job's other nodes through the
 * controller), waits, copies the remote output, and gives srun's status. */
static int sr_run(const struct sr_opts *o, struct sr_job *j, char **cmd, int64_t limit_s)
{
	/* -1: the controller numbers the step (under salloc; without a private
	 * step counter) */
	j->step = j->external ? -1 : next_step_id();
	int rc = o->pty ? sr_pty_prepare(j) : 0;
	struct sr_remote *r = rc ? NULL : sr_register(o, j, cmd, limit_s, &rc);
	if (rc) {
		sr_pty_end(j);
		return rc;
	}
	j->step = r ? r->step : j->step < 0 ? 0 : j->step; /* unregistered: numbered 0 */
	if (r)
		sr_keeper_start(r, j->pty ? j->pty->lfd : -1);
	if (o->verbose)
		fprintf(stderr, "srun: step %s.%lld: %lld task(s) on %s (%s)\n", j->job,
			(long long)j->step, (long long)j->step_tasks, j->step_list, j->tpn);
	if (o->verbose && j->pty && j->external)
		fprintf(stderr, "srun: --pty: task 0's node connects to %s port %d\n",
			j->pty->addr, j->pty->port);
	bool ok = false;
	struct sr_task *t = NULL;
	if (!j->pty || sr_pty_start(j, r) == 0)
		t = sr_local(o, j, cmd, limit_s, r, &ok);
	sr_pty_end(j); /* the terminal as it was before the statuses are said */
	if (r && r->nnodes > r->base)
		sr_remote_output(r, j->job);
	int sig = 0;
	rc = ok ? sr_status(j, t, j->nlocal, r, &sig) : CLI_EXIT_FAIL;
	sr_tasks_free(t, j->nlocal);
	if (r)
		sr_remote_end(r, sig ? 0 : rc, sig);
	aidc_free(r);
	return rc;
}

/* ---- the step holder and its runners (the job's other nodes) -------------- */

/* Variables whose values are the node's own (the holder's, from its agent):
 * a remote task gets these from its node, the rest from srun's environment. */
static const char *const sr_node_keys[] = {
    "AIDC_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES", "GPU_DEVICE_ORDINAL", "SLURM_JOB_GPUS",
    "SLURMD_NODENAME",	    "SLURM_TOPOLOGY_ADDR",  "SLURM_NODEID",	  "SLURM_CPUS_ON_NODE",
    "SLURM_GPUS_ON_NODE",   "AIDC_NODE",	    "AIDC_TASK_INDEX",	  "AIDC_DEVICE_SHARE",
    "CUDA_MPS_ACTIVE_THREAD_PERCENTAGE",	    "ROCR_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES",
    "ZE_AFFINITY_MASK",	    "ASCEND_RT_VISIBLE_DEVICES"};

/* In a runner: srun's environment (doc env) with this node's own values. */
static void sr_runner_env(json_t *env)
{
	const size_t nk = AIDC_ARRAY_LEN(sr_node_keys);
	char *mine[AIDC_ARRAY_LEN(sr_node_keys)];
	for (size_t k = 0; k < nk; k++) {
		const char *v = getenv(sr_node_keys[k]);
		mine[k] = v ? aidc_strdup(v) : NULL;
	}
	clearenv();
	for (size_t i = 0; i < json_array_size(env); i++) {
		const char *kv = json_string_value(json_array_get(env, i));
		const char *eq = kv ? strchr(kv, '=') : NULL;
		bool node = false;
		for (size_t k = 0; eq && k < nk && !node; k++)
			node = strlen(sr_node_keys[k]) == (size_t)(eq - kv) &&
			       !strncmp(kv, sr_node_keys[k], (size_t)(eq - kv));
		if (eq && eq != kv && !node)
			putenv(aidc_strdup(kv)); /* owned by environ from now on */
	}
	for (size_t k = 0; k < nk; k++)
		if (mine[k])
			setenv(sr_node_keys[k], mine[k], 1);
	for (size_t k = 0; k < nk; k++)
		aidc_free(mine[k]);
}

/* In a runner: the options and layout from the step document; this node is
 * number node of the step. */
static int sr_runner_opts(json_t *doc, int64_t step, int64_t node, struct sr_opts *o,
			  struct sr_job *j)
{
	json_t *cnt = json_object_get(doc, "cnt");
	int64_t ns = (int64_t)json_array_size(cnt);
	if (ns < 1 || ns > SRUN_MAX_TASKS || node >= ns || sr_job_env(j) != 0)
		return -1;
	j->step = step;
	j->nodeid = node;
	j->step_nodes = ns;
	for (int64_t k = 0; k < ns; k++) {
		j->cnt[k] = json_integer_value(json_array_get(cnt, (size_t)k));
		if (j->cnt[k] < 1 || j->cnt[k] > SRUN_MAX_TASKS)
			return -1;
		j->step_tasks += j->cnt[k];
		j->first += k < node ? j->cnt[k] : 0;
	}
	j->nlocal = j->cnt[node];
	const char *list = json_string_value(json_object_get(doc, "nodelist")),
		   *tpn = json_string_value(json_object_get(doc, "tpn"));
	snprintf(j->step_list, sizeof j->step_list, "%s", list ? list : "");
	snprintf(j->tpn, sizeof j->tpn, "%s", tpn ? tpn : "");
	o->gpt = json_integer_value(json_object_get(doc, "gpt"));
	o->cpus = json_integer_value(json_object_get(doc, "cpus"));
	o->label = json_is_true(json_object_get(doc, "label"));
	o->pty = json_is_object(json_object_get(doc, "pty"));
	o->out = json_string_value(json_object_get(doc, "out"));
	o->err = json_string_value(json_object_get(doc, "err"));
	o->chdir = json_string_value(json_object_get(doc, "chdir"));
	o->exportv = json_string_value(json_object_get(doc, "export"));
	o->name = json_string_value(json_object_get(doc, "name"));
	o->ntasks = j->step_tasks;
	o->quiet = true;
	if (o->gpt < 0 || (size_t)(o->gpt * j->nlocal) > j->ndev)
		return -1;
	return 0;
}

/* In a runner: the node's report (task ids, exits, the bytes of stdout and
 * stderr its pusher stored). */
static void sr_report_json(struct aidc_json *w, const struct sr_job *j, const struct sr_task *t,
			   bool ok, const int64_t bytes[2])
{
	aidc_json_obj_begin(w);
	aidc_json_kstr(w, "host", j->node);
	if (!ok)
		aidc_json_kstr(w, "error", "its tasks could not all start (said above)");
	aidc_json_key(w, "tasks");
	aidc_json_arr_begin(w);
	for (int64_t i = 0; i < j->nlocal && ok; i++) {
		int st = t[i].status;
		aidc_json_obj_begin(w);
		aidc_json_ki64(w, "id", j->first + i);
		aidc_json_ki64(w, "exit", WIFEXITED(st) ? WEXITSTATUS(st) : 0);
		aidc_json_ki64(w, "signal", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
		aidc_json_obj_end(w);
	}
	aidc_json_arr_end(w);
	aidc_json_key(w, "bytes");
	aidc_json_arr_begin(w);
	aidc_json_i64(w, bytes[0]);
	aidc_json_i64(w, bytes[1]);
	aidc_json_arr_end(w);
	aidc_json_obj_end(w);
}

/* Posts this node's report of step (error: why it did not run). */
static int sr_post_report(struct sr_remote *r, int64_t node, const struct sr_job *j,
			  const struct sr_task *t, bool ok, const int64_t bytes[2],
			  const char *error)
{
	struct aidc_buf b;
	aidc_buf_init(&b, AIDC_MAX_STEP_BYTES);
	struct aidc_json w;
	aidc_json_init(&w, &b, false);
	aidc_json_obj_begin(&w);
	aidc_json_kstr(&w, "op", "report");
	aidc_json_ki64(&w, "step", r->step);
	aidc_json_ki64(&w, "node", node);
	aidc_json_key(&w, "report");
	if (error) {
		aidc_json_obj_begin(&w);
		aidc_json_kstr(&w, "error", error);
		aidc_json_obj_end(&w);
	} else {
		sr_report_json(&w, j, t, ok, bytes);
	}
	aidc_json_obj_end(&w);
	int rc = aidc_json_finish(&w) ? CLI_EXIT_FAIL : sr_post(r, aidc_buf_str(&b));
	aidc_buf_release(&b);
	return rc;
}

/* ---- a runner's output: the pusher --------------------------------------- */

/* A runner's pusher (its child): reads what the runner and its tasks write
 * to stdout and stderr (two pipes) and stores it at the controller as this
 * node's output of the step (POST .../steps?op=output, steps.c), each stream
 * in order and each byte once: a stream's next bytes go at the offset where
 * the controller's copy ends, a controller restart is waited for
 * (AIDC_RETRY_S) and the same bytes sent again (the controller skips what it
 * has); past that, or refused, the stream goes on in the holder's log after
 * a marker (sr_push_fallback). So concurrent steps on a node never share an
 * output, as they would in the holder's own log. At most SRUN_PUSH_BYTES
 * per stream are held: a task writing faster than the controller stores
 * blocks on its pipe. */
struct sr_pusher {
	pid_t pid; /* 0: none (the runner's output stays the holder's log) */
	int res;   /* the pusher's result: "OUT ERR\n", the bytes it stored */
};

static volatile sig_atomic_t sr_push_stop;

static void sr_on_push_stop(int sig)
{
	(void)sig;
	sr_push_stop = 1;
}

/* Stores buf[0..*len) of stream q at *off (then *len = 0); false when the
 * controller refused it or stayed unreachable past AIDC_RETRY_S (*len kept;
 * sr_push_fallback takes the stream from then on). *stored: where the
 * controller's copy really ends when it cut the stream (its quotas, floor or
 * stream cap: it takes nothing more), else left as it was. */
static bool sr_push(struct sr_remote *r, int64_t node, int q, const char *buf, size_t *len,
		    int64_t *off, int64_t *stored)
{
	char path[sizeof r->path + 160];
	snprintf(path, sizeof path, "%s?op=output&step=%lld&node=%lld&stream=%s&offset=%lld",
		 r->path, (long long)r->step, (long long)node, q ? "err" : "out", (long long)*off);
	struct api_call c = {0};
	int rc = cli_call_retry("srun", r->sock, "POST", path, buf, *len, &c,
				cli_call_wait_flag(r->sock) | CLI_CALL_IDEMPOTENT);
	json_error_t je;
	json_t *rep = rc ? NULL : json_loadb(aidc_buf_str(&c.reply), c.reply.len, 0, &je);
	json_t *st = json_object_get(rep, "stored");
	if (json_is_integer(st) && json_integer_value(st) >= 0)
		*stored = json_integer_value(st);
	json_decref(rep);
	aidc_buf_release(&c.reply);
	if (rc != 0)
		return false;
	*off += (int64_t)*len;
	*len = 0;
	return true;
}

/* Stream q of a pusher whose controller did not store it (sr_push false):
 * its bytes go to the pusher's own stdout or stderr, the holder's log (the
 * job's own output, pushed by the agent), after one marker line; never
 * dropped. first: the marker is due. */
static void sr_push_fallback(const struct sr_remote *r, int q, const char *buf, size_t len,
			     bool first)
{
	int fd = q ? 2 : 1;
	if (first)
		dprintf(fd, "\n[srun: step %lld: the controller did not store this node's std%s "
			    "of the step; the rest of it follows in the job's own output]\n",
			(long long)r->step, q ? "err" : "out");
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		len -= (size_t)w;
	}
}

/* One read of stream q into its buffer: closes in[q] at its end. The
 * bytes read. */
static size_t sr_push_read(int *in, char *buf, size_t *len)
{
	ssize_t n = read(*in, buf + *len, SRUN_PUSH_BYTES - *len);
	if (n > 0)
		*len += (size_t)n;
	else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		close(*in);
		*in = -1;
	}
	return n > 0 ? (size_t)n : 0;
}

/* The pusher's loop: until both pipes end (every writer closed them), or
 * SIGUSR1 (the runner's tasks are done but a background child holds a
 * pipe; or the runner died) and nothing more is waiting in them (or, for a
 * writer that never stops, 2 x SRUN_PUSH_BYTES more have been read). */
static void sr_pusher_main(struct sr_remote *r, int64_t node, int in[2], int res)
{
	char *buf[2] = {aidc_malloc(SRUN_PUSH_BYTES), aidc_malloc(SRUN_PUSH_BYTES)};
	size_t len[2] = {0, 0}, after_stop = 0;
	int64_t off[2] = {0, 0}, stored[2] = {-1, -1}, last = aidc_mono_ms();
	bool live[2] = {true, true};
	while (in[0] >= 0 || in[1] >= 0 || len[0] || len[1]) {
		struct pollfd pf[2];
		int which[2];
		nfds_t n = 0;
		for (int q = 0; q < 2; q++)
			if (in[q] >= 0 && len[q] < SRUN_PUSH_BYTES) {
				pf[n] = (struct pollfd){.fd = in[q], .events = POLLIN};
				which[n++] = q;
			}
		int got = n ? poll(pf, n, sr_push_stop ? 0 : SRUN_PUSH_MS / 2) : 0;
		size_t k = 0;
		for (nfds_t i = 0; got > 0 && i < n; i++)
			if (pf[i].revents)
				k += sr_push_read(&in[which[i]], buf[which[i]], &len[which[i]]);
		after_stop += sr_push_stop ? k : 0;
		/* Nothing waiting in a pipe polled (got < 0: EINTR, the stop itself;
		 * n == 0: full buffers, stored first): the next round looks again. */
		if (sr_push_stop && ((n && got == 0) || after_stop > 2 * (size_t)SRUN_PUSH_BYTES))
			for (int q = 0; q < 2; q++)
				if (in[q] >= 0) {
					close(in[q]);
					in[q] = -1;
				}
		bool full = len[0] == SRUN_PUSH_BYTES || len[1] == SRUN_PUSH_BYTES;
		bool ended = in[0] < 0 && in[1] < 0;
		if (!full && !ended && aidc_mono_ms() - last < SRUN_PUSH_MS)
			continue;
		for (int q = 0; q < 2; q++)
			if (len[q] &&
			    !(live[q] && sr_push(r, node, q, buf[q], &len[q], &off[q], &stored[q]))) {
				sr_push_fallback(r, q, buf[q], len[q], live[q]);
				live[q] = false, len[q] = 0;
			}
		last = aidc_mono_ms();
	}
	/* What srun copies from the controller: up to where each copy ends. */
	for (int q = 0; q < 2; q++)
		off[q] = stored[q] >= 0 ? stored[q] : off[q];
	dprintf(res, "%lld %lld\n", (long long)off[0], (long long)off[1]);
	_exit(0);
}

/* In a runner: starts its pusher, with the runner's stdout and stderr (and
 * so its tasks') on the pusher's pipes from then on. -1 when there is no
 * pusher (said on the holder's log): the output stays there. */
static int sr_pusher_start(struct sr_remote *r, int64_t node, struct sr_pusher *p)
{
	int out[2] = {-1, -1}, err[2] = {-1, -1}, res[2] = {-1, -1};
	*p = (struct sr_pusher){.pid = 0, .res = -1};
	if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 ||
	    pipe2(res, O_CLOEXEC) != 0) {
		fprintf(stderr, "srun: error: step %lld: pipe: %s\n", (long long)r->step,
			strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid_t runner = getpid();
	p->pid = fork();
	if (p->pid == 0) {
		struct sigaction sa = {.sa_handler = sr_on_push_stop};
		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
		signal(SIGPIPE, SIG_IGN); /* the result to a runner that is gone */
		/* The runner gone (SIGKILL): what its tasks left is stored, then the end. */
		if (prctl(PR_SET_PDEATHSIG, SIGUSR1) != 0 || getppid() != runner)
			sr_push_stop = 1;
		close(out[1]);
		close(err[1]);
		close(res[0]);
		int in[2] = {out[0], err[0]};
		for (int q = 0; q < 2; q++)
			fcntl(in[q], F_SETFL, O_NONBLOCK);
		sr_pusher_main(r, node, in, res[1]);
	}
	bool ok = p->pid > 0 && dup2(out[1], 1) == 1 && dup2(err[1], 2) == 2;
	const int fds[] = {out[0], out[1], err[0], err[1], res[1]};
	for (size_t k = 0; k < AIDC_ARRAY_LEN(fds); k++)
		close(fds[k]);
	p->res = res[0];
	if (!ok)
		fprintf(stderr, "srun: error: step %lld: no output pusher: %s\n",
			(long long)r->step, strerror(errno));
	return ok ? 0 : -1;
}

/* In a runner whose tasks are done: closes its ends of the pipes, gives the
 * tasks' background children SRUN_PUSH_DRAIN_MS to close theirs (then the
 * pusher stops reading), and waits until everything read is stored. bytes:
 * what the pusher stored of stdout and stderr. */
static void sr_pusher_finish(struct sr_pusher *p, int64_t bytes[2])
{
	bytes[0] = bytes[1] = 0;
	if (p->pid <= 0)
		return;
	fflush(stdout);
	fflush(stderr);
	int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (nul >= 0) {
		dup2(nul, 1);
		dup2(nul, 2);
		close(nul);
	}
	int64_t until = aidc_mono_ms() + SRUN_PUSH_DRAIN_MS;
	bool told = false;
	while (waitpid(p->pid, NULL, WNOHANG) == 0) {
		if (!told && aidc_mono_ms() >= until) {
			kill(p->pid, SIGUSR1); /* our child, not yet reaped */
			told = true;
		}
		poll(NULL, 0, 20);
	}
	char b[64] = "";
	ssize_t n = read(p->res, b, sizeof b - 1);
	long long o = 0, e = 0;
	if (n > 0 && sscanf(b, "%lld %lld", &o, &e) == 2)
		bytes[0] = o, bytes[1] = e;
	close(p->res);
}

/* A runner (a child of the holder): this node's tasks of one step, then
 * their report. Never returns. */
static void sr_runner(json_t *doc, struct sr_remote *r, int64_t node)
{
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	struct sr_opts o = {0};
	struct sr_job *j = aidc_calloc(1, sizeof *j);
	json_t *argv = json_object_get(doc, "argv");
	size_t argc = json_array_size(argv);
	char **cmd = aidc_calloc(argc + 1, sizeof *cmd);
	for (size_t i = 0; i < argc; i++)
		cmd[i] = (char *)json_string_value(json_array_get(argv, i));
	sr_runner_env(json_object_get(doc, "env"));
	const char *cwd = json_string_value(json_object_get(doc, "cwd"));
	if (!argc || !cmd[argc - 1] || sr_runner_opts(doc, r->step, node, &o, j) != 0) {
		sr_post_report(r, node, j, NULL, false, NULL, "a step document it cannot run");
		_exit(1);
	}
	char why[640];
	if (o.pty && j->first == 0 && sr_pty_runner(json_object_get(doc, "pty"), j, why,
						    sizeof why) != 0)
		_exit(sr_post_report(r, node, NULL, NULL, false, NULL, why) ? 1 : 0);
	struct sr_pusher pu;
	if (sr_pusher_start(r, node, &pu) != 0)
		_exit(sr_post_report(r, node, NULL, NULL, false, NULL,
				     "no pipe or process for its output on the node")
			  ? 1
			  : 0);
	if (cwd && chdir(cwd) != 0)
		fprintf(stderr, "srun: warning: node %lld: %s: %s\n", (long long)node, cwd,
			strerror(errno));
	bool ok;
	struct sr_task *t = sr_local(&o, j, cmd, 0, NULL, &ok);
	sr_pty_end(j);
	int64_t bytes[2];
	sr_pusher_finish(&pu, bytes); /* every byte stored before the report */
	int rc = sr_post_report(r, node, j, t, ok, bytes, NULL);
	_exit(rc ? 1 : 0);
}

/* One step a holder runs: its runner and the signals delivered to it. */
struct sr_held {
	int64_t id;
	pid_t pid; /* 0 once reaped */
	uint32_t sig_seq;
	bool listed; /* in the latest poll */
};

/* Starts a runner for each new step of doc, delivers new signals. */
static void sr_holder_take(json_t *steps, struct sr_remote *r, int64_t node, struct sr_held *h,
			   size_t *nh)
{
	for (size_t i = 0; i < *nh; i++)
		h[i].listed = false;
	for (size_t i = 0; i < json_array_size(steps); i++) {
		json_t *s = json_array_get(steps, i);
		int64_t id = json_integer_value(json_object_get(s, "step"));
		uint32_t seq = (uint32_t)json_integer_value(json_object_get(s, "sig_seq"));
		struct sr_held *x = NULL;
		for (size_t k = 0; k < *nh && !x; k++)
			x = h[k].id == id ? &h[k] : NULL;
		if (x) {
			x->listed = true;
			if (seq != x->sig_seq && x->pid > 0)
				kill(x->pid, (int)json_integer_value(json_object_get(s, "signal")));
			x->sig_seq = seq;
			continue;
		}
		if (*nh >= AIDC_MAX_JOB_STEPS)
			continue;
		x = &h[(*nh)++];
		*x = (struct sr_held){.id = id, .sig_seq = seq, .listed = true};
		r->step = id;
		fflush(NULL);
		x->pid = fork();
		if (x->pid == 0)
			sr_runner(json_object_get(s, "doc"), r, node);
		if (x->pid < 0) {
			x->pid = 0;
			sr_post_report(r, node, NULL, NULL, false, NULL, "fork failed on its node");
		}
	}
}

/* Reaps ended runners (one that failed without reporting gets an error
 * report) and forgets steps that are over. */
static void sr_holder_reap(struct sr_remote *r, int64_t node, struct sr_held *h, size_t *nh)
{
	int st;
	for (pid_t pid; (pid = waitpid(-1, &st, WNOHANG)) > 0;)
		for (size_t i = 0; i < *nh; i++)
			if (h[i].pid == pid) {
				h[i].pid = 0;
				r->step = h[i].id;
				if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
					sr_post_report(r, node, NULL, NULL, false, NULL,
						       "its runner on the node failed");
			}
	size_t w = 0;
	for (size_t i = 0; i < *nh; i++)
		if (h[i].listed || h[i].pid > 0)
			h[w++] = h[i];
	*nh = w;
}

/*
 * The step holder: what the agent runs as task N > 0 of a multi-node batch
 * job (agent_launch.c), holding node N's allocation while the script runs
 * on node 0. It polls the controller (SRUN_POLL_MS apart) for the job's
 * steps on this node and forks a runner for each; signals srun sends come
 * the same way. Under salloc node 0's holder is the job's script: it exits
 * with salloc's command's code once salloc releases the allocation (the
 * poll's "release"). Signals from the agent other than SIGTERM (the job's end;
 * the agent then ends the whole process group) are for the steps' tasks,
 * never for the holder.
 */
static int sr_holder(void)
{
	const int ign[] = {SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE};
	for (size_t k = 0; k < AIDC_ARRAY_LEN(ign); k++)
		signal(ign[k], SIG_IGN);
	const char *job = getenv("SLURM_JOB_ID"), *sa = getenv("AIDC_SALLOC");
	int64_t node = env_i64("SLURM_NODEID", 0);
	if (!job || node < (sa && !strcmp(sa, "1") ? 0 : 1)) {
		fprintf(stderr, "srun: the step holder runs as a multi-node batch job's task, or "
				"as an salloc job's\n");
		return CLI_EXIT_USAGE;
	}
	struct sr_remote *r = aidc_calloc(1, sizeof *r);
	cli_socket_path(NULL, r->sock, sizeof r->sock);
	char poll_path[128];
	snprintf(r->path, sizeof r->path, "/v1/jobs/%s/steps", job);
	snprintf(poll_path, sizeof poll_path, "%s?node=%lld", r->path, (long long)node);
	struct sr_held h[AIDC_MAX_JOB_STEPS];
	size_t nh = 0;
	for (;;) {
		struct api_call c = {0};
		int rc = cli_call_retry("srun", r->sock, "GET", poll_path, NULL, 0, &c,
					CLI_CALL_IDEMPOTENT | CLI_CALL_QUIET);
		json_error_t je;
		json_t *doc = rc ? NULL : json_loadb(aidc_buf_str(&c.reply), c.reply.len, 0, &je);
		aidc_buf_release(&c.reply);
		if (doc)
			sr_holder_take(json_object_get(doc, "steps"), r, node, h, &nh);
		json_t *rel = json_object_get(doc, "release"); /* salloc's command exited */
		if (node == 0 && json_is_integer(rel)) {
			int code = (int)json_integer_value(rel);
			json_decref(doc);
			aidc_free(r);
			return code; /* the job ends as a script exiting so would */
		}
		json_decref(doc);
		sr_holder_reap(r, node, h, &nh);
		poll(NULL, 0, SRUN_POLL_MS);
	}
	return CLI_EXIT_OK; /* not reached */
}

/* srun outside any allocation makes one (cli_srun_alloc.c). The options are
 * checked first; the allocation's own are not refused then. */
static int sr_outside(struct sr_opts *o, const struct cli_flag *f, size_t nf, int vc, char **v,
		      char **command)
{
	for (size_t i = 0; i < AIDC_ARRAY_LEN(sr_refused); i++)
		if (cli_srun_alloc_option(sr_refused[i].name))
			o->refused[i].given = false;
	if (cli_slurm_refuse("srun", sr_refused, o->refused, AIDC_ARRAY_LEN(sr_refused),
			     "; nothing was allocated"))
		return CLI_EXIT_USAGE;
	int rc = sr_check_opts(o);
	return rc ? rc : cli_srun_allocate(f, nf, vc, v, command);
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
	    "the job's SLURM_NTASKS) on the job's first -N nodes (default: all), each with "
	    "Slurm's step environment "
	    "(SLURM_PROCID, SLURM_LOCALID, SLURM_NODEID, SLURM_STEP_ID, ...) and RANK, "
	    "LOCAL_RANK, WORLD_SIZE for the step; waits for them and exits with the highest "
	    "exit code (128 + signal for a killed task). Installed as 'srun' first on a batch "
	    "job's PATH; options with no meaning here are refused naming them (docs/slurm.md). "
	    "Outside any job (no SLURM_JOB_ID) srun makes the allocation with the allocation's "
	    "options and runs the step in it, as salloc running srun.",
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
	else if (!rc && cli_srun_outside())
		rc = sr_outside(&o, flags, nflags, vc, v, command);
	else if (!rc && (rc = sr_job_env(&j)) == 0 && (rc = sr_check(&o, &j, &limit_s)) == 0)
		rc = sr_run(&o, &j, command, limit_s);
	aidc_hostlist_free(j.hosts, j.nhosts);
	aidc_free(v);
	aidc_free(flags);
	return rc;
}
