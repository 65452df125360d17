package connector_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/faultkit"
	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/internal/testenv"
	"github.com/conductorone/baton-rocketchat/pkg/connector"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/cli"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	sdksync "github.com/conductorone/baton-sdk/pkg/sync"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// The non-human identity fixture: webhooks and OAuth apps, and accounts
// holding each mix of the permissions that list them.
const (
	nhAdminID   = "nhiAdmin000000001" // admin: every permission
	nhReaderID  = "nhiReader00000001" // governance reader: none of them
	nhOwnerID   = "nhiHookOwner00001" // the two manage-own-* permissions
	nhInMgrID   = "nhiInManager00001" // manage-incoming-integrations only
	nhDeployBot = "nhiDeployBot00001"
	nhAliceID   = "nhiAlice000000001"

	nhGovRole    = "nhiGovRoleGGGGGGG"
	nhOwnRole    = "nhiOwnHooksRoleOO"
	nhInMgrRole  = "nhiInMgrRoleIIIII"
	hookCI       = "65f0c0ffee00000000000001" // incoming, by the admin, as rocket.cat
	hookOwn      = "65f0c0ffee00000000000002" // incoming, by the hook owner, disabled
	hookDeploy   = "65f0c0ffee00000000000003" // outgoing, by the admin, as deploy-bot
	hookAudit    = "65f0c0ffee00000000000004" // outgoing, by the hook owner
	appZapier    = "65f0c0ffee0000000000000a"
	appPortal    = "65f0c0ffee0000000000000b" // inactive
	nhHookToken  = "NHI-INCOMING-TOKEN-Zr7LmW4pT8vK1nJ6sD3fG5hY0aEqBc9x2Uo"
	nhOutToken   = "NHI-OUTGOING-TOKEN-b5Nq8Wr2Lx6Tz0Pk4Jc9Hv3Gm7Fd1Sa"
	nhAppSecret  = "NHI-CLIENT-SECRET-Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk9L"
	nhScriptText = "const key = 'NHI-SCRIPT-SECRET-7Yh3Bv9Nm1'"
)

var (
	nhT0     = time.Date(2025, 6, 1, 10, 0, 0, 123_000_000, time.UTC)
	nhAdmin  = simulator.Credential{UserID: nhAdminID, Token: "nhi-admin-token"}
	nhReader = simulator.Credential{UserID: nhReaderID, Token: "nhi-reader-token"}
	nhOwner  = simulator.Credential{UserID: nhOwnerID, Token: "nhi-owner-token"}
	nhInMgr  = simulator.Credential{UserID: nhInMgrID, Token: "nhi-inmgr-token"}
)

// nonHumanWorkspace is a small workspace with two webhooks of each kind, two
// OAuth apps, and the accounts above.
func nonHumanWorkspace() *simulator.Workspace {
	ws := simulator.NewWorkspace()
	ws.Roles = append(ws.Roles,
		&simulator.Role{ID: nhGovRole, Name: "governance-reader", Scope: "Users"},
		&simulator.Role{ID: nhOwnRole, Name: "hook-owner", Scope: "Users"},
		&simulator.Role{ID: nhInMgrRole, Name: "incoming-manager", Scope: "Users"},
	)
	grant := func(role string, perms ...string) {
		for _, p := range perms {
			ws.Permissions[p] = append(ws.Permissions[p], role)
		}
	}
	grant(nhGovRole, "view-d-room", "view-full-other-user-info", "view-all-teams")
	grant(nhOwnRole, "manage-own-incoming-integrations", "manage-own-outgoing-integrations")
	grant(nhInMgrRole, "manage-incoming-integrations")
	add := func(id, username, name, typ string, roles []string, token string) {
		u := &simulator.User{ID: id, Username: username, Name: name, Type: typ, Active: true, Roles: roles, CreatedAt: nhT0}
		if token != "" {
			u.Tokens = []string{token}
		}
		ws.AddUser(u)
	}
	add(nhAdminID, "svc-admin", "Service Admin", "user", []string{"admin"}, nhAdmin.Token)
	add(nhReaderID, "gov-reader", "Governance Reader", "user", []string{nhGovRole}, nhReader.Token)
	add(nhOwnerID, "hook-owner", "Hook Owner", "user", []string{nhGovRole, nhOwnRole}, nhOwner.Token)
	add(nhInMgrID, "in-manager", "Incoming Manager", "user", []string{nhGovRole, nhInMgrRole}, nhInMgr.Token)
	add("rocket.cat", "rocket.cat", "Rocket.Cat", "bot", []string{"bot"}, "")
	add(nhDeployBot, "deploy-bot", "Deploy Bot", "bot", []string{"bot"}, "")
	add(nhAliceID, "alice", "Alice Liddell", "user", []string{"user"}, "")

	ws.AddIntegration(&simulator.Integration{ID: hookCI, Type: simulator.IntegrationIncoming, Name: "CI alerts", Enabled: true,
		Username: "rocket.cat", UserID: "rocket.cat", Channel: []string{"#general", "@alice"}, Token: nhHookToken,
		ScriptEnabled: true, Script: nhScriptText, ScriptCompiled: "var key='NHI-SCRIPT-SECRET-7Yh3Bv9Nm1'",
		CreatedAt: nhT0, CreatedByID: nhAdminID, CreatedByUsername: "svc-admin"})
	ws.AddIntegration(&simulator.Integration{ID: hookOwn, Type: simulator.IntegrationIncoming, Name: "Owner's hook", Enabled: false,
		Username: "deploy-bot", UserID: nhDeployBot, Channel: []string{"#ops"}, Token: nhHookToken + "-2",
		CreatedAt: nhT0.Add(time.Hour), CreatedByID: nhOwnerID, CreatedByUsername: "hook-owner"})
	ws.AddIntegration(&simulator.Integration{ID: hookDeploy, Type: simulator.IntegrationOutgoing, Name: "Deploy", Enabled: true,
		Username: "deploy-bot", UserID: nhDeployBot, Channel: []string{"#ops"}, Token: nhOutToken, Event: "sendMessage",
		URLs:            []string{"https://ci.example.com/hooks/deploy?key=abc123", "https://bot:s3cr3t@hooks.slack.example/services/T0AAAA/B0BBBB/abcdefGHIJKL12345678"},
		ImpersonateUser: true, ScriptEnabled: true, Script: nhScriptText, ScriptError: "Unexpected token",
		CreatedAt: nhT0.Add(2 * time.Hour), CreatedByID: nhAdminID, CreatedByUsername: "svc-admin"})
	ws.AddIntegration(&simulator.Integration{ID: hookAudit, Type: simulator.IntegrationOutgoing, Name: "Audit trail", Enabled: true,
		Username: "rocket.cat", UserID: "rocket.cat", Channel: []string{"all_public_channels"}, Event: "roomCreated",
		URLs: []string{"https://audit.example.com/in"}, CreatedAt: nhT0.Add(3 * time.Hour), CreatedByID: nhOwnerID, CreatedByUsername: "hook-owner"})
	ws.AddOAuthApp(&simulator.OAuthApp{ID: appZapier, Name: "Zapier", Active: true, RedirectURI: "https://zapier.example.com/dashboard/auth/oauth/return/App/",
		ClientID: "zapierClient00001", ClientSecret: nhAppSecret, CreatedAt: nhT0, CreatedByID: nhAdminID, CreatedByUsername: "svc-admin"})
	ws.AddOAuthApp(&simulator.OAuthApp{ID: appPortal, Name: "Old portal", Active: false, RedirectURI: "https://portal.example.com/cb",
		ClientID: "portalClient00001", ClientSecret: nhAppSecret + "-2", CreatedAt: nhT0.Add(time.Hour), CreatedByID: nhAdminID, CreatedByUsername: "svc-admin"})
	return ws
}

// withNonHumans adds webhooks of both kinds and OAuth apps to a generated
// workspace, created by its admin and posting as rocket.cat and a bot.
func withNonHumans(gen *simulator.Generated) {
	ws := gen.Workspace
	admin := ws.UserByID(gen.Admin.UserID)
	bot := ws.UserByID("rocket.cat")
	for _, u := range ws.Users {
		if u.Type == "bot" && u.ID != "rocket.cat" {
			bot = u
			break
		}
	}
	for i, poster := range []*simulator.User{ws.UserByID("rocket.cat"), bot, bot} {
		ws.AddIntegration(&simulator.Integration{Type: simulator.IntegrationIncoming, Name: "incoming " + strconv.Itoa(i), Enabled: i != 1,
			Username: poster.Username, UserID: poster.ID, Channel: []string{"#general"}, ScriptEnabled: i == 2, ScriptCompiled: "x",
			CreatedAt: nhT0.Add(time.Duration(i) * time.Minute), CreatedByID: admin.ID, CreatedByUsername: admin.Username})
		ws.AddIntegration(&simulator.Integration{Type: simulator.IntegrationOutgoing, Name: "outgoing " + strconv.Itoa(i), Enabled: true,
			Username: poster.Username, UserID: poster.ID, Event: "sendMessage", URLs: []string{"https://hooks.example.com/" + strconv.Itoa(i)},
			CreatedAt: nhT0.Add(time.Duration(i) * time.Minute), CreatedByID: admin.ID, CreatedByUsername: admin.Username})
	}
	ws.AddOAuthApp(&simulator.OAuthApp{Name: "Zapier", Active: true, RedirectURI: "https://zapier.example.com/return",
		CreatedAt: nhT0, CreatedByID: admin.ID, CreatedByUsername: admin.Username})
	ws.AddOAuthApp(&simulator.OAuthApp{Name: "Retired", Active: false, RedirectURI: "https://retired.example.com/cb",
		CreatedAt: nhT0, CreatedByID: admin.ID, CreatedByUsername: admin.Username})
}

// syncWithLogs syncs c with a logger on the context: the connector checks
// the token when the SDK registers its syncers (harness.Serve), and logs
// what that check found there.
func syncWithLogs(t *testing.T, c *connector.Connector) (*harness.Contents, *observer.ObservedLogs, error) {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	ctx := ctxzap.ToContext(context.Background(), zap.New(core))
	dir := t.TempDir()
	path := filepath.Join(dir, "sync.c1z")
	if err := harness.Sync(ctx, c, path, harness.SyncOptions{TmpDir: dir}); err != nil {
		return nil, logs, err
	}
	got, err := harness.ReadC1Z(context.Background(), path, t.TempDir())
	if err != nil {
		t.Fatalf("reading c1z: %v", err)
	}
	return got, logs, nil
}

func logsContaining(logs *observer.ObservedLogs, s string) []observer.LoggedEntry {
	return logs.FilterMessageSnippet(s).All()
}

func userRef(id string) *v2.ResourceId {
	return v2.ResourceId_builder{ResourceType: "user", Resource: id}.Build()
}

// wantIntegration checks one integration resource field by field.
func wantIntegration(t *testing.T, r *v2.Resource, name, description string, enabled bool, created time.Time,
	identity, creator, detail string, profile map[string]any,
) {
	t.Helper()
	id := r.GetId().GetResource()
	if r.GetDisplayName() != name || r.GetDescription() != description {
		t.Errorf("%s: name %q, description %q\nwant %q, %q", id, r.GetDisplayName(), r.GetDescription(), name, description)
	}
	wantStatus := v2.Status_RESOURCE_STATUS_ENABLED
	if !enabled {
		wantStatus = v2.Status_RESOURCE_STATUS_DISABLED
	}
	if r.GetStatus().GetStatus() != wantStatus || !r.GetCreatedAt().AsTime().Equal(created) {
		t.Errorf("%s: status %v, created %v; want %v, %v", id, r.GetStatus(), r.GetCreatedAt().AsTime(), wantStatus, created)
	}
	annos := annotations.Annotations(r.GetAnnotations())
	st := &v2.SecretTrait{}
	if ok, err := annos.Pick(st); !ok || err != nil {
		t.Fatalf("%s: no secret trait (%v)", id, err)
	}
	wantTrait := v2.SecretTrait_builder{
		IdentityId: userRef(identity), CreatedById: userRef(creator),
		CredentialType: v2.SecretTrait_CREDENTIAL_TYPE_STATIC_SECRET, CredentialDetail: detail,
	}.Build()
	if !proto.Equal(st, wantTrait) {
		t.Errorf("%s: secret trait %v\nwant %v", id, st, wantTrait)
	}
	raw := &v2.RawId{}
	if ok, _ := annos.Pick(raw); !ok || raw.GetId() != id {
		t.Errorf("%s: raw id %v", id, raw)
	}
	if annos.Contains(&v2.ExternalLink{}) || annos.Contains(&v2.NonHumanIdentityTrait{}) || annos.Contains(&v2.AppTrait{}) {
		t.Errorf("%s: unexpected annotations %v", id, r.GetAnnotations())
	}
	wantProfile(t, r, profile)
}

func wantProfile(t *testing.T, r *v2.Resource, want map[string]any) {
	t.Helper()
	got := r.GetProfile().AsMap()
	for k, w := range want {
		if g, ok := got[k]; !ok || !sameValue(g, w) {
			t.Errorf("%s profile %s = %#v, want %#v", r.GetId().GetResource(), k, got[k], w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s profile has unexpected %s = %#v", r.GetId().GetResource(), k, got[k])
		}
	}
}

func sameValue(a, b any) bool {
	al, aok := a.([]any)
	bl, bok := b.([]any)
	if aok || bok {
		return aok && bok && slices.EqualFunc(al, bl, sameValue)
	}
	return a == b
}

// TestNonHumanIdentitiesSync: with every permission, both kinds of webhook
// and the OAuth apps are synced, each integration a secret whose identity
// is the account it posts as, with one listing call each and nothing that
// Rocket.Chat holds secret.
func TestNonHumanIdentitiesSync(t *testing.T) {
	env := testenv.Start(t, nonHumanWorkspace(), simulator.Options{}, "")
	got, logs, err := syncWithLogs(t, newConnector(t, env.BaseURL, nhAdmin, nil))
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	want := []string{"incoming-webhook", "oauth-app", "outgoing-webhook", "permission", "role", "team", "user"}
	if ids := got.ResourceTypeIDs(); !slices.Equal(ids, want) {
		t.Fatalf("resource types %v, want %v", ids, want)
	}
	for _, id := range []string{"incoming-webhook", "outgoing-webhook"} {
		rt := got.ResourceType(id)
		rtAnnos := annotations.Annotations(rt.GetAnnotations())
		if !slices.Equal(rt.GetTraits(), []v2.ResourceType_Trait{v2.ResourceType_TRAIT_SECRET}) ||
			!rtAnnos.Contains(&v2.SkipEntitlementsAndGrants{}) ||
			strings.Contains(rt.GetDescription(), "Partial") {
			t.Errorf("type %s: %v", id, rt)
		}
	}
	if rt := got.ResourceType("oauth-app"); !slices.Equal(rt.GetTraits(), []v2.ResourceType_Trait{v2.ResourceType_TRAIT_APP}) {
		t.Errorf("type oauth-app: %v", rt)
	}

	in, out := got.ResourcesOf("incoming-webhook"), got.ResourcesOf("outgoing-webhook")
	if len(in) != 2 || len(out) != 2 {
		t.Fatalf("%d incoming and %d outgoing webhooks, want 2 and 2", len(in), len(out))
	}
	wantIntegration(t, in[hookCI], "CI alerts", "Incoming webhook: whoever holds its URL posts as @rocket.cat to #general, @alice; runs a script",
		true, nhT0, "rocket.cat", nhAdminID, "rocketchat.incoming_webhook_token", map[string]any{
			"integration_id": hookCI, "name": "CI alerts", "type": "webhook-incoming", "enabled": true,
			"script_enabled": true, "script_runs": true, "posts_as_user_id": "rocket.cat", "posts_as_username": "rocket.cat",
			"created_by_id": nhAdminID, "created_by_username": "svc-admin", "created_at": "2025-06-01T10:00:00.123Z",
			"channels": []any{"#general", "@alice"},
		})
	wantIntegration(t, in[hookOwn], "Owner's hook", "Incoming webhook: whoever holds its URL posts as @deploy-bot to #ops (disabled)",
		false, nhT0.Add(time.Hour), nhDeployBot, nhOwnerID, "rocketchat.incoming_webhook_token", map[string]any{
			"integration_id": hookOwn, "name": "Owner's hook", "type": "webhook-incoming", "enabled": false,
			"script_enabled": false, "script_runs": false, "posts_as_user_id": nhDeployBot, "posts_as_username": "deploy-bot",
			"created_by_id": nhOwnerID, "created_by_username": "hook-owner", "created_at": "2025-06-01T11:00:00.123Z",
			"channels": []any{"#ops"},
		})
	wantIntegration(t, out[hookDeploy], "Deploy",
		"Outgoing webhook on sendMessage: sends to ci.example.com, hooks.slack.example; answers are posted as @deploy-bot or, impersonating, as the user who triggered it",
		true, nhT0.Add(2*time.Hour), nhDeployBot, nhAdminID, "rocketchat.outgoing_webhook_token", map[string]any{
			"integration_id": hookDeploy, "name": "Deploy", "type": "webhook-outgoing", "enabled": true,
			"script_enabled": true, "script_runs": false, "script_error": true, "posts_as_user_id": nhDeployBot, "posts_as_username": "deploy-bot",
			"created_by_id": nhAdminID, "created_by_username": "svc-admin", "created_at": "2025-06-01T12:00:00.123Z",
			"channels": []any{"#ops"}, "event": "sendMessage", "impersonate_user": true,
			// What may be a credential in a target URL is masked; where it points stays.
			"target_urls": []any{"https://ci.example.com/hooks/deploy?key=REDACTED", "https://REDACTED@hooks.slack.example/services/T0AAAA/B0BBBB/REDACTED"},
		})
	wantIntegration(t, out[hookAudit], "Audit trail", "Outgoing webhook on roomCreated: sends to audit.example.com; answers are posted as @rocket.cat",
		true, nhT0.Add(3*time.Hour), "rocket.cat", nhOwnerID, "rocketchat.outgoing_webhook_token", map[string]any{
			"integration_id": hookAudit, "name": "Audit trail", "type": "webhook-outgoing", "enabled": true,
			"script_enabled": false, "script_runs": false, "posts_as_user_id": "rocket.cat", "posts_as_username": "rocket.cat",
			"created_by_id": nhOwnerID, "created_by_username": "hook-owner", "created_at": "2025-06-01T13:00:00.123Z",
			"channels": []any{"all_public_channels"}, "event": "roomCreated", "impersonate_user": false,
			"target_urls": []any{"https://audit.example.com/in"},
		})

	// The accounts integrations post as stay users (service accounts).
	users := got.ResourcesOf("user")
	for _, id := range []string{"rocket.cat", nhDeployBot} {
		if users[id] == nil {
			t.Errorf("posting account %s is not a user resource", id)
		}
	}
	// Integrations and apps grant nothing and hold no entitlement.
	for _, e := range got.Entitlements {
		if typ := e.GetResource().GetId().GetResourceType(); typ == "incoming-webhook" || typ == "outgoing-webhook" || typ == "oauth-app" {
			t.Errorf("entitlement %s", e.GetId())
		}
	}
	for _, g := range got.Grants {
		if typ := g.GetEntitlement().GetResource().GetId().GetResourceType(); typ == "incoming-webhook" || typ == "outgoing-webhook" || typ == "oauth-app" {
			t.Errorf("grant %s", g.GetId())
		}
	}

	// One call per listing, validation as before.
	stats := env.Sim.Stats()
	for ep, n := range map[string]int{
		"GET integrations.list": 2, "GET oauth-apps.list": 1,
		"GET info": 1, "GET me": 1, "GET permissions.listAll": 2,
		"GET users.listByStatus": 1, "GET roles.list": 1, "GET teams.listAll": 1,
	} {
		if stats.Calls[ep] != n {
			t.Errorf("%s called %d times, want %d", ep, stats.Calls[ep], n)
		}
	}
	if n := len(logsContaining(logs, "left out")) + len(logsContaining(logs, "only in part")); n != 0 {
		t.Errorf("%d coverage warnings with every permission", n)
	}
}

// TestNonHumanTypesLeftOutWithoutPermissions: a governance role without the
// integration and OAuth permissions syncs everything else; the three types
// are not offered at all (no empty listing), and one log line says which
// are left out and which permission would add each.
func TestNonHumanTypesLeftOutWithoutPermissions(t *testing.T) {
	env := testenv.Start(t, nonHumanWorkspace(), simulator.Options{}, "")
	got, logs, err := syncWithLogs(t, newConnector(t, env.BaseURL, nhReader, nil))
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if ids := got.ResourceTypeIDs(); !slices.Equal(ids, []string{"permission", "role", "team", "user"}) {
		t.Errorf("resource types %v: a type the token cannot list is offered", ids)
	}
	var ws *simulator.Workspace
	env.Sim.View(func(w *simulator.Workspace) { ws = w.Clone() })
	assertMatchesWorkspaceAs(t, got, ws, nhReaderID)
	stats := env.Sim.Stats()
	if stats.Calls["GET integrations.list"]+stats.Calls["GET oauth-apps.list"] != 0 {
		t.Errorf("left-out listings were called: %v", stats.Calls)
	}
	entries := logsContaining(logs, "left out of the sync")
	if len(entries) != 1 {
		t.Fatalf("%d left-out log lines, want exactly one", len(entries))
	}
	msg := entries[0].Message
	for _, m := range []string{"incoming-webhook", "outgoing-webhook", "oauth-app", "manage-incoming-integrations", "manage-own-incoming-integrations",
		"manage-outgoing-integrations", "manage-own-outgoing-integrations", "manage-oauth-apps", "not offered"} {
		if !strings.Contains(msg, m) {
			t.Errorf("the left-out log line does not mention %q: %s", m, msg)
		}
	}
	fields := entries[0].ContextMap()
	if left, _ := fields["left_out"].([]any); len(left) != 3 {
		t.Errorf("left_out field: %v", fields["left_out"])
	}
	if fields["user"] != "gov-reader" {
		t.Errorf("user field: %v", fields["user"])
	}
}

// TestOwnIntegrationsAreMarkedPartial: with only the manage-own-* pair,
// Rocket.Chat lists the token's user's own webhooks; the connector offers
// both kinds but says, in the type, on each resource and in the log, that
// the listing is partial and what would complete it.
func TestOwnIntegrationsAreMarkedPartial(t *testing.T) {
	env := testenv.Start(t, nonHumanWorkspace(), simulator.Options{}, "")
	got, logs, err := syncWithLogs(t, newConnector(t, env.BaseURL, nhOwner, nil))
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if ids := got.ResourceTypeIDs(); !slices.Equal(ids, []string{"incoming-webhook", "outgoing-webhook", "permission", "role", "team", "user"}) {
		t.Errorf("resource types %v", ids)
	}
	for _, typ := range []string{"incoming-webhook", "outgoing-webhook"} {
		desc := got.ResourceType(typ).GetDescription()
		for _, m := range []string{"Partial listing", "hook-owner", "only the ones it created", "manage-incoming-integrations and manage-outgoing-integrations"} {
			if !strings.Contains(desc, m) {
				t.Errorf("%s description does not say %q: %s", typ, m, desc)
			}
		}
	}
	in, out := got.ResourcesOf("incoming-webhook"), got.ResourcesOf("outgoing-webhook")
	if len(in) != 1 || in[hookOwn] == nil || len(out) != 1 || out[hookAudit] == nil {
		t.Fatalf("listed %v and %v, want only the hook owner's own", keys(in), keys(out))
	}
	for _, r := range []*v2.Resource{in[hookOwn], out[hookAudit]} {
		if scope := r.GetProfile().AsMap()["listing_scope"]; scope != "own" {
			t.Errorf("%s listing_scope %v, want own", r.GetId().GetResource(), scope)
		}
	}
	var ws *simulator.Workspace
	env.Sim.View(func(w *simulator.Workspace) { ws = w.Clone() })
	assertMatchesWorkspaceAs(t, got, ws, nhOwnerID)
	if n := len(logsContaining(logs, "listed only in part")); n != 1 {
		t.Errorf("%d partial-listing log lines, want one", n)
	}
	if left := logsContaining(logs, "left out of the sync"); len(left) != 1 || !strings.Contains(left[0].Message, "oauth-app") ||
		strings.Contains(left[0].Message, "incoming-webhook") {
		t.Errorf("left-out log: %v", left)
	}
}

// TestIntegrationCoverageMatchesServer: for every mix of the four
// integration permissions, the connector offers exactly the kinds
// Rocket.Chat lists to that user and marks a listing partial exactly when
// the server narrows it to the user's own (its query's quirk included).
func TestIntegrationCoverageMatchesServer(t *testing.T) {
	perms := []string{"manage-incoming-integrations", "manage-outgoing-integrations", "manage-own-incoming-integrations", "manage-own-outgoing-integrations"}
	for mask := range 1 << len(perms) {
		var held []string
		for i, p := range perms {
			if mask&(1<<i) != 0 {
				held = append(held, p)
			}
		}
		t.Run(strings.Join(append([]string{"mix"}, held...), "+"), func(t *testing.T) {
			ws := nonHumanWorkspace()
			const role = "nhiMixRoleMMMMMMM"
			ws.Roles = append(ws.Roles, &simulator.Role{ID: role, Name: "mix", Scope: "Users"})
			for _, p := range held {
				ws.Permissions[p] = append(ws.Permissions[p], role)
			}
			// The hook owner created one webhook of each kind.
			u := ws.UserByID(nhOwnerID)
			u.Roles = []string{nhGovRole, role}
			env := testenv.Start(t, ws, simulator.Options{}, "")
			got := testenv.MustSync(t, newConnector(t, env.BaseURL, nhOwner, nil))
			var now *simulator.Workspace
			env.Sim.View(func(w *simulator.Workspace) { now = w.Clone() })
			assertMatchesWorkspaceAs(t, got, now, nhOwnerID)

			// And what the server itself answers that user.
			for kind, typ := range map[string]string{simulator.IntegrationIncoming: "incoming-webhook", simulator.IntegrationOutgoing: "outgoing-webhook"} {
				serverIDs := serverIntegrations(t, env.BaseURL, nhOwner, kind)
				var synced []string
				for id := range got.ResourcesOf(typ) {
					synced = append(synced, id)
				}
				sort.Strings(synced)
				if serverIDs == nil {
					if got.ResourceType(typ) != nil {
						t.Errorf("%s offered although Rocket.Chat refuses the listing", typ)
					}
					continue
				}
				if !slices.Equal(synced, serverIDs) {
					t.Errorf("%s: synced %v, server lists %v", typ, synced, serverIDs)
				}
			}
		})
	}
}

// serverIntegrations is what integrations.list answers cred for one kind,
// nil when it refuses.
func serverIntegrations(t *testing.T, base string, cred simulator.Credential, kind string) []string {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, base+"/api/v1/integrations.list?count=0&type="+kind, nil)
	req.Header.Set("X-User-Id", cred.UserID)
	req.Header.Set("X-Auth-Token", cred.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusForbidden {
		return nil
	}
	var body struct {
		Integrations []struct {
			ID string `json:"_id"`
		} `json:"integrations"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, it := range body.Integrations {
		ids = append(ids, it.ID)
	}
	sort.Strings(ids)
	return ids
}

// TestRequestedNonHumanTypeWithoutPermission: asked by name for a type the
// token's user cannot list (a resource type filter), the sync is refused
// up front with the permission to add, rather than answered without it.
func TestRequestedNonHumanTypeWithoutPermission(t *testing.T) {
	env := testenv.Start(t, nonHumanWorkspace(), simulator.Options{}, "")
	opts := &cli.ConnectorOpts{SyncResourceTypeIDs: []string{"user", "incoming-webhook", "oauth-app"}}
	_, err := testenv.Sync(t, newConnector(t, env.BaseURL, nhInMgr, opts))
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("sync: %v, want PermissionDenied", err)
	}
	for _, m := range []string{"oauth-app", "manage-oauth-apps", "in-manager"} {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error does not mention %q: %v", m, err)
		}
	}
	if strings.Contains(err.Error(), "incoming-webhook (") {
		t.Errorf("the error names incoming-webhook, which in-manager can list: %v", err)
	}
}

// TestNonHumanPermissionChangesInARunningConnector: a long-running
// connector (one builder, several syncs, as in daemon mode) offers the types
// it could list when it started. Losing the permission fails the listing
// with what to do (the type was offered, and an empty listing would read as
// "there are none"); gaining it is logged with the advice to restart.
func TestNonHumanPermissionChangesInARunningConnector(t *testing.T) {
	revoke := func(ws *simulator.Workspace) {
		for _, p := range []string{"manage-incoming-integrations", "manage-outgoing-integrations", "manage-own-incoming-integrations",
			"manage-own-outgoing-integrations", "manage-oauth-apps"} {
			ws.Permissions[p] = nil
		}
	}
	for _, tc := range []struct {
		name   string
		cred   simulator.Credential
		change func(ws *simulator.Workspace)
		log    string
		check  func(t *testing.T, got *harness.Contents, err error)
	}{
		{
			name: "lost", cred: nhAdmin, change: revoke, log: "can no longer list",
			check: func(t *testing.T, _ *harness.Contents, err error) {
				if status.Code(err) != codes.FailedPrecondition {
					t.Fatalf("second sync: %v, want FailedPrecondition", err)
				}
				for _, m := range []string{"does not hold", "restart the connector", "svc-admin"} {
					if !strings.Contains(err.Error(), m) {
						t.Errorf("error does not say %q: %v", m, err)
					}
				}
			},
		},
		{
			name: "gained", cred: nhReader, log: "restart the connector to sync them",
			change: func(ws *simulator.Workspace) {
				ws.Permissions["manage-oauth-apps"] = append(ws.Permissions["manage-oauth-apps"], nhGovRole)
			},
			check: func(t *testing.T, got *harness.Contents, err error) {
				if err != nil {
					t.Fatalf("second sync: %v", err)
				}
				if got.ResourceType("oauth-app") != nil {
					t.Error("a type left out at start is offered without a restart")
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := testenv.Start(t, nonHumanWorkspace(), simulator.Options{}, "")
			c := newConnector(t, env.BaseURL, tc.cred, nil)
			d := startDaemon(t, c)
			if _, err := d.sync(t); err != nil {
				t.Fatalf("first sync: %v", err)
			}
			env.Sim.Update(tc.change)
			// The SDK's Validate carries no logger in process: validate
			// directly first, as the next task would, to see what it logs.
			core, logs := observer.New(zap.InfoLevel)
			if _, err := c.Validate(ctxzap.ToContext(context.Background(), zap.New(core))); err != nil {
				t.Fatalf("validate: %v", err)
			}
			if n := len(logsContaining(logs, tc.log)); n != 1 {
				t.Errorf("%d log lines saying %q, want one: %v", n, tc.log, logs.All())
			}
			got, err := d.sync(t)
			tc.check(t, got, err)
		})
	}
}

// daemon is one connector served once, synced several times, as in daemon
// mode (harness.Sync serves the connector anew for each sync).
type daemon struct {
	conn  *harness.Conn
	store *harness.SessionStore
}

func startDaemon(t *testing.T, c *connector.Connector) *daemon {
	t.Helper()
	store := &harness.SessionStore{}
	conn, err := harness.Serve(context.Background(), c, connectorbuilder.WithSessionStore(store))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &daemon{conn: conn, store: store}
}

func (d *daemon) sync(t *testing.T) (*harness.Contents, error) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "sync.c1z")
	s, err := sdksync.NewSyncer(ctx, d.conn, sdksync.WithC1ZPath(path), sdksync.WithSessionStore(d.store), sdksync.WithTmpDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	syncErr := s.Sync(ctx)
	if err := s.Close(ctx); err != nil && syncErr == nil {
		t.Fatal(err)
	}
	if syncErr != nil {
		return nil, syncErr
	}
	got, err := harness.ReadC1Z(ctx, path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return got, nil
}

// TestNonHumanListingsPageByPage: with API_Allow_Infinite_Count off the
// webhooks are read 50, then 100 a call, completely.
func TestNonHumanListingsPageByPage(t *testing.T) {
	ws := nonHumanWorkspace()
	for i := range 130 {
		ws.AddIntegration(&simulator.Integration{Type: simulator.IntegrationIncoming, Name: "bulk " + strconv.Itoa(i), Enabled: true,
			Username: "rocket.cat", UserID: "rocket.cat", CreatedAt: nhT0, CreatedByID: nhAdminID, CreatedByUsername: "svc-admin"})
	}
	env := testenv.Start(t, ws, simulator.Options{InfiniteCountDisabled: true}, "")
	got := testenv.MustSync(t, newConnector(t, env.BaseURL, nhAdmin, nil))
	var now *simulator.Workspace
	env.Sim.View(func(w *simulator.Workspace) { now = w.Clone() })
	assertMatchesWorkspaceAs(t, got, now, nhAdminID)
	if n := len(got.ResourcesOf("incoming-webhook")); n != 132 {
		t.Errorf("%d incoming webhooks, want 132", n)
	}
	// 132 incoming: 50 + 100; 2 outgoing: one call.
	if n := env.Sim.Stats().Calls["GET integrations.list"]; n != 3 {
		t.Errorf("integrations.list called %d times, want 3", n)
	}
}

// TestServerIgnoringTheTypeFilter: an integrations.list that ignores
// "type" lists both kinds to each listing; each kind still lands in its
// own type, once.
func TestServerIgnoringTheTypeFilter(t *testing.T) {
	env := testenv.Start(t, nonHumanWorkspace(), simulator.Options{}, "")
	env.Sim.Intercept(func(_ http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/integrations.list") {
			q := r.URL.Query()
			q.Del("type")
			r.URL.RawQuery = q.Encode()
		}
		return false
	})
	got := testenv.MustSync(t, newConnector(t, env.BaseURL, nhAdmin, nil))
	in, out := got.ResourcesOf("incoming-webhook"), got.ResourcesOf("outgoing-webhook")
	if len(in) != 2 || in[hookCI] == nil || in[hookOwn] == nil || len(out) != 2 || out[hookDeploy] == nil || out[hookAudit] == nil {
		t.Errorf("incoming %v, outgoing %v", keys(in), keys(out))
	}
}

// A 403 on the listing itself (the permission taken away between the check
// and the listing) fails the sync and names the permissions.
func TestIntegrationListingRefused(t *testing.T) {
	f := faultkit.Attach(testenv.Start(t, nonHumanWorkspace(), simulator.Options{}, ""))
	outgoing := func(r *http.Request) bool {
		return strings.HasSuffix(r.URL.Path, "/integrations.list") && r.URL.Query().Get("type") == simulator.IntegrationOutgoing
	}
	f.Install(&faultkit.Rule{Name: "outgoing", Match: outgoing, Actions: []faultkit.Action{faultkit.Forbidden}, Persistent: true})
	_, err := testenv.Sync(t, newConnector(t, f.BaseURL, nhAdmin, nil))
	testenv.WantCode(t, err, codes.PermissionDenied, "outgoing webhooks", "manage-outgoing-integrations", "manage-own-outgoing-integrations")
}
