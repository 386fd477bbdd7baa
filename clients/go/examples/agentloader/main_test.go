package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sidecar "github.com/sidecar-dev/sidecar/clients/go"
	"github.com/sidecar-dev/sidecar/clients/go/internal/daemontest"
)

// Seed 000 against a real docker-registry and the daemon's default image
// backend, the OCI layout: two agents sharing a base layer, damaged one
// way at a time, then the registry stopped.
func TestSeed000AgentLoader(t *testing.T) {
	registry := daemontest.StartRegistry(t)
	registry.Push("agent/alpha:1", "shared-base:4096", "alpha-top:2048")
	registry.Push("agent/beta:1", "shared-base:4096", "beta-top:1024")
	d := daemontest.New(t, daemontest.Options{Config: fmt.Sprintf(`debug_methods = true
[images]
insecure_registries = [%q]
presence_ttl = "1ms"
failure_backoff = "1s"

[[images.image]]
name = "alpha"
ref = "alpha:1"
pull = "%s/agent/alpha:1"

[[images.image]]
name = "beta"
ref = "beta:1"
pull = "%s/agent/beta:1"
`, registry.Host, registry.Host, registry.Host)}).Start()
	layout := filepath.Join(d.StateDir, "oci")
	load := func(images ...string) (int, string, string, time.Duration) {
		var stdout, stderr bytes.Buffer
		began := time.Now()
		code := run(context.Background(), append([]string{"--socket", d.Socket, "--layout", layout}, images...), &stdout, &stderr)
		t.Logf("agentloader %v: exit %d\n%s%s", images, code, stdout.String(), stderr.String())
		return code, stdout.String(), stderr.String(), time.Since(began)
	}

	code, out, _, _ := load("alpha", "beta")
	if code != 0 || !strings.Contains(out, "alpha: PULLED alpha:1 sha256:") || !strings.Contains(out, "beta: PULLED beta:1 sha256:") ||
		!strings.Contains(out, "2 files, 6144 bytes: shared-base alpha-top") {
		t.Fatalf("first load: %d\n%s", code, out)
	}
	if code, out, _, _ = load("alpha"); code != 0 || !strings.Contains(out, "alpha: PRESENT") {
		t.Fatalf("second load: %d\n%s", code, out)
	}
	// The layout's file events keep presence true, and a scrub hashes
	// every blob of both images (the shared base once).
	client, err := sidecar.Dial(context.Background(), sidecar.WithSocket(d.Socket))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if health, err := client.Health(context.Background()); err != nil || health.ImagePresence != "events" {
		t.Fatalf("health: %v %v", health, err)
	}
	if scrub, err := client.Scrub(context.Background()); err != nil || scrub.Images != 2 || scrub.Blobs != 7 || len(scrub.Damaged) != 0 {
		t.Fatalf("scrub: %v %v", scrub, err)
	}

	// A half-written blob: cagent failed for ever here.
	truncate(t, blob(t, layout, "alpha:1", 1), 100)
	if code, out, _, _ = load("alpha"); code != 0 || !strings.Contains(out, "alpha: REPAIRED") || !strings.Contains(out, "bytes, not") {
		t.Fatalf("after a truncated blob: %d\n%s", code, out)
	}

	// The registry down: a valid older copy is answered STALE with the
	// pull's error; with none, the loader fails at once, then the image
	// backs off instead of being pulled again and again.
	registry.Stop()
	truncate(t, blob(t, layout, "alpha:1", 1), 5)
	dropRef(t, layout, "beta:1")
	code, out, _, _ = load("beta")
	if code != 0 || !strings.Contains(out, "beta: STALE") || !strings.Contains(out, "refreshing failed") || !strings.Contains(out, "beta-top") {
		t.Fatalf("a valid copy, the registry down: %d\n%s", code, out)
	}
	code, _, errText, took := load("alpha")
	if code != 1 || !strings.Contains(errText, "UNAVAILABLE") || !strings.Contains(errText, "connection refused") ||
		!strings.Contains(errText, "no older copy") || !strings.Contains(errText, "remedy: ") {
		t.Fatalf("no valid copy, the registry down: %d\n%s", code, errText)
	}
	if took > 10*time.Second {
		t.Fatalf("the failure took %v; it must be at once", took)
	}
	code, _, errText, took = load("alpha")
	if code != 1 || !strings.Contains(errText, "UNAVAILABLE") || !strings.Contains(errText, "backing off") || !strings.Contains(errText, "retry after") || took > time.Second {
		t.Fatalf("backing off: %d after %v\n%s", code, took, errText)
	}

	// The registry back, after the back-off (the longer of failure_backoff
	// and the registry_unavailable category's 5 s): whole again.
	registry.Start()
	deadline := time.Now().Add(15 * time.Second)
	for {
		time.Sleep(500 * time.Millisecond)
		code, out, errText, _ = load("alpha")
		if code == 0 || time.Now().After(deadline) || !strings.Contains(errText, "backing off") {
			break
		}
	}
	if code != 0 || !strings.Contains(out, "alpha: REPAIRED") {
		t.Fatalf("the registry back: %d\n%s%s", code, out, errText)
	}
}

// blob returns the path of layer n (bottom first) of ref in the layout.
func blob(t *testing.T, layout, ref string, n int) string {
	t.Helper()
	var index struct {
		Manifests []descriptor `json:"manifests"`
	}
	if err := readJSON(filepath.Join(layout, "index.json"), &index); err != nil {
		t.Fatal(err)
	}
	for _, m := range index.Manifests {
		if m.Annotations["org.opencontainers.image.ref.name"] != ref {
			continue
		}
		var manifest struct {
			Layers []descriptor `json:"layers"`
		}
		if err := readJSON(blobPath(layout, m.Digest), &manifest); err != nil {
			t.Fatal(err)
		}
		return blobPath(layout, manifest.Layers[n].Digest)
	}
	t.Fatalf("%s is not in the layout", ref)
	return ""
}

func blobPath(layout, digest string) string {
	return filepath.Join(layout, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:"))
}

func truncate(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

// dropRef removes ref from index.json, as a crash between writes would.
func dropRef(t *testing.T, layout, ref string) {
	t.Helper()
	path := filepath.Join(layout, "index.json")
	var index map[string]any
	if err := readJSON(path, &index); err != nil {
		t.Fatal(err)
	}
	var kept []any
	for _, m := range index["manifests"].([]any) {
		annotations, _ := m.(map[string]any)["annotations"].(map[string]any)
		if annotations["org.opencontainers.image.ref.name"] != ref {
			kept = append(kept, m)
		}
	}
	index["manifests"] = kept
	data, err := json.Marshal(index)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
