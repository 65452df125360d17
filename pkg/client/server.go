package client

import (
	"context"
	"net/http"
)

// Info reads the unauthenticated /api/info. It is the first call of a run:
// an answer that is not Rocket.Chat's JSON means base-url is wrong.
func (c *Client) Info(ctx context.Context) (*ServerInfo, error) {
	var out ServerInfo
	if err := c.do(ctx, &request{method: http.MethodGet, endpoint: endpointInfo}, &out); err != nil {
		return nil, err
	}
	if !out.Success && out.Version == "" {
		return nil, &NotRocketChatError{Endpoint: endpointInfo, ContentType: "JSON without a Rocket.Chat version"}
	}
	return &out, nil
}

// Me reads the token owner's account, including its global roles.
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var out Me
	if err := c.get(ctx, "me", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListPermissions reads every permission with the roles that hold it.
func (c *Client) ListPermissions(ctx context.Context) ([]Permission, error) {
	var out struct {
		Update []Permission `json:"update"`
	}
	if err := c.get(ctx, "permissions.listAll", nil, &out); err != nil {
		return nil, err
	}
	return out.Update, nil
}
