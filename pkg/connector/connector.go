// Package connector is the Baton connector for Rocket.Chat. It turns a
// workspace's users, roles, teams, permissions and non-human identities
// (webhooks, OAuth apps) into Baton resources, entitlements and grants, one
// page per call with self-contained page tokens (listing.go, session.go), and
// provisions roles, team access, accounts and account actions (guards.go
// holds the checks every change passes). What Rocket.Chat said, and what it
// means for the SDK, comes from pkg/client; this package never reads the
// wire itself.
package connector

import (
	"context"
	"hash/fnv"
	"net"
	"sync"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	cfg "github.com/conductorone/baton-rocketchat/pkg/config"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/cli"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"golang.org/x/sync/singleflight"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Version is stamped into the User-Agent; main sets it from the build.
var Version = "dev"

// Connector is the Rocket.Chat connector builder.
type Connector struct {
	client *client.Client
	opts   *cli.ConnectorOpts

	validateMu sync.Mutex
	validated  *validation

	// local stands in for the session store when the SDK gives none;
	// storeCheck finds that out once (sessionStoreMissing).
	local          localStore
	storeCheck     sync.Once
	noSessionStore bool

	// reads makes the reads ahead of later calls while endpoints have
	// budget left in their rate-limit windows (ahead.go).
	reads *readsAhead

	// deactivatedReads makes concurrent team grant calls of one process
	// share one reading of deactivated users' teams (deactivated.go).
	deactivatedReads singleflight.Group
	// deactivatedSeen caches the last merged deactivated memberships.
	deactivatedSeen deactivatedCache
	// userTeamReads makes concurrent reads of one deactivated user's teams
	// one call (deactivated.go).
	userTeamReads singleflight.Group
	// allDeactivatedTeams reads every deactivated user's teams even when
	// that costs time under the rate limiter (deactivated.go).
	allDeactivatedTeams bool
	// allRoomMemberships reads every user's rooms even when the rate
	// limiter makes that longer than the rest of the sync (room.go).
	allRoomMemberships bool

	// roomSubscriptionReads makes concurrent room grant calls of one
	// process share one reading of every user's rooms; roomSubscriptionsSeen
	// keeps the last one (room_subscriptions.go).
	roomSubscriptionReads singleflight.Group
	roomSubscriptionsSeen roomSubscriptionsCache

	// directoryReads makes concurrent grant calls of one process (the
	// SDK's parallel workers) share one reading of the directory settings
	// (directory.go).
	directoryReads singleflight.Group

	// noPendingFilter says once that the server cannot tell users pending
	// approval from deactivated ones (user.go).
	noPendingFilter sync.Once

	membershipLocks [membershipLockStripes]sync.Mutex
}

// membershipLockStripes bounds the locks: memberships share a lock by hash,
// so memory stays constant however many memberships a daemon changes.
const membershipLockStripes = 64

// lockMembership serialises this process's changes to one team membership
// (teams.updateMember replaces a member's roles, so a read-modify-write must
// not interleave with another).
func (c *Connector) lockMembership(teamID, userID string) func() {
	h := fnv.New32a()
	_, _ = h.Write([]byte(teamID + "/" + userID))
	mu := &c.membershipLocks[h.Sum32()%membershipLockStripes]
	mu.Lock()
	return mu.Unlock
}

// New builds the connector from its configuration.
func New(ctx context.Context, c *cfg.Rocketchat, opts *cli.ConnectorOpts) (connectorbuilder.ConnectorBuilderV2, []connectorbuilder.Opt, error) {
	cl, err := client.New(ctx, client.Config{
		BaseURL:   c.BaseURL,
		UserID:    c.UserID,
		Token:     c.AuthToken,
		UserAgent: "baton-rocketchat/" + Version,
	})
	if err != nil {
		return nil, nil, invalidConfig(err)
	}
	if u := cl.BaseURL(); u.Scheme == "http" && !isLoopback(u.Hostname()) {
		ctxzap.Extract(ctx).Warn("base-url uses http://: the auth token crosses the network unencrypted; use https://")
	}
	var options []Option
	if c.AllDeactivatedTeamMemberships {
		options = append(options, WithAllDeactivatedTeamMemberships())
	}
	if c.AllRoomMemberships {
		options = append(options, WithAllRoomMemberships())
	}
	return NewWithClient(cl, opts, options...), nil, nil
}

// Option adjusts a connector built by NewWithClient.
type Option func(*Connector)

// WithAllDeactivatedTeamMemberships reads every deactivated user's teams,
// at the rate limiter's pace if need be (the all-deactivated-team-memberships
// setting; deactivated.go).
func WithAllDeactivatedTeamMemberships() Option {
	return func(c *Connector) { c.allDeactivatedTeams = true }
}

// WithAllRoomMemberships reads every user's rooms, at the rate limiter's
// pace if need be, when rooms are synced and the token's user holds
// view-other-user-channels (the all-room-memberships setting; room.go).
func WithAllRoomMemberships() Option {
	return func(c *Connector) { c.allRoomMemberships = true }
}

// NewWithClient builds the connector around an existing client; opts may be
// nil (sync everything).
func NewWithClient(cl *client.Client, opts *cli.ConnectorOpts, options ...Option) *Connector {
	c := &Connector{client: cl, opts: opts}
	for _, o := range options {
		o(c)
	}
	endpoints := []string{endpointTeams, endpointTeamMembers, endpointUserTeams}
	if c.roomsSelected() {
		// Only a sync that reads rooms waits on their routes.
		endpoints = append(endpoints, roomEndpoints()...)
	}
	c.reads = &readsAhead{
		client:    cl,
		plans:     []aheadPlan{c.teamsAhead, c.deactivatedAhead, c.roomsAhead},
		endpoints: endpoints,
	}
	return c
}

// ResourceSyncers returns one syncer per resource type. It must work on a
// zero Connector: the capabilities command builds one without credentials,
// and gets every type. A configured connector offers the non-human identity
// types (webhooks, OAuth apps) only when the token's user can list them: the
// SDK asks for the syncers once, when the connector starts, and syncs every
// type it is offered, so a type it cannot list is left out rather than
// offered empty (nonHumanSyncers).
func (c *Connector) ResourceSyncers(ctx context.Context) []connectorbuilder.ResourceSyncerV2 {
	syncers := append([]connectorbuilder.ResourceSyncerV2{
		&userSyncer{c: c},
		&roleSyncer{c: c},
		&teamSyncer{c: c},
		&permissionSyncer{c: c},
	}, c.nonHumanSyncers(ctx)...)
	if c.roomsSelected() {
		syncers = append(syncers, &roomSyncer{c: c})
	}
	return syncers
}

// roomsSelected reports whether the room type is offered: to the
// capabilities command (no client), and to a run that named it in its
// resource type selection. The SDK syncs every type it is offered, so an
// opt-in type is left out unless asked for.
func (c *Connector) roomsSelected() bool {
	return c.client == nil || c.opts != nil && c.opts.SyncFilterIsExplicit() && c.opts.WillSyncResourceType(roomResourceType.GetId())
}

// Metadata describes the connector to ConductorOne.
func (c *Connector) Metadata(_ context.Context) (*v2.ConnectorMetadata, error) {
	return v2.ConnectorMetadata_builder{
		DisplayName:           "Rocket.Chat",
		Description:           "Governs a Rocket.Chat workspace: users, workspace roles and teams, with role assignments, team membership and team roles.",
		AccountCreationSchema: accountCreationSchema(),
	}.Build(), nil
}

// Validate checks that the token works and can see the whole workspace.
// Every run syncs sooner or later, so a token that cannot see everything is
// refused here, before any work. The SDK validates at the start of every sync: the check runs afresh, so a
// long-running connector notices permissions fixed (or a token revoked).
func (c *Connector) Validate(ctx context.Context) (annotations.Annotations, error) {
	c.forgetValidation()
	v, err := c.validate(ctx)
	if err != nil {
		return nil, err
	}
	return nil, c.requireSync(v)
}

// willSync reports whether a resource type is part of this run.
func (c *Connector) willSync(resourceTypeID string) bool {
	return c.opts == nil || c.opts.WillSyncResourceType(resourceTypeID)
}

// configured refuses sync calls on a connector built without credentials
// (the capabilities command builds one).
func (c *Connector) configured() error {
	if c.client == nil {
		return status.Error(codes.FailedPrecondition, "rocket.chat connector is not configured")
	}
	return nil
}

// httpsBase returns the workspace address for external links, which
// ConductorOne accepts only over https.
func (c *Connector) httpsBase() externalBase {
	if c.client == nil {
		return externalBase{}
	}
	u := c.client.BaseURL()
	if u.Scheme != "https" {
		return externalBase{}
	}
	return externalBase{url: u}
}

// invalidConfig marks a configuration error so the process exits with a
// code that says so, before any sync work.
func invalidConfig(err error) error {
	return status.Error(codes.InvalidArgument, err.Error())
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
