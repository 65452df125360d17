package client

import (
	"bytes"
	"context"
	"time"
)

// Integration types, as integrations.list names them in its type filter and
// in each record's type.
const (
	IntegrationIncoming = "webhook-incoming"
	IntegrationOutgoing = "webhook-outgoing"
)

// Integration is an incoming or outgoing webhook integration as
// integrations.list returns it.
//
// Only what governance needs is decoded. The record's token (the secret part
// of an incoming webhook's URL, or what an outgoing one sends its targets),
// its script and the script's compiled form and compile error are not fields
// here on purpose: they stay in the HTTP body and never reach anything the
// connector keeps (the session store, the c1z, logs, errors). Rocket.Chat
// sends them to whoever may list integrations; nothing here needs them.
type Integration struct {
	ID      string `json:"_id"`
	Type    string `json:"type"`
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	// Username and UserID name the account the integration posts as.
	Username string   `json:"username"`
	UserID   string   `json:"userId"`
	Channels []string `json:"channel"`
	// ScriptEnabled is the "Script enabled" switch. A script runs only when
	// it is on and a compiled script exists: ScriptCompiled and ScriptError
	// say whether the compiled script and a compile error are there, not
	// what they hold.
	ScriptEnabled  bool      `json:"scriptEnabled"`
	ScriptCompiled Presence  `json:"scriptCompiled"`
	ScriptError    Presence  `json:"scriptError"`
	CreatedAt      time.Time `json:"_createdAt"`
	CreatedBy      UserRef   `json:"_createdBy"`
	// Outgoing webhooks only: the event that triggers it, the URLs it
	// calls, and whether it answers as the user who triggered it.
	Event           string   `json:"event,omitempty"`
	URLs            []string `json:"urls,omitempty"`
	ImpersonateUser bool     `json:"impersonateUser,omitempty"`
}

// ScriptRuns reports whether Rocket.Chat runs the integration's script: the
// switch is on and the script compiled.
func (i *Integration) ScriptRuns() bool {
	return i.ScriptEnabled && bool(i.ScriptCompiled)
}

// OAuthApp is an OAuth application (Administration > Third-party login) as
// oauth-apps.list returns it. Its client secret is deliberately not a field:
// it is never decoded, so nothing the connector keeps can hold it. The client
// id is public by design (every authorization request carries it).
type OAuthApp struct {
	ID          string    `json:"_id"`
	Name        string    `json:"name"`
	Active      bool      `json:"active"`
	ClientID    string    `json:"clientId"`
	RedirectURI string    `json:"redirectUri"`
	CreatedAt   time.Time `json:"_createdAt"`
	CreatedBy   UserRef   `json:"_createdBy"`
}

// Presence records whether a JSON field holds something — a non-empty
// string, an object, any value but null or false — without keeping what it
// holds. The raw bytes are looked at in place and not copied.
type Presence bool

// UnmarshalJSON implements json.Unmarshaler.
func (p *Presence) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0, bytes.Equal(b, []byte("null")), bytes.Equal(b, []byte("false")):
		*p = false
	case b[0] == '"':
		// A string of blanks counts as none, as Rocket.Chat's trim() does.
		*p = len(bytes.TrimSpace(bytes.Trim(b, `"`))) > 0
	default:
		*p = true
	}
	return nil
}

// IntegrationsPage reads one page of the webhook integrations of one type
// (IntegrationIncoming or IntegrationOutgoing) that the token's user may see:
// all of that type with manage-incoming-integrations or
// manage-outgoing-integrations, only the ones it created with the
// manage-own-* variant (see Rocket.Chat's mountIntegrationQueryBasedOnPermissions).
// With count All it is the whole listing from offset on in one call.
func (c *Client) IntegrationsPage(ctx context.Context, integrationType string, offset, count int) (Page[Integration], error) {
	q := pageQuery(offset, count)
	if integrationType != "" {
		q.Set("type", integrationType)
	}
	return listPage[Integration](ctx, c, "integrations.list", "integrations", q, offset)
}

// ListOAuthApps reads every OAuth app (needs manage-oauth-apps). The endpoint
// is not paginated.
func (c *Client) ListOAuthApps(ctx context.Context) ([]OAuthApp, error) {
	var out struct {
		OAuthApps []OAuthApp `json:"oauthApps"`
	}
	if err := c.get(ctx, "oauth-apps.list", nil, &out); err != nil {
		return nil, err
	}
	return out.OAuthApps, nil
}
