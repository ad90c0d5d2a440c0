/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the API layer (src/api) without a server: strict request
 * decoding (table of bodies and expected codes), route matching, JSON error
 * bodies, and the generated OpenAPI document.
 */
#include <jansson.h>

#include "api/api.h"
#include "tests/test.h"
#include "util/util.h"

struct decode_case {
	const struct api_schema *schema;
	const char *body;
	int want; /* 0 or AIDC_E_* */
	const char *msg_has; /* substring of the error, or NULL */
};

static void test_decode_table(void)
{
	static char big[AIDC_MAX_SCRIPT_BYTES + 64];
	memset(big, 0, sizeof big);
	size_t off = (size_t)snprintf(big, sizeof big, "{\"script\":\"");
	memset(big + off, 'x', AIDC_MAX_SCRIPT_BYTES + 1);
	memcpy(big + off + AIDC_MAX_SCRIPT_BYTES + 1, "\"}", 3);
	const struct decode_case cases[] = {
		{&api_schema_job_submit, "{\"command\":[\"true\"]}", 0, NULL},
		{&api_schema_job_submit, "{\"command\":[\"a\",\"b\"],\"ntasks\":4,\"time_limit_s\":5}",
		 0, NULL},
		{&api_schema_job_submit, "{}", 0, NULL},
		{&api_schema_job_submit, "", AIDC_E_PARSE, "malformed"},
		{&api_schema_job_submit, "{\"command\":", AIDC_E_PARSE, "malformed"},
		{&api_schema_job_submit, "[1,2]", AIDC_E_INVAL, "object"},
		{&api_schema_job_submit, "{\"bogus\":1}", AIDC_E_INVAL, "bogus: unknown field"},
		{&api_schema_job_submit, "{\"ntasks\":\"4\"}", AIDC_E_INVAL, "ntasks: must be an integer"},
		{&api_schema_job_submit, "{\"ntasks\":4.5}", AIDC_E_INVAL, "integer"},
		{&api_schema_job_submit, "{\"ntasks\":-1}", AIDC_E_INVAL, "outside"},
		{&api_schema_job_submit, "{\"ntasks\":65537}", AIDC_E_INVAL, "outside"},
		{&api_schema_job_submit, "{\"ntasks\":65536}", 0, NULL},
		{&api_schema_job_submit, "{\"ntasks\":1,\"ntasks\":2}", AIDC_E_PARSE, "duplicate"},
		{&api_schema_job_submit, "{\"command\":[1]}", AIDC_E_INVAL, "command[0]"},
		{&api_schema_job_submit, "{\"command\":\"true\"}", AIDC_E_INVAL, "array"},
		{&api_schema_job_submit, "{\"name\":\"a\\u0000b\"}", AIDC_E_PARSE, "u0000"},
		{&api_schema_job_submit, "{\"ntasks\":99999999999999999999999}", AIDC_E_PARSE, NULL},
		{&api_schema_job_submit, big, AIDC_E_LIMIT, "script: longer"},
		{&api_schema_agent_register,
		 "{\"name\":\"n1\",\"addr\":\"127.0.0.1\",\"cpus\":4,\"mem_mib\":1024,"
		 "\"devices\":[{\"index\":0,\"vendor\":\"mock\",\"model\":\"M1\"}]}",
		 0, NULL},
		{&api_schema_agent_register, "{\"name\":\"n1\",\"addr\":\"x\",\"cpus\":4}", AIDC_E_INVAL,
		 "mem_mib: required"},
		{&api_schema_agent_register,
		 "{\"name\":\"n1\",\"addr\":\"x\",\"cpus\":4,\"mem_mib\":1,\"devices\":[{\"index\":0}]}",
		 AIDC_E_INVAL, "devices[0].vendor"},
		{&api_schema_heartbeat, "{\"epoch\":1,\"running\":[{\"job\":1,\"task\":0,\"attempt\":0}]}", 0, NULL},
		{&api_schema_heartbeat, "{\"epoch\":1,\"running\":[{\"job\":0,\"task\":0,\"attempt\":0}]}",
		 AIDC_E_INVAL, "running[0].job"},
		{&api_schema_heartbeat, "{\"running\":[]}", AIDC_E_INVAL, "epoch: required"},
		{&api_schema_heartbeat, "{\"epoch\":5,\"running\":[],\"problem\":\"disk full\"}", 0,
		 NULL},
		{&api_schema_work,
		 "{\"protocol\":2,\"launch\":[{\"job\":1,\"task\":0,\"attempt\":0,\"uid\":0,"
		 "\"gid\":0,\"command\":[\"true\"],\"devices\":[\"0\",\"3\"]}],\"kill\":[]}",
		 0, NULL},
		{&api_schema_work,
		 "{\"protocol\":2,\"launch\":[{\"job\":1,\"task\":0,\"attempt\":0,\"uid\":0,"
		 "\"gid\":0,\"command\":[\"true\"],\"devices\":[\"x\"]}]}",
		 AIDC_E_INVAL, "launch[0].devices"},
		{&api_schema_work,
		 "{\"protocol\":2,\"launch\":[{\"job\":1,\"task\":0,\"attempt\":0,\"uid\":0,"
		 "\"gid\":0}]}",
		 AIDC_E_INVAL, "neither a script nor a command"},
		{&api_schema_work, "{\"launch\":[]}", AIDC_E_INVAL, "protocol: required"},
		{&api_schema_agent_ok, "{\"ok\":true,\"protocol\":2,\"heartbeat_s\":1}", 0, NULL},
		{&api_schema_task_status, "{\"attempt\":0,\"state\":\"exited\",\"exit_code\":3}", 0, NULL},
		{&api_schema_task_status, "{\"attempt\":0,\"state\":\"exited\",\"timed_out\":1}",
		 AIDC_E_INVAL, "true or false"},
		{&api_schema_task_status_batch,
		 "{\"epoch\":1,\"reports\":[{\"job\":1,\"task\":0,\"attempt\":0,\"state\":\"running\","
		 "\"pid\":9},{\"job\":1,\"task\":0,\"attempt\":0,\"state\":\"exited\"}]}",
		 0, NULL},
		{&api_schema_task_status_batch, "{\"epoch\":1,\"reports\":[]}", 0, NULL},
		{&api_schema_task_status_batch, "{\"epoch\":1,\"reports\":[{\"job\":1,\"attempt\":0,"
		 "\"state\":\"exited\"}]}", AIDC_E_INVAL, "reports[0].task"},
		{&api_schema_task_status_batch, "{\"epoch\":1,\"reports\":[{\"job\":1,\"task\":0,"
		 "\"attempt\":0,\"state\":\"exited\",\"exit_code\":256}]}",
		 AIDC_E_INVAL, "outside"},
		/* a job's throughput (docs/placement.md "Progress reports") */
		{&api_schema_task_status_batch, "{\"epoch\":1,\"reports\":[{\"job\":1,\"task\":0,"
		 "\"attempt\":0,\"state\":\"exited\",\"progress_milli\":1500}]}", 0, NULL},
		{&api_schema_task_status_batch, "{\"epoch\":1,\"reports\":[{\"job\":1,\"task\":0,"
		 "\"attempt\":0,\"state\":\"exited\",\"progress_milli\":-1}]}",
		 AIDC_E_INVAL, "outside"},
		{&api_schema_task_status_batch, "{\"epoch\":1,\"reports\":[{\"job\":1,\"task\":0,"
		 "\"attempt\":0,\"state\":\"exited\",\"progress_milli\":1000000000001}]}",
		 AIDC_E_INVAL, "outside"},
		{&api_schema_task_status_batch, "{\"epoch\":1,\"reports\":[{\"job\":1,\"task\":0,"
		 "\"attempt\":0,\"state\":\"exited\",\"progress_milli\":1.5}]}",
		 AIDC_E_INVAL, NULL},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		const struct decode_case *c = &cases[i];
		char dst[512];
		CHECK(c->schema->size <= sizeof dst);
		struct aidc_err e = {0};
		int rc = api_decode(c->schema, c->body, strlen(c->body), dst, &e);
		if (rc != c->want)
			fprintf(stderr, "case %zu: %s\n", i, e.msg);
		CHECK_EQ(rc, c->want);
		if (c->msg_has)
			CHECK_CONTAINS(e.msg, c->msg_has);
		if (rc == 0)
			api_decoded_release(c->schema, dst);
	}
}

static void test_decode_values(void)
{
	const char *body = "{\"name\":\"j\",\"command\":[\"echo\",\"hi\"],\"env\":[\"A=1\"],"
			   "\"gpus_per_task\":2,\"on_node_failure\":\"fail\"}";
	struct api_job_submit js;
	struct aidc_err e = {0};
	CHECK_EQ(api_decode(&api_schema_job_submit, body, strlen(body), &js, &e), 0);
	CHECK_STR(js.name, "j");
	CHECK_EQ(js.command.n, 2);
	CHECK_STR(js.command.v[1], "hi");
	CHECK_EQ(js.env.n, 1);
	CHECK_EQ(js.gpus_per_task, 2);
	CHECK(js.script == NULL);
	CHECK_STR(js.on_node_failure, "fail");
	api_decoded_release(&api_schema_job_submit, &js);
	CHECK(api_find_schema("JobSubmit") == &api_schema_job_submit);
	CHECK(api_find_schema("Nope") == NULL);
}

static int dummy(void *ctx, struct api_request *req, struct api_response *resp,
		 struct aidc_err *e)
{
	return 0;
}

static const struct api_route routes[] = {
	{"GET", "/v1/jobs", dummy, API_ROLE_USER, NULL, "JobList", "list jobs"},
	{"POST", "/v1/jobs", dummy, API_ROLE_USER, "JobSubmit", "Job", "submit a job"},
	{"GET", "/v1/jobs/{id}", dummy, API_ROLE_USER, NULL, "Job", "one job"},
	{"POST", "/v1/jobs/{id}/cancel", dummy, API_ROLE_USER, NULL, "Job", "cancel"},
	{"POST", "/v1/agents/{node}/tasks/{job}/{task}/status", dummy, API_ROLE_AGENT,
	 "TaskStatus", NULL, "task status"},
};

static void test_routes(void)
{
	struct {
		const char *method, *path;
		int want;
		size_t route, nparams;
		const char *p0, *p2;
	} cases[] = {
		{"GET", "/v1/jobs", 0, 0, 0, NULL, NULL},
		{"POST", "/v1/jobs", 0, 1, 0, NULL, NULL},
		{"GET", "/v1/jobs/42", 0, 2, 1, "42", NULL},
		{"POST", "/v1/jobs/42/cancel", 0, 3, 1, "42", NULL},
		{"POST", "/v1/agents/n1/tasks/7/3/status", 0, 4, 3, "n1", "3"},
		{"DELETE", "/v1/jobs", AIDC_E_NOTFOUND, 0, 0, NULL, NULL},
		{"GET", "/v1/jobs/", AIDC_E_NOTFOUND, 0, 0, NULL, NULL},
		{"GET", "/v1/jobs//cancel", AIDC_E_NOTFOUND, 0, 0, NULL, NULL},
		{"GET", "/v1", AIDC_E_NOTFOUND, 0, 0, NULL, NULL},
		{"GET", "", AIDC_E_NOTFOUND, 0, 0, NULL, NULL},
	};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(cases); i++) {
		struct api_request req;
		memset(&req, 0, sizeof req);
		int rc = api_route_match(routes, AIDC_ARRAY_LEN(routes), cases[i].method,
					 cases[i].path, &req, NULL);
		CHECK_EQ(rc, cases[i].want);
		if (rc)
			continue;
		CHECK_EQ(req.route - routes, cases[i].route);
		CHECK_EQ(req.nparams, cases[i].nparams);
		if (cases[i].p0)
			CHECK_STR(req.params[0], cases[i].p0);
		if (cases[i].p2)
			CHECK_STR(req.params[2], cases[i].p2);
	}
}

static void test_openapi_and_errors(void)
{
	struct aidc_buf b;
	aidc_buf_init(&b, 1u << 20);
	CHECK_EQ(api_openapi(routes, AIDC_ARRAY_LEN(routes), "AIDC", &b), 0);
	json_error_t je;
	json_t *doc = json_loads(aidc_buf_str(&b), 0, &je);
	CHECK(doc != NULL);
	if (doc) {
		json_t *paths = json_object_get(doc, "paths");
		CHECK_EQ(json_object_size(paths), 4);
		json_t *jobs = json_object_get(paths, "/v1/jobs");
		CHECK(json_object_get(jobs, "get") != NULL);
		CHECK(json_object_get(jobs, "post") != NULL);
		json_t *sch = json_object_get(json_object_get(json_object_get(doc, "components"),
							      "schemas"),
					      "JobSubmit");
		CHECK(json_is_false(json_object_get(sch, "additionalProperties")));
		json_decref(doc);
	}
	CHECK_EQ(api_error_json(&b, AIDC_E_NOTFOUND, "no job \"7\""), 0);
	CHECK_STR(aidc_buf_str(&b), "{\"error\":{\"code\":\"E_NOTFOUND\",\"message\":\"no job \\\"7\\\"\"}}");
	aidc_buf_release(&b);
}

/* A batch is bounded before anything is allocated: API_MAX_STATUS_BATCH
 * reports decode, one more is refused. */
static void test_status_batch_limit(void)
{
	const char *item = "{\"job\":1,\"task\":0,\"attempt\":0,\"state\":\"exited\"}";
	for (size_t n = API_MAX_STATUS_BATCH; n <= API_MAX_STATUS_BATCH + 1; n++) {
		struct aidc_buf b;
		aidc_buf_init(&b, AIDC_MAX_HTTP_BODY_BYTES);
		aidc_buf_puts(&b, "{\"epoch\":1,\"reports\":[");
		for (size_t i = 0; i < n; i++) {
			if (i)
				aidc_buf_puts(&b, ",");
			aidc_buf_puts(&b, item);
		}
		aidc_buf_puts(&b, "]}");
		struct api_task_status_batch sb;
		struct aidc_err e = {0};
		int rc = api_decode(&api_schema_task_status_batch, aidc_buf_str(&b), b.len, &sb, &e);
		CHECK_EQ(rc, n > API_MAX_STATUS_BATCH ? AIDC_E_LIMIT : 0);
		if (rc == 0) {
			CHECK_EQ(sb.reports.n, n);
			api_decoded_release(&api_schema_task_status_batch, &sb);
		}
		aidc_buf_release(&b);
	}
}

TEST_MAIN(TEST(test_decode_table), TEST(test_status_batch_limit), TEST(test_decode_values),
	  TEST(test_routes), TEST(test_openapi_and_errors))
