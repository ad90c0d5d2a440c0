/* SPDX-License-Identifier: Apache-2.0 */
/* Fractional placement policies (FGD and peers). Placeholder: to be implemented. */
#include "sched/sched_int.h"

void sched_frag_free(struct sched_frag *f)
{
	(void)f;
}

bool sched_frag_policy(enum sched_placement p)
{
	return p >= SCHED_PLACE_RANDOM && p <= SCHED_PLACE_AIDC_FRAG;
}

int sched_frag_pick(struct sched *s, const struct sched_req *req, uint32_t part, uint32_t task,
		    struct sched_alloc *out)
{
	return AIDC_E_NOFIT;
}

int sched_set_workload(struct sched *s, const struct sched_task_type *types, size_t n,
		       struct aidc_err *e)
{
	return aidc_errf(e, AIDC_E_UNSUPPORTED, "fractional policies are not built yet");
}

double sched_fragmentation(const struct sched *s, uint32_t part)
{
	return 0.0;
}
