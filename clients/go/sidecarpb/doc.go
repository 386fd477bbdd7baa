// Package sidecarpb holds the messages of the Sidecar protocol, generated
// by protoc-gen-go from proto/sidecar/v1/wire.proto and sidecar.proto
// (scripts/gen-proto.sh; do not edit the .pb.go files). The comments on
// each message and field are the schema's. Package sidecar sends them; use
// this package for the response types and enums, e.g.
// sidecarpb.EnsureImageResponse_REPAIRED.
package sidecarpb
