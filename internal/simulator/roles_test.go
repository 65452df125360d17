package simulator

import (
	"net/http"
	"slices"
	"testing"
)

func TestRolesList(t *testing.T) {
	h := small()
	r := h.get(t, "/api/v1/roles.list", &credPlain)
	roles := items(t, r, "roles")
	if len(roles) != len(builtinRoles)+2 || hasKey(r.body, "total") || hasKey(r.body, "count") {
		t.Fatalf("roles.list: %s", r.raw)
	}
	first := roles[0]
	if first["_id"] != "admin" || first["scope"] != "Users" || first["protected"] != true || first["description"] != "Admin" || hasKey(first, "_updatedAt") {
		t.Errorf("admin role: %v", first)
	}
	got := map[string]string{}
	for _, ro := range roles {
		got[ro["name"].(string)] = ro["_id"].(string) + "/" + ro["scope"].(string)
	}
	if got["owner"] != "owner/Subscriptions" || got["federated-external"] != "federated-external/Users" || got["governance-reader"] != readerRoleID+"/Users" {
		t.Errorf("roles: %v", got)
	}
}

func TestPermissionsListAll(t *testing.T) {
	h := small()
	r := h.get(t, "/api/v1/permissions.listAll", &credPlain)
	update := items(t, r, "update")
	found := false
	for _, p := range update {
		if p["_id"] == "view-all-teams" {
			found = true
			if roles := p["roles"].([]any); len(roles) != 2 || roles[1] != readerRoleID {
				t.Errorf("view-all-teams: %v", p)
			}
		}
	}
	if !found || len(r.body["remove"].([]any)) != 0 {
		t.Errorf("permissions.listAll: %s", r.raw)
	}
	if len(items(t, h.get(t, "/api/v1/permissions.listAll?updatedSince=2030-01-01T00:00:00.000Z", &credPlain), "update")) != 0 {
		t.Error("updatedSince in the future should return nothing")
	}
	expectCode(t, h.get(t, "/api/v1/permissions.listAll?updatedSince=fsafdf", &credPlain), http.StatusBadRequest)
}

func TestGetUsersInRole(t *testing.T) {
	h := small()
	r := h.get(t, "/api/v1/roles.getUsersInRole?role=user&count=2", &credReader)
	expectCode(t, r, http.StatusOK)
	if hasKey(r.body, "count") || hasKey(r.body, "offset") || num(r.body["total"]) != 5 {
		t.Errorf("envelope: %s", r.raw)
	}
	users := items(t, r, "users")
	if got := ids(users); !slices.Equal(got, []string{idNoName, idAlice}) {
		t.Errorf("page: %v", got)
	}
	if u := users[1]; !hasKey(u, "emails") || !hasKey(u, "createdAt") || !hasKey(u, "_updatedAt") || hasKey(u, "roles") || hasKey(u, "active") {
		t.Errorf("projection: %v", u)
	}
	// Room-scoped roles without roomId: holders in any team.
	if got := ids(items(t, h.get(t, "/api/v1/roles.getUsersInRole?role=owner", &credReader), "users")); !slices.Equal(got, []string{idAlice, idCarol}) {
		t.Errorf("owners: %v", got)
	}
	if got := ids(items(t, h.get(t, "/api/v1/roles.getUsersInRole?role=owner&roomId="+roomBeta, &credAdmin), "users")); !slices.Equal(got, []string{idCarol}) {
		t.Errorf("beta owners: %v", got)
	}
	expect(t, h.get(t, "/api/v1/roles.getUsersInRole?role=owner&roomId="+roomBeta, &credReader), http.StatusBadRequest,
		`{"success":false,"error":"Not allowed [error-not-allowed]","errorType":"error-not-allowed"}`)
	expect(t, h.get(t, "/api/v1/roles.getUsersInRole?role=governance-reader", &credReader), http.StatusBadRequest,
		`{"success":false,"error":"[error-invalid-roleId]","errorType":"error-invalid-roleId"}`)
	expect(t, h.get(t, "/api/v1/roles.getUsersInRole", &credReader), http.StatusBadRequest,
		`{"success":false,"errorType":"error-invalid-params","error":"must have required property 'role'"}`)
	if got := ids(items(t, h.get(t, "/api/v1/roles.getUsersInRole?role="+readerRoleID, &credReader), "users")); !slices.Equal(got, []string{idReader}) {
		t.Errorf("custom role by id: %v", got)
	}
}

func TestAddUserToRole(t *testing.T) {
	cases := []struct {
		name string
		cred *Credential
		body map[string]any
		code int
		raw  string
	}{
		{"roleName removed in 8.0", &credAdmin, map[string]any{"username": "alice", "roleName": "admin"}, 400,
			`{"success":false,"errorType":"invalid-params","error":"must NOT have additional properties"}`},
		{"no username", &credAdmin, map[string]any{"roleId": "admin"}, 400,
			`{"success":false,"errorType":"invalid-params","error":"must have required property 'username'"}`},
		{"unknown user", &credAdmin, map[string]any{"username": "nobody", "roleId": "admin"}, 400,
			`{"success":false,"error":"The required \"userId\" or \"username\" param provided does not match any users [error-invalid-user]","errorType":"error-invalid-user"}`},
		{"no roleId", &credAdmin, map[string]any{"username": "alice"}, 400,
			`{"success":false,"error":"error-invalid-role-properties"}`},
		{"unknown role (swapped body)", &credAdmin, map[string]any{"username": "alice", "roleId": "nope"}, 400,
			`{"success":false,"error":"error-role-not-found","errorType":"Role not found"}`},
		// The already-in-role check runs before the permission check.
		{"already in role, even without permission", &credPlain, map[string]any{"username": "carol", "roleId": "livechat-agent"}, 400,
			`{"success":false,"error":"User already in role [error-user-already-in-role]","errorType":"error-user-already-in-role"}`},
		{"no access-permissions", &credPlain, map[string]any{"username": "alice", "roleId": "livechat-agent"}, 400,
			`{"success":false,"error":"Accessing permissions is not allowed [error-action-not-allowed]",` +
				`"errorType":"error-action-not-allowed","details":{"method":"authorization:addUserToRole",` +
				`"action":"Accessing_permissions"}}`},
		{"admin needs assign-admin-role", &credReader, map[string]any{"username": "alice", "roleId": "admin"}, 400,
			`{"success":false,"error":"Assigning admin is not allowed [error-action-not-allowed]",` +
				`"errorType":"error-action-not-allowed","details":{"method":"authorization:addUserToRole",` +
				`"action":"Assign_admin"}}`},
		{"room role, not in room", &credAdmin, map[string]any{"username": "plain", "roleId": "moderator", "roomId": roomBeta}, 400,
			`{"success":false,"error":"User is not part of given room [error-invalid-user]","errorType":"error-invalid-user","details":{"method":"authorization:addUserToRole"}}`},
		{"global role", &credReader, map[string]any{"username": "ALICE", "roleId": "livechat-agent"}, 200,
			`{"role":{"_id":"livechat-agent","name":"livechat-agent","scope":"Users",` +
				`"description":"Livechat Agent","protected":true,"mandatory2fa":false,` +
				`"_updatedAt":"2024-01-15T09:00:00.000Z"},"success":true}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := small()
			expect(t, h.post(t, "/api/v1/roles.addUserToRole", tc.cred, tc.body), tc.code, tc.raw)
		})
	}

	h := small()
	expectCode(t, h.post(t, "/api/v1/roles.addUserToRole", &credAdmin, map[string]any{"username": "plain", "roleId": "moderator", "roomId": roomAlpha}), http.StatusOK)
	expectCode(t, h.post(t, "/api/v1/roles.addUserToRole", &credAdmin, map[string]any{"username": "alice", "roleId": "admin"}), http.StatusOK)
	h.srv.View(func(ws *Workspace) {
		if m := ws.TeamByID(teamAlpha).member(idPlain); !slices.Equal(m.Roles, []string{"moderator"}) {
			t.Errorf("team roles: %v", m.Roles)
		}
		if !slices.Contains(ws.UserByID(idAlice).Roles, "admin") {
			t.Error("admin not granted")
		}
	})
}

func TestRemoveUserFromRole(t *testing.T) {
	h := small()
	rm := func(body map[string]any) response {
		return h.post(t, "/api/v1/roles.removeUserFromRole", &credReader, body)
	}
	expect(t, rm(map[string]any{"username": "alice", "roleId": "admin"}), http.StatusBadRequest,
		`{"success":false,"error":"User is not in this role [error-user-not-in-role]","errorType":"error-user-not-in-role"}`)
	expect(t, rm(map[string]any{"username": "svc-admin", "roleId": "admin"}), http.StatusBadRequest,
		`{"success":false,"error":"You need to have at least one admin [error-admin-required]","errorType":"error-admin-required"}`)
	expect(t, rm(map[string]any{"username": "ALICE", "roleId": "user"}), http.StatusBadRequest,
		`{"success":false,"error":"There is no user with this username [error-invalid-user]","errorType":"error-invalid-user"}`)
	expect(t, rm(map[string]any{"username": "alice", "roleId": "nope"}), http.StatusBadRequest,
		`{"success":false,"error":"This role does not exist [error-invalid-roleId]","errorType":"error-invalid-roleId"}`)
	expect(t, rm(map[string]any{"username": "alice"}), http.StatusBadRequest, `{"success":false,"error":"error-invalid-role-properties"}`)
	// The room goes in scope; roomId is ignored.
	expect(t, rm(map[string]any{"username": "carol", "roleId": "moderator", "roomId": roomAlpha}), http.StatusBadRequest,
		`{"success":false,"error":"User is not in this role [error-user-not-in-role]","errorType":"error-user-not-in-role"}`)
	expectCode(t, rm(map[string]any{"username": "carol", "roleId": "moderator", "scope": roomAlpha}), http.StatusOK)
	r := rm(map[string]any{"username": "carol", "roleId": "livechat-agent"})
	if r.code != http.StatusOK || r.body["role"].(map[string]any)["_id"] != "livechat-agent" {
		t.Errorf("remove: %s", r.raw)
	}
	h.srv.View(func(ws *Workspace) {
		if c := ws.UserByID(idCarol); !slices.Equal(c.Roles, []string{"user"}) || ws.TeamByID(teamAlpha).member(idCarol).Roles == nil {
			t.Errorf("carol: %v %v", c.Roles, ws.TeamByID(teamAlpha).member(idCarol).Roles)
		}
	})
	// Admin can be removed while another user (even inactive) holds it.
	h.srv.Update(func(ws *Workspace) { ws.UserByID(idBob).Roles = append(ws.UserByID(idBob).Roles, "admin") })
	expectCode(t, rm(map[string]any{"username": "svc-admin", "roleId": "admin"}), http.StatusOK)
}
