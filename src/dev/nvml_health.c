/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVML health checks of a node's GPUs (issue 14 item 5), for the agent's
 * periodic check when its devices come from the "nvml" provider: XID errors
 * (an event set registered for critical XIDs, read without waiting at each
 * check), uncorrected ECC errors since the last driver load (volatile
 * count), pages waiting to be retired (a GPU reset is due), and temperature
 * at or above the GPU's own slowdown threshold. Each check needs its NVML
 * entry point; one the library lacks, or a GPU that answers "not supported",
 * skips that check on that GPU (said once in the log). libnvidia-ml is
 * loaded as in nvml.c ($AIDC_NVML_LIBRARY overrides it) and kept loaded and
 * initialized while the watch is open, so XIDs between checks are not lost.
 */
#include <dlfcn.h>

#include "dev/dev.h"
#include "util/util.h"

#define NVML_SUCCESS 0
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_TIMEOUT 10
#define NVML_MEMORY_ERROR_TYPE_UNCORRECTED 1
#define NVML_VOLATILE_ECC 0
#define NVML_TEMPERATURE_GPU 0
#define NVML_TEMPERATURE_THRESHOLD_SLOWDOWN 1
#define NVML_EVENT_TYPE_XID_CRITICAL 0x8ull

/* nvmlEventData_t as documented (device, type, data = the XID, instances). */
struct nvml_event_data {
	void *device;
	unsigned long long type;
	unsigned long long data;
	unsigned int gpu_instance, compute_instance;
};

struct nvml_util {
	unsigned int gpu, memory; /* percent */
};
struct nvml_mem {
	unsigned long long total, free, used; /* bytes */
};

struct dev_nvml_watch {
	void *dl;
	int (*shutdown)(void);
	int (*handle)(unsigned int, void **);
	int (*ecc)(void *, int, int, unsigned long long *);
	int (*pending)(void *, int *);
	int (*temp)(void *, int, unsigned int *);
	int (*threshold)(void *, int, unsigned int *);
	int (*set_create)(void **);
	int (*reg)(void *, unsigned long long, void *);
	int (*wait)(void *, struct nvml_event_data *, unsigned int);
	int (*set_free)(void *);
	int (*util)(void *, struct nvml_util *);
	int (*memory)(void *, struct nvml_mem *);
	void *set; /* XID event set, or NULL */
	void *dev[AIDC_MAX_DEVICES_PER_NODE];
	unsigned int ndev;
	char xid[200]; /* XIDs seen so far: sticky until the watch is closed */
};

/* Optional entry point: NULL when the library lacks it. */
static void *sym(void *dl, const char *name)
{
	void *p = dlsym(dl, name);
	if (!p)
		aidc_log(AIDC_LOG_INFO, "nvml health: the library has no %s: that check is skipped",
			 name);
	return p;
}

#define SYM(field, name)                                                                    \
	do {                                                                                \
		void *p_ = sym(w->dl, name);                                                \
		memcpy(&w->field, &p_, sizeof w->field);                                   \
	} while (0)

int dev_nvml_watch_open(struct dev_nvml_watch **out, struct aidc_err *e)
{
	const char *env = getenv("AIDC_NVML_LIBRARY");
	const char *lib = env && *env ? env : "libnvidia-ml.so.1";
	*out = NULL;
	struct dev_nvml_watch *w = aidc_calloc(1, sizeof *w);
	int (*init)(void) = NULL, (*count)(unsigned int *) = NULL;
	w->dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!w->dl) {
		aidc_free(w);
		return aidc_errf(e, AIDC_E_DEVICE, "nvml health: cannot load %s", lib);
	}
	SYM(shutdown, "nvmlShutdown");
	SYM(handle, "nvmlDeviceGetHandleByIndex_v2");
	SYM(ecc, "nvmlDeviceGetTotalEccErrors");
	SYM(pending, "nvmlDeviceGetRetiredPagesPendingStatus");
	SYM(temp, "nvmlDeviceGetTemperature");
	SYM(threshold, "nvmlDeviceGetTemperatureThreshold");
	SYM(set_create, "nvmlEventSetCreate");
	SYM(reg, "nvmlDeviceRegisterEvents");
	SYM(wait, "nvmlEventSetWait_v2");
	SYM(set_free, "nvmlEventSetFree");
	SYM(util, "nvmlDeviceGetUtilizationRates");
	SYM(memory, "nvmlDeviceGetMemoryInfo");
	void *pi = dlsym(w->dl, "nvmlInit_v2"), *pc = dlsym(w->dl, "nvmlDeviceGetCount_v2");
	memcpy(&init, &pi, sizeof init);
	memcpy(&count, &pc, sizeof count);
	int r;
	if (!init || !count || !w->shutdown || !w->handle || (r = init()) != NVML_SUCCESS) {
		dlclose(w->dl);
		aidc_free(w);
		return aidc_errf(e, AIDC_E_DEVICE, "nvml health: cannot initialize NVML from %s",
				 lib);
	}
	if (count(&w->ndev) != NVML_SUCCESS || w->ndev > AIDC_MAX_DEVICES_PER_NODE)
		w->ndev = 0;
	for (unsigned int i = 0; i < w->ndev; i++)
		if (w->handle(i, &w->dev[i]) != NVML_SUCCESS)
			w->dev[i] = NULL;
	if (w->set_create && w->reg && w->wait && w->set_create(&w->set) == NVML_SUCCESS) {
		for (unsigned int i = 0; i < w->ndev; i++)
			if (w->dev[i] && (r = w->reg(w->dev[i], NVML_EVENT_TYPE_XID_CRITICAL,
						     w->set)) != NVML_SUCCESS)
				aidc_log(AIDC_LOG_INFO,
					 "nvml health: GPU %u: no XID events (NVML error %d)", i, r);
	} else {
		w->set = NULL;
	}
	*out = w;
	return 0;
}

void dev_nvml_watch_close(struct dev_nvml_watch *w)
{
	if (!w)
		return;
	if (w->set && w->set_free)
		w->set_free(w->set);
	w->shutdown();
	dlclose(w->dl);
	aidc_free(w);
}

/* Appends "; "-separated text to why (bounded). */
static void add(char *why, size_t n, const char *text)
{
	size_t k = strlen(why);
	if (k + 3 < n)
		snprintf(why + k, n - k, "%s%s", k ? "; " : "", text);
}

/* XIDs delivered since the last call, added to the sticky list. */
static void read_xids(struct dev_nvml_watch *w)
{
	struct nvml_event_data ev;
	for (int k = 0; w->set && k < 64; k++) {
		memset(&ev, 0, sizeof ev);
		if (w->wait(w->set, &ev, 0) != NVML_SUCCESS)
			break;
		unsigned int gpu = 0;
		while (gpu < w->ndev && w->dev[gpu] != ev.device)
			gpu++;
		char one[48];
		snprintf(one, sizeof one, "GPU %u XID %llu", gpu, ev.data);
		if (!strstr(w->xid, one))
			add(w->xid, sizeof w->xid, one);
		aidc_log(AIDC_LOG_ERROR, "nvml health: %s", one);
	}
}

void dev_nvml_watch_check(struct dev_nvml_watch *w, char *why, size_t n)
{
	why[0] = '\0';
	read_xids(w);
	if (w->xid[0]) {
		char t[300];
		snprintf(t, sizeof t, "%s (reset the GPU, restart the agent)",
			 w->xid);
		add(why, n, t);
	}
	for (unsigned int i = 0; i < w->ndev; i++) {
		char t[160];
		unsigned long long ecc = 0;
		int pend = 0;
		unsigned int temp = 0, thr = 0;
		if (!w->dev[i])
			continue;
		if (w->ecc && w->ecc(w->dev[i], NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC,
				     &ecc) == NVML_SUCCESS && ecc > 0) {
			snprintf(t, sizeof t, "GPU %u: %llu uncorrected ECC errors", i, ecc);
			add(why, n, t);
		}
		if (w->pending && w->pending(w->dev[i], &pend) == NVML_SUCCESS && pend) {
			snprintf(t, sizeof t, "GPU %u: retired pages pending (reset the GPU)", i);
			add(why, n, t);
		}
		if (w->temp && w->threshold &&
		    w->temp(w->dev[i], NVML_TEMPERATURE_GPU, &temp) == NVML_SUCCESS &&
		    w->threshold(w->dev[i], NVML_TEMPERATURE_THRESHOLD_SLOWDOWN, &thr) ==
			    NVML_SUCCESS &&
		    thr > 0 && temp >= thr) {
			snprintf(t, sizeof t, "GPU %u: %u C, at or above its slowdown threshold %u C",
				 i, temp, thr);
			add(why, n, t);
		}
	}
}

int dev_nvml_watch_usage(struct dev_nvml_watch *w, unsigned int i, uint32_t *util_pct,
			 uint64_t *mem_used_mib)
{
	struct nvml_util u;
	struct nvml_mem m;
	if (i >= w->ndev || !w->dev[i] || !w->util || !w->memory ||
	    w->util(w->dev[i], &u) != NVML_SUCCESS || w->memory(w->dev[i], &m) != NVML_SUCCESS)
		return AIDC_E_NOTFOUND;
	*util_pct = u.gpu > 100 ? 100 : u.gpu;
	*mem_used_mib = m.used >> 20;
	return 0;
}

unsigned int dev_nvml_watch_count(const struct dev_nvml_watch *w)
{
	return w->ndev;
}
