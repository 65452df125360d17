package connector

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// Single sign-on role sync rewrites the roles of the users who sign in
// through it, and the API does not say who does: the sync warns once, and a
// role change warns when the service syncs that role, without refusing it.
func TestSSORoleSyncIsReportedNotEnforced(t *testing.T) {
	gen := simulator.Generate(5, simulator.Size{Users: 30, Teams: 2, MembersPerTeam: 5})
	ws := gen.Workspace
	ws.Settings[simulator.SettingSAML] = true
	ws.Settings[simulator.SettingSAMLRoleSync] = true
	ws.LoginServices = []*simulator.LoginService{
		{Service: "google", ClientID: "g"},
		{Service: "corp", Custom: true, ClientID: "c", MergeRoles: true, RolesClaim: "groups", RolesToSync: "admin, support"},
		{Service: "partner", Custom: true, ClientID: "p", MergeRoles: false},
	}
	c := serveConnector(t, simulator.NewServer(ws, simulator.Options{DisableRateLimiter: true}), gen.Admin)
	core, logs := observer.New(zap.WarnLevel)
	ctx := ctxzap.ToContext(context.Background(), zap.New(core))

	dir, err := c.directory(ctx, c.shared(ctx, resource.SyncOpAttrs{SyncID: "sync-1"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []oauthRoleSync{{Service: "corp", Claim: "groups", Roles: []string{"admin", "support"}}}
	if !dir.SAMLRoleSync || len(dir.OAuthRoleSync) != 1 || dir.OAuthRoleSync[0].Service != want[0].Service ||
		dir.OAuthRoleSync[0].Claim != want[0].Claim || !slices.Equal(dir.OAuthRoleSync[0].Roles, want[0].Roles) {
		t.Fatalf("directory %+v, want SAML role sync and %+v", dir, want)
	}
	warned := func(substr string) int {
		n := 0
		for _, e := range logs.All() {
			if strings.Contains(e.Message, substr) {
				n++
			}
		}
		return n
	}
	if warned("SAML role sync is on") != 1 || warned(`custom OAuth service "corp"`) != 1 || warned("partner") != 0 {
		t.Errorf("sync warnings %v, want one for SAML and one for corp", logs.All())
	}

	roles := &roleSyncer{c: c}
	for _, tc := range []struct {
		role      string
		oauthWarn int
	}{{"admin", 1}, {"guest", 0}} {
		logs.TakeAll()
		if err := roles.refuseManaged(ctx, "grant", tc.role, nil); err != nil {
			t.Errorf("grant %s refused: %v", tc.role, err)
		}
		if n := warned(`custom OAuth service "corp"`); n != tc.oauthWarn {
			t.Errorf("grant %s: %d OAuth warnings, want %d", tc.role, n, tc.oauthWarn)
		}
		if warned("SAML role sync is on") != 1 {
			t.Errorf("grant %s: no SAML warning", tc.role)
		}
	}
}

// A server without the settings route leaves the directory check off, with
// a warning, instead of failing every grant listing.
func TestDirectoryCheckOffWithoutTheSettingsRoute(t *testing.T) {
	gen := simulator.Generate(5, simulator.Size{Users: 30, Teams: 2, MembersPerTeam: 5})
	sim := simulator.NewServer(gen.Workspace, simulator.Options{DisableRateLimiter: true})
	sim.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasPrefix(r.URL.Path, "/api/v1/settings/") {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"success":false,"error":"API endpoint \"` + r.URL.Path + `\" not found"}`))
		return true
	})
	c := serveConnector(t, sim, gen.Admin)
	core, logs := observer.New(zap.WarnLevel)
	ctx := ctxzap.ToContext(context.Background(), zap.New(core))
	dir, err := c.directory(ctx, c.shared(ctx, resource.SyncOpAttrs{SyncID: "sync-1"}))
	if err != nil {
		t.Fatalf("directory check failed the listing: %v", err)
	}
	if dir.Checked || !dir.Unanswered || len(dir.Roles) > 0 {
		t.Errorf("directory %+v, want unchecked for want of the route", dir)
	}
	if logs.FilterMessageSnippet("does not answer settings/:_id").Len() != 1 {
		t.Errorf("warnings %v, want one saying the settings route is missing", logs.All())
	}
}
