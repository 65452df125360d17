package client

import (
	"context"
	"net/url"
	"time"
)

// Room types (IRoom.t). Public channels and private groups are the rooms a
// governance sync reads; direct messages and omnichannel rooms are left out.
const (
	RoomPublic  = "c"
	RoomPrivate = "p"
)

// Room is a room as rooms.adminRooms lists it (the adminFields projection,
// docs/rocketchat-api.md §10). A team's main room has TeamMain set; a
// discussion has ParentID.
type Room struct {
	ID         string    `json:"_id"`
	Type       string    `json:"t"`
	Name       string    `json:"name,omitempty"`
	FName      string    `json:"fname,omitempty"`
	Creator    *UserRef  `json:"u,omitempty"`
	UsersCount int       `json:"usersCount"`
	CreatedAt  time.Time `json:"ts,omitzero"`
	TeamID     string    `json:"teamId,omitempty"`
	TeamMain   bool      `json:"teamMain,omitempty"`
	ParentID   string    `json:"prid,omitempty"`
	Archived   bool      `json:"archived,omitempty"`
	ReadOnly   bool      `json:"ro,omitempty"`
	Default    bool      `json:"default,omitempty"`
	Broadcast  bool      `json:"broadcast,omitempty"`
	Featured   bool      `json:"featured,omitempty"`
	Federated  bool      `json:"federated,omitempty"`
	// ABACAttributes are an ABAC-managed private room's attributes (8.x
	// EE), where the server shows them.
	ABACAttributes []ABACAttribute `json:"abacAttributes,omitempty"`
}

// ABACAttribute is one attribute of an ABAC-managed room.
type ABACAttribute struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// RoomsPage reads one page of public channels, private groups and
// discussions, never direct messages, omnichannel rooms or teams' main
// rooms (rooms.adminRooms, which needs view-room-administration). The
// types c and p alone leave discussions out: Rocket.Chat lists a room with
// a parent only when types names "discussions" (Rooms.
// findByNameOrFnameContainingAndTypes, docs/rocketchat-api.md §10).
func (c *Client) RoomsPage(ctx context.Context, offset, count int) (Page[Room], error) {
	q := pageQuery(offset, count)
	q["types[]"] = []string{RoomPublic, RoomPrivate, "discussions"}
	return listPage[Room](ctx, c, "rooms.adminRooms", "rooms", q, offset)
}

// RoomInfo reads one room (rooms.adminRooms.getRoom: the admin view, which
// needs view-room-administration and shows private rooms the caller is not
// in). Its validator knows only rid; an unknown room is not-allowed.
func (c *Client) RoomInfo(ctx context.Context, roomID string) (*Room, error) {
	var out Room
	if err := c.get(ctx, "rooms.adminRooms.getRoom", url.Values{"rid": {roomID}}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// roomRoute is the route of action for a room of type t: channels.* for
// public rooms, groups.* for private ones.
func roomRoute(t, action string) string {
	if t == RoomPrivate {
		return "groups." + action
	}
	return "channels." + action
}

// RoomMembersEndpoint is the route that lists a room's members.
func RoomMembersEndpoint(t string) string { return roomRoute(t, "members") }

// RoomRolesEndpoint is the route that lists a room's role holders.
func RoomRolesEndpoint(t string) string { return roomRoute(t, "roles") }

// RoomMembersPage reads one page of a room's members (channels.members or
// groups.members by type). Rocket.Chat leaves deactivated users out, and
// refuses a private group the caller is not in (IsRoomNotFound), admins
// included.
func (c *Client) RoomMembersPage(ctx context.Context, roomType, roomID string, offset, count int) (Page[UserRef], error) {
	q := pageQuery(offset, count)
	q.Set(paramRoomID, roomID)
	return listPage[UserRef](ctx, c, RoomMembersEndpoint(roomType), "members", q, offset)
}

// RoomRoleHolder is one member's room roles, as channels.roles and
// groups.roles list them.
type RoomRoleHolder struct {
	User  UserRef  `json:"u"`
	Roles []string `json:"roles"`
}

// RoomRoles reads who holds room roles (owner, moderator, leader) in a
// room. Rocket.Chat lists only roles that have a description
// (getRoomRoles): the built-in ones do.
func (c *Client) RoomRoles(ctx context.Context, roomType, roomID string) ([]RoomRoleHolder, error) {
	var out struct {
		Roles []RoomRoleHolder `json:"roles"`
	}
	if err := c.get(ctx, RoomRolesEndpoint(roomType), url.Values{paramRoomID: {roomID}}, &out); err != nil {
		return nil, err
	}
	return out.Roles, nil
}

// UserSubscription is one of a user's room subscriptions as users.info
// lists them with includeUserRooms.
type UserSubscription struct {
	RoomID   string   `json:"rid"`
	RoomType string   `json:"t"`
	Roles    []string `json:"roles"`
}

// UserRooms reads every room subscription of one user, whatever the
// user's status and whatever the room (private groups the caller is not
// in included): users.info with includeUserRooms, which needs
// view-other-user-channels for another user.
func (c *Client) UserRooms(ctx context.Context, userID string) ([]UserSubscription, error) {
	var out struct {
		User struct {
			Rooms []UserSubscription `json:"rooms"`
		} `json:"user"`
	}
	q := url.Values{paramUserID: {userID}, "includeUserRooms": {"true"}}
	if err := c.get(ctx, "users.info", q, &out); err != nil {
		return nil, err
	}
	return out.User.Rooms, nil
}

// Room memberships and room roles. Each goes to channels.* or groups.* by
// the room's type; Rocket.Chat checks the permission on the room, so a
// room owner holds set-owner there.
func (c *Client) roomWrite(ctx context.Context, roomType, action, roomID, userID string) error {
	return c.post(ctx, roomRoute(roomType, action), map[string]string{paramRoomID: roomID, paramUserID: userID}, nil)
}

// InviteToRoom adds a user to a room.
func (c *Client) InviteToRoom(ctx context.Context, roomType, roomID, userID string) error {
	return c.roomWrite(ctx, roomType, "invite", roomID, userID)
}

// KickFromRoom removes a user from a room.
func (c *Client) KickFromRoom(ctx context.Context, roomType, roomID, userID string) error {
	return c.roomWrite(ctx, roomType, "kick", roomID, userID)
}

// Room roles as the channels.*/groups.* routes name them.
const (
	RoomOwner     = "owner"
	RoomModerator = "moderator"
	RoomLeader    = "leader"
)

var roomRoleActions = map[string][2]string{
	RoomOwner:     {"addOwner", "removeOwner"},
	RoomModerator: {"addModerator", "removeModerator"},
	RoomLeader:    {"addLeader", "removeLeader"},
}

// SetRoomRole gives (add) or takes away a member's room role: owner,
// moderator or leader.
func (c *Client) SetRoomRole(ctx context.Context, roomType, roomID, userID, role string, add bool) error {
	actions, ok := roomRoleActions[role]
	if !ok {
		return &APIError{Endpoint: roomRoute(roomType, "roles"), Message: "unknown room role " + role}
	}
	action := actions[1]
	if add {
		action = actions[0]
	}
	return c.roomWrite(ctx, roomType, action, roomID, userID)
}

// FindRoomMember reports whether a user is an active member of a room,
// reading its members narrowed to names containing username (the filter
// parameter; the id decides).
func (c *Client) FindRoomMember(ctx context.Context, roomType, roomID, userID, username string) (bool, error) {
	endpoint := RoomMembersEndpoint(roomType)
	fetch := func(ctx context.Context, offset, count int) (Page[UserRef], error) {
		q := pageQuery(offset, count)
		q.Set(paramRoomID, roomID)
		if username != "" {
			q.Set("filter", username)
		}
		return listPage[UserRef](ctx, c, endpoint, "members", q, offset)
	}
	found := false
	err := walk(ctx, endpoint, "members of room "+roomID, fetch, func(u UserRef) string { return u.ID }, func(batch []UserRef) error {
		for _, u := range batch {
			if u.ID == userID {
				found = true
			}
		}
		return nil
	})
	return found, err
}
