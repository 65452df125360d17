package connector_test

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
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
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
)

// deactivatedWorkspace has more deactivated team members than one window of
// the limiter allows calls, and a deactivated team owner among the first
// deactivated users (in username order), whom every case lists.
// windowsFor is the windows of limit calls that one call per team takes.
func windowsFor(teams, limit int) int { return max(1, (teams+limit-1)/limit) }

func deactivatedWorkspace(t *testing.T) (*simulator.Generated, []*simulator.User) {
	t.Helper()
	gen := simulator.Generate(11, simulator.Size{Users: 230, Teams: 14, MembersPerTeam: 20})
	ws := gen.Workspace
	var gone []*simulator.User
	for _, u := range ws.Users {
		if !u.Active {
			gone = append(gone, u)
		}
	}
	slices.SortStableFunc(gone, func(a, b *simulator.User) int { return strings.Compare(a.Username, b.Username) })
	if len(gone) <= 12 {
		t.Fatalf("the fixture has %d deactivated users; the test needs more than one window's calls", len(gone))
	}
	// The first deactivated user owns the first team.
	team := ws.Teams[0]
	i := slices.IndexFunc(team.Members, func(m simulator.TeamMember) bool { return m.UserID == gone[0].ID })
	if i < 0 {
		team.Members = append(team.Members, simulator.TeamMember{UserID: gone[0].ID, CreatedAt: team.CreatedAt})
		i = len(team.Members) - 1
	}
	team.Members[i].Roles = []string{"owner", "moderator"}
	return gen, gone
}

// withProbe is the users.listTeams calls of a sync that lists listed
// deactivated users' teams: one more, made before any profile says so, to
// check that the server answers it.
// pendingReads is the users listing's read of the users waiting for
// approval (user.go pendingApproval): one call, once a page holds a
// deactivated user (fewer than 100 pending in these workspaces).
func pendingReads(ws *simulator.Workspace) int {
	if deactivatedUsers(ws) > 0 {
		return 1
	}
	return 0
}

func withProbe(listed int) int {
	if listed == 0 {
		return 0
	}
	return listed + 1
}

// TestDeactivatedMembers: teams.members leaves deactivated users out, so the
// sync reads their teams with users.listTeams, one call each, where that
// costs no time: all of them for a token the limiter does not limit, else
// as many as users.listTeams can answer in the windows the sync takes
// anyway, one teams.members call per team (the first in listing order),
// none when the server serves listings page by page. Every deactivated user's profile says
// which it is, and the grants agree (assertMatchesWorkspaceAs).
func TestDeactivatedMembers(t *testing.T) {
	window := 250 * time.Millisecond
	for _, tc := range []struct {
		name   string
		admin  bool // the admin holds api-bypass-rate-limit, the reader does not
		all    bool // all-deactivated-team-memberships
		opts   simulator.Options
		listed func(deactivated, teams int) int
	}{
		{name: "token with api-bypass-rate-limit", admin: true, opts: simulator.Options{RateLimitWindow: window},
			listed: func(n, _ int) int { return n }},
		{name: "rate limiter off", opts: simulator.Options{DisableRateLimiter: true},
			listed: func(n, _ int) int { return n }},
		// As many as the sync's windows allow (one teams.members call per
		// team); one of their calls goes to making sure users.listTeams works.
		{name: "limited, default 10 calls", opts: simulator.Options{RateLimitCalls: 10, RateLimitWindow: window},
			listed: func(n, teams int) int { return min(n, windowsFor(teams, 10)*10-1) }},
		{name: "limited, 5 calls", opts: simulator.Options{RateLimitCalls: 5, RateLimitWindow: window},
			listed: func(n, teams int) int { return min(n, windowsFor(teams, 5)*5-1) }},
		{name: "limited, listings page by page", opts: simulator.Options{RateLimitCalls: 10, RateLimitWindow: window, InfiniteCountDisabled: true},
			listed: func(int, int) int { return 0 }},
		{name: "not limited, listings page by page", opts: simulator.Options{DisableRateLimiter: true, InfiniteCountDisabled: true},
			listed: func(n, _ int) int { return n }},
		{name: "limited, all-deactivated-team-memberships on", all: true, opts: simulator.Options{RateLimitCalls: 10, RateLimitWindow: window},
			listed: func(n, _ int) int { return n }},
		{name: "limited, all on, 5 calls, listings page by page", all: true,
			opts:   simulator.Options{RateLimitCalls: 5, RateLimitWindow: window, InfiniteCountDisabled: true},
			listed: func(n, _ int) int { return n }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gen, gone := deactivatedWorkspace(t)
			cred := gen.Reader
			if tc.admin {
				cred = gen.Admin
			}
			env := testenv.Start(t, gen.Workspace, tc.opts, "")
			var options []connector.Option
			if tc.all {
				options = append(options, connector.WithAllDeactivatedTeamMemberships())
			}
			got := testenv.MustSync(t, newConnectorWith(t, env.BaseURL, cred, options...))
			var ws *simulator.Workspace
			env.Sim.View(func(w *simulator.Workspace) { ws = w.Clone() })
			assertMatchesWorkspaceAs(t, got, ws, cred.UserID)

			want := tc.listed(len(gone), len(gen.Workspace.Teams))
			users := got.ResourcesOf("user")
			for i, u := range gone {
				note := profileString(users[u.ID], "team_memberships")
				if listed := strings.HasPrefix(note, teamsListedNote); listed != (i < want) {
					t.Errorf("deactivated user %d (%s): listed %v, want %v (%q)", i, u.Username, listed, i < want, note)
				}
			}
			stats := env.Sim.Stats()
			if n := stats.Calls["GET users.listTeams"]; n != withProbe(want) {
				t.Errorf("users.listTeams called %d times, want %d (one per listed deactivated user, and one to check it works)", n, withProbe(want))
			}
			if stats.Total429 != 0 {
				t.Errorf("%d answers were 429 (%v), want none", stats.Total429, stats.RateLimited)
			}
			if want == 0 {
				return
			}
			// The deactivated owner: membership and ownership, marked as
			// read while deactivated; users.listTeams does not report the
			// moderator role.
			team := ws.Teams[0].ID
			member := got.Grant("team:" + team + ":member:user:" + gone[0].ID)
			if member == nil {
				t.Fatalf("no membership grant for the deactivated owner %s", gone[0].Username)
			}
			meta := &v2.GrantMetadata{}
			annos := annotations.Annotations(member.GetAnnotations())
			if ok, err := annos.Pick(meta); err != nil || !ok {
				t.Fatalf("membership grant without metadata (%v)", err)
			}
			if f := meta.GetMetadata().GetFields(); !f["user_deactivated"].GetBoolValue() || f["listed_from"].GetStringValue() != "users.listTeams" {
				t.Errorf("membership grant metadata %v, want user_deactivated and listed_from users.listTeams", f)
			}
			if got.Grant("team:"+team+":owner:user:"+gone[0].ID) == nil {
				t.Errorf("the deactivated owner %s has no owner grant: reactivated, they own the team again", gone[0].Username)
			}
			if got.Grant("team:"+team+":moderator:user:"+gone[0].ID) != nil {
				t.Errorf("a moderator grant for a deactivated user: users.listTeams does not say so")
			}
		})
	}
}

// TestDeactivatedMembersHosted: served by three instances that share only the
// session store, the sync picks the same deactivated users and reads each
// one's teams once.
func TestDeactivatedMembersHosted(t *testing.T) {
	gen, gone := deactivatedWorkspace(t)
	env := testenv.Start(t, gen.Workspace, hostedLimiter, "")
	one := testenv.MustSync(t, newConnector(t, env.BaseURL, gen.Reader, nil))
	env.Sim.ResetStats()

	path := filepath.Join(t.TempDir(), "hosted.c1z")
	if _, err := syncHosted(t, env.BaseURL, gen.Reader, path, harness.HostedOptions{Instances: 3}); err != nil {
		t.Fatalf("hosted sync: %v", err)
	}
	hosted, err := harness.ReadC1Z(context.Background(), path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	assertSameContents(t, hosted, one)
	if n, want := served(env.Sim.Stats(), "GET users.listTeams"), withProbe(min(len(gone), windowsFor(len(gen.Workspace.Teams), hostedLimiter.RateLimitCalls)*hostedLimiter.RateLimitCalls-1)); n != want {
		t.Errorf("users.listTeams answered %d times, want %d", n, want)
	}
}

// TestDeactivatedMembersAtTheLimitersPace: with all-deactivated-team-memberships
// on, a rate-limited token reads every deactivated user's teams, a part of
// ten users per call, across three hosted instances sharing only the
// session store: each user's teams are read once, with no 429 lost, and the
// c1z equals one instance's.
func TestDeactivatedMembersAtTheLimitersPace(t *testing.T) {
	gen, gone := deactivatedWorkspace(t)
	env := testenv.Start(t, gen.Workspace, hostedLimiter, "")
	all := connector.WithAllDeactivatedTeamMemberships()
	one := testenv.MustSync(t, newConnectorWith(t, env.BaseURL, gen.Reader, all))
	var ws *simulator.Workspace
	env.Sim.View(func(w *simulator.Workspace) { ws = w.Clone() })
	assertMatchesWorkspaceAs(t, one, ws, gen.Reader.UserID)
	if n := env.Sim.Stats().Calls["GET users.listTeams"]; n != withProbe(len(gone)) {
		t.Errorf("one instance: users.listTeams called %d times, want %d", n, withProbe(len(gone)))
	}
	env.Sim.ResetStats()

	path := filepath.Join(t.TempDir(), "hosted.c1z")
	build := func(int) connectorbuilder.ConnectorBuilderV2 {
		return newConnectorWith(t, env.BaseURL, gen.Reader, all)
	}
	if _, err := harness.SyncHosted(context.Background(), build, path, harness.HostedOptions{Instances: 3, TmpDir: t.TempDir()}); err != nil {
		t.Fatalf("hosted sync: %v", err)
	}
	hosted, err := harness.ReadC1Z(context.Background(), path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	assertSameContents(t, hosted, one)
	if n := served(env.Sim.Stats(), "GET users.listTeams"); n != withProbe(len(gone)) {
		t.Errorf("hosted: users.listTeams answered %d times, want %d (each deactivated user once)", n, withProbe(len(gone)))
	}
}

// A server that does not answer users.listTeams (or fails on it) lists no
// deactivated user's teams, and every deactivated profile says so: the sync
// completes, and nothing claims memberships it could not read.
func TestDeactivatedMembersWithoutUsersListTeams(t *testing.T) {
	gen, gone := deactivatedWorkspace(t)
	env := testenv.Start(t, gen.Workspace, simulator.Options{DisableRateLimiter: true}, "")
	faultkit.Attach(env).Install(&faultkit.Rule{
		Name: "no users.listTeams", Match: faultkit.Endpoint("users.listTeams"), Persistent: true,
		Actions: []faultkit.Action{faultkit.Status(http.StatusNotFound, "application/json",
			`{"success":false,"error":"API endpoint \"/api/v1/users.listTeams\" not found"}`)},
	})
	got := testenv.MustSync(t, newConnector(t, env.BaseURL, gen.Admin, nil))
	var ws *simulator.Workspace
	env.Sim.View(func(w *simulator.Workspace) { ws = w.Clone() })
	assertMatchesWorkspaceAs(t, got, ws, gen.Admin.UserID)
	users := got.ResourcesOf("user")
	for _, u := range gone {
		if note := profileString(users[u.ID], "team_memberships"); strings.HasPrefix(note, teamsListedNote) {
			t.Errorf("deactivated user %s: profile says listed (%q) although users.listTeams fails", u.Username, note)
		}
	}
}
