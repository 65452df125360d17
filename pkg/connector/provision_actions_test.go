package connector_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/internal/testenv"
	"google.golang.org/grpc/codes"
)

// loseAnswer makes the first request to endpoint ("POST users.logout") take
// effect in the simulator and then answer 500, as if the connection broke
// after Rocket.Chat acted: the client must not send it again by itself.
func (p *provisioning) loseAnswer(endpoint string) {
	method, name, _ := strings.Cut(endpoint, " ")
	var once sync.Once
	p.sim.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != method || r.URL.Path != "/api/v1/"+name {
			return false
		}
		hit := false
		once.Do(func() { hit = true })
		if !hit {
			return false
		}
		p.sim.ServeHTTP(httptest.NewRecorder(), r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"success":false,"error":"Internal server error"}`))
		return true
	})
}

// --- sign_out_user -----------------------------------------------------------

func TestProvisionSignOutUser(t *testing.T) {
	ws := provisioningWorkspace()
	ws.UserByID(carolID).Tokens = []string{"carol-login-token", "carol-personal-access-token"}
	p := startProvisioning(t, ws, adminCred)

	resp := p.invoke("sign_out_user", map[string]any{"user_id": carolID})
	wantActionComplete(t, resp)
	fields := resp.GetResponse().GetFields()
	if !fields["signed_out"].GetBoolValue() || !strings.Contains(fields["message"].GetStringValue(), "personal access tokens") {
		t.Errorf("result %v does not say the tokens were removed", resp.GetResponse())
	}
	if u := p.user(carolID); len(u.Tokens) != 0 || !u.Active {
		t.Errorf("carol after sign-out: %d tokens, active %v", len(u.Tokens), u.Active)
	}
	p.wantPosts(map[string]int{"POST users.logout": 1})

	// Nothing left: Rocket.Chat answers error-invalid-user-id, which is done.
	resp = p.invoke("sign_out_user", map[string]any{"user_id": carolID})
	wantActionComplete(t, resp)
	fields = resp.GetResponse().GetFields()
	if fields["signed_out"].GetBoolValue() || !strings.Contains(fields["message"].GetStringValue(), "nothing to remove") {
		t.Errorf("second sign-out result %v", resp.GetResponse())
	}
	p.wantPosts(map[string]int{"POST users.logout": 1})
}

func TestProvisionSignOutUserLostAnswer(t *testing.T) {
	ws := provisioningWorkspace()
	ws.UserByID(carolID).Tokens = []string{"carol-login-token"}
	p := startProvisioning(t, ws, adminCred)
	p.loseAnswer("POST users.logout")

	resp := p.invoke("sign_out_user", map[string]any{"user_id": carolID})
	wantActionComplete(t, resp)
	if !resp.GetResponse().GetFields()["signed_out"].GetBoolValue() {
		t.Errorf("result %v: the first, lost, logout removed the tokens", resp.GetResponse())
	}
	// The connector sent it once more (safe: a second logout changes nothing).
	p.wantPosts(map[string]int{"POST users.logout": 2})
	if u := p.user(carolID); len(u.Tokens) != 0 {
		t.Errorf("carol still has tokens")
	}
}

func TestProvisionSignOutUserRefusals(t *testing.T) {
	auditor := simulator.Credential{UserID: auditorID, Token: auditorToken}
	for _, tc := range []struct {
		name     string
		cred     simulator.Credential
		userID   string
		code     codes.Code
		mentions []string
	}{
		{name: "own account", cred: adminCred, userID: adminID, code: codes.FailedPrecondition, mentions: []string{"token belongs to"}},
		{name: "missing permission", cred: auditor, userID: carolID, code: codes.PermissionDenied, mentions: []string{"logout-other-user", "auditor"}},
		{name: "unknown user", cred: adminCred, userID: "noSuchUserId00001", code: codes.NotFound, mentions: []string{"noSuchUserId00001"}},
		{name: "missing user_id", cred: adminCred, code: codes.InvalidArgument, mentions: []string{"user_id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := provisioningWorkspace()
			ws.UserByID(carolID).Tokens = []string{"carol-login-token"}
			p := startProvisioning(t, ws, tc.cred)
			args := map[string]any{}
			if tc.userID != "" {
				args["user_id"] = tc.userID
			}
			wantActionFailed(t, p.invoke("sign_out_user", args), tc.code, tc.mentions...)
			p.wantPosts(nil)
			if len(p.user(adminID).Tokens) == 0 || len(p.user(carolID).Tokens) == 0 {
				t.Errorf("tokens were removed")
			}
		})
	}
}

// --- deactivate_idle_users ---------------------------------------------------

// idleWorkspace is the provisioning fixture with logins: the admin (the
// connector's account) and carol logged in lately, alice 100 days ago, bob
// never (created 200 days ago); the auditor logged in yesterday.
func idleWorkspace() *simulator.Workspace {
	ws := provisioningWorkspace()
	now := time.Now()
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	day := 24 * time.Hour
	for _, u := range ws.Users {
		u.CreatedAt = now.Add(-400 * day)
		u.LastLogin = ago(2 * day)
	}
	ws.UserByID(aliceID).LastLogin = ago(100 * day)
	bob := ws.UserByID(bobID)
	bob.LastLogin, bob.CreatedAt = nil, now.Add(-200*day)
	ws.UserByID(aliceID).Tokens = []string{"alice-token"}
	ws.UserByID(auditorID).LastLogin = ago(day)
	return ws
}

func TestProvisionDeactivateIdleUsers(t *testing.T) {
	p := startProvisioning(t, idleWorkspace(), adminCred)

	resp := p.invoke("deactivate_idle_users", map[string]any{"days_idle": 30})
	wantActionComplete(t, resp)
	if n := resp.GetResponse().GetFields()["deactivated_count"].GetNumberValue(); n != 2 {
		t.Errorf("deactivated_count %v, want 2 (alice, bob)", n)
	}
	p.wantPosts(map[string]int{"POST users.deactivateIdle": 1})
	for id, want := range map[string]bool{aliceID: false, bobID: false, carolID: true, adminID: true, auditorID: true} {
		if got := p.user(id).Active; got != want {
			t.Errorf("%s active %v, want %v", id, got, want)
		}
	}
	// Rocket.Chat only clears the active flag: tokens stay (documented).
	if len(p.user(aliceID).Tokens) == 0 {
		t.Errorf("alice's tokens were removed; Rocket.Chat's deactivateIdle leaves them")
	}

	// Again: nobody left to deactivate.
	resp = p.invoke("deactivate_idle_users", map[string]any{"days_idle": 30, "role": "user"})
	wantActionComplete(t, resp)
	if n := resp.GetResponse().GetFields()["deactivated_count"].GetNumberValue(); n != 0 {
		t.Errorf("second run deactivated %v", n)
	}
}

func TestProvisionDeactivateIdleRefusals(t *testing.T) {
	day := 24 * time.Hour
	auditor := simulator.Credential{UserID: auditorID, Token: auditorToken}
	for _, tc := range []struct {
		name     string
		cred     simulator.Credential
		ws       func() *simulator.Workspace
		args     map[string]any
		code     codes.Code
		mentions []string
	}{
		{
			name: "own account", cred: adminCred,
			ws: func() *simulator.Workspace {
				ws := idleWorkspace()
				l := time.Now().Add(-60 * day)
				ws.UserByID(adminID).LastLogin = &l
				return ws
			},
			args: map[string]any{"days_idle": 30}, code: codes.FailedPrecondition,
			mentions: []string{"own account", "personal access token"},
		},
		{
			name: "last active admin", cred: operatorCred,
			ws: func() *simulator.Workspace {
				ws := idleWorkspace()
				for _, p := range []string{"edit-other-user-active-status"} {
					ws.Permissions[p] = append(ws.Permissions[p], "syncReaderRole001")
				}
				l := time.Now().Add(-60 * day)
				ws.UserByID(adminID).LastLogin = &l
				return ws
			},
			args: map[string]any{"days_idle": 30, "role": "admin"}, code: codes.FailedPrecondition,
			mentions: []string{"every active admin", "without an admin"},
		},
		{
			name: "missing permission", cred: auditor, ws: idleWorkspace,
			args: map[string]any{"days_idle": 30}, code: codes.PermissionDenied,
			mentions: []string{"edit-other-user-active-status", "auditor"},
		},
		{
			name: "zero days", cred: adminCred, ws: idleWorkspace,
			args: map[string]any{"days_idle": 0}, code: codes.InvalidArgument, mentions: []string{"days_idle"},
		},
		{
			name: "missing days", cred: adminCred, ws: idleWorkspace,
			args: map[string]any{"role": "user"}, code: codes.InvalidArgument, mentions: []string{"days_idle"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startProvisioning(t, tc.ws(), tc.cred)
			before := p.state()
			wantActionFailed(t, p.invoke("deactivate_idle_users", tc.args), tc.code, tc.mentions...)
			p.wantPosts(nil)
			for _, u := range before.Users {
				if u.Active && !p.user(u.ID).Active {
					t.Errorf("%s was deactivated", u.Username)
				}
			}
		})
	}
}

// An admin who logged in lately remains: the run goes ahead.
func TestProvisionDeactivateIdleAdminsWhenOneRemains(t *testing.T) {
	ws := idleWorkspace()
	ws.Permissions["edit-other-user-active-status"] = append(ws.Permissions["edit-other-user-active-status"], "syncReaderRole001")
	l := time.Now().Add(-60 * 24 * time.Hour)
	ws.UserByID(adminID).LastLogin = &l
	ws.UserByID(carolID).Roles = append(ws.UserByID(carolID).Roles, "admin") // logged in two days ago
	p := startProvisioning(t, ws, operatorCred)

	resp := p.invoke("deactivate_idle_users", map[string]any{"days_idle": 30, "role": "admin"})
	wantActionComplete(t, resp)
	if n := resp.GetResponse().GetFields()["deactivated_count"].GetNumberValue(); n != 1 {
		t.Errorf("deactivated_count %v, want 1", n)
	}
	p.wantPosts(map[string]int{"POST users.deactivateIdle": 1})
	if p.user(adminID).Active || !p.user(carolID).Active {
		t.Errorf("admin active %v (want false), carol active %v (want true)", p.user(adminID).Active, p.user(carolID).Active)
	}
}

// A lost answer is not re-sent: a second run would count 0.
func TestProvisionDeactivateIdleLostAnswer(t *testing.T) {
	p := startProvisioning(t, idleWorkspace(), adminCred)
	p.loseAnswer("POST users.deactivateIdle")
	wantActionFailed(t, p.invoke("deactivate_idle_users", map[string]any{"days_idle": 30}), codes.Aborted, "may or may not")
	p.wantPosts(map[string]int{"POST users.deactivateIdle": 1})
	if p.user(aliceID).Active {
		t.Errorf("the lost call did not take effect in the simulator")
	}
}

// A deactivation whose answer was lost is checked, not re-sent.
func TestProvisionDisableUserLostAnswer(t *testing.T) {
	p := startProvisioning(t, provisioningWorkspace(), adminCred)
	p.loseAnswer("POST users.setActiveStatus")
	wantActionComplete(t, p.invoke("disable_user", map[string]any{"user_id": carolID}))
	p.wantPosts(map[string]int{"POST users.setActiveStatus": 1})
	if p.user(carolID).Active {
		t.Errorf("carol is still active")
	}
}

// --- Omnichannel roles -------------------------------------------------------

func TestProvisionLivechatRoles(t *testing.T) {
	auditor := simulator.Credential{UserID: auditorID, Token: auditorToken}
	t.Run("grant without view-livechat-manager", func(t *testing.T) {
		p := startProvisioning(t, provisioningWorkspace(), auditor)
		_, err := p.grant(roleEntitlement("livechat-agent"), carolID)
		testenv.WantCode(t, err, codes.PermissionDenied, "view-livechat-manager", "auditor")
		p.wantPosts(nil)
		wantRoles(t, "carol", p.user(carolID).Roles, "user")
	})
	t.Run("revoke without view-livechat-manager", func(t *testing.T) {
		ws := provisioningWorkspace()
		ws.UserByID(carolID).Roles = []string{"user", "livechat-manager"}
		p := startProvisioning(t, ws, auditor)
		_, err := p.revoke(roleEntitlement("livechat-manager"), carolID)
		testenv.WantCode(t, err, codes.PermissionDenied, "view-livechat-manager")
		p.wantPosts(nil)
		wantRoles(t, "carol", p.user(carolID).Roles, "user", "livechat-manager")
	})
	t.Run("a livechat manager, without access-permissions, manages agents", func(t *testing.T) {
		ws := provisioningWorkspace()
		ws.UserByID(auditorID).Roles = append(ws.UserByID(auditorID).Roles, "livechat-manager")
		p := startProvisioning(t, ws, auditor)
		_, err := p.grant(roleEntitlement("livechat-agent"), carolID)
		mustOK(t, "grant", err)
		p.wantPosts(map[string]int{"POST livechat/users/agent": 1})
		_, err = p.revoke(roleEntitlement("livechat-agent"), carolID)
		mustOK(t, "revoke", err)
		p.wantPosts(map[string]int{"DELETE livechat/users/agent/:_id": 1})
		if slices.Contains(p.user(carolID).Roles, "livechat-agent") {
			t.Errorf("carol is still an agent")
		}
	})
	t.Run("lost answer is checked, not re-sent", func(t *testing.T) {
		p := startProvisioning(t, provisioningWorkspace(), adminCred)
		p.loseAnswer("POST livechat/users/agent")
		_, err := p.grant(roleEntitlement("livechat-agent"), carolID)
		mustOK(t, "grant", err)
		p.wantPosts(map[string]int{"POST livechat/users/agent": 1})
		wantRoles(t, "carol", p.user(carolID).Roles, "user", "livechat-agent")
	})
}
