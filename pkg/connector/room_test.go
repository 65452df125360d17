package connector_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/faultkit"
	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/internal/testenv"
	"github.com/conductorone/baton-rocketchat/pkg/connector"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/cli"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"google.golang.org/grpc/codes"
)

// withRooms is a run that selected the room type, as ConductorOne does when
// a customer turns rooms on, and as --sync-resource-types does.
func withRooms() *cli.ConnectorOpts {
	return &cli.ConnectorOpts{SyncResourceTypeIDs: roomSelection}
}

var roomSelection = []string{"user", "role", "team", "permission", "room"}

func roomWorkspace() *simulator.Generated {
	return simulator.Generate(21, simulator.Size{Users: 120, Teams: 4, MembersPerTeam: 10, Rooms: 24, MembersPerRoom: 8})
}

// roomCalls counts the calls to the routes that read or change rooms.
func roomCalls(s simulator.Stats) map[string]int {
	out := map[string]int{}
	for k, n := range s.Calls {
		route := strings.TrimPrefix(strings.TrimPrefix(k, "GET "), "POST ")
		if strings.HasPrefix(route, "rooms.") || strings.HasPrefix(route, "channels.") || strings.HasPrefix(route, "groups.") {
			out[k] = n
		}
	}
	return out
}

// TestRoomsAreOptIn: a sync that does not ask for rooms reads nothing of
// them, and offers no room type.
func TestRoomsAreOptIn(t *testing.T) {
	gen := roomWorkspace()
	env := testenv.Start(t, gen.Workspace, simulator.Options{}, "")
	got := testenv.MustSync(t, newConnector(t, env.BaseURL, gen.Admin, nil))
	if n := len(got.ResourcesOf("room")); n != 0 {
		t.Errorf("%d rooms synced without being asked for", n)
	}
	if slices.Contains(got.ResourceTypeIDs(), "room") {
		t.Errorf("room type offered without being asked for: %v", got.ResourceTypeIDs())
	}
	if calls := roomCalls(env.Sim.Stats()); len(calls) > 0 {
		t.Errorf("room calls without rooms asked for: %v", calls)
	}
	for k, n := range env.Sim.Stats().Calls {
		if strings.Contains(k, "users.info") && n > 0 {
			t.Errorf("%s called %d times: a sync without rooms reads no user's rooms", k, n)
		}
	}
}

// wantRoomGrants is what a room's grants must be, from the workspace:
// "room:<id>:<slug>:user:<uid>" for each grant. complete says the token
// reads every subscription (per user); otherwise a room shows its active
// members and its role holders, and private groups the token's user is
// not in show nothing.
func wantRoomGrants(ws *simulator.Workspace, caller string, complete bool) (map[string]bool, map[string]string) {
	active := map[string]bool{}
	for _, u := range ws.Users {
		active[u.ID] = u.Active
	}
	want := map[string]bool{}
	source := map[string]string{}
	for _, r := range ws.Rooms {
		if r.Type != simulator.RoomPublic && r.Type != simulator.RoomPrivate {
			continue
		}
		source[r.ID] = "users"
		if !complete {
			source[r.ID] = "room"
			if !readablePerRoom(ws, r, caller) {
				source[r.ID] = "none"
				continue
			}
		}
		for _, s := range r.Subscriptions {
			roles := slices.DeleteFunc(slices.Clone(s.Roles), func(role string) bool {
				return role != "owner" && role != "moderator" && role != "leader"
			})
			if complete || active[s.UserID] || len(roles) > 0 {
				want["room:"+r.ID+":member:user:"+s.UserID] = true
			}
			for _, role := range roles {
				want["room:"+r.ID+":"+role+":user:"+s.UserID] = true
			}
		}
	}
	return want, source
}

// readablePerRoom is whether caller can read r's members and roles with
// the room routes: it may open the room (canAccessRoom), the room is not
// archived (the roles routes and groups.members refuse archived rooms), and
// a broadcast room's members need view-broadcast-member-list, through a
// workspace role or a role in the room (channels.members checks it in the
// room's scope).
func readablePerRoom(ws *simulator.Workspace, r *simulator.Room, caller string) bool {
	if !ws.CanAccessRoom(r.ID, caller) || r.Archived {
		return false
	}
	var roles []string
	if u := ws.UserByID(caller); u != nil {
		roles = append(roles, u.Roles...)
	}
	if sub := r.Subscription(caller); sub != nil {
		roles = append(roles, sub.Roles...)
	}
	return !r.Broadcast || slices.ContainsFunc(roles, func(role string) bool {
		return slices.Contains(ws.Permissions["view-broadcast-member-list"], role)
	})
}

func gotRoomGrants(got *harness.Contents) map[string]bool {
	out := map[string]bool{}
	for _, g := range got.Grants {
		if g.GetEntitlement().GetResource().GetId().GetResourceType() != "room" {
			continue
		}
		out[g.GetEntitlement().GetId()+":user:"+g.GetPrincipal().GetId().GetResource()] = true
	}
	return out
}

func diffKeys(got, want map[string]bool) (missing, extra []string) {
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}

// assertRooms checks the synced rooms against the workspace: every public
// channel, private group and discussion is a resource, never a direct
// message, an omnichannel room or a team's main room; grants as
// wantRoomGrants says.
func assertRooms(t *testing.T, got *harness.Contents, ws *simulator.Workspace, caller string, complete bool) {
	t.Helper()
	rooms := got.ResourcesOf("room")
	want, source := wantRoomGrants(ws, caller, complete)
	for id, src := range source {
		r := rooms[id]
		if r == nil {
			t.Errorf("room %s missing", id)
			continue
		}
		if s := profileString(r, "members_source"); s != src {
			t.Errorf("room %s: members_source %q, want %q", id, s, src)
		}
	}
	for id := range rooms {
		if _, ok := source[id]; !ok {
			t.Errorf("room %s synced, but it is not a channel, private group or discussion", id)
		}
	}
	for _, team := range ws.Teams {
		if rooms[team.RoomID] != nil {
			t.Errorf("team %s's main room synced as a room", team.Name)
		}
	}
	ents := map[string]bool{}
	for _, e := range got.Entitlements {
		ents[e.GetId()] = true
	}
	for id := range source {
		for _, slug := range []string{"member", "owner", "moderator", "leader"} {
			if !ents["room:"+id+":"+slug] {
				t.Errorf("room %s has no %s entitlement", id, slug)
			}
		}
	}
	missing, extra := diffKeys(gotRoomGrants(got), want)
	if len(missing) > 0 {
		t.Errorf("%d room grants missing, e.g. %v", len(missing), missing[:min(5, len(missing))])
	}
	if len(extra) > 0 {
		t.Errorf("%d room grants that Rocket.Chat does not hold, e.g. %v", len(extra), extra[:min(5, len(extra))])
	}
}

// TestRoomsSyncPerUser: an admin's token (not rate limited, holds
// view-other-user-channels) reads every user's rooms: every subscription
// is a grant, private groups the admin is not in and deactivated members
// included.
func TestRoomsSyncPerUser(t *testing.T) {
	gen := roomWorkspace()
	env := testenv.Start(t, gen.Workspace, simulator.Options{}, "")
	got := testenv.MustSyncSelected(t, newConnector(t, env.BaseURL, gen.Admin, withRooms()), roomSelection)
	var ws *simulator.Workspace
	env.Sim.View(func(w *simulator.Workspace) { ws = w.Clone() })
	assertRooms(t, got, ws, gen.Admin.UserID, true)
	assertMatchesWorkspace(t, got, ws)
	stats := env.Sim.Stats()
	if n := stats.Calls["GET users.info"]; n != len(ws.Users) {
		t.Errorf("users.info called %d times, want once per user (%d)", n, len(ws.Users))
	}
	if n := stats.Calls["GET channels.members"] + stats.Calls["GET groups.members"]; n != 0 {
		t.Errorf("%d member listings: the per-user reading has every member already", n)
	}
}

// TestRoomsSyncPerRoom: a rate-limited reader reads each room's members
// and roles, never waits into a 429, and marks the private groups it
// cannot read rather than list them empty.
func TestRoomsSyncPerRoom(t *testing.T) {
	gen := roomWorkspace()
	// The reader is in one private group: groups.members answers it that one.
	for _, r := range gen.Workspace.Rooms {
		if r.Type == simulator.RoomPrivate {
			r.Subscriptions = append(r.Subscriptions, simulator.RoomSubscription{UserID: gen.Reader.UserID})
			break
		}
	}
	env := testenv.Start(t, gen.Workspace, simulator.Options{RateLimitCalls: 10, RateLimitWindow: 300 * time.Millisecond}, "")
	got := testenv.MustSyncSelected(t, newConnector(t, env.BaseURL, gen.Reader, withRooms()), roomSelection)
	var ws *simulator.Workspace
	env.Sim.View(func(w *simulator.Workspace) { ws = w.Clone() })
	assertRooms(t, got, ws, gen.Reader.UserID, false)
	// The workspace has rooms of each kind: read, and hidden from the reader.
	sources := map[string]int{}
	for _, r := range got.ResourcesOf("room") {
		sources[profileString(r, "kind")+"/"+profileString(r, "members_source")]++
	}
	for _, want := range []string{"channel/room", "channel/none", "private group/room", "private group/none", "discussion/room"} {
		if sources[want] == 0 {
			t.Errorf("no %s room in the sync (%v): the test's workspace does not cover it", want, sources)
		}
	}
	if s := env.Sim.Stats(); s.Total429 != 0 {
		t.Errorf("%d answers were 429 (%v)", s.Total429, s.RateLimited)
	}

	// A targeted sync of each room agrees with the full one; an unknown
	// room is NotFound.
	conn := newConnector(t, env.BaseURL, gen.Reader, withRooms())
	ctx := context.Background()
	for id, want := range got.ResourcesOf("room") {
		r, err := getResource(ctx, conn, want.GetId())
		if err != nil {
			t.Fatalf("get room %s: %v", id, err)
		}
		for _, key := range []string{"members_source", "kind", "privacy", "name"} {
			if profileString(r, key) != profileString(want, key) {
				t.Errorf("room %s: targeted %s %q, synced %q", id, key, profileString(r, key), profileString(want, key))
			}
		}
	}
	_, err := getResource(ctx, conn, v2.ResourceId_builder{ResourceType: "room", Resource: "no-such-room"}.Build())
	testenv.WantCode(t, err, codes.NotFound, "no-such-room")
}

// TestRoomsWithoutInfiniteCount: with API_Allow_Infinite_Count off the
// rooms listing and the member listings page by 100 from offset 0, as every
// listing after the first does once the users listing has shown the
// setting (count=0 answers the default 50), and the grants are the same.
func TestRoomsWithoutInfiniteCount(t *testing.T) {
	gen := simulator.Generate(21, simulator.Size{Users: 400, Teams: 4, MembersPerTeam: 10, Rooms: 130, MembersPerRoom: 8})
	ws := gen.Workspace
	// One channel larger than a page of 100.
	var big *simulator.Room
	for _, r := range ws.Rooms {
		if r.Type == simulator.RoomPublic && r.TeamID == "" && r.ParentID == "" && !r.Archived && !r.Broadcast {
			big = r
			break
		}
	}
	for _, u := range ws.Users {
		if len(big.Subscriptions) >= 230 {
			break
		}
		if u.Active && big.Subscription(u.ID) == nil {
			big.Subscriptions = append(big.Subscriptions, simulator.RoomSubscription{UserID: u.ID})
		}
	}
	env := testenv.Start(t, ws, simulator.Options{InfiniteCountDisabled: true, RateLimitCalls: 10, RateLimitWindow: 300 * time.Millisecond}, "")
	got := testenv.MustSyncSelected(t, newConnector(t, env.BaseURL, gen.Reader, withRooms()), roomSelection)
	var now *simulator.Workspace
	env.Sim.View(func(w *simulator.Workspace) { now = w.Clone() })
	assertRooms(t, got, now, gen.Reader.UserID, false)

	listed := len(now.Teams) // rooms.adminRooms lists the teams' main rooms too
	for _, r := range now.Rooms {
		if r.Type == simulator.RoomPublic || r.Type == simulator.RoomPrivate {
			listed++
		}
	}
	calls := env.Sim.Stats().Calls
	if want := (listed + 99) / 100; calls["GET rooms.adminRooms"] != want {
		t.Errorf("rooms.adminRooms called %d times for %d rooms, want %d (pages of 100 from offset 0)", calls["GET rooms.adminRooms"], listed, want)
	}
	wantMembers := 0
	for _, r := range now.Rooms {
		if r.Type == simulator.RoomPublic && readablePerRoom(now, r, gen.Reader.UserID) {
			active := 0
			for _, s := range r.Subscriptions {
				if u := now.UserByID(s.UserID); u != nil && u.Active {
					active++
				}
			}
			wantMembers += max(1, (active+99)/100)
		}
	}
	if calls["GET channels.members"] != wantMembers {
		t.Errorf("channels.members called %d times, want %d (pages of 100 from offset 0)", calls["GET channels.members"], wantMembers)
	}
	if s := env.Sim.Stats(); s.Total429 != 0 {
		t.Errorf("%d answers were 429 (%v)", s.Total429, s.RateLimited)
	}
}

// TestRoomsBroadcastThroughRoomRole: channels.members checks
// view-broadcast-member-list in the room's scope
// (apps/meteor/app/api/server/v1/channels.ts, hasPermissionAsync with the
// room's id), so a reader without it globally still reads the broadcast
// rooms where it is owner or moderator, and only those.
func TestRoomsBroadcastThroughRoomRole(t *testing.T) {
	gen := roomWorkspace()
	ws := gen.Workspace
	reader := ws.UserByID(gen.Reader.UserID)
	ws.Permissions["view-broadcast-member-list"] = slices.DeleteFunc(ws.Permissions["view-broadcast-member-list"],
		func(role string) bool { return slices.Contains(reader.Roles, role) })
	var owned, other *simulator.Room
	for _, r := range ws.Rooms {
		if r.Type != simulator.RoomPublic || r.TeamID != "" || r.ParentID != "" || r.Archived {
			continue
		}
		switch {
		case owned == nil:
			owned = r
		case other == nil:
			other = r
		}
	}
	if owned == nil || other == nil {
		t.Fatal("the workspace has fewer than two channels outside teams")
	}
	if owned.Subscription(reader.ID) != nil || other.Subscription(reader.ID) != nil {
		t.Fatal("the reader is in the test's rooms already")
	}
	owned.Broadcast, other.Broadcast = true, true
	owned.Subscriptions = append(owned.Subscriptions, simulator.RoomSubscription{UserID: reader.ID, Roles: []string{"moderator"}})
	other.Subscriptions = append(other.Subscriptions, simulator.RoomSubscription{UserID: reader.ID})

	env := testenv.Start(t, ws, simulator.Options{RateLimitCalls: 10, RateLimitWindow: 300 * time.Millisecond}, "")
	got := testenv.MustSyncSelected(t, newConnector(t, env.BaseURL, gen.Reader, withRooms()), roomSelection)
	var now *simulator.Workspace
	env.Sim.View(func(w *simulator.Workspace) { now = w.Clone() })
	assertRooms(t, got, now, reader.ID, false)
	rooms := got.ResourcesOf("room")
	if src := profileString(rooms[owned.ID], "members_source"); src != "room" {
		t.Errorf("broadcast room the reader moderates: members_source %q, want room", src)
	}
	if src, note := profileString(rooms[other.ID], "members_source"), profileString(rooms[other.ID], "members_note"); src != "none" || !strings.Contains(note, "broadcast") {
		t.Errorf("broadcast room the reader is only in: members_source %q (%q), want none for broadcast", src, note)
	}
	if n := env.Sim.Stats().Calls["GET channels.members"]; n == 0 {
		t.Error("no channels.members call")
	}
}

// TestRoomsHosted: a rooms sync served by three instances that share only
// the session store stores what one instance stores, reads each readable
// room's members and roles once and the per-user reading once, whichever
// instance serves each call; a hosted sync stopped among the room grants
// and resumed by fresh instances reads no room twice.
func TestRoomsHosted(t *testing.T) {
	gen := roomWorkspace()
	for _, tc := range []struct {
		name string
		cred simulator.Credential
		opts simulator.Options
	}{
		{"per room", gen.Reader, hostedLimiter},
		{"per user", gen.Admin, simulator.Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := testenv.Start(t, gen.Workspace, tc.opts, "")
			one := testenv.MustSyncSelected(t, newConnector(t, env.BaseURL, tc.cred, withRooms()), roomSelection)
			env.Sim.ResetStats()

			build := func(int) connectorbuilder.ConnectorBuilderV2 {
				return newConnector(t, env.BaseURL, tc.cred, withRooms())
			}
			hosted := func(path string, stopAfter int) (harness.HostedStats, error) {
				return harness.SyncHosted(context.Background(), build, path,
					harness.HostedOptions{Instances: 3, TmpDir: t.TempDir(), ResourceTypes: roomSelection, StopAfter: stopAfter})
			}
			path := filepath.Join(t.TempDir(), "hosted.c1z")
			whole, err := hosted(path, 0)
			if err != nil {
				t.Fatalf("hosted sync: %v", err)
			}
			got, err := harness.ReadC1Z(context.Background(), path, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			assertSameContents(t, got, one)
			wantRoomReads(t, env.Sim.Stats(), got, len(gen.Workspace.Users))

			// Stopped among the room grants (the last calls of the sync),
			// then resumed by fresh instances.
			env.Sim.ResetStats()
			path = filepath.Join(t.TempDir(), "resumed.c1z")
			if _, err := hosted(path, whole.ListCalls()-len(one.ResourcesOf("room"))/2); !errors.Is(err, harness.ErrStopped) {
				t.Fatalf("interrupted sync: %v, want it stopped", err)
			}
			if _, err := hosted(path, 0); err != nil {
				t.Fatalf("resumed sync: %v", err)
			}
			got, err = harness.ReadC1Z(context.Background(), path, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			assertSameContents(t, got, one)
			wantRoomReads(t, env.Sim.Stats(), got, len(gen.Workspace.Users))
		})
	}
}

// TestRoomsPerUserInBoundedCalls: the per-user reading is spread over the
// rooms listing's calls, one page of users (at most 500 users.info calls)
// each, so that no call of a large workspace lasts long in a hosted runner;
// the c1z is a one-process sync's, and a sync stopped in the middle of the
// reading and resumed by fresh instances reads no user's rooms twice.
func TestRoomsPerUserInBoundedCalls(t *testing.T) {
	const usersPage = 500 // the engine's pages (pageItems in engine.go)
	gen := simulator.Generate(5, simulator.Size{Users: 1200, Teams: 4, MembersPerTeam: 10, Rooms: 40, MembersPerRoom: 30})
	// #general's 1,200 subscribers are stored, and granted, in pages.
	gen.Workspace.JoinEveryone()
	users := len(gen.Workspace.Users)
	env := testenv.Start(t, gen.Workspace, simulator.Options{}, "")
	one := testenv.MustSyncSelected(t, newConnector(t, env.BaseURL, gen.Admin, withRooms()), roomSelection)

	// Per call: how many users.info calls it made, and how many listing
	// calls (which StopAfter counts) had completed when it returned.
	type call struct{ userInfos, listCalls int }
	var calls []call
	last, lists := 0, 0
	observe := func(rpc string) {
		if slices.Contains(harness.ListRPCs, rpc) {
			lists++
		}
		n := served(env.Sim.Stats(), "GET users.info")
		calls = append(calls, call{n - last, lists})
		last = n
	}
	hosted := func(path string, stopAfter int) error {
		_, err := syncHosted(t, env.BaseURL, gen.Admin, path,
			harness.HostedOptions{Instances: 3, ResourceTypes: roomSelection, StopAfter: stopAfter, AfterCall: observe})
		return err
	}

	env.Sim.ResetStats()
	path := filepath.Join(t.TempDir(), "hosted.c1z")
	if err := hosted(path, 0); err != nil {
		t.Fatalf("hosted sync: %v", err)
	}
	got, err := harness.ReadC1Z(context.Background(), path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	assertSameContents(t, got, one)
	reading, firstReading := 0, 0
	for _, c := range calls {
		if c.userInfos > usersPage {
			t.Errorf("a call made %d users.info calls, more than a page of users (%d)", c.userInfos, usersPage)
		}
		if c.userInfos > 0 {
			if reading == 0 {
				firstReading = c.listCalls
			}
			reading++
		}
	}
	if want := (users + usersPage - 1) / usersPage; reading != want {
		t.Errorf("%d calls read users' rooms, want one per page of users (%d)", reading, want)
	}
	if n := served(env.Sim.Stats(), "GET users.info"); n != users {
		t.Errorf("users.info answered %d times, want once per user (%d)", n, users)
	}

	// Stopped after the first page of users' rooms, resumed by fresh
	// instances: the second run reads the other users only.
	env.Sim.ResetStats()
	calls, last, lists = nil, 0, 0
	path = filepath.Join(t.TempDir(), "resumed.c1z")
	if err := hosted(path, firstReading); !errors.Is(err, harness.ErrStopped) {
		t.Fatalf("interrupted sync: %v, want it stopped", err)
	}
	if n := served(env.Sim.Stats(), "GET users.info"); n == 0 || n >= users {
		t.Fatalf("the interrupted sync read %d users' rooms, want it stopped in the middle of the reading", n)
	}
	last, lists = served(env.Sim.Stats(), "GET users.info"), 0
	if err := hosted(path, 0); err != nil {
		t.Fatalf("resumed sync: %v", err)
	}
	if got, err = harness.ReadC1Z(context.Background(), path, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	assertSameContents(t, got, one)
	if n := served(env.Sim.Stats(), "GET users.info"); n != users {
		t.Errorf("users.info answered %d times over the stopped and the resumed sync, want once per user (%d)", n, users)
	}
}

// TestRoomsPerUserWithAFaultyStore: the per-user reading over a session
// store that drops 1 in 4 values written, answers 1 in 5 reads as missing
// and fails 1 in 10 calls gives a one-process sync's c1z; a lost part costs
// its page of users again, never everyone's rooms again.
func TestRoomsPerUserWithAFaultyStore(t *testing.T) {
	gen := simulator.Generate(5, simulator.Size{Users: 1200, Teams: 4, MembersPerTeam: 10, Rooms: 40, MembersPerRoom: 30})
	// #general's 1,200 subscribers are stored, and granted, in pages.
	gen.Workspace.JoinEveryone()
	users := len(gen.Workspace.Users)
	env := testenv.Start(t, gen.Workspace, simulator.Options{}, "")
	one := testenv.MustSyncSelected(t, newConnector(t, env.BaseURL, gen.Admin, withRooms()), roomSelection)
	env.Sim.ResetStats()

	faulty := &harness.FaultyStore{Faults: harness.StoreFaults{DropWrite: 4, MissRead: 5, FailCall: 10}}
	path := filepath.Join(t.TempDir(), "faulty.c1z")
	if _, err := syncHosted(t, env.BaseURL, gen.Admin, path,
		harness.HostedOptions{Instances: 3, ResourceTypes: roomSelection, StoreFaults: faulty}); err != nil {
		t.Fatalf("hosted sync with a faulty store: %v", err)
	}
	got, err := harness.ReadC1Z(context.Background(), path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	assertSameContents(t, got, one)
	if faulty.Injected() == 0 {
		t.Fatal("the store injected no fault")
	}
	n := served(env.Sim.Stats(), "GET users.info")
	if n < users || n >= 2*users {
		t.Errorf("users.info answered %d times for %d users with %d store faults: want every user once, plus the pages of lost parts, never everyone again",
			n, users, faulty.Injected())
	}
	t.Logf("%d store faults; users.info answered %d times for %d users", faulty.Injected(), n, users)
}

// wantRoomReads checks that a sync read each room it could once: per room,
// one member and one role call for each room read that way (none read per
// user, nor hidden); per user, users.info once per user.
func wantRoomReads(t *testing.T, stats simulator.Stats, got *harness.Contents, users int) {
	t.Helper()
	perRoom := 0
	for _, r := range got.ResourcesOf("room") {
		if profileString(r, "members_source") == "room" {
			perRoom++
		}
	}
	members := served(stats, "GET channels.members") + served(stats, "GET groups.members")
	roles := served(stats, "GET channels.roles") + served(stats, "GET groups.roles")
	if members != perRoom || roles != perRoom {
		t.Errorf("%d member and %d role listings answered for %d rooms read per room: want one each", members, roles, perRoom)
	}
	if perRoom == 0 && served(stats, "GET users.info") != users {
		t.Errorf("users.info answered %d times, want once per user (%d)", served(stats, "GET users.info"), users)
	}
	if served(stats, "GET rooms.adminRooms") != 1 {
		t.Errorf("rooms.adminRooms answered %d times, want 1", served(stats, "GET rooms.adminRooms"))
	}
}

// TestRoomFaults: the room routes' failures within the retry bound cost
// retries and nothing else; a route that keeps failing stops the sync
// with the route named, and no room is passed off with partial members.
func TestRoomFaults(t *testing.T) {
	gen := roomWorkspace()
	for _, tc := range []struct {
		name     string
		endpoint string
		actions  []faultkit.Action
		fail     codes.Code
	}{
		{"5xx burst on channels.members", "channels.members", faultkit.Burst(503, 502, 500), codes.OK},
		{"connection reset on channels.roles", "channels.roles", []faultkit.Action{faultkit.Reset}, codes.OK},
		{"5xx burst on the rooms listing", "rooms.adminRooms", faultkit.Burst(504, 503), codes.OK},
		{"persistent 503 on channels.members", "channels.members", faultkit.Burst(503), codes.Aborted},
		{"persistent 502 on channels.roles", "channels.roles", faultkit.Burst(502), codes.Aborted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := faultkit.Start(t, gen, hostedLimiter)
			rule := &faultkit.Rule{Name: tc.endpoint, Match: faultkit.Endpoint(tc.endpoint), Actions: tc.actions, Persistent: tc.fail != codes.OK}
			f.Install(rule)
			conn := newConnector(t, f.BaseURL, gen.Reader, withRooms(), faultkit.Tweak)
			path, err := testenv.SyncSelected(t, conn, roomSelection)
			hits, faults, _ := rule.Counts()
			if faults == 0 {
				t.Fatalf("the fault never fired (%d requests matched)", hits)
			}
			if tc.fail != codes.OK {
				faultkit.WantFailure(t, path, err, tc.fail, gen.Reader.Token, tc.endpoint, "giving up")
				return
			}
			if err != nil {
				t.Fatalf("sync: %v", err)
			}
			got, err := harness.ReadC1Z(context.Background(), path, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			var ws *simulator.Workspace
			f.Sim.View(func(w *simulator.Workspace) { ws = w.Clone() })
			assertRooms(t, got, ws, gen.Reader.UserID, false)
		})
	}
}

// TestRoomsLimitedTokenWithOtherUserChannels: a rate-limited token whose
// user holds view-other-user-channels reads every user's rooms when that
// takes no more of users.info's windows than the sync takes anyway (here
// the busiest room route's), or with all-room-memberships: complete,
// private groups it is not in and deactivated members included, at one
// window's worth of users per call, whichever hosted instance serves it.
// Otherwise the sync reads per room, as for a token without the
// permission, which all-room-memberships does not change.
func TestRoomsLimitedTokenWithOtherUserChannels(t *testing.T) {
	const limit = 10
	opts := simulator.Options{RateLimitCalls: limit, RateLimitWindow: 150 * time.Millisecond}
	fewUsers := func() *simulator.Generated {
		return simulator.Generate(21, simulator.Size{Users: 40, Teams: 2, MembersPerTeam: 5, Rooms: 120, MembersPerRoom: 6})
	}
	all := []connector.Option{connector.WithAllRoomMemberships()}
	paged := opts
	paged.InfiniteCountDisabled = true
	for _, tc := range []struct {
		name       string
		gen        *simulator.Generated
		sim        simulator.Options
		selection  []string
		permission bool
		options    []connector.Option
		perUser    bool
	}{
		{"few users, many rooms: every user's rooms", fewUsers(), opts, roomSelection, true, nil, true},
		{"many users, few rooms: per room", roomWorkspace(), opts, roomSelection, true, nil, false},
		{"many users, all-room-memberships: every user's rooms", roomWorkspace(), opts, roomSelection, true, all, true},
		// Nothing stored the users listing: the reading lists the users
		// itself, and stays a window's worth of users per call. (The SDK
		// keeps no grant of a principal type the sync did not select, so
		// only the rooms' profiles and the calls show it.)
		{"rooms alone, all-room-memberships: every user's rooms", roomWorkspace(), opts, []string{"room"}, true, all, true},
		{"all-room-memberships without the permission: per room", fewUsers(), opts, roomSelection, false, all, false},
		// A server that pages listings gives no count of the rooms in one
		// answer: per room, as the bench's plan says.
		{"few users, server paging: per room", fewUsers(), paged, roomSelection, true, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := tc.gen.Workspace
			reader := ws.UserByID(tc.gen.Reader.UserID)
			if tc.permission {
				ws.Permissions["view-other-user-channels"] = append(ws.Permissions["view-other-user-channels"], reader.Roles...)
			}
			if tc.permission && tc.options == nil && !tc.sim.InfiniteCountDisabled {
				// The premise: users.info's calls against the busiest
				// room route's, in windows (two or four teams take one).
				perType := map[string]int{}
				for _, r := range ws.Rooms {
					if (r.Type == simulator.RoomPublic || r.Type == simulator.RoomPrivate) && readablePerRoom(ws, r, reader.ID) {
						perType[r.Type]++
					}
				}
				roomWindows := (max(perType[simulator.RoomPublic], perType[simulator.RoomPrivate]) + limit - 1) / limit
				if fits := len(ws.Users)+1 <= roomWindows*limit; fits != tc.perUser {
					t.Fatalf("%d users against %d windows of room reads: the case does not test what it says", len(ws.Users), roomWindows)
				}
			}
			env := testenv.Start(t, ws, tc.sim, "")
			build := func(int) connectorbuilder.ConnectorBuilderV2 {
				return connector.NewWithClient(testenv.Client(t, env.BaseURL, tc.gen.Reader), &cli.ConnectorOpts{SyncResourceTypeIDs: tc.selection}, tc.options...)
			}
			one := testenv.MustSyncSelected(t, build(0), tc.selection)
			var view *simulator.Workspace
			env.Sim.View(func(w *simulator.Workspace) { view = w.Clone() })
			if slices.Contains(tc.selection, "user") {
				assertRooms(t, one, view, reader.ID, tc.perUser)
			} else {
				for id, r := range one.ResourcesOf("room") {
					if got := profileString(r, "members_source"); got != "users" {
						t.Errorf("room %s: members_source %q, want users", id, got)
					}
				}
			}
			stats := env.Sim.Stats()
			wantInfos := 1 // the token's own rooms, which decide what it may open
			if tc.perUser {
				wantInfos += len(view.Users)
				if n := stats.Calls["GET channels.members"] + stats.Calls["GET groups.members"] + stats.Calls["GET channels.roles"] + stats.Calls["GET groups.roles"]; n != 0 {
					t.Errorf("%d room member and role listings: the per-user reading has every member already", n)
				}
			}
			if n := stats.Calls["GET users.info"]; n != wantInfos {
				t.Errorf("users.info called %d times, want %d", n, wantInfos)
			}
			if stats.Total429 != 0 {
				t.Errorf("%d answers were 429 (%v)", stats.Total429, stats.RateLimited)
			}
			if !tc.perUser {
				return
			}

			// Hosted: no call reads more than one window's worth of users
			// (the first also reads the token's own rooms), and the c1z is
			// the one-process sync's.
			env.Sim.ResetStats()
			var perCall []int
			last := 0
			observe := func(string) {
				n := served(env.Sim.Stats(), "GET users.info")
				perCall = append(perCall, n-last)
				last = n
			}
			path := filepath.Join(t.TempDir(), "hosted.c1z")
			if _, err := harness.SyncHosted(context.Background(), build, path, harness.HostedOptions{
				Instances: 3, TmpDir: t.TempDir(), ResourceTypes: tc.selection, AfterCall: observe,
			}); err != nil {
				t.Fatalf("hosted sync: %v", err)
			}
			got, err := harness.ReadC1Z(context.Background(), path, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			assertSameContents(t, got, one)
			reading := 0
			for _, n := range perCall {
				if n > limit+1 {
					t.Errorf("a call made %d users.info calls, more than one window's worth (%d) and the token's own", n, limit)
				}
				if n > 0 {
					reading++
				}
			}
			if want := (len(view.Users) + limit - 1) / limit; reading != want {
				t.Errorf("%d calls read users' rooms, want one per %d users (%d)", reading, limit, want)
			}
			if n := served(env.Sim.Stats(), "GET users.info"); n != wantInfos {
				t.Errorf("users.info answered %d times, want %d", n, wantInfos)
			}
		})
	}
}
