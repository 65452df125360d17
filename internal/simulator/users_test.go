package simulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestUsersListProjection(t *testing.T) {
	h := small()
	cases := []struct {
		name       string
		cred       *Credential
		privileged bool
	}{
		{"admin", &credAdmin, true},
		{"reader with view-full-other-user-info", &credReader, true},
		{"plain user", &credPlain, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.get(t, "/api/v1/users.list?count=0", tc.cred)
			expectCode(t, r, http.StatusOK)
			users := items(t, r, "users")
			for _, u := range users {
				for _, k := range []string{"_id", "type", "status", "active", "nameInsensitive"} {
					if !hasKey(u, k) {
						t.Errorf("%v lacks %s", u, k)
					}
				}
				for _, k := range []string{"createdAt", "federated", "federation", "_updatedAt", "services"} {
					if hasKey(u, k) {
						t.Errorf("%v has %s", u, k)
					}
				}
				if hasKey(u, "roles") != tc.privileged {
					t.Errorf("roles shown=%v for %v", hasKey(u, "roles"), u)
				}
				if u["_id"] == idAlice && (hasKey(u, "emails") != tc.privileged || hasKey(u, "lastLogin") != tc.privileged) {
					t.Errorf("alice: %v", u)
				}
			}
			// A user with neither username nor name is listed only when the
			// caller may match on emails.
			if slices.Contains(ids(users), idNoName) != tc.privileged {
				t.Errorf("nameless user listed=%v", !tc.privileged)
			}
		})
	}
	r := h.get(t, "/api/v1/users.list?count=1&offset=1", &credAdmin)
	// Default sort is username ascending ("@dave..." sorts first); the
	// nameless user sorts before all as its username is missing.
	want := `{"users":[{"_id":"FedFFFFFFFFFFFFFF","username":"@dave:matrix.example.org",` +
		`"type":"user","status":"offline","active":true,"roles":["federated-external"],` +
		`"name":"@dave:matrix.example.org","nameInsensitive":"@dave:matrix.example.org"}],` +
		`"count":1,"offset":1,"total":10,"success":true}`
	expect(t, r, http.StatusOK, want)
}

func TestUsersListValidationAndFilters(t *testing.T) {
	h := small()
	expect(t, h.get(t, "/api/v1/users.list?status=active", &credAdmin), http.StatusBadRequest,
		`{"success":false,"errorType":"error-invalid-params","error":"must NOT have additional properties"}`)
	expect(t, h.get(t, "/api/v1/users.list?count=abc", &credAdmin), http.StatusBadRequest,
		`{"success":false,"errorType":"error-invalid-params","error":"must be number"}`)
	expect(t, h.get(t, "/api/v1/users.list?sort=%7B%22username%22%3A2%7D", &credAdmin), http.StatusBadRequest,
		`{"success":false,"error":"Invalid sort parameter provided: \"{\"username\":2}\" [error-invalid-sort]","errorType":"error-invalid-sort","details":{"helperMethod":"parseJsonQuery"}}`)

	r := h.get(t, "/api/v1/users.list?email=ALICE@example.com", &credAdmin)
	if got := ids(items(t, r, "users")); !slices.Equal(got, []string{idAlice}) || num(r.body["total"]) != 1 {
		t.Errorf("email filter: %s", r.raw)
	}
	expect(t, h.get(t, "/api/v1/users.list?email=alice@example.com", &credPlain), http.StatusForbidden, `{"success":false,"error":"unauthorized"}`)
	// query and fields are accepted but ignored.
	r = h.get(t, "/api/v1/users.list?query=%7B%22active%22%3Afalse%7D&fields=%7B%22username%22%3A1%7D", &credPlain)
	if num(r.body["total"]) != 9 {
		t.Errorf("query not ignored: %s", r.raw)
	}

	r = h.get(t, `/api/v1/users.list?sort={"username":-1}&count=2`, &credPlain)
	if got := ids(items(t, r, "users")); !slices.Equal(got, []string{idReader, idAdmin}) {
		t.Errorf("descending: %v", got)
	}
}

func TestPagination(t *testing.T) {
	gen := Generate(3, Size{Users: 260, Teams: 2, MembersPerTeam: 10})
	h := newHarness(gen.Workspace, Options{DisableRateLimiter: true})
	admin := gen.Admin
	cases := []struct {
		query             string
		wantCount, offset int
	}{
		{"", 50, 0},
		{"?count=500", 100, 0},
		{"?count=100&offset=250", 10, 250},
		{"?count=0", 260, 0},
		{"?count=0&offset=200", 60, 200},
		{"?count=7&offset=3", 7, 3},
		{"?offset=1000", 0, 1000},
	}
	for _, ep := range []string{"users.list", "users.listByStatus"} {
		for _, tc := range cases {
			r := h.get(t, "/api/v1/"+ep+tc.query, &admin)
			expectCode(t, r, http.StatusOK)
			if len(items(t, r, "users")) != tc.wantCount || num(r.body["count"]) != tc.wantCount ||
				num(r.body["offset"]) != tc.offset || num(r.body["total"]) != 260 {
				t.Errorf("%s%s: count=%v offset=%v total=%v len=%d", ep, tc.query, r.body["count"], r.body["offset"], r.body["total"], len(items(t, r, "users")))
			}
		}
	}
	// Pages tile the whole sorted list.
	var seen []string
	for off := 0; off < 260; off += 100 {
		seen = append(seen, ids(items(t, h.get(t, fmt.Sprintf("/api/v1/users.list?count=100&offset=%d", off), &admin), "users"))...)
	}
	all := ids(items(t, h.get(t, "/api/v1/users.list?count=0", &admin), "users"))
	if !slices.Equal(seen, all) {
		t.Error("pages do not tile the full listing")
	}
}

func TestUsersListByStatus(t *testing.T) {
	h := small()
	cases := []struct {
		query string
		want  []string
	}{
		{"status=deactivated", []string{idBob}},
		{"hasLoggedIn=true", []string{idAlice, idCarol, idAdmin}},
		{"type=bot", []string{idBot, "rocket.cat"}},
		{"roles[]=livechat-agent&roles[]=admin", []string{idCarol, idAdmin}},
		{"roles[]=all&status=deactivated", []string{idBob}},
		{"searchTerm=ALI", []string{idAlice}},
		{"searchTerm=home.example", []string{idAlice}},
		// Reasonless users match "deactivated" too (server back-compat).
		{"inactiveReason[]=deactivated&status=active&type=bot", []string{idBot, "rocket.cat"}},
		{"inactiveReason[]=pending_approval", nil},
	}
	for _, tc := range cases {
		r := h.get(t, "/api/v1/users.listByStatus?count=0&"+tc.query, &credReader)
		expectCode(t, r, http.StatusOK)
		got := ids(items(t, r, "users"))
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v want %v", tc.query, got, tc.want)
		}
	}
	// Projection: emails, roles and federated regardless of permissions.
	r := h.get(t, "/api/v1/users.listByStatus?count=0", &credPlain)
	for _, u := range items(t, r, "users") {
		if u["_id"] == idFed && u["federated"] != true {
			t.Errorf("federated missing: %v", u)
		}
		if u["_id"] == idAlice && (!hasKey(u, "emails") || !hasKey(u, "roles") || !hasKey(u, "lastLogin")) {
			t.Errorf("alice: %v", u)
		}
		if hasKey(u, "nameInsensitive") || hasKey(u, "createdAt") {
			t.Errorf("unexpected field: %v", u)
		}
	}
	if num(r.body["total"]) != 10 {
		t.Errorf("no default filter expected: total %v", r.body["total"])
	}
	// users.listByStatus is an addRoute + validateParams route
	// (apps/meteor/app/api/server/v1/users.ts): the wrapper
	// (apps/meteor/server/api/ApiClass.ts) throws
	// Meteor.Error('invalid-params'), which Rocket.Chat's e2e test
	// "[/users.listByStatus] should return error for invalid status params"
	// (apps/meteor/tests/end-to-end/api/users.ts) expects:
	// errorType invalid-params, "must be equal to one of the allowed values
	// [invalid-params]". The same on 8.x and 7.x servers.
	old := newHarness(smallWorkspace(), Options{DisableRateLimiter: true, Version: "7.10.2"})
	r = h.get(t, "/api/v1/users.listByStatus?status=abcd", &credAdmin)
	if r.code != http.StatusBadRequest || r.body["errorType"] != "invalid-params" ||
		r.body["error"] != "must be equal to one of the allowed values [invalid-params]" {
		t.Errorf("the e2e test's request: %d %s", r.code, r.raw)
	}
	for _, q := range []string{"status=gone", "hasLoggedIn=maybe", "inactiveReason[]=bored", "roles=admin", "nope=1"} {
		for _, srv := range []*harness{h, old} {
			r := srv.get(t, "/api/v1/users.listByStatus?"+q, &credReader)
			if r.code != http.StatusBadRequest || r.body["errorType"] != "invalid-params" || !strings.HasSuffix(r.body["error"].(string), " [invalid-params]") {
				t.Errorf("%s: %d %s", q, r.code, r.raw)
			}
		}
	}
}

func TestUsersInfo(t *testing.T) {
	h := small()
	const notFound = `{"success":false,"error":"User not found."}`
	r := h.get(t, "/api/v1/users.info?userId="+idAlice, &credAdmin)
	expectCode(t, r, http.StatusOK)
	u := r.body["user"].(map[string]any)
	for _, k := range []string{"emails", "roles", "createdAt", "lastLogin", "requirePasswordChange", "statusConnection"} {
		if !hasKey(u, k) {
			t.Errorf("admin view lacks %s: %v", k, u)
		}
	}
	if u["canViewAllInfo"] != true || hasKey(u, "services") {
		t.Errorf("admin view: %v", u)
	}

	r = h.get(t, "/api/v1/users.info?username=alice", &credPlain)
	u = r.body["user"].(map[string]any)
	if hasKey(u, "emails") || hasKey(u, "roles") || hasKey(u, "createdAt") || u["canViewAllInfo"] != false {
		t.Errorf("plain view: %v", u)
	}
	// Looking oneself up shows everything, plus services.
	r = h.get(t, "/api/v1/users.info?userId="+idPlain, &credPlain)
	if u := r.body["user"].(map[string]any); u["canViewAllInfo"] != true || !hasKey(u, "services") || !hasKey(u, "roles") {
		t.Errorf("self view: %s", r.raw)
	}
	if u := h.get(t, "/api/v1/users.info?userId="+idFed, &credPlain).body["user"].(map[string]any); u["federated"] != true || hasKey(u, "federation") {
		t.Errorf("federated view: %v", u)
	}
	// Email lookups need view-full-other-user-info.
	expectCode(t, h.get(t, "/api/v1/users.info?email=carol@example.com", &credReader), http.StatusOK)
	expect(t, h.get(t, "/api/v1/users.info?email=carol@example.com", &credPlain), http.StatusBadRequest, notFound)
	expect(t, h.get(t, "/api/v1/users.info?userId=NoSuchUserXXXXXXX", &credAdmin), http.StatusBadRequest, notFound)
	expect(t, h.get(t, "/api/v1/users.info?userId=", &credAdmin), http.StatusBadRequest, `{"success":false,"error":"Invalid search query."}`)
	r = h.get(t, "/api/v1/users.info", &credAdmin)
	if r.code != http.StatusBadRequest || r.body["errorType"] != "error-invalid-params" ||
		r.body["error"] != "must have required property 'userId'\n must have required property 'username'\n must have required property 'importId'\n"+
			" must have required property 'email'\n must have required property 'freeSwitchExtension'\n must match a schema in anyOf" {
		t.Errorf("no key: %s", r.raw)
	}
	r = h.get(t, "/api/v1/users.info?userId="+idAlice+"&includeUserRooms=true", &credAdmin)
	rooms := r.body["user"].(map[string]any)["rooms"].([]any)
	if len(rooms) != 2 || rooms[0].(map[string]any)["rid"] != roomAlpha || rooms[1].(map[string]any)["t"] != "p" {
		t.Errorf("rooms: %v", rooms)
	}
}

func TestUsersCreate(t *testing.T) {
	valid := func() map[string]any {
		return map[string]any{"email": "new.person@example.com", "name": "New Person", "password": "s3cret!", "username": "new.person"}
	}
	with := func(k string, v any) map[string]any {
		b := valid()
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	cases := []struct {
		name string
		cred *Credential
		body map[string]any
		code int
		raw  string
	}{
		{"missing email", &credAdmin, with("email", nil), 400, `{"success":false,"errorType":"invalid-params","error":"must have required property 'email'"}`},
		{"extra property", &credAdmin, with("status", "online"), 400, `{"success":false,"errorType":"invalid-params","error":"must NOT have additional properties"}`},
		{"wrong type", &credAdmin, with("active", "yes"), 400, `{"success":false,"errorType":"invalid-params","error":"must be boolean"}`},
		{"no create-user", &credReader, valid(), 400, `{"success":false,"error":"Adding user is not allowed [error-action-not-allowed]",` +
			`"errorType":"error-action-not-allowed","details":{"method":"insertOrUpdateUser",` +
			`"action":"Adding_user"}}`},
		{"plain user", &credPlain, valid(), 400, `{"success":false,"error":"Adding user is not allowed [error-action-not-allowed]",` +
			`"errorType":"error-action-not-allowed","details":{"method":"insertOrUpdateUser",` +
			`"action":"Adding_user"}}`},
		{"unknown role", &credAdmin, with("roles", []string{"user", "nope"}), 400, `{"success":false,"error":"The field Roles consist invalid role id [error-action-not-allowed]",` +
			`"errorType":"error-action-not-allowed","details":{"method":"insertOrUpdateUser",` +
			`"action":"Assign_role"}}`},
		{"taken username", &credAdmin, with("username", "Alice"), 400, `{"success":false,"error":"Alice is already in use :( [error-field-unavailable]",` +
			`"errorType":"error-field-unavailable","details":{"method":"insertOrUpdateUser",` +
			`"field":"Alice"}}`},
		{"taken email", &credAdmin, with("email", "CAROL@example.com"), 400, `{"success":false,"error":"CAROL@example.com is already in use :( [error-field-unavailable]",` +
			`"errorType":"error-field-unavailable","details":{"method":"insertOrUpdateUser",` +
			`"field":"CAROL@example.com"}}`},
		{"bad username", &credAdmin, with("username", "no spaces"), 400, `{"success":false,"error":"no spaces is not a valid username [error-input-is-not-a-valid-field]",` +
			`"errorType":"error-input-is-not-a-valid-field","details":{"method":"insertOrUpdateUser",` +
			`"input":"no spaces","field":"Username"}}`},
		{"empty password", &credAdmin, with("password", ""), 400, `{"success":false,"error":"The field Password is required [error-the-field-is-required]",` +
			`"errorType":"error-the-field-is-required","details":{"method":"insertOrUpdateUser",` +
			`"field":"Password"}}`},
		{"bad name", &credAdmin, with("name", "a<b"), 400, `{"success":false,"error":"Name contains invalid characters"}`},
		{"bad email", &credAdmin, with("email", "not-an-email"), 400, `{"success":false,"error":"Invalid email not-an-email [error-invalid-email]",` +
			`"errorType":"error-invalid-email","details":{"function":"RocketChat.validateEmailDomain",` +
			`"email":"not-an-email"}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := small()
			expect(t, h.post(t, "/api/v1/users.create", tc.cred, tc.body), tc.code, tc.raw)
		})
	}

	h := small()
	r := h.post(t, "/api/v1/users.create", &credAdmin, with("roles", []string{"user", readerRoleID}))
	expectCode(t, r, http.StatusOK)
	u := r.body["user"].(map[string]any)
	if u["username"] != "new.person" || u["active"] != true || u["type"] != "user" || !hasKey(u, "createdAt") ||
		len(u["roles"].([]any)) != 2 || len(ids([]map[string]any{u})[0]) != 17 || hasKey(u, "services") {
		t.Errorf("created: %s", r.raw)
	}
	expectCode(t, h.get(t, "/api/v1/users.info?username=new.person", &credAdmin), http.StatusOK)

	// active is applied after creation: the user exists even when that step fails.
	h = small()
	h.srv.Update(func(ws *Workspace) {
		ws.Permissions["create-user"] = append(ws.Permissions["create-user"], readerRoleID)
	})
	expect(t, h.post(t, "/api/v1/users.create", &credReader, with("active", false)), http.StatusBadRequest,
		`{"success":false,"error":"Not allowed [error-not-allowed]","errorType":"error-not-allowed","details":{"method":"setUserActiveStatus"}}`)
	h.srv.View(func(ws *Workspace) {
		if u := ws.UserByUsername("new.person"); u == nil || !u.Active {
			t.Errorf("user not created active: %+v", u)
		}
	})
}

func TestSetActiveStatus(t *testing.T) {
	set := func(h *harness, uid string, active bool, extra ...any) response {
		body := map[string]any{"userId": uid, "activeStatus": active}
		if len(extra) > 0 {
			body["confirmRelinquish"] = extra[0]
		}
		return h.post(t, "/api/v1/users.setActiveStatus", &credAdmin, body)
	}

	h := small()
	expect(t, set(h, idCarol, false), http.StatusBadRequest,
		`{"success":false,"error":"[user-last-owner]","errorType":"user-last-owner","details":{"shouldBeRemoved":[],"shouldChangeOwner":["beta"]}}`)
	expect(t, set(h, idCarol, false, true), http.StatusOK, `{"user":{"_id":"CarolCCCCCCCCCCCC","active":false},"success":true}`)
	// Deactivation wipes every token, personal access tokens included.
	expect(t, h.get(t, "/api/v1/me", &credCarol), http.StatusUnauthorized, bodyNotLoggedIn)
	h.srv.View(func(ws *Workspace) {
		if c := ws.UserByID(idCarol); c.InactiveReason != "deactivated" || len(c.Tokens) != 0 {
			t.Errorf("carol: %+v", c)
		}
	})
	// Re-activation clears the reason and does not need confirmRelinquish.
	expect(t, set(h, idCarol, true), http.StatusOK, `{"user":{"_id":"CarolCCCCCCCCCCCC","active":true},"success":true}`)

	h = small()
	expect(t, set(h, idAdmin, false), http.StatusBadRequest,
		`{"success":false,"error":"Leaving the app without an active admin is not allowed [error-action-not-allowed]",`+
			`"errorType":"error-action-not-allowed","details":{"method":"removeUserFromRole",`+
			`"action":"Remove_last_admin"}}`)
	expect(t, set(h, idFed, false), http.StatusBadRequest,
		`{"success":false,"error":"Cannot change federated users status [error-user-is-federated]","errorType":"error-user-is-federated","details":{"method":"setUserActiveStatus"}}`)
	expect(t, set(h, "NoSuchUserXXXXXXX", false), http.StatusBadRequest, `{"success":false,"error":"User not found"}`)
	expect(t, h.post(t, "/api/v1/users.setActiveStatus", &credAdmin, map[string]any{"userId": idBob}), http.StatusBadRequest,
		`{"success":false,"errorType":"invalid-params","error":"must have required property 'activeStatus'"}`)
	// A private team whose only other member is inactive would be removed.
	h.srv.Update(func(ws *Workspace) { ws.UserByID(idAlice).Active = false })
	r := set(h, idCarol, false)
	if d := r.body["details"].(map[string]any); len(d["shouldBeRemoved"].([]any)) != 1 {
		t.Errorf("details: %s", r.raw)
	}
	expectCode(t, set(h, idCarol, false, true), http.StatusOK)
	h.srv.View(func(ws *Workspace) {
		if ws.TeamByID(teamBeta) != nil {
			t.Error("beta should be removed")
		}
	})
}

func TestUsersDelete(t *testing.T) {
	h := small()
	del := func(body map[string]any) response { return h.post(t, "/api/v1/users.delete", &credAdmin, body) }
	expect(t, del(map[string]any{"username": "rocket.cat"}), http.StatusBadRequest,
		`{"success":false,"error":"Deleting the rocket.cat user is not allowed [error-action-not-allowed]",`+
			`"errorType":"error-action-not-allowed","details":{"method":"deleteUser",`+
			`"action":"Delete_user"}}`)
	expect(t, del(map[string]any{"userId": idFed}), http.StatusBadRequest,
		`{"success":false,"error":"User participated in federation, this user can only be deactivated permanently [error-not-allowed]",`+
			`"errorType":"error-not-allowed","details":{"method":"deleteUser"}}`)
	expect(t, del(map[string]any{"userId": "NoSuchUserXXXXXXX"}), http.StatusBadRequest,
		`{"success":false,"error":"The required \"userId\" or \"username\" param provided does not match any users [error-invalid-user]","errorType":"error-invalid-user"}`)
	expect(t, del(map[string]any{"userId": "   "}), http.StatusBadRequest,
		`{"success":false,"error":"The required \"userId\" or \"username\" param was not provided [error-user-param-not-provided]","errorType":"error-user-param-not-provided"}`)
	expect(t, del(map[string]any{}), http.StatusBadRequest,
		`{"success":false,"errorType":"invalid-params","error":"must have required property 'userId'\n must have required `+
			`property 'username'\n must have required property 'user'\n must match a schema in anyOf"}`)
	expect(t, del(map[string]any{"username": "ALICE"}), http.StatusBadRequest,
		`{"success":false,"error":"[user-last-owner]","errorType":"user-last-owner","details":{"shouldBeRemoved":[],"shouldChangeOwner":["alpha"]}}`)
	expect(t, del(map[string]any{"username": "alice", "confirmRelinquish": true}), http.StatusOK, `{"deletedRooms":[],"success":true}`)
	expect(t, del(map[string]any{"user": "bob"}), http.StatusOK, `{"deletedRooms":[],"success":true}`)
	h.srv.View(func(ws *Workspace) {
		if ws.UserByID(idAlice) != nil || ws.UserByID(idBob) != nil {
			t.Error("users not deleted")
		}
		for _, tm := range ws.Teams {
			if tm.member(idAlice) != nil || tm.member(idBob) != nil {
				t.Errorf("%s keeps deleted members", tm.Name)
			}
		}
	})
	expect(t, h.get(t, "/api/v1/me", &credAlice), http.StatusUnauthorized, bodyNotLoggedIn)
}

func TestUsersListTeams(t *testing.T) {
	h := small()
	r := h.get(t, "/api/v1/users.listTeams?userId="+idAlice, &credAdmin)
	teams := items(t, r, "teams")
	if len(teams) != 2 || teams[0]["isOwner"] != true || teams[1]["isOwner"] != false {
		t.Errorf("admin view: %s", r.raw)
	}
	// Without view-all-teams, private teams the caller does not share are hidden.
	if got := ids(items(t, h.get(t, "/api/v1/users.listTeams?userId="+idAlice, &credPlain), "teams")); !slices.Equal(got, []string{teamAlpha}) {
		t.Errorf("plain view: %v", got)
	}
	expectCode(t, h.get(t, "/api/v1/users.listTeams", &credAdmin), http.StatusBadRequest)
}

// TestUsersCreateEmailValidation follows validateEmailDomain
// (apps/meteor/app/lib/server/lib/validateEmailDomain.ts), which checks a new
// user's address with validateEmail's default 'basic' style
// (packages/tools/src/validateEmail.ts, /^[^@]+@[^@]+$/): exactly one "@"
// with something on both sides. Rocket.Chat's own e2e suite creates users
// with addresses like "apiuser.test@rocket.chat-1796111564845"
// (apps/meteor/tests/data/api-data.ts, used by
// apps/meteor/tests/end-to-end/api/users.ts).
func TestUsersCreateEmailValidation(t *testing.T) {
	cases := []struct {
		email string
		ok    bool
	}{
		{"jdoe@rocket.chat-1796111564845", true},
		{"apiuser.test@rocket.chat-1796111564845", true},
		{"user.test.1796111564845.0.123@rocket.chat", true},
		{"root@localhost", true},
		{"a@b", true},
		{"first last@example.com", true}, // the basic style does not look at the characters
		{"not-an-email", false},
		{"a@b@example.com", false},
		{"@example.com", false},
		{"jdoe@", false},
		{"", false},
	}
	for i, tc := range cases {
		t.Run(tc.email, func(t *testing.T) {
			h := small()
			username := "new.person" + itoa(int64(i))
			r := h.post(t, "/api/v1/users.create", &credAdmin, map[string]any{
				"email": tc.email, "name": "New Person", "password": "s3cret!", "username": username,
			})
			if tc.ok {
				expectCode(t, r, http.StatusOK)
				if u, _ := r.body["user"].(map[string]any); u == nil || u["username"] != username {
					t.Errorf("created: %s", r.raw)
				}
				return
			}
			expect(t, r, http.StatusBadRequest, `{"success":false,"error":"Invalid email `+tc.email+` [error-invalid-email]",`+
				`"errorType":"error-invalid-email","details":{"function":"RocketChat.validateEmailDomain","email":"`+tc.email+`"}}`)
		})
	}
}

// TestUsersCreateBlockedUsernames follows checkUsernameAvailability
// (apps/meteor/server/lib/users/checkUsernameAvailability.ts), called by
// validateUserData (apps/meteor/server/lib/users/saveUser/validateUserData.ts)
// after the username and password checks: "all", "here" and the entries of
// Accounts_BlockedUsernameList (default "") match case-insensitively against
// the regexp-escaped name, and validateName
// (apps/meteor/server/lib/shared/validateName.ts) refuses the lower-cased
// name if it is in the hidden Accounts_SystemBlockedUsernameList, default
// "admin,administrator,system,user" (apps/meteor/server/settings/accounts.ts).
// The e2e suite expects exactly these four to fail with this message
// (reservedWords in apps/meteor/tests/data/api-data.ts,
// apps/meteor/tests/end-to-end/api/users.ts).
func TestUsersCreateBlockedUsernames(t *testing.T) {
	blocked := func(name string) string {
		return `{"success":false,"error":"` + name + ` is blocked and can't be used! [error-blocked-username]",` +
			`"errorType":"error-blocked-username","details":{"method":"checkUsernameAvailability","field":"` + name + `"}}`
	}
	cases := []struct {
		username string
		list     string // Accounts_BlockedUsernameList
		blocked  bool
	}{
		{"admin", "", true},
		{"administrator", "", true},
		{"system", "", true},
		{"user", "", true},
		{"Admin", "", true}, // validateName lower-cases
		{"all", "", true},
		{"HERE", "", true},
		{"admin2", "", false},
		{"users", "", false},
		{"evil", "bad.actor, evil ,", true},
		{"EVIL", "bad.actor, evil ,", true},
		// The name is escaped before it is matched, so list entries with
		// regexp metacharacters never match.
		{"bad.actor", "bad.actor, evil ,", false},
	}
	for _, tc := range cases {
		t.Run(tc.username+"/"+tc.list, func(t *testing.T) {
			h := newHarness(smallWorkspace(), Options{DisableRateLimiter: true, BlockedUsernameList: tc.list})
			r := h.post(t, "/api/v1/users.create", &credAdmin, map[string]any{
				"email": "someone@example.com", "name": "Some One", "password": "s3cret!", "username": tc.username,
			})
			if tc.blocked {
				expect(t, r, http.StatusBadRequest, blocked(tc.username))
			} else {
				expectCode(t, r, http.StatusOK)
			}
		})
	}
	// The check runs after the password check and before the "in use" ones.
	h := small()
	expect(t, h.post(t, "/api/v1/users.create", &credAdmin, map[string]any{
		"email": "someone@example.com", "name": "Some One", "password": "", "username": "admin",
	}), http.StatusBadRequest, `{"success":false,"error":"The field Password is required [error-the-field-is-required]",`+
		`"errorType":"error-the-field-is-required","details":{"method":"insertOrUpdateUser","field":"Password"}}`)
	expect(t, h.post(t, "/api/v1/users.create", &credAdmin, map[string]any{
		"email": "alice@example.com", "name": "Some One", "password": "x", "username": "system",
	}), http.StatusBadRequest, blocked("system"))
}

// TestUsersListViewOutsideRoom follows users.list and users.listByStatus in
// apps/meteor/server/api/v1/users.ts: with the setting
// API_Apply_permission_view-outside-room_on_users-list on, a caller without
// view-outside-room gets API.v1.forbidden() before anything else is read
// (sort included). The permission's default roles come from
// apps/meteor/app/authorization/server/constant/permissions.ts.
func TestUsersListViewOutsideRoom(t *testing.T) {
	if got := NewWorkspace().Permissions["view-outside-room"]; !slices.Equal(got, []string{"admin", "owner", "moderator", "user", "federated-external"}) {
		t.Errorf("view-outside-room defaults: %v", got)
	}
	const denied = `{"success":false,"error":"unauthorized"}`
	cases := []struct {
		name   string
		on     bool
		cred   *Credential
		revoke bool // take view-outside-room from the user role
		want   int
	}{
		{"off, reader", false, &credReader, false, http.StatusOK},
		{"on, admin", true, &credAdmin, false, http.StatusOK},
		{"on, plain user", true, &credPlain, false, http.StatusOK},
		{"on, reader without view-outside-room", true, &credReader, false, http.StatusForbidden},
		{"on, plain user after revoking", true, &credPlain, true, http.StatusForbidden},
		{"off, plain user after revoking", false, &credPlain, true, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(smallWorkspace(), Options{DisableRateLimiter: true, ApplyViewOutsideRoomOnUsersList: tc.on})
			if tc.revoke {
				h.srv.Update(func(ws *Workspace) {
					ws.Permissions["view-outside-room"] = slices.DeleteFunc(ws.Permissions["view-outside-room"], func(r string) bool { return r == "user" })
				})
			}
			for _, target := range []string{"/api/v1/users.list", "/api/v1/users.listByStatus", "/api/v1/users.list?sort=%7B%22username%22%3A2%7D"} {
				r := h.get(t, target, tc.cred)
				switch {
				case tc.want == http.StatusForbidden:
					expect(t, r, http.StatusForbidden, denied)
				case strings.Contains(target, "sort="):
					expectCode(t, r, http.StatusBadRequest) // the sort error, once past the check
				default:
					expectCode(t, r, http.StatusOK)
				}
			}
		})
	}
}
