package simulator

import (
	"slices"
	"time"
)

// Room types (IRoom.t, packages/core-typings/src/IRoom.ts).
const (
	RoomPublic    = "c"
	RoomPrivate   = "p"
	RoomDirect    = "d"
	RoomLivechat  = "l"
	roomTypeTeams = "teams" // rooms.adminRooms' filter for team main rooms
)

// Room is a room other than a team's main room (a team keeps its own, see
// Team.RoomID): a public channel, a private group, a direct message or an
// omnichannel room. A discussion is a public or private room with ParentID
// set (IRoom.prid).
type Room struct {
	ID, Name string
	// FName is the display name; empty means the same as Name.
	FName string
	// Type is RoomPublic, RoomPrivate, RoomDirect or RoomLivechat.
	Type string
	// TeamID is the team the room belongs to, "" for none.
	TeamID string
	// ParentID is the room a discussion hangs from, "" for other rooms.
	ParentID string
	// ReadOnly, Archived, Broadcast, Default, Featured and Federated are
	// the flags ro, archived, broadcast, default, featured and federated.
	ReadOnly, Archived, Broadcast, Default, Featured, Federated bool
	// CreatorID and CreatorUsername are IRoom.u; livechat and direct rooms
	// have none.
	CreatorID, CreatorUsername string
	CreatedAt                  time.Time
	// Subscriptions are the room's subscribers (rocketchat_subscription),
	// deactivated users included: deactivation keeps them.
	Subscriptions []RoomSubscription
	// ABACAttributes are the attributes of an ABAC-managed private room
	// (8.x EE); nil for others.
	ABACAttributes []ABACAttribute
}

// RoomSubscription is one user's subscription to a room. Roles holds room
// roles ("owner", "moderator", "leader", custom Subscriptions-scope roles);
// nil means the document has none.
type RoomSubscription struct {
	UserID string
	Roles  []string
	// CreatedAt is the subscription's ts: when the user joined.
	CreatedAt time.Time
	// InviterID and InviterUsername name who added the user (ISubscription
	// inviter), empty when the user joined by itself or the server did not
	// record it.
	InviterID, InviterUsername string
}

// ABACAttribute is one attribute of an ABAC-managed room.
type ABACAttribute struct {
	Key    string
	Values []string
}

// displayName is fname, falling back to name.
func (r *Room) displayName() string {
	if r.FName != "" {
		return r.FName
	}
	return r.Name
}

// Subscription returns uid's subscription, or nil.
func (r *Room) Subscription(uid string) *RoomSubscription {
	for i := range r.Subscriptions {
		if r.Subscriptions[i].UserID == uid {
			return &r.Subscriptions[i]
		}
	}
	return nil
}

// JoinEveryone makes the first public channel outside teams and
// discussions, not archived, a default channel that every user of ws has
// joined, and returns it: Rocket.Chat's #general, which every new user
// joins (addUserToDefaultChannels in
// apps/meteor/app/lib/server/functions/addUserToDefaultChannels.ts).
func (ws *Workspace) JoinEveryone() *Room {
	for _, r := range ws.Rooms {
		if r.Type != RoomPublic || r.Archived || r.ParentID != "" || r.TeamID != "" {
			continue
		}
		joined := make(map[string]bool, len(r.Subscriptions))
		for _, s := range r.Subscriptions {
			joined[s.UserID] = true
		}
		for _, u := range ws.Users {
			if !joined[u.ID] {
				r.Subscriptions = append(r.Subscriptions, RoomSubscription{UserID: u.ID, CreatedAt: u.CreatedAt})
			}
		}
		r.Default = true
		return r
	}
	return nil
}

func (r *Room) unsubscribe(uid string) {
	r.Subscriptions = slices.DeleteFunc(r.Subscriptions, func(s RoomSubscription) bool { return s.UserID == uid })
}

func (r *Room) ownerCount() int {
	n := 0
	for _, s := range r.Subscriptions {
		if slices.Contains(s.Roles, roleOwner) {
			n++
		}
	}
	return n
}

func (r *Room) clone() *Room {
	c := *r
	c.Subscriptions = slices.Clone(r.Subscriptions)
	for i := range c.Subscriptions {
		c.Subscriptions[i].Roles = slices.Clone(c.Subscriptions[i].Roles)
	}
	c.ABACAttributes = slices.Clone(r.ABACAttributes)
	for i := range c.ABACAttributes {
		c.ABACAttributes[i].Values = slices.Clone(c.ABACAttributes[i].Values)
	}
	return &c
}

// AddRoom appends r and returns it; a missing ID gets a Rocket.Chat-like
// one and a zero CreatedAt the current time.
func (w *Workspace) AddRoom(r *Room) *Room {
	if r.ID == "" {
		r.ID = randomID(runtimeRand())
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
	}
	w.Rooms = append(w.Rooms, r)
	return r
}

// RoomByID returns the room with that id, or nil (team main rooms are not
// Rooms).
func (w *Workspace) RoomByID(id string) *Room {
	for _, r := range w.Rooms {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// roomRef is a room as the endpoints address it: a Room, or the main room
// of a team, which the model keeps in its Team (a Rocket.Chat team main room
// is a room document with teamMain: true and teamId, of type "c" for a public
// team and "p" for a private one).
type roomRef struct {
	room *Room
	team *Team // the team whose main room this is, when room is nil
}

// roomRefs lists every room in storage order: the Rooms, then the teams'
// main rooms.
func (w *Workspace) roomRefs() []*roomRef {
	refs := make([]*roomRef, 0, len(w.Rooms)+len(w.Teams))
	for _, r := range w.Rooms {
		refs = append(refs, &roomRef{room: r})
	}
	for _, t := range w.Teams {
		refs = append(refs, &roomRef{team: t})
	}
	return refs
}

// roomRefByID is Rooms.findOneById, team main rooms included.
func (w *Workspace) roomRefByID(id string) *roomRef {
	if id == "" {
		return nil
	}
	if r := w.RoomByID(id); r != nil {
		return &roomRef{room: r}
	}
	if t := w.teamByRoomID(id); t != nil {
		return &roomRef{team: t}
	}
	return nil
}

// roomRefByName is Rooms.findOneByName: the exact name (direct messages
// and omnichannel rooms have none).
func (w *Workspace) roomRefByName(name string) *roomRef {
	if name == "" {
		return nil
	}
	for _, ref := range w.roomRefs() {
		if ref.hasName() && ref.name() == name {
			return ref
		}
	}
	return nil
}

// roomRefByIDOrName is Rooms.findOneByIdOrName: _id or name.
func (w *Workspace) roomRefByIDOrName(s string) *roomRef {
	if ref := w.roomRefByID(s); ref != nil {
		return ref
	}
	return w.roomRefByName(s)
}

func (ref *roomRef) id() string {
	if ref.room != nil {
		return ref.room.ID
	}
	return ref.team.RoomID
}

// typ is IRoom.t.
func (ref *roomRef) typ() string {
	if ref.room != nil {
		return ref.room.Type
	}
	if ref.team.Type == teamPrivate {
		return RoomPrivate
	}
	return RoomPublic
}

// hasName reports whether the document has a name: direct messages and
// omnichannel rooms have none.
func (ref *roomRef) hasName() bool {
	switch ref.typ() {
	case RoomDirect, RoomLivechat:
		return false
	}
	return ref.name() != ""
}

func (ref *roomRef) name() string {
	if ref.room != nil {
		return ref.room.Name
	}
	return ref.team.Name
}

// fname is the display name createRoom stores (the name unless told otherwise).
func (ref *roomRef) fname() string {
	if ref.room != nil {
		return ref.room.displayName()
	}
	return ref.team.Name
}

// teamID is IRoom.teamId: the team the room belongs to, or for a main room
// its own team.
func (ref *roomRef) teamID() string {
	if ref.room != nil {
		return ref.room.TeamID
	}
	return ref.team.ID
}

func (ref *roomRef) teamMain() bool { return ref.room == nil }

func (ref *roomRef) prid() string {
	if ref.room != nil {
		return ref.room.ParentID
	}
	return ""
}

// flag reads one of the room's boolean flags; team main rooms have none set.
func (ref *roomRef) flag(get func(*Room) bool) bool { return ref.room != nil && get(ref.room) }

func (ref *roomRef) archived() bool  { return ref.flag(func(r *Room) bool { return r.Archived }) }
func (ref *roomRef) readOnly() bool  { return ref.flag(func(r *Room) bool { return r.ReadOnly }) }
func (ref *roomRef) broadcast() bool { return ref.flag(func(r *Room) bool { return r.Broadcast }) }
func (ref *roomRef) isDefault() bool { return ref.flag(func(r *Room) bool { return r.Default }) }
func (ref *roomRef) featured() bool  { return ref.flag(func(r *Room) bool { return r.Featured }) }
func (ref *roomRef) federated() bool { return ref.flag(func(r *Room) bool { return r.Federated }) }

// creator is IRoom.u; a team main room was created by the team's creator.
func (ref *roomRef) creator() (string, string) {
	if ref.room != nil {
		return ref.room.CreatorID, ref.room.CreatorUsername
	}
	return ref.team.CreatedByID, ref.team.CreatedByUsername
}

func (ref *roomRef) createdAt() time.Time {
	if ref.room != nil {
		return ref.room.CreatedAt
	}
	return ref.team.CreatedAt
}

// subRef is one subscription of a room, whichever structure holds it.
type subRef struct {
	uid string
	// roles points at the stored roles, so role changes write through.
	roles                      *[]string
	ts                         time.Time
	inviterID, inviterUsername string
}

func roomSubRef(s *RoomSubscription) subRef {
	return subRef{uid: s.UserID, roles: &s.Roles, ts: s.CreatedAt, inviterID: s.InviterID, inviterUsername: s.InviterUsername}
}

// subs lists the room's subscriptions in storage order; for a team main
// room the members' (who are all subscribed) then the plain subscribers'.
func (ref *roomRef) subs() []subRef {
	var out []subRef
	if ref.room != nil {
		for i := range ref.room.Subscriptions {
			out = append(out, roomSubRef(&ref.room.Subscriptions[i]))
		}
		return out
	}
	t := ref.team
	for i := range t.Members {
		m := &t.Members[i]
		out = append(out, subRef{uid: m.UserID, roles: &m.Roles, ts: m.CreatedAt, inviterID: m.CreatedByID, inviterUsername: m.CreatedByUsername})
	}
	for i := range t.RoomSubscribers {
		s := &t.RoomSubscribers[i]
		out = append(out, subRef{uid: s.UserID, roles: &s.Roles, ts: t.CreatedAt})
	}
	return out
}

// sub returns uid's subscription, or nil.
func (ref *roomRef) sub(uid string) *subRef {
	if ref.room != nil {
		// The common case without building the whole list.
		s := ref.room.Subscription(uid)
		if s == nil {
			return nil
		}
		r := roomSubRef(s)
		return &r
	}
	t := ref.team
	for i := range t.Members {
		if m := &t.Members[i]; m.UserID == uid {
			return &subRef{uid: m.UserID, roles: &m.Roles, ts: m.CreatedAt, inviterID: m.CreatedByID, inviterUsername: m.CreatedByUsername}
		}
	}
	for i := range t.RoomSubscribers {
		if s := &t.RoomSubscribers[i]; s.UserID == uid {
			return &subRef{uid: s.UserID, roles: &s.Roles, ts: t.CreatedAt}
		}
	}
	return nil
}

// usersCount is IRoom.usersCount: every subscription counts, deactivated
// users' included (createWithRoomAndUser increments it, removal
// decrements it, deactivation leaves it).
func (ref *roomRef) usersCount() int { return len(ref.subs()) }

// ownerCount is Roles.countUsersInRole('owner', rid): subscriptions holding
// owner in the room.
func (ref *roomRef) ownerCount() int {
	if ref.room != nil {
		return ref.room.ownerCount()
	}
	n := 0
	for _, s := range ref.subs() {
		if slices.Contains(*s.roles, roleOwner) {
			n++
		}
	}
	return n
}

// subscribe adds a subscription created now by inviter; for a team main room
// it also writes the membership row, as addUserToRoom does through
// Team.addMember.
func (ref *roomRef) subscribe(uid string, inviter *User, now time.Time) {
	if ref.room != nil {
		ref.room.Subscriptions = append(ref.room.Subscriptions, RoomSubscription{
			UserID: uid, CreatedAt: now, InviterID: inviter.ID, InviterUsername: inviter.Username,
		})
		return
	}
	ref.team.Members = append(ref.team.Members, TeamMember{
		UserID: uid, CreatedAt: now, CreatedByID: inviter.ID, CreatedByUsername: inviter.Username,
	})
}

// unsubscribe removes uid's subscription; for a team main room the
// membership row goes too (removeUserFromRoom calls Team.removeMember).
func (ref *roomRef) unsubscribe(uid string) {
	if ref.room != nil {
		ref.room.unsubscribe(uid)
		return
	}
	ref.team.removeMember(uid)
	ref.team.unsubscribe(uid)
}
