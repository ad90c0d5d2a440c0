/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fp16 (IEEE binary16) and bf16 conversions to and from fp32, round to
 * nearest even, used by the exam harness to make inputs and read results and
 * by in-tree plugins that compute 16-bit types in fp32. Header-only so that
 * plugins need not link aidc_dev.
 */
#ifndef AIDC_DEV_HALF_H
#define AIDC_DEV_HALF_H

#include <stdint.h>
#include <string.h>

static inline uint32_t dev_f32_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	return u;
}

static inline float dev_bits_f32(uint32_t u)
{
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

static inline uint16_t dev_f32_to_bf16(float f)
{
	uint32_t u = dev_f32_bits(f);
	if ((u & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)((u >> 16) | 0x40u); /* quiet NaN */
	u += 0x7fffu + ((u >> 16) & 1u);
	return (uint16_t)(u >> 16);
}

static inline float dev_bf16_to_f32(uint16_t h)
{
	return dev_bits_f32((uint32_t)h << 16);
}

static inline float dev_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
	uint32_t exp = (h >> 10) & 0x1fu;
	uint32_t man = h & 0x3ffu;
	if (exp == 0) {
		if (man == 0)
			return dev_bits_f32(sign);
		/* subnormal: value = man * 2^-24 */
		float v = (float)man * (1.0f / 16777216.0f);
		return sign ? -v : v;
	}
	if (exp == 31)
		return dev_bits_f32(sign | 0x7f800000u | (man << 13));
	return dev_bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

static inline uint16_t dev_f32_to_f16(float f)
{
	uint32_t u = dev_f32_bits(f);
	uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
	uint32_t absu = u & 0x7fffffffu;
	if (absu > 0x7f800000u)
		return (uint16_t)(sign | 0x7e00u);
	if (absu >= 0x477ff000u) /* rounds to >= 65520: infinity */
		return (uint16_t)(sign | 0x7c00u);
	if (absu < 0x38800000u) { /* below 2^-14: subnormal or zero */
		float a = dev_bits_f32(absu) * 16777216.0f; /* in units of 2^-24 */
		uint32_t m = (uint32_t)a;
		float frac = a - (float)m;
		if (frac > 0.5f || (frac == 0.5f && (m & 1u)))
			m++;
		return (uint16_t)(sign | m);
	}
	uint32_t exp = (absu >> 23) - 112u;
	uint32_t man = absu & 0x7fffffu;
	uint32_t half = (exp << 10) | (man >> 13);
	uint32_t rest = man & 0x1fffu;
	if (rest > 0x1000u || (rest == 0x1000u && (half & 1u)))
		half++;
	return (uint16_t)(sign | half);
}

#endif
