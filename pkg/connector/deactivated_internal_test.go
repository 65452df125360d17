package connector

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/internal/testenv"
	"github.com/conductorone/baton-rocketchat/pkg/client"
	"github.com/conductorone/baton-sdk/pkg/pagination"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
)

type deactivatedEnv struct {
	c   *Connector
	sim *simulator.Server
	ws  *simulator.Workspace
}

func startDeactivatedEnv(t *testing.T) deactivatedEnv {
	t.Helper()
	return startEnv(t, simulator.Options{RateLimitCalls: deactivatedBudgetInTests, RateLimitWindow: 100 * time.Millisecond})
}

// startEnv serves a 1,400-user workspace (three stored chunks of users) with
// opts, and a connector for its rate-limited reader built with options.
func startEnv(t *testing.T, opts simulator.Options, options ...Option) deactivatedEnv {
	t.Helper()
	gen := simulator.Generate(11, simulator.Size{Users: 1400, Teams: 20, MembersPerTeam: 60})
	sim := simulator.NewServer(gen.Workspace, opts)
	var ws *simulator.Workspace
	sim.View(func(w *simulator.Workspace) { ws = w.Clone() })
	return deactivatedEnv{c: serveConnector(t, sim, gen.Reader, options...), sim: sim, ws: ws}
}

// serveConnector serves sim over HTTP for the test's duration and builds a
// connector for cred on it.
func serveConnector(t *testing.T, sim *simulator.Server, cred simulator.Credential, options ...Option) *Connector {
	t.Helper()
	env := testenv.Serve(t, sim, "")
	return NewWithClient(testenv.Client(t, env.BaseURL, cred), nil, options...)
}

func syncOpts(token string) resource.SyncOpAttrs {
	return resource.SyncOpAttrs{SyncID: "sync-1", PageToken: pagination.Token{Token: token}}
}

// listUsers runs the users List pass; between pages, hook may tamper with the store.
func (e deactivatedEnv) listUsers(t *testing.T, hook func(page int)) map[string]bool {
	t.Helper()
	us := &userSyncer{c: e.c}
	listed := map[string]bool{}
	token := ""
	for page := 0; ; page++ {
		rs, res, err := us.List(context.Background(), nil, syncOpts(token))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			note := r.GetProfile().GetFields()["team_memberships"].GetStringValue()
			if strings.HasPrefix(note, "listed") {
				listed[r.GetId().GetResource()] = true
			}
		}
		if hook != nil {
			hook(page)
		}
		if res.NextPageToken == "" {
			return listed
		}
		token = res.NextPageToken
	}
}

// deactivatedGranted runs each team's first Grants page and returns the
// deactivated users that got a users.listTeams membership grant.
func (e deactivatedEnv) deactivatedGranted(t *testing.T) map[string]bool {
	t.Helper()
	ts := &teamSyncer{c: e.c}
	got := map[string]bool{}
	inactive := map[string]bool{}
	for _, u := range e.ws.Users {
		if !u.Active {
			inactive[u.ID] = true
		}
	}
	for _, team := range e.ws.Teams {
		r, err := teamResource(&client.Team{ID: team.ID, Name: team.Name}, e.c.httpsBase())
		if err != nil {
			t.Fatal(err)
		}
		for token := "start"; token != ""; {
			if token == "start" {
				token = ""
			}
			gs, res, err := ts.Grants(context.Background(), r, syncOpts(token))
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range gs {
				if strings.Contains(g.GetEntitlement().GetId(), ":member") && inactive[g.GetPrincipal().GetId().GetResource()] {
					got[g.GetPrincipal().GetId().GetResource()] = true
				}
			}
			token = res.NextPageToken
		}
	}
	return got
}

// wantGranted: the listed deactivated users who are in some team.
func (e deactivatedEnv) wantGranted(listed map[string]bool) map[string]bool {
	want := map[string]bool{}
	for _, team := range e.ws.Teams {
		for _, m := range team.Members {
			if listed[m.UserID] {
				want[m.UserID] = true
			}
		}
	}
	return want
}

func (e deactivatedEnv) localValues() map[string][]byte { return e.c.local.syncs[0].values }

func (e deactivatedEnv) reading(t *testing.T) string {
	var m manifest
	if err := json.Unmarshal(e.localValues()["users/manifest"], &m); err != nil {
		t.Fatal(err)
	}
	return m.Reading
}

// compare checks that the profiles marked listed are exactly the first
// budget deactivated users' and that their memberships, and no others, were
// granted, with at most maxCalls users.listTeams calls.
func compare(t *testing.T, listed, want, got map[string]bool, calls, maxCalls int) {
	t.Helper()
	if len(listed) != listedInTests {
		t.Errorf("%d profiles say listed, want %d", len(listed), listedInTests)
	}
	for id := range want {
		if !got[id] {
			t.Errorf("deactivated user %s: profile says listed, but no team grant", id)
		}
	}
	for id := range got {
		if !listed[id] {
			t.Errorf("deactivated user %s: team grant, but profile says NOT listed", id)
		}
	}
	if calls > maxCalls {
		t.Errorf("users.listTeams called %d times, want at most %d", calls, maxCalls)
	}
}

// deactivatedBudgetInTests is the limiter's calls per window in these tests.
// The sync of their 20 teams takes 4 windows of teams.members anyway, in
// which users.listTeams can answer 20 calls: one checks that it works, the
// rest read listedInTests deactivated users' teams.
const (
	deactivatedBudgetInTests = 5
	teamsInTests             = 20
	listedInTests            = teamsInTests/deactivatedBudgetInTests*deactivatedBudgetInTests - 1
)

// Baseline: no faults, marks and grants agree.
func TestDeactivatedMarksAndGrantsAgree(t *testing.T) {
	e := startDeactivatedEnv(t)
	listed := e.listUsers(t, nil)
	got := e.deactivatedGranted(t)
	compare(t, listed, e.wantGranted(listed), got, e.sim.Stats().Calls["GET users.listTeams"], listedInTests+1)
}

// A stored chunk of the users reading is lost while the users List pass is
// served (store eviction, another process's failed write).
func TestDeactivatedAgreeWhenAChunkIsLostDuringTheUsersListing(t *testing.T) {
	e := startDeactivatedEnv(t)
	listed := e.listUsers(t, func(page int) {
		if page == 0 {
			delete(e.localValues(), "users/"+e.reading(t)+"/1")
		}
	})
	got := e.deactivatedGranted(t)
	compare(t, listed, e.wantGranted(listed), got, e.sim.Stats().Calls["GET users.listTeams"], listedInTests+1)
}

// A stored chunk is lost after the List pass, before the first team Grants
// call: the deactivated pass re-reads the gap from the chunk's offset, and
// the manifest keeps naming the whole reading for the passes after it.
func TestDeactivatedAgreeWhenAChunkIsLostBeforeTheTeamGrants(t *testing.T) {
	e := startDeactivatedEnv(t)
	listed := e.listUsers(t, nil)
	delete(e.localValues(), "users/"+e.reading(t)+"/1")
	before := e.reading(t)
	got := e.deactivatedGranted(t)
	if after := e.reading(t); after != before {
		t.Errorf("manifest now names reading %s (was %s): later passes (role grants) read only the tail", after, before)
	}
	compare(t, listed, e.wantGranted(listed), got, e.sim.Stats().Calls["GET users.listTeams"], listedInTests+1)
}

// The stored per-team entries are lost (or their reads fail) after the first
// team's call: the index says they existed, so the next call reads the
// deactivated users' teams again rather than granting nothing.
func TestDeactivatedAgreeWhenAStoredTeamEntryIsLost(t *testing.T) {
	e := startDeactivatedEnv(t)
	listed := e.listUsers(t, nil)
	ts := &teamSyncer{c: e.c}
	r0, _ := teamResource(&client.Team{ID: e.ws.Teams[0].ID, Name: e.ws.Teams[0].Name}, e.c.httpsBase())
	if _, _, err := ts.Grants(context.Background(), r0, syncOpts("")); err != nil {
		t.Fatal(err)
	}
	reading := e.reading(t)
	for k := range e.localValues() {
		if strings.HasPrefix(k, "deactivated/"+reading+"/") {
			delete(e.localValues(), k)
		}
	}
	got := e.deactivatedGranted(t)
	compare(t, listed, e.wantGranted(listed), got, e.sim.Stats().Calls["GET users.listTeams"], 1+2*listedInTests)
}

func (e deactivatedEnv) roleGrantUsers(t *testing.T) map[string]bool {
	rs := &roleSyncer{c: e.c}
	got := map[string]bool{}
	token := ""
	for {
		gs, res, err := rs.GrantsForResourceType(context.Background(), "role", syncOpts(token))
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs {
			got[g.GetPrincipal().GetId().GetResource()] = true
		}
		if res.NextPageToken == "" {
			return got
		}
		token = res.NextPageToken
	}
}

// The deactivated pass's re-read of a lost chunk rewrites the users manifest;
// the role grant pass that follows reads only the re-read tail.
func TestRoleGrantsSurviveAChunkLostInTheTeamGrants(t *testing.T) {
	e := startDeactivatedEnv(t)
	e.listUsers(t, nil)
	delete(e.localValues(), "users/"+e.reading(t)+"/1")
	e.deactivatedGranted(t)
	got := e.roleGrantUsers(t)
	want := 0
	for _, u := range e.ws.Users {
		if len(u.Roles) > 0 {
			want++
		}
	}
	if len(got) < want {
		t.Errorf("role grants for %d users, want %d: the head of the users reading is lost", len(got), want)
	}
}

// Team grant calls served at once by one process (the SDK's parallel
// syncer) share one reading of the deactivated users' teams.
func TestDeactivatedReadOnceForConcurrentTeamCalls(t *testing.T) {
	e := startDeactivatedEnv(t)
	listed := e.listUsers(t, nil)
	ts := &teamSyncer{c: e.c}
	var wg sync.WaitGroup
	errs := make(chan error, len(e.ws.Teams))
	for _, team := range e.ws.Teams {
		r, err := teamResource(&client.Team{ID: team.ID, Name: team.Name}, e.c.httpsBase())
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := ts.Grants(context.Background(), r, syncOpts("")); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := e.deactivatedGranted(t)
	compare(t, listed, e.wantGranted(listed), got, e.sim.Stats().Calls["GET users.listTeams"], listedInTests+1)
}
