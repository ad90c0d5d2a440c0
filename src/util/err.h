/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one project-wide error table, and the error buffer that carries the
 * root cause of a failure up to the user.
 *
 * Every function that can fail returns int: 0 on success, one of the negative
 * AIDC_E_* codes below on failure. Codes are append-only: never renumber or
 * reuse one, since they travel in JSON replies and exit statuses. Add new codes
 * at the end of AIDC_ERROR_TABLE with the next free number.
 *
 * Detail goes into a caller-provided struct aidc_err: the FIRST message written
 * is kept (the root cause); later writes along the unwinding path are ignored.
 */
#ifndef AIDC_UTIL_ERR_H
#define AIDC_UTIL_ERR_H

#include <stdarg.h>
#include <stddef.h>

/* X(name, code, http_status, message) */
#define AIDC_ERROR_TABLE(X)                                                    \
	X(OK, 0, 200, "success")                                               \
	X(E_NOMEM, -1, 500, "out of memory")                                   \
	X(E_INVAL, -2, 400, "invalid argument")                                \
	X(E_PARSE, -3, 400, "malformed input")                                 \
	X(E_LIMIT, -4, 413, "a documented limit was exceeded")                 \
	X(E_IO, -5, 500, "input/output error")                                 \
	X(E_NOTFOUND, -6, 404, "not found")                                    \
	X(E_EXISTS, -7, 409, "already exists")                                 \
	X(E_STATE, -8, 409, "not allowed in the current state")                \
	X(E_NOFIT, -9, 409, "the request does not fit the resources")          \
	X(E_UNSUPPORTED, -10, 501, "not supported")                            \
	X(E_VERSION, -11, 400, "unknown format version")                       \
	X(E_PERM, -12, 403, "permission denied")                               \
	X(E_AUTH, -13, 401, "not authenticated")                               \
	X(E_INTERNAL, -14, 500, "internal error")                              \
	X(E_BUSY, -15, 503, "busy, try again")                                 \
	X(E_TIMEOUT, -16, 504, "timed out")                                    \
	X(E_DEVICE, -17, 502, "device or plugin failure")                      \
	X(E_WRONG_ANSWER, -18, 500, "result failed the correctness check")     \
	X(E_USAGE, -19, 400, "bad command-line usage")

enum aidc_errcode {
#define AIDC_X_ENUM(name, code, http, msg) AIDC_##name = code,
	AIDC_ERROR_TABLE(AIDC_X_ENUM)
#undef AIDC_X_ENUM
};

/* Longest detail message kept, including the terminating NUL. */
#define AIDC_ERRMSG_MAX 512

struct aidc_err {
	int code;                  /* first failure's code, 0 if none */
	char msg[AIDC_ERRMSG_MAX]; /* first failure's detail, "" if none */
};

/* Static strings for a code; unknown codes give "unknown error" / "E_UNKNOWN". */
const char *aidc_strerror(int code);
const char *aidc_errname(int code);
/* HTTP status for a code (500 for unknown codes). */
int aidc_err_http_status(int code);

/* Clears *e (NULL is allowed). */
void aidc_err_clear(struct aidc_err *e);

/*
 * Records a failure and returns code, so callers write
 *     return aidc_errf(e, AIDC_E_PARSE, "%s:%zu: bad value '%s'", file, line, v);
 * Keeps the first message only. e may be NULL (then only code is returned).
 */
int aidc_errf(struct aidc_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int aidc_verrf(struct aidc_err *e, int code, const char *fmt, va_list ap);

/* The detail message if any, else the code's generic message. Borrowed. */
const char *aidc_err_text(const struct aidc_err *e, int code);

#endif
