/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Job output stored by the controller under <state_dir>/logs (issue 9 item 3,
 * docs/security.md): per-job and per-user quotas on the bytes written, and a
 * free-space floor on the state directory's filesystem that keeps room for
 * the store's own writes. Output past a quota or under the floor is
 * truncated with one marker line per task stream, and under half the floor
 * new submissions are refused (jobs.c admit): output alone stops at the
 * floor, so other users keep submitting while one fills the disk. Bytes are counted as written:
 * holes the agent skipped (a job's sparse write) extend the file without
 * allocating anything and count nothing. Loop thread only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ctld/ctld_int.h"
#include "util/util.h"

#define MIB (1024ll * 1024)

/* The user's running total (created at 0 on first use). O(users with live
 * output): a handful in practice; linear on purpose. */
static int64_t *user_total(struct ctld *c, uint32_t uid)
{
	for (size_t i = 0; i < c->nuout; i++)
		if (c->uout[i].uid == uid)
			return &c->uout[i].bytes;
	AIDC_GROW(c->uout, c->cap_uout, c->nuout + 1);
	c->uout[c->nuout] = (struct ctld_user_output){.uid = uid, .bytes = 0};
	return &c->uout[c->nuout++].bytes;
}

static void account(struct ctld *c, struct ctld_job *j, int64_t bytes)
{
	j->out_bytes += bytes;
	*user_total(c, j->uid) += bytes;
}

void ctld_output_forget(struct ctld *c, struct ctld_job *j)
{
	if (!j->out_bytes)
		return;
	for (size_t i = 0; i < c->nuout; i++)
		if (c->uout[i].uid == j->uid) {
			c->uout[i].bytes -= j->out_bytes;
			if (c->uout[i].bytes <= 0) /* drop the entry: the list stays short */
				c->uout[i] = c->uout[--c->nuout];
			break;
		}
	j->out_bytes = 0;
}

void ctld_output_restore(struct ctld *c, struct ctld_job *j)
{
	char dir[AIDC_MAX_PATH_BYTES];
	ctld_job_log_dir(c, j, dir, sizeof dir);
	DIR *d = opendir(dir);
	if (!d)
		return;
	int64_t bytes = 0;
	for (struct dirent *de; (de = readdir(d)) != NULL;) {
		struct stat sb;
		if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(sb.st_mode))
			bytes += (int64_t)sb.st_blocks * 512; /* allocated: holes count nothing */
	}
	closedir(d);
	account(c, j, bytes);
}

bool ctld_state_fs_low(struct ctld *c, bool half, int64_t *free_mib, int64_t *floor_mib)
{
	struct statvfs vs;
	*free_mib = *floor_mib = 0;
	if (c->cfg.min_free_mib == 0 || statvfs(c->cfg.state_dir, &vs) != 0)
		return false;
	int64_t total = (int64_t)vs.f_blocks * (int64_t)vs.f_frsize;
	int64_t avail = (int64_t)vs.f_bavail * (int64_t)vs.f_frsize;
	int64_t floor = c->cfg.min_free_mib * MIB;
	if (floor > total / 8) /* a small filesystem keeps an eighth of itself */
		floor = total / 8;
	if (half)
		floor /= 2;
	*free_mib = avail / MIB;
	*floor_mib = (floor + MIB - 1) / MIB;
	return avail < floor;
}

/* The inodes kept free on the state filesystem: an eighth of them, at most
 * this many (chosen, not measured: room for the store's files and the log
 * directories of a few thousand jobs). Without them the byte floor never
 * trips when the inodes run out first: a file a byte long takes one inode
 * and one block, and ext4 makes an inode per 16 KiB by default. */
#define STATE_FS_INODE_FLOOR 65536

bool ctld_state_fs_inodes_low(struct ctld *c, bool half, int64_t *free_n, int64_t *floor_n)
{
	struct statvfs vs;
	*free_n = *floor_n = 0;
	if (c->cfg.min_free_mib == 0 || statvfs(c->cfg.state_dir, &vs) != 0 || vs.f_files == 0)
		return false; /* no floor, or a filesystem with no fixed count (btrfs) */
	int64_t floor = (int64_t)(vs.f_files / 8);
	if (floor > STATE_FS_INODE_FLOOR)
		floor = STATE_FS_INODE_FLOOR;
	if (half)
		floor /= 2;
	*free_n = (int64_t)vs.f_favail;
	*floor_n = floor;
	return *free_n < floor;
}

/* How many of len new bytes of j may be stored; with fewer than len, why not
 * (into why). */
static size_t allowed(struct ctld *c, struct ctld_job *j, int64_t end, size_t len, char *why,
		      size_t cap)
{
	int64_t room = (int64_t)len, free_mib, floor_mib, free_n, floor_n;
	int64_t job_left = c->cfg.max_job_output_mib * MIB - j->out_bytes;
	int64_t user_left = c->cfg.max_user_output_mib * MIB - *user_total(c, j->uid);
	int64_t file_left = (int64_t)AIDC_MAX_LOG_BYTES - end;
	if (ctld_state_fs_low(c, false, &free_mib, &floor_mib)) {
		snprintf(why, cap,
			 "the controller's state filesystem has %" PRId64 " MiB free, under its "
			 "floor of %" PRId64 " MiB (min_free_mib)",
			 free_mib, floor_mib);
		return 0;
	}
	if (ctld_state_fs_inodes_low(c, false, &free_n, &floor_n)) {
		snprintf(why, cap,
			 "the controller's state filesystem has %" PRId64 " inodes free, under its "
			 "floor of %" PRId64 " (an eighth of them, at most %d; min_free_mib)",
			 free_n, floor_n, STATE_FS_INODE_FLOOR);
		return 0;
	}
	if (job_left < room) {
		room = job_left;
		snprintf(why, cap, "the job stored %" PRId64 " MiB of output (max_job_output_mib)",
			 c->cfg.max_job_output_mib);
	}
	if (user_left < room) {
		room = user_left;
		snprintf(why, cap,
			 "user %s's jobs not yet ended stored %" PRId64
			 " MiB of output (max_user_output_mib)",
			 j->user, c->cfg.max_user_output_mib);
	}
	if (file_left < room) {
		room = file_left;
		snprintf(why, cap, "a stream holds at most %llu MiB (AIDC_MAX_LOG_BYTES)",
			 (unsigned long long)(AIDC_MAX_LOG_BYTES >> 20));
	}
	return room > 0 ? (size_t)room : 0;
}

int ctld_output_write(struct ctld *c, struct ctld_job *j, struct ctld_task *k, int stream,
		      int64_t off, const char *data, size_t len, int64_t *size_out,
		      struct aidc_err *e)
{
	char name[64];
	snprintf(name, sizeof name, "%u.%u.%s", j->attempt, k->index, stream ? "err" : "out");
	return ctld_output_write_file(c, j, name, &k->out_cut, stream, off, data, len, size_out, e);
}

/* Ends a stream's stored output with the marker "[aidc: output truncated:
 * WHY]" at size and marks it cut: it takes nothing more. */
static void cut_stream(struct ctld *c, struct ctld_job *j, int fd, int64_t size,
		       const char *name, uint8_t *cut, uint8_t bit, const char *why)
{
	char mark[384];
	int m = snprintf(mark, sizeof mark, "\n[aidc: output truncated: %s]\n", why);
	if (pwrite(fd, mark, (size_t)m, size) == m)
		account(c, j, m);
	*cut |= bit;
	aidc_log(AIDC_LOG_WARN, "job %" PRIu64 " output %s: truncated: %s", j->id, name, why);
}

/* An empty push carries nothing to store (the agent and srun's pusher never
 * send one): no file is made and none is extended. Else a step's runner,
 * which is the job's user (steps.c op output), could make two empty files
 * per step id, node and attempt: inodes counted by no quota and no floor.
 * The answer is the stream's size, as for a repeat. */
static int empty_push(const char *dir, const char *name, int64_t *size_out)
{
	char path[AIDC_MAX_PATH_BYTES + 64];
	struct stat st;
	snprintf(path, sizeof path, "%s/%.63s", dir, name);
	*size_out = lstat(path, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : 0;
	return 0;
}

int ctld_output_write_file(struct ctld *c, struct ctld_job *j, const char *name, uint8_t *cut,
			   int stream, int64_t off, const char *data, size_t len, int64_t *size_out,
			   struct aidc_err *e)
{
	uint8_t bit = (uint8_t)(1u << stream);
	/* A cut stream takes nothing more: the agent is told all is stored so
	 * that it moves on (the marker says what happened). */
	if (*cut & bit) {
		*size_out = off + (int64_t)len;
		return 0;
	}
	char dir[AIDC_MAX_PATH_BYTES], path[AIDC_MAX_PATH_BYTES + 64];
	ctld_job_log_dir(c, j, dir, sizeof dir);
	if (len == 0)
		return empty_push(dir, name, size_out);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return aidc_errf(e, AIDC_E_IO, "%s: %s", dir, strerror(errno));
	snprintf(path, sizeof path, "%s/%.63s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return aidc_errf(e, AIDC_E_IO, "%s: %s", path, strerror(errno));
	struct stat sb;
	int rc = 0;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rc = aidc_errf(e, AIDC_E_IO, "%s: not a regular file", path);
		goto out;
	}
	int64_t size = sb.st_size;
	/* Past the stream's cap (a task that seeked its stdout further, or the
	 * pushes after a stream reached the cap and the controller restarted):
	 * nothing is stored, the stream is cut, and the agent is told all is
	 * stored, so that it moves on to the task's exit report. */
	if (off > size && off >= (int64_t)AIDC_MAX_LOG_BYTES) {
		char why[128];
		snprintf(why, sizeof why, "a stream holds at most %llu MiB (AIDC_MAX_LOG_BYTES)",
			 (unsigned long long)(AIDC_MAX_LOG_BYTES >> 20));
		cut_stream(c, j, fd, size, name, cut, bit, why);
		*size_out = off + (int64_t)len;
		goto out;
	}
	/* Past the end: the agent skipped a hole of the task's file (SEEK_DATA),
	 * or this file was lost. The gap stays a hole: nothing is allocated. */
	if (off > size) {
		if (ftruncate(fd, off) != 0) {
			rc = aidc_errf(e, AIDC_E_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
		size = off;
	}
	/* Pushes are idempotent: bytes the controller already has are skipped. */
	size_t skip = (size_t)(size - off);
	if (skip < len) {
		char why[256] = "";
		size_t want = len - skip, n = allowed(c, j, size, want, why, sizeof why);
		ssize_t w = n ? pwrite(fd, data + skip, n, size) : 0;
		if (w > 0) {
			account(c, j, w);
			size += w;
		}
		if (w < (ssize_t)n) /* ENOSPC or another write error: cut as well */
			snprintf(why, sizeof why, "the controller could not store more: %s",
				 w < 0 ? strerror(errno) : "short write");
		if ((size_t)(w > 0 ? w : 0) < want) {
			cut_stream(c, j, fd, size, name, cut, bit, why);
			size = off + (int64_t)len;
		}
	}
	*size_out = size;
out:
	close(fd);
	return rc;
}

/*
 * Output retention (output_retention_s > 0). The output of a job that ended
 * more than output_retention_s ago is removed: its directory under logs/ and
 * everything in it; the job's record (aidc job, sacct) stays, and a log read
 * says the output was removed (routes.c). A sweep walks logs/ at most every
 * output_retention_s / 8 (1 s..1 h). A directory changed (a file created)
 * since the cutoff belongs to a job that cannot have ended before it, so only
 * older ones are looked up (in memory, else in the store): those of expired
 * jobs, removed once, and of jobs that have run longer than the retention.
 * The walk is resumable: at most OUT_SWEEP_LOOKUPS entries looked at and
 * OUT_SWEEP_UNLINKS files removed per loop iteration, so neither a backlog
 * of expired output nor one directory of many files (a job's steps make up
 * to 2 per step id, node and attempt) stalls the loop: an expired directory
 * not yet empty is taken up again at the next iteration.
 * Names that are not a job's own directory are left alone.
 */
#define OUT_SWEEP_LOOKUPS 256  /* entries looked at per loop iteration */
#define OUT_SWEEP_UNLINKS 1024 /* files removed per loop iteration: ~20 ms on ext4 */

bool ctld_output_expired(const struct ctld *c, const struct ctld_job *j)
{
	return c->cfg.output_retention_s > 0 && ctld_job_ended(j) && j->end_s > 0 &&
	       j->end_s <= ctld_now_s() - c->cfg.output_retention_s;
}

/* Removes at most *budget files of directory name (in dirfd), then the
 * directory once it is empty: 1 removed, 0 files remain (the budget is
 * spent), -1 on an error (errno): a file that cannot be removed ends the
 * attempt, so that no directory is taken up again at every iteration. */
static int remove_log_dir(int dirfd, const char *name, unsigned *budget)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct dirent *de;
	int rc = 1;
	while (rc > 0 && (de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (*budget == 0) {
			rc = 0;
			break;
		}
		--*budget;
		if (unlinkat(fd, de->d_name, 0) != 0 && errno != ENOENT)
			rc = -1;
	}
	int err = errno;
	closedir(d);
	errno = err;
	if (rc <= 0)
		return rc;
	return unlinkat(dirfd, name, AT_REMOVEDIR) == 0 ? 1 : -1;
}

/* Goes on emptying c->out_sweep_dir: false while files remain. */
static bool sweep_remove(struct ctld *c, unsigned *budget)
{
	int rc = remove_log_dir(dirfd(c->out_sweep), c->out_sweep_dir, budget);
	if (rc == 0)
		return false;
	if (rc > 0)
		c->out_sweep_removed++;
	else
		aidc_log(AIDC_LOG_WARN, "output retention: %s/logs/%s: %s", c->cfg.state_dir,
			 c->out_sweep_dir, strerror(errno));
	c->out_sweep_dir[0] = '\0';
	return true;
}

/* Whether logs/ entry name is the directory of a job whose output expired. */
static bool log_dir_expired(struct ctld *c, const char *name)
{
	uint64_t id = 0;
	const char *p = name;
	for (; *p >= '0' && *p <= '9' && id < UINT64_MAX / 10; p++)
		id = id * 10 + (uint64_t)(*p - '0');
	if (p == name || (*p && *p != '.'))
		return false;
	struct ctld_job *j = ctld_job_find(c, id);
	struct ctld_job *loaded = NULL;
	if (!j && ctld_job_load(c, id, &loaded, NULL) == 0)
		j = loaded;
	bool expired = false;
	if (j && ctld_output_expired(c, j)) {
		char dir[AIDC_MAX_PATH_BYTES];
		ctld_job_log_dir(c, j, dir, sizeof dir);
		const char *base = strrchr(dir, '/');
		expired = base && strcmp(base + 1, name) == 0;
	}
	if (loaded)
		ctld_job_free(loaded);
	return expired;
}

void ctld_output_sweep_end(struct ctld *c)
{
	if (c->out_sweep)
		closedir(c->out_sweep);
	c->out_sweep = NULL;
	c->out_sweep_dir[0] = '\0';
}

/* Starts a walk of logs/ when one is due: whether one is under way. */
static bool sweep_begin(struct ctld *c, int64_t now_ms)
{
	if (c->out_sweep)
		return true;
	int64_t keep_s = c->cfg.output_retention_s;
	if (keep_s <= 0 || now_ms < c->next_out_sweep_ms)
		return false;
	int64_t every_s = keep_s / 8 < 1 ? 1 : keep_s / 8 > 3600 ? 3600 : keep_s / 8;
	c->next_out_sweep_ms = now_ms + every_s * 1000;
	char logs[AIDC_MAX_PATH_BYTES];
	snprintf(logs, sizeof logs, "%.3900s/logs", c->cfg.state_dir);
	c->out_sweep = opendir(logs);
	c->out_sweep_removed = 0;
	return c->out_sweep != NULL;
}

void ctld_output_sweep(struct ctld *c, int64_t now_ms)
{
	if (!sweep_begin(c, now_ms))
		return;
	DIR *d = c->out_sweep;
	int64_t cutoff = ctld_now_s() - c->cfg.output_retention_s;
	unsigned lookups = 0, unlinks = OUT_SWEEP_UNLINKS;
	if (c->out_sweep_dir[0] && !sweep_remove(c, &unlinks))
		return; /* still files in it: the next iteration goes on */
	struct dirent *de;
	while (lookups < OUT_SWEEP_LOOKUPS && (de = readdir(d)) != NULL) {
		struct stat sb;
		lookups++;
		if (de->d_name[0] < '0' || de->d_name[0] > '9' ||
		    strlen(de->d_name) >= sizeof c->out_sweep_dir ||
		    fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(sb.st_mode) || sb.st_mtime > cutoff || !log_dir_expired(c, de->d_name))
			continue;
		memcpy(c->out_sweep_dir, de->d_name, strlen(de->d_name) + 1); /* fits: checked */
		if (!sweep_remove(c, &unlinks))
			return;
	}
	if (lookups >= OUT_SWEEP_LOOKUPS)
		return; /* the walk goes on at the next iteration */
	if (c->out_sweep_removed)
		aidc_log(AIDC_LOG_INFO,
			 "output retention: removed the output of %" PRIu64
			 " jobs ended over %" PRId64 " s ago",
			 c->out_sweep_removed, c->cfg.output_retention_s);
	ctld_output_sweep_end(c);
}
