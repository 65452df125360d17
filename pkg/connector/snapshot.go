package connector

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errTeamGone matches Rocket.Chat's answer for a team that no longer exists.
var errTeamGone = &client.APIError{ErrorType: "team-does-not-exist"}

// memberFetchers is how many teams' member lists are read at once. Under the
// rate limiter they share one budget anyway; without it, a few parallel
// readers hide network latency at scale.
const memberFetchers = 4

// snapshot is one sync's reading of the workspace. Rocket.Chat's rate limiter
// budgets each endpoint separately, so the snapshot reads users, teams and
// team members in the background, each as fast as its own budget allows,
// while the SDK stores what has arrived. The syncers only ever read from it:
// no listing is fetched twice in one sync, and role grants come from the
// users' own role lists instead of one call per role.
type snapshot struct {
	syncID string
	ctx    context.Context
	cancel context.CancelFunc
	plan   loadPlan

	users *stream[client.User]
	teams *stream[client.Team]

	rolesOnce sync.Once
	roles     []client.Role
	rolesErr  error

	indexOnce   sync.Once
	usersByRole map[string][]string

	membersMu sync.Mutex
	members   map[string]*memberLoad
	queue     chan string
}

// member is the part of a team membership the grants need.
type member struct {
	userID string
	roles  []string
}

type memberLoad struct {
	done    chan struct{}
	members []member
	err     error
}

// loadPlan says which listings a sync needs.
type loadPlan struct {
	users bool
	teams bool
}

func newSnapshot(ctx context.Context, syncID string, c *client.Client, usersEndpoint client.UsersEndpoint, plan loadPlan) *snapshot {
	// The loaders outlive the SDK call that started them; they end when
	// the snapshot is replaced or the connector closes.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &snapshot{
		syncID:  syncID,
		ctx:     ctx,
		cancel:  cancel,
		plan:    plan,
		users:   newStream[client.User](),
		teams:   newStream[client.Team](),
		members: map[string]*memberLoad{},
		queue:   make(chan string, 1024),
	}
	if plan.users {
		go func() {
			s.users.finish(listUsers(ctx, c, usersEndpoint, s.users.push))
		}()
	} else {
		s.users.finish(nil)
	}
	if plan.teams {
		go func() {
			err := c.ListTeams(ctx, func(teams []client.Team) error {
				if err := s.teams.push(teams); err != nil {
					return err
				}
				for _, t := range teams {
					s.memberLoad(t.ID, true)
				}
				return nil
			})
			s.teams.finish(err)
		}()
		for range memberFetchers {
			go s.fetchMembers(ctx, c)
		}
	} else {
		s.teams.finish(nil)
	}
	return s
}

func (s *snapshot) close() { s.cancel() }

// listUsers reads users from the preferred endpoint, falling back to
// users.list when the server predates users.listByStatus (a 404 before any
// page arrived).
func listUsers(ctx context.Context, c *client.Client, endpoint client.UsersEndpoint, yield func([]client.User) error) error {
	started := false
	err := c.ListUsers(ctx, endpoint, func(batch []client.User) error {
		started = true
		return yield(batch)
	})
	if err != nil && !started && endpoint == client.UsersListByStatus && status.Code(err) == codes.NotFound {
		ctxzap.Extract(ctx).Info("rocket.chat has no users.listByStatus (older than 6.8); listing users with users.list")
		return c.ListUsers(ctx, client.UsersList, yield)
	}
	return err
}

// memberLoad returns the load of one team's members, registering it if new.
// Registered loads are queued for the fetchers; a load requested by a syncer
// before the team listing reached it is queued too.
func (s *snapshot) memberLoad(teamID string, enqueue bool) *memberLoad {
	s.membersMu.Lock()
	load, ok := s.members[teamID]
	if !ok {
		load = &memberLoad{done: make(chan struct{})}
		s.members[teamID] = load
	}
	s.membersMu.Unlock()
	if !ok && enqueue {
		go func() {
			select {
			case s.queue <- teamID:
			case <-s.ctx.Done():
			}
		}()
	}
	return load
}

func (s *snapshot) fetchMembers(ctx context.Context, c *client.Client) {
	for {
		select {
		case <-ctx.Done():
			return
		case teamID := <-s.queue:
			load := s.memberLoad(teamID, false)
			var members []member
			err := c.ListTeamMembers(ctx, teamID, func(batch []client.TeamMember) error {
				for _, m := range batch {
					members = append(members, member{userID: m.User.ID, roles: m.Roles})
				}
				return nil
			})
			if errors.Is(err, errTeamGone) {
				// Deleted since it was listed: it has no members to report.
				ctxzap.Extract(ctx).Warn("team disappeared during the sync", zap.String("team_id", teamID))
				members, err = nil, nil
			}
			if err != nil {
				err = fmt.Errorf("listing members of team %s: %w", teamID, err)
			}
			load.members, load.err = members, err
			close(load.done)
		}
	}
}

// teamMembers waits for one team's members.
func (s *snapshot) teamMembers(ctx context.Context, teamID string) ([]member, error) {
	if !s.plan.teams {
		return nil, errors.New("team members were not loaded: teams are not part of this sync")
	}
	load := s.memberLoad(teamID, true)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-load.done:
		return load.members, load.err
	}
}

// rolesList reads roles.list once per sync.
func (s *snapshot) rolesList(ctx context.Context, c *client.Client) ([]client.Role, error) {
	s.rolesOnce.Do(func() {
		s.roles, s.rolesErr = c.ListRoles(ctx)
	})
	return s.roles, s.rolesErr
}

// holders returns the ids of the users who hold roleID globally, once the
// whole user listing has been read.
func (s *snapshot) holders(ctx context.Context, roleID string) ([]string, error) {
	batches, err := s.users.all(ctx)
	if err != nil {
		return nil, err
	}
	s.indexOnce.Do(func() {
		idx := map[string][]string{}
		for _, batch := range batches {
			for _, u := range batch {
				for _, r := range u.Roles {
					idx[r] = append(idx[r], u.ID)
				}
			}
		}
		s.usersByRole = idx
	})
	return s.usersByRole[roleID], nil
}

// stream is a listing read in the background: batches arrive in order and
// readers wait for the one they need.
type stream[T any] struct {
	mu      sync.Mutex
	batches [][]T
	done    bool
	err     error
	changed chan struct{} // closed and replaced whenever the stream grows or ends
}

func newStream[T any]() *stream[T] {
	return &stream[T]{changed: make(chan struct{})}
}

func (st *stream[T]) push(batch []T) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.batches = append(st.batches, batch)
	close(st.changed)
	st.changed = make(chan struct{})
	return nil
}

func (st *stream[T]) finish(err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.done, st.err = true, err
	close(st.changed)
	st.changed = make(chan struct{})
}

// batch waits for batch i. more reports whether another batch may follow.
// A failed listing fails every read, so no partial listing looks complete.
func (st *stream[T]) batch(ctx context.Context, i int) ([]T, bool, error) {
	for {
		st.mu.Lock()
		switch {
		case st.done && st.err != nil:
			err := st.err
			st.mu.Unlock()
			return nil, false, err
		case i < len(st.batches):
			items, more := st.batches[i], !st.done || i+1 < len(st.batches)
			st.mu.Unlock()
			return items, more, nil
		case st.done:
			st.mu.Unlock()
			return nil, false, nil
		}
		changed := st.changed
		st.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-changed:
		}
	}
}

// all waits for the whole listing.
func (st *stream[T]) all(ctx context.Context) ([][]T, error) {
	for {
		st.mu.Lock()
		if st.done {
			batches, err := st.batches, st.err
			st.mu.Unlock()
			return batches, err
		}
		changed := st.changed
		st.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-changed:
		}
	}
}

// parseIndex reads a page token that is a plain non-negative number.
func parseIndex(token string) (int, error) {
	if token == "" {
		return 0, nil
	}
	i, err := strconv.Atoi(token)
	if err != nil || i < 0 {
		return 0, fmt.Errorf("invalid page token %q", token)
	}
	return i, nil
}
