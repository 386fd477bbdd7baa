package sidecar

import (
	"context"
	"errors"
	"math"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/sidecar-dev/sidecar/clients/go/sidecarpb"
)

// DefaultClientName is what a Client says in its HELLO unless
// WithClientName gives another name.
const DefaultClientName = "go-client"

// DefaultConnectRetry is how long connecting keeps trying while the socket
// is missing or refuses, for a daemon that is starting (as the Swift,
// Python and TypeScript clients do).
const DefaultConnectRetry = 1500 * time.Millisecond

// sendAttempts bounds how often one call is sent on a new connection after
// the last one was lost before the call reached the daemon.
const sendAttempts = 3

// Client is a client of sidecard. It is safe for concurrent use: every call
// shares one connection, multiplexed by call id and answered in any order.
// A connection that is lost (the daemon restarted, was killed, or said
// GOAWAY) fails the calls the daemon may have seen with Unavailable, sends
// those it cannot have seen again on a new connection, and the next call
// connects again (with a new HELLO).
type Client struct {
	socket       string // the path to connect to
	socketName   string // the path as errors name it, with the others tried
	clientName   string
	connectRetry time.Duration

	cur atomic.Pointer[conn]

	mu      sync.Mutex
	dialing *dialAttempt
	closed  bool
}

type dialAttempt struct {
	done chan struct{}
	cn   *conn
	err  error
}

// DialOption configures Dial.
type DialOption func(*dialOptions)

type dialOptions struct {
	socket       string
	clientName   string
	connectRetry time.Duration
}

// WithSocket connects to the daemon at path instead of the default socket
// (see DefaultSocketPath).
func WithSocket(path string) DialOption { return func(o *dialOptions) { o.socket = path } }

// WithClientName sets the name the client gives in its HELLO, for the
// daemon's logs, e.g. "orchestrator/1.4". Default: DefaultClientName.
func WithClientName(name string) DialOption { return func(o *dialOptions) { o.clientName = name } }

// WithConnectRetry sets how long connecting keeps trying while the socket
// is missing or refuses connections (a daemon that is starting); 0 tries
// once. Default: DefaultConnectRetry. A context's deadline cuts it short.
func WithConnectRetry(d time.Duration) DialOption {
	return func(o *dialOptions) { o.connectRetry = d }
}

// Dial connects to sidecard and says HELLO, waiting for the daemon's answer
// within ctx; ctx bounds the dial only, not the Client. The socket is
// WithSocket's, else DefaultSocketPath's (read once, here). It fails with
// an *Error: Unavailable, naming the socket, when no daemon answers there;
// FailedPrecondition when the daemon does not speak this client's protocol
// revision. Later calls reconnect on their own when the connection is lost.
func Dial(ctx context.Context, opts ...DialOption) (*Client, error) {
	o := dialOptions{clientName: DefaultClientName, connectRetry: DefaultConnectRetry}
	for _, opt := range opts {
		opt(&o)
	}
	c := &Client{clientName: o.clientName, connectRetry: o.connectRetry}
	if o.socket != "" {
		c.socket, c.socketName = o.socket, o.socket
	} else {
		c.socket, c.socketName = resolveDefaultSocket()
	}
	if _, err := c.connection(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// SocketPath returns the path of the socket the client connects to.
func (c *Client) SocketPath() string { return c.socket }

// ServerInfo is what the daemon said in its HELLO_ACK.
type ServerInfo struct {
	// ServerVersion is the daemon's version, e.g. "0.1.0".
	ServerVersion string
	// MaxMessageBytes is the largest request the daemon accepts; larger
	// ones fail with ResourceExhausted without being sent.
	MaxMessageBytes uint32
	// MaxInflightCalls is how many calls may be in flight on the
	// connection; more wait for one to end (within their context) rather
	// than be refused by the daemon.
	MaxInflightCalls uint32
}

// ServerInfo returns the HELLO_ACK of the current connection; the zero
// value when there is none.
func (c *Client) ServerInfo() ServerInfo {
	cn := c.cur.Load()
	if cn == nil {
		return ServerInfo{}
	}
	info := ServerInfo{MaxMessageBytes: cn.maxMessageBytes.Load(), MaxInflightCalls: cn.maxInflightCalls.Load()}
	if v := cn.serverVersion.Load(); v != nil {
		info.ServerVersion = *v
	}
	return info
}

// Close closes the connection. Calls in flight, and every call after,
// fail with Canceled (errors.Is(err, ErrClosed)). It always returns nil.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	cn := c.cur.Swap(nil)
	c.mu.Unlock()
	if cn != nil {
		cn.close(closedError())
	}
	return nil
}

func closedError() *Error {
	return &Error{Code: Canceled, Message: "the client is closed", cause: ErrClosed}
}

// connection returns the live connection, or makes one. Concurrent callers
// wait for one dial, each within its own ctx.
func (c *Client) connection(ctx context.Context) (*conn, error) {
	for {
		if cn := c.cur.Load(); cn != nil && !cn.dead.Load() {
			return cn, nil
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, closedError()
		}
		if cn := c.cur.Load(); cn != nil && !cn.dead.Load() {
			c.mu.Unlock()
			return cn, nil
		}
		if d := c.dialing; d != nil {
			c.mu.Unlock()
			select {
			case <-d.done:
			case <-ctx.Done():
				return nil, contextError(ctx.Err(), "connecting to sidecard at "+c.socketName)
			}
			if d.err != nil && !errors.Is(d.err, context.Canceled) && !errors.Is(d.err, context.DeadlineExceeded) {
				return nil, d.err
			}
			continue // dialled, or the dialler's own context ended: look again
		}
		d := &dialAttempt{done: make(chan struct{})}
		c.dialing = d
		c.mu.Unlock()

		d.cn, d.err = c.dial(ctx)

		c.mu.Lock()
		c.dialing = nil
		if d.err == nil {
			if c.closed {
				d.cn.close(closedError())
				d.cn, d.err = nil, closedError()
			} else {
				c.cur.Store(d.cn)
			}
		}
		c.mu.Unlock()
		close(d.done)
		return d.cn, d.err
	}
}

// dial connects, retrying while the socket is missing or refuses, and
// waits for the HELLO_ACK.
func (c *Client) dial(ctx context.Context) (*conn, error) {
	deadline := time.Now().Add(c.connectRetry)
	pause := 10 * time.Millisecond
	var dialer net.Dialer
	for {
		nc, err := dialer.DialContext(ctx, "unix", c.socket)
		if err == nil {
			cn, err := newConn(nc, c.socketName, c.clientName)
			if err != nil {
				return nil, err
			}
			select {
			case <-cn.ready:
				if cn.helloErr != nil {
					return nil, cn.helloErr
				}
				return cn, nil
			case <-ctx.Done():
				cn.close(contextError(ctx.Err(), "waiting for the daemon's HELLO_ACK"))
				return nil, contextError(ctx.Err(), "waiting for sidecard's HELLO_ACK at "+c.socketName)
			}
		}
		if ctx.Err() != nil {
			return nil, contextError(ctx.Err(), "connecting to sidecard at "+c.socketName)
		}
		transient := errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EAGAIN)
		if !transient || time.Now().Add(pause).After(deadline) {
			return nil, unreachable(c.socketName, describe(err), err)
		}
		timer := time.NewTimer(pause)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return nil, contextError(ctx.Err(), "connecting to sidecard at "+c.socketName)
		}
		if pause *= 2; pause > 200*time.Millisecond {
			pause = 200 * time.Millisecond
		}
	}
}

// wireTimeout is ctx's deadline as the wire's timeout_ms (0: none),
// rounded up to whole milliseconds.
func wireTimeout(ctx context.Context) uint32 {
	deadline, ok := ctx.Deadline()
	if !ok {
		return 0
	}
	left := time.Until(deadline)
	if left <= 0 {
		return 1
	}
	ms := (left + time.Millisecond - 1) / time.Millisecond
	if ms > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(ms)
}

// Invoke calls a unary method by its wire name ("Health", "Debug.Sleep",
// ...) with req, and fills resp with the answer (after resetting it): the
// way to call a method this package has no wrapper for. Errors are as for
// every method.
func (c *Client) Invoke(ctx context.Context, method string, req, resp proto.Message) error {
	return c.invoke(ctx, method, req, resp, false)
}

// unmarshalFresh decodes into a message nobody has used yet: no Reset.
var unmarshalFresh = proto.UnmarshalOptions{Merge: true}

// invoke is Invoke; req nil sends an empty request (all fields default),
// and fresh says resp is new, so it needs no Reset.
func (c *Client) invoke(ctx context.Context, method string, req, resp proto.Message, fresh bool) error {
	if err := ctx.Err(); err != nil {
		return contextError(err, method+" was not sent")
	}
	cl := getCall()
	for attempt := 1; ; attempt++ {
		cn, err := c.connection(ctx)
		if err != nil {
			putCall(cl)
			return err
		}
		cl.buf = cl.buf[:0]
		if req != nil {
			marshal := proto.MarshalOptions{}
			if cl.buf, err = marshal.MarshalAppend(cl.buf, req); err != nil {
				putCall(cl)
				return &Error{Code: InvalidArgument, Message: "cannot encode the " + method + " request: " + err.Error(), cause: err}
			}
		}
		if err := cn.start(ctx, cl, method, cl.buf); err != nil {
			if err == errNotSent && attempt < sendAttempts {
				continue
			}
			putCall(cl)
			if err == errNotSent {
				return c.notSentError(method)
			}
			return err
		}
		if done := ctx.Done(); done == nil {
			<-cl.done
		} else {
			select {
			case <-cl.done:
			case <-done:
				if cn.abandon(cl) {
					putCall(cl)
					return contextError(ctx.Err(), method)
				}
				<-cl.done // answered meanwhile: take the answer
			}
		}
		if cl.err == errNotSent && attempt < sendAttempts {
			cl.err = nil
			continue
		}
		err = c.result(cl, method, resp, fresh)
		putCall(cl)
		return err
	}
}

func (c *Client) notSentError(method string) *Error {
	return unreachable(c.socketName, "the connection was lost "+strconv.Itoa(sendAttempts)+" times before "+method+" was sent", nil)
}

// result decodes a completed call's answer into resp.
func (c *Client) result(cl *call, method string, resp proto.Message, fresh bool) error {
	if cl.err != nil {
		if cl.err == errNotSent {
			return c.notSentError(method)
		}
		return cl.err
	}
	if cl.status != 0 {
		return replyError(cl.status, cl.message, cl.buf)
	}
	if h, ok := resp.(*sidecarpb.HealthResponse); ok && fresh {
		if decodeHealthResponse(cl.buf, h) {
			return nil
		}
		proto.Reset(h) // what it read so far; protobuf-go reads it all
	}
	unmarshal := proto.UnmarshalOptions{}
	if fresh {
		unmarshal = unmarshalFresh
	}
	if err := unmarshal.Unmarshal(cl.buf, resp); err != nil {
		return &Error{Code: Internal, Message: "the daemon's " + method + " answer cannot be decoded: " + err.Error(), cause: err}
	}
	return nil
}
