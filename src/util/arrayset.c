/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Job array index sets (arrayset.h): Slurm's --array syntax, kept as stepped
 * ranges. A spec whose items come in order is kept as written (no index is
 * ever materialized); one with overlapping or unordered items is expanded
 * once (at most AIDC_MAX_ARRAY_TASKS indices), sorted, deduplicated and
 * compressed again, so the set's ranges are always ordered and disjoint.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/arrayset.h"
#include "util/util.h"

void aidc_aset_free(struct aidc_aset *s)
{
	aidc_free(s->r);
	*s = (struct aidc_aset){0};
}

static void push(struct aidc_aset *s, int64_t lo, int64_t hi, int64_t step)
{
	AIDC_GROW(s->r, s->cap, s->n + 1);
	s->r[s->n++] = (struct aidc_arange){lo, hi, lo == hi ? 1 : step};
	s->count += (hi - lo) / step + 1;
}

/* A decimal index 0..AIDC_MAX_ARRAY_INDEX of exactly [p, end). */
static int index_of(const char *p, const char *end, int64_t max, int64_t *out)
{
	if (p == end || end - p > 10)
		return -1;
	int64_t v = 0;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* One item N, A-B or A-B:S of [p, end). */
static int parse_item(const char *p, const char *end, struct aidc_arange *r, struct aidc_err *e)
{
	const char *dash = memchr(p, '-', (size_t)(end - p));
	const char *colon = memchr(p, ':', (size_t)(end - p));
	const int64_t max = AIDC_MAX_ARRAY_INDEX;
	int len = (int)(end - p);
	if (colon && (!dash || colon < dash))
		return aidc_errf(e, AIDC_E_INVAL, "'%.*s': a step (:S) needs a range A-B:S", len,
				 p);
	const char *hi_end = colon ? colon : end;
	if (index_of(p, dash ? dash : hi_end, max, &r->lo) ||
	    (dash && index_of(dash + 1, hi_end, max, &r->hi)))
		return aidc_errf(e, AIDC_E_INVAL,
				 "'%.*s': expected N, A-B or A-B:S with indices 0..%u", len, p,
				 (unsigned)AIDC_MAX_ARRAY_INDEX);
	if (!dash)
		r->hi = r->lo;
	r->step = 1;
	if (colon && (index_of(colon + 1, end, max, &r->step) || r->step < 1))
		return aidc_errf(e, AIDC_E_INVAL, "'%.*s': the step must be 1..%u", len, p,
				 (unsigned)AIDC_MAX_ARRAY_INDEX);
	if (r->lo > r->hi)
		return aidc_errf(e, AIDC_E_INVAL, "'%.*s': the range ends before it starts", len,
				 p);
	r->hi = r->lo + (r->hi - r->lo) / r->step * r->step;
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Rebuilds s from sorted, distinct indices: runs of 3+ evenly spaced ones
 * (2+ when adjacent) become one range. */
static void compress(struct aidc_aset *s, const int64_t *x, size_t n)
{
	s->n = 0;
	s->count = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		if (i + 1 < n) {
			int64_t d = x[i + 1] - x[i];
			j = i + 1;
			while (j + 1 < n && x[j + 1] - x[j] == d)
				j++;
			if (d != 1 && j == i + 1)
				j = i; /* a pair far apart: two single indices */
		}
		push(s, x[i], x[j], j > i ? x[i + 1] - x[i] : 1);
		i = j + 1;
	}
}

/* Items out of order or overlapping: expand, sort, deduplicate, compress. */
static void normalize(struct aidc_aset *s)
{
	bool ordered = true;
	for (size_t k = 1; k < s->n; k++)
		ordered &= s->r[k].lo > s->r[k - 1].hi;
	if (ordered)
		return;
	int64_t *x = aidc_reallocarray(NULL, (size_t)s->count, sizeof *x);
	size_t n = 0;
	for (size_t k = 0; k < s->n; k++)
		for (int64_t v = s->r[k].lo; v <= s->r[k].hi; v += s->r[k].step)
			x[n++] = v;
	qsort(x, n, sizeof *x, cmp_i64);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (m == 0 || x[i] != x[m - 1])
			x[m++] = x[i];
	compress(s, x, m);
	aidc_free(x);
}

static int parse_items(const char *p, const char *end, struct aidc_aset *s, struct aidc_err *e)
{
	if (p == end)
		return aidc_errf(e, AIDC_E_INVAL, "no index (expected e.g. 0-9, 1,3,5-9:2)");
	while (p <= end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *ie = c ? c : end;
		if (ie == p)
			return aidc_errf(e, AIDC_E_INVAL, "an empty item between commas");
		struct aidc_arange r = {0};
		int rc = parse_item(p, ie, &r, e);
		if (rc)
			return rc;
		int64_t n = (r.hi - r.lo) / r.step + 1;
		if (n > (int64_t)AIDC_MAX_ARRAY_TASKS - s->count)
			return aidc_errf(e, AIDC_E_LIMIT, "more than %u elements",
					 (unsigned)AIDC_MAX_ARRAY_TASKS);
		push(s, r.lo, r.hi, r.step);
		if (!c)
			break;
		p = c + 1;
	}
	return 0;
}

int aidc_aset_parse(const char *spec, struct aidc_aset *s, int64_t *limit, struct aidc_err *e)
{
	*s = (struct aidc_aset){0};
	*limit = 0;
	if (!spec || !*spec)
		return aidc_errf(e, AIDC_E_INVAL, "needs indices (e.g. 0-9, 1,3,5-9:2, 0-99%%10)");
	size_t len = strlen(spec);
	if (len > AIDC_MAX_ARRAY_SPEC_BYTES)
		return aidc_errf(e, AIDC_E_LIMIT, "longer than %u bytes",
				 (unsigned)AIDC_MAX_ARRAY_SPEC_BYTES);
	const char *pct = strchr(spec, '%');
	const char *end = pct ? pct : spec + len;
	if (pct && (index_of(pct + 1, spec + len, AIDC_MAX_ARRAY_TASKS, limit) || *limit < 1)) {
		*limit = 0;
		return aidc_errf(e, AIDC_E_INVAL, "'%%%.32s': the throttle %%LIMIT must be 1..%u",
				 pct + 1, (unsigned)AIDC_MAX_ARRAY_TASKS);
	}
	int rc = parse_items(spec, end, s, e);
	if (rc) {
		aidc_aset_free(s);
		*limit = 0;
		return rc;
	}
	normalize(s);
	return 0;
}

int aidc_aset_read(const char *text, struct aidc_aset *s, struct aidc_err *e)
{
	*s = (struct aidc_aset){0};
	if (!text || !*text)
		return 0;
	int rc = parse_items(text, text + strlen(text), s, e);
	if (rc)
		aidc_aset_free(s);
	else
		normalize(s);
	return rc;
}

size_t aidc_aset_format(const struct aidc_aset *s, char *out, size_t cap)
{
	size_t n = 0;
	if (cap)
		out[0] = '\0';
	for (size_t k = 0; k < s->n; k++) {
		const struct aidc_arange *r = &s->r[k];
		char item[64];
		int m = r->lo == r->hi
			    ? snprintf(item, sizeof item, "%s%lld", k ? "," : "", (long long)r->lo)
			: r->step == 1
			    ? snprintf(item, sizeof item, "%s%lld-%lld", k ? "," : "",
				       (long long)r->lo, (long long)r->hi)
			    : snprintf(item, sizeof item, "%s%lld-%lld:%lld", k ? "," : "",
				       (long long)r->lo, (long long)r->hi, (long long)r->step);
		if (n + (size_t)m < cap)
			memcpy(out + n, item, (size_t)m + 1);
		n += (size_t)m;
	}
	return n;
}

size_t aidc_aset_format_len(const struct aidc_aset *s)
{
	return aidc_aset_format(s, NULL, 0);
}

/* The range whose span holds x, or s->n. */
static size_t find(const struct aidc_aset *s, int64_t x)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->r[mid].hi < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->r[lo].lo <= x ? lo : s->n;
}

bool aidc_aset_contains(const struct aidc_aset *s, int64_t x)
{
	size_t k = find(s, x);
	return k < s->n && (x - s->r[k].lo) % s->r[k].step == 0;
}

static void drop(struct aidc_aset *s, size_t k)
{
	memmove(&s->r[k], &s->r[k + 1], (s->n - k - 1) * sizeof *s->r);
	s->n--;
}

int64_t aidc_aset_pop(struct aidc_aset *s)
{
	if (!s->n)
		return -1;
	int64_t x = s->r[0].lo;
	aidc_aset_remove(s, x);
	return x;
}

bool aidc_aset_remove(struct aidc_aset *s, int64_t x)
{
	size_t k = find(s, x);
	if (k == s->n || (x - s->r[k].lo) % s->r[k].step != 0)
		return false;
	struct aidc_arange *r = &s->r[k];
	s->count--;
	if (r->lo == r->hi) {
		drop(s, k);
	} else if (x == r->lo) {
		r->lo += r->step;
	} else if (x == r->hi) {
		r->hi -= r->step;
	} else {
		struct aidc_arange right = {x + r->step, r->hi, r->step};
		r->hi = x - r->step;
		AIDC_GROW(s->r, s->cap, s->n + 1);
		memmove(&s->r[k + 2], &s->r[k + 1], (s->n - k - 1) * sizeof *s->r);
		s->r[k + 1] = right;
		s->n++;
	}
	if (k < s->n && s->r[k].lo == s->r[k].hi)
		s->r[k].step = 1;
	if (k + 1 < s->n && s->r[k + 1].lo == s->r[k + 1].hi)
		s->r[k + 1].step = 1;
	return true;
}

void aidc_aset_bounds(const struct aidc_aset *s, int64_t *min, int64_t *max, int64_t *step)
{
	*min = s->n ? s->r[0].lo : 0;
	*max = s->n ? s->r[s->n - 1].hi : 0;
	int64_t d = 0;
	for (size_t k = 0; k < s->n; k++) {
		const struct aidc_arange *r = &s->r[k];
		int64_t g = k ? r->lo - s->r[k - 1].hi : 0;
		if (r->lo < r->hi && d && r->step != d)
			d = -1;
		else if (r->lo < r->hi && !d)
			d = r->step;
		if (d < 0)
			break;
		if (g && d && g != d)
			d = -1;
		else if (g && !d)
			d = g;
		if (d < 0)
			break;
	}
	*step = d > 0 ? d : 1;
}

void aidc_array_ref(char *out, size_t cap, uint64_t id, int64_t task, const char *pending,
		    int64_t limit)
{
	if (!cap)
		return;
	if (task >= 0) {
		snprintf(out, cap, "%llu_%lld", (unsigned long long)id, (long long)task);
		return;
	}
	if (!pending) {
		snprintf(out, cap, "%llu", (unsigned long long)id);
		return;
	}
	char lim[24] = "";
	if (limit > 0)
		snprintf(lim, sizeof lim, "%%%lld", (long long)limit);
	int n = snprintf(out, cap, "%llu_[%s%s]", (unsigned long long)id, pending, lim);
	if (n >= 0 && (size_t)n >= cap && cap > 8)
		memcpy(out + cap - 5, "...]", 5);
}
