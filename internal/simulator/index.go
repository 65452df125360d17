package simulator

// Lookups by user, for workspaces of a hundred thousand users: finding a
// user by id or username, and the rooms a user is subscribed to, which
// MongoDB answers from indexes (users' _id and username, subscriptions'
// u._id) and a scan would make cost the whole workspace per call.
//
// Every write through the server (a route other than GET, Update, a new
// server over the workspace) drops the indexes, and the next lookup builds
// them again: NewServer owns the workspace, and changes go through Update.
// A user found through the index is still checked to sit where it says
// and carry that key, which costs nothing. Only the server's handlers use
// these lookups, under its lock.

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
// of that user, in storage order (roomRefs).
type subscriptionIndex struct {
	roomsOf map[string][]*roomRef
}

// subscribedRooms returns the rooms, team main rooms included, that hold a
// subscription of uid, in storage order.
func (w *Workspace) subscribedRooms(uid string) []*roomRef {
	if w.subs == nil {
		w.subs = buildSubscriptionIndex(w)
	}
	return w.subs.roomsOf[uid]
}

func buildSubscriptionIndex(w *Workspace) *subscriptionIndex {
	ix := &subscriptionIndex{roomsOf: map[string][]*roomRef{}}
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
