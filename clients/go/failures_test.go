package sidecar_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sidecar "github.com/sidecar-dev/sidecar/clients/go"
	"github.com/sidecar-dev/sidecar/clients/go/internal/daemontest"
	pb "github.com/sidecar-dev/sidecar/clients/go/sidecarpb"
)

// Lost daemons, restarts and GOAWAY: calls fail with Unavailable, never
// hang, and the next call connects again.

func TestNoDaemonIsUnavailableNamingTheSocket(t *testing.T) {
	t.Parallel()
	path := filepath.Join(daemontest.TempDir(t, "scgo-"), "nobody.sock")
	began := time.Now()
	client, err := sidecar.Dial(context.Background(), sidecar.WithSocket(path), sidecar.WithConnectRetry(200*time.Millisecond))
	e := wantCode(t, err, sidecar.Unavailable)
	if client != nil || !strings.Contains(e.Message, path) || !strings.Contains(e.Message, "no such file or directory") {
		t.Fatalf("%v", err)
	}
	if elapsed := time.Since(began); elapsed < 150*time.Millisecond || elapsed > 2*time.Second {
		t.Fatalf("gave up after %v; the retry was 200 ms", elapsed)
	}
	if sidecar.IsPermanent(err) {
		t.Fatal("an absent daemon is not permanent")
	}
	// The context bounds the dial, retry or not.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = sidecar.Dial(ctx, sidecar.WithSocket(path), sidecar.WithConnectRetry(time.Minute))
	wantCode(t, err, sidecar.DeadlineExceeded)
}

func TestADaemonThatRefusesTheConnectionSaysWhyToDial(t *testing.T) {
	t.Parallel()
	d := daemontest.Start(t, daemontest.Options{Limits: "max_connections = 1"})
	// The daemon may not have seen Start's probe go yet.
	var first *sidecar.Client
	daemontest.Eventually(t, 5*time.Second, "a first connection", func() bool {
		var err error
		first, err = sidecar.Dial(testContext(t), sidecar.WithSocket(d.Socket))
		return err == nil
	})
	defer first.Close()
	_, err := sidecar.Dial(testContext(t), sidecar.WithSocket(d.Socket))
	e := wantCode(t, err, sidecar.ResourceExhausted)
	if !strings.Contains(e.Message, "GOAWAY") || !strings.Contains(e.Message, "max_connections") {
		t.Fatalf("%v", err)
	}
	if _, err := first.Health(testContext(t)); err != nil {
		t.Fatalf("the first connection goes on: %v", err)
	}
}

func TestTheDefaultSocket(t *testing.T) {
	if _, err := os.Stat(sidecar.RootSocketPath); err == nil {
		t.Skip("a real sidecard serves " + sidecar.RootSocketPath + " here")
	}
	runtime := daemontest.TempDir(t, "scgo-")
	t.Setenv("SIDECAR_SOCKET", "")
	t.Setenv("XDG_RUNTIME_DIR", runtime)
	if got := sidecar.DefaultSocketPath(); got != runtime+"/sidecar.sock" {
		t.Fatalf("default socket %q", got)
	}
	_, err := sidecar.Dial(context.Background(), sidecar.WithConnectRetry(0))
	e := wantCode(t, err, sidecar.Unavailable)
	if !strings.Contains(e.Message, runtime+"/sidecar.sock") || !strings.Contains(e.Message, sidecar.RootSocketPath) {
		t.Fatalf("the error must name every path looked at: %v", err)
	}

	d := start(t)
	t.Setenv("SIDECAR_SOCKET", d.Socket)
	client, err := sidecar.Dial(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if health, err := client.Health(testContext(t)); err != nil || int(health.Pid) != d.Pid() {
		t.Fatalf("$SIDECAR_SOCKET: %v %v", health, err)
	}
}

func TestARestartedDaemonIsReachedByTheNextCall(t *testing.T) {
	t.Parallel()
	d := start(t)
	client := dial(t, d.Socket, sidecar.WithConnectRetry(5*time.Second))
	ctx := testContext(t)
	first, err := client.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// SIGTERM: the daemon says GOAWAY and exits.
	d.Restart()
	second, err := client.Health(ctx)
	if err != nil || second.Pid == first.Pid || int(second.Pid) != d.Pid() {
		t.Fatalf("after a restart: %v %v", second, err)
	}
	// SIGKILL: no GOAWAY, the connection just ends.
	d.Kill()
	d.Start()
	third, err := client.Health(ctx)
	if err != nil || int(third.Pid) != d.Pid() {
		t.Fatalf("after a kill: %v %v", third, err)
	}
}

func TestADaemonKilledDuringACallFailsItUnavailableThenTheNextCallReconnects(t *testing.T) {
	t.Parallel()
	d := start(t)
	tap := daemontest.NewTap(t, d.Socket)
	client := dial(t, tap.Socket, sidecar.WithConnectRetry(5*time.Second))
	observer := dial(t, d.Socket)
	result := make(chan error, 1)
	go func() {
		_, err := client.DebugSleep(context.Background(), 60*time.Second)
		result <- err
	}()
	daemontest.Eventually(t, 5*time.Second, "the sleep is in flight", func() bool { return inflight(t, observer) == 2 })
	d.Kill()
	select {
	case err := <-result:
		e := wantCode(t, err, sidecar.Unavailable)
		if !strings.Contains(e.Message, tap.Socket) {
			t.Fatalf("the error must name the socket: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the call hangs after the daemon died")
	}
	d.Start()
	health, err := client.Health(testContext(t))
	if err != nil || int(health.Pid) != d.Pid() {
		t.Fatalf("after the kill: %v %v", health, err)
	}
	if n := len(tap.Find(pb.ClientFrame_HELLO, "")); n != 2 {
		t.Fatalf("%d HELLOs; a new connection says HELLO again", n)
	}
}

func TestADroppedConnectionFailsItsCallsAndNoneHangs(t *testing.T) {
	t.Parallel()
	d := start(t)
	tap := daemontest.NewTap(t, d.Socket)
	client := dial(t, tap.Socket)
	ctx := testContext(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[sidecar.Code]int{}
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := client.DebugSleep(ctx, 5*time.Second)
			mu.Lock()
			codes[sidecar.CodeOf(err)]++
			mu.Unlock()
		}()
	}
	daemontest.Eventually(t, 5*time.Second, "the sleeps are in flight", func() bool { return inflight(t, client) == 21 })
	tap.Drop()
	wg.Wait()
	if codes[sidecar.Unavailable] != 20 {
		t.Fatalf("codes %v; every call in flight fails Unavailable", codes)
	}
	if _, err := client.Health(ctx); err != nil || tap.Connections() != 2 {
		t.Fatalf("after the drop: %v, %d connections", err, tap.Connections())
	}
}

func TestAGoawayOnAnIdleConnectionIsHonoured(t *testing.T) {
	t.Parallel()
	d := daemontest.Start(t, daemontest.Options{Limits: `idle_timeout = "100ms"`})
	tap := daemontest.NewTap(t, d.Socket)
	client := dial(t, tap.Socket)
	ctx := testContext(t)
	if _, err := client.Health(ctx); err != nil {
		t.Fatal(err)
	}
	// The daemon looks for idle connections once a second; then it says
	// GOAWAY and closes this one.
	time.Sleep(1500 * time.Millisecond)
	for i := 0; i < 3; i++ {
		if _, err := client.Health(ctx); err != nil {
			t.Fatalf("a call after an idle GOAWAY: %v", err)
		}
	}
	if tap.Connections() != 2 || len(tap.Find(pb.ClientFrame_HELLO, "")) != 2 {
		t.Fatalf("%d connections; the call after the GOAWAY needs a new one", tap.Connections())
	}
}

func TestShutdownAnswersTheCallsInFlightUnavailable(t *testing.T) {
	t.Parallel()
	d := daemontest.Start(t, daemontest.Options{Limits: `drain_timeout = "300ms"`})
	client := dial(t, d.Socket, sidecar.WithConnectRetry(0))
	result := make(chan error, 1)
	go func() {
		_, err := client.DebugSleep(context.Background(), 20*time.Second)
		result <- err
	}()
	daemontest.Eventually(t, 5*time.Second, "the sleep is in flight", func() bool { return inflight(t, client) == 2 })
	d.Signal(syscall.SIGTERM)
	select {
	case err := <-result:
		wantCode(t, err, sidecar.Unavailable)
		if sidecar.IsPermanent(err) {
			t.Fatalf("a shutdown is not permanent: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call outlived the daemon's drain")
	}
	d.Wait()
	// Meanwhile: no daemon, Unavailable naming the socket.
	_, err := client.Health(testContext(t))
	if e := wantCode(t, err, sidecar.Unavailable); !strings.Contains(e.Message, d.Socket) {
		t.Fatalf("%v", err)
	}
	d.Start()
	if _, err := client.Health(testContext(t)); err != nil {
		t.Fatalf("after the restart: %v", err)
	}
}
