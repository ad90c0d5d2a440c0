/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fake cuBLASLt and cuDNN in one library, for tests of the cuda plugin's
 * vendor loader (plugins/cuda/cuda_vendor.c) on machines without them. Built
 * twice: with FAKE_VENDOR_FULL it exports every symbol the loader resolves
 * (cudnnGetVersion answers $FAKE_CUDNN_VERSION, default 91400); without it,
 * cublasLtMatmul and cudnnConvolutionForward are missing (the last symbol of
 * each table: every symbol is checked, not the first few). The stubs are
 * never called by the loader, except cudnnGetVersion.
 */
#include <stddef.h>
#include <stdlib.h>

#define STUB(name)                                                                          \
	int name(void);                                                                     \
	int name(void)                                                                      \
	{                                                                                   \
		return 0;                                                                   \
	}

STUB(cublasLtCreate)
STUB(cublasLtDestroy)
STUB(cublasLtMatmulDescCreate)
STUB(cublasLtMatmulDescDestroy)
STUB(cublasLtMatmulDescSetAttribute)
STUB(cublasLtMatrixLayoutCreate)
STUB(cublasLtMatrixLayoutDestroy)
STUB(cublasLtMatmulPreferenceCreate)
STUB(cublasLtMatmulPreferenceDestroy)
STUB(cublasLtMatmulPreferenceSetAttribute)
STUB(cublasLtMatmulAlgoGetHeuristic)
STUB(cudnnCreate)
STUB(cudnnDestroy)
STUB(cudnnSetStream)
STUB(cudnnCreateTensorDescriptor)
STUB(cudnnSetTensor4dDescriptor)
STUB(cudnnDestroyTensorDescriptor)
STUB(cudnnCreateFilterDescriptor)
STUB(cudnnSetFilter4dDescriptor)
STUB(cudnnDestroyFilterDescriptor)
STUB(cudnnCreateConvolutionDescriptor)
STUB(cudnnSetConvolution2dDescriptor)
STUB(cudnnSetConvolutionMathType)
STUB(cudnnDestroyConvolutionDescriptor)
STUB(cudnnGetConvolutionForwardAlgorithm_v7)
STUB(cudnnGetConvolutionForwardWorkspaceSize)
#ifdef FAKE_VENDOR_FULL
STUB(cublasLtMatmul)
STUB(cudnnConvolutionForward)
#endif

const char *cudnnGetErrorString(int status);
const char *cudnnGetErrorString(int status)
{
	return status ? "CUDNN_STATUS_FAKE_ERROR" : "CUDNN_STATUS_SUCCESS";
}

size_t cudnnGetVersion(void);
size_t cudnnGetVersion(void)
{
	const char *v = getenv("FAKE_CUDNN_VERSION");
	return v && *v ? (size_t)strtoul(v, NULL, 10) : 91400;
}
