/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc exam publish` and `aidc rates` (issue 12 item 2, docs/accounting.md):
 * publish an exam report to the controller, which derives the model's rate
 * of normalized units per device-second; list the rates; override one with
 * a reason. The controller validates and audits; the client checks the
 * report first only to fail early with the reader's own message.
 */
#include <jansson.h>

#include "cli/cli.h"
#include "cli/cli_live.h"
#include "exam/exam.h"
#include "util/util.h"

/* The largest report file read (a full-level report is about 100 KiB). */
#define REPORT_MAX_BYTES (8u << 20)

int cli_exam_publish(int argc, char **argv)
{
	const char *sock = NULL;
	bool json = false;
	const struct cli_flag flags[] = {
	    {"json", CLI_BOOL, &json, NULL, "print the controller's answer as JSON", 0, 0, NULL,
	     NULL},
	    CLI_CONN_FLAGS(sock),
	};
	const struct cli_cmd cmd = {
	    "exam publish", "aidc exam publish REPORT.json [--json]",
	    "Records a device model's exam report (written by 'aidc exam run --out') in the "
	    "controller, which derives the model's rate: the geometric mean of the passed "
	    "gemm, conv and attention questions' scores against the built-in reference. Admins "
	    "only; audited. A failing report, one scored against another reference, or one "
	    "whose scores do not match its values is refused and changes nothing.",
	    flags, AIDC_ARRAY_LEN(flags)};
	const char *pos[1];
	struct exam_report r;
	int rc;
	if (!cli_parse_report(&cmd, argc, argv, pos, &r, &rc))
		return rc;
	exam_report_release(&r);
	struct aidc_buf body;
	aidc_buf_init(&body, REPORT_MAX_BYTES);
	FILE *f = fopen(pos[0], "rb");
	char chunk[65536];
	size_t n;
	while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (aidc_buf_append(&body, chunk, n) != 0)
			break;
	bool bad = !f || ferror(f) || !feof(f);
	if (f)
		fclose(f);
	if (bad) {
		fprintf(stderr, "aidc exam publish: cannot read %s (or it is over %u bytes)\n",
			pos[0], REPORT_MAX_BYTES);
		aidc_buf_release(&body);
		return CLI_EXIT_FAIL;
	}
	char sp[AIDC_MAX_PATH_BYTES];
	cli_socket_path(sock, sp, sizeof sp);
	struct api_call c;
	rc = cli_call("exam publish", sp, "POST", "/v1/exam/publish", aidc_buf_str(&body), body.len,
		      &c);
	aidc_buf_release(&body);
	if (rc)
		return rc;
	json_t *o = json_loads(aidc_buf_str(&c.reply), JSON_DECODE_ANY, NULL);
	if (json)
		printf("%s\n", aidc_buf_str(&c.reply));
	else
		printf("published %s: rate %.6f normalized units per device-second (geometric mean "
		       "of %" JSON_INTEGER_FORMAT " training questions against the built-in "
		       "reference)\n",
		       json_string_value(json_object_get(o, "model")),
		       json_number_value(json_object_get(o, "rate")),
		       json_integer_value(json_object_get(o, "training_questions")));
	json_decref(o);
	aidc_buf_release(&c.reply);
	return CLI_EXIT_OK;
}

/* "1.25" -> 1250000: a positive decimal with at most six places, exactly. */
static int parse_rate(const char *s, int64_t *ppm)
{
	int64_t whole = 0, frac = 0;
	int places = 0;
	const char *p = s;
	if (!*p)
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		if (__builtin_mul_overflow(whole, 10, &whole) ||
		    __builtin_add_overflow(whole, *p - '0', &whole) || whole > 1000000)
			return -1;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, places++) {
			if (places == 6)
				return -1;
			frac = frac * 10 + (*p - '0');
		}
	}
	if (*p || p == s)
		return -1;
	for (; places < 6; places++)
		frac *= 10;
	*ppm = whole * 1000000 + frac;
	return *ppm > 0 && *ppm <= INT64_C(1000000000000) ? 0 : -1;
}

static int rates_set(int argc, char **argv)
{
	const char *sock = NULL, *reason = NULL;
	const struct cli_flag flags[] = {
	    {"reason", CLI_STR, &reason, "TEXT", "why (required; kept in the audit log)", 0, 0,
	     NULL, NULL},
	    CLI_CONN_FLAGS(sock),
	};
	const struct cli_cmd cmd = {
	    "rates set", "aidc rates set MODEL RATE --reason TEXT",
	    "Overrides a device model's rate (normalized units per device-second, a decimal "
	    "with at most six places, e.g. 1.25) for the accounting records written from now "
	    "on. Admins only; audited with the reason and the exam-derived rate it replaces.",
	    flags, AIDC_ARRAY_LEN(flags)};
	const char *pos[2];
	int rc;
	if (!cli_parse_exact(&cmd, argc, argv, pos, 2, &rc, "give MODEL and RATE (see --help)"))
		return rc;
	int64_t ppm;
	if (parse_rate(pos[1], &ppm)) {
		fprintf(stderr,
			"aidc rates set: RATE '%s': a decimal above 0, at most 1000000, with at "
			"most six places\n",
			pos[1]);
		return CLI_EXIT_USAGE;
	}
	if (!reason || !*reason) {
		fprintf(stderr, "aidc rates set: --reason is required (it is audited)\n");
		return CLI_EXIT_USAGE;
	}
	json_t *b = json_pack("{s:s, s:I, s:s}", "model", pos[0], "rate_ppm", (json_int_t)ppm,
			      "reason", reason);
	char *text = b ? json_dumps(b, JSON_COMPACT) : NULL;
	json_decref(b);
	if (!text) {
		fprintf(stderr, "aidc rates set: MODEL and --reason must be UTF-8 text\n");
		return CLI_EXIT_USAGE;
	}
	char sp[AIDC_MAX_PATH_BYTES];
	cli_socket_path(sock, sp, sizeof sp);
	struct api_call c;
	rc = cli_call("rates set", sp, "POST", "/v1/rates", text, strlen(text), &c);
	free(text);
	if (rc)
		return rc;
	printf("%s: rate %s (override)\n", pos[0], pos[1]);
	aidc_buf_release(&c.reply);
	return CLI_EXIT_OK;
}

/* The table of `aidc rates list`: one row a model. */
static void show_rates(json_t *o)
{
	json_t *r;
	size_t i;
	printf("%-24s %14s %14s %-9s %-12s %s\n", "MODEL", "RATE", "EXAM_RATE", "SOURCE", "BY",
	       "REASON");
	json_array_foreach(json_object_get(o, "rates"), i, r)
	{
		json_t *d = json_object_get(r, "derived_rate");
		char ds[32] = "-";
		if (json_is_number(d))
			snprintf(ds, sizeof ds, "%.6f", json_number_value(d));
		printf("%-24s %14.6f %14s %-9s %-12s %s\n",
		       json_string_value(json_object_get(r, "model")),
		       json_number_value(json_object_get(r, "rate")), ds,
		       json_string_value(json_object_get(r, "source")),
		       json_string_value(json_object_get(r, "actor")),
		       json_string_value(json_object_get(r, "reason")));
	}
	printf("a model not listed has no published exam and is charged at rate 1\n");
}

static int rates_list(int argc, char **argv)
{
	const char *sock = NULL;
	bool json = false;
	const struct cli_flag flags[] = {
	    {"json", CLI_BOOL, &json, NULL, "print the rates as JSON", 0, 0, NULL, NULL},
	    CLI_CONN_FLAGS(sock),
	};
	const struct cli_cmd cmd = {
	    "rates list", "aidc rates [list] [--json]",
	    "Lists every device model's rate (normalized units per device-second), where it "
	    "comes from (a published exam or an admin's override, with its reason) and the "
	    "exam-derived rate. A model not listed is charged at rate 1.",
	    flags, AIDC_ARRAY_LEN(flags)};
	int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	return cli_get_show("rates", sock, "/v1/rates", json, show_rates);
}

int cli_rates_main(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	if (!*sub || sub[0] == '-') {
		if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
			printf("usage: aidc rates <list|set> [options]   (docs/accounting.md)\n"
			       "'aidc rates' alone lists the rates.\n");
			return CLI_EXIT_OK;
		}
		return rates_list(argc, argv);
	}
	if (!strcmp(sub, "list"))
		return rates_list(argc - 1, argv + 1);
	if (!strcmp(sub, "set"))
		return rates_set(argc - 1, argv + 1);
	fprintf(stderr, "aidc rates: unknown command '%s' (list or set)\n", sub);
	return CLI_EXIT_USAGE;
}
