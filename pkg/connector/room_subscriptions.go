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
// membersFromUsers): the first room grants call of the sync reads each
// user's subscriptions (users.info with includeUserRooms, a few users at a
// time) and keeps each room's subscribers in the session store, with an
// index of the rooms that have any; later calls, in any process, read
// their room's from there. A room the index does not name has no
// subscribers; a room it names whose value is gone costs the reading
// again, never a grant.

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

// readEveryUsersRooms reads every user's subscriptions, keeps them per room
// in the store and in this process's memory, and returns them.
func (c *Connector) readEveryUsersRooms(ctx context.Context, store shared) (map[string][]roomSubscriber, error) {
	users, cur, _, ok := c.storedUsers(ctx, store)
	if !ok {
		var err error
		if users, cur, _, err = c.usersAgain(ctx, store); err != nil {
			return nil, err
		}
	}
	var ids []string
	err := users.walk(ctx, store, cur, func(page []client.User, restart bool) {
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

	byRoom := map[string][]roomSubscriber{}
	err = readEach(ctx, ids, roomSubscriptionWorkers, func(ctx context.Context, id string) ([]client.UserSubscription, error) {
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
	return byRoom, nil
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
