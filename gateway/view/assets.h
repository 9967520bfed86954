// The clinician view's static assets, built into the gateway (cmake/embed_view_assets.cmake):
// view.css (the NHS.UK frontend's stylesheet, from npm nhsuk-frontend, with the gateway's own
// rules from gateway/view/acp-view.css) and the icons it uses. Served at /view/assets/<name>
// without authentication: they hold no patient data.
// Thread-safety: constant data.
#pragma once

#include <cstddef>
#include <string_view>

namespace acp::view {

struct Asset {
  const char* name;         // "view.css", "images/nhsuk-icon-cross.svg"
  const char* contentType;
  const unsigned char* data;
  size_t size;
};

extern const Asset kAssets[];
extern const size_t kAssetCount;

// The asset of this name, or nullptr.
const Asset* findAsset(std::string_view name);

// Whether the NHS.UK frontend stylesheet was built in (npm was available at build time).
bool hasNhsukStyles();

}  // namespace acp::view
