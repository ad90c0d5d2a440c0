/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc serve`, `aidc services` and `aidc service show|scale|update|delete`:
 * long-running inference services (docs/services.md). serve builds the
 * ServiceSpec document from its flags and the command after "--"; update
 * takes the service's current spec, changes what its flags name and sends
 * it back (a rolling update). Everything else is a thin view of the API.
 */
#include <jansson.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_live.h"
#include "util/util.h"

/* The spec flags shared by serve and update; unset ones leave the base as is. */
struct spec_opts {
	const char *name, *gpu_model, *partition, *account, *qos, *chdir, *probe_path;
	int64_t replicas, cpus, mem_mib, gpus, gpu_milli;
	int64_t probe_period, probe_timeout, probe_failures, start_timeout;
	int64_t as_min, as_max, as_rps, as_lat, as_delay;
	int64_t max_surge, max_unavailable, max_failures;
	bool seen[20];
	bool json;
	const char *sock;
	const char *env[AIDC_MAX_ENV];
	size_t nenv;
};

enum {
	S_REPLICAS,
	S_CPUS,
	S_MEM,
	S_GPUS,
	S_PPERIOD,
	S_PTIMEOUT,
	S_PFAIL,
	S_START,
	S_MIN,
	S_MAX,
	S_RPS,
	S_LATENCY,
	S_DELAY,
	S_SURGE,
	S_UNAVAIL,
	S_MAXFAIL,
	S_GPU_MILLI,
};

#define I64F(nm, var, mv, lo, hi, idx, h)                                                          \
	{                                                                                          \
		nm, CLI_I64, &o->var, mv, h, lo, hi, NULL, &o->seen[idx]                           \
	}
#define STRF(nm, var, mv, h)                                                                       \
	{                                                                                          \
		nm, CLI_STR, &o->var, mv, h, 0, 0, NULL, NULL                                      \
	}

static size_t spec_flags(struct spec_opts *o, struct cli_flag *f)
{
	const struct cli_flag t[] = {
	    STRF("name", name, "NAME", "service name (a-z, 0-9, '-'); serve: required"),
	    I64F("replicas", replicas, "N", 1, AIDC_MAX_SERVICE_REPLICAS, S_REPLICAS,
		 "replicas to keep running (1; none: aidc service scale NAME 0)"),
	    I64F("cpus", cpus, "N", 1, 4096, S_CPUS, "CPUs per replica (1)"),
	    I64F("mem", mem_mib, "MIB", 1, 1 << 30, S_MEM, "memory per replica, MiB"),
	    I64F("gpus", gpus, "N", 0, AIDC_MAX_DEVICES_PER_NODE, S_GPUS,
		 "accelerators per replica (0)"),
	    STRF("gpu-model", gpu_model, "MODEL", "accepted accelerator model"),
	    I64F("gpu-milli", gpu_milli, "M", 1, AIDC_DEVICE_MILLI, S_GPU_MILLI,
		 "a replica's share of one device, milli (500 = half; implies --gpus 1)"),
	    STRF("partition", partition, "NAME", "partition"),
	    STRF("account", account, "NAME", "account charged (-A)"),
	    STRF("qos", qos, "NAME", "QoS"),
	    STRF("chdir", chdir, "DIR", "replicas' working directory (default: here)"),
	    STRF("probe-path", probe_path, "PATH", "HTTP path of the probe (/healthz)"),
	    I64F("probe-period", probe_period, "S", 1, 3600, S_PPERIOD,
		 "seconds between probes (2)"),
	    I64F("probe-timeout", probe_timeout, "S", 1, 60, S_PTIMEOUT,
		 "seconds one probe may take (1)"),
	    I64F("probe-failures", probe_failures, "N", 1, 100, S_PFAIL,
		 "failures in a row that restart a replica (3)"),
	    I64F("start-timeout", start_timeout, "S", 1, 86400, S_START,
		 "seconds a replica may take to become ready (300)"),
	    I64F("min", as_min, "N", 1, AIDC_MAX_SERVICE_REPLICAS, S_MIN,
		 "autoscale: fewest replicas (with --max and --target-rps and/or "
		 "--target-latency-ms)"),
	    I64F("max", as_max, "N", 1, AIDC_MAX_SERVICE_REPLICAS, S_MAX,
		 "autoscale: most replicas"),
	    I64F("target-rps", as_rps, "N", 1, 1000000, S_RPS,
		 "autoscale: requests per second one replica should take"),
	    I64F("target-latency-ms", as_lat, "MS", 1, 600000, S_LATENCY,
		 "autoscale: average response time at the router to keep under (adds a replica "
		 "while above)"),
	    I64F("scale-down-delay", as_delay, "S", 1, 86400, S_DELAY,
		 "autoscale: seconds the rate must stay low before replicas go (60)"),
	    I64F("max-surge", max_surge, "N", 0, AIDC_MAX_SERVICE_REPLICAS, S_SURGE,
		 "update: replicas above the count while updating (1)"),
	    I64F("max-unavailable", max_unavailable, "N", 0, AIDC_MAX_SERVICE_REPLICAS, S_UNAVAIL,
		 "update: ready replicas below the count allowed (0)"),
	    I64F("max-failures", max_failures, "N", 1, 100, S_MAXFAIL,
		 "update: failures of new replicas that roll it back (3)"),
	    {"env", CLI_STR, NULL, "KEY=VALUE",
	     "add to the replicas' environment (repeatable; PORT is set by the controller)", 0, 0,
	     NULL, NULL},
	    CLI_LIVE_FLAGS(o->json, o->sock),
	};
	memcpy(f, t, sizeof t);
	return AIDC_ARRAY_LEN(t);
}

/* Takes every "--env K=V" out of argv (before "--"); cli_parse keeps one
 * value a flag, the environment needs many. */
static int take_env(struct spec_opts *o, int *argc, char **argv, const char *cmd)
{
	int k = 0;
	bool rest = false;
	for (int i = 0; i < *argc; i++) {
		if (!rest && !strcmp(argv[i], "--"))
			rest = true;
		const char *v = NULL;
		if (!rest && !strcmp(argv[i], "--env")) {
			if (i + 1 >= *argc) {
				fprintf(stderr, "aidc %s: --env needs KEY=VALUE\n", cmd);
				return CLI_EXIT_USAGE;
			}
			v = argv[++i];
		} else if (!rest && !strncmp(argv[i], "--env=", 6)) {
			v = argv[i] + 6;
		}
		if (!v) {
			argv[k++] = argv[i];
			continue;
		}
		if (!strchr(v, '=') || v[0] == '=' || o->nenv >= AIDC_MAX_ENV) {
			fprintf(stderr, "aidc %s: --env %s: expected KEY=VALUE\n", cmd, v);
			return CLI_EXIT_USAGE;
		}
		o->env[o->nenv++] = v;
	}
	*argc = k;
	return 0;
}

static json_t *obj_at(json_t *spec, const char *key)
{
	json_t *v = json_object_get(spec, key);
	if (!json_is_object(v)) {
		v = json_object();
		json_object_set_new(spec, key, v);
	}
	return v;
}

static void set_str(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

/* Applies the flags given to spec (the base document). */
static void apply_opts(const struct spec_opts *o, json_t *spec, const char **cmd, size_t ncmd)
{
	static const struct {
		int idx;
		const char *obj, *key;
	} ints[] = {
	    {S_REPLICAS, NULL, "replicas"},
	    {S_CPUS, NULL, "cpus_per_task"},
	    {S_MEM, NULL, "mem_mib"},
	    {S_GPUS, NULL, "gpus_per_task"},
	    {S_PPERIOD, "probe", "period_s"},
	    {S_PTIMEOUT, "probe", "timeout_s"},
	    {S_PFAIL, "probe", "failure_threshold"},
	    {S_START, "probe", "start_timeout_s"},
	    {S_MIN, "autoscale", "min"},
	    {S_MAX, "autoscale", "max"},
	    {S_RPS, "autoscale", "target_rps"},
	    {S_LATENCY, "autoscale", "target_latency_ms"},
	    {S_DELAY, "autoscale", "scale_down_delay_s"},
	    {S_SURGE, "rollout", "max_surge"},
	    {S_UNAVAIL, "rollout", "max_unavailable"},
	    {S_MAXFAIL, "rollout", "max_failures"},
	    {S_GPU_MILLI, NULL, "gpu_milli"},
	};
	const int64_t vals[] = {o->replicas,	   o->cpus,
				o->mem_mib,	   o->gpus,
				o->probe_period,   o->probe_timeout,
				o->probe_failures, o->start_timeout,
				o->as_min,	   o->as_max,
				o->as_rps,	   o->as_lat,
				o->as_delay,
				o->max_surge,	   o->max_unavailable,
				o->max_failures,   o->gpu_milli};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(ints); i++)
		if (o->seen[ints[i].idx])
			json_object_set_new(ints[i].obj ? obj_at(spec, ints[i].obj) : spec,
					    ints[i].key, json_integer(vals[i]));
	if (o->seen[S_GPU_MILLI] && !o->seen[S_GPUS]) /* a share of one device */
		json_object_set_new(spec, "gpus_per_task", json_integer(1));
	set_str(spec, "name", o->name);
	set_str(spec, "gpu_model", o->gpu_model);
	set_str(spec, "partition", o->partition);
	set_str(spec, "account", o->account);
	set_str(spec, "qos", o->qos);
	set_str(spec, "cwd", o->chdir);
	if (o->probe_path)
		set_str(obj_at(spec, "probe"), "path", o->probe_path);
	if (o->nenv) {
		json_t *env = json_object_get(spec, "env");
		if (!json_is_array(env)) {
			env = json_array();
			json_object_set_new(spec, "env", env);
		}
		for (size_t i = 0; i < o->nenv; i++) {
			/* A key given again replaces its earlier value. */
			size_t klen = (size_t)(strchr(o->env[i], '=') - o->env[i]) + 1;
			for (size_t k = json_array_size(env); k-- > 0;)
				if (!strncmp(json_string_value(json_array_get(env, k)) ?: "",
					     o->env[i], klen))
					json_array_remove(env, k);
			json_array_append_new(env, json_string(o->env[i]));
		}
	}
	if (ncmd) {
		json_t *argv = json_array();
		for (size_t i = 0; i < ncmd; i++)
			json_array_append_new(argv, json_string(cmd[i]));
		json_object_set_new(spec, "command", argv);
	}
}

static void print_service_line(json_t *s)
{
	const char *addr = json_string_value(json_object_get(s, "address"));
	printf("%-20.20s %-10.10s %-9s %3lld/%-3lld %4lld %-21s %7.1f %8lld  %s\n",
	       json_string_value(json_object_get(s, "name")),
	       json_string_value(json_object_get(s, "user")),
	       json_string_value(json_object_get(s, "state")),
	       (long long)json_integer_value(json_object_get(s, "ready")),
	       (long long)json_integer_value(json_object_get(s, "replicas")),
	       (long long)json_integer_value(json_object_get(s, "generation")),
	       addr && addr[0] ? addr : "-", json_number_value(json_object_get(s, "rps")),
	       (long long)json_integer_value(json_object_get(s, "restarts")),
	       json_string_value(json_object_get(s, "message")));
}

static void show_services(json_t *r)
{
	if (!json_is_true(json_object_get(r, "router")))
		printf("router: %s\n", json_string_value(json_object_get(r, "router_why")));
	printf("%-20s %-10s %-9s %7s %4s %-21s %7s %8s  %s\n", "NAME", "USER", "STATE", "READY",
	       "GEN", "ADDRESS", "REQ/S", "RESTARTS", "MESSAGE");
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(r, "services"), i, s) print_service_line(s);
}

static void show_service(json_t *s)
{
	const char *addr = json_string_value(json_object_get(s, "address"));
	printf("name:      %s (user %s)\n", json_string_value(json_object_get(s, "name")),
	       json_string_value(json_object_get(s, "user")));
	printf("state:     %s, %lld of %lld replicas ready, generation %lld\n",
	       json_string_value(json_object_get(s, "state")),
	       (long long)json_integer_value(json_object_get(s, "ready")),
	       (long long)json_integer_value(json_object_get(s, "replicas")),
	       (long long)json_integer_value(json_object_get(s, "generation")));
	printf("address:   %s\n",
	       addr && addr[0] ? addr : json_string_value(json_object_get(s, "address_why")));
	printf("requests:  %lld (%.1f/s, 5xx %lld, mean %lld ms)\n",
	       (long long)json_integer_value(json_object_get(s, "requests")),
	       json_number_value(json_object_get(s, "rps")),
	       (long long)json_integer_value(json_object_get(s, "responses_5xx")),
	       (long long)json_integer_value(json_object_get(s, "avg_response_ms")));
	printf("restarts:  %lld\nmessage:   %s\n",
	       (long long)json_integer_value(json_object_get(s, "restarts")),
	       json_string_value(json_object_get(s, "message")));
	printf("%-8s %-4s %-6s %-9s %-10s %-16s %-7s %s\n", "JOB", "GEN", "PORT", "STATE",
	       "JOB_STATE", "NODE", "ROUTED", "WHY");
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(s, "replica_list"), i, r)
	{
		printf("%-8lld %-4lld %-6lld %-9s %-10s %-16.16s %-7s %s\n",
		       (long long)json_integer_value(json_object_get(r, "job")),
		       (long long)json_integer_value(json_object_get(r, "gen")),
		       (long long)json_integer_value(json_object_get(r, "port")),
		       json_string_value(json_object_get(r, "state")),
		       json_string_value(json_object_get(r, "job_state")),
		       json_string_value(json_object_get(r, "node")),
		       json_is_true(json_object_get(r, "routed")) ? "yes" : "no",
		       json_string_value(json_object_get(r, "why")) ?: "");
	}
}

/* Sends spec to path; prints the reply (JSON, or as people read it). */
static int send_spec(const char *cmd, const struct spec_opts *o, const char *path, json_t *spec)
{
	char *body = json_dumps(spec, JSON_COMPACT);
	if (!body) {
		fprintf(stderr, "aidc %s: the spec is not valid UTF-8\n", cmd);
		return CLI_EXIT_USAGE;
	}
	char sp[AIDC_MAX_PATH_BYTES];
	cli_socket_path(o->sock, sp, sizeof sp);
	struct api_call c;
	int rc = cli_call(cmd, sp, "POST", path, body, strlen(body), &c);
	free(body);
	if (rc)
		return rc;
	json_error_t je;
	json_t *r = json_loadb(aidc_buf_str(&c.reply), c.reply.len, 0, &je);
	if (o->json || !r) {
		printf("%s\n", aidc_buf_str(&c.reply));
	} else {
		cli_json_printable(r);
		show_service(r);
	}
	json_decref(r);
	aidc_buf_release(&c.reply);
	return CLI_EXIT_OK;
}

#define SERVE_SUMMARY                                                                              \
	"Run COMMAND as a long-running service: --replicas copies, each a one-task job with "      \
	"its own port in $PORT, probed over HTTP (--probe-path), restarted when it exits or "      \
	"fails its probe, and reachable at one stable address through the router (HAProxy). "      \
	"With --min/--max/--target-rps the replica count follows the request rate. See "           \
	"docs/services.md."

int cli_serve_main(int argc, char **argv)
{
	struct spec_opts o = {0};
	struct cli_flag flags[40];
	size_t nf = spec_flags(&o, flags);
	const struct cli_cmd cmd = {"serve",
				    "aidc serve --name NAME [options] -- COMMAND [ARGS...]",
				    SERVE_SUMMARY, flags, nf};
	const char *pos[AIDC_MAX_ARGV];
	size_t npos = 0;
	int rc = take_env(&o, &argc, argv, "serve");
	if (rc)
		return rc;
	if (!cli_parse_main(&cmd, argc, argv, pos, AIDC_ARRAY_LEN(pos), &npos, &rc))
		return rc;
	if (!o.name)
		return cli_refuse(&cmd, "--name is required");
	if (!npos)
		return cli_refuse(&cmd,
				  "give the command after the options: aidc serve --name %s "
				  "-- COMMAND [ARGS...]",
				  o.name);
	json_t *spec = json_object();
	char cwd[AIDC_MAX_PATH_BYTES];
	if (!o.chdir && getcwd(cwd, sizeof cwd))
		json_object_set_new(spec, "cwd", json_string(cwd));
	apply_opts(&o, spec, pos, npos);
	rc = send_spec("serve", &o, "/v1/services", spec);
	json_decref(spec);
	return rc;
}

int cli_services_main(int argc, char **argv)
{
	const char *sock = NULL;
	bool json = false;
	const struct cli_flag flags[] = {CLI_LIVE_FLAGS(json, sock)};
	const struct cli_cmd cmd = {"services", "aidc services [--json]",
				    "List your services (all for admins): state, ready replicas, "
				    "address, request rate and the latest event.",
				    flags, AIDC_ARRAY_LEN(flags)};
	int rc;
	if (!cli_parse_main(&cmd, argc, argv, NULL, 0, NULL, &rc))
		return rc;
	return cli_get_show("services", sock, "/v1/services", json, show_services);
}

/* "/v1/services/NAME" + suffix, or a usage error for a name that cannot be one. */
static int svc_path(const struct cli_cmd *cmd, const char *name, const char *suffix, char *out,
		    size_t n)
{
	size_t len = strlen(name);
	if (!len || len > 63 || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != len)
		return cli_refuse(cmd, "'%.64s' is not a service name (a-z, 0-9, '-')", name);
	snprintf(out, n, "/v1/services/%s%s", name, suffix);
	return 0;
}

static int service_show(int argc, char **argv)
{
	const char *sock = NULL, *name = NULL;
	bool json = false;
	const struct cli_flag flags[] = {CLI_LIVE_FLAGS(json, sock)};
	const struct cli_cmd cmd = {"service show", "aidc service show NAME [--json]",
				    "One service: its state, address, counters and replicas.",
				    flags, AIDC_ARRAY_LEN(flags)};
	int rc;
	char path[128];
	if (!cli_parse_exact(&cmd, argc, argv, &name, 1, &rc, "expected a service name"))
		return rc;
	if ((rc = svc_path(&cmd, name, "", path, sizeof path)) != 0)
		return rc;
	return cli_get_show("service show", sock, path, json, show_service);
}

static int service_scale(int argc, char **argv)
{
	struct spec_opts o = {0};
	const struct cli_flag flags[] = {CLI_LIVE_FLAGS(o.json, o.sock)};
	const struct cli_cmd cmd = {"service scale", "aidc service scale NAME N",
				    "Keep N replicas running (within autoscale's bounds, if any).",
				    flags, AIDC_ARRAY_LEN(flags)};
	const char *pos[2];
	int rc;
	int64_t n;
	char path[128];
	if (!cli_parse_exact(&cmd, argc, argv, pos, 2, &rc, "expected NAME and a replica count"))
		return rc;
	if (aidc_parse_i64(pos[1], 0, AIDC_MAX_SERVICE_REPLICAS, &n) != 0)
		return cli_refuse(&cmd, "replicas '%s': a number 0..%u", pos[1],
				  AIDC_MAX_SERVICE_REPLICAS);
	if ((rc = svc_path(&cmd, pos[0], "/scale", path, sizeof path)) != 0)
		return rc;
	json_t *b = json_pack("{sI}", "replicas", (json_int_t)n);
	rc = send_spec("service scale", &o, path, b);
	json_decref(b);
	return rc;
}

static int service_delete(int argc, char **argv)
{
	struct spec_opts o = {0};
	const struct cli_flag flags[] = {CLI_LIVE_FLAGS(o.json, o.sock)};
	const struct cli_cmd cmd = {"service delete", "aidc service delete NAME",
				    "Delete a service: its replicas leave the router (in-flight "
				    "requests finish), then stop.",
				    flags, AIDC_ARRAY_LEN(flags)};
	const char *name;
	int rc;
	char path[128];
	if (!cli_parse_exact(&cmd, argc, argv, &name, 1, &rc, "expected a service name"))
		return rc;
	if ((rc = svc_path(&cmd, name, "/delete", path, sizeof path)) != 0)
		return rc;
	json_t *b = json_object();
	rc = send_spec("service delete", &o, path, b);
	json_decref(b);
	return rc;
}

/* The current spec of the service at path (caller frees), or NULL after a message. */
static json_t *current_spec(const struct spec_opts *o, const char *path)
{
	char sp[AIDC_MAX_PATH_BYTES];
	cli_socket_path(o->sock, sp, sizeof sp);
	struct api_call c;
	if (cli_call("service update", sp, "GET", path, NULL, 0, &c) != 0)
		return NULL;
	json_error_t je;
	json_t *r = json_loadb(aidc_buf_str(&c.reply), c.reply.len, 0, &je);
	aidc_buf_release(&c.reply);
	json_t *spec = r ? json_incref(json_object_get(r, "spec")) : NULL;
	json_decref(r);
	if (!json_is_object(spec))
		fprintf(stderr, "aidc service update: the controller sent no spec\n");
	return spec;
}

static int service_update(int argc, char **argv)
{
	struct spec_opts o = {0};
	struct cli_flag flags[40];
	size_t nf = spec_flags(&o, flags);
	const struct cli_cmd cmd = {
	    "service update", "aidc service update NAME [options] [-- COMMAND [ARGS...]]",
	    "Change a service's spec: the flags given (and the command, if given) replace those "
	    "of the current spec, and replicas are replaced one by one within --max-surge and "
	    "--max-unavailable; an update whose new replicas keep failing is rolled back.",
	    flags, nf};
	const char *pos[AIDC_MAX_ARGV];
	size_t npos = 0;
	char path[128];
	int rc = take_env(&o, &argc, argv, "service update");
	if (rc)
		return rc;
	if (!cli_parse_main(&cmd, argc, argv, pos, AIDC_ARRAY_LEN(pos), &npos, &rc))
		return rc;
	if (!npos)
		return cli_refuse(&cmd, "expected a service name");
	if (o.name && strcmp(o.name, pos[0]) != 0)
		return cli_refuse(&cmd, "--name: a service keeps its name");
	if ((rc = svc_path(&cmd, pos[0], "", path, sizeof path)) != 0)
		return rc;
	json_t *spec = current_spec(&o, path);
	if (!spec)
		return CLI_EXIT_FAIL;
	apply_opts(&o, spec, pos + 1, npos - 1);
	rc = send_spec("service update", &o, path, spec);
	json_decref(spec);
	return rc;
}

int cli_service_main(int argc, char **argv)
{
	static const struct cli_sub subs[] = {
	    {"show", service_show, "one service and its replicas"},
	    {"scale", service_scale, "set the replica count"},
	    {"update", service_update, "change the spec (a rolling update)"},
	    {"delete", service_delete, "delete a service"},
	};
	return cli_dispatch("service", subs, AIDC_ARRAY_LEN(subs), argc, argv);
}
