// Reading AuditEvents back through GET /AuditEvent of a real Gateway (test_server.h), in the
// local superuser mode: the events of a search, and the parts of one event the audit tests
// look at (subtypes, patients, resources, the pushed document or message and its details).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gateway/audit/audit_trail.h"
#include "gateway/http/refusal_audit.h"
#include "tests/support/test_server.h"

namespace acp::testing {

// The listener's refusal events (subtype refused), newest first, once at least `count` are in
// the trail — read in-process, so over any transport. A listener notes a refusal just after
// the client can see it (a handshake alert, a closed MLLP connection), so this flushes the
// refusal writer until they are there (bounded: 20 s; fewer then fails the caller's check).
inline std::vector<json::Value> refusalsOnceRecorded(TestServer& server, size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    EXPECT_TRUE(server.gateway().refusals()->flush().isOk());
    std::vector<json::Value> out;
    auto found = server.gateway().audit()->search({{"subtype", "refused"}, {"_count", "1000"}},
                                                  "https://x");
    EXPECT_TRUE(found.isOk()) << found.status().message();
    if (found.isOk())
      if (const json::Value* entries = found.value().find("entry"))
        for (const json::Value& e : entries->items()) out.push_back(*e.find("resource"));
    if (out.size() >= count || std::chrono::steady_clock::now() > deadline) return out;
    std::this_thread::yield();
  }
}

// The events a search of the trail returns, newest first ("" for all, else "?…").
inline std::vector<json::Value> auditEvents(TestServer& server, const std::string& query) {
  HttpResult r = server.get("/AuditEvent" + query);
  EXPECT_EQ(r.status, 200) << r.body;
  std::vector<json::Value> out;
  if (const json::Value* e = r.json.find("entry"))
    for (const json::Value& x : e->items()) out.push_back(*x.find("resource"));
  return out;
}

// Every subtype code of an event.
inline std::vector<std::string> auditSubtypes(const json::Value& event) {
  std::vector<std::string> out;
  if (const json::Value* s = event.find("subtype"))
    for (const json::Value& c : s->items()) out.push_back(c.getString("code"));
  return out;
}

// The entity references of one role code ("1" Patient, "4" Domain Resource).
inline std::vector<std::string> auditEntities(const json::Value& event, const std::string& role) {
  std::vector<std::string> out;
  if (const json::Value* es = event.find("entity"))
    for (const json::Value& e : es->items()) {
      const json::Value* r = e.find("role");
      const json::Value* what = e.find("what");
      if (r && r->getString("code") == role && what && !what->getString("reference").empty())
        out.push_back(what->getString("reference"));
    }
  return out;
}

// The pushed document or message (entity role 20 Job): its identifier value and details.
struct AuditedMessage {
  std::string id;
  std::vector<std::pair<std::string, std::string>> details;
  std::string detail(const std::string& type) const {
    for (const auto& [t, v] : details)
      if (t == type) return v;
    return "";
  }
};
inline AuditedMessage auditMessage(const json::Value& event) {
  AuditedMessage m;
  if (const json::Value* es = event.find("entity"))
    for (const json::Value& e : es->items()) {
      const json::Value* r = e.find("role");
      if (!r || r->getString("code") != "20") continue;
      if (const json::Value* what = e.find("what"))
        if (const json::Value* id = what->find("identifier")) m.id = id->getString("value");
      if (const json::Value* ds = e.find("detail"))
        for (const json::Value& d : ds->items())
          m.details.emplace_back(d.getString("type"), d.getString("valueString"));
    }
  return m;
}

// The client agent (agent[0]): its organisation's ODS code and its network address.
inline std::string auditOrganisation(const json::Value& event) {
  const json::Value& a = event.find("agent")->items()[0];
  const json::Value* who = a.find("who");
  const json::Value* id = who ? who->find("identifier") : nullptr;
  return id ? id->getString("value") : "";
}
inline std::string auditAddress(const json::Value& event) {
  const json::Value& a = event.find("agent")->items()[0];
  const json::Value* n = a.find("network");
  return n ? n->getString("address") : "";
}

// Whether $verify-chain says the trail is intact.
inline bool auditChainIntact(TestServer& server) {
  HttpResult verify = server.get("/AuditEvent/$verify-chain");
  EXPECT_EQ(verify.status, 200) << verify.body;
  const json::Value* params = verify.json.find("parameter");
  if (!params) return false;
  for (const json::Value& p : params->items())
    if (p.getString("name") == "result") return p.find("valueBoolean")->boolean();
  return false;
}

}  // namespace acp::testing
