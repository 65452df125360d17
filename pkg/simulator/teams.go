package simulator

import (
	"slices"
	"strings"
	"time"
)

// teamDoc renders an ITeam.
func teamDoc(t *Team) object {
	return object{
		{"_id", t.ID}, {"name", t.Name}, {"type", t.Type}, {"createdAt", isoTime(t.CreatedAt)},
		{"createdBy", object{{"_id", t.CreatedByID}, {"username", t.CreatedByUsername}}},
		{"_updatedAt", isoTime(t.CreatedAt)}, {"roomId", t.RoomID},
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
	case "_id":
		return t.ID
	case "name":
		return t.Name
	case "type":
		return float64(t.Type)
	case "createdAt", "_updatedAt":
		return t.CreatedAt
	case "roomId":
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
	return success(field{"teams", items}, field{"total", total}, field{"count", len(items)}, field{"offset", offset})
}

// teamSelector is the teamId-xor-teamName part of the team schemas.
var teamSelector = [][]string{{"teamId"}, {"teamName"}}

var teamsInfoQuery = &schema{
	closed: true,
	oneOf:  teamSelector,
	props:  []prop{{name: "teamId", kind: kString}, {name: "teamName", kind: kString}},
}

// teamByIDOrName mirrors getTeamByIdOrName: teamId wins when non-empty.
func teamByIDOrName(ws *Workspace, p map[string]any) *Team {
	if id := str(p, "teamId"); id != "" {
		return ws.TeamByID(id)
	}
	if name := str(p, "teamName"); name != "" {
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
		t.Type == teamPublic && c.ws.hasPermission(c.user, "view-c-room", nil) ||
		c.ws.hasPermission(c.user, "view-all-teams", nil)
	if !canAccess {
		return forbidden()
	}
	return success(field{"teamInfo", teamDoc(t)})
}

var userStatuses = []string{"online", "away", "offline", "busy", "disabled"}

var teamsMembersQuery = &schema{
	coerce: true,
	closed: true,
	oneOf:  teamSelector,
	props: []prop{
		{name: "teamId", kind: kString},
		{name: "teamName", kind: kString},
		{name: "username", kind: kString},
		{name: "status", kind: kStringArray, enum: userStatuses},
		{name: "name", kind: kString},
		{name: "count", kind: kNumber, nullable: true},
		{name: "offset", kind: kNumber, nullable: true},
		{name: "sort", kind: kString, nullable: true},
	},
}

// teamsMembers serves teams.members. Only active users are listed, and a
// caller who is neither a member nor holds view-all-teams (team-scoped)
// gets an empty page rather than an error.
func (s *Server) teamsMembers(c *call) reply {
	offset, count := s.pagination(c.query)
	t := teamByIDOrName(c.ws, c.query)
	if t == nil {
		return failure("team-does-not-exist")
	}
	canSeeAll := c.ws.hasPermission(c.user, "view-all-teams", t)
	if t.member(c.user.ID) == nil && !canSeeAll {
		return success(field{"members", []object{}}, field{"total", 0}, field{"count", 0}, field{"offset", offset})
	}
	username := strings.ToLower(str(c.query, "username"))
	name := strings.ToLower(str(c.query, "name"))
	statuses, _ := stringItems(c.query["status"])

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
		user := object{{"_id", r.u.ID}}
		if r.u.Username != "" {
			user = user.with("username", r.u.Username)
		}
		if r.u.Name != "" {
			user = user.with("name", r.u.Name)
		}
		user = user.with("status", r.u.userStatus()).with("settings", object{{"profile", object{}}})
		o := object{{"user", user}}
		if r.m.Roles != nil {
			o = o.with("roles", r.m.Roles)
		}
		byID, byName := r.m.CreatedByID, r.m.CreatedByUsername
		if byID == "" {
			byID, byName = t.CreatedByID, t.CreatedByUsername
		}
		items[i] = o.with("createdBy", object{{"_id", byID}, {"username", byName}}).with("createdAt", isoTime(r.m.CreatedAt))
	}
	return success(field{"members", items}, field{"total", total}, field{"count", len(items)}, field{"offset", offset})
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
	required: []string{"userId"},
	props: []prop{
		{name: "userId", kind: kString},
		{name: "roles", kind: kStringArray, nullable: true},
	},
}

func sameMember(a, b any) bool {
	ma, mb := a.(map[string]any), b.(map[string]any)
	ra, _ := stringItems(ma["roles"])
	rb, _ := stringItems(mb["roles"])
	return ma["userId"] == mb["userId"] && (ma["roles"] == nil) == (mb["roles"] == nil) && slices.Equal(ra, rb)
}

var teamsAddMembersBody = &schema{
	closed:   true,
	oneOf:    teamSelector,
	required: []string{"members"},
	props: []prop{
		{name: "teamId", kind: kString},
		{name: "teamName", kind: kString},
		{name: "members", kind: kArray, check: memberItemsCheck},
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
		return failure("team-does-not-exist")
	}
	if !c.ws.hasPermission(c.user, "add-team-member", t) && !c.ws.hasPermission(c.user, "edit-team-member", t) {
		return forbidden()
	}
	// Members are processed one by one, so those before an unknown user stay added.
	for _, it := range c.body["members"].([]any) {
		item := it.(map[string]any)
		uid := str(item, "userId")
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
		if roles, ok := stringItems(item["roles"]); ok && item["roles"] != nil {
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
		{name: "teamId", kind: kString},
		{name: "teamName", kind: kString},
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
		return failure("team-does-not-exist")
	}
	if !c.ws.hasPermission(c.user, "edit-team-member", t) {
		return forbidden()
	}
	member := c.body["member"].(map[string]any)
	uid := str(member, "userId")
	if uid == "" {
		return failure("invalid-user")
	}
	if r := t.subscriptionRoles(uid); r != nil {
		roles, _ := stringItems(member["roles"])
		*r = append([]string{}, roles...)
	}
	return success()
}

var teamsRemoveMemberBody = &schema{
	closed:   true,
	oneOf:    teamSelector,
	required: []string{"userId"},
	props: []prop{
		{name: "teamId", kind: kString},
		{name: "teamName", kind: kString},
		{name: "userId", kind: kString},
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
		return failure("team-does-not-exist")
	}
	if !c.ws.hasPermission(c.user, "edit-team-member", t) {
		return forbidden()
	}
	uid := str(c.body, "userId")
	if u := c.ws.UserByID(uid); u == nil || !u.Active {
		return failure("invalid-user")
	}
	m := t.member(uid)
	if m == nil && t.subscriber(uid) == nil {
		return failure("member-does-not-exist")
	}
	if m != nil && slices.Contains(m.Roles, "owner") && t.ownerCount() == 1 {
		return failure("last-owner-can-not-be-removed")
	}
	t.removeMember(uid)
	t.unsubscribe(uid)
	return success()
}
