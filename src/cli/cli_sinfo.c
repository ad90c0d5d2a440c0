/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc sinfo` (and `sinfo`, the same binary under Slurm's name): Slurm's
 * node summary over aidc's node list. Nodes whose shown fields are equal are
 * one line, with NODES their count and NODELIST their compressed hostlist,
 * as sinfo groups them; -N gives one line per node. Formats go through
 * util/slurmfmt, as squeue's do; options with no meaning here are refused
 * naming them (docs/slurm.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_live.h"
#include "cli/cli_slurm.h"
#include "util/hostlist.h"
#include "util/slurmfmt.h"
#include "util/util.h"

#define SI_FIELDS "PRaltTDNGcmE"
#define SI_DEFAULT "%9P %.5a %.10l %.6D %.6t %N"
#define SI_NODES "%10N %.6D %9P %.6t"

static const char *const si_headers[][2] = {
    {"P", "PARTITION"}, {"R", "PARTITION"}, {"a", "AVAIL"}, {"l", "TIMELIMIT"},
    {"t", "STATE"},	{"T", "STATE"},	    {"D", "NODES"}, {"N", "NODELIST"},
    {"G", "GRES"},	{"c", "CPUS"},	    {"m", "MEMORY"}, {"E", "REASON"},
};

/* A node's Slurm state: down and unknown as they are; drained nodes that
 * still run tasks are draining; up nodes idle, allocated (every device in
 * use) or mixed (some work). */
static int node_state(json_t *n)
{
	const char *st = cli_slurm_str(n, "state");
	if (!strcmp(st, "down"))
		return AIDC_SNS_DOWN;
	if (!strcmp(st, "unknown"))
		return AIDC_SNS_UNKNOWN;
	long long devs = cli_slurm_int(n, "devices"), free_ = cli_slurm_int(n, "devices_free");
	bool busy = cli_slurm_int(n, "tasks") > 0 || free_ < devs;
	if (json_is_true(json_object_get(n, "drained")) || !strcmp(st, "drained"))
		return busy ? AIDC_SNS_DRAINING : AIDC_SNS_DRAINED;
	if (!busy)
		return AIDC_SNS_IDLE;
	return devs > 0 && free_ == 0 ? AIDC_SNS_ALLOCATED : AIDC_SNS_MIXED;
}

/* One output line: the nodes whose shown fields are equal. */
struct si_group {
	json_t *first;  /* borrowed: the first node, for the shared fields */
	char **names;   /* borrowed from the nodes' JSON */
	size_t n, cap;
	char *key;
};

static const char *value(void *ctx, char letter, struct aidc_buf *b)
{
	struct si_group *g = ctx;
	json_t *n = g->first;
	int st = node_state(n);
	bool dead = st == AIDC_SNS_DOWN || st == AIDC_SNS_UNKNOWN; /* not responding: '*' */
	switch (letter) {
	case 'P':
	case 'R':
		return cli_slurm_str(n, "partition");
	case 'a':
		return "up";
	case 'l':
		return "infinite";
	case 't':
		aidc_buf_printf(b, "%s%s", aidc_slurm_node_state_short(st), dead ? "*" : "");
		return aidc_buf_str(b);
	case 'T':
		aidc_buf_printf(b, "%s%s", aidc_slurm_node_state_long(st), dead ? "*" : "");
		return aidc_buf_str(b);
	case 'D':
		aidc_buf_printf(b, "%zu", g->n);
		return aidc_buf_str(b);
	case 'N':
		aidc_hostlist_compress(g->names, g->n, b);
		return aidc_buf_str(b);
	case 'G':
		if (cli_slurm_int(n, "devices") <= 0)
			return "(null)";
		aidc_buf_printf(b, "gpu%s%s:%lld", *cli_slurm_str(n, "model") ? ":" : "",
				cli_slurm_str(n, "model"), cli_slurm_int(n, "devices"));
		return aidc_buf_str(b);
	case 'c':
		aidc_buf_printf(b, "%lld", cli_slurm_int(n, "cpus"));
		return aidc_buf_str(b);
	case 'm':
		aidc_buf_printf(b, "%lld", cli_slurm_int(n, "mem_mib"));
		return aidc_buf_str(b);
	default: /* 'E' */
		return *cli_slurm_str(n, "reason") ? cli_slurm_str(n, "reason") : "none";
	}
}

/* Nodes by partition, then name (digit runs as numbers: n2 before n10). */
static int by_partition_name(const void *x, const void *y)
{
	json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
	int c = strcmp(cli_slurm_str(a, "partition"), cli_slurm_str(b, "partition"));
	return c ? c : strverscmp(cli_slurm_str(a, "name"), cli_slurm_str(b, "name"));
}

static const struct cli_slurm_refused si_refused[] = {
    {"long", 'l', NULL, "the long format's fields (job sizes, root, oversubscribe, groups) "
			"are not kept here; use -o"},
    {"summarize", 's', NULL, "not implemented; use -o '%P %.6D %t'"},
    {"list-reasons", 'R', NULL, "not implemented; use -t drain,down -o '%30E %N'"},
    {"Format", 'O', "FIELDS", "long field names are not implemented; use -o/--format %-fields"},
    {"sort", 'S', "KEYS", "sort keys are not implemented; the order is by partition, then node"},
    {"iterate", 'i', "SECONDS", "not implemented; use watch sinfo"},
    {"clusters", 'M', "NAMES", "federated clusters do not exist here"},
    {"federation", 0, NULL, "federated clusters do not exist here"},
    {"reservation", 'T', NULL, "reservations are not implemented"},
    {"verbose", 'v', NULL, "no verbose report is implemented"},
    {"yaml", 0, NULL, "YAML output is not implemented; use --json"},
};

struct si_opts {
	const char *sock, *part, *states, *nodes, *format;
	bool json, node, noheader, exact, all, responding, dead, version;
	struct cli_slurm_refusal refused[AIDC_ARRAY_LEN(si_refused)];
};

static const struct cli_slurm_short si_short[] = {
    {'p', "--partition", true}, {'t', "--states", true},   {'n', "--nodes", true},
    {'N', "--Node", false},	{'h', "--noheader", false}, {'o', "--format", true},
    {'e', "--exact", false},	{'a', "--all", false},	    {'r', "--responding", false},
    {'d', "--dead", false},	{'V', "--version", false},  {'l', "--long", false},
    {'s', "--summarize", false}, {'R', "--list-reasons", false}, {'O', "--Format", true},
    {'S', "--sort", true},	{'i', "--iterate", true},   {'M', "--clusters", true},
    {'T', "--reservation", false}, {'v', "--verbose", false},
};

static struct cli_flag *si_flags(struct si_opts *o, size_t *n)
{
	const struct cli_flag base[] = {
	    {"partition", CLI_STR, &o->part, "PARTS", "(-p) nodes of these partitions", 0, 0,
	     NULL, NULL},
	    {"states", CLI_STR, &o->states, "STATES", "(-t) nodes in these states: idle, mix, "
	     "alloc, drain (drained and draining), drng, down, unk or their long names; comma "
	     "list, any case", 0, 0, NULL, NULL},
	    {"nodes", CLI_STR, &o->nodes, "HOSTLIST", "(-n) these nodes (n[1-3])", 0, 0, NULL,
	     NULL},
	    {"Node", CLI_BOOL, &o->node, NULL, "(-N) one line per node", 0, 0, NULL, NULL},
	    {"noheader", CLI_BOOL, &o->noheader, NULL, "(-h) no header line", 0, 0, NULL, NULL},
	    {"format", CLI_STR, &o->format, "FORMAT", "(-o) fields %[.][-][width]X of " SI_FIELDS
	     " (docs/slurm.md)", 0, 0, NULL, NULL},
	    {"exact", CLI_BOOL, &o->exact, NULL, "(-e) group only nodes with equal fields "
	     "(always so here)", 0, 0, NULL, NULL},
	    {"all", CLI_BOOL, &o->all, NULL, "(-a) all partitions (none are hidden here)", 0, 0,
	     NULL, NULL},
	    {"responding", CLI_BOOL, &o->responding, NULL, "(-r) only nodes that answer", 0, 0,
	     NULL, NULL},
	    {"dead", CLI_BOOL, &o->dead, NULL, "(-d) only nodes that do not answer (down, "
	     "unknown)", 0, 0, NULL, NULL},
	    {"version", CLI_BOOL, &o->version, NULL, "(-V) print the version", 0, 0, NULL, NULL},
	    CLI_LIVE_FLAGS(o->json, o->sock),
	};
	return cli_slurm_flags(base, AIDC_ARRAY_LEN(base), si_refused, o->refused,
			       AIDC_ARRAY_LEN(si_refused), n);
}

/* Checks the options; sets *states, the -n names and the format. 0 or CLI_EXIT_USAGE. */
static int si_resolve(const struct si_opts *o, uint32_t *states, struct cli_slurm_filter *names,
		      struct aidc_sfmt *fmt)
{
	if (cli_slurm_refuse("sinfo", si_refused, o->refused, AIDC_ARRAY_LEN(si_refused), ""))
		return CLI_EXIT_USAGE;
	if (o->responding && o->dead) {
		fprintf(stderr, "aidc sinfo: -r/--responding and -d/--dead exclude each other\n");
		return CLI_EXIT_USAGE;
	}
	struct aidc_err e;
	aidc_err_clear(&e);
	int rc;
	*states = (1u << AIDC_SNS_COUNT_) - 1;
	if (o->states && (rc = aidc_slurm_node_states_parse(o->states, states, &e)) != 0) {
		fprintf(stderr, "aidc sinfo: -t/--states: %s\n", aidc_err_text(&e, rc));
		return CLI_EXIT_USAGE;
	}
	if (o->nodes && (rc = cli_slurm_filter_nodes("sinfo", o->nodes, names)) != 0)
		return rc;
	const char *spec = o->format ? o->format : o->node ? SI_NODES : SI_DEFAULT;
	if ((rc = aidc_sfmt_parse(spec, SI_FIELDS, fmt, &e)) != 0) {
		fprintf(stderr, "aidc sinfo: -o/--format: %s\n", aidc_err_text(&e, rc));
		return CLI_EXIT_USAGE;
	}
	return 0;
}

static bool si_match(const struct si_opts *o, uint32_t states, const struct cli_slurm_filter *nf,
		     json_t *n)
{
	int st = node_state(n);
	bool dead = st == AIDC_SNS_DOWN || st == AIDC_SNS_UNKNOWN;
	if (!(states & (1u << st)) || (o->responding && dead) || (o->dead && !dead))
		return false;
	if (o->part && !cli_slurm_in_list(o->part, cli_slurm_str(n, "partition")))
		return false;
	bool named = !nf->nodes;
	for (size_t i = 0; !named && i < nf->nnodes; i++)
		named = strcmp(nf->nodes[i], cli_slurm_str(n, "name")) == 0;
	return named;
}

/* The grouping key of node n: its values of every shown field but NODES and NODELIST. */
static char *group_key(const struct aidc_sfmt *fmt, json_t *n)
{
	struct si_group one = {.first = n, .n = 1};
	struct aidc_buf key, scratch;
	aidc_buf_init(&key, 1u << 20);
	aidc_buf_init(&scratch, 1u << 20);
	for (size_t i = 0; i < fmt->n; i++) {
		char l = fmt->v[i].letter;
		if (!l || l == 'N' || l == 'D')
			continue;
		aidc_buf_reset(&scratch);
		aidc_buf_puts(&key, value(&one, l, &scratch));
		aidc_buf_putc(&key, '\x1f');
	}
	aidc_buf_release(&scratch);
	char *k = aidc_strdup(aidc_buf_str(&key));
	aidc_buf_release(&key);
	return k;
}

/* Nodes (sorted) into groups of equal shown fields, in order of first appearance;
 * with -N each node is its own group. */
static struct si_group *si_group(const struct si_opts *o, const struct aidc_sfmt *fmt,
				 json_t **v, size_t nv, size_t *ng)
{
	struct si_group *g = aidc_calloc(nv ? nv : 1, sizeof *g);
	size_t n = 0;
	for (size_t i = 0; i < nv; i++) {
		char *key = group_key(fmt, v[i]);
		size_t k = 0;
		while (!o->node && k < n && strcmp(g[k].key, key) != 0)
			k++;
		if (o->node || k == n) {
			k = n++;
			g[k] = (struct si_group){.first = v[i], .key = key};
		} else {
			aidc_free(key);
		}
		AIDC_GROW(g[k].names, g[k].cap, g[k].n + 1);
		g[k].names[g[k].n++] = (char *)cli_slurm_str(v[i], "name");
	}
	*ng = n;
	return g;
}

static int si_print(const struct si_opts *o, const struct aidc_sfmt *fmt, json_t **v, size_t nv)
{
	size_t ng;
	struct si_group *g = si_group(o, fmt, v, nv, &ng);
	struct aidc_buf line;
	aidc_buf_init(&line, 16u << 20);
	int rc = 0;
	for (size_t i = 0; !rc && i <= ng; i++) {
		if (i == 0 && o->noheader)
			continue;
		aidc_buf_reset(&line);
		rc = i == 0 ? aidc_sfmt_header(fmt, si_headers, AIDC_ARRAY_LEN(si_headers), &line)
			    : aidc_sfmt_line(fmt, value, &g[i - 1], &line);
		if (!rc)
			printf("%s\n", aidc_buf_str(&line));
	}
	aidc_buf_release(&line);
	for (size_t i = 0; i < ng; i++) {
		aidc_free(g[i].names);
		aidc_free(g[i].key);
	}
	aidc_free(g);
	return rc ? CLI_EXIT_FAIL : 0;
}

/* GET /v1/nodes, filtered and sorted, then printed (or as JSON). */
static int si_run(const struct si_opts *o, uint32_t states, const struct cli_slurm_filter *nf,
		  const struct aidc_sfmt *fmt)
{
	char sp[AIDC_MAX_PATH_BYTES];
	cli_socket_path(o->sock, sp, sizeof sp);
	struct api_call c;
	int rc = cli_call("sinfo", sp, "GET", "/v1/nodes", NULL, 0, &c);
	if (rc)
		return rc;
	json_error_t je;
	json_t *r = json_loadb(aidc_buf_str(&c.reply), c.reply.len, 0, &je);
	aidc_buf_release(&c.reply);
	if (!r) {
		fprintf(stderr, "aidc sinfo: malformed reply from the controller\n");
		return CLI_EXIT_FAIL;
	}
	cli_json_printable(r);
	json_t *all = json_object_get(r, "nodes");
	size_t n = 0;
	json_t **v = aidc_calloc(json_array_size(all) + 1, sizeof *v);
	size_t i;
	json_t *it;
	json_array_foreach(all, i, it)
		if (si_match(o, states, nf, it))
			v[n++] = it;
	qsort(v, n, sizeof *v, by_partition_name);
	if (o->json) {
		cli_slurm_print_json("nodes", v, n);
	} else {
		rc = si_print(o, fmt, v, n);
	}
	aidc_free(v);
	json_decref(r);
	return rc;
}

int cli_sinfo_main(int argc, char **argv)
{
	struct si_opts o = {0};
	size_t nflags;
	struct cli_flag *flags = si_flags(&o, &nflags);
	const struct cli_cmd cmd = {
	    "sinfo", "aidc sinfo [-p PARTS] [-t STATES] [-n NODES] [-N] [-h] [-o FORMAT] [--json]",
	    "Slurm's sinfo over aidc's nodes: sinfo's default columns (PARTITION AVAIL TIMELIMIT "
	    "NODES STATE NODELIST), nodes with equal fields on one line as a compressed hostlist; "
	    "-N, one line per node. Installed as 'sinfo' too. Short options are Slurm's (shown "
	    "in brackets); options with no meaning here are refused naming them (docs/slurm.md).",
	    flags, nflags};
	char **v;
	int vc;
	cli_slurm_args(si_short, AIDC_ARRAY_LEN(si_short), argc, argv, &v, &vc);
	struct cli_slurm_filter nf = {0};
	struct aidc_sfmt fmt = {0};
	uint32_t states = 0;
	int rc = cli_parse(&cmd, vc, v, NULL, 0, NULL);
	if (rc == 1)
		rc = CLI_EXIT_OK;
	else if (!rc && o.version)
		printf("aidc %s\n", AIDC_VERSION);
	else if (!rc && (rc = si_resolve(&o, &states, &nf, &fmt)) == 0)
		rc = si_run(&o, states, &nf, &fmt);
	aidc_sfmt_release(&fmt);
	cli_slurm_filter_release(&nf);
	aidc_free(v);
	aidc_free(flags);
	return rc;
}
