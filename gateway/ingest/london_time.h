// Europe/London wall-clock time for partner data that gives a time without a zone (the
// community export's xs:dateTime, a hospice lastModified): the UTC offset in force on that
// date, and a UTC timestamp that sorts as text (source order, gateway/ingest/ingest_service.h).
//
// Rule: UTC+1 (BST) from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday
// of October, otherwise UTC+0. A local time in the hour that does not exist in March (01:xx)
// counts as GMT; the repeated hour in October (01:xx) counts as its first (BST) occurrence.
// Shared by the three partner mappings (acute HL7 TS, community xs:dateTime, hospice dates).
// Thread-safety: pure functions.
#pragma once

#include <cstdio>
#include <string>

namespace acp::ingest::london {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
inline long daysFromCivil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const long era = (y >= 0 ? y : y - 399) / 400;
  const long yoe = y - era * 400;
  const long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Day of the month of the last Sunday of `month` (1-based) in `year`.
inline int lastSunday(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int last = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  long days = daysFromCivil(year, month, last);
  int weekday = static_cast<int>(((days % 7) + 11) % 7);  // 0 = Sunday (1970-01-01 Thursday)
  return last - weekday;
}

// Whether local London time (year, month, day, hour) is British Summer Time.
inline bool summerTime(int y, int mo, int d, int h) {
  if (mo < 3 || mo > 10) return false;
  if (mo > 3 && mo < 10) return true;
  int change = lastSunday(y, mo);
  if (mo == 3) return d > change || (d == change && h >= 2);
  return d < change || (d == change && h < 2);
}

// The offset in force, in minutes east of UTC: 60 in summer time, otherwise 0.
inline int offsetMinutes(int y, int mo, int d, int h) { return summerTime(y, mo, d, h) ? 60 : 0; }

// An offset as FHIR / XML Schema write it: "+01:00", "+00:00", "-05:30".
inline std::string offsetText(int minutes) {
  char buf[8];
  int a = minutes < 0 ? -minutes : minutes;
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", minutes < 0 ? '-' : '+', a / 60 % 100, a % 60);
  return buf;
}

// Local fields at `offset` minutes east of UTC → "yyyymmddhhmmss" in UTC (fixed width for
// years 1..9999, so the text sorts as the times do).
inline std::string utcStamp(int y, int mo, int d, int h, int mi, int s, int offset) {
  long minutes = daysFromCivil(y, mo, d) * 1440L + h * 60L + mi - offset;
  long days = minutes >= 0 ? minutes / 1440 : -((-minutes + 1439) / 1440);
  long rest = minutes - days * 1440;
  // civil_from_days (H. Hinnant)
  long z = days + 719468;
  const long era = (z >= 0 ? z : z - 146096) / 146097;
  const long doe = z - era * 146097;
  const long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const long mp = (5 * doy + 2) / 153;
  const long day = doy - (153 * mp + 2) / 5 + 1;
  const long month = mp < 10 ? mp + 3 : mp - 9;
  const long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04ld%02ld%02ld%02ld%02ld%02d", year, month, day, rest / 60,
                rest % 60, s);
  return buf;
}

}  // namespace acp::ingest::london
