/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device plugin loader: finds a plugin by name or path, dlopens it,
 * checks its ABI version, opens a context, validates what it reports about
 * its devices against util/limits.h, and wraps every call so that plugin
 * status codes become AIDC_E_* codes with a message naming the plugin and
 * the call. The exam harness and the node agent both go through here; the
 * plugin ABI itself is include/aidc/device.h.
 *
 * Search path for a plugin NAME (a bare word such as "cpu"); the file looked
 * for is aidc_dev_NAME.so, in order:
 *   1. each directory in $AIDC_PLUGIN_PATH (colon-separated);
 *   2. <directory of the aidc binary>/../lib/aidc/plugins (relocatable install);
 *   3. the build tree's plugin directory (compiled in; skipped if absent);
 *   4. the install directory <libdir>/aidc/plugins (compiled in).
 * An argument containing '/' or ending in ".so" is taken as a path as-is.
 */
#ifndef AIDC_DEV_DEV_H
#define AIDC_DEV_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <aidc/device.h>

#include "util/err.h"
#include "util/limits.h"

/*
 * Which plugin call is running, for a supervisor in another process (the
 * exam's isolated harness puts this in shared memory and kills a worker
 * whose call runs past its timeout). start_s is CLOCK_MONOTONIC seconds,
 * 0 when no call is running; longest_s is the longest call that has
 * returned since the supervisor last set it to 0 (it scales the exam's
 * default timeouts to the device's speed).
 */
struct dev_watch {
	volatile double start_s;
	volatile double longest_s;
	volatile char call[24];
};

/*
 * For a child process that hosts a plugin under a supervisor: the fault
 * signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) get their default
 * action back, so a plugin's crash ends the child by that signal and the
 * supervisor can name it (a sanitizer's or debugger's inherited handler
 * would turn it into an exit status).
 */
void dev_child_default_faults(void);

struct dev_plugin {
	struct dev_watch *watch;              /* borrowed; NULL = nobody watches */
	void *dl;                             /* dlopen handle; NULL for an in-process table */
	const struct aidc_device_plugin *api; /* borrowed from the library */
	void *ctx;                            /* plugin context from init() */
	char *path;                           /* owned; resolved file, or "(builtin)" */
	uint32_t ndev;
	struct aidc_dev_info *info;           /* owned; ndev validated entries */
};

/*
 * Resolves name_or_path to a file that exists (see the search path above).
 * *out_path is owned by the caller (aidc_free). AIDC_E_NOTFOUND lists the
 * directories tried.
 */
int dev_plugin_resolve(const char *name_or_path, char **out_path, struct aidc_err *e);

/*
 * Loads, version-checks and opens a plugin, then reads and validates every
 * device's info. config is passed to the plugin's init (borrowed; may be
 * NULL). On failure *p is left released. Release with dev_plugin_close.
 */
int dev_plugin_open(struct dev_plugin *p, const char *name_or_path, const char *config,
		    struct aidc_err *e);
/* The same, with watch (borrowed, may be NULL) recording each call from the entry point on. */
int dev_plugin_open_watched(struct dev_plugin *p, const char *name_or_path, const char *config,
			    struct dev_watch *watch, struct aidc_err *e);
/* The same for a function table already in this process (tests); api is borrowed. */
int dev_plugin_open_table(struct dev_plugin *p, const struct aidc_device_plugin *api,
			  const char *config, struct aidc_err *e);
/* Closes the context and unloads the library. Safe on a zeroed or closed struct. */
void dev_plugin_close(struct dev_plugin *p);

/* Bytes per element of a dtype (0 for an unknown one), and its name ("f32" ...). */
size_t dev_dtype_size(enum aidc_dev_dtype t);
const char *dev_dtype_name(enum aidc_dev_dtype t);
/* Parses "f32", "f16", "bf16", "f64"; AIDC_E_PARSE otherwise. */
int dev_dtype_parse(const char *s, enum aidc_dev_dtype *out);

/*
 * Wrappers around the plugin's calls. Each returns 0, AIDC_E_UNSUPPORTED
 * (slot NULL or the plugin said so), AIDC_E_INVAL for a bad device index, or
 * AIDC_E_DEVICE / AIDC_E_NOMEM with "<plugin>: <call>: <plugin's detail>"
 * in e. Pointers are borrowed for the duration of the call.
 */
int dev_mem_alloc(struct dev_plugin *p, uint32_t dev, uint64_t bytes, struct aidc_dev_mem **out,
		  struct aidc_err *e);
/* NULL mem is a no-op; failures are logged, not returned (cleanup paths). */
void dev_mem_free(struct dev_plugin *p, uint32_t dev, struct aidc_dev_mem *mem);
int dev_copy_h2d(struct dev_plugin *p, uint32_t dev, struct aidc_dev_mem *dst, uint64_t off,
		 const void *src, uint64_t bytes, struct aidc_err *e);
int dev_copy_d2h(struct dev_plugin *p, uint32_t dev, void *dst, const struct aidc_dev_mem *src,
		 uint64_t off, uint64_t bytes, struct aidc_err *e);
int dev_copy_d2d(struct dev_plugin *p, uint32_t dev, struct aidc_dev_mem *dst,
		 const struct aidc_dev_mem *src, uint64_t bytes, struct aidc_err *e);
int dev_copy_peer(struct dev_plugin *p, uint32_t dst_dev, struct aidc_dev_mem *dst,
		  uint32_t src_dev, const struct aidc_dev_mem *src, uint64_t bytes,
		  struct aidc_err *e);
int dev_sync(struct dev_plugin *p, uint32_t dev, struct aidc_err *e);
int dev_gemm(struct dev_plugin *p, uint32_t dev, const struct aidc_dev_gemm *a, struct aidc_err *e);
int dev_conv2d(struct dev_plugin *p, uint32_t dev, const struct aidc_dev_conv2d *a,
	       struct aidc_err *e);
int dev_attention(struct dev_plugin *p, uint32_t dev, const struct aidc_dev_attention *a,
		  struct aidc_err *e);
int dev_eltwise(struct dev_plugin *p, uint32_t dev, const struct aidc_dev_eltwise *a,
		struct aidc_err *e);
int dev_reduce(struct dev_plugin *p, uint32_t dev, const struct aidc_dev_reduce *a,
	       struct aidc_err *e);
int dev_allreduce(struct dev_plugin *p, const struct aidc_dev_allreduce *a, struct aidc_err *e);
/* Pinned host memory from the plugin (ABI version 2, optional: AIDC_E_UNSUPPORTED). */
int dev_host_alloc(struct dev_plugin *p, uint32_t dev, uint64_t bytes, void **out,
		   struct aidc_err *e);
/* NULL ptr is a no-op; failures are logged. */
void dev_host_free(struct dev_plugin *p, uint32_t dev, void *ptr);
/* True when the plugin speaks ABI version 2 (offsets, host_alloc, visible_env). */
bool dev_plugin_v2(const struct dev_plugin *p);
/* Copies the plugin's last_path text for dev (see aidc_device_plugin) into
 * out (n bytes, NUL-terminated, non-printable bytes as '?'); "" when the
 * plugin does not offer it or dev is out of range. */
void dev_last_path(struct dev_plugin *p, uint32_t dev, char *out, size_t n);
/* Links between devices; *out is owned by the caller (aidc_free), NULL when none. */
int dev_links(struct dev_plugin *p, struct aidc_dev_link **out, uint32_t *out_n,
	      struct aidc_err *e);

/* ---- a node's devices, as the agent registers them (providers.c, nvml.c) ---- */

struct dev_node_device {
	char vendor[AIDC_MAX_NAME_BYTES];
	char model[AIDC_MAX_NAME_BYTES];
	char uuid[AIDC_MAX_NAME_BYTES];  /* "" when the provider knows none */
	char visible_env[64];            /* the vendor's visibility variable, "" = none */
	uint64_t mem_mib;
};

/*
 * Discovers the node's accelerators from a provider spec:
 *   "none"            no accelerators
 *   "mock:N:MODEL"    N virtual accelerators of MODEL (vendor "mock"), for tests/demos
 *   "mock:N:MODEL:VENDOR"  the same with a vendor (e.g. nvidia, to get CUDA_VISIBLE_DEVICES)
 *   "plugin:NAME[:CONFIG]"  a device plugin (include/aidc/device.h) through the
 *                     loader above, in a child process (dev_plugin_discover)
 *   "nvml"            every NVIDIA GPU, through libnvidia-ml loaded at run time
 * Writes up to AIDC_MAX_DEVICES_PER_NODE entries into out (caller-owned).
 */
int dev_node_discover(const char *spec, struct dev_node_device *out, uint32_t *n,
		      struct aidc_err *e);

/* How long plugin discovery may take before the child is killed
 * ($AIDC_PLUGIN_DISCOVER_TIMEOUT_S overrides it: 1..3600). */
#define DEV_DISCOVER_TIMEOUT_S 60

/*
 * Loads the plugin (name or path, with config) in a forked child process,
 * reads its devices and unloads it there: a plugin that crashes, hangs (past
 * DEV_DISCOVER_TIMEOUT_S) or is refused (ABI version, init failure) cannot
 * take the caller down. AIDC_E_DEVICE (or the loader's own code, e.g.
 * AIDC_E_VERSION) with the reason: "crashed (signal 11, ...) while ...".
 * Call it before starting threads (it forks).
 */
int dev_plugin_discover(const char *plugin, const char *config, struct dev_node_device *out,
			uint32_t *n, struct aidc_err *e);

/*
 * The "nvml" provider (nvml.c): dlopens $AIDC_NVML_LIBRARY (default
 * "libnvidia-ml.so.1"), reports each GPU as vendor "nvidia", its NVML name
 * and total memory in MiB. More than AIDC_MAX_DEVICES_PER_NODE GPUs is
 * AIDC_E_LIMIT; a missing library or symbol, or a failing NVML call (its
 * return code in the message), is AIDC_E_DEVICE. out is caller-owned with
 * room for AIDC_MAX_DEVICES_PER_NODE entries; nothing is kept after return.
 */
int dev_nvml_discover(struct dev_node_device *out, uint32_t *n, struct aidc_err *e);

/*
 * NVML health of the node's GPUs (nvml_health.c): a watch keeps NVML loaded
 * and an XID event set registered. dev_nvml_watch_check fills why (size n)
 * with what is wrong, "; "-separated, or "" when healthy: critical XIDs seen
 * since the watch opened (sticky), uncorrected volatile ECC errors, retired
 * pages pending, temperature at or above the slowdown threshold; checks the
 * library or a GPU does not support are skipped. Close with
 * dev_nvml_watch_close (NULL is a no-op).
 */
struct dev_nvml_watch;
int dev_nvml_watch_open(struct dev_nvml_watch **out, struct aidc_err *e);
void dev_nvml_watch_check(struct dev_nvml_watch *w, char *why, size_t n);
void dev_nvml_watch_close(struct dev_nvml_watch *w);
/* GPU i's busy percent over NVML's last sample period and memory in use;
 * AIDC_E_NOTFOUND when NVML cannot tell. dev_nvml_watch_count: the GPUs. */
int dev_nvml_watch_usage(struct dev_nvml_watch *w, unsigned int i, uint32_t *util_pct,
			 uint64_t *mem_used_mib);
unsigned int dev_nvml_watch_count(const struct dev_nvml_watch *w);

#endif
