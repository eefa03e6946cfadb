/* SPDX-License-Identifier: MIT */
/*
 * padata_fuzz.c - libFuzzer target: random sequences of API calls decoded
 * from the input bytes, checked against a model of the documented answers.
 *
 * Build with clang -fsanitize=fuzzer,address,undefined (scripts/fuzz does);
 * run with PADATA_NR_CPUS set (scripts/fuzz uses 5) so the topology is
 * virtual and every CPU can be taken down and up.
 *
 * Each input drives up to two instances on one workqueue (created once),
 * each with its default shell and two padata_alloc_shell() shells (order
 * domains, "doms": a job names one; the input also frees a shell and
 * allocates it again), and a pool of 48 jobs. A job's parallel() finishes it at once, hands it to a
 * foreign thread that finishes it shortly after, or holds it until the input
 * says to finish it (so the input decides which jobs are in flight). Before
 * any call that waits for a drain, every held job is finished, in an order
 * the input picks.
 *
 * The model knows the user masks, cpu_active_mask, the started flag and the
 * in-flight limit, so it predicts every return code; -EBUSY from the limit
 * is checked against the accepted and serialized counts of the job's
 * shell (the limit holds per shell; bounds below). After
 * each call the usable masks must equal the model's, and a change of them
 * must have reached the registered notifier with the new masks. Every
 * accepted job must run parallel() once and serial() once, on its cb_cpu,
 * in acceptance order per cb_cpu; after padata_stop()/padata_free() all of
 * them must have run. Any violation aborts with a message, which libFuzzer
 * reports as a crash with the input that caused it.
 */
#include <linux/padata.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FUZZ_NAME "padata_fuzz"
#include "fuzz_input.h"

#define NINST 2
#define NDOM 3      /* order domains per instance: the default shell and two shells */
#define NJOBS 48
#define MAXCPU 64   /* the model handles up to this many CPUs */

#define CHECK_RC(what, got, want)                                         \
	CHECK((got) == (want), "%s returned %d, expected %d", (what), (got), (want))

enum mode { MODE_NOW, MODE_ASYNC, MODE_HOLD, MODE_NR };
enum jstate { JS_IDLE, JS_FLIGHT, JS_HELD };

struct fjob {
	struct padata_priv priv;
	int inst;
	int dom;                /* 0: padata_do_parallel; k: shell k */
	int cb_cpu;
	uint32_t index;         /* acceptance position among its instance's jobs for cb_cpu */
	int mode;
	int state;              /* enum jstate: fuzz thread's view, JS_IDLE set by serial() */
	bool released;          /* MODE_HOLD: the fuzz thread has finished it */
	int parallel_calls;     /* atomic */
	int serial_calls;       /* atomic */
};

struct finst {
	struct padata_instance *pinst;
	struct notifier_block nb;
	bool nb_registered;
	struct cpumask user_p, user_s;
	int started;            /* 0 stopped, 1 started, 2 unknown (start refused while started) */
	unsigned int limit;
	/* per order domain: [0] the instance's default shell, [k] shell k */
	struct fdom {
		struct padata_shell *ps;       /* NULL for [0] */
		bool freed;                    /* padata_free_shell() ran; not yet allocated again */
		uint64_t accepted;
		uint64_t serialized;           /* atomic: serial() calls that have (all but) returned */
		uint32_t next_index[MAXCPU];   /* fuzz thread */
		uint32_t expect_index[MAXCPU]; /* cb_cpu's worker */
	} dom[NDOM];
	/* notifier record, written on the fuzz thread (notifiers run on it) */
	unsigned long action;
	uint64_t notifications;
	struct cpumask note_p, note_s;
};

static struct workqueue_struct *wq;
static unsigned int ncpu;
static struct cpumask initial_active;
static struct cpumask active;   /* model of cpu_active_mask */
static struct finst inst[NINST];
static struct fjob jobs[NJOBS];

/* ---- a foreign thread that finishes async jobs -------------------------- */

static pthread_mutex_t bag_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bag_cond = PTHREAD_COND_INITIALIZER;
static struct fjob *bag[NJOBS];
static unsigned int bag_n;

static void *async_thread(void *arg)
{
	unsigned int r = 1;

	(void)arg;
	for (;;) {
		struct fjob *j;
		unsigned int i;

		pthread_mutex_lock(&bag_lock);
		while (bag_n == 0)
			pthread_cond_wait(&bag_cond, &bag_lock);
		r = r * 1103515245u + 12345u;
		i = (r >> 8) % bag_n;
		j = bag[i];
		bag[i] = bag[--bag_n];
		pthread_mutex_unlock(&bag_lock);
		if (r & 0x10000) {
			struct timespec ts = { 0, (long)((r >> 4) % 50000) };
			nanosleep(&ts, NULL);
		}
		padata_do_serial(&j->priv);
	}
	return NULL;
}

/* ---- held jobs ----------------------------------------------------------- */

static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fjob *held[NJOBS];
static unsigned int held_n;

/* Finishes held job number @k (mod the count) from the fuzz thread. */
static void release_one(unsigned int k)
{
	struct fjob *j;

	pthread_mutex_lock(&held_lock);
	if (held_n == 0) {
		pthread_mutex_unlock(&held_lock);
		return;
	}
	k %= held_n;
	j = held[k];
	held[k] = held[--held_n];
	pthread_mutex_unlock(&held_lock);
	j->state = JS_FLIGHT;
	j->released = true;
	padata_do_serial(&j->priv);
}

static unsigned int held_count(void)
{
	unsigned int n;

	pthread_mutex_lock(&held_lock);
	n = held_n;
	pthread_mutex_unlock(&held_lock);
	return n;
}

/*
 * Finishes every held job, in an order taken from @seed. A job submitted
 * with MODE_HOLD is held only once its parallel() has run: wait for that.
 */
static void release_all(uint8_t seed)
{
	for (int i = 0; i < NJOBS; i++) {
		struct fjob *j = &jobs[i];
		bool found = false;

		if (__atomic_load_n(&j->state, __ATOMIC_ACQUIRE) != JS_FLIGHT || j->mode != MODE_HOLD ||
		    j->released)
			continue;
		while (!found) {
			pthread_mutex_lock(&held_lock);
			for (unsigned int h = 0; h < held_n; h++)
				found |= held[h] == j;
			pthread_mutex_unlock(&held_lock);
			if (!found)
				sched_yield();
		}
		j->state = JS_HELD;
	}
	while (held_count())
		release_one(seed++);
}

/* ---- callbacks ------------------------------------------------------------ */

static void f_parallel(struct padata_priv *p)
{
	struct fjob *j = container_of(p, struct fjob, priv);

	CHECK(__atomic_add_fetch(&j->parallel_calls, 1, __ATOMIC_RELEASE) == 1,
	      "parallel() ran twice for job %ld", (long)(j - jobs));
	CHECK(padata_current_cpu() >= 0, "parallel() not on a worker");
	switch (j->mode) {
	case MODE_NOW:
		padata_do_serial(p);
		break;
	case MODE_ASYNC:
		pthread_mutex_lock(&bag_lock);
		bag[bag_n++] = j;
		pthread_cond_signal(&bag_cond);
		pthread_mutex_unlock(&bag_lock);
		break;
	default:
		pthread_mutex_lock(&held_lock);
		held[held_n++] = j;
		pthread_mutex_unlock(&held_lock);
		break;
	}
}

static void f_serial(struct padata_priv *p)
{
	struct fjob *j = container_of(p, struct fjob, priv);
	struct fdom *in = &inst[j->inst].dom[j->dom];
	int cb = j->cb_cpu;

	CHECK(__atomic_add_fetch(&j->serial_calls, 1, __ATOMIC_RELAXED) == 1,
	      "serial() ran twice for job %ld", (long)(j - jobs));
	CHECK(__atomic_load_n(&j->parallel_calls, __ATOMIC_ACQUIRE) == 1,
	      "serial() before parallel() for job %ld", (long)(j - jobs));
	CHECK(padata_current_cpu() == cb, "serial() for cb_cpu %d ran on worker %d", cb,
	      padata_current_cpu());
	CHECK(j->index == in->expect_index[cb], "cb_cpu %d: serial() of #%u, expected #%u", cb,
	      j->index, in->expect_index[cb]);
	in->expect_index[cb]++;
	/* Pairs with the acquire loads of the fuzz thread. */
	__atomic_store_n(&j->state, JS_IDLE, __ATOMIC_RELEASE);
	__atomic_add_fetch(&in->serialized, 1, __ATOMIC_RELEASE);
}

static int f_notifier(struct notifier_block *nb, unsigned long action, void *data)
{
	struct finst *in = container_of(nb, struct finst, nb);
	struct padata_cpumask *m = data;

	CHECK(m != NULL, "notifier without data");
	CHECK((action & ~(unsigned long)(PADATA_CPU_PARALLEL | PADATA_CPU_SERIAL)) == 0,
	      "notifier action %#lx", action);
	in->action |= action;
	in->notifications++;
	cpumask_copy(&in->note_p, m->pcpu);
	cpumask_copy(&in->note_s, m->cbcpu);
	return NOTIFY_OK;
}

/* ---- model ---------------------------------------------------------------- */

static void usable(const struct finst *in, struct cpumask *p, struct cpumask *s)
{
	cpumask_and(p, &in->user_p, &active);
	cpumask_and(s, &in->user_s, &active);
}

static bool valid(const struct finst *in)
{
	struct cpumask p, s;

	usable(in, &p, &s);
	return !cpumask_empty(&p) && !cpumask_empty(&s);
}

struct snap {
	bool present;
	struct cpumask p, s;
	uint64_t notifications;
};

static void snap_take(struct snap *sn)
{
	memset(sn, 0, NINST * sizeof(*sn));
	for (int i = 0; i < NINST; i++) {
		struct padata_cpumask m;

		if (!inst[i].pinst)
			continue;
		sn[i].present = true;
		CHECK_RC("padata_get_cpumask", padata_get_cpumask(inst[i].pinst, &m), 0);
		cpumask_copy(&sn[i].p, m.pcpu);
		cpumask_copy(&sn[i].s, m.cbcpu);
		sn[i].notifications = inst[i].notifications;
		inst[i].action = 0;
	}
}

/* After a call: usable masks as modelled, notifiers told of every change. */
static void check_masks(const struct snap *before)
{
	for (int i = 0; i < NINST; i++) {
		struct finst *in = &inst[i];
		struct padata_cpumask m;
		struct cpumask p, s;
		bool pchg, schg;

		if (!in->pinst)
			continue;
		usable(in, &p, &s);
		CHECK_RC("padata_get_cpumask", padata_get_cpumask(in->pinst, &m), 0);
		CHECK(cpumask_equal(m.pcpu, &p) && cpumask_equal(m.cbcpu, &s),
		      "instance %d: usable masks differ from the model", i);
		if (!before || !before[i].present)
			continue;
		pchg = !cpumask_equal(&before[i].p, &p);
		schg = !cpumask_equal(&before[i].s, &s);
		if (in->nb_registered && (pchg || schg)) {
			CHECK(in->notifications > before[i].notifications,
			      "instance %d: usable masks changed without a notifier call", i);
			CHECK(cpumask_equal(&in->note_p, &p) && cpumask_equal(&in->note_s, &s),
			      "instance %d: the notifier got other masks than the new usable ones", i);
			CHECK((!pchg || (in->action & PADATA_CPU_PARALLEL)) &&
			      (!schg || (in->action & PADATA_CPU_SERIAL)),
			      "instance %d: notifier action %#lx misses a changed mask", i, in->action);
		}
	}
}

/* After padata_stop() or before padata_free(): every accepted job has run serial(). */
static void check_dom_drained(struct fdom *d, const char *after)
{
	uint64_t s = __atomic_load_n(&d->serialized, __ATOMIC_ACQUIRE);

	CHECK(s == d->accepted, "after %s: %llu of %llu accepted jobs ran serial()", after,
	      (unsigned long long)s, (unsigned long long)d->accepted);
}

/* ... in every shell of the instance. */
static void check_drained(struct finst *in, const char *after)
{
	for (int d = 0; d < NDOM; d++)
		check_dom_drained(&in->dom[d], after);
}

/* ---- input decoding ------------------------------------------------------- */

/* A mask from one byte: bit b names CPU b (b < 7), bit 7 a CPU that does not exist. */
static void decode_mask(struct fuzz_input *in, struct cpumask *m)
{
	uint8_t b = fuzz_byte(in);

	cpumask_clear(m);
	if (b == 0xff) {
		cpumask_copy(m, cpu_possible_mask);
		return;
	}
	for (unsigned int c = 0; c < 7; c++)
		if (b & (1u << c))
			cpumask_set_cpu(c % ncpu, m);
	if (b & 0x80)
		cpumask_set_cpu(ncpu + 2, m); /* legal, never active */
}

static int decode_cb(struct fuzz_input *in)
{
	static const int wild[] = { -1, INT_MIN, INT_MAX, NR_CPUS, NR_CPUS - 1, -NR_CPUS };
	uint8_t b = fuzz_byte(in);

	if (b >= 0xf0)
		return wild[(b - 0xf0) % (sizeof(wild) / sizeof(wild[0]))];
	return (int)(b % (ncpu + 1)); /* ncpu itself is out of range */
}

static int decode_cpu(struct fuzz_input *in)
{
	uint8_t b = fuzz_byte(in);

	if (b >= 0xf8)
		return b == 0xff ? -1 : (int)ncpu + (b & 3);
	return (int)(b % ncpu);
}

/* ---- operations ----------------------------------------------------------- */

static void op_alloc(struct fuzz_input *in)
{
	int i = fuzz_byte(in) % NINST;
	struct finst *fi = &inst[i];
	struct cpumask p, s, up, us;

	if (fi->pinst)
		return;
	decode_mask(in, &p);
	decode_mask(in, &s);
	cpumask_and(&up, &p, &active);
	cpumask_and(&us, &s, &active);
	errno = 0;
	struct padata_instance *pi = padata_alloc(wq, &p, &s);
	if (cpumask_empty(&up) || cpumask_empty(&us)) {
		CHECK(pi == NULL && errno == EINVAL, "padata_alloc with a mask without an active CPU: %p errno %d",
		      (void *)pi, errno);
		return;
	}
	CHECK(pi != NULL, "padata_alloc failed: errno %d", errno);
	memset(fi, 0, sizeof(*fi));
	fi->pinst = pi;
	cpumask_copy(&fi->user_p, &p);
	cpumask_copy(&fi->user_s, &s);
	fi->limit = padata_get_max_inflight(pi);
	CHECK(fi->limit == MAX_OBJ_NUM, "default limit %u", fi->limit);
	fi->nb.notifier_call = f_notifier;
	for (int d = 1; d < NDOM; d++) {
		fi->dom[d].ps = padata_alloc_shell(pi);
		CHECK(fi->dom[d].ps != NULL, "padata_alloc_shell failed: errno %d", errno);
	}
}

static void op_free(struct finst *fi, uint8_t order)
{
	release_all(order);
	padata_free(fi->pinst);
	check_drained(fi, "padata_free");
	for (int k = 0; k < NJOBS; k++)
		CHECK(jobs[k].inst != fi - inst || __atomic_load_n(&jobs[k].state, __ATOMIC_ACQUIRE) == JS_IDLE,
		      "job %d still in flight after padata_free", k);
	fi->pinst = NULL;
}

/*
 * @wait_ms < 0: padata_do_parallel(); else padata_do_parallel_wait() with
 * that timeout (0 must answer exactly as padata_do_parallel; 1 ms may also
 * be accepted at the limit, when jobs finish meanwhile, and says
 * -ETIMEDOUT where the other says -EBUSY).
 */
static void op_submit(struct finst *fi, int fi_index, struct fuzz_input *in, int wait_ms)
{
	unsigned int pick = fuzz_byte(in), mode_byte = fuzz_byte(in), mode = mode_byte % MODE_NR;
	int dom = (int)(mode_byte / MODE_NR) % NDOM;
	struct fdom *d = &fi->dom[dom];
	int cb = decode_cb(in);
	struct fjob *j = NULL;
	struct cpumask p, s;
	uint64_t s_after;
	bool cb_ok;
	int rc;

	/* The first idle job from @pick on: its previous serial() has ended. */
	for (int k = 0; k < NJOBS && !j; k++) {
		struct fjob *c = &jobs[(pick + (unsigned int)k) % NJOBS];

		if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == JS_IDLE)
			j = c;
	}
	if (!j)
		return;
	j->inst = fi_index;
	j->dom = dom;
	j->cb_cpu = cb;
	j->mode = (int)mode;
	j->priv.parallel = f_parallel;
	j->priv.serial = f_serial;
	j->parallel_calls = 0;
	j->serial_calls = 0;
	j->released = false;
	usable(fi, &p, &s);
	cb_ok = cpumask_test_cpu(cb, &s);
	if (cb_ok)
		j->index = d->next_index[cb];
	j->state = JS_FLIGHT;

	if (wait_ms < 0) {
		rc = dom ? padata_do_parallel_shell(d->ps, &j->priv, cb) : padata_do_parallel(fi->pinst, &j->priv, cb);
	} else {
		rc = dom ? padata_do_parallel_shell_wait(d->ps, &j->priv, cb, wait_ms)
			 : padata_do_parallel_wait(fi->pinst, &j->priv, cb, wait_ms);
		CHECK(wait_ms > 0 || rc != -ETIMEDOUT, "padata_do_parallel_wait(timeout 0) returned -ETIMEDOUT");
		CHECK(wait_ms == 0 || rc != -EBUSY, "padata_do_parallel_wait(%d ms) returned -EBUSY", wait_ms);
		if (rc == -ETIMEDOUT)
			rc = -EBUSY; /* the model's "not queued: busy" */
	}
	s_after = __atomic_load_n(&d->serialized, __ATOMIC_ACQUIRE);
	if (d->freed) {
		CHECK_RC("padata_do_parallel_shell(freed shell)", rc, -EINVAL);
		j->state = JS_IDLE;
		return;
	}

	if (fi->started == 2 && valid(fi) && cb_ok) {
		/* The model did not know whether it runs; the answer tells. */
		CHECK(rc == 0 || rc == -EINVAL || rc == -EBUSY, "padata_do_parallel returned %d", rc);
		if (rc == -EINVAL) {
			fi->started = 0;
			j->state = JS_IDLE;
			return;
		}
		fi->started = 1;
	}
	if (!fi->started || !valid(fi) || !cb_ok) {
		CHECK_RC("padata_do_parallel(stopped, invalid or bad cb_cpu)", rc, -EINVAL);
		j->state = JS_IDLE;
		return;
	}
	/*
	 * Jobs accepted before this call and in flight at it (serial() not yet
	 * returned) are at least accepted - s_after: at the limit the answer must be -EBUSY. Below
	 * it -EBUSY is tolerated: the library drops its count after a batch
	 * of serial() calls, not after each (see the README's reliability
	 * notes), so the exact count is not observable from here.
	 */
	/* s_after may already count this very job's serial(). */
	if (d->accepted - (s_after < d->accepted ? s_after : d->accepted) >= fi->limit && wait_ms <= 0)
		CHECK_RC("padata_do_parallel at the in-flight limit", rc, -EBUSY);
	else
		CHECK(rc == 0 || rc == -EBUSY, "padata_do_parallel returned %d", rc);
	CHECK(rc != -EBUSY || d->accepted >= fi->limit, "-EBUSY with only %llu jobs ever accepted (limit %u)",
	      (unsigned long long)d->accepted, fi->limit);
	if (rc != 0) {
		CHECK(j->parallel_calls == 0, "a refused job ran parallel()");
		j->state = JS_IDLE;
		return;
	}
	d->accepted++;
	d->next_index[cb]++;
}

/* A held job submitted again, to either instance: refused, left untouched. */
static void op_resubmit_held(struct fuzz_input *in)
{
	unsigned int k = fuzz_byte(in);
	int i = fuzz_byte(in) % NINST;
	int cb = decode_cb(in);
	struct padata_priv copy;
	struct fjob *j;

	pthread_mutex_lock(&held_lock);
	j = held_n ? held[k % held_n] : NULL;
	pthread_mutex_unlock(&held_lock);
	if (!j || !inst[i].pinst)
		return;
	memcpy(&copy, &j->priv, sizeof(copy));
	CHECK_RC("padata_do_parallel(job in flight)", padata_do_parallel(inst[i].pinst, &j->priv, cb), -EINVAL);
	CHECK(memcmp(&copy, &j->priv, sizeof(copy)) == 0, "a refused submission changed the job");
}

static void op_masks(struct fuzz_input *in, int which, struct finst *fi, int fi_index)
{
	struct cpumask p, s;
	int type, cpu, bits, rc;
	bool ok;

	release_all(fuzz_byte(in));
	switch (which) {
	case 0: /* padata_set_cpumask */
		type = fuzz_byte(in) % 5; /* 1, 2 valid; 0, 3, 4 not */
		decode_mask(in, &p);
		rc = padata_set_cpumask(fi->pinst, type, &p);
		if (type == PADATA_CPU_PARALLEL || type == PADATA_CPU_SERIAL) {
			CHECK_RC("padata_set_cpumask", rc, 0);
			cpumask_copy(type == PADATA_CPU_PARALLEL ? &fi->user_p : &fi->user_s, &p);
		} else {
			CHECK_RC("padata_set_cpumask(bad type)", rc, -EINVAL);
		}
		break;
	case 1: /* padata_set_cpumasks */
		decode_mask(in, &p);
		decode_mask(in, &s);
		CHECK_RC("padata_set_cpumasks", padata_set_cpumasks(fi->pinst, &p, &s), 0);
		cpumask_copy(&fi->user_p, &p);
		cpumask_copy(&fi->user_s, &s);
		break;
	default: /* padata_add_cpu / padata_remove_cpu */
		cpu = decode_cpu(in);
		bits = fuzz_byte(in) % 5; /* 0 and 4 invalid */
		ok = cpu >= 0 && (unsigned int)cpu < ncpu && bits >= 1 && bits <= 3;
		rc = which == 2 ? padata_add_cpu(fi->pinst, cpu, bits) : padata_remove_cpu(fi->pinst, cpu, bits);
		CHECK_RC(which == 2 ? "padata_add_cpu" : "padata_remove_cpu", rc, ok ? 0 : -EINVAL);
		if (!ok)
			break;
		if (bits & PADATA_CPU_PARALLEL) {
			if (which == 2)
				cpumask_set_cpu((unsigned int)cpu, &fi->user_p);
			else
				cpumask_clear_cpu(cpu, &fi->user_p);
		}
		if (bits & PADATA_CPU_SERIAL) {
			if (which == 2)
				cpumask_set_cpu((unsigned int)cpu, &fi->user_s);
			else
				cpumask_clear_cpu(cpu, &fi->user_s);
		}
		break;
	}
	(void)fi_index;
}

static void op_hotplug(struct fuzz_input *in, bool up)
{
	int cpu = decode_cpu(in);
	int rc, want;

	release_all(fuzz_byte(in));
	if (cpu < 0) {
		rc = up ? cpu_up(UINT_MAX) : cpu_down(UINT_MAX);
		CHECK_RC(up ? "cpu_up(UINT_MAX)" : "cpu_down(UINT_MAX)", rc, -EINVAL);
		return;
	}
	rc = up ? cpu_up((unsigned int)cpu) : cpu_down((unsigned int)cpu);
	if ((unsigned int)cpu >= ncpu || !cpumask_test_cpu(cpu, &initial_active))
		want = -EINVAL;
	else if (!up && cpumask_test_cpu(cpu, &active) && cpumask_weight(&active) == 1)
		want = -EBUSY;
	else
		want = 0;
	CHECK_RC(up ? "cpu_up" : "cpu_down", rc, want);
	if (rc == 0) {
		if (up)
			cpumask_set_cpu((unsigned int)cpu, &active);
		else
			cpumask_clear_cpu(cpu, &active);
	}
}

static void op_stop_start(struct finst *fi, struct fuzz_input *in)
{
	uint8_t b = fuzz_byte(in);
	int rc;

	if (b & 1) {
		release_all(b);
		padata_stop(fi->pinst);
		fi->started = 0;
		check_drained(fi, "padata_stop");
		return;
	}
	rc = padata_start(fi->pinst);
	if (valid(fi)) {
		CHECK_RC("padata_start", rc, 0);
		fi->started = 1;
	} else {
		CHECK_RC("padata_start(invalid)", rc, -EINVAL);
		/* Documented: stays stopped; whether a started flag survives is not said. */
		if (fi->started)
			fi->started = 2;
	}
}

static void op_extension(struct finst *fi, struct fuzz_input *in)
{
	uint8_t b = fuzz_byte(in);
	unsigned int limit;
	int rc;

	switch (b % 5) {
	case 4: { /* free a shell, or allocate the freed one again (one freed at a time) */
		int k = 1 + (b >> 3) % (NDOM - 1), other = -1;
		struct fdom *d = &fi->dom[k];

		for (int o = 1; o < NDOM; o++)
			if (o != k && fi->dom[o].freed)
				other = o;
		if (d->freed) {
			struct padata_shell *ps = padata_alloc_shell(fi->pinst);
			/* The only freed shell of the instance: its memory comes back. */
			CHECK(ps == d->ps, "padata_alloc_shell gave %p, expected the freed %p", (void *)ps,
			      (void *)d->ps);
			d->freed = false;
		} else if (other < 0) {
			release_all(b);
			padata_free_shell(d->ps);
			check_dom_drained(d, "padata_free_shell");
			d->freed = true;
		}
		break;
	}
	case 0: /* padata_set_max_inflight */
		limit = (b >> 2) % 10; /* 0 invalid, 1..9 small limits */
		release_all(b);
		rc = padata_set_max_inflight(fi->pinst, limit);
		if (limit == 0)
			CHECK_RC("padata_set_max_inflight(0)", rc, -EINVAL);
		else if (fi->started == 1)
			CHECK_RC("padata_set_max_inflight(started)", rc, -EBUSY);
		else if (fi->started == 0)
			CHECK_RC("padata_set_max_inflight(stopped)", rc, 0);
		else
			CHECK(rc == 0 || rc == -EBUSY, "padata_set_max_inflight returned %d", rc);
		if (rc == 0) {
			fi->limit = limit;
			check_drained(fi, "padata_set_max_inflight");
		}
		CHECK(padata_get_max_inflight(fi->pinst) == fi->limit, "limit %u, model %u",
		      padata_get_max_inflight(fi->pinst), fi->limit);
		break;
	case 1: /* padata_test_set_seq, near the wrap */
		release_all(b);
		rc = padata_test_set_seq(fi->pinst, 0xffffffffu - (b >> 2));
		if (fi->started == 1)
			CHECK_RC("padata_test_set_seq(started)", rc, -EBUSY);
		else if (fi->started == 0)
			CHECK_RC("padata_test_set_seq(stopped)", rc, 0);
		else
			CHECK(rc == 0 || rc == -EBUSY, "padata_test_set_seq returned %d", rc);
		break;
	case 2: /* register / unregister the notifier */
		if (fi->nb_registered) {
			CHECK_RC("padata_unregister_cpumask_notifier",
				 padata_unregister_cpumask_notifier(fi->pinst, &fi->nb), 0);
			CHECK_RC("padata_unregister_cpumask_notifier(again)",
				 padata_unregister_cpumask_notifier(fi->pinst, &fi->nb), -ENOENT);
		} else {
			CHECK_RC("padata_register_cpumask_notifier",
				 padata_register_cpumask_notifier(fi->pinst, &fi->nb), 0);
			CHECK_RC("padata_register_cpumask_notifier(again)",
				 padata_register_cpumask_notifier(fi->pinst, &fi->nb), -EEXIST);
		}
		fi->nb_registered = !fi->nb_registered;
		break;
	default: /* padata_do_serial on a job that is not in flight: reported on stderr, ignored */
		for (int k = 0; k < NJOBS; k++) {
			struct fjob *j = &jobs[(b + k) % NJOBS];

			if (__atomic_load_n(&j->state, __ATOMIC_ACQUIRE) == JS_IDLE &&
			    __atomic_load_n(&j->serial_calls, __ATOMIC_RELAXED) <= 1) {
				int before = __atomic_load_n(&j->serial_calls, __ATOMIC_ACQUIRE);
				padata_do_serial(&j->priv);
				CHECK(__atomic_load_n(&j->serial_calls, __ATOMIC_ACQUIRE) == before,
				      "padata_do_serial on an idle job ran serial()");
				break;
			}
		}
		break;
	}
}

/* ---- libFuzzer entry points ------------------------------------------------ */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	pthread_t t;

	(void)argc;
	(void)argv;
	ncpu = nr_cpu_ids;
	if (ncpu > MAXCPU) {
		fprintf(stderr, "padata_fuzz: %u CPUs; the model handles %d (set PADATA_NR_CPUS)\n", ncpu, MAXCPU);
		exit(1);
	}
	padata_cpu_active_snapshot(&initial_active);
	wq = create_workqueue("fuzz");
	if (!wq || pthread_create(&t, NULL, async_thread, NULL) != 0) {
		fprintf(stderr, "padata_fuzz: setup failed\n");
		exit(1);
	}
	pthread_detach(t);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct snap before[NINST];
	unsigned int ops = 0;

	padata_cpu_active_snapshot(&active);
	CHECK(cpumask_equal(&active, &initial_active), "cpu_active_mask was not restored");
	CHECK(bag_n == 0 && held_n == 0, "jobs left over from the previous input");
	memset(inst, 0, sizeof(inst));
	memset(jobs, 0, sizeof(jobs));

	while (in.n > 0 && ops++ < 256) {
		uint8_t op = fuzz_byte(&in);
		int i = (op >> 4) % NINST;
		struct finst *fi = &inst[i];

		snap_take(before);
		switch (op % 12) {
		case 0:
			op_alloc(&in);
			break;
		case 1:
			if (fi->pinst)
				op_free(fi, fuzz_byte(&in));
			break;
		case 2:
			if (fi->pinst)
				op_stop_start(fi, &in);
			break;
		case 3:
		case 4:
			if (fi->pinst)
				op_submit(fi, i, &in, -1);
			break;
		case 5:
			/* The waiting submission, timeout 0 or 1 ms. */
			if (fi->pinst)
				op_submit(fi, i, &in, (op >> 5) & 1);
			break;
		case 6:
			release_one(fuzz_byte(&in));
			break;
		case 7:
			op_resubmit_held(&in);
			break;
		case 8:
			if (fi->pinst)
				op_masks(&in, fuzz_byte(&in) % 4, fi, i);
			break;
		case 9:
			op_hotplug(&in, (op >> 5) & 1);
			break;
		case 10:
			if (fi->pinst)
				op_extension(fi, &in);
			break;
		default:
			/* padata_start on a fresh instance is the common case: keep it cheap. */
			if (fi->pinst && !fi->started && valid(fi)) {
				CHECK_RC("padata_start", padata_start(fi->pinst), 0);
				fi->started = 1;
			}
			break;
		}
		check_masks(before);
	}

	/* Drain and tear down; the topology goes back as it was. */
	release_all(0);
	for (int i = 0; i < NINST; i++)
		if (inst[i].pinst)
			op_free(&inst[i], 0);
	for (unsigned int c = 0; c < ncpu; c++)
		if (cpumask_test_cpu((int)c, &initial_active) && !cpumask_test_cpu((int)c, &active))
			CHECK_RC("cpu_up", cpu_up(c), 0);
	for (int k = 0; k < NJOBS; k++) {
		struct fjob *j = &jobs[k];

		CHECK(__atomic_load_n(&j->state, __ATOMIC_ACQUIRE) == JS_IDLE, "job %d never ran serial()", k);
	}
	return 0;
}
