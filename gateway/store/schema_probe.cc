#include "gateway/store/schema_probe.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "gateway/store/pg_connection.h"
#include "gateway/store/pg_schema.h"
#include "gateway/store/sqlite_schema.h"

namespace acp::store {

namespace {

Result<SchemaProbe> probeSqlite(const std::string& path) {
  SchemaProbe p;
  p.current = sqlite::currentSchemaVersion();
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0 && errno != ENOENT)
    return Status::invalid("cannot look at " + path + ": " + std::strerror(errno) +
                           " (run the check as the gateway's user)");
  if (::access(path.c_str(), F_OK) != 0) {
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    if (::access(dir.c_str(), W_OK) != 0)
      return Status::invalid("the database file is not there and its folder " + dir +
                             " is not writable");
    return p;
  }
  p.exists = true;
  // Read-only without leaving a trace: a WAL database whose -wal file is gone (the gateway
  // stopped cleanly) would get new -wal and -shm files from a plain read-only open, so it is
  // opened immutable; with a -wal file (the gateway running, or stopped abruptly) mode=ro reads
  // what the log holds.
  std::string encoded;
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      encoded += buf;
    } else {
      encoded += c;
    }
  }
  const bool walThere = ::access((path + "-wal").c_str(), F_OK) == 0;
  std::string uri = "file:" + encoded + (walThere ? "?mode=ro" : "?immutable=1");
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) !=
      SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::internal("cannot open " + path + " read-only: " + why);
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(
      db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
      -1, &st, nullptr);
  bool hasTable = rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
  sqlite3_finalize(st);
  if (rc != SQLITE_OK) {
    std::string why = sqlite3_errmsg(db);
    sqlite3_close(db);
    return Status::internal("cannot read " + path + ": " + why + " (not an SQLite database?)");
  }
  if (hasTable &&
      sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &st, nullptr) == SQLITE_OK) {
    if (sqlite3_step(st) == SQLITE_ROW) p.version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return p;
}

Result<SchemaProbe> probePostgres(const std::string& uri) {
  SchemaProbe p;
  p.current = pg::currentSchemaVersion();
  pg::PgConnection::Settings settings;
  settings.readOnly = true;
  settings.statementCacheSize = 4;
  auto c = pg::PgConnection::open(uri, settings);
  if (!c.isOk()) return c.status();
  auto has = c.value()->queryInt(
      "SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename = 'schema_version' AND "
      "schemaname = current_schema()");
  if (!has.isOk()) return has.status();
  if (has.value() == 0) return p;
  p.exists = true;
  auto v = c.value()->queryInt("SELECT coalesce(max(version), 0) FROM schema_version");
  if (!v.isOk()) return v.status();
  p.version = static_cast<int>(v.value());
  return p;
}

}  // namespace

Result<SchemaProbe> probeSchema(const std::string& location) {
  if (location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0)
    return probePostgres(location);
  return probeSqlite(location);
}

}  // namespace acp::store
