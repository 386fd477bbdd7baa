package sidecar_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	sidecar "github.com/sidecar-dev/sidecar/clients/go"
	"github.com/sidecar-dev/sidecar/clients/go/internal/daemontest"
	pb "github.com/sidecar-dev/sidecar/clients/go/sidecarpb"
)

// recv is Recv bounded in time.
func recv(t *testing.T, stream *sidecar.EventStream) (*pb.Event, error) {
	t.Helper()
	type answer struct {
		event *pb.Event
		err   error
	}
	got := make(chan answer, 1)
	go func() {
		event, err := stream.Recv()
		got <- answer{event, err}
	}()
	select {
	case a := <-got:
		return a.event, a.err
	case <-time.After(15 * time.Second):
		t.Fatal("Recv did not return")
		return nil, nil
	}
}

func TestWatchDeliversTheEventsOfItsPrefixesUntilClosed(t *testing.T) {
	t.Parallel()
	d := start(t, "app")
	tap := daemontest.NewTap(t, d.Socket)
	client := dial(t, tap.Socket)
	ctx := testContext(t)

	stream, err := client.Watch(ctx, "image.job.")
	if err != nil {
		t.Fatal(err)
	}
	// The daemon has read the Watch before it answers a later call on the
	// same connection.
	if _, err := client.Health(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AcquireLease(ctx, "app", "runner-1", time.Minute); err != nil {
		t.Fatal(err) // no event of the prefixes
	}
	if _, err := client.EnsureImage(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	// The job's events, started first and finished last (a daemon may
	// publish others of the prefix between them, e.g. progress).
	var topics []string
	for len(topics) == 0 || topics[len(topics)-1] != "image.job.finished" {
		event, err := recv(t, stream)
		if err != nil {
			t.Fatal(err)
		}
		if event.Subject != "app" || event.TimeUnixMs <= 0 || !strings.HasPrefix(event.Topic, "image.job.") {
			t.Fatalf("event %v", event)
		}
		topics = append(topics, event.Topic)
	}
	if topics[0] != "image.job.started" {
		t.Fatalf("topics %v", topics)
	}
	stream.Close()
	_, err = recv(t, stream)
	wantCode(t, err, sidecar.Canceled)
	watch := tap.Find(pb.ClientFrame_CALL, "Watch")
	if len(watch) != 1 {
		t.Fatalf("watch calls %v", watch)
	}
	daemontest.Eventually(t, 5*time.Second, "CANCEL sent for the watch", func() bool {
		for _, f := range tap.Find(pb.ClientFrame_CANCEL, "") {
			if f.CallId == watch[0].CallId {
				return true
			}
		}
		return false
	})
	daemontest.Eventually(t, 5*time.Second, "the daemon ended the watch", func() bool { return inflight(t, client) == 1 })
}

func TestWatchEndsWithItsContext(t *testing.T) {
	t.Parallel()
	client := dial(t, start(t).Socket)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	stream, err := client.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = recv(t, stream)
	if e := wantCode(t, err, sidecar.DeadlineExceeded); !errors.Is(e, context.DeadlineExceeded) && e.Message == "" {
		t.Fatalf("%v", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	stream, err = client.Watch(ctx, "retry.")
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err = recv(t, stream)
	if e := wantCode(t, err, sidecar.Canceled); !errors.Is(e, context.Canceled) {
		t.Fatalf("%v", err)
	}
	daemontest.Eventually(t, 5*time.Second, "the daemon ended both watches", func() bool { return inflight(t, client) == 1 })
}

func TestShutdownEndsAWatchUnavailable(t *testing.T) {
	t.Parallel()
	d := start(t)
	client := dial(t, d.Socket)
	ctx := testContext(t)
	stream, err := client.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Health(ctx); err != nil {
		t.Fatal(err)
	}
	d.Signal(syscall.SIGTERM)
	_, err = recv(t, stream)
	if errors.Is(err, io.EOF) {
		t.Fatal("a shutdown is not a clean end of the stream")
	}
	wantCode(t, err, sidecar.Unavailable)
	d.Wait()
}
