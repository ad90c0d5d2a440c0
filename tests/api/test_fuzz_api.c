/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seeded mutation fuzzing (tests/fuzz_mut.h) of what a remote user reaches in
 * src/api without a server: the strict JSON decoder of every request schema,
 * route matching of request paths, bearer tokens and job credentials. Every
 * input must be accepted or refused with its code and a non-empty message
 * that itself makes a valid JSON error reply; decoding is deterministic.
 */
#include <jansson.h>

#include "api/api.h"
#include "tests/fuzz_mut.h"
#include "tests/test.h"
#include "util/util.h"

#define FZ_CAP (AIDC_MAX_HTTP_BODY_BYTES + 64)

/* The error reply the server would send for msg must be valid JSON holding it. */
static void check_err_reply(int rc, const struct aidc_err *e)
{
	CHECK(rc < 0);
	CHECK_EQ(e->code, rc);
	CHECK(e->msg[0] != '\0');
	struct aidc_buf out;
	aidc_buf_init(&out, 4 * AIDC_ERRMSG_MAX);
	CHECK_EQ(api_error_json(&out, rc, e->msg), 0);
	json_error_t jerr;
	json_t *j = json_loadb(aidc_buf_str(&out), out.len, 0, &jerr);
	if (!j)
		fprintf(stderr, "error reply is not JSON (%s): %s\n", jerr.text,
			aidc_buf_str(&out));
	CHECK(j != NULL);
	json_decref(j);
	aidc_buf_release(&out);
}

/* ---- a valid example of every schema, generated from its field table ---- */

static void example_obj(const struct api_schema *s, json_t *o, int depth);

static json_t *example_value(const struct api_field *f, int depth)
{
	switch (f->type) {
	case API_T_STR:
		return json_string("x");
	case API_T_I64: {
		int64_t v = f->min > 1 ? f->min : (f->max < 1 ? f->max : 1);
		return json_integer(v);
	}
	case API_T_BOOL:
		return json_false();
	case API_T_STRV: {
		json_t *a = json_array();
		json_array_append_new(a, json_string("a=b"));
		return a;
	}
	case API_T_OBJV:
	case API_T_OBJ: {
		json_t *o = json_object();
		example_obj(f->sub, o, depth + 1);
		if (f->type == API_T_OBJ)
			return o;
		json_t *a = json_array();
		json_array_append_new(a, o);
		return a;
	}
	}
	return json_null();
}

static void example_obj(const struct api_schema *s, json_t *o, int depth)
{
	for (size_t i = 0; i < s->nfields && depth < 4; i++)
		json_object_set_new(o, s->fields[i].name, example_value(&s->fields[i], depth));
}

static char *example_json(const struct api_schema *s, bool required_only)
{
	json_t *o = json_object();
	example_obj(s, o, 0);
	if (required_only)
		for (size_t i = 0; i < s->nfields; i++)
			if (!s->fields[i].required)
				json_object_del(o, s->fields[i].name);
	char *txt = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return txt;
}

/* Decodes b against s twice: same outcome and message; refusals well formed. */
static int decode_checked(const struct api_schema *s, const char *body, size_t len)
{
	void *dst = aidc_malloc(s->size), *dst2 = aidc_malloc(s->size);
	struct aidc_err e = {0}, e2 = {0};
	int rc = api_decode(s, body, len, dst, &e);
	int rc2 = api_decode(s, body, len, dst2, &e2);
	CHECK_EQ(rc, rc2);
	CHECK_STR(e.msg, e2.msg);
	if (rc == 0) {
		api_decoded_release(s, dst);
	} else {
		check_err_reply(rc, &e);
		CHECK(rc == AIDC_E_PARSE || rc == AIDC_E_INVAL || rc == AIDC_E_LIMIT ||
		      rc == AIDC_E_VERSION || rc == AIDC_E_UNSUPPORTED);
	}
	if (rc2 == 0)
		api_decoded_release(s, dst2);
	aidc_free(dst);
	aidc_free(dst2);
	return rc;
}

static const char *const json_dict[] = {
    "\"name\":",
    "\"v\":2,",
    "\"nodes\":",
    "\"command\":[\"a\"],",
    "\"script\":\"#!/bin/sh\\n\"",
    "{\"index\":0}",
    "[{}]",
    "[\"\\u00e9\"]",
    "\"\xc3\xa9\"",
    "\"\\ud834\\udd1e\"",
    "1.5",
    "-1",
    "\"requeue\"",
    "\"0077\"",
    "\"1-3%2\"",
    "\"n[1-3]\"",
    "\"afterok:1\"",
    "{\"a\":{\"b\":",
};

static long fuzz_schema(const struct api_schema *s, struct fz_rng *r, struct fz_buf *b, long iters,
			long *accepted)
{
	char *seeds[2] = {example_json(s, false), example_json(s, true)};
	for (int k = 0; k < 2; k++)
		if (decode_checked(s, seeds[k], strlen(seeds[k])) == 0)
			(*accepted)++;
	for (long i = 0; i < iters; i++) {
		const char *seed = seeds[i & 1];
		fz_mutate(r, b, seed, strlen(seed), json_dict,
			  sizeof json_dict / sizeof *json_dict);
		char *in = fz_exact(b);
		if (decode_checked(s, in, b->len) == 0)
			(*accepted)++;
		free(in);
	}
	free(seeds[0]);
	free(seeds[1]);
	return iters + 2;
}

static void fuzz_decode_every_schema(void)
{
	struct fz_rng r = {fz_seed(0xA1DC0001)};
	struct fz_buf b = {malloc(FZ_CAP), 0, FZ_CAP};
	long total = 0, accepted = 0, iters = fz_iters(1000);
	for (size_t i = 0; i < api_nschemas; i++)
		total += fuzz_schema(api_schemas[i], &r, &b, iters, &accepted);
	printf("api_decode: %zu schemas, %ld inputs, %ld accepted\n", api_nschemas, total,
	       accepted);
	free(b.data);
}

/* The libFuzzer seed corpus (fuzz/corpus/api_decode: first byte picks the
 * schema), each seed mutated in turn; the test runs in the source tree. */
static void fuzz_decode_corpus(void)
{
	static const char *const files[] = {
	    "heartbeat.json",	"job_script.json",
	    "job_submit.json",	"job_submit_constraints.json",
	    "register.json",	"register_topology.json",
	    "status.json",	"status_batch.json",
	    "task_report.json", "token_create.json",
	    "topology.json",	"topo_accel.json",
	};
	struct fz_rng r = {fz_seed(0xA1DC0004)};
	struct fz_buf b = {malloc(FZ_CAP), 0, FZ_CAP};
	long iters = fz_iters(1000), total = 0, accepted = 0;
	for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
		char path[256], seed[16384];
		snprintf(path, sizeof path, "fuzz/corpus/api_decode/%s", files[f]);
		FILE *fp = fopen(path, "rb");
		CHECK(fp != NULL);
		if (!fp)
			continue;
		size_t n = fread(seed, 1, sizeof seed - 1, fp);
		fclose(fp);
		seed[n] = '\0';
		CHECK(n > 1);
		const struct api_schema *s = api_schemas[(unsigned char)seed[0] % api_nschemas];
		for (long i = 0; i < iters; i++, total++) {
			fz_mutate(&r, &b, seed + 1, n - 1, json_dict,
				  sizeof json_dict / sizeof *json_dict);
			char *in = fz_exact(&b);
			accepted += decode_checked(s, in, b.len) == 0;
			free(in);
		}
	}
	printf("api_decode (corpus seeds): %ld inputs, %ld accepted\n", total, accepted);
	free(b.data);
}

/* Fixed adversarial bodies: nesting past jansson's depth, huge numbers, a
 * body at and past the size limit, duplicate keys, NUL and invalid UTF-8. */
static void fuzz_decode_fixed(void)
{
	struct fz_buf b = {malloc(FZ_CAP), 0, FZ_CAP};
	size_t depth = 100000;
	b.len = 0;
	for (size_t i = 0; i < depth; i++)
		b.data[b.len++] = (char)(i & 1 ? '{' : '[');
	b.data[b.len] = '\0';
	decode_checked(&api_schema_job_submit, b.data, b.len);
	static const char *const bodies[] = {
	    "{\"name\":\"a\",\"name\":\"b\"}",
	    "{\"nodes\":99999999999999999999999}",
	    "{\"nodes\":-9223372036854775808}",
	    "{\"nodes\":1e999}",
	    "{\"name\":\"\\u0000\"}",
	    "{\"name\":\"\xff\"}",
	    "{\"\xc3\":1}",
	    "{\"name\":\"\xed\xa0\x80\"}",
	    "",
	    "{",
	    "[]",
	    "null",
	    "{\"command\":[1]}",
	    "{\"env\":[\"a\",null]}",
	};
	for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++)
		for (size_t s = 0; s < api_nschemas; s++)
			decode_checked(api_schemas[s], bodies[i], strlen(bodies[i]));
	/* a body one byte past the limit is refused before parsing */
	memset(b.data, ' ', AIDC_MAX_HTTP_BODY_BYTES + 1);
	b.data[0] = '{';
	b.data[AIDC_MAX_HTTP_BODY_BYTES] = '}';
	CHECK_EQ(decode_checked(&api_schema_job_submit, b.data, AIDC_MAX_HTTP_BODY_BYTES + 1),
		 AIDC_E_LIMIT);
	/* an unknown key of 2-byte characters cut in the message mid-character */
	char key[300] = "{\"";
	for (int i = 0; i < 100; i++)
		memcpy(key + 2 + 2 * i, "\xc3\xa9", 2);
	snprintf(key + 202, sizeof key - 202, "\":1}");
	decode_checked(&api_schema_job_submit, key, strlen(key));
	free(b.data);
}

/* ---- routes ---- */

static int h_none(void *ctx, struct api_request *req, struct api_response *resp, struct aidc_err *e)
{
	(void)ctx, (void)req, (void)resp, (void)e;
	return 0;
}

static const struct api_route fz_routes[] = {
    {"GET", "/v1/jobs", h_none, API_ROLE_USER, NULL, NULL, "list"},
    {"POST", "/v1/jobs", h_none, API_ROLE_USER, "JobSubmit", NULL, "submit"},
    {"GET", "/v1/jobs/{id}", h_none, API_ROLE_USER, NULL, NULL, "one"},
    {"POST", "/v1/jobs/{id}/cancel", h_none, API_ROLE_USER, NULL, NULL, "cancel"},
    {"GET", "/v1/jobs/{id}/steps/{step}", h_none, API_ROLE_USER, NULL, NULL, "step"},
    {"GET", "/v1/nodes/{name}/jobs/{id}/tasks/{t}", h_none, API_ROLE_USER, NULL, NULL, "t"},
    {"GET", "/v1/a/{1}/{2}/{3}/{4}/{5}", h_none, API_ROLE_USER, NULL, NULL, "too many"},
    {"GET", "/", h_none, API_ROLE_PUBLIC, NULL, NULL, "root"},
};

static size_t pattern_params(const char *pat)
{
	size_t n = 0;
	for (; *pat; pat++)
		n += *pat == '{';
	return n;
}

static void route_checked(const char *method, const char *path)
{
	struct api_request req;
	memset(&req, 0, sizeof req);
	struct aidc_err e = {0};
	size_t nr = sizeof fz_routes / sizeof *fz_routes;
	int rc = api_route_match(fz_routes, nr, method, path, &req, &e);
	if (rc != 0) {
		check_err_reply(rc, &e);
		CHECK_EQ(rc, AIDC_E_NOTFOUND);
		return;
	}
	CHECK(req.route != NULL);
	CHECK_STR(req.route->method, method);
	CHECK_EQ(req.nparams, pattern_params(req.route->pattern));
	CHECK_LE(req.nparams, API_MAX_PARAMS);
	for (size_t i = 0; i < req.nparams; i++) {
		CHECK(req.params[i][0] != '\0');
		CHECK(strchr(req.params[i], '/') == NULL);
		CHECK_LT(strlen(req.params[i]), AIDC_MAX_NAME_BYTES);
	}
}

/* A path with a method drawn from r (some not methods at all). */
static void path_checked(struct fz_rng *r, const char *in)
{
	static const char *const methods[] = {"GET", "POST", "DELETE",
					      "",    "get",  "GETGETGETGETGETGETGETGET\xc3\xa9"};
	route_checked(methods[fz_below(r, sizeof methods / sizeof *methods)], in);
}

static void fuzz_routes(void)
{
	static const char *const paths[] = {
	    "/v1/jobs",
	    "/v1/jobs/12",
	    "/v1/jobs/12_[3-5]/cancel",
	    "/v1/jobs/7.2",
	    "/v1/jobs/12/steps/3",
	    "/v1/nodes/n1/jobs/4/tasks/0",
	    "/v1/a/1/2/3/4/5",
	    "/",
	    "/v1/jobs/%2e%2e/cancel",
	    "/v1/jobs/12%00/cancel",
	};
	static const char *const dict[] = {"/",	  "//", "%2F",	"%00", "%",    "{id}", "12_[3-5]",
					   "7.2", "..", "?a=b", "#",   "\xc3", "\xff"};
	long iters = fz_iters(30000);
	fz_each_string(0xA1DC0002, 8192, paths, sizeof paths / sizeof *paths, dict,
		       sizeof dict / sizeof *dict, iters, path_checked);
	printf("api_route_match: %ld paths\n", iters);
}

/* ---- tokens and job credentials ---- */

static void token_checked(const char *tok)
{
	uint64_t id = 0;
	char hash[API_HASH_HEX + 1] = "";
	struct aidc_err e = {0};
	int rc = api_token_parse(tok, &id, hash, &e);
	if (rc == 0) {
		CHECK(id >= 1);
		CHECK_EQ(strlen(hash), API_HASH_HEX);
	} else {
		check_err_reply(rc, &e);
		CHECK_EQ(rc, AIDC_E_AUTH);
	}
}

static void cred_checked(const char *secret, const char *cred)
{
	int64_t job = 0, attempt = 0;
	if (!api_job_cred_parse(cred, &job, &attempt))
		return;
	CHECK(job >= 1);
	CHECK(attempt >= 0);
	CHECK(strlen(cred) < API_JOB_CRED_MAX);
	/* an accepted credential is genuine only when it is exactly the MAC's */
	char want[API_JOB_CRED_MAX];
	struct aidc_err e = {0};
	CHECK_EQ(api_job_cred(secret, job, attempt, want, &e), 0);
	int64_t j2 = 0, a2 = 0;
	CHECK(api_job_cred_parse(want, &j2, &a2));
	CHECK_EQ(j2, job);
	CHECK_EQ(a2, attempt);
}

static void fuzz_credentials(void)
{
	const char *secret = "fuzz-cluster-secret";
	char cred[API_JOB_CRED_MAX];
	struct aidc_err e = {0};
	CHECK_EQ(api_job_cred(secret, 42, 3, cred, &e), 0);
	char tok[128];
	int tl = snprintf(tok, sizeof tok, "%s17_", API_TOKEN_PREFIX);
	for (int i = 0; i < API_TOKEN_SECRET_HEX; i++)
		tok[tl + i] = i & 1 ? 'a' : '7';
	tok[tl + API_TOKEN_SECRET_HEX] = '\0';
	static const char *const dict[] = {
	    "_", "aidc_", "aidcjob_", "0", "9999999999999999999", "99999999999999999999",
	    "f", "F",	  "g",	      "-"};
	struct fz_rng r = {fz_seed(0xA1DC0003)};
	struct fz_buf b = {malloc(8192), 0, 8192};
	long iters = fz_iters(20000);
	for (long i = 0; i < iters; i++) {
		const char *seed = i & 1 ? cred : tok;
		fz_mutate(&r, &b, seed, strlen(seed), dict, sizeof dict / sizeof *dict);
		char *in = fz_exact(&b);
		token_checked(in);
		cred_checked(secret, in);
		free(in);
	}
	printf("api_token_parse + api_job_cred_parse: %ld inputs each\n", iters);
	free(b.data);
}

TEST_MAIN({"fuzz_decode_every_schema", fuzz_decode_every_schema, 240}, TEST(fuzz_decode_fixed),
	  {"fuzz_decode_corpus", fuzz_decode_corpus, 240}, TEST(fuzz_routes),
	  TEST(fuzz_credentials))
