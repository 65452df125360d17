package simulator

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

var usersCreateBody = &schema{
	closed:   true,
	required: []string{keyEmail, keyName, keyPassword, keyUsername},
	props: []prop{
		{name: keyEmail, kind: kString},
		{name: keyName, kind: kString},
		{name: keyPassword, kind: kString},
		{name: keyUsername, kind: kString},
		{name: keyActive, kind: kBoolean, nullable: true},
		{name: keyBio, kind: kString, nullable: true},
		{name: keyNickname, kind: kString, nullable: true},
		{name: "statusText", kind: kString, nullable: true},
		{name: keyRoles, kind: kStringArray},
		{name: "joinDefaultChannels", kind: kBoolean, nullable: true},
		{name: keyRequirePasswordChange, kind: kBoolean, nullable: true},
		{name: "setRandomPassword", kind: kBoolean, nullable: true},
		{name: "sendWelcomeEmail", kind: kBoolean, nullable: true},
		{name: "verified", kind: kBoolean, nullable: true},
		{name: "customFields", kind: kObject},
		{name: keyFields, kind: kString, nullable: true},
		{name: keyFreeSwitchExtension, kind: kString, nullable: true},
		{name: "phones", kind: kArray, nullable: true},
	},
}

// defaultUsernameRE is UTF8_User_Names_Validation's default, [0-9a-zA-Z-_.]+.
var defaultUsernameRE = regexp.MustCompile(`^[0-9a-zA-Z\-_.]+$`)

// basicEmailRE is the default ('basic') style of validateEmail in
// packages/tools/src/validateEmail.ts, which validateEmailDomain
// (apps/meteor/app/lib/server/lib/validateEmailDomain.ts) applies to new
// users' addresses: one "@" with something on either side, nothing more. No
// trimming and no top-level-domain rule, so Rocket.Chat's own e2e addresses
// such as "apiuser.test@rocket.chat-1796111564845" pass.
var basicEmailRE = regexp.MustCompile(`^[^@]+@[^@]+$`)

// usersCreate serves users.create (saveUser → validateUserData →
// saveNewUser). Permission failures are 400s raised inside, not 403s.
func (s *Server) usersCreate(c *call) reply {
	b := c.body
	name, username, email, password := str(b, keyName), str(b, keyUsername), str(b, keyEmail), str(b, keyPassword)
	if name != "" && !validNameChars(name) {
		return failure("Name contains invalid characters")
	}
	const method = "insertOrUpdateUser"
	if !c.ws.hasPermission(c.user, permCreateUser, nil) {
		return meteorError(errorTypeActionNotAllowed, "Adding user is not allowed", methodDetails(method, field{keyAction, "Adding_user"}))
	}
	roles, _ := stringItems(b[keyRoles])
	for _, r := range roles {
		if c.ws.RoleByID(r) == nil {
			return meteorError(errorTypeActionNotAllowed, "The field Roles consist invalid role id", methodDetails(method, field{keyAction, "Assign_role"}))
		}
	}
	if slices.Contains(roles, roleAdmin) && !c.ws.hasPermission(c.user, permAssignAdminRole, nil) {
		return meteorError(errorTypeActionNotAllowed, "Assigning admin is not allowed", methodDetails(method, field{keyAction, "Assign_admin"}))
	}
	required := func(fieldName string) reply {
		return meteorError("error-the-field-is-required", "The field "+fieldName+" is required", methodDetails(method, field{keyField, fieldName}))
	}
	if strings.TrimSpace(name) == "" {
		return required("Name")
	}
	if strings.TrimSpace(username) == "" {
		return required("Username")
	}
	if !defaultUsernameRE.MatchString(username) {
		return meteorError("error-input-is-not-a-valid-field", htmlEscape(username)+" is not a valid username",
			methodDetails(method, field{"input", username}, field{keyField, "Username"}))
	}
	setRandom := b["setRandomPassword"] == true
	if password == "" && !setRandom {
		return required("Password")
	}
	if s.usernameBlocked(username) {
		return meteorError("error-blocked-username", htmlEscape(username)+" is blocked and can't be used!",
			methodDetails("checkUsernameAvailability", field{keyField, username}))
	}
	if !usernameAvailable(c.ws, username) {
		return meteorError(errorTypeFieldUnavailable, htmlEscape(username)+" is already in use :(", methodDetails(method, field{keyField, username}))
	}
	if email != "" && c.ws.userByEmail(email) != nil {
		return meteorError(errorTypeFieldUnavailable, htmlEscape(email)+" is already in use :(", methodDetails(method, field{keyField, email}))
	}
	if !basicEmailRE.MatchString(email) {
		return meteorError("error-invalid-email", "Invalid email "+email,
			object{{"function", "RocketChat.validateEmailDomain"}, {keyEmail, email}})
	}

	if len(roles) == 0 {
		roles = []string{roleUser}
	}
	u := &User{
		ID:                    randomID(runtimeRand()),
		Username:              username,
		Name:                  name,
		Emails:                []Email{{Address: email, Verified: b["verified"] == true}},
		Type:                  userTypeUser,
		Active:                true,
		Roles:                 slices.Clone(roles),
		Status:                statusOffline,
		CreatedAt:             c.now.UTC().Truncate(time.Millisecond),
		Password:              password,
		RequirePasswordChange: setRandom || b[keyRequirePasswordChange] == true,
		Nickname:              strings.TrimSpace(str(b, keyNickname)),
		Bio:                   strings.TrimSpace(str(b, keyBio)),
	}
	if setRandom {
		u.Password = randomID(runtimeRand())
	}
	c.ws.Users = append(c.ws.Users, u)

	// The active flag is applied after creation, so a caller lacking
	// edit-other-user-active-status gets a 400 although the user now exists.
	if active, ok := b[keyActive].(bool); ok {
		if rep := s.setActiveStatus(c, u.ID, active, false); rep != nil {
			return *rep
		}
	}

	fields := []string{keyUsername, keyType, keyStatus, keyActive, keyName, keyNickname, keyBio}
	if c.ws.hasPermission(c.user, permViewFullOtherUserInfo, nil) {
		fields = append(fields, keyCreatedAt, keyEmails, keyRoles, keyUpdatedAt, keySettings)
		if u.RequirePasswordChange {
			fields = append(fields, keyRequirePasswordChange)
		}
	}
	return success(field{keyUser, userDoc(u, fieldSet(fields...))})
}

// validNameChars mirrors validateNameChars: no <, >, / or \, even once
// percent-decoded.
func validNameChars(name string) bool {
	const invalid = `<>\/`
	if strings.ContainsAny(name, invalid) {
		return false
	}
	dec, err := url.PathUnescape(name)
	return err == nil && !strings.ContainsAny(dec, invalid)
}

// systemBlockedUsernames is Accounts_SystemBlockedUsernameList's default
// (hidden setting, apps/meteor/server/settings/accounts.ts).
var systemBlockedUsernames = []string{"admin", "administrator", "system", "user"}

// usernameBlocked is the first test of checkUsernameAvailability
// (apps/meteor/server/lib/users/checkUsernameAvailability.ts), which throws
// error-blocked-username: the name matches, ignoring case, "all", "here" or
// an entry of Accounts_BlockedUsernameList (each entry trimmed; the default
// "" blocks only the empty name), or validateName
// (apps/meteor/server/lib/shared/validateName.ts) finds its lower-cased form
// in Accounts_SystemBlockedUsernameList. The server matches the name after
// escaping it for a regular expression, so a name with regexp
// metacharacters (".", "-") never matches a list entry; that is mirrored.
func (s *Server) usernameBlocked(username string) bool {
	escaped := strings.TrimSpace(escapeRegExp(username))
	for _, b := range append([]string{"all", "here"}, strings.Split(s.opts.BlockedUsernameList, ",")...) {
		if strings.EqualFold(escaped, strings.TrimSpace(b)) {
			return true
		}
	}
	return slices.Contains(systemBlockedUsernames, strings.ToLower(username))
}

// escapeRegExp is escapeRegExp of @rocket.chat/string-helpers
// (RocketChat/fuselage packages/string-helpers/src/escapeRegExp.ts), whose
// set of escaped characters differs from regexp.QuoteMeta's.
func escapeRegExp(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`-.*+?^=!:${}()|[]/\`, r) {
			_ = b.WriteByte('\\') // strings.Builder writes never fail
		}
		_, _ = b.WriteRune(r)
	}
	return b.String()
}

// usernameAvailable mirrors the rest of checkUsernameAvailability: no user
// (ignoring case) and no team may hold the name.
func usernameAvailable(ws *Workspace, name string) bool {
	return ws.userByUsernameFold(name) == nil && ws.teamByName(name) == nil
}

// htmlEscape is lodash's escape, which the server applies to echoed input.
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace(s)
}

var setActiveStatusBody = &schema{
	closed:   true,
	required: []string{keyUserID, "activeStatus"},
	props: []prop{
		{name: keyUserID, kind: kString},
		{name: "activeStatus", kind: kBoolean},
		{name: "confirmRelinquish", kind: kBoolean, nullable: true},
	},
}

// usersSetActiveStatus serves users.setActiveStatus.
func (s *Server) usersSetActiveStatus(c *call) reply {
	uid := str(c.body, keyUserID)
	active := c.body["activeStatus"].(bool)
	if rep := s.setActiveStatus(c, uid, active, c.body["confirmRelinquish"] == true); rep != nil {
		return *rep
	}
	u := c.ws.UserByID(uid)
	if u == nil {
		return failure("User not found")
	}
	return success(field{keyUser, object{{keyID, u.ID}, {keyActive, u.Active}}})
}

// setActiveStatus is executeSetUserActiveStatus + setUserActiveStatus. An
// unknown user is not an error here: callers report it themselves.
func (s *Server) setActiveStatus(c *call, uid string, active, confirmRelinquish bool) *reply {
	if !c.ws.hasPermission(c.user, permEditOtherUserActiveStatus, nil) {
		r := meteorError(errorTypeNotAllowed, "Not allowed", methodDetails("setUserActiveStatus"))
		return &r
	}
	u := c.ws.UserByID(uid)
	if u == nil {
		return nil
	}
	if u.Federated {
		r := meteorError("error-user-is-federated", "Cannot change federated users status", methodDetails("setUserActiveStatus"))
		return &r
	}
	// Users without a username cannot own anything, so the server skips the
	// ownership checks for them.
	if u.Username != "" && !active {
		if slices.Contains(u.Roles, roleAdmin) && activeAdmins(c.ws) == 1 {
			r := meteorError(errorTypeActionNotAllowed, "Leaving the app without an active admin is not allowed",
				methodDetails("removeUserFromRole", field{keyAction, "Remove_last_admin"}))
			return &r
		}
		rooms := ownedRooms(c.ws, u)
		if mustRelinquish(rooms) && !confirmRelinquish {
			r := lastOwnerError(rooms)
			return &r
		}
		relinquish(c.ws, rooms)
	}
	if !active {
		if u.Active || u.InactiveReason == "" {
			u.InactiveReason = inactiveDeactivated
		}
		// Deactivation logs the user out everywhere, personal access tokens included.
		u.Tokens = nil
	} else {
		u.InactiveReason = ""
	}
	u.Active = active
	return nil
}

func activeAdmins(ws *Workspace) int {
	n := 0
	for _, u := range ws.Users {
		if u.Active && slices.Contains(u.Roles, roleAdmin) {
			n++
		}
	}
	return n
}

// ownedRoom is getSubscribedRoomsForUserWithDetails' verdict on one team main room.
type ownedRoom struct {
	team              *Team
	shouldBeRemoved   bool
	shouldChangeOwner bool
}

// ownedRooms finds the teams a departing user would leave ownerless or
// empty: as sole owner, ownership should pass to the longest-standing active
// member, and a private team nobody could take over should be removed (a
// public one just stays); a private team whose only member is the user
// should be removed even if the user does not own it.
func ownedRooms(ws *Workspace, u *User) []ownedRoom {
	var out []ownedRoom
	for _, t := range ws.Teams {
		m := t.member(u.ID)
		if m == nil {
			continue
		}
		r := ownedRoom{team: t}
		if slices.Contains(m.Roles, roleOwner) {
			if t.ownerCount() == 1 {
				members := slices.Clone(t.Members)
				slices.SortStableFunc(members, func(a, b TeamMember) int { return a.CreatedAt.Compare(b.CreatedAt) })
				for _, other := range members {
					if other.UserID == u.ID {
						continue
					}
					if ou := ws.UserByID(other.UserID); ou != nil && ou.Active {
						r.shouldChangeOwner = true
						break
					}
				}
				r.shouldBeRemoved = !r.shouldChangeOwner && t.Type != teamPublic
			}
		} else if t.Type != teamPublic {
			r.shouldBeRemoved = len(t.Members) == 1
		}
		out = append(out, r)
	}
	return out
}

func mustRelinquish(rooms []ownedRoom) bool {
	return slices.ContainsFunc(rooms, func(r ownedRoom) bool { return r.shouldBeRemoved || r.shouldChangeOwner })
}

// lastOwnerError is Meteor.Error('user-last-owner', ”, rooms) with room
// (team) names.
func lastOwnerError(rooms []ownedRoom) reply {
	removed, changed := []string{}, []string{}
	for _, r := range rooms {
		switch {
		case r.shouldBeRemoved:
			removed = append(removed, r.team.Name)
		case r.shouldChangeOwner:
			changed = append(changed, r.team.Name)
		}
	}
	return meteorError("user-last-owner", "", object{{"shouldBeRemoved", removed}, {"shouldChangeOwner", changed}})
}

// relinquish applies confirmRelinquish and returns the ids of deleted rooms.
// Removable teams are erased. The new owner is granted "owner" only on the
// main-room subscription, which teams.members does not read, so team
// membership rows are left as they are.
func relinquish(ws *Workspace, rooms []ownedRoom) []string {
	deleted := []string{}
	for _, r := range rooms {
		if r.shouldBeRemoved {
			ws.removeTeam(r.team)
			deleted = append(deleted, r.team.RoomID)
		}
	}
	return deleted
}

var usersDeleteBody = &schema{
	closed: true,
	anyOf: []*schema{
		{required: []string{keyUserID}},
		{required: []string{keyUsername}},
		{required: []string{keyUser}},
	},
	props: []prop{
		{name: keyUserID, kind: kString},
		{name: keyUsername, kind: kString},
		{name: keyUser, kind: kString},
		{name: "confirmRelinquish", kind: kBoolean, nullable: true},
	},
}

// usersDelete serves users.delete (deleteUser).
func (s *Server) usersDelete(c *call) reply {
	u, rep := userFromParams(c.ws, c.body)
	if rep != nil {
		return *rep
	}
	if u.ID == rocketCat {
		return meteorError(errorTypeActionNotAllowed, "Deleting the rocket.cat user is not allowed",
			methodDetails("deleteUser", field{keyAction, "Delete_user"}))
	}
	if u.Federated {
		return meteorError(errorTypeNotAllowed, "User participated in federation, this user can only be deactivated permanently",
			methodDetails("deleteUser"))
	}
	rooms := ownedRooms(c.ws, u)
	if mustRelinquish(rooms) && c.body["confirmRelinquish"] != true {
		return lastOwnerError(rooms)
	}
	deleted := []string{}
	if u.Username != "" {
		deleted = relinquish(c.ws, rooms)
	}
	for _, t := range c.ws.Teams {
		t.removeMember(u.ID)
		if u.Username != "" {
			// Subscriptions.removeByUserId, skipped with the rest of the
			// clean-up for users without a username (deleteUser in
			// apps/meteor/server/lib/users/deleteUser.ts).
			t.unsubscribe(u.ID)
		}
	}
	c.ws.removeUser(u)
	return success(field{"deletedRooms", deleted})
}

// userFromParams mirrors getUserFromParams: userId, else username or user
// (both matched ignoring case).
func userFromParams(ws *Workspace, p map[string]any) (*User, *reply) {
	var u *User
	switch {
	case strings.TrimSpace(str(p, keyUserID)) != "":
		u = ws.UserByID(str(p, keyUserID))
	case strings.TrimSpace(str(p, keyUsername)) != "":
		u = ws.userByUsernameFold(str(p, keyUsername))
	case strings.TrimSpace(str(p, keyUser)) != "":
		u = ws.userByUsernameFold(str(p, keyUser))
	default:
		r := meteorError("error-user-param-not-provided", `The required "userId" or "username" param was not provided`, nil)
		return nil, &r
	}
	if u == nil {
		r := meteorError(errorTypeInvalidUser, `The required "userId" or "username" param provided does not match any users`, nil)
		return nil, &r
	}
	return u, nil
}
