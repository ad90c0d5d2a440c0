/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The "nvml" device provider of a node (see dev_node_discover): every
 * NVIDIA GPU of the node, found through NVML. libnvidia-ml is loaded with
 * dlopen at run time, never linked: AIDC builds and runs on machines without
 * NVIDIA software, and only an agent started with --devices nvml needs it.
 * The few NVML types and prototypes used are declared here from the public
 * NVML documentation, so no NVIDIA header is needed at build time either.
 * $AIDC_NVML_LIBRARY overrides the library (tests point it at a fake one).
 */
#include <dlfcn.h>

#include "dev/dev.h"
#include "util/util.h"

/* nvmlReturn_t is an int enum; 0 is NVML_SUCCESS, anything else a failure
 * whose number we print (nvmlErrorString would be one more symbol to trust). */
#define NVML_SUCCESS 0

/* Buffer sizes NVML documents for names and UUIDs (the _V2 sizes, the largest). */
#define NVML_NAME_BYTES 96u
#define NVML_UUID_BYTES 96u

struct nvml_memory {
	unsigned long long total; /* bytes */
	unsigned long long free;
	unsigned long long used;
};

typedef int (*nvml_init_fn)(void);
typedef int (*nvml_shutdown_fn)(void);
typedef int (*nvml_count_fn)(unsigned int *count);
typedef int (*nvml_handle_fn)(unsigned int index, void **device);
typedef int (*nvml_str_fn)(void *device, char *buf, unsigned int length);
typedef int (*nvml_memory_fn)(void *device, struct nvml_memory *mem);

/* The resolved entry points; all are required. */
struct nvml_api {
	nvml_init_fn init;
	nvml_shutdown_fn shutdown;
	nvml_count_fn count;
	nvml_handle_fn handle;
	nvml_str_fn name;
	nvml_memory_fn memory;
	nvml_str_fn uuid;
};

/* Resolves one symbol into *slot (a function pointer of any type: dlsym
 * returns void *, which C cannot convert to a function pointer by cast). */
static int resolve(void *dl, const char *lib, const char *sym, void *slot, size_t slot_size,
		   struct aidc_err *e)
{
	void *p = dlsym(dl, sym);
	if (!p)
		return aidc_errf(e, AIDC_E_DEVICE, "devices 'nvml': %s has no symbol %s", lib, sym);
	memcpy(slot, &p, slot_size);
	return 0;
}

#define RESOLVE(field, sym)                                                                 \
	do {                                                                                \
		if ((rc = resolve(dl, lib, sym, &api->field, sizeof api->field, e)) != 0)    \
			return rc;                                                          \
	} while (0)

static int resolve_all(void *dl, const char *lib, struct nvml_api *api, struct aidc_err *e)
{
	int rc;
	RESOLVE(init, "nvmlInit_v2");
	RESOLVE(shutdown, "nvmlShutdown");
	RESOLVE(count, "nvmlDeviceGetCount_v2");
	RESOLVE(handle, "nvmlDeviceGetHandleByIndex_v2");
	RESOLVE(name, "nvmlDeviceGetName");
	RESOLVE(memory, "nvmlDeviceGetMemoryInfo");
	RESOLVE(uuid, "nvmlDeviceGetUUID");
	return 0;
}

/* NVML strings come from a driver we do not control: keep them printable so
 * they cannot break the registration JSON's readers or a log line. */
static void sanitize(char *s, size_t cap)
{
	s[cap - 1] = '\0';
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

/* Fills out[i] from NVML device i. Cost: four NVML calls. */
static int one_device(const struct nvml_api *api, unsigned int i, struct dev_node_device *out,
		      struct aidc_err *e)
{
	void *h = NULL;
	char name[NVML_NAME_BYTES] = "", uuid[NVML_UUID_BYTES] = "";
	struct nvml_memory mem = {0};
	int r;
	if ((r = api->handle(i, &h)) != NVML_SUCCESS)
		return aidc_errf(e, AIDC_E_DEVICE,
				 "devices 'nvml': nvmlDeviceGetHandleByIndex_v2(%u) failed: NVML error %d",
				 i, r);
	if ((r = api->name(h, name, sizeof name)) != NVML_SUCCESS)
		return aidc_errf(e, AIDC_E_DEVICE,
				 "devices 'nvml': nvmlDeviceGetName(%u) failed: NVML error %d", i, r);
	if ((r = api->memory(h, &mem)) != NVML_SUCCESS)
		return aidc_errf(e, AIDC_E_DEVICE,
				 "devices 'nvml': nvmlDeviceGetMemoryInfo(%u) failed: NVML error %d", i,
				 r);
	if ((r = api->uuid(h, uuid, sizeof uuid)) != NVML_SUCCESS)
		return aidc_errf(e, AIDC_E_DEVICE,
				 "devices 'nvml': nvmlDeviceGetUUID(%u) failed: NVML error %d", i, r);
	sanitize(name, sizeof name);
	sanitize(uuid, sizeof uuid);
	snprintf(out->vendor, sizeof out->vendor, "nvidia");
	snprintf(out->model, sizeof out->model, "%s", name[0] ? name : "nvidia-gpu");
	out->mem_mib = mem.total >> 20;
	/* The UUID is not part of the registration (the index is what
	 * CUDA_VISIBLE_DEVICES gets); logging it ties index to board. */
	aidc_log(AIDC_LOG_INFO, "nvml: device %u: %s, %" PRIu64 " MiB, %s", i, out->model,
		 out->mem_mib, uuid[0] ? uuid : "(no uuid)");
	return 0;
}

int dev_nvml_discover(struct dev_node_device *out, uint32_t *n, struct aidc_err *e)
{
	const char *env = getenv("AIDC_NVML_LIBRARY");
	const char *lib = env && *env ? env : "libnvidia-ml.so.1";
	struct nvml_api api = {0};
	bool inited = false;
	unsigned int count = 0;
	int rc, r;
	*n = 0;
	void *dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		const char *why = dlerror();
		return aidc_errf(e, AIDC_E_DEVICE,
				 "devices 'nvml': cannot load NVML (NVIDIA driver installed? "
				 "AIDC_NVML_LIBRARY overrides the library): %s",
				 why ? why : lib);
	}
	if ((rc = resolve_all(dl, lib, &api, e)) != 0)
		goto fail;
	if ((r = api.init()) != NVML_SUCCESS) {
		rc = aidc_errf(e, AIDC_E_DEVICE, "devices 'nvml': nvmlInit_v2 failed: NVML error %d",
			       r);
		goto fail;
	}
	inited = true;
	if ((r = api.count(&count)) != NVML_SUCCESS) {
		rc = aidc_errf(e, AIDC_E_DEVICE,
			       "devices 'nvml': nvmlDeviceGetCount_v2 failed: NVML error %d", r);
		goto fail;
	}
	/* Refuse rather than silently drop GPUs: a partial view of the node
	 * would let jobs land on boards that are not where the scheduler thinks. */
	if (count > AIDC_MAX_DEVICES_PER_NODE) {
		rc = aidc_errf(e, AIDC_E_LIMIT, "devices 'nvml': %u GPUs, limit %u", count,
			       AIDC_MAX_DEVICES_PER_NODE);
		goto fail;
	}
	for (unsigned int i = 0; i < count; i++)
		if ((rc = one_device(&api, i, &out[i], e)) != 0)
			goto fail;
	api.shutdown();
	dlclose(dl);
	*n = count;
	return 0;
fail:
	if (inited)
		api.shutdown();
	dlclose(dl);
	return rc;
}
