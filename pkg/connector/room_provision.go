package connector

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types/grant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Room provisioning: membership through channels.invite/kick (groups.* for
// private groups), room roles through channels.addOwner/removeOwner and
// their siblings. Each change reads the room and the member first, so a
// repeat writes nothing and a refusal the connector can foresee (archived,
// federated or attribute-managed rooms, a role for a non-member, the last
// owner) writes nothing either; after a write the state is read back where
// Rocket.Chat's answer can mislead (an invite answers success for a user
// it does not add).

// Grant adds a user to a room, or gives a member a room role.
func (s *roomSyncer) Grant(ctx context.Context, principal *v2.Resource, e *v2.Entitlement) ([]*v2.Grant, annotations.Annotations, error) {
	roomRes := e.GetResource()
	slug, err := roomEntitlementSlug(e.GetId(), roomRes.GetId().GetResource())
	if err != nil {
		return nil, nil, err
	}
	ch, err := s.prepare(ctx, "granting", slug, roomRes, principal.GetId())
	if err != nil {
		return nil, nil, err
	}
	granted := []*v2.Grant{grant.NewGrant(roomRes, slug, principal.GetId())}
	isMember, err := s.c.client.FindRoomMember(ctx, ch.room.Type, ch.room.ID, ch.user.ID, ch.user.Username)
	if err != nil {
		return nil, nil, ch.failure("reading the room's members", err)
	}
	if slug == roomMember {
		if isMember {
			return granted, annotations.New(&v2.GrantAlreadyExists{}), nil
		}
		if err := s.c.client.InviteToRoom(ctx, ch.room.Type, ch.room.ID, ch.user.ID); err != nil {
			return nil, nil, ch.failure("", err)
		}
		if now, err := s.c.client.FindRoomMember(ctx, ch.room.Type, ch.room.ID, ch.user.ID, ch.user.Username); err != nil {
			return nil, nil, ch.failure("Rocket.Chat accepted it, but reading the room's members to confirm failed", err)
		} else if !now {
			return nil, nil, status.Errorf(codes.FailedPrecondition,
				"%s: Rocket.Chat answered success but %s is not among the room's members; check the room in Rocket.Chat, then sync", ch.op, ch.user.Username)
		}
		return granted, nil, nil
	}
	if !isMember {
		return nil, nil, status.Errorf(codes.FailedPrecondition,
			"%s: %s is not a member of the room, and Rocket.Chat gives room roles to members only: grant the room's membership first", ch.op, ch.user.Username)
	}
	roles, err := s.roomRoles(ctx, ch)
	if err != nil {
		return nil, nil, err
	}
	if roles.holds(ch.user.ID, slug) {
		return granted, annotations.New(&v2.GrantAlreadyExists{}), nil
	}
	if err := s.c.client.SetRoomRole(ctx, ch.room.Type, ch.room.ID, ch.user.ID, slug, true); err != nil {
		if client.IsAlreadyRoomRole(err) {
			return granted, annotations.New(&v2.GrantAlreadyExists{}), nil
		}
		return nil, nil, ch.failure("", err)
	}
	return granted, nil, nil
}

// Revoke removes a user from a room, or takes a room role away. Removing
// the room's last owner, as a member or as an owner, is refused: Rocket.Chat
// would refuse it too, or leave the room without an owner.
func (s *roomSyncer) Revoke(ctx context.Context, g *v2.Grant) (annotations.Annotations, error) {
	roomRes := g.GetEntitlement().GetResource()
	slug, err := roomEntitlementSlug(g.GetEntitlement().GetId(), roomRes.GetId().GetResource())
	if err != nil {
		return nil, err
	}
	ch, err := s.prepare(ctx, "revoking", slug, roomRes, g.GetPrincipal().GetId())
	if err != nil {
		if status.Code(err) == codes.NotFound {
			return revokedIfGone(err)
		}
		return nil, err
	}
	isMember, err := s.c.client.FindRoomMember(ctx, ch.room.Type, ch.room.ID, ch.user.ID, ch.user.Username)
	if err != nil {
		return nil, ch.failure("reading the room's members", err)
	}
	if !isMember {
		return annotations.New(&v2.GrantAlreadyRevoked{}), nil
	}
	roles, err := s.roomRoles(ctx, ch)
	if err != nil {
		return nil, err
	}
	lastOwner := roles.holds(ch.user.ID, client.RoomOwner) && roles.count(client.RoomOwner) <= 1
	if slug == roomMember {
		if lastOwner {
			return nil, status.Errorf(codes.FailedPrecondition, "%s: %s is the room's last owner; make another member owner first", ch.op, ch.user.Username)
		}
		if err := s.c.client.KickFromRoom(ctx, ch.room.Type, ch.room.ID, ch.user.ID); err != nil {
			return nil, ch.failure("", err)
		}
		return nil, nil
	}
	if slug == client.RoomOwner && lastOwner {
		return nil, status.Errorf(codes.FailedPrecondition, "%s: %s is the room's last owner; make another member owner first", ch.op, ch.user.Username)
	}
	if !roles.holds(ch.user.ID, slug) {
		return annotations.New(&v2.GrantAlreadyRevoked{}), nil
	}
	if err := s.c.client.SetRoomRole(ctx, ch.room.Type, ch.room.ID, ch.user.ID, slug, false); err != nil {
		if client.IsNotRoomRole(err) {
			return annotations.New(&v2.GrantAlreadyRevoked{}), nil
		}
		return nil, ch.failure("", err)
	}
	return nil, nil
}

// roomChange is one room change being made: the room and the user as
// Rocket.Chat has them now.
type roomChange struct {
	op   string
	room *client.Room
	user *client.User
}

// prepare reads the room and the user, and refuses what Rocket.Chat would
// refuse or undo, before anything is written.
func (s *roomSyncer) prepare(ctx context.Context, verb, slug string, roomRes *v2.Resource, principal *v2.ResourceId) (*roomChange, error) {
	if err := s.c.configured(); err != nil {
		return nil, err
	}
	roomID := roomRes.GetId().GetResource()
	room, err := s.c.client.RoomInfo(ctx, roomID)
	if err != nil {
		if client.IsRoomNotFound(err) {
			return nil, status.Errorf(codes.NotFound, "room %s does not exist in Rocket.Chat", roomID)
		}
		if status.Code(err) == codes.PermissionDenied {
			return nil, status.Errorf(codes.PermissionDenied, "reading room %s: %v (changing rooms needs view-room-administration)", roomID, err)
		}
		return nil, fmt.Errorf("reading room %s: %w", roomID, err)
	}
	u, err := s.c.principalUser(ctx, principal)
	if err != nil {
		return nil, err
	}
	name := room.FName
	if name == "" {
		name = room.Name
	}
	ch := &roomChange{op: fmt.Sprintf("%s %s of room %s to %s", verb, slug, name, u.Username), room: room, user: u}
	if verb == "revoking" {
		ch.op = fmt.Sprintf("revoking %s of room %s from %s", slug, name, u.Username)
	}
	switch {
	case room.TeamMain:
		return nil, status.Errorf(codes.FailedPrecondition, "%s: this is team %s's main room; change the team's membership instead", ch.op, room.TeamID)
	case room.Archived:
		return nil, status.Errorf(codes.FailedPrecondition, "%s: the room is archived; unarchive it in Rocket.Chat first", ch.op)
	case room.Federated:
		return nil, status.Errorf(codes.FailedPrecondition,
			"%s: the room is federated (Matrix), and its membership follows the federation: change it in Rocket.Chat", ch.op)
	case len(room.ABACAttributes) > 0 && slug == roomMember:
		return nil, status.Errorf(codes.FailedPrecondition,
			"%s: the room's membership is decided by its ABAC attributes (%s): Rocket.Chat removes members whose attributes do not match, "+
				"so change the user's attributes instead", ch.op, abacSummary(room.ABACAttributes))
	case !u.Active:
		return nil, status.Errorf(codes.FailedPrecondition,
			"%s: the user is deactivated, and Rocket.Chat's room member listings leave deactivated users out, so the change could not be confirmed; "+
				"reactivate the user first", ch.op)
	}
	if slug == roomMember {
		if err := s.refuseManaged(ctx, verb, room.Name); err != nil {
			return nil, err
		}
	}
	return ch, nil
}

// refuseManaged refuses a membership change LDAP channel sync would undo:
// a removal from a mapped room (LDAP adds the user back at the next sync
// or login), and an addition when it also removes users outside the
// groups (LDAP_Sync_User_Data_Channels_Enforce_AutoChannels).
func (s *roomSyncer) refuseManaged(ctx context.Context, verb, name string) error {
	dir, err := s.c.liveDirectory(ctx)
	if err != nil {
		return err
	}
	groups := dir.roomGroups(name)
	if len(groups) == 0 || (verb == "granting" && !dir.RoomsEnforced) {
		return nil
	}
	what := fmt.Sprintf("room %q", name)
	op := map[string]string{"granting": "grant", "revoking": "revoke"}[verb]
	return managedRefusal(fmt.Sprintf("%s membership of %s", op, what), settingLDAPRoomsMap, groups, what)
}

// roomRoleHolders are a room's role holders (channels.roles /
// groups.roles).
type roomRoleHolders []client.RoomRoleHolder

func (s *roomSyncer) roomRoles(ctx context.Context, ch *roomChange) (roomRoleHolders, error) {
	holders, err := s.c.client.RoomRoles(ctx, ch.room.Type, ch.room.ID)
	if err != nil {
		return nil, ch.failure("reading the room's roles", err)
	}
	return holders, nil
}

// holds reports whether userID holds role in the room.
func (h roomRoleHolders) holds(userID, role string) bool {
	return slices.ContainsFunc(h, func(r client.RoomRoleHolder) bool { return r.User.ID == userID && slices.Contains(r.Roles, role) })
}

// count is how many members hold role.
func (h roomRoleHolders) count(role string) int {
	n := 0
	for _, r := range h {
		if slices.Contains(r.Roles, role) {
			n++
		}
	}
	return n
}

// failure explains a refused or failed call of the change (step says which
// read failed; "" for the write itself).
func (ch *roomChange) failure(step string, err error) error {
	op := ch.op
	if step != "" {
		op += ": " + step
	}
	switch {
	case client.IsRoomNotFound(err) && ch.room.Type == client.RoomPrivate:
		return status.Errorf(codes.FailedPrecondition,
			"%s: Rocket.Chat lets only a private group's members read or change it (no permission opens a private group to a non-member, "+
				"admins included): add the connector's user to the group, then try again (%v)", op, err)
	case client.IsLastRoomOwner(err):
		return status.Errorf(codes.FailedPrecondition, "%s: %s is the room's last owner; make another member owner first (%v)", op, ch.user.Username, err)
	case status.Code(err) == codes.PermissionDenied:
		return status.Errorf(codes.PermissionDenied, "%s: %v (%s)", op, err, roomWritePermissions(ch.room.Type))
	}
	return guardError(op, err)
}

// roomWritePermissions names what a change of a room of type t needs.
func roomWritePermissions(t string) string {
	if t == client.RoomPrivate {
		return "changing a private group's members needs add-user-to-any-p-room and kick-user-from-any-p-room, or the group's own owner role; " +
			"room roles need set-owner, set-moderator or set-leader"
	}
	return "changing a channel's members needs add-user-to-any-c-room, and remove-user with kick-user-from-any-c-room; " +
		"room roles need set-owner, set-moderator or set-leader"
}

func abacSummary(attrs []client.ABACAttribute) string {
	out := make([]string, len(attrs))
	for i, a := range attrs {
		out[i] = a.Key + "=" + strings.Join(a.Values, "|")
	}
	return strings.Join(out, "; ")
}

// roomEntitlementSlug reads "owner" from "room:<id>:owner".
func roomEntitlementSlug(entitlementID, roomID string) (string, error) {
	slug, ok := strings.CutPrefix(entitlementID, "room:"+roomID+":")
	if !ok || (slug != roomMember && !slices.Contains(roomRoles, slug)) {
		return "", status.Errorf(codes.InvalidArgument, "unknown room entitlement %q", entitlementID)
	}
	return slug, nil
}
