/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `aidc exam report`: one self-contained HTML page for an exam report, with
 * inline SVG bar charts (speed per question, achieved vs claimed peak,
 * accuracy as error / bound), a summary and the full results table. No
 * scripts, fonts or images are fetched: the page can be mailed or archived.
 * Every string from the report is HTML-escaped (it may come from a plugin).
 */
#include <math.h>

#include "exam/exam.h"
#include "util/util.h"

static void esc(struct aidc_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			aidc_buf_puts(b, "&lt;");
			break;
		case '>':
			aidc_buf_puts(b, "&gt;");
			break;
		case '&':
			aidc_buf_puts(b, "&amp;");
			break;
		case '"':
			aidc_buf_puts(b, "&quot;");
			break;
		case '\'':
			aidc_buf_puts(b, "&#39;");
			break;
		default:
			aidc_buf_putc(b, *s);
		}
	}
}

struct bar {
	const char *label;
	double v;
	const char *color;
	char text[48];
};

/* Horizontal bar chart; a marker line at mark (if > 0) on the same scale. */
static void chart(struct aidc_buf *b, const char *title, const struct bar *bars, size_t n,
		  double mark, const char *mark_label)
{
	double max = mark;
	for (size_t i = 0; i < n; i++)
		max = bars[i].v > max ? bars[i].v : max;
	if (!(max > 0))
		max = 1;
	const int lw = 230, cw = 460, rh = 18, h = (int)n * rh + 30;
	aidc_buf_puts(b, "<h3>");
	esc(b, title);
	aidc_buf_printf(b, "</h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
			   "height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">\n",
			lw + cw + 110, h);
	for (size_t i = 0; i < n; i++) {
		int y = 10 + (int)i * rh;
		double w = bars[i].v > 0 ? bars[i].v / max * cw : 0;
		aidc_buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", lw - 6, y + 12);
		esc(b, bars[i].label);
		aidc_buf_printf(b, "</text><rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
				   "fill=\"%s\"/><text x=\"%.1f\" y=\"%d\">",
				lw, y + 2, w, rh - 4, bars[i].color, lw + w + 4, y + 12);
		esc(b, bars[i].text);
		aidc_buf_puts(b, "</text>\n");
	}
	if (mark > 0) {
		double x = lw + mark / max * cw;
		aidc_buf_printf(b, "<line x1=\"%.1f\" y1=\"5\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333\" "
				   "stroke-dasharray=\"4 3\"/><text x=\"%.1f\" y=\"%d\">",
				x, x, h - 12, x + 3, h - 2);
		esc(b, mark_label);
		aidc_buf_puts(b, "</text>\n");
	}
	aidc_buf_puts(b, "</svg>\n");
}

static const char *status_color(const char *st)
{
	return !strcmp(st, "pass") ? "#3a7d44" : !strcmp(st, "unsupported") ? "#999" : "#c0392b";
}

static void speed_charts(struct aidc_buf *b, const struct exam_report *r, struct bar *bars)
{
	static const char *const metrics[] = {"GFLOP/s", "GB/s"};
	for (size_t m = 0; m < 2; m++) {
		size_t n = 0;
		for (size_t i = 0; i < r->nq; i++) {
			const struct exam_result *q = &r->q[i];
			if (strcmp(q->metric, metrics[m]) != 0)
				continue;
			bars[n] = (struct bar){q->id, q->value, status_color(q->status), ""};
			if (!strcmp(q->status, "pass"))
				snprintf(bars[n].text, sizeof bars[n].text, "%.1f %s", q->value, q->metric);
			else
				snprintf(bars[n].text, sizeof bars[n].text, "%s", q->status);
			n++;
		}
		if (!n)
			continue;
		char title[64];
		snprintf(title, sizeof title, "Speed per question (%s, median)", metrics[m]);
		chart(b, title, bars, n, 0, "");
	}
}

static void peak_chart(struct aidc_buf *b, const struct exam_report *r, struct bar *bars)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nq; i++) {
		const struct exam_result *q = &r->q[i];
		if (!(q->peak > 0) || strcmp(q->status, "pass") != 0)
			continue;
		bars[n] = (struct bar){q->id, 100 * q->peak_fraction, "#2e86c1", ""};
		snprintf(bars[n].text, sizeof bars[n].text, "%.1f%% of %.0f", 100 * q->peak_fraction,
			 q->peak);
		n++;
	}
	if (n)
		chart(b, "Achieved vs claimed peak (%)", bars, n, 100, "claimed peak");
	else
		aidc_buf_puts(b, "<h3>Achieved vs claimed peak</h3><p>The plugin claims no peak "
				 "numbers for this device.</p>\n");
}

static void accuracy_chart(struct aidc_buf *b, const struct exam_report *r, struct bar *bars)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nq; i++) {
		const struct exam_result *q = &r->q[i];
		if (!strcmp(q->status, "unsupported") || !q->checked)
			continue;
		double v = q->max_err > 2 ? 2 : q->max_err;
		bars[n] = (struct bar){q->id, v, q->max_err <= 1 ? "#3a7d44" : "#c0392b", ""};
		snprintf(bars[n].text, sizeof bars[n].text, "%.3g of bound", q->max_err);
		n++;
	}
	if (n)
		chart(b, "Accuracy: worst |error| / tolerance bound (must stay below 1)", bars, n, 1,
		      "bound");
}

static void table(struct aidc_buf *b, const struct exam_report *r)
{
	aidc_buf_puts(b, "<h3>Results</h3>\n<table>\n<tr><th>question</th><th>shape</th>"
			 "<th>precision</th><th>status</th><th>value</th><th>median s</th>"
			 "<th>spread</th><th>% peak</th><th>score</th><th>error/bound</th>"
			 "<th>note</th></tr>\n");
	for (size_t i = 0; i < r->nq; i++) {
		const struct exam_result *q = &r->q[i];
		aidc_buf_puts(b, "<tr><td>");
		esc(b, q->id);
		aidc_buf_puts(b, "</td><td>");
		esc(b, q->shape);
		aidc_buf_puts(b, "</td><td>");
		esc(b, q->dtype);
		aidc_buf_printf(b, "</td><td style=\"color:%s\"><b>", status_color(q->status));
		esc(b, q->status);
		aidc_buf_printf(b, "</b></td><td>%.2f ", q->value);
		esc(b, q->metric);
		aidc_buf_printf(b, "</td><td>%.6f</td><td>%.1f%%</td><td>%.1f</td><td>%.3f</td>"
				   "<td>%.3g</td><td>",
				q->median_s, q->spread_pct, 100 * q->peak_fraction, q->score,
				q->max_err);
		esc(b, q->error[0] ? q->error : q->source);
		aidc_buf_puts(b, "</td></tr>\n");
	}
	aidc_buf_puts(b, "</table>\n");
}

int exam_report_html(const struct exam_report *r, struct aidc_buf *b)
{
	struct bar *bars = aidc_calloc(r->nq ? r->nq : 1, sizeof *bars);
	aidc_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			 "<title>AIDC exam: ");
	esc(b, r->dev.name);
	aidc_buf_puts(b, "</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:1100px}"
			 "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;"
			 "padding:3px 6px;text-align:left}.pass{color:#3a7d44}.fail{color:#c0392b}"
			 "</style></head><body>\n<h1>AIDC accelerator exam</h1>\n<p><b>");
	esc(b, r->dev.name);
	aidc_buf_puts(b, "</b> (");
	esc(b, r->dev.vendor);
	aidc_buf_puts(b, ", model ");
	esc(b, r->dev.model);
	aidc_buf_printf(b, ", %.1f GiB) via plugin <code>", (double)r->dev.mem_bytes / (1 << 30));
	esc(b, r->plugin_name);
	aidc_buf_puts(b, " ");
	esc(b, r->plugin_version);
	aidc_buf_puts(b, "</code>, level ");
	esc(b, r->level);
	aidc_buf_puts(b, ", ");
	esc(b, r->created);
	aidc_buf_printf(b, " UTC, seed %" PRIu64 ".</p>\n<h2 class=\"%s\">Verdict: %s</h2>\n",
			r->seed, !strcmp(r->verdict, "pass") ? "pass" : "fail",
			!strcmp(r->verdict, "pass") ? "PASS" : "FAIL");
	aidc_buf_printf(b, "<p>Score %.3f (geometric mean of speed relative to the reference "
			   "device: ",
			r->score);
	esc(b, r->reference);
	aidc_buf_printf(b, ").<br>%u passed, %u wrong, %u errors, %u unsupported; %.1f s.</p>\n",
			r->n_pass, r->n_wrong, r->n_error, r->n_unsupported, r->wall_s);
	if (r->n_wrong)
		aidc_buf_puts(b, "<p class=\"fail\"><b>Wrong answers fail their question whatever "
				 "their speed.</b></p>\n");
	speed_charts(b, r, bars);
	peak_chart(b, r, bars);
	accuracy_chart(b, r, bars);
	table(b, r);
	int rc = aidc_buf_puts(b, "<p><small>Generated by aidc exam report (schema "
				  "aidc-exam-report v1). Methodology: docs/exam.md.</small></p>\n"
				  "</body></html>\n");
	aidc_free(bars);
	return rc;
}
