package simulator

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// userField names, in the order Rocket.Chat documents carry them; projections
// keep this order so bodies look like the real ones.
var userFieldOrder = []string{
	"_id", "createdAt", "username", "emails", "type", "status", "active", "roles", "_updatedAt",
	"name", "requirePasswordChange", "lastLogin", "statusConnection", "nickname", "bio",
	"federated", "federation", "settings",
}

// userDoc renders the projected fields of u that are set.
func userDoc(u *User, keep func(string) bool) object {
	var o object
	for _, f := range userFieldOrder {
		if f != "_id" && !keep(f) {
			continue
		}
		switch f {
		case "_id":
			o = o.with(f, u.ID)
		case "createdAt":
			if !u.CreatedAt.IsZero() {
				o = o.with(f, isoTime(u.CreatedAt))
			}
		case "username":
			if u.Username != "" {
				o = o.with(f, u.Username)
			}
		case "emails":
			if len(u.Emails) > 0 {
				emails := make([]object, len(u.Emails))
				for i, e := range u.Emails {
					emails[i] = object{{"address", e.Address}, {"verified", e.Verified}}
				}
				o = o.with(f, emails)
			}
		case "type":
			o = o.with(f, u.userType())
		case "status":
			o = o.with(f, u.userStatus())
		case "active":
			o = o.with(f, u.Active)
		case "roles":
			o = o.with(f, nonNil(u.Roles))
		case "_updatedAt":
			o = o.with(f, isoTime(updatedAt(u)))
		case "name":
			if u.Name != "" {
				o = o.with(f, u.Name)
			}
		case "requirePasswordChange":
			o = o.with(f, u.RequirePasswordChange)
		case "lastLogin":
			if u.LastLogin != nil {
				o = o.with(f, isoTime(*u.LastLogin))
			}
		case "statusConnection":
			conn := "offline"
			if u.userStatus() != "offline" {
				conn = "online"
			}
			o = o.with(f, conn)
		case "nickname":
			if u.Nickname != "" {
				o = o.with(f, u.Nickname)
			}
		case "bio":
			if u.Bio != "" {
				o = o.with(f, u.Bio)
			}
		case "federated":
			if u.Federated {
				o = o.with(f, true)
			}
		case "federation":
			if u.Federated && u.FederationOrigin != "" {
				o = o.with(f, object{{"version", 1}, {"mui", u.Username}, {"origin", u.FederationOrigin}})
			}
		case "settings":
			o = o.with(f, object{{"profile", object{}}})
		}
	}
	return o
}

func fieldSet(names ...string) func(string) bool {
	return func(f string) bool { return slices.Contains(names, f) }
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// updatedAt stands in for _updatedAt, which the model does not track.
func updatedAt(u *User) time.Time {
	if u.LastLogin != nil && u.LastLogin.After(u.CreatedAt) {
		return *u.LastLogin
	}
	return u.CreatedAt
}

// userField reads a field for sorting; nil stands for a missing field.
func userField(u *User, f string) any {
	switch f {
	case "_id":
		return u.ID
	case "username":
		return optString(u.Username)
	case "name":
		return optString(u.Name)
	case "nameInsensitive":
		return strings.ToLower(u.Name)
	case "status":
		return u.userStatus()
	case "active":
		return u.Active
	case "type":
		return u.userType()
	case "createdAt":
		return u.CreatedAt
	case "lastLogin":
		if u.LastLogin != nil {
			return *u.LastLogin
		}
	case "emails", "emails.address":
		if len(u.Emails) > 0 {
			return u.Emails[0].Address
		}
	case "nickname":
		return optString(u.Nickname)
	}
	return nil
}

func optString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

var usersListQuery = &schema{
	coerce: true,
	closed: true,
	props: []prop{
		{name: "fields", kind: kString, nullable: true},
		{name: "query", kind: kString, nullable: true},
		{name: "count", kind: kNumber, nullable: true},
		{name: "offset", kind: kNumber, nullable: true},
		{name: "sort", kind: kString, nullable: true},
		{name: "email", kind: kString, nullable: true},
	},
}

// usersList serves users.list: default filter "has a username or a name"
// (or an email, for privileged callers), sorted by username. Without
// view-full-other-user-info the projection loses emails, roles and
// lastLogin; createdAt and federated are never part of it.
func (s *Server) usersList(c *call) reply {
	if rep := s.viewOutsideRoomCheck(c); rep != nil {
		return *rep
	}
	canFull := c.ws.hasPermission(c.user, "view-full-other-user-info", nil)
	offset, count := s.pagination(c.query)
	keys, bad := parseSort(c.query)
	if bad != nil {
		return *bad
	}
	email := str(c.query, "email")
	if email != "" && !canFull {
		return forbidden()
	}

	var users []*User
	for _, u := range c.ws.Users {
		if u.Username == "" && u.Name == "" && (!canFull || len(u.Emails) == 0) {
			continue
		}
		if email != "" && !hasEmail(u, email) {
			continue
		}
		users = append(users, u)
	}
	if keys == nil {
		keys = []sortKey{{"username", 1}}
	} else {
		// users.list adds these keys after the caller's own.
		for _, k := range slices.Clone(keys) {
			switch k.field {
			case "status":
				keys = append(keys, sortKey{"active", k.dir})
			case "name":
				keys = append(keys, sortKey{"nameInsensitive", k.dir})
			}
		}
	}
	sortBy(users, keys, userField)
	total := len(users)
	users = page(users, offset, count)

	fields := []string{"username", "name", "status", "active", "type"}
	if canFull {
		fields = append(fields, "emails", "roles", "lastLogin")
	}
	keep := fieldSet(fields...)
	items := make([]object, len(users))
	for i, u := range users {
		items[i] = userDoc(u, keep).with("nameInsensitive", strings.ToLower(u.Name))
	}
	return success(field{"users", items}, field{"count", len(items)}, field{"offset", offset}, field{"total", total})
}

// viewOutsideRoomCheck is the first thing users.list and users.listByStatus
// do (apps/meteor/server/api/v1/users.ts): with
// API_Apply_permission_view-outside-room_on_users-list on, a caller without
// view-outside-room (global roles only) gets API.v1.forbidden().
func (s *Server) viewOutsideRoomCheck(c *call) *reply {
	if s.opts.ApplyViewOutsideRoomOnUsersList && !c.ws.hasPermission(c.user, "view-outside-room", nil) {
		r := forbidden()
		return &r
	}
	return nil
}

func hasEmail(u *User, addr string) bool {
	addr = strings.TrimSpace(addr)
	for _, e := range u.Emails {
		if strings.EqualFold(strings.TrimSpace(e.Address), addr) {
			return true
		}
	}
	return false
}

var inactiveReasons = []string{"deactivated", "pending_approval", "idle_too_long"}

var usersListByStatusQuery = &schema{
	coerce: true,
	closed: true,
	props: []prop{
		{name: "status", kind: kString, enum: []string{"active", "deactivated"}},
		{name: "hasLoggedIn", kind: kBoolean, nullable: true},
		{name: "type", kind: kString, nullable: true},
		{name: "roles", kind: kStringArray, nullable: true},
		{name: "searchTerm", kind: kString, nullable: true},
		{name: "sort", kind: kString, nullable: true},
		{name: "count", kind: kNumber, nullable: true},
		{name: "offset", kind: kNumber, nullable: true},
		{name: "inactiveReason", kind: kStringArray, nullable: true, enum: inactiveReasons},
	},
}

// usersListByStatus serves users.listByStatus (findPaginatedUsersByStatus):
// no default filter, and emails, roles, lastLogin and federated come back
// whatever the caller's permissions.
func (s *Server) usersListByStatus(c *call) reply {
	if rep := s.viewOutsideRoomCheck(c); rep != nil {
		return *rep
	}
	offset, count := s.pagination(c.query)
	keys, bad := parseSort(c.query)
	if bad != nil {
		return *bad
	}
	canFull := c.ws.hasPermission(c.user, "view-full-other-user-info", nil)
	q := c.query
	status := str(q, "status")
	hasLoggedIn, filterLogin := q["hasLoggedIn"].(bool)
	typ := str(q, "type")
	roles, _ := stringItems(q["roles"])
	if slices.Contains(roles, "all") {
		roles = nil
	}
	term := strings.ToLower(strings.TrimSpace(str(q, "searchTerm")))
	reasons, filterReason := stringItems(q["inactiveReason"])
	// Users without the field match too when these reasons are asked for:
	// the server keeps that for pre-inactiveReason data, and it also lets
	// active users through.
	reasonless := slices.Contains(reasons, "deactivated") || slices.Contains(reasons, "idle_too_long")

	var users []*User
	for _, u := range c.ws.Users {
		switch {
		case status == "active" && !u.Active,
			status == "deactivated" && u.Active,
			filterLogin && (u.LastLogin != nil) != hasLoggedIn,
			typ != "" && u.userType() != typ,
			len(roles) > 0 && !slices.ContainsFunc(u.Roles, func(r string) bool { return slices.Contains(roles, r) }),
			term != "" && !matchesTerm(u, term, canFull),
			filterReason && !reasonMatches(u.InactiveReason, reasons, reasonless):
			continue
		}
		users = append(users, u)
	}
	if keys == nil {
		keys = []sortKey{{"username", 1}}
	} else if i := slices.IndexFunc(keys, func(k sortKey) bool { return k.field == "status" }); i >= 0 {
		dir := keys[i].dir
		keys = append(slices.Delete(slices.Clone(keys), i, i+1), sortKey{"active", dir})
	}
	sortBy(users, keys, func(u *User, f string) any {
		if f == "nameInsensitive" {
			return nil // not stored on user documents
		}
		return userField(u, f)
	})
	total := len(users)
	users = page(users, offset, count)
	keep := fieldSet("name", "username", "emails", "roles", "status", "active", "lastLogin", "type", "federated")
	items := make([]object, len(users))
	for i, u := range users {
		items[i] = userDoc(u, keep)
	}
	return success(field{"users", items}, field{"count", len(items)}, field{"offset", offset}, field{"total", total})
}

// reasonMatches is the inactiveReason filter: $in the list, or — when
// reasonless is set — no inactiveReason at all.
func reasonMatches(reason string, reasons []string, reasonless bool) bool {
	if reason == "" {
		return reasonless
	}
	return slices.Contains(reasons, reason)
}

func matchesTerm(u *User, term string, withEmails bool) bool {
	if strings.Contains(strings.ToLower(u.Username), term) || strings.Contains(strings.ToLower(u.Name), term) {
		return true
	}
	if withEmails {
		for _, e := range u.Emails {
			if strings.Contains(strings.ToLower(e.Address), term) {
				return true
			}
		}
	}
	return false
}

// usersInfoQuery is the 8.x anyOf: exactly one lookup key per branch.
var usersInfoQuery = func() *schema {
	sc := &schema{}
	for _, key := range []string{"userId", "username", "importId", "email", "freeSwitchExtension"} {
		sc.anyOf = append(sc.anyOf, &schema{
			closed:   true,
			required: []string{key},
			props: []prop{
				{name: key, kind: kString},
				{name: "includeUserRooms", kind: kString},
				{name: "fields", kind: kString, nullable: true},
			},
		})
	}
	return sc
}()

// usersInfo serves users.info (getFullUserDataByUniqueSearchTerm).
func (s *Server) usersInfo(c *call) reply {
	var term, kind string
	for _, k := range [][2]string{{"userId", "id"}, {"username", "username"}, {"importId", "importId"}, {"email", "email"}, {"freeSwitchExtension", "freeSwitchExtension"}} {
		if v := str(c.query, k[0]); v != "" {
			term, kind = v, k[1]
			break
		}
	}
	if kind == "" {
		return failure("Invalid search query.")
	}
	me := c.user
	myself := kind == "id" && term == me.ID || kind == "username" && term == me.Username || kind == "email" && hasEmail(me, term)
	canViewAll := myself || c.ws.hasPermission(me, "view-full-other-user-info", nil)
	if (kind == "importId" || kind == "email") && !canViewAll {
		return failure("User not found.")
	}
	var u *User
	switch kind {
	case "id", "username":
		// findOneByIdOrUsername: either key matches either field.
		for _, x := range c.ws.Users {
			if x.ID == term || x.Username == term {
				u = x
				break
			}
		}
	case "email":
		u = c.ws.userByEmail(term)
	}
	if u == nil {
		return failure("User not found.")
	}

	fields := []string{"name", "username", "nickname", "status", "type", "active", "bio", "federated"}
	if canViewAll {
		fields = append(fields, "emails", "statusConnection", "createdAt", "lastLogin", "requirePasswordChange", "roles")
	}
	doc := userDoc(u, fieldSet(fields...))
	if myself {
		services := object{}
		if u.Password != "" {
			services = services.with("password", true)
		}
		doc = doc.with("services", services)
	}
	doc = doc.with("canViewAllInfo", canViewAll)
	if str(c.query, "includeUserRooms") == "true" && (u.ID == me.ID || c.ws.hasPermission(me, "view-other-user-channels", nil)) {
		doc = doc.with("rooms", userRooms(c.ws, u))
	}
	return success(field{"user", doc})
}

// userRooms lists u's team main-room subscriptions (Subscriptions.findByUserId,
// so plain subscribers' rooms too), sorted by type then name.
func userRooms(ws *Workspace, u *User) []object {
	type sub struct {
		t     string
		team  *Team
		roles []string
	}
	var subs []sub
	for _, t := range ws.Teams {
		if roles := t.subscriptionRoles(u.ID); roles != nil {
			typ := "c"
			if t.Type == teamPrivate {
				typ = "p"
			}
			subs = append(subs, sub{typ, t, *roles})
		}
	}
	slices.SortStableFunc(subs, func(a, b sub) int {
		if c := strings.Compare(a.t, b.t); c != 0 {
			return c
		}
		return strings.Compare(a.team.Name, b.team.Name)
	})
	out := make([]object, len(subs))
	for i, x := range subs {
		o := object{{"_id", derivedID(x.team.RoomID, u.ID)}, {"rid", x.team.RoomID}, {"name", x.team.Name}, {"t", x.t}}
		if x.roles != nil {
			o = o.with("roles", x.roles)
		}
		out[i] = o.with("unread", 0)
	}
	return out
}

var usersListTeamsQuery = &schema{
	closed:   true,
	required: []string{"userId"},
	props:    []prop{{name: "userId", kind: kString}},
}

// usersListTeams serves users.listTeams; without view-all-teams the caller
// sees the user's public teams and only those private teams it shares.
func (s *Server) usersListTeams(c *call) reply {
	uid := str(c.query, "userId")
	seeAll := c.ws.hasPermission(c.user, "view-all-teams", nil)
	teams := []object{}
	for _, t := range c.ws.Teams {
		m := t.member(uid)
		if m == nil {
			continue
		}
		if !seeAll && t.Type == teamPrivate && t.member(c.user.ID) == nil {
			continue
		}
		teams = append(teams, teamDoc(t).with("isOwner", slices.Contains(m.Roles, "owner")))
	}
	return success(field{"teams", teams})
}

// me serves GET me (getUserInfo over the default user fields).
func (s *Server) me(c *call) reply {
	u := c.user
	doc := userDoc(u, fieldSet("username", "emails", "status", "active", "roles", "_updatedAt", "name",
		"requirePasswordChange", "statusConnection", "nickname", "bio", "federated"))
	for _, e := range u.Emails {
		if e.Verified {
			doc = doc.with("email", e.Address)
			break
		}
	}
	doc = doc.with("settings", object{{"profile", object{}}, {"preferences", object{}}, {"calendar", object{}}})
	doc = doc.with("avatarUrl", "http://"+c.r.Host+"/avatar/"+url.PathEscape(u.Username))
	doc = doc.with("isOAuthUser", false)
	doc = doc.with("services", object{{"password", object{{"exists", u.Password != ""}}}})
	return success(doc...)
}
