/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Directives in batch scripts: "#AIDC" lines (our own flags, e.g. --preemptible)
 * and "#SBATCH" lines (the common Slurm options), read from the comment block at the top of
 * a script (up to the first non-comment line, as sbatch does). Used by
 * `aidc submit`; command-line flags override directives.
 */
#include <strings.h>

#include "api/api.h"
#include "api/sbatch.h"
#include "util/util.h"

int api_parse_time_limit(const char *v, int64_t *out_s)
{
	if (!v)
		return AIDC_E_PARSE;
	if (!strcasecmp(v, "UNLIMITED") || !strcasecmp(v, "INFINITE")) {
		*out_s = 0;
		return 0;
	}
	size_t n = strlen(v);
	if (n > 0 && strspn(v, "0123456789") == n) {
		int64_t min;
		if (aidc_parse_i64(v, 0, AIDC_MAX_DURATION_S / 60, &min))
			return AIDC_E_LIMIT;
		*out_s = min * 60;
		return 0;
	}
	return aidc_parse_duration(v, out_s);
}

/* Options that take no value (the next token is not theirs). */
static bool is_flag_opt(const char *opt)
{
	return !strcmp(opt, "--preemptible");
}

/* Splits "-N 2", "-N2", "--nodes=2", "--nodes 2" into option and value. */
static int split_opt(char *tok, char *next, char shortopt[3], char **opt, char **val,
		     bool *used_next)
{
	*used_next = false;
	*val = NULL;
	if (tok[0] != '-')
		return AIDC_E_PARSE;
	if (tok[1] == '-') {
		char *eq = strchr(tok, '=');
		if (eq) {
			*eq = '\0';
			*val = eq + 1;
		}
		*opt = tok;
	} else {
		shortopt[0] = '-';
		shortopt[1] = tok[1];
		shortopt[2] = '\0';
		*opt = shortopt;
		if (tok[1] && tok[2])
			*val = tok + 2 + (tok[2] == '=');
	}
	if (!*val && next && !is_flag_opt(*opt)) {
		*val = next;
		*used_next = true;
	}
	return 0;
}

static int set_int(const char *opt, const char *v, int64_t lo, int64_t hi, int64_t *dst,
		   struct aidc_err *e)
{
	if (!v || aidc_parse_i64(v, lo, hi, dst))
		return aidc_errf(e, AIDC_E_INVAL, "%s: expected an integer in %" PRId64 "..%" PRId64,
				 opt, lo, hi);
	return 0;
}

static int set_str(const char *opt, const char *v, char *dst, size_t n, struct aidc_err *e)
{
	if (!v || !*v)
		return aidc_errf(e, AIDC_E_INVAL, "%s: needs a value", opt);
	if (strlen(v) >= n)
		return aidc_errf(e, AIDC_E_LIMIT, "%s: value longer than %zu bytes", opt, n - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* --gres=gpu:N or gpu:MODEL:N */
static int parse_gres(const char *v, struct api_sbatch *s, struct aidc_err *e)
{
	if (!v || strncmp(v, "gpu", 3) != 0)
		return aidc_errf(e, AIDC_E_UNSUPPORTED, "--gres: only gpu[:MODEL]:N is supported");
	const char *last = strrchr(v, ':');
	if (!last)
		return s->gpus_per_task = 1, 0;
	if (set_int("--gres", last + 1, 0, AIDC_MAX_DEVICES_PER_NODE, &s->gpus_per_task, e))
		return AIDC_E_INVAL;
	const char *first = strchr(v, ':');
	if (first != last) {
		size_t n = (size_t)(last - first - 1);
		if (n >= sizeof s->gpu_model)
			return aidc_errf(e, AIDC_E_LIMIT, "--gres: model name too long");
		memcpy(s->gpu_model, first + 1, n);
		s->gpu_model[n] = '\0';
	}
	return 0;
}

static int apply(struct api_sbatch *s, const char *opt, const char *v, struct aidc_err *e)
{
	int64_t x;
	if (!strcmp(opt, "-N") || !strcmp(opt, "--nodes"))
		return set_int(opt, v, 1, AIDC_MAX_NODES, &s->nodes, e);
	if (!strcmp(opt, "-n") || !strcmp(opt, "--ntasks"))
		return set_int(opt, v, 1, AIDC_MAX_TASKS_PER_JOB, &s->ntasks, e);
	if (!strcmp(opt, "--ntasks-per-node"))
		return set_int(opt, v, 1, AIDC_MAX_TASKS_PER_NODE, &s->ntasks_per_node, e);
	if (!strcmp(opt, "-c") || !strcmp(opt, "--cpus-per-task"))
		return set_int(opt, v, 1, AIDC_MAX_NODE_CPU_MILLI / 1000, &s->cpus_per_task, e);
	if (!strcmp(opt, "--gpus-per-task"))
		return set_int(opt, v, 0, AIDC_MAX_DEVICES_PER_NODE, &s->gpus_per_task, e);
	if (!strcmp(opt, "-G") || !strcmp(opt, "--gpus")) {
		/* Total GPUs of the job; spread over the tasks when both are known. */
		if (set_int(opt, v, 0, (int64_t)AIDC_MAX_DEVICES_PER_NODE * AIDC_MAX_NODES, &x, e))
			return AIDC_E_INVAL;
		s->gpus_total = x;
		return 0;
	}
	if (!strcmp(opt, "--gres"))
		return parse_gres(v, s, e);
	if (!strcmp(opt, "-t") || !strcmp(opt, "--time")) {
		if (api_parse_time_limit(v, &x))
			return aidc_errf(e, AIDC_E_INVAL,
					 "%s: bad time limit '%.64s' (minutes, M:S, H:M:S, D-H:M:S)",
					 opt, v ? v : "");
		s->time_limit_s = x;
		return 0;
	}
	if (!strcmp(opt, "--mem")) {
		/* Slurm's --mem is per node; we take it as per task (documented). */
		if (!v)
			return aidc_errf(e, AIDC_E_INVAL, "--mem: needs a value");
		char num[32];
		size_t n = strspn(v, "0123456789");
		if (n == 0 || n >= sizeof num)
			return aidc_errf(e, AIDC_E_INVAL, "--mem: bad size '%.32s'", v);
		memcpy(num, v, n);
		num[n] = '\0';
		if (aidc_parse_i64(num, 0, (int64_t)AIDC_MAX_NODE_MEM_MIB, &x))
			return aidc_errf(e, AIDC_E_INVAL, "--mem: too large");
		const char *u = v + n;
		int64_t mul = (!*u || !strcmp(u, "M") || !strcmp(u, "MB")) ? 1
			      : (!strcmp(u, "G") || !strcmp(u, "GB"))	  ? 1024
			      : (!strcmp(u, "T") || !strcmp(u, "TB"))	  ? 1024 * 1024
									  : 0;
		if (!mul || x > (int64_t)AIDC_MAX_NODE_MEM_MIB / mul)
			return aidc_errf(e, AIDC_E_INVAL, "--mem: bad size '%.32s'", v);
		s->mem_mib = x * mul;
		return 0;
	}
	if (!strcmp(opt, "--preemptible")) {
		if (v)
			return aidc_errf(e, AIDC_E_INVAL, "--preemptible takes no value");
		s->preemptible = true;
		return 0;
	}
	if (!strcmp(opt, "-J") || !strcmp(opt, "--job-name"))
		return set_str(opt, v, s->name, sizeof s->name, e);
	if (!strcmp(opt, "-o") || !strcmp(opt, "--output"))
		return set_str(opt, v, s->stdout_path, sizeof s->stdout_path, e);
	if (!strcmp(opt, "-e") || !strcmp(opt, "--error"))
		return set_str(opt, v, s->stderr_path, sizeof s->stderr_path, e);
	if (!strcmp(opt, "-p") || !strcmp(opt, "--partition"))
		return set_str(opt, v, s->partition, sizeof s->partition, e);
	if (!strcmp(opt, "-A") || !strcmp(opt, "--account"))
		return set_str(opt, v, s->account, sizeof s->account, e);
	if (!strcmp(opt, "-q") || !strcmp(opt, "--qos"))
		return set_str(opt, v, s->qos, sizeof s->qos, e);
	s->nignored++;
	return 0;
}

/* Splits a directive's text into tokens in place, as a shell would for the
 * simple cases sbatch users write: blanks separate, "..." and '...' quote
 * (the quotes are removed: -J "a b" is one token), an unquoted '#' starting
 * a token begins a comment. Returns the count, or -1 on an unclosed quote. */
static int tokenize(char *s, char **toks, size_t max)
{
	size_t nt = 0;
	char *r = s, *w = s;
	for (;;) {
		while (*r == ' ' || *r == '\t' || *r == '\r')
			r++;
		if (!*r || *r == '#' || nt == max)
			break;
		toks[nt++] = w;
		char q = 0;
		while (*r && (q || (*r != ' ' && *r != '\t' && *r != '\r'))) {
			if (q ? *r == q : (*r == '"' || *r == '\'')) {
				q = q ? 0 : *r;
				r++;
				continue;
			}
			*w++ = *r++;
		}
		if (q)
			return -1;
		if (*r)
			r++;
		*w++ = '\0'; /* w <= r - 1 here, or at the end: never past what was read */
	}
	return (int)nt;
}

int api_script_check_text(const char *script, struct aidc_err *e)
{
	const char *cr = script ? strstr(script, "\r\n") : NULL;
	if (cr) {
		size_t line = 1;
		for (const char *p = script; p < cr; p++)
			line += *p == '\n';
		return aidc_errf(e, AIDC_E_INVAL,
				 "batch script contains DOS line breaks (\\r\\n) instead of expected "
				 "UNIX line breaks (\\n) (first at line %zu; convert it with dos2unix)",
				 line);
	}
	return 0;
}

int api_sbatch_parse(const char *script, struct api_sbatch *s, struct aidc_err *e)
{
	memset(s, 0, sizeof *s);
	size_t lineno = 0;
	const char *p = script;
	if (strlen(script) > AIDC_MAX_SCRIPT_BYTES)
		return aidc_errf(e, AIDC_E_LIMIT, "script larger than %u bytes",
				 AIDC_MAX_SCRIPT_BYTES);
	int crc = api_script_check_text(script, e);
	if (crc)
		return crc;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		lineno++;
		char line[1024];
		if (len >= sizeof line)
			return aidc_errf(e, AIDC_E_LIMIT, "script line %zu: longer than %zu bytes",
					 lineno, sizeof line - 1);
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (nl ? 1 : 0);
		char *l = line;
		while (*l == ' ' || *l == '\t')
			l++;
		if (lineno == 1 && l[0] == '#' && l[1] == '!')
			continue;
		if (*l == '\0')
			continue;
		if (*l != '#')
			break; /* directives end at the first command */
		const char *tag = NULL;
		if (!strncmp(l, "#SBATCH", 7))
			tag = "#SBATCH";
		else if (!strncmp(l, "#AIDC", 5))
			tag = "#AIDC";
		if (!tag)
			continue;
		char *rest = l + strlen(tag);
		if (*rest && *rest != ' ' && *rest != '\t')
			continue;
		/* Tokens up to a '#' comment; quotes group. */
		char *toks[32];
		int ntok = tokenize(rest, toks, AIDC_ARRAY_LEN(toks));
		if (ntok < 0)
			return aidc_errf(e, AIDC_E_PARSE, "script line %zu: unclosed quote", lineno);
		size_t nt = (size_t)ntok;
		for (size_t i = 0; i < nt; i++) {
			char *opt, *val, shortopt[3];
			bool used;
			struct aidc_err le = {0};
			if (split_opt(toks[i], i + 1 < nt ? toks[i + 1] : NULL, shortopt, &opt, &val,
				      &used))
				return aidc_errf(e, AIDC_E_PARSE, "script line %zu: '%s' is not an option",
						 lineno, toks[i]);
			int rc = apply(s, opt, val, &le);
			if (rc)
				return aidc_errf(e, rc, "script line %zu: %s", lineno, le.msg);
			if (used)
				i++;
		}
	}
	return 0;
}
