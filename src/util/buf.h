/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Growable byte buffer with a mandatory maximum (as curl's dynbuf): appends
 * past max fail with AIDC_E_LIMIT and leave the buffer unchanged, so output
 * built from input can never grow without bound. data is always NUL-terminated.
 */
#ifndef AIDC_UTIL_BUF_H
#define AIDC_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct aidc_buf {
	char *data; /* owned; NULL until the first append */
	size_t len; /* bytes used, excluding the NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* most bytes len may reach */
};

void aidc_buf_init(struct aidc_buf *b, size_t max);
void aidc_buf_release(struct aidc_buf *b);
void aidc_buf_reset(struct aidc_buf *b); /* len = 0, keeps memory */
int aidc_buf_append(struct aidc_buf *b, const void *p, size_t n);
int aidc_buf_puts(struct aidc_buf *b, const char *s);
int aidc_buf_putc(struct aidc_buf *b, char c);
int aidc_buf_printf(struct aidc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int aidc_buf_vprintf(struct aidc_buf *b, const char *fmt, va_list ap);
/* The contents ("" when empty); borrowed until the next change. */
const char *aidc_buf_str(const struct aidc_buf *b);
/* Transfers ownership of the contents to the caller (aidc_free); b is left empty. */
char *aidc_buf_detach(struct aidc_buf *b);

#endif
