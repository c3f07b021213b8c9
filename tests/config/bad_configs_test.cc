// Pins the parser's error messages and locations: every
// tests/config/bad_configs/NAME.yaml is a config with mistakes (its opening
// comment says which), and NAME.expected lists the errors it must give, one
// "NAME.yaml:line:column: message" per line, in order — exactly what
// `demandcenter validate --config NAME.yaml` prints, without the summary
// line. To add a case, write NAME.yaml and, from tests/config/bad_configs,
//   ../../../build/demandcenter validate --config NAME.yaml 2>&1 | head -n -1 > NAME.expected
// then read NAME.expected: it is what a rule author will see.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "demandcenter/config/config.h"
#include "gtest/gtest.h"

namespace demandcenter::config {
namespace {

const std::filesystem::path kDir = DC_BAD_CONFIGS_DIR;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The NAMEs of bad_configs/NAME.yaml, sorted.
std::vector<std::string> BadConfigNames() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kDir)) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class BadConfigTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BadConfigTest, ReportsTheExpectedErrors) {
  const std::string name = GetParam();
  const std::filesystem::path expected_path = kDir / (name + ".expected");
  ASSERT_TRUE(std::filesystem::exists(expected_path)) << expected_path << " is missing";
  std::string expected = ReadFile(expected_path);
  ASSERT_FALSE(expected.empty()) << expected_path << " lists no error";

  ParseResult result = ParseConfig(ReadFile(kDir / (name + ".yaml")), name + ".yaml");
  std::string actual;
  for (const ConfigError& e : result.errors) actual += e.ToString() + "\n";
  EXPECT_EQ(actual, expected);
  EXPECT_FALSE(result.config.has_value());
}

INSTANTIATE_TEST_SUITE_P(BadConfigs, BadConfigTest, ::testing::ValuesIn(BadConfigNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string test_name = info.param;
                           for (char& c : test_name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return test_name;
                         });

TEST(BadConfigsTest, EveryExpectedFileHasItsConfig) {
  std::vector<std::string> names = BadConfigNames();
  EXPECT_GE(names.size(), 20u) << "bad configs not found in " << kDir;
  for (const auto& entry : std::filesystem::directory_iterator(kDir)) {
    if (entry.path().extension() != ".expected") continue;
    EXPECT_TRUE(std::binary_search(names.begin(), names.end(), entry.path().stem().string()))
        << entry.path() << " has no .yaml";
  }
}

}  // namespace
}  // namespace demandcenter::config
