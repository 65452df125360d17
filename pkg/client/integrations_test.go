package client

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Secrets as Rocket.Chat sends them to whoever may list integrations and
// OAuth apps. None of them may survive decoding.
const (
	hookToken    = "HOOKTOKEN-QbC9x2Zr7LmW4pT8vK1nJ6sD3fG5hY0aE-incoming"
	hookScript   = "const apiKey = 'SCRIPTSECRET-5tGv8Nq2';"
	hookCompiled = "var apiKey='SCRIPTSECRET-5tGv8Nq2';"
	clientSecret = "CLIENTSECRET-Rz4Wq8Lm2Xv6Tn0Pk9Jc3Hb7"
)

const integrationsBody = `{"integrations":[` +
	`{"_id":"65f0c0ffee0000000000a001","type":"webhook-incoming","name":"CI alerts","enabled":true,"username":"rocket.cat",` +
	`"channel":["#ops","@alice"],"scriptEnabled":true,"overrideDestinationChannelEnabled":false,"script":"` + hookScript + `",` +
	`"token":"` + hookToken + `","userId":"rocket.cat","_createdAt":"2025-03-04T05:06:07.089Z",` +
	`"_createdBy":{"_id":"adminId0000000001","username":"admin"},"scriptCompiled":"` + hookCompiled + `","_updatedAt":"2025-03-04T05:06:07.089Z"},` +
	`{"_id":"65f0c0ffee0000000000a002","type":"webhook-outgoing","name":"Deploy","enabled":false,"username":"deploy-bot",` +
	`"channel":["all_public_channels"],"scriptEnabled":true,"script":"","urls":["https://hooks.example.com/in"],"event":"sendMessage",` +
	`"token":"` + hookToken + `-out","impersonateUser":true,"userId":"botId000000000001","_createdAt":"2025-03-05T00:00:00.000Z",` +
	`"_createdBy":{"_id":"adminId0000000001","username":"admin"},"scriptError":{"name":"SyntaxError","message":"` + hookScript + `","stack":"x"},` +
	`"_updatedAt":"2025-03-05T00:00:00.000Z"}` +
	`],"offset":0,"items":2,"count":2,"total":2,"success":true}`

const oauthAppsBody = `{"oauthApps":[{"_id":"65f0c0ffee0000000000b001","name":"Zapier","active":true,` +
	`"redirectUri":"https://zapier.com/dashboard/auth/oauth/return/App/","clientId":"zapierClientId001",` +
	`"clientSecret":"` + clientSecret + `","_createdAt":"2025-01-01T00:00:00.000Z","_updatedAt":"2025-01-01T00:00:00.000Z",` +
	`"_createdBy":{"_id":"adminId0000000001","username":"admin"}}],"success":true}`

func TestIntegrationsPageDecodesNoSecret(t *testing.T) {
	rec := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, integrationsBody) })
	c := testClient(t, rec.URL, nil)
	p, err := c.IntegrationsPage(testCtx(t), IntegrationIncoming, 0, All)
	if err != nil {
		t.Fatal(err)
	}
	if h := rec.hit(0); h.path != "/api/v1/integrations.list" || h.query != "count=0&offset=0&type=webhook-incoming" {
		t.Errorf("request %s?%s", h.path, h.query)
	}
	if len(p.Items) != 2 || p.Total != 2 || !p.Complete() {
		t.Fatalf("page %+v", p)
	}
	in, out := p.Items[0], p.Items[1]
	want := Integration{
		ID: "65f0c0ffee0000000000a001", Type: IntegrationIncoming, Name: "CI alerts", Enabled: true,
		Username: "rocket.cat", UserID: "rocket.cat", Channels: []string{"#ops", "@alice"},
		ScriptEnabled: true, ScriptCompiled: true,
		CreatedAt: time.Date(2025, 3, 4, 5, 6, 7, 89_000_000, time.UTC),
		CreatedBy: UserRef{ID: "adminId0000000001", Username: "admin"},
	}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("incoming:\n got %+v\nwant %+v", in, want)
	}
	if !in.ScriptRuns() {
		t.Error("an enabled, compiled script does not run")
	}
	if out.Event != "sendMessage" || !out.ImpersonateUser || len(out.URLs) != 1 || out.Enabled ||
		!bool(out.ScriptError) || bool(out.ScriptCompiled) || out.ScriptRuns() {
		t.Errorf("outgoing: %+v", out)
	}
	// What the connector keeps of an integration is its encoding (session
	// store pages) and what it builds from it: none holds a secret.
	b, err := json.Marshal(p.Items)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{hookToken, "SCRIPTSECRET", `"token"`, `"script"`} {
		if strings.Contains(string(b), secret) {
			t.Errorf("the decoded integrations hold %q: %s", secret, b)
		}
	}
}

func TestOAuthAppsDecodeNoSecret(t *testing.T) {
	rec := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, oauthAppsBody) })
	c := testClient(t, rec.URL, nil)
	apps, err := c.ListOAuthApps(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if h := rec.hit(0); h.path != "/api/v1/oauth-apps.list" || h.query != "" {
		t.Errorf("request %s?%s", h.path, h.query)
	}
	want := []OAuthApp{{
		ID: "65f0c0ffee0000000000b001", Name: "Zapier", Active: true, ClientID: "zapierClientId001",
		RedirectURI: "https://zapier.com/dashboard/auth/oauth/return/App/",
		CreatedAt:   time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		CreatedBy:   UserRef{ID: "adminId0000000001", Username: "admin"},
	}}
	if !reflect.DeepEqual(apps, want) {
		t.Errorf("apps:\n got %+v\nwant %+v", apps, want)
	}
	b, _ := json.Marshal(apps)
	if strings.Contains(string(b), clientSecret) || strings.Contains(string(b), "clientSecret") {
		t.Errorf("the decoded apps hold the client secret: %s", b)
	}
}

// The models have no field a secret could be decoded into, whatever the
// JSON: a field added later that maps to one fails here.
func TestModelsHaveNoSecretFields(t *testing.T) {
	forbidden := map[string]bool{"token": true, "clientSecret": true, "script": true, "password": true, "services": true}
	for _, typ := range []reflect.Type{reflect.TypeOf(Integration{}), reflect.TypeOf(OAuthApp{})} {
		for i := range typ.NumField() {
			f := typ.Field(i)
			name := strings.Split(f.Tag.Get("json"), ",")[0]
			if name == "" {
				name = f.Name
			}
			if forbidden[name] || forbidden[strings.ToLower(f.Name)] {
				t.Errorf("%s.%s decodes %q", typ.Name(), f.Name, name)
			}
			if f.Type == reflect.TypeOf(json.RawMessage{}) || f.Type.Kind() == reflect.Interface || f.Type.Kind() == reflect.Map {
				t.Errorf("%s.%s keeps raw JSON, which could carry a secret", typ.Name(), f.Name)
			}
		}
	}
	// Presence keeps whether, never what.
	for _, tc := range []struct {
		raw  string
		want bool
	}{{`null`, false}, {`""`, false}, {`"   "`, false}, {`"x"`, true}, {`{"message":"m"}`, true}, {`false`, false}, {`true`, true}} {
		var p Presence
		if err := json.Unmarshal([]byte(tc.raw), &p); err != nil || bool(p) != tc.want {
			t.Errorf("Presence(%s) = %v, %v; want %v", tc.raw, p, err, tc.want)
		}
	}
}

// A 403 from either endpoint is PermissionDenied, and its message is the
// server's, never the request's headers.
func TestNonHumanListingsRefused(t *testing.T) {
	const body = `{"success":false,"error":"User does not have the permissions required for this action [error-unauthorized]"}`
	rec := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusForbidden, body) })
	c := testClient(t, rec.URL, nil)
	_, err := c.IntegrationsPage(testCtx(t), IntegrationOutgoing, 0, All)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden || apiErr.Code().String() != "PermissionDenied" {
		t.Errorf("integrations.list: %v", err)
	}
	noToken(t, err)
	_, err = c.ListOAuthApps(testCtx(t))
	if !errors.As(err, &apiErr) || apiErr.Endpoint != "oauth-apps.list" || apiErr.Code().String() != "PermissionDenied" {
		t.Errorf("oauth-apps.list: %v", err)
	}
	noToken(t, err)
}
