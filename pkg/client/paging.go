package client

import (
	"context"

	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// MaxPasses bounds how often a listing is read from the start because its
// contents changed while it was being read, or it ended before its total.
const MaxPasses = 3

// PageCursor is where a listing read page by page stands: everything needed
// to read its next page, in this process or another (the connector carries
// it in page tokens, hence the short JSON names). The zero PageCursor starts
// a listing.
type PageCursor struct {
	// Offset is where on the server the next page starts.
	Offset int `json:"o,omitempty"`
	// Total is the listing's total when the pass began (on the pass's page
	// at offset 0; -1 when the server sent none); a change means the
	// listing moved under the reader.
	Total int `json:"t,omitempty"`
	// Pass counts the restarts of the listing from its start.
	Pass int `json:"r,omitempty"`
	// Head is the first id of the previous page: a server that ignores
	// offset sends it again.
	Head string `json:"h,omitempty"`
	// Retried is set when the page at Offset came back empty once
	// although the total said more.
	Retried bool `json:"x,omitempty"`
}

// Step is the paging policy of every listing read page by page, one page
// per call and from the cursor alone: from the answer p to the page of
// PageSize items asked for at cur.Offset, it keeps the items with an id
// (the others are dropped with a warning) and returns the cursor of the
// next page, nil once the listing is complete. An error (codes.Aborted) is
// a listing that cannot be read completely: the caller must not report it
// as complete. endpoint and what (e.g. "members of team X") name the
// listing in logs and errors.
//
//   - The total changed since the pass began: items were added or removed,
//     shifting the offsets, so what was not read yet may have moved behind
//     the reader. The listing is read again from offset 0, keeping the
//     items of this page (repeats are harmless to a reader that keys by
//     id), up to MaxPasses passes in all; after that it goes on with the
//     new total, so a busy listing is kept as the union of its passes.
//   - An empty page although the total says more: the same offset is asked
//     once more (Retried). Still empty: fewer than PageSize items short of
//     the total is a counting quirk and ends the listing with a warning;
//     whole pages missing start a new pass while passes remain, and then
//     fail.
//   - A page at a later offset that starts with the previous page's first
//     id, the total unchanged: the server ignores offset; fail rather than
//     loop.
//   - The listing is complete when the offset reaches the total, or, from
//     a server that sends no total, on a page shorter than PageSize.
//
// Every page either moves the offset on, is the one retry of an empty
// page, or starts one of at most MaxPasses passes, so the listing ends as
// long as the server's total (or, without one, its listing) stops growing.
func Step[T any](ctx context.Context, endpoint, what string, cur PageCursor, p Page[T], id func(T) string) ([]T, *PageCursor, error) {
	log := ctxzap.Extract(ctx).With(zap.String("endpoint", endpoint), zap.String("listing", what))
	items := make([]T, 0, len(p.Items))
	for _, item := range p.Items {
		if id(item) != "" {
			items = append(items, item)
		}
	}
	if dropped := len(p.Items) - len(items); dropped > 0 {
		log.Warn("rocket.chat listing items without an id skipped", zap.Int("items", dropped))
	}
	if cur.Offset == 0 {
		// Nothing of this pass has been read yet: its total is this page's.
		cur.Total = p.Total
	}
	moved := p.Total >= 0 && p.Total != cur.Total
	if moved {
		if cur.Pass+1 < MaxPasses {
			log.Warn("rocket.chat listing changed while it was read; reading it again from the start",
				zap.Int("pass", cur.Pass+1), zap.Int("total", p.Total), zap.Int("offset", cur.Offset))
			return items, &PageCursor{Total: p.Total, Pass: cur.Pass + 1}, nil
		}
		// A busy workspace read under the rate limiter may change during
		// every pass. Failing would mean never finishing; the union of the
		// passes holds everyone who existed throughout in practice.
		log.Warn("rocket.chat listing kept changing while it was read; keeping everything seen across the passes",
			zap.Int("passes", MaxPasses), zap.Int("total", p.Total), zap.Int("offset", cur.Offset))
		cur.Total = p.Total
	}
	if len(p.Items) == 0 {
		if p.Total < 0 || cur.Offset >= p.Total {
			return nil, nil, nil
		}
		// The server says more exists but sent nothing. Ask once more: if
		// items were removed meanwhile, the total will show it.
		if !cur.Retried {
			next := cur
			next.Retried = true
			return nil, &next, nil
		}
		missing := p.Total - cur.Offset
		switch {
		case missing < PageSize:
			log.Warn("rocket.chat listing returns a few items fewer than its total; keeping what it returns",
				zap.Int("total", p.Total), zap.Int("returned", cur.Offset))
			return nil, nil, nil
		case cur.Pass+1 < MaxPasses:
			log.Warn("rocket.chat listing ended before its total; reading it again from the start",
				zap.Int("pass", cur.Pass+1), zap.Int("total", p.Total), zap.Int("offset", cur.Offset))
			return nil, &PageCursor{Total: p.Total, Pass: cur.Pass + 1}, nil
		}
		// Whole pages missing are not a counting quirk: a partial listing
		// would read as access that no longer exists.
		return nil, nil, status.Errorf(codes.Aborted,
			"rocket.chat %s (%s): the listing stops after %d of %d items, in each of %d passes; refusing to report a partial listing",
			endpoint, what, cur.Offset, p.Total, MaxPasses)
	}
	head := ""
	if len(items) > 0 {
		head = id(items[0])
	}
	// After a change (passes exhausted) a repeat is explained by items
	// inserted before the offset.
	if cur.Offset > 0 && !moved && head != "" && head == cur.Head {
		return nil, nil, status.Errorf(codes.Aborted,
			"rocket.chat %s (%s): the page at offset %d repeats the previous page (does the server ignore offset?); refusing to loop or to report a partial listing",
			endpoint, what, cur.Offset)
	}
	next := cur
	next.Retried = false
	next.Offset += len(p.Items)
	next.Head = head
	if p.Total >= 0 && next.Offset >= p.Total {
		return items, nil, nil
	}
	if p.Total < 0 && len(p.Items) < PageSize {
		return items, nil, nil
	}
	return items, &next, nil
}

// walk reads a whole listing into memory through Step, one page of
// PageSize items per fetch, and hands each batch of items not seen before
// to yield, in order: a re-read pass (see Step) yields only what earlier
// passes did not. Any error of fetch, Step or yield ends it.
func walk[T any](ctx context.Context, endpoint, what string, fetch func(ctx context.Context, offset, count int) (Page[T], error),
	id func(T) string, yield func([]T) error,
) error {
	seen := make(map[string]struct{})
	for cur := (&PageCursor{}); cur != nil; {
		p, err := fetch(ctx, cur.Offset, PageSize)
		if err != nil {
			return err
		}
		items, next, err := Step(ctx, endpoint, what, *cur, p, id)
		if err != nil {
			return err
		}
		fresh := make([]T, 0, len(items))
		for _, item := range items {
			key := id(item)
			if _, dup := seen[key]; !dup {
				seen[key] = struct{}{}
				fresh = append(fresh, item)
			}
		}
		if len(fresh) > 0 {
			if err := yield(fresh); err != nil {
				return err
			}
		}
		cur = next
	}
	return nil
}
