package sidecar_test

import (
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	sidecar "github.com/sidecar-dev/sidecar/clients/go"
	"github.com/sidecar-dev/sidecar/clients/go/internal/daemontest"
)

// neverPull is seed 003's error: a permanent one.
const neverPull = `Container image "optio-node:latest" is not present with pull policy of Never`

// testContext bounds a test's calls, so that a hang fails instead of
// waiting for go test's own time-out.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dial connects a client to socket, closed when the test ends.
func dial(t *testing.T, socket string, opts ...sidecar.DialOption) *sidecar.Client {
	t.Helper()
	opts = append([]sidecar.DialOption{sidecar.WithSocket(socket), sidecar.WithClientName("go-test")}, opts...)
	client, err := sidecar.Dial(testContext(t), opts...)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

// start starts a daemon with the base config and the given images.
func start(t *testing.T, images ...string) *daemontest.Daemon {
	t.Helper()
	return daemontest.Start(t, daemontest.Options{Images: images})
}

// wantCode fails the test unless err is an *Error with code.
func wantCode(t *testing.T, err error, code sidecar.Code) *sidecar.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %v", code)
	}
	e, ok := err.(*sidecar.Error)
	if !ok {
		t.Fatalf("error %T %v is not a *sidecar.Error; want %v", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("error %v; want code %v", err, code)
	}
	return e
}

// callsTotal reads sidecar_calls_total{method, code} from the daemon.
func callsTotal(t *testing.T, client *sidecar.Client, method, code string) int {
	t.Helper()
	metrics, err := client.Metrics(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	pattern := regexp.MustCompile(`(?m)^sidecar_calls_total\{method="` + regexp.QuoteMeta(method) + `",code="` + code + `"\} (\d+)$`)
	m := pattern.FindStringSubmatch(metrics.Text)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// inflight is the daemon's count of calls in flight, this one included.
func inflight(t *testing.T, client *sidecar.Client) uint32 {
	t.Helper()
	health, err := client.Health(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	return health.InflightCalls
}
