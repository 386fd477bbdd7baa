package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	sidecar "github.com/sidecar-dev/sidecar/clients/go"
	"github.com/sidecar-dev/sidecar/clients/go/internal/daemontest"
)

// Seed 004 against a real sidecard with the command backend over
// template_store.sh.
func TestSeed004TemplateCache(t *testing.T) {
	script, err := filepath.Abs("template_store.sh")
	if err != nil {
		t.Fatal(err)
	}
	d := daemontest.New(t, daemontest.Options{})
	command := func(op, name string) string {
		return fmt.Sprintf("[%q, %q, %q, %q]", script, op, d.Store, name)
	}
	config := fmt.Sprintf(`admin_uids = [%d]
[images]
backend = "command"
failure_backoff = "1s"
prune_unused_after = "0s"
presence_ttl = "1ms"
[images.command]
exists = %s
remove = %s
pull = []
`, os.Getuid(), command("exists", "{name}"), command("remove", "{name}"))
	for _, name := range []string{"tmpl", "other"} {
		config += fmt.Sprintf("[[images.image]]\nname = %q\nref = \"localhost/%s:latest\"\nbuild = %s\n", name, name, command("fetch", name))
	}
	if err := os.WriteFile(d.Config, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	d.Start()

	// "other" is present and nobody uses it: the evictor may take it.
	client := dialForTest(t, d.Socket)
	if _, err := client.EnsureImage(context.Background(), "other"); err != nil {
		t.Fatal(err)
	}

	// The first fetch of tmpl fails (a 503 from the bucket).
	if err := os.WriteFile(filepath.Join(d.Store, "tmpl.failures"), []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(d.Store, "fetches.log"))
	var out, errs bytes.Buffer
	code := run(context.Background(), []string{"--socket", d.Socket, "--store", d.Store, "--readers", "20", "--prune-during-read", "tmpl"}, &out, &errs)
	t.Logf("exit %d\nstdout:\n%sstderr:\n%s", code, out.String(), errs.String())
	if code != 0 {
		t.Fatal("templatecache failed")
	}

	// One failed fetch shared by the 20 readers, then one fresh fetch
	// after the back-off: never the failure cached, never 20 fetches.
	fetches, _ := os.ReadFile(filepath.Join(d.Store, "fetches.log"))
	if string(fetches) != "fetch tmpl\nfetch tmpl\n" {
		t.Fatalf("fetches:\n%s", fetches)
	}
	firstErrors := regexp.MustCompile(`(?m)^reader \d+: attempt 1: UNAVAILABLE: (.*); asking again`).FindAllStringSubmatch(errs.String(), -1)
	if len(firstErrors) != 20 {
		t.Fatalf("%d readers saw the failed fetch; want 20", len(firstErrors))
	}
	for _, m := range firstErrors {
		if m[1] != firstErrors[0][1] || !strings.Contains(m[1], "503 Service Unavailable") {
			t.Fatalf("not one shared error: %q vs %q", m[1], firstErrors[0][1])
		}
	}
	// Every reader read all three files whole, the same bytes.
	reads := regexp.MustCompile(`(?m)^reader \d+: tmpl \w+ after \d attempt\(s\): read (\d+) bytes, sha256 (\w+)$`).FindAllStringSubmatch(out.String(), -1)
	if len(reads) != 20 {
		t.Fatalf("%d readers read the template; want 20", len(reads))
	}
	for _, m := range reads {
		if m[1] != "3145728" || m[2] != reads[0][2] {
			t.Fatalf("a reader read %s bytes, sha256 %s; want 3145728, %s", m[1], m[2], reads[0][2])
		}
	}
	// The prune during the read evicted the unused template, and kept the
	// one being read; the prune after the readers evicted it too.
	if !strings.Contains(out.String(), "prune during the read: removed [other], kept leased [tmpl]") {
		t.Fatalf("the prune during the read:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "prune after the readers: removed [tmpl]") {
		t.Fatalf("the prune after the readers:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(d.Store, "tmpl")); !os.IsNotExist(err) {
		t.Fatalf("tmpl is still in the store: %v", err)
	}
}

func dialForTest(t *testing.T, socket string) *sidecar.Client {
	t.Helper()
	client, err := sidecar.Dial(context.Background(), sidecar.WithSocket(socket))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}
