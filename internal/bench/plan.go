// Package bench measures full syncs of the Rocket.Chat connector against the
// in-process simulator: how close a rate-limited sync gets to the floor the
// limiter allows, how it compares with a naive syncer, and how fast and how
// big an unlimited sync of a large workspace is. See docs/performance.md.
package bench

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/conductorone/baton-rocketchat/pkg/simulator"
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

// MinimalPlan is the fewest calls a complete sync of ws can make when the
// server serves whole listings (count=0, API_Allow_Infinite_Count on, the
// default): one call per listing and one teams.members call per team, role
// holders taken from the users' own role lists, plus the three validation
// calls.
func MinimalPlan(ws *simulator.Workspace) Plan {
	return Plan{
		EpInfo:        1,
		EpMe:          1,
		EpPermissions: 1,
		EpRoles:       1,
		EpUsers:       1,
		EpTeams:       1,
		EpMembers:     len(ws.Teams),
	}
}

// PagedPlan is the fewest calls when the server ignores count=0
// (API_Allow_Infinite_Count off): the first call of each listing brings the
// default 50 items, each further one 100. A listing that is empty still
// costs the one call that finds it empty.
func PagedPlan(ws *simulator.Workspace) Plan {
	active := activeSet(ws)
	members := 0
	for _, t := range ws.Teams {
		n := 0
		for _, m := range t.Members {
			if active[m.UserID] {
				n++
			}
		}
		members += pagedCalls(n)
	}
	return Plan{
		EpInfo:        1,
		EpMe:          1,
		EpPermissions: 1,
		EpRoles:       1,
		EpUsers:       pagedCalls(len(ws.Users)),
		EpTeams:       pagedCalls(len(ws.Teams)),
		EpMembers:     members,
	}
}

// pagedCalls is the calls a listing of n items takes at 50, then 100 a call.
func pagedCalls(n int) int {
	const first = 50
	if n <= first {
		return 1
	}
	return 1 + pages(n-first, PageSize)
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

// Expected is what a complete sync of a workspace must produce.
type Expected struct {
	Users, Roles, Teams    int
	RoleGrants, TeamGrants int
	Memberships            int // active team memberships
}

// Resources counts users, roles and teams.
func (e Expected) Resources() int { return e.Users + e.Roles + e.Teams }

// Grants counts role and team grants.
func (e Expected) Grants() int { return e.RoleGrants + e.TeamGrants }

// Expect computes the oracle counts straight from the simulator's data:
// one grant per holder of each workspace-scoped role, and per active team
// member one membership grant plus one per team role held.
func Expect(ws *simulator.Workspace) Expected {
	e := Expected{Users: len(ws.Users), Roles: len(ws.Roles), Teams: len(ws.Teams)}
	usersScope := map[string]bool{}
	for _, r := range ws.Roles {
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
