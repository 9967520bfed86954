#include "gateway/auth/client_registry.h"

#include <sys/stat.h>

#include <utility>

#include "gateway/auth/jwk.h"
#include "gateway/core/json.h"

namespace acp::auth {

namespace {

constexpr size_t kMaxRegistryBytes = 4 * 1024 * 1024;
constexpr size_t kMaxKeyFileBytes = 256 * 1024;

bool validClientId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7E || c == '"' || c == '\\') return false;
  }
  return true;
}

// ODS organisation codes: upper-case letters and digits (X81001, RQM, 8HN27...).
bool validOds(const std::string& code) {
  if (code.size() < 3 || code.size() > 12) return false;
  for (char c : code) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

std::string resolve(const std::string& baseDir, const std::string& path) {
  if (path.empty() || path[0] == '/' || baseDir.empty()) return path;
  return baseDir + "/" + path;
}

Result<json::Value> parseJsonText(std::string_view text, const std::string& what) {
  json::Value v;
  json::ParseError error;
  json::ParseLimits limits;
  limits.maxDepth = 16;
  if (!json::parse(text, v, error, limits)) {
    return Status::invalid(what + " is not valid JSON: " + error.message);
  }
  return v;
}

class ClientParser {
 public:
  ClientParser(std::string baseDir, std::vector<std::string>* filesRead)
      : baseDir_(std::move(baseDir)), filesRead_(filesRead) {}

  // The client of `entry`, or a message (without the source prefix) naming it.
  Result<Client> parse(const json::Value& entry, size_t index) {
    std::string where = "client entry " + std::to_string(index);
    if (!entry.isObject()) return fail(where, "is not a JSON object");
    const json::Value* id = entry.find("clientId");
    if (!id || !id->isString() || !validClientId(id->text())) {
      return fail(where, "has no valid \"clientId\" (1 to 128 visible ASCII characters)");
    }
    Client c;
    c.clientId = id->text();
    where = "client \"" + c.clientId + "\"";

    static const char* const kKnown[] = {"clientId", "name", "organisation", "role",
                                         "scopes",   "enabled", "jwks", "jwksFile",
                                         "publicKeyPem", "publicKeyFile"};
    int keySources = 0;
    for (const auto& [name, value] : entry.members()) {
      bool known = false;
      for (const char* k : kKnown) known = known || name == k;
      if (!known) return fail(where, "has an unknown member \"" + name + "\"");
      if (name == "jwks" || name == "jwksFile" || name == "publicKeyPem" ||
          name == "publicKeyFile") {
        ++keySources;
      }
    }

    if (const json::Value* n = entry.find("name")) {
      if (!n->isString()) return fail(where, "\"name\" is not a string");
      c.name = n->text();
    }
    const json::Value* org = entry.find("organisation");
    if (!org || !org->isString() || !validOds(org->text())) {
      return fail(where, "has no valid \"organisation\" (an ODS code such as X81001)");
    }
    c.organisation = org->text();
    const json::Value* role = entry.find("role");
    if (!role || !role->isString()) return fail(where, "has no \"role\"");
    c.role = roleFromName(role->text());
    if (c.role == Role::kNone) {
      return fail(where,
                  "has an unknown role \"" + role->text() +
                      "\" (source-system, gp-practice, urgent-care, privacy-officer, "
                      "service-operator)");
    }
    const json::Value* scopes = entry.find("scopes");
    if (!scopes || !scopes->isString()) return fail(where, "has no \"scopes\" string");
    std::vector<std::string> rejected;
    c.scopes = ScopeSet::parse(scopes->text(), &rejected);
    if (!rejected.empty()) {
      std::string list;
      for (const auto& r : rejected) list += (list.empty() ? "" : ", ") + r;
      return fail(where, "has scopes that are not valid system scopes: " + list);
    }
    if (c.scopes.empty()) return fail(where, "has no scopes");
    if (const json::Value* e = entry.find("enabled")) {
      if (!e->isBool()) return fail(where, "\"enabled\" is not true or false");
      c.enabled = e->boolean();
    }

    if (keySources != 1) {
      return fail(where,
                  "needs exactly one of \"jwks\", \"jwksFile\", \"publicKeyPem\", "
                  "\"publicKeyFile\"");
    }
    auto keys = loadKeys(entry);
    if (!keys.isOk()) return fail(where, keys.status().message());
    c.keys = keys.take();
    return c;
  }

 private:
  static Status fail(const std::string& where, const std::string& why) {
    return Status::invalid(where + " " + why);
  }

  Result<std::string> readFile(const json::Value& member, const char* what) {
    if (!member.isString() || member.text().empty()) {
      return Status::invalid(std::string("\"") + what + "\" is not a file path");
    }
    std::string path = resolve(baseDir_, member.text());
    if (filesRead_) filesRead_->push_back(path);
    return readSmallFile(path, kMaxKeyFileBytes);
  }

  Result<std::vector<Key>> loadKeys(const json::Value& entry) {
    if (const json::Value* jwks = entry.find("jwks")) return keysFromJwks(*jwks);
    if (const json::Value* file = entry.find("jwksFile")) {
      auto text = readFile(*file, "jwksFile");
      if (!text.isOk()) return text.status();
      auto v = parseJsonText(text.value(), resolve(baseDir_, file->text()));
      if (!v.isOk()) return v.status();
      return keysFromJwks(v.value());
    }
    Result<Key> key = Status::internal("no key");
    if (const json::Value* pem = entry.find("publicKeyPem")) {
      if (!pem->isString()) return Status::invalid("\"publicKeyPem\" is not a string");
      key = publicKeyFromPem(pem->text());
    } else if (const json::Value* file = entry.find("publicKeyFile")) {
      auto text = readFile(*file, "publicKeyFile");
      if (!text.isOk()) return text.status();
      key = publicKeyFromPem(text.value());
    }
    if (!key.isOk()) return key.status();
    return std::vector<Key>{key.take()};
  }

  std::string baseDir_;
  std::vector<std::string>* filesRead_;
};

std::string dirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

const Client* ClientSet::find(std::string_view clientId) const {
  for (const auto& c : clients_) {
    if (c.clientId == clientId) return &c;
  }
  return nullptr;
}

Result<std::shared_ptr<const ClientSet>> parseClientRegistry(std::string_view text,
                                                             const std::string& baseDir,
                                                             const std::string& source,
                                                             std::vector<std::string>* filesRead) {
  auto bad = [&](const std::string& why) {
    return Status::invalid("auth.bad-registry: " + source + ": " + why);
  };
  auto doc = parseJsonText(text, "the registry");
  if (!doc.isOk()) return bad(doc.status().message());
  const json::Value& root = doc.value();
  if (!root.isObject()) return bad("the registry is not a JSON object");
  for (const auto& m : root.members()) {
    if (m.first != "clients") return bad("unknown member \"" + m.first + "\" (only \"clients\")");
  }
  const json::Value* list = root.find("clients");
  if (!list || !list->isArray()) return bad("no \"clients\" array");

  ClientParser parser(baseDir, filesRead);
  std::vector<Client> clients;
  for (size_t i = 0; i < list->items().size(); ++i) {
    auto c = parser.parse(list->items()[i], i);
    if (!c.isOk()) return bad(c.status().message());
    for (size_t j = 0; j < clients.size(); ++j) {
      if (clients[j].clientId == c.value().clientId) {
        return bad("client \"" + c.value().clientId + "\" is listed twice (entries " +
                   std::to_string(j) + " and " + std::to_string(i) + ")");
      }
    }
    clients.push_back(c.take());
  }
  return std::shared_ptr<const ClientSet>(std::make_shared<ClientSet>(std::move(clients)));
}

ClientRegistry::FileStamp ClientRegistry::stamp(const std::string& path) {
  FileStamp s;
  s.path = path;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    s.mtimeNs = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    s.size = st.st_size;
    s.inode = st.st_ino;
  }
  return s;
}

Result<std::shared_ptr<const ClientSet>> ClientRegistry::load(
    std::vector<FileStamp>& stamps) const {
  stamps.clear();
  stamps.push_back(stamp(path_));
  auto text = readSmallFile(path_, kMaxRegistryBytes);
  if (!text.isOk()) return text.status();
  std::vector<std::string> files;
  auto set = parseClientRegistry(text.value(), dirOf(path_), path_, &files);
  for (const auto& f : files) stamps.push_back(stamp(f));
  return set;
}

Result<std::unique_ptr<ClientRegistry>> ClientRegistry::open(const std::string& path) {
  std::unique_ptr<ClientRegistry> r(new ClientRegistry(path));
  auto set = r->load(r->stamps_);
  if (!set.isOk()) return set.status();
  r->current_ = set.take();
  return r;
}

std::shared_ptr<const ClientSet> ClientRegistry::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

Result<bool> ClientRegistry::reloadIfChanged() {
  std::lock_guard<std::mutex> reload(reloadMu_);
  bool changed = false;
  for (const auto& s : stamps_) {
    if (!(stamp(s.path) == s)) {
      changed = true;
      break;
    }
  }
  if (!changed) return false;
  std::vector<FileStamp> stamps;
  auto set = load(stamps);
  stamps_ = std::move(stamps);  // an invalid file is reported once, until it changes again
  if (!set.isOk()) return set.status();
  std::lock_guard<std::mutex> lock(mu_);
  current_ = set.take();
  return true;
}

}  // namespace acp::auth
