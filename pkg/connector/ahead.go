package connector

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
)

// Reads ahead: every endpoint's rate budget spent in every window.
//
// Rocket.Chat limits each endpoint on its own (10 calls per 60 s by default),
// so the fastest a sync can be is the largest endpoint's windows, not their
// sum. The SDK asks for listings one after another, though: without help,
// teams.members would idle while users.listByStatus pages and the other way
// round. So each listing call of the connector, once its own read is done,
// and before its own read when that has to wait for its endpoint's window,
// makes the reads that later calls of the sync will need from other
// endpoints, as long as those endpoints have budget left in their current
// window, and keeps the answers in the session store, where the engine finds
// them (listing.ahead) whichever process serves the later call.
//
// Guarantees:
//   - No work outlives the call that started it: the reads run inside the
//     call, and never wait for a window (client.WithoutWaiting).
//   - Nothing is read twice by the sync's calls, in one process or several:
//     a read ahead is made only when its answer is not stored yet, and a
//     page a listing reads itself is stored the same way (fetchPage). A
//     value the store loses is read again once (a cache, as everywhere).
//   - A token that is not rate limited (api-bypass-rate-limit, the limiter
//     off) reads nothing ahead: its calls never wait.
//   - Only full syncs read ahead: a targeted sync (ConductorOne refreshing
//     one resource) reads what it is asked for and nothing else. A full
//     sync is one whose resources are listed (markListing).
//   - One fill at a time per process: under the SDK's parallel syncer,
//     concurrent calls do not race each other for the same reads.
//
// What is read ahead, and in which order, the syncers declare (aheadPlan):
// teams.go the teams listing and each team's members, deactivated.go the
// deactivated users' teams.

// spendIdleBudget lets a call that reads nothing from Rocket.Chat (an
// entitlements call) make the reads ahead its moment allows: the SDK builds
// every entitlement before it asks for grants, and the windows that pass
// meanwhile are otherwise lost to every endpoint.
func (c *Connector) spendIdleBudget(ctx context.Context, opts resource.SyncOpAttrs) {
	if c.reads.worthIt("") {
		c.reads.afterCall(ctx, c.shared(ctx, opts))
	}
}

// markListing records that the sync lists resources: it is a full sync.
func markListing(ctx context.Context, store shared) {
	store.setMany(ctx, map[string][]byte{keyFullSync: []byte("1")})
}

// fullSync reports whether the sync lists resources (markListing). Every
// listing call writes the mark, and a read that misses is asked again: a
// full sync taken for a targeted one would leave out the deactivated users'
// team grants its profiles promise.
func fullSync(ctx context.Context, store shared) bool {
	for range readTries {
		if _, ok := store.get(ctx, keyFullSync); ok {
			return true
		}
	}
	return false
}

// isWouldWait reports whether err is a read ahead that stopped rather than
// wait for its endpoint's window.
func isWouldWait(err error) bool { return errors.Is(err, client.ErrWouldWait) }

// readTries is how often a value that must be there is asked for before
// its absence counts: a session store may answer a read as a miss now and
// then (a cache, or a failing call).
const readTries = 4

// aheadRead is one read a later call of the sync will make.
type aheadRead struct {
	// endpoint is the Rocket.Chat endpoint it calls.
	endpoint string
	// read makes the read and stores its answer; with ctx from
	// client.WithoutWaiting it fails with client.ErrWouldWait rather
	// than wait.
	read func(ctx context.Context) error
}

// aheadPlan hands yield, in the order the sync will need them, the reads
// ahead not done yet, and stops when yield returns false. A read is made
// before yield returns, so the plan can build on its answer.
type aheadPlan func(ctx context.Context, store shared, yield func(aheadRead) bool)

// readsAhead makes the reads of its plans while their endpoints have budget.
type readsAhead struct {
	client *client.Client
	plans  []aheadPlan
	// endpoints are those the plans read, for a quick "nothing to do".
	endpoints []string
	mu        sync.Mutex
	// pages makes concurrent reads of one page (a read ahead and the
	// listing's own, under the SDK's parallel syncer) one call.
	pages singleflight.Group

	// read holds the keys this process has read ahead in the sync syncID:
	// a value the store lost since is left to the call that needs it (one
	// re-read), not read ahead again at every fill.
	readMu sync.Mutex
	syncID string
	read   map[string]bool
	// pagesRead keeps, up to maxRememberedBytes, the pages this process
	// read in the sync, encoded: a page the store loses is then served
	// from here, not read again under the limiter.
	pagesRead      map[string][]byte
	rememberedSize int
	// limited is whether the sync's token is known to be limited, and
	// limitedMarked whether this process has said so in the store
	// (activeIn).
	limited, limitedMarked bool
}

// maxRememberedBytes bounds the pages a process keeps in memory.
const maxRememberedBytes = 16 << 20

// rememberPage keeps an encoded page this process read in the sync.
func (r *readsAhead) rememberPage(syncID, key string, page []byte) {
	if r == nil {
		return
	}
	r.readMu.Lock()
	defer r.readMu.Unlock()
	r.forSync(syncID)
	if r.rememberedSize+len(page) > maxRememberedBytes {
		return
	}
	if r.pagesRead == nil {
		r.pagesRead = map[string][]byte{}
	}
	r.pagesRead[key] = page
	r.rememberedSize += len(page)
}

// rememberedPage is a page this process read in the sync, if it kept it.
func (r *readsAhead) rememberedPage(syncID, key string) ([]byte, bool) {
	if r == nil {
		return nil, false
	}
	r.readMu.Lock()
	defer r.readMu.Unlock()
	if r.syncID != syncID {
		return nil, false
	}
	page, ok := r.pagesRead[key]
	return page, ok
}

// readBefore reports whether this process has read key ahead in the sync.
func (r *readsAhead) readBefore(syncID, key string) bool {
	if r == nil {
		return false
	}
	r.readMu.Lock()
	defer r.readMu.Unlock()
	return r.syncID == syncID && r.read[key]
}

// remember records that this process has read key ahead in the sync.
func (r *readsAhead) remember(syncID, key string) {
	if r == nil {
		return
	}
	r.readMu.Lock()
	defer r.readMu.Unlock()
	r.forSync(syncID)
	r.read[key] = true
}

// forSync starts the process's memory of reads over for a new sync.
// Callers hold readMu.
func (r *readsAhead) forSync(syncID string) {
	if r.syncID != syncID || r.read == nil {
		r.syncID, r.read, r.pagesRead, r.rememberedSize = syncID, map[string]bool{}, nil, 0
		r.limited, r.limitedMarked = false, false
	}
}

// fetchPage reads the page of l at offset with count and keeps it in the
// store (aheadKey), where reads ahead and later calls find it. A read of the
// same page in flight in this process is shared, and one that has just been
// stored is not made again. A read ahead that stopped rather than wait
// leaves the caller, when it may wait, to read the page itself.
func fetchPage[T any](ctx context.Context, store shared, l *listing[T], offset, count int) (client.Page[T], error) {
	key := aheadKey(l.key, offset, count)
	read := func() (any, error) {
		if p, ok := loadPage[T](ctx, store, key, false); ok {
			return p, nil
		}
		if raw, ok := l.reads.rememberedPage(store.syncID, key); ok {
			var p client.Page[T]
			if json.Unmarshal(raw, &p) == nil {
				return p, nil
			}
		}
		p, err := l.fetch(ctx, offset, count)
		if err != nil {
			return nil, err
		}
		if raw, err := json.Marshal(p); err == nil {
			l.reads.rememberPage(store.syncID, key, raw)
		}
		if count == client.All && !p.Complete() {
			store.setMany(ctx, map[string][]byte{keyServerPaging: []byte(pagedServer)})
		}
		if err := storePageAt(ctx, store, key, p); err != nil {
			ctxzap.Extract(ctx).Debug("a page read could not be stored for later calls", zap.String("listing", l.what), zap.Error(err))
		}
		return p, nil
	}
	if l.reads == nil {
		v, err := read()
		p, _ := v.(client.Page[T])
		return p, err
	}
	v, err, _ := l.reads.pages.Do(key, read)
	if isWouldWait(err) && !client.IsWithoutWaiting(ctx) {
		v, err = read()
	}
	if err != nil {
		return client.Page[T]{}, err
	}
	p, _ := v.(client.Page[T])
	return p, nil
}

const (
	// minAheadWait is the shortest wait of a listing's own endpoint that
	// is worth filling with reads ahead.
	minAheadWait = 20 * time.Millisecond
	// aheadSlice bounds the reads ahead one call makes after its own read,
	// so that the call stays short whatever the server's latency.
	aheadSlice = 5 * time.Second
)

// beforeCall fills the wait a listing's own call to busy is about to make:
// with what the other endpoints can answer now, and again each time one of
// them opens a new window before busy does (two endpoints that a sync
// keeps busy, such as a room's members and roles routes, rarely share
// their windows' edges).
func (r *readsAhead) beforeCall(ctx context.Context, store shared, busy string) {
	if r == nil {
		return
	}
	wait := r.client.WaitFor(busy)
	if wait < minAheadWait {
		return
	}
	deadline := time.Now().Add(wait)
	for range 2 * len(r.endpoints) {
		r.fill(ctx, store, busy, deadline)
		next, ok := r.nextOpening(busy)
		if !ok || time.Now().Add(next).After(deadline) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(next + windowEdgeMargin):
		}
	}
}

// windowEdgeMargin is how long after an endpoint's window opens by this
// process's clock a read ahead tries it (the client's own margin against
// clock skew is inside it).
const windowEdgeMargin = 25 * time.Millisecond

// nextOpening is how soon an endpoint the plans read, other than busy,
// opens its next window; ok is false when none is waiting for one.
func (r *readsAhead) nextOpening(busy string) (time.Duration, bool) {
	var next time.Duration
	ok := false
	for _, ep := range r.endpoints {
		if ep == busy {
			continue
		}
		if w := r.client.WaitFor(ep); w > 0 && (!ok || w < next) {
			next, ok = w, true
		}
	}
	return next, ok
}

// afterCall spends what the endpoints have left in their current windows,
// once a call's own read is done: its endpoint's later pages too.
func (r *readsAhead) afterCall(ctx context.Context, store shared) {
	r.fill(ctx, store, "", time.Now().Add(aheadSlice))
}

// fill makes the plans' reads on endpoints other than busy that can be
// made without waiting, until the deadline.
func (r *readsAhead) fill(ctx context.Context, store shared, busy string, until time.Time) {
	if !r.worthIt(busy) || !r.mu.TryLock() {
		return
	}
	defer r.mu.Unlock()
	if !fullSync(ctx, store) {
		return
	}
	start := time.Now()
	spent := map[string]bool{busy: true}
	made := 0
	noWait := client.WithoutWaiting(ctx)
	for _, plan := range r.plans {
		plan(ctx, store, func(a aheadRead) bool {
			if ctx.Err() != nil || time.Now().After(until) {
				return false
			}
			if spent[a.endpoint] || !r.client.CallableNow(a.endpoint) {
				spent[a.endpoint] = true
				return true // later reads of the plan may be on other endpoints
			}
			err := a.read(noWait)
			if err != nil {
				// Out of budget, or a failure the call that needs the
				// page will meet (and report) itself.
				spent[a.endpoint] = true
				if !isWouldWait(err) {
					ctxzap.Extract(ctx).Debug("a read ahead failed; the call that needs it reads it", zap.String("endpoint", a.endpoint), zap.Error(err))
				}
				return true
			}
			made++
			return true
		})
	}
	if made > 0 {
		ctxzap.Extract(ctx).Debug("read ahead for later calls of the sync", zap.Int("reads", made), zap.String("while", busy), zap.Duration("took", time.Since(start).Round(time.Millisecond)))
	}
}

// active reports whether reads ahead are on: Rocket.Chat limits the token.
// While they are off, listings neither look for pages read ahead nor store
// their own for them.
func (r *readsAhead) active() bool { return r != nil && r.client.RateLimited() }

// activeIn is active for a listing of the sync store belongs to: this
// process has seen Rocket.Chat limit the token, or another process of the
// sync has (keyRateLimited). A process whose first call of the sync is a
// listing has not seen an answer of Rocket.Chat yet, and would otherwise
// read again what others read ahead for it.
func (r *readsAhead) activeIn(ctx context.Context, store shared) bool {
	if r == nil {
		return false
	}
	r.readMu.Lock()
	r.forSync(store.syncID)
	known, marked := r.limited, r.limitedMarked
	r.readMu.Unlock()
	switch {
	case r.client.RateLimited():
		if !marked {
			store.setMany(ctx, map[string][]byte{keyRateLimited: []byte("1")})
			r.setLimited(store.syncID, true)
		}
		return true
	case known:
		return true
	}
	if _, ok := store.get(ctx, keyRateLimited); ok {
		r.setLimited(store.syncID, false)
		return true
	}
	return false
}

// setLimited records that the sync's token is limited, and whether this
// process has marked it in the store.
func (r *readsAhead) setLimited(syncID string, marked bool) {
	r.readMu.Lock()
	defer r.readMu.Unlock()
	r.forSync(syncID)
	r.limited = true
	r.limitedMarked = r.limitedMarked || marked
}

// worthIt reports whether any endpoint the plans read, other than busy,
// can be called now. Nothing is read ahead for a token Rocket.Chat has not
// limited yet (api-bypass-rate-limit, or the limiter off): its calls never
// wait.
func (r *readsAhead) worthIt(busy string) bool {
	if !r.active() {
		return false
	}
	for _, ep := range r.endpoints {
		if ep != busy && r.client.CallableNow(ep) {
			return true
		}
	}
	return false
}

// readAheadPage is the read ahead of one page of a listing (fetchPage).
// Once read, *got holds the answer and *made is true.
func readAheadPage[T any](l *listing[T], store shared, offset, count int, got *client.Page[T], made *bool) aheadRead {
	return aheadRead{endpoint: l.endpoint, read: func(ctx context.Context) error {
		p, err := fetchPage(ctx, store, l, offset, count)
		if err != nil {
			return err
		}
		l.reads.remember(store.syncID, aheadKey(l.key, offset, count))
		*got, *made = p, true
		return nil
	}}
}

// aheadState is how far aheadPages got through a listing.
type aheadState int

const (
	aheadStopped  aheadState = iota // a read was not made: no budget left
	aheadComplete                   // every page is stored
	aheadLost                       // a page read ahead is gone from the store: its call reads it
)

// aheadPages hands yield the reads ahead of l's pages that are not stored
// yet, in order, and returns the items of the pages that are (or were just)
// read. Only the first pass's pages are read ahead, as the engine reads
// them; a page its own call has read is stored like one read ahead.
func aheadPages[T any](ctx context.Context, store shared, l *listing[T], yield func(aheadRead) bool) ([]T, aheadState) {
	count := client.All
	if serverPagesListings(ctx, store) && !hasPage(ctx, store, aheadKey(l.key, 0, client.All)) {
		count = client.PageSize
	}
	var items []T
	for offset := 0; ; {
		key := aheadKey(l.key, offset, count)
		p, ok := loadPage[T](ctx, store, key, false)
		if !ok {
			if l.reads.readBefore(store.syncID, key) {
				return items, aheadLost
			}
			var made bool
			if !yield(readAheadPage(l, store, offset, count, &p, &made)) || !made {
				return items, aheadStopped
			}
		}
		items = append(items, p.Items...)
		if len(p.Items) == 0 || p.Total < 0 || offset+len(p.Items) >= p.Total {
			return items, aheadComplete
		}
		offset += len(p.Items)
		count = client.PageSize
	}
}

// hasPage reports whether key holds a whole stored answer.
func hasPage(ctx context.Context, store shared, key string) bool {
	head, ok := getJSON[storedPage](ctx, store, key)
	return ok && head.Chunks > 0
}
