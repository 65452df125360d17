package client

import (
	"context"
)

// AddUserToRole gives a user a role workspace-wide (roles.addUserToRole, 8.x
// body: the role goes by id).
func (c *Client) AddUserToRole(ctx context.Context, username, roleID string) error {
	return c.post(ctx, "roles.addUserToRole", map[string]string{"username": username, "roleId": roleID}, nil)
}

// RemoveUserFromRole takes a workspace-wide role away from a user.
func (c *Client) RemoveUserFromRole(ctx context.Context, username, roleID string) error {
	return c.post(ctx, "roles.removeUserFromRole", map[string]string{"username": username, "roleId": roleID}, nil)
}

type teamMemberSpec struct {
	UserID string   `json:"userId"`
	Roles  []string `json:"roles,omitempty"`
}

// AddTeamMember adds a user to a team; roles are added to any the member
// already holds. Adding an existing member is accepted by the server.
func (c *Client) AddTeamMember(ctx context.Context, teamID, userID string, roles []string) error {
	body := map[string]any{
		"teamId":  teamID,
		"members": []teamMemberSpec{{UserID: userID, Roles: roles}},
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
		"teamId": teamID,
		"member": map[string]any{"userId": userID, "roles": roles},
	}
	return c.post(ctx, "teams.updateMember", body, nil)
}

// RemoveTeamMember removes a user from a team and its main room.
func (c *Client) RemoveTeamMember(ctx context.Context, teamID, userID string) error {
	return c.post(ctx, "teams.removeMember", map[string]string{"teamId": teamID, "userId": userID}, nil)
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
	body := map[string]any{"userId": userID, "activeStatus": active}
	if confirmRelinquish {
		body["confirmRelinquish"] = true
	}
	return c.post(ctx, "users.setActiveStatus", body, nil)
}

// DeleteUser deletes a user for good (users.delete).
func (c *Client) DeleteUser(ctx context.Context, userID string, confirmRelinquish bool) error {
	body := map[string]any{"userId": userID}
	if confirmRelinquish {
		body["confirmRelinquish"] = true
	}
	return c.post(ctx, "users.delete", body, nil)
}
