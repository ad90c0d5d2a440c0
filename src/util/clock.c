/* SPDX-License-Identifier: Apache-2.0 */
/* Monotonic and wall clocks, monotonic condition waits (see clock.h). */
#include <pthread.h>
#include <time.h>

#include "util/clock.h"
#include "util/util.h"

static int64_t read_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t aidc_mono_ms(void)
{
	return read_ms(CLOCK_MONOTONIC);
}

int64_t aidc_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The test step: parsed once, from the first clock read on. */
static pthread_once_t step_once = PTHREAD_ONCE_INIT;
static int64_t step_at_ms = -1; /* monotonic; -1 = no step */
static int64_t step_ms;
static char step_note[160];

static void step_init(void)
{
	const char *v = getenv("AIDC_TEST_WALL_STEP");
	if (!v || !*v)
		return;
	char a[32], d[32];
	const char *colon = strchr(v, ':');
	int64_t after = 0, delta = 0;
	if (!colon || (size_t)(colon - v) >= sizeof a || strlen(colon + 1) >= sizeof d) {
		snprintf(step_note, sizeof step_note,
			 "AIDC_TEST_WALL_STEP='%.40s' ignored: want AFTER_S:DELTA_S", v);
		return;
	}
	memcpy(a, v, (size_t)(colon - v));
	a[colon - v] = '\0';
	snprintf(d, sizeof d, "%s", colon + 1);
	if (aidc_parse_i64(a, 0, 86400, &after) != 0 ||
	    aidc_parse_i64(d, -(int64_t)10 * 365 * 86400, (int64_t)10 * 365 * 86400, &delta) != 0) {
		snprintf(step_note, sizeof step_note,
			 "AIDC_TEST_WALL_STEP='%.40s' ignored: want AFTER_S:DELTA_S (0..86400, "
			 "within 10 years)",
			 v);
		return;
	}
	step_at_ms = aidc_mono_ms() + after * 1000;
	step_ms = delta * 1000;
	snprintf(step_note, sizeof step_note,
		 "AIDC_TEST_WALL_STEP=%s: the wall clock steps by %+" PRId64 " s in %" PRId64
		 " s (tests only)",
		 v, delta, after);
}

int64_t aidc_wall_ms(void)
{
	pthread_once(&step_once, step_init);
	int64_t t = read_ms(CLOCK_REALTIME);
	if (step_at_ms >= 0 && aidc_mono_ms() >= step_at_ms)
		t += step_ms;
	return t;
}

int64_t aidc_wall_s(void)
{
	return aidc_wall_ms() / 1000;
}

const char *aidc_wall_step_note(void)
{
	pthread_once(&step_once, step_init);
	return step_note[0] ? step_note : NULL;
}

void aidc_cond_init_mono(pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
}

int aidc_cond_wait_until_ms(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline_ms)
{
	if (deadline_ms < 0)
		deadline_ms = 0;
	struct timespec ts = {.tv_sec = (time_t)(deadline_ms / 1000),
			      .tv_nsec = (long)(deadline_ms % 1000) * 1000000L};
	return pthread_cond_timedwait(cv, mu, &ts);
}
