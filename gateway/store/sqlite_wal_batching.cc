#include "gateway/store/sqlite_wal_batching.h"

#include <sqlite3.h>

#include <cstddef>
#include <cstring>
#include <mutex>

namespace acp::store::sqlite {

namespace {

constexpr const char* kName = "acp-wal-batching";
constexpr int kWalHeaderSize = 32;       // the WAL file's own header, at offset 0
constexpr int kFrameHeaderSize = 24;     // before each page
constexpr size_t kMaxGathered = 4 << 20; // a very large transaction is written in 4 MiB pieces
// The unix VFS writes at most 0x1ffff bytes per call (it masks the length with 0x1ffff, so a
// longer write would be cut, not split): gathered bytes are handed over in pieces this size.
constexpr size_t kMaxWrite = 0x1ffff;

sqlite3_vfs* g_base = nullptr;  // the default VFS, set once at registration
sqlite3_vfs g_vfs;

// A WAL file: our header, then (at kRealOffset) the default VFS's own file structure.
struct WalFile {
  sqlite3_file base;   // pMethods = &kWalMethods
  sqlite3_file* real;  // the default VFS's file
  char* data;          // gathered bytes, to be written at `start`
  size_t size;
  size_t capacity;
  sqlite3_int64 start;
  bool flushAfterNextWrite;  // the last write was a commit frame's header: its page is next
  sqlite3_int64 appendEnd;   // end of the furthest write since the WAL header was written
  struct DbFile* db;         // the same connection's database file (for its write lock)
};

// A database file: the default VFS's file, wrapped only to see the WAL write lock released.
struct DbFile {
  sqlite3_file base;
  sqlite3_file* real;
  WalFile* wal;
  const char* name;
  DbFile* next;
};
std::mutex g_dbMutex;
DbFile* g_dbs = nullptr;  // open database files, found by name pointer when their WAL opens

constexpr size_t kRealOffset = (sizeof(WalFile) + 15) & ~size_t{15};

int flush(WalFile* f) {
  int rc = SQLITE_OK;
  for (size_t done = 0; done < f->size && rc == SQLITE_OK; done += kMaxWrite) {
    size_t n = f->size - done < kMaxWrite ? f->size - done : kMaxWrite;
    rc = f->real->pMethods->xWrite(f->real, f->data + done, static_cast<int>(n),
                                   f->start + static_cast<sqlite3_int64>(done));
  }
  // On failure the bytes are dropped: SQLite treats the write as failed and rolls back.
  f->size = 0;
  return rc;
}

bool gather(WalFile* f, const void* data, size_t n) {
  if (f->size + n > f->capacity) {
    size_t want = f->capacity ? f->capacity : 256 * 1024;
    while (want < f->size + n) want *= 2;
    void* grown = sqlite3_realloc64(f->data, want);
    if (!grown) return false;
    f->data = static_cast<char*>(grown);
    f->capacity = want;
  }
  std::memcpy(f->data + f->size, data, n);
  f->size += n;
  return true;
}

// The "database size after commit" field of a frame header: non-zero only on a commit frame.
bool isCommitFrameHeader(const void* data, int n, sqlite3_int64 offset) {
  if (n != kFrameHeaderSize || offset < kWalHeaderSize) return false;
  const auto* b = static_cast<const unsigned char*>(data);
  return (b[4] | b[5] | b[6] | b[7]) != 0;
}

int walWrite(sqlite3_file* file, const void* data, int n, sqlite3_int64 offset) {
  auto* f = reinterpret_cast<WalFile*>(file);
  if (n <= 0) return f->real->pMethods->xWrite(f->real, data, n, offset);
  bool contiguous = f->size > 0 && offset == f->start + static_cast<sqlite3_int64>(f->size);
  if (f->size > 0 && !contiguous) {
    f->flushAfterNextWrite = false;  // the page awaited did not come
    int rc = flush(f);
    if (rc != SQLITE_OK) return rc;
  }
  if (f->size > 0 && f->size + static_cast<size_t>(n) > kMaxGathered) {
    int rc = flush(f);
    if (rc != SQLITE_OK) return rc;
  }
  if (offset == 0) f->appendEnd = 0;  // the WAL header: the WAL starts again
  // Only appends are gathered, and only from the start of a frame: a frame overwritten in place
  // or a checksum rewritten at commit (wal.c sqlite3WalFrames, walRewriteChecksums), and the
  // part of a frame written after the sync at a sector boundary (walWriteToLog), go now.
  bool append = offset >= f->appendEnd;
  bool startsFrame = offset == 0 || (n == kFrameHeaderSize && offset >= kWalHeaderSize);
  bool commitHeader = append && isCommitFrameHeader(data, n, offset);
  if (offset + n > f->appendEnd) f->appendEnd = offset + n;
  if (f->size == 0) f->start = offset;
  if (!append || (f->size == 0 && !startsFrame) || static_cast<size_t>(n) >= kMaxGathered ||
      !gather(f, data, static_cast<size_t>(n))) {
    int rc = flush(f);
    if (rc != SQLITE_OK) return rc;
    rc = f->real->pMethods->xWrite(f->real, data, n, offset);
    f->flushAfterNextWrite = commitHeader;
    return rc;
  }
  if (f->flushAfterNextWrite) {  // the commit frame is complete: it reaches the file now
    f->flushAfterNextWrite = false;
    return flush(f);
  }
  f->flushAfterNextWrite = commitHeader;
  return SQLITE_OK;
}

// Every other method first writes what is gathered, then hands over to the default VFS.
#define ACP_FLUSH_FIRST(file)                                 \
  auto* f = reinterpret_cast<WalFile*>(file);                 \
  do {                                                        \
    f->flushAfterNextWrite = false;                           \
    int flushed = flush(f);                                   \
    if (flushed != SQLITE_OK) return flushed;                 \
  } while (0)

int walClose(sqlite3_file* file) {
  auto* f = reinterpret_cast<WalFile*>(file);
  int rc = flush(f);
  {
    std::lock_guard<std::mutex> lock(g_dbMutex);
    if (f->db) f->db->wal = nullptr;
    f->db = nullptr;
  }
  int closed = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
  sqlite3_free(f->data);
  f->data = nullptr;
  f->capacity = 0;
  return rc != SQLITE_OK ? rc : closed;
}
int walRead(sqlite3_file* file, void* out, int n, sqlite3_int64 offset) {
  ACP_FLUSH_FIRST(file);
  return f->real->pMethods->xRead(f->real, out, n, offset);
}
int walTruncate(sqlite3_file* file, sqlite3_int64 size) {
  ACP_FLUSH_FIRST(file);
  if (f->appendEnd > size) f->appendEnd = size;
  return f->real->pMethods->xTruncate(f->real, size);
}
int walSync(sqlite3_file* file, int flags) {
  ACP_FLUSH_FIRST(file);
  return f->real->pMethods->xSync(f->real, flags);
}
int walFileSize(sqlite3_file* file, sqlite3_int64* size) {
  ACP_FLUSH_FIRST(file);
  return f->real->pMethods->xFileSize(f->real, size);
}
int walLock(sqlite3_file* file, int level) {
  ACP_FLUSH_FIRST(file);
  return f->real->pMethods->xLock(f->real, level);
}
int walUnlock(sqlite3_file* file, int level) {
  ACP_FLUSH_FIRST(file);
  return f->real->pMethods->xUnlock(f->real, level);
}
int walCheckReservedLock(sqlite3_file* file, int* out) {
  ACP_FLUSH_FIRST(file);
  return f->real->pMethods->xCheckReservedLock(f->real, out);
}
int walFileControl(sqlite3_file* file, int op, void* arg) {
  ACP_FLUSH_FIRST(file);
  return f->real->pMethods->xFileControl(f->real, op, arg);
}
int walSectorSize(sqlite3_file* file) {
  auto* f = reinterpret_cast<WalFile*>(file);
  return f->real->pMethods->xSectorSize(f->real);
}
int walDeviceCharacteristics(sqlite3_file* file) {
  auto* f = reinterpret_cast<WalFile*>(file);
  return f->real->pMethods->xDeviceCharacteristics(f->real);
}

#undef ACP_FLUSH_FIRST

// Version 1: a WAL file is never memory-mapped and holds no shared memory (that is the
// database file's wal-index).
const sqlite3_io_methods kWalMethods = {
    1,           walClose,         walRead,       walWrite,
    walTruncate, walSync,          walFileSize,   walLock,
    walUnlock,   walCheckReservedLock, walFileControl, walSectorSize,
    walDeviceCharacteristics,
    nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};

// ---- database files: forwarded, and the WAL flushed before the write lock is released ----

sqlite3_file* realOf(sqlite3_file* file) { return reinterpret_cast<DbFile*>(file)->real; }
int dbClose(sqlite3_file* file) {
  auto* d = reinterpret_cast<DbFile*>(file);
  {
    std::lock_guard<std::mutex> lock(g_dbMutex);
    for (DbFile** p = &g_dbs; *p; p = &(*p)->next)
      if (*p == d) {
        *p = d->next;
        break;
      }
    if (d->wal) d->wal->db = nullptr;
  }
  return d->real->pMethods->xClose(d->real);
}
int dbRead(sqlite3_file* f, void* o, int n, sqlite3_int64 off) {
  return realOf(f)->pMethods->xRead(realOf(f), o, n, off);
}
int dbWrite(sqlite3_file* f, const void* d, int n, sqlite3_int64 off) {
  return realOf(f)->pMethods->xWrite(realOf(f), d, n, off);
}
int dbTruncate(sqlite3_file* f, sqlite3_int64 s) {
  return realOf(f)->pMethods->xTruncate(realOf(f), s);
}
int dbSync(sqlite3_file* f, int fl) { return realOf(f)->pMethods->xSync(realOf(f), fl); }
int dbFileSize(sqlite3_file* f, sqlite3_int64* s) {
  return realOf(f)->pMethods->xFileSize(realOf(f), s);
}
int dbLock(sqlite3_file* f, int l) { return realOf(f)->pMethods->xLock(realOf(f), l); }
int dbUnlock(sqlite3_file* f, int l) { return realOf(f)->pMethods->xUnlock(realOf(f), l); }
int dbCheckReservedLock(sqlite3_file* f, int* o) {
  return realOf(f)->pMethods->xCheckReservedLock(realOf(f), o);
}
int dbFileControl(sqlite3_file* f, int op, void* a) {
  return realOf(f)->pMethods->xFileControl(realOf(f), op, a);
}
int dbSectorSize(sqlite3_file* f) { return realOf(f)->pMethods->xSectorSize(realOf(f)); }
int dbDeviceCharacteristics(sqlite3_file* f) {
  return realOf(f)->pMethods->xDeviceCharacteristics(realOf(f));
}
int dbShmMap(sqlite3_file* f, int i, int sz, int ext, void volatile** pp) {
  return realOf(f)->pMethods->xShmMap(realOf(f), i, sz, ext, pp);
}
constexpr int kWalWriteLock = 0;  // wal.c WAL_WRITE_LOCK: the first wal-index lock slot
int dbShmLock(sqlite3_file* file, int ofst, int n, int flags) {
  auto* d = reinterpret_cast<DbFile*>(file);
  // Gathered bytes never outlive the write lock: once it is released another connection may
  // write the same offsets (after a rollback the bytes are a dead transaction's frames).
  if ((flags & SQLITE_SHM_UNLOCK) && (flags & SQLITE_SHM_EXCLUSIVE) && ofst <= kWalWriteLock &&
      ofst + n > kWalWriteLock && d->wal) {
    d->wal->flushAfterNextWrite = false;
    flush(d->wal);  // still under the lock; a failure loses only frames SQLite abandoned
  }
  return d->real->pMethods->xShmLock(d->real, ofst, n, flags);
}
void dbShmBarrier(sqlite3_file* f) { realOf(f)->pMethods->xShmBarrier(realOf(f)); }
int dbShmUnmap(sqlite3_file* f, int del) {
  return realOf(f)->pMethods->xShmUnmap(realOf(f), del);
}
int dbFetch(sqlite3_file* f, sqlite3_int64 off, int n, void** pp) {
  return realOf(f)->pMethods->xFetch(realOf(f), off, n, pp);
}
int dbUnfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return realOf(f)->pMethods->xUnfetch(realOf(f), off, p);
}

sqlite3_io_methods g_dbMethods;  // set at registration from the default VFS's version

int vfsOpen(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* outFlags) {
  if ((flags & SQLITE_OPEN_MAIN_DB) && name) {
    auto* d = reinterpret_cast<DbFile*>(file);
    std::memset(d, 0, sizeof(DbFile));
    d->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kRealOffset);
    int rc = g_base->xOpen(g_base, name, d->real, flags, outFlags);
    if (rc != SQLITE_OK) {
      file->pMethods = nullptr;
      return rc;
    }
    d->name = name;
    {
      std::lock_guard<std::mutex> lock(g_dbMutex);
      d->next = g_dbs;
      g_dbs = d;
    }
    g_dbMethods.iVersion = d->real->pMethods->iVersion < 3 ? d->real->pMethods->iVersion : 3;
    file->pMethods = &g_dbMethods;
    return SQLITE_OK;
  }
  if (!(flags & SQLITE_OPEN_WAL)) return g_base->xOpen(g_base, name, file, flags, outFlags);
  auto* f = reinterpret_cast<WalFile*>(file);
  std::memset(f, 0, sizeof(WalFile));
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kRealOffset);
  int rc = g_base->xOpen(g_base, name, f->real, flags, outFlags);
  if (rc != SQLITE_OK) {
    if (f->real->pMethods) f->real->pMethods->xClose(f->real);
    file->pMethods = nullptr;
    return rc;
  }
  {
    std::lock_guard<std::mutex> lock(g_dbMutex);
    const char* db = sqlite3_filename_database(name);
    for (DbFile* d = g_dbs; d; d = d->next)
      if (d->name == db) {
        d->wal = f;
        f->db = d;
        break;
      }
  }
  file->pMethods = &kWalMethods;
  return SQLITE_OK;
}

// The rest of the VFS is the default one's.
int vfsDelete(sqlite3_vfs*, const char* name, int syncDir) {
  return g_base->xDelete(g_base, name, syncDir);
}
int vfsAccess(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_base->xAccess(g_base, name, flags, out);
}
int vfsFullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_base->xFullPathname(g_base, name, n, out);
}
void* vfsDlOpen(sqlite3_vfs*, const char* name) { return g_base->xDlOpen(g_base, name); }
void vfsDlError(sqlite3_vfs*, int n, char* out) { g_base->xDlError(g_base, n, out); }
void (*vfsDlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return g_base->xDlSym(g_base, handle, symbol);
}
void vfsDlClose(sqlite3_vfs*, void* handle) { g_base->xDlClose(g_base, handle); }
int vfsRandomness(sqlite3_vfs*, int n, char* out) { return g_base->xRandomness(g_base, n, out); }
int vfsSleep(sqlite3_vfs*, int us) { return g_base->xSleep(g_base, us); }
int vfsCurrentTime(sqlite3_vfs*, double* out) { return g_base->xCurrentTime(g_base, out); }
int vfsGetLastError(sqlite3_vfs*, int n, char* out) {
  return g_base->xGetLastError ? g_base->xGetLastError(g_base, n, out) : 0;
}
int vfsCurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  if (g_base->iVersion >= 2 && g_base->xCurrentTimeInt64)
    return g_base->xCurrentTimeInt64(g_base, out);
  double days = 0;
  int rc = g_base->xCurrentTime(g_base, &days);
  *out = static_cast<sqlite3_int64>(days * 86400000.0);
  return rc;
}

}  // namespace

const char* walBatchingVfs() {
  static std::once_flag once;
  static bool registered = false;
  std::call_once(once, [] {
    g_base = sqlite3_vfs_find(nullptr);
    if (!g_base) return;
    std::memset(&g_vfs, 0, sizeof g_vfs);
    g_vfs.iVersion = 2;
    g_vfs.szOsFile = static_cast<int>(kRealOffset) + g_base->szOsFile;
    g_vfs.mxPathname = g_base->mxPathname;
    g_vfs.zName = kName;
    g_vfs.xOpen = vfsOpen;
    g_vfs.xDelete = vfsDelete;
    g_vfs.xAccess = vfsAccess;
    g_vfs.xFullPathname = vfsFullPathname;
    g_vfs.xDlOpen = vfsDlOpen;
    g_vfs.xDlError = vfsDlError;
    g_vfs.xDlSym = vfsDlSym;
    g_vfs.xDlClose = vfsDlClose;
    g_vfs.xRandomness = vfsRandomness;
    g_vfs.xSleep = vfsSleep;
    g_vfs.xCurrentTime = vfsCurrentTime;
    g_vfs.xGetLastError = vfsGetLastError;
    g_vfs.xCurrentTimeInt64 = vfsCurrentTimeInt64;
    g_dbMethods = sqlite3_io_methods{3,          dbClose,         dbRead,
                                     dbWrite,    dbTruncate,      dbSync,
                                     dbFileSize, dbLock,          dbUnlock,
                                     dbCheckReservedLock, dbFileControl, dbSectorSize,
                                     dbDeviceCharacteristics, dbShmMap, dbShmLock,
                                     dbShmBarrier, dbShmUnmap, dbFetch, dbUnfetch};
    registered = sqlite3_vfs_register(&g_vfs, 0) == SQLITE_OK;
  });
  return registered ? kName : nullptr;
}

}  // namespace acp::store::sqlite
