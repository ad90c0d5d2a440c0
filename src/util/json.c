/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming JSON writer (see json.h). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/err.h"
#include "util/json.h"

void aidc_json_init(struct aidc_json *j, struct aidc_buf *out, bool pretty)
{
	memset(j, 0, sizeof *j);
	j->out = out;
	j->pretty = pretty;
	j->first[0] = true;
}

static void put(struct aidc_json *j, const char *s, size_t n)
{
	if (!j->err)
		j->err = aidc_buf_append(j->out, s, n);
}

static void newline(struct aidc_json *j)
{
	if (!j->pretty)
		return;
	put(j, "\n", 1);
	for (int i = 0; i < j->depth; i++)
		put(j, "  ", 2);
}

/* Separator before a value or key at the current level. */
static void sep(struct aidc_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		put(j, ",", 1);
	j->first[j->depth] = false;
	if (j->depth > 0)
		newline(j);
}

static void open(struct aidc_json *j, char c)
{
	sep(j);
	put(j, &c, 1);
	if (j->depth + 1 >= AIDC_JSON_MAX_DEPTH) {
		if (!j->err)
			j->err = AIDC_E_LIMIT;
		return;
	}
	j->depth++;
	j->first[j->depth] = true;
}

static void close_(struct aidc_json *j, char c)
{
	if (j->depth == 0) {
		if (!j->err)
			j->err = AIDC_E_INTERNAL;
		return;
	}
	bool empty = j->first[j->depth];
	j->depth--;
	if (!empty)
		newline(j);
	put(j, &c, 1);
}

void aidc_json_obj_begin(struct aidc_json *j)
{
	open(j, '{');
}

void aidc_json_obj_end(struct aidc_json *j)
{
	close_(j, '}');
}

void aidc_json_arr_begin(struct aidc_json *j)
{
	open(j, '[');
}

void aidc_json_arr_end(struct aidc_json *j)
{
	close_(j, ']');
}

/* Length of the valid UTF-8 sequence (RFC 3629: no overlong form, surrogate
 * or code point past U+10FFFF) starting s[0] >= 0x80 of n bytes; 0 if none. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len = c >= 0xc2 && c <= 0xdf   ? 2
		     : c >= 0xe0 && c <= 0xef ? 3
		     : c >= 0xf0 && c <= 0xf4 ? 4
					      : 0;
	if (len == 0 || n < len)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t k = 2; k < len; k++)
		if (s[k] < 0x80 || s[k] > 0xbf)
			return 0;
	return len;
}

/* A JSON string: control characters escaped, a byte that is not part of valid
 * UTF-8 (a user's raw bytes echoed in a message) written as U+FFFD, so every
 * document this writes is valid JSON. */
static void raw_str(struct aidc_json *j, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	put(j, "\"", 1);
	size_t run = 0; /* bytes copied verbatim in one append */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80) {
			size_t len = utf8_seq((const unsigned char *)s + i, n - i);
			if (len) {
				i += len - 1;
				continue;
			}
			put(j, s + run, i - run);
			run = i + 1;
			put(j, "\\ufffd", 6);
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(j, s + run, i - run);
		run = i + 1;
		char esc[7] = {'\\', 0};
		size_t len = 2;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			len = 6;
		}
		put(j, esc, len);
	}
	put(j, s + run, n - run);
	put(j, "\"", 1);
}

void aidc_json_key(struct aidc_json *j, const char *key)
{
	sep(j);
	raw_str(j, key, strlen(key));
	put(j, j->pretty ? ": " : ":", j->pretty ? 2 : 1);
	j->after_key = true;
}

void aidc_json_strn(struct aidc_json *j, const char *s, size_t n)
{
	sep(j);
	raw_str(j, s, n);
}

void aidc_json_str(struct aidc_json *j, const char *s)
{
	if (!s) {
		aidc_json_null(j);
		return;
	}
	aidc_json_strn(j, s, strlen(s));
}

static void num(struct aidc_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void num(struct aidc_json *j, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	sep(j);
	put(j, tmp, n < 0 ? 0 : (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void aidc_json_i64(struct aidc_json *j, int64_t v)
{
	num(j, "%" PRId64, v);
}

void aidc_json_u64(struct aidc_json *j, uint64_t v)
{
	num(j, "%" PRIu64, v);
}

void aidc_json_f64(struct aidc_json *j, double v, int decimals)
{
	if (!isfinite(v)) {
		aidc_json_null(j);
		return;
	}
	if (decimals < 0)
		decimals = 0;
	if (decimals > 17)
		decimals = 17;
	/* Avoid "-0.000". */
	if (v == 0.0)
		v = 0.0;
	num(j, "%.*f", decimals, v);
}

void aidc_json_bool(struct aidc_json *j, bool v)
{
	sep(j);
	put(j, v ? "true" : "false", v ? 4 : 5);
}

void aidc_json_null(struct aidc_json *j)
{
	sep(j);
	put(j, "null", 4);
}

void aidc_json_raw(struct aidc_json *j, const char *text)
{
	sep(j);
	put(j, text, strlen(text));
}

void aidc_json_kstr(struct aidc_json *j, const char *k, const char *v)
{
	aidc_json_key(j, k);
	aidc_json_str(j, v);
}

void aidc_json_ki64(struct aidc_json *j, const char *k, int64_t v)
{
	aidc_json_key(j, k);
	aidc_json_i64(j, v);
}

void aidc_json_kf64(struct aidc_json *j, const char *k, double v, int decimals)
{
	aidc_json_key(j, k);
	aidc_json_f64(j, v, decimals);
}

void aidc_json_kbool(struct aidc_json *j, const char *k, bool v)
{
	aidc_json_key(j, k);
	aidc_json_bool(j, v);
}

int aidc_json_finish(struct aidc_json *j)
{
	if (!j->err && j->depth != 0)
		j->err = AIDC_E_INTERNAL;
	if (!j->err && j->pretty)
		j->err = aidc_buf_putc(j->out, '\n');
	return j->err;
}
