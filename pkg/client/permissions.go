package client

// The Rocket.Chat permissions this project relies on, in one table: the
// connector checks them before it syncs or changes anything, and the client
// names them when an endpoint refuses. Who holds each by default is in
// docs/rocketchat-api.md §4.7 (from
// apps/meteor/app/authorization/server/constant/permissions.ts).
const (
	// PermViewDirectRoom lets a caller list users (users.list and
	// users.listByStatus, §3.1, §3.2).
	PermViewDirectRoom = "view-d-room"
	// PermViewFullOtherUserInfo makes users.list return emails and roles,
	// and users.info the private fields (§3.2, §3.4).
	PermViewFullOtherUserInfo = "view-full-other-user-info"
	// PermViewAllTeams lets a caller list every team and its members
	// (teams.listAll, teams.members, §5.1, §5.3).
	PermViewAllTeams = "view-all-teams"
	// PermBypassRateLimit exempts the caller from the API rate limiter (§6).
	PermBypassRateLimit = "api-bypass-rate-limit" //nolint:gosec // a permission name, not a credential
	// PermAccessPermissions lets a caller grant and revoke roles (§4.2, §4.3).
	PermAccessPermissions = "access-permissions"
	// PermAssignAdminRole is also needed to grant admin (§4.2).
	PermAssignAdminRole = "assign-admin-role"
	// PermCreateUser lets a caller create users (users.create, §3.5).
	PermCreateUser = "create-user"
	// PermEditOtherUserActiveStatus lets a caller deactivate and reactivate
	// users (users.setActiveStatus, users.deactivateIdle, §3.6, §3.7b).
	PermEditOtherUserActiveStatus = "edit-other-user-active-status"
	// PermDeleteUser lets a caller delete users (users.delete, §3.7).
	PermDeleteUser = "delete-user"
	// PermLogoutOtherUser lets a caller sign another user out (users.logout, §3.7a).
	PermLogoutOtherUser = "logout-other-user"
	// PermViewLivechatManager lets a caller add and remove omnichannel
	// agents and managers (livechat/users/agent|manager, §3.7c).
	PermViewLivechatManager = "view-livechat-manager"
	// PermAddTeamMember and PermEditTeamMember are checked on the team's
	// room, so a team owner holds them for that team (§4.6, §5.4-§5.6).
	PermAddTeamMember  = "add-team-member"
	PermEditTeamMember = "edit-team-member"
	// PermViewPrivilegedSetting lets a caller read settings such as the
	// LDAP and SAML mappings (settings/:_id, §7.6).
	PermViewPrivilegedSetting = "view-privileged-setting"
	// The integration permissions list incoming and outgoing webhooks
	// (integrations.list, §7.3); the manage-own-* forms list only the
	// caller's own.
	PermManageIncomingIntegrations    = "manage-incoming-integrations"
	PermManageOwnIncomingIntegrations = "manage-own-incoming-integrations"
	PermManageOutgoingIntegrations    = "manage-outgoing-integrations"
	PermManageOwnOutgoingIntegrations = "manage-own-outgoing-integrations"
	// PermManageOAuthApps lists OAuth apps (oauth-apps.list, §7.4).
	PermManageOAuthApps = "manage-oauth-apps"
	// PermViewRoomAdministration lists every room (rooms.adminRooms, §10).
	PermViewRoomAdministration = "view-room-administration"
	// PermViewCRoom lets a caller read public channels outside teams and
	// those of public teams (canAccessRoom, §10); PermViewJoinedRoom the
	// rooms it is in.
	PermViewCRoom      = "view-c-room"
	PermViewJoinedRoom = "view-joined-room"
	// PermViewBroadcastMemberList lets a caller list a broadcast room's
	// members (channels.members, groups.members; §10).
	PermViewBroadcastMemberList = "view-broadcast-member-list"
	// PermViewOtherUserChannels lets users.info list another user's rooms,
	// private groups included (§10).
	PermViewOtherUserChannels = "view-other-user-channels"
	// Room membership changes by a caller who is not in the room: public
	// rooms with the -c- permissions, private groups with the -p- ones
	// (§10); kicking also needs remove-user, checked on the room.
	PermAddUserToAnyCRoom    = "add-user-to-any-c-room"
	PermAddUserToAnyPRoom    = "add-user-to-any-p-room"
	PermKickUserFromAnyCRoom = "kick-user-from-any-c-room"
	PermKickUserFromAnyPRoom = "kick-user-from-any-p-room"
	PermRemoveUser           = "remove-user"
	// Room roles, checked on the room (a room owner holds them there).
	PermSetOwner     = "set-owner"
	PermSetModerator = "set-moderator"
	PermSetLeader    = "set-leader"
)

// endpointPermissions names the permission each endpoint the client calls
// checks, so a permission failure can say what to grant (APIError.Permission).
var endpointPermissions = map[string]string{
	string(UsersList):          PermViewDirectRoom,
	string(UsersListByStatus):  PermViewDirectRoom,
	"teams.listAll":            PermViewAllTeams,
	"teams.members":            PermViewAllTeams,
	"roles.addUserToRole":      PermAccessPermissions,
	"roles.removeUserFromRole": PermAccessPermissions,
	"teams.addMembers":         PermAddTeamMember,
	"teams.updateMember":       PermEditTeamMember,
	"teams.removeMember":       PermEditTeamMember,
	"users.create":             PermCreateUser,
	"users.setActiveStatus":    PermEditOtherUserActiveStatus,
	"users.delete":             PermDeleteUser,
	"rooms.adminRooms":         PermViewRoomAdministration,
	"rooms.adminRooms.getRoom": PermViewRoomAdministration,
}
