package sidecar

import (
	"context"
	"math"
	"time"

	pb "github.com/sidecar-dev/sidecar/clients/go/sidecarpb"
)

// One method per RPC of proto/sidecar/v1/sidecar.proto, whose comments say
// what each does, whether a retry is safe and how it fails. Every method
// takes the call's context first: its deadline is sent as the call's
// timeout and enforced by the daemon (DeadlineExceeded); cancelling it
// sends CANCEL and returns at once with Canceled. Results are the
// generated response messages; failures are *Error.

// Health returns the daemon's liveness and load, and in fleet mode the
// fleet's state (FleetState "" when off) and, with fleet builds, the builds
// this host holds the claim of (FleetClaims, "NAME (epoch N)") and those it
// waits on another host for (FleetWaits, "NAME (claimed by HOST)").
func (c *Client) Health(ctx context.Context) (*pb.HealthResponse, error) {
	resp := new(pb.HealthResponse)
	return orNil(resp, c.invoke(ctx, "Health", nil, resp, true))
}

// EnsureOption is an option of EnsureImage.
type EnsureOption interface {
	applyEnsure(*pb.EnsureImageRequest) error
}

type leaseOption struct {
	holder string
	ttl    time.Duration
}

func (o leaseOption) applyEnsure(r *pb.EnsureImageRequest) error {
	r.LeaseHolder = o.holder
	r.LeaseTtlSeconds = ttlSeconds(o.ttl)
	return nil
}

// WithLease makes EnsureImage take a lease on the image for holder, with
// the answer (EnsureImageResponse.Lease): the image is then kept from
// prune, eviction and repair for ttl (whole seconds, rounded up; 0: the
// daemon's default, 600 s), or until ReleaseLease. With WithHolderPID the
// lease also ends with that process, and a ttl of 0 sets no time limit.
func WithLease(holder string, ttl time.Duration) EnsureOption { return leaseOption{holder, ttl} }

// EnsureImage makes sure an image (a name from the daemon's config, or a
// reference) is present and intact: from the presence cache when it is,
// otherwise one build or pull that every concurrent caller joins. A failed
// job is answered as the daemon's classification of its output says:
// Unavailable when it may pass (a registry down, a rate limit, an unknown
// failure), NotFound when the image or repository does not exist,
// FailedPrecondition for another permanent failure (credentials, TLS), each
// with the output and an ErrorDetail; an image backing off after one gets
// the same code with Detail.RetryAfter the time left. Leaving (ctx
// cancelled) only stops waiting: the job goes on.
func (c *Client) EnsureImage(ctx context.Context, image string, opts ...EnsureOption) (*pb.EnsureImageResponse, error) {
	req := &pb.EnsureImageRequest{Image: image}
	for _, o := range opts {
		if err := o.applyEnsure(req); err != nil {
			return nil, err
		}
	}
	if req.LeaseHolderPid != 0 && req.LeaseHolder == "" {
		// The daemon would ignore it: there is no lease to bind.
		return nil, &Error{Code: InvalidArgument, Message: "WithHolderPID binds the lease of WithLease, and none is asked for"}
	}
	resp := new(pb.EnsureImageResponse)
	return orNil(resp, c.invoke(ctx, "EnsureImage", req, resp, true))
}

// ListImages returns the images the daemon knows (presence, last job,
// back-off), by name: every page in one response (ListImagesPages hands
// them out one at a time).
func (c *Client) ListImages(ctx context.Context, opts ...ListOption) (*pb.ListImagesResponse, error) {
	all := new(pb.ListImagesResponse)
	return orNil(all, c.ListImagesPages(ctx, func(page *pb.ListImagesResponse) error {
		all.Images = append(all.Images, page.Images...)
		return nil
	}, opts...))
}

// LeaseOption is an option of AcquireLease.
type LeaseOption interface {
	applyLease(*pb.AcquireLeaseRequest) error
}

// AcquireLease takes, or renews (the same holder again), a lease that keeps
// target (an image name or ref) from anything the daemon removes, for ttl
// (whole seconds, rounded up). WithHolderPID(pid) binds it to a process
// as well: it ends when that process does, and a ttl of 0 sets no time
// limit (without it, a ttl of 0 is InvalidArgument).
func (c *Client) AcquireLease(ctx context.Context, target, holder string, ttl time.Duration, opts ...LeaseOption) (*pb.Lease, error) {
	req := &pb.AcquireLeaseRequest{Target: target, Holder: holder, TtlSeconds: ttlSeconds(ttl)}
	for _, o := range opts {
		if err := o.applyLease(req); err != nil {
			return nil, err
		}
	}
	resp := new(pb.Lease)
	return orNil(resp, c.invoke(ctx, "AcquireLease", req, resp, true))
}

// ReleaseLease ends a lease before its TTL; NotFound when there is no such
// lease (released already, or expired).
func (c *Client) ReleaseLease(ctx context.Context, id string) (*pb.ReleaseLeaseResponse, error) {
	resp := new(pb.ReleaseLeaseResponse)
	return orNil(resp, c.invoke(ctx, "ReleaseLease", &pb.ReleaseLeaseRequest{Id: id}, resp, true))
}

// ListLeases returns the leases held now (a caller not an admin: its
// own), by id: every page in one response.
func (c *Client) ListLeases(ctx context.Context, opts ...ListOption) (*pb.ListLeasesResponse, error) {
	all := new(pb.ListLeasesResponse)
	return orNil(all, c.ListLeasesPages(ctx, func(page *pb.ListLeasesResponse) error {
		all.Leases = append(all.Leases, page.Leases...)
		return nil
	}, opts...))
}

// CheckOption is an option of CheckDb.
type CheckOption interface {
	applyCheck(*pb.CheckDbRequest)
}

type checkOption func(*pb.CheckDbRequest)

func (o checkOption) applyCheck(r *pb.CheckDbRequest) { o(r) }

// FullCheck makes CheckDb run PRAGMA integrity_check instead of
// quick_check.
func FullCheck() CheckOption {
	return checkOption(func(r *pb.CheckDbRequest) { r.Mode = pb.CheckDbRequest_FULL })
}

// WithMaxErrors sets how many problems CheckDb collects at most (default:
// the daemon's).
func WithMaxErrors(n uint32) CheckOption {
	return checkOption(func(r *pb.CheckDbRequest) { r.MaxErrors = n })
}

// CheckDb checks a SQLite file host-side, read-only: path must be absolute
// and under the daemon's databases.roots (else PermissionDenied, with
// Detail.Category "outside_roots").
func (c *Client) CheckDb(ctx context.Context, path string, opts ...CheckOption) (*pb.CheckDbResponse, error) {
	req := &pb.CheckDbRequest{Path: path}
	for _, o := range opts {
		o.applyCheck(req)
	}
	resp := new(pb.CheckDbResponse)
	return orNil(resp, c.invoke(ctx, "CheckDb", req, resp, true))
}

// ReportOption is an option of ReportDbError.
type ReportOption interface {
	applyReport(*pb.ReportDbErrorRequest)
}

// ClassifyOption is an option of Classify.
type ClassifyOption interface {
	applyClassify(*pb.ClassifyRequest)
}

// RetryOption is an option of ReserveRetrySlot.
type RetryOption interface {
	applyRetry(*pb.ReserveRetrySlotRequest)
}

// SQLiteCodeOption is WithSQLiteCode's option, for ReportDbError and
// Classify alike.
type SQLiteCodeOption interface {
	ReportOption
	ClassifyOption
}

// ExitCodeOption is WithExitCode's option, for ReserveRetrySlot and
// Classify alike.
type ExitCodeOption interface {
	RetryOption
	ClassifyOption
}

type sqliteCode int32

func (o sqliteCode) applyReport(r *pb.ReportDbErrorRequest) {
	r.OptionalSqliteCode = &pb.ReportDbErrorRequest_SqliteCode{SqliteCode: int32(o)}
}

func (o sqliteCode) applyClassify(r *pb.ClassifyRequest) {
	r.OptionalSqliteCode = &pb.ClassifyRequest_SqliteCode{SqliteCode: int32(o)}
}

// WithSQLiteCode gives the SQLite result code (primary or extended) the
// client saw, e.g. 11 (SQLITE_CORRUPT).
func WithSQLiteCode(code int32) SQLiteCodeOption { return sqliteCode(code) }

type exitCode int32

func (o exitCode) applyRetry(r *pb.ReserveRetrySlotRequest) {
	r.OptionalExitCode = &pb.ReserveRetrySlotRequest_ExitCode{ExitCode: int32(o)}
}

func (o exitCode) applyClassify(r *pb.ClassifyRequest) {
	r.OptionalExitCode = &pb.ClassifyRequest_ExitCode{ExitCode: int32(o)}
}

// WithExitCode gives the exit code of the process that failed.
func WithExitCode(code int32) ExitCodeOption { return exitCode(code) }

type imageRef string

func (o imageRef) applyRetry(r *pb.ReserveRetrySlotRequest) { r.Image = string(o) }
func (o imageRef) applyClassify(r *pb.ClassifyRequest)      { r.Image = string(o) }

// ImageOption is WithImage's option, for Classify and ReserveRetrySlot
// alike.
type ImageOption interface {
	RetryOption
	ClassifyOption
}

// WithImage names the image the failed operation used (a reference or a
// configured name), so a remedy can name it: the daemon never takes one
// from the message's text.
func WithImage(ref string) ImageOption { return imageRef(ref) }

type reportOption func(*pb.ReportDbErrorRequest)

func (o reportOption) applyReport(r *pb.ReportDbErrorRequest) { o(r) }

// AsSuccess makes ReportDbError report a success (which ends the client's
// streak) instead of an error; the message may be empty.
func AsSuccess() ReportOption {
	return reportOption(func(r *pb.ReportDbErrorRequest) { r.Ok = true })
}

// ReportDbError reports a SQLite error that clientID (one runner or
// container) saw on path, and returns what to do: CONTINUE, EXIT_TEMPFAIL
// (exit 75, to be respawned with a fresh mount: the file is intact) or
// CORRUPT. Not safe to repeat blindly: each report counts toward the
// streak.
func (c *Client) ReportDbError(ctx context.Context, path, clientID, message string, opts ...ReportOption) (*pb.ReportDbErrorResponse, error) {
	req := &pb.ReportDbErrorRequest{Path: path, ClientId: clientID, Message: message}
	for _, o := range opts {
		o.applyReport(req)
	}
	resp := new(pb.ReportDbErrorResponse)
	return orNil(resp, c.invoke(ctx, "ReportDbError", req, resp, true))
}

type retryOption func(*pb.ReserveRetrySlotRequest)

func (o retryOption) applyRetry(r *pb.ReserveRetrySlotRequest) { o(r) }

// WithPolicy names the retry policy (a [retry.policy.NAME] of the daemon's
// config); default "default".
func WithPolicy(name string) RetryOption {
	return retryOption(func(r *pb.ReserveRetrySlotRequest) { r.Policy = name })
}

// ReserveRetrySlot asks whether the operation key, which failed with
// lastError, may be retried, and when: GRANTED (wait DelaySeconds),
// DENIED_PERMANENT (with the classification and remedy), EXHAUSTED or
// THROTTLED. A grant is durable before it is answered. Not safe to repeat
// blindly: a repeated request may take a second slot. In fleet mode,
// AnsweredLocally says this host decided alone, the fleet's ledger being
// unreachable.
func (c *Client) ReserveRetrySlot(ctx context.Context, key, lastError string, opts ...RetryOption) (*pb.ReserveRetrySlotResponse, error) {
	req := &pb.ReserveRetrySlotRequest{Key: key, LastError: lastError}
	for _, o := range opts {
		o.applyRetry(req)
	}
	resp := new(pb.ReserveRetrySlotResponse)
	return orNil(resp, c.invoke(ctx, "ReserveRetrySlot", req, resp, true))
}

// CompleteAttempt reports how a granted attempt of key ended: attemptErr
// nil for a success, else the error it failed with. NotFound for an
// unknown key.
func (c *Client) CompleteAttempt(ctx context.Context, key string, attemptErr error) (*pb.CompleteAttemptResponse, error) {
	req := &pb.CompleteAttemptRequest{Key: key, Success: attemptErr == nil}
	if attemptErr != nil {
		req.Error = attemptErr.Error()
	}
	resp := new(pb.CompleteAttemptResponse)
	return orNil(resp, c.invoke(ctx, "CompleteAttempt", req, resp, true))
}

// ListRetriesOption is an option of ListRetries.
type ListRetriesOption interface {
	applyListRetries(*pb.ListRetriesRequest)
}

type listRetriesOption func(*pb.ListRetriesRequest)

func (o listRetriesOption) applyListRetries(r *pb.ListRetriesRequest) { o(r) }

// WithState keeps the retry keys in one state: "active", "failed",
// "exhausted" or "succeeded".
func WithState(state string) ListRetriesOption {
	return listRetriesOption(func(r *pb.ListRetriesRequest) { r.State = state })
}

// WithKeyPrefix keeps the retry keys that begin with prefix.
func WithKeyPrefix(prefix string) ListRetriesOption {
	return listRetriesOption(func(r *pb.ListRetriesRequest) { r.KeyPrefix = prefix })
}

// ListRetries returns the retry keys the daemon tracks (a caller not an
// admin: its own), by key: every page in one response.
func (c *Client) ListRetries(ctx context.Context, opts ...ListRetriesOption) (*pb.ListRetriesResponse, error) {
	all := new(pb.ListRetriesResponse)
	return orNil(all, c.ListRetriesPages(ctx, func(page *pb.ListRetriesResponse) error {
		all.Retries = append(all.Retries, page.Retries...)
		return nil
	}, opts...))
}

// ListPolicies returns the retry policies the daemon runs with, by name.
func (c *Client) ListPolicies(ctx context.Context) (*pb.ListPoliciesResponse, error) {
	resp := new(pb.ListPoliciesResponse)
	return orNil(resp, c.invoke(ctx, "ListPolicies", nil, resp, true))
}

// ResetRetry (admin) forgets a retry key: its attempts, failure mark and
// history.
func (c *Client) ResetRetry(ctx context.Context, key string) (*pb.ResetRetryResponse, error) {
	resp := new(pb.ResetRetryResponse)
	return orNil(resp, c.invoke(ctx, "ResetRetry", &pb.ResetRetryRequest{Key: key}, resp, true))
}

// Classify classifies an error message (and the exit code or SQLite code
// given as options): category, permanent or transient, and a remedy.
// InvalidArgument when there is nothing to classify.
func (c *Client) Classify(ctx context.Context, message string, opts ...ClassifyOption) (*pb.ClassifyResponse, error) {
	req := &pb.ClassifyRequest{Message: message}
	for _, o := range opts {
		o.applyClassify(req)
	}
	resp := new(pb.ClassifyResponse)
	return orNil(resp, c.invoke(ctx, "Classify", req, resp, true))
}

// ListRules returns the classification rules in matching order: the
// config's, then the built-in ones; the first that matches decides.
func (c *Client) ListRules(ctx context.Context) (*pb.ListRulesResponse, error) {
	resp := new(pb.ListRulesResponse)
	return orNil(resp, c.invoke(ctx, "ListRules", nil, resp, true))
}

// Metrics returns the daemon's counters, gauges and histograms in the
// Prometheus text format (MetricsResponse.Text).
func (c *Client) Metrics(ctx context.Context) (*pb.MetricsResponse, error) {
	resp := new(pb.MetricsResponse)
	return orNil(resp, c.invoke(ctx, "Metrics", nil, resp, true))
}

// Reload (admin) makes the daemon re-read its config file, like SIGHUP; a
// bad file is InvalidArgument and the running config is kept.
func (c *Client) Reload(ctx context.Context) (*pb.ReloadResponse, error) {
	resp := new(pb.ReloadResponse)
	return orNil(resp, c.invoke(ctx, "Reload", nil, resp, true))
}

// PruneOption is an option of Prune.
type PruneOption interface {
	applyPrune(*pb.PruneRequest)
}

type pruneOption func(*pb.PruneRequest)

func (o pruneOption) applyPrune(r *pb.PruneRequest) { o(r) }

// DryRun makes Prune report what it would remove, removing nothing.
func DryRun() PruneOption { return pruneOption(func(r *pb.PruneRequest) { r.DryRun = true }) }

// Prune (admin) removes the images neither leased, keep_warm, nor asked
// for within images.prune_unused_after, then (OCI layout) the blobs no ref
// reaches. It never removes what a lease holds or a verification reads.
func (c *Client) Prune(ctx context.Context, opts ...PruneOption) (*pb.PruneResponse, error) {
	req := &pb.PruneRequest{}
	for _, o := range opts {
		o.applyPrune(req)
	}
	resp := new(pb.PruneResponse)
	return orNil(resp, c.invoke(ctx, "Prune", req, resp, true))
}

// Scrub (admin) makes the daemon re-hash every blob of every present image
// now, trusting no cache (the OCI layout backend), and repair the images
// found damaged; it answers when the scrub and its repairs are done.
// FailedPrecondition for backends that keep no blobs of their own.
func (c *Client) Scrub(ctx context.Context) (*pb.ScrubResponse, error) {
	resp := new(pb.ScrubResponse)
	return orNil(resp, c.invoke(ctx, "Scrub", nil, resp, true))
}

// DebugSleep calls Debug.Sleep: the daemon answers after d (whole
// milliseconds), without blocking its loop, or ends early with Canceled or
// DeadlineExceeded. Only daemons with debug_methods = true answer it;
// others say Unimplemented.
func (c *Client) DebugSleep(ctx context.Context, d time.Duration) (*pb.SleepResponse, error) {
	ms := d.Milliseconds()
	if ms < 0 {
		ms = 0
	} else if ms > math.MaxUint32 {
		ms = math.MaxUint32
	}
	resp := new(pb.SleepResponse)
	return orNil(resp, c.invoke(ctx, "Debug.Sleep", &pb.SleepRequest{Milliseconds: uint32(ms)}, resp, true))
}

// ttlSeconds is d in whole seconds on the wire, rounded up.
func ttlSeconds(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	s := (d + time.Second - 1) / time.Second
	if s > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(s)
}

// orNil returns (resp, nil) on success and (nil, err) on failure.
func orNil[T any](resp *T, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return resp, nil
}
