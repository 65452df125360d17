package connector_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/internal/testenv"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/crypto/providers/jwk"
	"github.com/conductorone/baton-sdk/pkg/types/entitlement"
	"github.com/conductorone/baton-sdk/pkg/types/grant"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
)

// The provisioning fixture: a small workspace whose every account has a
// part to play.
const (
	adminID      = "adminUserId000001" // the token owner, the only admin
	adminToken   = "admin-token"
	aliceID      = "aliceUserId000001" // the team's only owner
	bobID        = "bobUserId00000001" // team moderator
	carolID      = "carolUserId000001" // in no team
	daveID       = "daveUserId0000001" // deactivated team member
	federatedID  = "fedUserId00000001" // federated (Matrix) user
	auditorID    = "auditorUserId0001" // can sync, cannot manage roles
	auditorToken = "auditor-token"

	engTeamID       = "teamEngineering01"
	engTeamName     = "engineering"
	supportLeadRole = "supportLeadRole01" // custom workspace (Users) role
	roomHelperRole  = "roomHelperRole001" // custom room (Subscriptions) role
)

// adminCred is the fixture's admin token, which may do everything.
var adminCred = simulator.Credential{UserID: adminID, Token: adminToken}

// provisioningWorkspace builds the fixture: admin, three people, a deactivated and a
// federated user, an auditor whose role holds exactly the sync permissions,
// and one private team owned by alice, moderated by bob, with dave in it.
func provisioningWorkspace() *simulator.Workspace {
	ws := simulator.NewWorkspace()
	ws.Roles = append(ws.Roles,
		&simulator.Role{ID: supportLeadRole, Name: "support-lead", Description: "Support team lead", Scope: "Users"},
		&simulator.Role{ID: roomHelperRole, Name: "room-helper", Description: "Helps moderate team rooms", Scope: "Subscriptions"},
		&simulator.Role{ID: "syncReaderRole001", Name: "sync-reader", Scope: "Users"},
	)
	for _, p := range []string{"view-d-room", "view-full-other-user-info", "view-all-teams"} {
		ws.Permissions[p] = append(ws.Permissions[p], "syncReaderRole001")
	}
	person := func(id, username string, roles ...string) *simulator.User {
		return ws.AddUser(&simulator.User{
			ID: id, Username: username, Name: strings.ToUpper(username[:1]) + username[1:], Active: true, Roles: roles,
			Emails: []simulator.Email{{Address: username + "@example.com", Verified: true}},
		})
	}
	person(adminID, "admin", "admin", "user").Tokens = []string{adminToken}
	person(aliceID, "alice", "user")
	person(bobID, "bob", "user")
	person(carolID, "carol", "user")
	dave := person(daveID, "dave", "user")
	dave.Active, dave.InactiveReason = false, "deactivated"
	person(auditorID, "auditor", "user", "syncReaderRole001").Tokens = []string{auditorToken}
	ws.AddUser(&simulator.User{
		ID: federatedID, Username: "@erin:matrix.example.org", Name: "@erin:matrix.example.org", Active: true,
		Roles: []string{"federated-external"}, Federated: true, FederationOrigin: "matrix.example.org",
	})

	t0 := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	ws.Teams = append(ws.Teams, &simulator.Team{
		ID: engTeamID, Name: engTeamName, Type: 1, RoomID: "engMainRoomId0001", CreatedAt: t0,
		CreatedByID: aliceID, CreatedByUsername: "alice",
		Members: []simulator.TeamMember{
			{UserID: aliceID, Roles: []string{"owner"}, CreatedAt: t0},
			{UserID: bobID, Roles: []string{"moderator"}, CreatedAt: t0.Add(time.Hour)},
			{UserID: daveID, CreatedAt: t0.Add(2 * time.Hour)},
		},
	})
	return ws
}

// provisioning is a simulator with the connector served over gRPC in front of it.
type provisioning struct {
	t    *testing.T
	sim  *simulator.Server
	conn *harness.Conn
}

func startProvisioning(t *testing.T, ws *simulator.Workspace, cred simulator.Credential) *provisioning {
	t.Helper()
	env := testenv.Start(t, ws, simulator.Options{}, "")
	c := newConnector(t, env.BaseURL, cred, nil, testenv.FastRetries)
	conn, err := harness.Serve(context.Background(), c)
	if err != nil {
		t.Fatalf("serving the connector: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &provisioning{t: t, sim: env.Sim, conn: conn}
}

// state returns a deep copy of the simulator's workspace.
func (p *provisioning) state() *simulator.Workspace {
	var ws *simulator.Workspace
	p.sim.View(func(w *simulator.Workspace) { ws = w.Clone() })
	return ws
}

func (p *provisioning) user(id string) *simulator.User {
	p.t.Helper()
	u := p.state().UserByID(id)
	if u == nil {
		p.t.Fatalf("user %s is not in the simulator", id)
	}
	return u
}

// member returns uid's membership row in the team, or nil.
func (p *provisioning) member(teamID, uid string) *simulator.TeamMember {
	p.t.Helper()
	team := p.state().TeamByID(teamID)
	if team == nil {
		p.t.Fatalf("team %s is not in the simulator", teamID)
	}
	for i := range team.Members {
		if team.Members[i].UserID == uid {
			return &team.Members[i]
		}
	}
	return nil
}

// posts lists the write calls (POST and DELETE) that reached the simulator
// since the last reset.
func (p *provisioning) posts() map[string]int {
	out := map[string]int{}
	for k, n := range p.sim.Stats().Calls {
		if (strings.HasPrefix(k, "POST ") || strings.HasPrefix(k, "DELETE ")) && n > 0 {
			out[k] = n
		}
	}
	return out
}

// wantPosts checks the write calls since the last reset are exactly want.
func (p *provisioning) wantPosts(want map[string]int) {
	p.t.Helper()
	got := p.posts()
	if len(want) == 0 && len(got) == 0 {
		return
	}
	if len(got) != len(want) {
		p.t.Errorf("write calls %v, want %v", got, want)
		return
	}
	for k, n := range want {
		if got[k] != n {
			p.t.Errorf("write calls %v, want %v", got, want)
			return
		}
	}
}

// wantAlreadyGranted checks a grant of what was already granted: it
// succeeds, says GrantAlreadyExists so the caller knows nothing changed,
// and writes nothing.
func (p *provisioning) wantAlreadyGranted(what string, resp *v2.GrantManagerServiceGrantResponse, err error) {
	p.t.Helper()
	mustOK(p.t, what, err)
	if !hasAnnotation(resp.GetAnnotations(), &v2.GrantAlreadyExists{}) {
		p.t.Errorf("%s lacks GrantAlreadyExists: %v", what, resp.GetAnnotations())
	}
	p.wantPosts(nil)
}

// wantAlreadyRevoked checks a revoke of what was not granted: it succeeds,
// says GrantAlreadyRevoked, and writes nothing.
func (p *provisioning) wantAlreadyRevoked(what string, resp *v2.GrantManagerServiceRevokeResponse, err error) {
	p.t.Helper()
	mustOK(p.t, what, err)
	if !hasAnnotation(resp.GetAnnotations(), &v2.GrantAlreadyRevoked{}) {
		p.t.Errorf("%s lacks GrantAlreadyRevoked: %v", what, resp.GetAnnotations())
	}
	p.wantPosts(nil)
}

func (p *provisioning) grant(ent *v2.Entitlement, userID string) (*v2.GrantManagerServiceGrantResponse, error) {
	p.sim.ResetStats()
	return p.conn.Grant(context.Background(), v2.GrantManagerServiceGrantRequest_builder{
		Entitlement: ent,
		Principal:   userResource(userID),
	}.Build())
}

func (p *provisioning) revoke(ent *v2.Entitlement, userID string) (*v2.GrantManagerServiceRevokeResponse, error) {
	g := grant.NewGrant(ent.GetResource(), ent.GetSlug(), userResource(userID))
	return p.revokeGrant(g)
}

func (p *provisioning) revokeGrant(g *v2.Grant) (*v2.GrantManagerServiceRevokeResponse, error) {
	p.sim.ResetStats()
	return p.conn.Revoke(context.Background(), v2.GrantManagerServiceRevokeRequest_builder{Grant: g}.Build())
}

func (p *provisioning) invoke(action string, args map[string]any) *v2.InvokeActionResponse {
	p.t.Helper()
	p.sim.ResetStats()
	s, err := structpb.NewStruct(args)
	if err != nil {
		p.t.Fatalf("action args: %v", err)
	}
	resp, err := p.conn.InvokeAction(context.Background(), v2.InvokeActionRequest_builder{
		Name:       action,
		Args:       s,
		InlineWait: durationpb.New(10 * time.Second),
	}.Build())
	if err != nil {
		p.t.Fatalf("InvokeAction %s: %v", action, err)
	}
	return resp
}

func (p *provisioning) deleteUser(id string) error {
	p.sim.ResetStats()
	_, err := p.conn.DeleteResourceV2(context.Background(), v2.DeleteResourceV2Request_builder{
		ResourceId: userID(id),
	}.Build())
	return err
}

func userID(id string) *v2.ResourceId {
	return v2.ResourceId_builder{ResourceType: "user", Resource: id}.Build()
}

func userResource(id string) *v2.Resource {
	return v2.Resource_builder{Id: userID(id), DisplayName: id}.Build()
}

// roleEntitlement is role:<roleId>:assigned, as the role syncer emits it.
func roleEntitlement(roleID string) *v2.Entitlement {
	r := v2.Resource_builder{Id: v2.ResourceId_builder{ResourceType: "role", Resource: roleID}.Build(), DisplayName: roleID}.Build()
	return entitlement.NewAssignmentEntitlement(r, "assigned")
}

// teamEntitlement is team:<teamId>:<slug>, as the team syncer emits it.
func teamEntitlement(teamID, teamName, slug string) *v2.Entitlement {
	r := v2.Resource_builder{Id: v2.ResourceId_builder{ResourceType: "team", Resource: teamID}.Build(), DisplayName: teamName}.Build()
	if slug == "member" {
		return entitlement.NewAssignmentEntitlement(r, slug)
	}
	return entitlement.NewPermissionEntitlement(r, slug)
}

func engEntitlement(slug string) *v2.Entitlement {
	return teamEntitlement(engTeamID, engTeamName, slug)
}

func hasAnnotation(annos []*anypb.Any, msg proto.Message) bool {
	a := annotations.Annotations(annos)
	return a.Contains(msg)
}

func mustOK(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	sort.Strings(c)
	return c
}

func wantRoles(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(sortedCopy(got), sortedCopy(want)) {
		t.Errorf("%s: roles %v, want %v", what, got, want)
	}
}

// --- Workspace roles ---------------------------------------------------------

func TestProvisionRoleGrantRevokeLifecycle(t *testing.T) {
	for _, tc := range []struct {
		name, roleID string
		// The write calls of the grant and the revoke, when not
		// roles.addUserToRole and roles.removeUserFromRole.
		grantCall, revokeCall string
		// agentStatus is the omnichannel agent status after the grant.
		agentStatus string
	}{
		{name: "built-in role", roleID: "guest"},
		{name: "custom workspace role", roleID: supportLeadRole},
		{name: "admin", roleID: "admin"},
		// Omnichannel roles go through livechat/users/<type>, so that
		// Rocket.Chat sets the agent up and cleans up after it.
		{name: "omnichannel agent", roleID: "livechat-agent", agentStatus: "not-available",
			grantCall: "POST livechat/users/agent", revokeCall: "DELETE livechat/users/agent/:_id"},
		{name: "omnichannel manager", roleID: "livechat-manager",
			grantCall: "POST livechat/users/manager", revokeCall: "DELETE livechat/users/manager/:_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.grantCall == "" {
				tc.grantCall, tc.revokeCall = "POST roles.addUserToRole", "POST roles.removeUserFromRole"
			}
			p := startProvisioning(t, provisioningWorkspace(), adminCred)
			ent := roleEntitlement(tc.roleID)

			// Grant: alice holds the role, through one write call.
			resp, err := p.grant(ent, aliceID)
			mustOK(t, "grant", err)
			wantRoles(t, "alice after grant", p.user(aliceID).Roles, "user", tc.roleID)
			p.wantPosts(map[string]int{tc.grantCall: 1})
			if got := p.user(aliceID).StatusLivechat; got != tc.agentStatus {
				t.Errorf("alice's omnichannel status %q after grant, want %q", got, tc.agentStatus)
			}
			if hasAnnotation(resp.GetAnnotations(), &v2.GrantAlreadyExists{}) {
				t.Errorf("first grant reported GrantAlreadyExists")
			}
			if gs := resp.GetGrants(); len(gs) != 1 || gs[0].GetId() != "role:"+tc.roleID+":assigned:user:"+aliceID {
				t.Errorf("grant returned %v, want the one new grant", gs)
			}

			// Re-grant: success, GrantAlreadyExists, nothing written.
			resp, err = p.grant(ent, aliceID)
			p.wantAlreadyGranted("re-grant", resp, err)
			wantRoles(t, "alice after re-grant", p.user(aliceID).Roles, "user", tc.roleID)

			// Revoke: the role is gone, through one write call.
			rresp, err := p.revoke(ent, aliceID)
			mustOK(t, "revoke", err)
			if hasAnnotation(rresp.GetAnnotations(), &v2.GrantAlreadyRevoked{}) {
				t.Errorf("first revoke reported GrantAlreadyRevoked")
			}
			wantRoles(t, "alice after revoke", p.user(aliceID).Roles, "user")
			p.wantPosts(map[string]int{tc.revokeCall: 1})
			if got := p.user(aliceID).StatusLivechat; got != "" {
				t.Errorf("alice's omnichannel status %q after revoke, want none", got)
			}

			// Re-revoke: success, GrantAlreadyRevoked, nothing written.
			rresp, err = p.revoke(ent, aliceID)
			p.wantAlreadyRevoked("re-revoke", rresp, err)
			wantRoles(t, "alice after re-revoke", p.user(aliceID).Roles, "user")
		})
	}
}

func TestProvisionRoleOnMissingUsers(t *testing.T) {
	p := startProvisioning(t, provisioningWorkspace(), adminCred)
	ent := roleEntitlement(supportLeadRole)

	_, err := p.grant(ent, "noSuchUserId00001")
	testenv.WantCode(t, err, codes.NotFound, "noSuchUserId00001")
	p.wantPosts(nil)

	// A deleted user holds nothing: revoking from one is already done.
	resp, err := p.revoke(ent, "noSuchUserId00001")
	p.wantAlreadyRevoked("revoke from a missing user", resp, err)

	_, err = p.grant(roleEntitlement("noSuchRoleId00001"), aliceID)
	testenv.WantCode(t, err, codes.NotFound, "noSuchRoleId00001")
	p.wantPosts(nil)
}

func TestProvisionRoleGrantRefusesRoomScopedRoles(t *testing.T) {
	for _, roleID := range []string{"owner", "moderator", "leader", roomHelperRole} {
		t.Run(roleID, func(t *testing.T) {
			p := startProvisioning(t, provisioningWorkspace(), adminCred)
			before := p.state()
			_, err := p.grant(roleEntitlement(roleID), bobID)
			testenv.WantCode(t, err, codes.FailedPrecondition, "Subscriptions", "team's")
			p.wantPosts(nil)
			wantRoles(t, "bob", p.user(bobID).Roles, before.UserByID(bobID).Roles...)
			wantRoles(t, "bob's team roles", p.member(engTeamID, bobID).Roles, "moderator")
		})
	}
}

func TestProvisionRevokeAdminFromOnlyAdmin(t *testing.T) {
	p := startProvisioning(t, provisioningWorkspace(), adminCred)
	_, err := p.revoke(roleEntitlement("admin"), adminID)
	testenv.WantCode(t, err, codes.FailedPrecondition, "make another user admin first", "error-admin-required")
	wantRoles(t, "admin", p.user(adminID).Roles, "admin", "user")
	p.wantPosts(map[string]int{"POST roles.removeUserFromRole": 1}) // refused by the server

	// With a second admin, the same revoke goes through.
	_, err = p.grant(roleEntitlement("admin"), carolID)
	mustOK(t, "making carol admin", err)
	_, err = p.revoke(roleEntitlement("admin"), adminID)
	mustOK(t, "revoking admin with another admin present", err)
	wantRoles(t, "former admin", p.user(adminID).Roles, "user")
}

// --- Teams -------------------------------------------------------------------

func TestProvisionTeamMembership(t *testing.T) {
	p := startProvisioning(t, provisioningWorkspace(), adminCred)
	member := engEntitlement("member")

	resp, err := p.grant(member, carolID)
	mustOK(t, "add carol", err)
	m := p.member(engTeamID, carolID)
	if m == nil {
		t.Fatalf("carol is not a member after the grant")
	}
	if len(m.Roles) != 0 {
		t.Errorf("new plain member holds team roles %v", m.Roles)
	}
	p.wantPosts(map[string]int{"POST teams.addMembers": 1})
	if gs := resp.GetGrants(); len(gs) != 1 || gs[0].GetId() != "team:"+engTeamID+":member:user:"+carolID {
		t.Errorf("grant returned %v", gs)
	}

	resp, err = p.grant(member, carolID)
	p.wantAlreadyGranted("re-add carol", resp, err)

	rresp, err := p.revoke(member, carolID)
	mustOK(t, "remove carol", err)
	if hasAnnotation(rresp.GetAnnotations(), &v2.GrantAlreadyRevoked{}) {
		t.Errorf("first removal reported GrantAlreadyRevoked")
	}
	if p.member(engTeamID, carolID) != nil {
		t.Errorf("carol is still a member after the revoke")
	}
	p.wantPosts(map[string]int{"POST teams.removeMember": 1})

	rresp, err = p.revoke(member, carolID)
	p.wantAlreadyRevoked("re-remove carol", rresp, err)

	// Removing a moderator removes the membership and its roles.
	_, err = p.revoke(member, bobID)
	mustOK(t, "remove bob", err)
	if p.member(engTeamID, bobID) != nil {
		t.Errorf("bob is still a member")
	}
	if p.member(engTeamID, aliceID) == nil {
		t.Errorf("alice was removed along with bob")
	}
}

func TestProvisionTeamRoles(t *testing.T) {
	p := startProvisioning(t, provisioningWorkspace(), adminCred)
	owner := engEntitlement("owner")

	// Granting adds the role with teams.addMembers, which adds to the member's
	// roles (teams.updateMember would replace them): moderator stays.
	_, err := p.grant(owner, bobID)
	mustOK(t, "make bob owner", err)
	wantRoles(t, "bob", p.member(engTeamID, bobID).Roles, "moderator", "owner")
	p.wantPosts(map[string]int{"POST teams.addMembers": 1})

	resp, err := p.grant(owner, bobID)
	p.wantAlreadyGranted("make bob owner again", resp, err)

	_, err = p.grant(engEntitlement("leader"), bobID)
	mustOK(t, "make bob leader", err)
	wantRoles(t, "bob", p.member(engTeamID, bobID).Roles, "moderator", "owner", "leader")

	// Revoking owner keeps the others (alice is still an owner).
	rresp, err := p.revoke(owner, bobID)
	mustOK(t, "revoke bob's owner", err)
	// One read of the member list finds bob and counts the owners.
	if n := p.sim.Stats().Calls["GET teams.members"]; n != 1 {
		t.Errorf("revoking owner read the member list %d times, want 1", n)
	}
	if hasAnnotation(rresp.GetAnnotations(), &v2.GrantAlreadyRevoked{}) {
		t.Errorf("revoke reported GrantAlreadyRevoked")
	}
	wantRoles(t, "bob", p.member(engTeamID, bobID).Roles, "moderator", "leader")
	wantRoles(t, "alice", p.member(engTeamID, aliceID).Roles, "owner")
	p.wantPosts(map[string]int{"POST teams.updateMember": 1})

	rresp, err = p.revoke(owner, bobID)
	p.wantAlreadyRevoked("revoke bob's owner again", rresp, err)

	_, err = p.revoke(engEntitlement("moderator"), bobID)
	mustOK(t, "revoke bob's moderator", err)
	wantRoles(t, "bob", p.member(engTeamID, bobID).Roles, "leader")
	if p.member(engTeamID, bobID) == nil {
		t.Errorf("revoking a team role removed the membership")
	}

	// A team role for a non-member makes them a member holding it.
	_, err = p.grant(owner, carolID)
	mustOK(t, "make carol owner", err)
	m := p.member(engTeamID, carolID)
	if m == nil {
		t.Fatalf("carol is not a member after the owner grant")
	}
	wantRoles(t, "carol", m.Roles, "owner")
	p.wantPosts(map[string]int{"POST teams.addMembers": 1})

	// A team role revoked from a non-member is already revoked.
	rresp, err = p.revoke(engEntitlement("moderator"), auditorID)
	p.wantAlreadyRevoked("revoke from a non-member", rresp, err)
}

func TestProvisionTeamLastOwnerGuards(t *testing.T) {
	t.Run("revoke owner role", func(t *testing.T) {
		p := startProvisioning(t, provisioningWorkspace(), adminCred)
		_, err := p.revoke(engEntitlement("owner"), aliceID)
		testenv.WantCode(t, err, codes.FailedPrecondition, "last owner", "make another member owner first")
		p.wantPosts(nil)
		wantRoles(t, "alice", p.member(engTeamID, aliceID).Roles, "owner")
	})
	t.Run("remove last owner from the team", func(t *testing.T) {
		p := startProvisioning(t, provisioningWorkspace(), adminCred)
		_, err := p.revoke(engEntitlement("member"), aliceID)
		testenv.WantCode(t, err, codes.FailedPrecondition, "last owner", "last-owner-can-not-be-removed")
		p.wantPosts(map[string]int{"POST teams.removeMember": 1}) // refused by the server
		if m := p.member(engTeamID, aliceID); m == nil || !slices.Contains(m.Roles, "owner") {
			t.Errorf("alice lost her ownership: %+v", m)
		}
	})
	t.Run("with a second owner both go through", func(t *testing.T) {
		p := startProvisioning(t, provisioningWorkspace(), adminCred)
		_, err := p.grant(engEntitlement("owner"), bobID)
		mustOK(t, "make bob owner", err)
		_, err = p.revoke(engEntitlement("owner"), aliceID)
		mustOK(t, "revoke alice's owner", err)
		wantRoles(t, "alice", p.member(engTeamID, aliceID).Roles)
		_, err = p.revoke(engEntitlement("member"), aliceID)
		mustOK(t, "remove alice", err)
		if p.member(engTeamID, aliceID) != nil {
			t.Errorf("alice is still a member")
		}
	})
}

func TestProvisionTeamRefusesDeactivatedUsers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		revoke bool
		slug   string
	}{
		{name: "grant member", slug: "member"},
		{name: "grant owner", slug: "owner"},
		{name: "revoke member", slug: "member", revoke: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := provisioningWorkspace()
			// carol is deactivated too, and in no team.
			ws.UserByID(carolID).Active = false
			p := startProvisioning(t, ws, adminCred)
			var err error
			target := carolID
			if tc.revoke {
				target = daveID // a deactivated member
				_, err = p.revoke(engEntitlement(tc.slug), target)
			} else {
				_, err = p.grant(engEntitlement(tc.slug), target)
			}
			testenv.WantCode(t, err, codes.FailedPrecondition, "deactivated", "reactivate")
			p.wantPosts(nil)
			if tc.revoke && p.member(engTeamID, daveID) == nil {
				t.Errorf("dave's membership is gone")
			}
			if !tc.revoke && p.member(engTeamID, carolID) != nil {
				t.Errorf("carol became a member")
			}
		})
	}
}

// TestProvisionWithSyncedEntitlements provisions with the entitlements and
// grants a real sync produced, so the ids the tests build by hand are the
// ones ConductorOne would send.
func TestProvisionWithSyncedEntitlements(t *testing.T) {
	env := testenv.Start(t, provisioningWorkspace(), simulator.Options{}, "")
	synced := testenv.MustSync(t, newConnector(t, env.BaseURL, adminCred, nil))
	ownerEnt := synced.Entitlement("team:" + engTeamID + ":owner")
	roleEnt := synced.Entitlement("role:" + supportLeadRole + ":assigned")
	modGrant := synced.Grant("team:" + engTeamID + ":moderator:user:" + bobID)
	if ownerEnt == nil || roleEnt == nil || modGrant == nil {
		t.Fatalf("sync lacks the expected entitlements or grant (owner %v, role %v, moderator grant %v)", ownerEnt != nil, roleEnt != nil, modGrant != nil)
	}

	c := newConnector(t, env.BaseURL, adminCred, nil)
	conn, err := harness.Serve(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	p := &provisioning{t: t, sim: env.Sim, conn: conn}

	_, err = p.grant(ownerEnt, bobID)
	mustOK(t, "grant synced owner entitlement", err)
	_, err = p.grant(roleEnt, bobID)
	mustOK(t, "grant synced role entitlement", err)
	_, err = p.revokeGrant(modGrant)
	mustOK(t, "revoke synced moderator grant", err)
	wantRoles(t, "bob's team roles", p.member(engTeamID, bobID).Roles, "owner")
	wantRoles(t, "bob's roles", p.user(bobID).Roles, "user", supportLeadRole)
}

// --- Accounts ----------------------------------------------------------------

// createdBodies records the bodies of users.create calls.
type createdBodies struct {
	mu     sync.Mutex
	bodies []map[string]any
}

func (cb *createdBodies) install(sim *simulator.Server) {
	sim.Intercept(func(_ http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/users.create") {
			return false
		}
		raw, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(raw))
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		cb.mu.Lock()
		cb.bodies = append(cb.bodies, m)
		cb.mu.Unlock()
		return false
	})
}

func (cb *createdBodies) last(t *testing.T) map[string]any {
	t.Helper()
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if len(cb.bodies) == 0 {
		t.Fatalf("no users.create call was made")
	}
	return cb.bodies[len(cb.bodies)-1]
}

func accountInfo(t *testing.T, login string, emails []string, profile map[string]any) *v2.AccountInfo {
	t.Helper()
	info, err := harness.AccountInfo(login, emails, profile)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestProvisionCreateAccount(t *testing.T) {
	randomPW := func(force bool) *v2.CredentialOptions {
		return v2.CredentialOptions_builder{
			RandomPassword:         v2.CredentialOptions_RandomPassword_builder{Length: 20}.Build(),
			ForceChangeAtNextLogin: force,
		}.Build()
	}
	noPW := v2.CredentialOptions_builder{NoPassword: &v2.CredentialOptions_NoPassword{}}.Build()
	profile := map[string]any{"username": "newbie", "email": "newbie@example.com", "name": "New Bie"}

	for _, tc := range []struct {
		name       string
		info       func(t *testing.T) *v2.AccountInfo
		creds      *v2.CredentialOptions
		username   string
		email      string
		fullName   string
		reveal     bool
		forceReset bool
	}{
		{name: "random password", info: func(t *testing.T) *v2.AccountInfo { return accountInfo(t, "", nil, profile) },
			creds: randomPW(false), username: "newbie", email: "newbie@example.com", fullName: "New Bie", reveal: true},
		{name: "random password, change at next login", info: func(t *testing.T) *v2.AccountInfo { return accountInfo(t, "", nil, profile) },
			creds: randomPW(true), username: "newbie", email: "newbie@example.com", fullName: "New Bie", reveal: true, forceReset: true},
		{name: "no password", info: func(t *testing.T) *v2.AccountInfo { return accountInfo(t, "", nil, profile) },
			creds: noPW, username: "newbie", email: "newbie@example.com", fullName: "New Bie"},
		{name: "login and emails without profile", info: func(t *testing.T) *v2.AccountInfo {
			return accountInfo(t, "frank", []string{"frank@example.com", "f@example.org"}, nil)
		}, creds: noPW, username: "frank", email: "frank@example.com", fullName: "frank"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startProvisioning(t, provisioningWorkspace(), adminCred)
			var bodies createdBodies
			bodies.install(p.sim)
			provider := &jwk.JWKEncryptionProvider{}
			encCfg, privKey, err := provider.GenerateKey(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			p.sim.ResetStats()
			resp, err := p.conn.CreateAccount(context.Background(), v2.CreateAccountRequest_builder{
				AccountInfo:       tc.info(t),
				CredentialOptions: tc.creds,
				EncryptionConfigs: []*v2.EncryptionConfig{encCfg},
			}.Build())
			mustOK(t, "CreateAccount", err)
			p.wantPosts(map[string]int{"POST users.create": 1})

			success := resp.GetSuccess()
			if success == nil {
				t.Fatalf("result is not a success: %v", resp)
			}
			u := p.state().UserByUsername(tc.username)
			if u == nil {
				t.Fatalf("user %s not created", tc.username)
			}
			if got := success.GetResource().GetId().GetResource(); got != u.ID {
				t.Errorf("returned resource id %q, want the new user's %q", got, u.ID)
			}
			if !u.Active || u.Name != tc.fullName || len(u.Emails) != 1 || u.Emails[0].Address != tc.email {
				t.Errorf("created user %+v, want active %s <%s> named %q", u, tc.username, tc.email, tc.fullName)
			}
			wantRoles(t, "new user", u.Roles, "user")
			if u.RequirePasswordChange != tc.forceReset {
				t.Errorf("requirePasswordChange %v, want %v", u.RequirePasswordChange, tc.forceReset)
			}
			if u.Password == "" {
				t.Errorf("the user has no password")
			}

			body := bodies.last(t)
			if v, ok := body["sendWelcomeEmail"]; !ok || v != false {
				t.Errorf("sendWelcomeEmail sent as %v (present %v), want false", v, ok)
			}
			if body["password"] != u.Password {
				t.Errorf("stored password differs from the one sent")
			}

			enc := resp.GetEncryptedData()
			if !tc.reveal {
				if len(enc) != 0 {
					t.Errorf("no-password account revealed %d secrets", len(enc))
				}
				return
			}
			if len(enc) != 1 {
				t.Fatalf("got %d encrypted secrets, want 1", len(enc))
			}
			plain, err := provider.Decrypt(context.Background(), enc[0], privKey)
			if err != nil {
				t.Fatalf("decrypting: %v", err)
			}
			if plain.GetName() != "password" {
				t.Errorf("secret named %q, want password", plain.GetName())
			}
			if pw := string(plain.GetBytes()); pw != u.Password || len(pw) != 20 {
				t.Errorf("revealed password (len %d) does not match the stored one (len %d), or is not 20 long", len(pw), len(u.Password))
			}
		})
	}
}

func TestProvisionCreateAccountThatExists(t *testing.T) {
	noPW := v2.CredentialOptions_builder{NoPassword: &v2.CredentialOptions_NoPassword{}}.Build()
	for _, tc := range []struct {
		name     string
		profile  map[string]any
		resource string // the existing account the result points at, if any
	}{
		{name: "same person exists", profile: map[string]any{"username": "alice", "email": "Alice@example.com", "name": "Alice"}, resource: aliceID},
		// Another person's username must not link the request to their account.
		{name: "username taken by someone else", profile: map[string]any{"username": "alice", "email": "other@example.com", "name": "Alice Two"}},
		{name: "username taken, other case", profile: map[string]any{"username": "Alice", "email": "other@example.com", "name": "Alice Two"}},
		{name: "email taken", profile: map[string]any{"username": "alice2", "email": "alice@example.com", "name": "Alice Two"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startProvisioning(t, provisioningWorkspace(), adminCred)
			before := len(p.state().Users)
			p.sim.ResetStats()
			resp, err := p.conn.CreateAccount(context.Background(), v2.CreateAccountRequest_builder{
				AccountInfo:       accountInfo(t, "", nil, tc.profile),
				CredentialOptions: noPW,
			}.Build())
			mustOK(t, "CreateAccount", err)
			exists := resp.GetAlreadyExists()
			if exists == nil {
				t.Fatalf("result is not AlreadyExists: %v", resp)
			}
			if got := exists.GetResource().GetId().GetResource(); got != tc.resource {
				t.Errorf("AlreadyExists points at %q, want %q", got, tc.resource)
			}
			if n := len(p.state().Users); n != before {
				t.Errorf("users went from %d to %d", before, n)
			}
			if len(resp.GetEncryptedData()) != 0 {
				t.Errorf("an existing account revealed secrets")
			}
		})
	}
}

// --- Accounts from an e-mail address, username collisions, password policy --

// usersCreateHook stands in front of the simulator's users.create: it records
// every call's body and lets answer, given the call's number (from 1) and
// body, reply in the simulator's place. answer returning status 0 lets the
// simulator serve the call; passThen500 makes the simulator serve it and
// then answers 500 (the account exists, the answer was lost).
type usersCreateHook struct {
	mu     sync.Mutex
	bodies []map[string]any
	answer func(n int, body map[string]any) (code int, reply string)
	inner  bool
}

const passThen500 = -1

func (h *usersCreateHook) install(sim *simulator.Server) {
	sim.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/users.create") {
			return false
		}
		h.mu.Lock()
		if h.inner {
			h.mu.Unlock()
			return false
		}
		raw, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(raw))
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		h.bodies = append(h.bodies, body)
		n := len(h.bodies)
		answer := h.answer
		h.mu.Unlock()
		code, reply := 0, ""
		if answer != nil {
			code, reply = answer(n, body)
		}
		switch code {
		case 0:
			return false
		case passThen500:
			h.mu.Lock()
			h.inner = true
			h.mu.Unlock()
			sim.ServeHTTP(httptest.NewRecorder(), r)
			h.mu.Lock()
			h.inner = false
			h.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"success":false,"error":"Internal server error"}`)
			return true
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, reply)
		return true
	})
}

func (h *usersCreateHook) calls() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.bodies)
}

// policyRefusal is Rocket.Chat's answer to a password its policy refuses
// (packages/password-policies: PasswordPolicyError, its reasons as details).
func policyRefusal(rules ...string) string {
	var details []map[string]string
	for _, r := range rules {
		details = append(details, map[string]string{"error": r, "message": "The password does not meet the password policy."})
	}
	b, _ := json.Marshal(map[string]any{
		"success":   false,
		"error":     "The password provided does not meet the server's password policy. [error-password-policy-not-met]",
		"errorType": "error-password-policy-not-met",
		"details":   details,
	})
	return string(b)
}

func randomPassword(length int64) *v2.CredentialOptions {
	return v2.CredentialOptions_builder{RandomPassword: v2.CredentialOptions_RandomPassword_builder{Length: length}.Build()}.Build()
}

func noPassword() *v2.CredentialOptions {
	return v2.CredentialOptions_builder{NoPassword: &v2.CredentialOptions_NoPassword{}}.Build()
}

// createdAccount is what CreateAccount returned, its secret decrypted.
type createdAccount struct {
	resp     *v2.CreateAccountResponse
	password string // the revealed password; empty when none was revealed
}

// createAccount calls the SDK's AccountManager service like ConductorOne
// does, with a key to encrypt the revealed password for.
func (p *provisioning) createAccount(info *v2.AccountInfo, creds *v2.CredentialOptions) (*createdAccount, error) {
	p.t.Helper()
	provider := &jwk.JWKEncryptionProvider{}
	encCfg, privKey, err := provider.GenerateKey(context.Background())
	if err != nil {
		p.t.Fatal(err)
	}
	p.sim.ResetStats()
	resp, err := p.conn.CreateAccount(context.Background(), v2.CreateAccountRequest_builder{
		AccountInfo:       info,
		CredentialOptions: creds,
		EncryptionConfigs: []*v2.EncryptionConfig{encCfg},
	}.Build())
	if err != nil {
		return nil, err
	}
	out := &createdAccount{resp: resp}
	switch enc := resp.GetEncryptedData(); len(enc) {
	case 0:
	case 1:
		plain, err := provider.Decrypt(context.Background(), enc[0], privKey)
		if err != nil {
			p.t.Fatalf("decrypting: %v", err)
		}
		out.password = string(plain.GetBytes())
	default:
		p.t.Fatalf("got %d encrypted secrets, want at most 1", len(enc))
	}
	return out, nil
}

// wantPolicyPassword checks pw against Rocket.Chat's password policy with
// every rule on at its defaults (packages/password-policies): a lower-case
// and an upper-case letter, a digit, a special character, and no character
// more than 3 times in a row.
func wantPolicyPassword(t *testing.T, pw string) {
	t.Helper()
	for _, rule := range []struct {
		re   string
		must bool
	}{{`[a-z]`, true}, {`[A-Z]`, true}, {`[0-9]`, true}, {`[^A-Za-z0-9 ]`, true}} {
		if regexp.MustCompile(rule.re).MatchString(pw) != rule.must {
			t.Errorf("password (len %d) breaks the policy rule %s", len(pw), rule.re)
		}
	}
	run := 1
	for i := 1; i < len(pw); i++ {
		if pw[i] == pw[i-1] {
			run++
		} else {
			run = 1
		}
		if run > 3 {
			t.Errorf("password (len %d) repeats a character more than 3 times in a row", len(pw))
		}
	}
}

func TestProvisionCreateAccountFromEmail(t *testing.T) {
	for _, tc := range []struct {
		name               string
		info               func(t *testing.T) *v2.AccountInfo
		creds              *v2.CredentialOptions
		username, fullName string
		email              string
		reveal             bool
	}{
		// --create-account-profile='{"email":"new.hire@example.com"}': the
		// SDK puts the address in the account's e-mails and the profile.
		{name: "e-mail only, as the CLI sends it", info: func(t *testing.T) *v2.AccountInfo {
			return accountInfo(t, "", []string{"new.hire@example.com"}, map[string]any{"email": "new.hire@example.com"})
		}, creds: randomPassword(20), username: "new.hire", fullName: "new.hire", email: "new.hire@example.com", reveal: true},
		{name: "e-mail in the account's e-mails only", info: func(t *testing.T) *v2.AccountInfo {
			return accountInfo(t, "", []string{"Grace.Hopper@Example.com"}, nil)
		}, creds: randomPassword(12), username: "grace.hopper", fullName: "grace.hopper", email: "Grace.Hopper@Example.com", reveal: true},
		{name: "first and last name, +tag", info: func(t *testing.T) *v2.AccountInfo {
			return accountInfo(t, "", nil, map[string]any{"email": "jane.roe+chat@example.com", "first_name": "Jane", "last_name": "Roe"})
		}, creds: randomPassword(20), username: "jane.roe", fullName: "Jane Roe", email: "jane.roe+chat@example.com", reveal: true},
		{name: "display name", info: func(t *testing.T) *v2.AccountInfo {
			return accountInfo(t, "", nil, map[string]any{"email": "d_okafor@example.com", "display_name": "Dee Okafor"})
		}, creds: randomPassword(20), username: "d_okafor", fullName: "Dee Okafor", email: "d_okafor@example.com", reveal: true},
		{name: "no password (SSO)", info: func(t *testing.T) *v2.AccountInfo {
			return accountInfo(t, "", nil, map[string]any{"email": "sso.only@example.com"})
		}, creds: noPassword(), username: "sso.only", fullName: "sso.only", email: "sso.only@example.com"},
		// An explicit login still wins over the e-mail address.
		{name: "explicit login wins", info: func(t *testing.T) *v2.AccountInfo {
			return accountInfo(t, "chosen.name", []string{"new.hire@example.com"}, map[string]any{"email": "new.hire@example.com"})
		}, creds: randomPassword(20), username: "chosen.name", fullName: "chosen.name", email: "new.hire@example.com", reveal: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startProvisioning(t, provisioningWorkspace(), adminCred)
			var hook usersCreateHook
			hook.install(p.sim)
			got, err := p.createAccount(tc.info(t), tc.creds)
			mustOK(t, "CreateAccount", err)
			p.wantPosts(map[string]int{"POST users.create": 1})

			success := got.resp.GetSuccess()
			if success == nil {
				t.Fatalf("result is not a success: %v", got.resp)
			}
			u := p.state().UserByUsername(tc.username)
			if u == nil {
				t.Fatalf("no user %s was created", tc.username)
			}
			if id := success.GetResource().GetId().GetResource(); id != u.ID {
				t.Errorf("returned resource id %q, want the new user's %q", id, u.ID)
			}
			if !u.Active || u.Name != tc.fullName || len(u.Emails) != 1 || u.Emails[0].Address != tc.email {
				t.Errorf("created user %+v, want active %s <%s> named %q", u, tc.username, tc.email, tc.fullName)
			}
			if u.RequirePasswordChange {
				t.Errorf("requirePasswordChange set without being asked for")
			}
			calls := hook.calls()
			if len(calls) != 1 {
				t.Fatalf("%d users.create calls, want 1", len(calls))
			}
			// No welcome e-mail: sendWelcomeEmail is sent, as false.
			if v, ok := calls[0]["sendWelcomeEmail"]; !ok || v != false {
				t.Errorf("sendWelcomeEmail sent as %v (present %v), want false", v, ok)
			}
			if calls[0]["username"] != tc.username {
				t.Errorf("users.create sent username %v, want %s", calls[0]["username"], tc.username)
			}
			if calls[0]["password"] != u.Password {
				t.Errorf("the stored password is not the one sent")
			}
			wantPolicyPassword(t, u.Password)
			if !tc.reveal {
				if got.password != "" {
					t.Errorf("a no-password account revealed its password")
				}
				return
			}
			if got.password != u.Password {
				t.Errorf("the revealed password (len %d) is not the stored one (len %d)", len(got.password), len(u.Password))
			}
		})
	}
}

func TestProvisionCreateAccountDerivedUsernameTaken(t *testing.T) {
	// dana's e-mail address does not match her username.
	ws := provisioningWorkspace()
	ws.AddUser(&simulator.User{ID: "danaUserId0000001", Username: "d.smith", Name: "Dana Smith", Active: true, Roles: []string{"user"},
		Emails: []simulator.Email{{Address: "dana@example.com", Verified: true}}})

	t.Run("someone else holds the username", func(t *testing.T) {
		p := startProvisioning(t, ws.Clone(), adminCred)
		before := len(p.state().Users)
		// alice@example.org is not alice@example.com: another person.
		_, err := p.createAccount(accountInfo(t, "", nil, map[string]any{"email": "alice@example.org", "first_name": "Alice", "last_name": "Other"}), randomPassword(20))
		testenv.WantCode(t, err, codes.FailedPrecondition, `username "alice"`, "derived from the e-mail address", aliceID, "no account was created", `"username" field`)
		p.wantPosts(map[string]int{"POST users.create": 1})
		if n := len(p.state().Users); n != before {
			t.Errorf("users went from %d to %d", before, n)
		}
		if u := p.state().UserByUsername("alice"); u == nil || u.ID != aliceID {
			t.Errorf("alice's account changed: %+v", u)
		}
	})
	t.Run("a team holds the username", func(t *testing.T) {
		p := startProvisioning(t, ws.Clone(), adminCred)
		_, err := p.createAccount(accountInfo(t, "", nil, map[string]any{"email": "engineering@example.com"}), randomPassword(20))
		testenv.WantCode(t, err, codes.FailedPrecondition, `username "engineering"`, "or a team", `"username" field`)
		if u := p.state().UserByUsername("engineering"); u != nil {
			t.Errorf("an account was created: %+v", u)
		}
	})
	t.Run("the same person's account", func(t *testing.T) {
		p := startProvisioning(t, ws.Clone(), adminCred)
		got, err := p.createAccount(accountInfo(t, "", nil, map[string]any{"email": "Alice@Example.com"}), randomPassword(20))
		mustOK(t, "CreateAccount", err)
		exists := got.resp.GetAlreadyExists()
		if exists == nil || exists.GetResource().GetId().GetResource() != aliceID {
			t.Fatalf("result %v, want AlreadyExists pointing at alice", got.resp)
		}
		if got.password != "" {
			t.Errorf("an existing account revealed a password")
		}
	})
	t.Run("created, then asked for again", func(t *testing.T) {
		p := startProvisioning(t, ws.Clone(), adminCred)
		info := accountInfo(t, "", []string{"new.hire@example.com"}, map[string]any{"email": "new.hire@example.com"})
		first, err := p.createAccount(info, randomPassword(20))
		mustOK(t, "first CreateAccount", err)
		id := first.resp.GetSuccess().GetResource().GetId().GetResource()
		if id == "" {
			t.Fatalf("first result %v, want a success", first.resp)
		}
		before := len(p.state().Users)
		again, err := p.createAccount(info, randomPassword(20))
		mustOK(t, "second CreateAccount", err)
		if got := again.resp.GetAlreadyExists().GetResource().GetId().GetResource(); got != id {
			t.Errorf("second result %v, want AlreadyExists pointing at %s", again.resp, id)
		}
		if n := len(p.state().Users); n != before {
			t.Errorf("users went from %d to %d", before, n)
		}
		if u := p.user(id); u.Password != first.password {
			t.Errorf("the second call changed the password")
		}
	})
	t.Run("the e-mail address is another username's", func(t *testing.T) {
		p := startProvisioning(t, ws.Clone(), adminCred)
		before := len(p.state().Users)
		got, err := p.createAccount(accountInfo(t, "", nil, map[string]any{"email": "dana@example.com"}), randomPassword(20))
		mustOK(t, "CreateAccount", err)
		exists := got.resp.GetAlreadyExists()
		if exists == nil {
			t.Fatalf("result %v, want AlreadyExists", got.resp)
		}
		// Found by e-mail, not by username: not linked, as for an explicit username.
		if r := exists.GetResource(); r != nil {
			t.Errorf("AlreadyExists points at %v, want no resource", r.GetId())
		}
		if n := len(p.state().Users); n != before || p.state().UserByUsername("dana") != nil {
			t.Errorf("an account was created")
		}
	})
}

func TestProvisionCreateAccountReservedLocalPart(t *testing.T) {
	for _, email := range []string{"admin@example.com", "Administrator@example.org", "system+ops@example.com", "user@example.com", "here@example.com", "all@example.com"} {
		t.Run(email, func(t *testing.T) {
			p := startProvisioning(t, provisioningWorkspace(), adminCred)
			before := len(p.state().Users)
			_, err := p.createAccount(accountInfo(t, "", []string{email}, map[string]any{"email": email}), randomPassword(20))
			testenv.WantCode(t, err, codes.InvalidArgument, "reserved", `"username" field`)
			p.wantPosts(nil)
			if n := len(p.state().Users); n != before {
				t.Errorf("users went from %d to %d", before, n)
			}
		})
	}

	// A name on the workspace's own Blocked Username List is only known to
	// the server, which refuses it with error-blocked-username.
	t.Run("workspace blocked list", func(t *testing.T) {
		env := testenv.Start(t, provisioningWorkspace(), simulator.Options{BlockedUsernameList: "ceo, cfo"}, "")
		conn, err := harness.Serve(context.Background(), newConnector(t, env.BaseURL, adminCred, nil, testenv.FastRetries))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		p := &provisioning{t: t, sim: env.Sim, conn: conn}
		var hook usersCreateHook
		hook.install(p.sim)
		_, err = p.createAccount(accountInfo(t, "", nil, map[string]any{"email": "CEO@example.com"}), randomPassword(20))
		testenv.WantCode(t, err, codes.InvalidArgument, `username "ceo"`, "derived from CEO@example.com", "Blocked Username List", `"username" field`)
		if n := len(hook.calls()); n != 1 {
			t.Errorf("%d users.create calls, want 1", n)
		}
		if p.state().UserByUsername("ceo") != nil {
			t.Errorf("an account was created")
		}
	})
}

func asString(v any) string { s, _ := v.(string); return s }

func TestProvisionCreateAccountPasswordPolicy(t *testing.T) {
	const (
		repeating = "error-password-policy-not-met-repeatingCharacters"
		minLength = "error-password-policy-not-met-minLength"
		maxLength = "error-password-policy-not-met-maxLength"
	)
	profile := map[string]any{"email": "new.hire@example.com", "first_name": "New", "last_name": "Hire"}
	for _, tc := range []struct {
		name    string
		creds   *v2.CredentialOptions
		answer  func(n int, body map[string]any) (int, string)
		calls   int
		created bool
		length  int // of the password the account got
		reveal  bool
		code    codes.Code
		mention []string
	}{
		{name: "refused once, then created", creds: randomPassword(20),
			answer: func(n int, _ map[string]any) (int, string) {
				if n == 1 {
					return http.StatusBadRequest, policyRefusal(repeating)
				}
				return 0, ""
			}, calls: 2, created: true, length: 20, reveal: true},
		{name: "an older server's error type", creds: randomPassword(20),
			answer: func(n int, _ map[string]any) (int, string) {
				if n == 1 {
					return http.StatusBadRequest, `{"success":false,"error":"The password does not contain at least one special character ` +
						`which is against the password policy. [error-password-policy-not-met-oneSpecial]","errorType":"error-password-policy-not-met-oneSpecial"}`
				}
				return 0, ""
			}, calls: 2, created: true, length: 20, reveal: true},
		{name: "no-password account refused twice, then created", creds: noPassword(),
			answer: func(n int, _ map[string]any) (int, string) {
				if n < 3 {
					return http.StatusBadRequest, policyRefusal(repeating)
				}
				return 0, ""
			}, calls: 3, created: true, length: 40},
		// Accounts_Password_Policy_MinLength = 30, above the 20 asked for.
		{name: "minimum length above the one asked for", creds: randomPassword(20),
			answer: func(_ int, body map[string]any) (int, string) {
				if len(asString(body["password"])) < 30 {
					return http.StatusBadRequest, policyRefusal(minLength)
				}
				return 0, ""
			}, calls: 2, created: true, length: 40, reveal: true},
		// Accounts_Password_Policy_MaxLength = 24: nobody sees this password, so it is shortened.
		{name: "no-password account above the maximum length", creds: noPassword(),
			answer: func(_ int, body map[string]any) (int, string) {
				if len(asString(body["password"])) > 24 {
					return http.StatusBadRequest, policyRefusal(maxLength)
				}
				return 0, ""
			}, calls: 2, created: true, length: 20},
		// ...but a password for a person is not made shorter than asked.
		{name: "revealed password above the maximum length", creds: randomPassword(20),
			answer: func(_ int, body map[string]any) (int, string) {
				if len(asString(body["password"])) > 12 {
					return http.StatusBadRequest, policyRefusal(maxLength)
				}
				return 0, ""
			}, calls: 1, code: codes.FailedPrecondition, mention: []string{"Accounts_Password_Policy_MaxLength", "no account was created"}},
		{name: "refused every time", creds: randomPassword(20),
			answer: func(int, map[string]any) (int, string) { return http.StatusBadRequest, policyRefusal(repeating) },
			calls:  3, code: codes.FailedPrecondition, mention: []string{"refused 3 generated passwords", "repeatingCharacters", "Password Policy", "no account was created"}},
		// A failure that may have created the account is never resent.
		{name: "answer lost after the account was created", creds: randomPassword(20),
			answer: func(n int, _ map[string]any) (int, string) {
				if n == 1 {
					return passThen500, ""
				}
				return 0, ""
			},
			calls: 1, code: codes.Unavailable, mention: []string{"500"}},
		{name: "server error", creds: randomPassword(20),
			answer: func(int, map[string]any) (int, string) {
				return http.StatusInternalServerError, `{"success":false,"error":"Internal server error"}`
			},
			calls: 1, code: codes.Unavailable, mention: []string{"500"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startProvisioning(t, provisioningWorkspace(), adminCred)
			hook := usersCreateHook{answer: tc.answer}
			hook.install(p.sim)
			got, err := p.createAccount(accountInfo(t, "", nil, profile), tc.creds)
			calls := hook.calls()
			if len(calls) != tc.calls {
				t.Errorf("%d users.create calls, want %d", len(calls), tc.calls)
			}
			seen := map[string]bool{}
			for _, c := range calls {
				pw := asString(c["password"])
				if seen[pw] {
					t.Errorf("a refused password was sent again")
				}
				seen[pw] = true
				wantPolicyPassword(t, pw)
			}
			u := p.state().UserByUsername("new.hire")
			if tc.code != codes.OK {
				testenv.WantCode(t, err, tc.code, tc.mention...)
				if tc.name == "answer lost after the account was created" {
					if u == nil {
						t.Fatalf("the simulator did not create the account")
					}
					// What ConductorOne does after Unavailable: ask again. The
					// account is found, not created twice.
					again, err := p.createAccount(accountInfo(t, "", nil, profile), tc.creds)
					mustOK(t, "CreateAccount after the lost answer", err)
					if r := again.resp.GetAlreadyExists().GetResource(); r.GetId().GetResource() != u.ID {
						t.Errorf("retry result %v, want AlreadyExists pointing at %s", again.resp, u.ID)
					}
					return
				}
				if u != nil {
					t.Errorf("an account was created: %+v", u)
				}
				return
			}
			mustOK(t, "CreateAccount", err)
			if u == nil || got.resp.GetSuccess().GetResource().GetId().GetResource() != u.ID {
				t.Fatalf("result %v, user %+v: want a success for the new user", got.resp, u)
			}
			last := asString(calls[len(calls)-1]["password"])
			if u.Password != last || len(last) != tc.length {
				t.Errorf("stored password (len %d) is not the last one sent (len %d), or not %d long", len(u.Password), len(last), tc.length)
			}
			if tc.reveal && got.password != u.Password {
				t.Errorf("revealed password (len %d) is not the stored one (len %d)", len(got.password), len(u.Password))
			}
			if !tc.reveal && got.password != "" {
				t.Errorf("a no-password account revealed its password")
			}
			if u.Name != "New Hire" {
				t.Errorf("name %q, want New Hire", u.Name)
			}
		})
	}
}

// --- Actions -----------------------------------------------------------------

func actionError(resp *v2.InvokeActionResponse) string {
	return resp.GetResponse().GetFields()["error"].GetStringValue()
}

func wantActionComplete(t *testing.T, resp *v2.InvokeActionResponse) {
	t.Helper()
	if resp.GetStatus() != v2.BatonActionStatus_BATON_ACTION_STATUS_COMPLETE {
		t.Fatalf("action status %v, want COMPLETE (error %q)", resp.GetStatus(), actionError(resp))
	}
	if !resp.GetResponse().GetFields()["success"].GetBoolValue() {
		t.Errorf("action response %v lacks success=true", resp.GetResponse())
	}
}

// wantActionFailed checks the action failed with code; action errors travel
// in-band, as the text of the handler's status error.
func wantActionFailed(t *testing.T, resp *v2.InvokeActionResponse, code codes.Code, mentions ...string) {
	t.Helper()
	if resp.GetStatus() != v2.BatonActionStatus_BATON_ACTION_STATUS_FAILED {
		t.Fatalf("action status %v, want FAILED", resp.GetStatus())
	}
	msg := actionError(resp)
	if !strings.Contains(msg, "code = "+code.String()+" ") {
		t.Errorf("action error %q does not carry code %v", msg, code)
	}
	for _, m := range mentions {
		if !strings.Contains(msg, m) {
			t.Errorf("action error does not mention %q: %s", m, msg)
		}
	}
}

func TestProvisionDisableEnableUser(t *testing.T) {
	p := startProvisioning(t, provisioningWorkspace(), adminCred)

	wantActionComplete(t, p.invoke("disable_user", map[string]any{"user_id": carolID}))
	if u := p.user(carolID); u.Active {
		t.Errorf("carol is still active")
	}
	p.wantPosts(map[string]int{"POST users.setActiveStatus": 1})

	// Already deactivated: nothing to do.
	wantActionComplete(t, p.invoke("disable_user", map[string]any{"user_id": carolID}))
	p.wantPosts(nil)

	wantActionComplete(t, p.invoke("enable_user", map[string]any{"user_id": carolID}))
	if u := p.user(carolID); !u.Active {
		t.Errorf("carol is still deactivated")
	}
	p.wantPosts(map[string]int{"POST users.setActiveStatus": 1})

	wantActionComplete(t, p.invoke("enable_user", map[string]any{"user_id": carolID}))
	p.wantPosts(nil)

	// dave starts deactivated.
	wantActionComplete(t, p.invoke("enable_user", map[string]any{"user_id": daveID}))
	if u := p.user(daveID); !u.Active || u.InactiveReason != "" {
		t.Errorf("dave: active %v reason %q after enable", u.Active, u.InactiveReason)
	}
}

func TestProvisionDisableUserRefusals(t *testing.T) {
	for _, tc := range []struct {
		name     string
		userID   string
		code     codes.Code
		mentions []string
		posts    map[string]int
	}{
		{name: "own account", userID: adminID, code: codes.FailedPrecondition, mentions: []string{"token belongs to"}},
		{name: "federated user", userID: federatedID, code: codes.FailedPrecondition, mentions: []string{"federated"},
			posts: map[string]int{"POST users.setActiveStatus": 1}},
		{name: "unknown user", userID: "noSuchUserId00001", code: codes.NotFound, mentions: []string{"noSuchUserId00001"}},
		{name: "missing user_id", code: codes.InvalidArgument, mentions: []string{"user_id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startProvisioning(t, provisioningWorkspace(), adminCred)
			args := map[string]any{}
			if tc.userID != "" {
				args["user_id"] = tc.userID
			}
			wantActionFailed(t, p.invoke("disable_user", args), tc.code, tc.mentions...)
			p.wantPosts(tc.posts)
			if u := p.state().UserByID(tc.userID); u != nil && !u.Active {
				t.Errorf("%s was deactivated", tc.userID)
			}
			if tc.userID == adminID {
				if u := p.user(adminID); len(u.Tokens) == 0 {
					t.Errorf("the connector's token was revoked")
				}
			}
		})
	}
}

func TestProvisionDisableLastTeamOwner(t *testing.T) {
	p := startProvisioning(t, provisioningWorkspace(), adminCred)

	resp := p.invoke("disable_user", map[string]any{"user_id": aliceID})
	wantActionFailed(t, resp, codes.FailedPrecondition, "confirm_relinquish", engTeamName, "user-last-owner")
	if !p.user(aliceID).Active {
		t.Fatalf("alice was deactivated without confirm_relinquish")
	}
	p.wantPosts(map[string]int{"POST users.setActiveStatus": 1}) // refused by the server

	resp = p.invoke("disable_user", map[string]any{"user_id": aliceID, "confirm_relinquish": false})
	wantActionFailed(t, resp, codes.FailedPrecondition, "confirm_relinquish")
	if !p.user(aliceID).Active {
		t.Fatalf("alice was deactivated with confirm_relinquish=false")
	}

	wantActionComplete(t, p.invoke("disable_user", map[string]any{"user_id": aliceID, "confirm_relinquish": true}))
	if p.user(aliceID).Active {
		t.Errorf("alice is still active with confirm_relinquish")
	}
	if p.state().TeamByID(engTeamID) == nil {
		t.Errorf("the team, which has other active members, was deleted")
	}
}

// --- Deletion ----------------------------------------------------------------

func TestProvisionDeleteUser(t *testing.T) {
	p := startProvisioning(t, provisioningWorkspace(), adminCred)

	mustOK(t, "delete bob", p.deleteUser(bobID))
	if p.state().UserByID(bobID) != nil {
		t.Errorf("bob still exists")
	}
	if p.member(engTeamID, bobID) != nil {
		t.Errorf("bob's team membership outlived him")
	}
	p.wantPosts(map[string]int{"POST users.delete": 1})

	// Deleting again finds nothing to delete, and that is success.
	mustOK(t, "delete bob again", p.deleteUser(bobID))
	p.wantPosts(map[string]int{"POST users.delete": 1})
}

func TestProvisionDeleteUserRefusals(t *testing.T) {
	for _, tc := range []struct {
		name     string
		userID   string
		code     codes.Code
		mentions []string
		posts    map[string]int
	}{
		{name: "federated user", userID: federatedID, code: codes.FailedPrecondition, mentions: []string{"federated"},
			posts: map[string]int{"POST users.delete": 1}},
		{name: "own account", userID: adminID, code: codes.FailedPrecondition, mentions: []string{"token belongs to"}},
		{name: "last owner of a team", userID: aliceID, code: codes.FailedPrecondition, mentions: []string{"last owner", engTeamName},
			posts: map[string]int{"POST users.delete": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startProvisioning(t, provisioningWorkspace(), adminCred)
			testenv.WantCode(t, p.deleteUser(tc.userID), tc.code, tc.mentions...)
			p.wantPosts(tc.posts)
			if p.state().UserByID(tc.userID) == nil {
				t.Errorf("%s was deleted", tc.userID)
			}
		})
	}
}

// --- Permissions -------------------------------------------------------------

func TestProvisionNeedsPermissions(t *testing.T) {
	auditor := simulator.Credential{UserID: auditorID, Token: auditorToken}

	t.Run("role grant without access-permissions", func(t *testing.T) {
		p := startProvisioning(t, provisioningWorkspace(), auditor)
		_, err := p.grant(roleEntitlement(supportLeadRole), carolID)
		testenv.WantCode(t, err, codes.PermissionDenied, "access-permissions", "auditor")
		p.wantPosts(nil)
		wantRoles(t, "carol", p.user(carolID).Roles, "user")
	})
	t.Run("role revoke without access-permissions", func(t *testing.T) {
		ws := provisioningWorkspace()
		ws.UserByID(carolID).Roles = []string{"user", supportLeadRole}
		p := startProvisioning(t, ws, auditor)
		_, err := p.revoke(roleEntitlement(supportLeadRole), carolID)
		testenv.WantCode(t, err, codes.PermissionDenied, "access-permissions")
		p.wantPosts(nil)
		wantRoles(t, "carol", p.user(carolID).Roles, "user", supportLeadRole)
	})
	t.Run("team grant without add-team-member", func(t *testing.T) {
		p := startProvisioning(t, provisioningWorkspace(), auditor)
		_, err := p.grant(engEntitlement("member"), carolID)
		testenv.WantCode(t, err, codes.PermissionDenied, "add-team-member")
		if p.member(engTeamID, carolID) != nil {
			t.Errorf("carol became a member")
		}
	})
	t.Run("create account without create-user", func(t *testing.T) {
		p := startProvisioning(t, provisioningWorkspace(), auditor)
		_, err := p.conn.CreateAccount(context.Background(), v2.CreateAccountRequest_builder{
			AccountInfo:       accountInfo(t, "", nil, map[string]any{"username": "newbie", "email": "newbie@example.com", "name": "N"}),
			CredentialOptions: v2.CredentialOptions_builder{NoPassword: &v2.CredentialOptions_NoPassword{}}.Build(),
		}.Build())
		testenv.WantCode(t, err, codes.PermissionDenied, "create-user")
		p.wantPosts(nil)
	})

	gen := simulator.Generate(5, simulator.Size{Users: 14, Teams: 1, MembersPerTeam: 4})
	var supportLead, target string
	for _, r := range gen.Workspace.Roles {
		if r.Name == "support-lead" {
			supportLead = r.ID
		}
	}
	for _, u := range gen.Workspace.Users {
		if u.Type == "user" && u.Active && !u.Federated && !slices.Contains(u.Roles, supportLead) && !slices.Contains(u.Roles, "admin") &&
			u.ID != gen.Reader.UserID && u.ID != gen.Plain.UserID && u.ID != gen.Admin.UserID {
			target = u.ID
			break
		}
	}
	if supportLead == "" || target == "" {
		t.Fatalf("generated workspace lacks the support-lead role or a plain person")
	}

	t.Run("reader holds access-permissions", func(t *testing.T) {
		p := startProvisioning(t, gen.Workspace.Clone(), gen.Reader)
		_, err := p.grant(roleEntitlement(supportLead), target)
		mustOK(t, "reader grants support-lead", err)
		if !slices.Contains(p.user(target).Roles, supportLead) {
			t.Errorf("target lacks the role after the reader's grant")
		}
		// ...but not assign-admin-role.
		_, err = p.grant(roleEntitlement("admin"), target)
		testenv.WantCode(t, err, codes.PermissionDenied, "assign-admin-role")
		p.wantPosts(nil)
		if slices.Contains(p.user(target).Roles, "admin") {
			t.Errorf("the reader made someone admin")
		}
	})
	t.Run("plain user", func(t *testing.T) {
		p := startProvisioning(t, gen.Workspace.Clone(), gen.Plain)
		_, err := p.grant(roleEntitlement(supportLead), target)
		testenv.WantCode(t, err, codes.PermissionDenied, "plain.user")
		p.wantPosts(nil)
		if slices.Contains(p.user(target).Roles, supportLead) {
			t.Errorf("a plain user granted a role")
		}
	})
	t.Run("plain user is told about access-permissions", func(t *testing.T) {
		p := startProvisioning(t, gen.Workspace.Clone(), gen.Plain)
		_, err := p.grant(roleEntitlement(supportLead), target)
		testenv.WantCode(t, err, codes.PermissionDenied, "access-permissions")
	})
}

// --- Refusals by a non-admin operator and misleading hints -------------------

// operatorWorkspace lets the auditor (not an admin) change users' active
// status and delete users, so the workspace's only admin is someone else;
// it also has Rocket.Chat's rocket.cat bot.
func operatorWorkspace() *simulator.Workspace {
	ws := provisioningWorkspace()
	for _, p := range []string{"edit-other-user-active-status", "delete-user"} {
		ws.Permissions[p] = append(ws.Permissions[p], "syncReaderRole001")
	}
	ws.AddUser(&simulator.User{ID: "rocket.cat", Username: "rocket.cat", Name: "Rocket.Cat", Type: "bot", Active: true, Roles: []string{"bot"}})
	return ws
}

// operatorCred is the auditor's token in operatorWorkspace, where it may
// also deactivate and delete users.
var operatorCred = simulator.Credential{UserID: auditorID, Token: auditorToken}

func TestProvisionDeactivateLastActiveAdmin(t *testing.T) {
	p := startProvisioning(t, operatorWorkspace(), operatorCred)
	resp := p.invoke("disable_user", map[string]any{"user_id": adminID})
	wantActionFailed(t, resp, codes.FailedPrecondition, "make another user admin first")
	p.wantPosts(map[string]int{"POST users.setActiveStatus": 1}) // refused by the server
	if u := p.user(adminID); !u.Active || len(u.Tokens) == 0 {
		t.Errorf("the only admin was deactivated (active %v, %d tokens)", u.Active, len(u.Tokens))
	}

	t.Run("message does not blame the operator's permissions", func(t *testing.T) {
		if msg := actionError(resp); strings.Contains(msg, "lacks the") {
			t.Errorf("a rule refusal blames permissions: %s", msg)
		}
	})
}

func TestProvisionDeleteRocketCat(t *testing.T) {
	p := startProvisioning(t, operatorWorkspace(), adminCred)
	err := p.deleteUser("rocket.cat")
	testenv.WantCode(t, err, codes.FailedPrecondition, "rocket.cat")
	if strings.Contains(err.Error(), "lacks the") {
		t.Errorf("the refusal blames the admin's permissions: %v", err)
	}
	if p.state().UserByID("rocket.cat") == nil {
		t.Errorf("rocket.cat was deleted")
	}
}

func TestProvisionDeleteFederatedDoesNotBlamePermissions(t *testing.T) {
	p := startProvisioning(t, provisioningWorkspace(), adminCred)
	err := p.deleteUser(federatedID)
	testenv.WantCode(t, err, codes.FailedPrecondition, "federated")
	if strings.Contains(err.Error(), "lacks the") {
		t.Errorf("the refusal blames the admin's permissions: %v", err)
	}
}

func TestProvisionDeleteLastOwnerHintFitsDelete(t *testing.T) {
	p := startProvisioning(t, provisioningWorkspace(), adminCred)
	err := p.deleteUser(aliceID)
	testenv.WantCode(t, err, codes.FailedPrecondition, "last owner")
	if strings.Contains(err.Error(), "use confirm_relinquish") {
		t.Errorf("delete suggests an option it does not have: %v", err)
	}
}

// TestProvisionRevokeWithHiddenRoles: users.info shows a user's roles only to
// callers with view-full-other-user-info. A token that may manage roles but
// not see them must still revoke for real, not report the role gone.
func TestProvisionRevokeWithHiddenRoles(t *testing.T) {
	ws := provisioningWorkspace()
	ws.Roles = append(ws.Roles, &simulator.Role{ID: "roleManagerRole01", Name: "role-manager", Scope: "Users"})
	ws.Permissions["access-permissions"] = append(ws.Permissions["access-permissions"], "roleManagerRole01")
	ws.UserByID(bobID).Roles = append(ws.UserByID(bobID).Roles, supportLeadRole)
	ws.AddUser(&simulator.User{ID: "roleManager000001", Username: "rolemanager", Name: "Role Manager", Active: true,
		Roles: []string{"user", "roleManagerRole01"}, Tokens: []string{"role-manager-token"}})
	p := startProvisioning(t, ws, simulator.Credential{UserID: "roleManager000001", Token: "role-manager-token"})

	_, err := p.revoke(roleEntitlement(supportLeadRole), bobID)
	mustOK(t, "revoke support-lead from bob", err)
	if slices.Contains(p.user(bobID).Roles, supportLeadRole) {
		t.Fatal("revoke reported success but bob still holds the role")
	}
	resp, err := p.revoke(roleEntitlement(supportLeadRole), bobID)
	mustOK(t, "revoke again", err)
	if !hasAnnotation(resp.GetAnnotations(), &v2.GrantAlreadyRevoked{}) {
		t.Errorf("second revoke lacks GrantAlreadyRevoked")
	}
}
