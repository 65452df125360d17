package client

import "context"

// ListRoles reads every role, built-in and custom, in both scopes. The
// endpoint is not paginated. Roles created before scopes existed carry
// none; they are workspace roles, and come back with ScopeUsers.
func (c *Client) ListRoles(ctx context.Context) ([]Role, error) {
	var out struct {
		Roles []Role `json:"roles"`
	}
	if err := c.get(ctx, "roles.list", nil, &out); err != nil {
		return nil, err
	}
	for i := range out.Roles {
		if out.Roles[i].Scope == "" {
			out.Roles[i].Scope = ScopeUsers
		}
	}
	return out.Roles, nil
}
