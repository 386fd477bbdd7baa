// Command agentloader is seed 000 (cagent #1455) done with the sidecar:
// an agent loader that reads agents from a local OCI image layout, and asks
// sidecard for each image first. cagent trusted its local store: once a
// blob was half-written, every load failed with ErrStoreCorrupted for ever,
// although the registry held a valid copy. Here the daemon verifies the
// layout before the loader reads it, so the loader sees one of:
//
//   - PRESENT or PULLED: the image is whole; it is read.
//   - REPAIRED: it was damaged (a truncated blob, a missing ref, a broken
//     index.json) and was pulled again; Detail says what was wrong.
//   - STALE: refreshing failed (the registry is down) but a valid older
//     copy exists; it is read, and Detail holds the pull's error.
//   - an error, at once, when neither is possible: UNAVAILABLE (a registry
//     down may come back) with the pull's error and a remedy, then the same
//     with the time left while the image backs off. Never a loop.
//
// While it reads, the loader holds a lease on the image, so that a prune
// or a repair does not remove the files under it.
//
//	go run ./examples/agentloader [--socket PATH] --layout DIR IMAGE...
//
// IMAGE is an image name from the daemon's config; DIR is its OCI layout
// (images.oci_layout, by default STATE_DIR/oci). One line per agent on
// stdout; exit 0 when every one loaded, 1 when one could not be (the
// error and the remedy on stderr), 69 when the sidecar cannot be reached.
// The socket is $SIDECAR_SOCKET, else the default one. main_test.go runs
// it against a real docker-registry and the daemon's default backend.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	sidecar "github.com/sidecar-dev/sidecar/clients/go"
	pb "github.com/sidecar-dev/sidecar/clients/go/sidecarpb"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// Agent is what the loader read: the image's files, layer by layer.
type Agent struct {
	Image   string
	Ref     string
	Digest  string
	Outcome pb.EnsureImageResponse_Outcome
	Detail  string   // what went wrong first, for REPAIRED and STALE
	Files   []string // the layers' files, bottom layer first
	Bytes   int64    // the layers' bytes
}

// descriptor is an OCI content descriptor.
type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations"`
}

// Load ensures image through the sidecar, then reads it from layout under
// a lease.
func Load(ctx context.Context, client *sidecar.Client, layout, image string) (*Agent, error) {
	holder := fmt.Sprintf("agentloader/%d", os.Getpid())
	ensured, err := client.EnsureImage(ctx, image, sidecar.WithLease(holder, time.Minute))
	if err != nil {
		return nil, err
	}
	defer client.ReleaseLease(context.Background(), ensured.Lease.GetId())
	agent := &Agent{Image: image, Ref: ensured.Ref, Digest: ensured.Id, Outcome: ensured.Outcome, Detail: ensured.Detail}

	var index struct {
		Manifests []descriptor `json:"manifests"`
	}
	if err := readJSON(filepath.Join(layout, "index.json"), &index); err != nil {
		return nil, err
	}
	var manifestDescriptor *descriptor
	for i, m := range index.Manifests {
		if m.Annotations["org.opencontainers.image.ref.name"] == ensured.Ref {
			manifestDescriptor = &index.Manifests[i]
		}
	}
	if manifestDescriptor == nil {
		return nil, fmt.Errorf("%s: %s is not in %s/index.json", image, ensured.Ref, layout)
	}
	manifestBytes, err := readBlob(layout, *manifestDescriptor)
	if err != nil {
		return nil, err
	}
	var manifest struct {
		Config descriptor   `json:"config"`
		Layers []descriptor `json:"layers"`
	}
	if err := json.Unmarshal(manifestBytes, &manifest); err != nil {
		return nil, fmt.Errorf("%s: manifest: %w", image, err)
	}
	if _, err := readBlob(layout, manifest.Config); err != nil {
		return nil, err
	}
	for _, layer := range manifest.Layers {
		data, err := readBlob(layout, layer)
		if err != nil {
			return nil, err
		}
		var layerReader io.Reader = bytes.NewReader(data)
		if strings.HasSuffix(layer.MediaType, "+gzip") || strings.HasSuffix(layer.MediaType, ".gzip") {
			if layerReader, err = gzip.NewReader(layerReader); err != nil {
				return nil, fmt.Errorf("%s: layer %s: %w", image, layer.Digest, err)
			}
		}
		reader := tar.NewReader(layerReader)
		for {
			header, err := reader.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: layer %s: %w", image, layer.Digest, err)
			}
			agent.Files = append(agent.Files, header.Name)
			agent.Bytes += header.Size
		}
	}
	return agent, nil
}

// readBlob reads a blob and checks it against its descriptor: the daemon
// verified it, and the loader still trusts nothing it has not checked.
func readBlob(layout string, d descriptor) ([]byte, error) {
	hexDigest := strings.TrimPrefix(d.Digest, "sha256:")
	data, err := os.ReadFile(filepath.Join(layout, "blobs", "sha256", hexDigest))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	if int64(len(data)) != d.Size || hex.EncodeToString(sum[:]) != hexDigest {
		return nil, fmt.Errorf("blob %s changed after the daemon verified it", d.Digest)
	}
	return data, nil
}

func readJSON(path string, into any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("agentloader", flag.ContinueOnError)
	flags.SetOutput(stderr)
	socket := flags.String("socket", "", "the sidecar's socket (default: $SIDECAR_SOCKET, else the default socket)")
	layout := flags.String("layout", "", "the daemon's OCI image layout (images.oci_layout)")
	if err := flags.Parse(args); err != nil || *layout == "" || flags.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: agentloader [--socket PATH] --layout DIR IMAGE...")
		return 64
	}
	var opts []sidecar.DialOption
	if *socket != "" {
		opts = append(opts, sidecar.WithSocket(*socket))
	}
	opts = append(opts, sidecar.WithClientName("agentloader"))
	client, err := sidecar.Dial(ctx, opts...)
	if err != nil {
		fmt.Fprintln(stderr, "agentloader:", err)
		return 69
	}
	defer client.Close()

	status := 0
	for _, image := range flags.Args() {
		callCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		began := time.Now()
		agent, err := Load(callCtx, client, *layout, image)
		cancel()
		if err != nil {
			status = 1
			fmt.Fprintf(stderr, "%s: not loaded after %.1f s: %v\n", image, time.Since(began).Seconds(), err)
			var e *sidecar.Error
			if errors.As(err, &e) && e.Detail != nil {
				fmt.Fprintf(stderr, "%s: remedy: %s\n", image, e.Detail.Remedy)
				if e.Detail.RetryAfter > 0 {
					fmt.Fprintf(stderr, "%s: retry after %.1f s\n", image, e.Detail.RetryAfter.Seconds())
				}
			}
			continue
		}
		line := fmt.Sprintf("%s: %s %s %s, %d files, %d bytes: %s", image, agent.Outcome, agent.Ref, agent.Digest,
			len(agent.Files), agent.Bytes, strings.Join(agent.Files, " "))
		if agent.Detail != "" {
			line += " (" + agent.Detail + ")"
		}
		fmt.Fprintln(stdout, line)
	}
	return status
}
