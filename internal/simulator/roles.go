package simulator

import (
	"slices"
	"sort"
	"time"
)

// seededAt is when the built-in records were last updated, for _updatedAt
// fields the model does not track.
var seededAt = time.Date(2024, 1, 15, 9, 0, 0, 0, time.UTC)

// roleDoc renders an IRole; withUpdated adds _updatedAt, which roles.list
// projects away.
func roleDoc(r *Role, withUpdated bool) object {
	o := object{
		{keyID, r.ID}, {keyName, r.Name}, {"scope", r.Scope}, {"description", r.Description},
		{"protected", r.Protected}, {"mandatory2fa", r.Mandatory2FA},
	}
	if withUpdated {
		o = o.with(keyUpdatedAt, isoTime(seededAt))
	}
	return o
}

// rolesList serves roles.list: every role, unpaginated.
func (s *Server) rolesList(c *call) reply {
	roles := make([]object, len(c.ws.Roles))
	for i, r := range c.ws.Roles {
		roles[i] = roleDoc(r, false)
	}
	return success(field{keyRoles, roles})
}

var permissionsListAllQuery = &schema{
	closed: true,
	props:  []prop{{name: "updatedSince", kind: kString}},
}

// permissionsListAll serves permissions.listAll.
func (s *Server) permissionsListAll(c *call) reply {
	since := time.Time{}
	if raw := str(c.query, "updatedSince"); raw != "" {
		t, ok := parseJSDate(raw)
		if !ok {
			return meteorError("error-roomId-param-invalid", `The "updatedSince" query parameter must be a valid date.`, nil)
		}
		since = t
	}
	ids := make([]string, 0, len(c.ws.Permissions))
	for id := range c.ws.Permissions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	update := []object{}
	if seededAt.After(since) {
		for _, id := range ids {
			update = append(update, object{{keyID, id}, {keyUpdatedAt, isoTime(seededAt)}, {keyRoles, nonNil(c.ws.Permissions[id])}})
		}
	}
	return success(field{"update", update}, field{"remove", []object{}})
}

// parseJSDate accepts the date forms clients send to Date.parse.
func parseJSDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

var getUsersInRoleQuery = &schema{
	coerce:   true,
	closed:   true,
	required: []string{keyRole},
	props: []prop{
		{name: keyRoomID, kind: kString, nullable: true},
		{name: keyRole, kind: kString},
		{name: keyCount, kind: kNumber, nullable: true},
		{name: keyOffset, kind: kNumber, nullable: true},
		{name: keySort, kind: kString, nullable: true},
		{name: keyQuery, kind: kString, nullable: true},
	},
}

// rolesGetUsersInRole serves roles.getUsersInRole. Since 8.0 role is a role
// _id; a room-scoped role without roomId matches holders in any room.
func (s *Server) rolesGetUsersInRole(c *call) reply {
	roomID, roleID := str(c.query, keyRoomID), str(c.query, keyRole)
	offset, count := s.pagination(c.query)
	if roleID == "" {
		return meteorError("error-param-not-provided", `Query param "role" is required`, nil)
	}
	if roomID != "" && !c.ws.hasPermission(c.user, permViewOtherUserChannels, nil) {
		return meteorError(errorTypeNotAllowed, "Not allowed", nil)
	}
	role := c.ws.RoleByID(roleID)
	if role == nil {
		return meteorError(errorTypeInvalidRoleID, "", nil)
	}
	var users []*User
	for _, u := range c.ws.Users {
		if userHasRole(c.ws, u, role, roomID, true) {
			users = append(users, u)
		}
	}
	sortBy(users, []sortKey{{keyUsername, 1}}, userField)
	total := len(users)
	users = page(users, offset, count)
	keep := fieldSet(keyName, keyUsername, keyEmails, keyCreatedAt, keyUpdatedAt)
	items := make([]object, len(users))
	for i, u := range users {
		items[i] = userDoc(u, keep)
	}
	return success(field{keyUsers, items}, field{keyTotal, total})
}

// userHasRole answers for a global role from the user's roles, for a room
// role from the user's subscription to the main room roomID (a member's
// roles or a plain subscriber's). With anyRoom, an empty roomID means any
// team; otherwise it matches nothing, as a subscription lookup without rid
// does.
func userHasRole(ws *Workspace, u *User, role *Role, roomID string, anyRoom bool) bool {
	if role.Scope != scopeSubscriptions {
		return slices.Contains(u.Roles, role.ID)
	}
	for _, t := range ws.Teams {
		if roomID == "" && !anyRoom || roomID != "" && t.RoomID != roomID {
			continue
		}
		if roles := t.subscriptionRoles(u.ID); roles != nil && slices.Contains(*roles, role.ID) {
			return true
		}
	}
	return false
}

var addUserToRoleBody = &schema{
	closed:   true,
	required: []string{keyUsername},
	props: []prop{
		{name: keyUsername, kind: kString},
		{name: "roleId", kind: kString},
		{name: keyRoomID, kind: kString, nullable: true},
	},
}

// rolesAddUserToRole serves roles.addUserToRole. The order of checks is the
// server's: the already-in-role test runs before the permission check, and
// permission failures are 400s.
func (s *Server) rolesAddUserToRole(c *call) reply {
	u, rep := userFromParams(c.ws, c.body)
	if rep != nil {
		return *rep
	}
	roleID, roomID := str(c.body, "roleId"), str(c.body, keyRoomID)
	if roleID == "" {
		return failure(msgInvalidRoleProperties)
	}
	role := c.ws.RoleByID(roleID)
	if role == nil {
		// Sic: the server passes message and type the other way round.
		return failureTyped("error-role-not-found", "Role not found")
	}
	if userHasRole(c.ws, u, role, roomID, false) {
		return meteorError("error-user-already-in-role", "User already in role", nil)
	}
	const method = "authorization:addUserToRole"
	if !c.ws.hasPermission(c.user, permAccessPermissions, nil) {
		return meteorError(errorTypeActionNotAllowed, "Accessing permissions is not allowed",
			methodDetails(method, field{keyAction, "Accessing_permissions"}))
	}
	if role.ID == roleAdmin && !c.ws.hasPermission(c.user, permAssignAdminRole, nil) {
		return meteorError(errorTypeActionNotAllowed, "Assigning admin is not allowed",
			methodDetails(method, field{keyAction, "Assign_admin"}))
	}
	var team *Team
	if roomID != "" && role.Scope == scopeSubscriptions {
		team = c.ws.teamByRoomID(roomID)
		// Roles.canAddUserToRole: the user must be subscribed to the room.
		if team == nil || !team.subscribed(u.ID) {
			return meteorError(errorTypeInvalidUser, "User is not part of given room", methodDetails(method))
		}
	}
	switch {
	case role.Scope != scopeSubscriptions:
		u.Roles = append(u.Roles, role.ID)
	case team != nil:
		roles := team.subscriptionRoles(u.ID)
		*roles = append(*roles, role.ID)
	}
	// A room role without roomId is accepted but lands nowhere, as on the server.
	return success(field{keyRole, roleDoc(role, true)})
}

var removeUserFromRoleBody = &schema{
	closed:   true,
	required: []string{keyUsername},
	props: []prop{
		{name: keyUsername, kind: kString},
		{name: "roleId", kind: kString},
		{name: keyRoomID, kind: kString, nullable: true},
		{name: "scope", kind: kString, nullable: true},
	},
}

// rolesRemoveUserFromRole serves roles.removeUserFromRole. The room goes in
// "scope"; the handler ignores roomId.
func (s *Server) rolesRemoveUserFromRole(c *call) reply {
	roleID, username, scope := str(c.body, "roleId"), str(c.body, keyUsername), str(c.body, "scope")
	if roleID == "" {
		return failure(msgInvalidRoleProperties)
	}
	u := c.ws.UserByUsername(username)
	if u == nil {
		return meteorError(errorTypeInvalidUser, "There is no user with this username", nil)
	}
	role := c.ws.RoleByID(roleID)
	if role == nil {
		return meteorError(errorTypeInvalidRoleID, "This role does not exist", nil)
	}
	if !userHasRole(c.ws, u, role, scope, false) {
		return meteorError("error-user-not-in-role", "User is not in this role", nil)
	}
	if role.ID == roleAdmin {
		holders := 0
		for _, x := range c.ws.Users {
			if slices.Contains(x.Roles, roleAdmin) {
				holders++
			}
		}
		if holders == 1 {
			return meteorError("error-admin-required", "You need to have at least one admin", nil)
		}
	}
	if role.Scope != scopeSubscriptions {
		u.Roles = slices.DeleteFunc(u.Roles, func(r string) bool { return r == role.ID })
	} else if t := c.ws.teamByRoomID(scope); t != nil {
		roles := t.subscriptionRoles(u.ID)
		*roles = slices.DeleteFunc(*roles, func(r string) bool { return r == role.ID })
	}
	return success(field{keyRole, roleDoc(role, true)})
}
