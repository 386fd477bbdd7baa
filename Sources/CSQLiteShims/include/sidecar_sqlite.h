#ifndef SIDECAR_SQLITE_H
#define SIDECAR_SQLITE_H

/// The name of a VFS that takes a database path as given: no symlink in it
/// is resolved to a name, so "/proc/self/fd/N/file" opens `file` in the
/// folder already open as N, and nothing is looked up by name again.
#define SIDECAR_PINNED_VFS "sidecar-pinned"

/// Registers SIDECAR_PINNED_VFS (a copy of the default unix VFS) and makes
/// every file SQLite opens in this process open without blocking and be a
/// regular file or a folder: a FIFO, device or socket swapped in for a
/// database fails to open instead of holding a thread. Paths under
/// /proc/self/fd/ are also opened without following a final symlink.
/// Idempotent; returns an SQLite result code.
int sidecar_sqlite_harden(void);

/// O_PATH, which Swift's Glibc module lacks (it needs _GNU_SOURCE): the
/// flag that opens a folder to walk from without reading it.
int sidecar_o_path(void);

#endif
