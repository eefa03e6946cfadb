/* SPDX-License-Identifier: MIT */
/*
 * workload.h - the benchmark workload of docs/contract.md section 5, the one C copy,
 * linked by the benchmarks (bench/c) and the stress and reliability suites
 * (native/stress) as the static library padata_workload; identical to Java's
 * bench/jmh .../Work.java. Test and benchmark support only: not part of
 * libpadata.
 *
 * work(seed, w): a table T of 65536 bytes with T[i] = (byte)(i*31 + 7);
 * h = 0xcbf29ce484222325 ^ seed; p = seed & 0x7fff; for i in 0..w-1:
 * h ^= (int64)(signed byte)T[(p + i) & 0xffff]; h *= 0x100000001b3; return h.
 * A dependent multiply chain: no compiler folds or vectorizes it, so the
 * cost grows linearly with w (about 1.2 ns per byte on the reference box).
 *
 * Jobs of every contender use seed workload_seed(i) for job i, and a run is
 * correct when the sum and the xor of its digests equal those of the
 * single-threaded reference (workload_reference()).
 */
#ifndef PADATA_WORKLOAD_H
#define PADATA_WORKLOAD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** WORKLOAD_TABLE_SIZE - bytes in the workload's table T. */
#define WORKLOAD_TABLE_SIZE 65536u

/**
 * workload - the workload: @w dependent FNV-style steps from @seed.
 * Pure and thread-safe; the table is filled when the library is loaded.
 */
uint64_t workload(uint64_t seed, uint32_t w);

/**
 * workload_seed - the seed of job @i (a Weyl sequence, so that the table
 * offset p varies from job to job). Java: Work.seed(long).
 */
static inline uint64_t workload_seed(uint64_t i)
{
	return (i + 1) * UINT64_C(0x9e3779b97f4a7c15);
}

/** struct workload_digest - what a run folds: the sum and the xor of its digests. */
struct workload_digest {
	uint64_t sum;
	uint64_t xor_;
};

/** workload_reference - digests of jobs 0..@n-1 computed on the calling thread. */
struct workload_digest workload_reference(uint64_t n, uint32_t w);

#ifdef __cplusplus
}
#endif

#endif /* PADATA_WORKLOAD_H */
