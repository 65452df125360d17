package simulator

import (
	"net/http"
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
