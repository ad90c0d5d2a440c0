/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cases for runner_check.sh, which runs this binary and checks how tests/test.h's
 * runner reports them: one passes, one fails a check, one crashes, one hangs
 * past its (1 s) timeout, one skips, and one passes after the crash, so a crash
 * hides nothing. Not a ctest test by itself (it is meant to fail).
 */
#include "../test.h"

static void passes(void)
{
	CHECK_EQ(1 + 1, 2);
}

static void fails(void)
{
	CHECK_EQ(1 + 1, 3);
}

static void crashes(void)
{
	abort(); /* not SIGSEGV: AddressSanitizer would catch that and exit 1 */
}

static void hangs(void)
{
	for (;;)
		pause();
}

static void skips(void)
{
	TEST_SKIP("this case is meant to skip");
}

static void after_crash(void)
{
	CHECK(1);
}

TEST_MAIN(TEST(passes), TEST(fails), TEST(crashes), {"hangs", hangs, 1}, TEST(skips),
	  TEST(after_crash))
