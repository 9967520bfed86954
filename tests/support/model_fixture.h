// The R4 model loaded once per test binary from conformance/r4.
#pragma once

#include <gtest/gtest.h>

#include "gateway/model/model.h"

namespace acp::testing {

inline const model::Model& r4() {
  static std::shared_ptr<const model::Model> m = [] {
    auto r = model::Model::load(std::string(ACP_SOURCE_DIR) + "/conformance/r4");
    if (!r.isOk()) {
      ADD_FAILURE() << r.status().message();
      std::abort();
    }
    return r.value();
  }();
  return *m;
}

inline std::shared_ptr<const model::Model> r4Shared() {
  r4();
  static std::shared_ptr<const model::Model> m =
      model::Model::load(std::string(ACP_SOURCE_DIR) + "/conformance/r4").value();
  return m;
}

}  // namespace acp::testing
