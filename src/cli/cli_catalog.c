/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc catalog list|show|run|check` (issue 16 item 3, docs/catalog.md): the
 * model and algorithm catalogue. A recipe is one declarative JSON file in the
 * catalogue directory (catalog/ in the source tree, share/aidc/catalog once
 * installed, or $AIDC_CATALOG): a versioned document naming its kind
 * (training or service), a Python entry script under recipes/, typed
 * parameters with defaults and bounds, resource needs and the device models
 * it is validated on. The decoder rejects unknown versions and fields, so a
 * typo in a recipe is an error, never a silently ignored field.
 *
 * `run` resolves every parameter (defaults, then --set values checked against
 * the recipe's types, bounds and choices) into the command
 * `/usr/bin/python3 SCRIPT --key value ...` and submits it through the same
 * API as `aidc submit` (POST /v1/jobs), or creates a service
 * (POST /v1/services); --dry-run prints the request instead. `show` adds the
 * expected speed per device model from the controller's rates (GET /v1/rates)
 * and the recipe's job history (GET /v1/acct).
 */
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/sbatch.h"
#include "cli/cli.h"
#include "cli/cli_live.h"
#include "util/util.h"

extern char **environ;

/* The recipe format's version; a decoder refuses any other. */
#define CATALOG_VERSION 1
/* Bounds on what is read, each checked before it is used. */
#define CATALOG_MAX_RECIPES	1024u
#define CATALOG_MAX_FILE_BYTES	(64u << 10)
#define CATALOG_MAX_PARAMS	64u
#define CATALOG_MAX_NAME_BYTES	48u
#define CATALOG_MAX_VALUE_BYTES 1024u
#define CATALOG_MAX_MODELS	32u
#define CATALOG_MAX_REPLICAS	1024
/* `show` reads at most this many pages of 1,000 accounting records. */
#define CATALOG_MAX_HISTORY_PAGES 50u
/* The interpreter of every recipe: Debian's, where python3-torch lives. */
#define CATALOG_PYTHON "/usr/bin/python3"

static const char *const param_types[] = {"int", "float", "string", "bool", "path", NULL};
enum { P_INT, P_FLOAT, P_STRING, P_BOOL, P_PATH };

/* ---- finding the catalogue ------------------------------------------------------- */

/* a/b into out; -1 when it does not fit (then out is not used). */
static int join(char *out, size_t n, const char *a, const char *b)
{
	int w = snprintf(out, n, "%s/%s", a, b);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

static bool is_dir(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* $AIDC_CATALOG, else <binary's dir>/catalog (the build tree links the
 * source tree's catalog/ there), else <binary's dir>/../share/aidc/catalog
 * (installed). Writes the real path into out (PATH_MAX bytes); 0, or -1
 * after one line. */
static int find_catalog(const char *cmd, char out[static PATH_MAX])
{
	const char *env = getenv("AIDC_CATALOG");
	char tries[2][AIDC_MAX_PATH_BYTES];
	if (env && *env) {
		if (!is_dir(env) || !realpath(env, out)) {
			fprintf(stderr, "aidc %s: AIDC_CATALOG=%s: not a directory\n", cmd, env);
			return -1;
		}
		return 0;
	}
	char exe[AIDC_MAX_PATH_BYTES];
	if (cli_self_exe(exe, sizeof exe) != 0)
		snprintf(exe, sizeof exe, "/usr/bin/aidc");
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	bool fit = join(tries[0], sizeof tries[0], exe, "catalog") == 0 &&
		   join(tries[1], sizeof tries[1], exe, "../share/aidc/catalog") == 0;
	for (size_t i = 0; i < 2 && fit; i++)
		if (is_dir(tries[i]) && realpath(tries[i], out))
			return 0;
	fprintf(stderr, "aidc %s: no catalogue found: set AIDC_CATALOG (looked in %s and %s)\n",
		cmd, tries[0], tries[1]);
	return -1;
}

/* ---- the recipe decoder ---------------------------------------------------------- */

/* Refuses any member of o not in keys (NULL-terminated). */
static int only_keys(json_t *o, const char *const *keys, const char *where, char *err, size_t n)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		size_t i = 0;
		while (keys[i] && strcmp(keys[i], k) != 0)
			i++;
		if (!keys[i]) {
			snprintf(err, n, "%s: unknown field '%s'", where, k);
			return -1;
		}
	}
	return 0;
}

static int choice_index(const char *const *choices, const char *s)
{
	for (int i = 0; s && choices[i]; i++)
		if (!strcmp(choices[i], s))
			return i;
	return -1;
}

/* Lowercase letters, digits, '-' and '_', starting with a letter or digit. */
static bool good_name(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max || !strchr("abcdefghijklmnopqrstuvwxyz0123456789", s[0]))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

/* A parameter's type, from its "type" member (validated). */
static int ptype(json_t *p)
{
	return choice_index(param_types, json_string_value(json_object_get(p, "type")));
}

/* Writes v as the entry script gets it on its command line. */
static void value_text(json_t *v, char *out, size_t n)
{
	if (json_is_integer(v)) {
		snprintf(out, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_real(v)) {
		/* The shortest text that reads back as the same double. */
		double d = json_real_value(v);
		snprintf(out, n, "%.15g", d);
		if (strtod(out, NULL) != d)
			snprintf(out, n, "%.17g", d);
	} else if (json_is_boolean(v)) {
		snprintf(out, n, "%s", json_is_true(v) ? "true" : "false");
	} else {
		snprintf(out, n, "%s", json_string_value(v) ? json_string_value(v) : "");
	}
}

/* Does v have parameter type t? A float parameter takes integers too. */
static bool type_ok(int t, json_t *v)
{
	switch (t) {
	case P_INT:
		return json_is_integer(v);
	case P_FLOAT:
		return json_is_number(v);
	case P_BOOL:
		return json_is_boolean(v);
	default:
		return json_is_string(v) && strlen(json_string_value(v)) <= CATALOG_MAX_VALUE_BYTES;
	}
}

/* Checks the value v of parameter p (validated) against its bounds and
 * choices; the why names the rule broken. */
static int value_ok(json_t *p, json_t *v, char *why, size_t n)
{
	int t = ptype(p);
	char a[64], b[64];
	if (!type_ok(t, v)) {
		snprintf(why, n, "not %s %s", t == P_INT ? "an" : "a",
			 t == P_PATH || t == P_STRING ? "string of at "
							"most 1024 bytes"
						      : param_types[t]);
		return -1;
	}
	json_t *min = json_object_get(p, "min"), *max = json_object_get(p, "max");
	value_text(v, a, sizeof a);
	if (min && json_number_value(v) < json_number_value(min)) {
		value_text(min, b, sizeof b);
		snprintf(why, n, "%s is below the minimum %s", a, b);
		return -1;
	}
	if (max && json_number_value(v) > json_number_value(max)) {
		value_text(max, b, sizeof b);
		snprintf(why, n, "%s is above the maximum %s", a, b);
		return -1;
	}
	json_t *choices = json_object_get(p, "choices"), *c;
	size_t i;
	if (!choices)
		return 0;
	json_array_foreach(choices, i, c)
	{
		if (json_equal(c, v) || (json_is_number(c) && json_is_number(v) &&
					 json_number_value(c) == json_number_value(v)))
			return 0;
	}
	size_t w = (size_t)snprintf(why, n, "not one of:");
	json_array_foreach(choices, i, c)
	{
		value_text(c, a, sizeof a);
		w += (size_t)snprintf(why + (w < n ? w : n), w < n ? n - w : 0, "%s %s",
				      i ? "," : "", a);
	}
	return -1;
}

/* The declared bounds and choices of parameter p fit its type. */
static int check_bounds(json_t *p, int t, const char *where, char *err, size_t n)
{
	json_t *min = json_object_get(p, "min"), *max = json_object_get(p, "max");
	json_t *choices = json_object_get(p, "choices");
	bool numeric = t == P_INT || t == P_FLOAT;
	if ((min || max) && !numeric) {
		snprintf(err, n, "%s: min/max are for int and float parameters", where);
		return -1;
	}
	if ((min && !type_ok(t, min)) || (max && !type_ok(t, max))) {
		snprintf(err, n, "%s: min/max must be %s", where,
			 t == P_INT ? "integers" : "numbers");
		return -1;
	}
	if (min && max && json_number_value(min) > json_number_value(max)) {
		snprintf(err, n, "%s: min above max", where);
		return -1;
	}
	if (!choices)
		return 0;
	if (t == P_BOOL || t == P_PATH || !json_is_array(choices) ||
	    json_array_size(choices) == 0 || json_array_size(choices) > CATALOG_MAX_PARAMS) {
		snprintf(err, n,
			 "%s: choices must be a non-empty array (at most %u) and only for "
			 "int, float and string parameters",
			 where, CATALOG_MAX_PARAMS);
		return -1;
	}
	size_t i;
	json_t *c;
	json_array_foreach(choices, i, c)
	{
		if (type_ok(t, c) && !(min && json_number_value(c) < json_number_value(min)) &&
		    !(max && json_number_value(c) > json_number_value(max)))
			continue;
		snprintf(err, n, "%s: choice %zu is not a %s within min/max", where, i,
			 param_types[t]);
		return -1;
	}
	return 0;
}

/* One entry of "parameters"; seen holds the names before it. */
static int check_param(json_t *p, size_t idx, json_t *seen, const char *file, char *err, size_t n)
{
	static const char *const keys[] = {"name", "type",    "default", "min",
					   "max",  "choices", "help",	 NULL};
	char where[160];
	snprintf(where, sizeof where, "%s: parameters[%zu]", file, idx);
	if (!json_is_object(p)) {
		snprintf(err, n, "%s: not an object", where);
		return -1;
	}
	if (only_keys(p, keys, where, err, n))
		return -1;
	const char *name = json_string_value(json_object_get(p, "name"));
	if (!good_name(name, CATALOG_MAX_NAME_BYTES)) {
		snprintf(err, n, "%s: name: 1 to %u of a-z 0-9 - _", where, CATALOG_MAX_NAME_BYTES);
		return -1;
	}
	snprintf(where, sizeof where, "%s: parameter %s", file, name);
	if (json_object_get(seen, name)) {
		snprintf(err, n, "%s: declared twice", where);
		return -1;
	}
	json_object_set_new(seen, name, json_true());
	int t = ptype(p);
	const char *help = json_string_value(json_object_get(p, "help"));
	if (t < 0) {
		snprintf(err, n, "%s: type: one of int, float, string, bool, path", where);
		return -1;
	}
	if (!help || !*help) {
		snprintf(err, n, "%s: help: a non-empty string", where);
		return -1;
	}
	if (check_bounds(p, t, where, err, n))
		return -1;
	json_t *def = json_object_get(p, "default");
	char why[256];
	if (!def || value_ok(p, def, why, sizeof why)) {
		snprintf(err, n, "%s: default: %s", where, def ? why : "missing");
		return -1;
	}
	return 0;
}

/* An integer member of o in [lo, hi], or absent (*out keeps its value). */
static int int_field(json_t *o, const char *key, int64_t lo, int64_t hi, int64_t *out,
		     const char *where, char *err, size_t n)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		snprintf(err, n, "%s: %s: an integer from %" PRId64 " to %" PRId64, where, key, lo,
			 hi);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

static int check_resources(json_t *r, const char *file, char *err, size_t n)
{
	static const char *const keys[] = {
	    "nodes", "ntasks", "cpus_per_task", "mem_mib", "gpus_per_task", "gpu_model", NULL};
	char where[160];
	snprintf(where, sizeof where, "%s: resources", file);
	if (!json_is_object(r)) {
		snprintf(err, n, "%s: missing, or not an object", where);
		return -1;
	}
	int64_t x = 0;
	if (only_keys(r, keys, where, err, n) ||
	    int_field(r, "nodes", 1, AIDC_MAX_NODES, &x, where, err, n) ||
	    int_field(r, "ntasks", 1, AIDC_MAX_TASKS_PER_JOB, &x, where, err, n) ||
	    int_field(r, "cpus_per_task", 1, AIDC_MAX_NODE_CPU_MILLI / 1000, &x, where, err, n) ||
	    int_field(r, "mem_mib", 1, INT64_C(1) << 40, &x, where, err, n) ||
	    int_field(r, "gpus_per_task", 0, AIDC_MAX_DEVICES_PER_NODE, &x, where, err, n))
		return -1;
	if (!json_object_get(r, "cpus_per_task") || !json_object_get(r, "mem_mib")) {
		snprintf(err, n, "%s: cpus_per_task and mem_mib are required", where);
		return -1;
	}
	json_t *m = json_object_get(r, "gpu_model");
	if (m && (!json_is_string(m) || !*json_string_value(m) ||
		  strlen(json_string_value(m)) >= AIDC_MAX_NAME_BYTES)) {
		snprintf(err, n, "%s: gpu_model: a non-empty model name", where);
		return -1;
	}
	return 0;
}

static int check_probe(json_t *p, const char *where, char *err, size_t n)
{
	static const char *const keys[] = {"path", "period_s", "timeout_s", "failure_threshold",
					   NULL};
	if (!json_is_object(p)) {
		snprintf(err, n, "%s: missing, or not an object", where);
		return -1;
	}
	const char *path = json_string_value(json_object_get(p, "path"));
	int64_t x = 0;
	if (only_keys(p, keys, where, err, n))
		return -1;
	if (!path || path[0] != '/' || strlen(path) > 256 || strpbrk(path, " \t\r\n?#")) {
		snprintf(err, n, "%s: path: an HTTP path starting with '/' (the readiness check)",
			 where);
		return -1;
	}
	if (int_field(p, "period_s", 1, 3600, &x, where, err, n) ||
	    int_field(p, "timeout_s", 1, 3600, &x, where, err, n) ||
	    int_field(p, "failure_threshold", 1, 100, &x, where, err, n))
		return -1;
	return 0;
}

/* "service": present exactly for service recipes. */
static int check_service(json_t *r, bool service, const char *file, char *err, size_t n)
{
	static const char *const keys[] = {"port_env", "replicas", "probe", NULL};
	json_t *s = json_object_get(r, "service");
	char where[160];
	snprintf(where, sizeof where, "%s: service", file);
	if (!service) {
		if (s)
			snprintf(err, n, "%s: only for kind \"service\"", where);
		return s ? -1 : 0;
	}
	if (!json_is_object(s)) {
		snprintf(err, n, "%s: missing, or not an object (kind \"service\")", where);
		return -1;
	}
	int64_t x = 0;
	if (only_keys(s, keys, where, err, n) ||
	    int_field(s, "replicas", 1, CATALOG_MAX_REPLICAS, &x, where, err, n))
		return -1;
	/* The center gives each replica its port in $PORT and nothing else. */
	const char *pe = json_string_value(json_object_get(s, "port_env"));
	if (!pe || strcmp(pe, "PORT") != 0) {
		snprintf(err, n,
			 "%s: port_env: \"PORT\" (the variable the center sets; version 1 "
			 "knows no other)",
			 where);
		return -1;
	}
	char pw[180];
	snprintf(pw, sizeof pw, "%s: probe", where);
	return check_probe(json_object_get(s, "probe"), pw, err, n);
}

/* "entry": a .py file under recipes/ of the catalogue, no "..". */
static int check_entry(json_t *r, const char *dir, const char *file, char *err, size_t n)
{
	const char *e = json_string_value(json_object_get(r, "entry"));
	if (!e || strncmp(e, "recipes/", 8) != 0 || strstr(e, "..") || strlen(e) < 12 ||
	    strcmp(e + strlen(e) - 3, ".py") != 0 || strlen(e) > 256) {
		snprintf(err, n, "%s: entry: a script recipes/NAME.py in the catalogue", file);
		return -1;
	}
	char path[AIDC_MAX_PATH_BYTES];
	struct stat sb;
	if (join(path, sizeof path, dir, e) || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, n, "%s: entry: %.300s/%s: no such file", file, dir, e);
		return -1;
	}
	return 0;
}

static int check_models(json_t *r, const char *file, char *err, size_t n)
{
	json_t *m = json_object_get(r, "validated_on"), *v;
	size_t i;
	if (!json_is_array(m) || json_array_size(m) == 0 ||
	    json_array_size(m) > CATALOG_MAX_MODELS) {
		snprintf(err, n, "%s: validated_on: an array of 1 to %u device models", file,
			 CATALOG_MAX_MODELS);
		return -1;
	}
	json_array_foreach(m, i, v)
	{
		if (json_is_string(v) && *json_string_value(v) &&
		    strlen(json_string_value(v)) < AIDC_MAX_NAME_BYTES)
			continue;
		snprintf(err, n, "%s: validated_on[%zu]: a device model name", file, i);
		return -1;
	}
	return 0;
}

/* Checks a whole recipe document (file: its base name, for messages and
 * the name rule) against format version 1. */
static int check_recipe(json_t *r, const char *dir, const char *file, char *err, size_t n)
{
	static const char *const keys[] = {"v",	      "name",	    "kind",	 "description",
					   "entry",   "parameters", "resources", "validated_on",
					   "service", NULL};
	static const char *const kinds[] = {"training", "service", NULL};
	if (!json_is_object(r) || !json_is_integer(json_object_get(r, "v")) ||
	    json_integer_value(json_object_get(r, "v")) != CATALOG_VERSION) {
		snprintf(err, n, "%s: not a recipe of format version %d (\"v\": %d)", file,
			 CATALOG_VERSION, CATALOG_VERSION);
		return -1;
	}
	if (only_keys(r, keys, file, err, n))
		return -1;
	const char *name = json_string_value(json_object_get(r, "name"));
	size_t fl = strlen(file);
	if (!good_name(name, CATALOG_MAX_NAME_BYTES) || fl != strlen(name) + 5 ||
	    strncmp(file, name, strlen(name)) != 0) {
		snprintf(err, n, "%s: name: 1 to %u of a-z 0-9 - _, and the file is NAME.json",
			 file, CATALOG_MAX_NAME_BYTES);
		return -1;
	}
	int kind = choice_index(kinds, json_string_value(json_object_get(r, "kind")));
	const char *desc = json_string_value(json_object_get(r, "description"));
	if (kind < 0 || !desc || !*desc) {
		snprintf(err, n, "%s: %s", file,
			 kind < 0 ? "kind: \"training\" or \"service\""
				  : "description: a non-empty string");
		return -1;
	}
	json_t *ps = json_object_get(r, "parameters"), *p;
	if (!json_is_array(ps) || json_array_size(ps) > CATALOG_MAX_PARAMS) {
		snprintf(err, n, "%s: parameters: an array of at most %u", file,
			 CATALOG_MAX_PARAMS);
		return -1;
	}
	json_t *seen = json_object();
	size_t i;
	int rc = 0;
	json_array_foreach(ps, i, p)
	{
		if (!rc)
			rc = check_param(p, i, seen, file, err, n);
	}
	json_decref(seen);
	if (rc || check_entry(r, dir, file, err, n) ||
	    check_resources(json_object_get(r, "resources"), file, err, n) ||
	    check_models(r, file, err, n) || check_service(r, kind == 1, file, err, n))
		return -1;
	return 0;
}

/* Reads and checks dir/file; the recipe (caller decrefs) or NULL with err. */
static json_t *load_file(const char *dir, const char *file, char *err, size_t n)
{
	char path[AIDC_MAX_PATH_BYTES];
	FILE *f = join(path, sizeof path, dir, file) ? NULL : fopen(path, "rb");
	if (!f) {
		snprintf(err, n, "%s: %s", file, strerror(errno));
		return NULL;
	}
	char *buf = aidc_malloc(CATALOG_MAX_FILE_BYTES + 1);
	size_t len = fread(buf, 1, CATALOG_MAX_FILE_BYTES + 1, f);
	fclose(f);
	json_t *r = NULL;
	json_error_t je;
	if (len > CATALOG_MAX_FILE_BYTES)
		snprintf(err, n, "%s: larger than %u bytes", file, CATALOG_MAX_FILE_BYTES);
	else if (!(r = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je)))
		snprintf(err, n, "%s: line %d: %s", file, je.line, je.text);
	aidc_free(buf);
	if (r && check_recipe(r, dir, file, err, n)) {
		json_decref(r);
		r = NULL;
	}
	return r;
}

/* The recipe named name (a-z 0-9 - _ only: never a path). */
static json_t *load_recipe(const char *cmd, const char *dir, const char *name)
{
	char file[CATALOG_MAX_NAME_BYTES + 8], err[512];
	if (!good_name(name, CATALOG_MAX_NAME_BYTES)) {
		fprintf(stderr, "aidc %s: '%s' is not a recipe name (see 'aidc catalog list')\n",
			cmd, name);
		return NULL;
	}
	snprintf(file, sizeof file, "%s.json", name);
	char path[AIDC_MAX_PATH_BYTES];
	if (join(path, sizeof path, dir, file) || access(path, F_OK) != 0) {
		fprintf(stderr, "aidc %s: no recipe '%s' in %s (see 'aidc catalog list')\n", cmd,
			name, dir);
		return NULL;
	}
	json_t *r = load_file(dir, file, err, sizeof err);
	if (!r)
		fprintf(stderr, "aidc %s: %s\n", cmd, err);
	return r;
}

static int json_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return d->d_name[0] != '.' && n > 5 && !strcmp(d->d_name + n - 5, ".json");
}

/* Every recipe file of dir in name order: fn(ctx, file, recipe or NULL, err)
 * for each. Returns the number of files that failed to load (or -1). */
static int each_recipe(const char *cmd, const char *dir,
		       void (*fn)(void *ctx, const char *file, json_t *r, const char *err),
		       void *ctx)
{
	struct dirent **list;
	int n = scandir(dir, &list, json_file, alphasort), bad = 0;
	if (n < 0) {
		fprintf(stderr, "aidc %s: %s: %s\n", cmd, dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char err[512] = "";
		json_t *r = (unsigned)i < CATALOG_MAX_RECIPES
				? load_file(dir, list[i]->d_name, err, sizeof err)
				: NULL;
		if ((unsigned)i >= CATALOG_MAX_RECIPES)
			snprintf(err, sizeof err, "%s: past the first %u recipes", list[i]->d_name,
				 CATALOG_MAX_RECIPES);
		bad += r == NULL;
		fn(ctx, list[i]->d_name, r, err);
		json_decref(r);
		free(list[i]);
	}
	free(list);
	return bad;
}

/* ---- aidc catalog list / check --------------------------------------------------- */

static const char *kind_of(json_t *r)
{
	return json_string_value(json_object_get(r, "kind"));
}

/* "a,b,c" of validated_on into out. */
static void models_text(json_t *r, char *out, size_t n)
{
	json_t *v;
	size_t i, w = 0;
	out[0] = '\0';
	json_array_foreach(json_object_get(r, "validated_on"), i, v)
	{
		w += (size_t)snprintf(out + (w < n ? w : n - 1), w < n ? n - w : 1, "%s%s",
				      i ? "," : "", json_string_value(v));
	}
}

static void list_row(void *ctx, const char *file, json_t *r, const char *err)
{
	json_t *all = ctx;
	char models[256];
	if (!r) {
		fprintf(stderr, "aidc catalog list: %s\n", err);
		return;
	}
	if (all) {
		json_array_append(all, r);
		return;
	}
	(void)file;
	models_text(r, models, sizeof models);
	printf("%-28s %-9s %-16s %s\n", json_string_value(json_object_get(r, "name")), kind_of(r),
	       models, json_string_value(json_object_get(r, "description")));
}

static int catalog_list(int argc, char **argv)
{
	bool json = false;
	const struct cli_flag flags[] = {
	    {"json", CLI_BOOL, &json, NULL, "print {\"catalog\": DIR, \"recipes\": [...]}", 0, 0,
	     NULL, NULL},
	};
	const struct cli_cmd cmd = {
	    "catalog list", "aidc catalog list [--json]",
	    "Lists the recipes of the catalogue ($AIDC_CATALOG, else the catalog directory "
	    "beside the binary, else share/aidc/catalog): name, kind (training or service), the "
	    "device models it is validated on, description. A recipe file that does not "
	    "validate is named on stderr and the exit status is 1.",
	    flags, AIDC_ARRAY_LEN(flags)};
	int rc;
	char dir[PATH_MAX];
	if (!cli_parse_main(&cmd, argc, argv, NULL, 0, NULL, &rc))
		return rc;
	if (find_catalog(cmd.name, dir))
		return CLI_EXIT_FAIL;
	json_t *all = json ? json_array() : NULL;
	if (!json)
		printf("%-28s %-9s %-16s %s\n", "NAME", "KIND", "VALIDATED_ON", "DESCRIPTION");
	int bad = each_recipe(cmd.name, dir, list_row, all);
	if (json) {
		json_t *o = json_pack("{s:s, s:o}", "catalog", dir, "recipes", all);
		char *s = json_dumps(o, JSON_COMPACT);
		printf("%s\n", s);
		free(s);
		json_decref(o);
	}
	return bad ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static void check_row(void *ctx, const char *file, json_t *r, const char *err)
{
	(void)ctx;
	if (r)
		printf("ok   %s (%s, %zu parameters)\n", file, kind_of(r),
		       json_array_size(json_object_get(r, "parameters")));
	else
		printf("FAIL %s\n", err);
}

static int catalog_check(int argc, char **argv)
{
	const struct cli_flag flags[] = {{0}};
	const struct cli_cmd cmd = {
	    "catalog check", "aidc catalog check",
	    "Validates every recipe file of the catalogue against format version 1 "
	    "(docs/catalog.md): known fields only, every default of its parameter's type and "
	    "within its bounds and choices, the entry script present, sane resources and probe. "
	    "Prints one line a file; exit status 1 when any fails.",
	    flags, 0};
	int rc;
	char dir[PATH_MAX];
	if (!cli_parse_main(&cmd, argc, argv, NULL, 0, NULL, &rc))
		return rc;
	if (find_catalog(cmd.name, dir))
		return CLI_EXIT_FAIL;
	int bad = each_recipe(cmd.name, dir, check_row, NULL);
	if (bad >= 0)
		printf("%s: %s\n", dir, bad ? "some recipes do not validate" : "all recipes valid");
	return bad ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* ---- resolving a run ------------------------------------------------------------- */

static const char *pname(json_t *p)
{
	return json_string_value(json_object_get(p, "name"));
}

static json_t *find_param(json_t *r, const char *name)
{
	json_t *p;
	size_t i;
	json_array_foreach(json_object_get(r, "parameters"), i, p)
	{
		if (!strcmp(pname(p), name))
			return p;
	}
	return NULL;
}

/* The text s as a value of parameter p (caller decrefs), or NULL with why. */
static json_t *parse_value(json_t *p, const char *s, char *why, size_t n)
{
	static const char *const yes[] = {"true", "yes", "on", "1", NULL};
	static const char *const no[] = {"false", "no", "off", "0", NULL};
	json_t *v = NULL;
	int64_t i;
	double d;
	switch (ptype(p)) {
	case P_INT:
		if (aidc_parse_i64(s, INT64_MIN, INT64_MAX, &i) == 0)
			v = json_integer(i);
		else
			snprintf(why, n, "'%s' is not an integer", s);
		break;
	case P_FLOAT:
		if (aidc_parse_f64(s, -DBL_MAX, DBL_MAX, &d) == 0)
			v = json_real(d);
		else
			snprintf(why, n, "'%s' is not a number", s);
		break;
	case P_BOOL:
		v = choice_index(yes, s) >= 0  ? json_true()
		    : choice_index(no, s) >= 0 ? json_false()
					       : NULL;
		if (!v)
			snprintf(why, n, "'%s' is not a bool (true or false)", s);
		break;
	default:
		if (!(v = json_string(s)))
			snprintf(why, n, "not UTF-8 text");
	}
	if (v && value_ok(p, v, why, n)) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

/* "a, b, c": the recipe's parameter names. */
static void param_names(json_t *r, char *out, size_t n)
{
	json_t *p;
	size_t i, w = 0;
	out[0] = '\0';
	json_array_foreach(json_object_get(r, "parameters"), i, p)
	{
		w += (size_t)snprintf(out + (w < n ? w : n - 1), w < n ? n - w : 1, "%s%s",
				      i ? ", " : "", pname(p));
	}
}

/* One --set KEY=VALUE into vals; given holds the keys set before. */
static int apply_set(const char *cmd, json_t *r, const char *set, json_t *vals, json_t *given)
{
	const char *eq = strchr(set, '=');
	char key[CATALOG_MAX_NAME_BYTES + 1], why[1200];
	size_t kl = eq ? (size_t)(eq - set) : 0;
	if (!eq || kl == 0 || kl > CATALOG_MAX_NAME_BYTES) {
		fprintf(stderr, "aidc %s: --set %s: give KEY=VALUE\n", cmd, set);
		return -1;
	}
	memcpy(key, set, kl);
	key[kl] = '\0';
	json_t *p = find_param(r, key);
	if (!p) {
		param_names(r, why, sizeof why);
		fprintf(stderr,
			"aidc %s: --set %s: recipe %s has no parameter '%s' (parameters: %s)\n",
			cmd, set, json_string_value(json_object_get(r, "name")), key,
			*why ? why : "none");
		return -1;
	}
	if (json_object_get(given, key)) {
		fprintf(stderr, "aidc %s: --set %s: '%s' is set twice\n", cmd, set, key);
		return -1;
	}
	json_t *v = parse_value(p, eq + 1, why, sizeof why);
	if (!v) {
		fprintf(stderr, "aidc %s: --set %s: %s (parameter %s, %s)\n", cmd, set, why, key,
			json_string_value(json_object_get(p, "type")));
		return -1;
	}
	json_object_set_new(vals, key, v);
	json_object_set_new(given, key, json_true());
	return 0;
}

/* Every parameter's value: its default, or its --set value. An object
 * name -> value (caller decrefs), or NULL after one line naming the key. */
static json_t *resolve(const char *cmd, json_t *r, const char *const *sets, size_t nsets)
{
	json_t *vals = json_object(), *given = json_object(), *p;
	size_t i;
	json_array_foreach(json_object_get(r, "parameters"), i, p)
	    json_object_set(vals, pname(p), json_object_get(p, "default"));
	for (i = 0; i < nsets; i++)
		if (apply_set(cmd, r, sets[i], vals, given)) {
			json_decref(vals);
			vals = NULL;
			break;
		}
	json_decref(given);
	return vals;
}

/* [/usr/bin/python3, DIR/ENTRY, --key, value, ...] in the recipe's order. */
static json_t *command_of(json_t *r, const char *dir, json_t *vals)
{
	char script[AIDC_MAX_PATH_BYTES], text[CATALOG_MAX_VALUE_BYTES + 32];
	char flag[CATALOG_MAX_NAME_BYTES + 3];
	if (join(script, sizeof script, dir, json_string_value(json_object_get(r, "entry"))))
		script[0] = '\0'; /* not reached: load_file joined the same path */
	json_t *c = json_pack("[s,s]", CATALOG_PYTHON, script), *p;
	size_t i;
	json_array_foreach(json_object_get(r, "parameters"), i, p)
	{
		snprintf(flag, sizeof flag, "--%s", pname(p));
		value_text(json_object_get(vals, pname(p)), text, sizeof text);
		json_array_append_new(c, json_string(flag));
		json_array_append_new(c, json_string(text));
	}
	return c;
}

/* What the command line asked for. Resource flags left at 0 (NULL) take
 * the recipe's value. */
struct run_opts {
	const char *sock, *name, *mem, *model, *part, *account, *qos, *time_s, *set_help;
	int64_t nodes, ntasks, cpus, gpt, replicas;
	bool dry, json, no_env, gpt_seen;
	const char *sets[CATALOG_MAX_PARAMS];
	size_t nsets;
};

/* A run's resolved resources. */
struct run_res {
	int64_t nodes, ntasks, cpus, mem_mib, gpt, time_s;
	const char *model; /* borrowed from the recipe or argv; NULL: any */
};

static int64_t res_int(json_t *r, const char *key, int64_t dflt)
{
	json_t *v = json_object_get(json_object_get(r, "resources"), key);
	return v ? json_integer_value(v) : dflt;
}

/* The recipe's resources with the flags applied; refuses flags that do not
 * fit the recipe's kind (never silently dropped). */
static int run_resources(json_t *r, const struct run_opts *o, struct run_res *x)
{
	bool service = !strcmp(kind_of(r), "service");
	if (service && (o->nodes || o->ntasks || o->time_s)) {
		fprintf(stderr,
			"aidc catalog run: -N/--nodes, -n/--ntasks and -t/--time are for "
			"training recipes; %s is a service (--replicas sets its size)\n",
			json_string_value(json_object_get(r, "name")));
		return CLI_EXIT_USAGE;
	}
	if (!service && o->replicas) {
		fprintf(stderr,
			"aidc catalog run: --replicas is for service recipes; %s is a "
			"training recipe (-N/-n set its size)\n",
			json_string_value(json_object_get(r, "name")));
		return CLI_EXIT_USAGE;
	}
	json_t *m = json_object_get(json_object_get(r, "resources"), "gpu_model");
	*x = (struct run_res){res_int(r, "nodes", 0),
			      res_int(r, "ntasks", 0),
			      res_int(r, "cpus_per_task", 1),
			      res_int(r, "mem_mib", 0),
			      res_int(r, "gpus_per_task", 0),
			      0,
			      json_string_value(m)};
	int64_t *const dst[] = {&x->nodes, &x->ntasks, &x->cpus};
	const int64_t src[] = {o->nodes, o->ntasks, o->cpus};
	for (size_t i = 0; i < AIDC_ARRAY_LEN(src); i++)
		if (src[i])
			*dst[i] = src[i];
	if (o->gpt_seen)
		x->gpt = o->gpt;
	if (o->model)
		x->model = o->model;
	return cli_time_mem("catalog run", o->time_s, &x->time_s, o->mem, &x->mem_mib, false);
}

/* The submitter's environment less aidc's credentials, as aidc submit
 * sends it (sbatch's --export=ALL). A service's replicas get their port in
 * $PORT from the center: the caller's own PORT is left out (said on stderr). */
static json_t *env_of(bool service)
{
	json_t *a = json_array();
	size_t n = 0;
	for (char **ep = environ; *ep && n < AIDC_MAX_ENV; ep++) {
		if (service && !strncmp(*ep, "PORT=", 5)) {
			fprintf(stderr, "aidc catalog run: note: your PORT is not passed to the "
					"service: the center sets each replica's\n");
			continue;
		}
		if (strlen(*ep) < AIDC_MAX_ARG_BYTES && strchr(*ep, '=') != *ep &&
		    !cli_env_credential(*ep) && json_array_append_new(a, json_string(*ep)) == 0)
			n++;
	}
	return a;
}

/* Adds key: v when v is not NULL. */
static void set_str(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
}

static void set_pos(json_t *o, const char *key, int64_t v)
{
	if (v > 0)
		json_object_set_new(o, key, json_integer(v));
}

/* The POST /v1/jobs body, as aidc submit writes it. */
static json_t *job_body(json_t *r, const struct run_opts *o, const struct run_res *x, json_t *cmdv,
			const char *cwd)
{
	char name[AIDC_MAX_NAME_BYTES], ums[8];
	snprintf(name, sizeof name, "catalog-%s", json_string_value(json_object_get(r, "name")));
	mode_t um = umask(0);
	umask(um);
	snprintf(ums, sizeof ums, "%04o", (unsigned)(um & 0777));
	json_t *b = json_pack("{s:I, s:O, s:s, s:s}", "v", (json_int_t)API_JOB_SPEC_VERSION,
			      "command", cmdv, "cwd", cwd, "umask", ums);
	if (!o->no_env)
		json_object_set_new(b, "env", env_of(false));
	set_pos(b, "nodes", x->nodes);
	set_pos(b, "ntasks", x->ntasks);
	set_pos(b, "cpus_per_task", x->cpus);
	set_pos(b, "mem_mib", x->mem_mib);
	set_pos(b, "gpus_per_task", x->gpt);
	set_pos(b, "time_limit_s", x->time_s);
	set_str(b, "name", o->name ? o->name : name);
	set_str(b, "gpu_model", x->model);
	set_str(b, "partition", o->part);
	set_str(b, "account", o->account);
	set_str(b, "qos", o->qos);
	return b;
}

/* o's integer member key, else dflt. */
static json_int_t int_or(json_t *o, const char *key, json_int_t dflt)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

/* The POST /v1/services body (issue 16 item 1; the lead's endpoint). */
static json_t *service_body(json_t *r, const struct run_opts *o, const struct run_res *x,
			    json_t *cmdv, const char *cwd)
{
	json_t *s = json_object_get(r, "service"), *pr = json_object_get(s, "probe");
	json_int_t replicas = o->replicas ? o->replicas : int_or(s, "replicas", 1);
	json_t *probe = json_pack(
	    "{s:s, s:I, s:I, s:I}", "path", json_string_value(json_object_get(pr, "path")),
	    "period_s", int_or(pr, "period_s", 2), "timeout_s", int_or(pr, "timeout_s", 1),
	    "failure_threshold", int_or(pr, "failure_threshold", 3));
	json_t *b =
	    json_pack("{s:i, s:s, s:I, s:O, s:o, s:s, s:I, s:I, s:I}", "v", 1, "name",
		      o->name ? o->name : json_string_value(json_object_get(r, "name")), "replicas",
		      replicas, "command", cmdv, "env", o->no_env ? json_array() : env_of(true),
		      "cwd", cwd, "cpus_per_task", (json_int_t)x->cpus, "mem_mib",
		      (json_int_t)x->mem_mib, "gpus_per_task", (json_int_t)x->gpt);
	set_str(b, "gpu_model", x->model);
	set_str(b, "partition", o->part);
	set_str(b, "account", o->account);
	set_str(b, "qos", o->qos);
	json_object_set_new(b, "probe", probe);
	return b;
}

/* ---- aidc catalog run ------------------------------------------------------------ */

/* Short options of run and their long names. */
static const char *const run_shorts[][2] = {
    {"-N", "--nodes"},	   {"-n", "--ntasks"},	{"-c", "--cpus-per-task"}, {"-t", "--time"},
    {"-p", "--partition"}, {"-A", "--account"}, {"-q", "--qos"},
};

/* Rewrites argv for cli_parse into out (room for argc): short options to
 * long ones (-N2 and -N 2), and every --set (repeatable) into o->sets.
 * buf keeps the rewritten -N2 forms. */
static int split_run_argv(int argc, char **argv, struct run_opts *o, char **out, int *nout,
			  char (*buf)[256], size_t nbuf)
{
	int no = 0;
	size_t nb = 0;
	out[no++] = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *mapped = NULL;
		if (!strcmp(a, "--set") || !strncmp(a, "--set=", 6)) {
			const char *v = a[5] == '=' ? a + 6 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v || o->nsets == CATALOG_MAX_PARAMS) {
				fprintf(stderr, "aidc catalog run: %s\n",
					v ? "more --set than a recipe has parameters"
					  : "--set needs KEY=VALUE");
				return CLI_EXIT_USAGE;
			}
			o->sets[o->nsets++] = v;
			continue;
		}
		for (size_t k = 0; k < AIDC_ARRAY_LEN(run_shorts) && a[0] == '-' && a[1] &&
				   a[1] != '-' && !mapped;
		     k++)
			if (a[1] == run_shorts[k][0][1])
				mapped = run_shorts[k][1];
		if (!mapped) {
			out[no++] = argv[i];
		} else if (!a[2]) {
			out[no++] = (char *)mapped;
		} else if (nb < nbuf) {
			snprintf(buf[nb], sizeof buf[nb], "%s=%s", mapped,
				 a[2] == '=' ? a + 3 : a + 2);
			out[no++] = buf[nb++];
		} else {
			fprintf(stderr, "aidc catalog run: too many options\n");
			return CLI_EXIT_USAGE;
		}
	}
	*nout = no;
	return 0;
}

/* Parses run's command line into o and *recipe (borrowed from argv);
 * returns 1 after --help, or CLI_EXIT_*. */
static int parse_run(int argc, char **argv, struct run_opts *o, const char **recipe)
{
	const struct cli_flag flags[] = {
	    {"set", CLI_STR, &o->set_help, "KEY=VALUE",
	     "a parameter's value (repeatable); checked against the recipe's type, bounds and "
	     "choices",
	     0, 0, NULL, NULL},
	    {"nodes", CLI_I64, &o->nodes, "N", "-N: nodes (training)", 1, AIDC_MAX_NODES, NULL,
	     NULL},
	    {"ntasks", CLI_I64, &o->ntasks, "N", "-n: tasks, one rank each (training)", 1,
	     AIDC_MAX_TASKS_PER_JOB, NULL, NULL},
	    {"cpus-per-task", CLI_I64, &o->cpus, "N", "-c: CPUs per task or replica", 1,
	     AIDC_MAX_NODE_CPU_MILLI / 1000, NULL, NULL},
	    {"mem", CLI_STR, &o->mem, "SIZE", "memory per task or replica (e.g. 512M, 4G)", 0, 0,
	     NULL, NULL},
	    {"gpus-per-task", CLI_I64, &o->gpt, "N", "accelerators per task or replica", 0,
	     AIDC_MAX_DEVICES_PER_NODE, NULL, &o->gpt_seen},
	    {"gpu-model", CLI_STR, &o->model, "MODEL", "accelerator model", 0, 0, NULL, NULL},
	    {"time", CLI_STR, &o->time_s, "DURATION",
	     "-t: time limit of a training job, as aidc submit's", 0, 0, NULL, NULL},
	    {"partition", CLI_STR, &o->part, "NAME", "-p: partition", 0, 0, NULL, NULL},
	    {"account", CLI_STR, &o->account, "NAME", "-A: the account charged", 0, 0, NULL, NULL},
	    {"qos", CLI_STR, &o->qos, "NAME", "-q: quality of service", 0, 0, NULL, NULL},
	    {"name", CLI_STR, &o->name, "NAME",
	     "job name (default catalog-RECIPE) or service name (default RECIPE)", 0, 0, NULL,
	     NULL},
	    {"replicas", CLI_I64, &o->replicas, "N",
	     "replicas of a service (default: the recipe's, else 1)", 1, CATALOG_MAX_REPLICAS, NULL,
	     NULL},
	    {"dry-run", CLI_BOOL, &o->dry, NULL,
	     "print the request (POST /v1/jobs or /v1/services body) instead of sending it", 0, 0,
	     NULL, NULL},
	    {"no-env", CLI_BOOL, &o->no_env, NULL, "do not pass the current environment", 0, 0,
	     NULL, NULL},
	    {"json", CLI_BOOL, &o->json, NULL,
	     "print the request (--dry-run) or the controller's reply as JSON", 0, 0, NULL, NULL},
	    CLI_CONN_FLAGS(o->sock),
	};
	const struct cli_cmd cmd = {
	    "catalog run", "aidc catalog run RECIPE [--set KEY=VALUE]... [resource flags]",
	    "Runs a recipe: every parameter resolved (its default, or a --set value checked "
	    "against its type, bounds and choices; an unknown key or bad value is refused and "
	    "nothing is sent) into /usr/bin/python3 SCRIPT --KEY VALUE ...; a training recipe "
	    "becomes a job (POST /v1/jobs, as aidc submit, named catalog-RECIPE), a service "
	    "recipe a service (POST /v1/services) with the recipe's readiness probe. Resource "
	    "flags override the recipe's needs. -N, -n, -c, -t, -p, -A and -q are the short "
	    "forms.",
	    flags, AIDC_ARRAY_LEN(flags)};
	char **args = aidc_calloc((size_t)argc + 1, sizeof *args);
	char buf[32][256];
	int nargs = 0;
	int rc = split_run_argv(argc, argv, o, args, &nargs, buf, AIDC_ARRAY_LEN(buf));
	const char *pos[1];
	size_t npos = 0;
	if (!rc)
		rc = cli_parse(&cmd, nargs, args, pos, 1, &npos);
	aidc_free(args);
	if (!rc && npos != 1)
		rc = cli_refuse(&cmd, "give the recipe's name (see 'aidc catalog list')");
	if (!rc)
		*recipe = pos[0];
	return rc;
}

/* A random request id: a job resent after a lost reply is not made twice
 * (as aidc submit's). */
static void add_request_id(json_t *b)
{
	unsigned char raw[16];
	char hex[40];
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		return; /* then the job is sent without one, as a plain POST */
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	json_object_set_new(b, "request_id", json_string(hex));
}

/* Sends the body and prints the job id, the service, or the raw reply. */
static int send_run(const struct run_opts *o, bool service, json_t *b)
{
	const char *path = service ? "/v1/services" : "/v1/jobs";
	char *text = json_dumps(b, JSON_COMPACT);
	char sp[AIDC_MAX_PATH_BYTES];
	cli_socket_path(o->sock, sp, sizeof sp);
	struct api_call c;
	int rc = cli_call_retry("catalog run", sp, "POST", path, text, strlen(text), &c,
				cli_call_wait_flag(sp) | (service ? 0 : CLI_CALL_IDEMPOTENT));
	free(text);
	if (rc)
		return rc;
	json_t *reply = json_loads(aidc_buf_str(&c.reply), 0, NULL);
	if (o->json)
		printf("%s\n", aidc_buf_str(&c.reply));
	else if (service)
		printf("created service %s\n", json_string_value(json_object_get(b, "name")));
	else
		printf("submitted job %" JSON_INTEGER_FORMAT " (%s)\n",
		       json_integer_value(json_object_get(reply, "id")),
		       json_string_value(json_object_get(b, "name")));
	json_decref(reply);
	aidc_buf_release(&c.reply);
	return CLI_EXIT_OK;
}

/* A note on stderr when the run asks for a device model the recipe was
 * not validated on (it is still run: validation is advice, not a limit). */
static void note_validated(json_t *r, const char *model)
{
	json_t *v;
	size_t i;
	char models[512];
	if (!model)
		return;
	json_array_foreach(json_object_get(r, "validated_on"), i, v)
	{
		if (!strcmp(json_string_value(v), model))
			return;
	}
	models_text(r, models, sizeof models);
	fprintf(stderr, "aidc catalog run: note: %s is not validated on %s (validated on: %s)\n",
		json_string_value(json_object_get(r, "name")), model, models);
}

/* --dry-run: the request that would be sent, without its request id. */
static void print_dry(const struct run_opts *o, bool service, json_t *b)
{
	char *text = json_dumps(b, o->json ? JSON_COMPACT : JSON_INDENT(2));
	if (!o->json)
		printf("POST %s\n", service ? "/v1/services" : "/v1/jobs");
	printf("%s\n", text);
	free(text);
}

static int catalog_run(int argc, char **argv)
{
	struct run_opts o = {0};
	const char *name = NULL;
	char dir[PATH_MAX], cwd[AIDC_MAX_PATH_BYTES];
	int rc = parse_run(argc, argv, &o, &name);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	if (find_catalog("catalog run", dir))
		return CLI_EXIT_FAIL;
	json_t *r = load_recipe("catalog run", dir, name);
	if (!r)
		return CLI_EXIT_FAIL;
	struct run_res x;
	json_t *vals = NULL, *b = NULL;
	bool service = !strcmp(kind_of(r), "service");
	rc = CLI_EXIT_USAGE;
	if (run_resources(r, &o, &x) || !(vals = resolve("catalog run", r, o.sets, o.nsets)))
		goto out;
	if (!getcwd(cwd, sizeof cwd))
		snprintf(cwd, sizeof cwd, "/");
	note_validated(r, x.model);
	json_t *cmdv = command_of(r, dir, vals);
	b = service ? service_body(r, &o, &x, cmdv, cwd) : job_body(r, &o, &x, cmdv, cwd);
	json_decref(cmdv);
	if (o.dry) {
		print_dry(&o, service, b);
		rc = CLI_EXIT_OK;
	} else {
		if (!service)
			add_request_id(b);
		rc = send_run(&o, service, b);
	}
out:
	json_decref(b);
	json_decref(vals);
	json_decref(r);
	return rc;
}

/* ---- aidc catalog show ----------------------------------------------------------- */

/* "min..max", "a|b|c" or "-": what a parameter accepts beyond its type. */
static void allowed_text(json_t *p, char *out, size_t n)
{
	json_t *min = json_object_get(p, "min"), *max = json_object_get(p, "max"), *c;
	char a[64] = "", b[64] = "";
	size_t i, w = 0;
	snprintf(out, n, "-");
	if (min || max) {
		if (min)
			value_text(min, a, sizeof a);
		if (max)
			value_text(max, b, sizeof b);
		snprintf(out, n, "%s..%s", a, b);
	}
	json_array_foreach(json_object_get(p, "choices"), i, c)
	{
		value_text(c, a, sizeof a);
		w += (size_t)snprintf(out + (w < n ? w : n - 1), w < n ? n - w : 1, "%s%s",
				      i ? "|" : "", a);
	}
}

static void show_params(json_t *r)
{
	json_t *p;
	size_t i;
	char def[CATALOG_MAX_VALUE_BYTES + 8], allowed[512];
	printf("parameters (--set KEY=VALUE):\n  %-16s %-7s %-14s %-22s %s\n", "NAME", "TYPE",
	       "DEFAULT", "ALLOWED", "HELP");
	json_array_foreach(json_object_get(r, "parameters"), i, p)
	{
		value_text(json_object_get(p, "default"), def, sizeof def);
		allowed_text(p, allowed, sizeof allowed);
		printf("  %-16s %-7s %-14s %-22s %s\n", pname(p),
		       json_string_value(json_object_get(p, "type")), *def ? def : "\"\"", allowed,
		       json_string_value(json_object_get(p, "help")));
	}
}

static void show_recipe(json_t *r, const char *dir)
{
	json_t *res = json_object_get(r, "resources"), *s = json_object_get(r, "service");
	char models[512];
	models_text(r, models, sizeof models);
	printf("name:          %s\nkind:          %s\ndescription:   %s\n",
	       json_string_value(json_object_get(r, "name")), kind_of(r),
	       json_string_value(json_object_get(r, "description")));
	printf("entry:         %s %s/%s\nvalidated on:  %s\n", CATALOG_PYTHON, dir,
	       json_string_value(json_object_get(r, "entry")), models);
	printf("resources:     nodes %" JSON_INTEGER_FORMAT ", ntasks %" JSON_INTEGER_FORMAT
	       ", cpus_per_task %" JSON_INTEGER_FORMAT ", mem_mib %" JSON_INTEGER_FORMAT
	       ", gpus_per_task %" JSON_INTEGER_FORMAT ", gpu_model %s\n",
	       int_or(res, "nodes", 1), int_or(res, "ntasks", 1), int_or(res, "cpus_per_task", 1),
	       int_or(res, "mem_mib", 0), int_or(res, "gpus_per_task", 0),
	       json_string_value(json_object_get(res, "gpu_model"))
		   ? json_string_value(json_object_get(res, "gpu_model"))
		   : "any");
	if (s) {
		json_t *pr = json_object_get(s, "probe");
		printf("service:       port in $%s, replicas %" JSON_INTEGER_FORMAT
		       ", readiness GET %s every %" JSON_INTEGER_FORMAT
		       " s (timeout %" JSON_INTEGER_FORMAT " s, %" JSON_INTEGER_FORMAT
		       " failures)\n",
		       json_string_value(json_object_get(s, "port_env")), int_or(s, "replicas", 1),
		       json_string_value(json_object_get(pr, "path")), int_or(pr, "period_s", 2),
		       int_or(pr, "timeout_s", 1), int_or(pr, "failure_threshold", 3));
	}
	show_params(r);
}

/* The device model of an accounting record: its only model, "cpu" when it
 * held no device, "mixed" for several. */
static const char *record_model(json_t *rec)
{
	json_t *d = json_object_get(rec, "devices");
	if (json_object_size(d) == 0)
		return "cpu";
	if (json_object_size(d) > 1)
		return "mixed";
	return json_object_iter_key(json_object_iter(d));
}

/* Collects the elapsed seconds of the completed attempts named name, per
 * model, from at most CATALOG_MAX_HISTORY_PAGES pages of GET /v1/acct.
 * hist: model -> [elapsed...]. Returns 0, or CLI_EXIT_FAIL (printed). */
static int fetch_history(const char *sp, const char *name, json_t *hist, json_t *speed)
{
	char after[64] = "";
	size_t scanned = 0, page;
	bool more = true;
	for (page = 0; more && page < CATALOG_MAX_HISTORY_PAGES; page++) {
		char path[256];
		snprintf(path, sizeof path, "/v1/acct?state=completed&tasks=0&limit=1000%s%s",
			 after[0] ? "&after=" : "", after);
		struct api_call c;
		if (cli_call("catalog show", sp, "GET", path, NULL, 0, &c))
			return CLI_EXIT_FAIL;
		json_t *rep = json_loadb(aidc_buf_str(&c.reply), c.reply.len, 0, NULL), *rec;
		aidc_buf_release(&c.reply);
		size_t i;
		json_array_foreach(json_object_get(rep, "records"), i, rec)
		{
			scanned++;
			if (!json_is_string(json_object_get(rec, "name")) ||
			    strcmp(json_string_value(json_object_get(rec, "name")), name) != 0)
				continue;
			const char *m = record_model(rec);
			if (!json_object_get(hist, m))
				json_object_set_new(hist, m, json_array());
			json_array_append(json_object_get(hist, m),
					  json_object_get(rec, "elapsed_s"));
		}
		json_t *next = json_object_get(rep, "next_after");
		more = json_is_true(json_object_get(rep, "more")) && json_is_string(next);
		if (more)
			snprintf(after, sizeof after, "%s", json_string_value(next));
		json_decref(rep);
	}
	json_object_set_new(speed, "records_scanned", json_integer((json_int_t)scanned));
	json_object_set_new(speed, "history_truncated", json_boolean(more));
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The median of an array of integers (the mean of the middle two). */
static double median(json_t *a)
{
	size_t n = json_array_size(a), i;
	int64_t *v = aidc_calloc(n ? n : 1, sizeof *v);
	json_t *x;
	json_array_foreach(a, i, x)
	{
		v[i] = json_integer_value(x);
	}
	qsort(v, n, sizeof *v, cmp_i64);
	double m = n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
	aidc_free(v);
	return m;
}

/* The rate of model in GET /v1/rates' reply, or 0 when it has none. */
static double rate_of(json_t *rates, const char *model)
{
	json_t *r;
	size_t i;
	json_array_foreach(json_object_get(rates, "rates"), i, r)
	{
		if (!strcmp(json_string_value(json_object_get(r, "model")), model))
			return json_number_value(json_object_get(r, "rate"));
	}
	return 0;
}

static void add_model(json_t *names, const char *m)
{
	json_t *v;
	size_t i;
	json_array_foreach(names, i, v)
	{
		if (!strcmp(json_string_value(v), m))
			return;
	}
	if (json_array_size(names) < 4 * CATALOG_MAX_MODELS)
		json_array_append_new(names, json_string(m));
}

/* speed.models: one row a model (the validated ones, then those in the
 * history, then every model with a rate), each with its rate, its speed
 * relative to the reference (the first validated model with a rate, else
 * the exam's built-in reference, rate 1) and its completed runs' median. */
static void speed_rows(json_t *r, json_t *rates, json_t *hist, json_t *speed)
{
	json_t *names = json_array(), *rows = json_array(), *v,
	       *val = json_object_get(r, "validated_on");
	const char *k, *ref = NULL;
	double ref_rate = 1;
	size_t i;
	json_array_foreach(val, i, v)
	{
		add_model(names, json_string_value(v));
		if (!ref && rate_of(rates, json_string_value(v)) > 0) {
			ref = json_string_value(v);
			ref_rate = rate_of(rates, ref);
		}
	}
	json_object_foreach(hist, k, v)
	{
		add_model(names, k);
	}
	json_array_foreach(json_object_get(rates, "rates"), i, v)
	{
		add_model(names, json_string_value(json_object_get(v, "model")));
	}
	json_array_foreach(names, i, v)
	{
		const char *m = json_string_value(v);
		double rate = rate_of(rates, m);
		json_t *h = json_object_get(hist, m), *x;
		bool validated = false;
		size_t j;
		json_array_foreach(val, j, x)
		{
			validated |= !strcmp(json_string_value(x), m);
		}
		json_array_append_new(
		    rows, json_pack("{s:s, s:b, s:o, s:o, s:I, s:o}", "model", m, "validated",
				    validated, "rate", rate > 0 ? json_real(rate) : json_null(),
				    "relative", rate > 0 ? json_real(rate / ref_rate) : json_null(),
				    "runs", (json_int_t)json_array_size(h), "median_elapsed_s",
				    h ? json_real(median(h)) : json_null()));
	}
	json_object_set_new(speed, "reference", ref ? json_string(ref) : json_null());
	json_object_set_new(speed, "models", rows);
	json_decref(names);
}

/* Fills speed from the controller; 0, or -1 with speed_error set in out. */
static int speed_of(json_t *r, const char *sock, const char *job_name, json_t *out)
{
	char sp[AIDC_MAX_PATH_BYTES], why[AIDC_MAX_PATH_BYTES + 128];
	cli_socket_path(sock, sp, sizeof sp);
	struct api_call c;
	json_t *speed = json_object(), *hist = json_object(), *rates = NULL;
	int rc = cli_call("catalog show", sp, "GET", "/v1/rates", NULL, 0, &c);
	if (!rc) {
		rates = json_loadb(aidc_buf_str(&c.reply), c.reply.len, 0, NULL);
		aidc_buf_release(&c.reply);
		json_object_set_new(speed, "job_name", json_string(job_name));
		rc = rates ? fetch_history(sp, job_name, hist, speed) : -1;
	}
	if (!rc) {
		speed_rows(r, rates, hist, speed);
		json_object_set(out, "speed", speed);
	} else {
		snprintf(why, sizeof why,
			 "the controller at %s did not answer (GET /v1/rates and /v1/acct; the "
			 "reason is on stderr)",
			 sp);
		json_object_set_new(out, "speed_error", json_string(why));
	}
	json_decref(rates);
	json_decref(hist);
	json_decref(speed);
	return rc ? -1 : 0;
}

static void print_speed(json_t *out)
{
	json_t *speed = json_object_get(out, "speed"), *row;
	size_t i;
	if (!speed) {
		printf("expected speed: not available: %s\n",
		       json_string_value(json_object_get(out, "speed_error")));
		return;
	}
	printf("expected speed (rates from GET /v1/rates; history: completed jobs named %s, "
	       "%" JSON_INTEGER_FORMAT " accounting records read%s):\n",
	       json_string_value(json_object_get(speed, "job_name")),
	       json_integer_value(json_object_get(speed, "records_scanned")),
	       json_is_true(json_object_get(speed, "history_truncated")) ? ", the oldest only"
									 : "");
	printf("  %-20s %-9s %12s %9s %6s %s\n", "MODEL", "VALIDATED", "RATE", "RELATIVE", "RUNS",
	       "MEDIAN_ELAPSED");
	json_array_foreach(json_object_get(speed, "models"), i, row)
	{
		char rate[32] = "-", rel[32] = "-", med[32] = "-";
		json_t *x = json_object_get(row, "rate");
		if (json_is_number(x)) {
			snprintf(rate, sizeof rate, "%.6f", json_number_value(x));
			snprintf(rel, sizeof rel, "%.2fx",
				 json_number_value(json_object_get(row, "relative")));
		}
		if (json_is_number((x = json_object_get(row, "median_elapsed_s"))))
			snprintf(med, sizeof med, "%.1f s", json_number_value(x));
		printf("  %-20s %-9s %12s %9s %6" JSON_INTEGER_FORMAT " %s\n",
		       json_string_value(json_object_get(row, "model")),
		       json_is_true(json_object_get(row, "validated")) ? "yes" : "no", rate, rel,
		       json_integer_value(json_object_get(row, "runs")), med);
	}
	const char *ref = json_string_value(json_object_get(speed, "reference"));
	printf("RELATIVE: the model's rate over %s%s (docs/accounting.md); '-': no published "
	       "exam or override\n",
	       ref ? ref : "the exam's built-in reference (rate 1)", ref ? "'s" : "");
}

static int catalog_show(int argc, char **argv)
{
	const char *sock = NULL, *jname = NULL, *pos[1];
	bool json = false;
	const struct cli_flag flags[] = {
	    {"name", CLI_STR, &jname, "NAME",
	     "the job name whose history gives the expected speed (default catalog-RECIPE)", 0, 0,
	     NULL, NULL},
	    CLI_LIVE_FLAGS(json, sock),
	};
	const struct cli_cmd cmd = {
	    "catalog show", "aidc catalog show RECIPE [--name JOB] [--json]",
	    "Prints everything in a recipe (kind, entry script, parameters with types, defaults "
	    "and bounds, resources, validated device models, a service's probe) and its expected "
	    "speed per device model: the model's rate relative to the first validated model's "
	    "(GET /v1/rates) and the median elapsed time of the completed jobs of the recipe "
	    "(GET /v1/acct, jobs named catalog-RECIPE unless --name). When the controller "
	    "cannot be asked the recipe is still printed, with the reason the speed is missing.",
	    flags, AIDC_ARRAY_LEN(flags)};
	int rc;
	char dir[PATH_MAX], dname[AIDC_MAX_NAME_BYTES + 16];
	if (!cli_parse_exact(&cmd, argc, argv, pos, 1, &rc, "give the recipe's name"))
		return rc;
	if (find_catalog(cmd.name, dir))
		return CLI_EXIT_FAIL;
	json_t *r = load_recipe(cmd.name, dir, pos[0]);
	if (!r)
		return CLI_EXIT_FAIL;
	snprintf(dname, sizeof dname, "catalog-%s", pos[0]);
	json_t *out = json_pack("{s:s, s:O}", "catalog", dir, "recipe", r);
	speed_of(r, sock, jname ? jname : dname, out);
	if (json) {
		char *s = json_dumps(out, JSON_COMPACT);
		printf("%s\n", s);
		free(s);
	} else {
		show_recipe(r, dir);
		print_speed(out);
	}
	json_decref(out);
	json_decref(r);
	return CLI_EXIT_OK;
}

int cli_catalog_main(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !*sub) {
		printf(
		    "usage: aidc catalog <list|show|run|check> [options]   (docs/catalog.md)\n"
		    "The model and algorithm catalogue: recipes for training jobs and services.\n");
		return *sub ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	if (!strcmp(sub, "list"))
		return catalog_list(argc - 1, argv + 1);
	if (!strcmp(sub, "show"))
		return catalog_show(argc - 1, argv + 1);
	if (!strcmp(sub, "run"))
		return catalog_run(argc - 1, argv + 1);
	if (!strcmp(sub, "check"))
		return catalog_check(argc - 1, argv + 1);
	fprintf(stderr, "aidc catalog: unknown command '%s' (list, show, run or check)\n", sub);
	return CLI_EXIT_USAGE;
}
