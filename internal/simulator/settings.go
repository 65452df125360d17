package simulator

import (
	"fmt"
	"strings"
)

// Setting ids the simulator seeds, with Rocket.Chat's defaults
// (apps/meteor/server/settings/ldap.ts and apps/meteor/ee/server/settings/ldap.ts).
const (
	SettingLDAPEnable      = "LDAP_Enable"
	SettingLDAPSyncRoles   = "LDAP_Sync_User_Data_Roles"
	SettingLDAPRolesMap    = "LDAP_Sync_User_Data_RolesMap"
	SettingLDAPTeamsEnable = "LDAP_Enable_LDAP_Groups_To_RC_Teams"
	SettingLDAPTeamsMap    = "LDAP_Groups_To_Rocket_Chat_Teams"
	// SettingLDAPRolesAutoRemove makes LDAP sync also take mapped roles
	// away from users outside the mapped groups.
	SettingLDAPRolesAutoRemove = "LDAP_Sync_User_Data_Roles_AutoRemove"
	// SettingLDAPTeamsEachLogin makes LDAP sync set team memberships at
	// every login and background sync, not only when it creates the account.
	SettingLDAPTeamsEachLogin = "LDAP_Validate_Teams_For_Each_Login"
	// SettingSAML enables the SAML provider "Default"
	// (apps/meteor/app/meteor-accounts-saml/server/lib/settings.ts), and
	// SettingSAMLRoleSync makes each SAML login replace the user's roles
	// with the IdP's role attribute (apps/meteor/ee/server/configuration/saml.ts).
	// SettingLDAPRooms turns LDAP channel sync on: at every sync and login
	// LDAP adds users to the rooms SettingLDAPRoomsMap maps their groups to
	// and, with SettingLDAPRoomsEnforce, removes them from mapped rooms of
	// groups they left (syncUserChannels in apps/meteor/ee/server/lib/ldap/Manager.ts).
	SettingLDAPRooms         = "LDAP_Sync_User_Data_Channels"
	SettingLDAPRoomsMap      = "LDAP_Sync_User_Data_ChannelsMap"
	SettingLDAPRoomsEnforce  = "LDAP_Sync_User_Data_Channels_Enforce_AutoChannels"
	defaultLDAPRoomsMap      = "{\n\t\"employee\": \"general\",\n\t\"techsupport\": [\n\t\t\"helpdesk\",\n\t\t\"support\"\n\t]\n}"
	SettingSAML              = "SAML_Custom_Default"
	SettingSAMLRoleSync      = "SAML_Custom_Default_role_attribute_sync"
	defaultLDAPRolesMapValue = "{\n\t\"rocket-admin\": \"admin\",\n\t\"tech-support\": \"support\"\n}"
)

// defaultSettings seeds NewWorkspace's Settings. The role and team maps are
// code settings: JSON held as a string.
var defaultSettings = map[string]any{
	SettingLDAPEnable:      false,
	SettingLDAPSyncRoles:   false,
	SettingLDAPRolesMap:    defaultLDAPRolesMapValue,
	SettingLDAPTeamsEnable: false,
	SettingLDAPTeamsMap:    "{}",

	SettingLDAPRolesAutoRemove: false,
	SettingLDAPRooms:           false,
	SettingLDAPRoomsMap:        defaultLDAPRoomsMap,
	SettingLDAPRoomsEnforce:    false,
	SettingLDAPTeamsEachLogin:  false,
	SettingSAML:                false,
	SettingSAMLRoleSync:        false,
}

// settingsGet serves GET settings/:_id (apps/meteor/app/api/server/v1/settings.ts):
// the route requires view-privileged-setting (the middleware's 403 otherwise);
// an unknown or hidden setting is API.v1.failure() with no message, a bare
// 400 {"success": false}; a known one answers _.pick(setting, '_id', 'value').
func (s *Server) settingsGet(c *call) reply {
	_, id, _ := cutLast(strings.TrimPrefix(c.r.URL.Path, "/api/v1/"))
	v, ok := c.ws.Settings[id]
	if !ok {
		return reply{400, object{{keySuccess, false}}}
	}
	return success(field{keyID, id}, field{"value", v})
}

// LoginService is an enabled sign-in service (a LoginServiceConfiguration
// document). Custom OAuth services carry their role sync configuration.
type LoginService struct {
	Service     string
	Custom      bool
	ClientID    string
	Secret      string
	MergeRoles  bool
	RolesClaim  string
	RolesToSync string
}

// settingsOAuth serves GET settings.oauth (apps/meteor/app/api/server/v1/settings.ts):
// every enabled service without its secret; custom services (and saml, cas,
// wordpress) with their whole configuration, the others as {_id, name, clientId}.
func (s *Server) settingsOAuth(c *call) reply {
	services := []object{}
	for i, ls := range c.ws.LoginServices {
		id := fmt.Sprintf("loginService%08d", i)
		if !ls.Custom {
			services = append(services, object{{keyID, id}, {keyName, ls.Service}, {keyClientID, ls.ClientID}})
			continue
		}
		services = append(services, object{
			{keyID, id}, {"service", ls.Service}, {"custom", true}, {keyClientID, ls.ClientID},
			{"mergeRoles", ls.MergeRoles}, {"rolesClaim", ls.RolesClaim}, {"rolesToSync", ls.RolesToSync},
		})
	}
	return success(field{"services", services})
}
