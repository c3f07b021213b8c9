#include "demandcenter/common/calendar.h"

#include <algorithm>
#include <cstdio>

#include "demandcenter/common/strings.h"

namespace demandcenter::calendar {
namespace {

constexpr std::string_view kDayNames[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::string_view kMonthNames[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
// Far enough to pass any run of holidays and closed days; a calendar that
// stays closed longer is treated as never open.
constexpr int kMaxDaysAhead = 800;

std::string Clock(int32_t minutes) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%02d:%02d", minutes / 60, minutes % 60);
  return buf;
}

int64_t SecondsOfDay(absl::CivilSecond cs) { return cs - absl::CivilSecond(absl::CivilDay(cs)); }

}  // namespace

int WeekdayIndex(absl::CivilDay day) {
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::monday: return 0;
    case absl::Weekday::tuesday: return 1;
    case absl::Weekday::wednesday: return 2;
    case absl::Weekday::thursday: return 3;
    case absl::Weekday::friday: return 4;
    case absl::Weekday::saturday: return 5;
    case absl::Weekday::sunday: return 6;
  }
  return 0;
}

int ParseWeekday(std::string_view name) {
  std::string lower = AsciiLower(name);
  static constexpr std::string_view kFull[7] = {"monday", "tuesday", "wednesday", "thursday",
                                                "friday", "saturday", "sunday"};
  for (int i = 0; i < 7; ++i) {
    if (lower == kFull[i] || lower == AsciiLower(kDayNames[i])) return i;
  }
  return -1;
}

std::string WeeklyHours::ToString() const {
  std::string days_text;
  if (days == kEveryDay) {
    days_text = "every day";
  } else {
    // Runs of consecutive days: "Mon-Fri", "Mon, Wed, Fri".
    for (int i = 0; i < 7;) {
      if (!(days & (1u << i))) {
        ++i;
        continue;
      }
      int j = i;
      while (j + 1 < 7 && (days & (1u << (j + 1)))) ++j;
      if (!days_text.empty()) days_text += ", ";
      days_text += kDayNames[i];
      if (j > i) days_text += StrCat(j == i + 1 ? ", " : "-", kDayNames[j]);
      i = j + 1;
    }
  }
  std::string out = days_text;
  for (size_t i = 0; i < windows.size(); ++i) {
    out += i == 0 ? " " : ", ";
    out += StrCat(Clock(windows[i].first), "-", Clock(windows[i].second));
  }
  return out;
}

Calendar::Calendar(WeeklyHours hours, std::vector<Holiday> holidays)
    : hours_(std::move(hours)), holidays_(std::move(holidays)) {}

bool Calendar::IsHoliday(absl::CivilDay day, std::string_view zone_name) const {
  for (const auto& h : holidays_) {
    if (h.day != day) continue;
    if (h.zones.empty()) return true;
    for (const auto& pattern : h.zones) {
      if (GlobMatch(pattern, zone_name)) return true;
    }
  }
  return false;
}

bool Calendar::DayOpen(absl::CivilDay day, std::string_view zone_name) const {
  if (!(hours_.days & (1u << WeekdayIndex(day)))) return false;
  return !(hours_.closed_on_holidays && IsHoliday(day, zone_name));
}

int64_t LocalToMillis(absl::CivilSecond local, const absl::TimeZone& tz) {
  absl::TimeZone::TimeInfo info = tz.At(local);
  absl::Time t = info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans : info.pre;
  return absl::ToUnixMillis(t);
}

absl::CivilSecond MillisToLocal(int64_t ms, const absl::TimeZone& tz) {
  return absl::ToCivilSecond(absl::FromUnixMillis(ms), tz);
}

std::string FormatLocal(int64_t ms, const absl::TimeZone& tz) {
  absl::CivilSecond cs = MillisToLocal(ms, tz);
  absl::CivilDay day(cs);
  return StrCat(kDayNames[WeekdayIndex(day)], " ", day.day(), " ", kMonthNames[day.month() - 1],
                " ", Clock(static_cast<int32_t>(SecondsOfDay(cs) / 60)));
}

int HourOfWeek(int64_t ms, const absl::TimeZone& tz) {
  absl::CivilSecond cs = MillisToLocal(ms, tz);
  return WeekdayIndex(absl::CivilDay(cs)) * 24 + cs.hour();
}

std::string HourOfWeekText(int hour_of_week) {
  int hour = hour_of_week % 24;
  return StrCat(kDayNames[(hour_of_week / 24) % 7], " ", Clock(hour * 60), "-", Clock((hour + 1) * 60));
}

bool Calendar::IsOpen(int64_t ms, const absl::TimeZone& tz, std::string_view zone_name) const {
  absl::CivilSecond cs = MillisToLocal(ms, tz);
  absl::CivilDay day(cs);
  if (!DayOpen(day, zone_name)) return false;
  int64_t sod = SecondsOfDay(cs);
  for (const auto& [from, to] : hours_.windows) {
    if (sod >= from * 60LL && sod < to * 60LL) return true;
  }
  return false;
}

int64_t Calendar::NextOpen(int64_t ms, const absl::TimeZone& tz, std::string_view zone_name) const {
  absl::CivilSecond cs = MillisToLocal(ms, tz);
  absl::CivilDay today(cs);
  int64_t sod = SecondsOfDay(cs);
  for (int i = 0; i < kMaxDaysAhead; ++i) {
    absl::CivilDay day = today + i;
    if (!DayOpen(day, zone_name)) continue;
    for (const auto& [from, to] : hours_.windows) {
      int64_t start = from * 60LL;
      if (i == 0) {
        if (sod >= to * 60LL) continue;
        if (sod >= start) return ms;  // open now
      }
      return LocalToMillis(absl::CivilSecond(day) + start, tz);
    }
  }
  return ms;
}

int64_t Calendar::AddOpenTime(int64_t ms, int32_t days, int64_t open_ms, const absl::TimeZone& tz,
                              std::string_view zone_name) const {
  int64_t t = NextOpen(ms, tz, zone_name);
  if (days > 0) {
    absl::CivilSecond cs = MillisToLocal(t, tz);
    absl::CivilDay day(cs);
    int64_t sod = SecondsOfDay(cs);
    for (int moved = 0, guard = 0; moved < days && guard < kMaxDaysAhead * 4; ++guard) {
      day += 1;
      if (DayOpen(day, zone_name)) ++moved;
    }
    t = LocalToMillis(absl::CivilSecond(day) + sod, tz) + (t % 1000 + 1000) % 1000;
    t = NextOpen(t, tz, zone_name);
  }
  int64_t remaining = open_ms;
  for (int guard = 0; remaining > 0 && guard < kMaxDaysAhead * 4; ++guard) {
    absl::CivilSecond cs = MillisToLocal(t, tz);
    absl::CivilDay day(cs);
    int64_t sod = SecondsOfDay(cs);
    int64_t end = -1;
    for (const auto& [from, to] : hours_.windows) {
      if (sod >= from * 60LL && sod < to * 60LL) {
        end = LocalToMillis(absl::CivilSecond(day) + to * 60LL, tz);
        break;
      }
    }
    if (end <= t) return t + remaining;  // never open: plain time
    if (remaining <= end - t) return t + remaining;
    remaining -= end - t;
    int64_t next = NextOpen(end, tz, zone_name);
    if (next == end && !IsOpen(end, tz, zone_name)) return end + remaining;
    t = next;
  }
  return t + remaining;
}

const absl::TimeZone* TimeZones::Find(const std::string& name) {
  auto it = zones_.find(name);
  if (it != zones_.end()) return it->second.get();
  std::unique_ptr<absl::TimeZone> zone;
  absl::TimeZone tz;
  if (!name.empty() && absl::LoadTimeZone(name, &tz)) zone = std::make_unique<absl::TimeZone>(tz);
  return zones_.emplace(name, std::move(zone)).first->second.get();
}

}  // namespace demandcenter::calendar
