// The partition store's write-back cache and checkpoint, on both backends:
// RocksDB (what `run` uses) and the in-memory KvStore (what the runner's
// tests use). Both must behave the same.
#include "demandcenter/state/partition_store.h"

#include <cstdio>
#include <filesystem>
#include <future>
#include <thread>

#include "absl/strings/str_cat.h"
#include "demandcenter/state/rocksdb_kv.h"
#include "gtest/gtest.h"
#include "support/memory_kv_store.h"
#include "support/shared_kv.h"

namespace demandcenter::state {
namespace {

class PartitionStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("dc-store-" + std::to_string(::getpid()) + "-" + GetParam() + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<PartitionStore> Open() {
    if (GetParam() == "memory") return std::make_unique<PartitionStore>(std::make_unique<testing::SharedKv>(&memory_), 10);
    auto store = OpenRocksDbPartitionStore(dir_, 10);
    EXPECT_TRUE(store.ok()) << store.status();
    return std::move(*store);
  }

 public:
  static v1::AccountState Account(const std::string& id, const std::string& stage) {
    v1::AccountState a;
    a.set_account_id(id);
    a.set_stage(stage);
    return a;
  }

  std::string dir_;
  testing::MemoryKvStore memory_;
};

TEST_P(PartitionStoreTest, CommittedStateAndCheckpointSurviveReopening) {
  {
    auto store = Open();
    store->Insert(Account("acct-1", "aware"));
    store->PutIdentity("0/c:ct-1", "acct-1");
    auto changes = store->PendingChanges(1234);
    ASSERT_EQ(changes.size(), 3u);  // identity, account, stream time
    Checkpoint cp;
    cp.changelog_next = 17;
    cp.input_next["signals.web"] = 42;
    cp.stream_time_ms = 1234;
    ASSERT_TRUE(store->Commit(changes, cp).ok());
    EXPECT_FALSE(store->HasPendingChanges());
  }
  auto store = Open();
  ASSERT_NE(store->Find("acct-1"), nullptr);
  EXPECT_EQ(store->Find("acct-1")->stage(), "aware");
  EXPECT_EQ(store->ResolveIdentity("0/c:ct-1"), "acct-1");
  Checkpoint cp = store->ReadCheckpoint();
  EXPECT_EQ(cp.changelog_next, 17);
  EXPECT_EQ(cp.input_next.at("signals.web"), 42);
  EXPECT_EQ(cp.stream_time_ms, 1234);
}

TEST_P(PartitionStoreTest, DiscardForgetsUncommittedChanges) {
  auto store = Open();
  store->Insert(Account("acct-1", "aware"));
  ASSERT_TRUE(store->Commit(store->PendingChanges(0), Checkpoint{}).ok());
  store->Find("acct-1")->set_stage("engaged");
  store->MarkDirty("acct-1");
  store->Insert(Account("acct-2", "aware"));
  store->Discard();
  EXPECT_EQ(store->Find("acct-1")->stage(), "aware");
  EXPECT_EQ(store->Find("acct-2"), nullptr);
}

TEST_P(PartitionStoreTest, RestoreAfterAnotherOwnerReplacesCachedState) {
  auto store = Open();
  store->Insert(Account("acct-1", "aware"));
  ASSERT_TRUE(store->Commit(store->PendingChanges(0), Checkpoint{}).ok());
  ASSERT_EQ(store->Find("acct-1")->stage(), "aware");  // cached now
  // Another instance moved the account on; its changelog records arrive.
  v1::AccountState newer = Account("acct-1", "evaluating");
  Checkpoint cp;
  cp.changelog_next = 5;
  store->ClearCache();
  ASSERT_TRUE(store->ApplyRestored({{AccountKey("acct-1"), newer.SerializeAsString()}}, cp).ok());
  EXPECT_EQ(store->Find("acct-1")->stage(), "evaluating");
  EXPECT_EQ(store->ReadCheckpoint().changelog_next, 5);
}

TEST_P(PartitionStoreTest, ADeletedIdentityIsGoneAndItsChangelogRecordIsEmpty) {
  {
    auto store = Open();
    store->PutIdentity("0/e:ada@acme.example", "acct-1");
    store->PutIdentity("0/c:ct-1", "acct-1");
    ASSERT_TRUE(store->Commit(store->PendingChanges(0), Checkpoint{}).ok());
    store->DeleteIdentity("0/e:ada@acme.example");
    EXPECT_EQ(store->ResolveIdentity("0/e:ada@acme.example"), std::nullopt) << "gone before the commit";
    std::vector<std::string> seen;
    store->ForEachIdentity("0/", [&](const std::string& key, const std::string&) { seen.push_back(key); });
    EXPECT_EQ(seen, std::vector<std::string>{"0/c:ct-1"});
    auto changes = store->PendingChanges(0);
    ASSERT_EQ(changes.size(), 2u);  // the deletion (sent as a tombstone), stream time
    EXPECT_EQ(changes[0].key, "i/0/e:ada@acme.example");
    EXPECT_EQ(changes[0].value, "");
    ASSERT_TRUE(store->Commit(changes, Checkpoint{}).ok());
  }
  auto store = Open();
  EXPECT_EQ(store->ResolveIdentity("0/e:ada@acme.example"), std::nullopt) << "gone from the store";
  EXPECT_EQ(store->ResolveIdentity("0/c:ct-1"), "acct-1");
  // A tombstone restored from the changelog deletes the key too.
  store->ClearCache();
  ASSERT_TRUE(store->ApplyRestored({{"i/0/c:ct-1", ""}}, Checkpoint{}).ok());
  EXPECT_EQ(store->ResolveIdentity("0/c:ct-1"), std::nullopt);
}

TEST_P(PartitionStoreTest, CacheIsBoundedAfterCommit) {
  auto store = Open();
  for (int i = 0; i < 50; ++i) store->Insert(Account("acct-" + std::to_string(i), "aware"));
  ASSERT_TRUE(store->Commit(store->PendingChanges(0), Checkpoint{}).ok());
  EXPECT_LE(store->cached_accounts(), 10u);
  for (int i = 0; i < 50; ++i) ASSERT_NE(store->Find("acct-" + std::to_string(i)), nullptr) << i;
}

TEST(MemoryKvStoreTest, ReadErrorsAbortTheTransactionUntilDiscarded) {
  auto kv = std::make_unique<testing::MemoryKvStore>();
  testing::MemoryKvStore* raw = kv.get();
  PartitionStore store(std::move(kv), 10);
  store.Insert(PartitionStoreTest::Account("acct-1", "aware"));
  ASSERT_TRUE(store.Commit(store.PendingChanges(0), Checkpoint{}).ok());
  store.ClearCache();
  raw->FailReads(absl::UnavailableError("disk gone"));
  EXPECT_EQ(store.Find("acct-1"), nullptr);
  EXPECT_EQ(store.error().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store.error().message(), "reading account acct-1: disk gone");
  EXPECT_EQ(store.Commit(store.PendingChanges(0), Checkpoint{}).code(), absl::StatusCode::kUnavailable);
  raw->FailReads(absl::OkStatus());
  store.Discard();
  EXPECT_TRUE(store.error().ok());
  ASSERT_NE(store.Find("acct-1"), nullptr);
  EXPECT_EQ(store.Find("acct-1")->stage(), "aware");
}

// An account changed, erased and started again in one transaction is one
// changelog record, its last state (before, each step listed it again).
TEST_P(PartitionStoreTest, AnAccountChangedErasedAndInsertedInOneTransactionIsWrittenOnce) {
  auto store = Open();
  store->Insert(Account("acct-1", "aware"));
  ASSERT_TRUE(store->Commit(store->PendingChanges(1), Checkpoint{}).ok());
  auto records_of = [&](const std::vector<ChangeRecord>& changes) {
    std::vector<std::string> values;
    for (const auto& c : changes) {
      if (c.key == AccountKey("acct-1")) values.push_back(c.value);
    }
    return values;
  };
  store->Find("acct-1")->set_stage("engaged");
  store->MarkDirty("acct-1");
  store->EraseAccount("acct-1");
  EXPECT_EQ(store->Find("acct-1"), nullptr);
  std::vector<std::string> erased = records_of(store->PendingChanges(2));
  ASSERT_EQ(erased.size(), 1u);
  EXPECT_EQ(erased[0], "") << "a tombstone";
  store->Insert(Account("acct-1", "unaware"));
  std::vector<std::string> again = records_of(store->PendingChanges(2));
  ASSERT_EQ(again.size(), 1u);
  v1::AccountState written;
  ASSERT_TRUE(written.ParseFromString(again[0]));
  EXPECT_EQ(written.stage(), "unaware");
  ASSERT_TRUE(store->Commit(store->PendingChanges(2), Checkpoint{}).ok());
  ASSERT_NE(store->Find("acct-1"), nullptr);
  EXPECT_EQ(store->Find("acct-1")->stage(), "unaware");
}

INSTANTIATE_TEST_SUITE_P(Backends, PartitionStoreTest, ::testing::Values("rocksdb", "memory"),
                         [](const auto& info) { return info.param; });

// state.cache_accounts is the instance's: its open stores share it equally,
// and a store left alone may take it all (before, each of 12 partitions
// kept the whole budget: 12 times the accounts configured).
TEST(PartitionStoreCacheTest, StoresShareTheInstancesBudget) {
  auto budget = std::make_shared<CacheBudget>(10);
  testing::MemoryKvStore disk_a, disk_b;
  auto a = std::make_unique<PartitionStore>(std::make_unique<testing::SharedKv>(&disk_a), budget);
  auto b = std::make_unique<PartitionStore>(std::make_unique<testing::SharedKv>(&disk_b), budget);
  auto fill = [](PartitionStore& store, const std::string& prefix) {
    for (int i = 0; i < 20; ++i) store.Insert(PartitionStoreTest::Account(prefix + std::to_string(i), "aware"));
    return store.Commit(store.PendingChanges(1), Checkpoint{});
  };
  ASSERT_TRUE(fill(*a, "a-").ok());
  ASSERT_TRUE(fill(*b, "b-").ok());
  EXPECT_EQ(a->cached_accounts(), 5u);
  EXPECT_EQ(b->cached_accounts(), 5u);
  b.reset();  // its partition revoked
  ASSERT_TRUE(fill(*a, "c-").ok());
  EXPECT_EQ(a->cached_accounts(), 10u);
  ASSERT_NE(a->Find("a-3"), nullptr) << "evicted accounts are read back from the store";
}

// RocksDB on a disk with less free space than the floor: opening is refused
// as Unavailable (which the runner retries) and says why (writes check the
// same floor: tests/integration, test 9); a second opener of the same
// directory is an error to report, not to wait out.
TEST(RocksDbKvTest, BelowTheFloorOpeningWaitsAndASecondOpenerIsAnError) {
  std::string dir = (std::filesystem::temp_directory_path() / ("dc-floor-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  constexpr uint64_t kMoreThanAnyDisk = uint64_t{1} << 60;
  auto refused = OpenRocksDb(dir, kMoreThanAnyDisk);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("less than state.min_free_mib"), std::string_view::npos)
      << refused.status();

  auto store = OpenRocksDb(dir, 1);  // any disk has a byte free
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->Write({{"k", "v"}}).ok());
  auto second = OpenRocksDb(dir, 1);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
  EXPECT_NE(second.status().message().find("another instance"), std::string_view::npos) << second.status();
  store->reset();
  std::filesystem::remove_all(dir);
}

// Stores that share a RocksDbMemory stay within its memtable budget
// together (without it each holds up to 3 memtables of 16 MiB), and their
// reads go through the one block cache.
TEST(RocksDbKvTest, StoresSharingMemoryStayWithinItsBudget) {
  std::string dir = (std::filesystem::temp_directory_path() / ("dc-memory-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  constexpr uint64_t kMiB = 1 << 20;
  auto memory = NewRocksDbMemory(2 * kMiB, 4 * kMiB);
  std::vector<std::unique_ptr<KvStore>> stores;
  for (int i = 0; i < 3; ++i) {
    auto store = OpenRocksDb(dir + "/p" + std::to_string(i), 0, memory);
    ASSERT_TRUE(store.ok()) << store.status();
    stores.push_back(std::move(*store));
  }
  std::string value(1000, 'v');
  uint64_t peak = 0;
  for (int batch = 0; batch < 120; ++batch) {  // 3 x 40 MB
    for (size_t s = 0; s < stores.size(); ++s) {
      std::vector<KvWrite> writes;
      for (int k = 0; k < 1000; ++k) writes.push_back({"acct-" + std::to_string(batch * 1000 + k), value});
      ASSERT_TRUE(stores[s]->Write(writes).ok());
    }
    peak = std::max(peak, UsageOf(*memory).memtables);
  }
  // Over the budget, writes wait for a flush: it is overshot by at most a
  // batch or two, never by the 3 x 48 MiB the stores would hold on their
  // own (without the stall, a machine too busy to flush went to 16 MiB).
  EXPECT_GT(peak, 0u);
  EXPECT_LT(peak, 8 * kMiB) << "memtables of all stores together";
  for (int k = 0; k < 2000; ++k) ASSERT_TRUE(stores[0]->Get("acct-" + std::to_string(k * 37)).ok());
  RocksDbMemoryUsage usage = UsageOf(*memory);
  EXPECT_GT(usage.block_cache, 0u);
  EXPECT_LE(usage.block_cache, 3 * kMiB);
  stores.clear();
  std::filesystem::remove_all(dir);
}

// Stores that share a budget and are written in turn by one thread: seven
// fill the budget between them, then the eighth writes. RocksDB's own stall
// waited here forever (it flushes a store only on that store's writes);
// the stores now flush one another, and the budget still holds.
TEST(RocksDbKvTest, StoresWrittenInTurnNeverWaitForEachOther) {
  std::string dir = (std::filesystem::temp_directory_path() / ("dc-turns-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  constexpr uint64_t kMiB = 1 << 20;
  auto memory = NewRocksDbMemory(kMiB, 4 * kMiB);
  std::vector<std::unique_ptr<KvStore>> stores;
  for (int i = 0; i < 8; ++i) {
    auto store = OpenRocksDb(dir + "/p" + std::to_string(i), 0, memory);
    ASSERT_TRUE(store.ok()) << store.status();
    stores.push_back(std::move(*store));
  }
  std::promise<uint64_t> peak_promise;
  std::future<uint64_t> peak = peak_promise.get_future();
  std::thread writer([&] {
    std::string value(1000, 'v');
    uint64_t most = 0;
    for (int round = 0; round < 3; ++round) {
      for (size_t s = 0; s < stores.size(); ++s) {
        std::vector<KvWrite> writes;
        int count = s + 1 < stores.size() ? 640 : 1;  // 7 x 0.6 MiB, then one record
        for (int k = 0; k < count; ++k) writes.push_back({absl::StrCat("acct-", round, "-", k), value});
        if (!stores[s]->Write(writes).ok()) break;
        most = std::max(most, UsageOf(*memory).memtables);
      }
    }
    peak_promise.set_value(most);
  });
  if (peak.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    std::fprintf(stderr, "FAILED: a store's write waited 60 s for the others' flushes\n");
    std::abort();  // the writer cannot be stopped: no clean way out of the test
  }
  writer.join();
  EXPECT_LT(peak.get(), 6 * kMiB) << "memtables of all stores together";
  stores.clear();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace demandcenter::state
