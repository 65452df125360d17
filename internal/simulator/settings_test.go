package simulator

import (
	"net/http"
	"strings"
	"testing"
)

func TestSettingsGet(t *testing.T) {
	h := small()
	h.srv.Update(func(ws *Workspace) {
		ws.Settings[SettingLDAPEnable] = true
		ws.Settings[SettingLDAPRolesMap] = `{"cn=admins": "admin"}`
	})
	expect(t, h.get(t, "/api/v1/settings/LDAP_Enable", &credAdmin), http.StatusOK,
		`{"_id":"LDAP_Enable","value":true,"success":true}`)
	expect(t, h.get(t, "/api/v1/settings/LDAP_Sync_User_Data_RolesMap", &credAdmin), http.StatusOK,
		`{"_id":"LDAP_Sync_User_Data_RolesMap","value":"{\"cn=admins\": \"admin\"}","success":true}`)
	// An unknown (or hidden) setting: API.v1.failure() with no message.
	expect(t, h.get(t, "/api/v1/settings/No_Such_Setting", &credAdmin), http.StatusBadRequest, `{"success":false}`)
	// Without view-privileged-setting: the route's permission middleware.
	expect(t, h.get(t, "/api/v1/settings/LDAP_Enable", &credPlain), http.StatusForbidden,
		`{"success":false,"error":"User does not have the permissions required for this action [error-unauthorized]"}`)
	expectCode(t, h.get(t, "/api/v1/settings/LDAP_Enable", nil), http.StatusUnauthorized)
}

func TestSettingsDefaults(t *testing.T) {
	h := small()
	expect(t, h.get(t, "/api/v1/settings/LDAP_Enable_LDAP_Groups_To_RC_Teams", &credAdmin), http.StatusOK,
		`{"_id":"LDAP_Enable_LDAP_Groups_To_RC_Teams","value":false,"success":true}`)
}

// Rocket.Chat's limiter keys a route by its pattern: every setting id
// spends the one settings/:_id budget.
func TestSettingsShareOneRateBudget(t *testing.T) {
	h := newHarness(smallWorkspace(), Options{RateLimitCalls: 2})
	h.srv.Update(func(ws *Workspace) {
		ws.Permissions["view-privileged-setting"] = append(ws.Permissions["view-privileged-setting"], readerRoleID)
	})
	expectCode(t, h.get(t, "/api/v1/settings/LDAP_Enable", &credReader), http.StatusOK)
	expectCode(t, h.get(t, "/api/v1/settings/LDAP_Sync_User_Data_Roles", &credReader), http.StatusOK)
	expectCode(t, h.get(t, "/api/v1/settings/LDAP_Groups_To_Rocket_Chat_Teams", &credReader), http.StatusTooManyRequests)
	if got := h.srv.Stats().Calls["GET settings/:_id"]; got != 3 {
		t.Errorf("calls counted %d, want 3", got)
	}
}

// settings.oauth lists enabled services without their secrets; custom ones
// with their role sync configuration.
func TestSettingsOAuth(t *testing.T) {
	h := small()
	h.srv.Update(func(ws *Workspace) {
		ws.LoginServices = []*LoginService{
			{Service: "google", ClientID: "g-client", Secret: "g-secret"},
			{Service: "corp", Custom: true, ClientID: "c-client", Secret: "c-secret", MergeRoles: true, RolesClaim: "roles", RolesToSync: "admin,support"},
		}
	})
	r := h.get(t, "/api/v1/settings.oauth", &credAdmin)
	expectCode(t, r, http.StatusOK)
	if strings.Contains(r.raw, "secret") {
		t.Errorf("settings.oauth shows a secret: %s", r.raw)
	}
	services := items(t, r, "services")
	if len(services) != 2 {
		t.Fatalf("services %v, want 2", services)
	}
	custom := services[1]
	if custom["service"] != "corp" || custom["custom"] != true || custom["mergeRoles"] != true || custom["rolesToSync"] != "admin,support" {
		t.Errorf("custom service %v", custom)
	}
	if services[0]["name"] != "google" || services[0]["mergeRoles"] != nil {
		t.Errorf("built-in service %v", services[0])
	}
}
