package connector

import (
	"context"
	"fmt"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/entitlement"
	"github.com/conductorone/baton-sdk/pkg/types/grant"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
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
	roles, err := snap.rolesList(ctx, s.c.client)
	if err != nil {
		return nil, nil, fmt.Errorf("listing roles: %w", err)
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
	desc := fmt.Sprintf("Holds the %s role across the workspace", r.GetDisplayName())
	if roleScope(r) == client.ScopeSubscriptions {
		desc = fmt.Sprintf("The %s role is held per room or team, not across the workspace; room-level holders are not synced", r.GetDisplayName())
	}
	e := entitlement.NewAssignmentEntitlement(r, roleAssigned,
		entitlement.WithGrantableTo(userResourceType),
		entitlement.WithDisplayName(fmt.Sprintf("%s role", r.GetDisplayName())),
		entitlement.WithDescription(desc),
	)
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
	offset, err := parseIndex(opts.PageToken.Token)
	if err != nil {
		return nil, nil, err
	}
	holders, err := snap.holders(ctx, r.GetId().GetResource())
	if err != nil {
		return nil, nil, fmt.Errorf("listing holders of role %s: %w", r.GetId().GetResource(), err)
	}
	page, next := pageOf(holders, offset, grantPageSize)
	out := make([]*v2.Grant, 0, len(page))
	for _, userID := range page {
		out = append(out, grant.NewGrant(r, roleAssigned, v2.ResourceId_builder{
			ResourceType: userResourceType.GetId(),
			Resource:     userID,
		}.Build()))
	}
	return out, &resource.SyncOpResults{NextPageToken: next}, nil
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
		opts = append(opts, resource.WithDescription(role.Description))
	}
	if link := base.link("admin/permissions/edit", role.ID); link != nil {
		opts = append(opts, resource.WithAnnotation(link))
	}
	r, err := resource.NewRoleResource(name, roleResourceType, role.ID, nil, opts...)
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
