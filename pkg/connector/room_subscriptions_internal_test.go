package connector

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
)

// TestEncodePartsFitTheStore: a slice of users whose rooms would not fit
// one stored value is stored as several parts of fewer users, each at its
// place in the page, which together hold every subscription once.
func TestEncodePartsFitTheStore(t *testing.T) {
	for _, tc := range []struct {
		name                string
		users, roomsPerUser int
		wantSplit           bool
	}{
		{"a page of users in a few rooms each: one part", 500, 20, false},
		{"a page of users in hundreds of rooms each: split", 500, 400, true},
		{"one user in many rooms: one part, however large", 1, 50000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const pageIndex, at = 3, 40
			ids := make([]string, tc.users)
			rooms := map[string][]roomSubscriber{}
			for i := range ids {
				ids[i] = fmt.Sprintf("user%013d", i)
				for r := range tc.roomsPerUser {
					room := fmt.Sprintf("room%013d", (i+r)%(tc.roomsPerUser*2))
					rooms[room] = append(rooms[room], roomSubscriber{UserID: ids[i], Roles: []string{"owner"}[:r%2]})
				}
			}
			values := encodeParts(pageIndex, at, ids, rooms)
			if split := len(values) > 1; split != tc.wantSplit {
				t.Fatalf("%d parts, want split=%v", len(values), tc.wantSplit)
			}
			// Walk the parts as the merge does: each at its place.
			merged := map[string][]roomSubscriber{}
			for pos := 0; pos < len(ids); {
				raw, ok := values[roomSubscriptionsPartKey(pageIndex, at+pos)]
				if !ok {
					t.Fatalf("no part at %d; parts at %v", at+pos, slices.Sorted(maps.Keys(values)))
				}
				if len(raw) > maxChunkBytes && tc.users > 1 {
					t.Errorf("part at %d is %d bytes, more than a stored value holds (%d)", at+pos, len(raw), maxChunkBytes)
				}
				var part usersRoomsPart
				if err := json.Unmarshal(raw, &part); err != nil {
					t.Fatal(err)
				}
				if len(part.Users) == 0 || !slices.Equal(part.Users, ids[pos:pos+len(part.Users)]) {
					t.Fatalf("part at %d names %d users that are not the ones at its place", at+pos, len(part.Users))
				}
				for room, subs := range part.Rooms {
					merged[room] = append(merged[room], subs...)
				}
				pos += len(part.Users)
			}
			if len(merged) != len(rooms) {
				t.Fatalf("%d rooms after the merge, want %d", len(merged), len(rooms))
			}
			for room, subs := range rooms {
				sortSubs := func(s []roomSubscriber) []roomSubscriber {
					return slices.SortedFunc(slices.Values(s), func(a, b roomSubscriber) int { return cmp.Compare(a.UserID, b.UserID) })
				}
				if got, want := sortSubs(merged[room]), sortSubs(subs); !slices.EqualFunc(got, want, func(a, b roomSubscriber) bool {
					return a.UserID == b.UserID && slices.Equal(a.Roles, b.Roles)
				}) {
					t.Errorf("room %s: %d subscribers after the merge, want %d", room, len(got), len(want))
				}
			}
		})
	}
}

// TestRoomSubscribersPages: a room's subscribers are stored in pages and
// served after a user id, so that any process continues a room's grants
// where another left off, and a page from a second reading (the first was
// lost, and Rocket.Chat changed in between) skips or repeats no subscriber
// that both readings hold.
func TestRoomSubscribersPages(t *testing.T) {
	ctx := context.Background()
	subs := func(from, to int, skip ...int) []roomSubscriber {
		var out []roomSubscriber
		for i := from; i < to; i++ {
			if !slices.Contains(skip, i) {
				out = append(out, roomSubscriber{UserID: fmt.Sprintf("user%05d", i)})
			}
		}
		return out
	}
	// walk pages through room r as the SDK does, each call served by the
	// connector serve returns.
	walk := func(serve func(call int) *Connector, store shared) []string {
		var got []string
		after := ""
		for call := 0; ; call++ {
			page, more, err := serve(call).roomSubscribers(ctx, store, "r", after)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > pageItems {
				t.Fatalf("a page of %d subscribers, more than %d", len(page), pageItems)
			}
			for _, s := range page {
				got = append(got, s.UserID)
			}
			if !more {
				return got
			}
			if len(page) == 0 {
				t.Fatal("an empty page with more to come")
			}
			after = page[len(page)-1].UserID
		}
	}
	ids := func(subs []roomSubscriber) []string {
		out := make([]string, len(subs))
		for i, s := range subs {
			out[i] = s.UserID
		}
		return out
	}

	t.Run("from the store, in another process", func(t *testing.T) {
		store := localShared()
		all := subs(0, 1234)
		(&Connector{}).keepRoomSubscriptions(ctx, store, map[string][]roomSubscriber{"r": slices.Clone(all), "small": subs(0, 3)})
		got := walk(func(int) *Connector { return &Connector{} }, store)
		if !slices.Equal(got, ids(all)) {
			t.Errorf("%d subscribers served, want the %d stored, in order", len(got), len(all))
		}
	})

	t.Run("an index left from the first reading", func(t *testing.T) {
		// The second reading's pages were stored, its index was not (a
		// failed write): the index still serves the first reading whole,
		// not the second reading's pages cut at the first one's bounds.
		store := localShared()
		first := subs(10, 1010)
		(&Connector{}).keepRoomSubscriptions(ctx, store, map[string][]roomSubscriber{"r": slices.Clone(first)})
		oldIndex, ok := store.get(ctx, roomSubscriptionsIndexKey())
		if !ok {
			t.Fatal("no index stored")
		}
		(&Connector{}).keepRoomSubscriptions(ctx, store, map[string][]roomSubscriber{"r": subs(0, 1010)})
		store.setMany(ctx, map[string][]byte{roomSubscriptionsIndexKey(): oldIndex})
		if got := walk(func(int) *Connector { return &Connector{} }, store); !slices.Equal(got, ids(first)) {
			t.Errorf("%d subscribers served, want the first reading's %d", len(got), len(first))
		}
	})

	t.Run("a second reading in the middle", func(t *testing.T) {
		// The first process read 1,234 subscribers and serves the first
		// page from its memory; a second reading, stored, lost users 10
		// to 19 (left the room) and gained 1,234 and 1,235.
		first := &Connector{}
		first.keepRoomSubscriptions(ctx, localShared(), map[string][]roomSubscriber{"r": subs(0, 1234)})
		store := localShared()
		second := subs(0, 1236, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19)
		(&Connector{}).keepRoomSubscriptions(ctx, store, map[string][]roomSubscriber{"r": slices.Clone(second)})
		got := walk(func(call int) *Connector {
			if call == 0 {
				return first
			}
			return &Connector{}
		}, store)
		// Users 0 to 499 from the first reading, then everyone after
		// user 499 in the second: no subscriber both hold is skipped or
		// repeated.
		want := append(ids(subs(0, 500)), ids(subs(500, 1236))...)
		if !slices.Equal(got, want) {
			t.Errorf("%d subscribers served across the two readings, want %d", len(got), len(want))
		}
	})
}
