/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc errors`: prints the project-wide error table (src/util/err.h), the one
 * source of truth for codes, names, HTTP statuses and messages. docs/errors.md
 * is this command's --markdown output, checked by a test.
 */
#include "cli/cli.h"
#include "util/util.h"

struct errrow {
	int code;
	int http;
	const char *name;
	const char *msg;
};

static const struct errrow rows[] = {
#define X(name, code, http, msg) {code, http, "AIDC_" #name, msg},
	AIDC_ERROR_TABLE(X)
#undef X
};

int cli_errors_main(int argc, char **argv)
{
	bool json = false, markdown = false;
	const struct cli_flag flags[] = {
		{.name = "json", .type = CLI_BOOL, .dst = &json, .help = "print JSON"},
		{.name = "markdown", .type = CLI_BOOL, .dst = &markdown,
		 .help = "print the Markdown table of docs/errors.md"},
	};
	const struct cli_cmd cmd = {
		.name = "errors",
		.usage = "aidc errors [--json | --markdown]",
		.summary = "Lists every error code AIDC returns: its number (also the negative\n"
			   "value in C APIs), name, HTTP status and message. Codes are never renumbered.",
		.flags = flags,
		.nflags = AIDC_ARRAY_LEN(flags),
	};
	int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	if (json) {
		struct aidc_buf b;
		aidc_buf_init(&b, 1u << 20);
		struct aidc_json j;
		aidc_json_init(&j, &b, true);
		aidc_json_arr_begin(&j);
		for (size_t i = 0; i < AIDC_ARRAY_LEN(rows); i++) {
			aidc_json_obj_begin(&j);
			aidc_json_ki64(&j, "code", rows[i].code);
			aidc_json_kstr(&j, "name", rows[i].name);
			aidc_json_ki64(&j, "http_status", rows[i].http);
			aidc_json_kstr(&j, "message", rows[i].msg);
			aidc_json_obj_end(&j);
		}
		aidc_json_arr_end(&j);
		rc = aidc_json_finish(&j);
		if (rc == 0)
			fputs(aidc_buf_str(&b), stdout);
		aidc_buf_release(&b);
		return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
	}
	if (markdown) {
		printf("| code | name | HTTP | message |\n|---:|---|---:|---|\n");
		for (size_t i = 0; i < AIDC_ARRAY_LEN(rows); i++)
			printf("| %d | `%s` | %d | %s |\n", rows[i].code, rows[i].name, rows[i].http,
			       rows[i].msg);
		return CLI_EXIT_OK;
	}
	printf("%5s  %-22s %4s  %s\n", "CODE", "NAME", "HTTP", "MESSAGE");
	for (size_t i = 0; i < AIDC_ARRAY_LEN(rows); i++)
		printf("%5d  %-22s %4d  %s\n", rows[i].code, rows[i].name, rows[i].http, rows[i].msg);
	return CLI_EXIT_OK;
}
