/* SPDX-License-Identifier: MIT */
/* workload.c - the benchmark workload; see workload.h. */
#include "workload.h"

static int8_t work_table[WORKLOAD_TABLE_SIZE];

/*
 * Filled once when the executable or shared library is loaded, before any
 * thread can call workload(); never written afterwards.
 */
__attribute__((constructor)) static void work_table_init(void)
{
	for (uint32_t i = 0; i < WORKLOAD_TABLE_SIZE; i++)
		work_table[i] = (int8_t)(uint8_t)(i * 31u + 7u);
}

uint64_t workload(uint64_t seed, uint32_t w)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325) ^ seed;
	uint32_t p = (uint32_t)(seed & 0x7fff);

	for (uint32_t i = 0; i < w; i++) {
		/* Sign-extend the byte, as Java's (long) of a byte does. */
		h ^= (uint64_t)(int64_t)work_table[(p + i) & 0xffff];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

struct workload_digest workload_reference(uint64_t n, uint32_t w)
{
	struct workload_digest d = { 0, 0 };

	for (uint64_t i = 0; i < n; i++) {
		uint64_t h = workload(workload_seed(i), w);

		d.sum += h;
		d.xor_ ^= h;
	}
	return d;
}
