/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seeded mutation fuzzing (tests/fuzz_mut.h) of what the controller keeps of
 * a submission: every POST /v1/jobs body the decoder accepts is stored as
 * ctld_spec_to_json's document and decoded again at restart, so that
 * document must decode, and storing it again must give the same text (a job
 * that cannot be restored stops the controller at start). The --array
 * admission check (ctld_array_admit) refuses with a message.
 */
#include <jansson.h>

#include "ctld/ctld_int.h"
#include "tests/fuzz_mut.h"
#include "tests/test.h"
#include "util/util.h"

#define FZ_CAP (AIDC_MAX_HTTP_BODY_BYTES + 64)

static bool spec_checked(const char *body, size_t len)
{
	struct api_job_submit s, back;
	struct aidc_err e = {0};
	if (api_decode(&api_schema_job_submit, body, len, &s, &e) != 0)
		return false;
	char *doc = ctld_spec_to_json(&s);
	CHECK(doc != NULL);
	struct aidc_err e2 = {0};
	int rc = doc ? api_decode(&api_schema_job_submit, doc, strlen(doc), &back, &e2) : -1;
	CHECK_EQ(rc, 0);
	if (rc != 0) {
		fprintf(stderr, "stored spec does not decode (%s): %.300s\n", e2.msg,
			doc ? doc : "(null)");
	} else {
		char *again = ctld_spec_to_json(&back);
		CHECK(again != NULL && strcmp(again, doc) == 0);
		aidc_free(again);
		api_decoded_release(&api_schema_job_submit, &back);
	}
	aidc_free(doc);
	struct aidc_err e3 = {0};
	rc = ctld_array_admit(&s, &e3);
	if (rc != 0) {
		CHECK_EQ(e3.code, rc);
		CHECK(e3.msg[0] != '\0');
	}
	api_decoded_release(&api_schema_job_submit, &s);
	return true;
}

static void fuzz_stored_spec(void)
{
	static const char *const seeds[] = {
	    "{\"name\":\"j\",\"command\":[\"echo\",\"hi\"],\"ntasks\":2,\"cpus_per_task\":1,"
	    "\"env\":[\"A=b\"],\"cwd\":\"/tmp\"}",
	    "{\"script\":\"#!/bin/sh\\n#SBATCH -N 2\\nsrun x\\n\",\"script_args\":[\"a\"],"
	    "\"nodes\":2,\"ntasks\":4,\"time_limit_s\":3600,\"stdout_path\":\"out-%j\","
	    "\"dependency\":\"afterok:1:2\",\"array\":\"1-9:2%4\",\"begin_s\":1800000000,"
	    "\"signal\":10,\"signal_before_s\":60,\"signal_batch\":true,\"hold\":true}",
	    "{\"command\":[\"x\"],\"gpus_per_task\":1,\"gpu_milli\":500,\"gpu_model\":\"a100\","
	    "\"nodelist\":\"n[1-3]\",\"exclude\":\"n2\",\"exclusive\":true,\"mem_whole\":true,"
	    "\"umask\":\"0077\",\"account\":\"a\",\"qos\":\"q\",\"partition\":\"p\","
	    "\"request_id\":\"r\",\"preemptible\":true,\"on_node_failure\":\"requeue\","
	    "\"priority\":5,\"slurm_env\":true,\"kill_on_invalid_dep\":true,\"v\":1}",
	};
	static const char *const dict[] = {"\"name\":",
					   "\"env\":[\"\\u00e9=\\u0001\"],",
					   "\"cwd\":\"\\n\\t\\\\\\\"\",",
					   "\"\\ud83d\\ude00\"",
					   "\"\\u007f\"",
					   "\"array_pending\":\"1-3\",",
					   "-1"};
	struct fz_rng r = {fz_seed(0xC7D5EC1)};
	struct fz_buf b = {malloc(FZ_CAP), 0, FZ_CAP};
	long iters = fz_iters(6000), ok = 0;
	for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++)
		CHECK(spec_checked(seeds[i], strlen(seeds[i])));
	for (long i = 0; i < iters; i++) {
		const char *seed = seeds[fz_below(&r, sizeof seeds / sizeof *seeds)];
		fz_mutate(&r, &b, seed, strlen(seed), dict, sizeof dict / sizeof *dict);
		char *in = fz_exact(&b);
		ok += spec_checked(in, b.len);
		free(in);
	}
	printf("job specs: %ld bodies, %ld accepted (each stored, decoded and stored again)\n",
	       iters, ok);
	free(b.data);
}

/* A value for field f: mostly of its type and within its bounds. */
static json_t *random_value(struct fz_rng *r, const struct api_field *f)
{
	static const char *const strs[] = {"",	       "x",	  "\xc3\xa9", "\x01\x7f\x1b[2J",
					   "%j-%x-%A", "a\"b\\c", "n[1-3]",   "afterok:1",
					   "1-3%2",    "0077",	  "requeue",  "\xf0\x9f\x98\x80"};
	int64_t lo = f->min, hi = f->max;
	switch (f->type == API_T_OBJ || f->type == API_T_OBJV ? 9 : fz_below(r, 12) ? f->type : 9) {
	case API_T_STR:
		if (fz_below(r, 128) == 0) {
			size_t n = (size_t)(f->max > 0 ? f->max : 1);
			char *big = malloc(n + 1);
			memset(big, 'y', n);
			big[n] = '\0';
			json_t *v = json_string(big);
			free(big);
			return v;
		}
		return json_string(strs[fz_below(r, sizeof strs / sizeof *strs)]);
	case API_T_I64: {
		int64_t picks[] = {lo, hi, 0, 1, lo + (int64_t)fz_below(r, 100)};
		return json_integer(picks[fz_below(r, 5)]);
	}
	case API_T_BOOL:
		return json_boolean(fz_below(r, 2));
	case API_T_STRV: {
		json_t *a = json_array();
		for (size_t k = fz_below(r, 4); k > 0; k--)
			json_array_append_new(a, json_string(strs[fz_below(r, 12)]));
		return a;
	}
	default:
		return fz_below(r, 2) ? json_integer(-1) : json_string("x");
	}
}

/* Bodies built field by field from the schema (most of them decode). */
static void fuzz_spec_fields(void)
{
	const struct api_schema *s = &api_schema_job_submit;
	struct fz_rng r = {fz_seed(0xC7D5EC2)};
	long iters = fz_iters(3000), ok = 0;
	for (long i = 0; i < iters; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "command", json_pack("[s]", "true"));
		for (size_t k = 1 + fz_below(&r, 8); k > 0; k--) {
			const struct api_field *f = &s->fields[fz_below(&r, s->nfields)];
			json_object_set_new(o, f->name, random_value(&r, f));
		}
		char *body = json_dumps(o, JSON_COMPACT);
		ok += spec_checked(body, strlen(body));
		free(body);
		json_decref(o);
	}
	printf("job specs built from the schema: %ld bodies, %ld accepted\n", iters, ok);
}

TEST_MAIN({"fuzz_stored_spec", fuzz_stored_spec, 240}, {"fuzz_spec_fields", fuzz_spec_fields, 240})
