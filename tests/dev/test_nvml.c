/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit test of the "nvml" device provider (src/dev/nvml.c)
 * without a GPU: $AIDC_NVML_LIBRARY points at the fake libnvidia-ml built
 * from tests/dev/fake_nvml.c (its path is argv[1]), whose devices and
 * failures are steered by FAKE_NVML_COUNT / FAKE_NVML_FAIL. One table row per
 * case: the discovered devices, or the error code and message.
 */
#include <stdlib.h>

#include "dev/dev.h"
#include "tests/test.h"
#include "util/util.h"

struct nvml_case {
	const char *lib;   /* NULL = the fake library */
	const char *count; /* FAKE_NVML_COUNT, NULL = unset (2) */
	const char *fail;  /* FAKE_NVML_FAIL, NULL = unset */
	int rc;
	uint32_t ndev;
	const char *msg; /* substring of the error, NULL if rc == 0 */
};

static const struct nvml_case cases[] = {
	{NULL, NULL, NULL, 0, 2, NULL},
	{NULL, "0", NULL, 0, 0, NULL},
	{NULL, "64", NULL, 0, 64, NULL},
	{NULL, "65", NULL, AIDC_E_LIMIT, 0, "65 GPUs, limit 64"},
	{"/nonexistent/libnvidia-ml.so.1", NULL, NULL, AIDC_E_DEVICE, 0,
	 "cannot load NVML (NVIDIA driver installed? AIDC_NVML_LIBRARY overrides the library): "
	 "/nonexistent/libnvidia-ml.so.1"},
	{"libm.so.6", NULL, NULL, AIDC_E_DEVICE, 0, "libm.so.6 has no symbol nvmlInit_v2"},
	{NULL, NULL, "nvmlInit_v2", AIDC_E_DEVICE, 0, "nvmlInit_v2 failed: NVML error 999"},
	{NULL, NULL, "nvmlDeviceGetCount_v2", AIDC_E_DEVICE, 0,
	 "nvmlDeviceGetCount_v2 failed: NVML error 999"},
	{NULL, NULL, "nvmlDeviceGetHandleByIndex_v2", AIDC_E_DEVICE, 0,
	 "nvmlDeviceGetHandleByIndex_v2(0) failed: NVML error 999"},
	{NULL, NULL, "nvmlDeviceGetName", AIDC_E_DEVICE, 0,
	 "nvmlDeviceGetName(0) failed: NVML error 999"},
	{NULL, NULL, "nvmlDeviceGetMemoryInfo", AIDC_E_DEVICE, 0,
	 "nvmlDeviceGetMemoryInfo(0) failed: NVML error 999"},
	{NULL, NULL, "nvmlDeviceGetUUID", AIDC_E_DEVICE, 0,
	 "nvmlDeviceGetUUID(0) failed: NVML error 999"},
	/* A failing shutdown after a good discovery changes nothing. */
	{NULL, NULL, "nvmlShutdown", 0, 2, NULL},
};

static void set_or_unset(const char *name, const char *value)
{
	if (value)
		setenv(name, value, 1);
	else
		unsetenv(name);
}

static void run_case(size_t k, const struct nvml_case *c, const char *fake)
{
	struct dev_node_device devs[AIDC_MAX_DEVICES_PER_NODE];
	struct aidc_err e = {0};
	uint32_t n = 99;
	set_or_unset("AIDC_NVML_LIBRARY", c->lib ? c->lib : fake);
	set_or_unset("FAKE_NVML_COUNT", c->count);
	set_or_unset("FAKE_NVML_FAIL", c->fail);
	/* Through the provider dispatch, as `aidc agent --devices nvml` does. */
	int rc = dev_node_discover("nvml", devs, &n, &e);
	printf("case %zu: rc %d, %u devices%s%s\n", k, rc, n, e.msg[0] ? ": " : "", e.msg);
	CHECK_EQ(rc, c->rc);
	CHECK_EQ(n, c->ndev);
	if (c->msg)
		CHECK_CONTAINS(e.msg, c->msg);
	else
		CHECK_STR(e.msg, "");
	for (uint32_t i = 0; rc == 0 && i < n; i++) {
		CHECK_STR(devs[i].vendor, "nvidia");
		CHECK_STR(devs[i].model, "NVIDIA H100 80GB HBM3");
		CHECK_EQ(devs[i].mem_mib, 81559);
	}
}

static const char *fake_lib; /* argv[1] */

static void test_fake_library(void)
{
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
		run_case(k, &cases[k], fake_lib);
}

/* The spec is exactly "nvml": a suffix is not silently ignored. */
static void test_spec_suffix(void)
{
	struct dev_node_device devs[AIDC_MAX_DEVICES_PER_NODE];
	struct aidc_err e = {0};
	uint32_t n = 0;
	CHECK_EQ(dev_node_discover("nvml:0", devs, &n, &e), AIDC_E_INVAL);
	CHECK_CONTAINS(e.msg, "or nvml");
}

/* test_nvml PATH-OF-FAKE-LIBNVIDIA-ML [CASE...] */
int main(int argc, char **argv)
{
	static const struct test_case tests[] = {TEST(test_fake_library), TEST(test_spec_suffix)};
	if (argc < 2)
		TEST_SKIP("usage: test_nvml PATH-OF-FAKE-LIBNVIDIA-ML");
	fake_lib = argv[1];
	argv[1] = argv[0];
	return test_run(argc - 1, argv + 1, tests, sizeof tests / sizeof tests[0]);
}
