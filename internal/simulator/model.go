package simulator

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Email is one entry of a user's emails array.
type Email struct {
	Address  string
	Verified bool
}

// User is a Rocket.Chat user document. Empty strings and nil pointers stand
// for fields absent from the document; the server omits them from JSON.
type User struct {
	ID, Username, Name string
	Emails             []Email
	// Type is "user", "bot" or "app"; empty means "user".
	Type   string
	Active bool
	// Roles holds global role ids.
	Roles []string
	// Status is the presence: online, away, busy or offline (empty means offline).
	Status string
	// LastLogin is nil for users who never logged in.
	LastLogin *time.Time
	CreatedAt time.Time
	// Federated marks remote Matrix users; with FederationOrigin set, the
	// document also carries federation{version,mui,origin}.
	Federated        bool
	FederationOrigin string
	// InactiveReason is "", "deactivated", "pending_approval" or "idle_too_long".
	InactiveReason        string
	RequirePasswordChange bool
	Nickname, Bio         string
	Password              string
	// Tokens are login tokens and personal access tokens, kept in plain text:
	// a request authenticates with X-User-Id = ID and X-Auth-Token = one of them.
	Tokens []string
	// StatusLivechat is the omnichannel agent status livechat/users/agent
	// sets up ("not-available") and its removal clears.
	StatusLivechat string
}

// Role is a Rocket.Chat role. Scope is "Users" (global) or "Subscriptions"
// (held per room, for teams per team main room).
type Role struct {
	ID, Name, Description, Scope string
	Protected, Mandatory2FA      bool
}

// TeamMember is one row of a team's membership. Roles holds team roles such
// as "owner", "moderator" or "leader"; it is nil for plain members (the key
// is then absent from the API), while an empty non-nil slice is sent as [].
type TeamMember struct {
	UserID    string
	Roles     []string
	CreatedAt time.Time
	// CreatedByID and CreatedByUsername name who added the member; empty means
	// the team's creator.
	CreatedByID, CreatedByUsername string
}

// Subscription is a subscription to a team's main room
// (rocketchat_subscription) held by a user without a membership row
// (rocketchat_team_member). Roles holds its room roles; nil means the
// document has none.
type Subscription struct {
	UserID string
	Roles  []string
}

// Team is a Rocket.Chat team with its membership.
type Team struct {
	ID, Name string
	// Type is 0 for public and 1 for private teams.
	Type int
	// RoomID is the team's main room; room-scoped role checks use it.
	RoomID                         string
	CreatedAt                      time.Time
	CreatedByID, CreatedByUsername string
	// Members are the membership rows. Every member is also subscribed to
	// the main room; the model keeps one set of roles for both, so a
	// member's subscription is not listed in RoomSubscribers.
	Members []TeamMember
	// RoomSubscribers are users subscribed to the main room who have no
	// membership row — for instance the users of a room converted into a
	// team, as Team.create (apps/meteor/server/services/team/service.ts)
	// writes rows only for the members it is given and the owner. Room
	// permissions, roles.* and users.info's rooms see their subscriptions;
	// teams.members, teams.list and users.listTeams do not; and
	// teams.addMembers cannot turn them into members (see SubscribeToMainRoom).
	RoomSubscribers []Subscription
}

// Workspace is the whole simulated data set.
type Workspace struct {
	Users []*User
	Roles []*Role
	Teams []*Team
	// Rooms are the rooms other than teams' main rooms (rooms_model.go).
	Rooms []*Room
	// Permissions maps a permission id to the role ids holding it.
	Permissions map[string][]string
	// Integrations are the incoming and outgoing webhook integrations, in
	// storage order; OAuthApps the OAuth applications (integrations.go).
	Integrations []*Integration
	OAuthApps    []*OAuthApp
	// Settings are workspace settings by id, as GET settings/:_id serves
	// them (settings.go); an id not here is an unknown or hidden setting.
	Settings map[string]any
	// LoginServices are the enabled sign-in services settings.oauth lists.
	LoginServices []*LoginService

	// users and subs are the handlers' indexes (index.go), checked
	// against the workspace on every use.
	users *userIndex
	subs  *subscriptionIndex
}

// Team types.
const (
	teamPublic  = 0
	teamPrivate = 1
)

// builtinRoles are the protected roles Rocket.Chat seeds; their id is their name.
var builtinRoles = []Role{
	{ID: roleAdmin, Name: roleAdmin, Description: "Admin", Scope: scopeUsers, Protected: true},
	{ID: roleModerator, Name: roleModerator, Description: "Moderator", Scope: scopeSubscriptions, Protected: true},
	{ID: roleLeader, Name: roleLeader, Description: "Leader", Scope: scopeSubscriptions, Protected: true},
	{ID: roleOwner, Name: roleOwner, Description: "Owner", Scope: scopeSubscriptions, Protected: true},
	{ID: roleUser, Name: roleUser, Scope: scopeUsers, Protected: true},
	{ID: roleFederatedExternal, Name: roleFederatedExternal, Scope: scopeUsers, Protected: true},
	{ID: roleBot, Name: roleBot, Scope: scopeUsers, Protected: true},
	{ID: roleApp, Name: roleApp, Scope: scopeUsers, Protected: true},
	{ID: roleGuest, Name: roleGuest, Scope: scopeUsers, Protected: true},
	{ID: roleAnonymous, Name: roleAnonymous, Scope: scopeUsers, Protected: true},
	{ID: roleLivechatAgent, Name: roleLivechatAgent, Description: "Livechat Agent", Scope: scopeUsers, Protected: true},
	{ID: roleLivechatManager, Name: roleLivechatManager, Description: "Livechat Manager", Scope: scopeUsers, Protected: true},
}

// defaultPermissions copies Rocket.Chat's seeded defaults
// (app/authorization/server/constant/permissions.ts) for the permissions the
// simulated endpoints consult, plus a few neighbours so listings look real.
// The consulted ones are named by the perm* constants (names.go); the
// neighbours, which no code checks, keep their literal ids.
var defaultPermissions = map[string][]string{
	permAccessPermissions:               {roleAdmin},
	permAddTeamMember:                   {roleAdmin, roleOwner, roleModerator},
	permAddUserToAnyCRoom:               {roleAdmin},
	permAddUserToAnyPRoom:               {},
	permAddUserToJoinedRoom:             {roleAdmin, roleOwner, roleModerator},
	permAPIBypassRateLimit:              {roleAdmin, roleBot, roleApp},
	permAssignAdminRole:                 {roleAdmin},
	"assign-roles":                      {roleAdmin},
	"create-personal-access-tokens":     {roleAdmin, roleUser},
	"create-team":                       {roleAdmin, roleUser},
	permCreateUser:                      {roleAdmin},
	"delete-team":                       {roleAdmin, roleOwner},
	permDeleteUser:                      {roleAdmin},
	permEditOtherUserActiveStatus:       {roleAdmin},
	"edit-other-user-info":              {roleAdmin},
	"edit-other-user-password":          {roleAdmin},
	"edit-team":                         {roleAdmin, roleOwner},
	permEditTeamMember:                  {roleAdmin, roleOwner, roleModerator},
	permKickUserFromAnyCRoom:            {roleAdmin},
	permKickUserFromAnyPRoom:            {},
	permLogoutOtherUser:                 {roleAdmin},
	permManageIncomingIntegrations:      {roleAdmin},
	permManageModerationActions:         {roleAdmin},
	permManageOAuthApps:                 {roleAdmin},
	permManageOutgoingIntegrations:      {roleAdmin},
	permManageOwnIncomingIntegrations:   {roleAdmin},
	permManageOwnOutgoingIntegrations:   {roleAdmin},
	permRemoveUser:                      {roleAdmin, roleOwner, roleModerator},
	"send-many-messages":                {roleAdmin, roleBot, roleApp},
	permSetLeader:                       {roleAdmin, roleOwner},
	permSetModerator:                    {roleAdmin, roleOwner},
	permSetOwner:                        {roleAdmin, roleOwner},
	"view-all-team-channels":            {roleAdmin, roleOwner},
	permViewAllTeams:                    {roleAdmin},
	permViewBroadcastMemberList:         {roleAdmin, roleOwner, roleModerator},
	permViewCRoom:                       {roleAdmin, roleUser, roleFederatedExternal, roleBot, roleApp, roleAnonymous},
	permViewDRoom:                       {roleAdmin, roleUser, roleFederatedExternal, roleBot, roleApp, roleGuest},
	permViewFullOtherUserInfo:           {roleAdmin},
	permViewJoinedRoom:                  {roleGuest, roleBot, roleApp, roleAnonymous},
	permViewLRoom:                       {roleLivechatManager, roleLivechatMonitor, roleLivechatAgent, roleAdmin},
	permViewLivechatManager:             {roleLivechatManager, roleLivechatMonitor, roleAdmin},
	permViewLivechatRooms:               {roleLivechatManager, roleLivechatMonitor, roleAdmin},
	permViewOtherUserChannels:           {roleAdmin},
	permViewOutsideRoom:                 {roleAdmin, roleOwner, roleModerator, roleUser, roleFederatedExternal},
	permViewPRoom:                       {roleAdmin, roleUser, roleFederatedExternal, roleAnonymous, roleGuest},
	permViewRoomAdministration:          {roleAdmin},
	permViewStatistics:                  {roleAdmin},
	"view-user-administration":          {roleAdmin},
	"sync-auth-services-users":          {roleAdmin},
	"get-server-info":                   {roleAdmin},
	"view-logs":                         {roleAdmin},
	permViewPrivilegedSetting:           {roleAdmin},
	"user-generate-access-token":        {roleAdmin},
	"bypass-time-limit-edit-and-delete": {roleBot, roleApp},
}

// NewWorkspace returns a workspace with Rocket.Chat's built-in roles and
// default permissions and no users or teams.
func NewWorkspace() *Workspace {
	w := &Workspace{Permissions: make(map[string][]string, len(defaultPermissions))}
	for i := range builtinRoles {
		r := builtinRoles[i]
		w.Roles = append(w.Roles, &r)
	}
	for p, roles := range defaultPermissions {
		w.Permissions[p] = slices.Clone(roles)
	}
	w.Settings = maps.Clone(defaultSettings)
	return w
}

// AddUser appends u and returns it. A missing ID gets a Rocket.Chat-like one,
// a zero CreatedAt the current time, and empty Type and Status their defaults.
func (w *Workspace) AddUser(u *User) *User {
	if u.ID == "" {
		u.ID = randomID(runtimeRand())
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
	}
	if u.Type == "" {
		u.Type = userTypeUser
	}
	if u.Status == "" {
		u.Status = statusOffline
	}
	w.Users = append(w.Users, u)
	return u
}

// UserByID returns the user with that id, or nil.
func (w *Workspace) UserByID(id string) *User {
	for _, u := range w.Users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

// UserByUsername returns the user with exactly that username, or nil.
func (w *Workspace) UserByUsername(name string) *User {
	if name == "" {
		return nil
	}
	for _, u := range w.Users {
		if u.Username == name {
			return u
		}
	}
	return nil
}

// userByUsernameFold matches like Users.findOneByUsernameIgnoringCase.
func (w *Workspace) userByUsernameFold(name string) *User {
	if name == "" {
		return nil
	}
	for _, u := range w.Users {
		if strings.EqualFold(u.Username, name) {
			return u
		}
	}
	return nil
}

// userByEmail matches an address exactly but case-insensitively, as the
// server's email lookups do.
func (w *Workspace) userByEmail(addr string) *User {
	addr = strings.TrimSpace(addr)
	for _, u := range w.Users {
		for _, e := range u.Emails {
			if strings.EqualFold(strings.TrimSpace(e.Address), addr) {
				return u
			}
		}
	}
	return nil
}

// RoleByID returns the role with that id, or nil.
func (w *Workspace) RoleByID(id string) *Role {
	for _, r := range w.Roles {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// TeamByID returns the team with that id, or nil.
func (w *Workspace) TeamByID(id string) *Team {
	for _, t := range w.Teams {
		if t.ID == id {
			return t
		}
	}
	return nil
}

func (w *Workspace) teamByName(name string) *Team {
	for _, t := range w.Teams {
		if t.Name == name {
			return t
		}
	}
	return nil
}

func (w *Workspace) teamByRoomID(rid string) *Team {
	for _, t := range w.Teams {
		if t.RoomID == rid {
			return t
		}
	}
	return nil
}

// SubscribeToMainRoom gives userID a subscription to the main room of
// team teamID without a membership row, the state in which Rocket.Chat's
// teams.addMembers answers success but adds nothing: Team.addMembers
// (apps/meteor/server/services/team/service.ts) calls addUserToRoom
// (apps/meteor/server/lib/rooms/addUserToRoom.ts), which returns early when
// the user already has a subscription to the room, before Team.addMember
// writes the rocketchat_team_member row. Members are subscribed already, so
// for them, as for a second call, it does nothing. It fails only for an
// unknown team or user.
func (w *Workspace) SubscribeToMainRoom(teamID, userID string) error {
	t := w.TeamByID(teamID)
	if t == nil {
		return fmt.Errorf("simulator: no team %q", teamID)
	}
	if w.UserByID(userID) == nil {
		return fmt.Errorf("simulator: no user %q", userID)
	}
	if !t.subscribed(userID) {
		t.RoomSubscribers = append(t.RoomSubscribers, Subscription{UserID: userID})
	}
	return nil
}

func (w *Workspace) removeTeam(t *Team) {
	w.Teams = slices.DeleteFunc(w.Teams, func(x *Team) bool { return x == t })
}

func (w *Workspace) removeUser(u *User) {
	w.Users = slices.DeleteFunc(w.Users, func(x *User) bool { return x == u })
}

// Clone returns a deep copy, so a test can snapshot a workspace before a
// server mutates it.
func (w *Workspace) Clone() *Workspace {
	c := &Workspace{Permissions: make(map[string][]string, len(w.Permissions))}
	for _, u := range w.Users {
		cu := *u
		cu.Emails = slices.Clone(u.Emails)
		cu.Roles = slices.Clone(u.Roles)
		cu.Tokens = slices.Clone(u.Tokens)
		if u.LastLogin != nil {
			t := *u.LastLogin
			cu.LastLogin = &t
		}
		c.Users = append(c.Users, &cu)
	}
	for _, r := range w.Roles {
		cr := *r
		c.Roles = append(c.Roles, &cr)
	}
	for _, t := range w.Teams {
		ct := *t
		ct.Members = make([]TeamMember, len(t.Members))
		for i, m := range t.Members {
			m.Roles = slices.Clone(m.Roles) // keeps nil as nil
			ct.Members[i] = m
		}
		ct.RoomSubscribers = slices.Clone(t.RoomSubscribers) // keeps nil as nil
		for i := range ct.RoomSubscribers {
			ct.RoomSubscribers[i].Roles = slices.Clone(ct.RoomSubscribers[i].Roles)
		}
		c.Teams = append(c.Teams, &ct)
	}
	for _, r := range w.Rooms {
		c.Rooms = append(c.Rooms, r.clone())
	}
	for p, roles := range w.Permissions {
		c.Permissions[p] = slices.Clone(roles)
	}
	for _, it := range w.Integrations {
		c.Integrations = append(c.Integrations, it.clone())
	}
	for _, app := range w.OAuthApps {
		ca := *app
		c.OAuthApps = append(c.OAuthApps, &ca)
	}
	c.Settings = maps.Clone(w.Settings)
	for _, ls := range w.LoginServices {
		cl := *ls
		c.LoginServices = append(c.LoginServices, &cl)
	}
	return c
}

// member returns the membership row of uid in t, or nil.
func (t *Team) member(uid string) *TeamMember {
	for i := range t.Members {
		if t.Members[i].UserID == uid {
			return &t.Members[i]
		}
	}
	return nil
}

// subscriber returns uid's subscription to the main room when uid has one
// without being a member, or nil.
func (t *Team) subscriber(uid string) *Subscription {
	for i := range t.RoomSubscribers {
		if t.RoomSubscribers[i].UserID == uid {
			return &t.RoomSubscribers[i]
		}
	}
	return nil
}

// subscriptionRoles returns the roles of uid's subscription to the main
// room — a member's roles, or a plain subscriber's — or nil when uid is not
// subscribed. Room-scoped permissions and roles read these.
func (t *Team) subscriptionRoles(uid string) *[]string {
	if m := t.member(uid); m != nil {
		return &m.Roles
	}
	if sub := t.subscriber(uid); sub != nil {
		return &sub.Roles
	}
	return nil
}

// subscribed reports whether uid is subscribed to the main room.
func (t *Team) subscribed(uid string) bool { return t.subscriptionRoles(uid) != nil }

// unsubscribe removes uid's subscription to the main room without touching
// a membership row (removeUserFromRoom for a non-member).
func (t *Team) unsubscribe(uid string) {
	t.RoomSubscribers = slices.DeleteFunc(t.RoomSubscribers, func(s Subscription) bool { return s.UserID == uid })
}

func (t *Team) ownerCount() int {
	n := 0
	for _, m := range t.Members {
		if slices.Contains(m.Roles, roleOwner) {
			n++
		}
	}
	return n
}

func (t *Team) removeMember(uid string) {
	t.Members = slices.DeleteFunc(t.Members, func(m TeamMember) bool { return m.UserID == uid })
}

// hasPermission answers like Rocket.Chat's hasPermissionAsync: the user's
// global roles, plus — when the check is scoped to a team's main room — the
// roles of the user's subscription to that room.
func (w *Workspace) hasPermission(u *User, perm string, scope *Team) bool {
	holders := w.Permissions[perm]
	if len(holders) == 0 || u == nil {
		return false
	}
	for _, r := range u.Roles {
		if slices.Contains(holders, r) {
			return true
		}
	}
	if scope != nil {
		if roles := scope.subscriptionRoles(u.ID); roles != nil {
			for _, r := range *roles {
				if slices.Contains(holders, r) {
					return true
				}
			}
		}
	}
	return false
}

// userType and userStatus apply the defaults of users added without them.
func (u *User) userType() string {
	if u.Type == "" {
		return userTypeUser
	}
	return u.Type
}

func (u *User) userStatus() string {
	if u.Status == "" {
		return statusOffline
	}
	return u.Status
}

func (u *User) hasToken(token string) bool {
	return token != "" && slices.Contains(u.Tokens, token)
}

// idAlphabet is the alphabet of Meteor's Random.id().
const idAlphabet = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"

func randomID(r *rand.Rand) string {
	b := make([]byte, 17)
	for i := range b {
		b[i] = idAlphabet[r.IntN(len(idAlphabet))]
	}
	return string(b)
}

// runtimeRand serves ids minted while serving (users.create, AddUser without
// an id); those need to be unique, not reproducible.
func runtimeRand() *rand.Rand {
	return rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())) //nolint:gosec // ids need uniqueness, not secrecy
}
