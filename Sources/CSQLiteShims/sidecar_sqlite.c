#define _GNU_SOURCE
#include "sidecar_sqlite.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static sqlite3_vfs pinned_vfs;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int harden_result = SQLITE_ERROR;

static const char pinned_prefix[] = "/proc/self/fd/";

static int sidecar_open(const char *path, int flags, int mode) {
    int extra = O_NONBLOCK | O_CLOEXEC;
    if (strncmp(path, pinned_prefix, sizeof pinned_prefix - 1) == 0) extra |= O_NOFOLLOW;
    int fd = open(path, flags | extra, mode);
    if (fd < 0) return fd;
    struct stat status;
    if (fstat(fd, &status) != 0 || !(S_ISREG(status.st_mode) || S_ISDIR(status.st_mode))) {
        close(fd);
        errno = ENXIO;
        return -1;
    }
    // O_NONBLOCK was only for the open: clear it unless SQLite asked for it.
    if (!(flags & O_NONBLOCK)) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

static int pinned_full_pathname(sqlite3_vfs *vfs, const char *path, int size, char *out) {
    (void)vfs;
    size_t length = strlen(path);
    if (path[0] != '/' || length + 1 > (size_t)size) return SQLITE_CANTOPEN;
    memcpy(out, path, length + 1);
    return SQLITE_OK;
}

static void harden(void) {
    sqlite3_vfs *unix_vfs = sqlite3_vfs_find("unix");
    if (unix_vfs == NULL || unix_vfs->iVersion < 3) return;
    int rc = unix_vfs->xSetSystemCall(unix_vfs, "open", (sqlite3_syscall_ptr)sidecar_open);
    if (rc != SQLITE_OK) {
        harden_result = rc;
        return;
    }
    pinned_vfs = *unix_vfs;
    pinned_vfs.pNext = NULL;
    pinned_vfs.zName = SIDECAR_PINNED_VFS;
    pinned_vfs.xFullPathname = pinned_full_pathname;
    harden_result = sqlite3_vfs_register(&pinned_vfs, 0);
}

int sidecar_sqlite_harden(void) {
    pthread_once(&once, harden);
    return harden_result;
}

int sidecar_o_path(void) {
    return O_PATH;
}
