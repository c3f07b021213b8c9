// Pipeline: decode -> validate -> resolve -> dedup -> core, one reject path.
#include "demandcenter/pipeline/pipeline.h"

namespace demandcenter::pipeline {
namespace {

constexpr char kUnresolvedMessage[] =
    "no account_id, and no contact, email or visitor id seen with an account on this partition";

}  // namespace

OutRecord DeadLetter(const Record& source, const ingest::Reject& reject, const std::string& dlq_topic) {
  OutRecord r;
  r.topic = dlq_topic;
  r.key = std::string(source.key);
  r.value = std::string(source.value);
  r.headers = {{"error.code", std::string(ingest::RejectCodeName(reject.code))},
               {"error.message", reject.message},
               {"source.topic", std::string(source.topic)},
               {"source.partition", std::to_string(source.partition)},
               {"source.offset", std::to_string(source.offset)}};
  return r;
}

Pipeline::Pipeline(const config::DecisionConfig& config, state::StateStore* store, Options options)
    : options_(options), identities_(config.identity, store), engine_(config, store) {}

ingest::Reject Pipeline::Decode(std::string_view bytes, v1::Signal* signal) const {
  return ingest::DecodeSignal(bytes, options_.decode, signal);
}

Result Pipeline::Process(const Record& record, std::vector<outputs::Output>* out) {
  ingest::Reject reject = Decode(record.value, &signal_);
  if (!reject.ok()) {
    Result r;
    r.outcome = Outcome::kRejected;
    r.reject = std::move(reject);
    return r;
  }
  int32_t partition = record.partition == kPartitionByKey ? PartitionOf(signal_) : record.partition;
  return ProcessSignal(signal_, partition, out);
}

Result Pipeline::ProcessSignal(const v1::Signal& signal, int32_t partition, std::vector<outputs::Output>* out) {
  Result r;
  r.signal = &signal;
  identity::Resolution resolution = identities_.Resolve(signal, partition);
  if (resolution.how == identity::How::kNone) {
    r.outcome = Outcome::kRejected;
    r.reject = {ingest::RejectCode::kUnresolvedAccount, kUnresolvedMessage};
    return r;
  }
  identities_.Learn(signal, resolution, partition);
  engine::SignalOutcome outcome = engine_.Process(signal, resolution.account_id, partition, out);
  r.outcome = outcome == engine::SignalOutcome::kDuplicate ? Outcome::kDuplicate : Outcome::kApplied;
  return r;
}

}  // namespace demandcenter::pipeline
