package sidecar_test

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	sidecar "github.com/sidecar-dev/sidecar/clients/go"
	"github.com/sidecar-dev/sidecar/clients/go/internal/daemontest"
	pb "github.com/sidecar-dev/sidecar/clients/go/sidecarpb"
)

// TestTheListMethodsFollowThePages: under a 64 KiB message limit, 150 retry
// keys of about 2 KB (first and last error) take several pages, and
// ListRetries returns every key once, in key order.
func TestTheListMethodsFollowThePages(t *testing.T) {
	d := daemontest.Start(t, daemontest.Options{Images: []string{"app", "base", "tools"}, Limits: "max_message_bytes = 65536"})
	client := dial(t, d.Socket)
	ctx := testContext(t)
	longError := "connection reset by peer " + strings.Repeat("x", 1000)
	var keys []string
	for i := 0; i < 150; i++ {
		keys = append(keys, fmt.Sprintf("task-%03d", i))
	}
	for i := len(keys) - 1; i >= 0; i-- { // the order listed is the daemon's, by key
		if _, err := client.ReserveRetrySlot(ctx, keys[i], longError); err != nil {
			t.Fatal(err)
		}
	}

	before := callsTotal(t, client, "ListRetries", "OK")
	all, err := client.ListRetries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pages := callsTotal(t, client, "ListRetries", "OK") - before
	var got []string
	for _, r := range all.Retries {
		got = append(got, r.Key)
		if r.LastError != longError || r.OptionalOwnerUid == nil || r.GetOwnerUid() != uint32(os.Getuid()) {
			t.Fatalf("%s: last error of %d bytes, owner %v", r.Key, len(r.LastError), r.OptionalOwnerUid)
		}
	}
	if !reflect.DeepEqual(got, keys) {
		t.Fatalf("ListRetries: %d keys %v, want the 150 in order", len(got), got)
	}
	if pages < 2 || all.NextPageToken != "" {
		t.Fatalf("ListRetries took %d call(s), next page token %q; want several pages, all followed", pages, all.NextPageToken)
	}

	// Page by page: each page a call, with the filter and the page size.
	var sizes []int
	got = nil
	err = client.ListRetriesPages(ctx, func(page *pb.ListRetriesResponse) error {
		sizes = append(sizes, len(page.Retries))
		for _, r := range page.Retries {
			got = append(got, r.Key)
		}
		return nil
	}, sidecar.WithKeyPrefix("task-1"), sidecar.WithPageSize(7))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, keys[100:]) || !reflect.DeepEqual(sizes, []int{7, 7, 7, 7, 7, 7, 7, 1}) {
		t.Fatalf("ListRetriesPages: pages of %v, keys %v", sizes, got)
	}
	// fn's error stops the listing and is returned.
	stop := errors.New("enough")
	calls := 0
	if err := client.ListRetriesPages(ctx, func(*pb.ListRetriesResponse) error { calls++; return stop }); err != stop || calls != 1 {
		t.Fatalf("ListRetriesPages after fn's error: %v, %d calls of fn", err, calls)
	}

	lease, err := client.AcquireLease(ctx, "app", "runner-9", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if lease.OptionalOwnerUid == nil || lease.GetOwnerUid() != uint32(os.Getuid()) {
		t.Fatalf("lease owner %v, want uid %d", lease.OptionalOwnerUid, os.Getuid())
	}
	leases, err := client.ListLeases(ctx, sidecar.WithPageSize(1))
	if err != nil || len(leases.Leases) != 1 || leases.Leases[0].Id != lease.Id || leases.Leases[0].GetOwnerUid() != uint32(os.Getuid()) {
		t.Fatalf("ListLeases: %v, %v", leases, err)
	}
	var names []string
	imagePages := 0
	err = client.ListImagesPages(ctx, func(page *pb.ListImagesResponse) error {
		imagePages++
		for _, image := range page.Images {
			names = append(names, image.Name)
		}
		return nil
	}, sidecar.WithPageSize(2))
	if err != nil || !reflect.DeepEqual(names, []string{"app", "base", "tools"}) || imagePages != 2 {
		t.Fatalf("ListImagesPages: %v in %d pages, %v", names, imagePages, err)
	}
	images, err := client.ListImages(ctx)
	if err != nil || len(images.Images) != 3 {
		t.Fatalf("ListImages: %v, %v", images, err)
	}
}

// TestABadPageTokenIsInvalidArgument: a token not from ListRetries (another
// method's, not base64, or base64 of anything else) is INVALID_ARGUMENT.
func TestABadPageTokenIsInvalidArgument(t *testing.T) {
	d := start(t, "app", "base", "tools")
	client := dial(t, d.Socket)
	ctx := testContext(t)
	images := new(pb.ListImagesResponse)
	if err := client.Invoke(ctx, "ListImages", &pb.ListImagesRequest{PageSize: 2}, images); err != nil || images.NextPageToken == "" {
		t.Fatalf("ListImages of 2: %v, next page token %q", err, images.NextPageToken)
	}
	for _, token := range []string{images.NextPageToken, "not base64!", "QUJD"} {
		err := client.Invoke(ctx, "ListRetries", &pb.ListRetriesRequest{PageToken: token}, new(pb.ListRetriesResponse))
		if e := wantCode(t, err, sidecar.InvalidArgument); !sidecar.IsPermanent(e) {
			t.Fatalf("%v is not permanent", e)
		}
	}
}
