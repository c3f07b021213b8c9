// Pipeline: decode -> validate -> resolve -> dedup -> core, one reject path.
#include "demandcenter/pipeline/pipeline.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "demandcenter/common/hash.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"

namespace demandcenter::pipeline {
namespace {

constexpr char kUnresolvedMessage[] =
    "no account_id, and no contact, email or visitor id seen with an account on this partition";

// identity.link signals teach identity only: the account's journey, scores
// and decisions never see them.
bool LinksOnly(const v1::Signal& signal) { return signal.type() == ingest::kIdentityLinkType; }

// A privacy.erase changes no clock and is honoured at any event time.
bool ClockFree(const v1::Signal& signal) { return signal.type() == ingest::kPrivacyEraseType; }

outputs::Output ConflictOutput(const identity::Conflict& c, const v1::Signal& signal, const std::string& account_id) {
  v1::IdentityConflict m;
  m.set_conflict_id(DeterministicId("idc", {signal.event_id(), c.identifier, c.linked_to}));
  m.set_identifier(c.identifier);
  m.set_linked_to(c.linked_to);
  m.set_kept_id(c.kept);
  m.set_refused_id(c.refused);
  m.add_trigger_event_ids(signal.event_id());
  m.set_signal_type(signal.type());
  *m.mutable_occurred_at() = signal.occurred_at();
  m.set_account_id(account_id);
  m.set_source_system(signal.source_system());
  return {outputs::OutputKind::kIdentityConflict, c.identifier, std::move(m)};
}

// The waiting signal for `signal` and its record (null: none).
v1::WaitingSignal ToWaiting(const v1::Signal& signal, int32_t partition, const Record* source) {
  v1::WaitingSignal waiting;
  *waiting.mutable_signal() = signal;
  if (source != nullptr) {
    waiting.set_value(std::string(source->value));
    waiting.set_key(std::string(source->key));
    waiting.set_topic(std::string(source->topic));
    waiting.set_offset(source->offset);
    waiting.set_timestamp_ms(source->timestamp_ms);
  }
  waiting.set_partition(partition);
  return waiting;
}

}  // namespace

OutRecord DeadLetter(const LateReject& late, const std::string& dlq_topic) {
  Record r;
  r.value = late.waiting.value();
  r.key = late.waiting.key();
  r.topic = late.waiting.topic();
  r.partition = late.waiting.partition();
  r.offset = late.waiting.offset();
  r.timestamp_ms = late.waiting.timestamp_ms();
  return DeadLetter(r, late.reject, dlq_topic);
}

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
    : config_(config), options_(options), identities_store_(store), identities_(config.identity, store),
      waiting_(config.identity, store),
      engine_(config, store) {}

ingest::Reject Pipeline::Decode(std::string_view bytes, v1::Signal* signal) const {
  return ingest::DecodeSignal(bytes, options_.decode, signal);
}

ingest::Reject Pipeline::CheckAhead(const v1::Signal& signal, int64_t record_ms) const {
  int64_t at_ms = ToMillis(signal.occurred_at());
  if (record_ms <= 0 || at_ms - record_ms <= config_.event_time.max_ahead_ms || ClockFree(signal)) return {};
  return {ingest::RejectCode::kEventTimeAhead,
          StrCat("occurred_at ", FormatTime(at_ms), " is ", FormatDuration(at_ms - record_ms),
                 " after the record's own timestamp ", FormatTime(record_ms), "; the limit is event_time.max_ahead (",
                 FormatDuration(config_.event_time.max_ahead_ms), ")")};
}

ingest::Reject Pipeline::CheckLate(const v1::Signal& signal, int32_t partition) const {
  return CheckLate(signal, engine_.StreamTime(partition), "the partition's");
}

ingest::Reject Pipeline::CheckLate(const v1::Signal& signal, int64_t stream_ms, std::string_view whose) const {
  int64_t at_ms = ToMillis(signal.occurred_at());
  if (stream_ms <= 0 || stream_ms - at_ms <= config_.event_time.max_late_ms || ClockFree(signal)) return {};
  return {ingest::RejectCode::kEventTimeLate,
          StrCat("occurred_at ", FormatTime(at_ms), " is ", FormatDuration(stream_ms - at_ms), " before ", whose,
                 " stream time ", FormatTime(stream_ms), "; the limit is event_time.max_late (",
                 FormatDuration(config_.event_time.max_late_ms), ")")};
}

Result Pipeline::Process(const Record& record, std::vector<outputs::Output>* out) {
  ingest::Reject reject = Decode(record.value, &signal_);
  if (reject.ok()) reject = CheckAhead(signal_, record.timestamp_ms);
  if (!reject.ok()) {
    Result r;
    r.outcome = Outcome::kRejected;
    r.reject = std::move(reject);
    return r;
  }
  int32_t partition = record.partition == kPartitionByKey ? PartitionOf(signal_) : record.partition;
  return ProcessSignal(signal_, partition, out, &record);
}

Result Pipeline::ProcessSignal(const v1::Signal& signal, int32_t partition, std::vector<outputs::Output>* out,
                               const Record* source) {
  if (config_.identity.global) return ProcessLocally(signal, partition, out, source);
  Result r;
  r.signal = &signal;
  if (signal.type() == ingest::kPrivacyEraseType) {
    // The person's data in their account's state, their links and waiting
    // signals go; no output names them.
    std::string account = identities_.LinkedAccount(signal, partition);
    if (signal.contact_id().empty() && signal.email().empty() && signal.anonymous_id().empty()) {
      // The whole account: its state and every link to it.
      engine_.EraseAccount(account);
      identities_.EraseLinksTo(account, partition);
      return r;
    }
    if (!account.empty()) engine_.ErasePerson(account, signal.contact_id(), signal.email());
    for (const auto& identifier : identities_.Erase(signal, partition)) waiting_.Erase(partition, identifier);
    return r;
  }
  r.reject = CheckLate(signal, partition);
  if (!r.reject.ok()) {
    r.outcome = Outcome::kRejected;
    return r;
  }
  identity::Resolution resolution = identities_.Resolve(signal, partition);
  if (resolution.how == identity::How::kNone) {
    if (!Park(ToWaiting(signal, partition, source), partition, &r)) {
      r.outcome = Outcome::kRejected;
      r.reject = {ingest::RejectCode::kUnresolvedAccount, kUnresolvedMessage};
    }
    return r;
  }
  // Which identifiers it links matters only while signals wait.
  bool waiting = waiting_.Waiting(partition) > 0;
  std::vector<std::string> linked;
  r.outcome = Apply(signal, resolution, partition, waiting ? &linked : nullptr, out);
  if (waiting) {
    Release(std::move(linked), partition,
            [&](const v1::WaitingSignal& w, identity::How how, std::vector<std::string>* more) {
              Apply(w.signal(), {resolution.account_id, how}, partition, more, out, engine_.StreamTime(partition));
            },
            &r);
    Expire(partition, engine_.StreamTime(partition), &r);
  }
  return r;
}

Outcome Pipeline::Apply(const v1::Signal& signal, const identity::Resolution& resolution, int32_t partition,
                        std::vector<std::string>* linked, std::vector<outputs::Output>* out, int64_t decide_at_ms) {
  if (!LinksOnly(signal) && engine_.Process(signal, resolution.account_id, partition, out, decide_at_ms) ==
                                engine::SignalOutcome::kDuplicate) {
    return Outcome::kDuplicate;  // the first one taught its links
  }
  std::vector<identity::Conflict> conflicts;
  identities_.Learn(signal, resolution, partition, linked, &conflicts);
  for (const auto& c : conflicts) out->push_back(ConflictOutput(c, signal, resolution.account_id));
  return Outcome::kApplied;
}

bool Pipeline::Park(v1::WaitingSignal waiting, int32_t partition, Result* result) {
  std::string key = identities_.WaitKey(waiting.signal());
  if (key.empty() || config_.identity.wait_max_signals == 0) return false;
  for (auto& pushed : waiting_.Park(partition, key, std::move(waiting))) {
    std::string message = StrCat("waited for ", key, " to be linked to an account, and more than ",
                                 config_.identity.wait_max_signals,
                                 " signals (identity.wait.max_signals) came to wait for it: the oldest goes");
    result->late_rejects.push_back({std::move(pushed), {ingest::RejectCode::kUnresolvedAccount, std::move(message)}});
  }
  result->outcome = Outcome::kWaiting;
  return true;
}

void Pipeline::Release(std::vector<std::string> linked, int32_t partition, const Resolve& resolve, Result* result) {
  // Each round releases what the identifiers linked so far hold; released
  // signals may link more identifiers (a form fill that waited). A domain
  // ("d:…") releases the addresses at it, resolved by the domain.
  std::set<std::string> seen(linked.begin(), linked.end());
  while (!linked.empty()) {
    std::vector<std::pair<v1::WaitingSignal, identity::How>> released;
    auto take = [&](const std::string& key, identity::How how) {
      for (auto& w : waiting_.Release(partition, key)) released.emplace_back(std::move(w), how);
    };
    for (const auto& key : linked) {
      if (key.rfind("d:", 0) != 0) {
        take(key, identity::How::kLinked);
        continue;
      }
      for (const auto& address : waiting_.AddressesAt(partition, key.substr(2))) take(address, identity::How::kDomain);
    }
    linked.clear();
    std::stable_sort(released.begin(), released.end(), [](const auto& a, const auto& b) {
      return ToMillis(a.first.signal().occurred_at()) < ToMillis(b.first.signal().occurred_at());
    });
    for (const auto& [w, how] : released) {
      std::vector<std::string> more;
      resolve(w, how, &more);
      for (auto& key : more) {
        if (seen.insert(key).second) linked.push_back(std::move(key));
      }
      result->released.push_back(w.offset());
      result->released_event_ids.push_back(w.signal().event_id());
    }
  }
}

void Pipeline::Expire(int32_t partition, int64_t now_ms, Result* result) {
  if (config_.identity.wait_max_signals == 0) return;
  for (auto& expired : waiting_.Expire(partition, now_ms)) {
    std::string message = StrCat("waited longer than identity.wait.max_age (", FormatDuration(config_.identity.wait_max_age_ms),
                                 ") for its contact, address or visitor id to be linked to an account");
    result->late_rejects.push_back({std::move(expired), {ingest::RejectCode::kUnresolvedAccount, std::move(message)}});
  }
}

// identity.scope global ----------------------------------------------------

bool Pipeline::GoesToOwnAccount(const v1::Signal& signal) {
  if (signal.type() == ingest::kPrivacyEraseType) return true;
  return !signal.account_id().empty() && !LinksOnly(signal);
}

Pipeline::Route Pipeline::Split(const v1::Signal& signal, int32_t partition, const Record* source,
                                v1::IdentityInput* to_identity) {
  Route route;
  route.account = GoesToOwnAccount(signal);
  if (signal.type() == ingest::kPrivacyEraseType) {
    route.identity = true;  // the partition's own links (and account); the identity task's
    to_identity->set_kind(v1::IdentityInput::ERASE);
  } else if (signal.account_id().empty()) {
    route.identity = true;
    to_identity->set_kind(v1::IdentityInput::RESOLVE);
  } else {
    route.identity = identities_.Announce(signal, partition);
    to_identity->set_kind(v1::IdentityInput::LINK);
  }
  if (route.identity) *to_identity->mutable_signal() = ToWaiting(signal, partition, source);
  return route;
}

Result Pipeline::ProcessLocally(const v1::Signal& signal, int32_t partition, std::vector<outputs::Output>* out,
                                const Record* source) {
  v1::IdentityInput input;
  Route route = Split(signal, partition, source, &input);
  Result r;
  if (route.account) r = ProcessOwn(signal, partition, out);
  if (!route.identity || r.outcome == Outcome::kRejected) {
    if (r.outcome != Outcome::kRejected) AdvanceIdentity(ToMillis(signal.occurred_at()), &r);
    return r;
  }
  std::vector<v1::ResolvedSignal> resolved;
  Result identified = Identify(input, ToMillis(signal.occurred_at()), &resolved, out);
  if (!route.account) r = std::move(identified);
  else r.late_rejects = std::move(identified.late_rejects);
  for (const auto& to : resolved) {
    int32_t p = PartitionForKey(to.account_id(), options_.partitions.partitions, options_.partitions.partitioner);
    Result applied = ApplyResolved(to, p, out);
    if (to.signal().signal().event_id() == signal.event_id() && applied.outcome == Outcome::kDuplicate) {
      r.outcome = Outcome::kDuplicate;
    } else if (to.signal().signal().event_id() != signal.event_id()) {
      r.released.push_back(to.signal().offset());
      r.released_event_ids.push_back(to.signal().signal().event_id());
    }
  }
  r.signal = &signal;
  return r;
}

Result Pipeline::ProcessOwn(const v1::Signal& signal, int32_t partition, std::vector<outputs::Output>* out) {
  Result r;
  r.signal = &signal;
  if (signal.type() == ingest::kPrivacyEraseType) {
    if (signal.contact_id().empty() && signal.email().empty() && signal.anonymous_id().empty()) {
      engine_.EraseAccount(signal.account_id());
      identities_.EraseLinksTo(signal.account_id(), partition);
    } else {
      identities_.Erase(signal, partition);  // the person goes from their account through the identity task
    }
    return r;
  }
  r.reject = CheckLate(signal, partition);
  if (!r.reject.ok()) {
    r.outcome = Outcome::kRejected;
    return r;
  }
  if (engine_.Process(signal, signal.account_id(), partition, out) == engine::SignalOutcome::kDuplicate) {
    r.outcome = Outcome::kDuplicate;
  }
  return r;
}

int64_t Pipeline::IdentityTime(int64_t order_ms) {
  static const std::string kKey = StrCat(kIdentityScope, "/t");
  if (identity_time_ms_ < 0) {
    auto stored = identities_store_->ResolveIdentity(kKey);
    identity_time_ms_ = 0;
    if (stored) (void)absl::SimpleAtoi(*stored, &identity_time_ms_);
  }
  if (order_ms > identity_time_ms_) {
    identity_time_ms_ = order_ms;
    identities_store_->PutIdentity(kKey, std::to_string(order_ms));
  }
  return identity_time_ms_;
}

Result Pipeline::Identify(const v1::IdentityInput& input, int64_t order_ms, std::vector<v1::ResolvedSignal>* resolved,
                          std::vector<outputs::Output>* out) {
  constexpr int32_t kScope = kIdentityScope;
  const v1::Signal& signal = input.signal().signal();
  // Stream time of the inputs taken (for lateness); what waited past its
  // bound before this input's time goes first, so a wait ends the same way
  // whenever the task's clock was moved (AdvanceIdentity).
  int64_t stream_ms = IdentityTime(order_ms);
  int64_t now_ms = order_ms;
  Result r;
  r.signal = &signal;
  Expire(kScope, now_ms, &r);
  auto send = [&](const v1::WaitingSignal& w, const std::string& account_id, bool erase) {
    if (LinksOnly(w.signal())) return;  // it only links: no account sees it
    v1::ResolvedSignal& to = resolved->emplace_back();
    *to.mutable_signal() = w;
    to.set_account_id(account_id);
    to.set_erase(erase);
  };
  if (input.kind() == v1::IdentityInput::ERASE) {
    std::string account = identities_.LinkedAccount(signal, kScope);
    if (signal.contact_id().empty() && signal.email().empty() && signal.anonymous_id().empty()) {
      identities_.EraseLinksTo(account, kScope);
      return r;
    }
    if (!account.empty()) send(input.signal(), account, true);
    for (const auto& identifier : identities_.Erase(signal, kScope)) waiting_.Erase(kScope, identifier);
    return r;
  }
  identity::Resolution resolution;
  if (input.kind() == v1::IdentityInput::LINK) {
    resolution = {signal.account_id(), identity::How::kCarried};
  } else {
    r.reject = CheckLate(signal, stream_ms, "the identity task's");
    if (!r.reject.ok()) {
      r.outcome = Outcome::kRejected;
      return r;
    }
    resolution = identities_.Resolve(signal, kScope);
    if (resolution.how == identity::How::kNone) {
      if (!Park(input.signal(), kScope, &r)) {
        r.outcome = Outcome::kRejected;
        r.reject = {ingest::RejectCode::kUnresolvedAccount, kUnresolvedMessage};
      }
      return r;
    }
    send(input.signal(), resolution.account_id, false);
  }
  bool waiting = waiting_.Waiting(kScope) > 0;
  std::vector<std::string> linked;
  std::vector<identity::Conflict> conflicts;
  identities_.Learn(signal, resolution, kScope, waiting ? &linked : nullptr, &conflicts);
  for (const auto& c : conflicts) out->push_back(ConflictOutput(c, signal, resolution.account_id));
  if (waiting) {
    const std::string& account = resolution.account_id;
    Release(std::move(linked), kScope, [&](const v1::WaitingSignal& w, identity::How how, std::vector<std::string>* more) {
      size_t before = resolved->size();
      send(w, account, false);
      // It waited: decided when it reaches its account.
      if (resolved->size() > before) resolved->back().set_decide_at_ms(now_ms);
      std::vector<identity::Conflict> refused;
      identities_.Learn(w.signal(), {account, how}, kScope, more, &refused);
      for (const auto& c : refused) out->push_back(ConflictOutput(c, w.signal(), account));
    }, &r);
  }
  return r;
}

void Pipeline::AdvanceIdentity(int64_t now_ms, Result* result) {
  // Not kept: every input still to come is at or after it.
  if (waiting_.Waiting(kIdentityScope) > 0) Expire(kIdentityScope, now_ms, result);
}

Result Pipeline::ApplyResolved(const v1::ResolvedSignal& resolved, int32_t partition, std::vector<outputs::Output>* out) {
  const v1::Signal& signal = resolved.signal().signal();
  Result r;
  r.signal = &signal;
  if (resolved.erase()) {
    engine_.ErasePerson(resolved.account_id(), signal.contact_id(), signal.email());
    return r;
  }
  if (engine_.Process(signal, resolved.account_id(), partition, out, resolved.decide_at_ms()) ==
      engine::SignalOutcome::kDuplicate) {
    r.outcome = Outcome::kDuplicate;
  }
  return r;
}

}  // namespace demandcenter::pipeline
