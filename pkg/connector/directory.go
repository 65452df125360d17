package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
)

// Externally managed access. When Rocket.Chat's LDAP sync maps directory
// groups to roles or teams, it sets those roles and team memberships from the
// directory (LDAPEEManager in apps/meteor/ee/server/lib/ldap/Manager.ts):
//
//   - Roles, at every LDAP sync and login: a user in a mapped group gets the
//     role back if it was taken away; with LDAP_Sync_User_Data_Roles_AutoRemove
//     a user outside the groups also loses it.
//   - Team memberships, when the account is created and, with
//     LDAP_Validate_Teams_For_Each_Login, at every sync and login: both
//     additions and removals. Without that setting a later change stands.
//
// The connector reads the mapping settings (GET settings/:_id, which needs
// view-privileged-setting), marks the grants the directory would restore
// GrantImmutable, and refuses the changes it would undo. SAML role sync
// replaces every role of a user who signs in with SAML; which users do is
// not visible over the REST API, so it is reported, not enforced.
//
// The settings are defined in apps/meteor/server/settings/ldap.ts and
// apps/meteor/ee/server/settings/ldap.ts; the role and team maps are
// Enterprise settings, absent (so answered 400) on Community servers.
const (
	settingLDAPEnable      = "LDAP_Enable"
	settingLDAPSyncRoles   = "LDAP_Sync_User_Data_Roles"
	settingLDAPRolesMap    = "LDAP_Sync_User_Data_RolesMap"
	settingLDAPTeamsEnable = "LDAP_Enable_LDAP_Groups_To_RC_Teams"
	settingLDAPTeamsMap    = "LDAP_Groups_To_Rocket_Chat_Teams"
	settingLDAPAutoRemove  = "LDAP_Sync_User_Data_Roles_AutoRemove"
	settingLDAPTeamsLogin  = "LDAP_Validate_Teams_For_Each_Login"
	// LDAP channel sync (rooms): Enterprise settings too.
	settingLDAPRooms        = "LDAP_Sync_User_Data_Channels"
	settingLDAPRoomsMap     = "LDAP_Sync_User_Data_ChannelsMap"
	settingLDAPRoomsEnforce = "LDAP_Sync_User_Data_Channels_Enforce_AutoChannels"
	settingSAML             = "SAML_Custom_Default"
	settingSAMLRoleSync     = "SAML_Custom_Default_role_attribute_sync"
)

// directoryMapping is who in the directory manages which roles and teams.
type directoryMapping struct {
	// Checked is false when the token's user cannot read the settings:
	// nothing is then known to be managed.
	Checked bool `json:"checked"`
	// Unanswered is set when the server has no settings/:_id route.
	Unanswered bool `json:"unanswered,omitempty"`
	// Roles maps a role id or name, as the role map names it (LDAP
	// matches ids first, then names), to the LDAP groups mapped to it.
	Roles map[string][]string `json:"roles,omitempty"`
	// RolesAutoRemove is set when LDAP sync also takes mapped roles away
	// from users outside the groups: a grant of a mapped role is undone too.
	RolesAutoRemove bool `json:"roles_auto_remove,omitempty"`
	// Teams maps a team name to the LDAP groups mapped to it, when LDAP
	// sync keeps memberships in line after the account's creation.
	Teams map[string][]string `json:"teams,omitempty"`
	// Rooms maps a room name to the LDAP groups whose members LDAP sync
	// adds to it at every sync and login (LDAP_Sync_User_Data_Channels);
	// read only when the sync reads rooms. RoomsEnforced is set when it
	// also removes users who left the groups.
	Rooms         map[string][]string `json:"rooms,omitempty"`
	RoomsEnforced bool                `json:"rooms_enforced,omitempty"`
	// SAMLRoleSync is set when each SAML login replaces the user's roles
	// with the identity provider's.
	SAMLRoleSync bool `json:"saml_role_sync,omitempty"`
	// OAuthRoleSync are the custom OAuth services whose every login sets
	// the user's roles from the identity provider's claim.
	OAuthRoleSync []oauthRoleSync `json:"oauth_role_sync,omitempty"`
}

// oauthRoleSync is one custom OAuth service that merges roles from its
// identity provider (Accounts_OAuth_Custom-<name>-merge_roles).
type oauthRoleSync struct {
	Service string `json:"service"`
	Claim   string `json:"claim,omitempty"`
	// Roles are the roles it keeps in line with the claim (Roles to Sync);
	// empty when the setting names none.
	Roles []string `json:"roles,omitempty"`
}

// affects reports whether the service's role sync touches roleID: one it
// names, or any when it names none (older servers replace every role).
func (o oauthRoleSync) affects(roleID string) bool {
	return len(o.Roles) == 0 || slices.Contains(o.Roles, roleID)
}

// note says what the service's role sync means for role grants.
func (o oauthRoleSync) note() string {
	roles := "the user's roles"
	if len(o.Roles) > 0 {
		roles = "the roles " + strings.Join(o.Roles, ", ")
	}
	return fmt.Sprintf("custom OAuth service %q merges roles from its identity provider (Accounts_OAuth_Custom-%s-merge_roles): each "+
		"login through it sets %s from the %q claim, so a change made in Rocket.Chat for a user who signs in with it is undone "+
		"at that user's next login. Rocket.Chat's API does not show who signs in with it, so those grants are not marked.",
		o.Service, o.Service, roles, o.Claim)
}

// directory reads the mapping once per sync: from the session store when
// an earlier call of the sync read it, else from Rocket.Chat (and stores
// it). Without view-privileged-setting it logs, once per sync, that the
// check is off.
func (c *Connector) directory(ctx context.Context, store shared) (*directoryMapping, error) {
	if m, ok := getJSON[directoryMapping](ctx, store, keyDirectory); ok {
		return &m, nil
	}
	v, err, _ := c.directoryReads.Do(store.syncID, func() (any, error) {
		// A call that waited for another's reading finds it stored.
		if m, ok := getJSON[directoryMapping](ctx, store, keyDirectory); ok {
			return &m, nil
		}
		return c.readAndStoreDirectory(ctx, store)
	})
	if err != nil {
		return nil, err
	}
	return v.(*directoryMapping), nil
}

// readAndStoreDirectory reads the mapping settings, says once what they
// mean for the sync, and keeps them in the store.
func (c *Connector) readAndStoreDirectory(ctx context.Context, store shared) (*directoryMapping, error) {
	m, err := c.readDirectory(ctx)
	if err != nil {
		return nil, syncError("reading the LDAP role and team mappings", err)
	}
	switch {
	case m.Unanswered:
		ctxzap.Extract(ctx).Warn("rocket.chat does not answer settings/:_id (404), so the connector cannot read its LDAP and SAML " +
			"role and team mappings: grants they manage are not marked as externally managed, and changing them is not refused.")
	case !m.Checked:
		ctxzap.Extract(ctx).Info("the token's user lacks view-privileged-setting, so the connector cannot read Rocket.Chat's LDAP " +
			"role and team mappings: grants that LDAP sync manages are not marked as externally managed, and changing them is not " +
			"refused (the next LDAP sync or login would undo the change). Give the user a role that holds view-privileged-setting to turn this check on.")
	}
	if m.SAMLRoleSync {
		ctxzap.Extract(ctx).Warn(samlRoleSyncNote)
	}
	for _, o := range m.OAuthRoleSync {
		ctxzap.Extract(ctx).Warn(o.note())
	}
	setJSON(ctx, store, map[string]*directoryMapping{keyDirectory: m})
	return m, nil
}

// samlRoleSyncNote says what SAML role sync means for role grants.
const samlRoleSyncNote = "SAML role sync is on (" + settingSAMLRoleSync + "): each SAML login replaces the user's workspace roles " +
	"with the identity provider's role attribute, so a role granted or revoked in Rocket.Chat for a user who signs in with SAML " +
	"is undone at that user's next login. Rocket.Chat's API does not show who signs in with SAML, so those grants are not marked; " +
	"manage such users' roles in the identity provider."

// readDirectory reads the mapping settings from Rocket.Chat: two or three
// settings when LDAP is off, at most nine otherwise (every id shares
// settings/:_id's one rate budget, within one window of the default limit),
// and the sign-in services (settings.oauth, one call).
func (c *Connector) readDirectory(ctx context.Context) (*directoryMapping, error) {
	v, err := c.validate(ctx)
	if err != nil {
		return nil, err
	}
	if !v.permissions[client.PermViewPrivilegedSetting] {
		return &directoryMapping{}, nil
	}
	m := &directoryMapping{Checked: true}
	ldap, err := c.boolSetting(ctx, settingLDAPEnable)
	if status.Code(err) == codes.NotFound {
		// The first read of the route: a 404 means the server has no
		// settings/:_id (an unknown id is a bare 400, §7.6). Later, the
		// route has answered, and a 404 is a fault like any other.
		return &directoryMapping{Unanswered: true}, nil
	}
	if err == nil && ldap {
		err = c.readLDAPMapping(ctx, m)
	}
	if err == nil && ldap && c.roomsSelected() {
		err = c.readLDAPRooms(ctx, m)
	}
	if err != nil {
		return c.unlessForbidden(m, err)
	}
	saml, err := c.boolSetting(ctx, settingSAML)
	if err == nil && saml {
		m.SAMLRoleSync, err = c.boolSetting(ctx, settingSAMLRoleSync)
	}
	if err != nil {
		return c.unlessForbidden(m, err)
	}
	// The sign-in services only add warnings: without them the check
	// of custom OAuth role sync is off, and the sync goes on.
	services, err := c.client.LoginServices(ctx)
	if err != nil {
		ctxzap.Extract(ctx).Warn("could not read the sign-in services (settings.oauth); custom OAuth role sync is not checked", zap.Error(err))
	}
	for _, s := range services {
		if s.Custom && s.MergeRoles {
			m.OAuthRoleSync = append(m.OAuthRoleSync, oauthRoleSync{Service: s.Service, Claim: s.RolesClaim, Roles: splitList(s.RolesToSync)})
		}
	}
	return m, nil
}

// splitList reads a comma-separated setting value.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// readLDAPMapping fills in what LDAP sync manages, LDAP being on.
func (c *Connector) readLDAPMapping(ctx context.Context, m *directoryMapping) error {
	on, err := c.boolSetting(ctx, settingLDAPSyncRoles)
	if err != nil {
		return err
	}
	if on {
		raw, err := c.stringSetting(ctx, settingLDAPRolesMap)
		if err != nil {
			return err
		}
		m.Roles = invertGroupMap(raw)
		if m.RolesAutoRemove, err = c.boolSetting(ctx, settingLDAPAutoRemove); err != nil {
			return err
		}
	}
	if on, err = c.boolSetting(ctx, settingLDAPTeamsEnable); err != nil || !on {
		return err
	}
	// Without validation at each login, LDAP sets a user's teams once,
	// when it creates the account: later changes stand.
	if on, err = c.boolSetting(ctx, settingLDAPTeamsLogin); err != nil || !on {
		return err
	}
	raw, err := c.stringSetting(ctx, settingLDAPTeamsMap)
	if err != nil {
		return err
	}
	m.Teams = invertGroupMap(raw)
	return nil
}

// unlessForbidden turns a permission refusal (the permission was taken away
// since the token was checked) into "not checked"; other errors stand.
func (c *Connector) unlessForbidden(m *directoryMapping, err error) (*directoryMapping, error) {
	if status.Code(err) == codes.PermissionDenied {
		return &directoryMapping{}, nil
	}
	return m, err
}

// setting reads one setting; a setting the server does not have (400
// {"success":false}: an Enterprise setting on a Community server) reads as
// absent.
func (c *Connector) setting(ctx context.Context, id string) (json.RawMessage, bool, error) {
	s, err := c.client.GetSetting(ctx, id)
	if err != nil {
		if client.IsSettingAbsent(err) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return s.Value, true, nil
}

func (c *Connector) boolSetting(ctx context.Context, id string) (bool, error) {
	raw, ok, err := c.setting(ctx, id)
	if err != nil || !ok {
		return false, err
	}
	// A value of another type (null) is not "on".
	var b bool
	_ = json.Unmarshal(raw, &b)
	return b, nil
}

func (c *Connector) stringSetting(ctx context.Context, id string) (string, error) {
	raw, ok, err := c.setting(ctx, id)
	if err != nil || !ok {
		return "", err
	}
	// A value of another type maps nothing.
	var s string
	_ = json.Unmarshal(raw, &s)
	return s, nil
}

// invertGroupMap reads a map of LDAP group → target or [targets] (the JSON
// Rocket.Chat keeps in a code setting) into target → sorted groups. A map
// Rocket.Chat could not parse maps nothing, as it does for LDAP sync.
func invertGroupMap(raw string) map[string][]string {
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(strings.TrimSpace(raw)), &m) != nil {
		return nil
	}
	out := map[string][]string{}
	for group, v := range m {
		var targets []string
		var one string
		if json.Unmarshal(v, &one) == nil {
			targets = []string{one}
		} else if json.Unmarshal(v, &targets) != nil {
			continue
		}
		for _, t := range targets {
			if t = strings.TrimSpace(t); t != "" && !slices.Contains(out[t], group) {
				out[t] = append(out[t], group)
			}
		}
	}
	for t := range out {
		slices.Sort(out[t])
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// roleGroups resolves the role map against the workspace's roles as LDAP
// sync does (a value is a role id, else a role name): role id → groups.
func (m *directoryMapping) roleGroups(roles []client.Role) map[string][]string {
	if m == nil || len(m.Roles) == 0 {
		return nil
	}
	out := map[string][]string{}
	for key, groups := range m.Roles {
		idx := slices.IndexFunc(roles, func(r client.Role) bool { return r.ID == key })
		if idx < 0 {
			idx = slices.IndexFunc(roles, func(r client.Role) bool { return r.Name == key })
		}
		if idx < 0 {
			continue
		}
		id := roles[idx].ID
		for _, g := range groups {
			if !slices.Contains(out[id], g) {
				out[id] = append(out[id], g)
			}
		}
		slices.Sort(out[id])
	}
	return out
}

// readLDAPRooms fills in the rooms LDAP channel sync manages
// (syncUserChannels in apps/meteor/ee/server/lib/ldap/Manager.ts): two or
// three more settings.
func (c *Connector) readLDAPRooms(ctx context.Context, m *directoryMapping) error {
	on, err := c.boolSetting(ctx, settingLDAPRooms)
	if err != nil || !on {
		return err
	}
	raw, err := c.stringSetting(ctx, settingLDAPRoomsMap)
	if err != nil {
		return err
	}
	m.Rooms = invertGroupMap(raw)
	m.RoomsEnforced, err = c.boolSetting(ctx, settingLDAPRoomsEnforce)
	return err
}

// roomGroups is the LDAP groups mapped to the room named name.
func (m *directoryMapping) roomGroups(name string) []string {
	if m == nil || name == "" {
		return nil
	}
	return m.Rooms[name]
}

// teamGroups is the LDAP groups mapped to the team named name.
func (m *directoryMapping) teamGroups(name string) []string {
	if m == nil || name == "" {
		return nil
	}
	return m.Teams[name]
}

// mappingText says which groups map to what, for marks and refusals.
func mappingText(groups []string, what string) string {
	quoted := make([]string, len(groups))
	for i, g := range groups {
		quoted[i] = fmt.Sprintf("%q", g)
	}
	noun := "group"
	if len(groups) > 1 {
		noun = "groups"
	}
	return fmt.Sprintf("LDAP %s %s maps to %s", noun, strings.Join(quoted, ", "), what)
}

// immutable is the GrantImmutable mark of a grant LDAP sync manages.
func immutable(setting string, groups []string, what string) *v2.GrantImmutable {
	gs := make([]any, len(groups))
	for i, g := range groups {
		gs[i] = g
	}
	meta, _ := structpb.NewStruct(map[string]any{
		"managed_by": "LDAP",
		"setting":    setting,
		"groups":     gs,
		"mapping":    mappingText(groups, what),
	})
	return v2.GrantImmutable_builder{SourceId: "ldap:" + setting, Metadata: meta}.Build()
}

// managedRefusal refuses a change to access LDAP sync manages.
func managedRefusal(op, setting string, groups []string, what string) error {
	return status.Errorf(codes.FailedPrecondition,
		"cannot %s: it is managed by the directory (%s, Rocket.Chat setting %s), and the next LDAP sync or the user's next login "+
			"would undo the change; change the user's membership of the LDAP group in the directory instead, or take %s out of "+
			"the mapping (Administration > Settings > LDAP)",
		op, mappingText(groups, what), setting, what)
}

// liveDirectory reads the mapping for one provisioning request (no
// session store there).
func (c *Connector) liveDirectory(ctx context.Context) (*directoryMapping, error) {
	m, err := c.readDirectory(ctx)
	if err != nil {
		// Not knowing whether the directory owns the access, change
		// nothing: Aborted says to try again (a NotFound here would
		// read as a missing user or team).
		return nil, syncError("reading the LDAP role and team mappings", err)
	}
	return m, nil
}
