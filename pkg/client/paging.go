package client

import (
	"context"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
)

// MaxPasses bounds how often a listing is read from the start because its
// contents changed while it was being read, or it ended before its total.
const MaxPasses = 3

// page is one answer of an offset-paginated endpoint.
type page[T any] struct {
	Items []T
	// Total is the server's count of all matching items; nil when absent.
	Total *int
}

// walkPage adapts a listing's Page to walk's page.
func walkPage[T any](p Page[T], err error) (page[T], error) {
	out := page[T]{Items: p.Items}
	if p.Total >= 0 {
		total := p.Total
		out.Total = &total
	}
	return out, err
}

// fetchFunc reads the page at offset with at most PageSize items.
type fetchFunc[T any] func(ctx context.Context, offset, count int) (page[T], error)

// walk reads a whole offset-paginated listing and hands each batch of items
// not seen before to yield, in order. Offsets shift when items are added or
// removed during the walk; walk notices through the changing total and reads
// the listing again from the start (up to MaxPasses times), so no item that
// existed throughout is missed and none is yielded twice. A page that makes
// no progress where the total says more exists is an error, never a loop.
func walk[T any](ctx context.Context, endpoint string, fetch fetchFunc[T], id func(T) string, yield func([]T) error) error {
	l := ctxzap.Extract(ctx)
	// seen maps each id to the last pass that saw it: ids seen in any pass
	// are not yielded again; ids new to this pass show the pass progresses.
	seen := make(map[string]int)
	for pass := 1; ; pass++ {
		res, err := walkPass(ctx, endpoint, fetch, id, seen, pass, yield)
		if err != nil {
			return err
		}
		switch {
		case res.changed && pass < MaxPasses:
			l.Warn("rocket.chat listing changed while it was read; reading it again from the start",
				zap.String("endpoint", endpoint), zap.Int("pass", pass))
			continue
		case res.changed:
			// A busy workspace read under the rate limiter may change during
			// every pass. Failing would mean never finishing; the union of
			// the passes holds everyone who existed throughout in practice.
			l.Warn("rocket.chat listing kept changing while it was read; keeping everything seen across the passes",
				zap.String("endpoint", endpoint), zap.Int("passes", pass), zap.Int("items", len(seen)))
		case res.short && pass == 1:
			// The listing ended before its total. Read it once more to tell
			// a passing glitch from a server whose count is simply off.
			l.Warn("rocket.chat listing ended before its total; reading it again from the start",
				zap.String("endpoint", endpoint), zap.Int("total", res.total), zap.Int("returned", len(seen)))
			continue
		case res.short && res.total-len(seen) >= PageSize:
			// Whole pages missing are not a counting quirk: a partial
			// listing would read as access that no longer exists.
			return fmt.Errorf("rocket.chat %s: the listing stops after %d of %d items, twice; refusing to report a partial listing",
				endpoint, len(seen), res.total)
		case res.short:
			l.Warn("rocket.chat listing consistently returns a few items fewer than its total; keeping what it returns",
				zap.String("endpoint", endpoint), zap.Int("total", res.total), zap.Int("returned", len(seen)))
		}
		return nil
	}
}

type passResult struct {
	changed bool // the total changed during the pass
	short   bool // the listing ended before its total
	total   int  // the last total seen, -1 if the server sends none
}

// stalePageLimit bounds consecutive pages that bring nothing new to a pass:
// a server that ignores offset must neither loop nor pass for complete.
const stalePageLimit = 3

func walkPass[T any](ctx context.Context, endpoint string, fetch fetchFunc[T], id func(T) string, seen map[string]int, pass int,
	yield func([]T) error,
) (passResult, error) {
	first, lastTotal := true, -1
	changed := false
	offset, stale := 0, 0
	emptyRetried := false
	for {
		p, err := fetch(ctx, offset, PageSize)
		if err != nil {
			return passResult{}, err
		}
		total := -1
		if p.Total != nil {
			total = *p.Total
		}
		moved := false // the listing changed since the previous page
		if first {
			first = false
		} else if total != lastTotal {
			changed, moved = true, true
		}
		lastTotal = total

		fresh := make([]T, 0, len(p.Items))
		progress := 0
		for _, item := range p.Items {
			key := id(item)
			if key == "" {
				ctxzap.Extract(ctx).Warn("rocket.chat listing item without an id skipped", zap.String("endpoint", endpoint))
				continue
			}
			last, dup := seen[key]
			if last < pass {
				progress++
			}
			seen[key] = pass
			if !dup {
				fresh = append(fresh, item)
			}
		}
		if len(fresh) > 0 {
			if err := yield(fresh); err != nil {
				return passResult{}, err
			}
		}

		offset += len(p.Items)
		switch {
		case len(p.Items) == 0 && total >= 0 && offset < total:
			// The server says more exists but sent nothing. Ask once more:
			// if items were removed meanwhile, the total will show it.
			if !emptyRetried {
				emptyRetried = true
				continue
			}
			return passResult{changed: changed, short: true, total: total}, nil
		case len(p.Items) == 0:
			return passResult{changed: changed, total: total}, nil
		case total >= 0 && offset >= total:
			return passResult{changed: changed, total: total}, nil
		case progress == 0 && !moved:
			// Nothing new although the listing did not change: offsets are
			// not moving through it. (After a change, a page of items seen
			// already is expected; the next pass settles it.)
			stale++
			if stale >= stalePageLimit {
				return passResult{}, fmt.Errorf("rocket.chat %s: pages stopped bringing new items at offset %d (does the server ignore offset?); "+
					"refusing to loop or to report a partial listing", endpoint, offset)
			}
		default:
			stale = 0
		}
		emptyRetried = false
	}
}

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
