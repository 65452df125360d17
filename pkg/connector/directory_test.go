package connector_test

import (
	"strings"
	"testing"

	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/internal/testenv"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"google.golang.org/grpc/codes"
)

const (
	ldapSupportGroup = "cn=support,ou=groups,dc=example,dc=org"
	ldapAdminsGroup  = "cn=admins,ou=groups,dc=example,dc=org"
	ldapEngGroup     = "cn=eng,ou=groups,dc=example,dc=org"
	salesTeamID      = "teamSales00000001"
)

// ldapWorkspace is provisioningWorkspace with LDAP role and team sync on, roles
// also taken away from users outside the groups and teams checked at every
// login: the support group maps to support-lead (by name) and the admins
// group to admin (by id); the eng group maps to the engineering team. Bob
// holds support-lead; a second, unmapped team (sales) has alice as its owner.
func ldapWorkspace() *simulator.Workspace {
	ws := provisioningWorkspace()
	ws.Settings[simulator.SettingLDAPEnable] = true
	ws.Settings[simulator.SettingLDAPSyncRoles] = true
	ws.Settings[simulator.SettingLDAPRolesAutoRemove] = true
	ws.Settings[simulator.SettingLDAPTeamsEachLogin] = true
	ws.Settings[simulator.SettingLDAPRolesMap] = `{"` + ldapSupportGroup + `": "support-lead", "` + ldapAdminsGroup + `": ["admin"]}`
	ws.Settings[simulator.SettingLDAPTeamsEnable] = true
	ws.Settings[simulator.SettingLDAPTeamsMap] = `{"` + ldapEngGroup + `": "` + engTeamName + `"}`
	ws.UserByID(bobID).Roles = append(ws.UserByID(bobID).Roles, supportLeadRole)
	ws.Teams = append(ws.Teams, &simulator.Team{
		ID: salesTeamID, Name: "sales", Type: 0, RoomID: "salesMainRoomId01", CreatedAt: ws.Teams[0].CreatedAt,
		CreatedByID: aliceID, CreatedByUsername: "alice",
		Members: []simulator.TeamMember{{UserID: aliceID, Roles: []string{"owner"}, CreatedAt: ws.Teams[0].CreatedAt}},
	})
	return ws
}

func immutableMark(g *v2.Grant) *v2.GrantImmutable {
	m := &v2.GrantImmutable{}
	annos := annotations.Annotations(g.GetAnnotations())
	ok, err := annos.Pick(m)
	if err != nil || !ok {
		return nil
	}
	return m
}

func roleOrTeamGrant(g *v2.Grant) bool {
	rt := g.GetEntitlement().GetResource().GetId().GetResourceType()
	return rt == "role" || rt == "team"
}

func TestSyncMarksDirectoryManagedGrants(t *testing.T) {
	env := testenv.Start(t, ldapWorkspace(), simulator.Options{}, "")
	got := testenv.MustSync(t, newConnector(t, env.BaseURL, adminCred, nil))

	wantMarked := map[string]string{ // grant target → the group its mark names
		"role:" + supportLeadRole + ":assigned:" + bobID: ldapSupportGroup,
		"role:admin:assigned:" + adminID:                 ldapAdminsGroup,
		"team:" + engTeamID + ":member:" + aliceID:       ldapEngGroup,
		"team:" + engTeamID + ":member:" + bobID:         ldapEngGroup,
		// Deactivated, listed through users.listTeams: LDAP sync owns
		// that membership too.
		"team:" + engTeamID + ":member:" + daveID: ldapEngGroup,
	}
	seen := map[string]bool{}
	for _, g := range got.Grants {
		if !roleOrTeamGrant(g) {
			continue // permission grants are the SDK's expansions, marked by it
		}
		key := g.GetEntitlement().GetId() + ":" + g.GetPrincipal().GetId().GetResource()
		mark := immutableMark(g)
		group, want := wantMarked[key]
		switch {
		case want && mark == nil:
			t.Errorf("%s: no GrantImmutable mark", key)
		case !want && mark != nil:
			t.Errorf("%s: marked %v, want no mark", key, mark)
		case want:
			seen[key] = true
			desc := mark.GetMetadata().GetFields()["mapping"].GetStringValue()
			if !strings.Contains(desc, group) || !strings.HasPrefix(mark.GetSourceId(), "ldap:LDAP_") {
				t.Errorf("%s: mark %v does not name the mapping of %s", key, mark, group)
			}
		}
	}
	for key := range wantMarked {
		if !seen[key] {
			t.Errorf("%s: grant missing from the sync", key)
		}
	}
	// Seven LDAP settings and SAML's switch, read once for the whole sync.
	if n := env.Sim.Stats().Calls["GET settings/:_id"]; n != 8 {
		t.Errorf("settings read %d times, want 8", n)
	}
}

func TestSyncWithoutViewPrivilegedSettingMarksNothing(t *testing.T) {
	env := testenv.Start(t, ldapWorkspace(), simulator.Options{}, "")
	got := testenv.MustSync(t, newConnector(t, env.BaseURL, simulator.Credential{UserID: auditorID, Token: auditorToken}, nil))
	roleGrants := 0
	for _, g := range got.Grants {
		if g.GetEntitlement().GetResource().GetId().GetResourceType() == "role" {
			roleGrants++
		}
		if roleOrTeamGrant(g) && immutableMark(g) != nil {
			t.Errorf("%s: marked immutable without view-privileged-setting: %v", g.GetId(), immutableMark(g))
		}
	}
	if roleGrants == 0 {
		t.Error("the sync has no role grants")
	}
	if n := env.Sim.Stats().Calls["GET settings/:_id"]; n != 0 {
		t.Errorf("settings read %d times without the permission, want 0", n)
	}
}

func TestProvisionRefusesDirectoryManagedAccess(t *testing.T) {
	p := startProvisioning(t, ldapWorkspace(), adminCred)

	_, err := p.grant(roleEntitlement(supportLeadRole), carolID)
	testenv.WantCode(t, err, codes.FailedPrecondition, ldapSupportGroup, "LDAP_Sync_User_Data_RolesMap", "support-lead", "undo")
	p.wantPosts(nil)

	_, err = p.revoke(roleEntitlement(supportLeadRole), bobID)
	testenv.WantCode(t, err, codes.FailedPrecondition, ldapSupportGroup, "LDAP_Sync_User_Data_RolesMap")
	p.wantPosts(nil)

	_, err = p.revoke(roleEntitlement("admin"), adminID)
	testenv.WantCode(t, err, codes.FailedPrecondition, ldapAdminsGroup)
	p.wantPosts(nil)

	_, err = p.grant(engEntitlement("member"), carolID)
	testenv.WantCode(t, err, codes.FailedPrecondition, ldapEngGroup, "LDAP_Groups_To_Rocket_Chat_Teams", engTeamName)
	p.wantPosts(nil)

	_, err = p.revoke(engEntitlement("member"), bobID)
	testenv.WantCode(t, err, codes.FailedPrecondition, ldapEngGroup, "LDAP_Groups_To_Rocket_Chat_Teams")
	p.wantPosts(nil)
	if p.member(engTeamID, bobID) == nil || !strings.Contains(strings.Join(p.user(bobID).Roles, ","), supportLeadRole) {
		t.Error("a refused revoke changed the workspace")
	}

	// Unmapped access is provisioned as before.
	_, err = p.grant(teamEntitlement(salesTeamID, "sales", "member"), carolID)
	mustOK(t, "granting sales membership", err)
	p.wantPosts(map[string]int{"POST teams.addMembers": 1})
	_, err = p.grant(roleEntitlement("livechat-manager"), carolID)
	mustOK(t, "granting an unmapped role", err)
}

func TestProvisionWithoutViewPrivilegedSettingIsNotRefused(t *testing.T) {
	ws := ldapWorkspace()
	// The auditor can grant roles but not read settings.
	ws.Permissions["access-permissions"] = append(ws.Permissions["access-permissions"], "syncReaderRole001")
	p := startProvisioning(t, ws, simulator.Credential{UserID: auditorID, Token: auditorToken})
	_, err := p.grant(roleEntitlement(supportLeadRole), carolID)
	mustOK(t, "granting support-lead", err)
	p.wantPosts(map[string]int{"POST roles.addUserToRole": 1})
}

// What LDAP sync undoes depends on two more settings: without
// LDAP_Sync_User_Data_Roles_AutoRemove it only gives mapped roles back (a
// grant stands, a revoke does not); without LDAP_Validate_Teams_For_Each_Login
// it sets teams once, when it creates the account (later changes stand).
// SAML role sync replaces roles at each SAML login, for users the API does
// not show: nothing is refused or marked for it.
func TestDirectorySettingsDecideWhatIsManaged(t *testing.T) {
	for _, tc := range []struct {
		name              string
		settings          map[string]any
		roleGrantRefused  bool
		roleRevokeRefused bool
		teamRefused       bool
		settingsRead      int
	}{
		{name: "roles auto-removed, teams at each login", settings: map[string]any{},
			roleGrantRefused: true, roleRevokeRefused: true, teamRefused: true, settingsRead: 8},
		{name: "roles only given back", settings: map[string]any{simulator.SettingLDAPRolesAutoRemove: false},
			roleRevokeRefused: true, teamRefused: true, settingsRead: 8},
		{name: "teams set at account creation only", settings: map[string]any{simulator.SettingLDAPTeamsEachLogin: false},
			roleGrantRefused: true, roleRevokeRefused: true, settingsRead: 7},
		{name: "LDAP off, SAML role sync on", settings: map[string]any{simulator.SettingLDAPEnable: false,
			simulator.SettingSAML: true, simulator.SettingSAMLRoleSync: true}, settingsRead: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := ldapWorkspace()
			for k, v := range tc.settings {
				ws.Settings[k] = v
			}
			env := testenv.Start(t, ws, simulator.Options{}, "")
			got := testenv.MustSync(t, newConnector(t, env.BaseURL, adminCred, nil))
			if n := env.Sim.Stats().Calls["GET settings/:_id"]; n != tc.settingsRead {
				t.Errorf("settings read %d times, want %d", n, tc.settingsRead)
			}
			for _, g := range got.Grants {
				if !roleOrTeamGrant(g) {
					continue
				}
				// Held mapped roles are restored by LDAP whenever it
				// maps roles; memberships of the mapped team only when
				// it checks teams at every login.
				var want bool
				switch id := g.GetEntitlement().GetId(); id {
				case "role:" + supportLeadRole + ":assigned", "role:admin:assigned":
					want = tc.roleRevokeRefused
				case "team:" + engTeamID + ":member":
					want = tc.teamRefused
				}
				if marked := immutableMark(g) != nil; marked != want {
					t.Errorf("%s: marked %v, want %v", g.GetId(), marked, want)
				}
			}

			p := startProvisioning(t, ws, adminCred)
			check := func(what string, err error, refused bool) {
				t.Helper()
				if refused {
					testenv.WantCode(t, err, codes.FailedPrecondition, "LDAP")
				} else {
					mustOK(t, what, err)
				}
			}
			_, err := p.grant(roleEntitlement(supportLeadRole), carolID)
			check("granting a mapped role", err, tc.roleGrantRefused)
			_, err = p.revoke(roleEntitlement(supportLeadRole), bobID)
			check("revoking a mapped role", err, tc.roleRevokeRefused)
			_, err = p.grant(engEntitlement("member"), carolID)
			check("granting membership of a mapped team", err, tc.teamRefused)
		})
	}
}
