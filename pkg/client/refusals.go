package client

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
)

// The predicates below read Rocket.Chat's refusals, so callers need not know
// their wire form (error types, message texts, the shape of details). Each
// takes any error, wrapped or not, and is false for errors that are not an
// answer from Rocket.Chat. The citations are Rocket.Chat source files, as
// collected in docs/rocketchat-api.md.

// apiErrorOf returns the APIError in err's chain, or nil.
func apiErrorOf(err error) *APIError {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr
	}
	return nil
}

// hasType reports whether err is an APIError of one of types.
func hasType(err error, types ...string) bool {
	e := apiErrorOf(err)
	return e != nil && slices.Contains(types, e.ErrorType)
}

// IsUserNotFound reports an unknown user: users.info and
// users.setActiveStatus answer "User not found" (with or without a dot,
// apps/meteor/server/api/v1/users.ts, docs §3.4, §3.6), users.delete and
// roles.removeUserFromRole error-invalid-user
// (apps/meteor/server/api/lib/getUserFromParams.ts, §3.7, §4.3); some
// lookups answer error-user-not-found.
func IsUserNotFound(err error) bool {
	e := apiErrorOf(err)
	return e != nil && (strings.HasPrefix(e.Message, "User not found") ||
		e.ErrorType == "error-invalid-user" || e.ErrorType == "error-user-not-found")
}

// IsTeamNotFound reports an unknown team: teams.info answers "Team not found"
// (apps/meteor/server/api/v1/teams.ts, docs §5.2), the team service
// team-does-not-exist (apps/meteor/server/services/team/service.ts, §5.3, §5.7).
func IsTeamNotFound(err error) bool {
	e := apiErrorOf(err)
	return e != nil && (e.ErrorType == "team-does-not-exist" || e.Message == "Team not found")
}

// IsAlreadyInRole reports roles.addUserToRole's refusal of a user who holds
// the role already, error-user-already-in-role
// (apps/meteor/server/api/v1/roles.ts, docs §4.2).
func IsAlreadyInRole(err error) bool { return hasType(err, "error-user-already-in-role") }

// IsNotInRole reports roles.removeUserFromRole's refusal of a user who does
// not hold the role, error-user-not-in-role
// (apps/meteor/server/api/v1/roles.ts, docs §4.3).
func IsNotInRole(err error) bool { return hasType(err, "error-user-not-in-role") }

// IsMemberMissing reports teams.removeMember's refusal of a user who is not a
// member, member-does-not-exist (apps/meteor/server/services/team/service.ts,
// docs §5.6).
func IsMemberMissing(err error) bool { return hasType(err, "member-does-not-exist") }

// IsInvalidUserID reports users.logout's answer when it removed nothing (an
// unknown user, or one without tokens left), error-invalid-user-id
// (apps/meteor/app/api/server/v1/users.ts, docs §3.7a).
func IsInvalidUserID(err error) bool { return hasType(err, "error-invalid-user-id") }

// IsLastAdmin reports a refusal to leave the workspace without an admin:
// roles.removeUserFromRole answers error-admin-required
// (apps/meteor/server/api/v1/roles.ts, docs §4.3), users.setActiveStatus an
// error whose details carry the action Remove_last_admin
// (apps/meteor/server/lib/users/setUserActiveStatus.ts, §3.6).
func IsLastAdmin(err error) bool {
	e := apiErrorOf(err)
	return e != nil && (e.ErrorType == "error-admin-required" || strings.Contains(string(e.Details), "Remove_last_admin"))
}

// IsLastTeamOwner reports teams.removeMember's refusal of the team's last
// owner, last-owner-can-not-be-removed
// (apps/meteor/server/services/team/service.ts, docs §5.6).
func IsLastTeamOwner(err error) bool { return hasType(err, "last-owner-can-not-be-removed") }

// UserLastOwnerRooms reports the refusal to deactivate or delete a user who
// is the last owner of rooms, user-last-owner, and the names of those rooms
// from its details (shouldChangeOwner, then shouldBeRemoved; none when the
// details cannot be read). Source:
// apps/meteor/server/lib/users/setUserActiveStatus.ts and
// apps/meteor/server/lib/users/deleteUser.ts (docs §3.6, §3.7).
func UserLastOwnerRooms(err error) ([]string, bool) {
	e := apiErrorOf(err)
	if e == nil || e.ErrorType != "user-last-owner" {
		return nil, false
	}
	var d struct {
		ShouldBeRemoved   []string `json:"shouldBeRemoved"`
		ShouldChangeOwner []string `json:"shouldChangeOwner"`
	}
	if json.Unmarshal(e.Details, &d) != nil {
		return nil, true
	}
	return slices.Concat(d.ShouldChangeOwner, d.ShouldBeRemoved), true
}

// IsFederatedRefusal reports a refusal to change a federated (Matrix) user:
// error-user-is-federated from users.setActiveStatus
// (apps/meteor/server/lib/users/setUserActiveStatus.ts, docs §3.6),
// Edit_Federated_User_Not_Allowed, and users.delete's "User participated in federation …"
// (apps/meteor/server/lib/users/deleteUser.ts, §3.7).
func IsFederatedRefusal(err error) bool {
	e := apiErrorOf(err)
	return e != nil && (e.ErrorType == "error-user-is-federated" || e.ErrorType == "Edit_Federated_User_Not_Allowed" ||
		strings.Contains(e.Message, "federation"))
}

// IsInactiveUser reports the team endpoints' refusal of a deactivated (or
// unknown) user, invalid-user: teams.removeMember looks users up with
// Users.findOneActiveById (apps/meteor/server/api/v1/teams.ts, docs §5.6).
func IsInactiveUser(err error) bool { return hasType(err, "invalid-user") }

// IsFieldUnavailable reports users.create's refusal of a username or e-mail
// address in use, error-field-unavailable
// (apps/meteor/server/lib/users/checkUsernameAvailability.ts,
// apps/meteor/server/lib/users/saveUser/validateUserData.ts, docs §3.5).
func IsFieldUnavailable(err error) bool { return hasType(err, "error-field-unavailable") }

// IsBlockedUsername reports users.create's refusal of a reserved or blocked
// username, error-blocked-username
// (apps/meteor/server/lib/users/checkUsernameAvailability.ts, docs §3.5).
func IsBlockedUsername(err error) bool { return hasType(err, "error-blocked-username") }

// IsInvalidUsername reports users.create's refusal of a username that breaks
// the workspace's username rule, error-input-is-not-a-valid-field
// (apps/meteor/server/lib/users/saveUser/validateUserData.ts, docs §3.5).
func IsInvalidUsername(err error) bool { return hasType(err, "error-input-is-not-a-valid-field") }

// UnavailableField returns which of candidates an error-field-unavailable
// refusal names, ignoring case: details.field when the answer has it, else
// the value the message starts with ("<value> is already in use :(",
// docs §3.5). It returns "" when it cannot tell.
func UnavailableField(err error, candidates ...string) string {
	e := apiErrorOf(err)
	if e == nil {
		return ""
	}
	var d struct {
		Field string `json:"field"`
	}
	field := ""
	if json.Unmarshal(e.Details, &d) == nil {
		field = d.Field
	}
	for _, v := range candidates {
		if v == "" {
			continue
		}
		if strings.EqualFold(field, v) || (field == "" && strings.HasPrefix(strings.ToLower(e.Message), strings.ToLower(v)+" ")) {
			return v
		}
	}
	return ""
}

// PasswordPolicyRefusal reports whether err is users.create's definite
// refusal of a password under the workspace's password policy, and the rules
// it names: a 400 whose errorType is error-password-policy-not-met, with the
// failed rules (error-password-policy-not-met-minLength and so on) in
// details, or, on older servers, one of those rule codes itself
// (packages/password-policies/src/PasswordPolicy.ts, docs §3.5).
func PasswordPolicyRefusal(err error) ([]string, bool) {
	e := apiErrorOf(err)
	if e == nil || e.StatusCode != http.StatusBadRequest || !strings.HasPrefix(e.ErrorType, "error-password-policy-not-met") {
		return nil, false
	}
	reasons := []string{e.ErrorType}
	var details []struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(e.Details, &details) == nil {
		for _, d := range details {
			if d.Error != "" && !slices.Contains(reasons, d.Error) {
				reasons = append(reasons, d.Error)
			}
		}
	}
	if len(reasons) > 1 && reasons[0] == "error-password-policy-not-met" {
		reasons = reasons[1:]
	}
	return reasons, true
}

// IsSettingAbsent reports settings/:_id's answer for a setting the server
// does not have, such as an Enterprise setting on a Community server: a bare
// 400 {"success":false}, with neither message nor type
// (apps/meteor/app/api/server/v1/settings.ts, docs §7.6).
func IsSettingAbsent(err error) bool {
	e := apiErrorOf(err)
	return e != nil && e.StatusCode == http.StatusBadRequest && e.ErrorType == "" && e.Message == ""
}

// IsUnknownParameter reports a request its route's validator refused as
// malformed (400 invalid-params from routes validated by validateParams,
// error-invalid-params from typed routes; docs §11): from an older server,
// usually a parameter it does not know yet.
func IsUnknownParameter(err error) bool {
	e := apiErrorOf(err)
	return e != nil && e.StatusCode == http.StatusBadRequest && (e.ErrorType == "invalid-params" || e.ErrorType == "error-invalid-params")
}

// IsRoomNotFound reports an unknown room, or a private group the caller is
// not in: findPrivateGroupByIdOrName and findChannelByIdOrName answer
// error-room-not-found whether the room is missing or hidden from the caller
// (apps/meteor/app/api/server/v1/groups.ts, channels.ts, docs §10); the
// methods behind the writes answer error-invalid-room, and
// rooms.adminRooms.getRoom failure('not-allowed', 'Not Allowed'): error
// not-allowed, errorType "Not Allowed".
func IsRoomNotFound(err error) bool {
	return hasType(err, "error-room-not-found", "error-invalid-room", "Not Allowed")
}

// IsAlreadyRoomRole reports addRoomOwner/Moderator/Leader's refusal of a
// member who holds the role already (apps/meteor/server/methods/addRoomOwner.ts
// and its siblings, docs §10).
func IsAlreadyRoomRole(err error) bool {
	return hasType(err, "error-user-already-owner", "error-user-already-moderator", "error-user-already-leader")
}

// IsNotRoomRole reports removeRoomOwner/Moderator/Leader's refusal of a
// member who does not hold the role (apps/meteor/server/methods/removeRoomOwner.ts
// and its siblings, docs §10).
func IsNotRoomRole(err error) bool {
	return hasType(err, "error-user-not-owner", "error-user-not-moderator", "error-user-not-leader")
}

// IsLastRoomOwner reports Rocket.Chat's refusal to leave a room without an
// owner: error-remove-last-owner from removeRoomOwner, and
// error-you-are-last-owner from removeUserFromRoom (a kick), docs §10.
func IsLastRoomOwner(err error) bool {
	return hasType(err, "error-remove-last-owner", "error-you-are-last-owner")
}
