/* SPDX-License-Identifier: MIT */
/*
 * cpumask.c - cpumask operations and this process's CPU topology.
 *
 * The topology is read once, at library load (a constructor, also reached
 * through pthread_once from every entry point that needs it), by
 * topology_init() in three steps:
 *   topology_read_sysfs():    possible = /sys/devices/system/cpu/possible
 *                             (else sysconf), online = .../online (else
 *                             possible)
 *   topology_read_active():   active = online & the process's affinity
 *   topology_apply_virtual(): with PADATA_NR_CPUS=N, N virtual CPUs that
 *                             are all possible, online and active, virtual
 *                             CPU c running on the (c mod n)-th active CPU.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define LONGS PADATA_CPUMASK_LONGS
#define BPL PADATA_BITS_PER_LONG

unsigned int padata_nr_cpu_ids = 1;

static struct cpumask possible_mask, online_mask, active_mask, load_active_mask;
const struct cpumask *const padata_cpu_possible_mask = &possible_mask;
const struct cpumask *const padata_cpu_online_mask = &online_mask;
const struct cpumask *const padata_cpu_active_mask = &active_mask;

static int host_of[NR_CPUS];
static unsigned int nr_host;
static bool topology_virtual;
static pthread_once_t topology_once = PTHREAD_ONCE_INIT;
static pthread_rwlock_t hotplug_lock = PTHREAD_RWLOCK_INITIALIZER;

/* ---- mask operations -------------------------------------------------- */

bool padata_alloc_cpumask_var(cpumask_var_t *mask, gfp_t flags)
{
	(void)mask;
	(void)flags;
	return true;
}

bool padata_zalloc_cpumask_var(cpumask_var_t *mask, gfp_t flags)
{
	(void)flags;
	if (mask)
		cpumask_clear(*mask);
	return true;
}

void padata_free_cpumask_var(struct cpumask *mask)
{
	(void)mask;
}

void padata_cpumask_clear(struct cpumask *dstp)
{
	if (dstp)
		memset(dstp, 0, sizeof(*dstp));
}

void padata_cpumask_setall(struct cpumask *dstp)
{
	if (!dstp)
		return;
	cpumask_clear(dstp);
	for (unsigned int cpu = 0; cpu < nr_cpu_ids; cpu++)
		cpumask_set_cpu(cpu, dstp);
}

void padata_cpumask_set_cpu(unsigned int cpu, struct cpumask *dstp)
{
	if (dstp && cpu < NR_CPUS)
		dstp->bits[cpu / BPL] |= 1ul << (cpu % BPL);
}

void padata_cpumask_clear_cpu(unsigned int cpu, struct cpumask *dstp)
{
	if (dstp && cpu < NR_CPUS)
		dstp->bits[cpu / BPL] &= ~(1ul << (cpu % BPL));
}

bool padata_cpumask_test_cpu(int cpu, const struct cpumask *cpumask)
{
	if (!cpumask || cpu < 0 || cpu >= NR_CPUS)
		return false;
	return (cpumask->bits[cpu / BPL] >> (cpu % BPL)) & 1ul;
}

unsigned int padata_cpumask_weight(const struct cpumask *srcp)
{
	unsigned int w = 0;
	if (!srcp)
		return 0;
	for (int i = 0; i < LONGS; i++)
		w += (unsigned int)__builtin_popcountl(srcp->bits[i]);
	return w;
}

bool padata_cpumask_empty(const struct cpumask *srcp)
{
	if (!srcp)
		return true;
	for (int i = 0; i < LONGS; i++)
		if (srcp->bits[i])
			return false;
	return true;
}

bool padata_cpumask_equal(const struct cpumask *src1p, const struct cpumask *src2p)
{
	static const struct cpumask empty;
	if (!src1p)
		src1p = &empty;
	if (!src2p)
		src2p = &empty;
	return memcmp(src1p, src2p, sizeof(*src1p)) == 0;
}

void padata_cpumask_copy(struct cpumask *dstp, const struct cpumask *srcp)
{
	if (!dstp)
		return;
	if (srcp)
		memmove(dstp, srcp, sizeof(*dstp));
	else
		cpumask_clear(dstp);
}

bool padata_cpumask_and(struct cpumask *dstp, const struct cpumask *src1p, const struct cpumask *src2p)
{
	unsigned long any = 0;
	if (!dstp)
		return false;
	for (int i = 0; i < LONGS; i++) {
		unsigned long v = (src1p ? src1p->bits[i] : 0) & (src2p ? src2p->bits[i] : 0);
		dstp->bits[i] = v;
		any |= v;
	}
	return any != 0;
}

void padata_cpumask_or(struct cpumask *dstp, const struct cpumask *src1p, const struct cpumask *src2p)
{
	if (!dstp)
		return;
	for (int i = 0; i < LONGS; i++)
		dstp->bits[i] = (src1p ? src1p->bits[i] : 0) | (src2p ? src2p->bits[i] : 0);
}

bool padata_cpumask_andnot(struct cpumask *dstp, const struct cpumask *src1p, const struct cpumask *src2p)
{
	unsigned long any = 0;
	if (!dstp)
		return false;
	for (int i = 0; i < LONGS; i++) {
		unsigned long v = (src1p ? src1p->bits[i] : 0) & ~(src2p ? src2p->bits[i] : 0);
		dstp->bits[i] = v;
		any |= v;
	}
	return any != 0;
}

unsigned int padata_cpumask_next(int n, const struct cpumask *srcp)
{
	if (!srcp || n >= NR_CPUS - 1)
		return NR_CPUS;
	unsigned int start = n < 0 ? 0u : (unsigned int)n + 1;
	unsigned int i = start / BPL;
	unsigned long w = srcp->bits[i] & (~0ul << (start % BPL));
	for (;;) {
		if (w)
			return i * BPL + (unsigned int)__builtin_ctzl(w);
		if (++i >= LONGS)
			return NR_CPUS;
		w = srcp->bits[i];
	}
}

unsigned int padata_cpumask_first(const struct cpumask *srcp)
{
	return cpumask_next(-1, srcp);
}

/* ---- cpulist text form ------------------------------------------------ */

static const char *skip_space(const char *p)
{
	while (*p && isspace((unsigned char)*p))
		p++;
	return p;
}

/* Parses a decimal CPU number; -EINVAL for no digits, -ERANGE past NR_CPUS. */
static int parse_cpu(const char **pp, unsigned int *out)
{
	const char *p = *pp;
	unsigned long v = 0;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v >= NR_CPUS)
			v = NR_CPUS; /* saturate; keep consuming digits */
		p++;
	}
	*pp = p;
	if (v >= NR_CPUS)
		return -ERANGE;
	*out = (unsigned int)v;
	return 0;
}

int padata_cpulist_parse(const char *buf, struct cpumask *dstp)
{
	struct cpumask m;
	const char *p;
	if (!buf || !dstp)
		return -EINVAL;
	cpumask_clear(&m);
	p = skip_space(buf);
	while (*p) {
		unsigned int a, b;
		int err = parse_cpu(&p, &a);
		if (err)
			return err;
		b = a;
		p = skip_space(p);
		if (*p == '-') {
			p = skip_space(p + 1);
			err = parse_cpu(&p, &b);
			if (err)
				return err;
			if (b < a)
				return -EINVAL;
			p = skip_space(p);
		}
		for (unsigned int c = a; c <= b; c++)
			cpumask_set_cpu(c, &m);
		if (*p == ',') {
			p = skip_space(p + 1);
			if (!*p)
				return -EINVAL; /* trailing comma */
		} else if (*p) {
			return -EINVAL;
		}
	}
	cpumask_copy(dstp, &m);
	return 0;
}

int padata_cpulist_scnprintf(char *buf, int len, const struct cpumask *srcp)
{
	int n = 0;
	if (!buf || len <= 0)
		return 0;
	buf[0] = '\0';
	if (!srcp)
		return 0;
	for (unsigned int a = cpumask_first(srcp); a < NR_CPUS;) {
		unsigned int b = a;
		while (b + 1 < NR_CPUS && cpumask_test_cpu((int)b + 1, srcp))
			b++;
		int w = b == a ? snprintf(buf + n, (size_t)(len - n), "%s%u", n ? "," : "", a)
			       : snprintf(buf + n, (size_t)(len - n), "%s%u-%u", n ? "," : "", a, b);
		if (w < 0)
			break;
		if (w >= len - n) { /* cut: snprintf wrote len-n-1 characters */
			n = len - 1;
			break;
		}
		n += w;
		a = cpumask_next((int)b, srcp);
	}
	return n;
}

/* ---- topology --------------------------------------------------------- */

/*
 * Reads a CPU list file (the sysfs format, "0-3,8") into @m, which is left
 * alone on failure. Only the first 4095 bytes are read.
 * Return: 0; the negative errno of fopen() (-ENOENT: no such file);
 * -EINVAL for a malformed or empty list; -ERANGE for a CPU >= NR_CPUS.
 */
static int topology_read_list(const char *path, struct cpumask *m)
{
	char buf[4096];
	struct cpumask parsed;
	if (!path || !m)
		return -EINVAL;
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	int err = cpulist_parse(buf, &parsed);
	if (err)
		return err;
	if (cpumask_empty(&parsed))
		return -EINVAL;
	cpumask_copy(m, &parsed);
	return 0;
}

/*
 * Reads @dir/possible and @dir/online (the layout of
 * /sys/devices/system/cpu). A missing or unusable possible list falls back
 * to sysconf(_SC_NPROCESSORS_CONF) CPUs (at least 1, at most NR_CPUS), a
 * missing or unusable online list to the possible mask; online is then
 * limited to possible.
 */
static void topology_read_sysfs(const char *dir, struct cpumask *possible, struct cpumask *online)
{
	char path[PATH_MAX];
	int len = snprintf(path, sizeof(path), "%s/possible", dir);
	if (len < 0 || (size_t)len >= sizeof(path) ||
	    topology_read_list(path, possible) != 0) {
		long n = sysconf(_SC_NPROCESSORS_CONF);
		if (n < 1)
			n = 1;
		if (n > NR_CPUS)
			n = NR_CPUS;
		cpumask_clear(possible);
		for (long c = 0; c < n; c++)
			cpumask_set_cpu((unsigned int)c, possible);
	}
	len = snprintf(path, sizeof(path), "%s/online", dir);
	if (len < 0 || (size_t)len >= sizeof(path) ||
	    topology_read_list(path, online) != 0)
		cpumask_copy(online, possible);
	cpumask_and(online, online, possible);
}

/*
 * active = online & the process's affinity (the affinity alone when they
 * share no CPU, as in odd containers; CPU 0 when that is empty too).
 * Fills host_list with the active CPUs and sets nr_host.
 */
static void topology_read_active(unsigned int *host_list)
{
	struct cpumask affinity;
	cpu_set_t set;

	cpumask_clear(&affinity);
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (int c = 0; c < NR_CPUS && c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				cpumask_set_cpu((unsigned int)c, &affinity);
	} else {
		cpumask_copy(&affinity, &online_mask);
	}
	cpumask_and(&active_mask, &online_mask, &affinity);
	if (cpumask_empty(&active_mask)) /* odd containers: trust the affinity */
		cpumask_copy(&active_mask, &affinity);
	if (cpumask_empty(&active_mask))
		cpumask_set_cpu(0, &active_mask);

	nr_host = 0;
	unsigned int c;
	for_each_cpu(c, &active_mask)
		host_list[nr_host++] = c;
}

/*
 * PADATA_NR_CPUS=N: N virtual CPUs, all possible, online and active,
 * virtual CPU v on host_list[v mod nr_host]. Otherwise (or for a value out
 * of 1..NR_CPUS, reported and ignored) each CPU is its own host.
 */
static void topology_apply_virtual(const unsigned int *host_list)
{
	const char *env = getenv("PADATA_NR_CPUS");
	if (env && *env) {
		char *end;
		errno = 0;
		long n = strtol(env, &end, 10);
		if (errno || *end || n < 1 || n > NR_CPUS) {
			fprintf(stderr, "libpadata: ignoring PADATA_NR_CPUS='%s': want an integer in 1..%d\n",
				env, NR_CPUS);
		} else {
			topology_virtual = true;
			cpumask_clear(&possible_mask);
			for (long v = 0; v < n; v++)
				cpumask_set_cpu((unsigned int)v, &possible_mask);
			cpumask_copy(&online_mask, &possible_mask);
			cpumask_copy(&active_mask, &possible_mask);
			for (long v = 0; v < n; v++)
				host_of[v] = (int)host_list[(unsigned long)v % nr_host];
		}
	}
	if (!topology_virtual) {
		for (int v = 0; v < NR_CPUS; v++)
			host_of[v] = v;
	}
}

static void topology_init(void)
{
	unsigned int host_list[NR_CPUS];

	topology_read_sysfs("/sys/devices/system/cpu", &possible_mask, &online_mask);
	topology_read_active(host_list);
	topology_apply_virtual(host_list);

	/* nr_cpu_ids covers every possible and every active CPU. */
	unsigned int last = 0, c;
	for_each_cpu(c, &possible_mask)
		last = c;
	cpumask_or(&possible_mask, &possible_mask, &active_mask);
	for_each_cpu(c, &active_mask)
		if (c > last)
			last = c;
	nr_cpu_ids = last + 1;
	cpumask_copy(&load_active_mask, &active_mask);
}

/* Test seams (test_hooks.h): the sysfs readers on files the test made. */
int padata_test_read_cpulist_file(const char *path, struct cpumask *m)
{
	return topology_read_list(path, m);
}

int padata_test_read_sysfs_topology(const char *dir, struct cpumask *possible,
				    struct cpumask *online)
{
	if (!dir || !possible || !online)
		return -EINVAL;
	topology_read_sysfs(dir, possible, online);
	return 0;
}

__attribute__((constructor)) static void topology_ctor(void)
{
	pthread_once(&topology_once, topology_init);
}

int padata_cpu_to_host(unsigned int cpu)
{
	pthread_once(&topology_once, topology_init);
	if (cpu >= nr_cpu_ids)
		return -EINVAL;
	return host_of[cpu];
}

unsigned int padata_nr_host_cpus(void)
{
	pthread_once(&topology_once, topology_init);
	return nr_host;
}

bool padata_topology_is_virtual(void)
{
	pthread_once(&topology_once, topology_init);
	return topology_virtual;
}

bool padata__cpu_was_active(unsigned int cpu)
{
	return cpu < NR_CPUS && cpumask_test_cpu((int)cpu, &load_active_mask);
}

void padata__mask_store_atomic(struct cpumask *dst, const struct cpumask *src)
{
	for (int i = 0; i < LONGS; i++)
		padata__store_relaxed(&dst->bits[i], src->bits[i]);
}

void padata__active_set(unsigned int cpu, bool on)
{
	struct cpumask m;
	for (int i = 0; i < LONGS; i++)
		m.bits[i] = padata__load_relaxed(&active_mask.bits[i]);
	if (on)
		cpumask_set_cpu(cpu, &m);
	else
		cpumask_clear_cpu(cpu, &m);
	padata__mask_store_atomic(&active_mask, &m);
}

void padata_cpu_active_snapshot(struct cpumask *dst)
{
	if (!dst)
		return;
	for (int i = 0; i < LONGS; i++)
		dst->bits[i] = padata__load_relaxed(&active_mask.bits[i]);
}

void padata__lock_failed(const char *what, int err)
{
	fprintf(stderr, "libpadata: %s failed: %s; aborting\n", what, strerror(err));
	abort();
}

int padata__hotplug_read_lock(void)
{
	return pthread_rwlock_rdlock(&hotplug_lock);
}

void padata__hotplug_read_unlock(void)
{
	int err = pthread_rwlock_unlock(&hotplug_lock);
	if (err)
		padata__lock_failed("unlock of the hotplug lock (read side)", err);
}

int padata__hotplug_write_lock(void)
{
	return pthread_rwlock_wrlock(&hotplug_lock);
}

void padata__hotplug_write_unlock(void)
{
	int err = pthread_rwlock_unlock(&hotplug_lock);
	if (err)
		padata__lock_failed("unlock of the hotplug lock (write side)", err);
}
