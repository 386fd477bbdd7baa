package daemontest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Registry is a real docker-registry (the distribution registry v2) on
// 127.0.0.1 with filesystem storage in a temp folder, and a way to put
// images in it: Tests/Fixtures/oci_fixture.py makes them, skopeo pushes
// them (as Tests/SidecarTestSupport/RegistryService.swift does).
type Registry struct {
	t    testing.TB
	Dir  string
	Host string // "127.0.0.1:PORT"
	cmd  *exec.Cmd
	done chan struct{}
}

// Registry tools.
const (
	DockerRegistry = "/usr/bin/docker-registry"
	Skopeo         = "/usr/bin/skopeo"
)

// StartRegistry starts a registry; it is stopped when the test ends.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	Require(t, DockerRegistry, Skopeo, Python())
	r := &Registry{t: t, Dir: TempDir(t, "scgo-rg-"), Host: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	config := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s/data\n"+
		"  delete:\n    enabled: true\nhttp:\n  addr: %s\n", r.Dir, r.Host)
	if err := os.WriteFile(filepath.Join(r.Dir, "config.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// Start starts the registry process and waits until it answers /v2/.
func (r *Registry) Start() {
	r.t.Helper()
	log, err := os.OpenFile(filepath.Join(r.Dir, "registry.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		r.t.Fatal(err)
	}
	defer log.Close()
	r.cmd = exec.Command(DockerRegistry, "serve", filepath.Join(r.Dir, "config.yml"))
	r.cmd.Stdout, r.cmd.Stderr = log, log
	r.cmd.SysProcAttr = dieWithTheTest()
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		cmd.Wait()
		close(done)
	}(r.cmd, r.done)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if resp, err := http.Get("http://" + r.Host + "/v2/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("docker-registry did not answer on %s; see %s/registry.log", r.Host, r.Dir)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the registry and waits until it is gone: pulls then fail
// with "connection refused".
func (r *Registry) Stop() {
	if r.cmd == nil {
		return
	}
	select {
	case <-r.done:
	default:
		r.cmd.Process.Kill()
		<-r.done
	}
}

// Push makes an image of layers (oci_fixture.py's NAME[:BYTES] specs) and
// pushes it as Host/repository.
func (r *Registry) Push(repository string, layers ...string) {
	r.t.Helper()
	layout, err := os.MkdirTemp(r.Dir, "make-")
	if err != nil {
		r.t.Fatal(err)
	}
	defer os.RemoveAll(layout)
	args := append([]string{OCIFixture, layout, repository}, layers...)
	if out, err := exec.Command(Python(), args...).CombinedOutput(); err != nil {
		r.t.Fatalf("oci_fixture.py: %v: %s", err, out)
	}
	out, err := exec.Command(Skopeo, "copy", "--quiet", "--dest-tls-verify=false",
		"oci:"+layout+":"+repository, "docker://"+r.Host+"/"+repository).CombinedOutput()
	if err != nil {
		r.t.Fatalf("skopeo copy to the registry: %v: %s", err, out)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
