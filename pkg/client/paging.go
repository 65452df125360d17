package client

import (
	"context"
	"fmt"

	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
)

// maxPasses bounds how often a listing is re-read from the start because its
// contents changed while it was being read.
const maxPasses = 3

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
// the listing again from the start (up to maxPasses times), so no item that
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
		case res.changed && pass < maxPasses:
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
