/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small strict JSON reader (RFC 8259) that builds a tree, for exam reports
 * read back by `aidc exam report` and `aidc exam compare`. Reports come
 * from files that users pass around, so the input is untrusted: depth,
 * number of values and total size are bounded (exam_int.h, util/limits.h),
 * and fuzz/exam_report.c fuzzes it. Strings are kept as UTF-8 bytes; \u
 * escapes are decoded (surrogate pairs included); NUL bytes are rejected.
 */
#include <math.h>

#include "exam/exam_int.h"
#include "util/util.h"

struct rd {
	const char *s;
	size_t n, i;
	size_t values;
	struct aidc_err *e;
};

static int bad(struct rd *r, const char *what)
{
	return aidc_errf(r->e, AIDC_E_PARSE, "JSON byte %zu: %s", r->i, what);
}

static void ws(struct rd *r)
{
	while (r->i < r->n && (r->s[r->i] == ' ' || r->s[r->i] == '\t' || r->s[r->i] == '\n' ||
			       r->s[r->i] == '\r'))
		r->i++;
}

static int hex4(struct rd *r, unsigned *out)
{
	unsigned v = 0;
	if (r->n - r->i < 4)
		return bad(r, "short \\u escape");
	for (int k = 0; k < 4; k++) {
		char c = r->s[r->i++];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return bad(r, "bad \\u escape");
	}
	*out = v;
	return 0;
}

static void put_utf8(struct aidc_buf *b, unsigned cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	aidc_buf_append(b, u, n);
}

static int escape(struct rd *r, struct aidc_buf *b)
{
	char c = r->s[r->i++];
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *p = strchr(from, c);
	if (c && p) {
		aidc_buf_putc(b, to[p - from]);
		return 0;
	}
	if (c != 'u')
		return bad(r, "bad escape");
	unsigned cp;
	int rc = hex4(r, &cp);
	if (rc)
		return rc;
	if (cp >= 0xd800 && cp < 0xdc00) {
		unsigned lo;
		if (r->n - r->i < 2 || r->s[r->i] != '\\' || r->s[r->i + 1] != 'u')
			return bad(r, "lone surrogate");
		r->i += 2;
		rc = hex4(r, &lo);
		if (rc)
			return rc;
		if (lo < 0xdc00 || lo >= 0xe000)
			return bad(r, "bad surrogate pair");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	} else if (cp >= 0xdc00 && cp < 0xe000) {
		return bad(r, "lone surrogate");
	}
	if (cp == 0)
		return bad(r, "NUL in string");
	put_utf8(b, cp);
	return 0;
}

static int string(struct rd *r, char **out, size_t *len)
{
	struct aidc_buf b;
	aidc_buf_init(&b, AIDC_MAX_SMALL_FILE_BYTES);
	r->i++; /* opening quote */
	int rc = 0;
	for (;;) {
		if (r->i >= r->n) {
			rc = bad(r, "unterminated string");
			break;
		}
		char c = r->s[r->i];
		if (c == '"') {
			r->i++;
			break;
		}
		if ((unsigned char)c < 0x20) {
			rc = bad(r, "control character in string");
			break;
		}
		if (c == '\\') {
			r->i++;
			if (r->i >= r->n) {
				rc = bad(r, "unterminated string");
				break;
			}
			rc = escape(r, &b);
			if (rc)
				break;
			continue;
		}
		size_t start = r->i;
		while (r->i < r->n && r->s[r->i] != '"' && r->s[r->i] != '\\' &&
		       (unsigned char)r->s[r->i] >= 0x20)
			r->i++;
		aidc_buf_append(&b, r->s + start, r->i - start);
	}
	if (rc) {
		aidc_buf_release(&b);
		return rc;
	}
	*len = b.len;
	*out = b.data ? aidc_buf_detach(&b) : aidc_strdup("");
	return 0;
}

static int number(struct rd *r, double *out)
{
	size_t st = r->i;
	if (r->i < r->n && r->s[r->i] == '-')
		r->i++;
	if (r->i >= r->n || r->s[r->i] < '0' || r->s[r->i] > '9')
		return bad(r, "bad number");
	if (r->s[r->i] == '0')
		r->i++;
	else
		while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9')
			r->i++;
	if (r->i < r->n && r->s[r->i] == '.') {
		r->i++;
		if (r->i >= r->n || r->s[r->i] < '0' || r->s[r->i] > '9')
			return bad(r, "bad number");
		while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9')
			r->i++;
	}
	if (r->i < r->n && (r->s[r->i] == 'e' || r->s[r->i] == 'E')) {
		r->i++;
		if (r->i < r->n && (r->s[r->i] == '+' || r->s[r->i] == '-'))
			r->i++;
		if (r->i >= r->n || r->s[r->i] < '0' || r->s[r->i] > '9')
			return bad(r, "bad number");
		while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9')
			r->i++;
	}
	char tmp[64];
	if (r->i - st >= sizeof tmp)
		return bad(r, "number too long");
	memcpy(tmp, r->s + st, r->i - st);
	tmp[r->i - st] = '\0';
	*out = strtod(tmp, NULL);
	if (!isfinite(*out))
		return bad(r, "number out of range");
	return 0;
}

static int value(struct rd *r, struct exam_jv *v, int depth);

static int container(struct rd *r, struct exam_jv *v, int depth, bool obj)
{
	size_t cap = 0;
	char close = obj ? '}' : ']';
	r->i++;
	ws(r);
	if (r->i < r->n && r->s[r->i] == close) {
		r->i++;
		return 0;
	}
	for (;;) {
		ws(r);
		AIDC_GROW(v->kids, cap, v->len + 1);
		memset(&v->kids[v->len], 0, sizeof v->kids[0]);
		if (obj) {
			v->keys = aidc_reallocarray(v->keys, cap, sizeof *v->keys);
			v->keys[v->len] = NULL;
		}
		v->len++;
		if (obj) {
			if (r->i >= r->n || r->s[r->i] != '"')
				return bad(r, "expected a key");
			size_t kl;
			int rc = string(r, &v->keys[v->len - 1], &kl);
			if (rc)
				return rc;
			ws(r);
			if (r->i >= r->n || r->s[r->i] != ':')
				return bad(r, "expected ':'");
			r->i++;
		}
		int rc = value(r, &v->kids[v->len - 1], depth + 1);
		if (rc)
			return rc;
		ws(r);
		if (r->i < r->n && r->s[r->i] == ',') {
			r->i++;
			continue;
		}
		if (r->i < r->n && r->s[r->i] == close) {
			r->i++;
			return 0;
		}
		return bad(r, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static bool lit(struct rd *r, const char *w)
{
	size_t l = strlen(w);
	if (r->n - r->i >= l && memcmp(r->s + r->i, w, l) == 0) {
		r->i += l;
		return true;
	}
	return false;
}

static int value(struct rd *r, struct exam_jv *v, int depth)
{
	if (depth > EXAM_JSON_MAX_DEPTH)
		return bad(r, "nested too deeply");
	if (++r->values > EXAM_JSON_MAX_VALUES)
		return aidc_errf(r->e, AIDC_E_LIMIT, "JSON has more than %u values",
				 EXAM_JSON_MAX_VALUES);
	ws(r);
	if (r->i >= r->n)
		return bad(r, "unexpected end of input");
	char c = r->s[r->i];
	switch (c) {
	case '{':
		v->type = EXAM_JOBJ;
		return container(r, v, depth, true);
	case '[':
		v->type = EXAM_JARR;
		return container(r, v, depth, false);
	case '"':
		v->type = EXAM_JSTR;
		return string(r, &v->str, &v->len);
	default:
		break;
	}
	if (lit(r, "true") || lit(r, "false")) {
		v->type = EXAM_JBOOL;
		v->b = c == 't';
		return 0;
	}
	if (lit(r, "null")) {
		v->type = EXAM_JNULL;
		return 0;
	}
	v->type = EXAM_JNUM;
	return number(r, &v->num);
}

int exam_json_parse(const char *text, size_t len, struct exam_jv *out, struct aidc_err *e)
{
	memset(out, 0, sizeof *out);
	if (len > AIDC_MAX_SMALL_FILE_BYTES)
		return aidc_errf(e, AIDC_E_LIMIT, "JSON is %zu bytes, limit %u", len,
				 AIDC_MAX_SMALL_FILE_BYTES);
	struct rd r = {.s = text, .n = len, .e = e};
	int rc = value(&r, out, 0);
	if (!rc) {
		ws(&r);
		if (r.i != r.n)
			rc = bad(&r, "trailing characters after the document");
	}
	if (rc)
		exam_json_release(out);
	return rc;
}

void exam_json_release(struct exam_jv *v)
{
	if (!v)
		return;
	if (v->type == EXAM_JARR || v->type == EXAM_JOBJ) {
		for (size_t i = 0; i < v->len; i++) {
			exam_json_release(&v->kids[i]);
			if (v->keys)
				aidc_free(v->keys[i]);
		}
	}
	aidc_free(v->kids);
	aidc_free(v->keys);
	aidc_free(v->str);
	memset(v, 0, sizeof *v);
}

const struct exam_jv *exam_json_get(const struct exam_jv *obj, const char *key)
{
	if (!obj || obj->type != EXAM_JOBJ)
		return NULL;
	for (size_t i = 0; i < obj->len; i++)
		if (obj->keys[i] && strcmp(obj->keys[i], key) == 0)
			return &obj->kids[i];
	return NULL;
}
