package connector

import (
	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
)

// Resource type ids are a contract with ConductorOne and other tools. Each
// type's CapabilityPermissions name the Rocket.Chat permissions its sync
// needs, then those its changes need (the README's "Permissions the token's
// user needs" says which is which). Every sync checks view-d-room and
// view-full-other-user-info first (validate.go requireSync), so every type
// that syncs through that check names them.
var (
	userResourceType = v2.ResourceType_builder{
		Id:          "user",
		DisplayName: "User",
		Description: "A Rocket.Chat account: a person, a bot or an app user.",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_USER},
		Annotations: annotations.New(&v2.SkipEntitlementsAndGrants{}, capabilityPermissions(
			client.PermViewDirectRoom, client.PermViewFullOtherUserInfo,
			client.PermCreateUser, client.PermEditOtherUserActiveStatus, client.PermDeleteUser, client.PermLogoutOtherUser)),
	}.Build()
	roleResourceType = v2.ResourceType_builder{
		Id:          "role",
		DisplayName: "Role",
		Description: "A Rocket.Chat role, built-in or custom. Workspace-scoped roles are assigned to users; room-scoped roles are held per room or team.",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_ROLE},
		// Every role's holders come from one pass over the users.
		Annotations: annotations.New(&v2.TypeScopedGrants{}, capabilityPermissions(
			client.PermViewDirectRoom, client.PermViewFullOtherUserInfo,
			client.PermAccessPermissions, client.PermAssignAdminRole, client.PermViewLivechatManager)),
	}.Build()
	teamResourceType = v2.ResourceType_builder{
		Id:          "team",
		DisplayName: "Team",
		Description: "A Rocket.Chat team, public or private, with its members and their team roles.",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_GROUP},
		Annotations: annotations.New(capabilityPermissions(
			client.PermViewDirectRoom, client.PermViewFullOtherUserInfo, client.PermViewAllTeams,
			client.PermAddTeamMember, client.PermEditTeamMember)),
	}.Build()
	permissionResourceType = v2.ResourceType_builder{
		Id:          "permission",
		DisplayName: "Permission",
		Description: "A Rocket.Chat permission and the roles that hold it; through a workspace role, every holder of the role holds it.",
		// Every permission's holders come from one pass over
		// permissions.listAll, which needs authentication only.
		Annotations: annotations.New(&v2.TypeScopedGrants{}, capabilityPermissions(
			client.PermViewDirectRoom, client.PermViewFullOtherUserInfo)),
	}.Build()
)

// roomResourceType is opt-in: ResourceSyncers offers it only to a sync
// that asks for it by name, so that a default sync costs what it did
// before rooms (room.go).
var roomResourceType = v2.ResourceType_builder{
	Id:          "room",
	DisplayName: "Room",
	Description: "A Rocket.Chat room: a public channel, a private group or a discussion, with its members and their room roles " +
		"(owner, moderator, leader). Team main rooms are their teams; direct messages and omnichannel rooms are not synced. " +
		"Opt-in. Listed with view-room-administration, members read with view-c-room, view-joined-room and view-broadcast-member-list; " +
		"the members of private groups " +
		"the token's user is not in need view-other-user-channels: they are read from each user's rooms, one call per user, which a " +
		"rate-limited token makes only when that takes no longer than the rest of the sync, or with all-room-memberships on.",
	Traits: []v2.ResourceType_Trait{v2.ResourceType_TRAIT_GROUP},
	Annotations: annotations.New(&v2.OptInRequired{}, capabilityPermissions(
		client.PermViewDirectRoom, client.PermViewFullOtherUserInfo, client.PermViewRoomAdministration, client.PermViewCRoom,
		client.PermViewJoinedRoom, client.PermViewBroadcastMemberList, client.PermViewOtherUserChannels,
		client.PermAddUserToAnyCRoom, client.PermAddUserToAnyPRoom, client.PermKickUserFromAnyCRoom, client.PermKickUserFromAnyPRoom,
		client.PermRemoveUser, client.PermSetOwner, client.PermSetModerator, client.PermSetLeader)),
}.Build()

// The non-human identity types. Listing them needs permissions a governance
// role may not hold: ResourceSyncers offers each one only when the token's
// user can list it (see validate.go), so a type is never offered as an empty
// listing that reads as "there are none". Their CapabilityPermissions name
// the permission a complete listing needs, after the two every sync needs.
var (
	incomingWebhookResourceType = v2.ResourceType_builder{
		Id:          "incoming-webhook",
		DisplayName: "Incoming webhook",
		Description: "A Rocket.Chat incoming webhook integration: a secret URL that lets whoever holds it post as the integration's account. " +
			"Listed with manage-incoming-integrations (all of them) or manage-own-incoming-integrations (only the token's user's own).",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_SECRET},
		Annotations: annotations.New(&v2.SkipEntitlementsAndGrants{}, capabilityPermissions(client.PermViewDirectRoom, client.PermViewFullOtherUserInfo, permManageIncoming)),
	}.Build()
	outgoingWebhookResourceType = v2.ResourceType_builder{
		Id:          "outgoing-webhook",
		DisplayName: "Outgoing webhook",
		Description: "A Rocket.Chat outgoing webhook integration: on an event it sends messages to its target URLs with its token, and posts their answers as the integration's account. " +
			"Listed with manage-outgoing-integrations (all of them) or manage-own-outgoing-integrations (only the token's user's own).",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_SECRET},
		Annotations: annotations.New(&v2.SkipEntitlementsAndGrants{}, capabilityPermissions(client.PermViewDirectRoom, client.PermViewFullOtherUserInfo, permManageOutgoing)),
	}.Build()
	oauthAppResourceType = v2.ResourceType_builder{
		Id:          "oauth-app",
		DisplayName: "OAuth app",
		Description: "A Rocket.Chat OAuth application (Third-party login): a client registration whose secret lets an outside application act for the users who authorize it. " +
			"Listed with manage-oauth-apps.",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_APP},
		Annotations: annotations.New(&v2.SkipEntitlementsAndGrants{}, capabilityPermissions(client.PermViewDirectRoom, client.PermViewFullOtherUserInfo, permManageOAuthApps)),
	}.Build()
)

// capabilityPermissions names, in the connector's capabilities, the
// Rocket.Chat permissions a resource type needs.
func capabilityPermissions(perms ...string) *v2.CapabilityPermissions {
	list := make([]*v2.CapabilityPermission, len(perms))
	for i, p := range perms {
		list[i] = v2.CapabilityPermission_builder{Permission: p}.Build()
	}
	return v2.CapabilityPermissions_builder{Permissions: list}.Build()
}
