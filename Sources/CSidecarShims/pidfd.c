#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sidecar_shims.h"

int sidecar_pidfd_open(int32_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}
