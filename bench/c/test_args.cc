// SPDX-License-Identifier: MIT
//
// test_args.cc - bench_parse_args() and bench_parse_opts(), the one command-line
// parser of the C and C++ drivers (bench_util.h): what each kind of option
// stores, and one test per rejected argument with its exact message.
#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include "bench_util.h"

namespace {

// Every kind of option, into variables of the sizes the drivers use.
struct Vars {
	bool quiet = false;
	int rounds = 7;
	unsigned lanes = 0;
	unsigned long n = 0;
	uint64_t jobs = 0;
	double secs = 2;
	const char *input = nullptr;
	size_t sizes[3] = { 1400, 8000, 0 };
	int nr_sizes = 2;
	bool want[3] = { true, true, true };
};

const char *const kNames[3] = { "c-single", "c-padata", "tbb" };

struct Parse {
	int rc;
	std::string out, err;
};

Parse parse(Vars &v, std::vector<const char *> words)
{
	const bench_arg args[] = {
		BENCH_ARG_FLAG("--quiet", v.quiet),
		BENCH_ARG_UINT("--rounds", v.rounds, 1, 1000),
		BENCH_ARG_UINT("--lanes", v.lanes, 1, 64),
		BENCH_ARG_UINT("--n", v.n, 1, ULONG_MAX),
		BENCH_ARG_UINT("--jobs", v.jobs, 0, UINT64_MAX),
		BENCH_ARG_DOUBLE("--seconds", v.secs, 0, 3600),
		BENCH_ARG_STR("--input", v.input),
		BENCH_ARG_UINT_LIST("--sizes", v.sizes, v.nr_sizes, 16, 1 << 20),
		BENCH_ARG_NAMES("--contenders", v.want, kNames, 3),
	};
	std::vector<char *> argv{ const_cast<char *>("prog") };

	for (const char *w : words)
		argv.push_back(const_cast<char *>(w));
	testing::internal::CaptureStdout();
	testing::internal::CaptureStderr();
	int rc = bench_parse_args(static_cast<int>(argv.size()), argv.data(), "prog", args,
				  sizeof(args) / sizeof(args[0]), "usage: prog [options]\n");
	std::string out = testing::internal::GetCapturedStdout();
	std::string err = testing::internal::GetCapturedStderr();
	return { rc, out, err };
}

// The message of a rejected argument (and that it was rejected, silently on stdout).
std::string rejected(std::vector<const char *> words)
{
	Vars v;
	Parse p = parse(v, words);

	EXPECT_EQ(p.rc, -1);
	EXPECT_EQ(p.out, "");
	return p.err;
}

TEST(Args, NoArgumentsKeepTheDefaults)
{
	Vars v;
	Parse p = parse(v, {});

	EXPECT_EQ(p.rc, 0);
	EXPECT_EQ(p.err, "");
	EXPECT_FALSE(v.quiet);
	EXPECT_EQ(v.rounds, 7);
	EXPECT_EQ(v.nr_sizes, 2);
	EXPECT_TRUE(v.want[0] && v.want[1] && v.want[2]);
}

TEST(Args, StoresEveryKindOfOption)
{
	Vars v;
	Parse p = parse(v, { "--quiet", "--rounds", "1000", "--lanes", "64", "--n", "4294967296",
			     "--jobs", "18446744073709551615", "--seconds", "0.25", "--input", "f",
			     "--sizes", "16,1048576,9000", "--contenders", "tbb,c-single" });

	ASSERT_EQ(p.rc, 0) << p.err;
	EXPECT_TRUE(v.quiet);
	EXPECT_EQ(v.rounds, 1000);
	EXPECT_EQ(v.lanes, 64u);
	EXPECT_EQ(v.n, 4294967296ul);
	EXPECT_EQ(v.jobs, UINT64_MAX);
	EXPECT_EQ(v.secs, 0.25);
	EXPECT_STREQ(v.input, "f");
	ASSERT_EQ(v.nr_sizes, 3);
	EXPECT_EQ(v.sizes[0], 16u);
	EXPECT_EQ(v.sizes[1], 1048576u);
	EXPECT_EQ(v.sizes[2], 9000u);
	EXPECT_TRUE(v.want[0]);
	EXPECT_FALSE(v.want[1]); // a names list replaces the default set
	EXPECT_TRUE(v.want[2]);
}

TEST(Args, AListGivenTwiceKeepsTheLastOne)
{
	Vars v;
	Parse p = parse(v, { "--sizes", "100,200,300", "--sizes", "50", "--contenders", "tbb",
			     "--contenders", "c-padata" });

	ASSERT_EQ(p.rc, 0) << p.err;
	ASSERT_EQ(v.nr_sizes, 1);
	EXPECT_EQ(v.sizes[0], 50u);
	EXPECT_FALSE(v.want[0]);
	EXPECT_TRUE(v.want[1]);
	EXPECT_FALSE(v.want[2]);
}

TEST(Args, HelpPrintsTheUsageOnStdout)
{
	Vars v;
	Parse p = parse(v, { "--rounds", "3", "--help", "--bogus" });

	EXPECT_EQ(p.rc, 1);
	EXPECT_EQ(p.out, "usage: prog [options]\n");
	EXPECT_EQ(p.err, "");
	EXPECT_EQ(parse(v, { "-h" }).rc, 1);
}

TEST(Args, RejectsAnUnknownOption)
{
	EXPECT_EQ(rejected({ "--round", "3" }), "prog: unknown option --round (see --help)\n");
	EXPECT_EQ(rejected({ "rounds" }), "prog: unknown option rounds (see --help)\n");
}

TEST(Args, RejectsAnOptionWithoutItsValue)
{
	EXPECT_EQ(rejected({ "--quiet", "--rounds" }),
		  "prog: option --rounds needs a value (see --help)\n");
}

TEST(Args, RejectsAWholeNumberOutOfItsRange)
{
	EXPECT_EQ(rejected({ "--rounds", "0" }),
		  "prog: bad value '0' for --rounds: a whole number from 1 to 1000 (see --help)\n");
	EXPECT_EQ(rejected({ "--lanes", "65" }),
		  "prog: bad value '65' for --lanes: a whole number from 1 to 64 (see --help)\n");
	EXPECT_EQ(rejected({ "--jobs", "18446744073709551616" }),
		  "prog: bad value '18446744073709551616' for --jobs: a whole number from 0 to "
		  "18446744073709551615 (see --help)\n");
}

TEST(Args, RejectsWhatIsNotAWholeNumber)
{
	for (const char *bad : { "", "x", "12x", "-1", "+1", " 1", "2.5", "1e3" })
		EXPECT_EQ(rejected({ "--rounds", bad }),
			  std::string("prog: bad value '") + bad +
				  "' for --rounds: a whole number from 1 to 1000 (see --help)\n");
}

TEST(Args, RejectsANumberOutOfItsRangeOrNotANumber)
{
	for (const char *bad : { "-0.5", "3601", "", "1s", "nan", "inf" })
		EXPECT_EQ(rejected({ "--seconds", bad }),
			  std::string("prog: bad value '") + bad +
				  "' for --seconds: a number from 0 to 3600 (see --help)\n");
}

TEST(Args, RejectsABadNumberList)
{
	const std::string expect = "' for --sizes: 1 to 3 whole numbers from 16 to 1048576, comma "
				   "separated (see --help)\n";

	// an item out of range, not a number, empty (also leading or trailing), one too many
	for (const char *bad : { "1400,8", "1400,x", "1400,,8000", ",1400", "1400,", "", "16,17,18,19" })
		EXPECT_EQ(rejected({ "--sizes", bad }), std::string("prog: bad value '") + bad + expect);
}

TEST(Args, RejectsANameItDoesNotTake)
{
	const std::string expect = "' for --contenders: comma separated names out of "
				   "c-single,c-padata,tbb (see --help)\n";

	for (const char *bad : { "gzip", "tbb,gzip", "tbb,", "", "TBB" })
		EXPECT_EQ(rejected({ "--contenders", bad }), std::string("prog: bad value '") + bad + expect);
}

TEST(Opts, CommonDefaultsAndADriversOwnOption)
{
	unsigned threads = 3;
	const bench_arg ours[] = { BENCH_ARG_UINT("--threads", threads, 1, 4096) };
	const char *words[] = { "prog", "--threads", "8", "--w", "5,6", "--inflight", "0" };
	bench_opts o;

	testing::internal::CaptureStderr();
	int rc = bench_parse_opts(7, const_cast<char **>(words), &o, "prog", nullptr, ours, 1);
	std::string err = testing::internal::GetCapturedStderr();

	ASSERT_EQ(rc, 0) << err;
	EXPECT_EQ(threads, 8u);
	ASSERT_EQ(o.nr_ws, 2);
	EXPECT_EQ(o.ws[0], 5u);
	EXPECT_EQ(o.ws[1], 6u);
	EXPECT_EQ(o.jobs, 0u);
	EXPECT_EQ(o.seconds, 1.0);
	EXPECT_EQ(o.min_reps, 5);
	EXPECT_EQ(o.warmup_reps, 2);
	EXPECT_EQ(o.lat_every, 16u);
	EXPECT_EQ(o.inflight, 0u);
	EXPECT_EQ(o.contender, nullptr);
	EXPECT_FALSE(o.quiet);
}

TEST(Opts, WithoutItsOwnOptionsADriverRejectsThem)
{
	const char *words[] = { "prog", "--threads", "8" };
	bench_opts o;

	testing::internal::CaptureStderr();
	int rc = bench_parse_opts(3, const_cast<char **>(words), &o, "prog", nullptr, nullptr, 0);
	std::string err = testing::internal::GetCapturedStderr();

	EXPECT_EQ(rc, -1);
	EXPECT_EQ(err, "prog: unknown option --threads (see --help)\n");
}

TEST(Opts, HelpListsTheCommonOptionsThenTheDriversOwn)
{
	const char *words[] = { "prog", "--help" };
	bench_opts o;

	testing::internal::CaptureStdout();
	int rc = bench_parse_opts(2, const_cast<char **>(words), &o, "prog", "  --threads N  mine\n",
				  nullptr, 0);
	std::string out = testing::internal::GetCapturedStdout();

	EXPECT_EQ(rc, 1);
	EXPECT_EQ(out.rfind("usage: prog [options]\n  --w LIST", 0), 0u) << out;
	EXPECT_NE(out.find("  --help           this text\n  --threads N  mine\n"), std::string::npos)
		<< out;
}

} // namespace
