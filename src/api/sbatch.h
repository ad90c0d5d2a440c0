/* SPDX-License-Identifier: Apache-2.0 */
/*
 * #SBATCH / #AIDC directives of batch scripts (api_sbatch.c). Supported:
 * -N/--nodes, -n/--ntasks, --ntasks-per-node, -c/--cpus-per-task,
 * --gpus-per-task, -G/--gpus (total), --gres=gpu[:MODEL]:N, -t/--time,
 * --mem (per task), -J/--job-name, -o/--output, -e/--error, -p/--partition,
 * -A/--account, -q/--qos.
 * Other options are counted in nignored and otherwise skipped, as a Slurm
 * script carries many that do not apply here.
 */
#ifndef AIDC_API_SBATCH_H
#define AIDC_API_SBATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"
#include "util/limits.h"

struct api_sbatch {
	int64_t nodes, ntasks, ntasks_per_node, cpus_per_task, gpus_per_task, gpus_total;
	int64_t time_limit_s, mem_mib; /* 0 = not given */
	bool preemptible;              /* #AIDC --preemptible */
	char name[AIDC_MAX_NAME_BYTES];
	char gpu_model[AIDC_MAX_NAME_BYTES];
	char partition[AIDC_MAX_NAME_BYTES];
	char account[AIDC_MAX_NAME_BYTES]; /* -A/--account (docs/tenancy.md) */
	char qos[AIDC_MAX_NAME_BYTES];     /* -q/--qos */
	char stdout_path[AIDC_MAX_PATH_BYTES];
	char stderr_path[AIDC_MAX_PATH_BYTES];
	uint32_t nignored;
};

/*
 * A time limit as Slurm reads -t/--time: a bare number is MINUTES; "M:S",
 * "H:M:S", "D-H", "D-H:M", "D-H:M:S"; "UNLIMITED"/"INFINITE" and "0" mean no
 * limit (*out_s = 0). Suffixed forms ("90s", "15m", "2h", "1d") are accepted
 * too. Bounded by AIDC_MAX_DURATION_S.
 */
int api_parse_time_limit(const char *v, int64_t *out_s);

/* Reads the directives of script (NUL-terminated); *s is zeroed first.
 * Errors name the script line. */
int api_sbatch_parse(const char *script, struct api_sbatch *s, struct aidc_err *e);
/* Refuses a script with DOS line breaks (CRLF) with Slurm's message (its
 * interpreter would see "bash\r" and every line's last word with a '\r'). */
int api_script_check_text(const char *script, struct aidc_err *e);

#endif
