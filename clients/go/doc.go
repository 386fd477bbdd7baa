// Package sidecar is the Go client of sidecard, the Sidecar per-host
// daemon: images ensured once however many ask, leases, SQLite checks,
// retry slots, error classification and events, over the daemon's Unix
// socket (length-framed protobuf, proto/sidecar/v1).
//
//	client, err := sidecar.Dial(ctx) // $SIDECAR_SOCKET, else the default socket
//	if err != nil {
//		return err // Unavailable, naming the socket
//	}
//	defer client.Close()
//	image, err := client.EnsureImage(ctx, "agent-base", sidecar.WithLease("runner-7/task-1", 10*time.Minute))
//	if sidecar.IsPermanent(err) {
//		return err // asking again will not help; the *Error's Detail says what will
//	}
//
// A Client is safe for concurrent use: its calls share one connection and
// are answered in any order. Every method takes the call's context first:
// its deadline goes to the daemon as the call's timeout, and cancelling it
// sends CANCEL and returns at once. Results are the messages generated
// from the schema (package sidecarpb); failures are *Error, with the gRPC
// status Code, the daemon's Message and its ErrorDetail.
package sidecar
