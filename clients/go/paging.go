package sidecar

import (
	"context"

	pb "github.com/sidecar-dev/sidecar/clients/go/sidecarpb"
	"google.golang.org/protobuf/proto"
)

// The list methods page (ListImages, ListLeases, ListRetries): the daemon
// answers at most a page of items (page_size, 1,000 by default, and never
// more than fits in one message) with the token of the next. ListImages,
// ListLeases and ListRetries follow the tokens and return one response
// holding every item; ListImagesPages, ListLeasesPages and
// ListRetriesPages hand each page to a function as it comes.

// ListOption is an option of ListImagesPages and ListLeasesPages.
type ListOption interface {
	applyList(*listRequest)
}

type listRequest struct {
	pageSize uint32
}

// PageSizeOption is WithPageSize's option, for every list method.
type PageSizeOption interface {
	ListOption
	ListRetriesOption
}

type pageSize uint32

func (o pageSize) applyList(r *listRequest)                  { r.pageSize = uint32(o) }
func (o pageSize) applyListRetries(r *pb.ListRetriesRequest) { r.PageSize = uint32(o) }

// WithPageSize sets how many items a page holds at most (0: the daemon's
// default, 1,000; at most 10,000). The daemon ends a page sooner when the
// next item would not fit in one message.
func WithPageSize(n uint32) PageSizeOption { return pageSize(n) }

func listOptions(opts []ListOption) listRequest {
	var r listRequest
	for _, o := range opts {
		o.applyList(&r)
	}
	return r
}

// ListImagesPages calls fn with each page of ListImages, in the order of
// the images' names, until the last page or an error: the call's, or
// fn's, which stops the listing and is returned as it is.
func (c *Client) ListImagesPages(ctx context.Context, fn func(*pb.ListImagesResponse) error, opts ...ListOption) error {
	req := &pb.ListImagesRequest{PageSize: listOptions(opts).pageSize}
	return everyPage(ctx, c, "ListImages", req, &req.PageToken, fn)
}

// ListLeasesPages calls fn with each page of ListLeases, by lease id, as
// ListImagesPages does.
func (c *Client) ListLeasesPages(ctx context.Context, fn func(*pb.ListLeasesResponse) error, opts ...ListOption) error {
	req := &pb.ListLeasesRequest{PageSize: listOptions(opts).pageSize}
	return everyPage(ctx, c, "ListLeases", req, &req.PageToken, fn)
}

// ListRetriesPages calls fn with each page of ListRetries, by key, as
// ListImagesPages does; the options (WithState, WithKeyPrefix,
// WithPageSize) go with every page.
func (c *Client) ListRetriesPages(ctx context.Context, fn func(*pb.ListRetriesResponse) error, opts ...ListRetriesOption) error {
	req := &pb.ListRetriesRequest{}
	for _, o := range opts {
		o.applyListRetries(req)
	}
	return everyPage(ctx, c, "ListRetries", req, &req.PageToken, fn)
}

// page is a list method's response.
type page interface {
	proto.Message
	GetNextPageToken() string
}

// everyPage calls method with req, from the first page to the last,
// setting *token (req's page_token) to each answer's next_page_token, and
// hands every answer to fn.
func everyPage[T any, P interface {
	*T
	page
}](ctx context.Context, c *Client, method string, req proto.Message, token *string, fn func(P) error) error {
	for {
		resp := P(new(T))
		if err := c.invoke(ctx, method, req, resp, true); err != nil {
			return err
		}
		if err := fn(resp); err != nil {
			return err
		}
		if *token = resp.GetNextPageToken(); *token == "" {
			return nil
		}
	}
}
