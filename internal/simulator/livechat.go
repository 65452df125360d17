package simulator

import (
	"slices"
	"strings"
	"time"
)

// cutLast splits "a/b/c" into "a/b" and "c".
func cutLast(name string) (string, string, bool) {
	i := strings.LastIndexByte(name, '/')
	if i <= 0 || i == len(name)-1 {
		return "", "", false
	}
	return name[:i], name[i+1:], true
}

// usersLogoutBody is isUserLogoutParamsPOST.
var usersLogoutBody = &schema{
	closed: true,
	props:  []prop{{name: keyUserID, kind: kString}},
}

// usersLogout serves users.logout (apps/meteor/app/api/server/v1/users.ts):
// another user needs logout-other-user, checked in the handler; then
// Users.unsetLoginTokens empties services.resume.loginTokens, which holds
// the personal access tokens too. Nothing modified (an unknown user, or one
// without tokens) is error-invalid-user-id.
func (s *Server) usersLogout(c *call) reply {
	uid := str(c.body, keyUserID)
	if uid == "" {
		uid = c.user.ID
	}
	if uid != c.user.ID && !c.ws.hasPermission(c.user, permLogoutOtherUser, nil) {
		return forbidden()
	}
	u := c.ws.UserByID(uid)
	if u == nil || len(u.Tokens) == 0 {
		return meteorError("error-invalid-user-id", "Invalid user id", nil)
	}
	u.Tokens = nil
	return success(field{keyMessage, "User " + uid + " has been logged out!"})
}

// deactivateIdleBody is isUserDeactivateIdleParamsPOST.
var deactivateIdleBody = &schema{
	closed:   true,
	required: []string{"daysIdle"},
	props: []prop{
		{name: "daysIdle", kind: kNumber},
		{name: keyRole, kind: kString},
	},
}

// usersDeactivateIdle serves users.deactivateIdle: one
// Users.setActiveNotLoggedInAfterWithRole update that sets active=false on
// every active holder of role whose lastLogin, or createdAt when they never
// logged in, is at or before now minus daysIdle days. Nothing else runs: no
// last-admin or room-owner check, and the users' tokens are left alone.
func (s *Server) usersDeactivateIdle(c *call) reply {
	days, _ := c.body["daysIdle"].(float64)
	role := str(c.body, keyRole)
	if role == "" {
		role = roleUser
	}
	cutoff := c.now.AddDate(0, 0, -int(days))
	n := 0
	for _, u := range c.ws.Users {
		if !u.Active || !slices.Contains(u.Roles, role) || !idleSince(u, cutoff) {
			continue
		}
		u.Active = false
		n++
	}
	return success(field{keyCount, n})
}

// idleSince is the selector of setActiveNotLoggedInAfterWithRole.
func idleSince(u *User, cutoff time.Time) bool {
	if u.LastLogin == nil {
		return !u.CreatedAt.After(cutoff)
	}
	return !u.LastLogin.After(cutoff)
}

// livechatUsersBody is isPOSTLivechatUsersTypeProps.
var livechatUsersBody = &schema{
	closed:   true,
	required: []string{keyUsername},
	props:    []prop{{name: keyUsername, kind: kString}},
}

// livechatAdd serves POST livechat/users/<type> (omni-users addAgent /
// addManager): the role is added, and an agent is set up for routing.
func (s *Server) livechatAdd(role string) func(*call) reply {
	return func(c *call) reply {
		u := c.ws.UserByUsername(str(c.body, keyUsername))
		if u == nil {
			return meteorError(errorTypeInvalidUser, "Invalid user", methodDetails("livechat:add"+livechatKind(role)))
		}
		if !slices.Contains(u.Roles, role) {
			u.Roles = append(u.Roles, role)
		}
		if role == roleLivechatAgent && u.StatusLivechat == "" {
			u.StatusLivechat = "not-available"
		}
		return success(field{keyUser, object{{keyID, u.ID}, {keyUsername, u.Username}}})
	}
}

// livechatRemove serves DELETE livechat/users/<type>/<_id>: an unknown user
// (or one without a username) is a bare failure; removing the agent role
// also clears the agent's omnichannel state.
func (s *Server) livechatRemove(role string) func(*call) reply {
	return func(c *call) reply {
		_, id, _ := cutLast(strings.TrimPrefix(c.r.URL.Path, "/api/v1/"))
		u := c.ws.UserByID(id)
		if u == nil || u.Username == "" {
			return reply{400, object{{keySuccess, false}}}
		}
		u.Roles = slices.DeleteFunc(u.Roles, func(r string) bool { return r == role })
		if role == roleLivechatAgent {
			u.StatusLivechat = ""
		}
		return success()
	}
}

func livechatKind(role string) string {
	if role == roleLivechatAgent {
		return "Agent"
	}
	return "Manager"
}
