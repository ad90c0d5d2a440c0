/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exam's question catalogue: DeepBench- and MLPerf-style shapes from
 * vision and language training and inference, in three levels (each level
 * asks everything the lower ones ask). Question ids are stable keys: reports
 * and reference tables refer to them, so an id is never reused for a
 * different shape. docs/exam.md lists the catalogue.
 */
#include <fnmatch.h>

#include "exam/exam.h"
#include "util/util.h"

#define Q EXAM_QUICK
#define S EXAM_STANDARD
#define F EXAM_FULL
#define F32 AIDC_DEV_F32
#define F16 AIDC_DEV_F16
#define BF16 AIDC_DEV_BF16

static const struct exam_question catalog[] = {
	/* ---- GEMM ---------------------------------------------------------- */
	{"gemm.f32.1024", "gemm", "square GEMM", EXAM_GEMM, Q, F32, {1024, 1024, 1024}},
	{"gemm.f32.2048", "gemm", "square GEMM (DeepBench-style)", EXAM_GEMM, Q, F32, {2048, 2048, 2048}},
	{"gemm.f16.1024", "gemm", "square GEMM, half precision", EXAM_GEMM, Q, F16, {1024, 1024, 1024}},
	{"gemm.bf16.1024", "gemm", "square GEMM, bfloat16", EXAM_GEMM, Q, BF16, {1024, 1024, 1024}},
	{"gemm.f32.bert-base-ffn", "gemm", "BERT-base inference FFN, 128 tokens", EXAM_GEMM, Q, F32,
	 {128, 3072, 768}},
	{"gemm.f32.db-train-1760", "gemm", "DeepBench training (speech RNN), batch 128", EXAM_GEMM, Q,
	 F32, {1760, 128, 1760}},
	{"gemm.f32.db-train-2560", "gemm", "DeepBench training, batch 64", EXAM_GEMM, S, F32,
	 {2560, 64, 2560}},
	{"gemm.f32.db-infer-5124", "gemm", "DeepBench inference (speech), batch 700", EXAM_GEMM, S, F32,
	 {5124, 700, 2048}},
	{"gemm.f32.bert-large-ffn", "gemm", "BERT-large training FFN, 4096 tokens", EXAM_GEMM, S, F32,
	 {4096, 4096, 1024}},
	{"gemm.f32.wgrad-tn", "gemm", "weight gradient (A transposed)", EXAM_GEMM, S, F32,
	 {1024, 1024, 4096, 1, 0}},
	{"gemm.f32.dgrad-nt", "gemm", "data gradient (B transposed)", EXAM_GEMM, S, F32,
	 {4096, 1024, 1024, 0, 1}},
	{"gemm.f32.llm-decode", "gemm", "LLM decode projection, batch 16 (7B model)", EXAM_GEMM, S, F32,
	 {16, 4096, 4096}},
	{"gemm.f16.2048", "gemm", "square GEMM, half precision", EXAM_GEMM, S, F16, {2048, 2048, 2048}},
	{"gemm.bf16.2048", "gemm", "square GEMM, bfloat16", EXAM_GEMM, S, BF16, {2048, 2048, 2048}},
	{"gemm.f32.tn-512", "gemm", "A transposed (weight-gradient layout)", EXAM_GEMM, Q, F32,
	 {512, 512, 512, 1, 0}},
	{"gemm.bf16.nt-512", "gemm", "B transposed (data-gradient layout), bfloat16", EXAM_GEMM, Q,
	 BF16, {512, 512, 512, 0, 1}},
	{"gemm.f32.beta-padded-512", "gemm", "C = alpha A B + 0.5 C, padded rows (lda/ldb/ldc)",
	 EXAM_GEMM, Q, F32, {512, 512, 512, 0, 0, EXAM_GEMM_BETA | EXAM_GEMM_PADDED}},
	{"gemm.f16.beta-padded-tt-512", "gemm", "both transposed, beta 0.5, padded rows, half",
	 EXAM_GEMM, Q, F16, {512, 512, 512, 1, 1, EXAM_GEMM_BETA | EXAM_GEMM_PADDED}},
	{"gemm.f32.4096", "gemm", "square GEMM", EXAM_GEMM, F, F32, {4096, 4096, 4096}},
	{"gemm.f32.db-train-5124", "gemm", "DeepBench training, large", EXAM_GEMM, F, F32,
	 {5124, 9124, 2560}},
	{"gemm.f32.gpt3-qkv", "gemm", "GPT-3 style QKV projection, 2048 tokens", EXAM_GEMM, F, F32,
	 {2048, 3 * 4096, 4096}},
	{"gemm.f16.4096", "gemm", "square GEMM, half precision", EXAM_GEMM, F, F16, {4096, 4096, 4096}},
	{"gemm.bf16.4096", "gemm", "square GEMM, bfloat16", EXAM_GEMM, F, BF16, {4096, 4096, 4096}},
	/* ---- ResNet-50 convolutions (n c h w k r s stride pad) ---------------- */
	{"conv.resnet50.conv1.b1", "conv", "ResNet-50 conv1 7x7/2, batch 1 (inference)", EXAM_CONV, Q,
	 F32, {1, 3, 224, 224, 64, 7, 7, 2, 3}},
	{"conv.resnet50.res2-3x3.b1", "conv", "ResNet-50 res2 3x3, batch 1", EXAM_CONV, Q, F32,
	 {1, 64, 56, 56, 64, 3, 3, 1, 1}},
	{"conv.resnet50.res2-3x3.b1.f16", "conv", "ResNet-50 res2 3x3, batch 1, half", EXAM_CONV, Q,
	 F16, {1, 64, 56, 56, 64, 3, 3, 1, 1}},
	{"conv.resnet50.res2-3x3.b1.bf16", "conv", "ResNet-50 res2 3x3, batch 1, bfloat16", EXAM_CONV,
	 S, BF16, {1, 64, 56, 56, 64, 3, 3, 1, 1}},
	{"conv.resnet50.res2-1x1.b8", "conv", "ResNet-50 res2 1x1 expand, batch 8", EXAM_CONV, S, F32,
	 {8, 64, 56, 56, 256, 1, 1, 1, 0}},
	{"conv.resnet50.res3-3x3.b8", "conv", "ResNet-50 res3 3x3, batch 8", EXAM_CONV, S, F32,
	 {8, 128, 28, 28, 128, 3, 3, 1, 1}},
	{"conv.resnet50.res4-3x3.b8", "conv", "ResNet-50 res4 3x3, batch 8", EXAM_CONV, S, F32,
	 {8, 256, 14, 14, 256, 3, 3, 1, 1}},
	{"conv.resnet50.res5-3x3.b8", "conv", "ResNet-50 res5 3x3, batch 8", EXAM_CONV, S, F32,
	 {8, 512, 7, 7, 512, 3, 3, 1, 1}},
	{"conv.resnet50.conv1.b32", "conv", "ResNet-50 conv1 7x7/2, batch 32 (training)", EXAM_CONV, F,
	 F32, {32, 3, 224, 224, 64, 7, 7, 2, 3}},
	{"conv.resnet50.res2-3x3.b32", "conv", "ResNet-50 res2 3x3, batch 32", EXAM_CONV, F, F32,
	 {32, 64, 56, 56, 64, 3, 3, 1, 1}},
	{"conv.resnet50.res4-3x3.b32", "conv", "ResNet-50 res4 3x3, batch 32", EXAM_CONV, F, F32,
	 {32, 256, 14, 14, 256, 3, 3, 1, 1}},
	/* ---- attention (batch heads seq head_dim causal) -------------------- */
	{"attn.f32.s512", "attention", "BERT-style encoder attention, seq 512", EXAM_ATTN, Q, F32,
	 {1, 8, 512, 64, 0}},
	{"attn.f16.s512", "attention", "encoder attention, seq 512, half", EXAM_ATTN, Q, F16,
	 {1, 8, 512, 64, 0}},
	{"attn.bf16.s1024-causal", "attention", "causal attention, seq 1024, bfloat16", EXAM_ATTN, S,
	 BF16, {1, 16, 1024, 64, 1}},
	{"attn.f32.s1024", "attention", "encoder attention, seq 1024", EXAM_ATTN, S, F32,
	 {1, 16, 1024, 64, 0}},
	{"attn.f32.s2048-causal", "attention", "GPT-style causal attention, seq 2048", EXAM_ATTN, S, F32,
	 {1, 16, 2048, 64, 1}},
	{"attn.f32.s4096-causal", "attention", "LLM causal attention, seq 4096, head 128", EXAM_ATTN, F,
	 F32, {1, 16, 4096, 128, 1}},
	{"attn.f32.s8192-causal", "attention", "long-context causal attention, seq 8192", EXAM_ATTN, F,
	 F32, {1, 8, 8192, 128, 1}},
	/* ---- memory ---------------------------------------------------------- */
	{"mem.copy.64m", "memory", "device-to-device copy, 64 MiB", EXAM_COPY, Q, F32, {64}},
	{"mem.triad.32m", "memory", "STREAM triad, 32 MiB vectors", EXAM_TRIAD, Q, F32, {32}},
	{"mem.reduce.4096x4096", "memory", "row-sum reduction (softmax/layernorm pattern)", EXAM_REDUCE,
	 Q, F32, {4096, 4096}},
	{"mem.add.f32.32m", "memory", "elementwise add, 32 MiB vectors", EXAM_ELT, Q, F32,
	 {32, AIDC_DEV_ELT_ADD}},
	{"mem.mul.bf16.32m", "memory", "elementwise multiply, bfloat16", EXAM_ELT, Q, BF16,
	 {32, AIDC_DEV_ELT_MUL}},
	{"mem.relu.f16.32m", "memory", "ReLU, half", EXAM_ELT, Q, F16, {32, AIDC_DEV_ELT_RELU}},
	{"mem.triad.f16.32m", "memory", "STREAM triad, half", EXAM_ELT, Q, F16, {32, AIDC_DEV_ELT_AXPY}},
	{"mem.gelu.bf16.32m", "memory", "GELU activation, bfloat16", EXAM_ELT, Q, BF16,
	 {32, AIDC_DEV_ELT_GELU}},
	{"mem.reduce-max.2048x2048", "memory", "row max (softmax pattern)", EXAM_REDUCE, Q, F32,
	 {2048, 2048, 1}},
	{"mem.reduce.f16.2048x2048", "memory", "row-sum reduction, half", EXAM_REDUCE, Q, F16,
	 {2048, 2048, 0}},
	{"mem.mul.f32.32m", "memory", "elementwise multiply, 32 MiB vectors", EXAM_ELT, S, F32,
	 {32, AIDC_DEV_ELT_MUL}},
	{"mem.relu.f32.32m", "memory", "ReLU, 32 MiB vectors", EXAM_ELT, S, F32,
	 {32, AIDC_DEV_ELT_RELU}},
	{"mem.add.bf16.32m", "memory", "elementwise add, bfloat16", EXAM_ELT, S, BF16,
	 {32, AIDC_DEV_ELT_ADD}},
	{"mem.reduce-max.bf16.2048x2048", "memory", "row max, bfloat16", EXAM_REDUCE, S, BF16,
	 {2048, 2048, 1}},
	{"mem.gelu.64m", "memory", "GELU activation, 64 MiB", EXAM_GELU, S, F32, {64}},
	{"mem.copy.256m", "memory", "device-to-device copy, 256 MiB", EXAM_COPY, S, F32, {256}},
	{"mem.triad.256m", "memory", "STREAM triad, 256 MiB vectors", EXAM_TRIAD, F, F32, {256}},
	{"mem.copy.1g", "memory", "device-to-device copy, 1 GiB", EXAM_COPY, F, F32, {1024}},
	/* ---- host <-> device ------------------------------------------------ */
	{"xfer.h2d.64m", "transfer", "host to device, 64 MiB", EXAM_H2D, Q, F32, {64}},
	{"xfer.d2h.64m", "transfer", "device to host, 64 MiB", EXAM_D2H, Q, F32, {64}},
	{"xfer.h2d.512m", "transfer", "host to device, 512 MiB", EXAM_H2D, F, F32, {512}},
	{"xfer.d2h.512m", "transfer", "device to host, 512 MiB", EXAM_D2H, F, F32, {512}},
	/* ---- collectives (need two or more devices) --------------------------- */
	{"coll.peer.64m", "collective", "device 0 to device 1 copy, 64 MiB", EXAM_PEER, Q, F32, {64}},
	{"coll.allreduce.16m", "collective", "sum all-reduce, 16 MiB per device", EXAM_ALLREDUCE, Q, F32,
	 {16}},
	{"coll.allreduce.256m", "collective", "sum all-reduce, 256 MiB per device", EXAM_ALLREDUCE, F,
	 F32, {256}},
};

const struct exam_question *exam_catalog(size_t *n)
{
	*n = AIDC_ARRAY_LEN(catalog);
	return catalog;
}

static const char *const level_names[] = {"quick", "standard", "full"};

const char *exam_level_name(enum exam_level l)
{
	return (unsigned)l < 3 ? level_names[l] : "unknown";
}

int exam_level_parse(const char *s, enum exam_level *out)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum exam_level)i;
			return 0;
		}
	return AIDC_E_PARSE;
}

void exam_shape_str(const struct exam_question *q, char *buf, size_t len)
{
	const uint32_t *p = q->p;
	switch (q->kind) {
	case EXAM_GEMM:
		snprintf(buf, len, "m=%u n=%u k=%u%s%s%s%s", p[0], p[1], p[2], p[3] ? " A^T" : "",
			 p[4] ? " B^T" : "", p[5] & EXAM_GEMM_BETA ? " beta=0.5" : "",
			 p[5] & EXAM_GEMM_PADDED ? " padded" : "");
		break;
	case EXAM_CONV:
		snprintf(buf, len, "n=%u c=%u h=%u w=%u k=%u r=%u s=%u stride=%u pad=%u", p[0], p[1],
			 p[2], p[3], p[4], p[5], p[6], p[7], p[8]);
		break;
	case EXAM_ATTN:
		snprintf(buf, len, "batch=%u heads=%u seq=%u head_dim=%u%s", p[0], p[1], p[2], p[3],
			 p[4] ? " causal" : "");
		break;
	case EXAM_REDUCE:
		snprintf(buf, len, "rows=%u cols=%u%s", p[0], p[1], p[2] ? " max" : " sum");
		break;
	case EXAM_ELT: {
		static const char *const ops[] = {"add", "mul", "axpy", "relu", "gelu"};
		snprintf(buf, len, "%u MiB, %s", p[0], p[1] < 5 ? ops[p[1]] : "?");
		break;
	}
	default:
		snprintf(buf, len, "%u MiB", p[0]);
		break;
	}
}

/* One pattern against the question's id and group; '*' globs allowed. */
static bool match_one(const char *pat, size_t len, const struct exam_question *q)
{
	char buf[128];
	if (len == 0 || len >= sizeof buf)
		return false;
	memcpy(buf, pat, len);
	buf[len] = '\0';
	if (fnmatch(buf, q->id, 0) == 0 || strcmp(buf, q->group) == 0)
		return true;
	/* a prefix up to a dot selects a family: "gemm.f16" */
	size_t il = strlen(q->id);
	return len < il && strncmp(buf, q->id, len) == 0 && q->id[len] == '.';
}

bool exam_selected(const struct exam_question *q, const struct exam_options *o)
{
	if (!o->questions || !*o->questions)
		return q->level <= o->level;
	/* Named questions are asked whatever the level. */
	for (const char *s = o->questions; *s;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		if (match_one(s, len, q))
			return true;
		s += len + (comma ? 1 : 0);
	}
	return false;
}
