// Package daemontest runs the real components the Go client's tests and
// examples talk to: a sidecard on a socket in a temp folder of its own
// (with the command image backend over Tests/Fixtures/image_store.sh, or
// any config), a docker-registry with images pushed by skopeo, and a tap
// that relays a connection to the daemon and records the client's frames.
package daemontest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Root is the repository's top folder.
var Root = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "../../../.."))
}()

// Fixtures.
var (
	ImageStore    = filepath.Join(Root, "Tests/Fixtures/image_store.sh")
	SQLiteFixture = filepath.Join(Root, "Tests/Fixtures/sqlite_fixture.py")
	OCIFixture    = filepath.Join(Root, "Tests/Fixtures/oci_fixture.py")
)

// Sidecard is the daemon binary: $SIDECARD, else the debug build.
func Sidecard() string {
	if path := os.Getenv("SIDECARD"); path != "" {
		return path
	}
	return filepath.Join(Root, ".build/debug/sidecard")
}

// Python is the system python3 (with sqlite3 and python3-protobuf).
func Python() string {
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}

// Require skips the test when a tool is missing, or fails it when
// $SIDECAR_GO_REQUIRE_ALL is set (clients/go/scripts/test.sh sets it, after
// installing everything): a test that cannot run never passes quietly there.
func Require(t testing.TB, paths ...string) {
	t.Helper()
	for _, path := range paths {
		if _, err := os.Stat(path); err != nil {
			if os.Getenv("SIDECAR_GO_REQUIRE_ALL") != "" {
				t.Fatalf("%s is missing (scripts/install-deps.sh test installs it)", path)
			}
			t.Skipf("%s is missing (scripts/install-deps.sh test installs it)", path)
		}
	}
}

// TempDir is a fresh folder under /tmp, short because a Unix socket path
// holds 107 bytes at most; removed when the test ends.
func TempDir(t testing.TB, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// Daemon is a real sidecard process.
type Daemon struct {
	t        testing.TB
	Dir      string
	Socket   string
	StateDir string
	Config   string // the config file's path
	Log      string // the log file's path
	Store    string // the image store of the command backend
	Data     string // the databases root

	cmd    *exec.Cmd
	exited chan struct{}
}

// Options shape a daemon's config: the base has the Debug service on, the
// command image backend over the image store fixture with the Images given,
// Data as the databases root (streak threshold 3) and a "provision" retry
// policy.
type Options struct {
	// Images the command backend builds with the fixture.
	Images []string
	// ImagesConfig: more lines of the [images] table, e.g.
	// `failure_backoff = "1s"`.
	ImagesConfig string
	// Limits: lines of the [limits] table.
	Limits string
	// Extra: more tables, after the others.
	Extra string
	// Config, when set, replaces all of the above.
	Config string
}

// New writes the config of a daemon in a fresh folder; Start starts it.
func New(t testing.TB, o Options) *Daemon {
	t.Helper()
	dir := TempDir(t, "scgo-")
	d := &Daemon{
		t:        t,
		Dir:      dir,
		Socket:   filepath.Join(dir, "sidecar.sock"),
		StateDir: filepath.Join(dir, "state"),
		Config:   filepath.Join(dir, "sidecar.toml"),
		Log:      filepath.Join(dir, "sidecard.log"),
		Store:    filepath.Join(dir, "store"),
		Data:     filepath.Join(dir, "data"),
	}
	for _, folder := range []string{d.Store, d.Data} {
		if err := os.MkdirAll(folder, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	config := o.Config
	if config == "" {
		config = d.baseConfig(o)
	}
	if err := os.WriteFile(d.Config, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Kill)
	return d
}

// Start is New and Start in one.
func Start(t testing.TB, o Options) *Daemon {
	t.Helper()
	return New(t, o).Start()
}

func (d *Daemon) baseConfig(o Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "debug_methods = true\n")
	fmt.Fprintf(&b, "[limits]\n%s\n", o.Limits)
	fmt.Fprintf(&b, "[databases]\nroots = [%q]\nstreak_threshold = 3\n", d.Data)
	fmt.Fprintf(&b, "[retry.policy.provision]\nmax_attempts = 3\nbase_delay = \"10s\"\nmax_delay = \"2m\"\n")
	fmt.Fprintf(&b, "[images]\nbackend = \"command\"\nfailure_backoff = \"30s\"\n%s\n", o.ImagesConfig)
	fmt.Fprintf(&b, "[images.command]\nexists = [%q, \"exists\", %q, \"{name}\"]\n", ImageStore, d.Store)
	fmt.Fprintf(&b, "remove = [%q, \"remove\", %q, \"{name}\"]\npull = []\n", ImageStore, d.Store)
	for _, name := range o.Images {
		fmt.Fprintf(&b, "[[images.image]]\nname = %q\nref = \"localhost/%s:latest\"\n", name, name)
		fmt.Fprintf(&b, "build = [%q, \"build\", %q, %q]\n", ImageStore, d.Store, name)
	}
	b.WriteString(o.Extra)
	b.WriteString("\n")
	return b.String()
}

// Start starts the daemon and waits until its socket accepts connections.
func (d *Daemon) Start() *Daemon {
	d.t.Helper()
	binary := Sidecard()
	if _, err := os.Stat(binary); err != nil {
		d.t.Fatalf("no sidecard at %s: run swift build, or set $SIDECARD", binary)
	}
	log, err := os.OpenFile(d.Log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		d.t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(binary, "--config", d.Config, "--socket", d.Socket, "--state-dir", d.StateDir)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = dieWithTheTest()
	if err := cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.cmd, d.exited = cmd, make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		cmd.Wait()
		close(exited)
	}(cmd, d.exited)
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-d.exited:
			d.t.Fatalf("sidecard exited with %v before it was ready:\n%s", cmd.ProcessState, d.LogText())
		default:
		}
		if probe, err := net.Dial("unix", d.Socket); err == nil {
			probe.Close()
			return d
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("sidecard did not answer on %s:\n%s", d.Socket, d.LogText())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Pid is the running daemon's process id.
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// Kill stops the daemon with SIGKILL (no GOAWAY) and waits until it is gone.
func (d *Daemon) Kill() {
	if d.cmd == nil {
		return
	}
	select {
	case <-d.exited:
	default:
		d.cmd.Process.Kill()
		<-d.exited
	}
}

// Signal sends sig to the daemon.
func (d *Daemon) Signal(sig syscall.Signal) { d.cmd.Process.Signal(sig) }

// Stop sends SIGTERM (drain, GOAWAY, exit) and waits for the exit, which
// must be 0.
func (d *Daemon) Stop() {
	d.t.Helper()
	d.Signal(syscall.SIGTERM)
	d.Wait()
}

// Wait waits for the daemon to exit, which must be 0.
func (d *Daemon) Wait() {
	d.t.Helper()
	select {
	case <-d.exited:
	case <-time.After(40 * time.Second):
		d.t.Fatalf("sidecard did not exit:\n%s", d.LogText())
	}
	if !d.cmd.ProcessState.Success() {
		d.t.Fatalf("sidecard exited with %v:\n%s", d.cmd.ProcessState, d.LogText())
	}
}

// Restart stops the daemon with SIGTERM and starts it again.
func (d *Daemon) Restart() *Daemon {
	d.t.Helper()
	d.Stop()
	return d.Start()
}

// LogText is the daemon's log so far.
func (d *Daemon) LogText() string {
	text, _ := os.ReadFile(d.Log)
	return string(text)
}

// Builds counts the builds of an image the fixture started.
func (d *Daemon) Builds(name string) int {
	text, err := os.ReadFile(filepath.Join(d.Store, "builds.log"))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		d.t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(text), "\n") {
		if line == "start "+name {
			n++
		}
	}
	return n
}

// Flag puts a file beside an image in the store that steers the fixture's
// build: "fail", "hang", "delay" (content: seconds), "base".
func (d *Daemon) Flag(name, flag, content string) {
	if err := os.WriteFile(filepath.Join(d.Store, name+"."+flag), []byte(content), 0o644); err != nil {
		d.t.Fatal(err)
	}
}

// Present tells whether the fixture's store holds an image.
func (d *Daemon) Present(name string) bool {
	_, err := os.Stat(filepath.Join(d.Store, name))
	return err == nil
}

// Database makes a healthy SQLite file of rows rows under Data.
func (d *Daemon) Database(name string, rows int) string {
	d.t.Helper()
	path := filepath.Join(d.Data, name)
	out, err := exec.Command(Python(), SQLiteFixture, "healthy", path, fmt.Sprint(rows)).CombinedOutput()
	if err != nil {
		d.t.Fatalf("sqlite_fixture.py: %v: %s", err, out)
	}
	return path
}

// Eventually polls condition every 10 ms until it holds, and fails the
// test if it never did within timeout.
func Eventually(t testing.TB, timeout time.Duration, what string, condition func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !condition() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dieWithTheTest makes a child process get SIGKILL when the test process
// ends, also when go test kills it at its -timeout (then no Cleanup runs).
func dieWithTheTest() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
