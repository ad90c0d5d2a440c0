/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc account add|list|show|modify|delete`, `aidc user add|list|modify|delete`
 * and `aidc qos add|list|modify|delete`: accounts (organizations and their
 * projects), user associations and QoS levels of the live center
 * (docs/tenancy.md). Each command is one call to the controller, which
 * decides who may do what; flags map one to one onto the JSON fields of the
 * API (a list flag takes comma-separated names). Human tables by default,
 * the controller's JSON with --json.
 */
#include <jansson.h>

#include "api/sbatch.h"
#include "cli/cli.h"
#include "cli/cli_live.h"
#include "util/util.h"

/* One field flag: --FLAG VALUE -> "key": value. */
enum tf_type { TF_STR, TF_LIST, TF_I64, TF_TIME };
struct tf {
	const char *flag, *key;
	enum tf_type t;
	const char *metavar, *help;
	int64_t min, max;
	unsigned on; /* bit 0: add, bit 1: modify */
};
enum { ON_ADD = 1, ON_MOD = 2, ON_BOTH = 3 };

#define LIM ((int64_t)AIDC_MAX_TENANCY_LIMIT)
static const struct tf account_tf[] = {
	{"parent", "parent", TF_STR, "ORG", "the organization this project belongs to", 0, 0,
	 ON_ADD},
	{"description", "description", TF_STR, "TEXT", "free text", 0, 0, ON_BOTH},
	{"coordinators", "coordinators", TF_LIST, "U1,U2",
	 "users who manage this account's (or organization's) users and limits", 0, 0, ON_BOTH},
	{"qos", "qos", TF_LIST, "Q1,Q2", "QoS its users may choose", 0, 0, ON_BOTH},
	{"default-qos", "default_qos", TF_STR, "QOS", "QoS of jobs that name none", 0, 0, ON_BOTH},
	{"max-running-jobs", "max_running_jobs", TF_I64, "N",
	 "running jobs of the whole account (-1 none)", -1, LIM, ON_BOTH},
	{"max-submit-jobs", "max_submit_jobs", TF_I64, "N",
	 "jobs not yet ended of the whole account (-1 none)", -1, LIM, ON_BOTH},
	{"max-devices", "max_devices", TF_I64, "N",
	 "devices held by the account's running jobs (-1 none)", -1, LIM, ON_BOTH},
	{"max-running-jobs-per-user", "max_running_jobs_per_user", TF_I64, "N",
	 "running jobs of each user in the account (-1 none)", -1, LIM, ON_BOTH},
	{"max-submit-jobs-per-user", "max_submit_jobs_per_user", TF_I64, "N",
	 "jobs not yet ended of each user in the account (-1 none)", -1, LIM, ON_BOTH},
	{"max-devices-per-user", "max_devices_per_user", TF_I64, "N",
	 "devices held by each user's running jobs in the account (-1 none)", -1, LIM, ON_BOTH},
	{"quota-devices", "quota_devices", TF_I64, "N",
	 "a project's guaranteed devices, lent to its organization's other projects while "
	 "unused and reclaimed by preemption; an organization's: a cap on its projects "
	 "together (-1 none)",
	 -1, LIM, ON_BOTH},
	{"borrow-limit", "borrow_limit", TF_I64, "N",
	 "devices it may borrow beyond its quota (-1 what the organization has)", -1, LIM,
	 ON_BOTH},
	{"lend-limit", "lend_limit", TF_I64, "N",
	 "devices of its unused quota others may borrow (-1 all)", -1, LIM, ON_BOTH},
	{"quota-cpus", "quota_cpus", TF_I64, "N",
	 "as --quota-devices, of CPU cores (an organization's: a cap on its projects "
	 "together; -1 none)",
	 -1, LIM, ON_BOTH},
	{"borrow-limit-cpus", "borrow_limit_cpus", TF_I64, "N",
	 "cores it may borrow beyond its quota (-1 what the organization has)", -1, LIM, ON_BOTH},
	{"lend-limit-cpus", "lend_limit_cpus", TF_I64, "N",
	 "cores of its unused quota others may borrow (-1 all)", -1, LIM, ON_BOTH},
	{"quota-mem-gib", "quota_mem_gib", TF_I64, "GIB",
	 "as --quota-devices, of memory in GiB (an organization's: a cap; -1 none)", -1, LIM,
	 ON_BOTH},
	{"borrow-limit-mem-gib", "borrow_limit_mem_gib", TF_I64, "GIB",
	 "GiB it may borrow beyond its quota (-1 what the organization has)", -1, LIM, ON_BOTH},
	{"lend-limit-mem-gib", "lend_limit_mem_gib", TF_I64, "GIB",
	 "GiB of its unused quota others may borrow (-1 all)", -1, LIM, ON_BOTH},
	{"shares", "shares", TF_I64, "N",
	 "fair share among its sibling accounts (default 1; order = multifactor)", 1, LIM,
	 ON_BOTH},
	{"quota", "quota_models", TF_LIST, "gpu:MODEL=N,...",
	 "quotas per device model (a model of the registered nodes, any case): as "
	 "--quota-devices, of that model only; replaces every entry (\"\" none)",
	 0, 0, ON_BOTH},
	{"borrow-limit-model", "borrow_limit_models", TF_LIST, "gpu:MODEL=N,...",
	 "devices of a model it may borrow beyond its --quota entry (unlisted: what the "
	 "organization has)",
	 0, 0, ON_BOTH},
	{"lend-limit-model", "lend_limit_models", TF_LIST, "gpu:MODEL=N,...",
	 "devices of its unused quota of a model others may borrow (unlisted: all)", 0, 0,
	 ON_BOTH},
};

static const struct tf user_tf[] = {
	{"account", "accounts", TF_LIST, "A1,A2", "the accounts the user may charge (all of them)",
	 0, 0, ON_BOTH},
	{"add-account", "add_accounts", TF_LIST, "A1,A2", "associate with these accounts too", 0,
	 0, ON_MOD},
	{"remove-account", "remove_accounts", TF_LIST, "A1,A2",
	 "end these associations (no live jobs in them)", 0, 0, ON_MOD},
	{"default-account", "default_account", TF_STR, "A",
	 "account of jobs without -A (default: the first)", 0, 0, ON_BOTH},
	{"shares", "shares", TF_I64, "N",
	 "fair share among the users of each of its accounts (default 1; order = multifactor; "
	 "admins)",
	 1, LIM, ON_BOTH},
	{"account-shares", "account_shares", TF_LIST, "A1=N,A2=M",
	 "its shares in these accounts instead of --shares (all such entries; admins)", 0, 0,
	 ON_BOTH},
};

static const struct tf qos_tf[] = {
	{"description", "description", TF_STR, "TEXT", "free text", 0, 0, ON_BOTH},
	{"priority", "priority", TF_I64, "N", "added to each job's own priority",
	 AIDC_MIN_PRIORITY, AIDC_MAX_PRIORITY, ON_BOTH},
	{"preempt", "preempt", TF_LIST, "Q1,Q2",
	 "QoS whose preemptible jobs this QoS's jobs may preempt", 0, 0, ON_BOTH},
	{"max-wall", "max_wall_s", TF_TIME, "DURATION",
	 "longest time limit, as --time (0 none); jobs without one get it", 0, 0, ON_BOTH},
	{"max-submit-jobs-per-user", "max_submit_jobs_per_user", TF_I64, "N",
	 "jobs not yet ended of each user in this QoS (-1 none)", -1, LIM, ON_BOTH},
};

struct tkind {
	const char *noun;  /* "account" */
	const char *route; /* "/v1/accounts" */
	const struct tf *tf;
	size_t ntf;
};
static const struct tkind K_ACCOUNT = {"account", "/v1/accounts", account_tf,
				       AIDC_ARRAY_LEN(account_tf)};
static const struct tkind K_USER = {"user", "/v1/users", user_tf, AIDC_ARRAY_LEN(user_tf)};
static const struct tkind K_QOS = {"qos", "/v1/qos", qos_tf, AIDC_ARRAY_LEN(qos_tf)};

#define MAX_TF 28

/* "a,b,c" -> ["a","b","c"] (empty words refused). */
static json_t *list_json(const char *s)
{
	json_t *a = json_array();
	char buf[4096];
	if (strlen(s) >= sizeof buf) {
		json_decref(a);
		return NULL;
	}
	snprintf(buf, sizeof buf, "%s", s);
	if (!*buf)
		return a; /* "" = the empty list */
	char *save = NULL;
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save))
		json_array_append_new(a, json_string(w));
	return a;
}

/* Prints the controller's reply as JSON or through show. */
static int finish_call(const char *what, struct api_call *c, bool json, void (*show)(json_t *))
{
	int rc = CLI_EXIT_OK;
	if (json || !show) {
		printf("%s\n", aidc_buf_str(&c->reply));
	} else {
		json_error_t je;
		json_t *r = json_loadb(aidc_buf_str(&c->reply), c->reply.len, 0, &je);
		if (!r) {
			fprintf(stderr, "aidc %s: the controller's reply is not JSON\n", what);
			rc = CLI_EXIT_FAIL;
		} else {
			cli_json_printable(r); /* descriptions are free text: escaped */
			show(r);
		}
		json_decref(r);
	}
	aidc_buf_release(&c->reply);
	return rc;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s && *s ? s : "-";
}

static void jlist(json_t *o, const char *k, char *buf, size_t n)
{
	size_t l = 0;
	size_t i;
	json_t *x;
	buf[0] = '\0';
	json_array_foreach(json_object_get(o, k), i, x)
		if (l < n)
			l += (size_t)snprintf(buf + l, n - l, "%s%s", i ? "," : "",
					      json_string_value(x));
	if (!buf[0])
		snprintf(buf, n, "-");
}

static void jlim(json_t *o, const char *k, char *buf, size_t n)
{
	long long v = (long long)json_integer_value(json_object_get(o, k));
	if (v < 0)
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%lld", v);
}

/* Every member as "key: value" lines (show). */
static void show_obj(json_t *o)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		if (!strcmp(k, "v"))
			continue;
		char buf[2048];
		if (json_is_array(v))
			jlist(o, k, buf, sizeof buf);
		else if (json_is_integer(v))
			snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
		else if (json_is_boolean(v))
			snprintf(buf, sizeof buf, "%s", json_is_true(v) ? "true" : "false");
		else
			snprintf(buf, sizeof buf, "%s", jstr(o, k));
		printf("%-26s %s\n", k, buf);
	}
}

/* "N" or "-", then its per-model entries: "8 gpu:A100=4,gpu:T4=2". */
static void jquota(json_t *a, char *buf, size_t n)
{
	char all[24], models[512];
	jlim(a, "quota_devices", all, sizeof all);
	jlist(a, "quota_models", models, sizeof models);
	if (strcmp(models, "-") == 0)
		snprintf(buf, n, "%s", all);
	else
		snprintf(buf, n, "%s %s", all, models);
}

static void show_accounts(json_t *r)
{
	if (!json_is_true(json_object_get(r, "enabled")))
		printf("(no accounts: tenancy is off; docs/tenancy.md)\n");
	printf("%-16s %-14s %-12s %-20s %7s %7s %7s %s\n", "NAME", "ORG", "DEFAULT_QOS", "QOS",
	       "MAXRUN", "MAXSUB", "MAXDEV", "QUOTA");
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(r, "accounts"), i, a)
	{
		char q[256], mr[24], ms[24], md[24], quota[560];
		jlist(a, "qos", q, sizeof q);
		jlim(a, "max_running_jobs", mr, sizeof mr);
		jlim(a, "max_submit_jobs", ms, sizeof ms);
		jlim(a, "max_devices", md, sizeof md);
		jquota(a, quota, sizeof quota);
		printf("%-16.16s %-14.14s %-12.12s %-20.20s %7s %7s %7s %s\n", jstr(a, "name"),
		       jstr(a, "parent"), jstr(a, "default_qos"), q, mr, ms, md, quota);
	}
}

static void show_users(json_t *r)
{
	printf("%-16s %-16s %s\n", "USER", "DEFAULT", "ACCOUNTS");
	size_t i;
	json_t *u;
	json_array_foreach(json_object_get(r, "users"), i, u)
	{
		char a[1024];
		jlist(u, "accounts", a, sizeof a);
		printf("%-16.16s %-16.16s %s\n", jstr(u, "name"), jstr(u, "default_account"), a);
	}
}

static void show_qos(json_t *r)
{
	printf("%-16s %9s %10s %-24s %s\n", "QOS", "PRIORITY", "MAX_WALL_S", "PREEMPT",
	       "DESCRIPTION");
	size_t i;
	json_t *q;
	json_array_foreach(json_object_get(r, "qos"), i, q)
	{
		char p[256];
		jlist(q, "preempt", p, sizeof p);
		printf("%-16.16s %9lld %10lld %-24.24s %s\n", jstr(q, "name"),
		       (long long)json_integer_value(json_object_get(q, "priority")),
		       (long long)json_integer_value(json_object_get(q, "max_wall_s")), p,
		       json_string_value(json_object_get(q, "description")));
	}
}

/* The JSON body of add/modify from the flags given; NULL after one line on
 * stderr for a bad value or (modify) nothing to change. */
static json_t *make_body(const struct tkind *k, bool add, const char *obj, const char *name,
			 const bool *seen, const char *const *sval, const int64_t *ival)
{
	json_t *body = json_object();
	if (add)
		json_object_set_new(body, "name", json_string(obj));
	size_t given = 0;
	for (size_t i = 0; i < k->ntf; i++) {
		const struct tf *t = &k->tf[i];
		if (!seen[i])
			continue;
		given++;
		json_t *v = NULL;
		int64_t secs;
		switch (t->t) {
		case TF_STR:
			v = json_string(sval[i]);
			break;
		case TF_LIST:
			v = list_json(sval[i]);
			break;
		case TF_I64:
			v = json_integer(ival[i]);
			break;
		case TF_TIME:
			if (api_parse_time_limit(sval[i], &secs) == 0)
				v = json_integer(secs);
			break;
		}
		if (!v) {
			fprintf(stderr, "aidc %s: --%s: bad value '%s'\n", name, t->flag, sval[i]);
			json_decref(body);
			return NULL;
		}
		json_object_set_new(body, t->key, v);
	}
	if (!add && !given) {
		fprintf(stderr, "aidc %s: nothing to change (see --help)\n", name);
		json_decref(body);
		return NULL;
	}
	return body;
}

/* add / modify: NAME and field flags -> one POST. */
static int add_or_modify(const struct tkind *k, bool add, int argc, char **argv)
{
	const char *sock = NULL;
	bool json = false;
	const char *sval[MAX_TF] = {0};
	int64_t ival[MAX_TF];
	bool seen[MAX_TF] = {0};
	struct cli_flag flags[MAX_TF + 4];
	size_t nf = 0;
	for (size_t i = 0; i < k->ntf; i++) {
		const struct tf *t = &k->tf[i];
		if (!(t->on & (add ? ON_ADD : ON_MOD)))
			continue;
		flags[nf++] = (struct cli_flag){
			t->flag, t->t == TF_I64 ? CLI_I64 : CLI_STR,
			t->t == TF_I64 ? (void *)&ival[i] : (void *)&sval[i],
			t->metavar, t->help, (double)t->min, (double)t->max, NULL, &seen[i]};
	}
	flags[nf++] = (struct cli_flag){"json", CLI_BOOL, &json, NULL, "print the controller's JSON",
					0, 0, NULL, NULL};
	const struct cli_flag conn[] = {CLI_CONN_FLAGS(sock)};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(conn); i++)
		flags[nf++] = conn[i];
	char name[64], usage[128], summary[256];
	snprintf(name, sizeof name, "%s %s", k->noun, add ? "add" : "modify");
	snprintf(usage, sizeof usage, "aidc %s %s NAME [options]", k->noun, add ? "add" : "modify");
	snprintf(summary, sizeof summary,
		 add ? "Add a%s %s (docs/tenancy.md). Limits are -1 (none) unless given."
		     : "Change the given fields of a%s %s; the others stay as they are.",
		 k == &K_ACCOUNT ? "n" : "", k == &K_QOS ? "QoS" : k->noun);
	const struct cli_cmd cmd = {name, usage, summary, flags, nf};
	const char *pos[1];
	int rc;
	if (!cli_parse_exact(&cmd, argc, argv, pos, 1, &rc, "give the %s's name", k->noun))
		return rc;
	json_t *body = make_body(k, add, pos[0], name, seen, sval, ival);
	if (!body)
		return CLI_EXIT_USAGE;
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (!text) {
		fprintf(stderr, "aidc %s: a value is not UTF-8\n", name);
		return CLI_EXIT_USAGE;
	}
	char sp[AIDC_MAX_PATH_BYTES], path[256];
	cli_socket_path(sock, sp, sizeof sp);
	if (add)
		snprintf(path, sizeof path, "%s", k->route);
	else
		snprintf(path, sizeof path, "%s/%.64s", k->route, pos[0]);
	struct api_call c;
	rc = cli_call(name, sp, "POST", path, text, strlen(text), &c);
	free(text);
	if (rc)
		return rc;
	return finish_call(name, &c, json, show_obj);
}

/* list / show / delete: one call without a body. */
static int simple(const struct tkind *k, const char *verb, int argc, char **argv)
{
	const char *sock = NULL;
	bool json = false;
	bool list = !strcmp(verb, "list"), del = !strcmp(verb, "delete");
	const struct cli_flag flags[] = {
		CLI_LIVE_FLAGS(json, sock),
	};
	char name[64], usage[128], summary[256];
	snprintf(name, sizeof name, "%s %s", k->noun, verb);
	snprintf(usage, sizeof usage, "aidc %s %s%s [--json]", k->noun, verb, list ? "" : " NAME");
	snprintf(summary, sizeof summary, "%s",
		 list ? "List what you may see (admins: everything; docs/tenancy.md)."
		 : del ? "Delete it; refused while anything still uses it (live jobs, users, "
			 "projects, accounts that allow a QoS)."
		       : "Show one, with its users, projects and live jobs.");
	const struct cli_cmd cmd = {name, usage, summary, flags, AIDC_ARRAY_LEN(flags)};
	const char *pos[1];
	size_t np = 0;
	int rc;
	if (!cli_parse_main(&cmd, argc, argv, pos, 1, &np, &rc))
		return rc;
	if (np != (list ? 0u : 1u)) {
		fprintf(stderr, "aidc %s: %s\n", name, list ? "takes no name" : "give a name");
		return CLI_EXIT_USAGE;
	}
	char sp[AIDC_MAX_PATH_BYTES], path[256];
	cli_socket_path(sock, sp, sizeof sp);
	if (list)
		snprintf(path, sizeof path, "%s", k->route);
	else
		snprintf(path, sizeof path, "%s/%.64s%s", k->route, pos[0], del ? "/delete" : "");
	struct api_call c;
	if ((rc = cli_call(name, sp, del ? "POST" : "GET", path, NULL, 0, &c)) != 0)
		return rc;
	if (del && !json) {
		printf("%s %s deleted\n", k->noun, pos[0]);
		aidc_buf_release(&c.reply);
		return CLI_EXIT_OK;
	}
	void (*show)(json_t *) = !list		  ? show_obj
				 : k == &K_ACCOUNT ? show_accounts
				 : k == &K_USER	   ? show_users
						   : show_qos;
	return finish_call(name, &c, json, show);
}

static int group_main(const struct tkind *k, const char *const *verbs, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	for (size_t i = 0; verbs[i]; i++) {
		if (strcmp(sub, verbs[i]) != 0)
			continue;
		if (!strcmp(sub, "add") || !strcmp(sub, "modify"))
			return add_or_modify(k, !strcmp(sub, "add"), argc - 1, argv + 1);
		return simple(k, sub, argc - 1, argv + 1);
	}
	bool help = !strcmp(sub, "--help") || !strcmp(sub, "-h");
	FILE *out = help ? stdout : stderr;
	fprintf(out, "usage: aidc %s <", k->noun);
	for (size_t i = 0; verbs[i]; i++)
		fprintf(out, "%s%s", i ? "|" : "", verbs[i]);
	fprintf(out, "> [options]   (docs/tenancy.md)\n");
	return help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

int cli_account_main(int argc, char **argv)
{
	static const char *const verbs[] = {"add", "list", "show", "modify", "delete", NULL};
	return group_main(&K_ACCOUNT, verbs, argc, argv);
}

int cli_user_main(int argc, char **argv)
{
	static const char *const verbs[] = {"add", "list", "show", "modify", "delete", NULL};
	return group_main(&K_USER, verbs, argc, argv);
}

int cli_qos_main(int argc, char **argv)
{
	static const char *const verbs[] = {"add", "list", "modify", "delete", NULL};
	return group_main(&K_QOS, verbs, argc, argv);
}
