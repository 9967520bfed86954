#include "gateway/http/format.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace acp::http {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// Media type without parameters, lower case; `params` receives "k=v" pairs lower-cased keys.
std::string mediaType(const std::string& value, std::vector<std::pair<std::string, std::string>>* params) {
  size_t semi = value.find(';');
  std::string type = lower(trim(value.substr(0, semi)));
  if (params && semi != std::string::npos) {
    std::string rest = value.substr(semi + 1);
    size_t start = 0;
    while (start < rest.size()) {
      size_t next = rest.find(';', start);
      if (next == std::string::npos) next = rest.size();
      std::string p = trim(rest.substr(start, next - start));
      size_t eq = p.find('=');
      if (eq != std::string::npos) {
        std::string v = trim(p.substr(eq + 1));
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        params->emplace_back(lower(trim(p.substr(0, eq))), v);
      }
      start = next + 1;
    }
  }
  return type;
}

// json / xml / "" (unsupported) for a media type or a _format short name.
std::string classify(const std::string& typeIn) {
  // An unencoded '+' in _format arrives as a space after form decoding.
  std::string type = typeIn;
  for (auto& c : type)
    if (c == ' ') c = '+';
  if (type == "json" || type == "application/fhir+json" || type == "application/json" ||
      type == "application/json+fhir")
    return "json";
  if (type == "xml" || type == "application/fhir+xml" || type == "application/xml" ||
      type == "text/xml" || type == "application/xml+fhir")
    return "xml";
  return "";
}

// The fhirVersion media-type parameter values this server serves: R4 is "4.0" (4.0.1 is
// accepted as the same version).
bool servesFhirVersion(const std::string& v) { return v == "4.0" || v == "4.0.1"; }

}  // namespace

Negotiated responseFormat(const FhirRequest& request) {
  Negotiated n;
  for (const auto& [k, v] : request.query) {
    if (k != "_format") continue;
    std::string c = classify(mediaType(v, nullptr));
    if (c.empty()) {
      n.ok = false;
      n.status = 406;
      n.message = "unsupported _format \"" + v + "\" (use json or xml)";
      return n;
    }
    n.format = c == "xml" ? Format::kXml : Format::kJson;
    return n;
  }
  const std::string& accept = request.header("Accept");
  if (trim(accept).empty()) return n;
  struct Candidate {
    std::string kind;
    double q;
    size_t order;
  };
  std::vector<Candidate> candidates;
  std::vector<std::string> refused;  // kinds named explicitly with q=0
  size_t start = 0, order = 0;
  while (start <= accept.size()) {
    size_t comma = accept.find(',', start);
    if (comma == std::string::npos) comma = accept.size();
    std::vector<std::pair<std::string, std::string>> params;
    std::string type = mediaType(accept.substr(start, comma - start), &params);
    double q = 1.0;
    bool otherVersion = false;
    for (const auto& [pk, pv] : params) {
      if (pk == "q") q = std::strtod(pv.c_str(), nullptr);
      if (pk == "fhirversion" && !servesFhirVersion(pv)) otherVersion = true;
    }
    // A media range for another FHIR version (R4 http.html "FHIR Version parameter") is
    // one this server cannot produce.
    if (otherVersion) {
      ++order;
      start = comma + 1;
      continue;
    }
    std::string kind = classify(type);
    if (!type.empty() && q <= 0 && !kind.empty()) refused.push_back(kind);
    if (!type.empty() && q > 0) {
      if (kind.empty() && (type == "*/*" || type == "application/*")) kind = "*";
      if (!kind.empty()) candidates.push_back({kind, q, order});
    }
    ++order;
    start = comma + 1;
  }
  // A wildcard stands for JSON, or XML when JSON was refused with q=0.
  auto isRefused = [&](const std::string& k) {
    return std::find(refused.begin(), refused.end(), k) != refused.end();
  };
  std::vector<Candidate> usable;
  for (Candidate c : candidates) {
    if (c.kind == "*") c.kind = isRefused("json") ? (isRefused("xml") ? "" : "xml") : "json";
    if (!c.kind.empty() && !isRefused(c.kind)) usable.push_back(c);
  }
  candidates = std::move(usable);
  if (candidates.empty()) {
    n.ok = false;
    n.status = 406;
    n.message = "none of the Accept types is supported (application/fhir+json, application/fhir+xml; "
                "fhirVersion=4.0)";
    return n;
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.q > b.q; });
  n.format = candidates.front().kind == "xml" ? Format::kXml : Format::kJson;
  return n;
}

Negotiated bodyFormat(const FhirRequest& request) {
  Negotiated n;
  std::vector<std::pair<std::string, std::string>> params;
  std::string type = mediaType(request.header("Content-Type"), &params);
  std::string kind = classify(type);
  if (type.empty() || kind.empty() || type == "json" || type == "xml") {
    n.ok = false;
    n.status = 415;
    n.message = type.empty() ? "Content-Type is required (application/fhir+json or application/fhir+xml)"
                             : "unsupported Content-Type \"" + type + "\"";
    return n;
  }
  for (const auto& [k, v] : params) {
    if (k == "charset" && lower(v) != "utf-8") {
      n.ok = false;
      n.status = 415;
      n.message = "unsupported charset \"" + v + "\" (only UTF-8)";
      return n;
    }
    if (k == "fhirversion" && !servesFhirVersion(v)) {
      n.ok = false;
      n.status = 415;
      n.message = "the body is declared as FHIR version \"" + v + "\"; this server takes 4.0 (R4)";
      return n;
    }
  }
  n.format = kind == "xml" ? Format::kXml : Format::kJson;
  return n;
}

const char* contentTypeOf(Format f) {
  return f == Format::kXml ? "application/fhir+xml;charset=utf-8"
                           : "application/fhir+json;charset=utf-8";
}

bool wantsPretty(const FhirRequest& request) {
  for (const auto& [k, v] : request.query)
    if (k == "_pretty") return v == "true";
  return false;
}

}  // namespace acp::http
