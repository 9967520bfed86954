// WriterGate: holds SqlStore's writer gate for one call of the store's non-FHIR tables
// (failure log, notification outbox), released on scope exit.
#pragma once

#include <functional>
#include <utility>

namespace acp::store {

// Holds the writer gate for one call.
class WriterGate {
 public:
  explicit WriterGate(bool held, std::function<void()> release)
      : held_(held), release_(std::move(release)) {}
  ~WriterGate() {
    if (held_) release_();
  }
  bool held() const { return held_; }

 private:
  bool held_;
  std::function<void()> release_;
};

}  // namespace acp::store
