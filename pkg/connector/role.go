package connector

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types/entitlement"
	"github.com/conductorone/baton-sdk/pkg/types/grant"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// roleAssigned is the entitlement of holding a role workspace-wide.
const roleAssigned = "assigned"

// roleSyncer lists every role and who holds the workspace-scoped ones.
type roleSyncer struct{ c *Connector }

func (s *roleSyncer) ResourceType(_ context.Context) *v2.ResourceType { return roleResourceType }

// List returns every role in one page (roles.list is not paginated) and
// leaves the roles' scopes and names in the session store for the grants.
func (s *roleSyncer) List(ctx context.Context, _ *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	if err := s.c.configured(); err != nil {
		return nil, nil, err
	}
	roles, err := s.c.readRoles(ctx, s.c.shared(ctx, opts))
	if err != nil {
		return nil, nil, err
	}
	base := s.c.httpsBase()
	out := make([]*v2.Resource, 0, len(roles))
	for i := range roles {
		r, err := roleResource(&roles[i], base)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
	}
	return out, &resource.SyncOpResults{}, nil
}

// Get reads one role, for a targeted sync.
func (s *roleSyncer) Get(ctx context.Context, id *v2.ResourceId, _ *v2.ResourceId) (*v2.Resource, annotations.Annotations, error) {
	if err := s.c.configured(); err != nil {
		return nil, nil, err
	}
	role, err := s.c.role(ctx, id.GetResource())
	if err != nil {
		return nil, nil, err
	}
	r, err := roleResource(role, s.c.httpsBase())
	return r, nil, err
}

func (s *roleSyncer) Entitlements(ctx context.Context, r *v2.Resource, sync resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	s.c.spendIdleBudget(ctx, sync)
	opts := []entitlement.EntitlementOption{
		entitlement.WithDisplayName(clip(fmt.Sprintf("%s role", r.GetDisplayName()), maxDisplayName)),
		entitlement.WithDescription(clip(fmt.Sprintf("Holds the %s role across the workspace", r.GetDisplayName()), maxDescription)),
	}
	if roleScope(r) == client.ScopeSubscriptions {
		// Held per room or team, never workspace-wide: nothing to request here.
		opts[1] = entitlement.WithDescription(clip(fmt.Sprintf(
			"The %s role is held per room or team, not across the workspace; room-level holders are not synced", r.GetDisplayName()), maxDescription))
	} else {
		opts = append(opts, entitlement.WithGrantableTo(userResourceType))
	}
	e := entitlement.NewAssignmentEntitlement(r, roleAssigned, opts...)
	return []*v2.Entitlement{e}, &resource.SyncOpResults{}, nil
}

// Grants: the role type's grants come from GrantsForResourceType, in one
// pass over the users for every role (the type carries TypeScopedGrants, so
// the SDK never asks role by role).
func (s *roleSyncer) Grants(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}

// GrantsForResourceType returns the workspace-role grants of one page of
// users, from the users' own global role lists: the reading the user listing
// left in the session store, or a reading of its own when there is none.
// Room-scoped (Subscriptions) roles have no workspace-wide holders, and a
// role a user lists that roles.list does not know has no entitlement to
// grant.
func (s *roleSyncer) GrantsForResourceType(ctx context.Context, _ string, opts resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	if err := s.c.configured(); err != nil {
		return nil, nil, err
	}
	if !s.c.willSync(roleResourceType.GetId()) {
		return nil, &resource.SyncOpResults{}, nil
	}
	store := s.c.shared(ctx, opts)
	roles, err := s.c.readRoles(ctx, store)
	if err != nil {
		return nil, nil, err
	}
	dir, err := s.c.directory(ctx, store)
	if err != nil {
		return nil, nil, err
	}
	managed := dir.roleGroups(roles)
	workspaceRoles := make(map[string]*v2.Resource, len(roles))
	for i := range roles {
		if roles[i].Scope == client.ScopeUsers {
			workspaceRoles[roles[i].ID] = v2.Resource_builder{
				Id:          v2.ResourceId_builder{ResourceType: roleResourceType.GetId(), Resource: roles[i].ID}.Build(),
				DisplayName: clip(roleName(&roles[i]), maxDisplayName),
			}.Build()
		}
	}

	users, cur, endpoint := s.usersPass(ctx, store, opts.PageToken.Token)
	page, next, err := users.page(ctx, store, cur)
	if err != nil {
		return nil, nil, err
	}
	var out []*v2.Grant
	for _, u := range page {
		principal := v2.ResourceId_builder{ResourceType: userResourceType.GetId(), Resource: u.ID}.Build()
		for _, roleID := range u.Roles {
			if target, ok := workspaceRoles[roleID]; ok {
				var opts []grant.GrantOption
				if groups := managed[roleID]; len(groups) > 0 {
					opts = append(opts, grant.WithAnnotation(immutable(settingLDAPRolesMap, groups, fmt.Sprintf("role %q", target.GetDisplayName()))))
				}
				out = append(out, grant.NewGrant(target, roleAssigned, principal, opts...))
			}
		}
	}
	var nextTok *roleGrantsToken
	if next != nil {
		nextTok = &roleGrantsToken{Users: *next, Endpoint: *endpoint}
	}
	return out, &resource.SyncOpResults{NextPageToken: encodeToken(nextTok)}, nil
}

// roleGrantsToken is the role grants' page token, a pass over the users:
//
//	l  Users     where the pass over the users continues (readCursor,
//	             engine.go): the users listing's stored reading, or a
//	             reading of its own when none is stored
//	e  Endpoint  the users endpoint a reading of its own uses
type roleGrantsToken struct {
	Users    readCursor           `json:"l"`
	Endpoint client.UsersEndpoint `json:"e,omitempty"`
}

func (t roleGrantsToken) valid() bool { return t.Users.valid() }

// usersPass is the users listing the role grants pass over, the cursor it
// continues from (token's, or on the first call the start of the stored
// users reading) and its endpoint.
func (s *roleSyncer) usersPass(ctx context.Context, store shared, token string) (*listing[client.User], readCursor, *client.UsersEndpoint) {
	if token == "" {
		if l, cur, meta, ok := s.c.storedUsers(ctx, store); ok {
			return l, cur, &meta.Endpoint
		}
	}
	tok := decodeToken(ctx, token, roleGrantsToken.valid)
	endpoint := tok.Endpoint
	return s.c.usersListing(&endpoint, nil), tok.Users, &endpoint
}

// readRoles reads roles.list once per sync: from the session store when the
// role listing has been served, else from Rocket.Chat (and stores it). Scopes
// are defaulted: roles created before scopes existed are workspace roles.
func (c *Connector) readRoles(ctx context.Context, store shared) ([]client.Role, error) {
	if roles, ok := getJSON[[]client.Role](ctx, store, keyRoles); ok {
		return roles, nil
	}
	roles, err := c.client.ListRoles(ctx)
	if err != nil {
		return nil, syncError("listing roles", err)
	}
	setJSON(ctx, store, map[string][]client.Role{keyRoles: roles})
	return roles, nil
}

func roleName(role *client.Role) string {
	if role.Name == "" {
		return role.ID
	}
	return role.Name
}

func roleResource(role *client.Role, base externalBase) (*v2.Resource, error) {
	profile := map[string]any{
		"role_id":       role.ID,
		profileKeyName:  role.Name,
		"scope":         role.Scope,
		"protected":     role.Protected,
		"custom":        !role.Protected,
		"mandatory_2fa": role.Mandatory2FA,
	}
	if role.Description != "" {
		profile["description"] = role.Description
	}
	name := roleName(role)
	opts := []resource.ResourceOption{
		resource.WithResourceProfile(profile),
	}
	if role.Description != "" {
		opts = append(opts, resource.WithDescription(clip(role.Description, maxDescription)))
	}
	// Roles have no creation time in roles.list (docs/rocketchat-api.md §4.1).
	opts = append(opts, base.identity(role.ID, time.Time{}, "admin/permissions/edit", role.ID)...)
	r, err := resource.NewRoleResource(clip(name, maxDisplayName), roleResourceType, role.ID, nil, opts...)
	if err != nil {
		return nil, fmt.Errorf("building role %s: %w", role.ID, err)
	}
	return r, nil
}

// roleScope reads a role resource's scope back from its profile.
func roleScope(r *v2.Resource) string {
	if p := r.GetProfile(); p != nil {
		if v, ok := p.GetFields()["scope"]; ok {
			return v.GetStringValue()
		}
	}
	return ""
}

// Grant gives a user a workspace-wide role. Room-scoped roles cannot be held
// workspace-wide, so such a grant is refused before anything is sent.
func (s *roleSyncer) Grant(ctx context.Context, principal *v2.Resource, e *v2.Entitlement) ([]*v2.Grant, annotations.Annotations, error) {
	roleRes := e.GetResource()
	roleID := roleRes.GetId().GetResource()
	roles, err := s.c.client.ListRoles(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("reading roles: %w", err)
	}
	role, err := findRole(roles, roleID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.refuseManaged(ctx, "grant", role.ID, roles); err != nil {
		return nil, nil, err
	}
	if role.Scope == client.ScopeSubscriptions {
		return nil, nil, status.Errorf(codes.FailedPrecondition,
			"role %q is held per room or team (scope Subscriptions), not workspace-wide: grant it through the team's %s entitlement instead", role.Name, role.Name)
	}
	kind, omni := livechatKind(roleID)
	perms := []string{client.PermAccessPermissions}
	switch {
	case omni:
		perms = []string{client.PermViewLivechatManager}
	case roleID == "admin":
		perms = append(perms, client.PermAssignAdminRole)
	}
	if err := s.c.requirePermissions(ctx, fmt.Sprintf("grant role %q", role.Name), perms...); err != nil {
		return nil, nil, err
	}
	u, err := s.c.principalUser(ctx, principal.GetId())
	if err != nil {
		return nil, nil, err
	}
	if err := requireUsername(u, fmt.Sprintf("grant role %q", role.Name)); err != nil {
		return nil, nil, err
	}
	granted := []*v2.Grant{grant.NewGrant(roleRes, roleAssigned, principal.GetId())}
	if slices.Contains(u.Roles, roleID) {
		return granted, annotations.New(&v2.GrantAlreadyExists{}), nil
	}
	if omni {
		op := fmt.Sprintf("granting role %q to %s", role.Name, u.Username)
		err := s.c.sendChecked(func() error { return s.c.client.AddLivechatUser(ctx, kind, u.Username) }, s.c.holdsRole(ctx, u.ID, roleID, true))
		if err != nil {
			return nil, nil, guardError(op, err)
		}
		return granted, nil, nil
	}
	if err := s.c.client.AddUserToRole(ctx, u.Username, roleID); err != nil {
		if client.IsAlreadyInRole(err) {
			return granted, annotations.New(&v2.GrantAlreadyExists{}), nil
		}
		return nil, nil, guardError(fmt.Sprintf("granting role %q to %s", role.Name, u.Username), err)
	}
	return granted, nil, nil
}

// Revoke takes a workspace-wide role away from a user.
func (s *roleSyncer) Revoke(ctx context.Context, g *v2.Grant) (annotations.Annotations, error) {
	roleID := g.GetEntitlement().GetResource().GetId().GetResource()
	kind, omni := livechatKind(roleID)
	perm := client.PermAccessPermissions
	if omni {
		perm = client.PermViewLivechatManager
	}
	if err := s.c.requirePermissions(ctx, fmt.Sprintf("revoke role %q", roleID), perm); err != nil {
		return nil, err
	}
	if err := s.refuseManaged(ctx, "revoke", roleID, nil); err != nil {
		return nil, err
	}
	u, err := s.c.principalUser(ctx, g.GetPrincipal().GetId())
	if err != nil {
		return revokedIfGone(err)
	}
	// users.info shows roles only to callers with view-full-other-user-info;
	// when they are hidden, let the server say whether the user holds it.
	if u.Roles != nil && !slices.Contains(u.Roles, roleID) {
		return annotations.New(&v2.GrantAlreadyRevoked{}), nil
	}
	if err := requireUsername(u, fmt.Sprintf("revoke role %q", roleID)); err != nil {
		return nil, err
	}
	if omni {
		if u.Roles == nil {
			// Roles hidden: ask the omnichannel endpoint whether the user holds it.
			held, err := s.c.holdsRole(ctx, u.ID, roleID, true)()
			if err != nil {
				return nil, fmt.Errorf("reading %s's roles: %w", u.Username, err)
			}
			if !held {
				return annotations.New(&v2.GrantAlreadyRevoked{}), nil
			}
		}
		op := fmt.Sprintf("revoking role %q from %s", roleID, u.Username)
		err := s.c.sendChecked(func() error { return s.c.client.RemoveLivechatUser(ctx, kind, u.ID) }, s.c.holdsRole(ctx, u.ID, roleID, false))
		if err != nil {
			return nil, guardError(op, err)
		}
		return nil, nil
	}
	if err := s.c.client.RemoveUserFromRole(ctx, u.Username, roleID); err != nil {
		if client.IsNotInRole(err) {
			return annotations.New(&v2.GrantAlreadyRevoked{}), nil
		}
		return nil, guardError(fmt.Sprintf("revoking role %q from %s", roleID, u.Username), err)
	}
	return nil, nil
}

// role reads one role's definition from the server.
func (c *Connector) role(ctx context.Context, roleID string) (*client.Role, error) {
	roles, err := c.client.ListRoles(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading roles: %w", err)
	}
	return findRole(roles, roleID)
}

// findRole picks one role out of roles.list's answer.
func findRole(roles []client.Role, roleID string) (*client.Role, error) {
	for i := range roles {
		if roles[i].ID == roleID {
			return &roles[i], nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "role %s does not exist in Rocket.Chat (deleted since the last sync?)", roleID)
}

// refuseManaged refuses a change to a role that LDAP sync would undo: a
// revoke of a mapped role (LDAP gives it back to users in the mapped
// groups), and a grant of one when LDAP also takes mapped roles from users
// outside the groups (LDAP_Sync_User_Data_Roles_AutoRemove); without that
// setting a grant stands. roles is roles.list, read here when nil and
// needed. With SAML role sync on, it warns: the change stands only for
// users who do not sign in with SAML, which the API does not show.
func (s *roleSyncer) refuseManaged(ctx context.Context, verb, roleID string, roles []client.Role) error {
	dir, err := s.c.liveDirectory(ctx)
	if err != nil {
		return err
	}
	if dir.SAMLRoleSync {
		ctxzap.Extract(ctx).Warn(samlRoleSyncNote, zap.String("change", verb+" role "+roleID))
	}
	for _, o := range dir.OAuthRoleSync {
		if o.affects(roleID) {
			ctxzap.Extract(ctx).Warn(o.note(), zap.String("change", verb+" role "+roleID))
		}
	}
	if len(dir.Roles) == 0 || (verb == "grant" && !dir.RolesAutoRemove) {
		return nil
	}
	if roles == nil {
		if roles, err = s.c.client.ListRoles(ctx); err != nil {
			return fmt.Errorf("reading roles: %w", err)
		}
	}
	if groups := dir.roleGroups(roles)[roleID]; len(groups) > 0 {
		name := roleID
		if r, err := findRole(roles, roleID); err == nil {
			name = roleName(r)
		}
		return managedRefusal(fmt.Sprintf("%s role %q", verb, name), settingLDAPRolesMap, groups, fmt.Sprintf("role %q", name))
	}
	return nil
}

// requireUsername refuses a role change for a user without a username (a
// registration never finished): Rocket.Chat's role endpoints name users by
// username and would answer an opaque error-user-param-not-provided.
func requireUsername(u *client.User, op string) error {
	if u.Username != "" {
		return nil
	}
	return status.Errorf(codes.FailedPrecondition,
		"cannot %s for user %s: the user has no username (its registration was never finished), and Rocket.Chat's role endpoints "+
			"name users by username; set a username for the user (Administration > Users), then try again", op, u.ID)
}

// livechatKind says whether a role is one Rocket.Chat manages through its
// omnichannel user endpoints (livechat/users/agent|manager), which also set
// the agent up for routing and clean up after it, and which type it is.
func livechatKind(roleID string) (string, bool) {
	switch roleID {
	case "livechat-agent":
		return client.LivechatAgent, true
	case "livechat-manager":
		return client.LivechatManager, true
	}
	return "", false
}

// holdsRole returns a check that the user holds (want true) or no longer
// holds (want false) a role, read from users.info: it tells whether a
// change whose answer was lost took effect.
func (c *Connector) holdsRole(ctx context.Context, userID, roleID string, want bool) func() (bool, error) {
	return func() (bool, error) {
		u, err := c.client.UserInfo(ctx, userID)
		if err != nil {
			return false, err
		}
		return slices.Contains(u.Roles, roleID) == want, nil
	}
}
