package sidecar

import (
	"math"
	"math/rand"
	"sort"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"strconv"

	"github.com/sidecar-dev/sidecar/clients/go/sidecarpb"
)

// The hand-read HealthResponse against protobuf-go.

func TestHealthResponseIsReadAsProtobufReadsIt(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	floats := []float64{0, 1.5, -2, math.Inf(1), math.SmallestNonzeroFloat64, math.MaxFloat64}
	for i := 0; i < 5000; i++ {
		want := &sidecarpb.HealthResponse{
			Version:       randomText(r),
			UptimeSeconds: floats[r.Intn(len(floats))] * r.Float64(),
			Connections:   r.Uint32() >> uint(r.Intn(32)),
			InflightCalls: r.Uint32() >> uint(r.Intn(32)),
			LoopLagMs:     floats[r.Intn(len(floats))],
			LoopLagMaxMs:  r.Float64(),
			Pid:           r.Uint32(),
			State:         []string{"", "serving", "draining"}[r.Intn(3)],
			ImagePresence: []string{"", "events", "ttl: the command backend hears of no changes"}[r.Intn(3)],
			FleetState:    []string{"", "connecting", "connected", "degraded"}[r.Intn(4)],
			FleetHostId:   []string{"", "host-a", randomText(r)}[r.Intn(3)],
			FleetReason:   []string{"", "connection refused", randomText(r)}[r.Intn(3)],
		}
		switch r.Intn(4) {
		case 0: // absent
		case 1:
			want.FleetDegradedSinceUnixMs = 1764600000000 + r.Int63n(1<<40)
		case 2:
			want.FleetDegradedSinceUnixMs = -1 - r.Int63n(1<<40) // ten bytes on the wire
		default:
			want.FleetDegradedSinceUnixMs = []int64{1, math.MaxInt64, math.MinInt64}[r.Intn(3)]
		}
		want.FleetClaims = randomList(r, "agent (epoch 3)")
		want.FleetWaits = randomList(r, "web (claimed by node-2)")
		body, err := proto.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		got := new(sidecarpb.HealthResponse)
		if !decodeHealthResponse(body, got) || !proto.Equal(got, want) {
			t.Fatalf("%d:\n got %v\nwant %v", i, got, want)
		}
	}
	// Fields it does not know, and known ones of another wire type, are
	// unknown fields, as protobuf-go has them; malformed bytes and strings
	// it leaves to protobuf-go, for its error.
	unknown := protowire.AppendString(protowire.AppendTag(nil, 50, protowire.BytesType), "a later field")
	wrongType := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 1)
	fleetWrongType := protowire.AppendFixed64(protowire.AppendTag(nil, 13, protowire.Fixed64Type), 1)
	claimsWrongType := protowire.AppendVarint(protowire.AppendTag(nil, 14, protowire.VarintType), 1)
	waitsWrongType := protowire.AppendFixed32(protowire.AppendTag(nil, 15, protowire.Fixed32Type), 1)
	known := protowire.AppendVarint(protowire.AppendTag(nil, 7, protowire.VarintType), 42)
	// Elements of a repeated field apart from each other, with other fields
	// between them, are appended in the order they came.
	claim := func(s string) []byte {
		return protowire.AppendString(protowire.AppendTag(nil, 14, protowire.BytesType), s)
	}
	wait := func(s string) []byte {
		return protowire.AppendString(protowire.AppendTag(nil, 15, protowire.BytesType), s)
	}
	apart := concat(claim("a (epoch 1)"), wait(""), known, claim(""), wait("b (claimed by h)"), claim("c (epoch 9)"))
	for _, b := range [][]byte{unknown, wrongType, fleetWrongType, claimsWrongType, waitsWrongType, apart, concat(unknown, known, wrongType)} {
		want := new(sidecarpb.HealthResponse)
		if err := proto.Unmarshal(b, want); err != nil {
			t.Fatal(err)
		}
		got := new(sidecarpb.HealthResponse)
		if !decodeHealthResponse(b, got) || !proto.Equal(got, want) || string(got.ProtoReflect().GetUnknown()) != string(want.ProtoReflect().GetUnknown()) {
			t.Errorf("%x: got %v, want %v", b, got, want)
		}
	}
	badUTF8 := protowire.AppendBytes(protowire.AppendTag(nil, 8, protowire.BytesType), []byte{0xff})
	badFleetUTF8 := protowire.AppendBytes(protowire.AppendTag(nil, 12, protowire.BytesType), []byte{'a', 0xc3})
	// A bad element after good ones, in either list.
	badClaimUTF8 := concat(claim("a (epoch 1)"), claim(""), protowire.AppendBytes(protowire.AppendTag(nil, 14, protowire.BytesType), []byte{0xed, 0xa0, 0x80}))
	badWaitUTF8 := concat(wait("b (claimed by h)"), protowire.AppendBytes(protowire.AppendTag(nil, 15, protowire.BytesType), []byte{'x', 0xff}))
	for _, b := range [][]byte{badUTF8, badFleetUTF8, badClaimUTF8, badWaitUTF8, {0x11, 1, 2}, {0x52, 5, 'a'}, {0x68, 0x80}, {0x92, 0x03, 5, 'a'}, {0x72, 5, 'a'}, {0x7a, 0x80}, {0x80}} {
		if decodeHealthResponse(b, new(sidecarpb.HealthResponse)) {
			t.Errorf("%x was read by hand", b)
		}
		if proto.Unmarshal(b, new(sidecarpb.HealthResponse)) == nil {
			t.Errorf("%x: protobuf-go reads it", b)
		}
	}
}

// randomList is a repeated string field's value: absent, one element, or
// several, among them empty ones and the same one twice.
func randomList(r *rand.Rand, typical string) []string {
	var list []string
	for n := []int{0, 0, 1, 2, 5}[r.Intn(5)]; len(list) < n; {
		list = append(list, []string{"", typical, randomText(r)}[r.Intn(3)])
	}
	return list
}

func concat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// TestTheHandReadHealthResponseKnowsEveryField fails when the schema's
// HealthResponse changes: decodeHealthResponse must learn the new fields
// (until then, it hands every answer with them to protobuf-go).
func TestTheHandReadHealthResponseKnowsEveryField(t *testing.T) {
	fields := (&sidecarpb.HealthResponse{}).ProtoReflect().Descriptor().Fields()
	var got []string
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		name := string(f.Name()) + ":" + f.Kind().String() + ":" + strconv.Itoa(int(f.Number()))
		if f.Cardinality() == protoreflect.Repeated {
			name += ":repeated"
		}
		got = append(got, name)
	}
	sort.Strings(got)
	want := []string{
		"connections:uint32:3", "fleet_claims:string:14:repeated", "fleet_degraded_since_unix_ms:int64:13",
		"fleet_host_id:string:11", "fleet_reason:string:12", "fleet_state:string:10", "fleet_waits:string:15:repeated",
		"image_presence:string:9", "inflight_calls:uint32:4",
		"loop_lag_max_ms:double:6", "loop_lag_ms:double:5", "pid:uint32:7", "state:string:8",
		"uptime_seconds:double:2", "version:string:1",
	}
	if len(got) != len(want) {
		t.Fatalf("HealthResponse fields %v; decodeHealthResponse knows %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("HealthResponse fields %v; decodeHealthResponse knows %v", got, want)
		}
	}
}
