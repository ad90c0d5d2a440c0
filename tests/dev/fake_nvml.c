/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fake libnvidia-ml for tests of the "nvml" device provider
 * (src/dev/nvml.c) on machines without a GPU: it exports the seven
 * NVML entry points the provider uses and reports FAKE_NVML_COUNT devices
 * (default 2) named "NVIDIA H100 80GB HBM3" with 81559 MiB each.
 * FAKE_NVML_FAIL=<entry point name> makes that call return NVML error 999
 * (NVML_ERROR_UNKNOWN), to test the error paths. Calls before nvmlInit_v2
 * return 1 (NVML_ERROR_UNINITIALIZED), as the real library does.
 *
 * Health (src/dev/nvml_health.c): the file $FAKE_NVML_HEALTH_FILE, read at
 * every call, holds "KEY VALUE" lines for GPU 0: "ecc N" (uncorrected ECC
 * errors), "pending 1" (retired pages pending), "temp C" (the slowdown
 * threshold is 90 C; default 40 C), "xid N" (delivered once to each event
 * set), "util PCT" and "memused MIB" (device use; default 0). Without the
 * file every GPU is healthy and idle.
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
struct fake_nvml_event {
	void *device;
	unsigned long long type, data;
	unsigned int gpu_instance, compute_instance;
};
int nvmlDeviceGetTotalEccErrors(void *device, int type, int counter, unsigned long long *count);
int nvmlDeviceGetRetiredPagesPendingStatus(void *device, int *pending);
int nvmlDeviceGetTemperature(void *device, int sensor, unsigned int *temp);
int nvmlDeviceGetTemperatureThreshold(void *device, int kind, unsigned int *temp);
int nvmlEventSetCreate(void **set);
int nvmlDeviceRegisterEvents(void *device, unsigned long long types, void *set);
int nvmlEventSetWait_v2(void *set, struct fake_nvml_event *data, unsigned int timeout_ms);
int nvmlEventSetFree(void *set);
struct fake_nvml_util {
	unsigned int gpu, memory;
};
int nvmlDeviceGetUtilizationRates(void *device, struct fake_nvml_util *u);

#define FAKE_UNINITIALIZED 1
#define FAKE_INVALID_ARGUMENT 2
#define FAKE_UNKNOWN 999

static long long health(void *device, const char *key, long long def);

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
	mem->used = (unsigned long long)health(device, "memused", 0) << 20;
	mem->free = mem->total - mem->used;
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

/* The health file's value of key for GPU 0, or def. */
static long long health(void *device, const char *key, long long def)
{
	const char *path = getenv("FAKE_NVML_HEALTH_FILE");
	if ((unsigned long)device != 1 || !path)
		return def;
	FILE *f = fopen(path, "r");
	if (!f)
		return def;
	char k[32];
	long long v, out = def;
	while (fscanf(f, "%31s %lld", k, &v) == 2)
		if (strcmp(k, key) == 0)
			out = v;
	fclose(f);
	return out;
}

int nvmlDeviceGetTotalEccErrors(void *device, int type, int counter, unsigned long long *count)
{
	unsigned int i;
	int r = gate("nvmlDeviceGetTotalEccErrors", 1);
	if (r || (r = index_of(device, &i)) != 0)
		return r;
	*count = type == 1 && counter == 0 ? (unsigned long long)health(device, "ecc", 0) : 0;
	return 0;
}

int nvmlDeviceGetRetiredPagesPendingStatus(void *device, int *pending)
{
	unsigned int i;
	int r = gate("nvmlDeviceGetRetiredPagesPendingStatus", 1);
	if (r || (r = index_of(device, &i)) != 0)
		return r;
	*pending = (int)health(device, "pending", 0);
	return 0;
}

int nvmlDeviceGetTemperature(void *device, int sensor, unsigned int *temp)
{
	unsigned int i;
	int r = gate("nvmlDeviceGetTemperature", 1);
	if (r || (r = index_of(device, &i)) != 0)
		return r;
	*temp = sensor == 0 ? (unsigned int)health(device, "temp", 40) : 0;
	return 0;
}

int nvmlDeviceGetTemperatureThreshold(void *device, int kind, unsigned int *temp)
{
	unsigned int i;
	int r = gate("nvmlDeviceGetTemperatureThreshold", 1);
	if (r || (r = index_of(device, &i)) != 0)
		return r;
	*temp = kind == 1 ? 90u : 95u;
	return 0;
}

static long long xid_delivered;

int nvmlEventSetCreate(void **set)
{
	int r = gate("nvmlEventSetCreate", 1);
	if (r == 0)
		*set = (void *)1;
	return r;
}

int nvmlDeviceRegisterEvents(void *device, unsigned long long types, void *set)
{
	unsigned int i;
	int r = gate("nvmlDeviceRegisterEvents", 1);
	(void)types;
	(void)set;
	return r ? r : index_of(device, &i);
}

int nvmlEventSetWait_v2(void *set, struct fake_nvml_event *data, unsigned int timeout_ms)
{
	int r = gate("nvmlEventSetWait_v2", 1);
	(void)set;
	(void)timeout_ms;
	if (r)
		return r;
	long long xid = health((void *)1, "xid", 0);
	if (xid == 0 || xid == xid_delivered)
		return 10; /* NVML_ERROR_TIMEOUT: no event */
	xid_delivered = xid;
	memset(data, 0, sizeof *data);
	data->device = (void *)1;
	data->type = 0x8;
	data->data = (unsigned long long)xid;
	return 0;
}

int nvmlEventSetFree(void *set)
{
	(void)set;
	return gate("nvmlEventSetFree", 1);
}

int nvmlDeviceGetUtilizationRates(void *device, struct fake_nvml_util *u)
{
	unsigned int i;
	int r = gate("nvmlDeviceGetUtilizationRates", 1);
	if (r || (r = index_of(device, &i)) != 0)
		return r;
	u->gpu = (unsigned int)health(device, "util", 0);
	u->memory = 0;
	return 0;
}
