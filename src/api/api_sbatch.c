/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sbatch's options: the table of every option and its status here, the
 * parser of "#SBATCH" / "#AIDC" directives (read from the comment block at
 * the top of a script, up to the first command, as sbatch does), one
 * option's application (shared with `aidc sbatch`'s command line), the
 * resolution into a one-node batch job and the -o/-e patterns. Never silent:
 * an option is applied with Slurm's meaning, accepted with a warning when it
 * changes nothing here, or refused naming it and why (docs/slurm.md).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api.h"
#include "api/sbatch.h"
#include "util/arrayset.h"
#include "util/hostlist.h"
#include "util/util.h"

/* Which field an applied option sets (api_sbatch_opt.id). */
enum {
	O_NONE = 0,
	O_ACCOUNT,
	O_ARRAY,
	O_BEGIN,
	O_CHDIR,
	O_CPUS_PER_GPU,
	O_CPUS_PER_TASK,
	O_ERROR,
	O_EXPORT,
	O_GPUS,
	O_GPUS_PER_NODE,
	O_GPUS_PER_TASK,
	O_GRES,
	O_HELP,
	O_HOLD,
	O_DEPENDENCY,
	O_IGNORE_PBS,
	O_KILL_INVALID_DEP,
	O_SIGNAL,
	O_JOB_NAME,
	O_MEM,
	O_MEM_PER_CPU,
	O_MEM_PER_GPU,
	O_MINCPUS,
	O_NICE,
	O_NO_REQUEUE,
	O_NODES,
	O_NTASKS,
	O_NTASKS_PER_NODE,
	O_OPEN_MODE,
	O_OUTPUT,
	O_PARSABLE,
	O_PARTITION,
	O_PREEMPTIBLE,
	O_PRIORITY,
	O_QOS,
	O_QUIET,
	O_REQUEUE,
	O_TEST_ONLY,
	O_TIME,
	O_USAGE,
	O_USE_MIN_NODES,
	O_VERBOSE,
	O_VERSION,
	O_WAIT,
	O_WRAP,
	O_EXCLUSIVE,
	O_NODELIST,
	O_EXCLUDE,
	O_NODEFILE,
	O_CONSTRAINT,
};

#define A   API_SB_APPLIED
#define W   API_SB_WARNED
#define R   API_SB_REFUSED
#define NO  API_SB_NOARG
#define ARG API_SB_ARG
#define OPT API_SB_OPTARG

/* Reasons shared by several rows. */
#define WHY_TOPOLOGY "node placement is the scheduler's policy here (switch and segment "         \
	"topology are not requested per job)"
#define WHY_CPU_LAYOUT                                                                             \
	"CPU layout (sockets, cores, threads) is not modelled by the scheduler; ask for CPUs "     \
	"with -c/-n"
#define WHY_NO_FEATURES                                                                            \
	"nodes declare no features here beyond their device model (-C MODEL selects one)"
#define WHY_ACCT	"accounting options are not collected; the job runs the same"

const struct api_sbatch_opt api_sbatch_opts[] = {
    {"account", 'A', ARG, A, O_ACCOUNT, "the account charged (docs/tenancy.md)"},
    {"acctg-freq", 0, ARG, W, 0, WHY_ACCT},
    {"array", 'a', ARG, A, O_ARRAY,
     "a job array: A-B[:S] and N items joined by ',', then %LIMIT (elements running at "
     "once); each element is a job with SLURM_ARRAY_* (docs/slurm.md)"},
    {"batch", 0, ARG, R, 0, WHY_NO_FEATURES},
    {"bb", 0, ARG, R, 0, "burst buffers do not exist here"},
    {"bbf", 0, ARG, R, 0, "burst buffers do not exist here"},
    {"begin", 'b', ARG, A, O_BEGIN,
     "not started before: now[+N[seconds|minutes|hours|days|weeks]], "
     "YYYY-MM-DD[THH:MM[:SS]], HH:MM[:SS] (next), today, tomorrow, midnight, noon; "
     "pending reason BeginTime"},
    {"chdir", 'D', ARG, A, O_CHDIR,
     "the job's working directory (relative: to the submit directory)"},
    {"cluster-constraint", 0, ARG, R, 0, "federated clusters do not exist here"},
    {"clusters", 'M', ARG, R, 0, "federated clusters do not exist here"},
    {"comment", 0, ARG, W, 0, "the comment is not stored"},
    {"constraint", 'C', ARG, A, O_CONSTRAINT,
     "a device model (h100, A100: any case) as the GPUs' type; other features and "
     "expressions (&, OR, [...], *N, !) are refused"},
    {"container", 0, ARG, R, 0, "OCI containers are not implemented yet"},
    {"container-id", 0, ARG, R, 0, "OCI containers are not implemented yet"},
    {"contiguous", 0, NO, R, 0, WHY_TOPOLOGY},
    {"core-spec", 'S', ARG, R, 0, WHY_CPU_LAYOUT},
    {"cores-per-socket", 0, ARG, R, 0, WHY_CPU_LAYOUT},
    {"cpu-freq", 0, ARG, R, 0, "CPU frequency control is not implemented"},
    {"cpus-per-gpu", 0, ARG, A, O_CPUS_PER_GPU, "CPUs per allocated GPU"},
    {"cpus-per-task", 'c', ARG, A, O_CPUS_PER_TASK, "CPUs per task (a node gets its tasks x this)"},
    {"deadline", 0, ARG, R, 0, "deadlines are not implemented"},
    {"delay-boot", 0, ARG, R, 0, "node reboots are not managed here"},
    {"dependency", 'd', ARG, A, O_DEPENDENCY,
     "after[ok|notok|any|corr]:ID[:ID...] or singleton, joined by ',' (all) or '?' (any): "
     "pending (reason dependency) until they hold; aftercorr: element i after element i"},
    {"distribution", 'm', ARG, R, 0,
     "tasks are laid out in blocks (Slurm's default): srun numbers them node by node"},
    {"error", 'e', ARG, A, O_ERROR, "stderr file pattern (default: the -o file)"},
    {"exclude", 'x', ARG, A, O_EXCLUDE,
     "HOSTLIST (n[1-3],gpu7) or a file of names (a value with a '/'): nodes the job never "
     "uses; unknown names are refused"},
    {"exclusive", 0, OPT, A, O_EXCLUSIVE,
     "whole nodes: starts only on nodes running no other job, and none shares them while it "
     "runs (pending reason Resources until then); =user, =mcs and =topo are refused"},
    {"export", 0, ARG, A, O_EXPORT, "ALL (default), NONE, or [ALL,]VAR[=VALUE],..."},
    {"export-file", 0, ARG, R, 0, "not implemented; use --export"},
    {"extra", 0, ARG, R, 0, WHY_NO_FEATURES},
    {"extra-node-info", 'B', ARG, R, 0, WHY_CPU_LAYOUT},
    {"get-user-env", 0, OPT, R, 0,
     "the job gets the submitter's environment (--export) and the agent's login basics, not a "
     "login shell's"},
    {"gid", 0, ARG, R, 0, "jobs run as the submitting user"},
    {"gpu-bind", 0, ARG, R, 0, "GPU binding is srun's: srun --gpus-per-task"},
    {"gpu-freq", 0, ARG, R, 0, "GPU frequency control is not implemented"},
    {"gpus", 'G', ARG, A, O_GPUS, "[type:]N GPUs of the job, the same number on each node"},
    {"gpus-per-node", 0, ARG, A, O_GPUS_PER_NODE, "[type:]N GPUs on each node"},
    {"gpus-per-socket", 0, ARG, R, 0, WHY_CPU_LAYOUT},
    {"gpus-per-task", 0, ARG, A, O_GPUS_PER_TASK,
     "[type:]N GPUs per task (a node gets its tasks x this)"},
    {"gres", 0, ARG, A, O_GRES,
     "gpu[:type]:N per node, or mps[:type]:N: N% of one device (a share, N 1..100, one "
     "node); other resources are refused"},
    {"gres-flags", 0, ARG, R, 0, "GRES binding flags are not implemented"},
    {"help", 'h', NO, A, O_HELP, "prints the usage"},
    {"hint", 0, ARG, R, 0, WHY_CPU_LAYOUT},
    {"hold", 'H', NO, A, O_HOLD,
     "submitted held: pending with reason 'held', never started until `aidc release ID`"},
    {"ignore-pbs", 0, NO, A, O_IGNORE_PBS,
     "#PBS directives are never read here; without it, a script that has them gets a warning"},
    {"input", 'i', ARG, R, 0,
     "the batch script's stdin is /dev/null; other inputs are not implemented"},
    {"job-name", 'J', ARG, A, O_JOB_NAME, "job name (default: the script's file name)"},
    {"kill-on-invalid-dep", 0, ARG, A, O_KILL_INVALID_DEP,
     "yes|no: yes cancels a job whose dependency can never hold; no (default) leaves it "
     "pending with reason DependencyNeverSatisfied"},
    {"licenses", 'L', ARG, R, 0, "licenses are not managed here"},
    {"mail-type", 0, ARG, W, 0, "no mail command is configured; no mail is sent"},
    {"mail-user", 0, ARG, W, 0, "no mail command is configured; no mail is sent"},
    {"mcs-label", 0, ARG, R, 0, "MCS labels are not implemented"},
    {"mem", 0, ARG, A, O_MEM,
     "memory per node (K/M/G/T suffixes, MiB by default); 0: all of the node's (the job "
     "then has the node to itself, as --exclusive)"},
    {"mem-bind", 0, ARG, R, 0, "memory binding is not implemented"},
    {"mem-per-cpu", 0, ARG, A, O_MEM_PER_CPU, "memory per allocated CPU"},
    {"mem-per-gpu", 0, ARG, A, O_MEM_PER_GPU, "memory per allocated GPU"},
    {"mincpus", 0, ARG, A, O_MINCPUS, "at least this many CPUs on each node"},
    {"network", 0, ARG, R, 0, "network (switch) options are not implemented"},
    {"nice", 0, OPT, A, O_NICE,
     "lowers the priority by N (default 100); raising it needs an admin"},
    {"no-kill", 'k', OPT, R, 0,
     "a failed node ends the whole job here (--requeue requeues it); keeping the rest is "
     "not implemented"},
    {"no-requeue", 0, NO, A, O_NO_REQUEUE, "a node failure fails the job (on_node_failure=fail)"},
    {"nodefile", 'F', ARG, A, O_NODEFILE,
     "a file of node names (lines or commas), read as --nodelist"},
    {"nodelist", 'w', ARG, A, O_NODELIST,
     "HOSTLIST or a file of names (a value with a '/'): the job runs on these nodes, all of "
     "them (the node count is theirs); unknown names are refused"},
    {"nodes", 'N', ARG, A, O_NODES,
     "MIN[-MAX] nodes (default 1; a range gets MIN); the script runs on the first, srun "
     "steps on all"},
    {"ntasks", 'n', ARG, A, O_NTASKS, "tasks (default one per node), in blocks over the nodes; the script runs once"},
    {"ntasks-per-core", 0, ARG, R, 0, WHY_CPU_LAYOUT},
    {"ntasks-per-gpu", 0, ARG, R, 0, "not implemented; use --gpus-per-task"},
    {"ntasks-per-node", 0, ARG, A, O_NTASKS_PER_NODE, "tasks on each node (at most); without -N it sets the node count"},
    {"ntasks-per-socket", 0, ARG, R, 0, WHY_CPU_LAYOUT},
    {"oom-kill-step", 0, OPT, R, 0, "step memory limits are not implemented (the job's limit applies)"},
    {"open-mode", 0, ARG, A, O_OPEN_MODE, "truncate (what the agent does); append is refused"},
    {"output", 'o', ARG, A, O_OUTPUT,
     "stdout file pattern (%x %j %u %N %n %t %%; default slurm-%j.out)"},
    {"overcommit", 'O', NO, R, 0, "CPUs are never overcommitted here"},
    {"oversubscribe", 's', NO, R, 0, "node sharing is the scheduler's policy, not per job"},
    {"parsable", 0, NO, A, O_PARSABLE, "prints only the job id"},
    {"partition", 'p', ARG, A, O_PARTITION, "the partition"},
    {"power", 0, ARG, R, 0, "power management is not per job here"},
    {"preemptible", 0, NO, A, O_PREEMPTIBLE, "aidc's own (#AIDC): may be preempted and requeued"},
    {"prefer", 0, ARG, R, 0, WHY_NO_FEATURES},
    {"priority", 0, ARG, A, O_PRIORITY, "the job's priority (users may only lower it)"},
    {"profile", 0, ARG, W, 0, WHY_ACCT},
    {"propagate", 0, OPT, R, 0, "resource limits are not propagated from the submit shell"},
    {"qos", 'q', ARG, A, O_QOS, "the quality of service (docs/tenancy.md)"},
    {"quiet", 'Q', NO, A, O_QUIET, "no warnings"},
    {"reboot", 0, NO, R, 0, "node reboots are not managed here"},
    {"requeue", 0, NO, A, O_REQUEUE, "a node failure requeues the job (on_node_failure=requeue)"},
    {"reservation", 0, ARG, R, 0, "reservations are not implemented"},
    {"segment", 0, ARG, R, 0, WHY_TOPOLOGY},
    {"signal", 0, ARG, A, O_SIGNAL,
     "[B:]SIG[@SECONDS]: SIG (name or number) SECONDS (default 60) before the time limit: to "
     "the batch script with B:, else to its other processes (srun's tasks)"},
    {"sockets-per-node", 0, ARG, R, 0, WHY_CPU_LAYOUT},
    {"spread-job", 0, NO, R, 0, WHY_TOPOLOGY},
    {"switches", 0, ARG, R, 0, WHY_TOPOLOGY},
    {"test-only", 0, NO, A, O_TEST_ONLY,
     "validates and prints the job that would be submitted; submits nothing"},
    {"thread-spec", 0, ARG, R, 0, WHY_CPU_LAYOUT},
    {"threads-per-core", 0, ARG, R, 0, WHY_CPU_LAYOUT},
    {"time", 't', ARG, A, O_TIME, "time limit: MIN, M:S, H:M:S, D-H, D-H:M, D-H:M:S, UNLIMITED"},
    {"time-min", 0, ARG, R, 0, "flexible time limits are not implemented"},
    {"tmp", 0, ARG, R, 0, "temporary disk is not a scheduled resource here"},
    {"tres-bind", 0, ARG, R, 0, "binding is srun's: srun --gpus-per-task"},
    {"tres-per-task", 0, ARG, R, 0, "not implemented; use -c and --gpus-per-task"},
    {"uid", 0, ARG, R, 0, "jobs run as the submitting user"},
    {"usage", 0, NO, A, O_USAGE, "prints the usage"},
    {"use-min-nodes", 0, NO, A, O_USE_MIN_NODES, "always so here (-N MIN-MAX gets MIN)"},
    {"verbose", 'v', NO, A, O_VERBOSE, "prints the resolved job on stderr"},
    {"version", 'V', NO, A, O_VERSION, "prints the version"},
    {"wait", 'W', NO, A, O_WAIT,
     "waits for the job to end; exits with its exit code (1 if it failed without one)"},
    {"wait-all-nodes", 0, ARG, W, 0, "nodes are up when a job starts here"},
    {"wckey", 0, ARG, W, 0, WHY_ACCT},
    {"wrap", 0, ARG, A, O_WRAP, "the script is \"#!/bin/sh\" and this command"},
};
const size_t api_sbatch_nopts = AIDC_ARRAY_LEN(api_sbatch_opts);

#undef A
#undef W
#undef R
#undef NO
#undef ARG
#undef OPT

_Static_assert(AIDC_ARRAY_LEN(api_sbatch_opts) <= sizeof(((struct api_sbatch *)0)->seen),
	       "api_sbatch.seen must have a slot per option");

const struct api_sbatch_opt *api_sbatch_find(const char *opt)
{
	if (!opt)
		return NULL;
	if (opt[0] == '-' && opt[1] && opt[1] != '-' && !opt[2]) {
		for (size_t i = 0; i < api_sbatch_nopts; i++)
			if (api_sbatch_opts[i].shortopt == opt[1])
				return &api_sbatch_opts[i];
		return NULL;
	}
	if (!strncmp(opt, "--", 2))
		opt += 2;
	for (size_t i = 0; i < api_sbatch_nopts; i++)
		if (!strcmp(api_sbatch_opts[i].name, opt))
			return &api_sbatch_opts[i];
	return NULL;
}

int api_parse_time_limit(const char *v, int64_t *out_s)
{
	if (!v)
		return AIDC_E_PARSE;
	if (!strcasecmp(v, "UNLIMITED") || !strcasecmp(v, "INFINITE")) {
		*out_s = 0;
		return 0;
	}
	size_t n = strlen(v);
	if (n > 0 && strspn(v, "0123456789") == n) {
		int64_t min;
		if (aidc_parse_i64(v, 0, AIDC_MAX_DURATION_S / 60, &min))
			return AIDC_E_LIMIT;
		*out_s = min * 60;
		return 0;
	}
	return aidc_parse_duration(v, out_s);
}

static int set_int(const char *opt, const char *v, int64_t lo, int64_t hi, int64_t *dst,
		   struct aidc_err *e)
{
	if (!v || aidc_parse_i64(v, lo, hi, dst))
		return aidc_errf(e, AIDC_E_INVAL,
				 "%s: expected an integer in %" PRId64 "..%" PRId64, opt, lo, hi);
	return 0;
}

static int set_str(const char *opt, const char *v, char *dst, size_t n, struct aidc_err *e)
{
	if (!v || !*v)
		return aidc_errf(e, AIDC_E_INVAL, "%s: needs a value", opt);
	if (strlen(v) >= n)
		return aidc_errf(e, AIDC_E_LIMIT, "%s: value longer than %zu bytes", opt, n - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* "[type:]N" of --gpus, --gpus-per-node, --gpus-per-task; the type is kept
 * in gpu_model (one type per job: a second, different one is refused). */
static int set_typed_count(struct api_sbatch *s, const char *opt, const char *v, int64_t hi,
			   int64_t *dst, struct aidc_err *e)
{
	if (!v || !*v)
		return aidc_errf(e, AIDC_E_INVAL, "%s: needs [type:]N", opt);
	const char *colon = strrchr(v, ':');
	if (set_int(opt, colon ? colon + 1 : v, 0, hi, dst, e))
		return AIDC_E_INVAL;
	if (!colon)
		return 0;
	const char *type = v;
	size_t n = (size_t)(colon - v);
	if (n > 4 && !strncmp(v, "gpu:", 4)) { /* gpu:type:N, as some sites write it */
		type += 4;
		n -= 4;
	}
	if (n == 0 || memchr(type, ':', n))
		return aidc_errf(e, AIDC_E_INVAL, "%s: '%.64s': expected [type:]N", opt, v);
	if (n >= sizeof s->gpu_model)
		return aidc_errf(e, AIDC_E_LIMIT, "%s: GPU type name too long", opt);
	if (s->gpu_model[0] && (strlen(s->gpu_model) != n || strncasecmp(s->gpu_model, type, n)))
		return aidc_errf(e, AIDC_E_UNSUPPORTED,
				 "%s: GPU type '%.*s' differs from '%s' given before (one type per "
				 "job)",
				 opt, (int)n, type, s->gpu_model);
	memcpy(s->gpu_model, type, n);
	s->gpu_model[n] = '\0';
	return 0;
}

/* gpu[:type][:N] of --gres (per node). */
static int parse_gres_gpu(const char *v, struct api_sbatch *s, struct aidc_err *e)
{
	s->gres_gpu = true;
	if (!v[3]) {
		s->gpus_per_node = 1;
		return 0;
	}
	const char *rest = v + 4;
	/* gpu:N, gpu:type:N, or gpu:type (1) */
	if (!strchr(rest, ':') && strspn(rest, "0123456789") != strlen(rest)) {
		char buf[AIDC_MAX_NAME_BYTES + 4];
		snprintf(buf, sizeof buf, "%.*s:1", (int)(sizeof buf - 4), rest);
		return set_typed_count(s, "--gres", buf, AIDC_MAX_DEVICES_PER_NODE,
				       &s->gpus_per_node, e);
	}
	return set_typed_count(s, "--gres", rest, AIDC_MAX_DEVICES_PER_NODE, &s->gpus_per_node, e);
}

/* mps[:type]:N of --gres: Slurm's MPS count, 100 per GPU, so N percent of
 * one device: a device share of N x 10 milli (docs/slurm.md "Device
 * shares"). One device only: N above 100 would spread over devices. */
static int parse_gres_mps(const char *v, struct api_sbatch *s, struct aidc_err *e)
{
	if (!v[3])
		return aidc_errf(e, AIDC_E_INVAL,
				 "--gres=mps: give a count, mps:N (N percent of one device, "
				 "1..100)");
	const char *colon = strrchr(v, ':');
	int64_t n;
	if (aidc_parse_i64(colon + 1, 1, 100, &n))
		return aidc_errf(e, AIDC_E_INVAL,
				 "--gres=%.64s: N of mps:N is a percent of one device, 1..100 "
				 "(100 = the whole device; a share never spans devices)",
				 v);
	int64_t unused;
	int rc = colon != v + 3 ? set_typed_count(s, "--gres=mps", v + 4, 100, &unused, e) : 0;
	if (rc)
		return rc;
	s->mps = n;
	return 0;
}

/* --gres=ITEM[,ITEM]: gpu[:type][:N] (per node) or mps[:type]:N (a share of
 * one device); a later --gres replaces an earlier one (the command line
 * wins over directives); other GRES are refused. */
static int parse_gres(const char *v, struct api_sbatch *s, struct aidc_err *e)
{
	if (!v || !*v)
		return aidc_errf(e, AIDC_E_INVAL, "--gres: needs a value");
	if (s->gres_gpu)
		s->gpus_per_node = 0;
	s->gres_gpu = false;
	s->mps = 0;
	char buf[AIDC_MAX_ARG_BYTES];
	if (strlen(v) >= sizeof buf)
		return aidc_errf(e, AIDC_E_LIMIT, "--gres: value longer than %zu bytes",
				 sizeof buf - 1);
	memcpy(buf, v, strlen(v) + 1);
	bool gpu = false, mps = false;
	char *save = NULL;
	for (char *it = strtok_r(buf, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
		bool is_gpu = !strncmp(it, "gpu", 3) && (!it[3] || it[3] == ':');
		bool is_mps = !strncmp(it, "mps", 3) && (!it[3] || it[3] == ':');
		if (!is_gpu && !is_mps)
			return aidc_errf(
			    e, AIDC_E_UNSUPPORTED,
			    "--gres=%.64s: '%.32s': only gpu[:type][:N] and "
			    "mps[:type]:N are supported (other GRES do not exist here)",
			    v, it);
		if ((is_gpu && gpu) || (is_mps && mps))
			return aidc_errf(e, AIDC_E_INVAL, "--gres=%.64s: %.3s given twice", v, it);
		gpu |= is_gpu;
		mps |= is_mps;
		int rc = is_gpu ? parse_gres_gpu(it, s, e) : parse_gres_mps(it, s, e);
		if (rc)
			return rc;
	}
	if (!gpu && !mps)
		return aidc_errf(e, AIDC_E_INVAL, "--gres=%.64s: names no resource", v);
	return 0;
}

/* A Slurm size: digits and an optional K/M/G/T (binary, MiB by default). */
static int parse_mem(const char *opt, const char *v, int64_t *out_mib, struct aidc_err *e)
{
	if (!v)
		return aidc_errf(e, AIDC_E_INVAL, "%s: needs a value", opt);
	char num[32];
	size_t n = strspn(v, "0123456789");
	if (n == 0 || n >= sizeof num)
		return aidc_errf(e, AIDC_E_INVAL, "%s: bad size '%.32s'", opt, v);
	memcpy(num, v, n);
	num[n] = '\0';
	int64_t x;
	if (aidc_parse_i64(num, 0, (int64_t)AIDC_MAX_NODE_MEM_MIB * 1024, &x))
		return aidc_errf(e, AIDC_E_INVAL, "%s: '%.32s' is too large", opt, v);
	const char *u = v + n;
	if (*u == 'K' || *u == 'k') {
		*out_mib = (x + 1023) / 1024;
		u++;
	} else {
		int64_t mul = (!*u || *u == 'M' || *u == 'm') ? 1
			      : (*u == 'G' || *u == 'g')      ? 1024
			      : (*u == 'T' || *u == 't')      ? 1024 * 1024
							      : 0;
		if (!mul)
			return aidc_errf(e, AIDC_E_INVAL, "%s: bad size '%.32s' (K, M, G or T)",
					 opt, v);
		if (x > (int64_t)AIDC_MAX_NODE_MEM_MIB / mul)
			return aidc_errf(e, AIDC_E_INVAL, "%s: '%.32s' is more than %u MiB", opt, v,
					 (unsigned)AIDC_MAX_NODE_MEM_MIB);
		*out_mib = x * mul;
		u += *u != '\0';
	}
	if (*u == 'B' || *u == 'b')
		u++;
	if (*u)
		return aidc_errf(e, AIDC_E_INVAL, "%s: bad size '%.32s' (K, M, G or T)", opt, v);
	return 0;
}

/* -N MIN[-MAX] */
static int parse_nodes(struct api_sbatch *s, const char *opt, const char *v, struct aidc_err *e)
{
	if (!v)
		return aidc_errf(e, AIDC_E_INVAL, "%s: needs MIN[-MAX]", opt);
	char buf[64];
	if (strlen(v) >= sizeof buf)
		return aidc_errf(e, AIDC_E_INVAL, "%s: expected MIN[-MAX]", opt);
	memcpy(buf, v, strlen(v) + 1);
	char *dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (set_int(opt, buf, 1, AIDC_MAX_NODES, &s->nodes, e))
		return AIDC_E_INVAL;
	s->nodes_max = s->nodes;
	if (dash && aidc_parse_i64(dash + 1, s->nodes, AIDC_MAX_NODES, &s->nodes_max))
		return aidc_errf(e, AIDC_E_INVAL,
				 "%s: '%.32s': expected MIN[-MAX] with MIN <= MAX <= %u", opt, v,
				 (unsigned)AIDC_MAX_NODES);
	return 0;
}

/* ---- --begin ------------------------------------------------------------------ */

#define BEGIN_FORMS                                                                                \
	"now[+N[seconds|minutes|hours|days|weeks]], YYYY-MM-DD[THH:MM[:SS]], HH:MM[:SS], "        \
	"today, tomorrow, midnight, noon"

/* Local time y-m-d h:m:s as Unix seconds; -1 when it is not a real time. */
static int64_t local_time(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
			.tm_min = mi, .tm_sec = s, .tm_isdst = -1};
	time_t t = mktime(&tm);
	if (t == (time_t)-1 || tm.tm_year != y - 1900 || tm.tm_mon != mo - 1 || tm.tm_mday != d)
		return -1; /* mktime normalized it: Feb 30 and the like */
	return (int64_t)t;
}

/* Hour h of day d (normalized: d may be the day after the month's last). */
static int64_t local_day(int y, int mo, int d, int h)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
			.tm_isdst = -1};
	return (int64_t)mktime(&tm);
}

/* "now+N[unit]" (after "now+"). */
static int begin_delta(const char *p, int64_t now_s, int64_t *out_s, struct aidc_err *e)
{
	static const struct {
		const char *unit;
		int64_t s;
	} units[] = {{"", 1},	       {"second", 1},	 {"seconds", 1},   {"minute", 60},
		     {"minutes", 60},  {"hour", 3600},	 {"hours", 3600},  {"day", 86400},
		     {"days", 86400},  {"week", 604800}, {"weeks", 604800}};
	size_t nd = strspn(p, "0123456789");
	char num[16];
	int64_t n;
	if (nd == 0 || nd >= sizeof num)
		return aidc_errf(e, AIDC_E_INVAL, "--begin: 'now+%.32s': a count of units after now+",
				 p);
	memcpy(num, p, nd);
	num[nd] = '\0';
	if (aidc_parse_i64(num, 0, AIDC_MAX_DURATION_S, &n) != 0)
		n = AIDC_MAX_DURATION_S + 1; /* refused below as too far ahead */
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (!strcasecmp(p + nd, units[i].unit)) {
			if (n * units[i].s > AIDC_MAX_DURATION_S)
				return aidc_errf(e, AIDC_E_LIMIT, "--begin: now+%.32s is more than "
								  "%lld seconds ahead", p,
						 (long long)AIDC_MAX_DURATION_S);
			*out_s = now_s + n * units[i].s;
			return 0;
		}
	return aidc_errf(e, AIDC_E_INVAL,
			 "--begin: '%.32s' is not a unit (seconds, minutes, hours, days, weeks)",
			 p + nd);
}

/* Named times: 1 when v is one (*out_s set), 0 when not, <0 refused. */
static int begin_word(const char *v, int64_t now_s, int64_t *out_s, struct aidc_err *e)
{
	time_t now = (time_t)now_s;
	struct tm t;
	localtime_r(&now, &t);
	int y = t.tm_year + 1900, mo = t.tm_mon + 1, d = t.tm_mday;
	if (!strcasecmp(v, "now"))
		*out_s = now_s;
	else if (!strcasecmp(v, "today"))
		*out_s = local_day(y, mo, d, 0);
	else if (!strcasecmp(v, "tomorrow") || !strcasecmp(v, "midnight"))
		*out_s = local_day(y, mo, d + 1, 0);
	else if (!strcasecmp(v, "noon"))
		*out_s = local_day(y, mo, d + (t.tm_hour >= 12), 12);
	else if (!strcasecmp(v, "elevenses") || !strcasecmp(v, "fika") ||
		 !strcasecmp(v, "teatime"))
		return aidc_errf(e, AIDC_E_UNSUPPORTED,
				 "--begin: '%s' is not supported here (supported: " BEGIN_FORMS ")",
				 v);
	else
		return 0;
	return 1;
}

/* "HH:MM[:SS]" at p: 0 and the fields, or -1. */
static int clock_time(const char *p, int *h, int *mi, int *sec)
{
	int n = 0;
	*sec = 0;
	if (sscanf(p, "%2d:%2d%n", h, mi, &n) != 2 || n != 5)
		return -1;
	if (p[n] == ':') {
		int m2 = 0;
		if (sscanf(p + n, ":%2d%n", sec, &m2) != 1 || m2 != 3)
			return -1;
		n += m2;
	}
	if (p[n] || *h > 23 || *mi > 59 || *sec > 59 || *h < 0 || *mi < 0 || *sec < 0)
		return -1;
	return 0;
}

int api_parse_begin(const char *v, int64_t now_s, int64_t *out_s, struct aidc_err *e)
{
	if (!v || !*v)
		return aidc_errf(e, AIDC_E_INVAL, "--begin: empty (" BEGIN_FORMS ")");
	if (strlen(v) > 40)
		return aidc_errf(e, AIDC_E_INVAL, "--begin: '%.40s...' is too long", v);
	int rc = begin_word(v, now_s, out_s, e);
	if (rc)
		return rc < 0 ? rc : 0;
	if (!strncasecmp(v, "now+", 4))
		return begin_delta(v + 4, now_s, out_s, e);
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
	if (sscanf(v, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && n == 10 &&
	    (!v[10] || (v[10] == 'T' && clock_time(v + 11, &h, &mi, &sec) == 0))) {
		if (y < 1970 || (*out_s = local_time(y, mo, d, h, mi, sec)) < 0)
			return aidc_errf(e, AIDC_E_INVAL, "--begin: '%s' is not a date", v);
		return 0;
	}
	if (clock_time(v, &h, &mi, &sec) == 0) {
		time_t now = (time_t)now_s;
		struct tm t;
		localtime_r(&now, &t);
		/* as Slurm: today when that time is still ahead, else tomorrow */
		bool ahead = h > t.tm_hour || (h == t.tm_hour && mi > t.tm_min);
		struct tm at = {.tm_year = t.tm_year, .tm_mon = t.tm_mon,
				.tm_mday = t.tm_mday + !ahead, .tm_hour = h, .tm_min = mi,
				.tm_sec = sec, .tm_isdst = -1};
		*out_s = (int64_t)mktime(&at);
		return 0;
	}
	if (strpbrk(v, "/. ") || strspn(v, "0123456789") == strlen(v) || strcasestr(v, "am") ||
	    strcasestr(v, "pm"))
		return aidc_errf(e, AIDC_E_UNSUPPORTED,
				 "--begin: '%s': Slurm's MM/DD[/YY], MM.DD[.YY], MMDD[YY], AM/PM "
				 "and 'TIME DATE' forms are not supported here (supported: "
				 BEGIN_FORMS ")", v);
	return aidc_errf(e, AIDC_E_INVAL, "--begin: '%s' is not a time (" BEGIN_FORMS ")", v);
}

/* The options without a value. */
static int apply_flag(struct api_sbatch *s, const struct api_sbatch_opt *o, const char *opt,
		      struct aidc_err *e)
{
	switch (o->id) {
	case O_IGNORE_PBS:
		s->ignore_pbs = true;
		return 0;
	case O_NO_REQUEUE:
		s->requeue = -1;
		return 0;
	case O_REQUEUE:
		s->requeue = 1;
		return 0;
	case O_PARSABLE:
		s->parsable = true;
		return 0;
	case O_PREEMPTIBLE:
		s->preemptible = true;
		return 0;
	case O_QUIET:
		s->quiet = true;
		return 0;
	case O_TEST_ONLY:
		s->test_only = true;
		return 0;
	case O_USE_MIN_NODES:
		s->use_min_nodes = true;
		return 0;
	case O_VERBOSE:
		s->verbose++;
		return 0;
	case O_WAIT:
		s->wait = true;
		return 0;
	case O_HOLD:
		s->hold = true;
		return 0;
	case O_HELP:
	case O_USAGE:
	case O_VERSION:
		return aidc_errf(e, AIDC_E_INVAL, "%s: only on the command line", opt);
	default:
		return aidc_errf(e, AIDC_E_INTERNAL, "%s: no handler", opt);
	}
}

int api_signal_number(const char *name)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {{"HUP", SIGHUP},   {"INT", SIGINT},	  {"QUIT", SIGQUIT}, {"ABRT", SIGABRT},
		    {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},
		    {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"CONT", SIGCONT}, {"STOP", SIGSTOP},
		    {"TSTP", SIGTSTP}, {"URG", SIGURG},	  {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
		    {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}};
	int64_t n;
	if (strspn(name, "0123456789") == strlen(name) && *name)
		return aidc_parse_i64(name, 1, SIGRTMAX, &n) ? -1 : (int)n;
	if (!strncasecmp(name, "SIG", 3))
		name += 3;
	for (size_t i = 0; i < AIDC_ARRAY_LEN(sigs); i++)
		if (!strcasecmp(name, sigs[i].name))
			return sigs[i].sig;
	return -1;
}

int api_parse_signal_opt(const char *v, int64_t *sig, int64_t *before_s, bool *batch,
			 struct aidc_err *e)
{
	char buf[64];
	if (!v || strlen(v) >= sizeof buf)
		return aidc_errf(e, AIDC_E_INVAL, "--signal: give [B:]SIG[@SECONDS]");
	snprintf(buf, sizeof buf, "%s", v);
	char *p = buf, *at = strchr(buf, '@');
	*batch = false;
	if (!strncmp(p, "B:", 2)) {
		*batch = true;
		p += 2;
	} else if (!strncmp(p, "R:", 2)) {
		return aidc_errf(e, AIDC_E_UNSUPPORTED,
				 "--signal=%s: R: (at a reservation's end) is not supported: "
				 "reservations are not implemented",
				 v);
	}
	*before_s = 60;
	if (at) {
		*at++ = '\0';
		if (!*at || strspn(at, "0123456789") != strlen(at) ||
		    aidc_parse_i64(at, 0, 65535, before_s))
			return aidc_errf(e, AIDC_E_INVAL,
					 "--signal=%s: '@%s' is not a number of seconds (0..65535)", v,
					 at);
	}
	int n = api_signal_number(p);
	if (n <= 0)
		return aidc_errf(e, AIDC_E_INVAL,
				 "--signal=%s: '%s' is not a signal (a name such as USR1 or "
				 "SIGUSR1, or a number)",
				 v, p);
	*sig = n;
	return 0;
}

const char *api_dep_type_name(int type)
{
	static const char *const names[] = {"?",	"afterok", "afternotok", "afterany",
					    "after", "singleton", "aftercorr"};
	return type > 0 && type <= API_DEP_AFTERCORR ? names[type] : "?";
}

/* One job id of a dependency item, with after's "+MINUTES" (len bytes at q). */
static int parse_dep_id(const char *q, size_t len, int type, struct api_dep *d, struct aidc_err *e)
{
	char buf[40];
	if (len == 0 || len >= sizeof buf)
		return aidc_errf(e, AIDC_E_INVAL, "--dependency: empty or overlong job id");
	memcpy(buf, q, len);
	buf[len] = '\0';
	char *plus = strchr(buf, '+');
	int64_t id, min = 0;
	if (plus) {
		*plus++ = '\0';
		if (type != API_DEP_AFTER)
			return aidc_errf(e, AIDC_E_INVAL,
					 "--dependency: '+TIME' is only for after (%s:%s+%s)",
					 api_dep_type_name(type), buf, plus);
		if (!*plus || strspn(plus, "0123456789") != strlen(plus) ||
		    aidc_parse_i64(plus, 0, AIDC_MAX_DURATION_S / 60, &min))
			return aidc_errf(e, AIDC_E_INVAL,
					 "--dependency: '+%s' is not a number of minutes "
					 "(0..%d)",
					 plus, (int)(AIDC_MAX_DURATION_S / 60));
	}
	if (!*buf || strspn(buf, "0123456789") != strlen(buf) ||
	    aidc_parse_i64(buf, 1, INT64_MAX, &id))
		return aidc_errf(e, AIDC_E_INVAL,
				 "--dependency: '%s' is not a job id (a positive number)", buf);
	*d = (struct api_dep){type, (uint64_t)id, min * 60};
	return 0;
}

/* The TYPE of a dependency item (tl bytes at p) in *type. */
static int dep_type(const char *p, size_t tl, int *type, struct aidc_err *e)
{
	for (int t = API_DEP_AFTEROK; t <= API_DEP_AFTERCORR; t++)
		if (strlen(api_dep_type_name(t)) == tl && !strncmp(p, api_dep_type_name(t), tl)) {
			*type = t;
			return 0;
		}
	return aidc_errf(e, AIDC_E_INVAL,
			 "--dependency: '%.*s' is not a dependency type (after, afterok, "
			 "afternotok, afterany, aftercorr, singleton)",
			 (int)(tl > 32 ? 32 : tl), p);
}

/* One TYPE:ID[:ID...] (or singleton) of a --dependency list (len bytes at p). */
static int parse_dep_item(const char *p, size_t len, struct api_dep *out, size_t *n,
			  struct aidc_err *e)
{
	const char *colon = memchr(p, ':', len);
	int type = 0;
	int rc = dep_type(p, colon ? (size_t)(colon - p) : len, &type, e);
	if (rc)
		return rc;
	if (type == API_DEP_SINGLETON) {
		if (colon)
			return aidc_errf(e, AIDC_E_INVAL,
					 "--dependency: singleton takes no job id");
		if (*n == AIDC_MAX_JOB_DEPS)
			return aidc_errf(e, AIDC_E_LIMIT, "--dependency: more than %u items",
					 AIDC_MAX_JOB_DEPS);
		out[(*n)++] = (struct api_dep){type, 0, 0};
		return 0;
	}
	if (!colon || colon + 1 == p + len)
		return aidc_errf(e, AIDC_E_INVAL, "--dependency: %s needs :JOBID",
				 api_dep_type_name(type));
	const char *q = colon + 1, *end = p + len;
	while (q < end) {
		const char *c2 = memchr(q, ':', (size_t)(end - q));
		size_t il = c2 ? (size_t)(c2 - q) : (size_t)(end - q);
		if (*n == AIDC_MAX_JOB_DEPS)
			return aidc_errf(e, AIDC_E_LIMIT, "--dependency: more than %u job ids",
					 AIDC_MAX_JOB_DEPS);
		rc = parse_dep_id(q, il, type, &out[*n], e);
		if (rc)
			return rc;
		(*n)++;
		q += il + (c2 ? 1 : 0);
		if (c2 && q == end)
			return aidc_errf(e, AIDC_E_INVAL, "--dependency: empty job id");
	}
	return 0;
}

int api_parse_dependency(const char *v, struct api_dep *out, size_t *n, bool *any,
			 struct aidc_err *e)
{
	*n = 0;
	*any = false;
	if (!v || !*v)
		return aidc_errf(e, AIDC_E_INVAL, "--dependency: empty");
	bool comma = strchr(v, ',') != NULL, ques = strchr(v, '?') != NULL;
	if (comma && ques)
		return aidc_errf(e, AIDC_E_INVAL,
				 "--dependency: ',' (all of) and '?' (any of) cannot be mixed");
	*any = ques;
	char sep = ques ? '?' : ',';
	const char *p = v;
	for (;;) {
		const char *next = strchr(p, sep);
		size_t len = next ? (size_t)(next - p) : strlen(p);
		if (len == 0)
			return aidc_errf(e, AIDC_E_INVAL, "--dependency: empty item in '%.64s'", v);
		int rc = parse_dep_item(p, len, out, n, e);
		if (rc)
			return rc;
		if (!next)
			return 0;
		p = next + 1;
	}
}

/* The options whose value is kept as text. */
static int apply_text(struct api_sbatch *s, const struct api_sbatch_opt *o, const char *opt,
		      const char *v, struct aidc_err *e)
{
	switch (o->id) {
	case O_ACCOUNT:
		return set_str(opt, v, s->account, sizeof s->account, e);
	case O_CHDIR:
		return set_str(opt, v, s->chdir, sizeof s->chdir, e);
	case O_ERROR:
		return set_str(opt, v, s->stderr_path, sizeof s->stderr_path, e);
	case O_EXPORT:
		return set_str(opt, v, s->export_, sizeof s->export_, e);
	case O_JOB_NAME:
		return set_str(opt, v, s->name, sizeof s->name, e);
	case O_OUTPUT:
		return set_str(opt, v, s->stdout_path, sizeof s->stdout_path, e);
	case O_QOS:
		return set_str(opt, v, s->qos, sizeof s->qos, e);
	case O_WRAP:
		return set_str(opt, v, s->wrap, sizeof s->wrap, e);
	case O_SIGNAL:
		return api_parse_signal_opt(v, &s->signal, &s->signal_before_s, &s->signal_batch, e);
	case O_BEGIN:
		return api_parse_begin(v, (int64_t)time(NULL), &s->begin_s, e);
	case O_KILL_INVALID_DEP:
		if (strcmp(v, "yes") && strcmp(v, "no"))
			return aidc_errf(e, AIDC_E_INVAL, "%s: '%.32s' is not yes or no", opt, v);
		s->kill_invalid_dep = !strcmp(v, "yes");
		return 0;
	case O_ARRAY: {
		struct aidc_aset set;
		int64_t lim;
		struct aidc_err ae = {0};
		int rc = aidc_aset_parse(v, &set, &lim, &ae);
		aidc_aset_free(&set);
		if (rc)
			return aidc_errf(e, rc, "%s=%.64s: %s", opt, v ? v : "", ae.msg);
		return set_str(opt, v, s->array, sizeof s->array, e);
	}
	case O_DEPENDENCY: {
		struct api_dep d[AIDC_MAX_JOB_DEPS];
		size_t n;
		bool any;
		int rc = api_parse_dependency(v, d, &n, &any, e);
		return rc ? rc : set_str(opt, v, s->dependency, sizeof s->dependency, e);
	}
	default:
		return apply_flag(s, o, opt, e);
	}
}

/* -w/-x/-F: a hostlist, checked here, or (with a '/', and always for -F) a
 * file name the client reads (api_sbatch_hostfile), as sbatch does. */
static int set_hostlist(const char *opt, const char *v, bool file, char *dst, size_t cap,
			bool *is_file, struct aidc_err *e)
{
	int rc = set_str(opt, v, dst, cap, e);
	if (rc)
		return rc;
	*is_file = file || strchr(v, '/') != NULL;
	if (*is_file)
		return 0;
	char **names = NULL;
	size_t n = 0;
	struct aidc_err he = {0};
	rc = aidc_hostlist_expand(v, AIDC_MAX_NODES, &names, &n, &he);
	aidc_hostlist_free(names, n);
	if (rc) {
		dst[0] = '\0';
		return aidc_errf(e, AIDC_E_INVAL, "%s=%.64s: %s", opt, v, he.msg);
	}
	return 0;
}

/* -C/--constraint: one device model, the GPUs' type (as --gres=gpu:TYPE:N);
 * feature expressions are refused naming the operator. */
static int parse_constraint(struct api_sbatch *s, const char *opt, const char *v,
			    struct aidc_err *e)
{
	static const char *const ops[][2] = {{"&", "AND (&)"},
					     {"|", "OR (|)"},
					     {"[", "matching OR ([...])"},
					     {"]", "matching OR ([...])"},
					     {"*", "counts (*N)"},
					     {"!", "NOT (!)"},
					     {",", "lists (,)"},
					     {"(", "parentheses"},
					     {")", "parentheses"},
					     {":", "counts (:N)"}};
	if (!v || !*v)
		return aidc_errf(e, AIDC_E_INVAL, "%s: needs a feature", opt);
	for (size_t i = 0; i < AIDC_ARRAY_LEN(ops); i++)
		if (strchr(v, ops[i][0][0]))
			return aidc_errf(
			    e, AIDC_E_UNSUPPORTED,
			    "%s=%.64s: feature expressions (%s) are not implemented; "
			    "name one device model (nodes have no other features here)",
			    opt, v, ops[i][1]);
	if (strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
	    strlen(v))
		return aidc_errf(e, AIDC_E_INVAL, "%s=%.64s: not a feature name", opt, v);
	if (strlen(v) >= sizeof s->gpu_model)
		return aidc_errf(e, AIDC_E_LIMIT, "%s: feature name too long", opt);
	if (s->gpu_model[0] && strcasecmp(s->gpu_model, v))
		return aidc_errf(e, AIDC_E_UNSUPPORTED,
				 "%s=%s: differs from the GPU type '%s' given before (one type "
				 "per job)",
				 opt, v, s->gpu_model);
	memcpy(s->gpu_model, v, strlen(v) + 1);
	s->constraint = true;
	return 0;
}

/* The options that choose nodes: -w, -F, -x, -C. */
static int apply_nodes(struct api_sbatch *s, const struct api_sbatch_opt *o, const char *opt,
		       const char *v, struct aidc_err *e)
{
	switch (o->id) {
	case O_NODELIST:
	case O_NODEFILE:
		return set_hostlist(opt, v, o->id == O_NODEFILE, s->nodelist, sizeof s->nodelist,
				    &s->nodelist_file, e);
	case O_EXCLUDE:
		return set_hostlist(opt, v, false, s->exclude, sizeof s->exclude, &s->exclude_file,
				    e);
	case O_CONSTRAINT:
		return parse_constraint(s, opt, v, e);
	default:
		return apply_text(s, o, opt, v, e);
	}
}

/* --exclusive[=user|mcs|topo]: whole nodes; the sharing variants are refused. */
static int parse_exclusive(struct api_sbatch *s, const char *opt, const char *v,
			   struct aidc_err *e)
{
	if (v && (!strcmp(v, "user") || !strcmp(v, "mcs") || !strcmp(v, "topo")))
		return aidc_errf(e, AIDC_E_UNSUPPORTED,
				 "%s=%s: sharing nodes among one user's jobs (or an MCS label's, "
				 "or a topology block's) is not implemented; --exclusive alone "
				 "gives whole nodes",
				 opt, v);
	if (v)
		return aidc_errf(e, AIDC_E_INVAL,
				 "%s=%.32s: not a value of --exclusive (user, mcs, topo)", opt, v);
	s->exclusive = true;
	return 0;
}

static int apply_row(struct api_sbatch *s, const struct api_sbatch_opt *o, const char *opt,
		     const char *v, struct aidc_err *e)
{
	switch (o->id) {
	case O_CPUS_PER_GPU:
		return set_int(opt, v, 1, AIDC_MAX_NODE_CPU_MILLI / 1000, &s->cpus_per_gpu, e);
	case O_CPUS_PER_TASK:
		return set_int(opt, v, 1, AIDC_MAX_NODE_CPU_MILLI / 1000, &s->cpus_per_task, e);
	case O_GPUS:
		return set_typed_count(s, opt, v,
				       (int64_t)AIDC_MAX_DEVICES_PER_NODE * AIDC_MAX_NODES,
				       &s->gpus_total, e);
	case O_GPUS_PER_NODE:
		return set_typed_count(s, opt, v, AIDC_MAX_DEVICES_PER_NODE, &s->gpus_per_node, e);
	case O_GPUS_PER_TASK:
		return set_typed_count(s, opt, v, AIDC_MAX_DEVICES_PER_NODE, &s->gpus_per_task, e);
	case O_GRES:
		return parse_gres(v, s, e);
	case O_MEM:
		s->mem_set = true;
		return parse_mem(opt, v, &s->mem_mib, e);
	case O_MEM_PER_CPU:
		return parse_mem(opt, v, &s->mem_per_cpu_mib, e);
	case O_MEM_PER_GPU:
		return parse_mem(opt, v, &s->mem_per_gpu_mib, e);
	case O_MINCPUS:
		return set_int(opt, v, 1, AIDC_MAX_NODE_CPU_MILLI / 1000, &s->mincpus, e);
	case O_EXCLUSIVE:
		return parse_exclusive(s, opt, v, e);
	case O_NICE:
		s->nice_set = true;
		if (!v) {
			s->nice = 100;
			return 0;
		}
		return set_int(opt, v, -AIDC_MAX_PRIORITY, -(int64_t)AIDC_MIN_PRIORITY, &s->nice,
			       e);
	case O_NODES:
		return parse_nodes(s, opt, v, e);
	case O_NTASKS:
		return set_int(opt, v, 1, AIDC_MAX_TASKS_PER_JOB, &s->ntasks, e);
	case O_NTASKS_PER_NODE:
		return set_int(opt, v, 1, AIDC_MAX_TASKS_PER_NODE, &s->ntasks_per_node, e);
	case O_OPEN_MODE:
		if (v && !strcmp(v, "truncate"))
			return 0;
		return aidc_errf(e, AIDC_E_UNSUPPORTED,
				 "%s=%.32s: only truncate is implemented (the agent writes -o/-e "
				 "files anew)",
				 opt, v ? v : "");
	case O_PARTITION:
		if (v && strchr(v, ','))
			return aidc_errf(
			    e, AIDC_E_UNSUPPORTED,
			    "%s=%.64s: a list of partitions is not implemented; give one", opt, v);
		return set_str(opt, v, s->partition, sizeof s->partition, e);
	case O_PRIORITY:
		s->priority_set = true;
		return set_int(opt, v, AIDC_MIN_PRIORITY, AIDC_MAX_PRIORITY, &s->priority, e);
	case O_TIME: {
		int64_t x;
		if (api_parse_time_limit(v, &x))
			return aidc_errf(
			    e, AIDC_E_INVAL,
			    "%s: bad time limit '%.64s' (minutes, M:S, H:M:S, D-H, D-H:M, "
			    "D-H:M:S, UNLIMITED)",
			    opt, v ? v : "");
		s->time_limit_s = x;
		return 0;
	}
	default:
		return apply_nodes(s, o, opt, v, e);
	}
}

/* api_sbatch_apply without the copy: a refused option may leave part of its
 * value in s (the script's directives: a failed parse discards s). */
static int apply_opt(struct api_sbatch *s, const char *opt, const char *v, struct aidc_err *e)
{
	const struct api_sbatch_opt *o = api_sbatch_find(opt);
	if (!o)
		return aidc_errf(e, AIDC_E_INVAL,
				 "%.64s: unknown option (sbatch's options and their status here: "
				 "docs/slurm.md)",
				 opt);
	if (o->arg == API_SB_NOARG && v)
		return aidc_errf(e, AIDC_E_INVAL, "%s takes no value (got '%.32s')", opt, v);
	if (o->arg == API_SB_ARG && !v)
		return aidc_errf(e, AIDC_E_INVAL, "%s needs a value", opt);
	size_t idx = (size_t)(o - api_sbatch_opts);
	if (o->status == API_SB_REFUSED)
		return aidc_errf(e, AIDC_E_UNSUPPORTED, "--%s%s%s%s: not supported: %s", o->name,
				 opt[1] != '-' ? " (" : "", opt[1] != '-' ? opt : "",
				 opt[1] != '-' ? ")" : "", o->why);
	s->seen[idx] = 1;
	if (o->status == API_SB_WARNED) {
		bool dup = false;
		for (uint32_t i = 0; i < s->nwarn; i++)
			dup |= s->warn[i] == idx;
		if (!dup && s->nwarn < API_SB_MAX_WARN)
			s->warn[s->nwarn++] = (uint16_t)idx;
		return 0;
	}
	return apply_row(s, o, opt, v, e);
}

int api_sbatch_apply(struct api_sbatch *s, const char *opt, const char *v, struct aidc_err *e)
{
	struct api_sbatch *t = aidc_malloc(sizeof *t);
	*t = *s;
	int rc = apply_opt(t, opt, v, e);
	if (rc == 0)
		*s = *t;
	aidc_free(t);
	return rc;
}

/* Splits "-N 2", "-N2", "--nodes=2", "--nodes 2" into option and value; an
 * option that takes no value or an optional one never takes the next word. */
static void split_opt(char *tok, char *next, char shortopt[3], char **opt, char **val,
		      bool *used_next)
{
	*used_next = false;
	*val = NULL;
	if (tok[1] == '-') {
		char *eq = strchr(tok, '=');
		if (eq) {
			*eq = '\0';
			*val = eq + 1;
		}
		*opt = tok;
	} else {
		shortopt[0] = '-';
		shortopt[1] = tok[1];
		shortopt[2] = '\0';
		*opt = shortopt;
		if (tok[1] && tok[2])
			*val = tok + 2 + (tok[2] == '=');
	}
	const struct api_sbatch_opt *o = api_sbatch_find(*opt);
	if (!*val && next && o && o->arg == API_SB_ARG) {
		*val = next;
		*used_next = true;
	}
}

/* Splits a directive's text into tokens in place, as a shell would for the
 * simple cases sbatch users write: blanks separate, "..." and '...' quote
 * (the quotes are removed: -J "a b" is one token), an unquoted '#' starting
 * a token begins a comment. Returns the count, -1 on an unclosed quote, -2
 * past max tokens. */
static int tokenize(char *s, char **toks, size_t max)
{
	size_t nt = 0;
	char *r = s, *w = s;
	for (;;) {
		while (*r == ' ' || *r == '\t' || *r == '\r')
			r++;
		if (!*r || *r == '#')
			break;
		if (nt == max)
			return -2;
		toks[nt++] = w;
		char q = 0;
		while (*r && (q || (*r != ' ' && *r != '\t' && *r != '\r'))) {
			if (q ? *r == q : (*r == '"' || *r == '\'')) {
				q = q ? 0 : *r;
				r++;
				continue;
			}
			*w++ = *r++;
		}
		if (q)
			return -1;
		if (*r)
			r++;
		*w++ = '\0'; /* w <= r - 1 here, or at the end: never past what was read */
	}
	return (int)nt;
}

int api_script_check_text(const char *script, struct aidc_err *e)
{
	const char *cr = script ? strstr(script, "\r\n") : NULL;
	if (cr) {
		size_t line = 1;
		for (const char *p = script; p < cr; p++)
			line += *p == '\n';
		return aidc_errf(
		    e, AIDC_E_INVAL,
		    "batch script contains DOS line breaks (\\r\\n) instead of expected "
		    "UNIX line breaks (\\n) (first at line %zu; convert it with dos2unix)",
		    line);
	}
	return 0;
}

/* The options of one directive line (rest: after the tag). */
static int parse_line(struct api_sbatch *s, char *rest, size_t lineno, struct aidc_err *e)
{
	char *toks[32];
	int ntok = tokenize(rest, toks, AIDC_ARRAY_LEN(toks));
	if (ntok == -1)
		return aidc_errf(e, AIDC_E_PARSE, "script line %zu: unclosed quote", lineno);
	if (ntok == -2)
		return aidc_errf(e, AIDC_E_LIMIT, "script line %zu: more than %zu words", lineno,
				 AIDC_ARRAY_LEN(toks));
	size_t nt = (size_t)ntok;
	for (size_t i = 0; i < nt; i++) {
		char *opt, *val, shortopt[3];
		bool used;
		struct aidc_err le = {0};
		if (toks[i][0] != '-' || !toks[i][1])
			return aidc_errf(e, AIDC_E_PARSE,
					 "script line %zu: '%.64s' is not an option", lineno,
					 toks[i]);
		split_opt(toks[i], i + 1 < nt ? toks[i + 1] : NULL, shortopt, &opt, &val, &used);
		int rc = apply_opt(s, opt, val, &le);
		if (rc)
			return aidc_errf(e, rc, "script line %zu: %s", lineno, le.msg);
		if (used)
			i++;
	}
	return 0;
}

int api_sbatch_parse(const char *script, struct api_sbatch *s, struct aidc_err *e)
{
	memset(s, 0, sizeof *s);
	size_t lineno = 0;
	const char *p = script;
	if (strlen(script) > AIDC_MAX_SCRIPT_BYTES)
		return aidc_errf(e, AIDC_E_LIMIT, "script larger than %u bytes",
				 AIDC_MAX_SCRIPT_BYTES);
	int crc = api_script_check_text(script, e);
	if (crc)
		return crc;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		lineno++;
		char line[1024];
		if (len >= sizeof line)
			return aidc_errf(e, AIDC_E_LIMIT, "script line %zu: longer than %zu bytes",
					 lineno, sizeof line - 1);
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (nl ? 1 : 0);
		char *l = line;
		while (*l == ' ' || *l == '\t')
			l++;
		if (lineno == 1 && l[0] == '#' && l[1] == '!')
			continue;
		if (*l == '\0')
			continue;
		if (*l != '#')
			break; /* directives end at the first command */
		const char *tag = NULL;
		if (!strncmp(l, "#SBATCH", 7))
			tag = "#SBATCH";
		else if (!strncmp(l, "#AIDC", 5))
			tag = "#AIDC";
		else if (!strncmp(l, "#PBS", 4) && (l[4] == ' ' || l[4] == '\t'))
			s->pbs_lines++;
		if (!tag)
			continue;
		char *rest = l + strlen(tag);
		if (*rest && *rest != ' ' && *rest != '\t')
			continue;
		int rc = parse_line(s, rest, lineno, e);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- aidc submit's older meaning ------------------------------------------ */

int api_sbatch_check_submit(const struct api_sbatch *s, struct aidc_err *e)
{
	static const uint8_t ok[] = {
	    O_ACCOUNT,	 O_CPUS_PER_TASK, O_ERROR, O_GPUS,   O_GPUS_PER_TASK,	O_GRES,
	    O_JOB_NAME,	 O_MEM,		  O_NODES, O_NTASKS, O_NTASKS_PER_NODE, O_OUTPUT,
	    O_PARTITION, O_PREEMPTIBLE,	  O_QOS,   O_TIME,   O_IGNORE_PBS,	O_ARRAY,
	    O_BEGIN,	 O_EXCLUSIVE,	  O_NODELIST, O_EXCLUDE};
	for (size_t i = 0; i < api_sbatch_nopts; i++) {
		const struct api_sbatch_opt *o = &api_sbatch_opts[i];
		if (!s->seen[i] || o->status != API_SB_APPLIED)
			continue;
		bool allowed = false;
		for (size_t k = 0; k < sizeof ok; k++)
			allowed |= o->id == ok[k];
		if (!allowed)
			return aidc_errf(
			    e, AIDC_E_UNSUPPORTED,
			    "--%s: applies with 'aidc sbatch' only (aidc submit runs the "
			    "script once per task; docs/slurm.md)",
			    o->name);
	}
	if (s->nodes != s->nodes_max)
		return aidc_errf(e, AIDC_E_UNSUPPORTED,
				 "--nodes=%" PRId64 "-%" PRId64
				 ": a node range is not supported by "
				 "aidc submit; give one count",
				 s->nodes, s->nodes_max);
	if (s->mps)
		return aidc_errf(e, AIDC_E_UNSUPPORTED,
				 "--gres=mps:%" PRId64 ": applies with 'aidc sbatch' only; aidc "
				 "submit takes a share as --gpu-milli %" PRId64,
				 s->mps, s->mps * 10);
	return 0;
}

/* ---- the one-node batch job ------------------------------------------------ */

static int64_t count_set(const int64_t *v, size_t n)
{
	int64_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += v[i] != 0;
	return k;
}

/* -w's distinct names: the node count (Slurm: the allocation contains
 * every listed node). */
static int resolve_nodes(const struct api_sbatch *s, int64_t *listed, struct aidc_err *e)
{
	*listed = 0;
	if (s->nodelist_file || s->exclude_file)
		return aidc_errf(e, AIDC_E_INTERNAL, "node list files were not read");
	if (!s->nodelist[0])
		return 0;
	char **names = NULL;
	size_t n = 0;
	struct aidc_err he = {0};
	int rc = aidc_hostlist_expand(s->nodelist, AIDC_MAX_NODES, &names, &n, &he);
	for (size_t i = 0; rc == 0 && i < n; i++) { /* duplicates are one node */
		bool dup = false;
		for (size_t k = 0; k < i && !dup; k++)
			dup = !strcmp(names[i], names[k]);
		*listed += !dup;
	}
	aidc_hostlist_free(names, n);
	if (rc)
		return aidc_errf(e, AIDC_E_INVAL, "--nodelist=%.64s: %s", s->nodelist, he.msg);
	return 0;
}

/* Slurm's task layout: ntasks over nodes, the first ntasks % nodes nodes one
 * more (block); -N MIN-MAX gets MIN (any count in the range is Slurm's
 * meaning; here the least, as --use-min-nodes). */
static int resolve_layout(const struct api_sbatch *s, int64_t listed, struct api_sbatch_job *j,
			  struct aidc_err *e)
{
	int64_t nodes = s->nodes, nt = s->ntasks, tpn = s->ntasks_per_node;
	if (listed && nodes > listed)
		return aidc_errf(e, AIDC_E_UNSUPPORTED,
				 "--nodes=%" PRId64 " with a --nodelist of %" PRId64
				 " node(s): Slurm would add other nodes; not implemented here: "
				 "list all %" PRId64,
				 nodes, listed, nodes);
	if (listed)
		nodes = listed;
	if (!nodes)
		nodes = tpn && nt > tpn ? (nt + tpn - 1) / tpn : 1;
	if (!nt)
		nt = tpn ? tpn * nodes : nodes;
	if (nt < nodes)
		return aidc_errf(e, AIDC_E_INVAL,
				 "--ntasks=%" PRId64 " is fewer than the %" PRId64
				 " nodes (a node runs at least one task)",
				 nt, nodes);
	if (tpn && nt > tpn * nodes)
		return aidc_errf(e, AIDC_E_INVAL,
				 "--ntasks=%" PRId64 " at --ntasks-per-node=%" PRId64
				 " needs more than %" PRId64 " node(s)",
				 nt, tpn, nodes);
	if (nodes > AIDC_MAX_TASKS_PER_JOB)
		return aidc_errf(e, AIDC_E_LIMIT, "%" PRId64 " nodes: more than %u", nodes,
				 (unsigned)AIDC_MAX_TASKS_PER_JOB);
	j->nodes = nodes;
	j->ntasks = nt;
	j->tasks_max = (nt + nodes - 1) / nodes;
	int64_t lo = nt / nodes, more = nt % nodes;
	if (!more)
		snprintf(j->tasks_per_node, sizeof j->tasks_per_node,
			 nodes > 1 ? "%" PRId64 "(x%" PRId64 ")" : "%" PRId64, lo, nodes);
	else if (lo == 0)
		return aidc_errf(e, AIDC_E_INTERNAL, "task layout");
	else
		snprintf(j->tasks_per_node, sizeof j->tasks_per_node,
			 more > 1 ? "%" PRId64 "(x%" PRId64 ")," : "%" PRId64 ",", lo + 1, more);
	if (more) {
		size_t l = strlen(j->tasks_per_node);
		snprintf(j->tasks_per_node + l, sizeof j->tasks_per_node - l,
			 nodes - more > 1 ? "%" PRId64 "(x%" PRId64 ")" : "%" PRId64, lo,
			 nodes - more);
	}
	return 0;
}

/* --gres=mps:N: one device's share on the job's one node, with no whole
 * GPUs asked for beside it (as Slurm refuses gpu with mps). */
static int resolve_mps(const struct api_sbatch *s, struct api_sbatch_job *j, struct aidc_err *e)
{
	const char *other = s->gres_gpu	       ? "--gres=gpu"
			    : s->gpus_per_node ? "--gpus-per-node"
			    : s->gpus_total    ? "--gpus"
			    : s->gpus_per_task ? "--gpus-per-task"
					       : NULL;
	if (other)
		return aidc_errf(e, AIDC_E_UNSUPPORTED,
				 "--gres=mps:%" PRId64 " with %s: a share of one device and whole "
				 "devices in one job; give one of them",
				 s->mps, other);
	if (j->nodes > 1)
		return aidc_errf(e, AIDC_E_UNSUPPORTED,
				 "--gres=mps:%" PRId64 " on %" PRId64
				 " nodes: a share is of one device on one node; use -N 1",
				 s->mps, j->nodes);
	if (s->cpus_per_gpu || s->mem_per_gpu_mib)
		return aidc_errf(e, AIDC_E_UNSUPPORTED,
				 "--gres=mps:%" PRId64 " with --%s: no whole GPU to count per; "
				 "give --cpus-per-task, --mem",
				 s->mps, s->cpus_per_gpu ? "cpus-per-gpu" : "mem-per-gpu");
	j->gpus = 1;
	j->gpu_milli = s->mps * (int64_t)AIDC_DEVICE_MILLI / 100;
	return 0;
}

/* GPUs per node from --gpus-per-node (--gres), --gpus (spread evenly over
 * the nodes) or --gpus-per-task (x the most tasks on a node); or one
 * device's share (--gres=mps). */
static int resolve_gpus(const struct api_sbatch *s, struct api_sbatch_job *j, struct aidc_err *e)
{
	if (s->mps)
		return resolve_mps(s, j, e);
	const int64_t gpu_opts[] = {s->gpus_per_node, s->gpus_total, s->gpus_per_task};
	if (count_set(gpu_opts, 3) > 1)
		return aidc_errf(
		    e, AIDC_E_UNSUPPORTED,
		    "give one of --gres=gpu, --gpus-per-node, --gpus and --gpus-per-task "
		    "(got %" PRId64 ")",
		    count_set(gpu_opts, 3));
	if (s->gpus_total % j->nodes)
		return aidc_errf(e, AIDC_E_UNSUPPORTED,
				 "--gpus=%" PRId64 " over %" PRId64
				 " nodes: not a whole number per node; give --gpus-per-node",
				 s->gpus_total, j->nodes);
	j->gpus = s->gpus_per_node ? s->gpus_per_node
		  : s->gpus_total  ? s->gpus_total / j->nodes
				   : s->gpus_per_task * j->tasks_max;
	if (j->gpus > AIDC_MAX_DEVICES_PER_NODE)
		return aidc_errf(e, AIDC_E_LIMIT, "%" PRId64 " GPUs on one node: more than %u",
				 j->gpus, AIDC_MAX_DEVICES_PER_NODE);
	return 0;
}

int api_sbatch_resolve(const struct api_sbatch *s, struct api_sbatch_job *j, struct aidc_err *e)
{
	memset(j, 0, sizeof *j);
	int64_t listed = 0;
	int rc;
	if ((rc = resolve_nodes(s, &listed, e)) != 0 ||
	    (rc = resolve_layout(s, listed, j, e)) != 0 || (rc = resolve_gpus(s, j, e)) != 0)
		return rc;
	if (s->cpus_per_gpu && s->cpus_per_task)
		return aidc_errf(e, AIDC_E_INVAL,
				 "--cpus-per-gpu and --cpus-per-task are mutually exclusive (as in "
				 "Slurm)");
	if (s->cpus_per_gpu && !j->gpus)
		return aidc_errf(e, AIDC_E_INVAL, "--cpus-per-gpu needs GPUs (--gres, --gpus...)");
	j->cpus = s->cpus_per_gpu ? s->cpus_per_gpu * j->gpus
				  : (s->cpus_per_task ? s->cpus_per_task : 1) * j->tasks_max;
	if (s->mincpus > j->cpus)
		j->cpus = s->mincpus;
	if (j->cpus > AIDC_MAX_NODE_CPU_MILLI / 1000)
		return aidc_errf(e, AIDC_E_LIMIT, "%" PRId64 " CPUs on one node: more than %u",
				 j->cpus, AIDC_MAX_NODE_CPU_MILLI / 1000);
	const int64_t mem_opts[] = {s->mem_set, s->mem_per_cpu_mib, s->mem_per_gpu_mib};
	if (count_set(mem_opts, 3) > 1)
		return aidc_errf(
		    e, AIDC_E_INVAL,
		    "--mem, --mem-per-cpu and --mem-per-gpu are mutually exclusive (as "
		    "in Slurm)");
	j->mem_whole = s->mem_set && s->mem_mib == 0; /* Slurm: all of each node's memory */
	if (s->mem_per_gpu_mib && !j->gpus)
		return aidc_errf(e, AIDC_E_INVAL, "--mem-per-gpu needs GPUs (--gres, --gpus...)");
	int64_t mem = s->mem_set	   ? s->mem_mib
		      : s->mem_per_cpu_mib ? s->mem_per_cpu_mib * j->cpus
					   : s->mem_per_gpu_mib * j->gpus;
	if (mem > (int64_t)AIDC_MAX_NODE_MEM_MIB)
		return aidc_errf(e, AIDC_E_LIMIT, "%" PRId64 " MiB on one node: more than %u", mem,
				 (unsigned)AIDC_MAX_NODE_MEM_MIB);
	j->mem_mib = mem;
	if (s->nice_set && s->priority_set)
		return aidc_errf(e, AIDC_E_INVAL, "give one of --nice and --priority");
	if (s->nice_set || s->priority_set) {
		j->priority_set = true;
		j->priority = s->priority_set ? s->priority : -s->nice;
	}
	if (s->constraint && !j->gpus) /* -C's model selects the GPUs */
		return aidc_errf(
		    e, AIDC_E_UNSUPPORTED,
		    "--constraint=%s: features select a device model here, and the job "
		    "asks for no GPUs (add --gres=gpu:1, --gpus-per-node...)",
		    s->gpu_model);
	return 0;
}

/* ---- -o/-e patterns -------------------------------------------------------- */

static int put(char *out, size_t cap, size_t *n, const char *s, size_t k)
{
	if (*n + k + 1 > cap)
		return -1;
	memcpy(out + *n, s, k);
	*n += k;
	out[*n] = '\0';
	return 0;
}

int api_sbatch_pattern(const char *opt, const char *pat, const char *job_name, bool array,
		       char *out, size_t cap, struct aidc_err *e)
{
	size_t n = 0;
	out[0] = '\0';
	bool raw = strchr(pat, '\\') != NULL; /* Slurm: a backslash turns patterns off */
	for (const char *p = pat; *p; p++) {
		int rc = 0;
		if (raw) {
			rc = *p == '\\'
				 ? 0
				 : put(out, cap, &n, *p == '%' ? "%%" : p, *p == '%' ? 2 : 1);
		} else if (*p != '%') {
			rc = put(out, cap, &n, p, 1);
		} else {
			char c = *++p;
			if (c >= '0' && c <= '9')
				return aidc_errf(
				    e, AIDC_E_UNSUPPORTED,
				    "%s '%.64s': zero-padded patterns (%%%c...) are not "
				    "implemented",
				    opt, pat, c);
			switch (c) {
			case 'j':
			case 'u':
			case 'N':
			case '%':
				rc = put(out, cap, &n, p - 1, 2);
				break;
			case 'n':
			case 't':
				rc = put(out, cap, &n, "0",
					 1); /* the batch script: node 0, task 0 */
				break;
			case 'x':
				for (const char *q = job_name; *q && !rc; q++)
					rc = put(out, cap, &n, *q == '%' ? "%%" : q,
						 *q == '%' ? 2 : 1);
				break;
			case 'A':
			case 'a':
				/* the controller writes them when it starts an element */
				if (array) {
					rc = put(out, cap, &n, p - 1, 2);
					break;
				}
				return aidc_errf(e, AIDC_E_INVAL,
						 "%s '%.64s': %%%c: only in a job array (--array)",
						 opt, pat, c);
			case 'J':
			case 's':
				return aidc_errf(
				    e, AIDC_E_UNSUPPORTED,
				    "%s '%.64s': %%%c: names an srun step; the batch script is "
				    "none (srun -o takes it)",
				    opt, pat, c);
			case '\0':
				return aidc_errf(e, AIDC_E_INVAL, "%s '%.64s': ends with a lone %%",
						 opt, pat);
			default:
				return aidc_errf(
				    e, AIDC_E_INVAL,
				    "%s '%.64s': unknown pattern %%%c (%%x %%j %%u %%N %%n "
				    "%%t %%%%)",
				    opt, pat, c);
			}
		}
		if (rc)
			return aidc_errf(e, AIDC_E_LIMIT, "%s: expanded path longer than %zu bytes",
					 opt, cap - 1);
	}
	if (!n)
		return aidc_errf(e, AIDC_E_INVAL, "%s: empty path", opt);
	return 0;
}

int api_output_pattern_check_ex(const char *field, const char *pat, bool array, struct aidc_err *e)
{
	for (const char *p = pat; p && *p; p++) {
		if (*p != '%')
			continue;
		char c = *++p;
		if (c == 'j' || c == 't' || c == 'u' || c == 'N' || c == '%' ||
		    (array && (c == 'A' || c == 'a')))
			continue;
		if (!c)
			return aidc_errf(e, AIDC_E_INVAL, "%s '%.64s': ends with a lone %%", field,
					 pat);
		return aidc_errf(e, AIDC_E_INVAL,
				 "%s '%.64s': %%%c is not a pattern here (%%j %%t %%u %%N %%%%; "
				 "arrays also %%A %%a; aidc sbatch also %%x %%n)",
				 field, pat, c);
	}
	return 0;
}

int api_output_pattern_check(const char *field, const char *pat, struct aidc_err *e)
{
	return api_output_pattern_check_ex(field, pat, false, e);
}
