/* SPDX-License-Identifier: MIT */
/*
 * consumer.c - the smallest useful program against an installed libpadata:
 * 10000 jobs over every CPU, serial() checks they come back in order.
 * Built twice by check.sh: with find_package(padata) and with pkg-config.
 */
#include <linux/padata.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#define JOBS 10000

struct job {
	struct padata_priv padata;
	int index;
};

static int next_index; /* only serial() on CPU 0 touches it */
static int errors;

static void job_parallel(struct padata_priv *padata)
{
	padata_do_serial(padata);
}

static void job_serial(struct padata_priv *padata)
{
	struct job *j = container_of(padata, struct job, padata);
	if (j->index != next_index++)
		errors++;
}

int main(void)
{
	struct workqueue_struct *wq = create_workqueue("consumer");
	struct padata_instance *pinst = wq ? padata_alloc_possible(wq) : NULL;
	struct job *jobs = calloc(JOBS, sizeof(*jobs));
	int rc = 1;

	if (!pinst || !jobs || padata_start(pinst) != 0) {
		fprintf(stderr, "padata_consumer: setup failed\n");
		goto out;
	}
	for (int i = 0; i < JOBS; i++) {
		jobs[i].index = i;
		jobs[i].padata.parallel = job_parallel;
		jobs[i].padata.serial = job_serial;
		int err;
		while ((err = padata_do_parallel(pinst, &jobs[i].padata, 0)) == -EBUSY)
			sched_yield();
		if (err) {
			fprintf(stderr, "padata_consumer: padata_do_parallel: %d\n", err);
			goto out;
		}
	}
	padata_stop(pinst);
	rc = next_index == JOBS && errors == 0 ? 0 : 1;
	printf("padata_consumer: %d jobs on %u CPUs, %d out of order: %s\n", next_index,
	       cpumask_weight(cpu_active_mask), errors, rc ? "FAILED" : "OK");
out:
	padata_free(pinst);
	destroy_workqueue(wq);
	free(jobs);
	return rc;
}
