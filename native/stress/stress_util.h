/* SPDX-License-Identifier: MIT */
/*
 * stress_util.h - helpers for the reliability GoogleTest suites. Test-only.
 * The common ones (loop scale, waits, masks, CPU restore) are the
 * validation suites' own, from native/tests/test_util.h; only what the
 * reliability suites alone need is defined here.
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

#include "../tests/test_util.h"

#include <cstdint>
#include <cstdio>
#include <string>

namespace padata_stress {

using padata_test::Clock;
using padata_test::mask_of;
using padata_test::mask_str;
using padata_test::restore_all_cpus;
using padata_test::sanitized;
using padata_test::scale;
using padata_test::scaled;
using padata_test::wait_until;
using std::chrono::milliseconds;

/* The address as the library prints it with %p, without the "0x". */
inline std::string addr_hex(const void *p)
{
	char buf[32];
	std::snprintf(buf, sizeof(buf), "%lx", static_cast<unsigned long>(reinterpret_cast<uintptr_t>(p)));
	return buf;
}

} /* namespace padata_stress */

#endif /* PADATA_STRESS_UTIL_H */
