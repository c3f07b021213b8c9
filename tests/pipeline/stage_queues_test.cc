#include "demandcenter/pipeline/stage_queues.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace demandcenter::pipeline {
namespace {

v1::StageRecord Input(int32_t producer, int64_t order_ms, const std::string& event_id) {
  v1::StageRecord r;
  r.set_producer(producer);
  r.set_order_ms(order_ms);
  r.mutable_identity()->mutable_signal()->mutable_signal()->set_event_id(event_id);
  return r;
}

v1::StageRecord Mark(int32_t producer, int64_t order_ms) {
  v1::StageRecord r;
  r.set_producer(producer);
  r.set_order_ms(order_ms);
  r.set_watermark(true);
  return r;
}

// Three producers' records, each producer's in its own order, interleaved
// at random: the identity task takes them in one order whatever the
// interleaving, and only once every producer is past them.
TEST(IdentityQueueTest, TakesInputsInAnOrderTheDataAloneSets) {
  std::vector<std::vector<v1::StageRecord>> by_producer = {
      {Input(0, 10, "a"), Input(0, 20, "d"), Input(0, 20, "b"), Mark(0, kAllRead)},
      {Input(1, 5, "x"), Input(1, 20, "c"), Mark(1, kAllRead)},
      {Input(2, 30, "e"), Mark(2, kAllRead)}};
  std::vector<std::string> first;
  std::mt19937 random(7);
  for (int round = 0; round < 20; ++round) {
    std::vector<int> picks;
    for (size_t p = 0; p < by_producer.size(); ++p) picks.insert(picks.end(), by_producer[p].size(), static_cast<int>(p));
    std::shuffle(picks.begin(), picks.end(), random);
    IdentityQueue queue(3);
    std::vector<size_t> next(3, 0);
    std::vector<std::string> order;
    for (int p : picks) {
      queue.Push(by_producer[p][next[p]++]);
      while (auto r = queue.Pop()) order.push_back(r->record.identity().signal().signal().event_id());
    }
    EXPECT_EQ(queue.buffered(), 0u);
    if (round == 0) first = order;
    EXPECT_EQ(order, first);
  }
  EXPECT_EQ(first, (std::vector<std::string>{"x", "a", "b", "c", "d", "e"}));
}

TEST(IdentityQueueTest, WaitsForEveryProducer) {
  IdentityQueue queue(2);
  queue.Push(Input(0, 10, "a"));
  EXPECT_FALSE(queue.Pop());  // producer 1 has said nothing
  queue.Push(Mark(1, 10));
  EXPECT_FALSE(queue.Pop());  // it may still send something at 10
  queue.Push(Mark(1, 11));
  EXPECT_FALSE(queue.Pop());  // producer 0 may still send another at 10
  queue.Push(Mark(0, 12));
  ASSERT_TRUE(queue.Pop());
  EXPECT_EQ(queue.Watermark(), 11);
}

std::unique_ptr<PendingRecord> Own(int64_t offset) {
  auto item = std::make_unique<PendingRecord>();
  item->record.offset = offset;
  return item;
}

v1::StageRecord Resolved(int64_t order_ms) {
  v1::StageRecord r;
  r.set_order_ms(order_ms);
  r.mutable_resolved()->set_account_id("acct-1");
  return r;
}

TEST(AccountQueueTest, OwnSignalsFirstAtEqualTimesAndNoneBeforeTheIdentityTaskIsPastThem) {
  AccountQueue queue;
  queue.PushOwn(Own(1), 100);
  EXPECT_EQ(queue.Peek(), AccountQueue::Next::kWait);  // the identity task could still send something earlier
  queue.PushResolved(Mark(0, 100));
  EXPECT_EQ(queue.Peek(), AccountQueue::Next::kOwn);
  queue.PushResolved(Resolved(100));
  queue.PushResolved(Resolved(150));
  EXPECT_EQ(queue.Peek(), AccountQueue::Next::kOwn);
  EXPECT_EQ(queue.PopOwn()->record.offset, 1);
  queue.SetOwnMark(100);
  // Resolved at 100: the task could still split another own signal at 100.
  EXPECT_EQ(queue.Peek(), AccountQueue::Next::kWait);
  queue.SetOwnMark(101);
  EXPECT_EQ(queue.Peek(), AccountQueue::Next::kResolved);
  EXPECT_EQ(queue.PopResolved().record.order_ms(), 100);
  queue.PushOwn(Own(2), 120);
  EXPECT_EQ(queue.Peek(), AccountQueue::Next::kOwn);  // the resolved one at 150 is later
  queue.PopOwn();
  queue.SetOwnMark(kAllRead);
  EXPECT_EQ(queue.Peek(), AccountQueue::Next::kResolved);
}

}  // namespace
}  // namespace demandcenter::pipeline
