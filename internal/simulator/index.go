package simulator

// Lookups by user, for workspaces of a hundred thousand users: finding a
// user by id or username, and the rooms a user is subscribed to, which
// MongoDB answers from indexes (users' _id and username, subscriptions'
// u._id) and a scan would make cost the whole workspace per call.
//
// Every write through the server (a route other than GET, Update, a new
// server over the workspace) drops the indexes, and the next lookup builds
// them again. Between writes they are still checked, cheaply, against
// changes made behind the server's back: a user found through the index
// must sit where it says and carry that key, and the rooms, teams and
// subscription arrays must be the ones the subscription index was built
// from (which misses an edit that removes one subscription and adds
// another in place: make those through Update). Only the server's
// handlers use these lookups, under its lock.

// dropIndexes forgets the indexes after a write.
func (w *Workspace) dropIndexes() { w.users, w.subs = nil, nil }

// userIndex finds users by id and by username.
type userIndex struct {
	byID, byUsername map[string]int
}

// userByIDOrUsername is Users.findOneByIdOrUsername: the user whose id or
// username is key.
func (w *Workspace) userByIDOrUsername(key string) *User {
	return w.userByKey(key, func(u *User) bool { return u.ID == key || u.Username == key })
}

// userByID is UserByID through the index.
func (w *Workspace) userByID(id string) *User {
	return w.userByKey(id, func(u *User) bool { return u.ID == id })
}

// userByKey finds the user matches accepts through the index's id and
// username entries for key, else by a scan (which rebuilds the index when
// it finds the user: the index no longer describes the workspace).
func (w *Workspace) userByKey(key string, matches func(*User) bool) *User {
	if key == "" {
		return nil
	}
	if w.users != nil {
		for _, at := range []map[string]int{w.users.byID, w.users.byUsername} {
			if i, ok := at[key]; ok && i < len(w.Users) && matches(w.Users[i]) {
				return w.Users[i]
			}
		}
	}
	for _, u := range w.Users {
		if matches(u) {
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

// roomShape and teamShape record each room or team a subscription index
// was built from, and the identity and length of its subscription arrays:
// a subscription added or removed behind the server's back changes them,
// unless one is removed and another added in place.
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

func shapeOfRoom(r *Room) roomShape {
	return roomShape{r, firstElem(r.Subscriptions), len(r.Subscriptions)}
}

func shapeOfTeam(t *Team) teamShape {
	return teamShape{t, firstElem(t.Members), firstElem(t.RoomSubscribers), len(t.Members), len(t.RoomSubscribers)}
}

func firstElem[T any](s []T) *T {
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
		if ix.rooms[i] != shapeOfRoom(r) {
			return false
		}
	}
	for i, t := range w.Teams {
		if ix.teams[i] != shapeOfTeam(t) {
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
		ix.rooms[i] = shapeOfRoom(r)
	}
	for i, t := range w.Teams {
		ix.teams[i] = shapeOfTeam(t)
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
