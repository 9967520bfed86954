#include "gateway/view/assets.h"

#include <cstring>

namespace acp::view {

const Asset* findAsset(std::string_view name) {
  for (size_t i = 0; i < kAssetCount; ++i)
    if (name == kAssets[i].name) return &kAssets[i];
  return nullptr;
}

bool hasNhsukStyles() {
  const Asset* css = findAsset("view.css");
  if (!css) return false;
  std::string_view text(reinterpret_cast<const char*>(css->data), css->size);
  return text.find(".nhsuk-header") != std::string_view::npos;
}

}  // namespace acp::view
