#include <sys/vfs.h>

#include "sidecar_shims.h"

int sidecar_filesystem_type(const char *path, int64_t *type) {
    struct statfs info;
    if (statfs(path, &info) != 0) return -1;
    *type = (int64_t)info.f_type;
    return 0;
}
