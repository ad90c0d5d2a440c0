/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the CSV reader and the field parsers over arbitrary bytes. */
#include <stdint.h>

#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aidc_csv c;
	struct aidc_err e;
	aidc_err_clear(&e);
	aidc_csv_open_mem(&c, "fuzz.csv", (const char *)data, size);
	if (aidc_csv_read_header(&c, &e) == 0) {
		int col = aidc_csv_col(&c, "a");
		for (int rows = 0; rows < 100000; rows++) {
			aidc_err_clear(&e);
			int rc = aidc_csv_next(&c, &e);
			if (rc == 0)
				break;
			if (rc < 0)
				continue; /* like --skip-bad-rows */
			for (int i = 0; i < (int)c.nfields; i++) {
				const char *f = aidc_csv_get(&c, i);
				int64_t v;
				double d;
				aidc_parse_i64(f, INT64_MIN, INT64_MAX, &v);
				aidc_parse_f64(f, -1e300, 1e300, &d);
				aidc_parse_datetime(f, &v);
				aidc_parse_duration(f, &v);
			}
			(void)aidc_csv_get(&c, col);
		}
	}
	aidc_csv_close(&c);
	return 0;
}
