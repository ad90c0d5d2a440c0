/* SPDX-License-Identifier: Apache-2.0 */
/*
 * C library calls that AIDC code must not use, turned into compile errors.
 * Include it LAST (util/util.h does), after every system header: the macros
 * would otherwise rewrite the library's own declarations.
 *
 * Why each is banned, and what to use instead:
 *   strcpy, strcat, strncpy, strncat, sprintf, vsprintf: unbounded or
 *       truncate silently -> snprintf, struct aidc_buf, memcpy with a checked length
 *   gets: unbounded -> fgets / struct aidc_csv
 *   strtok: hidden global state -> strtok_r or manual splitting
 *   atoi, atol, atoll, atof: no error reporting -> aidc_parse_* (util/parse.h)
 *   rand, srand, random: platform-dependent sequences -> struct aidc_rng
 */
#ifndef AIDC_UTIL_BANNED_H
#define AIDC_UTIL_BANNED_H

#define AIDC_BANNED(f) sorry_##f##_is_banned_in_aidc_see_util_banned_h

#undef strcpy
#define strcpy(...) AIDC_BANNED(strcpy)
#undef strcat
#define strcat(...) AIDC_BANNED(strcat)
#undef strncpy
#define strncpy(...) AIDC_BANNED(strncpy)
#undef strncat
#define strncat(...) AIDC_BANNED(strncat)
#undef sprintf
#define sprintf(...) AIDC_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) AIDC_BANNED(vsprintf)
#undef gets
#define gets(...) AIDC_BANNED(gets)
#undef strtok
#define strtok(...) AIDC_BANNED(strtok)
#undef atoi
#define atoi(...) AIDC_BANNED(atoi)
#undef atol
#define atol(...) AIDC_BANNED(atol)
#undef atoll
#define atoll(...) AIDC_BANNED(atoll)
#undef atof
#define atof(...) AIDC_BANNED(atof)
#undef rand
#define rand(...) AIDC_BANNED(rand)
#undef srand
#define srand(...) AIDC_BANNED(srand)
#undef random
#define random(...) AIDC_BANNED(random)

#endif
