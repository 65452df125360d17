package connector

import (
	"cmp"
	"context"
	"encoding/json"
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
// a slice of a page of the users listing per call (users.info with
// includeUserRooms): the whole page, a few users at a time, for a token the
// limiter spares; one window's worth of users for a token it limits, so
// that no call of a large workspace lasts long. Each slice's rooms go to
// the store as a part, keyed by its page and its place in the page and
// naming its users, and the call that reads the last slice merges the
// parts into each room's subscribers, with an index of the rooms that have
// any. The room grants calls, in any process, read their room's from there.
//
// A room the index does not name has no subscribers. When the index or a
// room's value is gone, the room grants merge the parts again, walking the
// users listing: a part that is gone, or whose users are not the ones at
// its place (the users listing was read again and changed), is read again,
// in that grants call (for a limited token, a window per lost slice).
// A loss costs reading a slice again, never a grant. Without any part
// (the SDK's parallel workers list users while rooms are listed, so the
// rooms listing found no users to read) the room grants read every page
// themselves.

// endpointUserInfo is the endpoint that reads one user's rooms.
const endpointUserInfo = "users.info"

// roomSubscriptionWorkers bounds concurrent users.info calls: for a token
// the limiter spares, the server still serves every other client; a
// limited one's calls wait for their window in the client anyway.
const roomSubscriptionWorkers = 8

// defaultRateLimitCalls is Rocket.Chat's default limit, calls per endpoint
// per window (API_Enable_Rate_Limiter_Limit_Calls_Default), for a process
// that has not yet seen an endpoint's own.
const defaultRateLimitCalls = 10

// roomSubscriptionsIndex names the rooms that have subscribers, and where
// each stored page of a room's subscribers starts:
//
//	s  Reading  the reading the pages belong to: a second reading (a value
//	            was lost) stores its pages under keys of its own, so an
//	            index never reaches another reading's pages
//	r  Rooms    their ids, sorted
//	b  Bounds   for a room stored in more than one page, the first user id
//	            of each page after the first
type roomSubscriptionsIndex struct {
	Reading string              `json:"s"`
	Rooms   []string            `json:"r"`
	Bounds  map[string][]string `json:"b,omitempty"`
}

// roomSubscribers returns up to pageItems of roomID's subscribers whose
// user ids come after after, in user id order, and whether more follow.
// Pages continue from a user id rather than an offset: a page served from
// another process's reading (after a value was lost and read again) then
// never skips or repeats a subscriber that both readings hold.
func (c *Connector) roomSubscribers(ctx context.Context, store shared, roomID, after string) ([]roomSubscriber, bool, error) {
	if subs, more, ok := c.storedRoomSubscribers(ctx, store, roomID, after); ok {
		return subs, more, nil
	}
	v, err, _ := c.roomSubscriptionReads.Do(store.syncID, func() (any, error) {
		return c.mergeUsersRooms(ctx, store)
	})
	if err != nil {
		return nil, false, err
	}
	subs, more := subscribersAfter(v.(map[string][]roomSubscriber)[roomID], after)
	return subs, more, nil
}

// subscribersAfter is up to pageItems of subs, sorted by user id, after
// the user id after, and whether more follow.
func subscribersAfter(subs []roomSubscriber, after string) ([]roomSubscriber, bool) {
	return pageAfter(subs, func(s roomSubscriber) string { return s.UserID }, after)
}

// storedRoomSubscribers reads roomID's subscribers after the user id after
// from this process's memory of the sync, or from the store; ok is false
// when neither has them.
func (c *Connector) storedRoomSubscribers(ctx context.Context, store shared, roomID, after string) ([]roomSubscriber, bool, bool) {
	if byRoom, ok := c.roomSubscriptionsSeen.get(store.syncID); ok {
		subs, more := subscribersAfter(byRoom[roomID], after)
		return subs, more, true
	}
	idx, ok := getJSON[roomSubscriptionsIndex](ctx, store, roomSubscriptionsIndexKey())
	if !ok {
		return nil, false, false
	}
	if _, found := slices.BinarySearch(idx.Rooms, roomID); !found {
		return nil, false, true
	}
	bounds := idx.Bounds[roomID]
	// The page that holds after's successor: after the pages whose first
	// user id is at most after.
	page, found := slices.BinarySearch(bounds, after)
	if found {
		page++
	}
	for ; page <= len(bounds); page++ {
		subs, ok := getJSONExpected[[]roomSubscriber](ctx, store, roomSubscribersKey(idx.Reading, roomID, page))
		if !ok {
			return nil, false, false
		}
		subs, _ = subscribersAfter(subs, after)
		if len(subs) > 0 || page == len(bounds) {
			return subs, page < len(bounds), true
		}
	}
	return nil, false, true
}

// usersRoomsReading is the rooms listing's progress through every user's
// rooms (a roomsToken field):
//
//	u  Users  where the users listing continues (readCursor, engine.go)
//	p  Page   the index of the page at Users in the listing
//	a  At     where in that page the next slice starts
//	n  Slice  how many users a call reads, decided when the reading
//	          starts (sliceUsers): a process that has not called
//	          users.info yet does not know its limit
type usersRoomsReading struct {
	Users readCursor `json:"u"`
	Page  int        `json:"p,omitempty"`
	At    int        `json:"a,omitempty"`
	Slice int        `json:"n"`
}

func (r usersRoomsReading) valid() bool {
	return r.Users.valid() && r.Page >= 0 && r.At >= 0 && r.Slice > 0
}

// usersRoomsPart is the rooms of one slice of a page of users.
type usersRoomsPart struct {
	Users []string                    `json:"u"`
	Rooms map[string][]roomSubscriber `json:"r"`
}

// startUsersRooms is the reading's start: the users listing's stored
// reading. Without one (the SDK's parallel workers list users while rooms
// are listed, the sync did not select users, or the store lost it), a
// token the limiter spares leaves the reading to the room grants, rather
// than repeat a listing that may be under way: they read every user at
// once, which takes it seconds. A limited token reads the users listing
// again (one call) instead, so that its reading stays a window's worth of
// users per call: in one grants call it could take hours.
func (c *Connector) startUsersRooms(ctx context.Context, store shared) (*usersRoomsReading, error) {
	_, cur, _, ok := c.storedUsers(ctx, store)
	if !ok && c.reads.activeIn(ctx, store) {
		var err error
		if _, cur, err = c.usersForRooms(ctx, store); err != nil {
			return nil, err
		}
		ok = true
	}
	if !ok {
		ctxzap.Extract(ctx).Debug("the users listing is not stored yet; the room grants will read every user's rooms")
		return nil, nil
	}
	ctxzap.Extract(ctx).Info("reading every user's rooms (users.info), the only complete source of private groups' members, a slice of users per call")
	return &usersRoomsReading{Users: cur, Slice: c.sliceUsers(ctx, store)}, nil
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

// sliceUsers is how many users' rooms one call reads: a page's worth for
// a token the limiter spares, one window's worth for one it limits (by
// Rocket.Chat's default limit when this process has not called users.info
// yet).
func (c *Connector) sliceUsers(ctx context.Context, store shared) int {
	if limit, limited := c.client.WindowLimit(endpointUserInfo); limited {
		return max(1, limit)
	}
	if c.reads.activeIn(ctx, store) {
		return defaultRateLimitCalls
	}
	return pageItems
}

// readUsersRoomsPart reads the rooms of the slice of users at r and stores
// them as its part; after the last slice it merges the parts and returns
// nil.
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
		return &usersRoomsReading{Users: *next, Slice: r.Slice}, nil
	}
	ids := userIDs(page)
	end := min(len(ids), r.At+r.Slice)
	if r.At < end {
		if _, err := c.readAndKeepPart(ctx, store, r.Page, r.At, ids[r.At:end]); err != nil {
			return nil, err
		}
	}
	switch {
	case end < len(ids):
		return &usersRoomsReading{Users: r.Users, Page: r.Page, At: end, Slice: r.Slice}, nil
	case next != nil:
		return &usersRoomsReading{Users: *next, Page: r.Page + 1, Slice: r.Slice}, nil
	}
	_, err = c.mergeUsersRooms(ctx, store)
	return nil, err
}

// mergeUsersRooms merges the parts into each room's subscribers, keeps them
// in the store and in this process's memory, and returns them. It walks
// the users listing page by page and each page slice by slice: the part at
// a slice's place must name exactly its users, or they are read again.
func (c *Connector) mergeUsersRooms(ctx context.Context, store shared) (map[string][]roomSubscriber, error) {
	users, cur, err := c.usersForRooms(ctx, store)
	if err != nil {
		return nil, err
	}
	byRoom := map[string][]roomSubscriber{}
	pageIndex, slice := 0, c.sliceUsers(ctx, store)
	var walkErr error
	err = users.walk(ctx, store, cur, func(page []client.User, restart bool) {
		if walkErr != nil {
			return
		}
		if restart {
			byRoom, pageIndex = map[string][]roomSubscriber{}, 0
		}
		ids := userIDs(page)
		for at := 0; at < len(ids); {
			part, ok := getJSONExpected[usersRoomsPart](ctx, store, roomSubscriptionsPartKey(pageIndex, at))
			if !ok || len(part.Users) == 0 || !slices.Equal(part.Users, ids[at:min(len(ids), at+len(part.Users))]) {
				unread := ids[at:min(len(ids), at+slice)]
				ctxzap.Extract(ctx).Info("reading a slice of users' rooms again: its part is gone from the session store, or is another reading's",
					zap.Int("page", pageIndex), zap.Int("at", at), zap.Int("users", len(unread)))
				rooms, err := c.readAndKeepPart(ctx, store, pageIndex, at, unread)
				if err != nil {
					walkErr = err
					return
				}
				part = usersRoomsPart{Users: unread, Rooms: rooms}
			}
			for room, subs := range part.Rooms {
				byRoom[room] = append(byRoom[room], subs...)
			}
			at += len(part.Users)
		}
		pageIndex++
	})
	if err = cmp.Or(err, walkErr); err != nil {
		return nil, err
	}
	c.keepRoomSubscriptions(ctx, store, byRoom)
	return byRoom, nil
}

// readAndKeepPart reads the rooms of the users ids, at position at of page
// pageIndex, and stores them as that slice's part. Under the limiter the
// wait for users.info's window, and what the other endpoints have left
// after, go to the reads ahead (ahead.go).
func (c *Connector) readAndKeepPart(ctx context.Context, store shared, pageIndex, at int, ids []string) (map[string][]roomSubscriber, error) {
	c.reads.beforeCall(ctx, store, endpointUserInfo)
	rooms, err := c.readUsersRooms(ctx, ids)
	if err != nil {
		return nil, err
	}
	store.setMany(ctx, encodeParts(pageIndex, at, ids, rooms))
	c.reads.afterCall(ctx, store)
	return rooms, nil
}

// encodeParts encodes the rooms of the users ids, from position at of page
// pageIndex, as one part, or, when that would not fit one stored value
// (maxChunkBytes: users in hundreds of rooms each), as several parts of
// fewer users each. The merge takes parts of any size at their place.
func encodeParts(pageIndex, at int, ids []string, rooms map[string][]roomSubscriber) map[string][]byte {
	out := map[string][]byte{}
	var split func(at int, ids []string, rooms map[string][]roomSubscriber)
	split = func(at int, ids []string, rooms map[string][]roomSubscriber) {
		raw, err := json.Marshal(usersRoomsPart{Users: ids, Rooms: rooms})
		if err != nil {
			return // strings only: cannot fail; a missing part is read again
		}
		if len(raw) <= maxChunkBytes || len(ids) == 1 {
			out[roomSubscriptionsPartKey(pageIndex, at)] = raw
			return
		}
		half := len(ids) / 2
		first := map[string]bool{}
		for _, id := range ids[:half] {
			first[id] = true
		}
		before, after := map[string][]roomSubscriber{}, map[string][]roomSubscriber{}
		for room, subs := range rooms {
			for _, sub := range subs {
				if first[sub.UserID] {
					before[room] = append(before[room], sub)
				} else {
					after[room] = append(after[room], sub)
				}
			}
		}
		split(at, ids[:half], before)
		split(at+half, ids[half:], after)
	}
	split(at, ids, rooms)
	return out
}

func userIDs(users []client.User) []string {
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	return ids
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

// keepRoomSubscriptions keeps each room's subscribers in the store, in
// pages of the room's grants (a #general of every user is one value per
// page, not one too large to store), then the index of the rooms that have
// any, and in this process's memory.
func (c *Connector) keepRoomSubscriptions(ctx context.Context, store shared, byRoom map[string][]roomSubscriber) {
	idx := roomSubscriptionsIndex{Reading: newReadingID(), Rooms: make([]string, 0, len(byRoom)), Bounds: map[string][]string{}}
	values := make(map[string][]roomSubscriber, len(byRoom))
	for id, subs := range byRoom {
		slices.SortFunc(subs, func(a, b roomSubscriber) int { return cmp.Compare(a.UserID, b.UserID) })
		// A user listed twice (its page read twice) is one subscriber.
		subs = slices.CompactFunc(subs, func(a, b roomSubscriber) bool { return a.UserID == b.UserID })
		byRoom[id] = subs
		idx.Rooms = append(idx.Rooms, id)
		page := 0
		for chunk := range slices.Chunk(subs, pageItems) {
			if page > 0 {
				idx.Bounds[id] = append(idx.Bounds[id], chunk[0].UserID)
			}
			values[roomSubscribersKey(idx.Reading, id, page)] = chunk
			page++
		}
	}
	slices.Sort(idx.Rooms)
	setJSON(ctx, store, values)
	// The index last: a process that finds it finds every room's pages
	// (or a loss it reads again).
	setJSON(ctx, store, map[string]roomSubscriptionsIndex{roomSubscriptionsIndexKey(): idx})
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
