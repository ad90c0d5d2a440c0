/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc exam`: grade an accelerator through its device plugin.
 *   aidc exam run      --plugin cpu|opencl|cuda|PATH.so [--level L] [--questions ...] [--out F]
 *   aidc exam list     the question catalogue
 *   aidc exam devices  what a plugin reports (the same discovery the node agent uses)
 *   aidc exam report   REPORT.json -> self-contained HTML
 *   aidc exam compare  A.json B.json
 *   aidc exam conformance --plugin NAME|PATH   the plugin ABI conformance suite
 * Progress goes to stderr, results to stdout (tables, or JSON with --json).
 */
#include <unistd.h>

#include "cli/cli.h"
#include "dev/dev.h"
#include "exam/exam.h"
#include "sim/sim.h" /* aidc_outfile: whole-or-nothing output files */
#include "util/util.h"

static const char *const level_choices[] = {"quick", "standard", "full", NULL};

static int fail_line(const char *sub, int rc, const struct aidc_err *e)
{
	fprintf(stderr, "aidc exam %s: %s\n", sub, aidc_err_text(e, rc));
	return CLI_EXIT_FAIL;
}

/* Writes buf into o (opened with aidc_outfile_open: a temporary beside the
 * destination, or stdout) and commits it, so that the file appears whole or
 * not at all. o is aborted (temporary removed) on failure. */
static int write_out(struct aidc_outfile *o, const struct aidc_buf *b, struct aidc_err *e)
{
	int rc = 0;
	if (fwrite(aidc_buf_str(b), 1, b->len, o->f) != b->len)
		rc = aidc_errf(e, AIDC_E_IO, "%s: write failed", o->path ? o->path : "stdout");
	if (!rc)
		rc = aidc_outfile_commit(o, e);
	aidc_outfile_abort(o);
	return rc;
}

/* The same to stdout. */
static int write_stdout(const struct aidc_buf *b, struct aidc_err *e)
{
	struct aidc_outfile o;
	aidc_outfile_init(&o);
	o.f = stdout;
	return write_out(&o, b, e);
}

struct progress {
	bool quiet;
	char header[512]; /* printed before the first question */
	const char *out;  /* --out: the report is rewritten whole after every question */
	int write_rc;
	struct aidc_err write_err;
};

/* The isolated run's header callback: the device is known once the worker has loaded the plugin. */
static void on_started(void *arg, const struct exam_report *r)
{
	struct progress *pg = arg;
	snprintf(pg->header, sizeof pg->header, "aidc exam: %s level on %s device %u: %.200s",
		 r->level, r->plugin_name, r->dev_index, r->dev.name);
}

/* After every question: the report so far, written whole (temporary + rename), so a
 * report on disk is valid JSON whatever happens to the exam later. */
static void on_checkpoint(void *arg, const struct exam_report *r)
{
	struct progress *pg = arg;
	if (!pg->out || pg->write_rc)
		return;
	struct aidc_buf b;
	struct aidc_outfile of;
	aidc_buf_init(&b, 64u << 20);
	aidc_outfile_init(&of);
	pg->write_rc = exam_report_to_json(r, &b);
	if (!pg->write_rc)
		pg->write_rc = aidc_outfile_open(&of, pg->out, &pg->write_err);
	if (!pg->write_rc)
		pg->write_rc = write_out(&of, &b, &pg->write_err);
	aidc_buf_release(&b);
}

static void on_progress(void *arg, size_t i, size_t n, const struct exam_question *q,
			const struct exam_result *r)
{
	struct progress *pg = arg;
	if (pg->quiet)
		return;
	if (!r && i == 0 && pg->header[0])
		fprintf(stderr, "%s\n", pg->header);
	if (!r) {
		fprintf(stderr, "[%2zu/%zu] %-28s ", i + 1, n, q->id);
		fflush(stderr);
		return;
	}
	if (!strcmp(r->status, "pass"))
		fprintf(stderr, "%10.2f %-7s pass  (spread %.1f%%)\n", r->value, r->metric,
			r->spread_pct);
	else
		fprintf(stderr, "%s: %s\n", !strcmp(r->status, "wrong") ? "WRONG ANSWER" : r->status,
			r->error);
}

static void print_table(const struct exam_report *r, FILE *out)
{
	fprintf(out, "device: %s (%s), plugin %s %s, level %s\n", r->dev.name, r->dev.vendor,
		r->plugin_name, r->plugin_version, r->level);
	fprintf(out, "%-28s %-11s %12s %-8s %7s %7s %7s\n", "question", "status", "value", "metric",
		"spread", "%peak", "score");
	for (size_t i = 0; i < r->nq; i++) {
		const struct exam_result *q = &r->q[i];
		char pk[16] = "-", sc[16] = "-";
		if (q->peak_fraction > 0)
			snprintf(pk, sizeof pk, "%.1f", 100 * q->peak_fraction);
		if (q->score > 0)
			snprintf(sc, sizeof sc, "%.3f", q->score);
		fprintf(out, "%-28s %-11s %12.2f %-8s %6.1f%% %7s %7s\n", q->id, q->status, q->value,
			q->metric, q->spread_pct, pk, sc);
	}
	fprintf(out, "verdict: %s  score %.3f  (%u passed, %u wrong, %u errors, %u unsupported; "
		     "%.1f s)\n",
		r->verdict, r->score, r->n_pass, r->n_wrong, r->n_error, r->n_unsupported, r->wall_s);
	if (r->n_wrong)
		fprintf(out, "FAILED: %u wrong answer(s); a wrong answer fails its question "
			     "whatever its speed\n",
			r->n_wrong);
}

/* aidc exam run's flags (see exam_run_cmd's table). */
struct run_args {
	const char *plugin, *config, *questions, *out, *ref;
	int level;
	int64_t device, seed;
	bool json, quiet;
	double call_timeout, question_timeout;
};

/* Runs the exam the flags describe: loads --reference, opens --out first (a
 * bad path fails before minutes of questions), runs the plugin isolated and
 * prints the table or the JSON report. Returns the command's exit status. */
static int run_exam(const struct run_args *a)
{
	int rc;
	struct aidc_err e;
	aidc_err_clear(&e);
	struct exam_report r, refr;
	exam_report_init(&r);
	exam_report_init(&refr);
	if (a->ref && (rc = exam_report_load(a->ref, &refr, &e)) != 0)
		return fail_line("run", rc, &e);
	/* --out is opened before the exam: a bad path fails at once rather than
	 * after minutes of questions, and the report appears only when written. */
	struct aidc_outfile of;
	aidc_outfile_init(&of);
	if (a->out && (rc = aidc_outfile_open(&of, a->out, &e)) != 0) {
		exam_report_release(&refr);
		return fail_line("run", rc, &e);
	}
	struct progress pg = {.quiet = a->quiet, .out = a->out};
	aidc_err_clear(&pg.write_err);
	struct exam_options o = {.level = (enum exam_level)a->level, .questions = a->questions,
				 .device = (uint32_t)a->device, .seed = (uint64_t)a->seed,
				 .reference = a->ref ? &refr : NULL, .progress = on_progress,
				 .progress_arg = &pg, .call_timeout_s = a->call_timeout,
				 .question_timeout_s = a->question_timeout, .started = on_started,
				 .checkpoint = on_checkpoint};
	rc = exam_run_isolated(a->plugin, a->config, &o, &r, &e);
	if (!rc && pg.write_rc)
		rc = pg.write_rc, e = pg.write_err;
	struct aidc_buf b;
	aidc_buf_init(&b, 64u << 20);
	if (!rc)
		rc = exam_report_to_json(&r, &b);
	if (!rc && a->out)
		rc = write_out(&of, &b, &e);
	aidc_outfile_abort(&of);
	int status = CLI_EXIT_FAIL;
	if (rc) {
		fail_line("run", rc, &e);
	} else {
		if (a->json)
			write_stdout(&b, &e);
		else
			print_table(&r, stdout);
		status = strcmp(r.verdict, "pass") == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	}
	aidc_buf_release(&b);
	exam_report_release(&r);
	exam_report_release(&refr);
	return status;
}

static int exam_run_cmd(int argc, char **argv)
{
	struct run_args a = {.seed = 1};
	const struct cli_flag flags[] = {
		{.name = "plugin", .type = CLI_STR, .dst = &a.plugin, .metavar = "NAME|PATH", .help = "cpu, opencl, cuda, or a plugin .so path"},
		{.name = "plugin-config", .type = CLI_STR, .dst = &a.config, .metavar = "K=V,...", .help = "plugin configuration (cpu: devices=N)"},
		{.name = "device", .type = CLI_I64, .dst = &a.device, .metavar = "N", .help = "device index to examine (default 0)", .min = 0, .max = AIDC_MAX_PLUGIN_DEVICES - 1},
		{.name = "level", .type = CLI_CHOICE, .dst = &a.level, .metavar = "LEVEL", .help = "how many questions", .min = 0, .max = 0, .choices = level_choices},
		{.name = "questions", .type = CLI_STR, .dst = &a.questions, .metavar = "LIST", .help = "comma-separated ids, groups or globs (gemm, gemm.f16, conv.*)"},
		{.name = "seed", .type = CLI_I64, .dst = &a.seed, .metavar = "N", .help = "seed for the inputs (default 1)", .min = 0, .max = 1e15},
		{.name = "reference", .type = CLI_STR, .dst = &a.ref, .metavar = "FILE", .help = "score against this report instead of the built-in reference"},
		{.name = "out", .type = CLI_STR, .dst = &a.out, .metavar = "FILE", .help = "write the JSON report here"},
		{.name = "json", .type = CLI_BOOL, .dst = &a.json, .metavar = NULL, .help = "print the JSON report on stdout instead of a table"},
		{.name = "quiet", .type = CLI_BOOL, .dst = &a.quiet, .metavar = NULL, .help = "no progress on stderr"},
		{.name = "call-timeout", .type = CLI_F64, .dst = &a.call_timeout, .metavar = "SECONDS", .help = "fail a question whose plugin call runs longer (default: the question timeout)", .min = 0.001, .max = 86400},
		{.name = "question-timeout", .type = CLI_F64, .dst = &a.question_timeout, .metavar = "SECONDS", .help = "fail a question that runs longer (default 15x the level's timing budget: 60, 150, 300 s, or 10x the question's longest call when that is more)", .min = 0.001, .max = 86400},
	};
	const struct cli_cmd cmd = {
		"exam run", "aidc exam run --plugin NAME|PATH [options]",
		"Runs the exam on one device: every answer is checked against an fp64 reference\n"
		"and timed (warm-up, repeated runs, median and spread). The plugin runs in a\n"
		"separate process: a crash or a hang fails that question with the reason and the\n"
		"exam goes on; --out is rewritten after every question. Exit status 0 when every\n"
		"asked question passed (unsupported ones are skipped), 1 otherwise.",
		flags, AIDC_ARRAY_LEN(flags)};
	int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	if (!a.plugin)
		return cli_refuse(&cmd, "--plugin is required (see 'aidc exam run --help')");
	return run_exam(&a);
}

static int exam_list_cmd(int argc, char **argv)
{
	int level = 2;
	bool json = false;
	const struct cli_flag flags[] = {
		{.name = "level", .type = CLI_CHOICE, .dst = &level, .metavar = "LEVEL", .help = "list the questions of this level (default full)", .min = 0, .max = 0, .choices = level_choices},
		{.name = "json", .type = CLI_BOOL, .dst = &json, .metavar = NULL, .help = "JSON output"},
	};
	const struct cli_cmd cmd = {"exam list", "aidc exam list [--level L] [--json]",
				    "Lists the exam's questions: id, level, group, precision, shape "
				    "and where the shape comes from.",
				    flags, AIDC_ARRAY_LEN(flags)};
	int rc = cli_parse(&cmd, argc, argv, NULL, 0, NULL);
	if (rc)
		return rc == 1 ? CLI_EXIT_OK : rc;
	size_t n;
	const struct exam_question *c = exam_catalog(&n);
	struct aidc_buf b;
	aidc_buf_init(&b, 1u << 20);
	struct aidc_json j;
	aidc_json_init(&j, &b, true);
	aidc_json_arr_begin(&j);
	for (size_t i = 0; i < n; i++) {
		if ((int)c[i].level > level)
			continue;
		char shape[128];
		exam_shape_str(&c[i], shape, sizeof shape);
		if (!json) {
			printf("%-28s %-8s %-10s %-4s %-44s %s\n", c[i].id, exam_level_name(c[i].level),
			       c[i].group, dev_dtype_name(c[i].dtype), shape, c[i].source);
			continue;
		}
		aidc_json_obj_begin(&j);
		aidc_json_kstr(&j, "id", c[i].id);
		aidc_json_kstr(&j, "level", exam_level_name(c[i].level));
		aidc_json_kstr(&j, "group", c[i].group);
		aidc_json_kstr(&j, "dtype", dev_dtype_name(c[i].dtype));
		aidc_json_kstr(&j, "shape", shape);
		aidc_json_kstr(&j, "source", c[i].source);
		aidc_json_obj_end(&j);
	}
	aidc_json_arr_end(&j);
	if (json && aidc_json_finish(&j) == 0)
		printf("%s\n", aidc_buf_str(&b));
	aidc_buf_release(&b);
	return CLI_EXIT_OK;
}

static void device_json(struct aidc_json *j, uint32_t d, const struct aidc_dev_info *in)
{
	aidc_json_obj_begin(j);
	aidc_json_ki64(j, "index", d);
	aidc_json_kstr(j, "name", in->name);
	aidc_json_kstr(j, "vendor", in->vendor);
	aidc_json_kstr(j, "model", in->model);
	aidc_json_kstr(j, "driver", in->driver);
	aidc_json_kstr(j, "uuid", in->uuid);
	aidc_json_kstr(j, "visible_env", in->visible_env);
	aidc_json_key(j, "mem_bytes");
	aidc_json_u64(j, in->mem_bytes);
	aidc_json_ki64(j, "compute_units", in->compute_units);
	aidc_json_kf64(j, "peak_gflops_f32", in->peak_gflops[AIDC_DEV_F32], 3);
	aidc_json_kf64(j, "peak_gflops_f16", in->peak_gflops[AIDC_DEV_F16], 3);
	aidc_json_kf64(j, "peak_gflops_bf16", in->peak_gflops[AIDC_DEV_BF16], 3);
	aidc_json_kf64(j, "peak_mem_gbps", in->peak_mem_gbps, 3);
	aidc_json_ki64(j, "caps", in->caps);
	aidc_json_obj_end(j);
}

/* --plugin and --plugin-config of the commands that load one device plugin. */
#define PLUGIN_FLAGS(plugin, config)                                                          \
	{.name = "plugin", .type = CLI_STR, .dst = &(plugin), .metavar = "NAME|PATH",          \
	 .help = "cpu, opencl, cuda, or a plugin .so path"},                                    \
	{.name = "plugin-config", .type = CLI_STR, .dst = &(config), .metavar = "K=V,...",      \
	 .help = "plugin configuration"}

/* cli_parse_main for a command that needs --plugin (*plugin, set by its flag):
 * false with *rc when the command is done (help, usage, or no --plugin). */
static bool parse_plugin_cmd(const struct cli_cmd *cmd, int argc, char **argv,
			     const char *const *plugin, int *rc)
{
	if (!cli_parse_main(cmd, argc, argv, NULL, 0, NULL, rc))
		return false;
	if (*plugin)
		return true;
	*rc = cli_refuse(cmd, "--plugin is required");
	return false;
}

static int exam_devices_cmd(int argc, char **argv)
{
	const char *plugin = NULL, *config = NULL;
	bool json = false;
	const struct cli_flag flags[] = {
		PLUGIN_FLAGS(plugin, config),
		{.name = "json", .type = CLI_BOOL, .dst = &json, .metavar = NULL, .help = "JSON output"},
	};
	const struct cli_cmd cmd = {"exam devices", "aidc exam devices --plugin NAME|PATH [--json]",
				    "Loads a device plugin and lists its devices and links, as the "
				    "node agent sees them.",
				    flags, AIDC_ARRAY_LEN(flags)};
	int rc;
	if (!parse_plugin_cmd(&cmd, argc, argv, &plugin, &rc))
		return rc;
	struct aidc_err e;
	aidc_err_clear(&e);
	struct dev_plugin p;
	rc = dev_plugin_open(&p, plugin, config, &e);
	if (rc)
		return fail_line("devices", rc, &e);
	struct aidc_dev_link *links = NULL;
	uint32_t nl = 0;
	rc = dev_links(&p, &links, &nl, &e);
	if (rc) {
		dev_plugin_close(&p);
		return fail_line("devices", rc, &e);
	}
	struct aidc_buf b;
	aidc_buf_init(&b, 4u << 20);
	struct aidc_json j;
	aidc_json_init(&j, &b, true);
	aidc_json_obj_begin(&j);
	aidc_json_kstr(&j, "plugin", p.api->name ? p.api->name : "");
	aidc_json_kstr(&j, "path", p.path);
	aidc_json_key(&j, "devices");
	aidc_json_arr_begin(&j);
	for (uint32_t d = 0; d < p.ndev; d++) {
		const struct aidc_dev_info *in = &p.info[d];
		if (json)
			device_json(&j, d, in);
		else
			printf("%u: %s (%s) model %s, %.1f GiB, %u units, claimed %.0f GFLOP/s f32, "
			       "%.0f GB/s, uuid %s%s%s\n",
			       d, in->name, in->vendor, in->model, (double)in->mem_bytes / (1 << 30),
			       in->compute_units, in->peak_gflops[AIDC_DEV_F32], in->peak_mem_gbps,
			       in->uuid[0] ? in->uuid : "-", in->visible_env[0] ? ", visibility " : "",
			       in->visible_env);
	}
	aidc_json_arr_end(&j);
	aidc_json_key(&j, "links");
	aidc_json_arr_begin(&j);
	for (uint32_t i = 0; i < nl; i++) {
		if (!json) {
			printf("link %u-%u: %s %.1f GB/s\n", links[i].a, links[i].b, links[i].kind,
			       links[i].gbps);
			continue;
		}
		aidc_json_obj_begin(&j);
		aidc_json_ki64(&j, "a", links[i].a);
		aidc_json_ki64(&j, "b", links[i].b);
		aidc_json_kstr(&j, "kind", links[i].kind);
		aidc_json_kf64(&j, "gbps", links[i].gbps, 3);
		aidc_json_obj_end(&j);
	}
	aidc_json_arr_end(&j);
	aidc_json_obj_end(&j);
	if (json && aidc_json_finish(&j) == 0)
		printf("%s\n", aidc_buf_str(&b));
	aidc_buf_release(&b);
	aidc_free(links);
	dev_plugin_close(&p);
	return CLI_EXIT_OK;
}

bool cli_parse_report(const struct cli_cmd *cmd, int argc, char **argv, const char **path,
		      struct exam_report *r, int *rc)
{
	if (!cli_parse_exact(cmd, argc, argv, path, 1, rc, "give one REPORT.json (see --help)"))
		return false;
	struct aidc_err e;
	aidc_err_clear(&e);
	if ((*rc = exam_report_load(*path, r, &e)) != 0) {
		fprintf(stderr, "aidc %s: %s\n", cmd->name, aidc_err_text(&e, *rc));
		*rc = CLI_EXIT_FAIL;
		return false;
	}
	return true;
}

static int exam_report_cmd(int argc, char **argv)
{
	const char *out = NULL;
	const struct cli_flag flags[] = {
		{.name = "out", .type = CLI_STR, .dst = &out, .metavar = "FILE", .help = "write the HTML page here (default stdout)"},
	};
	const struct cli_cmd cmd = {"exam report", "aidc exam report REPORT.json [--out FILE.html]",
				    "Renders a JSON exam report as one self-contained HTML page with "
				    "inline SVG charts\n(speed per question, achieved vs claimed "
				    "peak, accuracy). No scripts, no network.",
				    flags, AIDC_ARRAY_LEN(flags)};
	const char *path;
	struct exam_report r;
	int rc;
	if (!cli_parse_report(&cmd, argc, argv, &path, &r, &rc))
		return rc;
	struct aidc_err e;
	aidc_err_clear(&e);
	struct aidc_buf b;
	aidc_buf_init(&b, 64u << 20);
	struct aidc_outfile of;
	rc = exam_report_html(&r, &b);
	if (rc)
		aidc_errf(&e, rc, "rendering the page failed");
	else if (!(rc = aidc_outfile_open(&of, out, &e)))
		rc = write_out(&of, &b, &e);
	aidc_buf_release(&b);
	exam_report_release(&r);
	return rc ? fail_line("report", rc, &e) : CLI_EXIT_OK;
}

/* Two reports without a question in common have nothing to compare: a ratio
 * table with no rows and a mean of 0 would read as a result. */
static int check_common(const char *pa, const struct exam_report *a, const char *pb,
			const struct exam_report *b, struct aidc_err *e)
{
	for (size_t i = 0; i < a->nq; i++)
		for (size_t k = 0; k < b->nq; k++)
			if (!strcmp(a->q[i].id, b->q[k].id))
				return 0;
	return aidc_errf(e, AIDC_E_INVAL, "%s (%zu questions) and %s (%zu questions) have no "
			 "question in common", pa, a->nq, pb, b->nq);
}

static int exam_compare_cmd(int argc, char **argv)
{
	bool json = false;
	const struct cli_flag flags[] = {
		{.name = "json", .type = CLI_BOOL, .dst = &json, .metavar = NULL, .help = "JSON output"},
	};
	const struct cli_cmd cmd = {"exam compare", "aidc exam compare A.json B.json [--json]",
				    "Compares two exam reports question by question: B's speed "
				    "divided by A's,\nand the geometric mean over questions both "
				    "passed.",
				    flags, AIDC_ARRAY_LEN(flags)};
	const char *pos[2];
	int rc;
	if (!cli_parse_exact(&cmd, argc, argv, pos, 2, &rc,
			     "give two reports, A.json B.json (see --help)"))
		return rc;
	struct aidc_err e;
	aidc_err_clear(&e);
	struct exam_report a, b;
	exam_report_init(&b);
	rc = exam_report_load(pos[0], &a, &e);
	if (!rc)
		rc = exam_report_load(pos[1], &b, &e);
	struct aidc_buf out;
	aidc_buf_init(&out, 16u << 20);
	if (!rc)
		rc = check_common(pos[0], &a, pos[1], &b, &e);
	if (!rc)
		rc = exam_compare(&a, &b, json, &out);
	if (!rc)
		rc = write_stdout(&out, &e);
	aidc_buf_release(&out);
	exam_report_release(&a);
	exam_report_release(&b);
	return rc ? fail_line("compare", rc, &e) : CLI_EXIT_OK;
}

static int exam_conformance_cmd(int argc, char **argv)
{
	const char *plugin = NULL, *config = NULL;
	double timeout = 300;
	const struct cli_flag flags[] = {
		PLUGIN_FLAGS(plugin, config),
		{.name = "timeout", .type = CLI_F64, .dst = &timeout, .metavar = "SECONDS", .help = "fail when the suite takes longer (default 300)", .min = 1, .max = 86400},
	};
	const struct cli_cmd cmd = {
		"exam conformance", "aidc exam conformance --plugin NAME|PATH [--plugin-config K=V,...]",
		"Runs the device plugin ABI conformance suite (docs/device-plugin-abi.md) against\n"
		"a plugin: device info, memory and copies (offsets, mem_alloc(0), out-of-range\n"
		"and overlapping copies), ordering of copies and frees after queued work,\n"
		"last_error, GEMM in every dtype with alpha/beta, strides, transposes and buffer\n"
		"offsets, every elementwise and reduce op, convolution and attention in f32, f16\n"
		"and bf16, pinned host memory and all-reduce. Optional ops may answer\n"
		"UNSUPPORTED. The plugin runs in a child process: a crash or a hang fails the\n"
		"suite with the call it was in. Exit status 0 when the plugin conforms.",
		flags, AIDC_ARRAY_LEN(flags)};
	int rc;
	if (!parse_plugin_cmd(&cmd, argc, argv, &plugin, &rc))
		return rc;
	struct aidc_err e;
	aidc_err_clear(&e);
	rc = exam_conformance(plugin, config, stdout, timeout, false, &e);
	if (rc == EXAM_CONFORMANCE_SKIP) {
		fprintf(stderr, "aidc exam conformance: nothing to test (see above)\n");
		return CLI_EXIT_FAIL;
	}
	if (rc)
		return fail_line("conformance", rc, &e);
	return CLI_EXIT_OK;
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} subs[] = {
	{"run", exam_run_cmd, "run the exam on a device and write a JSON report"},
	{"list", exam_list_cmd, "list the question catalogue"},
	{"devices", exam_devices_cmd, "list the devices a plugin reports"},
	{"report", exam_report_cmd, "render a JSON report as a self-contained HTML page"},
	{"compare", exam_compare_cmd, "compare two reports question by question"},
	{"conformance", exam_conformance_cmd, "run the plugin ABI conformance suite"},
	{"publish", cli_exam_publish, "record a report's rate in the controller (admins)"},
};

static void exam_usage(FILE *f)
{
	fprintf(f, "usage: aidc exam <run|list|devices|report|compare|conformance|publish> [options]\n\n"
		   "Grades an accelerator through its device plugin (include/aidc/device.h) with\n"
		   "GEMM, convolution, attention, memory, transfer and collective questions.\n\n");
	for (size_t i = 0; i < AIDC_ARRAY_LEN(subs); i++)
		fprintf(f, "  %-10s %s\n", subs[i].name, subs[i].summary);
	fprintf(f, "\n'aidc exam <command> --help' describes each; docs/exam.md has the details.\n");
}

int cli_exam_main(int argc, char **argv)
{
	if (argc < 2) {
		exam_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		exam_usage(stdout);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < AIDC_ARRAY_LEN(subs); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "aidc exam: unknown command '%s' (see 'aidc exam --help')\n", argv[1]);
	return CLI_EXIT_USAGE;
}
