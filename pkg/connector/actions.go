package connector

import (
	"context"
	"fmt"

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
)

func userStatusAction(name, display, desc string, kind v2.ActionType) *v2.BatonActionSchema {
	args := []*configv1.Field{
		configv1.Field_builder{
			Name: argUserID, DisplayName: "User", Description: "The Rocket.Chat user id.", IsRequired: true,
			StringField: &configv1.StringField{},
		}.Build(),
	}
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
		Arguments: args,
		ReturnTypes: []*configv1.Field{configv1.Field_builder{
			Name: resultSuccess, DisplayName: "Success", BoolField: &configv1.BoolField{},
		}.Build()},
		ActionType: []v2.ActionType{v2.ActionType_ACTION_TYPE_ACCOUNT, kind},
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

// GlobalActions registers the deactivate and reactivate actions.
func (c *Connector) GlobalActions(ctx context.Context, registry actions.ActionRegistry) error {
	if err := registry.Register(ctx, disableUserSchema, c.disableUser); err != nil {
		return fmt.Errorf("registering %s: %w", actionDisableUser, err)
	}
	if err := registry.Register(ctx, enableUserSchema, c.enableUser); err != nil {
		return fmt.Errorf("registering %s: %w", actionEnableUser, err)
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
	if err := c.requirePermissions(ctx, verb+" users", permEditActiveStatus); err != nil {
		return nil, nil, err
	}
	u, err := c.target(ctx, v2.ResourceId_builder{ResourceType: userResourceType.GetId(), Resource: userID}.Build())
	if err != nil {
		return nil, nil, err
	}
	if u.Active != active {
		if err := c.client.SetActiveStatus(ctx, userID, active, confirmRelinquish); err != nil {
			return nil, nil, guardError(fmt.Sprintf("%s user %s", verb, u.Username), err)
		}
	}
	return actions.NewReturnValues(true), nil, nil
}
