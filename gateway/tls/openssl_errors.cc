#include "gateway/tls/openssl_errors.h"

#include <openssl/err.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace acp::tls {

std::string opensslError() {
  unsigned long e = ERR_peek_last_error();
  std::string out;
  if (e != 0) {
    const char* reason = ERR_reason_error_string(e);
    out = reason ? reason : "error " + std::to_string(ERR_GET_REASON(e));
  } else {
    out = "unknown error";
  }
  ERR_clear_error();
  return out;
}

Status readableFile(const char* field, const std::string& path) {
  if (path.empty()) return Status::invalid(std::string(field) + ": no file is configured");
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f)
    return Status::invalid(std::string(field) + ": cannot read " + path + " (" +
                           std::strerror(errno) + ")");
  std::fclose(f);
  return Status::ok();
}

}  // namespace acp::tls
