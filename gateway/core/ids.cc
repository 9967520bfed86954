#include "gateway/core/ids.h"

#include <openssl/rand.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>
#include <stdexcept>

namespace acp {

std::string newUuid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    // OpenSSL's generator failing is a platform fault; fall back to the OS device.
    std::random_device rd;
    for (auto& x : b) x = static_cast<unsigned char>(rd());
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static const char* kHex = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += kHex[b[i] >> 4];
    s += kHex[b[i] & 15];
  }
  return s;
}

bool isValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  // "." and ".." are path segments, not ids: clients would normalise the URL.
  if (id.find_first_not_of('.') == std::string_view::npos) return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return false;
  return true;
}

int64_t nowMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string formatInstant(int64_t millis) {
  time_t secs = static_cast<time_t>(millis / 1000);
  int ms = static_cast<int>(millis % 1000);
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

std::string httpDateFromInstant(const std::string& instant) {
  std::tm tm{};
  if (instant.size() < 19) return "";
  if (std::sscanf(instant.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    return "";
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t t = timegm(&tm);
  // Instants written by the store are UTC ("Z"); honour an explicit offset otherwise.
  size_t tz = instant.find_first_of("+-", 19);
  if (tz != std::string::npos && instant.size() >= tz + 6) {
    int hh = std::atoi(instant.substr(tz + 1, 2).c_str());
    int mm = std::atoi(instant.substr(tz + 4, 2).c_str());
    int offset = (hh * 3600 + mm * 60) * (instant[tz] == '+' ? 1 : -1);
    t -= offset;
  }
  std::tm out{};
  gmtime_r(&t, &out);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &out);
  return buf;
}

}  // namespace acp
