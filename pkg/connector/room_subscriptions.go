package connector

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Every user's rooms, for a sync that reads members per user (room.go,
// membersFromUsers). The rooms listing reads them before it lists any room,
// one page of the users listing per call (users.info with includeUserRooms,
// a few users at a time), so that no call of a large workspace lasts long:
// each page's rooms go to the store as a part, and the call that reads the
// last page merges the parts into each room's subscribers, with an index of
// the rooms that have any. The room grants calls, in any process, read
// their room's from there. A room the index does not name has no
// subscribers; when a part, the index or a room's value is gone, the room
// grants call reads every user's rooms again, in one call: a loss costs
// the reading again, never a grant.

// roomSubscriptionWorkers bounds concurrent users.info calls: the token is
// not rate limited, and the server still serves every other client.
const roomSubscriptionWorkers = 8

// roomSubscriptions returns roomID's subscribers.
func (c *Connector) roomSubscriptions(ctx context.Context, store shared, roomID string) ([]roomSubscriber, error) {
	if subs, ok := c.storedRoomSubscriptions(ctx, store, roomID); ok {
		return subs, nil
	}
	v, err, _ := c.roomSubscriptionReads.Do(store.syncID, func() (any, error) {
		return c.readEveryUsersRooms(ctx, store)
	})
	if err != nil {
		return nil, err
	}
	return v.(map[string][]roomSubscriber)[roomID], nil
}

// storedRoomSubscriptions reads roomID's subscribers from this process's
// memory of the sync, or from the store; ok is false when neither has them.
func (c *Connector) storedRoomSubscriptions(ctx context.Context, store shared, roomID string) ([]roomSubscriber, bool) {
	if byRoom, ok := c.roomSubscriptionsSeen.get(store.syncID); ok {
		return byRoom[roomID], true
	}
	rooms, ok := getJSON[[]string](ctx, store, roomSubscriptionsKey())
	if !ok {
		return nil, false
	}
	if _, found := slices.BinarySearch(rooms, roomID); !found {
		return nil, true
	}
	return getJSONExpected[[]roomSubscriber](ctx, store, roomSubscriptionsKey(roomID))
}

// usersRoomsReading is the rooms listing's progress through every user's
// rooms (a roomsToken field):
//
//	u  Users  where the users listing continues (readCursor, engine.go)
//	p  Part   the part the page at Users goes to; parts 0 to Part-1 are
//	          stored
type usersRoomsReading struct {
	Users readCursor `json:"u"`
	Part  int        `json:"p,omitempty"`
}

// startUsersRooms is the reading's start: the users listing's stored
// reading. Without one (the SDK's parallel workers list users while rooms
// are listed) there is none: reading the users again would repeat a
// listing that is under way, so the room grants read every user's rooms
// instead, in one call.
func (c *Connector) startUsersRooms(ctx context.Context, store shared) *usersRoomsReading {
	_, cur, _, ok := c.storedUsers(ctx, store)
	if !ok {
		ctxzap.Extract(ctx).Debug("the users listing is not stored yet; the room grants will read every user's rooms")
		return nil
	}
	return &usersRoomsReading{Users: cur}
}

// usersForRooms is the users listing and the cursor at its start.
func (c *Connector) usersForRooms(ctx context.Context, store shared) (*listing[client.User], readCursor, error) {
	users, cur, _, ok := c.storedUsers(ctx, store)
	if !ok {
		var err error
		if users, cur, _, err = c.usersAgain(ctx, store); err != nil {
			return nil, readCursor{}, err
		}
	}
	return users, cur, nil
}

// readUsersRoomsPart reads the rooms of the users on the page at r.Users
// and stores them as part r.Part; after the last page it merges the parts
// and returns nil.
func (c *Connector) readUsersRoomsPart(ctx context.Context, store shared, r usersRoomsReading) (*usersRoomsReading, error) {
	users, _, err := c.usersForRooms(ctx, store)
	if err != nil {
		return nil, err
	}
	page, next, err := users.page(ctx, store, r.Users)
	if err != nil {
		return nil, err
	}
	if next != nil && next.Pass != r.Users.Pass {
		// The users listing started over (it changed while it was read):
		// so does this reading.
		return &usersRoomsReading{Users: *next}, nil
	}
	ids := make([]string, len(page))
	for i, u := range page {
		ids[i] = u.ID
	}
	part, err := c.readUsersRooms(ctx, ids)
	if err != nil {
		return nil, err
	}
	setJSON(ctx, store, map[string]map[string][]roomSubscriber{roomSubscriptionsPartKey(r.Part): part})
	if next != nil {
		return &usersRoomsReading{Users: *next, Part: r.Part + 1}, nil
	}
	c.mergeUsersRooms(ctx, store, r.Part+1)
	return nil, nil
}

// mergeUsersRooms merges the stored parts into each room's subscribers;
// with a part gone, it leaves the room grants calls to read every user's
// rooms again.
func (c *Connector) mergeUsersRooms(ctx context.Context, store shared, parts int) {
	byRoom := map[string][]roomSubscriber{}
	for i := range parts {
		part, ok := getJSONExpected[map[string][]roomSubscriber](ctx, store, roomSubscriptionsPartKey(i))
		if !ok {
			ctxzap.Extract(ctx).Info("a part of every user's rooms is gone from the session store; the room grants read them again",
				zap.Int("part", i))
			return
		}
		for room, subs := range part {
			byRoom[room] = append(byRoom[room], subs...)
		}
	}
	c.keepRoomSubscriptions(ctx, store, byRoom)
}

// readEveryUsersRooms reads every user's subscriptions in this call, keeps
// them per room in the store and in this process's memory, and returns
// them.
func (c *Connector) readEveryUsersRooms(ctx context.Context, store shared) (map[string][]roomSubscriber, error) {
	users, cur, err := c.usersForRooms(ctx, store)
	if err != nil {
		return nil, err
	}
	var ids []string
	err = users.walk(ctx, store, cur, func(page []client.User, restart bool) {
		if restart {
			ids = nil
		}
		for _, u := range page {
			ids = append(ids, u.ID)
		}
	})
	if err != nil {
		return nil, err
	}
	ctxzap.Extract(ctx).Info("reading every user's rooms (users.info), the only complete source of private groups' members",
		zap.Int("users", len(ids)))
	byRoom, err := c.readUsersRooms(ctx, ids)
	if err != nil {
		return nil, err
	}
	c.keepRoomSubscriptions(ctx, store, byRoom)
	return byRoom, nil
}

// readUsersRooms reads the subscriptions of the users ids to channels and
// private groups, by room.
func (c *Connector) readUsersRooms(ctx context.Context, ids []string) (map[string][]roomSubscriber, error) {
	byRoom := map[string][]roomSubscriber{}
	err := readEach(ctx, ids, roomSubscriptionWorkers, func(ctx context.Context, id string) ([]client.UserSubscription, error) {
		subs, err := c.client.UserRooms(ctx, id)
		switch {
		case client.IsUserNotFound(err):
			return nil, nil // deleted since it was listed
		case status.Code(err) == codes.PermissionDenied:
			return nil, status.Errorf(codes.PermissionDenied, "reading the rooms of user %s: %v (view-other-user-channels was taken away during the sync?)", id, err)
		}
		return subs, syncError(fmt.Sprintf("reading the rooms of user %s", id), err)
	}, func(id string, subs []client.UserSubscription) {
		for _, sub := range subs {
			if sub.RoomType == client.RoomPublic || sub.RoomType == client.RoomPrivate {
				byRoom[sub.RoomID] = append(byRoom[sub.RoomID], roomSubscriber{UserID: id, Roles: sub.Roles})
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return byRoom, nil
}

// keepRoomSubscriptions keeps each room's subscribers in the store, then
// the index of the rooms that have any, and in this process's memory.
func (c *Connector) keepRoomSubscriptions(ctx context.Context, store shared, byRoom map[string][]roomSubscriber) {
	rooms := make([]string, 0, len(byRoom))
	values := make(map[string][]roomSubscriber, len(byRoom))
	for id, subs := range byRoom {
		slices.SortFunc(subs, func(a, b roomSubscriber) int { return cmp.Compare(a.UserID, b.UserID) })
		rooms = append(rooms, id)
		values[roomSubscriptionsKey(id)] = subs
	}
	slices.Sort(rooms)
	setJSON(ctx, store, values)
	// The index last: a process that finds it finds every room's value
	// (or a loss it reads again).
	setJSON(ctx, store, map[string][]string{roomSubscriptionsKey(): rooms})
	c.roomSubscriptionsSeen.set(store.syncID, byRoom)
}

// roomSubscriptionsCache keeps the last sync's subscriptions per room in
// process memory.
type roomSubscriptionsCache struct {
	mu     sync.Mutex
	syncID string
	byRoom map[string][]roomSubscriber
}

func (r *roomSubscriptionsCache) get(syncID string) (map[string][]roomSubscriber, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byRoom == nil || r.syncID != syncID {
		return nil, false
	}
	return r.byRoom, true
}

func (r *roomSubscriptionsCache) set(syncID string, byRoom map[string][]roomSubscriber) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.syncID, r.byRoom = syncID, byRoom
}
