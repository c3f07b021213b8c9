// The right hour: hour-of-week estimates and the choice of a send's hour.
#include "demandcenter/rules/send_time.h"

#include <algorithm>
#include <vector>

#include "demandcenter/common/calendar.h"
#include "demandcenter/common/hash.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/rules/contact_policy.h"

namespace demandcenter::rules {
namespace {

bool Complete(const v1::HourCounts* counts) {
  return counts != nullptr && counts->trials_size() == kHoursOfWeek && counts->successes_size() == kHoursOfWeek;
}

int64_t TrialsAt(const v1::HourCounts* counts, int hour) { return Complete(counts) ? counts->trials(hour) : 0; }

int64_t SuccessesAt(const v1::HourCounts* counts, int hour) {
  return Complete(counts) ? std::min(counts->successes(hour), counts->trials(hour)) : 0;
}

// The first allowed instant of each local hour from `earliest` to the
// horizon, `earliest` first.
std::vector<int64_t> AllowedHours(const config::DecisionConfig& config, const PolicyZone& zone, v1::Channel channel,
                                  bool prompt, int64_t earliest) {
  const absl::TimeZone& tz = *zone.tz;
  int64_t limit = earliest + config.contact_policy.send_time.horizon_ms;
  std::vector<int64_t> times = {earliest};
  absl::CivilHour hour(calendar::MillisToLocal(earliest, tz));
  // The horizon is at most 7 days: 169 local hours, a few more across a
  // DST change.
  for (int guard = 0; guard < kHoursOfWeek + 4; ++guard) {
    ++hour;
    int64_t t = calendar::LocalToMillis(absl::CivilSecond(hour), tz);
    if (t > limit) break;
    int64_t allowed = NextAllowed(config, zone, channel, prompt, t);
    if (allowed > limit) break;
    if (allowed > times.back()) times.push_back(allowed);
    hour = std::max(hour, absl::CivilHour(calendar::MillisToLocal(allowed, tz)));
  }
  return times;
}

}  // namespace

std::string SendTimeKey(v1::Channel channel, std::string_view segment, std::string_view role) {
  return StrCat(config::ChannelName(channel), "|", segment.empty() ? "-" : segment, "|", role.empty() ? "-" : role);
}

HourEstimates EstimateHours(const config::SendTimeConfig& st, const v1::HourCounts* counts) {
  HourEstimates e;
  e.rates.assign(kHoursOfWeek, 0.5);
  if (!Complete(counts)) return e;
  for (int i = 0; i < kHoursOfWeek; ++i) {
    e.trials += TrialsAt(counts, i);
    e.successes += SuccessesAt(counts, i);
    e.day_trials[i % 24] += TrialsAt(counts, i);
    e.day_successes[i % 24] += SuccessesAt(counts, i);
  }
  double w = st.prior_weight;
  double overall = (static_cast<double>(e.successes) + 1) / (static_cast<double>(e.trials) + 2);
  double by_hour[24];
  for (int h = 0; h < 24; ++h) {
    by_hour[h] = (static_cast<double>(e.day_successes[h]) + w * overall) / (static_cast<double>(e.day_trials[h]) + w);
  }
  for (int i = 0; i < kHoursOfWeek; ++i) {
    e.rates[i] = (static_cast<double>(SuccessesAt(counts, i)) + w * by_hour[i % 24]) /
                 (static_cast<double>(TrialsAt(counts, i)) + w);
  }
  return e;
}

SendTimeChoice ChooseSendTime(const config::DecisionConfig& config, const PolicyZone& zone, v1::Channel channel,
                              bool prompt, int64_t earliest, const SendTimeInput& input) {
  const config::SendTimeConfig& st = config.contact_policy.send_time;
  std::vector<int64_t> times = AllowedHours(config, zone, channel, prompt, earliest);
  const v1::HourCounts* counts = input.counts;
  HourEstimates e = EstimateHours(st, counts);
  const std::vector<double>& rates = e.rates;
  std::vector<int> slots(times.size());
  for (size_t i = 0; i < times.size(); ++i) slots[i] = calendar::HourOfWeek(times[i], *zone.tz);
  auto rate_text = [&](size_t i) {
    int s = slots[i];
    std::string hour = calendar::HourOfWeekText(s);
    return StrCat(FormatPercent(rates[s], 0), " expected at ", hour, " (", SuccessesAt(counts, s), " of ",
                  TrialsAt(counts, s), " sends then; ", e.day_successes[s % 24], " of ", e.day_trials[s % 24], " at ",
                  hour.substr(4), " on any day)");
  };
  std::string among = StrCat(times.size(), " allowed hour(s) in the next ", FormatDuration(st.horizon_ms));
  std::string evidence = StrCat(input.key, ": ", e.successes, " of ", e.trials, " sends succeeded");

  SendTimeChoice choice;
  size_t best = 0;
  if (e.trials >= st.min_evidence) {
    choice.at.why = SendTime::Why::kBest;
    for (size_t i = 1; i < times.size(); ++i) {
      if (rates[slots[i]] > rates[slots[best]]) best = i;
    }
    choice.detail = StrCat(best == 0 ? "" : "moved to ", LocalTimeText(times[best], zone), best == 0 ? " is" : ",",
                           " the best of ", among, ": ", rate_text(best), "; ", evidence);
  } else {
    choice.at.why = SendTime::Why::kNotEnoughEvidence;
    choice.detail = StrCat("the earliest allowed time: the best hour for ", evidence, ", ", st.min_evidence,
                           " needed before it is used");
  }
  size_t chosen = best;
  if (times.size() > 1 && UnitFraction(StableHash64("send_time.explore", input.seed)) < st.explore) {
    chosen = StableHash64("send_time.hour", input.seed) % (times.size() - 1);
    if (chosen >= best) ++chosen;
    choice.at.why = SendTime::Why::kExplore;
    choice.detail = StrCat("a randomised send at ", LocalTimeText(times[chosen], zone), ", one of the ",
                           FormatPercent(st.explore, 0), " that go at another of ", among,
                           " so every hour stays measured, instead of: ", choice.detail);
  }
  choice.at.send_ms = times[chosen];
  choice.at.earliest_ms = earliest;
  choice.at.hour_of_week = slots[chosen];
  return choice;
}

void RecordTimedSend(const config::SendTimeConfig& st, const std::string& key, int hour_of_week, int64_t send_ms,
                     std::string_view action, v1::Channel channel, int64_t now_ms, v1::PropensityModel* model,
                     v1::AccountState* account) {
  v1::HourCounts& counts = (*model->mutable_hours())[key];
  if (!Complete(&counts)) {
    counts.Clear();
    counts.mutable_trials()->Resize(kHoursOfWeek, 0);
    counts.mutable_successes()->Resize(kHoursOfWeek, 0);
  }
  counts.set_trials(hour_of_week, counts.trials(hour_of_week) + 1);
  auto* sends = account->mutable_timed_sends();
  auto end = std::remove_if(sends->begin(), sends->end(),
                            [&](const v1::TimedSend& t) { return now_ms - t.send_ms() > st.window_ms; });
  sends->erase(end, sends->end());
  v1::TimedSend* t = sends->Add();
  t->set_key(key);
  t->set_hour_of_week(hour_of_week);
  t->set_send_ms(send_ms);
  t->set_action(std::string(action));
  t->set_channel(channel);
}

bool CreditTimedSend(const config::SendTimeConfig& st, int64_t now_ms, v1::Channel channel,
                     std::string_view action, v1::PropensityModel* model, v1::AccountState* account) {
  auto* sends = account->mutable_timed_sends();
  for (int i = sends->size() - 1; i >= 0; --i) {
    const v1::TimedSend& t = sends->Get(i);
    if (t.channel() != channel || (!action.empty() && t.action() != action)) continue;
    if (t.send_ms() > now_ms || now_ms - t.send_ms() > st.window_ms) continue;
    auto it = model->mutable_hours()->find(t.key());
    int hour = t.hour_of_week();
    if (it != model->mutable_hours()->end() && Complete(&it->second) && hour >= 0 && hour < kHoursOfWeek) {
      v1::HourCounts& counts = it->second;
      counts.set_successes(hour, std::min(counts.trials(hour), counts.successes(hour) + 1));
    }
    sends->DeleteSubrange(i, 1);
    return true;
  }
  return false;
}

}  // namespace demandcenter::rules
