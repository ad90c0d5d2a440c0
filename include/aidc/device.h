/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AIDC device plugin ABI, version 2: the one C interface a vendor
 * implements to put an accelerator under AIDC. The node agent discovers
 * devices through it and the accelerator exam (`aidc exam`) grades them
 * through it; there is no second interface.
 *
 * A plugin is a shared library that exports one symbol,
 *
 *     const struct aidc_device_plugin *aidc_device_plugin_entry(uint32_t host_abi);
 *
 * returning a pointer to a static table of function pointers that stays
 * valid until the library is unloaded. The host passes the ABI version it
 * was built against; the plugin may return NULL if it cannot serve it, and
 * the host then asks again with each older version it still speaks (a host
 * of version 2 loads version-1 plugins: their tables simply end before the
 * version-2 slots, and they are never given a buffer offset).
 *
 * Rules every plugin follows (docs/device-plugin-abi.md explains each):
 *  - Every call returns an int status: AIDC_DEV_OK (0) or a negative
 *    AIDC_DEV_ERR_*. An operation the device cannot do returns
 *    AIDC_DEV_ERR_UNSUPPORTED (or its table slot is NULL); nothing aborts.
 *  - Detail about the last failure is available from last_error()
 *    (mandatory from version 2): the detail only, the host prefixes the
 *    plugin's name and the call.
 *  - mem_alloc of 0 bytes returns AIDC_DEV_ERR_INVALID. Overlapping ranges
 *    of one buffer in copy_d2d are copied as by memmove or refused (INVALID).
 *  - alpha and beta are float for every dtype (fp64 GEMM widens them).
 *  - Compute calls may be asynchronous; synchronize() waits for all work
 *    queued on a device. Copies to and from the host are complete when they
 *    return (the host buffer may be reused at once) and are ordered after
 *    all work queued before them on that device; mem_free is too.
 *  - 16-bit results are rounded to nearest even; NaN in gives NaN out.
 *  - Matrices and tensors are dense and row-major (C order). GEMM computes
 *    C = alpha * op(A) * op(B) + beta * C and accumulates in at least fp32
 *    whatever the storage type.
 *  - Calls for one context come from one host thread at a time.
 *  - Structs passed in carry struct_size so that later minor versions can
 *    append fields; a plugin ignores bytes past the fields it knows.
 *
 * This header is self-contained C99 and stable: fields are appended, never
 * reordered; a change that breaks layout bumps AIDC_DEVICE_ABI_VERSION.
 */
#ifndef AIDC_DEVICE_H
#define AIDC_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AIDC_DEVICE_ABI_VERSION 2u
#define AIDC_DEVICE_ENTRY_SYMBOL "aidc_device_plugin_entry"

/* Status codes returned by every plugin call. */
enum aidc_dev_status {
	AIDC_DEV_OK = 0,
	AIDC_DEV_ERR_UNSUPPORTED = -1, /* the device cannot do this (shape, type, op) */
	AIDC_DEV_ERR_INVALID = -2,     /* bad argument (index, size, NULL, overlap) */
	AIDC_DEV_ERR_NOMEM = -3,       /* device or host memory exhausted */
	AIDC_DEV_ERR_DEVICE = -4,      /* driver or hardware failure */
	AIDC_DEV_ERR_VERSION = -5      /* the plugin cannot serve this ABI version */
};

/* Element types. Sizes: 4, 2, 2, 8 bytes. fp16 is IEEE binary16. */
enum aidc_dev_dtype {
	AIDC_DEV_F32 = 0,
	AIDC_DEV_F16 = 1,
	AIDC_DEV_BF16 = 2,
	AIDC_DEV_F64 = 3,
	AIDC_DEV_NDTYPES = 4
};

/* Capability bits in aidc_dev_info.caps: what the device claims to support. */
#define AIDC_DEV_CAP_GEMM_F32 (1u << 0)
#define AIDC_DEV_CAP_GEMM_F16 (1u << 1)
#define AIDC_DEV_CAP_GEMM_BF16 (1u << 2)
#define AIDC_DEV_CAP_CONV2D (1u << 3)
#define AIDC_DEV_CAP_ATTENTION (1u << 4)
#define AIDC_DEV_CAP_ELTWISE (1u << 5)
#define AIDC_DEV_CAP_REDUCE (1u << 6)
#define AIDC_DEV_CAP_PEER_COPY (1u << 7)
#define AIDC_DEV_CAP_ALLREDUCE (1u << 8)

#define AIDC_DEV_NAME_BYTES 128

/* One device, as the plugin describes it. Strings are NUL-terminated UTF-8. */
struct aidc_dev_info {
	uint32_t struct_size;              /* set by the host before the call */
	char name[AIDC_DEV_NAME_BYTES];    /* e.g. "NVIDIA H100 80GB HBM3" */
	char vendor[AIDC_DEV_NAME_BYTES];  /* e.g. "NVIDIA" */
	char model[AIDC_DEV_NAME_BYTES];   /* stable model key, e.g. "h100-sxm5-80g" */
	char driver[AIDC_DEV_NAME_BYTES];  /* driver / runtime version, free text */
	char uuid[AIDC_DEV_NAME_BYTES];    /* stable per-device id where known, else "" */
	uint64_t mem_bytes;                /* device memory usable by allocations */
	/* Vendor-claimed peaks; 0 means not claimed. Dense, no sparsity. */
	double peak_gflops[AIDC_DEV_NDTYPES]; /* GEMM GFLOP/s per dtype */
	double peak_mem_gbps;              /* device memory bandwidth, GB/s (1e9 B/s) */
	double peak_host_link_gbps;        /* host <-> device, one direction, GB/s */
	uint32_t caps;                     /* AIDC_DEV_CAP_* */
	uint32_t compute_units;            /* SMs, CUs, cores; 0 if unknown */
	/* ---- version 2 ---- */
	/* The environment variable through which the vendor's runtime limits a
	 * process to some devices ("ROCR_VISIBLE_DEVICES", "ZE_AFFINITY_MASK"
	 * ...); the node agent sets it to the task's device indexes, as it sets
	 * CUDA_VISIBLE_DEVICES for NVIDIA. "" = none. Letters, digits, '_'. */
	char visible_env[64];
};

/* A link between two devices of the same plugin (NVLink, xGMI, PCIe P2P ...). */
struct aidc_dev_link {
	uint32_t a, b;                     /* device indexes, a < b */
	double gbps;                       /* claimed one-direction bandwidth, GB/s */
	char kind[32];                     /* "nvlink", "pcie", "shared-memory" ... */
};

/* Device memory is an opaque handle owned by the plugin. */
struct aidc_dev_mem;

enum aidc_dev_trans { AIDC_DEV_NOTRANS = 0, AIDC_DEV_TRANS = 1 };

/*
 * C[m x n] = alpha * op(A) * op(B) + beta * C, row-major, where op(A) is
 * m x k and op(B) is k x n. lda/ldb/ldc are row strides in elements of the
 * stored (untransposed) matrices. A, B and C all have type dtype.
 */
struct aidc_dev_gemm {
	uint32_t struct_size;
	enum aidc_dev_dtype dtype;
	enum aidc_dev_trans trans_a, trans_b;
	uint64_t m, n, k;
	uint64_t lda, ldb, ldc;
	float alpha, beta;
	const struct aidc_dev_mem *a, *b;
	struct aidc_dev_mem *c;
	/* ---- version 2 ---- */
	/* Byte offsets of A, B and C inside their buffers (multiples of the
	 * element size). Always 0 for a version-1 plugin. */
	uint64_t a_off, b_off, c_off;
};

/*
 * 2-D convolution forward (cross-correlation, as every framework does):
 * x [n][c][h][w], w [k][c][r][s], y [n][k][p][q] with
 * p = (h + 2*pad_h - dil_h*(r-1) - 1) / stride_h + 1, and q likewise.
 */
struct aidc_dev_conv2d {
	uint32_t struct_size;
	enum aidc_dev_dtype dtype;
	uint32_t n, c, h, w, k, r, s;
	uint32_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
	const struct aidc_dev_mem *x, *wt;
	struct aidc_dev_mem *y;
};

/*
 * Scaled dot-product attention forward: for each batch b and head h,
 * O = softmax(scale * Q K^T [+ causal mask]) V, with q, k, v, o laid out
 * [batch][heads][seq][head_dim]. With causal set, query i sees keys 0..i.
 */
struct aidc_dev_attention {
	uint32_t struct_size;
	enum aidc_dev_dtype dtype;
	uint32_t batch, heads, seq, head_dim;
	uint32_t causal;
	float scale;
	const struct aidc_dev_mem *q, *k, *v;
	struct aidc_dev_mem *o;
};

enum aidc_dev_eltwise_op {
	AIDC_DEV_ELT_ADD = 0,   /* z = x + y */
	AIDC_DEV_ELT_MUL = 1,   /* z = x * y */
	AIDC_DEV_ELT_AXPY = 2,  /* z = alpha * x + y (the STREAM triad) */
	AIDC_DEV_ELT_RELU = 3,  /* z = max(x, 0); y unused */
	AIDC_DEV_ELT_GELU = 4   /* z = 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))); y unused */
};

/* Elementwise over n elements of dtype. z may not overlap x or y. */
struct aidc_dev_eltwise {
	uint32_t struct_size;
	enum aidc_dev_dtype dtype;
	enum aidc_dev_eltwise_op op;
	uint64_t n;
	float alpha;
	const struct aidc_dev_mem *x, *y;
	struct aidc_dev_mem *z;
	/* ---- version 2 ---- */
	uint64_t x_off, y_off, z_off; /* byte offsets, as in aidc_dev_gemm */
};

enum aidc_dev_reduce_op { AIDC_DEV_RED_SUM = 0, AIDC_DEV_RED_MAX = 1 };

/* Row reduction: y[i] = op over j of x[i][j], x is rows x cols. */
struct aidc_dev_reduce {
	uint32_t struct_size;
	enum aidc_dev_dtype dtype;
	enum aidc_dev_reduce_op op;
	uint64_t rows, cols;
	const struct aidc_dev_mem *x;
	struct aidc_dev_mem *y;
	/* ---- version 2 ---- */
	uint64_t x_off, y_off; /* byte offsets, as in aidc_dev_gemm */
};

/*
 * Sum all-reduce of vectors of dtype (the exam asks fp32; a plugin answers
 * UNSUPPORTED for a dtype it lacks) across ndev devices: afterwards every
 * bufs[i] holds the elementwise sum of all the inputs. devs[i] owns bufs[i].
 */
struct aidc_dev_allreduce {
	uint32_t struct_size;
	enum aidc_dev_dtype dtype;
	uint32_t ndev;
	const uint32_t *devs;
	struct aidc_dev_mem *const *bufs;
	uint64_t n;
};

/*
 * The plugin's function table. Slots marked optional may be NULL, which the
 * host treats as AIDC_DEV_ERR_UNSUPPORTED. Every pointer argument named
 * "out" is written only on success. ctx is the value init() produced.
 */
struct aidc_device_plugin {
	uint32_t abi_version;  /* AIDC_DEVICE_ABI_VERSION the plugin was built with */
	uint32_t struct_size;  /* sizeof(struct aidc_device_plugin) in the plugin */
	const char *name;      /* short name, e.g. "cpu"; static */
	const char *version;   /* plugin version, free text; static */

	/*
	 * Opens the plugin. config is a plugin-defined "key=value,key=value"
	 * string (may be NULL or ""). On failure writes a NUL-terminated reason
	 * into err (errlen bytes) and returns non-zero; *out_ctx is then unset.
	 */
	int (*init)(const char *config, void **out_ctx, char *err, size_t errlen);
	/* Releases everything the context owns, including leftover memory. */
	void (*fini)(void *ctx);
	/* Detail of the last failure in this context; static or ctx-owned. */
	const char *(*last_error)(void *ctx);

	int (*device_count)(void *ctx, uint32_t *out);
	int (*device_info)(void *ctx, uint32_t dev, struct aidc_dev_info *out);
	/* Writes up to max links into out and the total number into *out_n. Optional. */
	int (*links)(void *ctx, struct aidc_dev_link *out, uint32_t max, uint32_t *out_n);

	int (*mem_alloc)(void *ctx, uint32_t dev, uint64_t bytes, struct aidc_dev_mem **out);
	/* NULL mem is a no-op. */
	int (*mem_free)(void *ctx, uint32_t dev, struct aidc_dev_mem *mem);
	int (*copy_h2d)(void *ctx, uint32_t dev, struct aidc_dev_mem *dst, uint64_t dst_off,
			const void *src, uint64_t bytes);
	int (*copy_d2h)(void *ctx, uint32_t dev, void *dst, const struct aidc_dev_mem *src,
			uint64_t src_off, uint64_t bytes);
	/* Copy within one device. */
	int (*copy_d2d)(void *ctx, uint32_t dev, struct aidc_dev_mem *dst, uint64_t dst_off,
			const struct aidc_dev_mem *src, uint64_t src_off, uint64_t bytes);
	int (*synchronize)(void *ctx, uint32_t dev);

	int (*gemm)(void *ctx, uint32_t dev, const struct aidc_dev_gemm *args);
	int (*conv2d)(void *ctx, uint32_t dev, const struct aidc_dev_conv2d *args);      /* optional */
	int (*attention)(void *ctx, uint32_t dev, const struct aidc_dev_attention *args); /* optional */
	int (*eltwise)(void *ctx, uint32_t dev, const struct aidc_dev_eltwise *args);    /* optional */
	int (*reduce)(void *ctx, uint32_t dev, const struct aidc_dev_reduce *args);      /* optional */
	/* Copy between two devices of this plugin. Optional. */
	int (*copy_peer)(void *ctx, uint32_t dst_dev, struct aidc_dev_mem *dst, uint32_t src_dev,
			 const struct aidc_dev_mem *src, uint64_t bytes);
	int (*allreduce)(void *ctx, const struct aidc_dev_allreduce *args);             /* optional */

	/* ---- version 2 (read only when struct_size covers them) ---- */
	/*
	 * Page-locked ("pinned") host memory for fast transfers with device dev:
	 * the exam's host transfer questions use it when offered. *out is
	 * writable host memory of at least bytes bytes, valid until host_free.
	 * Optional (NULL: the host uses ordinary memory).
	 */
	int (*host_alloc)(void *ctx, uint32_t dev, uint64_t bytes, void **out);
	int (*host_free)(void *ctx, uint32_t dev, void *ptr); /* NULL ptr is a no-op */
	/*
	 * Which implementation served the last gemm, conv2d or attention call on
	 * dev, as short free text for the exam report: e.g. "cudnn", "cublaslt",
	 * or "builtin (cuDNN off: <why>)" when a vendor library was not used.
	 * Static or ctx-owned, valid until the next call on dev. Optional, and
	 * read whenever struct_size covers it, whatever abi_version says (it
	 * changes no call's meaning), so a version-1 plugin may offer it too.
	 */
	const char *(*last_path)(void *ctx, uint32_t dev);
};

/*
 * A plugin that serves version 1 only (it ignores buffer offsets and has no
 * version-2 slots) declares abi_version = 1 and this struct_size, and its
 * entry point returns its table for any host_abi >= 1.
 */
#define AIDC_DEVICE_V1_TABLE_SIZE offsetof(struct aidc_device_plugin, host_alloc)

typedef const struct aidc_device_plugin *(*aidc_device_plugin_entry_fn)(uint32_t host_abi);

/* Every plugin defines this (with default visibility). */
const struct aidc_device_plugin *aidc_device_plugin_entry(uint32_t host_abi);

#ifdef __cplusplus
}
#endif

#endif
