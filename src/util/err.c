/* SPDX-License-Identifier: Apache-2.0 */
/* The project-wide error table (see err.h) and the root-cause error buffer. */
#include <stdio.h>
#include <string.h>

#include "util/err.h"

struct errinfo {
	int code;
	int http;
	const char *name;
	const char *msg;
};

static const struct errinfo table[] = {
#define AIDC_X_ROW(name, code, http, msg) {code, http, #name, msg},
	AIDC_ERROR_TABLE(AIDC_X_ROW)
#undef AIDC_X_ROW
};

static const struct errinfo *lookup(int code)
{
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (table[i].code == code)
			return &table[i];
	return NULL;
}

const char *aidc_strerror(int code)
{
	const struct errinfo *e = lookup(code);
	return e ? e->msg : "unknown error";
}

const char *aidc_errname(int code)
{
	const struct errinfo *e = lookup(code);
	return e ? e->name : "E_UNKNOWN";
}

int aidc_err_http_status(int code)
{
	const struct errinfo *e = lookup(code);
	return e ? e->http : 500;
}

void aidc_err_clear(struct aidc_err *e)
{
	if (!e)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}

int aidc_verrf(struct aidc_err *e, int code, const char *fmt, va_list ap)
{
	if (e && e->code == 0) {
		e->code = code;
		vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	}
	return code;
}

int aidc_errf(struct aidc_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	aidc_verrf(e, code, fmt, ap);
	va_end(ap);
	return code;
}

const char *aidc_err_text(const struct aidc_err *e, int code)
{
	if (e && e->code != 0 && e->msg[0])
		return e->msg;
	return aidc_strerror(code);
}
