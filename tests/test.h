/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Minimal test harness shared by every C test binary (cf. libuv's task.h and
 * runner.h): assertions print both operands and the location, count failures,
 * and keep going. A test that cannot run here calls TEST_SKIP("reason"), which
 * prints the reason and exits 77 (ctest SKIP).
 *
 * The runner: a test file lists its cases in a table and main() returns
 * test_run(argc, argv, cases, n) (or uses TEST_MAIN). Each case runs in its own
 * forked process (its own process group) with its own timeout, so a crash, an
 * abort or a hang is reported with the case's name and the other cases still
 * run. Command line of every test binary:
 *   test_x                 every case, each in its own process
 *   test_x CASE...         only these cases (still forked)
 *   test_x --list          the case names
 *   test_x --no-fork CASE  CASE in this process (for a debugger)
 * Exit status: 1 if any case failed, crashed or timed out; 77 if every case
 * skipped; else 0. The per-case timeout is the table's, else
 * $AIDC_TEST_CASE_TIMEOUT_S, else TEST_CASE_TIMEOUT_S. Files that do not use the
 * runner yet return test_summary() from main().
 */
#ifndef AIDC_TESTS_TEST_H
#define AIDC_TESTS_TEST_H

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int test_failures_;
static int test_checks_;

#define CHECK(cond)                                                                        \
	do {                                                                               \
		test_checks_++;                                                            \
		if (!(cond)) {                                                             \
			test_failures_++;                                                  \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__,  \
				#cond);                                                    \
		}                                                                          \
	} while (0)

#define CHECK_INT_OP(a, op, b)                                                             \
	do {                                                                               \
		long long a_ = (long long)(a), b_ = (long long)(b);                        \
		test_checks_++;                                                            \
		if (!(a_ op b_)) {                                                         \
			test_failures_++;                                                  \
			fprintf(stderr, "%s:%d: %s %s %s failed: %lld vs %lld\n", __FILE__, \
				__LINE__, #a, #op, #b, a_, b_);                            \
		}                                                                          \
	} while (0)
#define CHECK_EQ(a, b) CHECK_INT_OP(a, ==, b)
#define CHECK_NE(a, b) CHECK_INT_OP(a, !=, b)
#define CHECK_LT(a, b) CHECK_INT_OP(a, <, b)
#define CHECK_LE(a, b) CHECK_INT_OP(a, <=, b)
#define CHECK_GE(a, b) CHECK_INT_OP(a, >=, b)

#define CHECK_STR(a, b)                                                                    \
	do {                                                                               \
		const char *a_ = (a), *b_ = (b);                                           \
		test_checks_++;                                                            \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                   \
			test_failures_++;                                                  \
			fprintf(stderr, "%s:%d: %s == %s failed:\n  \"%s\"\n  \"%s\"\n",   \
				__FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)",            \
				b_ ? b_ : "(null)");                                       \
		}                                                                          \
	} while (0)

#define CHECK_CONTAINS(hay, needle)                                                        \
	do {                                                                               \
		const char *h_ = (hay), *n_ = (needle);                                    \
		test_checks_++;                                                            \
		if (!h_ || !strstr(h_, n_)) {                                              \
			test_failures_++;                                                  \
			fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, \
				__LINE__, h_ ? h_ : "(null)", n_);                         \
		}                                                                          \
	} while (0)

#define TEST_SKIP(...)                                                                     \
	do {                                                                               \
		printf("SKIP: ");                                                          \
		printf(__VA_ARGS__);                                                       \
		printf("\n");                                                              \
		exit(77);                                                                  \
	} while (0)

static inline int test_summary(void)
{
	printf("%d checks, %d failed\n", test_checks_, test_failures_);
	return test_failures_ ? 1 : 0;
}

/* ---- runner ------------------------------------------------------------------ */

#define TEST_CASE_TIMEOUT_S 30

struct test_case {
	const char *name;
	void (*fn)(void);
	int timeout_s; /* 0: the default */
};
/* A row of the case table named after its function. */
#define TEST(fn) {#fn, fn, 0}
/* int main(int argc, char **argv) running the given TEST(...) rows. */
#define TEST_MAIN(...)                                                                     \
	int main(int argc, char **argv)                                                    \
	{                                                                                  \
		static const struct test_case cases_[] = {__VA_ARGS__};                    \
		return test_run(argc, argv, cases_, sizeof cases_ / sizeof cases_[0]);     \
	}

enum test_outcome { TEST_PASSED, TEST_FAILED, TEST_SKIPPED };

static inline int test_case_timeout_s(const struct test_case *c)
{
	const char *env = getenv("AIDC_TEST_CASE_TIMEOUT_S");
	long t = env ? strtol(env, NULL, 10) : 0;
	if (t > 86400)
		t = 86400;
	return c->timeout_s > 0 ? c->timeout_s : t > 0 ? (int)t : TEST_CASE_TIMEOUT_S;
}

/* Runs one case in a child process of its own process group; reports how it ended. */
static inline enum test_outcome test_run_forked(const struct test_case *c)
{
	int timeout_s = test_case_timeout_s(c);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		printf("[ FAIL ] %s: fork: %s\n", c->name, strerror(errno));
		return TEST_FAILED;
	}
	if (pid == 0) {
		setpgid(0, 0);
		c->fn();
		if (test_failures_)
			fprintf(stderr, "%s: %d checks, %d failed\n", c->name, test_checks_,
				test_failures_);
		exit(test_failures_ ? 1 : 0); /* exit, not _exit: flush stdio, run LeakSanitizer */
	}
	setpgid(pid, pid); /* also here: no race with the child's own call */
	struct timespec t0, now, nap = {0, 5 * 1000 * 1000};
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int status = 0;
	bool timed_out = false;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!timed_out && now.tv_sec - t0.tv_sec >= timeout_s) {
			timed_out = true;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
		}
		nanosleep(&nap, NULL);
	}
	kill(-pid, SIGKILL); /* whatever the case left running in its group */
	if (timed_out) {
		printf("[ FAIL ] %s: timed out after %d s\n", c->name, timeout_s);
		return TEST_FAILED;
	}
	if (WIFSIGNALED(status)) {
		printf("[ FAIL ] %s: crashed: signal %d (%s)\n", c->name, WTERMSIG(status),
			strsignal(WTERMSIG(status)));
		return TEST_FAILED;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		printf("[ SKIP ] %s\n", c->name);
		return TEST_SKIPPED;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("[ FAIL ] %s: exit status %d\n", c->name, WEXITSTATUS(status));
		return TEST_FAILED;
	}
	printf("[  OK  ] %s\n", c->name);
	return TEST_PASSED;
}

static inline const struct test_case *test_find(const struct test_case *cases, size_t n,
						const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(cases[i].name, name) == 0)
			return &cases[i];
	fprintf(stderr, "no test case '%s'; the cases are:\n", name);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  %s\n", cases[i].name);
	return NULL;
}

static inline int test_run(int argc, char **argv, const struct test_case *cases, size_t n)
{
	if (argc > 1 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--no-fork") == 0) {
		const struct test_case *c = argc == 3 ? test_find(cases, n, argv[2]) : NULL;
		if (!c) {
			fprintf(stderr, "usage: %s --no-fork CASE\n", argv[0]);
			return 2;
		}
		c->fn();
		return test_summary();
	}
	for (int a = 1; a < argc; a++)
		if (!test_find(cases, n, argv[a]))
			return 2;
	size_t count[3] = {0, 0, 0};
	for (size_t i = 0; i < n; i++) {
		bool wanted = argc == 1;
		for (int a = 1; a < argc && !wanted; a++)
			wanted = strcmp(argv[a], cases[i].name) == 0;
		if (wanted) {
			count[test_run_forked(&cases[i])]++;
			fflush(stdout);
		}
	}
	printf("%zu cases: %zu passed, %zu failed, %zu skipped\n",
	       count[TEST_PASSED] + count[TEST_FAILED] + count[TEST_SKIPPED], count[TEST_PASSED],
	       count[TEST_FAILED], count[TEST_SKIPPED]);
	if (count[TEST_FAILED])
		return 1;
	return count[TEST_PASSED] == 0 && count[TEST_SKIPPED] ? 77 : 0;
}

/*
 * test_run for cases that share one temporary directory: dir (a mkdtemp
 * template, "...XXXXXX") is made before them (else the whole test SKIPs) and
 * removed with everything in it after them.
 */
static inline int test_run_in_dir(int argc, char **argv, const struct test_case *cases, size_t n,
				  char *dir)
{
	if (!mkdtemp(dir))
		TEST_SKIP("cannot create a temporary directory");
	int rc = test_run(argc, argv, cases, n);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", dir);
	return rc;
}

#endif
