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
};

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
  if (f->size > 0 && offset != f->start + static_cast<sqlite3_int64>(f->size)) {
    int rc = flush(f);
    if (rc != SQLITE_OK) return rc;
  }
  if (f->size > 0 && f->size + static_cast<size_t>(n) > kMaxGathered) {
    int rc = flush(f);
    if (rc != SQLITE_OK) return rc;
  }
  bool commitHeader = isCommitFrameHeader(data, n, offset);
  if (f->size == 0) f->start = offset;
  if (static_cast<size_t>(n) >= kMaxGathered || !gather(f, data, static_cast<size_t>(n))) {
    // Too large to gather, or no memory to: written as it comes.
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
    int flushed = flush(f);                                   \
    if (flushed != SQLITE_OK) return flushed;                 \
  } while (0)

int walClose(sqlite3_file* file) {
  auto* f = reinterpret_cast<WalFile*>(file);
  int rc = flush(f);
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

int vfsOpen(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* outFlags) {
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
    registered = sqlite3_vfs_register(&g_vfs, 0) == SQLITE_OK;
  });
  return registered ? kName : nullptr;
}

}  // namespace acp::store::sqlite
