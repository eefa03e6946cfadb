/* SPDX-License-Identifier: MIT */
/*
 * testcb.c - C callbacks for NativeJobTest: jobs whose parallel() and serial()
 * never enter Java.
 *
 * Loaded by the test with SymbolLookup.libraryLookup; it does not link against
 * libpadata (the JVM loads libpadata privately), so testcb_init() receives
 * padata_do_serial's address from NativeJob.doSerialFunction().
 *
 * One job per struct testcb_job; every job of a run uses the same cb_cpu, so
 * serial() sees one total order and checks it.
 */
/* The project's own header: the build passes -I native/include only (the
 * kernel's header names live in native/include/padata/compat). */
#include <padata/padata.h>
#include <stdint.h>

struct testcb_job {
	struct padata_priv padata;
	uint64_t index;   /* submission order, written by Java before submitting */
	uint64_t value;   /* input, written by Java */
	uint64_t result;  /* written by parallel() */
};

static void (*testcb_do_serial)(struct padata_priv *padata);
static uint64_t next_expected;   /* serial() only: one cb_cpu worker */
static uint64_t misordered;
static uint64_t checksum;
static uint64_t served;          /* read by Java; release in serial(), acquire in testcb_served() */

static uint64_t testcb_mix(uint64_t v)
{
	v *= 0x9e3779b97f4a7c15ull;
	return v ^ (v >> 29);
}

__attribute__((visibility("default"))) void testcb_init(void (*do_serial)(struct padata_priv *))
{
	testcb_do_serial = do_serial;
	next_expected = 0;
	misordered = 0;
	checksum = 0;
	__atomic_store_n(&served, 0, __ATOMIC_RELEASE);
}

__attribute__((visibility("default"))) void testcb_parallel(struct padata_priv *padata)
{
	struct testcb_job *job = container_of(padata, struct testcb_job, padata);

	job->result = testcb_mix(job->value);
	testcb_do_serial(padata);
}

__attribute__((visibility("default"))) void testcb_serial(struct padata_priv *padata)
{
	struct testcb_job *job = container_of(padata, struct testcb_job, padata);

	if (job->index != next_expected)
		misordered++;
	next_expected = job->index + 1;
	checksum = checksum * 31 + job->result;
	/* Pairs with the acquire load in testcb_served(): Java may reuse the job after it. */
	__atomic_store_n(&served, served + 1, __ATOMIC_RELEASE);
}

__attribute__((visibility("default"))) uint64_t testcb_served(void)
{
	return __atomic_load_n(&served, __ATOMIC_ACQUIRE);
}

__attribute__((visibility("default"))) uint64_t testcb_misordered(void)
{
	return __atomic_load_n(&misordered, __ATOMIC_ACQUIRE);
}

__attribute__((visibility("default"))) uint64_t testcb_checksum(void)
{
	return __atomic_load_n(&checksum, __ATOMIC_ACQUIRE);
}
