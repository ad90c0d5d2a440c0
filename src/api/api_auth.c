/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-user API tokens, the parts that need no state: making a random secret,
 * hashing it (SHA-256 through GnuTLS, the TLS library libmicrohttpd already
 * uses), parsing a presented token, and comparing hashes in constant time.
 * The controller stores and checks rows (src/ctld/auth.c). MUNGE
 * credentials: api_munge.c.
 */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <sys/random.h>

#include "api/api.h"
#include "util/util.h"

static void to_hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int api_sha256_hex(const void *p, size_t n, char out[API_HASH_HEX + 1], struct aidc_err *e)
{
	unsigned char d[32];
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, p, n, d) != 0)
		return aidc_errf(e, AIDC_E_INTERNAL, "SHA-256 failed");
	to_hex(d, sizeof d, out);
	return 0;
}

int api_job_cred(const char *secret, int64_t job, int64_t attempt, char out[API_JOB_CRED_MAX],
		 struct aidc_err *e)
{
	char msg[96];
	unsigned char mac[32];
	char hex[2 * sizeof mac + 1];

	if (!secret || !*secret || job < 1 || attempt < 0)
		return aidc_errf(e, AIDC_E_INVAL, "no job credential without a secret and a job");
	int n = snprintf(msg, sizeof msg, "aidc-job-v1 %" PRId64 " %" PRId64, job, attempt);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, strlen(secret), msg, (size_t)n, mac) != 0)
		return aidc_errf(e, AIDC_E_INTERNAL, "HMAC-SHA256 failed");
	to_hex(mac, sizeof mac, hex);
	explicit_bzero(mac, sizeof mac);
	snprintf(out, API_JOB_CRED_MAX, "%s%" PRId64 "_%" PRId64 "_%s", API_JOB_CRED_PREFIX, job,
		 attempt, hex);
	return 0;
}

bool api_job_cred_parse(const char *cred, int64_t *job, int64_t *attempt)
{
	size_t plen = strlen(API_JOB_CRED_PREFIX);
	if (!cred || strncmp(cred, API_JOB_CRED_PREFIX, plen) != 0 ||
	    strlen(cred) >= API_JOB_CRED_MAX)
		return false;
	int64_t v[2] = {0, 0};
	const char *p = cred + plen;
	for (int k = 0; k < 2; k++) {
		const char *start = p;
		for (; *p >= '0' && *p <= '9'; p++)
			if (__builtin_mul_overflow(v[k], 10, &v[k]) ||
			    __builtin_add_overflow(v[k], *p - '0', &v[k]))
				return false;
		if (p == start || *p++ != '_')
			return false;
	}
	size_t nhex = 0;
	for (; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'); p++)
		nhex++;
	if (*p || nhex != 64 || v[0] < 1)
		return false;
	*job = v[0];
	*attempt = v[1];
	return true;
}

int api_token_secret_new(char secret[API_TOKEN_SECRET_HEX + 1], char hash[API_HASH_HEX + 1],
			 struct aidc_err *e)
{
	unsigned char raw[API_TOKEN_SECRET_HEX / 2];
	size_t got = 0;
	while (got < sizeof raw) {
		ssize_t r = getrandom(raw + got, sizeof raw - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return aidc_errf(e, AIDC_E_IO, "getrandom: %s", strerror(errno));
		got += (size_t)r;
	}
	to_hex(raw, sizeof raw, secret);
	explicit_bzero(raw, sizeof raw);
	return api_sha256_hex(secret, API_TOKEN_SECRET_HEX, hash, e);
}

int api_token_parse(const char *token, uint64_t *id, char hash[API_HASH_HEX + 1],
		    struct aidc_err *e)
{
	size_t plen = strlen(API_TOKEN_PREFIX);
	if (!token || strncmp(token, API_TOKEN_PREFIX, plen) != 0)
		return aidc_errf(e, AIDC_E_AUTH, "malformed token");
	const char *p = token + plen;
	uint64_t v = 0;
	size_t nd = 0;
	for (; *p >= '0' && *p <= '9' && nd < 19; p++, nd++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (nd == 0 || v == 0 || *p != '_')
		return aidc_errf(e, AIDC_E_AUTH, "malformed token");
	p++;
	size_t n = strlen(p);
	if (n != API_TOKEN_SECRET_HEX || strspn(p, "0123456789abcdef") != n)
		return aidc_errf(e, AIDC_E_AUTH, "malformed token");
	*id = v;
	return api_sha256_hex(p, n, hash, e);
}

bool api_const_equal(const char *want, const char *got)
{
	if (!want || !got)
		return false;
	size_t a = strlen(want), b = strlen(got);
	unsigned char diff = (unsigned char)(a != b);
	for (size_t i = 0; i < a; i++)
		diff |= (unsigned char)(want[i] ^ (i < b ? got[i] : 0));
	return diff == 0;
}
