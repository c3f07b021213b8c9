// Helpers shared by the unit tests: configs and signals in a few lines.
#ifndef DEMANDCENTER_TESTS_TESTING_H_
#define DEMANDCENTER_TESTS_TESTING_H_

#include <string>

#include "demandcenter/common/time.h"
#include "demandcenter/config/config.h"
#include "demandcenter/v1/signal.pb.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"

namespace demandcenter::testing {

// libprotobuf logs each invalid UTF-8 string it meets (tests feed it such
// input on purpose); silences it while in scope.
class QuietProtobufLogs {
 public:
  QuietProtobufLogs() : previous_(google::protobuf::SetLogHandler(nullptr)) {}
  ~QuietProtobufLogs() { google::protobuf::SetLogHandler(previous_); }

 private:
  google::protobuf::LogHandler* const previous_;
};

// 2026-03-02T09:00:00Z.
inline constexpr int64_t kT0 = 1772442000000;

// Parses a config or fails the test with the first error.
inline config::Config MustParse(const std::string& yaml) {
  config::ParseResult r = config::ParseConfig(yaml, "test.yaml");
  EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : r.errors[0].ToString());
  return r.config ? *r.config : config::Config{};
}

// The decision part of a config (for tests of the core's modules).
inline config::DecisionConfig MustParseDecision(const std::string& yaml) { return MustParse(yaml).decision; }

inline config::Config DefaultConfig() {
  config::ParseResult r = config::LoadConfig("deploy/config/demandcenter.yaml");
  EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : r.errors[0].ToString());
  return r.config ? *r.config : config::Config{};
}

// A signal of `type` for `account` (and optionally a contact) at kT0 + offset.
inline v1::Signal MakeSignal(const std::string& event_id, const std::string& type,
                             const std::string& account, int64_t offset_ms,
                             const std::string& contact = "") {
  v1::Signal s;
  s.set_event_id(event_id);
  s.set_type(type);
  s.set_account_id(account);
  s.set_contact_id(contact);
  *s.mutable_occurred_at() = FromMillis(kT0 + offset_ms);
  return s;
}

}  // namespace demandcenter::testing

#endif  // DEMANDCENTER_TESTS_TESTING_H_
