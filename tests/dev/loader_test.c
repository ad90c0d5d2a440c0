/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plugin loader tests: search path and errors (missing file, bad name, a
 * library without the entry point, a future ABI version), dtype helpers,
 * fp16/bf16 conversions, and the in-tree plugins' device_info writing no
 * byte past a version-1 host's struct_size.
 */
#include <dlfcn.h>
#include <math.h>
#include <string.h>

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

/*
 * A version-1 host's struct aidc_dev_info ends before visible_env: each
 * in-tree plugin built here (that finds a device) must leave every byte past
 * that struct_size as it was.
 */
static void test_info_size(void)
{
	static const char *const names[] = {"cpu", "example", "opencl", "cuda"};
	const char *bin = getenv("AIDC_BINARY_DIR");
	const size_t v1 = offsetof(struct aidc_dev_info, visible_env);

	for (size_t i = 0; bin && i < AIDC_ARRAY_LEN(names); i++) {
		char path[4096], err[256];
		snprintf(path, sizeof path, "%s/plugins/aidc_dev_%s.so", bin, names[i]);
		void *so = dlopen(path, RTLD_NOW | RTLD_LOCAL), *ctx = NULL;
		const struct aidc_device_plugin *(*entry)(uint32_t) =
		    so ? (const struct aidc_device_plugin *(*)(uint32_t))dlsym(
			     so, "aidc_device_plugin_entry")
		       : NULL;
		const struct aidc_device_plugin *api = entry ? entry(AIDC_DEVICE_ABI_VERSION) : NULL;
		uint32_t n = 0;
		if (api && api->init("", &ctx, err, sizeof err) == 0 &&
		    api->device_count(ctx, &n) == 0 && n > 0) {
			struct aidc_dev_info info;
			memset(&info, 0xab, sizeof info);
			info.struct_size = (uint32_t)v1;
			int rc = api->device_info(ctx, 0, &info);
			const unsigned char *b = (const unsigned char *)&info;
			size_t k = v1;
			while (k < sizeof info && b[k] == 0xab)
				k++;
			if (rc != 0 || k != sizeof info || info.struct_size != v1) {
				fprintf(stderr, "FAIL: %s device_info wrote past struct_size %zu\n",
					names[i], v1);
				failures++;
			} else {
				printf("%s: device_info kept to a version-1 struct_size\n",
				       names[i]);
			}
		}
		if (api && ctx)
			api->fini(ctx);
		/* No dlclose: the runtimes a plugin loads (OpenCL, CUDA) keep
		 * allocations that LeakSanitizer reports once they are unmapped. */
	}
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	test_errors(dir);
	test_search_path(dir);
	test_half();
	test_info_size();
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
