package client

import (
	"context"
	"net/url"
)

// ListTeamMembers reads every member of a team with their team roles.
// Rocket.Chat leaves deactivated users out, and answers an empty list (not
// an error) to a caller who cannot see the team: check view-all-teams first.
func (c *Client) ListTeamMembers(ctx context.Context, teamID string, yield func([]TeamMember) error) error {
	return c.listTeamMembers(ctx, teamID, "", yield)
}

// listTeamMembers reads a team's members, narrowed to usernames containing
// username when it is not empty.
func (c *Client) listTeamMembers(ctx context.Context, teamID, username string, yield func([]TeamMember) error) error {
	fetch := func(ctx context.Context, offset, count int) (Page[TeamMember], error) {
		q := pageQuery(offset, count)
		q.Set(paramTeamID, teamID)
		if username != "" {
			q.Set(paramUsername, username)
		}
		return listPage[TeamMember](ctx, c, "teams.members", "members", q, offset)
	}
	return walk(ctx, "teams.members", "members of team "+teamID, fetch, func(m TeamMember) string { return m.User.ID }, yield)
}

// TeamInfo reads one team by id (the caller must see its main room or have
// view-all-teams).
func (c *Client) TeamInfo(ctx context.Context, teamID string) (*Team, error) {
	var out struct {
		TeamInfo Team `json:"teamInfo"`
	}
	if err := c.get(ctx, "teams.info", url.Values{paramTeamID: {teamID}}, &out); err != nil {
		return nil, err
	}
	return &out.TeamInfo, nil
}

// UserTeam is one of a user's teams as users.listTeams answers it.
type UserTeam struct {
	Team
	// IsOwner is the only team role users.listTeams reports.
	IsOwner bool `json:"isOwner"`
}

// UserTeams reads the teams a user is a member of, deactivated or not
// (users.listTeams reads the membership rows themselves, where teams.members
// keeps active users only). It reports ownership but no other team role.
// Private teams the caller does not share are left out unless the caller has
// view-all-teams.
func (c *Client) UserTeams(ctx context.Context, userID string) ([]UserTeam, error) {
	var out struct {
		Teams []UserTeam `json:"teams"`
	}
	if err := c.get(ctx, "users.listTeams", url.Values{paramUserID: {userID}}, &out); err != nil {
		return nil, err
	}
	return out.Teams, nil
}
