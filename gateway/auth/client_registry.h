// ClientRegistry — the SMART backend-services clients the gateway knows, read from a JSON
// file (gateway.auth.clients; format in docs/security.md, "Clients and tokens"):
//
//   {"clients": [{"clientId": "hospice-epr", "name": "St Elsewhere Hospice EPR",
//                 "organisation": "X81001", "role": "source-system",
//                 "scopes": "system/CarePlan.cruds system/Patient.read",
//                 "jwks": {"keys": [...]}}]}
//
// Each client has exactly one key source: "jwks" (a JWK Set inline), "jwksFile" (a JWK Set
// file), "publicKeyPem" (a PEM public key inline) or "publicKeyFile" (a PEM file); file
// paths are relative to the registry file's folder. "enabled": false keeps a client listed
// but refused at POST /token and its tokens refused at once. Every member is checked —
// unknown members, an unknown role, a scope that is not a valid system scope, a bad or
// missing key, an invalid ODS code and a client id listed twice are errors naming the client
// — and one bad client makes the whole file invalid (never a registry half-loaded).
//
// Reloading: reloadIfChanged() compares the modification time, size and inode of the
// registry file and of every key file it named with what was loaded (a stat each, no read),
// and on a change reads everything again. A new file that is invalid is reported and the
// registry in force stays; the same invalid file is reported once, not at every call.
// Thread-safety: snapshot() and reloadIfChanged() may be called from any thread; a snapshot
// is immutable and stays valid (and unchanged) however many reloads follow.
// Errors: Status::invalid "auth.bad-registry: <path>: <why>"; kNotFound when the file is
// missing.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/auth/keys.h"
#include "gateway/auth/principal.h"
#include "gateway/auth/scopes.h"
#include "gateway/core/status.h"

namespace acp::auth {

struct Client {
  std::string clientId;
  std::string name;          // for people reading logs and the registry; may be ""
  std::string organisation;  // ODS code
  Role role = Role::kNone;
  ScopeSet scopes;           // what it may be granted
  std::vector<Key> keys;     // public keys its assertions may be signed with
  bool enabled = true;
};

// One loaded registry: immutable.
class ClientSet {
 public:
  explicit ClientSet(std::vector<Client> clients) : clients_(std::move(clients)) {}
  // nullptr when unknown.
  const Client* find(std::string_view clientId) const;
  const std::vector<Client>& clients() const { return clients_; }

 private:
  std::vector<Client> clients_;
};

// Parses registry text; `baseDir` resolves relative key file paths, and the paths of the
// files read are appended to `filesRead` (when given). `source` names the text in messages.
Result<std::shared_ptr<const ClientSet>> parseClientRegistry(
    std::string_view text, const std::string& baseDir, const std::string& source,
    std::vector<std::string>* filesRead = nullptr);

class ClientRegistry {
 public:
  // Loads the file; an invalid or missing file is an error (the gateway does not start).
  static Result<std::unique_ptr<ClientRegistry>> open(const std::string& path);

  std::shared_ptr<const ClientSet> snapshot() const;

  // true: a changed file was loaded and is now in force. false: nothing changed (or the
  // change was already reported). An error: the changed file is invalid, and the registry
  // in force is unchanged.
  Result<bool> reloadIfChanged();

  const std::string& path() const { return path_; }

 private:
  struct FileStamp {
    std::string path;
    int64_t mtimeNs = 0;
    int64_t size = -1;
    uint64_t inode = 0;
    bool operator==(const FileStamp& o) const {
      return path == o.path && mtimeNs == o.mtimeNs && size == o.size && inode == o.inode;
    }
  };
  explicit ClientRegistry(std::string path) : path_(std::move(path)) {}
  static FileStamp stamp(const std::string& path);
  // Reads and parses; fills `stamps` (taken before reading, so a change during the read is
  // seen at the next check).
  Result<std::shared_ptr<const ClientSet>> load(std::vector<FileStamp>& stamps) const;

  const std::string path_;
  std::mutex reloadMu_;  // one reload at a time; held across the stats and the read
  mutable std::mutex mu_;  // guards current_
  std::shared_ptr<const ClientSet> current_;
  std::vector<FileStamp> stamps_;  // of the last load attempted (valid or not); reloadMu_
};

}  // namespace acp::auth
