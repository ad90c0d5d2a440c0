/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Resource limits of the agent's tasks (agent_int.h), the Linux side: cgroup
 * v2 where the unified hierarchy has the memory and pids controllers and we
 * may enable them below our subtree, cgroup v1 (memory, cpu, pids mounts)
 * otherwise, and RLIMIT_AS/RLIMIT_NPROC (applied by the launcher) as the last
 * resort.
 *
 * Layout: every agent owns "<root>/<node>-<hash of its state dir>" and each
 * task a leaf below it named "<job>.<attempt>.<task>". The leaf is created
 * and its limits written BEFORE the task is forked; the child writes "0"
 * (itself) into the leaf's cgroup.procs before exec, so not one instruction
 * of user code runs outside its limits. The agent itself never moves, which
 * keeps v2's no-internal-processes rule: our directories hold no process,
 * only leaves do.
 *
 * Everything read here comes from the kernel (cgroupfs, /proc/self/mounts)
 * and is read into fixed buffers; a longer file is read in chunks.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "util/util.h"

/* CFS period for cpu.max / cpu.cfs_period_us: 100 ms, the kernel default. */
#define CPU_PERIOD_US 100000ull

static const char *const v1_names[AGENT_CG_NCTL] = {"memory", "cpu", "pids"};

const char *agent_limits_kind_name(enum agent_limits_kind k)
{
	switch (k) {
	case AGENT_LIMITS_CGROUP2:
		return "cgroup2";
	case AGENT_LIMITS_CGROUP1:
		return "cgroup1";
	case AGENT_LIMITS_RLIMIT:
		return "rlimit";
	case AGENT_LIMITS_NONE:
		break;
	}
	return "none";
}

/* ---- small file helpers --------------------------------------------------------- */

/* Writes text to an existing (cgroupfs) file: 0 or -errno. */
static int put(const char *dir, const char *file, const char *text)
{
	char p[AIDC_MAX_PATH_BYTES + 64];
	snprintf(p, sizeof p, "%s/%s", dir, file);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text);
	ssize_t w = write(fd, text, len);
	int rc = w == (ssize_t)len ? 0 : (w < 0 ? -errno : -EIO);
	close(fd);
	return rc;
}

/* Reads up to cap-1 bytes of a small file, NUL-terminated: length or -errno. */
static ssize_t get(const char *dir, const char *file, char *buf, size_t cap)
{
	char p[AIDC_MAX_PATH_BYTES + 64];
	snprintf(p, sizeof p, "%s/%s", dir, file);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t n = 0;
	while (n + 1 < cap) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	return (ssize_t)n;
}

/* Whether the space/comma separated list has the word. */
static bool has_word(const char *list, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list; (p = strstr(p, word)) != NULL; p += wl) {
		bool start = p == list || p[-1] == ' ' || p[-1] == ',' || p[-1] == '\n';
		char end = p[wl];
		if (start && (end == '\0' || end == ' ' || end == ',' || end == '\n'))
			return true;
	}
	return false;
}

/* The value after "key " in a flat-keyed cgroup file (memory.events, oom_control). */
static uint64_t keyed(const char *text, const char *key)
{
	size_t kl = strlen(key);
	const char *p = text;
	while (p && *p) {
		if (!strncmp(p, key, kl) && p[kl] == ' ')
			return strtoull(p + kl + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

static int mkdir_ok(const char *path)
{
	return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -errno;
}

/* Finds a mount point of fstype (with option opt for v1) in /proc/self/mounts. */
static bool find_mount(const char *fstype, const char *opt, char *out, size_t cap)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	if (!f)
		return false;
	char line[8192];
	bool found = false;
	while (!found && fgets(line, sizeof line, f)) {
		char *save = NULL;
		strtok_r(line, " ", &save);
		char *mnt = strtok_r(NULL, " ", &save);
		char *type = strtok_r(NULL, " ", &save);
		char *opts = strtok_r(NULL, " ", &save);
		if (!mnt || !type || !opts || strcmp(type, fstype) != 0)
			continue;
		if (opt && !has_word(opts, opt))
			continue;
		if (strlen(mnt) + 1 > cap)
			continue;
		snprintf(out, cap, "%s", mnt);
		found = true;
	}
	fclose(f);
	return found;
}

/* ---- choosing the kind ------------------------------------------------------------- */

/* Enables memory, pids (and cpu when offered) for the children of dir. */
static int enable(const char *dir, const char *offered)
{
	static const char *const want[] = {"memory", "pids", "cpu"};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(want); i++) {
		if (!has_word(offered, want[i]))
			continue;
		char w[16];
		snprintf(w, sizeof w, "+%s", want[i]);
		int rc = put(dir, "cgroup.subtree_control", w);
		if (rc)
			return rc;
	}
	return 0;
}

static int v2_init(struct agent_limits *l, const char *root, const char *unique, char *why,
		   size_t cap)
{
	char mnt[AIDC_MAX_PATH_BYTES], ctl[512], base[AIDC_MAX_PATH_BYTES];
	if (!find_mount("cgroup2", NULL, mnt, sizeof mnt)) {
		snprintf(why, cap, "no cgroup2 mount");
		return AIDC_E_UNSUPPORTED;
	}
	if (get(mnt, "cgroup.controllers", ctl, sizeof ctl) < 0 || !has_word(ctl, "memory") ||
	    !has_word(ctl, "pids")) {
		ctl[strcspn(ctl, "\n")] = '\0';
		snprintf(why, cap, "cgroup v2 at %.200s offers '%.100s', not memory and pids", mnt,
			 ctl);
		return AIDC_E_UNSUPPORTED;
	}
	int rc;
	if (root && *root) {
		snprintf(base, sizeof base, "%s", root);
	} else {
		snprintf(base, sizeof base, "%.3000s/aidc", mnt);
		/* Our own root: its parent (the mount) must hand the controllers down. */
		if ((rc = enable(mnt, ctl)) != 0) {
			snprintf(why, cap, "cgroup v2: cannot enable controllers in %.200s: %s", mnt,
				 strerror(-rc));
			return AIDC_E_PERM;
		}
	}
	const char *stage = base;
	if ((rc = mkdir_ok(base)) == 0 && (rc = enable(base, ctl)) == 0) {
		snprintf(l->dir[AGENT_CG_MEM], sizeof l->dir[0], "%.3000s/%.200s", base, unique);
		stage = l->dir[AGENT_CG_MEM];
		if ((rc = mkdir_ok(stage)) == 0)
			rc = enable(stage, ctl);
	}
	if (rc) {
		snprintf(why, cap, "cgroup v2: %.300s: %s", stage, strerror(-rc));
		l->dir[AGENT_CG_MEM][0] = '\0';
		return AIDC_E_PERM;
	}
	l->kind = AGENT_LIMITS_CGROUP2;
	return 0;
}

static int v1_init(struct agent_limits *l, const char *unique, char *why, size_t cap)
{
	for (int c = 0; c < AGENT_CG_NCTL; c++) {
		char mnt[AIDC_MAX_PATH_BYTES], base[AIDC_MAX_PATH_BYTES];
		if (!find_mount("cgroup", v1_names[c], mnt, sizeof mnt)) {
			if (c == AGENT_CG_MEM) {
				snprintf(why, cap, "no cgroup v1 memory mount");
				return AIDC_E_UNSUPPORTED;
			}
			continue; /* cpu and pids are optional */
		}
		snprintf(base, sizeof base, "%.3000s/aidc", mnt);
		char *d = l->dir[c];
		snprintf(d, sizeof l->dir[c], "%.3000s/%.200s", base, unique);
		int rc = mkdir_ok(base);
		if (rc == 0)
			rc = mkdir_ok(d);
		if (rc) {
			d[0] = '\0';
			if (c == AGENT_CG_MEM) {
				snprintf(why, cap, "cgroup v1: cannot create %.300s: %s", base,
					 strerror(-rc));
				return AIDC_E_PERM;
			}
		}
	}
	l->kind = AGENT_LIMITS_CGROUP1;
	return 0;
}

int agent_limits_init(struct agent_limits *l, const char *mode, const char *root,
		      const char *unique, struct aidc_err *e)
{
	memset(l, 0, sizeof *l);
	bool any = !mode || !*mode || !strcmp(mode, "auto");
	if (!any && strcmp(mode, "cgroup2") && strcmp(mode, "cgroup1") && strcmp(mode, "rlimit") &&
	    strcmp(mode, "none"))
		return aidc_errf(e, AIDC_E_INVAL,
				 "limits '%s': expected auto, cgroup2, cgroup1, rlimit or none", mode);
	if (!any && !strcmp(mode, "none")) {
		l->kind = AGENT_LIMITS_NONE;
		return 0;
	}
	char w2[1024] = "", w1[1024] = "";
	if (any || !strcmp(mode, "cgroup2")) {
		if (v2_init(l, root, unique, w2, sizeof w2) == 0)
			return 0;
		if (!any)
			return aidc_errf(e, AIDC_E_UNSUPPORTED, "%s", w2);
	}
	if (any || !strcmp(mode, "cgroup1")) {
		memset(l->dir, 0, sizeof l->dir);
		if (v1_init(l, unique, w1, sizeof w1) == 0) {
			snprintf(l->why, sizeof l->why, "%s", w2);
			return 0;
		}
		if (!any)
			return aidc_errf(e, AIDC_E_UNSUPPORTED, "%s", w1);
	}
	memset(l->dir, 0, sizeof l->dir);
	l->kind = AGENT_LIMITS_RLIMIT;
	if (any)
		snprintf(l->why, sizeof l->why, "%.1000s; %.1000s", w2, w1);
	return 0;
}

/* ---- per task ------------------------------------------------------------------------- */

void agent_cgroup_init(struct agent_cgroup *cg)
{
	cg->name[0] = '\0';
	cg->files_left = false;
	for (int c = 0; c < AGENT_CG_NCTL; c++)
		cg->procs_fd[c] = -1;
}

void agent_cgroup_close_fds(struct agent_cgroup *cg)
{
	for (int c = 0; c < AGENT_CG_NCTL; c++) {
		if (cg->procs_fd[c] >= 0)
			close(cg->procs_fd[c]);
		cg->procs_fd[c] = -1;
	}
}

static bool is_cgroup(const struct agent_limits *l)
{
	return l->kind == AGENT_LIMITS_CGROUP1 || l->kind == AGENT_LIMITS_CGROUP2;
}

/* The directory of the task's cgroup for controller c ("" if none). */
static void leaf(const struct agent_limits *l, const struct agent_cgroup *cg, int c, char *out,
		 size_t cap)
{
	out[0] = '\0';
	if (is_cgroup(l) && cg->name[0] && l->dir[c][0])
		snprintf(out, cap, "%.3900s/%.63s", l->dir[c], cg->name);
}

/* Writes the task's limits into its leaf of controller c. */
static int write_limits(const struct agent_limits *l, int c, const char *d,
			const struct agent_task_req *r)
{
	char v[64];
	bool v2 = l->kind == AGENT_LIMITS_CGROUP2;
	int rc = 0;
	if ((v2 || c == AGENT_CG_MEM) && r->mem_mib) {
		snprintf(v, sizeof v, "%" PRIu64, r->mem_mib << 20);
		rc = put(d, v2 ? "memory.max" : "memory.limit_in_bytes", v);
		/* Without swap accounting a limit only pushes pages to swap: cap swap too. */
		if (rc == 0 && v2)
			put(d, "memory.swap.max", "0");
		else if (rc == 0)
			put(d, "memory.memsw.limit_in_bytes", v);
		if (rc == 0 && v2)
			put(d, "memory.oom.group", "1"); /* OOM takes the whole task, not one thread */
	}
	if (rc == 0 && (v2 || c == AGENT_CG_CPU) && r->cpus) {
		uint64_t quota = (uint64_t)r->cpus * CPU_PERIOD_US;
		if (v2) {
			snprintf(v, sizeof v, "%" PRIu64 " %llu", quota, CPU_PERIOD_US);
			int crc = put(d, "cpu.max", v);
			rc = crc == -ENOENT ? 0 : crc; /* cpu controller not offered: no CPU cap */
		} else {
			snprintf(v, sizeof v, "%llu", CPU_PERIOD_US);
			if ((rc = put(d, "cpu.cfs_period_us", v)) == 0) {
				snprintf(v, sizeof v, "%" PRIu64, quota);
				rc = put(d, "cpu.cfs_quota_us", v);
			}
		}
	}
	if (rc == 0 && (v2 || c == AGENT_CG_PIDS) && r->pids) {
		snprintf(v, sizeof v, "%u", r->pids);
		rc = put(d, "pids.max", v);
	}
	return rc;
}

int agent_cgroup_create(const struct agent_limits *l, const char *name,
			const struct agent_task_req *req, struct agent_cgroup *cg,
			struct aidc_err *e)
{
	agent_cgroup_init(cg);
	if (!is_cgroup(l))
		return 0;
	snprintf(cg->name, sizeof cg->name, "%s", name);
	char d[AIDC_MAX_PATH_BYTES];
	for (int c = 0; c < AGENT_CG_NCTL; c++) {
		leaf(l, cg, c, d, sizeof d);
		if (!d[0])
			continue;
		/* The agent's own directory is recreated if someone removed it
		 * (only then: one mkdir per controller and task in the usual case). */
		int rc = mkdir_ok(d);
		if (rc == -ENOENT && (rc = mkdir_ok(l->dir[c])) == 0)
			rc = mkdir_ok(d);
		if (rc == 0)
			rc = write_limits(l, c, d, req);
		if (rc == 0) {
			char p[AIDC_MAX_PATH_BYTES + 32];
			snprintf(p, sizeof p, "%s/cgroup.procs", d);
			cg->procs_fd[c] = open(p, O_WRONLY | O_CLOEXEC);
			if (cg->procs_fd[c] < 0)
				rc = -errno;
		}
		if (rc) {
			aidc_errf(e, AIDC_E_IO, "cgroup %s: %s", d, strerror(-rc));
			agent_cgroup_close_fds(cg);
			agent_cgroup_remove(l, cg);
			cg->name[0] = '\0';
			return AIDC_E_IO;
		}
	}
	return 0;
}

/* Calls kill(pid, sig) for each pid in the leaf's cgroup.procs; returns the
 * number listed. Read in chunks: a pid split across chunks is carried over. */
static size_t each_pid(const char *d, int sig)
{
	char p[AIDC_MAX_PATH_BYTES + 32];
	snprintf(p, sizeof p, "%s/cgroup.procs", d);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	char buf[4096];
	size_t count = 0;
	long long cur = -1;
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] >= '0' && buf[i] <= '9') {
				cur = (cur < 0 ? 0 : cur * 10) + (buf[i] - '0');
				if (cur > INT32_MAX)
					cur = INT32_MAX;
			} else if (cur >= 0) {
				if (sig && cur > 1)
					kill((pid_t)cur, sig);
				count++;
				cur = -1;
			}
		}
	}
	if (cur >= 0) {
		if (sig && cur > 1)
			kill((pid_t)cur, sig);
		count++;
	}
	close(fd);
	return count;
}

void agent_cgroup_kill(const struct agent_limits *l, const struct agent_cgroup *cg)
{
	char d[AIDC_MAX_PATH_BYTES];
	for (int c = 0; c < AGENT_CG_NCTL; c++) {
		leaf(l, cg, c, d, sizeof d);
		if (!d[0])
			continue;
		/* cgroup.kill (Linux 5.14+) also catches processes forking right now. */
		if (l->kind == AGENT_LIMITS_CGROUP2 && put(d, "cgroup.kill", "1") == 0)
			continue;
		each_pid(d, SIGKILL);
	}
}

uint64_t agent_cgroup_oom_kills(const struct agent_limits *l, const struct agent_cgroup *cg)
{
	char d[AIDC_MAX_PATH_BYTES], text[1024];
	leaf(l, cg, AGENT_CG_MEM, d, sizeof d);
	if (!d[0])
		return 0;
	bool v2 = l->kind == AGENT_LIMITS_CGROUP2;
	if (get(d, v2 ? "memory.events" : "memory.oom_control", text, sizeof text) <= 0)
		return 0;
	return keyed(text, "oom_kill");
}

void agent_cgroup_usage(const struct agent_limits *l, const struct agent_cgroup *cg,
			int64_t *cpu_usec, int64_t *mem_peak_bytes)
{
	char d[AIDC_MAX_PATH_BYTES], text[2048];
	bool v2 = l->kind == AGENT_LIMITS_CGROUP2;
	*cpu_usec = *mem_peak_bytes = -1;
	if (!is_cgroup(l))
		return;
	/* memory.peak: Linux 5.19+ (v2); v1 keeps memory.max_usage_in_bytes. */
	leaf(l, cg, AGENT_CG_MEM, d, sizeof d);
	if (d[0] && get(d, v2 ? "memory.peak" : "memory.max_usage_in_bytes", text, sizeof text) > 0 &&
	    text[0] >= '0' && text[0] <= '9')
		*mem_peak_bytes = (int64_t)strtoull(text, NULL, 10);
	/* cpu.stat's usage_usec (v2: always there, the cpu controller or not). */
	if (v2 && d[0] && get(d, "cpu.stat", text, sizeof text) > 0 && strstr(text, "usage_usec "))
		*cpu_usec = (int64_t)keyed(text, "usage_usec");
}

bool agent_cgroup_busy(const struct agent_limits *l, const struct agent_cgroup *cg)
{
	char d[AIDC_MAX_PATH_BYTES];
	for (int c = 0; c < AGENT_CG_NCTL; c++) {
		leaf(l, cg, c, d, sizeof d);
		if (d[0] && each_pid(d, 0) > 0)
			return true;
	}
	return false;
}

int agent_cgroup_remove(const struct agent_limits *l, const struct agent_cgroup *cg)
{
	char d[AIDC_MAX_PATH_BYTES];
	int rc = 0;
	for (int c = 0; c < AGENT_CG_NCTL; c++) {
		leaf(l, cg, c, d, sizeof d);
		if (d[0] && rmdir(d) != 0 && errno != ENOENT)
			rc = AIDC_E_BUSY;
	}
	return rc;
}

void agent_cgroup_list(const struct agent_limits *l, void (*fn)(const char *name, void *arg),
		       void *arg)
{
	if (!is_cgroup(l) || !l->dir[AGENT_CG_MEM][0])
		return;
	DIR *dir = opendir(l->dir[AGENT_CG_MEM]);
	if (!dir)
		return;
	struct dirent *de;
	while ((de = readdir(dir)) != NULL)
		if (de->d_type == DT_DIR && de->d_name[0] != '.' && strlen(de->d_name) < 64)
			fn(de->d_name, arg);
	closedir(dir);
}

/* ---- node caps -------------------------------------------------------------------- */

int agent_limits_node_caps(const struct agent_limits *l, uint64_t mem_mib, uint32_t pids,
			   bool *pids_capped, struct aidc_err *e)
{
	*pids_capped = false;
	if (!is_cgroup(l))
		return 0;
	bool v2 = l->kind == AGENT_LIMITS_CGROUP2;
	const char *md = l->dir[AGENT_CG_MEM];
	const char *pd = v2 ? md : l->dir[AGENT_CG_PIDS];
	char v[32];
	snprintf(v, sizeof v, "%" PRIu64, mem_mib << 20);
	int rc;
	if (v2) {
		if ((rc = put(md, "memory.max", v)) != 0)
			return aidc_errf(e, AIDC_E_IO, "node memory cap: %s/memory.max: %s", md,
					 strerror(-rc));
		put(md, "memory.swap.max", "0"); /* absent without swap accounting */
	} else {
		/* v1 wants memsw >= the memory limit at every step: raise it first
		 * (fails harmlessly without swap accounting), then set both. */
		put(md, "memory.memsw.limit_in_bytes", "-1");
		if ((rc = put(md, "memory.limit_in_bytes", v)) != 0)
			return aidc_errf(e, AIDC_E_IO, "node memory cap: %s/memory.limit_in_bytes: %s",
					 md, strerror(-rc));
		put(md, "memory.memsw.limit_in_bytes", v);
		/* Without hierarchy (pre-5.x kernels' default) a parent's limit
		 * does not bind its children: ask for it, and check. */
		put(md, "memory.use_hierarchy", "1");
		char h[16];
		if (get(md, "memory.use_hierarchy", h, sizeof h) > 0 && h[0] != '1')
			return aidc_errf(e, AIDC_E_UNSUPPORTED,
					 "node memory cap: %s/memory.use_hierarchy is 0 (a parent's "
					 "limit would not bind the tasks)",
					 md);
	}
	if (!pd[0])
		return 0;
	snprintf(v, sizeof v, "%u", pids);
	if ((rc = put(pd, "pids.max", v)) != 0)
		return aidc_errf(e, AIDC_E_IO, "node pids cap: %s/pids.max: %s", pd, strerror(-rc));
	*pids_capped = true;
	return 0;
}

void agent_limits_release(const struct agent_limits *l)
{
	if (!is_cgroup(l))
		return;
	for (int c = 0; c < AGENT_CG_NCTL; c++)
		if (l->dir[c][0])
			rmdir(l->dir[c]); /* fails (harmlessly) while a task cgroup is left */
}
