package simulator

// This file names the Rocket.Chat identifiers the simulator shares between
// its seed data, its permission checks and the documents it renders. The
// exported Setting* ids live in settings.go, the Integration* types in
// integrations.go.

// Role ids of the protected roles Rocket.Chat seeds (through
// createOrUpdateProtectedRoleAsync, apps/meteor/server/lib/roles/); a
// built-in role's id is also its name. The Subscriptions-scoped ones
// (owner, moderator, leader) are what team members and room subscriptions
// hold as team roles.
const (
	roleAdmin             = "admin"
	roleModerator         = "moderator"
	roleLeader            = "leader"
	roleOwner             = "owner"
	roleUser              = "user"
	roleFederatedExternal = "federated-external"
	roleBot               = "bot"
	roleApp               = "app"
	roleGuest             = "guest"
	roleAnonymous         = "anonymous"
	roleLivechatAgent     = "livechat-agent"
	roleLivechatManager   = "livechat-manager"
	// roleLivechatMonitor is an Enterprise role; the simulator does not
	// seed it, but the default permissions name it.
	roleLivechatMonitor = "livechat-monitor"
)

// Role scopes (IRole.scope): a Users role is held globally, in the user's
// roles; a Subscriptions role per room, in a subscription's roles.
const (
	scopeUsers         = "Users"
	scopeSubscriptions = "Subscriptions"
)

// User types (IUser.type in packages/core-typings/src/IUser.ts).
const (
	userTypeUser = "user"
	userTypeBot  = "bot"
	userTypeApp  = "app"
)

// User presence statuses (UserStatus in packages/core-typings), which
// statusConnection also takes.
const (
	statusOnline   = "online"
	statusAway     = "away"
	statusBusy     = "busy"
	statusOffline  = "offline"
	statusDisabled = "disabled"
)

// Values of IUser.inactiveReason.
const (
	inactiveDeactivated     = "deactivated"
	inactivePendingApproval = "pending_approval"
	inactiveIdleTooLong     = "idle_too_long"
)

// rocketCat is the id and username of the bot account Rocket.Chat creates
// at installation.
const rocketCat = "rocket.cat"

// Permission ids the simulated endpoints check, as seeded in
// app/authorization/server/constant/permissions.ts (see defaultPermissions).
const (
	permAccessPermissions             = "access-permissions"
	permAddTeamMember                 = "add-team-member"
	permAddUserToAnyCRoom             = "add-user-to-any-c-room"
	permAddUserToAnyPRoom             = "add-user-to-any-p-room"
	permAddUserToJoinedRoom           = "add-user-to-joined-room"
	permAPIBypassRateLimit            = "api-bypass-rate-limit" //nolint:gosec // G101 false positive: a permission id, "Bypass" trips the credential-name pattern
	permAssignAdminRole               = "assign-admin-role"
	permCreateUser                    = "create-user"
	permDeleteUser                    = "delete-user"
	permEditOtherUserActiveStatus     = "edit-other-user-active-status"
	permEditTeamMember                = "edit-team-member"
	permKickUserFromAnyCRoom          = "kick-user-from-any-c-room"
	permKickUserFromAnyPRoom          = "kick-user-from-any-p-room"
	permLogoutOtherUser               = "logout-other-user"
	permManageIncomingIntegrations    = "manage-incoming-integrations"
	permManageModerationActions       = "manage-moderation-actions"
	permManageOAuthApps               = "manage-oauth-apps"
	permManageOutgoingIntegrations    = "manage-outgoing-integrations"
	permManageOwnIncomingIntegrations = "manage-own-incoming-integrations"
	permManageOwnOutgoingIntegrations = "manage-own-outgoing-integrations"
	permRemoveUser                    = "remove-user"
	permSetLeader                     = "set-leader"
	permSetModerator                  = "set-moderator"
	permSetOwner                      = "set-owner"
	permViewAllTeams                  = "view-all-teams"
	permViewBroadcastMemberList       = "view-broadcast-member-list"
	permViewCRoom                     = "view-c-room"
	permViewDRoom                     = "view-d-room"
	permViewFullOtherUserInfo         = "view-full-other-user-info"
	permViewJoinedRoom                = "view-joined-room"
	permViewLRoom                     = "view-l-room"
	permViewLivechatManager           = "view-livechat-manager"
	permViewLivechatRooms             = "view-livechat-rooms"
	permViewOtherUserChannels         = "view-other-user-channels"
	permViewOutsideRoom               = "view-outside-room"
	permViewPRoom                     = "view-p-room"
	permViewPrivilegedSetting         = "view-privileged-setting"
	permViewRoomAdministration        = "view-room-administration"
	permViewStatistics                = "view-statistics"
)

// Meteor.Error codes several handlers throw; an answer carries the code as
// its errorType (see meteorError).
const (
	errorTypeActionNotAllowed = "error-action-not-allowed"
	errorTypeNotAllowed       = "error-not-allowed"
	errorTypeInvalidUser      = "error-invalid-user"
	errorTypeInvalidRoleID    = "error-invalid-roleId"
	errorTypeFieldUnavailable = "error-field-unavailable"
	errorTypeInvalidParams    = "invalid-params"
	errorTypeRoomNotFound     = "error-room-not-found"
	errorTypeRoomArchived     = "error-room-archived"
	errorTypeUserNotInRoom    = "error-user-not-in-room"
	errorTypeInvalidRoom      = "error-invalid-room"
)

// Messages of API.v1.failure answers that several handlers give: the Team
// service's errors (apps/meteor/server/services/team/service.ts) and the
// roles endpoints' missing roleId.
const (
	msgTeamDoesNotExist      = "team-does-not-exist"
	msgInvalidUser           = "invalid-user"
	msgInvalidRoleProperties = "error-invalid-role-properties"
)

// JSON keys of the documents and envelopes the server sends, which are
// also the names of the request parameters that carry the same fields.
const (
	keyID                    = "_id"
	keyUpdatedAt             = "_updatedAt"
	keyAction                = "action"
	keyActive                = "active"
	keyABACAttributes        = "abacAttributes"
	keyBio                   = "bio"
	keyChannel               = "channel"
	keyCount                 = "count"
	keyCreatedAt             = "createdAt"
	keyEmail                 = "email"
	keyEmails                = "emails"
	keyError                 = "error"
	keyErrorType             = "errorType"
	keyFederated             = "federated"
	keyFederation            = "federation"
	keyField                 = "field"
	keyFields                = "fields"
	keyFreeSwitchExtension   = "freeSwitchExtension"
	keyImportID              = "importId"
	keyLastLogin             = "lastLogin"
	keyMembers               = "members"
	keyMessage               = "message"
	keyName                  = "name"
	keyClientID              = "clientId"
	keyNameInsensitive       = "nameInsensitive"
	keyNickname              = "nickname"
	keyOffset                = "offset"
	keyPassword              = "password"
	keyProfile               = "profile"
	keyQuery                 = "query"
	keyRequirePasswordChange = "requirePasswordChange"
	keyRole                  = "role"
	keyRoles                 = "roles"
	keyRoomID                = "roomId"
	keyRoomName              = "roomName"
	keyRID                   = "rid"
	keyRoomType              = "t"
	keyFName                 = "fname"
	keyTS                    = "ts"
	keyUsersCount            = "usersCount"
	keyMsgs                  = "msgs"
	keyTeamMain              = "teamMain"
	keyPrid                  = "prid"
	keyArchived              = "archived"
	keyReadOnly              = "ro"
	keyDefault               = "default"
	keyFeatured              = "featured"
	keyBroadcast             = "broadcast"
	keyFilter                = "filter"
	keyTypes                 = "types"
	keyUnread                = "unread"
	keySettings              = "settings"
	keySort                  = "sort"
	keyStatus                = "status"
	keyStatusConnection      = "statusConnection"
	keySuccess               = "success"
	keyTeamID                = "teamId"
	keyTeamName              = "teamName"
	keyTotal                 = "total"
	keyType                  = "type"
	keyUser                  = "user"
	keyUserID                = "userId"
	keyUsername              = "username"
	keyUsers                 = "users"
	keyVersion               = "version"
)
