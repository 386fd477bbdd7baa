package sidecar

import (
	"os"
	"strconv"
)

// RootSocketPath is where sidecard listens when it runs as root.
const RootSocketPath = "/run/sidecar/sidecar.sock"

// DefaultSocketPath returns the socket a Client connects to when Dial is
// given no WithSocket, by the rule every Sidecar client follows:
// $SIDECAR_SOCKET when set; else /run/sidecar/sidecar.sock when it exists
// (a daemon running as root); else $XDG_RUNTIME_DIR/sidecar.sock (the
// daemon of this user), or /tmp/sidecar-UID/sidecar.sock when
// XDG_RUNTIME_DIR is unset, as the daemon does.
func DefaultSocketPath() string {
	path, _ := resolveDefaultSocket()
	return path
}

// resolveDefaultSocket returns DefaultSocketPath and how errors name it:
// with the other path looked at, when there was one.
func resolveDefaultSocket() (path, name string) {
	if explicit := os.Getenv("SIDECAR_SOCKET"); explicit != "" {
		return explicit, explicit
	}
	if _, err := os.Stat(RootSocketPath); err == nil {
		return RootSocketPath, RootSocketPath
	}
	if runtime := os.Getenv("XDG_RUNTIME_DIR"); runtime != "" {
		path = runtime + "/sidecar.sock"
	} else {
		path = "/tmp/sidecar-" + strconv.Itoa(os.Geteuid()) + "/sidecar.sock"
	}
	return path, path + " (" + RootSocketPath + " does not exist; $SIDECAR_SOCKET is not set)"
}
