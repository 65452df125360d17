package simulator

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// Integration types, as Rocket.Chat stores them in an integration's type.
const (
	IntegrationIncoming = "webhook-incoming"
	IntegrationOutgoing = "webhook-outgoing"
)

// Integration is a webhook integration (rocketchat_integrations), as
// addIncomingIntegration and validateOutgoingIntegration
// (apps/meteor/app/integrations/server/) write it. Empty strings and nil
// slices stand for fields absent from the document.
type Integration struct {
	// ID is an ObjectId's hex string (BaseRaw.insertOne).
	ID string
	// Type is IntegrationIncoming or IntegrationOutgoing.
	Type    string
	Name    string
	Enabled bool
	// Username and UserID are the account the integration posts as.
	Username, UserID string
	// Channel holds "#room", "@user" or, for outgoing webhooks, the scopes
	// all_public_channels, all_private_groups and all_direct_messages.
	Channel []string
	// Token is the integration's secret: an incoming webhook's URL is
	// /hooks/<ID>/<Token>; an outgoing webhook sends it to its URLs.
	Token         string
	ScriptEnabled bool
	Script        string
	// ScriptCompiled is the Babel output, set when the script compiled;
	// ScriptError the compile error's message, when it did not.
	ScriptCompiled, ScriptError    string
	Alias, Emoji, Avatar           string
	CreatedAt, UpdatedAt           time.Time
	CreatedByID, CreatedByUsername string

	// Incoming webhooks only.
	OverrideDestinationChannelEnabled bool

	// Outgoing webhooks only.
	Event               string // sendMessage, fileUploaded, roomArchived, ...
	URLs                []string
	TriggerWords        []string
	TargetRoom          string
	ImpersonateUser     bool
	RetryFailedCalls    bool
	RetryCount          int
	RetryDelay          string
	RunOnEdits          bool
	TriggerWordAnywhere bool
}

// OAuthApp is an OAuth application (rocketchat_oauth_apps), as addOAuthApp
// (apps/meteor/app/oauth2-server-config/server/admin/functions/) writes it.
type OAuthApp struct {
	ID, Name string
	Active   bool
	// RedirectURI is parseUriList's output: the URIs joined by commas.
	RedirectURI string
	// ClientID is a Random.id(), ClientSecret a Random.secret().
	ClientID, ClientSecret         string
	CreatedAt, UpdatedAt           time.Time
	CreatedByID, CreatedByUsername string
}

// AddIntegration appends it and returns it. A missing ID gets an ObjectId
// hex string, a missing Token a 48-character Random.id (incoming webhooks;
// an outgoing webhook's token is whatever its creator typed, possibly none),
// a zero CreatedAt the current time, a zero UpdatedAt CreatedAt.
func (w *Workspace) AddIntegration(it *Integration) *Integration {
	if it.ID == "" {
		it.ID = objectID()
	}
	if it.Token == "" && it.Type == IntegrationIncoming {
		it.Token = randomIDN(48)
	}
	if it.CreatedAt.IsZero() {
		it.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
	}
	if it.UpdatedAt.IsZero() {
		it.UpdatedAt = it.CreatedAt
	}
	w.Integrations = append(w.Integrations, it)
	return it
}

// AddOAuthApp appends app and returns it, filling in an ObjectId, a client
// id and secret and the dates when missing.
func (w *Workspace) AddOAuthApp(app *OAuthApp) *OAuthApp {
	if app.ID == "" {
		app.ID = objectID()
	}
	if app.ClientID == "" {
		app.ClientID = randomID(runtimeRand())
	}
	if app.ClientSecret == "" {
		app.ClientSecret = randomSecret()
	}
	if app.CreatedAt.IsZero() {
		app.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
	}
	if app.UpdatedAt.IsZero() {
		app.UpdatedAt = app.CreatedAt
	}
	w.OAuthApps = append(w.OAuthApps, app)
	return app
}

func (it *Integration) clone() *Integration {
	c := *it
	c.Channel = slices.Clone(it.Channel)
	c.URLs = slices.Clone(it.URLs)
	c.TriggerWords = slices.Clone(it.TriggerWords)
	return &c
}

// integrationDoc renders an IIntegration in the key order the server stores
// it: _id first (insertOne), then the creation form's fields as the spread
// keeps them, then what the method adds, _updatedAt last (setUpdatedAt).
func integrationDoc(it *Integration) object {
	o := object{{keyID, it.ID}, {keyType, it.Type}, {keyName, it.Name}, {"enabled", it.Enabled}, {keyUsername, it.Username},
		{"channel", nonNil(it.Channel)}}
	opt := func(key, v string) {
		if v != "" {
			o = o.with(key, v)
		}
	}
	opt("alias", it.Alias)
	opt("emoji", it.Emoji)
	o = o.with("scriptEnabled", it.ScriptEnabled)
	if it.Type == IntegrationIncoming {
		o = o.with("overrideDestinationChannelEnabled", it.OverrideDestinationChannelEnabled).with("script", it.Script)
		opt("avatar", it.Avatar)
		o = o.with("token", it.Token)
	} else {
		o = o.with("script", it.Script).with("urls", nonNil(it.URLs)).with("event", it.Event)
		if len(it.TriggerWords) > 0 {
			o = o.with("triggerWords", it.TriggerWords)
		}
		opt("avatar", it.Avatar)
		opt("token", it.Token)
		o = o.with("impersonateUser", it.ImpersonateUser)
		if it.RetryFailedCalls {
			// _verifyRetryInformation fills these in only for retried calls.
			o = o.with("retryCount", it.RetryCount).with("retryDelay", it.RetryDelay)
		}
		o = o.with("retryFailedCalls", it.RetryFailedCalls).with("runOnEdits", it.RunOnEdits)
		opt("targetRoom", it.TargetRoom)
		o = o.with("triggerWordAnywhere", it.TriggerWordAnywhere)
	}
	o = o.with(keyUserID, it.UserID).with("_createdAt", isoTime(it.CreatedAt)).
		with("_createdBy", object{{keyID, it.CreatedByID}, {keyUsername, it.CreatedByUsername}})
	opt("scriptCompiled", it.ScriptCompiled)
	if it.ScriptError != "" {
		o = o.with("scriptError", object{{keyName, "SyntaxError"}, {keyMessage, it.ScriptError}, {"stack", "SyntaxError: " + it.ScriptError}})
	}
	return o.with(keyUpdatedAt, isoTime(it.UpdatedAt))
}

func integrationField(it *Integration, f string) any {
	switch f {
	case keyID:
		return it.ID
	case keyType:
		return it.Type
	case keyName:
		return it.Name
	case "enabled":
		return it.Enabled
	case keyUsername:
		return it.Username
	case keyUserID:
		return it.UserID
	case "_createdAt":
		return it.CreatedAt
	case keyUpdatedAt:
		return it.UpdatedAt
	case "_createdBy._id":
		return it.CreatedByID
	}
	return nil
}

// integrationsListQuery is isIntegrationsListProps
// (packages/rest-typings/src/v1/integrations/IntegrationsListProps.ts).
var integrationsListQuery = &schema{
	coerce: true,
	closed: true,
	props: []prop{
		{name: keyCount, kind: kNumber, nullable: true},
		{name: keyOffset, kind: kNumber, nullable: true},
		{name: keySort, kind: kString, nullable: true},
		{name: keyName, kind: kString, nullable: true},
		{name: keyType, kind: kString, nullable: true},
		{name: keyQuery, kind: kString, nullable: true},
	},
}

// integrationsVisible mirrors mountIntegrationQueryBasedOnPermissions
// (apps/meteor/app/integrations/server/lib/mountQueriesBasedOnPermission.ts),
// global roles only as hasPermissionAsync without a scope. Note its second
// case: holding both manage-own-* permissions narrows the listing to the
// caller's own integrations of both types, even when the caller also holds
// one of the manage-* permissions (but not both).
func integrationsVisible(ws *Workspace, u *User) func(*Integration) bool {
	allOut := ws.hasPermission(u, permManageOutgoingIntegrations, nil)
	allIn := ws.hasPermission(u, permManageIncomingIntegrations, nil)
	ownOut := ws.hasPermission(u, permManageOwnOutgoingIntegrations, nil)
	ownIn := ws.hasPermission(u, permManageOwnIncomingIntegrations, nil)
	own := func(it *Integration) bool { return it.CreatedByID == u.ID }
	switch {
	case allOut && allIn:
		return func(*Integration) bool { return true }
	case ownOut && ownIn:
		return own
	}
	return func(it *Integration) bool {
		switch it.Type {
		case IntegrationOutgoing:
			return allOut || ownOut && own(it)
		case IntegrationIncoming:
			return allIn || ownIn && own(it)
		}
		return false
	}
}

// integrationsList serves integrations.list: the caller's visible
// integrations, filtered by name (a case-insensitive substring) and type,
// in storage order unless sort says otherwise (the default sort, { ts: -1 },
// names a field integrations do not have). The query parameter
// (parseJsonQuery's) is accepted and not applied.
func (s *Server) integrationsList(c *call) reply {
	offset, count := s.pagination(c.query)
	keys, bad := parseSort(c.query)
	if bad != nil {
		return *bad
	}
	name, typ := str(c.query, keyName), str(c.query, keyType)
	visible := integrationsVisible(c.ws, c.user)
	var list []*Integration
	for _, it := range c.ws.Integrations {
		if !visible(it) || typ != "" && it.Type != typ || name != "" && !strings.Contains(strings.ToLower(it.Name), strings.ToLower(name)) {
			continue
		}
		list = append(list, it)
	}
	if keys != nil {
		sortBy(list, keys, integrationField)
	}
	total := len(list)
	list = page(list, offset, count)
	docs := make([]object, len(list))
	for i, it := range list {
		docs[i] = integrationDoc(it)
	}
	return success(field{"integrations", docs}, field{keyOffset, offset}, field{"items", len(docs)}, field{keyCount, len(docs)}, field{keyTotal, total})
}

// oauthAppsListQuery is the route's query schema: uid only (ignored).
var oauthAppsListQuery = &schema{
	coerce: true,
	closed: true,
	props:  []prop{{name: "uid", kind: kString}},
}

// oauthAppDoc renders an IOAuthApps in the order addOAuthApp builds it.
func oauthAppDoc(app *OAuthApp) object {
	return object{
		{keyID, app.ID}, {keyName, app.Name}, {keyActive, app.Active}, {"redirectUri", app.RedirectURI},
		{keyClientID, app.ClientID}, {"clientSecret", app.ClientSecret},
		{"_createdAt", isoTime(app.CreatedAt)}, {keyUpdatedAt, isoTime(app.UpdatedAt)},
		{"_createdBy", object{{keyID, app.CreatedByID}, {keyUsername, app.CreatedByUsername}}},
	}
}

// oauthAppsList serves oauth-apps.list (apps/meteor/server/api/v1/oauthapps.ts):
// every app, secrets included, unpaginated; the route requires
// manage-oauth-apps.
func (s *Server) oauthAppsList(c *call) reply {
	docs := make([]object, len(c.ws.OAuthApps))
	for i, app := range c.ws.OAuthApps {
		docs[i] = oauthAppDoc(app)
	}
	return success(field{"oauthApps", docs})
}

// objectID imitates new ObjectId().toHexString(): 24 hex digits, the first
// eight the creation time.
func objectID() string {
	var b [12]byte
	_, _ = rand.Read(b[4:])
	binary.BigEndian.PutUint32(b[:4], uint32(time.Now().Unix())) //nolint:gosec // seconds since 1970 fit until 2106
	return hex.EncodeToString(b[:])
}

// randomIDN is Random.id(n).
func randomIDN(n int) string {
	r := runtimeRand()
	b := make([]byte, n)
	for i := range b {
		b[i] = idAlphabet[r.IntN(len(idAlphabet))]
	}
	return string(b)
}

// randomSecret is Random.secret(): 43 characters of base64url.
func randomSecret() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	r := runtimeRand()
	b := make([]byte, 43)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}
