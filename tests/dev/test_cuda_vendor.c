/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cuda plugin's vendor loader (plugins/cuda/cuda_vendor.c) without a GPU:
 * $AIDC_CUBLASLT_LIB and $AIDC_CUDNN_LIB pointed at a file that does not
 * exist, at a fake library that lacks a symbol, at a fake one that has them
 * all (cuDNN too old, then new enough), and "off". Each off path must carry a
 * reason naming the library or the symbol; nothing may crash. With the real
 * libcublasLt of the CUDA toolkit (argv[3], found by CMake) every symbol must
 * resolve. Where CMake found no toolkit, that last case is skipped (exit 77
 * after the other cases pass). Without overrides, the default names are
 * tried: cuDNN, where installed, must resolve every symbol too. The real
 * libraries' descriptor calls, which need no GPU, must accept our constants
 * and refuse a bad argument. Where the
 * toolkit's cublasLt.h and cudnn.h are available, the constants and struct
 * layouts declared in cuda_vendor.h are checked against them at compile time.
 *
 * usage: test_cuda_vendor FAKE_PARTIAL.so FAKE_FULL.so REAL_LIBCUBLASLT|none|fakes-only
 * ("fakes-only": no real library is loaded, for leak checking under ASan: the
 * real cuBLASLt and cuDNN keep allocations for the life of the process).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_vendor.h"

#ifdef AIDC_HAVE_CUBLASLT_H
#include <cublasLt.h>
_Static_assert(CU_LT_COMPUTE_32F == CUBLAS_COMPUTE_32F, "CUBLAS_COMPUTE_32F");
_Static_assert(CU_LT_R_32F == CUDA_R_32F && CU_LT_R_16F == CUDA_R_16F &&
		   CU_LT_R_16BF == CUDA_R_16BF,
	       "cudaDataType_t values");
_Static_assert(CU_LT_OP_N == CUBLAS_OP_N && CU_LT_OP_T == CUBLAS_OP_T, "cublasOperation_t");
_Static_assert(CU_LT_DESC_TRANSA == CUBLASLT_MATMUL_DESC_TRANSA &&
		   CU_LT_DESC_TRANSB == CUBLASLT_MATMUL_DESC_TRANSB,
	       "cublasLtMatmulDescAttributes_t");
_Static_assert(CU_LT_PREF_MAX_WORKSPACE == CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
	       "CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES");
_Static_assert(CU_LT_STATUS_SUCCESS == CUBLAS_STATUS_SUCCESS, "CUBLAS_STATUS_SUCCESS");
_Static_assert(sizeof(struct cu_lt_algo) == sizeof(cublasLtMatmulAlgo_t), "algo size");
_Static_assert(sizeof(struct cu_lt_heuristic) == sizeof(cublasLtMatmulHeuristicResult_t) &&
		   offsetof(struct cu_lt_heuristic, workspace_bytes) ==
			   offsetof(cublasLtMatmulHeuristicResult_t, workspaceSize) &&
		   offsetof(struct cu_lt_heuristic, state) ==
			   offsetof(cublasLtMatmulHeuristicResult_t, state),
	       "cublasLtMatmulHeuristicResult_t layout");
#endif

#ifdef AIDC_HAVE_CUDNN_H
#include <cudnn.h>
/* the legacy convolution API is marked deprecated in cuDNN 9; it is what we call */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
_Static_assert(CU_DNN_STATUS_SUCCESS == CUDNN_STATUS_SUCCESS, "CUDNN_STATUS_SUCCESS");
_Static_assert(CU_DNN_TENSOR_NCHW == CUDNN_TENSOR_NCHW && CU_DNN_DATA_FLOAT == CUDNN_DATA_FLOAT,
	       "cudnnTensorFormat_t, cudnnDataType_t");
_Static_assert(CU_DNN_CROSS_CORRELATION == CUDNN_CROSS_CORRELATION, "CUDNN_CROSS_CORRELATION");
_Static_assert(CU_DNN_FMA_MATH == CUDNN_FMA_MATH, "CUDNN_FMA_MATH");
_Static_assert(CU_DNN_FWD_ALGO_COUNT == CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
	       "CUDNN_CONVOLUTION_FWD_ALGO_COUNT");
_Static_assert(sizeof(struct cu_dnn_perf) == sizeof(cudnnConvolutionFwdAlgoPerf_t) &&
		   offsetof(struct cu_dnn_perf, memory) ==
			   offsetof(cudnnConvolutionFwdAlgoPerf_t, memory) &&
		   offsetof(struct cu_dnn_perf, math) ==
			   offsetof(cudnnConvolutionFwdAlgoPerf_t, mathType),
	       "cudnnConvolutionFwdAlgoPerf_t layout");
#endif

static int failures;

#define CHECK(cond, ...)                                                                    \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);     \
			fprintf(stderr, __VA_ARGS__);                                       \
			fputc('\n', stderr);                                                \
			failures++;                                                         \
		}                                                                           \
	} while (0)

/* Every function pointer of an api struct (all pointers, no other fields). */
static size_t resolved(const void *api, size_t bytes)
{
	size_t n = 0;
	for (size_t off = 0; off + sizeof(void (*)(void)) <= bytes; off += sizeof(void (*)(void))) {
		void (*f)(void);
		memcpy(&f, (const char *)api + off, sizeof f);
		n += f != NULL;
	}
	return n;
}

#define NPTR(api) (sizeof(api) / sizeof(void (*)(void)))

static void load(const char *lt, const char *dnn, struct cu_vendor *v)
{
	setenv(CU_VENDOR_LT_ENV, lt, 1);
	setenv(CU_VENDOR_DNN_ENV, dnn, 1);
	cu_vendor_load(v);
}

/* Off, with no handle, no function pointer, and a reason containing want. */
static void expect_off(const char *what, bool on, const void *dl, const void *api, size_t bytes,
		       const char *why, const char *want)
{
	CHECK(!on, "%s: path on", what);
	CHECK(!dl, "%s: library left open", what);
	CHECK(resolved(api, bytes) == 0, "%s: function pointers left set", what);
	CHECK(strstr(why, want) != NULL, "%s: reason \"%s\" does not name \"%s\"", what, why, want);
	printf("%s: off: %s\n", what, why);
}

static void missing_file(void)
{
	struct cu_vendor v;
	load("/nonexistent/aidc-test/libcublasLt.so.99", "/nonexistent/aidc-test/libcudnn.so.99",
	     &v);
	expect_off("missing cuBLASLt", v.lt_on, v.lt_dl, &v.lt, sizeof v.lt, v.lt_why,
		   "/nonexistent/aidc-test/libcublasLt.so.99");
	expect_off("missing cuDNN", v.dnn_on, v.dnn_dl, &v.dnn, sizeof v.dnn, v.dnn_why,
		   "/nonexistent/aidc-test/libcudnn.so.99");
	cu_vendor_unload(&v);
	cu_vendor_unload(&v); /* a zeroed v is a no-op */
}

/* The last symbol of each table is missing: the reason names it, and only it. */
static void missing_symbol(const char *partial)
{
	struct cu_vendor v;
	char want[600];
	load(partial, partial, &v);
	snprintf(want, sizeof want, "%s: no symbol cublasLtMatmul", partial);
	expect_off("cuBLASLt without cublasLtMatmul", v.lt_on, v.lt_dl, &v.lt, sizeof v.lt,
		   v.lt_why, want);
	CHECK(!strcmp(v.lt_why, want), "reason \"%s\", want exactly \"%s\"", v.lt_why, want);
	snprintf(want, sizeof want, "%s: no symbol cudnnConvolutionForward", partial);
	expect_off("cuDNN without cudnnConvolutionForward", v.dnn_on, v.dnn_dl, &v.dnn,
		   sizeof v.dnn, v.dnn_why, want);
	CHECK(!strcmp(v.dnn_why, want), "reason \"%s\", want exactly \"%s\"", v.dnn_why, want);
	cu_vendor_unload(&v);
}

/* Every symbol present: both on; then a cuDNN older than 8.0 is refused. */
static void full_fake(const char *full)
{
	struct cu_vendor v;
	setenv("FAKE_CUDNN_VERSION", "91400", 1);
	load(full, full, &v);
	CHECK(v.lt_on && v.lt_dl && !v.lt_why[0], "fake cuBLASLt: off: %s", v.lt_why);
	CHECK(resolved(&v.lt, sizeof v.lt) == NPTR(v.lt), "fake cuBLASLt: %zu of %zu resolved",
	      resolved(&v.lt, sizeof v.lt), NPTR(v.lt));
	CHECK(v.dnn_on && v.dnn_dl && !v.dnn_why[0], "fake cuDNN: off: %s", v.dnn_why);
	CHECK(resolved(&v.dnn, sizeof v.dnn) == NPTR(v.dnn), "fake cuDNN: %zu of %zu resolved",
	      resolved(&v.dnn, sizeof v.dnn), NPTR(v.dnn));
	CHECK(v.dnn_version == 91400, "fake cuDNN version %zu", v.dnn_version);
	CHECK(!strcmp(v.lt_lib, full), "opened \"%s\"", v.lt_lib);
	cu_vendor_unload(&v);
	CHECK(!v.lt_on && !v.dnn_on && !v.lt_dl && !v.dnn_dl, "unload left state");

	setenv("FAKE_CUDNN_VERSION", "7605", 1);
	load(full, full, &v);
	expect_off("cuDNN 7.6", v.dnn_on, v.dnn_dl, &v.dnn, sizeof v.dnn, v.dnn_why,
		   "cuDNN version 7605, need 8000");
	CHECK(v.lt_on, "cuBLASLt turned off by cuDNN's version: %s", v.lt_why);
	cu_vendor_unload(&v);
	unsetenv("FAKE_CUDNN_VERSION");
}

static void switched_off(const char *full)
{
	struct cu_vendor v;
	load("off", "off", &v);
	expect_off("cuBLASLt off", v.lt_on, v.lt_dl, &v.lt, sizeof v.lt, v.lt_why,
		   "disabled by AIDC_CUBLASLT_LIB=off");
	expect_off("cuDNN off", v.dnn_on, v.dnn_dl, &v.dnn, sizeof v.dnn, v.dnn_why,
		   "disabled by AIDC_CUDNN_LIB=off");
	cu_vendor_unload(&v);
	/* one off, the other on: the switches are independent */
	load(full, "off", &v);
	CHECK(v.lt_on && !v.dnn_on, "lt %d dnn %d", v.lt_on, v.dnn_on);
	cu_vendor_unload(&v);
}

/*
 * The descriptor calls of the real libraries, which need no GPU: our
 * prototypes and constants must be accepted, and a bad argument refused (so
 * the arguments land where the prototypes say).
 */
static void real_lt_descriptors(const struct cu_lt_api *lt)
{
	void *op = NULL, *lay = NULL;
	int32_t t = CU_LT_OP_T;
	CHECK(lt->desc_create(&op, CU_LT_COMPUTE_32F, CU_LT_R_32F) == 0 && op, "desc create");
	CHECK(op && lt->desc_set(op, CU_LT_DESC_TRANSA, &t, sizeof t) == 0, "TRANSA");
	CHECK(op && lt->desc_set(op, CU_LT_DESC_TRANSB, &t, sizeof t) == 0, "TRANSB");
	CHECK(lt->layout_create(&lay, CU_LT_R_16BF, 64, 32, 64) == 0 && lay, "layout 64x32 ld 64");
	if (lay)
		lt->layout_destroy(lay);
	lay = NULL;
	/* an attribute of the wrong size is refused */
	CHECK(op && lt->desc_set(op, CU_LT_DESC_TRANSA, &t, 1) != 0, "1-byte TRANSA accepted");
	if (op)
		lt->desc_destroy(op);
	void *pref = NULL;
	uint64_t ws = 1 << 20;
	CHECK(lt->pref_create(&pref) == 0 && pref, "preference create");
	CHECK(pref && lt->pref_set(pref, CU_LT_PREF_MAX_WORKSPACE, &ws, sizeof ws) == 0,
	      "PREF_MAX_WORKSPACE_BYTES");
	if (pref)
		lt->pref_destroy(pref);
}

static void real_dnn_descriptors(const struct cu_dnn_api *dn)
{
	void *x = NULL, *w = NULL, *conv = NULL;
	const int f32 = CU_DNN_DATA_FLOAT, nchw = CU_DNN_TENSOR_NCHW;
	CHECK(dn->tensor_create(&x) == 0 && x, "tensor create");
	CHECK(dn->filter_create(&w) == 0 && w, "filter create");
	CHECK(dn->conv_create(&conv) == 0 && conv, "convolution create");
	if (!x || !w || !conv)
		return;
	CHECK(dn->tensor_set4d(x, nchw, f32, 2, 3, 8, 8) == 0, "tensor 2x3x8x8");
	CHECK(dn->tensor_set4d(x, nchw, f32, 0, 3, 8, 8) != 0, "tensor of 0 images accepted");
	CHECK(dn->filter_set4d(w, f32, nchw, 4, 3, 3, 3) == 0, "filter 4x3x3x3");
	CHECK(dn->conv_set2d(conv, 1, 1, 2, 2, 1, 1, CU_DNN_CROSS_CORRELATION, f32) == 0,
	      "convolution pad 1 stride 2");
	CHECK(dn->conv_set2d(conv, 1, 1, 0, 2, 1, 1, CU_DNN_CROSS_CORRELATION, f32) != 0,
	      "stride 0 accepted");
	CHECK(dn->conv_set_math(conv, CU_DNN_FMA_MATH) == 0, "CUDNN_FMA_MATH");
	CHECK(strlen(dn->error_string(CU_DNN_STATUS_SUCCESS)) > 0, "error string");
	dn->tensor_destroy(x);
	dn->filter_destroy(w);
	dn->conv_destroy(conv);
}

/* The toolkit's libcublasLt: every symbol resolves (no GPU call is made). */
static void real_cublaslt(const char *real)
{
	struct cu_vendor v;
	load(real, "/nonexistent/aidc-test/libcudnn.so.99", &v);
	CHECK(v.lt_on && v.lt_dl, "real cuBLASLt %s: off: %s", real, v.lt_why);
	CHECK(resolved(&v.lt, sizeof v.lt) == NPTR(v.lt), "real cuBLASLt: %zu of %zu resolved",
	      resolved(&v.lt, sizeof v.lt), NPTR(v.lt));
	printf("real cuBLASLt %s: %s, %zu symbols\n", real, v.lt_on ? "on" : "off",
	       resolved(&v.lt, sizeof v.lt));
	if (v.lt_on)
		real_lt_descriptors(&v.lt);
	cu_vendor_unload(&v);
	/* no override: the default names; cuDNN is on only where it is installed */
	unsetenv(CU_VENDOR_DNN_ENV);
	unsetenv(CU_VENDOR_LT_ENV);
	cu_vendor_load(&v);
	CHECK(v.dnn_on ? v.dnn_version >= CU_VENDOR_DNN_MIN_VERSION &&
			     resolved(&v.dnn, sizeof v.dnn) == NPTR(v.dnn)
		       : strstr(v.dnn_why, "libcudnn.so.9") != NULL,
	      "default cuDNN: %s", v.dnn_why);
	printf("default names: cuBLASLt %s%s, cuDNN %s%s (version %zu)\n",
	       v.lt_on ? "on " : "off: ", v.lt_on ? v.lt_lib : v.lt_why,
	       v.dnn_on ? "on " : "off: ", v.dnn_on ? v.dnn_lib : v.dnn_why, v.dnn_version);
	if (v.dnn_on)
		real_dnn_descriptors(&v.dnn);
	cu_vendor_unload(&v);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr,
			"usage: %s FAKE_PARTIAL.so FAKE_FULL.so REAL_LIBCUBLASLT|none|fakes-only\n",
			argv[0]);
		return 2;
	}
	missing_file();
	missing_symbol(argv[1]);
	full_fake(argv[2]);
	switched_off(argv[2]);
	bool fakes_only = !strcmp(argv[3], "fakes-only"), real = strcmp(argv[3], "none") != 0;
	if (real && !fakes_only)
		real_cublaslt(argv[3]);
	if (failures) {
		fprintf(stderr, "%d failure(s)\n", failures);
		return 1;
	}
	if (fakes_only) {
		printf("ok (fake libraries only)\n");
		return 0;
	}
	if (!real) {
		printf("SKIP: no CUDA toolkit libcublasLt found by CMake (the cuda plugin is not "
		       "built); the fallback cases passed\n");
		return 77;
	}
	printf("ok\n");
	return 0;
}
