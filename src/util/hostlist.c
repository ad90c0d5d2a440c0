/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Slurm hostlists (hostlist.h). Expansion works one bracket at a time: a
 * name with k brackets is rewritten once per value of its first bracket and
 * the result expanded again, so the depth is at most the number of brackets
 * (a name is shorter than AIDC_MAX_NAME_BYTES) and the work is bounded by
 * max names: an absurd range ("n[1-999999999]") stops at the limit.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "util/hostlist.h"
#include "util/util.h"

struct names {
	char **v;
	size_t n, cap, max;
};

static int push(struct names *acc, const char *s, size_t len, struct aidc_err *e)
{
	if (len == 0)
		return aidc_errf(e, AIDC_E_PARSE, "hostlist: an empty host name");
	if (len >= AIDC_MAX_NAME_BYTES)
		return aidc_errf(e, AIDC_E_LIMIT, "hostlist: host name '%.*s...' is longer than %u bytes",
				 16, s, AIDC_MAX_NAME_BYTES - 1);
	for (size_t i = 0; i < len; i++)
		if (!isgraph((unsigned char)s[i]) || s[i] == ']')
			return aidc_errf(e, AIDC_E_PARSE, "hostlist: bad character in '%.*s'",
					 (int)len, s);
	if (acc->n >= acc->max)
		return aidc_errf(e, AIDC_E_LIMIT, "hostlist: more than %zu hosts", acc->max);
	AIDC_GROW(acc->v, acc->cap, acc->n + 1);
	acc->v[acc->n] = aidc_malloc(len + 1);
	memcpy(acc->v[acc->n], s, len);
	acc->v[acc->n++][len] = '\0';
	return 0;
}

/* One number of a bracket: 1 to 9 digits; *width is its length when it has
 * a leading zero (the width every value of its range is printed with). */
static int number(const char **p, const char *end, unsigned long *v, int *width,
		  struct aidc_err *e)
{
	const char *s = *p;
	size_t k = 0;
	while (s + k < end && isdigit((unsigned char)s[k]))
		k++;
	if (k == 0 || k > 9)
		return aidc_errf(e, AIDC_E_PARSE, "hostlist: expected a number of 1 to 9 digits "
				 "in a bracket, at '%.*s'", (int)(end - s), s);
	*v = 0;
	for (size_t i = 0; i < k; i++)
		*v = *v * 10 + (unsigned long)(s[i] - '0');
	*width = (k > 1 && s[0] == '0') ? (int)k : 0;
	*p = s + k;
	return 0;
}

static int expand_name(struct names *acc, const char *s, size_t len, struct aidc_err *e);

/* s[0..len) has its first '[' at open and the matching ']' at close:
 * expands every value of that bracket. */
static int expand_bracket(struct names *acc, const char *s, size_t len, size_t open, size_t close,
			  struct aidc_err *e)
{
	const char *p = s + open + 1, *end = s + close;
	char tmp[2 * AIDC_MAX_NAME_BYTES];
	for (;;) {
		unsigned long lo, hi;
		int w, w2;
		int rc = number(&p, end, &lo, &w, e);
		if (rc)
			return rc;
		hi = lo;
		if (p < end && *p == '-') {
			p++;
			if ((rc = number(&p, end, &hi, &w2, e)) != 0)
				return rc;
			if (hi < lo)
				return aidc_errf(e, AIDC_E_PARSE, "hostlist: range %lu-%lu runs "
						 "backwards in '%.*s'", lo, hi, (int)len, s);
		}
		if (p < end && *p != ',')
			return aidc_errf(e, AIDC_E_PARSE, "hostlist: unexpected '%c' in '%.*s'", *p,
					 (int)len, s);
		for (unsigned long v = lo; v <= hi; v++) {
			int k = snprintf(tmp, sizeof tmp, "%.*s%0*lu%.*s", (int)open, s, w, v,
					 (int)(len - close - 1), s + close + 1);
			if (k < 0 || (size_t)k >= AIDC_MAX_NAME_BYTES)
				return aidc_errf(e, AIDC_E_LIMIT, "hostlist: a name of '%.*s' is "
						 "longer than %u bytes", (int)len, s,
						 AIDC_MAX_NAME_BYTES - 1);
			if ((rc = expand_name(acc, tmp, (size_t)k, e)) != 0)
				return rc;
		}
		if (p >= end)
			return 0;
		p++; /* the ',' */
	}
}

static int expand_name(struct names *acc, const char *s, size_t len, struct aidc_err *e)
{
	const char *open = memchr(s, '[', len);
	if (!open)
		return push(acc, s, len, e);
	const char *close = memchr(open, ']', len - (size_t)(open - s));
	const char *again = memchr(open + 1, '[', len - (size_t)(open + 1 - s));
	if (!close || (again && again < close))
		return aidc_errf(e, AIDC_E_PARSE, "hostlist: unbalanced '[' in '%.*s'", (int)len, s);
	return expand_bracket(acc, s, len, (size_t)(open - s), (size_t)(close - s), e);
}

int aidc_hostlist_expand(const char *list, size_t max, char ***out, size_t *n,
			 struct aidc_err *e)
{
	struct names acc = {.max = max};
	int rc = 0;
	const char *p = list;
	while (!rc && *p) {
		/* An item ends at a comma or a blank outside brackets. */
		size_t len = 0;
		int depth = 0;
		while (p[len] && (depth || (p[len] != ',' && !isspace((unsigned char)p[len])))) {
			depth += p[len] == '[' ? 1 : p[len] == ']' ? -1 : 0;
			len++;
		}
		if (len)
			rc = expand_name(&acc, p, len, e);
		else if (*p == ',')
			rc = aidc_errf(e, AIDC_E_PARSE, "hostlist: an empty host name in '%s'", list);
		p += len;
		if (*p)
			p++;
	}
	if (!rc && acc.n == 0)
		rc = aidc_errf(e, AIDC_E_PARSE, "hostlist: no host names");
	if (rc) {
		aidc_hostlist_free(acc.v, acc.n);
		return rc;
	}
	*out = acc.v;
	*n = acc.n;
	return 0;
}

void aidc_hostlist_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		aidc_free(names[i]);
	aidc_free(names);
}

/* The length of name's prefix before its trailing digits. */
static size_t stem(const char *name)
{
	size_t k = strlen(name);
	while (k > 0 && isdigit((unsigned char)name[k - 1]))
		k--;
	return k;
}

/* True when b continues a's run: same prefix, same number of digits, at
 * most 9 of them (what a bracket may hold: longer numbers stay names). */
static bool same_run(const char *a, const char *b)
{
	size_t sa = stem(a), sb = stem(b), la = strlen(a);
	return sa == sb && sa < la && la - sa <= 9 && la == strlen(b) && !strncmp(a, b, sa);
}

/* names[i..j) form one run: "prefix[lo-hi,...]" (or the name alone). */
static int put_run(char *const *names, size_t i, size_t j, struct aidc_buf *out)
{
	if (j - i == 1)
		return aidc_buf_puts(out, names[i]);
	size_t s = stem(names[i]);
	int rc = aidc_buf_printf(out, "%.*s[", (int)s, names[i]);
	for (size_t k = i; !rc && k < j;) {
		size_t m = k + 1;
		while (m < j && strtoul(names[m] + s, NULL, 10) ==
					strtoul(names[m - 1] + s, NULL, 10) + 1)
			m++;
		rc = aidc_buf_printf(out, "%s%s", k > i ? "," : "", names[k] + s);
		if (!rc && m - k > 1)
			rc = aidc_buf_printf(out, "-%s", names[m - 1] + s);
		k = m;
	}
	return rc ? rc : aidc_buf_putc(out, ']');
}

int aidc_hostlist_compress(char *const *names, size_t n, struct aidc_buf *out)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < n;) {
		size_t j = i + 1;
		while (j < n && same_run(names[i], names[j]))
			j++;
		if (i > 0)
			rc = aidc_buf_putc(out, ',');
		if (!rc)
			rc = put_run(names, i, j, out);
		i = j;
	}
	return rc;
}
