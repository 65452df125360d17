package connector_test

import (
	"testing"

	"github.com/conductorone/baton-rocketchat/pkg/simulator"
	"google.golang.org/grpc/codes"
)

// A user whose registration was never finished has no username, and
// Rocket.Chat's role endpoints name users by username: the grant and the
// revoke say so, and nothing is sent.
func TestProvisionRoleRefusesUserWithoutUsername(t *testing.T) {
	const unfinished = "unfinishedUser001"
	ws := provWorkspace()
	ws.AddUser(&simulator.User{ID: unfinished, Name: "Half Registered", Active: true, Roles: []string{"user", pvSupportRole}})
	p := startProvisioning(t, ws, pvAdmin)

	_, err := p.grant(roleEntitlement("livechat-agent"), unfinished)
	wantCode(t, err, codes.FailedPrecondition, "no username", unfinished)
	_, err = p.revoke(roleEntitlement(pvSupportRole), unfinished)
	wantCode(t, err, codes.FailedPrecondition, "no username", unfinished)
	p.wantPosts(nil)
}
