#define _GNU_SOURCE
#include <errno.h>
#include <sys/socket.h>

#include "sidecar_shims.h"

int sidecar_peer_credentials(int fd, uint32_t *uid, uint32_t *gid, int32_t *pid) {
    struct ucred credentials;
    socklen_t length = sizeof(credentials);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
        return -1;
    }
    *uid = credentials.uid;
    *gid = credentials.gid;
    *pid = credentials.pid;
    return 0;
}

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

int sidecar_peer_groups(int fd, uint32_t *groups, int *count) {
    socklen_t length = (socklen_t)(*count * sizeof(uint32_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &length) != 0) {
        if (errno != ERANGE) return -1;
    }
    *count = (int)(length / sizeof(uint32_t));
    return 0;
}
