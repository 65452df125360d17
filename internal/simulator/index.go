package simulator

// Lookups by user, for workspaces of a hundred thousand users: finding a
// user by id or username, and the rooms a user is subscribed to, which
// MongoDB answers from indexes (users' _id and username, subscriptions'
// u._id) and a scan would make cost the whole workspace per call.
//
// Tests change the workspace as they please (through Server.Update), so an
// index is never trusted blindly: a user found through it must still sit
// where it says and carry that key, and the rooms' shape (which rooms
// there are and which subscription arrays they hold) must be the one the
// subscription index was built from. Otherwise the index is rebuilt. Only
// the server's handlers use these lookups, under its lock.

// userIndex finds users by id and by username.
type userIndex struct {
	byID, byUsername map[string]int
}

// userByIDOrUsername is Users.findOneByIdOrUsername: the user whose id or
// username is key, id first.
func (w *Workspace) userByIDOrUsername(key string) *User {
	if u := w.userByKey(key, func(u *User) string { return u.ID }, func(ix *userIndex) map[string]int { return ix.byID }); u != nil {
		return u
	}
	return w.userByKey(key, func(u *User) string { return u.Username }, func(ix *userIndex) map[string]int { return ix.byUsername })
}

// userByID is UserByID through the index.
func (w *Workspace) userByID(id string) *User {
	return w.userByKey(id, func(u *User) string { return u.ID }, func(ix *userIndex) map[string]int { return ix.byID })
}

func (w *Workspace) userByKey(key string, keyOf func(*User) string, index func(*userIndex) map[string]int) *User {
	if key == "" {
		return nil
	}
	if w.users != nil {
		if i, ok := index(w.users)[key]; ok && i < len(w.Users) && keyOf(w.Users[i]) == key {
			return w.Users[i]
		}
	}
	// Unknown, or the index is stale: scan, and when the key exists the
	// index no longer describes the workspace.
	for _, u := range w.Users {
		if keyOf(u) == key {
			w.users = buildUserIndex(w.Users)
			return u
		}
	}
	return nil
}

func buildUserIndex(users []*User) *userIndex {
	ix := &userIndex{byID: make(map[string]int, len(users)), byUsername: make(map[string]int, len(users))}
	for i, u := range users {
		if _, dup := ix.byID[u.ID]; !dup {
			ix.byID[u.ID] = i
		}
		if _, dup := ix.byUsername[u.Username]; u.Username != "" && !dup {
			ix.byUsername[u.Username] = i
		}
	}
	return ix
}

// subscriptionIndex lists, per user id, the rooms holding a subscription
// of that user, in storage order (roomRefs), and the shape of the
// workspace it was built from.
type subscriptionIndex struct {
	rooms   []roomShape
	teams   []teamShape
	roomsOf map[string][]*roomRef
}

// roomShape and teamShape record what a subscription index depends on:
// each room or team, and the identity and length of its subscription
// arrays. Adding or removing a subscription changes a length, or moves
// the array; Rocket.Chat's subscriptions never change user.
type roomShape struct {
	room *Room
	subs *RoomSubscription
	n    int
}

type teamShape struct {
	team                   *Team
	members                *TeamMember
	subscribers            *Subscription
	nMembers, nSubscribers int
}

func first[T any](s []T) *T {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

// subscribedRooms returns the rooms, team main rooms included, that hold a
// subscription of uid, in storage order.
func (w *Workspace) subscribedRooms(uid string) []*roomRef {
	if !w.subs.describes(w) {
		w.subs = buildSubscriptionIndex(w)
	}
	return w.subs.roomsOf[uid]
}

func (ix *subscriptionIndex) describes(w *Workspace) bool {
	if ix == nil || len(ix.rooms) != len(w.Rooms) || len(ix.teams) != len(w.Teams) {
		return false
	}
	for i, r := range w.Rooms {
		if ix.rooms[i] != (roomShape{r, first(r.Subscriptions), len(r.Subscriptions)}) {
			return false
		}
	}
	for i, t := range w.Teams {
		if ix.teams[i] != (teamShape{t, first(t.Members), first(t.RoomSubscribers), len(t.Members), len(t.RoomSubscribers)}) {
			return false
		}
	}
	return true
}

func buildSubscriptionIndex(w *Workspace) *subscriptionIndex {
	ix := &subscriptionIndex{
		rooms:   make([]roomShape, len(w.Rooms)),
		teams:   make([]teamShape, len(w.Teams)),
		roomsOf: map[string][]*roomRef{},
	}
	for i, r := range w.Rooms {
		ix.rooms[i] = roomShape{r, first(r.Subscriptions), len(r.Subscriptions)}
	}
	for i, t := range w.Teams {
		ix.teams[i] = teamShape{t, first(t.Members), first(t.RoomSubscribers), len(t.Members), len(t.RoomSubscribers)}
	}
	for _, ref := range w.roomRefs() {
		for _, s := range ref.subs() {
			// A user subscribed twice to one room is not Rocket.Chat's
			// (a unique index on rid and u._id), but list the room once.
			rooms := ix.roomsOf[s.uid]
			if len(rooms) == 0 || rooms[len(rooms)-1] != ref {
				ix.roomsOf[s.uid] = append(rooms, ref)
			}
		}
	}
	return ix
}
