package connector_test

import (
	"slices"
	"testing"

	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/internal/testenv"
	"google.golang.org/grpc/codes"
)

// A user whose registration was never finished has no username, and
// Rocket.Chat's role endpoints name users by username: the grant and the
// revoke say so, and nothing is sent.
func TestProvisionRoleRefusesUserWithoutUsername(t *testing.T) {
	const unfinished = "unfinishedUser001"
	ws := provisioningWorkspace()
	ws.AddUser(&simulator.User{ID: unfinished, Name: "Half Registered", Active: true, Roles: []string{"user", supportLeadRole}})
	p := startProvisioning(t, ws, adminCred)

	_, err := p.grant(roleEntitlement("livechat-agent"), unfinished)
	testenv.WantCode(t, err, codes.FailedPrecondition, "no username", unfinished)
	_, err = p.revoke(roleEntitlement(supportLeadRole), unfinished)
	testenv.WantCode(t, err, codes.FailedPrecondition, "no username", unfinished)
	p.wantPosts(nil)
}

// Rocket.Chat answers teams.addMembers with success without making a member
// of a user already subscribed to the team's main room: the grant must fail
// saying so, not report a grant the next sync contradicts.
func TestProvisionTeamGrantConfirmsTheMembership(t *testing.T) {
	ws := provisioningWorkspace()
	if err := ws.SubscribeToMainRoom(engTeamID, carolID); err != nil {
		t.Fatal(err)
	}
	p := startProvisioning(t, ws, adminCred)

	for _, slug := range []string{"member", "moderator"} {
		_, err := p.grant(engEntitlement(slug), carolID)
		testenv.WantCode(t, err, codes.FailedPrecondition, "answered success", "main room")
		if m := p.member(engTeamID, carolID); m != nil {
			t.Fatalf("carol became a member: %+v", m)
		}
	}
	// A user who is not in the main room is added and confirmed as usual.
	if _, err := p.grant(engEntitlement("leader"), auditorID); err != nil {
		t.Fatalf("grant to a user outside the main room: %v", err)
	}
	if m := p.member(engTeamID, auditorID); m == nil || !slices.Contains(m.Roles, "leader") {
		t.Errorf("auditor's membership %+v, want one holding leader", m)
	}
}

// With API_Apply_permission_view-outside-room_on_users-list on, Rocket.Chat
// refuses user listings to callers without view-outside-room; the sync fails
// naming the permission and the setting.
func TestSyncNamesViewOutsideRoomWhenUserListingsAreRefused(t *testing.T) {
	ws := provisioningWorkspace()
	ws.Permissions["view-outside-room"] = slices.DeleteFunc(ws.Permissions["view-outside-room"], func(r string) bool { return r == "user" })
	env := testenv.Start(t, ws, simulator.Options{ApplyViewOutsideRoomOnUsersList: true}, "")
	_, err := testenv.Sync(t, newConnector(t, env.BaseURL, simulator.Credential{UserID: auditorID, Token: auditorToken}, nil))
	testenv.WantCode(t, err, codes.PermissionDenied, "view-outside-room", "API_Apply_permission_view-outside-room_on_users-list")
}
