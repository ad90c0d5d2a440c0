/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vendor libraries the cuda plugin uses where they are present at run
 * time, loaded with dlopen and never linked (as src/dev/nvml.c loads NVML):
 * cuBLASLt for fp16/bf16 GEMM and cuDNN's legacy convolution API. No NVIDIA
 * header is needed to build this: the few types, constants and prototypes
 * used are declared here from the public API documentation. The loader only
 * opens the libraries and resolves symbols (plus cudnnGetVersion, which
 * needs no GPU), so it is tested on machines without a GPU
 * (tests/dev/test_cuda_vendor.c). A library that is missing, or lacks one
 * symbol, turns its path off; the reason is kept for the exam report.
 */
#ifndef AIDC_PLUGIN_CUDA_VENDOR_H
#define AIDC_PLUGIN_CUDA_VENDOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Environment overrides of the library file names ("off" disables the path). */
#define CU_VENDOR_LT_ENV "AIDC_CUBLASLT_LIB"
#define CU_VENDOR_DNN_ENV "AIDC_CUDNN_LIB"
/* Longest reason kept for a path that is off. */
#define CU_VENDOR_WHY_BYTES 320
/* Oldest cuDNN whose legacy convolution API and perf struct match ours (8.0). */
#define CU_VENDOR_DNN_MIN_VERSION 8000

/* ---- cuBLASLt (cublasLt.h; values checked against it where the toolkit is
 * installed, in tests/dev/test_cuda_vendor.c) ---- */
#define CU_LT_STATUS_SUCCESS 0      /* cublasStatus_t CUBLAS_STATUS_SUCCESS */
#define CU_LT_COMPUTE_32F 68        /* cublasComputeType_t CUBLAS_COMPUTE_32F */
#define CU_LT_R_32F 0               /* cudaDataType_t CUDA_R_32F */
#define CU_LT_R_16F 2               /* cudaDataType_t CUDA_R_16F */
#define CU_LT_R_16BF 14             /* cudaDataType_t CUDA_R_16BF */
#define CU_LT_OP_N 0                /* cublasOperation_t CUBLAS_OP_N */
#define CU_LT_OP_T 1                /* cublasOperation_t CUBLAS_OP_T */
#define CU_LT_DESC_TRANSA 3         /* CUBLASLT_MATMUL_DESC_TRANSA (int32_t value) */
#define CU_LT_DESC_TRANSB 4         /* CUBLASLT_MATMUL_DESC_TRANSB (int32_t value) */
#define CU_LT_PREF_MAX_WORKSPACE 1  /* CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES (uint64_t) */

/* cublasLtMatmulAlgo_t: opaque, 64 bytes. */
struct cu_lt_algo {
	uint64_t data[8];
};

/* cublasLtMatmulHeuristicResult_t. */
struct cu_lt_heuristic {
	struct cu_lt_algo algo;
	size_t workspace_bytes;
	int state; /* cublasStatus_t */
	float waves;
	int reserved[4];
};

/* Handles and descriptors are opaque pointers (cublasLtHandle_t, ...); the
 * stream is a cudaStream_t. Every call returns a cublasStatus_t. */
struct cu_lt_api {
	int (*create)(void **handle);
	int (*destroy)(void *handle);
	int (*desc_create)(void **desc, int compute_type, int scale_type);
	int (*desc_destroy)(void *desc);
	int (*desc_set)(void *desc, int attr, const void *buf, size_t bytes);
	int (*layout_create)(void **layout, int type, uint64_t rows, uint64_t cols, int64_t ld);
	int (*layout_destroy)(void *layout);
	int (*pref_create)(void **pref);
	int (*pref_destroy)(void *pref);
	int (*pref_set)(void *pref, int attr, const void *buf, size_t bytes);
	int (*heuristic)(void *handle, void *op, void *a, void *b, void *c, void *d, void *pref,
			 int requested, struct cu_lt_heuristic *out, int *returned);
	int (*matmul)(void *handle, void *op, const void *alpha, const void *a, void *adesc,
		      const void *b, void *bdesc, const void *beta, const void *c, void *cdesc,
		      void *d, void *ddesc, const struct cu_lt_algo *algo, void *ws,
		      size_t ws_bytes, void *stream);
};

/* ---- cuDNN legacy API (cudnn_ops.h, cudnn_cnn.h of cuDNN 9; cudnn.h of 8) ---- */
#define CU_DNN_STATUS_SUCCESS 0    /* cudnnStatus_t CUDNN_STATUS_SUCCESS */
#define CU_DNN_TENSOR_NCHW 0       /* cudnnTensorFormat_t CUDNN_TENSOR_NCHW */
#define CU_DNN_DATA_FLOAT 0        /* cudnnDataType_t CUDNN_DATA_FLOAT */
#define CU_DNN_CROSS_CORRELATION 1 /* cudnnConvolutionMode_t CUDNN_CROSS_CORRELATION */
/* cudnnMathType_t CUDNN_FMA_MATH: FMA kernels only. The default math type lets
 * fp32 data run as TF32 on Ampere and later, which the exam's fp32 tolerance
 * rightly fails (as it would fail cuBLAS with TF32). */
#define CU_DNN_FMA_MATH 3
#define CU_DNN_FWD_ALGO_COUNT 8 /* CUDNN_CONVOLUTION_FWD_ALGO_COUNT */

/* cudnnConvolutionFwdAlgoPerf_t. */
struct cu_dnn_perf {
	int algo;   /* cudnnConvolutionFwdAlgo_t */
	int status; /* cudnnStatus_t */
	float time_ms;
	size_t memory; /* workspace bytes */
	int determinism;
	int math; /* cudnnMathType_t */
	int reserved[3];
};

struct cu_dnn_api {
	size_t (*get_version)(void);
	const char *(*error_string)(int status);
	int (*create)(void **handle);
	int (*destroy)(void *handle);
	int (*set_stream)(void *handle, void *stream);
	int (*tensor_create)(void **desc);
	int (*tensor_set4d)(void *desc, int format, int dtype, int n, int c, int h, int w);
	int (*tensor_destroy)(void *desc);
	int (*filter_create)(void **desc);
	int (*filter_set4d)(void *desc, int dtype, int format, int k, int c, int h, int w);
	int (*filter_destroy)(void *desc);
	int (*conv_create)(void **desc);
	int (*conv_set2d)(void *desc, int pad_h, int pad_w, int stride_h, int stride_w, int dil_h,
			  int dil_w, int mode, int compute_type);
	int (*conv_set_math)(void *desc, int math);
	int (*conv_destroy)(void *desc);
	int (*algo_v7)(void *handle, void *x, void *w, void *conv, void *y, int requested,
		       int *returned, struct cu_dnn_perf *out);
	int (*workspace_size)(void *handle, void *x, void *w, void *conv, void *y, int algo,
			      size_t *bytes);
	int (*forward)(void *handle, const void *alpha, void *xdesc, const void *x, void *wdesc,
		       const void *w, void *conv, int algo, void *ws, size_t ws_bytes,
		       const void *beta, void *ydesc, void *y);
};

/* The two libraries of one plugin context. Zeroed means both off. */
struct cu_vendor {
	void *lt_dl, *dnn_dl; /* dlopen handles; owned */
	struct cu_lt_api lt;
	struct cu_dnn_api dnn;
	bool lt_on, dnn_on;
	char lt_lib[256], dnn_lib[256]; /* the file name that was opened */
	char lt_why[CU_VENDOR_WHY_BYTES], dnn_why[CU_VENDOR_WHY_BYTES]; /* "" when on */
	size_t dnn_version; /* cudnnGetVersion(), e.g. 91400 */
};

/*
 * Opens cuBLASLt ($AIDC_CUBLASLT_LIB, else libcublasLt.so.13, .so.12, .so)
 * and cuDNN ($AIDC_CUDNN_LIB, else libcudnn.so.9) and resolves every symbol
 * each path needs. Never fails: a path that cannot be had is off, with the
 * reason (the library and the dlerror, or the missing symbol) in *_why.
 * Touches no GPU. Release with cu_vendor_unload.
 */
void cu_vendor_load(struct cu_vendor *v);
/* Closes what cu_vendor_load opened and zeroes v; a zeroed v is a no-op. */
void cu_vendor_unload(struct cu_vendor *v);

#endif
