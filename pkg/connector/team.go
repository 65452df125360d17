package connector

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

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

// List returns one page of teams; its token says where the next begins.
func (s *teamSyncer) List(ctx context.Context, _ *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	base := s.c.httpsBase()
	return listResources(ctx, s.c, s.c.teamsListing(), opts, func(t *client.Team) (*v2.Resource, error) {
		return teamResource(t, base)
	})
}

// Get reads one team, for a targeted sync (ConductorOne refreshes a team
// after provisioning it). teams.info does not count rooms and members, so
// the profile leaves those out until the next full sync.
func (s *teamSyncer) Get(ctx context.Context, id *v2.ResourceId, _ *v2.ResourceId) (*v2.Resource, annotations.Annotations, error) {
	if err := s.c.configured(); err != nil {
		return nil, nil, err
	}
	t, err := s.c.client.TeamInfo(ctx, id.GetResource())
	if err != nil {
		if client.IsTeamNotFound(err) {
			return nil, nil, status.Errorf(codes.NotFound, "team %s does not exist in Rocket.Chat", id.GetResource())
		}
		return nil, nil, fmt.Errorf("reading team %s: %w", id.GetResource(), err)
	}
	r, err := teamResource(t, s.c.httpsBase())
	return r, nil, err
}

func (s *teamSyncer) Entitlements(ctx context.Context, r *v2.Resource, opts resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	s.c.spendIdleBudget(ctx, opts)
	name := r.GetDisplayName()
	return memberAndRoleEntitlements(r, "team", fmt.Sprintf("Member of the %s team", name), teamRoles), &resource.SyncOpResults{}, nil
}

// memberAndRoleEntitlements are a team's or a room's entitlements (kind
// says which): membership, and one per role a member holds on top.
func memberAndRoleEntitlements(r *v2.Resource, kind, memberDescription string, roles []string) []*v2.Entitlement {
	name := r.GetDisplayName()
	ents := []*v2.Entitlement{
		entitlement.NewAssignmentEntitlement(r, teamMember,
			entitlement.WithGrantableTo(userResourceType),
			entitlement.WithDisplayName(clip(fmt.Sprintf("%s %s member", name, kind), maxDisplayName)),
			entitlement.WithDescription(clip(memberDescription, maxDescription)),
		),
	}
	for _, role := range roles {
		ents = append(ents, entitlement.NewPermissionEntitlement(r, role,
			entitlement.WithGrantableTo(userResourceType),
			entitlement.WithDisplayName(clip(fmt.Sprintf("%s %s %s", name, kind, role), maxDisplayName)),
			entitlement.WithDescription(clip(fmt.Sprintf("Holds the %s role in the %s %s", role, name, kind), maxDescription)),
		))
	}
	return ents
}

// teamGrantsToken is a team's grants page token:
//
//	q  Part     the next part of the deactivated users whose teams are read
//	            at the limiter's pace before the team's members
//	            (deactivated.go); 0 when none is left
//	d  DeactivatedAfter  the user id of the last deactivated member
//	            earlier pages granted, while more than a page of them is
//	            left (they come in user id order, so a reading read again
//	            in between skips none that both readings hold)
//	m  Members  where the team's member listing continues (readCursor,
//	            engine.go); absent until its first page is served
type teamGrantsToken struct {
	Part             int         `json:"q,omitempty"`
	DeactivatedAfter string      `json:"d,omitempty"`
	Members          *readCursor `json:"m,omitempty"`
}

func (t teamGrantsToken) valid() bool { return t.Part >= 0 && (t.Members == nil || t.Members.valid()) }

// Grants returns one page of the team's members: each member gets the
// member grant plus one grant per team role they hold. The team's first
// pages also carry its deactivated members, whom teams.members leaves out
// (deactivated.go), at most a page of them per call (a company-wide team
// can hold tens of thousands, and a gRPC answer stops at 4 MB); while they
// are read at the limiter's pace, the calls before carry no grants and a
// token naming the next part.
func (s *teamSyncer) Grants(ctx context.Context, r *v2.Resource, opts resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	if err := s.c.configured(); err != nil {
		return nil, nil, err
	}
	store := s.c.shared(ctx, opts)
	dir, err := s.c.directory(ctx, store)
	if err != nil {
		return nil, nil, err
	}
	tok := decodeToken(ctx, opts.PageToken.Token, teamGrantsToken.valid)
	teamID := r.GetId().GetResource()
	var gone []deactivatedMember
	if tok.Members == nil && s.c.willSync(userResourceType.GetId()) {
		var part int
		gone, part, err = s.c.deactivatedMembers(ctx, store, teamID, tok.Part)
		if err != nil {
			return nil, nil, err
		}
		if part > 0 {
			// Read again at the limiter's pace (the store lost the
			// reading): the pages already granted stay granted.
			next := &teamGrantsToken{Part: part, DeactivatedAfter: tok.DeactivatedAfter}
			return nil, &resource.SyncOpResults{NextPageToken: encodeToken(next)}, nil
		}
		// In user id order, whichever reading (and process) they come from.
		gone = slices.SortedFunc(slices.Values(gone), func(a, b deactivatedMember) int { return cmp.Compare(a.UserID, b.UserID) })
		var more bool
		gone, more = pageAfter(gone, func(m deactivatedMember) string { return m.UserID }, tok.DeactivatedAfter)
		if more {
			out := deactivatedGrants(grantedResource(r), gone, nil, ldapTeamMark(dir, r))
			next := &teamGrantsToken{DeactivatedAfter: gone[len(gone)-1].UserID}
			return out, &resource.SyncOpResults{NextPageToken: encodeToken(next)}, nil
		}
	}
	var cur readCursor
	if tok.Members != nil {
		cur = *tok.Members
	}
	members, next, err := s.c.membersListing(teamID).page(ctx, store, cur)
	if err != nil {
		return nil, nil, err
	}
	target := grantedResource(r)
	mark := ldapTeamMark(dir, r)
	out := make([]*v2.Grant, 0, len(members))
	listed := make(map[string]bool, len(members))
	for _, m := range members {
		listed[m.User.ID] = true
		principal := v2.ResourceId_builder{ResourceType: userResourceType.GetId(), Resource: m.User.ID}.Build()
		grantOpts := []grant.GrantOption{grant.WithGrantMetadata(provenance(&m))}
		if mark != nil {
			grantOpts = append(grantOpts, grant.WithAnnotation(mark))
		}
		out = append(out, grant.NewGrant(target, teamMember, principal, grantOpts...))
		for _, role := range teamRoles {
			if slices.Contains(m.Roles, role) {
				out = append(out, grant.NewGrant(target, role, principal))
			}
		}
	}
	out = append(out, deactivatedGrants(target, gone, listed, mark)...)
	var nextTok *teamGrantsToken
	if next != nil {
		nextTok = &teamGrantsToken{Members: next}
	}
	return out, &resource.SyncOpResults{NextPageToken: encodeToken(nextTok)}, nil
}

// ldapTeamMark marks the memberships of team r that LDAP manages; nil when
// it manages none.
func ldapTeamMark(dir *directoryMapping, r *v2.Resource) *v2.GrantImmutable {
	name := teamName(r)
	if groups := dir.teamGroups(name); len(groups) > 0 {
		return immutable(settingLDAPTeamsMap, groups, fmt.Sprintf("team %q", name))
	}
	return nil
}

// Endpoints the team listings call.
const (
	endpointTeams       = "teams.listAll"
	endpointTeamMembers = "teams.members"
)

// teamsListing reads every team, public and private (view-all-teams). It
// is read ahead: the first calls of a sync read it while other endpoints
// wait, and count the teams for the plan (deactivated.go).
func (c *Connector) teamsListing() *listing[client.Team] {
	return &listing[client.Team]{
		key:      "teams",
		what:     "teams",
		endpoint: endpointTeams,
		ahead:    true,
		reads:    c.reads,
		id:       func(t client.Team) string { return t.ID },
		fetch: func(ctx context.Context, offset, count int) (client.Page[client.Team], error) {
			p, err := c.client.TeamsPage(ctx, offset, count)
			return p, syncError("listing teams", err)
		},
	}
}

// membersListing reads one team's members, read ahead in the teams
// listing's order. A team deleted since it was listed has none.
func (c *Connector) membersListing(teamID string) *listing[client.TeamMember] {
	return &listing[client.TeamMember]{
		key:      joinKey("members", teamID),
		what:     "members of team " + teamID,
		endpoint: endpointTeamMembers,
		ahead:    true,
		reads:    c.reads,
		id:       func(m client.TeamMember) string { return m.User.ID },
		fetch: func(ctx context.Context, offset, count int) (client.Page[client.TeamMember], error) {
			p, err := c.client.TeamMembersPage(ctx, teamID, offset, count)
			if client.IsTeamNotFound(err) {
				ctxzap.Extract(ctx).Warn("team disappeared during the sync", zap.String("team_id", teamID))
				return client.Page[client.TeamMember]{Offset: offset, Total: 0}, nil
			}
			return p, syncError("listing members of team "+teamID, err)
		},
	}
}

// teamsAheadProgress is how far the reads ahead of team members have got:
// the teams before Team (in the teams listing's order) are read or were
// read by their own calls.
type teamsAheadProgress struct {
	Team int `json:"t"`
}

// teamsAhead is the team syncer's plan of reads ahead: the teams listing,
// then each team's members in the listing's order, which is the order the
// SDK asks for the teams' grants.
func (c *Connector) teamsAhead(ctx context.Context, store shared, yield func(aheadRead) bool) {
	if !c.willSync(teamResourceType.GetId()) {
		return
	}
	teams, state := aheadPages(ctx, store, c.teamsListing(), yield)
	if state != aheadComplete {
		return
	}
	progress, _ := getJSON[teamsAheadProgress](ctx, store, keyAheadProgress)
	from := progress.Team
	defer func() {
		if progress.Team > from {
			setJSON(ctx, store, map[string]teamsAheadProgress{keyAheadProgress: progress})
		}
	}()
	for ; progress.Team < len(teams); progress.Team++ {
		if _, state := aheadPages(ctx, store, c.membersListing(teams[progress.Team].ID), yield); state == aheadStopped {
			return
		}
	}
}

// teamName is the team's name as its profile holds it (the display name
// may be clipped).
func teamName(r *v2.Resource) string {
	if p := r.GetProfile(); p != nil {
		if v, ok := p.GetFields()[profileKeyName]; ok && v.GetStringValue() != "" {
			return v.GetStringValue()
		}
	}
	return r.GetDisplayName()
}

// refuseManaged refuses a change to the membership of a team LDAP sync
// manages (LDAP_Groups_To_Rocket_Chat_Teams maps groups to team names). Only
// membership is managed: LDAP sync adds and removes members, never their
// team roles.
func (s *teamSyncer) refuseManaged(ctx context.Context, verb, teamID string) error {
	dir, err := s.c.liveDirectory(ctx)
	if err != nil {
		return err
	}
	if len(dir.Teams) == 0 {
		return nil
	}
	t, err := s.c.client.TeamInfo(ctx, teamID)
	if err != nil {
		if client.IsTeamNotFound(err) {
			return nil // the change itself answers for a missing team
		}
		return fmt.Errorf("reading team %s: %w", teamID, err)
	}
	if groups := dir.teamGroups(t.Name); len(groups) > 0 {
		return managedRefusal(fmt.Sprintf("%s membership of team %q", verb, t.Name), settingLDAPTeamsMap, groups, fmt.Sprintf("team %q", t.Name))
	}
	return nil
}

// provenance is what teams.members says of how a member came in: who added
// them, and when, for access reviews ("added by whom, when").
func provenance(m *client.TeamMember) map[string]any {
	meta := map[string]any{}
	setText(meta, "added_by_id", m.CreatedBy.ID)
	setText(meta, "added_by", m.CreatedBy.Username)
	setTime(meta, "added_at", m.CreatedAt)
	return meta
}

func teamResource(t *client.Team, base externalBase) (*v2.Resource, error) {
	kind := "public"
	if t.Type == client.TeamPrivate {
		kind = "private"
	}
	profile := map[string]any{
		"team_id":      t.ID,
		profileKeyName: t.Name,
		profileKeyType: kind,
		"main_room_id": t.RoomID,
	}
	if t.Rooms != nil {
		profile["rooms"] = *t.Rooms
	}
	if t.NumberOfUsers != nil {
		profile["number_of_users"] = *t.NumberOfUsers
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
	}
	// A team's admin page is its main room's.
	opts = append(opts, base.identity(t.ID, t.CreatedAt, "admin/rooms/edit", t.RoomID)...)
	r, err := resource.NewGroupResource(clip(name, maxDisplayName), teamResourceType, t.ID, nil, opts...)
	if err != nil {
		return nil, fmt.Errorf("building team %s: %w", t.ID, err)
	}
	return r, nil
}

// Grant adds a user to a team, or gives a member a team role. A team role
// granted to a non-member makes them a member holding that role. Both go
// through teams.addMembers, which adds to a member's roles, and are read
// back after (confirmGrant).
func (s *teamSyncer) Grant(ctx context.Context, principal *v2.Resource, e *v2.Entitlement) ([]*v2.Grant, annotations.Annotations, error) {
	teamRes := e.GetResource()
	teamID := teamRes.GetId().GetResource()
	slug, err := teamEntitlementSlug(e.GetId(), teamID)
	if err != nil {
		return nil, nil, err
	}
	if slug == teamMember {
		if err := s.refuseManaged(ctx, "grant", teamID); err != nil {
			return nil, nil, err
		}
	}
	u, err := s.c.principalUser(ctx, principal.GetId())
	if err != nil {
		return nil, nil, err
	}
	if !u.Active {
		return nil, nil, status.Errorf(codes.FailedPrecondition,
			"user %s is deactivated: Rocket.Chat's team APIs do not manage deactivated users; reactivate the user first", u.Username)
	}
	op := fmt.Sprintf("granting %s of team %s to %s", slug, teamRes.GetDisplayName(), u.Username)
	granted := []*v2.Grant{grant.NewGrant(teamRes, slug, principal.GetId())}

	m, err := s.c.client.FindTeamMember(ctx, teamID, u.ID, u.Username)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: reading the team's members: %w", op, err)
	}
	if m != nil && (slug == teamMember || slices.Contains(m.Roles, slug)) {
		return granted, annotations.New(&v2.GrantAlreadyExists{}), nil
	}
	var roles []string
	if slug != teamMember {
		roles = []string{slug}
	}
	// teams.addMembers adds roles to an existing member's (teams.updateMember
	// would replace them), so no read-modify-write race with other changes.
	if err := s.c.client.AddTeamMember(ctx, teamID, u.ID, roles); err != nil {
		return nil, nil, guardError(op, err)
	}
	if err := s.confirmGrant(ctx, op, teamID, u, slug); err != nil {
		return nil, nil, err
	}
	return granted, nil, nil
}

// confirmGrant checks that teams.addMembers did what it answered: Rocket.Chat
// skips the membership (and the roles sent with it) of a user who already
// has a subscription to the team's main room without being a team member,
// and still answers success (addUserToRoom returns early:
// apps/meteor/server/lib/rooms/addUserToRoom.ts). A grant reported done
// that the next sync contradicts would be worse than a clear failure.
func (s *teamSyncer) confirmGrant(ctx context.Context, op, teamID string, u *client.User, slug string) error {
	m, err := s.c.client.FindTeamMember(ctx, teamID, u.ID, u.Username)
	if err != nil {
		return fmt.Errorf("%s: Rocket.Chat accepted it, but reading the team's members to confirm failed: %w", op, err)
	}
	switch {
	case m == nil:
		return status.Errorf(codes.FailedPrecondition,
			"%s: Rocket.Chat answered success but did not make %s a team member; it does this when the user is already in the "+
				"team's main room without being a member of the team. Remove %s from the team's main room (or add them in "+
				"Rocket.Chat's team members list), then grant again", op, u.Username, u.Username)
	case slug != teamMember && !slices.Contains(m.Roles, slug):
		return status.Errorf(codes.FailedPrecondition,
			"%s: Rocket.Chat answered success but %s does not hold the %s role in the team; set it in the team's members list, then sync",
			op, u.Username, slug)
	}
	return nil
}

// Revoke removes a user from a team, or takes one team role away while
// keeping the member's others. Taking "owner" from a team's last owner is
// refused: Rocket.Chat would allow it and leave the team without an owner.
func (s *teamSyncer) Revoke(ctx context.Context, g *v2.Grant) (annotations.Annotations, error) {
	teamRes := g.GetEntitlement().GetResource()
	teamID := teamRes.GetId().GetResource()
	slug, err := teamEntitlementSlug(g.GetEntitlement().GetId(), teamID)
	if err != nil {
		return nil, err
	}
	if slug == teamMember {
		if err := s.refuseManaged(ctx, "revoke", teamID); err != nil {
			return nil, err
		}
	}
	u, err := s.c.principalUser(ctx, g.GetPrincipal().GetId())
	if err != nil {
		return revokedIfGone(err)
	}
	op := fmt.Sprintf("revoking %s of team %s from %s", slug, teamRes.GetDisplayName(), u.Username)
	if !u.Active {
		return nil, status.Errorf(codes.FailedPrecondition,
			"%s: the user is deactivated, and Rocket.Chat's team APIs refuse deactivated users; reactivate the user, revoke, then deactivate again", op)
	}
	// teams.updateMember replaces the member's roles: keep this process's
	// changes to one membership from interleaving between read and write.
	unlock := s.c.lockMembership(teamID, u.ID)
	defer unlock()
	m, owners, err := s.membership(ctx, teamID, u, slug == teamOwner)
	if err != nil {
		return nil, fmt.Errorf("%s: reading the team's members: %w", op, err)
	}
	if m == nil || (slug != teamMember && !slices.Contains(m.Roles, slug)) {
		return annotations.New(&v2.GrantAlreadyRevoked{}), nil
	}
	if slug == teamMember {
		if err := s.c.client.RemoveTeamMember(ctx, teamID, u.ID); err != nil {
			if client.IsMemberMissing(err) {
				return annotations.New(&v2.GrantAlreadyRevoked{}), nil
			}
			return nil, guardError(op, err)
		}
		return nil, nil
	}
	if slug == teamOwner && owners <= 1 {
		return nil, status.Errorf(codes.FailedPrecondition, "%s: %s is the team's last owner; make another member owner first", op, u.Username)
	}
	keep := slices.DeleteFunc(slices.Clone(m.Roles), func(r string) bool { return r == slug })
	if err := s.c.client.SetTeamMemberRoles(ctx, teamID, u.ID, keep); err != nil {
		return nil, guardError(op, err)
	}
	return nil, nil
}

// membership finds u's membership of a team. When owners are wanted the
// whole member list is read once, for the member and the owner count alike;
// otherwise a username-narrowed listing is enough.
func (s *teamSyncer) membership(ctx context.Context, teamID string, u *client.User, countOwners bool) (*client.TeamMember, int, error) {
	if !countOwners {
		m, err := s.c.client.FindTeamMember(ctx, teamID, u.ID, u.Username)
		return m, 0, err
	}
	var (
		found  *client.TeamMember
		owners int
	)
	err := s.c.client.ListTeamMembers(ctx, teamID, func(batch []client.TeamMember) error {
		for i := range batch {
			if slices.Contains(batch[i].Roles, teamOwner) {
				owners++
			}
			if batch[i].User.ID == u.ID {
				m := batch[i]
				found = &m
			}
		}
		return nil
	})
	return found, owners, err
}

// teamEntitlementSlug reads "owner" from "team:<id>:owner".
func teamEntitlementSlug(entitlementID, teamID string) (string, error) {
	slug, ok := strings.CutPrefix(entitlementID, "team:"+teamID+":")
	if !ok || (slug != teamMember && !slices.Contains(teamRoles, slug)) {
		return "", status.Errorf(codes.InvalidArgument, "unknown team entitlement %q", entitlementID)
	}
	return slug, nil
}
