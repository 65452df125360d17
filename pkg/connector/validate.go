package connector

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Permissions a complete sync needs. Without them Rocket.Chat does not fail:
// it answers less (no emails and roles, or empty team member lists).
const (
	permViewUsers     = "view-d-room"
	permViewFullUsers = "view-full-other-user-info"
	permViewAllTeams  = "view-all-teams"
	permBypassLimit   = "api-bypass-rate-limit" //nolint:gosec // a permission name, not a credential
)

// validation is what Validate learned about the token and the server.
type validation struct {
	me            *client.Me
	permissions   map[string]bool // permissions the token's user holds globally
	usersEndpoint client.UsersEndpoint
}

// validate checks the token and reads its permissions once per connector; a
// failure is retried on the next call, since it may have been transient. It
// does not judge the permissions: syncs and each provisioning operation need
// different ones.
func (c *Connector) validate(ctx context.Context) (*validation, error) {
	c.validateMu.Lock()
	defer c.validateMu.Unlock()
	if c.validated != nil {
		return c.validated, nil
	}
	if c.client == nil {
		return nil, status.Error(codes.FailedPrecondition, "rocket.chat connector is not configured")
	}
	v, err := c.checkToken(ctx)
	if err != nil {
		return nil, err
	}
	c.validated = v
	return v, nil
}

// forgetValidation makes the next validate ask the server again.
func (c *Connector) forgetValidation() {
	c.validateMu.Lock()
	defer c.validateMu.Unlock()
	c.validated = nil
}

func (c *Connector) checkToken(ctx context.Context) (*validation, error) {
	l := ctxzap.Extract(ctx)
	info, err := c.client.Info(ctx)
	switch {
	case status.Code(err) == codes.NotFound:
		// A proxy may expose only /api/v1. The version only picks the users
		// endpoint, and listing falls back on its own; me decides the rest.
		l.Warn("rocket.chat /api/info is not reachable (404); assuming a current server", zap.Error(err))
		info = &client.ServerInfo{}
	case err != nil:
		return nil, fmt.Errorf("checking that base-url is a Rocket.Chat server: %w", err)
	}
	me, err := c.client.Me(ctx)
	if err != nil {
		return nil, fmt.Errorf("checking the auth token: %w", err)
	}
	perms, err := c.client.ListPermissions(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the token's permissions: %w", err)
	}
	v := &validation{
		me:            me,
		permissions:   heldPermissions(me.Roles, perms),
		usersEndpoint: usersEndpointFor(info.Version),
	}

	if missing := v.missing(provisioningPermissions); len(missing) > 0 {
		l.Info("the token's user can sync but lacks permissions some provisioning needs; those operations will be refused until it has them",
			zap.Strings("missing_permissions", missing))
	}

	if !v.permissions[permBypassLimit] {
		l.Info("the token's user is subject to Rocket.Chat's API rate limiter (it lacks api-bypass-rate-limit): "+
			"syncs are paced to the limit (10 calls per endpoint per minute by default). To speed them up, raise the limit under "+
			"Administration > Settings > Rate Limiter, or give the user a role with api-bypass-rate-limit.",
			zap.String("user", me.Username))
	}
	l.Debug("rocket.chat token validated",
		zap.String("user", me.Username), zap.String("server_version", info.Version),
		zap.String("users_endpoint", string(v.usersEndpoint)))
	return v, nil
}

// requireSync fails when the token's user cannot see the whole workspace:
// Rocket.Chat would not refuse, it would silently answer less.
func (c *Connector) requireSync(v *validation) error {
	needed := []string{permViewUsers, permViewFullUsers}
	if c.willSync(teamResourceType.GetId()) {
		needed = append(needed, permViewAllTeams)
	}
	missing := v.missing(needed)
	if len(missing) == 0 {
		return nil
	}
	return status.Errorf(codes.PermissionDenied,
		"the token's user %q (%s) lacks %s, which a complete sync needs (without them Rocket.Chat silently returns partial data): "+
			"give the user the admin role, or a role that holds %s (Administration > Workspace > Permissions)",
		v.me.Username, v.me.ID, quoteAll(missing), strings.Join(missing, ", "))
}

// missing returns the needed permissions the token's user does not hold.
func (v *validation) missing(needed []string) []string {
	var out []string
	for _, p := range needed {
		if !v.permissions[p] {
			out = append(out, p)
		}
	}
	return out
}

// heldPermissions is the set of permissions granted to any of roles.
func heldPermissions(roles []string, perms []client.Permission) map[string]bool {
	held := make(map[string]bool)
	for _, p := range perms {
		for _, r := range p.Roles {
			if slices.Contains(roles, r) {
				held[p.ID] = true
				break
			}
		}
	}
	return held
}

// usersEndpointFor picks users.listByStatus (6.8+), which returns emails,
// roles and the federated flag for every user, and falls back to users.list
// on older servers. An unreadable version is taken as a current server.
func usersEndpointFor(version string) client.UsersEndpoint {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return client.UsersListByStatus
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return client.UsersListByStatus
	}
	if major < 6 || (major == 6 && minor < 8) {
		return client.UsersList
	}
	return client.UsersListByStatus
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}
