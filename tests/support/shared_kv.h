// A KvStore over one that the test keeps: a "disk" that outlives the
// PartitionStore (and the runner) using it, as a local disk outlives a
// crashed process.
#ifndef DEMANDCENTER_TESTS_SUPPORT_SHARED_KV_H_
#define DEMANDCENTER_TESTS_SUPPORT_SHARED_KV_H_

#include "demandcenter/state/kv_store.h"

namespace demandcenter::testing {

class SharedKv : public state::KvStore {
 public:
  // `disk` must outlive this object.
  explicit SharedKv(state::KvStore* disk) : disk_(disk) {}
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const override { return disk_->Get(key); }
  absl::Status Write(const std::vector<state::KvWrite>& batch) override { return disk_->Write(batch); }
  void ForEach(std::string_view prefix,
               const std::function<void(std::string_view, std::string_view)>& visit) const override {
    disk_->ForEach(prefix, visit);
  }
  absl::Status Recover() override { return disk_->Recover(); }
  uint64_t ApproximateBytes() const override { return disk_->ApproximateBytes(); }
  uint64_t ApproximateKeys() const override { return disk_->ApproximateKeys(); }

 private:
  state::KvStore* disk_;
};

}  // namespace demandcenter::testing

#endif  // DEMANDCENTER_TESTS_SUPPORT_SHARED_KV_H_
