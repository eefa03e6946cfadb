/* SPDX-License-Identifier: MIT */
/*
 * public_api_guard.c - linked into the guarded copies of the C benchmark
 * drivers (bench/c/CMakeLists.txt) with -Wl,--wrap=padata_do_parallel:
 * every call the driver itself makes to it lands here and aborts. The padata
 * contenders must submit the way the README tells users, through
 * padata_do_parallel_wait(), with no retry loop on -EBUSY. The private
 * back-pressure they once had (a futex wait on a job half a ring ahead,
 * bench_job_wait_idle()) is gone from the callback library, so no driver
 * can call it. Calls made inside libpadata
 * are not affected: --wrap renames only the references of the objects linked
 * into the executable.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_cb.h"

int __wrap_padata_do_parallel(struct padata_instance *pinst, struct padata_priv *padata, int cb_cpu);

int __wrap_padata_do_parallel(struct padata_instance *pinst, struct padata_priv *padata, int cb_cpu)
{
	(void)pinst;
	(void)padata;
	fprintf(stderr, "public_api_guard: a padata contender called padata_do_parallel(cb_cpu %d) "
		"itself: it must use padata_do_parallel_wait() as the README does\n", cb_cpu);
	abort();
}
