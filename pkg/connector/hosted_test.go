package connector_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/internal/testenv"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/cli"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// hostedLimiter is Rocket.Chat's default limiter (10 calls per endpoint per
// window) with the window scaled down.
var hostedLimiter = simulator.Options{RateLimitCalls: 10, RateLimitWindow: 150 * time.Millisecond}

// hostedWorkspace has more users than one page to the SDK (500) and more
// teams than one window's budget of teams.members calls.
func hostedWorkspace() *simulator.Generated {
	return simulator.Generate(21, simulator.Size{Users: 1300, Teams: 24, MembersPerTeam: 25})
}

// syncHosted runs the SDK's syncer over instances fresh connectors, each
// with its own client (and so its own view of the rate limiter), as
// ConductorOne's hosted runner does.
func syncHosted(t *testing.T, baseURL string, cred simulator.Credential, path string, o harness.HostedOptions) (harness.HostedStats, error) {
	t.Helper()
	var opts *cli.ConnectorOpts
	if slices.Contains(o.ResourceTypes, "room") {
		opts = withRooms()
	}
	build := func(int) connectorbuilder.ConnectorBuilderV2 { return newConnector(t, baseURL, cred, opts) }
	o.TmpDir = t.TempDir()
	return harness.SyncHosted(context.Background(), build, path, o)
}

// assertSameContents checks that two syncs stored exactly the same data.
func assertSameContents(t *testing.T, got, want *harness.Contents) {
	t.Helper()
	type item interface {
		proto.Message
		GetId() string
	}
	index := func(kind string, msgs []proto.Message, id func(proto.Message) string) map[string]proto.Message {
		out := make(map[string]proto.Message, len(msgs))
		for _, m := range msgs {
			if _, dup := out[id(m)]; dup {
				t.Errorf("%s %s stored twice", kind, id(m))
			}
			out[id(m)] = m
		}
		return out
	}
	compare := func(kind string, g, w []proto.Message, id func(proto.Message) string) {
		gi, wi := index(kind, g, id), index(kind, w, id)
		if len(gi) != len(wi) {
			t.Errorf("%d %ss, want %d", len(gi), kind, len(wi))
		}
		for k, wm := range wi {
			gm, ok := gi[k]
			switch {
			case !ok:
				t.Errorf("%s %s missing", kind, k)
			case !sameMessage(gm, wm):
				t.Errorf("%s %s differs:\n got %v\nwant %v", kind, k, gm, wm)
			}
		}
	}
	resID := func(m proto.Message) string {
		r, _ := m.(*v2.Resource)
		return r.GetId().GetResourceType() + ":" + r.GetId().GetResource()
	}
	byID := func(m proto.Message) string {
		i, _ := m.(item)
		return i.GetId()
	}
	compare("resource", msgs(got.Resources), msgs(want.Resources), resID)
	compare("entitlement", msgs(got.Entitlements), msgs(want.Entitlements), byID)
	compare("grant", msgs(got.Grants), msgs(want.Grants), byID)
}

// sameMessage compares two messages through their JSON form: annotations
// are Any values whose bytes hold maps (grant metadata) in no fixed order.
func sameMessage(a, b proto.Message) bool {
	aj, errA := protojson.Marshal(a)
	bj, errB := protojson.Marshal(b)
	return errA == nil && errB == nil && string(aj) == string(bj)
}

func msgs[T proto.Message](in []T) []proto.Message {
	out := make([]proto.Message, len(in))
	for i, m := range in {
		out[i] = m
	}
	return out
}

// served is the calls of ep the server answered within its budget.
func served(s simulator.Stats, ep string) int { return s.Calls[ep] - s.RateLimited[ep] }

// TestHostedSyncMatchesOneInstance is a sync served as ConductorOne's hosted
// runner serves it: each call on the next of three connector instances that
// share only the session store. It must store exactly what one instance
// stores, read each listing once, and stay within the minimal plan.
func TestHostedSyncMatchesOneInstance(t *testing.T) {
	gen := hostedWorkspace()
	env := testenv.Start(t, gen.Workspace, hostedLimiter, "")

	one := testenv.MustSync(t, newConnector(t, env.BaseURL, gen.Reader, nil))
	env.Sim.ResetStats()

	path := filepath.Join(t.TempDir(), "hosted.c1z")
	hs, err := syncHosted(t, env.BaseURL, gen.Reader, path, harness.HostedOptions{Instances: 3})
	if err != nil {
		t.Fatalf("hosted sync: %v", err)
	}
	hosted, err := harness.ReadC1Z(context.Background(), path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var ws *simulator.Workspace
	env.Sim.View(func(w *simulator.Workspace) { ws = w.Clone() })
	assertMatchesWorkspace(t, hosted, ws)
	assertSameContents(t, hosted, one)

	for i, calls := range hs.Calls {
		if calls["ListResources"]+calls["ListGrants"] == 0 {
			t.Errorf("instance %d served no listing: the calls were not spread (%v)", i, hs)
		}
	}
	stats := env.Sim.Stats()
	// Each listing read once, whichever instance served its pages; the
	// three validation calls at most once per instance.
	for ep, want := range map[string]int{
		"GET users.listByStatus": 1 + pendingReads(ws),
		"GET teams.listAll":      1,
		"GET roles.list":         1,
		"GET teams.members":      len(ws.Teams),
		"GET users.listTeams":    withProbe(min(deactivatedUsers(ws), windowsFor(len(ws.Teams), hostedLimiter.RateLimitCalls)*hostedLimiter.RateLimitCalls-1)),
	} {
		if got := served(stats, ep); got != want {
			t.Errorf("%s answered %d times, want %d", ep, got, want)
		}
	}
	// Validation at most once per instance; permissions.listAll is also the
	// permission listing, read once.
	const instances = 3
	for ep, listings := range map[string]int{"GET info": 0, "GET me": 0, "GET permissions.listAll": 1} {
		if got := served(stats, ep); got > instances+listings {
			t.Errorf("%s answered %d times, want at most %d (once per instance, plus %d listing)", ep, got, instances+listings, listings)
		}
	}
	t.Logf("429 answers: %d (%v)", stats.Total429, stats.RateLimited)
}

// TestHostedSyncResumesInAFreshInstance interrupts a hosted sync among the
// team grants and resumes it with new instances: the resumed run continues
// from the checkpoint and reads nothing twice.
func TestHostedSyncResumesInAFreshInstance(t *testing.T) {
	gen := hostedWorkspace()
	// A whole run first, under the same limiter, to know how many calls it
	// takes (the limiter decides how the deactivated users' teams are read).
	whole, err := syncHosted(t, testenv.Start(t, gen.Workspace, hostedLimiter, "").BaseURL,
		gen.Reader, filepath.Join(t.TempDir(), "whole.c1z"), harness.HostedOptions{Instances: 3})
	if err != nil {
		t.Fatal(err)
	}
	env := testenv.Start(t, gen.Workspace, hostedLimiter, "")
	path := filepath.Join(t.TempDir(), "resumed.c1z")

	// Stop with about half of the teams' grants read.
	first, err := syncHosted(t, env.BaseURL, gen.Reader, path, harness.HostedOptions{Instances: 3, StopAfter: whole.ListCalls() - 12})
	if !errors.Is(err, harness.ErrStopped) {
		t.Fatalf("interrupted sync: %v, want it stopped", err)
	}
	if _, err := harness.ReadC1Z(context.Background(), path, t.TempDir()); !errors.Is(err, harness.ErrNoFinishedSync) {
		t.Fatalf("the interrupted sync finished: %v", err)
	}
	afterFirst := env.Sim.Stats()

	second, err := syncHosted(t, env.BaseURL, gen.Reader, path, harness.HostedOptions{Instances: 3})
	if err != nil {
		t.Fatalf("resumed sync: %v", err)
	}
	got, err := harness.ReadC1Z(context.Background(), path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var ws *simulator.Workspace
	env.Sim.View(func(w *simulator.Workspace) { ws = w.Clone() })
	assertMatchesWorkspace(t, got, ws)

	full := first.ListCalls() + second.ListCalls()
	if full > whole.ListCalls()+1 {
		t.Errorf("%d list calls over both runs, %d in one: the resumed run repeated work", full, whole.ListCalls())
	}
	stats := env.Sim.Stats()
	if served(stats, "GET users.listByStatus") != 1+pendingReads(ws) {
		t.Errorf("users.listByStatus answered %d times over both runs, want the listing and the pending users once (the resumed run started over?)",
			served(stats, "GET users.listByStatus"))
	}
	// The team grants after the stop are served from what was read before
	// it (reads ahead spend teams.members' windows early) or read then;
	// either way no team's members are read twice.
	resumedMembers := served(stats, "GET teams.members") - served(afterFirst, "GET teams.members")
	if resumedMembers >= len(ws.Teams) || served(stats, "GET teams.members") > len(ws.Teams)+1 {
		t.Errorf("teams.members: %d before the stop, %d after, for %d teams: the resumed run did not continue",
			served(afterFirst, "GET teams.members"), resumedMembers, len(ws.Teams))
	}
	t.Logf("list calls: %d before the stop, %d after (%d together)", first.ListCalls(), second.ListCalls(), full)
}

// TestSyncWithInfiniteCountOff: a server that ignores count=0 is read page
// by page, completely, each page once.
func TestSyncWithInfiniteCountOff(t *testing.T) {
	gen := hostedWorkspace()
	opts := hostedLimiter
	opts.InfiniteCountDisabled = true
	env := testenv.Start(t, gen.Workspace, opts, "")
	got := testenv.MustSync(t, newConnector(t, env.BaseURL, gen.Reader, nil))
	var ws *simulator.Workspace
	env.Sim.View(func(w *simulator.Workspace) { ws = w.Clone() })
	assertMatchesWorkspace(t, got, ws)

	stats := env.Sim.Stats()
	// 50 users on the first call, then 100 a call; the role grants reuse
	// them. The pending users' read asks for 100.
	if want := 1 + (len(ws.Users)-50+99)/100 + pendingReads(ws); served(stats, "GET users.listByStatus") != want {
		t.Errorf("users.listByStatus answered %d times, want %d", served(stats, "GET users.listByStatus"), want)
	}
	if stats.Total429 != 0 {
		t.Errorf("%d answers were 429", stats.Total429)
	}
}

// TestSyncAgainstServersBehindALoadBalancer: Rocket.Chat in high
// availability, each instance with its own limiter and window phase, behind
// a round-robin balancer. The sync completes with everything.
func TestSyncAgainstServersBehindALoadBalancer(t *testing.T) {
	gen := hostedWorkspace()
	cluster := simulator.NewCluster(gen.Workspace, hostedLimiter, 2)
	ts := httptest.NewServer(cluster)
	t.Cleanup(ts.Close)

	got := testenv.MustSync(t, newConnector(t, ts.URL, gen.Reader, nil))
	var ws *simulator.Workspace
	cluster.View(func(w *simulator.Workspace) { ws = w.Clone() })
	assertMatchesWorkspace(t, got, ws)
	t.Logf("429 answers: %d (%v)", cluster.Stats().Total429, cluster.Stats().RateLimited)
}

// TestSyncWithParallelWorkers: the SDK's parallel syncer (--workers 4) asks
// for several grants at once. The connector's pacer, reads ahead and
// session store are shared by those calls; the sync must store what a
// sequential one stores, make no call twice and meet no 429.
func TestSyncWithParallelWorkers(t *testing.T) {
	gen := hostedWorkspace()
	rooms := roomWorkspace()
	for _, tc := range []struct {
		name     string
		gen      *simulator.Generated
		cred     simulator.Credential
		opts     simulator.Options
		selected []string
	}{
		{"default types", gen, gen.Reader, hostedLimiter, nil},
		{"default types unlimited", gen, gen.Admin, simulator.Options{}, nil},
		{"rooms per room", rooms, rooms.Reader, hostedLimiter, roomSelection},
		{"rooms per user", rooms, rooms.Admin, simulator.Options{}, roomSelection},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts *cli.ConnectorOpts
			if tc.selected != nil {
				opts = withRooms()
			}
			env := testenv.Start(t, tc.gen.Workspace, tc.opts, "")
			sequential := testenv.MustSyncSelected(t, newConnector(t, env.BaseURL, tc.cred, opts), tc.selected)
			plan := env.Sim.Stats()
			env.Sim.ResetStats()

			dir := t.TempDir()
			path := filepath.Join(dir, "parallel.c1z")
			if err := harness.Sync(context.Background(), newConnector(t, env.BaseURL, tc.cred, opts), path,
				harness.SyncOptions{TmpDir: dir, Workers: 4, ResourceTypes: tc.selected}); err != nil {
				t.Fatalf("parallel sync: %v", err)
			}
			parallel, err := harness.ReadC1Z(context.Background(), path, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			assertSameContents(t, parallel, sequential)
			stats := env.Sim.Stats()
			for ep := range plan.Calls {
				if got, want := served(stats, ep), served(plan, ep); got != want {
					t.Errorf("%s answered %d times under 4 workers, %d in a sequential sync", ep, got, want)
				}
			}
			if stats.Total429 != 0 {
				t.Errorf("%d answers were 429 (%v), want none", stats.Total429, stats.RateLimited)
			}
		})
	}
}

// TestHostedSyncWithAFaultyStore: the session store is a cache. Three
// instances share one that drops 1 in 4 values written, answers 1 in 5 reads
// as missing and fails 1 in 10 calls: the c1z is what a sync with a sound
// store stores, and every lost value costs at most one read of Rocket.Chat.
func TestHostedSyncWithAFaultyStore(t *testing.T) {
	gen := hostedWorkspace()
	env := testenv.Start(t, gen.Workspace, hostedLimiter, "")
	sound := testenv.MustSync(t, newConnector(t, env.BaseURL, gen.Reader, nil))
	soundStats := env.Sim.Stats()
	env.Sim.ResetStats()

	faulty := &harness.FaultyStore{Faults: harness.StoreFaults{DropWrite: 4, MissRead: 5, FailCall: 10}}
	path := filepath.Join(t.TempDir(), "faulty.c1z")
	if _, err := syncHosted(t, env.BaseURL, gen.Reader, path, harness.HostedOptions{Instances: 3, StoreFaults: faulty}); err != nil {
		t.Fatalf("hosted sync with a faulty store: %v", err)
	}
	got, err := harness.ReadC1Z(context.Background(), path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	assertSameContents(t, got, sound)

	stats := env.Sim.Stats()
	total, soundTotal := 0, 0
	for ep := range stats.Calls {
		total += served(stats, ep)
	}
	for ep := range soundStats.Calls {
		soundTotal += served(soundStats, ep)
	}
	// Validation is once per instance, not once per sync.
	const validationPerInstance = 3
	if limit := soundTotal + int(faulty.Injected()) + 2*validationPerInstance; total > limit {
		t.Errorf("%d calls answered with %d store faults, %d with a sound store: more than one re-read per lost value", total, faulty.Injected(), soundTotal)
	}
	if faulty.Injected() == 0 {
		t.Fatal("the store injected no fault")
	}
	t.Logf("%d store faults; %d calls answered (%d with a sound store, one instance)", faulty.Injected(), total, soundTotal)
}
