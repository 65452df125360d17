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

// permissionGranted is the entitlement of holding a permission.
const permissionGranted = "granted"

// permissionSyncer lists Rocket.Chat's permissions and which roles hold
// them. A workspace role's grant of a permission is expandable, so
// ConductorOne shows every user who holds the permission through a role;
// a room-scoped role holds it only in the rooms and teams where it is held,
// so its grant is shown without being expanded to the role's holders.
type permissionSyncer struct{ c *Connector }

func (s *permissionSyncer) ResourceType(context.Context) *v2.ResourceType {
	return permissionResourceType
}

func (s *permissionSyncer) List(ctx context.Context, _ *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	return listResources(ctx, s.c, s.c.permissionsListing(), opts, permissionResource)
}

func (s *permissionSyncer) Entitlements(ctx context.Context, r *v2.Resource, opts resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	s.c.spendIdleBudget(ctx, opts)
	e := entitlement.NewPermissionEntitlement(r, permissionGranted,
		entitlement.WithDisplayName(clip(r.GetDisplayName()+" permission", maxDisplayName)),
		entitlement.WithDescription(clip(fmt.Sprintf("Holds Rocket.Chat's %s permission through a role", r.GetDisplayName()), maxDescription)),
	)
	return []*v2.Entitlement{e}, &resource.SyncOpResults{}, nil
}

// Grants: the permission type's grants come from GrantsForResourceType.
func (s *permissionSyncer) Grants(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}

// GrantsForResourceType returns, for one page of permissions, a grant to
// each role that holds it. Roles roles.list does not know have no resource
// to be granted to and are left out.
func (s *permissionSyncer) GrantsForResourceType(ctx context.Context, _ string, opts resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	if err := s.c.configured(); err != nil {
		return nil, nil, err
	}
	store := s.c.shared(ctx, opts)
	roles, err := s.c.readRoles(ctx, store)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[string]*client.Role, len(roles))
	for i := range roles {
		byID[roles[i].ID] = &roles[i]
	}
	perms := s.c.permissionsListing()
	cur := decodeToken(ctx, opts.PageToken.Token, readCursor.valid)
	if opts.PageToken.Token == "" {
		// A second pass over the listing's reading, when one is stored.
		cur, _, _ = perms.stored(ctx, store)
	}
	page, next, err := perms.page(ctx, store, cur)
	if err != nil {
		return nil, nil, err
	}
	var out []*v2.Grant
	for _, p := range page {
		target := v2.Resource_builder{
			Id:          v2.ResourceId_builder{ResourceType: permissionResourceType.GetId(), Resource: p.ID}.Build(),
			DisplayName: clip(p.ID, maxDisplayName),
		}.Build()
		for _, roleID := range p.Roles {
			role, ok := byID[roleID]
			if !ok {
				continue
			}
			principal := v2.ResourceId_builder{ResourceType: roleResourceType.GetId(), Resource: role.ID}.Build()
			var opts []grant.GrantOption
			if role.Scope == client.ScopeUsers {
				opts = append(opts, grant.WithAnnotation(&v2.GrantExpandable{
					EntitlementIds: []string{entitlement.NewEntitlementID(
						v2.Resource_builder{Id: principal}.Build(), roleAssigned)},
				}))
			}
			out = append(out, grant.NewGrant(target, permissionGranted, principal, opts...))
		}
	}
	return out, &resource.SyncOpResults{NextPageToken: encodeToken(next)}, nil
}

// permissionsListing reads permissions.listAll, which is not paginated: the
// whole answer is the listing, handed to the SDK in pages like the others.
func (c *Connector) permissionsListing() *listing[client.Permission] {
	return &listing[client.Permission]{
		key:      "permissions",
		what:     "permissions",
		endpoint: "permissions.listAll",
		keep:     true,
		id:       func(p client.Permission) string { return p.ID },
		fetch: func(ctx context.Context, offset, _ int) (client.Page[client.Permission], error) {
			perms, err := c.client.ListPermissions(ctx)
			if err != nil {
				return client.Page[client.Permission]{}, syncError("listing permissions", err)
			}
			total := len(perms)
			return client.Page[client.Permission]{Items: perms[min(offset, total):], Offset: offset, Total: total}, nil
		},
	}
}

func permissionResource(p *client.Permission) (*v2.Resource, error) {
	profile := map[string]any{"permission_id": p.ID}
	for k, v := range map[string]string{"level": p.Level, "setting_id": p.SettingID, "settings_group": p.Group, "settings_section": p.Section} {
		if v != "" {
			profile[k] = v
		}
	}
	description := "A Rocket.Chat permission"
	if p.SettingID != "" {
		description = fmt.Sprintf("Permission to change the setting %s (%s)", p.SettingID, p.Group)
	}
	opts := []resource.ResourceOption{
		resource.WithResourceProfile(profile),
		resource.WithDescription(clip(description, maxDescription)),
		resource.WithAnnotation(&v2.RawId{Id: p.ID}),
	}
	r, err := resource.NewResource(clip(p.ID, maxDisplayName), permissionResourceType, p.ID, opts...)
	if err != nil {
		return nil, fmt.Errorf("building permission %s: %w", p.ID, err)
	}
	return r, nil
}
