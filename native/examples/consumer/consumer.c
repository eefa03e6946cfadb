/* SPDX-License-Identifier: MIT */
/*
 * consumer.c - a seed-style program against an installed libpadata: the
 * kernel's include line and names (cpumask_var_t, cpumask_*, for_each_cpu,
 * alloc_workqueue, padata_alloc), 10000 jobs over the active CPUs, serial()
 * checks they come back in order. Built twice by check.sh: with
 * find_package(padata) and with pkg-config; neither may need anything in
 * <prefix>/include/linux.
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

static int next_index; /* only serial() on the callback CPU touches it */
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
	struct workqueue_struct *wq = alloc_workqueue("consumer", WQ_CPU_INTENSIVE, 0);
	struct padata_instance *pinst = NULL;
	struct job *jobs = calloc(JOBS, sizeof(*jobs));
	cpumask_var_t pcpu, cbcpu;
	unsigned int cpu, n = 0;
	char list[64];
	int cb_cpu, rc = 1;

	if (!zalloc_cpumask_var(&pcpu, GFP_KERNEL) || !zalloc_cpumask_var(&cbcpu, GFP_KERNEL)) {
		fprintf(stderr, "padata_consumer: no memory for masks\n");
		goto out;
	}
	for_each_cpu(cpu, cpu_active_mask) {
		cpumask_set_cpu(cpu, pcpu);
		n++;
	}
	cb_cpu = (int)cpumask_first(cpu_active_mask);
	cpumask_set_cpu((unsigned int)cb_cpu, cbcpu);
	if (!wq || !jobs || n != cpumask_weight(pcpu) || !cpumask_test_cpu(cb_cpu, cbcpu)) {
		fprintf(stderr, "padata_consumer: setup failed\n");
		goto out;
	}
	pinst = padata_alloc(wq, pcpu, cbcpu);
	if (!pinst || padata_start(pinst) != 0) {
		fprintf(stderr, "padata_consumer: padata_alloc/padata_start failed\n");
		goto out;
	}
	for (int i = 0; i < JOBS; i++) {
		jobs[i].index = i;
		jobs[i].padata.parallel = job_parallel;
		jobs[i].padata.serial = job_serial;
		/* At the in-flight limit: sleep until room is back. */
		int err = padata_do_parallel_wait(pinst, &jobs[i].padata, cb_cpu, -1);
		if (err) {
			fprintf(stderr, "padata_consumer: padata_do_parallel_wait: %d\n", err);
			goto out;
		}
	}
	padata_stop(pinst);
	flush_workqueue(wq);
	rc = next_index == JOBS && errors == 0 ? 0 : 1;
	cpulist_scnprintf(list, (int)sizeof(list), pcpu);
	printf("padata_consumer: %d jobs on CPUs %s (of %u), %d out of order: %s\n", next_index, list,
	       nr_cpu_ids, errors, rc ? "FAILED" : "OK");
out:
	padata_free(pinst);
	destroy_workqueue(wq);
	free_cpumask_var(pcpu);
	free_cpumask_var(cbcpu);
	free(jobs);
	return rc;
}
