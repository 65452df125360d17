// Package bench measures full syncs of the Rocket.Chat connector against the
// in-process simulator: how close a rate-limited sync gets to the floor the
// limiter allows, how it compares with a naive syncer, and how fast and how
// big an unlimited sync of a large workspace is. See docs/performance.md.
package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/pkg/client"
	"github.com/conductorone/baton-rocketchat/pkg/connector"
)

// Endpoint keys, as simulator.Stats counts calls.
const (
	EpInfo        = "GET info"
	EpMe          = "GET me"
	EpPermissions = "GET permissions.listAll"
	EpRoles       = "GET roles.list"
	EpUsers       = "GET users.listByStatus"
	EpUsersList   = "GET users.list"
	EpTeams       = "GET teams.listAll"
	EpMembers     = "GET teams.members"
	EpUsersInRole = "GET roles.getUsersInRole"
	// EpUserTeams reads one deactivated user's teams.
	EpUserTeams = "GET users.listTeams"
	// The optional types' listings: integrations.list once per kind
	// (incoming, outgoing webhooks), oauth-apps.list (not paginated).
	EpIntegrations = "GET integrations.list"
	EpOAuthApps    = "GET oauth-apps.list"
	// The directory check (a token with view-privileged-setting): LDAP and
	// SAML settings, one budget for every id, and the sign-in services.
	EpSettings      = "GET settings/:_id"
	EpLoginServices = "GET settings.oauth"
)

// The connector's resource type ids (pkg/connector/resource_types.go), whose
// calls the plans count.
const (
	typeUser            = "user"
	typeRole            = "role"
	typeTeam            = "team"
	typePermission      = "permission"
	typeIncomingWebhook = "incoming-webhook"
	typeOutgoingWebhook = "outgoing-webhook"
	typeOAuthApp        = "oauth-app"
)

// PageSize is the largest page Rocket.Chat serves (API_Upper_Count_Limit).
const PageSize = 100

// teamRoles are the team roles the connector turns into grants.
var teamRoles = []string{"owner", "moderator", "leader"}

// Plan is a number of calls per endpoint key.
type Plan map[string]int

func pages(items, size int) int {
	return max(1, (items+size-1)/size)
}

// syncedTypes are the resource types the connector can sync, as a
// connector built without credentials (the capabilities command's) lists
// them.
func syncedTypes() []string {
	ctx := context.Background()
	var out []string
	for _, s := range (&connector.Connector{}).ResourceSyncers(ctx) {
		out = append(out, s.ResourceType(ctx).GetId())
	}
	return out
}

// typesFor are the resource types a connector configured with cred syncs
// on ws: optional types (webhooks, OAuth apps) are offered only to a token
// that can list them. It asks such a connector, against a throwaway server
// over ws (which must not be in use meanwhile); when that fails, every type.
func typesFor(ws *simulator.Workspace, cred simulator.Credential) []string {
	ctx := context.Background()
	srv := httptest.NewServer(simulator.NewServer(ws, simulator.Options{DisableRateLimiter: true}))
	defer srv.Close()
	cl, err := client.New(ctx, client.Config{BaseURL: srv.URL, UserID: cred.UserID, Token: cred.Token})
	if err != nil {
		return syncedTypes()
	}
	var out []string
	for _, s := range connector.NewWithClient(cl, nil).ResourceSyncers(ctx) {
		out = append(out, s.ResourceType(ctx).GetId())
	}
	return out
}

// planFor is the validation calls (/api/info, me, permissions.listAll)
// plus, per resource type in types, the calls listing counts for its
// listing. A resource type the plans do not know gets an entry of its own,
// unknownType(typ), that no sync makes: every check of a sync against the
// plan then fails, naming it, until its calls are added here.
func planFor(types []string, directory Plan, listing func(typ string) Plan) Plan {
	plan := Plan{EpInfo: 1, EpMe: 1, EpPermissions: 1}
	for ep, n := range directory {
		plan[ep] += n
	}
	for _, typ := range types {
		calls := listing(typ)
		if calls == nil {
			calls = Plan{unknownType(typ): 1}
		}
		for ep, n := range calls {
			plan[ep] += n
		}
	}
	return plan
}

// directoryCalls are the calls of the directory check once per sync
// (pkg/connector/directory.go readDirectory) for a token that holds
// view-privileged-setting: the settings it reads, in its order, as ws holds
// them, and settings.oauth. None for other tokens.
func directoryCalls(ws *simulator.Workspace, cred simulator.Credential) Plan {
	if !holds(ws, cred, "view-privileged-setting") {
		return nil
	}
	on := func(id string) bool { v, _ := ws.Settings[id].(bool); return v }
	reads := 1 // LDAP_Enable
	if on(simulator.SettingLDAPEnable) {
		reads++ // role sync
		if on(simulator.SettingLDAPSyncRoles) {
			reads += 2 // the role map, AutoRemove
		}
		reads++ // team sync
		if on(simulator.SettingLDAPTeamsEnable) {
			reads++ // at each login
			if on(simulator.SettingLDAPTeamsEachLogin) {
				reads++ // the team map
			}
		}
	}
	reads++ // SAML
	if on(simulator.SettingSAML) {
		reads++ // its role sync
	}
	return Plan{EpSettings: reads, EpLoginServices: 1}
}

// pendingCalls are the users listing's reads of the users waiting for
// approval (pkg/connector/user.go pendingApproval): pages of 100 from
// users.listByStatus, once the listing meets a deactivated user.
func pendingCalls(ws *simulator.Workspace) int {
	deactivated, pending := 0, 0
	for _, u := range ws.Users {
		if !u.Active {
			deactivated++
			if u.InactiveReason == "pending_approval" {
				pending++
			}
		}
	}
	if deactivated == 0 {
		return 0
	}
	return pages(pending, PageSize)
}

// unknownType is the plan entry of a resource type the plans do not know.
func unknownType(typ string) string {
	return fmt.Sprintf("resource type %q (its calls are not in MinimalPlan and PagedPlan yet: add them)", typ)
}

// MinimalPlan is the fewest calls a complete sync of ws can make when the
// server serves whole listings (count=0, API_Allow_Infinite_Count on, the
// default): the three validation calls, then one call per listing and one
// teams.members call per team, role holders taken from the users' own role
// lists, and one users.listTeams call per deactivated user whose teams the
// sync reads (deactivatedListed). The permission listing is permissions.listAll again: the SDK's
// Validate has no session store to leave the validation's answer in for
// whichever instance lists the permissions.
func MinimalPlan(ws *simulator.Workspace, cred simulator.Credential, opts simulator.Options) Plan {
	return planFor(typesFor(ws, cred), directoryCalls(ws, cred), func(typ string) Plan {
		switch typ {
		case typeUser:
			return Plan{EpUsers: 1 + pendingCalls(ws)}
		case typeRole:
			return Plan{EpRoles: 1}
		case typeTeam:
			return Plan{EpTeams: 1, EpMembers: len(ws.Teams), EpUserTeams: userTeamsCalls(ws, cred, opts)}
		case typePermission:
			return Plan{EpPermissions: 1}
		case typeIncomingWebhook, typeOutgoingWebhook:
			return Plan{EpIntegrations: 1}
		case typeOAuthApp:
			return Plan{EpOAuthApps: 1}
		}
		return nil
	})
}

// Room endpoint keys: the rooms listing, and each room's members and room
// roles, on routes of their own by the room's type.
const (
	EpRooms          = "GET rooms.adminRooms"
	EpUserInfo       = "GET users.info"
	EpChannelMembers = "GET channels.members"
	EpGroupMembers   = "GET groups.members"
	EpChannelRoles   = "GET channels.roles"
	EpGroupRoles     = "GET groups.roles"
)

// RoomTypeID is the opt-in room resource type; a sync reads rooms only when
// its selection names it.
const RoomTypeID = "room"

// MinimalRoomsPlan is MinimalPlan of a sync that also selected rooms, for
// a token read per room (rate limited, pkg/connector/room.go): the rooms
// listing in one call, the token's own rooms and teams (users.info and
// users.listTeams, which decide which rooms it may open), then, for each
// channel, private group and discussion Rocket.Chat lets it open
// (canAccessRoom) and the room routes answer (not archived; broadcast
// rooms with view-broadcast-member-list, globally or in the room), one member and one role call on
// the routes of the room's type. The teams listing the access plan needs is the one the team
// syncer read.
//
// A token that holds view-other-user-channels reads members per user
// instead, one users.info call for each listed user, when the limiter
// spares it, or when those calls take no more windows than the sync takes
// anyway (the teams' or the busiest room route's), on top of the calls that
// decided what it may open. (With all-room-memberships on, a connector
// option the plan does not see, a limited token reads per user always.)
func MinimalRoomsPlan(ws *simulator.Workspace, cred simulator.Credential, opts simulator.Options) Plan {
	plan := MinimalPlan(ws, cred, opts)
	plan[EpRooms]++
	otherUsersRooms := holds(ws, cred, "view-other-user-channels")
	if (opts.DisableRateLimiter || bypassesLimiter(ws, cred)) && otherUsersRooms {
		plan[EpUserInfo] += len(ws.Users)
		return plan
	}
	plan[EpUserInfo]++
	plan[EpUserTeams]++
	perRoom := Plan{}
	for _, r := range ws.Rooms {
		if (r.Type != simulator.RoomPublic && r.Type != simulator.RoomPrivate) || !ws.CanAccessRoom(r.ID, cred.UserID) || r.Archived ||
			r.Broadcast && !holds(ws, cred, "view-broadcast-member-list") && !holdsInRoom(ws, cred, r, "view-broadcast-member-list") {
			continue
		}
		if r.Type == simulator.RoomPublic {
			perRoom[EpChannelMembers]++
			perRoom[EpChannelRoles]++
		} else {
			perRoom[EpGroupMembers]++
			perRoom[EpGroupRoles]++
		}
	}
	limit := windowCalls(opts)
	windows := max(pages(len(ws.Teams), limit), pages(max(perRoom[EpChannelMembers], perRoom[EpGroupMembers]), limit))
	if otherUsersRooms && !opts.InfiniteCountDisabled && len(ws.Users)+1 <= windows*limit {
		plan[EpUserInfo] += len(ws.Users)
		return plan
	}
	for ep, n := range perRoom {
		plan[ep] += n
	}
	return plan
}

// syncableRooms counts the rooms a rooms sync lists: channels, private
// groups and discussions.
func syncableRooms(ws *simulator.Workspace) int {
	n := 0
	for _, r := range ws.Rooms {
		if r.Type == simulator.RoomPublic || r.Type == simulator.RoomPrivate {
			n++
		}
	}
	return n
}

// PagedPlan is the fewest calls when the server ignores count=0
// (API_Allow_Infinite_Count off): the sync's first listing (users) asks
// count=0 and gets the default 50 items, each further call 100; every later
// listing knows by then and reads 100 a call from offset 0. A listing that
// is empty still costs the one call that finds it empty. roles.list and
// permissions.listAll are not paginated.
func PagedPlan(ws *simulator.Workspace, cred simulator.Credential, opts simulator.Options) Plan {
	opts.InfiniteCountDisabled = true
	active := activeSet(ws)
	return planFor(typesFor(ws, cred), directoryCalls(ws, cred), func(typ string) Plan {
		switch typ {
		case typeUser:
			return Plan{EpUsers: pagedCalls(len(ws.Users)) + pendingCalls(ws)}
		case typeRole:
			return Plan{EpRoles: 1}
		case typeTeam:
			members := 0
			for _, t := range ws.Teams {
				n := 0
				for _, m := range t.Members {
					if active[m.UserID] {
						n++
					}
				}
				members += pages(n, PageSize)
			}
			return Plan{EpTeams: pages(len(ws.Teams), PageSize), EpMembers: members, EpUserTeams: userTeamsCalls(ws, cred, opts)}
		case typePermission:
			return Plan{EpPermissions: 1}
		case typeIncomingWebhook, typeOutgoingWebhook:
			return Plan{EpIntegrations: pages(integrations(ws, typ), PageSize)}
		case typeOAuthApp:
			return Plan{EpOAuthApps: 1}
		}
		return nil
	})
}

// pagedCalls is the calls a listing of n items takes at 50, then 100 a call.
func pagedCalls(n int) int {
	const first = 50
	if n <= first {
		return 1
	}
	return 1 + pages(n-first, PageSize)
}

// deactivatedListed are the deactivated users whose teams a sync with cred
// against a simulator with opts reads with users.listTeams
// (pkg/connector/deactivated.go): every one when the limiter does not limit
// cred (it is off, or cred's user holds api-bypass-rate-limit), else as many
// as the windows the sync takes anyway allow calls (one teams.members call
// per team), but one, the first in users.listByStatus order (by username),
// and none when the server serves listings page by page.
func deactivatedListed(ws *simulator.Workspace, cred simulator.Credential, opts simulator.Options) []*simulator.User {
	var gone []*simulator.User
	for _, u := range ws.Users {
		if !u.Active {
			gone = append(gone, u)
		}
	}
	slices.SortStableFunc(gone, func(a, b *simulator.User) int { return strings.Compare(a.Username, b.Username) })
	switch {
	case opts.DisableRateLimiter || bypassesLimiter(ws, cred):
		return gone
	case opts.InfiniteCountDisabled:
		return nil
	}
	limit := windowCalls(opts)
	// One call of the windows checks that users.listTeams works.
	return gone[:min(len(gone), pages(len(ws.Teams), limit)*limit-1)]
}

// userTeamsCalls are the users.listTeams calls of a sync: one per listed
// deactivated user, and the one before them that checks the endpoint works,
// made whenever the sync may list some (on a server that serves listings
// page by page, before it can know there are any).
func userTeamsCalls(ws *simulator.Workspace, cred simulator.Credential, opts simulator.Options) int {
	listed := len(deactivatedListed(ws, cred, opts))
	unlimited := opts.DisableRateLimiter || bypassesLimiter(ws, cred)
	if listed > 0 || (unlimited && opts.InfiniteCountDisabled) {
		return listed + 1
	}
	return 0
}

// windowCalls is the simulator's calls per endpoint per window under opts:
// Rocket.Chat's default, 10, unless set.
func windowCalls(opts simulator.Options) int {
	if opts.RateLimitCalls > 0 {
		return opts.RateLimitCalls
	}
	return 10
}

// bypassesLimiter reports whether cred's user holds api-bypass-rate-limit.
func bypassesLimiter(ws *simulator.Workspace, cred simulator.Credential) bool {
	return holds(ws, cred, "api-bypass-rate-limit")
}

// holdsInRoom reports whether cred's user holds perm through its roles in
// room r (its subscription's).
func holdsInRoom(ws *simulator.Workspace, cred simulator.Credential, r *simulator.Room, perm string) bool {
	sub := r.Subscription(cred.UserID)
	return sub != nil && slices.ContainsFunc(sub.Roles, func(role string) bool { return slices.Contains(ws.Permissions[perm], role) })
}

// holds reports whether cred's user holds perm through a global role.
func holds(ws *simulator.Workspace, cred simulator.Credential, perm string) bool {
	u := ws.UserByID(cred.UserID)
	if u == nil {
		return false
	}
	for _, r := range u.Roles {
		if slices.Contains(ws.Permissions[perm], r) {
			return true
		}
	}
	return false
}

// activeSet holds the ids of active users: teams.members leaves deactivated
// (and unknown) users out.
func activeSet(ws *simulator.Workspace) map[string]bool {
	active := make(map[string]bool, len(ws.Users))
	for _, u := range ws.Users {
		if u.Active {
			active[u.ID] = true
		}
	}
	return active
}

// FloorWindows is the fewest whole windows a sync making calls must wait
// under a fixed-window limiter of limit calls per endpoint: endpoints are
// limited separately, so the busiest one decides. Its first window is free;
// each further batch of limit calls waits for the next window.
// /api/info is never limited.
func FloorWindows(calls Plan, limit int) int {
	worst := 0
	for ep, n := range calls {
		if ep == EpInfo || n == 0 {
			continue
		}
		worst = max(worst, (n+limit-1)/limit-1)
	}
	return worst
}

// PhaseFloor is the earliest, counted from the sync's start, that the last
// call of calls can reach the simulator's limiter (limit calls per endpoint
// per window): FloorWindows × window, corrected for the phase of the
// simulator's windows.
//
// The simulator, like Rocket.Chat, opens every endpoint's first window when
// the server starts (its rules are created at startup; see
// internal/simulator/ratelimit.go), and each later window on the first call
// after the previous one ran out. FloorWindows × window assumes the sync
// can spend its first window: true when the sync first calls the endpoint
// before that window runs out, and then the endpoint's last window opens at
// the earliest (windows−1) × window after the server started. But the sync
// cannot call an endpoint at once: teams.members needs the teams, and the
// SDK asks for grants only once every resource and entitlement is in, which
// takes the same time whatever the window. Under the real 60 s window that
// happens well inside the first window and costs nothing; under a window
// scaled down to a fraction of a second the first window has often run out,
// unused, by then, and the endpoint's windows start over from its first
// call. The simple formula would then charge the scaled-down benchmark for
// a whole window plus work that the real limiter hides entirely: the ratio
// would measure the scaling, not the pacing. So, per endpoint, when its
// first call (first[ep], since the server started) comes after its first
// window ran out, the floor is that call plus one window per further batch
// of limit calls; otherwise it is the simple one. The largest over the
// endpoints is the floor, less started (when the sync started, since the
// server did).
//
// It never exceeds what an ideal client would need: that one sends every
// batch the moment its window opens and nothing after the last call. The
// SDK's work after the last call (writing the c1z) is not in it.
func PhaseFloor(calls Plan, limit int, window, started time.Duration, first map[string]time.Duration) time.Duration {
	var floor time.Duration
	for ep, n := range calls {
		if ep == EpInfo || n == 0 {
			continue
		}
		waits := time.Duration((n+limit-1)/limit-1) * window
		if t, ok := first[ep]; ok && t > window && waits > 0 {
			waits += t
		}
		floor = max(floor, waits-started)
	}
	return max(floor, 0)
}

// Expected is what a complete sync of a workspace must produce.
type Expected struct {
	Users, Roles, Teams, Permissions int
	RoleGrants, TeamGrants           int
	// PermissionGrants counts the grants of permissions to the roles
	// holding them, ExpandedGrants those the SDK derives from them: one to
	// each user holding a workspace role that holds the permission.
	PermissionGrants, ExpandedGrants int
	Memberships                      int // active team memberships
	// Rooms and RoomGrants are a sync's that selected rooms (WithRooms).
	Rooms, RoomGrants int
}

// WithRooms adds the rooms a sync that selected them lists (channels,
// private groups and discussions) and their grants when members are read
// per user (pkg/connector/room_subscriptions.go): every subscription is a
// member grant, and each owner, moderator or leader role on it one more.
func (e Expected) WithRooms(ws *simulator.Workspace) Expected {
	for _, r := range ws.Rooms {
		if r.Type != simulator.RoomPublic && r.Type != simulator.RoomPrivate {
			continue
		}
		e.Rooms++
		for _, sub := range r.Subscriptions {
			e.RoomGrants++
			for _, role := range teamRoles { // the room roles are the team roles
				if slices.Contains(sub.Roles, role) {
					e.RoomGrants++
				}
			}
		}
	}
	return e
}

// WithDeactivated adds the team grants of the deactivated users a sync with
// cred against a simulator with opts lists (deactivatedListed): membership, and ownership where they own
// the team (users.listTeams reports no other team role).
func (e Expected) WithDeactivated(ws *simulator.Workspace, cred simulator.Credential, opts simulator.Options) Expected {
	listed := map[string]bool{}
	for _, u := range deactivatedListed(ws, cred, opts) {
		listed[u.ID] = true
	}
	for _, t := range ws.Teams {
		for _, m := range t.Members {
			if listed[m.UserID] {
				e.TeamGrants++
				if slices.Contains(m.Roles, "owner") {
					e.TeamGrants++
				}
			}
		}
	}
	return e
}

// Resources counts users, roles, teams, permissions and rooms.
func (e Expected) Resources() int { return e.Users + e.Roles + e.Teams + e.Permissions + e.Rooms }

// Grants counts every grant, expanded ones included.
func (e Expected) Grants() int {
	return e.RoleGrants + e.TeamGrants + e.PermissionGrants + e.ExpandedGrants + e.RoomGrants
}

// Expect computes the oracle counts straight from the simulator's data:
// one grant per holder of each workspace-scoped role; per active team
// member one membership grant plus one per team role held; and, when the
// connector syncs permissions, one grant per permission to each role
// roles.list knows that holds it, and one expanded grant per permission to
// each user holding it through a workspace role.
func Expect(ws *simulator.Workspace) Expected {
	e := Expected{Users: len(ws.Users), Roles: len(ws.Roles), Teams: len(ws.Teams)}
	usersScope := map[string]bool{}
	known := map[string]bool{}
	for _, r := range ws.Roles {
		known[r.ID] = true
		if r.Scope != "Subscriptions" {
			usersScope[r.ID] = true
		}
	}
	for _, u := range ws.Users {
		for _, r := range u.Roles {
			if usersScope[r] {
				e.RoleGrants++
			}
		}
	}
	active := activeSet(ws)
	for _, t := range ws.Teams {
		for _, m := range t.Members {
			if !active[m.UserID] {
				continue
			}
			e.Memberships++
			e.TeamGrants++
			for _, role := range teamRoles {
				if slices.Contains(m.Roles, role) {
					e.TeamGrants++
				}
			}
		}
	}
	if !slices.Contains(syncedTypes(), typePermission) {
		return e
	}
	e.Permissions = len(ws.Permissions)
	// Through which workspace roles each permission is held.
	byRole := map[string][]string{}
	for perm, holders := range ws.Permissions {
		for _, r := range holders {
			if !known[r] {
				continue
			}
			e.PermissionGrants++
			if usersScope[r] {
				byRole[r] = append(byRole[r], perm)
			}
		}
	}
	for _, u := range ws.Users {
		held := map[string]bool{}
		for _, r := range u.Roles {
			for _, perm := range byRole[r] {
				held[perm] = true
			}
		}
		e.ExpandedGrants += len(held)
	}
	return e
}

// Workspace generates the workspace of size with seed, its users stored in
// username order. The simulator, like Rocket.Chat, answers user listings in
// username order, but it sorts the whole collection on every page (a stable
// sort, O(n log n) with an allocation per comparison); Rocket.Chat reads an
// index instead. Storing the users in that order already leaves the
// simulator's sort with nothing to move, so the benchmarks measure the
// connector rather than the simulator's sort. The answers are the same:
// usernames are unique.
func Workspace(seed int64, size simulator.Size) *simulator.Generated {
	gen := simulator.Generate(seed, size)
	slices.SortStableFunc(gen.Workspace.Users, func(a, b *simulator.User) int {
		return strings.Compare(a.Username, b.Username)
	})
	// The simulator also finds users by id with a linear scan; laying the
	// users and their ids out in memory in the order it scans them keeps
	// that scan from missing the cache on every user.
	var ids strings.Builder
	for _, u := range gen.Workspace.Users {
		ids.WriteString(u.ID)
	}
	allIDs, off := ids.String(), 0
	laid := make([]simulator.User, len(gen.Workspace.Users))
	for i, u := range gen.Workspace.Users {
		laid[i] = *u
		laid[i].ID = allIDs[off : off+len(u.ID)]
		off += len(u.ID)
		gen.Workspace.Users[i] = &laid[i]
	}
	return gen
}

// ProcStatus reads the kB figures of /proc/self/status: VmHWM is the peak
// resident set size, VmRSS the current one.
func ProcStatus() (int64, int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var hwm, rss int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmHWM" && key != "VmRSS") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("parsing %s: %w", key, err)
		}
		if key == "VmHWM" {
			hwm = n
		} else {
			rss = n
		}
	}
	return hwm, rss, sc.Err()
}

// ResetPeakRSS starts a new VmHWM measurement (Linux 4.0+: writing 5 to
// /proc/self/clear_refs sets the peak to the current RSS).
func ResetPeakRSS() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// integrations counts ws's webhook integrations of the kind resource type
// typ lists (a credential allowed only its own sees fewer).
func integrations(ws *simulator.Workspace, typ string) int {
	kind := client.IntegrationIncoming
	if typ == typeOutgoingWebhook {
		kind = client.IntegrationOutgoing
	}
	n := 0
	for _, it := range ws.Integrations {
		if it.Type == kind {
			n++
		}
	}
	return n
}
