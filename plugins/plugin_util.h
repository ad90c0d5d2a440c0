/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every bundled device plugin (cpu, cuda, opencl, example) and the
 * exam's cheating test plugin would otherwise write again: the last_error
 * text of a context, the struct_size rules of device_info
 * (docs/device-plugin-abi.md: write at most the host's out->struct_size
 * bytes) and the overflow-safe buffer range check. Header-only and libc-only,
 * so that each plugin stays one shared object with no library of ours.
 */
#ifndef AIDC_PLUGIN_UTIL_H
#define AIDC_PLUGIN_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <aidc/device.h>

/*
 * Defines `static int name(ctx_type *c, int status, const char *fmt, ...)`,
 * which formats c->err (a char array: the text last_error returns) and
 * returns status, so that a call fails in one line:
 * `return name(c, AIDC_DEV_ERR_INVALID, "no device %u", dev);`.
 */
#define PLUGIN_DEFINE_FAIL(name, ctx_type)                                                \
	static int name(ctx_type *c, int status, const char *fmt, ...)                     \
	    __attribute__((format(printf, 3, 4)));                                          \
	static int name(ctx_type *c, int status, const char *fmt, ...)                     \
	{                                                                                   \
		va_list ap;                                                                 \
		va_start(ap, fmt);                                                          \
		vsnprintf(c->err, sizeof c->err, fmt, ap);                                  \
		va_end(ap);                                                                 \
		return status;                                                              \
	}

/* How many bytes of struct aidc_dev_info the host's struct has room for. */
static inline size_t plugin_info_room(const struct aidc_dev_info *out)
{
	return out->struct_size < sizeof *out ? out->struct_size : sizeof *out;
}

/* Zeroes the host's struct (at most its struct_size bytes, which it keeps)
 * before the plugin fills it in; returns the host's struct_size. */
static inline uint32_t plugin_info_clear(struct aidc_dev_info *out)
{
	uint32_t size = out->struct_size;

	memset(out, 0, plugin_info_room(out));
	out->struct_size = size;
	return size;
}

/* Copies info, filled in at init, into the host's struct: at most its
 * struct_size bytes, which it keeps (a version-1 host's struct is smaller). */
static inline void plugin_info_copy(struct aidc_dev_info *out, const struct aidc_dev_info *info)
{
	uint32_t size = out->struct_size;

	memcpy(out, info, plugin_info_room(out));
	out->struct_size = size;
}

/* Whether bytes at off lie inside a buffer of size bytes (no overflow). */
static inline bool plugin_in_range(uint64_t size, uint64_t off, uint64_t bytes)
{
	return off <= size && bytes <= size - off;
}

#endif
