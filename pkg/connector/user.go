package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// userSyncer lists every account: active or not, people, bots, apps and
// federated users.
type userSyncer struct{ c *Connector }

func (s *userSyncer) ResourceType(_ context.Context) *v2.ResourceType { return userResourceType }

// usersToken is the users listing's page token:
//
//	l  Listing   where the users listing continues (readCursor, engine.go)
//	e  Endpoint  the users endpoint of this sync, chosen on its first call:
//	             a 404 later is a fault, not an older server
//	b  Budget    how many deactivated users' teams the sync reads, decided
//	             on the first call (deactivated.go)
//	d  Before    the deactivated users on the pages before this one, in
//	             this pass over the listing: the next one's rank
//	p  Pending   the ids of the users waiting for an admin's approval, read
//	             on the first page holding a deactivated user; nil before
type usersToken struct {
	Listing  readCursor           `json:"l"`
	Endpoint client.UsersEndpoint `json:"e,omitempty"`
	Budget   int                  `json:"b,omitempty"`
	Before   int                  `json:"d,omitempty"`
	Pending  *[]string            `json:"p,omitempty"`
}

func (t usersToken) valid() bool { return t.Listing.valid() && t.Before >= 0 }

// usersMeta is kept with the stored users reading: what its first call
// decided, for the passes over it (role grants, deactivated users' teams).
type usersMeta struct {
	Endpoint client.UsersEndpoint `json:"e"`
	Budget   int                  `json:"b,omitempty"`
}

// List returns one page of users; its token says where the next begins.
// The first call also decides how many deactivated users' teams the sync
// reads (each deactivated user's profile says whether its are).
func (s *userSyncer) List(ctx context.Context, _ *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	if err := s.c.configured(); err != nil {
		return nil, nil, err
	}
	store := s.c.shared(ctx, opts)
	tok := decodeToken(ctx, opts.PageToken.Token, usersToken.valid)
	var first *client.Page[client.User]
	if tok.Endpoint == "" {
		first = &client.Page[client.User]{}
	}
	markListing(ctx, store)
	l := s.c.usersListing(&tok.Endpoint, first)
	l.meta, _ = json.Marshal(usersMeta{Endpoint: tok.Endpoint, Budget: tok.Budget})
	if first != nil {
		// Decided before the reading is stored: its manifest keeps it.
		l.settle = func() {
			tok.Budget = s.c.deactivatedBudget(ctx, store, tok.Endpoint, *first)
			l.meta, _ = json.Marshal(usersMeta{Endpoint: tok.Endpoint, Budget: tok.Budget})
		}
	}
	users, next, err := l.page(ctx, store, tok.Listing)
	if err != nil {
		return nil, nil, err
	}
	if tok.Pending == nil && slices.ContainsFunc(users, func(u client.User) bool { return !u.Active }) {
		ids, err := s.c.pendingApproval(ctx, tok.Endpoint, "")
		if err != nil {
			return nil, nil, err
		}
		tok.Pending = &ids
	}
	base := s.c.httpsBase()
	out := make([]*v2.Resource, 0, len(users))
	rank := tok.Before // of the next deactivated user among all of them
	for i := range users {
		u := users[i] // a copy: the page may be shared with other calls
		if !u.Active && slices.Contains(*tok.Pending, u.ID) {
			u.InactiveReason = client.InactiveReasonPendingApproval
		}
		teamsListed := false
		if !u.Active {
			teamsListed = teamsListedFor(tok.Budget, rank)
			rank++
		}
		r, err := userResource(ctx, &u, base, teamsListed)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
	}
	var nextTok *usersToken
	if next != nil {
		nextTok = &usersToken{Listing: *next, Endpoint: tok.Endpoint, Budget: tok.Budget, Before: rank, Pending: tok.Pending}
		if next.Pass != tok.Listing.Pass {
			nextTok.Before = 0 // a new pass counts from the start
		}
	}
	return out, &resource.SyncOpResults{NextPageToken: encodeToken(nextTok)}, nil
}

// pendingApproval lists the users waiting for an admin's approval, among
// those whose username or name contains search ("" for all). Only
// users.listByStatus can tell them apart, from Rocket.Chat 8.0; with an
// older server nobody is pending (they show as deactivated), which the log
// says once per process.
func (c *Connector) pendingApproval(ctx context.Context, endpoint client.UsersEndpoint, search string) ([]string, error) {
	if endpoint != client.UsersListByStatus {
		c.warnNoPendingFilter(ctx)
		return []string{}, nil
	}
	ids, err := c.client.PendingApprovalUserIDs(ctx, search)
	if client.IsUnknownParameter(err) {
		c.warnNoPendingFilter(ctx)
		return []string{}, nil
	}
	if err != nil {
		return nil, syncError("listing users pending approval", err)
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

func (c *Connector) warnNoPendingFilter(ctx context.Context) {
	c.noPendingFilter.Do(func() {
		ctxzap.Extract(ctx).Info("rocket.chat is older than 8.0: users waiting for approval cannot be told from deactivated users, and show as disabled")
	})
}

// usersListing reads every user, active or not, from *endpoint; an empty
// *endpoint is chosen on the first call (users.listByStatus, or users.list
// on servers older than 6.8) and set, and the first answer is left in
// *first when first is not nil. It keeps its whole reading in the session
// store: the role grants and the deactivated users' teams are passes over it.
func (c *Connector) usersListing(endpoint *client.UsersEndpoint, first *client.Page[client.User]) *listing[client.User] {
	l := &listing[client.User]{
		key:      "users",
		what:     "users",
		endpoint: string(*endpoint),
		keep:     true,
		reads:    c.reads,
		id:       func(u client.User) string { return u.ID },
	}
	if *endpoint == "" {
		l.endpoint = string(c.preferredUsersEndpoint())
	}
	l.fetch = func(ctx context.Context, offset, count int) (client.Page[client.User], error) {
		var (
			p   client.Page[client.User]
			err error
		)
		if *endpoint == "" {
			p, *endpoint, err = c.client.FirstUsersPage(ctx, c.preferredUsersEndpoint(), offset, count)
			l.endpoint = string(*endpoint)
			if err == nil && first != nil {
				*first = p
			}
		} else {
			p, err = c.client.UsersPage(ctx, *endpoint, offset, count)
		}
		if status.Code(err) == codes.PermissionDenied {
			return p, outsideRoomRefusal(*endpoint, err)
		}
		return p, syncError("listing users", err)
	}
	return l
}

// storedUsers is a pass over the users reading the users listing stored in
// this sync: its listing, the cursor at its start and what its first call
// decided; ok is false when none is stored.
func (c *Connector) storedUsers(ctx context.Context, store shared) (*listing[client.User], readCursor, usersMeta, bool) {
	var meta usersMeta
	endpoint := client.UsersEndpoint("")
	l := c.usersListing(&endpoint, nil)
	var (
		cur readCursor
		raw json.RawMessage
		ok  bool
	)
	// Asked again on a miss: the alternative is reading every user again.
	for range readTries {
		if cur, raw, ok = l.stored(ctx, store); ok {
			break
		}
	}
	if !ok || json.Unmarshal(raw, &meta) != nil {
		return l, readCursor{}, usersMeta{}, false
	}
	endpoint = meta.Endpoint
	l.endpoint = string(endpoint)
	return l, cur, meta, true
}

// outsideRoomRefusal explains a 403 on a users listing. Validation has
// checked view-d-room, so the likely cause is the setting
// API_Apply_permission_view-outside-room_on_users-list, which makes user
// listings also require view-outside-room (apps/meteor/server/api/v1/users.ts).
func outsideRoomRefusal(endpoint client.UsersEndpoint, err error) error {
	msg := err.Error()
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		msg = apiErr.Message
	}
	return status.Errorf(codes.PermissionDenied,
		"listing users: Rocket.Chat refused %s (403 %q). With the setting API_Apply_permission_view-outside-room_on_users-list on "+
			"(Administration > Settings > General > REST API), listing users also needs the view-outside-room permission: "+
			"give the token's user a role that holds view-outside-room, or turn the setting off", endpoint, msg)
}

// preferredUsersEndpoint is the users endpoint for the server's version when
// this process has validated the token, and otherwise the current one (the
// listing falls back on a 404).
func (c *Connector) preferredUsersEndpoint() client.UsersEndpoint {
	c.validateMu.Lock()
	defer c.validateMu.Unlock()
	if c.validated != nil {
		return c.validated.usersEndpoint
	}
	return client.UsersListByStatus
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
	if !u.Active && u.Username != "" {
		ids, err := s.c.pendingApproval(ctx, s.c.preferredUsersEndpoint(), u.Username)
		if err != nil {
			return nil, nil, err
		}
		if slices.Contains(ids, u.ID) {
			u.InactiveReason = client.InactiveReasonPendingApproval
		}
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
	switch {
	case u.Active:
	case u.InactiveReason == client.InactiveReasonPendingApproval:
		// Registered, never approved: nobody switched this account off.
		traitStatus, resourceStatus = v2.UserTrait_Status_STATUS_PENDING, v2.Status_RESOURCE_STATUS_PENDING
		statusDetail = u.InactiveReason
	default:
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
