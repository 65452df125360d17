package connector

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/conductorone/baton-rocketchat/pkg/client"

	configv1 "github.com/conductorone/baton-sdk/pb/c1/config/v1"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/actions"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
)

// Action names and arguments.
const (
	actionDisableUser    = "disable_user"
	actionEnableUser     = "enable_user"
	argUserID            = "user_id"
	argConfirmRelinquish = "confirm_relinquish"
	resultSuccess        = "success"

	actionSignOutUser     = "sign_out_user"
	actionDeactivateIdle  = "deactivate_idle_users"
	argDaysIdle           = "days_idle"
	argRole               = "role"
	resultMessage         = "message"
	resultSignedOut       = "signed_out"
	resultDeactivated     = "deactivated_count"
	defaultDeactivateRole = "user"
)

// userIDArgument is the argument naming the user an action is about.
func userIDArgument() *configv1.Field {
	return configv1.Field_builder{
		Name: argUserID, DisplayName: "User", Description: "The Rocket.Chat user id.", IsRequired: true,
		StringField: &configv1.StringField{},
	}.Build()
}

// successResult is the result every action returns: whether it succeeded.
func successResult() *configv1.Field {
	return configv1.Field_builder{Name: resultSuccess, DisplayName: "Success", BoolField: &configv1.BoolField{}}.Build()
}

func userStatusAction(name, display, desc string, kind v2.ActionType) *v2.BatonActionSchema {
	args := []*configv1.Field{userIDArgument()}
	if kind == v2.ActionType_ACTION_TYPE_ACCOUNT_DISABLE {
		args = append(args, configv1.Field_builder{
			Name: argConfirmRelinquish, DisplayName: "Hand over owned rooms",
			Description: "If the user is the last owner of rooms, let Rocket.Chat make each room's oldest member its owner " +
				"(rooms with no other member are deleted). Without it, such a user is not deactivated.",
			BoolField: &configv1.BoolField{},
		}.Build())
	}
	return v2.BatonActionSchema_builder{
		Name: name, DisplayName: display, Description: desc,
		Arguments:   args,
		ReturnTypes: []*configv1.Field{successResult()},
		ActionType:  []v2.ActionType{v2.ActionType_ACTION_TYPE_ACCOUNT, kind},
	}.Build()
}

var (
	disableUserSchema = userStatusAction(actionDisableUser, "Deactivate user",
		"Deactivates a Rocket.Chat user (users.setActiveStatus): they can no longer sign in and all their tokens are revoked. "+
			"Their memberships and roles are kept, and the user can be reactivated.",
		v2.ActionType_ACTION_TYPE_ACCOUNT_DISABLE)
	enableUserSchema = userStatusAction(actionEnableUser, "Reactivate user",
		"Reactivates a deactivated Rocket.Chat user.",
		v2.ActionType_ACTION_TYPE_ACCOUNT_ENABLE)
)

var (
	signOutUserSchema = v2.BatonActionSchema_builder{
		Name: actionSignOutUser, DisplayName: "Sign user out everywhere",
		Description: "Signs a Rocket.Chat user out of every session (users.logout, needs logout-other-user): Rocket.Chat " +
			"removes all of the user's login tokens and personal access tokens. The account stays active; the user can sign in again.",
		Arguments: []*configv1.Field{userIDArgument()},
		ReturnTypes: []*configv1.Field{
			successResult(),
			configv1.Field_builder{Name: resultSignedOut, DisplayName: "Tokens removed",
				Description: "False when the user had no tokens left to remove.", BoolField: &configv1.BoolField{}}.Build(),
			configv1.Field_builder{Name: resultMessage, DisplayName: "Result", StringField: &configv1.StringField{}}.Build(),
		},
		ActionType: []v2.ActionType{v2.ActionType_ACTION_TYPE_ACCOUNT},
	}.Build()
	deactivateIdleSchema = v2.BatonActionSchema_builder{
		Name: actionDeactivateIdle, DisplayName: "Deactivate idle users",
		Description: "Deactivates every active holder of a role who has not logged in for the given number of days " +
			"(users.deactivateIdle, needs edit-other-user-active-status). Users who never logged in count from their creation. " +
			"Rocket.Chat only clears their active flag: unlike deactivating one user, it leaves their login tokens and personal " +
			"access tokens in place and makes no last-admin or room-owner check, so the connector refuses a run that would " +
			"deactivate its own account or every active admin.",
		Arguments: []*configv1.Field{
			configv1.Field_builder{
				Name: argDaysIdle, DisplayName: "Days idle", IsRequired: true,
				Description: "Deactivate users whose last login is at least this many days ago (1 or more).",
				IntField:    &configv1.IntField{},
			}.Build(),
			configv1.Field_builder{
				Name: argRole, DisplayName: "Role", Description: "Only holders of this global role (role id; default user).",
				StringField: &configv1.StringField{},
			}.Build(),
		},
		ReturnTypes: []*configv1.Field{
			successResult(),
			configv1.Field_builder{Name: resultDeactivated, DisplayName: "Users deactivated", IntField: &configv1.IntField{}}.Build(),
		},
		ActionType: []v2.ActionType{v2.ActionType_ACTION_TYPE_ACCOUNT, v2.ActionType_ACTION_TYPE_ACCOUNT_DISABLE},
	}.Build()
)

// GlobalActions registers the account actions.
func (c *Connector) GlobalActions(ctx context.Context, registry actions.ActionRegistry) error {
	if err := registry.Register(ctx, disableUserSchema, c.disableUser); err != nil {
		return fmt.Errorf("registering %s: %w", actionDisableUser, err)
	}
	if err := registry.Register(ctx, enableUserSchema, c.enableUser); err != nil {
		return fmt.Errorf("registering %s: %w", actionEnableUser, err)
	}
	if err := registry.Register(ctx, signOutUserSchema, c.signOutUser); err != nil {
		return fmt.Errorf("registering %s: %w", actionSignOutUser, err)
	}
	if err := registry.Register(ctx, deactivateIdleSchema, c.deactivateIdle); err != nil {
		return fmt.Errorf("registering %s: %w", actionDeactivateIdle, err)
	}
	return nil
}

func (c *Connector) disableUser(ctx context.Context, args *structpb.Struct) (*structpb.Struct, annotations.Annotations, error) {
	confirm, _ := actions.GetBoolArg(args, argConfirmRelinquish)
	return c.setActive(ctx, args, false, confirm)
}

func (c *Connector) enableUser(ctx context.Context, args *structpb.Struct) (*structpb.Struct, annotations.Annotations, error) {
	return c.setActive(ctx, args, true, false)
}

func (c *Connector) setActive(ctx context.Context, args *structpb.Struct, active, confirmRelinquish bool) (*structpb.Struct, annotations.Annotations, error) {
	userID, ok := actions.GetStringArg(args, argUserID)
	if !ok || userID == "" {
		return nil, nil, status.Errorf(codes.InvalidArgument, "missing %s argument", argUserID)
	}
	verb := "deactivate"
	if active {
		verb = "reactivate"
	}
	if err := c.refuseOwnAccount(ctx, userID, verb); err != nil {
		return nil, nil, err
	}
	if err := c.requirePermissions(ctx, verb+" users", client.PermEditOtherUserActiveStatus); err != nil {
		return nil, nil, err
	}
	u, err := c.principalUser(ctx, v2.ResourceId_builder{ResourceType: userResourceType.GetId(), Resource: userID}.Build())
	if err != nil {
		return nil, nil, err
	}
	if u.Active != active {
		op := fmt.Sprintf("%s user %s", verb, u.Username)
		err := c.sendChecked(
			func() error { return c.client.SetActiveStatus(ctx, userID, active, confirmRelinquish) },
			func() (bool, error) {
				now, err := c.client.UserInfo(ctx, userID)
				if err != nil {
					return false, err
				}
				return now.Active == active, nil
			})
		if err != nil {
			return nil, nil, guardError(op, err)
		}
	}
	return actions.NewReturnValues(true), nil, nil
}

// signOutUser removes every login token and personal access token of a user
// (users.logout). Rocket.Chat answers error-invalid-user-id when it changed
// nothing: for a user that exists, that means no token was left.
func (c *Connector) signOutUser(ctx context.Context, args *structpb.Struct) (*structpb.Struct, annotations.Annotations, error) {
	userID, ok := actions.GetStringArg(args, argUserID)
	if !ok || userID == "" {
		return nil, nil, status.Errorf(codes.InvalidArgument, "missing %s argument", argUserID)
	}
	if err := c.refuseOwnAccount(ctx, userID, "sign out"); err != nil {
		return nil, nil, err
	}
	if err := c.requirePermissions(ctx, "sign users out", client.PermLogoutOtherUser); err != nil {
		return nil, nil, err
	}
	u, err := c.principalUser(ctx, v2.ResourceId_builder{ResourceType: userResourceType.GetId(), Resource: userID}.Build())
	if err != nil {
		return nil, nil, err
	}
	op := fmt.Sprintf("sign out user %s", u.Username)
	signedOut := true
	// Sending it again is safe: a logout that took effect makes the next one
	// answer error-invalid-user-id, read below as nothing left to remove.
	sent := 0
	send := func() error {
		sent++
		_, err := c.client.Logout(ctx, userID)
		return err
	}
	if err := c.sendChecked(send, func() (bool, error) { return false, nil }); err != nil {
		if !client.IsInvalidUserID(err) {
			return nil, nil, guardError(op, err)
		}
		// After a lost answer, the first logout is what emptied the tokens.
		signedOut = sent > 1
	}
	msg := fmt.Sprintf("Signed %s out of every session: Rocket.Chat removed their login tokens and personal access tokens", u.Username)
	if !signedOut {
		msg = fmt.Sprintf("%s had no login tokens or personal access tokens left: nothing to remove", u.Username)
	}
	return actions.NewReturnValues(true,
		actions.NewBoolReturnField(resultSignedOut, signedOut),
		actions.NewStringReturnField(resultMessage, msg)), nil, nil
}

// idleMargin widens the connector's idea of who deactivateIdle selects, for
// clocks that disagree with the server's.
const idleMargin = time.Hour

// deactivateIdle runs users.deactivateIdle after checking it would leave the
// connector's own account and at least one admin active: Rocket.Chat checks
// neither.
func (c *Connector) deactivateIdle(ctx context.Context, args *structpb.Struct) (*structpb.Struct, annotations.Annotations, error) {
	days, ok := actions.GetIntArg(args, argDaysIdle)
	if !ok {
		return nil, nil, status.Errorf(codes.InvalidArgument, "missing %s argument (a whole number of days)", argDaysIdle)
	}
	if days < 1 || days > 36500 {
		return nil, nil, status.Errorf(codes.InvalidArgument,
			"%s must be between 1 and 36500, not %d: 0 or less would deactivate every holder of the role", argDaysIdle, days)
	}
	role, _ := actions.GetStringArg(args, argRole)
	role = strings.TrimSpace(role)
	if role == "" {
		role = defaultDeactivateRole
	}
	v, err := c.validate(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := c.requirePermissions(ctx, "deactivate idle users", client.PermEditOtherUserActiveStatus); err != nil {
		return nil, nil, err
	}
	// Who the server will select: holders of role whose lastLogin (or, never
	// logged in, createdAt) is at or before now minus days.
	cutoff := time.Now().AddDate(0, 0, -int(days)).Add(idleMargin)
	selected := func(u *client.User, assumeNeverLoggedIn bool) bool {
		if !slices.Contains(u.Roles, role) {
			return false
		}
		if u.LastLogin.IsZero() {
			return assumeNeverLoggedIn || !u.CreatedAt.After(cutoff)
		}
		return !u.LastLogin.After(cutoff)
	}
	me, err := c.client.UserInfo(ctx, v.me.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the connector's own account: %w", err)
	}
	if me.Roles == nil {
		me.Roles = v.me.Roles
	}
	if selected(me, false) {
		return nil, nil, status.Errorf(codes.FailedPrecondition,
			"refusing to deactivate users with role %q idle for %d days: the connector's own account %q holds the role and last logged in %s "+
				"(signing in with a personal access token does not count as a login), so Rocket.Chat would deactivate it; use a larger number of days or another role",
			role, days, v.me.Username, lastLoginText(me))
	}
	if err := c.refuseLastAdmins(ctx, me, role, days, selected); err != nil {
		return nil, nil, err
	}
	var count int
	op := fmt.Sprintf("deactivate users with role %q idle for %d days", role, days)
	// Not re-sent when the answer is lost: a second run would find the
	// users already inactive and report 0.
	if err := c.sendChecked(func() error {
		n, err := c.client.DeactivateIdle(ctx, int(days), role)
		count = n
		return err
	}, nil); err != nil {
		return nil, nil, guardError(op, err)
	}
	return actions.NewReturnValues(true, actions.NewNumberReturnField(resultDeactivated, float64(count))), nil, nil
}

// refuseLastAdmins fails when every active admin would be selected. The
// connector's own account, when it is an admin and not selected, is one that
// remains; otherwise the active admins are read (users.listByStatus, which
// has lastLogin but not createdAt: admins who never logged in are taken to
// be selected).
func (c *Connector) refuseLastAdmins(ctx context.Context, me *client.User, role string, days int64, selected func(*client.User, bool) bool) error {
	if slices.Contains(me.Roles, "admin") {
		return nil // me is not selected (checked before), so an admin remains
	}
	admins, err := c.client.ActiveUsersWithRole(ctx, "admin")
	if err != nil {
		return status.Errorf(codes.FailedPrecondition,
			"refusing to deactivate idle users: could not check that an active admin would remain (%v)", err)
	}
	for i := range admins {
		if !selected(&admins[i], true) {
			return nil
		}
	}
	return status.Errorf(codes.FailedPrecondition,
		"refusing to deactivate users with role %q idle for %d days: every active admin (%d) would be deactivated, "+
			"leaving the workspace without an admin; use a larger number of days or another role", role, days, len(admins))
}

func lastLoginText(u *client.User) string {
	if u.LastLogin.IsZero() {
		return "never"
	}
	return "at " + u.LastLogin.UTC().Format(time.RFC3339)
}
