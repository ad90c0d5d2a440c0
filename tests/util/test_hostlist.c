/* SPDX-License-Identifier: Apache-2.0 */
/* util/hostlist: Slurm hostlist expansion and compression, edges and refusals. */
#include <string.h>

#include "util/hostlist.h"
#include "util/util.h"
#include "../test.h"

/* Expands list and joins the names with spaces; "ERR: <message>" on error. */
static void expand_joined(const char *list, size_t max, char *out, size_t cap)
{
	char **v = NULL;
	size_t n = 0;
	struct aidc_err e;
	aidc_err_clear(&e);
	int rc = aidc_hostlist_expand(list, max, &v, &n, &e);
	if (rc) {
		snprintf(out, cap, "ERR: %s", aidc_err_text(&e, rc));
		return;
	}
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? " " : "", v[i]);
	aidc_hostlist_free(v, n);
}

static void test_expand(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{"node1", "node1"},
		{"gpu[01-03,07],login1", "gpu01 gpu02 gpu03 gpu07 login1"},
		{"gpu[01-02,7]", "gpu01 gpu02 gpu7"}, /* each range its own width */
		{"n[8-10]", "n8 n9 n10"},
		{"n[08-10]", "n08 n09 n10"},
		{"r[1-2]n[1-2]", "r1n1 r1n2 r2n1 r2n2"},
		{"a[1-2]-ib", "a1-ib a2-ib"},
		{"a b,c", "a b c"},
		{"x,x", "x x"},
	};
	char got[512];
	for (size_t i = 0; i < AIDC_ARRAY_LEN(t); i++) {
		expand_joined(t[i].in, 100, got, sizeof got);
		CHECK_STR(got, t[i].want);
	}
}

static void test_refusals(void)
{
	static const struct {
		const char *in, *why;
	} t[] = {
		{"", "no host names"},
		{"a,,b", "empty host name"},
		{"n[1-", "unbalanced"},
		{"n[1-3", "unbalanced"},
		{"n[[1]]", "unbalanced"},
		{"n[3-1]", "runs backwards"},
		{"n[a]", "expected a number"},
		{"n[1-1234567890]", "expected a number"},
		{"n[1;2]", "unexpected ';'"},
		{"n[1-999999999]", "more than 100 hosts"},
		{"n]", "bad character"},
	};
	char got[512];
	for (size_t i = 0; i < AIDC_ARRAY_LEN(t); i++) {
		expand_joined(t[i].in, 100, got, sizeof got);
		CHECK(!strncmp(got, "ERR: ", 5));
		CHECK_CONTAINS(got, t[i].why);
	}
	/* A name at the length limit. */
	char longname[AIDC_MAX_NAME_BYTES + 8];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	expand_joined(longname, 100, got, sizeof got);
	CHECK_CONTAINS(got, "longer than");
}

static void test_compress(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{"node1", "node1"},
		{"n1 n2 n3 n5", "n[1-3,5]"},
		{"gpu01 gpu02 gpu03 gpu07 login1", "gpu[01-03,07],login1"},
		{"n9 n10", "n9,n10"},
		{"a b", "a,b"},
		{"r1n1 r1n2 r2n1", "r1n[1-2],r2n1"},
		/* a bracket holds numbers of at most 9 digits (found by
		 * test_fuzz_hostlist: these were "dgx[1234567890-1234567891]",
		 * which expand refuses) */
		{"n123456789 n123456790", "n[123456789-123456790]"},
		{"dgx1234567890 dgx1234567891", "dgx1234567890,dgx1234567891"},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(t); i++) {
		char **v = NULL;
		size_t n = 0;
		struct aidc_err e;
		aidc_err_clear(&e);
		CHECK_EQ(aidc_hostlist_expand(t[i].in, 100, &v, &n, &e), 0);
		struct aidc_buf b;
		aidc_buf_init(&b, 4096);
		CHECK_EQ(aidc_hostlist_compress(v, n, &b), 0);
		CHECK_STR(aidc_buf_str(&b), t[i].want);
		/* and back: the compressed form expands to the same names */
		char again[512], orig[512];
		expand_joined(aidc_buf_str(&b), 100, again, sizeof again);
		expand_joined(t[i].in, 100, orig, sizeof orig);
		CHECK_STR(again, orig);
		aidc_buf_release(&b);
		aidc_hostlist_free(v, n);
	}
}

TEST_MAIN(TEST(test_expand), TEST(test_refusals), TEST(test_compress))
