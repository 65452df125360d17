package simulator

import (
	"slices"
	"strings"
	"time"
)

// teamDoc renders an ITeam.
func teamDoc(t *Team) object {
	return object{
		{keyID, t.ID}, {keyName, t.Name}, {keyType, t.Type}, {keyCreatedAt, isoTime(t.CreatedAt)},
		{"createdBy", object{{keyID, t.CreatedByID}, {keyUsername, t.CreatedByUsername}}},
		{keyUpdatedAt, isoTime(t.CreatedAt)}, {keyRoomID, t.RoomID},
	}
}

// teamInfoDoc adds the counts teams.list and teams.listAll compute: rooms
// other than the main room (the model has none) and membership rows,
// deactivated members included.
func teamInfoDoc(t *Team) object {
	return teamDoc(t).with("rooms", 0).with("numberOfUsers", len(t.Members))
}

func teamField(t *Team, f string) any {
	switch f {
	case keyID:
		return t.ID
	case keyName:
		return t.Name
	case keyType:
		return float64(t.Type)
	case keyCreatedAt, keyUpdatedAt:
		return t.CreatedAt
	case keyRoomID:
		return t.RoomID
	}
	return nil
}

// teamsListAll serves teams.listAll (permission view-all-teams, checked by
// route middleware): every team in storage order; sort is not read.
func (s *Server) teamsListAll(c *call) reply {
	offset, count := s.pagination(c.query)
	return teamsPage(c.ws.Teams, offset, count)
}

// teamsList serves teams.list: the caller's own teams only.
func (s *Server) teamsList(c *call) reply {
	offset, count := s.pagination(c.query)
	keys, bad := parseSort(c.query)
	if bad != nil {
		return *bad
	}
	var teams []*Team
	for _, t := range c.ws.Teams {
		if t.member(c.user.ID) != nil {
			teams = append(teams, t)
		}
	}
	if keys != nil {
		sortBy(teams, keys, teamField)
	}
	return teamsPage(teams, offset, count)
}

func teamsPage(teams []*Team, offset, count int) reply {
	total := len(teams)
	teams = page(teams, offset, count)
	items := make([]object, len(teams))
	for i, t := range teams {
		items[i] = teamInfoDoc(t)
	}
	return success(field{"teams", items}, field{keyTotal, total}, field{keyCount, len(items)}, field{keyOffset, offset})
}

// teamSelector is the teamId-xor-teamName part of the team schemas.
var teamSelector = [][]string{{keyTeamID}, {keyTeamName}}

var teamsInfoQuery = &schema{
	closed: true,
	oneOf:  teamSelector,
	props:  []prop{{name: keyTeamID, kind: kString}, {name: keyTeamName, kind: kString}},
}

// teamByIDOrName mirrors getTeamByIdOrName: teamId wins when non-empty.
func teamByIDOrName(ws *Workspace, p map[string]any) *Team {
	if id := str(p, keyTeamID); id != "" {
		return ws.TeamByID(id)
	}
	if name := str(p, keyTeamName); name != "" {
		return ws.teamByName(name)
	}
	return nil
}

// teamsInfo serves teams.info: visible to whoever can access the main room
// (anyone allowed to view public rooms, subscribers of private ones) or
// holds view-all-teams.
func (s *Server) teamsInfo(c *call) reply {
	t := teamByIDOrName(c.ws, c.query)
	if t == nil {
		return failure("Team not found")
	}
	canAccess := t.subscribed(c.user.ID) ||
		t.Type == teamPublic && c.ws.hasPermission(c.user, permViewCRoom, nil) ||
		c.ws.hasPermission(c.user, permViewAllTeams, nil)
	if !canAccess {
		return forbidden()
	}
	return success(field{"teamInfo", teamDoc(t)})
}

var userStatuses = []string{statusOnline, statusAway, statusOffline, statusBusy, statusDisabled}

var teamsMembersQuery = &schema{
	coerce: true,
	closed: true,
	oneOf:  teamSelector,
	props: []prop{
		{name: keyTeamID, kind: kString},
		{name: keyTeamName, kind: kString},
		{name: keyUsername, kind: kString},
		{name: keyStatus, kind: kStringArray, enum: userStatuses},
		{name: keyName, kind: kString},
		{name: keyCount, kind: kNumber, nullable: true},
		{name: keyOffset, kind: kNumber, nullable: true},
		{name: keySort, kind: kString, nullable: true},
	},
}

// teamsMembers serves teams.members. Only active users are listed, and a
// caller who is neither a member nor holds view-all-teams (team-scoped)
// gets an empty page rather than an error.
func (s *Server) teamsMembers(c *call) reply {
	offset, count := s.pagination(c.query)
	t := teamByIDOrName(c.ws, c.query)
	if t == nil {
		return failure(msgTeamDoesNotExist)
	}
	canSeeAll := c.ws.hasPermission(c.user, permViewAllTeams, t)
	if t.member(c.user.ID) == nil && !canSeeAll {
		return success(field{keyMembers, []object{}}, field{keyTotal, 0}, field{keyCount, 0}, field{keyOffset, offset})
	}
	username := strings.ToLower(str(c.query, keyUsername))
	name := strings.ToLower(str(c.query, keyName))
	statuses, _ := stringItems(c.query[keyStatus])

	type row struct {
		m TeamMember
		u *User
	}
	var rows []row
	for _, m := range t.Members {
		u := c.ws.UserByID(m.UserID)
		switch {
		case u == nil || !u.Active,
			username != "" && !strings.Contains(strings.ToLower(u.Username), username),
			name != "" && !strings.Contains(strings.ToLower(u.Name), name),
			len(statuses) > 0 && !slices.Contains(statuses, u.userStatus()):
			continue
		}
		rows = append(rows, row{m, u})
	}
	total := len(rows)
	rows = page(rows, offset, count)
	items := make([]object, len(rows))
	for i, r := range rows {
		user := object{{keyID, r.u.ID}}
		if r.u.Username != "" {
			user = user.with(keyUsername, r.u.Username)
		}
		if r.u.Name != "" {
			user = user.with(keyName, r.u.Name)
		}
		user = user.with(keyStatus, r.u.userStatus()).with(keySettings, object{{keyProfile, object{}}})
		o := object{{keyUser, user}}
		if r.m.Roles != nil {
			o = o.with(keyRoles, r.m.Roles)
		}
		byID, byName := r.m.CreatedByID, r.m.CreatedByUsername
		if byID == "" {
			byID, byName = t.CreatedByID, t.CreatedByUsername
		}
		items[i] = o.with("createdBy", object{{keyID, byID}, {keyUsername, byName}}).with(keyCreatedAt, isoTime(r.m.CreatedAt))
	}
	return success(field{keyMembers, items}, field{keyTotal, total}, field{keyCount, len(items)}, field{keyOffset, offset})
}

// memberItemsCheck validates members[] of teams.addMembers.
func memberItemsCheck(v any) []string {
	items := v.([]any)
	if len(items) < 1 {
		return []string{"must NOT have fewer than 1 items"}
	}
	for i, it := range items {
		if e := memberSchema.validate(it); e != nil {
			return e
		}
		for _, prev := range items[:i] {
			if sameMember(prev, it) {
				return []string{"must NOT have duplicate items"}
			}
		}
	}
	return nil
}

var memberSchema = &schema{
	closed:   true,
	required: []string{keyUserID},
	props: []prop{
		{name: keyUserID, kind: kString},
		{name: keyRoles, kind: kStringArray, nullable: true},
	},
}

func sameMember(a, b any) bool {
	ma, mb := a.(map[string]any), b.(map[string]any)
	ra, _ := stringItems(ma[keyRoles])
	rb, _ := stringItems(mb[keyRoles])
	return ma[keyUserID] == mb[keyUserID] && (ma[keyRoles] == nil) == (mb[keyRoles] == nil) && slices.Equal(ra, rb)
}

var teamsAddMembersBody = &schema{
	closed:   true,
	oneOf:    teamSelector,
	required: []string{keyMembers},
	props: []prop{
		{name: keyTeamID, kind: kString},
		{name: keyTeamName, kind: kString},
		{name: keyMembers, kind: kArray, check: memberItemsCheck},
	},
}

// teamsAddMembers serves teams.addMembers (Team.addMembers in
// apps/meteor/server/services/team/service.ts). Each member goes through
// addUserToRoom (apps/meteor/server/lib/rooms/addUserToRoom.ts) on the main
// room, which returns early for a user already subscribed to it; only an
// unsubscribed user gets a subscription and, through Team.addMember, a
// membership row. The given roles are then added (never replaced) to the
// membership row and to the subscription, each only if it exists. So the
// call is idempotent for members, and for a user subscribed without a
// membership row it succeeds while adding no membership: the roles land on
// the subscription only.
func (s *Server) teamsAddMembers(c *call) reply {
	t := teamByIDOrName(c.ws, c.body)
	if t == nil {
		return failure(msgTeamDoesNotExist)
	}
	if !c.ws.hasPermission(c.user, permAddTeamMember, t) && !c.ws.hasPermission(c.user, permEditTeamMember, t) {
		return forbidden()
	}
	// Members are processed one by one, so those before an unknown user stay added.
	for _, it := range c.body[keyMembers].([]any) {
		item := it.(map[string]any)
		uid := str(item, keyUserID)
		if c.ws.UserByID(uid) == nil {
			return meteorError("user-not-found", "", nil)
		}
		if !t.subscribed(uid) {
			t.Members = append(t.Members, TeamMember{
				UserID:            uid,
				CreatedAt:         c.now.UTC().Truncate(time.Millisecond),
				CreatedByID:       c.user.ID,
				CreatedByUsername: c.user.Username,
			})
		}
		if roles, ok := stringItems(item[keyRoles]); ok && item[keyRoles] != nil {
			// addRolesToMember and addRolesToSubscription; the model keeps
			// a member's two role sets as one.
			addRoles(t.subscriptionRoles(uid), roles)
		}
	}
	return success()
}

// addRoles is $addToSet of roles on an existing roles field; the field is
// created when missing.
func addRoles(dst *[]string, roles []string) {
	if *dst == nil {
		*dst = []string{}
	}
	for _, r := range roles {
		if !slices.Contains(*dst, r) {
			*dst = append(*dst, r)
		}
	}
}

var teamsUpdateMemberBody = &schema{
	closed:   true,
	oneOf:    teamSelector,
	required: []string{"member"},
	props: []prop{
		{name: keyTeamID, kind: kString},
		{name: keyTeamName, kind: kString},
		{name: "member", kind: kObject, check: func(v any) []string { return memberSchema.validate(v) }},
	},
}

// teamsUpdateMember serves teams.updateMember (Team.updateMember): the
// roles given replace those of the membership row and of the main-room
// subscription (null or absent clears them), with no last-owner guard, and
// an unknown or non-member userId still succeeds — a plain subscriber's
// subscription roles are replaced all the same.
func (s *Server) teamsUpdateMember(c *call) reply {
	t := teamByIDOrName(c.ws, c.body)
	if t == nil {
		return failure(msgTeamDoesNotExist)
	}
	if !c.ws.hasPermission(c.user, permEditTeamMember, t) {
		return forbidden()
	}
	member := c.body["member"].(map[string]any)
	uid := str(member, keyUserID)
	if uid == "" {
		return failure(msgInvalidUser)
	}
	if r := t.subscriptionRoles(uid); r != nil {
		roles, _ := stringItems(member[keyRoles])
		*r = append([]string{}, roles...)
	}
	return success()
}

var teamsRemoveMemberBody = &schema{
	closed:   true,
	oneOf:    teamSelector,
	required: []string{keyUserID},
	props: []prop{
		{name: keyTeamID, kind: kString},
		{name: keyTeamName, kind: kString},
		{name: keyUserID, kind: kString},
		{name: "rooms", kind: kStringArray, nullable: true, check: func(v any) []string {
			if items, _ := stringItems(v); len(items) < 1 {
				return []string{"must NOT have fewer than 1 items"}
			}
			return nil
		}},
	},
}

// teamsRemoveMember serves teams.removeMember (Team.removeMembers).
// Deactivated users cannot be removed (invalid-user), and the last owner
// stays. The membership row goes, then removeUserFromRoom drops the
// main-room subscription; a user with only a subscription is removed from
// the room all the same, and only a user with neither is
// member-does-not-exist.
func (s *Server) teamsRemoveMember(c *call) reply {
	t := teamByIDOrName(c.ws, c.body)
	if t == nil {
		return failure(msgTeamDoesNotExist)
	}
	if !c.ws.hasPermission(c.user, permEditTeamMember, t) {
		return forbidden()
	}
	uid := str(c.body, keyUserID)
	if u := c.ws.UserByID(uid); u == nil || !u.Active {
		return failure(msgInvalidUser)
	}
	m := t.member(uid)
	if m == nil && t.subscriber(uid) == nil {
		return failure("member-does-not-exist")
	}
	if m != nil && slices.Contains(m.Roles, roleOwner) && t.ownerCount() == 1 {
		return failure("last-owner-can-not-be-removed")
	}
	t.removeMember(uid)
	t.unsubscribe(uid)
	return success()
}
