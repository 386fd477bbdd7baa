#include "sidecar_shims.h"

#include <errno.h>
#include <sys/xattr.h>

long sidecar_access_acl(const char *path, uint8_t *buffer, unsigned long size) {
    ssize_t length = getxattr(path, "system.posix_acl_access", buffer, size);
    if (length < 0 && (errno == ENODATA || errno == ENOTSUP)) return 0;
    return length;
}
