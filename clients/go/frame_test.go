package sidecar

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/sidecar-dev/sidecar/clients/go/sidecarpb"
)

// The hand-written envelope against protobuf-go on the generated messages.

func randomText(r *rand.Rand) string {
	if r.Intn(4) == 0 {
		return ""
	}
	return strings.Repeat(string(rune('a'+r.Intn(26))), r.Intn(300)) + "é"
}

func randomBytes(r *rand.Rand) []byte {
	if r.Intn(4) == 0 {
		return nil
	}
	b := make([]byte, r.Intn(20000))
	r.Read(b)
	return b
}

func randomID(r *rand.Rand) uint64 {
	return []uint64{1, 127, 128, 16383, 16384, 1 << 32, 1<<64 - 1, r.Uint64() | 1}[r.Intn(8)]
}

func TestClientFramesAreWhatProtobufWrites(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 3000; i++ {
		var want *sidecarpb.ClientFrame
		var got []byte
		switch i % 3 {
		case 0:
			name := randomText(r)
			want = &sidecarpb.ClientFrame{Kind: sidecarpb.ClientFrame_HELLO, ProtocolVersion: sidecarpb.ProtocolVersion_PROTOCOL_VERSION_1, ClientName: name}
			got = appendFrame(nil, 0, kindHello, "", 0, nil, name)
		case 1:
			id, method, timeout, payload := randomID(r), "M"+randomText(r), []uint32{0, 1, 200, 1 << 31, 1<<32 - 1}[r.Intn(5)], randomBytes(r)
			want = &sidecarpb.ClientFrame{CallId: id, Kind: sidecarpb.ClientFrame_CALL, Method: method, TimeoutMs: timeout, Payload: payload}
			got = appendFrame([]byte("prefix"), id, kindCall, method, timeout, payload, "")[len("prefix"):]
			if size := callFrameSize(id, method, timeout, len(payload)); size != len(got) {
				t.Fatalf("callFrameSize %d, frame %d bytes", size, len(got))
			}
		case 2:
			id := randomID(r)
			want = &sidecarpb.ClientFrame{CallId: id, Kind: sidecarpb.ClientFrame_CANCEL}
			got = appendFrame(nil, id, kindCancel, "", 0, nil, "")
		}
		body, err := proto.MarshalOptions{Deterministic: true}.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if binary.BigEndian.Uint32(got) != uint32(len(body)) || !bytes.Equal(got[4:], body) {
			t.Fatalf("frame %d (%v):\n got %x\nwant %x", i, want.Kind, got, body)
		}
	}
}

func TestServerFramesAreReadAsProtobufReadsThem(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for i := 0; i < 3000; i++ {
		want := &sidecarpb.ServerFrame{
			CallId:           randomID(r) * uint64(r.Intn(2)),
			Kind:             sidecarpb.ServerFrame_Kind(r.Intn(6)),
			StatusCode:       uint32(r.Intn(20)),
			StatusMessage:    randomText(r),
			Payload:          randomBytes(r),
			ProtocolVersion:  sidecarpb.ProtocolVersion(r.Intn(3)),
			ServerVersion:    randomText(r),
			MaxMessageBytes:  r.Uint32() >> uint(r.Intn(32)),
			MaxInflightCalls: r.Uint32() >> uint(r.Intn(32)),
		}
		body, err := proto.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		// Fields a later revision may add are skipped, wherever they are.
		if i%2 == 1 {
			unknown := protowire.AppendTag(nil, protowire.Number(10+r.Intn(1000)), protowire.BytesType)
			unknown = protowire.AppendBytes(unknown, randomBytes(r))
			unknown = protowire.AppendTag(unknown, 99, protowire.Fixed64Type)
			unknown = protowire.AppendFixed64(unknown, r.Uint64())
			at := r.Intn(2) * len(body)
			body = append(append(append([]byte(nil), body[:at]...), unknown...), body[at:]...)
		}
		var f serverFrame
		if err := parseServerFrame(body, &f); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		got := &sidecarpb.ServerFrame{
			CallId: f.callID, Kind: sidecarpb.ServerFrame_Kind(f.kind), StatusCode: f.status, StatusMessage: string(f.message),
			Payload: f.payload, ProtocolVersion: sidecarpb.ProtocolVersion(f.protocolVersion), ServerVersion: string(f.serverVersion),
			MaxMessageBytes: f.maxMessageBytes, MaxInflightCalls: f.maxInflightCalls,
		}
		if len(got.Payload) == 0 {
			got.Payload = nil
		}
		if !proto.Equal(got, want) {
			t.Fatalf("frame %d:\n got %v\nwant %v", i, got, want)
		}
	}
	for _, broken := range [][]byte{{0x08}, {0x22, 0x05, 'a'}, {0x80}, {0x0f}} {
		var f serverFrame
		if err := parseServerFrame(broken, &f); !errors.Is(err, errMalformed) {
			t.Errorf("%x: %v, want errMalformed", broken, err)
		}
	}
}

func TestCodesAndErrors(t *testing.T) {
	if Unavailable.String() != "UNAVAILABLE" || Canceled.String() != "CANCELLED" || Code(42).String() != "Code(42)" {
		t.Fatal("code names")
	}
	detailed := replyError(uint32(Aborted), "build failed", mustMarshal(t, &sidecarpb.ErrorDetail{
		Category: "build_failed", Permanent: true, Remedy: "fix the Dockerfile", RetryAfterSeconds: 1.5,
	}))
	if detailed.Error() != "sidecar: ABORTED: build failed" || *detailed.Detail != (ErrorDetail{"build_failed", true, "fix the Dockerfile", 1500 * time.Millisecond}) {
		t.Fatalf("%v %+v", detailed, detailed.Detail)
	}
	wrapped := fmt.Errorf("spawning: %w", detailed)
	if CodeOf(wrapped) != Aborted || !IsPermanent(wrapped) {
		t.Fatal("CodeOf and IsPermanent see through wrapping")
	}
	transient := replyError(uint32(Aborted), "pull failed", mustMarshal(t, &sidecarpb.ErrorDetail{Category: "image_pull"}))
	if IsPermanent(transient) || replyError(uint32(Unavailable), "", []byte{0xff}).Detail != nil {
		t.Fatal("a detail that says transient, and one that cannot be read")
	}
	for err, want := range map[error]Code{
		nil: OK, context.Canceled: Canceled, context.DeadlineExceeded: DeadlineExceeded, errors.New("x"): Unknown,
		replyError(uint32(DeadlineExceeded), "late", nil): DeadlineExceeded,
	} {
		if CodeOf(err) != want {
			t.Errorf("CodeOf(%v) = %v, want %v", err, CodeOf(err), want)
		}
	}
	if !errors.Is(replyError(uint32(DeadlineExceeded), "late", nil), context.DeadlineExceeded) ||
		!errors.Is(replyError(uint32(Canceled), "", nil), context.Canceled) {
		t.Fatal("the daemon's DEADLINE_EXCEEDED and CANCELLED are the context's errors too")
	}
	for _, code := range []Code{InvalidArgument, PermissionDenied, Unimplemented} {
		if !IsPermanent(&Error{Code: code}) {
			t.Errorf("%v without a detail is permanent", code)
		}
	}
	for _, code := range []Code{Unavailable, DeadlineExceeded, ResourceExhausted, NotFound, FailedPrecondition} {
		if IsPermanent(&Error{Code: code}) {
			t.Errorf("%v without a detail is not permanent", code)
		}
	}
	if IsPermanent(nil) || IsPermanent(errors.New("x")) {
		t.Fatal("nil and foreign errors are not permanent")
	}
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWireTimeoutRoundsUp(t *testing.T) {
	if wireTimeout(context.Background()) != 0 {
		t.Fatal("no deadline: 0")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Microsecond)
	defer cancel()
	if ms := wireTimeout(ctx); ms < 1 || ms > 2 {
		t.Fatalf("1.5 ms: %d", ms)
	}
	past, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	if wireTimeout(past) != 1 {
		t.Fatal("a deadline passed is 1 ms, never 0 (none)")
	}
	if ttlSeconds(1500*time.Millisecond) != 2 || ttlSeconds(0) != 0 || ttlSeconds(time.Second) != 1 {
		t.Fatal("ttlSeconds")
	}
}
