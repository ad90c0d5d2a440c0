/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming, bounded CSV reader (see csv.h). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "util/alloc.h"
#include "util/csv.h"
#include "util/outfile.h"

static void init(struct aidc_csv *c, const char *name)
{
	memset(c, 0, sizeof *c);
	snprintf(c->name, sizeof c->name, "%s", name);
	c->buf = aidc_malloc(AIDC_MAX_LINE_BYTES + 2);
}

int aidc_csv_open_file(struct aidc_csv *c, const char *path, struct aidc_err *e)
{
	int rc = aidc_input_check(path, e);
	if (rc) {
		memset(c, 0, sizeof *c);
		return rc;
	}
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f) {
		memset(c, 0, sizeof *c);
		return aidc_errf(e, AIDC_E_IO, "%s: cannot open: %s", path, strerror(errno));
	}
	init(c, path);
	c->f = f;
	return 0;
}

void aidc_csv_open_mem(struct aidc_csv *c, const char *name, const char *data, size_t len)
{
	init(c, name);
	c->mem = data;
	c->mem_len = len;
}

void aidc_csv_close(struct aidc_csv *c)
{
	if (c->f && c->f != stdin)
		fclose(c->f);
	aidc_free(c->buf);
	for (size_t i = 0; i < c->nhdr; i++)
		aidc_free(c->hdr[i]);
	memset(c, 0, sizeof *c);
}

/*
 * Reads one physical line into c->buf without its terminator.
 * Returns 1 (line), 0 (EOF), AIDC_E_LIMIT (too long; the rest was discarded)
 * or AIDC_E_PARSE (NUL byte).
 */
static int read_line(struct aidc_csv *c, size_t *len_out)
{
	size_t len = 0;
	bool any = false, too_long = false, nul = false;
	for (;;) {
		int ch;
		if (c->mem) {
			if (c->mem_pos >= c->mem_len)
				break;
			ch = (unsigned char)c->mem[c->mem_pos++];
		} else {
			ch = getc_unlocked(c->f);
			if (ch == EOF)
				break;
		}
		any = true;
		if (ch == '\n')
			break;
		if (ch == '\0')
			nul = true;
		if (len < AIDC_MAX_LINE_BYTES)
			c->buf[len++] = (char)ch;
		else
			too_long = true;
	}
	if (!any)
		return 0;
	c->line++;
	if (len > 0 && c->buf[len - 1] == '\r')
		len--;
	c->buf[len] = '\0';
	*len_out = len;
	if (too_long)
		return AIDC_E_LIMIT;
	if (nul)
		return AIDC_E_PARSE;
	return 1;
}

static char *trim(char *s, char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	return s;
}

/* Splits c->buf[0..len) into fields in place. */
static int split(struct aidc_csv *c, size_t len, struct aidc_err *e)
{
	char *p = c->buf, *end = c->buf + len;
	c->nfields = 0;
	for (;;) {
		if (c->nfields == AIDC_MAX_CSV_FIELDS)
			return aidc_errf(e, AIDC_E_LIMIT, "%s:%zu: more than %u fields", c->name,
					 c->line, AIDC_MAX_CSV_FIELDS);
		char *q = p;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q < end && *q == '"') {
			/* Quoted: unescape "" in place. */
			char *w = q, *r = q + 1;
			for (;;) {
				if (r >= end)
					return aidc_errf(e, AIDC_E_PARSE,
							 "%s:%zu: unterminated quoted field", c->name,
							 c->line);
				if (*r == '"') {
					if (r + 1 < end && r[1] == '"') {
						*w++ = '"';
						r += 2;
						continue;
					}
					r++;
					break;
				}
				*w++ = *r++;
			}
			while (r < end && (*r == ' ' || *r == '\t'))
				r++;
			if (r < end && *r != ',')
				return aidc_errf(e, AIDC_E_PARSE,
						 "%s:%zu: text after a closing quote", c->name, c->line);
			*w = '\0';
			c->fields[c->nfields++] = q;
			if (r >= end)
				return 0;
			p = r + 1;
			continue;
		}
		char *comma = memchr(p, ',', (size_t)(end - p));
		char *fend = comma ? comma : end;
		c->fields[c->nfields++] = trim(p, fend);
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

int aidc_csv_next(struct aidc_csv *c, struct aidc_err *e)
{
	for (;;) {
		size_t len = 0;
		int rc = read_line(c, &len);
		if (rc == 0)
			return 0;
		if (rc == AIDC_E_LIMIT)
			return aidc_errf(e, rc, "%s:%zu: line longer than %u bytes", c->name,
					 c->line, AIDC_MAX_LINE_BYTES);
		if (rc == AIDC_E_PARSE)
			return aidc_errf(e, rc, "%s:%zu: NUL byte in text", c->name, c->line);
		if (blank(c->buf, len))
			continue;
		rc = split(c, len, e);
		return rc ? rc : 1;
	}
}

int aidc_csv_read_header(struct aidc_csv *c, struct aidc_err *e)
{
	int rc = aidc_csv_next(c, e);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return aidc_errf(e, AIDC_E_PARSE, "%s: empty file (no header row)", c->name);
	for (size_t i = 0; i < c->nfields; i++) {
		const char *h = c->fields[i];
		/* A UTF-8 byte-order mark before the first name is not part of it. */
		if (i == 0 && (unsigned char)h[0] == 0xEF && (unsigned char)h[1] == 0xBB &&
		    (unsigned char)h[2] == 0xBF)
			h += 3;
		c->hdr[i] = aidc_strdup(h);
	}
	c->nhdr = c->nfields;
	return 0;
}

int aidc_csv_col(const struct aidc_csv *c, const char *name)
{
	for (size_t i = 0; i < c->nhdr; i++)
		if (strcmp(c->hdr[i], name) == 0)
			return (int)i;
	return -1;
}

const char *aidc_csv_get(const struct aidc_csv *c, int i)
{
	if (i < 0 || (size_t)i >= c->nfields)
		return "";
	return c->fields[i];
}

void aidc_csv_put_field(FILE *out, const char *s)
{
	size_t len = strlen(s);
	bool quote = len && (strpbrk(s, ",\"\r\n") || s[0] == ' ' || s[0] == '\t' ||
			     s[len - 1] == ' ' || s[len - 1] == '\t');
	if (!quote) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}
