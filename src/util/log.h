/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process logging to stderr for the drivers (CLI, simulator, controller,
 * agent). The scheduling core never calls this: it logs through the function
 * table it is given (struct sched_env).
 */
#ifndef AIDC_UTIL_LOG_H
#define AIDC_UTIL_LOG_H

enum aidc_log_level { AIDC_LOG_ERROR, AIDC_LOG_WARN, AIDC_LOG_INFO, AIDC_LOG_DEBUG };

void aidc_log_set_level(enum aidc_log_level level);
enum aidc_log_level aidc_log_get_level(void);
void aidc_log(enum aidc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
