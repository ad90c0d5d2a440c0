/* SPDX-License-Identifier: Apache-2.0 */
/*
 * util's string-interning table (src/util/intern.h): dense ids in order of
 * first appearance, the same id for the same string across rehashes, lookups
 * that do not insert, the per-call cap refusing new strings without changing
 * anything, and a zeroed struct being a valid empty table.
 */
#include "util/util.h"
#include "../test.h"

static void test_ids_and_rehash(void)
{
	struct aidc_intern t;
	aidc_intern_init(&t);
	char buf[32];
	uint32_t id;
	/* Enough strings for several rehashes (the table starts at 64 slots). */
	for (uint32_t i = 0; i < 5000; i++) {
		snprintf(buf, sizeof buf, "user-%u", i);
		CHECK_EQ(aidc_intern(&t, buf, UINT32_MAX, &id), 0);
		CHECK_EQ(id, i);
	}
	CHECK_EQ(t.n, 5000);
	for (uint32_t i = 0; i < 5000; i += 7) {
		snprintf(buf, sizeof buf, "user-%u", i);
		CHECK_EQ(aidc_intern(&t, buf, UINT32_MAX, &id), 0);
		CHECK_EQ(id, i);
		CHECK_EQ(aidc_intern_find(&t, buf, &id), 0);
		CHECK_EQ(id, i);
		CHECK_STR(aidc_intern_get(&t, i), buf);
	}
	CHECK_EQ(t.n, 5000); /* no duplicates were added */
	CHECK(aidc_intern_get(&t, 5000) == NULL);
	CHECK_EQ(aidc_intern_find(&t, "user-5000", &id), AIDC_E_NOTFOUND);
	CHECK_EQ(aidc_intern(&t, "", UINT32_MAX, &id), 0); /* "" is a string like any other */
	CHECK_EQ(id, 5000);
	aidc_intern_release(&t);
	CHECK_EQ(t.n, 0);
	aidc_intern_release(&t); /* released twice is harmless */
}

static void test_cap_and_zeroed(void)
{
	struct aidc_intern t = {0};
	uint32_t id = 99;
	CHECK_EQ(aidc_intern_find(&t, "a", &id), AIDC_E_NOTFOUND);
	CHECK(aidc_intern_get(&t, 0) == NULL);
	CHECK_EQ(aidc_intern(&t, "a", 2, &id), 0);
	CHECK_EQ(aidc_intern(&t, "b", 2, &id), 0);
	CHECK_EQ(id, 1);
	id = 99;
	CHECK_EQ(aidc_intern(&t, "c", 2, &id), AIDC_E_LIMIT);
	CHECK_EQ(id, 99);
	CHECK_EQ(t.n, 2);
	CHECK_EQ(aidc_intern_find(&t, "c", &id), AIDC_E_NOTFOUND);
	CHECK_EQ(aidc_intern(&t, "a", 2, &id), 0); /* known strings still resolve at the cap */
	CHECK_EQ(id, 0);
	aidc_intern_release(&t);
}

static void test_hash(void)
{
	/* FNV-1a 64 reference values. */
	CHECK(aidc_hash_str("") == 0xcbf29ce484222325ULL);
	CHECK(aidc_hash_str("a") == 0xaf63dc4c8601ec8cULL);
	CHECK(aidc_hash_str("foobar") == 0x85944171f73967e8ULL);
}

TEST_MAIN(TEST(test_ids_and_rehash), TEST(test_cap_and_zeroed), TEST(test_hash))
