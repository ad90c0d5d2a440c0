/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process logging for the drivers (CLI, simulator, controller, agent): one
 * line per message on stderr, "2026-01-31T12:00:00.123Z aidc[PID]: LEVEL:
 * MESSAGE" (UTC, milliseconds), so lines of several daemons interleave in
 * time order. A daemon's --log-file points stderr itself at a file
 * (aidc_log_open_file), so libraries' and children's stderr land there too.
 * The scheduling core never calls this: it logs through the function table
 * it is given (struct sched_env).
 */
#ifndef AIDC_UTIL_LOG_H
#define AIDC_UTIL_LOG_H

#include <stdarg.h>
#include <stdint.h>

#include "util/err.h"

enum aidc_log_level { AIDC_LOG_ERROR, AIDC_LOG_WARN, AIDC_LOG_INFO, AIDC_LOG_DEBUG };

void aidc_log_set_level(enum aidc_log_level level);
enum aidc_log_level aidc_log_get_level(void);
void aidc_log(enum aidc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void aidc_logv(enum aidc_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Points stderr (fd 2) at path, opened for appending (created 0600). path
 * is borrowed. AIDC_E_IO naming the path on failure; stderr is unchanged.
 * The first stderr is kept: a log line that cannot be written (a full disk)
 * is said there, at most once a minute. */
int aidc_log_open_file(const char *path, struct aidc_err *e);

/*
 * Writes this process's pid into path (created 0644, replaced). A file that
 * names another live process is refused (AIDC_E_BUSY: a second daemon with
 * the same pid file). The path is kept (copied) for aidc_pidfile_remove,
 * which removes the file if it still names this process.
 */
int aidc_pidfile_write(const char *path, struct aidc_err *e);
void aidc_pidfile_remove(void);

/*
 * --background for the daemons: aidc_daemon_start forks; the child (return
 * 0) starts a new session with stdin and stdout on /dev/null and goes on; the
 * parent waits until the child calls aidc_daemon_ready (then it prints the
 * note, if any, and exits 0) or aidc_daemon_failed or exits (it prints why,
 * or that the child died before it was ready, naming log_file, and exits 1).
 * log_file (kept) is where the child's stderr goes; the caller opens it in
 * the child. Both calls are no-ops in a process not started this way, and
 * only the first one counts; aidc_daemon_failed("") when the child printed the
 * reason itself (before its stderr went to the log file).
 */
int aidc_daemon_start(const char *who, const char *log_file, struct aidc_err *e);
void aidc_daemon_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void aidc_daemon_failed(const char *msg);

/*
 * The daemons' shutdown request: SIGINT and SIGTERM only record the signal,
 * which aidc_stop_signal returns (0 = none yet) for the main loop to poll,
 * and SIGPIPE is ignored (a peer that went away is a write error, not a
 * reason to die).
 */
void aidc_stop_signals_install(void);
int aidc_stop_signal(void);

/*
 * A bounded-rate logger for a failure that repeats (an agent that cannot
 * reach its controller): a message different from the previous one is
 * logged at once; the same message again at most once per interval_ms,
 * with how many times it recurred meanwhile. One per thread (not locked).
 */
struct aidc_log_limiter {
	int64_t interval_ms;
	int64_t last_ms;    /* when the last line was written (monotonic) */
	uint64_t repeats;   /* of the last message since its last line */
	char last[512];
};
void aidc_log_limited(struct aidc_log_limiter *l, enum aidc_log_level level, const char *fmt,
		      ...) __attribute__((format(printf, 3, 4)));
/* Forgets the last message (the failure healed): the next one is logged at once. */
void aidc_log_limiter_reset(struct aidc_log_limiter *l);

#endif
