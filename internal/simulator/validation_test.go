package simulator

import (
	"net/http"
	"testing"
	"time"
)

// Typed routes are answered by the router (packages/http-router/src/Router.ts):
// error-invalid-params for a query, invalid-params for a body, the Ajv
// messages alone. Legacy validateParams routes throw
// Meteor.Error('invalid-params') from the route wrapper (ApiClass.ts), so
// the message carries "[invalid-params]" and errorType comes last.
const (
	typedQueryErr = `{"success":false,"errorType":"error-invalid-params","error":"`
	typedBodyErr  = `{"success":false,"errorType":"invalid-params","error":"`
)

func legacyErr(msg string) string {
	return `{"success":false,"error":"` + msg + ` [invalid-params]","errorType":"invalid-params"}`
}

// TestValidationErrorTypes sends one invalid parameter to every route with a
// query or body schema and checks the answer its declaration implies
// (route.legacy; the sources are named in routeTable).
func TestValidationErrorTypes(t *testing.T) {
	for _, tc := range []struct {
		route   string // route key
		version string // "" for the default (8.7.1)
		target  string
		body    any // nil for GET
		want    string
	}{
		{"GET permissions.listAll", "", "permissions.listAll?nope=1", nil,
			typedQueryErr + `must NOT have additional properties"}`},
		{"GET roles.getUsersInRole", "", "roles.getUsersInRole?role=admin&nope=1", nil,
			typedQueryErr + `must NOT have additional properties"}`},
		{"POST roles.addUserToRole", "", "roles.addUserToRole", map[string]any{"username": "alice", "roleId": "admin", "nope": 1},
			typedBodyErr + `must NOT have additional properties"}`},
		{"POST roles.removeUserFromRole", "", "roles.removeUserFromRole", map[string]any{"username": "alice", "roleId": "admin", "nope": 1},
			typedBodyErr + `must NOT have additional properties"}`},
		{"GET users.list", "", "users.list?count=many", nil,
			typedQueryErr + `must be number"}`},
		{"GET users.listByStatus", "", "users.listByStatus?status=gone", nil,
			legacyErr("must be equal to one of the allowed values")},
		{"GET users.listByStatus", "7.10.2", "users.listByStatus?status=gone", nil,
			legacyErr("must be equal to one of the allowed values")},
		{"GET users.info", "", "users.info?userId=x&nope=1", nil,
			typedQueryErr + `must NOT have additional properties\n must have required property 'username'\n must have required property 'importId'\n` +
				` must have required property 'email'\n must have required property 'freeSwitchExtension'\n must match a schema in anyOf"}`},
		{"GET users.listTeams", "", "users.listTeams", nil,
			typedQueryErr + `must have required property 'userId'"}`},
		{"POST users.create", "", "users.create", map[string]any{"username": "x", "name": "x", "password": "x"},
			typedBodyErr + `must have required property 'email'"}`},
		{"POST users.setActiveStatus", "", "users.setActiveStatus", map[string]any{"userId": "x", "activeStatus": "yes"},
			typedBodyErr + `must be boolean"}`},
		{"POST users.delete", "", "users.delete", map[string]any{"confirmRelinquish": true},
			typedBodyErr + `must have required property 'userId'\n must have required property 'username'\n must have required property 'user'\n must match a schema in anyOf"}`},
		{"POST users.logout", "", "users.logout", map[string]any{"userId": 5},
			typedBodyErr + `must be string"}`},
		{"POST users.deactivateIdle", "", "users.deactivateIdle", map[string]any{},
			typedBodyErr + `must have required property 'daysIdle'"}`},
		{"POST livechat/users/agent", "", "livechat/users/agent", map[string]any{"username": "alice", "nope": 1},
			legacyErr("must NOT have additional properties")},
		{"POST livechat/users/manager", "", "livechat/users/manager", map[string]any{},
			legacyErr("must have required property 'username'")},
		{"GET teams.info", "", "teams.info?teamId=x&teamName=y", nil,
			typedQueryErr + `must match exactly one schema in oneOf"}`},
		{"GET teams.members", "", "teams.members?teamName=alpha&status[]=gone", nil,
			typedQueryErr + `must be equal to one of the allowed values"}`},
		{"POST teams.addMembers", "", "teams.addMembers", map[string]any{"teamName": "alpha", "members": []any{}},
			typedBodyErr + `must NOT have fewer than 1 items"}`},
		{"POST teams.updateMember", "", "teams.updateMember", map[string]any{"teamName": "alpha"},
			typedBodyErr + `must have required property 'member'"}`},
		{"POST teams.removeMember", "", "teams.removeMember", map[string]any{"teamName": "alpha", "userId": "x", "rooms": []any{}},
			typedBodyErr + `must NOT have fewer than 1 items"}`},
		{"GET rooms.adminRooms", "", "rooms.adminRooms?types=c&nope=1", nil,
			typedQueryErr + `must NOT have additional properties"}`},
		{"GET rooms.adminRooms.getRoom", "", "rooms.adminRooms.getRoom?nope=1", nil,
			typedQueryErr + `must NOT have additional properties"}`},
		{"GET integrations.list", "", "integrations.list?count=many", nil,
			typedQueryErr + `must be number"}`},
		{"GET oauth-apps.list", "", "oauth-apps.list?nope=1", nil,
			typedQueryErr + `must NOT have additional properties"}`},
	} {
		t.Run(tc.route+" "+tc.version, func(t *testing.T) {
			h := newHarness(smallWorkspace(), Options{DisableRateLimiter: true, Version: tc.version})
			method := http.MethodGet
			if tc.body != nil {
				method = http.MethodPost
			}
			r := h.call(t, method, "/api/v1/"+tc.target, &credAdmin, tc.body)
			expect(t, r, http.StatusBadRequest, tc.want)
			if n := h.srv.Stats().Calls[tc.route]; n != 1 {
				t.Errorf("the request did not reach %s (%d calls)", tc.route, n)
			}
		})
	}
}

// TestValidationTableCoversEveryRoute keeps TestValidationErrorTypes in step
// with routeTable.
func TestValidationTableCoversEveryRoute(t *testing.T) {
	covered := map[string]bool{
		"GET permissions.listAll": true, "GET roles.getUsersInRole": true, "POST roles.addUserToRole": true,
		"POST roles.removeUserFromRole": true, "GET users.list": true, "GET users.listByStatus": true,
		"GET users.info": true, "GET users.listTeams": true, "POST users.create": true,
		"POST users.setActiveStatus": true, "POST users.delete": true, "POST users.logout": true,
		"POST users.deactivateIdle": true, "POST livechat/users/agent": true, "POST livechat/users/manager": true,
		"GET teams.info": true, "GET teams.members": true, "POST teams.addMembers": true,
		"POST teams.updateMember": true, "POST teams.removeMember": true, "GET rooms.adminRooms": true,
		"GET rooms.adminRooms.getRoom": true, "GET integrations.list": true, "GET oauth-apps.list": true,
	}
	for _, rt := range small().srv.routeTable() {
		if (rt.query != nil || rt.body != nil) && !covered[rt.key()] {
			t.Errorf("%s has a schema but no case in TestValidationErrorTypes", rt.key())
		}
	}
}

// TestValidationOrder checks where each kind of validation sits in the
// pipeline relative to permissionsRequired and the rate limiter.
func TestValidationOrder(t *testing.T) {
	limitedAt := func(version string, calls int) *harness {
		h := newHarness(smallWorkspace(), Options{RateLimitCalls: calls, RateLimitWindow: time.Minute, Version: version})
		h.srv.Update(func(ws *Workspace) {
			ws.Permissions[permViewLivechatManager] = append(ws.Permissions[permViewLivechatManager], readerRoleID)
			// Only admins and the reader role may use users.listByStatus.
			ws.Permissions[permViewDRoom] = []string{roleAdmin, readerRoleID}
		})
		return h
	}

	t.Run("typed: permissions, then the schema, before the limiter", func(t *testing.T) {
		h := limitedAt("", 1)
		expect(t, h.get(t, "/api/v1/users.list?count=many", &credPlain), http.StatusForbidden, bodyPermissionDenied)
		expect(t, h.get(t, "/api/v1/users.list?count=many", &credReader), http.StatusBadRequest,
			typedQueryErr+`must be number"}`)
		// Neither refusal spent the budget of one call.
		expectCode(t, h.get(t, "/api/v1/users.list", &credReader), http.StatusOK)
		expectCode(t, h.get(t, "/api/v1/users.list", &credReader), http.StatusTooManyRequests)
	})

	t.Run("8.x legacy: permissions middleware, the limiter, then validateParams", func(t *testing.T) {
		h := limitedAt("", 1)
		expect(t, h.get(t, "/api/v1/users.listByStatus?status=gone", &credPlain), http.StatusForbidden, bodyPermissionDenied)
		expect(t, h.get(t, "/api/v1/users.listByStatus?status=gone", &credReader), http.StatusBadRequest,
			legacyErr("must be equal to one of the allowed values"))
		h = limitedAt("", 1)
		expect(t, h.post(t, "/api/v1/livechat/users/agent", &credPlain, map[string]any{}), http.StatusForbidden, bodyPermissionDenied)
		expect(t, h.post(t, "/api/v1/livechat/users/agent", &credReader, map[string]any{}), http.StatusBadRequest,
			legacyErr("must have required property 'username'"))
		// The invalid call spent the budget.
		expectCode(t, h.post(t, "/api/v1/livechat/users/agent", &credReader, map[string]any{"username": "alice"}), http.StatusTooManyRequests)
	})

	t.Run("before 8.0 legacy: the limiter, validateParams, then permissions", func(t *testing.T) {
		h := limitedAt("7.10.2", 2)
		// The schema is checked before permissionsRequired...
		expect(t, h.get(t, "/api/v1/users.listByStatus?status=gone", &credPlain), http.StatusBadRequest,
			legacyErr("must be equal to one of the allowed values"))
		expect(t, h.get(t, "/api/v1/users.listByStatus", &credPlain), http.StatusForbidden, bodyPermissionDenied)
		// ...and both came after the limiter.
		expectCode(t, h.get(t, "/api/v1/users.listByStatus", &credReader), http.StatusTooManyRequests)
	})
}
