// Command templatecache is seed 004 (E2B's orchestrator, #2526) done with
// the sidecar: a sandbox template cache. E2B cached the template of a
// failed fetch, so one transient storage error broke that template until
// the cache entry expired (25 h); the fix evicted the entry on failure, and
// eviction deleted the files a reader was still streaming.
//
// Here the cache keeps no entries of its own: the daemon knows which
// templates are present (the command image backend over
// template_store.sh). A fetch that fails is not cached: every reader that
// waited on it gets the same error (one fetch however many ask), calls
// during the back-off get FAILED_PRECONDITION with the time left, and the
// first call after it fetches afresh. And a reader holds a lease while it
// streams a template's files, so that a Prune (the evictor) during the
// read removes nothing it is reading; the template goes once the leases
// are released. Usage:
//
//	go run ./examples/templatecache [--socket PATH] --store DIR [--readers N] [--prune-during-read] TEMPLATE
//
// N readers open TEMPLATE at once and stream its files (rootfs, memfile,
// snapfile under DIR/TEMPLATE); with --prune-during-read the first one
// prunes halfway through. Then a last Prune, with no lease held, evicts
// what nobody uses. The daemon's config must have images.backend =
// "command" with template_store.sh as exists/remove and each template's
// build (main_test.go writes one), and prune_unused_after = "0s" to see
// the eviction at once. Exit 0 when every reader read every byte, 1
// otherwise, 69 when the sidecar cannot be reached.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	sidecar "github.com/sidecar-dev/sidecar/clients/go"
	pb "github.com/sidecar-dev/sidecar/clients/go/sidecarpb"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// templateFiles are what a template is made of, in the order they are read.
var templateFiles = []string{"rootfs", "memfile", "snapfile"}

// Cache opens templates through the sidecar: present, or fetched once
// however many readers ask, and leased while they read.
type Cache struct {
	Client *sidecar.Client
	Store  string        // the folder templates are in
	Holder string        // who the leases are for, e.g. "orchestrator-3"
	TTL    time.Duration // a lease's life; a reader that dies lets go after it
	Log    func(format string, args ...any)
}

// Template is an open template: its files may be read until Close.
type Template struct {
	Name     string
	Dir      string
	Outcome  pb.EnsureImageResponse_Outcome
	Attempts int
	lease    string
	cache    *Cache
}

// Open returns the template, fetching it if it is missing. A failed fetch
// is retried after the back-off the daemon gives (Detail.RetryAfter), until
// ctx ends; a failure nothing can fix (IsPermanent) is returned at once.
func (c *Cache) Open(ctx context.Context, name string) (*Template, error) {
	for attempt := 1; ; attempt++ {
		answer, err := c.Client.EnsureImage(ctx, name, sidecar.WithLease(c.Holder, c.TTL))
		if err == nil {
			return &Template{
				Name: name, Dir: filepath.Join(c.Store, name), Outcome: answer.Outcome, Attempts: attempt,
				lease: answer.Lease.GetId(), cache: c,
			}, nil
		}
		var e *sidecar.Error
		if !errors.As(err, &e) || sidecar.IsPermanent(err) || e.Detail == nil || e.Detail.RetryAfter <= 0 {
			return nil, err
		}
		c.Log("attempt %d: %s: %s; asking again in %.1f s", attempt, e.Code, summary(e.Message), e.Detail.RetryAfter.Seconds())
		timer := time.NewTimer(e.Detail.RetryAfter)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return nil, err
		}
	}
}

// Close releases the template's lease: a Prune may evict it from now on.
func (t *Template) Close() error {
	_, err := t.cache.Client.ReleaseLease(context.Background(), t.lease)
	return err
}

// Stream reads every file of the template in turn, calling halfway once
// it is half way through; it returns the bytes read and their sha256.
func (t *Template) Stream(chunkPause time.Duration, halfway func()) (int64, string, error) {
	hash := sha256.New()
	var total int64
	buf := make([]byte, 64<<10)
	for i, file := range templateFiles {
		if i == len(templateFiles)/2 && halfway != nil {
			halfway()
		}
		f, err := os.Open(filepath.Join(t.Dir, file))
		if err != nil {
			return total, "", err
		}
		for {
			n, err := f.Read(buf)
			hash.Write(buf[:n])
			total += int64(n)
			if err == io.EOF {
				break
			}
			if err != nil {
				f.Close()
				return total, "", err
			}
			time.Sleep(chunkPause)
		}
		f.Close()
	}
	return total, hex.EncodeToString(hash.Sum(nil)), nil
}

// summary is a job's error on one line: the daemon's first line, and the
// last line of the job's output when there is one.
func summary(message string) string {
	lines := strings.Split(strings.TrimSpace(message), "\n")
	if len(lines) == 1 {
		return lines[0]
	}
	return lines[0] + " [" + strings.TrimSpace(lines[len(lines)-1]) + "]"
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("templatecache", flag.ContinueOnError)
	flags.SetOutput(stderr)
	socket := flags.String("socket", "", "the sidecar's socket (default: $SIDECAR_SOCKET, else the default socket)")
	store := flags.String("store", "", "the folder the templates are in (template_store.sh's STORE)")
	readers := flags.Int("readers", 8, "readers that open the template at once")
	prune := flags.Bool("prune-during-read", false, "the first reader prunes halfway through its read")
	pause := flags.Duration("chunk-pause", time.Millisecond, "a pause after each 64 KiB read")
	if err := flags.Parse(args); err != nil || *store == "" || flags.NArg() != 1 || *readers < 1 {
		fmt.Fprintln(stderr, "usage: templatecache [--socket PATH] --store DIR [--readers N] [--prune-during-read] TEMPLATE")
		return 64
	}
	name := flags.Arg(0)
	var opts []sidecar.DialOption
	if *socket != "" {
		opts = append(opts, sidecar.WithSocket(*socket))
	}
	client, err := sidecar.Dial(ctx, append(opts, sidecar.WithClientName("templatecache"))...)
	if err != nil {
		fmt.Fprintln(stderr, "templatecache:", err)
		return 69
	}
	defer client.Close()

	var out sync.Mutex
	logf := func(w io.Writer, format string, args ...any) {
		out.Lock()
		fmt.Fprintf(w, format+"\n", args...)
		out.Unlock()
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	failed := false
	var wg sync.WaitGroup
	for i := 0; i < *readers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cache := &Cache{
				Client: client, Store: *store, Holder: fmt.Sprintf("templatecache/%d/reader-%d", os.Getpid(), i), TTL: time.Minute,
				Log: func(format string, args ...any) { logf(stderr, "reader %d: "+format, append([]any{i}, args...)...) },
			}
			template, err := cache.Open(ctx, name)
			if err != nil {
				logf(stderr, "reader %d: %v", i, err)
				out.Lock()
				failed = true
				out.Unlock()
				return
			}
			var halfway func()
			if i == 0 && *prune {
				halfway = func() {
					pruned, err := client.Prune(ctx)
					if err != nil {
						logf(stderr, "reader %d: prune: %v", i, err)
						return
					}
					logf(stdout, "prune during the read: removed [%s], kept leased [%s]",
						strings.Join(pruned.Removed, " "), strings.Join(pruned.KeptLeased, " "))
				}
			}
			bytes, sum, err := template.Stream(*pause, halfway)
			template.Close()
			if err != nil {
				logf(stderr, "reader %d: reading %s: %v after %d bytes", i, name, err, bytes)
				out.Lock()
				failed = true
				out.Unlock()
				return
			}
			logf(stdout, "reader %d: %s %s after %d attempt(s): read %d bytes, sha256 %s", i, name, template.Outcome, template.Attempts, bytes, sum)
		}(i)
	}
	wg.Wait()

	pruned, err := client.Prune(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "templatecache: prune:", err)
		return 1
	}
	logf(stdout, "prune after the readers: removed [%s], kept leased [%s]", strings.Join(pruned.Removed, " "), strings.Join(pruned.KeptLeased, " "))
	if failed {
		return 1
	}
	return 0
}
