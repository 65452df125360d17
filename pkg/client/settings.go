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
