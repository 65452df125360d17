package connector

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The read engine: how every Rocket.Chat listing reaches the SDK. It knows
// no resource; each syncer declares its listings next to itself (users in
// user.go, teams and members in team.go, permissions in permission.go,
// integrations in integration.go).
//
// Its contract, all of it:
//
//   - A listing[T] names one offset-paginated Rocket.Chat listing: a session
//     key unique in the sync, the endpoint it calls (for pacing and
//     messages), how to fetch items at an offset, and each item's id.
//   - page(ctx, store, cur) returns the items at cur and the cursor of the
//     page after them (nil at the end). A readCursor is self-contained: any
//     process can serve the page it names, from the session store or, when
//     the stored value is gone, from Rocket.Chat (the store is a cache: a
//     lost entry costs a re-read, never data). Items without an id are left
//     out.
//   - stored(ctx, store) is the cursor at the start of the listing's last
//     complete stored reading (listings with keep), for a second pass over
//     the same data; meta is what the syncer attached to it.
//   - walk(ctx, store, cur, yield) hands yield every page from cur to the
//     end, for a syncer that needs a whole listing inside one call.
//   - encodeToken / decodeToken wrap a syncer's own token state (a typed
//     value of that syncer, which holds readCursors) into a page token. A
//     token this version cannot read restarts its listing.
//
// How it reads. Rocket.Chat answers count=0 with the whole listing in one
// call while API_Allow_Infinite_Count is on (the default), the cheapest plan
// under its rate limiter. The SDK gets that answer in pages of at most
// pageItems items; the pages after the first wait in the session store for
// whichever process serves them. With the setting off, Rocket.Chat answers
// 50 items and a larger total: the first listing of the sync to see that
// records it (keyServerPaging), and every later listing pages by
// client.PageSize from offset 0, each cursor naming the next offset, under
// the one paging policy of client.Step.
//
// Pages of listings marked ahead may have been read before the call that
// needs them, by the reads ahead (ahead.go), while other endpoints waited
// for their rate-limit windows; the engine serves such a page from the
// store, as if it had just read it.
const (
	// pageItems bounds the items of one page handed to the SDK.
	pageItems = 500
	// maxChunkBytes bounds one stored value, well inside the session
	// store's 4 MB request limit.
	maxChunkBytes = 1 << 20
)

// listing is one Rocket.Chat listing as the engine reads it.
type listing[T any] struct {
	// key prefixes its values in the session store; unique in a sync.
	key string
	// endpoint is the Rocket.Chat endpoint it calls ("teams.members").
	endpoint string
	// what names it in messages: "users", "members of team X".
	what string
	// fetch reads items from offset; count is client.All or client.PageSize.
	fetch func(ctx context.Context, offset, count int) (client.Page[T], error)
	id    func(T) string
	// keep stores the whole reading, first chunk included, and a manifest
	// of it, for a second pass over the same data (stored).
	keep bool
	// meta is stored with the manifest of a kept reading.
	meta json.RawMessage
	// settle, when set, runs once the call's first answer from Rocket.Chat
	// has arrived, before anything of it is stored: the syncer decides
	// there what the manifest keeps (meta).
	settle func()
	// ahead marks a listing whose pages may have been read ahead.
	ahead bool
	// reads, when set, is told before the listing calls Rocket.Chat, so
	// that other endpoints' reads ahead can use a wait for its window.
	reads *readsAhead
}

// pageAfter is up to pageItems of items, sorted by id, whose ids sort
// after after, and whether more follow. Pages that continue after an id
// rather than an offset skip or repeat no item when the items are read
// again between two pages (a value the store lost), as long as both
// readings hold it.
func pageAfter[T any](items []T, id func(T) string, after string) ([]T, bool) {
	from, found := slices.BinarySearchFunc(items, after, func(item T, after string) int { return cmp.Compare(id(item), after) })
	if found {
		from++
	}
	to := min(from+pageItems, len(items))
	return items[from:to], to < len(items)
}

// readCursor is the engine's part of a page token: where a listing
// continues. Each field means one thing:
//
//	s  Reading  the stored reading whose chunks are served next ("" none)
//	c  Chunk    the next chunk of that reading
//	n  Chunks   the chunks in that reading
//	p  Paged    the server serves this listing page by page
//	y  Replay   a pass over a stored reading that was read page by page:
//	            its chunks' server offsets are unknown, so a lost chunk
//	            restarts the listing
//	o  Offset   where on the server the next page starts      } client.PageCursor:
//	t  Total    the total when the pass began                 } the paging
//	r  Pass     restarts so far                                } policy's state
//	h  Head     the first id of the previous page             }
//	x  Retried  the page at Offset came back empty once       }
type readCursor struct {
	Reading string `json:"s,omitempty"`
	Chunk   int    `json:"c,omitempty"`
	Chunks  int    `json:"n,omitempty"`
	Paged   bool   `json:"p,omitempty"`
	Replay  bool   `json:"y,omitempty"`
	client.PageCursor
}

// valid rejects cursors no version of this code writes.
func (c readCursor) valid() bool {
	return c.Offset >= 0 && c.Chunk >= 0 && c.Chunks >= 0 && c.Pass >= 0
}

// tokenVersion is written into every page token. A token without it (or
// with another) was written by another version: its listing restarts,
// which the SDK takes well (it stores resources and grants by id), while
// misreading it could skip data. Version 3: room and team grants continue
// after a user id (version 2's offsets would be read as "from the start"
// without a word).
const tokenVersion = 3

type tokenEnvelope[S any] struct {
	V     int `json:"v"`
	State S   `json:"t"`
}

// encodeToken is the page token carrying state; "" when there is none.
func encodeToken[S any](state *S) string {
	if state == nil {
		return ""
	}
	b, err := json.Marshal(tokenEnvelope[S]{V: tokenVersion, State: *state})
	if err != nil {
		// Token states are structs of strings, ints and bools.
		panic(err)
	}
	return string(b)
}

// decodeToken reads a page token written by encodeToken. The empty token
// and any token this version cannot read are the zero state: the listing
// starts over. check, when set, rejects states no version writes.
func decodeToken[S any](ctx context.Context, token string, check func(S) bool) S {
	var env tokenEnvelope[S]
	if token == "" {
		return env.State
	}
	if err := json.Unmarshal([]byte(token), &env); err != nil || env.V != tokenVersion || (check != nil && !check(env.State)) {
		ctxzap.Extract(ctx).Warn("unreadable page token (another version's?); reading the listing again from the start")
		var zero S
		return zero
	}
	return env.State
}

// manifest says where a complete stored reading is.
type manifest struct {
	Reading string          `json:"s"`
	Chunks  int             `json:"n"`
	Paged   bool            `json:"p,omitempty"`
	Meta    json.RawMessage `json:"m,omitempty"`
}

// walk hands yield the items of every page from cur to the end of the
// listing. restart is true when the listing started over from its first
// item (a new pass, Rocket.Chat's data having moved under the paging): what
// yield gathered from earlier pages is to be dropped.
func (l *listing[T]) walk(ctx context.Context, store shared, cur readCursor, yield func(items []T, restart bool)) error {
	for restart := false; ; {
		items, next, err := l.page(ctx, store, cur)
		if err != nil {
			return err
		}
		yield(items, restart)
		if next == nil {
			return nil
		}
		restart = next.Pass != cur.Pass
		cur = *next
	}
}

// stored is the cursor at the start of the listing's last complete stored
// reading, and the meta stored with it; ok is false when there is none.
func (l *listing[T]) stored(ctx context.Context, store shared) (readCursor, json.RawMessage, bool) {
	m, ok := getJSON[manifest](ctx, store, manifestKey(l.key))
	if !ok || m.Reading == "" || m.Chunks <= 0 {
		return readCursor{}, nil, false
	}
	return readCursor{Reading: m.Reading, Chunks: m.Chunks, Replay: m.Paged}, m.Meta, true
}

// page returns the items at cur and the cursor of the page after them, nil
// at the end of the listing.
func (l *listing[T]) page(ctx context.Context, store shared, cur readCursor) ([]T, *readCursor, error) {
	items, next, err := l.read(ctx, store, cur)
	if err != nil {
		return nil, nil, err
	}
	if l.reads != nil {
		l.reads.afterCall(ctx, store)
	}
	kept := slices.DeleteFunc(items, func(item T) bool { return l.id(item) == "" })
	if dropped := len(items) - len(kept); dropped > 0 {
		ctxzap.Extract(ctx).Warn("rocket.chat listing items without an id skipped", zap.String("listing", l.what), zap.Int("items", dropped))
	}
	return kept, next, nil
}

func (l *listing[T]) read(ctx context.Context, store shared, cur readCursor) ([]T, *readCursor, error) {
	if cur.Reading != "" && !cur.Paged {
		if items, ok := getJSONExpected[[]T](ctx, store, chunkKey(l.key, cur.Reading, cur.Chunk)); ok {
			return items, cur.afterChunk(len(items)), nil
		}
		ctxzap.Extract(ctx).Info("a stored page of the listing is gone; reading Rocket.Chat again",
			zap.String("listing", l.what), zap.Int("offset", cur.Offset))
		if cur.Replay {
			cur = readCursor{}
		}
	}
	if cur == (readCursor{}) && serverPagesListings(ctx, store) &&
		(!l.ahead || !l.reads.activeIn(ctx, store) || !hasPage(ctx, store, aheadKey(l.key, 0, client.All))) {
		cur = startPaged()
	}
	if cur.Paged {
		return l.nextPage(ctx, store, cur)
	}
	return l.readAll(ctx, store, cur)
}

// startPaged is the cursor of a listing read page by page from the start
// (client.Step takes the pass's total from its first page).
func startPaged() readCursor { return readCursor{Paged: true} }

// Server paging, as keyServerPaging records it.
const pagedServer = "pages"

// serverPagesListings reports whether this sync has seen that the server
// does not serve whole listings (API_Allow_Infinite_Count off).
func serverPagesListings(ctx context.Context, store shared) bool {
	v, ok := store.get(ctx, keyServerPaging)
	return ok && string(v) == pagedServer
}

// afterChunk is the cursor after chunk c.Chunk, which held n items.
func (c readCursor) afterChunk(n int) *readCursor {
	if c.Chunk+1 >= c.Chunks {
		return nil
	}
	c.Chunk++
	c.Offset += n
	return &c
}

// fetchAt reads count items at cur.Offset: a page read ahead when there is
// one (only the first pass's pages are read ahead, and only while reads
// ahead are on), else Rocket.Chat.
func (l *listing[T]) fetchAt(ctx context.Context, store shared, cur readCursor, count int) (client.Page[T], error) {
	aheadable := l.ahead && cur.Pass == 0 && !cur.Retried && l.reads.activeIn(ctx, store)
	if aheadable {
		if p, ok := loadPage[T](ctx, store, aheadKey(l.key, cur.Offset, count), true); ok {
			return p, nil
		}
	}
	if l.reads != nil {
		l.reads.beforeCall(ctx, store, l.endpoint)
	}
	var (
		p   client.Page[T]
		err error
	)
	if aheadable {
		p, err = fetchPage(ctx, store, l, cur.Offset, count)
	} else {
		p, err = l.fetch(ctx, cur.Offset, count)
	}
	if err != nil {
		return p, err
	}
	if l.settle != nil {
		l.settle()
		l.settle = nil
	}
	return p, nil
}

// readAll asks for the whole listing from cur.Offset in one call, hands out
// its first chunk and stores the rest.
func (l *listing[T]) readAll(ctx context.Context, store shared, cur readCursor) ([]T, *readCursor, error) {
	p, err := l.fetchAt(ctx, store, cur, client.All)
	if err != nil {
		return nil, nil, err
	}
	if !p.Complete() {
		// API_Allow_Infinite_Count is off: the server sent a default page.
		// Page through the rest, 100 items a call; later listings of the
		// sync start that way.
		ctxzap.Extract(ctx).Info("rocket.chat does not serve whole listings (API_Allow_Infinite_Count is off); reading 100 items per call",
			zap.String("listing", l.what), zap.Int("total", p.Total))
		store.setMany(ctx, map[string][]byte{keyServerPaging: []byte(pagedServer)})
		next := readCursor{Paged: true, PageCursor: client.PageCursor{Offset: cur.Offset + len(p.Items), Total: p.Total}}
		if len(p.Items) > 0 {
			next.Head = l.id(p.Items[0])
		}
		if l.keep && cur.Offset == 0 {
			next.Reading = newReadingID()
			l.storePage(ctx, store, &next, p.Items, false)
		}
		return p.Items, &next, nil
	}
	if len(p.Items) <= pageItems && !l.keep {
		return p.Items, nil, nil // one page, nothing to keep
	}
	chunks, err := encodeChunks(p.Items)
	if err != nil {
		return nil, nil, fmt.Errorf("storing %s: %w", l.what, err)
	}
	first := chunks[0].items
	if len(chunks) == 1 && !l.keep {
		return p.Items, nil, nil
	}
	reading := newReadingID()
	values := make(map[string][]byte, len(chunks)+1)
	for i, ch := range chunks {
		if i > 0 || l.keep {
			values[chunkKey(l.key, reading, i)] = ch.data
		}
	}
	if l.keep && cur.Offset == 0 {
		// Only a reading of the whole listing is one a later pass can
		// start from: a re-read of the part after a lost chunk serves
		// this pass, and leaves the manifest naming the whole reading,
		// whose later passes re-read that gap themselves.
		m, _ := json.Marshal(manifest{Reading: reading, Chunks: len(chunks), Meta: l.meta})
		values[manifestKey(l.key)] = m
	}
	store.setMany(ctx, values)
	next := readCursor{Reading: reading, Chunks: len(chunks), PageCursor: client.PageCursor{Offset: cur.Offset}}
	return p.Items[:first], next.afterChunk(first), nil
}

// nextPage reads one page of a listing that the server serves page by page.
func (l *listing[T]) nextPage(ctx context.Context, store shared, cur readCursor) ([]T, *readCursor, error) {
	if cur.Offset == 0 && cur.Pass == 0 && l.keep && cur.Reading == "" {
		cur.Reading = newReadingID() // a first pass from scratch is kept, as readAll keeps its
	}
	p, err := l.fetchAt(ctx, store, cur, client.PageSize)
	if err != nil {
		return nil, nil, err
	}
	items, step, err := client.Step(ctx, l.endpoint, l.what, cur.PageCursor, p, l.id)
	if err != nil {
		return nil, nil, err
	}
	var next *readCursor
	if step != nil {
		n := readCursor{Paged: true, PageCursor: *step}
		switch {
		case step.Pass == cur.Pass:
			// Keep the reading for the passes over it that follow, as
			// readAll does.
			n.Reading, n.Chunk = cur.Reading, cur.Chunk
		case l.keep:
			// A new pass from the start is a new reading: the last
			// complete one is what later passes read.
			n.Reading = newReadingID()
		}
		next = &n
	}
	if l.keep && cur.Reading != "" && (next == nil || next.Pass == cur.Pass) {
		last := cur
		if next != nil {
			last = *next
		}
		l.storePage(ctx, store, &last, items, next == nil)
		if next != nil {
			next.Chunk = last.Chunk
		}
	}
	return items, next, nil
}

// storePage stores items as chunk cur.Chunk of cur.Reading and moves cur to
// the next chunk; the last page also stores the manifest.
func (l *listing[T]) storePage(ctx context.Context, store shared, cur *readCursor, items []T, last bool) {
	values := map[string][]byte{}
	if len(items) > 0 {
		data, err := json.Marshal(items)
		if err != nil {
			return
		}
		values[chunkKey(l.key, cur.Reading, cur.Chunk)] = data
		cur.Chunk++
	}
	if last {
		m, _ := json.Marshal(manifest{Reading: cur.Reading, Chunks: cur.Chunk, Paged: true, Meta: l.meta})
		values[manifestKey(l.key)] = m
	}
	store.setMany(ctx, values)
}

// storedPage is a server answer kept in the session store: its total, and
// its items in Chunks values (key/0, key/1, …) of at most maxChunkBytes.
type storedPage struct {
	Total  int `json:"t"`
	Chunks int `json:"n"`
	// Items holds the items themselves when they fit in one chunk.
	Items json.RawMessage `json:"i,omitempty"`
}

// storePageAt keeps a server answer under key: with its items in the same
// value when they fit in one chunk (one value to lose, not two), else in
// chunks of their own.
func storePageAt[T any](ctx context.Context, store shared, key string, p client.Page[T]) error {
	chunks, err := encodeChunks(p.Items)
	if err != nil {
		return err
	}
	if len(chunks) == 1 {
		whole, err := json.Marshal(storedPage{Total: p.Total, Chunks: 1, Items: chunks[0].data})
		if err != nil {
			return err
		}
		store.setMany(ctx, map[string][]byte{key: whole})
		return nil
	}
	head, err := json.Marshal(storedPage{Total: p.Total, Chunks: len(chunks)})
	if err != nil {
		return err
	}
	values := map[string][]byte{key: head}
	for i, ch := range chunks {
		values[joinKey(key, i)] = ch.data
	}
	store.setMany(ctx, values)
	return nil
}

// loadPage reads a server answer kept by storePageAt; ok is false when any
// part of it is gone. With expected, a missing head is asked for again
// (getJSONExpected), where a miss costs a call to Rocket.Chat.
func loadPage[T any](ctx context.Context, store shared, key string, expected bool) (client.Page[T], bool) {
	get := getJSON[storedPage]
	if expected {
		get = getJSONExpected[storedPage]
	}
	head, ok := get(ctx, store, key)
	if !ok || head.Chunks <= 0 {
		return client.Page[T]{}, false
	}
	if head.Items != nil {
		var items []T
		if err := json.Unmarshal(head.Items, &items); err != nil {
			return client.Page[T]{}, false
		}
		return client.Page[T]{Items: items, Total: head.Total}, true
	}
	var items []T
	for i := range head.Chunks {
		part, ok := getJSON[[]T](ctx, store, joinKey(key, i))
		if !ok {
			return client.Page[T]{}, false
		}
		items = append(items, part...)
	}
	return client.Page[T]{Items: items, Total: head.Total}, true
}

// chunk is a run of items and their encoding as a JSON array.
type chunk struct {
	items int
	data  []byte
}

// encodeChunks cuts items into chunks of at most pageItems items and about
// maxChunkBytes bytes. An empty listing is one empty chunk.
func encodeChunks[T any](items []T) ([]chunk, error) {
	var (
		out []chunk
		buf = []byte{'['}
		n   int
	)
	flush := func() {
		out = append(out, chunk{items: n, data: append(buf, ']')})
		buf, n = []byte{'['}, 0
	}
	for i := range items {
		b, err := json.Marshal(&items[i])
		if err != nil {
			return nil, err
		}
		if n > 0 && (n >= pageItems || len(buf)+len(b) > maxChunkBytes) {
			flush()
		}
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, b...)
		n++
	}
	flush()
	return out, nil
}

func newReadingID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// listResources serves one List call of a listing whose page token is its
// readCursor alone: the page the token names, each item made a resource by
// build.
func listResources[T any](ctx context.Context, c *Connector, l *listing[T], opts resource.SyncOpAttrs,
	build func(*T) (*v2.Resource, error),
) ([]*v2.Resource, *resource.SyncOpResults, error) {
	if err := c.configured(); err != nil {
		return nil, nil, err
	}
	store := c.shared(ctx, opts)
	markListing(ctx, store)
	cur := decodeToken(ctx, opts.PageToken.Token, readCursor.valid)
	items, next, err := l.page(ctx, store, cur)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*v2.Resource, 0, len(items))
	for i := range items {
		r, err := build(&items[i])
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
	}
	return out, &resource.SyncOpResults{NextPageToken: encodeToken(next)}, nil
}

// syncError prepares a listing failure for the SDK. The SDK retries
// Unavailable and DeadlineExceeded without limit and takes NotFound as a
// warning that skips the listing: the client has already retried within its
// bounds, so such an error must be neither, or the sync would loop forever
// or finish with data missing.
func syncError(what string, err error) error {
	if err == nil {
		return nil
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.NotFound, codes.Unknown:
		return status.Errorf(codes.Aborted, "%s: %v", what, err)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}
