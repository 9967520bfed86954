// A SQLite VFS that writes each transaction's WAL frames with one system call instead of two
// per page.
//
// Why: SQLite writes a WAL frame as two pwrite()s (its 24-byte header, then the page), so a
// commit of 150 dirty pages is 300 system calls before the fsync — on a virtual machine, where
// every system call is costly, most of the commit's time. This VFS wraps the default one and,
// for WAL files only, gathers contiguous writes in memory and hands them to the file in one
// write at the latest possible moment.
//
// Contract (why nothing acknowledged can be lost or seen half-written):
// - Only appends are gathered, and only from the start of a frame. A frame overwritten in
//   place, a checksum rewritten at commit (wal.c walRewriteChecksums) and the part of a frame
//   written after a sync at a sector boundary (walWriteToLog, without powersafe overwrite) are
//   written at once.
// - The gathered bytes reach the file right after the page of a commit frame (a frame header
//   whose "database size after commit" field is not zero), and before the WAL file is synced,
//   read, truncated, sized or closed and before any write that is not contiguous with them.
//   A commit frame is the last frame of a transaction and SQLite publishes the transaction to
//   other connections (the wal-index) only after writing it, so readers never see a frame
//   that is still in memory, whatever the synchronous setting. With synchronous=FULL (the
//   store's setting) the sync that makes the commit durable follows that write, so
//   durability is exactly SQLite's own.
// - Gathered bytes never outlive the connection's WAL write lock: the database file is
//   wrapped too (all else forwarded) and writes them before the lock is released (after a
//   rollback they are the frames a spill wrote, as SQLite itself would have), so no other
//   writer's frames can be overwritten by them later.
// - A failed write is reported as an I/O error by the call that caused it (the commit's
//   write or sync), so SQLite rolls the transaction back as it would for a failed pwrite().
// - Temporary files and the wal-index are the default VFS's own, untouched.
#pragma once

namespace acp::store::sqlite {

// Registers the VFS (once per process; thread-safe) and returns its name, for
// sqlite3_open_v2's zVfs argument; nullptr if registration failed (then use the default VFS).
const char* walBatchingVfs();

}  // namespace acp::store::sqlite
