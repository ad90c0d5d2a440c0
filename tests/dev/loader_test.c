/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plugin loader tests: search path and errors (missing file, bad name, a
 * library without the entry point, a future ABI version), dtype helpers and
 * fp16/bf16 conversions.
 */
#include <math.h>

#include "dev/dev.h"
#include "dev/half.h"
#include "util/util.h"

static int failures;

#define EXPECT_RC(got, want, e)                                                              \
	do {                                                                                 \
		int g_ = (got);                                                              \
		if (g_ != (want)) {                                                          \
			fprintf(stderr, "FAIL %s:%d: %s = %d (%s), want %d\n", __FILE__, __LINE__, \
				#got, g_, (e)->msg, (want));                                 \
			failures++;                                                          \
		}                                                                            \
	} while (0)

static void test_errors(const char *dir)
{
	struct aidc_err e;
	struct dev_plugin p;
	char path[4096];
	aidc_err_clear(&e);
	EXPECT_RC(dev_plugin_open(&p, "/nonexistent/aidc_dev_x.so", NULL, &e), AIDC_E_NOTFOUND, &e);
	aidc_err_clear(&e);
	EXPECT_RC(dev_plugin_open(&p, "no-such-plugin", NULL, &e), AIDC_E_NOTFOUND, &e);
	printf("not found: %s\n", e.msg);
	aidc_err_clear(&e);
	EXPECT_RC(dev_plugin_open(&p, "bad name!", NULL, &e), AIDC_E_INVAL, &e);
	aidc_err_clear(&e);
	EXPECT_RC(dev_plugin_open(&p, "", NULL, &e), AIDC_E_INVAL, &e);
	snprintf(path, sizeof path, "%s/aidc_test_badabi.so", dir);
	aidc_err_clear(&e);
	EXPECT_RC(dev_plugin_open(&p, path, NULL, &e), AIDC_E_VERSION, &e);
	printf("bad ABI: %s\n", e.msg);
	snprintf(path, sizeof path, "%s/aidc_test_nosym.so", dir);
	aidc_err_clear(&e);
	EXPECT_RC(dev_plugin_open(&p, path, NULL, &e), AIDC_E_DEVICE, &e);
	printf("no entry: %s\n", e.msg);
	dev_plugin_close(&p); /* closing a failed open is safe */
}

static void test_search_path(const char *dir)
{
	struct aidc_err e;
	aidc_err_clear(&e);
	char *path = NULL;
	setenv("AIDC_PLUGIN_PATH", dir, 1);
	EXPECT_RC(dev_plugin_resolve("test_badabi", &path, &e), AIDC_E_NOTFOUND, &e);
	/* the test modules are named aidc_test_*, not aidc_dev_*: not found by name */
	aidc_free(path);
	unsetenv("AIDC_PLUGIN_PATH");
}

static void test_half(void)
{
	static const float exact[] = {0.0f, 1.0f, -2.0f, 0.5f, 65504.0f, 6.103515625e-05f};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(exact); i++) {
		if (dev_f16_to_f32(dev_f32_to_f16(exact[i])) != exact[i]) {
			fprintf(stderr, "FAIL: f16 round trip of %g\n", exact[i]);
			failures++;
		}
		if (i < 4 && dev_bf16_to_f32(dev_f32_to_bf16(exact[i])) != exact[i]) {
			fprintf(stderr, "FAIL: bf16 round trip of %g\n", exact[i]);
			failures++;
		}
	}
	/* round to nearest even: 1 + 2^-11 is halfway between 1 and 1 + 2^-10 */
	if (dev_f32_to_f16(1.0f + 1.0f / 2048) != 0x3c00 || dev_f32_to_f16(1e6f) != 0x7c00 ||
	    dev_f16_to_f32(0x0001) != 5.9604644775390625e-08f) {
		fprintf(stderr, "FAIL: f16 rounding, overflow or subnormal\n");
		failures++;
	}
	enum aidc_dev_dtype t;
	if (dev_dtype_parse("bf16", &t) || t != AIDC_DEV_BF16 || dev_dtype_size(t) != 2 ||
	    dev_dtype_parse("f8", &t) != AIDC_E_PARSE) {
		fprintf(stderr, "FAIL: dtype helpers\n");
		failures++;
	}
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	test_errors(dir);
	test_search_path(dir);
	test_half();
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
