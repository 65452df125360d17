package connector

import (
	"cmp"
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
