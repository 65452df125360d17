package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/grant"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Deactivated users' team memberships. teams.members lists active users
// only, so a deactivated member is missing from it although the membership
// (and any team ownership) stays and comes back on reactivation.
// users.listTeams reads a user's membership rows whatever the user's status
// (docs/rocketchat-api.md §7.5), one call per user: the sync makes those
// calls where they cost no time.
//
//   - The token's user is not rate limited (api-bypass-rate-limit, or the
//     limiter is off): every deactivated user's teams are read.
//
//   - It is limited: the first deactivated users in listing order, as many
//     as one window of the limiter allows, less the one call that first
//     checks users.listTeams works (9 by default). users.listTeams
//     has a window of its own, so these calls never wait and the sync's
//     rate-limit floor stays what teams.members makes it.
//
//   - It is limited and all-deactivated-team-memberships is on: every
//     deactivated user's teams, at the limiter's pace, pacedPart users per
//     call, so that no call waits much longer than one window; the sync
//     takes about one window more per pacedPart deactivated users.
//
// Which users that is follows from the users listing alone (the budget its
// first call decides, and each user's rank among the deactivated ones), so
// the user's profile says whether its memberships are listed and the team
// grants agree with it, whichever process serves either.
const (
	allDeactivated      = -1
	allDeactivatedPaced = -2
)

// pacedPart is how many deactivated users' teams one call reads when they
// are read at the limiter's pace: one window of Rocket.Chat's default limit.
// It is fixed, so every process cuts the same parts.
const pacedPart = 10

// userTeamsWorkers bounds concurrent users.listTeams calls when nothing
// limits them.
const userTeamsWorkers = 4

// deactivatedBudget decides how many deactivated users' teams a sync reads,
// from the users listing's first answer p: what it said of the rate limit,
// and whether it holds any deactivated user. A rate-limited token reads as
// many as users.listTeams can answer in the windows the sync takes anyway:
// the plan's, known once the teams are counted (syncWindows). A server that
// serves listings page by page gives no rank that every page agrees on
// while the listing may move, so a limited token reads none there.
//
// Before promising any, it asks users.listTeams once (for the token's own
// user): a server without it, or failing on it, gets a budget of 0, so no
// profile says a deactivated user's teams are listed when they cannot be.
// Under the limiter that call is one of the windows' calls, so the budget is
// one less than they allow.
func (c *Connector) deactivatedBudget(ctx context.Context, store shared, endpoint client.UsersEndpoint, p client.Page[client.User]) int {
	limit, limited := c.client.WindowLimit(string(endpoint))
	var budget int
	switch {
	case !limited:
		budget = allDeactivated
	case c.allDeactivatedTeams:
		budget = allDeactivatedPaced
	case !p.Complete():
		return 0
	default:
		budget = c.syncWindows(ctx, store, limit)*limit - 1
	}
	if budget == 0 || (p.Complete() && !slices.ContainsFunc(p.Items, func(u client.User) bool { return !u.Active })) {
		return 0
	}
	if _, err := c.client.UserTeams(ctx, c.client.UserID()); err != nil {
		ctxzap.Extract(ctx).Warn("rocket.chat's users.listTeams failed, so deactivated users' team memberships are not listed "+
			"(teams.members leaves deactivated users out); their profiles say so", zap.Error(err))
		return 0
	}
	return budget
}

// syncWindows is how many rate-limit windows a sync of whole listings takes
// anyway: one teams.members call per team, limit calls per window (the
// users listing's: Rocket.Chat's limit is per endpoint, the same by
// default for every one; users.listByStatus and teams.listAll take one call
// each). It counts the teams
// with the teams listing's read ahead (stored for the teams listing, so it
// costs no call of its own); a sync that cannot count them takes one.
func (c *Connector) syncWindows(ctx context.Context, store shared, limit int) int {
	if !c.willSync(teamResourceType.GetId()) {
		return 1
	}
	teams := c.teamsListing()
	p, ok := loadPage[client.Team](ctx, store, aheadKey(teams.key, 0, client.All), true)
	if !ok {
		var made bool
		if err := readAheadPage(teams, store, 0, client.All, &p, &made).read(ctx); err != nil {
			ctxzap.Extract(ctx).Debug("counting teams for the plan failed; the teams listing reports it", zap.Error(err))
			return 1
		}
	}
	return max(1, ceilDiv(max(p.Total, len(p.Items)), limit))
}

// teamsListedFor reports whether a deactivated user's team memberships are
// read, for the user of the given rank among the deactivated users.
func teamsListedFor(budget, rank int) bool {
	return budget < 0 || rank < budget
}

// deactivatedMember is a deactivated user's membership of one team.
type deactivatedMember struct {
	UserID string `json:"u"`
	Owner  bool   `json:"o,omitempty"`
}

// deactivatedMembers are the memberships of teamID that belong to
// deactivated users whose teams the sync reads. The first call of a sync
// reads them all and keeps them in the session store, per team, with an
// index of the teams that have any; a value missing from the store costs a
// second reading, never a membership. Read at the limiter's pace, they take
// several calls: next is then the part the caller's next call continues
// with (its page token carries it), 0 once they are all read.
//
// They follow the users listing of the same sync, stored for the role
// grants: the users' profiles say whose teams are listed. A sync without
// one has none: a targeted sync of a team lists its active members only
// (the users' profiles from the last full sync still say whose teams that
// sync listed).
//
// Concurrent calls of one process share one reading; processes that miss
// the index at the same moment each read (at most a budget's worth of calls
// each), which only the SDK's parallel syncer would do.
func (c *Connector) deactivatedMembers(ctx context.Context, store shared, teamID string, part int) ([]deactivatedMember, int, error) {
	users, cur, meta, ok := c.storedUsers(ctx, store)
	if !ok && fullSync(ctx, store) {
		var err error
		if users, cur, meta, err = c.usersAgain(ctx, store); err != nil {
			return nil, 0, err
		}
		ok = true
	}
	if !ok {
		ctxzap.Extract(ctx).Info("no users listing is stored in this sync (a targeted sync): this team's deactivated members are not listed",
			zap.String("team_id", teamID))
		return nil, 0, nil
	}
	if byTeam, ok := c.deactivatedSeen.get(store.syncID); ok {
		return byTeam[teamID], 0, nil
	}
	if members, ok := loadDeactivated(ctx, store, cur.Reading, teamID); ok {
		return members, 0, nil
	}
	v, err, _ := c.deactivatedReads.Do(fmt.Sprintf("%s/%d", cur.Reading, part), func() (any, error) {
		if meta.Budget != allDeactivated {
			return c.readDeactivatedPart(ctx, store, users, cur, meta.Budget, part)
		}
		picked, err := c.pickDeactivated(ctx, store, users, cur, meta.Budget)
		if err != nil {
			return nil, err
		}
		byTeam, err := c.readTeamsOf(ctx, picked, c.client.UserTeams)
		if err != nil {
			return nil, err
		}
		storeDeactivated(ctx, store, cur.Reading, byTeam)
		return progress{byTeam: byTeam}, nil
	})
	if err != nil {
		return nil, 0, err
	}
	p, _ := v.(progress)
	if p.next > 0 {
		return nil, p.next, nil
	}
	c.deactivatedSeen.set(store.syncID, p.byTeam)
	return p.byTeam[teamID], 0, nil
}

// deactivatedCache keeps, in process memory, the deactivated users' team
// memberships this process last read or merged, for the sync it read them
// in: a session store that loses values would otherwise have each team's
// call merge them again. Only a cache: the store (and Rocket.Chat) has it all.
type deactivatedCache struct {
	mu     sync.Mutex
	syncID string
	byTeam map[string][]deactivatedMember
	// users holds each deactivated user's teams this process has read in
	// the sync.
	users map[string][]client.UserTeam
}

// user is a deactivated user's teams as this process read them in the sync.
func (d *deactivatedCache) user(syncID, id string) ([]client.UserTeam, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.syncID != syncID || syncID == "" {
		return nil, false
	}
	teams, ok := d.users[id]
	return teams, ok
}

func (d *deactivatedCache) setUser(syncID, id string, teams []client.UserTeam) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.syncID != syncID {
		d.syncID, d.byTeam, d.users = syncID, nil, nil
	}
	if d.users == nil {
		d.users = map[string][]client.UserTeam{}
	}
	d.users[id] = teams
}

func (d *deactivatedCache) get(syncID string) (map[string][]deactivatedMember, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.byTeam, d.byTeam != nil && d.syncID == syncID && syncID != ""
}

func (d *deactivatedCache) set(syncID string, byTeam map[string][]deactivatedMember) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.syncID != syncID {
		d.users = nil
	}
	d.syncID, d.byTeam = syncID, byTeam
}

// usersAgain reads the users listing again, in a full sync whose stored
// reading the session store has lost, and decides the deactivated users'
// budget as the listing's first call did: the same token, limiter and teams
// give the same budget, so the grants still agree with the profiles. It
// keeps the new reading, and reports it.
func (c *Connector) usersAgain(ctx context.Context, store shared) (*listing[client.User], readCursor, usersMeta, error) {
	ctxzap.Extract(ctx).Info("the users listing's stored reading is gone from the session store; reading the users again")
	for range 3 {
		var (
			endpoint client.UsersEndpoint
			first    client.Page[client.User]
		)
		l := c.usersListing(&endpoint, &first)
		l.settle = func() {
			l.meta, _ = json.Marshal(usersMeta{Endpoint: endpoint, Budget: c.deactivatedBudget(ctx, store, endpoint, first)})
		}
		if err := l.walk(ctx, store, readCursor{}, func([]client.User, bool) {}); err != nil {
			return nil, readCursor{}, usersMeta{}, err
		}
		if users, cur, meta, ok := c.storedUsers(ctx, store); ok {
			return users, cur, meta, nil
		}
	}
	// Aborted, not Unavailable: the SDK retries Unavailable without end.
	return nil, readCursor{}, usersMeta{}, status.Error(codes.Aborted,
		"the session store keeps losing the users listing's reading, which the deactivated users' team grants need; try the sync again")
}

// progress is where a reading of deactivated users' teams stands: done with
// byTeam, or to continue at part next.
type progress struct {
	byTeam map[string][]deactivatedMember
	next   int
}

// storeDeactivated keeps the memberships per team, and the index of the
// teams that have any.
func storeDeactivated(ctx context.Context, store shared, reading string, byTeam map[string][]deactivatedMember) {
	values := make(map[string][]string, 1)
	teams := make([]string, 0, len(byTeam))
	members := make(map[string][]deactivatedMember, len(byTeam))
	for id, m := range byTeam {
		members[deactivatedKey(reading, id)] = m
		teams = append(teams, id)
	}
	values[deactivatedKey(reading)] = teams
	setJSON(ctx, store, members)
	setJSON(ctx, store, values)
}

// loadDeactivated reads teamID's stored deactivated members. ok is false
// when the reading is not (or no longer wholly) in the store: no index, or
// the index names the team and its value is gone or unreadable.
func loadDeactivated(ctx context.Context, store shared, reading, teamID string) ([]deactivatedMember, bool) {
	teams, ok := getJSON[[]string](ctx, store, deactivatedKey(reading))
	if !ok {
		return nil, false
	}
	if !slices.Contains(teams, teamID) {
		return nil, true // no deactivated member in this team
	}
	return getJSON[[]deactivatedMember](ctx, store, deactivatedKey(reading, teamID))
}

// pickDeactivated passes over the stored users reading at cur and picks
// the deactivated users the budget covers, in listing order.
func (c *Connector) pickDeactivated(ctx context.Context, store shared, users *listing[client.User], cur readCursor, budget int) ([]string, error) {
	var (
		picked  []string
		skipped int
		rank    int
	)
	err := users.walk(ctx, store, cur, func(page []client.User, restart bool) {
		if restart {
			// The listing is read again from the start: so are the ranks.
			picked, skipped, rank = nil, 0, 0
		}
		for _, u := range page {
			if u.Active {
				continue
			}
			if teamsListedFor(budget, rank) {
				picked = append(picked, u.ID)
			} else {
				skipped++
			}
			rank++
		}
	})
	if err != nil {
		return nil, err
	}
	l := ctxzap.Extract(ctx)
	switch {
	case skipped > 0:
		l.Warn("team memberships of some deactivated users are not listed: teams.members leaves deactivated users out, and "+
			"reading each one's teams (users.listTeams) would take longer than the rest of the sync under Rocket.Chat's rate limiter; "+
			"their profiles say so. Give the token's user a role with api-bypass-rate-limit, or turn on all-deactivated-team-memberships, to list them all.",
			zap.Int("not_listed", skipped), zap.Int("listed", len(picked)))
	case budget == allDeactivatedPaced && len(picked) > 0:
		l.Info("reading every deactivated user's teams at the rate limiter's pace (all-deactivated-team-memberships is on): "+
			"one users.listTeams call per user, about one window of the limiter per 10 users",
			zap.Int("users", len(picked)))
	case len(picked) > 0:
		l.Info("reading the team memberships of deactivated users with users.listTeams (teams.members leaves them out)",
			zap.Int("users", len(picked)))
	}
	return picked, nil
}

// readTeamsOf reads the teams of the users ids, a few at a time (the client
// paces them).
func (c *Connector) readTeamsOf(ctx context.Context, ids []string, read func(context.Context, string) ([]client.UserTeam, error)) (map[string][]deactivatedMember, error) {
	byTeam := map[string][]deactivatedMember{}
	err := readEach(ctx, ids, userTeamsWorkers, func(ctx context.Context, id string) ([]client.UserTeam, error) {
		teams, err := read(ctx, id)
		return teams, syncError(fmt.Sprintf("listing the teams of deactivated user %s", id), err)
	}, func(id string, teams []client.UserTeam) { addTeamsOf(byTeam, id, teams) })
	return byTeam, err
}

// readEach calls read for each id, at most workers at a time, and hands
// each answer to keep, one at a time. The first failure stops the rest.
func readEach[T any](ctx context.Context, ids []string, workers int, read func(context.Context, string) (T, error), keep func(string, T)) error {
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, id := range ids {
		g.Go(func() error {
			v, err := read(gctx, id)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			keep(id, v)
			return nil
		})
	}
	return g.Wait()
}

// addTeamsOf adds user id's memberships to byTeam.
func addTeamsOf(byTeam map[string][]deactivatedMember, id string, teams []client.UserTeam) {
	for _, t := range teams {
		byTeam[t.ID] = append(byTeam[t.ID], deactivatedMember{UserID: id, Owner: t.IsOwner})
	}
}

// deactivatedAhead is the plan of reads ahead of deactivated users' teams
// read at the limiter's pace: each picked user's, one call each, in the
// order of the parts, stored per user for the part that needs them
// (readPart). It starts once the users listing is stored; under a token the
// limiter does not limit nothing is read ahead (ahead.go), and the teams are
// read at the first team's grants, all at once.
func (c *Connector) deactivatedAhead(ctx context.Context, store shared, yield func(aheadRead) bool) {
	if !c.willSync(teamResourceType.GetId()) || !c.willSync(userResourceType.GetId()) {
		return
	}
	users, cur, meta, ok := c.storedUsers(ctx, store)
	if !ok || meta.Budget == 0 || meta.Budget == allDeactivated {
		return
	}
	if _, done := getJSON[[]string](ctx, store, deactivatedKey(cur.Reading)); done {
		return
	}
	parts, err := c.deactivatedParts(ctx, store, users, cur, meta.Budget)
	if err != nil {
		return
	}
	for p, ids := range parts {
		if _, ok := loadPart(ctx, store, p, ids, false); ok {
			continue
		}
		for _, id := range ids {
			key := deactivatedUserKey(id)
			if c.reads.readBefore(store.syncID, key) {
				continue // read ahead already; if the store lost it, its part reads it
			}
			if _, ok := store.get(ctx, key); ok {
				continue
			}
			made := false
			read := aheadRead{endpoint: endpointUserTeams, read: func(ctx context.Context) error {
				_, err := c.storedUserTeams(ctx, store, id)
				if made = err == nil; made {
					c.reads.remember(store.syncID, key)
				}
				return err
			}}
			if !yield(read) || !made {
				return
			}
		}
	}
}

// storedUserTeams reads a deactivated user's teams and keeps them for the
// part that needs them: once in this process however many calls want them
// at the same moment (a part's own read, a read ahead), and not again once
// stored.
func (c *Connector) storedUserTeams(ctx context.Context, store shared, id string) ([]client.UserTeam, error) {
	key := deactivatedUserKey(id)
	read := func() (any, error) {
		if teams, ok := c.deactivatedSeen.user(store.syncID, id); ok {
			return teams, nil
		}
		if teams, ok := getJSON[[]client.UserTeam](ctx, store, key); ok {
			return teams, nil
		}
		teams, err := c.client.UserTeams(ctx, id)
		if err != nil {
			return nil, err
		}
		c.deactivatedSeen.setUser(store.syncID, id, teams)
		setJSON(ctx, store, map[string][]client.UserTeam{key: teams})
		return teams, nil
	}
	v, err, _ := c.userTeamReads.Do(key, read)
	if isWouldWait(err) && !client.IsWithoutWaiting(ctx) {
		v, err = read()
	}
	teams, _ := v.([]client.UserTeam)
	return teams, err
}

// endpointUserTeams is the endpoint that reads one user's teams.
const endpointUserTeams = "users.listTeams"

// readDeactivatedPart reads, at the limiter's pace, the first part from
// part on that is not stored yet, and stores it. When it was the last, it
// merges the parts into the stored result. The parts (pacedPart users each,
// in listing order) are cut once per sync and kept in the session store.
// A part's wait for its window, and the budget the other endpoints have
// left after it, go to the reads ahead (ahead.go).
func (c *Connector) readDeactivatedPart(ctx context.Context, store shared, users *listing[client.User], cur readCursor, budget, part int) (progress, error) {
	parts, err := c.deactivatedParts(ctx, store, users, cur, budget)
	if err != nil {
		return progress{}, err
	}
	for p := part; p < len(parts); p++ {
		if _, ok := loadPart(ctx, store, p, parts[p], false); ok {
			continue
		}
		c.reads.beforeCall(ctx, store, endpointUserTeams)
		_, err := c.readPart(ctx, store, p, parts[p])
		c.reads.afterCall(ctx, store)
		if err != nil {
			return progress{}, err
		}
		if p+1 < len(parts) {
			return progress{next: p + 1}, nil
		}
	}
	merged := map[string][]deactivatedMember{}
	for p, ids := range parts {
		byTeam, ok := loadPart(ctx, store, p, ids, true)
		if !ok {
			// Lost from the store since it was read (a failing store):
			// read it again here. Handing it to a later call could
			// never end while the store keeps failing.
			var err error
			if byTeam, err = c.readPart(ctx, store, p, ids); err != nil {
				return progress{}, err
			}
		}
		for id, members := range byTeam {
			merged[id] = append(merged[id], members...)
		}
	}
	storeDeactivated(ctx, store, cur.Reading, merged)
	return progress{byTeam: merged}, nil
}

// deactivatedParts are the picked users cut into parts of pacedPart, as
// the first call of the sync stored them (or cuts them now).
func (c *Connector) deactivatedParts(ctx context.Context, store shared, users *listing[client.User], cur readCursor, budget int) ([][]string, error) {
	if parts, ok := getJSONExpected[[][]string](ctx, store, deactivatedPartKey("users")); ok {
		return parts, nil
	}
	picked, err := c.pickDeactivated(ctx, store, users, cur, budget)
	if err != nil {
		return nil, err
	}
	var parts [][]string
	for chunk := range slices.Chunk(picked, pacedPart) {
		parts = append(parts, chunk)
	}
	setJSON(ctx, store, map[string][][]string{deactivatedPartKey("users"): parts})
	return parts, nil
}

// storedPart is one part's reading, with the users it covers: a part
// stored under another cut (the parts list was lost and re-cut from a
// changed listing) is not this part.
type storedPart struct {
	Users  []string                       `json:"u"`
	ByTeam map[string][]deactivatedMember `json:"t"`
}

// readPart reads the teams of part p's users, those read ahead from the
// store, and stores them.
func (c *Connector) readPart(ctx context.Context, store shared, p int, ids []string) (map[string][]deactivatedMember, error) {
	byTeam := map[string][]deactivatedMember{}
	var unread []string
	for _, id := range ids {
		teams, ok := getJSON[[]client.UserTeam](ctx, store, deactivatedUserKey(id))
		if !ok {
			unread = append(unread, id)
			continue
		}
		addTeamsOf(byTeam, id, teams)
	}
	read, err := c.readTeamsOf(ctx, unread, func(ctx context.Context, id string) ([]client.UserTeam, error) {
		return c.storedUserTeams(ctx, store, id)
	})
	if err != nil {
		return nil, err
	}
	for id, members := range read {
		byTeam[id] = append(byTeam[id], members...)
	}
	setJSON(ctx, store, map[string]storedPart{deactivatedPartKey("teams", p): {Users: ids, ByTeam: byTeam}})
	return byTeam, nil
}

// loadPart reads part p's stored teams; expected asks again on a miss
// (where a miss costs reads of Rocket.Chat).
func loadPart(ctx context.Context, store shared, p int, ids []string, expected bool) (map[string][]deactivatedMember, bool) {
	get := getJSON[storedPart]
	if expected {
		get = getJSONExpected[storedPart]
	}
	sp, ok := get(ctx, store, deactivatedPartKey("teams", p))
	if !ok || !slices.Equal(sp.Users, ids) {
		return nil, false
	}
	return sp.ByTeam, true
}

// deactivatedGrants are the grants of teamID's deactivated members: the
// membership and, where users.listTeams says so, ownership. Users already
// among the team's listed members are left to that listing.
func deactivatedGrants(target *v2.Resource, members []deactivatedMember, listed map[string]bool, mark *v2.GrantImmutable) []*v2.Grant {
	var out []*v2.Grant
	meta := map[string]any{"user_deactivated": true, "listed_from": "users.listTeams"}
	for _, m := range members {
		if listed[m.UserID] {
			continue
		}
		principal := v2.ResourceId_builder{ResourceType: userResourceType.GetId(), Resource: m.UserID}.Build()
		opts := []grant.GrantOption{grant.WithGrantMetadata(meta)}
		if mark != nil {
			opts = append(opts, grant.WithAnnotation(mark))
		}
		out = append(out, grant.NewGrant(target, teamMember, principal, opts...))
		if m.Owner {
			out = append(out, grant.NewGrant(target, teamOwner, principal))
		}
	}
	return out
}
