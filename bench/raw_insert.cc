// acp-bench-raw-insert — the reference of the bulk-load scenario: the same rows the gateway
// stored, inserted with sqlite3 directly, as fast as a plain batched insert goes.
//
// Reads every table of --src (a corpus database written by acp-bench-corpus) and inserts its
// rows into --dst, a new database with the same schema (tables and indexes copied from
// --src's sqlite_master, the same page size), WAL, synchronous=FULL, a 32 MiB page cache (the
// gateway's writer caches 24 MiB during a write) and temp_store=MEMORY, in --transactions transactions:
// transaction t holds the t-th slice of every table (rows split evenly), so each commit
// carries about as many resources and index rows as one of the gateway's commits did, and
// every index is maintained as the rows go in. Each row is read from --src through a
// prepared SELECT and inserted with a prepared INSERT binding each column (reading the
// source is inside the timed part: a small share next to the inserts and their commits).
// No JSON parsing, no validation, no index extraction, no mapping: what remains is SQLite.
//
// Usage: acp-bench-raw-insert --src=DB --dst=DB --transactions=T [--unit-table=versions]
// --dst must not exist. Prints one line on stdout:
//   BENCH tables=N rows=R units=U transactions=T seconds=S units_per_s=X rows_per_s=Y
// where units = the rows of --unit-table (resource versions), so units_per_s compares with
// acp-bench-corpus's versions_per_s. Exit codes: 0 ok, 64 bad arguments, 65 --dst exists,
// 70 an SQLite failure (with its message).
// Thread-safety: a single-threaded program.
#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr int kExitUsage = 64;
constexpr int kExitExists = 65;
constexpr int kExitFailure = 70;

struct Args {
  std::string src, dst, unitTable = "versions";
  long transactions = 0;
};

bool parseArgs(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) return false;
    std::string key = arg.substr(2, eq - 2), v = arg.substr(eq + 1);
    char* end = nullptr;
    bool ok = key == "src"          ? (a.src = v, !v.empty())
              : key == "dst"        ? (a.dst = v, !v.empty())
              : key == "unit-table" ? (a.unitTable = v, !v.empty())
              : key == "transactions"
                  ? (a.transactions = std::strtol(v.c_str(), &end, 10),
                     !v.empty() && *end == 0 && a.transactions >= 1 && a.transactions <= 100000000)
                  : false;
    if (!ok) return false;
  }
  return !a.src.empty() && !a.dst.empty() && a.transactions > 0;
}

[[noreturn]] void die(sqlite3* db, const std::string& what) {
  std::cerr << "acp-bench-raw-insert: " << what << ": " << (db ? sqlite3_errmsg(db) : "") << "\n";
  std::exit(kExitFailure);
}

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "";
    sqlite3_free(err);
    std::cerr << "acp-bench-raw-insert: " << sql << ": " << m << "\n";
    std::exit(kExitFailure);
  }
}

sqlite3_stmt* prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) die(db, sql);
  return st;
}

int64_t scalar(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = prepare(db, sql);
  int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  return v;
}

std::string quoted(const std::string& name) { return "\"" + name + "\""; }

struct Table {
  std::string name;
  int columns = 0;
  int64_t rows = 0;
  int64_t perTx = 0;
  bool done = false;  // the SELECT returned SQLITE_DONE (stepping it again would restart it)
  sqlite3_stmt* select = nullptr;
  sqlite3_stmt* insert = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parseArgs(argc, argv, args)) {
    std::cerr << "usage: acp-bench-raw-insert --src=DB --dst=DB --transactions=T "
                 "[--unit-table=versions]\n";
    return kExitUsage;
  }
  struct stat st;
  if (::stat(args.dst.c_str(), &st) == 0) {
    std::cerr << "acp-bench-raw-insert: " << args.dst << " exists; remove it first\n";
    return kExitExists;
  }
  sqlite3* src = nullptr;
  if (sqlite3_open_v2(args.src.c_str(), &src, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
    die(src, "opening " + args.src);
  sqlite3* dst = nullptr;
  if (sqlite3_open_v2(args.dst.c_str(), &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr) != SQLITE_OK)
    die(dst, "opening " + args.dst);

  exec(dst, "PRAGMA page_size=" + std::to_string(scalar(src, "PRAGMA page_size")));
  exec(dst, "PRAGMA journal_mode=WAL");
  exec(dst, "PRAGMA synchronous=FULL");
  exec(dst, "PRAGMA cache_size=-32768");
  exec(dst, "PRAGMA temp_store=MEMORY");

  // The schema: tables first, then indexes (automatic ones come with their tables).
  std::vector<Table> tables;
  {
    sqlite3_stmt* q = prepare(src,
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE "
        "'sqlite_%' ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, rowid");
    exec(dst, "BEGIN");
    while (sqlite3_step(q) == SQLITE_ROW) {
      std::string type = reinterpret_cast<const char*>(sqlite3_column_text(q, 0));
      std::string name = reinterpret_cast<const char*>(sqlite3_column_text(q, 1));
      exec(dst, reinterpret_cast<const char*>(sqlite3_column_text(q, 2)));
      if (type == "table") tables.push_back(Table{name});
    }
    sqlite3_finalize(q);
    exec(dst, "COMMIT");
  }
  int64_t totalRows = 0, units = 0;
  for (Table& t : tables) {
    t.rows = scalar(src, "SELECT count(*) FROM " + quoted(t.name));
    totalRows += t.rows;
    if (t.name == args.unitTable) units = t.rows;
    t.perTx = (t.rows + args.transactions - 1) / args.transactions;
    t.select = prepare(src, "SELECT * FROM " + quoted(t.name));
    t.columns = sqlite3_column_count(t.select);
    std::string sql = "INSERT INTO " + quoted(t.name) + " VALUES(";
    for (int c = 0; c < t.columns; ++c) sql += c ? ",?" : "?";
    t.insert = prepare(dst, sql + ")");
  }
  exec(src, "BEGIN");  // one read snapshot for the whole copy

  auto started = std::chrono::steady_clock::now();
  sqlite3_stmt* begin = prepare(dst, "BEGIN");
  sqlite3_stmt* commit = prepare(dst, "COMMIT");
  for (long tx = 0; tx < args.transactions; ++tx) {
    if (sqlite3_step(begin) != SQLITE_DONE) die(dst, "BEGIN");
    sqlite3_reset(begin);
    for (Table& t : tables) {
      for (int64_t n = 0; n < t.perTx && !t.done; ++n) {
        int rc = sqlite3_step(t.select);
        if (rc == SQLITE_DONE) {
          t.done = true;
          break;
        }
        if (rc != SQLITE_ROW) die(src, "reading " + t.name);
        for (int c = 0; c < t.columns; ++c)
          sqlite3_bind_value(t.insert, c + 1, sqlite3_column_value(t.select, c));
        if (sqlite3_step(t.insert) != SQLITE_DONE) die(dst, "inserting into " + t.name);
        sqlite3_reset(t.insert);
      }
    }
    if (sqlite3_step(commit) != SQLITE_DONE) die(dst, "COMMIT");
    sqlite3_reset(commit);
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (Table& t : tables) {
    sqlite3_finalize(t.select);
    sqlite3_finalize(t.insert);
  }
  sqlite3_finalize(begin);
  sqlite3_finalize(commit);
  exec(src, "COMMIT");
  int64_t copied = 0;
  for (Table& t : tables) copied += scalar(dst, "SELECT count(*) FROM " + quoted(t.name));
  if (copied != totalRows) {
    std::cerr << "acp-bench-raw-insert: copied " << copied << " rows of " << totalRows << "\n";
    return kExitFailure;
  }
  sqlite3_close(src);
  sqlite3_close(dst);
  std::printf("BENCH tables=%zu rows=%lld units=%lld transactions=%ld seconds=%.3f "
              "units_per_s=%.1f rows_per_s=%.1f\n",
              tables.size(), static_cast<long long>(totalRows), static_cast<long long>(units),
              args.transactions, seconds, units / seconds, totalRows / seconds);
  return 0;
}
