package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"

	"github.com/conductorone/baton-sdk/pkg/session"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"github.com/conductorone/baton-sdk/pkg/types/sessions"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
)

// shared is where one call of a sync leaves data for later calls of the same
// sync: the SDK's session store, which in ConductorOne's hosted runner is a
// network service shared by every connector process, and in the CLI and
// daemon modes is kept in the c1z by the parent process.
//
// The store is a cache: nothing a page needs is only here. Every page token
// also says where on the server its page is, so a missing or unreadable value
// costs a read of Rocket.Chat, never data; a failing store reads as a miss
// and a failing write is logged, not returned. A connector built without a
// session store (tests, embedders) keeps the values in process memory.
type shared struct {
	store  sessions.SessionStore // nil: no session store, values in local
	syncID string
	local  *localStore
}

// Session keys. Every value the connector keeps in the session store has its
// key built here; the store already scopes keys to the sync.
const (
	// keyRoles holds roles.list as the role listing read it (role.go).
	keyRoles = "roles"
	// keyDirectory holds the LDAP and SSO settings read once per sync
	// (directory.go).
	keyDirectory = "directory"
	// keyServerPaging holds what the sync learnt of API_Allow_Infinite_Count
	// (engine.go).
	keyServerPaging = "server/paging"
	// keyFullSync marks a sync that lists resources (ahead.go).
	keyFullSync = "sync/listing"
	// keyAheadProgress holds how far the reads ahead have got (ahead.go).
	keyAheadProgress = "ahead/progress"
	// keyRateLimited marks a sync whose token Rocket.Chat limits, for
	// processes that have not seen an answer yet (ahead.go).
	keyRateLimited = "sync/rate-limited"
	// keyRoomsAheadProgress holds how far the reads ahead of rooms have
	// got (room.go).
	keyRoomsAheadProgress = "ahead/rooms-progress"
)

// roomsListedKey holds the rooms of the rooms listing's page at offset
// that the sync reads per room, for the reads ahead (room.go).
func roomsListedKey(offset int) string { return joinKey("rooms", "listed", offset) }

// roomRolesKey holds one room's role holders read ahead (room.go).
func roomRolesKey(roomID string) string { return joinKey("ahead", "room-roles", roomID) }

// manifestKey holds where a listing's complete stored reading is.
func manifestKey(listing string) string { return joinKey(listing, "manifest") }

// chunkKey holds chunk i of a stored reading of a listing.
func chunkKey(listing, reading string, i int) string { return joinKey(listing, reading, i) }

// aheadKey holds the answer to the page of a listing at offset with count,
// read ahead of the call that needs it (ahead.go).
func aheadKey(listing string, offset, count int) string {
	return joinKey("ahead", listing, offset, count)
}

// deactivatedKey holds, per users reading, the index of teams with
// deactivated members (no team) or one team's deactivated members.
func deactivatedKey(reading string, teamID ...string) string {
	return joinKey("deactivated", reading, strings.Join(teamID, "/"))
}

// roomSubscriptionsIndexKey holds the index of the rooms with subscribers,
// as every user's rooms show them (room_subscriptions.go).
func roomSubscriptionsIndexKey() string { return joinKey("room-subscriptions") }

// roomSubscribersKey holds one page of a room's subscribers in one reading
// of them: the page-th pageItems, in user id order (room_subscriptions.go).
func roomSubscribersKey(reading, roomID string, page int) string {
	return joinKey("room-subscriptions", reading, roomID, page)
}

// roomSubscriptionsPartKey holds the rooms of a slice of one page of users,
// the users from position at of page pageIndex, read by the rooms listing a
// slice at a time (room_subscriptions.go).
func roomSubscriptionsPartKey(pageIndex, at int) string {
	return joinKey("room-subscriptions-part", pageIndex, at)
}

// deactivatedPartKey holds the parts of deactivated users read at the
// limiter's pace ("users") or one part's teams. They belong to the sync, not
// to one users reading: a reading lost and read again picks the same users,
// and each part says which users it covers.
func deactivatedPartKey(what string, part ...int) string {
	if len(part) == 0 {
		return joinKey("deactivated-parts", what)
	}
	return joinKey("deactivated-parts", what, part[0])
}

// deactivatedUserKey holds one deactivated user's teams (deactivated.go).
func deactivatedUserKey(userID string) string {
	return joinKey("deactivated-parts", "user", userID)
}

func joinKey(parts ...any) string {
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		if s := fmt.Sprint(p); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, "/")
}

// shared is the session store of the sync opts belongs to. Whether the SDK
// gave the connector a store at all is found out once per connector instance
// (sessionStoreMissing).
func (c *Connector) shared(ctx context.Context, opts resource.SyncOpAttrs) shared {
	s := shared{store: opts.Session, syncID: opts.SyncID, local: &c.local}
	if s.store != nil && c.sessionStoreMissing(ctx, s.store) {
		s.store = nil
	}
	return s
}

// sessionStoreMissing reports whether store is the SDK's wrapper around no
// store: a connector served without WithSessionStore gets a wrapper whose
// methods dereference a nil store. It asks the store once per connector
// instance; only that first question recovers a panic, so a fault in a
// working store is never mistaken for a missing one later.
func (c *Connector) sessionStoreMissing(ctx context.Context, store sessions.SessionStore) bool {
	c.storeCheck.Do(func() {
		defer func() {
			if r := recover(); r != nil {
				c.noSessionStore = true
				ctxzap.Extract(ctx).Debug("no session store: keeping values between calls in process memory")
			}
		}()
		_, _, _ = store.Get(ctx, "probe")
	})
	return c.noSessionStore
}

// get reads one value; a failing store reads as a missing value.
func (s shared) get(ctx context.Context, key string) ([]byte, bool) {
	if s.store != nil {
		v, ok, err := s.store.Get(ctx, key)
		if err == nil {
			return v, ok
		}
		if !errors.Is(err, session.ErrSessionStoreDisabled) {
			ctxzap.Extract(ctx).Warn("session store read failed; reading Rocket.Chat again instead", zap.String("key", key), zap.Error(err))
			return nil, false
		}
	}
	return s.local.get(s.syncID, key)
}

// setMany stores values in as few requests as the store's size limits allow.
// A failing store only costs later calls a read of Rocket.Chat, so it is
// logged, not returned.
func (s shared) setMany(ctx context.Context, values map[string][]byte) {
	if len(values) == 0 {
		return
	}
	if s.store != nil {
		items := func(yield func(session.SizedItem[[]byte], error) bool) {
			for k, v := range values {
				if !yield(session.SizedItem[[]byte]{Key: k, Value: v, Size: len(k) + len(v)}, nil) {
					return
				}
			}
		}
		err := session.UnrollSetMany[[]byte](ctx, s.store, items)
		if err != nil && !errors.Is(err, session.ErrSessionStoreDisabled) {
			// Once more: a failed write costs later calls a read of
			// Rocket.Chat each.
			err = session.UnrollSetMany[[]byte](ctx, s.store, items)
		}
		if err == nil {
			return
		}
		if !errors.Is(err, session.ErrSessionStoreDisabled) {
			ctxzap.Extract(ctx).Warn("session store write failed; later pages will read Rocket.Chat again", zap.Error(err))
			return
		}
	}
	s.local.setMany(s.syncID, values)
}

// getJSON reads and decodes one value. A missing, failing or undecodable
// value is a miss: the caller reads Rocket.Chat again.
func getJSON[T any](ctx context.Context, s shared, key string) (T, bool) {
	var v T
	raw, ok := s.get(ctx, key)
	if !ok {
		return v, false
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		ctxzap.Extract(ctx).Warn("a stored value is unreadable; reading Rocket.Chat again", zap.String("key", key), zap.Error(err))
		return v, false
	}
	return v, true
}

// getJSONExpected is getJSON for a value that should be there: a miss is
// asked again (readTries in all) before the caller reads Rocket.Chat.
func getJSONExpected[T any](ctx context.Context, s shared, key string) (T, bool) {
	var (
		v  T
		ok bool
	)
	for range readTries {
		if v, ok = getJSON[T](ctx, s, key); ok {
			break
		}
	}
	return v, ok
}

// setJSON encodes and stores values; like setMany, a failure is logged.
func setJSON[T any](ctx context.Context, s shared, values map[string]T) {
	raw := make(map[string][]byte, len(values))
	for k, v := range values {
		data, err := json.Marshal(v)
		if err != nil {
			ctxzap.Extract(ctx).Warn("a value could not be stored; later calls read Rocket.Chat again", zap.String("key", k), zap.Error(err))
			continue
		}
		raw[k] = data
	}
	s.setMany(ctx, raw)
}

// localStore stands in for a missing session store: the values of the few
// most recent syncs, in this process only.
type localStore struct {
	mu    sync.Mutex
	syncs []localSync // most recent last
}

type localSync struct {
	id     string
	values map[string][]byte
}

// keptLocalSyncs bounds the syncs kept: a daemon may run a few at once.
const keptLocalSyncs = 3

func (l *localStore) get(syncID, key string) ([]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.syncs {
		if s.id == syncID {
			v, ok := s.values[key]
			return v, ok
		}
	}
	return nil, false
}

func (l *localStore) setMany(syncID string, values map[string][]byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.syncs {
		if l.syncs[i].id == syncID {
			maps.Copy(l.syncs[i].values, values)
			return
		}
	}
	if len(l.syncs) >= keptLocalSyncs {
		l.syncs = l.syncs[1:]
	}
	l.syncs = append(l.syncs, localSync{id: syncID, values: maps.Clone(values)})
}
