package connector

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/entitlement"
	"github.com/conductorone/baton-sdk/pkg/types/grant"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
)

// Team entitlements. Membership is "member"; the others are team roles a
// member holds on top of it.
const (
	teamMember    = "member"
	teamOwner     = "owner"
	teamModerator = "moderator"
	teamLeader    = "leader"
)

// teamRoles are the team roles exposed as entitlements, in grant order.
var teamRoles = []string{teamOwner, teamModerator, teamLeader}

// teamSyncer lists teams, their members and the members' team roles.
type teamSyncer struct{ c *Connector }

func (s *teamSyncer) ResourceType(_ context.Context) *v2.ResourceType { return teamResourceType }

func (s *teamSyncer) List(ctx context.Context, _ *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	snap, err := s.c.snapshotFor(ctx, opts.SyncID)
	if err != nil {
		return nil, nil, err
	}
	i, err := parseIndex(opts.PageToken.Token)
	if err != nil {
		return nil, nil, err
	}
	teams, more, err := snap.teams.batch(ctx, i)
	if err != nil {
		return nil, nil, fmt.Errorf("listing teams: %w", err)
	}
	base := s.c.httpsBase()
	out := make([]*v2.Resource, 0, len(teams))
	for idx := range teams {
		r, err := teamResource(&teams[idx], base)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
	}
	next := ""
	if more {
		next = strconv.Itoa(i + 1)
	}
	return out, &resource.SyncOpResults{NextPageToken: next}, nil
}

func (s *teamSyncer) Entitlements(_ context.Context, r *v2.Resource, _ resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	name := r.GetDisplayName()
	ents := []*v2.Entitlement{
		entitlement.NewAssignmentEntitlement(r, teamMember,
			entitlement.WithGrantableTo(userResourceType),
			entitlement.WithDisplayName(fmt.Sprintf("%s team member", name)),
			entitlement.WithDescription(fmt.Sprintf("Member of the %s team", name)),
		),
	}
	for _, role := range teamRoles {
		ents = append(ents, entitlement.NewPermissionEntitlement(r, role,
			entitlement.WithGrantableTo(userResourceType),
			entitlement.WithDisplayName(fmt.Sprintf("%s team %s", name, role)),
			entitlement.WithDescription(fmt.Sprintf("Holds the %s role in the %s team", role, name)),
		))
	}
	return ents, &resource.SyncOpResults{}, nil
}

// Grants pages through the team's members; each member gets the member
// grant plus one grant per team role they hold.
func (s *teamSyncer) Grants(ctx context.Context, r *v2.Resource, opts resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	snap, err := s.c.snapshotFor(ctx, opts.SyncID)
	if err != nil {
		return nil, nil, err
	}
	offset, err := parseIndex(opts.PageToken.Token)
	if err != nil {
		return nil, nil, err
	}
	members, err := snap.teamMembers(ctx, r.GetId().GetResource())
	if err != nil {
		return nil, nil, err
	}
	page, next := pageOf(members, offset, grantPageSize)
	out := make([]*v2.Grant, 0, len(page))
	for _, m := range page {
		principal := v2.ResourceId_builder{ResourceType: userResourceType.GetId(), Resource: m.userID}.Build()
		out = append(out, grant.NewGrant(r, teamMember, principal))
		for _, role := range teamRoles {
			if slices.Contains(m.roles, role) {
				out = append(out, grant.NewGrant(r, role, principal))
			}
		}
	}
	return out, &resource.SyncOpResults{NextPageToken: next}, nil
}

func teamResource(t *client.Team, base externalBase) (*v2.Resource, error) {
	kind := "public"
	if t.Type == client.TeamPrivate {
		kind = "private"
	}
	profile := map[string]any{
		"team_id":         t.ID,
		"name":            t.Name,
		"type":            kind,
		"main_room_id":    t.RoomID,
		"rooms":           t.Rooms,
		"number_of_users": t.NumberOfUsers,
	}
	if t.CreatedBy.Username != "" {
		profile["created_by"] = t.CreatedBy.Username
	}
	name := t.Name
	if name == "" {
		name = t.ID
	}
	opts := []resource.ResourceOption{
		resource.WithResourceProfile(profile),
		resource.WithAnnotation(&v2.RawId{Id: t.ID}),
	}
	if !t.CreatedAt.IsZero() {
		opts = append(opts, resource.WithResourceCreatedAt(t.CreatedAt))
	}
	if t.RoomID != "" {
		if link := base.link("admin/rooms/edit", t.RoomID); link != nil {
			opts = append(opts, resource.WithAnnotation(link))
		}
	}
	r, err := resource.NewGroupResource(name, teamResourceType, t.ID, nil, opts...)
	if err != nil {
		return nil, fmt.Errorf("building team %s: %w", t.ID, err)
	}
	return r, nil
}
