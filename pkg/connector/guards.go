package connector

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// provisioningPermissions are reported by Validate when missing, since
// provisioning may never be asked for. Each is checked before the change
// that needs it is sent, so the error names what is missing instead of
// Rocket.Chat's generic refusal. The team permissions are left out:
// Rocket.Chat checks them per team, where a team owner holds them.
var provisioningPermissions = []string{
	client.PermAccessPermissions, client.PermAssignAdminRole, client.PermCreateUser,
	client.PermEditOtherUserActiveStatus, client.PermDeleteUser,
}

// requirePermissions fails with PermissionDenied naming the global
// permissions the token's user lacks.
func (c *Connector) requirePermissions(ctx context.Context, action string, perms ...string) error {
	v, err := c.validate(ctx)
	if err != nil {
		return err
	}
	if missing := v.missing(perms); len(missing) > 0 {
		return status.Errorf(codes.PermissionDenied,
			"cannot %s: the token's user %q lacks %s; give it the admin role or a role that holds %s",
			action, v.me.Username, quoteAll(missing), strings.Join(missing, ", "))
	}
	return nil
}

// principalUser is the user a provisioning request is about.
func (c *Connector) principalUser(ctx context.Context, principal *v2.ResourceId) (*client.User, error) {
	if principal.GetResourceType() != userResourceType.GetId() {
		return nil, status.Errorf(codes.InvalidArgument, "only users can hold Rocket.Chat roles and team access, not %q", principal.GetResourceType())
	}
	u, err := c.client.UserInfo(ctx, principal.GetResource())
	if err != nil {
		if client.IsUserNotFound(err) {
			return nil, status.Errorf(codes.NotFound, "user %s does not exist in Rocket.Chat (deleted since the last sync?)", principal.GetResource())
		}
		return nil, fmt.Errorf("looking up user %s: %w", principal.GetResource(), err)
	}
	return u, nil
}

// revokedIfGone answers a revoke whose user lookup failed: a deleted user
// holds nothing, so the grant is already gone; other failures stand.
func revokedIfGone(err error) (annotations.Annotations, error) {
	if status.Code(err) == codes.NotFound {
		return annotations.New(&v2.GrantAlreadyRevoked{}), nil
	}
	return nil, err
}

// guardError turns Rocket.Chat's refusals into errors that say what happened
// and what to do, with codes that stop the SDK from retrying what cannot
// succeed on retry.
func guardError(op string, err error) error {
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) {
		return fmt.Errorf("%s: %w", op, err)
	}
	msg := ""
	rooms, lastOwner := client.UserLastOwnerRooms(err)
	switch {
	case client.IsLastAdmin(err):
		msg = "Rocket.Chat refuses to leave the workspace without an admin: make another user admin first"
	case client.IsLastTeamOwner(err):
		msg = "Rocket.Chat refuses to remove the team's last owner: make another member owner first"
	case lastOwner:
		msg = fmt.Sprintf("the user is the last owner of rooms (%s): hand those rooms over first, or use confirm_relinquish "+
			"to let Rocket.Chat pass them to their oldest member (rooms left without members are deleted)", roomList(rooms))
	case client.IsFederatedRefusal(err):
		msg = "the user is a federated (Matrix) user, whom Rocket.Chat does not let this workspace change"
	case client.IsInactiveUser(err):
		msg = "Rocket.Chat's team APIs refuse deactivated users: reactivate the user first"
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
	return status.Errorf(codes.FailedPrecondition, "%s: %s (%s)", op, msg, apiErr.Error())
}

// roomList names the rooms of a user-last-owner refusal for people.
func roomList(rooms []string) string {
	if len(rooms) == 0 {
		return "unnamed"
	}
	return strings.Join(rooms, ", ")
}

// refuseOwnAccount stops the connector from deactivating or deleting the
// account its token belongs to: Rocket.Chat would revoke the token with it.
func (c *Connector) refuseOwnAccount(ctx context.Context, userID, verb string) error {
	if userID == c.client.UserID() {
		return status.Errorf(codes.FailedPrecondition,
			"refusing to %s %s: it is the account this connector's token belongs to, and Rocket.Chat would revoke the token", verb, userID)
	}
	return nil
}

// maxAmbiguousRetries bounds how often a change whose answer was lost is
// checked and sent again.
const maxAmbiguousRetries = 2

// sendChecked sends a change through the client, which retries what surely
// did not reach Rocket.Chat. When a change may have been applied (its answer
// was lost), applied reads the state back: a change that took effect is
// done, one that did not is sent again, a bounded number of times. Without
// applied, such a failure is reported as an unknown outcome (Aborted) and
// nothing is re-sent. Actions have no other retry: nobody re-runs them.
func (c *Connector) sendChecked(send func() error, applied func() (bool, error)) error {
	err := send()
	for attempt := 0; err != nil && client.MayHaveApplied(err); attempt++ {
		if applied == nil || attempt >= maxAmbiguousRetries {
			return status.Errorf(codes.Aborted,
				"the answer was lost, and Rocket.Chat may or may not have made the change; check its state before trying again (%v)", err)
		}
		done, cerr := applied()
		if cerr != nil {
			return status.Errorf(codes.Aborted,
				"the answer was lost, and checking whether Rocket.Chat made the change failed too (%v; then %v)", err, cerr)
		}
		if done {
			return nil
		}
		err = send()
	}
	return err
}
