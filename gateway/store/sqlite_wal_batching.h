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
// - The gathered bytes reach the file before the WAL file is synced, read, truncated, sized,
//   locked or closed, before any write that is not contiguous with them, and right after the
//   page of a commit frame (a frame header whose "database size after commit" field is not
//   zero). A commit frame is the last frame of a transaction and SQLite publishes the
//   transaction to other connections (the wal-index) only after writing it, so readers never
//   see a frame that is still in memory — whatever the synchronous setting. With
//   synchronous=FULL (the store's setting) the sync that makes the commit durable comes after
//   that flush, so durability is exactly SQLite's own.
// - A failed flush is reported as an I/O error by the call that caused it (the commit's write
//   or sync), so SQLite rolls the transaction back as it would for a failed pwrite().
// - Every other file (the database, the wal-index, temporary files) is the default VFS's own,
//   untouched.
#pragma once

namespace acp::store::sqlite {

// Registers the VFS (once per process; thread-safe) and returns its name, for
// sqlite3_open_v2's zVfs argument; nullptr if registration failed (then use the default VFS).
const char* walBatchingVfs();

}  // namespace acp::store::sqlite
