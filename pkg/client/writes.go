package client

import (
	"context"
	"net/http"
)

// AddUserToRole gives a user a role workspace-wide (roles.addUserToRole, 8.x
// body: the role goes by id).
func (c *Client) AddUserToRole(ctx context.Context, username, roleID string) error {
	return c.post(ctx, "roles.addUserToRole", map[string]string{paramUsername: username, "roleId": roleID}, nil)
}

// RemoveUserFromRole takes a workspace-wide role away from a user.
func (c *Client) RemoveUserFromRole(ctx context.Context, username, roleID string) error {
	return c.post(ctx, "roles.removeUserFromRole", map[string]string{paramUsername: username, "roleId": roleID}, nil)
}

type teamMemberSpec struct {
	UserID string   `json:"userId"`
	Roles  []string `json:"roles,omitempty"`
}

// AddTeamMember adds a user to a team; roles are added to any the member
// already holds. Adding an existing member is accepted by the server.
func (c *Client) AddTeamMember(ctx context.Context, teamID, userID string, roles []string) error {
	body := map[string]any{
		paramTeamID: teamID,
		"members":   []teamMemberSpec{{UserID: userID, Roles: roles}},
	}
	return c.post(ctx, "teams.addMembers", body, nil)
}

// SetTeamMemberRoles REPLACES a member's team roles: callers pass the full
// list they want the member to keep.
func (c *Client) SetTeamMemberRoles(ctx context.Context, teamID, userID string, roles []string) error {
	if roles == nil {
		roles = []string{}
	}
	body := map[string]any{
		paramTeamID: teamID,
		"member":    map[string]any{paramUserID: userID, "roles": roles},
	}
	return c.post(ctx, "teams.updateMember", body, nil)
}

// RemoveTeamMember removes a user from a team and its main room.
func (c *Client) RemoveTeamMember(ctx context.Context, teamID, userID string) error {
	return c.post(ctx, "teams.removeMember", map[string]string{paramTeamID: teamID, paramUserID: userID}, nil)
}

// FindTeamMember looks one user up in a team's member list. It returns nil
// when the user is not a member (or is deactivated: Rocket.Chat leaves those
// out of member lists).
func (c *Client) FindTeamMember(ctx context.Context, teamID, userID, username string) (*TeamMember, error) {
	var found *TeamMember
	// A contains-match on the username narrows the listing; the id decides.
	err := c.listTeamMembers(ctx, teamID, username, func(batch []TeamMember) error {
		for i := range batch {
			if batch[i].User.ID == userID {
				m := batch[i]
				found = &m
			}
		}
		return nil
	})
	return found, err
}

// CreateUserRequest is the body of users.create.
type CreateUserRequest struct {
	Username              string `json:"username"`
	Email                 string `json:"email"`
	Name                  string `json:"name"`
	Password              string `json:"password"`
	Verified              bool   `json:"verified,omitempty"`
	RequirePasswordChange bool   `json:"requirePasswordChange,omitempty"`
	SendWelcomeEmail      bool   `json:"sendWelcomeEmail"`
	JoinDefaultChannels   bool   `json:"joinDefaultChannels"`
}

// CreateUser creates an account (users.create).
func (c *Client) CreateUser(ctx context.Context, req *CreateUserRequest) (*User, error) {
	var out struct {
		User User `json:"user"`
	}
	if err := c.post(ctx, "users.create", req, &out); err != nil {
		return nil, err
	}
	return &out.User, nil
}

// SetActiveStatus deactivates or reactivates a user. confirmRelinquish lets
// Rocket.Chat hand rooms the user solely owns to their oldest member (or
// delete rooms left empty); without it, such a user cannot be deactivated.
func (c *Client) SetActiveStatus(ctx context.Context, userID string, active, confirmRelinquish bool) error {
	body := map[string]any{paramUserID: userID, "activeStatus": active}
	if confirmRelinquish {
		body["confirmRelinquish"] = true
	}
	return c.post(ctx, "users.setActiveStatus", body, nil)
}

// DeleteUser deletes a user for good (users.delete). It never sends
// confirmRelinquish: a user who is the last owner of rooms is refused
// (UserLastOwnerRooms), so deleting never silently hands rooms over or
// deletes them.
func (c *Client) DeleteUser(ctx context.Context, userID string) error {
	return c.post(ctx, "users.delete", map[string]any{paramUserID: userID}, nil)
}

// Logout signs a user out everywhere (users.logout, logout-other-user):
// Rocket.Chat empties the user's login tokens, personal access tokens
// included. It answers error-invalid-user-id when nothing changed (an
// unknown user, or one with no tokens left).
func (c *Client) Logout(ctx context.Context, userID string) (string, error) {
	var out struct {
		Message string `json:"message"`
	}
	if err := c.post(ctx, "users.logout", map[string]string{paramUserID: userID}, &out); err != nil {
		return "", err
	}
	return out.Message, nil
}

// DeactivateIdle deactivates every active user holding role whose last
// login (or, for users who never logged in, creation) is at least daysIdle
// days old (users.deactivateIdle), and returns how many it deactivated.
func (c *Client) DeactivateIdle(ctx context.Context, daysIdle int, role string) (int, error) {
	var out struct {
		Count int `json:"count"`
	}
	body := map[string]any{"daysIdle": daysIdle, "role": role}
	if err := c.post(ctx, "users.deactivateIdle", body, &out); err != nil {
		return 0, err
	}
	return out.Count, nil
}

// Omnichannel user types of livechat/users/<type>.
const (
	LivechatAgent   = "agent"
	LivechatManager = "manager"
)

// AddLivechatUser makes a user an omnichannel agent or manager
// (POST livechat/users/<type>), which gives the role and runs Rocket.Chat's
// agent set-up.
func (c *Client) AddLivechatUser(ctx context.Context, kind, username string) error {
	return c.post(ctx, "livechat/users/"+kind, map[string]string{paramUsername: username}, nil)
}

// RemoveLivechatUser undoes AddLivechatUser (DELETE livechat/users/<type>/<id>).
func (c *Client) RemoveLivechatUser(ctx context.Context, kind, userID string) error {
	return c.do(ctx, &request{method: http.MethodDelete, endpoint: "livechat/users/" + kind + "/" + userID, auth: true}, nil)
}
