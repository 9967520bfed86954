// Shared test entry point; ACP_SOURCE_DIR locates conformance data and fixtures.
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
