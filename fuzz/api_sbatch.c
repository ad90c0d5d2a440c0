/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for sbatch's directives and their resolution (src/api/api_sbatch.c):
 * the input, NUL-terminated, is a batch script. Every input must parse or
 * fail with a message; a parsed one must resolve or fail with a message; the
 * -o/-e patterns must expand or fail. Never a crash or a read past the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "api/sbatch.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	char *text = aidc_malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct api_sbatch *s = aidc_calloc(1, sizeof *s);
	struct aidc_err e = {0};
	int rc = api_sbatch_parse(text, s, &e);
	if (rc != 0 && (e.code != rc || !e.msg[0]))
		abort();
	if (rc == 0) {
		struct api_sbatch_job j;
		struct aidc_err e2 = {0};
		int r2 = api_sbatch_resolve(s, &j, &e2);
		if (r2 != 0 && !e2.msg[0])
			abort();
		if (r2 == 0 && (j.cpus < 1 || j.gpus < 0 || j.mem_mib < 0))
			abort();
		char out[AIDC_MAX_PATH_BYTES];
		struct aidc_err e3 = {0};
		if (s->stdout_path[0] &&
		    api_sbatch_pattern("-o", s->stdout_path, s->name, s->array[0] != 0, out,
				       sizeof out, &e3) == 0 &&
		    api_output_pattern_check_ex("-o", out, s->array[0] != 0, NULL) != 0)
			abort();
	}
	aidc_free(s);
	aidc_free(text);
	return 0;
}
