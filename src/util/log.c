/* SPDX-License-Identifier: Apache-2.0 */
/* stderr logging for the drivers, pid files, bounded-rate logging (see log.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/util.h"

/* The process-wide settings of util; set once at start-up by main(). */
static enum aidc_log_level current = AIDC_LOG_INFO;
static char pidfile[AIDC_MAX_PATH_BYTES];
/* With --log-file: the stderr the process started with, where a failure to
 * write the log file is said (a full disk must not silence a daemon), and
 * when that was last said (at most once a minute). */
static int first_stderr = -1;
static char log_path[AIDC_MAX_PATH_BYTES];
static int64_t log_fail_said_ms = -1;

void aidc_log_set_level(enum aidc_log_level level)
{
	current = level;
}

enum aidc_log_level aidc_log_get_level(void)
{
	return current;
}

void aidc_logv(enum aidc_log_level level, const char *fmt, va_list ap)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	if (level > current)
		return;
	char line[2048], stamp[40];
	vsnprintf(line, sizeof line, fmt, ap);
	struct tm tm;
	int64_t now = aidc_wall_ms();
	time_t sec = (time_t)(now / 1000);
	gmtime_r(&sec, &tm);
	size_t k = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + k, sizeof stamp - k, ".%03dZ", (int)(now % 1000));
	/* One fprintf per line: stdio's stream lock keeps threads' lines whole. */
	if (fprintf(stderr, "%s aidc[%ld]: %s: %s\n", stamp, (long)getpid(), names[level], line) <
		    0 &&
	    first_stderr >= 0) {
		int err = errno;
		clearerr(stderr);
		if (log_fail_said_ms < 0 || now - log_fail_said_ms >= 60000) {
			log_fail_said_ms = now;
			dprintf(first_stderr,
				"%s aidc[%ld]: error: cannot write the log file %s: %s; log lines "
				"are being lost (this line: %s: %s)\n",
				stamp, (long)getpid(), log_path, strerror(err), names[level], line);
		}
	}
}

void aidc_log(enum aidc_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	aidc_logv(level, fmt, ap);
	va_end(ap);
}

int aidc_log_open_file(const char *path, struct aidc_err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return aidc_errf(e, AIDC_E_IO, "log file %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return aidc_errf(e, AIDC_E_IO, "log file %s: not a regular file", path);
	}
	fflush(stderr);
	if (first_stderr < 0)
		first_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	snprintf(log_path, sizeof log_path, "%s", path);
	if (dup2(fd, STDERR_FILENO) < 0) {
		int err = errno;
		close(fd);
		return aidc_errf(e, AIDC_E_IO, "log file %s: %s", path, strerror(err));
	}
	close(fd);
	setvbuf(stderr, NULL, _IOLBF, 0);
	return 0;
}

/* The pid in a pid file, 0 if none can be read. */
static long read_pid(const char *path)
{
	char buf[32] = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	int64_t v = 0;
	buf[strcspn(buf, "\r\n ")] = '\0';
	return aidc_parse_i64(buf, 1, INT32_MAX, &v) == 0 ? (long)v : 0;
}

/* Whether pid is a live process: one that exists and is not a zombie (a
 * daemon killed under a parent that does not reap, such as a container's
 * init, stays a zombie; its pid file is stale all the same). */
static bool pid_alive(long pid)
{
	if (kill((pid_t)pid, 0) != 0 && errno != EPERM)
		return false;
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true; /* no /proc: trust kill() */
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	const char *rp = strrchr(buf, ')'); /* "pid (comm) S ...": comm may hold anything */
	return !(rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'));
}

int aidc_pidfile_write(const char *path, struct aidc_err *e)
{
	if (strlen(path) >= sizeof pidfile)
		return aidc_errf(e, AIDC_E_LIMIT, "pid file %s: path too long", path);
	long old = read_pid(path);
	if (old > 0 && old != (long)getpid() && pid_alive(old))
		return aidc_errf(e, AIDC_E_BUSY, "pid file %s names process %ld, still running",
				 path, old);
	char tmp[AIDC_MAX_PATH_BYTES + 16], text[32];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return aidc_errf(e, AIDC_E_IO, "pid file %s: %s", tmp, strerror(errno));
	int n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
	bool ok = write(fd, text, (size_t)n) == n;
	ok &= close(fd) == 0;
	if (!ok || rename(tmp, path) != 0) {
		int err = errno;
		unlink(tmp);
		return aidc_errf(e, AIDC_E_IO, "pid file %s: %s", path, strerror(err));
	}
	snprintf(pidfile, sizeof pidfile, "%s", path);
	return 0;
}

void aidc_pidfile_remove(void)
{
	if (pidfile[0] && read_pid(pidfile) == (long)getpid())
		unlink(pidfile);
	pidfile[0] = '\0';
}

/* ---- --background ------------------------------------------------------------------ */

static int daemon_fd = -1; /* the child's end of the readiness pipe */

static void daemon_say(char kind, const char *msg)
{
	if (daemon_fd < 0)
		return;
	char buf[1024];
	int n = snprintf(buf, sizeof buf, "%c%s", kind, msg ? msg : "");
	if (n > (int)sizeof buf - 1)
		n = (int)sizeof buf - 1;
	for (int off = 0; off < n;) {
		ssize_t w = write(daemon_fd, buf + off, (size_t)(n - off));
		if (w <= 0)
			break;
		off += (int)w;
	}
	close(daemon_fd);
	daemon_fd = -1;
	/* The stderr it started with belongs to whoever launched it (a shell's
	 * $(...), an ssh session): holding it would keep them waiting for EOF
	 * after the parent exits. Point it at /dev/null in one atomic step, so a
	 * thread logging at this moment never writes to a reused descriptor. */
	if (first_stderr >= 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null >= 0) {
			dup3(null, first_stderr, O_CLOEXEC);
			close(null);
		}
	}
}

void aidc_daemon_ready(const char *fmt, ...)
{
	char msg[900] = "";
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
	}
	daemon_say('R', msg);
}

void aidc_daemon_failed(const char *msg)
{
	daemon_say('F', msg);
}

/* The parent: wait for the child's word and exit with it. */
static void daemon_parent(const char *who, const char *log_file, int fd, pid_t pid)
{
	char buf[1024];
	size_t n = 0;
	while (n < sizeof buf - 1) {
		ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	if (n > 0 && buf[0] == 'R') {
		if (buf[1])
			fprintf(stderr, "aidc %s: %s\n", who, buf + 1);
		printf("aidc %s: running in the background, pid %ld, log %s\n", who, (long)pid,
		       log_file);
		exit(0);
	}
	if (n > 0 && buf[0] == 'F') {
		if (buf[1]) /* else the child said it on this terminal */
			fprintf(stderr, "aidc %s: %s\n", who, buf + 1);
	} else {
		int st = 0;
		pid_t w = waitpid(pid, &st, WNOHANG);
		fprintf(stderr, "aidc %s: stopped before it was ready (%s); see %s\n", who,
			w == pid && WIFSIGNALED(st) ? "killed by a signal" : "exited", log_file);
	}
	exit(1);
}

int aidc_daemon_start(const char *who, const char *log_file, struct aidc_err *e)
{
	int p[2];
	if (pipe(p) != 0)
		return aidc_errf(e, AIDC_E_IO, "--background: pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return aidc_errf(e, AIDC_E_IO, "--background: fork: %s", strerror(errno));
	}
	if (pid > 0) {
		close(p[1]);
		daemon_parent(who, log_file, p[0], pid);
	}
	close(p[0]);
	fcntl(p[1], F_SETFD, FD_CLOEXEC); /* tasks and helpers do not inherit it */
	daemon_fd = p[1];
	setsid();
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		close(null);
	}
	return 0;
}

void aidc_log_limited(struct aidc_log_limiter *l, enum aidc_log_level level, const char *fmt, ...)
{
	char msg[sizeof l->last];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	int64_t now = aidc_mono_ms(), every = l->interval_ms > 0 ? l->interval_ms : 30000;
	if (!strcmp(msg, l->last)) {
		if (now - l->last_ms < every) {
			l->repeats++;
			return;
		}
		aidc_log(level, "%s (again %" PRIu64 " times in %" PRId64 " s)", msg, l->repeats + 1,
			 (now - l->last_ms) / 1000);
	} else {
		aidc_log(level, "%s", msg);
	}
	snprintf(l->last, sizeof l->last, "%s", msg);
	l->last_ms = now;
	l->repeats = 0;
}

void aidc_log_limiter_reset(struct aidc_log_limiter *l)
{
	l->last[0] = '\0';
	l->repeats = 0;
}

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

void aidc_stop_signals_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int aidc_stop_signal(void)
{
	return (int)stop_signal;
}
