/* SPDX-License-Identifier: MIT */
/*
 * stress_work.h - the benchmark workload of SPEC.md section 5, for the
 * stress driver and the reliability tests. Test-only, header-only, C and C++.
 *
 * work(seed, w) is a dependent FNV-style chain over a fixed 64 KiB table,
 * about 1.2 ns per step on the development machine, that no compiler folds.
 */
#ifndef PADATA_STRESS_WORK_H
#define PADATA_STRESS_WORK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRESS_WORK_TABLE 65536u

/* T[i] = (byte)(i * 31 + 7); built once, read-only afterwards. */
static inline const signed char *stress_work_table(void)
{
	static signed char table[STRESS_WORK_TABLE];
	static int ready; /* written once before any thread starts; see stress_work_init() */

	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		for (uint32_t i = 0; i < STRESS_WORK_TABLE; i++)
			table[i] = (signed char)(uint8_t)(i * 31u + 7u);
		/* Pairs with the acquire load above in other threads. */
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	return table;
}

/* Call once from the main thread before starting threads that use stress_work(). */
static inline void stress_work_init(void)
{
	(void)stress_work_table();
}

static inline uint64_t stress_work(uint64_t seed, uint32_t w)
{
	const signed char *t = stress_work_table();
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	uint32_t p = (uint32_t)(seed & 0x7fff);

	for (uint32_t i = 0; i < w; i++) {
		h ^= (uint64_t)(int64_t)t[(p + i) & 0xffff];
		h *= 0x100000001b3ull;
	}
	return h;
}

#ifdef __cplusplus
}
#endif

#endif /* PADATA_STRESS_WORK_H */
