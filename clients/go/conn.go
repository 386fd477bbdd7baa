package sidecar

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
)

// conn is one connection to the daemon: a reader goroutine that matches
// answers to calls by id, a writer goroutine that sends every frame queued
// since its last write in one write(2), and the calls in flight.
//
// The rule that makes a lost connection safe to retry on: a CALL frame is
// queued in the same critical section that gives it its id, so the bytes
// on the wire carry increasing ids, and `sent` (every call up to it was
// written whole) tells the calls the daemon may have seen from those it
// cannot have. The latter fail with errNotSent and the Client sends them
// again on a new connection; the former fail with Unavailable, as the
// protocol says, because the daemon may have acted on them.
type conn struct {
	nc         net.Conn
	socketName string

	mu      sync.Mutex
	pending map[uint64]*call
	lastID  uint64 // the last call id given out (and queued)
	out     []byte // frames for the writer
	spare   []byte // the writer's last batch, for reuse as out
	sent    uint64 // every CALL with id <= sent was written whole
	// inflight counts the calls the daemon has in flight: sent or queued,
	// and not yet answered by a REPLY (cancelled ones included). Calls
	// past max_inflight_calls wait in waiters for one to end.
	inflight int
	waiters  []chan struct{}
	writing  bool // the writer is in write(2) with the CALLs (sent, writeTo]
	writeTo  uint64
	err      *Error // set once: the connection is over
	acked    bool

	wake  chan struct{} // the writer's doorbell; sends coalesce
	ready chan struct{} // closed at HELLO_ACK or when the connection fails first

	dead             atomic.Bool
	maxMessageBytes  atomic.Uint32
	maxInflightCalls atomic.Uint32
	serverVersion    atomic.Pointer[string]
	helloErr         *Error // why the connection failed before HELLO_ACK, read after ready
}

// call is one call in flight. Whoever removes it from conn.pending
// completes it, exactly once: the reader with the daemon's answer, the
// connection's failure, or the caller giving up.
type call struct {
	id      uint64
	done    chan struct{} // capacity 1: completion never blocks
	status  uint32
	message string
	buf     []byte // the request's bytes while it is built; the answer's payload after
	err     error  // a failure of the connection (an *Error, or errNotSent)
	stream  *EventStream
}

// errNotSent fails a call whose frame never reached the daemon: the
// connection was lost before it was written. The Client sends it again.
var errNotSent = errors.New("sidecar: the call was not sent")

var callPool = sync.Pool{New: func() any { return &call{done: make(chan struct{}, 1)} }}

func getCall() *call { return callPool.Get().(*call) }

// putCall recycles a call that nobody else refers to any more: its answer
// was received, or its caller removed it from pending itself.
func putCall(cl *call) {
	cl.id, cl.status, cl.message, cl.err, cl.stream = 0, 0, "", nil, nil
	if cap(cl.buf) > 64<<10 {
		cl.buf = nil
	} else {
		cl.buf = cl.buf[:0]
	}
	callPool.Put(cl)
}

const (
	defaultMaxMessageBytes = 4 << 20
	defaultMaxInflight     = 256
	readBufferBytes        = 64 << 10
	maxWriteYields         = 4 // how often the writer waits for more frames
)

func newConn(nc net.Conn, socketName, clientName string) (*conn, error) {
	c := &conn{
		nc:         nc,
		socketName: socketName,
		pending:    make(map[uint64]*call),
		wake:       make(chan struct{}, 1),
		ready:      make(chan struct{}),
	}
	c.maxMessageBytes.Store(defaultMaxMessageBytes)
	c.maxInflightCalls.Store(defaultMaxInflight)
	// HELLO first; calls may follow before the answer comes.
	if _, err := nc.Write(appendFrame(nil, 0, kindHello, "", 0, nil, clientName)); err != nil {
		nc.Close()
		return nil, unreachable(socketName, "sending HELLO: "+describe(err), err)
	}
	go c.readLoop()
	go c.writeLoop()
	return c, nil
}

// start registers cl and queues its CALL frame, with ctx's deadline as
// its timeout. While the daemon already counts max_inflight_calls calls on
// the connection (a call counts until its REPLY is read, a cancelled one
// too) it waits for one to end, within ctx, rather than be refused with
// RESOURCE_EXHAUSTED. It fails with errNotSent when the connection is over,
// and with ResourceExhausted when the frame is larger than the daemon
// accepts.
func (c *conn) start(ctx context.Context, cl *call, method string, payload []byte) error {
	c.mu.Lock()
	for c.err == nil && c.inflight >= int(c.maxInflightCalls.Load()) {
		slot := make(chan struct{})
		c.waiters = append(c.waiters, slot)
		c.mu.Unlock()
		select {
		case <-slot:
		case <-ctx.Done():
			c.mu.Lock()
			if !c.dropWaiter(slot) {
				c.wakeWaiter() // it was woken: the slot goes to the next
			}
			c.mu.Unlock()
			return contextError(ctx.Err(), method+" waited for a call slot and was not sent")
		}
		c.mu.Lock()
	}
	if c.err != nil {
		c.mu.Unlock()
		return errNotSent
	}
	id := c.lastID + 1
	timeoutMs := wireTimeout(ctx)
	size := callFrameSize(id, method, timeoutMs, len(payload))
	if limit := c.maxMessageBytes.Load(); size-4 > int(limit) {
		c.mu.Unlock()
		return &Error{Code: ResourceExhausted, Message: requestTooLarge(size-4, limit)}
	}
	c.lastID = id
	c.inflight++
	cl.id = id
	c.pending[id] = cl
	c.out = appendFrame(c.out, id, kindCall, method, timeoutMs, payload, "")
	c.mu.Unlock()
	c.ring()
	return nil
}

// wakeWaiter gives a free call slot to the call that waited longest.
// Callers hold c.mu.
func (c *conn) wakeWaiter() {
	if len(c.waiters) > 0 {
		close(c.waiters[0])
		c.waiters[0] = nil
		c.waiters = c.waiters[1:]
	}
}

// dropWaiter removes slot from the waiters; false if it was woken already.
func (c *conn) dropWaiter(slot chan struct{}) bool {
	for i, w := range c.waiters {
		if w == slot {
			c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
			return true
		}
	}
	return false
}

// ring wakes the writer.
func (c *conn) ring() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// abandon stops waiting for cl: true when it was still in flight (then it
// is the caller's again, and the daemon is asked to stop the call); false
// when it was completed meanwhile and its answer is on its way.
func (c *conn) abandon(cl *call) bool {
	c.mu.Lock()
	if c.pending[cl.id] != cl {
		c.mu.Unlock()
		return false
	}
	delete(c.pending, cl.id)
	if c.err == nil {
		c.out = appendFrame(c.out, cl.id, kindCancel, "", 0, nil, "")
	}
	c.mu.Unlock()
	c.ring()
	return true
}

// complete ends cl with a client-side failure. Callers hold c.mu and have
// removed cl from pending.
func complete(cl *call, err error) {
	if cl.stream != nil {
		cl.stream.finish(err)
		return
	}
	cl.err = err
	cl.done <- struct{}{}
}

// fail ends the connection once: calls the daemon may have seen fail with
// err, those it cannot have seen with errNotSent; those being written are
// left to the writer, which knows how far its write went.
func (c *conn) fail(err *Error) {
	c.mu.Lock()
	c.failLocked(err)
	c.mu.Unlock()
}

func (c *conn) failLocked(err *Error) {
	if c.err != nil {
		return
	}
	c.err = err
	c.dead.Store(true)
	c.nc.Close()
	for id, cl := range c.pending {
		switch {
		case id <= c.sent:
			delete(c.pending, id)
			complete(cl, err)
		case c.writing && id <= c.writeTo:
			// The writer decides.
		default:
			delete(c.pending, id)
			complete(cl, errNotSent)
		}
	}
	c.out = nil
	for _, w := range c.waiters {
		close(w) // they see c.err, and go to a new connection
	}
	c.waiters = nil
	if !c.acked {
		c.helloErr = err
		close(c.ready)
	}
	c.ring()
}

func (c *conn) writeLoop() {
	for range c.wake {
		c.mu.Lock()
		// Other calls in flight: let the goroutines that are ready to run
		// (callers the reader just answered) queue their next calls first,
		// so that one write(2) carries them all, for as long as they do.
		// The doorbell made this goroutine the next to run, ahead of them,
		// which would write one frame at a time. A lone call is written at
		// once.
		for yields := 0; yields < maxWriteYields && len(c.pending) > 1; yields++ {
			queued := len(c.out)
			c.mu.Unlock()
			runtime.Gosched()
			c.mu.Lock()
			if len(c.out) == queued {
				break
			}
		}
		if c.err != nil {
			c.mu.Unlock()
			return
		}
		if len(c.out) == 0 {
			c.mu.Unlock()
			continue
		}
		batch := c.out
		c.out, c.spare = c.spare[:0], nil
		from, to := c.sent, c.lastID
		c.writing, c.writeTo = true, to
		c.mu.Unlock()

		n, werr := c.nc.Write(batch)

		c.mu.Lock()
		if werr != nil {
			c.failLocked(unreachable(c.socketName, "the connection was lost while sending: "+describe(werr), werr))
		}
		c.writing = false
		if werr == nil || n == len(batch) {
			c.sent = to
		}
		if c.err != nil {
			// The connection ended during the write: calls written whole or
			// in part may have been read; calls of a write that wrote
			// nothing were not.
			for id := from + 1; id <= to; id++ {
				if cl := c.pending[id]; cl != nil {
					delete(c.pending, id)
					if werr != nil && n == 0 {
						complete(cl, errNotSent)
					} else {
						complete(cl, c.err)
					}
				}
			}
			c.mu.Unlock()
			return
		}
		if cap(batch) <= 1<<20 {
			c.spare = batch[:0]
		}
		c.mu.Unlock()
	}
}

func (c *conn) readLoop() {
	buf := make([]byte, readBufferBytes)
	start, end := 0, 0
	var f serverFrame
	for {
		for end-start >= 4 {
			size := int(binary.BigEndian.Uint32(buf[start:]))
			if size > maxIncomingBytes {
				c.fail(&Error{Code: Internal, Message: "the daemon sent a frame of " + strconv.Itoa(size) + " bytes: the stream is broken"})
				return
			}
			if end-start-4 < size {
				if 4+size > len(buf) {
					bigger := make([]byte, 4+size)
					end = copy(bigger, buf[start:end])
					buf, start = bigger, 0
				}
				break
			}
			if err := parseServerFrame(buf[start+4:start+4+size], &f); err != nil {
				c.fail(&Error{Code: Internal, Message: "the daemon sent a malformed frame: " + err.Error()})
				return
			}
			start += 4 + size
			if err := c.handle(&f); err != nil {
				c.fail(err)
				return
			}
		}
		if start == end {
			start, end = 0, 0
		} else if start > 0 && len(buf)-end < 4096 {
			end = copy(buf, buf[start:end])
			start = 0
		}
		n, err := c.nc.Read(buf[end:])
		end += n
		if err != nil {
			if n > 0 {
				continue // the frames it completed, then the error again
			}
			reason := "the daemon closed the connection"
			if !errors.Is(err, io.EOF) {
				reason = describe(err)
			}
			c.fail(unreachable(c.socketName, reason, err))
			return
		}
	}
}

// handle takes one frame from the daemon; an error ends the connection.
func (c *conn) handle(f *serverFrame) *Error {
	switch f.kind {
	case kindReply:
		c.mu.Lock()
		if c.inflight > 0 {
			c.inflight--
			c.wakeWaiter()
		}
		cl := c.pending[f.callID]
		if cl == nil {
			c.mu.Unlock()
			return nil // a call this client stopped waiting for
		}
		delete(c.pending, f.callID)
		if cl.stream != nil {
			var err error = io.EOF
			if f.status != 0 {
				err = replyError(f.status, string(f.message), f.payload)
			}
			cl.stream.finish(err)
			c.mu.Unlock()
			return nil
		}
		c.mu.Unlock()
		cl.status = f.status
		if f.status != 0 {
			cl.message = string(f.message)
		}
		cl.buf = append(cl.buf[:0], f.payload...)
		cl.done <- struct{}{}
	case kindStreamMessage:
		c.mu.Lock()
		cl := c.pending[f.callID]
		if cl != nil && cl.stream != nil {
			if overflow := cl.stream.push(f.payload); overflow != nil {
				delete(c.pending, f.callID)
				c.out = appendFrame(c.out, f.callID, kindCancel, "", 0, nil, "")
				cl.stream.finish(overflow)
				c.mu.Unlock()
				c.ring()
				return nil
			}
		}
		c.mu.Unlock()
	case kindHelloAck:
		if f.maxMessageBytes != 0 {
			c.maxMessageBytes.Store(f.maxMessageBytes)
		}
		if f.maxInflightCalls != 0 {
			c.maxInflightCalls.Store(f.maxInflightCalls)
		}
		version := string(f.serverVersion)
		c.serverVersion.Store(&version)
		c.mu.Lock()
		if !c.acked && c.err == nil {
			c.acked = true
			close(c.ready)
		}
		c.mu.Unlock()
	case kindGoaway:
		code := Code(f.status)
		reason := code.String()
		if len(f.message) > 0 {
			reason += ": " + string(f.message)
		}
		e := &Error{Code: Unavailable, Message: "sidecard at " + c.socketName + " closed the connection (GOAWAY " + reason + ")"}
		c.mu.Lock()
		acked := c.acked
		c.mu.Unlock()
		if !acked && code != OK {
			// Refused at the door (a protocol revision it does not speak,
			// too many connections): Dial reports the daemon's own code.
			e.Code = code
		}
		return e
	}
	return nil
}

// close ends the connection from this side; calls in flight fail with err.
func (c *conn) close(err *Error) { c.fail(err) }

func unreachable(socketName, reason string, cause error) *Error {
	return &Error{Code: Unavailable, Message: "cannot reach sidecard at " + socketName + ": " + reason, cause: cause}
}

// describe is the system's reason for err without Go's "dial unix PATH:"
// prefixes, e.g. "no such file or directory".
func describe(err error) string {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		err = opErr.Err
	}
	var sysErr *os.SyscallError
	if errors.As(err, &sysErr) && sysErr.Err != nil {
		err = sysErr.Err
	}
	return err.Error()
}

func requestTooLarge(size int, limit uint32) string {
	return "a request of " + strconv.Itoa(size) + " bytes is over the daemon's limit of " +
		strconv.FormatUint(uint64(limit), 10) + " bytes (limits.max_message_bytes); it was not sent"
}
