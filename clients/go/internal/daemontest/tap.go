package daemontest

import (
	"encoding/binary"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/sidecar-dev/sidecar/clients/go/sidecarpb"
)

// Tap is a socket that relays every connection to a daemon's socket, byte
// for byte in both directions, and records the frames the client sent: how
// a test sees what went on the wire (a CALL's timeout_ms, a CANCEL, a new
// HELLO) between a client and a real daemon.
type Tap struct {
	Socket   string
	upstream string
	listener net.Listener

	mu          sync.Mutex
	frames      []*sidecarpb.ClientFrame
	connections int
	open        []net.Conn
}

// NewTap listens on a socket in a temp folder, relaying to upstream.
func NewTap(t testing.TB, upstream string) *Tap {
	t.Helper()
	tap := &Tap{Socket: filepath.Join(TempDir(t, "sctap-"), "tap.sock"), upstream: upstream}
	listener, err := net.Listen("unix", tap.Socket)
	if err != nil {
		t.Fatal(err)
	}
	tap.listener = listener
	t.Cleanup(func() {
		listener.Close()
		tap.Drop()
	})
	go tap.accept()
	return tap
}

func (tap *Tap) accept() {
	for {
		client, err := tap.listener.Accept()
		if err != nil {
			return
		}
		daemon, err := net.Dial("unix", tap.upstream)
		if err != nil {
			client.Close()
			continue
		}
		tap.mu.Lock()
		tap.connections++
		tap.open = append(tap.open, client, daemon)
		tap.mu.Unlock()
		go func() {
			io.Copy(client, daemon)
			client.Close()
		}()
		go func() {
			tap.record(client, daemon)
			daemon.Close()
		}()
	}
}

// record copies the client's frames to the daemon, decoding each.
func (tap *Tap) record(client, daemon net.Conn) {
	var header [4]byte
	for {
		if _, err := io.ReadFull(client, header[:]); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(header[:]))
		if _, err := io.ReadFull(client, body); err != nil {
			return
		}
		frame := new(sidecarpb.ClientFrame)
		if proto.Unmarshal(body, frame) == nil {
			tap.mu.Lock()
			tap.frames = append(tap.frames, frame)
			tap.mu.Unlock()
		}
		if _, err := daemon.Write(append(header[:], body...)); err != nil {
			return
		}
	}
}

// Frames returns the client frames recorded so far, of every connection.
func (tap *Tap) Frames() []*sidecarpb.ClientFrame {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	return append([]*sidecarpb.ClientFrame(nil), tap.frames...)
}

// Find returns the recorded frames of a kind (and a method, when not "").
func (tap *Tap) Find(kind sidecarpb.ClientFrame_Kind, method string) []*sidecarpb.ClientFrame {
	var found []*sidecarpb.ClientFrame
	for _, f := range tap.Frames() {
		if f.Kind == kind && (method == "" || f.Method == method) {
			found = append(found, f)
		}
	}
	return found
}

// Connections counts the connections accepted so far.
func (tap *Tap) Connections() int {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	return tap.connections
}

// Drop closes every relayed connection, as a daemon that vanished would.
func (tap *Tap) Drop() {
	tap.mu.Lock()
	open := tap.open
	tap.open = nil
	tap.mu.Unlock()
	for _, c := range open {
		c.Close()
	}
}
