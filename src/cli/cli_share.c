/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc share` (as Slurm's sshare) and `aidc priority JOB` (as sprio): the
 * fair-share tree with shares, decayed usage and fair-share factor, and the
 * factors of one pending job's multifactor priority (docs/tenancy.md "Fair
 * share and multifactor priority"). One GET each; a table for people, the
 * controller's JSON with --json.
 */
#include <jansson.h>

#include "cli/cli.h"
#include "cli/cli_live.h"
#include "util/util.h"

static double jnum(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

/* Depth of group g in the tree (its parent chain within the reply). */
static int depth_of(json_t *groups, json_t *g)
{
	int d = 0;
	for (const char *p = json_string_value(json_object_get(g, "parent")); p && d < 16; d++) {
		size_t i;
		json_t *x;
		const char *next = NULL;
		json_array_foreach(groups, i, x)
		{
			if (!strcmp(json_string_value(json_object_get(x, "name")), p)) {
				next = json_string_value(json_object_get(x, "parent"));
				break;
			}
		}
		p = next;
	}
	return d;
}

struct row {
	json_int_t rank;
	int depth;
	json_t *g;
};

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return strcmp(json_string_value(json_object_get(x->g, "name")),
		      json_string_value(json_object_get(y->g, "name")));
}

static void show_share(json_t *r)
{
	json_t *groups = json_object_get(r, "groups");
	printf("order %s, usage half-life %lld s\n", json_string_value(json_object_get(r, "order")),
	       (long long)json_integer_value(json_object_get(r, "half_life_s")));
	printf("%-36s %8s %10s %14s %10s %10s %9s\n", "GROUP", "SHARES", "NORM_SHR", "USAGE_DEV_S",
	       "NORM_USE", "LEVEL_FS", "FAIRSHARE");
	/* Rows in the tree's walk order: by rank, then depth (parents first), then name. */
	size_t n = json_array_size(groups);
	struct row *rows = aidc_calloc(n ? n : 1, sizeof *rows);
	for (size_t i = 0; i < n; i++) {
		json_t *g = json_array_get(groups, i);
		rows[i] = (struct row){json_integer_value(json_object_get(g, "rank")),
				       depth_of(groups, g), g};
	}
	qsort(rows, n, sizeof *rows, row_cmp);
	for (size_t i = 0; i < n; i++) {
		json_t *g = rows[i].g;
		char name[160], lbuf[32];
		snprintf(name, sizeof name, "%*s%s", 2 * rows[i].depth, "",
			 json_string_value(json_object_get(g, "name")));
		json_t *lfs = json_object_get(g, "level_fs");
		if (json_is_number(lfs))
			snprintf(lbuf, sizeof lbuf, "%.4f", json_number_value(lfs));
		else
			snprintf(lbuf, sizeof lbuf, "inf");
		printf("%-36s %8lld %10.4f %14.1f %10.4f %10s %9.4f\n", name,
		       (long long)json_integer_value(json_object_get(g, "shares")),
		       jnum(g, "norm_shares"), jnum(g, "usage_dev_s"), jnum(g, "norm_usage"), lbuf,
		       jnum(g, "fairshare"));
	}
	aidc_free(rows);
}


static void show_priority(json_t *r)
{
	static const char *const keys[] = {"age", "fairshare", "size", "qos", "partition"};
	printf("job %lld: priority %lld (order %s%s)\n",
	       (long long)json_integer_value(json_object_get(r, "id")),
	       (long long)json_integer_value(json_object_get(r, "priority")),
	       json_string_value(json_object_get(r, "order")),
	       json_is_true(json_object_get(r, "ordered_by_it"))
		   ? ""
		   : ": the queue is not ordered by this priority; set order = multifactor");
	printf("%-10s %8s %8s %10s\n", "FACTOR", "VALUE", "WEIGHT", "PRIORITY");
	for (size_t i = 0; i < AIDC_ARRAY_LEN(keys); i++) {
		json_t *f = json_object_get(r, keys[i]);
		printf("%-10s %8.4f %8lld %10.1f\n", keys[i], jnum(f, "factor"),
		       (long long)json_integer_value(json_object_get(f, "weight")),
		       jnum(f, "value"));
	}
	printf("%-10s %8s %8s %10lld\n", "nice", "", "",
	       (long long)json_integer_value(json_object_get(r, "nice")));
	const char *g = json_string_value(json_object_get(r, "fairshare_group"));
	printf("fair share of: %s\n", g ? g : "- (no account)");
}

/* `aidc share` and `aidc priority JOB`: one GET (of the job's priority when
 * job), shown by show unless --json. */
static int get_cmd(int argc, char **argv, const char *name, const char *usage,
		   const char *summary, bool job, void (*show)(json_t *))
{
	const char *sock = NULL;
	bool json = false;
	const struct cli_flag flags[] = {
	    CLI_LIVE_FLAGS(json, sock),
	};
	const struct cli_cmd cmd = {name, usage, summary, flags, AIDC_ARRAY_LEN(flags)};
	char path[64] = "/v1/share";
	int64_t id = 0;
	int rc;
	if (!job && !cli_parse_main(&cmd, argc, argv, NULL, 0, NULL, &rc))
		return rc;
	if (job && !cli_parse_id(&cmd, argc, argv, &id, &rc, "give one job id (a positive integer)"))
		return rc;
	if (job)
		snprintf(path, sizeof path, "/v1/jobs/%lld/priority", (long long)id);
	return cli_get_show(name, sock, path, json, show);
}

int cli_share_main(int argc, char **argv)
{
	return get_cmd(argc, argv, "share", "aidc share [--json]",
		       "The fair-share tree (as Slurm's sshare): each group's shares, decayed "
		       "usage in device-seconds, level fair share (normalized shares over "
		       "normalized usage) and fair-share factor, for the accounts you may see "
		       "(docs/tenancy.md).",
		       false, show_share);
}

int cli_priority_main(int argc, char **argv)
{
	return get_cmd(argc, argv, "priority", "aidc priority JOB [--json]",
		       "Explain a pending job's multifactor priority (as Slurm's sprio): each "
		       "factor (age, fair share, size, QoS) in 0..1, its weight and its part of "
		       "the priority, plus the job's own (nice) priority (docs/tenancy.md).",
		       true, show_priority);
}
