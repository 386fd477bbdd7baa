package sidecar_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	sidecar "github.com/sidecar-dev/sidecar/clients/go"
	pb "github.com/sidecar-dev/sidecar/clients/go/sidecarpb"
)

// Every method against a real sidecard.

func TestHealthAndServerInfo(t *testing.T) {
	t.Parallel()
	d := start(t)
	client := dial(t, d.Socket)
	health, err := client.Health(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if int(health.Pid) != d.Pid() || health.State != "serving" || health.Version == "" || health.InflightCalls != 1 || health.Connections < 1 ||
		!strings.HasPrefix(health.ImagePresence, "ttl: ") {
		t.Fatalf("health %v; daemon pid %d", health, d.Pid())
	}
	// No [fleet] in the config: fleet mode is off. Every field the daemon
	// sent is one the client knows.
	if health.FleetState != "" || health.FleetHostId != "" || health.FleetReason != "" || health.FleetDegradedSinceUnixMs != 0 ||
		len(health.FleetClaims) != 0 || len(health.FleetWaits) != 0 || len(health.ProtoReflect().GetUnknown()) != 0 {
		t.Fatalf("health %v (unknown fields %x): fleet mode is off", health, health.ProtoReflect().GetUnknown())
	}
	info := client.ServerInfo()
	if info != (sidecar.ServerInfo{ServerVersion: health.Version, MaxMessageBytes: 4 << 20, MaxInflightCalls: 256}) {
		t.Fatalf("server info %+v", info)
	}
	if client.SocketPath() != d.Socket {
		t.Fatalf("socket %q", client.SocketPath())
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	client := dial(t, start(t).Socket)
	ctx := testContext(t)
	verdict, err := client.Classify(ctx, neverPull, sidecar.WithImage("optio-node:latest"))
	if err != nil {
		t.Fatal(err)
	}
	if verdict.Category != "image_missing" || !verdict.Permanent || !strings.Contains(verdict.Remedy, "optio-node:latest") || !strings.HasPrefix(verdict.Rule, "builtin:") {
		t.Fatalf("classify: %v", verdict)
	}
	if unnamed, err := client.Classify(ctx, neverPull); err != nil || strings.Contains(unnamed.Remedy, "optio-node") || strings.Contains(unnamed.Remedy, "{") {
		t.Fatalf("without WithImage the remedy names no image and no placeholder: %v %v", unnamed, err)
	}
	rules, err := client.ListRules(ctx)
	if err != nil || len(rules.Rules) == 0 || rules.Rules[0].Category == "" {
		t.Fatalf("list rules: %v %v", rules, err)
	}
	if rules.Rules[len(rules.Rules)-1].Id != "builtin:container-runtime-exit-125" && !strings.HasPrefix(rules.Rules[len(rules.Rules)-1].Id, "builtin:") {
		t.Fatalf("the built-in rules come last: %v", rules.Rules[len(rules.Rules)-1])
	}
	if v, err := client.Classify(ctx, "", sidecar.WithExitCode(125)); err != nil || v.Category != "container_runtime" {
		t.Fatalf("exit code 125: %v %v", v, err)
	}
	if v, err := client.Classify(ctx, "", sidecar.WithSQLiteCode(11)); err != nil || v.Category != "db_corrupt" {
		t.Fatalf("sqlite code 11: %v %v", v, err)
	}
	v, err := client.Classify(ctx, "")
	wantCode(t, err, sidecar.InvalidArgument)
	if v != nil {
		t.Fatalf("a failed call returns a nil response, not %v", v)
	}
	if !sidecar.IsPermanent(err) || sidecar.CodeOf(err) != sidecar.InvalidArgument {
		t.Fatalf("IsPermanent/CodeOf of %v", err)
	}
}

func TestImagesAndLeases(t *testing.T) {
	t.Parallel()
	d := start(t, "app", "leased")
	client := dial(t, d.Socket)
	ctx := testContext(t)

	built, err := client.EnsureImage(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	if built.Outcome != pb.EnsureImageResponse_BUILT || built.Name != "app" || built.Ref != "localhost/app:latest" || built.JobSeconds <= 0 || built.Lease != nil {
		t.Fatalf("first EnsureImage: %v", built)
	}
	if d.Builds("app") != 1 || !d.Present("app") {
		t.Fatalf("builds %d, present %v", d.Builds("app"), d.Present("app"))
	}
	again, err := client.EnsureImage(ctx, "localhost/app:latest", sidecar.WithLease("runner-7/task-1", 90*time.Second+time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if again.Outcome != pb.EnsureImageResponse_PRESENT || again.Lease == nil || again.Lease.Holder != "runner-7/task-1" || d.Builds("app") != 1 {
		t.Fatalf("second EnsureImage: %v", again)
	}
	// The TTL went as 91 whole seconds (rounded up).
	if left := time.Until(time.UnixMilli(again.Lease.ExpiresUnixMs)); left < 89*time.Second || left > 92*time.Second {
		t.Fatalf("lease expires in %v", left)
	}

	images, err := client.ListImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*pb.ImageInfo{}
	for _, image := range images.Images {
		byName[image.Name] = image
	}
	if !byName["app"].GetPresent() || byName["app"].GetRef() != "localhost/app:latest" || byName["leased"].GetPresent() {
		t.Fatalf("images: %v", images)
	}

	lease, err := client.AcquireLease(ctx, "leased", "runner-8", 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if lease.Id == "" || lease.Holder != "runner-8" || lease.Target != "leased" || lease.ExpiresUnixMs <= time.Now().UnixMilli() {
		t.Fatalf("lease: %v", lease)
	}
	held := leaseIDs(t, client)
	if !held[lease.Id] || !held[again.Lease.Id] {
		t.Fatalf("leases held: %v", held)
	}
	if _, err := client.ReleaseLease(ctx, lease.Id); err != nil {
		t.Fatal(err)
	}
	if leaseIDs(t, client)[lease.Id] {
		t.Fatal("the released lease is still listed")
	}
	_, err = client.ReleaseLease(ctx, lease.Id)
	wantCode(t, err, sidecar.NotFound)
	_, err = client.AcquireLease(ctx, "", "runner-8", time.Minute)
	wantCode(t, err, sidecar.InvalidArgument)

	// The command backend keeps no blobs of its own: nothing to scrub.
	_, err = client.Scrub(ctx)
	if e := wantCode(t, err, sidecar.FailedPrecondition); !strings.Contains(e.Message, "oci-layout") {
		t.Fatalf("scrub: %v", err)
	}

	pruned, err := client.Prune(ctx, sidecar.DryRun())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range pruned.Removed {
		if name == "app" {
			t.Fatalf("a dry run would prune the leased image: %v", pruned)
		}
	}
	if !d.Present("app") {
		t.Fatal("a dry run removed the image")
	}
}

func leaseIDs(t *testing.T, client *sidecar.Client) map[string]bool {
	t.Helper()
	leases, err := client.ListLeases(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, l := range leases.Leases {
		ids[l.Id] = true
	}
	return ids
}

func TestAFailedBuildIsUnavailableWithItsDetailThenBacksOff(t *testing.T) {
	t.Parallel()
	d := start(t, "broken")
	client := dial(t, d.Socket)
	ctx := testContext(t)
	d.Flag("broken", "fail", "")

	// No rule knows the build's output: transient, Unavailable.
	_, err := client.EnsureImage(ctx, "broken")
	failed := wantCode(t, err, sidecar.Unavailable)
	if !strings.Contains(failed.Message, "no space left in the test") || failed.Detail == nil || failed.Detail.Category == "" || failed.Detail.Remedy == "" {
		t.Fatalf("failed: %#v %+v", failed, failed.Detail)
	}
	var asError *sidecar.Error
	if !errors.As(err, &asError) || sidecar.IsPermanent(err) != failed.Detail.Permanent {
		t.Fatal("errors.As or IsPermanent disagree with the detail")
	}

	// The back-off answers what the failure was, with the time left.
	_, err = client.EnsureImage(ctx, "broken")
	backingOff := wantCode(t, err, sidecar.Unavailable)
	if backingOff.Detail == nil || backingOff.Detail.RetryAfter <= 0 || backingOff.Detail.RetryAfter > 30*time.Second {
		t.Fatalf("backing off: %+v", backingOff.Detail)
	}
	if d.Builds("broken") != 1 {
		t.Fatalf("%d builds; the back-off must not build", d.Builds("broken"))
	}
	_, err = client.EnsureImage(ctx, "nobody-knows-me")
	wantCode(t, err, sidecar.NotFound)
}

func TestDatabases(t *testing.T) {
	t.Parallel()
	d := start(t)
	client := dial(t, d.Socket)
	ctx := testContext(t)
	healthy := d.Database("inbound.db", 200)

	check, err := client.CheckDb(ctx, healthy)
	if err != nil {
		t.Fatal(err)
	}
	if check.Verdict != pb.DbVerdict_OK || check.ResolvedPath != healthy {
		t.Fatalf("check: %v", check)
	}
	damaged := d.Database("outbound.db", 2000)
	damage(t, damaged)
	full, err := client.CheckDb(ctx, damaged, sidecar.FullCheck(), sidecar.WithMaxErrors(3))
	if err != nil {
		t.Fatal(err)
	}
	if full.Verdict != pb.DbVerdict_CORRUPT || len(full.Messages) < 1 || len(full.Messages) > 3 {
		t.Fatalf("full check of a damaged file: %v", full)
	}
	if missing, err := client.CheckDb(ctx, filepath.Join(d.Data, "none.db")); err != nil || missing.Verdict != pb.DbVerdict_MISSING {
		t.Fatalf("missing: %v %v", missing, err)
	}
	_, err = client.CheckDb(ctx, d.Config)
	outside := wantCode(t, err, sidecar.PermissionDenied)
	if !strings.HasPrefix(outside.Message, "OUTSIDE_ROOTS:") || outside.Detail == nil || outside.Detail.Category != "outside_roots" {
		t.Fatalf("outside the roots: %#v", outside)
	}

	for streak := uint32(1); streak < 3; streak++ {
		answer, err := client.ReportDbError(ctx, healthy, "runner-7", "database disk image is malformed")
		if err != nil {
			t.Fatal(err)
		}
		if answer.Action != pb.ReportDbErrorResponse_CONTINUE || answer.Streak != streak || answer.Threshold != 3 {
			t.Fatalf("report %d: %v", streak, answer)
		}
	}
	torn, err := client.ReportDbError(ctx, healthy, "runner-7", "", sidecar.WithSQLiteCode(11))
	if err != nil {
		t.Fatal(err)
	}
	if torn.Action != pb.ReportDbErrorResponse_EXIT_TEMPFAIL || torn.Verdict != pb.DbVerdict_OK {
		t.Fatalf("at the threshold on an intact file: %v", torn)
	}
	if ok, err := client.ReportDbError(ctx, healthy, "runner-7", "", sidecar.AsSuccess()); err != nil || ok.Streak != 0 {
		t.Fatalf("a success: %v %v", ok, err)
	}
	for i := 0; i < 2; i++ {
		if _, err := client.ReportDbError(ctx, damaged, "runner-7", "", sidecar.WithSQLiteCode(11)); err != nil {
			t.Fatal(err)
		}
	}
	corrupt, err := client.ReportDbError(ctx, damaged, "runner-7", "database disk image is malformed")
	if err != nil {
		t.Fatal(err)
	}
	if corrupt.Action != pb.ReportDbErrorResponse_CORRUPT || corrupt.Verdict != pb.DbVerdict_CORRUPT || !strings.Contains(corrupt.Remedy, ".recover") {
		t.Fatalf("at the threshold on a damaged file: %v", corrupt)
	}
}

// damage overwrites b-tree pages with garbage, as DatabaseTests.swift does.
func damage(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	garbage := make([]byte, 4096*8)
	for i := range garbage {
		garbage[i] = byte(i*131 + 7)
	}
	if _, err := f.WriteAt(garbage, 4096*10); err != nil {
		t.Fatal(err)
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	client := dial(t, start(t).Socket)
	ctx := testContext(t)

	grant, err := client.ReserveRetrySlot(ctx, "provision:task-1", "connection reset by peer", sidecar.WithPolicy("provision"))
	if err != nil {
		t.Fatal(err)
	}
	if grant.Decision != pb.ReserveRetrySlotResponse_GRANTED || grant.Attempt != 1 || grant.DelaySeconds < 0 || grant.NotBeforeUnixMs <= 0 {
		t.Fatalf("grant: %v", grant)
	}
	if grant.AnsweredLocally || len(grant.ProtoReflect().GetUnknown()) != 0 {
		t.Fatalf("grant %v: no fleet, so never answered locally", grant)
	}
	active, err := client.ListRetries(ctx, sidecar.WithKeyPrefix("provision:"))
	if err != nil {
		t.Fatal(err)
	}
	if len(active.Retries) != 1 || active.Retries[0].Key != "provision:task-1" || active.Retries[0].Policy != "provision" ||
		active.Retries[0].State != "active" || active.Retries[0].Attempts != 1 || !active.Retries[0].InFlight {
		t.Fatalf("retries: %v", active)
	}
	if _, err := client.CompleteAttempt(ctx, "provision:task-1", nil); err != nil {
		t.Fatal(err)
	}
	succeeded, err := client.ListRetries(ctx, sidecar.WithState("succeeded"))
	if err != nil || len(succeeded.Retries) != 1 || succeeded.Retries[0].Key != "provision:task-1" {
		t.Fatalf("succeeded: %v %v", succeeded, err)
	}
	_, err = client.CompleteAttempt(ctx, "provision:nobody", errors.New("i/o timeout"))
	wantCode(t, err, sidecar.NotFound)

	denied, err := client.ReserveRetrySlot(ctx, "provision:task-2", neverPull, sidecar.WithExitCode(1))
	if err != nil {
		t.Fatal(err)
	}
	if denied.Decision != pb.ReserveRetrySlotResponse_DENIED_PERMANENT || denied.Category != "image_missing" || denied.Remedy == "" {
		t.Fatalf("denied: %v", denied)
	}
	failed, err := client.ListRetries(ctx, sidecar.WithState("failed"))
	if err != nil || len(failed.Retries) != 1 || failed.Retries[0].Key != "provision:task-2" {
		t.Fatalf("failed: %v %v", failed, err)
	}
	if _, err := client.ResetRetry(ctx, "provision:task-2"); err != nil {
		t.Fatal(err)
	}
	if gone, err := client.ListRetries(ctx, sidecar.WithKeyPrefix("provision:task-2")); err != nil || len(gone.Retries) != 0 {
		t.Fatalf("after reset: %v %v", gone, err)
	}
	_, err = client.ResetRetry(ctx, "provision:task-2")
	wantCode(t, err, sidecar.NotFound)
	_, err = client.ReserveRetrySlot(ctx, "k", "e", sidecar.WithPolicy("no-such-policy"))
	wantCode(t, err, sidecar.InvalidArgument)

	policies, err := client.ListPolicies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, p := range policies.Policies {
		names = append(names, p.Name)
		if p.Name == "provision" && (p.MaxAttempts != 3 || p.BaseDelaySeconds != 10) {
			t.Fatalf("provision policy: %v", p)
		}
	}
	if strings.Join(names, ",") != "default,provision" {
		t.Fatalf("policies: %v", names)
	}
}

func TestMetricsReloadAndInvoke(t *testing.T) {
	t.Parallel()
	d := start(t)
	client := dial(t, d.Socket)
	ctx := testContext(t)
	if _, err := client.Health(ctx); err != nil {
		t.Fatal(err)
	}
	if n := callsTotal(t, client, "Health", "OK"); n < 1 {
		t.Fatalf("sidecar_calls_total Health OK = %d", n)
	}
	reloaded, err := client.Reload(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if reloaded.ConfigPath != d.Config || len(reloaded.NeedsRestart) != 0 {
		t.Fatalf("reload: %v", reloaded)
	}
	slept := new(pb.SleepResponse)
	began := time.Now()
	if err := client.Invoke(ctx, "Debug.Sleep", &pb.SleepRequest{Milliseconds: 50}, slept); err != nil {
		t.Fatal(err)
	}
	if slept.SleptSeconds < 0.045 || slept.SleptSeconds > time.Since(began).Seconds() {
		t.Fatalf("slept %v s in %v", slept.SleptSeconds, time.Since(began))
	}
	err = client.Invoke(ctx, "NoSuchMethod", &pb.HealthRequest{}, new(pb.HealthResponse))
	wantCode(t, err, sidecar.Unimplemented)
}

// TestEveryRPCHasAMethod holds the Client to the schema: each RPC of the
// Sidecar and Debug services has a method of the same name (Debug.Sleep:
// DebugSleep) taking a context first and returning the RPC's response
// message (Watch: a stream of them) and an error.
func TestEveryRPCHasAMethod(t *testing.T) {
	client := reflect.TypeOf(&sidecar.Client{})
	services := pb.File_sidecar_proto.Services()
	count := 0
	for i := 0; i < services.Len(); i++ {
		service := services.Get(i)
		for j := 0; j < service.Methods().Len(); j++ {
			rpc := service.Methods().Get(j)
			name := string(rpc.Name())
			if service.Name() != "Sidecar" {
				name = string(service.Name()) + name
			}
			method, ok := client.MethodByName(name)
			if !ok {
				t.Errorf("no Client.%s for %s", name, rpc.FullName())
				continue
			}
			count++
			m := method.Type
			if m.NumIn() < 2 || m.In(1).String() != "context.Context" || m.NumOut() != 2 || m.Out(1).String() != "error" {
				t.Errorf("Client.%s: %v", name, m)
				continue
			}
			want := "*sidecarpb." + string(rpc.Output().Name())
			if rpc.IsStreamingServer() {
				want = "*sidecar.EventStream"
			}
			if got := m.Out(0).String(); got != want {
				t.Errorf("Client.%s returns %s, want %s", name, got, want)
			}
		}
	}
	if count < 19 {
		t.Fatalf("only %d methods checked", count)
	}
}
