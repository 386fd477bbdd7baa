package sidecar

import (
	"math"
	"math/rand"
	"sort"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
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
	known := protowire.AppendVarint(protowire.AppendTag(nil, 7, protowire.VarintType), 42)
	for _, b := range [][]byte{unknown, wrongType, fleetWrongType, append(append(append([]byte(nil), unknown...), known...), wrongType...)} {
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
	for _, b := range [][]byte{badUTF8, badFleetUTF8, {0x11, 1, 2}, {0x52, 5, 'a'}, {0x68, 0x80}, {0x92, 0x03, 5, 'a'}, {0x80}} {
		if decodeHealthResponse(b, new(sidecarpb.HealthResponse)) {
			t.Errorf("%x was read by hand", b)
		}
		if proto.Unmarshal(b, new(sidecarpb.HealthResponse)) == nil {
			t.Errorf("%x: protobuf-go reads it", b)
		}
	}
}

// TestTheHandReadHealthResponseKnowsEveryField fails when the schema's
// HealthResponse changes: decodeHealthResponse must learn the new fields
// (until then, it hands every answer with them to protobuf-go).
func TestTheHandReadHealthResponseKnowsEveryField(t *testing.T) {
	fields := (&sidecarpb.HealthResponse{}).ProtoReflect().Descriptor().Fields()
	var got []string
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		got = append(got, string(f.Name())+":"+f.Kind().String()+":"+strconv.Itoa(int(f.Number())))
	}
	sort.Strings(got)
	want := []string{
		"connections:uint32:3", "fleet_degraded_since_unix_ms:int64:13", "fleet_host_id:string:11",
		"fleet_reason:string:12", "fleet_state:string:10", "image_presence:string:9", "inflight_calls:uint32:4",
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
