#include "demandcenter/simulate/simulate.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "demandcenter/common/strings.h"
#include "demandcenter/generate/generator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "../testing.h"

namespace demandcenter::simulate {
namespace {

using ::testing::HasSubstr;

class SimulateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() / ("dc-simulate-" + std::to_string(::getpid()) + ".jsonl")).string();
    generate::GeneratorOptions g;
    g.accounts = 200;
    g.signals = 4000;
    g.seed = 11;
    std::ofstream out(path_);
    ASSERT_TRUE(generate::WriteStream(g, out, nullptr).ok());
  }
  void TearDown() override { std::filesystem::remove(path_); }

  static const v1::SimulatedCount* Row(const google::protobuf::RepeatedPtrField<v1::SimulatedCount>& rows,
                                       const std::string& key) {
    auto it = std::find_if(rows.begin(), rows.end(), [&](const auto& row) { return row.key() == key; });
    return it == rows.end() ? nullptr : &*it;
  }

  std::string path_;
};

TEST_F(SimulateTest, TheSameConfigOnBothSidesDiffersNowhere) {
  config::Config config = testing::DefaultConfig();
  auto report = Simulate(config, config, path_, {});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->lines(), 4000);
  EXPECT_GT(report->applied().baseline(), 3000);
  EXPECT_EQ(report->differences(), 0);
  EXPECT_GT(report->actions_size(), 3);
  EXPECT_GT(report->people_size(), 3);
  // The funnel lists every stage in the journey's order and counts every
  // account.
  ASSERT_EQ(report->funnel_size(), static_cast<int>(config.decision.journey.stages.size()));
  EXPECT_EQ(report->funnel(0).key(), config.decision.journey.stages.front());
  int64_t accounts = 0;
  for (const auto& row : report->funnel()) accounts += row.baseline();
  EXPECT_GE(accounts, 150);
  EXPECT_LE(accounts, 200);
  EXPECT_THAT(FormatTable(*report), HasSubstr("0 rows differ: the candidate decides as the baseline does"));
}

TEST_F(SimulateTest, ARemovedRuleShowsWhereItsActionsAndRoutingsWent) {
  config::Config baseline = testing::DefaultConfig();
  config::Config candidate = baseline;
  auto& rules = candidate.decision.rules;
  auto rule = std::find_if(rules.begin(), rules.end(), [](const auto& r) { return r.id == "demo_request_sdr"; });
  ASSERT_NE(rule, rules.end());
  rules.erase(rule);
  SimulateOptions options;
  options.baseline_name = "current.yaml";
  options.candidate_name = "new.yaml";
  auto report = Simulate(baseline, candidate, path_, options);
  ASSERT_TRUE(report.ok()) << report.status();
  const v1::SimulatedCount* demo = nullptr;
  for (const auto& row : report->actions()) {
    if (row.key().rfind("demo_request_sdr / ", 0) == 0) demo = &row;
  }
  ASSERT_NE(demo, nullptr);
  EXPECT_GT(demo->baseline(), 0);
  EXPECT_EQ(demo->candidate(), 0);
  EXPECT_GT(report->differences(), 1);
  const v1::SimulatedCount* nba = Row(report->outputs(), "nba");
  ASSERT_NE(nba, nullptr);
  EXPECT_LT(nba->candidate(), nba->baseline());
  std::string table = FormatTable(*report);
  EXPECT_THAT(table, HasSubstr("baseline:  current.yaml"));
  EXPECT_THAT(table, HasSubstr("candidate: new.yaml"));
  EXPECT_THAT(table, HasSubstr(demo->key()));
  EXPECT_THAT(table, HasSubstr(StrCat("-", demo->baseline(), " (-100.0%)")));
}

TEST_F(SimulateTest, AnInputThatCannotBeReadIsNotFound) {
  config::Config config = testing::DefaultConfig();
  auto report = Simulate(config, config, path_ + ".missing", {});
  EXPECT_EQ(report.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(report.status().message()), HasSubstr("cannot read input file"));
}

}  // namespace
}  // namespace demandcenter::simulate
