// The runner's edges, as interfaces: where records come from (Source), where
// they go, transactionally (Sink), where a partition's state is restored
// from (Changelog), the team directory (Directory) and the partition stores
// (StoreFactory). `run` plugs in the Kafka adapters (src/kafka); tests plug
// in memory ones and a hand-driven clock, with no Kafka at all.
//
// Errors are absl::Status values. For the calls a transaction depends on
// (Sink::Flush, Commit, Abort, Reset, Source::Rewind) the code says what the
// runner does next:
//   kUnavailable         transient: wait (back-off on the Clock) and retry
//                        the same call;
//   kAborted             the transaction cannot commit: abort it and rewind
//                        to the last commit;
//   kFailedPrecondition  the producer is fenced or failed fatally: Reset it
//                        and rewind;
//   anything else        the engine stops with that error.
#ifndef DEMANDCENTER_RUNNER_SEAMS_H_
#define DEMANDCENTER_RUNNER_SEAMS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "demandcenter/pipeline/records.h"
#include "demandcenter/state/partition_store.h"
#include "demandcenter/v1/routing.pb.h"

namespace demandcenter::runner {

// Input positions: (topic, partition) -> next offset to read.
using Offsets = std::map<std::pair<std::string, int32_t>, int64_t>;

// The signal topics' records for the partitions this instance owns. Every
// signal topic has the same partitions; partition p of each belongs to task p.
class Source {
 public:
  // Told about assignment changes, from inside Poll.
  class Listener {
   public:
    virtual ~Listener() = default;
    // These partition numbers are now this instance's; after the call the
    // source reads them from the group's committed offsets.
    virtual void OnAssigned(const std::vector<int32_t>& partitions) = 0;
    // The assignment is going away. `lost`: another member may own it
    // already (nothing more may be committed for it).
    virtual void OnRevoked(bool lost) = 0;
  };

  virtual ~Source() = default;
  virtual void SetListener(Listener* listener) = 0;
  // The next record, waiting at most `timeout_ms`; nullopt when none came.
  // The record's views stay valid until the next Poll.
  virtual std::optional<pipeline::Record> Poll(int timeout_ms) = 0;
  // True when every record the broker holds for (topic, partition) has
  // been handed out; false while the source does not know (nothing fetched
  // yet). A task waits for an empty input that is not caught up.
  virtual bool CaughtUp(const std::string& topic, int32_t partition) = 0;
  // Stops handing out the records of a signal topic's partition (paused)
  // or goes on (not paused), from the first record not handed out yet;
  // records fetched meanwhile are kept or fetched again, never lost. A new
  // assignment starts unpaused. False: the client refused (asked again at
  // the next step).
  virtual bool Pause(const std::string& topic, int32_t partition, bool paused) = 0;
  // Moves every assigned partition back to the group's committed offset
  // (after an abort): the next records are the first uncommitted ones.
  virtual absl::Status Rewind() = 0;
  // Leaves the group.
  virtual void Close() = 0;
  // Records of the assigned partitions not handed out yet, as far as the
  // source knows without asking anyone (-1: unknown).
  virtual int64_t Lag() { return -1; }
  // How many partitions `topic` has (-1: unknown, or no such topic).
  virtual int32_t PartitionCount(const std::string& topic) = 0;
};

// A transactional producer: what is sent between Begin and Commit becomes
// visible to read_committed readers together with the consumed offsets, or
// not at all.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual absl::Status Begin() = 0;
  // Queues a record in the open transaction. A failure is remembered and
  // reported by Flush.
  virtual void Send(const pipeline::OutRecord& record) = 0;
  // Serves delivery reports without waiting.
  virtual void Poll() = 0;
  // Waits until every record sent is acknowledged; kAborted when one
  // failed.
  virtual absl::Status Flush() = 0;
  // The highest offset acknowledged for (topic, partition) in the open
  // transaction, -1 when none.
  virtual int64_t LastOffset(const std::string& topic, int32_t partition) const = 0;
  // Commits the open transaction with the consumed `offsets`.
  virtual absl::Status Commit(const Offsets& offsets) = 0;
  virtual absl::Status Abort() = 0;
  // Replaces a producer that failed fatally; fences the old one.
  virtual absl::Status Reset() = 0;
};

// A partition's changelog, for restores.
class Changelog {
 public:
  struct Batch {
    std::vector<state::ChangeRecord> records;
    // The offset after the last record (past aborted records and markers).
    int64_t next_offset = 0;
  };
  struct Range {
    int64_t from = 0;
    int64_t end = 0;
    int64_t records = 0;
  };
  virtual ~Changelog() = default;
  // Reads `partition` from `from` to its end — the end including any
  // transaction of a previous owner still open, waited for until it
  // resolves — handing batches to `apply` in order. Returns what was read;
  // an error of `apply` stops the restore and is returned.
  virtual absl::StatusOr<Range> Restore(int32_t partition, int64_t from,
                                        const std::function<absl::Status(Batch batch)>& apply) = 0;
};

// The team directory (routing.reps).
class Directory {
 public:
  virtual ~Directory() = default;
  // Pool member records that arrived since the last call; with `until_end`
  // it first reads the topic to its end.
  virtual std::vector<v1::PoolMemberUpdate> Poll(bool until_end) = 0;
};

// Opens the local store of a partition.
using StoreFactory = std::function<absl::StatusOr<std::unique_ptr<state::PartitionStore>>(int32_t partition)>;

}  // namespace demandcenter::runner

#endif  // DEMANDCENTER_RUNNER_SEAMS_H_
