package connector

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

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
	// nonce ties page tokens to this reading: a token from another
	// process's reading (a resumed sync) restarts its listing.
	nonce  string
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
	members   map[string]*teamMembers
	queue     workQueue
}

// member is the part of a team membership the grants need.
type member struct {
	userID string
	roles  []string
}

// teamMembers is one team's member list, read once.
type teamMembers struct {
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
	// the snapshot is evicted or the connector closes.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &snapshot{
		syncID:  syncID,
		nonce:   newNonce(),
		ctx:     ctx,
		cancel:  cancel,
		plan:    plan,
		users:   newStream[client.User](),
		teams:   newStream[client.Team](),
		members: map[string]*teamMembers{},
		queue:   workQueue{wake: make(chan struct{}, 1)},
	}
	if plan.users {
		go func() {
			s.users.finish(syncError("listing users", listUsers(ctx, c, usersEndpoint, s.users.push)))
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
					s.membersOf(t.ID)
				}
				return nil
			})
			s.teams.finish(syncError("listing teams", err))
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

// syncError prepares an error that a snapshot keeps for the rest of its
// sync. The SDK retries Unavailable and DeadlineExceeded without limit and
// takes NotFound as a warning that skips the listing: a kept error must be
// neither, or the sync would loop forever or finish with data missing.
func syncError(what string, err error) error {
	if err == nil {
		return nil
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.NotFound, codes.Canceled, codes.Unknown:
		return status.Errorf(codes.Aborted, "%s: %v", what, err)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}

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

// membersOf returns a team's member list, queueing it for the fetchers the
// first time the team is named (by the team listing, or by a syncer that
// got there first).
func (s *snapshot) membersOf(teamID string) *teamMembers {
	s.membersMu.Lock()
	defer s.membersMu.Unlock()
	tm, ok := s.members[teamID]
	if !ok {
		tm = &teamMembers{done: make(chan struct{})}
		s.members[teamID] = tm
		s.queue.push(teamID)
	}
	return tm
}

func (s *snapshot) fetchMembers(ctx context.Context, c *client.Client) {
	for {
		teamID, ok := s.queue.pop(ctx)
		if !ok {
			return
		}
		tm := s.membersOf(teamID)
		var members []member
		err := c.ListTeamMembers(ctx, teamID, func(batch []client.TeamMember) error {
			for _, m := range batch {
				members = append(members, member{userID: m.User.ID, roles: m.Roles})
			}
			return nil
		})
		if hasErrorType(err, "team-does-not-exist") {
			// Deleted since it was listed: it has no members to report.
			ctxzap.Extract(ctx).Warn("team disappeared during the sync", zap.String("team_id", teamID))
			members, err = nil, nil
		}
		tm.members, tm.err = members, syncError("listing members of team "+teamID, err)
		close(tm.done)
	}
}

// teamMembers waits for one team's members.
func (s *snapshot) teamMembers(ctx context.Context, teamID string) ([]member, error) {
	if !s.plan.teams {
		return nil, status.Error(codes.FailedPrecondition, "team members were not loaded: teams are not part of this sync")
	}
	tm := s.membersOf(teamID)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.ctx.Done():
		return nil, status.Error(codes.Aborted, "the sync's workspace reading was stopped")
	case <-tm.done:
		return tm.members, tm.err
	}
}

// rolesList reads roles.list once per sync. It runs on the snapshot's
// context: a caller that gives up must not leave its cancellation behind
// for the rest of the sync.
func (s *snapshot) rolesList(c *client.Client) ([]client.Role, error) {
	s.rolesOnce.Do(func() {
		roles, err := c.ListRoles(s.ctx)
		s.roles, s.rolesErr = roles, syncError("listing roles", err)
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

// pageToken makes the token of position n in one of this snapshot's lists.
func (s *snapshot) pageToken(n int) string {
	return s.nonce + "." + strconv.Itoa(n)
}

// position reads a page token back. A token from another reading of the
// workspace (a sync resumed by a new process) starts the list over: the
// SDK stores resources and grants by id, so repeats are harmless, while
// skipping would lose data.
func (s *snapshot) position(token string) int {
	nonce, n, ok := strings.Cut(token, ".")
	if !ok || nonce != s.nonce {
		return 0
	}
	i, err := strconv.Atoi(n)
	if err != nil || i < 0 {
		return 0
	}
	return i
}

// nextToken is the token of position next, or "" for none (-1).
func (s *snapshot) nextToken(next int) string {
	if next < 0 {
		return ""
	}
	return s.pageToken(next)
}

func newNonce() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// workQueue hands team ids to the member fetchers in the order they were
// named, without a goroutine per waiting id.
type workQueue struct {
	mu    sync.Mutex
	items []string
	wake  chan struct{} // holds a signal while items may be waiting
}

func (q *workQueue) push(id string) {
	q.mu.Lock()
	q.items = append(q.items, id)
	q.mu.Unlock()
	q.signal()
}

func (q *workQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// pop waits for an id, or reports false when ctx ends.
func (q *workQueue) pop(ctx context.Context) (string, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			id := q.items[0]
			q.items = q.items[1:]
			more := len(q.items) > 0
			q.mu.Unlock()
			if more {
				q.signal() // let another fetcher take the next one
			}
			return id, true
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return "", false
		case <-q.wake:
		}
	}
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

// push appends a batch; its error result lets it serve as a listing's yield.
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

// batch waits for batch i and reports whether another batch may follow.
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
