package main

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/internal/testenv"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
)

// TestTargetedSync refreshes single resources with --sync-resources, as
// ConductorOne does after provisioning: the binary reads just those, and
// the partial sync holds them as Rocket.Chat has them now.
func TestTargetedSync(t *testing.T) {
	bin := buildBinary(t)
	gen := simulator.Generate(4, simulator.Size{Users: 40, Teams: 3, MembersPerTeam: 5})
	env := testenv.Start(t, gen.Workspace, simulator.Options{}, "")
	c1z := filepath.Join(t.TempDir(), "sync.c1z")
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"-f", c1z, "--log-format", "json"}, args...)...)
		cmd.Env = append(cleanEnv(), "BATON_BASE_URL="+env.BaseURL, "BATON_USER_ID="+gen.Admin.UserID, "BATON_AUTH_TOKEN="+gen.Admin.Token)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	run() // a full sync first, as the parent of the targeted one

	var user *simulator.User
	var team *simulator.Team
	env.Sim.Update(func(ws *simulator.Workspace) {
		for _, u := range ws.Users {
			if u.Active && u.Type == "user" && u.ID != gen.Admin.UserID {
				user = u
				break
			}
		}
		user.Active = false // deactivated since the full sync
		user.Name = "Renamed Since The Full Sync"
		team = ws.Teams[0]
	})
	env.Sim.ResetStats()
	// The deactivated user's one users.listByStatus call asks whether it
	// waits for approval, searching for its username alone.
	var (
		mu       sync.Mutex
		searches []string
	)
	env.Sim.Intercept(func(_ http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/users.listByStatus") {
			mu.Lock()
			searches = append(searches, r.URL.Query().Get("searchTerm"))
			mu.Unlock()
		}
		return false
	})
	run("--sync-resources", "bid:r:user/"+user.ID, "--sync-resources", "bid:r:team/"+team.ID, "--sync-resources", "bid:r:role/admin")

	got, err := harness.ReadC1Z(t.Context(), c1z, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*v2.Resource{}
	for _, r := range got.Resources {
		byID[r.GetId().GetResourceType()+":"+r.GetId().GetResource()] = r
	}
	u := byID["user:"+user.ID]
	if u == nil {
		t.Fatalf("the targeted sync lacks the user; it holds %d resources", len(got.Resources))
	}
	if u.GetDisplayName() != "Renamed Since The Full Sync" {
		t.Errorf("user display name %q: not read afresh", u.GetDisplayName())
	}
	if st := u.GetStatus().GetStatus(); st != v2.Status_RESOURCE_STATUS_DISABLED {
		t.Errorf("user status %v, want disabled", st)
	}
	if r := byID["team:"+team.ID]; r == nil || r.GetDisplayName() != team.Name {
		t.Errorf("team %s: %v", team.ID, r)
	}
	if byID["role:admin"] == nil {
		t.Error("the targeted sync lacks the admin role")
	}
	stats := env.Sim.Stats()
	if stats.Calls["GET teams.listAll"] != 0 {
		t.Errorf("teams.listAll called %d times: a targeted sync must not list everything", stats.Calls["GET teams.listAll"])
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(searches, []string{user.Username}) {
		t.Errorf("users.listByStatus searched for %q, want only %q (a targeted sync must not list everything)", searches, user.Username)
	}
	if !slices.ContainsFunc(got.Grants, func(g *v2.Grant) bool { return g.GetEntitlement().GetResource().GetId().GetResource() == team.ID }) {
		t.Errorf("the targeted sync holds no grants of the team (%d grants in all): its members were not read", len(got.Grants))
	}
}
