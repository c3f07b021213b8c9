// The pipeline: one record in, outputs or one reject out, for every caller.
#include "demandcenter/pipeline/pipeline.h"

#include "demandcenter/pipeline/output_encoder.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "../testing.h"

namespace demandcenter::pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using testing::kT0;

constexpr char kConfig[] = R"(
journey:
  stages: [unaware, aware]
  transitions: [{id: touch, from: [unaware], to: aware, when: {type: "web.*"}}]
scoring: {weights: {"web.*": 1}}
rules:
  - {id: hello, when: {type: web.demo_request}, action: say_hello, channel: EMAIL, priority: 10}
kafka:
  topics: {nba: my.actions, transitions: my.transitions}
  json_topics: [my.transitions]
)";

// `json` must outlive the record.
Record JsonRecord(std::string_view json, int32_t partition = 0) {
  Record r;
  r.value = json;
  r.key = "acct-1";
  r.topic = "signals.web";
  r.partition = partition;
  r.offset = 41;
  return r;
}

class PipelineTest : public ::testing::Test {
 protected:
  config::Config config_ = testing::MustParse(kConfig);
  state::InMemoryStateStore store_;
  Pipeline pipeline_{config_.decision, &store_, {{}, {4, Partitioner::kMurmur2}}};
  std::vector<outputs::Output> out_;
};

TEST_F(PipelineTest, AValidRecordIsAppliedAndItsOutputsAppended) {
  std::string json =
      R"({"event_id":"e1","type":"web.demo_request","account_id":"acct-1","occurred_at":"2026-03-02T09:00:00Z"})";
  Result r = pipeline_.Process(JsonRecord(json), &out_);
  EXPECT_EQ(r.outcome, Outcome::kApplied);
  ASSERT_NE(r.signal, nullptr);
  EXPECT_EQ(r.signal->event_id(), "e1");
  ASSERT_EQ(out_.size(), 2u);  // the transition and the action
  EXPECT_EQ(out_[0].kind, outputs::OutputKind::kTransition);
  EXPECT_EQ(out_[1].kind, outputs::OutputKind::kNextBestAction);
  EXPECT_EQ(store_.Find("acct-1")->partition(), 0);

  out_.clear();
  EXPECT_EQ(pipeline_.Process(JsonRecord(json), &out_).outcome, Outcome::kDuplicate);
  EXPECT_TRUE(out_.empty());
}

TEST_F(PipelineTest, UndecodableBytesAreRejectedWithTheDecodersCode) {
  Result r = pipeline_.Process(JsonRecord("{not json"), &out_);
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_EQ(r.reject.code, ingest::RejectCode::kBadJson);
  EXPECT_EQ(r.signal, nullptr);
  EXPECT_TRUE(out_.empty());
}

TEST_F(PipelineTest, ASignalWithNoKnownIdentityWaitsForItAndThenReachesItsAccount) {
  std::string json = R"({"event_id":"e1","type":"web.page_view","anonymous_id":"cookie-1",)"
                     R"("occurred_at":"2026-03-02T09:00:00Z"})";
  Result r = pipeline_.Process(JsonRecord(json), &out_);
  EXPECT_EQ(r.outcome, Outcome::kWaiting);
  ASSERT_NE(r.signal, nullptr);  // decoded: the caller may count its type
  EXPECT_TRUE(out_.empty());
  // Nothing moved: the partition's stream time is untouched.
  EXPECT_EQ(pipeline_.engine().StreamTime(0), 0);
  int32_t partition = 0;  // the record's
  EXPECT_EQ(pipeline_.Waiting(partition), 1);

  // A signal with an account and the cookie, on the same partition, links
  // it: the waiting view is applied to that account after it.
  v1::Signal link = testing::MakeSignal("e2", "web.form_submit", "acct-9", 3600 * 1000);
  link.set_anonymous_id("cookie-1");
  Result linked = pipeline_.ProcessSignal(link, partition, &out_);
  EXPECT_EQ(linked.outcome, Outcome::kApplied);
  EXPECT_EQ(linked.released.size(), 1u);
  EXPECT_EQ(pipeline_.Waiting(partition), 0);
  ASSERT_NE(store_.Find("acct-9"), nullptr);
  EXPECT_EQ(store_.Find("acct-9")->signals_applied(), 2);
}

TEST_F(PipelineTest, ASignalWithOnlyJunkIdentifiersIsRejectedAsUnresolved) {
  std::string json = R"({"event_id":"e1","type":"web.page_view","anonymous_id":"anonymous",)"
                     R"("occurred_at":"2026-03-02T09:00:00Z"})";
  Result r = pipeline_.Process(JsonRecord(json), &out_);
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_EQ(r.reject.code, ingest::RejectCode::kUnresolvedAccount);
  EXPECT_EQ(r.reject.message,
            "no account_id, and no contact, email or visitor id seen with an account on this partition");
  EXPECT_TRUE(out_.empty());
}

TEST_F(PipelineTest, ARecordWithoutAPartitionGoesWhereItsKeyMaps) {
  v1::Signal s = testing::MakeSignal("e1", "web.page_view", "acct-7", 0);
  std::string json = R"({"event_id":"e1","type":"web.page_view","account_id":"acct-7",)"
                     R"("occurred_at":"2026-03-02T09:00:00Z"})";
  ASSERT_EQ(pipeline_.Process(JsonRecord(json, kPartitionByKey), &out_).outcome, Outcome::kApplied);
  int32_t expected = PartitionOf(s, {4, Partitioner::kMurmur2});
  EXPECT_EQ(store_.Find("acct-7")->partition(), expected);
  EXPECT_EQ(pipeline_.engine().StreamTime(expected), kT0);
}

TEST(DeadLetterTest, CarriesTheBytesTheCodeTheMessageAndTheSource) {
  Record source = JsonRecord("{oops");
  OutRecord r = DeadLetter(source, {ingest::RejectCode::kBadJson, "invalid JSON at line 1"}, "signals.dlq");
  EXPECT_EQ(r.topic, "signals.dlq");
  EXPECT_EQ(r.key, "acct-1");
  EXPECT_EQ(r.value, "{oops");
  EXPECT_THAT(r.headers, ElementsAre(Pair("error.code", "BAD_JSON"), Pair("error.message", "invalid JSON at line 1"),
                                     Pair("source.topic", "signals.web"), Pair("source.partition", "0"),
                                     Pair("source.offset", "41")));
}

TEST_F(PipelineTest, TheEncoderUsesTheConfiguredTopicsAndFormats) {
  std::string json =
      R"({"event_id":"e1","type":"web.demo_request","account_id":"acct-1","occurred_at":"2026-03-02T09:00:00Z"})";
  ASSERT_EQ(pipeline_.Process(JsonRecord(json), &out_).outcome, Outcome::kApplied);
  OutputEncoder encoder(config_.runtime.kafka.topics, config_.runtime.kafka.json_topics);
  OutRecord transition = encoder.Encode(out_[0]);
  EXPECT_EQ(transition.topic, "my.transitions");
  EXPECT_EQ(transition.key, "acct-1");
  EXPECT_THAT(transition.value, HasSubstr(R"("to_stage":"aware")"));  // JSON for this topic
  OutRecord action = encoder.Encode(out_[1]);
  EXPECT_EQ(action.topic, "my.actions");
  v1::NextBestAction parsed;
  ASSERT_TRUE(parsed.ParseFromString(action.value));  // binary protobuf elsewhere
  EXPECT_EQ(parsed.action(), "say_hello");
  EXPECT_EQ(OutputEncoder::AllJson(config_.runtime.kafka.topics).Encode(out_[1]).value.front(), '{');
}


// A record stamped `record_ms` carrying `signal` (its bytes in *bytes).
Record StampedRecord(const v1::Signal& signal, int64_t record_ms, std::string* bytes) {
  *bytes = signal.SerializeAsString();
  Record r;
  r.value = *bytes;
  r.key = signal.account_id();
  r.topic = "signals.web";
  r.offset = 7;
  r.timestamp_ms = record_ms;
  return r;
}

TEST_F(PipelineTest, AnEventTimeFarAheadOfItsRecordIsRejectedAndMovesNoClock) {
  std::string bytes;
  v1::Signal first = testing::MakeSignal("e1", "web.page_view", "acct-1", 0);
  ASSERT_EQ(pipeline_.Process(StampedRecord(first, kT0, &bytes), &out_).outcome, Outcome::kApplied);
  int64_t before = pipeline_.engine().StreamTime(0);
  ASSERT_EQ(before, kT0);
  out_.clear();

  // One bad clock: 9999-12-31 for a made-up account, sent a minute later.
  v1::Signal bad = testing::MakeSignal("e2", "web.pricing_view", "acct-made-up", 0);
  bad.mutable_occurred_at()->set_seconds(253402214400);
  Result r = pipeline_.Process(StampedRecord(bad, kT0 + 60'000, &bytes), &out_);
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_EQ(r.reject.code, ingest::RejectCode::kEventTimeAhead);
  EXPECT_THAT(r.reject.message, HasSubstr("occurred_at 9999-12-31T00:00:00Z is "));
  EXPECT_THAT(r.reject.message,
              HasSubstr("after the record's own timestamp 2026-03-02T09:01:00Z; the limit is event_time.max_ahead (1h)"));
  EXPECT_EQ(pipeline_.engine().StreamTime(0), before);
  EXPECT_TRUE(out_.empty());  // no timer fired
  EXPECT_EQ(store_.Find("acct-made-up"), nullptr);

  // Within the bound, and with no record timestamp at all: believed.
  v1::Signal close = testing::MakeSignal("e3", "web.page_view", "acct-1", 59 * kMillisPerMinute);
  EXPECT_EQ(pipeline_.Process(StampedRecord(close, kT0, &bytes), &out_).outcome, Outcome::kApplied);
  v1::Signal unstamped = testing::MakeSignal("e4", "web.page_view", "acct-1", 3 * kMillisPerDay);
  EXPECT_EQ(pipeline_.Process(StampedRecord(unstamped, 0, &bytes), &out_).outcome, Outcome::kApplied);
}

TEST_F(PipelineTest, AnEventTimeFarBehindItsPartitionsStreamTimeIsRejected) {
  std::string bytes;
  v1::Signal now = testing::MakeSignal("e1", "web.page_view", "acct-1", 10 * kMillisPerDay);
  ASSERT_EQ(pipeline_.Process(StampedRecord(now, 0, &bytes), &out_).outcome, Outcome::kApplied);
  v1::Signal week_late = testing::MakeSignal("e2", "web.page_view", "acct-1", 3 * kMillisPerDay - 1);
  Result r = pipeline_.Process(StampedRecord(week_late, 0, &bytes), &out_);
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_EQ(r.reject.code, ingest::RejectCode::kEventTimeLate);
  EXPECT_THAT(r.reject.message, HasSubstr("before the partition's stream time 2026-03-12T09:00:00Z; the limit is "
                                          "event_time.max_late (7d)"));
  v1::Signal in_time = testing::MakeSignal("e3", "web.page_view", "acct-1", 3 * kMillisPerDay);
  EXPECT_EQ(pipeline_.Process(StampedRecord(in_time, 0, &bytes), &out_).outcome, Outcome::kApplied);
}

TEST_F(PipelineTest, AnErasureIsHonouredWhateverItsEventTime) {
  std::string bytes;
  v1::Signal form = testing::MakeSignal("e1", "web.form_submit", "acct-1", 10 * kMillisPerDay);
  form.set_email("ada@example.com");
  ASSERT_EQ(pipeline_.Process(StampedRecord(form, 0, &bytes), &out_).outcome, Outcome::kApplied);
  v1::Signal erase = testing::MakeSignal("e2", "privacy.erase", "", 0);
  erase.set_email("ada@example.com");
  EXPECT_EQ(pipeline_.Process(StampedRecord(erase, 0, &bytes), &out_).outcome, Outcome::kApplied);
  EXPECT_EQ(pipeline_.identity_counters().erased, 1);
}

TEST(PipelineErasureTest, AnErasureRemovesThePersonFromTheAccountsStateAndLaterOutputs) {
  // The default rules; two people at acct-1 engage; one asks to be erased,
  // by address only.
  config::Config config = testing::DefaultConfig();
  state::InMemoryStateStore store_;
  Pipeline pipeline_(config.decision, &store_);
  std::vector<outputs::Output> out_;
  auto json = [](const std::string& id, const std::string& type, const std::string& contact, const std::string& email,
                 int minutes, const std::string& extra) {
    return absl::StrCat("{\"event_id\":\"", id, "\",\"type\":\"", type, "\",\"account_id\":\"acct-1\",",
                        contact.empty() ? "" : absl::StrCat("\"contact_id\":\"", contact, "\","),
                        "\"email\":\"", email, "\",\"occurred_at\":\"2026-03-", 10 + minutes / 60 / 24, "T",
                        10 + minutes / 60 % 12, ":", minutes % 60 < 10 ? "0" : "", minutes % 60, ":00Z\"", extra, "}");
  };
  const std::string crm = ",\"crm_activity\":{\"account_name\":\"Acme\",\"contact_title\":\"CFO\"}";
  const std::string reply = ",\"email_engagement\":{\"campaign_id\":\"c1\"}";
  ASSERT_EQ(pipeline_.Process(JsonRecord(json("u1", "crm.contact_upsert", "ct-ada", "ada@acme.example", 0, crm)), &out_).outcome,
            Outcome::kApplied);
  ASSERT_EQ(pipeline_.Process(JsonRecord(json("u2", "crm.contact_upsert", "ct-bob", "bob@acme.example", 1, crm)), &out_).outcome,
            Outcome::kApplied);
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(pipeline_.Process(JsonRecord(json(absl::StrCat("r", i), "email.reply", "", "ada@acme.example", 2 + i, reply)),
                                &out_).outcome,
              Outcome::kApplied);
  }
  const v1::AccountState* before = store_.Find("acct-1");
  ASSERT_NE(before, nullptr);
  std::string state = before->SerializeAsString();
  ASSERT_NE(state.find("ada@acme.example"), std::string::npos) << "the test needs the person in the state first";
  ASSERT_NE(state.find("ct-ada"), std::string::npos);

  v1::Signal erase = testing::MakeSignal("erase-1", "privacy.erase", "", 0);
  erase.set_email("ada@acme.example");
  std::string bytes;
  EXPECT_EQ(pipeline_.Process(StampedRecord(erase, 0, &bytes), &out_).outcome, Outcome::kApplied);
  const v1::AccountState* after = store_.Find("acct-1");
  state = after->SerializeAsString();
  EXPECT_EQ(state.find("ada@acme.example"), std::string::npos);
  EXPECT_EQ(state.find("ct-ada"), std::string::npos) << "the contact id the address led to goes too";
  EXPECT_NE(state.find("ct-bob"), std::string::npos) << "the other person stays";
  ASSERT_EQ(after->contacts_size(), 1);

  // Later decisions about the account name nobody erased.
  out_.clear();
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(pipeline_.Process(JsonRecord(json(absl::StrCat("b", i), "email.reply", "", "bob@acme.example",
                                                 10 * 24 * 60 + i * 24 * 60, reply)),
                                &out_).outcome,
              Outcome::kApplied);
  }
  ASSERT_FALSE(out_.empty());
  for (const auto& o : out_) {
    std::string text = o.proto().DebugString();
    EXPECT_EQ(text.find("ada@acme.example"), std::string::npos) << text;
    EXPECT_EQ(text.find("ct-ada"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace demandcenter::pipeline
