/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loader of the cuda plugin's optional vendor libraries (cuda_vendor.h):
 * dlopen, then one table per library of the symbols its path needs. Pure C
 * with no CUDA header, so the tests build it alone and run it without a GPU.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_vendor.h"

/* One symbol: its name and where its function pointer goes in the api struct. */
struct sym {
	const char *name;
	size_t off;
};

#define LT(field, name) {name, offsetof(struct cu_lt_api, field)}
static const struct sym lt_syms[] = {
    LT(create, "cublasLtCreate"),
    LT(destroy, "cublasLtDestroy"),
    LT(desc_create, "cublasLtMatmulDescCreate"),
    LT(desc_destroy, "cublasLtMatmulDescDestroy"),
    LT(desc_set, "cublasLtMatmulDescSetAttribute"),
    LT(layout_create, "cublasLtMatrixLayoutCreate"),
    LT(layout_destroy, "cublasLtMatrixLayoutDestroy"),
    LT(pref_create, "cublasLtMatmulPreferenceCreate"),
    LT(pref_destroy, "cublasLtMatmulPreferenceDestroy"),
    LT(pref_set, "cublasLtMatmulPreferenceSetAttribute"),
    LT(heuristic, "cublasLtMatmulAlgoGetHeuristic"),
    LT(matmul, "cublasLtMatmul"),
};

#define DNN(field, name) {name, offsetof(struct cu_dnn_api, field)}
static const struct sym dnn_syms[] = {
    DNN(get_version, "cudnnGetVersion"),
    DNN(error_string, "cudnnGetErrorString"),
    DNN(create, "cudnnCreate"),
    DNN(destroy, "cudnnDestroy"),
    DNN(set_stream, "cudnnSetStream"),
    DNN(tensor_create, "cudnnCreateTensorDescriptor"),
    DNN(tensor_set4d, "cudnnSetTensor4dDescriptor"),
    DNN(tensor_destroy, "cudnnDestroyTensorDescriptor"),
    DNN(filter_create, "cudnnCreateFilterDescriptor"),
    DNN(filter_set4d, "cudnnSetFilter4dDescriptor"),
    DNN(filter_destroy, "cudnnDestroyFilterDescriptor"),
    DNN(conv_create, "cudnnCreateConvolutionDescriptor"),
    DNN(conv_set2d, "cudnnSetConvolution2dDescriptor"),
    DNN(conv_set_math, "cudnnSetConvolutionMathType"),
    DNN(conv_destroy, "cudnnDestroyConvolutionDescriptor"),
    DNN(algo_v7, "cudnnGetConvolutionForwardAlgorithm_v7"),
    DNN(workspace_size, "cudnnGetConvolutionForwardWorkspaceSize"),
    DNN(forward, "cudnnConvolutionForward"),
};

/*
 * Opens the first of names (NULL-terminated) that loads, or the file named by
 * $env when it is set and not empty ("off": nothing is opened). Returns the
 * handle, its name in lib, or NULL with the reason in why.
 */
static void *open_lib(const char *env, const char *const *names, char *lib, size_t liblen,
		      char *why, size_t whylen)
{
	const char *over = getenv(env);
	const char *one[] = {over, NULL};
	if (over && !strcmp(over, "off")) {
		snprintf(why, whylen, "disabled by %s=off", env);
		return NULL;
	}
	if (over && *over)
		names = one;
	for (size_t i = 0; names[i]; i++) {
		void *dl = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
		if (dl) {
			snprintf(lib, liblen, "%s", names[i]);
			why[0] = '\0';
			return dl;
		}
		const char *de = dlerror();
		/* keep the first failure: with an override it is the only one */
		if (i == 0)
			snprintf(why, whylen, "cannot load %s: %s", names[i],
				 de ? de : "unknown dlopen error");
	}
	return NULL;
}

/* Resolves every symbol of tab into api; on a missing one, why names it. */
static bool resolve(void *dl, const char *lib, const struct sym *tab, size_t n, void *api,
		    char *why, size_t whylen)
{
	for (size_t i = 0; i < n; i++) {
		dlerror();
		void *p = dlsym(dl, tab[i].name);
		if (!p) {
			snprintf(why, whylen, "%s: no symbol %s", lib, tab[i].name);
			return false;
		}
		/* dlsym gives void *; C converts it to a function pointer only by copy */
		memcpy((char *)api + tab[i].off, &p, sizeof p);
	}
	return true;
}

static void load_lt(struct cu_vendor *v)
{
	static const char *const names[] = {"libcublasLt.so.13", "libcublasLt.so.12",
					    "libcublasLt.so", NULL};
	v->lt_dl = open_lib(CU_VENDOR_LT_ENV, names, v->lt_lib, sizeof v->lt_lib, v->lt_why,
			    sizeof v->lt_why);
	if (!v->lt_dl)
		return;
	v->lt_on = resolve(v->lt_dl, v->lt_lib, lt_syms, sizeof lt_syms / sizeof lt_syms[0],
			   &v->lt, v->lt_why, sizeof v->lt_why);
	if (!v->lt_on) {
		dlclose(v->lt_dl);
		v->lt_dl = NULL;
		memset(&v->lt, 0, sizeof v->lt);
	}
}

static void load_dnn(struct cu_vendor *v)
{
	static const char *const names[] = {"libcudnn.so.9", NULL};
	v->dnn_dl = open_lib(CU_VENDOR_DNN_ENV, names, v->dnn_lib, sizeof v->dnn_lib, v->dnn_why,
			     sizeof v->dnn_why);
	if (!v->dnn_dl)
		return;
	v->dnn_on = resolve(v->dnn_dl, v->dnn_lib, dnn_syms, sizeof dnn_syms / sizeof dnn_syms[0],
			    &v->dnn, v->dnn_why, sizeof v->dnn_why);
	if (v->dnn_on) {
		v->dnn_version = v->dnn.get_version();
		if (v->dnn_version < CU_VENDOR_DNN_MIN_VERSION) {
			snprintf(v->dnn_why, sizeof v->dnn_why,
				 "%s: cuDNN version %zu, need %d or later", v->dnn_lib,
				 v->dnn_version, CU_VENDOR_DNN_MIN_VERSION);
			v->dnn_on = false;
		}
	}
	if (!v->dnn_on) {
		dlclose(v->dnn_dl);
		v->dnn_dl = NULL;
		memset(&v->dnn, 0, sizeof v->dnn);
	}
}

void cu_vendor_load(struct cu_vendor *v)
{
	memset(v, 0, sizeof *v);
	load_lt(v);
	load_dnn(v);
}

void cu_vendor_unload(struct cu_vendor *v)
{
	if (v->lt_dl)
		dlclose(v->lt_dl);
	if (v->dnn_dl)
		dlclose(v->dnn_dl);
	memset(v, 0, sizeof *v);
}
