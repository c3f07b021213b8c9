// A KvStore in a sorted map, standing in for RocksDB in the tests of the
// partition store and the runner; reads can be made to fail.
#ifndef DEMANDCENTER_TESTS_SUPPORT_MEMORY_KV_STORE_H_
#define DEMANDCENTER_TESTS_SUPPORT_MEMORY_KV_STORE_H_

#include <functional>
#include <map>
#include <string>

#include "demandcenter/state/kv_store.h"

namespace demandcenter::testing {

// Everything in a sorted map. Survives as long as the object: tests keep one
// per partition to model a local store that outlives an engine process.
class MemoryKvStore : public state::KvStore {
 public:
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const override;
  absl::Status Write(const std::vector<state::KvWrite>& batch) override;
  void ForEach(std::string_view prefix,
               const std::function<void(std::string_view key, std::string_view value)>& visit) const override;
  uint64_t ApproximateBytes() const override { return bytes_; }
  uint64_t ApproximateKeys() const override { return data_.size(); }

  // Makes the next reads fail with `error` until cleared with OkStatus()
  // (for tests of read-error handling).
  void FailReads(absl::Status error) { read_error_ = std::move(error); }

 private:
  std::map<std::string, std::string, std::less<>> data_;
  uint64_t bytes_ = 0;
  absl::Status read_error_;
};

}  // namespace demandcenter::testing

#endif  // DEMANDCENTER_TESTS_SUPPORT_MEMORY_KV_STORE_H_
