package connector

import (
	"context"
	"fmt"
	"strings"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
)

// userSyncer lists every account: active or not, people, bots, apps and
// federated users.
type userSyncer struct{ c *Connector }

func (s *userSyncer) ResourceType(_ context.Context) *v2.ResourceType { return userResourceType }

// List returns one page of users; its token says where the next begins.
func (s *userSyncer) List(ctx context.Context, _ *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	if err := s.c.configured(); err != nil {
		return nil, nil, err
	}
	cur := parseCursor(ctx, opts.PageToken.Token)
	users, next, err := s.c.usersListing().pageAt(ctx, s.c.shared(opts), &cur)
	if err != nil {
		return nil, nil, err
	}
	base := s.c.httpsBase()
	out := make([]*v2.Resource, 0, len(users))
	rank := cur.Before // of the next deactivated user among all of them
	for i := range users {
		u := &users[i]
		teamsListed := false
		if !u.Active {
			teamsListed = teamsListedFor(cur.Budget, rank)
			rank++
		}
		r, err := userResource(ctx, u, base, teamsListed)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
	}
	return out, &resource.SyncOpResults{NextPageToken: next.token()}, nil
}

// Get reads one user, for a targeted sync (ConductorOne refreshes an
// account after creating or changing it).
func (s *userSyncer) Get(ctx context.Context, id *v2.ResourceId, _ *v2.ResourceId) (*v2.Resource, annotations.Annotations, error) {
	if err := s.c.configured(); err != nil {
		return nil, nil, err
	}
	u, err := s.c.principalUser(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	// A lone user has no rank among the deactivated ones: a targeted
	// sync does not list a deactivated user's teams.
	r, err := userResource(ctx, u, s.c.httpsBase(), false)
	return r, nil, err
}

// Entitlements: users grant nothing; the resource type says so to the SDK.
func (s *userSyncer) Entitlements(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}

// Grants: a user's roles and teams are granted from the role and team side.
func (s *userSyncer) Grants(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}

// userResource turns a Rocket.Chat user into a Baton user. teamsListed says
// whether the sync lists a deactivated user's team memberships.
func userResource(ctx context.Context, u *client.User, base externalBase, teamsListed bool) (*v2.Resource, error) {
	traitStatus, resourceStatus := v2.UserTrait_Status_STATUS_ENABLED, v2.Status_RESOURCE_STATUS_ENABLED
	statusDetail := ""
	if !u.Active {
		traitStatus, resourceStatus = v2.UserTrait_Status_STATUS_DISABLED, v2.Status_RESOURCE_STATUS_DISABLED
		statusDetail = "deactivated"
		if u.InactiveReason != "" {
			statusDetail = u.InactiveReason
		}
	}

	traitOpts := []resource.UserTraitOption{
		resource.WithUserLogin(u.Username),
		resource.WithAccountType(accountType(ctx, u)),
		// The trait status mirrors the resource status: NewUserTrait would
		// otherwise say ENABLED for a deactivated user.
		resource.WithStatus(traitStatus), //nolint:staticcheck // kept consistent with WithResourceStatus for older readers
	}
	for i, e := range u.Emails {
		if e.Address != "" {
			traitOpts = append(traitOpts, resource.WithEmail(e.Address, i == 0))
		}
	}
	if !u.LastLogin.IsZero() {
		traitOpts = append(traitOpts, resource.WithLastLogin(u.LastLogin))
	}

	opts := []resource.ResourceOption{
		resource.WithResourceStatus(resourceStatus, statusDetail),
		resource.WithResourceProfile(userProfile(u, teamsListed)),
	}
	opts = append(opts, base.identity(u.ID, u.CreatedAt, "admin/users/info", u.ID)...)
	r, err := resource.NewUserResource(clip(userDisplayName(u), maxDisplayName), userResourceType, u.ID, traitOpts, opts...)
	if err != nil {
		return nil, fmt.Errorf("building user %s: %w", u.ID, err)
	}
	return r, nil
}

func userDisplayName(u *client.User) string {
	switch {
	case strings.TrimSpace(u.Name) != "":
		return u.Name
	case u.Username != "":
		return u.Username
	}
	return u.ID
}

// accountType labels bots and Apps-Engine users as service accounts.
func accountType(ctx context.Context, u *client.User) v2.UserTrait_AccountType {
	switch u.Type {
	case client.UserTypeBot, client.UserTypeApp:
		return v2.UserTrait_ACCOUNT_TYPE_SERVICE
	case client.UserTypePerson, "":
		return v2.UserTrait_ACCOUNT_TYPE_HUMAN
	}
	ctxzap.Extract(ctx).Warn("rocket.chat user has an unknown type; treating it as a person",
		zap.String("user_id", u.ID), zap.String("type", u.Type))
	return v2.UserTrait_ACCOUNT_TYPE_HUMAN
}

// isFederated recognises Matrix users. users.list never returns the flag, so
// the username form (@name:server) and the federated-external role count too.
func isFederated(u *client.User) bool {
	if u.Federated || u.Federation != nil {
		return true
	}
	for _, r := range u.Roles {
		if r == "federated-external" {
			return true
		}
	}
	return strings.HasPrefix(u.Username, "@") && strings.Contains(u.Username, ":")
}

func userProfile(u *client.User, teamsListed bool) map[string]any {
	p := map[string]any{
		"user_id":      u.ID,
		"username":     u.Username,
		profileKeyType: u.Type,
		"active":       u.Active,
		"federated":    isFederated(u),
		"roles":        strings.Join(u.Roles, ","),
	}
	setText(p, profileKeyName, u.Name)
	setText(p, "nickname", u.Nickname)
	setText(p, "presence", u.Status)
	setText(p, "inactive_reason", u.InactiveReason)
	setText(p, "registration_reason", u.Reason)
	if u.Federation != nil {
		setText(p, "federation_origin", u.Federation.Origin)
	} else if i := strings.LastIndex(u.Username, ":"); isFederated(u) && i > 0 {
		setText(p, "federation_origin", u.Username[i+1:])
	}
	if len(u.Emails) > 0 {
		p["email"] = u.Emails[0].Address
		p["email_verified"] = u.Emails[0].Verified
	}
	if !u.LastLogin.IsZero() {
		p["last_login"] = u.LastLogin.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	if u.RequirePasswordChange {
		p["require_password_change"] = true
	}
	if !u.Active {
		// teams.members lists active users only: say where this user's
		// team grants come from, or that there are none to read as none.
		p["team_memberships"] = teamMembershipsNote(teamsListed)
	}
	return p
}

// teamMembershipsNote is a deactivated user's profile note on its team grants.
func teamMembershipsNote(listed bool) string {
	if listed {
		return "listed from users.listTeams while deactivated: membership and team ownership only (moderator and leader roles are not shown)"
	}
	return "not listed while deactivated: Rocket.Chat's teams.members leaves deactivated users out, and reading each one's teams " +
		"would exceed the sync's rate-limit floor (a token with api-bypass-rate-limit lists them, and so does the " +
		"all-deactivated-team-memberships setting, at the limiter's pace)"
}
