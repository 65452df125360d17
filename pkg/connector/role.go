package connector

import (
	"context"
	"fmt"
	"slices"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types/entitlement"
	"github.com/conductorone/baton-sdk/pkg/types/grant"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// roleAssigned is the entitlement of holding a role workspace-wide.
const roleAssigned = "assigned"

// roleSyncer lists every role and who holds the workspace-scoped ones.
type roleSyncer struct{ c *Connector }

func (s *roleSyncer) ResourceType(_ context.Context) *v2.ResourceType { return roleResourceType }

func (s *roleSyncer) List(ctx context.Context, _ *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	snap, err := s.c.snapshotFor(ctx, opts.SyncID)
	if err != nil {
		return nil, nil, err
	}
	roles, err := snap.rolesList(s.c.client)
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

func (s *roleSyncer) Entitlements(_ context.Context, r *v2.Resource, _ resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
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

// Grants come from the users' own global role lists, read once for all roles.
// Room-scoped (Subscriptions) roles have no workspace-wide holders.
func (s *roleSyncer) Grants(ctx context.Context, r *v2.Resource, opts resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	if roleScope(r) != client.ScopeUsers {
		return nil, &resource.SyncOpResults{}, nil
	}
	snap, err := s.c.snapshotFor(ctx, opts.SyncID)
	if err != nil {
		return nil, nil, err
	}
	holders, err := snap.holders(ctx, r.GetId().GetResource())
	if err != nil {
		return nil, nil, err
	}
	page, next := pageOf(holders, snap.position(opts.PageToken.Token), grantPageSize)
	target := grantTarget(r)
	out := make([]*v2.Grant, 0, len(page))
	for _, userID := range page {
		out = append(out, grant.NewGrant(target, roleAssigned, v2.ResourceId_builder{
			ResourceType: userResourceType.GetId(),
			Resource:     userID,
		}.Build()))
	}
	return out, &resource.SyncOpResults{NextPageToken: snap.nextToken(next)}, nil
}

func roleResource(role *client.Role, base externalBase) (*v2.Resource, error) {
	scope := role.Scope
	if scope == "" {
		// Roles created before scopes existed are workspace roles.
		scope = client.ScopeUsers
	}
	profile := map[string]any{
		"role_id":       role.ID,
		"name":          role.Name,
		"scope":         scope,
		"protected":     role.Protected,
		"custom":        !role.Protected,
		"mandatory_2fa": role.Mandatory2FA,
	}
	if role.Description != "" {
		profile["description"] = role.Description
	}
	name := role.Name
	if name == "" {
		name = role.ID
	}
	opts := []resource.ResourceOption{
		resource.WithResourceProfile(profile),
		resource.WithAnnotation(&v2.RawId{Id: role.ID}),
	}
	if role.Description != "" {
		opts = append(opts, resource.WithDescription(clip(role.Description, maxDescription)))
	}
	if link := base.link("admin/permissions/edit", role.ID); link != nil {
		opts = append(opts, resource.WithAnnotation(link))
	}
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
	role, err := s.c.role(ctx, roleID)
	if err != nil {
		return nil, nil, err
	}
	if role.Scope == client.ScopeSubscriptions {
		return nil, nil, status.Errorf(codes.FailedPrecondition,
			"role %q is held per room or team (scope Subscriptions), not workspace-wide: grant it through the team's %s entitlement instead", role.Name, role.Name)
	}
	perms := []string{permAccessPermissions}
	if roleID == "admin" {
		perms = append(perms, permAssignAdmin)
	}
	if err := s.c.requirePermissions(ctx, fmt.Sprintf("grant role %q", role.Name), perms...); err != nil {
		return nil, nil, err
	}
	u, err := s.c.target(ctx, principal.GetId())
	if err != nil {
		return nil, nil, err
	}
	granted := []*v2.Grant{grant.NewGrant(roleRes, roleAssigned, principal.GetId())}
	if slices.Contains(u.Roles, roleID) {
		return granted, annotations.New(&v2.GrantAlreadyExists{}), nil
	}
	if err := s.c.client.AddUserToRole(ctx, u.Username, roleID); err != nil {
		if hasErrorType(err, "error-user-already-in-role") {
			return granted, annotations.New(&v2.GrantAlreadyExists{}), nil
		}
		return nil, nil, guardError(fmt.Sprintf("granting role %q to %s", role.Name, u.Username), err)
	}
	return granted, nil, nil
}

// Revoke takes a workspace-wide role away from a user.
func (s *roleSyncer) Revoke(ctx context.Context, g *v2.Grant) (annotations.Annotations, error) {
	roleID := g.GetEntitlement().GetResource().GetId().GetResource()
	if err := s.c.requirePermissions(ctx, fmt.Sprintf("revoke role %q", roleID), permAccessPermissions); err != nil {
		return nil, err
	}
	u, err := s.c.target(ctx, g.GetPrincipal().GetId())
	if err != nil {
		return revokedIfGone(err)
	}
	// users.info shows roles only to callers with view-full-other-user-info;
	// when they are hidden, let the server say whether the user holds it.
	if u.Roles != nil && !slices.Contains(u.Roles, roleID) {
		return annotations.New(&v2.GrantAlreadyRevoked{}), nil
	}
	if err := s.c.client.RemoveUserFromRole(ctx, u.Username, roleID); err != nil {
		if hasErrorType(err, "error-user-not-in-role") {
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
	for i := range roles {
		if roles[i].ID == roleID {
			if roles[i].Scope == "" {
				roles[i].Scope = client.ScopeUsers
			}
			return &roles[i], nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "role %s does not exist in Rocket.Chat (deleted since the last sync?)", roleID)
}
