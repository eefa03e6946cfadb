/* SPDX-License-Identifier: MIT */
/*
 * stress_util.h - helpers for the reliability GoogleTest suites. Test-only.
 *
 * The suites reach libpadata only through <linux/padata.h>, as a user would.
 *
 * Environment:
 *   PADATA_NR_CPUS     read by the library at load (virtual topology).
 *   PADATA_TEST_SCALE  multiplies loop counts; the default is compiled in
 *                      (PADATA_TEST_DEFAULT_SCALE: 1, or less in sanitizer
 *                      builds).
 */
#ifndef PADATA_STRESS_UTIL_H
#define PADATA_STRESS_UTIL_H

#include <linux/padata.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>

#ifndef PADATA_TEST_DEFAULT_SCALE
#define PADATA_TEST_DEFAULT_SCALE 1
#endif

namespace padata_stress {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

inline double scale()
{
	static const double s = [] {
		const char *e = std::getenv("PADATA_TEST_SCALE");
		if (e && *e) {
			char *end = nullptr;
			double v = std::strtod(e, &end);
			if (end && *end == '\0' && v > 0.0)
				return v;
		}
		return static_cast<double>(PADATA_TEST_DEFAULT_SCALE);
	}();
	return s;
}

/* @n scaled by PADATA_TEST_SCALE, never below @min. */
inline long scaled(long n, long min = 1)
{
	return std::max(static_cast<long>(static_cast<double>(n) * scale()), min);
}

/* True in sanitizer builds: timing assertions are relaxed there. */
inline bool sanitized()
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
	return true;
#else
	return false;
#endif
#else
	return false;
#endif
}

/* Polls @pred every 50 us until it holds or @limit passes; returns pred(). */
inline bool wait_until(const std::function<bool()> &pred, milliseconds limit = milliseconds(20000))
{
	auto end = Clock::now() + limit;
	while (!pred()) {
		if (Clock::now() >= end)
			return pred();
		std::this_thread::sleep_for(std::chrono::microseconds(50));
	}
	return true;
}

inline struct cpumask mask_of(std::initializer_list<int> cpus)
{
	struct cpumask m;
	cpumask_clear(&m);
	for (int c : cpus)
		cpumask_set_cpu(static_cast<unsigned int>(c), &m);
	return m;
}

inline std::string mask_str(const struct cpumask *m)
{
	char buf[4096];
	cpulist_scnprintf(buf, sizeof(buf), m);
	return buf;
}

/* Brings every CPU back up; fixtures restore the global topology. */
inline void restore_all_cpus()
{
	for (unsigned int c = 0; c < nr_cpu_ids; c++)
		(void)cpu_up(c);
}

/* The address as the library prints it with %p, without the "0x". */
inline std::string addr_hex(const void *p)
{
	char buf[32];
	std::snprintf(buf, sizeof(buf), "%lx", static_cast<unsigned long>(reinterpret_cast<uintptr_t>(p)));
	return buf;
}

} /* namespace padata_stress */

#endif /* PADATA_STRESS_UTIL_H */
