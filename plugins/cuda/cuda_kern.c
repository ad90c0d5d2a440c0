/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVRTC build of the cuda plugin's kernels and the GEMM plans of its
 * convolution and attention (cuda_kern.h). Needs libnvrtc but no GPU and no
 * CUDA runtime, which is what lets the kernel test run on a build machine.
 * Cost: one NVRTC compile takes about a second; the plugin does it once per
 * context and compute capability, on the first call that needs a kernel.
 */
#include <nvrtc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_kern.h"

/* Bytes of the NVRTC log quoted in an error message (its first lines). */
#define CU_LOG_QUOTE_BYTES 360
/* Architectures one NVRTC can list (CUDA 13 knows about 15). */
#define CU_MAX_ARCHS 64

const char *const cu_kern_names[CU_NKERN] = {
    [CU_K_IM2COL] = "aidc_im2col",	   [CU_K_SOFTMAX] = "aidc_softmax_rows",
    [CU_K_REDUCE] = "aidc_reduce_rows",	   [CU_K_ELTWISE] = "aidc_eltwise",
    [CU_K_ACCUMULATE] = "aidc_accumulate",
};

void cu_image_release(struct cu_image *img)
{
	if (img) {
		free(img->data);
		memset(img, 0, sizeof *img);
	}
}

/* First lines of the program log, newlines shown as " | ", into buf. */
static void log_head(nvrtcProgram prog, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	if (nvrtcGetProgramLogSize(prog, &n) != NVRTC_SUCCESS || n <= 1)
		return;
	char *log = malloc(n);
	if (!log || nvrtcGetProgramLog(prog, log) != NVRTC_SUCCESS) {
		free(log);
		return;
	}
	size_t o = 0;
	for (size_t i = 0; log[i] && o + 4 < len && i < CU_LOG_QUOTE_BYTES; i++) {
		if (log[i] == '\n') {
			if (log[i + 1])
				o += (size_t)snprintf(buf + o, len - o, " | ");
		} else {
			buf[o++] = log[i];
		}
	}
	buf[o < len ? o : len - 1] = '\0';
	free(log);
}

/* Compiles; on success fetches the CUBIN or PTX into out. Returns the NVRTC status. */
static nvrtcResult compile(nvrtcProgram prog, const char *arch, struct cu_image *out, char *err,
			   size_t errlen)
{
	char opt[48];
	snprintf(opt, sizeof opt, "--gpu-architecture=%s", arch);
	const char *opts[] = {opt, "--std=c++17", "-default-device"};
	bool ptx = strncmp(arch, "compute_", 8) == 0;
	nvrtcResult r = nvrtcCompileProgram(prog, 3, opts);
	if (r != NVRTC_SUCCESS) {
		char head[CU_LOG_QUOTE_BYTES + 64];
		log_head(prog, head, sizeof head);
		snprintf(err, errlen,
			 "NVRTC cannot compile the cuda plugin's kernels for %s: %s%s%s", arch,
			 nvrtcGetErrorString(r), head[0] ? ": " : "", head);
		return r;
	}
	size_t n = 0;
	r = ptx ? nvrtcGetPTXSize(prog, &n) : nvrtcGetCUBINSize(prog, &n);
	unsigned char *data = r == NVRTC_SUCCESS && n ? malloc(n) : NULL;
	if (data)
		r = ptx ? nvrtcGetPTX(prog, (char *)data) : nvrtcGetCUBIN(prog, (char *)data);
	if (r != NVRTC_SUCCESS || !data) {
		free(data);
		snprintf(err, errlen, "NVRTC: no %s for %s: %s", ptx ? "PTX" : "CUBIN", arch,
			 r != NVRTC_SUCCESS ? nvrtcGetErrorString(r) : "empty or out of memory");
		return r != NVRTC_SUCCESS ? r : NVRTC_ERROR_OUT_OF_MEMORY;
	}
	*out = (struct cu_image){.data = data, .len = n, .ptx = ptx};
	snprintf(out->arch, sizeof out->arch, "%s", arch);
	return NVRTC_SUCCESS;
}

static nvrtcResult build(const char *src, const char *arch, struct cu_image *out, char *err,
			 size_t errlen)
{
	const char *hdr[] = {(const char *)cu_src_cuda_index_h};
	const char *hdr_names[] = {"cuda_index.h"};
	nvrtcProgram prog;
	nvrtcResult r = nvrtcCreateProgram(&prog, src ? src : (const char *)cu_src_cuda_kernels_cu,
					   "aidc_cuda_kernels.cu", 1, hdr, hdr_names);
	if (r != NVRTC_SUCCESS) {
		snprintf(err, errlen, "NVRTC: cannot create the program: %s",
			 nvrtcGetErrorString(r));
		return r;
	}
	r = compile(prog, arch, out, err, errlen);
	nvrtcDestroyProgram(&prog);
	return r;
}

int cu_kern_build(const char *src, const char *arch, struct cu_image *out, char *err, size_t errlen)
{
	return build(src, arch, out, err, errlen) == NVRTC_SUCCESS ? 0 : -1;
}

/* The newest architecture this NVRTC can target, or 0. */
static int newest_arch(void)
{
	int n = 0, archs[CU_MAX_ARCHS], best = 0;
	if (nvrtcGetNumSupportedArchs(&n) != NVRTC_SUCCESS || n <= 0 || n > CU_MAX_ARCHS ||
	    nvrtcGetSupportedArchs(archs) != NVRTC_SUCCESS)
		return 0;
	for (int i = 0; i < n; i++)
		best = archs[i] > best ? archs[i] : best;
	return best;
}

int cu_kern_build_for(int major, int minor, struct cu_image *out, char *err, size_t errlen)
{
	int cc = major * 10 + minor, newest = newest_arch();
	char arch[16];
	snprintf(arch, sizeof arch, "sm_%d", cc);
	nvrtcResult r = build(NULL, arch, out, err, errlen);
	/* An error in the source is final; only an unknown target is worth another try. */
	if (r == NVRTC_SUCCESS)
		return 0;
	if (r == NVRTC_ERROR_COMPILATION && newest >= cc)
		return -1;
	snprintf(arch, sizeof arch, "compute_%d", cc);
	if (build(NULL, arch, out, err, errlen) == NVRTC_SUCCESS)
		return 0;
	if (newest == 0 || newest >= cc)
		return -1;
	snprintf(arch, sizeof arch, "compute_%d", newest);
	return cu_kern_build(NULL, arch, out, err, errlen);
}

void cu_plan_conv(const struct cu_conv_geom *g, unsigned k, int images, struct cu_gemm_plan *out)
{
	long long pq = (long long)g->p * g->q, crs = (long long)g->c * g->r * g->s;
	*out = (struct cu_gemm_plan){.m = (int)pq,
				     .n = (int)k,
				     .k = (int)crs,
				     .lda = (int)pq,
				     .ldb = (int)crs,
				     .ldc = (int)pq,
				     .sa = crs * pq,
				     .sb = 0,
				     .sc = (long long)k * pq,
				     .batch = images,
				     .alpha = 1.0f};
}

void cu_plan_attn_qk(unsigned seq, unsigned dim, int heads, float scale, struct cu_gemm_plan *out)
{
	long long sd = (long long)seq * dim;
	/* column-major S^T[key][query] = K Q^T: A = K buffer (dim x seq) transposed */
	*out = (struct cu_gemm_plan){.ta = true,
				     .m = (int)seq,
				     .n = (int)seq,
				     .k = (int)dim,
				     .lda = (int)dim,
				     .ldb = (int)dim,
				     .ldc = (int)seq,
				     .sa = sd,
				     .sb = sd,
				     .sc = (long long)seq * seq,
				     .batch = heads,
				     .alpha = scale};
}

void cu_plan_attn_pv(unsigned seq, unsigned dim, int heads, struct cu_gemm_plan *out)
{
	long long sd = (long long)seq * dim;
	/* column-major O^T[d][query] = V^T P^T: A = V buffer (dim x seq), B = P buffer (seq x seq)
	 */
	*out = (struct cu_gemm_plan){.m = (int)dim,
				     .n = (int)seq,
				     .k = (int)seq,
				     .lda = (int)dim,
				     .ldb = (int)seq,
				     .ldc = (int)dim,
				     .sa = sd,
				     .sb = (long long)seq * seq,
				     .sc = sd,
				     .batch = heads,
				     .alpha = 1.0f};
}
