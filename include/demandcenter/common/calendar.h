// Local-time calendars: opening hours by weekday, holidays, and the
// arithmetic the contact policy and SLA clocks need (is it open now, when
// does it open next, what is N business hours from now) in an account's
// IANA time zone. Pure computation given a loaded absl::TimeZone.
#ifndef DEMANDCENTER_COMMON_CALENDAR_H_
#define DEMANDCENTER_COMMON_CALENDAR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace demandcenter::calendar {

// Weekdays as bits: bit 0 = Monday ... bit 6 = Sunday.
inline constexpr uint8_t kEveryDay = 0x7f;
inline constexpr uint8_t kWeekdays = 0x1f;

// Weekly opening hours in local time.
struct WeeklyHours {
  // Days that open at all. Default: every day.
  uint8_t days = kEveryDay;
  // Daily windows [from, to) in minutes since local midnight (0..1440),
  // sorted and disjoint.
  std::vector<std::pair<int32_t, int32_t>> windows;
  // Holidays are closed all day. Default: true.
  bool closed_on_holidays = true;

  // "Mon-Fri 08:00-18:00", "every day 08:00-20:00".
  std::string ToString() const;
};

// A closed day in the local calendar of the zones it applies to.
struct Holiday {
  absl::CivilDay day;
  // IANA zone patterns ("America/*"); empty = every zone.
  std::vector<std::string> zones;
};

// Opening hours and holidays. Immutable; cheap to share by const&.
class Calendar {
 public:
  Calendar(WeeklyHours hours, std::vector<Holiday> holidays);

  const WeeklyHours& hours() const { return hours_; }
  const std::vector<Holiday>& holidays() const { return holidays_; }

  // True when the calendar is open at `ms` (Unix ms) in `tz`. `zone_name`
  // selects the holidays that apply.
  bool IsOpen(int64_t ms, const absl::TimeZone& tz, std::string_view zone_name) const;

  // The first instant at or after `ms` when it is open (`ms` itself when
  // open). A calendar that never opens returns `ms`.
  int64_t NextOpen(int64_t ms, const absl::TimeZone& tz, std::string_view zone_name) const;

  // A deadline in open time: from NextOpen(ms), `days` open days later at
  // the same local time, then `open_ms` more of open time (closed hours,
  // weekends and holidays do not count).
  int64_t AddOpenTime(int64_t ms, int32_t days, int64_t open_ms, const absl::TimeZone& tz,
                      std::string_view zone_name) const;

  bool IsHoliday(absl::CivilDay day, std::string_view zone_name) const;

 private:
  bool DayOpen(absl::CivilDay day, std::string_view zone_name) const;

  WeeklyHours hours_;
  std::vector<Holiday> holidays_;
};

// Unix ms of a local civil time; a time skipped by a DST change maps to the
// transition, a repeated one to its first occurrence.
int64_t LocalToMillis(absl::CivilSecond local, const absl::TimeZone& tz);

// The local civil time of `ms`.
absl::CivilSecond MillisToLocal(int64_t ms, const absl::TimeZone& tz);

// "Mon 2 Mar 09:10" in local time.
std::string FormatLocal(int64_t ms, const absl::TimeZone& tz);

// 0 = Monday ... 6 = Sunday.
int WeekdayIndex(absl::CivilDay day);

// The local hour of the week of `ms`: 0 = Monday 00:00-01:00 ... 167.
int HourOfWeek(int64_t ms, const absl::TimeZone& tz);

// "Tue 10:00-11:00" for hour of the week 34.
std::string HourOfWeekText(int hour_of_week);

// Parses "mon".."sun" (any case, or full names); -1 when not a day.
int ParseWeekday(std::string_view name);

// IANA time zones loaded from the system tz database on first use and kept
// for the life of the object: the one file read the decision core makes,
// once per zone name, with a result that depends only on the tz data. Not
// thread safe: one per engine.
class TimeZones {
 public:
  // The zone, or null when the name is not a zone the database knows.
  const absl::TimeZone* Find(const std::string& name);

 private:
  std::unordered_map<std::string, std::unique_ptr<absl::TimeZone>> zones_;
};

}  // namespace demandcenter::calendar

#endif  // DEMANDCENTER_COMMON_CALENDAR_H_
