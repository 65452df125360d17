package simulator

import (
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestGenerateDeterministic(t *testing.T) {
	size := Size{Users: 120, Teams: 5, MembersPerTeam: 15}
	a, b := Generate(42, size), Generate(42, size)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed and size gave different workspaces")
	}
	if c := Generate(43, size); reflect.DeepEqual(a.Workspace.Users, c.Workspace.Users) || a.Admin == c.Admin {
		t.Fatal("different seeds gave the same workspace")
	}
}

func TestGenerateContents(t *testing.T) {
	gen := Generate(5, Size{Users: 400, Teams: 8, MembersPerTeam: 30})
	ws := gen.Workspace
	if len(ws.Users) != 400 || len(ws.Teams) != 8 {
		t.Fatalf("%d users, %d teams", len(ws.Users), len(ws.Teams))
	}
	idRE := regexp.MustCompile(`^[23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz]{17}$`)
	counts := map[string]int{}
	for _, u := range ws.Users {
		if u.ID != "rocket.cat" && !idRE.MatchString(u.ID) {
			t.Errorf("id %q", u.ID)
		}
		switch {
		case u.Federated:
			counts["federated"]++
			if !strings.HasPrefix(u.Username, "@") || !strings.HasSuffix(u.Username, ":"+matrixOrigin) ||
				!slices.Equal(u.Roles, []string{"federated-external"}) || len(u.Emails) != 0 || u.FederationOrigin != matrixOrigin {
				t.Errorf("federated user %+v", u)
			}
		case u.Type == "bot":
			counts["bot"]++
		case u.Type == "app":
			counts["app"]++
			if !slices.Equal(u.Roles, []string{"app"}) {
				t.Errorf("app user %+v", u)
			}
		}
		if !u.Active {
			counts["inactive"]++
			if u.InactiveReason == "" {
				t.Errorf("inactive without reason: %s", u.Username)
			}
		}
		if u.LastLogin == nil {
			counts["never"]++
		}
		if len(u.Emails) > 1 {
			counts["multi-email"]++
		}
		if u.Name == "" {
			counts["nameless"]++
		}
		for _, r := range u.Roles {
			counts["role:"+r]++
		}
	}
	for _, k := range []string{"federated", "bot", "app", "inactive", "never", "multi-email", "nameless", "role:admin", "role:livechat-agent", "role:guest"} {
		if counts[k] == 0 {
			t.Errorf("no %s users", k)
		}
	}
	if counts["role:user"] < len(ws.Users)/2 {
		t.Errorf("only %d users hold user", counts["role:user"])
	}
	if rc := ws.UserByID("rocket.cat"); rc == nil || rc.Type != "bot" || !slices.Equal(rc.Roles, []string{"bot"}) {
		t.Errorf("rocket.cat: %+v", rc)
	}

	scopes := map[string]string{}
	for _, r := range ws.Roles {
		if !r.Protected {
			if r.ID == r.Name || !idRE.MatchString(r.ID) {
				t.Errorf("custom role id %q for %q", r.ID, r.Name)
			}
			scopes[r.Name] = r.Scope
		}
	}
	if scopes["support-lead"] != "Users" || scopes["room-helper"] != "Subscriptions" || scopes["governance-reader"] != "Users" {
		t.Errorf("custom roles: %v", scopes)
	}
	reader := ws.UserByID(gen.Reader.UserID)
	for _, p := range []string{"view-d-room", "view-full-other-user-info", "view-all-teams", "access-permissions"} {
		if !ws.hasPermission(reader, p, nil) {
			t.Errorf("reader lacks %s", p)
		}
	}
	if ws.hasPermission(reader, "api-bypass-rate-limit", nil) || !ws.hasPermission(ws.UserByID(gen.Admin.UserID), "api-bypass-rate-limit", nil) {
		t.Error("reader must be rate limited, admin exempt")
	}

	teamRoles := map[string]int{}
	public, private, withInactive := 0, 0, 0
	for _, tm := range ws.Teams {
		if tm.Type == teamPrivate {
			private++
		} else {
			public++
		}
		if tm.ownerCount() == 0 {
			t.Errorf("team %s has no owner", tm.Name)
		}
		inactive := false
		for _, m := range tm.Members {
			if !ws.UserByID(m.UserID).Active {
				inactive = true
			}
			if m.Roles == nil {
				teamRoles["plain"]++
			}
			for _, r := range m.Roles {
				teamRoles[r]++
			}
		}
		if inactive {
			withInactive++
		}
	}
	if public == 0 || private == 0 || withInactive == 0 || len(ws.Teams[0].Members) <= 100 {
		t.Errorf("teams: %d public, %d private, %d with inactive members, first has %d", public, private, withInactive, len(ws.Teams[0].Members))
	}
	for _, r := range []string{"owner", "moderator", "leader", "plain"} {
		if teamRoles[r] == 0 {
			t.Errorf("no %s team members", r)
		}
	}

	// The credentials work against a server.
	h := newHarness(ws, Options{})
	for _, c := range []Credential{gen.Admin, gen.Reader, gen.Plain} {
		expectCode(t, h.get(t, "/api/v1/me", &c), http.StatusOK)
	}
}

func TestGenerateSmallSizes(t *testing.T) {
	for _, n := range []int{0, 1, 4, 5, 12} {
		gen := Generate(1, Size{Users: n, Teams: 2, MembersPerTeam: 3})
		if want := max(n, 4); len(gen.Workspace.Users) != want {
			t.Errorf("Users=%d: got %d", n, len(gen.Workspace.Users))
		}
	}
}

func TestClone(t *testing.T) {
	ws := smallWorkspace()
	c := ws.Clone()
	if !reflect.DeepEqual(ws, c) {
		t.Fatal("clone differs")
	}
	c.UserByID(idAlice).Roles[0] = "changed"
	*c.UserByID(idAlice).LastLogin = c.UserByID(idAlice).LastLogin.AddDate(1, 0, 0)
	c.TeamByID(teamAlpha).Members[0].Roles[0] = "changed"
	c.Permissions["view-d-room"][0] = "changed"
	if ws.UserByID(idAlice).Roles[0] != "user" || ws.TeamByID(teamAlpha).Members[0].Roles[0] != "owner" ||
		ws.Permissions["view-d-room"][0] != "admin" || ws.UserByID(idAlice).LastLogin.Equal(*c.UserByID(idAlice).LastLogin) {
		t.Error("clone shares memory with the original")
	}
	if c.TeamByID(teamAlpha).Members[2].Roles != nil {
		t.Error("nil member roles must stay nil")
	}
}
