/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scale emulation (issue 15 item 1): N virtual nodes with mock devices in one
 * process, each speaking the real agent protocol 2 to a real controller over
 * loopback TCP (registration, heartbeats, work long polls, batched task
 * reports). Launched tasks fork nothing: each "exits" 0 after task_ms. One
 * thread runs every node on libcurl's multi interface over epoll, so that
 * 16,384 nodes cost 16,384 sockets, not 16,384 threads.
 */
#ifndef AIDC_BENCH_SCALE_EMU_H
#define AIDC_BENCH_SCALE_EMU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct emu_config {
	const char *host;       /* controller, "127.0.0.1" */
	uint16_t port;
	const char *secret;     /* cluster secret (X-AIDC-Secret) */
	uint32_t nodes;
	uint32_t devices;       /* mock devices per node */
	int64_t task_ms;        /* a launched task exits after this long */
	int64_t poll_wait_s;    /* ?wait= of the work long poll (the agent's 20) */
	uint32_t max_inflight;  /* concurrent registrations/heartbeats/reports */
};

/* What the driver reads (under emu.mu) and what the emulator records per job. */
struct emu_job {
	int64_t submit_ms;      /* monotonic ms the client began the submission; 0 = unknown */
	int64_t start_ms;       /* first launch order of the job seen by a node */
	int64_t done_ms;        /* the controller took the last task's exit report */
	int32_t ntasks;         /* set by the driver; 0 = not a tracked job */
	int32_t exited;         /* task exits the controller acknowledged */
};

struct emu_stats {
	uint32_t registered;    /* nodes whose registration was answered 200 */
	uint64_t heartbeats, polls, reports, launches, kills, http_errors;
	uint64_t reregistrations;
	int64_t hb_period_ms;   /* the heartbeat period the controller told last */
};

struct emu;

/* Starts the emulator thread; every node registers at once (bounded by
 * max_inflight). jobs_cap sizes the job table (ids 1..jobs_cap-1). Owned by
 * the caller: emu_stop frees it. */
int emu_start(const struct emu_config *cfg, size_t jobs_cap, struct emu **out, char *err,
	      size_t errlen);
void emu_stop(struct emu *em);

/* The driver's side; each takes the emulator's lock. */
void emu_stats_get(struct emu *em, struct emu_stats *out);
void emu_job_submitted(struct emu *em, int64_t id, int64_t submit_ms, int32_t ntasks);
/* A copy of job id's record; false when id is outside the table. */
bool emu_job_get(struct emu *em, int64_t id, struct emu_job *out);
/* Nodes [first, first+n) go silent at once (no heartbeats, polls or reports). */
void emu_silence(struct emu *em, uint32_t first, uint32_t n);

int64_t emu_now_ms(void);

#endif
