// A KvStore in a sorted map, standing in for RocksDB in the tests of the
// partition store and the runner; reads and writes can be made to fail.
#ifndef DEMANDCENTER_TESTS_SUPPORT_MEMORY_KV_STORE_H_
#define DEMANDCENTER_TESTS_SUPPORT_MEMORY_KV_STORE_H_

#include <functional>
#include <limits>
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
  // Makes the next `times` writes fail with `error` (a full disk), or every
  // one until cleared with OkStatus(); Recover fails alike meanwhile.
  void FailWrites(absl::Status error, int times = std::numeric_limits<int>::max()) {
    write_error_ = std::move(error);
    write_failures_left_ = write_error_.ok() ? 0 : times;
  }
  absl::Status Recover() override {
    ++recoveries_;
    return write_failures_left_ > 0 ? write_error_ : absl::OkStatus();
  }
  int recoveries() const { return recoveries_; }

 private:
  std::map<std::string, std::string, std::less<>> data_;
  uint64_t bytes_ = 0;
  absl::Status read_error_;
  absl::Status write_error_;
  int write_failures_left_ = 0;
  int recoveries_ = 0;
};

}  // namespace demandcenter::testing

#endif  // DEMANDCENTER_TESTS_SUPPORT_MEMORY_KV_STORE_H_
