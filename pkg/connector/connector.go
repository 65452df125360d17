// Package connector is the Baton connector for Rocket.Chat: it turns a
// workspace's users, roles and teams into Baton resources, entitlements and
// grants.
package connector

import (
	"context"
	"sync"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	cfg "github.com/conductorone/baton-rocketchat/pkg/config"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/cli"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
)

// Version is stamped into the User-Agent; main sets it from the build.
var Version = "dev"

// Connector is the Rocket.Chat connector builder.
type Connector struct {
	client *client.Client
	opts   *cli.ConnectorOpts

	validateMu sync.Mutex
	validated  *validation

	snapMu sync.Mutex
	snap   *snapshot
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
	return NewWithClient(cl, opts), nil, nil
}

// NewWithClient builds the connector around an existing client; opts may be
// nil (sync everything).
func NewWithClient(cl *client.Client, opts *cli.ConnectorOpts) *Connector {
	return &Connector{client: cl, opts: opts}
}

// ResourceSyncers returns one syncer per resource type. It must work on a
// zero Connector: the capabilities command builds one without credentials.
func (c *Connector) ResourceSyncers(_ context.Context) []connectorbuilder.ResourceSyncerV2 {
	return []connectorbuilder.ResourceSyncerV2{
		&userSyncer{c: c},
		&roleSyncer{c: c},
		&teamSyncer{c: c},
	}
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
// refused here, before any work.
func (c *Connector) Validate(ctx context.Context) (annotations.Annotations, error) {
	v, err := c.validate(ctx)
	if err != nil {
		return nil, err
	}
	return nil, c.requireSync(v)
}

// Close stops background loading.
func (c *Connector) Close() error {
	c.snapMu.Lock()
	defer c.snapMu.Unlock()
	if c.snap != nil {
		c.snap.close()
		c.snap = nil
	}
	return nil
}

// willSync reports whether a resource type is part of this run.
func (c *Connector) willSync(resourceTypeID string) bool {
	return c.opts == nil || c.opts.WillSyncResourceType(resourceTypeID)
}

// snapshotFor returns the snapshot of the sync with syncID, starting one if
// this is a new sync. A long-running connector (daemon mode) serves many
// syncs; each reads the workspace afresh.
func (c *Connector) snapshotFor(ctx context.Context, syncID string) (*snapshot, error) {
	v, err := c.validate(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.requireSync(v); err != nil {
		return nil, err
	}
	c.snapMu.Lock()
	defer c.snapMu.Unlock()
	if c.snap != nil && c.snap.syncID == syncID {
		return c.snap, nil
	}
	if c.snap != nil {
		c.snap.close()
	}
	plan := loadPlan{
		users: c.willSync(userResourceType.GetId()) || c.willSync(roleResourceType.GetId()),
		teams: c.willSync(teamResourceType.GetId()),
	}
	c.snap = newSnapshot(ctx, syncID, c.client, v.usersEndpoint, plan)
	return c.snap, nil
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
