package sidecar_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	sidecar "github.com/sidecar-dev/sidecar/clients/go"
	"github.com/sidecar-dev/sidecar/clients/go/internal/daemontest"
	pb "github.com/sidecar-dev/sidecar/clients/go/sidecarpb"
)

// Leases bound to a process (WithHolderPID) against a real sidecard.

// A lease from AcquireLease and one from EnsureImage, both bound to a
// process, hold with no time limit while it lives and are ended by the
// daemon within 2 s of its kill -9 (before it is even reaped), with no
// ReleaseLease. The holder's command name holds ") " so that reading its
// start time must find the fields after the last ')': the daemon refuses
// a start time that is not the process's.
func TestALeaseBoundToAProcessEndsWhenTheProcessExits(t *testing.T) {
	t.Parallel()
	d := start(t, "app")
	client := dial(t, d.Socket)
	ctx := testContext(t)

	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	named := filepath.Join(daemontest.TempDir(t, "scgo-holder-"), "holder) 1 (2")
	if err := os.Symlink(sleep, named); err != nil {
		t.Fatal(err)
	}
	holder := exec.Command(named, "300")
	holder.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	reaped := make(chan struct{})
	go func() {
		<-reaped
		holder.Wait()
	}()
	t.Cleanup(func() {
		holder.Process.Kill()
		select {
		case <-reaped:
		default:
			close(reaped)
		}
	})
	pid := holder.Process.Pid
	startTime, err := sidecar.ProcessStartTime(pid)
	if err != nil || startTime == 0 {
		t.Fatalf("ProcessStartTime(%d) = %d, %v", pid, startTime, err)
	}

	acquired, err := client.AcquireLease(ctx, "app", "go-test/acquired", 0, sidecar.WithHolderPID(pid))
	if err != nil {
		t.Fatal(err)
	}
	if acquired.HolderPid != uint32(pid) || acquired.HolderStartTime != startTime || acquired.ExpiresUnixMs != 0 {
		t.Fatalf("AcquireLease: %v; want holder %d (start time %d), no time limit", acquired, pid, startTime)
	}
	ensured, err := client.EnsureImage(ctx, "app", sidecar.WithLease("go-test/ensured", 0), sidecar.WithHolderPID(pid))
	if err != nil {
		t.Fatal(err)
	}
	if ensured.Outcome != pb.EnsureImageResponse_BUILT || ensured.Lease == nil || ensured.Lease.HolderPid != uint32(pid) ||
		ensured.Lease.HolderStartTime != startTime || ensured.Lease.ExpiresUnixMs != 0 {
		t.Fatalf("EnsureImage: %v; want BUILT with a lease bound to %d, no time limit", ensured, pid)
	}
	if held := leaseIDs(t, client); !held[acquired.Id] || !held[ensured.Lease.Id] {
		t.Fatalf("while the holder runs, leases held: %v", held)
	}

	killed := time.Now()
	if err := holder.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for {
		held := leaseIDs(t, client)
		if !held[acquired.Id] && !held[ensured.Lease.Id] {
			break
		}
		if time.Since(killed) > 2*time.Second {
			t.Fatalf("2 s after the holder's kill -9, leases held: %v\n%s", held, d.LogText())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("both leases ended %v after the holder's kill -9", time.Since(killed).Round(time.Millisecond))
	if ended, released := leasesTotal(t, client, "holder_exited"), leasesTotal(t, client, "released"); ended != 2 || released != 0 {
		t.Fatalf("leases ended by the daemon %d, released %d; want 2, 0", ended, released)
	}
	close(reaped)

	// The holder gone: refused before the daemon is asked.
	asked := callsTotal(t, client, "AcquireLease", "OK") + callsTotal(t, client, "AcquireLease", "FAILED_PRECONDITION")
	_, err = client.AcquireLease(ctx, "app", "go-test/late", 0, sidecar.WithHolderPID(pid))
	wantCode(t, err, sidecar.FailedPrecondition)
	if now := callsTotal(t, client, "AcquireLease", "OK") + callsTotal(t, client, "AcquireLease", "FAILED_PRECONDITION"); now != asked {
		t.Fatalf("the daemon was asked: AcquireLease calls %d, then %d", asked, now)
	}
	_, err = client.AcquireLease(ctx, "app", "go-test/late", 0, sidecar.WithHolderPID(0))
	wantCode(t, err, sidecar.InvalidArgument)
	// No ttl and no holder process: the daemon refuses a lease for ever.
	_, err = client.AcquireLease(ctx, "app", "go-test/late", 0)
	wantCode(t, err, sidecar.InvalidArgument)
	// No lease for it to bind.
	_, err = client.EnsureImage(ctx, "app", sidecar.WithHolderPID(os.Getpid()))
	wantCode(t, err, sidecar.InvalidArgument)
}

// leasesTotal reads sidecar_leases_total{event} from the daemon.
func leasesTotal(t *testing.T, client *sidecar.Client, event string) int {
	t.Helper()
	metrics, err := client.Metrics(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^sidecar_leases_total\{event="` + regexp.QuoteMeta(event) + `"\} (\d+)$`).FindStringSubmatch(metrics.Text)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
