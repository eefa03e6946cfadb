/* SPDX-License-Identifier: MIT */
/*
 * cpumask_test.cc - struct cpumask operations, the cpulist text form and the
 * process topology (nr_cpu_ids, possible/online/active, PADATA_NR_CPUS),
 * and the topology's sysfs reader on fake files in a temporary directory.
 *
 * Registered three times: on the real topology and with PADATA_NR_CPUS=8
 * and 64; the topology tests read the variable themselves to know what to
 * expect.
 */
#include "test_util.h"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <type_traits>

using namespace padata_test;

namespace {

const int kOutOfRange[] = {-1, NR_CPUS, NR_CPUS + 1, INT_MAX, INT_MIN};

/* A mask between two canaries: writes outside the mask show up in them. */
struct Guarded {
	unsigned long before[4];
	struct cpumask m;
	unsigned long after[4];

	Guarded()
	{
		std::memset(before, 0xA5, sizeof(before));
		std::memset(after, 0x5A, sizeof(after));
		cpumask_clear(&m);
	}
	bool canaries_intact() const
	{
		for (unsigned long w : before)
			if (w != ~0ul / 0xFF * 0xA5)
				return false;
		for (unsigned long w : after)
			if (w != ~0ul / 0xFF * 0x5A)
				return false;
		return true;
	}
};

std::set<int> as_set(const struct cpumask *m)
{
	auto v = mask_cpus(m);
	return std::set<int>(v.begin(), v.end());
}

} /* namespace */

/* ---- allocation ------------------------------------------------------ */

TEST(CpumaskAlloc, AllocAndZallocSucceedAndZallocClears)
{
	cpumask_var_t m;
	std::memset(m, 0xFF, sizeof(m));
	EXPECT_TRUE(alloc_cpumask_var(&m, GFP_KERNEL));
	EXPECT_TRUE(zalloc_cpumask_var(&m, GFP_KERNEL));
	EXPECT_TRUE(cpumask_empty(m));
	EXPECT_TRUE(zalloc_cpumask_var(&m, GFP_ATOMIC));
	free_cpumask_var(m);
}

TEST(CpumaskAlloc, FreeAndZallocAcceptNull)
{
	free_cpumask_var(nullptr);
	EXPECT_TRUE(zalloc_cpumask_var(nullptr, GFP_KERNEL));
	EXPECT_TRUE(alloc_cpumask_var(nullptr, GFP_KERNEL));
}

/* ---- single-bit operations ---------------------------------------------- */

TEST(CpumaskBits, SetTestClearAcrossWordBoundaries)
{
	Guarded g;
	const unsigned int cpus[] = {0, 1, 63, 64, 65, 127, 128, 511, 512, NR_CPUS - 1};
	for (unsigned int c : cpus) {
		EXPECT_FALSE(cpumask_test_cpu(static_cast<int>(c), &g.m)) << c;
		cpumask_set_cpu(c, &g.m);
		EXPECT_TRUE(cpumask_test_cpu(static_cast<int>(c), &g.m)) << c;
	}
	EXPECT_EQ(cpumask_weight(&g.m), sizeof(cpus) / sizeof(cpus[0]));
	for (unsigned int c : cpus) {
		cpumask_clear_cpu(c, &g.m);
		EXPECT_FALSE(cpumask_test_cpu(static_cast<int>(c), &g.m)) << c;
	}
	EXPECT_TRUE(cpumask_empty(&g.m));
	EXPECT_TRUE(g.canaries_intact());
}

TEST(CpumaskBits, SetCpuIgnoresCpusAtOrAboveNrCpus)
{
	Guarded g;
	const unsigned int bad[] = {NR_CPUS, NR_CPUS + 1, NR_CPUS * 2, UINT_MAX, static_cast<unsigned int>(-1)};
	for (unsigned int c : bad)
		cpumask_set_cpu(c, &g.m);
	EXPECT_TRUE(cpumask_empty(&g.m));
	EXPECT_TRUE(g.canaries_intact());
}

TEST(CpumaskBits, ClearCpuIgnoresOutOfRangeInts)
{
	Guarded g;
	cpumask_setall(&g.m);
	struct cpumask before = g.m;
	for (int c : kOutOfRange)
		cpumask_clear_cpu(c, &g.m);
	EXPECT_TRUE(cpumask_equal(&before, &g.m));
	EXPECT_TRUE(g.canaries_intact());
}

TEST(CpumaskBits, TestCpuIsFalseForOutOfRangeInts)
{
	Guarded g;
	std::memset(&g.m, 0xFF, sizeof(g.m));
	for (int c : kOutOfRange)
		EXPECT_FALSE(cpumask_test_cpu(c, &g.m)) << c;
	EXPECT_TRUE(cpumask_test_cpu(NR_CPUS - 1, &g.m));
}

/*
 * One CPU-number type per kind of argument (see padata/cpumask.h): the
 * functions that write a CPU take unsigned int, those that read one or start
 * a search from it take int. Checked at compile time: a mismatch (such as a
 * cpumask_clear_cpu(int) next to cpumask_set_cpu(unsigned)) fails the build.
 */
TEST(CpumaskBits, SetAndClearTakeUnsignedCpusTestAndNextTakeInt)
{
	static_assert(std::is_same<decltype(&cpumask_set_cpu),
				   void (*)(unsigned int, struct cpumask *)>::value,
		      "cpumask_set_cpu(unsigned int, struct cpumask *), pinned by the contract (docs/contract.md)");
	static_assert(std::is_same<decltype(&cpumask_clear_cpu), decltype(&cpumask_set_cpu)>::value,
		      "cpumask_clear_cpu takes the CPU type of cpumask_set_cpu");
	static_assert(std::is_same<decltype(&cpumask_test_cpu),
				   bool (*)(int, const struct cpumask *)>::value,
		      "cpumask_test_cpu(int, const struct cpumask *), pinned by the contract (docs/contract.md)");
	static_assert(std::is_same<decltype(&cpumask_next),
				   unsigned int (*)(int, const struct cpumask *)>::value,
		      "cpumask_next starts from an int (-1 for the first CPU)");
	SUCCEED();
}

/* The kernel names are spellings of the exported padata_ symbols. */
TEST(CpumaskNames, KernelNamesAreThePrefixedSymbols)
{
	EXPECT_EQ(&nr_cpu_ids, &padata_nr_cpu_ids);
	EXPECT_EQ(&cpumask_set_cpu, &padata_cpumask_set_cpu);
	EXPECT_EQ(&cpulist_parse, &padata_cpulist_parse);
	EXPECT_EQ(&alloc_workqueue, &padata_alloc_workqueue);
	EXPECT_EQ(&queue_work_on, &padata_queue_work_on);
	EXPECT_EQ(&cpu_down, &padata_cpu_down);
	EXPECT_EQ(cpu_active_mask, padata_cpu_active_mask);
}

TEST(CpumaskBits, NullMaskIsEmptyForReadersAndIgnoredByWriters)
{
	cpumask_set_cpu(0, nullptr);
	cpumask_clear_cpu(0, nullptr);
	cpumask_clear(nullptr);
	cpumask_setall(nullptr);
	EXPECT_FALSE(cpumask_test_cpu(0, nullptr));
	EXPECT_EQ(cpumask_weight(nullptr), 0u);
	EXPECT_TRUE(cpumask_empty(nullptr));
	EXPECT_EQ(cpumask_first(nullptr), static_cast<unsigned int>(NR_CPUS));
	EXPECT_EQ(cpumask_next(-1, nullptr), static_cast<unsigned int>(NR_CPUS));
}

/* ---- whole-mask operations ---------------------------------------------- */

TEST(CpumaskOps, SetallSetsExactlyTheExistingCpus)
{
	Guarded g;
	cpumask_setall(&g.m);
	EXPECT_EQ(cpumask_weight(&g.m), nr_cpu_ids);
	EXPECT_TRUE(cpumask_test_cpu(0, &g.m));
	EXPECT_TRUE(cpumask_test_cpu(static_cast<int>(nr_cpu_ids) - 1, &g.m));
	EXPECT_FALSE(cpumask_test_cpu(static_cast<int>(nr_cpu_ids), &g.m));
	EXPECT_TRUE(g.canaries_intact());
	cpumask_clear(&g.m);
	EXPECT_TRUE(cpumask_empty(&g.m));
	EXPECT_EQ(cpumask_weight(&g.m), 0u);
}

TEST(CpumaskOps, EqualTreatsNullAsEmpty)
{
	struct cpumask empty = mask_of({});
	struct cpumask one = mask_of({5});
	EXPECT_TRUE(cpumask_equal(nullptr, nullptr));
	EXPECT_TRUE(cpumask_equal(nullptr, &empty));
	EXPECT_TRUE(cpumask_equal(&empty, nullptr));
	EXPECT_FALSE(cpumask_equal(nullptr, &one));
	EXPECT_FALSE(cpumask_equal(&one, nullptr));
	struct cpumask other = mask_of({6});
	EXPECT_FALSE(cpumask_equal(&one, &other));
	struct cpumask same = mask_of({5});
	EXPECT_TRUE(cpumask_equal(&one, &same));
}

TEST(CpumaskOps, CopyCopiesClearsFromNullAndIgnoresNullDestination)
{
	struct cpumask src = mask_of({0, 64, NR_CPUS - 1});
	Guarded g;
	cpumask_copy(&g.m, &src);
	EXPECT_TRUE(cpumask_equal(&g.m, &src));
	cpumask_copy(&g.m, &g.m);
	EXPECT_TRUE(cpumask_equal(&g.m, &src));
	cpumask_copy(&g.m, nullptr);
	EXPECT_TRUE(cpumask_empty(&g.m));
	cpumask_copy(nullptr, &src);
	EXPECT_TRUE(g.canaries_intact());
}

TEST(CpumaskOps, AndOrAndnotComputeAndReportNonEmptiness)
{
	struct cpumask a = mask_of({0, 1, 2, 70, 1000});
	struct cpumask b = mask_of({2, 3, 70});
	struct cpumask d;

	EXPECT_TRUE(cpumask_and(&d, &a, &b));
	EXPECT_EQ(as_set(&d), (std::set<int>{2, 70}));
	struct cpumask c = mask_of({5});
	EXPECT_FALSE(cpumask_and(&d, &a, &c));
	EXPECT_TRUE(cpumask_empty(&d));

	cpumask_or(&d, &a, &b);
	EXPECT_EQ(as_set(&d), (std::set<int>{0, 1, 2, 3, 70, 1000}));

	EXPECT_TRUE(cpumask_andnot(&d, &a, &b));
	EXPECT_EQ(as_set(&d), (std::set<int>{0, 1, 1000}));
	EXPECT_TRUE(cpumask_andnot(&d, &b, &a));
	EXPECT_EQ(as_set(&d), (std::set<int>{3}));
	EXPECT_FALSE(cpumask_andnot(&d, &b, &b));
	EXPECT_TRUE(cpumask_empty(&d));
}

TEST(CpumaskOps, AndOrAndnotAllowTheDestinationToAliasASource)
{
	struct cpumask a = mask_of({1, 2, 3});
	struct cpumask b = mask_of({2, 3, 4});
	EXPECT_TRUE(cpumask_and(&a, &a, &b));
	EXPECT_EQ(as_set(&a), (std::set<int>{2, 3}));
	cpumask_or(&b, &a, &b);
	EXPECT_EQ(as_set(&b), (std::set<int>{2, 3, 4}));
	EXPECT_TRUE(cpumask_andnot(&b, &b, &a));
	EXPECT_EQ(as_set(&b), (std::set<int>{4}));
}

TEST(CpumaskOps, NullOperandsAreEmptyAndNullDestinationIsIgnored)
{
	struct cpumask a = mask_of({1, 9});
	struct cpumask d = mask_of({7});
	EXPECT_FALSE(cpumask_and(&d, &a, nullptr));
	EXPECT_TRUE(cpumask_empty(&d));
	EXPECT_FALSE(cpumask_and(&d, nullptr, &a));
	cpumask_or(&d, nullptr, &a);
	EXPECT_EQ(as_set(&d), (std::set<int>{1, 9}));
	cpumask_or(&d, nullptr, nullptr);
	EXPECT_TRUE(cpumask_empty(&d));
	EXPECT_TRUE(cpumask_andnot(&d, &a, nullptr));
	EXPECT_EQ(as_set(&d), (std::set<int>{1, 9}));
	EXPECT_FALSE(cpumask_andnot(&d, nullptr, &a));
	EXPECT_FALSE(cpumask_and(nullptr, &a, &a));
	EXPECT_FALSE(cpumask_andnot(nullptr, &a, nullptr));
	cpumask_or(nullptr, &a, &a);
}

TEST(CpumaskOps, FirstAndNextWalkInAscendingOrder)
{
	struct cpumask m = mask_of({3, 63, 64, 200, NR_CPUS - 1});
	EXPECT_EQ(cpumask_first(&m), 3u);
	EXPECT_EQ(cpumask_next(-1, &m), 3u);
	EXPECT_EQ(cpumask_next(3, &m), 63u);
	EXPECT_EQ(cpumask_next(62, &m), 63u);
	EXPECT_EQ(cpumask_next(63, &m), 64u);
	EXPECT_EQ(cpumask_next(64, &m), 200u);
	EXPECT_EQ(cpumask_next(200, &m), static_cast<unsigned int>(NR_CPUS - 1));
	EXPECT_EQ(cpumask_next(NR_CPUS - 1, &m), static_cast<unsigned int>(NR_CPUS));
	EXPECT_EQ(cpumask_next(NR_CPUS, &m), static_cast<unsigned int>(NR_CPUS));
	EXPECT_EQ(cpumask_next(INT_MAX, &m), static_cast<unsigned int>(NR_CPUS));

	struct cpumask empty = mask_of({});
	EXPECT_EQ(cpumask_first(&empty), static_cast<unsigned int>(NR_CPUS));

	std::vector<int> seen;
	int cpu;
	for_each_cpu(cpu, &m)
		seen.push_back(cpu);
	EXPECT_EQ(seen, (std::vector<int>{3, 63, 64, 200, NR_CPUS - 1}));
	unsigned int ucpu;
	seen.clear();
	for_each_cpu(ucpu, &empty)
		seen.push_back(static_cast<int>(ucpu));
	EXPECT_TRUE(seen.empty());
}

TEST(CpumaskOps, WeightCountsEveryWord)
{
	struct cpumask m;
	cpumask_clear(&m);
	for (unsigned int c = 0; c < NR_CPUS; c += 3)
		cpumask_set_cpu(c, &m);
	EXPECT_EQ(cpumask_weight(&m), static_cast<unsigned int>((NR_CPUS + 2) / 3));
	std::memset(&m, 0xFF, sizeof(m));
	EXPECT_EQ(cpumask_weight(&m), static_cast<unsigned int>(NR_CPUS));
	EXPECT_FALSE(cpumask_empty(&m));
}

/* ---- cpulist_parse ---------------------------------------------------- */

TEST(CpulistParse, ParsesRangesSinglesAndWhitespace)
{
	struct cpumask m;
	ASSERT_EQ(cpulist_parse("0-3,6", &m), 0);
	EXPECT_EQ(as_set(&m), (std::set<int>{0, 1, 2, 3, 6}));
	ASSERT_EQ(cpulist_parse(" 1 , 3 - 5 ,9\n", &m), 0);
	EXPECT_EQ(as_set(&m), (std::set<int>{1, 3, 4, 5, 9}));
	ASSERT_EQ(cpulist_parse("7", &m), 0);
	EXPECT_EQ(as_set(&m), (std::set<int>{7}));
	ASSERT_EQ(cpulist_parse("4-4", &m), 0);
	EXPECT_EQ(as_set(&m), (std::set<int>{4}));
	ASSERT_EQ(cpulist_parse("2,2,1-2", &m), 0);
	EXPECT_EQ(as_set(&m), (std::set<int>{1, 2}));
	ASSERT_EQ(cpulist_parse("1023", &m), 0);
	EXPECT_EQ(as_set(&m), (std::set<int>{NR_CPUS - 1}));
	ASSERT_EQ(cpulist_parse("0-1023", &m), 0);
	EXPECT_EQ(cpumask_weight(&m), static_cast<unsigned int>(NR_CPUS));
}

TEST(CpulistParse, EmptyStringGivesAnEmptyMask)
{
	struct cpumask m = mask_of({1, 2});
	ASSERT_EQ(cpulist_parse("", &m), 0);
	EXPECT_TRUE(cpumask_empty(&m));
	m = mask_of({1});
	ASSERT_EQ(cpulist_parse("  \n", &m), 0);
	EXPECT_TRUE(cpumask_empty(&m));
}

TEST(CpulistParse, RejectsBadSyntaxWithEinvalAndLeavesTheMaskUnchanged)
{
	const char *bad[] = {"a", "1,", ",1", "1-", "-1", "1--2", "1 2", "3-1", "1,,2",
			     "0x1", "1-2-3", "+1", "1;2", "1-a", " , "};
	for (const char *s : bad) {
		struct cpumask m = mask_of({42});
		EXPECT_EQ(cpulist_parse(s, &m), -EINVAL) << '"' << s << '"';
		EXPECT_EQ(as_set(&m), (std::set<int>{42})) << '"' << s << '"';
	}
}

TEST(CpulistParse, RejectsCpusAtOrAboveNrCpusWithErange)
{
	const char *bad[] = {"1024", "0-1024", "5,1024", "99999999999999999999999", "1-4294967296"};
	for (const char *s : bad) {
		struct cpumask m = mask_of({42});
		EXPECT_EQ(cpulist_parse(s, &m), -ERANGE) << '"' << s << '"';
		EXPECT_EQ(as_set(&m), (std::set<int>{42})) << '"' << s << '"';
	}
}

TEST(CpulistParse, RejectsNullArguments)
{
	struct cpumask m = mask_of({1});
	EXPECT_EQ(cpulist_parse(nullptr, &m), -EINVAL);
	EXPECT_EQ(as_set(&m), (std::set<int>{1}));
	EXPECT_EQ(cpulist_parse("1", nullptr), -EINVAL);
}

/* ---- cpulist_scnprintf ------------------------------------------------ */

TEST(CpulistScnprintf, PrintsRangesAndSingles)
{
	char buf[64];
	struct cpumask m = mask_of({0, 1, 2, 3, 6});
	EXPECT_EQ(cpulist_scnprintf(buf, sizeof(buf), &m), 5);
	EXPECT_STREQ(buf, "0-3,6");
	m = mask_of({1, 3, 5});
	EXPECT_EQ(cpulist_scnprintf(buf, sizeof(buf), &m), 5);
	EXPECT_STREQ(buf, "1,3,5");
	m = mask_of({63, 64});
	EXPECT_EQ(cpulist_scnprintf(buf, sizeof(buf), &m), 5);
	EXPECT_STREQ(buf, "63-64");
	m = mask_of({NR_CPUS - 1});
	EXPECT_EQ(cpulist_scnprintf(buf, sizeof(buf), &m), 4);
	EXPECT_STREQ(buf, "1023");
	m = mask_of({});
	std::strcpy(buf, "junk");
	EXPECT_EQ(cpulist_scnprintf(buf, sizeof(buf), &m), 0);
	EXPECT_STREQ(buf, "");
	std::memset(&m, 0xFF, sizeof(m));
	EXPECT_EQ(cpulist_scnprintf(buf, sizeof(buf), &m), 6);
	EXPECT_STREQ(buf, "0-1023");
}

TEST(CpulistScnprintf, CutsOutputThatDoesNotFitAndAlwaysTerminates)
{
	struct cpumask m = mask_of({0, 1, 2, 3, 6, 8});
	const std::string full = "0-3,6,8";
	for (int len = 1; len <= static_cast<int>(full.size()) + 1; len++) {
		char buf[32];
		std::memset(buf, 'X', sizeof(buf));
		int n = cpulist_scnprintf(buf, len, &m);
		ASSERT_GE(n, 0);
		ASSERT_LT(n, len) << "len " << len;
		EXPECT_EQ(static_cast<size_t>(n), std::strlen(buf)) << "len " << len;
		EXPECT_EQ(full.compare(0, static_cast<size_t>(n), buf), 0) << "len " << len << " got " << buf;
		EXPECT_EQ(buf[len], 'X') << "wrote past len " << len;
	}
}

TEST(CpulistScnprintf, RejectsNullBufferAndNonPositiveLength)
{
	struct cpumask m = mask_of({1});
	char buf[10] = "unchanged";
	EXPECT_EQ(cpulist_scnprintf(nullptr, 8, &m), 0);
	EXPECT_EQ(cpulist_scnprintf(buf, 0, &m), 0);
	EXPECT_EQ(cpulist_scnprintf(buf, -1, &m), 0);
	EXPECT_EQ(cpulist_scnprintf(buf, INT_MIN, &m), 0);
	EXPECT_EQ(std::memcmp(buf, "unchanged", 8), 0);
	EXPECT_EQ(cpulist_scnprintf(buf, sizeof(buf), nullptr), 0);
	EXPECT_STREQ(buf, "");
}

TEST(CpulistRoundTrip, PrintThenParseGivesTheSameMask)
{
	Rng rng(1);
	static char buf[8 * NR_CPUS];
	for (int iter = 0; iter < 500; iter++) {
		struct cpumask m;
		cpumask_clear(&m);
		/* Runs of various densities so both ranges and singles appear. */
		unsigned int density = 1 + rng.below(8);
		for (unsigned int c = 0; c < NR_CPUS; c++)
			if (rng.below(density + 1) == 0 || (iter % 7 == 0 && c % 5 != 0))
				cpumask_set_cpu(c, &m);
		int n = cpulist_scnprintf(buf, sizeof(buf), &m);
		ASSERT_EQ(static_cast<size_t>(n), std::strlen(buf));
		struct cpumask back = mask_of({999});
		ASSERT_EQ(cpulist_parse(buf, &back), 0) << buf;
		ASSERT_TRUE(cpumask_equal(&m, &back)) << buf;
	}
}

TEST(CpulistRoundTrip, ParseThenPrintNormalizes)
{
	char buf[64];
	struct cpumask m;
	ASSERT_EQ(cpulist_parse("6, 0-1,2,3", &m), 0);
	cpulist_scnprintf(buf, sizeof(buf), &m);
	EXPECT_STREQ(buf, "0-3,6");
}

/* ---- topology ---------------------------------------------------------- */

class Topology : public ::testing::Test {
protected:
	void TearDown() override { restore_all_cpus(); }
};

TEST_F(Topology, VirtualFlagFollowsTheEnvironment)
{
	EXPECT_EQ(padata_topology_is_virtual(), env_nr_cpus() != 0);
}

TEST_F(Topology, NrCpuIdsAndMasksMatchTheTopology)
{
	unsigned int want = env_nr_cpus();
	if (want) {
		EXPECT_EQ(nr_cpu_ids, want);
		EXPECT_EQ(cpumask_weight(cpu_possible_mask), want);
		EXPECT_TRUE(cpumask_equal(cpu_online_mask, cpu_possible_mask));
		EXPECT_TRUE(cpumask_equal(cpu_active_mask, cpu_possible_mask));
		EXPECT_EQ(cpumask_first(cpu_possible_mask), 0u);
	} else {
		/* Real topology: nr_cpu_ids is one past the highest possible CPU. */
		unsigned int last = 0, c;
		for_each_cpu(c, cpu_possible_mask)
			last = c;
		EXPECT_EQ(nr_cpu_ids, last + 1);
		EXPECT_GE(nr_cpu_ids, 1u);
		struct cpumask t;
		EXPECT_FALSE(cpumask_andnot(&t, cpu_online_mask, cpu_possible_mask)) << "online not in possible";
		EXPECT_FALSE(cpumask_andnot(&t, cpu_active_mask, cpu_online_mask)) << "active not in online";
		/* active = online & affinity */
		struct cpumask aff;
		cpumask_clear(&aff);
		for (int a : affinity_cpus())
			cpumask_set_cpu(static_cast<unsigned int>(a), &aff);
		struct cpumask want_active;
		cpumask_and(&want_active, cpu_online_mask, &aff);
		EXPECT_TRUE(cpumask_equal(cpu_active_mask, &want_active))
			<< mask_str(cpu_active_mask) << " vs " << mask_str(&want_active);
		/* On Linux the kernel's own lists agree with ours. */
		FILE *f = std::fopen("/sys/devices/system/cpu/possible", "r");
		if (f) {
			char buf[256] = "";
			size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
			buf[n] = '\0';
			std::fclose(f);
			struct cpumask sys;
			ASSERT_EQ(cpulist_parse(buf, &sys), 0);
			EXPECT_TRUE(cpumask_equal(&sys, cpu_possible_mask)) << buf;
		}
	}
	EXPECT_FALSE(cpumask_empty(cpu_active_mask));
	EXPECT_FALSE(cpumask_test_cpu(static_cast<int>(nr_cpu_ids), cpu_possible_mask));
}

TEST_F(Topology, HostCpuCountIsTheActiveAffinity)
{
	std::vector<int> aff = affinity_cpus();
	struct cpumask online_aff;
	cpumask_clear(&online_aff);
	for (int a : aff)
		if (env_nr_cpus() || cpumask_test_cpu(a, cpu_online_mask))
			cpumask_set_cpu(static_cast<unsigned int>(a), &online_aff);
	if (env_nr_cpus()) {
		/* The virtual topology maps onto the online CPUs of the affinity. */
		EXPECT_GE(padata_nr_host_cpus(), 1u);
		EXPECT_LE(padata_nr_host_cpus(), static_cast<unsigned int>(aff.size()));
	} else {
		EXPECT_EQ(padata_nr_host_cpus(), cpumask_weight(cpu_active_mask));
		EXPECT_EQ(padata_nr_host_cpus(), cpumask_weight(&online_aff));
	}
}

TEST_F(Topology, CpuToHostMapsEveryCpuAndRejectsOthers)
{
	std::vector<int> aff = affinity_cpus();
	std::vector<int> hosts;
	for (int a : aff)
		hosts.push_back(a);
	if (env_nr_cpus()) {
		/* c -> (c mod n)-th CPU of the host list (the active affinity). */
		unsigned int n = padata_nr_host_cpus();
		ASSERT_GE(n, 1u);
		std::vector<int> host_list;
		for (unsigned int c = 0; c < n; c++)
			host_list.push_back(padata_cpu_to_host(c));
		for (size_t i = 1; i < host_list.size(); i++)
			EXPECT_LT(host_list[i - 1], host_list[i]) << "host list not ascending";
		for (unsigned int c = 0; c < nr_cpu_ids; c++) {
			int h = padata_cpu_to_host(c);
			EXPECT_EQ(h, host_list[c % n]) << "cpu " << c;
			EXPECT_NE(std::find(aff.begin(), aff.end(), h), aff.end()) << "cpu " << c << " -> " << h;
		}
	} else {
		for (unsigned int c = 0; c < nr_cpu_ids; c++)
			EXPECT_EQ(padata_cpu_to_host(c), static_cast<int>(c));
	}
	EXPECT_EQ(padata_cpu_to_host(nr_cpu_ids), -EINVAL);
	EXPECT_EQ(padata_cpu_to_host(NR_CPUS), -EINVAL);
	EXPECT_EQ(padata_cpu_to_host(UINT_MAX), -EINVAL);
}

TEST_F(Topology, ActiveSnapshotCopiesTheActiveMaskAndIgnoresNull)
{
	struct cpumask m = mask_of({NR_CPUS - 1});
	padata_cpu_active_snapshot(&m);
	EXPECT_TRUE(cpumask_equal(&m, cpu_active_mask));
	padata_cpu_active_snapshot(nullptr);
}

TEST_F(Topology, ActiveSnapshotFollowsCpuDownAndUp)
{
	if (cpumask_weight(cpu_active_mask) < 2)
		GTEST_SKIP() << "needs two active CPUs to take one down";
	unsigned int last = 0, c;
	for_each_cpu(c, cpu_active_mask)
		last = c;
	ASSERT_EQ(cpu_down(last), 0);
	struct cpumask m = active_snapshot();
	EXPECT_FALSE(cpumask_test_cpu(static_cast<int>(last), &m));
	EXPECT_FALSE(cpumask_test_cpu(static_cast<int>(last), cpu_active_mask));
	EXPECT_TRUE(cpumask_test_cpu(static_cast<int>(last), cpu_online_mask)) << "online is fixed at load";
	EXPECT_TRUE(cpumask_test_cpu(static_cast<int>(last), cpu_possible_mask));
	ASSERT_EQ(cpu_up(last), 0);
	m = active_snapshot();
	EXPECT_TRUE(cpumask_test_cpu(static_cast<int>(last), &m));
}

/* ---- the topology's sysfs reader, on fake files ------------------------- */

/*
 * A temporary directory laid out like /sys/devices/system/cpu, read with
 * the library's own reader (padata_test_read_cpulist_file and
 * padata_test_read_sysfs_topology, test_hooks.h).
 */
class SysfsTopology : public ::testing::Test {
protected:
	std::string dir;

	void SetUp() override
	{
		char tmpl[] = "/tmp/padata_sysfs_XXXXXX";
		ASSERT_NE(mkdtemp(tmpl), nullptr) << std::strerror(errno);
		dir = tmpl;
	}
	void TearDown() override
	{
		for (const char *name : {"possible", "online", "list"})
			unlink(path(name).c_str());
		rmdir(dir.c_str());
	}
	std::string path(const char *name) const { return dir + "/" + name; }
	void write(const char *name, const char *text) const
	{
		FILE *f = std::fopen(path(name).c_str(), "w");
		ASSERT_NE(f, nullptr) << std::strerror(errno);
		std::fputs(text, f);
		std::fclose(f);
	}
	/* What the reader falls back to without a usable possible list. */
	static struct cpumask sysconf_mask()
	{
		long n = sysconf(_SC_NPROCESSORS_CONF);
		n = std::max(1L, std::min(n, static_cast<long>(NR_CPUS)));
		struct cpumask m;
		cpumask_clear(&m);
		for (long c = 0; c < n; c++)
			cpumask_set_cpu(static_cast<unsigned int>(c), &m);
		return m;
	}
	void read_topology(struct cpumask *possible, struct cpumask *online) const
	{
		*possible = mask_of({NR_CPUS - 1});
		*online = mask_of({NR_CPUS - 1});
		ASSERT_EQ(padata_test_read_sysfs_topology(dir.c_str(), possible, online), 0);
	}
};

TEST_F(SysfsTopology, ListFileWithARangeIsRead)
{
	write("list", "0-3\n");
	struct cpumask m = mask_of({NR_CPUS - 1});
	ASSERT_EQ(padata_test_read_cpulist_file(path("list").c_str(), &m), 0);
	struct cpumask want = mask_of({0, 1, 2, 3});
	EXPECT_TRUE(cpumask_equal(&m, &want));
}

TEST_F(SysfsTopology, ListFileWithACpuAndARangeIsRead)
{
	write("list", "0,2-5\n");
	struct cpumask m = mask_of({NR_CPUS - 1});
	ASSERT_EQ(padata_test_read_cpulist_file(path("list").c_str(), &m), 0);
	struct cpumask want = mask_of({0, 2, 3, 4, 5});
	EXPECT_TRUE(cpumask_equal(&m, &want));
}

TEST_F(SysfsTopology, EmptyListFileIsEinvalAndLeavesTheMaskAlone)
{
	for (const char *text : {"", "\n", "  \n"}) {
		write("list", text);
		struct cpumask m = mask_of({7});
		EXPECT_EQ(padata_test_read_cpulist_file(path("list").c_str(), &m), -EINVAL)
			<< "'" << text << "'";
		struct cpumask want = mask_of({7});
		EXPECT_TRUE(cpumask_equal(&m, &want)) << "'" << text << "'";
	}
}

TEST_F(SysfsTopology, MalformedListFileIsEinvalAndLeavesTheMaskAlone)
{
	for (const char *text : {"0-", "x", "3-1\n", "0,,1", "0,", "1 2", "-1"}) {
		write("list", text);
		struct cpumask m = mask_of({7});
		EXPECT_EQ(padata_test_read_cpulist_file(path("list").c_str(), &m), -EINVAL)
			<< "'" << text << "'";
		struct cpumask want = mask_of({7});
		EXPECT_TRUE(cpumask_equal(&m, &want)) << "'" << text << "'";
	}
}

TEST_F(SysfsTopology, ListFileBeyondNrCpusIsErange)
{
	std::string text = "0-" + std::to_string(NR_CPUS) + "\n";
	write("list", text.c_str());
	struct cpumask m = mask_of({7});
	EXPECT_EQ(padata_test_read_cpulist_file(path("list").c_str(), &m), -ERANGE);
	struct cpumask want = mask_of({7});
	EXPECT_TRUE(cpumask_equal(&m, &want));
}

TEST_F(SysfsTopology, MissingListFileIsEnoent)
{
	struct cpumask m = mask_of({7});
	EXPECT_EQ(padata_test_read_cpulist_file(path("list").c_str(), &m), -ENOENT);
	struct cpumask want = mask_of({7});
	EXPECT_TRUE(cpumask_equal(&m, &want));
}

TEST_F(SysfsTopology, NullArgumentsAreEinval)
{
	struct cpumask m, n;
	write("list", "0\n");
	EXPECT_EQ(padata_test_read_cpulist_file(nullptr, &m), -EINVAL);
	EXPECT_EQ(padata_test_read_cpulist_file(path("list").c_str(), nullptr), -EINVAL);
	EXPECT_EQ(padata_test_read_sysfs_topology(nullptr, &m, &n), -EINVAL);
	EXPECT_EQ(padata_test_read_sysfs_topology(dir.c_str(), nullptr, &n), -EINVAL);
	EXPECT_EQ(padata_test_read_sysfs_topology(dir.c_str(), &m, nullptr), -EINVAL);
}

TEST_F(SysfsTopology, PossibleAndOnlineAreReadFromTheDirectory)
{
	write("possible", "0-7\n");
	write("online", "0,2-5\n");
	struct cpumask possible, online;
	read_topology(&possible, &online);
	struct cpumask want_possible = mask_of({0, 1, 2, 3, 4, 5, 6, 7});
	struct cpumask want_online = mask_of({0, 2, 3, 4, 5});
	EXPECT_TRUE(cpumask_equal(&possible, &want_possible));
	EXPECT_TRUE(cpumask_equal(&online, &want_online));
}

TEST_F(SysfsTopology, OnlineIsLimitedToPossible)
{
	write("possible", "0-3\n");
	write("online", "2-5\n");
	struct cpumask possible, online;
	read_topology(&possible, &online);
	struct cpumask want_online = mask_of({2, 3});
	EXPECT_TRUE(cpumask_equal(&online, &want_online));
}

TEST_F(SysfsTopology, MissingEmptyOrMalformedOnlineFallsBackToPossible)
{
	write("possible", "0,2-5\n");
	struct cpumask want = mask_of({0, 2, 3, 4, 5});
	for (const char *text : {static_cast<const char *>(nullptr), "", "0-"}) {
		if (text)
			write("online", text);
		struct cpumask possible, online;
		read_topology(&possible, &online);
		EXPECT_TRUE(cpumask_equal(&possible, &want)) << (text ? text : "(missing)");
		EXPECT_TRUE(cpumask_equal(&online, &want)) << (text ? text : "(missing)");
	}
}

TEST_F(SysfsTopology, MissingEmptyOrMalformedPossibleFallsBackToSysconf)
{
	struct cpumask want = sysconf_mask();
	for (const char *text : {static_cast<const char *>(nullptr), "", "x"}) {
		if (text)
			write("possible", text);
		struct cpumask possible, online;
		read_topology(&possible, &online);
		EXPECT_TRUE(cpumask_equal(&possible, &want)) << (text ? text : "(missing)");
		EXPECT_TRUE(cpumask_equal(&online, &want)) << (text ? text : "(missing)");
	}
}

TEST_F(SysfsTopology, OnlineIsReadBesideTheSysconfFallback)
{
	write("possible", "garbage");
	write("online", "0\n");
	struct cpumask possible, online;
	read_topology(&possible, &online);
	struct cpumask want_possible = sysconf_mask();
	struct cpumask want_online = mask_of({0});
	EXPECT_TRUE(cpumask_equal(&possible, &want_possible));
	EXPECT_TRUE(cpumask_equal(&online, &want_online));
}
