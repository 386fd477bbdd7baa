#ifndef SIDECAR_SHIMS_H
#define SIDECAR_SHIMS_H

#include <stdint.h>
#include <sys/types.h>

/// The credentials of the process at the other end of a Unix socket, read
/// with SO_PEERCRED. Returns 0, or -1 with errno set.
/// (struct ucred needs _GNU_SOURCE, which Swift's Glibc module lacks.)
int sidecar_peer_credentials(int fd, uint32_t *uid, uint32_t *gid, int32_t *pid);

/// The supplementary groups of the process at the other end of a Unix
/// socket when it connected (SO_PEERGROUPS). On entry *count is the room in
/// `groups`; on return the number of groups (which may exceed the room:
/// call again with more). Returns 0, or -1 with errno set.
int sidecar_peer_groups(int fd, uint32_t *groups, int *count);

/// The file system type (statfs's f_type, e.g. 0x6969 for NFS) of the file
/// system holding `path`. Returns 0, or -1 with errno set.
/// (Swift's Glibc module does not import sys/vfs.h.)
int sidecar_filesystem_type(const char *path, int64_t *type);

/// A file descriptor that refers to process `pid` (close-on-exec) and
/// becomes readable once that process has exited, zombie or reaped
/// (pidfd_open(2), Linux 5.3). Returns it, or -1 with errno set: ESRCH when
/// no such process exists, ENOSYS where the kernel (or a seccomp filter)
/// lacks the call. (Glibc 2.36 declares no wrapper.)
int sidecar_pidfd_open(int32_t pid);

/// The access ACL of `path` (the "system.posix_acl_access" attribute, as
/// the kernel stores it) into `buffer`. Returns its length, 0 when the file
/// has none (its mode is its whole ACL), or -1 with errno set.
/// (Swift's Glibc module does not import sys/xattr.h.)
long sidecar_access_acl(const char *path, uint8_t *buffer, unsigned long size);

#endif
