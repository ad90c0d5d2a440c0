/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The built-in reference device: per question, the value (GFLOP/s or GB/s)
 * that the `cpu` plugin reached on the project's CI machine (2 cores of an
 * AMD EPYC, OpenBLAS 0.3.21, Debian 12) in a full exam. A score of 1.0 means
 * "as fast as the reference"; scores compare devices question by question.
 * Operators who prefer another yardstick pass --reference REPORT.json.
 * Measured with `aidc exam run --plugin cpu --level full` (Debug build, -O2
 * plugin). Never change a value silently,
 * since scores in stored reports were computed against it.
 */
#include "exam/exam.h"
#include "util/util.h"

const char *const exam_builtin_ref_name = "aidc-ref-cpu-2c (cpu plugin, 2-core AMD EPYC, OpenBLAS)";

static const struct {
	const char *id;
	double value;
} ref[] = {
	{"gemm.f32.1024", 46.014},
	{"gemm.f32.2048", 156.647},
	{"gemm.f16.1024", 90.349},
	{"gemm.bf16.1024", 111.415},
	{"gemm.f32.bert-base-ffn", 78.241},
	{"gemm.f32.db-train-1760", 50.626},
	{"gemm.f32.db-train-2560", 48.316},
	{"gemm.f32.db-infer-5124", 49.418},
	{"gemm.f32.bert-large-ffn", 85.049},
	{"gemm.f32.wgrad-tn", 44.700},
	{"gemm.f32.dgrad-nt", 51.132},
	{"gemm.f32.llm-decode", 45.175},
	{"gemm.f16.2048", 45.980},
	{"gemm.bf16.2048", 75.101},
	{"gemm.f32.4096", 148.469},
	{"gemm.f32.db-train-5124", 167.840},
	{"gemm.f32.gpt3-qkv", 101.448},
	{"gemm.f16.4096", 93.763},
	{"gemm.bf16.4096", 81.910},
	{"conv.resnet50.conv1.b1", 23.602},
	{"conv.resnet50.res2-3x3.b1", 20.855},
	{"conv.resnet50.res2-1x1.b8", 46.665},
	{"conv.resnet50.res3-3x3.b8", 25.936},
	{"conv.resnet50.res4-3x3.b8", 24.725},
	{"conv.resnet50.res5-3x3.b8", 21.865},
	{"conv.resnet50.conv1.b32", 38.083},
	{"conv.resnet50.res2-3x3.b32", 41.464},
	{"conv.resnet50.res4-3x3.b32", 30.796},
	{"attn.f32.s512", 10.566},
	{"attn.f32.s1024", 11.891},
	{"attn.f32.s2048-causal", 13.456},
	{"attn.f32.s4096-causal", 31.761},
	{"attn.f32.s8192-causal", 37.507},
	{"mem.copy.64m", 16.270},
	{"mem.triad.32m", 18.744},
	{"mem.reduce.4096x4096", 14.949},
	{"mem.gelu.64m", 0.317},
	{"mem.copy.256m", 23.134},
	{"mem.triad.256m", 16.816},
	{"mem.copy.1g", 30.360},
	{"xfer.h2d.64m", 7.757},
	{"xfer.d2h.64m", 8.306},
	{"xfer.h2d.512m", 3.644},
	{"xfer.d2h.512m", 13.009},
};

double exam_builtin_ref(const char *id)
{
	for (size_t i = 0; i < AIDC_ARRAY_LEN(ref); i++)
		if (strcmp(ref[i].id, id) == 0)
			return ref[i].value;
	return 0;
}
