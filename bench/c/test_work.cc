// SPDX-License-Identifier: MIT
//
// test_work.cc - workload() (native/testsupport) against the shared test vectors
// (docs/contract.md section 5), and the bench_cb serial-stage checks.
//
// The vectors are read at run time from $PADATA_WORK_VECTORS, else from
// <repo root>/../shared/work-vectors.txt; the test is skipped, naming the
// path, when the file is absent.
#include <gtest/gtest.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench_cb.h"
#include "bench_util.h"
#include "workload.h"

#ifndef BENCH_REPO_ROOT
#error "BENCH_REPO_ROOT must name the repository root"
#endif

namespace {

std::string vectors_path()
{
	const char *env = std::getenv("PADATA_WORK_VECTORS");

	if (env && *env)
		return env;
	return std::string(BENCH_REPO_ROOT) + "/../shared/work-vectors.txt";
}

TEST(Work, MatchesEveryVectorOfTheSharedFile)
{
	std::string path = vectors_path();
	FILE *f = std::fopen(path.c_str(), "r");

	if (f == nullptr)
		GTEST_SKIP() << "work vectors not found at " << path
			     << " (set PADATA_WORK_VECTORS to the file)";
	char line[256];
	int checked = 0;

	while (std::fgets(line, sizeof(line), f)) {
		unsigned long long seed, w, digest;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		ASSERT_EQ(std::sscanf(line, "%llu %llu %llx", &seed, &w, &digest), 3)
			<< "malformed vector line: " << line;
		EXPECT_EQ(workload(seed, static_cast<uint32_t>(w)), digest)
			<< "seed " << seed << " w " << w;
		checked++;
	}
	std::fclose(f);
	EXPECT_GE(checked, 1) << "no vectors in " << path;
}

TEST(Work, ZeroBytesOfWorkIsTheOffsetBasisXorSeed)
{
	EXPECT_EQ(workload(0, 0), UINT64_C(0xcbf29ce484222325));
	EXPECT_EQ(workload(UINT64_MAX, 0), ~UINT64_C(0xcbf29ce484222325));
}

TEST(Work, IsDeterministicAndDependsOnTheWholeSeed)
{
	// 12345 and 12345 + 0x8000 read the same table bytes (same p) but start
	// from different h, so they must differ.
	EXPECT_EQ(workload(12345, 1000), workload(12345, 1000));
	EXPECT_NE(workload(12345, 1000), workload(12345 + 0x8000, 1000));
}

TEST(Work, ReferenceFoldsSumAndXorOfTheFirstJobs)
{
	uint64_t sum = 0, x = 0;

	for (uint64_t i = 0; i < 100; i++) {
		uint64_t h = workload(workload_seed(i), 37);

		sum += h;
		x ^= h;
	}
	workload_digest d = workload_reference(100, 37);
	EXPECT_EQ(d.sum, sum);
	EXPECT_EQ(d.xor_, x);
	EXPECT_EQ(workload_seed(0), UINT64_C(0x9e3779b97f4a7c15));
}

TEST(JobsFor, StaysBetween2000And100000)
{
	EXPECT_EQ(bench_jobs_for(0), 100000u);
	EXPECT_EQ(bench_jobs_for(1000), 16666u);
	EXPECT_EQ(bench_jobs_for(10000), 2000u);
	EXPECT_EQ(bench_jobs_for(UINT32_MAX), 2000u);
}

TEST(Sink, RejectsBadLaneCounts)
{
	int32_t cpus[1] = { 0 };

	errno = 0;
	EXPECT_EQ(bench_sink_create(0, cpus, 10, 1), nullptr);
	EXPECT_EQ(errno, EINVAL);
	errno = 0;
	EXPECT_EQ(bench_sink_create(BENCH_MAX_LANES + 1, cpus, 10, 1), nullptr);
	EXPECT_EQ(errno, EINVAL);
	errno = 0;
	EXPECT_EQ(bench_sink_create(1, nullptr, 10, 1), nullptr);
	EXPECT_EQ(errno, EINVAL);
	errno = 0;
	EXPECT_EQ(bench_jobs_create(0), nullptr);
	EXPECT_EQ(errno, EINVAL);
	bench_sink_destroy(nullptr);
	bench_jobs_destroy(nullptr);
}

// Drive bench_cb_serial() by hand (it only needs the job and its sink), as
// if the serial worker were the calling thread: padata_current_cpu() is -1
// here, so the lane's cpu is set to -1 too.
struct SinkTest : ::testing::Test {
	int32_t cpus[2] = { -1, -1 };
	bench_sink *sink = nullptr;
	bench_job *jobs = nullptr;

	void SetUp() override
	{
		sink = bench_sink_create(2, cpus, 8, 1);
		ASSERT_NE(sink, nullptr);
		jobs = bench_jobs_create(8);
		ASSERT_NE(jobs, nullptr);
		for (uint64_t i = 0; i < 8; i++) {
			jobs[i].sink = sink;
			jobs[i].index = i;
			jobs[i].seed = workload_seed(i);
			jobs[i].w = 10;
			jobs[i].lane = static_cast<uint32_t>(i % 2);
			jobs[i].digest = workload(jobs[i].seed, 10);
			jobs[i].busy = 1;
		}
	}
	void TearDown() override
	{
		bench_jobs_destroy(jobs);
		bench_sink_destroy(sink);
	}
	int check(char *why, int len)
	{
		workload_digest ref = workload_reference(8, 10);

		return bench_sink_check(sink, 8, ref.sum, ref.xor_, why, len);
	}
};

TEST_F(SinkTest, AcceptsJobsInOrderPerLaneAndClearsBusy)
{
	char why[200];
	// Lanes may interleave differently from the global order.
	for (uint64_t i : { 1, 0, 3, 2, 4, 5, 7, 6 })
		bench_cb_serial(&jobs[i].priv);
	EXPECT_EQ(bench_sink_done(sink), 8u);
	EXPECT_EQ(check(why, sizeof(why)), 0) << why;
	for (int i = 0; i < 8; i++)
		EXPECT_EQ(jobs[i].busy, 0u);
}

TEST_F(SinkTest, ReportsAJobOutOfOrderInItsLane)
{
	char why[200];

	for (uint64_t i : { 0, 1, 4, 3, 2, 5, 6, 7 })
		bench_cb_serial(&jobs[i].priv);
	ASSERT_EQ(check(why, sizeof(why)), -1);
	EXPECT_NE(std::string(why).find("out of order"), std::string::npos) << why;
	EXPECT_NE(std::string(why).find("first bad job 4"), std::string::npos) << why;
}

TEST_F(SinkTest, ReportsAMissingJob)
{
	char why[200];

	for (uint64_t i : { 0, 1, 2, 3, 4, 5, 6 })
		bench_cb_serial(&jobs[i].priv);
	ASSERT_EQ(check(why, sizeof(why)), -1);
	EXPECT_NE(std::string(why).find("7 jobs serialized, expected 8"), std::string::npos) << why;
}

TEST_F(SinkTest, ReportsAWrongDigest)
{
	char why[200];

	jobs[5].digest ^= 1;
	for (uint64_t i = 0; i < 8; i++)
		bench_cb_serial(&jobs[i].priv);
	ASSERT_EQ(check(why, sizeof(why)), -1);
	EXPECT_NE(std::string(why).find("reference sum"), std::string::npos) << why;
}

TEST_F(SinkTest, ReportsSerialOnAnotherCpuThanTheLane)
{
	char why[200];

	sink->lanes[1].cpu = 0; // this thread is not CPU 0's worker
	for (uint64_t i = 0; i < 8; i++)
		bench_cb_serial(&jobs[i].priv);
	ASSERT_EQ(check(why, sizeof(why)), -1);
	EXPECT_NE(std::string(why).find("on a wrong CPU"), std::string::npos) << why;
	// The check passes NULL-safe: a NULL buffer still gets the verdict.
	EXPECT_EQ(check(nullptr, 0), -1);
}

TEST_F(SinkTest, RecordsLatencySamplesOfTimestampedJobs)
{
	jobs[2].t_submit_ns = bench_now_ns() - 1000;
	for (uint64_t i = 0; i < 8; i++)
		bench_cb_serial(&jobs[i].priv);
	EXPECT_GE(sink->lat_ns[2], 1000u);
	EXPECT_EQ(sink->lat_ns[3], 0u);
	bench_sink_reset(sink);
	EXPECT_EQ(sink->lat_ns[2], 0u);
	EXPECT_EQ(bench_sink_done(sink), 0u);
}

TEST(AbiQuery, NamesEveryFieldJavaDeclares)
{
	EXPECT_EQ(bench_cb_abi_query("sizeof(struct bench_job)"), (long)sizeof(bench_job));
	EXPECT_EQ(bench_cb_abi_query("offsetof(struct bench_job, busy)"),
		  (long)offsetof(bench_job, busy));
	EXPECT_EQ(bench_cb_abi_query("offsetof(struct bench_lane, done)"),
		  (long)offsetof(bench_lane, done));
	EXPECT_EQ(bench_cb_abi_query("no such thing"), -1);
	EXPECT_EQ(bench_cb_abi_query(nullptr), -1);
}

TEST(Latency, PercentilesAreNearestRank)
{
	bench_lat lat{};
	uint64_t v[1000];

	for (int i = 0; i < 1000; i++)
		v[i] = 1000 - i; // 1..1000, reversed
	bench_lat_add(&lat, v, 1000);
	EXPECT_EQ(bench_lat_percentile(&lat, 50), 500u);
	EXPECT_EQ(bench_lat_percentile(&lat, 99), 990u);
	EXPECT_EQ(bench_lat_percentile(&lat, 99.9), 999u);
	EXPECT_EQ(bench_lat_percentile(&lat, 100), 1000u);
	bench_lat_free(&lat);
	EXPECT_EQ(bench_lat_percentile(&lat, 50), 0u);
}

} // namespace
