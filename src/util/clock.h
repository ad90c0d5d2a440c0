/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemons' clocks (issue 15): every timer, timeout, wait and age of the
 * controller and the agents is on CLOCK_MONOTONIC, which no NTP step or
 * `date -s` moves; the wall clock (CLOCK_REALTIME) is only for what users see
 * and what is stored (job and token times, log timestamps, an agent run's
 * epoch). Condition-variable waits with a deadline use a condition variable
 * on CLOCK_MONOTONIC (aidc_cond_init_mono).
 *
 * Tests step the wall clock with AIDC_TEST_WALL_STEP=AFTER_S:DELTA_S: from
 * AFTER_S seconds (monotonic) after the process first reads a clock, the wall
 * clock reads DELTA_S seconds later (negative: earlier). A time namespace
 * cannot do this: it offsets only CLOCK_MONOTONIC and CLOCK_BOOTTIME, never
 * CLOCK_REALTIME. Not for the scheduling core, which gets its time as an
 * argument (src/sched/sched_int.h bans clocks there).
 */
#ifndef AIDC_UTIL_CLOCK_H
#define AIDC_UTIL_CLOCK_H

#include <pthread.h>
#include <stdint.h>

int64_t aidc_mono_ms(void);
int64_t aidc_mono_us(void);
/* Wall time (Unix), with the test step if AIDC_TEST_WALL_STEP is set. */
int64_t aidc_wall_ms(void);
int64_t aidc_wall_s(void);
/* "AIDC_TEST_WALL_STEP=...: ..." when the test step is set (the daemons log
 * it at start), else NULL; a malformed value is reported here and ignored. */
const char *aidc_wall_step_note(void);

/* Initializes cv to time its waits on CLOCK_MONOTONIC. */
void aidc_cond_init_mono(pthread_cond_t *cv);
/* pthread_cond_timedwait on a cv of aidc_cond_init_mono until the
 * monotonic time deadline_ms; returns its result (ETIMEDOUT, 0, ...). */
int aidc_cond_wait_until_ms(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline_ms);

#endif
