/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Slurm's format strings and job state names (slurmfmt.h). A format is
 * parsed once into items, then rendered per row through a callback, so the
 * header line and the rows go through the same padding and cutting.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/slurmfmt.h"
#include "util/util.h"

static void push_item(struct aidc_sfmt *f, struct aidc_sfmt_item it)
{
	AIDC_GROW(f->v, f->cap, f->n + 1);
	f->v[f->n++] = it;
}

/* Literal text fmt[0..len), "%%" already turned into one '%' by the caller. */
static void push_text(struct aidc_sfmt *f, const char *s, size_t len)
{
	if (len)
		push_item(f, (struct aidc_sfmt_item){.text = aidc_strndup(s, len)});
}

void aidc_sfmt_release(struct aidc_sfmt *f)
{
	for (size_t i = 0; i < f->n; i++)
		aidc_free(f->v[i].text);
	aidc_free(f->v);
	memset(f, 0, sizeof *f);
}

/* One "%..." at *p (just past the '%'): a field into f, or an unknown
 * letter appended to bad. Returns 0, or an error for a malformed one. */
static int parse_field(const char **p, const char *known, struct aidc_sfmt *f, char *bad,
		       size_t badcap, struct aidc_err *e)
{
	const char *s = *p;
	struct aidc_sfmt_item it = {0};
	if (*s == '.') {
		it.right = true;
		s++;
	}
	if (*s == '-')
		s++;
	long w = 0;
	while (isdigit((unsigned char)*s)) {
		w = w * 10 + (*s++ - '0');
		if (w > AIDC_SFMT_MAX_WIDTH)
			return aidc_errf(e, AIDC_E_PARSE, "field width over %d in '%%%.16s'",
					 AIDC_SFMT_MAX_WIDTH, *p);
	}
	if (!*s)
		return aidc_errf(e, AIDC_E_PARSE, "'%%%s' ends without a field letter", *p);
	if (!isalpha((unsigned char)*s))
		return aidc_errf(e, AIDC_E_PARSE, "'%%%.*s' is not a field (%%[.][-][width]X)",
				 (int)(s - *p + 1), *p);
	it.letter = *s;
	it.width = (int)w;
	*p = s + 1;
	if (strchr(known, it.letter)) {
		push_item(f, it);
	} else if (strlen(bad) + 4 < badcap && !strchr(bad, it.letter)) {
		size_t l = strlen(bad);
		snprintf(bad + l, badcap - l, "%s%%%c", l ? " " : "", it.letter);
	}
	return 0;
}

int aidc_sfmt_parse(const char *fmt, const char *known, struct aidc_sfmt *f, struct aidc_err *e)
{
	memset(f, 0, sizeof *f);
	char bad[160] = "";
	const char *p = fmt, *lit = fmt;
	int rc = 0;
	while (!rc && *p) {
		if (*p != '%') {
			p++;
			continue;
		}
		push_text(f, lit, (size_t)(p - lit));
		if (p[1] == '%') {
			push_text(f, "%", 1);
			p += 2;
		} else {
			p++;
			rc = parse_field(&p, known, f, bad, sizeof bad, e);
		}
		lit = p;
	}
	if (!rc)
		push_text(f, lit, (size_t)(p - lit));
	if (!rc && *bad) {
		char list[128] = "";
		for (const char *k = known; *k && strlen(list) + 4 < sizeof list; k++)
			snprintf(list + strlen(list), sizeof list - strlen(list), "%s%%%c",
				 k == known ? "" : " ", *k);
		rc = aidc_errf(e, AIDC_E_PARSE, "unknown field(s) %s (known here: %s)", bad,
			       list);
	}
	if (!rc && f->n == 0)
		rc = aidc_errf(e, AIDC_E_PARSE, "empty");
	if (rc)
		aidc_sfmt_release(f);
	return rc;
}

int aidc_sfmt_line(const struct aidc_sfmt *f, aidc_sfmt_value_fn fn, void *ctx,
		   struct aidc_buf *out)
{
	struct aidc_buf scratch;
	aidc_buf_init(&scratch, 1u << 20);
	int rc = 0;
	for (size_t i = 0; !rc && i < f->n; i++) {
		const struct aidc_sfmt_item *it = &f->v[i];
		if (!it->letter) {
			rc = aidc_buf_puts(out, it->text);
			continue;
		}
		aidc_buf_reset(&scratch);
		const char *v = fn(ctx, it->letter, &scratch);
		if (!v)
			v = "";
		if (it->width == 0)
			rc = aidc_buf_puts(out, v);
		else
			rc = aidc_buf_printf(out, it->right ? "%*.*s" : "%-*.*s", it->width,
					     it->width, v);
	}
	aidc_buf_release(&scratch);
	return rc;
}

struct titles {
	const char *const (*v)[2];
	size_t n;
};

static const char *title_of(void *ctx, char letter, struct aidc_buf *scratch)
{
	const struct titles *t = ctx;
	(void)scratch;
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i][0][0] == letter)
			return t->v[i][1];
	return "";
}

int aidc_sfmt_header(const struct aidc_sfmt *f, const char *const (*titles)[2], size_t n,
		     struct aidc_buf *out)
{
	struct titles t = {titles, n};
	return aidc_sfmt_line(f, title_of, &t, out);
}

/* ---- state names (jobs and nodes) --------------------------------------- */

/* A state's two names: Slurm's full name and its short form (job: "PD", node: "idle"). */
struct state_names {
	const char *name, *abbrev;
};

/* Name (or abbrev) of state st of table t (n states); unknown if out of range. */
static const char *state_name_at(const struct state_names *t, int n, int st, bool abbrev,
				 const char *unknown)
{
	if (st < 0 || st >= n)
		return unknown;
	return abbrev ? t[st].abbrev : t[st].name;
}

static bool name_is(const char *name, const char *s, size_t len)
{
	return strlen(name) == len && strncasecmp(s, name, len) == 0;
}

/* The bit of the state of t (n states) that one list item (len bytes at s) names by
 * either name, any case; "all": every bit; 0 if unknown. */
static uint32_t state_names_bits(const struct state_names *t, int n, const char *s, size_t len)
{
	if (name_is("all", s, len))
		return (1u << n) - 1;
	for (int i = 0; i < n; i++)
		if (name_is(t[i].name, s, len) || name_is(t[i].abbrev, s, len))
			return 1u << i;
	return 0;
}

/* ---- job states --------------------------------------------------------- */

static const struct state_names states[AIDC_SST_COUNT_] = {
    [AIDC_SST_PENDING] = {"PENDING", "PD"},
    [AIDC_SST_RUNNING] = {"RUNNING", "R"},
    [AIDC_SST_SUSPENDED] = {"SUSPENDED", "S"},
    [AIDC_SST_COMPLETING] = {"COMPLETING", "CG"},
    [AIDC_SST_COMPLETED] = {"COMPLETED", "CD"},
    [AIDC_SST_CONFIGURING] = {"CONFIGURING", "CF"},
    [AIDC_SST_CANCELLED] = {"CANCELLED", "CA"},
    [AIDC_SST_FAILED] = {"FAILED", "F"},
    [AIDC_SST_TIMEOUT] = {"TIMEOUT", "TO"},
    [AIDC_SST_PREEMPTED] = {"PREEMPTED", "PR"},
    [AIDC_SST_NODE_FAIL] = {"NODE_FAIL", "NF"},
    [AIDC_SST_BOOT_FAIL] = {"BOOT_FAIL", "BF"},
    [AIDC_SST_DEADLINE] = {"DEADLINE", "DL"},
    [AIDC_SST_OUT_OF_MEMORY] = {"OUT_OF_MEMORY", "OOM"},
    [AIDC_SST_REQUEUED] = {"REQUEUED", "RQ"},
    [AIDC_SST_REQUEUE_HOLD] = {"REQUEUE_HOLD", "RH"},
    [AIDC_SST_REQUEUE_FED] = {"REQUEUE_FED", "RF"},
    [AIDC_SST_RESV_DEL_HOLD] = {"RESV_DEL_HOLD", "RD"},
    [AIDC_SST_REVOKED] = {"REVOKED", "RV"},
    [AIDC_SST_SIGNALING] = {"SIGNALING", "SI"},
    [AIDC_SST_SPECIAL_EXIT] = {"SPECIAL_EXIT", "SE"},
    [AIDC_SST_STAGE_OUT] = {"STAGE_OUT", "SO"},
    [AIDC_SST_STOPPED] = {"STOPPED", "ST"},
    [AIDC_SST_RESIZING] = {"RESIZING", "RS"},
};

const char *aidc_slurm_state_name(int st)
{
	return state_name_at(states, AIDC_SST_COUNT_, st, false, "UNKNOWN");
}

const char *aidc_slurm_state_code(int st)
{
	return state_name_at(states, AIDC_SST_COUNT_, st, true, "?");
}

int aidc_slurm_states_parse(const char *list, uint32_t *mask, struct aidc_err *e)
{
	uint32_t m = 0;
	const char *p = list;
	for (;;) {
		size_t len = strcspn(p, ",");
		if (len == 0)
			return aidc_errf(e, AIDC_E_PARSE, "job states: an empty state name in '%.64s'",
					 list);
		uint32_t b = state_names_bits(states, AIDC_SST_COUNT_, p, len);
		if (!b)
			return aidc_errf(e, AIDC_E_PARSE,
					 "job states: unknown state '%.*s' (Slurm's names or codes: "
					 "PENDING/PD, RUNNING/R, COMPLETING/CG, COMPLETED/CD, "
					 "CANCELLED/CA, FAILED/F, TIMEOUT/TO, NODE_FAIL/NF, ..., or all)",
					 (int)(len > 32 ? 32 : len), p);
		m |= b;
		if (!p[len])
			break;
		p += len + 1;
	}
	*mask = m;
	return 0;
}

int aidc_slurm_state_of(const char *s)
{
	static const struct {
		const char *aidc;
		int slurm;
	} map[] = {
	    {"pending", AIDC_SST_PENDING},     {"running", AIDC_SST_RUNNING},
	    {"stopping", AIDC_SST_COMPLETING}, {"completed", AIDC_SST_COMPLETED},
	    {"failed", AIDC_SST_FAILED},       {"cancelled", AIDC_SST_CANCELLED},
	    {"timeout", AIDC_SST_TIMEOUT},     {"node_fail", AIDC_SST_NODE_FAIL},
	    {"requeue", AIDC_SST_REQUEUED},
	};
	for (size_t i = 0; s && i < AIDC_ARRAY_LEN(map); i++)
		if (strcmp(s, map[i].aidc) == 0)
			return map[i].slurm;
	return -1;
}

void aidc_slurm_duration(int64_t s, char *buf, size_t n)
{
	if (s < 0)
		s = 0;
	long long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
	if (d)
		snprintf(buf, n, "%lld-%02lld:%02lld:%02lld", d, h, m, sec);
	else if (h)
		snprintf(buf, n, "%lld:%02lld:%02lld", h, m, sec);
	else
		snprintf(buf, n, "%lld:%02lld", m, sec);
}

/* ---- node states -------------------------------------------------------- */

static const struct state_names node_states[AIDC_SNS_COUNT_] = {
    [AIDC_SNS_IDLE] = {"IDLE", "idle"},
    [AIDC_SNS_MIXED] = {"MIXED", "mix"},
    [AIDC_SNS_ALLOCATED] = {"ALLOCATED", "alloc"},
    [AIDC_SNS_DRAINED] = {"DRAINED", "drain"},
    [AIDC_SNS_DRAINING] = {"DRAINING", "drng"},
    [AIDC_SNS_DOWN] = {"DOWN", "down"},
    [AIDC_SNS_UNKNOWN] = {"UNKNOWN", "unk"},
};

const char *aidc_slurm_node_state_short(int st)
{
	return state_name_at(node_states, AIDC_SNS_COUNT_, st, true, "?");
}

const char *aidc_slurm_node_state_long(int st)
{
	return state_name_at(node_states, AIDC_SNS_COUNT_, st, false, "?");
}

static uint32_t node_state_bits(const char *s, size_t len)
{
	if (name_is("drain", s, len)) /* sinfo: drained and draining */
		return (1u << AIDC_SNS_DRAINED) | (1u << AIDC_SNS_DRAINING);
	return state_names_bits(node_states, AIDC_SNS_COUNT_, s, len);
}

int aidc_slurm_node_states_parse(const char *list, uint32_t *mask, struct aidc_err *e)
{
	uint32_t m = 0;
	for (const char *p = list;;) {
		size_t len = strcspn(p, ",");
		uint32_t b = len ? node_state_bits(p, len) : 0;
		if (!b)
			return aidc_errf(e, AIDC_E_PARSE,
					 len ? "node states: unknown state '%.*s' (idle, mix, alloc, "
					       "drain, drng, down, unk, their long names, or all)"
					     : "node states: an empty state name%.*s",
					 (int)(len > 32 ? 32 : len), p);
		m |= b;
		if (!p[len])
			break;
		p += len + 1;
	}
	*mask = m;
	return 0;
}
