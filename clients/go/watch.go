package sidecar

import (
	"context"
	"strconv"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/sidecar-dev/sidecar/clients/go/sidecarpb"
)

// maxQueuedEvents bounds the events a stream holds that Recv has not taken;
// past it the stream ends with ResourceExhausted (and is cancelled), rather
// than the client's memory growing without end.
const maxQueuedEvents = 65536

// EventStream is a Watch call: the daemon's events, in the order it sent
// them. It shares the Client's connection. Recv may be called from one
// goroutine at a time; Close from any.
type EventStream struct {
	cn   *conn
	call *call

	mu     sync.Mutex
	queue  [][]byte
	end    error // nil while the stream runs
	signal chan struct{}
	stop   chan struct{} // closed when it ends
}

// Watch starts a stream of the daemon's events whose topic begins with one
// of prefixes ("image.", "retry.denied", ...; none: every topic). Events
// the daemon publishes once it has read the call are delivered; none are
// replayed. The stream ends when ctx ends (CANCEL is sent; Recv returns
// Canceled or DeadlineExceeded, and ctx's deadline is also the call's
// timeout on the wire), on Close, or when the daemon ends it: UNAVAILABLE
// when it shuts down or the connection is lost.
func (c *Client) Watch(ctx context.Context, prefixes ...string) (*EventStream, error) {
	if err := ctx.Err(); err != nil {
		return nil, contextError(err, "Watch was not sent")
	}
	payload, err := proto.Marshal(&sidecarpb.WatchRequest{Topics: prefixes})
	if err != nil {
		return nil, &Error{Code: InvalidArgument, Message: "cannot encode the Watch request: " + err.Error(), cause: err}
	}
	for attempt := 1; ; attempt++ {
		cn, err := c.connection(ctx)
		if err != nil {
			return nil, err
		}
		st := &EventStream{cn: cn, signal: make(chan struct{}, 1), stop: make(chan struct{})}
		st.call = &call{stream: st}
		if err := cn.start(ctx, st.call, "Watch", payload); err != nil {
			if err == errNotSent && attempt < sendAttempts {
				continue
			}
			if err == errNotSent {
				return nil, c.notSentError("Watch")
			}
			return nil, err
		}
		if done := ctx.Done(); done != nil {
			go func() {
				select {
				case <-done:
					st.cancel(contextError(ctx.Err(), "Watch"))
				case <-st.stop:
				}
			}()
		}
		return st, nil
	}
}

// Recv returns the next event. It blocks until one comes or the stream
// ends: then it returns io.EOF if the daemon ended the stream OK, else an
// *Error (Canceled after Close or when ctx was cancelled, DeadlineExceeded,
// Unavailable when the daemon shut down or the connection was lost).
// Events that came before the daemon ended the stream are returned first.
func (st *EventStream) Recv() (*sidecarpb.Event, error) {
	for {
		st.mu.Lock()
		if len(st.queue) > 0 {
			payload := st.queue[0]
			st.queue[0] = nil
			st.queue = st.queue[1:]
			st.mu.Unlock()
			event := new(sidecarpb.Event)
			if err := proto.Unmarshal(payload, event); err != nil {
				return nil, &Error{Code: Internal, Message: "the daemon sent an event that cannot be decoded: " + err.Error(), cause: err}
			}
			return event, nil
		}
		if end := st.end; end != nil {
			st.mu.Unlock()
			if end == errNotSent {
				return nil, unreachable(st.cn.socketName, "the connection was lost before Watch was sent", nil)
			}
			return nil, end
		}
		st.mu.Unlock()
		<-st.signal
	}
}

// Close ends the stream: the daemon is sent CANCEL, and Recv returns
// Canceled. It always returns nil.
func (st *EventStream) Close() error {
	st.cancel(&Error{Code: Canceled, Message: "the stream was closed"})
	return nil
}

// cancel ends the stream from this side, dropping events not yet received.
func (st *EventStream) cancel(err *Error) {
	if st.cn.abandon(st.call) {
		st.mu.Lock()
		st.queue = nil
		st.mu.Unlock()
		st.finish(err)
	}
}

// push queues an event's payload (a view of the read buffer: copied).
// The connection's lock is held.
func (st *EventStream) push(payload []byte) *Error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.end != nil {
		return nil
	}
	if len(st.queue) >= maxQueuedEvents {
		return &Error{Code: ResourceExhausted, Message: "Watch: more than " + strconv.Itoa(maxQueuedEvents) + " events were not received; the stream was cancelled"}
	}
	st.queue = append(st.queue, append([]byte(nil), payload...))
	st.ring()
	return nil
}

// finish ends the stream with err (io.EOF: the daemon ended it OK), once.
func (st *EventStream) finish(err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.end != nil {
		return
	}
	st.end = err
	close(st.stop)
	st.ring()
}

func (st *EventStream) ring() {
	select {
	case st.signal <- struct{}{}:
	default:
	}
}
