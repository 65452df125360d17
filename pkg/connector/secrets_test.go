package connector_test

// The auth token must never leave the HTTP request headers: not into logs at
// any level, not into errors, not into the c1z. This test runs a full sync
// and a provisioning round trip at DEBUG level, with faults that make the
// client log its retries and waits, and looks for the token everywhere the
// run left text behind.

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/faultkit"
	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/pkg/client"
	"github.com/conductorone/baton-rocketchat/pkg/connector"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/cli"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"github.com/conductorone/baton-sdk/pkg/pagination"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// secretToken is long and distinctive, so a match is never a coincidence.
const secretToken = "rcPAT_SECRET-7f3c9a1e5b2d4c6f8a0e1d3b5c7a9f2e4d6b8c0a-NEVER-LOG-ME_4q9Zx2Lm8Pw5Rt7Yk3Hn6Jd1Vb0Gs"

// The secrets Rocket.Chat keeps for its non-human identities and sends to
// whoever may list them: webhook tokens, the scripts webhooks run (which
// embed keys), credentials in an outgoing webhook's target URL, and OAuth
// client secrets. None may end up anywhere either.
const (
	incomingHookToken  = "HookT0ken-INCOMING-NEVER-STORE-ME-5e7a9c1b3d5f7a9c2e4d6b8"
	outgoingHookToken  = "0utT0ken-OUTGOING-NEVER-STORE-ME-c1b3d5f7a9e2d4c6b8a0f1e"
	hookScriptKey      = "Scr1ptKey-IN-A-SCRIPT-NEVER-STORE-ME-a1b2c3d4e5f6a7b8"
	hookURLPathSecret  = "UrlPathS3cret0123456789abcdefNEVERSTORE"
	hookURLQuerySecret = "UrlQu3ryS3cret-NEVER-STORE-ME-9f8e7d6c"
	hookURLPassword    = "UrlPassw0rd-NEVER-STORE-ME-1a2b3c4d"
	oauthClientSecret  = "Cl1entS3cret-NEVER-STORE-ME-f0e1d2c3b4a5968778695a4b"
)

// secretFragments are pieces of each secret: a truncated or re-wrapped leak
// still contains one of them.
func secretFragments() []string {
	out := []string{secretToken, secretToken[:20], secretToken[30:50], secretToken[len(secretToken)-20:]}
	for _, s := range []string{incomingHookToken, outgoingHookToken, hookScriptKey, hookURLPathSecret, hookURLQuerySecret, hookURLPassword, oauthClientSecret} {
		out = append(out, s, s[:16], s[len(s)-16:])
	}
	return out
}

// addNonHumansWithSecrets gives the workspace webhooks and an OAuth app holding the
// secrets above.
func addNonHumansWithSecrets(ws *simulator.Workspace, admin *simulator.User) {
	script := "const key = '" + hookScriptKey + "';"
	ws.AddIntegration(&simulator.Integration{Type: simulator.IntegrationIncoming, Name: "Leak check incoming", Enabled: true,
		Username: "rocket.cat", UserID: "rocket.cat", Channel: []string{"#general"}, Token: incomingHookToken,
		ScriptEnabled: true, Script: script, ScriptCompiled: script, CreatedByID: admin.ID, CreatedByUsername: admin.Username})
	ws.AddIntegration(&simulator.Integration{Type: simulator.IntegrationOutgoing, Name: "Leak check outgoing", Enabled: true,
		Username: "rocket.cat", UserID: "rocket.cat", Event: "sendMessage", Token: outgoingHookToken, ScriptEnabled: true, Script: script,
		ScriptError: "Unexpected token in " + script,
		URLs:        []string{"https://hooks.example.com/services/T0/B0/" + hookURLPathSecret, "https://bot:" + hookURLPassword + "@ci.example.com/in?token=" + hookURLQuerySecret},
		CreatedByID: admin.ID, CreatedByUsername: admin.Username})
	ws.AddOAuthApp(&simulator.OAuthApp{Name: "Leak check app", Active: true, RedirectURI: "https://app.example.com/cb",
		ClientSecret: oauthClientSecret, CreatedByID: admin.ID, CreatedByUsername: admin.Username})
}

// logBuffer is a log sink safe for the concurrent writers of a sync.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) Sync() error { return nil }

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// leakedFragments reports which fragments of the token occur in data.
func leakedFragments(data []byte) []string {
	var found []string
	for _, f := range secretFragments() {
		if bytes.Contains(data, []byte(f)) {
			found = append(found, f)
		}
	}
	return found
}

func TestSecretsNeverLeak(t *testing.T) {
	gen := simulator.Generate(5, simulator.Size{Users: 150, Teams: 4, MembersPerTeam: 20, Rooms: 12, MembersPerRoom: 10})
	ws := gen.Workspace
	admin := ws.UserByID(gen.Admin.UserID)
	admin.Tokens = []string{secretToken} // the only token that works
	addNonHumansWithSecrets(ws, admin)
	var target *simulator.User // receives and loses a role
	for _, u := range ws.Users {
		if u.Active && u.Type == "user" && !u.Federated && u.ID != admin.ID && !slices.Contains(u.Roles, "livechat-agent") {
			target = u
			break
		}
	}
	if target == nil {
		t.Fatal("fixture has no plain user")
	}

	f := faultkit.Start(t, gen, simulator.Options{})
	var resetAt time.Time
	// Faults on the sync and again on the direct calls below, so retries,
	// waits and failures are logged with their errors. nil lets a request through.
	f.Install(
		&faultkit.Rule{Name: "users", Match: faultkit.UsersListing(0), Actions: []faultkit.Action{faultkit.ServerErrors[503], nil, faultkit.Reset}},
		&faultkit.Rule{Name: "teams", Match: faultkit.Endpoint("teams.listAll"), Actions: []faultkit.Action{faultkit.SharedBudget429(&resetAt), nil, faultkit.ServerErrors[502]}},
		&faultkit.Rule{Name: "info", Match: faultkit.Endpoint("users.info"), Actions: []faultkit.Action{faultkit.ServerErrors[500]}},
		&faultkit.Rule{Name: "integrations", Match: faultkit.Endpoint("integrations.list"), Actions: []faultkit.Action{faultkit.ServerErrors[503]}},
		&faultkit.Rule{Name: "oauth", Match: faultkit.Endpoint("oauth-apps.list"), Actions: []faultkit.Action{faultkit.Reset}},
		&faultkit.Rule{Name: "rooms", Match: faultkit.Endpoint("rooms.adminRooms"), Actions: []faultkit.Action{faultkit.ServerErrors[503]}},
	)

	logs := &logBuffer{}
	logger := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), logs, zap.DebugLevel))
	ctx := ctxzap.ToContext(context.Background(), logger)

	// The client logs through the logger of the context New gets (its HTTP
	// transport logs every request at DEBUG).
	conf := client.Config{BaseURL: f.BaseURL, UserID: gen.Admin.UserID, Token: secretToken}
	faultkit.Tweak(&conf)
	cl, err := client.New(ctx, conf)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	// Every type, the opt-in rooms included.
	selected := []string{"user", "role", "team", "permission", "incoming-webhook", "outgoing-webhook", "oauth-app", "room"}
	c := connector.NewWithClient(cl, &cli.ConnectorOpts{SyncResourceTypeIDs: selected})

	// Validate directly first: in-process gRPC calls carry no logger, so
	// this is how the connector's own validation logs reach the buffer.
	if _, err := c.Validate(ctx); err != nil {
		t.Fatalf("Validate: %v", err)
	}

	// A full sync through the SDK; the SDK logs through the ctx given here.
	dir := t.TempDir()
	path := filepath.Join(dir, "sync.c1z")
	if err := harness.Sync(ctx, c, path, harness.SyncOptions{TmpDir: dir, ResourceTypes: selected}); err != nil {
		t.Fatalf("sync: %v", err)
	}

	// The connector's syncers once more, called directly with ctx, so what
	// they and the client log while paging and retrying is captured too.
	syncDirectly(ctx, t, c)

	// Provisioning through the GrantManagerService, then directly.
	contents, err := harness.ReadC1Z(context.Background(), path, t.TempDir())
	if err != nil {
		t.Fatalf("reading c1z: %v", err)
	}
	if n := len(contents.ResourcesOf("room")); n == 0 {
		t.Fatal("no room synced: the test would not cover the room calls")
	}
	ent, principal := pickGrantTarget(t, contents, "role:livechat-agent:assigned", target.ID)
	conn, err := harness.Serve(ctx, c)
	if err != nil {
		t.Fatalf("serving: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	granted, err := conn.Grant(ctx, v2.GrantManagerServiceGrantRequest_builder{Entitlement: ent, Principal: principal}.Build())
	if err != nil {
		t.Fatalf("grant: %v", err)
	}
	if !hasRole(f, target.ID, "livechat-agent") {
		t.Fatalf("the grant did not reach the simulator")
	}
	if len(granted.GetGrants()) != 1 {
		t.Fatalf("grant returned %d grants", len(granted.GetGrants()))
	}
	if _, err := conn.Revoke(ctx, v2.GrantManagerServiceRevokeRequest_builder{Grant: granted.GetGrants()[0]}.Build()); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if hasRole(f, target.ID, "livechat-agent") {
		t.Fatalf("the revoke did not reach the simulator")
	}
	// A room membership given and taken away: the room routes' reads and
	// writes log too.
	var channel *simulator.Room
	for _, r := range f.State().Rooms {
		if r.Type == simulator.RoomPublic && r.ParentID == "" && !r.Archived && r.TeamID == "" && r.Subscription(target.ID) == nil {
			channel = r
			break
		}
	}
	if channel == nil {
		t.Fatal("fixture has no channel without the target user")
	}
	roomEnt, _ := pickGrantTarget(t, contents, "room:"+channel.ID+":member", target.ID)
	invited, err := conn.Grant(ctx, v2.GrantManagerServiceGrantRequest_builder{Entitlement: roomEnt, Principal: principal}.Build())
	if err != nil {
		t.Fatalf("room grant: %v", err)
	}
	if _, err := conn.Revoke(ctx, v2.GrantManagerServiceRevokeRequest_builder{Grant: invited.GetGrants()[0]}.Build()); err != nil {
		t.Fatalf("room revoke: %v", err)
	}
	// Refusals carry messages too: none may hold the token.
	missing := v2.Resource_builder{Id: v2.ResourceId_builder{ResourceType: "user", Resource: "noSuchUser0000001"}.Build()}.Build()
	_, err = conn.Grant(ctx, v2.GrantManagerServiceGrantRequest_builder{Entitlement: ent, Principal: missing}.Build())
	if status.Code(err) != codes.NotFound {
		t.Errorf("grant to a missing user: %v, want NotFound", err)
	}
	wantNoLeak(t, "the refusal of a grant to a missing user", []byte(errString(err)))
	provisionDirectly(ctx, t, c, ent, principal, missing)
	_ = logger.Sync()

	out := logs.String()
	// The log must show the run actually happened at DEBUG with faults, or
	// finding no token in it proves nothing.
	for _, want := range []string{
		`"level":"debug"`,
		"HTTP request complete",                      // the client's transport, per request
		"rocket.chat token validated",                // the connector's validation
		"rocket.chat request failed, retrying",       // the client's retry warning, with the error
		"connection reset by peer",                   // ... which carries the transport's error text
		"waiting for the endpoint's window to reset", // the pacer, after the 429
		"users.listByStatus",
		"livechat-agent",
		"integrations.list", // the webhooks were read, with a retry
		"oauth-apps.list",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the captured log lacks %q: the test does not see what it should", want)
		}
	}
	wantNoLeak(t, "the log", []byte(out))

	// The c1z as written. Its payload is compressed, so this only catches a
	// token stored verbatim (in the file's manifest, say); the decoded
	// contents are searched below.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wantNoLeak(t, "the c1z file", raw)

	// Everything the c1z holds, decoded.
	var decoded bytes.Buffer
	for _, m := range contents.Messages() {
		b, err := protojson.Marshal(m)
		if err != nil {
			t.Fatalf("protojson: %v", err)
		}
		decoded.Write(b)
		_ = decoded.WriteByte('\n') // a bytes.Buffer write cannot fail
	}
	for _, known := range []string{target.Username, admin.Username, "Leak check incoming", "Leak check outgoing", "Leak check app", "hooks.example.com"} {
		if !strings.Contains(decoded.String(), known) {
			t.Fatalf("the decoded c1z lacks %q: the search would prove nothing", known)
		}
	}
	wantNoLeak(t, "the decoded c1z contents", decoded.Bytes())
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func wantNoLeak(t *testing.T, where string, data []byte) {
	t.Helper()
	if found := leakedFragments(data); len(found) > 0 {
		i := bytes.Index(data, []byte(found[0]))
		lo, hi := max(i-200, 0), min(i+200, len(data))
		t.Errorf("%s contains the token (fragments %q), near: %q", where, found, data[lo:hi])
	}
}

// syncDirectly lists every resource, entitlement and grant through the
// connector's syncers directly, with ctx, as one sync.
func syncDirectly(ctx context.Context, t *testing.T, c *connector.Connector) {
	t.Helper()
	opts := resource.SyncOpAttrs{SyncID: "direct-sync-1"}
	for _, s := range c.ResourceSyncers(ctx) {
		var all []*v2.Resource
		token := ""
		for {
			opts.PageToken = pagination.Token{Token: token}
			rs, res, err := s.List(ctx, nil, opts)
			if err != nil {
				t.Fatalf("%s List: %v", s.ResourceType(ctx).GetId(), err)
			}
			all = append(all, rs...)
			if token = res.NextPageToken; token == "" {
				break
			}
		}
		for _, r := range all {
			opts.PageToken = pagination.Token{}
			if _, _, err := s.Entitlements(ctx, r, opts); err != nil {
				t.Fatalf("Entitlements of %s: %v", r.GetId().GetResource(), err)
			}
			for token := ""; ; {
				opts.PageToken = pagination.Token{Token: token}
				_, res, err := s.Grants(ctx, r, opts)
				if err != nil {
					t.Fatalf("Grants of %s: %v", r.GetId().GetResource(), err)
				}
				if token = res.NextPageToken; token == "" {
					break
				}
			}
		}
	}
}

// provisionDirectly grants and revokes through the role syncer directly,
// with ctx, and asks for a grant that fails.
func provisionDirectly(ctx context.Context, t *testing.T, c *connector.Connector, ent *v2.Entitlement, principal, missing *v2.Resource) {
	t.Helper()
	type provisioner interface {
		connectorbuilder.GrantProvisionerV2
		connectorbuilder.RevokeProvisioner
	}
	for _, s := range c.ResourceSyncers(ctx) {
		p, ok := s.(provisioner)
		if !ok || s.ResourceType(ctx).GetId() != "role" {
			continue
		}
		grants, _, err := p.Grant(ctx, principal, ent)
		if err != nil || len(grants) != 1 {
			t.Fatalf("direct grant: %v (%d grants)", err, len(grants))
		}
		if _, err := p.Revoke(ctx, grants[0]); err != nil {
			t.Fatalf("direct revoke: %v", err)
		}
		_, _, err = p.Grant(ctx, missing, ent)
		if err == nil {
			t.Fatal("direct grant to a missing user succeeded")
		}
		wantNoLeak(t, "a direct grant's error", []byte(err.Error()))
		return
	}
	t.Fatal("no role provisioner")
}

// pickGrantTarget finds an entitlement and a user resource in a synced c1z.
func pickGrantTarget(t *testing.T, got *harness.Contents, entID, userID string) (*v2.Entitlement, *v2.Resource) {
	t.Helper()
	ent := got.Entitlement(entID)
	user := got.ResourcesOf("user")[userID]
	if ent == nil || user == nil {
		t.Fatalf("the c1z lacks %s or user %s", entID, userID)
	}
	return ent, user
}

// hasRole reports whether the simulator's user userID holds role now.
func hasRole(f *faultkit.Env, userID, role string) bool {
	u := f.State().UserByID(userID)
	return u != nil && slices.Contains(u.Roles, role)
}
