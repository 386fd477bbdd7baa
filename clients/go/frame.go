package sidecar

import (
	"encoding/binary"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// The envelope of proto/sidecar/v1/README.md, written and read by hand:
// every call crosses it twice, and the generated ClientFrame and
// ServerFrame would cost an allocation and a reflection walk each time.
// frame_test.go holds these functions byte-equal to protobuf-go on the
// generated messages.

// ClientFrame.Kind and ServerFrame.Kind values (wire.proto).
const (
	kindHello  = 1
	kindCall   = 2
	kindCancel = 3

	kindHelloAck      = 1
	kindStreamMessage = 2
	kindReply         = 3
	kindGoaway        = 4

	protocolVersion1 = 1
)

// maxIncomingBytes bounds a frame from the daemon: a longer one means the
// stream is broken, not that a message is that big.
const maxIncomingBytes = 256 << 20

// appendFrame appends a 4-byte big-endian length and a ClientFrame body
// with the given fields, in field-number order (call_id first, so that the
// daemon can name the call of a frame it refuses as too large). Zero values
// are left out, as proto3 does.
func appendFrame(b []byte, callID uint64, kind uint64, method string, timeoutMs uint32, payload []byte, clientName string) []byte {
	size := 0
	if callID != 0 {
		size += 1 + protowire.SizeVarint(callID)
	}
	size += 1 + protowire.SizeVarint(kind)
	if method != "" {
		size += 1 + protowire.SizeBytes(len(method))
	}
	if timeoutMs != 0 {
		size += 1 + protowire.SizeVarint(uint64(timeoutMs))
	}
	if len(payload) != 0 {
		size += 1 + protowire.SizeBytes(len(payload))
	}
	if kind == kindHello {
		size += 2 // protocol_version = 1
		if clientName != "" {
			size += 1 + protowire.SizeBytes(len(clientName))
		}
	}
	b = binary.BigEndian.AppendUint32(b, uint32(size))
	if callID != 0 {
		b = append(b, 0x08) // 1: call_id, varint
		b = protowire.AppendVarint(b, callID)
	}
	b = append(b, 0x10) // 2: kind
	b = protowire.AppendVarint(b, kind)
	if method != "" {
		b = append(b, 0x1a) // 3: method, bytes
		b = protowire.AppendVarint(b, uint64(len(method)))
		b = append(b, method...)
	}
	if timeoutMs != 0 {
		b = append(b, 0x20) // 4: timeout_ms
		b = protowire.AppendVarint(b, uint64(timeoutMs))
	}
	if len(payload) != 0 {
		b = append(b, 0x2a) // 5: payload
		b = protowire.AppendVarint(b, uint64(len(payload)))
		b = append(b, payload...)
	}
	if kind == kindHello {
		b = append(b, 0x30, protocolVersion1) // 6: protocol_version
		if clientName != "" {
			b = append(b, 0x3a) // 7: client_name
			b = protowire.AppendVarint(b, uint64(len(clientName)))
			b = append(b, clientName...)
		}
	}
	return b
}

// callFrameSize is the length of the frame appendFrame writes for a CALL.
func callFrameSize(callID uint64, method string, timeoutMs uint32, payloadLen int) int {
	size := 4 + 1 + protowire.SizeVarint(callID) + 2 + 1 + protowire.SizeBytes(len(method))
	if timeoutMs != 0 {
		size += 1 + protowire.SizeVarint(uint64(timeoutMs))
	}
	if payloadLen != 0 {
		size += 1 + protowire.SizeBytes(payloadLen)
	}
	return size
}

// serverFrame is a decoded ServerFrame. Its byte slices alias the buffer
// it was read from.
type serverFrame struct {
	callID           uint64
	kind             uint32
	status           uint32
	message          []byte
	payload          []byte
	protocolVersion  uint32
	serverVersion    []byte
	maxMessageBytes  uint32
	maxInflightCalls uint32
}

var errMalformed = errors.New("malformed ServerFrame")

// parseServerFrame decodes one ServerFrame body. Fields it does not know,
// and known fields with another wire type, are skipped, as protobuf does.
func parseServerFrame(body []byte, f *serverFrame) error {
	*f = serverFrame{}
	for len(body) > 0 {
		num, typ, n := protowire.ConsumeTag(body)
		if n < 0 {
			return fmt.Errorf("%w: %v", errMalformed, protowire.ParseError(n))
		}
		body = body[n:]
		switch {
		case typ == protowire.VarintType && (num == 1 || num == 2 || num == 3 || num == 6 || num == 8 || num == 9):
			v, n := protowire.ConsumeVarint(body)
			if n < 0 {
				return fmt.Errorf("%w: %v", errMalformed, protowire.ParseError(n))
			}
			body = body[n:]
			switch num {
			case 1:
				f.callID = v
			case 2:
				f.kind = uint32(v)
			case 3:
				f.status = uint32(v)
			case 6:
				f.protocolVersion = uint32(v)
			case 8:
				f.maxMessageBytes = uint32(v)
			case 9:
				f.maxInflightCalls = uint32(v)
			}
		case typ == protowire.BytesType && (num == 4 || num == 5 || num == 7):
			v, n := protowire.ConsumeBytes(body)
			if n < 0 {
				return fmt.Errorf("%w: %v", errMalformed, protowire.ParseError(n))
			}
			body = body[n:]
			switch num {
			case 4:
				f.message = v
			case 5:
				f.payload = v
			case 7:
				f.serverVersion = v
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, body)
			if n < 0 {
				return fmt.Errorf("%w: %v", errMalformed, protowire.ParseError(n))
			}
			body = body[n:]
		}
	}
	return nil
}
