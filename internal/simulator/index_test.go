package simulator

import (
	"slices"
	"testing"
	"time"
)

// scannedRooms is subscribedRooms without the index: every room, in
// storage order, that holds a subscription of uid.
func scannedRooms(w *Workspace, uid string) []string {
	var ids []string
	for _, ref := range w.roomRefs() {
		if ref.sub(uid) != nil {
			ids = append(ids, ref.id())
		}
	}
	return ids
}

func refIDs(refs []*roomRef) []string {
	var ids []string
	for _, ref := range refs {
		ids = append(ids, ref.id())
	}
	return ids
}

// TestIndexesFollowTheWorkspace changes the workspace as Server.Update
// does (the change, then dropIndexes) and checks every lookup against a
// scan.
func TestIndexesFollowTheWorkspace(t *testing.T) {
	gen := Generate(7, Size{Users: 60, Teams: 4, MembersPerTeam: 8, Rooms: 30, MembersPerRoom: 6})
	w := gen.Workspace
	someone := w.Users[len(w.Users)-1]
	changes := []struct {
		name   string
		change func()
	}{
		{"as generated", func() {}},
		{"subscribed to a room", func() {
			w.Rooms[0].Subscriptions = append(w.Rooms[0].Subscriptions, RoomSubscription{UserID: someone.ID, CreatedAt: time.Now()})
		}},
		{"unsubscribed", func() { w.Rooms[0].unsubscribe(someone.ID) }},
		{"room added", func() {
			w.AddRoom(&Room{Name: "late", Type: RoomPrivate, Subscriptions: []RoomSubscription{{UserID: someone.ID}}})
		}},
		{"room removed", func() { w.Rooms = w.Rooms[1:] }},
		{"subscriptions replaced", func() {
			w.Rooms[2].Subscriptions = []RoomSubscription{{UserID: someone.ID, Roles: []string{roleOwner}}}
		}},
		{"team member added", func() {
			w.Teams[0].Members = append(w.Teams[0].Members, TeamMember{UserID: someone.ID})
		}},
		{"main room subscriber added", func() {
			w.Teams[1].RoomSubscribers = append(w.Teams[1].RoomSubscribers, Subscription{UserID: w.Users[0].ID})
		}},
		{"team removed", func() { w.Teams = w.Teams[:len(w.Teams)-1] }},
		{"unsubscribed and subscribed in place", func() {
			r := w.Rooms[3]
			r.unsubscribe(r.Subscriptions[0].UserID)
			r.Subscriptions = append(r.Subscriptions, RoomSubscription{UserID: someone.ID})
		}},
	}
	for _, c := range changes {
		c.change()
		w.dropIndexes()
		for _, u := range w.Users {
			if got, want := refIDs(w.subscribedRooms(u.ID)), scannedRooms(w, u.ID); !slices.Equal(got, want) {
				t.Fatalf("%s: rooms of %s = %v, a scan finds %v", c.name, u.Username, got, want)
			}
		}
	}
}

func TestUserIndexFollowsTheWorkspace(t *testing.T) {
	w := Generate(7, Size{Users: 40, Teams: 1, MembersPerTeam: 2}).Workspace
	check := func(when string) {
		t.Helper()
		for _, u := range w.Users {
			if w.userByID(u.ID) != u || w.userByIDOrUsername(u.Username) != u || w.userByIDOrUsername(u.ID) != u {
				t.Fatalf("%s: %s not found through the index", when, u.Username)
			}
		}
		if w.userByID("no-such-id") != nil || w.userByIDOrUsername("") != nil {
			t.Fatalf("%s: an unknown key found a user", when)
		}
	}
	check("as generated")
	gone := w.Users[3]
	w.Users = slices.Delete(w.Users, 3, 4)
	check("a user deleted")
	if w.userByID(gone.ID) != nil || w.userByIDOrUsername(gone.Username) != nil {
		t.Fatal("a deleted user is still found")
	}
	w.AddUser(&User{Username: "newcomer", Active: true})
	check("a user added")
	old := w.Users[5].Username
	w.Users[5].Username = "renamed"
	check("a user renamed")
	if w.userByIDOrUsername(old) != nil {
		t.Fatal("a user is still found by its old username")
	}
}

// TestWritesDropTheIndexes: one member kicked and another invited leave the
// room's subscription array as long as it was, at the same place; the
// routes' writes drop the indexes, so users.info lists the room for the
// newcomer and not for the one who left.
func TestWritesDropTheIndexes(t *testing.T) {
	h := roomsHarness()
	rooms := func(uid string) []string {
		t.Helper()
		r := h.get(t, "/api/v1/users.info?userId="+uid+"&includeUserRooms=true", &credAdmin)
		var ids []string
		for _, room := range r.body["user"].(map[string]any)["rooms"].([]any) {
			ids = append(ids, room.(map[string]any)["rid"].(string))
		}
		return ids
	}
	before := rooms(idReader)
	if slices.Contains(before, roomGeneral) {
		t.Fatalf("the reader is in %s already: %v", roomGeneral, before)
	}
	expectCode(t, h.post(t, "/api/v1/channels.kick", &credAdmin, map[string]any{"roomId": roomGeneral, "userId": idPlain}), 200)
	expectCode(t, h.post(t, "/api/v1/channels.invite", &credAdmin, map[string]any{"roomId": roomGeneral, "userId": idReader}), 200)
	if got := rooms(idReader); !slices.Contains(got, roomGeneral) {
		t.Errorf("the reader's rooms after the invite: %v, want %s among them", got, roomGeneral)
	}
	if got := rooms(idPlain); slices.Contains(got, roomGeneral) {
		t.Errorf("plain's rooms after the kick: %v, still %s", got, roomGeneral)
	}
}
