/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aidc-task: the small executable the agent starts (clone + exec, no fork of
 * the agent) for each task; it becomes the task's leader and runs
 * agent_child_run() (proc_child.c): session, cgroups, rlimits, gate, shim,
 * program. Not a command: the agent writes its arguments (proc_linux.c,
 * task_argv) and starts it with an empty environment; the program's is in
 * the memfd envfd ("K=V\0" each), so the user's LD_PRELOAD, GLIBC_TUNABLES
 * and the like never reach this root process's loader and libc:
 *
 *   aidc-task FDS CGROUP_FDS RLIMITS IDENTITY GROUPS STATE_DIR CWD EXE ARGV...
 *
 * FDS "errfd,gate,notify,out,err,envfd" (-1: none), CGROUP_FDS "fd,..." or "",
 * RLIMITS "as_bytes,nproc" (0: unchanged), IDENTITY
 * "drop,uid,gid,has_umask,umask,shim", GROUPS "gid,...", STATE_DIR ("": none).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/proc_child.h"

enum { ARG_FDS = 1, ARG_CG, ARG_RLIM, ARG_ID, ARG_GROUPS, ARG_STATE, ARG_CWD, ARG_EXE, ARG_ARGV };

/* "a,b,c" into v (at most max values); the count, or -1 if malformed. */
static int parse_list(const char *s, int64_t *v, int max)
{
	int n = 0;
	while (*s) {
		char *end;
		errno = 0;
		long long x = strtoll(s, &end, 10);
		if (end == s || errno || n == max || (*end && *end != ','))
			return -1;
		v[n++] = x;
		s = *end ? end + 1 : end;
	}
	return n;
}

static struct agent_groups groups;

/* The program's environment from the agent's memfd fd (closed), or NULL. */
static char **read_env(int fd)
{
	struct stat sb;
	char *b = NULL, **env = NULL;
	if (fstat(fd, &sb) == 0 && sb.st_size >= 0 && (b = malloc((size_t)sb.st_size + 1)) &&
	    pread(fd, b, (size_t)sb.st_size, 0) == sb.st_size) {
		size_t n = 0, len = (size_t)sb.st_size;
		b[len] = '\0';
		for (size_t i = 0; i < len; i++)
			n += b[i] == '\0';
		n += len && b[len - 1]; /* an unterminated last one */
		if ((env = calloc(n + 1, sizeof *env)) != NULL)
			for (size_t i = 0, k = 0; i < len; i += strlen(b + i) + 1)
				env[k++] = b + i;
	}
	if (!env)
		free(b);
	close(fd);
	return env;
}

int main(int argc, char **argv)
{
	int64_t fd[6], cg[AGENT_CG_NCTL], rl[2], id[6], gr[AGENT_MAX_GROUPS];
	int ncg, ngr;
	char **envp = NULL;
	if (argc <= ARG_ARGV || parse_list(argv[ARG_FDS], fd, 6) != 6 ||
	    (ncg = parse_list(argv[ARG_CG], cg, AGENT_CG_NCTL)) < 0 ||
	    parse_list(argv[ARG_RLIM], rl, 2) != 2 || parse_list(argv[ARG_ID], id, 6) != 6 ||
	    (ngr = parse_list(argv[ARG_GROUPS], gr, AGENT_MAX_GROUPS)) < 1) {
		fprintf(stderr, "aidc-task: the agent's helper that starts a task (started by aidc "
				"agent for each task), not a command\n");
		return 2;
	}
	if (!(envp = read_env((int)fd[5])))
		agent_child_fail((int)fd[0], 10); /* said as a failed exec of aidc-task */
	int cgfd[AGENT_CG_NCTL];
	for (int i = 0; i < ncg; i++)
		cgfd[i] = (int)cg[i];
	for (int i = 0; i < ngr; i++)
		groups.g[i] = (gid_t)gr[i];
	groups.n = ngr;
	struct agent_launch l = {
		.uid = (uint32_t)id[1], .gid = (uint32_t)id[2], .cwd = argv[ARG_CWD],
		.exe = argv[ARG_EXE], .argv = argv + ARG_ARGV, .envp = envp,
		.out_fd = (int)fd[3], .err_fd = (int)fd[4], .drop_privileges = id[0] != 0,
		.has_umask = id[3] != 0, .umask = (mode_t)id[4], .cgroup_fds = cgfd,
		.ncgroup_fds = (size_t)ncg, .rlimit_as_bytes = (uint64_t)rl[0],
		.rlimit_nproc = (uint64_t)rl[1], .shim = id[5] != 0, .notify_fd = (int)fd[2],
		.state_dir = argv[ARG_STATE][0] ? argv[ARG_STATE] : NULL,
	};
	agent_child_run(&l, &groups, (int)fd[0], (int)fd[1]);
	return 127;
}
