#include "demandcenter/state/rocksdb_store.h"

#include <filesystem>

#include "gtest/gtest.h"

namespace demandcenter::state {
namespace {

class RocksDbStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("dc-store-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<RocksDbStateStore> Open() {
    auto store = RocksDbStateStore::Open(dir_, 10);
    EXPECT_TRUE(store.ok()) << store.status();
    return std::move(*store);
  }

  static v1::AccountState Account(const std::string& id, const std::string& stage) {
    v1::AccountState a;
    a.set_account_id(id);
    a.set_stage(stage);
    return a;
  }

  std::string dir_;
};

TEST_F(RocksDbStoreTest, CommittedStateAndCheckpointSurviveReopening) {
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

TEST_F(RocksDbStoreTest, DiscardForgetsUncommittedChanges) {
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

TEST_F(RocksDbStoreTest, RestoreAfterAnotherOwnerReplacesCachedState) {
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

TEST_F(RocksDbStoreTest, CacheIsBoundedAfterCommit) {
  auto store = Open();
  for (int i = 0; i < 50; ++i) store->Insert(Account("acct-" + std::to_string(i), "aware"));
  ASSERT_TRUE(store->Commit(store->PendingChanges(0), Checkpoint{}).ok());
  EXPECT_LE(store->cached_accounts(), 10u);
  for (int i = 0; i < 50; ++i) ASSERT_NE(store->Find("acct-" + std::to_string(i)), nullptr) << i;
}

}  // namespace
}  // namespace demandcenter::state
