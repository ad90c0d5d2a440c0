/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inference services inside the controller (docs/services.md): the model
 * shared by services.c (API, validation, persistence) and services_run.c
 * (the reconcile tick on the loop thread and the worker thread that probes
 * replicas and drives the router). Private to src/ctld.
 *
 * A service is N replicas of one command; each replica is an ordinary
 * one-task job (placed, accounted and limited like any job, never
 * preemptible) with a port of its own in $PORT. The loop thread owns every
 * field below except those marked "worker"; the two threads meet only in
 * struct ctld_svc_shared, under its mutex.
 */
#ifndef AIDC_CTLD_SERVICES_H
#define AIDC_CTLD_SERVICES_H

#include <pthread.h>

#include "ctld/ctld_int.h"

/* A replica's place in its service's life cycle. */
enum svc_rstate {
	SVC_R_STARTING = 0, /* its job is pending, or running but not (yet) ready */
	SVC_R_READY = 1,    /* its probe answers: in the router */
	SVC_R_DRAINING = 2, /* leaving: out of the router first, then its job stops */
	SVC_R_STOPPING = 3, /* its job was told to stop; gone when the job ends */
};

struct svc_replica {
	uint64_t job;
	uint32_t gen;	  /* the spec generation it runs */
	uint16_t port;	  /* its $PORT */
	int state;	  /* enum svc_rstate */
	bool ready;	  /* the latest probe answered 2xx/3xx */
	uint32_t fails;	  /* probe failures in a row */
	uint64_t probes;  /* probes seen (the worker's count) */
	int64_t run_ms;	  /* when its job was first seen running; 0 = not yet */
	int64_t drain_ms; /* when it began draining */
	bool routed;	  /* the router sends it requests (worker's report) */
	bool lb_gone;	  /* the router no longer has it (worker's report) */
	bool ever_ready;
	uint64_t drain_seq; /* the target list that first asked for its drain */
	char why[160];	    /* why it is leaving */
	char addr[64];	    /* its node's address while running */
};

struct svc_service {
	char name[64];
	uint32_t uid, gid;
	char user[64];
	struct api_service_spec spec; /* current target; owned */
	char *spec_json;	      /* its canonical document; owned */
	char *prev_json;	      /* the spec before the latest update (rollback), or NULL */
	uint32_t gen, prev_gen, next_gen;
	int64_t want; /* replicas wanted now (spec.replicas or the autoscaler's) */
	int slot;     /* router slot, -1 = none */
	struct svc_replica *r;
	size_t nr, cap;
	uint32_t gen_failures; /* failures of current-generation replicas in a rollout */
	uint32_t crash_streak; /* replicas ended without being asked; reset when one is ready */
	int64_t restarts;
	int64_t backoff_until_ms;
	bool deleting;
	bool dirty; /* persist at the end of the tick */
	int64_t created_s, updated_s;
	char message[256]; /* the latest event people should see */
	/* router statistics and the autoscaler (from the worker's reports) */
	uint64_t requests, resp_5xx;
	int64_t avg_ms;
	double rps;
	int64_t low_since_ms;
};

/* What the loop asks of the worker for one replica. */
enum svc_lb_want { SVC_LB_ABSENT = 0, SVC_LB_ROUTED = 1, SVC_LB_DRAIN = 2 };
struct svc_target {
	uint64_t job;
	char addr[64];
	uint16_t port;
	int slot;    /* -1: no router */
	int lb_want; /* enum svc_lb_want */
	bool probe;  /* its job runs: probe it */
	char path[256];
	int64_t period_ms, timeout_ms;
};

/* What the worker reports for one replica. */
struct svc_result {
	uint64_t job;
	uint64_t seq; /* the target list the worker had applied */
	uint64_t probes;
	bool ok;
	uint32_t fails;
	bool routed, lb_gone;
};

struct svc_slot_stats {
	uint64_t requests, resp_5xx;
	int64_t avg_ms;
	double rps; /* over the worker's last measuring interval */
	bool valid;
};

/* Between the loop and the worker (under mu). */
struct ctld_svc_shared {
	pthread_mutex_t mu;
	pthread_cond_t wake;
	bool stop;
	struct svc_target *targets; /* the loop's latest list (replaced wholesale) */
	size_t ntargets;
	uint64_t targets_seq;
	struct svc_result *results; /* the worker's latest reports */
	size_t nresults;
	struct svc_slot_stats *slots; /* service_slots entries */
	bool want_router;	      /* the loop: a service exists (the router starts lazily) */
	bool router_up;
	char router_why[256]; /* why there is no router, "" when up */
};

struct ctld_services {
	struct svc_service **v; /* sorted by name */
	size_t n, cap;
	int64_t next_tick_ms;
	uint32_t port_cursor;
	struct ctld_svc_shared sh;
	/* The loop's copy of sh.router_up / router_why (take_results). */
	bool router_up;
	char router_why[256];
	pthread_t worker;
	bool worker_started, sh_init;
	struct ctld_haproxy *lb; /* worker's */
	char lb_dir[AIDC_MAX_PATH_BYTES];
};

/* services.c */
struct svc_service *svc_find(struct ctld *c, const char *name);
/* Writes s's row in the open group transaction (its own unit). */
int svc_persist(struct ctld *c, struct svc_service *s, struct aidc_err *e);
int svc_remove_row(struct ctld *c, const char *name, struct aidc_err *e);
void svc_free(struct svc_service *s);
void svc_drop(struct ctld *c, struct svc_service *s); /* out of the set, freed */
/* Gives free router slots to waiting services, fairly between users. */
void svc_assign_slots(struct ctld *c);
/* The probe of s with defaults filled. */
void svc_probe_of(const struct svc_service *s, char *path, size_t n, int64_t *period_ms,
		  int64_t *timeout_ms, int64_t *threshold, int64_t *start_ms);
void svc_rollout_of(const struct svc_service *s, int64_t *surge, int64_t *unavail,
		    int64_t *max_failures);
/* Decodes a spec document (owned by the caller) into *out. */
int svc_spec_decode(const char *json, struct api_service_spec *out, struct aidc_err *e);

/* services_run.c */
void svc_tick_one(struct ctld *c, struct svc_service *s, const struct svc_result *res, size_t nres,
		  int64_t now_ms);
/* A replica's job spec (services.c); release with api_decoded_release. */
void svc_replica_spec(const struct svc_service *s, uint16_t port, struct api_job_submit *j);
void svc_worker_stop(struct ctld *c);
void svc_publish(struct ctld *c);

#endif
