/* SPDX-License-Identifier: MIT */
/*
 * ipsec_demo.c - "encrypt packets in parallel, emit them in order", the job
 * padata was written for, in the style of the seed document (docs/seed.md).
 *
 * Each packet is a struct esp_request with its struct padata_priv embedded;
 * the callbacks get back to the request with container_of(). Packets belong
 * to flows; a flow's packets are emitted on the flow's CPU (its cb_cpu), so
 * the order to keep is per flow. parallel() "encrypts" the payload (a keyed
 * FNV-1a stream, a stand-in for a cipher); one packet in 16 is handed to a
 * pretend crypto engine thread that completes it later with
 * padata_do_serial(), as an asynchronous crypto driver would. serial()
 * "transmits": it checks the packet is the next one of its flow and folds
 * its digest into the flow's running checksum.
 *
 *   ipsec_demo [packets] [flows]      (defaults 200000 and 8)
 *
 * Prints one summary line; exits 1 if a packet came out of order, twice or
 * not at all, or on the wrong CPU.
 */
#include <linux/padata.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAYLOAD 256
#define ASYNC_EVERY 16

struct flow {
	int cpu;                  /* cb_cpu: where this flow's packets leave */
	unsigned long next_seq;   /* written only by serial() on cpu */
	uint64_t checksum;
	unsigned long sent;
};

struct esp_request {
	struct padata_priv padata;
	struct flow *flow;
	unsigned long seq;        /* position within the flow */
	uint64_t key;
	uint64_t digest;
	struct esp_request *engine_next;
	unsigned char payload[PAYLOAD];
};

static atomic_long out_of_order, wrong_cpu, transmitted;

/* ---- a pretend asynchronous crypto engine ---------------------------- */

static pthread_mutex_t engine_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t engine_cv = PTHREAD_COND_INITIALIZER;
static struct esp_request *engine_queue; /* LIFO: completes out of order */
static int engine_stop;
static atomic_long engine_done;

static void engine_submit(struct esp_request *req)
{
	pthread_mutex_lock(&engine_lock);
	req->engine_next = engine_queue;
	engine_queue = req;
	pthread_cond_signal(&engine_cv);
	pthread_mutex_unlock(&engine_lock);
}

static void *engine_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&engine_lock);
	for (;;) {
		while (!engine_queue && !engine_stop)
			pthread_cond_wait(&engine_cv, &engine_lock);
		if (!engine_queue)
			break;
		struct esp_request *batch = engine_queue;
		engine_queue = NULL;
		pthread_mutex_unlock(&engine_lock);
		while (batch) {
			struct esp_request *req = batch;
			batch = req->engine_next;
			/* The job is padata's again after this call: read first. */
			padata_do_serial(&req->padata);
			atomic_fetch_add(&engine_done, 1);
		}
		pthread_mutex_lock(&engine_lock);
	}
	pthread_mutex_unlock(&engine_lock);
	return NULL;
}

/* ---- the padata callbacks ------------------------------------------- */

static uint64_t encrypt(unsigned char *buf, size_t len, uint64_t key)
{
	uint64_t h = 0xcbf29ce484222325ull ^ key;
	for (size_t i = 0; i < len; i++) {
		h ^= buf[i];
		h *= 0x100000001b3ull;
		buf[i] ^= (unsigned char)(h >> 56);
	}
	return h;
}

static void esp_parallel(struct padata_priv *padata)
{
	struct esp_request *req = container_of(padata, struct esp_request, padata);

	req->digest = encrypt(req->payload, sizeof(req->payload), req->key);
	if (req->seq % ASYNC_EVERY == ASYNC_EVERY - 1)
		engine_submit(req);           /* finished later, elsewhere */
	else
		padata_do_serial(padata);     /* finished now */
}

static void esp_serial(struct padata_priv *padata)
{
	struct esp_request *req = container_of(padata, struct esp_request, padata);
	struct flow *f = req->flow;

	if (padata_current_cpu() != f->cpu)
		atomic_fetch_add(&wrong_cpu, 1);
	if (req->seq != f->next_seq)
		atomic_fetch_add(&out_of_order, 1);
	f->next_seq = req->seq + 1;
	f->checksum = (f->checksum ^ req->digest) * 0x100000001b3ull;
	f->sent++;
	atomic_fetch_add(&transmitted, 1);
}

/* ---- main ------------------------------------------------------------- */

static long arg_or(int argc, char **argv, int i, long dflt)
{
	if (argc <= i)
		return dflt;
	char *end;
	long v = strtol(argv[i], &end, 10);
	if (*end || v < 1) {
		fprintf(stderr, "ipsec_demo: bad argument '%s'\n", argv[i]);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	long packets = arg_or(argc, argv, 1, 200000);
	long nflows = arg_or(argc, argv, 2, 8);
	struct timespec t0, t1;
	pthread_t engine;
	int rc = 0;

	struct workqueue_struct *wq = create_workqueue("ipsec");
	if (!wq) {
		perror("ipsec_demo: create_workqueue");
		return 1;
	}
	struct padata_instance *pinst = padata_alloc_possible(wq);
	if (!pinst) {
		perror("ipsec_demo: padata_alloc_possible");
		destroy_workqueue(wq);
		return 1;
	}
	if (padata_start(pinst) != 0) {
		fprintf(stderr, "ipsec_demo: padata_start failed\n");
		rc = 1;
		goto err_free_instance;
	}

	/* Flows go round-robin over the usable serial CPUs. */
	struct padata_cpumask usable;
	padata_get_cpumask(pinst, &usable);
	struct flow *flows = calloc((size_t)nflows, sizeof(*flows));
	struct esp_request *reqs = calloc((size_t)packets, sizeof(*reqs));
	if (!flows || !reqs) {
		fprintf(stderr, "ipsec_demo: out of memory\n");
		rc = 1;
		goto err_free_buffers;
	}
	unsigned int cpu = cpumask_first(usable.cbcpu);
	for (long i = 0; i < nflows; i++) {
		flows[i].cpu = (int)cpu;
		cpu = cpumask_next((int)cpu, usable.cbcpu);
		if (cpu >= nr_cpu_ids)
			cpu = cpumask_first(usable.cbcpu);
	}
	if (pthread_create(&engine, NULL, engine_thread, NULL) != 0) {
		fprintf(stderr, "ipsec_demo: cannot start the crypto engine\n");
		rc = 1;
		goto err_free_buffers;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned long *flow_seq = calloc((size_t)nflows, sizeof(*flow_seq));
	for (long i = 0; i < packets && flow_seq; i++) {
		struct esp_request *req = &reqs[i];
		struct flow *f = &flows[(i * 7 + i / 3) % nflows];

		/* Zeroed by calloc, as the seed asks; fill in the request. */
		req->padata.parallel = esp_parallel;
		req->padata.serial = esp_serial;
		req->flow = f;
		req->seq = flow_seq[f - flows]++;
		req->key = (uint64_t)i * 0x9E3779B97F4A7C15ull;
		for (int b = 0; b < PAYLOAD; b++)
			req->payload[b] = (unsigned char)(i + b);

		/* Too many in flight: sleep until room is back (no spinning). */
		int err = padata_do_parallel_wait(pinst, &req->padata, f->cpu, -1);
		if (err) {
			fprintf(stderr, "ipsec_demo: padata_do_parallel_wait: %s\n", strerror(-err));
			rc = 1;
			break;
		}
	}
	/* padata_stop waits until every accepted packet has been transmitted. */
	padata_stop(pinst);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	pthread_mutex_lock(&engine_lock);
	engine_stop = 1;
	pthread_cond_signal(&engine_cv);
	pthread_mutex_unlock(&engine_lock);
	pthread_join(engine, NULL);

	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	long sent = atomic_load(&transmitted);
	long lost = 0;
	uint64_t total = 0;
	for (long i = 0; i < nflows; i++) {
		if (flows[i].sent != (flow_seq ? flow_seq[i] : 0))
			lost++;
		total ^= flows[i].checksum;
	}
	long ooo = atomic_load(&out_of_order), wrong = atomic_load(&wrong_cpu);
	int ok = rc == 0 && flow_seq && sent == packets && ooo == 0 && wrong == 0 && lost == 0;
	printf("ipsec_demo: %ld packets, %ld flows on %u CPUs, %ld async, "
	       "%.0f packets/s, out_of_order=%ld wrong_cpu=%ld short_flows=%ld checksum=%016llx %s\n",
	       sent, nflows, cpumask_weight(usable.cbcpu), atomic_load(&engine_done),
	       secs > 0 ? (double)sent / secs : 0.0, ooo, wrong, lost, (unsigned long long)total,
	       ok ? "OK" : "FAILED");
	if (!ok)
		rc = 1;
	free(flow_seq);

err_free_buffers:
	free(reqs);
	free(flows);
err_free_instance:
	padata_free(pinst);
	destroy_workqueue(wq);
	return rc;
}
