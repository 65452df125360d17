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
//   - It is limited: the first deactivated users in listing order, as many
//     as one window of the limiter allows (10 by default). users.listTeams
//     has a window of its own, so these calls never wait and the sync's
//     rate-limit floor stays what teams.members makes it.
//
// Which users that is follows from the users listing alone (the budget its
// first call decides, and each user's rank among the deactivated ones), so
// the user's profile says whether its memberships are listed and the team
// grants agree with it, whichever process serves either.
const allDeactivated = -1

// userTeamsWorkers bounds concurrent users.listTeams calls when nothing
// limits them.
const userTeamsWorkers = 4

// deactivatedBudget decides how many deactivated users' teams a sync reads,
// from what the users listing's first answer said of the rate limit. A server
// that serves listings page by page gives no rank that every page agrees on
// while the listing may move, so a limited token reads none there.
func (c *Connector) deactivatedBudget(endpoint client.UsersEndpoint, whole bool) int {
	limit, limited := c.client.WindowLimit(string(endpoint))
	switch {
	case !limited:
		return allDeactivated
	case !whole:
		return 0
	}
	return limit
}

// teamsListedFor reports whether a deactivated user's team memberships are
// read, for the user of the given rank among the deactivated users.
func teamsListedFor(budget, rank int) bool {
	return budget == allDeactivated || rank < budget
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
// second reading, never a membership.
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
func (c *Connector) deactivatedMembers(ctx context.Context, store shared, teamID string) ([]deactivatedMember, error) {
	cur := c.usersListing().secondPass(ctx, store, "")
	if cur.Reading == "" {
		ctxzap.Extract(ctx).Info("no users listing is stored in this sync (a targeted sync?): this team's deactivated members are not listed",
			zap.String("team_id", teamID))
		return nil, nil
	}
	if members, ok := loadDeactivated(ctx, store, cur.Reading, teamID); ok {
		return members, nil
	}
	v, err, _ := c.deactivatedReads.Do(cur.Reading, func() (any, error) {
		byTeam, err := c.readDeactivatedMembers(ctx, store, cur)
		if err != nil {
			return nil, err
		}
		teams := make([]string, 0, len(byTeam))
		values := map[string][]byte{}
		for id, members := range byTeam {
			data, err := json.Marshal(members)
			if err != nil {
				return nil, fmt.Errorf("storing deactivated members of team %s: %w", id, err)
			}
			values[deactivatedKey(cur.Reading, id)] = data
			teams = append(teams, id)
		}
		index, err := json.Marshal(teams)
		if err != nil {
			return nil, fmt.Errorf("storing deactivated members: %w", err)
		}
		values[deactivatedKey(cur.Reading)] = index
		store.setMany(ctx, values)
		return byTeam, nil
	})
	if err != nil {
		return nil, err
	}
	byTeam, _ := v.(map[string][]deactivatedMember)
	return byTeam[teamID], nil
}

func deactivatedKey(reading string, teamID ...any) string {
	return sessionKey(append([]any{"deactivated", reading}, teamID...)...)
}

// loadDeactivated reads teamID's stored deactivated members. ok is false
// when the reading is not (or no longer wholly) in the store: no index, or
// the index names the team and its value is gone or unreadable.
func loadDeactivated(ctx context.Context, store shared, reading, teamID string) ([]deactivatedMember, bool) {
	raw, ok := store.get(ctx, deactivatedKey(reading))
	if !ok {
		return nil, false
	}
	var teams []string
	if err := json.Unmarshal(raw, &teams); err != nil {
		return nil, false
	}
	if !slices.Contains(teams, teamID) {
		return nil, true // no deactivated member in this team
	}
	raw, ok = store.get(ctx, deactivatedKey(reading, teamID))
	if !ok {
		return nil, false
	}
	var out []deactivatedMember
	if err := json.Unmarshal(raw, &out); err != nil {
		ctxzap.Extract(ctx).Warn("stored deactivated team members are unreadable; reading them again", zap.String("team_id", teamID), zap.Error(err))
		return nil, false
	}
	return out, true
}

// readDeactivatedMembers passes over the stored users reading at cur, picks
// the deactivated users the budget covers and reads their teams: the
// memberships per team.
func (c *Connector) readDeactivatedMembers(ctx context.Context, store shared, cur cursor) (map[string][]deactivatedMember, error) {
	users := c.usersListing()
	var (
		picked  []string
		skipped int
	)
	for {
		page, next, err := users.pageAt(ctx, store, &cur)
		if err != nil {
			return nil, err
		}
		rank := cur.Before
		for _, u := range page {
			if u.Active {
				continue
			}
			if teamsListedFor(cur.Budget, rank) {
				picked = append(picked, u.ID)
			} else {
				skipped++
			}
			rank++
		}
		if next == nil {
			break
		}
		cur = *next
	}

	var (
		mu     sync.Mutex
		byTeam = map[string][]deactivatedMember{}
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(userTeamsWorkers)
	for _, id := range picked {
		g.Go(func() error {
			teams, err := c.client.UserTeams(gctx, id)
			if err != nil {
				return syncError(fmt.Sprintf("listing the teams of deactivated user %s", id), err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, t := range teams {
				byTeam[t.ID] = append(byTeam[t.ID], deactivatedMember{UserID: id, Owner: t.IsOwner})
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	l := ctxzap.Extract(ctx)
	if len(picked) > 0 {
		l.Info("read the team memberships of deactivated users with users.listTeams (teams.members leaves them out)",
			zap.Int("users", len(picked)))
	}
	if skipped > 0 {
		l.Warn("team memberships of some deactivated users are not listed: teams.members leaves deactivated users out, and "+
			"reading each one's teams (users.listTeams) would take longer than the rest of the sync under Rocket.Chat's rate limiter; "+
			"their profiles say so. Give the token's user a role with api-bypass-rate-limit to list them all.",
			zap.Int("not_listed", skipped), zap.Int("listed", len(picked)))
	}
	return byTeam, nil
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
