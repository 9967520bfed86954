#include "gateway/notify/subscription_rules.h"

#include <Poco/Exception.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cctype>

#include "gateway/search/query.h"

namespace acp::notify {

namespace {

std::string decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool isLoopbackHost(std::string host) {
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (host == "localhost") return true;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  Poco::Net::IPAddress address;
  return Poco::Net::IPAddress::tryParse(host, address) && address.isLoopback();
}

}  // namespace

std::string endpointRefusal(const std::string& endpoint, bool allowPlainHttp) {
  const char* kScheme = "a rest-hook needs an https:// (or http://) endpoint";
  Poco::URI uri;
  try {
    uri = Poco::URI(endpoint);
  } catch (const Poco::Exception&) {
    return kScheme;
  }
  const std::string& scheme = uri.getScheme();  // lower case
  if (scheme != "https" && scheme != "http") return kScheme;
  if (uri.getHost().empty()) return "the endpoint names no host";
  if (scheme == "http" && !allowPlainHttp && !isLoopbackHost(uri.getHost()))
    return "the endpoint must be https://: plain http:// is sent only to this machine "
           "(localhost, 127.0.0.1, ::1) unless gateway.notify.allowPlainHttp is set";
  return "";
}

bool splitCriteria(const std::string& criteria, std::string& type,
                   std::vector<std::pair<std::string, std::string>>& params) {
  size_t q = criteria.find('?');
  type = criteria.substr(0, q);
  params.clear();
  if (type.empty()) return false;
  if (q == std::string::npos) return true;
  std::string rest = criteria.substr(q + 1);
  size_t start = 0;
  while (start <= rest.size()) {
    size_t amp = rest.find('&', start);
    if (amp == std::string::npos) amp = rest.size();
    std::string pair = rest.substr(start, amp - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      params.emplace_back(decode(pair.substr(0, eq)),
                          eq == std::string::npos ? "" : decode(pair.substr(eq + 1)));
    }
    start = amp + 1;
  }
  return true;
}

bool prepareSubscription(json::Value& subscription, const model::Model& model,
                         const std::vector<std::string>& servedTypes, IssueList& issues,
                         bool allowPlainHttp) {
  bool ok = true;
  const json::Value* channel = subscription.find("channel");
  const std::string type = channel ? channel->getString("type") : "";
  if (type != "rest-hook") {
    issues.error("not-supported", "Subscription.channel.type",
                 "only rest-hook channels are served (got \"" + type + "\")",
                 "subscription.channel-not-supported");
    ok = false;
  }
  const std::string endpoint = channel ? channel->getString("endpoint") : "";
  if (std::string why = endpointRefusal(endpoint, allowPlainHttp); !why.empty()) {
    issues.error("value", "Subscription.channel.endpoint", why, "subscription.bad-endpoint");
    ok = false;
  }
  const std::string payload = channel ? channel->getString("payload") : "";
  if (!payload.empty() && payload != "application/fhir+json" && payload != "application/json") {
    issues.error("not-supported", "Subscription.channel.payload",
                 "payload must be application/fhir+json (or empty for a notification without "
                 "the resource)",
                 "subscription.payload-not-supported");
    ok = false;
  }
  std::string criteriaType;
  std::vector<std::pair<std::string, std::string>> params;
  const std::string criteria = subscription.getString("criteria");
  if (!splitCriteria(criteria, criteriaType, params) ||
      std::find(servedTypes.begin(), servedTypes.end(), criteriaType) == servedTypes.end()) {
    issues.error("value", "Subscription.criteria",
                 "criteria must be a search on a served type, e.g. "
                 "CarePlan?patient.identifier=https://fhir.nhs.uk/Id/nhs-number|NNNNNNNNNN",
                 "subscription.bad-criteria");
    ok = false;
  } else {
    search::SearchQuery q;
    IssueList problems;
    search::QueryOptions opts;
    opts.strict = true;
    if (!search::parseQuery(model, criteriaType, params, opts, q, problems)) {
      for (const Issue& i : problems.issues())
        issues.error("value", "Subscription.criteria", i.message, "subscription.bad-criteria");
      ok = false;
    }
  }
  const std::string status = subscription.getString("status");
  if (status == "error") {
    issues.error("business-rule", "Subscription.status",
                 "error is set by the server when delivery fails; write requested or off",
                 "subscription.status-reserved");
    ok = false;
  }
  if (!ok) return false;
  if (status == "requested" || status == "active") {
    subscription.set("status", json::Value::makeString("active"));
    subscription.erase("error");
  }
  return true;
}

}  // namespace acp::notify
