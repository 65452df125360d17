package simulator

import (
	"slices"
	"strings"
	"time"
)

// This file serves the room endpoints: rooms.adminRooms (and .getRoom),
// rooms.info, and the channels.* / groups.* member and room-role routes.
// Paths below are in RocketChat/Rocket.Chat; the REST handlers live in
// apps/meteor/server/api/v1/{channels,groups,rooms}.ts, the methods they
// call in apps/meteor/server/meteor-methods/rooms/.

// Messages of the room lookups' Meteor errors.
const (
	msgNoSuchChannel     = `The required "roomId" or "roomName" param provided does not match any channel`
	msgNoSuchGroup       = `The required "roomId" or "roomName" param provided does not match any group`
	msgRoomParamGroup    = `The parameter "roomId" or "roomName" is required`
	msgNotAllowed        = "Not allowed"
	msgInvalidUserReason = "Invalid user"
	msgInvalidRoom       = "Invalid room"
	msgUserNotInRoom     = "User is not in this room"
)

// roomKind says which family of routes addresses a room: channels.* find
// public (and omnichannel) rooms, groups.* private ones.
type roomKind int

const (
	kindChannel roomKind = iota
	kindGroup
)

// ---------------------------------------------------------------------------
// Documents

// roomDoc renders the room document as Rooms.findOneById returns it (what
// rooms.info, channels.invite and groups.invite send). Channels and groups
// carry the fields createRoom writes (app/lib/server/functions/createRoom.ts:
// fname, _updatedAt, the extraData teamId/teamMain/prid/broadcast/federated,
// name, t, msgs, usersCount, u, ts, ro) followed by those later settings
// append (default, featured, archived); direct messages those of
// createDirectRoom (app/lib/server/functions/createDirectRoom.ts), omnichannel
// rooms those of createLivechatRoom. Message counters are not modelled (msgs
// is 0).
func roomDoc(ws *Workspace, ref *roomRef) object {
	switch ref.typ() {
	case RoomDirect:
		return directDoc(ws, ref)
	case RoomLivechat:
		return object{
			{keyID, ref.id()}, {keyMsgs, 0}, {keyUsersCount, ref.usersCount()}, {keyFName, ref.fname()},
			{keyRoomType, RoomLivechat}, {keyTS, isoTime(ref.createdAt())}, {"cl", false}, {"open", true},
		}
	}
	o := object{{keyID, ref.id()}, {keyFName, ref.fname()}, {keyUpdatedAt, isoTime(ref.createdAt())}}
	if tid := ref.teamID(); tid != "" {
		o = o.with(keyTeamID, tid)
	}
	if ref.teamMain() {
		o = o.with(keyTeamMain, true)
	}
	if p := ref.prid(); p != "" {
		o = o.with(keyPrid, p)
	}
	if ref.broadcast() {
		o = o.with(keyBroadcast, true)
	}
	if ref.federated() {
		o = o.with(keyFederated, true)
	}
	o = o.with(keyName, ref.name()).with(keyRoomType, ref.typ()).with(keyMsgs, 0).with(keyUsersCount, ref.usersCount())
	if u := creatorDoc(ws, ref); u != nil {
		o = o.with("u", u)
	}
	o = o.with(keyTS, isoTime(ref.createdAt())).with(keyReadOnly, ref.readOnly())
	if ref.isDefault() {
		o = o.with(keyDefault, true)
	}
	if ref.featured() {
		o = o.with(keyFeatured, true)
	}
	if ref.archived() {
		o = o.with(keyArchived, true)
	}
	if ref.room != nil && len(ref.room.ABACAttributes) > 0 {
		attrs := make([]object, len(ref.room.ABACAttributes))
		for i, a := range ref.room.ABACAttributes {
			attrs[i] = object{{"key", a.Key}, {"values", nonNil(a.Values)}}
		}
		o = o.with(keyABACAttributes, attrs)
	}
	return o
}

// creatorDoc is IRoom.u: {_id, username, name} (createRoom copies the
// owner's name), or nil for rooms without a creator.
func creatorDoc(ws *Workspace, ref *roomRef) object {
	uid, username := ref.creator()
	if uid == "" {
		return nil
	}
	u := object{{keyID, uid}, {keyUsername, username}}
	if cu := ws.UserByID(uid); cu != nil && cu.Name != "" {
		u = u.with(keyName, cu.Name)
	}
	return u
}

// directDoc is a direct message room: t, usernames (sorted by display
// name), usersCount, msgs, ts and uids (sorted), as createDirectRoom writes.
func directDoc(ws *Workspace, ref *roomRef) object {
	var members []*User
	for _, s := range ref.subs() {
		if u := ws.UserByID(s.uid); u != nil {
			members = append(members, u)
		}
	}
	byName := slices.Clone(members)
	slices.SortStableFunc(byName, func(a, b *User) int {
		return strings.Compare(strings.ToLower(displayOrUsername(a)), strings.ToLower(displayOrUsername(b)))
	})
	usernames := []string{}
	for _, u := range byName {
		if u.Username != "" {
			usernames = append(usernames, u.Username)
		}
	}
	uids := []string{}
	for _, u := range members {
		uids = append(uids, u.ID)
	}
	slices.Sort(uids)
	return object{
		{keyID, ref.id()}, {keyRoomType, RoomDirect}, {"usernames", usernames}, {keyUsersCount, ref.usersCount()},
		{keyMsgs, 0}, {keyTS, isoTime(ref.createdAt())}, {"uids", uids},
	}
}

func displayOrUsername(u *User) string {
	if u.Name != "" {
		return u.Name
	}
	return u.Username
}

// adminFields is the projection of rooms.adminRooms and
// rooms.adminRooms.getRoom (apps/meteor/lib/rooms/adminFields.ts; the 8.x
// RoomAdminFieldsType in packages/core-typings/src/IRoom.ts adds
// customFields and abacAttributes). _updatedAt is not part of it. An
// ABAC-managed room's attributes show as stored: the EE patch of
// scopeAdminRoomsForAbac (ee/server/api/lib/scopeAdminRoomsForAbac.ts), which
// can redact them, needs the abac licence module and ABAC_Enabled, which the
// simulator does not model.
var adminFields = []string{
	keyID, keyPrid, keyFName, keyName, keyRoomType, "cl", "u", "usernames", keyUsersCount, "muted", "unmuted",
	keyReadOnly, "reactWhenReadOnly", keyDefault, "favorite", keyFeatured, "topic", keyMsgs, keyArchived,
	keyTeamID, keyTeamMain, "announcement", "description", "customFields", keyBroadcast, "uids", "avatarETag",
	keyFederated, keyTS, keyABACAttributes,
}

// pick keeps the fields of o named in keys, in the document's order (a
// MongoDB projection does not reorder).
func pick(o object, keys []string) object {
	out := object{}
	for _, f := range o {
		if slices.Contains(keys, f.key) {
			out = append(out, f)
		}
	}
	return out
}

// docField reads a field of a rendered document for sorting; nil is a
// missing field (or one of a type sorting does not compare).
func docField(doc object, f string) any {
	for _, fl := range doc {
		if fl.key != f {
			continue
		}
		switch v := fl.val.(type) {
		case int:
			return float64(v)
		case isoTime:
			return time.Time(v)
		case string, bool:
			return v
		}
		return nil
	}
	return nil
}

// ---------------------------------------------------------------------------
// Access and permissions

// hasRoomPermission is hasPermissionAsync(uid, perm, rid): the caller's
// global roles, plus the roles of its subscription to that room
// (apps/meteor/server/services/authorization/service.ts getRoles).
func (w *Workspace) hasRoomPermission(u *User, perm string, ref *roomRef) bool {
	if w.hasPermission(u, perm, nil) {
		return true
	}
	holders := w.Permissions[perm]
	if u == nil || ref == nil || len(holders) == 0 {
		return false
	}
	if s := ref.sub(u.ID); s != nil {
		for _, r := range *s.roles {
			if slices.Contains(holders, r) {
				return true
			}
		}
	}
	return false
}

// canAccessRoom mirrors canAccessRoom's validators
// (apps/meteor/server/services/authorization/canAccessRoom.ts), any of which
// grants access; there is no admin bypass:
//   - a public room of a team: with view-c-room when the team is public, for
//     the team's members (membership rows) when it is private;
//   - a public room outside teams: with view-c-room;
//   - a room the user is subscribed to: with view-joined-room or view-<t>-room
//     (ABAC-managed rooms are not restricted: ABAC_Enabled is off by default);
//   - a discussion: whoever can access its parent room;
//   - an omnichannel room: with view-livechat-rooms (an approximation of
//     canAccessRoomLivechat, which also admits the serving agent, who is
//     subscribed and so passes the rule above).
func (w *Workspace) canAccessRoom(ref *roomRef, u *User) bool {
	return w.canAccessRoomDepth(ref, u, 0)
}

// CanAccessRoom is canAccessRoom for a room and a user by id, for tests
// that predict what a caller can read.
func (w *Workspace) CanAccessRoom(roomID, userID string) bool {
	return w.canAccessRoom(w.roomRefByID(roomID), w.UserByID(userID))
}

func (w *Workspace) canAccessRoomDepth(ref *roomRef, u *User, depth int) bool {
	if ref == nil || u == nil || depth > 8 {
		return false
	}
	t := ref.typ()
	if t == RoomPublic {
		if tid := ref.teamID(); tid != "" {
			if team := w.TeamByID(tid); team != nil {
				if team.Type == teamPublic {
					if w.hasPermission(u, permViewCRoom, nil) {
						return true
					}
				} else if team.member(u.ID) != nil {
					return true
				}
			}
		} else if w.hasPermission(u, permViewCRoom, nil) {
			return true
		}
	}
	if ref.sub(u.ID) != nil && (w.hasPermission(u, permViewJoinedRoom, nil) || w.hasPermission(u, "view-"+t+"-room", nil)) {
		return true
	}
	if p := ref.prid(); p != "" && w.canAccessRoomDepth(w.roomRefByID(p), u, depth+1) {
		return true
	}
	return t == RoomLivechat && w.hasPermission(u, permViewLivechatRooms, nil)
}

// ---------------------------------------------------------------------------
// Parameter helpers

// targetFromParams is getUserFromParams
// (apps/meteor/server/api/lib/getUserFromParams.ts; see userFromParams), with
// the TypeError its params.userId?.trim() throws on a non-string value.
func targetFromParams(ws *Workspace, p map[string]any) (*User, *reply) {
	for _, key := range []string{keyUserID, keyUsername, keyUser} {
		v, present := p[key]
		if !present || v == nil {
			continue
		}
		s, isString := v.(string)
		if !isString {
			r := failure("params." + key + "?.trim is not a function")
			return nil, &r
		}
		if strings.TrimSpace(s) != "" {
			break
		}
	}
	return userFromParams(ws, p)
}

// usersFromListParams mirrors getUserListFromParams: userIds (or usernames)
// plus the single userId/username/user, falsy entries dropped; an empty
// list is error-users-params-not-provided. The users are looked up by id
// when userIds or userId was given, else by username ignoring case, and come
// back in storage order; unknown ones are dropped silently. A userIds or
// usernames that is not an array fails as the server's
// userListParam.push(...) does.
func usersFromListParams(ws *Workspace, p map[string]any) ([]*User, *reply) {
	var sole any = ""
	for _, key := range []string{keyUserID, keyUsername, keyUser} {
		if truthy(p[key]) {
			sole = p[key]
			break
		}
	}
	var list any = []any{}
	switch {
	case truthy(p["userIds"]):
		list = p["userIds"]
	case truthy(p["usernames"]):
		list = p["usernames"]
	}
	items, isArray := list.([]any)
	if !isArray {
		r := failure("userListParam.push is not a function")
		return nil, &r
	}
	given := 0
	var names []string
	for _, it := range append(slices.Clone(items), sole) {
		if !truthy(it) {
			continue
		}
		given++
		if s, isString := it.(string); isString && !slices.Contains(names, s) {
			names = append(names, s)
		}
	}
	if given == 0 {
		r := meteorError("error-users-params-not-provided", `Please provide "userId" or "username" or "userIds" or "usernames" as param`, nil)
		return nil, &r
	}
	byID := truthy(p["userIds"]) || truthy(p[keyUserID])
	var users []*User
	for _, u := range ws.Users {
		for _, n := range names {
			if byID && u.ID == n || !byID && u.Username != "" && strings.EqualFold(u.Username, n) {
				users = append(users, u)
				break
			}
		}
	}
	return users, nil
}

// findChannel mirrors findChannelByIdOrName in channels.ts: roomId, else
// roomName; only public and omnichannel rooms; archived rooms refused
// unless checkArchived is off.
func findChannel(ws *Workspace, p map[string]any, checkArchived bool) (*roomRef, *reply) {
	var ref *roomRef
	if _, ok := p[keyRoomID]; ok {
		ref = ws.roomRefByID(str(p, keyRoomID))
	} else if _, ok := p[keyRoomName]; ok {
		ref = ws.roomRefByName(str(p, keyRoomName))
	}
	if ref == nil || ref.typ() != RoomPublic && ref.typ() != RoomLivechat {
		r := meteorError(errorTypeRoomNotFound, msgNoSuchChannel, nil)
		return nil, &r
	}
	if checkArchived && ref.archived() {
		r := meteorError(errorTypeRoomArchived, "The channel, "+ref.name()+", is archived", nil)
		return nil, &r
	}
	return ref, nil
}

// groupFromParams mirrors getRoomFromParams in groups.ts: a private room by
// roomId or roomName, without access check.
func groupFromParams(ws *Workspace, p map[string]any) (*roomRef, *reply) {
	_, hasID := p[keyRoomID]
	_, hasName := p[keyRoomName]
	if !hasID && !hasName || hasID && !truthy(p[keyRoomID]) && hasName && !truthy(p[keyRoomName]) {
		r := meteorError("error-room-param-not-provided", msgRoomParamGroup, nil)
		return nil, &r
	}
	var ref *roomRef
	if hasID {
		ref = ws.roomRefByID(str(p, keyRoomID))
	} else {
		ref = ws.roomRefByName(str(p, keyRoomName))
	}
	if ref == nil || ref.typ() != RoomPrivate {
		r := meteorError(errorTypeRoomNotFound, msgNoSuchGroup, nil)
		return nil, &r
	}
	return ref, nil
}

// findGroup mirrors findPrivateGroupByIdOrName in groups.ts: a caller who
// cannot access the group (canAccessRoom, which has no admin bypass) gets
// the same error-room-not-found as for a missing group; archived groups are
// refused unless checkArchived is off (a discussion is named by its fname).
func findGroup(ws *Workspace, u *User, p map[string]any, checkArchived bool) (*roomRef, *reply) {
	ref, bad := groupFromParams(ws, p)
	if bad != nil {
		return nil, bad
	}
	if !ws.canAccessRoom(ref, u) {
		r := meteorError(errorTypeRoomNotFound, msgNoSuchGroup, nil)
		return nil, &r
	}
	if checkArchived && ref.archived() {
		name := ref.name()
		if ref.prid() != "" {
			name = ref.fname()
		}
		r := meteorError(errorTypeRoomArchived, "The private group, "+name+", is archived", nil)
		return nil, &r
	}
	return ref, nil
}

// legacyInvalidParams is what a validateParams route answers when its Ajv
// check fails: the wrapper (apps/meteor/server/api/ApiClass.ts) throws
// Meteor.Error('invalid-params', messages joined by "\n "), after the rate
// limiter has counted the call.
func legacyInvalidParams(msgs []string) reply {
	return meteorError(errorTypeInvalidParams, strings.Join(msgs, "\n "), nil)
}

// validateOneOf is Ajv's oneOf over full subschemas, allErrors off: the
// failing branches' errors, then the oneOf error; two passing branches give
// only the oneOf error.
func validateOneOf(data any, branches ...*schema) []string {
	var errs []string
	passing := 0
	for _, b := range branches {
		if e := b.validate(data); e != nil {
			errs = append(errs, e...)
		} else {
			passing++
		}
	}
	switch passing {
	case 1:
		return nil
	case 0:
		return append(errs, "must match exactly one schema in oneOf")
	}
	return []string{"must match exactly one schema in oneOf"}
}

// closedStrings is an object schema of required string properties and no others.
func closedStrings(keys ...string) *schema {
	sc := &schema{closed: true, required: keys}
	for _, k := range keys {
		sc.props = append(sc.props, prop{name: k, kind: kString})
	}
	return sc
}

// isChannelsRolesProps and isChannelsKickProps (packages/rest-typings/src/v1/
// channels/ChannelsRolesProps.ts, ChannelsKickProps.ts).
var (
	channelsRolesBranches = []*schema{closedStrings(keyRoomID), closedStrings(keyRoomName)}
	channelsKickBranches  = []*schema{closedStrings(keyRoomID, keyUserID), closedStrings(keyRoomName, keyUserID)}
)

// ---------------------------------------------------------------------------
// rooms.adminRooms, rooms.adminRooms.getRoom, rooms.info

// roomsAdminRoomsQuery is isRoomsAdminRoomsProps
// (packages/rest-typings/src/v1/rooms.ts): types is an array of any strings.
var roomsAdminRoomsQuery = &schema{
	coerce: true,
	closed: true,
	props: []prop{
		{name: keyFilter, kind: kString, nullable: true},
		{name: keyTypes, kind: kStringArray, nullable: true},
		{name: keyCount, kind: kNumber, nullable: true},
		{name: keyOffset, kind: kNumber, nullable: true},
		{name: keySort, kind: kString, nullable: true},
		{name: keyQuery, kind: kString, nullable: true},
	},
}

// errNotAuthorized is findAdminRooms' and findAdminRoom's throw new
// Error('error-not-authorized') (apps/meteor/server/api/lib/rooms.ts): the
// routes declare no permissionsRequired, so this is a 400 with a bare error.
const errNotAuthorized = "error-not-authorized"

// roomsAdminRooms serves rooms.adminRooms (apps/meteor/server/api/v1/rooms.ts
// → findAdminRooms → Rooms.findByNameOrFnameContainingAndTypes in
// packages/models/src/models/Rooms.ts). Pagination and sort are read before
// the permission check. Discussions and team main rooms are listed only
// when types has "discussions" or "teams": without those, prid and teamMain
// must not exist, whatever the other types. filter matches name
// (non-federated rooms), fname, or a direct message's usernames, ignoring
// case. Default order {default: -1, name: 1}.
func (s *Server) roomsAdminRooms(c *call) reply {
	offset, count := s.pagination(c.query)
	keys, bad := parseSort(c.query)
	if bad != nil {
		return *bad
	}
	if !c.ws.hasPermission(c.user, permViewRoomAdministration, nil) {
		return failure(errNotAuthorized)
	}
	name := strings.ToLower(strings.TrimSpace(str(c.query, keyFilter)))
	types, _ := stringItems(c.query[keyTypes])
	discussions := slices.Contains(types, "discussions")
	teams := slices.Contains(types, roomTypeTeams)
	showTypes := slices.DeleteFunc(slices.Clone(types), func(t string) bool { return t == "discussions" || t == roomTypeTeams })

	type listed struct {
		ref *roomRef
		doc object
	}
	var rooms []listed
	for _, ref := range c.ws.roomRefs() {
		if name != "" && !adminNameMatches(c.ws, ref, name) {
			continue
		}
		if len(showTypes) > 0 || discussions || teams {
			inTypes := slices.Contains(showTypes, ref.typ()) || discussions && ref.prid() != "" || teams && ref.teamMain()
			if !inTypes {
				continue
			}
		}
		if !discussions && ref.prid() != "" || !teams && ref.teamMain() {
			continue
		}
		rooms = append(rooms, listed{ref, roomDoc(c.ws, ref)})
	}
	if keys == nil {
		keys = []sortKey{{keyDefault, -1}, {keyName, 1}}
	}
	sortBy(rooms, keys, func(l listed, f string) any { return docField(l.doc, f) })
	total := len(rooms)
	rooms = page(rooms, offset, count)
	items := make([]object, len(rooms))
	for i, l := range rooms {
		items[i] = pick(l.doc, adminFields)
	}
	return success(field{"rooms", items}, field{keyCount, len(items)}, field{keyOffset, offset}, field{keyTotal, total})
}

// adminNameMatches is the filter's $or: name (not of federated rooms),
// fname, or for a direct message one of its usernames.
func adminNameMatches(ws *Workspace, ref *roomRef, lower string) bool {
	if ref.hasName() && !ref.federated() && strings.Contains(strings.ToLower(ref.name()), lower) {
		return true
	}
	if ref.typ() != RoomDirect && strings.Contains(strings.ToLower(ref.fname()), lower) {
		return true
	}
	if ref.typ() == RoomDirect {
		for _, s := range ref.subs() {
			if u := ws.UserByID(s.uid); u != nil && strings.Contains(strings.ToLower(u.Username), lower) {
				return true
			}
		}
	}
	return false
}

// roomsAdminRoomsGetRoomQuery is isRoomsAdminRoomsGetRoomProps: rid only.
var roomsAdminRoomsGetRoomQuery = &schema{
	coerce: true,
	closed: true,
	props:  []prop{{name: keyRID, kind: kString, nullable: true}},
}

// roomsAdminRoomsGetRoom serves rooms.adminRooms.getRoom (findAdminRoom):
// the room's admin fields merged with success, any type, no access check;
// an unknown rid is failure('not-allowed', 'Not Allowed').
func (s *Server) roomsAdminRoomsGetRoom(c *call) reply {
	if !c.ws.hasPermission(c.user, permViewRoomAdministration, nil) {
		return failure(errNotAuthorized)
	}
	ref := c.ws.roomRefByID(str(c.query, keyRID))
	if ref == nil {
		return failureTyped("not-allowed", "Not Allowed")
	}
	return success(pick(roomDoc(c.ws, ref), adminFields)...)
}

// roomsInfo serves rooms.info (rooms.ts): no query schema; roomId, else
// roomName (findRoomByIdOrName, archived rooms included); a caller who
// cannot access the room gets failure('not-allowed', 'Not Allowed'). The
// answer is the whole room document, then the team ({_id, name, type,
// roomId}) for rooms of a team, then the parent: a discussion's parent room
// ({_id, fname, prid, name, t, u}), else the team's main room ({_id, fname,
// name, t}) for a room inside a team (Team.getRoomInfo in
// apps/meteor/server/services/team/service.ts).
func (s *Server) roomsInfo(c *call) reply {
	q := c.query
	_, hasID := q[keyRoomID]
	_, hasName := q[keyRoomName]
	if !hasID && !hasName || hasID && !truthy(q[keyRoomID]) && hasName && !truthy(q[keyRoomName]) {
		return meteorError("error-roomid-param-not-provided", msgRoomParamGroup, nil)
	}
	var ref *roomRef
	if hasID {
		ref = c.ws.roomRefByID(str(q, keyRoomID))
	} else {
		ref = c.ws.roomRefByName(str(q, keyRoomName))
	}
	if ref == nil {
		return meteorError(errorTypeRoomNotFound, msgNoSuchChannel, nil)
	}
	if !c.ws.canAccessRoom(ref, c.user) {
		return failureTyped("not-allowed", "Not Allowed")
	}
	fields := []field{{"room", roomDoc(c.ws, ref)}}
	var team *Team
	if tid := ref.teamID(); tid != "" {
		team = c.ws.TeamByID(tid)
	}
	if team != nil {
		fields = append(fields, field{"team", object{{keyID, team.ID}, {keyName, team.Name}, {keyType, team.Type}, {keyRoomID, team.RoomID}}})
	}
	// parent = discussionParent || parentRoom.
	var parent object
	if discussionParent := c.ws.roomRefByID(ref.prid()); discussionParent != nil {
		parent = pick(roomDoc(c.ws, discussionParent), []string{keyID, keyName, keyFName, keyRoomType, keyPrid, "u"})
	} else if team != nil && !ref.teamMain() {
		parent = pick(roomDoc(c.ws, &roomRef{team: team}), []string{keyID, keyName, keyFName, keyRoomType})
	}
	if parent != nil {
		fields = append(fields, field{"parent", parent})
	}
	return success(fields...)
}

// ---------------------------------------------------------------------------
// channels.members, groups.members

// roomMembers serves channels.members and groups.members. channels.members
// finds the room without the archived check, then answers 403 when the
// caller cannot access it (canAccessRoom); groups.members goes through
// findPrivateGroupByIdOrName (error-room-not-found, archived refused). Both
// refuse a broadcast room to callers without view-broadcast-member-list
// (room-scoped), then read pagination and sort, then check status ([String])
// and filter (String) with Meteor's check. The members are findUsersOfRoom
// (apps/meteor/server/lib/findUsersOfRoom.ts →
// Users.findPaginatedByActiveUsersExcept): active users with a username whose
// __rooms holds the room — the server keeps __rooms for channels and groups
// only, so an omnichannel room lists nobody — filtered by filter on
// Accounts_SearchFields ("username, name, bio, nickname"), sorted by
// statusConnection descending then username (sort may only replace the
// username direction), projected to _id, username, status, _updatedAt,
// name, nickname, federated.
func (s *Server) roomMembers(kind roomKind) func(*call) reply {
	return func(c *call) reply {
		var ref *roomRef
		var bad *reply
		if kind == kindGroup {
			ref, bad = findGroup(c.ws, c.user, c.query, true)
		} else if ref, bad = findChannel(c.ws, c.query, false); bad == nil && !c.ws.canAccessRoom(ref, c.user) {
			return forbidden()
		}
		if bad != nil {
			return *bad
		}
		if ref.broadcast() && !c.ws.hasRoomPermission(c.user, permViewBroadcastMemberList, ref) {
			return forbidden()
		}
		offset, count := s.pagination(c.query)
		keys, badSort := parseSort(c.query)
		if badSort != nil {
			return *badSort
		}
		for _, k := range []string{keyStatus, keyFilter} {
			v, present := c.query[k]
			if !present {
				continue
			}
			_, isString := v.(string)
			if k == keyStatus && isString || k == keyFilter && !isString {
				return failure("Match error: Failed Match.OneOf, Match.Maybe or Match.Optional validation in field " + k)
			}
		}
		statuses, filterStatus := c.query[keyStatus].([]string)
		filter := strings.ToLower(str(c.query, keyFilter))
		dir := 1
		for _, k := range keys {
			if k.field == keyUsername {
				dir = k.dir
			}
		}

		var users []*User
		if ref.typ() != RoomLivechat && ref.typ() != RoomDirect {
			for _, sub := range ref.subs() {
				u := c.ws.UserByID(sub.uid)
				switch {
				case u == nil || !u.Active || u.Username == "",
					filterStatus && !slices.Contains(statuses, u.userStatus()),
					filter != "" && !memberMatches(u, filter):
					continue
				}
				users = append(users, u)
			}
		}
		sortBy(users, []sortKey{{keyStatusConnection, -1}, {keyUsername, dir}}, func(u *User, f string) any {
			if f == keyStatusConnection {
				if u.userStatus() == statusOffline {
					return statusOffline
				}
				return statusOnline
			}
			return userField(u, f)
		})
		total := len(users)
		users = page(users, offset, count)
		keep := fieldSet(keyUsername, keyStatus, keyUpdatedAt, keyName, keyNickname, keyFederated)
		items := make([]object, len(users))
		for i, u := range users {
			items[i] = userDoc(u, keep)
		}
		return success(field{keyMembers, items}, field{keyCount, len(items)}, field{keyOffset, offset}, field{keyTotal, total})
	}
}

// memberMatches is the filter's case-insensitive regex on the search fields.
func memberMatches(u *User, lower string) bool {
	for _, v := range []string{u.Username, u.Name, u.Bio, u.Nickname} {
		if strings.Contains(strings.ToLower(v), lower) {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// channels.roles, groups.roles

// channelsRoles serves channels.roles: the validateParams check
// (isChannelsRolesProps: roomId xor roomName, nothing else), then
// findChannelByIdOrName with the archived check, then getRoomRoles.
func (s *Server) channelsRoles(c *call) reply {
	if msgs := validateOneOf(c.query, channelsRolesBranches...); msgs != nil {
		return legacyInvalidParams(msgs)
	}
	ref, bad := findChannel(c.ws, c.query, true)
	if bad != nil {
		return *bad
	}
	return roomRoles(c, ref)
}

// groupsRoles serves groups.roles: findPrivateGroupByIdOrName, then getRoomRoles.
func (s *Server) groupsRoles(c *call) reply {
	ref, bad := findGroup(c.ws, c.user, c.query, true)
	if bad != nil {
		return *bad
	}
	return roomRoles(c, ref)
}

// roomRoles is executeGetRoomRoles
// (apps/meteor/server/meteor-methods/rooms/getRoomRoles.ts): a caller who
// cannot access the room gets error-invalid-user; then getRoomRoles
// (apps/meteor/server/lib/roles/getRoomRoles.ts) lists the subscriptions
// holding a Subscriptions-scope role with a non-empty description, sorted
// by u.username, projected to _id, rid, u and roles (all the
// subscription's roles).
func roomRoles(c *call, ref *roomRef) reply {
	if !c.ws.canAccessRoom(ref, c.user) {
		return meteorError(errorTypeInvalidUser, msgInvalidUserReason, methodDetails("getRoomRoles"))
	}
	var listed []string
	for _, r := range c.ws.Roles {
		if r.Scope == scopeSubscriptions && r.Description != "" {
			listed = append(listed, r.ID)
		}
	}
	type holder struct {
		sub subRef
		u   *User
	}
	var holders []holder
	for _, sub := range ref.subs() {
		if !slices.ContainsFunc(*sub.roles, func(r string) bool { return slices.Contains(listed, r) }) {
			continue
		}
		holders = append(holders, holder{sub, c.ws.UserByID(sub.uid)})
	}
	sortBy(holders, []sortKey{{keyUsername, 1}}, func(h holder, _ string) any {
		if h.u == nil {
			return nil
		}
		return optString(h.u.Username)
	})
	items := make([]object, len(holders))
	for i, h := range holders {
		u := object{{keyID, h.sub.uid}}
		if h.u != nil {
			u = u.with(keyUsername, h.u.Username)
			if h.u.Name != "" {
				u = u.with(keyName, h.u.Name)
			}
		}
		items[i] = object{{keyID, derivedID(ref.id(), h.sub.uid)}, {keyRID, ref.id()}, {"u", u}, {keyRoles, *h.sub.roles}}
	}
	return success(field{keyRoles, items})
}

// ---------------------------------------------------------------------------
// channels.invite, groups.invite

// channelsInvite serves channels.invite: findChannelByIdOrName (archived
// refused), getUserListFromParams, failure('invalid-user-invite-list',
// 'Cannot invite if no users are provided') when none of them exists (error
// and errorType as the server swaps them), addUsersToRoomMethod, then the
// room document under "channel".
func (s *Server) channelsInvite(c *call) reply {
	ref, bad := findChannel(c.ws, c.body, true)
	if bad != nil {
		return *bad
	}
	users, bad := usersFromListParams(c.ws, c.body)
	if bad != nil {
		return *bad
	}
	if len(users) == 0 {
		return failureTyped("invalid-user-invite-list", "Cannot invite if no users are provided")
	}
	if rep := addUsersToRoom(c, ref, users); rep != nil {
		return *rep
	}
	return success(field{keyChannel, roomDoc(c.ws, ref)})
}

// groupsInvite serves groups.invite (groups.ts): the room is looked up by
// Rooms.findOneByIdOrName(roomId || roomName) with no access and no archived
// check; error-empty-invite-list when none of the users exists; then the
// room document under "group".
func (s *Server) groupsInvite(c *call) reply {
	idOrName := str(c.body, keyRoomID)
	if idOrName == "" {
		idOrName = str(c.body, keyRoomName)
	}
	if strings.TrimSpace(idOrName) == "" {
		return meteorError("error-room-param-not-provided", msgRoomParamGroup, nil)
	}
	ref := c.ws.roomRefByIDOrName(idOrName)
	if ref == nil || ref.typ() != RoomPrivate {
		return meteorError(errorTypeRoomNotFound, msgNoSuchGroup, nil)
	}
	users, bad := usersFromListParams(c.ws, c.body)
	if bad != nil {
		return *bad
	}
	if len(users) == 0 {
		return meteorError("error-empty-invite-list", "Cannot invite if no valid users are provided", nil)
	}
	if rep := addUsersToRoom(c, ref, users); rep != nil {
		return *rep
	}
	return success(field{"group", roomDoc(c.ws, ref)})
}

// addUsersToRoom is addUsersToRoomMethod
// (apps/meteor/server/meteor-methods/rooms/addUsersToRoom.ts): the caller may
// add to a room it is subscribed to with add-user-to-joined-room (room-scoped),
// else to any public room with add-user-to-any-c-room, to any private room
// with add-user-to-any-p-room (no role holds it by default), else
// error-not-allowed. Users without a username are dropped. A user already
// subscribed is left alone (the caller only gets an ephemeral "already in
// here" message), so inviting a member succeeds without change. Others go
// through addUserToRoom (apps/meteor/server/lib/rooms/addUserToRoom.ts),
// which has no check on the invitee's active status: deactivated users are
// subscribed too. The subscription records now and the caller as inviter;
// on a team main room Team.addMember also writes the membership row. (A
// federated room of the model has no federation object, so it is not
// "native" and takes this same path.)
func addUsersToRoom(c *call, ref *roomRef, users []*User) *reply {
	joined := ref.sub(c.user.ID) != nil
	allowed := joined && c.ws.hasRoomPermission(c.user, permAddUserToJoinedRoom, ref) ||
		ref.typ() == RoomPublic && c.ws.hasPermission(c.user, permAddUserToAnyCRoom, nil) ||
		ref.typ() == RoomPrivate && c.ws.hasPermission(c.user, permAddUserToAnyPRoom, nil)
	if !allowed {
		r := meteorError(errorTypeNotAllowed, msgNotAllowed, methodDetails("addUsersToRoom"))
		return &r
	}
	now := c.now.UTC().Truncate(time.Millisecond)
	for _, u := range users {
		if u.Username == "" || ref.sub(u.ID) != nil {
			continue
		}
		ref.subscribe(u.ID, c.user, now)
	}
	return nil
}

// ---------------------------------------------------------------------------
// channels.kick, groups.kick

// channelsKick serves channels.kick: the validateParams check
// (isChannelsKickProps: roomId or roomName, with userId, nothing else),
// findChannelByIdOrName (archived refused), getUserFromParams, 'Invalid
// user' for a user without username, removeUserFromRoomMethod, then the
// room document under "channel".
func (s *Server) channelsKick(c *call) reply {
	if msgs := validateOneOf(c.body, channelsKickBranches...); msgs != nil {
		return legacyInvalidParams(msgs)
	}
	ref, bad := findChannel(c.ws, c.body, true)
	if bad != nil {
		return *bad
	}
	if rep := kick(c, ref); rep != nil {
		return *rep
	}
	return success(field{keyChannel, roomDoc(c.ws, ref)})
}

// groupsKick serves groups.kick: getRoomFromParams (any private room, no
// access and no archived check), then as channels.kick, answering a bare
// success.
func (s *Server) groupsKick(c *call) reply {
	ref, bad := groupFromParams(c.ws, c.body)
	if bad != nil {
		return *bad
	}
	if rep := kick(c, ref); rep != nil {
		return *rep
	}
	return success()
}

// kick resolves the target and runs removeUserFromRoomMethod
// (apps/meteor/server/meteor-methods/rooms/removeUserFromRoom.ts):
// remove-user (room-scoped) or error-not-allowed; in a federated room a
// subscribed caller must also be its owner or moderator
// (Federation.actionAllowed); then kick-user-from-any-c-room (public rooms)
// or kick-user-from-any-p-room (others; no role holds it by default) lets
// the caller kick from any room — without it the caller must be able to
// access the room (else error-room-not-found) and the target must be
// subscribed (else error-user-not-in-room); with it kicking a non-member
// succeeds and changes nothing. (Room.beforeUserRemoved blocks federated
// rooms only while federation is enabled but not ready; it is off by
// default.) Removing the last owner is
// error-you-are-last-owner. A team main room also loses the membership row
// (Team.removeMember).
func kick(c *call, ref *roomRef) *reply {
	target, bad := targetFromParams(c.ws, c.body)
	if bad != nil {
		return bad
	}
	if target.Username == "" {
		r := failure(msgInvalidUserReason)
		return &r
	}
	notAllowed := func() *reply {
		r := meteorError(errorTypeNotAllowed, msgNotAllowed, methodDetails("removeUserFromRoom"))
		return &r
	}
	if !c.ws.hasRoomPermission(c.user, permRemoveUser, ref) {
		return notAllowed()
	}
	if !memberActionAllowed(ref, c.user, "remove-user") {
		return notAllowed()
	}
	kickAny := permKickUserFromAnyPRoom
	if ref.typ() == RoomPublic {
		kickAny = permKickUserFromAnyCRoom
	}
	canKickAny := c.ws.hasPermission(c.user, kickAny, nil)
	if !canKickAny && !c.ws.canAccessRoom(ref, c.user) {
		r := meteorError(errorTypeRoomNotFound, msgNoSuchGroup, nil)
		return &r
	}
	sub := ref.sub(target.ID)
	if !canKickAny && sub == nil {
		r := meteorError(errorTypeUserNotInRoom, msgUserNotInRoom, methodDetails("removeUserFromRoom"))
		return &r
	}
	if sub != nil && slices.Contains(*sub.roles, roleOwner) && ref.ownerCount() == 1 {
		r := meteorError("error-you-are-last-owner", "You are the last owner. Please set new owner before leaving the room.",
			methodDetails("removeUserFromRoom"))
		return &r
	}
	if sub != nil {
		ref.unsubscribe(target.ID)
	}
	return nil
}

// memberActionAllowed is the room type's allowMemberAction
// (apps/meteor/server/lib/rooms/roomTypes/*.ts): channels and groups allow
// everything but blocking; omnichannel rooms only inviting and joining; in
// a federated room Federation.actionAllowed lets an unsubscribed caller
// through and a subscribed one only as owner or moderator.
func memberActionAllowed(ref *roomRef, u *User, action string) bool {
	if ref.typ() == RoomLivechat {
		return action == "invite" || action == "join"
	}
	if ref.federated() {
		s := ref.sub(u.ID)
		return s == nil || slices.Contains(*s.roles, roleOwner) || slices.Contains(*s.roles, roleModerator)
	}
	return true
}

// ---------------------------------------------------------------------------
// addOwner, removeOwner, addModerator, removeModerator, addLeader, removeLeader

// roomRoleOp is one of the six room-role methods.
type roomRoleOp struct {
	method string // the Meteor method, named in error details
	role   string
	add    bool
	perm   string
	// federatedBypass: the method skips its permission check in a federated
	// room (addRoomOwner, addRoomModerator, removeRoomOwner,
	// removeRoomModerator; not the leader methods).
	federatedBypass bool
	// alreadyCode/notCode are the errors for a role already held / not held.
	alreadyCode, alreadyMsg string
	notCode, notMsg         string
}

var roomRoleOps = map[string]roomRoleOp{
	"addOwner": {method: "addRoomOwner", role: roleOwner, add: true, perm: permSetOwner, federatedBypass: true,
		alreadyCode: "error-user-already-owner", alreadyMsg: "User is already an owner"},
	"removeOwner": {method: "removeRoomOwner", role: roleOwner, perm: permSetOwner, federatedBypass: true,
		notCode: "error-user-not-owner", notMsg: "User is not an owner"},
	"addModerator": {method: "addRoomModerator", role: roleModerator, add: true, perm: permSetModerator, federatedBypass: true,
		alreadyCode: "error-user-already-moderator", alreadyMsg: "User is already a moderator"},
	"removeModerator": {method: "removeRoomModerator", role: roleModerator, perm: permSetModerator, federatedBypass: true,
		notCode: "error-user-not-moderator", notMsg: "User is not a moderator"},
	"addLeader": {method: "addRoomLeader", role: roleLeader, add: true, perm: permSetLeader,
		alreadyCode: "error-user-already-leader", alreadyMsg: "User is already a leader"},
	"removeLeader": {method: "removeRoomLeader", role: roleLeader, perm: permSetLeader,
		notCode: "error-user-not-leader", notMsg: "User is not a leader"},
}

// roomRoleRoute serves channels.<action> and groups.<action> for the six
// role actions: none validates its body. channels.* find the room with
// findChannelByIdOrName, groups.* with findPrivateGroupByIdOrName (so a
// caller who cannot access a private group gets error-room-not-found before
// any permission check, admins included); both refuse archived rooms. Then
// getUserFromParams, then the method; success is a bare {"success":true}.
func (s *Server) roomRoleRoute(kind roomKind, action string) func(*call) reply {
	op := roomRoleOps[action]
	return func(c *call) reply {
		var ref *roomRef
		var bad *reply
		if kind == kindGroup {
			ref, bad = findGroup(c.ws, c.user, c.body, true)
		} else {
			ref, bad = findChannel(c.ws, c.body, true)
		}
		if bad != nil {
			return *bad
		}
		target, bad := targetFromParams(c.ws, c.body)
		if bad != nil {
			return *bad
		}
		if rep := changeRoomRole(c, ref, target, op); rep != nil {
			return *rep
		}
		return success()
	}
}

// changeRoomRole runs one of addRoomOwner, removeRoomOwner, addRoomModerator,
// removeRoomModerator, addRoomLeader, removeRoomLeader
// (apps/meteor/server/meteor-methods/rooms/<method>.ts). In order:
//   - the permission (set-owner, set-moderator, set-leader), room-scoped so
//     a room owner holds it, else error-not-allowed; the owner and moderator
//     methods skip it in a federated room, and adding an owner or a moderator
//     there then fails as federation is off (a plain Error, 400 without
//     errorType);
//   - a target without username: error-invalid-user;
//   - a target not subscribed: error-user-not-in-room, except
//     removeRoomOwner and removeRoomModerator, which say error-invalid-room;
//   - adding a role already held: error-user-already-<role>;
//   - removing: removeRoomOwner needs the role (error-user-not-owner, also
//     when the subscription has no roles field) and refuses the last owner
//     (error-remove-last-owner, counting the room's subscriptions with owner);
//     removeRoomModerator and removeRoomLeader refuse only a subscription
//     whose roles lack the role — one without a roles field passes and
//     nothing changes.
//
// Roles are $addToSet / $pull on the subscription; on a team main room
// Team.addRolesToMember / removeRolesFromMember update the membership row,
// which the model keeps as the same role set.
func changeRoomRole(c *call, ref *roomRef, target *User, op roomRoleOp) *reply {
	fail := func(code, msg string) *reply {
		r := meteorError(code, msg, methodDetails(op.method))
		return &r
	}
	federated := op.federatedBypass && ref.federated()
	if !federated && !c.ws.hasRoomPermission(c.user, op.perm, ref) {
		return fail(errorTypeNotAllowed, msgNotAllowed)
	}
	if federated && op.add {
		r := failure("Federation configuration is invalid,unable to change room owners")
		return &r
	}
	if target.Username == "" {
		return fail(errorTypeInvalidUser, msgInvalidUserReason)
	}
	sub := ref.sub(target.ID)
	if sub == nil {
		if !op.add && op.role != roleLeader {
			return fail(errorTypeInvalidRoom, msgInvalidRoom)
		}
		return fail(errorTypeUserNotInRoom, msgUserNotInRoom)
	}
	roles := sub.roles
	if op.add {
		if slices.Contains(*roles, op.role) {
			return fail(op.alreadyCode, op.alreadyMsg)
		}
		addRoles(roles, []string{op.role})
		return nil
	}
	switch {
	case op.role == roleOwner && !slices.Contains(*roles, roleOwner):
		return fail(op.notCode, op.notMsg)
	case op.role != roleOwner && *roles != nil && !slices.Contains(*roles, op.role):
		return fail(op.notCode, op.notMsg)
	}
	if op.role == roleOwner && ref.ownerCount() == 1 {
		return fail("error-remove-last-owner", "This is the last owner. Please set a new owner before removing this one.")
	}
	if *roles != nil {
		*roles = slices.DeleteFunc(*roles, func(r string) bool { return r == op.role })
	}
	return nil
}
