package connector

import (
	"context"
	"fmt"
	"slices"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types/grant"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Rooms: public channels, private groups and discussions, with their
// members and room roles. An opt-in type: a sync reads nothing of rooms
// unless it was asked for them by name (ResourceSyncers).
//
// Who is in a room can be read two ways (docs/rocketchat-api.md §10):
//
//   - per room: channels.members / groups.members for the members and
//     channels.roles / groups.roles for the room roles, one call each. Both
//     leave deactivated users out of the members (their subscriptions
//     stay), and a private group answers only its own members: Rocket.Chat's
//     canAccessRoom has no admin bypass.
//   - per user: users.info with includeUserRooms lists every subscription of
//     one user, roles included, whatever the room or the user's status. It
//     needs view-other-user-channels, and one call per user.
//
// A token that holds view-other-user-channels reads per user: complete, for
// every room, when the limiter spares it (api-bypass-rate-limit), or when
// the calls take no more windows than the sync takes anyway. Other tokens
// read per room; the rooms that way cannot show (private groups the token's
// user is not in) say so in their profile, and get no grants rather than
// an empty list passed off as complete.

// Room entitlements: membership, and the room roles a member holds on top.
const roomMember = "member"

// roomRoles are the room roles exposed as entitlements, in grant order.
var roomRoles = []string{client.RoomOwner, client.RoomModerator, client.RoomLeader}

// How a room's members are read: the value of its profile's members_source,
// which the room's grants follow (so any process serving them agrees with
// the profile the listing wrote).
const (
	// membersFromRoom: channels.members or groups.members, and the roles route.
	membersFromRoom = "room"
	// membersFromUsers: every user's subscriptions (users.info).
	membersFromUsers = "users"
	// membersUnreadable: nothing the token may call shows them.
	membersUnreadable = "none"
)

const profileKeyMembersSource = "members_source"

// roomSyncer lists rooms, their members and the members' room roles.
type roomSyncer struct{ c *Connector }

func (s *roomSyncer) ResourceType(_ context.Context) *v2.ResourceType { return roomResourceType }

// roomsToken is the rooms listing's page token:
//
//	l  Listing   where the rooms listing continues (readCursor, engine.go)
//	s  Source    how this sync reads members: membersFromUsers, or
//	             membersFromRoom for the rooms the token's user can read
//	a  Access    with membersFromRoom, which rooms those are (roomAccess)
//	r  Reading   with membersFromUsers, every user's rooms still being read
//	             before the listing starts (usersRoomsReading,
//	             room_subscriptions.go); absent once they are
type roomsToken struct {
	Listing readCursor         `json:"l"`
	Source  string             `json:"s,omitempty"`
	Access  *roomAccess        `json:"a,omitempty"`
	Reading *usersRoomsReading `json:"r,omitempty"`
}

func (t roomsToken) valid() bool {
	return t.Listing.valid() && (t.Reading == nil || t.Reading.valid())
}

// roomAccess is what Rocket.Chat's canAccessRoom
// (apps/meteor/server/services/authorization/canAccessRoom.ts) lets the
// token's user read, as far as a room's listing row shows it: the member
// and role routes answer only rooms it can access, and there is no admin
// bypass.
//
//	j  Joined     the rooms the user is subscribed to and may read as a
//	              member (view-joined-room, or view-p-room for private ones)
//	o  OpenTeams  the teams whose public rooms the user may read: public
//	              teams (with view-c-room, which a rooms sync requires) and
//	              the teams it is in
//	b  Broadcast  the user holds view-broadcast-member-list, without which
//	              channels.members and groups.members refuse broadcast rooms
//	r  BroadcastRooms  without it globally, the rooms where its room roles
//	              (owner or moderator by default) hold it: the member routes
//	              check the permission in the room's scope
type roomAccess struct {
	Joined         []string `json:"j,omitempty"`
	OpenTeams      []string `json:"o,omitempty"`
	Broadcast      bool     `json:"b,omitempty"`
	BroadcastRooms []string `json:"r,omitempty"`
}

// Why a room read per room shows no members (its profile's members_note).
const (
	hiddenNoAccess  = "no-access"
	hiddenArchived  = "archived"
	hiddenBroadcast = "broadcast"
)

// hidden says why the token's user cannot read the room's members and
// roles per room, "" when it can: canAccessRoom opens a public channel
// outside teams or in an open team, a room the user is in, or a discussion
// of a room it is in (a discussion is open to whoever can access its
// parent); the roles routes and groups.members refuse archived rooms
// (findChannelByIdOrName, findPrivateGroupByIdOrName with checkedArchived);
// the member routes refuse broadcast rooms without
// view-broadcast-member-list.
func (a *roomAccess) hidden(room *client.Room) string {
	open := room.Type == client.RoomPublic && (room.TeamID == "" || slices.Contains(a.OpenTeams, room.TeamID)) ||
		slices.Contains(a.Joined, room.ID) || room.ParentID != "" && slices.Contains(a.Joined, room.ParentID)
	switch {
	case !open:
		return hiddenNoAccess
	case room.Archived:
		return hiddenArchived
	case room.Broadcast && !a.Broadcast && !slices.Contains(a.BroadcastRooms, room.ID):
		return hiddenBroadcast
	}
	return ""
}

// source is how room's members are read under this plan, and, when they
// are not, why.
func (t roomsToken) source(room *client.Room) (string, string) {
	if t.Source != membersFromRoom {
		return t.Source, ""
	}
	if t.Access == nil {
		return membersUnreadable, hiddenNoAccess
	}
	if why := t.Access.hidden(room); why != "" {
		return membersUnreadable, why
	}
	return t.Source, ""
}

// List returns one page of rooms; its token says where the next begins.
// The first call decides how the sync reads members (roomPlan), and each
// room's profile says what that means for it.
func (s *roomSyncer) List(ctx context.Context, _ *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	if err := s.c.configured(); err != nil {
		return nil, nil, err
	}
	store := s.c.shared(ctx, opts)
	markListing(ctx, store)
	tok := decodeToken(ctx, opts.PageToken.Token, roomsToken.valid)
	if tok.Source == "" {
		var err error
		if tok, err = s.c.listingRoomPlan(ctx, store); err != nil {
			return nil, nil, err
		}
		if tok.Source == membersFromUsers {
			if tok.Reading, err = s.c.startUsersRooms(ctx, store); err != nil {
				return nil, nil, err
			}
		}
	}
	if tok.Reading != nil {
		next, err := s.c.readUsersRoomsPart(ctx, store, *tok.Reading)
		if err != nil {
			return nil, nil, err
		}
		tok.Reading = next
		return nil, &resource.SyncOpResults{NextPageToken: encodeToken(&tok)}, nil
	}
	rooms, next, err := s.c.roomsListing().page(ctx, store, tok.Listing)
	if err != nil {
		return nil, nil, err
	}
	base := s.c.httpsBase()
	out := make([]*v2.Resource, 0, len(rooms))
	hidden := 0
	for i := range rooms {
		room := &rooms[i]
		if room.TeamMain {
			continue // the team itself (team.go)
		}
		source, why := tok.source(room)
		if source == membersUnreadable {
			hidden++
		}
		r, err := roomResource(room, source, why, base)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
	}
	if hidden > 0 {
		ctxzap.Extract(ctx).Warn("rocket.chat shows a private room's members only to those who can access it (its members, or a private team's): "+
			"these rooms are synced without members, and each one's profile says so; a token whose user holds view-other-user-channels "+
			"reads them all, when it also holds api-bypass-rate-limit, when all-room-memberships is on (at the rate limiter's pace), or "+
			"when the workspace has few enough users that reading each one's rooms takes no longer than the rest of the sync",
			zap.Int("rooms", hidden), zap.String("token_user", s.c.client.UserID()))
	}
	var nextTok *roomsToken
	if next != nil {
		nextTok = &roomsToken{Listing: *next, Source: tok.Source, Access: tok.Access}
	}
	if tok.Source == membersFromRoom {
		s.c.keepRoomsListed(ctx, store, tok, rooms, next)
	}
	return out, &resource.SyncOpResults{NextPageToken: encodeToken(nextTok)}, nil
}

// listingRoomPlan decides how this sync reads rooms' members: per user when the
// token holds view-other-user-channels and is not rate limited, otherwise
// per room, for the rooms the token's user can access (roomAccess: its own
// subscriptions and teams, which it may always read, and the teams
// listing's privacy). A full sync (listing) of a rate-limited token with
// view-other-user-channels still reads per user when that takes no more
// windows than the sync takes anyway (perUserNoSlower): complete, at no
// cost in time; or at the limiter's pace with all-room-memberships. A
// targeted sync (targetedRoomPlan) of a limited token reads per room:
// reading every user for one room would cost the windows of a whole sync.
// The returned token has no listing position.
func (c *Connector) listingRoomPlan(ctx context.Context, store shared) (roomsToken, error) {
	return c.roomPlan(ctx, store, true)
}

// targetedRoomPlan is roomPlan for a targeted sync (Get).
func (c *Connector) targetedRoomPlan(ctx context.Context, store shared) (roomsToken, error) {
	return c.roomPlan(ctx, store, false)
}

// roomPlan is the plan of a listing, or of a targeted sync.
func (c *Connector) roomPlan(ctx context.Context, store shared, listing bool) (roomsToken, error) {
	v, err := c.validate(ctx)
	if err != nil {
		return roomsToken{}, err
	}
	// Rocket.Chat's answers say whether it limits the token (validation
	// has made calls), or another process of the sync has seen it.
	limited := c.client.RateLimited() || c.reads.activeIn(ctx, store)
	perUser := v.permissions[client.PermViewOtherUserChannels]
	if perUser && !limited {
		return roomsToken{Source: membersFromUsers}, nil
	}
	me := c.client.UserID()
	subs, err := c.client.UserRooms(ctx, me)
	if err != nil {
		return roomsToken{}, syncError("reading the token's user's rooms", err)
	}
	access := &roomAccess{Joined: []string{}, OpenTeams: []string{}, Broadcast: v.permissions[client.PermViewBroadcastMemberList]}
	for _, sub := range subs {
		if v.permissions[client.PermViewJoinedRoom] || v.permissions["view-"+sub.RoomType+"-room"] {
			access.Joined = append(access.Joined, sub.RoomID)
		}
		if !access.Broadcast && slices.ContainsFunc(sub.Roles, v.broadcastListRoles.has) {
			access.BroadcastRooms = append(access.BroadcastRooms, sub.RoomID)
		}
	}
	mine, err := c.client.UserTeams(ctx, me)
	if err != nil {
		return roomsToken{}, syncError("reading the token's user's teams", err)
	}
	for _, t := range mine {
		access.OpenTeams = append(access.OpenTeams, t.ID)
	}
	var public []string
	err = c.teamsListing().walk(ctx, store, readCursor{}, func(teams []client.Team, restart bool) {
		if restart {
			public = nil
		}
		for _, t := range teams {
			if t.Type != client.TeamPrivate {
				public = append(public, t.ID)
			}
		}
	})
	if err != nil {
		return roomsToken{}, err
	}
	access.OpenTeams = append(access.OpenTeams, public...)
	slices.Sort(access.Joined)
	slices.Sort(access.BroadcastRooms)
	slices.Sort(access.OpenTeams)
	access.OpenTeams = slices.Compact(access.OpenTeams)
	tok := roomsToken{Source: membersFromRoom, Access: access}
	switch {
	case !listing:
	case perUser && c.allRoomMemberships:
		ctxzap.Extract(ctx).Info("reading every user's rooms at the rate limiter's pace (all-room-memberships is on): " +
			"one users.info call per user, one window's worth of users per call")
		return roomsToken{Source: membersFromUsers}, nil
	case perUser && c.perUserNoSlower(ctx, store, tok):
		return roomsToken{Source: membersFromUsers}, nil
	case c.allRoomMemberships:
		ctxzap.Extract(ctx).Warn("all-room-memberships is on, but the token's user lacks view-other-user-channels, without which Rocket.Chat "+
			"shows no other user's rooms: rooms are read per room, and those the token's user cannot open say so",
			zap.String("token_user", c.client.UserID()))
	}
	return tok, nil
}

// perUserNoSlower reports whether a rate-limited token reads every user's
// rooms (users.info, one call per user, on a budget of its own) in no more
// windows than the sync takes anyway: the teams' (syncWindows) or, reading
// per room under perRoom, the busiest room route's (one members call and
// one roles call per readable room, on the routes of its type). It counts
// the rooms with the rooms listing's first answer, which the listing then
// serves from the store. A server that pages listings
// (API_Allow_Infinite_Count off, which the users listing has shown) gives
// no count of the whole in one answer, and the sync reads per room.
func (c *Connector) perUserNoSlower(ctx context.Context, store shared, perRoom roomsToken) bool {
	limit, ok := c.client.WindowLimit(endpointUserInfo)
	if !ok {
		return false
	}
	if serverPagesListings(ctx, store) {
		return false
	}
	users, cur, _, ok := c.storedUsers(ctx, store)
	if !ok {
		return false
	}
	userCount := 0
	if err := users.walk(ctx, store, cur, func(page []client.User, restart bool) {
		if restart {
			userCount = 0
		}
		userCount += len(page)
	}); err != nil {
		return false
	}
	var rooms client.Page[client.Room]
	made := false
	if err := readAheadPage(c.roomsListing(), store, 0, client.All, &rooms, &made).read(ctx); err != nil || !rooms.Complete() {
		return false
	}
	byType := map[string]int{}
	for i := range rooms.Items {
		if room := &rooms.Items[i]; !room.TeamMain {
			if source, _ := perRoom.source(room); source == membersFromRoom {
				byType[room.Type]++
			}
		}
	}
	windows := max(c.syncWindows(ctx, store, limit), ceilDiv(max(byType[client.RoomPublic], byType[client.RoomPrivate]), limit))
	// The token's own rooms were read once already (roomPlan).
	fits := userCount+1 <= windows*limit
	ctxzap.Extract(ctx).Info("rocket.chat rate-limits the token, which holds view-other-user-channels: reading every user's rooms "+
		"(complete, private groups included) where that takes no more windows than the sync takes anyway",
		zap.Int("users", userCount), zap.Int("sync_windows", windows), zap.Bool("every_users_rooms", fits))
	return fits
}

// ceilDiv is a/b rounded up, for positive b.
func ceilDiv(a, b int) int { return (a + b - 1) / b }

// Get reads one room, for a targeted sync. It reads members the way a
// rate-limited sync would, unless the token reads every user's rooms.
func (s *roomSyncer) Get(ctx context.Context, id *v2.ResourceId, _ *v2.ResourceId) (*v2.Resource, annotations.Annotations, error) {
	if err := s.c.configured(); err != nil {
		return nil, nil, err
	}
	room, err := s.c.client.RoomInfo(ctx, id.GetResource())
	if err != nil {
		if client.IsRoomNotFound(err) {
			return nil, nil, status.Errorf(codes.NotFound, "room %s does not exist in Rocket.Chat", id.GetResource())
		}
		return nil, nil, fmt.Errorf("reading room %s: %w", id.GetResource(), err)
	}
	if room.TeamMain {
		return nil, nil, status.Errorf(codes.NotFound, "room %s is team %s's main room: the team resource stands for it", room.ID, room.TeamID)
	}
	plan, err := s.c.targetedRoomPlan(ctx, s.c.shared(ctx, resource.SyncOpAttrs{}))
	if err != nil {
		return nil, nil, err
	}
	source, why := plan.source(room)
	r, err := roomResource(room, source, why, s.c.httpsBase())
	return r, nil, err
}

func (s *roomSyncer) Entitlements(ctx context.Context, r *v2.Resource, opts resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	s.c.spendIdleBudget(ctx, opts)
	member := fmt.Sprintf("Member of the %s room: reads and posts in it", r.GetDisplayName())
	return memberAndRoleEntitlements(r, "room", member, roomRoles), &resource.SyncOpResults{}, nil
}

// roomGrantsToken is a room's grants page token:
//
//	m  Members      read per room: where the room's member listing
//	                continues (readCursor, engine.go); absent on the first
//	                page, which also carries the room roles
//	a  After    read per user: the user id of the last subscriber earlier
//	            pages granted (subscribers come in user id order)
type roomGrantsToken struct {
	Members *readCursor `json:"m,omitempty"`
	After   string      `json:"a,omitempty"`
}

func (t roomGrantsToken) valid() bool { return t.Members == nil || t.Members.valid() }

// Grants returns one page of the room's grants, read as the room's
// profile says (members_source).
func (s *roomSyncer) Grants(ctx context.Context, r *v2.Resource, opts resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	if err := s.c.configured(); err != nil {
		return nil, nil, err
	}
	store := s.c.shared(ctx, opts)
	target := grantedResource(r)
	roomID := r.GetId().GetResource()
	dir, err := s.c.directory(ctx, store)
	if err != nil {
		return nil, nil, err
	}
	var mark *v2.GrantImmutable
	if name := profileText(r, profileKeyName); len(dir.roomGroups(name)) > 0 {
		mark = immutable(settingLDAPRoomsMap, dir.roomGroups(name), fmt.Sprintf("room %q", name))
	}
	tok := decodeToken(ctx, opts.PageToken.Token, roomGrantsToken.valid)
	switch profileText(r, profileKeyMembersSource) {
	case membersFromUsers:
		// A page of subscribers per call: #general holds every user, and
		// an answer of all their grants would outgrow gRPC's 4 MB.
		subs, more, err := s.c.roomSubscribers(ctx, store, roomID, tok.After)
		if err != nil {
			return nil, nil, err
		}
		var nextTok *roomGrantsToken
		if more && len(subs) > 0 {
			nextTok = &roomGrantsToken{After: subs[len(subs)-1].UserID}
		}
		return subscriptionGrants(target, subs, mark), &resource.SyncOpResults{NextPageToken: encodeToken(nextTok)}, nil
	case membersFromRoom:
	default:
		return nil, &resource.SyncOpResults{}, nil // the profile says why
	}
	roomType := profileText(r, profileKeyRoomType)
	var out []*v2.Grant
	var cur readCursor
	if tok.Members == nil {
		holders, err := s.c.roomRoleHolders(ctx, store, roomType, roomID)
		if err != nil {
			return nil, nil, err
		}
		// Role holders are subscribers: deactivated ones among them are
		// members the member listing leaves out.
		for _, h := range holders {
			subs := []roomSubscriber{{UserID: h.User.ID, Roles: h.Roles}}
			out = append(out, subscriptionGrants(target, subs, mark)...)
		}
	} else {
		cur = *tok.Members
	}
	members, next, err := s.c.roomMembersListing(roomType, roomID).page(ctx, store, cur)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range members {
		out = append(out, memberGrant(target, m.ID, mark))
	}
	var nextTok *roomGrantsToken
	if next != nil {
		nextTok = &roomGrantsToken{Members: next}
	}
	return out, &resource.SyncOpResults{NextPageToken: encodeToken(nextTok)}, nil
}

// roomSubscriber is one user's subscription to a room: membership and the
// room roles held on top.
type roomSubscriber struct {
	UserID string   `json:"u"`
	Roles  []string `json:"r,omitempty"`
}

// subscriptionGrants are the member grant and the room role grants of each
// subscriber; mark, when set, marks the memberships LDAP manages.
func subscriptionGrants(target *v2.Resource, subs []roomSubscriber, mark *v2.GrantImmutable) []*v2.Grant {
	out := make([]*v2.Grant, 0, len(subs))
	for _, sub := range subs {
		principal := userPrincipal(sub.UserID)
		out = append(out, memberGrant(target, sub.UserID, mark))
		for _, role := range roomRoles {
			if slices.Contains(sub.Roles, role) {
				out = append(out, grant.NewGrant(target, role, principal))
			}
		}
	}
	return out
}

// memberGrant is a room membership; mark, when set, says LDAP manages it.
func memberGrant(target *v2.Resource, userID string, mark *v2.GrantImmutable) *v2.Grant {
	if mark == nil {
		return grant.NewGrant(target, roomMember, userPrincipal(userID))
	}
	return grant.NewGrant(target, roomMember, userPrincipal(userID), grant.WithAnnotation(mark))
}

func userPrincipal(id string) *v2.ResourceId {
	return v2.ResourceId_builder{ResourceType: userResourceType.GetId(), Resource: id}.Build()
}

// Endpoints the room listings call.
const endpointRooms = "rooms.adminRooms"

// roomsListing reads every public channel, private group and discussion
// (view-room-administration).
func (c *Connector) roomsListing() *listing[client.Room] {
	return &listing[client.Room]{
		key:      "rooms",
		what:     "rooms",
		endpoint: endpointRooms,
		ahead:    true, // its first answer may have been read by roomPlan
		reads:    c.reads,
		id:       func(r client.Room) string { return r.ID },
		fetch: func(ctx context.Context, offset, count int) (client.Page[client.Room], error) {
			p, err := c.client.RoomsPage(ctx, offset, count)
			return p, syncError("listing rooms", err)
		},
	}
}

// roomMembersListing reads one room's active members, read ahead in the
// rooms listing's order (roomsAhead). A room deleted since it was listed
// has none.
func (c *Connector) roomMembersListing(roomType, roomID string) *listing[client.UserRef] {
	endpoint := client.RoomMembersEndpoint(roomType)
	return &listing[client.UserRef]{
		key:      joinKey("room-members", roomID),
		what:     "members of room " + roomID,
		endpoint: endpoint,
		ahead:    true,
		reads:    c.reads,
		id:       func(u client.UserRef) string { return u.ID },
		fetch: func(ctx context.Context, offset, count int) (client.Page[client.UserRef], error) {
			p, err := c.client.RoomMembersPage(ctx, roomType, roomID, offset, count)
			if client.IsRoomNotFound(err) {
				ctxzap.Extract(ctx).Warn("room disappeared during the sync", zap.String("room_id", roomID))
				return client.Page[client.UserRef]{Offset: offset, Total: 0}, nil
			}
			return p, syncError("listing the members of room "+roomID, err)
		},
	}
}

// Room profile keys the grants read back.
const profileKeyRoomType = "room_type"

// roomResource turns a room into a Baton group. source is how its members
// are read (membersFromRoom, membersFromUsers or membersUnreadable).
func roomResource(room *client.Room, source, why string, base externalBase) (*v2.Resource, error) {
	privacy := "public"
	if room.Type == client.RoomPrivate {
		privacy = "private"
	}
	kind := map[string]string{client.RoomPublic: "channel", client.RoomPrivate: "private group"}[room.Type]
	if room.ParentID != "" {
		kind = "discussion"
	}
	profile := map[string]any{
		"room_id":               room.ID,
		profileKeyRoomType:      room.Type,
		"kind":                  kind,
		"privacy":               privacy,
		"read_only":             room.ReadOnly,
		"archived":              room.Archived,
		"broadcast":             room.Broadcast,
		"default":               room.Default,
		"featured":              room.Featured,
		"federated":             room.Federated,
		"member_count":          room.UsersCount,
		profileKeyMembersSource: source,
	}
	setText(profile, profileKeyName, room.Name)
	setText(profile, "display_name", room.FName)
	setText(profile, "team_id", room.TeamID)
	setText(profile, "parent_room_id", room.ParentID)
	if room.Creator != nil {
		setText(profile, "created_by_id", room.Creator.ID)
		setText(profile, "created_by_username", room.Creator.Username)
	}
	setText(profile, "abac_attributes", abacSummary(room.ABACAttributes))
	profile["members_note"] = membersNote(source, why)
	name := room.FName
	if name == "" {
		name = room.Name
	}
	if name == "" {
		name = room.ID
	}
	opts := []resource.ResourceOption{resource.WithResourceProfile(profile)}
	opts = append(opts, base.identity(room.ID, room.CreatedAt, "admin/rooms/edit", room.ID)...)
	r, err := resource.NewGroupResource(clip(name, maxDisplayName), roomResourceType, room.ID, nil, opts...)
	if err != nil {
		return nil, fmt.Errorf("building room %s: %w", room.ID, err)
	}
	return r, nil
}

// membersNote says, in a room's profile, how complete its grants are; why
// is the reason a room read per room shows none.
func membersNote(source, why string) string {
	switch source {
	case membersFromUsers:
		return "every subscription, deactivated users included, read from each user's rooms (users.info)"
	case membersFromRoom:
		return "active members and room role holders from the room's own listings; deactivated users who hold no room role are not listed " +
			"(Rocket.Chat's member listings leave them out)"
	}
	const fix = "A token whose user holds view-other-user-channels reads every user's rooms, this one's members included, when it also holds " +
		"api-bypass-rate-limit, when the all-room-memberships setting is on (at the rate limiter's pace), or when reading each user's rooms " +
		"under the rate limiter takes no longer than the rest of the sync"
	switch why {
	case hiddenArchived:
		return "not listed: the room is archived, and Rocket.Chat's room role routes (and groups.members) refuse archived rooms. " + fix
	case hiddenBroadcast:
		return "not listed: the room is a broadcast room, whose members Rocket.Chat shows only with view-broadcast-member-list, " +
			"which the token's user holds neither through its roles nor through a role in this room. Give it that permission, or: " + fix
	}
	return "not listed: Rocket.Chat shows this room's members only to those who may open it (a private room's members, a private team's " +
		"members for its channels), and the token's user is not one of them. " + fix
}

// roomEndpoints are the routes that read rooms' members and roles.
func roomEndpoints() []string {
	var out []string
	for _, t := range []string{client.RoomPublic, client.RoomPrivate} {
		out = append(out, client.RoomMembersEndpoint(t), client.RoomRolesEndpoint(t))
	}
	return out
}

// roomRoleHolders reads a room's role holders: read ahead (roomsAhead),
// else from Rocket.Chat, filling the wait for its window with reads ahead.
func (c *Connector) roomRoleHolders(ctx context.Context, store shared, roomType, roomID string) ([]client.RoomRoleHolder, error) {
	if holders, ok := getJSON[[]client.RoomRoleHolder](ctx, store, roomRolesKey(roomID)); ok {
		return holders, nil
	}
	c.reads.beforeCall(ctx, store, client.RoomRolesEndpoint(roomType))
	holders, err := c.client.RoomRoles(ctx, roomType, roomID)
	if err != nil {
		return nil, syncError("listing the room roles of room "+roomID, err)
	}
	// Stored like a read ahead, so that the reads ahead this call makes
	// next do not read them again.
	setJSON(ctx, store, map[string][]client.RoomRoleHolder{roomRolesKey(roomID): holders})
	return holders, nil
}

// roomsListed is one page of the rooms listing as the reads ahead need it:
// the rooms whose members the sync reads per room, in the listing's order,
// which is the order the SDK asks for the rooms' grants.
//
//	r  Rooms  those rooms
//	n  Next   the offset of the listing's next page, -1 after the last
type roomsListed struct {
	Rooms []roomListed `json:"r,omitempty"`
	Next  int          `json:"n"`
}

// roomListed is a room read per room: its id and type (which routes).
type roomListed struct {
	ID   string `json:"i"`
	Type string `json:"t"`
}

// keepRoomsListed stores the rooms of a listing page read per room, for
// the reads ahead of their members and roles (roomsAhead): whichever
// process serves a later call finds them, whether or not this one knew yet
// that Rocket.Chat limits the token.
func (c *Connector) keepRoomsListed(ctx context.Context, store shared, tok roomsToken, rooms []client.Room, next *readCursor) {
	page := roomsListed{Rooms: []roomListed{}, Next: -1}
	if next != nil {
		page.Next = next.Offset
	}
	for i := range rooms {
		if room := &rooms[i]; !room.TeamMain {
			if source, _ := tok.source(room); source != membersFromRoom {
				continue
			}
			page.Rooms = append(page.Rooms, roomListed{ID: room.ID, Type: room.Type})
		}
	}
	setJSON(ctx, store, map[string]roomsListed{roomsListedKey(tok.Listing.Offset): page})
}

// roomsAheadProgress is how far the reads ahead of rooms have got: the
// rooms before Index on the listing page at Offset, and every page before
// it, are read, or were read by their own calls.
type roomsAheadProgress struct {
	Offset int `json:"o"`
	Index  int `json:"i"`
}

// roomsAheadSpan bounds how many rooms past the progress one fill looks
// at: more than the four room routes' budgets of one window (10 calls each
// by default), so a fill never walks the whole listing in the store.
const roomsAheadSpan = 64

// roomsAhead is the room syncer's plan of reads ahead, for a sync that
// reads members per room: each listed room's members and roles
// (keepRoomsListed), in the rooms listing's order. The four routes have
// budgets of their own, so a public room's reads wait for no private
// group's.
func (c *Connector) roomsAhead(ctx context.Context, store shared, yield func(aheadRead) bool) {
	if !c.roomsSelected() {
		return
	}
	progress, _ := getJSON[roomsAheadProgress](ctx, store, keyRoomsAheadProgress)
	from := progress
	defer func() {
		if progress != from {
			setJSON(ctx, store, map[string]roomsAheadProgress{keyRoomsAheadProgress: progress})
		}
	}()
	offset, index, looked, advancing := progress.Offset, progress.Index, 0, true
	for looked < roomsAheadSpan {
		page, ok := getJSON[roomsListed](ctx, store, roomsListedKey(offset))
		if !ok {
			return // not listed yet
		}
		for ; index < len(page.Rooms) && looked < roomsAheadSpan; index++ {
			looked++
			room := page.Rooms[index]
			_, members := aheadPages(ctx, store, c.roomMembersListing(room.Type, room.ID), yield)
			roles := c.roomRolesAhead(ctx, store, room, yield)
			advancing = advancing && members != aheadStopped && roles
			if advancing {
				progress = roomsAheadProgress{Offset: offset, Index: index + 1}
			}
		}
		if index < len(page.Rooms) || page.Next < 0 {
			return
		}
		offset, index = page.Next, 0
		if advancing {
			progress = roomsAheadProgress{Offset: offset}
		}
	}
}

// roomRolesAhead reads a room's role holders ahead unless they are stored
// (or were read ahead by this process and lost: its call reads them). It
// reports whether they need no more reading.
func (c *Connector) roomRolesAhead(ctx context.Context, store shared, room roomListed, yield func(aheadRead) bool) bool {
	key := roomRolesKey(room.ID)
	if _, ok := store.get(ctx, key); ok || c.reads.readBefore(store.syncID, key) {
		return true
	}
	made := false
	yield(aheadRead{endpoint: client.RoomRolesEndpoint(room.Type), read: func(ctx context.Context) error {
		holders, err := c.client.RoomRoles(ctx, room.Type, room.ID)
		if err != nil {
			return err
		}
		setJSON(ctx, store, map[string][]client.RoomRoleHolder{key: holders})
		c.reads.remember(store.syncID, key)
		made = true
		return nil
	}})
	return made
}
