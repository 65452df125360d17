package simulator

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const bodyNotLoggedIn = `{"success":false,"error":"You must be logged in to do this.","status":"error","message":"You must be logged in to do this."}`

const bodyPermissionDenied = `{"success":false,"error":"User does not have the permissions required for this action [error-unauthorized]"}`

func TestAuthenticationFailures(t *testing.T) {
	h := small()
	cases := []struct {
		name string
		cred *Credential
	}{
		{"no headers", nil},
		{"user id only", &Credential{UserID: idAdmin}},
		{"token only", &Credential{Token: credAdmin.Token}},
		{"wrong token", &Credential{idAdmin, "nope"}},
		{"someone else's token", &Credential{idAdmin, credPlain.Token}},
		{"unknown user", &Credential{"NoSuchUserXXXXXXX", credAdmin.Token}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, target := range []string{"/api/v1/me", "/api/v1/users.list", "/api/v1/teams.listAll"} {
				expect(t, h.get(t, target, tc.cred), http.StatusUnauthorized, bodyNotLoggedIn)
			}
			expect(t, h.post(t, "/api/v1/users.delete", tc.cred, map[string]any{"userId": idBob}), http.StatusUnauthorized, bodyNotLoggedIn)
		})
	}
}

func TestRoutePermissionMiddleware(t *testing.T) {
	h := small()
	cases := []struct {
		method, target string
		cred           *Credential
		body           any
	}{
		{"GET", "/api/v1/teams.listAll", &credPlain, nil},
		{"GET", "/api/v1/roles.getUsersInRole?role=admin", &credPlain, nil},
		{"POST", "/api/v1/roles.removeUserFromRole", &credPlain, map[string]any{"username": "alice", "roleId": "user"}},
		{"POST", "/api/v1/users.delete", &credReader, map[string]any{"userId": idBob}},
		{"POST", "/api/v1/users.setActiveStatus", &credReader, map[string]any{"userId": idBob, "activeStatus": true}},
		// users.list needs view-d-room, which the bare reader role has but
		// a user with no roles does not.
		{"GET", "/api/v1/users.list", &credBob, nil},
	}
	h.srv.Update(func(ws *Workspace) { ws.UserByID(idBob).Roles = nil })
	for _, tc := range cases {
		r := h.call(t, tc.method, tc.target, tc.cred, tc.body)
		if r.code != http.StatusForbidden || r.raw != bodyPermissionDenied {
			t.Errorf("%s %s: got %d %s", tc.method, tc.target, r.code, r.raw)
		}
	}
	// Permission failures win over validation failures (middleware order).
	expect(t, h.post(t, "/api/v1/users.delete", &credReader, map[string]any{"bogus": 1}), http.StatusForbidden, bodyPermissionDenied)
}

func TestResponseHeadersAndUnknownPaths(t *testing.T) {
	h := small()
	for _, r := range []response{
		h.get(t, "/api/v1/me", &credAdmin),
		h.get(t, "/api/v1/users.list?nope=1", &credAdmin),
		h.get(t, "/api/v1/me", nil),
		h.get(t, "/api/info", nil),
	} {
		if r.hdr.Get("Content-Type") != "application/json" || r.hdr.Get("Cache-Control") != "no-store" || r.hdr.Get("Pragma") != "no-cache" {
			t.Errorf("headers of %d %s: %v", r.code, r.raw, r.hdr)
		}
	}
	for _, tc := range []struct{ method, target string }{
		{"GET", "/api/v1/users.nope"},
		{"POST", "/api/v1/users.list"},
		{"GET", "/api/v1/users.create"},
		{"GET", "/api/v2/users.list"},
		{"POST", "/api/info"},
		{"GET", "/"},
	} {
		r := h.call(t, tc.method, tc.target, &credAdmin, nil)
		if r.code != http.StatusNotFound || r.raw != "404 Not Found" || r.hdr.Get("Content-Type") != "text/plain; charset=UTF-8" {
			t.Errorf("%s %s: got %d %q %v", tc.method, tc.target, r.code, r.raw, r.hdr)
		}
	}
}

func TestInfoVersion(t *testing.T) {
	h := small()
	cases := []struct {
		name    string
		cred    *Credential
		version string
		info    bool
	}{
		{"anonymous", nil, "8.7", false},
		{"bad token", &Credential{idAdmin, "x"}, "8.7", false},
		{"plain user", &credPlain, "8.7", false},
		{"admin", &credAdmin, "8.7.1", true},
	}
	for _, tc := range cases {
		r := h.get(t, "/api/info", tc.cred)
		expectCode(t, r, http.StatusOK)
		if r.body["version"] != tc.version || hasKey(r.body, "info") != tc.info || r.body["success"] != true {
			t.Errorf("%s: %s", tc.name, r.raw)
		}
	}
	// /api/info is never rate limited.
	lim := newHarness(smallWorkspace(), Options{RateLimitCalls: 1})
	for range 3 {
		r := lim.get(t, "/api/info", nil)
		if r.code != http.StatusOK || r.hdr.Get("X-RateLimit-Limit") != "" {
			t.Fatalf("info limited: %d %v", r.code, r.hdr)
		}
	}
}

func TestMountedUnderPrefix(t *testing.T) {
	h := small()
	mux := http.NewServeMux()
	mux.Handle("/chat/", http.StripPrefix("/chat", h.srv))
	req := httptest.NewRequest(http.MethodGet, "/chat/api/v1/me", nil)
	req.Header.Set("X-User-Id", credPlain.UserID)
	req.Header.Set("X-Auth-Token", credPlain.Token)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
}

func TestMe(t *testing.T) {
	h := small()
	r := h.get(t, "/api/v1/me", &credAlice)
	expectCode(t, r, http.StatusOK)
	if r.body["_id"] != idAlice || r.body["username"] != "alice" || r.body["email"] != "alice@example.com" || r.body["success"] != true {
		t.Errorf("me: %s", r.raw)
	}
	if roles := r.body["roles"].([]any); len(roles) != 1 || roles[0] != "user" {
		t.Errorf("roles: %v", roles)
	}
	// me is allowed to users without a username; other routes are not.
	h.srv.Update(func(ws *Workspace) { ws.UserByID(idAlice).Username = "" })
	expectCode(t, h.get(t, "/api/v1/me", &credAlice), http.StatusOK)
	expect(t, h.get(t, "/api/v1/roles.list", &credAlice), http.StatusForbidden,
		`{"success":false,"error":"Users must have a username [error-unauthorized]"}`)
}

func TestInterceptAndStats(t *testing.T) {
	h := newHarness(smallWorkspace(), Options{RateLimitCalls: 1})
	failing := 2
	h.srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if failing == 0 {
			return false
		}
		failing--
		w.WriteHeader(http.StatusBadGateway)
		return true
	})
	expectCode(t, h.get(t, "/api/v1/me", &credReader), http.StatusBadGateway)
	expectCode(t, h.get(t, "/api/v1/me", &credReader), http.StatusBadGateway)
	expectCode(t, h.get(t, "/api/v1/me", &credReader), http.StatusOK)
	expectCode(t, h.get(t, "/api/v1/me", &credReader), http.StatusTooManyRequests)
	h.srv.Intercept(nil)
	expectCode(t, h.get(t, "/api/v1/me", nil), http.StatusUnauthorized)
	expectCode(t, h.post(t, "/api/v1/teams.addMembers", &credAdmin, map[string]any{"teamId": teamAlpha, "members": []any{map[string]any{"userId": idBot}}}), http.StatusOK)
	h.get(t, "/api/v1/unknown", &credAdmin)

	st := h.srv.Stats()
	if st.Calls["GET me"] != 3 || st.Calls["POST teams.addMembers"] != 1 || st.RateLimited["GET me"] != 1 || st.Total429 != 1 || len(st.Calls) != 2 {
		t.Errorf("stats: %+v", st)
	}
	st.Calls["GET me"] = 99 // a copy
	h.srv.ResetStats()
	if st := h.srv.Stats(); len(st.Calls) != 0 || st.Total429 != 0 {
		t.Errorf("after reset: %+v", st)
	}
}

// TestInfoBuildInfo follows getServerInfo
// (apps/meteor/server/api/lib/getServerInfo.ts): a caller holding
// view-statistics gets the full version (in the key's original position)
// and "info", the build's rocketchat.info, whose commit object and
// marketplaceApiVersion the build plugin
// (apps/meteor/packages/rocketchat-version/plugin/compile-version.js) adds
// and Rocket.Chat's e2e test asserts
// (apps/meteor/tests/end-to-end/api/miscellaneous.ts). Everyone else gets
// getTrimmedServerVersion's /(\d+\.\d+).*/ → "$1"
// (apps/meteor/server/api/lib/getTrimmedServerVersion.ts).
func TestInfoBuildInfo(t *testing.T) {
	cases := []struct {
		version, trimmed string
	}{
		{"8.7.1", "8.7"},
		{"7.11.0-rc.1", "7.11"},
		{"8.7", "8.7"},
		{"v8.10.2", "v8.10"},
	}
	for _, tc := range cases {
		t.Run(tc.version, func(t *testing.T) {
			h := newHarness(smallWorkspace(), Options{DisableRateLimiter: true, Version: tc.version})
			anon := h.get(t, "/api/info", nil)
			if anon.body["version"] != tc.trimmed || hasKey(anon.body, "info") {
				t.Errorf("anonymous: %s", anon.raw)
			}
			r := h.get(t, "/api/info", &credAdmin)
			expectCode(t, r, http.StatusOK)
			if !strings.Contains(r.raw, `,"version":"`+tc.version+`","info":{"version":"`+tc.version+`","build":{"date":`) {
				t.Errorf("version and info order: %s", r.raw)
			}
			info, _ := r.body["info"].(map[string]any)
			if _, ok := info["marketplaceApiVersion"].(string); !ok {
				t.Errorf("marketplaceApiVersion: %s", r.raw)
			}
			commit, _ := info["commit"].(map[string]any)
			for _, k := range []string{"hash", "date", "author", "subject", "tag", "branch"} {
				if _, ok := commit[k].(string); !ok {
					t.Errorf("commit.%s: %s", k, r.raw)
				}
			}
			build, _ := info["build"].(map[string]any)
			for _, k := range []string{"date", "nodeVersion", "arch", "platform", "osRelease", "totalMemory", "freeMemory", "cpus"} {
				if !hasKey(build, k) {
					t.Errorf("build.%s: %s", k, r.raw)
				}
			}
			if !strings.Contains(r.raw, `"marketplaceApiVersion":"1.66.0","commit":{"hash":`) {
				t.Errorf("info key order: %s", r.raw)
			}
		})
	}
}
