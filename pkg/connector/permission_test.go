package connector_test

import (
	"testing"

	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/internal/testenv"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
)

// TestPermissionsExpandThroughRoles: a user who holds assign-admin-role only
// through a custom workspace role appears as holding it once the SDK has
// expanded the role's grant; a room-scoped role's permission is shown on the
// role but not spread to anyone.
func TestPermissionsExpandThroughRoles(t *testing.T) {
	const assigner = "adminAssignerRole"
	ws := provisioningWorkspace()
	ws.Roles = append(ws.Roles, &simulator.Role{ID: assigner, Name: "admin-assigner", Scope: "Users"})
	ws.Permissions["assign-admin-role"] = append(ws.Permissions["assign-admin-role"], assigner)
	ws.Permissions["add-team-member"] = []string{"admin", "owner"} // owner is room-scoped
	ws.UserByID(carolID).Roles = append(ws.UserByID(carolID).Roles, assigner)
	env := testenv.Start(t, ws, simulator.Options{}, "")
	got := testenv.MustSync(t, newConnector(t, env.BaseURL, adminCred, nil))

	direct := grantByID(t, got, "permission:assign-admin-role:granted:role:"+assigner)
	expandable := &v2.GrantExpandable{}
	annos := annotations.Annotations(direct.GetAnnotations())
	if ok, _ := annos.Pick(expandable); !ok || len(expandable.GetEntitlementIds()) != 1 || expandable.GetEntitlementIds()[0] != "role:"+assigner+":assigned" {
		t.Errorf("the custom role's grant is not expandable through role:%s:assigned: %v", assigner, direct.GetAnnotations())
	}
	// After expansion: carol holds it through the custom role, the admin through admin.
	grantByID(t, got, "permission:assign-admin-role:granted:user:"+carolID)
	grantByID(t, got, "permission:assign-admin-role:granted:user:"+adminID)
	if g := got.Grant("permission:assign-admin-role:granted:user:" + bobID); g != nil {
		t.Errorf("bob holds assign-admin-role without a role that has it: %v", g)
	}

	owner := grantByID(t, got, "permission:add-team-member:granted:role:owner")
	annos = annotations.Annotations(owner.GetAnnotations())
	if annos.Contains(&v2.GrantExpandable{}) {
		t.Error("a room-scoped role's permission grant is expandable: it would spread to the workspace")
	}
	// alice owns a team, which does not give her add-team-member workspace-wide.
	if g := got.Grant("permission:add-team-member:granted:user:" + aliceID); g != nil {
		t.Errorf("a team owner holds add-team-member workspace-wide: %v", g)
	}
}

func grantByID(t *testing.T, c *harness.Contents, id string) *v2.Grant {
	t.Helper()
	g := c.Grant(id)
	if g == nil {
		t.Fatalf("grant %s missing", id)
	}
	return g
}
