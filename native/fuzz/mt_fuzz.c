/* SPDX-License-Identifier: MIT */
/*
 * mt_fuzz.c - libFuzzer target for padata_do_multithreaded(): each input is
 * a sequence of jobs whose fields (start, size, align, min_chunk,
 * max_threads, a NULL job or thread_fn, a stopped instance, a nested call
 * from a chunk) are decoded from the bytes, mostly from tables of edge
 * values (0, 1, ULONG_MAX and its neighbours, powers of two), and checked
 * against the documented answers:
 *
 *   - the return code (-EINVAL for each bad argument, before anything else;
 *     0 at once for size 0; -EINVAL for a stopped instance; else 0);
 *   - on an error or size 0, no chunk ran;
 *   - otherwise the chunks tile [start, start + size) exactly once, interior
 *     boundaries are start + a multiple of align, every chunk but the last
 *     has one size c >= min_chunk and the last is in [c, 2c) (a lone chunk
 *     may be smaller than min_chunk only when the range is), fewer than 8
 *     chunks per thread (4 for large ranges), at most min(max_threads, CPUs)
 *     threads;
 *   - a nested call from a chunk answers -EDEADLK.
 *
 * Same build as padata_fuzz (scripts/fuzz); run with PADATA_NR_CPUS set.
 */
#include <linux/padata.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "mt_fuzz"
#include "fuzz_input.h"

#define MAX_CHUNKS 4096

struct chunk {
	unsigned long start, end;
	pthread_t thread;
};

struct record {
	pthread_mutex_t lock;
	struct chunk c[MAX_CHUNKS];
	unsigned int n;
	struct padata_instance *pinst;
	int nest;               /* nested calls to make from chunks */
	int nested_wrong;       /* nested calls that did not answer -EDEADLK */
};

static struct workqueue_struct *wq;
static struct padata_instance *pinst;
static unsigned int pw;
static struct record rec = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void nop_fn(unsigned long s, unsigned long e, void *a)
{
	(void)s;
	(void)e;
	(void)a;
}

static void record_fn(unsigned long start, unsigned long end, void *arg)
{
	struct record *r = arg;

	if (__atomic_load_n(&r->nest, __ATOMIC_RELAXED) > 0) {
		struct padata_mt_job inner = { .thread_fn = nop_fn, .size = 10, .align = 1,
					       .min_chunk = 1, .max_threads = 2 };
		if (padata_do_multithreaded(r->pinst, &inner) != -EDEADLK)
			__atomic_fetch_add(&r->nested_wrong, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_lock(&r->lock);
	CHECK(r->n < MAX_CHUNKS, "more than %d chunks", MAX_CHUNKS);
	r->c[r->n++] = (struct chunk){ start, end, pthread_self() };
	pthread_mutex_unlock(&r->lock);
}

/* An unsigned long from one or nine bytes: edge values, small values, or raw. */
static unsigned long decode_ulong(struct fuzz_input *in)
{
	static const unsigned long edge[] = {
		0, 1, 2, 3, 4, 7, 8, 63, 64, 4096, 65536, 1ul << 32, 1ul << 40, 1ul << 62, 1ul << 63,
		ULONG_MAX, ULONG_MAX - 1, ULONG_MAX / 2, ULONG_MAX / 3, ULONG_MAX - 4096,
	};
	uint8_t b = fuzz_byte(in);

	if (b < 0xc0)
		return b;
	if (b < 0xf0)
		return edge[(b - 0xc0) % (sizeof(edge) / sizeof(edge[0]))];
	unsigned long v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | fuzz_byte(in);
	return v;
}

static int decode_threads(struct fuzz_input *in)
{
	static const int edge[] = { 0, -1, INT_MIN, INT_MAX, 1, 2, 3, 64, 1000 };
	uint8_t b = fuzz_byte(in);

	if (b < 0x80)
		return b % 10;
	return edge[b % (sizeof(edge) / sizeof(edge[0]))];
}

static int cmp_chunk(const void *a, const void *b)
{
	const struct chunk *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static void one_job(struct fuzz_input *in)
{
	uint8_t flags = fuzz_byte(in);
	struct padata_mt_job job = {
		.thread_fn = record_fn,
		.fn_arg = &rec,
		.start = decode_ulong(in),
		.size = decode_ulong(in),
		.align = decode_ulong(in),
		.min_chunk = decode_ulong(in),
		.max_threads = decode_threads(in),
	};
	bool null_job = (flags & 0x0f) == 1, null_fn = (flags & 0x0f) == 2;
	bool stopped = (flags & 0x0f) == 3;
	if (null_fn)
		job.thread_fn = NULL;
	rec.n = 0;
	rec.nest = (flags & 0x30) == 0x30;
	rec.nested_wrong = 0;
	if (stopped)
		padata_stop(pinst);

	int rc = padata_do_multithreaded(pinst, null_job ? NULL : &job);

	bool bad = null_job || null_fn || job.align < 1 || job.min_chunk < 1 || job.max_threads < 1 ||
		   job.size > ULONG_MAX - job.start;
	int want = bad ? -EINVAL : job.size == 0 ? 0 : stopped ? -EINVAL : 0;
	if (stopped)
		CHECK(padata_start(pinst) == 0, "restart");
	CHECK(rc == want, "returned %d, expected %d (start %lu size %lu align %lu min_chunk %lu max_threads %d)",
	      rc, want, job.start, job.size, job.align, job.min_chunk, job.max_threads);
	if (rc != 0 || job.size == 0) {
		CHECK(rec.n == 0, "%u chunks ran for a call that returned %d", rec.n, rc);
		return;
	}
	CHECK(rec.nested_wrong == 0, "%d nested calls did not answer -EDEADLK", rec.nested_wrong);

	qsort(rec.c, rec.n, sizeof(rec.c[0]), cmp_chunk);
	unsigned long at = job.start, c = rec.c[0].end - rec.c[0].start;
	unsigned long limit = (unsigned long)job.max_threads < pw ? (unsigned long)job.max_threads : pw;
	/* c >= q = floor(size / 4T): size / c < 4T (q + 1) / q <= 8T, or size < 4T when q is 0. */
	CHECK(rec.n < 8 * limit, "%u chunks for at most %lu threads", rec.n, limit);
	for (unsigned int i = 0; i < rec.n; i++) {
		const struct chunk *k = &rec.c[i];
		CHECK(k->start == at, "chunk %u starts at %lu, expected %lu", i, k->start, at);
		CHECK(k->end > k->start, "chunk %u is empty", i);
		if (i > 0)
			CHECK((k->start - job.start) % job.align == 0, "boundary %lu not aligned to %lu", k->start,
			      job.align);
		if (i + 1 < rec.n)
			CHECK(k->end - k->start == c, "chunk %u has %lu, not %lu", i, k->end - k->start, c);
		else if (rec.n > 1)
			CHECK(k->end - k->start >= c && k->end - k->start - c < c, "last chunk %lu vs %lu",
			      k->end - k->start, c);
		at = k->end;
	}
	CHECK(at == job.start + job.size, "chunks end at %lu, not %lu", at, job.start + job.size);
	CHECK(rec.n == 1 || c >= job.min_chunk, "chunk size %lu below min_chunk %lu", c, job.min_chunk);

	unsigned int threads = 0;
	for (unsigned int i = 0; i < rec.n; i++) {
		bool seen = false;
		for (unsigned int j = 0; j < i && !seen; j++)
			seen = pthread_equal(rec.c[i].thread, rec.c[j].thread);
		threads += !seen;
	}
	CHECK(threads <= limit, "%u threads ran chunks, at most %lu allowed", threads, limit);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	wq = create_workqueue("mtfuzz");
	pinst = wq ? padata_alloc_possible(wq) : NULL;
	if (!pinst || padata_start(pinst) != 0) {
		fprintf(stderr, "mt_fuzz: setup failed\n");
		exit(1);
	}
	struct padata_cpumask m;
	padata_get_cpumask(pinst, &m);
	pw = cpumask_weight(m.pcpu);
	rec.pinst = pinst;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	for (int ops = 0; in.n > 0 && ops < 16; ops++)
		one_job(&in);
	return 0;
}
