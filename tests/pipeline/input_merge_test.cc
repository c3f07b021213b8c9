// InputMerge: a task's inputs in event-time order, ties in topic order,
// and a wait whenever an empty input might still hold an earlier record.
#include "demandcenter/pipeline/input_merge.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace demandcenter::pipeline {
namespace {

// Pushes a decoded record with event time `t` (an undecodable one when
// t < 0) on `topic`.
void Push(InputMerge& merge, size_t topic, int64_t t, const std::string& id) {
  auto item = merge.Take();
  item->record.offset = t;
  item->signal.set_event_id(id);
  if (t < 0) {
    item->reject = {ingest::RejectCode::kBadJson, "not JSON"};
  } else {
    item->event_time_ms = t;
  }
  merge.Push(topic, std::move(item));
}

// Takes records while the merge lets them go; empty inputs may be passed
// when `pass_empty`.
std::vector<std::string> Drain(InputMerge& merge, bool pass_empty) {
  std::vector<std::string> ids;
  while (auto topic = merge.Next([&](size_t) { return pass_empty; })) {
    auto item = merge.Pop(*topic);
    ids.push_back(item->signal.event_id());
    merge.Release(std::move(item));
  }
  return ids;
}

TEST(InputMergeTest, TakesTheSmallestEventTimeTiesInTopicOrder) {
  InputMerge merge(3);
  Push(merge, 0, 30, "web-30");
  Push(merge, 0, 10, "web-10");  // later in its partition: stays behind web-30
  Push(merge, 1, 20, "email-20");
  Push(merge, 1, 50, "email-50");
  Push(merge, 2, 20, "crm-20");
  Push(merge, 2, 40, "crm-40");
  EXPECT_EQ(Drain(merge, /*pass_empty=*/false),
            (std::vector<std::string>{"email-20", "crm-20", "web-30", "web-10"}));
  // web is empty now and may still hold something earlier than crm-40: wait.
  EXPECT_EQ(merge.buffered(), 2u);
  EXPECT_EQ(Drain(merge, /*pass_empty=*/true), (std::vector<std::string>{"crm-40", "email-50"}));
  EXPECT_EQ(merge.buffered(), 0u);
}

TEST(InputMergeTest, WaitsForAnEmptyInputItMayNotPass) {
  InputMerge merge(2);
  Push(merge, 0, 5, "web-5");
  EXPECT_FALSE(merge.Next([](size_t) { return false; }).has_value());
  std::vector<size_t> asked;
  auto next = merge.Next([&](size_t t) {
    asked.push_back(t);
    return true;
  });
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, 0u);
  EXPECT_EQ(asked, std::vector<size_t>{1});  // only the empty input is asked about
}

TEST(InputMergeTest, AnUndecodableHeadGoesAtOnceAndKeepsItsTopicsOrder) {
  InputMerge merge(2);
  Push(merge, 1, -1, "garbage");
  Push(merge, 1, 7, "email-7");
  // Topic 0 is empty and may not be passed: the undecodable record goes
  // (it changes no state), email-7 waits.
  EXPECT_EQ(Drain(merge, /*pass_empty=*/false), std::vector<std::string>{"garbage"});
  EXPECT_EQ(merge.buffered(), 1u);
}

TEST(InputMergeTest, ClearDropsEverythingAndRecyclesItems) {
  InputMerge merge(2);
  Push(merge, 0, 1, "a");
  Push(merge, 1, 2, "b");
  merge.Clear();
  EXPECT_EQ(merge.buffered(), 0u);
  EXPECT_TRUE(merge.empty(0) && merge.empty(1));
  auto item = merge.Take();
  EXPECT_TRUE(item->signal.event_id().empty());
  EXPECT_TRUE(item->reject.ok());
}

TEST(SignalTopicsTest, PlacesTypesByPrefixAndTheRestOnTheFirstTopic) {
  config::KafkaTopics topics;
  SignalTopics defaults(topics);
  EXPECT_EQ(defaults.size(), 3u);
  EXPECT_EQ(defaults.name(defaults.IndexOfType("web.pricing_view")), "signals.web");
  EXPECT_EQ(defaults.name(defaults.IndexOfType("email.click")), "signals.email");
  EXPECT_EQ(defaults.name(defaults.IndexOfType("crm.contact_upsert")), "signals.crm");
  EXPECT_EQ(defaults.name(defaults.IndexOfType("product.usage")), "signals.web");
  EXPECT_EQ(defaults.name(defaults.IndexOfType("webinar")), "signals.web");
  EXPECT_EQ(defaults.IndexOf("signals.crm"), 2u);
  EXPECT_FALSE(defaults.IndexOf("signals.dlq").has_value());

  // One signal topic: the default map's other topics are not signal topics.
  topics.signals = {"everything"};
  SignalTopics one(topics);
  EXPECT_EQ(one.IndexOfType("crm.deal_won"), 0u);
}

}  // namespace
}  // namespace demandcenter::pipeline
