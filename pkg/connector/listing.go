package connector

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
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

// How a listing reaches the SDK. Rocket.Chat answers count=0 with the whole
// listing in one call (API_Allow_Infinite_Count, on by default), which is
// the cheapest plan under its rate limiter: one call per listing. The SDK
// gets that answer in pages of at most pageItems items (a 100,000-user answer
// is tens of megabytes, too much for one gRPC message); the pages after the
// first wait in the session store for whichever process serves them.
//
// With the setting off, Rocket.Chat answers 50 items and a larger total; the
// listing then goes page by page, 100 items a call, each page token naming
// the next offset.
const (
	// pageItems bounds the items of one page handed to the SDK.
	pageItems = 500
	// maxChunkBytes bounds one stored page, well inside the session store's
	// 4 MB request limit.
	maxChunkBytes = 1 << 20
	// maxPasses bounds how often a listing read page by page starts over
	// because it changed under the reader.
	maxPasses = 3
)

// cursor is a page token. It is self-contained: a connector process that has
// never seen the earlier pages can serve the page it names, from the session
// store or, when the stored page is gone, by reading Rocket.Chat again from
// Offset.
type cursor struct {
	// Reading identifies the stored reading whose chunks are read next
	// ("" while nothing is stored).
	Reading string `json:"s,omitempty"`
	Chunk   int    `json:"c,omitempty"` // next chunk of the reading
	Chunks  int    `json:"n,omitempty"` // chunks in the reading
	// Offset is where on the server the next page starts.
	Offset int `json:"o,omitempty"`
	// Paged is set when the server ignores count=0: read PageSize items at Offset.
	Paged bool `json:"p,omitempty"`
	// Total is the listing's total when paging began; a change means the
	// listing moved under the reader.
	Total int `json:"t,omitempty"`
	// Pass counts restarts of a paged listing.
	Pass int `json:"r,omitempty"`
	// Head is the first id of the previous page: a server that ignores
	// offset sends it again.
	Head string `json:"h,omitempty"`
	// Retried is set when the page at Offset came back empty once although
	// the total said more.
	Retried bool `json:"x,omitempty"`
	// Replay marks a pass over a stored reading that was read page by
	// page: its chunks' offsets are unknown, so a missing chunk restarts
	// the listing.
	Replay bool `json:"y,omitempty"`
	// Endpoint is the users endpoint the listing uses, once known.
	Endpoint client.UsersEndpoint `json:"e,omitempty"`
	// Budget is how many deactivated users' teams the sync reads, decided
	// on the users listing's first call (deactivated.go): 0 none, -1 all.
	Budget int `json:"b,omitempty"`
	// Before counts the items before this page that the listing tallies
	// (the users listing: deactivated users).
	Before int `json:"d,omitempty"`
	// Part is, on a team's grants, the next part of the deactivated users
	// whose teams are read at the limiter's pace before the team's members
	// (deactivated.go).
	Part int `json:"q,omitempty"`
}

// restart is the first cursor of a new reading of the same listing: what
// the listing's first call decided stays.
func (c cursor) restart() cursor {
	return cursor{Endpoint: c.Endpoint, Budget: c.Budget}
}

// parseCursor reads a page token. A token this version cannot read (one
// written by an older version, before an upgrade) starts the listing over:
// the SDK stores resources and grants by id, so repeats are harmless, while
// skipping would lose data.
func parseCursor(ctx context.Context, token string) cursor {
	var c cursor
	if token == "" {
		return c
	}
	if err := json.Unmarshal([]byte(token), &c); err != nil || c.Offset < 0 || c.Chunk < 0 || c.Part < 0 {
		ctxzap.Extract(ctx).Warn("unreadable page token; reading the listing again from the start")
		return cursor{}
	}
	return c
}

// token is the page token of c, or "" for none.
func (c *cursor) token() string {
	if c == nil {
		return ""
	}
	b, err := json.Marshal(c)
	if err != nil {
		// A struct of strings, ints and bools always encodes.
		panic(err)
	}
	return string(b)
}

// listing reads one Rocket.Chat listing for the SDK, page by page.
type listing[T any] struct {
	// key prefixes its stored chunks in the session store.
	key string
	// endpointName is the Rocket.Chat endpoint, for messages; the users
	// listing's depends on the server and is in the cursor.
	endpointName string
	// what names it in messages: "users", "members of team X".
	what string
	// fetch reads items from offset; count is client.All or client.PageSize.
	fetch func(ctx context.Context, cur *cursor, offset, count int) (client.Page[T], error)
	id    func(T) string
	// storeFirst keeps the first chunk too, and a manifest of the reading,
	// for a later pass over the same data (role grants from the users).
	storeFirst bool
	// tally, when set, picks the items each cursor counts in Before.
	tally func(T) bool
}

// manifest says where a complete stored reading is.
type manifest struct {
	Reading  string               `json:"s"`
	Chunks   int                  `json:"n"`
	Endpoint client.UsersEndpoint `json:"e,omitempty"`
	Paged    bool                 `json:"p,omitempty"`
	Budget   int                  `json:"b,omitempty"`
}

func (l *listing[T]) manifestKey() string                   { return sessionKey(l.key, "manifest") }
func (l *listing[T]) chunkKey(reading string, i int) string { return sessionKey(l.key, reading, i) }

// secondPass is where a pass over a listing that an earlier pass stored
// (its List calls) continues from token: the start of the stored reading on
// the first call, when there is one, else a reading of its own.
func (l *listing[T]) secondPass(ctx context.Context, store shared, token string) cursor {
	if token != "" {
		return parseCursor(ctx, token)
	}
	raw, ok := store.get(ctx, l.manifestKey())
	if !ok {
		return cursor{}
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil || m.Reading == "" || m.Chunks <= 0 {
		return cursor{}
	}
	return cursor{Reading: m.Reading, Chunks: m.Chunks, Endpoint: m.Endpoint, Replay: m.Paged, Budget: m.Budget}
}

// page returns the items at cur and the cursor of the page after them, nil
// at the end of the listing. Items without an id cannot become resources or
// grants and are left out.
func (l *listing[T]) page(ctx context.Context, store shared, cur cursor) ([]T, *cursor, error) {
	return l.pageAt(ctx, store, &cur)
}

// pageAt is page, and leaves in *cur what the listing's first call decided
// (the users endpoint, the deactivated users' budget) when this is that call.
func (l *listing[T]) pageAt(ctx context.Context, store shared, cur *cursor) ([]T, *cursor, error) {
	items, next, err := l.read(ctx, store, cur)
	if err != nil {
		return nil, nil, err
	}
	kept := slices.DeleteFunc(items, func(item T) bool { return l.id(item) == "" })
	if dropped := len(items) - len(kept); dropped > 0 {
		ctxzap.Extract(ctx).Warn("rocket.chat listing items without an id skipped", zap.String("listing", l.what), zap.Int("items", dropped))
	}
	if l.tally != nil && next != nil {
		next.Before = cur.Before
		if next.Pass == cur.Pass {
			for _, item := range kept {
				if l.tally(item) {
					next.Before++
				}
			}
		} else {
			next.Before = 0 // a new pass starts the count over
		}
	}
	return kept, next, nil
}

func (l *listing[T]) read(ctx context.Context, store shared, cur *cursor) ([]T, *cursor, error) {
	if cur.Reading != "" && !cur.Paged {
		if items, ok := l.loadChunk(ctx, store, cur.Reading, cur.Chunk); ok {
			return items, cur.afterChunk(len(items)), nil
		}
		ctxzap.Extract(ctx).Info("a stored page of the listing is gone; reading Rocket.Chat again",
			zap.String("listing", l.what), zap.Int("offset", cur.Offset))
		if cur.Replay {
			*cur = cur.restart()
		}
	}
	if cur.Paged {
		return l.nextPage(ctx, store, *cur)
	}
	return l.readAll(ctx, store, cur)
}

// afterChunk is the cursor after chunk c.Chunk, which held n items.
func (c cursor) afterChunk(n int) *cursor {
	if c.Chunk+1 >= c.Chunks {
		return nil
	}
	c.Chunk++
	c.Offset += n
	return &c
}

// readAll asks for the whole listing from cur.Offset in one call, hands out
// its first chunk and stores the rest.
func (l *listing[T]) readAll(ctx context.Context, store shared, cur *cursor) ([]T, *cursor, error) {
	p, err := l.fetch(ctx, cur, cur.Offset, client.All)
	if err != nil {
		return nil, nil, err
	}
	if !p.Complete() {
		// API_Allow_Infinite_Count is off: the server sent a default page.
		// Page through the rest, 100 items a call.
		ctxzap.Extract(ctx).Info("rocket.chat does not serve whole listings (API_Allow_Infinite_Count is off); reading 100 items per call",
			zap.String("listing", l.what), zap.Int("total", p.Total))
		next := cur.restart()
		next.Paged, next.Offset, next.Total, next.Head = true, cur.Offset+len(p.Items), p.Total, l.firstID(p.Items)
		if l.storeFirst && cur.Offset == 0 {
			next.Reading = newReadingID()
			l.storePage(ctx, store, &next, p.Items, false)
		}
		return p.Items, &next, nil
	}
	if len(p.Items) <= pageItems && !l.storeFirst {
		return p.Items, nil, nil // one page, nothing to keep
	}
	chunks, err := encodeChunks(p.Items)
	if err != nil {
		return nil, nil, fmt.Errorf("storing %s: %w", l.what, err)
	}
	first := chunks[0].items
	if len(chunks) == 1 && !l.storeFirst {
		return p.Items, nil, nil
	}
	reading := newReadingID()
	values := make(map[string][]byte, len(chunks)+1)
	for i, ch := range chunks {
		if i > 0 || l.storeFirst {
			values[l.chunkKey(reading, i)] = ch.data
		}
	}
	if l.storeFirst && cur.Offset == 0 {
		// Only a reading of the whole listing is one a later pass can
		// start from: a re-read of the part after a lost chunk serves
		// this pass, and leaves the manifest naming the whole reading,
		// whose later passes re-read that gap themselves.
		m, _ := json.Marshal(manifest{Reading: reading, Chunks: len(chunks), Endpoint: cur.Endpoint, Budget: cur.Budget})
		values[l.manifestKey()] = m
	}
	store.setMany(ctx, values)
	next := cur.restart()
	next.Reading, next.Chunks, next.Offset = reading, len(chunks), cur.Offset
	return p.Items[:first], next.afterChunk(first), nil
}

// nextPage reads one page of a listing that the server serves page by page.
func (l *listing[T]) nextPage(ctx context.Context, store shared, cur cursor) ([]T, *cursor, error) {
	items, next, err := l.readPage(ctx, cur)
	if err != nil || !l.storeFirst || cur.Reading == "" {
		return items, next, err
	}
	// Keep the reading for the pass that follows, as readAll does.
	if next != nil {
		next.Reading, next.Chunk = cur.Reading, cur.Chunk
		l.storePage(ctx, store, next, items, false)
		return items, next, nil
	}
	last := cur
	l.storePage(ctx, store, &last, items, true)
	return items, nil, nil
}

// storePage stores items as chunk cur.Chunk of cur.Reading and moves cur to
// the next chunk; the last page also stores the manifest.
func (l *listing[T]) storePage(ctx context.Context, store shared, cur *cursor, items []T, last bool) {
	values := map[string][]byte{}
	if len(items) > 0 {
		data, err := json.Marshal(items)
		if err != nil {
			return
		}
		values[l.chunkKey(cur.Reading, cur.Chunk)] = data
		cur.Chunk++
	}
	if last {
		m, _ := json.Marshal(manifest{Reading: cur.Reading, Chunks: cur.Chunk, Endpoint: cur.Endpoint, Paged: true, Budget: cur.Budget})
		values[l.manifestKey()] = m
	}
	store.setMany(ctx, values)
}

// nextPass is the cursor that reads a paged listing again from the start,
// now that its total is total.
func (c cursor) nextPass(total int) *cursor {
	next := c.restart()
	next.Paged, next.Total, next.Pass = true, total, c.Pass+1
	return &next
}

// readPage reads the page at cur.Offset.
func (l *listing[T]) readPage(ctx context.Context, cur cursor) ([]T, *cursor, error) {
	p, err := l.fetch(ctx, &cur, cur.Offset, client.PageSize)
	if err != nil {
		return nil, nil, err
	}
	log := ctxzap.Extract(ctx)
	if p.Total >= 0 && p.Total != cur.Total {
		// Items were added or removed, shifting the offsets: what was not
		// read yet may have moved behind the reader. Read it again from the
		// start; repeats are harmless to the SDK.
		if cur.Pass+1 < maxPasses {
			log.Warn("rocket.chat listing changed while it was read; reading it again from the start",
				zap.String("listing", l.what), zap.Int("pass", cur.Pass+1))
			return p.Items, cur.nextPass(p.Total), nil
		}
		log.Warn("rocket.chat listing kept changing while it was read; finishing this pass",
			zap.String("listing", l.what), zap.Int("passes", maxPasses))
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
		case missing < client.PageSize:
			log.Warn("rocket.chat listing returns a few items fewer than its total; keeping what it returns",
				zap.String("listing", l.what), zap.Int("total", p.Total), zap.Int("returned", cur.Offset))
			return nil, nil, nil
		case cur.Pass+1 < maxPasses:
			log.Warn("rocket.chat listing ended before its total; reading it again from the start",
				zap.String("listing", l.what), zap.Int("total", p.Total), zap.Int("offset", cur.Offset))
			return nil, cur.nextPass(p.Total), nil
		}
		// Whole pages missing are not a counting quirk: a partial listing
		// would read as access that no longer exists.
		return nil, nil, status.Errorf(codes.Aborted,
			"rocket.chat %s (%s): the listing stops after %d of %d items, %d times; refusing to report a partial listing",
			l.endpoint(cur), l.what, cur.Offset, p.Total, maxPasses)
	}
	head := l.firstID(p.Items)
	if cur.Offset > 0 && head != "" && head == cur.Head {
		return nil, nil, status.Errorf(codes.Aborted,
			"rocket.chat %s (%s): the page at offset %d repeats the previous page (does the server ignore offset?); refusing to loop or to report a partial listing",
			l.endpoint(cur), l.what, cur.Offset)
	}
	next := cur
	next.Retried = false
	next.Offset += len(p.Items)
	next.Head = head
	if p.Total >= 0 && next.Offset >= p.Total {
		return p.Items, nil, nil
	}
	if p.Total < 0 && len(p.Items) < client.PageSize {
		return p.Items, nil, nil
	}
	return p.Items, &next, nil
}

func (l *listing[T]) endpoint(cur cursor) string {
	if cur.Endpoint != "" {
		return string(cur.Endpoint)
	}
	return l.endpointName
}

func (l *listing[T]) firstID(items []T) string {
	if len(items) == 0 {
		return ""
	}
	return l.id(items[0])
}

func (l *listing[T]) loadChunk(ctx context.Context, store shared, reading string, i int) ([]T, bool) {
	raw, ok := store.get(ctx, l.chunkKey(reading, i))
	if !ok {
		return nil, false
	}
	var items []T
	if err := json.Unmarshal(raw, &items); err != nil {
		ctxzap.Extract(ctx).Warn("a stored page of the listing is unreadable; reading Rocket.Chat again", zap.String("listing", l.what), zap.Error(err))
		return nil, false
	}
	return items, true
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

// listResources serves one List call of a listing: the page its token
// names, each item made a resource by build.
func listResources[T any](ctx context.Context, c *Connector, l *listing[T], opts resource.SyncOpAttrs,
	build func(*T) (*v2.Resource, error),
) ([]*v2.Resource, *resource.SyncOpResults, error) {
	if err := c.configured(); err != nil {
		return nil, nil, err
	}
	items, next, err := l.page(ctx, c.shared(opts), parseCursor(ctx, opts.PageToken.Token))
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
	return out, &resource.SyncOpResults{NextPageToken: next.token()}, nil
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

// usersListing reads every user, active or not. It keeps its whole reading
// in the session store: the role grants are a second pass over it.
func (c *Connector) usersListing() *listing[client.User] {
	return &listing[client.User]{
		key:        "users",
		what:       "users",
		storeFirst: true,
		id:         func(u client.User) string { return u.ID },
		tally:      func(u client.User) bool { return !u.Active },
		fetch: func(ctx context.Context, cur *cursor, offset, count int) (client.Page[client.User], error) {
			// The endpoint is chosen on a listing's first call and kept
			// in its cursor: a 404 later is a fault, not an old server.
			var (
				p     client.Page[client.User]
				err   error
				first = cur.Endpoint == ""
			)
			if first {
				p, cur.Endpoint, err = c.client.FirstUsersPage(ctx, c.preferredUsersEndpoint(), offset, count)
			} else {
				p, err = c.client.UsersPage(ctx, cur.Endpoint, offset, count)
			}
			if status.Code(err) == codes.PermissionDenied {
				return p, outsideRoomRefusal(cur.Endpoint, err)
			}
			if err == nil && first {
				cur.Budget = c.deactivatedBudget(ctx, cur.Endpoint, p)
			}
			return p, syncError("listing users", err)
		},
	}
}

// outsideRoomRefusal explains a 403 on a users listing. Validation has
// checked view-d-room, so the likely cause is the setting
// API_Apply_permission_view-outside-room_on_users-list, which makes user
// listings also require view-outside-room (apps/meteor/server/api/v1/users.ts).
func outsideRoomRefusal(endpoint client.UsersEndpoint, err error) error {
	msg := err.Error()
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		msg = apiErr.Message
	}
	return status.Errorf(codes.PermissionDenied,
		"listing users: Rocket.Chat refused %s (403 %q). With the setting API_Apply_permission_view-outside-room_on_users-list on "+
			"(Administration > Settings > General > REST API), listing users also needs the view-outside-room permission: "+
			"give the token's user a role that holds view-outside-room, or turn the setting off", endpoint, msg)
}

// preferredUsersEndpoint is the users endpoint for the server's version when
// this process has validated the token, and otherwise the current one (the
// listing falls back on a 404).
func (c *Connector) preferredUsersEndpoint() client.UsersEndpoint {
	c.validateMu.Lock()
	defer c.validateMu.Unlock()
	if c.validated != nil {
		return c.validated.usersEndpoint
	}
	return client.UsersListByStatus
}

func (c *Connector) teamsListing() *listing[client.Team] {
	return &listing[client.Team]{
		key:          "teams",
		what:         "teams",
		endpointName: "teams.listAll",
		id:           func(t client.Team) string { return t.ID },
		fetch: func(ctx context.Context, _ *cursor, offset, count int) (client.Page[client.Team], error) {
			p, err := c.client.TeamsPage(ctx, offset, count)
			return p, syncError("listing teams", err)
		},
	}
}

// membersListing reads one team's members. A team deleted since it was
// listed has none.
func (c *Connector) membersListing(teamID string) *listing[client.TeamMember] {
	return &listing[client.TeamMember]{
		key:          sessionKey("members", teamID),
		what:         "members of team " + teamID,
		endpointName: "teams.members",
		id:           func(m client.TeamMember) string { return m.User.ID },
		fetch: func(ctx context.Context, _ *cursor, offset, count int) (client.Page[client.TeamMember], error) {
			p, err := c.client.TeamMembersPage(ctx, teamID, offset, count)
			if client.IsTeamNotFound(err) {
				ctxzap.Extract(ctx).Warn("team disappeared during the sync", zap.String("team_id", teamID))
				return client.Page[client.TeamMember]{Offset: offset, Total: 0}, nil
			}
			return p, syncError("listing members of team "+teamID, err)
		},
	}
}
