/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MUNGE credentials (docs/security.md): libmunge's encode for clients and
 * decode for the controller when the build has it (AIDC_HAVE_MUNGE);
 * credentials carry the payload API_MUNGE_PAYLOAD, which binds them to aidc.
 * Apart from api_auth.c (tokens, on GnuTLS's hashes) so that a client
 * linking only this never loads GnuTLS.
 */
#ifdef AIDC_HAVE_MUNGE
#include <munge.h>
#endif

#include "api/api.h"
#include "util/util.h"

/* What aidc clients put in every MUNGE credential, and the controller wants
 * back: a credential munged made for another service is refused. */
#define API_MUNGE_PAYLOAD "aidc-v1"
#ifdef AIDC_HAVE_MUNGE
bool api_munge_built(void)
{
	return true;
}

static int munge_ctx(const char *socket, munge_ctx_t *out, struct aidc_err *e)
{
	munge_ctx_t ctx = munge_ctx_create();
	if (!ctx)
		return aidc_errf(e, AIDC_E_NOMEM, "munge_ctx_create failed");
	if (socket && *socket && munge_ctx_set(ctx, MUNGE_OPT_SOCKET, socket) != EMUNGE_SUCCESS) {
		munge_ctx_destroy(ctx);
		return aidc_errf(e, AIDC_E_INVAL, "munge: bad socket %s", socket);
	}
	*out = ctx;
	return 0;
}

int api_munge_encode(const char *socket, char **cred, struct aidc_err *e)
{
	munge_ctx_t ctx = NULL;
	int crc = munge_ctx(socket, &ctx, e);
	if (crc)
		return crc;
	char *c = NULL;
	/* The payload binds the credential to aidc (the controller checks it). No
	 * MUNGE_OPT_UID_RESTRICTION: the client does not know the controller's uid. */
	munge_err_t me = munge_encode(&c, ctx, API_MUNGE_PAYLOAD, (int)strlen(API_MUNGE_PAYLOAD));
	int rc = 0;
	if (me != EMUNGE_SUCCESS)
		rc = aidc_errf(e, AIDC_E_IO, "munge: %s", munge_ctx_strerror(ctx));
	else
		*cred = aidc_strdup(c);
	free(c);
	munge_ctx_destroy(ctx);
	return rc;
}

int api_munge_decode(const char *socket, const char *cred, uint32_t *uid, uint32_t *gid,
		     struct aidc_err *e)
{
	munge_ctx_t ctx = NULL;
	int crc = munge_ctx(socket, &ctx, e);
	if (crc)
		return crc;
	uid_t u;
	gid_t g;
	void *payload = NULL;
	int len = 0;
	munge_err_t me = munge_decode(cred, ctx, &payload, &len, &u, &g);
	int rc = 0;
	if (me == EMUNGE_SOCKET)
		rc = aidc_errf(e, AIDC_E_BUSY, "munge: cannot reach munged: %s",
			       munge_ctx_strerror(ctx));
	else if (me != EMUNGE_SUCCESS)
		rc = aidc_errf(e, AIDC_E_AUTH, "MUNGE credential refused: %s", munge_strerror(me));
	else if (!payload || len != (int)strlen(API_MUNGE_PAYLOAD) ||
		 memcmp(payload, API_MUNGE_PAYLOAD, (size_t)len) != 0)
		/* Made for another service (or by hand): not a credential for aidc. */
		rc = aidc_errf(e, AIDC_E_AUTH,
			       "MUNGE credential refused: its payload is not '%s' (made for "
			       "another service?)",
			       API_MUNGE_PAYLOAD);
	else {
		*uid = (uint32_t)u;
		*gid = (uint32_t)g;
	}
	free(payload);
	munge_ctx_destroy(ctx);
	return rc;
}
#else
bool api_munge_built(void)
{
	return false;
}

int api_munge_encode(const char *socket, char **cred, struct aidc_err *e)
{
	return aidc_errf(e, AIDC_E_UNSUPPORTED, "this aidc was built without libmunge");
}

int api_munge_decode(const char *socket, const char *cred, uint32_t *uid, uint32_t *gid,
		     struct aidc_err *e)
{
	return aidc_errf(e, AIDC_E_UNSUPPORTED, "this aidc was built without libmunge");
}
#endif
