// Status and Result<T>: expected failures as values (convention 2).
//
// A Status is either ok() or carries a Code and a human-readable message. Exceptions are
// kept to the edges (HTTP handlers, main); everything below returns Status / Result<T>.
// Thread-safety: plain values, safe to copy between threads.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace acp {

class Status {
 public:
  // Each code maps to one HTTP status and one OperationOutcome issue type (see
  // http/errors.cc and docs/errors.md).
  enum class Code {
    kOk,
    kInvalid,        // the input is structurally wrong (400, issue "structure"/"value")
    kUnprocessable,  // well-formed but fails validation or business rules (422)
    kNotFound,       // no such resource or route (404)
    kGone,           // the resource was deleted (410)
    kConflict,       // version or uniqueness conflict (409)
    kPrecondition,   // If-Match / conditional criteria failed (412)
    kNotSupported,   // unsupported media type, parameter or interaction (400/405/406/415)
    kTooLarge,       // body or value over a limit (413)
    kInternal,       // processing could not go on (500), never caused by input
  };

  Status() = default;
  static Status ok() { return Status(); }
  static Status invalid(std::string m) { return Status(Code::kInvalid, std::move(m)); }
  static Status unprocessable(std::string m) { return Status(Code::kUnprocessable, std::move(m)); }
  static Status notFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status gone(std::string m) { return Status(Code::kGone, std::move(m)); }
  static Status conflict(std::string m) { return Status(Code::kConflict, std::move(m)); }
  static Status precondition(std::string m) { return Status(Code::kPrecondition, std::move(m)); }
  static Status notSupported(std::string m) { return Status(Code::kNotSupported, std::move(m)); }
  static Status tooLarge(std::string m) { return Status(Code::kTooLarge, std::move(m)); }
  static Status internal(std::string m) { return Status(Code::kInternal, std::move(m)); }

  bool isOk() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// Result<T> holds either a value or a non-ok Status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}                  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}          // NOLINT: implicit by design
  bool isOk() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T&& take() { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_ = Status::internal("no value");
};

}  // namespace acp
