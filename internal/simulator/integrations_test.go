package simulator

import (
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"
)

// Fixed ids of the integrations fixture.
const (
	hookCI     = "65f0c0ffee0000000000a001" // incoming, by the admin, as rocket.cat
	hookAlice  = "65f0c0ffee0000000000a002" // incoming, by alice, disabled
	hookDeploy = "65f0c0ffee0000000000a003" // outgoing, by alice, as deploy-bot
	hookAudit  = "65f0c0ffee0000000000a004" // outgoing, by the admin
	appZapier  = "65f0c0ffee0000000000b001"

	ownHooksRole  = "OwnHooksRoleOOOOO" // both manage-own-* permissions
	inManagerRole = "InMgrRoleIIIIIIII" // manage-incoming-integrations only
	quirkRole     = "QuirkRoleQQQQQQQQ" // manage-incoming + both manage-own-*
)

// integrationsWorkspace is smallWorkspace with webhooks, an OAuth app, and
// roles holding each mix of the integration permissions: alice holds the
// manage-own-* pair, carol manage-incoming-integrations, the reader the
// quirky mix.
func integrationsWorkspace() *Workspace {
	ws := smallWorkspace()
	ws.Roles = append(ws.Roles,
		&Role{ID: ownHooksRole, Name: "hook-owner", Scope: "Users"},
		&Role{ID: inManagerRole, Name: "incoming-manager", Scope: "Users"},
		&Role{ID: quirkRole, Name: "quirk", Scope: "Users"},
	)
	grant := func(role string, perms ...string) {
		for _, p := range perms {
			ws.Permissions[p] = append(ws.Permissions[p], role)
		}
	}
	grant(ownHooksRole, "manage-own-incoming-integrations", "manage-own-outgoing-integrations")
	grant(inManagerRole, "manage-incoming-integrations")
	grant(quirkRole, "manage-incoming-integrations", "manage-own-incoming-integrations", "manage-own-outgoing-integrations")
	ws.UserByID(idAlice).Roles = append(ws.UserByID(idAlice).Roles, ownHooksRole)
	ws.UserByID(idCarol).Roles = append(ws.UserByID(idCarol).Roles, inManagerRole)
	ws.UserByID(idReader).Roles = append(ws.UserByID(idReader).Roles, quirkRole)

	ws.AddIntegration(&Integration{ID: hookCI, Type: IntegrationIncoming, Name: "CI alerts", Enabled: true,
		Username: "rocket.cat", UserID: "rocket.cat", Channel: []string{"#general"}, Token: "tokenCI",
		ScriptEnabled: true, Script: "class Script {}", ScriptCompiled: "var Script=function(){}",
		CreatedAt: t0, CreatedByID: idAdmin, CreatedByUsername: "svc-admin"})
	ws.AddIntegration(&Integration{ID: hookAlice, Type: IntegrationIncoming, Name: "alice's hook", Enabled: false,
		Username: "alice", UserID: idAlice, Channel: []string{"@alice"}, Token: "tokenAlice",
		CreatedAt: t0.Add(time.Hour), CreatedByID: idAlice, CreatedByUsername: "alice"})
	ws.AddIntegration(&Integration{ID: hookDeploy, Type: IntegrationOutgoing, Name: "Deploy", Enabled: true,
		Username: "deploy-bot", UserID: idBot, Channel: []string{"#ops"}, Token: "tokenDeploy", Event: "sendMessage",
		URLs: []string{"https://deploy.example.com/hook"}, TriggerWords: []string{"!deploy"}, ScriptEnabled: true,
		ScriptError: "Unexpected token (1:4)", CreatedAt: t0.Add(2 * time.Hour), CreatedByID: idAlice, CreatedByUsername: "alice"})
	ws.AddIntegration(&Integration{ID: hookAudit, Type: IntegrationOutgoing, Name: "Audit", Enabled: true,
		Username: "rocket.cat", UserID: "rocket.cat", Channel: []string{"all_public_channels"}, Event: "roomCreated",
		URLs: []string{"https://audit.example.com/"}, RetryFailedCalls: true, RetryCount: 4, RetryDelay: "powers-of-ten",
		CreatedAt: t0.Add(3 * time.Hour), CreatedByID: idAdmin, CreatedByUsername: "svc-admin"})
	ws.AddOAuthApp(&OAuthApp{ID: appZapier, Name: "Zapier", Active: true, RedirectURI: "https://zapier.example.com/return",
		ClientID: "zapierClient00001", ClientSecret: "zapierSecret", CreatedAt: t0, CreatedByID: idAdmin, CreatedByUsername: "svc-admin"})
	return ws
}

func integrationsHarness() *harness {
	return newHarness(integrationsWorkspace(), Options{DisableRateLimiter: true})
}

func TestIntegrationsListDocuments(t *testing.T) {
	h := integrationsHarness()
	expect(t, h.get(t, "/api/v1/integrations.list?name=ci&type=webhook-incoming", &credAdmin), http.StatusOK,
		`{"integrations":[{"_id":"65f0c0ffee0000000000a001","type":"webhook-incoming","name":"CI alerts","enabled":true,`+
			`"username":"rocket.cat","channel":["#general"],"scriptEnabled":true,"overrideDestinationChannelEnabled":false,`+
			`"script":"class Script {}","token":"tokenCI","userId":"rocket.cat","_createdAt":"2025-01-02T03:04:05.678Z",`+
			`"_createdBy":{"_id":"AdminAAAAAAAAAAAA","username":"svc-admin"},"scriptCompiled":"var Script=function(){}",`+
			`"_updatedAt":"2025-01-02T03:04:05.678Z"}],"offset":0,"items":1,"count":1,"total":1,"success":true}`)
	expect(t, h.get(t, "/api/v1/integrations.list?type=webhook-outgoing&name=DEPLOY", &credAdmin), http.StatusOK,
		`{"integrations":[{"_id":"65f0c0ffee0000000000a003","type":"webhook-outgoing","name":"Deploy","enabled":true,`+
			`"username":"deploy-bot","channel":["#ops"],"scriptEnabled":true,"script":"","urls":["https://deploy.example.com/hook"],`+
			`"event":"sendMessage","triggerWords":["!deploy"],"token":"tokenDeploy","impersonateUser":false,"retryFailedCalls":false,`+
			`"runOnEdits":false,"triggerWordAnywhere":false,"userId":"BotBBBBBBBBBBBBBB","_createdAt":"2025-01-02T05:04:05.678Z",`+
			`"_createdBy":{"_id":"AliceAAAAAAAAAAAA","username":"alice"},`+
			`"scriptError":{"name":"SyntaxError","message":"Unexpected token (1:4)","stack":"SyntaxError: Unexpected token (1:4)"},`+
			`"_updatedAt":"2025-01-02T05:04:05.678Z"}],"offset":0,"items":1,"count":1,"total":1,"success":true}`)
	audit := items(t, h.get(t, "/api/v1/integrations.list?name=audit", &credAdmin), "integrations")
	if len(audit) != 1 || hasKey(audit[0], "token") || num(audit[0]["retryCount"]) != 4 || audit[0]["retryDelay"] != "powers-of-ten" {
		t.Errorf("an outgoing webhook without a token: %v", audit)
	}
}

// Who sees what follows mountIntegrationQueryBasedOnPermissions, quirk
// included; without any of the four permissions the route refuses.
func TestIntegrationsListScopes(t *testing.T) {
	h := integrationsHarness()
	for _, tc := range []struct {
		name string
		cred Credential
		want []string
	}{
		{"admin: every permission, everything", credAdmin, []string{hookCI, hookAlice, hookDeploy, hookAudit}},
		{"both manage-own-*: own of both types", credAlice, []string{hookAlice, hookDeploy}},
		{"manage-incoming only: every incoming, no outgoing", credCarol, []string{hookCI, hookAlice}},
		{"manage-incoming and both manage-own-*: own only", credReader, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.get(t, "/api/v1/integrations.list?count=0", &tc.cred)
			expectCode(t, r, http.StatusOK)
			if got := ids(items(t, r, "integrations")); !slices.Equal(got, tc.want) || num(r.body["total"]) != len(tc.want) {
				t.Errorf("got %v (total %v), want %v", got, r.body["total"], tc.want)
			}
		})
	}
	const refusal = `{"success":false,"error":"User does not have the permissions required for this action [error-unauthorized]"}`
	expect(t, h.get(t, "/api/v1/integrations.list", &credPlain), http.StatusForbidden, refusal)
	expect(t, h.get(t, "/api/v1/integrations.list?fields=%7B%7D", &credPlain), http.StatusForbidden, refusal) // permissions before validation
	expectCode(t, h.get(t, "/api/v1/integrations.list", nil), http.StatusUnauthorized)
}

func TestIntegrationsListPagingAndValidation(t *testing.T) {
	ws := integrationsWorkspace()
	for i := range 120 {
		ws.AddIntegration(&Integration{Type: IntegrationIncoming, Name: "bulk-" + strconv.Itoa(i), Enabled: true,
			Username: "rocket.cat", UserID: "rocket.cat", CreatedByID: idAdmin, CreatedByUsername: "svc-admin"})
	}
	h := newHarness(ws, Options{DisableRateLimiter: true})
	r := h.get(t, "/api/v1/integrations.list?type=webhook-incoming&count=100&offset=100", &credAdmin)
	if got := items(t, r, "integrations"); len(got) != 22 || num(r.body["total"]) != 122 || num(r.body["offset"]) != 100 || num(r.body["count"]) != 22 {
		t.Errorf("second page: %d items, envelope %v %v %v", len(got), r.body["total"], r.body["offset"], r.body["count"])
	}
	if got := items(t, h.get(t, "/api/v1/integrations.list?count=0", &credAdmin), "integrations"); len(got) != 124 {
		t.Errorf("count=0: %d items, want all 124", len(got))
	}
	if got := items(t, h.get(t, "/api/v1/integrations.list?count=500", &credAdmin), "integrations"); len(got) != 100 {
		t.Errorf("count=500: %d items, want the upper limit 100", len(got))
	}
	if got := ids(items(t, h.get(t, `/api/v1/integrations.list?type=webhook-outgoing&sort={"name":-1}`, &credAdmin), "integrations")); !slices.Equal(got, []string{hookDeploy, hookAudit}) {
		t.Errorf("sorted by name descending: %v", got)
	}
	off := newHarness(ws, Options{DisableRateLimiter: true, InfiniteCountDisabled: true})
	r = off.get(t, "/api/v1/integrations.list?count=0", &credAdmin)
	if got := items(t, r, "integrations"); len(got) != 50 || num(r.body["total"]) != 124 {
		t.Errorf("count=0 with infinite count off: %d items of %v, want 50", len(got), r.body["total"])
	}
	expect(t, h.get(t, "/api/v1/integrations.list?fields=%7B%7D", &credAdmin), http.StatusBadRequest,
		`{"success":false,"errorType":"error-invalid-params","error":"must NOT have additional properties"}`)
	expectCode(t, h.get(t, "/api/v1/integrations.list?sort=name", &credAdmin), http.StatusBadRequest)
}

func TestOAuthAppsList(t *testing.T) {
	h := integrationsHarness()
	expect(t, h.get(t, "/api/v1/oauth-apps.list", &credAdmin), http.StatusOK,
		`{"oauthApps":[{"_id":"65f0c0ffee0000000000b001","name":"Zapier","active":true,"redirectUri":"https://zapier.example.com/return",`+
			`"clientId":"zapierClient00001","clientSecret":"zapierSecret","_createdAt":"2025-01-02T03:04:05.678Z",`+
			`"_updatedAt":"2025-01-02T03:04:05.678Z","_createdBy":{"_id":"AdminAAAAAAAAAAAA","username":"svc-admin"}}],"success":true}`)
	expect(t, h.get(t, "/api/v1/oauth-apps.list?uid="+idAdmin, &credAdmin), http.StatusOK, h.get(t, "/api/v1/oauth-apps.list", &credAdmin).raw)
	// manage-own-* and manage-incoming-integrations are no use here.
	for _, cred := range []Credential{credPlain, credAlice, credCarol} {
		expect(t, h.get(t, "/api/v1/oauth-apps.list", &cred), http.StatusForbidden,
			`{"success":false,"error":"User does not have the permissions required for this action [error-unauthorized]"}`)
	}
	expect(t, h.get(t, "/api/v1/oauth-apps.list?count=0", &credAdmin), http.StatusBadRequest,
		`{"success":false,"errorType":"error-invalid-params","error":"must NOT have additional properties"}`)
}

func TestNonHumanDefaultsAndClone(t *testing.T) {
	ws := NewWorkspace()
	for _, p := range []string{"manage-incoming-integrations", "manage-outgoing-integrations", "manage-own-incoming-integrations",
		"manage-own-outgoing-integrations", "manage-oauth-apps"} {
		if !slices.Equal(ws.Permissions[p], []string{"admin"}) {
			t.Errorf("%s held by %v, want admin (Rocket.Chat's default)", p, ws.Permissions[p])
		}
	}
	in := ws.AddIntegration(&Integration{Type: IntegrationIncoming, Name: "x", Channel: []string{"#a"}})
	out := ws.AddIntegration(&Integration{Type: IntegrationOutgoing, Name: "y", URLs: []string{"https://a.example/"}})
	app := ws.AddOAuthApp(&OAuthApp{Name: "z"})
	if len(in.ID) != 24 || len(in.Token) != 48 || out.Token != "" || in.CreatedAt.IsZero() || !in.UpdatedAt.Equal(in.CreatedAt) {
		t.Errorf("integration defaults: %+v / %+v", in, out)
	}
	if len(app.ID) != 24 || len(app.ClientID) != 17 || len(app.ClientSecret) != 43 {
		t.Errorf("app defaults: %+v", app)
	}
	c := ws.Clone()
	c.Integrations[0].Channel[0] = "#changed"
	c.Integrations[1].URLs[0] = "https://changed.example/"
	c.OAuthApps[0].Name = "changed"
	if in.Channel[0] != "#a" || out.URLs[0] != "https://a.example/" || app.Name != "z" {
		t.Error("Clone shares integration or app data with the original")
	}
}
