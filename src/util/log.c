/* SPDX-License-Identifier: Apache-2.0 */
/* stderr logging for the drivers (see log.h). */
#include <stdarg.h>
#include <stdio.h>

#include "util/log.h"

/* The one process-wide setting of util; set once at start-up by main(). */
static enum aidc_log_level current = AIDC_LOG_INFO;

void aidc_log_set_level(enum aidc_log_level level)
{
	current = level;
}

enum aidc_log_level aidc_log_get_level(void)
{
	return current;
}

void aidc_log(enum aidc_log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	if (level > current)
		return;
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "aidc: %s: %s\n", names[level], line);
}
