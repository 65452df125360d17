package client

import "context"

// ListRoles reads every role, built-in and custom, in both scopes. The
// endpoint is not paginated.
func (c *Client) ListRoles(ctx context.Context) ([]Role, error) {
	var out struct {
		Roles []Role `json:"roles"`
	}
	if err := c.get(ctx, "roles.list", nil, &out); err != nil {
		return nil, err
	}
	return out.Roles, nil
}
