package sidecar

import (
	"math"
	"sync/atomic"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sidecar-dev/sidecar/clients/go/sidecarpb"
)

// Health is the call a runner makes most, and protobuf-go's reflective
// decoder was a fifth of the client's time at 64 calls in flight (the
// daemon hand-writes this message for the same reason). This reads it
// into the generated struct directly. Fields it does not know (a later
// schema's), and known fields with another wire type, are kept as unknown
// fields, as protobuf-go keeps them; a malformed message makes it give up,
// and protobuf-go reads the message instead, for its error.
// fastdecode_test.go holds it to protobuf-go's answers and to the
// schema's field list.

// decodeHealthResponse fills m from b, and reports whether it could.
func decodeHealthResponse(b []byte, m *sidecarpb.HealthResponse) bool {
	var unknown []byte
	for len(b) > 0 {
		field := b
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		switch {
		case (num == 1 || (num >= 8 && num <= 12)) && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return false
			}
			var ok bool
			switch num {
			case 1:
				m.Version, ok = healthStrings[0].of(v)
			case 8:
				m.State, ok = healthStrings[1].of(v)
			case 9:
				m.ImagePresence, ok = healthStrings[2].of(v)
			case 10:
				m.FleetState, ok = healthStrings[3].of(v)
			case 11:
				m.FleetHostId, ok = healthStrings[4].of(v)
			default:
				m.FleetReason, ok = healthStrings[5].of(v)
			}
			if !ok {
				return false // not UTF-8
			}
			b = b[n:]
		case (num == 14 || num == 15) && typ == protowire.BytesType:
			// fleet_claims, fleet_waits: repeated, one element a field, each
			// appended; they change as builds come and go, so they are not
			// held as the single strings are.
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return false
			}
			if !utf8.Valid(v) {
				return false // not UTF-8
			}
			if num == 14 {
				m.FleetClaims = append(m.FleetClaims, string(v))
			} else {
				m.FleetWaits = append(m.FleetWaits, string(v))
			}
			b = b[n:]
		case (num == 2 || num == 5 || num == 6) && typ == protowire.Fixed64Type:
			v, n := protowire.ConsumeFixed64(b)
			if n < 0 {
				return false
			}
			switch f := math.Float64frombits(v); num {
			case 2:
				m.UptimeSeconds = f
			case 5:
				m.LoopLagMs = f
			default:
				m.LoopLagMaxMs = f
			}
			b = b[n:]
		case (num == 3 || num == 4 || num == 7 || num == 13) && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return false
			}
			switch num {
			case 3:
				m.Connections = uint32(v)
			case 4:
				m.InflightCalls = uint32(v)
			case 7:
				m.Pid = uint32(v)
			default:
				m.FleetDegradedSinceUnixMs = int64(v)
			}
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return false
			}
			b = b[n:]
			unknown = append(unknown, field[:len(field)-len(b)]...)
		}
	}
	if unknown != nil {
		m.ProtoReflect().SetUnknown(unknown)
	}
	return true
}

// healthStrings are the last version, state, image_presence, fleet_state,
// fleet_host_id and fleet_reason read: the same from one answer to the
// next, so they are not allocated and checked again each time.
var healthStrings [6]lastString

// lastString holds the last string of a field, shared by every goroutine.
type lastString struct{ p atomic.Pointer[string] }

// of returns v as a string: the one held when it is the same, else a new
// one, which is held; false when v is not valid UTF-8.
func (l *lastString) of(v []byte) (string, bool) {
	if last := l.p.Load(); last != nil && *last == string(v) {
		return *last, true
	}
	if !utf8.Valid(v) {
		return "", false
	}
	s := string(v)
	l.p.Store(&s)
	return s, true
}
