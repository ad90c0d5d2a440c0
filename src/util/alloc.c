/* SPDX-License-Identifier: Apache-2.0 */
/* Checked allocation: overflow and out-of-memory abort with a message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

static void oom(size_t n)
{
	fprintf(stderr, "aidc: out of memory allocating %zu bytes\n", n);
	abort();
}

void *aidc_malloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		oom(size);
	return p;
}

void *aidc_calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		oom(SIZE_MAX);
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *aidc_reallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		oom(SIZE_MAX);
	size_t bytes = n * size;
	void *q = realloc(p, bytes ? bytes : 1);
	if (!q)
		oom(bytes);
	return q;
}

char *aidc_strdup(const char *s)
{
	return aidc_strndup(s, strlen(s));
}

char *aidc_strndup(const char *s, size_t n)
{
	n = strnlen(s, n); /* never reads past a NUL before n, as POSIX strndup */
	char *p = aidc_malloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void aidc_free(void *p)
{
	free(p);
}

void aidc_grow(void **v, size_t *cap, size_t need, size_t elem_size)
{
	if (need <= *cap)
		return;
	size_t c = *cap ? *cap : 8;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			oom(SIZE_MAX);
		c *= 2;
	}
	*v = aidc_reallocarray(*v, c, elem_size);
	*cap = c;
}
