/* SPDX-License-Identifier: Apache-2.0 */
/* Growable byte buffer with a mandatory maximum. */
#include <stdio.h>
#include <string.h>

#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

void aidc_buf_init(struct aidc_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void aidc_buf_release(struct aidc_buf *b)
{
	aidc_free(b->data);
	aidc_buf_init(b, b->max);
}

void aidc_buf_reset(struct aidc_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static int reserve(struct aidc_buf *b, size_t n)
{
	if (n > b->max - b->len)
		return AIDC_E_LIMIT;
	AIDC_GROW(b->data, b->cap, b->len + n + 1);
	return 0;
}

int aidc_buf_append(struct aidc_buf *b, const void *p, size_t n)
{
	int rc = reserve(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int aidc_buf_puts(struct aidc_buf *b, const char *s)
{
	return aidc_buf_append(b, s, strlen(s));
}

int aidc_buf_putc(struct aidc_buf *b, char c)
{
	return aidc_buf_append(b, &c, 1);
}

int aidc_buf_vprintf(struct aidc_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return AIDC_E_INVAL;
	int rc = reserve(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int aidc_buf_printf(struct aidc_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = aidc_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

const char *aidc_buf_str(const struct aidc_buf *b)
{
	return b->data ? b->data : "";
}

char *aidc_buf_detach(struct aidc_buf *b)
{
	char *p = b->data ? b->data : aidc_strdup("");
	aidc_buf_init(b, b->max);
	return p;
}
