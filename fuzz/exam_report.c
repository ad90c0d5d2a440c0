/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the exam report reader (src/exam/report_read.c,
 * on jansson), which `aidc exam report`, `compare` and --reference run on
 * files users pass around. A report that parses must also render as HTML and
 * survive a write / re-read round trip.
 */
#include <stdint.h>

#include "exam/exam.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct exam_report r, r2;
	struct aidc_err e;
	aidc_err_clear(&e);
	if (exam_report_parse((const char *)data, size, &r, &e) != 0)
		return 0;
	struct aidc_buf b;
	aidc_buf_init(&b, 64u << 20);
	if (exam_report_html(&r, &b) != 0)
		abort();
	aidc_buf_reset(&b);
	if (exam_report_to_json(&r, &b) != 0)
		abort();
	aidc_err_clear(&e);
	if (exam_report_parse(aidc_buf_str(&b), b.len, &r2, &e) != 0) {
		fprintf(stderr, "round trip failed: %s\n", e.msg);
		abort();
	}
	if (r2.nq != r.nq)
		abort();
	exam_report_release(&r2);
	aidc_buf_release(&b);
	exam_report_release(&r);
	return 0;
}
