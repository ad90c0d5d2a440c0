/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device plugin loader (see dev.h): search path, dlopen, ABI version check,
 * validation of what a plugin reports, and call wrappers that turn plugin
 * status codes into AIDC_E_* codes carrying the plugin's own explanation.
 */
#include <dlfcn.h>
#include <math.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "dev/dev.h"
#include "util/clock.h"
#include "util/util.h"

#ifndef AIDC_PLUGIN_BUILD_DIR
#define AIDC_PLUGIN_BUILD_DIR ""
#endif
#ifndef AIDC_PLUGIN_INSTALL_DIR
#define AIDC_PLUGIN_INSTALL_DIR "/usr/local/lib/aidc/plugins"
#endif

/* Smallest plugin table this host can use: everything up to allreduce (version 1). */
#define MIN_TABLE_SIZE (offsetof(struct aidc_device_plugin, allreduce) + sizeof(void *))
/* Oldest plugin ABI version this host loads. */
#define MIN_ABI_VERSION 1u

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool valid_name(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
			return false;
	return true;
}

/* Tries dir/aidc_dev_NAME.so; on a hit stores the path. Appends dir to tried. */
static bool try_dir(const char *dir, size_t dlen, const char *name, char **out,
		    struct aidc_buf *tried)
{
	if (dlen == 0)
		return false;
	struct aidc_buf b;
	aidc_buf_init(&b, 8192);
	aidc_buf_append(&b, dir, dlen);
	aidc_buf_printf(&b, "/aidc_dev_%s.so", name);
	if (is_file(aidc_buf_str(&b))) {
		*out = aidc_buf_detach(&b);
		return true;
	}
	aidc_buf_release(&b);
	if (tried->len)
		aidc_buf_puts(tried, ":");
	aidc_buf_append(tried, dir, dlen);
	return false;
}

int dev_plugin_resolve(const char *name_or_path, char **out_path, struct aidc_err *e)
{
	const char *s = name_or_path;
	size_t n = s ? strlen(s) : 0;
	if (n == 0)
		return aidc_errf(e, AIDC_E_INVAL, "empty plugin name");
	if (strchr(s, '/') || (n > 3 && strcmp(s + n - 3, ".so") == 0)) {
		if (!is_file(s))
			return aidc_errf(e, AIDC_E_NOTFOUND, "plugin file %s: not found", s);
		*out_path = aidc_strdup(s);
		return 0;
	}
	if (!valid_name(s))
		return aidc_errf(e, AIDC_E_INVAL,
				 "plugin name '%s': use letters, digits, '-' or '_', or give a path",
				 s);
	struct aidc_buf tried;
	aidc_buf_init(&tried, 16384);
	const char *env = getenv("AIDC_PLUGIN_PATH");
	if (env) {
		for (const char *p = env; *p;) {
			const char *colon = strchr(p, ':');
			size_t len = colon ? (size_t)(colon - p) : strlen(p);
			if (try_dir(p, len, s, out_path, &tried))
				goto found;
			p += len + (colon ? 1 : 0);
		}
	}
	char exe[4096];
	ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 64);
	if (el > 0) {
		exe[el] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			snprintf(slash, sizeof exe - (size_t)(slash - exe), "/../lib/aidc/plugins");
			if (try_dir(exe, strlen(exe), s, out_path, &tried))
				goto found;
		}
	}
	if (try_dir(AIDC_PLUGIN_BUILD_DIR, strlen(AIDC_PLUGIN_BUILD_DIR), s, out_path, &tried))
		goto found;
	if (try_dir(AIDC_PLUGIN_INSTALL_DIR, strlen(AIDC_PLUGIN_INSTALL_DIR), s, out_path, &tried))
		goto found;
	int rc = aidc_errf(e, AIDC_E_NOTFOUND, "plugin '%s': no aidc_dev_%s.so in %s", s, s,
			   aidc_buf_str(&tried));
	aidc_buf_release(&tried);
	return rc;
found:
	aidc_buf_release(&tried);
	return 0;
}

size_t dev_dtype_size(enum aidc_dev_dtype t)
{
	switch (t) {
	case AIDC_DEV_F32:
		return 4;
	case AIDC_DEV_F16:
	case AIDC_DEV_BF16:
		return 2;
	case AIDC_DEV_F64:
		return 8;
	default:
		return 0;
	}
}

static const char *const dtype_names[AIDC_DEV_NDTYPES] = {"f32", "f16", "bf16", "f64"};

const char *dev_dtype_name(enum aidc_dev_dtype t)
{
	return (unsigned)t < AIDC_DEV_NDTYPES ? dtype_names[t] : "unknown";
}

int dev_dtype_parse(const char *s, enum aidc_dev_dtype *out)
{
	for (unsigned i = 0; i < AIDC_DEV_NDTYPES; i++)
		if (strcmp(s, dtype_names[i]) == 0) {
			*out = (enum aidc_dev_dtype)i;
			return 0;
		}
	return AIDC_E_PARSE;
}

static void terminate(char *s, size_t n)
{
	s[n - 1] = '\0';
}

/* "" or a variable name a plugin may have the agent set (not one the agent owns). */
static bool valid_env_name(const char *s)
{
	static const char *const reserved[] = {"PATH", "HOME", "USER", "LOGNAME", "SHELL", "RANK",
					       "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE",
					       "MASTER_ADDR", "MASTER_PORT", "CUDA_VISIBLE_DEVICES"};
	if (!*s)
		return true;
	if (*s >= '0' && *s <= '9')
		return false;
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_'))
			return false;
	if (!strncmp(s, "LD_", 3) || !strncmp(s, "AIDC_", 5))
		return false;
	for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
		if (!strcmp(s, reserved[i]))
			return false;
	return true;
}

static int check_info(struct dev_plugin *p, uint32_t d, struct aidc_dev_info *in,
		      struct aidc_err *e)
{
	terminate(in->name, sizeof in->name);
	terminate(in->vendor, sizeof in->vendor);
	terminate(in->model, sizeof in->model);
	terminate(in->driver, sizeof in->driver);
	terminate(in->uuid, sizeof in->uuid);
	if (!dev_plugin_v2(p))
		memset(in->visible_env, 0, sizeof in->visible_env);
	terminate(in->visible_env, sizeof in->visible_env);
	if (!valid_env_name(in->visible_env))
		return aidc_errf(e, AIDC_E_DEVICE,
				 "%s: device %u: visible_env '%s' is not a variable a plugin may "
				 "name (letters, digits and '_', not starting with a digit; not "
				 "LD_*, AIDC_*, PATH, HOME or another the agent sets)",
				 p->path, d, in->visible_env);
	if (!in->model[0])
		snprintf(in->model, sizeof in->model, "%s", in->name[0] ? in->name : "unknown");
	for (unsigned i = 0; i < AIDC_DEV_NDTYPES; i++)
		if (!isfinite(in->peak_gflops[i]) || in->peak_gflops[i] < 0)
			return aidc_errf(e, AIDC_E_DEVICE, "%s: device %u: bad peak_gflops", p->path,
					 d);
	if (!isfinite(in->peak_mem_gbps) || in->peak_mem_gbps < 0 ||
	    !isfinite(in->peak_host_link_gbps) || in->peak_host_link_gbps < 0)
		return aidc_errf(e, AIDC_E_DEVICE, "%s: device %u: bad peak bandwidth", p->path, d);
	return 0;
}

/* CLOCK_MONOTONIC seconds, the clock the exam's supervisor reads. */
static double monotonic_s(void)
{
	return (double)aidc_mono_us() * 1e-6;
}

static void watch_begin(struct dev_plugin *p, const char *call)
{
	if (!p->watch)
		return;
	size_t i = 0;
	for (; call[i] && i + 1 < sizeof p->watch->call; i++)
		p->watch->call[i] = call[i];
	p->watch->call[i] = '\0';
	p->watch->start_s = monotonic_s();
}

static void watch_end(struct dev_plugin *p)
{
	if (!p->watch)
		return;
	double took = monotonic_s() - p->watch->start_s;
	if (took > p->watch->longest_s)
		p->watch->longest_s = took;
	p->watch->start_s = 0;
}

static int open_common(struct dev_plugin *p, const char *config, struct aidc_err *e)
{
	const struct aidc_device_plugin *api = p->api;
	if (!api)
		return aidc_errf(e, AIDC_E_DEVICE, "%s: entry point returned no table", p->path);
	if (api->abi_version < MIN_ABI_VERSION || api->abi_version > AIDC_DEVICE_ABI_VERSION)
		return aidc_errf(e, AIDC_E_VERSION,
				 "%s: plugin ABI version %u, this aidc speaks versions %u to %u",
				 p->path, api->abi_version, MIN_ABI_VERSION, AIDC_DEVICE_ABI_VERSION);
	if (api->struct_size < MIN_TABLE_SIZE)
		return aidc_errf(e, AIDC_E_VERSION, "%s: plugin table is %u bytes, need %zu",
				 p->path, api->struct_size, (size_t)MIN_TABLE_SIZE);
	if (!api->init || !api->fini || !api->device_count || !api->device_info ||
	    !api->mem_alloc || !api->mem_free || !api->copy_h2d || !api->copy_d2h ||
	    !api->synchronize)
		return aidc_errf(e, AIDC_E_DEVICE, "%s: a mandatory entry point is missing",
				 p->path);
	if (dev_plugin_v2(p) && !api->last_error)
		return aidc_errf(e, AIDC_E_DEVICE,
				 "%s: last_error is mandatory from plugin ABI version 2", p->path);
	char msg[AIDC_ERRMSG_MAX] = "";
	watch_begin(p, "init");
	int irc = api->init(config, &p->ctx, msg, sizeof msg);
	watch_end(p);
	if (irc != 0) {
		p->ctx = NULL;
		terminate(msg, sizeof msg);
		return aidc_errf(e, AIDC_E_DEVICE, "%s: init failed: %s", p->path,
				 msg[0] ? msg : "no reason given");
	}
	uint32_t n = 0;
	watch_begin(p, "device_count");
	int crc = api->device_count(p->ctx, &n);
	watch_end(p);
	if (crc != 0)
		return aidc_errf(e, AIDC_E_DEVICE, "%s: device_count failed", p->path);
	if (n > AIDC_MAX_PLUGIN_DEVICES)
		return aidc_errf(e, AIDC_E_LIMIT, "%s: %u devices, limit %u", p->path, n,
				 AIDC_MAX_PLUGIN_DEVICES);
	p->info = aidc_calloc(n ? n : 1, sizeof *p->info);
	p->ndev = n;
	for (uint32_t d = 0; d < n; d++) {
		p->info[d].struct_size = sizeof p->info[d];
		watch_begin(p, "device_info");
		int drc = api->device_info(p->ctx, d, &p->info[d]);
		watch_end(p);
		if (drc != 0)
			return aidc_errf(e, AIDC_E_DEVICE, "%s: device_info(%u) failed", p->path, d);
		int rc = check_info(p, d, &p->info[d], e);
		if (rc)
			return rc;
	}
	return 0;
}

int dev_plugin_open(struct dev_plugin *p, const char *name_or_path, const char *config,
		    struct aidc_err *e)
{
	return dev_plugin_open_watched(p, name_or_path, config, NULL, e);
}

int dev_plugin_open_watched(struct dev_plugin *p, const char *name_or_path, const char *config,
			    struct dev_watch *watch, struct aidc_err *e)
{
	memset(p, 0, sizeof *p);
	p->watch = watch;
	int rc = dev_plugin_resolve(name_or_path, &p->path, e);
	if (rc)
		return rc;
	p->dl = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
	if (!p->dl) {
		rc = aidc_errf(e, AIDC_E_DEVICE, "cannot load plugin: %s", dlerror());
		goto fail;
	}
	aidc_device_plugin_entry_fn entry;
	void *sym = dlsym(p->dl, AIDC_DEVICE_ENTRY_SYMBOL);
	if (!sym) {
		rc = aidc_errf(e, AIDC_E_DEVICE, "%s: not an AIDC device plugin (no %s symbol)",
			       p->path, AIDC_DEVICE_ENTRY_SYMBOL);
		goto fail;
	}
	memcpy(&entry, &sym, sizeof entry);
	/* Newest version first; a plugin that cannot serve it may serve an older one. */
	watch_begin(p, "entry");
	for (uint32_t v = AIDC_DEVICE_ABI_VERSION; !p->api && v >= MIN_ABI_VERSION; v--)
		p->api = entry(v);
	watch_end(p);
	rc = open_common(p, config, e);
	if (rc)
		goto fail;
	return 0;
fail:
	dev_plugin_close(p);
	return rc;
}

int dev_plugin_open_table(struct dev_plugin *p, const struct aidc_device_plugin *api,
			  const char *config, struct aidc_err *e)
{
	memset(p, 0, sizeof *p);
	p->path = aidc_strdup("(builtin)");
	p->api = api;
	int rc = open_common(p, config, e);
	if (rc)
		dev_plugin_close(p);
	return rc;
}

void dev_plugin_close(struct dev_plugin *p)
{
	if (p->ctx && p->api && p->api->fini)
		p->api->fini(p->ctx);
	/* Under LeakSanitizer, keep the library mapped so leak reports can name it. */
#ifndef AIDC_DEV_NO_DLCLOSE
	if (p->dl)
		dlclose(p->dl);
#endif
	aidc_free(p->path);
	aidc_free(p->info);
	memset(p, 0, sizeof *p);
}

/* ---- call wrappers ------------------------------------------------------- */

bool dev_plugin_v2(const struct dev_plugin *p)
{
	return p->api->abi_version >= 2 &&
	       p->api->struct_size >= offsetof(struct aidc_device_plugin, host_free) + sizeof(void *);
}

/* A version-1 plugin knows no buffer offsets: refuse them rather than have them ignored. */
static int check_offsets(struct dev_plugin *p, const char *call, uint64_t o1, uint64_t o2,
			 uint64_t o3, struct aidc_err *e)
{
	if ((o1 | o2 | o3) && !dev_plugin_v2(p))
		return aidc_errf(e, AIDC_E_UNSUPPORTED,
				 "%s: %s: buffer offsets need plugin ABI version 2 (the plugin "
				 "speaks version %u)",
				 p->api->name ? p->api->name : "plugin", call, p->api->abi_version);
	return 0;
}

static int fail_call(struct dev_plugin *p, int st, const char *call, struct aidc_err *e)
{
	const char *detail = p->api->last_error ? p->api->last_error(p->ctx) : NULL;
	char d[AIDC_ERRMSG_MAX];
	snprintf(d, sizeof d, "%s", detail && *detail ? detail : "no detail");
	const char *name = p->api->name ? p->api->name : p->path;
	switch (st) {
	case AIDC_DEV_ERR_UNSUPPORTED:
		return aidc_errf(e, AIDC_E_UNSUPPORTED, "%s: %s: not supported: %s", name, call, d);
	case AIDC_DEV_ERR_INVALID:
		return aidc_errf(e, AIDC_E_INVAL, "%s: %s: invalid argument: %s", name, call, d);
	case AIDC_DEV_ERR_NOMEM:
		return aidc_errf(e, AIDC_E_NOMEM, "%s: %s: out of device memory: %s", name, call, d);
	default:
		return aidc_errf(e, AIDC_E_DEVICE, "%s: %s: failed (status %d): %s", name, call, st,
				 d);
	}
}

static int check_dev(struct dev_plugin *p, uint32_t dev, const char *call, struct aidc_err *e)
{
	if (dev >= p->ndev)
		return aidc_errf(e, AIDC_E_INVAL, "%s: device %u of %u", call, dev, p->ndev);
	return 0;
}

#define CALL(p, dev, slot, call, e, ...)                                                   \
	do {                                                                               \
		int rc_ = check_dev(p, dev, call, e);                                      \
		if (rc_)                                                                   \
			return rc_;                                                        \
		if (!(p)->api->slot)                                                       \
			return aidc_errf(e, AIDC_E_UNSUPPORTED, "%s: %s: not implemented", \
					 (p)->api->name ? (p)->api->name : "plugin", call);  \
		watch_begin(p, call);                                                      \
		int st_ = (p)->api->slot((p)->ctx, __VA_ARGS__);                           \
		watch_end(p);                                                              \
		return st_ == AIDC_DEV_OK ? 0 : fail_call(p, st_, call, e);                \
	} while (0)

int dev_mem_alloc(struct dev_plugin *p, uint32_t dev, uint64_t bytes, struct aidc_dev_mem **out,
		  struct aidc_err *e)
{
	CALL(p, dev, mem_alloc, "mem_alloc", e, dev, bytes, out);
}

void dev_mem_free(struct dev_plugin *p, uint32_t dev, struct aidc_dev_mem *mem)
{
	if (!mem || dev >= p->ndev)
		return;
	watch_begin(p, "mem_free");
	int st = p->api->mem_free(p->ctx, dev, mem);
	watch_end(p);
	if (st)
		aidc_log(AIDC_LOG_WARN, "%s: mem_free failed (status %d)", p->path, st);
}

int dev_copy_h2d(struct dev_plugin *p, uint32_t dev, struct aidc_dev_mem *dst, uint64_t off,
		 const void *src, uint64_t bytes, struct aidc_err *e)
{
	CALL(p, dev, copy_h2d, "copy_h2d", e, dev, dst, off, src, bytes);
}

int dev_copy_d2h(struct dev_plugin *p, uint32_t dev, void *dst, const struct aidc_dev_mem *src,
		 uint64_t off, uint64_t bytes, struct aidc_err *e)
{
	CALL(p, dev, copy_d2h, "copy_d2h", e, dev, dst, src, off, bytes);
}

int dev_copy_d2d(struct dev_plugin *p, uint32_t dev, struct aidc_dev_mem *dst,
		 const struct aidc_dev_mem *src, uint64_t bytes, struct aidc_err *e)
{
	CALL(p, dev, copy_d2d, "copy_d2d", e, dev, dst, 0, src, 0, bytes);
}

int dev_copy_peer(struct dev_plugin *p, uint32_t dst_dev, struct aidc_dev_mem *dst,
		  uint32_t src_dev, const struct aidc_dev_mem *src, uint64_t bytes,
		  struct aidc_err *e)
{
	int rc = check_dev(p, src_dev, "copy_peer", e);
	if (rc)
		return rc;
	CALL(p, dst_dev, copy_peer, "copy_peer", e, dst_dev, dst, src_dev, src, bytes);
}

int dev_sync(struct dev_plugin *p, uint32_t dev, struct aidc_err *e)
{
	CALL(p, dev, synchronize, "synchronize", e, dev);
}

int dev_gemm(struct dev_plugin *p, uint32_t dev, const struct aidc_dev_gemm *a, struct aidc_err *e)
{
	int orc = check_offsets(p, "gemm", a->a_off, a->b_off, a->c_off, e);
	if (orc)
		return orc;
	CALL(p, dev, gemm, "gemm", e, dev, a);
}

int dev_conv2d(struct dev_plugin *p, uint32_t dev, const struct aidc_dev_conv2d *a,
	       struct aidc_err *e)
{
	CALL(p, dev, conv2d, "conv2d", e, dev, a);
}

int dev_attention(struct dev_plugin *p, uint32_t dev, const struct aidc_dev_attention *a,
		  struct aidc_err *e)
{
	CALL(p, dev, attention, "attention", e, dev, a);
}

int dev_eltwise(struct dev_plugin *p, uint32_t dev, const struct aidc_dev_eltwise *a,
		struct aidc_err *e)
{
	int orc = check_offsets(p, "eltwise", a->x_off, a->y_off, a->z_off, e);
	if (orc)
		return orc;
	CALL(p, dev, eltwise, "eltwise", e, dev, a);
}

int dev_reduce(struct dev_plugin *p, uint32_t dev, const struct aidc_dev_reduce *a,
	       struct aidc_err *e)
{
	int orc = check_offsets(p, "reduce", a->x_off, a->y_off, 0, e);
	if (orc)
		return orc;
	CALL(p, dev, reduce, "reduce", e, dev, a);
}

int dev_allreduce(struct dev_plugin *p, const struct aidc_dev_allreduce *a, struct aidc_err *e)
{
	if (a->ndev < 2 || a->ndev > p->ndev)
		return aidc_errf(e, AIDC_E_INVAL, "allreduce over %u devices of %u", a->ndev,
				 p->ndev);
	for (uint32_t i = 0; i < a->ndev; i++)
		if (a->devs[i] >= p->ndev)
			return aidc_errf(e, AIDC_E_INVAL, "allreduce: device %u of %u", a->devs[i],
					 p->ndev);
	if (!p->api->allreduce)
		return aidc_errf(e, AIDC_E_UNSUPPORTED, "%s: allreduce: not implemented",
				 p->api->name ? p->api->name : "plugin");
	watch_begin(p, "allreduce");
	int st = p->api->allreduce(p->ctx, a);
	watch_end(p);
	return st == AIDC_DEV_OK ? 0 : fail_call(p, st, "allreduce", e);
}

int dev_links(struct dev_plugin *p, struct aidc_dev_link **out, uint32_t *out_n,
	      struct aidc_err *e)
{
	*out = NULL;
	*out_n = 0;
	if (!p->api->links)
		return 0;
	uint32_t n = 0;
	int st = p->api->links(p->ctx, NULL, 0, &n);
	if (st)
		return fail_call(p, st, "links", e);
	uint32_t max = AIDC_MAX_PLUGIN_DEVICES * 4;
	if (n > max)
		return aidc_errf(e, AIDC_E_LIMIT, "%s: %u links, limit %u", p->path, n, max);
	if (n == 0)
		return 0;
	struct aidc_dev_link *l = aidc_calloc(n, sizeof *l);
	uint32_t got = 0;
	st = p->api->links(p->ctx, l, n, &got);
	if (st) {
		aidc_free(l);
		return fail_call(p, st, "links", e);
	}
	if (got > n)
		got = n;
	for (uint32_t i = 0; i < got; i++) {
		terminate(l[i].kind, sizeof l[i].kind);
		if (l[i].a >= p->ndev || l[i].b >= p->ndev || !isfinite(l[i].gbps) || l[i].gbps < 0) {
			aidc_free(l);
			return aidc_errf(e, AIDC_E_DEVICE, "%s: link %u is invalid", p->path, i);
		}
	}
	*out = l;
	*out_n = got;
	return 0;
}

int dev_host_alloc(struct dev_plugin *p, uint32_t dev, uint64_t bytes, void **out,
		   struct aidc_err *e)
{
	*out = NULL;
	if (!dev_plugin_v2(p) || !p->api->host_alloc || !p->api->host_free)
		return aidc_errf(e, AIDC_E_UNSUPPORTED, "%s: host_alloc: not implemented",
				 p->api->name ? p->api->name : "plugin");
	CALL(p, dev, host_alloc, "host_alloc", e, dev, bytes, out);
}

void dev_host_free(struct dev_plugin *p, uint32_t dev, void *ptr)
{
	if (!ptr || dev >= p->ndev || !dev_plugin_v2(p) || !p->api->host_free)
		return;
	watch_begin(p, "host_free");
	int st = p->api->host_free(p->ctx, dev, ptr);
	watch_end(p);
	if (st)
		aidc_log(AIDC_LOG_WARN, "%s: host_free failed (status %d)", p->path, st);
}

void dev_last_path(struct dev_plugin *p, uint32_t dev, char *out, size_t n)
{
	if (!n)
		return;
	out[0] = '\0';
	if (dev >= p->ndev ||
	    p->api->struct_size < offsetof(struct aidc_device_plugin, last_path) + sizeof(void *) ||
	    !p->api->last_path)
		return;
	watch_begin(p, "last_path");
	const char *s = p->api->last_path(p->ctx, dev);
	watch_end(p);
	if (!s)
		return;
	/* free text from the plugin: keep it printable for the report and logs */
	size_t i = 0;
	for (; s[i] && i + 1 < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e ? '?' : s[i];
	out[i] = '\0';
}

void dev_child_default_faults(void)
{
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], SIG_DFL);
}
