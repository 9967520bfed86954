#include "gateway/store/instant.h"

#include <chrono>

namespace acp::store {
namespace {

// Days since 1970-01-01 → proleptic Gregorian civil date: 400-year eras of 146097 days, years
// counted from March so the leap day falls at the end of the year.
void civilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
}

void put(char* p, unsigned v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

}  // namespace

std::string formatInstant(int64_t ms) {
  // 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z in ms since the epoch.
  constexpr int64_t kMin = -62167219200000;
  constexpr int64_t kMax = 253402300799999;
  if (ms < kMin) ms = kMin;
  if (ms > kMax) ms = kMax;
  int64_t days = ms / 86400000;
  int64_t rem = ms % 86400000;
  if (rem < 0) {
    rem += 86400000;
    --days;
  }
  int64_t y;
  unsigned mo, d;
  civilFromDays(days, y, mo, d);
  unsigned msOfDay = static_cast<unsigned>(rem);
  char buf[25] = "0000-00-00T00:00:00.000Z";
  put(buf, static_cast<unsigned>(y), 4);
  put(buf + 5, mo, 2);
  put(buf + 8, d, 2);
  put(buf + 11, msOfDay / 3600000, 2);
  put(buf + 14, msOfDay / 60000 % 60, 2);
  put(buf + 17, msOfDay / 1000 % 60, 2);
  put(buf + 20, msOfDay % 1000, 3);
  return std::string(buf, 24);
}

int64_t systemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace acp::store
