// A key-value store under a partition's state: RocksDB on disk for `run`
// (state/rocksdb_kv.h), a sorted map in memory in the tests
// (tests/support/memory_kv_store.h). The PartitionStore's write-back cache
// sits on top (state/partition_store.h).
#ifndef DEMANDCENTER_STATE_KV_STORE_H_
#define DEMANDCENTER_STATE_KV_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace demandcenter::state {

// One write of a batch; an empty value deletes the key. The views must stay
// valid until Write returns.
struct KvWrite {
  std::string_view key;
  std::string_view value;
};

// Not thread safe: owned by one partition's task.
class KvStore {
 public:
  virtual ~KvStore() = default;

  // The value of `key`, nullopt when it has none. Read errors come back as
  // Unavailable (I/O), DataLoss (corruption) or Internal.
  virtual absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const = 0;

  // Applies every write of `batch` atomically: all or none.
  virtual absl::Status Write(const std::vector<KvWrite>& batch) = 0;

  // Visits the keys that start with `prefix`, in key order.
  virtual void ForEach(std::string_view prefix,
                       const std::function<void(std::string_view key, std::string_view value)>& visit) const = 0;

  // Makes the store writable again after a write failed for lack of space
  // or an I/O error (RocksDB refuses every write after one until it is
  // resumed). The next write says whether the cause is gone.
  virtual absl::Status Recover() { return absl::OkStatus(); }

  // Approximate bytes held and number of keys (for metrics).
  virtual uint64_t ApproximateBytes() const = 0;
  virtual uint64_t ApproximateKeys() const = 0;
};

}  // namespace demandcenter::state

#endif  // DEMANDCENTER_STATE_KV_STORE_H_
