/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared parts of squeue, scancel, sinfo and sacct under aidc (cli_slurm.h):
 * they take Slurm's short options and filters, so a user's habits and
 * scripts carry over, and they read the same job listing the controller
 * gives `aidc jobs`.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_live.h"
#include "cli/cli_slurm.h"
#include "util/clock.h"
#include "util/hostlist.h"
#include "util/slurmfmt.h"
#include "util/arrayset.h"
#include "util/util.h"

static const struct cli_slurm_short *find_short(const struct cli_slurm_short *map, size_t n,
						char c)
{
	for (size_t i = 0; i < n; i++)
		if (map[i].c == c)
			return &map[i];
	return NULL;
}

/* Whether every letter of a group ("-hl") is a boolean short option. */
static bool all_bools(const struct cli_slurm_short *map, size_t nmap, const char *g)
{
	for (; *g; g++) {
		const struct cli_slurm_short *s = find_short(map, nmap, *g);
		if (!s || s->value)
			return false;
	}
	return true;
}

void cli_slurm_args(const struct cli_slurm_short *map, size_t nmap, int argc, char **argv,
		    char ***out, int *outc)
{
	size_t cap = 2;
	for (int i = 0; i < argc; i++)
		cap += strlen(argv[i]) + 1;
	char **v = aidc_calloc(cap, sizeof *v);
	int n = 0;
	bool rest = false;
	for (int i = 0; i < argc; i++) {
		char *a = argv[i];
		const struct cli_slurm_short *s =
		    i && !rest && a[0] == '-' && a[1] && a[1] != '-' ? find_short(map, nmap, a[1])
								      : NULL;
		rest |= i && strcmp(a, "--") == 0;
		if (!s) {
			v[n++] = a;
		} else if (s->value) {
			v[n++] = (char *)s->name;
			if (a[2])
				v[n++] = a + 2;
		} else if (a[2] && !all_bools(map, nmap, a + 2)) {
			v[n++] = a; /* "-hx": cli_parse names it */
		} else {
			for (const char *g = a + 1; *g; g++)
				v[n++] = (char *)find_short(map, nmap, *g)->name;
		}
	}
	v[n] = NULL;
	*out = v;
	*outc = n;
}

struct cli_flag *cli_slurm_flags(const struct cli_flag *base, size_t nb,
				 const struct cli_slurm_refused *ref, struct cli_slurm_refusal *st,
				 size_t nr, size_t *n)
{
	struct cli_flag *f = aidc_calloc(nb + nr, sizeof *f);
	memcpy(f, base, nb * sizeof *f);
	for (size_t i = 0; i < nr; i++) {
		if (ref[i].shortopt)
			snprintf(st[i].help, sizeof st[i].help, "(-%c) refused: %s",
				 ref[i].shortopt, ref[i].why);
		else
			snprintf(st[i].help, sizeof st[i].help, "refused: %s", ref[i].why);
		f[nb + i] = (struct cli_flag){
		    .name = ref[i].name,
		    .type = ref[i].metavar ? CLI_STR : CLI_BOOL,
		    .dst = ref[i].metavar ? (void *)&st[i].val : (void *)&st[i].given,
		    .metavar = ref[i].metavar,
		    .help = st[i].help,
		    .seen = &st[i].given};
	}
	*n = nb + nr;
	return f;
}

int cli_slurm_refuse(const char *cmd, const struct cli_slurm_refused *ref,
		     const struct cli_slurm_refusal *st, size_t nr, const char *tail)
{
	for (size_t i = 0; i < nr; i++)
		if (st[i].given) {
			fprintf(stderr, "aidc %s: --%s is not supported here: %s%s\n", cmd,
				ref[i].name, ref[i].why, tail);
			return CLI_EXIT_USAGE;
		}
	return 0;
}

bool cli_slurm_in_list(const char *list, const char *s)
{
	if (!list || !s)
		return false;
	size_t sl = strlen(s);
	for (const char *p = list;;) {
		size_t len = strcspn(p, ",");
		if (len == sl && strncmp(p, s, len) == 0)
			return true;
		if (!p[len])
			return false;
		p += len + 1;
	}
}

int cli_slurm_filter_nodes(const char *cmd, const char *hostlist, struct cli_slurm_filter *f)
{
	struct aidc_err e;
	aidc_err_clear(&e);
	int rc = aidc_hostlist_expand(hostlist, AIDC_MAX_NODES, &f->nodes, &f->nnodes, &e);
	if (rc) {
		fprintf(stderr, "aidc %s: --nodelist: %s\n", cmd, aidc_err_text(&e, rc));
		return CLI_EXIT_USAGE;
	}
	return 0;
}

void cli_slurm_filter_release(struct cli_slurm_filter *f)
{
	if (f->nodes)
		aidc_hostlist_free(f->nodes, f->nnodes);
	f->nodes = NULL;
	f->nnodes = 0;
}

int cli_slurm_job_state(json_t *job)
{
	return aidc_slurm_state_of(json_string_value(json_object_get(job, "state")));
}

const char *cli_slurm_str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

long long cli_slurm_int(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

const char *cli_slurm_job_ref(json_t *j, char *buf, size_t n)
{
	json_t *task = json_object_get(j, "array_task_id");
	json_t *pend = json_object_get(j, "array_pending");
	bool pending = !strcmp(cli_slurm_str(j, "state"), "pending");
	if (task)
		aidc_array_ref(buf, n, (uint64_t)cli_slurm_int(j, "array_job_id"),
			       cli_slurm_int(j, "array_task_id"), NULL, 0);
	else
		aidc_array_ref(buf, n, (uint64_t)cli_slurm_int(j, "id"), -1,
			       pend && pending ? json_string_value(pend) : NULL,
			       cli_slurm_int(j, "array_limit"));
	return buf;
}

bool cli_slurm_array_drained(json_t *j)
{
	const char *p = json_string_value(json_object_get(j, "array_pending"));
	return p && !*p && !strcmp(cli_slurm_str(j, "state"), "pending");
}

int cli_slurm_job_ids(const char *cmd, const char *ids, const char *hint, long long *v,
		      size_t *n)
{
	*n = 0;
	for (const char *p = ids;;) {
		size_t len = strcspn(p, ",");
		char one[32];
		snprintf(one, sizeof one, "%.*s", (int)(len < 31 ? len : 31), p);
		int64_t id;
		if (len == 0 || len > 20 || aidc_parse_i64(one, 1, INT64_MAX, &id) != 0 ||
		    *n == CLI_MAX_JOB_ARGS) {
			fprintf(stderr, "aidc %s: -j/--jobs: '%.*s' is not a job id (%s; at most %d)\n",
				cmd, (int)(len > 32 ? 32 : len), p, hint, CLI_MAX_JOB_ARGS);
			return CLI_EXIT_USAGE;
		}
		v[(*n)++] = id;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

const char *cli_slurm_when(long long t, const char *none, struct aidc_buf *b)
{
	if (t <= 0)
		return none;
	time_t tt = (time_t)t;
	struct tm tm;
	char s[32];
	localtime_r(&tt, &tm);
	strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
	aidc_buf_puts(b, s);
	return aidc_buf_str(b);
}

const char *cli_slurm_nodelist(json_t *job, const char *none, struct aidc_buf *b)
{
	json_t *nodes = json_object_get(job, "nodes");
	size_t n = json_array_size(nodes);
	if (!n && none)
		return none;
	char **v = aidc_calloc(n ? n : 1, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(nodes, i));
		v[i] = (char *)(s ? s : "?");
	}
	aidc_hostlist_compress(v, n, b);
	aidc_free(v);
	return aidc_buf_str(b);
}

long long cli_slurm_run_s(json_t *job)
{
	long long st = cli_slurm_int(job, "start_s"), end = cli_slurm_int(job, "end_s");
	if (st <= 0)
		return 0;
	long long to = end > 0 ? end : (long long)aidc_wall_s();
	return to > st ? to - st : 0;
}

long long cli_slurm_node_count(json_t *job)
{
	size_t n = json_array_size(json_object_get(job, "nodes"));
	if (n)
		return (long long)n;
	return cli_slurm_int(job, "nodes_min") > 0 ? cli_slurm_int(job, "nodes_min") : 1;
}

long long cli_slurm_gpu_milli(json_t *job)
{
	long long share = cli_slurm_int(job, "gpu_milli");
	return cli_slurm_int(job, "gpus_per_task") * cli_slurm_int(job, "ntasks") *
	       (share > 0 ? share : AIDC_DEVICE_MILLI);
}

void cli_slurm_put_gpus(struct aidc_buf *b, long long milli)
{
	long long whole = milli / AIDC_DEVICE_MILLI, frac = milli % AIDC_DEVICE_MILLI;
	if (!frac) {
		aidc_buf_printf(b, "%lld", whole);
		return;
	}
	int digits = frac % 100 == 0 ? 1 : frac % 10 == 0 ? 2 : 3;
	long long scaled = digits == 1 ? frac / 100 : digits == 2 ? frac / 10 : frac;
	aidc_buf_printf(b, "%lld.%0*lld", whole, digits, scaled);
}

const char *cli_slurm_one_user(const char *users)
{
	return users && !strchr(users, ',') && strspn(users, "0123456789") != strlen(users)
		   ? users
		   : NULL;
}

void cli_slurm_print_json(const char *key, json_t **v, size_t n)
{
	json_t *r = json_object(), *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append(arr, v[i]);
	json_object_set_new(r, key, arr);
	char *s = json_dumps(r, JSON_COMPACT);
	printf("%s\n", s ? s : "{}");
	free(s);
	json_decref(r);
}

static bool on_nodes(const struct cli_slurm_filter *f, json_t *job)
{
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(job, "nodes"), i, it) {
		const char *name = json_string_value(it);
		for (size_t k = 0; name && k < f->nnodes; k++)
			if (strcmp(f->nodes[k], name) == 0)
				return true;
	}
	return false;
}

bool cli_slurm_match(const struct cli_slurm_filter *f, json_t *job)
{
	int st = cli_slurm_job_state(job);
	if (st < 0 || !(f->states & (1u << st)))
		return false;
	char uid[24];
	snprintf(uid, sizeof uid, "%lld", (long long)json_integer_value(json_object_get(job, "uid")));
	if (f->users && *f->users && !cli_slurm_in_list(f->users, cli_slurm_str(job, "user")) &&
	    !cli_slurm_in_list(f->users, uid))
		return false;
	if (f->names && *f->names && !cli_slurm_in_list(f->names, cli_slurm_str(job, "name")))
		return false;
	if (f->partitions && *f->partitions &&
	    !cli_slurm_in_list(f->partitions, cli_slurm_str(job, "partition")))
		return false;
	if (f->accounts && *f->accounts &&
	    !cli_slurm_in_list(f->accounts, cli_slurm_str(job, "account")))
		return false;
	if (f->qos && *f->qos && !cli_slurm_in_list(f->qos, cli_slurm_str(job, "qos")))
		return false;
	return !f->nodes || on_nodes(f, job);
}

/* The reply of c parsed, strings made printable; NULL after a line on stderr. */
static json_t *parse(const char *cmd, struct api_call *c)
{
	json_error_t je;
	json_t *r = json_loadb(aidc_buf_str(&c->reply), c->reply.len, 0, &je);
	aidc_buf_release(&c->reply);
	if (!r)
		fprintf(stderr, "aidc %s: malformed reply from the controller\n", cmd);
	else
		cli_json_printable(r);
	return r;
}

/* Every page of one query (path so far, of cap bytes), jobs appended to out. */
static int list_pages(const char *cmd, const char *sp, char *path, size_t cap, json_t *out)
{
	size_t base = strlen(path);
	long long before = 0;
	for (;;) {
		snprintf(path + base, cap - base, "%slimit=10000", strchr(path, '?') ? "&" : "?");
		if (before)
			snprintf(path + strlen(path), cap - strlen(path), "&before=%lld", before);
		struct api_call c;
		int rc = cli_call(cmd, sp, "GET", path, NULL, 0, &c);
		if (rc)
			return rc;
		json_t *r = parse(cmd, &c);
		if (!r)
			return CLI_EXIT_FAIL;
		json_array_extend(out, json_object_get(r, "jobs"));
		bool more = json_is_true(json_object_get(r, "more"));
		before = (long long)json_integer_value(json_object_get(r, "next_before"));
		json_decref(r);
		if (!more || before <= 0)
			return 0;
	}
}

int cli_slurm_list_jobs(const char *cmd, const char *sp, uint32_t mask, const char *user,
			json_t *out)
{
	static const char *const aidc_states[] = {"pending",   "running", "stopping",
						  "completed", "failed",  "cancelled",
						  "timeout",   "node_fail", "requeue"};
	char uq[AIDC_MAX_NAME_BYTES + 8] = "";
	if (user && *user && !strpbrk(user, ",&?#/ ") && strlen(user) < AIDC_MAX_NAME_BYTES)
		snprintf(uq, sizeof uq, "user=%s", user);
	size_t want = 0;
	for (size_t i = 0; i < AIDC_ARRAY_LEN(aidc_states); i++)
		want += (mask & (1u << aidc_slurm_state_of(aidc_states[i]))) != 0;
	char path[512];
	if (want == AIDC_ARRAY_LEN(aidc_states)) { /* every state: one listing */
		snprintf(path, sizeof path, "/v1/jobs%s%s", *uq ? "?" : "", uq);
		return list_pages(cmd, sp, path, sizeof path, out);
	}
	for (size_t i = 0; i < AIDC_ARRAY_LEN(aidc_states); i++) {
		if (!(mask & (1u << aidc_slurm_state_of(aidc_states[i]))))
			continue;
		snprintf(path, sizeof path, "/v1/jobs?state=%s%s%s", aidc_states[i], *uq ? "&" : "",
			 uq);
		int rc = list_pages(cmd, sp, path, sizeof path, out);
		if (rc)
			return rc;
	}
	return 0;
}

/* One GET /v1/steps[?job=q] appended to out. */
static int steps_page(const char *cmd, const char *sp, const char *q, json_t *out)
{
	char path[8192];
	snprintf(path, sizeof path, "/v1/steps%s%s", q ? "?job=" : "", q ? q : "");
	struct api_call c;
	int rc = cli_call(cmd, sp, "GET", path, NULL, 0, &c);
	if (rc)
		return rc;
	json_t *r = parse(cmd, &c);
	if (!r)
		return CLI_EXIT_FAIL;
	json_array_extend(out, json_object_get(r, "steps"));
	json_decref(r);
	return 0;
}

int cli_slurm_list_steps(const char *cmd, const char *sp, const char *ids, json_t *out)
{
	if (!ids)
		return steps_page(cmd, sp, NULL, out);
	char q[8192];
	size_t n = 0, k = 0;
	for (const char *p = ids;;) {
		size_t len = strcspn(p, ",");
		if (len && len < 48) {
			k += (size_t)snprintf(q + k, sizeof q - k, "%s%.*s", n ? "," : "", (int)len, p);
			n++;
		}
		bool last = !p[len];
		if (n && (n == 64 || last)) {
			int rc = steps_page(cmd, sp, q, out);
			if (rc)
				return rc;
			n = k = 0;
		}
		if (last)
			return 0;
		p += len + 1;
	}
}

int cli_slurm_get_job(const char *cmd, const char *sp, long long id, json_t **job, char *why,
		      size_t n)
{
	char ref[24];
	snprintf(ref, sizeof ref, "%lld", id);
	return cli_slurm_get_ref(cmd, sp, ref, job, why, n);
}

int cli_slurm_get_ref(const char *cmd, const char *sp, const char *ref, json_t **job, char *why,
		      size_t n)
{
	char path[64];
	snprintf(path, sizeof path, "/v1/jobs/%.40s", ref);
	struct api_call c = {0};
	int rc = cli_call_retry(cmd, sp, "GET", path, NULL, 0, &c,
				cli_call_wait_flag(sp) | CLI_CALL_IDEMPOTENT | CLI_CALL_QUIET);
	if (rc && c.status >= 400) {
		struct aidc_err e = {0};
		api_client_error(&c, &e);
		snprintf(why, n, "%s", e.msg);
		aidc_buf_release(&c.reply);
		return 1;
	}
	if (rc)
		return rc;
	*job = parse(cmd, &c);
	return *job ? 0 : CLI_EXIT_FAIL;
}

const char *cli_slurm_me(void)
{
	struct passwd *pw = getpwuid(getuid());
	return pw && pw->pw_name ? pw->pw_name : "";
}
