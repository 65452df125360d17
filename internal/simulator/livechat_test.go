package simulator

import (
	"net/http"
	"slices"
	"testing"
)

func TestUsersLogout(t *testing.T) {
	h := small()
	logout := func(cred *Credential, body map[string]any) response {
		return h.post(t, "/api/v1/users.logout", cred, body)
	}
	// Another user needs logout-other-user, checked in the handler.
	expect(t, logout(&credPlain, map[string]any{"userId": idAlice}), http.StatusForbidden, `{"success":false,"error":"unauthorized"}`)
	expect(t, logout(&credAdmin, map[string]any{"userId": idAlice}), http.StatusOK,
		`{"message":"User AliceAAAAAAAAAAAA has been logged out!","success":true}`)
	// Every token is gone, personal access tokens included; the user stays active.
	expect(t, h.get(t, "/api/v1/me", &credAlice), http.StatusUnauthorized, bodyNotLoggedIn)
	h.srv.View(func(ws *Workspace) {
		if a := ws.UserByID(idAlice); len(a.Tokens) != 0 || !a.Active {
			t.Errorf("alice after logout: %+v", a)
		}
	})
	// Nothing left to change, or no such user: error-invalid-user-id.
	const invalid = `{"success":false,"error":"Invalid user id [error-invalid-user-id]","errorType":"error-invalid-user-id"}`
	expect(t, logout(&credAdmin, map[string]any{"userId": idAlice}), http.StatusBadRequest, invalid)
	expect(t, logout(&credAdmin, map[string]any{"userId": "NoSuchUserXXXXXXX"}), http.StatusBadRequest, invalid)
	expect(t, logout(&credAdmin, map[string]any{"userId": idAlice, "extra": 1}), http.StatusBadRequest,
		`{"success":false,"errorType":"invalid-params","error":"must NOT have additional properties"}`)
	// Without userId it is the caller who is logged out, with no permission needed.
	expectCode(t, logout(&credPlain, map[string]any{}), http.StatusOK)
	expect(t, h.get(t, "/api/v1/me", &credPlain), http.StatusUnauthorized, bodyNotLoggedIn)
}

func TestUsersDeactivateIdle(t *testing.T) {
	// The clock is 2026-05-04; alice and carol last logged in on 2025-01-04,
	// plain and the nameless user never did and were created on 2025-01-02.
	h := small()
	idle := func(cred *Credential, body map[string]any) response {
		return h.post(t, "/api/v1/users.deactivateIdle", cred, body)
	}
	expect(t, idle(&credReader, map[string]any{"daysIdle": 30}), http.StatusForbidden, bodyPermissionDenied)
	expect(t, idle(&credAdmin, map[string]any{}), http.StatusBadRequest,
		`{"success":false,"errorType":"invalid-params","error":"must have required property 'daysIdle'"}`)
	expect(t, idle(&credAdmin, map[string]any{"daysIdle": 500}), http.StatusOK, `{"count":0,"success":true}`)
	// The role filter: only the admin holds admin, and logged in within 500 days.
	expect(t, idle(&credAdmin, map[string]any{"daysIdle": 400, "role": "livechat-agent"}), http.StatusOK, `{"count":1,"success":true}`)
	h.srv.View(func(ws *Workspace) {
		c := ws.UserByID(idCarol)
		if c.Active {
			t.Errorf("carol is still active")
		}
		// Only the active flag changes: no tokens removed, no reason set.
		if len(c.Tokens) == 0 || c.InactiveReason != "" {
			t.Errorf("carol after deactivateIdle: %+v", c)
		}
	})
	// role defaults to user; carol is inactive now and not counted again.
	expect(t, idle(&credAdmin, map[string]any{"daysIdle": 400}), http.StatusOK, `{"count":3,"success":true}`)
	h.srv.View(func(ws *Workspace) {
		for _, id := range []string{idPlain, idAlice, idNoName} {
			if ws.UserByID(id).Active {
				t.Errorf("%s is still active", id)
			}
		}
		if !ws.UserByID(idAdmin).Active || !ws.UserByID(idReader).Active {
			t.Errorf("a user without the role was deactivated")
		}
	})
}

func TestLivechatUsers(t *testing.T) {
	h := small()
	add := func(cred *Credential, kind string, body map[string]any) response {
		return h.post(t, "/api/v1/livechat/users/"+kind, cred, body)
	}
	del := func(cred *Credential, kind, id string) response {
		return h.call(t, http.MethodDelete, "/api/v1/livechat/users/"+kind+"/"+id, cred, nil)
	}
	expect(t, add(&credPlain, "agent", map[string]any{"username": "alice"}), http.StatusForbidden, bodyPermissionDenied)
	expect(t, del(&credPlain, "agent", idCarol), http.StatusForbidden, bodyPermissionDenied)
	expect(t, add(&credAdmin, "agent", map[string]any{"username": "nobody"}), http.StatusBadRequest,
		`{"success":false,"error":"Invalid user [error-invalid-user]","errorType":"error-invalid-user","details":{"method":"livechat:addAgent"}}`)
	expect(t, add(&credAdmin, "agent", map[string]any{"username": "alice"}), http.StatusOK,
		`{"user":{"_id":"AliceAAAAAAAAAAAA","username":"alice"},"success":true}`)
	expectCode(t, add(&credAdmin, "manager", map[string]any{"username": "alice"}), http.StatusOK)
	h.srv.View(func(ws *Workspace) {
		a := ws.UserByID(idAlice)
		if !slices.Contains(a.Roles, "livechat-agent") || !slices.Contains(a.Roles, "livechat-manager") || a.StatusLivechat != "not-available" {
			t.Errorf("alice after adding: %+v", a)
		}
	})
	expect(t, del(&credAdmin, "agent", idAlice), http.StatusOK, `{"success":true}`)
	expect(t, del(&credAdmin, "agent", "NoSuchUserXXXXXXX"), http.StatusBadRequest, `{"success":false}`)
	h.srv.View(func(ws *Workspace) {
		a := ws.UserByID(idAlice)
		if slices.Contains(a.Roles, "livechat-agent") || !slices.Contains(a.Roles, "livechat-manager") || a.StatusLivechat != "" {
			t.Errorf("alice after removing the agent: %+v", a)
		}
	})
	if n := h.srv.Stats().Calls["DELETE livechat/users/agent/:_id"]; n != 3 {
		t.Errorf("DELETE calls counted %d, want 3", n)
	}
}
