/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc speeds` (the controller's speed table of job classes on device
 * models, GET /v1/speeds) and `aidc progress RATE` (a job reports its
 * throughput into the file its agent named in AIDC_PROGRESS_FILE); see
 * docs/placement.md "Heterogeneity-aware placement".
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_live.h"
#include "util/util.h"

static void show_speeds(json_t *o)
{
	json_t *r, *x;
	size_t i, k;
	printf("placement by speed (hetero): %s\n",
	       json_string_value(json_object_get(o, "hetero")));
	printf("%-24s %10s %s\n", "MODEL", "PRIOR", "PRIOR_FROM");
	json_array_foreach(json_object_get(o, "models"), i, r)
	{
		printf("%-24s %10.3f %s\n", json_string_value(json_object_get(r, "model")),
		       json_number_value(json_object_get(r, "prior")),
		       json_string_value(json_object_get(r, "prior_source")));
	}
	printf("\n%-24s %-24s %6s %14s %10s\n", "CLASS", "MODEL", "RUNS", "MEAN_RATE", "SPEED");
	json_array_foreach(json_object_get(o, "classes"), i, r)
	{
		json_array_foreach(json_object_get(r, "models"), k, x)
		{
			json_t *sp = json_object_get(x, "speed");
			char s[32] = "-";
			if (json_is_number(sp))
				snprintf(s, sizeof s, "%.3f", json_number_value(sp));
			printf("%-24s %-24s %6" JSON_INTEGER_FORMAT " %14.3f %10s\n",
			       json_string_value(json_object_get(r, "class")),
			       json_string_value(json_object_get(x, "model")),
			       json_integer_value(json_object_get(x, "runs")),
			       json_number_value(json_object_get(x, "mean_rate")), s);
		}
	}
	json_int_t hidden = json_integer_value(json_object_get(o, "classes_hidden"));
	if (hidden > 0)
		printf("%" JSON_INTEGER_FORMAT " more classes are other users' job names (admins "
		       "see them)\n",
		       hidden);
	printf("a class is a job name; a class not listed, or a model not listed for it, uses "
	       "the model's prior\n");
}

int cli_speeds_main(int argc, char **argv)
{
	const char *sock = NULL;
	bool json = false;
	const struct cli_flag flags[] = {
	    {"json", CLI_BOOL, &json, NULL, "print the table as JSON", 0, 0, NULL, NULL},
	    CLI_CONN_FLAGS(sock),
	};
	const struct cli_cmd cmd = {
	    "speeds", "aidc speeds [--json]",
	    "Shows the controller's speed table: per device model its prior (the exam-derived "
	    "rate, else 1.0) and, per job class (a job name) and model, the runs that reported "
	    "a throughput (aidc progress), their mean throughput in the job's own unit and the "
	    "relative speed the scheduler uses with the 'hetero' key.",
	    flags, AIDC_ARRAY_LEN(flags)};
	int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	return cli_get_show("speeds", sock, "/v1/speeds", json, show_speeds);
}

int cli_progress_main(int argc, char **argv)
{
	const struct cli_cmd cmd = {
	    "progress", "aidc progress RATE",
	    "Inside a job: records its throughput RATE (a decimal in 0.001..1000000000, in the "
	    "job's own unit per second: steps/s, samples/s; the same unit for every run of a "
	    "job name) in the file named by AIDC_PROGRESS_FILE. The last value written when the "
	    "task ends is reported to the controller, which learns how fast the job's class "
	    "runs on each device model (aidc speeds).",
	    NULL, 0};
	const char *pos[1];
	int rc;
	if (!cli_parse_exact(&cmd, argc, argv, pos, 1, &rc, "give RATE (see --help)"))
		return rc;
	double v;
	if (aidc_parse_f64(pos[0], 0.001, AIDC_MAX_PROGRESS_RATE, &v) != 0) {
		fprintf(stderr, "aidc progress: RATE '%s' is not a decimal in 0.001..%u\n", pos[0],
			AIDC_MAX_PROGRESS_RATE);
		return CLI_EXIT_USAGE;
	}
	const char *path = getenv("AIDC_PROGRESS_FILE");
	if (!path || !*path) {
		fprintf(stderr, "aidc progress: AIDC_PROGRESS_FILE is not set (run it inside a "
				"job started by an aidc agent)\n");
		return CLI_EXIT_USAGE;
	}
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	char line[64];
	int n = snprintf(line, sizeof line, "%.3f\n", v);
	if (fd < 0 || write(fd, line, (size_t)n) != n) {
		fprintf(stderr, "aidc progress: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return CLI_EXIT_FAIL;
	}
	close(fd);
	return CLI_EXIT_OK;
}
