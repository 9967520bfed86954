// Small helpers shared by the ingest integration tests: edit a test document, read back the
// one resource a search finds, and a value at a member path.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "tests/support/test_server.h"

namespace acp::testing {

// Replaces the first `from` in `s` (a failure when it is not there).
inline void replace(std::string& s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  s.replace(at, from.size(), to);
}

// The one resource `query` finds (a failure, and an empty object, otherwise).
inline json::Value onlyResource(TestServer& server, const std::string& query) {
  HttpResult r = server.get(query);
  const json::Value* entries = r.json.find("entry");
  if (!entries || entries->items().size() != 1) {
    ADD_FAILURE() << query << ": expected one resource, got " << r.body.substr(0, 300);
    return json::Value::makeObject();
  }
  return *entries->items()[0].find("resource");
}

// The text at a member path of `v` ("" when any step is missing).
inline std::string at(const json::Value& v, std::initializer_list<const char*> path) {
  const json::Value* cur = &v;
  for (const char* k : path) {
    cur = cur->isObject() ? cur->find(k) : nullptr;
    if (!cur) return "";
  }
  return cur->isString() ? cur->text() : json::write(*cur);
}

}  // namespace acp::testing
