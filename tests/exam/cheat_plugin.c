/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A test plugin that cheats or fails on purpose, one way per run, chosen by
 * $AIDC_TEST_CHEAT (tests/exam/exam_cheats.sh). One device backed by host
 * memory with fp32 and bf16 GEMM (three loops, like plugins/example):
 *   honest        no cheat (must pass)
 *   skip-repeats  skips a GEMM whose buffers and shape equal the previous call's
 *   fake-sync     queues GEMMs and runs them only when the answer is read back;
 *                 synchronize returns at once
 *   truncate      bf16 outputs truncated instead of rounded to nearest even
 *   corner        the last element of every GEMM output is off by 1
 *   segfault      GEMM writes through a null pointer
 *   hang          synchronize never returns
 *   slow          every GEMM sleeps 3 s first
 *   crash-discover  device_info writes through a null pointer (the agent's
 *                 discovery must survive it)
 *   hang-discover   device_count never returns
 * The plugin config (ABI v2 "key=value,..." string, e.g. from the agent's
 * --devices plugin:PATH:CONFIG) may name the cheat instead: "cheat=NAME";
 * "visible=VAR" makes the device declare VAR as its visibility variable and
 * "uuid=ID" its uuid.
 */
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <aidc/device.h>

#include "plugin_util.h"

struct aidc_dev_mem {
	uint64_t bytes;
	unsigned char *data;
};

enum cheat {
	HONEST, SKIP, FAKE_SYNC, TRUNCATE, CORNER, SEGFAULT, HANG, SLOW, CRASH_DISCOVER,
	HANG_DISCOVER
};

struct ctx {
	enum cheat cheat;
	char err[128];
	char visible[64], uuid[64];
	struct aidc_dev_gemm last; /* skip-repeats: the previous call */
	struct aidc_dev_gemm queued;
	uint64_t nqueued; /* fake-sync: calls not run yet */
};

PLUGIN_DEFINE_FAIL(fail, struct ctx)

/* The value of key in a "key=value,..." config, copied into out; 0 if absent. */
static int config_get(const char *config, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);
	for (const char *p = config; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (n > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			snprintf(out, len, "%.*s", (int)(n - kl - 1), p + kl + 1);
			return 1;
		}
		p += n + (comma ? 1 : 0);
	}
	return 0;
}

static int ch_init(const char *config, void **out, char *err, size_t errlen)
{
	static const char *const names[] = {"honest", "skip-repeats", "fake-sync", "truncate",
					    "corner", "segfault", "hang", "slow",
					    "crash-discover", "hang-discover"};
	char cfg_cheat[64];
	const char *s = getenv("AIDC_TEST_CHEAT");
	if (config_get(config, "cheat", cfg_cheat, sizeof cfg_cheat))
		s = cfg_cheat;
	struct ctx *c = calloc(1, sizeof *c);
	if (!c)
		return AIDC_DEV_ERR_NOMEM;
	config_get(config, "visible", c->visible, sizeof c->visible);
	config_get(config, "uuid", c->uuid, sizeof c->uuid);
	c->cheat = (enum cheat)-1;
	for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
		if (s && !strcmp(s, names[i]))
			c->cheat = (enum cheat)i;
	if ((int)c->cheat < 0) {
		snprintf(err, errlen, "cheat: set AIDC_TEST_CHEAT (got '%s')", s ? s : "");
		free(c);
		return AIDC_DEV_ERR_INVALID;
	}
	*out = c;
	return AIDC_DEV_OK;
}

static void ch_fini(void *ctx)
{
	free(ctx);
}

static const char *ch_last_error(void *ctx)
{
	return ((struct ctx *)ctx)->err;
}

static int ch_device_count(void *ctx, uint32_t *out)
{
	if (((struct ctx *)ctx)->cheat == HANG_DISCOVER)
		for (;;)
			pause();
	*out = 1;
	return AIDC_DEV_OK;
}

static int ch_device_info(void *ctx, uint32_t dev, struct aidc_dev_info *out)
{
	struct ctx *c = ctx;
	if (c->cheat == CRASH_DISCOVER)
		raise(SIGSEGV); /* not a null store: UBSan would catch that and exit 1 */
	if (dev != 0)
		return fail(c, AIDC_DEV_ERR_INVALID, "no such device");
	uint32_t size = plugin_info_clear(out);
	snprintf(out->name, sizeof out->name, "Cheating accelerator");
	snprintf(out->vendor, sizeof out->vendor, "AIDC tests");
	snprintf(out->model, sizeof out->model, "cheat-1");
	out->mem_bytes = 1ull << 30;
	out->caps = AIDC_DEV_CAP_GEMM_F32 | AIDC_DEV_CAP_GEMM_BF16;
	out->compute_units = 1;
	out->peak_gflops[AIDC_DEV_F32] = 200; /* an honest upper bound for three loops */
	out->peak_gflops[AIDC_DEV_BF16] = 200;
	if (size >= offsetof(struct aidc_dev_info, visible_env) + sizeof out->visible_env)
		snprintf(out->visible_env, sizeof out->visible_env, "%s", c->visible);
	snprintf(out->uuid, sizeof out->uuid, "%s", c->uuid);
	return AIDC_DEV_OK;
}

static int ch_mem_alloc(void *ctx, uint32_t dev, uint64_t bytes, struct aidc_dev_mem **out)
{
	if (!bytes)
		return fail(ctx, AIDC_DEV_ERR_INVALID, "mem_alloc(0)");
	struct aidc_dev_mem *m = malloc(sizeof *m);
	if (!m || bytes > (1ull << 30) || !(m->data = malloc((size_t)bytes))) {
		free(m);
		return fail(ctx, AIDC_DEV_ERR_NOMEM, "out of memory");
	}
	m->bytes = bytes;
	*out = m;
	return AIDC_DEV_OK;
}

static int ch_mem_free(void *ctx, uint32_t dev, struct aidc_dev_mem *m)
{
	if (m)
		free(m->data);
	free(m);
	return AIDC_DEV_OK;
}

static float bf16_to_f32(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;
	memcpy(&f, &u, 4);
	return f;
}

static uint16_t f32_to_bf16(float f, int truncate)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	if (!truncate)
		u += 0x7fffu + ((u >> 16) & 1u);
	return (uint16_t)(u >> 16);
}

static float *to_f32(const struct aidc_dev_gemm *g, const struct aidc_dev_mem *m, uint64_t n)
{
	float *f = malloc(n * sizeof *f);
	for (uint64_t i = 0; f && i < n; i++)
		f[i] = g->dtype == AIDC_DEV_BF16 ? bf16_to_f32(((const uint16_t *)m->data)[i])
						 : ((const float *)m->data)[i];
	return f;
}

static void run_gemm(struct ctx *c, const struct aidc_dev_gemm *g)
{
	float *a = to_f32(g, g->a, g->m * g->lda), *b = to_f32(g, g->b, g->k * g->ldb);
	float *acc = calloc(g->n, sizeof *acc);
	for (uint64_t i = 0; a && b && acc && i < g->m; i++) {
		memset(acc, 0, g->n * sizeof *acc);
		for (uint64_t l = 0; l < g->k; l++) {
			float av = a[i * g->lda + l];
			const float *bl = b + l * g->ldb;
			for (uint64_t j = 0; j < g->n; j++)
				acc[j] += av * bl[j];
		}
		for (uint64_t j = 0; j < g->n; j++) {
			uint64_t ci = i * g->ldc + j;
			float old = 0;
			if (g->beta != 0)
				old = g->dtype == AIDC_DEV_BF16 ? bf16_to_f32(((uint16_t *)g->c->data)[ci])
								: ((float *)g->c->data)[ci];
			float v = g->alpha * acc[j] + g->beta * old;
			if (c->cheat == CORNER && i == g->m - 1 && j == g->n - 1)
				v += 1.0f;
			if (g->dtype == AIDC_DEV_BF16)
				((uint16_t *)g->c->data)[ci] = f32_to_bf16(v, c->cheat == TRUNCATE);
			else
				((float *)g->c->data)[ci] = v;
		}
	}
	free(a);
	free(b);
	free(acc);
}

static void drain(struct ctx *c)
{
	for (; c->nqueued; c->nqueued--)
		run_gemm(c, &c->queued);
}

static int ch_copy_h2d(void *ctx, uint32_t dev, struct aidc_dev_mem *dst, uint64_t off,
		       const void *src, uint64_t bytes)
{
	drain(ctx);
	if (off > dst->bytes || bytes > dst->bytes - off)
		return fail(ctx, AIDC_DEV_ERR_INVALID, "copy outside the buffer");
	memcpy(dst->data + off, src, (size_t)bytes);
	return AIDC_DEV_OK;
}

static int ch_copy_d2h(void *ctx, uint32_t dev, void *dst, const struct aidc_dev_mem *src,
		       uint64_t off, uint64_t bytes)
{
	drain(ctx);
	if (off > src->bytes || bytes > src->bytes - off)
		return fail(ctx, AIDC_DEV_ERR_INVALID, "copy outside the buffer");
	memcpy(dst, src->data + off, (size_t)bytes);
	return AIDC_DEV_OK;
}

static int ch_synchronize(void *ctx, uint32_t dev)
{
	struct ctx *c = ctx;
	if (c->cheat == HANG)
		for (;;)
			pause();
	if (c->cheat != FAKE_SYNC)
		drain(c);
	return AIDC_DEV_OK;
}

static int ch_gemm(void *ctx, uint32_t dev, const struct aidc_dev_gemm *g)
{
	struct ctx *c = ctx;
	if ((g->dtype != AIDC_DEV_F32 && g->dtype != AIDC_DEV_BF16) || g->trans_a || g->trans_b ||
	    g->a_off || g->b_off || g->c_off)
		return fail(c, AIDC_DEV_ERR_UNSUPPORTED,
			    "only fp32 and bf16, no transposes, no buffer offsets");
	uint64_t es = g->dtype == AIDC_DEV_F32 ? 4 : 2;
	if (!g->m || !g->n || !g->k || g->lda < g->k || g->ldb < g->n || g->ldc < g->n ||
	    ((g->m - 1) * g->lda + g->k) * es > g->a->bytes ||
	    ((g->k - 1) * g->ldb + g->n) * es > g->b->bytes ||
	    ((g->m - 1) * g->ldc + g->n) * es > g->c->bytes)
		return fail(c, AIDC_DEV_ERR_INVALID, "shape does not fit the buffers");
	if (c->cheat == SEGFAULT)
		raise(SIGSEGV);
	if (c->cheat == SLOW)
		sleep(3);
	if (c->cheat == SKIP && g->a == c->last.a && g->b == c->last.b && g->c == c->last.c &&
	    g->m == c->last.m && g->n == c->last.n && g->k == c->last.k)
		return AIDC_DEV_OK;
	c->last = *g;
	if (c->cheat == FAKE_SYNC) {
		c->queued = *g; /* each call overwrites all of C, so the last one's arguments do */
		c->nqueued++;
		return AIDC_DEV_OK;
	}
	run_gemm(c, g);
	return AIDC_DEV_OK;
}

/* The report's "path" of a GEMM question; the control byte must reach it as '?'. */
static const char *ch_last_path(void *ctx, uint32_t dev)
{
	(void)ctx;
	(void)dev;
	return "three loops\x01(cheat plugin)";
}

static const struct aidc_device_plugin cheat_plugin = {
	.abi_version = AIDC_DEVICE_ABI_VERSION,
	.struct_size = sizeof(struct aidc_device_plugin),
	.name = "cheat",
	.version = "1.0",
	.init = ch_init,
	.fini = ch_fini,
	.last_error = ch_last_error,
	.device_count = ch_device_count,
	.device_info = ch_device_info,
	.mem_alloc = ch_mem_alloc,
	.mem_free = ch_mem_free,
	.copy_h2d = ch_copy_h2d,
	.copy_d2h = ch_copy_d2h,
	.synchronize = ch_synchronize,
	.gemm = ch_gemm,
	.last_path = ch_last_path,
};

const struct aidc_device_plugin *aidc_device_plugin_entry(uint32_t host_abi)
{
	return host_abi == AIDC_DEVICE_ABI_VERSION ? &cheat_plugin : NULL;
}
