/* SPDX-License-Identifier: Apache-2.0 */
/* Declarative command-line flag parsing and help text (see cli.h). */
#include "cli/cli.h"
#include "sched/sched.h"
#include "util/util.h"

void cli_print_help(const struct cli_cmd *cmd, FILE *out)
{
	fprintf(out, "usage: %s\n\n%s\n", cmd->usage, cmd->summary);
	if (cmd->nflags)
		fprintf(out, "\noptions:\n");
	for (size_t i = 0; i < cmd->nflags; i++) {
		const struct cli_flag *f = &cmd->flags[i];
		char left[96];
		snprintf(left, sizeof left, "--%s%s%s", f->name, f->metavar ? " " : "",
			 f->metavar ? f->metavar : "");
		fprintf(out, "  %-28s %s", left, f->help);
		if (f->type == CLI_CHOICE && f->choices) {
			fprintf(out, " (");
			for (size_t k = 0; f->choices[k]; k++)
				fprintf(out, "%s%s", k ? "|" : "", f->choices[k]);
			fprintf(out, ")");
		}
		if (f->type == CLI_NAME) {
			const struct sched_name *t = ((const struct cli_name_dst *)f->dst)->names;
			fprintf(out, " (");
			for (const struct sched_name *r = t; r->name; r++)
				fprintf(out, "%s%s", r != t ? "|" : "", r->name);
			fprintf(out, ")");
		}
		fprintf(out, "\n");
	}
	fprintf(out, "  %-28s %s\n", "--help, -h", "show this help");
}

static const struct cli_flag *find(const struct cli_cmd *cmd, const char *name, size_t len)
{
	for (size_t i = 0; i < cmd->nflags; i++)
		if (strlen(cmd->flags[i].name) == len && memcmp(cmd->flags[i].name, name, len) == 0)
			return &cmd->flags[i];
	return NULL;
}

static int usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "aidc %s: ", cmd->name);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'aidc %s --help')\n", cmd->name);
	return CLI_EXIT_USAGE;
}

static int set_value(const struct cli_cmd *cmd, const struct cli_flag *f, const char *v)
{
	switch (f->type) {
	case CLI_BOOL:
		if (!v || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
			*(bool *)f->dst = true;
		else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
			*(bool *)f->dst = false;
		else
			return usage_error(cmd, "--%s=%s: expected true or false", f->name, v);
		return 0;
	case CLI_STR:
		*(const char **)f->dst = v;
		return 0;
	case CLI_I64: {
		int64_t x;
		int rc = aidc_parse_i64(v, (int64_t)f->min, (int64_t)f->max, &x);
		if (rc == AIDC_E_LIMIT)
			return usage_error(cmd, "--%s %s: must be between %.0f and %.0f", f->name, v,
					   f->min, f->max);
		if (rc)
			return usage_error(cmd, "--%s %s: not an integer", f->name, v);
		*(int64_t *)f->dst = x;
		return 0;
	}
	case CLI_F64: {
		double x;
		int rc = aidc_parse_f64(v, f->min, f->max, &x);
		if (rc == AIDC_E_LIMIT)
			return usage_error(cmd, "--%s %s: must be between %g and %g", f->name, v,
					   f->min, f->max);
		if (rc)
			return usage_error(cmd, "--%s %s: not a number", f->name, v);
		*(double *)f->dst = x;
		return 0;
	}
	case CLI_CHOICE:
		for (int k = 0; f->choices[k]; k++)
			if (strcmp(f->choices[k], v) == 0) {
				*(int *)f->dst = k;
				return 0;
			}
		return usage_error(cmd, "--%s %s: unknown value", f->name, v);
	case CLI_NAME: {
		const struct cli_name_dst *d = f->dst;
		const struct sched_name *r = sched_name_find(d->names, v);
		if (!r)
			return usage_error(cmd, "--%s %s: unknown value", f->name, v);
		*d->value = r->value;
		return 0;
	}
	}
	return CLI_EXIT_USAGE;
}

int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, const char **pos, size_t maxpos,
	      size_t *npos)
{
	size_t np = 0;
	bool only_pos = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!only_pos && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
			cli_print_help(cmd, stdout);
			return 1;
		}
		if (!only_pos && strcmp(a, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (np == maxpos)
				return usage_error(cmd, "unexpected argument '%s'", a);
			pos[np++] = a;
			continue;
		}
		if (a[1] != '-')
			return usage_error(cmd, "unknown option '%s'", a);
		const char *name = a + 2;
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const struct cli_flag *f = find(cmd, name, len);
		if (!f)
			return usage_error(cmd, "unknown option '%s'", a);
		const char *v = NULL;
		if (eq) {
			v = eq + 1; /* a bool flag takes only --flag=true|false this way */
		} else if (f->type != CLI_BOOL) {
			if (i + 1 < argc)
				v = argv[++i];
			else
				return usage_error(cmd, "--%s needs a value", f->name);
		}
		int rc = set_value(cmd, f, v);
		if (rc)
			return rc;
		if (f->seen)
			*f->seen = true;
	}
	if (npos)
		*npos = np;
	return 0;
}

int cli_set_str(char *dst, size_t n, const char *v, const char *what)
{
	if (strlen(v) >= n) {
		fprintf(stderr, "aidc: %s: longer than %zu bytes\n", what, n - 1);
		return CLI_EXIT_USAGE;
	}
	snprintf(dst, n, "%s", v);
	return 0;
}

int cli_daemon_files(const char *who, const char *log_file, const char *pid_file)
{
	struct aidc_err e = {0};
	if (pid_file && aidc_pidfile_write(pid_file, &e) != 0) {
		fprintf(stderr, "aidc %s: --pid-file: %s\n", who, e.msg);
		return CLI_EXIT_FAIL;
	}
	if (log_file && aidc_log_open_file(log_file, &e) != 0) {
		fprintf(stderr, "aidc %s: --log-file: %s\n", who, e.msg);
		aidc_pidfile_remove();
		return CLI_EXIT_FAIL;
	}
	return 0;
}
