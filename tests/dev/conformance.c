/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctest's runner of the device plugin ABI conformance suite (the suite is
 * src/exam/conformance.c, shipped as `aidc exam conformance`):
 *     dev_conformance cpu|opencl|PATH.so [CONFIG]
 * Exit 0 pass, 1 fail, 77 skip (plugin not built, or no device with
 * $AIDC_CONFORMANCE_SKIP_NO_DEVICE set: the reason is printed).
 */
#include "exam/exam.h"
#include "util/util.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: dev_conformance PLUGIN|PATH.so [CONFIG]\n");
		return 2;
	}
	struct aidc_err e;
	aidc_err_clear(&e);
	int rc = exam_conformance(argv[1], argc > 2 ? argv[2] : NULL, stdout, 300,
				  getenv("AIDC_CONFORMANCE_SKIP_NO_DEVICE") != NULL, &e);
	if (rc == EXAM_CONFORMANCE_SKIP)
		return 77;
	if (rc) {
		printf("FAIL: %s\n", e.msg);
		return 1;
	}
	return 0;
}
