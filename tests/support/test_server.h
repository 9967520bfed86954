// A real Gateway on 127.0.0.1:0 with a temporary SQLite file, and a real HTTP client
// (Poco::Net::HTTPClientSession) to talk to it. Hermetic: each instance has its own store.
#pragma once

#include <Poco/File.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Path.h>
#include <Poco/StreamCopier.h>
#include <Poco/TemporaryFile.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "gateway/app/gateway.h"
#include "gateway/core/json.h"
#include "tests/support/test_store.h"

namespace acp::testing {

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  json::Value json;  // parsed body when it is JSON

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  // First OperationOutcome issue's error code (details.coding[0].code), or "".
  std::string errorCode() const {
    const json::Value* issues = json.find("issue");
    if (!issues || issues->items().empty()) return "";
    const json::Value* details = issues->items()[0].find("details");
    if (!details) return "";
    const json::Value* coding = details->find("coding");
    return coding && !coding->items().empty() ? coding->items()[0].getString("code") : "";
  }
  std::string issueCode() const {
    const json::Value* issues = json.find("issue");
    return issues && !issues->items().empty() ? issues->items()[0].getString("code") : "";
  }
};

class TestServer {
 public:
  explicit TestServer(app::Options options = {}) {
    dir_ = Poco::TemporaryFile::tempName();
    Poco::File(dir_).createDirectories();
    options.httpHost = "127.0.0.1";
    options.httpPort = 0;
    options.mllpHost = "127.0.0.1";
    options.mllpPort = 0;
    options.logRequests = false;
    // Plain HTTP and MLLP on loopback, unless the test configures a certificate (tests/tls).
    if (options.tlsCertificate.empty()) options.httpTls = options.mllpTls = false;
    // The local superuser (gateway.auth.mode=none), unless the test registers clients
    // (tests/security): then SMART tokens, with the base URL the server is reached at.
    if (options.authClients.empty()) options.authMode = "none";
    // The default store: a file in dir_, or in the PostgreSQL run of a suite a fresh schema
    // (tests/support/test_store.h).
    location_ = std::make_unique<TestStoreLocation>(dir_ + "/t.db");
    if (options.storeUrl == app::Options().storeUrl) options.storeUrl = location_->storeUrl();
    options.conformanceDir = std::string(ACP_SOURCE_DIR) + "/conformance/r4";
    gateway_ = std::make_unique<app::Gateway>(options);
    Status s = gateway_->start();
    if (!s.isOk()) ADD_FAILURE() << "gateway did not start: " << s.message();
  }
  ~TestServer() {
    gateway_.reset();
    location_.reset();
    try {
      Poco::File(dir_).remove(true);
    } catch (...) {
    }
  }

  int port() const { return gateway_->httpPort(); }
  int mllpPort() const { return gateway_->mllpPort(); }
  // The SQLite file of the default store (tests about the SQLite file itself).
  std::string databasePath() const { return dir_ + "/t.db"; }
  // Where the default store is (SqlStore::open takes it), and a connection of its own to it.
  const std::string& storeLocation() const { return location_->location(); }
  std::unique_ptr<SideConnection> side() const { return location_->side(); }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port()); }
  app::Gateway& gateway() { return *gateway_; }

  HttpResult request(const std::string& method, const std::string& path,
                     const std::string& body = "",
                     std::map<std::string, std::string> headers = {}) {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port()));
    session.setTimeout(Poco::Timespan(30, 0));
    Poco::Net::HTTPRequest rq(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    bool hasBody = !body.empty() || method == "POST" || method == "PUT";
    if (hasBody && !headers.count("Content-Type"))
      headers["Content-Type"] = "application/fhir+json";
    for (const auto& [k, v] : headers) rq.set(k, v);
    if (hasBody) rq.setContentLength(static_cast<std::streamsize>(body.size()));
    std::ostream& out = session.sendRequest(rq);
    if (hasBody) out << body;
    Poco::Net::HTTPResponse resp;
    std::istream& in = session.receiveResponse(resp);
    HttpResult r;
    r.status = resp.getStatus();
    for (const auto& [k, v] : resp) {
      std::string lk = k;
      for (auto& c : lk) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[lk] = v;
    }
    Poco::StreamCopier::copyToString(in, r.body);
    if (r.header("content-type").find("json") != std::string::npos) {
      json::ParseError err;
      json::parse(r.body, r.json, err);
    }
    return r;
  }

  HttpResult get(const std::string& path, std::map<std::string, std::string> headers = {}) {
    return request("GET", path, "", std::move(headers));
  }
  HttpResult post(const std::string& path, const std::string& body,
                  std::map<std::string, std::string> headers = {}) {
    return request("POST", path, body, std::move(headers));
  }
  HttpResult put(const std::string& path, const std::string& body,
                 std::map<std::string, std::string> headers = {}) {
    return request("PUT", path, body, std::move(headers));
  }
  HttpResult del(const std::string& path, std::map<std::string, std::string> headers = {}) {
    return request("DELETE", path, "", std::move(headers));
  }

 private:
  std::string dir_;
  std::unique_ptr<TestStoreLocation> location_;
  std::unique_ptr<app::Gateway> gateway_;
};

// Reads a file of the repository (fixtures, conformance data).
inline std::string readRepoFile(const std::string& relative) {
  std::ifstream in(std::string(ACP_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace acp::testing
