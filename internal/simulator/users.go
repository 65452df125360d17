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
	keyID, keyCreatedAt, keyUsername, keyEmails, keyType, keyStatus, keyActive, keyRoles, keyUpdatedAt,
	keyName, keyRequirePasswordChange, keyLastLogin, keyStatusConnection, keyNickname, keyBio,
	keyFederated, keyFederation, keySettings,
}

// userDoc renders the projected fields of u that are set.
func userDoc(u *User, keep func(string) bool) object {
	var o object
	for _, f := range userFieldOrder {
		if f != keyID && !keep(f) {
			continue
		}
		switch f {
		case keyID:
			o = o.with(f, u.ID)
		case keyCreatedAt:
			if !u.CreatedAt.IsZero() {
				o = o.with(f, isoTime(u.CreatedAt))
			}
		case keyUsername:
			if u.Username != "" {
				o = o.with(f, u.Username)
			}
		case keyEmails:
			if len(u.Emails) > 0 {
				emails := make([]object, len(u.Emails))
				for i, e := range u.Emails {
					emails[i] = object{{"address", e.Address}, {"verified", e.Verified}}
				}
				o = o.with(f, emails)
			}
		case keyType:
			o = o.with(f, u.userType())
		case keyStatus:
			o = o.with(f, u.userStatus())
		case keyActive:
			o = o.with(f, u.Active)
		case keyRoles:
			o = o.with(f, nonNil(u.Roles))
		case keyUpdatedAt:
			o = o.with(f, isoTime(updatedAt(u)))
		case keyName:
			if u.Name != "" {
				o = o.with(f, u.Name)
			}
		case keyRequirePasswordChange:
			o = o.with(f, u.RequirePasswordChange)
		case keyLastLogin:
			if u.LastLogin != nil {
				o = o.with(f, isoTime(*u.LastLogin))
			}
		case keyStatusConnection:
			conn := statusOffline
			if u.userStatus() != statusOffline {
				conn = statusOnline
			}
			o = o.with(f, conn)
		case keyNickname:
			if u.Nickname != "" {
				o = o.with(f, u.Nickname)
			}
		case keyBio:
			if u.Bio != "" {
				o = o.with(f, u.Bio)
			}
		case keyFederated:
			if u.Federated {
				o = o.with(f, true)
			}
		case keyFederation:
			if u.Federated && u.FederationOrigin != "" {
				o = o.with(f, object{{keyVersion, 1}, {"mui", u.Username}, {"origin", u.FederationOrigin}})
			}
		case keySettings:
			o = o.with(f, object{{keyProfile, object{}}})
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
	case keyID:
		return u.ID
	case keyUsername:
		return optString(u.Username)
	case keyName:
		return optString(u.Name)
	case keyNameInsensitive:
		return strings.ToLower(u.Name)
	case keyStatus:
		return u.userStatus()
	case keyActive:
		return u.Active
	case keyType:
		return u.userType()
	case keyCreatedAt:
		return u.CreatedAt
	case keyLastLogin:
		if u.LastLogin != nil {
			return *u.LastLogin
		}
	case keyEmails, "emails.address":
		if len(u.Emails) > 0 {
			return u.Emails[0].Address
		}
	case keyNickname:
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
		{name: keyFields, kind: kString, nullable: true},
		{name: keyQuery, kind: kString, nullable: true},
		{name: keyCount, kind: kNumber, nullable: true},
		{name: keyOffset, kind: kNumber, nullable: true},
		{name: keySort, kind: kString, nullable: true},
		{name: keyEmail, kind: kString, nullable: true},
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
	canFull := c.ws.hasPermission(c.user, permViewFullOtherUserInfo, nil)
	offset, count := s.pagination(c.query)
	keys, bad := parseSort(c.query)
	if bad != nil {
		return *bad
	}
	email := str(c.query, keyEmail)
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
		keys = []sortKey{{keyUsername, 1}}
	} else {
		// users.list adds these keys after the caller's own.
		for _, k := range slices.Clone(keys) {
			switch k.field {
			case keyStatus:
				keys = append(keys, sortKey{keyActive, k.dir})
			case keyName:
				keys = append(keys, sortKey{keyNameInsensitive, k.dir})
			}
		}
	}
	sortBy(users, keys, userField)
	total := len(users)
	users = page(users, offset, count)

	fields := []string{keyUsername, keyName, keyStatus, keyActive, keyType}
	if canFull {
		fields = append(fields, keyEmails, keyRoles, keyLastLogin)
	}
	keep := fieldSet(fields...)
	items := make([]object, len(users))
	for i, u := range users {
		items[i] = userDoc(u, keep).with(keyNameInsensitive, strings.ToLower(u.Name))
	}
	return success(field{keyUsers, items}, field{keyCount, len(items)}, field{keyOffset, offset}, field{keyTotal, total})
}

// viewOutsideRoomCheck is the first thing users.list and users.listByStatus
// do (apps/meteor/server/api/v1/users.ts): with
// API_Apply_permission_view-outside-room_on_users-list on, a caller without
// view-outside-room (global roles only) gets API.v1.forbidden().
func (s *Server) viewOutsideRoomCheck(c *call) *reply {
	if s.opts.ApplyViewOutsideRoomOnUsersList && !c.ws.hasPermission(c.user, permViewOutsideRoom, nil) {
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

var inactiveReasons = []string{inactiveDeactivated, inactivePendingApproval, inactiveIdleTooLong}

// Values of users.listByStatus's status parameter.
const (
	listStatusActive      = "active"
	listStatusDeactivated = "deactivated"
)

// usersListByStatusQuery is UsersListStatusParamsGET
// (packages/rest-typings/src/v1/users/UsersListStatusParamsGET.ts);
// inactiveReason joined it in 8.0, so older servers refuse it as unknown.
func (s *Server) usersListByStatusQuery() *schema {
	sc := &schema{
		coerce: true,
		closed: true,
		props: []prop{
			{name: keyStatus, kind: kString, enum: []string{listStatusActive, listStatusDeactivated}},
			{name: "hasLoggedIn", kind: kBoolean, nullable: true},
			{name: keyType, kind: kString, nullable: true},
			{name: keyRoles, kind: kStringArray, nullable: true},
			{name: "searchTerm", kind: kString, nullable: true},
			{name: keySort, kind: kString, nullable: true},
			{name: keyCount, kind: kNumber, nullable: true},
			{name: keyOffset, kind: kNumber, nullable: true},
		},
	}
	if !s.versionBefore(8, 0) {
		sc.props = append(sc.props, prop{name: "inactiveReason", kind: kStringArray, nullable: true, enum: inactiveReasons})
	}
	return sc
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
	canFull := c.ws.hasPermission(c.user, permViewFullOtherUserInfo, nil)
	q := c.query
	status := str(q, keyStatus)
	hasLoggedIn, filterLogin := q["hasLoggedIn"].(bool)
	typ := str(q, keyType)
	roles, _ := stringItems(q[keyRoles])
	if slices.Contains(roles, "all") {
		roles = nil
	}
	term := strings.ToLower(strings.TrimSpace(str(q, "searchTerm")))
	reasons, filterReason := stringItems(q["inactiveReason"])
	// Users without the field match too when these reasons are asked for:
	// the server keeps that for pre-inactiveReason data, and it also lets
	// active users through.
	reasonless := slices.Contains(reasons, inactiveDeactivated) || slices.Contains(reasons, inactiveIdleTooLong)

	var users []*User
	for _, u := range c.ws.Users {
		switch {
		case status == listStatusActive && !u.Active,
			status == listStatusDeactivated && u.Active,
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
		keys = []sortKey{{keyUsername, 1}}
	} else if i := slices.IndexFunc(keys, func(k sortKey) bool { return k.field == keyStatus }); i >= 0 {
		dir := keys[i].dir
		keys = append(slices.Delete(slices.Clone(keys), i, i+1), sortKey{keyActive, dir})
	}
	sortBy(users, keys, func(u *User, f string) any {
		if f == keyNameInsensitive {
			return nil // not stored on user documents
		}
		return userField(u, f)
	})
	total := len(users)
	users = page(users, offset, count)
	keep := fieldSet(keyName, keyUsername, keyEmails, keyRoles, keyStatus, keyActive, keyLastLogin, keyType, keyFederated)
	items := make([]object, len(users))
	for i, u := range users {
		items[i] = userDoc(u, keep)
	}
	return success(field{keyUsers, items}, field{keyCount, len(items)}, field{keyOffset, offset}, field{keyTotal, total})
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
	for _, key := range []string{keyUserID, keyUsername, keyImportID, keyEmail, keyFreeSwitchExtension} {
		sc.anyOf = append(sc.anyOf, &schema{
			closed:   true,
			required: []string{key},
			props: []prop{
				{name: key, kind: kString},
				{name: "includeUserRooms", kind: kString},
				{name: keyFields, kind: kString, nullable: true},
			},
		})
	}
	return sc
}()

// usersInfo serves users.info (getFullUserDataByUniqueSearchTerm).
func (s *Server) usersInfo(c *call) reply {
	var term, kind string
	for _, k := range [][2]string{{keyUserID, "id"}, {keyUsername, keyUsername}, {keyImportID, keyImportID}, {keyEmail, keyEmail}, {keyFreeSwitchExtension, keyFreeSwitchExtension}} {
		if v := str(c.query, k[0]); v != "" {
			term, kind = v, k[1]
			break
		}
	}
	if kind == "" {
		return failure("Invalid search query.")
	}
	me := c.user
	myself := kind == "id" && term == me.ID || kind == keyUsername && term == me.Username || kind == keyEmail && hasEmail(me, term)
	canViewAll := myself || c.ws.hasPermission(me, permViewFullOtherUserInfo, nil)
	if (kind == keyImportID || kind == keyEmail) && !canViewAll {
		return failure("User not found.")
	}
	var u *User
	switch kind {
	case "id", keyUsername:
		// findOneByIdOrUsername: either key matches either field (ids
		// and usernames do not collide).
		u = c.ws.userByIDOrUsername(term)
	case keyEmail:
		u = c.ws.userByEmail(term)
	}
	if u == nil {
		return failure("User not found.")
	}

	fields := []string{keyName, keyUsername, keyNickname, keyStatus, keyType, keyActive, keyBio, keyFederated}
	if canViewAll {
		fields = append(fields, keyEmails, keyStatusConnection, keyCreatedAt, keyLastLogin, keyRequirePasswordChange, keyRoles)
	}
	doc := userDoc(u, fieldSet(fields...))
	if myself {
		services := object{}
		if u.Password != "" {
			services = services.with(keyPassword, true)
		}
		doc = doc.with("services", services)
	}
	doc = doc.with("canViewAllInfo", canViewAll)
	if str(c.query, "includeUserRooms") == "true" && (u.ID == me.ID || c.ws.hasPermission(me, permViewOtherUserChannels, nil)) {
		doc = doc.with("rooms", userRooms(c.ws, u))
	}
	return success(field{keyUser, doc})
}

// userRooms lists every subscription of u, as users.info's includeUserRooms
// reads them (apps/meteor/server/api/v1/users.ts: Subscriptions.findByUserId
// projected to rid, name, t, roles, unread, federated and sorted {t: 1,
// name: 1}): channels, private groups, team main rooms (plain subscribers'
// too), discussions, direct messages and omnichannel rooms, whatever the
// user's or the room's state. The subscription's name is the room's name;
// for a direct message the other members' usernames joined by ", " in
// display-name order, the user's own for a DM with itself
// (app/lib/server/functions/createDirectRoom.ts); for an omnichannel room
// its fname. Fields keep the subscription document's order:
// createWithRoomAndUser (packages/models/src/models/Subscriptions.ts) writes
// unread before rid, name and t, and roles come after; createDirectRoom
// upserts by rid, so rid leads there. unread is not modelled (0).
func userRooms(ws *Workspace, u *User) []object {
	type sub struct {
		ref   *roomRef
		name  string
		roles []string
	}
	var subs []sub
	for _, ref := range ws.subscribedRooms(u.ID) {
		s := ref.sub(u.ID)
		if s == nil {
			continue
		}
		name := ref.name()
		switch ref.typ() {
		case RoomDirect:
			name = directSubscriptionName(ws, ref, u)
		case RoomLivechat:
			name = ref.fname()
		}
		subs = append(subs, sub{ref, name, *s.roles})
	}
	sortBy(subs, []sortKey{{keyRoomType, 1}, {keyName, 1}}, func(x sub, f string) any {
		if f == keyRoomType {
			return x.ref.typ()
		}
		return optString(x.name)
	})
	out := make([]object, len(subs))
	for i, x := range subs {
		rid, t := x.ref.id(), x.ref.typ()
		o := object{{keyID, derivedID(rid, u.ID)}}
		switch t {
		case RoomDirect:
			o = append(o, field{keyRID, rid}, field{keyUnread, 0}, field{keyRoomType, t})
			if x.name != "" {
				o = o.with(keyName, x.name)
			}
		default:
			o = append(o, field{keyUnread, 0}, field{keyRID, rid}, field{keyName, x.name}, field{keyRoomType, t})
		}
		if x.roles != nil {
			o = o.with(keyRoles, x.roles)
		}
		out[i] = o
	}
	return out
}

// directSubscriptionName is the name createDirectRoom gives u's
// subscription: the other members' usernames in display-name order.
func directSubscriptionName(ws *Workspace, ref *roomRef, u *User) string {
	var others []*User
	for _, s := range ref.subs() {
		if m := ws.UserByID(s.uid); m != nil && m.ID != u.ID {
			others = append(others, m)
		}
	}
	if len(others) == 0 {
		return u.Username
	}
	slices.SortStableFunc(others, func(a, b *User) int {
		return strings.Compare(strings.ToLower(displayOrUsername(a)), strings.ToLower(displayOrUsername(b)))
	})
	var names []string
	for _, m := range others {
		if m.Username != "" {
			names = append(names, m.Username)
		}
	}
	return strings.Join(names, ", ")
}

var usersListTeamsQuery = &schema{
	closed:   true,
	required: []string{keyUserID},
	props:    []prop{{name: keyUserID, kind: kString}},
}

// usersListTeams serves users.listTeams; without view-all-teams the caller
// sees the user's public teams and only those private teams it shares.
func (s *Server) usersListTeams(c *call) reply {
	uid := str(c.query, keyUserID)
	seeAll := c.ws.hasPermission(c.user, permViewAllTeams, nil)
	teams := []object{}
	for _, t := range c.ws.Teams {
		m := t.member(uid)
		if m == nil {
			continue
		}
		if !seeAll && t.Type == teamPrivate && t.member(c.user.ID) == nil {
			continue
		}
		teams = append(teams, teamDoc(t).with("isOwner", slices.Contains(m.Roles, roleOwner)))
	}
	return success(field{"teams", teams})
}

// me serves GET me (getUserInfo over the default user fields).
func (s *Server) me(c *call) reply {
	u := c.user
	doc := userDoc(u, fieldSet(keyUsername, keyEmails, keyStatus, keyActive, keyRoles, keyUpdatedAt, keyName,
		keyRequirePasswordChange, keyStatusConnection, keyNickname, keyBio, keyFederated))
	for _, e := range u.Emails {
		if e.Verified {
			doc = doc.with(keyEmail, e.Address)
			break
		}
	}
	doc = doc.with(keySettings, object{{keyProfile, object{}}, {"preferences", object{}}, {"calendar", object{}}})
	doc = doc.with("avatarUrl", "http://"+c.r.Host+"/avatar/"+url.PathEscape(u.Username))
	doc = doc.with("isOAuthUser", false)
	doc = doc.with("services", object{{keyPassword, object{{"exists", u.Password != ""}}}})
	return success(doc...)
}
