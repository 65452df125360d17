package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// Setting is GET settings/:_id's answer: the setting's id and value.
type Setting struct {
	ID    string          `json:"_id"`
	Value json.RawMessage `json:"value"`
}

// GetSetting reads one workspace setting (GET settings/:_id). Rocket.Chat
// requires view-privileged-setting (403 otherwise) and answers a bare 400
// {"success":false} for an unknown or hidden setting. Every id shares the
// one route's rate budget.
func (c *Client) GetSetting(ctx context.Context, id string) (*Setting, error) {
	var out Setting
	r := &request{method: http.MethodGet, endpoint: "settings/" + url.PathEscape(id), route: "settings/:_id", auth: true}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// LoginService is one sign-in service as settings.oauth lists it. A custom
// OAuth service comes with its configuration, of which these are the fields
// that say whether each login through it rewrites the user's roles
// (updateOAuthServices in apps/meteor/server/lib/oauth/updateOAuthServices.ts).
// settings.oauth leaves the client secret out (its projection drops
// `secret`), and this type has no field for it either.
type LoginService struct {
	Service string `json:"service"`
	Custom  bool   `json:"custom"`
	// MergeRoles is Accounts_OAuth_Custom-<name>-merge_roles: each login
	// sets the user's roles from the RolesClaim claim of the identity
	// provider's answer, for the roles RolesToSync names (comma-separated).
	MergeRoles  bool   `json:"mergeRoles"`
	RolesClaim  string `json:"rolesClaim"`
	RolesToSync string `json:"rolesToSync"`
}

// LoginServices reads the enabled sign-in services (GET settings.oauth,
// which needs no permission).
func (c *Client) LoginServices(ctx context.Context) ([]LoginService, error) {
	var out struct {
		Services []LoginService `json:"services"`
	}
	if err := c.get(ctx, "settings.oauth", nil, &out); err != nil {
		return nil, err
	}
	return out.Services, nil
}
