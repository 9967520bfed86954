// FhirRequest / FhirResponse — the transport-neutral form of one FHIR REST exchange.
//
// The Poco adapter (http/http_server.cc) turns HTTP into a FhirRequest and writes the
// FhirResponse back; batch and transaction Bundles build FhirRequests for their entries.
// Plain values; no thread-safety concerns.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace acp::http {

// Who is asking: filled by authentication before any handler runs. With
// gateway.auth.mode=none it is the local superuser.
struct RequestContext {
  std::string client = "local";          // client id (SMART) or certificate subject
  std::string organisation;              // ODS code of the requesting organisation
  std::vector<std::string> scopes = {"system/*.*"};
  std::string purpose = "TREAT";         // purpose of use
  bool superuser = true;
  // The connection's verified client certificate (HTTPS with mutual TLS; http_server.h): the
  // ODS code it names (tls/peer_identity.h) and its subject (RFC 2253). Both "" without one.
  std::string certificateOrganisation;
  std::string certificateSubject;
};

struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const;
};
using HeaderMap = std::map<std::string, std::string, CaseInsensitiveLess>;

struct FhirRequest {
  std::string method;  // GET POST PUT DELETE PATCH HEAD OPTIONS
  std::string path;    // percent-decoded path, e.g. "/Patient/123/_history/2"
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  HeaderMap headers;
  std::string body;
  std::string baseUrl;  // e.g. "http://127.0.0.1:8080" (no trailing slash)
  RequestContext context;

  const std::string& header(const std::string& name) const;
};

struct FhirResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // ETag, Location, ...
  std::string contentType;  // "" when there is no body
  std::string body;
};

// Splits "a=1&b=x%20y" into decoded pairs ('+' is a space, per form encoding).
std::vector<std::pair<std::string, std::string>> parseQueryString(const std::string& q);
std::string percentDecode(const std::string& s, bool plusIsSpace);
std::string percentEncode(const std::string& s);

}  // namespace acp::http
