/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Minimal test harness shared by every C test binary (cf. libuv's task.h):
 * assertions print both operands and the location, count failures, and keep
 * going; main() returns test_summary(). A test that cannot run here calls
 * TEST_SKIP("reason") which prints the reason and exits 77 (ctest SKIP).
 */
#ifndef AIDC_TESTS_TEST_H
#define AIDC_TESTS_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#endif
