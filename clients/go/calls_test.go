package sidecar_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	sidecar "github.com/sidecar-dev/sidecar/clients/go"
	"github.com/sidecar-dev/sidecar/clients/go/internal/daemontest"
	pb "github.com/sidecar-dev/sidecar/clients/go/sidecarpb"
)

// Deadlines, cancellation, concurrency and limits, against a real sidecard;
// a tap between client and daemon shows what went on the wire.

func TestTheContextDeadlineIsTheCallsTimeoutOnTheWire(t *testing.T) {
	t.Parallel()
	d := start(t)
	tap := daemontest.NewTap(t, d.Socket)
	client := dial(t, tap.Socket)

	if _, err := client.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := client.Classify(ctx, "connection reset by peer"); err != nil {
		t.Fatal(err)
	}
	health := tap.Find(pb.ClientFrame_CALL, "Health")
	classify := tap.Find(pb.ClientFrame_CALL, "Classify")
	if len(health) != 1 || health[0].TimeoutMs != 0 {
		t.Fatalf("a call without a deadline: %v", health)
	}
	if len(classify) != 1 || classify[0].TimeoutMs <= 1900 || classify[0].TimeoutMs > 2000 {
		t.Fatalf("a call with 2 s left: %v", classify)
	}

	// The daemon enforces it: a 10 s sleep with 200 ms left ends then.
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := client.DebugSleep(ctx, 10*time.Second)
	elapsed := time.Since(began)
	e := wantCode(t, err, sidecar.DeadlineExceeded)
	if !errors.Is(e, context.DeadlineExceeded) || elapsed < 190*time.Millisecond || elapsed > time.Second {
		t.Fatalf("%v after %v", err, elapsed)
	}
	daemontest.Eventually(t, 5*time.Second, "the daemon ended the sleep", func() bool {
		return inflight(t, client) == 1
	})
	if n := callsTotal(t, client, "Debug.Sleep", "DEADLINE_EXCEEDED") + callsTotal(t, client, "Debug.Sleep", "CANCELLED"); n != 1 {
		t.Fatalf("the daemon ended %d sleeps", n)
	}
}

func TestCancellingSendsCancelAndReturnsAtOnce(t *testing.T) {
	t.Parallel()
	d := start(t)
	tap := daemontest.NewTap(t, d.Socket)
	client := dial(t, tap.Socket)

	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() {
		_, err := client.DebugSleep(ctx, 30*time.Second)
		result <- err
	}()
	daemontest.Eventually(t, 5*time.Second, "the sleep is in flight", func() bool { return inflight(t, client) == 2 })
	cancel()
	var err error
	select {
	case err = <-result:
	case <-time.After(100 * time.Millisecond):
		t.Fatal("a cancelled call did not return at once")
	}
	if e := wantCode(t, err, sidecar.Canceled); !errors.Is(e, context.Canceled) {
		t.Fatalf("%v does not wrap context.Canceled", err)
	}
	sleep := tap.Find(pb.ClientFrame_CALL, "Debug.Sleep")
	if len(sleep) != 1 {
		t.Fatalf("sleep calls: %v", sleep)
	}
	daemontest.Eventually(t, 5*time.Second, "CANCEL sent for the sleep's call id", func() bool {
		for _, f := range tap.Find(pb.ClientFrame_CANCEL, "") {
			if f.CallId == sleep[0].CallId {
				return true
			}
		}
		return false
	})
	// The daemon stopped it (CANCELLED) instead of sleeping 30 s; the
	// connection goes on.
	daemontest.Eventually(t, 5*time.Second, "the daemon cancelled the sleep", func() bool {
		return callsTotal(t, client, "Debug.Sleep", "CANCELLED") == 1
	})
	if n := inflight(t, client); n != 1 || tap.Connections() != 1 {
		t.Fatalf("inflight %d, connections %d", n, tap.Connections())
	}

	// A context that already ended sends nothing.
	before := len(tap.Find(pb.ClientFrame_CALL, "Health"))
	_, err = client.Health(ctx)
	wantCode(t, err, sidecar.Canceled)
	if _, err := client.Classify(context.Background(), "i/o timeout"); err != nil {
		t.Fatal(err)
	}
	if after := len(tap.Find(pb.ClientFrame_CALL, "Health")); after != before {
		t.Fatalf("a call whose context had ended went out")
	}
}

func TestAHundredGoroutinesShareOneConnectionAnsweredOutOfOrder(t *testing.T) {
	t.Parallel()
	d := start(t)
	tap := daemontest.NewTap(t, d.Socket)
	client := dial(t, tap.Socket)
	ctx := testContext(t)

	var mu sync.Mutex
	var order []string
	finished := func(what string) {
		mu.Lock()
		order = append(order, what)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	// The slowest call is sent first and must be answered last.
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := client.DebugSleep(ctx, 700*time.Millisecond); err != nil {
			errs <- err
		}
		finished("slow")
	}()
	daemontest.Eventually(t, 5*time.Second, "the slow call is in flight", func() bool { return inflight(t, client) == 2 })
	for i := 0; i < 99; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var err error
			switch i % 3 {
			case 0:
				var h *pb.HealthResponse
				if h, err = client.Health(ctx); err == nil && h.Connections != 1 {
					err = fmt.Errorf("health says %d connections", h.Connections)
				}
			case 1:
				message := fmt.Sprintf("error %d: connection reset by peer", i)
				var v *pb.ClassifyResponse
				if v, err = client.Classify(ctx, message); err == nil && v.Permanent {
					err = fmt.Errorf("%q classified permanent: %v", message, v)
				}
			case 2:
				var s *pb.SleepResponse
				// The daemon's timers tick in whole loop milliseconds: a
				// sleep may end up to 1 ms early.
				if s, err = client.DebugSleep(ctx, time.Duration(i)*time.Millisecond); err == nil && s.SleptSeconds < (float64(i)-1.5)/1000 {
					err = fmt.Errorf("slept %v s for %d ms", s.SleptSeconds, i)
				}
			}
			if err != nil {
				errs <- err
			}
			finished(fmt.Sprint(i))
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(order) != 100 || order[99] != "slow" {
		t.Fatalf("the first call sent was not answered last: %v", order)
	}
	if tap.Connections() != 1 || len(tap.Find(pb.ClientFrame_HELLO, "")) != 1 {
		t.Fatalf("%d connections, %d HELLOs", tap.Connections(), len(tap.Find(pb.ClientFrame_HELLO, "")))
	}
	ids := map[uint64]bool{}
	for _, f := range tap.Find(pb.ClientFrame_CALL, "") {
		if f.CallId == 0 || ids[f.CallId] {
			t.Fatalf("call id %d given twice or zero", f.CallId)
		}
		ids[f.CallId] = true
	}
}

func TestAnOversizedRequestIsRefusedAndTheConnectionGoesOn(t *testing.T) {
	t.Parallel()
	d := daemontest.Start(t, daemontest.Options{Limits: "max_message_bytes = 1024"})
	tap := daemontest.NewTap(t, d.Socket)
	client := dial(t, tap.Socket)
	ctx := testContext(t)
	if got := client.ServerInfo().MaxMessageBytes; got != 1024 {
		t.Fatalf("max message bytes %d", got)
	}

	_, err := client.Classify(ctx, strings.Repeat("x", 4096))
	e := wantCode(t, err, sidecar.ResourceExhausted)
	if !strings.Contains(e.Message, "limits.max_message_bytes") {
		t.Fatalf("message: %q", e.Message)
	}
	if n := len(tap.Find(pb.ClientFrame_CALL, "Classify")); n != 0 {
		t.Fatalf("the oversized request was sent (%d)", n)
	}
	// An answer over the limit: the daemon refuses it.
	_, err = client.Metrics(ctx)
	e = wantCode(t, err, sidecar.ResourceExhausted)
	if !strings.Contains(e.Message, "limits.max_message_bytes") {
		t.Fatalf("message: %q", e.Message)
	}
	// Just under the limit goes through.
	if _, err := client.Classify(ctx, strings.Repeat("y", 900)); err != nil {
		t.Fatal(err)
	}
	if health, err := client.Health(ctx); err != nil || health.State != "serving" || tap.Connections() != 1 {
		t.Fatalf("after: %v %v, %d connections", health, err, tap.Connections())
	}
}

func TestCloseFailsCallsInFlightAndAfter(t *testing.T) {
	t.Parallel()
	d := start(t)
	client, err := sidecar.Dial(testContext(t), sidecar.WithSocket(d.Socket))
	if err != nil {
		t.Fatal(err)
	}
	result := make(chan error, 1)
	go func() {
		_, err := client.DebugSleep(context.Background(), 30*time.Second)
		result <- err
	}()
	observer := dial(t, d.Socket)
	daemontest.Eventually(t, 5*time.Second, "the sleep is in flight", func() bool { return inflight(t, observer) == 2 })
	client.Close()
	select {
	case err := <-result:
		if e := wantCode(t, err, sidecar.Canceled); !errors.Is(e, sidecar.ErrClosed) {
			t.Fatalf("%v is not ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close left a call waiting")
	}
	_, err = client.Health(context.Background())
	if e := wantCode(t, err, sidecar.Canceled); !errors.Is(e, sidecar.ErrClosed) {
		t.Fatalf("%v is not ErrClosed", err)
	}
	client.Close() // twice is fine
}

func TestCallsPastTheDaemonsInflightLimitWaitForASlot(t *testing.T) {
	t.Parallel()
	d := daemontest.Start(t, daemontest.Options{Limits: "max_inflight_per_connection = 4"})
	client := dial(t, d.Socket)
	observer := dial(t, d.Socket) // asks the daemon on a connection of its own
	if got := client.ServerInfo().MaxInflightCalls; got != 4 {
		t.Fatalf("max inflight calls %d", got)
	}
	ctx := testContext(t)
	// Cancelled calls count until the daemon answers them, then free their
	// slots: four of them, and the calls after still get all four.
	for i := 0; i < 4; i++ {
		cancelled, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		_, err := client.DebugSleep(cancelled, time.Second)
		cancel()
		wantCode(t, err, sidecar.DeadlineExceeded)
	}

	began := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	waves, cancelWaves := context.WithTimeout(ctx, 10*time.Second) // a slot that leaked fails here
	defer cancelWaves()
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := client.DebugSleep(waves, 100*time.Millisecond); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a call past the limit: %v", err)
	}
	if t.Failed() {
		return
	}
	if elapsed := time.Since(began); elapsed < 480*time.Millisecond {
		t.Fatalf("20 sleeps of 100 ms, 4 at a time, took %v", elapsed)
	}
	if n := callsTotal(t, observer, "Debug.Sleep", "RESOURCE_EXHAUSTED"); n != 0 {
		t.Fatalf("the daemon refused %d calls", n)
	}

	// A call waiting for a slot gives up with its context.
	for i := 0; i < 4; i++ {
		go client.DebugSleep(ctx, 2*time.Second)
	}
	daemontest.Eventually(t, 5*time.Second, "four sleeps in flight", func() bool { return inflight(t, observer) == 5 })
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	_, err := client.Health(short)
	wantCode(t, err, sidecar.DeadlineExceeded)
}
