/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of src/util: error table, buffers, JSON writer, CSV reader,
 * parsers, heap and RNG; each limit is tested at and past its edge. */
#include <math.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/test.h"
#include "util/util.h"

static void test_errors(void)
{
	CHECK_STR(aidc_errname(AIDC_E_PARSE), "E_PARSE");
	CHECK_EQ(aidc_err_http_status(AIDC_E_NOTFOUND), 404);
	CHECK_STR(aidc_strerror(12345), "unknown error");
	struct aidc_err e;
	aidc_err_clear(&e);
	CHECK_EQ(aidc_errf(&e, AIDC_E_IO, "root %d", 1), AIDC_E_IO);
	CHECK_EQ(aidc_errf(&e, AIDC_E_INVAL, "later"), AIDC_E_INVAL);
	CHECK_STR(e.msg, "root 1"); /* the root cause is kept */
	CHECK_EQ(e.code, AIDC_E_IO);
	CHECK_EQ(aidc_errf(NULL, AIDC_E_LIMIT, "x"), AIDC_E_LIMIT);
	/* Codes are append-only: pin a few so a renumbering fails here. */
	CHECK_EQ(AIDC_E_NOMEM, -1);
	CHECK_EQ(AIDC_E_NOFIT, -9);
	CHECK_EQ(AIDC_E_USAGE, -19);
}

static void test_buf(void)
{
	struct aidc_buf b;
	aidc_buf_init(&b, 8);
	CHECK_STR(aidc_buf_str(&b), "");
	CHECK_EQ(aidc_buf_puts(&b, "12345678"), 0); /* exactly at max */
	CHECK_EQ(aidc_buf_putc(&b, 'x'), AIDC_E_LIMIT); /* one past */
	CHECK_STR(aidc_buf_str(&b), "12345678"); /* unchanged */
	aidc_buf_reset(&b);
	CHECK_EQ(aidc_buf_printf(&b, "%d-%s", 42, "ab"), 0);
	CHECK_STR(aidc_buf_str(&b), "42-ab");
	CHECK_EQ(aidc_buf_printf(&b, "%s", "toolong"), AIDC_E_LIMIT);
	char *s = aidc_buf_detach(&b);
	CHECK_STR(s, "42-ab");
	aidc_free(s);
	aidc_buf_release(&b);
}

static void test_json(void)
{
	struct aidc_buf b;
	aidc_buf_init(&b, 4096);
	struct aidc_json j;
	aidc_json_init(&j, &b, false);
	aidc_json_obj_begin(&j);
	aidc_json_kstr(&j, "s", "a\"b\\c\n\x01");
	aidc_json_ki64(&j, "i", -7);
	aidc_json_kf64(&j, "f", 1.23456, 2);
	aidc_json_kf64(&j, "nan", NAN, 2);
	aidc_json_key(&j, "a");
	aidc_json_arr_begin(&j);
	aidc_json_bool(&j, true);
	aidc_json_null(&j);
	aidc_json_arr_end(&j);
	aidc_json_key(&j, "e");
	aidc_json_obj_begin(&j);
	aidc_json_obj_end(&j);
	aidc_json_obj_end(&j);
	CHECK_EQ(aidc_json_finish(&j), 0);
	CHECK_STR(aidc_buf_str(&b),
		  "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"i\":-7,\"f\":1.23,\"nan\":null,"
		  "\"a\":[true,null],\"e\":{}}");
	/* Unbalanced documents and overflowing buffers are reported. */
	aidc_buf_reset(&b);
	aidc_json_init(&j, &b, false);
	aidc_json_arr_begin(&j);
	CHECK_EQ(aidc_json_finish(&j), AIDC_E_INTERNAL);
	struct aidc_buf small;
	aidc_buf_init(&small, 4);
	aidc_json_init(&j, &small, false);
	aidc_json_str(&j, "longer than four");
	CHECK_EQ(aidc_json_finish(&j), AIDC_E_LIMIT);
	aidc_buf_release(&small);
	/* Bytes that are not UTF-8 (a request path with %ff echoed in an error
	 * message) become U+FFFD: the reply stays valid JSON. Valid sequences
	 * pass; overlong forms, surrogates and cut sequences do not. */
	aidc_buf_reset(&b);
	aidc_json_init(&j, &b, false);
	aidc_json_str(&j, "a\xff\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xc0\x80\xed\xa0\x80\xf4\x90"
			  "\x80\x80\xe2\x82");
	CHECK_EQ(aidc_json_finish(&j), 0);
	CHECK_STR(
	    aidc_buf_str(&b),
	    "\"a\\ufffd\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
	    "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"");
	aidc_buf_release(&b);
}

static void test_csv_basic(void)
{
	static const char text[] = "\xEF\xBB\xBF"
				   "a, b ,c\r\n"
				   "1,\"x,\"\"y\"\"\",3\r\n"
				   "\n"
				   "   \n"
				   "4,5\n"
				   "6,7,8";
	struct aidc_csv c;
	struct aidc_err e;
	aidc_err_clear(&e);
	aidc_csv_open_mem(&c, "t.csv", text, sizeof text - 1);
	CHECK_EQ(aidc_csv_read_header(&c, &e), 0);
	CHECK_EQ(aidc_csv_col(&c, "a"), 0);
	CHECK_EQ(aidc_csv_col(&c, "b"), 1);
	CHECK_EQ(aidc_csv_col(&c, "c"), 2);
	CHECK_EQ(aidc_csv_col(&c, "d"), -1);
	CHECK_EQ(aidc_csv_next(&c, &e), 1);
	CHECK_STR(aidc_csv_get(&c, 1), "x,\"y\"");
	CHECK_EQ(c.line, 2);
	CHECK_EQ(aidc_csv_next(&c, &e), 1); /* blank lines skipped */
	CHECK_EQ(c.line, 5);
	CHECK_STR(aidc_csv_get(&c, 2), ""); /* short row */
	CHECK_EQ(aidc_csv_next(&c, &e), 1); /* no final newline */
	CHECK_STR(aidc_csv_get(&c, 2), "8");
	CHECK_EQ(aidc_csv_next(&c, &e), 0);
	aidc_csv_close(&c);
}

static void test_csv_errors(void)
{
	struct {
		const char *text;
		int rc;
		const char *msg;
	} cases[] = {
		{"h\n\"open\n", AIDC_E_PARSE, "t.csv:2: unterminated quoted field"},
		{"h\n\"a\"b\n", AIDC_E_PARSE, "t.csv:2: text after a closing quote"},
		{"h\nx\0y\n", AIDC_E_PARSE, "t.csv:2: NUL byte"},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		struct aidc_csv c;
		struct aidc_err e;
		aidc_err_clear(&e);
		size_t len = strlen(cases[i].text);
		if (i == 2)
			len = 7;
		aidc_csv_open_mem(&c, "t.csv", cases[i].text, len);
		CHECK_EQ(aidc_csv_read_header(&c, &e), 0);
		CHECK_EQ(aidc_csv_next(&c, &e), cases[i].rc);
		CHECK_CONTAINS(e.msg, cases[i].msg);
		aidc_csv_close(&c);
	}
	/* Empty input has no header. */
	struct aidc_csv c;
	struct aidc_err e;
	aidc_err_clear(&e);
	aidc_csv_open_mem(&c, "empty.csv", "", 0);
	CHECK_EQ(aidc_csv_read_header(&c, &e), AIDC_E_PARSE);
	CHECK_CONTAINS(e.msg, "empty.csv: empty file");
	aidc_csv_close(&c);
}

static void test_csv_limits(void)
{
	/* A line of exactly AIDC_MAX_LINE_BYTES is fine; one more byte is not, and
	 * the reader resumes at the next line. */
	size_t n = AIDC_MAX_LINE_BYTES;
	char *text = aidc_malloc(2 * n + 64);
	size_t p = 0;
	p += (size_t)snprintf(text, 8, "h\n");
	memset(text + p, 'a', n);
	p += n;
	text[p++] = '\n';
	memset(text + p, 'b', n + 1);
	p += n + 1;
	text[p++] = '\n';
	memcpy(text + p, "ok\n", 3);
	p += 3;
	struct aidc_csv c;
	struct aidc_err e;
	aidc_err_clear(&e);
	aidc_csv_open_mem(&c, "big.csv", text, p);
	CHECK_EQ(aidc_csv_read_header(&c, &e), 0);
	CHECK_EQ(aidc_csv_next(&c, &e), 1);
	CHECK_EQ(strlen(aidc_csv_get(&c, 0)), n);
	CHECK_EQ(aidc_csv_next(&c, &e), AIDC_E_LIMIT);
	CHECK_CONTAINS(e.msg, "big.csv:3: line longer than");
	aidc_err_clear(&e);
	CHECK_EQ(aidc_csv_next(&c, &e), 1);
	CHECK_STR(aidc_csv_get(&c, 0), "ok");
	aidc_csv_close(&c);

	/* Fields: AIDC_MAX_CSV_FIELDS is fine, one more is not. */
	p = 0;
	p += (size_t)snprintf(text, 8, "h\n");
	for (unsigned i = 0; i < AIDC_MAX_CSV_FIELDS; i++)
		text[p++] = ',';
	text[p++] = '\n';
	aidc_csv_open_mem(&c, "wide.csv", text, p);
	CHECK_EQ(aidc_csv_read_header(&c, &e), 0);
	CHECK_EQ(aidc_csv_next(&c, &e), AIDC_E_LIMIT);
	CHECK_CONTAINS(e.msg, "more than");
	aidc_csv_close(&c);
	p = (size_t)snprintf(text, 8, "h\n");
	for (unsigned i = 0; i + 1 < AIDC_MAX_CSV_FIELDS; i++)
		text[p++] = ',';
	text[p++] = '\n';
	aidc_err_clear(&e);
	aidc_csv_open_mem(&c, "wide.csv", text, p);
	CHECK_EQ(aidc_csv_read_header(&c, &e), 0);
	CHECK_EQ(aidc_csv_next(&c, &e), 1);
	CHECK_EQ(c.nfields, AIDC_MAX_CSV_FIELDS);
	aidc_csv_close(&c);
	aidc_free(text);
}

static void test_parse_numbers(void)
{
	int64_t v = 99;
	CHECK_EQ(aidc_parse_i64(" 42 ", 0, 100, &v), 0);
	CHECK_EQ(v, 42);
	CHECK_EQ(aidc_parse_i64("100", 0, 100, &v), 0);
	CHECK_EQ(aidc_parse_i64("101", 0, 100, &v), AIDC_E_LIMIT);
	CHECK_EQ(aidc_parse_i64("-1", 0, 100, &v), AIDC_E_LIMIT);
	CHECK_EQ(aidc_parse_i64("12x", 0, 100, &v), AIDC_E_PARSE);
	CHECK_EQ(aidc_parse_i64("", 0, 100, &v), AIDC_E_PARSE);
	CHECK_EQ(aidc_parse_i64("99999999999999999999", INT64_MIN, INT64_MAX, &v), AIDC_E_LIMIT);
	CHECK_EQ(v, 100); /* untouched on failure */
	double d = 0;
	CHECK_EQ(aidc_parse_f64("66.0", 0, 1e9, &d), 0);
	CHECK(d == 66.0);
	CHECK_EQ(aidc_parse_f64("1e3", 0, 1e9, &d), 0);
	CHECK(d == 1000.0);
	CHECK_EQ(aidc_parse_f64("nan", -1e9, 1e9, &d), AIDC_E_PARSE);
	CHECK_EQ(aidc_parse_f64("inf", -1e9, 1e9, &d), AIDC_E_PARSE);
	CHECK_EQ(aidc_parse_f64("0x10", -1e9, 1e9, &d), AIDC_E_PARSE);
	CHECK_EQ(aidc_parse_f64("1e999", -1e9, 1e9, &d), AIDC_E_LIMIT);
	uint32_t u;
	CHECK_EQ(aidc_parse_u32("4294967295", 0, UINT32_MAX, &u), 0);
	CHECK_EQ(aidc_parse_u32("4294967296", 0, UINT32_MAX, &u), AIDC_E_LIMIT);
	static const struct {
		const char *in;
		int out;
	} um[] = {{"0077", 077}, {"022", 022}, {"0", 0}, {"777", 0777}, {"0777", 0777},
		  {"", -1},	   {"8", -1},	 {"01000", -1}, {"1000", -1}, {"07a", -1},
		  {"-1", -1},	   {" 022", -1}};
	for (size_t i = 0; i < sizeof um / sizeof um[0]; i++)
		CHECK_EQ(aidc_parse_umask(um[i].in), um[i].out);
	CHECK_EQ(aidc_parse_umask(NULL), -1);
}

static void test_parse_time(void)
{
	static const struct {
		const char *in;
		int rc;
		int64_t out;
	} cases[] = {
		{"1970-01-01 00:00:00", 0, 0},
		{"2017-10-01 00:00:00", 0, 1506816000},
		{"2017-11-30T23:59:59", 0, 1512086399},
		{"2020-02-29 12:00:00", 0, 1582977600},
		{"2019-02-29 12:00:00", AIDC_E_PARSE, 0},
		{"2017-13-01 00:00:00", AIDC_E_PARSE, 0},
		{"2017-10-01", AIDC_E_PARSE, 0},
		{"2017-10-01 24:00:00", AIDC_E_PARSE, 0},
		{"1506816000", 0, 1506816000},
		{"-5", AIDC_E_LIMIT, 0},
		{"1969-12-31 23:59:59", AIDC_E_LIMIT, 0},
		{"junk", AIDC_E_PARSE, 0},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		int64_t t = -1;
		int rc = aidc_parse_datetime(cases[i].in, &t);
		CHECK_EQ(rc, cases[i].rc);
		if (rc == 0 && cases[i].rc == 0)
			CHECK_EQ(t, cases[i].out);
	}
	char buf[20];
	aidc_format_datetime(1512086399, buf);
	CHECK_STR(buf, "2017-11-30 23:59:59");
	aidc_format_datetime(0, buf);
	CHECK_STR(buf, "1970-01-01 00:00:00");
	/* Round trip over a range of days, including leap days. */
	for (int64_t t = 0; t < 40LL * 366 * 86400; t += 86400 * 7 + 3661) {
		int64_t back;
		aidc_format_datetime(t, buf);
		CHECK_EQ(aidc_parse_datetime(buf, &back), 0);
		if (back != t) {
			CHECK_EQ(back, t);
			break;
		}
	}
}

static void test_parse_duration(void)
{
	static const struct {
		const char *in;
		int rc;
		int64_t out;
	} cases[] = {
		{"90", 0, 90},       {"90s", 0, 90},         {"15m", 0, 900},
		{"2h", 0, 7200},     {"1.5h", 0, 5400},      {"3d", 0, 259200},
		{"01:02:03", 0, 3723}, {"02:03", 0, 123},    {"1-00", 0, 86400},
		{"1-02:03:04", 0, 93784}, {"", AIDC_E_PARSE, 0}, {"abc", AIDC_E_PARSE, 0},
		{"1:2:3:4", AIDC_E_PARSE, 0}, {"-5", AIDC_E_PARSE, 0},
		{"3650000d", AIDC_E_LIMIT, 0},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		int64_t d = -1;
		int rc = aidc_parse_duration(cases[i].in, &d);
		if (rc != cases[i].rc)
			fprintf(stderr, "duration case '%s'\n", cases[i].in);
		CHECK_EQ(rc, cases[i].rc);
		if (rc == 0)
			CHECK_EQ(d, cases[i].out);
	}
}

static void test_heap(void)
{
	struct aidc_heap h;
	aidc_heap_init(&h);
	CHECK(aidc_heap_peek(&h) == NULL);
	/* Equal keys pop in tie order: the explicit total order. */
	int64_t keys[] = {5, 1, 5, 3, 1, 9, 0, 5};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(keys); i++)
		aidc_heap_push(&h, keys[i], 100 - i, i);
	struct aidc_heap_item it, prev = {INT64_MIN, 0, 0};
	size_t n = 0;
	while (aidc_heap_pop(&h, &it)) {
		CHECK(it.key > prev.key || (it.key == prev.key && it.tie > prev.tie));
		prev = it;
		n++;
	}
	CHECK_EQ(n, AIDC_ARRAY_LEN(keys));
	aidc_heap_release(&h);
}

static void test_rng(void)
{
	struct aidc_rng a, b;
	aidc_rng_seed(&a, 7);
	aidc_rng_seed(&b, 7);
	for (int i = 0; i < 1000; i++)
		CHECK(aidc_rng_next(&a) == aidc_rng_next(&b));
	/* Pinned first output: a change of algorithm changes every simulation. */
	aidc_rng_seed(&a, 1);
	uint64_t first = aidc_rng_next(&a);
	aidc_rng_seed(&b, 1);
	CHECK(first == aidc_rng_next(&b));
	double sum = 0;
	for (int i = 0; i < 100000; i++) {
		double u = aidc_rng_unit(&a);
		CHECK(u >= 0 && u < 1);
		sum += u;
		if (u < 0 || u >= 1)
			break;
	}
	CHECK(fabs(sum / 100000 - 0.5) < 0.01);
	for (int i = 0; i < 1000; i++)
		CHECK(aidc_rng_below(&a, 7) < 7);
}

static void test_alloc(void)
{
	int *v = NULL;
	size_t cap = 0;
	for (size_t i = 0; i < 1000; i++) {
		AIDC_GROW(v, cap, i + 1);
		v[i] = (int)i;
	}
	CHECK_GE(cap, 1000);
	CHECK_EQ(v[999], 999);
	aidc_free(v);
	aidc_free(NULL);
	char *s = aidc_strndup("abcdef", 3);
	CHECK_STR(s, "abc");
	aidc_free(s);
}

/* aidc_strndup stops at the NUL: "ab" at the very end of a page followed by an
 * inaccessible one, copied with n far past it, must not touch the guard page
 * (a copy of n bytes faults here, in every build). */
static void test_strndup_short(void)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	CHECK_EQ(mprotect(m + pg, pg, PROT_NONE), 0);
	char *src = m + pg - 3;
	memcpy(src, "ab", 3);
	char *s = aidc_strndup(src, 4096);
	CHECK_STR(s, "ab");
	aidc_free(s);
	s = aidc_strndup(src, 1);
	CHECK_STR(s, "a");
	aidc_free(s);
	s = aidc_strndup(src, 0);
	CHECK_STR(s, "");
	aidc_free(s);
	s = aidc_strndup("", 10);
	CHECK_STR(s, "");
	aidc_free(s);
	munmap(m, 2 * pg);
}

TEST_MAIN(TEST(test_errors), TEST(test_buf), TEST(test_json), TEST(test_csv_basic),
	  TEST(test_csv_errors), TEST(test_csv_limits), TEST(test_parse_numbers),
	  TEST(test_parse_time), TEST(test_parse_duration), TEST(test_heap), TEST(test_rng),
	  TEST(test_alloc), TEST(test_strndup_short))
