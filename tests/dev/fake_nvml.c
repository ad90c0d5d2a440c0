/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fake libnvidia-ml for tests of the "nvml" device provider
 * (src/dev/nvml.c) on machines without a GPU: it exports the seven
 * NVML entry points the provider uses and reports FAKE_NVML_COUNT devices
 * (default 2) named "NVIDIA H100 80GB HBM3" with 81559 MiB each.
 * FAKE_NVML_FAIL=<entry point name> makes that call return NVML error 999
 * (NVML_ERROR_UNKNOWN), to test the error paths. Calls before nvmlInit_v2
 * return 1 (NVML_ERROR_UNINITIALIZED), as the real library does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fake_nvml_memory {
	unsigned long long total, free, used;
};

/* Prototypes, for -Wmissing-prototypes: these are the exported symbols. */
int nvmlInit_v2(void);
int nvmlShutdown(void);
int nvmlDeviceGetCount_v2(unsigned int *count);
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **device);
int nvmlDeviceGetName(void *device, char *name, unsigned int length);
int nvmlDeviceGetMemoryInfo(void *device, struct fake_nvml_memory *mem);
int nvmlDeviceGetUUID(void *device, char *uuid, unsigned int length);

#define FAKE_UNINITIALIZED 1
#define FAKE_INVALID_ARGUMENT 2
#define FAKE_UNKNOWN 999

/* Handles are 1-based indexes cast to pointers; never dereferenced. */
static int initialized;

static unsigned int fake_count(void)
{
	const char *s = getenv("FAKE_NVML_COUNT");
	return s && *s ? (unsigned int)strtoul(s, NULL, 10) : 2u;
}

/* Returns the error a call named fn must give, 0 if it proceeds. */
static int gate(const char *fn, int needs_init)
{
	const char *f = getenv("FAKE_NVML_FAIL");
	if (f && strcmp(f, fn) == 0)
		return FAKE_UNKNOWN;
	if (needs_init && !initialized)
		return FAKE_UNINITIALIZED;
	return 0;
}

static int index_of(void *device, unsigned int *i)
{
	unsigned long v = (unsigned long)device;
	if (v == 0 || v > fake_count())
		return FAKE_INVALID_ARGUMENT;
	*i = (unsigned int)(v - 1);
	return 0;
}

int nvmlInit_v2(void)
{
	int r = gate("nvmlInit_v2", 0);
	if (r == 0)
		initialized++;
	return r;
}

int nvmlShutdown(void)
{
	int r = gate("nvmlShutdown", 1);
	if (r == 0)
		initialized--;
	return r;
}

int nvmlDeviceGetCount_v2(unsigned int *count)
{
	int r = gate("nvmlDeviceGetCount_v2", 1);
	if (r == 0)
		*count = fake_count();
	return r;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **device)
{
	int r = gate("nvmlDeviceGetHandleByIndex_v2", 1);
	if (r)
		return r;
	if (index >= fake_count())
		return FAKE_INVALID_ARGUMENT;
	*device = (void *)(unsigned long)(index + 1);
	return 0;
}

int nvmlDeviceGetName(void *device, char *name, unsigned int length)
{
	unsigned int i;
	int r = gate("nvmlDeviceGetName", 1);
	if (r || (r = index_of(device, &i)) != 0)
		return r;
	snprintf(name, length, "NVIDIA H100 80GB HBM3");
	return 0;
}

int nvmlDeviceGetMemoryInfo(void *device, struct fake_nvml_memory *mem)
{
	unsigned int i;
	int r = gate("nvmlDeviceGetMemoryInfo", 1);
	if (r || (r = index_of(device, &i)) != 0)
		return r;
	mem->total = 81559ull << 20;
	mem->used = 0;
	mem->free = mem->total;
	return 0;
}

int nvmlDeviceGetUUID(void *device, char *uuid, unsigned int length)
{
	unsigned int i;
	int r = gate("nvmlDeviceGetUUID", 1);
	if (r || (r = index_of(device, &i)) != 0)
		return r;
	snprintf(uuid, length, "GPU-00000000-fake-0000-0000-%012u", i);
	return 0;
}
